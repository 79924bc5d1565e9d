"""DynamoDB's JSON protocol (awsJson1_0): the errors an operation answers with, and the request shapes.

An operation refuses a request by raising [`DynamoDBError`][shardline.local.DynamoDBError]; the server turns it into
HTTP 400 (500 for `InternalServerError`) with the body `{"__type": "com.amazonaws.dynamodb.v20120810#<Code>", "message":
...}` that botocore reads into `ClientError` (DynamoDB API reference, "Error handling").

Before an operation sees a request, `check_request` holds it against the operation's input shape
(the DynamoDB API reference lists every parameter's type and constraints; the table below carries them) in
the two steps DynamoDB's front end takes:

1. reading the JSON into the shape: a value of the wrong JSON type is a `SerializationException` worded as
   DynamoDB words it (`class java.lang.String can not be converted to an Long`, `Start of list found where
   not expected`); JSON `null` counts as absent (the member is removed from the request) and unknown
   members are ignored, as DynamoDB ignores them; table ARNs are replaced by table names;
2. checking the constraints: missing required members, lengths, ranges, enumerations and patterns are
   collected into one `ValidationException`: `1 validation error detected: Value null at 'tableName'
   failed to satisfy constraint: Member must not be null` (members named in lower camel case, list
   elements as `keySchema.1.member`).

AttributeValues are left to the data plane's own checks (`_values`), which word DynamoDB's messages for them.
"""

from __future__ import annotations

import re
from typing import Any, Final

from shardline._exceptions import ShardlineError

__all__ = [
    "CORAL_PREFIX",
    "ERROR_PREFIX",
    "INPUT_SHAPES",
    "DynamoDBError",
    "check_request",
    "serialization",
    "validation",
]

#: The namespace of every DynamoDB error code in `__type`.
ERROR_PREFIX: Final = "com.amazonaws.dynamodb.v20120810#"
#: The namespace of the errors of DynamoDB's request framework (a body that cannot be read, an unknown target):
#: DynamoDB answers `com.amazon.coral.service#SerializationException`; botocore reads the code after `#`.
CORAL_PREFIX: Final = "com.amazon.coral.service#"
_CORAL_CODES: Final = frozenset({"SerializationException", "UnknownOperationException"})


