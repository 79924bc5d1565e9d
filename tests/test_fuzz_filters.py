"""FilterCriteria against a reference model of event-ruler's matching, and fuzzers over patterns and records.

The model below is written from event-ruler's documented and coded semantics, independently of
shardline._filters, to be obviously right rather than fast:

* the record is flattened into fields (dotted path, value, array membership), as event-ruler's Event does:
  every array gets a number, and a value inside an object or an array that is an element of an array records
  the element's index in that array (a scalar element records nothing for its own array);
* a pattern is expanded into rules, one per combination of $or alternatives, each a map from path to leaf, a
  later write of a path replacing an earlier one in the order the pattern is written;
* a rule matches when its fields, taken in Java's order of their dotted names, can each be satisfied in turn:
  a value field by a field of the record that passes and whose membership agrees with those chosen so far
  (same index for every array they share), ``exists: false`` by no such agreeing field at all.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline import EventShapeError, FilterCriteria, FilterPatternError, ShardlineError
from shardline._json import json_dumps, json_loads

# -- the reference model ---------------------------------------------------------------------------------------


class Num:
    """A number of a pattern as written."""

    def __init__(self, text: str) -> None:
        self.text = text


def parse_pattern(text: str) -> Any:
    return json.loads(text, object_pairs_hook=list, parse_int=Num, parse_float=Num)


def flatten(record: dict[str, Any]) -> list[tuple[str, Any, dict[int, int]]]:
    fields: list[tuple[str, Any, dict[int, int]]] = []
    arrays = [0]

    def walk_object(obj: dict[str, Any], path: str, membership: dict[int, int]) -> None:
        for name, value in obj.items():
            walk_value(value, f"{path}.{name}" if path else name, membership)

    def walk_value(value: Any, path: str, membership: dict[int, int]) -> None:
        if isinstance(value, dict):
            walk_object(value, path, membership)
        elif isinstance(value, list):
            array = arrays[0]
            arrays[0] += 1
            for index, item in enumerate(value):
                if isinstance(item, (dict, list)):
                    walk_value(item, path, {**membership, array: index})
                else:
                    fields.append((path, item, membership))
        else:
            fields.append((path, value, membership))

    walk_object(record, "", {})
    return fields


def expand(pairs: list[tuple[str, Any]], path: str, rules: list[dict[str, list[Any]]]) -> list[dict[str, list[Any]]]:
    for name, value in pairs:
        if name == "$or":
            base = rules or [{}]
            rules = [rule for alternative in value for rule in expand(alternative, path, [dict(r) for r in base])]
        elif isinstance(value, list) and value and isinstance(value[0], tuple):  # an object (pairs)
            rules = expand(value, f"{path}.{name}" if path else name, rules)
        else:
            rules = rules or [{}]
            for rule in rules:
                rule[f"{path}.{name}" if path else name] = value
    return rules


def text_of(value: Any) -> tuple[str, str]:
    """(JSON type, text) as exact matching compares them."""
    if isinstance(value, Num):
        return ("number", value.text)
    if isinstance(value, bool):
        return ("bool", str(value))
    if value is None:
        return ("null", "")
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, float):
        return ("number", repr(value))
    return ("number", str(value))


def operators(leaf: list[Any]) -> list[tuple[str, Any]]:
    return [item[0] for item in leaf if isinstance(item, list)]


def passes(leaf: list[Any], value: Any) -> bool:
    """Whether one scalar of the record passes one of the leaf's values or operators (exists aside)."""
    for item in leaf:
        if not isinstance(item, list):
            if text_of(item) == text_of(value):
                return True
            continue
        name, operand = item[0]
        if name == "exists" and operand is True:
            return True
        if name == "prefix" and isinstance(value, str) and value.startswith(operand):
            return True
        if name == "suffix" and isinstance(value, str) and value.endswith(operand):
            return True
        if name == "equals-ignore-case" and isinstance(value, str) and value.lower() == operand.lower():
            return True
        if name == "anything-but":
            excluded = operand if isinstance(operand, list) else [operand]
            if text_of(value) not in [text_of(other) for other in excluded]:
                return True
        if name == "numeric" and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            checks = {
                "=": number.__eq__, "<": number.__lt__, "<=": number.__le__, ">": number.__gt__, ">=": number.__ge__,
            }  # fmt: skip
            pairs = list(zip(operand[::2], operand[1::2], strict=True))
            if all(checks[op](Decimal(bound.text)) for op, bound in pairs):
                return True
    return False


