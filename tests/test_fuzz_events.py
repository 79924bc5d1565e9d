"""Fuzzers of the event views and the event validator: real events (DynamoDB Streams, Kinesis, Time to Live,
tumbling windows) mutated anywhere, inside Kinesis data too, with values JSON gives and values only Python
builds (huge ints, Decimals with any exponent, lone surrogates, shared and deeply nested values).

Every property of StreamEvent and StreamRecord returns, or raises a shardline error; validate_event never
raises, lists a bounded number of problems, and finds none only in events StreamEvent reads in full.
"""

from __future__ import annotations

import base64
import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from conftest import FUZZ, load_fixture, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline import ShardlineError, StreamEvent, StreamRecord, json_dumps
from shardline._events import sequence_numbers
from shardline.testing import validate_event
from shardline.testing._validate import MAX_PROBLEMS

# A failing example that shares one list between many places prints as megabytes: let hypothesis print it.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")
FIXTURES = [
    "sam-dynamodb-update.json",
    "seed-event.json",
    "events-ttl-delete.json",
    "events-tumbling-window.json",
    "events-kinesis-dynamodb.json",
]
EVENTS = {name: load_fixture(name) for name in FIXTURES}

RECORD_PROPERTIES = [
    "raw",
    "stream_record",
    "is_kinesis",
    "event_id",
    "event_name",
    "event_version",
    "event_source",
    "aws_region",
    "event_source_arn",
    "table_name",
    "user_identity",
    "is_ttl_delete",
    "sequence_number",
    "size_bytes",
    "view_type",
    "approximate_creation_time",
    "keys",
    "new_image",
    "old_image",
    "changed_attributes",
]
EVENT_PROPERTIES = [
    "records",
    "is_tumbling_window",
    "window_start",
    "window_end",
    "state",
    "shard_id",
    "event_source_arn",
    "is_final_invoke_for_window",
    "is_window_terminated_early",
]


def outcome(call: Any) -> tuple[str, str]:
    """What ``call`` did: ("ok", the type of its value) or ("error", the shardline error's message)."""
    try:
        value = call()
    except ShardlineError as exc:
        return ("error", str(exc))
    return ("ok", type(value).__name__)


def read_record(record: StreamRecord) -> list[tuple[str, str]]:
    """Every property of ``record``, images read in full: what each did (a value, or a shardline error)."""
    outcomes = [outcome(lambda name=name: getattr(record, name)) for name in RECORD_PROPERTIES]
    outcomes.extend(
        outcome(lambda image=image: dict(getattr(record, image) or {})) for image in ("new_image", "old_image")
    )
    outcomes.append(outcome(lambda: record.new_image_as(dict)))
    outcomes.append(("repr", repr(record)))
    return outcomes


def read_event(event: StreamEvent) -> None:
    for name in EVENT_PROPERTIES:
        returns_or_raises_shardline_error(lambda name=name: getattr(event, name))
    repr(event)
    for record in event:
        read_record(record)
    returns_or_raises_shardline_error(lambda: sequence_numbers(event.records))


# -- mutations ------------------------------------------------------------------------------------------------


def nested_av(depth: int) -> Any:
    value: Any = {"S": "x"}
    for _ in range(depth):
        value = {"L": [value]}
    return value


def shared_av(depth: int, width: int) -> Any:
    value: Any = {"N": "1"}
    for _ in range(depth):
        value = {"L": [value] * width}
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
python_only = st.one_of(
    st.builds(lambda digits: 10**digits, st.sampled_from([40, 4301, 100_001])),
    st.builds(lambda digits: -(10**digits), st.sampled_from([40, 100_001])),
    st.sampled_from(
        [
            Decimal("1E+400000"),
            Decimal("1E+999990"),
            Decimal("-1E+999999999"),
            Decimal("1E-999999999"),
            Decimal("NaN"),
            Decimal("0e" + "9" * 17),
            "\ud800",
            "x\udfff",
            b"\x00\x01",
            (1, 2),
        ]
    ),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=4),
)
special = st.sampled_from(
    [
        {"S": "\ud800"},
        {"SS": ["a", "\udc00"]},
        {"N": "0e" + "9" * 40},
        {"N": "1e" + "9" * 40},
        {"\ud800": {"S": "x"}},
        {"M": {"\ud800": {"S": "x"}}},
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0000-01-01T00:00:00Z",
        "2020-02-30T00:00:00Z",
        "NaN",
    ]
).map(copy.deepcopy)  # a fresh copy each time: a later mutation may change it in place
replacements = st.one_of(
    json_values,
    python_only,
    special,
    st.builds(nested_av, st.integers(30, 3000)),
    st.builds(shared_av, st.integers(10, 22), st.just(2)),  # up to 2**22 values: past every bound, printable
    st.sampled_from([{}, [], "", None]).map(copy.deepcopy),
)
# What kinesis.data may hold: base64 of anything, or not base64 at all.
kinesis_payloads = st.one_of(
    st.sampled_from(
        [
            b"[" * 100_000,
            b'{"a": NaN}',
            b"1" * 5000,
            b"\xff\xfe",
            b"[]",
            b"null",
            b'{"dynamodb": {"ApproximateCreationDateTime": 1e999999}}',
        ]
    ).map(lambda data: base64.b64encode(data).decode()),
    st.sampled_from(["%%%", "AAA", "é", "\ud800"]),
)


