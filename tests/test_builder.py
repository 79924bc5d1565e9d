"""EventBuilder: the records a table's writes put on its stream, as DynamoDB Streams and Kinesis deliver them."""

from __future__ import annotations

import itertools
import json
import re
from base64 import b64decode
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shardline import (
    AttributeValueError,
    EventName,
    StreamEvent,
    StreamViewType,
    deserialize_item,
    item_size,
    serialize_item,
)
from shardline.testing import LambdaContext, sam_sample_event
from shardline.testing._builder import EventBuilder, check_stream_location, generate_items, iter_items
from shardline.testing._clock import VirtualClock

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
RECORD_FIELDS = ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"]
DYNAMODB_FIELDS = [
    "ApproximateCreationDateTime",
    "Keys",
    "NewImage",
    "OldImage",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
]
VIEWS = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
# Which images each view type carries, per event ("Using AWS Lambda with Amazon DynamoDB"'s table).
IMAGES = {
    "KEYS_ONLY": {"INSERT": set(), "MODIFY": set(), "REMOVE": set()},
    "NEW_IMAGE": {"INSERT": {"NewImage"}, "MODIFY": {"NewImage"}, "REMOVE": set()},
    "OLD_IMAGE": {"INSERT": set(), "MODIFY": {"OldImage"}, "REMOVE": {"OldImage"}},
    "NEW_AND_OLD_IMAGES": {"INSERT": {"NewImage"}, "MODIFY": {"NewImage", "OldImage"}, "REMOVE": {"OldImage"}},
}


def sam_changes(builder: EventBuilder) -> None:
    """The three writes of SAM's sample event."""
    builder.put({"Id": 101, "Message": "New item!"})
    builder.put({"Id": 101, "Message": "This item has changed"})
    builder.delete({"Id": 101})


def records(event: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = event["Records"]
    return result


def kinesis_inner(record: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = json.loads(b64decode(record["kinesis"]["data"], validate=True))
    return inner


# -- the records ------------------------------------------------------------------------------------


def test_sam_sample_writes_give_sam_sample_records(sam_event: dict[str, Any]) -> None:
    builder = EventBuilder()
    sam_changes(builder)
    built = records(builder.build())
    expected = records(sam_event)
    assert [r["eventName"] for r in built] == ["INSERT", "MODIFY", "REMOVE"]
    for mine, theirs in zip(built, expected, strict=True):
        for field in ("eventVersion", "eventSource", "awsRegion"):
            assert mine[field] == theirs[field]
        for field in ("Keys", "NewImage", "OldImage", "SizeBytes", "StreamViewType"):
            assert mine["dynamodb"].get(field) == theirs["dynamodb"].get(field), field
    assert [r["dynamodb"]["SizeBytes"] for r in built] == [26, 59, 38]
    assert built[0]["eventSourceARN"] == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2026-01-01T00:00:00.000"
    )


def test_fields_come_in_the_order_aws_writes_them() -> None:
    builder = EventBuilder()
    sam_changes(builder)
    builder.put({"Id": 7})
    builder.ttl_delete({"Id": 7})
    insert, modify, remove, _, ttl = records(builder.build())
    assert list(modify) == RECORD_FIELDS
    assert list(modify["dynamodb"]) == DYNAMODB_FIELDS
    assert list(insert["dynamodb"]) == [f for f in DYNAMODB_FIELDS if f != "OldImage"]
    assert list(remove["dynamodb"]) == [f for f in DYNAMODB_FIELDS if f != "NewImage"]
    assert list(ttl) == [*RECORD_FIELDS, "userIdentity"]
    assert "userIdentity" not in remove


def test_event_ids_and_sequence_numbers_look_like_aws_ones() -> None:
    builder = EventBuilder()
    for n in range(50):
        builder.put({"Id": n})
    built = records(builder.build())
    ids = [r["eventID"] for r in built]
    assert all(re.fullmatch(r"[0-9a-f]{32}", event_id) for event_id in ids)
    assert len(set(ids)) == 50
    numbers = [r["dynamodb"]["SequenceNumber"] for r in built]
    assert all(re.fullmatch(r"[0-9]{21,40}", number) for number in numbers)
    gaps = [int(b) - int(a) for a, b in itertools.pairwise(numbers)]
    assert all(1 <= gap < 100_000 for gap in gaps)  # increasing by small steps: 21 digits stay 21 digits
    assert len(set(gaps)) > 1  # irregular steps, as on a real stream
    # Drawn from the builder's seed: the same seed gives the same IDs and numbers, another seed others.
    for seed, same in ((0, True), (1, False)):
        again = EventBuilder(seed=seed)
        for n in range(50):
            again.put({"Id": n})
        rebuilt = records(again.build())
        assert ([r["eventID"] for r in rebuilt] == ids) is same
        assert ([r["dynamodb"]["SequenceNumber"] for r in rebuilt] == numbers) is same


def test_sequence_numbers_increase_across_builds() -> None:
    builder = EventBuilder()
    seen: list[int] = []
    for round_ in range(4):
        for n in range(3):
            builder.put({"Id": n, "round": round_})
        event = builder.build() if round_ % 2 else builder.build_batches(2)[0]
        seen.extend(int(r["dynamodb"]["SequenceNumber"]) for r in records(event))
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)


