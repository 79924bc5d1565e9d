"""Lambda's event filtering (FilterCriteria) for stream records, matched the way Lambda matches them.

A pattern is a JSON object whose leaves are arrays of allowed values and operators. Records that match
no filter are dropped before the function sees them (SPEC section 6). The rules that make patterns hard
to get right, all honoured here:

* patterns match DynamoDB's typed JSON: ``{"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}``;
* ``N`` values are strings, so ``numeric`` never matches them (it does match ``ApproximateCreationDateTime``);
* values match character by character: ``300``, ``300.0`` and ``"300"`` are three different things;
* ``exists`` looks at leaves only: ``{"address": [{"exists": false}]}`` matches when ``address`` is a map;
* arrays in the record match when any element matches, and arrays of objects flatten into their parent;
* fields are ANDed, filters ORed, ``$or`` alternatives ORed; a key repeated in a pattern: the last one wins.

Patterns are checked when the criteria are built, with the reasons AWS gives ("Invalid filter pattern
definition.") followed by what and where, then compiled to closures: matching costs a few dict lookups.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, final

from ._attributes import _type_name
from ._exceptions import ShardlineError

__all__ = ["MAX_FILTERS", "FilterCriteria", "FilterExplanation", "FilterPatternError"]

INVALID: Final = "Invalid filter pattern definition."
#: Filters per event source mapping: 5 by default, up to 10 when AWS raises the quota.
MAX_FILTERS: Final = 5
_QUOTA_CEILING: Final = 10
_PATTERN_LIMIT: Final = 4096
_NUMERIC_LIMIT: Final = Decimal("5E9")  # numeric operands AWS accepts: -5.0e9 .. +5.0e9
_MISSING: Final[Any] = object()
_OPERATORS: Final = ("anything-but", "equals-ignore-case", "exists", "numeric", "prefix", "suffix")
_UNSUPPORTED: Final = {"wildcard", "cidr"}
_COMPARISONS: Final = {"=", "<", "<=", ">", ">="}


@final
class FilterPatternError(ShardlineError, ValueError):
    """A filter pattern Lambda would refuse. The message starts with AWS's own words,
    "Invalid filter pattern definition.", then says what is wrong and where."""

    __module__ = "shardline"

    def __init__(self, detail: str, *, filter_index: int | None = None, path: str = "") -> None:
        self.detail = detail
        self.filter_index = filter_index
        self.path = path
        where = []
        if filter_index is not None:
            where.append(f"filter {filter_index + 1}")
        if path:
            where.append(path)
        super().__init__(f"{INVALID} {'In ' + ', '.join(where) + ': ' if where else ''}{detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.detail, self.filter_index, self.path))


def _rebuild_error(detail: str, filter_index: int | None, path: str) -> FilterPatternError:
    return FilterPatternError(detail, filter_index=filter_index, path=path)


# --------------------------------------------------------------------------------------------------
# Compiled patterns


class _Number:
    """A number of a pattern, kept as written (exact matching compares text; numeric compares values)."""

    __slots__ = ("text", "value")

    def __init__(self, text: str) -> None:
        self.text = text
        self.value = Decimal(text)


def _key(value: Any) -> tuple[str, Any] | None:
    """What exact matching compares: the JSON type and the value, numbers by their text."""
    kind = type(value)
    if kind is str:
        return ("s", value)
    if kind is bool:
        return ("b", value)
    if value is None:
        return ("n", None)
    if kind is int:
        return ("#", str(value))
    if kind is float:
        return ("#", repr(value))
    if kind is _Number:
        return ("#", value.text)
    if isinstance(value, Decimal):
        return ("#", str(value))
    return None


def _scalars(value: Any, out: list[Any]) -> None:
    """The leaf values under ``value``: itself, or the elements of (nested) arrays; objects have none."""
    if type(value) is list:
        for item in value:
            if type(item) is list:
                _scalars(item, out)
            elif type(item) is not dict:
                out.append(item)
    elif value is not _MISSING and type(value) is not dict:
        out.append(value)


@final
class _Leaf:
    """A leaf of a pattern: an array of allowed values and operators."""

    __slots__ = ("exact", "exists_false", "exists_true", "source", "tests")

    def __init__(self, source: list[Any]) -> None:
        self.source = source
        self.exact: frozenset[tuple[str, Any]] = frozenset()
        self.tests: list[Callable[[Any], bool]] = []
        self.exists_true = False
        self.exists_false = False

    def matches(self, values: list[Any]) -> bool:
        if not values:
            return self.exists_false
        if self.exists_true:
            return True
        exact = self.exact
        for value in values:
            if exact and _key(value) in exact:
                return True
            for test in self.tests:
                if test(value):
                    return True
        return False


@final
class _Node:
    """An object of a pattern: fields ANDed, each a leaf or a nested node, plus ``$or`` groups."""

    __slots__ = ("fields", "ors")

    def __init__(self) -> None:
        self.fields: list[tuple[str, _Leaf | _Node]] = []
        self.ors: list[list[_Node]] = []

    def matches(self, obj: Any) -> bool:
        """Match one record object (the common case: no arrays of objects on the way)."""
        for name, child in self.fields:
            value = obj.get(name, _MISSING)
            if type(child) is _Leaf:
                kind = type(value)
                if kind is list:
                    values: list[Any] = []
                    _scalars(value, values)
                elif value is _MISSING or kind is dict:
                    values = []
                else:
                    values = [value]
                if not child.matches(values):
                    return False
            elif type(value) is dict:
                if not child.matches(value):
                    return False
            elif not child.matches_all(_objects(value)):
                return False
        return all(any(alternative.matches(obj) for alternative in group) for group in self.ors)

    def matches_all(self, objects: list[dict[str, Any]]) -> bool:
        """Match the objects an array flattened into this place: each field against all their values."""
        if len(objects) == 1:
            return self.matches(objects[0])
        for name, child in self.fields:
            gathered = [obj.get(name, _MISSING) for obj in objects]
            if type(child) is _Leaf:
                values: list[Any] = []
                _scalars(gathered, values)
                if not child.matches(values):
                    return False
            elif not child.matches_all(_objects(gathered)):
                return False
        return all(any(alternative.matches_all(objects) for alternative in group) for group in self.ors)


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects at a place: a dict, or the dicts inside (nested) arrays."""
    if type(value) is dict:
        return [value]
    found: list[dict[str, Any]] = []
    if type(value) is list:
        for item in value:
            found.extend(_objects(item))
    return found


