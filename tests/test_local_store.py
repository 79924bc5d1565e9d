"""The embedded store: tables, item semantics, the records each write produces, TTL, state and durability."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import stream_records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shardline import AttributeValueError, format_number, item_size, serialize_item
from shardline._attributes import encoded_item_size
from shardline.local import (
    ArgumentTypeError,
    ResourceNotFoundError,
    Store,
    StoreError,
    Table,
    TableExistsError,
    ValidationError,
)
from shardline.testing import VirtualClock, validate_event
from shardline.testing._builder import EventBuilder

START = "2026-11-27T06:00:00Z"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
VIEWS = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def store(clock: VirtualClock) -> Iterator[Store]:
    with Store(":memory:", clock=clock) as opened:
        yield opened


@pytest.fixture
def orders(store: Store) -> Table:
    return store.create_table("Orders", key_schema={"pk": "S", "sk": "N"})


# -- tables ------------------------------------------------------------------------------------------


def test_create_table_gives_a_table_with_its_stream_arn(store: Store) -> None:
    table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"}, ttl_attribute="expires")
    assert table.name == "Orders"
    assert table.key_schema == {"pk": "S", "sk": "N"}
    assert list(table.key_schema) == ["pk", "sk"]  # order: partition key first
    assert table.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert table.ttl_attribute == "expires"
    assert table.stream_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-27T06:00:00.000"
    assert store.table("Orders") == table
    assert [found.name for found in store.tables()] == ["Orders"]
    assert repr(table) == "<Table 'Orders' (pk S, sk N) NEW_AND_OLD_IMAGES>"


def test_region_and_account_are_store_options(clock: VirtualClock) -> None:
    clock.advance(1234)
    with Store(":memory:", clock=clock, region="eu-central-1", account_id="111122223333") as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        record = table.put_item({"pk": "a"})
    assert table.stream_arn == "arn:aws:dynamodb:eu-central-1:111122223333:table/Orders/stream/2026-11-27T06:00:01.234"
    assert record is not None
    assert record["awsRegion"] == "eu-central-1"
    assert record["eventSourceARN"] == table.stream_arn


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"region": "Mars"}, ValueError, r"^region 'Mars': expected an AWS Region such as us-east-1$"),
        ({"account_id": "1234"}, ValueError, r"^account_id '1234': an AWS account ID is 12 digits$"),
        ({"timeout": -1}, ValueError, r"^timeout must be a number of seconds from 0 to 2000000, got -1$"),
    ],
)
def test_store_options_are_checked(options: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Store(":memory:", **options)


@pytest.mark.parametrize(
    ("name", "options", "error", "message"),
    [
        ("ab", {}, ValidationError, r"^table name 'ab': DynamoDB table names are 3-255 characters"),
        ("a/b/c", {}, ValidationError, r"^table name 'a/b/c'"),
        ("Orders", {"key_schema": {"pk": "SS"}}, AttributeValueError, r"key attribute 'pk' has type 'SS'"),
        ("Orders", {"key_schema": {}}, AttributeValueError, r"key_schema must map 1 or 2 attribute names"),
        ("Orders", {"stream_view_type": "NEW"}, ValueError, r"^stream_view_type 'NEW': expected KEYS_ONLY"),
        ("Orders", {"ttl_attribute": ""}, ValidationError, r"^ttl_attribute must be a non-empty attribute name"),
        ("Orders", {"ttl_attribute": "pk"}, ValidationError, r"^ttl_attribute 'pk' is a key attribute"),
        ("Orders", {"shard_count": 0}, ValidationError, r"^shard_count must be between 1 and 1000, got 0$"),
        ("Orders", {"shard_count": 1.5}, TypeError, r"^shard_count must be an int, got float$"),
        ("Orders", {"retention_ms": 0}, ValidationError, r"^retention_ms must be between 1 and"),
    ],
)
def test_create_table_checks_its_arguments(
    store: Store, name: str, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = {"key_schema": {"pk": "S"}, **options}
    with pytest.raises(error, match=message):
        store.create_table(name, **arguments)
    assert store.tables() == []


def test_a_table_name_is_taken_once(store: Store, orders: Table) -> None:
    with pytest.raises(TableExistsError, match=r"^table 'Orders' exists already"):
        store.create_table("Orders", key_schema={"pk": "S"})


def test_an_unknown_table_is_not_found(store: Store, orders: Table) -> None:
    with pytest.raises(ResourceNotFoundError, match=r"^no table 'Order' in :memory: \(tables: 'Orders'\)$"):
        store.table("Order")
    assert issubclass(ResourceNotFoundError, LookupError)


def test_delete_table_removes_items_and_stream(store: Store, orders: Table) -> None:
    orders.put_item({"pk": "a", "sk": 1})
    store.delete_table("Orders")
    assert store.tables() == []
    with pytest.raises(ResourceNotFoundError, match=r"^table 'Orders' was deleted from :memory:$"):
        orders.get_item({"pk": "a", "sk": 1})
    with pytest.raises(ResourceNotFoundError, match=r"^table 'Orders' was deleted"):
        orders.put_item({"pk": "a", "sk": 1})
    with pytest.raises(ResourceNotFoundError):
        store.delete_table("Orders")
    again = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"})
    assert again.scan() == []
    assert stream_records(again) == []
    assert again != orders


# -- writes and their records -----------------------------------------------------------------------


def test_put_update_delete_write_the_records_dynamodb_writes(orders: Table, clock: VirtualClock) -> None:
    start_s = clock.now_ms() // 1000
    inserted = orders.put_item({"pk": "order#1", "sk": 1, "status": "NEW", "total": Decimal("12.50")})
    clock.advance(1500)
    modified = orders.update_item({"pk": "order#1", "sk": 1}, set={"status": "PAID"}, remove=["total"])
    removed = orders.delete_item({"pk": "order#1", "sk": 1})
    assert inserted is not None
    assert modified is not None
    assert removed is not None
    assert [r["eventName"] for r in (inserted, modified, removed)] == ["INSERT", "MODIFY", "REMOVE"]
    assert list(inserted) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
                              "eventSourceARN"]  # fmt: skip
    assert inserted["eventVersion"] == "1.1"
    assert inserted["eventSource"] == "aws:dynamodb"
    assert inserted["dynamodb"]["Keys"] == {"pk": {"S": "order#1"}, "sk": {"N": "1"}}
    assert inserted["dynamodb"]["NewImage"]["total"] == {"N": "12.5"}
    assert modified["dynamodb"]["OldImage"] == inserted["dynamodb"]["NewImage"]
    assert modified["dynamodb"]["NewImage"] == {"pk": {"S": "order#1"}, "sk": {"N": "1"}, "status": {"S": "PAID"}}
    assert removed["dynamodb"]["OldImage"] == modified["dynamodb"]["NewImage"]
    assert "NewImage" not in removed["dynamodb"]
    # ApproximateCreationDateTime: the clock, in whole epoch seconds.
    assert inserted["dynamodb"]["ApproximateCreationDateTime"] == start_s
    assert modified["dynamodb"]["ApproximateCreationDateTime"] == start_s + 1  # 1.5 s later, floored
    assert orders.get_item({"pk": "order#1", "sk": 1}) is None
    assert stream_records(orders) == [inserted, modified, removed]


def test_records_match_sams_sample_size_bytes(store: Store) -> None:
    table = store.create_table("ExampleTableWithStream", key_schema={"Id": "N"})
    records = [
        table.put_item({"Id": 101, "Message": "New item!"}),
        table.put_item({"Id": 101, "Message": "This item has changed"}),
        table.delete_item({"Id": 101}),
    ]
    assert [record["dynamodb"]["SizeBytes"] for record in records if record is not None] == [26, 59, 38]


def test_writes_that_change_nothing_write_no_record(orders: Table) -> None:
    key = {"pk": "a", "sk": 1}
    inserted = orders.put_item({**key, "n": Decimal("1.50"), "tags": {"x", "y"}})
    # Equal by value: 1.5 is 1.50, sets have no order, attribute order does not matter.
    assert orders.put_item({"tags": {"y", "x"}, **key, "n": Decimal("1.5")}) is None
    assert orders.update_item(key, set={"n": Decimal("1.500")}) is None
    assert orders.update_item(key, remove=["absent"]) is None
    assert orders.delete_item({"pk": "b", "sk": 1}) is None
    removed = orders.delete_item(key)
    assert orders.delete_item(key) is None
    assert stream_records(orders) == [inserted, removed]
    assert [record["eventName"] for record in stream_records(orders)] == ["INSERT", "REMOVE"]


def test_update_creates_a_missing_item_and_stores_none_as_null(orders: Table) -> None:
    record = orders.update_item({"pk": "a", "sk": 2}, set={"note": None})
    assert record is not None
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "sk": {"N": "2"}, "note": {"NULL": True}}
    assert orders.get_item({"pk": "a", "sk": 2}) == {"pk": "a", "sk": Decimal("2"), "note": None}


@pytest.mark.parametrize("view_type", VIEWS)
def test_records_equal_the_event_builders_for_every_view_type(
    store: Store, clock: VirtualClock, view_type: str
) -> None:
    # The builder is the model the rest of shardline trusts; the store must write exactly its records.
    builder = EventBuilder(table="Orders", key_schema={"pk": "S"}, view_type=view_type, clock=clock, start=START)
    table = store.create_table("Orders", key_schema={"pk": "S"}, stream_view_type=view_type)
    writes: list[tuple[str, Any]] = [
        ("put", {"pk": "a", "n": 1, "b": b"\x00\x01", "set": {Decimal(1), Decimal("2.5")}}),
        ("put", {"pk": "a", "n": 2, "m": {"deep": [1, "x", None, True]}}),
        ("update", ({"pk": "a"}, {"n": 3}, ["m"])),
        ("update", ({"pk": "b"}, {"s": "é"}, [])),
        ("delete", {"pk": "a"}),
    ]
    returned = []
    for kind, argument in writes:
        clock.advance(999)
        if kind == "put":
            expected, got = builder.put(argument), table.put_item(argument)
        elif kind == "update":
            key, assigned, removed = argument
            expected, got = builder.update(key, assigned, removed), table.update_item(key, set=assigned, remove=removed)
        else:
            expected, got = builder.delete(argument), table.delete_item(argument)
        assert expected is not None
        assert got is not None
        returned.append(got)
        # Random parts aside (event ID, sequence number), the records are the same.
        assert {**got, "eventID": "", "dynamodb": {**got["dynamodb"], "SequenceNumber": ""}} == {
            **expected,
            "eventID": "",
            "dynamodb": {**expected["dynamodb"], "SequenceNumber": ""},
        }
    # What the stream holds is what the writes returned, field for field and in order.
    stored = stream_records(table)
    assert stored == returned
    assert [list(record["dynamodb"]) for record in stored] == [list(record["dynamodb"]) for record in returned]
    assert validate_event({"Records": stored}, strict=True) == []


def test_sequence_numbers_and_event_ids(orders: Table) -> None:
    records = [orders.put_item({"pk": f"p{i}", "sk": i}) for i in range(30)]
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records if record is not None]
    assert all(re.fullmatch(r"[0-9]{21,40}", number) for number in numbers)
    assert [int(number) for number in numbers] == sorted({int(number) for number in numbers})
    ids = [record["eventID"] for record in records if record is not None]
    assert all(re.fullmatch(r"[0-9a-f]{32}", event_id) for event_id in ids)
    assert len(set(ids)) == 30


def test_items_are_checked_with_dynamodbs_rules(orders: Table) -> None:
    with pytest.raises(AttributeValueError, match=r"^sk: the item lacks its sort key attribute$"):
        orders.put_item({"pk": "a"})
    with pytest.raises(AttributeValueError, match=r"^sk: the sort key must be of type N \(key schema\), got S$"):
        orders.put_item({"pk": "a", "sk": "1"})
    with pytest.raises(AttributeValueError, match=r"^pk: the partition key must not be empty$"):
        orders.put_item({"pk": "", "sk": 1})
    with pytest.raises(AttributeValueError, match=r"^price: float 1.5 refused"):
        orders.put_item({"pk": "a", "sk": 1, "price": 1.5})
    with pytest.raises(AttributeValueError, match=r"^item is 409,6\d\d bytes; DynamoDB's limit is 409,600"):
        orders.put_item({"pk": "a", "sk": 1, "blob": "x" * 409_600})
    with pytest.raises(AttributeValueError, match=r"^a key must hold exactly the key attributes \('pk', 'sk'\); "
                       r"missing 'sk'; not key attributes: 'id'$"):  # fmt: skip
        orders.get_item({"pk": "a", "id": 1})
    with pytest.raises(TypeError, match=r"^a key must be a mapping of the key attributes, got str$"):
        orders.delete_item("a")  # type: ignore[arg-type]
    # UpdateItem's ValidationExceptions, in DynamoDB's words.
    with pytest.raises(
        ValidationError,
        match=r"^One or more parameter values were invalid: Cannot update attribute sk\. This attribute is part "
        r"of the key$",
    ):
        orders.update_item({"pk": "a", "sk": 1}, set={"sk": 2})
    with pytest.raises(ValidationError, match=r"^One or more .*: Cannot update attribute pk\."):
        orders.update_item({"pk": "a", "sk": 1}, remove=["pk"])
    with pytest.raises(
        ValidationError,
        match=r"^Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite "
        r"one of these paths; path one: \[x\], path two: \[x\]$",
    ):
        orders.update_item({"pk": "a", "sk": 1}, set={"x": 1}, remove=["x"])
    with pytest.raises(TypeError, match=r"^remove must be an iterable of attribute names, not a single string$"):
        orders.update_item({"pk": "a", "sk": 1}, remove="x")
    assert orders.scan() == []
    assert stream_records(orders) == []


def test_an_update_that_would_exceed_the_item_size_limit_is_refused(orders: Table) -> None:
    orders.put_item({"pk": "a", "sk": 1, "one": "x" * 300_000})
    with pytest.raises(AttributeValueError, match=r"^item is 600,0\d\d bytes; DynamoDB's limit is 409,600"):
        orders.update_item({"pk": "a", "sk": 1}, set={"two": "y" * 300_000})
    assert len(stream_records(orders)) == 1


def test_get_scan_and_query(store: Store) -> None:
    table = store.create_table("Lines", key_schema={"order": "S", "line": "N"})
    for line in (10, 2, -1, Decimal("2.5")):
        table.put_item({"order": "o#1", "line": line, "qty": 1})
    table.put_item({"order": "o#2", "line": 1})
    # Sort keys in DynamoDB's order: numbers by value, not as text.
    assert [item["line"] for item in table.query("o#1")] == [-1, 2, Decimal("2.5"), 10]
    assert table.query("o#3") == []
    assert len(table.scan()) == 5
    assert table.get_item({"order": "o#2", "line": 1}) == {"order": "o#2", "line": 1}
    strings = store.create_table("Words", key_schema={"pk": "N", "sk": "S"})
    for word in ("b", "a", "é", "Z"):
        strings.put_item({"pk": 1, "sk": word})
    assert [item["sk"] for item in strings.query(1)] == ["Z", "a", "b", "é"]  # by UTF-8 bytes
    binaries = store.create_table("Blobs", key_schema={"pk": "B", "sk": "B"})
    for blob in (b"\xff", b"\x00\x01", b"\x00"):
        binaries.put_item({"pk": b"k", "sk": blob})
    assert [item["sk"] for item in binaries.query(b"k")] == [b"\x00", b"\x00\x01", b"\xff"]
    with pytest.raises(AttributeValueError, match=r"^order: the partition key must be of type S"):
        table.query(1)


# -- batches and transactions ---------------------------------------------------------------------


def test_batch_write_commits_puts_and_deletes_with_their_records(orders: Table) -> None:
    orders.put_item({"pk": "old", "sk": 1})
    records = orders.batch_write(
        puts=[{"pk": "a", "sk": 1}, {"pk": "b", "sk": 1}], deletes=[{"pk": "old", "sk": 1}, {"pk": "none", "sk": 1}]
    )
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "a"),
        ("INSERT", "b"),
        ("REMOVE", "old"),
    ]
    assert stream_records(orders)[1:] == records


def test_batch_write_refuses_one_item_twice_and_writes_nothing(orders: Table) -> None:
    with pytest.raises(ValidationError, match=r"^batch_write: the batch writes item \(pk='a', sk='1'\) twice"):
        orders.batch_write(puts=[{"pk": "a", "sk": 1, "n": 1}], deletes=[{"pk": "a", "sk": Decimal("1.0")}])
    with pytest.raises(AttributeValueError, match=r"^x: float"):
        orders.batch_write(puts=[{"pk": "a", "sk": 1}, {"pk": "b", "sk": 1, "x": 0.5}])
    assert orders.scan() == []
    assert stream_records(orders) == []


def test_transact_write_is_all_or_nothing(orders: Table) -> None:
    orders.put_item({"pk": "a", "sk": 1, "big": "x" * 300_000})
    actions = [
        {"put": {"pk": "b", "sk": 1}},
        {"delete": {"pk": "c", "sk": 1}},
        # Valid alone, but the item would pass 400 KB: DynamoDB cancels the whole transaction.
        {"update": {"key": {"pk": "a", "sk": 1}, "set": {"more": "y" * 200_000}}},
    ]
    with pytest.raises(AttributeValueError, match=r"^item is 500,0\d\d bytes"):
        orders.transact_write(actions)
    assert orders.get_item({"pk": "b", "sk": 1}) is None
    assert len(stream_records(orders)) == 1
    records = orders.transact_write([*actions[:2], {"update": {"key": {"pk": "a", "sk": 1}, "remove": ["big"]}}])
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY"]
    assert stream_records(orders)[1:] == records


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (
            [{"put": {"pk": "a", "sk": 1}}, {"delete": {"pk": "a", "sk": 1}}],
            r"two actions change item \(pk='a', sk='1'\)",
        ),
        ([{"upsert": {}}], r"^transact_write: action \[0\]: unknown action 'upsert'; expected put, update or delete$"),
        (
            [{"put": {"pk": "a", "sk": 1}}, {"put": 1}],
            r"^transact_write: action \[1\]: put takes an object, got a numbe",
        ),
        ([{"put": {}, "delete": {}}], r"^transact_write: action \[0\]: expected \{\"put\": item\}"),
        ([{"update": {"key": {"pk": "a", "sk": 1}, "add": {}}}], r"unknown update field 'add'; expected key, set and"),
        ([{"update": {"set": {"n": 1}}}], r"^transact_write: action \[0\]: the update lacks its \"key\"$"),
    ],
)
def test_transact_write_checks_its_actions(orders: Table, actions: list[Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        orders.transact_write(actions)
    assert stream_records(orders) == []


# -- Time to Live ------------------------------------------------------------------------------------


def test_expire_ttl_deletes_expired_items_with_the_service_identity(store: Store, clock: VirtualClock) -> None:
    table = store.create_table("Sessions", key_schema={"id": "S"}, ttl_attribute="expires")
    now_s = clock.now_ms() // 1000
    table.put_item({"id": "past", "expires": now_s - 1})
    table.put_item({"id": "fraction", "expires": Decimal(now_s) - Decimal("0.001")})
    table.put_item({"id": "now", "expires": now_s})  # not in the past yet
    table.put_item({"id": "future", "expires": now_s + 60})
    table.put_item({"id": "text", "expires": str(now_s - 100)})  # TTL reads Numbers only
    table.put_item({"id": "ancient", "expires": now_s - 6 * 365 * 86_400})  # > 5 years ago: ignored by DynamoDB
    table.put_item({"id": "never"})
    expired = table.expire_ttl()
    assert [record["dynamodb"]["Keys"]["id"]["S"] for record in expired] == ["past", "fraction"]
    assert all(record["userIdentity"] == TTL_IDENTITY for record in expired)
    assert all(record["eventName"] == "REMOVE" for record in expired)
    assert table.expire_ttl() == []
    clock.advance(1)
    assert [record["dynamodb"]["Keys"]["id"]["S"] for record in table.expire_ttl()] == ["now"]
    later = table.expire_ttl(now=clock.now_ms() + 3_600_000)
    assert [record["dynamodb"]["Keys"]["id"]["S"] for record in later] == ["future"]
    assert sorted(item["id"] for item in table.scan()) == ["ancient", "never", "text"]
    # A put that moves the expiry back into the future keeps the item.
    table.put_item({"id": "text", "expires": now_s + 10**9})
    assert table.expire_ttl(now="2100-01-01T00:00:00Z") == []
    removed = [record for record in stream_records(table) if record["eventName"] == "REMOVE"]
    assert removed[:2] == expired  # the stream holds the very records expire_ttl returned
    assert [record.get("userIdentity") for record in removed] == [TTL_IDENTITY] * 4


def test_expire_ttl_without_a_ttl_attribute_expires_nothing(orders: Table) -> None:
    orders.put_item({"pk": "a", "sk": 1, "expires": 1})
    assert orders.expire_ttl() == []


# -- the state facility and transactions -------------------------------------------------------------


def test_state_is_stored_replaced_and_deleted(store: Store) -> None:
    assert store.get_state("esm:orders", "shard-1") is None
    store.set_state("esm:orders", "shard-1", "100")
    store.set_state("esm:orders", "shard-1", "200")
    store.set_state("esm:other", "shard-1", "x")
    assert store.get_state("esm:orders", "shard-1") == "200"
    store.set_state("esm:orders", "shard-1", None)
    assert store.get_state("esm:orders", "shard-1") is None
    assert store.get_state("esm:other", "shard-1") == "x"
    with pytest.raises(TypeError, match=r"^state values are text \(str\) or None, got int$"):
        store.set_state("a", "b", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^state namespaces and keys are text"):
        store.get_state("a", 1)  # type: ignore[arg-type]


def test_a_transaction_commits_state_and_writes_together_or_not_at_all(store: Store, orders: Table) -> None:

    def fail_midway() -> None:
        with store.transaction():
            orders.put_item({"pk": "a", "sk": 1})
            store.set_state("ns", "checkpoint", "1")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    assert orders.get_item({"pk": "a", "sk": 1}) is None
    assert store.get_state("ns", "checkpoint") is None
    assert stream_records(orders) == []
    with store.transaction():
        record = orders.put_item({"pk": "a", "sk": 1})
        store.set_state("ns", "checkpoint", "1")
    assert stream_records(orders) == [record]
    assert store.get_state("ns", "checkpoint") == "1"


def test_a_nested_transaction_joins_the_outer_one_as_a_savepoint(store: Store, orders: Table) -> None:
    with store.transaction():
        store.set_state("ns", "outer", "1")
        try:
            with store.transaction():
                store.set_state("ns", "inner", "1")
                orders.put_item({"pk": "inner", "sk": 1})
                raise KeyError("inner fails")
        except KeyError:
            pass
        with store.transaction():
            store.set_state("ns", "second", "1")
    assert store.get_state("ns", "outer") == "1"
    assert store.get_state("ns", "second") == "1"
    assert store.get_state("ns", "inner") is None
    assert orders.scan() == []
    assert stream_records(orders) == []


def test_a_failed_write_inside_a_transaction_leaves_the_rest(store: Store, orders: Table) -> None:
    with store.transaction():
        orders.put_item({"pk": "a", "sk": 1})
        with pytest.raises(ValidationError):
            orders.batch_write(puts=[{"pk": "b", "sk": 1}, {"pk": "b", "sk": 1}])
        orders.put_item({"pk": "c", "sk": 1})
    assert [item["pk"] for item in orders.scan()] == ["a", "c"]
    assert len(stream_records(orders)) == 2


def test_threads_share_a_store(store: Store, orders: Table) -> None:
    def work(worker: int) -> None:
        for index in range(50):
            orders.put_item({"pk": f"w{worker}", "sk": index})
            store.set_state("workers", str(worker), str(index))

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = stream_records(orders)
    assert len(records) == 200
    assert len({record["dynamodb"]["SequenceNumber"] for record in records}) == 200
    assert [store.get_state("workers", str(worker)) for worker in range(4)] == ["49"] * 4


# -- the database --------------------------------------------------------------------------------------


def test_a_file_store_keeps_everything_across_opens(tmp_path: Path, clock: VirtualClock) -> None:
    path = tmp_path / "state.db"
    with Store(path, clock=clock) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        written = table.put_item({"pk": "a", "n": 1})
        store.set_state("ns", "k", "v")
    with Store(str(path), clock=clock) as store:
        table = store.table("Orders")
        assert table.get_item({"pk": "a"}) == {"pk": "a", "n": 1}
        assert stream_records(table) == [written]
        assert store.get_state("ns", "k") == "v"
        # The stream goes on where it was: a new record after the old one, with a greater sequence number.
        added = table.put_item({"pk": "b"})
        assert stream_records(table) == [written, added]
        assert added is not None
        assert written is not None
        assert int(added["dynamodb"]["SequenceNumber"]) > int(written["dynamodb"]["SequenceNumber"])
        assert store.path == str(path)


def test_another_store_on_the_same_file_sees_each_commit_at_once(tmp_path: Path, clock: VirtualClock) -> None:
    path = tmp_path / "state.db"
    with Store(path, clock=clock) as writer, Store(path, clock=VirtualClock("2020-01-01T00:00:00Z")) as reader:
        table = writer.create_table("Orders", key_schema={"pk": "S"})
        seen = reader.table("Orders")
        shard = seen.stream.describe_stream()["Shards"][0]["ShardId"]
        iterator = seen.stream.get_shard_iterator(shard, "LATEST")
        first = table.put_item({"pk": "a"})
        page = seen.stream.get_records(iterator)
        assert page["Records"] == [first]
        writer.set_state("ns", "k", "v")
        assert reader.get_state("ns", "k") == "v"
        # The reader's clock is years behind; time in the database never goes back.
        record = seen.put_item({"pk": "b"})
        assert record is not None
        assert first is not None
        assert record["dynamodb"]["ApproximateCreationDateTime"] == first["dynamodb"]["ApproximateCreationDateTime"]
        assert writer.table("Orders").get_item({"pk": "b"}) == {"pk": "b"}


def test_a_database_of_another_application_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    connection.close()
    with pytest.raises(StoreError, match=r"is an SQLite database of another application, not shardline state"):
        Store(other)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(
        StoreError, match=r"^the state file .*garbage.db is damaged \(file is not a database\); move it away to start"
    ):
        Store(garbage)


def test_a_newer_state_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version=99")
    connection.close()
    with pytest.raises(StoreError, match=r"was written by a newer shardline \(state format 99; this one reads 2\)"):
        Store(path)


def test_a_missing_directory_is_made_and_a_closed_store_is_an_error(tmp_path: Path) -> None:
    Store(tmp_path / "missing" / "deeper" / "state.db").close()
    assert (tmp_path / "missing" / "deeper" / "state.db").is_file()
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match=r"cannot create the directory of the state database"):
        Store(tmp_path / "file" / "state.db")
    store = Store(tmp_path / "state.db")
    store.close()
    store.close()  # closing twice is fine
    with pytest.raises(StoreError, match=r"^the store .*state.db is closed$"):
        store.tables()


def test_a_write_waits_for_another_process_then_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path, timeout=0.05) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            with pytest.raises(StoreError, match=r"another process kept the state database locked"):
                table.put_item({"pk": "a"})
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        # The refused write left nothing behind; once the lock is free the same write goes through.
        assert stream_records(table) == []
        written = table.put_item({"pk": "a"})
        assert stream_records(table) == [written]
        assert table.scan() == [{"pk": "a"}]


def test_records_are_stored_as_compact_json(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        record = table.put_item({"pk": "a", "text": 'é\u0000"K'})
    with sqlite3.connect(path) as connection:
        (body,) = connection.execute("SELECT body FROM records").fetchone()
    connection.close()
    assert json.loads(body) == record


# -- hardening: bad state files (issue 12) --------------------------------------------------------------

DAMAGED = r"^the state file .*state\.db is damaged \(.*\); move it away to start afresh$"


def sound_file(path: Path, clock: VirtualClock) -> None:
    with Store(path, clock=clock) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"}, ttl_attribute="ttl")
        table.batch_write(puts=[{"pk": f"p{i}", "n": i, "ttl": 1_700_000_000} for i in range(50)])
        store.set_state("mapping", "shard", "42")


@pytest.mark.parametrize("damage", ["overwritten", "truncated", "truncated early"])
def test_a_damaged_state_file_is_a_store_error_that_says_what_to_do(
    tmp_path: Path, clock: VirtualClock, damage: str
) -> None:
    path = tmp_path / "state.db"
    sound_file(path, clock)
    data = path.read_bytes()
    if damage == "overwritten":
        data = data[:100] + b"\xff" * 8092 + data[8192:]  # the schema's page and the next one
    else:
        data = data[: len(data) // 2 if damage == "truncated" else 5000]
    path.write_bytes(data)
    with pytest.raises(StoreError, match=DAMAGED), Store(path, clock=clock) as store:
        store.table("Orders").scan()


def damaged_by(path: Path, statement: str) -> None:
    """Change the file behind the store's back, as another program (or a bad disk) could."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(statement)
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("statement", "call", "detail"),
    [
        ("UPDATE items SET image = '{not json' WHERE pk = 'p1'", "get", r"an item of table 'Orders' is not readable"),
        ("UPDATE items SET image = '[1]' WHERE pk = 'p1'", "get", r"an item of table 'Orders' is not one"),
        ("UPDATE items SET image = CAST(X'7BFF7D' AS TEXT)", "scan", r"Could not decode to UTF-8"),
        ('UPDATE items SET image = \'{"pk": {"S": "p1"}, "n": {"N": "x"}}\' WHERE pk = \'p1\'', "update", r"not one"),
        ("UPDATE items SET size = 'big' WHERE pk = 'p1'", "put", r"holds str where int belongs"),
        ("UPDATE records SET body = 'null'", "read", r"record 1000.* is not one shardline writes"),
        ("UPDATE records SET seq = seq + 1000", "read", r"is not one shardline writes"),
        ("UPDATE tables SET shard_count = 'x'", "table", r"holds str where int belongs"),
        ("UPDATE tables SET key_schema = '[[1, 2]]'", "table", r"the key schema .* is not one shardline writes"),
        ("UPDATE tables SET view_type = 'ALL'", "table", r"holds settings shardline never writes"),
        ("UPDATE counters SET last_ms = 9223372036854775807", "put", r"the latest time written is 9223372036854775807"),
        ("UPDATE counters SET last_seq = 1", "put", r"inconsistent rows: UNIQUE constraint failed: records.seq"),
        ("UPDATE shards SET end_seq = 5", "put", r"the open shards of table 'Orders' do not match its shard count"),
        ("UPDATE state SET value = X'3432'", "state", r"holds bytes where str belongs"),
        ("DROP TABLE records", "read", r"no such table: records"),
    ],
)
def test_values_a_damaged_file_holds_are_store_errors_not_type_errors(
    tmp_path: Path, clock: VirtualClock, statement: str, call: str, detail: str
) -> None:
    path = tmp_path / "state.db"
    sound_file(path, clock)
    damaged_by(path, statement)
    actions: dict[str, Any] = {
        "get": lambda store: store.table("Orders").get_item({"pk": "p1"}),
        "scan": lambda store: store.table("Orders").scan(),
        "update": lambda store: store.table("Orders").update_item({"pk": "p1"}, set={"v": 1}),
        "put": lambda store: store.table("Orders").put_item({"pk": "p1", "v": 2}),
        "read": lambda store: stream_records(store.table("Orders")),
        "table": lambda store: store.table("Orders"),
        "state": lambda store: store.get_state("mapping", "shard"),
    }
    with Store(path, clock=clock) as store, pytest.raises(StoreError, match=DAMAGED) as raised:
        actions[call](store)
    assert re.search(detail, str(raised.value)), str(raised.value)