def test_modify_carries_the_replaced_item_as_old_image() -> None:
    builder = EventBuilder(key_schema={"pk": "S", "sk": "N"})
    builder.put({"pk": "a", "sk": 1, "qty": 1, "tags": {"x"}})
    record = builder.put({"pk": "a", "sk": 1, "qty": 2})
    assert record is not None
    assert record["eventName"] == "MODIFY"
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert record["dynamodb"]["OldImage"] == {
        "pk": {"S": "a"},
        "sk": {"N": "1"},
        "qty": {"N": "1"},
        "tags": {"SS": ["x"]},
    }
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "sk": {"N": "1"}, "qty": {"N": "2"}}


def test_an_identical_put_records_nothing() -> None:
    builder = EventBuilder()
    builder.put({"Id": 1, "price": Decimal("1.0"), "tags": {"b", "a"}, "n": {Decimal("2.50"), 3}})
    assert builder.put({"Id": Decimal("1.00"), "price": 1, "tags": {"a", "b"}, "n": {3, Decimal("2.5")}}) is None
    assert builder.pending == 1
    # A different type is a change, even for the "same" value.
    record = builder.put({"Id": 1, "price": "1", "tags": {"a", "b"}, "n": {3, Decimal("2.5")}})
    assert record is not None
    assert record["eventName"] == "MODIFY"


def test_deleting_a_missing_item_records_nothing() -> None:
    builder = EventBuilder()
    assert builder.delete({"Id": 1}) is None
    assert builder.ttl_delete({"Id": 1}) is None
    builder.put({"Id": 1, "qty": 2})
    removed = builder.delete({"Id": 1})
    assert removed is not None
    assert (removed["eventName"], removed["dynamodb"]["Keys"]) == ("REMOVE", {"Id": {"N": "1"}})
    assert removed["dynamodb"]["OldImage"] == {"Id": {"N": "1"}, "qty": {"N": "2"}}
    assert builder.delete({"Id": 1}) is None
    assert builder.pending == 2


def test_ttl_delete_is_a_remove_by_the_dynamodb_service() -> None:
    builder = EventBuilder(key_schema={"pk": "S"})
    builder.put({"pk": "session#1", "expiresAt": 1767225000})
    builder.put({"pk": "session#2"})
    ttl = builder.ttl_delete({"pk": "session#1"})
    builder.delete({"pk": "session#2"})
    assert ttl is not None
    assert ttl["eventName"] == "REMOVE"
    assert ttl["userIdentity"] == TTL_IDENTITY
    assert ttl["dynamodb"]["OldImage"] == {"pk": {"S": "session#1"}, "expiresAt": {"N": "1767225000"}}
    event = StreamEvent(builder.build())
    assert [r.is_ttl_delete for r in event] == [False, False, True, False]
    assert builder.item({"pk": "session#1"}) is None


def test_update_sets_and_removes_attributes() -> None:
    builder = EventBuilder(key_schema={"pk": "S"})
    builder.put({"pk": "a", "status": "new", "note": "x", "qty": 1})
    record = builder.update({"pk": "a"}, set={"status": "paid", "total": Decimal("9.90")}, remove=["note", "absent"])
    assert record is not None
    assert record["eventName"] == "MODIFY"
    assert record["dynamodb"]["OldImage"] == serialize_item({"pk": "a", "status": "new", "note": "x", "qty": 1})
    assert deserialize_item(record["dynamodb"]["NewImage"]) == {
        "pk": "a",
        "status": "paid",
        "qty": 1,
        "total": Decimal("9.9"),
    }
    assert builder.item({"pk": "a"}) == {"pk": "a", "status": "paid", "qty": Decimal(1), "total": Decimal("9.90")}


def test_update_creates_a_missing_item_and_none_means_null() -> None:
    builder = EventBuilder(key_schema={"pk": "S"})
    record = builder.update({"pk": "a"}, set={"gone": None})
    assert record is not None
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "gone": {"NULL": True}}
    created = builder.update({"pk": "b"}, remove=["x"])  # like UpdateItem: the key alone makes an item
    assert created is not None
    assert created["dynamodb"]["NewImage"] == {"pk": {"S": "b"}}


def test_an_update_that_changes_nothing_records_nothing() -> None:
    builder = EventBuilder(key_schema={"pk": "S"})
    builder.put({"pk": "a", "qty": 2})
    assert builder.update({"pk": "a"}, set={"qty": Decimal("2.0")}, remove=["missing"]) is None
    assert builder.pending == 1


