"""Regression tests for the hardening of the codec, the event views, validate_event and the validate and
convert commands: one or more per reported problem, each checking the whole class of inputs it belongs to.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import Binary
from click.testing import CliRunner
from conftest import load_fixture

from shardline import (
    AttributeTypeError,
    AttributeValueError,
    EventShapeError,
    ShardlineError,
    StreamEvent,
    StreamRecord,
    deserialize,
    deserialize_item,
    format_number,
    item_size,
    json_dumps,
    serialize,
    serialize_item,
    validate_item,
)
from shardline.cli import main
from shardline.testing import validate_event
from shardline.testing._validate import MAX_PROBLEMS, check_event

SAM_EVENT = load_fixture("sam-dynamodb-update.json")
KINESIS_EVENT = load_fixture("events-kinesis-dynamodb.json")
WINDOW_EVENT = load_fixture("events-tumbling-window.json")
SURROGATE = "lone surrogate"


def sam_record(**dynamodb: Any) -> dict[str, Any]:
    """The SAM sample's MODIFY record with fields of its dynamodb section replaced."""
    record = copy.deepcopy(SAM_EVENT["Records"][1])
    record["dynamodb"].update(dynamodb)
    return record


def kinesis_record(data: bytes) -> dict[str, Any]:
    record = copy.deepcopy(KINESIS_EVENT["Records"][0])
    record["kinesis"]["data"] = base64.b64encode(data).decode()
    return record


def shared(leaf: Any, depth: int, *, kind: str = "L") -> Any:
    """``leaf`` behind ``depth`` levels that each hold the level below twice: 2 ** depth leaves expanded."""
    value = leaf
    for _ in range(depth):
        value = {"L": [value, value]} if kind == "L" else [value, value]
    return value


@contextmanager
def cpu_seconds_at_most(limit: float) -> Iterator[None]:
    """Fail when the block used more than ``limit`` seconds of this process's CPU time.

    The inputs below would take minutes, or forever, if their work were not bounded; CPU time (not wall time)
    keeps the check independent of how busy the machine is.
    """
    start = time.process_time()
    yield
    assert time.process_time() - start < limit


