"""What one write does to an item and to the table's stream: DynamoDB's rules as pure functions.

The event builder (`shardline.testing`) and the embedded store (`shardline.local`) both make their
stream records here, so they cannot disagree about an event name, an image or a `SizeBytes`:

- `key_image` and `item_image` turn plain Python keys and items into typed images, enforcing
  the key schema (AWS docs);
- `parse_update` and [`apply_update`][shardline.local.expressions.apply_update] are UpdateItem's `SET` and `REMOVE` of
top-level
  attributes;
- `event_name` says which record a change writes, if any (AWS docs: none for a write that
  changes nothing);
- `stream_record` builds the record as Lambda delivers it (AWS docs).

`schema` arguments are key schemas already checked (`{"pk": "S", "sk": "N"}`, partition key first).
Typed images are in event JSON form (binaries as base64 text) and normalised by the codec (`1.50` is
`1.5`, sets sorted), so two images compare equal exactly when DynamoDB considers the items equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, NamedTuple

from shardline._attributes import check_item_limits, encoded_item_size, serialize_item
from shardline._events import TTL_PRINCIPAL
from shardline._exceptions import AttributeTypeError, AttributeValueError, EventShapeError

__all__ = [
    "NEW_VIEWS",
    "OLD_VIEWS",
    "TTL_IDENTITY",
    "VIEW_TYPES",
    "ModelKey",
    "Update",
    "apply_update",
    "check_view_type",
    "event_name",
    "item_image",
    "key_image",
    "keys_of",
    "model_key",
    "parse_update",
    "stream_record",
]

#: The stream view types, in DynamoDB's documentation order.
VIEW_TYPES: Final = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
#: View types whose records carry the item as it is after the change (INSERT and MODIFY).
NEW_VIEWS: Final = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})
#: View types whose records carry the item as it was before the change (MODIFY and REMOVE).
OLD_VIEWS: Final = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})
#: The `userIdentity` of a Time to Live delete, and of nothing else (AWS docs).
TTL_IDENTITY: Final = {"type": "Service", "principalId": TTL_PRINCIPAL}

#: An item's key, typed and normalised: `(("S", "order#1"), ("N", "3"))`. `3` and `Decimal("3.0")`
#: give the same key, as in DynamoDB.
ModelKey = tuple[tuple[str, Any], ...]


def check_view_type(view_type: object, *, name: str = "view_type") -> str:
    """The plain text of a stream view type (a `StreamViewType` member is accepted), or
    [`EventShapeError`][shardline.EventShapeError] (a ValueError): the records would carry a `StreamViewType` that
    DynamoDB Streams does not have.

    Examples:
        >>> check_view_type("NEW_IMAGE")
        'NEW_IMAGE'
    """
    # str.__str__: the plain value of a StreamViewType member too, on every Python version.
    if not isinstance(view_type, str) or str.__str__(view_type) not in VIEW_TYPES:
        raise EventShapeError(f"{name} {view_type!r}: expected KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES")
    return str.__str__(view_type)


def key_image(key: Mapping[str, Any], schema: Mapping[str, str]) -> dict[str, Any]:
    """The typed image of `key`, a plain mapping holding exactly the key attributes of `schema`.

    Examples:
        >>> key_image({"pk": "order#1", "sk": 3}, {"pk": "S", "sk": "N"})
        {'pk': {'S': 'order#1'}, 'sk': {'N': '3'}}
        >>> key_image({"pk": "order#1"}, {"pk": "S", "sk": "N"})
        Traceback (most recent call last):
        ...
        shardline.AttributeValueError: a key must hold exactly the key attributes ('pk', 'sk'); missing 'sk'
    """
    if not isinstance(key, Mapping):
        raise AttributeTypeError(f"a key must be a mapping of the key attributes, got {type(key).__name__}")
    missing = [name for name in schema if name not in key]
    extra = [str(name) for name in key if name not in schema]
    if missing or extra:
        problems = []
        if missing:
            problems.append("missing " + ", ".join(map(repr, missing)))
        if extra:
            problems.append("not key attributes: " + ", ".join(map(repr, sorted(extra))))
        names = ", ".join(map(repr, schema))
        raise AttributeValueError(f"a key must hold exactly the key attributes ({names}); " + "; ".join(problems))
    image = serialize_item({name: key[name] for name in schema})
    check_item_limits(image, encoded_item_size(image), schema.items())
    return image


def item_image(item: Mapping[str, Any], schema: Mapping[str, str]) -> tuple[dict[str, Any], int]:
    """The typed image of a plain item and its size, after every check DynamoDB makes on a PutItem.

    Examples:
        >>> item_image({"pk": "a", "n": 1}, {"pk": "S"})
        ({'pk': {'S': 'a'}, 'n': {'N': '1'}}, 6)
    """
    image = serialize_item(item)
    size = encoded_item_size(image)  # serialize_item made it: valid by construction, only limits to check
    check_item_limits(image, size, schema.items())
    return image, size


def model_key(image: Mapping[str, Any], schema: Mapping[str, str]) -> ModelKey:
    """The key of a typed image (an item or a key image): `(tag, text)` per key attribute, in order."""
    return tuple([next(iter(image[name].items())) for name in schema])


def keys_of(key: ModelKey, schema: Mapping[str, str]) -> dict[str, Any]:
    """A record's `Keys`: the key attributes in schema order (partition key first)."""
    return {name: {tag: text} for name, (tag, text) in zip(schema, key, strict=True)}


class Update(NamedTuple):
    """An UpdateItem's actions on top-level attributes: `SET` (typed values) and `REMOVE` (names)."""

    assigned: dict[str, Any]
    removed: tuple[str, ...]


