"""shardline: DynamoDB Streams for AWS Lambda in Python.

The in-Lambda core imports only the standard library: an exact AttributeValue codec and typed, lazily
decoded stream records.

>>> from shardline import StreamEvent
>>> event = StreamEvent({"Records": []})
>>> len(event)
0
"""

from __future__ import annotations

from ._attributes import ITEM_SIZE_LIMIT as ITEM_SIZE_LIMIT
from ._attributes import TYPE_TAGS as TYPE_TAGS
from ._attributes import deserialize as deserialize
from ._attributes import deserialize_item as deserialize_item
from ._attributes import format_number as format_number
from ._attributes import item_size as item_size
from ._attributes import serialize as serialize
from ._attributes import serialize_item as serialize_item
from ._attributes import validate_item as validate_item
from ._events import EventName as EventName
from ._events import StreamEvent as StreamEvent
from ._events import StreamRecord as StreamRecord
from ._events import StreamViewType as StreamViewType
from ._exceptions import AttributeValueError as AttributeValueError
from ._exceptions import EventShapeError as EventShapeError
from ._exceptions import ShardlineError as ShardlineError
from ._json import json_dumps as json_dumps

__version__ = "0.1.0"

__all__ = [
    "ITEM_SIZE_LIMIT",
    "TYPE_TAGS",
    "AttributeValueError",
    "EventName",
    "EventShapeError",
    "ShardlineError",
    "StreamEvent",
    "StreamRecord",
    "StreamViewType",
    "deserialize",
    "deserialize_item",
    "format_number",
    "item_size",
    "json_dumps",
    "serialize",
    "serialize_item",
    "validate_item",
]