def test_update_cannot_touch_key_attributes() -> None:
    builder = EventBuilder(key_schema={"pk": "S", "sk": "N"})
    with pytest.raises(ValueError, match=r"^cannot update key attribute 'sk': it is part of the table's key$"):
        builder.update({"pk": "a", "sk": 1}, set={"sk": 2})
    with pytest.raises(ValueError, match=r"^cannot update key attribute 'pk'"):
        builder.update({"pk": "a", "sk": 1}, remove=["pk"])
    with pytest.raises(ValueError, match=r"^attribute 'x' is both set and removed$"):
        builder.update({"pk": "a", "sk": 1}, set={"x": 1}, remove=["x"])
    with pytest.raises(TypeError, match=r"^remove must be an iterable of attribute names, not a single string$"):
        builder.update({"pk": "a", "sk": 1}, remove="x")
    assert builder.pending == 0
    assert builder.item({"pk": "a", "sk": 1}) is None


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_type_carries_its_images(view: str) -> None:
    builder = EventBuilder(view_type=view)
    sam_changes(builder)
    built = records(builder.build())
    for record in built:
        dynamodb = record["dynamodb"]
        assert dynamodb["Keys"] == {"Id": {"N": "101"}}
        assert dynamodb["StreamViewType"] == view
        assert {"NewImage", "OldImage"} & set(dynamodb) == IMAGES[view][record["eventName"]]
    if view == "KEYS_ONLY":
        assert [r["dynamodb"]["SizeBytes"] for r in built] == [5, 5, 5]


def test_the_view_type_enum_is_accepted_and_unknown_ones_refused() -> None:
    builder = EventBuilder(view_type=StreamViewType.NEW_IMAGE)
    record = builder.put({"Id": 1})
    assert record is not None
    assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE"
    assert type(record["dynamodb"]["StreamViewType"]) is str  # plain JSON, not the enum
    with pytest.raises(ValueError, match=r"^view_type 'NEW': expected KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or"):
        EventBuilder(view_type="NEW")


@pytest.mark.parametrize("view", VIEWS)
def test_size_bytes_counts_what_the_record_carries(view: str) -> None:
    builder = EventBuilder(view_type=view, key_schema={"pk": "S", "sk": "N"})
    for item in generate_items(6, key_schema={"pk": "S", "sk": "N"}, seed=3):
        builder.put(item)
        builder.update({"pk": item["pk"], "sk": item["sk"]}, set={"status": "ARCHIVED", "note": "ü" * 3})
        builder.delete({"pk": item["pk"], "sk": item["sk"]})
    for record in records(builder.build()):
        dynamodb = record["dynamodb"]
        carried = [dynamodb[field] for field in ("Keys", "NewImage", "OldImage") if field in dynamodb]
        assert dynamodb["SizeBytes"] == sum(map(item_size, carried))
        assert dynamodb["SizeBytes"] >= 1


def test_the_model_is_safe_from_edits_to_records_and_events() -> None:
    builder = EventBuilder()
    returned = builder.put({"Id": 1, "m": {"a": 1}})
    assert returned is not None
    returned["dynamodb"]["NewImage"]["m"]["M"]["a"] = {"N": "999"}
    event = builder.build()
    assert records(event)[0]["dynamodb"]["NewImage"]["m"] == {"M": {"a": {"N": "1"}}}
    records(event)[0]["dynamodb"]["NewImage"]["m"]["M"].clear()
    assert builder.item({"Id": 1}) == {"Id": 1, "m": {"a": 1}}
    modify = builder.put({"Id": 1, "m": {"a": 2}})
    assert modify is not None
    assert modify["dynamodb"]["OldImage"]["m"] == {"M": {"a": {"N": "1"}}}


# -- keys and items ---------------------------------------------------------------------------------


def test_a_key_must_hold_exactly_the_key_attributes() -> None:
    builder = EventBuilder(key_schema={"pk": "S", "sk": "N"})
    with pytest.raises(ValueError, match=r"^a key must hold exactly the key attributes \('pk', 'sk'\); missing 'sk'$"):
        builder.delete({"pk": "a"})
    with pytest.raises(
        ValueError, match=r"^a key must hold exactly the key attributes \('pk', 'sk'\); not key attributes: 'x'$"
    ):
        builder.ttl_delete({"pk": "a", "sk": 1, "x": 2})
    with pytest.raises(ValueError, match=r"; missing 'pk'; not key attributes: 'id'$"):
        builder.update({"id": "a", "sk": 1}, set={"x": 1})
    with pytest.raises(ValueError, match=r"^a key must hold exactly"):
        builder.item({"pk": "a"})
    with pytest.raises(TypeError, match=r"^a key must be a mapping of the key attributes, got str$"):
        builder.delete("a")  # type: ignore[arg-type]


def test_keys_and_items_are_validated_by_the_codec() -> None:
    builder = EventBuilder(key_schema={"pk": "S", "sk": "N"})
    with pytest.raises(AttributeValueError, match=r"^sk: the sort key must be of type N \(key schema\), got S$"):
        builder.delete({"pk": "a", "sk": "1"})
    with pytest.raises(AttributeValueError, match=r"^pk: the partition key must not be empty$"):
        builder.put({"pk": "", "sk": 1})
    with pytest.raises(AttributeValueError, match=r"^sk: the item lacks its sort key attribute$"):
        builder.put({"pk": "a"})
    with pytest.raises(AttributeValueError, match=r"^price: float 1.5 refused"):
        builder.put({"pk": "a", "sk": 1, "price": 1.5})
    with pytest.raises(AttributeValueError, match=r"^tags: an empty set has no DynamoDB type"):
        builder.update({"pk": "a", "sk": 1}, set={"tags": set()})
    with pytest.raises(AttributeValueError, match=r"^item is 409,6\d\d bytes; DynamoDB's limit is 409,600"):
        builder.put({"pk": "a", "sk": 1, "blob": b"\0" * 409_600})
    assert builder.pending == 0


