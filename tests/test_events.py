"""Tests for the typed views of DynamoDB Streams Lambda events: ``StreamEvent`` and ``StreamRecord``.

The facts checked here come from the AWS documentation: "Using AWS Lambda with Amazon DynamoDB" (the event shape),
"Change data capture for DynamoDB Streams" (images per view type), "Working with DynamoDB Streams and Time to Live"
(TTL deletes), "Using tumbling windows with AWS Lambda", and "Change data capture for Kinesis Data Streams with
DynamoDB". docs/lambda-streams.md gives each rule with its page's address.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import operator
import pickle
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pydantic
import pytest

from shardline import (
    AttributeValueError,
    EventName,
    EventShapeError,
    ShardlineError,
    StreamEvent,
    StreamRecord,
    StreamViewType,
)

FIXTURES = Path(__file__).parent / "fixtures"
UTC = timezone.utc

SAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
KINESIS_SEQ = "49590338271490256608559692538361571095921575989136588898"
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def at(path: str) -> str:
    """An anchored regex matching the ``path: `` prefix of an error message."""
    return f"^{re.escape(path)}: "


def ddb_record(
    event_name: str = "MODIFY",
    *,
    keys: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    view_type: str = "NEW_AND_OLD_IMAGES",
    user_identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A DynamoDB Streams record in AWS's field order; images are included only when given."""
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1428537600,
        "Keys": keys if keys is not None else {"pk": {"S": "order#1"}},
    }
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    dynamodb |= {"SequenceNumber": "4421584500000000017450439091", "SizeBytes": 26, "StreamViewType": view_type}
    record: dict[str, Any] = {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": SAM_ARN,
    }
    if user_identity is not None:
        record["userIdentity"] = user_identity
    return record


def kinesis_record(inner: Any = None, *, data: Any = ..., sequence_number: str = KINESIS_SEQ) -> dict[str, Any]:
    """A Kinesis Data Streams for DynamoDB record wrapping ``inner`` (or carrying raw ``data``)."""
    if data is ...:
        data = base64.b64encode(json.dumps(inner).encode()).decode()
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "9A1C2E6F0B7D4C3A8E5F1D2B6C9A0E47",
            "sequenceNumber": sequence_number,
            "data": data,
            "approximateArrivalTimestamp": 1700000000.456,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000006:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/orders-consumer-role",
        "awsRegion": "us-east-1",
        "eventSourceARN": KINESIS_ARN,
    }


def kinesis_inner(event_name: str = "INSERT", **dynamodb: Any) -> dict[str, Any]:
    """The DynamoDB change record a Kinesis record carries (no eventVersion, no SequenceNumber, ...).

    ``dynamodb`` overrides fields of its ``dynamodb`` section; None removes the field.
    """
    section = {
        "ApproximateCreationDateTime": 1700000000123,
        "Keys": {"pk": {"S": "order#1"}},
        "NewImage": {"pk": {"S": "order#1"}, "status": {"S": "placed"}},
        "SizeBytes": 33,
    } | dynamodb
    return {
        "awsRegion": "us-east-1",
        "eventID": "2f2a6c8e-5b1d-4a3e-9c7f-0e1d2c3b4a59",
        "eventName": event_name,
        "userIdentity": None,
        "recordFormat": "application/json",
        "tableName": "Orders",
        "dynamodb": {name: value for name, value in section.items() if value is not None},
        "eventSource": "aws:dynamodb",
    }


# --------------------------------------------------------------------------------------------------
# A rich image: every AttributeValue type, nested maps and lists.

RICH_RAW: dict[str, Any] = {
    "pk": {"S": "order#1"},
    "sk": {"N": "3"},
    "status": {"S": "shipped"},
    "total": {"N": "12.50"},
    "paid": {"BOOL": True},
    "note": {"NULL": True},
    "blob": {"B": "aGVsbG8="},
    "tags": {"SS": ["gift", "express"]},
    "scores": {"NS": ["1", "2.5"]},
    "lines": {
        "L": [
            {"M": {"sku": {"S": "A-1"}, "qty": {"N": "2"}}},
            {"M": {"sku": {"S": "B-2"}, "qty": {"N": "1"}}},
        ]
    },
    "address": {"M": {"city": {"S": "Berlin"}, "zip": {"S": "10115"}}},
}


def rich_expected() -> dict[str, Any]:
    """RICH_RAW decoded, built fresh for each use (tests mutate it)."""
    return {
        "pk": "order#1",
        "sk": Decimal("3"),
        "status": "shipped",
        "total": Decimal("12.50"),
        "paid": True,
        "note": None,
        "blob": b"hello",
        "tags": {"gift", "express"},
        "scores": {Decimal("1"), Decimal("2.5")},
        "lines": [{"sku": "A-1", "qty": Decimal("2")}, {"sku": "B-2", "qty": Decimal("1")}],
        "address": {"city": "Berlin", "zip": "10115"},
    }


def rich_record() -> StreamRecord:
    raw = ddb_record("MODIFY", keys={"pk": RICH_RAW["pk"], "sk": RICH_RAW["sk"]}, new=copy.deepcopy(RICH_RAW))
    return StreamEvent({"Records": [raw]})[0]


@dataclasses.dataclass
class OrderDataclass:
    pk: str
    sk: Decimal
    status: str
    total: Decimal
    paid: bool
    note: None
    blob: bytes
    tags: set[str]
    scores: set[Decimal]
    lines: list[dict[str, Any]]
    address: dict[str, str]


class OrderModel(pydantic.BaseModel):
    pk: str
    sk: Decimal
    status: str
    total: Decimal
    paid: bool
    note: None
    blob: bytes
    tags: set[str]
    scores: set[Decimal]
    lines: list[dict[str, Any]]
    address: dict[str, str]


class OrderSummaryModel(pydantic.BaseModel):
    pk: str
    total: Decimal


@dataclasses.dataclass
class OrderSummary:
    kind: ClassVar[str] = "summary"
    pk: str
    total: Decimal
    computed: str = dataclasses.field(init=False, default="n/a")


# --------------------------------------------------------------------------------------------------
# 1. The SAM sample event

SAM_RECORDS = [
    pytest.param(
        0,
        {
            "event_id": "c4ca4238a0b923820dcc509a6f75849b",
            "event_name": EventName.INSERT,
            "sequence_number": "4421584500000000017450439091",
            "size_bytes": 26,
            "new_image": {"Message": "New item!", "Id": Decimal("101")},
            "old_image": None,
            "changed_attributes": None,
        },
        id="INSERT",
    ),
    pytest.param(
        1,
        {
            "event_id": "c81e728d9d4c2f636f067f89cc14862c",
            "event_name": EventName.MODIFY,
            "sequence_number": "4421584500000000017450439092",
            "size_bytes": 59,
            "new_image": {"Message": "This item has changed", "Id": Decimal("101")},
            "old_image": {"Message": "New item!", "Id": Decimal("101")},
            "changed_attributes": frozenset({"Message"}),
        },
        id="MODIFY",
    ),
    pytest.param(
        2,
        {
            "event_id": "eccbc87e4b5ce2fe28308fd9f2a7baf3",
            "event_name": EventName.REMOVE,
            "sequence_number": "4421584500000000017450439093",
            "size_bytes": 38,
            "new_image": None,
            "old_image": {"Message": "This item has changed", "Id": Decimal("101")},
            "changed_attributes": None,
        },
        id="REMOVE",
    ),
]


@pytest.fixture
def sam_raw() -> dict[str, Any]:
    return load("sam-dynamodb-update.json")


@pytest.fixture
def sam_stream(sam_raw: dict[str, Any]) -> StreamEvent:
    return StreamEvent(sam_raw)


@pytest.mark.parametrize(("index", "expected"), SAM_RECORDS)
def test_sam_record_fields(sam_stream: StreamEvent, index: int, expected: dict[str, Any]) -> None:
    record = sam_stream[index]

    assert record.event_id == expected["event_id"]
    assert record.event_name is expected["event_name"]
    assert record.event_version == "1.1"
    assert record.event_source == "aws:dynamodb"
    assert record.aws_region == "us-east-1"
    assert record.event_source_arn == SAM_ARN
    assert record.table_name == "ExampleTableWithStream"
    assert record.user_identity is None
    assert record.is_ttl_delete is False
    assert record.is_kinesis is False
    assert record.sequence_number == expected["sequence_number"]
    assert record.size_bytes == expected["size_bytes"]
    assert record.view_type is StreamViewType.NEW_AND_OLD_IMAGES
    assert record.approximate_creation_time == datetime(2015, 4, 9, tzinfo=UTC)
    assert record.approximate_creation_time.utcoffset() == timedelta(0)
    assert record.keys == {"Id": Decimal("101")}
    assert record.new_image == expected["new_image"]
    assert record.old_image == expected["old_image"]
    assert record.changed_attributes == expected["changed_attributes"]
    assert record.raw is sam_stream.raw["Records"][index]
    assert record.stream_record is record.raw


