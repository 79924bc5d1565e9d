"""Exact JSON text for decoded DynamoDB values.

The standard library cannot write a ``Decimal`` as a JSON number without going through ``float``, which
rounds. ``json_dumps`` swaps each Decimal for a unique placeholder string, lets ``json.dumps`` do all the
formatting (indent, sort_keys, separators, ensure_ascii behave as usual), then puts the exact number text
back in place of the quoted placeholder.
"""

from __future__ import annotations

import json
import sys
from base64 import b64encode
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ._attributes import format_number
from ._exceptions import JSONInputError

__all__ = ["json_dumps", "json_loads"]

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
    """Parse JSON text strictly, raising only :class:`~shardline.JSONInputError` for bad input.

    Unlike :func:`json.loads` it refuses ``NaN`` and ``Infinity`` (they are not JSON, and AWS refuses them),
    and it turns the errors the standard library raises for text it cannot read (invalid UTF-8 bytes, nesting
    deeper than the interpreter's recursion limit, an integer longer than ``sys.get_int_max_str_digits()``)
    into one error type with a message that says what to fix. The hooks are those of :func:`json.loads`.

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
    """Line and column (1-based) of the first ``token`` outside a string, as json reports positions."""
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


def json_dumps(obj: Any, *, default: Callable[[Any], Any] | None = None, **kwargs: Any) -> str:
    """Serialise decoded DynamoDB values as JSON text, exactly.

    ``Decimal`` becomes a JSON number in plain notation with every digit kept, sets become sorted arrays,
    ``bytes`` become base64 text. Other keyword arguments go to :func:`json.dumps`; ``default`` is still
    called for types this function does not know.

    >>> json_dumps({"n": Decimal("12345678901234567890.123456789"), "s": {"b", "a"}, "b": b"\\x00"})
    '{"n": 12345678901234567890.123456789, "s": ["a", "b"], "b": "AA=="}'
    """
    mark = _MARK
    while True:
        numbers: list[str] = []
        try:
            prepared = _prepare(obj, numbers, mark, default, set())
            break
        except _MarkCollision:
            mark += "~"  # the input itself holds the placeholder text: pick one it does not hold
    text = json.dumps(prepared, default=default, **kwargs)
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


def _prepare(obj: Any, numbers: list[str], mark: str, default: Callable[[Any], Any] | None, path: set[int]) -> Any:
    """A copy of ``obj`` that json.dumps can write, Decimals replaced by placeholders.

    ``path`` holds the ids of the containers being prepared, to report cycles as json.dumps does.
    """
    kind = type(obj)
    if kind is str:
        if mark in obj:
            raise _MarkCollision
        return obj
    if kind is int or kind is bool or obj is None or kind is float:
        return obj
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValueError(f"json_dumps: {obj} has no JSON form")
        numbers.append(format_number(obj))
        return f"{mark}{len(numbers) - 1}"
    if isinstance(obj, (Mapping, list, tuple, set, frozenset)):
        if id(obj) in path:
            raise ValueError("Circular reference detected")
        path.add(id(obj))
        try:
            if isinstance(obj, Mapping):
                if any(isinstance(key, str) and mark in key for key in obj):
                    raise _MarkCollision
                return {key: _prepare(value, numbers, mark, default, path) for key, value in obj.items()}
            items = sorted(obj, key=_set_order) if isinstance(obj, (set, frozenset)) else obj
            return [_prepare(value, numbers, mark, default, path) for value in items]
        finally:
            path.discard(id(obj))
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return b64encode(obj).decode("ascii")
    if default is not None:
        return _prepare(default(obj), numbers, mark, default, path)
    return obj  # json.dumps raises its usual TypeError


def _set_order(value: Any) -> tuple[int, Any]:
    # Sets from DynamoDB hold one kind; mixed sets from elsewhere still sort deterministically.
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return (0, Decimal(value))
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return (2, bytes(value))
    return (3, repr(value))
