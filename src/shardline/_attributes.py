"""DynamoDB AttributeValues: exact decoding, encoding, validation and item size.

Type tags and their Python values:

```text
tag    JSON (event form)                 Python
S      {"S": "text"}                     str
N      {"N": "12.5"}                     decimal.Decimal (exact, up to 38 significant digits)
B      {"B": "AAEC"}   (base64 text)      bytes
SS     {"SS": ["a", "b"]}                set[str]
NS     {"NS": ["1", "2.5"]}              set[Decimal]
BS     {"BS": ["AAEC"]}                  set[bytes]
M      {"M": {"name": {...}}}            dict[str, ...]
L      {"L": [{...}, ...]}               list[...]
NULL   {"NULL": true}                    None
BOOL   {"BOOL": false}                   bool
```

Decoding runs a fast path that assumes well-formed input and still rejects anything malformed (every branch
checks what it relies on); when it fails, a slow, careful walk over the same value finds the first problem
and reports it with its path. Well-formed events therefore pay only for decoding, and malformed ones get a
precise message.

Work is bounded by what DynamoDB accepts, never by how a value is built: numbers are range-checked before
anything writes their digits out, nesting stops at 32 levels, and a value whose maps and lists hold more
entries in all than a 400 KB item can (a Python value may share one list between many places) is refused
before it is expanded.
"""

from __future__ import annotations

import binascii
import json
import math
import sys
from base64 import b64encode
from collections.abc import Iterable, Mapping
from decimal import (
    Context,
    Decimal,
    DecimalException,
    Inexact,
    InvalidOperation,
    Overflow,
    Subnormal,
    Underflow,
)
from typing import Any, Final, NoReturn

from ._exceptions import AttributeTypeError, AttributeValueError

__all__ = [
    "ITEM_SIZE_LIMIT",
    "TYPE_TAGS",
    "deserialize",
    "deserialize_item",
    "item_size",
    "serialize",
    "serialize_item",
    "validate_item",
]

TYPE_TAGS: Final = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
"""The AttributeValue type tags, in the order DynamoDB documents them: S, N, B, SS, NS, BS, M, L, NULL, BOOL
([AttributeValue](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html))."""
ITEM_SIZE_LIMIT: Final = 409_600
"""DynamoDB's maximum item size in bytes: 400 KB (409,600), attribute names included
([item sizes](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html))."""
#: A value may sit at most this many levels deep (the attribute's own value is level 1).
MAX_DEPTH: Final = 32
_PARTITION_KEY_MAX: Final = 2048
_SORT_KEY_MAX: Final = 1024
_KEY_TYPES: Final = frozenset({"S", "N", "B"})
_TAG_LIST: Final = ", ".join(TYPE_TAGS)
# Decoding, encoding and sizing count, as they go, a lower bound of the bytes a value takes: 1 per list
# element (its overhead), the characters of map entries' names, the characters of non-ASCII text, and the
# bytes of binaries and sets larger than _SMALL (one per NS element). They stop once the count passes the
# item size limit, since no item DynamoDB accepts is that large. This is what bounds the work on a Python
# value that shares one list between several places (a DAG, small in memory), which would otherwise expand
# to exponentially more work than its size: every visit of a value is a counted list element or map entry,
# and a value not counted for itself (ASCII text, a number, a small binary or set) costs constant work.
_BUDGET: Final = ITEM_SIZE_LIMIT
_SMALL: Final = 64


class _Invalid(Exception):
    """Raised by the fast path; the slow path then explains the problem."""


# --------------------------------------------------------------------------------------------------
# Numbers
#
# DynamoDB numbers have at most 38 significant digits and a magnitude between 1E-130 and
# 9.9999999999999999999999999999999999999E+125 (or are zero). A Decimal context with exactly those limits
# that traps Inexact (more than 38 significant digits), Overflow and Subnormal/Underflow validates a number
# while parsing it. Trailing zeros only signal Rounded, which is not trapped: "1" + "0" * 40 is valid.
# Decimal() also accepts text DynamoDB rejects (NaN, Infinity, surrounding spaces, underscores, non-ASCII
# digits), so the string is checked first: ASCII, no underscore, and it must start with a digit, sign or
# point and end with a digit or point.

_CONTEXT: Final = Context(
    prec=38,
    Emax=125,
    Emin=-130,
    traps=[Inexact, Overflow, Subnormal, Underflow, InvalidOperation],
)
_create_decimal = _CONTEXT.create_decimal
_FIRST_CHARS: Final = frozenset("0123456789.+-")
_LAST_CHARS: Final = frozenset("0123456789.")
# Parsed numbers, keyed by their text. Decimals are immutable, so sharing them is safe; batches repeat
# numbers (quantities, prices, versions, flags) a lot. Bounded: cleared when full.
_NUMBER_CACHE: dict[str, Decimal] = {}
_NUMBER_CACHE_SIZE: Final = 4096
_cached_number = _NUMBER_CACHE.get


def _number(text: str) -> Decimal:
    value = _cached_number(text)
    return value if value is not None else _parse_number(text)


def _parse_number(text: str) -> Decimal:
    """The one reader of N text: every function that accepts or sizes a number goes through it (and
    `_number_problem` explains its refusals), so they all agree on what a number is."""
    # Plain non-negative integers (the usual case) need no check beyond ASCII digits.
    if (
        type(text) is str
        and text.isascii()
        and (text.isdigit() or ("_" not in text and text[:1] in _FIRST_CHARS and text[-1:] in _LAST_CHARS))
    ):
        value = _create_decimal(text)  # validates: at most 38 significant digits, within range
        if not value.is_finite():  # "-NaN1", "+sNaN5": letters between a sign and a digit
            raise _Invalid
        if len(text) > 38 and value:
            # Trailing zeros beyond 38 digits are valid but make the context round the coefficient;
            # keep the value as written instead (Decimal() is exact, and within range its exponent is
            # small). Zero is exempt: it is valid with any exponent ("0e" + "9" * 40), which the context
            # clamps into range but Decimal() cannot represent.
            value = Decimal(text)
        if len(_NUMBER_CACHE) >= _NUMBER_CACHE_SIZE:
            _NUMBER_CACHE.clear()
        _NUMBER_CACHE[text] = value
        return value
    raise _Invalid


