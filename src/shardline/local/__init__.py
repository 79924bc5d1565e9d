"""The pipeline on your machine: an embedded, durable table whose writes produce a faithful DynamoDB stream
([`Store`][shardline.local.Store], [`Table`][shardline.local.Table], [`Stream`][shardline.local.Stream]), and the event
source mapping emulator that reads it ([`Pipeline`][shardline.local.Pipeline]).

Not imported by `import shardline` (it needs `sqlite3`, which a Lambda function never should load).

Examples:
    >>> from shardline.local import Store
    >>> from shardline.testing import VirtualClock
    >>> with Store(":memory:", clock=VirtualClock()) as store:
    ...     table = store.create_table("Orders", key_schema={"pk": "S"}, ttl_attribute="expires")
    ...     _ = table.put_item({"pk": "order#1", "expires": 1767225500})
    ...     [record["userIdentity"]["type"] for record in table.expire_ttl()]
    ['Service']
"""

from __future__ import annotations

from ._destinations import Boto3Destination as Boto3Destination
from ._destinations import Destination as Destination
from ._destinations import DestinationError as DestinationError
from ._destinations import JsonLinesDestination as JsonLinesDestination
from ._destinations import StoreDestination as StoreDestination
from ._errors import ArgumentTypeError as ArgumentTypeError
from ._errors import ExpiredIteratorError as ExpiredIteratorError
from ._errors import ResourceNotFoundError as ResourceNotFoundError
from ._errors import StoreError as StoreError
from ._errors import TableExistsError as TableExistsError
from ._errors import TrimmedDataAccessError as TrimmedDataAccessError
from ._errors import ValidationError as ValidationError
from ._esm import DeliveryTimeoutError as DeliveryTimeoutError
from ._esm import EventSourceMapping as EventSourceMapping
from ._esm import InvocationRecord as InvocationRecord
from ._esm import Pipeline as Pipeline
from ._invoker import FunctionError as FunctionError
from ._invoker import InProcessInvoker as InProcessInvoker
from ._invoker import Invocation as Invocation
from ._invoker import Invoker as Invoker
from ._redrive import RedriveError as RedriveError
from ._redrive import StreamReadError as StreamReadError
from ._runtime import RuntimeInvoker as RuntimeInvoker
from ._runtime import RuntimeInvokerError as RuntimeInvokerError
from ._settings import InvalidParameterValueError as InvalidParameterValueError
from ._settings import MappingSettings as MappingSettings
from ._settings import ResourceConflictError as ResourceConflictError
from ._store import DEFAULT_RETENTION_MS as DEFAULT_RETENTION_MS
from ._store import DEFAULT_ROLLOVER_MS as DEFAULT_ROLLOVER_MS
from ._store import IndexSpec as IndexSpec
from ._store import Page as Page
from ._store import Store as Store
from ._store import StoredItem as StoredItem
from ._store import Table as Table
from ._stream import ITERATOR_LIFETIME_MS as ITERATOR_LIFETIME_MS
from ._stream import ITERATOR_TYPES as ITERATOR_TYPES
from ._stream import Stream as Stream
from ._template import FunctionSpec as FunctionSpec
from ._template import MappingSpec as MappingSpec
from ._template import TableSpec as TableSpec
from ._template import Template as Template
from ._template import TemplateError as TemplateError
from ._template import find_template as find_template
from ._template import load_template as load_template
from .endpoint import DynamoDBError as DynamoDBError
from .endpoint import Endpoint as Endpoint
from .endpoint import EndpointError as EndpointError
from .endpoint import serve as serve

__all__ = [
    "DEFAULT_RETENTION_MS",
    "DEFAULT_ROLLOVER_MS",
    "ITERATOR_LIFETIME_MS",
    "ITERATOR_TYPES",
    "ArgumentTypeError",
    "Boto3Destination",
    "DeliveryTimeoutError",
    "Destination",
    "DestinationError",
    "DynamoDBError",
    "Endpoint",
    "EndpointError",
    "EventSourceMapping",
    "ExpiredIteratorError",
    "FunctionError",
    "FunctionSpec",
    "InProcessInvoker",
    "IndexSpec",
    "InvalidParameterValueError",
    "Invocation",
    "InvocationRecord",
    "Invoker",
    "JsonLinesDestination",
    "MappingSettings",
    "MappingSpec",
    "Page",
    "Pipeline",
    "RedriveError",
    "StreamReadError",
    "ResourceConflictError",
    "ResourceNotFoundError",
    "RuntimeInvoker",
    "RuntimeInvokerError",
    "Store",
    "StoreDestination",
    "StoreError",
    "StoredItem",
    "Stream",
    "Table",
    "TableExistsError",
    "TableSpec",
    "Template",
    "TemplateError",
    "TrimmedDataAccessError",
    "ValidationError",
    "find_template",
    "load_template",
    "serve",
]
