"""Tumbling windows: aggregate a stream over fixed time windows with state carried between invokes.

With `TumblingWindowInSeconds` set on the event source mapping, each invoke carries the window's
`state` (`{}` on its first invoke) and the function must answer `{"state": ..., "batchItemFailures":
[...]}`: a response without `state` counts as a failed invoke (Lambda developer guide, "Tumbling
windows" for DynamoDB). On the window's last invoke `isFinalInvokeForWindow` is true: the place to emit
the aggregate.

A handler exception fails the whole invoke; Lambda retries the batch with the previous state, so an
aggregate never counts a batch twice. So unlike the batch runner, the window runners let a handler's
exception propagate (after logging it), and they check the event's window fields and the state the
function returns, raising [`EventShapeError`][shardline.EventShapeError] or
[`WindowStateError`][shardline.WindowStateError] with the path of what is wrong: an invoke that fails here would fail on
Lambda too, where the message is harder to find.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Iterator, Mapping
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Final

from ._attributes import _type_name as _json_type
from ._batch import _LOGGER, Logger, _close_quietly, _is_awaitable, _log, _propagates, _stream
from ._calling import is_async_callable, takes_extra_argument
from ._events import StreamEvent
from ._exceptions import EventShapeError, WindowStateError, describe_exception
from ._exceptions import _type_name as _exception_type_name

__all__ = ["STATE_LIMIT", "aprocess_window", "check_state", "process_window"]

#: The largest state Lambda keeps for a window and shard: 1 MB of JSON.
STATE_LIMIT: Final = 1024 * 1024
#: How deeply a window's state may nest. The Lambda runtime writes the response with Python's json module,
#: which recurses once per level and fails near the interpreter's recursion limit (1,000 frames, some of
#: them the runtime's own); refused here with a path instead, well before that, and far deeper than any
#: aggregate needs.
_DEPTH_LIMIT: Final = 500
_SHOWN_SEGMENTS: Final = 10  # a deeper path shows its first and last ten steps
_SHOWN_NAME: Final = 40  # characters of a key shown in a path
_MISSING: Final = object()

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

    With `TumblingWindowInSeconds` set on the event source mapping, each invoke carries the window's state
    and the function must answer with the new one ([tumbling windows](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html));
    this function builds that answer, `{"state": ..., "batchItemFailures": []}`.

    `handler(records, state)` (or `handler(records, state, context)`) gets the batch's records and the
    state so far and returns the new state (`None` keeps the state it was given, changed in place or
    not). The records are the event's [`StreamRecords`][shardline.StreamRecords]: each is made as the handler reads it
    and freed, with what it decoded, once nothing holds it, so a loop over a large window batch does not keep every
    image. On the window's final invoke `on_window_end(state)` runs next; what it returns (or, for `None`, the state it
    was given) is the state returned. The state must be a JSON object Lambda can carry: checked here, with
    [`WindowStateError`][shardline.WindowStateError] naming the bad value.

    The event's `window`, `state` and `isFinalInvokeForWindow` are read before the handler runs:
    [`EventShapeError`][shardline.EventShapeError] with the field's path when they are malformed. The handler's and
    `on_window_end`'s exceptions propagate (the invoke fails; Lambda retries the batch with the
    previous state).

    Examples:
        >>> from shardline.testing import EventBuilder
        >>> builder = EventBuilder()
        >>> for order_id in (1, 2):
        ...     _ = builder.put({"Id": order_id})
        >>> event = builder.build_window(state={"count": 5})
        >>> process_window(event, lambda records, state: {"count": state["count"] + len(records)})
        {'state': {'count': 7}, 'batchItemFailures': []}
    """
    if is_async_callable(handler):
        raise TypeError("the window handler is a coroutine function: use aprocess_window")
    stream, state, final, with_context = _start(event, handler)
    try:
        result = handler(stream.records, state, context) if with_context else handler(stream.records, state)
    except BaseException as exc:
        _log_window_failure(logger, stream, exc)
        raise
    state = _next_state(state, result, "the window handler", "aprocess_window")
    if on_window_end is not None and final:
        state = _next_state(state, on_window_end(state), "on_window_end", "aprocess_window")
    return _respond(state)