def _number_problem(text: object) -> str | None:
    """Why `text` is not a valid N value, or None: the explanation of `_parse_number`'s verdict."""
    if type(text) is not str:
        return f"N value must be a string, got {_type_name(text)}"
    try:
        _number(text)
    except Exception:  # noqa: BLE001 - whatever the reader refused, the checks below say why
        pass
    else:
        return None
    shown = _short(text)
    if not _is_number_syntax(text):
        return f"{shown} is not a number (DynamoDB numbers look like 42, -1.5 or 6.02E23)"
    try:
        _create_decimal(text)
    # Overflow and Underflow are Inexact too: test them first.
    except Overflow:
        return f"{shown} is too large; DynamoDB numbers go up to 9.9999999999999999999999999999999999999E+125"
    except (Subnormal, Underflow):
        return f"{shown} is too small; the smallest non-zero DynamoDB number is 1E-130"
    except Inexact:
        digits = _significant_digits(Decimal(text))
        return f"{shown} has {digits} significant digits; DynamoDB keeps at most 38"
    except DecimalException:  # pragma: no cover - the syntax check above rules these out
        pass
    return f"{shown} is not a number (DynamoDB numbers look like 42, -1.5 or 6.02E23)"


def _is_number_syntax(text: str) -> bool:
    # [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?  -- ASCII digits only
    body, marker, exponent = text.replace("E", "e").partition("e")
    if marker:
        exponent = exponent[1:] if exponent[:1] in ("+", "-") else exponent
        if not (exponent.isascii() and exponent.isdigit()):
            return False
    if body[:1] in ("+", "-"):
        body = body[1:]
    whole, _, fraction = body.partition(".")
    if not (whole or fraction):
        return False
    return all(part == "" or (part.isascii() and part.isdigit()) for part in (whole, fraction))


def _significant_digits(value: Decimal) -> int:
    digits = value.as_tuple().digits
    return len("".join(map(str, digits)).strip("0")) or 1


# Magnitudes DynamoDB can hold: below 10**126, and (when not zero) at least 1E-130.
_MAX_ADJUSTED: Final = 125
_MIN_ADJUSTED: Final = -130
_TOO_LARGE: Final = "too large; DynamoDB numbers go up to 9.9999999999999999999999999999999999999E+125"
_TOO_SMALL: Final = "too small; the smallest non-zero DynamoDB number is 1E-130"
# An int below this needs no range check (38 digits) and one of more bits is beyond DynamoDB's range
# (10**126 < 2**419): checked before Decimal(int), whose cost grows quadratically with the digits.
_PLAIN_INT_LIMIT: Final = 10**38
_INT_BITS_LIMIT: Final = 419


def format_number(value: Decimal | int) -> str:
    """DynamoDB's normalised plain text for a number: no exponent, no trailing fraction zeros.

    Exact for every DynamoDB number (no Decimal context is involved). A number beyond DynamoDB's range
    (1E-130 to 9.99...E+125) raises [`AttributeValueError`][shardline.AttributeValueError] rather than writing out an
    unbounded number of zeros (`1E+999999999` would be a billion digits); anything but an int or a Decimal raises
    [`AttributeTypeError`][shardline.AttributeTypeError].

    Examples:
        >>> format_number(Decimal("1.50")), format_number(Decimal("1E+3")), format_number(Decimal("-0"))
        ('1.5', '1000', '0')
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = int(value)
        if -_PLAIN_INT_LIMIT < number < _PLAIN_INT_LIMIT:
            return str(number)
        if number.bit_length() > _INT_BITS_LIMIT:
            raise AttributeValueError(_TOO_LARGE)
        value = Decimal(number)
    if not isinstance(value, Decimal):
        raise AttributeTypeError(f"format_number takes an int or a Decimal, not {type(value).__qualname__}")
    if not value.is_finite():
        raise AttributeValueError(f"DynamoDB numbers are finite; got {value}")
    text = plain_text(value)
    if text is None:
        raise AttributeValueError(_TOO_LARGE if value.adjusted() > 0 else _TOO_SMALL)
    return text


def plain_text(value: Decimal) -> str | None:
    """[`format_number`][shardline.format_number]'s text of a finite Decimal, or None when its magnitude is outside
    DynamoDB's range: checked before any zero is written."""
    sign, digit_tuple, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "0"
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    adjusted = exponent + len(digits) - 1
    if not _MIN_ADJUSTED <= adjusted <= _MAX_ADJUSTED:
        return None
    if exponent >= 0:
        text = digits + "0" * exponent
    else:
        point = len(digits) + exponent
        text = digits[:point] + "." + digits[point:] if point > 0 else "0." + "0" * -point + digits
    return "-" + text if sign else text


def _number_size(text: str) -> int:
    """Bytes DynamoDB counts for a valid number: base-100 digit pairs + 1, +1 if negative (the rule of the
    DynamoDB developer guide's "Item sizes" page, which reproduces every SizeBytes AWS publishes)."""
    return _plain_number_size(format_number(_number(text)))


def _plain_number_size(plain: str) -> int:
    """`_number_size` of a number already in [`format_number`][shardline.format_number]'s form.

    In that form the integer part has no leading zeros and the fraction no trailing ones, so the digit
    pairs need no splitting: only "0.00..." numbers start with "00" pairs, and only integers end with them.
    """
    if plain == "0":
        return 1
    negative = plain[0] == "-"
    digits = plain[1:] if negative else plain
    whole, _, fraction = digits.partition(".")
    if not fraction:  # an integer: pairs aligned on the right, trailing zero pairs dropped
        count = (len(whole) + 1) // 2 - (len(whole) - len(whole.rstrip("0"))) // 2
    elif whole == "0":  # below one: the integer part is dropped, and leading zero pairs of the fraction
        count = (len(fraction) + 1) // 2 - (len(fraction) - len(fraction.lstrip("0"))) // 2
    else:
        count = (len(whole) + 1) // 2 + (len(fraction) + 1) // 2
    return min(count + 1 + negative, 21)


# --------------------------------------------------------------------------------------------------
# Binary

# Standard base64 only: the alphabet, a length that is a multiple of 4 and at most two "=" at the end.
# Python 3.11's strict mode checks the alphabet and where "=" may stand, but lets surplus padding after a
# complete group through ("AAAA=", "AAAA===="); the length check closes that.
if sys.version_info >= (3, 11):

    def _b64decode(text: str) -> bytes:
        if len(text) & 3 or text.endswith("==="):
            raise _Invalid
        return binascii.a2b_base64(text, strict_mode=True)

    def _binary(value: Any) -> bytes:
        if type(value) is str:
            if len(value) & 3 or value.endswith("==="):
                raise _Invalid
            return binascii.a2b_base64(value, strict_mode=True)
        if type(value) is bytes:  # boto3's low-level clients hand binaries over already decoded
            return value
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        raise _Invalid

    def _decode_b(value: Any, depth: int, budget: list[int]) -> bytes:
        """A B value on the fast path: `_binary`, inlined for the usual base64 text, and counted."""
        if type(value) is str:
            if len(value) & 3 or value.endswith("==="):
                raise _Invalid
            data = binascii.a2b_base64(value, strict_mode=True)
        else:
            data = _binary(value)
        if len(data) > _SMALL:
            left = budget[0] = budget[0] - len(data)
            if left < 0:
                raise _Invalid
        return data