def test_sam_event_container(sam_stream: StreamEvent, sam_raw: dict[str, Any]) -> None:
    assert sam_stream.raw is sam_raw
    assert len(sam_stream) == 3
    assert isinstance(sam_stream.records, Sequence)  # a StreamRecords: records made as they are read
    assert sam_stream.records is sam_stream.records  # built once
    assert list(sam_stream) == list(sam_stream.records)
    assert sam_stream[0] is sam_stream.records[0]
    assert sam_stream[-1].event_name is EventName.REMOVE
    assert sam_stream[1:] == sam_stream.records[1:]
    assert [record.raw for record in sam_stream] == sam_raw["Records"]
    assert [f"{record.event_name}" for record in sam_stream] == ["INSERT", "MODIFY", "REMOVE"]


def test_images_and_keys_are_cached_per_record(sam_stream: StreamEvent) -> None:
    record = sam_stream[1]
    assert record.new_image is record.new_image
    assert record.old_image is record.old_image
    assert record.keys is record.keys
    assert sam_stream[1] is record  # the event hands out the same record view every time


def test_empty_event() -> None:
    event = StreamEvent({"Records": []})
    assert len(event) == 0
    assert event.records == ()
    assert event.event_source_arn is None


def test_record_repr_names_event_and_sequence(sam_stream: StreamEvent) -> None:
    assert repr(sam_stream[0]) == "<StreamRecord INSERT seq=4421584500000000017450439091>"
    assert repr(StreamEvent({"Records": [{}]})[0]) == "<StreamRecord (malformed) Records[0]>"


# --------------------------------------------------------------------------------------------------
# 2. Images present per view type and event (the table in the AWS page on DynamoDB Streams' view types)

IMAGES_BY_VIEW = {
    # view type: {event: (NewImage present, OldImage present)}
    "KEYS_ONLY": {"INSERT": (False, False), "MODIFY": (False, False), "REMOVE": (False, False)},
    "NEW_IMAGE": {"INSERT": (True, False), "MODIFY": (True, False), "REMOVE": (False, False)},
    "OLD_IMAGE": {"INSERT": (False, False), "MODIFY": (False, True), "REMOVE": (False, True)},
    "NEW_AND_OLD_IMAGES": {"INSERT": (True, False), "MODIFY": (True, True), "REMOVE": (False, True)},
}
NEW_RAW = {"pk": {"S": "order#1"}, "status": {"S": "shipped"}}
OLD_RAW = {"pk": {"S": "order#1"}, "status": {"S": "placed"}}


@pytest.mark.parametrize(
    ("view_type", "event_name", "has_new", "has_old"),
    [
        pytest.param(view, event, new, old, id=f"{view}-{event}")
        for view, events in IMAGES_BY_VIEW.items()
        for event, (new, old) in events.items()
    ],
)
def test_images_present_exactly_as_the_view_type_table_says(
    view_type: str, event_name: str, has_new: bool, has_old: bool
) -> None:
    raw = ddb_record(
        event_name,
        new=NEW_RAW if has_new else None,
        old=OLD_RAW if has_old else None,
        view_type=view_type,
    )
    record = StreamRecord(raw)

    assert record.view_type is StreamViewType(view_type)
    assert record.event_name is EventName(event_name)
    assert record.keys == {"pk": "order#1"}
    assert record.new_image == ({"pk": "order#1", "status": "shipped"} if has_new else None)
    assert record.old_image == ({"pk": "order#1", "status": "placed"} if has_old else None)
    assert record.changed_attributes == (frozenset({"status"}) if has_new and has_old else None)
    assert (record.new_image_as(dict) is None) is not has_new
    assert (record.old_image_as(dict) is None) is not has_old


# --------------------------------------------------------------------------------------------------
# 3. TTL deletes


@pytest.mark.parametrize(
    ("event_name", "identity", "expected"),
    [
        pytest.param("REMOVE", TTL_IDENTITY, True, id="remove-by-ttl"),
        pytest.param("REMOVE", None, False, id="remove-by-user"),
        pytest.param("INSERT", TTL_IDENTITY, False, id="insert-with-service-identity"),
        pytest.param("MODIFY", TTL_IDENTITY, False, id="modify-with-service-identity"),
        pytest.param("REMOVE", {"type": "Service", "principalId": "lambda.amazonaws.com"}, False, id="other-service"),
        pytest.param("REMOVE", {"type": "User", "principalId": "dynamodb.amazonaws.com"}, False, id="not-service"),
        pytest.param("REMOVE", {"principalId": "dynamodb.amazonaws.com"}, False, id="no-type"),
        pytest.param("REMOVE", {"type": "Service"}, False, id="no-principal"),
        pytest.param("REMOVE", {}, False, id="empty-identity"),
    ],
)
def test_is_ttl_delete(event_name: str, identity: dict[str, Any] | None, expected: bool) -> None:
    record = StreamRecord(ddb_record(event_name, old=OLD_RAW, user_identity=identity))
    assert record.is_ttl_delete is expected
    assert record.user_identity == identity


def test_ttl_delete_fixture() -> None:
    record = StreamEvent(load("events-ttl-delete.json"))[0]
    assert record.is_ttl_delete is True
    assert record.user_identity == TTL_IDENTITY
    assert record.event_name is EventName.REMOVE
    assert record.table_name == "Sessions"
    assert record.keys == {"pk": "session#42"}
    assert record.old_image == {"pk": "session#42", "expiresAt": Decimal("1699999990")}
    assert record.new_image is None


def test_seed_event_insert_with_service_identity_is_not_a_ttl_delete() -> None:
    event = StreamEvent(load("seed-event.json"))
    insert = event[0]
    assert insert.event_name is EventName.INSERT
    assert insert.user_identity == TTL_IDENTITY  # read leniently
    assert insert.is_ttl_delete is False
    assert [record.is_ttl_delete for record in event] == [False, False, False]
    assert {record.aws_region for record in event} == {"eu-central-1"}
    assert {record.table_name for record in event} == {"ExampleTableWithStream"}


# --------------------------------------------------------------------------------------------------
# 4. Lenient reading of real-world variations

# AWS's own documentation example: eventID "1", SequenceNumber "111", eventVersion "1.0", no timestamp,
# and a placeholder account id in the ARN.
AWS_DOC_RECORD: dict[str, Any] = {
    "eventID": "1",
    "eventVersion": "1.0",
    "dynamodb": {
        "Keys": {"Id": {"N": "101"}},
        "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "SequenceNumber": "111",
        "SizeBytes": 26,
    },
    "awsRegion": "us-west-2",
    "eventName": "INSERT",
    "eventSourceARN": (
        "arn:aws:dynamodb:us-west-2:account-id:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
    ),
    "eventSource": "aws:dynamodb",
}


def test_aws_documentation_example_is_read_leniently() -> None:
    record = StreamEvent({"Records": [AWS_DOC_RECORD]})[0]
    assert record.event_id == "1"
    assert record.event_version == "1.0"
    assert record.sequence_number == "111"
    assert record.approximate_creation_time is None
    assert record.table_name == "ExampleTableWithStream"
    assert record.new_image == {"Message": "New item!", "Id": Decimal("101")}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1428537600, datetime(2015, 4, 9, tzinfo=UTC), id="int-seconds"),
        pytest.param(1693997155.0, datetime(2023, 9, 6, 10, 45, 55, tzinfo=UTC), id="float-seconds"),
        pytest.param(1693997155.5, datetime(2023, 9, 6, 10, 45, 55, 500000, tzinfo=UTC), id="fractional-seconds"),
        pytest.param(0, datetime(1970, 1, 1, tzinfo=UTC), id="epoch"),
        pytest.param(None, None, id="null"),
    ],
)
def test_approximate_creation_time_is_epoch_seconds(value: float | None, expected: datetime | None) -> None:
    raw = ddb_record("INSERT", new=NEW_RAW)
    raw["dynamodb"]["ApproximateCreationDateTime"] = value
    created = StreamRecord(raw).approximate_creation_time
    assert created == expected
    if created is not None:
        assert created.utcoffset() == timedelta(0)


def test_optional_fields_absent_are_none() -> None:
    record = StreamRecord({"eventID": "1", "eventName": "INSERT", "dynamodb": {"Keys": {}, "SequenceNumber": "111"}})
    assert record.event_version is None
    assert record.event_source is None
    assert record.aws_region is None
    assert record.event_source_arn is None
    assert record.table_name is None
    assert record.user_identity is None
    assert record.size_bytes is None
    assert record.view_type is None
    assert record.approximate_creation_time is None
    assert record.new_image is None
    assert record.old_image is None
    assert record.changed_attributes is None
    assert record.is_ttl_delete is False