# --------------------------------------------------------------------------------------------------
# Parsing and checking


class _Compiler:
    def __init__(self, filter_index: int) -> None:
        self.filter_index = filter_index
        self.duplicates: list[str] = []

    def error(self, detail: str, path: str) -> FilterPatternError:
        return FilterPatternError(detail, filter_index=self.filter_index, path=path)

    def parse(self, text: str) -> Any:
        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            seen: dict[str, Any] = {}
            for name, value in items:
                if name in seen:
                    self.duplicates.append(name)
                seen[name] = value  # as AWS does: the last one wins
            return seen

        try:
            return json.loads(text, object_pairs_hook=pairs, parse_float=_Number, parse_int=_Number)
        except json.JSONDecodeError as exc:
            detail = f"the pattern is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            raise self.error(detail, "") from None
        except RecursionError:
            raise self.error("the pattern is nested too deeply", "") from None

    def node(self, pattern: Any, path: str) -> _Node:
        if not isinstance(pattern, dict):
            raise self.error(f"a pattern must be a JSON object, got {_kind(pattern)}", path)
        if not pattern:
            raise self.error("a pattern must name at least one field", path)
        node = _Node()
        for name, value in pattern.items():
            where = _join(path, name)
            if name == "$or":
                node.ors.append(self.alternatives(value, where))
            elif isinstance(value, dict):
                node.fields.append((name, self.node(value, where)))
            elif isinstance(value, list):
                node.fields.append((name, self.leaf(value, where)))
            else:
                raise self.error(
                    f"a field's value must be an array of values or an object, got {_kind(value)}"
                    f" (write [{_show(value)}] to match that value)",
                    where,
                )
        return node

    def alternatives(self, value: Any, path: str) -> list[_Node]:
        if not isinstance(value, list) or len(value) < 2 or not all(isinstance(item, dict) for item in value):
            raise self.error("$or takes an array of at least two pattern objects", path)
        return [self.node(item, f"{path}[{index}]") for index, item in enumerate(value)]

    def leaf(self, values: list[Any], path: str) -> _Leaf:
        if not values:
            raise self.error("an empty array matches nothing; list at least one value or operator", path)
        leaf = _Leaf(values)
        exact: set[tuple[str, Any]] = set()
        for index, value in enumerate(values):
            where = f"{path}[{index}]"
            if isinstance(value, dict):
                self.operator(value, where, leaf)
            elif isinstance(value, list):
                raise self.error("arrays cannot be nested in a pattern", where)
            else:
                key = _key(value)
                assert key is not None  # JSON scalars: str, bool, None or a number
                exact.add(key)
        leaf.exact = frozenset(exact)
        return leaf

    def operator(self, value: dict[str, Any], path: str, leaf: _Leaf) -> None:
        if len(value) != 1:
            raise self.error(f"an operator object has exactly one key, got {len(value)}", path)
        ((name, operand),) = value.items()
        where = _join(path, name)
        if name in _UNSUPPORTED:
            raise self.error(f"the {name!r} operator is not supported by Lambda event filtering", where)
        if name not in _OPERATORS:
            supported = ", ".join(_OPERATORS)
            raise self.error(f"unknown operator {name!r} (Lambda supports {supported} and $or)", where)
        if name == "exists":
            if type(operand) is not bool:
                raise self.error(f"exists takes true or false, got {_show(operand)}", where)
            if operand:
                leaf.exists_true = True
            else:
                leaf.exists_false = True
        elif name in ("prefix", "suffix", "equals-ignore-case"):
            if not isinstance(operand, str):
                raise self.error(f"{name} takes a string, got {_kind(operand)}", where)
            leaf.tests.append(_string_test(name, operand))
        elif name == "anything-but":
            leaf.tests.append(self.anything_but(operand, where))
        else:
            leaf.tests.append(self.numeric(operand, where))

    def anything_but(self, operand: Any, path: str) -> Callable[[Any], bool]:
        items = operand if isinstance(operand, list) else [operand]
        if isinstance(operand, dict):
            raise self.error(
                "anything-but with an operator inside (prefix, suffix, equals-ignore-case, wildcard) is not"
                " supported by Lambda event filtering",
                path,
            )
        if not items:
            raise self.error("anything-but takes a value or a non-empty array of values", path)
        excluded = set()
        for index, item in enumerate(items):
            if not isinstance(item, (str, _Number)):
                where = f"{path}[{index}]" if isinstance(operand, list) else path
                raise self.error(f"anything-but takes strings or numbers, got {_kind(item)}", where)
            excluded.add(_key(item))
        frozen = frozenset(excluded)
        return lambda value: _key(value) not in frozen

    def numeric(self, operand: Any, path: str) -> Callable[[Any], bool]:
        if not isinstance(operand, list) or len(operand) not in (2, 4):
            raise self.error('numeric takes ["<op>", number] or a range like [">", 0, "<=", 5]', path)
        bounds: list[tuple[str, Decimal]] = []
        for index in range(0, len(operand), 2):
            op, number = operand[index], operand[index + 1]
            if op not in _COMPARISONS:
                raise self.error(f"numeric operator {_show(op)} is not one of =, <, <=, >, >=", f"{path}[{index}]")
            if type(number) is not _Number:
                raise self.error(f"numeric compares with a number, got {_kind(number)}", f"{path}[{index + 1}]")
            if abs(number.value) > _NUMERIC_LIMIT:
                raise self.error(
                    f"numeric values must lie between -5.0e9 and 5.0e9, got {number.text}", f"{path}[{index + 1}]"
                )
            bounds.append((op, number.value))
        if len(bounds) == 2:
            (first, low), (second, high) = bounds
            if "=" in (first, second):
                raise self.error('"=" cannot be part of a numeric range', path)
            if first in ("<", "<="):
                (first, low), (second, high) = (second, high), (first, low)
            if first not in (">", ">=") or second not in ("<", "<="):
                raise self.error("a numeric range needs one lower bound (>, >=) and one upper bound (<, <=)", path)
            if low > high:
                raise self.error(f"the numeric range is empty: {low} is above {high}", path)
            bounds = [(first, low), (second, high)]
        tests = [_COMPARE[op](bound) for op, bound in bounds]

        def numeric(value: Any) -> bool:
            number = _number_of(value)
            return number is not None and all(test(number) for test in tests)

        return numeric


