"""The table's stream, read as DynamoDB Streams: shards, iterators, paging, rollover, retention, expiry."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shardline import deserialize_item
from shardline.local import (
    ArgumentTypeError,
    ExpiredIteratorError,
    ResourceNotFoundError,
    Store,
    Table,
    TrimmedDataAccessError,
    ValidationError,
)
from shardline.testing import VirtualClock
from shardline.testing._builder import EventBuilder

START = "2026-11-27T06:00:00Z"
HOUR = 3_600_000
START_MS = VirtualClock(START).now_ms()
SHARD_ID = re.compile(r"shardId-[0-9]{20}-[0-9a-f]{8}")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def store(clock: VirtualClock) -> Iterator[Store]:
    with Store(":memory:", clock=clock) as opened:
        yield opened


@pytest.fixture
def orders(store: Store) -> Table:
    return store.create_table("Orders", key_schema={"pk": "S"})


def shard_ids(table: Table) -> list[str]:
    return [shard["ShardId"] for shard in table.stream.describe_stream()["Shards"]]


def read_shard(table: Table, shard_id: str, kind: str = "TRIM_HORIZON", limit: int = 1000) -> list[dict[str, Any]]:
    """Every record of one shard from `kind`, to its end (closed) or to the newest record (open)."""
    records = []
    iterator: str | None = table.stream.get_shard_iterator(shard_id, kind)
    while iterator is not None:
        page = table.stream.get_records(iterator, limit=limit)
        records.extend(page["Records"])
        if not page["Records"]:
            break
        iterator = page["NextShardIterator"]
    return records


def read_all(table: Table) -> dict[str, list[dict[str, Any]]]:
    return {shard_id: read_shard(table, shard_id) for shard_id in shard_ids(table)}


# -- describe_stream ----------------------------------------------------------------------------------


def test_describe_stream_is_shaped_like_dynamodb_streams(store: Store, clock: VirtualClock) -> None:
    table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"}, stream_view_type="NEW_IMAGE")
    description = table.stream.describe_stream()
    assert list(description) == ["StreamArn", "StreamLabel", "StreamStatus", "StreamViewType", "TableName",
                                 "KeySchema", "Shards"]  # fmt: skip
    assert description["StreamArn"] == table.stream_arn
    assert description["StreamLabel"] == "2026-11-27T06:00:00.000"
    assert description["StreamStatus"] == "ENABLED"
    assert description["StreamViewType"] == "NEW_IMAGE"
    assert description["TableName"] == "Orders"
    assert description["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    (shard,) = description["Shards"]
    assert SHARD_ID.fullmatch(shard["ShardId"])
    assert shard["ShardId"].startswith(f"shardId-{clock.now_ms():020d}-")  # created with the table
    assert "ParentShardId" not in shard  # a root shard
    assert list(shard["SequenceNumberRange"]) == ["StartingSequenceNumber"]  # open: no ending number
    assert re.fullmatch(r"[0-9]{21,40}", shard["SequenceNumberRange"]["StartingSequenceNumber"])


def test_records_carry_what_lambda_delivers(orders: Table) -> None:
    written = orders.put_item({"pk": "a", "n": 1})
    (shard,) = shard_ids(orders)
    (record,) = read_shard(orders, shard)
    assert record == written
    assert record["eventSourceARN"] == orders.stream_arn
    assert record["awsRegion"] == "us-east-1"
    start = int(orders.stream.describe_stream()["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"])
    assert int(record["dynamodb"]["SequenceNumber"]) > start


# -- iterators ----------------------------------------------------------------------------------------


def test_iterator_types_position_as_dynamodb_streams_does(orders: Table) -> None:
    numbers = [orders.put_item({"pk": f"p{i}"})["dynamodb"]["SequenceNumber"] for i in range(5)]  # type: ignore[index]
    (shard,) = shard_ids(orders)
    stream = orders.stream

    def names(iterator: str) -> list[str]:
        return [record["dynamodb"]["Keys"]["pk"]["S"] for record in stream.get_records(iterator)["Records"]]

    assert names(stream.get_shard_iterator(shard, "TRIM_HORIZON")) == ["p0", "p1", "p2", "p3", "p4"]
    assert names(stream.get_shard_iterator(shard, "AT_SEQUENCE_NUMBER", numbers[2])) == ["p2", "p3", "p4"]
    assert names(stream.get_shard_iterator(shard, "AFTER_SEQUENCE_NUMBER", numbers[2])) == ["p3", "p4"]
    assert names(stream.get_shard_iterator(shard, "AFTER_SEQUENCE_NUMBER", numbers[4])) == []
    latest = stream.get_shard_iterator(shard, "LATEST")
    assert names(latest) == []
    orders.put_item({"pk": "p5"})
    assert names(latest) == ["p5"]


def test_an_open_shard_answers_with_an_iterator_where_it_stopped(orders: Table) -> None:
    (shard,) = shard_ids(orders)
    page = orders.stream.get_records(orders.stream.get_shard_iterator(shard, "TRIM_HORIZON"))
    assert page["Records"] == []
    assert page["NextShardIterator"] is not None
    orders.put_item({"pk": "a"})
    following = orders.stream.get_records(page["NextShardIterator"])
    assert [record["eventName"] for record in following["Records"]] == ["INSERT"]
    assert orders.stream.get_records(following["NextShardIterator"])["Records"] == []


@pytest.mark.parametrize(
    ("kind", "number", "message"),
    [
        ("FROM_START", None, r"^iterator type 'FROM_START': expected one of TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER"),
        ("AT_SEQUENCE_NUMBER", None, r"^AT_SEQUENCE_NUMBER needs a sequence_number$"),
        ("LATEST", "100000000000000000000000001", r"^LATEST takes no sequence_number"),
        ("AFTER_SEQUENCE_NUMBER", "12x", r"^sequence number '12x': expected the digits of a record's SequenceNumber$"),
        ("AFTER_SEQUENCE_NUMBER", "111", r"^sequence number '111': expected the digits"),
        (
            "AT_SEQUENCE_NUMBER",
            "100000000000000000000009999",
            r"^sequence number 100000000000000000000009999 is outside",
        ),
    ],
)
def test_bad_iterator_requests_are_refused(orders: Table, kind: str, number: str | None, message: str) -> None:
    (shard,) = shard_ids(orders)
    with pytest.raises(ValidationError, match=message):
        orders.stream.get_shard_iterator(shard, kind, number)


def test_unknown_shards_and_foreign_or_damaged_iterators(store: Store, orders: Table) -> None:
    with pytest.raises(ResourceNotFoundError, match=r"^shard 'shardId-1' is not a shard of arn:aws:dynamodb:"):
        orders.stream.get_shard_iterator("shardId-1", "LATEST")
    other = store.create_table("Other", key_schema={"pk": "S"})
    iterator = other.stream.get_shard_iterator(shard_ids(other)[0], "LATEST")
    with pytest.raises(ValidationError, match=r"the shard iterator is not one of arn:aws:dynamodb:.*table/Orders/"):
        orders.stream.get_records(iterator)
    with pytest.raises(ValidationError, match=r"^the shard iterator is damaged"):
        orders.stream.get_records(orders.stream_arn + "|1|bm90IGFuIGl0ZXJhdG9y")
    with pytest.raises(ValidationError, match=r"^limit must be 1..1000, got 0$"):
        orders.stream.get_records(iterator, limit=0)


def forged(table: Table, payload: str) -> str:
    """An iterator of ``table``'s stream whose opaque part is ``payload`` (what get_shard_iterator encodes)."""
    return f"{table.stream_arn}|1|" + base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii")


