"""DynamoDB's data plane over the store: GetItem, PutItem, UpdateItem, DeleteItem, BatchGetItem, BatchWriteItem,
Query, Scan, TransactWriteItems and TransactGetItems.

Each operation takes the parsed JSON body of a request and returns the JSON body of the response, or raises
[`DynamoDBError`][shardline.local.DynamoDBError] as DynamoDB answers (DynamoDB API reference, one page per operation).
Items, keys and expression values are checked and normalised by `_values` first; expressions are parsed once per request
by `shardline.local.expressions` (every expression of a request before any is evaluated, so that unused or undefined
names and values are refused together, as DynamoDB does).

Every write is atomic: the old item is read, the condition checked, the new image computed and written in
one store transaction, so concurrent writers cannot interleave; a write that changes nothing succeeds and
puts no record on the stream (DynamoDB developer guide, "Change data capture for DynamoDB Streams").
Transactions are all-or-nothing across tables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple

from shardline._attributes import ITEM_SIZE_LIMIT, encoded_item_size
from shardline._exceptions import AttributeValueError
from shardline.local._errors import ArgumentTypeError, ResourceNotFoundError, ValidationError
from shardline.local._store import Store, StoredItem, Table
from shardline.local.endpoint import _values
from shardline.local.endpoint._capacity import MODES, Meter, read_units
from shardline.local.endpoint._protocol import DynamoDBError
from shardline.local.expressions import (
    Expressions,
    apply_update,
    attribute_updates,
    attributes_to_get,
    check_expression_parameters,
    evaluate,
    expected_condition,
    filter_condition,
    key_conditions,
    project,
)

__all__ = [
    "batch_get_item",
    "batch_write_item",
    "delete_item",
    "get_item",
    "put_item",
    "query",
    "scan",
    "transact_get_items",
    "transact_write_items",
    "update_item",
]

Request = dict[str, Any]
Response = dict[str, Any]

_NOT_FOUND: Final = "Requested resource not found"
_CONDITION_FAILED: Final = "The conditional request failed"
_RETURN_VALUES: Final = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
_ON_FAILURE: Final = ("ALL_OLD", "NONE")
_SELECT: Final = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")
_METRICS: Final = ("SIZE", "NONE")
_PAGE_BYTES: Final = 1_048_576  # Query and Scan stop after 1 MB of items read (DynamoDB API reference, Query)
_BATCH_GET_KEYS: Final = 100
_BATCH_GET_BYTES: Final = 16 * 1_048_576
_BATCH_WRITE_REQUESTS: Final = 25
_TRANSACT_ACTIONS: Final = 100
_TRANSACT_BYTES: Final = 4 * 1_048_576
_INVALID: Final = "One or more parameter values were invalid: "


# --------------------------------------------------------------------------------------------------
# Request plumbing


def _operation(function: Callable[[Store, Request], Response]) -> Callable[[Store, Request], Response]:
    """An operation whose store and expression refusals leave it as DynamoDB's errors, as the endpoint would
    translate them: callers in process (tests, benchmarks) see the same `DynamoDBError` a client does."""

    @functools.wraps(function)
    def run(store: Store, request: Request) -> Response:
        try:
            return function(store, request)
        except (ValidationError, AttributeValueError, ArgumentTypeError) as exc:
            raise DynamoDBError("ValidationException", str(exc)) from None
        except ResourceNotFoundError:
            raise DynamoDBError("ResourceNotFoundException", _NOT_FOUND) from None

    return run


def _table(store: Store, raw: object, member: str = "tableName") -> Table:
    name = _values.table_name(raw, member)
    try:
        return store.table(name)
    except ResourceNotFoundError:
        raise DynamoDBError("ResourceNotFoundException", _NOT_FOUND) from None


def _string(request: Mapping[str, Any], name: str) -> str | None:
    value: str | None = _values.field(request, name, str, "String")
    return value


def _enum(request: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    value = _string(request, name)
    _values.check_enum(value, allowed, name[:1].lower() + name[1:])
    return default if value is None else value


def _bool(request: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = _values.field(request, name, bool, "Boolean")
    return default if value is None else bool(value)


def _expressions(request: Mapping[str, Any]) -> Expressions:
    """The request's `ExpressionAttributeNames` and `ExpressionAttributeValues` (each value checked and
    normalised), ready to parse the request's expressions against."""
    names = _values.field(request, "ExpressionAttributeNames", dict, "Map")
    if names is not None:
        for placeholder, name in names.items():
            if type(name) is not str:
                raise _values.serialization(f"Value of ExpressionAttributeNames entry {placeholder} must be a string")
    return Expressions(names, _values.expression_values(request.get("ExpressionAttributeValues")))


class _Parsed(NamedTuple):
    """A request's expressions (or the legacy parameters standing for them), parsed."""

    condition: Any  # ConditionExpression or FilterExpression (Expected, QueryFilter, ScanFilter)
    update: Any  # UpdateExpression (AttributeUpdates)
    projection: Any  # ProjectionExpression (AttributesToGet)
    key: Any  # KeyConditionExpression (KeyConditions)


_PLACEHOLDERS: Final = ("ExpressionAttributeNames", "ExpressionAttributeValues")
_NOTHING_PARSED: Final = _Parsed(None, None, None, None)


