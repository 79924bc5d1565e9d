"""The state database: one SQLite file in WAL mode, its schema, and transactions that nest.

Why SQLite's guarantees are enough (README, "Durability"): a write and its stream record are rows of one
transaction; a commit appends the transaction's pages to the write-ahead log and a commit frame last, so
a process killed mid-commit leaves frames without a commit frame, which the next open ignores. Once
``COMMIT`` returns, the frames are in the operating system's file cache and survive the process. With
``fsync=True`` (``PRAGMA synchronous=FULL``) the log is also flushed to the disk at every commit, which
makes a commit survive a power cut too.

Schema (every time an integer of epoch milliseconds, every sequence number an integer offset)::

    counters  one row: the last sequence number handed out, the latest time written
    tables    name, key schema, view type, TTL attribute, shard count, rollover and retention periods,
              stream ARN, region, and how far records were last trimmed
    items     (table_no, pk, sk) -> typed image (JSON), its size, its TTL expiry in ms
    shards    per table: slot (hash bucket), shard ID, parent, creation, sequence range, trimmed point
    records   seq (global, the rowid) -> shard, creation time, the record's JSON
    state     (namespace, key) -> text, for other components (the event source mapping's checkpoints)
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from shardline.local._errors import StoreError

__all__ = ["SEQUENCE_BASE", "Database", "sequence_text"]

SCHEMA_VERSION: Final = 1
# Sequence numbers: one counter for the whole database, so every record (and every shard's starting number)
# has its own. DynamoDB Streams' numbers are 21 to 40 digits and only compare within a shard; adding a
# 27-digit base keeps ours that long for the first 9 * 10**26 records while int() still orders them.
SEQUENCE_BASE: Final = 10**26
# PRAGMA application_id: marks the file as a shardline state database ("SHLN").
APPLICATION_ID: Final = 0x53484C4E

_SCHEMA: Final = """
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


class Database:
    """One connection to the state database, shared by a store's threads under a lock.

    ``write()`` runs a block in a write transaction (``BEGIN IMMEDIATE``, so another process's writer
    waits for the lock instead of failing later); a ``write()`` inside another one becomes a savepoint of
    the outer transaction. ``read()`` gives a consistent snapshot across several statements.
    """

    __slots__ = ("_connection", "_depth", "_lock", "name")

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool, timeout: float) -> None:
        self.name = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        memory = self.name == ":memory:"
        if not memory:
            parent = Path(self.name).expanduser().parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{self.name}: cannot create the directory of the state database ({exc.strerror or exc})"
                ) from exc
        try:
            # isolation_level=None: no implicit transactions; this class issues BEGIN and COMMIT itself.
            # check_same_thread=False: the lock above serialises the threads sharing the connection.
            connection = sqlite3.connect(self.name, timeout=timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.name}: cannot open the state database ({exc})") from exc
        self._connection: sqlite3.Connection | None = connection
        try:
            self._prepare(connection, fsync=fsync, memory=memory)
        except BaseException:
            connection.close()
            self._connection = None
            raise

    def _prepare(self, connection: sqlite3.Connection, *, fsync: bool, memory: bool) -> None:
        try:
            if not memory:
                # WAL: readers never block the writer nor each other, and another process sees each commit
                # as soon as it is made.
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode != "wal":  # pragma: no cover - a file system without shared memory
                    raise StoreError(f"{self.name}: SQLite cannot use write-ahead logging here (mode {mode})")
            connection.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            with self.write():
                application, version = _identity(connection)
                if application == 0 and version == 0:
                    if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                        raise StoreError(
                            f"{self.name} is an SQLite database of another application, not shardline state; "
                            "give --state (or Store) a new path"
                        )
                    # Statement by statement: executescript() would commit the open transaction first.
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            connection.execute(statement)
                    connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
                    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                elif application != APPLICATION_ID:
                    raise StoreError(f"{self.name} is an SQLite database of another application, not shardline state")
                elif version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.name} was written by a newer shardline (state format {version}; this one reads "
                        f"{SCHEMA_VERSION}): upgrade shardline"
                    )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.name}: not a usable state database ({exc})") from exc

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
            if depth:
                savepoint = f"nested_{depth}"
                connection.execute(f"SAVEPOINT {savepoint}")
                self._depth = depth + 1
                try:
                    yield connection
                except BaseException:
                    connection.execute(f"ROLLBACK TO {savepoint}")
                    connection.execute(f"RELEASE {savepoint}")
                    raise
                else:
                    connection.execute(f"RELEASE {savepoint}")
                finally:
                    self._depth = depth
                return
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(
                    f"{self.name}: {exc}; another process kept the state database locked for longer than the "
                    "store's timeout"
                ) from exc
            self._depth = 1
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several statements (inside a write transaction: that transaction)."""
        with self._lock:
            connection = self.connection
            if self._depth:
                yield connection
                return
            connection.execute("BEGIN")  # deferred: the snapshot is taken at the first read
            try:
                yield connection
            finally:
                connection.execute("COMMIT")  # ends the read; nothing was written

    @contextmanager
    def statement(self) -> Iterator[sqlite3.Connection]:
        """The connection, for one statement (autocommit outside a transaction)."""
        with self._lock:
            yield self.connection

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()


def sequence_text(seq: int) -> str:
    """The ``SequenceNumber`` of counter value ``seq``."""
    return str(SEQUENCE_BASE + seq)


def _identity(connection: sqlite3.Connection) -> tuple[int, int]:
    application = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    return int(application), int(version)