def _number_of(value: Any) -> Decimal | None:
    kind = type(value)
    if kind is int:
        return Decimal(value)
    if kind is float:
        return Decimal(repr(value)) if math.isfinite(value) else None
    if kind is not bool and isinstance(value, Decimal) and value.is_finite():
        return value
    return None


_COMPARE: Final[dict[str, Callable[[Decimal], Callable[[Decimal], bool]]]] = {
    "=": lambda bound: lambda value: value == bound,
    "<": lambda bound: lambda value: value < bound,
    "<=": lambda bound: lambda value: value <= bound,
    ">": lambda bound: lambda value: value > bound,
    ">=": lambda bound: lambda value: value >= bound,
}


def _string_test(name: str, operand: str) -> Callable[[Any], bool]:
    if name == "prefix":
        return lambda value: type(value) is str and value.startswith(operand)
    if name == "suffix":
        return lambda value: type(value) is str and value.endswith(operand)
    upper, lower = operand.upper(), operand.lower()
    return lambda value: type(value) is str and (value.upper() == upper or value.lower() == lower)


# --------------------------------------------------------------------------------------------------
# Public face


@final
class FilterExplanation:
    """Why a record passes or is dropped: ``matched``, the index of the first ``filter`` that matched
    (or None), and per filter the first field that did not match (``reasons``)."""

    __slots__ = ("filter", "matched", "reasons")

    def __init__(self, matched: bool, filter_index: int | None, reasons: list[str]) -> None:
        self.matched = matched
        self.filter = filter_index
        self.reasons = reasons

    def __str__(self) -> str:
        if self.matched:
            return f"passes (filter {self.filter + 1 if self.filter is not None else '?'})"
        return "dropped: " + "; ".join(self.reasons)

    def __repr__(self) -> str:
        return f"<FilterExplanation {self}>"


