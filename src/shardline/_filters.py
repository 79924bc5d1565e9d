"""Lambda's event filtering (FilterCriteria) for stream records, matched the way Lambda matches them.

A pattern is a JSON object whose leaves are arrays of allowed values and operators. Records that match
no filter are dropped before the function sees them. Lambda documents ("Control which events Lambda sends
to your function") that it matches patterns with EventBridge's engine, aws/event-ruler; the rules that make
patterns hard to get right, all honoured here:

* patterns match DynamoDB's typed JSON: `{"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}`;
* `N` values are strings, so `numeric` never matches them (it does match `ApproximateCreationDateTime`);
* values match character by character: `300`, `300.0` and `"300"` are three different things;
* `exists` looks at leaves only: `{"address": [{"exists": false}]}` matches when `address` is a map;
* arrays in the record match when any element matches, and arrays of objects flatten into their parent,
  but the fields a pattern names below an array must all come from the SAME element (event-ruler's
  "array consistency": `{"lines": {"sku": ["A"], "qty": [2]}}` needs one line with both);
* a field an element lacks contributes no value: `exists: true` needs the leaf in some element,
  `exists: false` in none of the elements the other fields are matched in (see `_build_rule`),
  `anything-but`, `prefix`, `suffix` and `numeric` need a present value that passes;
* fields are ANDed, filters ORed, `$or` alternatives ORed; a path given twice: the later one wins (an
  object given twice merges, since its fields are different paths).

Patterns are checked when the criteria are built, with the reason AWS gives ("Invalid filter pattern
definition.") followed by what and where. Each filter is then expanded, as event-ruler does, into its
alternatives (one per combination of `$or` choices), each compiled to a tree of the record paths it names.
Matching walks only those paths, visiting each part of the record they reach once per alternative: its cost
follows the pattern and the parts of the record the pattern names, never the rest of the record.
"""

from __future__ import annotations

import json
import math
import re
from base64 import b64encode
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from itertools import islice, product
from typing import Any, Final, final

from ._attributes import _type_name
from ._exceptions import EventShapeError, JSONInputError, ShardlineError, describe_exception
from ._json import json_loads

__all__ = ["MAX_FILTERS", "FilterCriteria", "FilterExplanation", "FilterPatternError"]

INVALID: Final = "Invalid filter pattern definition."
#: Filters per event source mapping: 5 by default, up to 10 when AWS raises the quota.
MAX_FILTERS: Final = 5
_QUOTA_CEILING: Final = 10
_PATTERN_LIMIT: Final = 4096
# The range event-ruler's numeric matching worked in when Lambda's recorded behaviour was taken (300 and 300.0
# match differently, which predates event-ruler's float64 numbers): operands outside -5.0e9..5.0e9 are refused.
_NUMERIC_LIMIT: Final = Decimal("5E9")
# Record numbers beyond this magnitude compare with every accepted operand as this bound does; converting a
# 100,000-digit integer exactly would cost quadratic time for nothing.
_NUMERIC_CLAMP: Final = 10**10
# Far deeper than any stream record: DynamoDB items nest at most 32 levels ("Amazon DynamoDB: Supported data
# types and naming rules"), two pattern levels each. The bound keeps compiling and matching off deep recursion.
_MAX_DEPTH: Final = 128
# Each $or alternative, and each leaf mixing values with {"exists": false}, multiplies a filter's alternatives
# (event-ruler expands them the same way), and matching may walk every alternative's fields: beyond these bounds
# a pattern is refused rather than matched slowly. A record leaves one alternative per combination of $or
# choices to walk in the common case (see _Filter.candidates), so those are bounded more tightly than the rest.
# 65,536 fields in all is some 150 times what a 4096-character pattern can name without either.
_MAX_COMBINATIONS: Final = 1024
_MAX_ALTERNATIVES: Final = 4096
_MAX_EXPANDED_FIELDS: Final = 65_536
_MISSING: Final[Any] = object()
_OPERATORS: Final = ("anything-but", "equals-ignore-case", "exists", "numeric", "prefix", "suffix")
_UNSUPPORTED: Final = {"wildcard", "cidr"}
_COMPARISONS: Final = {"=", "<", "<=", ">", ">="}
# Names event-ruler reserves for operators: they cannot be field names inside $or, where they would be ambiguous.
_RESERVED_IN_OR: Final = frozenset(
    {
        "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard", "numeric",
        "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case", "date-after",
        "date-on-or-after", "date-before", "date-on-or-before", "in-date-range", "ip-address-in-range",
        "ip-address-not-in-range",
    }
)  # fmt: skip
_SCALAR_TYPES: Final = frozenset({str, int, float, bool, type(None), Decimal})
_JSON_NUMBER: Final = re.compile(r"(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?)(\d+))?")


@final
class FilterPatternError(ShardlineError, ValueError):
    """A filter pattern Lambda would refuse. The message starts with AWS's own words,
    "Invalid filter pattern definition.", then says what is wrong and where.

    See [event filtering with a DynamoDB event source](https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html)
    for the pattern syntax."""

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