@pytest.mark.parametrize(
    "payload",
    [
        "1:1:12345678901234567890123:{now}",  # a position SQLite cannot hold: OverflowError before
        "1:1:9223372036854775808:{now}",
        "1:1:0_0:{now}",  # int() reads "0_0" as 0
        "1:1:-1:{now}",
        "1:1:\u0661:{now}",  # int() reads Arabic-Indic digits
        "1:1: 1:{now}",
        "1:1:+1:{now}",
        "1:1:1",
        "1:1:1:1:1",
        "",
        "1:1:999:{now}",  # past the end of the shard: reading on would skip the records written there
    ],
)
def test_forged_iterators_are_refused_as_damaged(orders: Table, payload: str) -> None:
    orders.put_item({"pk": "a"})
    now = orders._store.clock.now_ms()
    with pytest.raises(ValidationError, match=r"^the shard iterator is damaged; get a new one from get_shard_iterator"):
        orders.stream.get_records(forged(orders, payload.format(now=now)))
    with pytest.raises(ValidationError, match=r"^the shard iterator is damaged"):
        orders.stream.get_records(f"{orders.stream_arn}|1|\ud800")
    with pytest.raises(ValidationError, match=r"^the shard iterator is damaged"):
        orders.stream.get_records(f"{orders.stream_arn}|1|" + "A" * 10_000)


