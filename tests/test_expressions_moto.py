"""Differential tests: random items and random filter, condition and update expressions through moto's DynamoDB
(in process, via boto3) and through shardline.local.expressions; the results must agree, except where moto is
wrong per the AWS documentation (each exception below quotes the line that decides it)."""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FUZZ
from hypothesis import event, given
from hypothesis import strategies as st
from test_fuzz_expressions import CONDITIONS, ITEMS, PLACEHOLDER_VALUES, UPDATES, update_text

from shardline.local import ValidationError
from shardline.local.expressions import Condition, Expressions, Path, apply_update, evaluate, values_equal
from shardline.local.expressions._evaluate import _operand
from shardline.local.expressions._tree import And, Between, Call, Compare, In, Not, Or

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")
ClientError = pytest.importorskip("botocore.exceptions").ClientError

NAMES = {"#n": "a", "#m": "x y"}


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    saved = {
        name: os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    try:
        with moto.mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName="T",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            yield client
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def to_boto(av: dict[str, Any]) -> dict[str, Any]:
    """A stored typed value as boto3's client takes it (binaries as bytes)."""
    ((tag, value),) = av.items()
    if tag == "B":
        return {"B": base64.b64decode(value)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in value]}
    if tag == "L":
        return {"L": [to_boto(v) for v in value]}
    if tag == "M":
        return {"M": {k: to_boto(v) for k, v in value.items()}}
    return {tag: value}


def from_boto(av: dict[str, Any]) -> dict[str, Any]:
    ((tag, value),) = av.items()
    if tag == "B":
        return {"B": base64.b64encode(value).decode()}
    if tag == "BS":
        return {"BS": [base64.b64encode(v).decode() for v in value]}
    if tag == "L":
        return {"L": [from_boto(v) for v in value]}
    if tag == "M":
        return {"M": {k: from_boto(v) for k, v in value.items()}}
    return {tag: value}


