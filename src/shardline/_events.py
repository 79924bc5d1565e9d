"""Typed, lazily decoded views of DynamoDB Streams Lambda events.

`StreamEvent` wraps the event Lambda passes to the function; its `records` are `StreamRecord` views
over the raw record dicts. Nothing is decoded until it is read, and everything decoded is cached:

* `record.new_image["status"]` decodes that one attribute;
* iterating the image, `len`/`==`/`repr`, `dict(image)`, `{**image}`, `json.dumps`, `copy` and
  `pickle` decode the rest once, after which the image is an ordinary dict at C speed.

Kinesis Data Streams for DynamoDB events are recognised too: their records carry the DynamoDB change
record as base64 JSON, which is unwrapped on first use.

A record keeps what it decoded for as long as it lives, and no longer: `event.records` makes each record
when it is read and holds it only weakly, so a record (with its images) that nobody holds any more is freed
at once, while a record someone holds is the one handed out again. A batch of a thousand records then
decodes into memory that the previous record just gave back, and leaves nothing for the garbage collector.
"""

from __future__ import annotations

import binascii
import json
import math
from _thread import allocate_lock
from _weakref import ref as _weakref
from base64 import b64decode
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import Enum
from typing import Any, Final, NoReturn, TypeVar, final, overload

from ._attributes import (
    _BUDGET,
    _DECODERS,
    _binary,
    _number,
    _walk_name,
    decode_attribute,
    decode_pairs,
    explain_pairs,
)
from ._attributes import _type_name as _kind
from ._exceptions import AttributeValueError, EventShapeError, JSONInputError
from ._json import json_loads

__all__ = ["EventName", "StreamEvent", "StreamRecord", "StreamRecords", "StreamViewType"]

_T = TypeVar("_T")
_UNSET: Final[Any] = object()
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The epoch times a datetime can hold (years 1 to 9999), in microseconds: checked before any conversion, so
# that 1E+400000 is refused at once instead of being expanded to a 400,000-digit integer first.
_MIN_MICROS: Final = (datetime.min.replace(tzinfo=timezone.utc) - _EPOCH) // timedelta(microseconds=1)
_MAX_MICROS: Final = (datetime.max.replace(tzinfo=timezone.utc) - _EPOCH) // timedelta(microseconds=1)
# Exact for every time in that range (at most 18 digits before the point); its own context, so that a caller's
# decimal settings (a lower precision, a trapped Inexact) cannot change the result.
_TIME_CONTEXT: Final = Context(prec=60, rounding=ROUND_HALF_EVEN)
#: The identity DynamoDB puts on a record when Time to Live deleted the item (and only then).
TTL_PRINCIPAL: Final = "dynamodb.amazonaws.com"


