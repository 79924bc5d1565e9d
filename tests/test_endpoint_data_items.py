"""GetItem, PutItem, UpdateItem and DeleteItem, called directly on an in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from conftest import refused, stream_records

from shardline.local import Store
from shardline.local._store import IndexSpec
from shardline.local.endpoint import _data


@pytest.fixture
def store() -> Iterator[Store]:
    with Store(":memory:") as store:
        store.create_table("Music", key_schema={"Artist": "S", "SongTitle": "S"})
        store.create_table(
            "Orders",
            key_schema={"pk": "S"},
            global_indexes=[IndexSpec("byStatus", {"status": "S"}, "KEYS_ONLY")],
        )
        yield store


SONG = {"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}}


def put(store: Store, item: dict[str, Any], **options: Any) -> dict[str, Any]:
    return _data.put_item(store, {"TableName": "Music", "Item": item, **options})


def get(store: Store, key: dict[str, Any] = SONG, **options: Any) -> dict[str, Any]:
    return _data.get_item(store, {"TableName": "Music", "Key": key, **options})


def update(store: Store, expression: str | None, **options: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": "Music", "Key": SONG, **options}
    if expression is not None:
        request["UpdateExpression"] = expression
    return _data.update_item(store, request)


# -- PutItem and GetItem --------------------------------------------------------------------------------


def test_put_then_get_normalises_numbers(store: Store) -> None:
    # DynamoDB API reference, PutItem: the example item; numbers come back normalised (developer guide, Number).
    assert put(store, {**SONG, "AlbumTitle": {"S": "Somewhat Famous"}, "Price": {"N": "12.50"}}) == {}
    assert get(store) == {"Item": {**SONG, "AlbumTitle": {"S": "Somewhat Famous"}, "Price": {"N": "12.5"}}}
    assert get(store, {**SONG, "SongTitle": {"S": "Nope"}}) == {}


def test_put_returns_the_old_item_when_asked(store: Store) -> None:
    assert put(store, {**SONG, "n": {"N": "1"}}, ReturnValues="ALL_OLD") == {}
    assert put(store, {**SONG, "n": {"N": "2"}}, ReturnValues="ALL_OLD") == {"Attributes": {**SONG, "n": {"N": "1"}}}
    for returns in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
        error = refused(lambda returns=returns: put(store, SONG, ReturnValues=returns))
        assert error.message == "Return values set to invalid value"
    error = refused(lambda: put(store, SONG, ReturnValues="SOME"))
    assert error.message == (
        "1 validation error detected: Value 'SOME' at 'returnValues' failed to satisfy constraint: Member must "
        "satisfy enum value set: [NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW]"
    )


def test_conditional_put(store: Store) -> None:
    put(store, {**SONG, "n": {"N": "1"}})
    error = refused(
        lambda: put(store, SONG, ConditionExpression="attribute_not_exists(Artist)"), "ConditionalCheckFailedException"
    )
    assert (error.message, error.fields) == ("The conditional request failed", {})
    error = refused(
        lambda: put(
            store,
            SONG,
            ConditionExpression="attribute_not_exists(Artist)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        "ConditionalCheckFailedException",
    )
    assert error.fields == {"Item": {**SONG, "n": {"N": "1"}}}
    assert get(store)["Item"]["n"] == {"N": "1"}  # nothing written
    put(
        store, {**SONG, "n": {"N": "3"}}, ConditionExpression="n = :one", ExpressionAttributeValues={":one": {"N": "1"}}
    )
    assert get(store)["Item"]["n"] == {"N": "3"}


def test_put_key_errors(store: Store) -> None:
    assert refused(lambda: put(store, {"Artist": {"S": "a"}})).message == (
        "One or more parameter values were invalid: Missing the key SongTitle in the item"
    )
    assert refused(lambda: put(store, {"Artist": {"S": "a"}, "SongTitle": {"N": "1"}})).message == (
        "One or more parameter values were invalid: Type mismatch for key SongTitle expected: S actual: N"
    )
    assert refused(lambda: put(store, {"Artist": {"S": ""}, "SongTitle": {"S": "b"}})).message == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
        "empty string value. Key: Artist"
    )
    assert refused(lambda: get(store, {"Artist": {"S": "a"}})).message == (
        "The provided key element does not match the schema"
    )


def test_index_key_types_are_checked(store: Store) -> None:
    error = refused(
        lambda: _data.put_item(store, {"TableName": "Orders", "Item": {"pk": {"S": "a"}, "status": {"N": "1"}}})
    )
    assert error.message == (
        "One or more parameter values were invalid: Type mismatch for Index Key status Expected: S Actual: N "
        "IndexName: byStatus"
    )
    error = refused(
        lambda: _data.put_item(store, {"TableName": "Orders", "Item": {"pk": {"S": "a"}, "status": {"S": ""}}})
    )
    assert error.message == (
        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. "
        "The AttributeValue for a key attribute cannot contain an empty string value. IndexName: byStatus, "
        "IndexKey: status"
    )


def test_missing_table(store: Store) -> None:
    error = refused(lambda: _data.get_item(store, {"TableName": "Nope", "Key": SONG}), "ResourceNotFoundException")
    assert error.message == "Requested resource not found"


def test_projection(store: Store) -> None:
    put(store, {**SONG, "Album": {"S": "x"}, "Info": {"M": {"a": {"L": [{"N": "1"}, {"N": "2"}]}, "b": {"S": "y"}}}})
    assert get(store, ProjectionExpression="Album, Info.a[1]") == {
        "Item": {"Album": {"S": "x"}, "Info": {"M": {"a": {"L": [{"N": "2"}]}}}}
    }
    assert get(store, ProjectionExpression="#i.b", ExpressionAttributeNames={"#i": "Info"}) == {
        "Item": {"Info": {"M": {"b": {"S": "y"}}}}
    }


def test_expression_names_and_values_checked(store: Store) -> None:
    assert refused(lambda: get(store, ExpressionAttributeNames={"#a": "a"})).message == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )
    assert refused(lambda: get(store, ProjectionExpression="a", ExpressionAttributeNames={})).message == (
        "ExpressionAttributeNames must not be empty"
    )
    assert refused(lambda: put(store, SONG, ExpressionAttributeValues={":a": {"S": "a"}})).message == (
        "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"
    )
    assert refused(lambda: update(store, None, ExpressionAttributeValues={":a": {"S": "a"}})).message == (
        "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and "
        "ConditionExpression are null"
    )
    error = refused(
        lambda: update(
            store,
            "SET a = :a",
            ConditionExpression="attribute_exists(b)",
            ExpressionAttributeValues={":a": {"S": "a"}, ":b": {"S": "b"}},
        )
    )
    assert error.message == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"


def test_legacy_parameters(store: Store) -> None:
    error = refused(
        lambda: put(store, SONG, Expected={"a": {"Exists": False}}, ConditionExpression="attribute_not_exists(a)")
    )
    assert error.message == (
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: "
        "{Expected} Expression parameters: {ConditionExpression}"
    )


# -- UpdateItem -----------------------------------------------------------------------------------------


def test_update_return_values(store: Store) -> None:
    put(store, {**SONG, "plays": {"N": "1"}, "info": {"M": {"a": {"S": "x"}, "b": {"S": "y"}}}})
    values = {":one": {"N": "1"}, ":z": {"S": "z"}}
    assert update(
        store, "SET plays = plays + :one, info.a = :z", ExpressionAttributeValues=values, ReturnValues="UPDATED_NEW"
    ) == {"Attributes": {"plays": {"N": "2"}, "info": {"M": {"a": {"S": "z"}}}}}
    assert update(
        store, "SET plays = plays + :one", ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_OLD"
    ) == {"Attributes": {"plays": {"N": "2"}}}
    assert update(store, "REMOVE info", ReturnValues="ALL_OLD")["Attributes"]["info"] == {
        "M": {"a": {"S": "z"}, "b": {"S": "y"}}
    }
    assert update(
        store, "SET plays = :one", ExpressionAttributeValues={":one": {"N": "1.0"}}, ReturnValues="ALL_NEW"
    ) == {"Attributes": {**SONG, "plays": {"N": "1"}}}
    assert update(store, "REMOVE nothing", ReturnValues="UPDATED_NEW") == {}


def test_update_creates_the_item(store: Store) -> None:
    assert update(store, None, ReturnValues="ALL_NEW") == {"Attributes": SONG}
    other = {"Artist": {"S": "b"}, "SongTitle": {"S": "c"}}
    _data.update_item(
        store,
        {
            "TableName": "Music",
            "Key": other,
            "UpdateExpression": "ADD n :two",
            "ExpressionAttributeValues": {":two": {"N": "2"}},
        },
    )
    assert get(store, other) == {"Item": {**other, "n": {"N": "2"}}}


def test_update_conditions_and_keys(store: Store) -> None:
    error = refused(
        lambda: update(
            store,
            "SET a = :a",
            ConditionExpression="attribute_exists(Artist)",
            ExpressionAttributeValues={":a": {"S": "a"}},
        ),
        "ConditionalCheckFailedException",
    )
    assert error.fields == {}
    assert get(store) == {}
    error = refused(lambda: update(store, "SET Artist = :a", ExpressionAttributeValues={":a": {"S": "a"}}))
    assert error.message == (
        "One or more parameter values were invalid: Cannot update attribute Artist. This attribute is part of the key"
    )


def test_update_size_limit(store: Store) -> None:
    put(store, {**SONG, "a": {"S": "x" * 300_000}})
    error = refused(lambda: update(store, "SET b = a", ConditionExpression="attribute_exists(a)"))
    assert error.message == "Item size to update has exceeded the maximum allowed size"


# -- DeleteItem -----------------------------------------------------------------------------------------


def test_delete(store: Store) -> None:
    put(store, {**SONG, "n": {"N": "1"}})
    request = {"TableName": "Music", "Key": SONG, "ReturnValues": "ALL_OLD"}
    assert _data.delete_item(
        store, dict(request, ConditionExpression="n = :n", ExpressionAttributeValues={":n": {"N": "1"}})
    ) == {"Attributes": {**SONG, "n": {"N": "1"}}}
    assert _data.delete_item(store, request) == {}
    assert refused(lambda: _data.delete_item(store, dict(request, ReturnValues="ALL_NEW"))).message == (
        "Return values set to invalid value"
    )


# -- streams and capacity -------------------------------------------------------------------------------


def test_writes_produce_the_records_a_store_write_does(store: Store) -> None:
    table = store.table("Music")
    put(store, {**SONG, "n": {"N": "1.50"}})
    put(store, {**SONG, "n": {"N": "1.5"}})  # the same item: no record
    update(store, "SET n = :n", ExpressionAttributeValues={":n": {"N": "1.50"}})  # unchanged: no record
    update(store, "SET n = :n", ExpressionAttributeValues={":n": {"N": "2"}})
    _data.delete_item(store, {"TableName": "Music", "Key": SONG})
    _data.delete_item(store, {"TableName": "Music", "Key": SONG})  # missing: no record
    records = stream_records(table)
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[0]["dynamodb"]["NewImage"] == {**SONG, "n": {"N": "1.5"}}
    assert records[1]["dynamodb"]["OldImage"] == {**SONG, "n": {"N": "1.5"}}
    assert records[1]["dynamodb"]["NewImage"] == {**SONG, "n": {"N": "2"}}
    twin = store.create_table("Twin", key_schema={"Artist": "S", "SongTitle": "S"})
    expected = twin.put_item({"Artist": "No One You Know", "SongTitle": "Call Me Today", "n": Decimal("1.50")})
    assert expected is not None
    assert records[0]["dynamodb"]["Keys"] == expected["dynamodb"]["Keys"]
    assert records[0]["dynamodb"]["SizeBytes"] == expected["dynamodb"]["SizeBytes"]


def test_consumed_capacity(store: Store) -> None:
    item = {**SONG, "blob": {"S": "x" * 1500}}
    assert put(store, item, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"] == {
        "TableName": "Music",
        "CapacityUnits": 2.0,
    }
    assert get(store, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"] == {
        "TableName": "Music",
        "CapacityUnits": 0.5,
    }
    assert get(store, ReturnConsumedCapacity="TOTAL", ConsistentRead=True)["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert "ConsumedCapacity" not in get(store, ReturnConsumedCapacity="NONE")
    response = _data.put_item(
        store,
        {
            "TableName": "Orders",
            "Item": {"pk": {"S": "a"}, "status": {"S": "NEW"}},
            "ReturnConsumedCapacity": "INDEXES",
        },
    )
    assert response["ConsumedCapacity"] == {
        "TableName": "Orders",
        "CapacityUnits": 2.0,
        "WriteCapacityUnits": 2.0,
        "Table": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
        "GlobalSecondaryIndexes": {"byStatus": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}},
    }