def shardline_cli(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """Run the command line in this process: exit status, stdout, stderr."""
    code: Any = 0
    with CliRunner().isolation(input=stdin, env={"SHARDLINE_DEBUG": None}) as (out, err, _):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
        sys.stdout.flush()
        sys.stderr.flush()
    return code, out.getvalue().decode("utf-8", "backslashreplace"), err.getvalue().decode("utf-8", "backslashreplace")


# --------------------------------------------------------------------------------------------------
# 1. boto3 interop; unsupported types are TypeErrors


def test_serialize_accepts_boto3_binary_alone_in_sets_and_in_items() -> None:
    assert serialize(Binary(b"\x01")) == {"B": "AQ=="}
    assert serialize({Binary(b"\x02"), Binary(b"\x01")}) == {"BS": ["AQ==", "Ag=="]}
    assert serialize_item({"blob": Binary(bytearray(b"\xff")), "n": 1}) == {"blob": {"B": "/w=="}, "n": {"N": "1"}}
    assert deserialize(serialize([Binary(b"ab")])) == [b"ab"]
    assert json_dumps({"b": Binary(b"\x00"), "s": {Binary(b"\x01")}}) == '{"b": "AA==", "s": ["AQ=="]}'


def test_a_binary_is_recognised_by_shape_without_importing_boto3() -> None:
    code = (
        "import sys, shardline\n"
        "class Binary:\n"
        "    def __init__(self, value): self.value = value\n"
        "print(shardline.serialize(Binary(b'\\x01')), 'boto3' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "{'B': 'AQ=='} False"


@pytest.mark.parametrize("inner", ["text", None, 5])
def test_something_else_named_binary_is_an_unsupported_type(inner: object) -> None:
    class Binary:
        value = inner

    with pytest.raises(AttributeTypeError, match=r"^x: cannot store a .*Binary in DynamoDB; use str, int"):
        serialize({"x": Binary()})


@pytest.mark.parametrize(
    ("call", "path", "reason"),
    [
        pytest.param(lambda: serialize({"a": [1.5]}), "a[0]", r"float 1\.5 refused", id="float"),
        pytest.param(lambda: serialize({"a": object()}), "a", "cannot store a object in DynamoDB", id="object"),
        pytest.param(lambda: serialize({"a": 1j}), "a", "cannot store a complex", id="complex"),
        pytest.param(
            lambda: serialize({True}), "", "sets may hold strings, numbers or binaries, not booleans", id="bools"
        ),
        pytest.param(
            lambda: serialize({None}), "", "sets may hold strings, numbers or binaries, not NoneType", id="None"
        ),
        pytest.param(lambda: serialize({1, "a"}), "", "a set must hold one kind", id="mixed-set"),
        pytest.param(
            lambda: serialize({"m": {1: "a"}}), "m", "attribute names must be strings, got a number", id="name"
        ),
        pytest.param(lambda: serialize_item([("a", 1)]), "", "an item must be a mapping", id="item"),  # type: ignore[arg-type]
        pytest.param(lambda: format_number(1.5), "", "format_number takes an int or a Decimal, not float", id="format"),
        pytest.param(lambda: json_dumps({"a": [object()]}), "a[0]", "Object of type object is not JSON", id="json"),
    ],
)
def test_unsupported_types_are_type_errors_and_shardline_errors(
    call: Callable[[], Any], path: str, reason: str
) -> None:
    prefix = f"{path}: " if path else ""
    with pytest.raises(
        AttributeTypeError, match="^" + prefix.replace("[", r"\[").replace("]", r"\]") + reason
    ) as caught:
        call()
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, AttributeValueError)  # `except AttributeValueError` keeps catching it
    assert isinstance(caught.value, ShardlineError)
    assert caught.value.path == path


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: serialize(float("nan"), allow_floats=True), id="NaN"),
        pytest.param(lambda: serialize(Decimal("NaN")), id="Decimal-NaN"),
        pytest.param(lambda: serialize(10**200), id="too-large"),
        pytest.param(lambda: serialize(set()), id="empty-set"),
        pytest.param(lambda: serialize("\ud800"), id="surrogate"),
        pytest.param(lambda: serialize({"n": Decimal(1), "m": {Decimal("0.1"), 0.1}}, allow_floats=True), id="collide"),
        pytest.param(lambda: deserialize({"S": 5}), id="decoded-type"),
        pytest.param(lambda: format_number(Decimal("1E+200")), id="format-range"),
    ],
)
def test_values_dynamodb_refuses_stay_value_errors(call: Callable[[], Any]) -> None:
    with pytest.raises(AttributeValueError) as caught:
        call()
    assert not isinstance(caught.value, TypeError)


# --------------------------------------------------------------------------------------------------
# 2. One number rule, one message


@pytest.mark.parametrize("text", ["0e" + "9" * 40, "0E-" + "9" * 40, "-0.000e+" + "9" * 30])
def test_a_zero_with_any_exponent_is_zero_everywhere(text: str) -> None:
    assert deserialize({"N": text}) == 0
    assert deserialize({"N": text}, int_if_integral=True) == 0
    assert deserialize_item({"n": {"N": text}}) == {"n": 0}
    assert item_size({"n": {"N": text}}) == 2
    validate_item({"n": {"N": text}, "k": {"N": text}}, key_schema={"k": "N"})
    assert format_number(deserialize({"N": text})) == "0"
    record = sam_record(NewImage={"Id": {"N": "101"}, "n": {"N": text}}, SizeBytes=59)
    assert StreamRecord(record).new_image == {"Id": 101, "n": 0}
    keys = {"Id": {"N": text}}
    record = sam_record(Keys=keys, NewImage={"Id": {"N": text}}, OldImage={"Id": {"N": text}}, SizeBytes=9)
    assert validate_event({"Records": [record]}) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1e" + "9" * 40, "is too large; DynamoDB numbers go up to"),
        ("1E-" + "9" * 40, "is too small; the smallest non-zero DynamoDB number is 1E-130"),
        ("9" * 39, "has 39 significant digits; DynamoDB keeps at most 38"),
        ("1e", "is not a number"),
        ("-NaN1", "is not a number"),
    ],
)
def test_every_function_refuses_a_bad_number_with_the_same_message(text: str, reason: str) -> None:
    messages = set()
    for call in (
        lambda: deserialize({"M": {"n": {"N": text}}}),
        lambda: deserialize_item({"n": {"N": text}}),
        lambda: item_size({"n": {"N": text}}),
        lambda: validate_item({"n": {"N": text}}),
        lambda: StreamRecord(sam_record(NewImage={"n": {"N": text}})).new_image["n"],  # type: ignore[index]
    ):
        with pytest.raises(AttributeValueError) as caught:
            call()
        messages.add(caught.value.reason)
    (problem,) = [
        p for p in validate_event({"Records": [sam_record(NewImage={"n": {"N": text}})]}) if p.path.endswith(".n")
    ]
    messages.add(problem.message)
    (message,) = messages
    assert reason in message
    assert not message.startswith("malformed")


