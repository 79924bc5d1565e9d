"""Request AttributeValues and ConsumedCapacity: the endpoint's checks and arithmetic, without a server."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from conftest import refused
from hypothesis import given
from hypothesis import strategies as st

from shardline._attributes import item_size
from shardline.local._store import IndexSpec
from shardline.local.endpoint import _capacity, _values
from shardline.local.endpoint._protocol import DynamoDBError

# -- values --------------------------------------------------------------------------------------------


def test_item_is_normalised_as_the_store_keeps_it() -> None:
    image, size = _values.item(
        {
            "pk": {"S": "a"},
            "price": {"N": "12.50"},
            "big": {"N": "1.5E3"},
            "zero": {"N": "-0.000"},
            "ns": {"NS": ["3", "1.0", "2"]},
            "ss": {"SS": ["b", "a"]},
            "bs": {"BS": ["Ag==", "AQ=="]},
            "m": {"M": {"l": {"L": [{"N": "+007"}, {"NULL": True}, {"BOOL": False}]}}},
        }
    )
    assert image == {
        "pk": {"S": "a"},
        "price": {"N": "12.5"},
        "big": {"N": "1500"},
        "zero": {"N": "0"},
        "ns": {"NS": ["1", "2", "3"]},
        "ss": {"SS": ["a", "b"]},
        "bs": {"BS": ["AQ==", "Ag=="]},
        "m": {"M": {"l": {"L": [{"N": "7"}, {"NULL": True}, {"BOOL": False}]}}},
    }
    assert size == item_size(image)


@pytest.mark.parametrize(
    ("av", "message"),
    [
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported "
            "datatypes",
        ),
        (
            {"NS": []},
            "1 validation error detected: One or more parameter values were invalid: An number set  may not be empty",
        ),
        (
            {"SS": []},
            "1 validation error detected: One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            {"BS": []},
            "1 validation error detected: One or more parameter values were invalid: Binary sets should not be empty",
        ),
        ({"SS": ["a", "a"]}, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
        (
            {"NS": ["1", "1.0"]},
            "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates.",
        ),
        ({"N": "abc"}, "A value provided cannot be converted into a number"),
        ({"N": " 5"}, "A value provided cannot be converted into a number"),
        ({"N": "NaN"}, "A value provided cannot be converted into a number"),
        ({"N": "1E126"}, "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ({"N": "1E-131"}, "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
        ({"N": "1" * 39}, "Attempting to store more than 38 significant digits in a Number"),
        (
            {"NULL": False},
            "One or more parameter values were invalid: Null attribute value types must have the value of true",
        ),
    ],
)
def test_values_dynamodb_refuses(av: dict[str, Any], message: str) -> None:
    assert refused(lambda: _values.item({"x": av})).message == message


def test_wrong_json_types_are_serialization_errors() -> None:
    assert refused(lambda: _values.item({"x": {"N": 5}}), "SerializationException").message == (
        "NUMBER_VALUE cannot be converted to String"
    )
    assert refused(lambda: _values.item({"x": "a"}), "SerializationException").message == (
        "STRING_VALUE cannot be converted to AttributeValue"
    )
    assert refused(lambda: _values.item({"x": {"B": "abc"}}), "SerializationException").message.startswith(
        "Base64 encoded binary value is not valid"
    )


@pytest.mark.parametrize(
    ("av", "message"),
    [
        ({"S": {"a": 1}}, "Start of structure or map found where not expected."),
        ({"S": ["a"]}, "Start of list found where not expected"),
        ({"S": None}, "NULL_VALUE cannot be converted to String"),
        ({"N": True}, "TRUE_VALUE cannot be converted to String"),
        ({"M": []}, "Start of list found where not expected"),
        ({"L": {}}, "Start of structure or map found where not expected."),
        ({"BOOL": "true"}, "STRING_VALUE cannot be converted to Boolean"),
        ({"NULL": "x"}, "STRING_VALUE cannot be converted to Boolean"),
        ({"B": 1}, "NUMBER_VALUE cannot be converted to Blob"),
        ({"SS": "a"}, "STRING_VALUE cannot be converted to List"),
        ({"SS": ["a", 1]}, "NUMBER_VALUE cannot be converted to String"),
        ({"BS": [False]}, "FALSE_VALUE cannot be converted to Blob"),
        ({"S": "\ud800"}, "Invalid UTF-8 text: a string holds a lone surrogate"),
    ],
)
def test_a_value_of_the_wrong_json_kind_is_named_by_its_kind(av: dict[str, Any], message: str) -> None:
    """What a hand-written JSON client (or an SDK other than botocore, which checks types first) gets for a value
    of the wrong JSON kind: DynamoDB's deserializer names the JSON token it found and the type it wanted."""
    assert refused(lambda: _values.item({"pk": {"S": "a"}, "x": av}), "SerializationException").message == message


