"""shardline: DynamoDB Streams for AWS Lambda in Python.

The in-Lambda core imports only the standard library: an exact AttributeValue codec, typed, lazily
decoded stream records, and the batch runner that answers Lambda with a partial batch response.

`import shardline` loads the codec and the records only; the batch runner, tumbling windows and event
filters load on first use of one of their names (PEP 562), so a function pays only for what it uses.

`shardline.speedups_enabled` says whether the optional C accelerator of the codec (`shardline._speedups`,
in the platform wheels) is decoding; when it is missing, or the environment variable `SHARDLINE_PURE_PYTHON`
is set to anything but `""` or `"0"` at import, the pure Python codec does, with the same values, errors
and messages, more slowly. Check it with `python -c "import shardline; print(shardline.speedups_enabled)"`.

Examples:
    >>> from shardline import StreamEvent
    >>> event = StreamEvent({"Records": []})
    >>> len(event)
    0
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._attributes import ITEM_SIZE_LIMIT as ITEM_SIZE_LIMIT
from ._attributes import TYPE_TAGS as TYPE_TAGS
from ._attributes import deserialize as deserialize
from ._attributes import deserialize_item as deserialize_item
from ._attributes import format_number as format_number
from ._attributes import item_size as item_size
from ._attributes import serialize as serialize
from ._attributes import serialize_item as serialize_item
from ._attributes import speedups_enabled as speedups_enabled
from ._attributes import validate_item as validate_item
from ._events import EventName as EventName
from ._events import StreamEvent as StreamEvent
from ._events import StreamRecord as StreamRecord
from ._events import StreamRecords as StreamRecords
from ._events import StreamViewType as StreamViewType
from ._exceptions import AttributeTypeError as AttributeTypeError
from ._exceptions import AttributeValueError as AttributeValueError
from ._exceptions import BatchFailedError as BatchFailedError
from ._exceptions import EventShapeError as EventShapeError
from ._exceptions import JSONInputError as JSONInputError
from ._exceptions import ShardlineError as ShardlineError
from ._exceptions import WindowStateError as WindowStateError
from ._json import json_dumps as json_dumps

if _TYPE_CHECKING:
    from ._batch import BatchResult as BatchResult
    from ._batch import RecordFailure as RecordFailure
    from ._batch import aprocess_batch as aprocess_batch
    from ._batch import arun_batch as arun_batch
    from ._batch import batch_handler as batch_handler
    from ._batch import process_batch as process_batch
    from ._batch import run_batch as run_batch
    from ._filters import FilterCriteria as FilterCriteria
    from ._filters import FilterExplanation as FilterExplanation
    from ._filters import FilterPatternError as FilterPatternError
    from ._windows import aprocess_window as aprocess_window
    from ._windows import check_state as check_state
    from ._windows import process_window as process_window

# Names whose module is imported on first use: the batch runner, windows and filters are not needed by a
# function that only reads records, and each module costs import time on every cold start.
_LAZY: dict[str, str] = {
    "BatchResult": "._batch",
    "FilterCriteria": "._filters",
    "FilterExplanation": "._filters",
    "FilterPatternError": "._filters",
    "RecordFailure": "._batch",
    "aprocess_batch": "._batch",
    "aprocess_window": "._windows",
    "arun_batch": "._batch",
    "batch_handler": "._batch",
    "check_state": "._windows",
    "process_batch": "._batch",
    "process_window": "._windows",
    "run_batch": "._batch",
}


def __getattr__(name: str) -> _Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'shardline' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module_name, __name__), name)
    globals()[name] = value  # later lookups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__version__ = "0.1.0"

__all__ = [
    "ITEM_SIZE_LIMIT",
    "TYPE_TAGS",
    "AttributeTypeError",
    "AttributeValueError",
    "BatchFailedError",
    "BatchResult",
    "EventName",
    "EventShapeError",
    "FilterCriteria",
    "FilterExplanation",
    "FilterPatternError",
    "JSONInputError",
    "RecordFailure",
    "ShardlineError",
    "StreamEvent",
    "StreamRecord",
    "StreamRecords",
    "StreamViewType",
    "WindowStateError",
    "aprocess_batch",
    "aprocess_window",
    "arun_batch",
    "batch_handler",
    "check_state",
    "deserialize",
    "deserialize_item",
    "format_number",
    "item_size",
    "json_dumps",
    "process_batch",
    "process_window",
    "run_batch",
    "serialize",
    "serialize_item",
    "speedups_enabled",
    "validate_item",
]