# --------------------------------------------------------------------------------------------------
# 3. Events: foreign exceptions become EventShapeError with a path


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"[" * 100_000, "nested too deeply to read", id="deep"),
        pytest.param(b'{"eventName": NaN}', "NaN is not JSON", id="NaN"),
        pytest.param(b'{"n": ' + b"1" * 5000 + b"}", "an integer has more digits than Python converts", id="digits"),
        pytest.param(b"\xff\xfe", "not UTF-8 text", id="utf8"),
    ],
)
def test_kinesis_data_that_cannot_be_read_is_an_event_shape_error(data: bytes, reason: str) -> None:
    record = StreamEvent({"Records": [kinesis_record(data)]})[0]
    for read in (lambda: record.event_name, lambda: record.keys, lambda: record.stream_record):
        with pytest.raises(EventShapeError, match=r"^Records\[0\]\.kinesis\.data: is not base64 JSON") as caught:
            read()
        assert reason in caught.value.reason
    problems = validate_event({"Records": [kinesis_record(data)]})
    assert [p.path for p in problems] == ["Records[0].kinesis.data"]
    assert reason in problems[0].message


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("0001-01-01T00:00:00+01:00", "is out of range in UTC"),
        ("0000-01-01T00:00:00Z", "is not an ISO-8601 time"),
    ],
)
def test_window_times_before_the_year_1_are_event_shape_errors(start: str, reason: str) -> None:
    event = copy.deepcopy(WINDOW_EVENT)
    event["window"]["start"] = start
    with pytest.raises(EventShapeError, match=rf"^window\.start: \"{start[:4]}.*\" {reason}"):
        StreamEvent(event).window_start  # noqa: B018


def test_the_latest_window_time_in_utc_is_read() -> None:
    event = copy.deepcopy(WINDOW_EVENT)
    event["window"]["end"] = "9999-12-31T23:59:59+00:00"
    assert StreamEvent(event).window_end == datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    event["window"]["end"] = "9999-12-31T23:59:59-01:00"
    with pytest.raises(EventShapeError, match=r"^window\.end: .* is out of range in UTC"):
        StreamEvent(event).window_end  # noqa: B018


HUGE = 10**100_000  # 100,001 digits: more than Python turns into text


@pytest.mark.parametrize(
    ("field", "value", "read", "reason"),
    [
        ("ApproximateCreationDateTime", HUGE, "approximate_creation_time", "a number of more than 40 digits is out of"),
        (
            "ApproximateCreationDateTime",
            -HUGE,
            "approximate_creation_time",
            "a number of more than 40 digits is out of",
        ),
        ("SizeBytes", -HUGE, "size_bytes", "must be a whole number of bytes, got a number of more than 40 digits"),
        ("StreamViewType", HUGE, "view_type", "must be KEYS_ONLY, .* got a number of more than 40 digits"),
    ],
    ids=["time", "negative-time", "size", "view-type"],
)
def test_huge_integers_in_a_python_built_event_are_event_shape_errors(
    field: str, value: int, read: str, reason: str
) -> None:
    record = StreamEvent({"Records": [sam_record(**{field: value})]})[0]
    with pytest.raises(EventShapeError, match=rf"^Records\[0\]\.dynamodb\.{field}: {reason}"):
        getattr(record, read)
    assert any(problem.path.endswith(field) for problem in validate_event({"Records": [sam_record(**{field: value})]}))