def parse_update(
    set: Mapping[str, Any] | None,  # UpdateItem's SET action; shadows the builtin here only
    remove: Iterable[str] | None,
    schema: Mapping[str, str],
) -> Update:
    """Check an update's actions against DynamoDB's rules and encode the values it sets.

    Examples:
        >>> parse_update({"status": "PAID"}, ["draft"], {"pk": "S"})
        Update(assigned={'status': {'S': 'PAID'}}, removed=('draft',))
        >>> parse_update({"pk": "b"}, None, {"pk": "S"})
        Traceback (most recent call last):
        ...
        shardline.AttributeValueError: cannot update key attribute 'pk': it is part of the table's key
    """
    if isinstance(remove, (str, bytes)):
        raise AttributeTypeError("remove must be an iterable of attribute names, not a single string")
    if remove is not None and (isinstance(remove, Mapping) or not isinstance(remove, Iterable)):
        raise AttributeTypeError(f"remove must be an iterable of attribute names, got {type(remove).__name__}")
    names = tuple(remove or ())
    for name in names:
        if not isinstance(name, str):
            raise AttributeTypeError(f"remove: attribute names are non-empty strings, got {name!r}")
        if not name:
            raise AttributeValueError(f"remove: attribute names are non-empty strings, got {name!r}")
    assigned = serialize_item({} if set is None else set)
    for name in (*assigned, *names):
        if name in schema:
            # DynamoDB: "Cannot update attribute pk. This attribute is part of the key".
            raise AttributeValueError(f"cannot update key attribute {name!r}: it is part of the table's key")
    overlap = assigned.keys() & names
    if overlap:
        # DynamoDB rejects an update expression whose SET and REMOVE name the same attribute.
        raise AttributeValueError(f"attribute {min(overlap)!r} is both set and removed")
    return Update(assigned, names)


def apply_update(
    old: Mapping[str, Any] | None, key: Mapping[str, Any], update: Update, schema: Mapping[str, str]
) -> tuple[dict[str, Any], int]:
    """The item an update leaves, and its size: `old` with the update applied, or, when there is no
    item, a new one holding the key and the attributes set (UpdateItem creates missing items).

    Removing an attribute the item lacks is not an error, as in DynamoDB.

    Examples:
        >>> update = parse_update({"n": 2}, ["gone"], {"pk": "S"})
        >>> apply_update({"pk": {"S": "a"}, "gone": {"S": "x"}}, {"pk": {"S": "a"}}, update, {"pk": "S"})
        ({'pk': {'S': 'a'}, 'n': {'N': '2'}}, 6)
    """
    image = dict(key if old is None else old)
    image.update(update.assigned)
    for name in update.removed:
        image.pop(name, None)
    size = encoded_item_size(image)
    check_item_limits(image, size, schema.items())
    return image, size


def event_name(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str | None:
    """The stream record a change writes: INSERT, MODIFY, REMOVE, or `None` when nothing changed.

    DynamoDB writes no record for a put or an update that leaves the item as it was, nor for a delete of
    a missing item (AWS docs).

    Examples:
        >>> event_name(None, {"pk": {"S": "a"}}), event_name({"pk": {"S": "a"}}, {"pk": {"S": "a"}})
        ('INSERT', None)
    """
    if new is None:
        return None if old is None else "REMOVE"
    if old is None:
        return "INSERT"
    return None if old == new else "MODIFY"


def stream_record(
    name: str,
    keys: Mapping[str, Any],
    new: Mapping[str, Any] | None,
    old: Mapping[str, Any] | None,
    *,
    view_type: str,
    sequence_number: str,
    created_ms: int,
    event_id: str,
    region: str,
    source_arn: str,
    ttl: bool = False,
    new_size: int | None = None,
    old_size: int | None = None,
) -> dict[str, Any]:
    """One stream record as Lambda delivers it, fields in AWS's order (AWS docs).

    `keys`, `new` and `old` are typed images made by the codec's `serialize_item` (or read back
    from such images). The record carries the images `view_type` calls for; `SizeBytes` counts exactly
    what it carries (AWS docs); `ApproximateCreationDateTime` is `created_ms` in whole seconds.
    Give `new_size`/`old_size` when the images' sizes are known, to save walking them again. The
    images are put in the record as they are, not copied.

    Examples:
        >>> record = stream_record("INSERT", {"Id": {"N": "101"}}, {"Id": {"N": "101"}, "Message": {"S": "New item!"}},
        ...     None, view_type="NEW_AND_OLD_IMAGES", sequence_number="111", created_ms=1428537600000,
        ...     event_id="1", region="us-east-1", source_arn="arn")
        >>> record["dynamodb"]["SizeBytes"], record["dynamodb"]["ApproximateCreationDateTime"]
        (26, 1428537600)
    """
    size = encoded_item_size(keys)
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": created_ms // 1000, "Keys": keys}
    if new is not None and view_type in NEW_VIEWS:
        dynamodb["NewImage"] = new
        size += encoded_item_size(new) if new_size is None else new_size
    if old is not None and view_type in OLD_VIEWS:
        dynamodb["OldImage"] = old
        size += encoded_item_size(old) if old_size is None else old_size
    dynamodb["SequenceNumber"] = sequence_number
    dynamodb["SizeBytes"] = size
    dynamodb["StreamViewType"] = view_type
    record: dict[str, Any] = {
        "eventID": event_id,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": source_arn,
    }
    if ttl:
        record["userIdentity"] = dict(TTL_IDENTITY)
    return record
