"""What `shardline run` and `shardline demo` show while the pipeline runs.

On a terminal: a live table per mapping and shard (records in/delivered/filtered/failed, throughput,
iterator age, batches, retries made, bisects, last error), the number of destination records and the latest
error in full under it. Elsewhere (a pipe, CI, a log file): one plain line per invoke and per destination
record, so nothing is lost to redraws.

A mapping on a remote stream (`shardline run --remote`) also gets a line, above the live table or among the
plain lines, when its reads start waiting for a retry (throttled, server or network errors), when the cause
changes and when they go on again: see `shardline.cli._health`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any, TextIO

from ._health import RetryNotes
from ._io import printable

__all__ = ["Dashboard", "describe_failure"]

_FULL_ERROR_LIMIT = 400  # characters of the latest error shown under the live table
_WIDE = 100  # terminal columns from which the table has a "last error" column


class Dashboard:
    """Call `refresh` often; it redraws at most every `interval` seconds on a terminal and prints
    new events as lines otherwise.

    `critical` is a context manager factory wrapped around each redraw: `shardline run` holds Ctrl-C
    and SIGTERM back during one, so that a stop never leaves half a table on the screen.
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        stream: TextIO | None = None,
        live: bool | None = None,
        interval: float = 0.25,
        critical: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval
        self.title = "shardline run: Ctrl-C to stop"
        self._critical = critical or contextlib.nullcontext
        self._last_draw = 0.0
        self._last_counts: dict[tuple[str, str], tuple[float, int]] = {}
        self._rates: dict[tuple[str, str], float] = {}
        self._errors: dict[tuple[str, str], str] = {}  # the last error of each mapping and shard
        self._latest: tuple[str, str] | None = None  # which of them failed last
        self._live: Any = None
        self._restore_echo: Callable[[], None] = _nothing
        # Remote streams, each watched for the changes of its retry state (one line each, not one per retry).
        self._remote = [
            (mapping.stream, RetryNotes(f"mapping {mapping.name}", time_of_day=True))
            for mapping in pipeline.mappings
            if getattr(mapping.stream, "remote", False) and hasattr(mapping.stream, "health")
        ]
        pipeline.subscribe(self._on_event)
        if self.live:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream)
            self._live = Live(console=console, auto_refresh=False, transient=False)
            self._restore_echo = _hide_control_echo()
            with self._critical():
                self._live.start()

    def refresh(self, *, force: bool = False) -> None:
        self._watch_remote()
        if not self.live:
            self.stream.flush()
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        table = self._table()
        with self._critical():
            self._live.update(table, refresh=True)

    def close(self) -> None:
        self.refresh(force=True)
        if self._live is not None:
            with self._critical():
                self._live.stop()
            self._live = None
            self._restore_echo()

    # -- events -----------------------------------------------------------------------------------

    def _watch_remote(self) -> None:
        """A line for each remote stream whose retry state changed since the last refresh."""
        for stream, notes in self._remote:
            now = stream.clock.now_ms()  # the clock its retry times are on
            line = notes.update(stream.health, now)
            if line is not None:
                self._log(f"{_stamp(now)} {line}")

    def _log(self, line: str) -> None:
        """A line among the plain lines, or above the live table (rich prints it there and redraws the table)."""
        text = printable(line)
        if self._live is None:
            self.stream.write(text + "\n")  # one write: no other output lands mid-line
            return
        from rich.text import Text

        with self._critical():
            self._live.console.print(Text(text))

    def _on_event(self, kind: str, payload: Any) -> None:
        if kind == "invocation":
            record = payload
            if record.verdict != "success":
                key = (record.mapping, record.shard_id)
                self._errors[key] = describe_failure(record)
                self._latest = key
            if not self.live:
                self.stream.write(_invocation_line(record) + "\n")  # one write: no other output lands mid-line
        elif kind == "destination" and not self.live:
            info = payload["DDBStreamBatchInfo"]
            context = payload["requestContext"]
            line = (
                f"  -> destination: {context['condition']}, {info['batchSize']} record(s)"
                f" {info['startSequenceNumber']}..{info['endSequenceNumber']},"
                f" after {context['approximateInvokeCount']} invoke(s)"
            )
            self.stream.write(line + "\n")

    # -- the live table ---------------------------------------------------------------------------

    def _logged(self, mapping_name: str) -> str | None:
        """The last exception the mapping's function printed (the why of a partial batch failure)."""
        for mapping in self.pipeline.mappings:
            if mapping.name == mapping_name:
                output = getattr(mapping.invoker, "output", None)
                return getattr(output, "last_exception", None)
        return None

    def _error_text(self, key: tuple[str, str]) -> str:
        text = self._errors.get(key, "")
        if text.startswith("partial failure"):
            logged = self._logged(key[0])
            if logged:
                text += f"; the function logged {logged}"
        return text

    def _table(self) -> Any:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        # A narrow terminal (80 columns) gets no "last error" column: the latest error is shown in full
        # under the table anyway, and the counters must not be squeezed into ellipses.
        wide = self._live is None or self._live.console.width >= _WIDE
        table = Table(
            title=self.title,
            expand=True,
            title_justify="left",
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
        )
        # Only the mapping's name gives way on a narrow terminal (it is cut with an ellipsis, its full name
        # is in the line printed at start-up); the counters keep at least their headers' width.
        table.add_column("mapping", overflow="ellipsis", min_width=12, max_width=40)
        table.add_column("shard", no_wrap=True, min_width=9)
        for column in ("in/ok/drop/fail", "rec/s", "age", "batches", "retry/bisect"):
            table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
        if wide:
            table.add_column("last error", no_wrap=True, overflow="ellipsis", ratio=1)
        now = time.monotonic()
        for name, shards in self.pipeline.metrics().items():
            for shard_id, metrics in shards.items():
                key = (name, shard_id)
                before = self._last_counts.get(key)
                if before is not None and now > before[0]:
                    self._rates[key] = (metrics["delivered"] - before[1]) / (now - before[0])
                self._last_counts[key] = (now, metrics["delivered"])
                counts = "/".join(str(metrics[field]) for field in ("records_in", "delivered", "filtered", "failed"))
                cells: list[Any] = [
                    name,
                    "…" + shard_id[-8:],
                    counts,
                    f"{self._rates.get(key, 0.0):.0f}",
                    _age(metrics["iterator_age_ms"]),
                    str(metrics["invocations"]),
                    f"{metrics['retries']}/{metrics['bisects']}",
                ]
                if wide:
                    cells.append(Text(self._error_text(key).replace("\n", " ")))
                table.add_row(*cells)
        caption = f"destination records: {self.pipeline.destination_count}"
        if self._latest is not None:
            name, shard_id = self._latest
            full = self._error_text(self._latest).replace("\n", " ")
            if len(full) > _FULL_ERROR_LIMIT:
                full = full[: _FULL_ERROR_LIMIT - 1] + "…"
            caption += f"\nlast error ({name} …{shard_id[-8:]}): {full}"
        table.caption = Text(caption)
        return table


