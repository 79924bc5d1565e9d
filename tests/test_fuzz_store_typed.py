"""Fuzzers of the store's typed API: any input returns, or raises a shardline error; the indexes stay right."""

from __future__ import annotations

from typing import Any

from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline.local import Store
from shardline.local._store import IndexSpec

texts = st.text(max_size=6)
scalars = st.one_of(
    st.builds(lambda text: {"S": text}, texts),
    st.builds(lambda text: {"N": text}, st.sampled_from(["0", "1", "-1.5", "1.50", "1e3", "x", "", "99" * 30])),
    st.builds(lambda text: {"B": text}, st.sampled_from(["AA==", "/w==", "A", "", "@@@@"])),
    st.just({"NULL": True}),
    st.just({"BOOL": False}),
    st.just({"SS": ["a", "a"]}),
    st.just({}),
    st.just({"S": 1}),
    st.just({"S": "a", "N": "1"}),
)
junk = st.one_of(st.none(), st.integers(), texts, st.lists(st.integers(), max_size=2), st.binary(max_size=3))
values = st.one_of(scalars, junk)
names = st.sampled_from(["pk", "sk", "g", "v", "note", "", "x"])
images = st.one_of(st.dictionaries(names, values, max_size=5), junk)
keys = st.one_of(
    st.fixed_dictionaries({"pk": values, "sk": values}),
    st.fixed_dictionaries({"pk": scalars}),
    st.dictionaries(names, values, max_size=3),
    junk,
)
sorts = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["=", "<", "<=", ">", ">=", "begins_with", "~"]), values),
    st.tuples(st.just("BETWEEN"), values, values),
    st.tuples(st.just("BETWEEN"), values),
    junk,
)
indexes = st.sampled_from([None, "byG", "byV", "nope", 5])
limits = st.one_of(st.none(), st.integers(-1, 5), st.just(True), texts)
byte_limits = st.one_of(st.integers(-1, 200), st.just(1_048_576), st.none())


def new_table(store: Store) -> Any:
    return store.create_table(
        "Orders",
        key_schema={"pk": "S", "sk": "N"},
        global_indexes=[IndexSpec("byG", {"g": "S", "v": "N"}, "KEYS_ONLY")],
        local_indexes=[IndexSpec("byV", {"pk": "S", "v": "N"}, "INCLUDE", ("note",))],
    )


def check_index_entries(table: Any) -> None:
    """Every item holding byG's key attributes with their types is in byG, and nothing else is."""
    items = table.scan_page().items
    expected = sorted(
        (found.image["pk"]["S"], found.image["sk"]["N"])
        for found in items
        if "S" in found.image.get("g", {}) and "N" in found.image.get("v", {})
    )
    entries = sorted((found.image["pk"]["S"], found.image["sk"]["N"]) for found in table.scan_page(index="byG").items)
    assert entries == expected


@FUZZ
@given(changes=st.lists(st.tuples(keys, st.one_of(st.none(), images)), max_size=4), raw=junk)
def test_write_images_returns_or_raises_a_shardline_error(changes: list[Any], raw: Any) -> None:
    with Store(":memory:") as store:
        table = new_table(store)
        returns_or_raises_shardline_error(lambda: table.write_images(changes))
        returns_or_raises_shardline_error(lambda: table.write_images(raw))
        for key, _ in changes:
            returns_or_raises_shardline_error(lambda key=key: table.read_item(key))
        check_index_entries(table)


@FUZZ
@given(
    partition=values,
    index=indexes,
    sort=sorts,
    forward=st.one_of(st.booleans(), junk),
    start=st.one_of(st.none(), keys, st.dictionaries(names, scalars, max_size=4)),
    limit=limits,
    byte_limit=byte_limits,
    segment=st.integers(-1, 3),
    total=st.integers(-1, 3),
)
def test_query_and_scan_pages_return_or_raise_a_shardline_error(
    partition: Any,
    index: Any,
    sort: Any,
    forward: Any,
    start: Any,
    limit: Any,
    byte_limit: Any,
    segment: int,
    total: int,
) -> None:
    with Store(":memory:") as store:
        table = new_table(store)
        table.write_images(
            [
                (
                    {"pk": {"S": "a"}, "sk": {"N": str(n)}},
                    {"pk": {"S": "a"}, "sk": {"N": str(n)}, "g": {"S": "a"}, "v": {"N": "1"}},
                )
                for n in range(3)
            ]
        )
        returns_or_raises_shardline_error(
            lambda: table.query_page(
                partition,
                index=index,
                sort=sort,
                forward=forward,
                exclusive_start_key=start,
                limit=limit,
                byte_limit=byte_limit,
            )
        )
        returns_or_raises_shardline_error(
            lambda: table.scan_page(
                index=index,
                segment=segment,
                total_segments=total,
                exclusive_start_key=start,
                limit=limit,
                byte_limit=byte_limit,
            )
        )


specs = st.builds(
    IndexSpec,
    st.one_of(st.sampled_from(["byG", "byX", "ab", "a b c", "byV"]), texts),
    st.one_of(st.dictionaries(names, st.sampled_from(["S", "N", "B", "SS", 1]), max_size=3), junk),
    st.one_of(st.sampled_from(["ALL", "KEYS_ONLY", "INCLUDE", "SOME"]), junk),
    st.one_of(st.tuples(), st.tuples(names), st.tuples(names, names), junk),
)


@FUZZ
@given(
    stream_enabled=st.one_of(st.none(), st.booleans(), junk),
    view_type=st.one_of(st.none(), st.sampled_from(["KEYS_ONLY", "NEW_IMAGE", "ALL"]), junk),
    ttl=st.one_of(st.sampled_from(["expires", "pk", None]), junk),
    add=st.one_of(st.lists(specs, max_size=2), junk),
    remove=st.one_of(st.lists(st.sampled_from(["byG", "byV", "nope"]), max_size=2), junk),
    extra=st.one_of(st.none(), st.dictionaries(texts, st.one_of(texts, st.integers()), max_size=2), junk),
    arn=st.one_of(texts, junk),
)
def test_table_update_returns_or_raises_a_shardline_error(
    stream_enabled: Any, view_type: Any, ttl: Any, add: Any, remove: Any, extra: Any, arn: Any
) -> None:
    with Store(":memory:") as store:
        table = new_table(store)
        table.write_images(
            [
                (
                    {"pk": {"S": "a"}, "sk": {"N": "1"}},
                    {"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "x"}, "v": {"N": "2"}},
                )
            ]
        )
        returns_or_raises_shardline_error(
            lambda: table.update(
                stream_enabled=stream_enabled,
                stream_view_type=view_type,
                ttl_attribute=ttl,
                add_global_indexes=add,
                remove_global_indexes=remove,
                extra=extra,
            )
        )
        returns_or_raises_shardline_error(lambda: store.stream_by_arn(arn))
        returns_or_raises_shardline_error(lambda: store.streams(arn))
        returns_or_raises_shardline_error(
            lambda: store.create_table(
                "Other", key_schema={"pk": "S", "sk": "N"}, global_indexes=add, local_indexes=add, extra=extra
            )
        )
        assert table.item_count() == 1
        if any(index.name == "byG" for index in table.global_indexes):
            check_index_entries(table)
