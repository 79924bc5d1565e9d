"""The operations the endpoint serves, by `X-Amz-Target`, and the one path every request takes through them.

`handle_request` is the whole of a request but the socket: find the operation (an unknown target is an
`UnknownOperationException`, as on DynamoDB), read the JSON body (`SerializationException`), hold it against
the operation's input shape (`_protocol.check_request`), run the operation on the store, and turn the
store's errors into DynamoDB's codes:

=====================================  =======================================================
store error                            DynamoDB error (HTTP status)
=====================================  =======================================================
`ResourceNotFoundError`              `ResourceNotFoundException` (400)
`TableExistsError`                   `ResourceInUseException` (400)
`ValidationError`, codec errors      `ValidationException` (400)
`ExpiredIteratorError`               `ExpiredIteratorException` (400)
`TrimmedDataAccessError`             `TrimmedDataAccessException` (400)
`StoreError`                         `InternalServerError` (500), the store's message
anything else (a bug)                  `InternalServerError` (500), logged with its traceback
=====================================  =======================================================

Operations DynamoDB has and shardline does not serve (PartiQL, backups, global tables, import and export,
Kinesis streaming destinations, ...) answer `UnknownOperationException` with a message naming the operation
and what to use instead: botocore raises it as a `ClientError` whose code says what happened, and no SDK
retries it.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import zlib
from base64 import b32encode
from collections.abc import Callable
from typing import Any, Final

from shardline._exceptions import AttributeValueError
from shardline.local._errors import (
    ArgumentTypeError,
    ExpiredIteratorError,
    ResourceNotFoundError,
    StoreError,
    TableExistsError,
    TrimmedDataAccessError,
    ValidationError,
)
from shardline.local._store import JSONImage, Store
from shardline.local.endpoint import _control, _data, _streams
from shardline.local.endpoint._protocol import INPUT_SHAPES, DynamoDBError, check_request, serialization

__all__ = [
    "DYNAMODB_PREFIX",
    "OPERATIONS",
    "REFUSED",
    "STREAMS_PREFIX",
    "Operation",
    "error_response",
    "handle_request",
    "request_id",
]

_LOGGER: Final = logging.getLogger("shardline.local.endpoint")

#: An operation: the store and the checked request body in, the response body out.
Operation = Callable[[Store, dict[str, Any]], dict[str, Any]]

DYNAMODB_PREFIX: Final = "DynamoDB_20120810."
STREAMS_PREFIX: Final = "DynamoDBStreams_20120810."

#: Every operation served, by target.
OPERATIONS: Final[dict[str, Operation]] = {
    # DynamoDB API reference: the control plane.
    DYNAMODB_PREFIX + "CreateTable": _control.create_table,
    DYNAMODB_PREFIX + "DeleteTable": _control.delete_table,
    DYNAMODB_PREFIX + "DescribeTable": _control.describe_table,
    DYNAMODB_PREFIX + "ListTables": _control.list_tables,
    DYNAMODB_PREFIX + "UpdateTable": _control.update_table,
    DYNAMODB_PREFIX + "UpdateTimeToLive": _control.update_time_to_live,
    DYNAMODB_PREFIX + "DescribeTimeToLive": _control.describe_time_to_live,
    DYNAMODB_PREFIX + "DescribeContinuousBackups": _control.describe_continuous_backups,
    DYNAMODB_PREFIX + "DescribeEndpoints": _control.describe_endpoints,
    DYNAMODB_PREFIX + "DescribeLimits": _control.describe_limits,
    DYNAMODB_PREFIX + "TagResource": _control.tag_resource,
    DYNAMODB_PREFIX + "UntagResource": _control.untag_resource,
    DYNAMODB_PREFIX + "ListTagsOfResource": _control.list_tags_of_resource,
    # The data plane.
    DYNAMODB_PREFIX + "GetItem": _data.get_item,
    DYNAMODB_PREFIX + "PutItem": _data.put_item,
    DYNAMODB_PREFIX + "UpdateItem": _data.update_item,
    DYNAMODB_PREFIX + "DeleteItem": _data.delete_item,
    DYNAMODB_PREFIX + "BatchGetItem": _data.batch_get_item,
    DYNAMODB_PREFIX + "BatchWriteItem": _data.batch_write_item,
    DYNAMODB_PREFIX + "Query": _data.query,
    DYNAMODB_PREFIX + "Scan": _data.scan,
    DYNAMODB_PREFIX + "TransactWriteItems": _data.transact_write_items,
    DYNAMODB_PREFIX + "TransactGetItems": _data.transact_get_items,
    # DynamoDB Streams API reference.
    STREAMS_PREFIX + "ListStreams": _streams.list_streams,
    STREAMS_PREFIX + "DescribeStream": _streams.describe_stream,
    STREAMS_PREFIX + "GetShardIterator": _streams.get_shard_iterator,
    STREAMS_PREFIX + "GetRecords": _streams.get_records,
}

_PARTIQL: Final = "PartiQL; use GetItem, PutItem, UpdateItem, DeleteItem, Query and Scan with expressions"
_BACKUPS: Final = "backups; the state file is the backup: copy it while no shardline process writes to it"
_GLOBAL: Final = "global tables; there is one local region"
_EXPORT: Final = "import and export; read with Scan and write with BatchWriteItem"
_KINESIS: Final = "Kinesis streaming destinations; read the table's DynamoDB stream instead"
_INSIGHTS: Final = "CloudWatch Contributor Insights"
_POLICIES: Final = "resource-based policies; the endpoint does not check permissions"
_AUTOSCALING: Final = "replica auto scaling; capacity is not enforced locally"
_BULK: Final = "bulk operations; use BatchWriteItem"
_VECTORS: Final = "vector search"

#: Every DynamoDB operation shardline does not serve, with what it is and what to use instead.
REFUSED: Final[dict[str, str]] = {
    "BatchExecuteStatement": _PARTIQL,
    "ExecuteStatement": _PARTIQL,
    "ExecuteTransaction": _PARTIQL.replace("GetItem, ", "TransactGetItems, TransactWriteItems, GetItem, "),
    "CreateBackup": _BACKUPS,
    "DeleteBackup": _BACKUPS,
    "DescribeBackup": _BACKUPS,
    "ListBackups": _BACKUPS,
    "RestoreTableFromBackup": _BACKUPS,
    "RestoreTableToPointInTime": "point-in-time recovery; " + _BACKUPS.split("; ", 1)[1],
    "UpdateContinuousBackups": "point-in-time recovery; " + _BACKUPS.split("; ", 1)[1],
    "CreateGlobalTable": _GLOBAL,
    "DescribeGlobalTable": _GLOBAL,
    "DescribeGlobalTableSettings": _GLOBAL,
    "ListGlobalTables": _GLOBAL,
    "UpdateGlobalTable": _GLOBAL,
    "UpdateGlobalTableSettings": _GLOBAL,
    "DescribeTableReplicaAutoScaling": _AUTOSCALING,
    "UpdateTableReplicaAutoScaling": _AUTOSCALING,
    "ExportTableToPointInTime": _EXPORT,
    "DescribeExport": _EXPORT,
    "ListExports": _EXPORT,
    "ImportTable": _EXPORT,
    "DescribeImport": _EXPORT,
    "ListImports": _EXPORT,
    "EnableKinesisStreamingDestination": _KINESIS,
    "DisableKinesisStreamingDestination": _KINESIS,
    "DescribeKinesisStreamingDestination": _KINESIS,
    "UpdateKinesisStreamingDestination": _KINESIS,
    "DescribeContributorInsights": _INSIGHTS,
    "ListContributorInsights": _INSIGHTS,
    "UpdateContributorInsights": _INSIGHTS,
    "GetResourcePolicy": _POLICIES,
    "PutResourcePolicy": _POLICIES,
    "DeleteResourcePolicy": _POLICIES,
    "StartBulkPutItems": _BULK,
    "CancelBulkOperation": _BULK,
    "DescribeBulkOperation": _BULK,
    "ListBulkOperations": _BULK,
    "SearchVectors": _VECTORS,
}

_ENCODE: Final = json.JSONEncoder(separators=(",", ":")).encode
_CONTENT_TYPE: Final = "application/x-amz-json-1.0"


def handle_request(
    store: Store, target: str | None, body: bytes, *, address: str = "127.0.0.1:8000"
) -> tuple[int, dict[str, str], bytes]:
    """Serve one request: the HTTP status, the response headers (`x-amzn-RequestId`, `x-amz-crc32`,
    `Content-Type`, `Content-Length`) and the JSON body. Never raises. `address` is the endpoint's
    `host:port`, which DescribeEndpoints answers."""
    try:
        document = _run(store, target, body, address)
    except DynamoDBError as exc:
        return error_response(exc)
    try:
        payload = _encode(document).encode("ascii")  # ensure_ascii: any text, even lone surrogates, is sent
    except Exception:
        _LOGGER.exception("the response to %s could not be encoded as JSON", target)
        return error_response(
            DynamoDBError("InternalServerError", _INTERNAL.format("a response JSON cannot carry"), status=500)
        )
    return 200, _headers(payload), payload


_ITEM_MEMBERS: Final = frozenset({"Item", "Items", "Responses"})


def _encode(document: dict[str, Any]) -> str:
    """The JSON text of a response. Items read from the file and returned unchanged (`JSONImage`: GetItem's
    `Item`, Query's and Scan's `Items`, BatchGetItem's and TransactGetItems' `Responses`) are put in as
    the text they were read from, not encoded again."""
    if _ITEM_MEMBERS.isdisjoint(document):
        return _ENCODE(document)
    members = []
    for name, value in document.items():
        if name == "Item":
            text = _encode_item(value)
        elif name == "Items":
            text = _encode_items(value)
        elif name == "Responses" and type(value) is dict:  # BatchGetItem: the items of each table
            text = "{" + ",".join(f"{_ENCODE(table)}:{_encode_items(items)}" for table, items in value.items()) + "}"
        elif name == "Responses" and type(value) is list:  # TransactGetItems: {"Item": item} or {} per read
            text = "[" + ",".join(_encode(entry) if type(entry) is dict else _ENCODE(entry) for entry in value) + "]"
        else:
            text = _ENCODE(value)
        members.append(f"{_ENCODE(name)}:{text}")
    return "{" + ",".join(members) + "}"


def _encode_item(item: Any) -> str:
    return item.text if type(item) is JSONImage else _ENCODE(item)


def _encode_items(items: Any) -> str:
    return "[" + ",".join(map(_encode_item, items)) + "]" if type(items) is list else _ENCODE(items)


def error_response(error: DynamoDBError) -> tuple[int, dict[str, str], bytes]:
    """The response carrying `error`."""
    payload = _ENCODE(error.body()).encode("ascii")
    return error.status, _headers(payload), payload


def _headers(payload: bytes) -> dict[str, str]:
    # botocore checks x-amz-crc32 against the body when it is present (DynamoDB sends it on every response).
    return {
        "x-amzn-RequestId": request_id(),
        "x-amz-crc32": str(zlib.crc32(payload)),
        "Content-Type": _CONTENT_TYPE,
        "Content-Length": str(len(payload)),
    }


def request_id() -> str:
    """A request id shaped like DynamoDB's: 52 characters of A-Z and 0-9, unique within the process (random
    per process, then counted: cheaper than randomness per request)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):012X}"