def test_an_iterator_dated_in_the_future_does_not_live_forever(orders: Table, clock: VirtualClock) -> None:
    now = clock.now_ms()
    far = forged(orders, f"1:1:0:{now + 15 * 60_000 + 1}")
    with pytest.raises(
        ValidationError, match=r"^the shard iterator is damaged; .* \(it is dated after the store's clock\)"
    ):
        orders.stream.get_records(far)
    # A little ahead (another process's clock may be): valid, and it expires 15 minutes after its date.
    ahead = forged(orders, f"1:1:0:{now + 10 * 60_000}")
    assert orders.stream.get_records(ahead)["Records"] == []
    clock.advance(25 * 60_000 + 1)
    with pytest.raises(ExpiredIteratorError, match=r"^the shard iterator expired 0.001 s ago"):
        orders.stream.get_records(ahead)


@pytest.mark.parametrize(
    ("shard", "kind", "number", "error", "message"),
    [
        (5, "LATEST", None, ArgumentTypeError, r"^shard_id must be text \(str\), got int$"),
        (None, "LATEST", None, ArgumentTypeError, r"^shard_id must be text \(str\), got NoneType$"),
        ("\ud800", "LATEST", None, ValidationError, r"^shard_id holds a lone surrogate \('\\ud800' at index 0\)"),
        ("shardId-1", ["LATEST"], None, ValidationError, r"^iterator type \['LATEST'\]: expected one of"),
        ("shardId-1", "AT_SEQUENCE_NUMBER", "\u0661" * 21, ValidationError, "^sequence number '\u0661{21}': expected"),
        ("shardId-1", "AT_SEQUENCE_NUMBER", "-" + "1" * 26, ValidationError, r"^sequence number '-1+': expected"),
        ("shardId-1", "AT_SEQUENCE_NUMBER", 10**26, ValidationError, r"^sequence number 10{26}: expected the digits"),
        ("shardId-1", "AT_SEQUENCE_NUMBER", "9" * 41, ValidationError, r"^sequence number '9{41}': expected"),
    ],
)
def test_odd_get_shard_iterator_arguments_are_refused(
    orders: Table, shard: Any, kind: Any, number: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        orders.stream.get_shard_iterator(shard, kind, number)


def test_get_records_refuses_what_is_not_an_iterator(orders: Table) -> None:
    for iterator in (None, 5, b"x"):
        with pytest.raises(ValidationError, match=r"^a shard iterator is text from get_shard_iterator, got "):
            orders.stream.get_records(iterator)  # type: ignore[arg-type]
    (shard,) = shard_ids(orders)
    iterator = orders.stream.get_shard_iterator(shard, "LATEST")
    for limit in (None, 1.5, True, 0, 1001):
        with pytest.raises(ValidationError, match=r"^limit must be 1..1000, got "):
            orders.stream.get_records(iterator, limit)  # type: ignore[arg-type]


def test_a_deleted_tables_stream_is_gone(store: Store, orders: Table) -> None:
    (shard,) = shard_ids(orders)
    iterator = orders.stream.get_shard_iterator(shard, "TRIM_HORIZON")
    store.delete_table("Orders")
    with pytest.raises(ResourceNotFoundError, match=r"^table 'Orders' was deleted"):
        orders.stream.get_records(iterator)
    again = store.create_table("Orders", key_schema={"pk": "S"})  # same name, same ARN on a stopped clock
    with pytest.raises(ResourceNotFoundError, match=r"belongs to an earlier table called 'Orders'"):
        again.stream.get_records(iterator)
    with pytest.raises(ResourceNotFoundError):
        again.stream.get_shard_iterator(shard, "TRIM_HORIZON")


def test_iterators_expire_after_15_minutes(orders: Table, clock: VirtualClock) -> None:
    (shard,) = shard_ids(orders)
    iterator = orders.stream.get_shard_iterator(shard, "TRIM_HORIZON")
    clock.advance(15 * 60_000)
    page = orders.stream.get_records(iterator)  # exactly 15 minutes: still valid
    clock.advance(1)
    with pytest.raises(ExpiredIteratorError, match=r"^the shard iterator expired 0.001 s ago \(iterators last 15"):
        orders.stream.get_records(iterator)
    # The iterator a read returns is new: it lasts 15 minutes from then.
    clock.advance(15 * 60_000 - 1)
    assert orders.stream.get_records(page["NextShardIterator"])["Records"] == []


# -- paging --------------------------------------------------------------------------------------------


def test_get_records_pages_by_limit_in_order(orders: Table) -> None:
    orders.batch_write(puts=[{"pk": f"p{i:04d}"} for i in range(2500)])
    (shard,) = shard_ids(orders)
    iterator = orders.stream.get_shard_iterator(shard, "TRIM_HORIZON")
    sizes = []
    seen: list[int] = []
    while True:
        page = orders.stream.get_records(iterator)
        if not page["Records"]:
            break
        sizes.append(len(page["Records"]))
        seen.extend(int(record["dynamodb"]["SequenceNumber"]) for record in page["Records"])
        iterator = page["NextShardIterator"]
    assert sizes == [1000, 1000, 500]
    assert seen == sorted(seen)
    assert len(set(seen)) == 2500
    assert len(read_shard(orders, shard, limit=7)) == 2500


def test_get_records_returns_at_most_1_mb(orders: Table) -> None:
    for index in range(5):
        orders.put_item({"pk": f"p{index}", "blob": "x" * 380_000})
    (shard,) = shard_ids(orders)
    iterator = orders.stream.get_shard_iterator(shard, "TRIM_HORIZON")
    sizes = []
    while True:
        page = orders.stream.get_records(iterator)
        if not page["Records"]:
            break
        sizes.append(len(page["Records"]))
        iterator = page["NextShardIterator"]
    assert sizes == [2, 2, 1]  # three 380 KB records are more than 1 MB
    orders.put_item({"pk": "big", "a": "x" * 204_000, "b": "y" * 204_000})
    orders.put_item({"pk": "big", "a": "z" * 204_000, "b": "w" * 204_000})  # one MODIFY of ~1.6 MB
    records = orders.stream.get_records(iterator)["Records"]
    assert [record["eventName"] for record in records] == ["INSERT"]
    assert len(orders.stream.get_records(orders.stream.get_shard_iterator(
        shard, "AFTER_SEQUENCE_NUMBER", records[0]["dynamodb"]["SequenceNumber"]))["Records"]) == 1  # fmt: skip


# -- shards --------------------------------------------------------------------------------------------


def test_each_items_changes_stay_in_one_shard_and_items_spread(store: Store) -> None:
    table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"}, shard_count=4)
    assert len(shard_ids(table)) == 4
    for round_ in range(3):
        for index in range(40):
            table.put_item({"pk": f"customer#{index}", "sk": round_ % 2, "round": round_})
    by_shard = read_all(table)
    owner: dict[str, str] = {}
    for shard_id, records in by_shard.items():
        for record in records:
            partition = record["dynamodb"]["Keys"]["pk"]["S"]
            assert owner.setdefault(partition, shard_id) == shard_id
    assert sum(1 for records in by_shard.values() if records) >= 3
    assert sum(len(records) for records in by_shard.values()) == 40 + 40 + 40  # INSERT, INSERT (sk 1), MODIFY


def test_shards_roll_over_into_children(orders: Table, clock: VirtualClock) -> None:
    created = clock.now_ms()
    orders.put_item({"pk": "a", "v": 1})
    (parent,) = shard_ids(orders)
    clock.advance(4 * HOUR - 1)
    orders.put_item({"pk": "a", "v": 2})
    assert shard_ids(orders) == [parent]
    clock.advance(1)
    # Nobody writes: the shard closes anyway, when the stream is described.
    parent_shard, child_shard = orders.stream.describe_stream()["Shards"]
    assert parent_shard["ShardId"] == parent
    end = parent_shard["SequenceNumberRange"]["EndingSequenceNumber"]
    assert child_shard["ParentShardId"] == parent
    assert child_shard["ShardId"].startswith(f"shardId-{created + 4 * HOUR:020d}-")  # 4 hours after the first
    assert int(child_shard["SequenceNumberRange"]["StartingSequenceNumber"]) > int(end)
    orders.put_item({"pk": "a", "v": 3})
    old = read_shard(orders, parent)
    assert [record["dynamodb"]["NewImage"]["v"]["N"] for record in old] == ["1", "2"]
    assert all(int(record["dynamodb"]["SequenceNumber"]) <= int(end) for record in old)
    # A closed shard read to its end answers without a next iterator.
    last = orders.stream.get_records(orders.stream.get_shard_iterator(parent, "AFTER_SEQUENCE_NUMBER", end))
    assert last == {"Records": [], "NextShardIterator": None}
    assert orders.stream.get_records(orders.stream.get_shard_iterator(parent, "LATEST"))["NextShardIterator"] is None
    new = read_shard(orders, child_shard["ShardId"])
    assert [record["dynamodb"]["NewImage"]["v"]["N"] for record in new] == ["3"]


def test_a_long_jump_of_the_clock_leaves_a_lineage_within_the_retention(orders: Table, clock: VirtualClock) -> None:
    orders.put_item({"pk": "a"})
    clock.advance(30 * HOUR)
    shards = orders.stream.describe_stream()["Shards"]
    # Generations every 4 hours; those closed more than 24 hours ago are past the retention and not listed:
    # the first (closed at 4 h) is gone, the one opened at 4 h (closed at 8 h) is the oldest left.
    created = [int(shard["ShardId"].split("-")[1]) for shard in shards]
    assert [(ms - START_MS) // HOUR for ms in created] == [4, 8, 12, 16, 20, 24, 28]
    assert [shard.get("ParentShardId") for shard in shards[1:]] == [shard["ShardId"] for shard in shards[:-1]]
    assert all("EndingSequenceNumber" in shard["SequenceNumberRange"] for shard in shards[:-1])
    assert "EndingSequenceNumber" not in shards[-1]["SequenceNumberRange"]
    orders.put_item({"pk": "b"})
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in read_shard(orders, shards[-1]["ShardId"])] == ["b"]


def test_rollover_is_configurable(store: Store, clock: VirtualClock) -> None:
    table = store.create_table("Fast", key_schema={"pk": "S"}, shard_rollover_ms=60_000, shard_count=2)
    clock.advance(60_000)
    shards = table.stream.describe_stream()["Shards"]
    assert len(shards) == 4
    assert sum(1 for shard in shards if "ParentShardId" in shard) == 2


# -- retention ------------------------------------------------------------------------------------------


def test_records_past_the_retention_are_trimmed(orders: Table, clock: VirtualClock) -> None:
    first = orders.put_item({"pk": "old"})
    assert first is not None
    (shard,) = shard_ids(orders)
    clock.advance(3 * HOUR)
    orders.put_item({"pk": "newer"})
    clock.advance(21 * HOUR)  # the first record is exactly 24 hours old: still kept
    old_number = first["dynamodb"]["SequenceNumber"]
    at_first = orders.stream.get_shard_iterator(shard, "AT_SEQUENCE_NUMBER", old_number)
    clock.advance(1)
    with pytest.raises(TrimmedDataAccessError, match=r"past the stream's retention and were trimmed"):
        orders.stream.get_records(at_first)
    with pytest.raises(TrimmedDataAccessError):
        orders.stream.get_shard_iterator(shard, "AT_SEQUENCE_NUMBER", old_number)
    # AFTER the trimmed record: nothing after it is lost.
    after = orders.stream.get_shard_iterator(shard, "AFTER_SEQUENCE_NUMBER", old_number)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in orders.stream.get_records(after)["Records"]] == ["newer"]
    # TRIM_HORIZON starts at the oldest record kept; the shard that held the old one has rolled over since.
    kept = [record["dynamodb"]["Keys"]["pk"]["S"] for records in read_all(orders).values() for record in records]
    assert kept == ["newer"]