def test_a_huge_integer_event_name_is_an_event_shape_error() -> None:
    record = copy.deepcopy(SAM_EVENT["Records"][0])
    record["eventName"] = HUGE
    with pytest.raises(EventShapeError, match=r"^Records\[0\]\.eventName: must be INSERT, .*more than 40 digits$"):
        StreamEvent({"Records": [record]})[0].event_name  # noqa: B018


# --------------------------------------------------------------------------------------------------
# 4. Ranges before expansion


@pytest.mark.parametrize(
    "value",
    [Decimal("1E+999990"), Decimal("-1E+400000"), 10**999_990, Decimal("1E+999999999999999999")],
    ids=["1E+999990", "-1E+400000", "int-10**999990", "1E+999999999999999999"],
)
def test_approximate_creation_time_checks_the_range_before_converting(value: Any) -> None:
    record = StreamRecord(sam_record(ApproximateCreationDateTime=value))
    with cpu_seconds_at_most(2), pytest.raises(EventShapeError, match=r"is out of range for a date$"):
        record.approximate_creation_time  # noqa: B018


def test_approximate_creation_time_is_exact_under_any_decimal_context() -> None:
    import decimal

    record = StreamRecord(sam_record(ApproximateCreationDateTime=Decimal("1428537600.0000015")))
    with decimal.localcontext() as context:
        context.prec = 5
        context.traps[decimal.Inexact] = True
        moment = record.approximate_creation_time
    assert moment is not None
    assert (moment.timestamp(), moment.microsecond) == (1428537600.000002, 2)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (Decimal("1E+99999999"), "too large"),
        (Decimal("-1E+126"), "too large"),
        (Decimal("1E-99999999"), "too small"),
        (10**100_000, "too large"),
    ],
    ids=["1E+99999999", "-1E+126", "1E-99999999", "int-10**100000"],
)
def test_numbers_beyond_dynamodb_range_are_refused_not_written_out(number: Any, reason: str) -> None:
    with cpu_seconds_at_most(2):
        for call in (lambda: format_number(number), lambda: serialize(number), lambda: serialize_item({"n": number})):
            with pytest.raises(AttributeValueError, match=rf"^(n: )?{reason}; "):
                call()


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (Decimal("1E+999999999"), "1E+999999999"),
        (Decimal("-1.50E+400"), "-1.5E+400"),
        (Decimal("123E-200"), "1.23E-198"),
        (Decimal("9.9999999999999999999999999999999999999E+125"), "9" * 38 + "0" * 88),
        (Decimal("1E-130"), "0." + "0" * 129 + "1"),
    ],
)
def test_json_dumps_writes_numbers_beyond_dynamodb_range_with_their_exponent(number: Decimal, text: str) -> None:
    assert json_dumps({"n": number}) == f'{{"n": {text}}}'
    assert json.loads(json_dumps(number), parse_float=Decimal) == number


def test_item_size_refuses_a_huge_exponent_at_once() -> None:
    with cpu_seconds_at_most(2), pytest.raises(AttributeValueError, match=r"^n: '1E\+99999999' is too large"):
        item_size({"n": {"N": "1E+99999999"}})


def test_convert_writes_a_huge_exponent_as_it_was_given() -> None:
    stdin = b'{"Records":[{"dynamodb":{"ApproximateCreationDateTime":1e999999999}}]}'
    status, stdout, stderr = shardline_cli("convert", "-", "--compact", stdin=stdin)
    assert (status, stderr) == (0, "")
    assert stdout == '{"Records":[{"dynamodb":{"ApproximateCreationDateTime":1E+999999999}}]}\n'


# --------------------------------------------------------------------------------------------------
# 5. Shared and deeply nested values: bounded work, no RecursionError

