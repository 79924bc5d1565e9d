"""The event source mapping emulator: Lambda's polling of a DynamoDB stream, exact and durable.

One [`Pipeline`][shardline.local.Pipeline] runs any number of mappings over the tables of a
[`Store`][shardline.local.Store]. Each mapping reads every shard of its table's stream in order (parents before
children), filters records (FilterCriteria), groups them into batches (BatchSize, the 6 MB payload limit,
MaximumBatchingWindow, tumbling windows), invokes the function and acts on the answer as the Lambda developer guide
describes ([Using AWS Lambda with Amazon DynamoDB](https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html) and
[Configuring partial batch response](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html)),
and as LocalStack's AWS-validated snapshot tests of stream event source mappings recorded on 2025-11-25 where the guide
is silent:

* success moves the checkpoint past the batch;
* a partial batch response (with ReportBatchItemFailures) moves it to the lowest reported record, and every
  record from it on is delivered again (the guide). That record comes first, as a batch of its own with a
  fresh retry count. The recordings show this for the last record of a batch only; for a record in the middle
  of a batch it is shardline's own choice, as no public recording shows that case;
* a function error or an unreadable response retries the whole batch with exponential backoff, or bisects
  it (BisectBatchOnFunctionError; halves use no retry quota), until MaximumRetryAttempts runs out or the
  records are older than MaximumRecordAgeInSeconds: then an on-failure record goes to the destination and
  processing continues after the batch;
* ParallelizationFactor splits a shard into lanes by partition key: items keep their order, lanes run
  independently; each lane's checkpoint is committed to the state database after every batch, so a new
  Pipeline on the same store resumes where the last one stopped.

Time comes from a clock: on a `VirtualClock` [`Pipeline.run_until_idle`][shardline.local.Pipeline.run_until_idle] jumps
straight to the next deadline (a retry's backoff, a batching window, a tumbling window's end), so hours of retries take
milliseconds and every run is the same.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from hashlib import blake2b
from typing import Any, Final, Protocol, TypeVar, final

from shardline._exceptions import ShardlineError, describe_exception
from shardline._json import json_dumps
from shardline._response import Verdict, interpret_response
from shardline.local._destinations import Destination, DestinationError, destination_from
from shardline.local._invoker import UNHANDLED, InProcessInvoker, Invocation, Invoker
from shardline.local._settings import InvalidParameterValueError, MappingSettings, ResourceConflictError
from shardline.testing._clock import Clock, VirtualClock, iso_z

__all__ = ["DeliveryTimeoutError", "EventSourceMapping", "InvocationRecord", "Pipeline"]

PAYLOAD_LIMIT: Final = 6 * 1024 * 1024  # a synchronous invoke's request payload
_EVENT_OVERHEAD: Final = len('{"Records":[]}')
_RETENTION_MS: Final = 24 * 3600 * 1000  # DynamoDB Streams keeps records for 24 hours
_FETCH_LIMIT: Final = 1000  # GetRecords returns at most 1000 records
_REMOTE_EMPTY_PAGES: Final = 3  # empty GetRecords pages in a row taken as a remote open shard's end
_SETUP_ATTEMPTS: Final = 12  # a remote stream's throttles waited out while a mapping is set up (minutes at most)
_T = TypeVar("_T")
_BACKLOG_LIMIT: Final = 200_000  # records held in memory for one lane of a shard
_BACKOFF_BASE_MS: Final = 1000
_BACKOFF_CAP_MS: Final = 60_000
_DESCRIBE_EVERY_MS: Final = 250  # how often shard lists are refreshed on the system clock
_WAIT_SLICE_S: Final = 0.1  # on the system clock, how often a wait for a deadline checks `stop`
_METRICS: Final = (
    "records_in",
    "delivered",
    "filtered",
    "failed",
    "retries",
    "bisects",
    "invocations",
    "windows_dropped",
    "iterator_age_ms",
)


@final
class DeliveryTimeoutError(ShardlineError, TimeoutError):
    """[`Pipeline.wait_until_delivered`][shardline.local.Pipeline.wait_until_delivered] gave up: the pipeline went idle
    without delivering the record (filtered out, sent to the on-failure destination, or never written), or the
    invocation budget ran out."""

    __module__ = "shardline.local"


class StreamTable(Protocol):
    """What the emulator needs of a table: its name, stream ARN and a DynamoDB-Streams-like reader.

    A remote reader may also pace itself: `next_read_ms(shard_id) -> (epoch ms, wake)` says when a shard may be
    read next, and its calls may raise an error carrying `retry_at_ms` (throttled, or a server or network
    error): the emulator waits for that time and reads the same position again. `attach_clock(clock)`, when
    present, is given the pipeline's clock; a true `remote` attribute keys checkpoints by stream ARN too.
    """

    @property
    def name(self) -> str: ...
    @property
    def stream_arn(self) -> str | None: ...
    @property
    def key_schema(self) -> Mapping[str, str]: ...
    @property
    def stream(self) -> Any: ...


class StateStore(Protocol):
    clock: Clock

    def table(self, name: str) -> Any: ...
    def get_state(self, namespace: str, key: str) -> str | None: ...
    def set_state(self, namespace: str, key: str, value: str | None) -> None: ...
    def transaction(self) -> Any: ...


@final
class InvocationRecord:
    """One invoke the emulator made: which mapping and shard, the event, the outcome, the attempt.

    Attributes:
        mapping (str): The mapping's name.
        shard_id (str): The shard the batch was read from.
        event (dict[str, Any]): The event the function was invoked with.
        response (Any): What the function returned (`None` after a function error).
        error (FunctionError | None): The function error, if the invoke failed.
        duration_ms (float): How long the invoke took.
        attempt (int): 1 for a batch's first invoke, then 2, 3... for its retries.
        time_ms (int): When the invoke started, in epoch milliseconds on the pipeline's clock.
        verdict (str): How Lambda reads the outcome: `"success"` (the whole batch is done), `"partial"` (a
            partial batch response: the reported records are delivered again) or `"failure"` (the whole
            batch is retried).
        reason (str): Why the verdict is what it is, when that needs saying (a malformed response, for one).
    """

    __slots__ = (
        "attempt",
        "duration_ms",
        "error",
        "event",
        "mapping",
        "reason",
        "response",
        "shard_id",
        "time_ms",
        "verdict",
    )

    def __init__(
        self,
        *,
        mapping: str,
        shard_id: str,
        event: dict[str, Any],
        invocation: Invocation,
        attempt: int,
        time_ms: int,
        verdict: str,
        reason: str = "",
    ) -> None:
        self.mapping = mapping
        self.shard_id = shard_id
        self.event = event
        self.response = invocation.response
        self.error = invocation.error
        self.duration_ms = invocation.duration_ms
        self.attempt = attempt
        self.time_ms = time_ms
        self.verdict = verdict
        self.reason = reason  # how Lambda read the answer, e.g. why a response failed the whole batch

    @property
    def sequence_numbers(self) -> list[str]:
        """The sequence numbers of the records in the event, in the order they were delivered."""
        return [record["dynamodb"]["SequenceNumber"] for record in self.event.get("Records", [])]

    def __repr__(self) -> str:
        first_last = self.sequence_numbers
        span = f"{first_last[0]}..{first_last[-1]}" if first_last else "no records"
        return f"<InvocationRecord {self.mapping} {self.shard_id} {span} attempt {self.attempt}: {self.verdict}>"


@dataclass
class _Entry:
    record: dict[str, Any]
    sequence: int
    matched: bool
    created_ms: int
    size: int


@dataclass
class _Batch:
    span: int  # how many queue entries (matched or filtered out) the batch covers, from the lane's head
    attempts: int = 0
    retry_at_ms: int = 0
    last_invocation: Invocation | None = None
    function_error: bool = False


@dataclass
class _Lane:
    index: int
    queue: deque[_Entry] = field(default_factory=deque)
    checkpoint: int | None = None  # the last sequence number this lane is done with
    batch: _Batch | None = None
    forced_spans: list[int] = field(default_factory=list)  # the halves a bisect still owes
    ready_since_ms: int | None = None  # when the batching window started
    window_start_ms: int | None = None
    window_state: dict[str, Any] = field(default_factory=dict)
    final_attempts: int = 0  # failed final invokes of the current window
    final_retry_at_ms: int = 0


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    closed: bool
    lanes: list[_Lane]
    fetched_to: int | None = None  # the last sequence number read from the stream
    ending: int | None = None  # a closed shard's last sequence number (DescribeStream's EndingSequenceNumber)
    exhausted: bool = False  # closed and read to its end
    finished: bool = False
    metrics: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_METRICS, 0))


@final
class EventSourceMapping:
    """One mapping: a table's stream, a function, its settings, its destination and its shards' progress."""

    def __init__(
        self,
        *,
        name: str,
        table: StreamTable,
        invoker: Invoker,
        settings: MappingSettings,
        destination: Destination,
    ) -> None:
        self.name = name
        self.table = table
        # A mapping reads the stream it was created on, by ARN, as on AWS: if the table's stream is disabled and
        # enabled again, the new stream (a new ARN) needs a new mapping (Lambda's CreateEventSourceMapping).
        self.stream: Any = table.stream
        self.stream_arn: str = self.stream.stream_arn
        self.invoker = invoker
        self.settings = settings
        self.destination = destination
        self._shards: dict[str, _Shard] = {}
        self._described_ms: int | None = None

    @property
    def enabled(self) -> bool:
        """Whether the mapping reads its stream; a disabled mapping keeps its place and reads nothing."""
        return self.settings.enabled

    def metrics(self) -> dict[str, dict[str, int]]:
        """Per shard: records in, delivered, filtered, failed (sent to the destination), retries (made),
        bisects, invocations, tumbling windows dropped (their final invoke failed for good), iterator age."""
        return {shard_id: dict(shard.metrics) for shard_id, shard in sorted(self._shards.items())}

    def __repr__(self) -> str:
        return f"<EventSourceMapping {self.name}: {self.table.name} -> {self.invoker.function_name}>"


class _Deadline:
    """The earliest time something is waiting for, gathered during one pass."""

    def __init__(self) -> None:
        self.at: int | None = None

    def need(self, when: int) -> None:
        if self.at is None or when < self.at:
            self.at = when


@final
class Pipeline:
    """Runs event source mappings over a [`Store`][shardline.local.Store]'s tables, as Lambda runs them on AWS
    ([Using AWS Lambda with Amazon DynamoDB](https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html)): it reads each
    shard in order, invokes the function with batches, retries, bisects and checkpoints as the mapping's settings say,
    and sends what it gives up on to the mapping's on-failure destination.

    Examples:
        >>> from shardline.local import Store
        >>> from shardline.testing import VirtualClock
        >>> store = Store(":memory:", clock=VirtualClock())
        >>> table = store.create_table("Orders", key_schema={"pk": "S"})
        >>> seen = []
        >>> pipeline = Pipeline(store)
        >>> mapping = pipeline.add_mapping(table, lambda event, context: seen.extend(event["Records"]))
        >>> _ = table.put_item({"pk": "order#1", "status": "NEW"})
        >>> pipeline.run_until_idle()
        1
        >>> [record["eventName"] for record in seen]
        ['INSERT']
    """

    def __init__(
        self,
        store: StateStore,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        endpoint_url: str | None = None,
        history: int | None = None,
    ):
        """`clock` is the store's clock unless given; `seed` makes the retry jitter and the request IDs
        repeatable. `endpoint_url` is the local DynamoDB endpoint the functions' SDK clients are sent to, if
        one is running.

        `history` bounds what [`invocations`][shardline.local.Pipeline.invocations] and
        [`destination`][shardline.local.Pipeline.destination] keep (the last `history` of each, for a pipeline
        that serves for days); [`invocation_count`][shardline.local.Pipeline.invocation_count] and
        [`destination_count`][shardline.local.Pipeline.destination_count] count them all."""
        if history is not None and (isinstance(history, bool) or not isinstance(history, int) or history < 1):
            raise ValueError(f"history must be a positive int or None, got {history!r}")
        self.store = store
        """The store whose tables the mappings read; the checkpoints are kept in it too."""
        self.clock: Clock = clock or store.clock
        """The clock the pipeline waits on: backoff, batching windows, tumbling windows."""
        self._rng = random.Random(seed)
        self._endpoint_url = endpoint_url
        self._mappings: dict[str, EventSourceMapping] = {}
        self._history = history
        self.invocations: list[InvocationRecord] = []
        """Every invoke made, oldest first (the last `history` of them when `history` is set)."""
        self.destination: list[dict[str, Any]] = []
        """Every on-failure record sent, oldest first (the last `history` of them when `history` is set)."""
        self.invocation_count = 0
        """How many invokes were made."""
        self.destination_count = 0
        """How many on-failure records were sent."""
        self._delivered: set[str] = set()
        self._listeners: list[Callable[[str, Any], None]] = []

    def subscribe(self, listener: Callable[[str, Any], None]) -> None:
        """Call `listener("invocation", InvocationRecord)` after every invoke and
        `listener("destination", record)` for every on-failure record, as they happen."""
        self._listeners.append(listener)

    def _notify(self, kind: str, payload: Any) -> None:
        for listener in self._listeners:
            listener(kind, payload)

    # -- mappings ---------------------------------------------------------------------------------

    def add_mapping(
        self,
        table: StreamTable | str,
        handler: Callable[[Any, Any], Any] | Invoker,
        *,
        name: str | None = None,
        on_failure: object = None,
        **settings: Any,
    ) -> EventSourceMapping:
        """Add a mapping from `table`'s stream to `handler` (a `(event, context)` callable or an
        [`Invoker`][shardline.local.Invoker]). Settings are CreateEventSourceMapping's, in Python names
        (`batch_size=100`, `maximum_retry_attempts=-1`, `function_response_types=("ReportBatchItemFailures",)`...;
        see [`MappingSettings`][shardline.local.MappingSettings]).

        `on_failure` is where records of batches given up on go: `None` keeps them in the store
        ([`StoreDestination`][shardline.local.StoreDestination]), a file path appends them to a JSON Lines file, an
        SQS queue, SNS topic or S3 bucket ARN (or a DestinationConfig, `{"OnFailure": {"Destination": arn}}`)
        sends them there, and a [`Destination`][shardline.local.Destination] object receives them itself.

        The mapping's checkpoints are stored under `name` (by default `<table>-<function>`): a new
        Pipeline adding a mapping of the same name resumes where the last one stopped. `table` may also be a
        stream on AWS ([`shardline.aws.RemoteStream`][shardline.aws.RemoteStream]): its checkpoints are kept under
        the name and the stream's ARN, and its reads are paced and retried on this pipeline's clock.
        """
        unknown = sorted(set(settings) - set(MappingSettings.__slots__))
        if unknown:
            raise InvalidParameterValueError(
                f"unknown event source mapping setting {unknown[0]!r}; the settings are"
                f" {', '.join(sorted(MappingSettings.__slots__))}"
            )
        resolved = self.store.table(table) if isinstance(table, str) else table
        if resolved.stream_arn is None:
            raise InvalidParameterValueError(
                f"table {resolved.name!r} has no stream to map: enable it (StreamSpecification, StreamEnabled: true)"
            )
        invoker: Invoker
        if hasattr(handler, "invoke") and hasattr(handler, "function_arn"):
            invoker = handler  # type: ignore[assignment]
        elif callable(handler):
            invoker = InProcessInvoker(handler, clock=self.clock, seed=self._rng.getrandbits(32))
        else:
            raise TypeError(f"a handler is an (event, context) callable or an Invoker, got {type(handler).__name__}")
        options = MappingSettings(**settings)
        attach_clock = getattr(resolved, "attach_clock", None)
        if attach_clock is not None:
            attach_clock(self.clock)  # a remote stream paces its reads and retries on the pipeline's clock
        mapping_name = name or f"{resolved.name}-{invoker.function_name}"
        for other in self._mappings.values():
            if other.invoker.function_arn == invoker.function_arn and other.stream_arn == resolved.stream_arn:
                raise ResourceConflictError(
                    f"An event source mapping for function {invoker.function_name} and stream {resolved.stream_arn}"
                    f" already exists ({other.name})"
                )
        if mapping_name in self._mappings:
            raise ResourceConflictError(
                f"An event source mapping for function {invoker.function_name} and stream {resolved.stream_arn}"
                f" already exists ({mapping_name}); give the second one another name"
            )
        mapping = EventSourceMapping(
            name=mapping_name,
            table=resolved,
            invoker=invoker,
            settings=options,
            destination=destination_from(
                on_failure, store=self.store, mapping=mapping_name, endpoint_url=self._endpoint_url
            ),
        )
        self._mappings[mapping_name] = mapping
        try:
            self._patiently(lambda: self._describe(mapping, force=True))
            if options.starting_position == "LATEST":
                self._start_at_latest(mapping)
        except BaseException:
            del self._mappings[mapping_name]
            raise
        return mapping

    @property
    def mappings(self) -> list[EventSourceMapping]:
        """The pipeline's mappings, in the order they were added."""
        return list(self._mappings.values())

    def metrics(self) -> dict[str, dict[str, dict[str, int]]]:
        """Per mapping, per shard counters (see
        [`EventSourceMapping.metrics`][shardline.local.EventSourceMapping.metrics])."""
        return {name: mapping.metrics() for name, mapping in self._mappings.items()}

    # -- running --------------------------------------------------------------------------------

    def run_until_idle(self, *, max_invocations: int | None = None, stop: Callable[[], bool] | None = None) -> int:
        """Process until every mapping has caught up and nothing waits for a deadline the clock can reach
        (or `stop()` returns true: it is asked between batches and while waiting).

        On a [`VirtualClock`][shardline.testing.VirtualClock] the clock jumps to each deadline (backoff, batching
        windows, tumbling windows); on the system clock the call sleeps until it. Returns the number of invocations
        made.
        """
        made = self.invocation_count
        while max_invocations is None or self.invocation_count - made < max_invocations:
            if stop is not None and stop():
                break
            deadline = _Deadline()
            if self._pass(deadline):
                continue
            if deadline.at is None:
                break
            self._wait_until(deadline.at, stop)
        return self.invocation_count - made

    def run(self, stop: Callable[[], bool] | None = None, *, poll_interval: float = 0.001) -> None:
        """Serve until `stop()` returns true (or forever), polling for new records every `poll_interval`
        seconds when idle: far more often than Lambda's four polls a second."""
        while stop is None or not stop():
            deadline = _Deadline()
            if self._pass(deadline):
                continue
            now = self.clock.now_ms()
            pause = poll_interval if deadline.at is None else min(poll_interval, max(0, deadline.at - now) / 1000)
            if isinstance(self.clock, VirtualClock):
                if deadline.at is None:
                    return  # nothing can ever happen on a clock nobody advances
                self.clock.advance_to(deadline.at)
            else:
                time.sleep(pause)

    def wait_until_delivered(self, sequence_number: str, *, max_invocations: int = 100_000) -> InvocationRecord:
        """Run until a successful invoke has delivered the record with `sequence_number`; return that invoke.

        Raises [`DeliveryTimeoutError`][shardline.local.DeliveryTimeoutError] (a TimeoutError) when the pipeline goes
        idle without delivering it (dropped by a filter, sent to the destination, or never written).
        """
        made = 0
        while sequence_number not in self._delivered:
            deadline = _Deadline()
            before = self.invocation_count
            if not self._pass(deadline):
                if deadline.at is None:
                    raise DeliveryTimeoutError(f"the pipeline is idle and record {sequence_number} was not delivered")
                self._wait_until(deadline.at)
            made += self.invocation_count - before
            if made > max_invocations:
                raise DeliveryTimeoutError(
                    f"record {sequence_number} not delivered after {max_invocations} invocations"
                )
        for record in reversed(self.invocations):
            if record.verdict in ("success", "partial") and sequence_number in record.sequence_numbers:
                return record
        raise AssertionError("unreachable: a delivered record has an invocation")  # pragma: no cover

    def _patiently(self, call: Callable[[], _T]) -> _T:
        """`call()`, waiting out the errors that say when to try again (a remote stream's throttles, server
        and network errors carry `retry_at_ms`): setting a mapping up must not fail on a passing throttle."""
        for _ in range(_SETUP_ATTEMPTS - 1):
            try:
                return call()
            except Exception as exc:  # noqa: PERF203 - a handful of attempts
                retry_at = getattr(exc, "retry_at_ms", None)
                if type(retry_at) is not int:
                    raise
                self._wait_until(retry_at)
        return call()

    def _wait_until(self, when: int, stop: Callable[[], bool] | None = None) -> None:
        if isinstance(self.clock, VirtualClock):
            self.clock.advance_to(max(when, self.clock.now_ms()))
            return
        # A backoff can be a minute long: the wait is sliced so that `stop` is heard within a tenth of a second.
        while (pause := (when - self.clock.now_ms()) / 1000) > 0:
            if stop is not None and stop():
                return
            time.sleep(min(pause, _WAIT_SLICE_S))

    # -- one pass over everything ---------------------------------------------------------------

    def _pass(self, deadline: _Deadline) -> bool:
        progress = False
        for mapping in self._mappings.values():
            if mapping.enabled:
                progress |= self._pass_mapping(mapping, deadline)
        return progress

    def _pass_mapping(self, mapping: EventSourceMapping, deadline: _Deadline) -> bool:
        self._describe(mapping)
        progress = False
        for shard in self._eligible(mapping):
            # A batch may need several GetRecords calls (1000 records or 1 MB each; BatchSize goes to 10,000).
            while self._fetch(mapping, shard, deadline):
                progress = True
            for lane in shard.lanes:
                while self._step_lane(mapping, shard, lane, deadline):
                    progress = True
            if shard.exhausted and not shard.finished and all(_lane_idle(lane) for lane in shard.lanes):
                shard.finished = True
                self.store.set_state(self._namespace(mapping), f"{shard.shard_id}/finished", "1")
                progress = True
        return progress

    def _eligible(self, mapping: EventSourceMapping) -> Iterator[_Shard]:
        shards = mapping._shards
        for shard_id in sorted(shards):
            shard = shards[shard_id]
            if shard.finished:
                continue
            parent = shards.get(shard.parent_id) if shard.parent_id else None
            if parent is not None and not parent.finished:
                # Parents before children ("Reading and processing a stream", DynamoDB developer guide).
                continue
            yield shard

    # -- shards and checkpoints -----------------------------------------------------------------

    def _describe(self, mapping: EventSourceMapping, *, force: bool = False) -> None:
        now = self.clock.now_ms()
        recent = mapping._described_ms is not None and now - mapping._described_ms < _DESCRIBE_EVERY_MS
        if recent and not force and not isinstance(self.clock, VirtualClock):
            return  # on the wall clock, shard lists are refreshed a few times a second, as Lambda does
        mapping._described_ms = now
        description = mapping.stream.describe_stream()
        for info in description["Shards"]:
            shard_id = info["ShardId"]
            ending = info.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
            closed = ending is not None
            known = mapping._shards.get(shard_id)
            if known is not None:
                known.closed = closed
                known.ending = int(ending) if closed else None
                continue
            lanes = [_Lane(index) for index in range(mapping.settings.parallelization_factor)]
            shard = _Shard(shard_id=shard_id, parent_id=info.get("ParentShardId"), closed=closed, lanes=lanes)
            shard.ending = int(ending) if closed else None
            self._load_checkpoints(mapping, shard)
            mapping._shards[shard_id] = shard

    def _namespace(self, mapping: EventSourceMapping) -> str:
        if getattr(mapping.stream, "remote", False):
            # A remote stream's checkpoints belong to that stream: a mapping of the same name on another
            # stream (or on the table's next stream) starts afresh instead of reading foreign positions.
            return f"esm:{mapping.name}|{mapping.stream_arn}"
        return f"esm:{mapping.name}"

    def _load_checkpoints(self, mapping: EventSourceMapping, shard: _Shard) -> None:
        namespace = self._namespace(mapping)
        if self.store.get_state(namespace, f"{shard.shard_id}/finished") == "1":
            shard.finished = True
        first = self.store.get_state(namespace, f"{shard.shard_id}/0")
        saved_lanes = json.loads(first).get("lanes", len(shard.lanes)) if first else len(shard.lanes)
        if saved_lanes != len(shard.lanes):
            # ParallelizationFactor changed: items now map to other lanes, so every lane restarts from the
            # slowest old lane's checkpoint (records after it may be delivered again, none is skipped).
            checkpoints = []
            for index in range(saved_lanes):
                text = self.store.get_state(namespace, f"{shard.shard_id}/{index}")
                checkpoints.append(json.loads(text).get("seq") if text else None)
            known = [checkpoint for checkpoint in checkpoints if checkpoint is not None]
            start = min(known) if len(known) == len(checkpoints) else None
            for lane in shard.lanes:
                lane.checkpoint = start
            shard.fetched_to = start
            return
        for lane in shard.lanes:
            text = self.store.get_state(namespace, f"{shard.shard_id}/{lane.index}")
            if text is None:
                continue
            saved = json.loads(text)
            lane.checkpoint = saved.get("seq")
            window = saved.get("window")
            if window is not None:
                lane.window_start_ms = window["start_ms"]
                lane.window_state = window["state"]
        known = [lane.checkpoint for lane in shard.lanes if lane.checkpoint is not None]
        # Fetch from the slowest lane: faster lanes skip what they have already done.
        shard.fetched_to = min(known) if len(known) == len(shard.lanes) else None

    def _save_lane(self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane) -> None:
        saved: dict[str, Any] = {"seq": lane.checkpoint, "lanes": len(shard.lanes)}
        if lane.window_start_ms is not None:
            saved["window"] = {"start_ms": lane.window_start_ms, "state": lane.window_state}
        self.store.set_state(self._namespace(mapping), f"{shard.shard_id}/{lane.index}", json_dumps(saved))

    def _start_at_latest(self, mapping: EventSourceMapping) -> None:
        namespace = self._namespace(mapping)
        if self.store.get_state(namespace, "started") is not None:
            return  # resumed: LATEST applies to the mapping's creation only
        stream = mapping.stream
        # Read first, then write: a remote stream's reads may wait out a throttle, which must not hold the
        # store's write lock (the DynamoDB endpoint writes through it meanwhile).
        ends = {
            shard.shard_id: shard.ending
            if shard.ending is not None
            else _last_sequence(stream, shard.shard_id, self._patiently, self._wait_until)
            for shard in mapping._shards.values()
        }
        with self.store.transaction():
            for shard in mapping._shards.values():
                last = ends[shard.shard_id]
                if last is not None:
                    for lane in shard.lanes:
                        lane.checkpoint = last
                        self._save_lane(mapping, shard, lane)
                    shard.fetched_to = last
            self.store.set_state(namespace, "started", str(self.clock.now_ms()))

    # -- reading the stream ---------------------------------------------------------------------

    def _fetch(self, mapping: EventSourceMapping, shard: _Shard, deadline: _Deadline) -> bool:
        if shard.exhausted:
            return False
        # Read ahead while some lane is short of a batch (a lane blocked by a failing item must not starve
        # the others), but never hold more than a bounded backlog for a blocked lane.
        lengths = [len(lane.queue) for lane in shard.lanes]
        if min(lengths) >= mapping.settings.batch_size + _FETCH_LIMIT or max(lengths) >= _BACKLOG_LIMIT:
            return False
        stream = mapping.stream
        pace = getattr(stream, "next_read_ms", None)
        if pace is not None:
            # A remote stream paces its reads: a shard's read rate, and the backoff after a throttled or failed call.
            when, wake = pace(shard.shard_id)
            if when > self.clock.now_ms():
                if wake:
                    deadline.need(when)
                return False
        try:
            page = self._read_page(stream, shard)
        except Exception as exc:
            retry_at = getattr(exc, "retry_at_ms", None)
            if type(retry_at) is not int:
                raise
            # Throttled, or a server or network error: the same position is read again at retry_at.
            deadline.need(retry_at)
            return False
        records = page["Records"]
        # A closed shard read to its end answers without a next iterator.
        shard.exhausted = page.get("NextShardIterator") is None
        if not records:
            return False
        criteria = mapping.settings.filter_criteria
        lanes = shard.lanes
        now = self.clock.now_ms()
        for record in records:
            sequence = int(record["dynamodb"]["SequenceNumber"])
            shard.fetched_to = sequence
            lane = lanes[_lane_of(record, len(lanes))] if len(lanes) > 1 else lanes[0]
            if lane.checkpoint is not None and sequence <= lane.checkpoint:
                continue
            matched = criteria is None or criteria.matches(record)
            created_ms = int(record["dynamodb"].get("ApproximateCreationDateTime", now // 1000)) * 1000
            entry = _Entry(record, sequence, matched, created_ms, _size(record))
            lane.queue.append(entry)
            shard.metrics["records_in"] += 1
            if not matched:
                shard.metrics["filtered"] += 1
            shard.metrics["iterator_age_ms"] = max(0, now - created_ms)
        return True

    def _read_page(self, stream: Any, shard: _Shard) -> dict[str, Any]:
        try:
            if shard.fetched_to is None:
                iterator = stream.get_shard_iterator(shard.shard_id, "TRIM_HORIZON")
            else:
                iterator = stream.get_shard_iterator(shard.shard_id, "AFTER_SEQUENCE_NUMBER", str(shard.fetched_to))
        except Exception as exc:
            if type(exc).__name__ != "TrimmedDataAccessError":
                raise
            # The records after the checkpoint were trimmed (24 h retention): as on AWS they are lost.
            iterator = stream.get_shard_iterator(shard.shard_id, "TRIM_HORIZON")
        page: dict[str, Any] = stream.get_records(iterator, limit=_FETCH_LIMIT)
        return page

    # -- one lane -------------------------------------------------------------------------------

    def _step_lane(self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane, deadline: _Deadline) -> bool:
        settings = mapping.settings
        now = self.clock.now_ms()
        if lane.batch is None:
            if self._skip_filtered(mapping, shard, lane):
                return True
            if settings.tumbling_window_in_seconds:
                if now < lane.final_retry_at_ms:
                    deadline.need(lane.final_retry_at_ms)  # nothing of the next window before this one closes
                    return False
                if self._window_final_due(mapping, shard, lane, deadline):
                    return self._final_window_invoke(mapping, shard, lane)
            if not lane.queue:
                lane.ready_since_ms = None
                return False
            batch = self._form_batch(mapping, lane, now, deadline)
            if batch is None:
                return False
            lane.batch = batch
        batch = lane.batch
        if now < batch.retry_at_ms:
            deadline.need(batch.retry_at_ms)
            return False
        return self._deliver(mapping, shard, lane, batch)

    def _skip_filtered(self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane) -> bool:
        """Filtered-out records at the head of the lane are done: the checkpoint moves past them."""
        if not lane.queue or lane.queue[0].matched or lane.forced_spans:
            return False
        while lane.queue and not lane.queue[0].matched:
            lane.checkpoint = lane.queue.popleft().sequence
        self._save_lane(mapping, shard, lane)
        return True

    def _form_batch(self, mapping: EventSourceMapping, lane: _Lane, now: int, deadline: _Deadline) -> _Batch | None:
        settings = mapping.settings
        if lane.forced_spans:
            return _Batch(span=lane.forced_spans.pop(0))
        window_ms = settings.tumbling_window_in_seconds * 1000
        first_window = _window_of(lane.queue[0].created_ms, window_ms) if window_ms else None
        span = matched = 0
        size = _EVENT_OVERHEAD
        full = False
        for entry in lane.queue:
            if window_ms and _window_of(entry.created_ms, window_ms) != first_window:
                full = True  # a batch never spans two tumbling windows
                break
            if entry.matched:
                if matched == settings.batch_size or (matched and size + entry.size + 1 > PAYLOAD_LIMIT):
                    full = True
                    break
                matched += 1
                size += entry.size + 1
            span += 1
        if matched == 0:
            return None
        full = full or matched == settings.batch_size
        wait_ms = settings.maximum_batching_window_in_seconds * 1000
        if wait_ms and not full:
            if lane.ready_since_ms is None:
                lane.ready_since_ms = now
            ready_at = lane.ready_since_ms + wait_ms
            if now < ready_at:
                deadline.need(ready_at)
                return None
        lane.ready_since_ms = None
        return _Batch(span=span)

    def _deliver(self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane, batch: _Batch) -> bool:
        settings = mapping.settings
        now = self.clock.now_ms()
        entries = [lane.queue[index] for index in range(batch.span)]
        delivered = [entry for entry in entries if entry.matched]
        # Records past their maximum age (or the stream's 24 h retention) are not invoked: they go to the
        # destination with RecordAgeExceeded, and the younger ones of the batch are still delivered (LocalStack's
        # AWS-validated snapshot test test_kinesis_maximum_record_age_exceeded_discard_records, recorded
        # 2025-11-25 on a Kinesis stream: no public recording with a DynamoDB stream exists).
        limit = (
            _RETENTION_MS
            if settings.maximum_record_age_in_seconds == -1
            else settings.maximum_record_age_in_seconds * 1000
        )
        expired = [entry for entry in delivered if now - entry.created_ms > limit]
        if expired:
            self._send_failure(mapping, shard, expired, batch, condition="RecordAgeExceeded")
            shard.metrics["failed"] += len(expired)
            for entry in expired:
                entry.matched = False  # still covered by the batch's span, so the checkpoint passes it
            delivered = [entry for entry in delivered if entry.matched]
            if not delivered:
                self._complete(mapping, shard, lane, batch.span)
                return True
        final = False
        if settings.tumbling_window_in_seconds:
            final = self._closes_window(mapping, shard, lane, entries)
        event = self._event(mapping, shard, lane, [entry.record for entry in delivered], final=final)
        sequence_numbers = [entry.record["dynamodb"]["SequenceNumber"] for entry in delivered]
        batch.attempts += 1
        if batch.attempts > 1:
            shard.metrics["retries"] += 1  # counted when the retry happens, not when it is scheduled
        invocation, verdict = self._invoke(mapping, shard, event, sequence_numbers, batch.attempts)
        batch.last_invocation = invocation
        if verdict.kind == "success":
            self._note_delivered(sequence_numbers)
            shard.metrics["delivered"] += len(delivered)
            if settings.tumbling_window_in_seconds:
                self._keep_window_state(lane, invocation.response, entries, final)
            self._complete(mapping, shard, lane, batch.span)
            return True
        if verdict.kind == "partial":
            assert verdict.checkpoint is not None
            lowest = sequence_numbers.index(verdict.checkpoint)
            self._note_delivered(sequence_numbers[:lowest])
            shard.metrics["delivered"] += lowest
            if lowest > 0:
                # The checkpoint moves to the lowest reported record and everything from it comes again
                # (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html). It comes
                # as a new batch with a fresh retry count: LocalStack's AWS-validated snapshot test
                # test_dynamodb_report_batch_item_failures, recorded 2025-11-25, shows that when the last record
                # of a batch is reported (four more invokes, then a destination record for it alone). For a
                # record in the middle of a batch nothing public is recorded: retrying that record alone (or,
                # with bisection on, the rest of the batch from it) is shardline's own choice.
                position = entries.index(delivered[lowest])
                if settings.tumbling_window_in_seconds:
                    self._keep_window_state(lane, invocation.response, entries[:position], False)
                self._complete(mapping, shard, lane, position, keep_batch=True)
                rest = batch.span - position
                if settings.bisect_batch_on_function_error:
                    lane.batch = _Batch(span=rest)
                else:
                    lane.batch = _Batch(span=1)
                    # The records after it in this batch come again in later batches.
                return True
            # Nothing moved: the batch failed, counted like any other failure (and with bisection on, the
            # batch "from the returned sequence number" is the whole batch: retried, not split).
            return self._failed(mapping, shard, lane, batch, function_error=False, split=False)
        return self._failed(mapping, shard, lane, batch, function_error=invocation.error is not None)

    def _record_invocation(self, record: InvocationRecord) -> None:
        self.invocation_count += 1
        _keep(self.invocations, record, self._history)
        self._notify("invocation", record)

    def _note_delivered(self, sequence_numbers: list[str]) -> None:
        if len(self._delivered) > 1_000_000:
            self._delivered.clear()  # only wait_until_delivered reads it; a long run must not grow forever
        self._delivered.update(sequence_numbers)

    def _failed(
        self,
        mapping: EventSourceMapping,
        shard: _Shard,
        lane: _Lane,
        batch: _Batch,
        *,
        function_error: bool,
        split: bool = True,
    ) -> bool:
        settings = mapping.settings
        batch.function_error = function_error
        matched = [lane.queue[index] for index in range(batch.span) if lane.queue[index].matched]
        if split and settings.bisect_batch_on_function_error and len(matched) > 1:
            # Split in two and retry each half; splitting uses no retry quota ("Error handling" for DynamoDB sources).
            half = matched[(len(matched) + 1) // 2 - 1]
            first_span = [lane.queue[index] for index in range(batch.span)].index(half) + 1
            lane.forced_spans.insert(0, batch.span - first_span)
            lane.batch = _Batch(span=first_span)
            shard.metrics["bisects"] += 1
            return True
        retries = settings.maximum_retry_attempts
        if retries != -1 and batch.attempts > retries:
            with self.store.transaction():  # the failure record and the checkpoint past it, together
                self._send_failure(mapping, shard, matched, batch, condition="RetryAttemptsExhausted")
                self._complete(mapping, shard, lane, batch.span)
            shard.metrics["failed"] += len(matched)
            return True
        delay = min(_BACKOFF_CAP_MS, _BACKOFF_BASE_MS * 2 ** (batch.attempts - 1))
        batch.retry_at_ms = self.clock.now_ms() + delay + self._rng.randrange(0, delay // 10 + 1)
        return True

    def _complete(
        self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane, span: int, *, keep_batch: bool = False
    ) -> None:
        for _ in range(span):
            lane.checkpoint = lane.queue.popleft().sequence
        if not keep_batch:
            lane.batch = None
        self._save_lane(mapping, shard, lane)

    def _invoke(
        self,
        mapping: EventSourceMapping,
        shard: _Shard,
        event: dict[str, Any],
        sequence_numbers: list[str],
        attempt: int,
    ) -> tuple[Invocation, Verdict]:
        """Invoke the function, read its answer as Lambda does (partial batch responses) and log the invoke."""
        settings = mapping.settings
        now = self.clock.now_ms()
        invocation = mapping.invoker.invoke(event, deadline_ms=self._invoke_deadline(mapping))
        shard.metrics["invocations"] += 1
        verdict = interpret_response(
            invocation.response,
            sequence_numbers,
            report_batch_item_failures=settings.reports_item_failures,
            tumbling_window=bool(settings.tumbling_window_in_seconds),
            function_error=str(invocation.error) if invocation.error else None,
        )
        self._record_invocation(
            InvocationRecord(
                mapping=mapping.name,
                shard_id=shard.shard_id,
                event=event,
                invocation=invocation,
                attempt=attempt,
                time_ms=now,
                verdict=verdict.kind,
                reason=verdict.reason,
            )
        )
        return invocation, verdict

    def _invoke_deadline(self, mapping: EventSourceMapping) -> int:
        timeout = getattr(mapping.invoker, "timeout", 3.0)
        return self.clock.now_ms() + round(float(timeout) * 1000)

    # -- events and destinations ----------------------------------------------------------------

    def _event(
        self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane, records: list[dict[str, Any]], *, final: bool
    ) -> dict[str, Any]:
        event: dict[str, Any] = {"Records": records}
        window_s = mapping.settings.tumbling_window_in_seconds
        if window_s:
            start = lane.window_start_ms
            if start is None:
                start = _window_of(records[0]["dynamodb"]["ApproximateCreationDateTime"] * 1000, window_s * 1000)
                lane.window_start_ms = start
            event["window"] = {"start": iso_z(start), "end": iso_z(start + window_s * 1000)}
            event["state"] = lane.window_state
            event["shardId"] = shard.shard_id
            event["eventSourceARN"] = mapping.stream_arn
            event["isFinalInvokeForWindow"] = final
            event["isWindowTerminatedEarly"] = (
                final and shard.exhausted and self.clock.now_ms() < start + window_s * 1000
            )
        return event

    def _send_failure(
        self, mapping: EventSourceMapping, shard: _Shard, entries: list[_Entry], batch: _Batch, *, condition: str
    ) -> None:
        invocation = batch.last_invocation
        record: dict[str, Any] = {
            "requestContext": {
                "requestId": invocation.request_id if invocation else str(uuid.UUID(int=self._rng.getrandbits(128))),
                "functionArn": mapping.invoker.function_arn,
                "condition": condition,
                "approximateInvokeCount": batch.attempts,
            }
        }
        if condition != "RecordAgeExceeded":
            record["responseContext"] = {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": UNHANDLED if batch.function_error else None,
            }
        record["version"] = "1.0"
        record["timestamp"] = iso_z(self.clock.now_ms(), millis=True)
        record["DDBStreamBatchInfo"] = {
            "shardId": shard.shard_id,
            "startSequenceNumber": entries[0].record["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": entries[-1].record["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": iso_z(entries[0].created_ms),
            "approximateArrivalOfLastRecord": iso_z(entries[-1].created_ms),
            "batchSize": len(entries),
            "streamArn": mapping.stream_arn,
        }
        sent = record
        if getattr(mapping.destination, "wants_payload", False):
            # The S3 form carries the invocation's event too ("Retaining records of asynchronous invocations"
            # / on-failure destinations for stream sources: an S3 destination gets the whole invocation).
            sent = {**record, "payload": {"Records": [entry.record for entry in entries]}}
        try:
            mapping.destination.send(sent)
        except ShardlineError:
            raise
        except Exception as exc:
            # The batch is not checkpointed past: run again and the record is sent again, nothing is lost.
            raise DestinationError(
                f"mapping {mapping.name}: the on-failure destination ({type(mapping.destination).__name__})"
                f" failed to take a record: {describe_exception(exc)}; fix it and run again"
            ) from exc
        self.destination_count += 1
        _keep(self.destination, record, self._history)
        self._notify("destination", record)

    # -- tumbling windows -----------------------------------------------------------------------

    def _closes_window(self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane, entries: list[_Entry]) -> bool:
        """A batch is the window's final invoke when the window is over and nothing of it is left after."""
        window_ms = mapping.settings.tumbling_window_in_seconds * 1000
        start = _window_of(entries[0].created_ms, window_ms)
        rest = itertools.islice(lane.queue, len(entries), None)
        left_in_window = any(_window_of(entry.created_ms, window_ms) == start for entry in rest)
        over = self.clock.now_ms() >= start + window_ms or (shard.exhausted and len(lane.queue) == len(entries))
        return over and not left_in_window

    def _window_final_due(self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane, deadline: _Deadline) -> bool:
        """An open window with nothing left to deliver gets its final invoke once it ends (or its shard does)."""
        if lane.window_start_ms is None:
            return False
        window_ms = mapping.settings.tumbling_window_in_seconds * 1000
        end = lane.window_start_ms + window_ms
        if any(_window_of(entry.created_ms, window_ms) == lane.window_start_ms for entry in lane.queue):
            return False
        if self.clock.now_ms() >= end or shard.exhausted:
            return True
        deadline.need(end)
        return False

    def _final_window_invoke(self, mapping: EventSourceMapping, shard: _Shard, lane: _Lane) -> bool:
        lane.final_attempts += 1
        if lane.final_attempts > 1:
            shard.metrics["retries"] += 1
        event = self._event(mapping, shard, lane, [], final=True)
        _, verdict = self._invoke(mapping, shard, event, [], lane.final_attempts)
        retries = mapping.settings.maximum_retry_attempts
        if verdict.kind != "success" and (retries == -1 or lane.final_attempts <= retries):
            # The window's final invoke failed: retried with the same backoff as a batch.
            delay = min(_BACKOFF_CAP_MS, _BACKOFF_BASE_MS * 2 ** (lane.final_attempts - 1))
            lane.final_retry_at_ms = self.clock.now_ms() + delay
            return True
        # Done (or retries ran out: the window's state is dropped and the shard moves on).
        if verdict.kind != "success":
            shard.metrics["windows_dropped"] += 1
        lane.final_attempts = 0
        lane.final_retry_at_ms = 0
        lane.window_start_ms = None
        lane.window_state = {}
        self._save_lane(mapping, shard, lane)
        return True

    def _keep_window_state(self, lane: _Lane, response: Any, entries: list[_Entry], final: bool) -> None:
        if final:
            lane.window_start_ms = None
            lane.window_state = {}
            return
        state = response.get("state") if isinstance(response, Mapping) else None
        lane.window_state = dict(state) if isinstance(state, Mapping) else {}


def _keep(kept: list[Any], item: Any, history: int | None) -> None:
    kept.append(item)
    if history is not None and len(kept) >= 2 * history:
        del kept[:-history]  # in chunks, so that keeping the last `history` costs O(1) per item


def _lane_idle(lane: _Lane) -> bool:
    return not lane.queue and lane.batch is None and lane.window_start_ms is None


def _lane_of(record: Mapping[str, Any], lanes: int) -> int:
    """Which lane a record goes to: a hash of its partition key, so each item keeps its order."""
    keys = record["dynamodb"]["Keys"]
    first = next(iter(keys.items()))
    digest = blake2b(json.dumps(first, sort_keys=True).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % lanes


def _window_of(ms: int, window_ms: int) -> int:
    return ms - ms % window_ms


def _last_sequence(
    stream: Any, shard_id: str, patiently: Callable[[Callable[[], Any]], Any], wait_until: Callable[[int], None]
) -> int | None:
    """The sequence number of an open shard's newest record (where LATEST starts), or None when it has none.

    A remote stream's reads are paced as the poller paces them (`next_read_ms`), each call waits out its own
    throttles (`patiently`), and an empty page ends the read only after a few in a row: GetRecords may take
    several calls to reach the part of a shard that holds records ("GetRecords", DynamoDB Streams API reference).
    """
    pace = getattr(stream, "next_read_ms", None)
    empty_pages = _REMOTE_EMPTY_PAGES if pace is not None else 1
    iterator = patiently(lambda: stream.get_shard_iterator(shard_id, "TRIM_HORIZON"))
    last = None
    empty = 0
    while iterator is not None and empty < empty_pages:
        if pace is not None:
            wait_until(pace(shard_id)[0])
        page = patiently(partial(stream.get_records, iterator, limit=_FETCH_LIMIT))
        if page["Records"]:
            last = int(page["Records"][-1]["dynamodb"]["SequenceNumber"])
            empty = 0
        else:
            empty += 1
        iterator = page.get("NextShardIterator")
    return last


def _size(record: Mapping[str, Any]) -> int:
    """The record's share of the event payload (compact JSON)."""
    try:
        return len(json.dumps(record, separators=(",", ":")))
    except TypeError:  # Decimals from a reader that parses exactly
        return len(json_dumps(record, separators=(",", ":")))