def _parse(
    request: Mapping[str, Any],
    expression: tuple[str, ...],
    legacy: tuple[str, ...] = (),
    *,
    key_names: tuple[str, str | None] | None = None,
) -> _Parsed:
    """Parse every expression of a request, then refuse placeholders none of them used (DynamoDB checks the
    request's expressions together). `expression` and `legacy` are the operation's parameters of each
    kind in DynamoDB's order (DynamoDB developer guide, "Legacy conditional parameters": a request may not
    mix them)."""
    if all(request.get(name) is None for name in (*expression, *legacy, *_PLACEHOLDERS)):
        return _NOTHING_PARSED  # the usual GetItem or PutItem: nothing to parse, nothing to refuse
    check_expression_parameters(request, expression=expression, legacy=legacy)
    expressions = _expressions(request)
    key = condition = update = projection = None
    text = _string(request, "KeyConditionExpression") if "KeyConditionExpression" in expression else None
    if text is not None:
        assert key_names is not None
        key = expressions.key_condition(text, partition_key=key_names[0], sort_key=key_names[1])
    text = _string(request, "UpdateExpression") if "UpdateExpression" in expression else None
    if text is not None:
        update = expressions.update(text)
    for name in ("ConditionExpression", "FilterExpression"):
        text = _string(request, name) if name in expression else None
        if text is not None:
            condition = expressions.condition(text, kind=name)
    text = _string(request, "ProjectionExpression") if "ProjectionExpression" in expression else None
    if text is not None:
        projection = expressions.projection(text)
    expressions.check_all_used()
    parsed = _Parsed(condition, update, projection, key)
    return _legacy(request, legacy, key_names, parsed) if legacy else parsed


def _legacy(
    request: Mapping[str, Any], legacy: tuple[str, ...], key_names: tuple[str, str | None] | None, parsed: _Parsed
) -> _Parsed:
    """The legacy parameters as the expressions they stand for (DynamoDB developer guide, "Legacy
    conditional parameters"), their AttributeValues checked and normalised."""
    condition, update, projection, key = parsed
    operator = _string(request, "ConditionalOperator") if "ConditionalOperator" in legacy else None
    _values.check_enum(operator, ("AND", "OR"), "conditionalOperator")
    for name in ("Expected", "QueryFilter", "ScanFilter"):
        raw = request.get(name) if name in legacy else None
        if raw is not None:
            conditions = _legacy_values(raw)
            condition = (
                expected_condition(conditions, operator)
                if name == "Expected"
                else filter_condition(conditions, operator, parameter=name)
            )
    raw = request.get("KeyConditions") if "KeyConditions" in legacy else None
    if raw is not None and key is None:
        assert key_names is not None
        key = key_conditions(_legacy_values(raw), partition_key=key_names[0], sort_key=key_names[1])
    raw = request.get("AttributeUpdates") if "AttributeUpdates" in legacy else None
    if raw is not None:
        update = attribute_updates(_legacy_values(raw))
    raw = request.get("AttributesToGet") if "AttributesToGet" in legacy else None
    if raw is not None:
        projection = attributes_to_get(raw)
    return _Parsed(condition, update, projection, key)


def _legacy_values(raw: Any) -> Any:
    """A legacy condition or update map with its `Value` and `AttributeValueList` values normalised."""
    if type(raw) is not dict:
        return raw
    out: dict[str, Any] = {}
    for name, given in raw.items():
        entry = given
        if type(given) is dict:
            entry = dict(given)
            if entry.get("Value") is not None:
                entry["Value"] = _values.checked_value(entry["Value"])
            elements = entry.get("AttributeValueList")
            if type(elements) is list:
                entry["AttributeValueList"] = [_values.checked_value(element) for element in elements]
        out[name] = entry
    return out


def _check_return_values(value: str | None, allowed: tuple[str, ...]) -> str:
    _values.check_enum(value, _RETURN_VALUES, "returnValues")
    if value is None:
        return "NONE"
    if value not in allowed:
        # PutItem and DeleteItem take NONE and ALL_OLD only (DynamoDB API reference, PutItem: ReturnValues).
        raise DynamoDBError("ValidationException", "Return values set to invalid value")
    return value


def _schema(table: Table) -> dict[str, str]:
    return table.key_schema


def _indexes(table: Table) -> tuple[tuple[Any, bool], ...]:
    """The table's secondary indexes, each with `True` for a local one."""
    return (
        *((spec, False) for spec in getattr(table, "global_indexes", ())),
        *((spec, True) for spec in getattr(table, "local_indexes", ())),
    )


def _check_index_keys(table: Table, image: Mapping[str, Any], *, update: bool) -> None:
    """An item's values for the key attributes of the table's indexes: of the index's declared type and not
    empty (DynamoDB API reference, PutItem: "If any attributes are present in the item that are part of an
    index key schema for the table, their types must match the index key schema")."""
    for spec, _ in _indexes(table):
        for name, declared in spec.key_schema.items():
            av = image.get(name)
            if av is None:
                continue
            ((tag, raw),) = av.items()
            if tag != declared:
                raise DynamoDBError(
                    "ValidationException",
                    f"{_INVALID}Type mismatch for Index Key {name} Expected: {declared} Actual: {tag} "
                    f"IndexName: {spec.name}",
                )
            if raw == "":
                kind = "string" if tag == "S" else "binary"
                lead = (
                    "The update expression attempted to update a secondary index key to a value that is not supported."
                    if update
                    else "A value specified for a secondary index key is not supported."
                )
                raise DynamoDBError(
                    "ValidationException",
                    f"One or more parameter values are not valid. {lead} The AttributeValue for a key attribute "
                    f"cannot contain an empty {kind} value. IndexName: {spec.name}, IndexKey: {name}",
                )


def _store_error(exc: Exception) -> DynamoDBError:
    """A store refusal met while writing (a limit checked again by the store) as a ValidationException."""
    return DynamoDBError("ValidationException", str(exc))


