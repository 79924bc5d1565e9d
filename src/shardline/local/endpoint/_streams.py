"""The DynamoDB Streams API over the store: ListStreams, DescribeStream, GetShardIterator and GetRecords.

Each function takes the checked request body and returns the response body of the operation of the same name
in the DynamoDB Streams API reference. Records are the store's own, in the API's shape: as a Lambda event
carries them but without `eventSourceARN` (the API's `Record` has no such member), with
`ApproximateCreationDateTime` in epoch seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Final

from shardline.local._errors import ResourceNotFoundError
from shardline.local._store import Store
from shardline.local._stream import Stream
from shardline.local.endpoint._protocol import DynamoDBError, validation

__all__ = ["describe_stream", "get_records", "get_shard_iterator", "list_streams"]

# The upper limits of ListStreams' and DescribeStream's Limit, and GetRecords' (DynamoDB Streams API reference).
_LIST_LIMIT: Final = 100
_SHARD_LIMIT: Final = 100
_RECORD_LIMIT: Final = 1000
_STREAM_ARN: Final = re.compile(
    r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/([a-zA-Z0-9_.-]{3,255})/stream/(.+)"
)
_ITERATOR_SEPARATOR: Final = "|1|"


def list_streams(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """ListStreams: the streams of every table, or of `TableName`; `Limit` (1 to 100) at a time, from
    after `ExclusiveStartStreamArn`; `LastEvaluatedStreamArn` when more remain."""
    limit = _limit(request, _LIST_LIMIT)
    table_name = request.get("TableName")
    if table_name is not None:
        try:
            store.table(table_name)
        except ResourceNotFoundError:
            raise DynamoDBError(
                "ResourceNotFoundException", f"Requested resource not found: Table: {table_name} not found"
            ) from None
    streams = sorted(store.streams(table_name), key=lambda stream: stream[1])
    start = request.get("ExclusiveStartStreamArn")
    if start is not None:
        _check_arn(start)
        streams = [stream for stream in streams if stream[1] > start]
    page = streams[:limit]
    response: dict[str, Any] = {
        "Streams": [{"StreamArn": arn, "TableName": table, "StreamLabel": label} for table, arn, label in page]
    }
    if len(streams) > limit:
        response["LastEvaluatedStreamArn"] = page[-1][1]
    return response


def describe_stream(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeStream: the stream's description and its shards, parents first; `Limit` (1 to 100) shards
    at a time from after `ExclusiveStartShardId`, `LastEvaluatedShardId` when more remain. A
    `ShardFilter` of type `CHILD_SHARDS` lists the children of its shard."""
    limit = _limit(request, _SHARD_LIMIT)
    arn = request["StreamArn"]
    description = _stream(store, arn).describe_stream()
    shards: list[dict[str, Any]] = description["Shards"]
    shard_filter = request.get("ShardFilter")
    if shard_filter is not None:
        if shard_filter.get("Type") != "CHILD_SHARDS" or "ShardId" not in shard_filter:
            raise validation("ShardFilter needs Type CHILD_SHARDS and a ShardId")
        shards = [shard for shard in shards if shard.get("ParentShardId") == shard_filter["ShardId"]]
    start = request.get("ExclusiveStartShardId")
    if start is not None:
        ids = [shard["ShardId"] for shard in shards]
        shards = shards[ids.index(start) + 1 :] if start in ids else []
    page = shards[:limit]
    result: dict[str, Any] = {
        "StreamArn": description["StreamArn"],
        "StreamLabel": description["StreamLabel"],
        "StreamStatus": description["StreamStatus"],
        "StreamViewType": description["StreamViewType"],
        "CreationRequestDateTime": _label_time(description["StreamLabel"]),
        "TableName": description["TableName"],
        "KeySchema": description["KeySchema"],
        "Shards": page,
    }
    if len(shards) > limit:
        result["LastEvaluatedShardId"] = page[-1]["ShardId"]
    return {"StreamDescription": result}


def get_shard_iterator(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """GetShardIterator: TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER."""
    iterator_type = request["ShardIteratorType"]
    if iterator_type == "AT_TIMESTAMP":
        raise validation("shardline's local endpoint does not support ShardIteratorType AT_TIMESTAMP")
    stream = _stream(store, request["StreamArn"])
    try:
        iterator = stream.get_shard_iterator(request["ShardId"], iterator_type, request.get("SequenceNumber"))
    except ResourceNotFoundError:
        raise DynamoDBError("ResourceNotFoundException", "Requested resource not found: Shard does not exist") from None
    return {"ShardIterator": iterator}


def get_records(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """GetRecords: up to `Limit` (1 to 1000) records and 1 MB from the iterator's position, and the next
    iterator (absent once a closed shard has been read to its end)."""
    limit = _limit(request, _RECORD_LIMIT)
    iterator = request["ShardIterator"]
    arn, separator, _ = iterator.rpartition(_ITERATOR_SEPARATOR)
    if not separator or _STREAM_ARN.fullmatch(arn) is None:
        raise validation("Invalid ShardIterator")
    page = _stream(store, arn).get_records(iterator, limit)
    response: dict[str, Any] = {"Records": _api_records(page["Records"])}
    following = page.get("NextShardIterator")
    if following is not None:
        response["NextShardIterator"] = following
    return response


def _api_records(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records without `eventSourceARN`; a TTL delete's `userIdentity` with the API's member names
    (`PrincipalId`, `Type`: the Streams API's Identity shape; the Lambda event spells them in lower case)."""
    shaped = []
    for record in records:
        api = {key: value for key, value in record.items() if key != "eventSourceARN"}
        identity = api.get("userIdentity")
        if isinstance(identity, dict):
            api["userIdentity"] = {"PrincipalId": identity.get("principalId"), "Type": identity.get("type")}
        shaped.append(api)
    return shaped


def _limit(request: dict[str, Any], largest: int) -> int:
    limit: int = request.get("Limit", largest)
    if limit > largest:
        raise validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
            f"Member must have value less than or equal to {largest}"
        )
    return limit


def _check_arn(arn: str) -> None:
    if _STREAM_ARN.fullmatch(arn) is None:
        raise validation(f"Invalid StreamArn: {arn[:1024]}")


def _stream(store: Store, arn: str) -> Stream:
    _check_arn(arn)
    try:
        return store.stream_by_arn(arn)
    except ResourceNotFoundError:
        raise DynamoDBError(
            "ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found"
        ) from None


def _label_time(label: str) -> float:
    """A stream's creation time from its label (`2024-05-01T12:00:00.123`), in epoch seconds."""
    try:
        return datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return 0.0