def test_nesting_beyond_32_levels_is_refused() -> None:
    av: dict[str, Any] = {"S": "deep"}
    for _ in range(31):
        av = {"M": {"a": av}}
    _values.item({"x": av})
    assert refused(lambda: _values.item({"x": {"L": [av]}})).message == "Nesting Levels have exceeded supported limits"


def test_trailing_zeros_beyond_38_digits_are_fine() -> None:
    image, _ = _values.item({"x": {"N": "1" + "0" * 40}})
    assert image["x"] == {"N": "1" + "0" * 40}


def test_keys() -> None:
    schema = {"pk": "S", "sk": "N"}
    assert _values.key({"sk": {"N": "01"}, "pk": {"S": "a"}}, schema) == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    mismatch = "The provided key element does not match the schema"
    assert refused(lambda: _values.key({"pk": {"S": "a"}}, schema)).message == mismatch
    assert refused(lambda: _values.key({"pk": {"S": "a"}, "sk": {"S": "1"}}, schema)).message == mismatch
    assert (
        refused(lambda: _values.key({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "b"}}, schema)).message == mismatch
    )
    assert refused(lambda: _values.key({"pk": {"S": ""}, "sk": {"N": "1"}}, schema)).message == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
        "empty string value. Key: pk"
    )
    assert refused(lambda: _values.key({"pk": {"S": "a" * 2049}, "sk": {"N": "1"}}, schema)).message == (
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
    )
    assert refused(lambda: _values.key({"pk": {"B": ""}}, {"pk": "B"})).message.endswith("empty binary value. Key: pk")
    assert refused(
        lambda: _values.key({"pk": {"S": "a"}, "sk": {"S": "b" * 1025}}, {"pk": "S", "sk": "S"})
    ).message == (
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit "
        "of 1024 bytes"
    )
    assert refused(lambda: _values.key(None, schema)).message == (
        "1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null"
    )


def test_item_keys() -> None:
    schema = {"pk": "S"}
    image, size = _values.item({"n": {"N": "1"}})
    assert refused(lambda: _values.key_of_item(image, size, schema)).message == (
        "One or more parameter values were invalid: Missing the key pk in the item"
    )
    image, size = _values.item({"pk": {"N": "1"}})
    assert refused(lambda: _values.key_of_item(image, size, schema)).message == (
        "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
    )
    image, size = _values.item({"pk": {"S": "a"}, "big": {"S": "x" * 409_600}})
    assert (
        refused(lambda: _values.key_of_item(image, size, schema)).message
        == "Item size has exceeded the maximum allowed size"
    )
    image, size = _values.item({"pk": {"S": "a"}, "big": {"S": "x" * (409_600 - 6)}})
    assert size == 409_600
    assert _values.key_of_item(image, size, schema) == {"pk": {"S": "a"}}


def test_expression_values_name_the_placeholder() -> None:
    assert _values.expression_values({":v": {"N": "1.50"}}) == {":v": {"N": "1.5"}}
    assert refused(lambda: _values.expression_values({})).message == "ExpressionAttributeValues must not be empty"
    assert refused(lambda: _values.expression_values({":a": {"S": "x"}, ":v": {}})).message == (
        "ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, must contain exactly one "
        "of the supported datatypes for key :v"
    )