async def aprocess_window(
    event: Mapping[str, Any] | StreamEvent,
    handler: Callable[..., Awaitable[dict[str, Any] | None]],
    *,
    on_window_end: Callable[[dict[str, Any]], Any] | None = None,
    context: Any = None,
    logger: Logger | None = None,
) -> dict[str, Any]:
    """The async twin of [`process_window`][shardline.process_window]: `await handler(records, state)`; `on_window_end`
    may be a plain or an async function."""
    if not is_async_callable(handler):
        raise TypeError("the window handler is not a coroutine function: use process_window")
    stream, state, final, with_context = _start(event, handler)
    try:
        awaitable = handler(stream.records, state, context) if with_context else handler(stream.records, state)
        if not _is_awaitable(awaitable):
            raise TypeError(
                f"the window handler returned {type(awaitable).__name__}, not an awaitable: use process_window"
                " for synchronous handlers"
            )
        result = await awaitable
    except BaseException as exc:
        _log_window_failure(logger, stream, exc)
        raise
    state = _next_state(state, result, "the window handler", None)
    if on_window_end is not None and final:
        outcome = on_window_end(state)
        if _is_awaitable(outcome):
            outcome = await outcome
        state = _next_state(state, outcome, "on_window_end", None)
    return _respond(state)


def _start(event: Mapping[str, Any] | StreamEvent, handler: Any) -> tuple[StreamEvent, dict[str, Any], bool, bool]:
    """The event, its state and final-invoke flag, and whether the handler takes the context; every
    field the runner relies on is read here, before the handler runs."""
    with_context = takes_extra_argument(handler, 2)
    stream = _stream(event)
    try:
        window = stream.raw.get("window", _MISSING)
        if window is _MISSING:
            raise EventShapeError(
                "not a tumbling-window invoke (no window field): is TumblingWindowInSeconds set on the mapping?"
                " Use process_batch for plain batches",
                "window",
            )
        if not isinstance(window, Mapping):
            raise EventShapeError(f"must be an object with start and end, got {_json_type(window)}", "window")
        state = stream.state
        final = stream.is_final_invoke_for_window
    except EventShapeError:
        raise
    except Exception as exc:  # an event that is an odd Mapping rather than JSON
        raise EventShapeError(f"the event cannot be read as a window invoke ({describe_exception(exc)})") from exc
    assert state is not None  # a tumbling-window event always has one ({} on a window's first invoke)
    return stream, state, final is True, with_context


def _next_state(previous: dict[str, Any], returned: object, source: str, runner: str | None) -> dict[str, Any]:
    """The state `source` returned (None: `previous`) as a dict, or WindowStateError."""
    if returned is None:
        return previous
    if type(returned) is dict:
        return returned
    if runner is not None and _is_awaitable(returned):
        _close_quietly(returned)  # never awaited: closed, so Python does not warn about it
        raise WindowStateError(f"{source} returned an awaitable, not the state: use {runner} for async functions")
    if not isinstance(returned, Mapping):
        raise WindowStateError(f"the window state must be a JSON object (a dict), got {type(returned).__name__}")
    try:
        return dict(returned)
    except Exception as exc:  # a Mapping whose keys or items raise
        raise WindowStateError(
            f"the window state ({type(returned).__name__}) cannot be read as a dict: {describe_exception(exc)}"
        ) from exc


def _respond(state: dict[str, Any]) -> dict[str, Any]:
    check_state(state)
    return {"state": state, "batchItemFailures": []}


def _log_window_failure(logger: Logger | None, stream: StreamEvent, exc: BaseException) -> None:
    if _propagates(exc):
        return  # a request to stop, not a failure of the window
    count = len(stream.records)
    try:
        shard = stream.raw.get("shardId")
    except Exception:  # noqa: BLE001 - only for the log line: never worth replacing the handler's error
        shard = None
    shard = shard if type(shard) is str else None
    _log(
        logger or _LOGGER,
        "error",
        "window handler failed on %d records of shard %s: %s; Lambda retries the batch with the previous state",
        count,
        shard or "?",
        _exception_type_name(exc),
        exc_info=exc,
        extra={"shard_id": shard, "records": count},
    )


