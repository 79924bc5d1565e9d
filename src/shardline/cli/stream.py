"""`shardline stream tail`: print a table's stream records as JSON Lines, and follow new ones."""

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

from ._health import RetryNotes, remote_summary, troubled
from ._io import CLIError, printable
from ._local import open_store, state_option, table_of

if TYPE_CHECKING:
    from shardline._filters import FilterCriteria
    from shardline.aws import RemoteStream
    from shardline.local import Stream

# Lambda polls each shard about four times a second (AWS docs); --follow polls at least that often.
POLL_SECONDS: Final = 0.2
# The longest a remote tail waits at once: new shards are looked for, and Ctrl-C is seen, at least this often.
_REMOTE_WAIT_SECONDS: Final = 1.0
# Stopped by Ctrl-C: 128 + SIGINT, the shell's convention, as `shardline run` and every other command.
_INTERRUPTED: Final = 128 + signal.SIGINT

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
  shardline stream tail --table Orders --region eu-west-1 --profile staging
  shardline stream tail --table Orders --endpoint-url http://localhost:8000 --from trim-horizon --limit 10 --json
  shardline stream tail --stream-arn arn:aws:dynamodb:...:table/Orders/stream/... --filter '{"eventName": ["REMOVE"]}'

\b
Records are printed as JSON Lines, exactly as Lambda would deliver them, in the order they were written
(parent shards before their children). --follow polls five times a second until Ctrl-C, which stops it
between two polls (exit status 130, as every command interrupted by Ctrl-C).

\b
A remote stream (DynamoDB Streams on AWS, DynamoDB Local, LocalStack, moto's server) is read with
--stream-arn, or --table with any of --endpoint-url, --region, --profile (needs the aws extra:
pip install "shardline[aws]"). It is followed from --from latest (the default there) or trim-horizon
until --limit records passed --filter, or until Ctrl-C (exit status 130). Each shard is read at most five
times a second; throttling, server and network errors are retried with backoff, and a note on stderr says
when the reads start waiting and why, when the cause changes and when they go on again; after retries,
the calls and retries by cause are summed up at the end. Without --json a record is one readable line:
event, keys, sequence number.
"""


@click.group(epilog=EPILOG, short_help="Read the streams of the local store's tables.")
def stream() -> None:
    """The streams of the local store's tables."""


@stream.command(epilog=TAIL_EPILOG, short_help="Print a table's stream records as JSON Lines.")
@click.argument("name", metavar="TABLE", required=False)
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing new records until interrupted (Ctrl-C: exit status 130)."
)
@click.option(
    "--from",
    "start",
    type=click.Choice(["trim-horizon", "latest"]),
    default=None,
    help="Start at the oldest record kept, or after the newest.  [default: trim-horizon; latest on a remote stream]",
)
@state_option
@click.option("--stream-arn", metavar="ARN", help="A remote stream, by its ARN.")
@click.option("--table", "table_name", metavar="NAME", help="A remote table, whose latest stream is read.")
@click.option("--endpoint-url", metavar="URL", help="The remote service's endpoint (boto3's endpoint_url).")
@click.option("--region", metavar="REGION", help="The remote stream's AWS region (boto3's region_name).")
@click.option("--profile", metavar="PROFILE", help="The AWS profile to read the remote stream with.")
@click.option(
    "--filter", "patterns", multiple=True, metavar="JSON", help="Remote: a FilterCriteria pattern (repeatable, ORed)."
)
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Remote: stop after N records.")
@click.option("--json", "as_json", is_flag=True, help="Remote: print each record as one JSON line (Lambda's shape).")
def tail(
    name: str | None,
    follow: bool,
    start: str | None,
    state: str,
    stream_arn: str | None,
    table_name: str | None,
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    patterns: tuple[str, ...],
    limit: int | None,
    as_json: bool,
) -> int:
    """Print the stream records of TABLE (or of a remote stream) as JSON Lines."""
    if stream_arn is not None or any(value is not None for value in (table_name, endpoint_url, region, profile)):
        if name is not None and table_name is not None and name != table_name:
            raise click.UsageError(f"two tables named: {name} and --table {table_name}")
        if stream_arn is not None and (name or table_name) is not None:
            raise click.UsageError("give --stream-arn or a table, not both")
        if stream_arn is None and (name or table_name) is None:
            raise click.UsageError("name the remote stream: --stream-arn ARN or --table NAME")
        remote = _RemoteTail(
            stream_arn=stream_arn,
            table_name=table_name or name,
            options={"endpoint_url": endpoint_url, "region_name": region, "profile_name": profile},
            patterns=patterns,
            limit=limit,
            as_json=as_json,
        )
        return remote.run(latest=start != "trim-horizon")
    if name is None:
        raise click.UsageError("missing argument TABLE (or a remote stream: --stream-arn ARN or --table NAME)")
    if patterns or limit is not None:
        raise click.UsageError("--filter and --limit read a remote stream (--stream-arn or --table)")
    start = start or "trim-horizon"
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
    return _INTERRUPTED


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