def _item_collection_metrics(table: Table, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """`ItemCollectionMetrics` of a write: only tables with local secondary indexes have item collections
    (DynamoDB API reference, PutItem: ItemCollectionMetrics)."""
    if not getattr(table, "local_indexes", ()):
        return None
    partition = next(iter(table.key_schema))
    return {"ItemCollectionKey": {partition: key[partition]}, "SizeEstimateRangeGB": [0.0, 1.0]}


# --------------------------------------------------------------------------------------------------
# Return values


def _updated(update: Any, old: Mapping[str, Any] | None, new: Mapping[str, Any], which: str) -> dict[str, Any]:
    """UPDATED_OLD or UPDATED_NEW: the paths the update expression writes, as they were or are (DynamoDB API
    reference, UpdateItem: ReturnValues "returns only the updated attributes, as they appeared before/after
    the UpdateItem operation")."""
    if update is None:
        return {}
    image = (old or {}) if which == "UPDATED_OLD" else new
    return project(update.projection, image)


# --------------------------------------------------------------------------------------------------
# GetItem, PutItem, UpdateItem, DeleteItem


@_operation
def get_item(store: Store, request: Request) -> Response:
    """GetItem (DynamoDB API reference, GetItem): the item with the key, projected; nothing when missing."""
    table = _table(store, request.get("TableName"))
    key = _values.key(request.get("Key"), _schema(table))
    consistent = _bool(request, "ConsistentRead")
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    projection = _parse(request, ("ProjectionExpression",), ("AttributesToGet",)).projection
    stored = table._read_item(key, texts=True)
    response: Response = {}
    if stored is not None:
        response["Item"] = stored.image if projection is None else project(projection, stored.image)
    if meter.active:
        meter.read(table.name, read_units(0 if stored is None else stored.size, consistent=consistent))
        response["ConsumedCapacity"] = meter.one(table.name)
    return response


@_operation
def put_item(store: Store, request: Request) -> Response:
    """PutItem (DynamoDB API reference, PutItem): create or replace an item, under an optional condition."""
    table = _table(store, request.get("TableName"))
    image, size = _values.item(request.get("Item"))
    key = _values.key_of_item(image, size, table._schema)
    _check_index_keys(table, image, update=False)
    returns = _check_return_values(_string(request, "ReturnValues"), ("NONE", "ALL_OLD"))
    on_failure = _enum(request, "ReturnValuesOnConditionCheckFailure", _ON_FAILURE, "NONE")
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    metrics = _enum(request, "ReturnItemCollectionMetrics", _METRICS)
    condition = _parse(request, ("ConditionExpression",), ("Expected", "ConditionalOperator")).condition
    found = _change(table, key, condition, on_failure, lambda _: (image, size))
    old = found.old
    response: Response = {}
    if returns == "ALL_OLD" and old is not None:
        response["Attributes"] = old
    return _write_response(response, table, key, found, meter=meter, metrics=metrics)


class _Found:
    """What a single-item write found, and wrote: filled in by `_change`."""

    __slots__ = ("new", "old", "old_size", "size")

    def __init__(self) -> None:
        self.old: dict[str, Any] | None = None
        self.old_size: int | None = None
        self.new: dict[str, Any] | None = None
        self.size = 0


def _change(
    table: Table,
    key: dict[str, Any],
    condition: Any,
    on_failure: str | None,
    make: Callable[[dict[str, Any] | None], tuple[dict[str, Any] | None, int]],
) -> _Found:
    """Read the item, check the condition against it and write the image `make` computes from it (None:
    delete the item), all in one store transaction."""
    found = _Found()

    def decide(stored: StoredItem | None) -> tuple[dict[str, Any] | None, int]:
        old = None
        if stored is not None:
            old = found.old = stored.image
            found.old_size = stored.size
        if condition is not None and not evaluate(condition, old):
            _condition_failed(old, on_failure)
        found.new, found.size = make(old)
        return found.new, found.size

    try:
        table._change_item(key, decide)
    except (ValidationError, AttributeValueError) as exc:
        raise _store_error(exc) from None
    return found


def _write_response(
    response: Response, table: Table, key: Mapping[str, Any], found: _Found, *, meter: Meter, metrics: str | None
) -> Response:
    """The consumed capacity and item collection metrics of a single-item write, added to `response`."""
    if meter.active:
        new_size = None if found.new is None else found.size
        meter.write_item(table, found.old, found.new, old_size=found.old_size, new_size=new_size)
        response["ConsumedCapacity"] = meter.one(table.name)
    if metrics == "SIZE":
        collection = _item_collection_metrics(table, key)
        if collection is not None:
            response["ItemCollectionMetrics"] = collection
    return response


def _condition_failed(old: Mapping[str, Any] | None, on_failure: str | None) -> None:
    if on_failure == "ALL_OLD" and old is not None:
        raise DynamoDBError("ConditionalCheckFailedException", _CONDITION_FAILED, Item=old)
    raise DynamoDBError("ConditionalCheckFailedException", _CONDITION_FAILED)


def _write(table: Table, changes: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None, int]]) -> None:
    try:
        table._write_sized(changes)
    except (ValidationError, AttributeValueError) as exc:
        raise _store_error(exc) from None


