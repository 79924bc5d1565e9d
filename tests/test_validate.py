"""Tests for ``validate_event``: every check of the event, AttributeValue and item size rules, each pinned to its
exact path.

The mutation tables start from saved fixtures (the SAM sample, the Kinesis and tumbling-window events),
change one thing, and name every problem that change must cause, in document order, with whether only a
strict check reports it and an anchored pattern for its message.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from conftest import load_fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shardline import StreamEvent, json_dumps
from shardline.testing._validate import Problem, _json_size, validate_event

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FIXTURE_NAMES = (
    "sam-dynamodb-update.json",
    "seed-event.json",
    "events-kinesis-dynamodb.json",
    "events-ttl-delete.json",
    "events-tumbling-window.json",
)
SAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
SIX_MB = 6_291_456

Mutation = Callable[[Any], None]
Expected = list[tuple[str, bool, str]]  # (path, strict_only, anchored message pattern)


# --------------------------------------------------------------------------------------------------
# Helpers


def put(value: Any, *path: str | int) -> Mutation:
    """Set the value at ``path`` (keys and indexes from the event's root)."""

    def mutate(event: Any) -> None:
        target = event
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = copy.deepcopy(value)

    return mutate


def drop(*path: str | int) -> Mutation:
    def mutate(event: Any) -> None:
        target = event
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(event: Any) -> None:
        for mutation in mutations:
            mutation(event)

    return mutate


def r(index: int, *path: str | int) -> tuple[str | int, ...]:
    """Path of a field of record ``index``."""
    return ("Records", index, *path)


def d(index: int, *path: str | int) -> tuple[str | int, ...]:
    """Path of a field of record ``index``'s dynamodb section."""
    return ("Records", index, "dynamodb", *path)


def copy_field(source: tuple[str | int, ...], target: tuple[str | int, ...]) -> Mutation:
    def mutate(event: Any) -> None:
        value = event
        for step in source:
            value = value[step]
        put(value, *target)(event)

    return mutate


def inner(index: int, change: Callable[[dict[str, Any]], None]) -> Mutation:
    """Change the DynamoDB record inside Kinesis record ``index`` and put it back as base64 JSON."""

    def mutate(event: Any) -> None:
        kinesis = event["Records"][index]["kinesis"]
        record = json.loads(base64.b64decode(kinesis["data"]), parse_float=Decimal)
        change(record)
        kinesis["data"] = base64.b64encode(json_dumps(record).encode()).decode()

    return mutate


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def check(problems: list[Problem], expected: Expected) -> None:
    """``problems`` are exactly ``expected``: same paths and strictness in the same order, messages matching."""
    assert [(problem.path, problem.strict_only) for problem in problems] == [
        (path, strict_only) for path, strict_only, _ in expected
    ], problems
    for problem, (_, _, pattern) in zip(problems, expected, strict=True):
        assert re.search(pattern, problem.message), (problem, pattern)


def sam_record(index: int) -> dict[str, Any]:
    """An INSERT like the SAM sample's first record, with the ``index``-th sequence number after it."""
    return {
        "eventID": f"{index:032x}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1428537600,
            "Keys": {"Id": {"N": "101"}},
            "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
            "SequenceNumber": str(4421584500000000017450439091 + index),
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": SAM_ARN,
    }


# --------------------------------------------------------------------------------------------------
# Fixtures


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixtures_are_valid(name: str, fixture_loader: Callable[[str], Any]) -> None:
    assert validate_event(fixture_loader(name)) == []


@pytest.mark.parametrize(
    "name",
    [
        "sam-dynamodb-update.json",
        "events-kinesis-dynamodb.json",
        "events-ttl-delete.json",
        "events-tumbling-window.json",
    ],
)
def test_fixtures_written_like_aws_are_valid_even_strictly(name: str, fixture_loader: Callable[[str], Any]) -> None:
    assert validate_event(fixture_loader(name), strict=True) == []


def test_seed_event_has_only_the_userIdentity_on_its_insert(fixture_loader: Callable[[str], Any]) -> None:
    event = fixture_loader("seed-event.json")
    assert validate_event(event, strict=True) == [
        Problem(
            "Records[0].userIdentity",
            "INSERT records carry no userIdentity; DynamoDB puts it only on REMOVE records that Time to Live made",
            True,
        )
    ]
    assert validate_event(event) == []


def test_a_ttl_delete_in_the_sam_event_is_valid_strictly(sam_event: dict[str, Any]) -> None:
    sam_event["Records"][2]["userIdentity"] = dict(TTL_IDENTITY)
    assert validate_event(sam_event, strict=True) == []


def test_key_numbers_compare_by_value(sam_event: dict[str, Any]) -> None:
    # "101.0" is the number 101 (and sizes the same: 3 bytes), so Keys still matches the images.
    sam_event["Records"][0]["dynamodb"]["Keys"]["Id"] = {"N": "101.0"}
    sam_event["Records"][1]["dynamodb"]["OldImage"]["Id"] = {"N": "1.01E2"}
    assert validate_event(sam_event, strict=True) == []


def test_every_view_type_and_event_name_combination_of_the_spec_table_is_valid() -> None:
    images = {
        "KEYS_ONLY": {"INSERT": (), "MODIFY": (), "REMOVE": ()},
        "NEW_IMAGE": {"INSERT": ("NewImage",), "MODIFY": ("NewImage",), "REMOVE": ()},
        "OLD_IMAGE": {"INSERT": (), "MODIFY": ("OldImage",), "REMOVE": ("OldImage",)},
        "NEW_AND_OLD_IMAGES": {"INSERT": ("NewImage",), "MODIFY": ("NewImage", "OldImage"), "REMOVE": ("OldImage",)},
    }
    for view, by_name in images.items():
        for name, fields in by_name.items():
            record = sam_record(0)
            ddb = record["dynamodb"]
            del ddb["NewImage"]
            for field in fields:
                ddb[field] = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
            record["eventName"] = name
            ddb["StreamViewType"] = view
            ddb["SizeBytes"] = 5 + 21 * len(fields)
            assert validate_event({"Records": [record]}, strict=True) == [], (view, name)


# --------------------------------------------------------------------------------------------------
# Mutations of the SAM sample (records 0 INSERT, 1 MODIFY, 2 REMOVE; NEW_AND_OLD_IMAGES; SizeBytes 26, 59, 38)

NOT_HEX = r"is not 32 lowercase hex digits, as DynamoDB writes event IDs$"
LINES = {
    "L": [
        {"M": {"sku": {"S": "a"}}},
        {"M": {}},
        {"M": {"sku": {"N": "x"}}},
    ]
}

SAM_MUTATIONS: list[Any] = [
    # eventID
    pytest.param(put("1", *r(0, "eventID")), [("Records[0].eventID", True, '^"1" ' + NOT_HEX)], id="eventID-1"),
    pytest.param(
        put("C4CA4238A0B923820DCC509A6F75849B", *r(0, "eventID")),
        [("Records[0].eventID", True, '^"C4CA4238A0B923820DCC509A6F75849B" ' + NOT_HEX)],
        id="eventID-uppercase",
    ),
    pytest.param(
        put(1, *r(0, "eventID")), [("Records[0].eventID", False, "^must be a string, got a number$")], id="eventID-int"
    ),
    pytest.param(put("", *r(0, "eventID")), [("Records[0].eventID", False, "^must not be empty$")], id="eventID-empty"),
    pytest.param(drop(*r(0, "eventID")), [("Records[0].eventID", False, "^missing$")], id="eventID-missing"),
    # eventName
    pytest.param(
        put("UPDATE", *r(1, "eventName")),
        [("Records[1].eventName", False, '^must be INSERT, MODIFY or REMOVE, got "UPDATE"$')],
        id="eventName-unknown",
    ),
    pytest.param(
        drop(*r(1, "eventName")),
        [("Records[1].eventName", False, "^missing; INSERT, MODIFY or REMOVE$")],
        id="eventName-missing",
    ),
    # eventVersion
    pytest.param(
        put("1.0", *r(0, "eventVersion")),
        [("Records[0].eventVersion", True, r'^"1\.0" is not "1\.1", the version DynamoDB Streams records carry$')],
        id="eventVersion-1.0",
    ),
    pytest.param(
        drop(*r(0, "eventVersion")),
        [("Records[0].eventVersion", True, r'^missing; DynamoDB Streams records carry eventVersion "1\.1"$')],
        id="eventVersion-missing",
    ),
    pytest.param(
        put(Decimal("1.1"), *r(0, "eventVersion")),
        [("Records[0].eventVersion", False, "^must be a string, got a number$")],
        id="eventVersion-number",
    ),
    # eventSource, awsRegion
    pytest.param(
        put("aws:kinesis", *r(0, "eventSource")),
        [("Records[0].eventSource", False, '^must be "aws:dynamodb", got "aws:kinesis"$')],
        id="eventSource-wrong",
    ),
    pytest.param(
        drop(*r(0, "eventSource")), [("Records[0].eventSource", False, "^missing$")], id="eventSource-missing"
    ),
    pytest.param(drop(*r(0, "awsRegion")), [("Records[0].awsRegion", False, "^missing$")], id="awsRegion-missing"),
    pytest.param(
        put("eu-west-1", *r(0, "awsRegion")),
        [("Records[0].eventSourceARN", False, "^names region us-east-1 but awsRegion is eu-west-1$")],
        id="awsRegion-differs-from-arn",
    ),
    # dynamodb
    pytest.param(
        put([], *r(0, "dynamodb")),
        [("Records[0].dynamodb", False, "^must be an object, got an array$")],
        id="ddb-array",
    ),
    pytest.param(drop(*r(0, "dynamodb")), [("Records[0].dynamodb", False, "^missing$")], id="ddb-missing"),
    # ApproximateCreationDateTime
    pytest.param(
        drop(*d(0, "ApproximateCreationDateTime")),
        [
            (
                "Records[0].dynamodb.ApproximateCreationDateTime",
                True,
                "^missing; DynamoDB writes the time of the change in epoch seconds$",
            )
        ],
        id="time-missing",
    ),
    pytest.param(
        put(Decimal("1428537600.0"), *d(0, "ApproximateCreationDateTime")),
        [
            (
                "Records[0].dynamodb.ApproximateCreationDateTime",
                True,
                r"^1428537600\.0 is written as a float; DynamoDB writes epoch seconds as an integer$",
            )
        ],
        id="time-decimal-whole",
    ),
    pytest.param(
        put(1693997155.0, *d(0, "ApproximateCreationDateTime")),
        [("Records[0].dynamodb.ApproximateCreationDateTime", True, r"^1693997155\.0 is written as a float; ")],
        id="time-float-whole",
    ),
    pytest.param(
        put(Decimal("1428537600.5"), *d(0, "ApproximateCreationDateTime")),
        [
            (
                "Records[0].dynamodb.ApproximateCreationDateTime",
                False,
                r"^1428537600\.5 is not a whole number of epoch seconds$",
            )
        ],
        id="time-fraction",
    ),
    pytest.param(
        put(-1, *d(0, "ApproximateCreationDateTime")),
        [("Records[0].dynamodb.ApproximateCreationDateTime", False, "^-1 is negative; DynamoDB writes epoch seconds")],
        id="time-negative",
    ),
    pytest.param(
        put("1428537600", *d(0, "ApproximateCreationDateTime")),
        [
            (
                "Records[0].dynamodb.ApproximateCreationDateTime",
                False,
                "^must be a number of epoch seconds, got a string$",
            )
        ],
        id="time-string",
    ),
    pytest.param(
        put(True, *d(0, "ApproximateCreationDateTime")),
        [
            (
                "Records[0].dynamodb.ApproximateCreationDateTime",
                False,
                "^must be a number of epoch seconds, got a boolean$",
            )
        ],
        id="time-boolean",
    ),
    pytest.param(
        put(1428537600000, *d(0, "ApproximateCreationDateTime")),
        [
            (
                "Records[0].dynamodb.ApproximateCreationDateTime",
                False,
                r"^1428537600000 is after the year 5000 in epoch seconds \(milliseconds\?\)",
            )
        ],
        id="time-milliseconds",
    ),
    # Keys
    pytest.param(
        put({}, *d(0, "Keys")),
        [("Records[0].dynamodb.Keys", False, r"^is empty; every record carries the item's key attributes \(1 or 2\)$")],
        id="keys-empty",
    ),
    pytest.param(
        put("Id", *d(0, "Keys")),
        [("Records[0].dynamodb.Keys", False, "^must be an object of key attributes, got a string$")],
        id="keys-string",
    ),
    pytest.param(
        drop(*d(0, "Keys")),
        [("Records[0].dynamodb.Keys", False, "^missing; every record carries the item's key attributes$")],
        id="keys-missing",
    ),
    pytest.param(
        put({"S": "101"}, *d(0, "Keys", "Id")),
        [("Records[0].dynamodb.NewImage.Id", False, r"^does not match Keys\.Id: N here, S in Keys$")],
        id="keys-type-differs-from-image",
    ),
    pytest.param(
        put({"N": "102"}, *d(1, "Keys", "Id")),
        [
            ("Records[1].dynamodb.NewImage.Id", False, r"^does not match Keys\.Id: another value$"),
            ("Records[1].dynamodb.OldImage.Id", False, r"^does not match Keys\.Id: another value$"),
        ],
        id="keys-value-differs-from-images",
    ),
    pytest.param(
        put({"S": "a"}, *d(0, "Keys", "sk")),
        [
            (
                "Records[0].dynamodb.NewImage.sk",
                False,
                "^missing: an image holds every key attribute, and Keys has sk$",
            ),
            (
                "Records[0].dynamodb.SizeBytes",
                False,
                r"^is 26, but DynamoDB's size of Keys \(8\) \+ NewImage \(21\) is 29$",
            ),
        ],
        id="keys-sort-key-missing-from-image",
    ),
    pytest.param(
        both(put({"S": "a"}, *d(0, "Keys", "a")), put({"S": "b"}, *d(0, "Keys", "b"))),
        [
            (
                "Records[0].dynamodb.Keys",
                False,
                r"^holds 3 attributes; a table's key is 1 attribute \(partition key\) or 2 \(partition and sort key\)$",
            )
        ],
        id="keys-three",
    ),
    pytest.param(
        put({"BOOL": True}, *d(0, "Keys", "Id")),
        [("Records[0].dynamodb.Keys.Id", False, "^is of type BOOL; key attributes are of type S, N or B$")],
        id="keys-bool",
    ),
    pytest.param(
        put({"S": ""}, *d(0, "Keys", "Id")),
        [("Records[0].dynamodb.Keys.Id", False, "^is empty; DynamoDB rejects empty key values$")],
        id="keys-empty-string",
    ),
    pytest.param(
        put({"S": "x" * 2049}, *d(0, "Keys", "Id")),
        [
            (
                "Records[0].dynamodb.Keys.Id",
                False,
                r"^is 2,049 bytes; a partition key holds at most 2,048 bytes and a sort key 1,024$",
            )
        ],
        id="keys-too-long",
    ),
    pytest.param(
        put({"N": "abc"}, *d(0, "Keys", "Id")),
        [("Records[0].dynamodb.Keys.Id", False, "^'abc' is not a number")],
        id="keys-bad-number",
    ),
    # Images: AttributeValues through the codec, with the record's path prefix
    pytest.param(
        put({"S": 5}, *d(0, "NewImage", "Message")),
        [("Records[0].dynamodb.NewImage.Message", False, "^S value must be a string, got a number$")],
        id="image-s-number",
    ),
    pytest.param(
        put(LINES, *d(0, "NewImage", "lines")),
        [("Records[0].dynamodb.NewImage.lines[2].sku", False, "^'x' is not a number")],
        id="image-nested-path",
    ),
    pytest.param(
        put({"B": "not base64!"}, *d(0, "NewImage", "odd name")),
        [('Records[0].dynamodb.NewImage["odd name"]', False, "^B value 'not base64!' is not valid standard base64")],
        id="image-quoted-name",
    ),
    pytest.param(
        both(put({"SS": []}, *d(1, "OldImage", "Message")), put({"NULL": False}, *d(1, "OldImage", "gone"))),
        [
            ("Records[1].dynamodb.OldImage.Message", False, "^SS must not be empty: DynamoDB has no empty sets$"),
            ("Records[1].dynamodb.OldImage.gone", False, "^NULL value must be true, got false$"),
        ],
        id="image-every-bad-attribute",
    ),
    pytest.param(
        put({"S": ""}, *d(0, "NewImage", "")),
        [("Records[0].dynamodb.NewImage", False, "^attribute names must not be empty$")],
        id="image-empty-name",
    ),
    pytest.param(
        put("x", *d(0, "NewImage")),
        [
            (
                "Records[0].dynamodb.NewImage",
                False,
                "^must be an object of attribute names to AttributeValues, got a string$",
            )
        ],
        id="image-string",
    ),
    pytest.param(
        put(None, *d(0, "NewImage")),
        [
            (
                "Records[0].dynamodb.NewImage",
                False,
                "^must be an object of attribute names to AttributeValues, got null$",
            ),
            (
                "Records[0].dynamodb.NewImage",
                False,
                "^NEW_AND_OLD_IMAGES INSERT records carry NewImage; it is missing$",
            ),
        ],
        id="image-null",
    ),
    pytest.param(
        put({"S": "x" * 409_600}, *d(0, "NewImage", "Message")),
        [
            (
                "Records[0].dynamodb.NewImage",
                False,
                r"^is 409,612 bytes; DynamoDB items are at most 409,600 bytes \(400 KB, names included\)$",
            ),
            (
                "Records[0].dynamodb.SizeBytes",
                False,
                r"^is 26, but DynamoDB's size of Keys \(5\) \+ NewImage \(409612\) is 409617$",
            ),
        ],
        id="image-over-400KB",
    ),
    pytest.param(
        drop(*d(0, "NewImage", "Id")),
        [
            (
                "Records[0].dynamodb.NewImage.Id",
                False,
                "^missing: an image holds every key attribute, and Keys has Id$",
            ),
            (
                "Records[0].dynamodb.SizeBytes",
                False,
                r"^is 26, but DynamoDB's size of Keys \(5\) \+ NewImage \(16\) is 21$",
            ),
        ],
        id="image-lacks-key",
    ),
    # Images against StreamViewType and eventName
    pytest.param(
        drop(*d(1, "OldImage")),
        [
            (
                "Records[1].dynamodb.OldImage",
                False,
                "^NEW_AND_OLD_IMAGES MODIFY records carry OldImage; it is missing$",
            ),
            (
                "Records[1].dynamodb.SizeBytes",
                False,
                r"^is 59, but DynamoDB's size of Keys \(5\) \+ NewImage \(33\) is 38$",
            ),
        ],
        id="view-old-image-missing",
    ),
    pytest.param(
        copy_field(d(0, "NewImage"), d(0, "OldImage")),
        [
            (
                "Records[0].dynamodb.OldImage",
                False,
                "^NEW_AND_OLD_IMAGES INSERT records carry no OldImage; this one has one$",
            ),
            (
                "Records[0].dynamodb.SizeBytes",
                False,
                r"^is 26, but DynamoDB's size of Keys \(5\) \+ NewImage \(21\) \+ OldImage \(21\) is 47$",
            ),
        ],
        id="view-insert-with-old-image",
    ),
    pytest.param(
        both(copy_field(d(2, "OldImage"), d(2, "NewImage")), put(71, *d(2, "SizeBytes"))),
        [
            (
                "Records[2].dynamodb.NewImage",
                False,
                "^NEW_AND_OLD_IMAGES REMOVE records carry no NewImage; this one has one$",
            )
        ],
        id="view-remove-with-new-image",
    ),
    pytest.param(
        put("KEYS_ONLY", *d(0, "StreamViewType")),
        [("Records[0].dynamodb.NewImage", False, "^KEYS_ONLY INSERT records carry no NewImage; this one has one$")],
        id="view-keys-only",
    ),
    pytest.param(
        put("NEW_IMAGE", *d(2, "StreamViewType")),
        [("Records[2].dynamodb.OldImage", False, "^NEW_IMAGE REMOVE records carry no OldImage; this one has one$")],
        id="view-new-image-remove",
    ),
    pytest.param(
        put("OLD_IMAGE", *d(1, "StreamViewType")),
        [("Records[1].dynamodb.NewImage", False, "^OLD_IMAGE MODIFY records carry no NewImage; this one has one$")],
        id="view-old-image-modify",
    ),
    pytest.param(
        put("NEW_IMAGE", *d(1, "StreamViewType")),
        [("Records[1].dynamodb.OldImage", False, "^NEW_IMAGE MODIFY records carry no OldImage; this one has one$")],
        id="view-new-image-modify",
    ),
    pytest.param(
        put("BOTH", *d(0, "StreamViewType")),
        [
            (
                "Records[0].dynamodb.StreamViewType",
                False,
                '^must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES, got "BOTH"$',
            )
        ],
        id="view-unknown",
    ),
    pytest.param(
        both(put("BOTH", *d(0, "StreamViewType")), copy_field(d(0, "NewImage"), d(0, "OldImage"))),
        [
            (
                "Records[0].dynamodb.OldImage",
                False,
                "^INSERT records never carry OldImage: there is no item before an INSERT$",
            ),
            ("Records[0].dynamodb.SizeBytes", False, r"^is 26, but DynamoDB's size of .* is 47$"),
            ("Records[0].dynamodb.StreamViewType", False, '^must be KEYS_ONLY, .*, got "BOTH"$'),
        ],
        id="view-unknown-insert-with-old-image",
    ),
    pytest.param(
        drop(*d(0, "StreamViewType")), [("Records[0].dynamodb.StreamViewType", False, "^missing$")], id="view-missing"
    ),
    # SequenceNumber
    pytest.param(
        put("111", *d(0, "SequenceNumber")),
        [
            (
                "Records[0].dynamodb.SequenceNumber",
                True,
                '^"111" has 3 digits; DynamoDB sequence numbers have 21 to 40$',
            )
        ],
        id="sequence-short",
    ),
    pytest.param(
        put(4421584500000000017450439091, *d(0, "SequenceNumber")),
        [("Records[0].dynamodb.SequenceNumber", False, "^must be a string of digits, got a number$")],
        id="sequence-number",
    ),
    pytest.param(
        put("44215845000000000174504390a1", *d(0, "SequenceNumber")),
        [("Records[0].dynamodb.SequenceNumber", False, '^"44215845000000000174504390a1" is not a string of digits$')],
        id="sequence-letters",
    ),
    pytest.param(
        put("\u0661" * 28, *d(0, "SequenceNumber")),
        [("Records[0].dynamodb.SequenceNumber", False, "is not a string of digits$")],
        id="sequence-non-ascii-digits",
    ),
    pytest.param(
        drop(*d(0, "SequenceNumber")),
        [("Records[0].dynamodb.SequenceNumber", False, "^missing$")],
        id="sequence-missing",
    ),
    pytest.param(
        put("4421584500000000017450439091", *d(1, "SequenceNumber")),
        [
            (
                "Records[1].dynamodb.SequenceNumber",
                False,
                r'^"4421584500000000017450439091" does not come after "4421584500000000017450439091" of Records\[0\]; '
                "a batch is read from one shard, in increasing sequence order$",
            )
        ],
        id="sequence-repeated",
    ),
    pytest.param(
        put("4421584500000000017450439090", *d(1, "SequenceNumber")),
        [
            (
                "Records[1].dynamodb.SequenceNumber",
                False,
                r'does not come after "4421584500000000017450439091" of Records\[0\]',
            )
        ],
        id="sequence-decreasing",
    ),
    # SizeBytes
    pytest.param(
        put(27, *d(0, "SizeBytes")),
        [
            (
                "Records[0].dynamodb.SizeBytes",
                False,
                r"^is 27, but DynamoDB's size of Keys \(5\) \+ NewImage \(21\) is 26$",
            )
        ],
        id="size-off-by-one",
    ),
    pytest.param(
        put(38, *d(1, "SizeBytes")),
        [
            (
                "Records[1].dynamodb.SizeBytes",
                False,
                r"^is 38, but DynamoDB's size of Keys \(5\) \+ NewImage \(33\) \+ OldImage \(21\) is 59$",
            )
        ],
        id="size-modify",
    ),
    pytest.param(
        put("26", *d(0, "SizeBytes")),
        [("Records[0].dynamodb.SizeBytes", False, '^must be a positive integer, got "26"$')],
        id="size-string",
    ),
    pytest.param(
        put(0, *d(0, "SizeBytes")),
        [("Records[0].dynamodb.SizeBytes", False, "^must be at least 1, got 0$")],
        id="size-zero",
    ),
    pytest.param(
        put(True, *d(0, "SizeBytes")),
        [("Records[0].dynamodb.SizeBytes", False, "^must be a positive integer, got true$")],
        id="size-boolean",
    ),
    pytest.param(
        put(Decimal("26.0"), *d(0, "SizeBytes")),
        [("Records[0].dynamodb.SizeBytes", False, r"^must be a positive integer, got 26\.0$")],
        id="size-decimal",
    ),
    pytest.param(drop(*d(0, "SizeBytes")), [("Records[0].dynamodb.SizeBytes", False, "^missing$")], id="size-missing"),
    # eventSourceARN
    pytest.param(
        both(*(put("stream-ARN", *r(index, "eventSourceARN")) for index in range(3))),
        [
            (f"Records[{index}].eventSourceARN", False, r'^"stream-ARN" is not a DynamoDB stream ARN \(arn:<partition>')
            for index in range(3)
        ],
        id="arn-doc-placeholder",
    ),
    pytest.param(
        put(SAM_ARN.replace("table/ExampleTableWithStream", "table/Other"), *r(2, "eventSourceARN")),
        [
            (
                "Records[2].eventSourceARN",
                False,
                r"^differs from Records\[0\]\.eventSourceARN; a batch is read from one stream$",
            )
        ],
        id="arn-other-stream",
    ),
    pytest.param(
        put(SAM_ARN.replace("2015-06-27", "2015-13-27"), *r(2, "eventSourceARN")),
        [
            ("Records[2].eventSourceARN", False, r"^its stream label 2015-13-27T00:48:05\.899 is not a valid time$"),
            ("Records[2].eventSourceARN", False, r"^differs from Records\[0\]\.eventSourceARN"),
        ],
        id="arn-bad-label",
    ),
    pytest.param(
        put(SAM_ARN.replace("us-east-1", "eu-west-1"), *r(2, "eventSourceARN")),
        [
            ("Records[2].eventSourceARN", False, "^names region eu-west-1 but awsRegion is us-east-1$"),
            ("Records[2].eventSourceARN", False, r"^differs from Records\[0\]\.eventSourceARN"),
        ],
        id="arn-region-differs",
    ),
    pytest.param(
        both(*(put(SAM_ARN.replace("123456789012", "12345"), *r(i, "eventSourceARN")) for i in range(3))),
        [(f"Records[{i}].eventSourceARN", False, "is not a DynamoDB stream ARN") for i in range(3)],
        id="arn-short-account",
    ),
    pytest.param(drop(*r(0, "eventSourceARN")), [("Records[0].eventSourceARN", False, "^missing$")], id="arn-missing"),
    # userIdentity
    pytest.param(
        put(TTL_IDENTITY, *r(0, "userIdentity")),
        [("Records[0].userIdentity", True, "^INSERT records carry no userIdentity; DynamoDB puts it only on REMOVE")],
        id="identity-on-insert",
    ),
    pytest.param(
        put({"type": "Service", "principalId": "x"}, *r(2, "userIdentity")),
        [("Records[2].userIdentity.principalId", False, r'^must be "dynamodb\.amazonaws\.com", got "x"$')],
        id="identity-principal",
    ),
    pytest.param(
        put({"principalId": "dynamodb.amazonaws.com"}, *r(2, "userIdentity")),
        [("Records[2].userIdentity.type", False, '^missing; a Time to Live delete has "Service"$')],
        id="identity-type-missing",
    ),
    pytest.param(
        put("dynamodb", *r(2, "userIdentity")),
        [("Records[2].userIdentity", False, r'^must be \{"type": "Service", .*got a string$')],
        id="identity-string",
    ),
    pytest.param(
        put({**TTL_IDENTITY, "arn": "x"}, *r(2, "userIdentity")),
        [("Records[2].userIdentity.arn", False, "^unexpected field; userIdentity holds only type and principalId$")],
        id="identity-extra-field",
    ),
    pytest.param(
        put({"type": "User"}, *r(1, "userIdentity")),
        [
            ("Records[1].userIdentity", True, "^MODIFY records carry no userIdentity"),
            ("Records[1].userIdentity.type", False, '^must be "Service", got "User"$'),
            ("Records[1].userIdentity.principalId", False, "^missing"),
        ],
        id="identity-wrong-on-modify",
    ),
    # A record that is not an object
    pytest.param(
        put([], "Records", 1),
        [("Records[1]", False, "^a stream record must be a JSON object, got an array$")],
        id="record-array",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), SAM_MUTATIONS)
def test_sam_mutation(sam_event: dict[str, Any], mutate: Mutation, expected: Expected) -> None:
    mutate(sam_event)
    problems = validate_event(sam_event, strict=True)
    check(problems, expected)
    assert validate_event(sam_event) == [problem for problem in problems if not problem.strict_only]


def test_the_mutation_table_is_large() -> None:
    assert len(SAM_MUTATIONS) >= 40


def test_problems_come_in_document_order(sam_event: dict[str, Any]) -> None:
    records = sam_event["Records"]
    records[2]["eventID"] = "3"
    records[0]["dynamodb"]["SizeBytes"] = 1
    records[0]["eventName"] = "CREATE"
    records[1]["awsRegion"] = 7
    assert [(problem.path, problem.strict_only) for problem in validate_event(sam_event, strict=True)] == [
        ("Records[0].eventName", False),
        ("Records[0].dynamodb.SizeBytes", False),
        ("Records[1].awsRegion", False),
        ("Records[2].eventID", True),
    ]


def test_records_from_two_sources(sam_event: dict[str, Any], fixture_loader: Callable[[str], Any]) -> None:
    sam_event["Records"].append(fixture_loader("events-kinesis-dynamodb.json")["Records"][0])
    assert validate_event(sam_event) == [
        Problem(
            "Records[3]",
            "is a Kinesis record but Records[0] is a DynamoDB Streams record; a batch comes from one event source",
            False,
        ),
        Problem(
            "Records[3].eventSourceARN",
            "differs from Records[0].eventSourceARN; a batch is read from one stream",
            False,
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Kinesis Data Streams for DynamoDB (record 0: INSERT, milliseconds; record 1: MODIFY, microseconds)

K = "Records[0].kinesis.data"
K1 = "Records[1].kinesis.data"


def set_ddb(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda record: record["dynamodb"].__setitem__(name, value)


def set_field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda record: record.__setitem__(name, value)


def del_field(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda record: record.__delitem__(name)


KINESIS_MUTATIONS: list[Any] = [
    pytest.param(
        inner(0, set_ddb("ApproximateCreationDateTime", 1700000000)),
        [
            (
                f"{K}.dynamodb.ApproximateCreationDateTime",
                False,
                "^1700000000 looks like epoch seconds; Kinesis Data Streams for DynamoDB records carry milliseconds$",
            )
        ],
        id="time-seconds",
    ),
    pytest.param(
        inner(1, lambda record: record["dynamodb"].__delitem__("ApproximateCreationDateTimePrecision")),
        [
            (
                f"{K1}.dynamodb.ApproximateCreationDateTime",
                False,
                "^1700000000123456 looks like epoch microseconds; those need ApproximateCreationDateTimePrecision "
                "MICROSECOND$",
            )
        ],
        id="time-microseconds-without-precision",
    ),
    pytest.param(
        inner(0, set_ddb("ApproximateCreationDateTimePrecision", "MICROSECOND")),
        [
            (
                f"{K}.dynamodb.ApproximateCreationDateTime",
                False,
                "^1700000000123 looks like epoch seconds or milliseconds; with ApproximateCreationDateTimePrecision "
                "MICROSECOND it is in microseconds$",
            )
        ],
        id="time-milliseconds-with-microsecond-precision",
    ),
    pytest.param(
        inner(0, set_ddb("ApproximateCreationDateTimePrecision", "NANOSECOND")),
        [
            (
                f"{K}.dynamodb.ApproximateCreationDateTimePrecision",
                False,
                '^must be MILLISECOND or MICROSECOND, got "NANOSECOND"$',
            )
        ],
        id="precision-unknown",
    ),
    pytest.param(
        inner(0, lambda record: record["dynamodb"].__delitem__("ApproximateCreationDateTime")),
        [(f"{K}.dynamodb.ApproximateCreationDateTime", True, "in epoch milliseconds$")],
        id="time-missing",
    ),
    pytest.param(inner(0, del_field("tableName")), [(f"{K}.tableName", False, "^missing$")], id="table-name-missing"),
    pytest.param(
        inner(0, set_field("tableName", "ab")),
        [(f"{K}.tableName", False, r'^"ab" is not a DynamoDB table name \(3 to 255 of A-Z a-z 0-9 _ \. -\)$')],
        id="table-name-short",
    ),
    pytest.param(
        inner(0, set_field("recordFormat", "text")),
        [(f"{K}.recordFormat", False, '^must be "application/json", got "text"$')],
        id="record-format",
    ),
    pytest.param(
        inner(0, set_ddb("SizeBytes", 36)),
        [(f"{K}.dynamodb.SizeBytes", False, r"^is 36, but DynamoDB's size of Keys \(9\) \+ NewImage \(26\) is 35$")],
        id="size-bytes",
    ),
    pytest.param(
        inner(1, set_ddb("Keys", {"pk": {"S": "order#2"}})),
        [
            (f"{K1}.dynamodb.NewImage.pk", False, r"^does not match Keys\.pk: another value$"),
            (f"{K1}.dynamodb.OldImage.pk", False, r"^does not match Keys\.pk: another value$"),
        ],
        id="keys-differ-from-images",
    ),
    pytest.param(
        inner(0, lambda record: record["dynamodb"].__setitem__("OldImage", record["dynamodb"]["NewImage"])),
        [
            (
                f"{K}.dynamodb.OldImage",
                False,
                "^INSERT records never carry OldImage: there is no item before an INSERT$",
            ),
            (f"{K}.dynamodb.SizeBytes", False, r"^is 35, but .* is 61$"),
        ],
        id="insert-with-old-image",
    ),
    pytest.param(
        inner(0, set_field("eventID", "1")),
        [(f"{K}.eventID", True, '^"1" is not a UUID')],
        id="event-id-not-uuid",
    ),
    pytest.param(
        inner(0, set_field("eventName", "aws:kinesis:record")),
        [(f"{K}.eventName", False, '^must be INSERT, MODIFY or REMOVE, got "aws:kinesis:record"$')],
        id="event-name",
    ),
    pytest.param(
        inner(0, set_field("awsRegion", "eu-west-1")),
        [(f"{K}.awsRegion", False, "^is eu-west-1 but the Kinesis record's awsRegion is us-east-1$")],
        id="region-differs",
    ),
    pytest.param(
        inner(0, set_field("userIdentity", TTL_IDENTITY)),
        [(f"{K}.userIdentity", True, "^INSERT records carry no userIdentity")],
        id="identity-on-insert",
    ),
    pytest.param(
        inner(0, set_field("eventSource", "aws:kinesis")),
        [(f"{K}.eventSource", False, '^must be "aws:dynamodb", got "aws:kinesis"$')],
        id="inner-event-source",
    ),
    pytest.param(
        both(
            inner(0, set_ddb("StreamViewType", "NEW_IMAGE")),
            inner(0, set_ddb("SequenceNumber", "4421584500000000017450439091")),
            inner(0, set_field("eventVersion", "1.1")),
        ),
        [
            (
                f"{K}.dynamodb.SequenceNumber",
                True,
                r"^Kinesis Data Streams for DynamoDB records carry no dynamodb\.SequenceNumber",
            ),
            (f"{K}.dynamodb.StreamViewType", True, "carry no dynamodb.StreamViewType"),
            (f"{K}.eventVersion", True, r"carry no eventVersion \(DynamoDB Streams records do\)$"),
        ],
        id="streams-fields-wrapped-by-hand",
    ),
    pytest.param(
        put(encoded(b"[]"), "Records", 0, "kinesis", "data"),
        [(K, False, r"^decodes to an array; expected a DynamoDB change record \(an object\)$")],
        id="data-array",
    ),
    pytest.param(
        put(encoded(b"{not json"), "Records", 0, "kinesis", "data"),
        [(K, False, r"^decodes to bytes that are not JSON text \(Expecting property name .* \(line 1, column 2\)\)$")],
        id="data-not-json",
    ),
    pytest.param(
        put("!!!!", "Records", 0, "kinesis", "data"), [(K, False, "^is not valid base64 text$")], id="data-not-base64"
    ),
    pytest.param(
        drop("Records", 0, "kinesis", "data"),
        [(K, False, "^missing; it carries the DynamoDB change record as base64 JSON$")],
        id="data-missing",
    ),
    pytest.param(
        put(None, "Records", 0, "kinesis"),
        [("Records[0].kinesis", False, "^must be an object, got null$")],
        id="kinesis-null",
    ),
    pytest.param(
        copy_field(("Records", 0, "kinesis", "sequenceNumber"), ("Records", 1, "kinesis", "sequenceNumber")),
        [("Records[1].kinesis.sequenceNumber", False, r"does not come after .* of Records\[0\]")],
        id="sequence-repeated",
    ),
    pytest.param(
        put("49590338271490256608559692538361571095921575989136588898x", "Records", 0, "kinesis", "sequenceNumber"),
        [("Records[0].kinesis.sequenceNumber", False, "is not a string of digits$")],
        id="sequence-letters",
    ),
    pytest.param(
        put([], "Records", 0, "eventVersion"),
        [("Records[0].eventVersion", False, "^must be a string, got an array$")],
        id="outer-event-version-array",
    ),
    pytest.param(
        put("1.1", "Records", 0, "eventVersion"),
        [("Records[0].eventVersion", True, r'^"1\.1" is not "1\.0", the version Kinesis records carry$')],
        id="outer-event-version-1.1",
    ),
    pytest.param(
        put("INSERT", "Records", 0, "eventName"),
        [("Records[0].eventName", False, '^must be "aws:kinesis:record", got "INSERT"$')],
        id="outer-event-name",
    ),
    pytest.param(
        put("aws:dynamodb", "Records", 1, "eventSource"),
        [("Records[1].eventSource", False, '^must be "aws:kinesis", got "aws:dynamodb"$')],
        id="outer-event-source",
    ),
    pytest.param(
        both(*(put(SAM_ARN, "Records", i, "eventSourceARN") for i in range(2))),
        [
            (f"Records[{i}].eventSourceARN", False, r"is not a Kinesis stream ARN \(arn:<partition>:kinesis")
            for i in range(2)
        ],
        id="outer-arn-not-kinesis",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), KINESIS_MUTATIONS)
def test_kinesis_mutation(fixture_loader: Callable[[str], Any], mutate: Mutation, expected: Expected) -> None:
    event = fixture_loader("events-kinesis-dynamodb.json")
    mutate(event)
    problems = validate_event(event, strict=True)
    check(problems, expected)
    assert validate_event(event) == [problem for problem in problems if not problem.strict_only]


# --------------------------------------------------------------------------------------------------
# Tumbling windows

WINDOW_MUTATIONS: list[Any] = [
    pytest.param(
        put("2020-07-30T17:00:00+00:00", "window", "start"),
        [
            (
                "window.start",
                False,
                '^"2020-07-30T17:00:00\\+00:00" is not an ISO-8601 UTC time such as 2020-07-30T17:00:00Z$',
            )
        ],
        id="start-not-z",
    ),
    pytest.param(
        put("2020-07-30T17:05:00Z", "window", "start"),
        [("window.end", False, '^"2020-07-30T17:05:00Z" is not after window.start "2020-07-30T17:05:00Z"$')],
        id="empty-window",
    ),
    pytest.param(
        put("2020-07-30T16:59:59.999Z", "window", "end"),
        [("window.end", False, '^"2020-07-30T16:59:59.999Z" is not after window.start "2020-07-30T17:00:00Z"$')],
        id="end-before-start",
    ),
    pytest.param(
        put("2020-02-30T17:00:00Z", "window", "start"),
        [("window.start", False, '^"2020-02-30T17:00:00Z" is not a valid time$')],
        id="start-impossible-date",
    ),
    pytest.param(drop("window", "end"), [("window.end", False, "^missing$")], id="end-missing"),
    pytest.param(
        put("5 minutes", "window"),
        [("window", False, "^must be an object with start and end times, got a string$")],
        id="window-string",
    ),
    pytest.param(put([], "state"), [("state", False, "^must be a JSON object, got an array$")], id="state-array"),
    pytest.param(
        drop("state"),
        [("state", False, r"^missing; Lambda passes \{\} on a window's first invoke$")],
        id="state-missing",
    ),
    pytest.param(put(5, "shardId"), [("shardId", False, "^must be a string, got a number$")], id="shard-id-number"),
    pytest.param(
        put("false", "isFinalInvokeForWindow"),
        [("isFinalInvokeForWindow", False, '^must be true or false, got "false"$')],
        id="final-string",
    ),
    pytest.param(
        drop("isWindowTerminatedEarly"), [("isWindowTerminatedEarly", False, "^missing$")], id="terminated-missing"
    ),
    pytest.param(
        put(SAM_ARN.replace("ExampleTableWithStream", "Other"), "eventSourceARN"),
        [("eventSourceARN", False, r"^differs from Records\[0\]\.eventSourceARN; a window covers one stream$")],
        id="arn-differs",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), WINDOW_MUTATIONS)
def test_window_mutation(fixture_loader: Callable[[str], Any], mutate: Mutation, expected: Expected) -> None:
    event = fixture_loader("events-tumbling-window.json")
    mutate(event)
    check(validate_event(event, strict=True), expected)


# --------------------------------------------------------------------------------------------------
# The event: records count, size


def test_event_must_be_an_object() -> None:
    assert validate_event([]) == [Problem("", "a Lambda event must be a JSON object, got an array", False)]


def test_records_missing() -> None:
    assert validate_event({}) == [Problem("Records", 'missing; a stream event is {"Records": [...]}', False)]


def test_records_empty() -> None:
    assert validate_event({"Records": []}) == [
        Problem("Records", "is empty; Lambda never invokes a function with an empty batch", False)
    ]


def test_ten_thousand_records_is_the_limit() -> None:
    records = [sam_record(index) for index in range(10_000)]
    assert validate_event({"Records": records}, strict=True) == []
    records.append(sam_record(10_000))
    assert validate_event({"Records": records}, strict=True) == [
        Problem("Records", "holds 10,001 records; Lambda delivers at most 10,000 per batch (BatchSize 1..10000)", False)
    ]


def test_six_mb_is_the_limit(sam_event: dict[str, Any]) -> None:
    assert validate_event(sam_event, size=SIX_MB) == []
    assert validate_event(sam_event, size=SIX_MB + 1) == [
        Problem("", "is 6,291,457 bytes of JSON; Lambda's invocation payload limit is 6 MB (6,291,456 bytes)", False)
    ]


def test_size_is_computed_without_writing_the_json(sam_event: dict[str, Any]) -> None:
    # 1E+7000000 written out in plain digits is 7,000,001 bytes; the text is never built.
    sam_event["state"] = {"n": Decimal("1E+7000000")}
    size = len(json_dumps(load_fixture("sam-dynamodb-update.json"), separators=(",", ":")).encode())
    expected = size + len(',"state":{"n":}') + 7_000_001
    assert validate_event(sam_event) == [
        Problem(
            "", f"is {expected:,} bytes of JSON; Lambda's invocation payload limit is 6 MB (6,291,456 bytes)", False
        )
    ]


def json_size(value: Any) -> int | None:
    """The computed JSON size of a value JSON can carry (no problem found)."""
    problems: list[Problem] = []
    size = _json_size(value, problems)
    assert problems == []
    return size


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_computed_size_is_the_compact_json_length(name: str, fixture_loader: Callable[[str], Any]) -> None:
    event = fixture_loader(name)
    assert json_size(event) == len(json_dumps(event, separators=(",", ":")).encode())


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1E+30"),
        Decimal("-0.000120"),
        Decimal("-0"),
        Decimal("12.50"),
        Decimal("0E-7"),
        'caf\u00e9 \u2603 "quoted" \\ \n \x01',
        [1.5, 1e300, -0.0, True, None, {"": []}],
    ],
)
def test_computed_size_matches_json_dumps(value: Any) -> None:
    assert json_size(value) == len(json_dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


@pytest.mark.parametrize(
    ("number", "digits"),
    [(10**10_000, 10_001), (-(10**5_000) + 1, 5_001), (10**3999, 4_000), (-(10**4000), 4_002)],
    ids=["10**10000", "1-10**5000", "10**3999", "-10**4000"],
)
def test_computed_size_of_ints_beyond_pythons_text_limit(number: int, digits: int) -> None:
    # Python refuses to write ints of more than 4300 digits as text; their size is still counted.
    assert json_size(number) == digits


def test_values_json_cannot_carry_are_problems(sam_event: dict[str, Any]) -> None:
    sam_event["state"] = {"total": float("nan"), "tags": {"a"}, 3: "three"}
    cycle: list[Any] = []
    cycle.append(cycle)
    sam_event["extra"] = cycle
    assert validate_event(sam_event) == [
        Problem("state", "has a key that is a number; JSON object keys are strings", False),
        Problem("state.total", "nan is not a JSON value; Lambda events are JSON", False),
        Problem("state.tags", "a Python set is not a JSON value; Lambda events are JSON", False),
        Problem("extra[0]", "contains itself; JSON cannot hold a cycle", False),
    ]


# --------------------------------------------------------------------------------------------------
# Garbage in, problems out


GARBAGE: list[Any] = [
    None,
    [],
    "x",
    0,
    Decimal("sNaN"),
    {"Records": {}},
    {"Records": "x"},
    {"Records": None},
    {"Records": [None, 1, "x", [], {}, True]},
    {"Records": [[{"eventID": "1"}]]},
    {"Records": [{"dynamodb": {"Keys": "x"}}]},
    {"Records": [{"dynamodb": {"Keys": {"Id": "x"}, "NewImage": [], "OldImage": {"a": []}}}]},
    {"Records": [{"dynamodb": {"Keys": [], "NewImage": {"a": {"M": {"b": {"L": "x"}}}}, "SizeBytes": 10**5000}}]},
    {"Records": [{"dynamodb": {"ApproximateCreationDateTime": Decimal("1E+999999999"), "SizeBytes": Decimal("NaN")}}]},
    {"Records": [{"dynamodb": {"ApproximateCreationDateTime": Decimal("sNaN"), "SequenceNumber": "9" * 100_000}}]},
    {"Records": [{"dynamodb": {"ApproximateCreationDateTime": float("inf"), "StreamViewType": ["KEYS_ONLY"]}}]},
    {"Records": [{"eventName": ["INSERT"], "userIdentity": [], "eventSourceARN": {"a": 1}}]},
    {"Records": [{"kinesis": None}, {"kinesis": {"data": 5, "sequenceNumber": 5}}]},
    {"Records": [{"kinesis": {"data": encoded(b"[" * 100_000)}}]},
    {"Records": [{"kinesis": {"data": encoded(b'{"dynamodb": {"Keys": 1e999}}')}}]},
    {"Records": [{"kinesis": {"data": encoded(b"\xff\xfe")}}]},
    {"Records": [{}], "window": None, "state": None, "isFinalInvokeForWindow": Decimal("1")},
    {"Records": [{}], "window": {"start": 1, "end": []}},
]


@pytest.mark.parametrize("event", GARBAGE)
def test_garbage_gives_problems_not_exceptions(event: Any) -> None:
    problems = validate_event(event, strict=True)
    assert problems
    assert all(type(problem) is Problem and isinstance(problem.path, str) for problem in problems)


def test_records_that_are_lists() -> None:
    assert validate_event({"Records": [[], ["x"]]}) == [
        Problem("Records[0]", "a stream record must be a JSON object, got an array", False),
        Problem("Records[1]", "a stream record must be a JSON object, got an array", False),
    ]


def test_keys_that_are_strings(sam_event: dict[str, Any]) -> None:
    sam_event["Records"][0]["dynamodb"]["Keys"] = {"Id": "101"}
    assert validate_event(sam_event) == [
        Problem(
            "Records[0].dynamodb.Keys.Id",
            'expected an AttributeValue object such as {"S": "text"}, got a string',
            False,
        )
    ]


def test_huge_numbers_are_named_not_printed(sam_event: dict[str, Any]) -> None:
    sam_event["Records"][0]["dynamodb"]["SizeBytes"] = 10**5000
    sam_event["Records"][1]["dynamodb"]["ApproximateCreationDateTime"] = Decimal("1E+999999999")
    assert validate_event(sam_event, size=1) == [
        Problem(
            "Records[0].dynamodb.SizeBytes",
            "is a number of more than 40 digits, but DynamoDB's size of Keys (5) + NewImage (21) is 26",
            False,
        ),
        Problem(
            "Records[1].dynamodb.ApproximateCreationDateTime",
            "1E+999999999 is after the year 5000 in epoch seconds (milliseconds?); DynamoDB Streams records carry "
            "seconds",
            False,
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Properties

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
FIELD_NAMES = [
    "Records", "window", "state", "start", "end", "eventID", "eventName", "eventVersion", "eventSource",
    "awsRegion", "dynamodb", "eventSourceARN", "userIdentity", "Keys", "NewImage", "OldImage", "SequenceNumber",
    "SizeBytes", "StreamViewType", "ApproximateCreationDateTime", "kinesis", "data", "sequenceNumber",
    "type", "principalId", "S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL",
]  # fmt: skip
json_values = st.recursive(
    json_scalars | st.sampled_from(["INSERT", "REMOVE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY", "aws:dynamodb", "1"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=30,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key or index path inside ``value``."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*prefix, key))
            found.extend(paths_of(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found.extend(paths_of(child, (*prefix, index)))
    return found


RECORD_PROPERTIES = (
    "event_id", "event_name", "event_version", "event_source", "aws_region", "event_source_arn", "table_name",
    "user_identity", "is_ttl_delete", "sequence_number", "size_bytes", "view_type", "approximate_creation_time",
)  # fmt: skip
WINDOW_PROPERTIES = (
    "window_start", "window_end", "state", "shard_id", "event_source_arn", "is_final_invoke_for_window",
    "is_window_terminated_early",
)  # fmt: skip


def lenient_reader_reads_everything(event: Any) -> None:
    """Read every field through StreamEvent: none may raise on an event validate_event passed."""
    stream = StreamEvent(event)
    for record in stream:
        for name in RECORD_PROPERTIES:
            getattr(record, name)
        assert dict(record.keys)
        for image in (record.new_image, record.old_image):
            if image is not None:
                dict(image)
    if stream.is_tumbling_window:
        for name in WINDOW_PROPERTIES:
            getattr(stream, name)


@PROPERTY_SETTINGS
@given(json_values)
def test_never_raises_on_json_like_values(value: Any) -> None:
    for event in (value, {"Records": value}, {"Records": [value]}, {"Records": [{"dynamodb": value}]}):
        problems = validate_event(event, strict=True)
        assert all(type(problem) is Problem for problem in problems)
        assert validate_event(event) == [problem for problem in problems if not problem.strict_only]


def json_text(value: Any) -> str:
    """JSON text of a drawn value; non-finite numbers as the NaN/Infinity literals Python's json accepts."""
    try:
        return json_dumps(value)
    except ValueError:
        return json.dumps(value, default=lambda number: math.nan if number.is_nan() else float(number))


@PROPERTY_SETTINGS
@given(st.sampled_from(FIXTURE_NAMES), st.data())
def test_never_raises_on_mutated_fixtures(name: str, data: st.DataObject) -> None:
    event = load_fixture(name)
    kinesis = name == "events-kinesis-dynamodb.json"
    for _ in range(data.draw(st.integers(1, 3))):
        target, index = event, None
        if kinesis and data.draw(st.booleans()):  # reach into the base64 JSON of a Kinesis record
            index = data.draw(st.integers(0, 1))
            try:
                target = json.loads(base64.b64decode(event["Records"][index]["kinesis"]["data"]), parse_float=Decimal)
            except Exception:  # noqa: BLE001 - an earlier mutation broke the wrapping: mutate the outside
                target, index = event, None
        paths = paths_of(target)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = target
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(json_values)
        if index is not None:
            event["Records"][index]["kinesis"]["data"] = encoded(json_text(target).encode())
    problems = validate_event(event, strict=True)
    assert all(type(problem) is Problem for problem in problems)
    lenient = validate_event(event)
    assert lenient == [problem for problem in problems if not problem.strict_only]
    if not lenient:
        lenient_reader_reads_everything(event)


def test_window_flags_that_are_not_booleans_are_problems_without_a_window_too() -> None:
    # Found by the events fuzzer: an event without "window" kept a numeric isWindowTerminatedEarly, which
    # validate_event let pass while StreamEvent.is_window_terminated_early refused it.
    event = load_fixture("sam-dynamodb-update.json")
    event["isWindowTerminatedEarly"] = 10**40
    event["isFinalInvokeForWindow"] = False
    assert validate_event(event) == [
        Problem("isWindowTerminatedEarly", "must be true or false, got a number of more than 40 digits", False)
    ]