# --------------------------------------------------------------------------------------------------
# 5. Lazy images


def stored_names(image: dict[str, Any]) -> list[str]:
    """The attributes decoded so far: the names in the image's dict storage, bypassing any override."""
    return [name for name in dict.keys(image) if isinstance(name, str)]


def test_nothing_is_decoded_up_front_yet_the_storage_is_never_empty() -> None:
    # json's C encoder prints "{}" for a dict subclass with empty storage without asking for its items;
    # a fresh image therefore holds one private, non-string placeholder key until it is filled.
    image = rich_record().new_image
    assert stored_names(image) == []
    assert dict.__len__(image) == 1
    assert json.loads(json.dumps(image, default=str)) == json.loads(json.dumps(rich_expected(), default=str))
    assert stored_names(image) == list(RICH_RAW)
    assert dict.__len__(image) == len(RICH_RAW)


def test_the_placeholder_never_shows_through_python_level_access() -> None:
    image = rich_record().new_image
    image["total"]
    assert all(isinstance(name, str) for name in image)
    assert all(isinstance(name, str) for name in {**rich_record().new_image})
    assert "shardline" not in repr(rich_record().new_image)


def test_c_level_readers_of_a_partly_decoded_image_fail_loudly() -> None:
    # A C extension that reads dict storage directly meets the non-string placeholder key; a str-keyed
    # consumer like json's pure-Python mapping check would refuse it rather than write half an image.
    image = rich_record().new_image
    image["total"]
    raw_storage = dict(dict.items(image))
    with pytest.raises(TypeError, match=r"^keys must be str, int, float, bool or None, not _Unfilled$"):
        json.dumps(raw_storage)


def test_reading_one_attribute_decodes_only_that_attribute() -> None:
    image = rich_record().new_image
    assert image["total"] == Decimal("12.50")
    assert stored_names(image) == ["total"]
    assert image["lines"] == rich_expected()["lines"]
    assert stored_names(image) == ["total", "lines"]


def test_len_contains_and_get_answer_without_decoding_the_rest() -> None:
    image = rich_record().new_image
    assert len(image) == len(RICH_RAW)
    assert "address" in image
    assert "absent" not in image
    assert image.get("absent") is None
    assert image.get("absent", 7) == 7
    assert stored_names(image) == []
    assert image.get("paid") is True
    assert stored_names(image) == ["paid"]


def test_missing_attribute_raises_key_error_like_a_dict() -> None:
    image = rich_record().new_image
    with pytest.raises(KeyError, match=r"^'absent'$"):
        image["absent"]
    assert stored_names(image) == []


def test_decoded_attributes_are_cached() -> None:
    image = rich_record().new_image
    lines = image["lines"]
    assert image["lines"] is lines
    assert image.get("lines") is lines


def test_filling_keeps_raw_order_and_identity_after_out_of_order_reads() -> None:
    image = rich_record().new_image
    address, lines, tags = image["address"], image["lines"], image["tags"]
    assert stored_names(image) == ["address", "lines", "tags"]

    assert list(image) == list(RICH_RAW)
    assert stored_names(image) == list(RICH_RAW)
    assert image["address"] is address
    assert image["lines"] is lines
    assert image["tags"] is tags
    assert image == rich_expected()


def test_filling_in_order_keeps_raw_order() -> None:
    image = rich_record().new_image
    sk = image["sk"]
    assert list(image.items()) == list(rich_expected().items())
    assert image["sk"] is sk


def test_image_is_a_dict() -> None:
    image = rich_record().new_image
    assert isinstance(image, dict)


# Operations that see the whole image: each must give what it gives for the plain decoded dict.
WHOLE_IMAGE_VIEWS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "dict()": dict,
    "{**image}": lambda image: {**image},
    "image == expected": lambda image: image == rich_expected(),
    "expected == image": lambda image: rich_expected() == image,
    "image != expected": lambda image: image != rich_expected(),
    "list()": list,
    "reversed()": lambda image: list(reversed(image)),
    "keys()": lambda image: list(image.keys()),
    "values()": lambda image: list(image.values()),
    "items()": lambda image: list(image.items()),
    "len()": len,
    "in": lambda image: ("lines" in image, "absent" in image),
    "get()": lambda image: (image.get("address"), image.get("absent", 0)),
    "repr()": repr,
    "str()": str,
    "json.dumps": lambda image: json.dumps(image, default=str),
    "json.dumps(indent)": lambda image: json.dumps(image, default=str, indent=2),
    "json.dumps(sort_keys)": lambda image: json.dumps(image, default=str, sort_keys=True),
    "copy.copy": copy.copy,
    "copy.deepcopy": copy.deepcopy,
    "image.copy()": lambda image: image.copy(),
    "pickle": lambda image: pickle.loads(pickle.dumps(image)),
    "image | other": lambda image: image | {"extra": 1},
    "other | image": lambda image: {"extra": 1} | image,
    "dataclass(**image)": lambda image: OrderDataclass(**image),
    "pydantic(**image)": lambda image: OrderModel(**image),
}
IMAGE_STATES: dict[str, Callable[[dict[str, Any]], object]] = {
    "fresh": lambda image: None,
    "touched-out-of-order": lambda image: image["lines"],
    "touched-in-order": lambda image: image["sk"],
    "filled": lambda image: image.keys(),
}


@pytest.mark.parametrize("state", list(IMAGE_STATES))
@pytest.mark.parametrize("view", list(WHOLE_IMAGE_VIEWS))
def test_whole_image_views_see_every_attribute(view: str, state: str) -> None:
    image = rich_record().new_image
    IMAGE_STATES[state](image)
    look = WHOLE_IMAGE_VIEWS[view]

    assert look(image) == look(rich_expected())
    assert image == rich_expected()
    assert list(image) == list(RICH_RAW)


@pytest.mark.parametrize("view", ["copy.copy", "copy.deepcopy", "pickle", "image.copy()"])
def test_copies_are_plain_dicts(view: str) -> None:
    image = rich_record().new_image
    duplicate = WHOLE_IMAGE_VIEWS[view](image)
    assert type(duplicate) is dict
    assert list(duplicate) == list(RICH_RAW)


def test_deepcopy_does_not_share_nested_values() -> None:
    image = rich_record().new_image
    duplicate = copy.deepcopy(image)
    assert duplicate["lines"] == image["lines"]
    assert duplicate["lines"] is not image["lines"]


def test_json_dumps_of_a_fresh_image_is_the_whole_item_in_order() -> None:
    image = rich_record().new_image
    assert json.dumps(image, default=str) == json.dumps(rich_expected(), default=str)


# Mutations: each applied to the image and to a plain dict must return the same and leave the same.
MUTATIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "setitem new": lambda image: image.__setitem__("new", 1),
    "setitem existing": lambda image: image.__setitem__("status", "returned"),
    "delitem": lambda image: image.__delitem__("status"),
    "pop": lambda image: image.pop("status"),
    "pop default": lambda image: image.pop("absent", None),
    "popitem": lambda image: image.popitem(),
    "update": lambda image: image.update({"status": "returned", "new": 1}, extra=2),
    "setdefault existing": lambda image: image.setdefault("status", "x"),
    "setdefault new": lambda image: image.setdefault("new", "x"),
    "|=": lambda image: dict(operator.ior(image, {"new": 1})),
    "clear": lambda image: image.clear(),
}


@pytest.mark.parametrize("state", list(IMAGE_STATES))
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_mutation_behaves_like_a_plain_dict(mutation: str, state: str) -> None:
    image = rich_record().new_image
    IMAGE_STATES[state](image)
    expected = rich_expected()
    change = MUTATIONS[mutation]

    assert change(image) == change(expected)
    assert image == expected
    assert list(image) == list(expected)
    assert len(image) == len(expected)


@pytest.mark.parametrize("right_state", list(IMAGE_STATES))
@pytest.mark.parametrize("left_state", list(IMAGE_STATES))
def test_two_images_with_the_same_content_compare_equal(left_state: str, right_state: str) -> None:
    # e.g. comparing the NewImage of a redelivered record with the one seen before
    left, right = rich_record().new_image, rich_record().new_image
    IMAGE_STATES[left_state](left)
    IMAGE_STATES[right_state](right)
    assert left == right
    assert not left != right  # noqa: SIM202 - checks __ne__ itself
    assert right == left


