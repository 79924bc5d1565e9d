"""The embedded store: durable tables whose every change puts a faithful record on the table's stream.

A [`Store`][shardline.local.Store] is one SQLite database (or `":memory:"`). Each write to a
[`Table`][shardline.local.Table] compares the item with the one it replaces (the rules of `shardline._changes`, shared
with the event builder) and, when something changed, appends the stream record in the same transaction as the item: both
are there after a crash, or neither. The stream is read through `table.stream`, shaped like DynamoDB Streams' API
(`shardline.local._stream`).

Time comes from the store's clock, and never goes backwards inside the database: each write is stamped
with the later of the clock and the latest time written before, so records stay in time order even when
two processes with different clocks share the file.
"""

from __future__ import annotations

import binascii
import json
import os
import re
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from hashlib import blake2b
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar, final

from shardline._attributes import (
    _check_key_schema,
    _type_name,
    attribute_size,
    check_item_limits,
    deserialize_item,
    encoded_item_size,
    format_number,
    item_size,
)
from shardline._changes import (
    VIEW_TYPES,
    ModelKey,
    Update,
    apply_update,
    event_name,
    item_image,
    key_image,
    keys_of,
    model_key,
    parse_update,
    stream_record,
)
from shardline._exceptions import AttributeTypeError, AttributeValueError, ShardlineError
from shardline.local._db import INT64_MAX, Database, check_text, sequence_text
from shardline.local._errors import (
    ArgumentTypeError,
    ResourceNotFoundError,
    TableExistsError,
    ValidationError,
)
from shardline.local._indexes import (
    CompiledIndex,
    IndexSpec,
    check_indexes,
    compile_index,
    index_key_problem,
    order_bytes,
    partition_hash,
    prefix_end,
)
from shardline.local._stream import Stream
from shardline.testing._clock import Clock, SystemClock, to_datetime, to_ms

if TYPE_CHECKING:
    import sqlite3
    from types import TracebackType

__all__ = ["DEFAULT_RETENTION_MS", "DEFAULT_ROLLOVER_MS", "IndexSpec", "Page", "Store", "StoredItem", "Table"]

_HOUR_MS: Final = 3_600_000
DEFAULT_ROLLOVER_MS: Final = 4 * _HOUR_MS
"""How long a shard stays open before it rolls over into a child: 4 hours (14,400,000 ms).

DynamoDB does not document this; its shards are seen to roll over about every 4 hours."""
DEFAULT_RETENTION_MS: Final = 24 * _HOUR_MS
"""How long records stay on the stream: 24 hours (86,400,000 ms), as on
[DynamoDB Streams](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)."""
# Expired records are invisible at once; deleting them from the file is batched to once a minute of clock time.
_TRIM_EVERY_MS: Final = 60_000
_TRIM_CHUNK: Final = 512
# DynamoDB's TTL ignores items whose expiry is more than five years in the past (AWS's TTL guide).
_TTL_IGNORED_BEFORE_MS: Final = 5 * 365 * 24 * _HOUR_MS
_INT64_MAX: Final = INT64_MAX
_MAX_SHARDS: Final = 1000
# The latest time the store handles: the last millisecond of the year 9999, the end of Python's datetime.
_MAX_MS: Final = 253_402_300_799_999
# A clock that jumped over many rollover periods: the empty shards of the gap are created (a reader follows the
# lineage through them), but never more than this many per slot in one write, so the work stays bounded.
_MAX_GAP_GENERATIONS: Final = 100
# KeySchemaElement.AttributeName and TimeToLiveSpecification.AttributeName: 1 to 255 bytes (DynamoDB's
# CreateTable and UpdateTimeToLive API references).
_SCHEMA_NAME_BYTES: Final = 255
# DynamoDB's rule for table names; anything else would also break the stream ARN ("table/<name>/stream/...").
_TABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z0-9]+)+")
_ACTIONS: Final = ("put", "update", "delete")
_UPDATE_FIELDS: Final = frozenset({"key", "set", "remove"})

