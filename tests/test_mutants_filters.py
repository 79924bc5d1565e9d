"""Rules of src/shardline/_filters.py that a mutant of tools/mutants.py broke while every other test still passed."""

from __future__ import annotations

from typing import Any

import pytest

from shardline import FilterCriteria, FilterPatternError


def matches(pattern: dict[str, Any] | str, record: dict[str, Any]) -> bool:
    return FilterCriteria([pattern]).matches(record)


def test_numeric_operands_may_reach_the_bounds_of_the_range() -> None:
    # Kills filters/numeric-limit-exclusive: operands from -5.0e9 to 5.0e9 inclusive are accepted, one more is not.
    assert matches({"n": [{"numeric": ["<=", 5000000000]}]}, {"n": 5000000000})
    assert matches({"n": [{"numeric": [">=", -5e9]}]}, {"n": -5000000000})
    with pytest.raises(FilterPatternError, match=r"numeric values must lie between -5\.0e9 and 5\.0e9"):
        FilterCriteria([{"n": [{"numeric": ["<=", 5000000001]}]}])


@pytest.mark.parametrize(("value", "expected"), [("abc", True), ("ab", True), ("xab", False), ("a", False)])
def test_prefix_matches_the_start_of_a_string_only(value: str, expected: bool) -> None:
    # Kills filters/prefix-contains.
    assert matches({"s": [{"prefix": "ab"}]}, {"s": value}) is expected


def test_a_pattern_of_exactly_4096_characters_is_accepted() -> None:
    # Kills filters/pattern-of-4096-refused: Lambda allows patterns of up to 4096 characters.
    head = '{"a": ["'
    pattern = head + "x" * (4096 - len(head) - len('"]}')) + '"]}'
    assert len(pattern) == 4096
    assert len(FilterCriteria([pattern])) == 1
    with pytest.raises(FilterPatternError, match=r"the pattern is 4097 characters, more than the 4096 allowed"):
        FilterCriteria([pattern.replace('"a"', '"ab"')])


@pytest.mark.parametrize("name", ["prefix", "exists", "numeric", "anything-but"])
def test_operator_names_are_ordinary_field_names_outside_or(name: str) -> None:
    # Kills filters/operator-names-outside-or: event-ruler reserves operator names as field names only inside $or.
    assert matches({name: ["a"]}, {name: "a"})
    with pytest.raises(FilterPatternError, match=rf"{name!r} names an operator and cannot be a field name inside \$or"):
        FilterCriteria([{"$or": [{name: ["a"]}, {"b": ["c"]}]}])


# A value field "a" and, through a second "a" of the same object (its fields are other paths, so both count), the
# fields a.a (a value) and a.b ({"exists": false}). Sorted by name, a and a.a come before a.b: a.a lies below the
# place a.b shares with them, so a.b must be absent from the very element a.a matched in, not from the whole array.
ANCHORED = '{"a": ["x"], "a": {"a": ["v"], "b": [{"exists": false}]}}'


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param({"a": ["x", {"a": "v"}, {"b": "w"}]}, True, id="b in another element"),
        pytest.param({"a": ["x", {"a": "v", "b": "w"}]}, False, id="b in the matched element"),
        pytest.param({"a": ["x", {"a": "v"}]}, True, id="no b"),
        pytest.param({"a": ["y", {"a": "v"}]}, False, id="a is not x"),
    ],
)
def test_exists_false_is_checked_in_the_element_the_fields_before_it_matched_in(
    record: dict[str, Any], expected: bool
) -> None:
    # Kills filters/exists-false-anchor.
    assert matches(ANCHORED, record) is expected
