"""Differential test: random items and random condition, update, filter and projection expressions, sent by
boto3 to shardline's endpoint and to moto's DynamoDB (in process), must give the same results.

Where moto is known to differ from DynamoDB, the comparison says so, with the line of the AWS documentation
that decides it (see ``_moto_is_wrong``)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final

import pytest
from conftest import aws_client, create_table
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from shardline._attributes import format_number
from shardline.local import Store
from shardline.local.endpoint import serve

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")
ClientError = pytest.importorskip("botocore.exceptions").ClientError

TABLE = "Differential"
#: The last error message each client received, by id(client): shown when a comparison fails.
MESSAGES: dict[int, str] = {}
_COUNTER = itertools.count()


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any]]:
    with moto.mock_aws(), Store(":memory:") as store, serve(store, port=0) as endpoint:
        store.create_table(TABLE, key_schema={"pk": "S"})
        theirs = aws_client("dynamodb")
        create_table(theirs, TABLE)
        yield aws_client("dynamodb", endpoint.url), theirs


# -- random items ---------------------------------------------------------------------------------------

_S = st.sampled_from(["", "a", "ab", "b", "ba", "é"])
_N = st.sampled_from(["0", "1", "-1", "2.5", "10", "1e2", "0.10"])
_SCALAR = st.one_of(
    st.builds(lambda s: {"S": s}, _S),
    st.builds(lambda n: {"N": n}, _N),
    # No BOOL: see test_moto_finds_zero_equal_to_false.
    st.just({"NULL": True}),
    st.builds(lambda b: {"B": b}, st.sampled_from([b"", b"\x01", b"\x01\x02"])),
)
_VALUE = st.one_of(
    _SCALAR,
    st.builds(lambda items: {"L": items}, st.lists(_SCALAR, max_size=3)),
    st.builds(lambda m: {"M": m}, st.dictionaries(st.sampled_from(["x", "y"]), _SCALAR, max_size=2)),
    st.builds(lambda s: {"SS": sorted(s)}, st.sets(_S, min_size=1, max_size=3)),
    st.builds(lambda s: {"NS": sorted(s)}, st.sets(st.sampled_from(["1", "2", "-3", "4.5"]), min_size=1, max_size=3)),
)
_ATTRIBUTES = st.dictionaries(st.sampled_from(["a", "b", "c"]), _VALUE, max_size=3)

# -- random expressions ---------------------------------------------------------------------------------

_PATH = st.sampled_from(["a", "b", "c", "a[0]", "b.x", "#n", "#n[1]"])
_COMPARATOR = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])


def _operand(draw: Any) -> str:
    """One side of a comparison: a path, size(path) or a value. A comparison always has a value on one side
    (see test_moto_finds_two_missing_attributes_equal for why)."""
    if draw(st.booleans()):
        return f"size({draw(_PATH)})"
    return str(draw(_PATH))


def _value(draw: Any) -> str:
    return f":v{draw(st.integers(0, 2))}"


@st.composite
def _condition(draw: Any, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9 if depth < 2 else 6))
    path = draw(_PATH)
    value = f":v{draw(st.integers(0, 2))}"
    if kind == 0:
        sides = [_operand(draw), _value(draw)]
        if draw(st.booleans()):
            sides.reverse()
        return f"{sides[0]} {draw(_COMPARATOR)} {sides[1]}"
    if kind == 1:
        return f"attribute_exists({path})"
    if kind == 2:
        return f"attribute_not_exists({path})"
    if kind == 3:
        return f"begins_with({path}, {value})"
    if kind == 4:
        return f"contains({path}, {value})"
    if kind == 5:
        return f"{_operand(draw)} BETWEEN {value} AND :v{draw(st.integers(0, 2))}"
    if kind == 6:
        return f"{path} IN ({value}, :v{draw(st.integers(0, 2))})"
    if kind == 7:
        return f"NOT ({draw(_condition(depth + 1))})"
    operator = "AND" if kind == 8 else "OR"
    return f"({draw(_condition(depth + 1))}) {operator} {draw(_condition(depth + 1))}"


@st.composite
def _update(draw: Any) -> str:
    targets = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True))
    sets, removes, adds = [], [], []
    for target in targets:
        kind = draw(st.integers(0, 6))
        value = f":v{draw(st.integers(0, 2))}"
        if kind == 0:
            sets.append(f"{target} = {value}")
        elif kind == 1:
            sets.append(f"{target} = {draw(_PATH)} + {value}")
        elif kind == 2:
            sets.append(f"{target} = if_not_exists({target}, {value})")
        elif kind == 3:
            sets.append(f"{target} = list_append({value}, {target})")
        elif kind == 4:
            removes.append(target)
        else:
            adds.append(f"{target} {value}")
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    if adds:
        clauses.append("ADD " + ", ".join(adds))
    return " ".join(clauses)


def _placeholders(*texts: str | None) -> tuple[set[str], bool]:
    joined = " ".join(text for text in texts if text)
    return {f":v{n}" for n in range(3) if f":v{n}" in joined}, "#n" in joined


def _request_extras(draw: Any, *texts: str | None) -> dict[str, Any]:
    used, named = _placeholders(*texts)
    extras: dict[str, Any] = {}
    if used:
        # No NULL values: see test_moto_takes_a_missing_attribute_for_null.
        values = _VALUE.filter(lambda value: "NULL" not in value)
        extras["ExpressionAttributeValues"] = {name: draw(values) for name in sorted(used)}
    if named:
        extras["ExpressionAttributeNames"] = {"#n": draw(st.sampled_from(["a", "b", "c"]))}
    return extras


# -- comparing ------------------------------------------------------------------------------------------


def _call(client: Any, operation: str, **request: Any) -> tuple[str, Any]:
    try:
        response = getattr(client, operation)(**request)
    except ClientError as error:
        MESSAGES[id(client)] = error.response["Error"]["Message"]
        return "error", error.response["Error"]["Code"]
    except Exception as error:  # noqa: BLE001 - moto in process raises its own bugs (an AssertionError) at us
        return "crash", type(error).__name__
    response.pop("ResponseMetadata", None)
    # moto answers ConsumedCapacity unasked; DynamoDB API reference, UpdateItem: "ConsumedCapacity is only
    # returned if the ReturnConsumedCapacity parameter was specified."
    if "ReturnConsumedCapacity" not in request:
        response.pop("ConsumedCapacity", None)
    return "ok", response


# Our refusals that moto does not make, each a check DynamoDB makes when it parses the request, before it
# reads the item (so a failing condition cannot hide it):
_STATIC_CHECKS: Final = (
    # DynamoDB developer guide, "Comparison operator and function reference": the comparators compare
    # numbers, strings and binaries, and each function names the types it takes; an ExpressionAttributeValues
    # value of another type is refused ("Incorrect operand type for operator or function") when the
    # expression is parsed, whereas moto evaluates the comparison to false.
    "Incorrect operand type for operator or function",
    # DynamoDB refuses a ProjectionExpression (and an UpdateExpression) naming a path and a path inside it:
    # "Two document paths overlap with each other; must remove or rewrite one of these paths".
    "Two document paths overlap with each other",
    "Two document paths conflict with each other",
    # BETWEEN with literal bounds of different types, or in the wrong order, is refused when parsed: "The
    # BETWEEN operator requires same data type for lower and upper bounds" and "... requires upper bound to be
    # greater than or equal to lower bound" (DynamoDB's messages).
    "The BETWEEN operator requires",
)


def _moto_is_wrong(
    ours: tuple[str, Any], theirs: tuple[str, Any], our_message: str, their_message: str, request: dict[str, Any]
) -> bool:
    """Whether a difference is one of moto's known departures from DynamoDB. Anything else fails the test."""
    condition = request.get("ConditionExpression") or request.get("FilterExpression") or ""
    binary = any("B" in value for value in request.get("ExpressionAttributeValues", {}).values())
    if binary and ("contains(" in condition or "begins_with(" in condition):
        # contains() and begins_with() work on Binary values as on Strings, byte by byte (developer guide,
        # "Legacy conditional parameters", CONTAINS: "If the target attribute of the comparison is of type
        # Binary, then the operator looks for a subsequence of the target that matches the input", and
        # BEGINS_WITH: "Checks for a prefix ... of type String or Binary"); moto finds nothing in a Binary,
        # not even the empty prefix.
        return True
    if ours == ("error", "ValidationException") and theirs != ours:
        return any(check in our_message for check in _STATIC_CHECKS)
    if ours == ("error", "ConditionalCheckFailedException") and "incorrect data type" in their_message:
        # moto applies the update before checking the condition, and so reports the update's type error;
        # DynamoDB checks the condition first (API reference, UpdateItem, ConditionExpression: "A condition
        # that must be satisfied in order for a conditional update to succeed").
        return True
    # moto does not see a name placeholder used with a list index (#n[1]) and calls it unused; the developer
    # guide, "Expression attribute names", uses placeholders for any path element, indexes included.
    return theirs == ("error", "ValidationException") and "unused in expressions" in their_message