@_operation
def update_item(store: Store, request: Request) -> Response:
    """UpdateItem (DynamoDB API reference, UpdateItem): edit an item's attributes, or create the item."""
    table = _table(store, request.get("TableName"))
    schema = table._schema
    key = _values.key(request.get("Key"), schema)
    returns = _check_return_values(_string(request, "ReturnValues"), _RETURN_VALUES)
    on_failure = _enum(request, "ReturnValuesOnConditionCheckFailure", _ON_FAILURE, "NONE")
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    metrics = _enum(request, "ReturnItemCollectionMetrics", _METRICS)
    parsed = _parse(
        request,
        ("UpdateExpression", "ConditionExpression"),
        ("AttributeUpdates", "Expected", "ConditionalOperator"),
    )
    update = parsed.update
    found = _change(table, key, parsed.condition, on_failure, lambda old: _updated_image(table, update, old, key))
    old, new = found.old, found.new
    assert new is not None
    response: Response = {}
    if returns == "ALL_OLD":
        if old is not None:
            response["Attributes"] = old
    elif returns == "ALL_NEW":
        response["Attributes"] = new
    elif returns != "NONE":
        attributes = _updated(update, old, new, returns)
        if attributes:
            response["Attributes"] = attributes
    return _write_response(response, table, key, found, meter=meter, metrics=metrics)


