"""Query and Scan, called directly on an in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import refused

from shardline.local import Store
from shardline.local._store import IndexSpec
from shardline.local.endpoint import _data


@pytest.fixture
def store() -> Iterator[Store]:
    with Store(":memory:") as store:
        store.create_table(
            "Thread",
            key_schema={"ForumName": "S", "Subject": "N"},
            global_indexes=[IndexSpec("byAuthor", {"Author": "S", "Subject": "N"}, "KEYS_ONLY")],
            local_indexes=[IndexSpec("byViews", {"ForumName": "S", "Views": "N"}, "INCLUDE", ("Author",))],
        )
        for subject, author, views in [(1, "ann", 30), (2, "bob", 10), (10, "ann", 20), (-1, "cat", 5)]:
            _data.put_item(
                store,
                {
                    "TableName": "Thread",
                    "Item": {
                        "ForumName": {"S": "S3"},
                        "Subject": {"N": str(subject)},
                        "Author": {"S": author},
                        "Views": {"N": str(views)},
                        "Body": {"S": "text " * subject if subject > 0 else ""},
                    },
                },
            )
        _data.put_item(
            store,
            {"TableName": "Thread", "Item": {"ForumName": {"S": "EC2"}, "Subject": {"N": "5"}, "Author": {"S": "ann"}}},
        )
        yield store


def query(store: Store, key: str = "ForumName = :f", values: dict[str, Any] | None = None, **options: Any) -> Any:
    request = {
        "TableName": "Thread",
        "KeyConditionExpression": key,
        "ExpressionAttributeValues": {":f": {"S": "S3"}, **(values or {})},
        **options,
    }
    return _data.query(store, request)


def subjects(response: dict[str, Any]) -> list[str]:
    return [item["Subject"]["N"] for item in response["Items"]]


def test_query_orders_numbers_by_value(store: Store) -> None:
    response = query(store)
    assert subjects(response) == ["-1", "1", "2", "10"]
    assert (response["Count"], response["ScannedCount"]) == (4, 4)
    assert "LastEvaluatedKey" not in response
    assert subjects(query(store, ScanIndexForward=False)) == ["10", "2", "1", "-1"]


def test_query_sort_conditions(store: Store) -> None:
    assert subjects(query(store, "ForumName = :f AND Subject > :s", {":s": {"N": "1"}})) == ["2", "10"]
    assert subjects(
        query(store, "ForumName = :f AND Subject BETWEEN :a AND :b", {":a": {"N": "0"}, ":b": {"N": "2"}})
    ) == ["1", "2"]


def test_query_pages(store: Store) -> None:
    first = query(store, Limit=3)
    assert subjects(first) == ["-1", "1", "2"]
    assert first["LastEvaluatedKey"] == {"ForumName": {"S": "S3"}, "Subject": {"N": "2"}}
    rest = query(store, Limit=3, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert subjects(rest) == ["10"]
    assert "LastEvaluatedKey" not in rest


def test_query_filter_and_projection(store: Store) -> None:
    response = query(
        store,
        values={":a": {"S": "ann"}},
        FilterExpression="Author = :a",
        ProjectionExpression="Subject, #v",
        ExpressionAttributeNames={"#v": "Views"},
    )
    assert response["Items"] == [
        {"Subject": {"N": "1"}, "Views": {"N": "30"}},
        {"Subject": {"N": "10"}, "Views": {"N": "20"}},
    ]
    assert (response["Count"], response["ScannedCount"]) == (2, 4)
    counted = query(store, values={":a": {"S": "ann"}}, FilterExpression="Author = :a", Select="COUNT")
    assert counted == {"Count": 2, "ScannedCount": 4}


def test_query_on_indexes(store: Store) -> None:
    response = _data.query(
        store,
        {
            "TableName": "Thread",
            "IndexName": "byAuthor",
            "KeyConditionExpression": "Author = :a",
            "ExpressionAttributeValues": {":a": {"S": "ann"}},
        },
    )
    assert response["Items"] == [
        {"ForumName": {"S": "S3"}, "Subject": {"N": "1"}, "Author": {"S": "ann"}},
        {"ForumName": {"S": "EC2"}, "Subject": {"N": "5"}, "Author": {"S": "ann"}},
        {"ForumName": {"S": "S3"}, "Subject": {"N": "10"}, "Author": {"S": "ann"}},
    ]
    views = {"ExpressionAttributeNames": {"#v": "Views"}}  # VIEWS is a reserved word
    local = query(store, "ForumName = :f AND #v > :v", {":v": {"N": "10"}}, IndexName="byViews", **views)
    assert [item["Views"]["N"] for item in local["Items"]] == ["20", "30"]
    assert set(local["Items"][0]) == {"ForumName", "Subject", "Views", "Author"}
    fetched = query(
        store, "ForumName = :f AND #v > :v", {":v": {"N": "25"}}, IndexName="byViews", Select="ALL_ATTRIBUTES", **views
    )
    assert fetched["Items"][0]["Body"] == {"S": "text "}


def test_query_errors(store: Store) -> None:
    assert (
        refused(lambda: query(store, IndexName="nope")).message == "The table does not have the specified index: nope"
    )
    assert refused(lambda: query(store, Select="ALL_PROJECTED_ATTRIBUTES")).message == (
        "1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
    )
    assert refused(lambda: query(store, Select="SPECIFIC_ATTRIBUTES")).message == (
        "1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES"
    )
    assert refused(lambda: query(store, Select="COUNT", ProjectionExpression="Author")).message == (
        "1 validation error detected: Cannot specify the ProjectionExpression when choosing to get only the Count"
    )
    assert refused(
        lambda: _data.query(
            store,
            {
                "TableName": "Thread",
                "IndexName": "byAuthor",
                "KeyConditionExpression": "Author = :a",
                "ExpressionAttributeValues": {":a": {"S": "ann"}},
                "Select": "ALL_ATTRIBUTES",
            },
        )
    ).message == (
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary "
        "index byAuthor because its projection type is not ALL"
    )
    assert (
        refused(
            lambda: _data.query(
                store,
                {
                    "TableName": "Thread",
                    "IndexName": "byAuthor",
                    "KeyConditionExpression": "Author = :a",
                    "ExpressionAttributeValues": {":a": {"S": "ann"}},
                    "ConsistentRead": True,
                },
            )
        ).message
        == "Consistent reads are not supported on global secondary indexes"
    )
    assert refused(lambda: query(store, values={":f": {"N": "1"}})).message == (
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    )
    assert refused(lambda: query(store, Limit=0)).message == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value "
        "greater than or equal to 1"
    )
    assert refused(lambda: query(store, values={":x": {"S": "x"}})).message == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
    )
    assert refused(lambda: _data.query(store, {"TableName": "Thread"})).message == (
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
    )
    assert refused(lambda: query(store, ExclusiveStartKey={"ForumName": {"S": "S3"}})).message == (
        "The provided starting key is invalid: The provided key element does not match the schema"
    )


def test_query_capacity(store: Store) -> None:
    assert query(store, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"] == {
        "TableName": "Thread",
        "CapacityUnits": 0.5,
    }
    response = query(
        store, ReturnConsumedCapacity="INDEXES", IndexName="byViews", KeyConditionExpression="ForumName = :f"
    )
    assert response["ConsumedCapacity"] == {
        "TableName": "Thread",
        "CapacityUnits": 0.5,
        "ReadCapacityUnits": 0.5,
        "LocalSecondaryIndexes": {"byViews": {"CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}},
    }


def scan(store: Store, **options: Any) -> Any:
    return _data.scan(store, {"TableName": "Thread", **options})


def test_scan(store: Store) -> None:
    response = scan(store)
    assert (response["Count"], response["ScannedCount"]) == (5, 5)
    filtered = scan(store, FilterExpression="Author = :a", ExpressionAttributeValues={":a": {"S": "ann"}})
    assert filtered["Count"] == 3
    seen = []
    start = None
    while True:
        page = scan(store, Limit=2, **({"ExclusiveStartKey": start} if start else {}))
        seen.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    assert sorted(map(str, seen)) == sorted(map(str, response["Items"]))


def test_parallel_scan_segments_partition_the_items(store: Store) -> None:
    found = []
    for segment in range(3):
        found.extend(scan(store, Segment=segment, TotalSegments=3)["Items"])
    assert sorted(map(str, found)) == sorted(map(str, scan(store)["Items"]))


def test_scan_segment_errors(store: Store) -> None:
    assert refused(lambda: scan(store, Segment=1)).message == (
        "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
    )
    assert refused(lambda: scan(store, TotalSegments=2)).message == (
        "The Segment parameter is required but was not present in the request when parameter TotalSegments is present"
    )
    assert refused(lambda: scan(store, Segment=2, TotalSegments=2)).message == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 2 is not less "
        "than TotalSegments: 2"
    )
    assert refused(lambda: scan(store, Segment=0, TotalSegments=0)).message == (
        "1 validation error detected: Value '0' at 'totalSegments' failed to satisfy constraint: Member must have "
        "value greater than or equal to 1"
    )
    assert refused(lambda: scan(store, ExpressionAttributeValues={":a": {"S": "a"}})).message == (
        "ExpressionAttributeValues can only be specified when using expressions: FilterExpression is null"
    )
    assert refused(lambda: scan(store, ScanFilter={}, FilterExpression="attribute_exists(Author)")).message == (
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: "
        "{ScanFilter} Expression parameters: {FilterExpression}"
    )


def test_legacy_parameters_are_served(store: Store) -> None:
    # DynamoDB developer guide, "Legacy conditional parameters": KeyConditions, QueryFilter, ScanFilter and
    # AttributesToGet mean what the expressions that replaced them mean.
    response = _data.query(
        store,
        {
            "TableName": "Thread",
            "KeyConditions": {
                "ForumName": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "S3"}]},
                "Subject": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "2.0"}]},
            },
            "QueryFilter": {"Author": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "ann"}]}},
            "AttributesToGet": ["Subject"],
        },
    )
    assert response == {"Items": [{"Subject": {"N": "10"}}], "Count": 1, "ScannedCount": 2}
    scanned = scan(
        store, ScanFilter={"Views": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "10"}, {"N": "20"}]}}
    )
    assert sorted(item["Subject"]["N"] for item in scanned["Items"]) == ["10", "2"]