def test_images_with_different_content_compare_unequal() -> None:
    left, right = rich_record().new_image, rich_record().new_image
    right["status"] = "returned"
    assert left != right
    assert right != left


@pytest.mark.parametrize("state", list(IMAGE_STATES))
def test_dataclasses_asdict_copies_the_whole_image(state: str) -> None:
    @dataclasses.dataclass
    class Change:
        new: dict[str, Any]

    image = rich_record().new_image
    IMAGE_STATES[state](image)
    copied = dataclasses.asdict(Change(image))["new"]
    assert copied == rich_expected()
    assert list(copied) == list(RICH_RAW)


def test_mutated_image_stays_with_the_record() -> None:
    record = rich_record()
    record.new_image["seen"] = True
    assert record.new_image["seen"] is True
    assert record.new_image["status"] == "shipped"


def test_pydantic_keyword_construction_from_a_fresh_image() -> None:
    model = OrderModel(**rich_record().new_image)
    assert model.lines[1] == {"sku": "B-2", "qty": Decimal("1")}
    assert model.blob == b"hello"
    assert model.tags == {"gift", "express"}


@pytest.mark.parametrize("read_first", [None, "total", "pk"])
def test_pydantic_model_validate_reads_a_lazy_image_in_full(read_first: str | None) -> None:
    image = rich_record().new_image
    assert image is not None
    if read_first is not None:
        image[read_first]
    assert OrderModel.model_validate(image) == OrderModel(**rich_expected())


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        pytest.param(OrderSummaryModel, OrderSummaryModel(pk="order#1", total=Decimal("12.50")), id="pydantic"),
        pytest.param(OrderSummary, OrderSummary(pk="order#1", total=Decimal("12.50")), id="dataclass"),
        pytest.param(OrderModel, OrderModel(**rich_expected()), id="pydantic-all-fields"),
        pytest.param(OrderDataclass, OrderDataclass(**rich_expected()), id="dataclass-all-fields"),
    ],
)
def test_new_image_as_builds_the_model_ignoring_extra_attributes(model: Any, expected: Any) -> None:
    record = rich_record()
    assert record.new_image_as(model) == expected
    assert record.old_image_as(model) is None  # the record has no OldImage


def test_new_image_as_dataclass_passes_only_init_fields() -> None:
    @dataclasses.dataclass
    class Scaled:
        kind: ClassVar[str] = "scaled"
        pk: str
        factor: dataclasses.InitVar[Decimal]
        total: Decimal = Decimal(0)
        computed: Decimal = dataclasses.field(init=False, default=Decimal(0))

        def __post_init__(self, factor: Decimal) -> None:
            self.computed = self.total * factor

    new = {
        "pk": {"S": "order#1"},
        "kind": {"S": "not a field"},  # a ClassVar: must not be passed
        "computed": {"N": "99"},  # init=False: must not be passed
        "factor": {"N": "2"},  # an InitVar: must be passed
        "total": {"N": "1.5"},
        "unrelated": {"BOOL": True},
    }
    built = StreamRecord(ddb_record("INSERT", new=new)).new_image_as(Scaled)
    assert built == Scaled(pk="order#1", factor=Decimal(2), total=Decimal("1.5"))
    assert built.computed == Decimal("3.0")
    assert Scaled.kind == "scaled"


def test_new_image_as_calls_any_callable_with_keyword_arguments(sam_stream: StreamEvent) -> None:
    def build(**attributes: Any) -> tuple[str, ...]:
        return tuple(attributes)

    assert sam_stream[0].new_image_as(build) == ("Message", "Id")


def test_old_image_as_reads_the_old_image(sam_stream: StreamEvent) -> None:
    @dataclasses.dataclass
    class Greeting:
        Message: str

    assert sam_stream[1].old_image_as(Greeting) == Greeting("New item!")
    assert sam_stream[1].new_image_as(Greeting) == Greeting("This item has changed")
    assert sam_stream[2].new_image_as(Greeting) is None


def test_new_image_as_propagates_model_errors() -> None:
    class Strict(pydantic.BaseModel):
        status: int

    with pytest.raises(pydantic.ValidationError):
        rich_record().new_image_as(Strict)


def test_keys_are_decoded() -> None:
    record = rich_record()
    assert record.keys == {"pk": "order#1", "sk": Decimal("3")}
    assert list(record.keys) == ["pk", "sk"]


def test_empty_image_is_an_empty_dict() -> None:
    record = StreamRecord(ddb_record("INSERT", new={}))
    assert record.new_image == {}
    assert json.dumps(record.new_image) == "{}"
    assert len(record.new_image) == 0


# --------------------------------------------------------------------------------------------------
# 6. changed_attributes: typed comparison


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        pytest.param({"a": {"BOOL": True}}, {"a": {"N": "1"}}, {"a"}, id="bool-true-vs-number-1"),
        pytest.param({"a": {"S": "1"}}, {"a": {"N": "1"}}, {"a"}, id="string-vs-number"),
        pytest.param({"a": {"N": "1.50"}}, {"a": {"N": "1.5"}}, set(), id="number-by-value"),
        pytest.param({"a": {"N": "100"}}, {"a": {"N": "1E2"}}, set(), id="number-exponent"),
        pytest.param({"a": {"N": "1"}}, {"a": {"N": "2"}}, {"a"}, id="number-changed"),
        pytest.param({"a": {"SS": ["x", "y"]}}, {"a": {"SS": ["y", "x"]}}, set(), id="string-set-order"),
        pytest.param({"a": {"SS": ["x", "y"]}}, {"a": {"SS": ["x", "z"]}}, {"a"}, id="string-set-changed"),
        pytest.param({"a": {"NS": ["1", "2.0"]}}, {"a": {"NS": ["2", "1.00"]}}, set(), id="number-set-by-value"),
        pytest.param({"a": {"BS": ["AQ==", "Ag=="]}}, {"a": {"BS": ["Ag==", "AQ=="]}}, set(), id="binary-set-order"),
        pytest.param({"a": {"B": "AQ=="}}, {"a": {"B": "Ag=="}}, {"a"}, id="binary-changed"),
        pytest.param({"a": {"NULL": True}}, {"a": {"S": ""}}, {"a"}, id="null-vs-empty-string"),
        pytest.param({"a": {"BOOL": False}}, {"a": {"BOOL": False}}, set(), id="bool-same"),
        pytest.param(
            {"m": {"M": {"x": {"M": {"y": {"S": "1"}}}}}},
            {"m": {"M": {"x": {"M": {"y": {"S": "2"}}}}}},
            {"m"},
            id="nested-map-changed",
        ),
        pytest.param(
            {"m": {"M": {"x": {"N": "1.0"}, "y": {"S": "k"}}}},
            {"m": {"M": {"y": {"S": "k"}, "x": {"N": "1"}}}},
            set(),
            id="nested-map-same-by-value-any-order",
        ),
        pytest.param({"m": {"M": {"x": {"S": "1"}}}}, {"m": {"M": {}}}, {"m"}, id="nested-key-removed"),
        pytest.param(
            {"l": {"L": [{"N": "1"}, {"N": "2"}]}}, {"l": {"L": [{"N": "2"}, {"N": "1"}]}}, {"l"}, id="list-order"
        ),
        pytest.param({"l": {"L": [{"N": "1.0"}]}}, {"l": {"L": [{"N": "1"}]}}, set(), id="list-number-by-value"),
        pytest.param({"l": {"L": [{"N": "1"}]}}, {"l": {"L": [{"N": "1"}, {"N": "1"}]}}, {"l"}, id="list-grew"),
        pytest.param({"a": {"S": "x"}}, {"a": {"S": "x"}, "b": {"S": "y"}}, {"b"}, id="added"),
        pytest.param({"a": {"S": "x"}, "b": {"S": "y"}}, {"a": {"S": "x"}}, {"b"}, id="removed"),
        pytest.param(
            {"keep": {"S": "x"}, "gone": {"N": "1"}, "edit": {"S": "a"}},
            {"keep": {"S": "x"}, "edit": {"S": "b"}, "new": {"BOOL": True}},
            {"gone", "edit", "new"},
            id="added-removed-changed",
        ),
    ],
)
def test_changed_attributes_compares_typed_values(old: dict[str, Any], new: dict[str, Any], changed: set[str]) -> None:
    record = StreamRecord(ddb_record("MODIFY", new=new, old=old))
    result = record.changed_attributes
    assert isinstance(result, frozenset)
    assert result == changed


@pytest.mark.parametrize(
    ("new", "old"),
    [
        pytest.param(NEW_RAW, None, id="new-only"),
        pytest.param(None, OLD_RAW, id="old-only"),
        pytest.param(None, None, id="keys-only"),
    ],
)
def test_changed_attributes_is_none_unless_both_images_exist(
    new: dict[str, Any] | None, old: dict[str, Any] | None
) -> None:
    assert StreamRecord(ddb_record("MODIFY", new=new, old=old)).changed_attributes is None