class EventName(str, Enum):
    """The kind of change a stream record describes. Prints as its value on every Python version."""

    INSERT = "INSERT"
    """A new item was written: the record has a NewImage (if the view type carries it) and no OldImage."""
    MODIFY = "MODIFY"
    """An existing item changed: the record can carry both images."""
    REMOVE = "REMOVE"
    """An item was deleted, by a write or by Time to Live: the record can carry the OldImage."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return self.value.__format__(spec)


class StreamViewType(str, Enum):
    """Which images a stream writes into its records (the table's StreamViewType)."""

    KEYS_ONLY = "KEYS_ONLY"
    """Only the item's key attributes."""
    NEW_IMAGE = "NEW_IMAGE"
    """The item as it is after the change."""
    OLD_IMAGE = "OLD_IMAGE"
    """The item as it was before the change."""
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"
    """Both images of the item."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return self.value.__format__(spec)


_EVENT_NAMES: Final = {member.value: member for member in EventName}
# Where an image sits in a record, for error paths (built once, not per record).
_STREAM_PATHS: Final = {field: f"dynamodb.{field}" for field in ("NewImage", "OldImage")}
_KINESIS_PATHS: Final = {field: f"kinesis.data.dynamodb.{field}" for field in ("NewImage", "OldImage")}
# dict's own methods, for storage a lazy image's overrides must not see (typed loosely on purpose: the
# placeholder key below is not a str).
# (setdefault rather than __setitem__: a method is cheaper to call than a slot wrapper, and a value stored
# meanwhile by another thread wins, so every reader gets the same object.)
_dict_setdefault: Final[Callable[[dict[Any, Any], Any, Any], Any]] = dict.setdefault


@final
class _Unfilled:
    """The key a lazy image stores until it is filled (see _image)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<shardline: lazily decoded image, pass dict(image) or use new_image_as()>"


_UNFILLED: Final = _Unfilled()
_new_lazy_image: Final = dict.__new__
_VIEW_TYPES: Final = {member.value: member for member in StreamViewType}


# --------------------------------------------------------------------------------------------------
# Images


class _ImageBase(dict[str, Any]):
    # __weakref__: an image can be watched without being kept (a cache of the user's, a test that checks
    # what a batch let go).
    __slots__ = ("__weakref__", "_field", "_index", "_raw")

    _raw: dict[str, Any] | None
    # Where the image sits, for error messages: its record's index in the event (or None) and its field,
    # "dynamodb.NewImage" say. The path is only built when an error needs it, and the image holds no
    # reference back to its record (a cycle per record would leave work for the garbage collector).
    _index: int | None
    _field: str

    def _where(self) -> str:
        return _record_path(self._index, self._field)

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        # Copies and pickles are plain dicts: they do not depend on shardline to be read back.
        return (dict, (dict(self),))

    @classmethod
    def fromkeys(cls, iterable: Any, value: Any = None) -> dict[Any, Any]:
        return dict.fromkeys(iterable, value)


class Image(_ImageBase):
    """A fully decoded item image: a plain `dict` of attribute names to Python values."""

    __slots__ = ()


class _LazyImage(Image):
    """An item image that decodes attributes as they are read and becomes an `Image` once full.

    Its dict storage holds only what was decoded so far, so every operation that sees the whole mapping
    first decodes the rest ("fills") and switches the object's class to `Image`, whose methods are
    dict's own. Reading one key, `in`, `len` and `get` need no fill.

    It subclasses `Image` so that Python asks it first in `image == lazy` and `dict == lazy`.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Image:  # type: ignore[misc]
        # Code that copies a mapping with `type(m)(pairs)` (dataclasses.asdict, for one) gets an Image.
        # shardline makes its lazy images with _new_lazy_image().
        return Image(*args, **kwargs)

    def __missing__(self, name: str) -> Any:
        raw = self._raw
        if raw is None:  # filled meanwhile (another thread, or a method bound before the fill)
            raise KeyError(name)
        try:
            av = raw[name]
            (tag,) = av  # the fast path of _decode, inlined: this runs once per attribute read
            value = av[tag]
            if tag == "S" and type(value) is str:
                if not value.isascii():
                    value.encode()  # lone surrogates raise: DynamoDB text is UTF-8
            elif tag == "N":
                value = _number(value)
            else:
                value = _DECODERS[tag](value, 1, [_BUDGET])
            if not name:
                raise ValueError
            if not name.isascii():
                name.encode()  # a name that is not UTF-8 text raises
        except Exception:  # noqa: BLE001 - sorted out below, outside the handler so errors are not chained
            pass
        else:
            return _dict_setdefault(self, name, value)
        try:
            present = name in raw
        except TypeError:  # unhashable, as dict itself would say
            present = False
        if not present:
            raise KeyError(name)
        if type(name) is not str or not name:
            raise AttributeValueError("attribute names must be non-empty strings", self._where())
        _walk_name(name, self._where())  # text that has no UTF-8 form
        return _dict_setdefault(self, name, decode_attribute(raw[name], self._where(), name))

    def _fill(self) -> Image:
        """Decode every attribute not decoded yet, then become an `Image`. Safe to call again."""
        raw = self._raw
        if raw is None:
            return self
        if dict.__len__(self) == 1:
            # The usual case: nothing was read before (the storage holds only the placeholder). Decode into a
            # plain dict, then move it into the storage with one C-level update, during which no other thread
            # can look at the image.
            try:
                if "" in raw:
                    raise ValueError
                names = "".join(raw)  # every name is a string
                if not names.isascii():
                    names.encode()  # and UTF-8 text
                values = decode_pairs(raw.items(), 1, [_BUDGET])
            except Exception:  # noqa: BLE001 - explained below, outside the handler, with the image still lazy
                values = None
            if values is None:
                _explain_image(self, raw, {})
            dict.clear(self)
        else:
            # Attributes were read before: keep the objects already handed out, in the image's order.
            storage: dict[Any, Any] = self  # its keys are not all strings until it is filled
            stored = {name: value for name, value in dict.items(storage) if name is not _UNFILLED}
            try:
                names = "".join(raw)
                if not names.isascii():
                    names.encode()
                decoded = decode_pairs(((name, av) for name, av in raw.items() if name not in stored), 1, [_BUDGET])
                values = {name: stored[name] if name in stored else decoded[name] for name in raw}
            except Exception:  # noqa: BLE001 - explained below, outside the handler
                values = None
            if values is None:
                _explain_image(self, raw, stored)
            dict.clear(self)
        dict.update(self, values)  # one C-level call: a concurrent reader never sees it half done
        self.__class__ = Image  # type: ignore[assignment]  # same layout; a filled image is a plain Image
        self._raw = None
        return self

    # Answered from the raw image, without decoding.
    def __len__(self) -> int:
        raw = self._raw
        return len(raw) if raw is not None else dict.__len__(self)

    def __contains__(self, name: object) -> bool:
        raw = self._raw
        return name in raw if raw is not None else dict.__contains__(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        raw = self._raw
        if raw is None:
            return dict.get(self, name, default)
        return self[name] if name in raw else default

    # Everything else sees the whole content.
    def __iter__(self) -> Iterator[str]:
        return iter(_LazyImage._fill(self))

    def __reversed__(self) -> Iterator[str]:
        return reversed(_LazyImage._fill(self))

    def keys(self) -> Any:
        return _LazyImage._fill(self).keys()

    def values(self) -> Any:
        return _LazyImage._fill(self).values()

    def items(self) -> Any:
        return _LazyImage._fill(self).items()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _LazyImage):
            _LazyImage._fill(other)  # dict's comparison reads the other side's storage directly
        return dict.__eq__(_LazyImage._fill(self), other)

    def __ne__(self, other: object) -> bool:
        return not _LazyImage.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(_LazyImage._fill(self))

    def __or__(self, other: Any) -> Any:
        return _LazyImage._fill(self) | other

    def __ror__(self, other: Any) -> Any:
        return other | dict(_LazyImage._fill(self))

    def __ior__(self, other: Any) -> Any:
        image = _LazyImage._fill(self)
        image |= other
        return image

    def copy(self) -> dict[str, Any]:
        return dict(_LazyImage._fill(self))

    def __setitem__(self, name: str, value: Any) -> None:
        _LazyImage._fill(self)[name] = value

    def __delitem__(self, name: str) -> None:
        del _LazyImage._fill(self)[name]

    def setdefault(self, name: str, default: Any = None) -> Any:
        return _LazyImage._fill(self).setdefault(name, default)

    def pop(self, name: str, *default: Any) -> Any:
        return _LazyImage._fill(self).pop(name, *default)

    def popitem(self) -> tuple[str, Any]:
        return _LazyImage._fill(self).popitem()

    def update(self, *args: Any, **kwargs: Any) -> None:
        _LazyImage._fill(self).update(*args, **kwargs)

    def clear(self) -> None:
        _LazyImage._fill(self).clear()


def _explain_image(image: _ImageBase, raw: dict[str, Any], stored: dict[Any, Any]) -> NoReturn:
    """Raise the precise error for the first attribute of `raw` that does not decode: the careful walk over
    the attributes not decoded yet, which counted against one budget on the fast path too."""
    for name in raw:
        if type(name) is not str or not name:
            raise AttributeValueError("attribute names must be non-empty strings", image._where())
    explain_pairs(((name, av) for name, av in raw.items() if name not in stored), image._where())


def _image(raw: Any, index: int | None, field: str) -> dict[str, Any]:
    image = _new_lazy_image(_LazyImage)
    image._index = index
    image._field = field
    if type(raw) is not dict:
        if not isinstance(raw, Mapping):
            raise EventShapeError(
                f"must be an object of attribute names to AttributeValues, got {_kind(raw)}", image._where()
            )
        raw = dict(raw)
    image._raw = raw
    if not raw:
        return _LazyImage._fill(image)
    # The storage must not be empty: json's C encoder prints "{}" for a dict subclass whose storage is empty
    # without asking it for its items, while any stored key makes it call items(), which fills the image.
    # A private sentinel key costs nothing to store, no user code can ask for it, and filling removes it.
    # (C extensions that read a dict's storage directly, such as orjson, fail loudly on it instead of
    # writing half an image.)
    _dict_setdefault(image, _UNFILLED, None)
    return image


# --------------------------------------------------------------------------------------------------
# Records


@final
class StreamRecord:
    """One DynamoDB stream record, typed and lazily decoded.

    Fields a record must have (eventID, eventName, dynamodb, its Keys and SequenceNumber) raise
    [`EventShapeError`][shardline.EventShapeError] when missing or malformed; optional ones are `None` when absent.

    A record decodes its `keys` and each image once and keeps them for as long as it lives
    (`record.new_image is record.new_image`). An image does not refer back to its record: kept alone, it
    stays complete and valid after the record is gone.

    Examples:
        >>> record = StreamRecord({
        ...     "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        ...     "dynamodb": {"Keys": {"Id": {"N": "101"}}, "NewImage": {"Id": {"N": "101"}, "qty": {"N": "2"}},
        ...                  "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_IMAGE"}})
        >>> f"{record.event_name} {record.keys['Id']} {record.new_image['qty']}"
        'INSERT 101 2'
    """

    # __weakref__: the event holds its records weakly (see StreamRecords).
    __slots__ = ("__weakref__", "_change", "_index", "_keys", "_new", "_old", "_raw")

    def __init__(self, raw: Mapping[str, Any], index: int | None = None) -> None:
        if type(raw) is not dict:
            if not isinstance(raw, Mapping):
                raise EventShapeError(f"a stream record must be an object, got {_kind(raw)}", _record_path(index, ""))
            raw = dict(raw)
        self._raw = raw
        self._index = index  # position in the event, for error paths
        self._change: dict[str, Any] = raw if "kinesis" not in raw else _UNSET
        self._keys: dict[str, Any] = _UNSET
        self._new: dict[str, Any] | None = _UNSET
        self._old: dict[str, Any] | None = _UNSET

    def __reduce__(self) -> tuple[type[StreamRecord], tuple[dict[str, Any], int | None]]:
        return (StreamRecord, (self._raw, self._index))  # decoded caches are rebuilt on demand

    def __repr__(self) -> str:
        try:
            name: object = self.event_name.value
            sequence = self.sequence_number
        except ShapeErrors:
            return f"<StreamRecord (malformed) {_record_path(self._index, '') or ''}>".replace(" >", ">")
        if not (sequence.isascii() and len(sequence) <= 64):
            sequence = _show(sequence)  # a hand-made record: keep the repr short and printable
        return f"<StreamRecord {name} seq={sequence}>"

    # -- raw access -----------------------------------------------------------------------------

    @property
    def raw(self) -> dict[str, Any]:
        """The record as Lambda delivered it (for Kinesis, the outer Kinesis record)."""
        return self._raw

    @property
    def stream_record(self) -> dict[str, Any]:
        """The DynamoDB change record: `raw` itself, or the decoded `kinesis.data` for Kinesis."""
        change = self._change
        if change is _UNSET:
            change = self._change = self._unwrap_kinesis()
        return change

    @property
    def is_kinesis(self) -> bool:
        """True when the record came through Kinesis Data Streams for DynamoDB."""
        return self._change is not self._raw

    def _unwrap_kinesis(self) -> dict[str, Any]:
        kinesis = self._raw["kinesis"]
        path = self._path("kinesis.data")
        data = kinesis.get("data") if isinstance(kinesis, Mapping) else None
        if type(data) is not str:
            raise EventShapeError("missing or not a string (expected base64 JSON of a DynamoDB record)", path)
        try:
            text = b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EventShapeError(f"is not base64 JSON of a DynamoDB change record ({exc})", path) from None
        try:
            # json_loads: strict JSON, and one error type for what cannot be read (nesting too deep for the
            # interpreter, integers too long to convert, text that is not UTF-8).
            change = json_loads(text)
        except JSONInputError as exc:
            raise EventShapeError(f"is not base64 JSON of a DynamoDB change record ({exc})", path) from None
        if type(change) is not dict:
            raise EventShapeError(f"decodes to {_kind(change)}, expected a DynamoDB change record object", path)
        return change

    def _path(self, field: str) -> str:
        return _record_path(self._index, field)

    def _dynamodb(self) -> dict[str, Any]:
        change = self._change if self._change is not _UNSET else self.stream_record
        ddb = change.get("dynamodb")
        if type(ddb) is not dict:
            if isinstance(ddb, Mapping):
                return dict(ddb)
            raise EventShapeError(
                "missing" if ddb is None else f"must be an object, got {_kind(ddb)}",
                self._path(self._inner("dynamodb")),
            )
        return ddb

    def _required_str(self, container: dict[str, Any], name: str, where: str) -> str:
        value = container.get(name)
        if type(value) is not str or not value:
            problem = "missing" if value is None else f"must be a non-empty string, got {_kind(value)}"
            problem = "must not be empty" if value == "" else problem
            raise EventShapeError(problem, self._path(where))
        return value

    def _optional_str(self, container: dict[str, Any], name: str, where: str) -> str | None:
        value = container.get(name)
        if value is None or type(value) is str:
            return value
        raise EventShapeError(f"must be a string, got {_kind(value)}", self._path(where))

    # -- identity -------------------------------------------------------------------------------

    @property
    def event_id(self) -> str:
        """`eventID`: 32 hex digits for DynamoDB Streams, a UUID for Kinesis."""
        return self._required_str(self.stream_record, "eventID", self._inner("eventID"))

    @property
    def event_name(self) -> EventName:
        """`eventName` as an [`EventName`][shardline.EventName] (INSERT, MODIFY or REMOVE)."""
        value = self.stream_record.get("eventName")
        member = _EVENT_NAMES.get(value) if type(value) is str else None
        if member is None:
            problem = "missing" if value is None else f"must be INSERT, MODIFY or REMOVE, got {_show(value)}"
            raise EventShapeError(problem, self._path(self._inner("eventName")))
        return member

    @property
    def event_version(self) -> str | None:
        """`eventVersion` ("1.1" today; "1.0" in older events; the Kinesis record's version for Kinesis)."""
        return self._optional_str(self._raw, "eventVersion", "eventVersion")

    @property
    def event_source(self) -> str | None:
        """`eventSource` of the change record: `aws:dynamodb`."""
        return self._optional_str(self.stream_record, "eventSource", self._inner("eventSource"))

    @property
    def aws_region(self) -> str | None:
        """`awsRegion` of the table."""
        return self._optional_str(self.stream_record, "awsRegion", self._inner("awsRegion"))

    @property
    def event_source_arn(self) -> str | None:
        """`eventSourceARN`: the table's stream ARN (the Kinesis stream's ARN for Kinesis records)."""
        return self._optional_str(self._raw, "eventSourceARN", "eventSourceARN")

    @property
    def table_name(self) -> str | None:
        """The table's name: from the stream ARN, or the `tableName` field of a Kinesis record."""
        if self.is_kinesis:
            return self._optional_str(self.stream_record, "tableName", "kinesis.data.tableName")
        arn = self.event_source_arn
        if arn is None:
            return None
        resource = arn.split(":", 5)[-1]  # "table/<name>/stream/<label>"
        parts = resource.split("/")
        if len(parts) >= 2 and parts[0] == "table" and parts[1]:
            return parts[1]
        raise EventShapeError(
            f"{_show(arn)} is not a DynamoDB stream ARN (arn:aws:dynamodb:<region>:<account>:table/<name>/stream/...)",
            self._path("eventSourceARN"),
        )

    @property
    def user_identity(self) -> dict[str, Any] | None:
        """`userIdentity`: present only on deletes made by Time to Live
        ([DynamoDB Streams and Time to Live](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html))."""
        value = self.stream_record.get("userIdentity")
        if value is None or type(value) is dict:
            return value
        raise EventShapeError(f"must be an object, got {_kind(value)}", self._path(self._inner("userIdentity")))

    @property
    def is_ttl_delete(self) -> bool:
        """True for a REMOVE made by DynamoDB's Time to Live (userIdentity is the DynamoDB service)."""
        identity = self.user_identity
        return (
            identity is not None
            and identity.get("type") == "Service"
            and identity.get("principalId") == TTL_PRINCIPAL
            and self.event_name is EventName.REMOVE
        )

    # -- the dynamodb section ---------------------------------------------------------------------

    @property
    def sequence_number(self) -> str:
        """The record's sequence number: what `batchItemFailures[].itemIdentifier` must name.

        For Kinesis records this is the Kinesis sequence number (`kinesis.sequenceNumber`), which is
        what Lambda expects back for Kinesis sources.
        """
        if self._change is self._raw:
            ddb = self._dynamodb()
            return self._required_str(ddb, "SequenceNumber", "dynamodb.SequenceNumber")
        kinesis = self._raw["kinesis"]
        if not isinstance(kinesis, Mapping):
            raise EventShapeError(f"must be an object, got {_kind(kinesis)}", self._path("kinesis"))
        value = kinesis.get("sequenceNumber")
        if type(value) is not str or not value:
            problem = "missing" if value is None else f"must be a non-empty string, got {_kind(value)}"
            problem = "must not be empty" if value == "" else problem
            raise EventShapeError(problem, self._path("kinesis.sequenceNumber"))
        return value

    @property
    def size_bytes(self) -> int | None:
        """`SizeBytes`: DynamoDB's size of Keys + NewImage + OldImage (see [`item_size`][shardline.item_size])."""
        value = self._dynamodb().get("SizeBytes")
        if value is None or (type(value) is int and value >= 0):
            return value
        raise EventShapeError(
            f"must be a whole number of bytes, got {_show(value)}",
            self._path(self._inner("dynamodb.SizeBytes")),
        )

    @property
    def view_type(self) -> StreamViewType | None:
        """`StreamViewType` (absent from Kinesis records)."""
        value = self._dynamodb().get("StreamViewType")
        if value is None:
            return None
        member = _VIEW_TYPES.get(value) if type(value) is str else None
        if member is None:
            raise EventShapeError(
                f"must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES, got {_show(value)}",
                self._path(self._inner("dynamodb.StreamViewType")),
            )
        return member

    @property
    def approximate_creation_time(self) -> datetime | None:
        """`ApproximateCreationDateTime` as an aware UTC datetime (None when absent).

        Epoch seconds in DynamoDB Streams records (a whole number, sometimes written as a float);
        milliseconds in Kinesis records, or microseconds when `ApproximateCreationDateTimePrecision` is
        `MICROSECOND`.
        """
        ddb = self._dynamodb()
        value = ddb.get("ApproximateCreationDateTime")
        if value is None:
            return None
        where = self._path(self._inner("dynamodb.ApproximateCreationDateTime"))
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise EventShapeError(f"must be a number (epoch time), got {_kind(value)}", where)
        if not self.is_kinesis:
            per_unit = 1_000_000  # seconds
        elif ddb.get("ApproximateCreationDateTimePrecision") == "MICROSECOND":
            per_unit = 1
        else:
            per_unit = 1_000  # milliseconds
        micros = _epoch_micros(value, per_unit)
        if micros is None:
            raise EventShapeError(f"{_show(value)} is out of range for a date", where)
        return _EPOCH + timedelta(microseconds=micros)

    @property
    def keys(self) -> dict[str, Any]:
        """The item's primary key attributes, decoded (`{"pk": "order#1", "sk": Decimal("3")}`)."""
        keys = self._keys
        if keys is _UNSET:
            ddb = self._dynamodb()
            raw = ddb.get("Keys")
            if raw is None:
                raise EventShapeError(
                    "missing (every stream record carries the item's key)",
                    self._path(self._inner("dynamodb.Keys")),
                )
            keys = self._keys = dict(_image(raw, self._index, self._inner("dynamodb.Keys")))
        return keys

    @property
    def new_image(self) -> dict[str, Any] | None:
        """The item after the change, decoded lazily; `None` when the record has no NewImage.

        A `dict` subclass: reading a key decodes that attribute only; anything that needs the whole
        image (iteration, `dict()`, `==`, `json.dumps`, `copy`, `pickle`) decodes the rest once.
        C extensions that read a dict's internal storage directly (orjson) must be given
        `dict(record.new_image)`; pydantic and the standard library's `json` need nothing special.
        """
        image = self._new
        if image is _UNSET:
            image = self._new = self._load_image("NewImage")
        return image

    @property
    def old_image(self) -> dict[str, Any] | None:
        """The item before the change, decoded lazily; `None` when the record has no OldImage."""
        image = self._old
        if image is _UNSET:
            image = self._old = self._load_image("OldImage")
        return image

    def _load_image(self, field: str) -> dict[str, Any] | None:
        """The lazy image of `field` ("NewImage" or "OldImage"), or None when the record has none."""
        change = self._change
        ddb = change.get("dynamodb") if change is not _UNSET else None
        if type(ddb) is not dict:
            ddb = self._dynamodb()
        raw = ddb.get(field)
        if raw is None:
            return None
        path = (_STREAM_PATHS if change is self._raw else _KINESIS_PATHS)[field]
        if type(raw) is not dict or not raw:
            return _image(raw, self._index, path)
        # _image(), inlined for the usual case: this runs for every image a handler reads.
        image = _new_lazy_image(_LazyImage)
        image._index = self._index
        image._field = path
        image._raw = raw
        _dict_setdefault(image, _UNFILLED, None)
        return image

    @property
    def changed_attributes(self) -> frozenset[str] | None:
        """Names added, removed or changed between OldImage and NewImage; `None` unless both are present.

        Values are compared as typed AttributeValues: `{"BOOL": true}` differs from `{"N": "1"}`,
        numbers compare by value (`"1.50"` equals `"1.5"`) and sets compare without order.
        """
        new, old = self.new_image, self.old_image
        if new is None or old is None:
            return None
        new.keys()  # decode (and so validate) both images in full before comparing them raw
        old.keys()
        ddb = self._dynamodb()
        raw_new, raw_old = ddb["NewImage"], ddb["OldImage"]
        changed = {name for name in raw_new if name not in raw_old or not _same(raw_new[name], raw_old[name])}
        changed.update(name for name in raw_old if name not in raw_new)
        return frozenset(changed)

    def new_image_as(self, model: Callable[..., _T]) -> _T | None:
        """Build `model` from the NewImage: a pydantic v2 model (`model_validate`), a dataclass (extra
        attributes ignored) or any callable taking the attributes as keyword arguments.

        Returns `None` when the record has no NewImage. The model's own exceptions propagate.
        """
        return _as_model(self.new_image, model)

    def old_image_as(self, model: Callable[..., _T]) -> _T | None:
        """Like [`new_image_as`][shardline.StreamRecord.new_image_as], for the OldImage."""
        return _as_model(self.old_image, model)

    def _inner(self, field: str) -> str:
        return f"kinesis.data.{field}" if self._change is not self._raw else field


ShapeErrors: Final = (EventShapeError, AttributeValueError)


def sequence_numbers(records: Iterable[StreamRecord]) -> list[str]:
    """Every record's `sequence_number`, or the EventShapeError of the first record without one.

    The batch runner reads them all before any handler runs; this is the property's work with the common
    case (a DynamoDB Streams record carrying a non-empty string) inlined. Given an event's
    [`StreamRecords`][shardline.StreamRecords], it reads the raw records and makes no record but for an error or a
    Kinesis one.
    """
    numbers = []
    if type(records) is StreamRecords:
        raws = records._raws
        for position in records._positions:
            raw = raws[position]
            ddb = raw.get("dynamodb") if "kinesis" not in raw else None
            number = ddb.get("SequenceNumber") if type(ddb) is dict else None
            if type(number) is not str or not number:
                number = records._record(position).sequence_number  # Kinesis, or the precise error
            numbers.append(number)
        return numbers
    for record in records:
        raw = record._raw
        ddb = raw.get("dynamodb") if record._change is raw else None
        number = ddb.get("SequenceNumber") if type(ddb) is dict else None
        if type(number) is not str or not number:
            number = record.sequence_number  # Kinesis, or the precise error
        numbers.append(number)
    return numbers


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Typed equality of two valid AttributeValues."""
    ((tag, left),) = a.items()
    ((other_tag, right),) = b.items()
    if tag != other_tag:
        return False
    if tag == "N":
        return bool(_number(left) == _number(right))
    if tag == "B":
        return _binary(left) == _binary(right)
    if tag == "SS":
        return set(left) == set(right)
    if tag == "NS":
        return set(map(_number, left)) == set(map(_number, right))
    if tag == "BS":
        return set(map(_binary, left)) == set(map(_binary, right))
    if tag == "M":
        return left.keys() == right.keys() and all(_same(left[name], right[name]) for name in left)
    if tag == "L":
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)  # S, BOOL, NULL


def _as_model(image: dict[str, Any] | None, model: Callable[..., _T]) -> _T | None:
    if image is None:
        return None
    data = dict(image)
    validate = getattr(model, "model_validate", None)
    if validate is not None:  # pydantic v2
        return validate(data)  # type: ignore[no-any-return]
    fields = getattr(model, "__dataclass_fields__", None)
    if fields is not None:
        accepted = {
            name
            for name, field in fields.items()
            if getattr(field, "init", True) and "CLASSVAR" not in str(getattr(field, "_field_type", ""))
        }
        return model(**{name: value for name, value in data.items() if name in accepted})
    return model(**data)


# --------------------------------------------------------------------------------------------------
# The records of an event

_new_object: Final = object.__new__


def _record_dict(raw: object, index: int) -> dict[str, Any]:
    """A raw record as a dict (what StreamRecord.__init__ does), or the EventShapeError naming it."""
    if not isinstance(raw, Mapping):
        raise EventShapeError(f"a stream record must be an object, got {_kind(raw)}", _record_path(index, ""))
    return dict(raw)


@final
class StreamRecords(Sequence[StreamRecord]):
    """The records of a [`StreamEvent`][shardline.StreamEvent] (`event.records`), or a part of them (a
    [`BatchResult`][shardline.BatchResult]'s `succeeded`, `skipped`...): an immutable sequence that makes each
    [`StreamRecord`][shardline.StreamRecord] when it is read, and keeps it only while someone else does.

    Why: a record caches what it decoded (its keys and images). Held by the event, every record of a batch,
    and every image a handler read, would stay in memory until the whole event was dropped, so each record
    would decode into fresh memory and feed the garbage collector. Made on demand and held weakly, a record
    that nobody holds any more is freed with its images as soon as the loop moves on, and the next record
    decodes into the memory it gave back.

    What holds:

    * one live record per position: while any code holds the record at a position, reading that position
      (`records[i]`, iterating, a slice, `event[i]`) gives that very object, with its decoded images,
      from any thread;
    * a record nobody holds is gone; reading its position again makes a new record, which decodes its
      images again when they are read (equal values, new objects). Keep the record, or the image, to keep
      its identity;
    * `len`, indexing (negative indices too), iteration and `in` never decode anything; `in` is
      identity, as it was for a tuple of records;
    * a slice is a `tuple` of records, which holds them; so do `tuple(records)` and `list(records)`.
      `records == other` compares with a tuple or another `StreamRecords` record by record (by
      identity); a `StreamRecords` is not hashable. Copies and pickles are plain tuples.

    Examples:
        >>> event = StreamEvent({"Records": [
        ...     {"eventID": "1", "eventName": "INSERT",
        ...      "dynamodb": {"Keys": {"id": {"N": "1"}}, "SequenceNumber": "7"}},
        ... ]})
        >>> len(event.records), event.records[0].sequence_number, event.records[0] is event.records[-1]
        (1, '7', True)
    """

    __slots__ = ("_live", "_lock", "_positions", "_raws")

    # The event's raw records (each a dict), and by position a weak reference to the record made for it
    # (no entry until one is made; a dead reference once nobody holds that record, until it is made again).
    _raws: tuple[dict[str, Any], ...]
    _live: dict[int, Callable[[], StreamRecord | None]]
    # Which of the event's positions this sequence holds, in order: all of them for `event.records`.
    _positions: range | tuple[int, ...]
    # Taken only to make a record again for a position whose record was freed (see _make).
    _lock: Any

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        raws: tuple[Any, ...] = tuple(records)
        for raw in raws:
            if type(raw) is not dict:
                # Another Mapping is copied to a dict once, here, as StreamRecord does; anything else is refused
                # now, with its position, rather than when the record is first read.
                raws = tuple(raw if type(raw) is dict else _record_dict(raw, index) for index, raw in enumerate(raws))
                break
        self._raws = raws
        self._live = {}
        self._positions = range(len(raws))
        self._lock = allocate_lock()

    def _view(self, positions: range | tuple[int, ...]) -> StreamRecords:
        """The records at `positions` of the event, sharing this sequence's records (and their identity)."""
        view: StreamRecords = _new_object(StreamRecords)
        view._raws = self._raws
        view._live = self._live
        view._lock = self._lock
        view._positions = positions
        return view

    def _record(self, position: int) -> StreamRecord:
        """The record at the event's `position`: the live one, or a new one."""
        ref = self._live.get(position)
        if ref is not None:
            record = ref()
            if record is not None:
                return record
        return self._make(position)

    def _make(self, position: int) -> StreamRecord:
        # StreamRecord.__init__, inlined: this runs for every record of every batch. The raw record is a
        # dict (checked when the sequence was made).
        raw = self._raws[position]
        record: StreamRecord = _new_object(StreamRecord)
        record._raw = raw
        record._index = position
        record._change = raw if "kinesis" not in raw else _UNSET
        record._keys = record._new = record._old = _UNSET
        made = _weakref(record)
        # The first record of a position is registered by one atomic setdefault: two threads that make it at
        # once both get the one registered first.
        ref = self._live.setdefault(position, made)
        if ref is made:
            return record
        kept = ref()
        if kept is not None:
            return kept
        # The position's earlier record was freed: replacing its dead reference is check-then-set, done under
        # the lock (nothing under it allocates, so no other Python code can run there).
        with self._lock:
            ref = self._live[position]
            kept = ref()
            if kept is None:
                self._live[position] = made
                return record
        return kept

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> StreamRecord: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[StreamRecord, ...]: ...
    def __getitem__(self, index: int | slice) -> StreamRecord | tuple[StreamRecord, ...]:
        if type(index) is not int:
            if isinstance(index, slice):
                return tuple(map(self._record, self._positions[index]))
            if not hasattr(type(index), "__index__"):
                raise TypeError(f"record indices must be integers or slices, not {type(index).__name__}")
        try:
            position = self._positions[index]
        except IndexError:
            raise IndexError("record index out of range") from None
        ref = self._live.get(position)
        if ref is not None:
            record = ref()
            if record is not None:
                return record
        return self._make(position)

    def __iter__(self) -> Iterator[StreamRecord]:
        # _record and _make, inlined for the usual case: a position read for the first time.
        raws = self._raws
        live = self._live
        lookup = live.get
        register = live.setdefault
        new = _new_object
        for position in self._positions:
            ref = lookup(position)
            if ref is not None:
                record = ref()
                yield record if record is not None else self._make(position)
                continue
            raw = raws[position]
            record = new(StreamRecord)
            record._raw = raw
            record._index = position
            record._change = raw if "kinesis" not in raw else _UNSET
            record._keys = record._new = record._old = _UNSET
            made = _weakref(record)
            if register(position, made) is not made:  # another thread made one meanwhile: everyone gets that one
                record = self._record(position)
            yield record

    def __reversed__(self) -> Iterator[StreamRecord]:
        return map(self._record, reversed(self._positions))

    def __contains__(self, value: object) -> bool:
        # A record of this event is the live one at its position: no record is made to answer.
        if type(value) is not StreamRecord:
            return False
        position = value._index
        if position is None or not 0 <= position < len(self._raws):
            return False
        ref = self._live.get(position)
        return ref is not None and ref() is value and position in self._positions

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (StreamRecords, tuple)):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # its records are made on demand: no lasting value to hash

    def __reduce__(self) -> tuple[type[tuple[StreamRecord, ...]], tuple[tuple[StreamRecord, ...]]]:
        return (tuple, (tuple(self),))

    def __repr__(self) -> str:
        if len(self._positions) == len(self._raws):
            return f"<StreamRecords: {len(self._raws)} records>"
        return f"<StreamRecords: {len(self._positions)} of {len(self._raws)} records>"


# --------------------------------------------------------------------------------------------------
# Events


@final
class StreamEvent:
    """A DynamoDB Streams (or Kinesis Data Streams for DynamoDB) Lambda event
    ([Using AWS Lambda with Amazon DynamoDB](https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html)).

    `event.records` is a [`StreamRecords`][shardline.StreamRecords]: a sequence that makes each record when it is read
    and holds it only while someone else does, so a loop over a large batch does not keep every record's decoded images.
    `event[i]`, `len(event)` and `for record in event` read it. Making the event checks that `Records` is an array of
    objects; each record's fields are read when they are asked for.

    Tumbling-window invocations add `window_start`/`window_end`, `state`, `shard_id`,
    `is_final_invoke_for_window` and `is_window_terminated_early`; they are `None` otherwise.

    Examples:
        >>> event = StreamEvent({"Records": []})
        >>> len(event), event.records
        (0, <StreamRecords: 0 records>)
    """

    __slots__ = ("_raw", "_records")

    def __init__(self, event: Mapping[str, Any]) -> None:
        if not isinstance(event, Mapping):
            raise EventShapeError(f"a Lambda event must be a JSON object, got {_kind(event)}")
        records = event.get("Records")
        if type(records) is not list:
            if records is None:
                raise EventShapeError('the event has no "Records" array (is this a DynamoDB Streams event?)', "Records")
            if not isinstance(records, (list, tuple)):
                raise EventShapeError(f"must be an array, got {_kind(records)}", "Records")
        self._raw = event
        self._records = StreamRecords(records)

    @property
    def records(self) -> StreamRecords:
        """The event's records, made as they are read (see [`StreamRecords`][shardline.StreamRecords]); read-only."""
        return self._records

    @property
    def raw(self) -> Mapping[str, Any]:
        """The event as Lambda delivered it."""
        return self._raw

    def __reduce__(self) -> tuple[type[StreamEvent], tuple[Mapping[str, Any]]]:
        return (StreamEvent, (self._raw,))

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[StreamRecord]:
        return iter(self._records)

    @overload
    def __getitem__(self, index: int) -> StreamRecord: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[StreamRecord, ...]: ...
    def __getitem__(self, index: int | slice) -> StreamRecord | tuple[StreamRecord, ...]:
        return self._records[index]

    def __repr__(self) -> str:
        window = " window" if self.is_tumbling_window else ""
        return f"<StreamEvent{window} records={len(self.records)}>"

    # -- tumbling windows -------------------------------------------------------------------------

    @property
    def is_tumbling_window(self) -> bool:
        """True when Lambda invoked the function for a tumbling window (the event has `window`)."""
        return "window" in self._raw

    def _window_bound(self, which: str) -> datetime | None:
        window = self._raw.get("window")
        if window is None:
            return None
        if not isinstance(window, Mapping):
            raise EventShapeError(f"must be an object, got {_kind(window)}", "window")
        return _parse_time(window.get(which), f"window.{which}")

    @property
    def window_start(self) -> datetime | None:
        """Start of the tumbling window (aware UTC), or None."""
        return self._window_bound("start")

    @property
    def window_end(self) -> datetime | None:
        """End of the tumbling window (aware UTC), or None."""
        return self._window_bound("end")

    @property
    def state(self) -> dict[str, Any] | None:
        """The state the function returned for this window last time (`{}` on the window's first invoke)."""
        value = self._raw.get("state")
        if value is None:
            return {} if self.is_tumbling_window else None
        if type(value) is not dict:
            raise EventShapeError(f"must be an object, got {_kind(value)}", "state")
        return value

    @property
    def shard_id(self) -> str | None:
        """`shardId` of a tumbling-window invoke."""
        value = self._raw.get("shardId")
        if value is None or type(value) is str:
            return value
        raise EventShapeError(f"must be a string, got {_kind(value)}", "shardId")

    @property
    def event_source_arn(self) -> str | None:
        """The event's `eventSourceARN` (tumbling-window invokes), else the first record's."""
        value = self._raw.get("eventSourceARN")
        if value is None and self.records:
            return self.records[0].event_source_arn
        if value is None or type(value) is str:
            return value
        raise EventShapeError(f"must be a string, got {_kind(value)}", "eventSourceARN")

    def _flag(self, name: str) -> bool | None:
        value = self._raw.get(name)
        if value is None or type(value) is bool:
            return value
        raise EventShapeError(f"must be true or false, got {_kind(value)}", name)

    @property
    def is_final_invoke_for_window(self) -> bool | None:
        """True on the last invoke of a tumbling window: the place to emit the window's result."""
        return self._flag("isFinalInvokeForWindow")

    @property
    def is_window_terminated_early(self) -> bool | None:
        """True when the window closed early (a shard split or merge, or the batch limit)."""
        return self._flag("isWindowTerminatedEarly")


# --------------------------------------------------------------------------------------------------
# Helpers


def _record_path(index: int | None, field: str) -> str:
    if index is None:
        return field
    return f"Records[{index}].{field}" if field else f"Records[{index}]"


def _show(value: object) -> str:
    """A short rendering of a scalar for a message (containers and other objects are named by kind): never
    the whole of a long text, never a huge int written out, nothing that could fail to print."""
    if isinstance(value, str):
        text = json.dumps(str.__str__(value)[:57])  # escapes lone surrogates and control characters
        return text if len(value) <= 57 else text[:-1] + '..."'
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        # int.__repr__: huge ints cannot even be turned into text (Python's 4300-digit limit).
        return int.__repr__(int(value)) if -(10**40) < value < 10**40 else "a number of more than 40 digits"
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, Decimal):
        text = Decimal.__str__(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return _kind(value)


def _epoch_micros(value: float | Decimal, per_unit: int) -> int | None:
    """Whole microseconds since the epoch of `value` epoch units, exactly, or None when a datetime cannot
    hold it. The range is checked before the exact integer is built."""
    if isinstance(value, int):
        micros = int(value) * per_unit  # linear in the digits, and exact
    elif isinstance(value, float):
        if not (math.isfinite(value) and abs(value) < 1e20):
            return None
        micros = round(value * per_unit)
    else:
        # A Decimal from json.loads(parse_float=Decimal) never goes through float.
        if not value.is_finite():
            return None
        if value.is_zero():  # any exponent: 0E+99999999999999999 is the epoch
            return 0
        if value.adjusted() > 20:
            return None
        micros = int(_TIME_CONTEXT.multiply(value, per_unit).to_integral_value(context=_TIME_CONTEXT))
    return micros if _MIN_MICROS <= micros <= _MAX_MICROS else None


def _parse_time(value: object, where: str) -> datetime:
    if type(value) is not str:
        raise EventShapeError(f"must be an ISO-8601 time string, got {_kind(value)}", where)
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EventShapeError(f"{_show(value)} is not an ISO-8601 time", where) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in the year 0 in UTC
        raise EventShapeError(f"{_show(value)} is out of range in UTC (years 1 to 9999)", where) from None