OVER_THE_LIMIT = r"over DynamoDB's item size limit \(409,600 bytes\) before it is fully counted"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(deserialize, id="deserialize"),
        pytest.param(lambda av: deserialize_item({"a": av}), id="deserialize_item"),
        pytest.param(lambda av: item_size({"a": av}), id="item_size"),
        pytest.param(lambda av: validate_item({"a": av}), id="validate_item"),
        pytest.param(lambda av: StreamRecord(sam_record(NewImage={"a": av})).new_image["a"], id="attribute"),  # type: ignore[index]
        pytest.param(lambda av: dict(StreamRecord(sam_record(NewImage={"a": av})).new_image), id="image"),  # type: ignore[arg-type]
        pytest.param(
            lambda av: StreamRecord(sam_record(NewImage={"a": av}, OldImage={"a": av})).changed_attributes,
            id="changed_attributes",
        ),
    ],
)
@pytest.mark.parametrize(
    "leaf", [{"N": "1"}, {"S": "é" * 1000}, {"B": "AAAA" * 1000}, {"SS": ["x", "y"]}, {"M": {"k": {"NULL": True}}}]
)
def test_a_shared_attribute_value_is_refused_before_it_is_expanded(call: Callable[[Any], Any], leaf: Any) -> None:
    av = shared(leaf, 30)  # 2**30 leaves once expanded, 31 levels deep: within DynamoDB's nesting limit
    with cpu_seconds_at_most(10), pytest.raises(AttributeValueError, match=OVER_THE_LIMIT):
        call(av)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(serialize, OVER_THE_LIMIT, id="serialize"),
        pytest.param(lambda value: serialize_item({"a": value}), OVER_THE_LIMIT, id="serialize_item"),
        pytest.param(json_dumps, "uses the same lists or objects in so many places", id="json"),
    ],
)
def test_a_shared_python_value_is_refused_before_it_is_expanded(call: Callable[[Any], Any], error: str) -> None:
    value = shared("x", 30, kind="python")
    with cpu_seconds_at_most(10), pytest.raises(AttributeValueError, match=error):
        call(value)


def test_values_used_twice_are_still_written_twice() -> None:
    row = {"a": [1, 2]}
    assert json_dumps([row, row]) == '[{"a": [1, 2]}, {"a": [1, 2]}]'
    assert serialize([row, row]) == {"L": [serialize(row), serialize(row)]}


@pytest.mark.parametrize(
    "image",
    [
        # 409,000 empty strings: one byte each (their list overhead), 409,004 bytes in all.
        pytest.param({"l": {"L": [{"S": ""}] * 409_000}}, id="list-of-empty-strings"),
        # Map entries, non-ASCII text, binaries and sets, 400,000 bytes and more.
        pytest.param(
            {
                "m": {"M": {f"k{i:05}": {"NULL": True} for i in range(20_000)}},
                "s": {"S": "é" * 80_000},
                "b": {"B": base64.b64encode(bytes(30_000)).decode()},
                "ss": {"SS": [f"{i:07}" for i in range(8_000)]},
            },
            id="mixed",
        ),
    ],
)
def test_the_largest_items_are_still_accepted(image: dict[str, Any]) -> None:
    size = item_size(image)
    assert 400_000 < size <= 409_600
    validate_item(image)
    decoded = deserialize_item(image)
    assert serialize_item(decoded) == image
    assert StreamRecord(sam_record(NewImage=image)).new_image == decoded


def deep_python(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"k": [value]}
    return value