@pytest.mark.parametrize("bad", ["NewImage", "OldImage"])
def test_changed_attributes_validates_both_images(bad: str) -> None:
    images = {"NewImage": {"a": {"S": "x"}, "b": {"N": "1"}}, "OldImage": {"a": {"S": "x"}, "b": {"N": "1"}}}
    images[bad]["b"] = {"N": "oops"}
    raw = ddb_record("MODIFY", new=images["NewImage"], old=images["OldImage"])
    message = at(f"Records[0].dynamodb.{bad}.b") + "'oops' is not a number"
    with pytest.raises(AttributeValueError, match=message) as info:
        _ = StreamEvent({"Records": [raw]})[0].changed_attributes
    assert info.value.path == f"Records[0].dynamodb.{bad}.b"


# --------------------------------------------------------------------------------------------------
# 7. Kinesis Data Streams for DynamoDB


@pytest.fixture
def kinesis_event() -> StreamEvent:
    return StreamEvent(load("events-kinesis-dynamodb.json"))


def test_kinesis_insert_is_read_from_the_inner_record(kinesis_event: StreamEvent) -> None:
    record = kinesis_event[0]

    assert record.is_kinesis is True
    assert record.raw is kinesis_event.raw["Records"][0]
    assert record.raw["eventName"] == "aws:kinesis:record"
    assert record.stream_record["recordFormat"] == "application/json"
    assert record.event_id == "2f2a6c8e-5b1d-4a3e-9c7f-0e1d2c3b4a59"
    assert record.event_name is EventName.INSERT
    assert record.event_source == "aws:dynamodb"
    assert record.aws_region == "us-east-1"
    assert record.table_name == "Orders"
    assert record.user_identity is None
    assert record.is_ttl_delete is False
    assert record.sequence_number == KINESIS_SEQ
    assert record.event_source_arn == KINESIS_ARN
    assert record.event_version == "1.0"  # the Kinesis record's own version
    assert record.view_type is None
    assert record.size_bytes == 35
    assert record.approximate_creation_time == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert record.keys == {"pk": "order#1"}
    assert record.new_image == {"pk": "order#1", "status": "placed", "qty": Decimal("2")}
    assert record.old_image is None
    assert record.changed_attributes is None


def test_kinesis_modify_with_microsecond_precision(kinesis_event: StreamEvent) -> None:
    record = kinesis_event[1]

    assert record.event_name is EventName.MODIFY
    assert record.sequence_number == "49590338271490256608559692540925702759324208523137515618"
    assert record.approximate_creation_time == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert record.old_image == {"pk": "order#1", "status": "placed", "qty": Decimal("2")}
    assert record.changed_attributes == {"status"}
    assert kinesis_event.event_source_arn == KINESIS_ARN


@pytest.mark.parametrize(
    ("dynamodb", "expected"),
    [
        pytest.param(
            {"ApproximateCreationDateTime": 1700000000123},
            datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
            id="milliseconds",
        ),
        pytest.param(
            {"ApproximateCreationDateTime": 1700000000123.0},
            datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
            id="milliseconds-float",
        ),
        pytest.param(
            {"ApproximateCreationDateTime": 1700000000123456, "ApproximateCreationDateTimePrecision": "MICROSECOND"},
            datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC),
            id="microseconds",
        ),
        pytest.param(
            {"ApproximateCreationDateTime": 1700000000123, "ApproximateCreationDateTimePrecision": "MILLISECOND"},
            datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
            id="explicit-milliseconds",
        ),
        pytest.param({"ApproximateCreationDateTime": None}, None, id="missing"),
    ],
)
def test_kinesis_creation_time_is_never_read_as_seconds(dynamodb: dict[str, Any], expected: datetime | None) -> None:
    record = StreamRecord(kinesis_record(kinesis_inner(**dynamodb)))
    created = record.approximate_creation_time
    assert created == expected
    if created is not None:
        assert created.utcoffset() == timedelta(0)


def test_kinesis_ttl_delete() -> None:
    inner = kinesis_inner("REMOVE", NewImage=None, OldImage={"pk": {"S": "order#1"}})
    inner["userIdentity"] = TTL_IDENTITY
    record = StreamRecord(kinesis_record(inner))
    assert record.is_ttl_delete is True
    assert record.new_image is None
    assert record.old_image == {"pk": "order#1"}


def test_kinesis_record_is_unwrapped_once() -> None:
    record = StreamRecord(kinesis_record(kinesis_inner()))
    assert record.stream_record is record.stream_record
    assert record.new_image is record.new_image


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param("%%% not base64 %%%", r"is not base64 JSON of a DynamoDB change record", id="not-base64"),
        pytest.param(base64.b64encode(b"{not json").decode(), r"is not base64 JSON", id="not-json"),
        pytest.param(base64.b64encode(b"\xff\xfe").decode(), r"is not base64 JSON", id="not-utf8"),
        pytest.param(base64.b64encode(b"[1, 2]").decode(), r"decodes to an array, expected", id="json-array"),
        pytest.param(base64.b64encode(b'"text"').decode(), r"decodes to a string, expected", id="json-string"),
        pytest.param(base64.b64encode(b"null").decode(), r"decodes to null, expected", id="json-null"),
        pytest.param(12, r"missing or not a string", id="not-a-string"),
        pytest.param(None, r"missing or not a string", id="null"),
    ],
)
@pytest.mark.parametrize(
    "read", ["stream_record", "event_id", "event_name", "keys", "new_image", "table_name", "approximate_creation_time"]
)
def test_malformed_kinesis_data(data: Any, message: str, read: str) -> None:
    event = StreamEvent({"Records": [kinesis_record(data=data)]})
    with pytest.raises(EventShapeError, match=rf"^Records\[0\]\.kinesis\.data: {message}") as info:
        getattr(event[0], read)
    assert info.value.path == "Records[0].kinesis.data"


def test_sequence_number_of_a_kinesis_record_with_bad_data_is_still_readable() -> None:
    # A handler must be able to report such a record as a batch item failure.
    record = StreamEvent({"Records": [kinesis_record(data="%%%")]})[0]
    assert record.sequence_number == KINESIS_SEQ
    assert record.event_source_arn == KINESIS_ARN
    assert record.is_kinesis is True


@pytest.mark.parametrize(
    ("inner_change", "read", "path", "message"),
    [
        pytest.param({"eventID": None}, "event_id", "kinesis.data.eventID", "missing$", id="no-eventID"),
        pytest.param({"eventName": "DELETE"}, "event_name", "kinesis.data.eventName", "must be INSERT", id="bad-name"),
        pytest.param({"dynamodb": None}, "keys", "kinesis.data.dynamodb", "missing$", id="no-dynamodb"),
        pytest.param({"tableName": 7}, "table_name", "kinesis.data.tableName", "must be a string", id="bad-table"),
        pytest.param(
            {"userIdentity": "dynamodb"},
            "user_identity",
            "kinesis.data.userIdentity",
            "must be an object",
            id="identity",
        ),
    ],
)
def test_malformed_kinesis_inner_record(inner_change: dict[str, Any], read: str, path: str, message: str) -> None:
    inner = {name: value for name, value in (kinesis_inner() | inner_change).items() if value is not None}
    event = StreamEvent({"Records": [kinesis_record(kinesis_inner()), kinesis_record(inner)]})
    with pytest.raises(EventShapeError, match=at(f"Records[1].{path}") + message) as info:
        getattr(event[1], read)
    assert info.value.path == f"Records[1].{path}"


@pytest.mark.parametrize(
    ("kinesis", "message"),
    [
        pytest.param({"data": "e30="}, "missing$", id="no-sequence-number"),
        pytest.param({"data": "e30=", "sequenceNumber": 5}, "must be a non-empty string, got a number$", id="number"),
        pytest.param({"data": "e30=", "sequenceNumber": ""}, "must not be empty$", id="empty"),
    ],
)
def test_malformed_kinesis_sequence_number(kinesis: dict[str, Any], message: str) -> None:
    event = StreamEvent({"Records": [{"kinesis": kinesis}]})
    with pytest.raises(EventShapeError, match=at("Records[0].kinesis.sequenceNumber") + message) as info:
        _ = event[0].sequence_number
    assert info.value.path == "Records[0].kinesis.sequenceNumber"


