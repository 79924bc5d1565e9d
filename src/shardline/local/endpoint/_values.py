"""Request AttributeValues and request fields, checked and normalised as DynamoDB checks them.

Every item, key, `ExclusiveStartKey` and `ExpressionAttributeValues` entry of a data-plane request goes
through here before the store or the expression evaluator sees it. What comes out is a typed image exactly
as the store keeps one: numbers in DynamoDB's normalised text (the developer guide, "Data types": leading
and trailing zeros are trimmed, so `12.50` is stored as `12.5`), binaries in canonical base64, sets
sorted. Two images are then equal exactly when DynamoDB considers the items equal, which is what lets a
write that changes nothing write no stream record.

Refusals are [`DynamoDBError`][shardline.local.DynamoDBError] with DynamoDB's code and wording: `ValidationException`
for values DynamoDB parses but refuses (an empty set, a number out of range, a key of the wrong type), and
`SerializationException` for JSON of the wrong shape (a number where a string belongs), which the AWS SDKs never send.
"""

from __future__ import annotations

import re
from base64 import b64encode
from collections.abc import Mapping
from decimal import Decimal, Inexact, InvalidOperation, Overflow, Subnormal, Underflow
from typing import Any, Final, NoReturn

from shardline._attributes import (
    ITEM_SIZE_LIMIT,
    MAX_DEPTH,
    _b64decode,
    _create_decimal,
    _is_number_syntax,
    _number,
    _plain_number_size,
    plain_text,
)
from shardline.local.endpoint._protocol import DynamoDBError

__all__ = [
    "check_enum",
    "checked_value",
    "expression_values",
    "field",
    "item",
    "key",
    "key_of_item",
    "serialization",
    "table_name",
    "value",
]

_PARTITION_KEY_MAX: Final = 2048
_SORT_KEY_MAX: Final = 1024
_TABLE_NAME: Final = re.compile(r"[a-zA-Z0-9_.-]+")
_ARN_TABLE: Final = re.compile(r"arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/([a-zA-Z0-9_.-]{3,255})")

# DynamoDB's wording (ValidationException) for values it parses but refuses.
_EMPTY: Final = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
_SEVERAL: Final = (
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
)
_INVALID: Final = "One or more parameter values were invalid: "
_EMPTY_SET: Final = {
    "SS": "1 validation error detected: " + _INVALID + "An string set  may not be empty",
    "NS": "1 validation error detected: " + _INVALID + "An number set  may not be empty",
    "BS": "1 validation error detected: " + _INVALID + "Binary sets should not be empty",
}
_NOT_A_NUMBER: Final = "A value provided cannot be converted into a number"
_OVERFLOW: Final = "Number overflow. Attempting to store a number with magnitude larger than supported range"
_UNDERFLOW: Final = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
_PRECISION: Final = "Attempting to store more than 38 significant digits in a Number"
_NULL_FALSE: Final = _INVALID + "Null attribute value types must have the value of true"
_TOO_DEEP: Final = "Nesting Levels have exceeded supported limits"
_EMPTY_NAME: Final = _INVALID + "An attribute name in a map may not be empty"
ITEM_TOO_LARGE: Final = "Item size has exceeded the maximum allowed size"
KEY_MISMATCH: Final = "The provided key element does not match the schema"
_TYPE_TAGS: Final = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})

# Normalised number text by request text: requests repeat numbers (versions, counters, prices) a lot.
_NUMBERS: dict[str, str] = {}
_NUMBERS_SIZE: Final = 4096


class _Bad(Exception):
    """A refused value, before the caller says where it was (ExpressionAttributeValues name their key)."""

    def __init__(self, message: str, code: str = "ValidationException") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def serialization(message: str) -> DynamoDBError:
    """A `SerializationException`: the JSON does not have the shape of the operation's input."""
    return DynamoDBError("SerializationException", message)


def _json_kind(value: object) -> str:
    if value is None:
        return "NULL_VALUE"
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, (int, float, Decimal)):
        return "NUMBER_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, Mapping):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return type(value).__name__


def _wrong_json(value: object, expected: str) -> str:
    """The message of a JSON value of the wrong kind (the AWS JSON protocol's deserializer words it so)."""
    kind = _json_kind(value)
    if kind == "START_OBJECT":
        return "Start of structure or map found where not expected."
    if kind == "START_ARRAY":
        return "Start of list found where not expected"
    return f"{kind} cannot be converted to {expected}"