def test_the_key_schema_and_table_options_are_checked() -> None:
    with pytest.raises(AttributeValueError, match=r"^key_schema: key attribute 'pk' has type 'SS'"):
        EventBuilder(key_schema={"pk": "SS"})
    with pytest.raises(ValueError, match=r"^table 'a/b': DynamoDB table names are 3-255 characters"):
        EventBuilder(table="a/b")
    with pytest.raises(ValueError, match=r"^account_id '1234': an AWS account ID is 12 digits$"):
        EventBuilder(account_id="1234")
    with pytest.raises(ValueError, match=r"^step_seconds must be a finite number >= 0, got -1$"):
        EventBuilder(step_seconds=-1)


def test_item_returns_plain_values_with_keys_matched_by_value() -> None:
    builder = EventBuilder(key_schema={"pk": "B"})
    builder.put({"pk": b"\x00\x01", "n": 12, "blob": b"\xff", "s": {Decimal("1.5")}, "l": [None, True]})
    assert builder.item({"pk": bytearray(b"\x00\x01")}) == {
        "pk": b"\x00\x01",
        "n": Decimal(12),
        "blob": b"\xff",
        "s": {Decimal("1.5")},
        "l": [None, True],
    }
    assert builder.item({"pk": b"\x00"}) is None
    numbers = EventBuilder()
    numbers.put({"Id": 5})
    assert numbers.item({"Id": Decimal("5.000")}) == {"Id": 5}


# -- clocks -----------------------------------------------------------------------------------------


def test_an_injected_clock_is_read_and_never_advanced() -> None:
    clock = VirtualClock("2026-03-01T12:00:00.750Z")
    builder = EventBuilder(clock=clock, step_seconds=30)
    builder.put({"Id": 1})
    builder.put({"Id": 2})
    assert clock.now() == datetime(2026, 3, 1, 12, 0, 0, 750_000, tzinfo=timezone.utc)
    clock.advance(61_500)
    builder.put({"Id": 3})
    stream = [r["dynamodb"]["ApproximateCreationDateTime"] for r in records(builder.build())]
    base = int(datetime(2026, 3, 1, 12, tzinfo=timezone.utc).timestamp())
    assert stream == [base, base, base + 62]  # whole seconds: 12:00:00.750 and 12:01:02.250


def test_the_own_clock_advances_step_seconds_per_record() -> None:
    builder = EventBuilder(start="2026-01-01T00:00:00.100Z", step_seconds=0.75)
    for n in range(4):
        builder.put({"Id": n})
    assert builder.put({"Id": 0}) is None  # no record: the clock does not move either
    builder.put({"Id": 9})
    event = StreamEvent(builder.build(kinesis=True))
    offsets = [(r.approximate_creation_time - START) for r in event]  # type: ignore[operator]
    assert offsets == [timedelta(milliseconds=100 + 750 * n) for n in range(5)]


def test_stream_times_are_whole_epoch_seconds() -> None:
    builder = EventBuilder(start=1_767_225_600_999, step_seconds=0.001)
    builder.put({"Id": 1})
    builder.put({"Id": 2})
    first, second = records(builder.build())
    assert first["dynamodb"]["ApproximateCreationDateTime"] == 1_767_225_600
    assert second["dynamodb"]["ApproximateCreationDateTime"] == 1_767_225_601
    assert type(first["dynamodb"]["ApproximateCreationDateTime"]) is int


# -- determinism --------------------------------------------------------------------------------------


def scripted(seed: int, kinesis: bool = False) -> str:
    builder = EventBuilder(seed=seed, key_schema={"pk": "S", "sk": "N"})
    for item in generate_items(5, key_schema={"pk": "S", "sk": "N"}, seed=seed):
        builder.put(item)
    builder.update({"pk": "order#000000", "sk": 1}, set={"x": 1})
    return json.dumps(builder.build(kinesis=kinesis))


@pytest.mark.parametrize("kinesis", [False, True])
def test_the_same_seed_gives_the_same_json(kinesis: bool) -> None:
    assert scripted(7, kinesis) == scripted(7, kinesis)


def test_another_seed_gives_other_ids() -> None:
    def ids(seed: int) -> list[tuple[str, str]]:
        builder = EventBuilder(seed=seed)
        sam_changes(builder)
        return [(r["eventID"], r["dynamodb"]["SequenceNumber"]) for r in records(builder.build())]

    one, other = ids(1), ids(2)
    assert all(a[0] != b[0] and a[1] != b[1] for a, b in zip(one, other, strict=True))


# -- building -----------------------------------------------------------------------------------------


def test_build_consumes_the_pending_records() -> None:
    builder = EventBuilder()
    assert builder.pending == 0
    sam_changes(builder)
    assert builder.pending == 3
    assert len(records(builder.build())) == 3
    assert builder.pending == 0
    assert builder.build() == {"Records": []}
    builder.put({"Id": 2})
    assert [r["eventName"] for r in records(builder.build(kinesis=True))] == ["aws:kinesis:record"]


