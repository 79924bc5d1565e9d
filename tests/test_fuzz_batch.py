"""Fuzzers of the batch runners: mutated events and handlers that raise, return odd objects or break
their record. Each run returns a well-formed partial batch response, or raises a shardline error before
any handler ran (or BatchFailedError when asked to)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable, Generator
from typing import Any

from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

import shardline
from shardline import BatchFailedError, BatchResult, StreamEvent, StreamRecord, arun_batch, run_batch

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-27T00:00:00.000"
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"

# -- inputs -------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


def nested(depth: int, leaf: Any, *, kind: str) -> Any:
    """A value ``depth`` levels deep: plain JSON lists, or AttributeValue L/M wrappers."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "json" else ({"L": [value]} if kind == "L" else {"M": {"m": value}})
    return value


deep = st.integers(1, 3000).flatmap(
    lambda depth: st.sampled_from(["json", "L", "M"]).map(lambda kind: nested(depth, {"S": "x"}, kind=kind))
)

# Key values: few distinct ones, so records share items; every AttributeValue type, valid or not.
key_values = st.one_of(
    st.sampled_from([{"S": "a"}, {"S": "b"}, {"N": "1"}, {"N": "1.0"}, {"B": "AA=="}]),
    st.sampled_from(
        [
            {"SS": ["a", "b"]},
            {"NS": ["1", "2.0"]},
            {"BS": ["AA==", "AQ=="]},
            {"L": [{"S": "a"}, {"SS": ["x"]}]},
            {"M": {"k": {"NS": ["1"]}}},
            {"NULL": True},
            {"BOOL": False},
            {"N": "twelve"},
            {"S": "a", "N": "1"},
            {},
        ]
    ),
    deep,
    json_values,
)

# What a mutation may put in place of a field: anything JSON, or something deep.
replacements = st.one_of(json_values, deep, st.sampled_from([{}, [], "", "INSERT", "REMOVE", None]))

# Fields a mutation may change or delete. The sequence number is among them: a record without one
# cannot be answered for, and the runner must say so before running anything.
DDB_FIELDS = [
    ("eventID",),
    ("eventName",),
    ("eventSourceARN",),
    ("userIdentity",),
    ("dynamodb",),
    ("dynamodb", "Keys"),
    ("dynamodb", "NewImage"),
    ("dynamodb", "OldImage"),
    ("dynamodb", "SizeBytes"),
    ("dynamodb", "StreamViewType"),
    ("dynamodb", "ApproximateCreationDateTime"),
    ("dynamodb", "SequenceNumber"),
]
KINESIS_FIELDS = [("kinesis",), ("kinesis", "data"), ("kinesis", "sequenceNumber"), ("eventSourceARN",)]


def sequence_of(index: int, kinesis: bool) -> str:
    return str(10**50 + index) if kinesis else str(100 + index)


def change_record(index: int, keys: Any) -> dict[str, Any]:
    return {
        "eventID": f"{index:032x}",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": keys},
            "NewImage": {"pk": keys, "n": {"N": str(index)}},
            "OldImage": {"pk": keys, "n": {"N": "0"}},
            "SequenceNumber": sequence_of(index, kinesis=False),
            "SizeBytes": 20,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": ARN,
    }