class DynamoDBError(ShardlineError):
    """A request refused as DynamoDB refuses it: `code` is the error code (`ValidationException`,
    `ConditionalCheckFailedException`, ...), `message` DynamoDB's message, `fields` extra members of
    the error body (`Item` of a failed condition check, `CancellationReasons` of a cancelled
    transaction), and `status` the HTTP status (400, or 500 for `InternalServerError`)."""

    __module__ = "shardline.local"

    def __init__(self, code: str, message: str, *, status: int = 400, **fields: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields

    def body(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        prefix = CORAL_PREFIX if self.code in _CORAL_CODES else ERROR_PREFIX
        return {"__type": prefix + self.code, "message": self.message, **self.fields}


def validation(message: str) -> DynamoDBError:
    """A `ValidationException` with DynamoDB's `message`."""
    return DynamoDBError("ValidationException", message)


def serialization(message: str) -> DynamoDBError:
    """A `SerializationException`: the body could not be read into the operation's input shape."""
    return DynamoDBError("SerializationException", message)


# -- request shapes --------------------------------------------------------------------------------------

#: A shape as `check_request` walks it, a tuple whose first item is its kind:
#: `("structure", ((member, shape), ...), required)`, `("list", member, min, max)`,
#: `("map", key, value, min, max)`, `("string", min, max, pattern, enum)`, `("integer"|"long", min, max)`,
#: `("boolean",)`, `("double",)`, `("timestamp",)`, `("blob",)`, and `("any",)` for AttributeValue
#: (checked by the data plane).
Shape = tuple[Any, ...]

# The input shapes of the operations served, with the types and constraints of the DynamoDB API reference and the
# DynamoDB Streams API reference (the same facts as botocore's service models; tests/test_endpoint_protocol.py
# compares them). One line per shape:
#   structure Member[:Shape][!] ...     (":Shape" when the shape is not named like the member; "!" required)
#   list Member [min..max]   map Key Value [min..max]   string [min..max] [/pattern/]   enum A|B|C
#   integer|long [min..max]  boolean  double  timestamp  blob  any
# Shapes of the DynamoDB Streams API are prefixed "streams:".
_SHAPE_TEXT: Final[dict[str, str]] = {
    "AttributeAction": "enum ADD|PUT|DELETE",
    "AttributeDefinition": "structure AttributeName:KeySchemaAttributeName! AttributeType:ScalarAttributeType!",
    "AttributeDefinitions": "list AttributeDefinition",
    "AttributeName": "string ..65535",
    "AttributeNameList": "list AttributeName 1..",
    "AttributeUpdates": "map AttributeName AttributeValueUpdate",
    "AttributeValue": "any",
    "AttributeValueList": "list AttributeValue",
    "AttributeValueUpdate": "structure Value:AttributeValue Action:AttributeAction",
    "BatchGetItemInput": "structure RequestItems:BatchGetRequestMap! ReturnConsumedCapacity",
    "BatchGetRequestMap": "map TableArn KeysAndAttributes 1..100",
    "BatchWriteItemInput": (
        "structure RequestItems:BatchWriteItemRequestMap! ReturnConsumedCapacity ReturnItemCollectionMetrics"
    ),
    "BatchWriteItemRequestMap": "map TableArn WriteRequests 1..25",
    "BillingMode": "enum PROVISIONED|PAY_PER_REQUEST",
    "BooleanObject": "boolean",
    "ClientRequestToken": "string 1..36",
    "ComparisonOperator": "enum EQ|NE|IN|LE|LT|GE|GT|BETWEEN|NOT_NULL|NULL|CONTAINS|NOT_CONTAINS|BEGINS_WITH",
    "Condition": "structure AttributeValueList ComparisonOperator!",
    "ConditionCheck": (
        "structure Key! TableName:TableArn! ConditionExpression! "
        "ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap ReturnValuesOnConditionCheckFailure"
    ),
    "ConditionExpression": "string",
    "ConditionalOperator": "enum AND|OR",
    "ConsistentRead": "boolean",
    "CreateGlobalSecondaryIndexAction": (
        "structure IndexName! KeySchema! Projection! ProvisionedThroughput OnDemandThroughput WarmThroughput"
    ),
    "CreateGlobalTableWitnessGroupMemberAction": "structure RegionName!",
    "CreateReplicationGroupMemberAction": (
        "structure RegionName! KMSMasterKeyId ProvisionedThroughputOverride OnDemandThroughputOverride "
        "GlobalSecondaryIndexes:ReplicaGlobalSecondaryIndexList TableClassOverride:TableClass"
    ),
    "CreateTableInput": (
        "structure AttributeDefinitions TableName:TableArn! KeySchema "
        "LocalSecondaryIndexes:LocalSecondaryIndexList GlobalSecondaryIndexes:GlobalSecondaryIndexList "
        "BillingMode ProvisionedThroughput StreamSpecification SSESpecification Tags:TagList TableClass "
        "DeletionProtectionEnabled WarmThroughput ResourcePolicy OnDemandThroughput "
        "GlobalTableSourceArn:TableArn GlobalTableSettingsReplicationMode VectorIndexes:VectorIndexList"
    ),
    "CreateVectorIndexAction": (
        "structure IndexName! VectorAttribute:VectorAttributeDefinition! SearchSchema Projection! "
        "Dimensions:PositiveLongObject! DistanceFunction:VectorDistanceFunction!"
    ),
    "Delete": (
        "structure Key! TableName:TableArn! ConditionExpression "
        "ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap ReturnValuesOnConditionCheckFailure"
    ),
    "DeleteGlobalSecondaryIndexAction": "structure IndexName!",
    "DeleteGlobalTableWitnessGroupMemberAction": "structure RegionName!",
    "DeleteItemInput": (
        "structure TableName:TableArn! Key! Expected:ExpectedAttributeMap ConditionalOperator "
        "ReturnValues:ReturnValue ReturnConsumedCapacity ReturnItemCollectionMetrics ConditionExpression "
        "ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap ReturnValuesOnConditionCheckFailure"
    ),
    "DeleteReplicationGroupMemberAction": "structure RegionName!",
    "DeleteRequest": "structure Key!",
    "DeleteTableInput": "structure TableName:TableArn!",
    "DeleteVectorIndexAction": "structure IndexName!",
    "DeletionProtectionEnabled": "boolean",
    "DescribeContinuousBackupsInput": "structure TableName:TableArn!",
    "DescribeEndpointsRequest": "structure ",
    "DescribeLimitsInput": "structure ",
    "DescribeTableInput": "structure TableName:TableArn!",
    "DescribeTimeToLiveInput": "structure TableName:TableArn!",
    "DisassociateReplicationGroupMemberAction": "structure RegionName! DisassociationMode!",
    "DisassociationMode": "enum WAIT_FOR_REPLICATION",
    "DisassociationProtectionEnabled": "boolean",
    "ExpectedAttributeMap": "map AttributeName ExpectedAttributeValue",
    "ExpectedAttributeValue": (
        "structure Value:AttributeValue Exists:BooleanObject ComparisonOperator AttributeValueList"
    ),
    "ExpressionAttributeNameMap": "map ExpressionAttributeNameVariable AttributeName",
    "ExpressionAttributeNameVariable": "string",
    "ExpressionAttributeValueMap": "map ExpressionAttributeValueVariable AttributeValue",
    "ExpressionAttributeValueVariable": "string",
    "FilterConditionMap": "map AttributeName Condition",
    "Get": (
        "structure Key! TableName:TableArn! ProjectionExpression ExpressionAttributeNames:ExpressionAttributeNameMap"
    ),
    "GetItemInput": (
        "structure TableName:TableArn! Key! AttributesToGet:AttributeNameList ConsistentRead "
        "ReturnConsumedCapacity ProjectionExpression ExpressionAttributeNames:ExpressionAttributeNameMap"
    ),
    "GlobalSecondaryIndex": (
        "structure IndexName! KeySchema! Projection! ProvisionedThroughput OnDemandThroughput WarmThroughput"
    ),
    "GlobalSecondaryIndexList": "list GlobalSecondaryIndex",
    "GlobalSecondaryIndexUpdate": (
        "structure Update:UpdateGlobalSecondaryIndexAction Create:CreateGlobalSecondaryIndexAction "
        "Delete:DeleteGlobalSecondaryIndexAction"
    ),
    "GlobalSecondaryIndexUpdateList": "list GlobalSecondaryIndexUpdate",
    "GlobalTableSettingsReplicationMode": "enum ENABLED|DISABLED|ENABLED_WITH_OVERRIDES",
    "GlobalTableWitnessGroupUpdate": (
        "structure Create:CreateGlobalTableWitnessGroupMemberAction Delete:DeleteGlobalTableWitnessGroupMemberAction"
    ),
    "GlobalTableWitnessGroupUpdateList": "list GlobalTableWitnessGroupUpdate 1..1",
    "IndexName": "string 3..255 /[a-zA-Z0-9_.-]+/",
    "KMSMasterKeyId": "string",
    "Key": "map AttributeName AttributeValue",
    "KeyConditions": "map AttributeName Condition",
    "KeyExpression": "string",
    "KeyList": "list Key 1..100",
    "KeySchema": "list KeySchemaElement 1..",
    "KeySchemaAttributeName": "string 1..255",
    "KeySchemaElement": "structure AttributeName:KeySchemaAttributeName! KeyType!",
    "KeyType": "enum HASH|RANGE",
    "KeysAndAttributes": (
        "structure Keys:KeyList! AttributesToGet:AttributeNameList ConsistentRead ProjectionExpression "
        "ExpressionAttributeNames:ExpressionAttributeNameMap"
    ),
    "ListTablesInput": "structure ExclusiveStartTableName:TableName Limit:ListTablesInputLimit",
    "ListTablesInputLimit": "integer 1..100",
    "ListTagsOfResourceInput": "structure ResourceArn:ResourceArnString! NextToken:NextTokenString",
    "LocalSecondaryIndex": "structure IndexName! KeySchema! Projection!",
    "LocalSecondaryIndexList": "list LocalSecondaryIndex",
    "LongObject": "long",
    "MultiRegionConsistency": "enum EVENTUAL|STRONG",
    "NextTokenString": "string",
    "NonKeyAttributeName": "string 1..255",
    "NonKeyAttributeNameList": "list NonKeyAttributeName 1..20",
    "OnDemandThroughput": "structure MaxReadRequestUnits:LongObject MaxWriteRequestUnits:LongObject",
    "OnDemandThroughputOverride": "structure MaxReadRequestUnits:LongObject",
    "PositiveIntegerObject": "integer 1..",
    "PositiveLongObject": "long 1..",
    "Projection": "structure ProjectionType NonKeyAttributes:NonKeyAttributeNameList",
    "ProjectionExpression": "string",
    "ProjectionType": "enum ALL|KEYS_ONLY|INCLUDE",
    "ProvisionedThroughput": "structure ReadCapacityUnits:PositiveLongObject! WriteCapacityUnits:PositiveLongObject!",
    "ProvisionedThroughputOverride": "structure ReadCapacityUnits:PositiveLongObject",
    "Put": (
        "structure Item:PutItemInputAttributeMap! TableName:TableArn! ConditionExpression "
        "ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap ReturnValuesOnConditionCheckFailure"
    ),
    "PutItemInput": (
        "structure TableName:TableArn! Item:PutItemInputAttributeMap! Expected:ExpectedAttributeMap "
        "ReturnValues:ReturnValue ReturnConsumedCapacity ReturnItemCollectionMetrics ConditionalOperator "
        "ConditionExpression ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap ReturnValuesOnConditionCheckFailure"
    ),
    "PutItemInputAttributeMap": "map AttributeName AttributeValue",
    "PutRequest": "structure Item:PutItemInputAttributeMap!",
    "QueryInput": (
        "structure TableName:TableArn! IndexName Select AttributesToGet:AttributeNameList "
        "Limit:PositiveIntegerObject ConsistentRead KeyConditions QueryFilter:FilterConditionMap "
        "ConditionalOperator ScanIndexForward:BooleanObject ExclusiveStartKey:Key ReturnConsumedCapacity "
        "ProjectionExpression FilterExpression:ConditionExpression KeyConditionExpression:KeyExpression "
        "ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap"
    ),
    "RegionName": "string",
    "ReplicaGlobalSecondaryIndex": "structure IndexName! ProvisionedThroughputOverride OnDemandThroughputOverride",
    "ReplicaGlobalSecondaryIndexList": "list ReplicaGlobalSecondaryIndex 1..",
    "ReplicationGroupUpdate": (
        "structure Create:CreateReplicationGroupMemberAction Update:UpdateReplicationGroupMemberAction "
        "Delete:DeleteReplicationGroupMemberAction Disassociate:DisassociateReplicationGroupMemberAction"
    ),
    "ReplicationGroupUpdateList": "list ReplicationGroupUpdate 1..",
    "ResourceArnString": "string 1..1283",
    "ResourcePolicy": "string",
    "ReturnConsumedCapacity": "enum INDEXES|TOTAL|NONE",
    "ReturnItemCollectionMetrics": "enum SIZE|NONE",
    "ReturnValue": "enum NONE|ALL_OLD|UPDATED_OLD|ALL_NEW|UPDATED_NEW",
    "ReturnValuesOnConditionCheckFailure": "enum ALL_OLD|NONE",
    "SSEEnabled": "boolean",
    "SSESpecification": "structure Enabled:SSEEnabled SSEType KMSMasterKeyId",
    "SSEType": "enum AES256|KMS",
    "ScalarAttributeType": "enum S|N|B",
    "ScanInput": (
        "structure TableName:TableArn! IndexName AttributesToGet:AttributeNameList Limit:PositiveIntegerObject "
        "Select ScanFilter:FilterConditionMap ConditionalOperator ExclusiveStartKey:Key ReturnConsumedCapacity "
        "TotalSegments:ScanTotalSegments Segment:ScanSegment ProjectionExpression "
        "FilterExpression:ConditionExpression ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap ConsistentRead"
    ),
    "ScanSegment": "integer 0..999999",
    "ScanTotalSegments": "integer 1..1000000",
    "SearchSchema": "list SearchSchemaElement 1..",
    "SearchSchemaElement": "structure AttributeName! SearchSchemaElementType!",
    "SearchSchemaElementType": "enum HASH|INLINE_FILTER",
    "Select": "enum ALL_ATTRIBUTES|ALL_PROJECTED_ATTRIBUTES|SPECIFIC_ATTRIBUTES|COUNT",
    "StreamEnabled": "boolean",
    "StreamSpecification": "structure StreamEnabled! StreamViewType",
    "StreamViewType": "enum NEW_IMAGE|OLD_IMAGE|NEW_AND_OLD_IMAGES|KEYS_ONLY",
    "TableArn": "string 1..1024",
    "TableClass": "enum STANDARD|STANDARD_INFREQUENT_ACCESS",
    "TableName": "string 3..255 /[a-zA-Z0-9_.-]+/",
    "Tag": "structure Key:TagKeyString! Value:TagValueString!",
    "TagKeyList": "list TagKeyString",
    "TagKeyString": "string 1..128",
    "TagList": "list Tag",
    "TagResourceInput": "structure ResourceArn:ResourceArnString! Tags:TagList!",
    "TagValueString": "string 0..256",
    "TimeToLiveAttributeName": "string 1..255",
    "TimeToLiveEnabled": "boolean",
    "TimeToLiveSpecification": "structure Enabled:TimeToLiveEnabled! AttributeName:TimeToLiveAttributeName!",
    "TransactGetItem": "structure Get!",
    "TransactGetItemList": "list TransactGetItem 1..100",
    "TransactGetItemsInput": "structure TransactItems:TransactGetItemList! ReturnConsumedCapacity",
    "TransactWriteItem": "structure ConditionCheck Put Delete Update",
    "TransactWriteItemList": "list TransactWriteItem 1..100",
    "TransactWriteItemsInput": (
        "structure TransactItems:TransactWriteItemList! ReturnConsumedCapacity ReturnItemCollectionMetrics "
        "ClientRequestToken"
    ),
    "UntagResourceInput": "structure ResourceArn:ResourceArnString! TagKeys:TagKeyList!",
    "Update": (
        "structure Key! UpdateExpression! TableName:TableArn! ConditionExpression "
        "ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap ReturnValuesOnConditionCheckFailure"
    ),
    "UpdateExpression": "string",
    "UpdateGlobalSecondaryIndexAction": "structure IndexName! ProvisionedThroughput OnDemandThroughput WarmThroughput",
    "UpdateItemInput": (
        "structure TableName:TableArn! Key! AttributeUpdates Expected:ExpectedAttributeMap ConditionalOperator "
        "ReturnValues:ReturnValue ReturnConsumedCapacity ReturnItemCollectionMetrics UpdateExpression "
        "ConditionExpression ExpressionAttributeNames:ExpressionAttributeNameMap "
        "ExpressionAttributeValues:ExpressionAttributeValueMap ReturnValuesOnConditionCheckFailure"
    ),
    "UpdateReplicationGroupMemberAction": (
        "structure RegionName! KMSMasterKeyId ProvisionedThroughputOverride OnDemandThroughputOverride "
        "GlobalSecondaryIndexes:ReplicaGlobalSecondaryIndexList TableClassOverride:TableClass"
    ),
    "UpdateTableInput": (
        "structure AttributeDefinitions TableName:TableArn! BillingMode ProvisionedThroughput "
        "GlobalSecondaryIndexUpdates:GlobalSecondaryIndexUpdateList StreamSpecification SSESpecification "
        "ReplicaUpdates:ReplicationGroupUpdateList TableClass DeletionProtectionEnabled MultiRegionConsistency "
        "GlobalTableWitnessUpdates:GlobalTableWitnessGroupUpdateList OnDemandThroughput WarmThroughput "
        "GlobalTableSettingsReplicationMode DisassociationProtectionEnabled "
        "VectorIndexUpdates:VectorIndexUpdateList"
    ),
    "UpdateTimeToLiveInput": "structure TableName:TableArn! TimeToLiveSpecification!",
    "VectorAttributeDefinition": "structure AttributeName:VectorAttributeName!",
    "VectorAttributeName": "string 1..255",
    "VectorDistanceFunction": "enum COSINE|DOT_PRODUCT|EUCLIDEAN",
    "VectorIndex": (
        "structure IndexName! VectorAttribute:VectorAttributeDefinition! SearchSchema Projection! "
        "Dimensions:PositiveLongObject! DistanceFunction:VectorDistanceFunction!"
    ),
    "VectorIndexList": "list VectorIndex",
    "VectorIndexUpdate": "structure Create:CreateVectorIndexAction Delete:DeleteVectorIndexAction",
    "VectorIndexUpdateList": "list VectorIndexUpdate",
    "WarmThroughput": "structure ReadUnitsPerSecond:LongObject WriteUnitsPerSecond:LongObject",
    "WriteRequest": "structure PutRequest DeleteRequest",
    "WriteRequests": "list WriteRequest 1..25",
    "streams:DescribeStreamInput": (
        "structure StreamArn:streams:StreamArn! Limit:streams:PositiveIntegerObject "
        "ExclusiveStartShardId:streams:ShardId ShardFilter:streams:ShardFilter"
    ),
    "streams:GetRecordsInput": "structure ShardIterator:streams:ShardIterator! Limit:streams:PositiveIntegerObject",
    "streams:GetShardIteratorInput": (
        "structure StreamArn:streams:StreamArn! ShardId:streams:ShardId! "
        "ShardIteratorType:streams:ShardIteratorType! SequenceNumber:streams:SequenceNumber "
        "Timestamp:streams:Timestamp"
    ),
    "streams:ListStreamsInput": (
        "structure TableName:streams:TableName Limit:streams:PositiveIntegerObject "
        "ExclusiveStartStreamArn:streams:StreamArn"
    ),
    "streams:PositiveIntegerObject": "integer 1..",
    "streams:SequenceNumber": "string 21..40",
    "streams:ShardFilter": "structure Type:streams:ShardFilterType ShardId:streams:ShardId",
    "streams:ShardFilterType": "enum CHILD_SHARDS",
    "streams:ShardId": "string 28..65",
    "streams:ShardIterator": "string 1..2048",
    "streams:ShardIteratorType": "enum TRIM_HORIZON|LATEST|AT_SEQUENCE_NUMBER|AFTER_SEQUENCE_NUMBER|AT_TIMESTAMP",
    "streams:StreamArn": "string 37..1024",
    "streams:TableName": "string 3..255 /[a-zA-Z0-9_.-]+/",
    "streams:Timestamp": "timestamp",
}
#: The input shape of each operation served, by `X-Amz-Target`.
INPUT_SHAPES: Final[dict[str, str]] = {
    "DynamoDB_20120810.BatchGetItem": "BatchGetItemInput",
    "DynamoDB_20120810.BatchWriteItem": "BatchWriteItemInput",
    "DynamoDB_20120810.CreateTable": "CreateTableInput",
    "DynamoDB_20120810.DeleteItem": "DeleteItemInput",
    "DynamoDB_20120810.DeleteTable": "DeleteTableInput",
    "DynamoDB_20120810.DescribeContinuousBackups": "DescribeContinuousBackupsInput",
    "DynamoDB_20120810.DescribeEndpoints": "DescribeEndpointsRequest",
    "DynamoDB_20120810.DescribeLimits": "DescribeLimitsInput",
    "DynamoDB_20120810.DescribeTable": "DescribeTableInput",
    "DynamoDB_20120810.DescribeTimeToLive": "DescribeTimeToLiveInput",
    "DynamoDB_20120810.GetItem": "GetItemInput",
    "DynamoDB_20120810.ListTables": "ListTablesInput",
    "DynamoDB_20120810.ListTagsOfResource": "ListTagsOfResourceInput",
    "DynamoDB_20120810.PutItem": "PutItemInput",
    "DynamoDB_20120810.Query": "QueryInput",
    "DynamoDB_20120810.Scan": "ScanInput",
    "DynamoDB_20120810.TagResource": "TagResourceInput",
    "DynamoDB_20120810.TransactGetItems": "TransactGetItemsInput",
    "DynamoDB_20120810.TransactWriteItems": "TransactWriteItemsInput",
    "DynamoDB_20120810.UntagResource": "UntagResourceInput",
    "DynamoDB_20120810.UpdateItem": "UpdateItemInput",
    "DynamoDB_20120810.UpdateTable": "UpdateTableInput",
    "DynamoDB_20120810.UpdateTimeToLive": "UpdateTimeToLiveInput",
    "DynamoDBStreams_20120810.DescribeStream": "streams:DescribeStreamInput",
    "DynamoDBStreams_20120810.GetRecords": "streams:GetRecordsInput",
    "DynamoDBStreams_20120810.GetShardIterator": "streams:GetShardIteratorInput",
    "DynamoDBStreams_20120810.ListStreams": "streams:ListStreamsInput",
}


def _bounds(text: str) -> tuple[int | None, int | None]:
    low, _, high = text.partition("..")
    return (int(low) if low else None, int(high) if high else None)


def _parse_shape(text: str) -> Shape:
    kind, *words = text.split()
    if kind == "structure":
        members = []
        required = []
        for word in words:
            name, _, shape = word.rstrip("!").partition(":")
            members.append((name, shape or name))
            if word.endswith("!"):
                required.append(name)
        return (kind, tuple(members), frozenset(required))
    if kind == "list":
        return (kind, words[0], *_bounds(words[1] if len(words) > 1 else ""))
    if kind == "map":
        return (kind, words[0], words[1], *_bounds(words[2] if len(words) > 2 else ""))
    if kind == "enum":
        return ("string", None, None, None, tuple(words[0].split("|")))
    if kind == "string":
        limits = next((word for word in words if ".." in word), "")
        pattern = next((word[1:-1] for word in words if word.startswith("/")), None)
        return (kind, *_bounds(limits), pattern, None)
    if kind in ("integer", "long"):
        return (kind, *_bounds(words[0] if words else ""))
    return (kind,)


_SHAPES: Final = {name: _parse_shape(text) for name, text in _SHAPE_TEXT.items()}

_INTEGER_RANGE: Final = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_JAVA_NAMES: Final = {
    "string": "String",
    "integer": "Integer",
    "long": "Long",
    "boolean": "Boolean",
    "double": "Double",
}
_PATTERNS: Final = {
    shape[3]: re.compile(shape[3]) for shape in _SHAPES.values() if shape[0] == "string" and shape[3] is not None
}
_VALUE_SHOWN: Final = 256  # characters of a refused value quoted in a message
_TABLE_ARN: Final = re.compile(r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]*:[0-9]*:table/([^/]*)")


def check_request(shape_name: str, request: object) -> dict[str, Any]:
    """`request` (parsed JSON) checked against the input shape `shape_name` of `INPUT_SHAPES`.

    Returns the request (a dict) or raises [`DynamoDBError`][shardline.local.DynamoDBError]: `SerializationException`
    for a value of the wrong JSON type, `ValidationException` listing every constraint it breaks.

    Examples:
        >>> check_request("DescribeTableInput", {"TableName": "Orders"})
        {'TableName': 'Orders'}
        >>> check_request("DescribeTableInput", {})
        Traceback (most recent call last):
        ...
        shardline.local.DynamoDBError: ValidationException: 1 validation error detected: Value null at 'tableName' \
failed to satisfy constraint: Member must not be null
    """
    problems: list[str] = []
    _check(shape_name, request, "", problems)
    if problems:
        count = len(problems)
        raise validation(f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems))
    assert type(request) is dict  # the input shapes are structures
    return request


def _check(shape_name: str, value: object, path: str, problems: list[str]) -> None:
    shape = _SHAPES[shape_name]
    kind = shape[0]
    if kind == "any":
        return
    if kind == "structure":
        if type(value) is not dict:
            raise _mismatch(value, kind)
        required = shape[2]
        for member, member_shape in shape[1]:
            item = value.get(member)
            if item is None:  # JSON null is an absent member, and removed so operations see it absent
                value.pop(member, None)
                if member in required:
                    problems.append(_problem(None, _child(path, member), "Member must not be null"))
                continue
            _check(member_shape, item, _child(path, member), problems)
            if member_shape == "TableArn":
                value[member] = _table_name(item, _child(path, member), problems)
            elif type(item) is float and _SHAPES[member_shape][0] in _INTEGER_RANGE:
                value[member] = int(item)  # 5.0 for an integer: read as DynamoDB's number reader reads it
    elif kind == "list":
        if type(value) is not list:
            raise _mismatch(value, kind)
        _check_length(shape[2:4], len(value), value, path, problems)
        for position, item in enumerate(value, 1):
            where = f"{path}.{position}.member"
            if item is None:
                problems.append(_problem(None, where, "Member must not be null"))
            else:
                _check(shape[1], item, where, problems)
    elif kind == "map":
        if type(value) is not dict:
            raise _mismatch(value, kind)
        _check_length(shape[3:5], len(value), value, path, problems)
        value_shape = shape[2]
        if _SHAPES[value_shape][0] == "any" and _SHAPES[shape[1]][1:] == (None, 65535, None, None):
            return  # an item or a key: attribute names and values are the data plane's to check
        for key, item in value.items():
            where = f"{path}.{key}"
            _check(shape[1], key, where, problems)
            if item is None:
                problems.append(_problem(None, where, "Member must not be null"))
            else:
                _check(value_shape, item, where, problems)
        if shape[1] == "TableArn":  # BatchGetItem's and BatchWriteItem's RequestItems, by table
            renamed = {_table_name(key, f"{path}.{key}", problems): item for key, item in value.items()}
            value.clear()
            value.update(renamed)
    elif kind == "string":
        if type(value) is not str:
            raise _mismatch(value, kind)
        low, high, pattern, enum = shape[1:]
        if enum is not None:
            if value not in enum:
                problems.append(_problem(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
            return
        _check_length((low, high), len(value), value, path, problems)
        if pattern is not None and _PATTERNS[pattern].fullmatch(value) is None:
            problems.append(_problem(value, path, f"Member must satisfy regular expression pattern: {pattern}"))
    elif kind in _INTEGER_RANGE:
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is not int:
            raise _mismatch(value, kind)
        smallest, largest = _INTEGER_RANGE[kind]
        if not smallest <= value <= largest:
            raise serialization(f"NUMBER_VALUE {value} is out of range for an {_JAVA_NAMES[kind]}")
        low, high = shape[1:]
        if low is not None and value < low:
            problems.append(_problem(value, path, f"Member must have value greater than or equal to {low}"))
        if high is not None and value > high:
            problems.append(_problem(value, path, f"Member must have value less than or equal to {high}"))
    elif kind == "boolean":
        if type(value) is not bool:
            raise _mismatch(value, kind)
    elif kind in ("double", "timestamp"):
        if type(value) not in (int, float):
            raise _mismatch(value, kind)
    elif type(value) is not str:  # blob: base64 text
        raise _mismatch(value, kind)


def _table_name(value: str, path: str, problems: list[str]) -> str:
    """A table's name, from its name or its ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>`: the
    DynamoDB API reference accepts either wherever a table is named). A name has 3 to 255 characters of
    `[a-zA-Z0-9_.-]`, as the TableName shape says."""
    name = value
    if value.startswith("arn:"):
        match = _TABLE_ARN.fullmatch(value)
        if match is None:
            problems.append(f"Invalid TableArn: Invalid ResourceArn provided as input {_shown(value)}")
            return value
        name = match.group(1)
    _check("TableName", name, path, problems)
    return name


def _check_length(limits: tuple[int | None, int | None], length: int, value: object, path: str, out: list[str]) -> None:
    low, high = limits
    if low is not None and length < low:
        out.append(_problem(value, path, f"Member must have length greater than or equal to {low}"))
    if high is not None and length > high:
        out.append(_problem(value, path, f"Member must have length less than or equal to {high}"))


def _child(path: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{path}.{name}" if path else name


def _problem(value: object, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{_shown(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def _shown(value: object) -> str:
    text = value if type(value) is str else _java_text(value)
    return text if len(text) <= _VALUE_SHOWN else text[:_VALUE_SHOWN] + "..."


def _java_text(value: object) -> str:
    """How DynamoDB quotes a refused value: lists as `[a, b]`, numbers as digits."""
    if type(value) is list:
        return "[" + ", ".join(_java_text(item) for item in value[:20]) + (", ..." if len(value) > 20 else "") + "]"
    if type(value) is dict:
        return "{" + ", ".join(f"{key}={_java_text(item)}" for key, item in list(value.items())[:20]) + "}"
    if type(value) is bool:
        return "true" if value else "false"
    return str(value)


def _mismatch(value: object, expected: str) -> DynamoDBError:
    """The `SerializationException` for a JSON value that cannot be read as `expected`, in DynamoDB's words."""
    if type(value) is dict:
        return serialization("Start of structure or map found where not expected")
    if type(value) is list:
        return serialization("Start of list found where not expected")
    if expected in ("structure", "map", "list"):
        wanted = "a list" if expected == "list" else "a structure or map"
        return serialization(f"Unexpected {_json_name(value)} where {wanted} was expected")
    source = {str: "java.lang.String", bool: "java.lang.Boolean"}.get(
        type(value), "com.amazon.coral.value.json.numbers.TruncatingBigNumber"
    )
    return serialization(f"class {source} can not be converted to an {_JAVA_NAMES.get(expected, 'Blob')}")


def _json_name(value: object) -> str:
    return {str: "string", bool: "boolean"}.get(type(value), "number")