else:  # pragma: no cover - exercised on Python 3.10 only
    import re

    _BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")

    def _b64decode(text: str) -> bytes:
        if type(text) is not str or len(text) & 3 or not text.isascii() or _BASE64.fullmatch(text) is None:
            raise _Invalid
        return binascii.a2b_base64(text)

    def _binary(value: Any) -> bytes:
        if type(value) is str:
            return _b64decode(value)
        if type(value) is bytes:
            return value
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        raise _Invalid

    def _decode_b(value: Any, depth: int, budget: list[int]) -> bytes:
        data = _binary(value)
        if len(data) > _SMALL:
            left = budget[0] = budget[0] - len(data)
            if left < 0:
                raise _Invalid
        return data


def _binary_problem(value: object) -> str | None:
    if isinstance(value, (bytes, bytearray)):
        return None
    if type(value) is not str:
        return f"B value must be base64 text, got {_type_name(value)}"
    try:
        _b64decode(value)
    except (binascii.Error, ValueError, _Invalid):
        return f"B value {_short(value)} is not valid standard base64 (alphabet A-Z a-z 0-9 + /, '=' padding)"
    return None


def boto3_binary(value: object) -> bytes | None:
    """The bytes of a boto3 `Binary` (what boto3's resource API returns for every B), else None.

    Recognised by shape, so that shardline needs no boto3: a class named `Binary` whose `value` is
    `bytes` or `bytearray`, as `boto3.dynamodb.types.Binary` is. Anything else named Binary is not
    taken for one.
    """
    if type(value).__name__ != "Binary":
        return None
    try:
        inner = value.value  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - not boto3's Binary after all: the caller reports an unsupported type
        return None
    return bytes(inner) if isinstance(inner, (bytes, bytearray)) else None


# --------------------------------------------------------------------------------------------------
# Fast decoding. Every function raises *something* on malformed input; the caller turns that into a
# precise AttributeValueError through _explain(). `depth` is the level of the value being decoded;
# `budget` is a one-element list holding how many more bytes the value may be counted for (_BUDGET).
# The careful walk counts exactly the same amounts, so both refuse the same values.


def _spend_text(text: str, budget: list[int]) -> None:
    """The fast path's check of non-ASCII text: counted (it has at least as many bytes as characters), and
    UTF-8 text (a lone surrogate raises)."""
    left = budget[0] = budget[0] - len(text)
    if left < 0:
        raise _Invalid
    text.encode()


def _decode(av: dict[str, Any], depth: int, budget: list[int]) -> Any:
    (tag,) = av  # exactly one type key (ValueError otherwise)
    value = av[tag]
    if tag == "S":
        if type(value) is str:
            if not value.isascii():
                _spend_text(value, budget)
            return value
        raise _Invalid
    if tag == "N":
        return _number(value)
    return _DECODERS[tag](value, depth, budget)


def decode_pairs(pairs: Iterable[tuple[str, Any]], depth: int, budget: list[int]) -> dict[str, Any]:
    """Decode `(name, AttributeValue)` pairs at nesting level `depth` into a new dict on the fast path,
    counting against `budget` (`[_BUDGET]`, one for all the calls that decode one item).

    The hot loop of every image and map: S and N, by far the most common types, and M are handled
    without a dispatch.
    """
    out: dict[str, Any] = {}
    for name, av in pairs:
        (tag,) = av
        value = av[tag]
        if tag == "S" and type(value) is str:
            if not value.isascii():
                _spend_text(value, budget)
            out[name] = value
        elif tag == "N":
            number = _cached_number(value)
            out[name] = number if number is not None else _parse_number(value)
        elif tag == "M":  # _decode_m, inlined
            if (
                (type(value) is not dict and not isinstance(value, Mapping))
                or "" in value
                or (depth >= MAX_DEPTH and value)
            ):
                raise _Invalid
            names = "".join(value)  # every name is a string
            left = budget[0] = budget[0] - len(names)
            if left < 0:
                raise _Invalid
            if not names.isascii():
                names.encode()  # and UTF-8 text
            out[name] = decode_pairs(value.items(), depth + 1, budget)
        elif tag == "L":
            out[name] = _decode_l(value, depth, budget)
        else:
            out[name] = _DECODERS[tag](value, depth, budget)  # KeyError for "S" with a non-string value
    return out


def _decode_bool(value: Any, depth: int, budget: list[int]) -> bool:
    if type(value) is bool:
        return value
    raise _Invalid


def _decode_null(value: Any, depth: int, budget: list[int]) -> None:
    if value is not True:
        raise _Invalid


def _decode_ss(value: Any, depth: int, budget: list[int]) -> set[str]:
    if type(value) is not list or not value:
        raise _Invalid
    text = "".join(value)  # TypeError unless every element is a string
    if len(text) > _SMALL:
        left = budget[0] = budget[0] - len(text)
        if left < 0:
            raise _Invalid
    if not text.isascii():
        text.encode()  # lone surrogates raise
    result = set(value)
    if len(result) != len(value):
        raise _Invalid
    return result


def _decode_ns(value: Any, depth: int, budget: list[int]) -> set[Decimal]:
    if type(value) is not list or not value:
        raise _Invalid
    if len(value) > _SMALL:
        left = budget[0] = budget[0] - len(value)
        if left < 0:
            raise _Invalid
    result: set[Any] = set(map(_cached_number, value))  # C speed when every number was seen before
    if None in result:
        result = set(map(_number, value))
    if len(result) != len(value):
        raise _Invalid
    return result


def _decode_bs(value: Any, depth: int, budget: list[int]) -> set[bytes]:
    if type(value) is not list or not value:
        raise _Invalid
    result = set(map(_binary, value))
    size = sum(map(len, result))
    if size > _SMALL:
        left = budget[0] = budget[0] - size
        if left < 0:
            raise _Invalid
    if len(result) != len(value):
        raise _Invalid
    return result


def _decode_m(value: Any, depth: int, budget: list[int]) -> dict[str, Any]:
    if (type(value) is not dict and not isinstance(value, Mapping)) or "" in value or (depth >= MAX_DEPTH and value):
        raise _Invalid
    names = "".join(value)  # every name is a string
    left = budget[0] = budget[0] - len(names)
    if left < 0:
        raise _Invalid
    if not names.isascii():
        names.encode()  # and UTF-8 text
    return decode_pairs(value.items(), depth + 1, budget)


