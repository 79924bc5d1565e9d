"""BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems, called directly on an in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import refused, stream_records

from shardline.local import Store
from shardline.local.endpoint import _data


@pytest.fixture
def store() -> Iterator[Store]:
    with Store(":memory:") as store:
        store.create_table("Forum", key_schema={"Name": "S"})
        store.create_table("Thread", key_schema={"ForumName": "S", "Subject": "S"})
        yield store


def forum(name: str, **attributes: Any) -> dict[str, Any]:
    return {"Name": {"S": name}, **attributes}


def write(store: Store, items: dict[str, Any], **options: Any) -> dict[str, Any]:
    return _data.batch_write_item(store, {"RequestItems": items, **options})


# -- BatchWriteItem and BatchGetItem --------------------------------------------------------------------


def test_batch_write_then_get(store: Store) -> None:
    assert write(
        store,
        {
            "Forum": [
                {"PutRequest": {"Item": forum("Amazon DynamoDB", Threads={"N": "2.0"})}},
                {"PutRequest": {"Item": forum("Amazon S3")}},
            ],
            "Thread": [{"PutRequest": {"Item": {"ForumName": {"S": "Amazon S3"}, "Subject": {"S": "a"}}}}],
        },
    ) == {"UnprocessedItems": {}}
    response = _data.batch_get_item(
        store,
        {
            "RequestItems": {
                "Forum": {
                    "Keys": [{"Name": {"S": "Amazon DynamoDB"}}, {"Name": {"S": "Missing"}}],
                    "ProjectionExpression": "#n, Threads",
                    "ExpressionAttributeNames": {"#n": "Name"},
                },
                "Thread": {"Keys": [{"ForumName": {"S": "Amazon S3"}, "Subject": {"S": "a"}}], "ConsistentRead": True},
            },
            "ReturnConsumedCapacity": "TOTAL",
        },
    )
    assert response == {
        "Responses": {
            "Forum": [forum("Amazon DynamoDB", Threads={"N": "2"})],
            "Thread": [{"ForumName": {"S": "Amazon S3"}, "Subject": {"S": "a"}}],
        },
        "UnprocessedKeys": {},
        "ConsumedCapacity": [
            {"TableName": "Forum", "CapacityUnits": 1.0},
            {"TableName": "Thread", "CapacityUnits": 1.0},
        ],
    }
    write(store, {"Forum": [{"DeleteRequest": {"Key": forum("Amazon S3")}}]})
    assert [r["eventName"] for r in stream_records(store.table("Forum"))] == ["INSERT", "INSERT", "REMOVE"]


def test_batch_limits_and_duplicates(store: Store) -> None:
    puts = [{"PutRequest": {"Item": forum(str(n))}} for n in range(26)]
    assert refused(lambda: write(store, {"Forum": puts})).message.startswith("1 validation error detected: ")
    twice = [{"PutRequest": {"Item": forum("a")}}, {"DeleteRequest": {"Key": forum("a")}}]
    assert refused(lambda: write(store, {"Forum": twice})).message == "Provided list of item keys contains duplicates"
    keys = [forum("a"), forum("a")]
    assert refused(lambda: _data.batch_get_item(store, {"RequestItems": {"Forum": {"Keys": keys}}})).message == (
        "Provided list of item keys contains duplicates"
    )
    many = [forum(str(n)) for n in range(101)]
    assert refused(lambda: _data.batch_get_item(store, {"RequestItems": {"Forum": {"Keys": many}}})).message == (
        "Too many items requested for the BatchGetItem call"
    )
    error = refused(
        lambda: write(store, {"Nope": [{"DeleteRequest": {"Key": forum("a")}}]}), "ResourceNotFoundException"
    )
    assert error.message == "Requested resource not found"
    assert stream_records(store.table("Forum")) == []


# -- TransactWriteItems and TransactGetItems ------------------------------------------------------------


def transact(store: Store, *actions: dict[str, Any], **options: Any) -> dict[str, Any]:
    return _data.transact_write_items(store, {"TransactItems": list(actions), **options})


def test_transaction_is_all_or_nothing_across_tables(store: Store) -> None:
    _data.put_item(store, {"TableName": "Forum", "Item": forum("f", Threads={"N": "1"})})
    thread = {"ForumName": {"S": "f"}, "Subject": {"S": "s"}}
    check = {
        "ConditionCheck": {
            "TableName": "Forum",
            "Key": forum("f"),
            "ConditionExpression": "Threads = :n",
            "ExpressionAttributeValues": {":n": {"N": "5"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    put = {"Put": {"TableName": "Thread", "Item": thread, "ConditionExpression": "attribute_not_exists(Subject)"}}
    error = refused(lambda: transact(store, put, check), "TransactionCanceledException")
    assert error.message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    )
    assert error.fields == {
        "CancellationReasons": [
            {"Code": "None"},
            {
                "Code": "ConditionalCheckFailed",
                "Message": "The conditional request failed",
                "Item": forum("f", Threads={"N": "1"}),
            },
        ]
    }
    assert stream_records(store.table("Thread")) == []
    update = {
        "Update": {
            "TableName": "Forum",
            "Key": forum("f"),
            "UpdateExpression": "ADD Threads :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    response = transact(store, put, update, ReturnConsumedCapacity="TOTAL", ClientRequestToken="token-1")
    assert response == {
        "ConsumedCapacity": [
            {"TableName": "Thread", "CapacityUnits": 2.0},
            {"TableName": "Forum", "CapacityUnits": 2.0},
        ]
    }
    assert _data.get_item(store, {"TableName": "Forum", "Key": forum("f")})["Item"]["Threads"] == {"N": "2"}
    got = _data.transact_get_items(
        store,
        {
            "TransactItems": [
                {"Get": {"TableName": "Thread", "Key": thread}},
                {"Get": {"TableName": "Forum", "Key": forum("nope")}},
                {"Get": {"TableName": "Forum", "Key": forum("f"), "ProjectionExpression": "Threads"}},
            ]
        },
    )
    assert got == {"Responses": [{"Item": thread}, {}, {"Item": {"Threads": {"N": "2"}}}]}


def test_transaction_errors(store: Store) -> None:
    delete = {"Delete": {"TableName": "Forum", "Key": forum("a")}}
    assert refused(lambda: transact(store, delete, delete)).message == (
        "Transaction request cannot include multiple operations on one item"
    )
    assert refused(lambda: transact(store, {"Put": {}, "Delete": {}})).message == (
        "TransactItems can only contain one of Check, Put, Update or Delete"
    )
    missing = {"Delete": {"TableName": "Nope", "Key": forum("a")}}
    assert (
        refused(lambda: transact(store, missing), "ResourceNotFoundException").message == "Requested resource not found"
    )
    bad_update = {
        "Update": {
            "TableName": "Forum",
            "Key": forum("a"),
            "UpdateExpression": "SET n = n + :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    error = refused(lambda: transact(store, bad_update), "TransactionCanceledException")
    assert (
        error.message
        == "Transaction cancelled, please refer cancellation reasons for specific reasons [ValidationError]"
    )
    assert error.fields["CancellationReasons"] == [
        {
            "Code": "ValidationError",
            "Message": "The provided expression refers to an attribute that does not exist in the item",
        }
    ]