_SELECT_ITEM: Final = "SELECT image, size FROM items WHERE table_no = ? AND hash = ? AND pk = ? AND sk = ?"
_UPSERT_ITEM: Final = (
    "INSERT OR REPLACE INTO items (table_no, hash, pk, sk, image, size, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_DELETE_ITEM: Final = "DELETE FROM items WHERE table_no = ? AND hash = ? AND pk = ? AND sk = ?"
_INSERT_RECORD: Final = "INSERT INTO records (seq, shard_no, created_ms, body) VALUES (?, ?, ?, ?)"
# The rows a Query or Scan page reads, of the table and of an index: the sort position, the image, its size.
_ITEM_ROWS: Final = "SELECT i.sk, i.image, i.size FROM items i WHERE i.table_no = ?"
_INDEX_ROWS: Final = (
    "SELECT e.isk, i.image, i.size FROM index_entries e JOIN items i ON i.table_no = e.table_no"
    " AND i.hash = e.hash AND i.pk = e.pk AND i.sk = e.sk WHERE e.table_no = ? AND e.index_name = ?"
)
_INSERT_ENTRY: Final = (
    "INSERT OR REPLACE INTO index_entries (table_no, index_name, ihash, ipk, isk, pko, sk, hash, pk)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_DELETE_ENTRY: Final = (
    "DELETE FROM index_entries WHERE table_no = ? AND index_name = ? AND ihash = ? AND ipk = ? AND isk = ?"
    " AND pko = ? AND sk = ?"
)
#: A Query or Scan page stops once the items read reach 1 MB (DynamoDB API reference, Query and Scan).
PAGE_BYTES: Final = 1_048_576
# Scan's TotalSegments: 1 to 1,000,000 (DynamoDB API reference, Scan).
_MAX_SEGMENTS: Final = 1_000_000
_HASH_SPACE: Final = 2**32
_SORT_OPERATORS: Final = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"})
_BAD_START_KEY: Final = "The provided starting key is invalid: The provided key element does not match the schema"
_START_KEY_OUTSIDE: Final = "The provided starting key does not match the range key predicate"
_UNSET: Final[Any] = object()
_PREFETCH_CHUNK: Final = 400  # pairs of parameters per query: well under SQLite's limit of 999 in old builds


# An item's row key: the partition key's hash and text, and the sort key's order bytes (b"" without one).
_Ref = tuple[int, str, bytes]
_T = TypeVar("_T")


class _Op(NamedTuple):
    """One prepared change: its kind, the item's key and row key, and the image, its size and JSON text (put),
    or the key image and the update (update)."""

    kind: str
    key: ModelKey
    ref: _Ref
    image: dict[str, Any] | None = None
    size: int = 0
    update: Update | None = None
    text: str | None = None


@final
class JSONImage(dict[str, Any]):
    """A typed image read from the file, and the JSON text it was read from: a response that carries the
    image unchanged carries that text, instead of encoding the image again. (The text is the store's
    encoding, ASCII only, compact, as a response's.)"""

    __slots__ = ("text",)
    text: str


@final
class StoredItem(NamedTuple):
    """An item as read: its typed image (numbers as text, binaries as base64) and its size in bytes as
    DynamoDB counts it (of the projected image, on an index)."""

    image: dict[str, Any]
    size: int


@final
class Page(NamedTuple):
    """One page of a Query or Scan: the items, and the typed key to resume after (DynamoDB's
    `LastEvaluatedKey`), or None when the page reached the end."""

    items: list[StoredItem]
    last_evaluated_key: dict[str, Any] | None


@final
class Store:
    """Tables with durable DynamoDB streams in one SQLite database: a file (created with its directory when
    missing, unless `create=False`), or `":memory:"`.

    `clock` tells the time (the system clock by default; a `VirtualClock` makes TTL, shard rollover,
    retention and iterator expiry testable instantly). Tables created through this store get stream ARNs in
    `region` and `account_id`; a table keeps the ARN it was created with. `fsync=True` flushes every
    commit to the disk, so a commit also survives a power cut or an operating system crash (without it, a
    commit survives the process being killed at any instant). `timeout` is how many seconds a write waits
    for another process's transaction to finish before [`StoreError`][shardline.local.StoreError] is raised.
    `create=False` opens an existing state file only: a missing one is a [`StoreError`][shardline.local.StoreError], and
    no file or directory is made (for tools that only read).

    A state file that cannot be used (damaged, read-only, another program's database, a directory) raises
    [`StoreError`][shardline.local.StoreError] with a message saying what to do, when it is opened or at the first
    operation that meets the problem; so do values in the file that are not what shardline wrote.

    Another process (or another `Store`) opening the same file sees every commit at once. A store may be
    shared by threads: they take turns.

    Examples:
        >>> from shardline.testing import VirtualClock
        >>> with Store(":memory:", clock=VirtualClock()) as store:
        ...     orders = store.create_table("Orders", key_schema={"pk": "S"})
        ...     record = orders.put_item({"pk": "order#1", "status": "NEW"})
        ...     print(record["eventName"], record["dynamodb"]["SizeBytes"])
        ...     print(orders.put_item({"pk": "order#1", "status": "NEW"}))  # nothing changed: no record
        INSERT 27
        None
    """

    __slots__ = ("_account_id", "_db", "_region", "clock")

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        fsync: bool = False,
        timeout: float = 30.0,
        create: bool = True,
    ) -> None:
        if not isinstance(region, str) or _REGION.fullmatch(region) is None:
            raise ValidationError(f"region {region!r}: expected an AWS Region such as us-east-1")
        if not isinstance(account_id, str) or _ACCOUNT_ID.fullmatch(account_id) is None:
            raise ValidationError(f"account_id {account_id!r}: an AWS account ID is 12 digits")
        # SQLite waits for a lock in whole milliseconds held in a C int: about 24 days at most.
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 2_000_000:
            raise ValidationError(f"timeout must be a number of seconds from 0 to 2000000, got {timeout!r}")
        if clock is not None and not callable(getattr(clock, "now_ms", None)):
            raise ArgumentTypeError(f"clock must have a now_ms() method (a Clock), got {type(clock).__name__}")
        self.clock: Clock = clock if clock is not None else SystemClock()
        """The clock the store reads: every record's time, TTL, rollover, retention and iterator expiry."""
        self._region = region
        self._account_id = account_id
        self._db = Database(path, fsync=bool(fsync), timeout=float(timeout), create=bool(create))

    @property
    def path(self) -> str:
        """The database's path as given (`":memory:"` for an in-memory store)."""
        return self._db.name

    def __repr__(self) -> str:
        return f"<Store {self._db.name!r}>"

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database. Everything committed stays; using the store afterwards raises StoreError."""
        self._db.close()

    # -- tables ---------------------------------------------------------------------------------------

    def create_table(
        self,
        name: str,
        *,
        key_schema: Mapping[str, str],
        stream_view_type: str = "NEW_AND_OLD_IMAGES",
        ttl_attribute: str | None = None,
        shard_count: int = 1,
        shard_rollover_ms: int = DEFAULT_ROLLOVER_MS,
        retention_ms: int = DEFAULT_RETENTION_MS,
        stream_enabled: bool = True,
        global_indexes: Sequence[IndexSpec] = (),
        local_indexes: Sequence[IndexSpec] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> Table:
        """Create a table with a stream, and return it.

        `key_schema` is ordered: `{"pk": "S", "sk": "N"}` has the partition key `pk` and the sort key
        `sk` (types S, N or B). `ttl_attribute` names the Number attribute holding each item's expiry
        in epoch seconds (Time to Live; see [`Table.expire_ttl`][shardline.local.Table.expire_ttl]). The stream starts
        with `shard_count` shards; an item's changes all go to the shard its partition key hashes to. Each shard closes
        after `shard_rollover_ms` of clock time and a child shard takes over; records are kept for `retention_ms`.
        `stream_enabled=False` creates the table without a stream (its writes produce no records until
        [`Table.update`][shardline.local.Table.update] enables one).

        `global_indexes` and `local_indexes` are [`IndexSpec`][shardline.local.IndexSpec] of the table's secondary
        indexes, checked as DynamoDB's CreateTable checks them (at most 20 global and 5 local ones, a local index shares
        the table's partition key and has a sort key, names unique, INCLUDE with non-key attributes and the others
        without, at most 100 projected non-key attributes in all). `extra` is JSON metadata kept with the table and
        returned by [`Table.extra`][shardline.local.Table.extra] (the endpoint keeps the billing mode, attribute
        definitions and tags there).

        Examples:
            >>> with Store(":memory:") as store:
            ...     table = store.create_table("Orders", key_schema={"pk": "S"},
            ...                                global_indexes=[IndexSpec("byStatus", {"status": "S"})])
            ...     [index.name for index in table.global_indexes]
            ['byStatus']
        """
        name = _check_table_name(name)
        schema = dict(_check_key_schema(key_schema))
        for attribute in schema:
            _check_schema_name(attribute, "key_schema: a key attribute name")
        view_type = _check_view_type(stream_view_type)
        ttl_attribute = _check_ttl_attribute(ttl_attribute, schema)
        _check_count("shard_count", shard_count, 1, _MAX_SHARDS)
        _check_count("shard_rollover_ms", shard_rollover_ms, 1, _INT64_MAX)
        _check_count("retention_ms", retention_ms, 1, _INT64_MAX)
        if not isinstance(stream_enabled, bool):
            raise ArgumentTypeError(f"stream_enabled must be True or False, got {type(stream_enabled).__name__}")
        globals_, locals_ = check_indexes(schema, global_indexes, local_indexes)
        extra_text = _extra_text(extra)
        db = self._db
        with db.write() as connection:
            if connection.execute("SELECT 1 FROM tables WHERE name = ?", (name,)).fetchone():
                raise TableExistsError(f"table {name!r} exists already (delete it first, or choose another name)")
            last_seq, last_ms = db.check_row(
                connection.execute("SELECT last_seq, last_ms FROM counters").fetchone(), "ii", "the counters row"
            )
            now = self._now_ms(last_ms)
            cursor = connection.execute(
                "INSERT INTO tables (name, key_schema, view_type, ttl_attribute, shard_count, rollover_ms,"
                " retention_ms, created_ms, stream_arn, region, trimmed_ms, stream_enabled, indexes, extra, account)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, 0, ?, ?, ?)",
                (
                    name,
                    json.dumps(list(schema.items())),
                    view_type,
                    ttl_attribute,
                    shard_count,
                    shard_rollover_ms,
                    retention_ms,
                    now,
                    self._region,
                    now - retention_ms,
                    _indexes_text(globals_, locals_),
                    extra_text,
                    self._account_id,
                ),
            )
            table_no = cursor.lastrowid
            assert table_no is not None
            if stream_enabled:
                last_seq = _start_stream(
                    connection,
                    table_no,
                    f"arn:aws:dynamodb:{self._region}:{self._account_id}:table/{name}/stream/",
                    view_type=view_type,
                    shard_count=shard_count,
                    now=now,
                    last_seq=last_seq,
                )
            connection.execute("UPDATE counters SET last_seq = ?, last_ms = ?", (last_seq, now))
            db.forget()  # the counters moved on
        return self.table(name)

    def table(self, name: str) -> Table:
        """The table called `name`; [`ResourceNotFoundError`][shardline.local.ResourceNotFoundError] if there is none.

        The table's settings are read once and kept while the file is unchanged by anything else (another
        connection's commit makes the next call read them again), so asking for a table on every request
        costs next to nothing; the same [`Table`][shardline.local.Table] object may be returned again.
        """
        name = _check_table_name(name)
        db = self._db
        with db.statement() as connection:
            cache = db.cache(connection)
            table: Table | None = cache.get(("table", name))
            if table is not None:
                return table
            row = connection.execute(f"SELECT {_TABLE_COLUMNS} FROM tables WHERE name = ?", (name,)).fetchone()
            if row is not None:
                table = cache["table", name] = Table(self, row)
                return table
        known = ", ".join(repr(table.name) for table in self.tables()) or "none"
        raise ResourceNotFoundError(f"no table {name!r} in {self._db.name} (tables: {known})")

    def tables(self) -> list[Table]:
        """Every table, by name."""
        with self._db.statement() as connection:
            rows = connection.execute(f"SELECT {_TABLE_COLUMNS} FROM tables ORDER BY name").fetchall()
        return [Table(self, row) for row in rows]

    def delete_table(self, name: str) -> None:
        """Delete a table, its items and its stream.

        Unlike DynamoDB, whose stream stays readable for 24 hours after the table is deleted, the records
        go at once; readers of the stream get [`ResourceNotFoundError`][shardline.local.ResourceNotFoundError].
        """
        name = _check_table_name(name)
        with self._db.write() as connection:
            row = connection.execute("SELECT table_no FROM tables WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise ResourceNotFoundError(f"no table {name!r} in {self._db.name}")
            (table_no,) = self._db.check_row(row, "i", f"table {name!r}")
            connection.execute(
                "DELETE FROM records WHERE shard_no IN (SELECT shard_no FROM shards WHERE table_no = ?)", (table_no,)
            )
            connection.execute("DELETE FROM shards WHERE table_no = ?", (table_no,))
            connection.execute("DELETE FROM streams WHERE table_no = ?", (table_no,))
            connection.execute("DELETE FROM index_entries WHERE table_no = ?", (table_no,))
            connection.execute("DELETE FROM items WHERE table_no = ?", (table_no,))
            connection.execute("DELETE FROM tables WHERE table_no = ?", (table_no,))
            self._db.forget()

    # -- streams --------------------------------------------------------------------------------------

    def streams(self, table_name: str | None = None) -> list[tuple[str, str, str]]:
        """`(table name, stream ARN, stream label)` of every stream (of `table_name`'s only, if given),
        by table name and then oldest first: the latest stream of each table, and the earlier ones whose
        records are still within the retention period (DynamoDB Streams' ListStreams lists a disabled stream
        for 24 hours)."""
        if table_name is not None:
            table_name = _check_table_name(table_name)
        db = self._db
        with db.read() as connection:
            last_ms = self._last_ms(connection)
            rows = connection.execute(
                "SELECT t.name, s.arn FROM streams s JOIN tables t ON t.table_no = s.table_no"
                " WHERE (? IS NULL OR t.name = ?) AND (s.stream_no = t.stream_no OR s.disabled_ms IS NULL"
                " OR s.disabled_ms + t.retention_ms > ?) ORDER BY t.name, s.created_ms, s.stream_no",
                (table_name, table_name, self._now_ms(last_ms)),
            ).fetchall()
        listed = []
        for row in rows:
            name, arn = db.check_row(row, "ss", "a stream")
            listed.append((name, arn, arn.rpartition("/")[2]))
        return listed

    def stream_by_arn(self, arn: str) -> Stream:
        """The stream with ARN `arn`: the latest stream of its table, or an earlier one (disabled) whose
        records are still within the retention period; [`ResourceNotFoundError`][shardline.local.ResourceNotFoundError]
        otherwise."""
        arn = check_text(arn, "a stream ARN")
        db = self._db
        with db.read() as connection:
            now = self._now_ms(self._last_ms(connection))
            row = connection.execute(
                f"SELECT s.stream_no, s.arn, s.view_type, s.disabled_ms, {_TABLE_COLUMNS_T}"
                " FROM streams s JOIN tables t ON t.table_no = s.table_no WHERE s.arn = ?",
                (arn,),
            ).fetchone()
        if row is None:
            raise ResourceNotFoundError(f"Requested resource not found: Stream: {arn} not found")
        stream_no, stream_arn, view_type, disabled_ms = db.check_row(row[:4], "issI", f"stream {arn}")
        table = Table(self, row[4:])
        if stream_no != table._stream_no and disabled_ms is not None and disabled_ms + table.retention_ms <= now:
            raise ResourceNotFoundError(f"Requested resource not found: Stream: {arn} not found")
        return table._stream_of(stream_no, stream_arn, _check_stored_view(db, view_type))

    # -- state for other components -------------------------------------------------------------------

    def get_state(self, namespace: str, key: str) -> str | None:
        """The text stored under `(namespace, key)` by [`set_state`][shardline.local.Store.set_state], or `None`.

        A small durable key-value store in the same database, for components that must remember where
        they are (the event source mapping's checkpoints): committed with the same guarantees as items.
        """
        _check_state_name(namespace, key)
        with self._db.statement() as connection:
            row = connection.execute(
                "SELECT value FROM state WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone()
        if row is None:
            return None
        (value,) = self._db.check_row(row, "s", f"the state entry ({namespace!r}, {key!r})")
        return str(value)

    def set_state(self, namespace: str, key: str, value: str | None) -> None:
        """Store `value` under `(namespace, key)`; `None` deletes it. Committed when this returns,
        or with the enclosing [`transaction`][shardline.local.Store.transaction]."""
        _check_state_name(namespace, key)
        if value is not None and not isinstance(value, str):
            raise ArgumentTypeError(f"state values are text (str) or None, got {type(value).__name__}")
        if value is not None:
            value = check_text(value, "a state value")
        with self._db.write() as connection:
            if value is None:
                connection.execute("DELETE FROM state WHERE namespace = ? AND key = ?", (namespace, key))
            else:
                connection.execute(
                    "INSERT OR REPLACE INTO state (namespace, key, value) VALUES (?, ?, ?)", (namespace, key, value)
                )

    def state_entries(self, prefix: str) -> list[tuple[str, str, str]]:
        """Every `(namespace, key, value)` stored by [`set_state`][shardline.local.Store.set_state] whose namespace
        starts with `prefix`, sorted by namespace then key: how a component lists what it kept (the destination's
        records)."""
        if not isinstance(prefix, str):
            raise ArgumentTypeError(f"a state namespace prefix is text (str), got {type(prefix).__name__}")
        prefix = check_text(prefix, "a state namespace prefix")
        with self._db.read() as connection:
            rows = connection.execute(
                "SELECT namespace, key, value FROM state WHERE substr(namespace, 1, ?) = ? ORDER BY namespace, key",
                (len(prefix), prefix),
            ).fetchall()
        return [
            (str(namespace), str(key), str(value))
            for namespace, key, value in (self._db.check_row(row, "sss", "a state entry") for row in rows)
        ]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make everything done inside the block one atomic commit: state, and table writes with their
        stream records. An exception leaving the block undoes all of it.

        Nested use joins the outer transaction as a savepoint: an exception leaving the inner block undoes
        the inner block's changes only (if the outer block catches it), and nothing is committed until the
        outer block ends. Other threads using this store wait until the block ends.

        Examples:
            >>> store = Store(":memory:")
            >>> with store.transaction():
            ...     store.set_state("mapping", "shard-1", "42")
            ...     store.set_state("mapping", "started", "1")
            >>> store.state_entries("mapping")
            [('mapping', 'shard-1', '42'), ('mapping', 'started', '1')]
            >>> store.close()
        """
        with self._db.write():
            yield

    # -- internals used by Table and Stream ----------------------------------------------------------

    @property
    def _database(self) -> Database:
        return self._db

    def _last_ms(self, connection: sqlite3.Connection) -> int:
        (last_ms,) = self._db.check_row(
            connection.execute("SELECT last_ms FROM counters").fetchone(), "i", "the counters row"
        )
        return int(last_ms)

    def _now_ms(self, last_ms: int) -> int:
        """The clock's time, or the latest time written (`last_ms`) if the clock is behind it."""
        reading = self.clock.now_ms()
        if isinstance(reading, bool) or not isinstance(reading, int):
            raise ArgumentTypeError(f"the store's clock read {reading!r}; a clock tells epoch milliseconds (an int)")
        if not 0 <= reading <= _MAX_MS:
            raise ValidationError(
                f"the store's clock read {reading} ms, outside 0..{_MAX_MS} (1970 to the end of the year 9999)"
            )
        if not 0 <= last_ms <= _MAX_MS:
            raise self._db.damaged(f"the latest time written is {last_ms} ms")
        return max(int(reading), last_ms)


_TABLE_COLUMN_NAMES: Final = (
    "table_no",
    "name",
    "key_schema",
    "view_type",
    "ttl_attribute",
    "shard_count",
    "rollover_ms",
    "retention_ms",
    "created_ms",
    "stream_arn",
    "region",
    "account",
    "stream_enabled",
    "stream_no",
    "indexes",
    "extra",
    "version",
)
_TABLE_COLUMNS: Final = ", ".join(_TABLE_COLUMN_NAMES)
_TABLE_COLUMNS_T: Final = ", ".join(f"t.{column}" for column in _TABLE_COLUMN_NAMES)
_TABLE_KINDS: Final = "isssSiiiisssiIssi"


@final
class Table:
    """A table of a [`Store`][shardline.local.Store]: items in, stream records out.

    Items are plain Python values (`str`, `int`/`Decimal`, `bytes`, `bool`, `None`, sets,
    dicts, lists) checked with DynamoDB's rules; what comes back is decoded the same way (numbers as exact
    `Decimal`). Each write returns the stream record it wrote, or `None` when it changed nothing and
    therefore wrote none, as on [DynamoDB Streams](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html).

    The typed methods ([`read_item`][shardline.local.Table.read_item],
    [`write_images`][shardline.local.Table.write_images], [`query_page`][shardline.local.Table.query_page],
    [`scan_page`][shardline.local.Table.scan_page]) work on typed AttributeValue images, as the DynamoDB endpoint does.
    A table's settings (stream, TTL attribute, indexes) are those of its last [`update`][shardline.local.Table.update];
    a `Table` object notices a change made through another object or process at its next write or page read.

    Examples:
        >>> from shardline.testing import VirtualClock
        >>> store = Store(":memory:", clock=VirtualClock())
        >>> table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"})
        >>> table.put_item({"pk": "order#1", "sk": 1, "qty": 2})["eventName"]
        'INSERT'
        >>> table.update_item({"pk": "order#1", "sk": 1}, set={"qty": 3})["dynamodb"]["OldImage"]["qty"]
        {'N': '2'}
        >>> table.get_item({"pk": "order#1", "sk": 1})
        {'pk': 'order#1', 'sk': Decimal('1'), 'qty': Decimal('3')}
        >>> store.close()

    Attributes:
        name (str): The table's name.
        stream_view_type (str): Which images the records of the latest stream carry: `KEYS_ONLY`, `NEW_IMAGE`,
            `OLD_IMAGE` or `NEW_AND_OLD_IMAGES`.
        stream_arn (str | None): The latest stream's ARN (the current stream, or the last one after the stream
            was disabled: DynamoDB's `LatestStreamArn`); `None` for a table that never had a stream.
        stream_enabled (bool): Whether writes put records on the stream.
        ttl_attribute (str | None): The Number attribute holding an item's expiry in epoch seconds, or `None`.
        shard_count (int): How many shards are open at a time.
        shard_rollover_ms (int): How long a shard stays open before a child shard takes over.
        retention_ms (int): How long records stay on the stream.
        created_ms (int): When the table was created, in epoch milliseconds.
        global_indexes (tuple[IndexSpec, ...]): The table's global secondary indexes.
        local_indexes (tuple[IndexSpec, ...]): The table's local secondary indexes.
    """

    __slots__ = (
        "_account",
        "_extra",
        "_indexes",
        "_layouts",
        "_no",
        "_region",
        "_schema",
        "_sort_type",
        "_store",
        "_stream",
        "_stream_no",
        "_version",
        "created_ms",
        "global_indexes",
        "local_indexes",
        "name",
        "retention_ms",
        "shard_count",
        "shard_rollover_ms",
        "stream_arn",
        "stream_enabled",
        "stream_view_type",
        "ttl_attribute",
    )

    def __init__(self, store: Store, row: Sequence[Any]) -> None:
        self._store = store
        self._stream: Stream | None = None
        self._load(row)

    def _load(self, row: Sequence[Any]) -> None:
        """Take the settings of the table's row (at creation, and again whenever its version changed)."""
        db = self._store._database
        (
            no,
            name,
            schema,
            view_type,
            ttl_attribute,
            shards,
            rollover,
            retention,
            created,
            arn,
            region,
            account,
            enabled,
            stream_no,
            indexes,
            extra,
            version,
        ) = db.check_row(row, _TABLE_KINDS, "a row of the tables table")
        where = f"the row of table {name!r}"
        pairs = db.decode_json(schema, f"the key schema in {where}")
        try:
            if not isinstance(pairs, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
                raise AttributeValueError("not a list of [name, type] pairs")
            checked = dict(_check_key_schema(dict(pairs)))
        except (AttributeValueError, TypeError):  # TypeError: an unhashable name
            raise db.damaged(f"the key schema in {where} is not one shardline writes") from None
        if (
            view_type not in VIEW_TYPES
            or not 1 <= shards <= _MAX_SHARDS
            or rollover < 1
            or retention < 1
            or len(checked) != len(pairs)
            or enabled not in (0, 1)
            or (enabled and (stream_no is None or not arn))
        ):
            raise db.damaged(f"{where} holds settings shardline never writes")
        globals_, locals_ = _stored_indexes(db, indexes, checked, where)
        stored_extra = db.decode_json(extra, f"the metadata in {where}")
        if not isinstance(stored_extra, dict):
            raise db.damaged(f"the metadata in {where} is not an object")
        self._no: int = no
        #: The table's name.
        self.name: str = name
        self._schema: dict[str, str] = checked
        self._sort_type: str | None = list(checked.values())[1] if len(checked) == 2 else None
        #: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES: which images the records of the latest stream
        #: carry.
        self.stream_view_type: str = view_type
        #: The Number attribute holding an item's expiry in epoch seconds, or None.
        self.ttl_attribute: str | None = ttl_attribute
        #: How many shards are open at a time.
        self.shard_count: int = shards
        self.shard_rollover_ms: int = rollover
        self.retention_ms: int = retention
        #: When the table was created, in epoch milliseconds.
        self.created_ms: int = created
        #: `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<creation time>`: the table's latest
        #: stream (the current one, or the last one after the stream was disabled: DynamoDB's
        #: LatestStreamArn); None for a table that never had a stream.
        self.stream_arn: str | None = arn or None
        #: Whether writes put records on the stream (DynamoDB's StreamSpecification.StreamEnabled).
        self.stream_enabled: bool = bool(enabled)
        #: The table's global and local secondary indexes.
        self.global_indexes: tuple[IndexSpec, ...] = tuple(index.spec for index in globals_)
        self.local_indexes: tuple[IndexSpec, ...] = tuple(index.spec for index in locals_)
        self._indexes: dict[str, CompiledIndex] = {index.name: index for index in (*globals_, *locals_)}
        self._extra: dict[str, Any] = stored_extra
        self._stream_no: int | None = stream_no
        self._region: str = region
        self._account: str = account
        self._version: int = version
        self._layouts: dict[tuple[str, bool], str] = {}  # the JSON layout of each kind of record

    @property
    def key_schema(self) -> dict[str, str]:
        """The key attributes and their types, partition key first: `{"pk": "S", "sk": "N"}`."""
        return dict(self._schema)

    @property
    def extra(self) -> dict[str, Any]:
        """A copy of the JSON metadata given to `create_table` or the last [`update`][shardline.local.Table.update] that
        set it."""
        copied: dict[str, Any] = json.loads(_encode_json(self._extra))
        return copied

    @property
    def table_arn(self) -> str:
        """`arn:aws:dynamodb:<region>:<account>:table/<name>`."""
        return f"arn:aws:dynamodb:{self._region}:{self._account}:table/{self.name}"

    @property
    def stream(self) -> Stream:
        """The table's latest stream, read like DynamoDB Streams: `describe_stream`, `get_shard_iterator`,
        `get_records`. [`ResourceNotFoundError`][shardline.local.ResourceNotFoundError] for a table that never had a
        stream."""
        stream = self._stream
        if stream is None or stream._no != self._stream_no:
            if self._stream_no is None or self.stream_arn is None:
                raise ResourceNotFoundError(
                    f"table {self.name!r} has no stream: it was created with the stream disabled"
                )
            stream = self._stream = self._stream_of(self._stream_no, self.stream_arn, self.stream_view_type)
        return stream

    def _stream_of(self, stream_no: int, arn: str, view_type: str) -> Stream:
        if self._stream is not None and self._stream._no == stream_no:
            return self._stream
        return Stream(self, stream_no, arn, view_type)

    def __repr__(self) -> str:
        keys = ", ".join(f"{name} {kind}" for name, kind in self._schema.items())
        stream = self.stream_view_type if self.stream_enabled else "stream disabled"
        return f"<Table {self.name!r} ({keys}) {stream}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return self._store is other._store and self._no == other._no

    def __hash__(self) -> int:
        return hash((id(self._store), self._no))

    # -- settings -------------------------------------------------------------------------------------

    def update(
        self,
        *,
        stream_enabled: bool | None = None,
        stream_view_type: str | None = None,
        ttl_attribute: str | None = _UNSET,
        add_global_indexes: Sequence[IndexSpec] = (),
        remove_global_indexes: Sequence[str] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> Table:
        """Change the table's settings in one commit, as DynamoDB's UpdateTable and UpdateTimeToLive do, and
        return the table (this object, refreshed).

        `stream_enabled=False` disables the stream: its open shards close, and writes produce no records.
        `stream_enabled=True` starts a new stream (a new ARN and label, new shards) with
        `stream_view_type` (default: the last stream's); the old stream stays readable until its records
        pass the retention period. Enabling an enabled stream (DynamoDB cannot change a view type in place)
        or disabling a disabled one is a [`ValidationError`][shardline.local.ValidationError] with DynamoDB's words.

        `ttl_attribute` sets (or with None, clears) the TTL attribute. `add_global_indexes` creates
        indexes, filled from the items the table holds (those whose index key attributes have the wrong
        type or are empty are left out, as DynamoDB's index creation leaves them);
        `remove_global_indexes` deletes indexes by name. `extra` replaces the table's metadata.

        Examples:
            >>> with Store(":memory:") as store:
            ...     table = store.create_table("Orders", key_schema={"pk": "S"})
            ...     first = table.stream_arn
            ...     _ = table.update(stream_enabled=False)
            ...     table.update(stream_enabled=True, stream_view_type="KEYS_ONLY").stream_arn != first
            True
        """
        if stream_enabled is not None and not isinstance(stream_enabled, bool):
            raise ArgumentTypeError(f"stream_enabled must be True, False or None, got {type(stream_enabled).__name__}")
        view_type = None if stream_view_type is None else _check_view_type(stream_view_type)
        if view_type is not None and stream_enabled is not True:
            if stream_enabled is False:
                raise ValidationError(
                    "One or more parameter values were invalid: If stream is being disabled, then UpdateViewType "
                    "must not be specified"
                )
            raise ValidationError(
                "stream_view_type is given with stream_enabled=True only: a stream's view type cannot change in "
                "place (disable the stream, then enable a new one)"
            )
        removed = _remove_index_names(remove_global_indexes)
        extra_text = None if extra is None else _extra_text(extra)
        db = self._store._database
        with self._writer() as writer:  # loads the table's latest settings first
            connection = writer.connection
            if ttl_attribute is not _UNSET:
                ttl_attribute = _check_ttl_attribute(ttl_attribute, self._schema)
            globals_ = [index for index in self._indexes.values() if not index.local]
            for name in removed:
                if name not in {index.name for index in globals_}:
                    raise ResourceNotFoundError(
                        f"Requested resource not found: Index: {name} is not a global secondary index of table "
                        f"{self.name}"
                    )
            kept = [index.spec for index in globals_ if index.name not in removed]
            added, _ = check_indexes(
                self._schema,
                add_global_indexes,
                (),
                existing_global=kept,
                existing_local=self.local_indexes,
                where="globalSecondaryIndexUpdates",
                argument="add_global_indexes",
            )
            for spec in added:
                if spec.name in removed:
                    raise ValidationError(
                        "One or more parameter values were invalid: Only one global secondary index update per "
                        f"index is allowed simultaneously. Index: {spec.name}"
                    )
            if stream_enabled is True:
                if self.stream_enabled:
                    raise ValidationError(f"Table already has an enabled stream: TableName: {self.name}")
                writer.seq = _start_stream(
                    connection,
                    self._no,
                    f"arn:aws:dynamodb:{self._region}:{self._account}:table/{self.name}/stream/",
                    view_type=view_type or self.stream_view_type,
                    shard_count=self.shard_count,
                    now=writer.now,
                    last_seq=writer.seq,
                )
            elif stream_enabled is False:
                if not self.stream_enabled:
                    raise ValidationError(f"Table has no stream to disable: TableName: {self.name}")
                connection.execute(
                    "UPDATE shards SET end_seq = ?, closed_ms = ? WHERE table_no = ? AND end_seq IS NULL",
                    (writer.seq, writer.now, self._no),
                )
                connection.execute(
                    "UPDATE streams SET disabled_ms = ? WHERE stream_no = ?", (writer.now, self._stream_no)
                )
                connection.execute("UPDATE tables SET stream_enabled = 0 WHERE table_no = ?", (self._no,))
            if ttl_attribute is not _UNSET and ttl_attribute != self.ttl_attribute:
                connection.execute("UPDATE tables SET ttl_attribute = ? WHERE table_no = ?", (ttl_attribute, self._no))
                _recompute_expiry(db, connection, self, ttl_attribute)
            for name in removed:
                connection.execute("DELETE FROM index_entries WHERE table_no = ? AND index_name = ?", (self._no, name))
            if removed or added:
                compiled = [compile_index(spec, self._schema, local=False) for spec in added]
                _backfill(db, connection, self, compiled)
                connection.execute(
                    "UPDATE tables SET indexes = ? WHERE table_no = ?",
                    (_indexes_text((*kept, *added), self.local_indexes), self._no),
                )
            if extra_text is not None:
                connection.execute("UPDATE tables SET extra = ? WHERE table_no = ?", (extra_text, self._no))
            connection.execute("UPDATE tables SET version = version + 1 WHERE table_no = ?", (self._no,))
            writer.settings_changed()
            self._refresh(connection)
        return self

    def item_count(self) -> int:
        """How many items the table holds."""
        return self._totals()[0]

    def size_bytes(self) -> int:
        """The sum of the items' sizes, in bytes as DynamoDB counts them (DescribeTable's TableSizeBytes)."""
        return self._totals()[1]

    def _totals(self) -> tuple[int, int]:
        db = self._store._database
        with db.read() as connection:
            self._check_exists(connection)
            row = connection.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM items WHERE table_no = ?", (self._no,)
            ).fetchone()
        count, size = db.check_row(row, "ii", f"the totals of table {self.name!r}")
        return int(count), int(size)

    # -- writes ---------------------------------------------------------------------------------------

    def put_item(self, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """PutItem: store `item`, replacing the item with its key. Returns the INSERT or MODIFY record,
        or `None` when the stored item was equal (numbers by value, sets in any order) or the stream is
        disabled."""
        op = self._put_op(item)
        with self._writer() as writer:
            return writer.apply(op)

    def update_item(
        self,
        key: Mapping[str, Any],
        *,
        set: Mapping[str, Any] | None = None,  # UpdateItem's SET action; shadows the builtin here only
        remove: Iterable[str] | None = None,
    ) -> dict[str, Any] | None:
        """UpdateItem: set and remove top-level attributes of the item with `key`.

        As in DynamoDB, a missing item is created (an INSERT of the key and the attributes set), key
        attributes cannot be set or removed, and setting `None` stores NULL. Returns the record, or
        `None` when nothing changed.
        """
        op = self._update_op(key, set, remove)
        with self._writer() as writer:
            return writer.apply(op)

    def delete_item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """DeleteItem: the REMOVE record, or `None` when there was no such item (and so no record)."""
        op = self._delete_op(self._key(key))
        with self._writer() as writer:
            return writer.apply(op)

    def batch_write(
        self, *, puts: Iterable[Mapping[str, Any]] = (), deletes: Iterable[Mapping[str, Any]] = ()
    ) -> list[dict[str, Any]]:
        """BatchWriteItem: the puts, then the deletes, in one commit. Returns the records written.

        As DynamoDB does, a batch may not touch one item twice ([`ValidationError`][shardline.local.ValidationError]).
        Unlike it, there is no limit of 25 requests, and the batch is atomic: every change is committed or none.
        """
        ops = [self._put_op(item) for item in _iterable(puts, "batch_write: puts", "items")]
        ops.extend(self._delete_op(self._key(key)) for key in _iterable(deletes, "batch_write: deletes", "keys"))
        _check_distinct(ops, self._schema, "batch_write: the batch writes item {key} twice; DynamoDB refuses that")
        with self._writer() as writer:
            writer.prefetch(ops)
            return [record for record in map(writer.apply, ops) if record is not None]

    def transact_write(self, actions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """TransactWriteItems: all the changes and their stream records commit together, or none does.

        Each action is `{"put": item}`, `{"update": {"key": key, "set": {...}, "remove": [...]}}` or
        `{"delete": key}`, in plain values. As in DynamoDB, two actions may not touch one item. Returns the
        records written, in the order of the actions.

        Examples:
            >>> store = Store(":memory:")
            >>> table = store.create_table("Orders", key_schema={"pk": "S"})
            >>> [r["eventName"] for r in table.transact_write([{"put": {"pk": "a"}}, {"delete": {"pk": "b"}}])]
            ['INSERT']
            >>> store.close()
        """
        if isinstance(actions, (str, bytes, Mapping)) or not isinstance(actions, Iterable):
            raise ArgumentTypeError(
                "transact_write takes a list of actions such as [{'put': {...}}, {'delete': {...}}], "
                f"got {_type_name(actions)}"
            )
        ops = [self._action_op(action, index) for index, action in enumerate(actions)]
        _check_distinct(
            ops, self._schema, "transact_write: two actions change item {key}; DynamoDB refuses a transaction that does"
        )
        with self._writer() as writer:
            writer.prefetch(ops)
            return [record for record in map(writer.apply, ops) if record is not None]

    def write_images(
        self, changes: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None]]
    ) -> list[dict[str, Any] | None]:
        """Write typed images in one commit: each change is `(key, image)`, the typed key and the item's new
        typed image, or `(key, None)` to delete it. Returns, for each change, the stream record it wrote,
        or None when it changed nothing or the stream is disabled.

        Each image is checked as DynamoDB checks a PutItem's item (every AttributeValue, the 400 KB limit,
        the key attributes' types and sizes, the index key attributes' types); it must hold the change's key.
        Two changes to one item are a [`ValidationError`][shardline.local.ValidationError]. Inside
        [`Store.transaction`][shardline.local.Store.transaction], a [`read_item`][shardline.local.Table.read_item] and
        the `write_images` that follows are atomic.

        Examples:
            >>> with Store(":memory:") as store:
            ...     table = store.create_table("Orders", key_schema={"pk": "S"})
            ...     [r and r["eventName"] for r in table.write_images([({"pk": {"S": "a"}}, {"pk": {"S": "a"}})])]
            ['INSERT']
        """
        if isinstance(changes, (str, bytes, Mapping)) or not isinstance(changes, Iterable):
            raise ArgumentTypeError(f"write_images takes a list of (key, image) pairs, got {_type_name(changes)}")
        ops = []
        for index, change in enumerate(changes):
            if not isinstance(change, tuple) or len(change) != 2:
                raise ArgumentTypeError(f"write_images: change [{index}] must be a (key, image or None) pair")
            key, image = change
            ops.append(self._change_op(key, image, None))
        return self._write_ops(ops)

    def _write_sized(
        self, changes: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None, int]]
    ) -> list[dict[str, Any] | None]:
        """[`write_images`][shardline.local.Table.write_images] of `(key, image, size)` changes whose images were
        checked and sized by the caller (the endpoint checks every request value as DynamoDB does, and sizes it on the
        way): the AttributeValues are not walked again; the limits and the key are still checked."""
        return self._write_ops([self._change_op(key, image, size) for key, image, size in changes])

    def _change_item(
        self,
        key: Mapping[str, Any],
        decide: Callable[[StoredItem | None], tuple[Mapping[str, Any] | None, int]],
    ) -> dict[str, Any] | None:
        """Read the item with the typed `key` and write what `decide` makes of it, in one transaction:
        `decide` gets the stored item (or None) and returns the new image and its size (checked and sized
        by the caller, as for `_write_sized`), or `(None, 0)` to delete the item; an exception it
        raises writes nothing. Returns the stream record written, or None."""
        model, ref = self._typed_key(key)

        def change(writer: _Writer) -> dict[str, Any] | None:
            image, size, _ = writer.old(ref)
            new, new_size = decide(None if image is None else StoredItem(image, size))
            return writer.apply(self._image_op(new, model, ref, new_size))

        return self._write_with(change)

    def _write_ops(self, ops: list[_Op]) -> list[dict[str, Any] | None]:
        _check_distinct(ops, self._schema, "write_images: two changes to item {key}; DynamoDB refuses that")

        def write(writer: _Writer) -> list[dict[str, Any] | None]:
            if len(ops) > 1:
                writer.prefetch(ops)
            return [writer.apply(op) for op in ops]

        return self._write_with(write)

    def expire_ttl(self, now: datetime | str | int | None = None) -> list[dict[str, Any]]:
        """Delete the items whose TTL attribute is in the past, as DynamoDB's Time to Live does, and return
        their REMOVE records, which carry the DynamoDB service's `userIdentity`
        ([DynamoDB Streams and Time to Live](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html)).

        `now` (epoch milliseconds, a datetime or ISO-8601 text) defaults to the store's clock. An item
        expires when its TTL attribute is a Number of epoch seconds before `now`; like DynamoDB, values
        that are not Numbers, and expiries more than five years before `now`, are ignored. DynamoDB deletes
        expired items in the background, within days; this deletes them when called. With the stream
        disabled, the items are deleted and no records are returned.
        """
        given = None if now is None else _time_ms(now)
        db = self._store._database
        with self._writer() as writer:
            if self.ttl_attribute is None:
                return []
            cutoff = writer.now if given is None else given
            rows = writer.connection.execute(
                "SELECT hash, pk, sk, image FROM items WHERE table_no = ? AND expires_ms < ? AND expires_ms >= ?"
                " ORDER BY expires_ms, hash, pk, sk",
                (self._no, cutoff, cutoff - _TTL_IGNORED_BEFORE_MS),
            ).fetchall()
            records = []
            for row in rows:
                hash_, pk, sk, image = db.check_row(row, "isb.", f"an item of table {self.name!r}")
                key = self._stored_key(image)
                record = writer.apply(_Op("delete", key, (hash_, pk, sk)), ttl=True)
                if record is not None:
                    records.append(record)
            return records

    # -- reads ----------------------------------------------------------------------------------------

    def get_item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The item with `key` (plain values, numbers as Decimal), or `None`."""
        ref = _ref(self._key(key))
        with self._store._database.read() as connection:
            self._check_exists(connection)
            row = connection.execute(_SELECT_ITEM, (self._no, *ref)).fetchone()
        return None if row is None else self._stored_item(row[0])

    def read_item(self, key: Mapping[str, Any]) -> StoredItem | None:
        """The item with the typed `key` (`{"pk": {"S": "a"}}`) as stored, with its size; or None.

        Examples:
            >>> with Store(":memory:") as store:
            ...     table = store.create_table("Orders", key_schema={"pk": "S"})
            ...     _ = table.put_item({"pk": "a", "n": 1})
            ...     table.read_item({"pk": {"S": "a"}})
            StoredItem(image={'pk': {'S': 'a'}, 'n': {'N': '1'}}, size=6)
        """
        return self._read_item(key, texts=False)

    def _read_item(self, key: Mapping[str, Any], *, texts: bool) -> StoredItem | None:
        """[`read_item`][shardline.local.Table.read_item]; with `texts`, the image is a `JSONImage`."""
        _, ref = self._typed_key(key)
        db = self._store._database
        with db.statement() as connection:
            row = connection.execute(_SELECT_ITEM, (self._no, *ref)).fetchone()
            if row is None:
                self._check_exists(connection)
                return None
        return self._stored(row[0], row[1], texts=texts)

    def scan(self) -> list[dict[str, Any]]:
        """Every item, in the table's Scan order (by partition key hash: do not rely on any order)."""
        with self._store._database.read() as connection:
            self._check_exists(connection)
            rows = connection.execute(
                "SELECT image FROM items WHERE table_no = ? ORDER BY hash, pk, sk", (self._no,)
            ).fetchall()
        return [self._stored_item(image) for (image,) in rows]

    def query(self, partition_value: Any) -> list[dict[str, Any]]:
        """The items whose partition key is `partition_value`, in sort key order as DynamoDB sorts
        (numbers by value, strings and binaries by their bytes)."""
        ((name, kind), *_) = self._schema.items()
        typed = key_image({name: partition_value}, {name: kind})
        ((tag, text),) = model_key(typed, {name: kind})
        with self._store._database.read() as connection:
            self._check_exists(connection)
            rows = connection.execute(
                "SELECT image FROM items WHERE table_no = ? AND hash = ? AND pk = ? ORDER BY sk",
                (self._no, partition_hash(tag, text), text),
            ).fetchall()
        return [self._stored_item(image) for (image,) in rows]

    def query_page(
        self,
        partition: Mapping[str, Any],
        *,
        index: str | None = None,
        sort: tuple[Any, ...] | None = None,
        forward: bool = True,
        exclusive_start_key: Mapping[str, Any] | None = None,
        limit: int | None = None,
        byte_limit: int = PAGE_BYTES,
    ) -> Page:
        """One page of a Query: the items (of the table, or of `index`) whose partition key is the typed
        value `partition` (`{"S": "a"}`), in DynamoDB's order of the sort key (numbers by value, strings
        by UTF-8 bytes, binaries by unsigned bytes; on an index, items with equal index keys by the table's
        key), backwards if `forward` is False.

        `sort` narrows the sort key: `("=", v)`, `("<", v)`, `("<=", v)`, `(">", v)`, `(">=", v)`,
        `("BETWEEN", low, high)` or `("begins_with", v)` with typed values of the sort key's type.
        `exclusive_start_key` (a page's `last_evaluated_key`) resumes strictly after that key in the
        direction read. The page ends after `limit` items, or with the item that brings the items read to
        `byte_limit` bytes (that item was read, so it is part of the page). Either way the page carries a
        `last_evaluated_key`, even when no item follows, as DynamoDB's [Query](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html)
        does: a `last_evaluated_key` does not promise more items, only `None` says the end was reached.

        Index pages hold the items as the index projects them, sized as projected.
        """
        return self._query_page(partition, index, sort, forward, exclusive_start_key, limit, byte_limit, texts=False)

    def _query_page(  # noqa: PLR0917 - query_page's arguments, in its order
        self,
        partition: Mapping[str, Any],
        index: str | None,
        sort: tuple[Any, ...] | None,
        forward: bool,
        exclusive_start_key: Mapping[str, Any] | None,
        limit: int | None,
        byte_limit: int,
        *,
        texts: bool,
    ) -> Page:
        """[`query_page`][shardline.local.Table.query_page]; with `texts`, the images are `JSONImage`."""
        compiled = self._index(index)
        _check_page_limits(limit, byte_limit)
        if not isinstance(forward, bool):
            raise ArgumentTypeError(f"forward must be True or False, got {type(forward).__name__}")
        if compiled is None:
            partition_type = next(iter(self._schema.values()))
            sort_name, sort_type = (list(self._schema.items())[1]) if self._sort_type else (None, None)
        else:
            partition_type = compiled.partition_type
            sort_name, sort_type = compiled.sort_name, compiled.sort_type
        text = _typed_value(partition, partition_type, "the partition key value")
        ihash = partition_hash(partition_type, text)
        bounds = _sort_bounds(sort, sort_type, sort_name)
        start = None
        if exclusive_start_key is not None:
            start = self._start_key(exclusive_start_key, compiled)
            if start[0] != ihash or start[1] != text or not _within(start[2], bounds):
                raise ValidationError(_START_KEY_OUTSIDE)
        if compiled is None:
            sql = _ITEM_ROWS + " AND i.hash = ? AND i.pk = ?"
            params: list[Any] = [self._no, ihash, text]
            order_columns = "i.sk"
            start_values: tuple[Any, ...] = () if start is None else (start[2],)
        else:
            sql = _INDEX_ROWS + " AND e.ihash = ? AND e.ipk = ?"
            params = [self._no, compiled.name, ihash, text]
            order_columns = "e.isk, e.pko, e.sk"
            start_values = () if start is None else start[2:]
        column = order_columns.split(",")[0]
        if bounds is None:
            return Page([], None)
        low, low_inclusive, high, high_inclusive = bounds
        if low is not None:
            sql += f" AND {column} {'>=' if low_inclusive else '>'} ?"
            params.append(low)
        if high is not None:
            sql += f" AND {column} {'<=' if high_inclusive else '<'} ?"
            params.append(high)
        return self._page(
            sql,
            params,
            order_columns=order_columns,
            start_values=start_values,
            forward=forward,
            compiled=compiled,
            limit=limit,
            byte_limit=byte_limit,
            texts=texts,
        )

    def scan_page(
        self,
        *,
        index: str | None = None,
        segment: int = 0,
        total_segments: int = 1,
        exclusive_start_key: Mapping[str, Any] | None = None,
        limit: int | None = None,
        byte_limit: int = PAGE_BYTES,
    ) -> Page:
        """One page of a Scan of the table or of `index`: the items of segment `segment` of
        `total_segments` (a parallel scan's segments partition the items by a hash of their partition
        key), in a stable order, resuming strictly after `exclusive_start_key`. Pages end as
        [`query_page`][shardline.local.Table.query_page]'s do.
        """
        return self._scan_page(index, segment, total_segments, exclusive_start_key, limit, byte_limit, texts=False)

    def _scan_page(  # noqa: PLR0917 - scan_page's arguments, in its order
        self,
        index: str | None,
        segment: int,
        total_segments: int,
        exclusive_start_key: Mapping[str, Any] | None,
        limit: int | None,
        byte_limit: int,
        *,
        texts: bool,
    ) -> Page:
        """[`scan_page`][shardline.local.Table.scan_page]; with `texts`, the images are `JSONImage`."""
        compiled = self._index(index)
        _check_page_limits(limit, byte_limit)
        _check_count("total_segments", total_segments, 1, _MAX_SEGMENTS)
        _check_count("segment", segment, 0, _MAX_SEGMENTS - 1)
        if segment >= total_segments:
            raise ValidationError(
                f"The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: "
                f"{segment} is not less than TotalSegments: {total_segments}"
            )
        low = -(-segment * _HASH_SPACE // total_segments)
        high = -(-(segment + 1) * _HASH_SPACE // total_segments)
        start_values: tuple[Any, ...] = ()
        if compiled is None:
            sql = _ITEM_ROWS + " AND i.hash >= ? AND i.hash < ?"
            params: list[Any] = [self._no, low, high]
            order_columns = "i.hash, i.pk, i.sk"
        else:
            sql = _INDEX_ROWS + " AND e.ihash >= ? AND e.ihash < ?"
            params = [self._no, compiled.name, low, high]
            order_columns = "e.ihash, e.ipk, e.isk, e.pko, e.sk"
        if exclusive_start_key is not None:
            start = self._start_key(exclusive_start_key, compiled)
            if not low <= start[0] < high:
                raise ValidationError(
                    "The provided Exclusive start key does not map to the provided Segment and TotalSegments values."
                )
            start_values = start if compiled is not None else (start[0], start[1], start[2])
        return self._page(
            sql,
            params,
            order_columns=order_columns,
            start_values=start_values,
            forward=True,
            compiled=compiled,
            limit=limit,
            byte_limit=byte_limit,
            texts=texts,
        )

    # -- internals ------------------------------------------------------------------------------------

    def _page(
        self,
        sql: str,
        params: list[Any],
        *,
        order_columns: str,
        start_values: tuple[Any, ...],
        forward: bool,
        compiled: CompiledIndex | None,
        limit: int | None,
        byte_limit: int,
        texts: bool,
    ) -> Page:
        """Read a page: rows in `order_columns` order after `start_values`, until `limit` items or
        `byte_limit` bytes."""
        direction = "" if forward else " DESC"
        if start_values:
            marks = ", ".join("?" * len(start_values))
            sql += f" AND ({order_columns}) {'>' if forward else '<'} ({marks})"
            params.extend(start_values)
        sql += " ORDER BY " + ", ".join(column + direction for column in order_columns.split(", "))
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        db = self._store._database
        items: list[StoredItem] = []
        total = 0
        cut = False
        with db.read() as connection:
            self._check_exists(connection)
            cursor = connection.execute(sql, params)
            for row in cursor:
                item = self._stored(row[1], row[2], texts=texts)
                if compiled is not None and compiled.kept is not None:
                    image = compiled.project(item.image)
                    item = StoredItem(image, encoded_item_size(image))
                items.append(item)
                total += item.size
                if total >= byte_limit or (limit is not None and len(items) >= limit):
                    cut = True
                    break
        if not cut or not items:
            return Page(items, None)
        return Page(items, self._last_key(items[-1].image, compiled))

    def _last_key(self, image: Mapping[str, Any], compiled: CompiledIndex | None) -> dict[str, Any]:
        names = list(self._schema)
        if compiled is not None:
            names.extend(name for name in compiled.spec.key_schema if name not in names)
        try:
            return {name: dict(image[name]) for name in names}
        except KeyError:
            raise self._store._database.damaged(
                f"an item of table {self.name!r} lacks a key attribute of its index entry"
            ) from None

    def _index(self, index: object) -> CompiledIndex | None:
        if index is None:
            return None
        if not isinstance(index, str):
            raise ArgumentTypeError(f"index must be an index name (str) or None, got {type(index).__name__}")
        self._refresh_if_changed()
        compiled = self._indexes.get(index)
        if compiled is None:
            shown = index if index.isprintable() else repr(index)
            raise ValidationError(f"The table does not have the specified index: {shown}")
        return compiled

    def _start_key(self, key: object, compiled: CompiledIndex | None) -> tuple[Any, ...]:
        """The row position of an ExclusiveStartKey: (hash, pk text, sk bytes) of the table, or (ihash, ipk,
        isk, pko, sk) of an index."""
        if not isinstance(key, Mapping):
            raise ArgumentTypeError(f"exclusive_start_key must be a typed key (a mapping), got {_type_name(key)}")
        wanted = dict(self._schema)
        if compiled is not None:
            wanted.update(compiled.spec.key_schema)
        if len(key) != len(wanted) or any(name not in key for name in wanted):
            raise ValidationError(_BAD_START_KEY)
        texts = {}
        for name, kind in wanted.items():
            av = key[name]
            if not isinstance(av, Mapping) or len(av) != 1 or kind not in av:
                raise ValidationError(_BAD_START_KEY)
            texts[name] = _typed_value(av, kind, f"exclusive_start_key {name}")
        (partition_name, partition_type), *rest = self._schema.items()
        pk = texts[partition_name]
        sk = order_bytes(rest[0][1], texts[rest[0][0]]) if rest else b""
        if compiled is None:
            return (partition_hash(partition_type, pk), pk, sk)
        ipk = texts[compiled.partition_name]
        isk = b""
        if compiled.sort_name is not None and compiled.sort_type is not None:
            isk = order_bytes(compiled.sort_type, texts[compiled.sort_name])
        return (partition_hash(compiled.partition_type, ipk), ipk, isk, order_bytes(partition_type, pk), sk)

    def _typed_key(self, key: object) -> tuple[ModelKey, _Ref]:
        """The model key and row key of a typed key image, checked as DynamoDB checks a request's Key (the
        key attributes exactly, of the schema's types, not empty, within the size limits) and refusing
        values not in DynamoDB's normalised form (the endpoint normalises what it receives)."""
        if not isinstance(key, Mapping):
            raise ArgumentTypeError(f"a key must be a typed key image (a mapping), got {_type_name(key)}")
        schema = self._schema
        if len(key) != len(schema):
            raise ValidationError("The provided key element does not match the schema")
        parts = []
        for position, (name, kind) in enumerate(schema.items()):
            av = key.get(name) if name in key else None
            if not isinstance(av, Mapping) or len(av) != 1 or kind not in av:
                raise ValidationError("The provided key element does not match the schema")
            text = av[kind]
            if not _plain(kind, text) or (kind == "S" and not 0 < len(text) <= (2048 if position == 0 else 1024)):
                text = _typed_value(av, kind, name)
                check_item_limits({name: {kind: text}}, 0, ((name, kind),))  # not empty, at most 2048 bytes
                if position == 1:
                    _check_sort_key_size(name, kind, text)
            parts.append((kind, text))
        model: ModelKey = tuple(parts)
        return model, _ref(model)

    def _change_op(self, key: object, image: object, size: int | None) -> _Op:
        model, ref = self._typed_key(key)
        return self._image_op(image, model, ref, size)

    def _image_op(self, image: object, model: ModelKey, ref: _Ref, size: int | None = None) -> _Op:
        """The change writing `image` (None: deleting the item) under the key; `size` is the image's size
        when the caller checked and sized it already, None to check every AttributeValue here."""
        if image is None:
            return _Op("delete", model, ref)
        if not isinstance(image, Mapping):
            raise ArgumentTypeError(f"an image must be a typed item (a mapping), got {_type_name(image)}")
        if size is None:
            size = item_size(image)  # every AttributeValue checked, with its path in the error
        check_item_limits(image, size, self._schema.items())
        for name, (tag, text) in zip(self._schema, model, strict=True):
            av = image[name]
            if av.get(tag) != text:
                raise ValidationError(
                    f"the image's key attribute {name} differs from the change's key; an image holds its own key"
                )
        copied = dict(image)
        try:
            text = _encode_json(copied)
        except (TypeError, ValueError):
            raise ArgumentTypeError("an image is made of dicts, lists, str and bool, as JSON is") from None
        return _Op("put", model, ref, copied, size, None, text)

    def _put_op(self, item: Mapping[str, Any]) -> _Op:
        # The codec refuses what DynamoDB would (text with a lone surrogate included) before SQLite sees it.
        image, size = item_image(item, self._schema)
        model = model_key(image, self._schema)
        return _Op("put", model, _ref(model), image, size, None, _encode_json(image))

    def _delete_op(self, model: ModelKey) -> _Op:
        return _Op("delete", model, _ref(model))

    def _key(self, key: Mapping[str, Any]) -> ModelKey:
        """The model key of a plain key, checked as DynamoDB checks a request's Key."""
        return model_key(key_image(key, self._schema), self._schema)

    def _update_op(self, key: Mapping[str, Any], set: Mapping[str, Any] | None, remove: Iterable[str] | None) -> _Op:
        model = self._key(key)
        names = _remove_names(remove)
        if set is not None and not isinstance(set, Mapping):
            raise AttributeTypeError(f"set must be a mapping of attribute names to values, got {_type_name(set)}")
        for name in (*(set or ()), *names):
            if name in self._schema:
                # UpdateItem's ValidationException (DynamoDB API reference, UpdateItem).
                raise ValidationError(
                    f"One or more parameter values were invalid: Cannot update attribute {name}. "
                    "This attribute is part of the key"
                )
        overlap = sorted(str(name) for name in (set or ()) if name in names)
        if overlap:
            raise ValidationError(
                "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite "
                f"one of these paths; path one: [{overlap[0]}], path two: [{overlap[0]}]"
            )
        update = parse_update(set, names, self._schema)
        return _Op("update", model, _ref(model), keys_of(model, self._schema), 0, update)

    def _stored_item(self, text: object) -> dict[str, Any]:
        """An item as read back from the file; a damaged one is a StoreError, not a codec error."""
        db = self._store._database
        image = db.decode_json(text, f"an item of table {self.name!r}")
        try:
            if not isinstance(image, dict):
                raise AttributeValueError("not an object")
            return deserialize_item(image)
        except AttributeValueError as exc:
            raise db.damaged(f"an item of table {self.name!r} is not one shardline writes: {exc}") from None

    def _stored(self, text: object, size: object, *, texts: bool = False) -> StoredItem:
        """A typed item and its size as read back from the file; with `texts`, the image is a
        `JSONImage` holding `text` too."""
        db = self._store._database
        what = f"an item of table {self.name!r}"
        image = db.decode_json(text, what)
        if not isinstance(image, dict) or type(size) is not int:
            raise db.damaged(f"{what} is not one shardline writes")
        if texts and type(text) is str and text.isascii():
            image = JSONImage(image)
            image.text = text
        return StoredItem(image, size)

    def _stored_key(self, text: object) -> ModelKey:
        """The model key of an item read back from the file."""
        image = self._stored(text, 0).image
        try:
            model = model_key(image, self._schema)
            if not all(type(part) is str for _, part in model) or [tag for tag, _ in model] != list(
                self._schema.values()
            ):
                raise TypeError
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._store._database.damaged(f"an item of table {self.name!r} lacks its key") from None
        return model

    def _action_op(self, action: object, index: int) -> _Op:
        where = f"transact_write: action [{index}]"
        if not isinstance(action, Mapping) or len(action) != 1:
            raise ValidationError(f'{where}: expected {{"put": item}}, {{"update": {{...}}}} or {{"delete": key}}')
        ((kind, body),) = action.items()
        if kind not in _ACTIONS:
            raise ValidationError(f"{where}: unknown action {kind!r}; expected put, update or delete")
        if not isinstance(body, Mapping):
            raise ValidationError(f"{where}: {kind} takes an object, got {_type_name(body)}")
        if kind == "put":
            return self._put_op(body)
        if kind == "delete":
            return self._delete_op(self._key(body))
        unknown = sorted(str(name) for name in body if name not in _UPDATE_FIELDS)
        if unknown:
            raise ValidationError(f"{where}: unknown update field {unknown[0]!r}; expected key, set and remove")
        if "key" not in body:
            raise ValidationError(f'{where}: the update lacks its "key"')
        return self._update_op(body["key"], body.get("set"), body.get("remove"))

    @contextmanager
    def _writer(self, *, force_trim: bool = False) -> Iterator[_Writer]:
        with self._store._database.write() as connection:
            writer = _Writer(self, connection, force_trim=force_trim)
            yield writer
            writer.flush()

    def _write_with(self, work: Callable[[_Writer], _T]) -> _T:
        """`_writer` for a function (one context manager fewer on the way of every write)."""
        with self._store._database.write() as connection:
            writer = _Writer(self, connection, force_trim=False)
            result = work(writer)
            writer.flush()
        return result

    def _check_exists(self, connection: sqlite3.Connection) -> None:
        """Raise if the table was deleted; take its settings again if they changed since they were read."""
        cache = self._store._database.cache(connection)
        version = cache.get(("version", self._no))
        if version is None:
            row = connection.execute("SELECT version FROM tables WHERE table_no = ?", (self._no,)).fetchone()
            if row is None:
                raise self._gone()
            version = cache["version", self._no] = row[0]
        if version != self._version:
            self._refresh(connection)

    def _refresh(self, connection: sqlite3.Connection) -> None:
        row = connection.execute(f"SELECT {_TABLE_COLUMNS} FROM tables WHERE table_no = ?", (self._no,)).fetchone()
        if row is None:
            raise self._gone()
        self._load(row)

    def _refresh_if_changed(self) -> None:
        with self._store._database.statement() as connection:
            self._check_exists(connection)

    def _gone(self) -> ResourceNotFoundError:
        return ResourceNotFoundError(f"table {self.name!r} was deleted from {self._store.path}")

    def _maintain_if_due(self) -> int:
        """Roll over shards whose time is up, even when nobody writes; return the time."""
        db = self._store._database
        with db.read() as connection:
            row = connection.execute(
                "SELECT c.last_ms, (SELECT min(created_ms) FROM shards s WHERE s.table_no = t.table_no"
                " AND s.end_seq IS NULL) FROM tables t, counters c WHERE t.table_no = ?",
                (self._no,),
            ).fetchone()
            if row is None:
                raise self._gone()
        last_ms, oldest_open = db.check_row(row, "iI", "the counters row")
        now = self._store._now_ms(last_ms)
        if oldest_open is not None and oldest_open + self.shard_rollover_ms <= now:
            with self._writer():
                pass
        return now


@final
class _Writer:
    """One write transaction on one table: the time, the sequence counter, the open shards, and the
    changes and records to commit. Rolls shards over and trims old records first, when they are due."""

    __slots__ = (
        "_cache",
        "_db",
        "_items",
        "_olds",
        "_read",
        "_records",
        "_shards",
        "_stored",
        "_table",
        "_trimmed_ms",
        "connection",
        "now",
        "seq",
    )

    def __init__(self, table: Table, connection: sqlite3.Connection, *, force_trim: bool) -> None:
        self._table = table
        self.connection = connection
        self._db = db = table._store._database
        # The counters, the table's version, trim point and open shards as the last write left them, while
        # nothing else wrote to the file since (Database.cache); read from the file otherwise.
        cache = db.cache(connection)
        self._cache: dict[Any, Any] | None = cache
        counters = cache.get("counters")
        version = cache.get(("version", table._no))
        state = cache.get(("shards", table._no))
        if counters is None or version is None or state is None:
            row = connection.execute(
                "SELECT t.trimmed_ms, t.version, c.last_seq, c.last_ms FROM tables t, counters c WHERE t.table_no = ?",
                (table._no,),
            ).fetchone()
            if row is None:
                raise table._gone()
            trimmed_ms, version, seq, last_ms = db.check_row(row, "iiii", "the counters row")
            cache["version", table._no] = version
            shards = None
        else:
            seq, last_ms = counters
            trimmed_ms, shards = state
        self.seq: int = seq
        if version != table._version:  # settings changed through another Table object or process
            table._refresh(connection)
        if not 0 <= self.seq <= INT64_MAX // 2:  # half of SQLite's range: room for any write's records
            raise db.damaged(f"the sequence counter is {self.seq}")
        self.now: int = table._store._now_ms(last_ms)
        self._trimmed_ms: int = trimmed_ms
        # row key -> the item's image (None: deleted), size, key and JSON text, as this transaction leaves it
        self._items: dict[_Ref, tuple[dict[str, Any] | None, int, ModelKey, str | None]] = {}
        self._olds: dict[_Ref, dict[str, Any] | None] = {}  # the items as the transaction found them (indexes)
        self._records: list[tuple[int, int, int, str]] = []
        self._stored: dict[_Ref, tuple[str, int] | None] = {}  # prefetched rows (None: no item)
        self._read: dict[_Ref, tuple[dict[str, Any] | None, int, str | None]] = {}  # stored items decoded
        self._shards: dict[int, tuple[int, int, str]] = self._open_shards() if shards is None else shards
        rollover = table.shard_rollover_ms
        if any(created + rollover <= self.now for _, created, _ in self._shards.values()):
            self._roll_over()
            self._shards = self._open_shards()
        if force_trim or self.now - table.retention_ms - trimmed_ms >= _TRIM_EVERY_MS:
            self._trim(trimmed_ms)

    def settings_changed(self) -> None:
        """The transaction changes the table's settings or its stream: nothing it read may be cached."""
        self._db.forget()
        self._cache = None

    def _open_shards(self) -> dict[int, tuple[int, int, str]]:
        table, db = self._table, self._db
        rows = self.connection.execute(
            "SELECT slot, shard_no, created_ms, shard_id FROM shards WHERE table_no = ? AND end_seq IS NULL",
            (table._no,),
        ).fetchall()
        shards = {}
        for row in rows:
            slot, shard_no, created, shard_id = db.check_row(row, "iiis", f"a shard of table {table.name!r}")
            shards[slot] = (shard_no, created, shard_id)
        # Each slot has exactly one open shard while the stream is enabled: a rollover closes one and opens
        # its child in the same transaction; disabling the stream closes them all.
        count = table.shard_count if table.stream_enabled else 0
        if len(rows) != count or set(shards) != set(range(count)):
            raise db.damaged(f"the open shards of table {table.name!r} do not match its shard count")
        return shards

    def _roll_over(self) -> None:
        """Close each shard whose time is up and open its child, as DynamoDB does about every 4 hours.

        Each generation lives exactly `shard_rollover_ms` of clock time. When the clock jumped several
        periods, the generations in between are created too (empty, closed), except those already past
        the retention, which no reader could ever see.
        """
        table, connection, now = self._table, self.connection, self.now
        rollover, horizon = table.shard_rollover_ms, now - table.retention_ms
        for slot, (shard_no, created, shard_id) in sorted(self._shards.items()):
            periods = (now - created) // rollover
            if periods < 1:
                continue
            connection.execute(
                "UPDATE shards SET end_seq = ?, closed_ms = ? WHERE shard_no = ?",
                (self.seq, created + rollover, shard_no),
            )
            parent = shard_id
            # Generation g lives from created + g * rollover for one period; those closed by the horizon are
            # skipped (computed, not counted out: a clock can jump by years of 1 ms periods), the last is open.
            first = max(1, (horizon - created) // rollover, periods - _MAX_GAP_GENERATIONS + 1)
            for generation in range(first, periods + 1):
                start = created + generation * rollover
                last = generation == periods
                self.seq += 1
                assert table.stream_arn is not None  # open shards: a stream
                assert table._stream_no is not None
                parent = _insert_shard(
                    connection,
                    table._no,
                    table._stream_no,
                    table.stream_arn,
                    slot=slot,
                    parent=parent,
                    created_ms=start,
                    start_seq=self.seq,
                    closed_ms=None if last else start + rollover,
                )

    def _trim(self, trimmed_ms: int) -> None:
        """Delete the records older than the retention (they are invisible already) from the file."""
        table, connection = self._table, self.connection
        horizon = self.now - table.retention_ms
        # Shards closed before the previous trim's horizon have no records left.
        shards = connection.execute(
            "SELECT shard_no FROM shards WHERE table_no = ? AND (closed_ms IS NULL OR closed_ms >= ?)",
            (table._no, trimmed_ms),
        ).fetchall()
        for row in shards:
            (shard_no,) = self._db.check_row(row, "i", f"a shard of table {table.name!r}")
            last = None
            while True:
                # After `last`: each pass reads further on, so the loop ends even if a damaged file kept rows.
                rows = [
                    self._db.check_row(row, "ii", f"a record of table {table.name!r}")
                    for row in connection.execute(
                        "SELECT seq, created_ms FROM records WHERE shard_no = ? AND seq > ? ORDER BY seq LIMIT ?",
                        (shard_no, -1 if last is None else last, _TRIM_CHUNK),
                    ).fetchall()
                ]
                expired = 0
                for _, created in rows:  # records are in time order: the expired ones come first
                    if created >= horizon:
                        break
                    expired += 1
                if not expired:
                    break
                last = rows[expired - 1][0]
                connection.execute("DELETE FROM records WHERE shard_no = ? AND seq <= ?", (shard_no, last))
                if expired < len(rows):
                    break
            if last is not None:
                connection.execute(
                    "UPDATE shards SET trimmed_seq = max(trimmed_seq, ?) WHERE shard_no = ?", (last, shard_no)
                )
        connection.execute("UPDATE tables SET trimmed_ms = ? WHERE table_no = ?", (horizon, table._no))
        self._trimmed_ms = horizon

    def prefetch(self, ops: Sequence[_Op]) -> None:
        """Read the stored items a batch changes with a query per few hundred items, not one per item."""
        wanted = [ref for ref in {op.ref for op in ops} if ref not in self._items]
        connection, table_no = self.connection, self._table._no
        for first in range(0, len(wanted), _PREFETCH_CHUNK):
            chunk = wanted[first : first + _PREFETCH_CHUNK]
            values = ", ".join(["(?, ?, ?)"] * len(chunk))
            rows = connection.execute(
                f"SELECT i.hash, i.pk, i.sk, i.image, i.size FROM (VALUES {values}) AS v JOIN items AS i"
                " ON i.table_no = ? AND i.hash = v.column1 AND i.pk = v.column2 AND i.sk = v.column3",
                (*(value for ref in chunk for value in ref), table_no),
            )
            for row in rows:  # the image and its size are checked when used (old)
                hash_, pk, sk, image, size = self._db.check_row(row, "isb..", f"an item of table {self._table.name!r}")
                self._stored[hash_, pk, sk] = (image, size)
            self._stored.update((ref, None) for ref in chunk if ref not in self._stored)

    def old(self, ref: _Ref) -> tuple[dict[str, Any] | None, int, str | None]:
        """The item stored under `ref` (as written earlier in this transaction, or in the database):
        its image, size and JSON text."""
        pending = self._items.get(ref)
        if pending is not None:
            return pending[0], pending[1], pending[3]
        read = self._read.get(ref)
        if read is not None:
            return read
        if ref in self._stored:
            row = self._stored[ref]
        else:
            row = self.connection.execute(_SELECT_ITEM, (self._table._no, *ref)).fetchone()
        if row is None:
            read = (None, 0, None)
        else:
            what = f"an item of table {self._table.name!r}"
            text, size = self._db.check_row(row, "si", what)
            image = self._db.decode_json(text, what)
            if not isinstance(image, dict):
                raise self._db.damaged(f"{what} is not an object")
            read = (image, size, text)
        self._read[ref] = read
        return read

    def apply(self, op: _Op, *, ttl: bool = False) -> dict[str, Any] | None:
        """Apply one change; return the record it wrote, or None when it changed nothing (or the stream is
        disabled)."""
        table = self._table
        ref = op.ref
        old, old_size, old_text = self.old(ref)
        if op.kind == "put":
            new, new_size, new_text = op.image, op.size, op.text
        elif op.kind == "update":
            assert op.image is not None
            assert op.update is not None
            if old is not None:
                self._check_stored(old, old_size)
            new, new_size = apply_update(old, op.image, op.update, table._schema)
            new_text = None
        else:
            new, new_size, new_text = None, 0, None
        name = event_name(old, new)
        if name is None:
            return None
        if new is not None and table._indexes:
            for index in table._indexes.values():
                problem = index_key_problem(index, new)
                if problem is not None:
                    raise ValidationError(problem)
        if new is not None and new_text is None:
            new_text = _encode_json(new)
        if ref not in self._olds:
            self._olds[ref] = old
        self._items[ref] = (new, new_size, op.key, new_text)
        if not table.stream_enabled:
            return None
        self.seq += 1
        keys = keys_of(op.key, table._schema)
        assert table.stream_arn is not None  # an enabled stream has its ARN
        record = stream_record(
            name,
            keys,
            new,
            old,
            view_type=table.stream_view_type,
            sequence_number=sequence_text(self.seq),
            created_ms=self.now,
            event_id=os.urandom(16).hex(),
            region=table._region,
            source_arn=table.stream_arn,
            ttl=ttl,
            new_size=new_size,
            old_size=old_size,
        )
        shard_no = self._shards[_slot(op.key, table.shard_count)][0]
        layout = table._layouts.get((name, ttl))
        if layout is None:
            layout = table._layouts[name, ttl] = _record_layout(table, name, ttl)
        body = _record_text(layout, record, _encode_json(keys), new_text, old_text)
        self._records.append((self.seq, shard_no, self.now, body))
        return record

    def _check_stored(self, image: dict[str, Any], size: int) -> None:
        """An update builds on the stored item: it must be an item shardline could have written."""
        try:
            valid = item_size(image) == size
        except AttributeValueError:
            valid = False
        if not valid:
            raise self._db.damaged(f"an item of table {self._table.name!r} is not one shardline writes")

    def flush(self) -> None:
        table = self._table
        connection, table_no = self.connection, table._no
        ttl_attribute = table.ttl_attribute
        upserts = []
        deletes = []
        for ref, (image, size, _, text) in self._items.items():
            if image is None:
                deletes.append((table_no, *ref))
            else:
                expires = _expiry_ms(image.get(ttl_attribute)) if ttl_attribute is not None else None
                upserts.append((table_no, *ref, text, size, expires))
        if deletes:
            connection.executemany(_DELETE_ITEM, deletes)
        if upserts:
            connection.executemany(_UPSERT_ITEM, upserts)
        if table._indexes and self._items:
            self._flush_indexes()
        if self._records:
            connection.executemany(_INSERT_RECORD, self._records)
        connection.execute("UPDATE counters SET last_seq = ?, last_ms = ?", (self.seq, self.now))
        cache = self._cache
        if cache is not None:
            cache["counters"] = (self.seq, self.now)
            cache["shards", table_no] = (self._trimmed_ms, self._shards)

    def _flush_indexes(self) -> None:
        """Keep every index's entries in step with the items this transaction changed."""
        table = self._table
        removed = []
        added = []
        partition_type = next(iter(table._schema.values()))
        for ref, (image, _, _, _) in self._items.items():
            old = self._olds.get(ref)
            pko = order_bytes(partition_type, ref[1])
            for index in table._indexes.values():
                before = _entry(index, old)
                after = _entry(index, image)
                if before == after:
                    continue
                if before is not None:
                    removed.append((table._no, index.name, *before, pko, ref[2]))
                if after is not None:
                    added.append((table._no, index.name, *after, pko, ref[2], ref[0], ref[1]))
        if removed:
            self.connection.executemany(_DELETE_ENTRY, removed)
        if added:
            self.connection.executemany(_INSERT_ENTRY, added)


def _entry(index: CompiledIndex, image: Mapping[str, Any] | None) -> tuple[int, str, bytes] | None:
    """An item's place in an index: its index partition hash and text and its index sort key's order bytes;
    None when the item is not in the index (it lacks a key attribute of the index, or has one of another
    type: a sparse index)."""
    if image is None:
        return None
    av = image.get(index.partition_name)
    if av is None or len(av) != 1:
        return None
    text = av.get(index.partition_type)
    if not isinstance(text, str) or not text:
        return None
    sort = b""
    if index.sort_name is not None and index.sort_type is not None:
        sort_av = image.get(index.sort_name)
        if sort_av is None or len(sort_av) != 1:
            return None
        sort_text = sort_av.get(index.sort_type)
        if not isinstance(sort_text, str) or not sort_text:
            return None
        sort = order_bytes(index.sort_type, sort_text)
    return (partition_hash(index.partition_type, text), text, sort)


def _insert_shard(
    connection: sqlite3.Connection,
    table_no: int,
    stream_no: int,
    stream_arn: str,
    *,
    slot: int,
    parent: str | None,
    created_ms: int,
    start_seq: int,
    closed_ms: int | None = None,
) -> str:
    # DynamoDB shard IDs look like "shardId-00000001596128400000-6a0e9c11": the creation time in
    # milliseconds, then 8 hex digits (here a digest of what makes the shard unique).
    digest = blake2b(f"{stream_arn}|{slot}|{start_seq}".encode(), digest_size=4).hexdigest()
    shard_id = f"shardId-{created_ms:020d}-{digest}"
    connection.execute(
        "INSERT INTO shards (table_no, stream_no, slot, shard_id, parent_id, created_ms, start_seq, end_seq,"
        " closed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            table_no,
            stream_no,
            slot,
            shard_id,
            parent,
            created_ms,
            start_seq,
            None if closed_ms is None else start_seq,
            closed_ms,
        ),
    )
    return shard_id


# Compact JSON through one encoder object (json.dumps with options makes a new one on every call).
_encode_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
# A record's own values in its JSON layout: each marker stands for one; the layout's other strings (names,
# region, ARN, view type) can never hold the NUL character that starts a marker.
_MARKER: Final = re.compile(r'"\\u0000([ITKNOQZ])"')


def _record_layout(table: Table, name: str, ttl: bool) -> str:
    """The JSON text of `table`'s records of one kind as a %-format with a named field for each value a
    record fills in. Made with `stream_record` itself, so the text always has its fields, in its
    order."""
    images: tuple[dict[str, Any] | None, dict[str, Any] | None] = {
        "INSERT": ({}, None),
        "MODIFY": ({}, {}),
        "REMOVE": (None, {}),
    }[name]
    assert table.stream_arn is not None  # records are written while a stream is enabled
    record = stream_record(
        name,
        {},
        *images,
        view_type=table.stream_view_type,
        sequence_number="",
        created_ms=0,
        event_id="",
        region=table._region,
        source_arn=table.stream_arn,
        ttl=ttl,
    )
    record["eventID"] = "\x00I"
    dynamodb = record["dynamodb"]
    marks = {"ApproximateCreationDateTime": "T", "Keys": "K", "NewImage": "N", "OldImage": "O"}
    marks.update(SequenceNumber="Q", SizeBytes="Z")
    for field, mark in marks.items():
        if field in dynamodb:
            dynamodb[field] = "\x00" + mark
    return _MARKER.sub(r"%(\1)s", _encode_json(record).replace("%", "%%"))


def _record_text(layout: str, record: dict[str, Any], keys: str, new: str | None, old: str | None) -> str:
    """The record's JSON: its layout filled in, reusing the images' JSON text (written for the items
    table, or read from it) instead of encoding every image a second time."""
    dynamodb = record["dynamodb"]
    return layout % {
        "I": f'"{record["eventID"]}"',  # hex digits: nothing to escape
        "T": dynamodb["ApproximateCreationDateTime"],
        "K": keys,
        "N": new,
        "O": old,
        "Q": f'"{dynamodb["SequenceNumber"]}"',  # digits
        "Z": dynamodb["SizeBytes"],
    }


def _ref(key: ModelKey) -> _Ref:
    """The item's row key: its partition key's hash and text, and its sort key's order bytes (kept for the
    keys used last: requests come back to the same items)."""
    ref = _REFS.get(key)
    if ref is None:
        tag, text = key[0]
        ref = (partition_hash(tag, text), text, order_bytes(key[1][0], key[1][1]) if len(key) > 1 else b"")
        if len(_REFS) >= _REFS_LIMIT:
            _REFS.clear()
        _REFS[key] = ref
    return ref


_REFS: dict[ModelKey, _Ref] = {}
_REFS_LIMIT: Final = 4096


def _slot(key: ModelKey, shard_count: int) -> int:
    """Which of the open shards an item's changes go to: a stable hash of its partition key."""
    if shard_count == 1:
        return 0
    tag, text = key[0]
    digest = blake2b(f"{tag}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard_count


def _expiry_ms(av: Mapping[str, Any] | None) -> int | None:
    """An item's TTL expiry in epoch milliseconds: only a Number attribute counts, as in DynamoDB."""
    if av is None or "N" not in av:
        return None
    text: str = av["N"]  # normalised plain text: no exponent
    if text.startswith("-"):
        return None  # before 1970: more than five years ago, ignored
    whole, _, fraction = text.partition(".")
    if len(whole) > 16:
        return None  # beyond any clock: never expires
    expires = int(whole) * 1000 + int((fraction + "000")[:3])  # floor to the millisecond
    return expires if expires <= _INT64_MAX else None


def _check_distinct(ops: Sequence[_Op], schema: Mapping[str, str], message: str) -> None:
    seen: set[_Ref] = set()
    for op in ops:
        ref = op.ref
        if ref in seen:
            shown = ", ".join(f"{name}={text!r}" for name, (_, text) in zip(schema, op.key, strict=True))
            raise ValidationError(message.format(key=f"({shown})"))
        seen.add(ref)


# -- settings ---------------------------------------------------------------------------------------------


def _start_stream(
    connection: sqlite3.Connection,
    table_no: int,
    arn_prefix: str,
    *,
    view_type: str,
    shard_count: int,
    now: int,
    last_seq: int,
) -> int:
    """Start a new stream for the table, make it the table's latest, and return the sequence counter after
    its shards' starting numbers."""
    # The label is the stream's creation time (DynamoDB's StreamLabel); a stream enabled again within the
    # same millisecond takes the next one, so that every stream of a table has its own ARN.
    label_ms = now
    while True:
        created = to_datetime(label_ms)
        arn = f"{arn_prefix}{created:%Y-%m-%dT%H:%M:%S}.{created.microsecond // 1000:03d}"
        if connection.execute("SELECT 1 FROM streams WHERE arn = ?", (arn,)).fetchone() is None:
            break
        label_ms += 1
    cursor = connection.execute(
        "INSERT INTO streams (table_no, arn, view_type, created_ms) VALUES (?, ?, ?, ?)",
        (table_no, arn, view_type, now),
    )
    stream_no = cursor.lastrowid
    assert stream_no is not None
    for slot in range(shard_count):
        last_seq += 1
        _insert_shard(connection, table_no, stream_no, arn, slot=slot, parent=None, created_ms=now, start_seq=last_seq)
    connection.execute(
        "UPDATE tables SET stream_enabled = 1, stream_no = ?, stream_arn = ?, view_type = ? WHERE table_no = ?",
        (stream_no, arn, view_type, table_no),
    )
    return last_seq


def _check_view_type(view_type: object) -> str:
    # DynamoDB's CreateTable answers a StreamViewType it does not know with a ValidationException.
    if not isinstance(view_type, str) or str.__str__(view_type) not in VIEW_TYPES:
        raise ValidationError(
            f"stream_view_type {view_type!r}: expected KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES"
        )
    return str.__str__(view_type)


def _check_stored_view(db: Database, view_type: object) -> str:
    if not isinstance(view_type, str) or view_type not in VIEW_TYPES:
        raise db.damaged("a stream's view type is not one shardline writes")
    return view_type


def _check_ttl_attribute(ttl_attribute: object, schema: Mapping[str, str]) -> str | None:
    if ttl_attribute is None:
        return None
    if not isinstance(ttl_attribute, str) or not ttl_attribute:
        raise ValidationError(f"ttl_attribute must be a non-empty attribute name or None, got {ttl_attribute!r}")
    checked = _check_schema_name(ttl_attribute, "ttl_attribute")
    if checked in schema:
        raise ValidationError(f"ttl_attribute {checked!r} is a key attribute; TTL needs a Number attribute")
    return checked


def _extra_text(extra: object) -> str:
    """`extra` as the JSON text stored with the table."""
    if extra is None:
        return "{}"
    if not isinstance(extra, Mapping):
        raise ArgumentTypeError(f"extra must be a mapping (JSON object) or None, got {_type_name(extra)}")
    try:
        text = json.dumps(dict(extra), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ArgumentTypeError(
            f"extra must be JSON: str keys, and str, int, float, bool, None, lists, dicts ({exc})"
        ) from None
    check_text(text, "extra")
    return text


def _indexes_text(globals_: Sequence[IndexSpec], locals_: Sequence[IndexSpec]) -> str:
    def spec_json(spec: IndexSpec) -> list[Any]:
        return [spec.name, list(spec.key_schema.items()), spec.projection, list(spec.non_key_attributes)]

    return json.dumps([[spec_json(spec) for spec in globals_], [spec_json(spec) for spec in locals_]])


def _stored_indexes(
    db: Database, text: object, schema: Mapping[str, str], where: str
) -> tuple[list[CompiledIndex], list[CompiledIndex]]:
    """A table's indexes as read back from its row."""
    value = db.decode_json(text, f"the indexes in {where}")
    compiled: tuple[list[CompiledIndex], list[CompiledIndex]] = ([], [])
    try:
        globals_, locals_ = value
        for target, specs, local in ((compiled[0], globals_, False), (compiled[1], locals_, True)):
            for name, pairs, projection, attributes in specs:
                spec = IndexSpec(name, dict(pairs), projection, tuple(attributes))
                target.append(compile_index(spec, schema, local=local))
        check_indexes(schema, [index.spec for index in compiled[0]], [index.spec for index in compiled[1]])
    except (ValueError, TypeError, ShardlineError):
        raise db.damaged(f"the indexes in {where} are not ones shardline writes") from None
    return compiled


def _repeated(names: Sequence[str]) -> str | None:
    """The first of `names` that appears twice, or None."""
    if len(set(names)) == len(names):
        return None
    return next(name for position, name in enumerate(names) if name in names[:position])


def _remove_index_names(names: object) -> list[str]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise ArgumentTypeError(f"remove_global_indexes must be a sequence of index names, got {_type_name(names)}")
    checked = []
    for name in names:
        if not isinstance(name, str):
            raise ArgumentTypeError(f"index names are text (str), got {_type_name(name)}")
        checked.append(str.__str__(name))
    twice = _repeated(checked)
    if twice is not None:
        raise ValidationError(
            "One or more parameter values were invalid: Only one global secondary index update per index is "
            f"allowed simultaneously. Index: {twice}"
        )
    return checked


def _recompute_expiry(db: Database, connection: sqlite3.Connection, table: Table, ttl_attribute: str | None) -> None:
    """Each item's TTL expiry under a new TTL attribute."""
    rows = connection.execute("SELECT hash, pk, sk, image FROM items WHERE table_no = ?", (table._no,)).fetchall()
    updates = []
    for row in rows:
        hash_, pk, sk, text = db.check_row(row, "isb.", f"an item of table {table.name!r}")
        expires = None
        if ttl_attribute is not None:
            image = table._stored(text, 0).image
            av = image.get(ttl_attribute)
            expires = _expiry_ms(av) if isinstance(av, dict) and isinstance(av.get("N"), str) else None
        updates.append((expires, table._no, hash_, pk, sk))
    connection.executemany(
        "UPDATE items SET expires_ms = ? WHERE table_no = ? AND hash = ? AND pk = ? AND sk = ?", updates
    )


def _backfill(db: Database, connection: sqlite3.Connection, table: Table, indexes: Sequence[CompiledIndex]) -> None:
    """Fill new indexes from the items the table holds. Items whose index key attributes DynamoDB would refuse
    (of another type, or empty) are left out, as DynamoDB's online index creation leaves them out."""
    if not indexes:
        return
    partition_type = next(iter(table._schema.values()))
    rows = connection.execute("SELECT hash, pk, sk, image FROM items WHERE table_no = ?", (table._no,)).fetchall()
    entries = []
    for row in rows:
        hash_, pk, sk, text = db.check_row(row, "isb.", f"an item of table {table.name!r}")
        image = table._stored(text, 0).image
        pko = order_bytes(partition_type, pk)
        for index in indexes:
            try:
                entry = _entry(index, image)
            except (ValueError, ArithmeticError):  # a damaged number or binary: not an entry
                entry = None
            if entry is not None:
                entries.append((table._no, index.name, *entry, pko, sk, hash_, pk))
    connection.executemany(_INSERT_ENTRY, entries)


# -- typed values and pages ---------------------------------------------------------------------------------


def _typed_value(av: object, kind: str, what: str) -> str:
    """The text of a typed key value of type `kind` (`{"N": "5"}`), valid and in DynamoDB's normalised
    form (numbers as format_number writes them, binaries in standard base64)."""
    if not isinstance(av, Mapping) or len(av) != 1:
        raise ArgumentTypeError(f'{what} must be a typed value such as {{"{kind}": ...}}, got {_type_name(av)}')
    ((tag, text),) = av.items()
    if tag != kind:
        raise ValidationError(
            "One or more parameter values were invalid: Condition parameter type does not match schema type"
        )
    if _plain(kind, text):
        return str(text)
    attribute_size(av)  # a valid AttributeValue, or the codec's error
    text = str.__str__(text)
    if tag == "N":
        normal = format_number(Decimal(text))
        if normal != text:
            raise ValidationError(f"{what}: the number {text} is not in DynamoDB's normalised form {normal}")
    elif tag == "B":
        try:
            normal = b64encode(b64decode(text)).decode("ascii")
        except (ValueError, binascii.Error):
            normal = ""
        if normal != text:
            raise ValidationError(f"{what}: the binary is not standard base64 text")
    return text


def _plain(kind: str, text: object) -> bool:
    """Whether a key value is plainly valid and normalised, as the usual keys are: ASCII text, or a plain
    integer of at most 38 digits in normalised form (no sign, no leading zero). Others get the careful
    checks."""
    return (
        type(text) is str
        and text.isascii()
        and (kind == "S" or (kind == "N" and text.isdigit() and len(text) <= 38 and (text[0] != "0" or text == "0")))
    )


# (low, low inclusive, high, high inclusive) on the order bytes of a sort key; None: nothing can match.
_Bounds = tuple[bytes | None, bool, bytes | None, bool]


def _sort_bounds(sort: object, sort_type: str | None, sort_name: str | None) -> _Bounds | None:
    """A Query's sort key condition as a range of order bytes (DynamoDB API reference, Query,
    KeyConditionExpression)."""
    if sort is None:
        return (None, True, None, True)
    if sort_type is None or sort_name is None:
        raise ValidationError("Query key condition not supported: the table or index has no sort key")
    if not isinstance(sort, tuple) or not sort or not isinstance(sort[0], str) or sort[0] not in _SORT_OPERATORS:
        raise ValidationError(
            "sort must be (operator, value...) with operator =, <, <=, >, >=, BETWEEN or begins_with, got "
            f"{_type_name(sort)}"
        )
    operator, *values = sort
    if len(values) != (2 if operator == "BETWEEN" else 1):
        raise ValidationError(f"the sort condition {operator} takes {2 if operator == 'BETWEEN' else 1} value(s)")
    orders = [order_bytes(sort_type, _typed_value(value, sort_type, f"the {sort_name} value")) for value in values]
    first = orders[0]
    if operator == "=":
        return (first, True, first, True)
    if operator == "<":
        return (None, True, first, False)
    if operator == "<=":
        return (None, True, first, True)
    if operator == ">":
        return (first, False, None, True)
    if operator == ">=":
        return (first, True, None, True)
    if operator == "BETWEEN":
        return (first, True, orders[1], True) if first <= orders[1] else None
    if sort_type == "N":
        raise ValidationError(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or "
            "function: begins_with, operand type: N"
        )
    return (first, True, prefix_end(first), False)


def _within(order: bytes, bounds: _Bounds | None) -> bool:
    if bounds is None:
        return False
    low, low_inclusive, high, high_inclusive = bounds
    if low is not None and (order < low or (order == low and not low_inclusive)):
        return False
    return high is None or order < high or (order == high and high_inclusive)


def _check_sort_key_size(name: str, kind: str, text: str) -> None:
    """The sort key's limit, 1024 bytes (check_item_limits counts a lone attribute as a partition key)."""
    size = len(text.encode("utf-8")) if kind == "S" else len(b64decode(text)) if kind == "B" else 0
    if size > 1024:
        raise AttributeValueError(f"the sort key is {size} bytes; DynamoDB allows at most 1024", name)


def _check_page_limits(limit: object, byte_limit: object) -> None:
    if limit is not None:
        _check_count("limit", limit, 1, _INT64_MAX)
    _check_count("byte_limit", byte_limit, 1, _INT64_MAX)


def _check_count(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high}, got {value}")


def _check_state_name(namespace: object, key: object) -> None:
    if not isinstance(namespace, str) or not isinstance(key, str):
        raise ArgumentTypeError(
            f"state namespaces and keys are text, got {type(namespace).__name__}, {type(key).__name__}"
        )
    check_text(namespace, "a state namespace")
    check_text(key, "a state key")


def _check_table_name(name: object) -> str:
    # DynamoDB checks TableName in every request, not only in CreateTable (its API reference: 3 to 255
    # characters of a-z, A-Z, 0-9, '_', '-' and '.').
    if not isinstance(name, str) or _TABLE_NAME.fullmatch(name) is None:
        raise ValidationError(f"table name {name!r}: DynamoDB table names are 3-255 characters of A-Za-z0-9_.-")
    return str.__str__(name)


def _check_schema_name(name: str, what: str) -> str:
    name = check_text(name, what)
    if len(name.encode("utf-8")) > _SCHEMA_NAME_BYTES:
        raise ValidationError(f"{what} is {len(name.encode('utf-8'))} bytes long; DynamoDB allows 1 to 255")
    return name


def _iterable(values: object, what: str, of: str) -> Iterable[Any]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise ArgumentTypeError(f"{what} must be a list (or another iterable) of {of}, got {_type_name(values)}")
    return values


def _remove_names(remove: object) -> tuple[str, ...]:
    """UpdateItem's REMOVE names, checked: text DynamoDB can hold, not empty, each named once."""
    if remove is None:
        return ()
    if isinstance(remove, (str, bytes)):
        raise AttributeTypeError("remove must be an iterable of attribute names, not a single string")
    if isinstance(remove, Mapping) or not isinstance(remove, Iterable):
        raise AttributeTypeError(f"remove must be an iterable of attribute names, got {_type_name(remove)}")
    names = tuple(remove)
    for index, name in enumerate(names):
        if not isinstance(name, str):
            raise AttributeTypeError(f"attribute names are text, got {_type_name(name)}", f"remove[{index}]")
        if not name.isascii():
            try:
                name.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise AttributeValueError(
                    f"attribute name holds a lone surrogate ({name[exc.start]!r} at index {exc.start}), which is "
                    "not a character and has no UTF-8 form; DynamoDB stores text as UTF-8",
                    f"remove[{index}]",
                ) from None
        if not name:
            # DynamoDB: "ExpressionAttributeNames contains invalid value: Empty attribute name".
            raise ValidationError(f"remove[{index}]: Empty attribute name; attribute names are 1 character or more")
    twice = _repeated(names)
    if twice is not None:
        raise ValidationError(
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of "
            f"these paths; path one: [{twice}], path two: [{twice}]"
        )
    return names


def _time_ms(when: object) -> int:
    """`expire_ttl`'s `now`: a time the store can compare (epoch milliseconds within Python's datetime)."""
    try:
        ms = to_ms(when)  # type: ignore[arg-type]  # checked by to_ms itself
    except TypeError as exc:
        raise ArgumentTypeError(f"now: {exc}") from None
    except ValueError as exc:
        raise ValidationError(f"now: {exc}") from None
    except OverflowError:
        raise ValidationError(f"now {when!r} is outside the times a datetime can hold") from None
    if not -_MAX_MS <= ms <= _MAX_MS:
        raise ValidationError(f"now is {ms} ms; expected a time between the years 1 and 9999")
    return ms