def kinesis_record(index: int, data: str) -> dict[str, Any]:
    return {
        "kinesis": {"data": data, "sequenceNumber": sequence_of(index, kinesis=True), "partitionKey": "p"},
        "eventSource": "aws:kinesis",
        "eventSourceARN": KINESIS_ARN,
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


@st.composite
def kinesis_data(draw: st.DrawFn, index: int, keys: Any) -> str:
    change = {k: v for k, v in change_record(index, keys).items() if k not in ("eventSourceARN", "eventVersion")}
    change["tableName"] = "Orders"
    del change["dynamodb"]["SequenceNumber"]
    choice = draw(st.sampled_from(["change", "deep text", "json", "not base64", "bad utf-8"]))
    if choice == "change":
        try:
            return b64(json.dumps(change))
        except RecursionError:  # Keys nested deeper than json writes: the deep text below stands in
            choice = "deep text"
    if choice == "deep text":  # nested past any recursion limit: the text itself is small
        depth = draw(st.integers(900, 20_000))
        return b64("[" * depth + "]" * depth)
    if choice == "json":
        return b64(json.dumps(draw(json_values)))
    if choice == "not base64":
        return "@@not base64@@"
    return base64.b64encode(b"\xff\xfe{").decode()


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A batch of DynamoDB Streams and Kinesis records, some of them mutated."""
    count = draw(st.integers(0, 7))
    records: list[dict[str, Any]] = []
    for index in range(count):
        keys = draw(key_values)
        kinesis = draw(st.booleans()) and draw(st.booleans())  # one in four
        record = kinesis_record(index, draw(kinesis_data(index, keys))) if kinesis else change_record(index, keys)
        for _ in range(draw(st.integers(0, 2))):
            path = draw(st.sampled_from(KINESIS_FIELDS if kinesis else DDB_FIELDS))
            target: Any = record
            for step in path[:-1]:
                target = target.get(step) if isinstance(target, dict) else None
            if isinstance(target, dict):
                if draw(st.booleans()):
                    target.pop(path[-1], None)
                else:
                    target[path[-1]] = draw(replacements)
        records.append(record)
    return {"Records": records}


# -- handlers -----------------------------------------------------------------------------------------------


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() of this exception fails")

    def __repr__(self) -> str:
        raise RuntimeError("repr() of this exception fails")


class Halt(BaseException):
    """A library's own BaseException: not a request to stop the process."""


class GetattrRaises:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no {name}")


class CloseRaises:
    """An awaitable a synchronous handler returns; closing it fails."""

    def __await__(self) -> Generator[None, None, None]:
        yield

    def close(self) -> None:
        raise RuntimeError("close() fails")


class Opaque:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("== fails")

    def __bool__(self) -> bool:
        raise RuntimeError("bool() fails")

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        raise RuntimeError("repr() fails")


class Pause:
    """A sleep-free awaitable: one bare yield, which the event loop treats as a turn."""

    def __await__(self) -> Generator[None, None, None]:
        yield


async def never_awaited() -> None:
    raise AssertionError("the runner must not run what a synchronous handler returned")


EXCEPTIONS: list[Callable[[], BaseException]] = [
    lambda: ValueError("bad"),
    lambda: KeyError("k"),
    lambda: RecursionError("deep"),
    BrokenStr,
    Halt,
    lambda: StopIteration(1),
    lambda: shardline.EventShapeError("the handler's own", "Records[0]"),
]
RESULTS: list[Callable[[], object]] = [
    lambda: 1,
    lambda: "text",
    GetattrRaises,
    Opaque,
    CloseRaises,
    never_awaited,
    lambda: {"batchItemFailures": [{"itemIdentifier": "1"}]},
]
PROPERTIES = [
    "keys",
    "new_image",
    "old_image",
    "event_name",
    "event_id",
    "table_name",
    "sequence_number",
    "changed_attributes",
    "approximate_creation_time",
    "is_ttl_delete",
    "stream_record",
]

# A behaviour: ("ok",), ("raise", i), ("return", i), ("read", name), ("clear",), ("break", key)
behaviours = st.one_of(
    st.just(("ok", 0)),
    st.tuples(st.just("raise"), st.integers(0, len(EXCEPTIONS) - 1)),
    st.tuples(st.just("return"), st.integers(0, len(RESULTS) - 1)),
    st.tuples(st.just("read"), st.sampled_from(PROPERTIES)),
    st.tuples(st.just("clear"), st.just(0)),
    st.tuples(st.just("break"), st.sampled_from(["kinesis", "dynamodb", "eventName"])),
)


class Tracker:
    """Runs each record's behaviour and notes, independently of the runner, which records ran and which
    failed (raised, or returned an awaitable from a synchronous handler)."""

    def __init__(self, event: dict[str, Any], plan: list[tuple[str, Any]]) -> None:
        self.index = {id(raw): position for position, raw in enumerate(event["Records"])}
        self.plan = plan
        self.ran: list[int] = []
        self.failed: set[int] = set()

    def act(self, record: StreamRecord) -> object:
        position = self.index[id(record.raw)]
        self.ran.append(position)
        kind, detail = self.plan[position % len(self.plan)]
        try:
            if kind == "raise":
                raise EXCEPTIONS[detail]()
            if kind == "return":
                return RESULTS[detail]()
            if kind == "read":
                value = getattr(record, detail)
                if isinstance(value, dict):
                    dict(value)  # decode a lazy image in full
            elif kind == "clear":
                record.raw.clear()  # the runner must still log and report it by what it read before
                raise ValueError("cleared")
            elif kind == "break":
                record.raw[detail] = {"odd": object()}
                raise ValueError("broke it")
        except BaseException:
            self.failed.add(position)
            raise
        return None

    def sync_handler(self, record: StreamRecord) -> object:
        outcome = self.act(record)
        if hasattr(type(outcome), "__await__"):
            self.failed.add(self.index[id(record.raw)])  # the runner fails it: an async result, not run
        return outcome

    async def async_handler(self, record: StreamRecord) -> None:
        await Pause()
        outcome = self.act(record)
        if asyncio.iscoroutine(outcome):
            outcome.close()  # an async handler's return value is not the runner's business
        await asyncio.sleep(0)


class QuietLogger:
    def info(self, *args: Any, **kwargs: Any) -> None: ...
    def warning(self, *args: Any, **kwargs: Any) -> None: ...
    def error(self, *args: Any, **kwargs: Any) -> None: ...
    def exception(self, *args: Any, **kwargs: Any) -> None: ...


class RaisingLogger:
    def __getattr__(self, name: str) -> Any:
        def log(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError(f"logger.{name} fails")

        return log


def _silent() -> logging.Logger:
    logger = logging.getLogger("shardline.fuzz")
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    return logger


loggers = st.sampled_from([None, "quiet", "raising", "silent"])


def make_logger(name: str | None) -> Any:
    return {None: None, "quiet": QuietLogger(), "raising": RaisingLogger(), "silent": _silent()}[name]


def broken_hook(result: BatchResult) -> None:
    raise Halt  # a hook's BaseException does not lose the response either


# -- the checks ---------------------------------------------------------------------------------------------


def delivered_numbers(event: dict[str, Any]) -> list[str] | None:
    """Every record's sequence number as the event carries it, read here independently of shardline;
    None when one is missing or not a non-empty string (the batch cannot be answered for)."""
    numbers = []
    for raw in event["Records"]:
        if "kinesis" in raw:
            holder, name = raw["kinesis"], "sequenceNumber"
        else:
            holder, name = raw.get("dynamodb"), "SequenceNumber"
        number = holder.get(name) if isinstance(holder, dict) else None
        if type(number) is not str or not number:
            return None
        numbers.append(number)
    return numbers


def check_result(
    outcome: Any,
    numbers: list[str] | None,
    tracker: Tracker,
    policy: str,
    *,
    ordered_run: bool,
    total: bool,
) -> None:
    """The run's outcome against what the handlers did, as the tracker saw it."""
    if numbers is None or outcome is None:
        # Raised a shardline error other than BatchFailedError: only for a batch it cannot answer for,
        # and before any handler ran.
        assert numbers is None
        assert outcome is None
        assert tracker.ran == [], "an event error must come before any handler runs"
        return
    count = len(numbers)
    if isinstance(outcome, BatchFailedError):
        assert total
        result = outcome.result
        assert result.all_failed
    else:
        result = outcome
        assert not (total and result.all_failed), "raise_on_total_failure raises"
    assert isinstance(result, BatchResult)
    assert set(result.response) == {"batchItemFailures"}
    ran = set(tracker.ran)
    assert len(ran) == len(tracker.ran), "no record runs twice"
    failed = tracker.failed
    assert {tracker.index[id(failure.record.raw)] for failure in result.failed} == failed
    assert len(result.failed) == len(failed)
    if policy == "continue":
        assert ran == set(range(count))
        expected = sorted(failed)
    else:
        first = min(failed | (set(range(count)) - ran), default=count)
        expected = list(range(first, count))
        if ordered_run:  # the synchronous runner stops at the first failure
            assert tracker.ran == list(range(min(first + 1, count)))
    # Named by sequence number, in stream order: exactly the records the policy reports.
    assert result.response["batchItemFailures"] == [{"itemIdentifier": numbers[index]} for index in expected]
    assert result.checkpoint == (numbers[expected[0]] if expected else None)


def run_sync(event: Any, tracker: Tracker, policy: str, logger: Any, hook: Any, total: bool) -> Any:
    try:
        return run_batch(
            event,
            tracker.sync_handler,
            on_failure=policy,  # type: ignore[arg-type]
            logger=logger,
            on_result=hook,
            raise_on_total_failure=total,
        )
    except BatchFailedError as exc:
        return exc


@FUZZ
@given(
    event=events(),
    plan=st.lists(behaviours, min_size=1, max_size=6),
    policy=st.sampled_from(["stop", "continue"]),
    logger=loggers,
    hook=st.sampled_from([None, broken_hook]),
    total=st.booleans(),
    wrap=st.booleans(),
)
def test_fuzz_run_batch(
    event: dict[str, Any],
    plan: list[tuple[str, Any]],
    policy: str,
    logger: str | None,
    hook: Any,
    total: bool,
    wrap: bool,
) -> None:
    tracker = Tracker(event, plan)

    def call() -> Any:
        source = StreamEvent(event) if wrap else event
        return run_sync(source, tracker, policy, make_logger(logger), hook, total)

    numbers = delivered_numbers(event)
    outcome = returns_or_raises_shardline_error(call)
    check_result(outcome, numbers, tracker, policy, ordered_run=True, total=total)


@FUZZ
@given(
    event=events(),
    plan=st.lists(behaviours, min_size=1, max_size=6),
    policy=st.sampled_from(["stop", "continue"]),
    logger=loggers,
    concurrency=st.integers(1, 4),
    total=st.booleans(),
)
def test_fuzz_arun_batch(
    event: dict[str, Any],
    plan: list[tuple[str, Any]],
    policy: str,
    logger: str | None,
    concurrency: int,
    total: bool,
) -> None:
    tracker = Tracker(event, plan)

    async def run() -> Any:
        try:
            return await arun_batch(
                event,
                tracker.async_handler,
                on_failure=policy,  # type: ignore[arg-type]
                concurrency=concurrency,
                logger=make_logger(logger),
                raise_on_total_failure=total,
            )
        except BatchFailedError as exc:
            return exc

    numbers = delivered_numbers(event)
    outcome = returns_or_raises_shardline_error(lambda: asyncio.run(run()))
    check_result(outcome, numbers, tracker, policy, ordered_run=concurrency == 1, total=total)


@FUZZ
@given(event=events(), concurrency=st.integers(2, 4))
def test_fuzz_async_records_of_one_item_never_overlap(event: dict[str, Any], concurrency: int) -> None:
    """Whatever the Keys hold (sets, lists, maps, garbage, nesting past the recursion limit), the asyncio
    runner runs every record, and two records of one table with the same Keys never at once, in stream
    order."""
    active: dict[object, int] = {}
    order: dict[object, list[int]] = {}
    overlaps: list[object] = []
    index = {id(raw): position for position, raw in enumerate(event["Records"])}

    def lane(record: StreamRecord) -> object:
        """Records with the same table and the same Keys as delivered: one item, whatever the runner
        makes of those Keys."""
        try:
            return json.dumps([record.table_name, record.stream_record["dynamodb"]["Keys"]], sort_keys=True)
        except Exception:  # noqa: BLE001 - not obviously the twin of another record: a lane of its own
            return ("?", index[id(record.raw)])

    async def handle(record: StreamRecord) -> None:
        key = lane(record)
        if active.get(key):
            overlaps.append(key)
        active[key] = active.get(key, 0) + 1
        await Pause()
        await Pause()
        order.setdefault(key, []).append(index[id(record.raw)])
        active[key] -= 1

    async def run() -> Any:
        return await arun_batch(event, handle, concurrency=concurrency, logger=QuietLogger())

    numbers = delivered_numbers(event)
    result = returns_or_raises_shardline_error(lambda: asyncio.run(run()))
    assert (result is None) == (numbers is None)
    if result is None or numbers is None:
        return
    assert result.response == {"batchItemFailures": []}
    assert sorted(position for positions in order.values() for position in positions) == list(range(len(numbers)))
    assert overlaps == []
    assert all(positions == sorted(positions) for positions in order.values())