def _decode_l(value: Any, depth: int, budget: list[int]) -> list[Any]:
    if type(value) is not list or (depth >= MAX_DEPTH and value):
        raise _Invalid
    left = budget[0] = budget[0] - len(value)
    if left < 0:
        raise _Invalid
    depth += 1
    out: list[Any] = []
    append = out.append
    for av in value:
        (tag,) = av
        item = av[tag]
        if tag == "M":  # _decode_m, inlined
            if (
                (type(item) is not dict and not isinstance(item, Mapping))
                or "" in item
                or (depth >= MAX_DEPTH and item)
            ):
                raise _Invalid
            names = "".join(item)
            left = budget[0] = budget[0] - len(names)
            if left < 0:
                raise _Invalid
            if not names.isascii():
                names.encode()
            append(decode_pairs(item.items(), depth + 1, budget))
        elif tag == "S" and type(item) is str:
            if not item.isascii():
                _spend_text(item, budget)
            append(item)
        elif tag == "N":
            number = _cached_number(item)
            append(number if number is not None else _parse_number(item))
        else:
            append(_DECODERS[tag](item, depth, budget))
    return out


_DECODERS: Final[dict[str, Any]] = {
    "B": _decode_b,
    "BOOL": _decode_bool,
    "NULL": _decode_null,
    "SS": _decode_ss,
    "NS": _decode_ns,
    "BS": _decode_bs,
    "M": _decode_m,
    "L": _decode_l,
}


def decode_attribute(av: Any, parent: str, name: str) -> Any:
    """Decode the AttributeValue of attribute `name`; errors carry the path `parent.name`."""
    try:
        return _decode(av, 1, [_BUDGET])
    except Exception as exc:  # noqa: BLE001 - the fast path's failure is explained precisely by the careful walk
        cause = exc
    return _explain(av, join_path(parent, name), cause)  # outside the handler: no chained fast-path error


def explain_pairs(pairs: Iterable[tuple[Any, Any]], parent: str) -> NoReturn:
    """Raise the precise error for `(name, AttributeValue)` pairs that failed `decode_pairs` with
    one budget: the careful walk over them with one budget too, errors under `parent`."""
    budget = [_BUDGET]
    for name, av in pairs:
        _walk_name(name, parent)
        _walk(av, join_path(parent, name), 1, budget)
    raise AttributeValueError("malformed item", parent)  # pragma: no cover - the walk finds it


def _explain(av: Any, path: str, cause: BaseException | None = None) -> NoReturn:
    _walk(av, path, 1, [_BUDGET])
    # The walk found nothing: the fast path and the walk disagree, which is a bug in shardline.
    raise AttributeValueError(f"malformed AttributeValue ({type(cause).__name__})", path) from cause


def _explain_item(image: Any, path: str, cause: BaseException | None = None) -> NoReturn:
    _walk_item(image, path)
    raise AttributeValueError(f"malformed item ({type(cause).__name__})", path) from cause


# --------------------------------------------------------------------------------------------------
# The careful walk: validates with precise paths and returns DynamoDB's size of the value in bytes.


def _walk(av: Any, path: str, depth: int, budget: list[int]) -> int:
    if not isinstance(av, Mapping):
        raise AttributeValueError(
            f'expected an AttributeValue object such as {{"S": "text"}}, got {_type_name(av)}', path
        )
    if len(av) != 1:
        if not av:
            raise AttributeValueError(f"AttributeValue has no type key; expected one of {_TAG_LIST}", path)
        tags = ", ".join(map(_show_tag, av))
        raise AttributeValueError(f"AttributeValue has {len(av)} type keys ({tags}); expected exactly one", path)
    ((tag, value),) = av.items()
    if tag == "S":
        if type(value) is not str:
            raise AttributeValueError(f"S value must be a string, got {_type_name(value)}", path)
        if not value.isascii():
            _spend(budget, len(value), path)
        return _utf8_len(value, path, "S value")
    if tag == "N":
        problem = _number_problem(value)
        if problem:
            raise AttributeValueError(problem, path)
        return _number_size(value)
    if tag == "B":
        problem = _binary_problem(value)
        if problem:
            raise AttributeValueError(problem, path)
        size = len(_binary(value))
        if size > _SMALL:
            _spend(budget, size, path)
        return size
    if tag == "BOOL":
        if type(value) is not bool:
            raise AttributeValueError(f"BOOL value must be true or false, got {_type_name(value)}", path)
        return 1
    if tag == "NULL":
        if value is not True:
            raise AttributeValueError(f"NULL value must be true, got {_short_json(value)}", path)
        return 1
    if tag in ("SS", "NS", "BS"):
        return _walk_set(tag, value, path, budget)
    if tag == "M":
        if not isinstance(value, Mapping):
            raise AttributeValueError(f"M value must be an object, got {_type_name(value)}", path)
        _check_depth(value, path, depth)
        _spend(budget, sum(len(name) for name in value if type(name) is str), path)
        size = 3
        for name, item in value.items():
            size += _walk_name(name, path) + _walk(item, join_path(path, name), depth + 1, budget) + 1
        return size
    if tag == "L":
        if type(value) is not list:
            raise AttributeValueError(f"L value must be an array, got {_type_name(value)}", path)
        _check_depth(value, path, depth)
        _spend(budget, len(value), path)
        size = 3
        for index, item in enumerate(value):
            size += _walk(item, f"{path}[{index}]", depth + 1, budget) + 1
        return size
    raise AttributeValueError(f"unknown AttributeValue type {_show_tag(tag)}; expected one of {_TAG_LIST}", path)


def _show_tag(tag: object) -> str:
    # A key of a hand-made mapping may be anything: only text is quoted (an int of 5,000 digits cannot even be
    # written out, and an object's __str__ may fail).
    return _short(tag) if type(tag) is str else _type_name(tag)


def _check_depth(container: Any, path: str, depth: int) -> None:
    if depth >= MAX_DEPTH and container:
        raise AttributeValueError(
            f"nested too deeply: DynamoDB allows {MAX_DEPTH} levels, so at most {MAX_DEPTH - 1} levels of M/L "
            "may wrap a value",
            path,
        )


def _spend(budget: list[int], count: int, path: str) -> None:
    """Count `count` more bytes; refuse once they are more than an item can hold."""
    left = budget[0] - count
    budget[0] = left
    if left < 0:
        raise AttributeValueError(
            f"over DynamoDB's item size limit ({ITEM_SIZE_LIMIT:,} bytes) before it is fully counted (a value "
            "used in several places counts once per place)",
            path,
        )


