"""The same writes on moto's DynamoDB and on the embedded store: where moto's stream differs from AWS's.

On DynamoDB a write that changes nothing writes no stream record, and SizeBytes is DynamoDB's item size of the
images the record carries. The moto table of docs/comparison.md lists what this test pins (its first rows).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from shardline import item_size
from shardline.local import Store
from shardline.testing import VirtualClock

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")
Config = pytest.importorskip("botocore.config").Config


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        # Recent botocore sends stream calls to an account-based endpoint that moto does not intercept.
        streams = boto3.client(
            "dynamodbstreams", region_name="us-east-1", config=Config(account_id_endpoint_mode="disabled")
        )
        yield dynamodb, streams


# (operation, plain arguments): a put, the same put again, an update that sets the same value, a real
# update, a delete of a missing item, a delete.
WRITES: list[tuple[str, Any]] = [
    ("put", {"pk": "order#1", "status": "NEW", "total": Decimal("12.5")}),
    ("put", {"pk": "order#1", "status": "NEW", "total": Decimal("12.50")}),
    ("update", ({"pk": "order#1"}, {"status": "NEW"})),
    ("update", ({"pk": "order#1"}, {"status": "PAID"})),
    ("delete", {"pk": "order#2"}),
    ("delete", {"pk": "order#1"}),
]


def moto_records(dynamodb: Any, streams: Any) -> list[dict[str, Any]]:
    dynamodb.create_table(
        TableName="Orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for kind, argument in WRITES:
        if kind == "put":
            item = {name: _typed(value) for name, value in argument.items()}
            dynamodb.put_item(TableName="Orders", Item=item)
        elif kind == "update":
            key, assigned = argument
            ((name, value),) = assigned.items()
            dynamodb.update_item(
                TableName="Orders",
                Key={"pk": {"S": key["pk"]}},
                UpdateExpression="SET #a = :v",
                ExpressionAttributeNames={"#a": name},
                ExpressionAttributeValues={":v": _typed(value)},
            )
        else:
            dynamodb.delete_item(TableName="Orders", Key={"pk": {"S": argument["pk"]}})
    arn = dynamodb.describe_table(TableName="Orders")["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return records


def store_records() -> list[dict[str, Any]]:
    with Store(":memory:", clock=VirtualClock()) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        written = []
        for kind, argument in WRITES:
            if kind == "put":
                written.append(table.put_item(argument))
            elif kind == "update":
                key, assigned = argument
                written.append(table.update_item(key, set=assigned))
            else:
                written.append(table.delete_item(argument))
        return [record for record in written if record is not None]


def _typed(value: Any) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, Decimal) else {"S": value}


def test_moto_records_unchanged_writes_and_sizes_records_differently(aws: tuple[Any, Any]) -> None:
    ours = store_records()
    theirs = moto_records(*aws)
    # DynamoDB writes no record for the identical put nor for the update that sets the value it already has.
    assert [record["eventName"] for record in ours] == ["INSERT", "MODIFY", "REMOVE"]
    assert [record["eventName"] for record in theirs] == ["INSERT", "MODIFY", "MODIFY", "MODIFY", "REMOVE"]
    unchanged = theirs[2]["dynamodb"]
    assert unchanged["OldImage"] == unchanged["NewImage"]  # a MODIFY that modified nothing
    # moto keeps a number's text as written; DynamoDB stores (and streams) it normalised: 12.50 is 12.5.
    assert theirs[1]["dynamodb"]["NewImage"]["total"] == {"N": "12.50"}
    assert ours[1]["dynamodb"]["OldImage"]["total"] == {"N": "12.5"}
    # SizeBytes: ours is DynamoDB's item size of what the record carries ("Item sizes and formats"); moto's is not.
    for record in ours:
        carried = [
            record["dynamodb"][field] for field in ("Keys", "NewImage", "OldImage") if field in record["dynamodb"]
        ]
        assert record["dynamodb"]["SizeBytes"] == sum(item_size(image) for image in carried)
    assert [record["dynamodb"]["SizeBytes"] for record in ours] == [35, 62, 36]
    # moto counts the length of the record's JSON text: several times more.
    sizes = [record["dynamodb"]["SizeBytes"] for record in theirs]
    assert sizes[0] > 5 * 35
    assert sizes[-1] > 5 * 36
    # Further differences docs/local/store.md lists: moto says eventVersion 1.0 and gives no eventSourceARN.
    assert {record["eventVersion"] for record in theirs} == {"1.0"}
    assert all("eventSourceARN" not in record for record in theirs)
    assert {record["eventVersion"] for record in ours} == {"1.1"}