def check_state(state: Mapping[str, Any]) -> int:
    """Check that Lambda can carry `state` to the next invoke; return its size in bytes.

    Lambda keeps at most 1 MB of state per window and shard ([tumbling windows](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html)).

    The Lambda runtime writes the response with JSON: dicts with string keys, lists and tuples, strings,
    ints, finite floats and Decimals, booleans and None. Sets, bytes, datetimes, NaN, text that is not
    UTF-8 (a lone surrogate such as `"\\ud800"`), ints longer than Python converts to text (4,300 digits),
    nesting deeper than 500 levels... make the runtime fail the invoke, and a state over 1 MB is more than
    Lambda keeps for a window; each raises [`WindowStateError`][shardline.WindowStateError] here, with the path of the
    bad value (`state.totals[3]`). The size is that of the compact JSON text, numbers written exactly.

    Examples:
        >>> check_state({"total": Decimal("12.50"), "ids": ["a", "b"]})  # {"total":12.5,"ids":["a","b"]}
        30
    """
    if not isinstance(state, dict):  # another Mapping is not something json writes (process_window converts)
        hint = " (use a dict)" if isinstance(state, Mapping) else ""
        raise WindowStateError(f"the window state must be a JSON object (a dict), got {type(state).__name__}{hint}")
    return _measure(state)


def _measure(state: dict[str, Any]) -> int:
    """The compact JSON size of `state`, checking every value on the way; WindowStateError for the first
    value Lambda could not carry.

    A loop over an explicit stack rather than recursion: a state nested thousands deep gets an error
    with its path, not a RecursionError. It stops as soon as the size passes the limit, so the work is
    bounded even for a state that shares one list many times over (which JSON writes out every time).
    """
    size = 2  # the outer braces
    # One entry per open container, outermost first: its items still to visit, how many it has had, and
    # the step (key or index) to its current item. `open_ids` detects cycles: a container inside itself
    # (one shared by two branches is fine).
    path: list[str | int] = []
    levels: list[Iterator[tuple[str | int, Any]]] = [_entries(state, path)]
    counts = [0]
    path.append("")
    open_ids = {id(state)}
    containers: list[object] = [state]
    while levels:
        try:
            step, value = next(levels[-1])
        except StopIteration:
            levels.pop()
            counts.pop()
            path.pop()
            open_ids.discard(id(containers.pop()))
            continue
        except WindowStateError:
            raise
        except Exception as exc:  # a dict or sequence whose iteration raises
            raise WindowStateError(f"cannot be read: {describe_exception(exc)}", _path(path[:-1])) from exc
        path[-1] = step
        if counts[-1]:
            size += 1  # the comma
        counts[-1] += 1
        if type(step) is str:
            size += _text_size(step, path, key=True) + 1  # the key and its colon
        if isinstance(value, (dict, list, tuple)):
            if len(levels) >= _DEPTH_LIMIT:
                raise WindowStateError(
                    f"nests more than {_DEPTH_LIMIT} levels deep, more than the Lambda runtime can write as JSON:"
                    " flatten the state",
                    _path(path),
                )
            if id(value) in open_ids:
                raise WindowStateError("refers back to itself (a cycle)", _path(path))
            size += 2  # brackets or braces
            levels.append(_entries(value, path))
            counts.append(0)
            path.append("")
            open_ids.add(id(value))
            containers.append(value)
        else:
            size += _scalar_size(value, path)
        if size > STATE_LIMIT:
            raise WindowStateError(
                f"is more than {STATE_LIMIT:,} bytes of JSON, Lambda's 1 MB limit for a window's state:"
                " keep aggregates, not records"
            )
    return size


def _entries(container: Any, path: list[str | int]) -> Iterator[tuple[str | int, Any]]:
    """(key, value) of a dict, checking that keys are strings; (index, value) of a list or tuple."""
    try:
        if not isinstance(container, dict):
            return enumerate(container)
        items = iter(container.items())
    except Exception as exc:  # a subclass whose items() or __iter__ raises
        raise WindowStateError(f"cannot be read: {describe_exception(exc)}", _path(path)) from exc
    return _string_keys(items, path)