def test_build_batches_splits_in_order() -> None:
    builder = EventBuilder()
    for n in range(7):
        builder.put({"Id": n})
    batches = builder.build_batches(3)
    assert [len(records(event)) for event in batches] == [3, 3, 1]
    keys = [r["dynamodb"]["Keys"]["Id"]["N"] for event in batches for r in records(event)]
    assert keys == [str(n) for n in range(7)]
    assert builder.pending == 0
    assert builder.build_batches(3) == []
    builder.put({"Id": 100})
    (kinesis,) = builder.build_batches(10, kinesis=True)
    assert StreamEvent(kinesis)[0].is_kinesis
    with pytest.raises(ValueError, match=r"^size must be a whole number of records >= 1, got 0$"):
        builder.build_batches(0)


def test_build_window_gives_a_tumbling_window_invoke() -> None:
    builder = EventBuilder(start="2026-01-01T00:00:50Z", step_seconds=5)
    for n in range(3):  # at :50, :55 and 01:00
        builder.put({"Id": n})
    first = builder.build_window(state={"total": {"n": 1}}, shard_id="shardId-1")
    assert list(first) == [
        "Records",
        "window",
        "state",
        "shardId",
        "eventSourceARN",
        "isFinalInvokeForWindow",
        "isWindowTerminatedEarly",
    ]
    assert first["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:01:00Z"}
    assert len(records(first)) == 2
    assert first["state"] == {"total": {"n": 1}}
    assert first["shardId"] == "shardId-1"
    assert first["eventSourceARN"] == builder.stream_arn == records(first)[0]["eventSourceARN"]
    assert first["isFinalInvokeForWindow"] is False
    assert first["isWindowTerminatedEarly"] is False
    assert builder.pending == 1  # the third record belongs to the next window

    second = builder.build_window(window_seconds=300, final=True, terminated_early=True)
    event = StreamEvent(second)
    assert event.is_tumbling_window
    assert event.window_start == START
    assert event.window_end == START + timedelta(minutes=5)
    assert event.state == {}
    assert event.is_final_invoke_for_window is True
    assert event.is_window_terminated_early is True
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", event.shard_id or "")
    assert [r.keys for r in event] == [{"Id": 2}]
    assert builder.pending == 0


def test_build_window_copies_the_state_and_checks_its_length() -> None:
    state: dict[str, Any] = {"seen": [1]}
    builder = EventBuilder()
    event = builder.build_window(state=state, final=True)
    assert event["Records"] == []  # a final invoke may carry no record
    event["state"]["seen"].append(2)
    assert state == {"seen": [1]}
    with pytest.raises(ValueError, match=r"^window_seconds must be 1..900 \(TumblingWindowInSeconds\), got 901$"):
        builder.build_window(window_seconds=901)


# -- shardline reads what the builder writes ----------------------------------------------------------------


def mixed_changes(builder: EventBuilder) -> list[dict[str, Any]]:
    """A put, a modify, an update, a delete and a TTL delete over composite keys; the records returned."""
    items = generate_items(4, key_schema={"pk": "S", "sk": "N"}, seed=11)
    made = [builder.put(item) for item in items]
    made.append(builder.put({**items[0], "status": "REFUNDED"}))
    made.append(
        builder.update({"pk": items[1]["pk"], "sk": items[1]["sk"]}, set={"status": "ON_HOLD"}, remove=["tags"])
    )
    made.append(builder.delete({"pk": items[2]["pk"], "sk": items[2]["sk"]}))
    made.append(builder.ttl_delete({"pk": items[3]["pk"], "sk": items[3]["sk"]}))
    assert all(record is not None for record in made)
    return [record for record in made if record is not None]


def test_stream_events_read_back_through_stream_event() -> None:
    clock = VirtualClock("2026-05-05T05:05:05.555Z")
    builder = EventBuilder(table="Orders", region="eu-central-1", key_schema={"pk": "S", "sk": "N"}, clock=clock)
    made = mixed_changes(builder)
    event = StreamEvent(builder.build())
    assert len(event) == len(made) == 8
    for record, raw in zip(event, made, strict=True):
        dynamodb = raw["dynamodb"]
        assert not record.is_kinesis
        assert record.event_name == EventName(raw["eventName"])
        assert record.event_id == raw["eventID"]
        assert record.sequence_number == dynamodb["SequenceNumber"]
        assert record.keys == deserialize_item(dynamodb["Keys"])
        assert record.new_image == (deserialize_item(dynamodb["NewImage"]) if "NewImage" in dynamodb else None)
        assert record.old_image == (deserialize_item(dynamodb["OldImage"]) if "OldImage" in dynamodb else None)
        assert record.table_name == "Orders"
        assert record.aws_region == "eu-central-1"
        assert record.view_type is StreamViewType.NEW_AND_OLD_IMAGES
        assert record.approximate_creation_time == datetime(2026, 5, 5, 5, 5, 5, tzinfo=timezone.utc)
        carried = [dynamodb[f] for f in ("Keys", "NewImage", "OldImage") if f in dynamodb]
        assert record.size_bytes == sum(map(item_size, carried))
    assert [r.event_name.value for r in event] == ["INSERT"] * 4 + ["MODIFY", "MODIFY", "REMOVE", "REMOVE"]
    assert [r.is_ttl_delete for r in event] == [False] * 7 + [True]
    assert event[5].changed_attributes == {"status", "tags"}


