"""A fuzzer of the event source mapping emulator: in-process handlers that return or raise anything.

Each example writes a few items, adds a mapping with drawn settings and a handler whose answers are drawn
from a wide strategy (odd objects, deep nesting, NaN, bytes, sets, huge strings, BaseExceptions, exceptions
whose str() fails, partial responses naming random identifiers), and runs the pipeline to idle on a virtual
clock. It must return (or raise a shardline error), and Lambda's delivery rules must hold: every record is
delivered or sent to the on-failure destination, exactly one of the two, after exactly MaximumRetryAttempts + 1
invokes when retries run out; nothing finished is invoked again; each item's records come in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from conftest import FUZZ, returns_or_raises_shardline_error, stream_records
from hypothesis import given
from hypothesis import strategies as st

from shardline.local import Pipeline, Store
from shardline.testing import VirtualClock

Action = Callable[[dict[str, Any]], Any]


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() is broken")


class StrNotAString(Exception):
    def __str__(self) -> Any:
        return 42  # noqa: PLE0307 - the point: str() of it raises TypeError


class NotAnException(BaseException):
    pass


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr() is broken")


class BrokenMapping(dict[str, Any]):
    def items(self) -> Any:
        raise RuntimeError("items() is broken")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("iteration is broken")


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def raising(exc: BaseException) -> Action:
    def act(event: dict[str, Any]) -> Any:
        raise exc

    act.__name__ = f"raise {type(exc).__name__}"
    return act


def returning(make: Callable[[], Any], name: str) -> Action:
    def act(event: dict[str, Any]) -> Any:
        return make()

    act.__name__ = f"return {name}"
    return act


async def _coroutine() -> None:
    return None


def _generator() -> Iterator[int]:
    yield 1


ODD_ACTIONS: list[Action] = [
    returning(lambda: None, "None"),
    returning(dict, "{}"),
    returning(list, "[]"),
    returning(lambda: {"batchItemFailures": []}, "no failures"),
    returning(lambda: {"batchItemFailures": None}, "null failures"),
    returning(lambda: {"seen": {1, 2}}, "a set"),
    returning(lambda: b"\x00\xff", "bytes"),
    returning(lambda: bytearray(b"x"), "a bytearray"),
    returning(lambda: {"total": Decimal("12345678901234567890.5")}, "a Decimal"),
    returning(lambda: [Decimal("NaN")], "a Decimal NaN"),
    returning(lambda: {"value": math.nan}, "a NaN"),
    returning(lambda: [math.inf], "an infinity"),
    returning(BadRepr, "an object with a broken repr"),
    returning(lambda: BrokenMapping(a=1), "a mapping whose items() raise"),
    returning(lambda: nested(5000), "a list nested 5000 deep"),
    returning(lambda: nested(900), "a list nested 900 deep"),
    returning(lambda: "x" * (6 * 1024 * 1024 + 1), "a string over 6 MB"),
    returning(_generator, "a generator"),
    returning(_coroutine, "a coroutine"),
    returning(lambda: ("a", 1), "a tuple"),
    returning(lambda: {"batchItemFailures": "everything"}, "failures as a string"),
    returning(lambda: {"batchItemFailures": [5, None]}, "failures that are not objects"),
    returning(lambda: {"batchItemFailures": [{"itemIdentifier": [1]}]}, "an identifier that is a list"),
    returning(lambda: {"batchItemFailures": [{"itemIdentifier": {"a": 1}}]}, "an identifier that is an object"),
    returning(lambda: {"batchItemFailures": [{"foo": None}]}, "a bad key name"),
    returning(lambda: {"batchItemFailures": [{"itemIdentifier": ""}]}, "an empty identifier"),
    returning(lambda: {("a", 1): 1}, "a tuple key"),
    returning(lambda: "\ud800", "a lone surrogate"),
    returning(lambda: {"state": {"n": 1}}, "window state"),
    returning(lambda: {"state": "not an object"}, "window state that is a string"),
    raising(ValueError("bad record")),
    raising(BrokenStr()),
    raising(StrNotAString()),
    raising(ValueError("\ud800 lone surrogate")),
    raising(GeneratorExit()),
    raising(NotAnException("not an Exception")),
    raising(SystemExit(3)),
    raising(SystemExit("bye")),
    raising(SystemExit(None)),
    raising(RecursionError()),
    raising(StopIteration()),
]


def reporting(indices: list[int]) -> Action:
    """A partial batch response naming the records at ``indices`` of the batch (modulo its size)."""

    def act(event: dict[str, Any]) -> Any:
        records = event["Records"]
        if not records:
            return {"state": {}}
        numbers = [records[index % len(records)]["dynamodb"]["SequenceNumber"] for index in indices]
        return {"batchItemFailures": [{"itemIdentifier": number} for number in numbers]}

    act.__name__ = f"report {indices}"
    return act


def reporting_anything(identifiers: list[Any]) -> Action:
    def act(event: dict[str, Any]) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": identifier} for identifier in identifiers]}

    act.__name__ = f"report {identifiers!r}"
    return act


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)

actions = st.one_of(
    st.sampled_from(ODD_ACTIONS),
    st.lists(st.integers(0, 10), min_size=1, max_size=3).map(reporting),
    st.lists(json_values, min_size=1, max_size=3).map(reporting_anything),
)

settings = st.fixed_dictionaries(
    {
        "batch_size": st.integers(1, 4),
        "maximum_retry_attempts": st.integers(0, 2),
        "bisect_batch_on_function_error": st.booleans(),
        "parallelization_factor": st.integers(1, 2),
        "function_response_types": st.sampled_from([(), ("ReportBatchItemFailures",)]),
        "tumbling_window_in_seconds": st.sampled_from([0, 0, 0, 2]),
    }
)


class Capture:
    """An on-failure destination that keeps the records it was sent, with the batch's records."""

    wants_payload = True

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, record: dict[str, Any]) -> None:
        self.sent.append(record)


