"""Realistic DynamoDB Streams events from a small model of a table.

[`EventBuilder`][shardline.testing.EventBuilder] keeps the items of one table in memory. Each write (put, update,
delete, a Time to Live delete) is compared with the item it replaces and, when it changes something, recorded as the
stream record DynamoDB would write (AWS docs): the right event name, the images the stream's view type carries, an exact
`SizeBytes`, increasing sequence numbers and the clock's time. `build()` turns the recorded changes into a Lambda event,
as DynamoDB Streams delivers it or wrapped by Kinesis Data Streams for DynamoDB, and `build_window()` into a
tumbling-window invoke.

Everything random (event IDs, sequence numbers) comes from one `random.Random(seed)`, so the same seed
and the same writes give the same JSON text.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import uuid
from base64 import b64encode
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from hashlib import blake2b
from typing import Any, Final, NamedTuple, final

from shardline._attributes import _check_key_schema, _type_name, deserialize_item
from shardline._changes import (
    ModelKey,
    apply_update,
    check_view_type,
    event_name,
    item_image,
    key_image,
    keys_of,
    model_key,
    parse_update,
    stream_record,
)
from shardline.testing._clock import Clock, VirtualClock, iso_z, to_datetime, to_ms

__all__ = ["EventBuilder", "check_stream_location", "generate_items", "iter_items"]

_DEFAULT_KEY_SCHEMA: Final = {"Id": "N"}  # the table of SAM's sample event
_CHANGE_KINDS: Final = ("put", "update", "delete", "ttl_delete")
_UPDATE_FIELDS: Final = frozenset({"key", "set", "remove"})
# DynamoDB's rule for table names; anything else would also break the stream ARN ("table/<name>/stream/...").
_TABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")
_ARN_PART: Final = re.compile(r"[a-z0-9-]+")
# Sequence numbers. DynamoDB Streams' are 21 to 40 digits (SAM's sample: 28 digits); gaps between
# consecutive records are irregular. Kinesis's are 56 digits and grow in much larger steps. Both ranges
# leave room for billions of records before a number gains a digit.
_STREAM_SEQUENCE_START: Final = (10**27, 5 * 10**27)
_STREAM_SEQUENCE_GAP: Final = (1, 100_000)
_KINESIS_SEQUENCE_START: Final = (49 * 10**54, 496 * 10**53)
_KINESIS_SEQUENCE_GAP: Final = (10**20, 10**24)
_WINDOW_LIMIT: Final = 900  # TumblingWindowInSeconds: 1..900 (0 turns windows off)


class _Change(NamedTuple):
    """One recorded change: its DynamoDB Streams record and what the Kinesis form needs besides."""

    record: dict[str, Any]
    ms: int  # the clock's reading, kept exact for Kinesis (milliseconds) and windows
    kinesis_event_id: str
    kinesis_sequence: str
    partition_key: str


def check_stream_location(*, table: str, region: str, account_id: str, partition: str) -> None:
    """Raise ValueError unless the four parts of a stream ARN are what AWS allows in them.

    Examples:
        >>> check_stream_location(table="a/b", region="us-east-1", account_id="123456789012", partition="aws")
        Traceback (most recent call last):
        ...
        ValueError: table 'a/b': DynamoDB table names are 3-255 characters of A-Z a-z 0-9 _ . -
    """
    if not isinstance(table, str) or _TABLE_NAME.fullmatch(table) is None:
        raise ValueError(f"table {_shown(table)}: DynamoDB table names are 3-255 characters of A-Z a-z 0-9 _ . -")
    if not isinstance(account_id, str) or _ACCOUNT_ID.fullmatch(account_id) is None:
        raise ValueError(f"account_id {_shown(account_id)}: an AWS account ID is 12 digits")
    for name, value in (("region", region), ("partition", partition)):
        if not isinstance(value, str) or _ARN_PART.fullmatch(value) is None:
            raise ValueError(
                f"{name} {_shown(value)}: expected lowercase letters, digits and '-' (e.g. us-east-1, aws)"
            )


def _shown(value: object, limit: int = 60) -> str:
    """A value for a message: its repr, cut short (messages never carry whole inputs)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real problem
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


