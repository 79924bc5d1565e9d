"""The state database: one SQLite file in WAL mode, its schema, and transactions that nest.

Why SQLite's guarantees are enough (docs/local/store.md, "Durability"): a write and its stream record are rows of one
transaction; a commit appends the transaction's pages to the write-ahead log and a commit frame last, so
a process killed mid-commit leaves frames without a commit frame, which the next open ignores. Once
`COMMIT` returns, the frames are in the operating system's file cache and survive the process. With
`fsync=True` (`PRAGMA synchronous=FULL`) the log is also flushed to the disk at every commit, which
makes a commit survive a power cut too.

Schema, version 2 (every time an integer of epoch milliseconds, every sequence number an integer offset):

```text
counters  one row: the last sequence number handed out, the latest time written
tables    name, key schema, view type, TTL attribute, shard count, rollover and retention periods,
          the latest stream (number and ARN) and whether it is enabled, the secondary indexes, the
          endpoint's metadata (`extra`), region and account, a version counted up by every change
          of these settings, and how far records were last trimmed
streams   per table: every stream it had (ARN, view type, creation, when it was disabled)
items     (table_no, partition key hash, partition key text, sort key order bytes) -> typed image
          (JSON), its size, its TTL expiry in ms
index_entries  (table_no, index, index partition hash and text, index sort key order bytes, the
          table key's order bytes) -> the item's row key: one row per item in each index
shards    per stream: slot (hash bucket), shard ID, parent, creation, sequence range, trimmed point
records   seq (global, the rowid) -> shard, creation time, the record's JSON
state     (namespace, key) -> text, for other components (the event source mapping's checkpoints)
```

Every SQLite error is translated here, at the boundary, into a [`StoreError`][shardline.local.StoreError] that says what
is wrong with the file and what to do (a damaged file, a read-only one, a full disk, a lock held too long); values read
back from the file are checked before use (`check_row`, `decode_json`), so a file damaged by something other than SQLite
is reported the same way instead of surfacing as a `TypeError` later.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Final, NoReturn

from shardline.local._errors import ArgumentTypeError, StoreError, ValidationError

__all__ = ["INT64_MAX", "SCHEMA_V1", "SEQUENCE_BASE", "Database", "check_text", "sequence_text"]

SCHEMA_VERSION: Final = 2
# Sequence numbers: one counter for the whole database, so every record (and every shard's starting number)
# has its own. DynamoDB Streams' numbers are 21 to 40 digits and only compare within a shard; adding a
# 27-digit base keeps ours that long for the first 9 * 10**26 records while int() still orders them.
SEQUENCE_BASE: Final = 10**26
# PRAGMA application_id: marks the file as a shardline state database ("SHLN").
APPLICATION_ID: Final = 0x53484C4E
#: The largest integer SQLite stores: every count, time and position the store binds must fit.
INT64_MAX: Final = 2**63 - 1
# SQLite's primary result codes (the low byte of an extended code) that mean the file itself is unusable.
_CORRUPT: Final = 11
_NOTADB: Final = 26
_READONLY: Final = 8
_BUSY: Final = 5
_LOCKED: Final = 6
_FULL: Final = 13
_CANTOPEN: Final = 14
_IOERR: Final = 10
_PERM: Final = 3
_CONSTRAINT: Final = 19

# Version 1 (shardline 0.x before secondary indexes): kept to test the upgrade, which rebuilds on top of it.
SCHEMA_V1: Final = """
CREATE TABLE counters (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL,
    last_ms INTEGER NOT NULL
);
INSERT INTO counters (id, last_seq, last_ms) VALUES (1, 0, 0);
CREATE TABLE tables (
    table_no INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    key_schema TEXT NOT NULL,
    view_type TEXT NOT NULL,
    ttl_attribute TEXT,
    shard_count INTEGER NOT NULL,
    rollover_ms INTEGER NOT NULL,
    retention_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    stream_arn TEXT NOT NULL,
    region TEXT NOT NULL,
    trimmed_ms INTEGER NOT NULL
);
CREATE TABLE items (
    table_no INTEGER NOT NULL,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    image TEXT NOT NULL,
    size INTEGER NOT NULL,
    expires_ms INTEGER,
    PRIMARY KEY (table_no, pk, sk)
) WITHOUT ROWID;
CREATE INDEX items_by_expiry ON items (table_no, expires_ms) WHERE expires_ms IS NOT NULL;
CREATE TABLE shards (
    shard_no INTEGER PRIMARY KEY AUTOINCREMENT,
    table_no INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    shard_id TEXT NOT NULL,
    parent_id TEXT,
    created_ms INTEGER NOT NULL,
    start_seq INTEGER NOT NULL,
    end_seq INTEGER,
    closed_ms INTEGER,
    trimmed_seq INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX shards_by_id ON shards (table_no, shard_id);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    shard_no INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX records_by_shard ON records (shard_no, seq);
CREATE TABLE state (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
"""

# Version 2: what version 1 becomes (each statement is a step of the upgrade too, run on a version 1 file).
# The items' rows are keyed by the partition key's hash (Scan order and segments) and its text, and by the
# sort key's order bytes (shardline.local._indexes.order_bytes), so that SQLite's order is DynamoDB's.
_UPGRADE_V2: Final = """
ALTER TABLE tables ADD COLUMN stream_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tables ADD COLUMN stream_no INTEGER;
ALTER TABLE tables ADD COLUMN indexes TEXT NOT NULL DEFAULT '[[],[]]';
ALTER TABLE tables ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
ALTER TABLE tables ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tables ADD COLUMN account TEXT NOT NULL DEFAULT '';
CREATE TABLE streams (
    stream_no INTEGER PRIMARY KEY AUTOINCREMENT,
    table_no INTEGER NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    view_type TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    disabled_ms INTEGER
);
CREATE INDEX streams_by_table ON streams (table_no, created_ms);
INSERT INTO streams (table_no, arn, view_type, created_ms)
    SELECT table_no, stream_arn, view_type, created_ms FROM tables;
UPDATE tables SET stream_no = (SELECT s.stream_no FROM streams s WHERE s.table_no = tables.table_no),
    account = substr(stream_arn, length('arn:aws:dynamodb:' || region || ':') + 1, 12);
ALTER TABLE shards ADD COLUMN stream_no INTEGER;
UPDATE shards SET stream_no = (SELECT t.stream_no FROM tables t WHERE t.table_no = shards.table_no);
CREATE INDEX shards_by_stream ON shards (stream_no, created_ms);
DROP INDEX items_by_expiry;
ALTER TABLE items RENAME TO items_v1;
CREATE TABLE items (
    table_no INTEGER NOT NULL,
    hash INTEGER NOT NULL,
    pk TEXT NOT NULL,
    sk BLOB NOT NULL,
    image TEXT NOT NULL,
    size INTEGER NOT NULL,
    expires_ms INTEGER,
    PRIMARY KEY (table_no, hash, pk, sk)
) WITHOUT ROWID;
CREATE INDEX items_by_expiry ON items (table_no, expires_ms) WHERE expires_ms IS NOT NULL;
CREATE TABLE index_entries (
    table_no INTEGER NOT NULL,
    index_name TEXT NOT NULL,
    ihash INTEGER NOT NULL,
    ipk TEXT NOT NULL,
    isk BLOB NOT NULL,
    pko BLOB NOT NULL,
    sk BLOB NOT NULL,
    hash INTEGER NOT NULL,
    pk TEXT NOT NULL,
    PRIMARY KEY (table_no, index_name, ihash, ipk, isk, pko, sk)
) WITHOUT ROWID;
"""


class Database:
    """One connection to the state database, shared by a store's threads under a lock.

    `write()` runs a block in a write transaction (`BEGIN IMMEDIATE`, so another process's writer
    waits for the lock instead of failing later); a `write()` inside another one becomes a savepoint of
    the outer transaction. `read()` gives a consistent snapshot across several statements. Each of them
    turns an SQLite error raised inside its block into a [`StoreError`][shardline.local.StoreError].

    `create=False` opens an existing file only: a missing one is a [`StoreError`][shardline.local.StoreError] and
    nothing is created (read-only commands must leave no file behind).

    `cache()` keeps what the store derived from the file (a table's settings, the counters, the open shards)
    for as long as the file is known to be unchanged by anything else: SQLite's `PRAGMA data_version` (the
    "PRAGMA data_version" page of its documentation) changes when another connection commits, and a
    transaction rolled back after it wrote something may have undone what the cache learnt inside it.
    """

    __slots__ = ("_cache", "_connection", "_data_version", "_depth", "_lock", "name")

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool, timeout: float, create: bool = True) -> None:
        self.name = _path_text(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._cache: dict[Any, Any] = {}
        self._data_version = -1
        memory = self.name == ":memory:"
        target = self.name
        if not memory:
            target = self._check_file(create=create)
        try:
            # isolation_level=None: no implicit transactions; this class issues BEGIN and COMMIT itself.
            # check_same_thread=False: the lock above serialises the threads sharing the connection.
            # mode=rw: open an existing file, never create one (SQLite's URI parameters).
            connection = sqlite3.connect(
                target,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=not memory and not create,
            )
        except sqlite3.Error as exc:
            raise self._translate(exc, "cannot open it") from exc
        self._connection: sqlite3.Connection | None = connection
        try:
            self._prepare(connection, fsync=fsync, memory=memory)
        except BaseException:
            self._connection = None
            with suppress(sqlite3.Error):
                connection.close()
            raise

    def _check_file(self, *, create: bool) -> str:
        """What to hand SQLite for a file path, after the checks that give clearer errors than SQLite's."""
        path = Path(self.name).expanduser()
        try:
            mode = path.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):  # NotADirectoryError: a file where a directory belongs
            mode = None
        except OSError as exc:
            raise StoreError(f"cannot use the state file {self.name} ({exc.strerror or exc})") from None
        if mode is not None and stat.S_ISDIR(mode):
            raise StoreError(
                f"{self.name} is a directory, not a state file; give the path of a file in it, such as "
                f"{path / 'state.db'}"
            )
        if mode is not None and not stat.S_ISREG(mode):
            raise StoreError(f"{self.name} is not a regular file; give the path of a state file")
        if mode is None:
            if not create:
                raise StoreError(f"no state database at {self.name}: nothing has been written there yet")
            parent = path.parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{self.name}: cannot create the directory of the state database ({exc.strerror or exc})"
                ) from None
            return str(path)
        if create:
            return str(path)
        return path.absolute().as_uri() + "?mode=rw"

    def _prepare(self, connection: sqlite3.Connection, *, fsync: bool, memory: bool) -> None:
        try:
            if not memory:
                # WAL: readers never block the writer nor each other, and another process sees each commit
                # as soon as it is made.
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode != "wal":  # pragma: no cover - a file system without shared memory
                    raise StoreError(f"{self.name}: SQLite cannot use write-ahead logging here (mode {mode})")
            connection.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        except _ERRORS as exc:
            raise self._translate(exc, "cannot open it") from exc
        with self.write():
            application, version = _identity(connection)
            if application == 0 and version == 0:
                if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise StoreError(
                        f"{self.name} is an SQLite database of another application, not shardline state; "
                        "give --state (or Store) a new path"
                    )
                _run_script(connection, SCHEMA_V1)
                _run_script(connection, _UPGRADE_V2)
                connection.execute("DROP TABLE items_v1")
                connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif application != APPLICATION_ID:
                raise StoreError(f"{self.name} is an SQLite database of another application, not shardline state")
            elif version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.name} was written by a newer shardline (state format {version}; this one reads "
                    f"{SCHEMA_VERSION}): upgrade shardline"
                )
            elif version == 1:
                self._upgrade_v1(connection)

    def _upgrade_v1(self, connection: sqlite3.Connection) -> None:
        """Turn a version 1 file into a version 2 one, in the transaction that opens it: a crash leaves it
        version 1, untouched. Items get their new row keys; every table keeps its stream (now the first
        stream of the table) and gets no indexes."""
        from shardline.local._indexes import order_bytes, partition_hash

        _run_script(connection, _UPGRADE_V2)
        key_types: dict[int, tuple[str, str | None]] = {}
        for row in connection.execute("SELECT table_no, key_schema FROM tables").fetchall():
            table_no, schema = self.check_row(row, "is", "a row of the tables table")
            pairs = self.decode_json(schema, "a key schema")
            if (
                not isinstance(pairs, list)
                or not 1 <= len(pairs) <= 2
                or not all(isinstance(pair, list) and len(pair) == 2 and pair[1] in ("S", "N", "B") for pair in pairs)
            ):
                raise self.damaged("a key schema is not one shardline writes")
            key_types[table_no] = (pairs[0][1], pairs[1][1] if len(pairs) == 2 else None)
        rows = connection.execute("SELECT table_no, pk, sk, image, size, expires_ms FROM items_v1")
        converted = []
        for row in rows.fetchall():
            table_no, pk, sk, image, size, expires = self.check_row(row, "isssiI", "an item")
            if table_no not in key_types:
                continue  # an item of no table: nothing could read it
            partition_type, sort_type = key_types[table_no]
            try:
                sort = order_bytes(sort_type, sk) if sort_type is not None else b""
            except (ValueError, ArithmeticError):  # binascii.Error, decimal.InvalidOperation
                raise self.damaged(f"a sort key of table number {table_no} is not a {sort_type} value") from None
            converted.append((table_no, partition_hash(partition_type, pk), pk, sort, image, size, expires))
        connection.executemany(
            "INSERT INTO items (table_no, hash, pk, sk, image, size, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            converted,
        )
        connection.execute("DROP TABLE items_v1")
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @property
    def connection(self) -> sqlite3.Connection:
        connection = self._connection
        if connection is None:
            raise StoreError(f"the store {self.name} is closed")
        return connection

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, or a savepoint of the one this thread has open."""
        with self._lock:
            connection = self.connection
            depth = self._depth
            changes = connection.total_changes
            if depth:
                savepoint = f"nested_{depth}"
                self._execute(connection, f"SAVEPOINT {savepoint}")
                self._depth = depth + 1
                try:
                    yield connection
                except BaseException as exc:
                    self._undone(connection, changes)
                    self._quietly(connection, f"ROLLBACK TO {savepoint}", f"RELEASE {savepoint}")
                    if isinstance(exc, _ERRORS):
                        raise self._translate(exc) from exc
                    raise
                else:
                    self._execute(connection, f"RELEASE {savepoint}")
                finally:
                    self._depth = depth
                return
            self._execute(connection, "BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException as exc:
                self._undone(connection, changes)
                if _in_transaction(connection):
                    self._quietly(connection, "ROLLBACK")
                if isinstance(exc, _ERRORS):
                    raise self._translate(exc) from exc
                raise
            finally:
                self._depth = 0

    def _undone(self, connection: sqlite3.Connection, changes: int) -> None:
        """A transaction or savepoint is being rolled back: if it wrote anything, what the cache learnt
        since it began may be undone with it."""
        with suppress(*_ERRORS):
            if connection.total_changes == changes:
                return
        self._cache.clear()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several statements (inside a write transaction: that transaction)."""
        with self._lock:
            connection = self.connection
            if self._depth:
                try:
                    yield connection
                except _ERRORS as exc:
                    raise self._translate(exc) from exc
                return
            self._execute(connection, "BEGIN")  # deferred: the snapshot is taken at the first read
            try:
                yield connection
            except BaseException as exc:
                self._quietly(connection, "COMMIT")  # ends the read; nothing was written
                if isinstance(exc, _ERRORS):
                    raise self._translate(exc) from exc
                raise
            self._execute(connection, "COMMIT")

    @contextmanager
    def statement(self) -> Iterator[sqlite3.Connection]:
        """The connection, for one statement (autocommit outside a transaction)."""
        with self._lock:
            try:
                yield self.connection
            except _ERRORS as exc:
                raise self._translate(exc) from exc

    def cache(self, connection: sqlite3.Connection) -> dict[Any, Any]:
        """What the store derived from the file, while nothing else changed it: emptied when another
        connection committed since the last call (call it inside the transaction that uses the entries, or
        after the statement that read them). The store updates the entries along with its own writes."""
        (version,) = connection.execute("PRAGMA data_version").fetchone()
        if version != self._data_version:
            self._cache.clear()
            self._data_version = version
        return self._cache

    def forget(self) -> None:
        """Empty the cache: the caller changed settings the entries describe."""
        self._cache.clear()

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                try:
                    connection.close()
                except sqlite3.Error as exc:  # pragma: no cover - SQLite closes even a damaged file
                    raise self._translate(exc) from exc

    # -- values read back --------------------------------------------------------------------------------

    def damaged(self, detail: str) -> StoreError:
        """The error for a file whose contents are not what shardline wrote."""
        return StoreError(f"the state file {self.name} is damaged ({detail}); move it away to start afresh")

    def check_row(self, row: Sequence[Any] | None, kinds: str, what: str) -> tuple[Any, ...]:
        """`row` as a tuple, after checking each column's type: `i` an integer, `s` text, `I` and
        `S` the same or NULL, `b` a BLOB, `.` anything. A damaged file can hold a value of any type in any column
        (SQLite's columns are typed by affinity, not enforced), which would otherwise fail far away."""
        if row is None or len(row) != len(kinds):
            raise self.damaged(f"{what} is missing")
        for value, kind in zip(row, kinds, strict=True):
            if kind == ".":
                continue
            expected = int if kind in "iI" else bytes if kind == "b" else str
            if type(value) is not expected and not (value is None and kind in "IS"):
                raise self.damaged(f"{what} holds {type(value).__name__} where {expected.__name__} belongs")
        return tuple(row)

    def decode_json(self, text: object, what: str) -> Any:
        """The JSON `text` read from `what`, or the damaged-file error."""
        if type(text) is not str:
            raise self.damaged(f"{what} is not text")
        try:
            return _DECODER.decode(text)
        except (ValueError, RecursionError):  # JSONDecodeError, NaN, digit limit; nesting deeper than Python
            raise self.damaged(f"{what} is not readable JSON") from None

    # -- SQLite's errors -----------------------------------------------------------------------------------

    def _execute(self, connection: sqlite3.Connection, sql: str) -> None:
        try:
            connection.execute(sql)
        except _ERRORS as exc:
            raise self._translate(exc) from exc

    @staticmethod
    def _quietly(connection: sqlite3.Connection, *statements: str) -> None:
        """Undo after a failure; when the file is too broken even for that, the first error is the one to
        report (SQLite has rolled back by itself after most of them)."""
        with suppress(*_ERRORS):
            for sql in statements:
                connection.execute(sql)

    def _translate(self, exc: sqlite3.Error | UnicodeDecodeError, doing: str = "") -> StoreError:
        """What an SQLite error means for the user, and what to do (SQLite's result codes: the "Result and
        Error Codes" page of its documentation)."""
        if isinstance(exc, UnicodeDecodeError):  # text in the file that is not UTF-8, which SQLite never writes
            return self.damaged(f"text that is not UTF-8 ({exc.reason})")
        code = _primary_code(exc)
        # SQLite's messages can quote the file's bytes (a damaged schema): one line of printable text only.
        text = "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in str(exc))
        lowered = text.lower()
        name = self.name
        if code in (_CORRUPT, _NOTADB) or "malformed" in lowered or "not a database" in lowered:
            return self.damaged(text)
        if isinstance(exc, sqlite3.IntegrityError) or code == _CONSTRAINT:
            # The store's own writes satisfy every constraint of its schema; a broken one means the rows
            # are not what shardline wrote.
            return self.damaged(f"inconsistent rows: {text}")
        if "could not decode" in lowered or lowered.startswith(("no such table", "no such column")):
            return self.damaged(text)
        if code == _READONLY or "readonly" in lowered or "read-only" in lowered:
            return StoreError(
                f"the state file {name} is read-only ({text}): make it and its directory writable, or use "
                "a copy that is"
            )
        if code in (_BUSY, _LOCKED) or "locked" in lowered:
            return StoreError(
                f"{name}: {text}; another process kept the state database locked for longer than the store's timeout"
            )
        if code == _FULL or "disk is full" in lowered:
            return StoreError(f"cannot write the state file {name}: {text}; free some space and try again")
        if code in (_CANTOPEN, _PERM) or "unable to open" in lowered:
            return StoreError(
                f"cannot open the state file {name} ({text}): check that it and its directory exist and that "
                "you may read and write them"
            )
        if code == _IOERR or "i/o error" in lowered:
            return StoreError(f"the state file {name} could not be read or written ({text})")
        what = f" ({doing})" if doing else ""
        return StoreError(f"the state database {name} failed{what}: {text}")


