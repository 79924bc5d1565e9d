"""Test helpers for code that consumes DynamoDB streams: realistic events, validation, clocks, contexts.

Not imported by `import shardline`. The pytest fixtures `event_builder`, `virtual_clock` and
`lambda_context` come with the package (a pytest plugin registered on install).
"""

from __future__ import annotations

from ._builder import EventBuilder as EventBuilder
from ._builder import generate_items as generate_items
from ._clock import Clock as Clock
from ._clock import SystemClock as SystemClock
from ._clock import VirtualClock as VirtualClock
from ._context import LambdaContext as LambdaContext
from ._sam import sam_sample_event as sam_sample_event
from ._validate import Problem as Problem
from ._validate import validate_event as validate_event

__all__ = [
    "Clock",
    "EventBuilder",
    "LambdaContext",
    "Problem",
    "SystemClock",
    "VirtualClock",
    "generate_items",
    "sam_sample_event",
    "validate_event",
]