def _normalised(value: Any) -> Any:
    """moto returns numbers as they were sent; DynamoDB normalises them (developer guide, "Data types",
    Number: "Leading and trailing zeroes are trimmed"), so ``1e2`` comes back as ``100``."""
    if isinstance(value, dict):
        out = {}
        for tag, inner in value.items():
            if tag == "N" and isinstance(inner, str):
                out[tag] = format_number(Decimal(inner))
            elif tag == "NS" and isinstance(inner, list):
                out[tag] = sorted((format_number(Decimal(n)) for n in inner), key=Decimal)
            elif tag in ("SS", "BS") and isinstance(inner, list):
                # Sets are unordered (developer guide, "Data types": "The order of the values within a set is
                # not preserved"): compare them sorted.
                out[tag] = sorted(inner)
            else:
                out[tag] = _normalised(inner)
        return out
    if isinstance(value, list):
        return [_normalised(inner) for inner in value]
    return value


def _compare(operation: str, ours: Any, theirs: Any, request: dict[str, Any]) -> bool:
    """Send ``request`` to both; True when the outcomes match, False when moto is known to be wrong."""
    MESSAGES.clear()
    mine = _call(ours, operation, **request)
    other = _call(theirs, operation, **request)
    if other[0] == "crash":  # moto failed in its own code: nothing to compare against
        return False
    other = ("ok", _normalised(other[1])) if other[0] == "ok" else other
    mine = ("ok", _normalised(mine[1])) if mine[0] == "ok" else mine
    if mine == other:
        return True
    if (
        operation in ("scan", "query")
        and mine[0] == other[0] == "ok"
        and sorted(map(repr, mine[1]["Items"])) == sorted(map(repr, other[1]["Items"]))
    ):
        return True
    if _moto_is_wrong(mine, other, MESSAGES.get(id(ours), ""), MESSAGES.get(id(theirs), ""), request):
        return False
    raise AssertionError(
        f"{operation} differs from moto\nrequest: {request}\nshardline: {mine} {MESSAGES.get(id(ours))}\n"
        f"moto: {other} {MESSAGES.get(id(theirs))}"
    )