@pytest.mark.parametrize("view", VIEWS)
def test_kinesis_events_read_back_through_stream_event(view: str) -> None:
    clock = VirtualClock("2026-05-05T05:05:05.555Z")
    builder = EventBuilder(
        table="Orders",
        partition="aws-cn",
        account_id="210987654321",
        key_schema={"pk": "S", "sk": "N"},
        clock=clock,
        view_type=view,
    )
    made = mixed_changes(builder)
    event = StreamEvent(builder.build(kinesis=True))
    kinesis_numbers = []
    for record, stream in zip(event, made, strict=True):
        assert record.is_kinesis
        assert record.event_name == EventName(stream["eventName"])
        assert record.keys == deserialize_item(stream["dynamodb"]["Keys"])
        assert record.new_image == (
            deserialize_item(stream["dynamodb"]["NewImage"]) if "NewImage" in stream["dynamodb"] else None
        )
        assert record.old_image == (
            deserialize_item(stream["dynamodb"]["OldImage"]) if "OldImage" in stream["dynamodb"] else None
        )
        assert record.table_name == "Orders"
        assert record.approximate_creation_time == datetime(2026, 5, 5, 5, 5, 5, 555_000, tzinfo=timezone.utc)
        assert record.size_bytes == stream["dynamodb"]["SizeBytes"]
        inner = record.stream_record["dynamodb"]
        carried = [inner[f] for f in ("Keys", "NewImage", "OldImage") if f in inner]
        assert record.size_bytes == sum(map(item_size, carried))
        assert record.sequence_number == record.raw["kinesis"]["sequenceNumber"]
        assert re.fullmatch(r"[0-9]{56}", record.sequence_number)
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", record.event_id)
        kinesis_numbers.append(int(record.sequence_number))
        assert record.event_source_arn == "arn:aws-cn:kinesis:us-east-1:210987654321:stream/Orders-changes"
        assert record.raw["invokeIdentityArn"] == "arn:aws-cn:iam::210987654321:role/lambda-kinesis-role"
    assert kinesis_numbers == sorted(set(kinesis_numbers))
    assert [r.is_ttl_delete for r in event] == [False] * 7 + [True]


def test_kinesis_records_have_the_kinesis_shape() -> None:
    builder = EventBuilder(start="2026-01-01T00:00:00.123Z")
    sam_changes(builder)
    builder.put({"Id": 101})
    builder.ttl_delete({"Id": 101})
    built = records(builder.build(kinesis=True))
    outer = built[1]
    assert list(outer) == [
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    ]
    assert list(outer["kinesis"]) == [
        "kinesisSchemaVersion",
        "partitionKey",
        "sequenceNumber",
        "data",
        "approximateArrivalTimestamp",
    ]
    assert outer["eventID"] == f"shardId-000000000000:{outer['kinesis']['sequenceNumber']}"
    assert (outer["eventSource"], outer["eventVersion"]) == ("aws:kinesis", "1.0")
    assert outer["kinesis"]["approximateArrivalTimestamp"] == 1_767_225_601.123
    inner = kinesis_inner(outer)
    assert list(inner) == [
        "awsRegion",
        "eventID",
        "eventName",
        "userIdentity",
        "recordFormat",
        "tableName",
        "dynamodb",
        "eventSource",
    ]
    assert list(inner["dynamodb"]) == ["ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SizeBytes"]
    assert inner["dynamodb"]["ApproximateCreationDateTime"] == 1_767_225_601_123
    assert inner["dynamodb"]["SizeBytes"] == 59
    assert inner["userIdentity"] is None
    assert (inner["recordFormat"], inner["tableName"], inner["eventSource"]) == (
        "application/json",
        "ExampleTableWithStream",
        "aws:dynamodb",
    )
    assert kinesis_inner(built[-1])["userIdentity"] == TTL_IDENTITY
    keys = {record["kinesis"]["partitionKey"] for record in built}
    assert len(keys) == 1  # every change of item 101: one partition key, so one Kinesis shard
    assert re.fullmatch(r"[0-9A-F]{32}", keys.pop())
    builder.put({"Id": 102})
    (other,) = records(builder.build(kinesis=True))
    assert other["kinesis"]["partitionKey"] != outer["kinesis"]["partitionKey"]


# -- apply ------------------------------------------------------------------------------------------


