"""The control plane through boto3: CreateTable ... UpdateTimeToLive, tags, limits (DynamoDB API reference), and the
same calls against moto where moto answers as DynamoDB does."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import aws_client, client_error, create_table, without_metadata

from shardline import item_size, serialize_item
from shardline.local import Store
from shardline.local._store import IndexSpec
from shardline.local.endpoint import Endpoint

boto3 = pytest.importorskip("boto3")
ClientError = pytest.importorskip("botocore.exceptions").ClientError

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/"
PK = [{"AttributeName": "pk", "KeyType": "HASH"}]
PK_SK = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


def defs(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def orders(dynamodb: Any, **more: Any) -> dict[str, Any]:
    return create_table(dynamodb, "Orders", {"pk": "S", "sk": "N"}, **more)


# -- CreateTable and DescribeTable -------------------------------------------------------------------------


def test_create_table_describes_the_table(dynamodb: Any, store: Store) -> None:
    created = orders(dynamodb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    table = store.table("Orders")
    assert table.key_schema == {"pk": "S", "sk": "N"}
    assert table.stream_view_type == "NEW_IMAGE"
    when = created.pop("CreationDateTime")
    assert when.timestamp() == table.created_ms / 1000
    assert created.pop("BillingModeSummary")["BillingMode"] == "PAY_PER_REQUEST"
    table_id = created.pop("TableId")
    assert len(table_id) == 36
    label = table.stream_arn.rsplit("/", 1)[1] if table.stream_arn else None
    assert created == {
        "AttributeDefinitions": defs(pk="S", sk="N"),
        "TableName": "Orders",
        "KeySchema": PK_SK,
        "TableStatus": "ACTIVE",
        "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        "TableSizeBytes": 0,
        "ItemCount": 0,
        "TableArn": ARN + "Orders",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        "LatestStreamLabel": label,
        "LatestStreamArn": f"{ARN}Orders/stream/{label}",
        "DeletionProtectionEnabled": False,
    }
    described = dynamodb.describe_table(TableName="Orders")["Table"]
    assert described["TableId"] == table_id
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


def test_describe_counts_items_and_bytes(dynamodb: Any, store: Store) -> None:
    orders(dynamodb)
    table = store.table("Orders")
    table.put_item({"pk": "a", "sk": 1, "note": "hello"})
    table.put_item({"pk": "b", "sk": 2})
    described = dynamodb.describe_table(TableName=ARN + "Orders")["Table"]
    assert (described["ItemCount"], described["TableSizeBytes"]) == (2, table.size_bytes())
    sizes = [item_size(serialize_item(item)) for item in ({"pk": "a", "sk": 1, "note": "hello"}, {"pk": "b", "sk": 2})]
    assert described["TableSizeBytes"] == sum(sizes)


def test_a_table_without_a_stream(dynamodb: Any, store: Store) -> None:
    described = orders(dynamodb)
    assert "StreamSpecification" not in described
    assert "LatestStreamArn" not in described
    assert store.table("Orders").stream_enabled is False


def test_provisioned_tables_and_indexes(dynamodb: Any) -> None:
    created = dynamodb.create_table(
        TableName="Orders",
        KeySchema=PK_SK,
        AttributeDefinitions=defs(pk="S", sk="N", status="S", created="N"),
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byStatus",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "created", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byCreated",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "created", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        Tags=[{"Key": "team", "Value": "orders"}],
        TableClass="STANDARD_INFREQUENT_ACCESS",
        DeletionProtectionEnabled=True,
    )["TableDescription"]
    assert created["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 5,
        "WriteCapacityUnits": 7,
    }
    assert created["BillingModeSummary"] == {"BillingMode": "PROVISIONED"}
    assert created["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "byStatus",
            "KeySchema": [
                {"AttributeName": "status", "KeyType": "HASH"},
                {"AttributeName": "created", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
            "IndexStatus": "ACTIVE",
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            "IndexSizeBytes": 0,
            "ItemCount": 0,
            "IndexArn": ARN + "Orders/index/byStatus",
        }
    ]
    assert created["LocalSecondaryIndexes"] == [
        {
            "IndexName": "byCreated",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "created", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
            "IndexSizeBytes": 0,
            "ItemCount": 0,
            "IndexArn": ARN + "Orders/index/byCreated",
        }
    ]
    assert created["TableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    assert created["DeletionProtectionEnabled"] is True
    assert dynamodb.list_tags_of_resource(ResourceArn=ARN + "Orders")["Tags"] == [{"Key": "team", "Value": "orders"}]
    assert client_error(dynamodb.delete_table, TableName="Orders") == (
        "ValidationException",
        "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
    )
    dynamodb.update_table(TableName="Orders", DeletionProtectionEnabled=False)
    assert dynamodb.delete_table(TableName="Orders")["TableDescription"]["TableStatus"] == "DELETING"


INVALID = "One or more parameter values were invalid: "


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"AttributeDefinitions": defs(pk="S", other="S"), "KeySchema": PK},
            INVALID + "Number of attributes in KeySchema does not exactly match number of attributes defined in "
            "AttributeDefinitions",
        ),
        (
            {"AttributeDefinitions": defs(sk="S"), "KeySchema": PK},
            "Invalid KeySchema: Some index key attribute have no definition",
        ),
        (
            {"AttributeDefinitions": defs(pk="S", pk2="S"), "KeySchema": [PK[0], {**PK[0], "AttributeName": "pk2"}]},
            "Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key",
        ),
        (
            {"AttributeDefinitions": defs(pk="S"), "KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}]},
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            {"AttributeDefinitions": defs(pk="S"), "KeySchema": [PK[0], {"AttributeName": "pk", "KeyType": "RANGE"}]},
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
        (
            {
                "AttributeDefinitions": defs(a="S", b="S", c="S"),
                "KeySchema": [
                    {"AttributeName": "a", "KeyType": "HASH"},
                    {"AttributeName": "b", "KeyType": "RANGE"},
                    {"AttributeName": "c", "KeyType": "RANGE"},
                ],
            },
            "1 validation error detected: Value '[KeySchemaElement(attributeName=a, keyType=HASH), "
            "KeySchemaElement(attributeName=b, keyType=RANGE), KeySchemaElement(attributeName=c, keyType=RANGE)]' "
            "at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
        ),
        (
            {"AttributeDefinitions": [*defs(pk="S"), *defs(pk="N")], "KeySchema": PK},
            INVALID + "Duplicate AttributeName: pk",
        ),
        (
            {"AttributeDefinitions": defs(pk="S"), "KeySchema": PK, "BillingMode": "PROVISIONED"},
            INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
        (
            {
                "AttributeDefinitions": defs(pk="S"),
                "KeySchema": PK,
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            },
            INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
            "PAY_PER_REQUEST",
        ),
        (
            {"AttributeDefinitions": defs(pk="S"), "KeySchema": PK, "GlobalSecondaryIndexes": []},
            INVALID + "List of GlobalSecondaryIndexes is empty",
        ),
        (
            {
                "AttributeDefinitions": defs(pk="S", g="S", unused="N"),
                "KeySchema": PK,
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "byG",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
            },
            INVALID
            + "Some AttributeDefinitions are not used. AttributeDefinitions: [g, pk, unused], keys used: [g, pk]",
        ),
        (
            {
                "AttributeDefinitions": defs(pk="S"),
                "KeySchema": PK,
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "byG",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
            },
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. Keys: [g], "
            "AttributeDefinitions: [pk]",
        ),
        (
            {
                "AttributeDefinitions": defs(pk="S", other="S"),
                "KeySchema": PK,
                "LocalSecondaryIndexes": [
                    {
                        "IndexName": "byOther",
                        "KeySchema": [PK[0], {"AttributeName": "other", "KeyType": "RANGE"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
            },
            INVALID + "Table KeySchema does not have a range key, which is required when specifying a "
            "LocalSecondaryIndex",
        ),
        (
            {
                "AttributeDefinitions": defs(pk="S"),
                "KeySchema": PK,
                "StreamSpecification": {"StreamEnabled": True},
            },
            INVALID + "StreamViewType is required when StreamEnabled is true",
        ),
        (
            {"KeySchema": PK},
            "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: "
            "Member must not be null",
        ),
    ],
)
def test_create_table_refusals(dynamodb: Any, arguments: dict[str, Any], expected: str) -> None:
    arguments = {"TableName": "Orders", "BillingMode": "PAY_PER_REQUEST", **arguments}
    assert client_error(dynamodb.create_table, **arguments) == ("ValidationException", expected)
    assert dynamodb.list_tables()["TableNames"] == []


def test_create_an_existing_table(dynamodb: Any) -> None:
    orders(dynamodb)
    assert client_error(
        dynamodb.create_table,
        TableName="Orders",
        KeySchema=PK,
        AttributeDefinitions=defs(pk="S"),
        BillingMode="PAY_PER_REQUEST",
    ) == (
        "ResourceInUseException",
        "Table already exists: Orders",
    )


def test_tables_made_by_the_store_are_described(dynamodb: Any, store: Store) -> None:
    store.create_table("Events", key_schema={"id": "S", "at": "N"}, global_indexes=[IndexSpec("byKind", {"kind": "S"})])
    described = dynamodb.describe_table(TableName="Events")["Table"]
    assert described["AttributeDefinitions"] == defs(id="S", at="N", kind="S")
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert described["GlobalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "ALL"}


# -- ListTables and DeleteTable ----------------------------------------------------------------------------


def test_list_tables_pages(dynamodb: Any, store: Store) -> None:
    for name in ("Cc", "Aa", "Bb", "Dd"):
        store.create_table(name + "x", key_schema={"pk": "S"})
    assert without_metadata(dynamodb.list_tables(Limit=2)) == {
        "TableNames": ["Aax", "Bbx"],
        "LastEvaluatedTableName": "Bbx",
    }
    assert without_metadata(dynamodb.list_tables(Limit=2, ExclusiveStartTableName="Bbx")) == {
        "TableNames": ["Ccx", "Ddx"]
    }
    assert without_metadata(dynamodb.list_tables(ExclusiveStartTableName="Ddx")) == {"TableNames": []}
    paginated = [
        name
        for page in dynamodb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
        for name in page["TableNames"]
    ]
    assert paginated == ["Aax", "Bbx", "Ccx", "Ddx"]
    assert client_error(dynamodb.list_tables, Limit=101) == (
        "ValidationException",
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value "
        "less than or equal to 100",
    )


def test_delete_table(dynamodb: Any, store: Store) -> None:
    orders(dynamodb)
    deleted = dynamodb.delete_table(TableName="Orders")["TableDescription"]
    assert (deleted["TableName"], deleted["TableStatus"]) == ("Orders", "DELETING")
    assert store.tables() == []
    assert client_error(dynamodb.delete_table, TableName="Orders") == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: Orders not found",
    )
    assert client_error(dynamodb.describe_table, TableName="Orders") == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: Orders not found",
    )


# -- UpdateTable -------------------------------------------------------------------------------------------


def test_update_table_turns_the_stream_on_and_off(dynamodb: Any, store: Store) -> None:
    orders(dynamodb)
    on = dynamodb.update_table(
        TableName="Orders", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    first = on["TableDescription"]["LatestStreamArn"]
    assert on["TableDescription"]["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    code, message = client_error(
        dynamodb.update_table,
        TableName="Orders",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    assert (code, message) == ("ValidationException", "Table already has an enabled stream: TableName: Orders")
    off = dynamodb.update_table(TableName="Orders", StreamSpecification={"StreamEnabled": False})["TableDescription"]
    assert off["StreamSpecification"] == {"StreamEnabled": False}
    assert off["LatestStreamArn"] == first
    assert client_error(dynamodb.update_table, TableName="Orders", StreamSpecification={"StreamEnabled": False}) == (
        "ValidationException",
        "Table has no stream to disable: TableName: Orders",
    )
    assert client_error(
        dynamodb.update_table,
        TableName="Orders",
        StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"},
    ) == ("ValidationException", INVALID + "If stream is being disabled, then UpdateViewType must not be specified")
    again = dynamodb.update_table(
        TableName="Orders", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )["TableDescription"]
    assert again["LatestStreamArn"] != first
    assert store.table("Orders").stream_view_type == "NEW_IMAGE"


def test_update_table_adds_and_removes_a_global_index(dynamodb: Any, store: Store) -> None:
    orders(dynamodb)
    store.table("Orders").put_item({"pk": "a", "sk": 1, "status": "NEW"})
    added = dynamodb.update_table(
        TableName="Orders",
        AttributeDefinitions=defs(status="S"),
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "byStatus",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )["TableDescription"]
    assert [index["IndexName"] for index in added["GlobalSecondaryIndexes"]] == ["byStatus"]
    assert added["AttributeDefinitions"] == defs(pk="S", sk="N", status="S")
    page = store.table("Orders").query_page({"S": "NEW"}, index="byStatus")
    assert [item.image for item in page.items] == [{"pk": {"S": "a"}, "sk": {"N": "1"}, "status": {"S": "NEW"}}]
    assert client_error(
        dynamodb.update_table,
        TableName="Orders",
        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byStatus"}}, {"Delete": {"IndexName": "other"}}],
    ) == (
        "LimitExceededException",
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
    )
    removed = dynamodb.update_table(
        TableName="Orders", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byStatus"}}]
    )
    assert "GlobalSecondaryIndexes" not in removed["TableDescription"]
    assert removed["TableDescription"]["AttributeDefinitions"] == defs(pk="S", sk="N")
    assert client_error(
        dynamodb.update_table, TableName="Orders", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byStatus"}}]
    ) == (
        "ResourceNotFoundException",
        "Requested resource not found: Index: byStatus not found",
    )


def test_update_table_billing(dynamodb: Any) -> None:
    orders(dynamodb)
    provisioned = dynamodb.update_table(
        TableName="Orders",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )["TableDescription"]
    assert provisioned["BillingModeSummary"] == {"BillingMode": "PROVISIONED"}
    assert provisioned["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    back = dynamodb.update_table(TableName="Orders", BillingMode="PAY_PER_REQUEST")["TableDescription"]
    assert back["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert client_error(dynamodb.update_table, TableName="Orders") == (
        "ValidationException",
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or "
        "SSESpecification or ReplicaUpdates is required",
    )
    assert client_error(dynamodb.update_table, TableName="Missing", BillingMode="PAY_PER_REQUEST") == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: Missing not found",
    )


# -- Time to Live ------------------------------------------------------------------------------------------


def test_time_to_live(dynamodb: Any, store: Store) -> None:
    orders(dynamodb)
    assert without_metadata(dynamodb.describe_time_to_live(TableName="Orders")) == {
        "TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}
    }
    enable = {"Enabled": True, "AttributeName": "expires"}
    assert without_metadata(dynamodb.update_time_to_live(TableName="Orders", TimeToLiveSpecification=enable)) == {
        "TimeToLiveSpecification": enable
    }
    assert store.table("Orders").ttl_attribute == "expires"
    assert without_metadata(dynamodb.describe_time_to_live(TableName="Orders")) == {
        "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    }
    assert client_error(dynamodb.update_time_to_live, TableName="Orders", TimeToLiveSpecification=enable) == (
        "ValidationException",
        "TimeToLive is already enabled",
    )
    assert client_error(
        dynamodb.update_time_to_live,
        TableName="Orders",
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "x"},
    ) == ("ValidationException", "TimeToLive is active on a different AttributeName: current AttributeName is expires")
    dynamodb.update_time_to_live(TableName="Orders", TimeToLiveSpecification={**enable, "Enabled": False})
    assert store.table("Orders").ttl_attribute is None
    assert client_error(
        dynamodb.update_time_to_live, TableName="Orders", TimeToLiveSpecification={**enable, "Enabled": False}
    ) == (
        "ValidationException",
        "TimeToLive is already disabled",
    )
    assert client_error(dynamodb.describe_time_to_live, TableName="Missing") == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: Missing not found",
    )


# -- tags, limits, endpoints -------------------------------------------------------------------------------


def test_tags(dynamodb: Any) -> None:
    orders(dynamodb)
    arn = ARN + "Orders"
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "3"}])
    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["b", "never"])
    assert without_metadata(dynamodb.list_tags_of_resource(ResourceArn=arn)) == {"Tags": [{"Key": "a", "Value": "3"}]}
    missing = ARN + "Missing"
    assert client_error(dynamodb.list_tags_of_resource, ResourceArn=missing) == (
        "ResourceNotFoundException",
        f"Requested resource not found: ResourceArn: {missing} not found",
    )
    assert client_error(dynamodb.tag_resource, ResourceArn="Orders", Tags=[]) == (
        "ValidationException",
        "Invalid TableArn: Invalid ResourceArn provided as input Orders",
    )
    too_many = [{"Key": f"k{n}", "Value": ""} for n in range(50)]
    assert client_error(dynamodb.tag_resource, ResourceArn=arn, Tags=too_many) == (
        "LimitExceededException",
        "The number of tags on a resource cannot exceed 50",
    )


def test_limits_endpoints_and_backups(dynamodb: Any, endpoint: Endpoint) -> None:
    assert without_metadata(dynamodb.describe_limits()) == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }
    assert without_metadata(dynamodb.describe_endpoints()) == {
        "Endpoints": [{"Address": f"127.0.0.1:{endpoint.port}", "CachePeriodInMinutes": 1440}]
    }
    orders(dynamodb)
    assert dynamodb.describe_continuous_backups(TableName="Orders")["ContinuousBackupsDescription"] == {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }


def test_waiters_see_active_tables(dynamodb: Any) -> None:
    orders(dynamodb)
    dynamodb.get_waiter("table_exists").wait(TableName="Orders", WaiterConfig={"Delay": 0, "MaxAttempts": 1})
    dynamodb.delete_table(TableName="Orders")
    dynamodb.get_waiter("table_not_exists").wait(TableName="Orders", WaiterConfig={"Delay": 0, "MaxAttempts": 1})


# -- against moto ------------------------------------------------------------------------------------------


MOTO_CASES: list[dict[str, Any]] = [
    {"KeySchema": PK, "AttributeDefinitions": defs(pk="S"), "BillingMode": "PAY_PER_REQUEST"},
    {
        "KeySchema": PK_SK,
        "AttributeDefinitions": defs(pk="S", sk="N"),
        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    },
    {
        "KeySchema": PK,
        "AttributeDefinitions": defs(pk="S", g="N"),
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
            }
        ],
    },
    # Refusals moto words as DynamoDB does.
    {"KeySchema": PK, "AttributeDefinitions": defs(pk="S", other="S"), "BillingMode": "PAY_PER_REQUEST"},
    {"KeySchema": PK, "AttributeDefinitions": defs(pk="S")},
]

# Members compared: moto also fills in members DynamoDB leaves out for these tables (WarmThroughput,
# an SSEDescription) and reports the provisioned throughput of on-demand tables differently.
COMPARED = ("AttributeDefinitions", "TableName", "KeySchema", "TableStatus", "ItemCount", "TableSizeBytes", "TableArn")


def _describe_or_error(dynamodb: Any, arguments: dict[str, Any]) -> Any:
    try:
        created = dynamodb.create_table(TableName="Orders", **arguments)["TableDescription"]
    except ClientError as exc:
        return exc.response["Error"]["Code"], exc.response["Error"]["Message"]
    described = dynamodb.describe_table(TableName="Orders")["Table"]
    picked = {key: described.get(key) for key in COMPARED}
    picked["Stream"] = described.get("StreamSpecification")
    picked["Indexes"] = [
        {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
        for index in described.get("GlobalSecondaryIndexes", [])
    ]
    picked["CreatedActive"] = created["TableStatus"]
    dynamodb.delete_table(TableName="Orders")
    return picked


def test_control_plane_agrees_with_moto(dynamodb: Any) -> None:
    moto = pytest.importorskip("moto")
    ours = [_describe_or_error(dynamodb, case) for case in MOTO_CASES]
    with moto.mock_aws():
        mocked = aws_client("dynamodb")
        theirs = [_describe_or_error(mocked, case) for case in MOTO_CASES]
    assert ours == theirs
