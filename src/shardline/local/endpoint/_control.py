"""DynamoDB's control plane over the store: tables, their indexes, streams, Time to Live and tags.

Each function takes the checked request body and returns the response body of the operation of the same name
in the DynamoDB API reference (CreateTable, DescribeTable, ...). Tables are ready at once: CreateTable and
UpdateTable answer `ACTIVE` (DynamoDB answers `CREATING`/`UPDATING` and gets there within seconds;
waiters and code that polls DescribeTable see `ACTIVE` at their first look).

What DynamoDB keeps about a table and the store does not need (the billing mode, provisioned throughput,
attribute definitions, tags, table class, deletion protection) is kept in the table's `extra` metadata and
described back as given. Tables created without the endpoint (`shardline run` from a template, or
`Store.create_table <shardline.local.Store.create_table>`) are described as on-demand tables whose
attribute definitions are their key attributes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from shardline.local._errors import ResourceNotFoundError, TableExistsError
from shardline.local._store import IndexSpec, Store, Table
from shardline.local.endpoint._protocol import DynamoDBError, validation

__all__ = [
    "create_table",
    "delete_table",
    "describe_continuous_backups",
    "describe_endpoints",
    "describe_limits",
    "describe_table",
    "describe_time_to_live",
    "list_tables",
    "list_tags_of_resource",
    "tag_resource",
    "untag_resource",
    "update_table",
    "update_time_to_live",
]

_INVALID: Final = "One or more parameter values were invalid: "
_PAY_PER_REQUEST: Final = "PAY_PER_REQUEST"
_PROVISIONED: Final = "PROVISIONED"
# DescribeLimits: the default quotas of an account in a Region (DynamoDB developer guide, "Service, account, and
# table quotas": 80,000 read and write capacity units per account, 40,000 per table).
_LIMITS: Final = {
    "AccountMaxReadCapacityUnits": 80000,
    "AccountMaxWriteCapacityUnits": 80000,
    "TableMaxReadCapacityUnits": 40000,
    "TableMaxWriteCapacityUnits": 40000,
}
_MAX_TAGS: Final = 50  # tags per resource (DynamoDB developer guide, "Tagging restrictions")


# -- tables ------------------------------------------------------------------------------------------------


def create_table(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """CreateTable: the key schema and its attribute definitions, indexes, billing, stream, tags."""
    name = request["TableName"]
    definitions = _definitions(request)
    key_schema = _key_schema(request["KeySchema"], definitions, "keySchema")
    global_indexes = request.get("GlobalSecondaryIndexes")
    local_indexes = request.get("LocalSecondaryIndexes")
    if global_indexes == []:
        raise validation(f"{_INVALID}List of GlobalSecondaryIndexes is empty")
    if local_indexes == []:
        raise validation(f"{_INVALID}List of LocalSecondaryIndexes is empty")
    global_specs = [_index_spec(index, definitions, "globalSecondaryIndexes") for index in global_indexes or ()]
    local_specs = [_index_spec(index, definitions, "localSecondaryIndexes") for index in local_indexes or ()]
    _check_definitions_used(definitions, key_schema, [*global_specs, *local_specs])
    billing = request.get("BillingMode", _PROVISIONED)
    throughput = _throughput(billing, request.get("ProvisionedThroughput"))
    index_throughput = {
        index["IndexName"]: _index_throughput(billing, index) for index in global_indexes or () if "IndexName" in index
    }
    stream = request.get("StreamSpecification")
    stream_enabled, view_type = _stream_settings(stream) if stream is not None else (False, None)
    tags = _tags(request.get("Tags") or [])
    extra: dict[str, Any] = {
        "attribute_definitions": definitions,
        "billing_mode": billing,
        "throughput": throughput,
        "index_throughput": index_throughput,
        "tags": tags,
        "deletion_protection": bool(request.get("DeletionProtectionEnabled", False)),
    }
    if "TableClass" in request:
        extra["table_class"] = request["TableClass"]
    try:
        table = store.create_table(
            name,
            key_schema=key_schema,
            stream_view_type=view_type or "NEW_AND_OLD_IMAGES",
            stream_enabled=stream_enabled,
            global_indexes=global_specs,
            local_indexes=local_specs,
            extra=extra,
        )
    except TableExistsError:
        raise DynamoDBError("ResourceInUseException", f"Table already exists: {name}") from None
    return {"TableDescription": _describe(table)}


def describe_table(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeTable: the full TableDescription."""
    return {"Table": _describe(_table(store, request["TableName"]))}


