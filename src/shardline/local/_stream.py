"""A table's stream, read as DynamoDB Streams is: describe the shards, get an iterator, get records.

Positions and their rules (the DynamoDB Streams guide and the DynamoDB Streams API reference):

- an iterator is a position in one shard, "after sequence number p", and the time it was issued; it
  expires 15 minutes later ([`ExpiredIteratorError`][shardline.local.ExpiredIteratorError]);
- `TRIM_HORIZON` is just before the oldest record kept, `LATEST` just after the newest,
  `AT_SEQUENCE_NUMBER`/`AFTER_SEQUENCE_NUMBER` at or after a number of the shard's range;
- reading at a position whose next records were trimmed (older than the retention) raises
  [`TrimmedDataAccessError`][shardline.local.TrimmedDataAccessError], as does asking for an iterator at a trimmed
  number;
- `get_records` returns at most `limit` (1..1000) records and 1 MB; a closed shard read to its end
  answers with no next iterator, an open one with an iterator at the same place.
"""

from __future__ import annotations

import binascii
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import TYPE_CHECKING, Any, Final, final

from shardline.local._db import INT64_MAX, SEQUENCE_BASE, Database, check_text, sequence_text
from shardline.local._errors import (
    ExpiredIteratorError,
    ResourceNotFoundError,
    TrimmedDataAccessError,
    ValidationError,
)

if TYPE_CHECKING:
    import sqlite3

    from shardline.local._store import Table

__all__ = ["ITERATOR_LIFETIME_MS", "ITERATOR_TYPES", "Stream"]

ITERATOR_TYPES: Final = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
"""The four ways to position a shard iterator: `TRIM_HORIZON`, `LATEST`, `AT_SEQUENCE_NUMBER` and
`AFTER_SEQUENCE_NUMBER` ([GetShardIterator](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html))."""
ITERATOR_LIFETIME_MS: Final = 15 * 60 * 1000
"""A shard iterator expires 15 minutes (900,000 ms) after it is returned, as
[GetShardIterator](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html)
documents."""
_RECORD_LIMIT: Final = 1000  # GetRecords: at most 1000 records...
_BYTE_LIMIT: Final = 1024 * 1024  # ...or 1 MB, whichever comes first
_SHARD_COLUMNS: Final = "shard_no, shard_id, parent_id, start_seq, end_seq, closed_ms, trimmed_seq"
_SHARD_KINDS: Final = "isSiIIi"
# An iterator's payload: four integers of at most 19 digits (SQLite's 64-bit range), base64 encoded.
_PAYLOAD_MAX: Final = 128
_EVENT_NAMES: Final = frozenset({"INSERT", "MODIFY", "REMOVE"})


