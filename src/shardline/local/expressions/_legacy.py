"""The legacy conditional parameters, converted to the trees expressions parse to (DynamoDB developer guide,
"Legacy conditional parameters": Expected, ConditionalOperator, AttributeUpdates, KeyConditions, QueryFilter,
ScanFilter, AttributesToGet).

Each legacy condition names a top-level attribute and a ComparisonOperator over an AttributeValueList; it
becomes the equivalent expression node (`EQ` is `=`, `NOT_NULL` is `attribute_exists` ...), so the
same evaluator applies. The only difference in meaning is documented by Alternator's tests run against
DynamoDB: `NOT_CONTAINS` is false for a missing attribute (`contains` and `NOT_CONTAINS` are then both
false). Validation messages are DynamoDB's, as dynalite's tests record them.

Examples:
    >>> condition = filter_condition({"Price": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "10"}]}})
    >>> from shardline.local.expressions import evaluate
    >>> evaluate(condition, {"Price": {"N": "12"}})
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from shardline.local._errors import ArgumentTypeError, ValidationError

from ._parser import (
    Condition,
    KeyCondition,
    Projection,
    Update,
    compare_values,
    key_condition_from,
)
from ._tree import And, Between, Call, Compare, ConditionNode, In, Not, Or, Path, UpdateAction, Value

__all__ = [
    "attribute_updates",
    "attributes_to_get",
    "check_expression_parameters",
    "expected_condition",
    "filter_condition",
    "key_conditions",
]

_INVALID: Final = "One or more parameter values were invalid: "
# How many values each operator takes (None: one or more), and the value types it accepts.
_ARITY: Final[dict[str, int | None]] = {
    "EQ": 1,
    "NE": 1,
    "LE": 1,
    "LT": 1,
    "GE": 1,
    "GT": 1,
    "NOT_NULL": 0,
    "NULL": 0,
    "CONTAINS": 1,
    "NOT_CONTAINS": 1,
    "BEGINS_WITH": 1,
    "IN": None,
    "BETWEEN": 2,
}
_SCALARS: Final = frozenset({"S", "N", "B"})
_TYPES: Final = {
    "EQ": frozenset({"S", "N", "B", "SS", "NS", "BS"}),
    "NE": frozenset({"S", "N", "B", "SS", "NS", "BS"}),
    "LE": _SCALARS,
    "LT": _SCALARS,
    "GE": _SCALARS,
    "GT": _SCALARS,
    "CONTAINS": _SCALARS,
    "NOT_CONTAINS": _SCALARS,
    "BEGINS_WITH": frozenset({"S", "B"}),
    "IN": _SCALARS,
    "BETWEEN": _SCALARS,
}
_COMPARATORS: Final = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_KEY_OPERATORS: Final = {"EQ": "=", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">", "BETWEEN": "BETWEEN"}


def _tag(av: Mapping[str, Any]) -> str:
    return next(iter(av))


def _mapping(value: Any, parameter: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ArgumentTypeError(f"{parameter} must be a mapping, not {type(value).__qualname__}")
    return value


def _typed(value: Any, parameter: str) -> Mapping[str, Any]:
    if not (isinstance(value, Mapping) and len(value) == 1 and isinstance(next(iter(value)), str)):
        raise ValidationError(
            f"{parameter}: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    return value


def _leaf(name: str, operator: str, values: Sequence[Mapping[str, Any]], parameter: str) -> ConditionNode:
    """One legacy condition on attribute `name`, validated as DynamoDB validates QueryFilter conditions."""
    arity = _ARITY.get(operator)
    if operator not in _ARITY:
        raise ValidationError(
            f"{parameter}: ComparisonOperator {operator!r} is not one of EQ, NE, LE, LT, GE, GT, NOT_NULL, NULL, "
            "CONTAINS, NOT_CONTAINS, BEGINS_WITH, IN, BETWEEN"
        )
    if (arity is None and not values) or (arity is not None and len(values) != arity):
        raise ValidationError(f"{_INVALID}Invalid number of argument(s) for the {operator} ComparisonOperator")
    if values:
        first = _tag(values[0])
        if any(_tag(value) != first for value in values):
            raise ValidationError(f"{_INVALID}AttributeValues inside AttributeValueList must be of same type")
        for value in values:
            if _tag(value) not in _TYPES[operator]:
                raise ValidationError(
                    f"{_INVALID}ComparisonOperator {operator} is not valid for {_tag(value)} AttributeValue type"
                )
        if operator == "BETWEEN" and (compare_values(values[0], values[1]) or 0) > 0:
            raise ValidationError(
                "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
            )
    path = Path((name,))
    operands = tuple(Value(f"{parameter}.{name}[{i}]", value) for i, value in enumerate(values))
    if operator in _COMPARATORS:
        return Compare(_COMPARATORS[operator], path, operands[0])
    if operator == "NOT_NULL":
        return Call("attribute_exists", (path,))
    if operator == "NULL":
        return Call("attribute_not_exists", (path,))
    if operator == "CONTAINS":
        return Call("contains", (path, operands[0]))
    if operator == "NOT_CONTAINS":
        return And((Call("attribute_exists", (path,)), Not(Call("contains", (path, operands[0])))))
    if operator == "BEGINS_WITH":
        return Call("begins_with", (path, operands[0]))
    if operator == "IN":
        return In(path, operands)
    return Between(path, operands[0], operands[1])


def _values(entry: Mapping[str, Any], parameter: str) -> list[Mapping[str, Any]]:
    values = entry.get("AttributeValueList")
    if values is None:
        return []
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)):
        raise ArgumentTypeError(f"{parameter}: AttributeValueList must be a list")
    return [_typed(value, parameter) for value in values]


def _combine(nodes: list[ConditionNode], conditional_operator: str | None) -> Condition:
    if conditional_operator not in (None, "AND", "OR"):
        raise ValidationError(
            f"1 validation error detected: Value '{conditional_operator}' at 'conditionalOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [AND, OR]"
        )
    root: ConditionNode = Or(tuple(nodes)) if conditional_operator == "OR" and nodes else And(tuple(nodes))
    paths: list[Path] = []
    for node in nodes:
        paths.extend(_paths(node))
    return Condition(root, tuple(paths))


def _paths(node: ConditionNode) -> list[Path]:
    if isinstance(node, (And, Or)):
        return [path for item in node.conditions for path in _paths(item)]
    if isinstance(node, Not):
        return _paths(node.condition)
    if isinstance(node, Call):
        return [arg for arg in node.args if isinstance(arg, Path)]
    if isinstance(node, Compare):
        return [node.left] if isinstance(node.left, Path) else []
    if isinstance(node, Between):
        return [node.operand] if isinstance(node.operand, Path) else []
    return [node.operand] if isinstance(node.operand, Path) else []


def filter_condition(
    conditions: Mapping[str, Any], conditional_operator: str | None = None, *, parameter: str = "QueryFilter"
) -> Condition:
    """A QueryFilter or ScanFilter (`parameter` names it in messages) as a Condition; the conditions are
    joined by `conditional_operator` (AND when None). An empty filter is always true."""
    nodes: list[ConditionNode] = []
    for name, raw in _mapping(conditions, parameter).items():
        entry = _mapping(raw, f"{parameter}.{name}")
        operator = entry.get("ComparisonOperator")
        if not isinstance(operator, str):
            raise ValidationError(f"{parameter}: the condition on {name} has no ComparisonOperator")
        nodes.append(_leaf(name, operator, _values(entry, parameter), parameter))
    return _combine(nodes, conditional_operator)


def expected_condition(expected: Mapping[str, Any], conditional_operator: str | None = None) -> Condition:
    """An `Expected` map as a Condition ([Expected](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.Expected.html)):
    each entry is either `Value`/`Exists` (Exists true or absent: the attribute equals Value; Exists false: the
    attribute is missing) or a ComparisonOperator with an AttributeValueList (or a single `Value`)."""
    nodes: list[ConditionNode] = []
    for name, raw in _mapping(expected, "Expected").items():
        entry = _mapping(raw, f"Expected.{name}")
        has_value, has_list = "Value" in entry, "AttributeValueList" in entry
        if has_value and has_list:
            raise ValidationError(
                f"{_INVALID}Value and AttributeValueList cannot be used together for Attribute: {name}"
            )
        operator = entry.get("ComparisonOperator")
        if operator is not None:
            if "Exists" in entry:
                raise ValidationError(
                    f"{_INVALID}Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )
            if operator not in ("NULL", "NOT_NULL") and not has_value and not has_list:
                raise ValidationError(
                    f"{_INVALID}Value or AttributeValueList must be used with ComparisonOperator: {operator} "
                    f"for Attribute: {name}"
                )
            values = [_typed(entry["Value"], "Expected")] if has_value else _values(entry, "Expected")
            nodes.append(_leaf(name, str(operator), values, "Expected"))
            continue
        if has_list:
            raise ValidationError(
                f"{_INVALID}AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
            )
        exists = entry.get("Exists")
        if exists is None or exists is True:
            if not has_value:
                shown = "null" if exists is None else "true"
                raise ValidationError(f"{_INVALID}Value must be provided when Exists is {shown} for Attribute: {name}")
            nodes.append(_leaf(name, "EQ", [_typed(entry["Value"], "Expected")], "Expected"))
        elif exists is False:
            if has_value:
                raise ValidationError(f"{_INVALID}Value cannot be used when Exists is false for Attribute: {name}")
            nodes.append(Call("attribute_not_exists", (Path((name,)),)))
        else:
            raise ArgumentTypeError(f"Expected.{name}.Exists must be a boolean")
    return _combine(nodes, conditional_operator)


def key_conditions(conditions: Mapping[str, Any], *, partition_key: str, sort_key: str | None) -> KeyCondition:
    """A Query's `KeyConditions` as a KeyCondition ([KeyConditions](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.KeyConditions.html))."""
    gathered: dict[str, tuple[str, tuple[Mapping[str, Any], ...]]] = {}
    for name, raw in _mapping(conditions, "KeyConditions").items():
        entry = _mapping(raw, f"KeyConditions.{name}")
        operator = entry.get("ComparisonOperator")
        if not isinstance(operator, str):
            raise ValidationError(f"KeyConditions: the condition on {name} has no ComparisonOperator")
        values = _values(entry, "KeyConditions")
        _leaf(name, operator, values, "KeyConditions")  # validates the arguments
        if operator not in _KEY_OPERATORS and operator != "BEGINS_WITH":
            # dynalite's tests, recorded against DynamoDB.
            raise ValidationError("Attempted conditional constraint is not an indexable operation")
        gathered[name] = ("begins_with" if operator == "BEGINS_WITH" else _KEY_OPERATORS[operator], tuple(values))
    if len(gathered) > 2:
        raise ValidationError("Conditions can be of length 1 or 2 only")
    return key_condition_from(gathered, partition_key=partition_key, sort_key=sort_key)