def test_a_read_only_state_file_is_read_and_a_write_is_a_store_error(tmp_path: Path, clock: VirtualClock) -> None:
    path = tmp_path / "state.db"
    sound_file(path, clock)
    with Store(path, clock=clock) as store:
        # What SQLite does to every write on a file it could only open for reading (and a test running as
        # root, whom file modes do not stop, cannot get otherwise).
        store._database.connection.execute("PRAGMA query_only = ON")
        table = store.table("Orders")
        assert table.get_item({"pk": "p1"}) == {"pk": "p1", "n": 1, "ttl": 1_700_000_000}
        message = (
            r"^the state file .*state\.db is read-only \(attempt to write a readonly database\): make it and its "
            r"directory writable, or use a copy that is$"
        )
        with pytest.raises(StoreError, match=message):
            table.put_item({"pk": "new"})
        with pytest.raises(StoreError, match=message):
            store.set_state("mapping", "shard", "43")
        assert store.get_state("mapping", "shard") == "42"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="file modes stop neither Windows nor root")
def test_a_state_file_without_write_permission_is_a_store_error(tmp_path: Path, clock: VirtualClock) -> None:
    path = tmp_path / "state.db"
    sound_file(path, clock)
    path.chmod(0o444)
    try:
        with pytest.raises(StoreError, match=r"^the state file .*state\.db is read-only \("):
            Store(path, clock=clock).table("Orders").put_item({"pk": "new"})
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        (123, ArgumentTypeError, r"^the state path must be a str or a path-like object such as pathlib.Path, got int$"),
        (b"state.db", ArgumentTypeError, r"^the state path must be a str or a path-like object .*, got bytes$"),
        (None, ArgumentTypeError, r"^the state path must be a str or a path-like object .*, got NoneType$"),
        ("", StoreError, r'^the state path is empty; give the path of a file, or ":memory:"$'),
        ("a\x00b.db", StoreError, r"^the state path 'a\\x00b.db' holds a NUL character, which no file name can$"),
        ("\ud800.db", StoreError, r"^the state path '\\ud800.db' is not valid Unicode text \(a lone surrogate"),
    ],
)
def test_state_paths_are_checked_before_anything_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Any, error: type[Exception], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        Store(path)
    assert list(tmp_path.iterdir()) == []  # Store(123) used to create a file called "123"