def test_trimmed_records_are_deleted_from_the_file(tmp_path: Path, clock: VirtualClock) -> None:
    with Store(tmp_path / "state.db", clock=clock) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"}, retention_ms=HOUR, shard_rollover_ms=100 * HOUR)
        first = table.batch_write(puts=[{"pk": f"p{i}"} for i in range(100)])[0]["dynamodb"]["SequenceNumber"]
        (shard,) = shard_ids(table)
        clock.advance(2 * HOUR)
        table.put_item({"pk": "fresh"})  # a write runs the trim
        import sqlite3

        with sqlite3.connect(tmp_path / "state.db") as connection:
            (count,) = connection.execute("SELECT count(*) FROM records").fetchone()
        connection.close()
        assert count == 1
        with pytest.raises(TrimmedDataAccessError):
            table.stream.get_shard_iterator(shard, "AFTER_SEQUENCE_NUMBER", first)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_shard(table, shard)] == ["fresh"]


def test_trim_horizon_skips_expired_records_nobody_deleted_yet(orders: Table, clock: VirtualClock) -> None:
    orders.batch_write(puts=[{"pk": f"p{i}"} for i in range(10)])
    clock.advance(25 * HOUR)
    # No write since: the records are still in the database, but past the retention.
    for shard in orders.stream.describe_stream()["Shards"]:
        assert read_shard(orders, shard["ShardId"]) == []