class Handler:
    def __init__(self, script: list[Action]) -> None:
        self.script = script
        self.calls = 0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        action = self.script[self.calls % len(self.script)]
        self.calls += 1
        return action(event)


@FUZZ
@given(
    script=st.lists(actions, min_size=1, max_size=6),
    options=settings,
    keys=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8),
)
def test_fuzz_the_emulator_with_odd_handlers(script: list[Action], options: dict[str, Any], keys: list[str]) -> None:
    clock = VirtualClock("2026-11-27T06:00:00Z")
    with Store(":memory:", clock=clock) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        for index, key in enumerate(keys):
            table.put_item({"pk": key, "n": index})
            clock.advance(700)
        records = stream_records(table)
        order = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(records)}
        key_of = {record["dynamodb"]["SequenceNumber"]: record["dynamodb"]["Keys"]["pk"]["S"] for record in records}
        destination = Capture()
        pipeline = Pipeline(store)
        events: list[tuple[str, Any]] = []
        pipeline.subscribe(lambda kind, payload: events.append((kind, payload)))
        handler = Handler(script)
        pipeline.add_mapping(table, handler, on_failure=destination, **options)

        made = returns_or_raises_shardline_error(lambda: pipeline.run_until_idle(max_invocations=5000))
        assert made is not None, "the pipeline raised a shardline error for what a function did"
        assert made < 5000, "the pipeline did not go idle"
        assert pipeline.run_until_idle() == 0
        check_delivery(pipeline, events, destination, order, key_of, options)


def check_delivery(
    pipeline: Pipeline,
    events: list[tuple[str, Any]],
    destination: Capture,
    order: dict[str, int],
    key_of: dict[str, str],
    options: dict[str, Any],
) -> None:
    """Replay what happened, in order: invokes and destination records."""
    finished: set[str] = set()  # delivered, or sent to the destination
    delivered: set[str] = set()
    sent: set[str] = set()
    first_seen: list[str] = []
    failures = iter(destination.sent)
    for kind, payload in events:
        if kind == "destination":
            failure = next(failures)
            numbers = [record["dynamodb"]["SequenceNumber"] for record in failure["payload"]["Records"]]
            assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
            # Retries ran out: the batch was invoked MaximumRetryAttempts + 1 times.
            assert failure["requestContext"]["approximateInvokeCount"] == options["maximum_retry_attempts"] + 1
            assert failure["DDBStreamBatchInfo"]["batchSize"] == len(numbers)
            assert finished.isdisjoint(numbers), "a finished record was sent to the destination"
            sent.update(numbers)
            finished.update(numbers)
            continue
        invocation = payload
        assert isinstance(str(invocation.error), str)  # every error can be shown
        numbers = invocation.sequence_numbers
        assert numbers == sorted(numbers, key=order.__getitem__)  # a batch is in stream order
        assert finished.isdisjoint(numbers), "a finished record was invoked again"
        first_seen.extend(number for number in numbers if number not in first_seen)
        if invocation.error is not None:
            assert invocation.verdict == "failure"
        if invocation.verdict == "success":
            done = numbers
        elif invocation.verdict == "partial":
            reported = [item["itemIdentifier"] for item in invocation.response["batchItemFailures"]]
            done = numbers[: min(numbers.index(number) for number in reported)]
        else:
            done = []
        delivered.update(done)
        finished.update(done)
    assert next(failures, None) is None
    assert delivered.isdisjoint(sent), "a record was both delivered and sent to the destination"
    assert delivered | sent == set(order), "a record was neither delivered nor sent to the destination"
    # Each item's records were first invoked in the order they were written (with one lane, all records).
    for key in set(key_of.values()):
        mine = [number for number in first_seen if key_of[number] == key]
        assert mine == sorted(mine, key=order.__getitem__)
    if options["parallelization_factor"] == 1:
        assert first_seen == sorted(first_seen, key=order.__getitem__)
    totals = dict.fromkeys(("records_in", "delivered", "failed"), 0)
    for shards in pipeline.metrics().values():
        for shard in shards.values():
            for name in totals:
                totals[name] += shard[name]
    assert totals["records_in"] == totals["delivered"] + totals["failed"] == len(order)
