"""pytest fixtures for code that consumes DynamoDB streams (registered automatically with shardline).

``event_builder`` (an :class:`EventBuilder` on a virtual clock), ``virtual_clock`` and ``lambda_context``::

    def test_orders_handler(event_builder, lambda_context):
        event_builder.put({"Id": 1, "status": "NEW"})
        event_builder.put({"Id": 1, "status": "PAID"})
        response = lambda_handler(event_builder.build(), lambda_context)
        assert response == {"batchItemFailures": []}
"""

from __future__ import annotations

import pytest

from ._builder import EventBuilder
from ._clock import VirtualClock
from ._context import LambdaContext


@pytest.fixture
def virtual_clock() -> VirtualClock:
    """A clock at 2026-01-01T00:00:00Z that moves only when told to."""
    return VirtualClock()


@pytest.fixture
def event_builder(virtual_clock: VirtualClock) -> EventBuilder:
    """A model of SAM's sample table (key ``Id``, a number) whose writes become stream records.

    Its timestamps come from ``virtual_clock``: advance the clock to space the records out.
    """
    return EventBuilder(clock=virtual_clock)


@pytest.fixture
def lambda_context(virtual_clock: VirtualClock) -> LambdaContext:
    """A Lambda context with a 3-second timeout counted on ``virtual_clock``."""
    return LambdaContext(function_name="test-function", clock=virtual_clock, request_id="test-request")