def agree(first: dict[int, int], second: dict[int, int]) -> dict[int, int] | None:
    for array, index in second.items():
        if first.get(array, index) != index:
            return None
    return {**first, **second}


def java_key(path: str) -> bytes:
    return path.encode("utf-16-be", "surrogatepass")


def model_matches(pattern_text: str, record: dict[str, Any]) -> bool:
    fields = flatten(record)
    for rule in expand(parse_pattern(pattern_text), "", []):
        keys = sorted(rule, key=java_key)

        def satisfy(position: int, membership: dict[int, int], keys: list[str] = keys, rule: Any = rule) -> bool:
            if position == len(keys):
                return True
            key, leaf = keys[position], rule[keys[position]]
            agreeing = [(value, merged) for path, value, own in fields
                        if path == key and (merged := agree(membership, own)) is not None]  # fmt: skip
            if ("exists", False) in operators(leaf) and not agreeing and satisfy(position + 1, membership):
                return True
            return any(passes(leaf, value) and satisfy(position + 1, merged) for value, merged in agreeing)

        if satisfy(0, {}):
            return True
    return False


# -- strategies ------------------------------------------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "c"])
RECORD_SCALARS = st.sampled_from(["x", "y", "xy", "", 1, 2, 1.5, True, False, None])
RECORD_VALUES = st.recursive(
    RECORD_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=14,
)
RECORDS = st.dictionaries(NAMES, RECORD_VALUES, min_size=1, max_size=3)