def test_a_shard_past_the_retention_can_still_be_finished(orders: Table, clock: VirtualClock) -> None:
    orders.put_item({"pk": "a"})
    (first,) = shard_ids(orders)
    clock.advance(4 * HOUR + 24 * HOUR + 1)
    assert first not in shard_ids(orders)
    page = orders.stream.get_records(orders.stream.get_shard_iterator(first, "TRIM_HORIZON"))
    assert page == {"Records": [], "NextShardIterator": None}


# -- the property ----------------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "d"])
VALUES = st.sampled_from([0, 1, 2])
WRITES = st.one_of(
    st.tuples(st.just("put"), KEYS, st.dictionaries(st.sampled_from(["x", "y"]), VALUES, max_size=2)),
    st.tuples(
        st.just("update"),
        KEYS,
        st.tuples(
            st.dictionaries(st.sampled_from(["x", "y"]), VALUES, max_size=2), st.sampled_from([[], ["x"], ["y"]])
        ),
    ),
    st.tuples(st.just("delete"), KEYS, st.none()),
    st.tuples(st.just("advance"), st.none(), st.sampled_from([1000, 2 * HOUR, 5 * HOUR])),
)


@given(
    writes=st.lists(WRITES, max_size=40),
    shard_count=st.integers(1, 3),
    view_type=st.sampled_from(["NEW_IMAGE", "NEW_AND_OLD_IMAGES"]),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_replaying_the_stream_reproduces_the_table(writes: list[Any], shard_count: int, view_type: str) -> None:
    clock = VirtualClock(START)
    model = EventBuilder(table="Orders", key_schema={"pk": "S"}, view_type=view_type, clock=clock, start=START)
    expected_order: dict[str, list[str]] = {}
    with Store(":memory:", clock=clock) as store:
        table = store.create_table(
            "Orders",
            key_schema={"pk": "S"},
            stream_view_type=view_type,
            shard_count=shard_count,
            retention_ms=10**12,  # shards roll over as the clock jumps; nothing is trimmed
        )
        for kind, key, argument in writes:
            if kind == "advance":
                clock.advance(argument)
                continue
            if kind == "put":
                expected, got = model.put({"pk": key, **argument}), table.put_item({"pk": key, **argument})
            elif kind == "update":
                assigned, removed = argument
                if set(assigned) & set(removed):
                    continue
                expected = model.update({"pk": key}, assigned, removed)
                got = table.update_item({"pk": key}, set=assigned, remove=removed)
            else:
                expected, got = model.delete({"pk": key}), table.delete_item({"pk": key})
            # No-op writes add nothing; every other write adds exactly the record the model writes.
            assert (got is None) == (expected is None)
            if got is not None:
                assert expected is not None
                assert got["dynamodb"]["SizeBytes"] == expected["dynamodb"]["SizeBytes"]
                assert got["dynamodb"].get("NewImage") == expected["dynamodb"].get("NewImage")
                expected_order.setdefault(key, []).append(got["dynamodb"]["SequenceNumber"])
        # Replay every shard, parents first (describe_stream lists them so), onto an empty dict.
        replayed: dict[str, dict[str, Any]] = {}
        seen_order: dict[str, list[str]] = {}
        owners: dict[str, set[int]] = {}
        for index, records in enumerate(read_all(table).values()):
            numbers = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
            assert numbers == sorted(numbers)
            for record in records:
                key = record["dynamodb"]["Keys"]["pk"]["S"]
                seen_order.setdefault(key, []).append(record["dynamodb"]["SequenceNumber"])
                owners.setdefault(key, set()).add(index)
                if record["eventName"] == "REMOVE":
                    del replayed[key]
                else:
                    replayed[key] = deserialize_item(record["dynamodb"]["NewImage"])
        assert replayed == {item["pk"]: item for item in table.scan()}
        # Per item, the stream holds its changes in the order they were made.
        assert seen_order == expected_order
        if not any(kind == "advance" and argument > HOUR for kind, _, argument in writes):
            assert all(len(shards) == 1 for shards in owners.values())  # one item, one shard (no rollover)
