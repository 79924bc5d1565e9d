"""The immutable trees the parser builds: document paths, operands, conditions and update actions.

Names and values are already substituted: a [`Path`][shardline.local.expressions.Path] holds attribute names (`str`) and
list indexes (`int`); a `Value` holds the typed AttributeValue of its ExpressionAttributeValues placeholder. Evaluation
(`_evaluate.py`) is a set of pure functions over these trees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, final

__all__ = [
    "And",
    "Between",
    "Call",
    "Compare",
    "ConditionNode",
    "In",
    "Not",
    "Operand",
    "Or",
    "Path",
    "SetValue",
    "UpdateAction",
    "Value",
    "render_path",
]


def render_path(elements: tuple[str | int, ...]) -> str:
    """A path as DynamoDB prints it in messages: `[a, b, [0]]`."""
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in elements) + "]"


@final
@dataclass(frozen=True, slots=True)
class Path:
    """A document path: `a.b[0]` is `Path(("a", "b", 0))`."""

    elements: tuple[str | int, ...]

    @property
    def head(self) -> str:
        """The top-level attribute's name (a path always starts with a name)."""
        return str(self.elements[0])

    def __str__(self) -> str:
        text = ""
        for element in self.elements:
            text += f"[{element}]" if isinstance(element, int) else (f".{element}" if text else element)
        return text


@final
@dataclass(frozen=True, slots=True)
class Value:
    """An ExpressionAttributeValues placeholder and its typed value."""

    name: str
    value: Mapping[str, Any]


@final
@dataclass(frozen=True, slots=True)
class Call:
    """A function call: `size(a)`, `if_not_exists(a, :v)`, `attribute_exists(a)`..."""

    name: str
    args: tuple[Operand, ...]


@final
@dataclass(frozen=True, slots=True)
class SetValue:
    """`x + y` or `x - y` on the right of a SET action."""

    operator: str
    left: Operand
    right: Operand


Operand = Path | Value | Call | SetValue


@final
@dataclass(frozen=True, slots=True)
class Compare:
    """`left <operator> right` with one of `= <> < <= > >=`."""

    operator: str
    left: Operand
    right: Operand


@final
@dataclass(frozen=True, slots=True)
class Between:
    """`operand BETWEEN low AND high`."""

    operand: Operand
    low: Operand
    high: Operand


@final
@dataclass(frozen=True, slots=True)
class In:
    """`operand IN (choice, ...)`."""

    operand: Operand
    choices: tuple[Operand, ...]


@final
@dataclass(frozen=True, slots=True)
class And:
    """Conditions that must all hold (`a AND b AND c` is one node: evaluation never recurses per AND)."""

    conditions: tuple[ConditionNode, ...]


@final
@dataclass(frozen=True, slots=True)
class Or:
    """Conditions of which one must hold."""

    conditions: tuple[ConditionNode, ...]


@final
@dataclass(frozen=True, slots=True)
class Not:
    """The negation of a condition."""

    condition: ConditionNode


ConditionNode = Compare | Between | In | Call | And | Or | Not


@final
@dataclass(frozen=True, slots=True)
class UpdateAction:
    """One action of an update expression: `clause` is SET, REMOVE, ADD or DELETE; `value` is the right
    side of a SET, the value placeholder of an ADD or DELETE, and None for REMOVE."""

    clause: str
    path: Path
    value: Operand | None
