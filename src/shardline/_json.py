"""Exact JSON text for decoded DynamoDB values.

The standard library cannot write a `Decimal` as a JSON number without going through `float`, which
rounds. `json_dumps` swaps each Decimal for a unique placeholder string, lets `json.dumps` do all the
formatting (indent, sort_keys, separators, ensure_ascii behave as usual), then puts the exact number text
back in place of the quoted placeholder.
"""

from __future__ import annotations

import json
import math
import sys
from base64 import b64encode
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ._attributes import boto3_binary, join_path, plain_text
from ._exceptions import AttributeTypeError, AttributeValueError, JSONInputError

__all__ = ["deeper_than", "json_dumps", "json_loads"]

_MARK = "\x00shardline-number:"


class _MarkCollision(Exception):
    pass


def json_loads(
    text: str | bytes,
    *,
    parse_float: Callable[[str], Any] | None = None,
    parse_int: Callable[[str], Any] | None = None,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """Parse JSON text strictly, raising only [`JSONInputError`][shardline.JSONInputError] for bad input.

    Unlike `json.loads` it refuses `NaN` and `Infinity` (they are not JSON, and AWS refuses them),
    and it turns the errors the standard library raises for text it cannot read (invalid UTF-8 bytes, nesting
    deeper than the interpreter's recursion limit, an integer longer than `sys.get_int_max_str_digits()`)
    into one error type with a message that says what to fix. The hooks are those of `json.loads`.

    Examples:
        >>> json_loads('{"n": 1.50}', parse_float=Decimal)
        {'n': Decimal('1.50')}
        >>> json_loads("[" * 100_000)
        Traceback (most recent call last):
        ...
        shardline.JSONInputError: nested too deeply to read (more than the interpreter's recursion limit)
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONInputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(
            text,
            parse_float=parse_float,
            parse_int=parse_int,
            parse_constant=_refuse_constant,
            object_pairs_hook=object_pairs_hook,
        )
    except json.JSONDecodeError as exc:
        raise JSONInputError(exc.msg, exc.lineno, exc.colno) from None
    except _ConstantError as exc:
        line, column = _position(text, exc.name)
        raise JSONInputError(f"{exc.name} is not JSON", line, column) from None
    except RecursionError:
        raise JSONInputError("nested too deeply to read (more than the interpreter's recursion limit)") from None
    except ArithmeticError:
        # decimal.InvalidOperation from parse_float=Decimal: an exponent beyond what Decimal can hold.
        raise JSONInputError(
            "a number's exponent is beyond what can be read exactly (at most 999999999999999999)"
        ) from None
    except ValueError as exc:
        if parse_int is not None or "digits" not in str(exc):
            raise
        # int() refuses decimal text longer than sys.get_int_max_str_digits() (4300 by default): converting
        # such text takes quadratic time, so the limit guards against denial of service.
        raise JSONInputError(
            f"an integer has more digits than Python converts ({sys.get_int_max_str_digits()}); "
            "no DynamoDB number or Lambda event field needs that many"
        ) from None


class _ConstantError(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _refuse_constant(name: str) -> Any:
    raise _ConstantError(name)


def _position(text: str, token: str) -> tuple[int, int]:
    """Line and column (1-based) of the first `token` outside a string, as json reports positions."""
    index = 0
    in_string = False
    escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif text.startswith(token, index):
            break
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def deeper_than(value: Any, limit: int) -> bool:
    """Whether dicts and lists nest more than `limit` levels deep in `value`, found without recursion.

    Examples:
        >>> deeper_than({"a": [[1]]}, 3), deeper_than({"a": [[1]]}, 2)
        (False, True)
    """
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        if children and depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def json_dumps(obj: Any, *, default: Callable[[Any], Any] | None = None, **kwargs: Any) -> str:
    """Serialise decoded DynamoDB values as JSON text, exactly.

    `Decimal` becomes a JSON number with every digit kept: in plain notation within DynamoDB's range (as
    [`format_number`][shardline.format_number] writes it), in exponent notation beyond it (`1E+400`), so that no number
    is written out to more digits than it was given with. Sets become sorted arrays, `bytes` (and boto3's `Binary`)
    base64 text. Other keyword arguments go to `json.dumps`; `default` is still called for types this function does not
    know.

    What JSON cannot carry raises an error with the `.path` of the value:
    [`AttributeTypeError`][shardline.AttributeTypeError] (a TypeError) for a value of a type JSON does not have and
    `default` does not convert, or a key that is not a string, number, boolean or None;
    [`AttributeValueError`][shardline.AttributeValueError] (a ValueError) for NaN and infinity (unless `allow_nan=True`
    is passed for floats), a reference cycle, an int longer than Python writes (`sys.get_int_max_str_digits()`), text
    with a lone surrogate when `ensure_ascii=False` (such text has no UTF-8 form), and nesting deeper than the
    interpreter's recursion limit.

    Examples:
        >>> json_dumps({"n": Decimal("12345678901234567890.123456789"), "s": {"b", "a"}, "b": b"\\x00"})
        '{"n": 12345678901234567890.123456789, "s": ["a", "b"], "b": "AA=="}'
    """
    allow_nan = bool(kwargs.pop("allow_nan", False))
    options = _Options(
        default,
        allow_nan=allow_nan,
        check_text=not kwargs.get("ensure_ascii", True),
        skip_keys=bool(kwargs.get("skipkeys", False)),
    )
    mark = _MARK
    while True:
        numbers: list[str] = []
        try:
            prepared = _prepare(obj, numbers, mark, options, set())
            break
        except _MarkCollision:
            mark += "~"  # the input itself holds the placeholder text: pick one it does not hold
        except _Unwritable as exc:
            raise exc.error() from None
        except RecursionError:
            raise AttributeValueError(_TOO_DEEP) from None
    try:
        text = json.dumps(prepared, allow_nan=allow_nan, **kwargs)
    except RecursionError:
        raise AttributeValueError(_TOO_DEEP) from None
    except TypeError:
        if not kwargs.get("sort_keys"):
            raise  # a keyword argument json.dumps does not take: the caller's mistake, reported as json reports it
        raise AttributeTypeError("keys of different types cannot be sorted (sort_keys=True)") from None
    if not numbers:
        return text
    quoted = json.dumps(mark, ensure_ascii=kwargs.get("ensure_ascii", True))[:-1]  # '"\\u0000shardline...'
    pieces = text.split(quoted)
    out = [pieces[0]]
    for piece in pieces[1:]:
        index_text, _, rest = piece.partition('"')
        out.append(numbers[int(index_text)])
        out.append(rest)
    return "".join(out)


_TOO_DEEP = "nested too deeply to write as JSON (more than the interpreter's recursion limit)"


# A list or object used in several places is written out in full each time, as json.dumps writes it; a value
# that shares one list between many places (a DAG, small in memory) would expand to exponentially more text
# than its size. What is written again is counted (values, and characters of text and numbers) and refused
# past this many: a tree, however large, never counts anything.
_REPEAT_LIMIT = 2**20


class _Options:
    __slots__ = ("allow_nan", "check_text", "default", "repeat_budget", "repeating", "seen", "skip_keys")

    def __init__(
        self, default: Callable[[Any], Any] | None, *, allow_nan: bool, check_text: bool, skip_keys: bool
    ) -> None:
        self.default = default
        self.allow_nan = allow_nan
        self.check_text = check_text  # ensure_ascii=False: the text is written as it is, so it must be UTF-8
        self.skip_keys = skip_keys
        self.seen: set[int] = set()  # the containers met so far
        self.repeating = 0  # how many containers met before enclose the value being prepared
        self.repeat_budget = _REPEAT_LIMIT

    def spend(self, count: int) -> None:
        self.repeat_budget -= count
        if self.repeat_budget < 0:
            raise _Unwritable(
                f"uses the same lists or objects in so many places that its JSON would repeat more than "
                f"{_REPEAT_LIMIT:,} values and characters; write shared parts once, or pass copies"
            )


class _Unwritable(Exception):
    """A value json_dumps cannot write; the containers it sits in add their key or index on the way out."""

    def __init__(self, reason: str, kind: type[AttributeValueError] = AttributeValueError) -> None:
        self.reason = reason
        self.kind = kind
        self.parts: list[object] = []

    def error(self) -> AttributeValueError:
        path = ""
        for part in reversed(self.parts):
            path = f"{path}[{part}]" if isinstance(part, int) else join_path(path, str(part))
        return self.kind(self.reason, path)


# Ints from here on are checked against Python's limit on int-to-text conversion before json.dumps meets them.
_LONG_INT = 10**4000


def _prepare(obj: Any, numbers: list[str], mark: str, options: _Options, active: set[int]) -> Any:
    """A copy of `obj` that json.dumps can write, Decimals replaced by placeholders.

    `active` holds the ids of the containers being prepared, to report cycles.
    """
    kind = type(obj)
    if kind is str:
        if options.repeating:
            options.spend(len(obj))
        if mark in obj:
            raise _MarkCollision
        if options.check_text and not obj.isascii():
            _check_text(obj, "the text")
        return obj
    if kind is int:
        return obj if -_LONG_INT < obj < _LONG_INT else _check_int(obj)
    if kind is bool or obj is None:
        return obj
    if kind is float:
        if options.allow_nan or math.isfinite(obj):
            return obj
        raise _Unwritable(
            f"{obj!r} has no JSON form (allow_nan=True writes it as {json.dumps(obj)}, which JSON readers refuse)"
        )
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise _Unwritable(f"Decimal {obj} has no JSON form")
        numbers.append(_number_text(obj))
        if options.repeating:
            options.spend(len(numbers[-1]))
        return f"{mark}{len(numbers) - 1}"
    if isinstance(obj, (Mapping, list, tuple, set, frozenset)):
        key = id(obj)
        if key in active:
            raise _Unwritable("refers back to itself (a reference cycle); JSON cannot hold a cycle")
        repeat = key in options.seen
        if repeat or options.repeating:
            options.spend(len(obj) + 1)
        if repeat:
            options.repeating += 1
        else:
            options.seen.add(key)
        active.add(key)
        try:
            if isinstance(obj, Mapping):
                return _prepare_mapping(obj, numbers, mark, options, active)
            items = sorted(obj, key=_set_order) if isinstance(obj, (set, frozenset)) else obj
            out = []
            index = 0
            try:
                for index, value in enumerate(items):  # noqa: B007 - the index names the bad value
                    out.append(_prepare(value, numbers, mark, options, active))
            except _Unwritable as exc:
                exc.parts.append(index)
                raise
            return out
        finally:
            active.discard(key)
            if repeat:
                options.repeating -= 1
    if isinstance(obj, (bytes, bytearray, memoryview)):
        if options.repeating:
            options.spend(len(obj))
        try:
            return b64encode(bytes(obj)).decode("ascii")
        except ValueError:  # a released memoryview
            raise _Unwritable("this memoryview was released; its bytes are gone") from None
    data = boto3_binary(obj)
    if data is not None:
        return b64encode(data).decode("ascii")
    # Subclasses of the JSON scalars (str and int enums, ...): json.dumps writes their plain value.
    if isinstance(obj, str):
        return _prepare(str.__str__(obj), numbers, mark, options, active)
    if isinstance(obj, int):  # bool was handled above
        return _prepare(int(obj), numbers, mark, options, active)
    if isinstance(obj, float):
        return _prepare(float(obj), numbers, mark, options, active)
    if options.default is not None:
        return _prepare(options.default(obj), numbers, mark, options, active)
    raise _Unwritable(
        f"Object of type {type(obj).__name__} is not JSON serializable (pass default= to convert it)",
        AttributeTypeError,
    )


def _prepare_mapping(
    obj: Mapping[Any, Any], numbers: list[str], mark: str, options: _Options, active: set[int]
) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    name: Any = _SKIP
    try:
        for key, value in obj.items():
            name = _SKIP  # a key that cannot be written is reported at this mapping (or by itself)
            name = _prepare_key(key, mark, options)
            if name is not _SKIP:
                out[name] = _prepare(value, numbers, mark, options, active)
    except _Unwritable as exc:
        if name is not _SKIP:
            exc.parts.append(name if type(name) is str else json.dumps(name))
        raise
    return out


_SKIP: Any = object()


def _prepare_key(key: Any, mark: str, options: _Options) -> Any:
    """The key json.dumps will write, or _SKIP (`skipkeys=True`) for one it cannot."""
    if type(key) is str:
        name = key
    elif isinstance(key, str):
        name = str.__str__(key)
    elif key is None or isinstance(key, (int, float)):  # json.dumps writes these as text; bool is an int
        if type(key) is int and not -_LONG_INT < key < _LONG_INT:
            _check_int(key)
        return key
    elif options.skip_keys:
        return _SKIP
    else:
        raise _Unwritable(
            f"has a key of type {type(key).__name__}; JSON object keys are strings (or numbers, booleans and "
            "None, which json.dumps writes as strings)",
            AttributeTypeError,
        )
    if mark in name:
        raise _MarkCollision
    if options.check_text and not name.isascii():
        try:
            _check_text(name, "the key")
        except _Unwritable as exc:
            exc.parts.append(name)
            raise
    return name


def _check_text(text: str, what: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise _Unwritable(
            f"{what} holds a lone surrogate ({text[exc.start]!r} at index {exc.start}), which has no UTF-8 form; "
            "with ensure_ascii=False the JSON text could not be encoded"
        ) from None


def _check_int(number: int) -> int:
    try:
        int.__repr__(number)
    except ValueError:
        raise _Unwritable(
            f"an int of more than {sys.get_int_max_str_digits()} digits, longer than Python writes "
            "(sys.get_int_max_str_digits())"
        ) from None
    return number


def _number_text(number: Decimal) -> str:
    """JSON text of a finite Decimal: plain within DynamoDB's range, exponent notation beyond it."""
    text = plain_text(number)
    if text is not None:
        return text
    sign, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    adjusted = exponent + len(stripped) - 1
    mantissa = stripped[0] + ("." + stripped[1:] if len(stripped) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}E{adjusted:+d}"


def _set_order(value: Any) -> tuple[int, Any]:
    # Sets from DynamoDB hold one kind; mixed sets from elsewhere still sort deterministically.
    if isinstance(value, Decimal) and value.is_finite():
        return (0, value)
    if isinstance(value, float) and math.isfinite(value):
        return (0, value)  # floats and Decimals compare exactly
    if isinstance(value, int) and not isinstance(value, bool):
        # Ints compare with Decimals exactly; one too long to compare cheaply sorts by its sign.
        return (0, value) if -_LONG_INT < value < _LONG_INT else (0, Decimal("-Infinity" if value < 0 else "Infinity"))
    if isinstance(value, str):
        return (1, str.__str__(value))
    if isinstance(value, (bytes, bytearray)):
        return (2, bytes(value))
    data = boto3_binary(value)
    if data is not None:
        return (2, data)
    return (3, type(value).__name__)