PATTERN_VALUES = st.sampled_from(['"x"', '"y"', '""', "1", "2", "1.5", "true", "false", "null"])
OPERATORS = st.sampled_from([
    '{"exists": true}', '{"exists": false}', '{"prefix": "x"}', '{"suffix": "y"}', '{"equals-ignore-case": "X"}',
    '{"anything-but": "x"}', '{"anything-but": ["x", "y"]}', '{"anything-but": [1, 2]}', '{"numeric": [">", 1]}',
    '{"numeric": [">=", 1, "<", 2]}', '{"numeric": ["=", 1.5]}',
])  # fmt: skip
LEAVES = st.lists(PATTERN_VALUES | OPERATORS, min_size=1, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")


def objects(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    field = st.tuples(NAMES, LEAVES | inner).map(lambda pair: f'"{pair[0]}": {pair[1]}')
    either = st.lists(inner, min_size=2, max_size=3).map(lambda items: '"$or": [' + ", ".join(items) + "]")
    return st.lists(field | either, min_size=1, max_size=3).map(lambda items: "{" + ", ".join(items) + "}")


def _pattern_objects(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return objects(inner)


PATTERNS = st.recursive(
    st.tuples(NAMES, LEAVES).map(lambda pair: f'{{"{pair[0]}": {pair[1]}}}'), _pattern_objects, max_leaves=6
)


def duplicate_one_element(value: Any, choice: int) -> Any:
    """A copy of ``value`` where the ``choice``-th array met (depth first) has one element repeated."""
    counter = [0]

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {name: walk(inner) for name, inner in item.items()}
        if isinstance(item, list):
            items = [walk(inner) for inner in item]
            if counter[0] == choice and items:
                items.append(copy.deepcopy(items[choice % len(items)]))
            counter[0] += 1
            return items
        return item

    return walk(value)


# -- the engine agrees with the model ----------------------------------------------------------------------------


@FUZZ
@given(pattern=PATTERNS, record=RECORDS)
def test_fuzz_the_engine_agrees_with_the_reference_model(pattern: str, record: dict[str, Any]) -> None:
    criteria = FilterCriteria([pattern])
    expected = model_matches(pattern, record)
    assert criteria.matches(record) is expected
    explanation = criteria.explain(record)
    assert explanation.matched is expected
    if not expected:
        (reason,) = explanation.reasons
        assert reason.startswith("filter 1: ")
        assert "<object" not in reason


@FUZZ
@given(pattern=PATTERNS, record=RECORDS, choice=st.integers(0, 6))
def test_fuzz_repeating_an_array_element_never_changes_the_answer(pattern: str, record: dict[str, Any],
                                                                   choice: int) -> None:  # fmt: skip
    criteria = FilterCriteria([pattern])
    longer = duplicate_one_element(record, choice)
    assert criteria.matches(longer) is criteria.matches(record)


@pytest.mark.parametrize(
    ("pattern", "record", "expected"),
    [
        # the example: no element has d
        ('{"a": {"d": [{"exists": true}]}}', {"a": [{"b": 1}, {"c": 2}]}, False),
        ('{"a": {"d": [{"exists": false}]}}', {"a": [{"b": 1}, {"c": 2}]}, True),
        ('{"a": {"d": [{"anything-but": "x"}]}}', {"a": [{"b": 1}, {"c": 2}]}, False),
        ('{"a": {"d": [{"exists": false}]}}', {"a": [{"b": 1}, {"d": 2}]}, False),
        # two fields of one array must come from the same element
        ('{"a": {"b": ["x"], "c": ["y"]}}', {"a": [{"b": "x"}, {"c": "y"}]}, False),
        ('{"a": {"b": ["x"], "c": ["y"]}}', {"a": [{"b": "x"}, {"b": "z", "c": "y"}, {"b": "x", "c": "y"}]}, True),
        # exists:false is checked in the element the fields sorted before it were matched in...
        ('{"a": {"b": ["x"], "c": [{"exists": false}]}}', {"a": [{"b": "x"}, {"b": "y", "c": 1}]}, True),
        # ...and across all elements when it sorts first (event-ruler walks fields in name order)
        ('{"a": {"b": [{"exists": false}], "c": ["x"]}}', {"a": [{"c": "x"}, {"b": 1, "c": "y"}]}, False),
        ('{"a": {"b": [{"exists": false}], "c": ["x"]}}', {"a": [{"c": "x"}, {"c": "y"}]}, True),
        # arrays of arrays flatten; a scalar next to objects belongs to no element
        ('{"a": {"b": ["x"], "c": ["y"]}}', {"a": [[{"b": "x", "c": "y"}], [{"b": "z"}]]}, True),
        ('{"a": {"b": ["x"], "c": ["y"]}}', {"a": [[{"b": "x"}], [{"c": "y"}]]}, False),
        ('{"a": ["x"], "$or": [{"a": {"b": [1]}}, {"c": [1]}]}', {"a": ["x", {"b": 1}]}, True),
        ('{"a": ["x"], "$or": [{"a": {"b": [1]}}, {"c": [1]}]}', {"a": [["x"], [{"b": 1}]]}, False),
        # empty arrays and null elements
        ('{"a": [{"exists": true}]}', {"a": []}, False),
        ('{"a": [{"exists": false}]}', {"a": []}, True),
        ('{"a": [null]}', {"a": [None, {"b": 1}]}, True),
        ('{"a": {"b": [{"exists": false}]}}', {"a": [None, 1]}, True),
        # $or inside an array element: each alternative is matched within one element too
        ('{"a": {"$or": [{"b": ["x"]}, {"c": ["y"]}], "d": [1]}}', {"a": [{"b": "x"}, {"c": "y", "d": 1}]}, True),
        ('{"a": {"$or": [{"b": ["x"]}, {"c": ["y"]}], "d": [1]}}', {"a": [{"b": "x"}, {"c": "z", "d": 1}]}, False),
        # a path written twice: the later write replaces the earlier one in that alternative
        ('{"a": ["x"], "$or": [{"a": ["y"]}, {"b": ["z"]}]}', {"a": "y"}, True),
        ('{"$or": [{"a": ["y"]}, {"b": ["z"]}], "a": ["x"]}', {"a": "y"}, False),
        # a nested object given twice merges (its fields are different paths)
        ('{"a": {"b": ["x"]}, "a": {"c": ["y"]}}', {"a": {"b": "x"}}, False),
    ],
)
def test_arrays_and_absent_fields_as_event_ruler_matches_them(pattern: str, record: dict[str, Any],
                                                              expected: bool) -> None:  # fmt: skip
    assert model_matches(pattern, record) is expected  # the model says so...
    assert FilterCriteria([pattern]).matches(record) is expected  # ...and so does the engine


def test_typed_lists_of_maps_without_the_field() -> None:
    # The DynamoDB form: lines that have no note.
    lines = {"L": [{"M": {"sku": {"S": "A-1"}}}, {"M": {"sku": {"S": "B-2"}}}]}
    record = {"dynamodb": {"NewImage": {"lines": lines}}}
    note = {"dynamodb": {"NewImage": {"lines": {"L": {"M": {"note": {"S": [{"exists": True}]}}}}}}}
    assert not FilterCriteria([note]).matches(record)
    missing = {"dynamodb": {"NewImage": {"lines": {"L": {"M": {"note": [{"exists": False}]}}}}}}
    assert FilterCriteria([missing]).matches(record)
    (reason,) = FilterCriteria([note]).explain(record).reasons
    assert reason == 'filter 1: dynamodb.NewImage.lines.L.M.note.S is no value, which is not [{"exists": true}]'


def test_explain_says_when_fields_match_only_in_different_elements() -> None:
    criteria = FilterCriteria(['{"a": {"b": ["x"], "c": ["y"]}}'])
    (reason,) = criteria.explain({"a": [{"b": "x"}, {"c": "y"}]}).reasons
    assert reason.startswith('filter 1: a.c is "y"; a value that is ["y"] is there, but not in the same array element')


# -- fuzzers: patterns -------------------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
JSONISH = st.recursive(
    JSON_SCALARS | st.decimals(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10,
)
JSON_TEXTS = st.recursive(  # json.dumps writes NaN and Infinity for floats: texts that are not JSON
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10,
).map(json.dumps)
ODD_TEXT = st.sampled_from([
    '{"a": [1e999999999999999999999]}', '{"a": [NaN]}', '{"a": [Infinity]}', '{"a": [-1e400]}',
    '{"a": [{"numeric": [">", 1e999999999999999999999]}]}', '{"a": [{"numeric": ["<", 1e-999999999999999999999]}]}',
    '{"a": [{"numeric": [">", 0e99999999999999999999999]}]}', '{"\\ud800": ["\\udc00"]}', '{"a": [' + "9" * 4000 + "]}",
    "[" * 2000 + "]" * 2000, '{"a":' * 700 + "[1]" + "}" * 700, '{"$or": [{"numeric": [1]}, {"b": [1]}]}',
])  # fmt: skip


@FUZZ
@given(text=st.text(max_size=40) | ODD_TEXT | JSON_TEXTS | PATTERNS.map(lambda p: p.replace("1", "1e9999")))
def test_fuzz_pattern_text_gives_criteria_or_a_pattern_error(text: str) -> None:
    try:
        criteria = FilterCriteria([text])
    except FilterPatternError as exc:
        message = str(exc)
        assert message.startswith("Invalid filter pattern definition. ")
        message.encode("utf-8")  # printable: no lone surrogate
        return
    assert len(criteria) == 1
    assert isinstance(criteria.matches({"a": 1}), bool)


@FUZZ
@given(pattern=JSONISH | st.dictionaries(st.text(max_size=3), JSONISH, max_size=3))
def test_fuzz_pattern_dicts_give_criteria_or_a_pattern_error(pattern: Any) -> None:
    if not isinstance(pattern, dict):
        pattern = {"a": pattern}
    try:
        FilterCriteria([pattern])
    except FilterPatternError as exc:
        str(exc).encode("utf-8")


def test_odd_patterns_are_refused_with_the_place() -> None:
    cases = {
        '{"a": [1e999999999999999999999]}': r"In filter 1, a\[0\]: 1e999999999999999999999 is beyond the range",
        '{"a": [{"numeric": [">", 1e999999999999999999999]}]}': r"In filter 1, a\[0\]\.numeric\[1\]: numeric values",
        '{"a": [NaN]}': r"In filter 1: the pattern is not valid JSON: NaN is not JSON \(line 1, column 8\)$",
        '{"a":' * 200 + "[1]" + "}" * 200: r"In filter 1, a\.a\.a.*: the pattern nests more than 128 levels deep",
        "[" * 2000 + "]" * 2000: r"In filter 1: the pattern cannot be read: nested too deeply",
        '{"$or": [{"prefix": ["x"]}, {"b": [1]}]}': r"In filter 1, \$or\[0\]\.prefix: 'prefix' names an operator",
    }
    for text, message in cases.items():
        with pytest.raises(FilterPatternError, match=r"^Invalid filter pattern definition\. " + message):
            FilterCriteria([text])
    tiny = FilterCriteria(['{"a": [{"numeric": [">", 1e-999999999999999999999]}]}'])
    assert [tiny.matches({"a": number}) for number in (1, 0, -1)] == [True, False, False]


def test_odd_pattern_dicts_are_refused_with_the_place() -> None:
    deep: dict[str, Any] = {}
    place = deep
    for _ in range(3000):
        place["a"] = {}
        place = place["a"]
    cycle: dict[str, Any] = {"a": []}
    cycle["a"].append(cycle)
    cases: list[tuple[dict[str, Any], str]] = [
        (deep, r"In filter 1, a\.a\.a.*: the pattern nests more than 128 levels deep"),
        ({"a": [float("nan")]}, r"In filter 1, a\[0\]: nan is not a JSON number"),
        ({"a": [Decimal("Infinity")]}, r"In filter 1, a\[0\]: Infinity is not a JSON number"),
        ({"a": [object()]}, r"In filter 1, a\[0\]: a object has no JSON form"),
        ({"a": [10**5000]}, r"In filter 1, a\[0\]: the integer has too many digits"),
        ({"a": {3: [1]}}, r"In filter 1, a: a field name must be a string, got a number"),
        (cycle, r"In filter 1, a\[0\]: the pattern contains itself"),
    ]
    for pattern, message in cases:
        with pytest.raises(FilterPatternError, match=r"^Invalid filter pattern definition\. " + message):
            FilterCriteria([pattern])
    shared = ["x"]
    assert FilterCriteria([{"a": shared, "b": shared}]).matches({"a": "x", "b": "x"})  # shared, not a cycle
    exact = FilterCriteria([{"n": [Decimal("12.50")], "s": {"x"}}])  # exact Decimals; a set is an array
    assert exact.matches({"n": Decimal("12.50"), "s": "x"})
    assert not exact.matches({"n": Decimal("12.5"), "s": "x"})


def test_pattern_length_and_alternatives_are_bounded() -> None:
    alternatives = '{"$or": [{"a": [1]}, {"b": [1]}], "c": {"$or": [{"a": [1]}, {"b": [1]}]}}'
    parallel = "{" + ", ".join(f'"f{index}": {{"$or": [{{"a": [1]}}, {{"b": [1]}}]}}' for index in range(11)) + "}"
    assert FilterCriteria([alternatives]).matches({"b": 1, "c": {"a": 1}})
    with pytest.raises(FilterPatternError, match=r"^Invalid filter pattern definition\. In filter 1: the pattern "
                                                 r"combines into more combinations of \$or alternatives than the"
                                                 r" 1024 shardline matches"):  # fmt: skip
        FilterCriteria([parallel])
    # Twelve fields that may be null or missing: 4096 alternatives, of which a record leaves one to walk.
    mixed = "{" + ", ".join(f'"f{index}": [null, {{"exists": false}}]' for index in range(12)) + "}"
    assert FilterCriteria([mixed]).matches({"f0": None, "f3": None})
    assert not FilterCriteria([mixed]).matches({"f0": None, "f3": 1})
    with pytest.raises(
        FilterPatternError, match=r"combines into 8192 alternatives, more than the 4096 shardline matches"
    ):
        FilterCriteria(["{" + ", ".join(f'"f{index}": [null, {{"exists": false}}]' for index in range(13)) + "}"])


# -- fuzzers: records --------------------------------------------------------------------------------------------


class Weird:
    def __repr__(self) -> str:
        return "Weird()"


class BrokenMapping(dict):  # type: ignore[type-arg]
    """A mapping whose items cannot be read."""

    def items(self) -> Any:
        raise RuntimeError("\ud800 broken")

    def keys(self) -> Any:
        raise RuntimeError("\ud800 broken")

    def __iter__(self) -> Any:
        raise RuntimeError("\ud800 broken")


ODD_SCALARS = st.sampled_from([
    float("nan"), float("inf"), Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+999999999"),
    -(10**100), b"\x00\x01", bytearray(b"ab"), Weird(), "\ud800", 1 + 2j, (), frozenset(), Decimal("12.50"),
])  # fmt: skip
BIG_INTS = st.builds(pow, st.sampled_from([10, -10]), st.just(5000))  # beyond 4300 digits: built, as repr fails


def python_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Lists, tuples, frozensets and dicts of ``inner``: what a record built in Python may hold."""
    return (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.frozensets(RECORD_SCALARS, max_size=3)
        | st.dictionaries(NAMES, inner, max_size=3)
    )


ODD_VALUES = st.recursive(RECORD_SCALARS | ODD_SCALARS | BIG_INTS, python_containers, max_leaves=10)
ODD_RECORDS = st.dictionaries(NAMES, ODD_VALUES, max_size=3) | ODD_VALUES


@FUZZ
@given(pattern=PATTERNS, record=ODD_RECORDS)
def test_fuzz_records_give_an_answer_or_an_event_shape_error(pattern: str, record: Any) -> None:
    criteria = FilterCriteria([pattern])
    matched = returns_or_raises_shardline_error(lambda: criteria.matches(record))
    if matched is None:
        with pytest.raises(EventShapeError):  # the one error a record can cause
            criteria.matches(record)
        with pytest.raises(EventShapeError, match=r"^Records\[1\]"):
            criteria.filter({"Records": [{}, record]})
        return
    kept = criteria.filter({"Records": [record, record]})
    assert len(kept["Records"]) == (2 if matched else 0)
    # explain reads more of the record than matches, which stops at the first answer: it may meet a value with
    # no JSON form that matches never reached. When it answers, it answers the same.
    explained = returns_or_raises_shardline_error(lambda: criteria.explain(record))
    if explained is None:
        with pytest.raises(EventShapeError):
            criteria.explain(record)
        return
    assert explained.matched is matched
    str(explained).encode("utf-8")  # printable: no lone surrogate


JSON_VIEW_VALUES = st.recursive(
    RECORD_SCALARS | st.sampled_from([b"\x00x", Decimal("1.5"), Decimal("2")]), python_containers, max_leaves=10
)
PATTERNS_ON_BASE64 = st.sampled_from(['{"a": ["AHg="]}', '{"a": {"b": [1.5]}}', '{"b": [2, {"prefix": "AH"}]}'])


@FUZZ
@given(pattern=PATTERNS | PATTERNS_ON_BASE64, record=st.dictionaries(NAMES, JSON_VIEW_VALUES, max_size=3))
def test_fuzz_python_values_match_as_the_json_shardline_writes_for_them(pattern: str, record: dict[str, Any]) -> None:
    criteria = FilterCriteria([pattern])
    as_json = json_loads(json_dumps(record), parse_float=Decimal)
    assert criteria.matches(record) is criteria.matches(as_json)


def test_records_that_are_not_json() -> None:
    criteria = FilterCriteria(['{"a": {"b": [{"exists": true}]}}', '{"c": [{"exists": false}]}'])
    cases: list[tuple[Any, str]] = [
        ([1], r"^a stream record must be an object, got an array$"),
        ({"a": {"b": float("nan")}}, r"^a\.b: nan is not a JSON number"),
        ({"a": [{"b": [Decimal("NaN")]}, {"b": 1}]}, r"^a\[0\]\.b\[0\]: NaN is not a JSON number"),
        ({"a": {"b": Weird()}}, r"^a\.b: a Weird has no JSON form"),
        ({"a": BrokenMapping()}, r"^a: cannot be read as JSON \(RuntimeError: \\ud800 broken\)$"),
    ]
    for record, message in cases:
        with pytest.raises(EventShapeError, match=message):
            criteria.matches(record)
        with pytest.raises(EventShapeError, match=message):
            criteria.explain(record)
    event = {"Records": [{"c": 1}, {"a": {"b": float("inf")}}]}
    with pytest.raises(EventShapeError, match=r"^Records\[1\]\.a\.b: inf is not a JSON number"):
        criteria.filter(event)
    with pytest.raises(EventShapeError, match=r'^Records: the event has no "Records" array'):
        criteria.filter({"records": []})
    # values the pattern does not look at are not checked: the cost follows the pattern, not the record
    assert criteria.matches({"a": {"b": 1}, "z": float("nan")})


def test_python_values_read_as_their_json() -> None:
    criteria = FilterCriteria(['{"B": ["AAE="], "tags": ["x"], "n": [12.50], "big": [{"numeric": [">", 5]}]}'])
    record = {"B": b"\x00\x01", "tags": frozenset({"x", "y"}), "n": Decimal("12.50"), "big": 10**5000}
    assert criteria.matches(record)
    assert criteria.matches({**record, "tags": ("y", "x")})
    assert not criteria.matches({**record, "big": -(10**5000)})
    assert not FilterCriteria(['{"big": [1]}']).matches({"big": 10**5000})


def test_arrays_read_from_tuples_are_all_visited() -> None:
    # Arrays made on the fly from tuples are kept while a walk lasts: a freed one's id, reused by the next,
    # must not make the walk skip it as already seen.
    record = {"a": [(({"b": index},),) for index in range(200)] + [(({"b": "x"},),)]}
    assert FilterCriteria(['{"a": {"b": ["x"]}}']).matches(record)
    assert FilterCriteria(['{"a": {"b": ["x"], "c": [{"exists": false}]}}']).matches(record)


def test_deeply_nested_records_and_cycles_do_not_recurse() -> None:
    deep: list[Any] = [{"b": "x"}]
    for _ in range(50_000):
        deep = [deep]
    criteria = FilterCriteria(['{"a": {"b": ["x"]}}', '{"c": [{"exists": false}], "d": [1]}'])
    assert criteria.matches({"a": deep})
    looped: list[Any] = []
    looped.append(looped)
    assert not criteria.matches({"a": looped})
    assert criteria.explain({"a": looped}).reasons[0] == 'filter 1: a.b is no value, which is not ["x"]'


def test_errors_are_shardline_errors_and_value_errors() -> None:
    for error in (FilterPatternError, EventShapeError):
        assert issubclass(error, ShardlineError)
        assert issubclass(error, ValueError)