def paths(value: Any) -> list[tuple[Any, ...]]:
    """Places in a JSON-like value (keys of objects, indexes of arrays): each container once, so that a value an
    earlier mutation shared between many places or nested deeply is not walked in full."""
    found: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack and len(found) < 500:
        item, place = stack.pop()
        found.append(place)
        if isinstance(item, (dict, list)) and id(item) not in seen and len(place) < 40:
            seen.add(id(item))
            children = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((child, (*place, key)) for key, child in children)
    return found


def mutate(value: Any, data: st.DataObject) -> Any:
    """``value`` with one place replaced or deleted (the whole value when the root is picked)."""
    place = data.draw(st.sampled_from(paths(value)))
    replacement = data.draw(replacements)
    if not place:
        return replacement
    parent = value
    for step in place[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[place[-1]]
    else:
        parent[place[-1]] = replacement
    return value


def kinesis_inner(event: dict[str, Any]) -> list[Any]:
    return [json.loads(base64.b64decode(record["kinesis"]["data"])) for record in event["Records"]]


def reencode(record: dict[str, Any], inner: Any) -> None:
    try:
        # json_dumps, whose work is bounded (json.dumps would write a shared value out 2**22 times). NaN and
        # Infinity are written as json writes them: not JSON, which readers refuse.
        text = json_dumps(inner, allow_nan=True)
    except ShardlineError:  # what JSON cannot carry: the data stays as it was
        return
    record["kinesis"]["data"] = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    data = draw(st.data())
    name = draw(st.sampled_from(FIXTURES))
    event = copy.deepcopy(EVENTS[name])
    for _ in range(draw(st.integers(1, 3))):
        records = event.get("Records") if isinstance(event, dict) else None
        kinesis = [
            record
            for record in (records if isinstance(records, list) else [])
            if isinstance(record, dict) and "kinesis" in record
        ]
        if kinesis and isinstance(kinesis[0].get("kinesis"), dict) and draw(st.booleans()):
            record = kinesis[0]
            if draw(st.booleans()):
                record["kinesis"]["data"] = draw(kinesis_payloads)
            else:
                try:
                    inner = json.loads(base64.b64decode(record["kinesis"]["data"]))
                except (KeyError, TypeError, ValueError, RecursionError):  # an earlier mutation left no JSON there
                    continue
                reencode(record, mutate(inner, data))
        else:
            event = mutate(event, data)
    return event


# -- the properties ---------------------------------------------------------------------------------------------


@FUZZ
@given(mutated_events())
def test_fuzz_every_property_of_a_mutated_event_returns_or_raises_a_shardline_error(event: Any) -> None:
    stream = returns_or_raises_shardline_error(lambda: StreamEvent(event))
    if stream is not None:
        read_event(stream)


@FUZZ
@given(mutated_events(), st.booleans())
def test_fuzz_validate_event_finds_no_problem_only_in_events_stream_event_reads(event: Any, strict: bool) -> None:
    problems = validate_event(event, strict=strict)
    assert len(problems) <= MAX_PROBLEMS + 1
    for problem in problems:
        assert isinstance(problem.path, str)
        assert isinstance(problem.message, str)
        problem.message.encode()  # printable anywhere
        assert problem.strict_only in ((True, False) if strict else (False,))
    if problems:
        return
    # No problem found: every field reads without error, whatever the event holds.
    stream = StreamEvent(event)
    for name in EVENT_PROPERTIES:
        getattr(stream, name)
    for record in stream:
        for name in RECORD_PROPERTIES:
            getattr(record, name)
        dict(record.new_image or {})
        dict(record.old_image or {})
    sequence_numbers(stream.records)


@FUZZ
@given(st.lists(mutated_events(), min_size=2, max_size=4))
def test_fuzz_records_of_several_events_in_one_batch_are_read_independently(events: list[Any]) -> None:
    # One bad record never stops the others from being read: each record's properties depend on it alone.
    records = [
        record
        for event in events
        if isinstance(event, dict) and isinstance(event.get("Records"), list)
        for record in event["Records"]
    ]
    batch = returns_or_raises_shardline_error(lambda: StreamEvent({"Records": records}))
    if batch is None:
        return
    for index, record in enumerate(batch):
        alone = StreamRecord(record.raw, index)
        assert read_record(record) == read_record(alone)