_INTERNAL: Final = "The server encountered an internal error trying to fulfill the request ({}); see shardline's log"


def _run(store: Store, target: str | None, body: bytes, address: str) -> dict[str, Any]:
    operation = OPERATIONS.get(target) if target is not None else None
    if operation is None:
        raise _unknown(target)
    assert target is not None
    request = check_request(INPUT_SHAPES[target], _parse(body))
    try:
        if operation is _control.describe_endpoints:
            return _control.describe_endpoints(store, request, address=address)
        return operation(store, request)
    except DynamoDBError:
        raise
    except ResourceNotFoundError as exc:
        raise DynamoDBError("ResourceNotFoundException", "Requested resource not found") from exc
    except TableExistsError as exc:
        raise DynamoDBError("ResourceInUseException", str(exc)) from exc
    except (ValidationError, AttributeValueError, ArgumentTypeError) as exc:
        raise DynamoDBError("ValidationException", str(exc)) from exc
    except ExpiredIteratorError as exc:
        raise DynamoDBError("ExpiredIteratorException", str(exc)) from exc
    except TrimmedDataAccessError as exc:
        raise DynamoDBError("TrimmedDataAccessException", str(exc)) from exc
    except StoreError as exc:
        _LOGGER.error("%s failed: %s", target, exc)
        raise DynamoDBError("InternalServerError", str(exc), status=500) from exc
    except RecursionError as exc:  # a request nested past what the checks bound: refused, not a crash
        raise DynamoDBError("ValidationException", "The request is nested too deeply") from exc
    except Exception as exc:
        _LOGGER.exception("%s failed", target)
        raise DynamoDBError("InternalServerError", _INTERNAL.format(type(exc).__name__), status=500) from exc


