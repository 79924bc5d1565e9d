"""The data plane end to end: a boto3 client against ``serve(store, port=0)``, with the AWS documentation's
examples (DynamoDB API reference, the "Examples" section of each operation)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import aws_client, stream_records

from shardline.local import Store
from shardline.local.endpoint import serve

ARTIST = {"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}}


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with Store(":memory:") as store:
        yield store


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[Any]:
    with serve(store, port=0) as endpoint:
        yield aws_client("dynamodb", endpoint.url)


@pytest.fixture
def music(store: Store) -> Iterator[str]:
    store.create_table("Music", key_schema={"Artist": "S", "SongTitle": "S"})
    yield "Music"
    store.delete_table("Music")


def strip(response: dict[str, Any]) -> dict[str, Any]:
    response.pop("ResponseMetadata", None)
    return response


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    return response


def test_put_get_update_delete(client: Any, store: Store, music: str) -> None:
    # PutItem's example: "To add an item to a table".
    item = {**ARTIST, "AlbumTitle": {"S": "Somewhat Famous"}, "Price": {"N": "1.50"}}
    assert strip(client.put_item(TableName=music, Item=item, ReturnConsumedCapacity="TOTAL")) == {
        "ConsumedCapacity": {"TableName": "Music", "CapacityUnits": 1.0}
    }
    # GetItem's example: "To read an item from a table".
    assert strip(client.get_item(TableName=music, Key=ARTIST)) == {"Item": {**item, "Price": {"N": "1.5"}}}
    assert strip(client.get_item(TableName=music, Key=ARTIST, ProjectionExpression="AlbumTitle")) == {
        "Item": {"AlbumTitle": {"S": "Somewhat Famous"}}
    }
    # UpdateItem's example: "To update an item in a table".
    response = client.update_item(
        TableName=music,
        Key=ARTIST,
        UpdateExpression="SET #Y = :y, #AT = :t",
        ExpressionAttributeNames={"#AT": "AlbumTitle", "#Y": "Year"},
        ExpressionAttributeValues={":t": {"S": "Louder Than Ever"}, ":y": {"N": "2015"}},
        ReturnValues="ALL_NEW",
    )
    assert strip(response) == {
        "Attributes": {**ARTIST, "AlbumTitle": {"S": "Louder Than Ever"}, "Price": {"N": "1.5"}, "Year": {"N": "2015"}}
    }
    error = error_of(
        lambda: client.delete_item(
            TableName=music,
            Key=ARTIST,
            ConditionExpression="#Y < :y",
            ExpressionAttributeNames={"#Y": "Year"},
            ExpressionAttributeValues={":y": {"N": "2000"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    )
    assert error["Error"] == {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}
    assert error["Item"]["Year"] == {"N": "2015"}
    # DeleteItem's example: "To delete an item".
    assert strip(client.delete_item(TableName=music, Key=ARTIST, ReturnValues="ALL_OLD"))["Attributes"]["Year"] == {
        "N": "2015"
    }
    assert [record["eventName"] for record in stream_records(store.table(music))] == ["INSERT", "MODIFY", "REMOVE"]


def test_batch_query_scan(client: Any, music: str) -> None:
    # BatchWriteItem's example: "To add multiple items to a table".
    songs = [
        {
            "Artist": {"S": "No One You Know"},
            "SongTitle": {"S": "Call Me Today"},
            "AlbumTitle": {"S": "Somewhat Famous"},
        },
        {"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"}, "AlbumTitle": {"S": "Songs About Life"}},
        {
            "Artist": {"S": "No One You Know"},
            "SongTitle": {"S": "Scared of My Shadow"},
            "AlbumTitle": {"S": "Blue Sky Blues"},
        },
    ]
    response = client.batch_write_item(RequestItems={music: [{"PutRequest": {"Item": song}} for song in songs]})
    assert strip(response) == {"UnprocessedItems": {}}
    # BatchGetItem's example: "To retrieve multiple items from a table".
    response = client.batch_get_item(
        RequestItems={
            music: {
                "Keys": [{"Artist": song["Artist"], "SongTitle": song["SongTitle"]} for song in songs],
                "ProjectionExpression": "AlbumTitle",
            }
        }
    )
    assert sorted(item["AlbumTitle"]["S"] for item in response["Responses"][music]) == [
        "Blue Sky Blues",
        "Somewhat Famous",
        "Songs About Life",
    ]
    assert response["UnprocessedKeys"] == {}
    # Query's example: "To query an item".
    response = client.query(
        TableName=music,
        ProjectionExpression="SongTitle",
        KeyConditionExpression="Artist = :v1",
        ExpressionAttributeValues={":v1": {"S": "No One You Know"}},
    )
    assert strip(response) == {
        "Items": [{"SongTitle": {"S": "Call Me Today"}}, {"SongTitle": {"S": "Scared of My Shadow"}}],
        "Count": 2,
        "ScannedCount": 2,
    }
    # Scan's example: "To scan a table".
    response = client.scan(
        TableName=music,
        FilterExpression="Artist = :a",
        ProjectionExpression="#ST, #AT",
        ExpressionAttributeNames={"#ST": "SongTitle", "#AT": "AlbumTitle"},
        ExpressionAttributeValues={":a": {"S": "No One You Know"}},
    )
    assert (response["Count"], response["ScannedCount"]) == (2, 3)
    paginator = client.get_paginator("scan")
    assert sum(page["Count"] for page in paginator.paginate(TableName=music, Limit=1)) == 3


def test_transactions(client: Any, music: str) -> None:
    client.put_item(TableName=music, Item={**ARTIST, "Plays": {"N": "1"}})
    other = {"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"}}
    error = error_of(
        lambda: client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": music, "Item": other}},
                {
                    "ConditionCheck": {
                        "TableName": music,
                        "Key": ARTIST,
                        "ConditionExpression": "Plays > :n",
                        "ExpressionAttributeValues": {":n": {"N": "5"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    )
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {**ARTIST, "Plays": {"N": "1"}},
        },
    ]
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": music, "Item": other}},
            {
                "Update": {
                    "TableName": music,
                    "Key": ARTIST,
                    "UpdateExpression": "ADD Plays :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ],
        ClientRequestToken="a-token",
    )
    response = client.transact_get_items(
        TransactItems=[{"Get": {"TableName": music, "Key": ARTIST}}, {"Get": {"TableName": music, "Key": other}}]
    )
    assert strip(response) == {"Responses": [{"Item": {**ARTIST, "Plays": {"N": "2"}}}, {"Item": other}]}


def test_errors(client: Any, music: str) -> None:
    error = error_of(lambda: client.get_item(TableName="Missing", Key=ARTIST))
    assert error["Error"] == {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}
    error = error_of(lambda: client.get_item(TableName=music, Key={"Artist": {"S": "a"}}))
    assert error["Error"] == {
        "Code": "ValidationException",
        "Message": "The provided key element does not match the schema",
    }
    error = error_of(
        lambda: client.put_item(
            TableName=music,
            Item=ARTIST,
            ConditionExpression="attribute_exists(a)",
            ExpressionAttributeValues={":x": {"S": "x"}},
        )
    )
    assert error["Error"]["Message"] == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