@final
class Stream:
    """The stream of a [`Table`][shardline.local.Table]: the DynamoDB Streams API over the store.

    Records are in the shape Lambda delivers them (with `eventSourceARN`); their `SequenceNumber`
    texts compare as integers within a shard. Positions follow DynamoDB Streams' rules
    ([GetShardIterator](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html),
    [GetRecords](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html)):

    - an iterator is a position in one shard, and it expires 15 minutes after it was issued
      ([`ExpiredIteratorError`][shardline.local.ExpiredIteratorError]);
    - `TRIM_HORIZON` is just before the oldest record kept, `LATEST` just after the newest,
      `AT_SEQUENCE_NUMBER` and `AFTER_SEQUENCE_NUMBER` at or after a number of the shard's range;
    - reading at a position whose next records were trimmed (older than the retention) raises
      [`TrimmedDataAccessError`][shardline.local.TrimmedDataAccessError], as does asking for an iterator at a
      trimmed number;
    - [`get_records`][shardline.local.Stream.get_records] returns at most `limit` (1 to 1000) records and 1 MB;
      a closed shard read to its end answers with no next iterator, an open one with an iterator at the same
      place.

    Examples:
        >>> from shardline.local import Store
        >>> store = Store(":memory:")
        >>> table = store.create_table("Orders", key_schema={"pk": "S"})
        >>> _ = table.put_item({"pk": "order#1"})
        >>> shard = table.stream.describe_stream()["Shards"][0]["ShardId"]
        >>> iterator = table.stream.get_shard_iterator(shard, "TRIM_HORIZON")
        >>> [record["eventName"] for record in table.stream.get_records(iterator)["Records"]]
        ['INSERT']
        >>> store.close()
    """

    __slots__ = ("_arn", "_no", "_table", "_view_type")

    def __init__(self, table: Table, stream_no: int, arn: str, view_type: str) -> None:
        self._table = table
        self._no = stream_no
        self._arn = arn
        self._view_type = view_type

    def __repr__(self) -> str:
        return f"<Stream {self._arn}>"

    @property
    def stream_arn(self) -> str:
        """`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`."""
        return self._arn

    @property
    def stream_label(self) -> str:
        """The stream's label: the time it was created (DynamoDB's StreamLabel)."""
        return self._arn.rpartition("/")[2]

    @property
    def stream_view_type(self) -> str:
        """Which images the stream's records carry."""
        return self._view_type

    @property
    def table_name(self) -> str:
        """The name of the table whose writes the stream records."""
        return self._table.name

    def describe_stream(self) -> dict[str, Any]:
        """The `StreamDescription`: ARN, label, status, view type, table, key schema and the shards.

        Shards are listed parents first. A closed shard has an `EndingSequenceNumber`; a shard closed
        longer ago than the retention (its records all trimmed) is no longer listed, as on DynamoDB Streams,
        though iterators for it still work, so a reader that knew it can finish it. `StreamStatus` is
        `ENABLED`, or `DISABLED` once the table's stream was disabled (every shard is closed then).
        """
        table = self._table
        now = table._maintain_if_due()
        db = table._store._database
        with db.read() as connection:
            table._check_exists(connection)
            status = connection.execute("SELECT disabled_ms FROM streams WHERE stream_no = ?", (self._no,)).fetchone()
            if status is None:
                raise ResourceNotFoundError(f"Requested resource not found: Stream: {self._arn} not found")
            rows = connection.execute(
                "SELECT shard_id, parent_id, start_seq, end_seq FROM shards WHERE stream_no = ?"
                " AND (closed_ms IS NULL OR closed_ms > ?) ORDER BY created_ms, shard_no",
                (self._no, now - table.retention_ms),
            ).fetchall()
        (disabled_ms,) = db.check_row(status, "I", f"the stream {self._arn}")
        shards = []
        for row in rows:
            shard_id, parent_id, start_seq, end_seq = db.check_row(row, "sSiI", f"a shard of {self._arn}")
            numbers = {"StartingSequenceNumber": sequence_text(start_seq)}
            if end_seq is not None:
                numbers["EndingSequenceNumber"] = sequence_text(end_seq)
            shard: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": numbers}
            if parent_id is not None:
                shard["ParentShardId"] = parent_id
            shards.append(shard)
        key_types = ("HASH", "RANGE")
        return {
            "StreamArn": self._arn,
            "StreamLabel": self.stream_label,
            "StreamStatus": "ENABLED" if disabled_ms is None else "DISABLED",
            "StreamViewType": self._view_type,
            "TableName": table.name,
            "KeySchema": [
                {"AttributeName": name, "KeyType": kind} for name, kind in zip(table._schema, key_types, strict=False)
            ],
            "Shards": shards,
        }

    def get_shard_iterator(self, shard_id: str, iterator_type: str, sequence_number: str | None = None) -> str:
        """An iterator positioned in shard `shard_id`: `iterator_type` is one of
        [`ITERATOR_TYPES`][shardline.local.ITERATOR_TYPES] (see [`Stream`][shardline.local.Stream] for where each
        one points).

        `sequence_number` is required by `AT_SEQUENCE_NUMBER` and `AFTER_SEQUENCE_NUMBER` and must lie
        in the shard's range; the others refuse it. Raises
        [`ResourceNotFoundError`][shardline.local.ResourceNotFoundError] for a shard the stream never had and
        [`TrimmedDataAccessError`][shardline.local.TrimmedDataAccessError] for a trimmed number.
        """
        shard_id = check_text(shard_id, "shard_id")
        if not isinstance(iterator_type, str) or iterator_type not in ITERATOR_TYPES:
            raise ValidationError(f"iterator type {iterator_type!r}: expected one of {', '.join(ITERATOR_TYPES)}")
        wanted = None
        if iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if sequence_number is None:
                raise ValidationError(f"{iterator_type} needs a sequence_number")
            wanted = _parse_sequence(sequence_number)
        elif sequence_number is not None:
            raise ValidationError(f"{iterator_type} takes no sequence_number (it is for AT_ and AFTER_SEQUENCE_NUMBER)")
        table = self._table
        now = table._maintain_if_due()
        db = table._store._database
        for attempt in range(2):
            position: int | None
            with db.read() as connection:
                table._check_exists(connection)
                shard = connection.execute(
                    f"SELECT {_SHARD_COLUMNS} FROM shards WHERE table_no = ? AND shard_id = ? AND stream_no = ?",
                    (table._no, shard_id, self._no),
                ).fetchone()
                if shard is None:
                    raise ResourceNotFoundError(f"shard {shard_id!r} is not a shard of {self._arn}")
                shard_no, _, _, start_seq, end_seq, _, trimmed_seq = db.check_row(
                    shard, _SHARD_KINDS, f"shard {shard_id}"
                )
                if iterator_type == "TRIM_HORIZON":
                    position = max(start_seq - 1, trimmed_seq)
                    if attempt == 0 and _first_expired(db, connection, shard_no, position, now - table.retention_ms):
                        position = None  # records past the retention are still there: trim, then look again
                elif iterator_type == "LATEST":
                    position = end_seq if end_seq is not None else _last_seq(db, connection)
                else:
                    assert wanted is not None
                    last = end_seq if end_seq is not None else _last_seq(db, connection)
                    if not start_seq <= wanted <= last:
                        raise ValidationError(
                            f"sequence number {sequence_number} is outside shard {shard_id}'s range "
                            f"{sequence_text(start_seq)}..{sequence_text(last)}"
                        )
                    position = wanted - 1 if iterator_type == "AT_SEQUENCE_NUMBER" else wanted
                    _check_trimmed(
                        db,
                        connection,
                        shard_no,
                        position,
                        trimmed_seq=trimmed_seq,
                        horizon=now - table.retention_ms,
                        shard_id=shard_id,
                    )
            if position is not None:
                return _encode(self._arn, table._no, shard_no, position, now)
            with table._writer(force_trim=True):
                pass
        raise AssertionError("unreachable")  # pragma: no cover - the second pass always positions

    def get_records(self, iterator: str, limit: int = _RECORD_LIMIT) -> dict[str, Any]:
        """The records after the iterator's position: `{"Records": [...], "NextShardIterator": ...}`.

        At most `limit` records (1..1000) and 1 MB of them (always at least one record when there is
        one). `NextShardIterator` is `None` once a closed shard has been read to its end.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _RECORD_LIMIT:
            raise ValidationError(f"limit must be 1..{_RECORD_LIMIT}, got {limit!r}")
        table = self._table
        shard_no, position, issued = _decode(self._arn, table, iterator)
        now = table._maintain_if_due()
        if issued - now > ITERATOR_LIFETIME_MS:
            # Every iterator carries the time it was issued, which is never later than the store's time then:
            # one dated further ahead than processes sharing the file can disagree was made up, and would
            # otherwise never expire.
            raise ValidationError(_DAMAGED + " (it is dated after the store's clock)")
        if now - issued > ITERATOR_LIFETIME_MS:
            raise ExpiredIteratorError(
                f"the shard iterator expired {(now - issued - ITERATOR_LIFETIME_MS) / 1000:g} s ago (iterators last "
                "15 minutes): get a new one with AFTER_SEQUENCE_NUMBER and the last record processed"
            )
        db = table._store._database
        with db.read() as connection:
            table._check_exists(connection)
            shard = connection.execute(
                f"SELECT {_SHARD_COLUMNS} FROM shards WHERE table_no = ? AND shard_no = ? AND stream_no = ?",
                (table._no, shard_no, self._no),
            ).fetchone()
            if shard is None:
                raise ResourceNotFoundError(f"the iterator's shard is not a shard of {self._arn}")
            _, shard_id, _, start_seq, end_seq, _, trimmed_seq = db.check_row(
                shard, _SHARD_KINDS, f"a shard of {self._arn}"
            )
            # An iterator points just before a record of its shard, or at its end: anything else was not issued
            # by get_shard_iterator or get_records, and reading from it could skip records.
            if not start_seq - 1 <= position <= (end_seq if end_seq is not None else _last_seq(db, connection)):
                raise ValidationError(_DAMAGED + f" (its position is outside shard {shard_id})")
            horizon = now - table.retention_ms
            _check_trimmed(
                db, connection, shard_no, position, trimmed_seq=trimmed_seq, horizon=horizon, shard_id=shard_id
            )
            rows = connection.execute(
                "SELECT seq, body FROM records WHERE shard_no = ? AND seq > ? ORDER BY seq LIMIT ?",
                (shard_no, position, limit + 1),
            ).fetchall()
        records: list[dict[str, Any]] = []
        size = 0
        for row in rows[:limit]:
            seq, body = row
            if type(seq) is not int or type(body) is not str:
                db.check_row(row, "is", f"a record of shard {shard_id}")  # raises the damaged-file error
            size += len(body)
            if size > _BYTE_LIMIT and records:
                break
            records.append(_stored_record(db, body, seq, shard_id))
            position = seq
        more = len(records) < len(rows)
        following = None if end_seq is not None and not more else _encode(self._arn, table._no, shard_no, position, now)
        return {"Records": records, "NextShardIterator": following}


def _last_seq(db: Database, connection: sqlite3.Connection) -> int:
    (last,) = db.check_row(connection.execute("SELECT last_seq FROM counters").fetchone(), "i", "the counters row")
    return int(last)


def _first_expired(db: Database, connection: sqlite3.Connection, shard_no: int, position: int, horizon: int) -> bool:
    """Whether the record following `position` in the shard is older than the retention."""
    row = connection.execute(
        "SELECT created_ms FROM records WHERE shard_no = ? AND seq > ? ORDER BY seq LIMIT 1", (shard_no, position)
    ).fetchone()
    return row is not None and db.check_row(row, "i", "a record")[0] < horizon


def _check_trimmed(
    db: Database,
    connection: sqlite3.Connection,
    shard_no: int,
    position: int,
    *,
    trimmed_seq: int,
    horizon: int,
    shard_id: str,
) -> None:
    # Records up to trimmed_seq were deleted from the shard; records older than the horizon are as good as
    # deleted. Either way, a reader after `position` would miss records: DynamoDB Streams refuses to serve it.
    if position < trimmed_seq or _first_expired(db, connection, shard_no, position, horizon):
        raise TrimmedDataAccessError(
            f"records of shard {shard_id} after sequence number {sequence_text(position)} are past the stream's "
            "retention and were trimmed; start again from TRIM_HORIZON"
        )


def _parse_sequence(text: object) -> int:
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or not 21 <= len(text) <= 40:
        raise ValidationError(f"sequence number {text!r}: expected the digits of a record's SequenceNumber")
    return int(text) - SEQUENCE_BASE


def _encode(arn: str, table_no: int, shard_no: int, position: int, now: int) -> str:
    # Shaped like DynamoDB Streams' iterators ("<stream ARN>|1|<opaque text>"); the opaque part is ours.
    payload = urlsafe_b64encode(f"{table_no}:{shard_no}:{position}:{now}".encode()).decode("ascii")
    return f"{arn}|1|{payload}"


_DAMAGED: Final = "the shard iterator is damaged; get a new one from get_shard_iterator"


def _decode(stream_arn: str, table: Table, iterator: object) -> tuple[int, int, int]:
    if not isinstance(iterator, str):
        raise ValidationError(f"a shard iterator is text from get_shard_iterator, got {type(iterator).__name__}")
    arn, _, payload = iterator.rpartition("|1|")
    if arn != stream_arn:
        raise ValidationError(
            f"the shard iterator is not one of {stream_arn}'s; get one from this stream's get_shard_iterator"
        )
    # Only what _encode writes: int() alone would also take signs, "_" between digits, spaces and other
    # scripts' digits (Arabic-Indic U+0661), and numbers SQLite cannot hold.
    if len(payload) > _PAYLOAD_MAX or not payload.isascii():
        raise ValidationError(_DAMAGED)
    try:
        fields = urlsafe_b64decode(payload).split(b":")
    except (ValueError, binascii.Error):
        raise ValidationError(_DAMAGED) from None
    if len(fields) != 4 or not all(field.isdigit() and len(field) <= 19 for field in fields):
        raise ValidationError(_DAMAGED)
    table_no, shard_no, position, issued = (int(field) for field in fields)
    if max(table_no, shard_no, position, issued) > INT64_MAX:
        raise ValidationError(_DAMAGED)
    if table_no != table._no:
        raise ResourceNotFoundError(f"the shard iterator belongs to an earlier table called {table.name!r}")
    return shard_no, position, issued


def _stored_record(db: Database, body: str, seq: int, shard_id: str) -> dict[str, Any]:
    """A record as read back from the file, checked enough that readers can rely on its shape: an object
    whose `eventName` is one of the three and whose `dynamodb` carries the record's own sequence number."""
    record = db.decode_json(body, f"a record of shard {shard_id}")
    dynamodb = record.get("dynamodb") if isinstance(record, dict) else None
    if (
        not isinstance(dynamodb, dict)
        or record.get("eventName") not in _EVENT_NAMES
        or dynamodb.get("SequenceNumber") != sequence_text(seq)
        or not isinstance(dynamodb.get("Keys"), dict)
    ):
        raise db.damaged(f"record {sequence_text(seq)} of shard {shard_id} is not one shardline writes")
    return record  # type: ignore[no-any-return]
