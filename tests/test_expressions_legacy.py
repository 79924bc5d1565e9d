"""The legacy conditional parameters, converted to expression trees (DynamoDB developer guide, "Legacy
conditional parameters"); messages as dynalite's tests record DynamoDB's."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shardline.local import ValidationError
from shardline.local.expressions import (
    KeyCondition,
    apply_update,
    attribute_updates,
    attributes_to_get,
    check_expression_parameters,
    evaluate,
    expected_condition,
    filter_condition,
    key_conditions,
    project,
)

ITEM: dict[str, Any] = {
    "Id": {"N": "1"},
    "Price": {"N": "650"},
    "Title": {"S": "Bicycle"},
    "Color": {"SS": ["Red", "Black"]},
    "Dimensions": {"L": [{"N": "1"}]},
}


def _refused(call: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        call()


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("EQ", [{"N": "650"}], True),
        ("NE", [{"N": "650"}], False),
        ("LE", [{"N": "650"}], True),
        ("LT", [{"N": "650"}], False),
        ("GE", [{"N": "651"}], False),
        ("GT", [{"N": "649"}], True),
        ("IN", [{"N": "1"}, {"N": "650"}], True),
        ("BETWEEN", [{"N": "600"}, {"N": "700"}], True),
        ("NOT_NULL", [], True),
        ("NULL", [], False),
    ],
)
def test_comparison_operators_on_a_number(operator: str, values: list[Any], expected: bool) -> None:
    condition = filter_condition({"Price": {"ComparisonOperator": operator, "AttributeValueList": values}})
    assert evaluate(condition, ITEM) is expected


def test_contains_and_not_contains() -> None:
    def on(name: str, operator: str, value: Any) -> bool:
        condition = filter_condition({name: {"ComparisonOperator": operator, "AttributeValueList": [value]}})
        return evaluate(condition, ITEM)

    assert on("Color", "CONTAINS", {"S": "Red"}) is True
    assert on("Color", "NOT_CONTAINS", {"S": "Red"}) is False
    assert on("Title", "NOT_CONTAINS", {"S": "car"}) is True
    assert on("Title", "BEGINS_WITH", {"S": "Bi"}) is True
    # NOT_CONTAINS on a missing attribute is false, unlike NE (Alternator's tests, run against DynamoDB).
    assert on("Nope", "NOT_CONTAINS", {"S": "x"}) is False
    assert on("Nope", "NE", {"S": "x"}) is True


def test_conditional_operator_joins_conditions() -> None:
    conditions = {
        "Price": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1000"}]},
        "Title": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "Bicycle"}]},
    }
    assert evaluate(filter_condition(conditions), ITEM) is False
    assert evaluate(filter_condition(conditions, "OR"), ITEM) is True
    assert evaluate(filter_condition({}), ITEM) is True
    assert [str(p) for p in filter_condition(conditions).paths] == ["Price", "Title"]


def test_expected_value_and_exists() -> None:
    assert evaluate(expected_condition({"Price": {"Value": {"N": "650"}}}), ITEM) is True
    assert evaluate(expected_condition({"Price": {"Value": {"N": "1"}, "Exists": True}}), ITEM) is False
    assert evaluate(expected_condition({"Nope": {"Exists": False}}), ITEM) is True
    assert evaluate(expected_condition({"Price": {"Exists": False}}), None) is True
    assert evaluate(expected_condition({"Price": {"ComparisonOperator": "GT", "Value": {"N": "600"}}}), ITEM)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"Value": {"N": "1"}, "AttributeValueList": [{"N": "1"}]},
            "One or more parameter values were invalid: Value and AttributeValueList cannot be used together for "
            "Attribute: a",
        ),
        (
            {"Exists": True, "ComparisonOperator": "EQ", "Value": {"N": "1"}},
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for "
            "Attribute: a",
        ),
        (
            {"ComparisonOperator": "EQ"},
            "One or more parameter values were invalid: Value or AttributeValueList must be used with "
            "ComparisonOperator: EQ for Attribute: a",
        ),
        (
            {"AttributeValueList": [{"N": "1"}]},
            "One or more parameter values were invalid: AttributeValueList can only be used with a "
            "ComparisonOperator for Attribute: a",
        ),
        ({}, "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a"),
        (
            {"Exists": True},
            "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a",
        ),
        (
            {"Exists": False, "Value": {"N": "1"}},
            "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a",
        ),
    ],
)
def test_expected_refusals(entry: dict[str, Any], message: str) -> None:
    _refused(lambda: expected_condition({"a": entry}), message)


@pytest.mark.parametrize(
    ("operator", "values", "message"),
    [
        (
            "EQ",
            [],
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            "NULL",
            [{"N": "1"}],
            "One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            "IN",
            [],
            "One or more parameter values were invalid: Invalid number of argument(s) for the IN ComparisonOperator",
        ),
        (
            "BETWEEN",
            [{"N": "1"}],
            "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN "
            "ComparisonOperator",
        ),
        (
            "IN",
            [{"N": "1"}, {"S": "1"}],
            "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            "LT",
            [{"SS": ["a"]}],
            "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type",
        ),
        (
            "BEGINS_WITH",
            [{"N": "1"}],
            "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N "
            "AttributeValue type",
        ),
        (
            "BETWEEN",
            [{"N": "2"}, {"N": "1"}],
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ),
        (
            "LIKE",
            [{"S": "a"}],
            "QueryFilter: ComparisonOperator 'LIKE' is not one of EQ, NE, LE, LT, GE, GT, NOT_NULL, NULL, CONTAINS, "
            "NOT_CONTAINS, BEGINS_WITH, IN, BETWEEN",
        ),
    ],
)
def test_filter_refusals(operator: str, values: list[Any], message: str) -> None:
    _refused(lambda: filter_condition({"a": {"ComparisonOperator": operator, "AttributeValueList": values}}), message)


def test_attribute_updates() -> None:
    update = attribute_updates(
        {
            "Price": {"Action": "ADD", "Value": {"N": "-50"}},
            "Title": {"Value": {"S": "Tandem"}},
            "Color": {"Action": "DELETE", "Value": {"SS": ["Red"]}},
            "Dimensions": {"Action": "ADD", "Value": {"L": [{"N": "2"}]}},
            "Gone": {"Action": "DELETE"},
            "Count": {"Action": "ADD", "Value": {"N": "3"}},
        }
    )
    result = apply_update(update, {**ITEM, "Gone": {"S": "x"}}, key={"Id": {"N": "1"}}, key_names=["Id"])
    assert result == {
        "Id": {"N": "1"},
        "Price": {"N": "600"},
        "Title": {"S": "Tandem"},
        "Color": {"SS": ["Black"]},
        "Dimensions": {"L": [{"N": "1"}, {"N": "2"}]},  # AttributeUpdates' ADD appends to lists
        "Count": {"N": "3"},
    }
    mismatch = attribute_updates({"Title": {"Action": "ADD", "Value": {"N": "1"}}})
    _refused(
        lambda: apply_update(mismatch, ITEM, key={"Id": {"N": "1"}}, key_names=["Id"]),
        "Type mismatch for attribute to update",
    )
    _refused(
        lambda: apply_update(
            attribute_updates({"Id": {"Value": {"N": "2"}}}), ITEM, key={"Id": {"N": "1"}}, key_names=["Id"]
        ),
        "One or more parameter values were invalid: Cannot update attribute Id. This attribute is part of the key",
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"Action": "PUT"},
            "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is "
            "specified",
        ),
        (
            {"Action": "DELETE", "Value": {"S": "a"}},
            "One or more parameter values were invalid: DELETE action with value is not supported for the type S",
        ),
        (
            {"Action": "ADD", "Value": {"M": {}}},
            "One or more parameter values were invalid: ADD action is not supported for the type M",
        ),
    ],
)
def test_attribute_updates_refusals(entry: dict[str, Any], message: str) -> None:
    _refused(lambda: attribute_updates({"a": entry}), message)


def test_key_conditions() -> None:
    conditions = {
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
        "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "x"}]},
    }
    assert key_conditions(conditions, partition_key="pk", sort_key="sk") == KeyCondition(
        {"S": "a"}, ("begins_with", {"S": "x"})
    )
    between = {**conditions, "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "2"}]}}
    assert key_conditions(between, partition_key="pk", sort_key="sk").sort == ("BETWEEN", {"N": "1"}, {"N": "2"})
    _refused(
        lambda: key_conditions(
            {"pk": {"ComparisonOperator": "NE", "AttributeValueList": [{"S": "a"}]}}, partition_key="pk", sort_key=None
        ),
        "Attempted conditional constraint is not an indexable operation",
    )
    _refused(
        lambda: key_conditions(
            {"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}}, partition_key="pk", sort_key="sk"
        ),
        "Query condition missed key schema element: pk",
    )


def test_attributes_to_get() -> None:
    assert project(attributes_to_get(["Title", "Nope", "Price"]), ITEM) == {
        "Title": {"S": "Bicycle"},
        "Price": {"N": "650"},
    }
    _refused(
        lambda: attributes_to_get(["a", "a"]),
        "One or more parameter values were invalid: Duplicate value in attribute name: a",
    )


QUERY_EXPRESSIONS = ("ProjectionExpression", "FilterExpression", "KeyConditionExpression")
QUERY_LEGACY = ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions")


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (
            {"AttributesToGet": ["a"], "ProjectionExpression": "a", "KeyConditionExpression": "pk = :p"},
            "Can not use both expression and non-expression parameters in the same request: Non-expression "
            "parameters: {AttributesToGet} Expression parameters: {ProjectionExpression, KeyConditionExpression}",
        ),
        (
            {
                "QueryFilter": {},
                "ConditionalOperator": "OR",
                "KeyConditions": {},
                "FilterExpression": "a = :a",
                "KeyConditionExpression": "pk = :p",
            },
            "Can not use both expression and non-expression parameters in the same request: Non-expression "
            "parameters: {QueryFilter, ConditionalOperator, KeyConditions} Expression parameters: "
            "{FilterExpression, KeyConditionExpression}",
        ),
        (
            {"ExpressionAttributeNames": {"#a": "a"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            {"ExpressionAttributeValues": {":a": {"S": "a"}}, "ProjectionExpression": "a"},
            "ExpressionAttributeValues can only be specified when using expressions: FilterExpression and "
            "KeyConditionExpression are null",
        ),
    ],
)
def test_mixing_expression_and_legacy_parameters_is_refused(request_body: dict[str, Any], message: str) -> None:
    _refused(
        lambda: check_expression_parameters(request_body, expression=QUERY_EXPRESSIONS, legacy=QUERY_LEGACY), message
    )


def test_key_conditions_with_a_filter_expression_are_allowed() -> None:
    # dynalite's Query: KeyConditions may come with expression parameters when KeyConditionExpression is absent.
    check_expression_parameters(
        {"KeyConditions": {}, "FilterExpression": "a = :a"}, expression=QUERY_EXPRESSIONS, legacy=QUERY_LEGACY
    )