def test_table_names() -> None:
    assert _values.table_name("Orders") == "Orders"
    assert _values.table_name("arn:aws:dynamodb:us-east-1:123456789012:table/Orders") == "Orders"
    assert refused(lambda: _values.table_name("ab")).message == (
        "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have "
        "length greater than or equal to 3"
    )
    assert refused(lambda: _values.table_name(None)).message.endswith("Member must not be null")


_SCALARS = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=5)),
    st.builds(
        lambda n: {"N": str(n)}, st.integers(-(10**40), 10**40) | st.decimals(allow_nan=False, allow_infinity=False)
    ),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(min_size=1, max_size=3), inner, max_size=3))
        | st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3))
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(min_size=1, max_size=4), _VALUES, max_size=4))
def test_accepted_items_are_sized_as_the_codec_sizes_them(raw: dict[str, Any]) -> None:
    try:
        image, size = _values.item(raw)
    except DynamoDBError:
        return
    assert size == item_size(image)
    assert _values.item(image) == (image, size)  # normalising twice changes nothing


# -- capacity -----------------------------------------------------------------------------------------


def test_read_and_write_units() -> None:
    assert _capacity.read_units(0, consistent=True) == 1.0
    assert _capacity.read_units(4096, consistent=True) == 1.0
    assert _capacity.read_units(4097, consistent=True) == 2.0
    assert _capacity.read_units(4097, consistent=False) == 1.0
    assert _capacity.read_units(100, consistent=False) == 0.5
    assert _capacity.read_units(100, consistent=True, factor=2) == 2.0
    assert _capacity.write_units(0) == 1.0
    assert _capacity.write_units(1024) == 1.0
    assert _capacity.write_units(1025) == 2.0
    assert _capacity.write_units(1025, factor=2) == 4.0


class _FakeTable:
    name = "T"
    key_schema: ClassVar[dict[str, str]] = {"pk": "S"}
    global_indexes: tuple[IndexSpec, ...] = (IndexSpec("g", {"gpk": "S"}, "KEYS_ONLY"),)
    local_indexes: tuple[IndexSpec, ...] = ()


def test_index_writes_follow_the_entry() -> None:
    spec = _FakeTable.global_indexes[0]
    keys = ("pk",)
    item = {"pk": {"S": "a"}, "gpk": {"S": "x"}, "big": {"S": "y" * 3000}}
    assert _capacity.index_write_units(None, {"pk": {"S": "a"}}, spec, keys) == 0.0  # sparse: not in the index
    assert _capacity.index_write_units(None, item, spec, keys) == 1.0  # KEYS_ONLY: a small entry
    assert _capacity.index_write_units(item, {**item, "big": {"S": "z"}}, spec, keys) == 0.0  # entry unchanged
    assert _capacity.index_write_units(item, {**item, "gpk": {"S": "w"}}, spec, keys) == 2.0  # key moved
    assert _capacity.index_write_units(item, None, spec, keys) == 1.0


def test_meter_renders_total_and_indexes() -> None:
    meter = _capacity.Meter("TOTAL")
    meter.write_item(_FakeTable(), None, {"pk": {"S": "a"}, "gpk": {"S": "x"}})
    assert meter.one("T") == {"TableName": "T", "CapacityUnits": 2.0}
    meter = _capacity.Meter("INDEXES")
    meter.write_item(_FakeTable(), None, {"pk": {"S": "a"}, "gpk": {"S": "x"}})
    assert meter.one("T") == {
        "TableName": "T",
        "CapacityUnits": 2.0,
        "WriteCapacityUnits": 2.0,
        "Table": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
        "GlobalSecondaryIndexes": {"g": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}},
    }
    assert _capacity.Meter("NONE").one("T") is None
    assert _capacity.Meter(None).all() is None