def deep_av(depth: int) -> Any:
    value: Any = {"S": "x"}
    for _ in range(depth):
        value = {"M": {"k": {"L": [value]}}}
    return value


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: serialize(deep_python(5000)), id="serialize"),
        pytest.param(lambda: serialize_item(deep_python(5000)), id="serialize_item"),
        pytest.param(lambda: json_dumps(deep_python(5000)), id="json_dumps"),
        pytest.param(lambda: deserialize(deep_av(5000)), id="deserialize"),
        pytest.param(lambda: deserialize_item({"a": deep_av(5000)}), id="deserialize_item"),
        pytest.param(lambda: item_size({"a": deep_av(5000)}), id="item_size"),
        pytest.param(lambda: validate_item({"a": deep_av(5000)}), id="validate_item"),
        pytest.param(lambda: dict(StreamRecord(sam_record(NewImage={"a": deep_av(5000)})).new_image), id="image"),  # type: ignore[arg-type]
    ],
)
def test_deep_nesting_is_a_shardline_error_never_a_recursion_error(call: Callable[[], Any]) -> None:
    with pytest.raises(AttributeValueError, match="nested too deeply"):
        call()


def test_validate_event_reports_deep_nesting_in_an_image() -> None:
    (problem,) = validate_event({"Records": [sam_record(NewImage={"Id": {"N": "101"}, "a": deep_av(5000)})]})
    assert problem.path.startswith("Records[0].dynamodb.NewImage.a.k[0].k[0]")
    assert problem.message.startswith("nested too deeply")


# --------------------------------------------------------------------------------------------------
# 6. Lone surrogates: text DynamoDB cannot store


@pytest.mark.parametrize(
    ("call", "path", "what"),
    [
        pytest.param(lambda: deserialize({"M": {"s": {"S": "a\ud800"}}}), "s", "S value", id="S"),
        pytest.param(lambda: deserialize({"SS": ["ok", "\udfff"]}), "[1]", "SS element", id="SS"),
        pytest.param(lambda: deserialize({"M": {"\ud800": {"S": "x"}}}), '["\\ud800"]', "attribute name", id="name"),
        pytest.param(lambda: deserialize_item({"\ud800": {"S": "x"}}), '["\\ud800"]', "attribute name", id="top-name"),
        pytest.param(lambda: item_size({"pk": {"S": "\ud800"}}), "pk", "S value", id="item_size"),
        pytest.param(lambda: validate_item({"pk": {"S": "\ud800"}}, key_schema={"pk": "S"}), "pk", "S value", id="key"),
        pytest.param(lambda: serialize({"s": "\ud800"}), "s", "the string", id="serialize"),
        pytest.param(lambda: serialize({"s": {"\ud800"}}), "s", "a set element", id="serialize-set"),
        pytest.param(lambda: serialize_item({"\ud800": 1}), '["\\ud800"]', "attribute name", id="serialize-name"),
        pytest.param(lambda: json_dumps({"s": ["\ud800"]}, ensure_ascii=False), "s[0]", "the text", id="json"),
        pytest.param(lambda: json_dumps({"\ud800": 1}, ensure_ascii=False), '["\\ud800"]', "the key", id="json-key"),
        pytest.param(
            lambda: StreamRecord(sam_record(NewImage={"s": {"S": "\ud800"}})).new_image["s"],  # type: ignore[index]
            "dynamodb.NewImage.s",
            "S value",
            id="record",
        ),
    ],
)
def test_lone_surrogates_are_attribute_value_errors_with_a_path(call: Callable[[], Any], path: str, what: str) -> None:
    with pytest.raises(AttributeValueError) as caught:
        call()
    assert caught.value.path == path
    assert caught.value.reason.startswith(f"{what} holds a {SURROGATE} ('\\ud")
    str(caught.value).encode()  # the message itself prints anywhere


def test_json_dumps_escapes_lone_surrogates_when_writing_ascii() -> None:
    # \ud800 escapes are valid JSON text; only unescaped output cannot be UTF-8.
    assert json_dumps({"s": "\ud800"}) == '{"s": "\\ud800"}'


def test_validate_event_reports_lone_surrogates_where_they_are() -> None:
    record = sam_record(NewImage={"Id": {"N": "101"}, "\ud800": {"S": "x"}, "s": {"SS": ["\udc00"]}})
    record["eventID"] = "\ud800"
    problems = validate_event({"Records": [record]}, strict=True)
    paths = {problem.path: problem.message for problem in problems}
    assert SURROGATE in paths['Records[0].dynamodb.NewImage["\\ud800"]']
    assert SURROGATE in paths["Records[0].dynamodb.NewImage.s[0]"]
    assert paths["Records[0].eventID"].startswith('"\\ud800" is not 32 lowercase hex digits')
    for problem in problems:
        problem.message.encode()


