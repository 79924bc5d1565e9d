"""The DynamoDB Streams API through boto3: ListStreams, DescribeStream, GetShardIterator, GetRecords (DynamoDB
Streams API reference), over the records the store writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import client_error, create_table
from conftest import without_metadata as body

from shardline.local import Store
from shardline.testing import VirtualClock

boto3 = pytest.importorskip("boto3")

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def store(tmp_path: Path, clock: VirtualClock) -> Iterator[Store]:
    with Store(tmp_path / "state.db", clock=clock) as opened:
        yield opened


def test_list_streams(streams: Any, store: Store) -> None:
    a = store.create_table("Alpha", key_schema={"pk": "S"})
    b = store.create_table("Beta", key_schema={"pk": "S"})
    store.create_table("Gamma", key_schema={"pk": "S"}, stream_enabled=False)
    entry = {"StreamArn": a.stream_arn, "TableName": "Alpha", "StreamLabel": str(a.stream_arn).rsplit("/", 1)[1]}
    second = {"StreamArn": b.stream_arn, "TableName": "Beta", "StreamLabel": str(b.stream_arn).rsplit("/", 1)[1]}
    assert body(streams.list_streams()) == {"Streams": [entry, second]}
    assert body(streams.list_streams(Limit=1)) == {
        "Streams": [entry],
        "LastEvaluatedStreamArn": a.stream_arn,
    }
    assert body(streams.list_streams(ExclusiveStartStreamArn=a.stream_arn)) == {"Streams": [second]}
    assert body(streams.list_streams(TableName="Beta")) == {"Streams": [second]}
    assert body(streams.list_streams(TableName="Gamma")) == {"Streams": []}
    assert client_error(streams.list_streams, TableName="Missing") == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: Missing not found",
    )
    assert client_error(streams.list_streams, Limit=101) == (
        "ValidationException",
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value "
        "less than or equal to 100",
    )


def test_describe_stream(streams: Any, store: Store, clock: VirtualClock) -> None:
    table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"}, shard_count=3)
    arn = str(table.stream_arn)
    described = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    created = described.pop("CreationRequestDateTime")
    assert created.timestamp() == table.created_ms / 1000
    shards = table.stream.describe_stream()["Shards"]
    assert described == {
        "StreamArn": arn,
        "StreamLabel": arn.rsplit("/", 1)[1],
        "StreamStatus": "ENABLED",
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "TableName": "Orders",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "Shards": shards,
    }
    page = streams.describe_stream(StreamArn=arn, Limit=2)["StreamDescription"]
    assert (page["Shards"], page["LastEvaluatedShardId"]) == (shards[:2], shards[1]["ShardId"])
    rest = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=shards[1]["ShardId"])["StreamDescription"]
    assert (rest["Shards"], "LastEvaluatedShardId" in rest) == (shards[2:], False)
    assert client_error(streams.describe_stream, StreamArn=ARN + "Orders/stream/2020-01-01T00:00:00.000") == (
        "ResourceNotFoundException",
        f"Requested resource not found: Stream: {ARN}Orders/stream/2020-01-01T00:00:00.000 not found",
    )
    assert client_error(streams.describe_stream, StreamArn="arn:aws:dynamodb:us-east-1:123456789012:table/x") == (
        "ValidationException",
        "Invalid StreamArn: arn:aws:dynamodb:us-east-1:123456789012:table/x",
    )


def test_child_shards(streams: Any, store: Store, clock: VirtualClock) -> None:
    table = store.create_table("Orders", key_schema={"pk": "S"}, shard_rollover_ms=1000)
    clock.advance(1500)
    table.put_item({"pk": "a"})  # rolls the first shard over
    shards = table.stream.describe_stream()["Shards"]
    assert len(shards) == 2
    children = streams.describe_stream(
        StreamArn=table.stream_arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shards[0]["ShardId"]}
    )["StreamDescription"]["Shards"]
    assert children == shards[1:]


def test_read_records_in_the_apis_shape(streams: Any, store: Store, clock: VirtualClock) -> None:
    table = store.create_table("Orders", key_schema={"pk": "S"}, ttl_attribute="expires")
    shard = table.stream.describe_stream()["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=table.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    written = [
        table.put_item({"pk": "a", "n": 1}),
        table.update_item({"pk": "a"}, set={"n": 2}),
        table.put_item({"pk": "b", "expires": clock.now_ms() // 1000 + 1}),
    ]
    clock.advance(10_000)
    written.extend(table.expire_ttl())
    page = streams.get_records(ShardIterator=iterator, Limit=2)
    assert len(page["Records"]) == 2
    rest = streams.get_records(ShardIterator=page["NextShardIterator"])
    records = page["Records"] + rest["Records"]
    assert rest["Records"][-1]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert "userIdentity" not in records[0]
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "INSERT", "REMOVE"]
    for got, stored in zip(records, written, strict=True):
        assert stored is not None
        expected = {key: value for key, value in stored.items() if key not in ("eventSourceARN", "userIdentity")}
        got.pop("userIdentity", None)
        when = got["dynamodb"].pop("ApproximateCreationDateTime")
        assert when.timestamp() == expected["dynamodb"].pop("ApproximateCreationDateTime")
        assert got == expected
    latest = streams.get_shard_iterator(StreamArn=table.stream_arn, ShardId=shard, ShardIteratorType="LATEST")
    assert streams.get_records(ShardIterator=latest["ShardIterator"])["Records"] == []
    after = streams.get_shard_iterator(
        StreamArn=table.stream_arn,
        ShardId=shard,
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber=records[2]["dynamodb"]["SequenceNumber"],
    )
    assert [r["eventName"] for r in streams.get_records(ShardIterator=after["ShardIterator"])["Records"]] == ["REMOVE"]
    at = streams.get_shard_iterator(
        StreamArn=table.stream_arn,
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=records[2]["dynamodb"]["SequenceNumber"],
    )
    assert len(streams.get_records(ShardIterator=at["ShardIterator"])["Records"]) == 2


def test_a_closed_shard_read_to_its_end_has_no_next_iterator(streams: Any, store: Store) -> None:
    table = store.create_table("Orders", key_schema={"pk": "S"})
    shard = table.stream.describe_stream()["Shards"][0]["ShardId"]
    table.put_item({"pk": "a"})
    table.update(stream_enabled=False)
    iterator = streams.get_shard_iterator(StreamArn=table.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    page = body(streams.get_records(ShardIterator=iterator["ShardIterator"]))
    assert [record["eventName"] for record in page["Records"]] == ["INSERT"]
    assert "NextShardIterator" not in page
    described = streams.describe_stream(StreamArn=table.stream_arn)["StreamDescription"]
    assert described["StreamStatus"] == "DISABLED"


def test_stream_errors(streams: Any, store: Store, clock: VirtualClock) -> None:
    table = store.create_table("Orders", key_schema={"pk": "S"})
    arn = table.stream_arn
    shard = table.stream.describe_stream()["Shards"][0]["ShardId"]
    assert client_error(
        streams.get_shard_iterator,
        StreamArn=arn,
        ShardId="shardId-00000000000000000000-00000000",
        ShardIteratorType="LATEST",
    ) == ("ResourceNotFoundException", "Requested resource not found: Shard does not exist")
    assert client_error(streams.get_shard_iterator, StreamArn=arn, ShardId=shard, ShardIteratorType="AT_TIMESTAMP") == (
        "ValidationException",
        "shardline's local endpoint does not support ShardIteratorType AT_TIMESTAMP",
    )
    code, _ = client_error(
        streams.get_shard_iterator,
        StreamArn=arn,
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber="9" * 30,
    )
    assert code == "ValidationException"
    assert client_error(streams.get_records, ShardIterator="not an iterator") == (
        "ValidationException",
        "Invalid ShardIterator",
    )
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    assert client_error(streams.get_records, ShardIterator=iterator, Limit=1001) == (
        "ValidationException",
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value "
        "less than or equal to 1000",
    )
    clock.advance(16 * 60 * 1000)
    code, message = client_error(streams.get_records, ShardIterator=iterator)
    assert code == "ExpiredIteratorException"
    assert message.startswith("the shard iterator expired")
    table.put_item({"pk": "a"})
    clock.advance(25 * 3600 * 1000)
    table.put_item({"pk": "b"})
    old = table.stream.describe_stream()["Shards"][0]
    code, _ = client_error(
        streams.get_shard_iterator,
        StreamArn=arn,
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=old["SequenceNumberRange"]["StartingSequenceNumber"],
    )
    assert code in ("TrimmedDataAccessException", "ResourceNotFoundException")
    store.delete_table("Orders")
    assert client_error(streams.describe_stream, StreamArn=arn)[0] == "ResourceNotFoundException"


def test_a_client_reads_what_an_app_writes(dynamodb: Any, streams: Any, store: Store) -> None:
    """Both APIs on one port: a table made and written through DynamoDB, read through DynamoDB Streams."""
    stream = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    created = create_table(dynamodb, "Orders", StreamSpecification=stream)
    store.table("Orders").put_item({"pk": "a", "n": 1})
    arn = created["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    (record,) = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert record["dynamodb"]["StreamViewType"] == "KEYS_ONLY"
    assert "NewImage" not in record["dynamodb"]