def _walk_set(tag: str, value: Any, path: str, budget: list[int]) -> int:
    if type(value) is not list:
        raise AttributeValueError(f"{tag} value must be an array, got {_type_name(value)}", path)
    if not value:
        raise AttributeValueError(f"{tag} must not be empty: DynamoDB has no empty sets", path)
    seen: dict[Any, int] = {}
    size = 0
    for index, element in enumerate(value):
        where = f"{path}[{index}]"
        key: Any
        if tag == "SS":
            if type(element) is not str:
                raise AttributeValueError(f"SS elements must be strings, got {_type_name(element)}", where)
            size += _utf8_len(element, where, "SS element")
            key = element
        elif tag == "NS":
            problem = _number_problem(element)
            if problem:
                raise AttributeValueError(problem, where)
            size += _number_size(element)
            key = _number(element)
        else:
            problem = _binary_problem(element)
            if problem:
                raise AttributeValueError(problem, where)
            key = _binary(element)
            size += len(key)
        if key in seen:
            raise AttributeValueError(f"{tag} elements must be unique: this one repeats element [{seen[key]}]", where)
        seen[key] = index
    # Counted as decoding counts them: the characters of SS, one per NS element, the bytes of BS, when more
    # than _SMALL.
    count = sum(map(len, value)) if tag == "SS" else len(value) if tag == "NS" else size
    if count > _SMALL:
        _spend(budget, count, path)
    return size


def _walk_name(name: object, path: str) -> int:
    if type(name) is not str:
        raise AttributeValueError(f"attribute names must be strings, got {_type_name(name)}", path)
    if not name:
        raise AttributeValueError("attribute names must not be empty", path)
    return _utf8_len(name, join_path(path, name), "attribute name")


def _walk_item(image: Any, path: str) -> int:
    if not isinstance(image, Mapping):
        raise AttributeValueError(
            f"expected an item (an object of attribute names to AttributeValues), got {_type_name(image)}",
            path,
        )
    budget = [_BUDGET]
    size = 0
    for name, av in image.items():
        size += _walk_name(name, path) + _walk(av, join_path(path, name), 1, budget)
    return size


def _utf8_len(text: str, path: str, what: str = "the text") -> int:
    """Bytes of `text` in UTF-8, or the error for text that has no UTF-8 form.

    A lone surrogate (JSON `"\\ud800"`, or a str built in Python) is not a character: DynamoDB stores
    text as UTF-8 and refuses it, and so must every function here, rather than fail later with a
    UnicodeEncodeError far from the value.
    """
    if text.isascii():
        return len(text)
    try:
        return len(text.encode())
    except UnicodeEncodeError as exc:
        raise AttributeValueError(
            f"{what} holds a lone surrogate ({text[exc.start]!r} at index {exc.start}), which is not a character "
            "and has no UTF-8 form; DynamoDB stores text as UTF-8",
            path,
        ) from None


# --------------------------------------------------------------------------------------------------
# Paths and messages


def join_path(path: str, name: str) -> str:
    """`path.name`, or `path["odd name"]` when the name is not identifier-like."""
    if name.replace("-", "_").isidentifier():
        shown = name if len(name) <= 64 else name[:61] + "..."
        return f"{path}.{shown}" if path else shown
    quoted = _short_json(name)
    return f"{path}[{quoted}]"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def _short(text: str, limit: int = 48) -> str:
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def _short_json(value: object) -> str:
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and len(value) > 48:
            value = value[:45] + "..."
        return json.dumps(value)
    return _type_name(value)


# --------------------------------------------------------------------------------------------------
# Public decoding


def deserialize(av: Mapping[str, Any], *, int_if_integral: bool = False) -> Any:
    """Decode one DynamoDB [AttributeValue](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html)
    (event JSON form) into a Python value.

    Numbers become exact `Decimal`; with `int_if_integral=True` integral numbers become `int`
    instead (`"3"` and `"3.0"` both give `3`), others stay `Decimal`. Binaries are base64 text in
    events and decode to `bytes`. Raises [`AttributeValueError`][shardline.AttributeValueError] with a `.path` for
    anything DynamoDB would reject.

    Examples:
        >>> deserialize({"M": {"qty": {"N": "2"}, "tags": {"SS": ["a"]}}})
        {'qty': Decimal('2'), 'tags': {'a'}}
        >>> deserialize({"N": "2.50"}, int_if_integral=True), deserialize({"N": "2.0"}, int_if_integral=True)
        (Decimal('2.50'), 2)
    """
    try:
        value = _decode(av, 1, [_BUDGET])  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - the fast path's failure is explained precisely by the careful walk
        cause = exc
    else:
        return _integralize(value) if int_if_integral else value
    _explain(av, "", cause)


def deserialize_item(image: Mapping[str, Any], *, int_if_integral: bool = False) -> dict[str, Any]:
    """Decode a typed item image (`{"name": {"S": "x"}, ...}`) into a plain `dict`.

    Examples:
        >>> deserialize_item({"Id": {"N": "101"}, "Message": {"S": "New item!"}})
        {'Id': Decimal('101'), 'Message': 'New item!'}
    """
    try:
        if (type(image) is not dict and not isinstance(image, Mapping)) or "" in image:
            raise _Invalid
        names = "".join(image)  # every name is a string
        if not names.isascii():
            names.encode()  # and UTF-8 text
        item = decode_pairs(image.items(), 1, [_BUDGET])
    except Exception as exc:  # noqa: BLE001 - the fast path's failure is explained precisely by the careful walk
        cause = exc
    else:
        return _integralize(item) if int_if_integral else item
    _explain_item(image, "", cause)


def _integralize(value: Any) -> Any:
    kind = type(value)
    if kind is Decimal:
        _, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        if exponent >= 0 or not any(digits[exponent:]):
            return int(value)  # int(Decimal) is exact, with no context involved
        return value
    if kind is dict:
        return {name: _integralize(item) for name, item in value.items()}
    if kind is list:
        return [_integralize(item) for item in value]
    if kind is set and value and type(next(iter(value))) is Decimal:
        return {_integralize(item) for item in value}
    return value


# --------------------------------------------------------------------------------------------------
# Size and validation


def item_size(image: Mapping[str, Any]) -> int:
    """DynamoDB's size in bytes of a typed item image, attribute names included, by DynamoDB's
    [item size rules](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).

    A stream record's `SizeBytes` is the sum of `item_size` over its Keys, NewImage and OldImage.
    Raises [`AttributeValueError`][shardline.AttributeValueError] for anything DynamoDB would refuse, except the 400 KB
    limit itself (see [`validate_item`][shardline.validate_item]), and for values whose maps and lists hold more entries
    than fit in 400 KB.

    Examples:
        >>> item_size({"Id": {"N": "101"}, "Message": {"S": "New item!"}})
        21
    """
    return _walk_item(image, "")


