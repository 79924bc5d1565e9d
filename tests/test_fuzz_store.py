"""Fuzzers of the embedded store: its API driven with arbitrary arguments, and damaged state files.

Each asserts "returns, or raises a shardline error", plus what the store promises beyond that: after any
sequence of calls (good or bad) the stream replays to the table and holds every record a call returned;
a damaged file is reported as a StoreError by the API and as one ``Error: ...`` line by the commands.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from conftest import FUZZ, returns_or_raises_shardline_error, stream_records
from hypothesis import given
from hypothesis import strategies as st

from shardline import deserialize_item
from shardline.local import Store, Table
from shardline.testing import VirtualClock

START = "2026-11-27T06:00:00Z"
HOUR = 3_600_000

# -- arbitrary arguments ---------------------------------------------------------------------------------

# Text a caller may pass: ordinary, empty, NUL, lone surrogates, other scripts' digits, long.
TEXT = st.text(max_size=6) | st.sampled_from(["", "\x00", "a\x00b", "\ud800", "x\udfff", "\u0661", "pk", "x" * 300])
NUMBERS = (
    st.integers(-(10**40), 10**40)
    | st.sampled_from([10**38, -(10**126), 10**200, 2**63, -(2**63) - 1])
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.floats(allow_nan=True)
)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT | st.binary(max_size=4)
SETS = st.frozensets(TEXT, max_size=3) | st.frozensets(st.integers(-5, 5), max_size=3) | st.sets(st.binary(max_size=2))
VALUES = st.recursive(
    SCALARS | SETS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)
ODD = st.sampled_from([object(), float("nan"), b"bytes", ("tu", "ple"), 1.5, Decimal("sNaN"), {1: 2}])


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"m": value} if depth % 2 else [value]
    return value


DEEP = st.integers(30, 3000).map(nested)
# Arguments are mostly what a careful caller passes, often odd (so both the store's deep paths and its
# checks are exercised); st.one_of picks its branches about evenly, so the sensible ones are listed twice.
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=4) | st.binary(max_size=3),
    lambda children: st.lists(children, max_size=2) | st.dictionaries(st.text(min_size=1, max_size=3), children),
    max_leaves=4,
)
GOOD_KEYS = st.fixed_dictionaries({"pk": st.sampled_from(["a", "b", "c", "é"]), "sk": st.integers(0, 2)})
ODD_KEYS = (
    st.fixed_dictionaries({"pk": TEXT | VALUES, "sk": st.integers(0, 2) | st.sampled_from([10**38, -1]) | VALUES})
    | st.dictionaries(TEXT, VALUES, max_size=3)
    | VALUES
    | ODD
)
KEYS = GOOD_KEYS | GOOD_KEYS | ODD_KEYS
NAMES = st.sampled_from(["n", "x", "ttl", "note"])
GOOD_ATTRIBUTES = st.dictionaries(NAMES, PLAIN | st.integers(1_700_000_000, 1_900_000_000), max_size=3)
ATTRIBUTES = (
    GOOD_ATTRIBUTES | GOOD_ATTRIBUTES | st.dictionaries(TEXT | NAMES | st.just("pk"), VALUES | DEEP | ODD, max_size=3)
)
ITEMS = st.builds(lambda key, rest: {**rest, **key} if isinstance(key, dict) else key, KEYS, ATTRIBUTES) | VALUES
REMOVE = (
    st.none()
    | st.lists(NAMES, max_size=2)
    | st.lists(NAMES, max_size=2)
    | st.lists(TEXT | st.just("pk"), max_size=2)
    | VALUES
)
ACTIONS = st.lists(
    st.one_of(
        st.builds(lambda item: {"put": item}, ITEMS),
        st.builds(lambda key: {"delete": key}, KEYS),
        st.builds(
            lambda key, assigned, removed: {"update": {"key": key, "set": assigned, "remove": removed}},
            KEYS,
            ATTRIBUTES,
            REMOVE,
        ),
        st.dictionaries(TEXT, VALUES, max_size=2),
        VALUES,
    ),
    max_size=4,
)
# Iterator payloads: what _encode writes, and every odd form of it.
FIELD = (
    st.integers(0, 50).map(str)
    | st.sampled_from(["-5", "0_0", "\u0661", " 1", "1e3", "", "12345678901234567890123", str(2**63), "+1"])
    | st.text(max_size=4)
)
PAYLOADS = st.lists(FIELD, min_size=1, max_size=5).map(":".join)
TIMES = st.none() | st.integers(1_700_000_000_000, 1_900_000_000_000) | st.integers(-(2**70), 2**70) | TEXT | ODD
STATE = st.sampled_from(["mapping", "shard"]) | TEXT | VALUES

OPERATIONS = st.one_of(
    st.tuples(st.just("put"), ITEMS),
    st.tuples(st.just("update"), KEYS, ATTRIBUTES | st.none() | VALUES, REMOVE),
    st.tuples(st.just("delete"), KEYS),
    st.tuples(st.just("batch"), st.lists(ITEMS, max_size=3) | VALUES, st.lists(KEYS, max_size=2) | VALUES),
    st.tuples(st.just("transact"), ACTIONS | VALUES),
    st.tuples(st.just("get"), KEYS),
    st.tuples(st.just("query"), st.sampled_from(["a", "b"]) | TEXT | VALUES),
    st.tuples(st.just("ttl"), TIMES),
    st.tuples(
        st.just("iterator"),
        st.integers(0, 3) | st.integers(0, 3) | TEXT | VALUES,
        st.sampled_from(["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"]) | TEXT | VALUES,
        st.none() | st.integers(-3, 40) | st.integers(-3, 40) | TEXT | VALUES,
    ),
    st.tuples(
        st.just("records"), st.integers(0, 3), PAYLOADS | TEXT, st.integers(1, 1000) | st.integers(-1, 1001) | VALUES
    ),
    st.tuples(st.just("state"), STATE, STATE, st.none() | TEXT | TEXT | VALUES),
    st.tuples(st.just("table"), st.sampled_from(["Orders", "Other"]) | TEXT | VALUES),
    st.tuples(
        st.just("create"),
        TEXT | st.sampled_from(["Other", "Orders"]) | VALUES,
        st.dictionaries(TEXT, TEXT | st.sampled_from(["S", "N", "B"]), max_size=3) | VALUES,
        st.sampled_from(["NEW_IMAGE", "KEYS_ONLY"]) | TEXT | VALUES,
        st.none() | TEXT | VALUES,
        st.integers(-1, 3) | VALUES,
    ),
    st.tuples(st.just("advance"), st.sampled_from([1, 60_000, 15 * 60_000 + 1, HOUR, 5 * HOUR])),
)


class Driver:
    """Runs operations on a store, keeping every record a call returned and every iterator it handed out."""

    def __init__(self, store: Store, table: Table, clock: VirtualClock) -> None:
        self.store = store
        self.table = table
        self.clock = clock
        self.returned: list[dict[str, Any]] = []
        self.iterators: list[str] = []

    def keep(self, result: Any) -> None:
        if isinstance(result, dict) and "eventName" in result:
            self.returned.append(result)
        elif isinstance(result, list):
            self.returned.extend(record for record in result if isinstance(record, dict) and "eventName" in record)

    def shard(self, choice: Any) -> Any:
        if isinstance(choice, int) and not isinstance(choice, bool):
            shards = self.table.stream.describe_stream()["Shards"]
            return shards[choice % len(shards)]["ShardId"]
        return choice

    def sequence(self, choice: Any) -> Any:
        if isinstance(choice, int) and not isinstance(choice, bool):
            numbers = [int(record["dynamodb"]["SequenceNumber"]) for record in self.returned] or [10**26]
            return str(numbers[choice % len(numbers)] + choice // len(numbers) - 1)
        return choice

    def iterator(self, choice: int, payload: str) -> str:
        if self.iterators and choice < 2:
            return self.iterators[choice % len(self.iterators)]
        encoded = base64.urlsafe_b64encode(payload.encode("utf-8", "surrogatepass")).decode("ascii")
        return f"{self.table.stream_arn}|1|{encoded}" if choice < 3 else payload

    def run(self, operation: tuple[Any, ...]) -> None:
        kind, *arguments = operation
        table, store = self.table, self.store
        calls: dict[str, Callable[..., Any]] = {
            "put": table.put_item,
            "update": lambda key, assigned, removed: table.update_item(key, set=assigned, remove=removed),
            "delete": table.delete_item,
            "batch": lambda puts, deletes: table.batch_write(puts=puts, deletes=deletes),
            "transact": table.transact_write,
            "get": table.get_item,
            "query": table.query,
            "ttl": table.expire_ttl,
            "state": store.set_state,
            "table": store.table,
        }
        if kind == "advance":
            self.clock.advance(arguments[0])
        elif kind in calls:
            self.keep(returns_or_raises_shardline_error(lambda: calls[kind](*arguments)))
            if kind == "state":
                returns_or_raises_shardline_error(lambda: store.get_state(arguments[0], arguments[1]))
        elif kind == "iterator":
            shard, kind_of, number = arguments
            got = returns_or_raises_shardline_error(
                lambda: table.stream.get_shard_iterator(self.shard(shard), kind_of, self.sequence(number))
            )
            if got is not None:
                self.iterators.append(got)
        elif kind == "records":
            choice, payload, limit = arguments
            page = returns_or_raises_shardline_error(
                lambda: table.stream.get_records(self.iterator(choice, payload), limit)
            )
            if page is not None and page["NextShardIterator"] is not None:
                self.iterators.append(page["NextShardIterator"])
        else:  # create
            name, schema, view, ttl, shards = arguments
            returns_or_raises_shardline_error(
                lambda: store.create_table(
                    name, key_schema=schema, stream_view_type=view, ttl_attribute=ttl, shard_count=shards
                )
            )


def check_consistent(table: Table, returned: list[dict[str, Any]]) -> None:
    """The stream replays to the table, and holds every record a call returned, each once."""
    records = stream_records(table)
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    assert len(set(numbers)) == len(numbers)
    held = {record["dynamodb"]["SequenceNumber"]: record for record in records}
    for record in returned:
        assert held[record["dynamodb"]["SequenceNumber"]] == record
    replayed: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in sorted(records, key=lambda record: int(record["dynamodb"]["SequenceNumber"])):
        keys = deserialize_item(record["dynamodb"]["Keys"])
        ref = tuple(keys[name] for name in table.key_schema)
        if record["eventName"] == "REMOVE":
            del replayed[ref]
        else:
            replayed[ref] = deserialize_item(record["dynamodb"]["NewImage"])
    assert replayed == {tuple(item[name] for name in table.key_schema): item for item in table.scan()}


@FUZZ
@given(operations=st.lists(OPERATIONS, max_size=25), shard_count=st.integers(1, 3), ttl=st.booleans())
def test_fuzz_the_store_api_returns_or_raises_a_shardline_error_and_stays_consistent(
    operations: list[tuple[Any, ...]], shard_count: int, ttl: bool
) -> None:
    clock = VirtualClock(START)
    with Store(":memory:", clock=clock) as store:
        table = store.create_table(
            "Orders",
            key_schema={"pk": "S", "sk": "N"},
            ttl_attribute="ttl" if ttl else None,
            shard_count=shard_count,
            shard_rollover_ms=2 * HOUR,
            retention_ms=10**12,  # nothing is trimmed: every returned record must still be there
        )
        driver = Driver(store, table, clock)
        for shard in table.stream.describe_stream()["Shards"]:
            driver.iterators.append(table.stream.get_shard_iterator(shard["ShardId"], "TRIM_HORIZON"))
        for operation in operations:
            driver.run(operation)
        check_consistent(table, driver.returned)


# -- damaged state files ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def sound_state() -> bytes:
    """A real state file: two tables (one with rolled-over shards), items of every type, records, state."""
    clock = VirtualClock(START)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "state.db"
        with Store(path, clock=clock) as store:
            orders = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"}, ttl_attribute="ttl")
            other = store.create_table("Other", key_schema={"id": "B"}, shard_count=2, shard_rollover_ms=HOUR)
            orders.batch_write(
                puts=[
                    {"pk": f"order#{n}", "sk": n % 3, "total": Decimal(f"{n}.50"), "tags": {"a", f"t{n}"}}
                    for n in range(20)
                ]
            )
            orders.put_item(
                {"pk": "full", "sk": 1, "m": {"l": [1, "x", None, True, b"\x00"]}, "ns": {1, 2}, "ttl": 1767225600}
            )
            orders.update_item({"pk": "order#1", "sk": 1}, set={"status": "PAID"}, remove=["tags"])
            orders.delete_item({"pk": "order#2", "sk": 2})
            for n in range(6):
                other.put_item({"id": bytes([n]), "v": n})
                clock.advance(HOUR // 2)
            store.set_state("mapping", "shard", "42")
        return path.read_bytes()


@functools.lru_cache(maxsize=1)
def interesting_offsets() -> list[int]:
    """Offsets of the bytes that carry something (page headers, cells): most of a fresh file is zeros."""
    data = sound_state()
    return [offset for offset, byte in enumerate(data) if byte]


MUTATIONS = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1, max_size=8)),
    st.tuples(st.just("overwrite"), st.integers(0, 10**9), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("truncate"), st.integers(0, 10**9)),
    st.tuples(st.just("zero-page"), st.integers(0, 1000)),
)


def damage(data: bytes, mutation: tuple[Any, ...]) -> bytes:
    damaged = bytearray(data)
    offsets = interesting_offsets()
    kind = mutation[0]
    if kind == "flip":
        for where, mask in mutation[1]:
            offset = offsets[where % len(offsets)] if where % 2 else where % len(damaged)
            damaged[offset] ^= mask
    elif kind == "overwrite":
        offset = offsets[mutation[1] % len(offsets)]
        damaged[offset : offset + len(mutation[2])] = mutation[2]
    elif kind == "truncate":
        del damaged[mutation[1] % len(damaged) :]
    else:
        page = mutation[1] % (len(damaged) // 4096)
        damaged[page * 4096 : (page + 1) * 4096] = bytes(4096)
    return bytes(damaged)


def use(path: Path) -> None:
    """Every kind of call on the state file, each returning or raising a shardline error."""
    clock = VirtualClock(START)
    clock.advance(5 * HOUR)  # shards are due to roll over; iterators of before are expired
    store = returns_or_raises_shardline_error(lambda: Store(path, clock=clock, timeout=0))
    if store is None:
        return
    try:
        returns_or_raises_shardline_error(store.tables)
        returns_or_raises_shardline_error(lambda: store.get_state("mapping", "shard"))
        returns_or_raises_shardline_error(lambda: store.set_state("mapping", "shard", "43"))
        for name, key in (("Orders", {"pk": "order#1", "sk": 1}), ("Other", {"id": b"\x01"})):
            table = returns_or_raises_shardline_error(lambda name=name: store.table(name))
            if table is None:
                continue
            use_table(table, key)
        returns_or_raises_shardline_error(lambda: store.delete_table("Other"))
    finally:
        returns_or_raises_shardline_error(store.close)


def use_table(table: Table, key: dict[str, Any]) -> None:
    partition = next(iter(key.values()))
    calls: list[Callable[[], Any]] = [
        table.scan,
        lambda: table.get_item(key),
        lambda: table.query(partition),
        lambda: table.put_item({**key, "new": 1}),
        lambda: table.update_item(key, set={"v": 7}, remove=["total"]),
        lambda: table.batch_write(puts=[{**key, "b": 1}] if "pk" not in key else [{"pk": "new", "sk": 9}]),
        lambda: table.transact_write([{"delete": key}]),
        lambda: table.delete_item(key),
        table.expire_ttl,
    ]
    for call in calls:
        returns_or_raises_shardline_error(call)
    description = returns_or_raises_shardline_error(table.stream.describe_stream)
    for shard in description["Shards"] if description is not None else []:
        for kind in ("TRIM_HORIZON", "LATEST"):
            iterator = returns_or_raises_shardline_error(
                lambda shard=shard, kind=kind: table.stream.get_shard_iterator(shard["ShardId"], kind)
            )
            for _ in range(3):
                if iterator is None:
                    break
                page = returns_or_raises_shardline_error(
                    lambda iterator=iterator: table.stream.get_records(iterator, 5)
                )
                iterator = None if page is None else page["NextShardIterator"]


def run_command(*args: str) -> tuple[int, str]:
    """The command line, in this process: its exit status and what it wrote to stderr."""
    from shardline.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            return int(exc.code or 0), err.getvalue()
    raise AssertionError("main() always exits")  # pragma: no cover


def test_a_sound_state_file_is_read_by_every_call() -> None:
    # The fuzzer's baseline: the undamaged file works throughout (so a failure below is the damage's).
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "state.db"
        path.write_bytes(sound_state())
        with Store(path, clock=VirtualClock(START)) as store:
            assert [table.name for table in store.tables()] == ["Orders", "Other"]
            assert len(store.table("Orders").scan()) == 20
            assert store.get_state("mapping", "shard") == "42"
            assert len(stream_records(store.table("Other"))) == 6
        use(path)


@FUZZ
@given(mutation=MUTATIONS)
def test_fuzz_a_damaged_state_file_gives_store_errors_and_one_line_cli_errors(mutation: tuple[Any, ...]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "state.db"
        path.write_bytes(damage(sound_state(), mutation))
        use(path)
        path.write_bytes(damage(sound_state(), mutation))
        for command in (
            ["table", "scan", "Orders"],
            ["table", "get", "Orders", '{"pk": "order#1", "sk": 1}'],
            ["table", "put", "Orders", '{"pk": "cli", "sk": 1}'],
            ["stream", "tail", "Other"],
        ):
            status, stderr = run_command(*command, "--state", str(path))
            if status != 0:
                # A foreign exception would print "Error: TypeName: ..." and a second line about --debug.
                assert status == 1, stderr
                assert stderr.startswith(("Error: ", "no item with key")), stderr
                assert len(stderr.splitlines()) == 1, stderr