def test_kinesis_bad_attribute_path_points_inside_the_data() -> None:
    inner = kinesis_inner(NewImage={"pk": {"S": "order#1"}, "qty": {"N": "two"}})
    event = StreamEvent({"Records": [kinesis_record(inner)]})
    with pytest.raises(
        AttributeValueError, match=at("Records[0].kinesis.data.dynamodb.NewImage.qty") + "'two'"
    ) as info:
        event[0].new_image["qty"]
    assert info.value.path == "Records[0].kinesis.data.dynamodb.NewImage.qty"


# --------------------------------------------------------------------------------------------------
# 8. Tumbling windows


@pytest.fixture
def window_raw() -> dict[str, Any]:
    return load("events-tumbling-window.json")


def test_tumbling_window_fields(window_raw: dict[str, Any]) -> None:
    event = StreamEvent(window_raw)

    assert event.is_tumbling_window is True
    assert event.window_start == datetime(2020, 7, 30, 17, 0, tzinfo=UTC)
    assert event.window_end == datetime(2020, 7, 30, 17, 5, tzinfo=UTC)
    assert event.window_start.utcoffset() == timedelta(0)
    assert event.window_end.utcoffset() == timedelta(0)
    assert event.state == {"total": 42}
    assert event.shard_id == "shardId-00000001596128400000-6a0e9c11"
    assert event.event_source_arn == SAM_ARN
    assert event.is_final_invoke_for_window is False
    assert event.is_window_terminated_early is False
    assert event[0].new_image == {"Id": Decimal("101"), "amount": Decimal("42")}
    assert repr(event) == "<StreamEvent window records=1>"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda raw: raw.pop("state"), id="state-absent"),
        pytest.param(lambda raw: raw.__setitem__("state", None), id="state-null"),
        pytest.param(lambda raw: raw.__setitem__("state", {}), id="state-empty"),
    ],
)
def test_state_is_empty_on_a_windows_first_invoke(window_raw: dict[str, Any], change: Callable[..., Any]) -> None:
    change(window_raw)
    assert StreamEvent(window_raw).state == {}


@pytest.mark.parametrize(
    ("final", "early"),
    [(True, False), (True, True), (False, True)],
)
def test_window_flags(window_raw: dict[str, Any], final: bool, early: bool) -> None:
    window_raw |= {"isFinalInvokeForWindow": final, "isWindowTerminatedEarly": early}
    event = StreamEvent(window_raw)
    assert event.is_final_invoke_for_window is final
    assert event.is_window_terminated_early is early


def test_window_with_no_records_on_the_final_invoke(window_raw: dict[str, Any]) -> None:
    window_raw |= {"Records": [], "isFinalInvokeForWindow": True}
    event = StreamEvent(window_raw)
    assert len(event) == 0
    assert event.event_source_arn == SAM_ARN
    assert event.state == {"total": 42}


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param("2020-07-30T17:00:00Z", datetime(2020, 7, 30, 17, tzinfo=UTC), id="zulu"),
        pytest.param("2020-07-30T17:00:00.000Z", datetime(2020, 7, 30, 17, tzinfo=UTC), id="millis"),
        pytest.param("2020-07-30T19:00:00+02:00", datetime(2020, 7, 30, 17, tzinfo=UTC), id="offset"),
    ],
)
def test_window_start_is_aware_utc(window_raw: dict[str, Any], start: str, expected: datetime) -> None:
    window_raw["window"]["start"] = start
    start_time = StreamEvent(window_raw).window_start
    assert start_time == expected
    assert start_time.tzinfo is not None
    assert start_time.utcoffset() == timedelta(0)


def test_non_window_event_has_no_window_fields(sam_stream: StreamEvent) -> None:
    assert sam_stream.is_tumbling_window is False
    assert sam_stream.window_start is None
    assert sam_stream.window_end is None
    assert sam_stream.state is None
    assert sam_stream.shard_id is None
    assert sam_stream.is_final_invoke_for_window is None
    assert sam_stream.is_window_terminated_early is None
    assert sam_stream.event_source_arn == SAM_ARN  # from the first record
    assert repr(sam_stream) == "<StreamEvent records=3>"


# --------------------------------------------------------------------------------------------------
# 9. Malformed input


@pytest.mark.parametrize(
    ("event", "path", "message"),
    [
        pytest.param([], "", r"^a Lambda event must be a JSON object, got an array$", id="event-array"),
        pytest.param(None, "", r"^a Lambda event must be a JSON object, got null$", id="event-null"),
        pytest.param('{"Records": []}', "", r"^a Lambda event must be a JSON object, got a string$", id="event-str"),
        pytest.param({}, "Records", r'^Records: the event has no "Records" array', id="no-records"),
        pytest.param({"records": []}, "Records", r'^Records: the event has no "Records" array', id="lowercase"),
        pytest.param({"Records": None}, "Records", r'^Records: the event has no "Records" array', id="records-null"),
        pytest.param({"Records": {}}, "Records", r"^Records: must be an array, got an object$", id="records-object"),
        pytest.param({"Records": "[]"}, "Records", r"^Records: must be an array, got a string$", id="records-str"),
        pytest.param(
            {"Records": [1]}, "Records[0]", r"^Records\[0\]: a stream record must be an object, got a number$", id="num"
        ),
        pytest.param(
            {"Records": [{}, {}, ["x"]]},
            "Records[2]",
            r"^Records\[2\]: a stream record must be an object, got an array$",
            id="third-record-array",
        ),
    ],
)
def test_malformed_event(event: Any, path: str, message: str) -> None:
    with pytest.raises(EventShapeError, match=message) as info:
        StreamEvent(event)
    assert info.value.path == path


def _drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        container = record
        for key in keys[:-1]:
            container = container[key]
        del container[keys[-1]]

    return change


