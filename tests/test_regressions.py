"""Regression tests for problems found in review: each failed before its fix."""

from __future__ import annotations

import copy
import enum
import json
import pickle
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shardline import (
    AttributeValueError,
    EventShapeError,
    StreamEvent,
    StreamRecord,
    deserialize,
    format_number,
    serialize,
    serialize_item,
)

ROOT = Path(__file__).resolve().parent.parent


def sam_record(sam_event: dict[str, Any], index: int = 1) -> StreamRecord:
    return StreamEvent(sam_event)[index]


class Status(str, enum.Enum):
    SHIPPED = "shipped"


class Level(enum.IntEnum):
    HIGH = 3


def test_str_enums_are_stored_as_their_value_never_as_class_dot_member() -> None:
    assert serialize_item({"status": Status.SHIPPED, "seen": {Status.SHIPPED}, "level": Level.HIGH}) == {
        "status": {"S": "shipped"},
        "seen": {"SS": ["shipped"]},
        "level": {"N": "3"},
    }
    assert serialize_item({Status.SHIPPED: 1}) == {"shipped": {"N": "1"}}
    assert serialize({Status.SHIPPED: True}) == {"M": {"shipped": {"BOOL": True}}}


def test_an_image_equals_itself_and_methods_bound_before_a_fill_keep_working(sam_event: dict[str, Any]) -> None:
    record = sam_record(sam_event)
    assert record.new_image == record.new_image
    assert (record.new_image != record.new_image) is False
    image = sam_record(sam_event).new_image
    assert image is not None
    get, contains, length = image.get, image.__contains__, image.__len__
    json.dumps(image, default=str)  # fills the image
    assert get("Message") == "This item has changed"
    assert contains("Id") is True
    assert length() == 2


def test_float_creation_times_parsed_as_decimal_are_read_exactly(sam_event: dict[str, Any]) -> None:
    raw = sam_event["Records"][0]
    raw["dynamodb"]["ApproximateCreationDateTime"] = Decimal("1693997155.123456")
    created = StreamRecord(raw).approximate_creation_time
    assert created == datetime(2023, 9, 6, 10, 45, 55, 123456, tzinfo=timezone.utc)
    assert created is not None  # for the type checker
    assert created.isoformat() == "2023-09-06T10:45:55.123456+00:00"


def test_the_example_reads_an_event_with_a_float_creation_time(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "fixtures" / "sam-dynamodb-update.json").read_text(encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text(
        text.replace('"ApproximateCreationDateTime": 1428537600', '"ApproximateCreationDateTime": 1693997155.0')
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "decode_event.py"), str(event)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "time     2023-09-06T10:45:55+00:00" in result.stdout


@pytest.mark.parametrize(
    "clone", [lambda x: pickle.loads(pickle.dumps(x)), copy.deepcopy, copy.copy], ids=["pickle", "deepcopy", "copy"]
)
def test_records_and_events_survive_pickling_and_copying(sam_event: dict[str, Any], clone: Any) -> None:
    record = sam_record(sam_event)
    assert record.new_image is not None  # decode before cloning: clones must not carry stale caches
    twin = clone(record)
    assert twin.keys == {"Id": Decimal("101")}
    assert twin.new_image == {"Id": Decimal("101"), "Message": "This item has changed"}
    assert twin.sequence_number == record.sequence_number
    event = clone(StreamEvent(sam_event))
    assert [r.event_name.value for r in event] == ["INSERT", "MODIFY", "REMOVE"]


def test_reading_a_bad_attribute_raises_one_unchained_error() -> None:
    record = StreamRecord(
        {
            "eventID": "1",
            "eventName": "INSERT",
            "dynamodb": {"Keys": {"k": {"S": "a"}}, "NewImage": {"qty": {"N": "1x"}}, "SequenceNumber": "1"},
        }
    )
    image = record.new_image
    assert image is not None
    with pytest.raises(AttributeValueError, match=r"^dynamodb\.NewImage\.qty: '1x' is not a number") as caught:
        image["qty"]
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


def test_huge_exponents_are_refused_without_writing_them_out() -> None:
    with pytest.raises(AttributeValueError, match=r"^too large"):
        serialize(Decimal("1E+999999999999999999"))
    with pytest.raises(AttributeValueError, match=r"^too small"):
        serialize(Decimal("1E-999999999999999999"))


@pytest.mark.parametrize("text", ["AAAA=", "AAAA====", "AAAA==", "AAA", "AAAAA"])
def test_base64_with_surplus_or_missing_padding_is_refused(text: str) -> None:
    with pytest.raises(AttributeValueError, match=r"^B value .* is not valid standard base64"):
        deserialize({"B": text})


@pytest.mark.parametrize(("text", "expected"), [("////", b"\xff\xff\xff"), ("++++", b"\xfb\xef\xbe"), ("", b"")])
def test_base64_made_only_of_plus_and_slash_is_accepted(text: str, expected: bytes) -> None:
    assert deserialize({"B": text}) == expected


def test_format_number_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError, match=r"^format_number takes an int or a Decimal, not float$"):
        format_number(1.5)  # type: ignore[arg-type]
    with pytest.raises(AttributeValueError, match=r"^DynamoDB numbers are finite; got NaN$"):
        format_number(Decimal("NaN"))


def test_an_empty_event_id_is_called_empty() -> None:
    record = StreamRecord({"eventID": "", "eventName": "INSERT", "dynamodb": {"Keys": {}, "SequenceNumber": "1"}})
    with pytest.raises(EventShapeError, match=r"^eventID: must not be empty$"):
        _ = record.event_id


def test_errors_print_their_public_module() -> None:
    assert AttributeValueError.__module__ == "shardline"
    assert EventShapeError.__module__ == "shardline"
    assert repr(AttributeValueError("bad", "a")) == "AttributeValueError('a: bad')"


def test_the_example_stops_quietly_when_its_reader_goes_away(tmp_path: Path) -> None:
    # Enough output to overflow the pipe's buffer, so the example really writes into a closed pipe.
    sam = json.loads((ROOT / "tests" / "fixtures" / "sam-dynamodb-update.json").read_text(encoding="utf-8"))
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"Records": sam["Records"] * 2000}))
    example = [sys.executable, str(ROOT / "examples" / "decode_event.py"), str(big)]
    with subprocess.Popen(example, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.readline() == b"6000 record(s)\n"
        process.stdout.close()  # like `| head -1`
        stderr = process.stderr.read()
        assert process.wait() == 0
    assert stderr == b""