def encoded_item_size(image: Mapping[str, Any]) -> int:
    """[`item_size`][shardline.item_size] of an image made by [`serialize_item`][shardline.serialize_item]: no checks
    and no paths, for images that are valid by construction (numbers in normalised plain form, binaries in standard
    base64).

    Examples:
        >>> encoded_item_size(serialize_item({"Id": 101, "Message": "New item!", "tags": {"a", "b"}}))
        27
    """
    size = 0
    for name, av in image.items():
        size += (len(name) if name.isascii() else _utf8_len(name, "")) + _encoded_size(av)
    return size


def _encoded_size(av: Mapping[str, Any]) -> int:
    ((tag, value),) = av.items()
    if tag == "S":
        return len(value) if value.isascii() else _utf8_len(value, "")  # isascii() is O(1) in CPython
    if tag == "N":
        return _plain_number_size(value)
    if tag == "M":
        size = 3
        for name, item in value.items():
            size += (len(name) if name.isascii() else _utf8_len(name, "")) + _encoded_size(item) + 1
        return size
    if tag == "L":
        return 3 + sum(_encoded_size(item) + 1 for item in value)
    if tag in {"BOOL", "NULL"}:
        return 1
    if tag == "B":
        return _base64_size(value)
    if tag == "SS":
        return sum(len(element.encode("utf-8", "surrogatepass")) for element in value)
    if tag == "NS":
        return sum(map(_plain_number_size, value))
    return sum(map(_base64_size, value))  # BS


def _base64_size(text: str) -> int:
    # Standard base64 with padding: 4 characters per 3 bytes, minus one byte per "=".
    return len(text) // 4 * 3 - text.count("=", -2)


def attribute_size(av: Mapping[str, Any]) -> int:
    """DynamoDB's size in bytes of one AttributeValue (its name not included)."""
    return _walk(av, "", 1, [_BUDGET])


def validate_item(image: Mapping[str, Any], *, key_schema: Mapping[str, str] | None = None) -> None:
    """Raise [`AttributeValueError`][shardline.AttributeValueError] unless DynamoDB would accept `image` as an item.

    Checks every AttributeValue rule, the 400 KB item limit and, given a `key_schema` such as
    `{"pk": "S", "sk": "N"}` (partition key first, optional sort key second), the key attributes.

    Examples:
        >>> validate_item({"pk": {"S": ""}}, key_schema={"pk": "S"})
        Traceback (most recent call last):
        ...
        shardline.AttributeValueError: pk: the partition key must not be empty
    """
    schema = _check_key_schema(key_schema) if key_schema is not None else ()
    check_item_limits(image, _walk_item(image, ""), schema)


def check_item_limits(image: Mapping[str, Any], size: int, schema: Iterable[tuple[str, str]]) -> None:
    """The checks of [`validate_item`][shardline.validate_item] that a valid image can still fail, given its `size`: the
    400 KB limit and the key attributes of `schema` (`(name, type)` pairs, partition key first, already checked)."""
    if size > ITEM_SIZE_LIMIT:
        raise AttributeValueError(
            f"item is {size:,} bytes; DynamoDB's limit is {ITEM_SIZE_LIMIT:,} bytes (400 KB, names included)"
        )
    for position, (name, declared) in enumerate(schema):
        av = image.get(name)
        value = av.get(declared) if av is not None and len(av) == 1 else None
        if value is not None:  # the quick check of a well-formed key; any doubt goes to the careful one
            if declared == "N":
                continue
            try:
                length = _utf8_len(value, "") if declared == "S" else len(_binary(value))
            except Exception:  # noqa: BLE001 - not a valid key value: the careful check below says why
                length = 0
            if 0 < length <= (_PARTITION_KEY_MAX if position == 0 else _SORT_KEY_MAX):
                continue
        _key_problem(image, position, name, declared)


def _key_problem(image: Mapping[str, Any], position: int, name: str, declared: str) -> NoReturn:
    """Raise the error of a key attribute that failed the quick check."""
    role = "partition key" if position == 0 else "sort key"
    path = join_path("", name)
    av = image.get(name)
    if av is None:
        raise AttributeValueError(f"the item lacks its {role} attribute", path)
    _walk(av, path, 1, [_BUDGET])  # a valid AttributeValue, or its error
    ((tag, value),) = av.items()
    if tag != declared:
        raise AttributeValueError(f"the {role} must be of type {declared} (key schema), got {tag}", path)
    length = _utf8_len(value, path, "S value") if tag == "S" else len(_binary(value))
    if length == 0:
        raise AttributeValueError(f"the {role} must not be empty", path)
    limit = _PARTITION_KEY_MAX if position == 0 else _SORT_KEY_MAX
    raise AttributeValueError(f"the {role} is {length} bytes; DynamoDB allows at most {limit}", path)