def test_a_directory_or_a_device_is_not_a_state_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"^.* is a directory, not a state file; give the path of a file in it"):
        Store(tmp_path)
    if os.path.exists(os.devnull) and os.name != "nt":
        with pytest.raises(StoreError, match=r"^/dev/null is not a regular file; give the path of a state file$"):
            Store(os.devnull)


def test_create_false_opens_an_existing_file_only_and_creates_nothing(tmp_path: Path, clock: VirtualClock) -> None:
    missing = tmp_path / "missing" / "state.db"
    with pytest.raises(StoreError, match=r"^no state database at .*state\.db: nothing has been written there yet$"):
        Store(missing, create=False)
    assert not (tmp_path / "missing").exists()
    with pytest.raises(StoreError, match=r"^no state database at "):
        Store(tmp_path / "state.db", create=False)
    assert list(tmp_path.iterdir()) == []
    sound_file(tmp_path / "state.db", clock)
    with Store(tmp_path / "state.db", clock=clock, create=False) as store:
        assert store.get_state("mapping", "shard") == "42"


# -- hardening: bad arguments (issue 12) ------------------------------------------------------------------

LONE = "\ud800"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda t: t.put_item({"pk": LONE, "sk": 1}), AttributeValueError, r"^pk: .*lone surrogate"),
        (lambda t: t.put_item({"pk": "a", "sk": 1, "note": "x" + LONE}), AttributeValueError, r"^note: .*lone surr"),
        (lambda t: t.put_item({"pk": "a", "sk": 1, LONE: 1}), AttributeValueError, r"lone surrogate"),
        (lambda t: t.batch_write(puts=[{"pk": LONE, "sk": 1}]), AttributeValueError, r"^pk: .*lone surrogate"),
        (lambda t: t.batch_write(deletes=[{"pk": LONE, "sk": 1}]), AttributeValueError, r"^pk: .*lone surrogate"),
        (lambda t: t.transact_write([{"put": {"pk": LONE, "sk": 1}}]), AttributeValueError, r"^pk: .*lone surr"),
        (lambda t: t.get_item({"pk": LONE, "sk": 1}), AttributeValueError, r"^pk: .*lone surrogate"),
        (lambda t: t.delete_item({"pk": LONE, "sk": 1}), AttributeValueError, r"^pk: .*lone surrogate"),
        (lambda t: t.query(LONE), AttributeValueError, r"^pk: .*lone surrogate"),
        (lambda t: t.update_item({"pk": "a", "sk": 1}, set={"v": LONE}), AttributeValueError, r"^v: .*lone surr"),
        (
            lambda t: t.update_item({"pk": "a", "sk": 1}, remove=[LONE]),
            AttributeValueError,
            r"^remove\[0\]: attribute name holds a lone surrogate \('\\ud800' at index 0\)",
        ),
    ],
)
def test_lone_surrogates_in_items_and_keys_are_attribute_value_errors(
    orders: Table, call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call(orders)
    assert orders.scan() == []
    assert stream_records(orders) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.set_state(LONE, "k", "v"),
        lambda s: s.set_state("ns", LONE, "v"),
        lambda s: s.set_state("ns", "k", "v" + LONE),
        lambda s: s.get_state("ns", LONE),
        lambda s: s.create_table("Orders", key_schema={LONE: "S"}),
        lambda s: s.create_table("Orders", key_schema={"pk": "S"}, ttl_attribute=LONE),
    ],
)
def test_lone_surrogates_in_names_that_are_not_items_are_validation_errors(store: Store, call: Any) -> None:
    with pytest.raises(ValidationError, match=r"holds a lone surrogate \('\\ud800' at index \d\), which is not a char"):
        call(store)
    assert store.tables() == []