def _put(*keys: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        container = record
        for key in keys[:-1]:
            container = container[key]
        container[keys[-1]] = value

    return change


# (change to the SAM MODIFY record at Records[1], what is read, error path after "Records[1].", message regex)
MALFORMED_RECORDS = [
    pytest.param(_drop("eventID"), "event_id", "eventID", "missing$", id="eventID-missing"),
    pytest.param(_put("eventID", value=""), "event_id", "eventID", "must not be empty$", id="eventID-empty"),
    pytest.param(
        _put("eventID", value=7), "event_id", "eventID", "must be a non-empty string, got a number$", id="id7"
    ),
    pytest.param(_drop("eventName"), "event_name", "eventName", "missing$", id="eventName-missing"),
    pytest.param(
        _put("eventName", value="UPSERT"),
        "event_name",
        "eventName",
        'must be INSERT, MODIFY or REMOVE, got "UPSERT"$',
        id="eventName-unknown",
    ),
    pytest.param(
        _put("eventName", value="insert"),
        "event_name",
        "eventName",
        'must be INSERT, MODIFY or REMOVE, got "insert"$',
        id="eventName-lowercase",
    ),
    pytest.param(
        _put("eventName", value=1),
        "event_name",
        "eventName",
        "must be INSERT, MODIFY or REMOVE, got 1$",
        id="eventName-number",
    ),
    pytest.param(_put("eventVersion", value=1.1), "event_version", "eventVersion", "must be a string", id="version"),
    pytest.param(_put("eventSource", value=[]), "event_source", "eventSource", "must be a string", id="source"),
    pytest.param(_put("awsRegion", value={}), "aws_region", "awsRegion", "must be a string, got an object$", id="reg"),
    pytest.param(_drop("dynamodb"), "keys", "dynamodb", "missing$", id="dynamodb-missing-keys"),
    pytest.param(_drop("dynamodb"), "new_image", "dynamodb", "missing$", id="dynamodb-missing-new"),
    pytest.param(_drop("dynamodb"), "old_image", "dynamodb", "missing$", id="dynamodb-missing-old"),
    pytest.param(_drop("dynamodb"), "sequence_number", "dynamodb", "missing$", id="dynamodb-missing-seq"),
    pytest.param(_drop("dynamodb"), "changed_attributes", "dynamodb", "missing$", id="dynamodb-missing-changed"),
    pytest.param(_put("dynamodb", value=[]), "keys", "dynamodb", "must be an object, got an array$", id="ddb-array"),
    pytest.param(_drop("dynamodb", "Keys"), "keys", "dynamodb.Keys", "missing", id="Keys-missing"),
    pytest.param(_put("dynamodb", "Keys", value=[]), "keys", "dynamodb.Keys", "must be an object", id="Keys-array"),
    pytest.param(
        _drop("dynamodb", "SequenceNumber"), "sequence_number", "dynamodb.SequenceNumber", "missing$", id="seq-missing"
    ),
    pytest.param(
        _put("dynamodb", "SequenceNumber", value=111),
        "sequence_number",
        "dynamodb.SequenceNumber",
        "must be a non-empty string, got a number$",
        id="seq-number",
    ),
    pytest.param(
        _put("dynamodb", "StreamViewType", value="NEW"),
        "view_type",
        "dynamodb.StreamViewType",
        'must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES, got "NEW"$',
        id="view-type-unknown",
    ),
    pytest.param(
        _put("dynamodb", "StreamViewType", value=3),
        "view_type",
        "dynamodb.StreamViewType",
        "must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES, got 3$",
        id="view-type-number",
    ),
    pytest.param(
        _put("dynamodb", "SizeBytes", value="59"),
        "size_bytes",
        "dynamodb.SizeBytes",
        'must be a whole number of bytes, got "59"$',
        id="size-string",
    ),
    pytest.param(
        _put("dynamodb", "SizeBytes", value=59.5),
        "size_bytes",
        "dynamodb.SizeBytes",
        "must be a whole number of bytes, got 59.5$",
        id="size-fraction",
    ),
    pytest.param(
        _put("dynamodb", "SizeBytes", value=True),
        "size_bytes",
        "dynamodb.SizeBytes",
        "must be a whole number of bytes, got true$",
        id="sb",
    ),
    pytest.param(
        _put("dynamodb", "SizeBytes", value=-1),
        "size_bytes",
        "dynamodb.SizeBytes",
        "must be a whole number of bytes, got -1$",
        id="size-neg",
    ),
    pytest.param(
        _put("dynamodb", "ApproximateCreationDateTime", value="1428537600"),
        "approximate_creation_time",
        "dynamodb.ApproximateCreationDateTime",
        r"must be a number \(epoch time\), got a string$",
        id="time-string",
    ),
    pytest.param(
        _put("dynamodb", "ApproximateCreationDateTime", value=True),
        "approximate_creation_time",
        "dynamodb.ApproximateCreationDateTime",
        r"must be a number \(epoch time\), got a boolean$",
        id="time-bool",
    ),
    pytest.param(
        _put("dynamodb", "ApproximateCreationDateTime", value=[1428537600]),
        "approximate_creation_time",
        "dynamodb.ApproximateCreationDateTime",
        r"must be a number \(epoch time\), got an array$",
        id="time-array",
    ),
    pytest.param(
        _put("dynamodb", "ApproximateCreationDateTime", value=1e300),
        "approximate_creation_time",
        "dynamodb.ApproximateCreationDateTime",
        r"1e\+300 is out of range for a date$",
        id="time-huge",
    ),
    pytest.param(
        _put("dynamodb", "ApproximateCreationDateTime", value=float("nan")),
        "approximate_creation_time",
        "dynamodb.ApproximateCreationDateTime",
        "nan is out of range for a date$",
        id="time-nan",
    ),
    pytest.param(
        _put("dynamodb", "NewImage", value=[]),
        "new_image",
        "dynamodb.NewImage",
        "must be an object of attribute names to AttributeValues, got an array$",
        id="NewImage-array",
    ),
    pytest.param(
        _put("dynamodb", "OldImage", value="x"),
        "old_image",
        "dynamodb.OldImage",
        "must be an object of attribute names to AttributeValues, got a string$",
        id="OldImage-str",
    ),
    pytest.param(
        _put("userIdentity", value="dynamodb.amazonaws.com"),
        "is_ttl_delete",
        "userIdentity",
        "must be an object, got a string$",
        id="identity-string",
    ),
    pytest.param(
        _put("eventSourceARN", value=KINESIS_ARN),
        "table_name",
        "eventSourceARN",
        r"\"arn:aws:kinesis:us-east-1:123456789012:stream/orders\" is not a DynamoDB stream ARN",
        id="arn-kinesis",
    ),
    pytest.param(
        _put("eventSourceARN", value="ExampleTableWithStream"),
        "table_name",
        "eventSourceARN",
        '"ExampleTableWithStream" is not a DynamoDB stream ARN',
        id="arn-bare-name",
    ),
    pytest.param(
        _put("eventSourceARN", value="arn:aws:dynamodb:us-east-1:123456789012:table//stream/x"),
        "table_name",
        "eventSourceARN",
        '"arn:aws:dynamodb:us-east-1:123456789012:table//stream/x" is not a DynamoDB stream ARN',
        id="arn-empty-table",
    ),
    pytest.param(
        _put("eventSourceARN", value=42),
        "table_name",
        "eventSourceARN",
        "must be a string, got a number$",
        id="arn-num",
    ),
]


@pytest.mark.parametrize(("change", "read", "field", "message"), MALFORMED_RECORDS)
def test_malformed_record(
    sam_raw: dict[str, Any], change: Callable[[dict[str, Any]], None], read: str, field: str, message: str
) -> None:
    change(sam_raw["Records"][1])
    event = StreamEvent(sam_raw)  # constructing the event does not read the records

    with pytest.raises(EventShapeError, match=at(f"Records[1].{field}") + message) as info:
        getattr(event[1], read)
    assert info.value.path == f"Records[1].{field}"
    assert event[0].event_name is EventName.INSERT  # the neighbours are unaffected


def test_bad_key_attribute_is_an_attribute_value_error(sam_raw: dict[str, Any]) -> None:
    sam_raw["Records"][1]["dynamodb"]["Keys"] = {"Id": {"N": "1O1"}}
    with pytest.raises(AttributeValueError, match=at("Records[1].dynamodb.Keys.Id") + "'1O1' is not a number") as info:
        _ = StreamEvent(sam_raw)[1].keys
    assert info.value.path == "Records[1].dynamodb.Keys.Id"


@pytest.mark.parametrize(
    ("event", "path", "message"),
    [
        pytest.param({"window": []}, "window", "must be an object, got an array$", id="window-array"),
        pytest.param(
            {"window": {"end": "2020-07-30T17:05:00Z"}},
            "window.start",
            "must be an ISO-8601 time string, got null$",
            id="start-missing",
        ),
        pytest.param(
            {"window": {"start": 1596128400}},
            "window.start",
            "must be an ISO-8601 time string, got a number$",
            id="start-number",
        ),
        pytest.param(
            {"window": {"start": "yesterday"}}, "window.start", '"yesterday" is not an ISO-8601 time$', id="start-text"
        ),
        pytest.param(
            {"window": {"start": "x", "end": "tomorrow"}},
            "window.end",
            '"tomorrow" is not an ISO-8601 time$',
            id="end-text",
        ),
        pytest.param({"window": {}, "state": [42]}, "state", "must be an object, got an array$", id="state-array"),
        pytest.param({"window": {}, "state": 42}, "state", "must be an object, got a number$", id="state-number"),
        pytest.param({"shardId": 1}, "shardId", "must be a string, got a number$", id="shard-number"),
        pytest.param({"eventSourceARN": {}}, "eventSourceARN", "must be a string", id="arn-object"),
        pytest.param(
            {"isFinalInvokeForWindow": "true"},
            "isFinalInvokeForWindow",
            "must be true or false, got a string$",
            id="final-str",
        ),
        pytest.param(
            {"isWindowTerminatedEarly": 0},
            "isWindowTerminatedEarly",
            "must be true or false, got a number$",
            id="early-num",
        ),
    ],
)
def test_malformed_window_fields(event: dict[str, Any], path: str, message: str) -> None:
    parsed = StreamEvent({"Records": []} | event)
    reads = {
        "window": "window_start",
        "window.start": "window_start",
        "window.end": "window_end",
        "state": "state",
        "shardId": "shard_id",
        "eventSourceARN": "event_source_arn",
        "isFinalInvokeForWindow": "is_final_invoke_for_window",
        "isWindowTerminatedEarly": "is_window_terminated_early",
    }
    with pytest.raises(EventShapeError, match=at(path) + message) as info:
        getattr(parsed, reads[path])
    assert info.value.path == path


# A bad attribute deep inside NewImage: every way of reading the image reports the same precise path.
DEEP_BAD_IMAGE = {
    "pk": {"S": "order#1"},
    "status": {"S": "placed"},
    "lines": {
        "L": [
            {"M": {"sku": {"S": "A-1"}}},
            {"M": {"sku": {"S": "B-2"}}},
            {"M": {"sku": {"N": "12abc"}}},
        ]
    },
    "after": {"S": "fine"},
}
DEEP_BAD_PATH = "Records[0].dynamodb.NewImage.lines[2].sku"


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda record: record.new_image["lines"], id="getitem"),
        pytest.param(lambda record: record.new_image.get("lines"), id="get"),
        pytest.param(lambda record: dict(record.new_image), id="dict"),
        pytest.param(lambda record: list(record.new_image), id="list"),
        pytest.param(lambda record: record.new_image == {}, id="eq"),
        pytest.param(lambda record: repr(record.new_image), id="repr"),
        pytest.param(lambda record: json.dumps(record.new_image), id="json"),
        pytest.param(lambda record: copy.deepcopy(record.new_image), id="deepcopy"),
        pytest.param(lambda record: pickle.dumps(record.new_image), id="pickle"),
        pytest.param(lambda record: record.new_image.__setitem__("x", 1), id="setitem"),
        pytest.param(lambda record: record.new_image_as(dict), id="new_image_as"),
        pytest.param(lambda record: record.changed_attributes, id="changed_attributes"),
    ],
)
def test_bad_attribute_deep_inside_new_image(read: Callable[[StreamRecord], Any]) -> None:
    raw = ddb_record("MODIFY", new=DEEP_BAD_IMAGE, old=OLD_RAW)
    record = StreamEvent({"Records": [raw]})[0]
    with pytest.raises(AttributeValueError, match=at(DEEP_BAD_PATH) + "'12abc' is not a number") as info:
        read(record)
    assert info.value.path == DEEP_BAD_PATH