def _updated_image(
    table: Table, update: Any, old: dict[str, Any] | None, key: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """The image an update leaves, and its size, checked as UpdateItem checks it."""
    new = _apply(update, old, key, table._schema)
    size = encoded_item_size(new)
    if size > ITEM_SIZE_LIMIT:
        raise DynamoDBError("ValidationException", "Item size to update has exceeded the maximum allowed size")
    _check_index_keys(table, new, update=True)
    return new, size


def _apply(update: Any, old: dict[str, Any] | None, key: dict[str, Any], schema: Mapping[str, str]) -> dict[str, Any]:
    if update is None:  # no update: the item as it is, or a new item holding the key
        return dict(key) if old is None else old
    return apply_update(update, old, key=key, key_names=tuple(schema))


@_operation
def delete_item(store: Store, request: Request) -> Response:
    """DeleteItem (DynamoDB API reference, DeleteItem): delete an item, under an optional condition."""
    table = _table(store, request.get("TableName"))
    key = _values.key(request.get("Key"), table._schema)
    returns = _check_return_values(_string(request, "ReturnValues"), ("NONE", "ALL_OLD"))
    on_failure = _enum(request, "ReturnValuesOnConditionCheckFailure", _ON_FAILURE, "NONE")
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    metrics = _enum(request, "ReturnItemCollectionMetrics", _METRICS)
    condition = _parse(request, ("ConditionExpression",), ("Expected", "ConditionalOperator")).condition
    found = _change(table, key, condition, on_failure, lambda _: (None, 0))
    response: Response = {}
    if returns == "ALL_OLD" and found.old is not None:
        response["Attributes"] = found.old
    return _write_response(response, table, key, found, meter=meter, metrics=metrics)


# --------------------------------------------------------------------------------------------------
# BatchGetItem, BatchWriteItem


def _key_ref(key: Mapping[str, Any]) -> tuple[Any, ...]:
    """A hashable identity of a normalised key image (attributes in schema order)."""
    return tuple((name, *av.items()) for name, av in key.items())


@_operation
def batch_get_item(store: Store, request: Request) -> Response:
    """BatchGetItem (DynamoDB API reference, BatchGetItem): up to 100 items from one or more tables; the
    items beyond 16 MB of response come back as `UnprocessedKeys`."""
    items = _request_items(request)
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    plans = []
    total = 0
    for name, spec in items.items():
        if type(spec) is not dict:
            raise _values.serialization(
                "Start of list found where not expected"
                if isinstance(spec, list)
                else "Unexpected value where a structure was expected"
            )
        table = _table(store, name, "requestItems")
        raw_keys = _values.field(spec, "Keys", list, "List")
        if not raw_keys:
            _null_or_empty(f"requestItems.{name}.member.keys", raw_keys)
        total += len(raw_keys)
        if total > _BATCH_GET_KEYS:
            raise DynamoDBError("ValidationException", "Too many items requested for the BatchGetItem call")
        schema = _schema(table)
        keys = [_values.key(raw, schema) for raw in raw_keys]
        refs = {_key_ref(key) for key in keys}
        if len(refs) != len(keys):
            raise DynamoDBError("ValidationException", "Provided list of item keys contains duplicates")
        consistent = _bool(spec, "ConsistentRead")
        projection = _parse(spec, ("ProjectionExpression",), ("AttributesToGet",)).projection
        plans.append((name, spec, table, keys, consistent, projection))
    responses: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    returned = 0
    for name, spec, table, keys, consistent, projection in plans:
        found = responses.setdefault(name, [])
        meter.touch(table.name)
        for position, key in enumerate(keys):
            if returned > _BATCH_GET_BYTES:
                rest = dict(spec)
                rest["Keys"] = keys[position:]
                unprocessed[name] = rest
                break
            stored = table._read_item(key, texts=True)
            meter.read(table.name, read_units(0 if stored is None else stored.size, consistent=consistent))
            if stored is not None:
                returned += stored.size
                found.append(stored.image if projection is None else project(projection, stored.image))
    response: Response = {"Responses": responses, "UnprocessedKeys": unprocessed}
    if meter.active:
        response["ConsumedCapacity"] = meter.all()
    return response


def _request_items(request: Mapping[str, Any]) -> dict[str, Any]:
    """BatchGetItem's and BatchWriteItem's `RequestItems`: a map of one table or more."""
    items: dict[str, Any] = _values.field(request, "RequestItems", dict, "Map")
    if not items:
        _null_or_empty("requestItems", items)
    return items


def _transact_items(request: Mapping[str, Any]) -> list[Any]:
    """TransactWriteItems' and TransactGetItems' `TransactItems`: 1 to 100 actions."""
    actions: list[Any] = _values.field(request, "TransactItems", list, "List")
    if not actions:
        _null_or_empty("transactItems", actions)
    if len(actions) > _TRANSACT_ACTIONS:
        raise DynamoDBError(
            "ValidationException",
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have "
            f"length less than or equal to {_TRANSACT_ACTIONS}",
        )
    return actions


def _null_or_empty(member: str, value: object) -> None:
    if value is None:
        raise DynamoDBError(
            "ValidationException",
            f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
            "Member must not be null",
        )
    raise DynamoDBError(
        "ValidationException",
        f"1 validation error detected: Value '{{}}' at '{member}' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )


@_operation
def batch_write_item(store: Store, request: Request) -> Response:
    """BatchWriteItem (DynamoDB API reference, BatchWriteItem): up to 25 puts and deletes across tables.

    All are applied in one commit (DynamoDB applies each on its own; here none is ever left unprocessed, so
    `UnprocessedItems` is always empty)."""
    items = _request_items(request)
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    metrics = _enum(request, "ReturnItemCollectionMetrics", _METRICS)
    plans: list[tuple[Table, list[tuple[dict[str, Any], dict[str, Any] | None, int]]]] = []
    total = 0
    for name, writes in items.items():
        if type(writes) is not list:
            raise _values.serialization(
                "Start of structure or map found where not expected."
                if isinstance(writes, Mapping)
                else "Unexpected value where a list was expected"
            )
        table = _table(store, name, "requestItems")
        if not writes:
            _null_or_empty(f"requestItems.{name}", writes)
        total += len(writes)
        if total > _BATCH_WRITE_REQUESTS:
            raise DynamoDBError(
                "ValidationException",
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must "
                "satisfy constraint: [Member must have length less than or equal to 25, Member must have length "
                "greater than or equal to 1]",
            )
        schema = _schema(table)
        changes: list[tuple[dict[str, Any], dict[str, Any] | None, int]] = []
        seen: set[tuple[Any, ...]] = set()
        for write in writes:
            if type(write) is not dict:
                raise _values.serialization("Unexpected value where a WriteRequest structure was expected")
            put = write.get("PutRequest")
            delete = write.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise DynamoDBError(
                    "ValidationException",
                    "Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest",
                )
            if put is not None:
                if type(put) is not dict:
                    raise _values.serialization("Unexpected value where a PutRequest structure was expected")
                image, size = _values.item(put.get("Item"))
                key = _values.key_of_item(image, size, schema)
                _check_index_keys(table, image, update=False)
                change: tuple[dict[str, Any], dict[str, Any] | None, int] = (key, image, size)
            else:
                if type(delete) is not dict:
                    raise _values.serialization("Unexpected value where a DeleteRequest structure was expected")
                change = (_values.key(delete.get("Key"), schema), None, 0)
            ref = _key_ref(change[0])
            if ref in seen:
                raise DynamoDBError("ValidationException", "Provided list of item keys contains duplicates")
            seen.add(ref)
            changes.append(change)
        plans.append((table, changes))
    collections: dict[str, list[Any]] = {}
    with store.transaction():
        for table, changes in plans:
            meter.touch(table.name)
            if meter.active:
                for key, new_image, size in changes:
                    stored = table.read_item(key)
                    meter.write_item(
                        table,
                        None if stored is None else stored.image,
                        new_image,
                        old_size=None if stored is None else stored.size,
                        new_size=size if new_image is not None else None,
                    )
            _write(table, changes)
            if metrics == "SIZE":
                for key, _, _ in changes:
                    collection = _item_collection_metrics(table, key)
                    if collection is not None:
                        collections.setdefault(table.name, []).append(collection)
    response: Response = {"UnprocessedItems": {}}
    if meter.active:
        response["ConsumedCapacity"] = meter.all()
    if metrics == "SIZE":
        response["ItemCollectionMetrics"] = collections
    return response


# --------------------------------------------------------------------------------------------------
# Query, Scan


def _index(table: Table, name: str | None) -> tuple[Any, bool] | None:
    if name is None:
        return None
    for spec, local in _indexes(table):
        if spec.name == name:
            return spec, local
    raise DynamoDBError("ValidationException", f"The table does not have the specified index: {name}")


def _select(request: Mapping[str, Any], index: tuple[Any, bool] | None, operation: str) -> str:
    """`Select` checked against the projection and the index (DynamoDB API reference, Query: Select)."""
    select = _enum(request, "Select", _SELECT)
    has_projection = request.get("ProjectionExpression") is not None or request.get("AttributesToGet") is not None
    if select is None:
        if has_projection:
            return "SPECIFIC_ATTRIBUTES"
        return "ALL_ATTRIBUTES" if index is None else "ALL_PROJECTED_ATTRIBUTES"
    if select == "SPECIFIC_ATTRIBUTES":
        if not has_projection:
            raise DynamoDBError(
                "ValidationException",
                "1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when "
                "choosing to get SPECIFIC_ATTRIBUTES",
            )
        return select
    if has_projection:
        shown = "only the Count" if select == "COUNT" else select
        parameter = "ProjectionExpression" if request.get("ProjectionExpression") is not None else "AttributesToGet"
        raise DynamoDBError(
            "ValidationException",
            f"1 validation error detected: Cannot specify the {parameter} when choosing to get {shown}",
        )
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise DynamoDBError(
            "ValidationException",
            "1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when "
            f"{operation} using an IndexName",
        )
    if select == "ALL_ATTRIBUTES" and index is not None:
        spec, local = index
        if not local and spec.projection != "ALL":
            raise DynamoDBError(
                "ValidationException",
                f"{_INVALID}Select type ALL_ATTRIBUTES is not supported for global secondary index {spec.name} "
                "because its projection type is not ALL",
            )
    return select


def _limit(request: Mapping[str, Any]) -> int | None:
    limit: int | None = _values.field(request, "Limit", int, "Integer")
    if limit is not None and limit < 1:
        raise DynamoDBError(
            "ValidationException",
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        )
    return limit


def _start_key(request: Mapping[str, Any], table: Table, index: tuple[Any, bool] | None) -> dict[str, Any] | None:
    raw = request.get("ExclusiveStartKey")
    if raw is None:
        return None
    schema = dict(_schema(table))
    if index is not None:
        for name, kind in index[0].key_schema.items():
            schema.setdefault(name, kind)
    return _values.key(
        raw,
        schema,
        field_name="exclusiveStartKey",
        message="The provided starting key is invalid: The provided key element does not match the schema",
    )


class _Reading(NamedTuple):
    """What a Query and a Scan read: the table, the index (and whether it is local), Select, Limit and
    ConsistentRead, checked in DynamoDB's order."""

    table: Table
    index_spec: tuple[Any, bool] | None  # None: the table itself
    select: str
    limit: int | None
    consistent: bool


def _reading(store: Store, request: Mapping[str, Any]) -> _Reading:
    table = _table(store, request.get("TableName"))
    index = _index(table, _string(request, "IndexName"))
    select = _select(request, index, "Querying")
    return _Reading(table, index, select, _limit(request), _consistent(request, index))


def _read_page(reading: _Reading, page: Any, *, filter_: Any, projection: Any, meter: Meter) -> Response:
    """A Query or Scan page: the filter, projection, counts and capacity of the items read."""
    table, index, select, _, consistent = reading
    size = 0
    items: list[Any] = []
    count = 0
    fetch = (
        index is not None
        and index[1]
        and index[0].projection != "ALL"
        and select in ("ALL_ATTRIBUTES", "SPECIFIC_ATTRIBUTES")
    )
    fetched = 0
    keys = tuple(_schema(table))
    for stored in page.items:
        size += stored.size
        image = stored.image
        if fetch:  # a local index fetches the attributes it does not project from the table (Query: Select)
            whole = table._read_item({name: image[name] for name in keys}, texts=True)
            if whole is not None:
                image = whole.image
                fetched += whole.size
        if filter_ is not None and not evaluate(filter_, image):
            continue
        count += 1
        if select != "COUNT":
            items.append(image if projection is None else project(projection, image))
    response: Response = {}
    if select != "COUNT":
        response["Items"] = items
    response["Count"] = count
    response["ScannedCount"] = len(page.items)
    if page.last_evaluated_key is not None:
        response["LastEvaluatedKey"] = page.last_evaluated_key
    if meter.active:
        units = read_units(size, consistent=consistent)
        if index is None:
            meter.read(table.name, units)
        else:
            meter.read(table.name, units, index=index[0].name, local=index[1])
            if fetched:
                meter.read(table.name, read_units(fetched, consistent=consistent))
        response["ConsumedCapacity"] = meter.one(table.name)
    return response


def _consistent(request: Mapping[str, Any], index: tuple[Any, bool] | None) -> bool:
    consistent = _bool(request, "ConsistentRead")
    if consistent and index is not None and not index[1]:
        raise DynamoDBError("ValidationException", "Consistent reads are not supported on global secondary indexes")
    return consistent


@_operation
def query(store: Store, request: Request) -> Response:
    """Query (DynamoDB API reference, Query): the items of one partition of a table or index, in sort key
    order, one page (`Limit` items, or 1 MB read) at a time."""
    reading = _reading(store, request)
    table, index = reading.table, reading.index_spec
    forward = _bool(request, "ScanIndexForward", True)
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    start = _start_key(request, table, index)
    if request.get("KeyConditionExpression") is None and request.get("KeyConditions") is None:
        raise DynamoDBError(
            "ValidationException",
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        )
    key_schema = index[0].key_schema if index is not None else _schema(table)
    names = list(key_schema)
    parsed = _parse(
        request,
        ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
        ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
        key_names=(names[0], names[1] if len(names) > 1 else None),
    )
    condition, filter_, projection = parsed.key, parsed.condition, parsed.projection
    _check_key_condition_types(condition, key_schema)
    page = table._query_page(
        condition.partition,
        index=None if index is None else index[0].name,
        sort=condition.sort,
        forward=forward,
        exclusive_start_key=start,
        limit=reading.limit,
        byte_limit=_PAGE_BYTES,
        texts=True,
    )
    return _read_page(reading, page, filter_=filter_, projection=projection, meter=meter)


def _check_key_condition_types(condition: Any, key_schema: Mapping[str, str]) -> None:
    """The key condition's values must have the key attributes' types (DynamoDB: "Condition parameter type
    does not match schema type"), and begins_with works on S and B sort keys only."""
    types = list(key_schema.values())
    values = [condition.partition]
    sort = condition.sort
    if sort is not None:
        values.extend(sort[1:])
        if sort[0] == "begins_with" and len(types) > 1 and types[1] == "N":
            raise DynamoDBError(
                "ValidationException",
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
                "operator or function: begins_with, operand type: N",
            )
    for position, av in enumerate(values):
        declared = types[0] if position == 0 else types[-1]
        if next(iter(av)) != declared:
            raise DynamoDBError("ValidationException", f"{_INVALID}Condition parameter type does not match schema type")


@_operation
def scan(store: Store, request: Request) -> Response:
    """Scan (DynamoDB API reference, Scan): every item of a table or index, one page at a time, optionally
    one segment of a parallel scan."""
    reading = _reading(store, request)
    table, index = reading.table, reading.index_spec
    segment, total_segments = _segments(request)
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    start = _start_key(request, table, index)
    parsed = _parse(
        request, ("ProjectionExpression", "FilterExpression"), ("AttributesToGet", "ScanFilter", "ConditionalOperator")
    )
    filter_, projection = parsed.condition, parsed.projection
    page = table._scan_page(
        index=None if index is None else index[0].name,
        segment=segment,
        total_segments=total_segments,
        exclusive_start_key=start,
        limit=reading.limit,
        byte_limit=_PAGE_BYTES,
        texts=True,
    )
    return _read_page(reading, page, filter_=filter_, projection=projection, meter=meter)


def _segments(request: Mapping[str, Any]) -> tuple[int, int]:
    """Segment and TotalSegments of a parallel scan (DynamoDB API reference, Scan)."""
    segment: int | None = _values.field(request, "Segment", int, "Integer")
    total: int | None = _values.field(request, "TotalSegments", int, "Integer")
    problems = []
    constraint = "failed to satisfy constraint: Member must have value"
    if segment is not None and segment < 0:
        problems.append(f"Value '{segment}' at 'segment' {constraint} greater than or equal to 0")
    if segment is not None and segment > 999_999:
        problems.append(f"Value '{segment}' at 'segment' {constraint} less than or equal to 999999")
    if total is not None and total < 1:
        problems.append(f"Value '{total}' at 'totalSegments' {constraint} greater than or equal to 1")
    if total is not None and total > 1_000_000:
        problems.append(f"Value '{total}' at 'totalSegments' {constraint} less than or equal to 1000000")
    if problems:
        count = len(problems)
        raise DynamoDBError(
            "ValidationException",
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems),
        )
    if segment is not None and total is None:
        raise DynamoDBError(
            "ValidationException",
            "The TotalSegments parameter is required but was not present in the request when Segment parameter "
            "is present",
        )
    if total is not None and segment is None:
        raise DynamoDBError(
            "ValidationException",
            "The Segment parameter is required but was not present in the request when parameter TotalSegments "
            "is present",
        )
    if segment is None or total is None:
        return 0, 1
    if segment >= total:
        raise DynamoDBError(
            "ValidationException",
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}",
        )
    return segment, total