def test_table_names_are_checked_wherever_they_are_given(store: Store, orders: Table) -> None:
    for name in (LONE, [1], None, "ab", "a" * 256):
        for call in (store.table, store.delete_table):
            with pytest.raises(ValidationError, match=r"^table name .*: DynamoDB table names are 3-255 characters"):
                call(name)
    assert store.tables() == [orders]


def test_update_requests_dynamodb_refuses_are_validation_errors(orders: Table) -> None:
    key = {"pk": "a", "sk": 1}
    with pytest.raises(ValidationError, match=r"^remove\[1\]: Empty attribute name; attribute names are 1 character"):
        orders.update_item(key, remove=["x", ""])
    with pytest.raises(ValidationError, match=r"^Invalid UpdateExpression: Two document paths overlap .* \[x\]$"):
        orders.update_item(key, remove=["x", "x"])
    with pytest.raises(TypeError, match=r"^remove must be an iterable of attribute names, got a number$"):
        orders.update_item(key, remove=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^remove\[0\]: attribute names are text, got a number$"):
        orders.update_item(key, remove=[5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^set must be a mapping of attribute names to values, got an array$"):
        orders.update_item(key, set=[("x", 1)])  # type: ignore[arg-type]
    assert orders.scan() == []
    # Attribute names may hold any character, NUL included, as in DynamoDB (only key schemas limit them).
    record = orders.update_item(key, set={"a\x00b": 1})
    assert record is not None
    assert record["dynamodb"]["NewImage"]["a\x00b"] == {"N": "1"}
    removed = orders.update_item(key, remove=["a\x00b"])
    assert removed is not None
    assert removed["dynamodb"]["OldImage"] == {"pk": {"S": "a"}, "sk": {"N": "1"}, "a\x00b": {"N": "1"}}
    assert removed["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert orders.get_item(key) == key


def test_wrong_types_in_every_argument_are_shardline_errors(store: Store, orders: Table) -> None:
    with pytest.raises(ArgumentTypeError, match=r"^batch_write: puts must be a list \(or another iterable\) of items"):
        orders.batch_write(puts=None)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"^batch_write: deletes must be a list .* of keys, got a string$"):
        orders.batch_write(deletes="pk")  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"^transact_write takes a list of actions .*, got a number$"):
        orders.transact_write(5)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"^state namespaces and keys are text, got int, str$"):
        store.set_state(1, "k", "v")  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"^clock must have a now_ms\(\) method \(a Clock\), got object$"):
        Store(":memory:", clock=object())  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^timeout must be a number of seconds from 0 to 2000000, got inf$"):
        Store(":memory:", timeout=float("inf"))
    with pytest.raises(ValidationError, match=r"^stream_view_type None: expected KEYS_ONLY, NEW_IMAGE"):
        store.create_table("Other", key_schema={"pk": "S"}, stream_view_type=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^key_schema: a key attribute name is 256 bytes long; DynamoDB allows"):
        store.create_table("Other", key_schema={"k" * 256: "S"})
    assert store.tables() == [orders]
    assert issubclass(ArgumentTypeError, TypeError)


class _BadClock:
    def __init__(self, reading: Any) -> None:
        self.reading = reading

    def now_ms(self) -> Any:
        return self.reading


@pytest.mark.parametrize(
    ("reading", "error", "message"),
    [
        (1.5, ArgumentTypeError, r"^the store's clock read 1.5; a clock tells epoch milliseconds \(an int\)$"),
        (-1, ValidationError, r"^the store's clock read -1 ms, outside 0..253402300799999 \(1970 to the end of"),
        (10**20, ValidationError, r"^the store's clock read 100000000000000000000 ms, outside"),
    ],
)
def test_a_clock_reading_the_store_cannot_use_is_an_error(reading: Any, error: type[Exception], message: str) -> None:
    with Store(":memory:", clock=_BadClock(reading)) as store, pytest.raises(error, match=message):  # type: ignore[arg-type]
        store.create_table("Orders", key_schema={"pk": "S"})


@pytest.mark.parametrize(
    ("now", "error", "message"),
    [
        ("garbage", ValidationError, r"^now: not an ISO-8601 time: 'garbage'$"),
        (10**30, ValidationError, r"^now is 10{30} ms; expected a time between the years 1 and 9999$"),
        (object(), ArgumentTypeError, r"^now: a time must be a datetime, an ISO-8601 string or milliseconds, got obj"),
        (True, ArgumentTypeError, r"^now: a time must be a datetime, an ISO-8601 string or milliseconds, not a bool"),
        ("2026-11-27T06:00:00", ValidationError, r"^now: a naive datetime is ambiguous"),
    ],
)
def test_expire_ttl_checks_its_time(store: Store, now: Any, error: type[Exception], message: str) -> None:
    table = store.create_table("Sessions", key_schema={"pk": "S"}, ttl_attribute="expires")
    table.put_item({"pk": "a", "expires": 1})
    with pytest.raises(error, match=message):
        table.expire_ttl(now)
    assert table.get_item({"pk": "a"}) == {"pk": "a", "expires": 1}
    assert [record["eventName"] for record in stream_records(table)] == ["INSERT"]


def test_a_huge_jump_of_the_clock_over_millisecond_shards_is_bounded_work(store: Store, clock: VirtualClock) -> None:
    table = store.create_table("Fast", key_schema={"pk": "S"}, shard_rollover_ms=1, retention_ms=10**12)
    clock.advance(10**9)  # a billion rollover periods, all within the retention: counted one by one, a hang
    record = table.put_item({"pk": "a"})
    shards = table.stream.describe_stream()["Shards"]
    # The first shard and the newest 100 generations of the gap: a lineage a reader follows to the record.
    assert len(shards) == 101
    assert [shard.get("ParentShardId") for shard in shards[1:]] == [shard["ShardId"] for shard in shards[:-1]]
    assert stream_records(table) == [record]


# -- sizes ---------------------------------------------------------------------------------------------

PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.text(max_size=5)
    | st.integers(-(10**40), 10**40)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9)
    | st.binary(max_size=6)
    | st.frozensets(st.text(max_size=3), min_size=1, max_size=3)
    | st.frozensets(st.binary(max_size=3), min_size=1, max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(min_size=1, max_size=3), children),
    max_leaves=8,
)