def test_bad_image_keeps_failing_and_other_attributes_stay_readable() -> None:
    record = StreamEvent({"Records": [ddb_record("INSERT", new=DEEP_BAD_IMAGE)]})[0]
    image = record.new_image
    for _ in range(2):
        with pytest.raises(AttributeValueError) as info:
            dict(image)
        assert info.value.path == DEEP_BAD_PATH
    assert image["after"] == "fine"
    assert image["status"] == "placed"
    assert len(image) == 4


def test_a_bad_attribute_fails_when_it_is_read_and_when_the_image_is_filled() -> None:
    new = {"qty": {"N": "two"}, "pk": {"S": "order#1"}}
    record = StreamEvent({"Records": [ddb_record("INSERT", new=new)]})[0]
    assert record.keys == {"pk": "order#1"}
    image = record.new_image
    assert image is not None
    assert image["pk"] == "order#1"  # the good attribute stays readable
    expected = at("Records[0].dynamodb.NewImage.qty") + "'two' is not a number"
    with pytest.raises(AttributeValueError, match=expected):
        image["qty"]
    with pytest.raises(AttributeValueError, match=expected):
        dict(image)
    with pytest.raises(AttributeValueError, match=expected):
        json.dumps(image, default=str)


@pytest.mark.parametrize(
    ("new", "path", "message"),
    [
        pytest.param(
            {"a": {"S": "x"}, "": {"S": "y"}}, "NewImage", "attribute names must be non-empty strings", id="empty"
        ),
        pytest.param({"a": {"S": "x"}, "b": {}}, "NewImage.b", "AttributeValue has no type key", id="no-type-key"),
        pytest.param(
            {"a": {"S": "x"}, "b": {"S": "x", "N": "1"}},
            "NewImage.b",
            "AttributeValue has 2 type keys",
            id="two-type-keys",
        ),
        pytest.param({"a": {"S": "x"}, "b": {"X": "1"}}, "NewImage.b", "unknown AttributeValue type", id="unknown"),
        pytest.param({"a": {"S": "x"}, "b": {"S": 5}}, "NewImage.b", "S value must be a string", id="s-number"),
        pytest.param({"a": {"S": "x"}, "b": {"NULL": False}}, "NewImage.b", "NULL value must be true", id="null"),
        pytest.param({"a": {"S": "x"}, "b": {"SS": []}}, "NewImage.b", "SS must not be empty", id="empty-set"),
        pytest.param(
            {"a": {"S": "x"}, "b": "x"}, "NewImage.b", "expected an AttributeValue object", id="not-an-object"
        ),
        pytest.param(
            {"a": {"S": "x"}, "b": {"M": {"c": {"L": [{"B": "!!"}]}}}},
            "NewImage.b.c[0]",
            "B value '!!' is not valid standard base64",
            id="bad-b64",
        ),
    ],
)
def test_malformed_attribute_values_name_their_path(new: dict[str, Any], path: str, message: str) -> None:
    record = StreamEvent({"Records": [ddb_record("INSERT", new=new)]})[0]
    with pytest.raises(AttributeValueError, match=at(f"Records[0].dynamodb.{path}") + re.escape(message)) as info:
        dict(record.new_image)
    assert info.value.path == f"Records[0].dynamodb.{path}"


def test_standalone_record_paths_have_no_records_prefix() -> None:
    record = StreamRecord({"eventName": "INSERT", "dynamodb": {"Keys": {}}})
    with pytest.raises(EventShapeError, match=r"^eventID: missing$") as info:
        _ = record.event_id
    assert info.value.path == "eventID"
    with pytest.raises(EventShapeError, match=r"^dynamodb\.SequenceNumber: missing$") as info:
        _ = record.sequence_number
    assert info.value.path == "dynamodb.SequenceNumber"
    with pytest.raises(EventShapeError, match=r"^a stream record must be an object, got a string$") as info:
        StreamRecord("INSERT")  # type: ignore[arg-type]
    assert info.value.path == ""


RECORD_READS = [
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
GARBAGE_RECORDS = [
    pytest.param({}, id="empty"),
    pytest.param({"dynamodb": 1, "eventName": ["INSERT"], "eventID": {}}, id="wrong-types"),
    pytest.param({"dynamodb": {"Keys": 1, "NewImage": [1], "OldImage": {"a": 1}, "SizeBytes": {}}}, id="bad-dynamodb"),
    pytest.param(
        {"dynamodb": {"Keys": {"a": None}, "NewImage": {"a": {"M": []}}, "OldImage": {"a": []}}}, id="bad-avs"
    ),
    pytest.param({"dynamodb": {"NewImage": {"a": {"S": "x"}}, "OldImage": {"a": {"L": "x"}}}}, id="bad-old-list"),
    pytest.param({"kinesis": 1}, id="kinesis-not-object"),
    pytest.param({"kinesis": {}}, id="kinesis-empty"),
    pytest.param({"kinesis": {"data": "bnVsbA=="}}, id="kinesis-null-data"),
    pytest.param(kinesis_record({"dynamodb": "x", "eventName": None, "tableName": []}), id="kinesis-bad-inner"),
    pytest.param({"eventSourceARN": "arn:aws:dynamodb", "userIdentity": [], "eventVersion": 1}, id="bad-strings"),
]


@pytest.mark.parametrize("raw", GARBAGE_RECORDS)
@pytest.mark.parametrize("read", RECORD_READS)
def test_garbage_records_raise_only_shardline_errors(raw: dict[str, Any], read: str) -> None:
    record = StreamEvent({"Records": [copy.deepcopy(raw)]})[0]
    error: ShardlineError | None = None
    try:
        getattr(record, read)
    except ShardlineError as exc:
        error = exc
    if error is not None:
        assert error.path.startswith("Records[0]")  # type: ignore[attr-defined]
    assert repr(record).startswith("<StreamRecord ")  # never raises, even for a malformed record


@pytest.mark.parametrize(
    "new",
    [
        pytest.param({1: {"S": "x"}, "b": {"S": "y"}}, id="int-first"),
        pytest.param({0: {"S": "x"}, "b": {"S": "y"}}, id="zero-first"),
        pytest.param({None: {"S": "x"}, "b": {"S": "y"}}, id="none-first"),
        pytest.param({"b": {"S": "y"}, 0: {"S": "x"}}, id="zero-second"),
    ],
)
def test_non_string_attribute_names_raise_attribute_value_error(new: dict[Any, Any]) -> None:
    # Records built in Python (not parsed from JSON) can carry non-string keys; they are not attribute names.
    record = StreamEvent({"Records": [ddb_record("INSERT", new=new)]})[0]
    with pytest.raises(AttributeValueError, match=at("Records[0].dynamodb.NewImage") + "attribute names must") as info:
        dict(record.new_image)
    assert info.value.path == "Records[0].dynamodb.NewImage"


# --------------------------------------------------------------------------------------------------
# 10. Enums print as their value


@pytest.mark.parametrize("member", [*EventName, *StreamViewType])
def test_enum_members_behave_as_their_value(member: EventName | StreamViewType) -> None:
    value = member.value
    assert str(member) == value
    assert f"{member}" == value
    assert f"{member:>20}" == f"{value:>20}"
    assert "%s" % member == value  # noqa: UP031
    assert member == value
    assert value == member
    assert {value: 1}[member] == 1
    assert json.dumps(member) == json.dumps(value)
    assert type(member)(value) is member


def test_event_name_formats_in_messages(sam_stream: StreamEvent) -> None:
    record = sam_stream[0]
    assert str(record.event_name) == "INSERT"
    assert f"{record.event_name}" == "INSERT"
    assert record.event_name == "INSERT"
    assert f"{record.event_name}/{record.view_type}" == "INSERT/NEW_AND_OLD_IMAGES"