def test_apply_takes_each_change_kind() -> None:
    builder = EventBuilder(key_schema={"pk": "S"})
    lines = [
        '{"put": {"pk": "a", "qty": 1, "price": 2.50}}',
        '{"update": {"key": {"pk": "a"}, "set": {"qty": 2}, "remove": ["price"]}}',
        '{"update": {"key": {"pk": "b"}}}',
        '{"put": {"pk": "a", "qty": 2}}',
        '{"delete": {"pk": "a"}}',
        '{"ttl_delete": {"pk": "b"}}',
        '{"delete": {"pk": "a"}}',
    ]
    results = [builder.apply(json.loads(line, parse_float=Decimal)) for line in lines]
    assert [r and r["eventName"] for r in results] == ["INSERT", "MODIFY", "INSERT", None, "REMOVE", "REMOVE", None]
    assert results[0] is not None
    assert results[0]["dynamodb"]["NewImage"]["price"] == {"N": "2.5"}
    assert results[1] is not None
    assert results[1]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "qty": {"N": "2"}}
    assert results[5] is not None
    assert results[5]["userIdentity"] == TTL_IDENTITY
    assert builder.pending == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ([], r'^a change must be an object such as \{"put": \{\.\.\.\}\}, got an array$'),
        ({}, r"^a change must have exactly one of put, update, delete or ttl_delete; got none$"),
        (
            {"put": {"pk": "a"}, "delete": {"pk": "a"}},
            r'^a change must have exactly one of put, update, delete or ttl_delete; got "delete", "put"$',
        ),
        ({"upsert": {"pk": "a"}}, r'^unknown change "upsert"; expected put, update, delete or ttl_delete$'),
        ({"put": "a"}, r"^put: the item must be an object, got a string$"),
        ({"delete": ["a"]}, r"^delete: the key must be an object, got an array$"),
        ({"ttl_delete": None}, r"^ttl_delete: the key must be an object, got null$"),
        ({"update": 1}, r'^update: the update \{"key": \.\.\.\} must be an object, got a number$'),
        ({"update": {"set": {"x": 1}}}, r'^update: "key" is missing$'),
        ({"update": {"key": {"pk": "a"}, "sett": {}}}, r'^update: unknown field "sett"; expected key, set and remove$'),
        ({"update": {"key": "a"}}, r"^update.key: must be an object, got a string$"),
        ({"update": {"key": {"pk": "a"}, "set": [1]}}, r"^update.set: must be an object, got an array$"),
        (
            {"update": {"key": {"pk": "a"}, "remove": "x"}},
            r"^update.remove: must be an array of attribute names, got a string$",
        ),
        (
            {"update": {"key": {"pk": "a"}, "remove": [1]}},
            r"^update.remove\[0\]: attribute names are strings, got a number$",
        ),
        ({"delete": {"id": "a"}}, r"^a key must hold exactly the key attributes \('pk'\); missing 'pk'"),
    ],
)
def test_apply_names_what_is_wrong(change: Any, message: str) -> None:
    builder = EventBuilder(key_schema={"pk": "S"})
    with pytest.raises(ValueError, match=message):
        builder.apply(change)
    assert builder.pending == 0


def test_apply_refuses_floats_like_the_codec() -> None:
    builder = EventBuilder(key_schema={"pk": "S"})
    with pytest.raises(AttributeValueError, match=r"^price: float 2.5 refused"):
        builder.apply(json.loads('{"put": {"pk": "a", "price": 2.50}}'))


# -- synthetic items ----------------------------------------------------------------------------------

SCHEMAS = [None, {"pk": "S"}, {"pk": "S", "sk": "N"}, {"id": "B", "rev": "S"}, {"status": "S"}]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_items_have_distinct_keys_and_load_into_the_builder(schema: dict[str, str] | None) -> None:
    items = generate_items(25, key_schema=schema, seed=5)
    names = list(schema or {"Id": "N"})
    keys = {tuple(item[name] for name in names) for item in items}
    assert len(keys) == 25
    builder = EventBuilder(key_schema=schema)
    for item in items:
        record = builder.put(item)
        assert record is not None
        assert record["eventName"] == "INSERT"
        assert deserialize_item(record["dynamodb"]["NewImage"]) == item
    assert builder.pending == 25
    assert [r.event_name for r in StreamEvent(builder.build())] == [EventName.INSERT] * 25


def test_generated_items_use_every_kind_of_value() -> None:
    items = generate_items(10, seed=1)
    tags = {tag for item in items for av in serialize_item(item).values() for tag in av}
    assert tags >= {"S", "N", "B", "SS", "NS", "M", "L", "NULL", "BOOL"}
    for item in items:
        assert isinstance(item["amount"], Decimal)
        assert item["amount"].as_tuple().exponent in (-2, -1, 0)  # cents, never a float
        assert isinstance(item["checksum"], bytes)
        assert isinstance(item["address"], dict)
        assert isinstance(item["lines"], list)
        assert item["amount"] == sum(line["price"] * line["qty"] for line in item["lines"])
        assert deserialize_item(serialize_item(item)) == item


def test_generated_items_are_deterministic_per_seed() -> None:
    assert generate_items(8, seed=3) == generate_items(8, seed=3)
    assert generate_items(8, seed=3) != generate_items(8, seed=4)
    assert generate_items(0) == []
    with pytest.raises(ValueError, match=r"^count must be >= 0, got -1$"):
        generate_items(-1)


# -- the model agrees with a plain replay -------------------------------------------------------------------