class _RemoteTail:
    """Follows a stream on DynamoDB Streams through [`shardline.aws.RemoteStream`][shardline.aws.RemoteStream], which
    paces the reads (five a second per shard at most, "Reading and processing a stream", DynamoDB developer guide) and
    turns throttling, server and network errors into a time to try again; this loop waits for it and reads the same
    position again, so no record is skipped. Why it waits is said on stderr when that changes (`RetryNotes`), not at
    every retry: a throttled tail retries for minutes."""

    def __init__(
        self,
        *,
        stream_arn: str | None,
        table_name: str | None,
        options: dict[str, str | None],
        patterns: tuple[str, ...],
        limit: int | None,
        as_json: bool,
    ) -> None:
        from shardline._filters import FilterCriteria, FilterPatternError
        from shardline.aws import RemoteStream

        try:
            self._criteria: FilterCriteria | None = FilterCriteria(list(patterns)) if patterns else None
        except FilterPatternError as exc:
            raise CLIError(f"--filter: {exc}") from None
        self._stream: RemoteStream = RemoteStream(
            stream_arn,
            table_name=table_name,
            endpoint_url=options["endpoint_url"],
            region_name=options["region_name"],
            profile_name=options["profile_name"],
        )
        self._limit = limit
        self._as_json = as_json
        self._positions: dict[str, tuple[str, str | None]] = {}  # shard ID -> (iterator type, sequence number)
        self._done: set[str] = set()
        self._first = True
        self._printed = 0
        self._trimmed = 0
        self._notes = RetryNotes()

    def run(self, *, latest: bool) -> int:
        """Print records until --limit or Ctrl-C: 0 when the limit was reached, 130 when interrupted."""
        from shardline.aws import RemoteRetryError
        from shardline.testing._clock import VirtualClock

        clock = self._stream.clock
        status = _INTERRUPTED
        with _ctrl_c() as stopping:
            while not stopping.is_set():
                waiting_until = None
                try:
                    wake_ms = self._poll(latest=latest)
                except RemoteRetryError as exc:  # DescribeStream failed before any shard list was known
                    waiting_until = wake_ms = exc.retry_at_ms
                line = self._notes.update(self._stream.health, clock.now_ms(), waiting_until=waiting_until)
                if line is not None:
                    self._note(line)
                if self._limit is not None and self._printed >= self._limit:
                    status = 0
                    break
                if isinstance(clock, VirtualClock):  # a test's clock: straight to the next deadline
                    clock.advance_to(max(wake_ms, clock.now_ms()))
                    continue
                wait = (wake_ms - clock.now_ms()) / 1000
                stopping.wait(min(max(wait, 0.0), _REMOTE_WAIT_SECONDS))  # the wall clock: a person is watching
        counted = f"{self._printed} record{'s' if self._printed != 1 else ''}"
        click.echo(counted if status == 0 else f"stopped after {counted}", err=True)
        health = self._stream.health
        if troubled(health):
            self._note(remote_summary("", health))
        return status

    def _poll(self, *, latest: bool) -> int:
        """Read every shard that may be read now, print what passes the filter in write order, and return when
        (epoch ms) a shard may be read next."""
        from shardline.aws import RemoteRetryError
        from shardline.local import TrimmedDataAccessError

        stream = self._stream
        shards = stream.describe_stream()["Shards"]
        listed = {shard["ShardId"] for shard in shards}
        records: list[dict[str, Any]] = []
        now = stream.clock.now_ms()
        wake = now + int(_REMOTE_WAIT_SECONDS * 1000)
        for shard in shards:
            shard_id = shard["ShardId"]
            parent = shard.get("ParentShardId")
            if shard_id in self._done or (parent in listed and parent not in self._done):
                continue  # parents are read to their end first (DynamoDB developer guide)
            if shard_id not in self._positions:
                closed = "EndingSequenceNumber" in shard["SequenceNumberRange"]
                if self._first and latest and closed:
                    self._done.add(shard_id)  # --from latest: nothing new will come from a closed shard
                    continue
                self._positions[shard_id] = ("LATEST", None) if self._first and latest else ("TRIM_HORIZON", None)
            when, _ = stream.next_read_ms(shard_id)
            if when > now:
                wake = min(wake, when)
                continue
            try:
                try:
                    iterator = stream.get_shard_iterator(shard_id, *self._positions[shard_id])
                except TrimmedDataAccessError:
                    self._positions[shard_id] = ("TRIM_HORIZON", None)
                    iterator = stream.get_shard_iterator(shard_id, "TRIM_HORIZON")
                page = stream.get_records(iterator)
            except RemoteRetryError as exc:  # said once per change of state by run(), not once per retry
                wake = min(wake, exc.retry_at_ms)
                continue
            got = page["Records"]
            if got:
                self._positions[shard_id] = ("AFTER_SEQUENCE_NUMBER", got[-1]["dynamodb"]["SequenceNumber"])
                records.extend(got)
            if page["NextShardIterator"] is None:
                self._done.add(shard_id)  # a closed shard read to its end
            wake = min(wake, stream.next_read_ms(shard_id)[0])
        self._first = False
        trimmed = stream.health["trimmed"]
        if trimmed > self._trimmed:
            self._trimmed = trimmed
            self._note(str(stream.health["last_error"]))
        # Sequence numbers grow with time across the whole stream: sorting gives the order of the writes.
        records.sort(key=lambda record: int(record["dynamodb"]["SequenceNumber"]))
        out = sys.stdout
        for record in records:
            if self._limit is not None and self._printed >= self._limit:
                break
            if self._criteria is not None and not self._criteria.matches(record):
                continue
            out.write((json.dumps(record, separators=(",", ":")) if self._as_json else _readable(record)) + "\n")
            self._printed += 1
        out.flush()
        return wake

    @staticmethod
    def _note(message: str) -> None:
        click.echo(printable(f"note: {message}"), err=True)


def _readable(record: dict[str, Any]) -> str:
    """One line for people: the event, the item's key (`pk=a sk=12`) and the record's sequence number."""
    dynamodb = record["dynamodb"]
    keys = " ".join(f"{name}={_plain(value)}" for name, value in dynamodb["Keys"].items())
    return printable(f"{record['eventName']:<6} {keys}  seq {dynamodb['SequenceNumber']}")


def _plain(value: dict[str, Any]) -> str:
    ((tag, inner),) = value.items()
    if tag in ("S", "N", "B") and isinstance(inner, str) and inner.isprintable() and " " not in inner:
        return inner
    return json.dumps(inner, separators=(",", ":"))