def _unknown(target: str | None) -> DynamoDBError:
    if target is None:
        return DynamoDBError("UnknownOperationException", "The request has no X-Amz-Target header naming an operation")
    service, _, name = target.partition(".")
    if service == DYNAMODB_PREFIX[:-1] and name in REFUSED:
        what = REFUSED[name]
        return DynamoDBError(
            "UnknownOperationException", f"shardline's local endpoint does not support {name} ({what})"
        )
    shown = target if len(target) <= 200 else target[:200] + "..."
    return DynamoDBError("UnknownOperationException", f"Unknown operation: {shown!r}")


def _parse(body: bytes) -> object:
    if not body.strip():
        return {}  # an empty body is an empty request, as for operations without parameters
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise serialization("The request body is not UTF-8 text") from None
    try:
        return _JSON.decode(text)
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, or an integer longer than Python converts
        raise serialization(f"The request body is not valid JSON: {_json_reason(exc)}") from None
    except RecursionError:
        raise serialization("The request body is JSON nested too deeply") from None


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


_JSON: Final = json.JSONDecoder(parse_constant=_refuse_constant)
_ID_PREFIX: Final = b32encode(os.urandom(25)).decode("ascii")[:40]
_ID_COUNTER: Final = itertools.count(1)


def _json_reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    text = str(exc)
    return text if text.endswith("is not JSON") else "a number is too long"