@final
class FilterCriteria:
    """An event source mapping's FilterCriteria, checked and compiled.

    Build it from the mapping's shape (``{"Filters": [{"Pattern": "<JSON text>"}]}``) or from a list of
    patterns (JSON text or dicts). Invalid patterns raise :class:`FilterPatternError` at once.

    >>> criteria = FilterCriteria([{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"qty": {"N": ["2"]}}}}])
    >>> record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"qty": {"N": "2"}}}}
    >>> criteria.matches(record), criteria.matches({**record, "eventName": "REMOVE"})
    (True, False)
    """

    __slots__ = ("_nodes", "duplicate_keys", "patterns")

    def __init__(
        self, filters: Mapping[str, Any] | Sequence[str | Mapping[str, Any]], *, max_filters: int = MAX_FILTERS
    ):
        if not isinstance(max_filters, int) or not 1 <= max_filters <= _QUOTA_CEILING:
            raise ValueError(f"max_filters must be between 1 and {_QUOTA_CEILING} (AWS's ceiling), got {max_filters!r}")
        texts = _pattern_texts(filters)
        if len(texts) > max_filters:
            raise FilterPatternError(
                f"{len(texts)} filters, more than the {max_filters} allowed"
                + (" (AWS allows up to 10 on request: pass max_filters=10)" if max_filters < _QUOTA_CEILING else "")
            )
        self.patterns: tuple[str, ...] = tuple(texts)
        self.duplicate_keys: tuple[tuple[int, str], ...] = ()
        nodes = []
        duplicates: list[tuple[int, str]] = []
        for index, text in enumerate(texts):
            if len(text) > _PATTERN_LIMIT:
                raise FilterPatternError(
                    f"the pattern is {len(text)} characters, more than the {_PATTERN_LIMIT} allowed",
                    filter_index=index,
                )
            compiler = _Compiler(index)
            nodes.append(compiler.node(compiler.parse(text), ""))
            duplicates.extend((index, name) for name in compiler.duplicates)
        self._nodes: tuple[_Node, ...] = tuple(nodes)
        self.duplicate_keys = tuple(duplicates)

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        return f"<FilterCriteria {len(self._nodes)} filter{'s' if len(self._nodes) != 1 else ''}>"

    def matches(self, record: Mapping[str, Any]) -> bool:
        """True when the raw record (the whole record: eventName, userIdentity, dynamodb...) passes."""
        obj = record if type(record) is dict else dict(record)
        return any(node.matches(obj) for node in self._nodes)

    def filter(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the event keeping only the records that pass (the other fields as they are)."""
        records = event.get("Records")
        if not isinstance(records, list):
            raise TypeError("filter() takes a Lambda event with a Records array")
        kept = [record for record in records if isinstance(record, Mapping) and self.matches(record)]
        return {**event, "Records": kept}

    def explain(self, record: Mapping[str, Any]) -> FilterExplanation:
        """Which filter a record matches, or for each filter the first field that does not match."""
        obj = record if type(record) is dict else dict(record)
        reasons = []
        for index, node in enumerate(self._nodes):
            if node.matches(obj):
                return FilterExplanation(True, index, [])
            reasons.append(f"filter {index + 1}: {_first_mismatch(node, [obj], '')}")
        return FilterExplanation(False, None, reasons)


def _pattern_texts(filters: Mapping[str, Any] | Sequence[str | Mapping[str, Any]]) -> list[str]:
    if isinstance(filters, Mapping):
        entries = filters.get("Filters")
        if not isinstance(entries, list):
            raise FilterPatternError('FilterCriteria must be {"Filters": [{"Pattern": "<JSON text>"}, ...]}')
        texts = []
        for index, entry in enumerate(entries):
            pattern = entry.get("Pattern") if isinstance(entry, Mapping) else None
            if not isinstance(pattern, str):
                raise FilterPatternError('each filter is {"Pattern": "<JSON text>"}', filter_index=index)
            texts.append(pattern)
        return texts
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Iterable):
        raise TypeError("FilterCriteria takes the mapping's {'Filters': [...]} or a list of patterns")
    texts = []
    for pattern in filters:
        if isinstance(pattern, str):
            texts.append(pattern)
        elif isinstance(pattern, Mapping):
            texts.append(json.dumps(pattern, default=_encode_default))
        else:
            raise TypeError(f"a pattern is JSON text or a dict, got {type(pattern).__name__}")
    return texts


def _encode_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _first_mismatch(node: _Node, objects: list[dict[str, Any]], path: str) -> str:
    """The first field of ``node`` the objects do not satisfy, described for a person."""
    for name, child in node.fields:
        where = _join(path, name)
        gathered = [obj.get(name, _MISSING) for obj in objects]
        if type(child) is _Leaf:
            values: list[Any] = []
            _scalars(gathered, values)
            if not child.matches(values):
                shown = ", ".join(_show(value) for value in values[:3]) or "no value"
                if not values and any(type(value) is dict for value in gathered):
                    shown = "an object (exists and values look at leaves only)"
                return f"{where} is {shown}, which is not {_show_leaf(child.source)}"
        else:
            inner = _objects(gathered)
            if not child.matches_all(inner):
                return _first_mismatch(child, inner, where)
    for group in node.ors:
        if not any(alternative.matches_all(objects) for alternative in group):
            return f"{_join(path, '$or')}: no alternative matches"
    return "no field matches"  # pragma: no cover - only called for a node that does not match


def _show_leaf(source: list[Any]) -> str:
    return "[" + ", ".join(_show(value) for value in source) + "]"


def _show(value: Any) -> str:
    if type(value) is _Number:
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return _show_leaf(value)
    if isinstance(value, Decimal):
        return str(value)
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    return "a number" if type(value) is _Number else _type_name(value)