# --------------------------------------------------------------------------------------------------
# One AttributeValue


def value(av: Any, depth: int = 1) -> tuple[dict[str, Any], int]:
    """The normalised AttributeValue and its size in bytes (the developer guide's "Item sizes" rules), or
    `_Bad` with DynamoDB's message."""
    if type(av) is not dict:
        if not isinstance(av, Mapping):
            raise _Bad(_wrong_json(av, "AttributeValue"), "SerializationException")
        av = dict(av)
    if len(av) == 1:
        ((tag, raw),) = av.items()
    else:
        # Members the AttributeValue structure does not have are ignored (the AWS JSON protocol), and so are
        # members sent as null: what counts is how many datatypes are set.
        present = [(tag, raw) for tag, raw in av.items() if tag in _TYPE_TAGS and raw is not None]
        if not present:
            raise _Bad(_EMPTY)
        if len(present) > 1:
            raise _Bad(_SEVERAL)
        ((tag, raw),) = present
    if tag == "S":
        if type(raw) is not str:
            raise _Bad(_wrong_json(raw, "String"), "SerializationException")
        return av if len(av) == 1 else {"S": raw}, (len(raw) if raw.isascii() else _utf8_len(raw))
    if tag == "N":
        text = _number_text(raw)
        return {"N": text}, _plain_number_size(text)
    if tag == "M":
        if type(raw) is not dict:
            raise _Bad(_wrong_json(raw, "Map"), "SerializationException")
        if depth >= MAX_DEPTH and raw:
            raise _Bad(_TOO_DEEP)
        image, size = _pairs(raw, depth + 1)
        return {"M": image}, size + 3 + len(raw)
    if tag == "L":
        if type(raw) is not list:
            raise _Bad(_wrong_json(raw, "List"), "SerializationException")
        if depth >= MAX_DEPTH and raw:
            raise _Bad(_TOO_DEEP)
        values = []
        size = 3
        for element in raw:
            normal, element_size = value(element, depth + 1)
            values.append(normal)
            size += element_size + 1
        return {"L": values}, size
    if tag == "BOOL":
        if type(raw) is not bool:
            raise _Bad(_wrong_json(raw, "Boolean"), "SerializationException")
        return {"BOOL": raw}, 1
    if tag == "NULL":
        if type(raw) is not bool:
            raise _Bad(_wrong_json(raw, "Boolean"), "SerializationException")
        if not raw:
            raise _Bad(_NULL_FALSE)
        return {"NULL": True}, 1
    if tag == "B":
        data = _binary(raw)
        return {"B": b64encode(data).decode("ascii")}, len(data)
    if tag in ("SS", "NS", "BS"):
        return _set(tag, raw)
    raise _Bad(_EMPTY)