# --------------------------------------------------------------------------------------------------
# TransactWriteItems, TransactGetItems


class _Action:
    """One parsed TransactWriteItems action."""

    __slots__ = ("condition", "image", "key", "kind", "on_failure", "size", "table", "update")

    def __init__(self, kind: str, table: Table, key: dict[str, Any]) -> None:
        self.kind = kind
        self.table = table
        self.key = key
        self.condition: Any = None
        self.update: Any = None
        self.image: dict[str, Any] | None = None
        self.size = 0
        self.on_failure: str | None = "NONE"


_ACTION_KINDS: Final = ("ConditionCheck", "Put", "Delete", "Update")


def _parse_action(store: Store, raw: object, position: int, tables: dict[str, Table]) -> _Action:
    where = f"transactItems.{position}.member"
    if type(raw) is not dict:
        raise _values.serialization("Unexpected value where a TransactWriteItem structure was expected")
    present = [kind for kind in _ACTION_KINDS if raw.get(kind) is not None]
    if len(present) != 1:
        raise DynamoDBError("ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete")
    kind = present[0]
    body = raw[kind]
    if type(body) is not dict:
        raise _values.serialization("Unexpected value where a structure was expected")
    member = f"{where}.{kind[:1].lower()}{kind[1:]}"
    table_name = _values.table_name(body.get("TableName"), f"{member}.tableName")
    table = tables.get(table_name)
    if table is None:
        table = tables[table_name] = _table(store, table_name, f"{member}.tableName")
    schema = _schema(table)
    if kind == "Put":
        image, size = _values.item(body.get("Item"), field_name=f"{member}.item")
        key = _values.key_of_item(image, size, schema)
        _check_index_keys(table, image, update=False)
        action = _Action(kind, table, key)
        action.image, action.size = image, size
    else:
        action = _Action(kind, table, _values.key(body.get("Key"), schema, field_name=f"{member}.key"))
    action.on_failure = _enum(body, "ReturnValuesOnConditionCheckFailure", _ON_FAILURE, "NONE")
    if kind == "Update" and body.get("UpdateExpression") is None:
        _null_or_empty(f"{member}.updateExpression", None)
    if kind == "ConditionCheck" and body.get("ConditionExpression") is None:
        _null_or_empty(f"{member}.conditionExpression", None)
    fields = ("UpdateExpression", "ConditionExpression") if kind == "Update" else ("ConditionExpression",)
    parsed = _parse(body, fields)
    action.update, action.condition = parsed.update, parsed.condition
    return action


