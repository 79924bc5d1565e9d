"""Fuzzers and properties of shardline.local.expressions: any text returns or raises a shardline error; update
arithmetic is exact; apply_update never changes its input; projections are sub-documents of the item."""

from __future__ import annotations

import copy
from decimal import Decimal, localcontext
from typing import Any

import pytest
from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline._attributes import format_number
from shardline.local import ValidationError
from shardline.local.expressions import Expressions, apply_update, evaluate, project

NAMES = ["a", "b", "c", "pk", "#n", "#m"]
PLACEHOLDER_NAMES = {"#n": "a", "#m": "x y"}

# -- typed values and items ---------------------------------------------------------------------------------------


@st.composite
def numbers(draw: st.DrawFn) -> str:
    digits = draw(st.integers(min_value=0, max_value=10**38 - 1))
    exponent = draw(st.integers(min_value=-130, max_value=87))
    value = Decimal(digits).scaleb(exponent) * draw(st.sampled_from([1, -1]))
    if value and not -130 <= value.adjusted() <= 125:
        value = Decimal(digits % 1000)
    return format_number(value)


BINARIES = st.sampled_from(["", "AA==", "AAE=", "gAE=", "fw==", "YWJj"])
SCALARS = st.one_of(
    st.text(max_size=5).map(lambda s: {"S": s}),
    numbers().map(lambda n: {"N": n}),
    BINARIES.map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=3), min_size=1, max_size=3, unique=True).map(lambda s: {"SS": s}),
    st.lists(st.sampled_from(["1", "2", "2.5", "-3"]), min_size=1, max_size=3, unique=True).map(lambda s: {"NS": s}),
    st.lists(st.sampled_from(["AA==", "AAE="]), min_size=1, max_size=2, unique=True).map(lambda s: {"BS": s}),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: {"L": items}),
        st.dictionaries(st.sampled_from(["x", "y", "a"]), inner, max_size=3).map(lambda m: {"M": m}),
    ),
    max_leaves=8,
)
ITEMS = st.dictionaries(st.sampled_from(["a", "b", "c", "x y"]), VALUES, max_size=4).map(
    lambda item: {"pk": {"S": "k"}, **item}
)
PLACEHOLDER_VALUES = st.dictionaries(st.sampled_from([":v", ":w", ":t"]), VALUES, min_size=3, max_size=3)

# -- expression text: grammar-shaped and random -------------------------------------------------------------------

PATHS = st.builds(
    lambda head, tail: head + "".join(tail),
    st.sampled_from(NAMES),
    st.lists(st.sampled_from([".x", ".a", "[0]", "[1]", "[5]", ".#n"]), max_size=3),
)
OPERANDS = st.one_of(
    PATHS,
    st.sampled_from([":v", ":w", ":t"]),
    PATHS.map(lambda p: f"size({p})"),
)
COMPARISONS = st.one_of(
    st.builds(lambda a, op, b: f"{a} {op} {b}", OPERANDS, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), OPERANDS),
    st.builds(lambda a, b, c: f"{a} BETWEEN {b} AND {c}", OPERANDS, OPERANDS, OPERANDS),
    st.builds(lambda a, bs: f"{a} IN ({', '.join(bs)})", OPERANDS, st.lists(OPERANDS, min_size=1, max_size=3)),
    st.builds(
        lambda f, p, o: f"{f}({p}, {o})",
        st.sampled_from(["begins_with", "contains", "attribute_type"]),
        PATHS,
        OPERANDS,
    ),
    st.builds(lambda f, p: f"{f}({p})", st.sampled_from(["attribute_exists", "attribute_not_exists"]), PATHS),
)
CONDITIONS = st.recursive(
    COMPARISONS,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} AND {b}", inner, inner),
        st.builds(lambda a, b: f"{a} OR {b}", inner, inner),
        inner.map(lambda a: f"NOT {a}"),
        inner.map(lambda a: f"({a})"),
    ),
    max_leaves=6,
)
SET_VALUES = st.one_of(
    OPERANDS.filter(lambda o: not o.startswith("size")),
    st.builds(lambda a, op, b: f"{a} {op} {b}", PATHS, st.sampled_from(["+", "-"]), st.sampled_from([":v", ":w"])),
    st.builds(lambda p, v: f"if_not_exists({p}, {v})", PATHS, st.sampled_from([":v", ":w", ":t"])),
    st.builds(lambda a, b: f"list_append({a}, {b})", st.sampled_from([":v", "a", "b"]), st.sampled_from([":w", "c"])),
)
ACTIONS = st.one_of(
    st.builds(lambda p, v: ("SET", f"{p} = {v}"), PATHS, SET_VALUES),
    PATHS.map(lambda p: ("REMOVE", p)),
    st.builds(lambda p, v: ("ADD", f"{p} {v}"), PATHS, st.sampled_from([":v", ":w", ":t"])),
    st.builds(lambda p, v: ("DELETE", f"{p} {v}"), PATHS, st.sampled_from([":v", ":w", ":t"])),
)


def update_text(actions: list[tuple[str, str]]) -> str:
    clauses: dict[str, list[str]] = {}
    for clause, action in actions:
        clauses.setdefault(clause, []).append(action)
    return " ".join(f"{clause} {', '.join(parts)}" for clause, parts in clauses.items())


