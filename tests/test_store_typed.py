"""The store's typed API: read_item, write_images, query_page, scan_page, table settings and streams."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import stream_records

from shardline import AttributeValueError
from shardline.local import ArgumentTypeError, ResourceNotFoundError, Store, Table, ValidationError
from shardline.local._store import IndexSpec, Page, StoredItem
from shardline.testing import VirtualClock

START = "2026-11-27T06:00:00Z"
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"


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


def key(pk: str, sk: int | str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def item(pk: str, sk: int | str, **attributes: Any) -> dict[str, Any]:
    return {**key(pk, sk), **attributes}


# -- read_item and write_images -----------------------------------------------------------------------


def test_write_images_returns_each_changes_record_and_read_item_reads_it_back(orders: Table) -> None:
    records = orders.write_images([(key("a", 1), item("a", 1, n={"N": "1.5"})), (key("a", 2), None)])
    assert [record and record["eventName"] for record in records] == ["INSERT", None]  # nothing to delete
    assert records[0] is not None
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "1.5"}}
    assert orders.read_item(key("a", 1)) == StoredItem({"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "1.5"}}, 11)
    assert orders.read_item(key("a", 2)) is None
    assert orders.get_item({"pk": "a", "sk": 1}) == {"pk": "a", "sk": 1, "n": Decimal("1.5")}  # the plain API
    (unchanged,) = orders.write_images([(key("a", 1), item("a", 1, n={"N": "1.5"}))])
    assert unchanged is None
    (removed,) = orders.write_images([(key("a", 1), None)])
    assert removed is not None
    assert removed["eventName"] == "REMOVE"
    assert [record["eventName"] for record in stream_records(orders)] == ["INSERT", "REMOVE"]


def test_write_images_is_one_commit(orders: Table) -> None:
    orders.write_images([(key("a", 1), item("a", 1))])
    with pytest.raises(AttributeValueError, match=r"^x: N value must be a string, got a number$"):
        orders.write_images([(key("b", 1), item("b", 1)), (key("a", 1), item("a", 1, x={"N": 5}))])
    assert orders.read_item(key("b", 1)) is None
    assert orders.item_count() == 1


@pytest.mark.parametrize(
    ("changes", "error", "pattern"),
    [
        ([(key("a", 1), item("a", 1)), (key("a", 1), None)], ValidationError, r"^write_images: two changes to item"),
        ([({"pk": {"S": "a"}}, None)], ValidationError, r"^The provided key element does not match the schema$"),
        ([({"pk": {"N": "1"}, "sk": {"N": "1"}}, None)], ValidationError, r"^The provided key element does not"),
        ([(key("a", 1), item("b", 1))], ValidationError, r"^the image's key attribute pk differs from the change"),
        ([(key("a", 1), {"pk": {"S": "a"}})], AttributeValueError, r"^sk: the item lacks its sort key attribute$"),
        (
            [(key("a", "1.50"), None)],
            ValidationError,
            r"^sk: the number 1\.50 is not in DynamoDB's normalised form 1\.5",
        ),
        ([(key("", 1), None)], AttributeValueError, r"^pk: the partition key must not be empty$"),
        ([(key("a" * 2049, 1), None)], AttributeValueError, r"^pk: the partition key is 2049 bytes"),
        ([(key("a", 1), item("a", 1, big={"S": "x" * 409_600}))], AttributeValueError, r"^item is 409,\d+ bytes"),
        ([("ab", None)], ArgumentTypeError, r"^a key must be a typed key image \(a mapping\), got a string$"),
        (["ab"], ArgumentTypeError, r"^write_images: change \[0\] must be a \(key, image or None\) pair$"),
        ("ab", ArgumentTypeError, r"^write_images takes a list of \(key, image\) pairs, got a string$"),
    ],
)
def test_write_images_refuses_what_dynamodb_refuses(
    orders: Table, changes: Any, error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern):
        orders.write_images(changes)
    assert orders.item_count() == 0


def test_read_item_checks_the_key_and_the_table(store: Store, orders: Table) -> None:
    with pytest.raises(ValidationError, match=r"^The provided key element does not match the schema$"):
        orders.read_item({"pk": {"S": "a"}, "sk": {"S": "1"}})
    with pytest.raises(ArgumentTypeError, match=r"^a key must be a typed key image \(a mapping\), got a string$"):
        orders.read_item("a")  # type: ignore[arg-type]
    store.delete_table("Orders")
    with pytest.raises(ResourceNotFoundError, match=r"^table 'Orders' was deleted"):
        orders.read_item(key("a", 1))


def test_sort_key_size_limit_is_1024_bytes() -> None:
    with Store(":memory:") as store:
        table = store.create_table("Words", key_schema={"pk": "S", "sk": "S"})
        table.write_images([({"pk": {"S": "a"}, "sk": {"S": "é" * 512}}, None)])  # 1024 bytes: fine
        with pytest.raises(
            AttributeValueError, match=r"^sk: the sort key is 1026 bytes; DynamoDB allows at most 1024$"
        ):
            table.read_item({"pk": {"S": "a"}, "sk": {"S": "é" * 513}})


def test_read_item_and_write_images_in_one_transaction(store: Store, orders: Table) -> None:
    orders.write_images([(key("a", 1), item("a", 1, n={"N": "1"}))])
    with store.transaction():
        current = orders.read_item(key("a", 1))
        assert current is not None
        bumped = dict(current.image, n={"N": str(int(current.image["n"]["N"]) + 1)})
        orders.write_images([(key("a", 1), bumped)])
    assert orders.read_item(key("a", 1)) == StoredItem(item("a", 1, n={"N": "2"}), 10)


def test_item_count_size_bytes_and_table_arn(orders: Table) -> None:
    assert (orders.item_count(), orders.size_bytes()) == (0, 0)
    orders.write_images([(key("a", 1), item("a", 1)), (key("b", 2), item("b", 2, name={"S": "xyz"}))])
    assert (orders.item_count(), orders.size_bytes()) == (2, 7 + 14)
    assert orders.table_arn == ARN


# -- query_page ------------------------------------------------------------------------------------------


@pytest.fixture
def numbers(orders: Table) -> Table:
    values = ["-10", "-9.5", "-1", "-0.5", "0", "0.001", "1", "2", "10", "100", "1E+3"]
    orders.write_images([(key("p", value), item("p", value)) for value in ["-10", "-9.5", "-1", "-0.5", "0"]])
    orders.write_images([(key("p", value), item("p", value)) for value in ["0.001", "1", "2", "10", "100", "1000"]])
    orders.write_images([(key("other", 5), item("other", 5))])
    del values
    return orders


def sort_keys(page: Page) -> list[str]:
    return [found.image["sk"]["N"] for found in page.items]


ALL = ["-10", "-9.5", "-1", "-0.5", "0", "0.001", "1", "2", "10", "100", "1000"]


def test_query_page_orders_numbers_by_value(numbers: Table) -> None:
    page = numbers.query_page({"S": "p"})
    assert sort_keys(page) == ALL
    assert page.last_evaluated_key is None
    assert sort_keys(numbers.query_page({"S": "p"}, forward=False)) == ALL[::-1]
    assert numbers.query_page({"S": "missing"}) == Page([], None)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (("=", {"N": "1"}), ["1"]),
        (("<", {"N": "0"}), ["-10", "-9.5", "-1", "-0.5"]),
        (("<=", {"N": "0"}), ["-10", "-9.5", "-1", "-0.5", "0"]),
        ((">", {"N": "10"}), ["100", "1000"]),
        ((">=", {"N": "10"}), ["10", "100", "1000"]),
        (("BETWEEN", {"N": "-1"}, {"N": "1"}), ["-1", "-0.5", "0", "0.001", "1"]),
        (("BETWEEN", {"N": "1"}, {"N": "-1"}), []),
    ],
)
def test_query_page_sort_conditions(numbers: Table, sort: tuple[Any, ...], expected: list[str]) -> None:
    assert sort_keys(numbers.query_page({"S": "p"}, sort=sort)) == expected
    assert sort_keys(numbers.query_page({"S": "p"}, sort=sort, forward=False)) == expected[::-1]


def test_a_page_cut_by_limit_has_a_last_evaluated_key_even_at_the_end(numbers: Table) -> None:
    first = numbers.query_page({"S": "p"}, limit=6)
    assert sort_keys(first) == ALL[:6]
    assert first.last_evaluated_key == key("p", "0.001")
    second = numbers.query_page({"S": "p"}, limit=5, exclusive_start_key=first.last_evaluated_key)
    assert sort_keys(second) == ALL[6:]
    assert second.last_evaluated_key == key("p", "1000")  # stopped by Limit: DynamoDB returns the key
    assert numbers.query_page({"S": "p"}, exclusive_start_key=second.last_evaluated_key) == Page([], None)
    back = numbers.query_page({"S": "p"}, forward=False, exclusive_start_key=key("p", "0"), limit=2)
    assert sort_keys(back) == ["-0.5", "-1"]


def test_a_page_stops_with_the_item_that_reaches_the_byte_limit(numbers: Table) -> None:
    sizes = [found.size for found in numbers.query_page({"S": "p"}).items]
    page = numbers.query_page({"S": "p"}, byte_limit=sizes[0] + sizes[1])
    assert sort_keys(page) == ALL[:2]
    assert page.last_evaluated_key == key("p", "-9.5")
    page = numbers.query_page({"S": "p"}, byte_limit=sizes[0] + sizes[1] + 1)
    assert sort_keys(page) == ALL[:3]  # the item crossing the limit is part of the page
    page = numbers.query_page({"S": "p"}, byte_limit=1)
    assert sort_keys(page) == ALL[:1]


def test_strings_sort_by_utf8_bytes_and_binaries_by_unsigned_bytes(store: Store) -> None:
    words = store.create_table("Words", key_schema={"pk": "S", "sk": "S"})
    texts = ["a", "B", "é", "\uffff", "😀", "ab", "a\x00"]
    words.write_images(
        [({"pk": {"S": "p"}, "sk": {"S": text}}, {"pk": {"S": "p"}, "sk": {"S": text}}) for text in texts]
    )
    found = [entry.image["sk"]["S"] for entry in words.query_page({"S": "p"}).items]
    assert found == sorted(texts, key=lambda text: text.encode())
    blobs = store.create_table("Blobs", key_schema={"pk": "B", "sk": "B"})
    values = ["AA==", "/w==", "gA==", "fw==", "AAA="]  # 00, ff, 80, 7f, 0000
    blobs.write_images([({"pk": {"B": "AQ=="}, "sk": {"B": v}}, {"pk": {"B": "AQ=="}, "sk": {"B": v}}) for v in values])
    order = [entry.image["sk"]["B"] for entry in blobs.query_page({"B": "AQ=="}).items]
    assert order == ["AA==", "AAA=", "fw==", "gA==", "/w=="]
    prefixed = blobs.query_page({"B": "AQ=="}, sort=("begins_with", {"B": "AA=="}))
    assert [entry.image["sk"]["B"] for entry in prefixed.items] == ["AA==", "AAA="]
    starting = words.query_page({"S": "p"}, sort=("begins_with", {"S": "a"}))
    assert [entry.image["sk"]["S"] for entry in starting.items] == ["a", "a\x00", "ab"]


@pytest.mark.parametrize(
    ("arguments", "error", "pattern"),
    [
        ({"sort": ("begins_with", {"N": "1"})}, ValidationError, r"^Invalid KeyConditionExpression: Incorrect operand"),
        ({"sort": ("=", {"S": "1"})}, ValidationError, r"Condition parameter type does not match schema type$"),
        ({"sort": ("~", {"N": "1"})}, ValidationError, r"^sort must be \(operator, value\.\.\.\)"),
        ({"sort": ("BETWEEN", {"N": "1"})}, ValidationError, r"^the sort condition BETWEEN takes 2 value\(s\)$"),
        ({"limit": 0}, ValidationError, r"^limit must be between 1 and"),
        ({"byte_limit": 0}, ValidationError, r"^byte_limit must be between 1 and"),
        ({"index": "nope"}, ValidationError, r"^The table does not have the specified index: nope$"),
        ({"exclusive_start_key": {"pk": {"S": "p"}}}, ValidationError, r"^The provided starting key is invalid: "),
        ({"exclusive_start_key": key("q", 1)}, ValidationError, r"^The provided starting key does not match the range"),
        (
            {"exclusive_start_key": key("p", 50), "sort": ("<", {"N": "5"})},
            ValidationError,
            r"^The provided starting key does not match the range key predicate$",
        ),
        ({"forward": 1}, ArgumentTypeError, r"^forward must be True or False, got int$"),
    ],
)
def test_query_page_refusals(numbers: Table, arguments: dict[str, Any], error: type[Exception], pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        numbers.query_page({"S": "p"}, **arguments)


def test_query_page_on_a_table_without_sort_key(store: Store) -> None:
    table = store.create_table("Users", key_schema={"id": "S"})
    table.write_images([({"id": {"S": "u"}}, {"id": {"S": "u"}, "n": {"N": "1"}})])
    assert table.query_page({"S": "u"}).items == [StoredItem({"id": {"S": "u"}, "n": {"N": "1"}}, 6)]
    with pytest.raises(ValidationError, match=r"^Query key condition not supported: the table or index has no sort"):
        table.query_page({"S": "u"}, sort=("=", {"S": "x"}))


# -- scan_page -------------------------------------------------------------------------------------------


def test_scan_segments_partition_the_table_and_pages_resume(orders: Table) -> None:
    orders.write_images([(key(f"p{n}", m), item(f"p{n}", m)) for n in range(30) for m in range(2)])
    everything = orders.scan_page()
    assert len(everything.items) == 60
    assert everything.last_evaluated_key is None
    segments = [orders.scan_page(segment=s, total_segments=4).items for s in range(4)]
    assert sorted(str(found.image) for part in segments for found in part) == sorted(
        str(found.image) for found in everything.items
    )
    assert all(segments)  # 30 partitions hash into every quarter
    pages, start = [], None
    while True:
        page = orders.scan_page(limit=7, exclusive_start_key=start)
        pages.extend(page.items)
        if page.last_evaluated_key is None:
            break
        start = page.last_evaluated_key
    assert pages == everything.items


def test_scan_page_refusals(orders: Table) -> None:
    orders.write_images([(key(f"p{n}", 1), item(f"p{n}", 1)) for n in range(8)])
    with pytest.raises(ValidationError, match=r"^The Segment parameter is zero-based and must be less than"):
        orders.scan_page(segment=2, total_segments=2)
    with pytest.raises(ValidationError, match=r"^total_segments must be between 1 and 1000000, got 0$"):
        orders.scan_page(total_segments=0)
    first = orders.scan_page(segment=0, total_segments=2, limit=1)
    assert first.last_evaluated_key is not None
    with pytest.raises(ValidationError, match=r"^The provided Exclusive start key does not map to the provided"):
        orders.scan_page(segment=1, total_segments=2, exclusive_start_key=first.last_evaluated_key)


# -- settings: streams on and off -----------------------------------------------------------------------


def test_a_table_created_without_a_stream_writes_no_records(store: Store) -> None:
    table = store.create_table("Quiet", key_schema={"pk": "S"}, stream_enabled=False)
    assert (table.stream_enabled, table.stream_arn) == (False, None)
    assert table.write_images([({"pk": {"S": "a"}}, {"pk": {"S": "a"}})]) == [None]
    assert table.put_item({"pk": "b"}) is None
    assert table.item_count() == 2
    with pytest.raises(ResourceNotFoundError, match=r"^table 'Quiet' has no stream: it was created with the stream"):
        _ = table.stream
    assert store.streams() == []
    table.update(stream_enabled=True, stream_view_type="KEYS_ONLY")
    assert table.stream_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/Quiet/stream/2026-11-27T06:00:00.000"
    added = table.put_item({"pk": "c"})
    assert stream_records(table) == [added]  # the first record of the new stream, keys only
    assert added is not None
    assert (added["eventName"], added["dynamodb"]["Keys"]) == ("INSERT", {"pk": {"S": "c"}})
    assert "NewImage" not in added["dynamodb"]


def test_disabling_and_enabling_the_stream(store: Store, orders: Table, clock: VirtualClock) -> None:
    orders.put_item({"pk": "a", "sk": 1})
    first = orders.stream_arn
    assert first is not None
    with pytest.raises(ValidationError, match=r"^Table already has an enabled stream: TableName: Orders$"):
        orders.update(stream_enabled=True, stream_view_type="KEYS_ONLY")
    assert orders.update(stream_enabled=False) is orders
    assert (orders.stream_enabled, orders.stream_arn) == (False, first)  # LatestStreamArn lingers
    with pytest.raises(ValidationError, match=r"^Table has no stream to disable: TableName: Orders$"):
        orders.update(stream_enabled=False)
    description = orders.stream.describe_stream()
    assert description["StreamStatus"] == "DISABLED"
    assert all("EndingSequenceNumber" in shard["SequenceNumberRange"] for shard in description["Shards"])
    assert orders.put_item({"pk": "b", "sk": 1}) is None
    assert orders.write_images([(key("c", 1), item("c", 1))]) == [None]
    clock.advance(5)
    orders.update(stream_enabled=True, stream_view_type="KEYS_ONLY")
    second = orders.stream_arn
    assert second == f"{ARN}/stream/2026-11-27T06:00:00.005"
    assert (orders.stream_enabled, orders.stream_view_type) == (True, "KEYS_ONLY")
    record = orders.put_item({"pk": "d", "sk": 1})
    assert record is not None
    assert record["eventSourceARN"] == second
    assert "NewImage" not in record["dynamodb"]
    assert [(record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"]) for record in stream_records(orders)] == [
        ("INSERT", "d")
    ]
    old = store.stream_by_arn(first)
    assert old.describe_stream()["StreamStatus"] == "DISABLED"
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in stream_records(SimpleNamespace(stream=old))] == ["a"]
    assert store.streams() == [
        ("Orders", first, "2026-11-27T06:00:00.000"),
        ("Orders", second, "2026-11-27T06:00:00.005"),
    ]
    assert store.streams("Orders") == store.streams()
    assert store.streams("Other") == []
    clock.advance(24 * 3_600_000)  # the old stream's records are past the retention: the stream is gone
    with pytest.raises(ResourceNotFoundError, match=r"^Requested resource not found: Stream: .* not found$"):
        store.stream_by_arn(first)
    assert [arn for _, arn, _ in store.streams()] == [second]


def test_a_stream_enabled_again_in_the_same_millisecond_gets_its_own_arn(orders: Table) -> None:
    first = orders.stream_arn
    orders.update(stream_enabled=False)
    orders.update(stream_enabled=True)
    assert orders.stream_arn == f"{ARN}/stream/2026-11-27T06:00:00.001"
    assert orders.stream_arn != first
    assert orders.stream_view_type == "NEW_AND_OLD_IMAGES"  # the last stream's view type by default


def test_another_table_object_notices_the_new_settings(store: Store, orders: Table) -> None:
    other = store.table("Orders")
    orders.update(stream_enabled=False)
    assert other.put_item({"pk": "a", "sk": 1}) is None  # refreshed at its next write
    assert other.stream_enabled is False
    orders.update(stream_enabled=True)
    assert other.write_images([(key("b", 1), item("b", 1))])[0] is not None
    assert other.stream_arn == orders.stream_arn


def test_update_refusals(orders: Table) -> None:
    with pytest.raises(
        ValidationError, match=r"If stream is being disabled, then UpdateViewType must not be specified$"
    ):
        orders.update(stream_enabled=False, stream_view_type="KEYS_ONLY")
    with pytest.raises(ValidationError, match=r"^stream_view_type is given with stream_enabled=True only"):
        orders.update(stream_view_type="KEYS_ONLY")
    with pytest.raises(ValidationError, match=r"^stream_view_type 'ALL'"):
        orders.update(stream_enabled=True, stream_view_type="ALL")
    with pytest.raises(ResourceNotFoundError, match=r"^Requested resource not found: Index: gone is not a global"):
        orders.update(remove_global_indexes=["gone"])
    with pytest.raises(ArgumentTypeError, match=r"^extra must be JSON"):
        orders.update(extra={"a": object()})


def test_update_sets_ttl_and_extra(orders: Table, clock: VirtualClock) -> None:
    orders.put_item({"pk": "a", "sk": 1, "expires": 1_795_759_000})  # 200 s before the clock
    assert orders.expire_ttl() == []  # no TTL attribute yet
    orders.update(ttl_attribute="expires", extra={"billing": "PAY_PER_REQUEST"})
    assert orders.ttl_attribute == "expires"
    assert orders.extra == {"billing": "PAY_PER_REQUEST"}
    assert [record["eventName"] for record in orders.expire_ttl()] == ["REMOVE"]
    orders.update(ttl_attribute=None)
    assert orders.ttl_attribute is None
    assert orders.extra == {"billing": "PAY_PER_REQUEST"}  # unchanged unless given
    extra = orders.extra
    extra["billing"] = "changed"
    assert orders.extra == {"billing": "PAY_PER_REQUEST"}  # a copy


def test_stream_by_arn_of_an_unknown_stream(store: Store) -> None:
    with pytest.raises(ResourceNotFoundError, match=r"^Requested resource not found: Stream: arn:x not found$"):
        store.stream_by_arn("arn:x")


# -- create_table's index checks ----------------------------------------------------------------------------


def gsi(name: str, **schema: str) -> IndexSpec:
    return IndexSpec(name, dict(schema) or {"g": "S"})


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        (
            {"global_indexes": [gsi("ab")]},
            r"^1 validation error detected: Value 'ab' at 'globalSecondaryIndexes\.1\.member\.indexName' failed to "
            r"satisfy constraint: Member must have length greater than or equal to 3$",
        ),
        ({"global_indexes": [gsi("a b c")]}, r"Member must satisfy regular expression pattern: \[a-zA-Z0-9_\.-\]\+$"),
        (
            {"global_indexes": [gsi("dup"), gsi("dup")]},
            r"^One or more parameter values were invalid: Duplicate index name: dup$",
        ),
        (
            {"global_indexes": [gsi("dup")], "local_indexes": [IndexSpec("dup", {"pk": "S", "l": "N"})]},
            r"^One or more parameter values were invalid: Duplicate index name: dup$",
        ),
        (
            {"global_indexes": [gsi(f"g{n:02}") for n in range(21)]},
            r"GlobalSecondaryIndex count exceeds the per-table limit of 20$",
        ),
        (
            {"local_indexes": [IndexSpec(f"l{n:02}", {"pk": "S", f"l{n}": "N"}) for n in range(6)]},
            r"^One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit "
            r"of 5$",
        ),
        (
            {"local_indexes": [IndexSpec("loc", {"other": "S", "l": "N"})]},
            r"Index KeySchema does not have the same leading hash key as table KeySchema for index: loc\. index hash "
            r"key: other, table hash key: pk$",
        ),
        (
            {"local_indexes": [IndexSpec("loc", {"pk": "S"})]},
            r"Index KeySchema does not have a range key for index: loc$",
        ),
        (
            {"global_indexes": [IndexSpec("inc", {"g": "S"}, "INCLUDE")]},
            r"ProjectionType is INCLUDE, but NonKeyAttributes is not specified$",
        ),
        (
            {"global_indexes": [IndexSpec("inc", {"g": "S"}, "ALL", ("x",))]},
            r"ProjectionType is ALL, but NonKeyAttributes is specified$",
        ),
        (
            {"global_indexes": [IndexSpec("inc", {"g": "S"}, "SOME")]},
            r"Member must satisfy enum value set: \[ALL, INCLUDE, KEYS_ONLY\]$",
        ),
        (
            {
                "global_indexes": [
                    IndexSpec(f"i{n}x", {"g": "S"}, "INCLUDE", tuple(f"a{n}_{m}" for m in range(20))) for n in range(6)
                ]
            },
            r"Number of projected attributes in all indexes exceeds limit of 100$",
        ),
        (
            {"global_indexes": [gsi("typ", sk="S")]},
            r"attribute sk is of type S in index typ but of type N in the table's key schema",
        ),
        (
            {"global_indexes": [IndexSpec("same", {"g": "S", "g2": "S"}), IndexSpec("same2", {"g": "N"})]},
            r"attribute g is of type N in index same2 but of type S in index same",
        ),
    ],
)
def test_create_table_checks_indexes_as_dynamodb_does(store: Store, options: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValidationError, match=pattern):
        store.create_table("Orders", key_schema={"pk": "S", "sk": "N"}, **options)
    assert store.tables() == []


def test_local_indexes_need_a_table_sort_key(store: Store) -> None:
    with pytest.raises(
        ValidationError,
        match=r"Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex$",
    ):
        store.create_table("Users", key_schema={"id": "S"}, local_indexes=[IndexSpec("loc", {"id": "S", "l": "N"})])


def test_create_table_keeps_indexes_and_extra(store: Store) -> None:
    table = store.create_table(
        "Orders",
        key_schema={"pk": "S", "sk": "N"},
        global_indexes=[IndexSpec("byStatus", {"status": "S", "at": "N"}, "INCLUDE", ("total",))],
        local_indexes=[IndexSpec("byAt", {"pk": "S", "at": "N"}, "KEYS_ONLY")],
        extra={"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]},
    )
    again = store.table("Orders")
    assert again.global_indexes == (IndexSpec("byStatus", {"status": "S", "at": "N"}, "INCLUDE", ("total",)),)
    assert again.local_indexes == (IndexSpec("byAt", {"pk": "S", "at": "N"}, "KEYS_ONLY", ()),)
    assert again.extra == table.extra == {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
    with pytest.raises(ArgumentTypeError, match=r"^global_indexes\[0\] must be an IndexSpec, got tuple$"):
        store.create_table("Other", key_schema={"pk": "S"}, global_indexes=[("a", {"g": "S"})])  # type: ignore[list-item]