class _BadValue(Exception):
    """A record value with no JSON form, met while matching; becomes an EventShapeError with its path."""

    def __init__(self, value: object, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason


# --------------------------------------------------------------------------------------------------
# Values: the pattern's numbers as written, the record's values as JSON


class _Pairs(list[tuple[str, Any]]):
    """A JSON object of a pattern as written: its (name, value) pairs in order, repeated names included
    (event-ruler reads them one by one, so a later one replaces an earlier one)."""

    __slots__ = ()


class _Number:
    """A number of a pattern, kept as written: exact matching compares text, numeric compares values."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _operand_value(text: str) -> Decimal | None:
    """The value of a numeric operand, or None outside -5.0e9..5.0e9; an exponent is never expanded."""
    match = _JSON_NUMBER.fullmatch(text)
    if match is None:  # pragma: no cover - the JSON reader only hands over JSON numbers
        return None
    sign, whole, fraction, exponent_sign, exponent = match.groups()
    if not (whole + (fraction or "")).strip("0"):
        return Decimal(0)
    if len((exponent or "0").lstrip("0")) > 12:
        # Beyond what Decimal reads: far above the range, or a nonzero number too small to tell from any
        # record value but zero, so it compares as the smallest number that has the same effect.
        return Decimal(f"{sign}1E-999999999999") if exponent_sign == "-" else None
    value = Decimal(text)
    return value if abs(value) <= _NUMERIC_LIMIT else None


def _int_text(value: int) -> str:
    if -(10**18) < value < 10**18:
        return str(value)
    if value.bit_length() > 13_610:  # more digits than a 4096-character pattern can write: matches nothing
        return "?"
    try:
        return str(value)
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        return "?"


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
        return ("#", _int_text(value))
    if kind is float:
        return ("#", repr(value))
    if kind is _Number:
        return ("#", value.text)
    if isinstance(value, Decimal):
        return ("#", str(value))
    return None


def _check_scalar(value: Any) -> None:
    """Refuse the numbers JSON has no form for (NaN, Infinity): a Lambda record never holds them."""
    kind = type(value)
    if (kind is float and not math.isfinite(value)) or (kind is Decimal and not value.is_finite()):
        raise _BadValue(value, f"{value} is not a JSON number (a Lambda record holds only JSON values)")


def _view(value: Any) -> Any:
    """`value` as the JSON it stands for, as [`shardline._json.json_dumps`][shardline.json_dumps] writes it: mappings
    are objects; lists, tuples and sets arrays; bytes base64 text (as Lambda shows binaries); subclasses of the JSON
    types their base. Anything else has no JSON form and raises _BadValue."""
    try:
        if isinstance(value, Mapping):
            return dict(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            return list(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return b64encode(value).decode("ascii")
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, Decimal):
            return Decimal(value)
    except Exception as exc:  # noqa: BLE001 - a user's container that fails to read is bad input, not a crash
        raise _BadValue(value, f"cannot be read as JSON ({describe_exception(exc)})") from None
    raise _BadValue(
        value,
        f"a {_type_label(value)} has no JSON form (a Lambda record holds only objects, arrays, strings, numbers,"
        " true, false and null)",
    )


def _type_label(value: object) -> str:
    try:
        name = type(value).__name__
    except Exception:  # noqa: BLE001  # pragma: no cover - a metaclass can make even this raise
        return "value"
    return name if type(name) is str else "value"


def _number_of(value: Any) -> Decimal | None:
    """The value numeric operators compare: JSON numbers only (never strings, never booleans)."""
    kind = type(value)
    if kind is int:
        if -_NUMERIC_CLAMP < value < _NUMERIC_CLAMP:
            return Decimal(value)
        return Decimal(_NUMERIC_CLAMP if value > 0 else -_NUMERIC_CLAMP)
    if kind is float:
        return Decimal(repr(value))
    if kind is Decimal:
        return value  # type: ignore[no-any-return]
    return None


# --------------------------------------------------------------------------------------------------
# Compiled patterns


@final
class _Leaf:
    """A leaf of a pattern: the values and operators one field accepts, and whether it may be absent."""

    __slots__ = ("absent", "any_value", "exact", "source", "strings", "tests")

    def __init__(self, source: list[Any]) -> None:
        self.source = source
        self.exact: frozenset[tuple[str, Any]] = frozenset()
        self.strings: frozenset[str] = frozenset()  # the exact values that are strings, looked up directly
        self.tests: tuple[Callable[[Any], bool], ...] = ()
        self.any_value = False  # {"exists": true}
        self.absent = False  # {"exists": false}

    @property
    def has_values(self) -> bool:
        return self.any_value or bool(self.exact) or bool(self.tests)

    def accepts(self, value: Any) -> bool:
        """Whether one JSON scalar of the record passes a value or an operator of this leaf."""
        if type(value) is str:
            if self.any_value or value in self.strings:
                return True
        else:
            _check_scalar(value)
            if self.any_value or _key(value) in self.exact:
                return True
        for test in self.tests:  # noqa: SIM110 - a loop: no generator on the hot path
            if test(value):
                return True
        return False

    def split(self) -> tuple[_Leaf, _Leaf]:
        """The leaf as two: its values only, and its {"exists": false} only."""
        values, absent = _Leaf(self.source), _Leaf(self.source)
        values.exact, values.strings = self.exact, self.strings
        values.tests, values.any_value = self.tests, self.any_value
        absent.absent = True
        return values, absent


@final
class _Node:
    """A place of one alternative of a pattern: the value field there (`leaf`), the places below it
    (`edges`: a chain of names, the node there, and its leaf when it has nothing else), and the fields that
    must be absent, each a path relative
    to this place: `strict` ones within the array element the fields below were matched in, `loose`
    ones within the array the leaf's value was found in (see `_build_rule`)."""

    __slots__ = ("edges", "leaf", "loose", "strict")

    def __init__(self) -> None:
        self.leaf: _Leaf | None = None
        self.edges: tuple[tuple[tuple[str, ...], _Node, _Leaf | None], ...] = ()
        self.strict: tuple[tuple[str, ...], ...] = ()
        self.loose: tuple[tuple[str, ...], ...] = ()


@final
class _Rule:
    """One alternative of a filter: a combination of its $or choices, each field either matched or absent."""

    __slots__ = ("keys", "root")

    def __init__(self, root: _Node, keys: tuple[tuple[tuple[str, ...], _Leaf], ...]) -> None:
        self.root = root
        self.keys = keys  # in the pattern's order, for explanations


@final
class _Base:
    """One combination of a filter's $or choices. Its leaves that accept values or absence (`mixed`) split
    it further, each into a value half and an absent half; those alternatives are built when first needed,
    since a record rules out all but a few of them."""

    __slots__ = ("built", "keys", "mixed")

    def __init__(self, keys: dict[tuple[str, ...], _Leaf]) -> None:
        self.keys = keys
        self.mixed = tuple(path for path, leaf in keys.items() if leaf.absent and leaf.has_values)
        self.built: dict[tuple[bool, ...], _Rule] = {}

    def rule(self, ways: tuple[bool, ...]) -> _Rule:
        """The alternative taking the value half (True) or the absent half (False) of each mixed leaf."""
        rule = self.built.get(ways)
        if rule is None:
            keys = dict(self.keys)
            for path, way in zip(self.mixed, ways, strict=True):
                keys[path] = keys[path].split()[0 if way else 1]
            rule = self.built[ways] = _build_rule(keys)
        return rule


@final
class _Filter:
    __slots__ = ("bases", "or_path")

    def __init__(self, bases: tuple[_Base, ...], or_path: str | None) -> None:
        self.bases = bases
        self.or_path = or_path

    def candidates(self, obj: dict[Any, Any]) -> Iterator[_Rule]:
        """The alternatives that can match `obj`. The value half of a mixed leaf needs a leaf at its path; its
        absent half cannot match when a leaf is there and no array on the way lets the other fields be matched
        in an element that lacks it. So a record usually leaves one alternative per combination of $or choices.
        """
        ways: dict[tuple[str, ...], tuple[bool, ...]] = {}
        for base in self.bases:
            if not base.mixed:
                yield base.rule(())
                continue
            for path in base.mixed:
                if path not in ways:
                    ways[path] = _ways(obj, path)
            for combination in product(*(ways[path] for path in base.mixed)):
                yield base.rule(combination)

    def matches(self, obj: dict[Any, Any]) -> bool:
        return any(_walk_object(rule.root, obj) for rule in self.candidates(obj))


def _ways(obj: dict[Any, Any], path: tuple[str, ...]) -> tuple[bool, ...]:
    """Which halves of a split leaf at `path` can match: (True,) the value half, (False,) the absent half."""
    value: Any = obj
    for name in path:  # the common case: objects all the way, and a scalar or nothing at the end
        if type(value) is not dict:
            break
        value = value.get(name, _MISSING)
    else:
        if value is _MISSING or type(value) is dict:
            return (False,)
        if type(value) in _SCALAR_TYPES:
            return (True,)
    present = arrays = False
    stack: list[tuple[Any, int]] = [(obj, 0)]
    seen: dict[tuple[int, int], Any] = {}  # the arrays are kept, so that no id is reused while the walk lasts
    while stack:
        current, position = stack.pop()
        kind: type = type(current)
        if current is _MISSING:
            continue
        if kind not in (dict, list) and kind not in _SCALAR_TYPES:
            current = _view(current)
            kind = type(current)
        if kind is dict:
            if position < len(path):
                stack.append((current.get(path[position], _MISSING), position + 1))
        elif kind is list:
            arrays = True
            if (id(current), position) not in seen:
                seen[id(current), position] = current
                stack.extend((item, position) for item in current)
        elif position == len(path):
            present = True
    if not present:
        return (False,)
    return (True, False) if arrays else (True,)


def _java_order(path: tuple[str, ...]) -> bytes:
    # event-ruler walks a rule's fields sorted as Java sorts strings (by UTF-16 code unit) on the dotted name.
    return ".".join(path).encode("utf-16-be", "surrogatepass")


def _common(first: tuple[str, ...], second: tuple[str, ...]) -> int:
    depth = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        depth += 1
    return depth


class _Building:
    __slots__ = ("children", "leaf", "loose", "strict")

    def __init__(self) -> None:
        self.children: dict[str, _Building] = {}
        self.leaf: _Leaf | None = None
        self.strict: list[tuple[str, ...]] = []
        self.loose: list[tuple[str, ...]] = []


def _build_rule(keys: Mapping[tuple[str, ...], _Leaf]) -> _Rule:
    """Compile one alternative (each field either matched by value or absent) into a tree of places.

    Value fields must all be matched consistently: two of them below one array of the record come from the
    same element. `exists: false` is checked as event-ruler checks it: when its walk over the rule's fields,
    sorted by name, reaches that field, against the array elements the value fields sorted before it were
    matched in. The field is attached to the deepest place it shares with one of those (its anchor) and checked
    there: within the matched element when one of them lies below that place (`strict`), within the array
    holding the anchor's own value otherwise (`loose`), in the whole record when none shares a place.
    """
    root = _Building()
    matched: list[tuple[str, ...]] = []
    absent: list[tuple[tuple[str, ...], tuple[str, ...], bool]] = []
    for path in sorted(keys, key=_java_order):
        leaf = keys[path]
        if leaf.absent:
            depth, strict = 0, True
            for other in matched:
                common = _common(other, path)
                if common > depth:
                    depth, strict = common, len(other) > common
                elif common == depth and len(other) > common:
                    strict = True
            absent.append((path[:depth], path[depth:], strict))
            continue
        matched.append(path)
        node = root
        for name in path:
            node = node.children.setdefault(name, _Building())
        node.leaf = leaf
    for anchor, rest, strict in absent:
        node = root
        for name in anchor:
            node = node.children[name]
        (node.strict if strict else node.loose).append(rest)
    ordered = tuple((path, keys[path]) for path in keys)
    return _Rule(_freeze(root), ordered)


def _freeze(building: _Building) -> _Node:
    node = _Node()
    node.leaf = building.leaf
    node.strict = tuple(building.strict)
    node.loose = tuple(building.loose)
    edges = []
    for name, first in building.children.items():
        names = [name]
        child = first
        # A place with one place below it and nothing of its own is a link of a chain: walked in one loop.
        while len(child.children) == 1 and child.leaf is None and not child.strict and not child.loose:
            ((next_name, child),) = child.children.items()
            names.append(next_name)
        frozen = _freeze(child)
        alone = frozen.leaf if not frozen.edges and not frozen.strict and not frozen.loose else None
        edges.append((tuple(names), frozen, alone))
    node.edges = tuple(edges)
    return node


# --------------------------------------------------------------------------------------------------
# Matching: a walk over the places a rule names


def _walk(node: _Node, value: Any) -> bool:
    """Whether the value at `node`'s place satisfies everything named at and below it."""
    kind = type(value)
    if kind is dict:
        return node.leaf is None and _walk_object(node, value)
    if kind is list:
        return _walk_array(node, value)
    if value is _MISSING:
        return False  # a place is in the tree because a value field lies at or below it
    if kind not in _SCALAR_TYPES:
        return _walk(node, _view(value))
    if node.edges:
        _check_scalar(value)  # every value the walk reaches is checked, whatever the answer
        return False
    leaf = node.leaf
    return leaf is not None and leaf.accepts(value)


def _walk_object(node: _Node, obj: dict[Any, Any]) -> bool:
    """The places below `node` in one object, and the fields absent there."""
    for names, child, leaf in node.edges:
        value: Any = obj
        for name in names:
            if type(value) is not dict:
                break
            value = value.get(name, _MISSING)
        else:
            if leaf is not None and type(value) is str:  # the common case: a string leaf
                if not leaf.accepts(value):
                    return False
            elif not _walk(child, value):
                return False
            continue
        if not _follow(names, 0, child, obj):  # something on the way is not an object: an array, or missing
            return False
    for path in node.strict:  # noqa: SIM110 - a loop: no generator on the hot path
        if _present(obj, path):
            return False
    return True


def _follow(names: tuple[str, ...], index: int, child: _Node, value: Any) -> bool:
    """The rest of a chain of names from a value that is not an object: through arrays, any element."""
    while index < len(names):
        kind = type(value)
        if kind is dict:
            value = value.get(names[index], _MISSING)
            index += 1
        elif kind is list:
            return any(_follow(names, index, child, item) for item in _objects(value))
        elif value is _MISSING or kind in _SCALAR_TYPES:
            return False  # a scalar has no fields: the value fields below are missing
        else:
            value = _view(value)
    return _walk(child, value)


def _objects(array: list[Any]) -> Iterator[dict[Any, Any]]:
    """The objects of an array, those of nested arrays included (the array structure is crushed out)."""
    stack = [array]
    seen = {id(array): array}  # the objects are kept, so that no id is reused while the walk lasts
    while stack:
        for item in stack.pop():
            kind = type(item)
            if kind not in (dict, list) and kind not in _SCALAR_TYPES:
                item = _view(item)  # noqa: PLW2901
                kind = type(item)
            if kind is dict:
                yield item
            elif kind is list and id(item) not in seen:
                seen[id(item)] = item
                stack.append(item)


def _scalars(array: list[Any]) -> Iterator[Any]:
    """The scalars of an array and of the arrays nested in it."""
    stack = [array]
    seen = {id(array): array}  # the objects are kept, so that no id is reused while the walk lasts
    while stack:
        for item in stack.pop():
            kind = type(item)
            if kind not in (dict, list) and kind not in _SCALAR_TYPES:
                item = _view(item)  # noqa: PLW2901
                kind = type(item)
            if kind is list:
                if id(item) not in seen:
                    seen[id(item)] = item
                    stack.append(item)
            elif kind is not dict:
                yield item


def _walk_array(node: _Node, array: list[Any]) -> bool:
    """An array at `node`'s place (event-ruler's array consistency).

    The fields below must all come from one element: an object of the array or of an array nested in it.
    The leaf's value (a scalar of the array or of a nested array) must lie in an array on the way to that
    element, since a scalar found elsewhere belongs to another element. `strict` absent fields are checked
    within the chosen object, `loose` ones within the array that held the leaf's value.
    """
    leaf = node.leaf
    if not node.edges:
        if leaf is None:  # pragma: no cover - a place without fields below has a leaf
            return False
        if not node.loose:
            return any(leaf.accepts(item) for item in _scalars(array))
        for inner in _arrays(array):
            if _holds(leaf, inner) and all(not _present(inner, path) for path in node.loose):
                return True
        return False
    stack: list[tuple[list[Any], list[Any] | None]] = [(array, None)]
    seen: dict[int, list[Any]] = {}  # the arrays are kept, so that no id is reused while the walk lasts
    loose_ok: dict[int, bool] = {}
    while stack:
        current, found = stack.pop()
        if id(current) in seen:
            continue
        seen[id(current)] = current
        if leaf is not None and _holds(leaf, current):
            found = current  # the deepest array on the way holding the leaf's value: the loosest check
        usable = leaf is None
        if found is not None:
            if id(found) not in loose_ok:
                loose_ok[id(found)] = all(not _present(found, path) for path in node.loose)
            usable = loose_ok[id(found)]
        for item in current:
            kind = type(item)
            if kind not in (dict, list) and kind not in _SCALAR_TYPES:
                item = _view(item)  # noqa: PLW2901
                kind = type(item)
            if kind is list:
                stack.append((item, found))
            elif kind is dict and usable and _walk_object(node, item):
                return True
    return False


def _arrays(array: list[Any]) -> Iterator[list[Any]]:
    stack = [array]
    seen = {id(array): array}  # the objects are kept, so that no id is reused while the walk lasts
    while stack:
        current = stack.pop()
        yield current
        for item in current:
            kind = type(item)
            if kind not in (dict, list) and kind not in _SCALAR_TYPES:
                item = _view(item)  # noqa: PLW2901
                kind = type(item)
            if kind is list and id(item) not in seen:
                seen[id(item)] = item
                stack.append(item)


def _holds(leaf: _Leaf, array: list[Any]) -> bool:
    """Whether a scalar directly in `array` passes `leaf`."""
    for item in array:
        kind = type(item)
        if kind not in (dict, list) and kind not in _SCALAR_TYPES:
            item = _view(item)  # noqa: PLW2901
            kind = type(item)
        if kind is not dict and kind is not list and leaf.accepts(item):
            return True
    return False


def _present(value: Any, path: tuple[str, ...]) -> bool:
    """Whether a leaf (a scalar) lies at `path` below `value`, in any element of the arrays on the way."""
    for index, name in enumerate(path):  # the common case: objects all the way
        if type(value) is not dict:
            return _present_slow(value, path, index)
        value = value.get(name, _MISSING)
    kind = type(value)
    if kind is dict or value is _MISSING:
        return False
    if kind in _SCALAR_TYPES:
        _check_scalar(value)
        return True
    return _present_slow(value, path, len(path))


def _present_slow(value: Any, path: tuple[str, ...], index: int) -> bool:
    stack = [(value, index)]
    seen: dict[tuple[int, int], Any] = {}  # the arrays are kept, so that no id is reused while the walk lasts
    end = len(path)
    while stack:
        current, position = stack.pop()
        kind = type(current)
        if current is _MISSING:
            continue
        if kind not in (dict, list) and kind not in _SCALAR_TYPES:
            current = _view(current)
            kind = type(current)
        if kind is dict:
            if position < end:
                stack.append((current.get(path[position], _MISSING), position + 1))
        elif kind is list:
            if (id(current), position) not in seen:
                seen[id(current), position] = current
                stack.extend((item, position) for item in current)
        elif position == end:
            _check_scalar(current)
            return True
    return False


# --------------------------------------------------------------------------------------------------
# Parsing and checking


class _Compiler:
    def __init__(self, filter_index: int) -> None:
        self.filter_index = filter_index
        self.duplicates: list[str] = []
        self.or_path: str | None = None

    def error(self, detail: str, path: str) -> FilterPatternError:
        return FilterPatternError(detail, filter_index=self.filter_index, path=path)

    def compile(self, text: str) -> _Filter:
        entries = self.node(self.parse(text), "", in_or=False)
        bases = tuple(_Base(keys) for keys in self.expand(entries, (), []))
        alternatives = sum(2 ** len(base.mixed) for base in bases)
        if alternatives > _MAX_ALTERNATIVES:
            raise self.too_many(f"{alternatives} alternatives, more", f"{_MAX_ALTERNATIVES}")
        fields = sum(len(base.keys) * 2 ** len(base.mixed) for base in bases)
        if fields > _MAX_EXPANDED_FIELDS:
            raise self.too_many(f"{fields:,} fields in all, more", f"{_MAX_EXPANDED_FIELDS:,}")
        return _Filter(bases, self.or_path)

    def parse(self, text: str) -> Any:
        try:
            parsed = json_loads(text, object_pairs_hook=_Pairs, parse_float=_Number, parse_int=_Number)
        except JSONInputError as exc:
            if exc.line:
                raise self.error(f"the pattern is not valid JSON: {exc}", "") from None
            raise self.error(f"the pattern cannot be read: {exc.reason}", "") from None
        deep = _too_deep(parsed)
        if deep is not None:
            raise self.error(
                f"the pattern nests more than {_MAX_DEPTH} levels deep; no stream record is that deep (DynamoDB"
                " items nest at most 32 levels)",
                deep,
            )
        return parsed

    def node(self, pattern: Any, path: str, *, in_or: bool) -> list[tuple[str, Any, Any]]:
        if not isinstance(pattern, _Pairs):
            raise self.error(f"a pattern must be a JSON object, got {_kind(pattern)}", path)
        if not pattern:
            raise self.error("a pattern must name at least one field", path)
        entries: list[tuple[str, Any, Any]] = []
        seen: set[str] = set()
        for name, value in pattern:
            if name in seen:
                self.duplicates.append(name)
            seen.add(name)
            where = _join(path, name)
            if name == "$or":
                if self.or_path is None:
                    self.or_path = where
                entries.append(("or", where, self.alternatives(value, where)))
            elif in_or and name in _RESERVED_IN_OR:
                raise self.error(f"{name!r} names an operator and cannot be a field name inside $or", where)
            elif isinstance(value, _Pairs):
                entries.append(("node", name, self.node(value, where, in_or=in_or)))
            elif isinstance(value, list):
                entries.append(("leaf", name, self.leaf(value, where)))
            else:
                raise self.error(
                    f"a field's value must be an array of values or an object, got {_kind(value)}"
                    f" (write [{_show(value)}] to match that value)",
                    where,
                )
        return entries

    def alternatives(self, value: Any, path: str) -> list[list[tuple[str, Any, Any]]]:
        if (
            not isinstance(value, list)
            or isinstance(value, _Pairs)
            or len(value) < 2
            or not all(isinstance(item, _Pairs) for item in value)
        ):
            raise self.error("$or takes an array of at least two pattern objects", path)
        return [self.node(item, f"{path}[{index}]", in_or=True) for index, item in enumerate(value)]

    def expand(
        self, entries: list[tuple[str, Any, Any]], prefix: tuple[str, ...], rules: list[dict[tuple[str, ...], _Leaf]]
    ) -> list[dict[tuple[str, ...], _Leaf]]:
        """event-ruler's expansion: one field map per combination of $or alternatives, later fields replacing
        earlier ones of the same path in the order the pattern writes them."""
        for kind, name, value in entries:
            if kind == "leaf":
                if not rules:
                    rules = [{}]
                path = (*prefix, name)
                for rule in rules:
                    rule[path] = value
            elif kind == "node":
                rules = self.expand(value, (*prefix, name), rules)
            else:
                base = rules or [{}]
                combined: list[dict[tuple[str, ...], _Leaf]] = []
                for alternative in value:
                    combined.extend(self.expand(alternative, prefix, [dict(rule) for rule in base]))
                    if len(combined) > _MAX_COMBINATIONS:
                        raise self.too_many("more combinations of $or alternatives", f"{_MAX_COMBINATIONS}")
                rules = combined
        return rules

    def too_many(self, what: str, limit: str) -> FilterPatternError:
        return self.error(
            f"the pattern combines into {what} than the {limit} shardline matches (every $or alternative, and every"
            ' field accepting values or {"exists": false}, repeats the fields beside it); write fewer'
            " combinations, or split the pattern into several filters",
            "",
        )

    def leaf(self, values: list[Any], path: str) -> _Leaf:
        if not values:
            raise self.error("an empty array matches nothing; list at least one value or operator", path)
        leaf = _Leaf(values)
        exact: set[tuple[str, Any]] = set()
        tests: list[Callable[[Any], bool]] = []
        for index, value in enumerate(values):
            where = f"{path}[{index}]"
            if isinstance(value, _Pairs):
                self.operator(value, where, leaf, tests)
            elif isinstance(value, list):
                raise self.error("arrays cannot be nested in a pattern", where)
            else:
                if type(value) is _Number and not math.isfinite(float(value.text)):
                    raise self.error(
                        f"{_show(value)} is beyond the range of JSON numbers (IEEE 754 doubles, about"
                        " -1.8e308 to 1.8e308)",
                        where,
                    )
                key = _key(value)
                assert key is not None  # JSON scalars: str, bool, None or a number
                exact.add(key)
        leaf.exact = frozenset(exact)
        leaf.strings = frozenset(value for kind, value in exact if kind == "s")
        leaf.tests = tuple(tests)
        return leaf

    def operator(self, pairs: _Pairs, path: str, leaf: _Leaf, tests: list[Callable[[Any], bool]]) -> None:
        value = dict(pairs)  # an operator given twice in one object: the last one counts
        if len(value) != 1:
            raise self.error(f"an operator object has exactly one key, got {len(value)}", path)
        self.duplicates.extend(name for name, _ in pairs[1:])
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
                leaf.any_value = True
            else:
                leaf.absent = True
        elif name in ("prefix", "suffix", "equals-ignore-case"):
            if not isinstance(operand, str):
                raise self.error(f"{name} takes a string, got {_kind(operand)}", where)
            tests.append(_string_test(name, operand))
        elif name == "anything-but":
            tests.append(self.anything_but(operand, where))
        else:
            tests.append(self.numeric(operand, where))

    def anything_but(self, operand: Any, path: str) -> Callable[[Any], bool]:
        if isinstance(operand, _Pairs):
            raise self.error(
                "anything-but with an operator inside (prefix, suffix, equals-ignore-case, wildcard) is not"
                " supported by Lambda event filtering",
                path,
            )
        items = operand if isinstance(operand, list) else [operand]
        if not items:
            raise self.error("anything-but takes a value or a non-empty array of values", path)
        excluded = set()
        for index, item in enumerate(items):
            where = f"{path}[{index}]" if isinstance(operand, list) else path
            if not isinstance(item, (str, _Number)):
                raise self.error(f"anything-but takes strings or numbers, got {_kind(item)}", where)
            if type(item) is _Number and not math.isfinite(float(item.text)):
                raise self.error(f"{_show(item)} is beyond the range of JSON numbers", where)
            excluded.add(_key(item))
        frozen = frozenset(excluded)
        return lambda value: _key(value) not in frozen

    def numeric(self, operand: Any, path: str) -> Callable[[Any], bool]:
        if not isinstance(operand, list) or isinstance(operand, _Pairs) or len(operand) not in (2, 4):
            raise self.error('numeric takes ["<op>", number] or a range like [">", 0, "<=", 5]', path)
        bounds: list[tuple[str, Decimal, str]] = []
        for index in range(0, len(operand), 2):
            op, number = operand[index], operand[index + 1]
            if not isinstance(op, str) or op not in _COMPARISONS:
                raise self.error(f"numeric operator {_show(op)} is not one of =, <, <=, >, >=", f"{path}[{index}]")
            if type(number) is not _Number:
                raise self.error(f"numeric compares with a number, got {_kind(number)}", f"{path}[{index + 1}]")
            value = _operand_value(number.text)
            if value is None:
                raise self.error(
                    f"numeric values must lie between -5.0e9 and 5.0e9, got {_show(number)}", f"{path}[{index + 1}]"
                )
            bounds.append((op, value, _show(number)))
        if len(bounds) == 2:
            (first, low, low_text), (second, high, high_text) = bounds
            if "=" in (first, second):
                raise self.error('"=" cannot be part of a numeric range', path)
            if first in ("<", "<="):
                (first, low, low_text), (second, high, high_text) = bounds[1], bounds[0]
            if first not in (">", ">=") or second not in ("<", "<="):
                raise self.error("a numeric range needs one lower bound (>, >=) and one upper bound (<, <=)", path)
            if low > high:
                raise self.error(f"the numeric range is empty: {low_text} is above {high_text}", path)
            bounds = [(first, low, low_text), (second, high, high_text)]
        tests = [_COMPARE[op](bound) for op, bound, _ in bounds]

        def numeric(value: Any) -> bool:
            number = _number_of(value)
            return number is not None and all(test(number) for test in tests)

        return numeric


def _too_deep(parsed: Any) -> str | None:
    """The place where the parsed pattern first nests deeper than _MAX_DEPTH, or None."""
    stack: list[tuple[Any, int, str]] = [(parsed, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if not isinstance(value, list):
            continue
        if depth > _MAX_DEPTH:
            return _short_path(path)
        if isinstance(value, _Pairs):
            stack.extend((item, depth + 1, _join(path, name)) for name, item in value)
        else:
            stack.extend((item, depth + 1, f"{path}[{index}]") for index, item in enumerate(value))
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
    """Why a record passes or is dropped: `matched`, the index of the first `filter` that matched
    (or None), and per filter the first field that did not match (`reasons`)."""

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
    """An event source mapping's FilterCriteria, checked and compiled: which records Lambda would hand to
    the function ([event filtering with a DynamoDB event source](https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html)).

    Build it from the mapping's shape (`{"Filters": [{"Pattern": "<JSON text>"}]}`) or from a list of
    patterns (JSON text or dicts). Invalid patterns raise [`FilterPatternError`][shardline.FilterPatternError] at once.

    Records are JSON: a value with no JSON form (NaN, an arbitrary object) where a pattern looks raises
    [`EventShapeError`][shardline.EventShapeError] with its path; mappings, tuples, sets and bytes are read as the JSON
    shardline writes for them (objects, arrays, base64 text).

    Examples:
        >>> criteria = FilterCriteria([{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"qty": {"N": ["2"]}}}}])
        >>> record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"qty": {"N": "2"}}}}
        >>> criteria.matches(record), criteria.matches({**record, "eventName": "REMOVE"})
        (True, False)
    """

    __slots__ = ("_filters", "duplicate_keys", "patterns")

    def __init__(
        self, filters: Mapping[str, Any] | Sequence[str | Mapping[str, Any]], *, max_filters: int = MAX_FILTERS
    ):
        if type(max_filters) is not int or not 1 <= max_filters <= _QUOTA_CEILING:
            raise ValueError(f"max_filters must be between 1 and {_QUOTA_CEILING} (AWS's ceiling), got {max_filters!r}")
        texts = _pattern_texts(filters)
        if len(texts) > max_filters:
            raise FilterPatternError(
                f"{len(texts)} filters, more than the {max_filters} allowed"
                + (" (AWS allows up to 10 on request: pass max_filters=10)" if max_filters < _QUOTA_CEILING else "")
            )
        compiled = []
        duplicates: list[tuple[int, str]] = []
        for index, text in enumerate(texts):
            if len(text) > _PATTERN_LIMIT:
                raise FilterPatternError(
                    f"the pattern is {len(text)} characters, more than the {_PATTERN_LIMIT} allowed",
                    filter_index=index,
                )
            compiler = _Compiler(index)
            compiled.append(compiler.compile(text))
            duplicates.extend((index, name) for name in compiler.duplicates)
        self.patterns: tuple[str, ...] = tuple(texts)
        self._filters: tuple[_Filter, ...] = tuple(compiled)
        self.duplicate_keys: tuple[tuple[int, str], ...] = tuple(duplicates)

    def __len__(self) -> int:
        return len(self._filters)

    def __repr__(self) -> str:
        return f"<FilterCriteria {len(self._filters)} filter{'s' if len(self._filters) != 1 else ''}>"

    def matches(self, record: Mapping[str, Any]) -> bool:
        """True when the raw record (the whole record: eventName, userIdentity, dynamodb...) passes."""
        obj = _record_object(record, "")
        try:
            return any(compiled.matches(obj) for compiled in self._filters)
        except _BadValue as exc:
            raise _shape_error(exc, obj, "") from None

    def filter(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the event keeping only the records that pass (the other fields as they are)."""
        if not isinstance(event, Mapping):
            raise EventShapeError(f"a Lambda event must be a JSON object, got {_kind(event)}")
        records = event.get("Records")
        if not isinstance(records, list):
            raise EventShapeError('the event has no "Records" array (is this a DynamoDB Streams event?)', "Records")
        kept = []
        for index, record in enumerate(records):
            where = f"Records[{index}]"
            obj = _record_object(record, where)
            try:
                if any(compiled.matches(obj) for compiled in self._filters):
                    kept.append(record)
            except _BadValue as exc:
                raise _shape_error(exc, obj, where) from None
        return {**event, "Records": kept}

    def explain(self, record: Mapping[str, Any]) -> FilterExplanation:
        """Which filter a record matches, or for each filter the first field that does not match."""
        obj = _record_object(record, "")
        reasons = []
        try:
            for index, compiled in enumerate(self._filters):
                if compiled.matches(obj):
                    return FilterExplanation(True, index, [])
                reasons.append(f"filter {index + 1}: {_explain_filter(compiled, obj)}")
        except _BadValue as exc:
            raise _shape_error(exc, obj, "") from None
        return FilterExplanation(False, None, reasons)


def _record_object(record: Any, path: str) -> dict[Any, Any]:
    if type(record) is dict:
        return record
    if not isinstance(record, Mapping):
        raise EventShapeError(f"a stream record must be an object, got {_kind(record)}", path)
    try:
        return _view(record)  # type: ignore[no-any-return]
    except _BadValue as exc:
        raise EventShapeError(exc.reason, path) from None


def _shape_error(exc: _BadValue, record: Any, prefix: str) -> EventShapeError:
    where = _locate(record, exc.value)
    path = prefix + ("." + where if prefix and where and not where.startswith("[") else where)
    return EventShapeError(exc.reason, path)


def _locate(root: Any, target: object) -> str:
    """The path of `target` (by identity) inside `root`, for an error message; "" when not found."""
    stack: list[tuple[Any, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        value, path = stack.pop()
        if value is target:
            return path
        if id(value) in seen or type(value) in _SCALAR_TYPES:
            continue
        seen.add(id(value))
        try:
            if isinstance(value, Mapping):
                stack.extend((item, _join(path, name if isinstance(name, str) else str(name)))
                             for name, item in value.items())  # fmt: skip
            elif isinstance(value, (list, tuple, set, frozenset)):
                stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
        except Exception:  # noqa: BLE001 - a container that fails to read is the one to report
            return path
    return ""


def _pattern_texts(filters: Mapping[str, Any] | Sequence[str | Mapping[str, Any]]) -> list[str]:
    """The patterns as JSON text; a dict pattern without a JSON form is a FilterPatternError saying where."""
    if isinstance(filters, Mapping):
        entries = filters.get("Filters")
        if not isinstance(entries, list):
            raise FilterPatternError('FilterCriteria must be {"Filters": [{"Pattern": "<JSON text>"}, ...]}')
        texts: list[str] = []
        for index, entry in enumerate(entries):
            pattern = entry.get("Pattern") if isinstance(entry, Mapping) else None
            if not isinstance(pattern, str):
                raise FilterPatternError('each filter is {"Pattern": "<JSON text>"}', filter_index=index)
            texts.append(pattern)
        return texts
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Iterable):
        raise TypeError("FilterCriteria takes the mapping's {'Filters': [...]} or a list of patterns")
    texts = []
    for index, pattern in enumerate(filters):
        if isinstance(pattern, str):
            texts.append(pattern)
        elif isinstance(pattern, Mapping):
            texts.append(_dict_pattern_text(pattern, index))
        else:
            raise TypeError(f"a pattern is JSON text or a dict, got {type(pattern).__name__}")
    return texts


def _dict_pattern_text(pattern: Mapping[str, Any], index: int) -> str:
    """A dict pattern as JSON text (Decimals exact, sets as arrays), or a FilterPatternError saying where it
    holds something JSON cannot write."""

    def refuse(detail: str, path: str) -> FilterPatternError:
        return FilterPatternError(detail, filter_index=index, path=_short_path(path))

    # Each entry carries the ids of the containers it lies in: a container met inside itself is a cycle, one
    # met twice elsewhere (the same list used for two fields) is not.
    stack: list[tuple[Any, int, str, frozenset[int]]] = [(pattern, 1, "", frozenset())]
    while stack:
        value, depth, path, outer = stack.pop()
        kind = type(value)
        if value is None or kind is str or kind is bool:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise refuse(f"{value} is not a JSON number", path)
        if isinstance(value, Decimal) and not value.is_finite():
            raise refuse(f"{value} is not a JSON number", path)
        if isinstance(value, int) and not isinstance(value, bool) and _int_text(value) == "?":
            raise refuse("the integer has too many digits to write as JSON", path)
        if isinstance(value, (int, float, Decimal, str, bytes, bytearray, memoryview)):
            continue
        if not isinstance(value, (Mapping, list, tuple, set, frozenset)):
            raise refuse(
                f"a {_type_label(value)} has no JSON form; a pattern holds objects, arrays, strings, numbers,"
                " true, false and null",
                path,
            )
        if depth > _MAX_DEPTH:
            raise refuse(f"the pattern nests more than {_MAX_DEPTH} levels deep", path)
        if id(value) in outer:
            raise refuse("the pattern contains itself", path)
        inside = outer | {id(value)}
        try:
            if isinstance(value, Mapping):
                for name, item in value.items():
                    if not isinstance(name, str):
                        raise refuse(f"a field name must be a string, got {_kind(name)}", path)
                    stack.append((item, depth + 1, _join(path, name), inside))
            else:
                stack.extend((item, depth + 1, f"{path}[{position}]", inside) for position, item in enumerate(value))
        except FilterPatternError:
            raise
        except Exception as exc:  # noqa: BLE001 - a user's mapping that fails to read
            raise refuse(f"cannot be read ({describe_exception(exc)})", path) from None
    return _write_json(pattern)


def _write_json(value: Any) -> str:
    """JSON text of a checked pattern: Decimals as `str` writes them (`12.50` stays `12.50`, since exact
    matching compares text), sets and tuples as arrays, bytes as base64 text."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(name)}: {_write_json(item)}" for name, item in value.items()) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(_write_json(item) for item in value) + "]"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return json.dumps(b64encode(value).decode("ascii"))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(int(value))
    return json.dumps(value if value is None or isinstance(value, bool) else str(value))


# --------------------------------------------------------------------------------------------------
# Explanations


def _explain_filter(compiled: _Filter, obj: dict[Any, Any]) -> str:
    """The first field of a filter that the record fails, found per alternative by bisecting the fields in the
    pattern's order (a few walks, not one per field); when alternatives fail at different fields, the $or.
    At most 64 alternatives are asked: an explanation costs a bounded number of walks."""
    first: tuple[tuple[str, ...], str] | None = None
    for rule in islice(compiled.candidates(obj), 64):
        path, text = _culprit(rule, obj)
        if first is None:
            first = (path, text)
        elif path != first[0] and compiled.or_path is not None:
            return f"{compiled.or_path}: no alternative matches"
    assert first is not None  # every filter has an alternative
    return first[1]


def _culprit(rule: _Rule, obj: dict[Any, Any]) -> tuple[tuple[str, ...], str]:
    keys = rule.keys
    matched, failed = 0, len(keys)  # the first `matched` fields match together; the first `failed` do not
    while failed - matched > 1:
        middle = (matched + failed) // 2
        if _walk_object(_build_rule(dict(keys[:middle])).root, obj):
            matched = middle
        else:
            failed = middle
    path, leaf = keys[failed - 1]
    return path, _describe(path, leaf, obj)


def _describe(path: tuple[str, ...], leaf: _Leaf, obj: dict[Any, Any]) -> str:
    where = _short_path(_display(path))
    shown: list[str] = []
    count = 0
    objects = False
    passes = False
    for value in _values_at(obj, path):
        if value is _MISSING:
            objects = True
            continue
        count += 1
        if len(shown) < 3:
            shown.append(_show(value))
        if not passes and not leaf.absent:
            passes = leaf.accepts(value)
    if shown:
        seen = ", ".join(shown) + (", ..." if count > len(shown) else "")
    else:
        seen = "an object (exists and values look at leaves only)" if objects else "no value"
    expected = _show_leaf(leaf.source)
    if passes:
        return (
            f"{where} is {seen}; a value that is {expected} is there, but not in the same array element as the"
            " other fields matched with it (the fields of one array element match together)"
        )
    return f"{where} is {seen}, which is not {expected}"


def _values_at(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """The scalars at `path` below `value` in every array element; _MISSING for each object found there."""
    stack = [(value, 0)]
    seen: dict[tuple[int, int], Any] = {}  # the arrays are kept, so that no id is reused while the walk lasts
    end = len(path)
    while stack:
        current, position = stack.pop()
        if current is _MISSING:
            continue
        kind = type(current)
        if kind not in (dict, list) and kind not in _SCALAR_TYPES:
            current = _view(current)
            kind = type(current)
        if kind is dict:
            if position < end:
                stack.append((current.get(path[position], _MISSING), position + 1))
            else:
                yield _MISSING
        elif kind is list:
            if (id(current), position) not in seen:
                seen[id(current), position] = current
                stack.extend((item, position) for item in reversed(current))
        elif position == end:
            _check_scalar(current)
            yield current


def _show_leaf(source: list[Any]) -> str:
    text = "[" + ", ".join(_show(value) for value in source) + "]"
    return text if len(text) <= 200 else text[:196] + "...]"


def _show(value: Any) -> str:
    """A value for a message: JSON, short, ASCII (a lone surrogate or a control character is escaped)."""
    try:
        kind = type(value)
        text: str
        if kind is _Number:
            text = value.text
        elif isinstance(value, _Pairs):
            text = "{" + ", ".join(f"{json.dumps(name[:40])}: {_show(item)}" for name, item in value) + "}"
        elif isinstance(value, list):
            text = _show_leaf(value)
        elif kind is str:
            text = json.dumps(value[:60])
        elif kind is int:
            text = _int_text(value)
        elif isinstance(value, Decimal):
            text = str(value)
        else:
            text = json.dumps(value)
    except Exception:  # noqa: BLE001 - showing a value never fails
        text = _type_label(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _display(path: tuple[str, ...]) -> str:
    shown = ""
    for name in path:
        shown = _join(shown, name)
    return shown


def _join(path: str, name: str) -> str:
    """`path.name`, or `path["odd name"]` (JSON-quoted, so always printable) when the name is not plain."""
    if name == "$or" or name.replace("-", "_").isidentifier():
        shown = name if len(name) <= 64 else name[:61] + "..."
        return f"{path}.{shown}" if path else shown
    return f"{path}[{json.dumps(name if len(name) <= 48 else name[:45] + '...')}]"


def _short_path(path: str) -> str:
    return path if len(path) <= 160 else path[:60] + "..." + path[-97:]


def _kind(value: Any) -> str:
    if type(value) is _Number:
        return "a number"
    if isinstance(value, _Pairs):
        return "an object"
    return _type_name(value)
