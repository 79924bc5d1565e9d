"""Secondary indexes of the store: maintained with every write, sparse, projected, in DynamoDB's order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shardline.local import Store, Table, ValidationError
from shardline.local._indexes import order_bytes
from shardline.local._store import IndexSpec, Page, StoredItem
from shardline.testing import VirtualClock

START = "2026-11-27T06:00:00Z"
NOW_S = 1_795_759_200  # START in epoch seconds
BY_STATUS = IndexSpec("byStatus", {"status": "S", "at": "N"})
BY_OWNER = IndexSpec("byOwner", {"owner": "S"}, "KEYS_ONLY")
BY_TOTAL = IndexSpec("byTotal", {"pk": "S", "total": "N"}, "INCLUDE", ("note",))


@pytest.fixture
def store() -> Iterator[Store]:
    with Store(":memory:", clock=VirtualClock(START)) as opened:
        yield opened


@pytest.fixture
def orders(store: Store) -> Table:
    return store.create_table(
        "Orders",
        key_schema={"pk": "S", "sk": "N"},
        ttl_attribute="expires",
        global_indexes=[BY_STATUS, BY_OWNER],
        local_indexes=[BY_TOTAL],
    )


def drain(read: Callable[[dict[str, Any] | None], Page]) -> list[dict[str, Any]]:
    """Every item of a paginated read, page after page."""
    images: list[dict[str, Any]] = []
    start = None
    while True:
        page = read(start)
        images.extend(found.image for found in page.items)
        if page.last_evaluated_key is None:
            return images
        start = page.last_evaluated_key


def index_keys(table: Table, index: str) -> list[tuple[str, str]]:
    """(pk, sk) of every item in the index, by scanning it."""
    return sorted(
        (image["pk"]["S"], image["sk"]["N"])
        for image in drain(lambda start: table.scan_page(index=index, exclusive_start_key=start, limit=3))
    )


def expected_keys(table: Table, *names: str) -> list[tuple[str, str]]:
    """(pk, sk) of the items holding every attribute of ``names``."""
    return sorted(
        (image["pk"]["S"], image["sk"]["N"])
        for image in drain(lambda start: table.scan_page(exclusive_start_key=start))
        if all(name in image for name in names)
    )


def check_indexes(table: Table) -> None:
    assert index_keys(table, "byStatus") == expected_keys(table, "status", "at")
    assert index_keys(table, "byOwner") == expected_keys(table, "owner")
    assert index_keys(table, "byTotal") == expected_keys(table, "total")


def test_every_kind_of_write_keeps_the_indexes_right(orders: Table) -> None:
    orders.put_item({"pk": "a", "sk": 1, "status": "NEW", "at": 5, "owner": "ann", "total": 3})
    orders.put_item({"pk": "b", "sk": 1, "status": "NEW"})  # no "at": not in byStatus (a sparse index)
    check_indexes(orders)
    orders.update_item({"pk": "b", "sk": 1}, set={"at": 7, "owner": "bob"})
    orders.update_item({"pk": "a", "sk": 1}, remove=["owner"], set={"status": "PAID"})
    check_indexes(orders)
    orders.batch_write(puts=[{"pk": "c", "sk": 2, "owner": "cy", "total": 1}], deletes=[{"pk": "a", "sk": 1}])
    check_indexes(orders)
    orders.transact_write(
        [
            {"put": {"pk": "d", "sk": 1, "status": "NEW", "at": 1}},
            {"update": {"key": {"pk": "c", "sk": 2}, "remove": ["total"]}},
        ]
    )
    check_indexes(orders)
    orders.write_images([({"pk": {"S": "d"}, "sk": {"N": "1"}}, None)])
    orders.write_images(
        [({"pk": {"S": "e"}, "sk": {"N": "1"}}, {"pk": {"S": "e"}, "sk": {"N": "1"}, "total": {"N": "9"}})]
    )
    check_indexes(orders)
    orders.put_item({"pk": "f", "sk": 1, "owner": "fay", "expires": NOW_S - 10})
    assert len(orders.expire_ttl()) == 1
    check_indexes(orders)
    owners = drain(lambda start: orders.scan_page(index="byOwner", exclusive_start_key=start))
    assert sorted(image["owner"]["S"] for image in owners) == ["bob", "cy"]


def test_a_write_whose_index_key_has_another_type_is_refused(orders: Table) -> None:
    with pytest.raises(
        ValidationError,
        match=r"^One or more parameter values were invalid: Type mismatch for Index Key at Expected: N Actual: S "
        r"IndexName: byStatus$",
    ):
        orders.put_item({"pk": "a", "sk": 1, "status": "NEW", "at": "soon"})
    with pytest.raises(
        ValidationError, match=r"Type mismatch for Index Key owner Expected: S Actual: NULL IndexName: byOwner$"
    ):
        orders.write_images(
            [({"pk": {"S": "a"}, "sk": {"N": "1"}}, {"pk": {"S": "a"}, "sk": {"N": "1"}, "owner": {"NULL": True}})]
        )
    with pytest.raises(
        ValidationError,
        match=r"^One or more parameter values are not valid\. A value specified for a secondary index key is not "
        r"supported\. The AttributeValue for a key attribute cannot contain an empty string value\. IndexName: "
        r"byOwner, IndexKey: owner$",
    ):
        orders.update_item({"pk": "a", "sk": 1}, set={"owner": ""})
    assert orders.item_count() == 0


def test_index_pages_hold_the_projected_items(orders: Table) -> None:
    orders.put_item(
        {"pk": "a", "sk": 1, "status": "NEW", "at": 5, "owner": "ann", "total": 3, "note": "n", "big": "x" * 50}
    )
    (everything,) = orders.query_page({"S": "NEW"}, index="byStatus").items
    assert everything == orders.read_item({"pk": {"S": "a"}, "sk": {"N": "1"}})
    (keys,) = orders.query_page({"S": "ann"}, index="byOwner").items
    assert keys == StoredItem({"pk": {"S": "a"}, "sk": {"N": "1"}, "owner": {"S": "ann"}}, 3 + 4 + 8)
    (included,) = orders.query_page({"S": "a"}, index="byTotal").items
    assert included == StoredItem(
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "total": {"N": "3"}, "note": {"S": "n"}}, 3 + 4 + 7 + 5
    )
    page = orders.query_page({"S": "ann"}, index="byOwner", limit=1)
    assert page.last_evaluated_key == {"pk": {"S": "a"}, "sk": {"N": "1"}, "owner": {"S": "ann"}}


def test_equal_index_keys_are_ordered_by_the_table_key(orders: Table) -> None:
    for pk, sk in [("b", 2), ("a", 10), ("b", 1), ("a", 9)]:
        orders.put_item({"pk": pk, "sk": sk, "status": "NEW", "at": 1})
    orders.put_item({"pk": "z", "sk": 0, "status": "NEW", "at": 0})
    found = [
        (image["pk"]["S"], image["sk"]["N"])
        for image in drain(
            lambda start: orders.query_page({"S": "NEW"}, index="byStatus", exclusive_start_key=start, limit=2)
        )
    ]
    assert found == [("z", "0"), ("a", "9"), ("a", "10"), ("b", "1"), ("b", "2")]
    backwards = drain(
        lambda start: orders.query_page(
            {"S": "NEW"}, index="byStatus", forward=False, exclusive_start_key=start, limit=2
        )
    )
    assert [(image["pk"]["S"], image["sk"]["N"]) for image in backwards] == found[::-1]
    between = orders.query_page({"S": "NEW"}, index="byStatus", sort=("BETWEEN", {"N": "1"}, {"N": "1"}))
    assert len(between.items) == 4


def test_adding_a_global_index_fills_it_and_removing_one_empties_it(store: Store) -> None:
    table = store.create_table("Users", key_schema={"pk": "S", "sk": "N"})
    table.put_item({"pk": "a", "sk": 1, "email": "a@x"})
    table.put_item({"pk": "b", "sk": 1, "email": 5})  # another type: left out of the new index
    table.put_item({"pk": "c", "sk": 1})
    table.update(add_global_indexes=[IndexSpec("byEmail", {"email": "S"})])
    assert table.global_indexes == (IndexSpec("byEmail", {"email": "S"}),)
    assert [found.image["pk"]["S"] for found in table.scan_page(index="byEmail").items] == ["a"]
    with pytest.raises(
        ValidationError, match=r"Type mismatch for Index Key email Expected: S Actual: N IndexName: byEmail$"
    ):
        table.put_item({"pk": "d", "sk": 1, "email": 6})
    table.put_item({"pk": "d", "sk": 1, "email": "d@x"})
    assert len(table.scan_page(index="byEmail").items) == 2
    table.update(remove_global_indexes=["byEmail"])
    assert table.global_indexes == ()
    with pytest.raises(ValidationError, match=r"^The table does not have the specified index: byEmail$"):
        table.scan_page(index="byEmail")
    table.put_item({"pk": "e", "sk": 1, "email": 7})  # no index: any type goes
    table.update(add_global_indexes=[IndexSpec("byEmail", {"email": "S"})])
    assert sorted(found.image["pk"]["S"] for found in table.scan_page(index="byEmail").items) == ["a", "d"]
    with pytest.raises(
        ValidationError,
        match=r"Only one global secondary index update per index is allowed simultaneously\. Index: byEmail$",
    ):
        table.update(add_global_indexes=[IndexSpec("byEmail", {"email": "S"})], remove_global_indexes=["byEmail"])
    with pytest.raises(ValidationError, match=r"Duplicate index name: byEmail$"):
        table.update(add_global_indexes=[IndexSpec("byEmail", {"email": "S"})])


def test_another_table_object_sees_a_new_index(store: Store, orders: Table) -> None:
    other = store.table("Orders")
    orders.update(add_global_indexes=[IndexSpec("byNote", {"note": "S"})])
    other.put_item({"pk": "a", "sk": 1, "note": "hello"})
    assert [found.image["note"]["S"] for found in other.query_page({"S": "hello"}, index="byNote").items] == ["hello"]


def test_deleting_a_table_deletes_its_index_entries(store: Store, orders: Table) -> None:
    orders.put_item({"pk": "a", "sk": 1, "owner": "ann"})
    store.delete_table("Orders")
    again = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"}, global_indexes=[BY_OWNER])
    assert again.scan_page(index="byOwner") == Page([], None)


# -- order properties ------------------------------------------------------------------------------------

numbers = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
rows = st.lists(st.tuples(st.sampled_from(["p", "q"]), numbers, st.sampled_from(["x", "y"]), numbers), max_size=25)


def normal(value: Decimal) -> str:
    from shardline import format_number

    return format_number(value)


@settings(max_examples=60, deadline=None)
@given(rows=rows, limit=st.none() | st.integers(1, 6), byte_limit=st.integers(1, 60), forward=st.booleans())
def test_pages_put_together_are_the_whole_partition_in_order(
    rows: list[tuple[str, Decimal, str, Decimal]], limit: int | None, byte_limit: int, forward: bool
) -> None:
    with Store(":memory:") as store:
        table = store.create_table(
            "Orders", key_schema={"pk": "S", "sk": "N"}, global_indexes=[IndexSpec("byG", {"g": "S", "v": "N"})]
        )
        items = {}
        for pk, sk, g, v in rows:
            items[pk, normal(sk)] = {"pk": pk, "sk": sk, "g": g, "v": v}
        table.batch_write(puts=items.values())
        for partition in ("p", "q"):
            found = drain(
                lambda start, partition=partition: table.query_page(
                    {"S": partition}, forward=forward, exclusive_start_key=start, limit=limit, byte_limit=byte_limit
                )
            )
            expected = sorted((Decimal(sk) for pk, sk in items if pk == partition), reverse=not forward)
            assert [Decimal(image["sk"]["N"]) for image in found] == expected
        for g in ("x", "y"):
            found = drain(
                lambda start, g=g: table.query_page(
                    {"S": g},
                    index="byG",
                    forward=forward,
                    exclusive_start_key=start,
                    limit=limit,
                    byte_limit=byte_limit,
                )
            )
            entries = [item for item in items.values() if item["g"] == g]
            entries.sort(key=lambda item: (item["v"], item["pk"].encode(), item["sk"]), reverse=not forward)
            assert [(image["pk"]["S"], Decimal(image["sk"]["N"])) for image in found] == [
                (item["pk"], item["sk"]) for item in entries
            ]


@settings(max_examples=40, deadline=None)
@given(
    partitions=st.lists(st.text(min_size=1, max_size=4), min_size=0, max_size=30, unique=True), total=st.integers(1, 7)
)
def test_scan_segments_partition_the_items(partitions: list[str], total: int) -> None:
    with Store(":memory:") as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        table.batch_write(puts=[{"pk": pk} for pk in partitions])
        seen: list[str] = []
        for segment in range(total):
            seen.extend(
                image["pk"]["S"]
                for image in drain(
                    lambda start, segment=segment: table.scan_page(
                        segment=segment, total_segments=total, exclusive_start_key=start, limit=2
                    )
                )
            )
        assert sorted(seen) == sorted(partitions)


@given(a=numbers, b=numbers)
def test_number_order_bytes_follow_the_values(a: Decimal, b: Decimal) -> None:
    left, right = order_bytes("N", normal(a)), order_bytes("N", normal(b))
    assert (left < right) == (a < b)
    assert (left == right) == (a == b)


@given(
    a=st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1E+50"), max_value=Decimal("1E+50")),
    b=st.sampled_from(
        [
            "1E-130",
            "-1E-130",
            "9.9999999999999999999999999999999999999E+125",
            "-9.9999999999999999999999999999999999999E+125",
            "0",
        ]
    ),
)
def test_number_order_bytes_at_the_range_ends(a: Decimal, b: str) -> None:
    try:
        text = normal(a)
    except ValueError:
        return
    assert (order_bytes("N", text) < order_bytes("N", normal(Decimal(b)))) == (Decimal(text) < Decimal(b))
