"""The handler on events like the ones the stream sends: no AWS, no Docker.

shardline's EventBuilder builds the events. shardline registers its pytest
fixtures when it is installed: ``virtual_clock``, ``lambda_context`` and
``event_builder`` (SAM's sample table). ``orders`` below is a builder for this
template's table instead.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from shardline.testing import EventBuilder, LambdaContext, VirtualClock

from app import lambda_handler

# What the handler raises for order#2 when its total is not a number of at least 0
BAD_TOTAL = "order#2: the total must be a number of at least 0, not"


@pytest.fixture
def orders(virtual_clock: VirtualClock) -> EventBuilder:
    """The Orders table of template.yaml (partition key ``pk``, a string).

    Its writes become stream records.
    """
    return EventBuilder(
        table="Orders",
        key_schema={"pk": "S"},
        clock=virtual_clock,
    )


def published(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The events the handler published: JSON lines on its standard output.

    Numbers are kept exact.
    """
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line, parse_float=Decimal) for line in lines]


def sequence_numbers(*records: dict[str, Any]) -> list[dict[str, str]]:
    """A partial batch response's entries for these records."""
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    return [{"itemIdentifier": number} for number in numbers]


def test_each_status_change_is_published_once(
    orders: EventBuilder,
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    placed = orders.put(
        {
            "pk": "order#1",
            "customer": "ana",
            "status": "NEW",
            "total": Decimal("12.50"),
        }
    )
    # The status stays NEW
    orders.update({"pk": "order#1"}, set={"note": "leave it at the door"})
    paid = orders.update({"pk": "order#1"}, set={"status": "PAID"})

    response = lambda_handler(orders.build(), lambda_context)
    assert response == {"batchItemFailures": []}
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
    orders: EventBuilder,
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    orders.put({"pk": "order#1", "status": "NEW", "total": 7})
    orders.build()  # an earlier batch
    # The mapping's filter drops REMOVEs; the handler skips one all the same
    orders.delete({"pk": "order#1"})

    response = lambda_handler(orders.build(), lambda_context)
    assert response == {"batchItemFailures": []}
    assert published(capsys) == []


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"status": "LOST", "total": 1}, "order#2: unknown status 'LOST'"),
        ({"status": "NEW", "total": -1}, f"{BAD_TOTAL} Decimal('-1')"),
        ({"status": "NEW"}, f"{BAD_TOTAL} None"),
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

    # Lambda retries from the bad record on: order#3 was not run, so it is never
    # published twice.
    assert response == {"batchItemFailures": sequence_numbers(poison, after)}
    assert [event["order"] for event in published(capsys)] == ["order#1"]
    assert error in caplog.text