# --------------------------------------------------------------------------------------------------
# 7. Bounded reports and inputs


def test_validate_event_lists_the_first_1000_problems_and_counts_the_rest() -> None:
    records = [{"eventID": 1}] * 3000  # 6 problems each
    problems = validate_event({"Records": records})
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[MAX_PROBLEMS - 1].path == "Records[166].awsRegion"
    assert problems[-1] == ("", "and 17,000 more problems, not listed (only the first 1,000 are)", False)
    listed, omitted = check_event({"Records": records})
    assert (listed, omitted) == (problems[:-1], 17_000)


def test_the_cap_counts_only_the_problems_reported() -> None:
    # Strict-only problems are not counted unless asked for.
    records = [copy.deepcopy(SAM_EVENT["Records"][0]) for _ in range(1200)]
    for index, record in enumerate(records):
        record["dynamodb"]["SequenceNumber"] = str(10**21 + index)
        record["eventID"] = str(index)  # as in AWS's documentation examples: flagged by strict checks only
    assert validate_event({"Records": records}) == []
    strict = validate_event({"Records": records}, strict=True)
    assert strict[-1].message == "and 200 more problems, not listed (only the first 1,000 are)"


def test_validate_event_memory_stays_bounded() -> None:
    records = [{"eventID": 1}] * 20_000  # 120,000 problems, and one for the number of records
    tracemalloc.start()
    try:
        problems = validate_event({"Records": records})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problems[-1].message.startswith("and 119,001 more problems")
    assert peak < 8 * 1024 * 1024  # keeping the 120,001 problems takes 25 MB


def test_validate_command_lists_the_first_1000_problems_and_counts_all(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"Records": [{"eventID": 1}] * 3000}), encoding="utf-8")
    status, stdout, stderr = shardline_cli("validate", str(path))
    lines = stdout.splitlines()
    assert status == 1
    assert len(lines) == 1001
    assert lines[-1] == f"{path}: and 17,000 more problems, not listed (only the first 1,000 are)"
    assert stderr == "18,000 problems in 1 of 1 file(s)\n"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_validate_command_stops_reading_past_64_mb() -> None:
    status, stdout, stderr = shardline_cli("validate", "/dev/zero")
    assert status == 1
    assert stdout.startswith("/dev/zero: is larger than 64.0 MB")
    assert "a Lambda event is at most 6.0 MB" in stdout
    assert stderr == "1 problem in 1 of 1 file(s)\n"


def test_validate_and_convert_help_state_the_limits() -> None:
    _, validate_help, _ = shardline_cli("validate", "--help")
    assert "Reads at most 64.0 MB per file (a Lambda event is at most 6 MB)" in validate_help
    assert "1,000 problems per file" in validate_help
    _, convert_help, _ = shardline_cli("convert", "--help")
    assert "Reads at most 64.0 MB" in convert_help


@pytest.mark.parametrize("command", ["convert", "validate"])
def test_invalid_utf8_on_standard_input_is_reported_as_for_files(command: str, tmp_path: Path) -> None:
    data = b'{"a": {"S": "\xff"}}'
    (tmp_path / "bad.json").write_bytes(data)
    _, from_stdin, error_stdin = shardline_cli(command, "-", stdin=data)
    _, from_file, error_file = shardline_cli(command, str(tmp_path / "bad.json"))
    reported = (from_stdin + error_stdin).replace("standard input", "SOURCE")
    assert "SOURCE: not UTF-8 text (invalid start byte at byte 13)" in reported
    assert reported == (from_file + error_file).replace(str(tmp_path / "bad.json"), "SOURCE")


def test_convert_reports_a_path_inside_an_odd_attribute_name() -> None:
    status, _, stderr = shardline_cli("convert", "-", stdin=b'{"x y": {"M": {"n": {"N": "1e400"}}}}')
    assert status == 1
    assert stderr.startswith("Error: [\"x y\"].n: '1e400' is too large")