@_operation
def transact_write_items(store: Store, request: Request) -> Response:
    """TransactWriteItems (DynamoDB API reference, TransactWriteItems): up to 100 puts, updates, deletes and
    condition checks on distinct items, across tables, all applied or none.

    A failed condition cancels the whole transaction with `TransactionCanceledException`, whose
    `CancellationReasons` give, in the order of the actions, `None` for each action that would have
    succeeded and the reason of each that did not."""
    raw_actions = _transact_items(request)
    token = _values.field(request, "ClientRequestToken", str, "String")
    if token is not None and not 1 <= len(token) <= 36:
        raise DynamoDBError(
            "ValidationException",
            f"1 validation error detected: Value '{token}' at 'clientRequestToken' failed to satisfy constraint: "
            "Member must have length less than or equal to 36",
        )
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    metrics = _enum(request, "ReturnItemCollectionMetrics", _METRICS)
    tables: dict[str, Table] = {}
    actions = [_parse_action(store, raw, position, tables) for position, raw in enumerate(raw_actions, 1)]
    seen: set[tuple[Any, ...]] = set()
    size = 0
    for action in actions:
        ref = (action.table.name, _key_ref(action.key))
        if ref in seen:
            raise DynamoDBError(
                "ValidationException", "Transaction request cannot include multiple operations on one item"
            )
        seen.add(ref)
        size += action.size
    if size > _TRANSACT_BYTES:
        raise DynamoDBError(
            "ValidationException", "Transaction request size has exceeded the maximum allowed size of 4 MB"
        )
    with store.transaction():
        olds: list[tuple[dict[str, Any] | None, int]] = []
        news: list[tuple[dict[str, Any] | None, int]] = []
        reasons: list[dict[str, Any]] = []
        failed = False
        for action in actions:
            stored = action.table.read_item(action.key)
            old = None if stored is None else stored.image
            olds.append((old, 0 if stored is None else stored.size))
            reason, new, new_size = _run_action(action, old)
            reasons.append(reason)
            news.append((new, new_size))
            failed = failed or reason["Code"] != "None"
        if failed:
            codes = ", ".join(reason["Code"] for reason in reasons)
            raise DynamoDBError(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                CancellationReasons=reasons,
            )
        by_table: dict[str, list[tuple[Mapping[str, Any], Mapping[str, Any] | None, int]]] = {}
        for action, (new, new_size) in zip(actions, news, strict=True):
            if action.kind != "ConditionCheck":
                by_table.setdefault(action.table.name, []).append((action.key, new, new_size))
        for name, changes in by_table.items():
            _write(tables[name], changes)
    response: Response = {}
    if meter.active:
        for action, (old, old_size), (new, new_size) in zip(actions, olds, news, strict=True):
            if action.kind == "ConditionCheck":
                meter.read(action.table.name, read_units(old_size, consistent=True, factor=2))
            else:
                meter.write_item(
                    action.table,
                    old,
                    new,
                    old_size=old_size if old is not None else None,
                    new_size=new_size if new is not None else None,
                    factor=2,
                )
        response["ConsumedCapacity"] = meter.all()
    if metrics == "SIZE":
        collections: dict[str, list[Any]] = {}
        for action in actions:
            if action.kind != "ConditionCheck":
                collection = _item_collection_metrics(action.table, action.key)
                if collection is not None:
                    collections.setdefault(action.table.name, []).append(collection)
        response["ItemCollectionMetrics"] = collections
    return response