UPDATES = st.lists(ACTIONS, min_size=1, max_size=4).map(update_text)
TOKENS = st.sampled_from(
    ["a", "b", ".", "[", "]", "0", "(", ")", ",", "=", "<>", "<", ">=", "+", "-", ":v", "#n", "#zz", ":zz", "AND",
     "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE", "size", "contains", "list_append",
     "if_not_exists", "attribute_exists", "status", "!", "#", ":", "_", "é", " "]
)  # fmt: skip
RANDOM_TEXT = st.one_of(st.text(max_size=40), st.lists(TOKENS, max_size=25).map(" ".join))


def _run_all(text: str, values: dict[str, Any], item: dict[str, Any]) -> None:
    def go() -> None:
        expressions = Expressions(PLACEHOLDER_NAMES, values)
        condition = returns_or_raises_shardline_error(lambda: expressions.condition(text, kind="FilterExpression"))
        if condition is not None:
            returns_or_raises_shardline_error(lambda: evaluate(condition, item))
        update = returns_or_raises_shardline_error(lambda: expressions.update(text))
        if update is not None:
            before = copy.deepcopy(item)
            returns_or_raises_shardline_error(
                lambda: apply_update(update, item, key={"pk": {"S": "k"}}, key_names={"pk"})
            )
            returns_or_raises_shardline_error(lambda: apply_update(update, None, key={"pk": {"S": "k"}}, key_names=()))
            assert item == before
        projection = returns_or_raises_shardline_error(lambda: expressions.projection(text))
        if projection is not None:
            project(projection, item)
        returns_or_raises_shardline_error(lambda: expressions.key_condition(text, partition_key="pk", sort_key="a"))
        expressions.check_all_used()

    returns_or_raises_shardline_error(go)


@FUZZ
@given(text=RANDOM_TEXT, values=PLACEHOLDER_VALUES, item=ITEMS)
def test_fuzz_random_text_returns_or_raises_a_shardline_error(
    text: str, values: dict[str, Any], item: dict[str, Any]
) -> None:
    _run_all(text, values, item)


@FUZZ
@given(text=st.one_of(CONDITIONS, UPDATES), values=PLACEHOLDER_VALUES, item=ITEMS)
def test_fuzz_grammar_shaped_expressions_return_or_raise_a_shardline_error(
    text: str, values: dict[str, Any], item: dict[str, Any]
) -> None:
    _run_all(text, values, item)


@FUZZ
@given(text=UPDATES, values=PLACEHOLDER_VALUES, item=ITEMS)
def test_apply_update_never_changes_its_input(text: str, values: dict[str, Any], item: dict[str, Any]) -> None:
    expressions = Expressions(None, values)
    update = returns_or_raises_shardline_error(lambda: expressions.update(text.replace("#n", "a")))
    if update is None:
        return
    before = copy.deepcopy(item)
    result = returns_or_raises_shardline_error(
        lambda: apply_update(update, item, key={"pk": {"S": "k"}}, key_names={"pk"})
    )
    assert item == before
    if result is not None:
        assert result["pk"] == {"S": "k"}
        result.clear()  # the result shares nothing with the input
        assert item == before


@FUZZ
@given(left=numbers(), right=numbers(), operator=st.sampled_from(["+", "-"]))
def test_update_arithmetic_is_exact(left: str, right: str, operator: str) -> None:
    values = {":a": {"N": left}, ":b": {"N": right}}
    update = Expressions(None, values).update(f"SET r = :a {operator} :b")
    with localcontext() as context:
        context.prec = 500
        exact = Decimal(left) + Decimal(right) if operator == "+" else Decimal(left) - Decimal(right)
        significant = len(exact.normalize().as_tuple().digits) if exact else 1
    representable = not exact or (significant <= 38 and -130 <= exact.adjusted() <= 125)
    if not representable:
        with pytest.raises(ValidationError, match=r"^Number (overflow|underflow)\. "):
            apply_update(update, None, key={"pk": {"S": "k"}}, key_names={"pk"})
        return
    result = apply_update(update, None, key={"pk": {"S": "k"}}, key_names={"pk"})
    assert Decimal(result["r"]["N"]) == exact
    assert result["r"]["N"] == format_number(exact)


@FUZZ
@given(paths=st.lists(PATHS, min_size=1, max_size=4), item=ITEMS)
def test_projections_are_sub_documents(paths: list[str], item: dict[str, Any]) -> None:
    projection = returns_or_raises_shardline_error(
        lambda: Expressions(PLACEHOLDER_NAMES, None).projection(", ".join(paths))
    )
    if projection is None:
        return
    result = project(projection, item)
    assert set(result) <= set(item)
    for name, value in result.items():
        assert _sub_document(value, item[name])


def _sub_document(part: dict[str, Any], whole: dict[str, Any]) -> bool:
    tag = next(iter(part))
    if tag != next(iter(whole)):
        return False
    if tag == "M":
        return all(k in whole["M"] and _sub_document(v, whole["M"][k]) for k, v in part["M"].items())
    if tag == "L":
        remaining = list(whole["L"])  # elements keep their order
        for element in part["L"]:
            while remaining and not _sub_document(element, remaining[0]):
                remaining.pop(0)
            if not remaining:
                return False
            remaining.pop(0)
        return True
    return part == whole