def _check_key_schema(key_schema: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    if not isinstance(key_schema, Mapping) or not 1 <= len(key_schema) <= 2:
        raise AttributeValueError(
            'key_schema must map 1 or 2 attribute names to types, partition key first: {"pk": "S", "sk": "N"}',
            "key_schema",
        )
    pairs = tuple(key_schema.items())
    for name, kind in pairs:
        if type(name) is not str or not name:
            raise AttributeValueError("key attribute names must be non-empty strings", "key_schema")
        if type(kind) is not str or kind not in _KEY_TYPES:
            shown = _short(kind) if type(kind) is str else _type_name(kind)
            raise AttributeValueError(
                f"key attribute {_short(name)} has type {shown}; key attributes are S, N or B", "key_schema"
            )
    return pairs


# --------------------------------------------------------------------------------------------------
# Encoding


def serialize(value: Any, *, allow_floats: bool = False) -> dict[str, Any]:
    """Encode a Python value as a DynamoDB [AttributeValue](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html)
    in event JSON form (binaries as base64 text).

    `bool` is BOOL (checked before `int`), `int`/`Decimal` are N in DynamoDB's normalised plain
    form, `str` is S, `bytes`/`bytearray`/`memoryview` and boto3's `Binary` are B, `None` is
    NULL, mappings are M, lists and tuples are L, and non-empty sets of strings, numbers or binaries are SS,
    NS or BS. `float` is refused because binary floating point is not exact; `allow_floats=True`
    converts a float through its shortest `repr` (`0.1` becomes `"0.1"`).

    A value of a type DynamoDB cannot store (a float without `allow_floats`, `object()`, a set of
    booleans) raises [`AttributeTypeError`][shardline.AttributeTypeError], a `TypeError` as in boto3; a value DynamoDB
    refuses (NaN, a number out of range, text with a lone surrogate, an empty set, more than 32 levels of nesting)
    raises [`AttributeValueError`][shardline.AttributeValueError]. Both carry the `.path` of the value.

    Examples:
        >>> serialize({"qty": 3, "price": Decimal("9.90"), "tags": {"b", "a"}})
        {'M': {'qty': {'N': '3'}, 'price': {'N': '9.9'}, 'tags': {'SS': ['a', 'b']}}}
    """
    return _encode(value, "", 1, allow_floats, [_BUDGET])


def serialize_item(item: Mapping[str, Any], *, allow_floats: bool = False) -> dict[str, dict[str, Any]]:
    """Encode a mapping of attribute names to Python values as a typed item image.

    Examples:
        >>> serialize_item({"Id": 101, "Message": "New item!"})
        {'Id': {'N': '101'}, 'Message': {'S': 'New item!'}}
    """
    if not isinstance(item, Mapping):
        raise AttributeTypeError(f"an item must be a mapping of attribute names to values, got {_type_name(item)}")
    budget = [_BUDGET]
    image: dict[str, dict[str, Any]] = {}
    for key, value in item.items():
        name = str.__str__(key) if isinstance(key, str) else key
        if type(name) is not str or not name or not name.isascii():
            _encode_name(name, "")  # raises the precise error, or accepts a non-ASCII name
        kind = type(value)
        # The common scalars need no path (they cannot fail, or fail on the careful path): skip building it.
        if kind is str and value.isascii():
            image[name] = {"S": value}
        elif kind is int and -_PLAIN_INT_LIMIT < value < _PLAIN_INT_LIMIT:
            image[name] = {"N": str(value)}
        elif kind is bool:
            image[name] = {"BOOL": value}
        elif kind is Decimal and (text := _plain_decimal(value)) is not None:
            image[name] = {"N": text}
        else:
            image[name] = _encode(value, join_path("", name), 1, allow_floats, budget)
    return image


_SUPPORTED: Final = "use str, int, Decimal, bytes, bool, None, a mapping, a list or tuple, or a set"


def _encode(value: Any, path: str, depth: int, allow_floats: bool, budget: list[int]) -> dict[str, Any]:
    # Counted against `budget` exactly as decoding counts the result (see _BUDGET), so that what one
    # accepts the other accepts too.
    kind = type(value)
    if kind is str:
        if not value.isascii():
            _spend(budget, len(value), path)
            _utf8_len(value, path, "the string")
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int or kind is Decimal:
        return {"N": _encode_number(value, path)}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return _encode_map(value, path, depth, allow_floats, budget)
    if kind is list or kind is tuple:
        _check_encode_depth(value, path, depth)
        _spend(budget, len(value), path)
        return {"L": [_encode(item, f"{path}[{i}]", depth + 1, allow_floats, budget) for i, item in enumerate(value)]}
    if kind is bytes or kind is bytearray:
        return _encode_binary(value, path, budget)
    if kind is set or kind is frozenset:
        return _encode_set(value, path, allow_floats, budget)
    if kind is float:
        return {"N": _encode_float(value, path, allow_floats)}
    # Subclasses: str and int enums, OrderedDict, user mappings, named tuples.
    if isinstance(value, str):  # str.__str__: a (str, Enum) member's str() is "Class.MEMBER", not its value
        return _encode(str.__str__(value), path, depth, allow_floats, budget)
    if isinstance(value, int):  # bool was handled above; IntEnum and friends land here
        return {"N": _encode_number(int(value), path)}
    if isinstance(value, Decimal):
        return {"N": _encode_number(value, path)}
    if isinstance(value, float):
        return {"N": _encode_float(float(value), path, allow_floats)}
    if isinstance(value, Mapping):
        return _encode_map(value, path, depth, allow_floats, budget)
    if isinstance(value, (list, tuple)):
        return _encode(list(value), path, depth, allow_floats, budget)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _encode_binary(_bytes_of(value, path), path, budget)
    if isinstance(value, (set, frozenset)):
        return _encode_set(value, path, allow_floats, budget)
    data = boto3_binary(value)
    if data is not None:
        return _encode_binary(data, path, budget)
    raise AttributeTypeError(f"cannot store a {_qualname(value)} in DynamoDB; {_SUPPORTED}", path)


def _encode_map(
    value: Mapping[Any, Any], path: str, depth: int, allow_floats: bool, budget: list[int]
) -> dict[str, Any]:
    _check_encode_depth(value, path, depth)
    _spend(budget, sum(len(key) for key in value if isinstance(key, str)), path)
    encoded: dict[str, Any] = {}
    for key, item in value.items():
        name = str.__str__(key) if isinstance(key, str) else key  # str enums as names too
        _encode_name(name, path)
        encoded[name] = _encode(item, join_path(path, name), depth + 1, allow_floats, budget)
    return {"M": encoded}


def _encode_binary(data: bytes | bytearray, path: str, budget: list[int]) -> dict[str, Any]:
    if len(data) > _SMALL:
        _spend(budget, len(data), path)
    return {"B": b64encode(data).decode("ascii")}


def _encode_name(name: object, path: str) -> None:
    if type(name) is not str:
        raise AttributeTypeError(f"attribute names must be strings, got {_type_name(name)}", path)
    _walk_name(name, path)


def _check_encode_depth(container: Any, path: str, depth: int) -> None:
    if depth >= MAX_DEPTH and container:
        raise AttributeValueError(
            f"nested too deeply: DynamoDB allows {MAX_DEPTH} levels, so at most {MAX_DEPTH - 1} levels of "
            "maps and lists may wrap a value (is there a reference cycle?)",
            path,
        )


def _bytes_of(value: bytes | bytearray | memoryview, path: str) -> bytes:
    try:
        return bytes(value)
    except ValueError:  # a released memoryview
        raise AttributeValueError("this memoryview was released; its bytes are gone", path) from None


def _qualname(value: object) -> str:
    name = getattr(type(value), "__qualname__", None)
    return name if type(name) is str else "value of an unknown type"


_PLAIN_DECIMAL: Final = frozenset("-.0123456789")


def _plain_decimal(value: Decimal) -> str | None:
    """DynamoDB's text for the Decimals that print in plain notation (prices, quantities): their own text,
    normalised. `None` for the others (exponents, NaN, Infinity, long texts): the careful path decides."""
    text = str(value)
    if len(text) > 40 or not _PLAIN_DECIMAL.issuperset(text):
        return None
    negative = text[0] == "-"
    whole, _, fraction = (text[1:] if negative else text).partition(".")
    fraction = fraction.rstrip("0")
    significant = (whole + fraction).strip("0")
    if not significant:
        return "0"
    if len(significant) > 38:
        return None
    plain = f"{whole}.{fraction}" if fraction else whole
    return "-" + plain if negative else plain


def _encode_number(value: int | Decimal, path: str) -> str:
    if type(value) is int:
        if -_PLAIN_INT_LIMIT < value < _PLAIN_INT_LIMIT:
            return str(value)
    elif type(value) is Decimal:
        text = _plain_decimal(value)
        if text is not None:
            return text
    if isinstance(value, int):
        value = int(value)
        # Check the range before converting: Decimal(int) takes seconds for a million digits.
        if value.bit_length() > _INT_BITS_LIMIT:
            raise AttributeValueError(_TOO_LARGE, path)
    number = Decimal(value)  # exact for ints of any size
    if not number.is_finite():
        raise AttributeValueError(f"DynamoDB numbers are finite; got {number}", path)
    if not number:
        return "0"
    # Check the range before writing the number out: 1E+999999999 must not become a billion digits.
    adjusted = number.adjusted()
    if adjusted > _MAX_ADJUSTED:
        raise AttributeValueError(_TOO_LARGE, path)
    if adjusted < _MIN_ADJUSTED:
        raise AttributeValueError(_TOO_SMALL, path)
    digits = _significant_digits(number)
    if digits > 38:
        raise AttributeValueError(
            f"{digits} significant digits; DynamoDB keeps at most 38 (round the value first)", path
        )
    return format_number(number)


def _encode_float(value: float, path: str, allow_floats: bool) -> str:
    if not math.isfinite(value):
        raise AttributeValueError(f"DynamoDB numbers are finite; got {value!r}", path)
    if not allow_floats:
        raise AttributeTypeError(
            f"float {value!r} refused: binary floats are not exact. Pass Decimal({str(value)!r}) or int, or "
            "call with allow_floats=True to convert floats through their shortest repr",
            path,
        )
    return _encode_number(Decimal(repr(value)), path)


def _encode_set(value: set[Any] | frozenset[Any], path: str, allow_floats: bool, budget: list[int]) -> dict[str, Any]:
    if not value:
        raise AttributeValueError(
            "an empty set has no DynamoDB type (DynamoDB sets are never empty); leave the attribute out or use a list",
            path,
        )
    kinds = set()
    texts: list[str] = []
    size = 0  # of BS, in bytes
    for element in value:
        if isinstance(element, str):
            text = str.__str__(element)
            if not text.isascii():
                _utf8_len(text, path, "a set element")
            kinds.add("SS")
            texts.append(text)
        elif isinstance(element, bool):
            raise AttributeTypeError("sets may hold strings, numbers or binaries, not booleans", path)
        elif isinstance(element, (int, Decimal)):
            kinds.add("NS")
            texts.append(_encode_number(element, path))
        elif isinstance(element, float):
            kinds.add("NS")
            texts.append(_encode_float(float(element), path, allow_floats))
        elif isinstance(element, (bytes, bytearray, memoryview)):
            kinds.add("BS")
            data = _bytes_of(element, path)
            size += len(data)
            texts.append(b64encode(data).decode("ascii"))
        else:
            wrapped = boto3_binary(element)
            if wrapped is None:
                raise AttributeTypeError(f"sets may hold strings, numbers or binaries, not {_qualname(element)}", path)
            kinds.add("BS")
            size += len(wrapped)
            texts.append(b64encode(wrapped).decode("ascii"))
    if len(kinds) > 1:
        raise AttributeTypeError("a set must hold one kind: all strings, all numbers or all binaries", path)
    (tag,) = kinds
    count = sum(map(len, texts)) if tag == "SS" else len(texts) if tag == "NS" else size
    if count > _SMALL:
        _spend(budget, count, path)
    if len(set(texts)) != len(texts):
        raise AttributeValueError(f"{tag} elements collide once encoded (e.g. 0.1 and Decimal('0.1'))", path)
    if tag == "NS":
        texts.sort(key=Decimal)
    else:
        texts.sort()
    return {tag: texts}


# --------------------------------------------------------------------------------------------------
# The C accelerator
#
# shardline._speedups, an optional extension built from _speedups.c where a compiler was at hand, runs the
# fast path's hot loop (decode_pairs, _decode, _number and the M, L, SS, NS, BOOL and NULL decoders) in C. The
# Python functions above stay the reference and the fallback: for every input they accept the C ones return
# the same value, and they raise for exactly the inputs these refuse (the differential tests check both), so
# errors and their messages come from the careful walk above whichever path ran. The choice is made once, here,
# before any module imports these names; SHARDLINE_PURE_PYTHON set to anything but "" or "0" keeps Python's.

#: The pure Python fast path, by the names the accelerator rebinds (`_DECODERS` by tag).
_PURE_FUNCTIONS: Final[dict[str, Any]] = {"decode_pairs": decode_pairs, "_decode": _decode, "_number": _number}
_PURE_DECODERS: Final[dict[str, Any]] = dict(_DECODERS)


def _load_speedups() -> Any:
    """The configured extension module, or None when it is missing, fails to load or is switched off."""
    import os

    if os.environ.get("SHARDLINE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    # What C hands back to Python: number texts the cache does not hold, binaries (base64's strict rules
    # differ between Python versions), mappings that are not dicts, and tags that are not str objects.
    _speedups.configure(
        invalid=_Invalid,
        parse_number=_parse_number,
        number_cache=_NUMBER_CACHE,
        decode_b=_decode_b,
        decode_bs=_decode_bs,
        decode_m=_decode_m,
        decoders=_DECODERS,
        max_depth=MAX_DEPTH,
        small=_SMALL,
    )
    return _speedups


_accelerator = _load_speedups()
speedups_enabled: Final[bool] = _accelerator is not None
"""True when the optional C accelerator decodes AttributeValues; False when the pure Python codec does.

The pure Python codec gives the same values, errors and messages, more slowly. It is used when the platform has
no accelerator, or when the environment variable `SHARDLINE_PURE_PYTHON` is set (to anything but `""` or `"0"`)
at import."""
if _accelerator is not None:
    decode_pairs = _accelerator.decode_pairs
    _decode = _accelerator.decode
    _number = _accelerator.number
    # In place: the table is shared by name (the records' one-attribute reads use it).
    _DECODERS.update(
        M=_accelerator.decode_m,
        L=_accelerator.decode_l,
        SS=_accelerator.decode_ss,
        NS=_accelerator.decode_ns,
        BOOL=_accelerator.decode_bool,
        NULL=_accelerator.decode_null,
    )
#: The functions now in use, by the same names as _PURE_FUNCTIONS.
_SELECTED_FUNCTIONS: Final[dict[str, Any]] = {"decode_pairs": decode_pairs, "_decode": _decode, "_number": _number}
