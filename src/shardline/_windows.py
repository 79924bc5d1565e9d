"""Tumbling windows: aggregate a stream over fixed time windows with state carried between invokes.

With ``TumblingWindowInSeconds`` set on the event source mapping, each invoke carries the window's
``state`` (``{}`` on its first invoke) and the function must answer ``{"state": ..., "batchItemFailures":
[...]}``: a response without ``state`` counts as a failed invoke (SPEC section 1). On the window's last
invoke ``isFinalInvokeForWindow`` is true: the place to emit the aggregate.

A handler exception fails the whole invoke; Lambda retries the batch with the previous state, so an
aggregate never counts a batch twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from ._batch import _LOGGER, Logger
from ._calling import is_async_callable, takes_extra_argument
from ._events import StreamEvent, StreamRecord
from ._exceptions import EventShapeError, WindowStateError
from ._json import json_dumps

__all__ = ["STATE_LIMIT", "aprocess_window", "check_state", "process_window"]

#: The largest state Lambda keeps for a window and shard: 1 MB of JSON.
STATE_LIMIT: Final = 1024 * 1024

WindowHandler = Callable[..., "dict[str, Any] | None"]


def process_window(
    event: Mapping[str, Any] | StreamEvent,
    handler: WindowHandler,
    *,
    on_window_end: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    context: Any = None,
    logger: Logger | None = None,
) -> dict[str, Any]:
    """Fold a tumbling-window batch into the window's state and answer Lambda.

    ``handler(records, state)`` (or ``handler(records, state, context)``) gets the batch's records and the
    state so far and returns the new state (``None`` keeps the state it was given, changed in place or
    not). On the window's final invoke ``on_window_end(state)`` runs next; what it returns (or, for
    ``None``, the state it was given) is the state returned. The state must be a JSON object Lambda can
    carry: checked here, with :class:`WindowStateError` naming the bad value.

    >>> event = {"Records": [], "window": {"start": "2026-11-27T06:00:00Z", "end": "2026-11-27T06:05:00Z"},
    ...          "state": {"count": 2}, "shardId": "shard-1", "isFinalInvokeForWindow": False}
    >>> process_window(event, lambda records, state: {"count": state["count"] + len(records)})
    {'state': {'count': 2}, 'batchItemFailures': []}
    """
    if is_async_callable(handler):
        raise TypeError("the window handler is a coroutine function: use aprocess_window")
    stream, state, with_context = _start(event, handler)
    try:
        result = handler(stream.records, state, context) if with_context else handler(stream.records, state)
    except Exception as exc:
        _log_window_failure(logger, stream, exc)
        raise
    state = _next_state(state, result)
    if on_window_end is not None and stream.is_final_invoke_for_window:
        state = _next_state(state, on_window_end(state))
    return _respond(state)


async def aprocess_window(
    event: Mapping[str, Any] | StreamEvent,
    handler: Callable[..., Awaitable[dict[str, Any] | None]],
    *,
    on_window_end: Callable[[dict[str, Any]], Any] | None = None,
    context: Any = None,
    logger: Logger | None = None,
) -> dict[str, Any]:
    """The async twin of :func:`process_window`: ``await handler(records, state)``; ``on_window_end`` may
    be a plain or an async function."""
    if not is_async_callable(handler):
        raise TypeError("the window handler is not a coroutine function: use process_window")
    stream, state, with_context = _start(event, handler)
    try:
        result = await (handler(stream.records, state, context) if with_context else handler(stream.records, state))
    except Exception as exc:
        _log_window_failure(logger, stream, exc)
        raise
    state = _next_state(state, result)
    if on_window_end is not None and stream.is_final_invoke_for_window:
        outcome = on_window_end(state)
        if hasattr(outcome, "__await__"):
            outcome = await outcome
        state = _next_state(state, outcome)
    return _respond(state)


def _start(event: Mapping[str, Any] | StreamEvent, handler: Any) -> tuple[StreamEvent, dict[str, Any], bool]:
    with_context = takes_extra_argument(handler, 2)
    stream = event if isinstance(event, StreamEvent) else StreamEvent(event)
    if not stream.is_tumbling_window:
        raise EventShapeError(
            "not a tumbling-window invoke (no window field): is TumblingWindowInSeconds set on the mapping?"
            " Use process_batch for plain batches",
            "window",
        )
    state = stream.state
    assert state is not None  # a tumbling-window event always has one ({} on a window's first invoke)
    return stream, state, with_context


def _next_state(previous: dict[str, Any], returned: object) -> dict[str, Any]:
    if returned is None:
        return previous
    if not isinstance(returned, Mapping):
        raise WindowStateError(f"the window state must be a JSON object (a dict), got {type(returned).__name__}")
    return returned if type(returned) is dict else dict(returned)


def _respond(state: dict[str, Any]) -> dict[str, Any]:
    check_state(state)
    return {"state": state, "batchItemFailures": []}


def _log_window_failure(logger: Logger | None, stream: StreamEvent, exc: Exception) -> None:
    records: tuple[StreamRecord, ...] = stream.records
    (logger or _LOGGER).error(
        "window handler failed on %d records of shard %s: %s; Lambda retries the batch with the previous state",
        len(records),
        stream.shard_id or "?",
        type(exc).__name__,
        exc_info=exc,
        extra={"shard_id": stream.shard_id, "records": len(records)},
    )


def check_state(state: Mapping[str, Any]) -> int:
    """Check that Lambda can carry ``state`` to the next invoke; return its size in bytes.

    The Lambda runtime writes the response with JSON: dicts with string keys, lists and tuples, strings,
    ints, finite floats and Decimals, booleans and None. Sets, bytes, datetimes, NaN... make the runtime
    fail the invoke, and a state over 1 MB is more than Lambda keeps for a window; both raise
    :class:`WindowStateError` here, with the path of the bad value.

    >>> check_state({"total": Decimal("12.50"), "ids": ["a", "b"]})  # {"total":12.5,"ids":["a","b"]}
    30
    """
    if not isinstance(state, Mapping):
        raise WindowStateError(f"the window state must be a JSON object (a dict), got {type(state).__name__}")
    _check_value(state, "state", set())
    size = len(json_dumps(state, ensure_ascii=False, separators=(",", ":")).encode())
    if size > STATE_LIMIT:
        raise WindowStateError(
            f"is {size:,} bytes of JSON, over Lambda's 1 MB ({STATE_LIMIT:,} bytes) for a window's state:"
            " keep aggregates, not records"
        )
    return size


def _check_value(value: Any, path: str, seen: set[int]) -> None:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if kind is float:
        if not math.isfinite(value):
            raise WindowStateError(f"{value} has no JSON form", path)
        return
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise WindowStateError(f"Decimal {value} has no JSON form", path)
        return
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in seen:
            raise WindowStateError("refers back to itself (a cycle)", path)
        seen.add(id(value))
        if isinstance(value, Mapping):
            for name, item in value.items():
                if type(name) is not str:
                    raise WindowStateError(f"keys must be strings, got {type(name).__name__} {name!r}", path)
                _check_value(item, f"{path}.{name}" if name.isidentifier() else f"{path}[{json.dumps(name)}]", seen)
        else:
            for position, item in enumerate(value):
                _check_value(item, f"{path}[{position}]", seen)
        seen.discard(id(value))
        return
    hint = " (use a sorted list)" if isinstance(value, (set, frozenset)) else ""
    raise WindowStateError(f"{kind.__name__} values cannot be written as JSON by the Lambda runtime{hint}", path)
