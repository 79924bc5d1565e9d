"""Evaluation of parsed expressions: pure functions over typed AttributeValue images.

Semantics (DynamoDB developer guide, "Comparison operator and function reference", and DynamoDB's behaviour
as ScyllaDB's Alternator tests record it against DynamoDB):

- A comparison of values of different types is false, never an error; `<>` is the negation of `=`, so it
  is true when either side is missing. Ordering (`< <= > >= BETWEEN`) is defined for two numbers (by
  value), two strings (by UTF-8 bytes) or two binaries (by unsigned bytes) only.
- `contains` finds a substring in a string, a byte sequence in a binary, an element in a set (of the set's
  element type) or an equal element in a list; `begins_with` works on strings and binaries.
- `size` is the length of a string in UTF-16 code units (as DynamoDB counts it), the bytes of a binary,
  the elements of a set or list and the entries of a map; it is undefined for numbers, booleans and nulls.
- A missing attribute makes every test false except `attribute_not_exists` and `<>`.
- An update reads every operand from the item as it was before the update, then applies the actions: SET,
  ADD and DELETE in path order (several appends to one list land in index order, as the developer guide
  says), then REMOVE from the highest list index down (indexes refer to the list before the update).
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Collection, Mapping
from decimal import Context, Decimal, Inexact
from typing import Any, Final

from shardline._attributes import format_number
from shardline.local._errors import ValidationError

from ._parser import Condition, Projection, Update
from ._tree import And, Between, Call, Compare, ConditionNode, Not, Operand, Or, Path, SetValue, UpdateAction, Value

__all__ = ["apply_update", "evaluate", "order", "project", "values_equal"]

# Exact sums of two DynamoDB numbers: magnitudes span 1E-130 to 1E+126 with 38 digits, so 400 digits never
# round; the Inexact trap proves it.
_EXACT: Final = Context(prec=400, Emax=999, Emin=-999, traps=[Inexact])
_MISSING_ATTRIBUTE: Final = "The provided expression refers to an attribute that does not exist in the item"
_INVALID_PATH: Final = "The document path provided in the update expression is invalid for update"
_WRONG_TYPE: Final = "An operand in the update expression has an incorrect data type"
# The legacy AttributeUpdates API words the same refusal differently (dynalite's tests, recorded against
# DynamoDB).
_WRONG_TYPE_LEGACY: Final = "Type mismatch for attribute to update"
# DynamoDB reports an update result beyond 38 digits as an overflow too (Alternator's tests: "1e50 + 1"
# fails with "Number overflow. Attempting to store a number with magnitude larger than supported range").
_OVERFLOW: Final = "Number overflow. Attempting to store a number with magnitude larger than supported range"
_UNDERFLOW: Final = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
_SETS: Final = frozenset({"SS", "NS", "BS"})
_SET_ELEMENT: Final = {"SS": "S", "NS": "N", "BS": "B"}


def _tag(av: Mapping[str, Any]) -> str:
    return next(iter(av))


def _binary(text: str) -> bytes:
    try:
        return b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValidationError("A binary value is not valid base64 text") from exc


def _number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ValidationError(f"A number value is not a number: {text!r}") from exc


def _element_key(tag: str, element: Any) -> Any:
    """What makes two set elements the same: the number's value, the binary's bytes, the string."""
    if tag == "NS":
        return _number(element)
    if tag == "BS":
        return _binary(element)
    return element


def values_equal(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """DynamoDB's equality of two typed values: same type and same value (sets regardless of order, numbers
    by value, lists element by element, maps entry by entry).

    Examples:
        >>> values_equal({"NS": ["1", "2.0"]}, {"NS": ["2", "1"]}), values_equal({"N": "1"}, {"S": "1"})
        (True, False)
    """
    tag = _tag(left)
    if tag != _tag(right):
        return False
    a, b = left[tag], right[tag]
    if tag == "N":
        return _number(a) == _number(b)
    if tag == "B":
        return _binary(a) == _binary(b)
    if tag in _SETS:
        return {_element_key(tag, e) for e in a} == {_element_key(tag, e) for e in b}
    if tag == "L":
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if tag == "M":
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def order(left: Mapping[str, Any], right: Mapping[str, Any]) -> int | None:
    """-1, 0 or 1 for two numbers, strings or binaries; None for anything else."""
    tag = _tag(left)
    if tag != _tag(right) or tag not in ("N", "S", "B"):
        return None
    a: Any
    b: Any
    if tag == "N":
        a, b = _number(left[tag]), _number(right[tag])
    elif tag == "B":
        a, b = _binary(left[tag]), _binary(right[tag])
    else:
        a, b = left[tag], right[tag]
    return int(a > b) - int(a < b)


def _resolve(image: Mapping[str, Any], path: Path) -> Mapping[str, Any] | None:
    elements = path.elements
    current: Any = image.get(path.head)
    for element in elements[1:]:
        if current is None:
            return None
        if isinstance(element, str):
            current = current["M"].get(element) if "M" in current else None
        else:
            items = current.get("L")
            current = items[element] if items is not None and element < len(items) else None
    return current  # type: ignore[no-any-return]


def _size(av: Mapping[str, Any]) -> int | None:
    tag = _tag(av)
    value = av[tag]
    if tag == "S":
        # UTF-16 code units, as DynamoDB counts them ("é𝄞" has size 3; verified against DynamoDB by ExtendDB).
        return len(value) + sum(1 for char in value if ord(char) > 0xFFFF)
    if tag == "B":
        return len(_binary(value))
    if tag in ("N", "BOOL", "NULL"):
        return None
    return len(value)


def _operand(node: Operand, item: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if isinstance(node, Path):
        return _resolve(item, node)
    if isinstance(node, Value):
        return node.value
    if isinstance(node, Call) and node.name == "size":
        target = _operand(node.args[0], item)
        size = _size(target) if target is not None else None
        return {"N": str(size)} if size is not None else None
    return None  # not reachable for a checked condition


def _contains(container: Mapping[str, Any], element: Mapping[str, Any]) -> bool:
    tag = _tag(container)
    element_tag = _tag(element)
    if tag == "S":
        return element_tag == "S" and element["S"] in container["S"]
    if tag == "B":
        return element_tag == "B" and _binary(element["B"]) in _binary(container["B"])
    if tag in _SETS:
        if element_tag != _SET_ELEMENT[tag]:
            return False
        wanted = _element_key(tag, element[element_tag])
        return any(_element_key(tag, member) == wanted for member in container[tag])
    if tag == "L":
        return any(values_equal(member, element) for member in container["L"])
    return False


def _begins_with(value: Mapping[str, Any], prefix: Mapping[str, Any]) -> bool:
    tag = _tag(value)
    if tag != _tag(prefix):
        return False
    if tag == "S":
        return bool(value["S"].startswith(prefix["S"]))
    if tag == "B":
        return _binary(value["B"]).startswith(_binary(prefix["B"]))
    return False


def _function(call: Call, item: Mapping[str, Any]) -> bool:
    name = call.name
    first = _operand(call.args[0], item)
    if name == "attribute_exists":
        return first is not None
    if name == "attribute_not_exists":
        return first is None
    second = _operand(call.args[1], item)
    if first is None or second is None:
        return False
    if name == "attribute_type":
        return _tag(first) == second.get("S")
    if name == "begins_with":
        return _begins_with(first, second)
    return _contains(first, second)  # contains


def _holds(node: ConditionNode, item: Mapping[str, Any]) -> bool:
    if isinstance(node, And):
        return all(_holds(condition, item) for condition in node.conditions)
    if isinstance(node, Or):
        return any(_holds(condition, item) for condition in node.conditions)
    if isinstance(node, Not):
        return not _holds(node.condition, item)
    if isinstance(node, Call):
        return _function(node, item)
    if isinstance(node, Compare):
        left, right = _operand(node.left, item), _operand(node.right, item)
        if node.operator in ("=", "<>"):
            equal = left is not None and right is not None and values_equal(left, right)
            return equal if node.operator == "=" else not equal
        if left is None or right is None:
            return False
        result = order(left, right)
        if result is None:
            return False
        return {"<": result < 0, "<=": result <= 0, ">": result > 0, ">=": result >= 0}[node.operator]
    if isinstance(node, Between):
        value, low, high = (_operand(n, item) for n in (node.operand, node.low, node.high))
        if value is None or low is None or high is None:
            return False
        above, below = order(value, low), order(value, high)
        return above is not None and below is not None and above >= 0 and below <= 0
    # In
    value = _operand(node.operand, item)
    if value is None:
        return False
    for choice in node.choices:
        candidate = _operand(choice, item)
        if candidate is not None and values_equal(value, candidate):
            return True
    return False


def evaluate(condition: Condition, item: Mapping[str, Any] | None) -> bool:
    """Whether `item` (a typed image; None for a missing item, which behaves as an empty one) satisfies the
    condition.

    Examples:
        >>> from shardline.local.expressions import Expressions
        >>> ex = Expressions(None, {":lo": {"N": "500"}, ":hi": {"N": "600"}})
        >>> evaluate(ex.condition("Price BETWEEN :lo AND :hi"), {"Id": {"N": "456"}, "Price": {"N": "650"}})
        False
    """
    return _holds(condition.root, item or {})


# --------------------------------------------------------------------------------------------------
# Updates


def _arithmetic(operator: str, left: Decimal, right: Decimal) -> dict[str, Any]:
    result = _EXACT.add(left, right) if operator == "+" else _EXACT.subtract(left, right)
    if not result:
        return {"N": "0"}
    digits = result.normalize(_EXACT).as_tuple().digits
    if len(digits) > 38 or result.adjusted() > 125:
        raise ValidationError(_OVERFLOW)
    if result.adjusted() < -130:
        raise ValidationError(_UNDERFLOW)
    return {"N": format_number(result)}


def _set_value(node: Operand, source: Mapping[str, Any], wrong_type: str) -> Mapping[str, Any]:
    if isinstance(node, Path):
        value = _resolve(source, node)
        if value is None:
            raise ValidationError(_MISSING_ATTRIBUTE)
        return value
    if isinstance(node, Value):
        return node.value
    if isinstance(node, SetValue):
        left = _set_value(node.left, source, wrong_type)
        right = _set_value(node.right, source, wrong_type)
        if _tag(left) != "N" or _tag(right) != "N":
            raise ValidationError(wrong_type)
        return _arithmetic(node.operator, _number(left["N"]), _number(right["N"]))
    assert isinstance(node, Call)
    if node.name == "if_not_exists":
        target = node.args[0]
        existing = _resolve(source, target) if isinstance(target, Path) else None
        return existing if existing is not None else _set_value(node.args[1], source, wrong_type)
    first = _set_value(node.args[0], source, wrong_type)
    second = _set_value(node.args[1], source, wrong_type)
    if _tag(first) != "L" or _tag(second) != "L":
        raise ValidationError(wrong_type)
    return {"L": [*first["L"], *second["L"]]}


def _parent(image: dict[str, Any], path: Path) -> Any:
    """The container (a typed M or L value) holding the last element of a nested path, or None. The
    containers on the way are copied first (and put in place of the originals): an update writes into its
    own copies only, never into the item it started from nor into the values it read."""
    holder: Any = image  # the dict or list holding the next element
    key: str | int = path.head
    parent: Any = image.get(path.head)
    for element in (*path.elements[1:-1], None):
        if parent is None:
            return None
        if "M" in parent:
            parent = {"M": dict(parent["M"])}
        elif "L" in parent:
            parent = {"L": list(parent["L"])}
        holder[key] = parent
        if element is None:
            break
        if isinstance(element, str):
            holder = parent.get("M")
            parent = holder.get(element) if holder is not None else None
        else:
            holder = parent.get("L")
            parent = holder[element] if holder is not None and element < len(holder) else None
        key = element
    return parent


def _holder(image: dict[str, Any], path: Path) -> tuple[Any, str | int]:
    """Where the last element of a nested path lives: the map (a dict) or the list holding it, copied on the
    way (`_parent`), and that element; the refusal of an invalid path when the parent is missing or is
    not a map (for a name) or a list (for an index)."""
    parent = _parent(image, path)
    last = path.elements[-1]
    holder = None if parent is None else parent.get("M" if isinstance(last, str) else "L")
    if holder is None:
        raise ValidationError(_INVALID_PATH)
    return holder, last


def _assign(image: dict[str, Any], path: Path, value: Mapping[str, Any]) -> None:
    if len(path.elements) == 1:
        image[path.head] = value
        return
    holder, last = _holder(image, path)
    # "If the element doesn't already exist, SET appends the new element at the end of the list."
    if isinstance(last, str) or last < len(holder):
        holder[last] = value
    else:
        holder.append(value)


def _remove(image: dict[str, Any], path: Path) -> None:
    if len(path.elements) == 1:
        image.pop(path.head, None)
        return
    holder, last = _holder(image, path)
    if isinstance(last, str):
        holder.pop(last, None)
    elif last < len(holder):
        del holder[last]


def _add(image: dict[str, Any], action: UpdateAction, value: Mapping[str, Any], legacy: bool) -> None:
    if len(action.path.elements) > 1 and _parent(image, action.path) is None:
        raise ValidationError(_INVALID_PATH)
    current = _resolve(image, action.path)
    wrong_type = _WRONG_TYPE_LEGACY if legacy else _WRONG_TYPE
    if current is None:
        _assign(image, action.path, value)
        return
    tag, value_tag = _tag(current), _tag(value)
    if tag != value_tag:
        raise ValidationError(wrong_type)
    if tag == "N":
        _assign(image, action.path, _arithmetic("+", _number(current["N"]), _number(value["N"])))
    elif tag in _SETS:
        members = list(current[tag])
        keys = {_element_key(tag, member) for member in members}
        for element in value[tag]:
            key = _element_key(tag, element)
            if key not in keys:
                keys.add(key)
                members.append(element)
        _assign(image, action.path, {tag: members})
    elif tag == "L" and legacy:
        # AttributeUpdates' ADD appends to a list (Alternator's tests, run against DynamoDB).
        _assign(image, action.path, {"L": [*current["L"], *value["L"]]})
    else:
        raise ValidationError(wrong_type)


def _delete(image: dict[str, Any], action: UpdateAction, value: Mapping[str, Any], legacy: bool) -> None:
    if len(action.path.elements) > 1:
        _holder(image, action.path)  # a valid path, even when there is nothing to delete
    current = _resolve(image, action.path)
    if current is None:
        return
    tag = _tag(current)
    if tag != _tag(value) or tag not in _SETS:
        raise ValidationError(_WRONG_TYPE_LEGACY if legacy else _WRONG_TYPE)
    removed = {_element_key(tag, element) for element in value[tag]}
    remaining = [member for member in current[tag] if _element_key(tag, member) not in removed]
    if remaining:
        _assign(image, action.path, {tag: remaining})
    else:
        # A set cannot be empty: deleting its last elements removes the attribute (developer guide, "DELETE").
        _remove(image, action.path)


def _path_key(path: Path) -> tuple[tuple[int, Any], ...]:
    return tuple((1, element) if isinstance(element, int) else (0, element) for element in path.elements)


def apply_update(
    update: Update,
    item: Mapping[str, Any] | None,
    *,
    key: Mapping[str, Any],
    key_names: Collection[str],
) -> dict[str, Any]:
    """The new typed image after `update`: a new dict (`item` and the update's values are never modified;
    the new image shares the values it did not change with them). A missing item (None) starts from `key`,
    as UpdateItem creates the item. Raises [`ValidationError`][shardline.local.ValidationError] with DynamoDB's
    message for an update of a key attribute, a path into a missing or mismatched parent, a reference to a
    missing attribute, an operand of the wrong type, or a number out of range.

    Examples:
        >>> from shardline.local.expressions import Expressions
        >>> ex = Expressions(None, {":p": {"N": "15"}})
        >>> item = {"Id": {"N": "789"}, "Price": {"N": "52"}}
        >>> apply_update(ex.update("SET Price = Price - :p"), item, key={"Id": {"N": "789"}}, key_names=["Id"])
        {'Id': {'N': '789'}, 'Price': {'N': '37'}}
    """
    for action in update.actions:
        name = action.path.head
        if name in key_names:
            raise ValidationError(
                f"One or more parameter values were invalid: Cannot update attribute {name}. "
                "This attribute is part of the key"
            )
    source: Mapping[str, Any] = item if item is not None else key
    wrong_type = _WRONG_TYPE_LEGACY if update.legacy else _WRONG_TYPE
    # Every operand is read from the item as it was before the update.
    planned: list[tuple[UpdateAction, Mapping[str, Any] | None]] = []
    for action in update.actions:
        if action.clause == "SET":
            assert action.value is not None
            planned.append((action, _set_value(action.value, source, wrong_type)))
        elif action.clause in ("ADD", "DELETE"):
            assert isinstance(action.value, Value)
            planned.append((action, action.value.value))
        else:
            planned.append((action, None))
    image: dict[str, Any] = dict(source)  # the containers an action writes into are copied on the way (_parent)
    writes = sorted((p for p in planned if p[0].clause != "REMOVE"), key=lambda p: _path_key(p[0].path))
    for action, value in writes:
        assert value is not None
        if action.clause == "SET":
            _assign(image, action.path, value)
        elif action.clause == "ADD":
            _add(image, action, value, update.legacy)
        else:
            _delete(image, action, value, update.legacy)
    if item is not None:  # REMOVE on a missing item does nothing, even for a nested path (Alternator's tests)
        removals = sorted((p[0] for p in planned if p[0].clause == "REMOVE"), key=lambda a: _path_key(a.path))
        for action in reversed(removals):
            _remove(image, action.path)
    return image


# --------------------------------------------------------------------------------------------------
# Projections


def project(projection: Projection, item: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of `item` that `projection` names, keeping their nesting: `a.b` gives
    `{"a": {"M": {"b": ...}}}` and list elements keep their order, compacted, as in DynamoDB's
    [projection expressions](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html).

    Examples:
        >>> from shardline.local.expressions import Expressions
        >>> item = {"Id": {"N": "1"}, "RelatedItems": {"L": [{"N": "341"}, {"N": "472"}]}}
        >>> project(Expressions(None, None).projection("RelatedItems[1], Nope"), item)
        {'RelatedItems': {'L': [{'N': '472'}]}}
    """
    root = _Branch()
    for path in projection.paths:
        value = _resolve(item, path)
        if value is None:
            continue
        node = root
        for element in path.elements[:-1]:
            child = node.children.get(element)
            if not isinstance(child, _Branch):
                child = node.children[element] = _Branch()
            node = child
        node.children[path.elements[-1]] = _copy(value)
    return {str(name): _rebuild(child) for name, child in root.children.items()}


def _copy(av: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a typed value whose maps and lists are its own (its strings are shared: they cannot change)."""
    ((tag, value),) = av.items()
    if tag == "M":
        return {"M": {name: _copy(item) for name, item in value.items()}}
    if tag == "L":
        return {"L": [_copy(item) for item in value]}
    if tag in _SETS:
        return {tag: list(value)}
    return {tag: value}


class _Branch:
    """An intermediate map or list of a projection's result; leaves are copied AttributeValues."""

    __slots__ = ("children",)

    def __init__(self) -> None:
        self.children: dict[str | int, _Branch | dict[str, Any]] = {}


def _rebuild(node: _Branch | dict[str, Any]) -> dict[str, Any]:
    if not isinstance(node, _Branch):
        return node
    indexes = sorted(key for key in node.children if isinstance(key, int))
    if indexes:
        return {"L": [_rebuild(node.children[index]) for index in indexes]}
    return {"M": {str(name): _rebuild(child) for name, child in node.children.items()}}