VALUES = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([Decimal("1.0"), Decimal("1"), Decimal("0.50"), Decimal("0.5")]),
    st.sampled_from(["", "a", "b"]),
    st.none(),
    st.booleans(),
    st.frozensets(st.sampled_from(["x", "y"]), min_size=1),
)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 2), st.dictionaries(st.sampled_from(["a", "b"]), VALUES, max_size=2)),
        st.tuples(st.just("delete"), st.integers(0, 2), st.just({})),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(OPERATIONS)
def test_the_model_replays_like_a_dict_and_old_images_chain(operations: list[tuple[str, int, dict[str, Any]]]) -> None:
    builder = EventBuilder(key_schema={"k": "N"})
    replay: dict[int, dict[str, Any]] = {}
    changes = 0
    for kind, key, attributes in operations:
        before = replay.get(key)
        if kind == "put":
            replay[key] = {"k": key, **attributes}
            record = builder.put(replay[key])
            changed = before is None or serialize_item(before) != serialize_item(replay[key])
        else:
            replay.pop(key, None)
            record = builder.delete({"k": key})
            changed = before is not None
        assert (record is not None) == changed
        changes += changed
    for key in range(3):
        assert builder.item({"k": key}) == replay.get(key)
    built = records(builder.build())
    assert len(built) == changes
    last_new: dict[str, dict[str, Any] | None] = {}
    for record in built:
        dynamodb = record["dynamodb"]
        key_text = dynamodb["Keys"]["k"]["N"]
        previous = last_new.get(key_text)
        assert record["eventName"] == ("REMOVE" if "NewImage" not in dynamodb else "MODIFY" if previous else "INSERT")
        assert dynamodb.get("OldImage") == previous
        last_new[key_text] = dynamodb.get("NewImage")


# -- hardening: lazy items, a model that can forget, checked locations and contexts ---------------------------


def test_iter_items_gives_generate_items_one_at_a_time() -> None:
    schema = {"pk": "S", "sk": "N"}
    assert list(iter_items(7, key_schema=schema, seed=4)) == generate_items(7, key_schema=schema, seed=4)
    items = iter_items(10**15, seed=7)  # nothing is built before it is taken
    assert [next(items)["Id"] for _ in range(3)] == [6305, 6306, 6307]
    with pytest.raises(ValueError, match=r"^count must be >= 0, got -1$"):
        iter_items(-1)  # checked at once, not when the first item is taken
    with pytest.raises(AttributeValueError, match=r"^key_schema: "):
        iter_items(1, key_schema={"pk": "SS"})


def test_forget_drops_an_item_from_the_model_without_a_record() -> None:
    builder = EventBuilder(key_schema={"pk": "S"})
    builder.put({"pk": "a", "n": 1})
    builder.build()
    assert builder.forget({"pk": "a"}) is True
    assert builder.pending == 0  # nothing recorded
    assert builder.item({"pk": "a"}) is None
    assert builder.forget({"pk": "a"}) is False
    record = builder.put({"pk": "a", "n": 1})
    assert record is not None
    assert record["eventName"] == "INSERT"  # as after a delete: the model no longer knows the item
    with pytest.raises(ValueError, match=r"^a key must hold exactly the key attributes"):
        builder.forget({"Id": 1})


@pytest.mark.parametrize(
    ("place", "message"),
    [
        ({"table": "a b"}, r"^table 'a b': DynamoDB table names are 3-255 characters"),
        ({"table": "x" * 5000}, r"^table 'x{56}\.\.\.: DynamoDB table names"),  # never the whole value
        ({"region": "eu-west-1\n"}, r"^region 'eu-west-1\\n': expected lowercase letters"),
        ({"account_id": "12345678901\x00"}, r"^account_id '12345678901\\x00': an AWS account ID is 12 digits$"),
        ({"partition": "AWS"}, r"^partition 'AWS': expected lowercase letters"),
    ],
)
def test_stream_locations_are_checked_everywhere(place: dict[str, str], message: str) -> None:
    arguments = {"table": "Orders", "region": "us-east-1", "account_id": "123456789012", "partition": "aws"}
    with pytest.raises(ValueError, match=message):
        check_stream_location(**{**arguments, **place})
    with pytest.raises(ValueError, match=message):
        sam_sample_event(**{**arguments, **place})
    with pytest.raises(ValueError, match=message):
        EventBuilder(**{**arguments, **place})


@pytest.mark.parametrize(
    ("timeout", "error", "message"),
    [
        (float("nan"), ValueError, r"^timeout must be positive and finite \(seconds\), got nan$"),
        (float("inf"), ValueError, r"^timeout must be positive and finite \(seconds\), got inf$"),
        (-1, ValueError, r"^timeout must be positive and finite \(seconds\), got -1$"),
        ("3", TypeError, r"^timeout must be a number of seconds, got str$"),
        (True, TypeError, r"^timeout must be a number of seconds, got bool$"),
    ],
)
def test_lambda_context_refuses_timeouts_it_cannot_count_down(
    timeout: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        LambdaContext(timeout=timeout)
    context = LambdaContext(timeout=10**400, clock=VirtualClock(0))  # huge, but a whole number: counts down fine
    assert context.get_remaining_time_in_millis() == 10**403
