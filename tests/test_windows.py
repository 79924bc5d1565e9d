"""Tumbling windows: state carried between invokes, the final invoke, and state Lambda cannot carry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from shardline import EventShapeError, StreamRecord, WindowStateError, aprocess_window, check_state, process_window
from shardline._windows import STATE_LIMIT


@pytest.fixture
def window_event(fixture_loader: Any) -> dict[str, Any]:
    event: dict[str, Any] = fixture_loader("events-tumbling-window.json")
    return event


def count(records: Sequence[StreamRecord], state: dict[str, Any]) -> dict[str, Any]:
    return {"total": state.get("total", 0) + len(records)}


def test_state_is_carried_from_the_event_into_the_response(window_event: dict[str, Any]) -> None:
    assert process_window(window_event, count) == {"state": {"total": 43}, "batchItemFailures": []}


def test_a_window_starts_with_an_empty_state(window_event: dict[str, Any]) -> None:
    del window_event["state"]
    seen: list[dict[str, Any]] = []

    def handle(records: Sequence[StreamRecord], state: dict[str, Any]) -> dict[str, Any]:
        seen.append(dict(state))
        return count(records, state)

    assert process_window(window_event, handle)["state"] == {"total": 1}
    assert seen == [{}]


def test_successive_invokes_fold_into_one_aggregate(window_event: dict[str, Any]) -> None:
    state: dict[str, Any] = {}
    for _ in range(3):
        window_event["state"] = state
        state = process_window(window_event, count)["state"]
    assert state == {"total": 3}


def test_returning_none_keeps_the_state_changed_in_place(window_event: dict[str, Any]) -> None:
    def handle(records: Sequence[StreamRecord], state: dict[str, Any]) -> None:
        state["total"] += 10

    assert process_window(window_event, handle)["state"] == {"total": 52}


def test_on_window_end_runs_only_on_the_final_invoke(window_event: dict[str, Any]) -> None:
    ended: list[dict[str, Any]] = []

    def emit(state: dict[str, Any]) -> dict[str, Any]:
        ended.append(state)
        return {}

    assert process_window(window_event, count, on_window_end=emit)["state"] == {"total": 43}
    assert ended == []
    window_event["isFinalInvokeForWindow"] = True
    assert process_window(window_event, count, on_window_end=emit)["state"] == {}
    assert ended == [{"total": 43}]


def test_an_early_terminated_window_is_final_and_visible(window_event: dict[str, Any]) -> None:
    window_event.update(isFinalInvokeForWindow=True, isWindowTerminatedEarly=True)
    flags: list[object] = []

    def emit(state: dict[str, Any]) -> None:
        flags.append(state["total"])

    def handle(records: Sequence[StreamRecord], state: dict[str, Any], context: Any) -> dict[str, Any]:
        flags.append(context)
        return count(records, state)

    assert process_window(window_event, handle, on_window_end=emit, context="ctx")["state"] == {"total": 43}
    assert flags == ["ctx", 43]


def test_a_handler_exception_fails_the_invoke_and_is_logged(
    window_event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    def handle(records: Sequence[StreamRecord], state: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("store down")

    with caplog.at_level(logging.ERROR, logger="shardline"), pytest.raises(RuntimeError, match="store down"):
        process_window(window_event, handle)
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("window handler failed on 1 records of shard shardId-00000001596128400000-6a0e9c11: RuntimeError;")
    )


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            {"ids": {"a", "b"}},
            r"^state\.ids: set values cannot be written as JSON by the Lambda runtime \(use a sorted list\)",
        ),
        ({"raw": b"\x00"}, r"^state\.raw: bytes values cannot be written as JSON"),
        ({"x": [1, float("nan")]}, r"^state\.x\[1\]: nan has no JSON form"),
        ({"x": Decimal("Infinity")}, r"^state\.x: Decimal Infinity has no JSON form"),
        ({1: "a"}, r"^state: keys must be strings, got int 1"),
        ({"odd key": {"k": object()}}, r'^state\["odd key"\]\.k: object values cannot be written'),
    ],
)
def test_state_lambda_cannot_carry_is_refused_with_its_path(
    window_event: dict[str, Any], state: dict[Any, Any], message: str
) -> None:
    with pytest.raises(WindowStateError, match=message):
        process_window(window_event, lambda records, old: state)


def test_a_state_that_is_not_an_object_is_refused(window_event: dict[str, Any]) -> None:
    with pytest.raises(WindowStateError, match=r"^state: the window state must be a JSON object \(a dict\), got list"):
        process_window(window_event, lambda records, state: [1, 2])


def test_a_cyclic_state_is_refused() -> None:
    state: dict[str, Any] = {}
    state["self"] = state
    with pytest.raises(WindowStateError, match=r"^state\.self: refers back to itself"):
        check_state(state)


def test_state_size_is_measured_as_json_and_capped_at_one_megabyte() -> None:
    assert check_state({"total": Decimal("12.50")}) == len('{"total":12.5}')
    assert check_state({"é": "ü"}) == len('{"é":"ü"}'.encode())
    just_fits = {"s": "x" * (STATE_LIMIT - len('{"s":""}'))}
    assert check_state(just_fits) == STATE_LIMIT
    with pytest.raises(WindowStateError, match=r"^state: is 1,048,577 bytes of JSON, over Lambda's 1 MB"):
        check_state({"s": just_fits["s"] + "x"})


def test_decimals_and_nested_values_pass(window_event: dict[str, Any]) -> None:
    state = {"sum": Decimal("10.25"), "by_status": {"PAID": 2}, "last": ["a", None, True, 1.5]}
    assert process_window(window_event, lambda records, old: state)["state"] is state


def test_a_plain_batch_is_not_a_window() -> None:
    with pytest.raises(EventShapeError, match=r"^window: not a tumbling-window invoke"):
        process_window({"Records": []}, count)


def test_async_window(window_event: dict[str, Any]) -> None:
    async def handle(records: Sequence[StreamRecord], state: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return count(records, state)

    async def emit(state: dict[str, Any]) -> dict[str, Any]:
        return {"emitted": state["total"]}

    window_event["isFinalInvokeForWindow"] = True
    response = asyncio.run(aprocess_window(window_event, handle, on_window_end=emit))
    assert response == {"state": {"emitted": 43}, "batchItemFailures": []}


def test_async_window_failure_propagates(window_event: dict[str, Any]) -> None:
    async def handle(records: Sequence[StreamRecord], state: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("bad")

    logging.disable(logging.CRITICAL)
    try:
        with pytest.raises(ValueError, match="bad"):
            asyncio.run(aprocess_window(window_event, handle))
    finally:
        logging.disable(logging.NOTSET)


def test_window_runners_refuse_the_wrong_kind_of_handler(window_event: dict[str, Any]) -> None:
    async def handle(records: Sequence[StreamRecord], state: dict[str, Any]) -> None: ...

    with pytest.raises(TypeError, match="use aprocess_window"):
        process_window(window_event, handle)
    with pytest.raises(TypeError, match="use process_window"):
        asyncio.run(aprocess_window(window_event, count))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"a window handler takes \(records, state\)"):
        process_window(window_event, lambda records: None)
