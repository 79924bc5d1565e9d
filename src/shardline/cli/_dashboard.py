"""What `shardline run` and `shardline demo` show while the pipeline runs.

On a terminal: a live table per mapping and shard (throughput, iterator age, batches, retries, bisects,
destination records, last error). Elsewhere (a pipe, CI, a log file): one plain line per invoke and per
destination record, so nothing is lost to redraws.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Any, TextIO

__all__ = ["Dashboard"]


class Dashboard:
    """Call :meth:`refresh` often; it redraws at most every ``interval`` seconds on a terminal and prints
    new events as lines otherwise."""

    def __init__(
        self, pipeline: Any, *, stream: TextIO | None = None, live: bool | None = None, interval: float = 0.25
    ) -> None:
        self.pipeline = pipeline
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval
        self.title = "shardline run: Ctrl-C to stop"
        self._last_draw = 0.0
        self._last_counts: dict[tuple[str, str], tuple[float, int]] = {}
        self._rates: dict[tuple[str, str], float] = {}
        self._last_error: dict[str, str] = {}
        self._live: Any = None
        if not self.live:
            pipeline.subscribe(self._on_event)
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(console=Console(file=self.stream), auto_refresh=False, transient=False)
            self._live.start()

    def refresh(self, *, force: bool = False) -> None:
        self._note_errors()
        if not self.live:
            self._print_lines()
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._live.update(self._table(), refresh=True)

    def close(self) -> None:
        self.refresh(force=True)
        if self._live is not None:
            self._live.stop()
            self._live = None

    # -- plain lines ------------------------------------------------------------------------------

    def _print_lines(self) -> None:
        self.stream.flush()

    def _on_event(self, kind: str, payload: Any) -> None:
        """Plain mode: a line per invoke and per destination record, as they happen."""
        if kind == "invocation":
            record = payload
            stamp = datetime.fromtimestamp(record.time_ms / 1000, tz=timezone.utc).strftime("%H:%M:%S")
            count = len(record.event.get("Records", []))
            if record.error is not None:
                outcome = f"function error {record.error}"
            elif record.verdict == "partial":
                failures = record.response.get("batchItemFailures", []) if isinstance(record.response, dict) else []
                outcome = f"partial failure: {len(failures)} reported"
            else:
                outcome = record.verdict
            window = " (final for its window)" if record.event.get("isFinalInvokeForWindow") else ""
            line = (
                f"{stamp} {record.mapping} {_short(record.shard_id)} {count} record{'s' if count != 1 else ''}"
                f"{window}, attempt {record.attempt}: {outcome} ({record.duration_ms:.1f} ms)"
            )
        else:
            info = payload["DDBStreamBatchInfo"]
            context = payload["requestContext"]
            line = (
                f"  -> destination: {context['condition']}, {info['batchSize']} record(s)"
                f" {info['startSequenceNumber']}..{info['endSequenceNumber']},"
                f" after {context['approximateInvokeCount']} invoke(s)"
            )
        print(line, file=self.stream)

    # -- the live table ---------------------------------------------------------------------------

    def _note_errors(self) -> None:
        for record in self.pipeline.invocations[-50:]:
            if record.error is not None:
                self._last_error[record.mapping] = str(record.error)[:60]

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title=self.title, expand=False)
        table.add_column("mapping", min_width=12, max_width=28)
        table.add_column("shard", no_wrap=True)
        for column in ("in/ok/drop/fail", "rec/s", "age", "invokes", "retry/bisect"):
            table.add_column(column, justify="right", no_wrap=True)
        now = time.monotonic()
        for name, shards in self.pipeline.metrics().items():
            for shard_id, metrics in shards.items():
                key = (name, shard_id)
                before = self._last_counts.get(key)
                if before is not None and now > before[0]:
                    self._rates[key] = (metrics["delivered"] - before[1]) / (now - before[0])
                self._last_counts[key] = (now, metrics["delivered"])
                counts = "/".join(str(metrics[field]) for field in ("records_in", "delivered", "filtered", "failed"))
                table.add_row(
                    name,
                    "…" + shard_id[-8:],
                    counts,
                    f"{self._rates.get(key, 0.0):.0f}",
                    _age(metrics["iterator_age_ms"]),
                    str(metrics["invocations"]),
                    f"{metrics['retries']}/{metrics['bisects']}",
                )
        caption = [f"destination records: {len(self.pipeline.destination)}"]
        caption += [f"last error ({name}): {error}" for name, error in self._last_error.items()]
        table.caption = "\n".join(caption)
        return table


def _short(shard_id: str) -> str:
    return shard_id if len(shard_id) <= 24 else "..." + shard_id[-16:]


def _age(ms: int) -> str:
    """An iterator age for a narrow column: 850ms, 12s, 4m, 3h."""
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms // 1000
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"
