"""FilterCriteria: Lambda's event filtering for DynamoDB stream records ("Lambda event filtering")."""

from __future__ import annotations

import copy
import json
import pickle
import re
from decimal import Decimal
from typing import Any

import pytest
from _recorded import load
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shardline import FilterCriteria, FilterPatternError

TTL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

RECORD: dict[str, Any] = {
    "eventID": "c81e728d9d4c2f636f067f89cc14862c",
    "eventName": "MODIFY",
    "eventVersion": "1.1",
    "eventSource": "aws:dynamodb",
    "awsRegion": "us-east-1",
    "dynamodb": {
        "ApproximateCreationDateTime": 1428537600,
        "Keys": {"Id": {"N": "101"}},
        "NewImage": {
            "Id": {"N": "101"},
            "Message": {"S": "This item has changed"},
            "status": {"S": "PAID"},
            "qty": {"N": "300"},
            "price": {"N": "12.50"},
            "empty": {"S": ""},
            "active": {"BOOL": True},
            "note": {"NULL": True},
            "tags": {"SS": ["gift", "express"]},
            "scores": {"NS": ["1", "2.5"]},
            "address": {"M": {"city": {"S": "Springfield"}, "zip": {"S": "12345"}}},
            "lines": {"L": [{"M": {"sku": {"S": "A-1"}}}, {"M": {"sku": {"S": "B-2"}}}]},
        },
        "OldImage": {"Id": {"N": "101"}, "Message": {"S": "New item!"}, "status": {"S": "NEW"}},
        "SequenceNumber": "4421584500000000017450439092",
        "SizeBytes": 59,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    },
    "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2015-06-27T00:48:05.899",
    "plain": {"count": 300, "ratio": 0.5, "flag": False, "nothing": None, "list": [1, "two", [3]]},
}
TTL_RECORD = {**copy.deepcopy(RECORD), "eventName": "REMOVE", "userIdentity": TTL}


def new(attributes: dict[str, Any]) -> dict[str, Any]:
    return {"dynamodb": {"NewImage": attributes}}


def recorded(name: str) -> list[tuple[str, dict[str, Any], dict[str, Any], bool]]:
    """The cases of a filter scenario recorded on AWS (tests/fixtures/aws-recorded/<name>.json): its pattern, each
    record written, and whether Lambda delivered it."""
    fixture = load(name)
    pattern = fixture["settings"]["FilterCriteria"]
    records = fixture["inputs"]["records"]
    return [
        (
            f"{name} (recorded on AWS) #{index + 1}",
            pattern,
            {"eventName": record["eventName"], "eventSource": "aws:dynamodb", **new(record["NewImage"])},
            delivered,
        )
        for index, (record, delivered) in enumerate(zip(records, fixture["outcome"]["delivered"], strict=True))
    ]


CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # exact values
    ("event name", {"eventName": ["MODIFY"]}, RECORD, True),
    ("event name, one of", {"eventName": ["INSERT", "MODIFY"]}, RECORD, True),
    ("event name, wrong", {"eventName": ["INSERT"]}, RECORD, False),
    ("case matters", {"eventName": ["modify"]}, RECORD, False),
    ("event source", {"eventSource": ["aws:dynamodb"]}, RECORD, True),
    ("string attribute", new({"status": {"S": ["PAID"]}}), RECORD, True),
    ("string attribute, other", new({"status": {"S": ["NEW"]}}), RECORD, False),
    ("old image", {"dynamodb": {"OldImage": {"status": {"S": ["NEW"]}}}}, RECORD, True),
    ("key", {"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}, RECORD, True),
    ("missing type key never matches", new({"status": ["PAID"]}), RECORD, False),
    ("wrong type key", new({"status": {"N": ["PAID"]}}), RECORD, False),
    ("N as a string matches", new({"qty": {"N": ["300"]}}), RECORD, True),
    ("N as a number does not", new({"qty": {"N": [300]}}), RECORD, False),
    ("N text exactly", new({"price": {"N": ["12.5"]}}), RECORD, False),
    ("N text exactly, as written", new({"price": {"N": ["12.50"]}}), RECORD, True),
    ("empty string", new({"empty": {"S": [""]}}), RECORD, True),
    ("empty string vs text", new({"status": {"S": [""]}}), RECORD, False),
    ("boolean", new({"active": {"BOOL": [True]}}), RECORD, True),
    ("boolean false", new({"active": {"BOOL": [False]}}), RECORD, False),
    ("NULL attribute", new({"note": {"NULL": [True]}}), RECORD, True),
    ("null matches null", {"plain": {"nothing": [None]}}, RECORD, True),
    ("null does not match a missing field", {"plain": {"absent": [None]}}, RECORD, False),
    ("null does not match a value", {"plain": {"count": [None]}}, RECORD, False),
    ("number exact", {"plain": {"count": [300]}}, RECORD, True),
    ("number text differs: 300.0", {"plain": {"count": [300.0]}}, RECORD, False),
    ("number text differs: 3.0e2", {"plain": {"count": [3.0e2]}}, RECORD, False),
    ("number vs string", {"plain": {"count": ["300"]}}, RECORD, False),
    ("float exact", {"plain": {"ratio": [0.5]}}, RECORD, True),
    ("false is not 0", {"plain": {"flag": [0]}}, RECORD, False),
    ("false", {"plain": {"flag": [False]}}, RECORD, True),
    # arrays in the record
    ("string set element", new({"tags": {"SS": ["express"]}}), RECORD, True),
    ("string set, no element", new({"tags": {"SS": ["fragile"]}}), RECORD, False),
    ("number set element as text", new({"scores": {"NS": ["2.5"]}}), RECORD, True),
    ("plain array element", {"plain": {"list": ["two"]}}, RECORD, True),
    ("nested array element", {"plain": {"list": [3]}}, RECORD, True),
    ("list of maps flattens", new({"lines": {"L": {"M": {"sku": {"S": ["B-2"]}}}}}), RECORD, True),
    ("list of maps, absent", new({"lines": {"L": {"M": {"sku": {"S": ["C-3"]}}}}}), RECORD, False),
    ("nested map", new({"address": {"M": {"city": {"S": ["Springfield"]}}}}), RECORD, True),
    # prefix, suffix, equals-ignore-case
    ("prefix", new({"Message": {"S": [{"prefix": "This"}]}}), RECORD, True),
    ("prefix, no", new({"Message": {"S": [{"prefix": "this"}]}}), RECORD, False),
    ("suffix", new({"Message": {"S": [{"suffix": "changed"}]}}), RECORD, True),
    ("suffix, no", new({"Message": {"S": [{"suffix": "change"}]}}), RECORD, False),
    ("prefix on a number field is no", {"plain": {"count": [{"prefix": "3"}]}}, RECORD, False),
    ("equals-ignore-case", new({"status": {"S": [{"equals-ignore-case": "paid"}]}}), RECORD, True),
    ("equals-ignore-case, no", new({"status": {"S": [{"equals-ignore-case": "paied"}]}}), RECORD, False),
    # anything-but
    ("anything-but, other value", new({"status": {"S": [{"anything-but": ["NEW", "CANCELLED"]}]}}), RECORD, True),
    ("anything-but, that value", new({"status": {"S": [{"anything-but": ["PAID"]}]}}), RECORD, False),
    ("anything-but, single value", {"eventName": [{"anything-but": "REMOVE"}]}, RECORD, True),
    ("anything-but, missing field", new({"absent": {"S": [{"anything-but": "x"}]}}), RECORD, False),
    ("anything-but on a set: any element", new({"tags": {"SS": [{"anything-but": "gift"}]}}), RECORD, True),
    # numeric
    ("numeric on N never matches", new({"qty": {"N": [{"numeric": [">", 100]}]}}), RECORD, False),
    (
        "numeric on the creation time",
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">=", 1428537600]}]}},
        RECORD,
        True,
    ),
    ("numeric range", {"plain": {"count": [{"numeric": [">", 100, "<=", 300]}]}}, RECORD, True),
    ("numeric range, outside", {"plain": {"count": [{"numeric": [">", 300, "<", 400]}]}}, RECORD, False),
    ("numeric equals", {"plain": {"count": [{"numeric": ["=", 300.0]}]}}, RECORD, True),
    ("numeric on a float", {"plain": {"ratio": [{"numeric": ["<", 1]}]}}, RECORD, True),
    ("numeric never on booleans", {"plain": {"flag": [{"numeric": ["=", 0]}]}}, RECORD, False),
    # N "42" passes through anything-but (text), N "101" through neither: numeric never sees N's strings.
    *recorded("filter-numeric-or-anything-but-on-n"),
    # exists
    ("exists on a leaf", new({"status": {"S": [{"exists": True}]}}), RECORD, True),
    ("exists on a missing attribute", new({"absent": {"S": [{"exists": True}]}}), RECORD, False),
    ("exists false on a missing attribute", new({"absent": [{"exists": False}]}), RECORD, True),
    ("exists false on a map (leaves only)", new({"address": [{"exists": False}]}), RECORD, True),
    # An attribute is a typed value ({"S": ...}), an object: exists false on it matches whether it is there or not.
    *recorded("filter-exists-false-on-a-map"),
    ("exists true on a map (leaves only)", new({"address": [{"exists": True}]}), RECORD, False),
    ("exists false on a present leaf", new({"status": {"S": [{"exists": False}]}}), RECORD, False),
    ("exists on null", {"plain": {"nothing": [{"exists": True}]}}, RECORD, True),
    ("exists false below a missing object", {"nowhere": {"deep": [{"exists": False}]}}, RECORD, True),
    # AND, OR, $or
    (
        "fields are ANDed",
        {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["NEW"]}}}},
        RECORD,
        False,
    ),
    ("fields are ANDed, all match", {"eventName": ["MODIFY"], "awsRegion": ["us-east-1"]}, RECORD, True),
    (
        "$or, one alternative",
        {
            "$or": [
                {"eventName": ["INSERT"]},
                new({"status": {"S": ["PAID"]}})["dynamodb"]
                and {"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}},
            ]
        },
        RECORD,
        True,
    ),
    ("$or, none", {"$or": [{"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]}]}, RECORD, False),
    ("$or inside a field", {"dynamodb": {"$or": [{"Keys": {"Id": {"N": ["7"]}}}, {"SizeBytes": [59]}]}}, RECORD, True),
    (
        "$or and a field",
        {"eventName": ["MODIFY"], "$or": [{"awsRegion": ["eu-west-1"]}, {"awsRegion": ["us-east-1"]}]},
        RECORD,
        True,
    ),
    # TTL deletes
    (
        "TTL deletes only",
        {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}},
        TTL_RECORD,
        True,
    ),
    ("TTL deletes only, a user write", {"userIdentity": {"type": ["Service"]}}, RECORD, False),
    (
        "everything but TTL deletes",
        {"userIdentity": {"principalId": [{"anything-but": "dynamodb.amazonaws.com"}]}},
        TTL_RECORD,
        False,
    ),
    # userIdentity is an object and exists looks at leaves only: this does NOT keep TTL deletes out...
    ("exists false on the userIdentity object", {"userIdentity": [{"exists": False}]}, TTL_RECORD, True),
    # ...naming one of its leaves does.
    ("user deletes only", {"eventName": ["REMOVE"], "userIdentity": {"type": [{"exists": False}]}}, TTL_RECORD, False),
    ("writes without userIdentity pass", {"userIdentity": [{"exists": False}]}, RECORD, True),
]


@pytest.mark.parametrize(("pattern", "record", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_pattern_cases(pattern: dict[str, Any], record: dict[str, Any], expected: bool) -> None:
    criteria = FilterCriteria({"Filters": [{"Pattern": json.dumps(pattern)}]})
    assert criteria.matches(record) is expected
    assert criteria.explain(record).matched is expected


def test_there_are_at_least_sixty_cases() -> None:
    assert len(CASES) + len(INVALID) >= 60


# Every numeric operator at, just below and just above each bound ("Lambda event filtering": numeric matching).
# 10.0 is the bound's value written as a float: numeric compares values, not text.
NUMERIC: list[tuple[list[Any], list[tuple[float, bool]]]] = [
    (["=", 10], [(9.99, False), (10, True), (10.0, True), (10.01, False)]),
    (["<", 10], [(9.99, True), (10, False), (10.0, False), (10.01, False)]),
    (["<=", 10], [(9.99, True), (10, True), (10.0, True), (10.01, False)]),
    ([">", 10], [(9.99, False), (10, False), (10.0, False), (10.01, True)]),
    ([">=", 10], [(9.99, False), (10, True), (10.0, True), (10.01, True)]),
    (["<=", -1.5], [(-1.51, True), (-1.5, True), (-1.49, False)]),
    ([">", -1.5], [(-1.51, False), (-1.5, False), (-1.49, True)]),
    ([">", 10, "<", 20], [(9.99, False), (10, False), (10.01, True), (19.99, True), (20, False), (20.01, False)]),
    ([">=", 10, "<", 20], [(9.99, False), (10, True), (10.01, True), (19.99, True), (20, False), (20.01, False)]),
    ([">", 10, "<=", 20], [(9.99, False), (10, False), (10.01, True), (19.99, True), (20, True), (20.01, False)]),
    ([">=", 10, "<=", 20], [(9.99, False), (10, True), (10.01, True), (19.99, True), (20, True), (20.01, False)]),
    # The upper bound first:
    (["<", 20, ">=", 10], [(9.99, False), (10, True), (10.01, True), (19.99, True), (20, False), (20.01, False)]),
    ([">=", 10, "<=", 10], [(9.99, False), (10, True), (10.01, False)]),  # a range of one value
]
NUMERIC_CASES = [(operands, value, matched) for operands, table in NUMERIC for value, matched in table]


@pytest.mark.parametrize(
    ("operands", "value", "matched"),
    NUMERIC_CASES,
    ids=[f"{' '.join(map(str, operands))} on {value!r}" for operands, value, _ in NUMERIC_CASES],
)
def test_numeric_operators_at_and_beside_each_bound(operands: list[Any], value: float, matched: bool) -> None:
    criteria = FilterCriteria([{"plain": {"v": [{"numeric": operands}]}}])
    assert criteria.matches({"plain": {"v": value}}) is matched
    # On a DynamoDB stream the same operators compare ApproximateCreationDateTime (a JSON number)...
    at = {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": operands}]}}
    assert FilterCriteria([at]).matches({"dynamodb": {"ApproximateCreationDateTime": value}}) is matched
    # ...and never an N attribute, whose value is a string.
    assert not FilterCriteria([new({"v": {"N": [{"numeric": operands}]}})]).matches(new({"v": {"N": str(value)}}))


def test_the_numeric_table_covers_every_operator_and_range() -> None:
    single = {operands[0] for operands, _ in NUMERIC if len(operands) == 2}
    ranges = {(operands[0], operands[2]) for operands, _ in NUMERIC if len(operands) == 4}
    assert single == {"=", "<", "<=", ">", ">="}
    assert {(">", "<"), (">=", "<"), (">", "<="), (">=", "<=")} <= ranges


INVALID: list[tuple[str, str, str]] = [
    ("not JSON", "{", r"the pattern is not valid JSON: Expecting property name"),
    ("an array", "[1]", r"a pattern must be a JSON object, got an array"),
    ("empty object", "{}", r"a pattern must name at least one field"),
    ("scalar leaf", '{"eventName": "INSERT"}', r"In filter 1, eventName: a field's value must be an array"),
    ("empty array", '{"eventName": []}', r"eventName: an empty array matches nothing"),
    ("nested array", '{"eventName": [["INSERT"]]}', r"eventName\[0\]: arrays cannot be nested"),
    ("wildcard", '{"a": [{"wildcard": "x*"}]}', r"a\[0\]\.wildcard: the 'wildcard' operator is not supported"),
    ("cidr", '{"a": [{"cidr": "10.0.0.0/24"}]}', r"the 'cidr' operator is not supported"),
    ("unknown operator", '{"a": [{"begins-with": "x"}]}', r"unknown operator 'begins-with'"),
    ("two keys", '{"a": [{"prefix": "x", "suffix": "y"}]}', r"an operator object has exactly one key, got 2"),
    ("prefix number", '{"a": [{"prefix": 1}]}', r"prefix takes a string, got a number"),
    ("exists string", '{"a": [{"exists": "yes"}]}', r'exists takes true or false, got "yes"'),
    ("anything-but with prefix", '{"a": [{"anything-but": {"prefix": "x"}}]}', r"anything-but with an operator"),
    ("anything-but empty", '{"a": [{"anything-but": []}]}', r"anything-but takes a value or a non-empty array"),
    ("anything-but null", '{"a": [{"anything-but": [null]}]}', r"a\[0\]\.anything-but\[0\]: anything-but takes"),
    ("numeric bad op", '{"a": [{"numeric": ["!=", 1]}]}', r'numeric operator "!=" is not one of'),
    ("numeric string", '{"a": [{"numeric": [">", "1"]}]}', r"numeric compares with a number, got a string"),
    ("numeric shape", '{"a": [{"numeric": [">"]}]}', r'numeric takes \["<op>", number\]'),
    ("numeric two lower bounds", '{"a": [{"numeric": [">", 1, ">=", 2]}]}', r"one lower bound"),
    ("numeric empty range", '{"a": [{"numeric": [">", 5, "<", 1]}]}', r"the numeric range is empty"),
    ("numeric = in range", '{"a": [{"numeric": ["=", 5, "<", 9]}]}', r'"=" cannot be part of a numeric range'),
    ("numeric too big", '{"a": [{"numeric": [">", 6e9]}]}', r"between -5.0e9 and 5.0e9, got 6e9"),
    ("$or of one", '{"$or": [{"a": [1]}]}', r"\$or: \$or takes an array of at least two pattern objects"),
    ("$or not objects", '{"$or": [1, 2]}', r"\$or takes an array of at least two pattern objects"),
    (
        "deep place",
        '{"dynamodb": {"NewImage": {"s": {"S": [{"prefix": 2}]}}}}',
        r"dynamodb\.NewImage\.s\.S\[0\]\.prefix",
    ),
]


@pytest.mark.parametrize(("text", "message"), [case[1:] for case in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_patterns_are_refused_with_aws_words_and_the_place(text: str, message: str) -> None:
    with pytest.raises(FilterPatternError, match=r"^Invalid filter pattern definition\. ") as info:
        FilterCriteria([text])
    assert re.search(message, str(info.value)), str(info.value)


def test_limits_on_filters_and_pattern_size() -> None:
    pattern = '{"eventName": ["INSERT"]}'
    FilterCriteria([pattern] * 5)
    with pytest.raises(FilterPatternError, match=r"6 filters, more than the 5 allowed \(AWS allows up to 10"):
        FilterCriteria([pattern] * 6)
    assert len(FilterCriteria([pattern] * 10, max_filters=10)) == 10
    with pytest.raises(ValueError, match=r"^max_filters must be between 1 and 10"):
        FilterCriteria([pattern], max_filters=11)
    long = '{"a": ["' + "x" * 4090 + '"]}'
    with pytest.raises(FilterPatternError, match=r"In filter 2: the pattern is 4101 characters, more than the 4096"):
        FilterCriteria([pattern, long])


def test_the_mapping_shape_is_checked() -> None:
    with pytest.raises(FilterPatternError, match=r'FilterCriteria must be \{"Filters"'):
        FilterCriteria({"filters": []})
    with pytest.raises(FilterPatternError, match=r'In filter 1: each filter is \{"Pattern"'):
        FilterCriteria({"Filters": [{"pattern": "{}"}]})
    with pytest.raises(TypeError, match="a pattern is JSON text or a dict"):
        FilterCriteria([3])  # type: ignore[list-item]


def test_filters_are_ored_and_explained() -> None:
    criteria = FilterCriteria([{"eventName": ["INSERT"]}, {"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}])
    explanation = criteria.explain(RECORD)
    assert (explanation.matched, explanation.filter, str(explanation)) == (True, 1, "passes (filter 2)")
    dropped = criteria.explain({**RECORD, "dynamodb": {"NewImage": {"status": {"S": "NEW"}}}})
    assert dropped.reasons == [
        'filter 1: eventName is "MODIFY", which is not ["INSERT"]',
        'filter 2: dynamodb.NewImage.status.S is "NEW", which is not ["PAID"]',
    ]


def test_explain_names_a_map_where_a_leaf_was_expected() -> None:
    criteria = FilterCriteria([{"dynamodb": {"NewImage": {"address": [{"exists": True}]}}}])
    (reason,) = criteria.explain(RECORD).reasons
    assert reason.startswith("filter 1: dynamodb.NewImage.address is an object (exists and values look at leaves only)")


def test_filter_keeps_only_matching_records() -> None:
    event = {"Records": [RECORD, TTL_RECORD], "window": {"start": "x"}}
    kept = FilterCriteria([{"eventName": ["REMOVE"]}]).filter(event)
    assert kept == {"Records": [TTL_RECORD], "window": {"start": "x"}}
    assert event["Records"] == [RECORD, TTL_RECORD]  # the input is untouched


def test_duplicate_keys_last_one_wins_and_is_reported() -> None:
    criteria = FilterCriteria(['{"eventName": ["INSERT"], "eventName": ["MODIFY"]}'])
    assert criteria.matches(RECORD)
    assert criteria.duplicate_keys == ((0, "eventName"),)


def test_patterns_given_as_dicts_with_decimals() -> None:
    criteria = FilterCriteria([{"plain": {"ratio": [Decimal("0.5")], "count": [Decimal("300")]}}])
    assert criteria.matches(RECORD)


def test_records_parsed_with_decimal_numbers_match_by_text() -> None:
    record = json.loads(json.dumps(RECORD), parse_float=Decimal)
    assert FilterCriteria([{"plain": {"ratio": [0.5]}}]).matches(record)
    assert FilterCriteria([{"plain": {"ratio": [{"numeric": ["<", 1]}]}}]).matches(record)


def test_errors_pickle() -> None:
    with pytest.raises(FilterPatternError) as info:
        FilterCriteria(['{"a": "b"}'])
    copy_ = pickle.loads(pickle.dumps(info.value))
    assert (str(copy_), copy_.path, copy_.filter_index) == (str(info.value), "a", 0)


# -- properties --------------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "S", "N", "M"])
SCALARS = st.one_of(
    st.text(max_size=5),
    st.integers(-1000, 1000),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),  # Infinity is not JSON: no pattern can name it
)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                    max_leaves=12)  # fmt: skip
RECORDS = st.dictionaries(KEYS, JSON, min_size=1, max_size=4)


def leaves(value: Any, path: tuple[str, ...] = (), elements: tuple[tuple[int, int], ...] = ()) -> list[tuple[Any, ...]]:
    """(path without array indices, scalar, the array elements it lies in) for every leaf: the paths a pattern
    can name. The elements are (array, index) pairs, the array being the id of the list."""
    if isinstance(value, dict):
        return [leaf for name, item in value.items() for leaf in leaves(item, (*path, name), elements)]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value)
                for leaf in leaves(item, path, (*elements, (id(value), index)) if isinstance(item, (dict, list))
                                   else elements)]  # fmt: skip
    return [(path, value, elements)]


def one_element(chosen: list[tuple[Any, ...]]) -> bool:
    """Whether the leaves agree on the element of every array they share (event-ruler's array consistency)."""
    elements: dict[int, int] = {}
    for _, _, inside in chosen:
        for array, index in inside:
            if elements.setdefault(array, index) != index:
                return False
    return True


def pattern_from(chosen: list[tuple[Any, ...]]) -> dict[str, Any] | None:
    pattern: dict[str, Any] = {}
    for path, value, _ in chosen:
        node = pattern
        for name in path[:-1]:
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                return None  # a leaf and an object at one place: a pattern cannot say both
            node = child
        current = node.setdefault(path[-1], [])
        if not isinstance(current, list):
            return None
        current.append(value)
    return pattern


@settings(max_examples=300, deadline=None)
@given(record=RECORDS, data=st.data())
def test_a_pattern_of_a_records_own_leaves_matches_it(record: dict[str, Any], data: st.DataObject) -> None:
    available = [pair for pair in leaves(record) if pair[0]]
    assume(available)
    chosen = data.draw(st.lists(st.sampled_from(available), min_size=1, max_size=4))
    # Leaves from different elements of one array do not match together (event-ruler's array consistency).
    assume(one_element(chosen))
    pattern = pattern_from(chosen)
    assume(pattern is not None)
    assert FilterCriteria([pattern]).matches(record)  # type: ignore[list-item]


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(max_size=8), st.integers(-(10**6), 10**6)), other=st.text(max_size=3))
def test_anything_but_a_value_never_matches_that_value(value: Any, other: str) -> None:
    criteria = FilterCriteria([{"field": [{"anything-but": [value, other]}]}])
    assert not criteria.matches({"field": value})
    assert not criteria.matches({"field": [value]})


# -- issue 12: hardening -------------------------------------------------------------------------------------------


def lines_record(count: int, *, unnamed: int = 0) -> dict[str, Any]:
    """A record with ``count`` lines, only the last one a gift; ``unnamed`` more values nobody names."""
    lines = [
        {"M": {"sku": {"S": f"SKU-{index}"}, "gift": {"BOOL": False}, "note": {"S": "n"}}} for index in range(count)
    ]
    lines[-1] = {"M": {"sku": {"S": "SKU-LAST"}, "gift": {"BOOL": True}}}
    image = {"lines": {"L": lines}, "other": {"L": [{"S": "x"}] * unnamed}}
    return {"eventName": "MODIFY", "dynamodb": {"NewImage": image}}


LINES_PATTERN = {
    "dynamodb": {"NewImage": {"lines": {"L": {"M": {"sku": {"S": [{"prefix": "SKU-"}]}, "gift": {"BOOL": [True]},
                                                    "note": [{"exists": False}]}}}}}
}  # fmt: skip


def test_matching_work_grows_with_the_named_parts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Counted, not timed: every object the walk visits. One more line costs one more visit; a large part of
    # the record the pattern does not name costs nothing; explain costs a few walks, not one per field.
    import shardline._filters as filters

    visits = [0]
    walk = filters._walk_object

    def counting(node: Any, obj: Any) -> bool:
        visits[0] += 1
        return walk(node, obj)

    monkeypatch.setattr(filters, "_walk_object", counting)
    criteria = FilterCriteria([LINES_PATTERN])
    counts = {}
    for size, unnamed in ((500, 0), (1000, 0), (1000, 100_000)):
        record = lines_record(size, unnamed=unnamed)
        visits[0] = 0
        assert criteria.matches(record)
        matched = visits[0]
        record["dynamodb"]["NewImage"]["lines"]["L"][-1]["M"]["gift"]["BOOL"] = False
        visits[0] = 0
        assert not criteria.explain(record).matched
        counts[size, unnamed] = (matched, visits[0])
    assert counts[1000, 0][0] - counts[500, 0][0] == 500
    assert counts[1000, 100_000] == counts[1000, 0]
    assert counts[1000, 0][1] <= 2 * counts[500, 0][1] + 10
    assert counts[1000, 0][1] <= 6 * counts[1000, 0][0]


def test_the_issue_examples() -> None:
    # Item 1: a field absent from every element of an array contributes no value.
    record = {"a": [{"b": 1}, {"c": 2}]}
    exists = FilterCriteria(['{"a":{"d":[{"exists":true}]}}'])
    assert not exists.matches(record)
    assert exists.explain(record).reasons == ['filter 1: a.d is no value, which is not [{"exists": true}]']
    assert FilterCriteria(['{"a":{"d":[{"exists":false}]}}']).matches(record)
    assert not FilterCriteria(['{"a":{"d":[{"anything-but":"x"}]}}']).matches(record)
    # Item 2: refused with AWS's words and the place, never a decimal or recursion error.
    with pytest.raises(FilterPatternError, match=r"^Invalid filter pattern definition\. In filter 1, a\[0\]: "):
        FilterCriteria(['{"a":[1e999999999999999999999]}'])
    with pytest.raises(FilterPatternError, match=r"^Invalid filter pattern definition\. In filter 1: .*NaN is not"):
        FilterCriteria(['{"a":[NaN]}'])
    # Item 3: lone surrogates in a pattern and a record give a printable explanation.
    criteria = FilterCriteria(['{"\\ud800": ["\\udc00"]}'])
    text = str(criteria.explain({"\ud800": "\udfff"}))
    assert text == 'dropped: filter 1: ["\\ud800"] is "\\udfff", which is not ["\\udc00"]'
    text.encode("utf-8")


def test_the_benchmark_warms_up_before_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 17: with --runs 3 the first, slow run was a third of the samples: each case now runs once untimed.
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parent.parent / "benchmarks"))
    import bench_filters

    calls = []
    bench_filters.median_seconds(lambda: calls.append(len(calls)), 3)
    assert calls == [0, 1, 2, 3]