def attributes_to_get(names: Sequence[str]) -> Projection:
    """`AttributesToGet` as a Projection of top-level attributes."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise ArgumentTypeError("AttributesToGet must be a list of attribute names")
    paths: list[Path] = []
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            raise ArgumentTypeError("AttributesToGet must be a list of attribute names")
        if name in seen:
            # dynalite's tests, recorded against DynamoDB.
            raise ValidationError(
                f"One or more parameter values were invalid: Duplicate value in attribute name: {name}"
            )
        seen.add(name)
        paths.append(Path((name,)))
    return Projection(tuple(paths))


def attribute_updates(updates: Mapping[str, Any]) -> Update:
    """`AttributeUpdates` as an Update ([AttributeUpdates](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.AttributeUpdates.html)):
    PUT sets, DELETE without a value removes, DELETE with a set removes those elements, ADD adds to a number or a set
    (or appends to a list) and creates the attribute when missing."""
    actions: list[UpdateAction] = []
    for name, raw in _mapping(updates, "AttributeUpdates").items():
        entry = _mapping(raw, f"AttributeUpdates.{name}")
        action = entry.get("Action", "PUT")
        if action not in ("PUT", "DELETE", "ADD"):
            raise ValidationError(
                f"1 validation error detected: Value '{action}' at 'attributeUpdates.{name}.member.action' failed "
                "to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
            )
        value = entry.get("Value")
        path = Path((name,))
        if value is None:
            if action != "DELETE":
                raise ValidationError(f"{_INVALID}Only DELETE action is allowed when no attribute value is specified")
            actions.append(UpdateAction("REMOVE", path, None))
            continue
        value = _typed(value, "AttributeUpdates")
        kind = _tag(value)
        if action == "DELETE" and kind not in ("SS", "NS", "BS"):
            raise ValidationError(f"{_INVALID}DELETE action with value is not supported for the type {kind}")
        if action == "ADD" and kind not in ("L", "SS", "NS", "BS", "N"):
            raise ValidationError(f"{_INVALID}ADD action is not supported for the type {kind}")
        clause = "SET" if action == "PUT" else action
        actions.append(UpdateAction(clause, path, Value(f"AttributeUpdates.{name}", value)))
    return Update(tuple(actions), legacy=True)


def check_expression_parameters(
    request: Mapping[str, Any], *, expression: Sequence[str], legacy: Sequence[str]
) -> None:
    """Refuse a request that mixes expression parameters with legacy ones, and placeholders without
    expressions (DynamoDB's messages, as dynalite's tests record them).

    `expression` and `legacy` list the operation's parameters of each kind in DynamoDB's order, e.g. for
    Query `("ProjectionExpression", "FilterExpression", "KeyConditionExpression")` and `("AttributesToGet",
    "QueryFilter", "ConditionalOperator", "KeyConditions")`.

    Examples:
        >>> from shardline.local import ValidationError
        >>> try:
        ...     check_expression_parameters({"AttributesToGet": ["a"], "ProjectionExpression": "a"},
        ...         expression=["ProjectionExpression"], legacy=["AttributesToGet"])
        ... except ValidationError as error:
        ...     print(str(error)[:57])
        Can not use both expression and non-expression parameters
    """
    used_expressions = [name for name in expression if request.get(name) is not None]
    if used_expressions:
        used_legacy = [name for name in legacy if request.get(name) is not None]
        if "KeyConditions" in used_legacy and request.get("KeyConditionExpression") is None:
            used_legacy.remove("KeyConditions")
        if used_legacy:
            raise ValidationError(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(used_legacy)}}} "
                f"Expression parameters: {{{', '.join(used_expressions)}}}"
            )
    if request.get("ExpressionAttributeNames") is not None and not used_expressions:
        raise ValidationError("ExpressionAttributeNames can only be specified when using expressions")
    with_values = [name for name in expression if name != "ProjectionExpression"]
    if (
        with_values
        and request.get("ExpressionAttributeValues") is not None
        and not any(request.get(name) is not None for name in with_values)
    ):
        verb = "are" if len(with_values) > 1 else "is"
        raise ValidationError(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(with_values)} {verb} null"
        )