def _string_keys(items: Iterator[tuple[Any, Any]], path: list[str | int]) -> Iterator[tuple[str | int, Any]]:
    for name, value in items:
        if type(name) is not str:
            raise WindowStateError(
                f"keys must be strings, got {type(name).__name__} {_short_repr(name)}", _path(path[:-1])
            )
        yield name, value


def _scalar_size(value: Any, path: list[str | int]) -> int:
    """Bytes of a JSON scalar as the Lambda runtime writes it, or WindowStateError for a value it cannot."""
    if value is None or value is True:
        return 4
    if value is False:
        return 5
    if isinstance(value, str):
        return _text_size(value, path, key=False)
    if isinstance(value, int):  # bool is handled above
        try:
            return len(int.__repr__(value))
        except ValueError:  # longer than sys.get_int_max_str_digits(): json refuses to write it, too
            raise WindowStateError(
                "is an int with more digits than Python converts to text (4,300 by default), so the Lambda"
                " runtime cannot write it as JSON; store it as a string or a Decimal",
                _path(path),
            ) from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WindowStateError(f"{value} has no JSON form", _path(path))
        return len(float.__repr__(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise WindowStateError(f"Decimal {value} has no JSON form", _path(path))
        return _decimal_size(value)
    if isinstance(value, Mapping):
        hint = " (use a dict)"
    elif isinstance(value, (set, frozenset)):
        hint = " (use a sorted list)"
    else:
        hint = ""
    raise WindowStateError(
        f"{type(value).__name__} values cannot be written as JSON by the Lambda runtime{hint}", _path(path)
    )


def _text_size(text: str, path: list[str | int], *, key: bool) -> int:
    """Bytes of `text` as a JSON string in UTF-8 (quotes and escapes included)."""
    if len(text) + 2 > STATE_LIMIT:  # no need to encode what is over the limit in characters already
        return len(text) + 2
    try:
        return len(encode_basestring(text).encode("utf-8"))
    except UnicodeEncodeError:
        where = next(index for index, char in enumerate(text) if "\ud800" <= char <= "\udfff")
        what = "a key" if key else "a string"
        raise WindowStateError(
            f"{what} holds a lone surrogate ({text[where]!a} at position {where}), which is not UTF-8 text:"
            " the Lambda runtime cannot send it; decode bytes with errors='replace' or drop the character",
            _path(path),
        ) from None


def _decimal_size(value: Decimal) -> int:
    """Length of the Decimal in plain notation with no trailing fraction zeros (how shardline writes it),
    computed without writing it: 1E+999999999 would be a gigabyte of text."""
    sign, digit_tuple, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    digits = len(digit_tuple)
    leading = next((i for i, digit in enumerate(digit_tuple) if digit), digits)
    if leading == digits:
        return 1  # zero, written "0" whatever its sign or exponent
    trailing = next(i for i, digit in enumerate(reversed(digit_tuple)) if digit)
    significant = digits - leading - trailing
    exponent += trailing
    if exponent >= 0:
        length = significant + exponent
    else:
        point = significant + exponent
        length = significant + 1 if point > 0 else 2 - point + significant
    return length + sign


def _path(steps: list[str | int]) -> str:
    """`state.totals[3]` for the steps from the state; long paths and keys are cut."""
    parts = [f"[{step}]" if type(step) is int else _key_part(str(step)) for step in steps]
    if len(parts) > 2 * _SHOWN_SEGMENTS:
        hidden = len(parts) - 2 * _SHOWN_SEGMENTS
        parts = [*parts[:_SHOWN_SEGMENTS], f"[...{hidden} levels...]", *parts[-_SHOWN_SEGMENTS:]]
    return "state" + "".join(parts)


def _key_part(name: str) -> str:
    if len(name) > _SHOWN_NAME:
        return "[" + json.dumps(name[: _SHOWN_NAME - 3])[:-1] + '..."]'
    return f".{name}" if name.isidentifier() else f"[{json.dumps(name)}]"


def _short_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a key whose repr raises (or an int too long for text)
        return "?"
    return text if len(text) <= 40 else text[:37] + "..."
