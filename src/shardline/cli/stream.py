"""``shardline stream tail``: print a table's stream records as JSON Lines, and follow new ones."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

import click

from ._local import open_store, state_option, table_of

if TYPE_CHECKING:
    from shardline.local import Stream

# Lambda polls each shard about four times a second (AWS docs); --follow polls at least that often.
POLL_SECONDS: Final = 0.2

EPILOG = """\b
Examples:
  shardline stream tail Orders                     every record the stream holds, then exit
  shardline stream tail Orders --follow            ...and then each new record as it is written
  shardline stream tail Orders --from latest --follow
  shardline stream tail Orders | shardline filter --pattern '{"eventName": ["REMOVE"]}' -
"""

TAIL_EPILOG = """\b
Examples:
  shardline stream tail Orders
  shardline stream tail Orders --follow --state /tmp/demo.db
  shardline stream tail Orders --from latest --follow

\b
Records are printed as JSON Lines, exactly as Lambda would deliver them, in the order they were written
(parent shards before their children). --follow polls five times a second until Ctrl-C.
"""


@click.group(epilog=EPILOG, short_help="Read the streams of the local store's tables.")
def stream() -> None:
    """The streams of the local store's tables."""


@stream.command(epilog=TAIL_EPILOG, short_help="Print a table's stream records as JSON Lines.")
@click.argument("name", metavar="TABLE")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new records until interrupted (Ctrl-C).")
@click.option(
    "--from",
    "start",
    type=click.Choice(["trim-horizon", "latest"]),
    default="trim-horizon",
    show_default=True,
    help="Start at the oldest record kept, or after the newest.",
)
@state_option
def tail(name: str, follow: bool, start: str, state: str) -> int:
    """Print the stream records of TABLE as JSON Lines."""
    with open_store(state, create=False) as store:
        reader = _Tail(table_of(store, name).stream, latest=start == "latest")
        printed = reader.poll()
        if not follow:
            click.echo(f"{printed} record{'s' if printed != 1 else ''}", err=True)
            return 0
        with _ctrl_c() as stopping:
            while not stopping.is_set():
                time.sleep(POLL_SECONDS)  # the wall clock: following is for people at a terminal
                if not stopping.is_set():
                    printed += reader.poll()
        click.echo(f"stopped after {printed} record{'s' if printed != 1 else ''}", err=True)
    return 0


@contextmanager
def _ctrl_c() -> Iterator[threading.Event]:
    """An event set by Ctrl-C (SIGINT), so a poll is never cut in half: the loop stops between polls.

    A second Ctrl-C interrupts at once, in case a poll hangs (another process holding the database).
    """
    stopping = threading.Event()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            raise KeyboardInterrupt
        stopping.set()

    if threading.current_thread() is not threading.main_thread():  # pragma: no cover - signals need the main thread
        yield stopping
        return
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield stopping
    finally:
        signal.signal(signal.SIGINT, previous)


class _Tail:
    """Reads every shard of a stream in order, as a Lambda poller would, remembering where each one is."""

    def __init__(self, stream: Stream, *, latest: bool) -> None:
        self._stream = stream
        self._latest = latest
        self._first = True
        self._iterators: dict[str, str | None] = {}
        self._last: dict[str, str] = {}  # shard ID -> sequence number of the last record printed
        self._done: set[str] = set()

    def poll(self) -> int:
        """Print the records written since the last poll; return how many."""
        from shardline.local import ExpiredIteratorError, TrimmedDataAccessError

        shards = self._stream.describe_stream()["Shards"]
        listed = {shard["ShardId"] for shard in shards}
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            parent = shard.get("ParentShardId")
            if shard_id in self._done or (parent in listed and parent not in self._done):
                continue  # parents are read to their end first (AWS docs)
            closed = "EndingSequenceNumber" in shard["SequenceNumberRange"]
            if shard_id not in self._iterators:
                if self._first and self._latest and closed:
                    self._done.add(shard_id)  # --from latest: nothing new will come from a closed shard
                    continue
                kind = "LATEST" if self._first and self._latest else "TRIM_HORIZON"
                self._iterators[shard_id] = self._stream.get_shard_iterator(shard_id, kind)
            try:
                records.extend(self._read(shard_id))
            except ExpiredIteratorError:
                # A poll came more than 15 minutes late (a sleeping laptop): resume after the last record.
                last = self._last.get(shard_id)
                self._iterators[shard_id] = (
                    self._stream.get_shard_iterator(shard_id, "AFTER_SEQUENCE_NUMBER", last)
                    if last is not None
                    else self._stream.get_shard_iterator(shard_id, "TRIM_HORIZON")
                )
                records.extend(self._read(shard_id))
            except TrimmedDataAccessError:
                click.echo(f"warning: records of {shard_id} were trimmed before they were read", err=True)
                self._iterators[shard_id] = self._stream.get_shard_iterator(shard_id, "TRIM_HORIZON")
                records.extend(self._read(shard_id))
        self._first = False
        # Sequence numbers grow with time across the whole stream: sorting gives the order of the writes.
        records.sort(key=lambda record: int(record["dynamodb"]["SequenceNumber"]))
        out = sys.stdout
        for record in records:
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
        out.flush()
        return len(records)

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        iterator = self._iterators[shard_id]
        while iterator is not None:
            page = self._stream.get_records(iterator)
            iterator = page["NextShardIterator"]
            records.extend(page["Records"])
            if not page["Records"]:
                break
        self._iterators[shard_id] = iterator
        if records:
            self._last[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        if iterator is None:
            self._done.add(shard_id)  # a closed shard read to its end
        return records