# No shrinking: each example is a few boto3 calls on both sides, and the failure message shows the request.
_SETTINGS = settings(
    max_examples=int(os.environ.get("SHARDLINE_DIFF_EXAMPLES", "60")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_SETTINGS
@given(data=st.data())
def test_conditional_updates_and_projections_agree_with_moto(clients: tuple[Any, Any], data: Any) -> None:
    ours, theirs = clients
    key = {"pk": {"S": f"item-{next(_COUNTER)}"}}
    item = {**key, **data.draw(_ATTRIBUTES)}
    for client in (ours, theirs):
        client.put_item(TableName=TABLE, Item=item)
    condition = data.draw(_condition() | st.none())
    update = data.draw(_update())
    request: dict[str, Any] = {"TableName": TABLE, "Key": key, "UpdateExpression": update, "ReturnValues": "ALL_NEW"}
    if condition is not None:
        request["ConditionExpression"] = condition
    request.update(_request_extras(data.draw, condition, update))
    if not _compare("update_item", ours, theirs, request) or MESSAGES:
        # The tables may differ now: moto applies the SET actions of an update whose ADD then fails, where
        # DynamoDB writes nothing for a request it refuses. Start the reads from the same item again.
        for client in (ours, theirs):
            client.put_item(TableName=TABLE, Item=item)
    projection = ", ".join(data.draw(st.lists(_PATH, min_size=1, max_size=3, unique=True)))
    get: dict[str, Any] = {"TableName": TABLE, "Key": key, "ProjectionExpression": projection, "ConsistentRead": True}
    get.update(_request_extras(data.draw, projection))
    get.pop("ExpressionAttributeValues", None)
    _compare("get_item", ours, theirs, get)


@_SETTINGS
@given(data=st.data())
def test_filters_agree_with_moto(clients: tuple[Any, Any], data: Any) -> None:
    ours, theirs = clients
    partition = f"query-{next(_COUNTER)}"
    # One item per partition (the table has no sort key): the filter decides whether the query returns it.
    item = {"pk": {"S": partition}, **data.draw(_ATTRIBUTES)}
    for client in (ours, theirs):
        client.put_item(TableName=TABLE, Item=item)
    condition = data.draw(_condition())
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": condition,
    }
    request.update(_request_extras(data.draw, condition))
    request.setdefault("ExpressionAttributeValues", {})[":pk"] = {"S": partition}
    _compare("query", ours, theirs, request)


def test_moto_finds_two_missing_attributes_equal(clients: tuple[Any, Any]) -> None:
    # A comparison reads its operands from the item; an attribute the item lacks has no value, so "a = b"
    # holds for no item lacking both (DynamoDB developer guide, "Comparison operator and function reference":
    # use attribute_not_exists to test for absence). moto compares the two absences as equal.
    ours, theirs = clients
    for client in clients:
        client.put_item(TableName=TABLE, Item={"pk": {"S": "both-missing"}})
    request = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": "a = b",
        "ExpressionAttributeValues": {":pk": {"S": "both-missing"}},
    }
    assert ours.query(**request)["Count"] == 0
    assert theirs.query(**request)["Count"] == 1  # moto is wrong here


