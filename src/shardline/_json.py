"""Exact JSON text for decoded DynamoDB values.

The standard library cannot write a ``Decimal`` as a JSON number without going through ``float``, which
rounds. ``json_dumps`` swaps each Decimal for a unique placeholder string, lets ``json.dumps`` do all the
formatting (indent, sort_keys, separators, ensure_ascii behave as usual), then puts the exact number text
back in place of the quoted placeholder.
"""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ._attributes import format_number

__all__ = ["json_dumps"]

_MARK = "\x00shardline-number:"


class _MarkCollision(Exception):
    pass


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
