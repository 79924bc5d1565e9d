"""Count changes per event name in tumbling windows; report each as it closes."""

from collections.abc import Sequence
from typing import Any

from shardline import StreamRecord, process_window

REPORTS: list[dict[str, Any]] = []  # stands in for a metrics store


def count(
    records: Sequence[StreamRecord],
    state: dict[str, Any],
) -> dict[str, Any]:
    for record in records:
        name = record.event_name.value
        state[name] = state.get(name, 0) + 1
    return state


def report(state: dict[str, Any]) -> dict[str, Any]:
    REPORTS.append(state)
    return {}  # the window is done: nothing to carry


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_window(event, count, on_window_end=report)