def _path_text(path: object) -> str:
    """The text of a state path, refusing what no file name can be before SQLite or the OS sees it."""
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(
            f"the state path must be a str or a path-like object such as pathlib.Path, got {type(path).__name__}"
        )
    try:
        text = os.fspath(path)
    except TypeError as exc:
        raise ArgumentTypeError(f"the state path: {exc}") from None
    if not isinstance(text, str):
        raise ArgumentTypeError(f"the state path must be text, not {type(text).__name__}")
    if not text:
        raise StoreError('the state path is empty; give the path of a file, or ":memory:"')
    if "\x00" in text:
        raise StoreError(f"the state path {text!r} holds a NUL character, which no file name can")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StoreError(
            f"the state path {text!r} is not valid Unicode text (a lone surrogate at index {exc.start})"
        ) from None
    return text


def check_text(value: object, what: str) -> str:
    """`value`, a `str` SQLite can store: the type is checked, and text with a lone surrogate (which has
    no UTF-8 form, and so is not text DynamoDB or SQLite can hold) is refused."""
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{what} must be text (str), got {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"{what} holds a lone surrogate ({value[exc.start]!r} at index {exc.start}), which is not a "
                "character and has no UTF-8 form"
            ) from None
    return str.__str__(value)


# What a statement on the connection raises: SQLite's errors, and text in the file that is not UTF-8 (which
# the sqlite3 module fails to decode while fetching a row).
_ERRORS: Final = (sqlite3.Error, UnicodeDecodeError)


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11 and later
    return code & 0xFF if isinstance(code, int) else None


def _in_transaction(connection: sqlite3.Connection) -> bool:
    try:
        return connection.in_transaction
    except sqlite3.Error:  # pragma: no cover - a closed connection
        return False


def _not_json(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


# Stored JSON is read with one decoder (json.loads with options would build one per call); NaN and
# Infinity are refused, as shardline never writes them.
_DECODER: Final = json.JSONDecoder(parse_constant=_not_json)


def sequence_text(seq: int) -> str:
    """The `SequenceNumber` of counter value `seq`."""
    return str(SEQUENCE_BASE + seq)


def _run_script(connection: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would commit the open transaction first.
    for statement in script.split(";\n"):
        if statement.strip():
            connection.execute(statement)


def _identity(connection: sqlite3.Connection) -> tuple[int, int]:
    application = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    return int(application), int(version)