def _run_action(action: _Action, old: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
    """An action's cancellation reason (`{"Code": "None"}` when it passes), the image it leaves and that
    image's size (0 when the action writes nothing)."""
    if action.condition is not None and not evaluate(action.condition, old):
        reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": _CONDITION_FAILED}
        if action.on_failure == "ALL_OLD" and old is not None:
            reason["Item"] = old
        return reason, old, 0
    if action.kind == "ConditionCheck":
        return {"Code": "None"}, old, 0
    if action.kind == "Put":
        return {"Code": "None"}, action.image, action.size
    if action.kind == "Delete":
        return {"Code": "None"}, None, 0
    try:
        new, size = _updated_image(action.table, action.update, old, action.key)
    except (DynamoDBError, ValidationError) as exc:
        message = exc.message if isinstance(exc, DynamoDBError) else str(exc)
        return {"Code": "ValidationError", "Message": message}, old, 0
    return {"Code": "None"}, new, size


@_operation
def transact_get_items(store: Store, request: Request) -> Response:
    """TransactGetItems (DynamoDB API reference, TransactGetItems): up to 100 items read at one point in time."""
    raw_actions = _transact_items(request)
    meter = Meter(_enum(request, "ReturnConsumedCapacity", MODES))
    tables: dict[str, Table] = {}
    plans = []
    seen: set[tuple[Any, ...]] = set()
    for position, raw in enumerate(raw_actions, 1):
        member = f"transactItems.{position}.member.get"
        if type(raw) is not dict:
            raise _values.serialization("Unexpected value where a TransactGetItem structure was expected")
        body = raw.get("Get")
        if body is None:
            _null_or_empty(member, None)
        if type(body) is not dict:
            raise _values.serialization("Unexpected value where a Get structure was expected")
        name = _values.table_name(body.get("TableName"), f"{member}.tableName")
        table = tables.get(name)
        if table is None:
            table = tables[name] = _table(store, name, f"{member}.tableName")
        key = _values.key(body.get("Key"), _schema(table), field_name=f"{member}.key")
        ref = (table.name, _key_ref(key))
        if ref in seen:
            raise DynamoDBError(
                "ValidationException", "Transaction request cannot include multiple operations on one item"
            )
        seen.add(ref)
        projection = _parse(body, ("ProjectionExpression",)).projection
        plans.append((table, key, projection))
    responses: list[dict[str, Any]] = []
    with store.transaction():  # one point in time
        for table, key, projection in plans:
            stored = table._read_item(key, texts=True)
            meter.read(table.name, read_units(0 if stored is None else stored.size, consistent=True, factor=2))
            if stored is None:
                responses.append({})
            else:
                responses.append({"Item": stored.image if projection is None else project(projection, stored.image)})
    response: Response = {"Responses": responses}
    if meter.active:
        response["ConsumedCapacity"] = meter.all()
    return response
