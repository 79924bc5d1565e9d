"""Follow each order through its life: one event per status change.

The changes come from the Orders table's stream. Lambda calls
``lambda_handler(event, context)`` with a batch of stream records.
``@batch_handler`` runs the function below on each record, in stream order, and
answers with a partial batch response: when a record raises, Lambda retries from
that record on, and no record after it runs in this invocation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shardline import StreamRecord, batch_handler, json_dumps

STATUSES = frozenset({"NEW", "PAID", "SHIPPED", "CANCELLED"})


def publish(event: dict[str, Any]) -> None:
    """Send one order event on.

    Here it is a JSON line in the function's log: put your SNS, EventBridge or
    HTTP call in its place.
    """
    print(json_dumps(event), flush=True)


@batch_handler
def lambda_handler(record: StreamRecord) -> None:
    order = record.new_image
    # A REMOVE has no new image and nothing to publish (the mapping's filter keeps
    # REMOVEs away in any case).
    if order is None:
        return
    status, total = order.get("status"), order.get("total")
    if status not in STATUSES:
        raise ValueError(f"{order['pk']}: unknown status {status!r}")
    if not isinstance(total, Decimal) or total < 0:
        problem = f"the total must be a number of at least 0, not {total!r}"
        raise ValueError(f"{order['pk']}: {problem}")
    previous = (record.old_image or {}).get("status")  # None for a new order
    if status == previous:
        return  # another attribute changed
    publish(
        {
            "order": order["pk"],
            "status": status,
            "previous": previous,
            "customer": order.get("customer"),
            "total": total,
            # Lambda delivers a record again after a failed invocation:
            # the event ID lets a consumer drop repeats.
            "event_id": record.event_id,
        }
    )