# --------------------------------------------------------------------------------------------------
# 8. Foreign exceptions found looking for more of the same


@pytest.mark.parametrize("kind", [10**5000, ["S"], object()], ids=["huge-int", "list", "object"])
def test_a_key_schema_of_odd_types_is_an_attribute_value_error(kind: object) -> None:
    with pytest.raises(
        AttributeValueError, match=r"^key_schema: key attribute 'pk' has type (a number|an array|object);"
    ):
        validate_item({"pk": {"S": "x"}}, key_schema={"pk": kind})  # type: ignore[dict-item]


@pytest.mark.parametrize("key", [10**5000, None, (1,), 1.5], ids=["huge-int", "None", "tuple", "float"])
def test_keys_of_any_type_in_a_hand_made_attribute_value_are_named_by_kind(key: object) -> None:
    for av, reason in [
        ({key: "x"}, r"unknown AttributeValue type (a number|null|an array); expected one of S, N"),
        (
            {key: "x", "S": "y"},
            r"AttributeValue has 2 type keys \((a number|null|an array), 'S'\); expected exactly one",
        ),
        ({"M": {key: {"S": "x"}}}, r"attribute names must be strings, got (a number|null|an array)$"),
    ]:
        for call in (deserialize, lambda av: item_size({"a": av})):
            with pytest.raises(AttributeValueError, match=reason):
                call(av)


def test_bytes_subclasses_are_binaries_for_decoding_and_sizing_alike() -> None:
    class Blob(bytes):
        pass

    assert deserialize({"B": Blob(b"ab")}) == b"ab"
    assert item_size({"b": {"B": Blob(b"ab")}}) == 3
    assert deserialize({"BS": [Blob(b"a"), b"b"]}) == {b"a", b"b"}


def test_a_released_memoryview_is_a_value_error_with_its_path() -> None:
    view = memoryview(b"ab")
    view.release()
    with pytest.raises(AttributeValueError, match=r"^b: this memoryview was released"):
        serialize({"b": view})
    with pytest.raises(AttributeValueError, match=r"^b: this memoryview was released"):
        json_dumps({"b": view})


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        pytest.param({"n": float("nan")}, {}, AttributeValueError, r"^n: nan has no JSON form", id="nan"),
        pytest.param([float("inf")], {}, AttributeValueError, r"^\[0\]: inf has no JSON form", id="inf"),
        pytest.param({"s": {Decimal("NaN")}}, {}, AttributeValueError, r"^s\[0\]: Decimal NaN", id="NaN-in-set"),
        pytest.param({"i": [10**5000]}, {}, AttributeValueError, r"^i\[0\]: an int of more than 4300", id="huge-int"),
        pytest.param({(1, 2): 3}, {}, AttributeTypeError, "^has a key of type tuple; JSON object keys", id="tuple-key"),
        pytest.param({1: 2, "a": 3}, {"sort_keys": True}, AttributeTypeError, "^keys of different types", id="sort"),
        pytest.param(deep_python(5000), {}, AttributeValueError, "^nested too deeply to write as JSON", id="deep"),
    ],
)
def test_json_dumps_refuses_what_json_cannot_carry_with_a_path(
    value: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        json_dumps(value, **kwargs)


def test_json_dumps_writes_non_finite_floats_only_when_asked() -> None:
    assert json_dumps([float("nan")], allow_nan=True) == "[NaN]"
    assert json_dumps({(1, 2): 3, "a": 1}, skipkeys=True) == '{"a": 1}'


def test_json_dumps_sorts_sets_of_floats_and_numbers_deterministically() -> None:
    assert json_dumps({2.5, Decimal("0.1"), 3}) == "[0.1, 2.5, 3]"


def test_a_stream_record_repr_stays_short_and_printable() -> None:
    record = sam_record(SequenceNumber="\ud800" + "1" * 100)
    text = repr(StreamRecord(record))
    assert text.startswith('<StreamRecord MODIFY seq="\\ud800111')
    assert len(text) < 100
    text.encode()
