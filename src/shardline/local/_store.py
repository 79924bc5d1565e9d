"""The embedded store: durable tables whose every change puts a faithful record on the table's stream.

A :class:`Store` is one SQLite database (or ``":memory:"``). Each write to a :class:`Table` compares the
item with the one it replaces (the rules of ``shardline._changes``, shared with the event builder) and,
when something changed, appends the stream record in the same transaction as the item: both are there
after a crash, or neither. The stream is read through ``table.stream``, shaped like DynamoDB Streams'
API (``shardline.local._stream``).

Time comes from the store's clock, and never goes backwards inside the database: each write is stamped
with the later of the clock and the latest time written before, so records stay in time order even when
two processes with different clocks share the file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from hashlib import blake2b
from typing import TYPE_CHECKING, Any, Final, NamedTuple, final

from shardline._attributes import _check_key_schema, _type_name, deserialize_item, item_size
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
from shardline._exceptions import AttributeTypeError, AttributeValueError
from shardline.local._db import INT64_MAX, Database, check_text, sequence_text
from shardline.local._errors import (
    ArgumentTypeError,
    ResourceNotFoundError,
    TableExistsError,
    ValidationError,
)
from shardline.local._stream import Stream
from shardline.testing._clock import Clock, SystemClock, to_datetime, to_ms

if TYPE_CHECKING:
    import sqlite3
    from types import TracebackType

__all__ = ["DEFAULT_RETENTION_MS", "DEFAULT_ROLLOVER_MS", "Store", "Table"]

_HOUR_MS: Final = 3_600_000
#: How long a shard stays open before it rolls over into a child (DynamoDB: about 4 hours, undocumented).
DEFAULT_ROLLOVER_MS: Final = 4 * _HOUR_MS
#: How long records stay on the stream (DynamoDB Streams: 24 hours).
DEFAULT_RETENTION_MS: Final = 24 * _HOUR_MS
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

_SELECT_ITEM: Final = "SELECT image, size FROM items WHERE table_no = ? AND pk = ? AND sk = ?"
_UPSERT_ITEM: Final = (
    "INSERT OR REPLACE INTO items (table_no, pk, sk, image, size, expires_ms) VALUES (?, ?, ?, ?, ?, ?)"
)
_DELETE_ITEM: Final = "DELETE FROM items WHERE table_no = ? AND pk = ? AND sk = ?"
_INSERT_RECORD: Final = "INSERT INTO records (seq, shard_no, created_ms, body) VALUES (?, ?, ?, ?)"
_PREFETCH_CHUNK: Final = 400  # pairs of parameters per query: well under SQLite's limit of 999 in old builds


class _Op(NamedTuple):
    """One prepared change: its kind, the item's key, and the image, its size and JSON text (put), or the key
    image and the update (update)."""

    kind: str
    key: ModelKey
    image: dict[str, Any] | None = None
    size: int = 0
    update: Update | None = None
    text: str | None = None


@final
class Store:
    """Tables with durable DynamoDB streams in one SQLite database: a file (created with its directory when
    missing, unless ``create=False``), or ``":memory:"``.

    >>> from shardline.testing import VirtualClock
    >>> with Store(":memory:", clock=VirtualClock()) as store:
    ...     orders = store.create_table("Orders", key_schema={"pk": "S"})
    ...     record = orders.put_item({"pk": "order#1", "status": "NEW"})
    ...     print(record["eventName"], record["dynamodb"]["SizeBytes"])
    ...     print(orders.put_item({"pk": "order#1", "status": "NEW"}))  # nothing changed: no record
    INSERT 27
    None

    ``clock`` tells the time (the system clock by default; a ``VirtualClock`` makes TTL, shard rollover,
    retention and iterator expiry testable instantly). Tables created through this store get stream ARNs in
    ``region`` and ``account_id``; a table keeps the ARN it was created with. ``fsync=True`` flushes every
    commit to the disk, so a commit also survives a power cut or an operating system crash (without it, a
    commit survives the process being killed at any instant). ``timeout`` is how many seconds a write waits
    for another process's transaction to finish before :class:`StoreError` is raised. ``create=False``
    opens an existing state file only: a missing one is a :class:`StoreError`, and no file or directory is
    made (for tools that only read).

    A state file that cannot be used (damaged, read-only, another program's database, a directory) raises
    :class:`StoreError` with a message saying what to do, when it is opened or at the first operation that
    meets the problem; so do values in the file that are not what shardline wrote.

    Another process (or another ``Store``) opening the same file sees every commit at once. A store may be
    shared by threads: they take turns.
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
        #: The clock the store reads: every record's time, TTL, rollover, retention and iterator expiry.
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._region = region
        self._account_id = account_id
        self._db = Database(path, fsync=bool(fsync), timeout=float(timeout), create=bool(create))

    @property
    def path(self) -> str:
        """The database's path as given (``":memory:"`` for an in-memory store)."""
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
    ) -> Table:
        """Create a table with a stream, and return it.

        ``key_schema`` is ordered: ``{"pk": "S", "sk": "N"}`` has the partition key ``pk`` and the sort key
        ``sk`` (types S, N or B). ``ttl_attribute`` names the Number attribute holding each item's expiry
        in epoch seconds (Time to Live; see :meth:`Table.expire_ttl`). The stream starts with
        ``shard_count`` shards; an item's changes all go to the shard its partition key hashes to. Each
        shard closes after ``shard_rollover_ms`` of clock time and a child shard takes over; records are
        kept for ``retention_ms``.
        """
        name = _check_table_name(name)
        schema = dict(_check_key_schema(key_schema))
        for attribute in schema:
            _check_schema_name(attribute, "key_schema: a key attribute name")
        # DynamoDB's CreateTable answers a StreamViewType it does not know with a ValidationException.
        if not isinstance(stream_view_type, str) or str.__str__(stream_view_type) not in VIEW_TYPES:
            raise ValidationError(
                f"stream_view_type {stream_view_type!r}: expected KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES"
            )
        view_type = str.__str__(stream_view_type)
        if ttl_attribute is not None and (not isinstance(ttl_attribute, str) or not ttl_attribute):
            raise ValidationError(f"ttl_attribute must be a non-empty attribute name or None, got {ttl_attribute!r}")
        if ttl_attribute is not None:
            ttl_attribute = _check_schema_name(ttl_attribute, "ttl_attribute")
        if ttl_attribute in schema:
            raise ValidationError(f"ttl_attribute {ttl_attribute!r} is a key attribute; TTL needs a Number attribute")
        _check_count("shard_count", shard_count, 1, _MAX_SHARDS)
        _check_count("shard_rollover_ms", shard_rollover_ms, 1, _INT64_MAX)
        _check_count("retention_ms", retention_ms, 1, _INT64_MAX)
        db = self._db
        with db.write() as connection:
            if connection.execute("SELECT 1 FROM tables WHERE name = ?", (name,)).fetchone():
                raise TableExistsError(f"table {name!r} exists already (delete it first, or choose another name)")
            last_seq, last_ms = db.check_row(
                connection.execute("SELECT last_seq, last_ms FROM counters").fetchone(), "ii", "the counters row"
            )
            now = self._now_ms(last_ms)
            created = to_datetime(now)
            label = f"{created:%Y-%m-%dT%H:%M:%S}.{created.microsecond // 1000:03d}"
            arn = f"arn:aws:dynamodb:{self._region}:{self._account_id}:table/{name}/stream/{label}"
            cursor = connection.execute(
                "INSERT INTO tables (name, key_schema, view_type, ttl_attribute, shard_count, rollover_ms,"
                " retention_ms, created_ms, stream_arn, region, trimmed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    json.dumps(list(schema.items())),
                    view_type,
                    ttl_attribute,
                    shard_count,
                    shard_rollover_ms,
                    retention_ms,
                    now,
                    arn,
                    self._region,
                    now - retention_ms,
                ),
            )
            table_no = cursor.lastrowid
            assert table_no is not None
            for slot in range(shard_count):
                last_seq += 1
                _insert_shard(connection, table_no, arn, slot=slot, parent=None, created_ms=now, start_seq=last_seq)
            connection.execute("UPDATE counters SET last_seq = ?, last_ms = ?", (last_seq, now))
        return self.table(name)

    def table(self, name: str) -> Table:
        """The table called ``name``; :class:`ResourceNotFoundError` if there is none."""
        name = _check_table_name(name)
        with self._db.statement() as connection:
            row = connection.execute(f"SELECT {_TABLE_COLUMNS} FROM tables WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(repr(table.name) for table in self.tables()) or "none"
            raise ResourceNotFoundError(f"no table {name!r} in {self._db.name} (tables: {known})")
        return Table(self, row)

    def tables(self) -> list[Table]:
        """Every table, by name."""
        with self._db.statement() as connection:
            rows = connection.execute(f"SELECT {_TABLE_COLUMNS} FROM tables ORDER BY name").fetchall()
        return [Table(self, row) for row in rows]

    def delete_table(self, name: str) -> None:
        """Delete a table, its items and its stream.

        Unlike DynamoDB, whose stream stays readable for 24 hours after the table is deleted, the records
        go at once; readers of the stream get :class:`ResourceNotFoundError`.
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
            connection.execute("DELETE FROM items WHERE table_no = ?", (table_no,))
            connection.execute("DELETE FROM tables WHERE table_no = ?", (table_no,))

    # -- state for other components -------------------------------------------------------------------

    def get_state(self, namespace: str, key: str) -> str | None:
        """The text stored under ``(namespace, key)`` by :meth:`set_state`, or ``None``.

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
        """Store ``value`` under ``(namespace, key)``; ``None`` deletes it. Committed when this returns,
        or with the enclosing :meth:`transaction`."""
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

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make everything done inside the block one atomic commit: state, and table writes with their
        stream records. An exception leaving the block undoes all of it.

        Nested use joins the outer transaction as a savepoint: an exception leaving the inner block undoes
        the inner block's changes only (if the outer block catches it), and nothing is committed until the
        outer block ends. Other threads using this store wait until the block ends.

        >>> with Store(":memory:") as store, store.transaction():
        ...     store.set_state("mapping", "shard-1", "42")
        ...     store.set_state("mapping", "started", "1")
        >>> # both were committed together
        """
        with self._db.write():
            yield

    # -- internals used by Table and Stream ----------------------------------------------------------

    @property
    def _database(self) -> Database:
        return self._db

    def _now_ms(self, last_ms: int) -> int:
        """The clock's time, or the latest time written (``last_ms``) if the clock is behind it."""
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


_TABLE_COLUMNS: Final = (
    "table_no, name, key_schema, view_type, ttl_attribute, shard_count, rollover_ms, retention_ms, created_ms,"
    " stream_arn, region"
)


@final
class Table:
    """A table of a :class:`Store`: items in, stream records out.

    Items are plain Python values (``str``, ``int``/``Decimal``, ``bytes``, ``bool``, ``None``, sets,
    dicts, lists) checked with DynamoDB's rules; what comes back is decoded the same way (numbers as exact
    ``Decimal``). Each write returns the stream record it wrote, or ``None`` when it changed nothing and
    therefore wrote none (AWS docs).

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
    """

    __slots__ = (
        "_layouts",
        "_no",
        "_region",
        "_schema",
        "_store",
        "_stream",
        "created_ms",
        "name",
        "retention_ms",
        "shard_count",
        "shard_rollover_ms",
        "stream_arn",
        "stream_view_type",
        "ttl_attribute",
    )

    def __init__(self, store: Store, row: Sequence[Any]) -> None:
        db = store._database
        (no, name, schema, view_type, ttl_attribute, shards, rollover, retention, created, arn, region) = db.check_row(
            row, "isssSiiiiss", "a row of the tables table"
        )
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
        ):
            raise db.damaged(f"{where} holds settings shardline never writes")
        self._store = store
        self._no: int = no
        #: The table's name.
        self.name: str = name
        self._schema: dict[str, str] = checked
        #: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES: which images the records carry.
        self.stream_view_type: str = view_type
        #: The Number attribute holding an item's expiry in epoch seconds, or None.
        self.ttl_attribute: str | None = ttl_attribute
        #: How many shards are open at a time.
        self.shard_count: int = shards
        self.shard_rollover_ms: int = rollover
        self.retention_ms: int = retention
        #: When the table (and its stream) was created, in epoch milliseconds.
        self.created_ms: int = created
        #: ``arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<creation time>``: every record's eventSourceARN.
        self.stream_arn: str = arn
        self._region: str = region
        self._stream: Stream | None = None
        self._layouts: dict[tuple[str, bool], str] = {}  # the JSON layout of each kind of record

    @property
    def key_schema(self) -> dict[str, str]:
        """The key attributes and their types, partition key first: ``{"pk": "S", "sk": "N"}``."""
        return dict(self._schema)

    @property
    def stream(self) -> Stream:
        """The table's stream, read like DynamoDB Streams: ``describe_stream``, ``get_shard_iterator``,
        ``get_records``."""
        if self._stream is None:
            self._stream = Stream(self)
        return self._stream

    def __repr__(self) -> str:
        keys = ", ".join(f"{name} {kind}" for name, kind in self._schema.items())
        return f"<Table {self.name!r} ({keys}) {self.stream_view_type}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return self._store is other._store and self._no == other._no

    def __hash__(self) -> int:
        return hash((id(self._store), self._no))

    # -- writes ---------------------------------------------------------------------------------------

    def put_item(self, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """PutItem: store ``item``, replacing the item with its key. Returns the INSERT or MODIFY record,
        or ``None`` when the stored item was equal (numbers by value, sets in any order)."""
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
        """UpdateItem: set and remove top-level attributes of the item with ``key``.

        As in DynamoDB, a missing item is created (an INSERT of the key and the attributes set), key
        attributes cannot be set or removed, and setting ``None`` stores NULL. Returns the record, or
        ``None`` when nothing changed.
        """
        op = self._update_op(key, set, remove)
        with self._writer() as writer:
            return writer.apply(op)

    def delete_item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """DeleteItem: the REMOVE record, or ``None`` when there was no such item (and so no record)."""
        op = _Op("delete", self._key(key))
        with self._writer() as writer:
            return writer.apply(op)

    def batch_write(
        self, *, puts: Iterable[Mapping[str, Any]] = (), deletes: Iterable[Mapping[str, Any]] = ()
    ) -> list[dict[str, Any]]:
        """BatchWriteItem: the puts, then the deletes, in one commit. Returns the records written.

        As DynamoDB does, a batch may not touch one item twice (:class:`ValidationError`). Unlike it, there
        is no limit of 25 requests, and the batch is atomic: every change is committed or none.
        """
        ops = [self._put_op(item) for item in _iterable(puts, "batch_write: puts", "items")]
        ops.extend(_Op("delete", self._key(key)) for key in _iterable(deletes, "batch_write: deletes", "keys"))
        _check_distinct(ops, self._schema, "batch_write: the batch writes item {key} twice; DynamoDB refuses that")
        with self._writer() as writer:
            writer.prefetch(ops)
            return [record for record in map(writer.apply, ops) if record is not None]

    def transact_write(self, actions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """TransactWriteItems: all the changes and their stream records commit together, or none does.

        Each action is ``{"put": item}``, ``{"update": {"key": key, "set": {...}, "remove": [...]}}`` or
        ``{"delete": key}``, in plain values. As in DynamoDB, two actions may not touch one item. Returns the
        records written, in the order of the actions.

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

    def expire_ttl(self, now: datetime | str | int | None = None) -> list[dict[str, Any]]:
        """Delete the items whose TTL attribute is in the past, as DynamoDB's Time to Live does, and return
        their REMOVE records, which carry the DynamoDB service's ``userIdentity`` (AWS docs).

        ``now`` (epoch milliseconds, a datetime or ISO-8601 text) defaults to the store's clock. An item
        expires when its TTL attribute is a Number of epoch seconds before ``now``; like DynamoDB, values
        that are not Numbers, and expiries more than five years before ``now``, are ignored. DynamoDB deletes
        expired items in the background, within days; this deletes them when called.
        """
        if self.ttl_attribute is None:
            return []
        schema = list(self._schema.values())
        given = None if now is None else _time_ms(now)
        db = self._store._database
        with self._writer() as writer:
            cutoff = writer.now if given is None else given
            rows = writer.connection.execute(
                "SELECT pk, sk FROM items WHERE table_no = ? AND expires_ms < ? AND expires_ms >= ?"
                " ORDER BY expires_ms, pk, sk",
                (self._no, cutoff, cutoff - _TTL_IGNORED_BEFORE_MS),
            ).fetchall()
            records = []
            for row in rows:
                pk, sk = db.check_row(row, "ss", f"an item of table {self.name!r}")
                key: ModelKey = ((schema[0], pk), (schema[1], sk)) if len(schema) == 2 else ((schema[0], pk),)
                record = writer.apply(_Op("delete", key), ttl=True)
                if record is None:  # the expiry index names an item the table does not hold
                    raise db.damaged(f"the TTL index of table {self.name!r} does not match its items")
                records.append(record)
            return records

    # -- reads ----------------------------------------------------------------------------------------

    def get_item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The item with ``key`` (plain values, numbers as Decimal), or ``None``."""
        pk, sk = _item_key(self._key(key))
        with self._store._database.read() as connection:
            self._check_exists(connection)
            row = connection.execute(_SELECT_ITEM, (self._no, pk, sk)).fetchone()
        return None if row is None else self._stored_item(row[0])

    def scan(self) -> list[dict[str, Any]]:
        """Every item, ordered by key text (DynamoDB's Scan order is its hash order: do not rely on any)."""
        with self._store._database.read() as connection:
            self._check_exists(connection)
            rows = connection.execute(
                "SELECT image FROM items WHERE table_no = ? ORDER BY pk, sk", (self._no,)
            ).fetchall()
        return [self._stored_item(image) for (image,) in rows]

    def query(self, partition_value: Any) -> list[dict[str, Any]]:
        """The items whose partition key is ``partition_value``, in sort key order as DynamoDB sorts
        (numbers by value, strings and binaries by their bytes)."""
        ((name, kind), *rest) = self._schema.items()
        typed = key_image({name: partition_value}, {name: kind})
        ((_, pk),) = model_key(typed, {name: kind})
        db = self._store._database
        with db.read() as connection:
            self._check_exists(connection)
            rows = [
                db.check_row(row, "ss", f"an item of table {self.name!r}")
                for row in connection.execute(
                    "SELECT sk, image FROM items WHERE table_no = ? AND pk = ?", (self._no, pk)
                ).fetchall()
            ]
        if rest:
            try:
                rows.sort(key=lambda row: _sort_value(rest[0][1], row[0]))
            except (ValueError, ArithmeticError):  # binascii.Error, decimal.InvalidOperation
                raise db.damaged(f"a sort key of table {self.name!r} is not a {rest[0][1]} value") from None
        return [self._stored_item(image) for _, image in rows]

    # -- internals ------------------------------------------------------------------------------------

    def _put_op(self, item: Mapping[str, Any]) -> _Op:
        # The codec refuses what DynamoDB would (text with a lone surrogate included) before SQLite sees it.
        image, size = item_image(item, self._schema)
        return _Op("put", model_key(image, self._schema), image, size, None, _encode_json(image))

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
        return _Op("update", model, keys_of(model, self._schema), 0, update)

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
            return _Op("delete", self._key(body))
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

    def _check_exists(self, connection: sqlite3.Connection) -> None:
        if connection.execute("SELECT 1 FROM tables WHERE table_no = ?", (self._no,)).fetchone() is None:
            raise self._gone()

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

    __slots__ = ("_db", "_items", "_records", "_shards", "_stored", "_table", "connection", "now", "seq")

    def __init__(self, table: Table, connection: sqlite3.Connection, *, force_trim: bool) -> None:
        self._table = table
        self.connection = connection
        self._db = db = table._store._database
        row = connection.execute(
            "SELECT t.trimmed_ms, c.last_seq, c.last_ms FROM tables t, counters c WHERE t.table_no = ?", (table._no,)
        ).fetchone()
        if row is None:
            raise table._gone()
        trimmed_ms, self.seq, last_ms = db.check_row(row, "iii", "the counters row")
        if not 0 <= self.seq <= INT64_MAX // 2:  # half of SQLite's range: room for any write's records
            raise db.damaged(f"the sequence counter is {self.seq}")
        self.now: int = table._store._now_ms(last_ms)
        # (pk, sk) -> the item's image (None: deleted), size, key and JSON text, as this transaction leaves it
        self._items: dict[tuple[str, str], tuple[dict[str, Any] | None, int, ModelKey, str | None]] = {}
        self._records: list[tuple[int, int, int, str]] = []
        self._stored: dict[tuple[str, str], tuple[str, int] | None] = {}  # prefetched rows (None: no item)
        self._shards = self._open_shards()
        rollover = table.shard_rollover_ms
        if any(created + rollover <= self.now for _, created, _ in self._shards.values()):
            self._roll_over()
            self._shards = self._open_shards()
        if force_trim or self.now - table.retention_ms - trimmed_ms >= _TRIM_EVERY_MS:
            self._trim(trimmed_ms)

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
        # Each slot has exactly one open shard from the table's creation on: a rollover closes one and opens
        # its child in the same transaction.
        if len(rows) != table.shard_count or set(shards) != set(range(table.shard_count)):
            raise db.damaged(f"the open shards of table {table.name!r} do not match its shard count")
        return shards

    def _roll_over(self) -> None:
        """Close each shard whose time is up and open its child, as DynamoDB does about every 4 hours.

        Each generation lives exactly ``shard_rollover_ms`` of clock time. When the clock jumped several
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
                parent = _insert_shard(
                    connection,
                    table._no,
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

    def prefetch(self, ops: Sequence[_Op]) -> None:
        """Read the stored items a batch changes with a query per few hundred items, not one per item."""
        wanted = [ref for ref in {_item_key(op.key) for op in ops} if ref not in self._items]
        connection, table_no = self.connection, self._table._no
        for first in range(0, len(wanted), _PREFETCH_CHUNK):
            chunk = wanted[first : first + _PREFETCH_CHUNK]
            values = ", ".join(["(?, ?)"] * len(chunk))
            rows = connection.execute(
                f"SELECT i.pk, i.sk, i.image, i.size FROM (VALUES {values}) AS v JOIN items AS i"
                " ON i.table_no = ? AND i.pk = v.column1 AND i.sk = v.column2",
                (*(text for ref in chunk for text in ref), table_no),
            )
            for row in rows:  # the image and its size are checked when used (_old)
                pk, sk, image, size = self._db.check_row(row, "ss..", f"an item of table {self._table.name!r}")
                self._stored[pk, sk] = (image, size)
            self._stored.update((ref, None) for ref in chunk if ref not in self._stored)

    def _old(self, ref: tuple[str, str]) -> tuple[dict[str, Any] | None, int, str | None]:
        """The item stored under ``ref`` (as written earlier in this transaction, or in the database):
        its image, size and JSON text."""
        pending = self._items.get(ref)
        if pending is not None:
            return pending[0], pending[1], pending[3]
        if ref in self._stored:
            row = self._stored[ref]
        else:
            row = self.connection.execute(_SELECT_ITEM, (self._table._no, *ref)).fetchone()
        if row is None:
            return None, 0, None
        what = f"an item of table {self._table.name!r}"
        text, size = self._db.check_row(row, "si", what)
        image = self._db.decode_json(text, what)
        if not isinstance(image, dict):
            raise self._db.damaged(f"{what} is not an object")
        return image, size, text

    def apply(self, op: _Op, *, ttl: bool = False) -> dict[str, Any] | None:
        """Apply one change; return the record it wrote, or None when it changed nothing."""
        table = self._table
        ref = _item_key(op.key)
        old, old_size, old_text = self._old(ref)
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
        if new is not None and new_text is None:
            new_text = _encode_json(new)
        self._items[ref] = (new, new_size, op.key, new_text)
        self.seq += 1
        keys = keys_of(op.key, table._schema)
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
        connection, table_no = self.connection, self._table._no
        ttl_attribute = self._table.ttl_attribute
        upserts = []
        deletes = []
        for (pk, sk), (image, size, _, text) in self._items.items():
            if image is None:
                deletes.append((table_no, pk, sk))
            else:
                expires = _expiry_ms(image.get(ttl_attribute)) if ttl_attribute is not None else None
                upserts.append((table_no, pk, sk, text, size, expires))
        if deletes:
            connection.executemany(_DELETE_ITEM, deletes)
        if upserts:
            connection.executemany(_UPSERT_ITEM, upserts)
        if self._records:
            connection.executemany(_INSERT_RECORD, self._records)
        connection.execute("UPDATE counters SET last_seq = ?, last_ms = ?", (self.seq, self.now))


def _insert_shard(
    connection: sqlite3.Connection,
    table_no: int,
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
        "INSERT INTO shards (table_no, slot, shard_id, parent_id, created_ms, start_seq, end_seq, closed_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (table_no, slot, shard_id, parent, created_ms, start_seq, None if closed_ms is None else start_seq, closed_ms),
    )
    return shard_id


# Compact JSON through one encoder object (json.dumps with options makes a new one on every call).
_encode_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
# A record's own values in its JSON layout: each marker stands for one; the layout's other strings (names,
# region, ARN, view type) can never hold the NUL character that starts a marker.
_MARKER: Final = re.compile(r'"\\u0000([ITKNOQZ])"')


def _record_layout(table: Table, name: str, ttl: bool) -> str:
    """The JSON text of ``table``'s records of one kind as a %-format with a named field for each value a
    record fills in. Made with :func:`stream_record` itself, so the text always has its fields, in its
    order."""
    images: tuple[dict[str, Any] | None, dict[str, Any] | None] = {
        "INSERT": ({}, None),
        "MODIFY": ({}, {}),
        "REMOVE": (None, {}),
    }[name]
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


def _item_key(key: ModelKey) -> tuple[str, str]:
    """The item's row key: the partition and sort key texts ("" without a sort key; keys are never empty)."""
    return (key[0][1], key[1][1] if len(key) > 1 else "")


def _slot(key: ModelKey, shard_count: int) -> int:
    """Which of the open shards an item's changes go to: a stable hash of its partition key."""
    if shard_count == 1:
        return 0
    tag, text = key[0]
    digest = blake2b(f"{tag}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard_count


def _sort_value(kind: str, text: str) -> Any:
    if kind == "N":
        return Decimal(text)
    if kind == "S":
        return text.encode("utf-8", "surrogatepass")
    from base64 import b64decode

    return b64decode(text)


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
    seen: set[tuple[str, str]] = set()
    for op in ops:
        ref = _item_key(op.key)
        if ref in seen:
            shown = ", ".join(f"{name}={text!r}" for name, (_, text) in zip(schema, op.key, strict=True))
            raise ValidationError(message.format(key=f"({shown})"))
        seen.add(ref)


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
    if len(set(names)) != len(names):
        twice = next(name for index, name in enumerate(names) if name in names[:index])
        raise ValidationError(
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of "
            f"these paths; path one: [{twice}], path two: [{twice}]"
        )
    return names


def _time_ms(when: object) -> int:
    """``expire_ttl``'s ``now``: a time the store can compare (epoch milliseconds within Python's datetime)."""
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