def _utf8_len(text: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise _Bad("Invalid UTF-8 text: a string holds a lone surrogate", "SerializationException") from None


def _number_text(raw: object) -> str:
    if type(raw) is not str:
        raise _Bad(_wrong_json(raw, "String"), "SerializationException")
    text = _NUMBERS.get(raw)
    if text is not None:
        return text
    try:
        number = _number(raw)
    except Exception:  # noqa: BLE001 - the codec's reader refused it: say why in DynamoDB's words
        raise _Bad(_number_problem(raw)) from None
    text = plain_text(number)
    if text is None:  # pragma: no cover - the reader checks the range
        raise _Bad(_OVERFLOW)
    if len(_NUMBERS) >= _NUMBERS_SIZE:
        _NUMBERS.clear()
    _NUMBERS[raw] = text
    return text


def _number_problem(text: str) -> str:
    if not text.isascii() or "_" in text or not _is_number_syntax(text):
        return _NOT_A_NUMBER
    try:
        _create_decimal(text)
    except Overflow:
        return _OVERFLOW
    except (Subnormal, Underflow):
        return _UNDERFLOW
    except Inexact:
        return _PRECISION
    except InvalidOperation:
        return _NOT_A_NUMBER
    return _NOT_A_NUMBER


def _binary(raw: object) -> bytes:
    if type(raw) is not str:
        if isinstance(raw, (bytes, bytearray)):  # called in process with bytes: take them as they are
            return bytes(raw)
        raise _Bad(_wrong_json(raw, "Blob"), "SerializationException")
    try:
        return _b64decode(raw)
    except Exception:  # noqa: BLE001 - binascii.Error, or the codec's refusal of the padding
        raise _Bad(
            "Base64 encoded binary value is not valid: expected standard base64 text whose length is a multiple of 4",
            "SerializationException",
        ) from None


def _set(tag: str, raw: object) -> tuple[dict[str, Any], int]:
    if type(raw) is not list:
        raise _Bad(_wrong_json(raw, "List"), "SerializationException")
    if not raw:
        raise _Bad(_EMPTY_SET[tag])
    if tag == "SS":
        for element in raw:
            if type(element) is not str:
                raise _Bad(_wrong_json(element, "String"), "SerializationException")
        unique = set(raw)
        size = sum(len(element) if element.isascii() else _utf8_len(element) for element in unique)
        texts = sorted(unique)
    elif tag == "NS":
        texts = [_number_text(element) for element in raw]
        unique = set(texts)
        size = sum(map(_plain_number_size, unique))
        texts = sorted(unique, key=Decimal)
    else:
        datas = [_binary(element) for element in raw]
        unique = set(datas)
        size = sum(map(len, unique))
        texts = sorted(b64encode(data).decode("ascii") for data in unique)
    if len(unique) != len(raw):
        shown = ", ".join(str(element) for element in raw)
        raise _Bad(f"{_INVALID}Input collection [{shown}] contains duplicates.")
    return {tag: texts}, size


def _pairs(raw: dict[str, Any], depth: int) -> tuple[dict[str, Any], int]:
    image: dict[str, Any] = {}
    size = 0
    for name, av in raw.items():
        if not name:
            raise _Bad(_EMPTY_NAME)
        normal, value_size = value(av, depth)
        image[name] = normal
        size += value_size + (len(name) if name.isascii() else _utf8_len(name))
    return image, size


# --------------------------------------------------------------------------------------------------
# Items, keys and expression values


def _refuse(bad: _Bad, prefix: str = "", suffix: str = "") -> NoReturn:
    if bad.code == "ValidationException":
        raise DynamoDBError(bad.code, prefix + bad.message + suffix) from None
    raise DynamoDBError(bad.code, bad.message) from None


def item(raw: Any, *, field_name: str = "item") -> tuple[dict[str, Any], int]:
    """A request's item (PutItem's `Item`), normalised, and its size: no key checks yet (see
    `key_of_item`)."""
    if type(raw) is not dict:
        if raw is None:
            raise DynamoDBError(
                "ValidationException",
                f"1 validation error detected: Value null at '{field_name}' failed to satisfy constraint: "
                "Member must not be null",
            )
        raise serialization(_wrong_json(raw, "Map"))
    try:
        return _pairs(raw, 1)
    except _Bad as bad:
        _refuse(bad)


def key_of_item(image: Mapping[str, Any], size: int, schema: Mapping[str, str]) -> dict[str, Any]:
    """Check a whole item's key attributes and size as PutItem does (DynamoDB API reference, PutItem: "you
    must provide all of the attributes for the primary key"); return its key image in schema order."""
    key_image: dict[str, Any] = {}
    for position, (name, declared) in enumerate(schema.items()):
        av = image.get(name)
        if av is None:
            raise DynamoDBError("ValidationException", f"{_INVALID}Missing the key {name} in the item")
        ((tag, raw),) = av.items()
        if tag != declared:
            raise DynamoDBError(
                "ValidationException", f"{_INVALID}Type mismatch for key {name} expected: {declared} actual: {tag}"
            )
        _check_key_value(name, tag, raw, position)
        key_image[name] = av
    if size > ITEM_SIZE_LIMIT:
        raise DynamoDBError("ValidationException", ITEM_TOO_LARGE)
    return key_image


def _check_key_value(name: str, tag: str, raw: str, position: int) -> None:
    length = (len(raw) if raw.isascii() else len(raw.encode("utf-8"))) if tag == "S" else len(raw)
    if tag == "B":
        length = len(raw) // 4 * 3 - raw.count("=", -2)
    if length == 0:
        kind = "string" if tag == "S" else "binary"
        raise DynamoDBError(
            "ValidationException",
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
            f"empty {kind} value. Key: {name}",
        )
    if position == 0 and length > _PARTITION_KEY_MAX:
        raise DynamoDBError(
            "ValidationException",
            f"{_INVALID}Size of hashkey has exceeded the maximum size limit of{_PARTITION_KEY_MAX} bytes",
        )
    if position == 1 and length > _SORT_KEY_MAX:
        raise DynamoDBError(
            "ValidationException",
            f"{_INVALID}Aggregated size of all range keys has exceeded the size limit of {_SORT_KEY_MAX} bytes",
        )


def key(raw: Any, schema: Mapping[str, str], *, field_name: str = "key", message: str = KEY_MISMATCH) -> dict[str, Any]:
    """A request's `Key`: exactly the attributes of `schema` with their types (DynamoDB API reference,
    GetItem: "For the primary key, you must provide all of the attributes"), normalised, in schema order."""
    image, _ = item(raw, field_name=field_name)  # the same checks of the map and its values as an item's
    if len(image) != len(schema):
        raise DynamoDBError("ValidationException", message)
    ordered: dict[str, Any] = {}
    for position, (name, declared) in enumerate(schema.items()):
        av = image.get(name)
        if av is None:
            raise DynamoDBError("ValidationException", message)
        ((tag, text),) = av.items()
        if tag != declared:
            raise DynamoDBError("ValidationException", message)
        _check_key_value(name, tag, text, position)
        ordered[name] = av
    return ordered


def checked_value(raw: Any) -> dict[str, Any]:
    """One AttributeValue of a request outside an item (a legacy condition's `Value` or
    `AttributeValueList` element), normalised."""
    try:
        return value(raw)[0]
    except _Bad as bad:
        _refuse(bad)


def expression_values(raw: Any) -> dict[str, Any] | None:
    """`ExpressionAttributeValues`, each value checked and normalised; its errors name the placeholder
    (DynamoDB: "ExpressionAttributeValues contains invalid value: ... for key :v")."""
    if raw is None:
        return None
    if type(raw) is not dict:
        raise serialization(_wrong_json(raw, "Map"))
    if not raw:
        raise DynamoDBError("ValidationException", "ExpressionAttributeValues must not be empty")
    values: dict[str, Any] = {}
    name = ""
    try:
        for name, av in raw.items():
            values[name] = value(av)[0]
    except _Bad as bad:
        _refuse(bad, "ExpressionAttributeValues contains invalid value: ", f" for key {name}")
    return values


# --------------------------------------------------------------------------------------------------
# Request fields


def field(request: Mapping[str, Any], name: str, kind: type, expected: str) -> Any:
    """`request[name]` when it is a JSON value of `kind` (None when absent or null); otherwise the
    `SerializationException` DynamoDB answers for JSON of the wrong shape. `expected` names the type
    in the message (String, Boolean, Integer, Map, List)."""
    raw = request.get(name)
    if raw is None or type(raw) is kind:
        return raw
    if kind is int and isinstance(raw, int) and not isinstance(raw, bool):
        return int(raw)
    if kind is dict and isinstance(raw, Mapping):
        return dict(raw)
    raise serialization(_wrong_json(raw, expected))


def check_enum(value_: str | None, allowed: tuple[str, ...], member: str) -> None:
    """An enum member outside its value set: DynamoDB's constraint message."""
    if value_ is not None and value_ not in allowed:
        raise DynamoDBError(
            "ValidationException",
            f"1 validation error detected: Value '{value_}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]",
        )


def table_name(raw: Any, member: str = "tableName") -> str:
    """The table a request names: its name, or the name inside a table ARN (DynamoDB API reference: "You
    can also provide the Amazon Resource Name (ARN) of the table in this parameter")."""
    if raw is None:
        raise DynamoDBError(
            "ValidationException",
            f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
            "Member must not be null",
        )
    if type(raw) is not str:
        raise serialization(_wrong_json(raw, "String"))
    if raw.startswith("arn:"):
        match = _ARN_TABLE.fullmatch(raw)
        if match is None:
            raise DynamoDBError("ValidationException", f"Invalid TableArn: {raw[:1024]}")
        return match.group(1)
    problems = []
    if len(raw) < 3:
        problems.append("Member must have length greater than or equal to 3")
    if len(raw) > 255:
        problems.append("Member must have length less than or equal to 255")
    if _TABLE_NAME.fullmatch(raw) is None:
        problems.append("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    if problems:
        shown = raw if len(raw) <= 255 else raw[:255] + "..."
        raise DynamoDBError(
            "ValidationException",
            f"1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: "
            + ", ".join(problems),
        )
    return raw