@given(st.decimals(allow_nan=False, allow_infinity=False) | st.decimals(places=4, min_value=-(10**6), max_value=10**6))
@settings(max_examples=500)
def test_decimals_encode_in_dynamodbs_normalised_form(value: Decimal) -> None:
    try:
        encoded = serialize_item({"n": value})["n"]["N"]
    except AttributeValueError:
        return  # out of DynamoDB's range or precision
    assert encoded == format_number(value)
    assert Decimal(encoded) == value


def spec_number_size(value: Decimal) -> int:
    """DynamoDB's rule for a number's size ("Item sizes and formats"), written out step by step (the reference)."""
    if value == 0:
        return 1
    whole, _, fraction = format_number(value.copy_abs()).partition(".")  # abs() would round to 28 digits
    whole = "0" + whole if len(whole) % 2 else whole
    fraction = fraction + "0" if len(fraction) % 2 else fraction
    if whole.strip("0") == "":
        whole = ""
    pairs = [(whole + fraction)[i : i + 2] for i in range(0, len(whole + fraction), 2)]
    while pairs and pairs[0] == "00":
        pairs.pop(0)
    while pairs and pairs[-1] == "00":
        pairs.pop()
    return min(len(pairs) + 1 + (value < 0), 21)


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**12), max_value=10**12)
    | st.integers(-(10**40), 10**40).map(Decimal)
    | st.decimals(allow_nan=False, allow_infinity=False)
)
@settings(max_examples=500)
def test_number_sizes_follow_the_spec_rule(value: Decimal) -> None:
    try:
        image = serialize_item({"n": value})
    except AttributeValueError:
        return
    assert encoded_item_size(image) - 1 == item_size(image) - 1 == spec_number_size(value)


@pytest.mark.parametrize(("text", "size"), [("101", 3), ("120", 3), ("100", 2), ("0.05", 2), ("-1", 3), ("0", 1)])
def test_number_sizes_of_the_spec_examples(text: str, size: int) -> None:
    assert encoded_item_size({"n": {"N": text}}) - 1 == item_size({"n": {"N": text}}) - 1 == size


@given(st.dictionaries(st.text(min_size=1, max_size=4), PLAIN, max_size=5))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_the_fast_size_of_encoded_images_equals_the_careful_walk(item: dict[str, Any]) -> None:
    try:
        image = serialize_item(item)
    except AttributeValueError:
        return  # a value DynamoDB refuses (e.g. too many digits): nothing to size
    assert encoded_item_size(image) == item_size(image)


# -- the docs ------------------------------------------------------------------------------------------
# The example that was tested here (from the README) is the first block of docs/local/store.md now, and the docs runner
# runs it: the page shows its stream's event names (INSERT, MODIFY, REMOVE: the unchanged put wrote nothing) and the
# TTL REMOVE's userIdentity, and its next block opens .shardline/state.db again and meets the table it left there.