@final
class EventBuilder:
    """A table in memory whose writes become DynamoDB Streams records, and the Lambda events carrying them.

    Items and keys are plain Python values (`int`/`Decimal` numbers, `bytes`, sets, nested dicts and
    lists); floats are refused because they are not exact. `key_schema` names the key attributes in
    order, partition key first (`{"pk": "S", "sk": "N"}`; default `{"Id": "N"}`, SAM's sample table).

    Without a `clock` the builder keeps its own [`VirtualClock`][shardline.testing.VirtualClock] starting at `start` and
    moves it `step_seconds` forward after each record; a given clock is only read. The stream ARN's label (the stream's
    creation time) is `start` in both cases.

    Examples:
        >>> builder = EventBuilder(key_schema={"pk": "S"})
        >>> builder.put({"pk": "order#1", "status": "placed"})["eventName"]
        'INSERT'
        >>> record = builder.update({"pk": "order#1"}, set={"status": "shipped"})
        >>> record["dynamodb"]["OldImage"]["status"], record["dynamodb"]["NewImage"]["status"]
        ({'S': 'placed'}, {'S': 'shipped'})
        >>> builder.put({"pk": "order#1", "status": "shipped"}) is None  # nothing changed: no record
        True
        >>> event = builder.build()
        >>> [record["eventName"] for record in event["Records"]], builder.pending
        (['INSERT', 'MODIFY'], 0)
    """

    __slots__ = (
        "_account_id",
        "_clock",
        "_items",
        "_kinesis_sequence",
        "_own_clock",
        "_partition",
        "_pending",
        "_region",
        "_rng",
        "_schema",
        "_sequence",
        "_step_seconds",
        "_stream_arn",
        "_table",
        "_view_type",
    )

    def __init__(
        self,
        *,
        table: str = "ExampleTableWithStream",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        partition: str = "aws",
        view_type: str = "NEW_AND_OLD_IMAGES",
        key_schema: Mapping[str, str] | None = None,
        seed: int = 0,
        start: datetime | str | int = "2026-01-01T00:00:00Z",
        clock: Clock | None = None,
        step_seconds: float = 1.0,
    ) -> None:
        check_stream_location(table=table, region=region, account_id=account_id, partition=partition)
        view_type = check_view_type(view_type)
        if isinstance(step_seconds, bool) or not isinstance(step_seconds, (int, float)):
            raise TypeError(f"step_seconds must be a number of seconds, got {type(step_seconds).__name__}")
        if not math.isfinite(step_seconds) or step_seconds < 0:
            raise ValueError(f"step_seconds must be a finite number >= 0, got {step_seconds!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        self._schema = dict(_check_key_schema(_DEFAULT_KEY_SCHEMA if key_schema is None else key_schema))
        self._table = table
        self._region = region
        self._account_id = account_id
        self._partition = partition
        self._view_type = view_type
        start_ms = to_ms(start)
        # A clock of its own moves after each record; a given one is only read (its owner moves it).
        self._own_clock: VirtualClock | None = None
        if clock is None:
            clock = self._own_clock = VirtualClock(start_ms)
        self._clock: Clock = clock
        self._step_seconds = step_seconds
        created = to_datetime(start_ms)
        label = f"{created:%Y-%m-%dT%H:%M:%S}.{created.microsecond // 1000:03d}"
        self._stream_arn = f"arn:{partition}:dynamodb:{region}:{account_id}:table/{table}/stream/{label}"
        self._rng = random.Random(seed)
        self._sequence = self._rng.randrange(*_STREAM_SEQUENCE_START)
        self._kinesis_sequence = self._rng.randrange(*_KINESIS_SEQUENCE_START)
        # The model: key (a tuple of (tag, text) per key attribute) -> typed image, in event JSON form.
        # Typed images compare exactly as DynamoDB does: numbers are normalised (1.0 is 1) and sets sorted.
        self._items: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
        self._pending: list[_Change] = []

    def __repr__(self) -> str:
        return (
            f"<EventBuilder table={self._table!r} view_type={self._view_type} items={len(self._items)} "
            f"pending={len(self._pending)}>"
        )

    @property
    def stream_arn(self) -> str:
        """The table's stream ARN: every record's `eventSourceARN`."""
        return self._stream_arn

    @property
    def pending(self) -> int:
        """How many records were recorded and not yet built into an event."""
        return len(self._pending)

    # -- writes -----------------------------------------------------------------------------------

    def put(self, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """PutItem: record an INSERT, or a MODIFY whose OldImage is the item replaced.

        Returns the stream record, or `None` when the item equals the stored one (DynamoDB writes no
        record for a write that changes nothing). Numbers compare by value: `Decimal("1.0")` is `1`.
        """
        image, _ = item_image(item, self._schema)
        key = model_key(image, self._schema)
        old = self._items.get(key)
        name = event_name(old, image)
        if name is None:
            return None
        self._items[key] = image
        return self._record(name, key, image, old)

    def update(
        self,
        key: Mapping[str, Any],
        set: Mapping[str, Any] | None = None,  # UpdateItem's SET action; shadows the builtin here only
        remove: Iterable[str] = (),
    ) -> dict[str, Any] | None:
        """UpdateItem: set and remove top-level attributes of the item with `key`.

        Like DynamoDB, an absent item is created (an INSERT holding the key and the set attributes), key
        attributes cannot be set or removed (`ValueError`), and an update that changes nothing
        records nothing (`None`). Setting an attribute to `None` stores NULL; it does not remove it.
        """
        typed_key = key_image(key, self._schema)
        update = parse_update(set, remove, self._schema)
        item_key = model_key(typed_key, self._schema)
        old = self._items.get(item_key)
        image, _ = apply_update(old, typed_key, update, self._schema)
        name = event_name(old, image)
        if name is None:
            return None
        self._items[item_key] = image
        return self._record(name, item_key, image, old)

    def delete(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """DeleteItem: record a REMOVE whose OldImage is the deleted item; `None` if there is no such item."""
        return self._remove(key, ttl=False)

    def ttl_delete(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """An expiry by Time to Live: a REMOVE carrying the DynamoDB service's `userIdentity`
        ([DynamoDB Streams and Time to Live](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html))."""
        return self._remove(key, ttl=True)

    def _remove(self, key: Mapping[str, Any], *, ttl: bool) -> dict[str, Any] | None:
        item_key = model_key(key_image(key, self._schema), self._schema)
        old = self._items.pop(item_key, None)
        if old is None:
            return None
        return self._record("REMOVE", item_key, None, old, ttl=ttl)

    def apply(self, change: Mapping[str, Any]) -> dict[str, Any] | None:
        """Apply one change written as plain JSON (a line of a JSON Lines file).

        `{"put": item}`, `{"delete": key}`, `{"ttl_delete": key}` or
        `{"update": {"key": {...}, "set": {...}, "remove": [...]}}` (`set` and `remove` optional).
        Parse the JSON with `parse_float=Decimal`: floats are refused as everywhere else.

        Examples:
            >>> EventBuilder().apply({"put": {"Id": 1, "note": "hi"}})["eventName"]
            'INSERT'
        """
        if not isinstance(change, Mapping):
            raise ValueError(f'a change must be an object such as {{"put": {{...}}}}, got {_type_name(change)}')
        if len(change) != 1:
            found = ", ".join(sorted(json.dumps(str(name)) for name in change)) or "none"
            raise ValueError(f"a change must have exactly one of put, update, delete or ttl_delete; got {found}")
        ((kind, body),) = change.items()
        if kind not in _CHANGE_KINDS:
            raise ValueError(f"unknown change {json.dumps(str(kind))}; expected put, update, delete or ttl_delete")
        if not isinstance(body, Mapping):
            what = "the item" if kind == "put" else "the key" if kind != "update" else 'the update {"key": ...}'
            raise ValueError(f"{kind}: {what} must be an object, got {_type_name(body)}")
        if kind == "put":
            return self.put(body)
        if kind == "delete":
            return self.delete(body)
        if kind == "ttl_delete":
            return self.ttl_delete(body)
        unknown = sorted(str(name) for name in body if name not in _UPDATE_FIELDS)
        if unknown:
            raise ValueError(f"update: unknown field {json.dumps(unknown[0])}; expected key, set and remove")
        if "key" not in body:
            raise ValueError('update: "key" is missing')
        key, assigned, removed = body["key"], body.get("set"), body.get("remove", [])
        if not isinstance(key, Mapping):
            raise ValueError(f"update.key: must be an object, got {_type_name(key)}")
        if assigned is not None and not isinstance(assigned, Mapping):
            raise ValueError(f"update.set: must be an object, got {_type_name(assigned)}")
        if not isinstance(removed, list):
            raise ValueError(f"update.remove: must be an array of attribute names, got {_type_name(removed)}")
        for index, name in enumerate(removed):
            if not isinstance(name, str):
                raise ValueError(f"update.remove[{index}]: attribute names are strings, got {_type_name(name)}")
        return self.update(key, set=assigned, remove=removed)

    def forget(self, key: Mapping[str, Any]) -> bool:
        """Drop the item stored under `key` from the model, recording nothing; whether there was one.

        The model keeps every item written, so that a later write is compared with it. When no later write
        will touch an item (a stream of distinct synthetic puts), forgetting it keeps memory bounded however
        many items are written; a later write to the key then finds no item, as after a delete.

        Examples:
            >>> builder = EventBuilder()
            >>> _ = builder.put({"Id": 1})
            >>> builder.forget({"Id": 1}), builder.item({"Id": 1})
            (True, None)
        """
        return self._items.pop(model_key(key_image(key, self._schema), self._schema), None) is not None

    def item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The item stored under `key`, as plain values (numbers as `Decimal`), or `None`."""
        image = self._items.get(model_key(key_image(key, self._schema), self._schema))
        return None if image is None else deserialize_item(image)

    # -- events -----------------------------------------------------------------------------------

    def build(self, *, kinesis: bool = False) -> dict[str, Any]:
        """The Lambda event `{"Records": [...]}` of every pending record, which it consumes.

        `kinesis=True` wraps each record as Kinesis Data Streams for DynamoDB delivers it.
        """
        changes, self._pending = self._pending, []
        return {"Records": [self._deliver(change, kinesis) for change in changes]}

    def build_batches(self, size: int, *, kinesis: bool = False) -> list[dict[str, Any]]:
        """Every pending record, in events of at most `size` records (an event source mapping's BatchSize)."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a whole number of records >= 1, got {size!r}")
        changes, self._pending = self._pending, []
        return [
            {"Records": [self._deliver(change, kinesis) for change in changes[first : first + size]]}
            for first in range(0, len(changes), size)
        ]

    def build_window(
        self,
        *,
        state: Mapping[str, Any] | None = None,
        window_seconds: int = 60,
        final: bool = False,
        terminated_early: bool = False,
        shard_id: str | None = None,
    ) -> dict[str, Any]:
        """A tumbling-window invoke of the pending records that fall in the first pending record's window.

        Windows are aligned to multiples of `window_seconds` since the epoch, as Lambda aligns them
        ([tumbling windows](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html)).
        Records of later windows stay pending for the next call. With nothing pending, the event has no
        records and the window holds the clock's current time (Lambda's final invoke of a window may carry
        no records). `state` is what the function returned last time (`{}` on a window's first invoke).
        """
        if isinstance(window_seconds, bool) or not isinstance(window_seconds, int):
            raise TypeError(f"window_seconds must be an int, got {type(window_seconds).__name__}")
        if not 1 <= window_seconds <= _WINDOW_LIMIT:
            raise ValueError(
                f"window_seconds must be 1..{_WINDOW_LIMIT} (TumblingWindowInSeconds), got {window_seconds}"
            )
        if state is not None and not isinstance(state, Mapping):
            raise TypeError(f"state must be a mapping, got {type(state).__name__}")
        first_ms = self._pending[0].ms if self._pending else self._clock.now_ms()
        span = window_seconds * 1000
        start_ms = first_ms - first_ms % span
        end_ms = start_ms + span
        count = 0
        for change in self._pending:
            if not start_ms <= change.ms < end_ms:
                break  # records arrive in order: the next window starts here
            count += 1
        changes, self._pending = self._pending[:count], self._pending[count:]
        return {
            "Records": [self._deliver(change, False) for change in changes],
            "window": {"start": iso_z(start_ms), "end": iso_z(end_ms)},
            "state": copy.deepcopy(dict(state)) if state is not None else {},
            "shardId": shard_id if shard_id is not None else self._shard_id(),
            "eventSourceARN": self._stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": terminated_early,
        }

    # -- internals --------------------------------------------------------------------------------

    def _record(
        self,
        name: str,
        item_key: ModelKey,
        new: dict[str, Any] | None,
        old: dict[str, Any] | None,
        *,
        ttl: bool = False,
    ) -> dict[str, Any]:
        """Record one change as DynamoDB Streams writes it, and return a copy of the record."""
        rng = self._rng
        identity = rng.getrandbits(128)
        self._sequence += rng.randrange(*_STREAM_SEQUENCE_GAP)
        self._kinesis_sequence += rng.randrange(*_KINESIS_SEQUENCE_GAP)
        ms = self._clock.now_ms()
        keys = keys_of(item_key, self._schema)
        record = stream_record(
            name,
            keys,
            new,
            old,
            view_type=self._view_type,
            sequence_number=str(self._sequence),
            created_ms=ms,
            event_id=f"{identity:032x}",
            region=self._region,
            source_arn=self._stream_arn,
            ttl=ttl,
        )
        # A deep copy: the model's images must not change when a caller edits a record or an event.
        record = copy.deepcopy(record)
        self._pending.append(
            _Change(
                record=record,
                ms=ms,
                kinesis_event_id=str(uuid.UUID(int=identity, version=4)),
                kinesis_sequence=str(self._kinesis_sequence),
                partition_key=self._partition_key(keys),
            )
        )
        if self._own_clock is not None:
            self._own_clock.advance(round(self._step_seconds * 1000))
        return copy.deepcopy(record)

    def _partition_key(self, keys: dict[str, Any]) -> str:
        # Kinesis Data Streams for DynamoDB uses a hash of the table and item key: stable per item, so one
        # item's changes stay on one Kinesis shard, in order.
        text = json.dumps([self._table, keys], sort_keys=True, separators=(",", ":"))
        return blake2b(text.encode("utf-8"), digest_size=16).hexdigest().upper()

    def _shard_id(self) -> str:
        # DynamoDB shard IDs look like "shardId-00000001596128400000-6a0e9c11": creation time in
        # milliseconds, then 8 hex digits. Derived from the stream ARN so it does not draw from the RNG.
        created = to_ms(self._stream_arn.rsplit("/", 1)[1] + "+00:00")
        suffix = blake2b(self._stream_arn.encode("utf-8"), digest_size=4).hexdigest()
        return f"shardId-{created:020d}-{suffix}"

    def _deliver(self, change: _Change, kinesis: bool) -> dict[str, Any]:
        if not kinesis:
            return change.record
        record = change.record
        stream = record["dynamodb"]
        # The Kinesis form: milliseconds, a UUID event ID, the table's name, no eventVersion,
        # eventSourceARN, SequenceNumber or StreamViewType (AWS docs, "Kinesis Data Streams for DynamoDB").
        dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": change.ms, "Keys": stream["Keys"]}
        for field in ("NewImage", "OldImage"):
            if field in stream:
                dynamodb[field] = stream[field]
        dynamodb["SizeBytes"] = stream["SizeBytes"]
        inner = {
            "awsRegion": self._region,
            "eventID": change.kinesis_event_id,
            "eventName": record["eventName"],
            "userIdentity": record.get("userIdentity"),
            "recordFormat": "application/json",
            "tableName": self._table,
            "dynamodb": dynamodb,
            "eventSource": "aws:dynamodb",
        }
        data = b64encode(json.dumps(inner, separators=(",", ":")).encode("utf-8")).decode("ascii")
        sequence = change.kinesis_sequence
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": change.partition_key,
                "sequenceNumber": sequence,
                "data": data,
                "approximateArrivalTimestamp": change.ms / 1000,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"shardId-000000000000:{sequence}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:{self._partition}:iam::{self._account_id}:role/lambda-kinesis-role",
            "awsRegion": self._region,
            "eventSourceARN": (
                f"arn:{self._partition}:kinesis:{self._region}:{self._account_id}:stream/{self._table}-changes"
            ),
        }


# --------------------------------------------------------------------------------------------------
# Synthetic items

_STATUSES: Final = ("PENDING", "PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED")
_TAGS: Final = ("gift", "express", "fragile", "bulk", "priority", "eco", "returnable", "b2b")
_CITIES: Final = (
    ("Berlin", "DE", "10115"),
    ("Lyon", "FR", "69001"),
    ("Osaka", "JP", "530-0001"),
    ("Austin", "US", "73301"),
    ("Porto", "PT", "4000-001"),
    ("Zürich", "CH", "8001"),  # a non-ASCII name: sizes count UTF-8 bytes
)
_STREETS: Final = ("Main St", "Harbour Rd", "Lindenallee", "Rue de la Paix", "Calle Mayor", "Elm Row")
_CURRENCIES: Final = ("EUR", "USD", "JPY", "GBP")


def generate_items(count: int, *, key_schema: Mapping[str, str] | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """`count` distinct, realistic order items for `key_schema` (default `{"Id": "N"}`).

    Each item uses every DynamoDB type: strings, exact `Decimal` amounts with cents, ints, a set of
    tags, a set of numbers, a nested address map, a list of order lines, a NULL, a BOOL and a binary.
    Keys are distinct by construction; with a sort key, a few items share each partition key. The same
    seed gives the same items.

    Examples:
        >>> items = generate_items(2, key_schema={"pk": "S", "sk": "N"}, seed=7)
        >>> [(item["pk"], item["sk"]) for item in items]
        [('order#006305', 1), ('order#006305', 2)]
        >>> items[0]["amount"], items[0]["tags"], items[0]["coupon"]
        (Decimal('1500.94'), {'returnable'}, None)
    """
    return list(iter_items(count, key_schema=key_schema, seed=seed))


def iter_items(count: int, *, key_schema: Mapping[str, str] | None = None, seed: int = 0) -> Iterator[dict[str, Any]]:
    """The items of [`generate_items`][shardline.testing.generate_items], one at a time: memory stays bounded however
    large `count` is.

    The arguments are checked at once, not when the first item is taken.

    Examples:
        >>> items = iter_items(10**12, seed=7)
        >>> next(items)["Id"], next(items)["Id"]
        (6305, 6306)
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be an int, got {type(count).__name__}")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    schema = list(_check_key_schema(_DEFAULT_KEY_SCHEMA if key_schema is None else key_schema))
    return _items(count, schema, random.Random(seed))


def _items(count: int, schema: list[tuple[str, str]], rng: random.Random) -> Iterator[dict[str, Any]]:
    base = rng.randrange(1000, 10_000)  # the first order number: varies with the seed
    per_partition = 1 if len(schema) == 1 else 3  # with a sort key, a few items share a partition key
    ((pk_name, pk_type), *rest) = schema
    for index in range(count):
        group, position = divmod(index, per_partition)
        item: dict[str, Any] = {pk_name: _key_value(pk_type, "order", base + group)}
        if rest:
            ((sk_name, sk_type),) = rest
            item[sk_name] = _key_value(sk_type, "line", position + 1)
        for name, value in _order_attributes(rng).items():
            item.setdefault(name, value)  # a key attribute keeps its key value
        yield item


def _key_value(kind: str, prefix: str, number: int) -> Any:
    if kind == "N":
        return number
    if kind == "S":
        return f"{prefix}#{number:06d}"
    return f"{prefix}#{number:06d}".encode("ascii")


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    cents = rng.randrange(low, high)
    return Decimal(f"{cents // 100}.{cents % 100:02d}")  # exact: built from text, never from a float


def _order_attributes(rng: random.Random) -> dict[str, Any]:
    city, country, postcode = rng.choice(_CITIES)
    lines = [
        (f"SKU-{rng.randrange(10_000):04d}", rng.randrange(1, 6), _cents(rng, 99, 50_000))
        for _ in range(rng.randrange(1, 4))
    ]
    created = to_datetime(to_ms("2026-01-01T00:00:00Z") + rng.randrange(90 * 86_400) * 1000)
    return {
        "status": rng.choice(_STATUSES),
        "amount": sum((price * qty for _, qty, price in lines), Decimal(0)),
        "currency": rng.choice(_CURRENCIES),
        "customer": f"customer#{rng.randrange(1, 500):04d}",
        "created_at": f"{created:%Y-%m-%dT%H:%M:%S}Z",
        "tags": set(rng.sample(_TAGS, rng.randrange(1, 4))),
        "warehouses": set(rng.sample(range(1, 40), rng.randrange(1, 3))),
        "address": {
            "street": f"{rng.randrange(1, 200)} {rng.choice(_STREETS)}",
            "city": city,
            "postcode": postcode,
            "country": country,
        },
        "lines": [{"sku": sku, "qty": qty, "price": price} for sku, qty, price in lines],
        "gift": rng.random() < 0.3,
        "coupon": None,
        "checksum": rng.getrandbits(64).to_bytes(8, "big"),
    }