def _hide_control_echo() -> Callable[[], None]:
    """Stop the terminal from echoing `^C` while the live table is shown (and return how to undo it).

    The echo lands after the table and moves the cursor, and the last redraw, which starts from where it
    believes the table begins, would then leave a stray copy of the title above it.
    """
    try:
        import termios
    except ImportError:  # pragma: no cover - not a POSIX terminal
        return _nothing
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd):
            return _nothing
        saved = termios.tcgetattr(fd)
        quiet = list(saved)
        quiet[3] &= ~termios.ECHOCTL
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
    except (OSError, ValueError, AttributeError, termios.error):  # no stdin, or not a terminal we can set
        return _nothing

    def restore() -> None:
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)

    return restore


def _nothing() -> None:
    pass


def describe_failure(record: Any) -> str:
    """One line on why an invoke did not succeed: the function error, what a partial response reported, or
    why Lambda could not read the response."""
    count = len(record.event.get("Records", []))
    if record.error is not None:
        return str(record.error)
    if record.verdict == "partial":
        failures = record.response.get("batchItemFailures", []) if isinstance(record.response, dict) else []
        return f"partial failure: {len(failures)} of {count} record{'s' if count != 1 else ''} reported"
    return str(record.reason or record.verdict)


def _invocation_line(record: Any) -> str:
    """Plain mode: a line per invoke."""
    stamp = _stamp(record.time_ms)
    count = len(record.event.get("Records", []))
    if record.error is not None:
        outcome = f"function error {record.error}"
    elif record.verdict == "partial":
        failures = record.response.get("batchItemFailures", []) if isinstance(record.response, dict) else []
        outcome = f"partial failure: {len(failures)} reported"
    elif record.verdict == "failure":
        outcome = f"failure: {record.reason}"
    else:
        outcome = record.verdict
    window = " (final for its window)" if record.event.get("isFinalInvokeForWindow") else ""
    return (
        f"{stamp} {record.mapping} {_short(record.shard_id)} {count} record{'s' if count != 1 else ''}"
        f"{window}, attempt {record.attempt}: {outcome} ({record.duration_ms:.1f} ms)"
    )


def _stamp(ms: int) -> str:
    """The time of day (UTC) a plain line starts with."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M:%S")


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