def delete_table(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteTable: the table's description as it goes, `TableStatus: DELETING`."""
    name = request["TableName"]
    table = _table(store, name)
    if table.extra.get("deletion_protection") is True:
        raise validation(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first."
        )
    description = _describe(table)
    description["TableStatus"] = "DELETING"
    try:
        store.delete_table(name)
    except ResourceNotFoundError:
        raise _table_not_found(name) from None
    return {"TableDescription": description}


def list_tables(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """ListTables: names in order, `Limit` (1 to 100, 100 by default) at a time, from after
    `ExclusiveStartTableName`; `LastEvaluatedTableName` when more remain."""
    limit = request.get("Limit", 100)
    start = request.get("ExclusiveStartTableName")
    names = [table.name for table in store.tables()]
    if start is not None:
        names = [name for name in names if name > start]
    response: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        response["LastEvaluatedTableName"] = names[limit - 1]
    return response


def update_table(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateTable: the stream on or off, one global secondary index created or deleted, billing mode and
    throughput, deletion protection and table class."""
    name = request["TableName"]
    table = _table(store, name)
    extra = table.extra
    updates = request.get("GlobalSecondaryIndexUpdates")
    stream = request.get("StreamSpecification")
    changes = [
        key
        for key in (
            "ProvisionedThroughput",
            "BillingMode",
            "StreamSpecification",
            "GlobalSecondaryIndexUpdates",
            "SSESpecification",
            "ReplicaUpdates",
            "TableClass",
            "DeletionProtectionEnabled",
            "OnDemandThroughput",
            "WarmThroughput",
        )
        if key in request
    ]
    if not changes:
        raise validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates "
            "or SSESpecification or ReplicaUpdates is required"
        )
    if "ReplicaUpdates" in request:
        raise validation("shardline's local endpoint does not support ReplicaUpdates (global tables)")
    definitions = _merge_definitions(_table_definitions(table), request.get("AttributeDefinitions"))
    billing = request.get("BillingMode", extra.get("billing_mode", _PAY_PER_REQUEST))
    throughput = extra.get("throughput")
    if "BillingMode" in request or "ProvisionedThroughput" in request:
        if billing == _PROVISIONED and "ProvisionedThroughput" not in request and throughput is None:
            throughput = _throughput(billing, None)
        elif "ProvisionedThroughput" in request or billing == _PAY_PER_REQUEST:
            throughput = _throughput(billing, request.get("ProvisionedThroughput"))
    index_throughput = dict(extra.get("index_throughput") or {})
    add: list[IndexSpec] = []
    remove: list[str] = []
    existing = {spec.name for spec in table.global_indexes}
    creates_and_deletes = [update for update in updates or () if "Create" in update or "Delete" in update]
    if len(creates_and_deletes) > 1:
        raise DynamoDBError(
            "LimitExceededException",
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
        )
    for update in updates or ():
        actions = [key for key in ("Create", "Update", "Delete") if key in update]
        if len(actions) != 1:
            raise validation(
                f"{_INVALID}One of Create, Update or Delete must be given in each GlobalSecondaryIndexUpdate"
            )
        action = update[actions[0]]
        index_name = action["IndexName"]
        if actions[0] == "Create":
            spec = _index_spec(action, definitions, "globalSecondaryIndexUpdates")
            add.append(spec)
            index_throughput[index_name] = _index_throughput(billing, action)
        elif index_name not in existing:
            raise DynamoDBError(
                "ResourceNotFoundException", f"Requested resource not found: Index: {index_name} not found"
            )
        elif actions[0] == "Delete":
            remove.append(index_name)
            index_throughput.pop(index_name, None)
        elif "ProvisionedThroughput" in action:
            if billing == _PAY_PER_REQUEST:
                raise validation(_no_throughput_on_demand())
            index_throughput[index_name] = _capacity(action["ProvisionedThroughput"])
    if add:
        kept = [spec for spec in table.global_indexes if spec.name not in remove]
        _check_definitions_used(definitions, table.key_schema, [*kept, *table.local_indexes, *add], updating=True)
    stream_enabled: bool | None = None
    view_type: str | None = None
    if stream is not None:
        stream_enabled, view_type = _stream_settings(stream)
    new_extra = dict(extra)
    new_extra.update(
        attribute_definitions=_used_definitions(definitions, table, add, remove),
        billing_mode=billing,
        throughput=throughput,
        index_throughput=index_throughput,
    )
    if "DeletionProtectionEnabled" in request:
        new_extra["deletion_protection"] = request["DeletionProtectionEnabled"]
    if "TableClass" in request:
        new_extra["table_class"] = request["TableClass"]
    table = table.update(
        stream_enabled=stream_enabled,
        stream_view_type=view_type,
        add_global_indexes=add,
        remove_global_indexes=remove,
        extra=new_extra,
    )
    return {"TableDescription": _describe(table)}


# -- Time to Live ------------------------------------------------------------------------------------------


def update_time_to_live(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateTimeToLive: enable TTL on an attribute, or disable it. As on DynamoDB, enabling it twice or
    disabling it when it is off is a ValidationException."""
    name = request["TableName"]
    specification = request["TimeToLiveSpecification"]
    enabled = specification["Enabled"]
    attribute = specification["AttributeName"]
    table = _table(store, name)
    current = table.ttl_attribute
    if enabled:
        if current is not None:
            raise validation("TimeToLive is already enabled")
        table.update(ttl_attribute=attribute)
    else:
        if current is None:
            raise validation("TimeToLive is already disabled")
        if current != attribute:
            raise validation(f"TimeToLive is active on a different AttributeName: current AttributeName is {current}")
        table.update(ttl_attribute=None)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


def describe_time_to_live(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeTimeToLive: `ENABLED` with the attribute, or `DISABLED`."""
    table = _table(store, request["TableName"])
    if table.ttl_attribute is None:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}}


# -- account and service -----------------------------------------------------------------------------------


def describe_endpoints(store: Store, request: dict[str, Any], *, address: str = "127.0.0.1:8000") -> dict[str, Any]:
    """DescribeEndpoints: this endpoint's own address, so an SDK with endpoint discovery stays local."""
    return {"Endpoints": [{"Address": address, "CachePeriodInMinutes": 1440}]}


def describe_limits(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeLimits: DynamoDB's default capacity quotas (nothing is throttled locally)."""
    return dict(_LIMITS)


def describe_continuous_backups(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeContinuousBackups: point-in-time recovery is off (infrastructure tools read this of every table)."""
    _table(store, request["TableName"])
    return {
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
        }
    }


# -- tags --------------------------------------------------------------------------------------------------


def tag_resource(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """TagResource: add or replace tags of a table (by its ARN)."""
    table = _resource(store, request["ResourceArn"])
    tags = dict(_tag_pairs(table))
    tags.update(_tags(request["Tags"]))
    if len(tags) > _MAX_TAGS:
        raise DynamoDBError("LimitExceededException", f"The number of tags on a resource cannot exceed {_MAX_TAGS}")
    table.update(extra={**table.extra, "tags": tags})
    return {}


def untag_resource(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """UntagResource: remove tags of a table by key (keys it does not have are ignored)."""
    table = _resource(store, request["ResourceArn"])
    removed = set(request["TagKeys"])
    tags = {key: value for key, value in _tag_pairs(table) if key not in removed}
    table.update(extra={**table.extra, "tags": tags})
    return {}


def list_tags_of_resource(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    """ListTagsOfResource: every tag of a table, in one page."""
    table = _resource(store, request["ResourceArn"])
    return {"Tags": [{"Key": key, "Value": value} for key, value in _tag_pairs(table)]}


# -- helpers -----------------------------------------------------------------------------------------------


def _table(store: Store, name: str) -> Table:
    try:
        return store.table(name)
    except ResourceNotFoundError:
        raise _table_not_found(name) from None


def _table_not_found(name: str) -> DynamoDBError:
    return DynamoDBError("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


def _resource(store: Store, arn: str) -> Table:
    prefix, _, name = arn.partition(":table/")
    if not prefix.startswith("arn:") or not name or "/" in name:
        raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    try:
        table = store.table(name)
    except (ResourceNotFoundError, ValueError):
        table = None
    if table is None or table.table_arn != arn:
        raise DynamoDBError("ResourceNotFoundException", f"Requested resource not found: ResourceArn: {arn} not found")
    return table


def _definitions(request: Mapping[str, Any]) -> dict[str, str]:
    """AttributeDefinitions as `{name: type}`; a name defined twice is refused. CreateTable needs them and
    the key schema (the model leaves them optional for tables made from another Region's global table)."""
    missing = [member for member in ("AttributeDefinitions", "KeySchema") if member not in request]
    if missing:
        problems = [
            f"Value null at '{member[0].lower() + member[1:]}' failed to satisfy constraint: Member must not be null"
            for member in missing
        ]
        count = len(problems)
        raise validation(f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems))
    definitions: dict[str, str] = {}
    for definition in request["AttributeDefinitions"]:
        name = definition["AttributeName"]
        if name in definitions:
            raise validation(f"{_INVALID}Duplicate AttributeName: {name}")
        definitions[name] = definition["AttributeType"]
    return definitions


def _key_schema(elements: Sequence[Mapping[str, str]], definitions: Mapping[str, str], where: str) -> dict[str, str]:
    """A KeySchema list as the store's ordered `{name: type}`, checked as DynamoDB checks it."""
    if len(elements) > 2:
        shown = ", ".join(
            f"KeySchemaElement(attributeName={element['AttributeName']}, keyType={element['KeyType']})"
            for element in elements
        )
        raise validation(
            f"1 validation error detected: Value '[{shown}]' at '{where}' failed to satisfy constraint: "
            "Member must have length less than or equal to 2"
        )
    kinds = [element["KeyType"] for element in elements]
    if kinds[0] != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if kinds == ["HASH", "HASH"]:
        raise validation("Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key")
    names = [element["AttributeName"] for element in elements]
    if len(names) == 2 and names[0] == names[1]:
        raise validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
    schema: dict[str, str] = {}
    for name in names:
        if name not in definitions:
            raise validation("Invalid KeySchema: Some index key attribute have no definition")
        schema[name] = definitions[name]
    return schema


def _index_spec(index: Mapping[str, Any], definitions: Mapping[str, str], where: str) -> IndexSpec:
    name = index["IndexName"]
    key_names = [element["AttributeName"] for element in index["KeySchema"]]
    undefined = [key for key in key_names if key not in definitions]
    if undefined:
        raise validation(
            f"{_INVALID}Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(undefined)}], AttributeDefinitions: [{', '.join(definitions)}]"
        )
    schema = _key_schema(index["KeySchema"], definitions, f"{where}.keySchema")
    projection = index["Projection"]
    return IndexSpec(
        name,
        schema,
        projection.get("ProjectionType", "ALL") if projection else "ALL",
        tuple(projection.get("NonKeyAttributes") or ()),
    )


def _check_definitions_used(
    definitions: Mapping[str, str],
    key_schema: Mapping[str, str],
    indexes: Sequence[IndexSpec],
    *,
    updating: bool = False,
) -> None:
    """Every attribute defined must be a key of the table or of an index (DynamoDB API reference,
    CreateTable: AttributeDefinitions "describe the key schema for the table and indexes")."""
    used = set(key_schema)
    for spec in indexes:
        used.update(spec.key_schema)
    unused = [name for name in definitions if name not in used]
    if not unused:
        return
    if not indexes and not updating:
        raise validation(
            f"{_INVALID}Number of attributes in KeySchema does not exactly match number of attributes defined in "
            "AttributeDefinitions"
        )
    raise validation(
        f"{_INVALID}Some AttributeDefinitions are not used. AttributeDefinitions: [{', '.join(sorted(definitions))}], "
        f"keys used: [{', '.join(sorted(used))}]"
    )


def _table_definitions(table: Table) -> dict[str, str]:
    kept = table.extra.get("attribute_definitions")
    if isinstance(kept, dict):
        return {str(name): str(kind) for name, kind in kept.items()}
    definitions = dict(table.key_schema)
    for spec in (*table.global_indexes, *table.local_indexes):
        definitions.update(spec.key_schema)
    return definitions


def _merge_definitions(current: dict[str, str], given: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    merged = dict(current)
    for definition in given or ():
        name, kind = definition["AttributeName"], definition["AttributeType"]
        if merged.get(name, kind) != kind:
            raise validation(
                f"{_INVALID}Cannot change the type of attribute {name} from {merged[name]} to {kind}: it is a key "
                "of the table or of an index"
            )
        merged[name] = kind
    return merged


def _used_definitions(
    definitions: Mapping[str, str], table: Table, add: Sequence[IndexSpec], remove: Sequence[str]
) -> dict[str, str]:
    used = set(table.key_schema)
    for spec in (*table.global_indexes, *table.local_indexes, *add):
        if spec.name not in remove:
            used.update(spec.key_schema)
    return {name: kind for name, kind in definitions.items() if name in used}


def _no_throughput_on_demand() -> str:
    return (
        f"{_INVALID}Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
        "PAY_PER_REQUEST"
    )


def _throughput(billing: str, given: Mapping[str, Any] | None) -> dict[str, int] | None:
    if billing == _PAY_PER_REQUEST:
        if given is not None:
            raise validation(_no_throughput_on_demand())
        return None
    if given is None:
        raise validation(
            f"{_INVALID}ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
        )
    return _capacity(given)


def _index_throughput(billing: str, index: Mapping[str, Any]) -> dict[str, int] | None:
    given = index.get("ProvisionedThroughput")
    if billing == _PAY_PER_REQUEST:
        if given is not None:
            raise validation(_no_throughput_on_demand())
        return None
    if given is None:
        raise validation(f"{_INVALID}ProvisionedThroughput must be specified for index: {index['IndexName']}")
    return _capacity(given)


def _capacity(given: Mapping[str, Any]) -> dict[str, int]:
    return {"ReadCapacityUnits": given["ReadCapacityUnits"], "WriteCapacityUnits": given["WriteCapacityUnits"]}


def _stream_settings(specification: Mapping[str, Any]) -> tuple[bool, str | None]:
    enabled = specification["StreamEnabled"]
    view_type = specification.get("StreamViewType")
    if enabled and view_type is None:
        raise validation(f"{_INVALID}StreamViewType is required when StreamEnabled is true")
    if not enabled and view_type is not None:
        raise validation(f"{_INVALID}If stream is being disabled, then UpdateViewType must not be specified")
    return enabled, view_type


def _tags(tags: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if len(tags) > _MAX_TAGS:
        raise DynamoDBError("LimitExceededException", f"The number of tags on a resource cannot exceed {_MAX_TAGS}")
    return {tag["Key"]: tag["Value"] for tag in tags}


def _tag_pairs(table: Table) -> list[tuple[str, str]]:
    tags = table.extra.get("tags")
    if not isinstance(tags, dict):
        return []
    return [(str(key), str(value)) for key, value in tags.items()]


def _key_elements(schema: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"AttributeName": name, "KeyType": kind} for name, kind in zip(schema, ("HASH", "RANGE"), strict=False)]


def _projection(spec: IndexSpec) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": spec.projection}
    if spec.non_key_attributes:
        projection["NonKeyAttributes"] = list(spec.non_key_attributes)
    return projection


def _provisioned(capacity: Mapping[str, Any] | None) -> dict[str, Any]:
    # On-demand tables and indexes describe their throughput as zero units (DynamoDB API reference,
    # ProvisionedThroughputDescription).
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": int(capacity["ReadCapacityUnits"]) if capacity else 0,
        "WriteCapacityUnits": int(capacity["WriteCapacityUnits"]) if capacity else 0,
    }


def _describe(table: Table) -> dict[str, Any]:
    """The TableDescription (DynamoDB API reference, TableDescription), members in DynamoDB's order."""
    extra = table.extra
    billing = extra.get("billing_mode", _PAY_PER_REQUEST)
    created = table.created_ms / 1000
    table_arn = table.table_arn
    item_count = table.item_count()
    index_throughput = extra.get("index_throughput") or {}
    definitions = _table_definitions(table)
    description: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind} for name, kind in definitions.items()],
        "TableName": table.name,
        "KeySchema": _key_elements(table.key_schema),
        "TableStatus": "ACTIVE",
        "CreationDateTime": created,
        "ProvisionedThroughput": _provisioned(extra.get("throughput")),
        "TableSizeBytes": table.size_bytes(),
        "ItemCount": item_count,
        "TableArn": table_arn,
        "TableId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{table_arn}@{table.created_ms}")),
        "BillingModeSummary": {"BillingMode": billing},
    }
    if billing == _PAY_PER_REQUEST:
        description["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"] = created
    if table.local_indexes:
        description["LocalSecondaryIndexes"] = [
            {
                "IndexName": spec.name,
                "KeySchema": _key_elements(spec.key_schema),
                "Projection": _projection(spec),
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{table_arn}/index/{spec.name}",
            }
            for spec in table.local_indexes
        ]
    if table.global_indexes:
        description["GlobalSecondaryIndexes"] = [
            {
                "IndexName": spec.name,
                "KeySchema": _key_elements(spec.key_schema),
                "Projection": _projection(spec),
                "IndexStatus": "ACTIVE",
                "ProvisionedThroughput": _provisioned(index_throughput.get(spec.name)),
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{table_arn}/index/{spec.name}",
            }
            for spec in table.global_indexes
        ]
    if table.stream_enabled:
        description["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view_type}
    elif table.stream_arn is not None:
        description["StreamSpecification"] = {"StreamEnabled": False}
    if table.stream_arn is not None:
        description["LatestStreamLabel"] = table.stream_arn.rsplit("/", 1)[1]
        description["LatestStreamArn"] = table.stream_arn
    if "table_class" in extra:
        description["TableClassSummary"] = {"TableClass": extra["table_class"]}
    description["DeletionProtectionEnabled"] = extra.get("deletion_protection") is True
    return description
