"""The handler on events like the ones the stream sends, built with shardline's EventBuilder: no AWS, no Docker.

shardline registers its pytest fixtures when it is installed: ``virtual_clock``, ``lambda_context`` and
``event_builder`` (SAM's sample table). ``orders`` below is a builder for this template's table instead.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from shardline.testing import EventBuilder, LambdaContext, VirtualClock

from app import lambda_handler


@pytest.fixture
def orders(virtual_clock: VirtualClock) -> EventBuilder:
    """The Orders table of template.yaml (partition key ``pk``, a string): its writes become stream records."""
    return EventBuilder(table="Orders", key_schema={"pk": "S"}, clock=virtual_clock)


def published(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The events the handler published: JSON lines on its standard output, numbers kept exact."""
    return [json.loads(line, parse_float=Decimal) for line in capsys.readouterr().out.splitlines()]


def sequence_numbers(*records: dict[str, Any]) -> list[dict[str, str]]:
    """A partial batch response's entries for these records."""
    return [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]} for record in records]


def test_each_status_change_is_published_once(
    orders: EventBuilder, lambda_context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    placed = orders.put({"pk": "order#1", "customer": "ana", "status": "NEW", "total": Decimal("12.50")})
    orders.update({"pk": "order#1"}, set={"note": "leave it at the door"})  # the status stays NEW
    paid = orders.update({"pk": "order#1"}, set={"status": "PAID"})

    assert lambda_handler(orders.build(), lambda_context) == {"batchItemFailures": []}
    assert published(capsys) == [
        {
            "order": "order#1",
            "status": "NEW",
            "previous": None,
            "customer": "ana",
            "total": Decimal("12.5"),
            "event_id": placed["eventID"],
        },
        {
            "order": "order#1",
            "status": "PAID",
            "previous": "NEW",
            "customer": "ana",
            "total": Decimal("12.5"),
            "event_id": paid["eventID"],
        },
    ]


def test_a_removed_order_publishes_nothing(
    orders: EventBuilder, lambda_context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    orders.put({"pk": "order#1", "status": "NEW", "total": 7})
    orders.build()  # an earlier batch
    orders.delete({"pk": "order#1"})  # the mapping's filter drops REMOVEs; the handler skips one all the same

    assert lambda_handler(orders.build(), lambda_context) == {"batchItemFailures": []}
    assert published(capsys) == []


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"status": "LOST", "total": 1}, "order#2: unknown status 'LOST'"),
        ({"status": "NEW", "total": -1}, "order#2: the total must be a number of at least 0, not Decimal('-1')"),
        ({"status": "NEW"}, "order#2: the total must be a number of at least 0, not None"),
    ],
)
def test_a_bad_order_stops_the_batch_where_it_is(
    orders: EventBuilder,
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    bad: dict[str, Any],
    error: str,
) -> None:
    orders.put({"pk": "order#1", "status": "NEW", "total": 5})
    poison = orders.put({"pk": "order#2", **bad})
    after = orders.put({"pk": "order#3", "status": "NEW", "total": 9})

    with caplog.at_level(logging.WARNING, logger="shardline"):
        response = lambda_handler(orders.build(), lambda_context)

    # Lambda retries from the bad record on: order#3 was not run, so it is never published twice.
    assert response == {"batchItemFailures": sequence_numbers(poison, after)}
    assert [event["order"] for event in published(capsys)] == ["order#1"]
    assert error in caplog.text
