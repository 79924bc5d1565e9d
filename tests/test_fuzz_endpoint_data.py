"""Fuzz the data plane: random request JSON for every operation returns a response or raises a shardline
error (DynamoDBError, or a store error the endpoint translates), never anything else."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline.local import Store
from shardline.local._store import IndexSpec
from shardline.local.endpoint import _data


@lru_cache(maxsize=1)
def _store() -> Store:
    store = Store(":memory:")
    store.create_table("T", key_schema={"pk": "S"})
    store.create_table(
        "C",
        key_schema={"pk": "S", "sk": "N"},
        global_indexes=[IndexSpec("g", {"a": "S"}, "INCLUDE", ("b",))],
        local_indexes=[IndexSpec("l", {"pk": "S", "b": "N"}, "KEYS_ONLY")],
    )
    return store


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, width=16) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
_NUMBERS = st.sampled_from(["1", "-2.50", "1e3", "0", "1E126", "abc", "", " 1", "1" * 39])
_TEXT = st.sampled_from(["", "a", "b", "x" * 3]) | st.text(max_size=3)
_AV = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, _TEXT),
        st.builds(lambda n: {"N": n}, _NUMBERS),
        st.builds(lambda b: {"B": b}, st.sampled_from(["", "AQ==", "abc", "AQ"])),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda s: {"SS": s}, st.lists(_TEXT, max_size=3)),
        st.builds(lambda s: {"NS": s}, st.lists(_NUMBERS, max_size=3)),
        st.just({}),
        _JSON,
    ),
    lambda inner: (
        st.builds(lambda m: {"M": m}, st.dictionaries(_TEXT, inner, max_size=3))
        | st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3))
    ),
    max_leaves=6,
)
_NAMES = st.sampled_from(["pk", "sk", "a", "b", "c"])
_ITEM = st.dictionaries(_NAMES | _TEXT, _AV, max_size=4) | _JSON
_KEY = st.one_of(
    st.builds(lambda pk: {"pk": pk}, _AV),
    st.builds(lambda pk, sk: {"pk": pk, "sk": sk}, _AV, _AV),
    _JSON,
)
_EXPRESSION = st.sampled_from(
    [
        "a = :a",
        "#n = :a AND attribute_exists(b)",
        "attribute_not_exists(pk)",
        "size(a) > :a OR b BETWEEN :a AND :b",
        "a IN (:a, :b)",
        "begins_with(a, :a)",
        "contains(#n, :b)",
        "NOT a <> :a",
        "SET a = :a, b = b + :b",
        "SET #n = list_append(if_not_exists(#n, :a), :b) REMOVE c",
        "ADD b :b DELETE c :a",
        "REMOVE a[0], b.c",
        "a, b.c, #n[1]",
        "pk = :a",
        "pk = :a AND sk > :b",
        "pk = :a AND begins_with(sk, :b)",
        "a = = b",
        "",
    ]
) | st.text(alphabet="abpk :#=<>()[].,+-ANDORSET", max_size=20)
_COMMON = {
    "TableName": st.sampled_from(["T", "C", "Nope", "ab", "arn:aws:dynamodb:us-east-1:123456789012:table/T"]) | _JSON,
    "ExpressionAttributeNames": st.dictionaries(st.sampled_from(["#n", "#m", "n"]), _NAMES | _JSON, max_size=2) | _JSON,
    "ExpressionAttributeValues": st.dictionaries(st.sampled_from([":a", ":b", "a"]), _AV, max_size=3) | _JSON,
    "ConditionExpression": _EXPRESSION,
    "ReturnValues": st.sampled_from(["NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW", "X"]),
    "ReturnValuesOnConditionCheckFailure": st.sampled_from(["ALL_OLD", "NONE", "X"]),
    "ReturnConsumedCapacity": st.sampled_from(["TOTAL", "INDEXES", "NONE"]),
    "ReturnItemCollectionMetrics": st.sampled_from(["SIZE", "NONE"]),
    "Expected": _JSON,
}
_SINGLE = st.fixed_dictionaries(
    {},
    optional={
        **_COMMON,
        "Key": _KEY,
        "Item": _ITEM,
        "UpdateExpression": _EXPRESSION,
        "ProjectionExpression": _EXPRESSION,
        "ConsistentRead": st.booleans() | _JSON,
        "AttributeUpdates": _JSON,
    },
)
_READ = st.fixed_dictionaries(
    {},
    optional={
        **_COMMON,
        "IndexName": st.sampled_from(["g", "l", "nope"]),
        "KeyConditionExpression": _EXPRESSION,
        "FilterExpression": _EXPRESSION,
        "ProjectionExpression": _EXPRESSION,
        "Select": st.sampled_from(["ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"]),
        "Limit": st.integers(-1, 3) | _JSON,
        "ExclusiveStartKey": _KEY,
        "ScanIndexForward": st.booleans(),
        "Segment": st.integers(-1, 3),
        "TotalSegments": st.integers(-1, 3),
        "ConsistentRead": st.booleans(),
        "KeyConditions": _JSON,
    },
)
_WRITE_REQUEST = st.fixed_dictionaries(
    {},
    optional={
        "PutRequest": st.fixed_dictionaries({"Item": _ITEM}) | _JSON,
        "DeleteRequest": st.fixed_dictionaries({"Key": _KEY}),
    },
)
_BATCH_WRITE = st.fixed_dictionaries(
    {
        "RequestItems": st.dictionaries(
            st.sampled_from(["T", "C", "Nope"]), st.lists(_WRITE_REQUEST, max_size=3) | _JSON, max_size=2
        )
    },
    optional={"ReturnConsumedCapacity": st.sampled_from(["TOTAL", "INDEXES"])},
)
_BATCH_GET = st.fixed_dictionaries(
    {
        "RequestItems": st.dictionaries(
            st.sampled_from(["T", "C", "Nope"]),
            st.fixed_dictionaries({"Keys": st.lists(_KEY, max_size=3)}, optional={"ProjectionExpression": _EXPRESSION})
            | _JSON,
            max_size=2,
        )
    },
    optional={"ReturnConsumedCapacity": st.sampled_from(["TOTAL", "INDEXES"])},
)
# Deferred: the repr of the composed strategy would otherwise be tens of kilobytes (a HypothesisWarning).
_ACTION = st.deferred(
    lambda: (
        st.builds(
            lambda kind, body: {kind: body}, st.sampled_from(["Put", "Update", "Delete", "ConditionCheck"]), _SINGLE
        )
        | _JSON
    )
)
_TRANSACT_WRITE = st.fixed_dictionaries(
    {"TransactItems": st.lists(_ACTION, max_size=3) | _JSON},
    optional={"ClientRequestToken": _TEXT, "ReturnConsumedCapacity": st.sampled_from(["TOTAL", "INDEXES"])},
)
_TRANSACT_GET = st.fixed_dictionaries(
    {"TransactItems": st.deferred(lambda: st.lists(st.builds(lambda body: {"Get": body}, _SINGLE) | _JSON, max_size=3))}
)


@FUZZ
@given(_SINGLE)
def test_fuzz_get_item(request: dict[str, Any]) -> None:
    returns_or_raises_shardline_error(lambda: _data.get_item(_store(), request))


@FUZZ
@given(_SINGLE)
def test_fuzz_put_item(request: dict[str, Any]) -> None:
    returns_or_raises_shardline_error(lambda: _data.put_item(_store(), request))


@FUZZ
@given(_SINGLE)
def test_fuzz_update_item(request: dict[str, Any]) -> None:
    returns_or_raises_shardline_error(lambda: _data.update_item(_store(), request))


@FUZZ
@given(_SINGLE)
def test_fuzz_delete_item(request: dict[str, Any]) -> None:
    returns_or_raises_shardline_error(lambda: _data.delete_item(_store(), request))


@FUZZ
@given(_READ)
def test_fuzz_query(request: dict[str, Any]) -> None:
    returns_or_raises_shardline_error(lambda: _data.query(_store(), request))


@FUZZ
@given(_READ)
def test_fuzz_scan(request: dict[str, Any]) -> None:
    returns_or_raises_shardline_error(lambda: _data.scan(_store(), request))


@FUZZ
@given(_BATCH_GET | _JSON)
def test_fuzz_batch_get_item(request: Any) -> None:
    if isinstance(request, dict):
        returns_or_raises_shardline_error(lambda: _data.batch_get_item(_store(), request))


@FUZZ
@given(_BATCH_WRITE | _JSON)
def test_fuzz_batch_write_item(request: Any) -> None:
    if isinstance(request, dict):
        returns_or_raises_shardline_error(lambda: _data.batch_write_item(_store(), request))


@FUZZ
@given(_TRANSACT_WRITE)
def test_fuzz_transact_write_items(request: dict[str, Any]) -> None:
    returns_or_raises_shardline_error(lambda: _data.transact_write_items(_store(), request))


@FUZZ
@given(_TRANSACT_GET)
def test_fuzz_transact_get_items(request: dict[str, Any]) -> None:
    returns_or_raises_shardline_error(lambda: _data.transact_get_items(_store(), request))