def test_moto_finds_zero_equal_to_false(clients: tuple[Any, Any]) -> None:
    # A Number never equals a Boolean: they are different data types (developer guide, "Data types"), and
    # size() returns a Number ("Comparison operator and function reference": "size (path): Returns a number
    # that represents an attribute's size"). moto compares with Python's ==, where 0 == False.
    ours, theirs = clients
    for client in clients:
        client.put_item(TableName=TABLE, Item={"pk": {"S": "size-false"}, "a": {"S": ""}})
    request = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": "size(a) = :false",
        "ExpressionAttributeValues": {":pk": {"S": "size-false"}, ":false": {"BOOL": False}},
    }
    assert ours.query(**request)["Count"] == 0
    assert theirs.query(**request)["Count"] == 1  # moto is wrong here


def test_moto_takes_a_missing_attribute_for_null(clients: tuple[Any, Any]) -> None:
    # NULL is a value an attribute holds (developer guide, "Data types": "Null represents an attribute with an
    # unknown or undefined state"); an attribute the item lacks holds no value, so it equals none, NULL
    # included. moto takes the missing attribute for NULL.
    ours, theirs = clients
    for client in clients:
        client.put_item(TableName=TABLE, Item={"pk": {"S": "null-missing"}})
    request = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": "a IN (:null)",
        "ExpressionAttributeValues": {":pk": {"S": "null-missing"}, ":null": {"NULL": True}},
    }
    assert ours.query(**request)["Count"] == 0
    assert theirs.query(**request)["Count"] == 1  # moto is wrong here