def placeholders(text: str, values: dict[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    names = {k: v for k, v in NAMES.items() if k in text}
    used = {k: to_boto(v) for k, v in values.items() if k in text}
    if names:
        arguments["ExpressionAttributeNames"] = names
    if used:
        arguments["ExpressionAttributeValues"] = used
    return arguments


def ours(text: str, values: dict[str, Any], parse: str) -> Any:
    used = {k: v for k, v in values.items() if k in text} or None
    expressions = Expressions({k: v for k, v in NAMES.items() if k in text} or None, used)
    parsed = getattr(expressions, parse)(text) if parse == "update" else expressions.condition(text, kind=parse)
    expressions.check_all_used()
    return parsed


def moto_is_known_wrong(condition: Condition, item: dict[str, Any]) -> bool:
    """Whether ``condition`` on ``item`` meets a case where moto differs from DynamoDB.

    moto holds two missing attributes equal ("a = b" is true when both are missing); DynamoDB does not: a
    comparison with a missing attribute is false and "<>" true (developer guide, "Comparison operator and
    function reference": "a = b - true if a is equal to b", and a missing attribute has no value; ScyllaDB's
    Alternator tests record DynamoDB's answer, issue 8511).
    """
    nodes: list[Any] = [condition.root]
    while nodes:
        node = nodes.pop()
        if isinstance(node, (And, Or)):
            nodes.extend(node.conditions)
        elif isinstance(node, Not):
            nodes.append(node.condition)
        elif isinstance(node, Between) or (isinstance(node, Compare) and node.operator not in ("=", "<>")):
            # moto orders lists, maps, sets and booleans; DynamoDB's ordering comparisons hold only between
            # two numbers, two strings or two binaries, and are false otherwise (developer guide: "a < b - true
            # if a is less than b"; Alternator's tests record DynamoDB's answer for lists: a failed condition).
            operands = (node.operand, node.low, node.high) if isinstance(node, Between) else (node.left, node.right)
            tags = {next(iter(value)) for value in (_operand(o, item) for o in operands) if value is not None}
            if tags - {"N", "S", "B"}:
                return True
        if isinstance(node, (Compare, In)):
            operands = (node.left, node.right) if isinstance(node, Compare) else (node.operand, *node.choices)
            if sum(_missing(operand, item) for operand in operands) >= 2:
                return True
            # moto holds a missing attribute equal to a NULL value ("a = :v" is true with :v = {"NULL": true} and
            # no a); DynamoDB does not: NULL is a value an attribute holds, and attribute_exists is true for it
            # (developer guide, "Supported data types": "Null represents an attribute with an unknown or
            # undefined state"), so a missing attribute equals nothing, NULL included.
            values = [_operand(operand, item) for operand in operands]
            if any(_missing(operand, item) for operand in operands) and {"NULL": True} in values:
                return True
            # moto compares BOOL and N values as Python does (False == 0), so "c <> :v" with c = 0 and
            # :v = false is false in moto; DynamoDB: values of different types are never equal (developer
            # guide, "Comparison operator and function reference"; Alternator's tests record DynamoDB's answer).
            tags = {next(iter(value)) for value in (_operand(o, item) for o in operands) if value is not None}
            if {"BOOL", "N"} <= tags:
                return True
    return False


def _missing(operand: Any, item: dict[str, Any]) -> bool:
    return isinstance(operand, Path) and not evaluate(Condition(Call("attribute_exists", (operand,)), ()), item)


@FUZZ
@given(items=st.lists(ITEMS, min_size=1, max_size=3), text=CONDITIONS, values=PLACEHOLDER_VALUES)
def test_scan_filters_agree_with_moto(dynamodb: Any, items: list[dict[str, Any]], text: str, values: Any) -> None:
    for index, item in enumerate(items):
        item["pk"] = {"S": f"k{index}"}
        dynamodb.put_item(TableName="T", Item={k: to_boto(v) for k, v in item.items()})
    try:
        try:
            condition = ours(text, values, "FilterExpression")
        except ValidationError:
            condition = None
        try:
            page = dynamodb.scan(TableName="T", FilterExpression=text, **placeholders(text, values))
            theirs: set[str] | None = {found["pk"]["S"] for found in page["Items"]}
        except ClientError as error:
            theirs = None if error.response["Error"]["Code"] == "ValidationException" else set()
        except Exception:  # noqa: BLE001 - moto's own crashes (AttributeError, TypeError) on odd expressions
            theirs = None
        if condition is None or theirs is None:
            return  # refusals: pinned by the exact-message tests (moto accepts reserved words, (( )) ...)
        if any(moto_is_known_wrong(condition, item) for item in items):
            return
        mine = {item["pk"]["S"] for item in items if evaluate(condition, item)}
        event("compared" if mine else "compared, no item matched")
        assert mine == theirs, (text, values, items)
    finally:
        for index in range(len(items)):
            dynamodb.delete_item(TableName="T", Key={"pk": {"S": f"k{index}"}})


TOP = st.sampled_from(["a", "b", "c", "d", "#n"])
SIMPLE_ACTIONS = st.one_of(
    st.builds(lambda p, v: ("SET", f"{p} = {v}"), TOP, st.sampled_from([":v", ":one", "a", "if_not_exists(b, :one)"])),
    st.builds(lambda p, q: ("SET", f"{p} = {q} + :one"), TOP, st.sampled_from(["a", "b", ":one"])),
    st.builds(lambda p: ("SET", f"{p} = list_append(:list, :list)"), TOP),
    TOP.map(lambda p: ("REMOVE", p)),
    st.builds(lambda p, v: ("ADD", f"{p} {v}"), TOP, st.sampled_from([":one", ":set"])),
    TOP.map(lambda p: ("DELETE", f"{p} :set")),
)
SIMPLE_UPDATES = st.lists(SIMPLE_ACTIONS, min_size=1, max_size=3).map(update_text)
FIXED_VALUES = {":one": {"N": "1.50"}, ":set": {"SS": ["q", "r"]}, ":list": {"L": [{"S": "e"}]}}


def paths_in(node: Any) -> list[Path]:
    """The document paths an operand reads, at any depth (inside functions and arithmetic too)."""
    if isinstance(node, Path):
        return [node]
    if isinstance(node, (tuple, list)):
        return [path for part in node for path in paths_in(part)]
    if dataclasses.is_dataclass(node):
        return [path for field in dataclasses.fields(node) for path in paths_in(getattr(node, field.name))]
    return []


def moto_aliases(update: Any) -> bool:
    """Whether ``update`` copies a document with SET and changes inside that document in another action.

    moto lets the copy share the source's value, so ``SET b = a REMOVE a.x`` removes ``x`` from ``b`` too.
    DynamoDB reads every operand from the item as it was before the update (developer guide, "Update
    expressions": the actions of one expression are applied to the item as it was), so ``b`` keeps ``x``.
    """
    sources = [path.elements for action in update.actions for path in paths_in(action.value)]
    written = [action.path.elements for action in update.actions]
    return any(
        target[: len(source)] == source and len(target) > len(source) for source in sources for target in written
    )


@FUZZ
@given(
    item=ITEMS, text=st.one_of(UPDATES, SIMPLE_UPDATES), values=PLACEHOLDER_VALUES.map(lambda v: {**v, **FIXED_VALUES})
)
def test_updates_agree_with_moto(dynamodb: Any, item: dict[str, Any], text: str, values: Any) -> None:
    dynamodb.put_item(TableName="T", Item={k: to_boto(v) for k, v in item.items()})
    try:
        try:
            update = ours(text, values, "update")
            mine: dict[str, Any] | None = apply_update(update, item, key={"pk": {"S": "k"}}, key_names={"pk"})
        except ValidationError:
            mine = None
        try:
            dynamodb.update_item(
                TableName="T", Key={"pk": {"S": "k"}}, UpdateExpression=text, **placeholders(text, values)
            )
            stored = dynamodb.get_item(TableName="T", Key={"pk": {"S": "k"}})["Item"]
            theirs: dict[str, Any] | None = {k: from_boto(v) for k, v in stored.items()}
        except ClientError:
            theirs = None
        except Exception:  # noqa: BLE001 - moto's own crashes on odd expressions
            theirs = None
        if mine is None or theirs is None:
            return  # refusals: compared by the exact-message tests, where moto's words often differ
        if moto_aliases(update):
            return
        event("compared")
        assert values_equal({"M": mine}, {"M": theirs}), (text, values, item, mine, theirs)
    finally:
        dynamodb.delete_item(TableName="T", Key={"pk": {"S": "k"}})
