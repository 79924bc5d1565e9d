"""DynamoDB's data plane over the store (placeholder until the operations land)."""

from __future__ import annotations

from typing import Any

from shardline.local._store import Store
from shardline.local.endpoint._protocol import DynamoDBError

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


def _todo(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    raise DynamoDBError("UnknownOperationException", "not implemented yet")


get_item = put_item = update_item = delete_item = batch_get_item = batch_write_item = _todo
query = scan = transact_write_items = transact_get_items = _todo
