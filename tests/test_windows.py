"""Tumbling windows: state carried between invokes, the final invoke, and state Lambda cannot carry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping, Sequence
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
    with pytest.raises(WindowStateError, match=r"^state: is more than 1,048,576 bytes of JSON, Lambda's 1 MB limit"):
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


# -- hardening: state Lambda cannot carry, odd window events (issue 12) --------------------------------


def nested_state(depth: int) -> dict[str, Any]:
    state: dict[str, Any] = {}
    inner = state
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return state


def test_a_state_nested_thousands_deep_is_refused_with_a_shortened_path() -> None:
    with pytest.raises(
        WindowStateError,
        match=r"^state(\.a){10}\[\.\.\.480 levels\.\.\.\](\.a){10}: nests more than 500 levels deep, more than the"
        r" Lambda runtime can write as JSON: flatten the state$",
    ):
        check_state(nested_state(5000))


def test_nesting_is_counted_through_lists_and_allowed_up_to_the_limit() -> None:
    deep: Any = 1
    for _ in range(499):
        deep = [deep]
    assert check_state({"x": deep}) == len('{"x":' + "[" * 499 + "1" + "]" * 499 + "}")
    with pytest.raises(WindowStateError, match=r"^state\.x(\[0\]){9}\[\.\.\.480 levels\.\.\.\](\[0\]){10}: nests"):
        check_state({"x": [deep]})


def test_an_int_longer_than_python_writes_is_refused_with_its_path() -> None:
    with pytest.raises(
        WindowStateError,
        match=r"^state\.totals\[1\]: is an int with more digits than Python converts to text \(4,300 by default\)",
    ):
        check_state({"totals": [1, 10**5000]})


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"name": "ok\ud800"}, r"^state\.name: a string holds a lone surrogate \('\\ud800' at position 2\)"),
        ({"ok": {"\udfff": 1}}, r'^state\.ok\["\\udfff"\]: a key holds a lone surrogate \(\'\\udfff\' at position 0\)'),
    ],
)
def test_text_that_is_not_utf8_is_refused_with_its_path(state: dict[str, Any], message: str) -> None:
    with pytest.raises(WindowStateError, match=message):
        check_state(state)


def test_the_three_classes_fail_process_window_too(window_event: dict[str, Any]) -> None:
    # Whatever the state came from (here: the event itself, kept by a handler returning None).
    for bad, where in (
        (nested_state(2000), r"state\.a"),
        ({"n": 10**5000}, r"state\.n"),
        ({"s": "\ud800"}, r"state\.s"),
    ):
        window_event["state"] = bad
        with pytest.raises(WindowStateError, match=rf"^{where}"):
            process_window(window_event, lambda records, state: None)


def test_long_keys_are_cut_in_paths() -> None:
    with pytest.raises(WindowStateError, match=r'^state\["k{37}\.\.\."\]: set values cannot be written'):
        check_state({"k" * 10_000: {1}})


def test_huge_decimals_and_shared_lists_are_refused_without_writing_them_out() -> None:
    # 1E+999999999 in plain notation is a gigabyte of digits; a list shared 2**40 times over writes out
    # as a terabyte: both are measured only up to the limit.
    with pytest.raises(WindowStateError, match=r"^state: is more than 1,048,576 bytes of JSON"):
        check_state({"n": Decimal("1E+999999999")})
    shared: list[Any] = [0]
    for _ in range(40):
        shared = [shared, shared]
    with pytest.raises(WindowStateError, match=r"^state: is more than 1,048,576 bytes of JSON"):
        check_state({"tree": shared})


def test_a_list_shared_between_branches_is_not_a_cycle() -> None:
    shared = [1, 2]
    assert check_state({"a": shared, "b": [shared, shared]}) == len('{"a":[1,2],"b":[[1,2],[1,2]]}')


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("-0.000"), "0"),
        (Decimal("1.50E+3"), "1500"),
        (Decimal("-12.3400"), "-12.34"),
        (Decimal("0.000120"), "0.00012"),
        (Decimal("1E-5"), "0.00001"),
        (True, "true"),
        (None, "null"),
        (1.5, "1.5"),
        ('a\n"é', '"a\\n\\"é"'),
    ],
)
def test_scalars_are_measured_as_written(value: Any, written: str) -> None:
    assert check_state({"v": value}) == len(('{"v":' + written + "}").encode())


def test_json_subclasses_are_accepted_and_other_mappings_refused() -> None:
    from collections import OrderedDict
    from enum import IntEnum
    from types import MappingProxyType

    class Level(IntEnum):
        HIGH = 3

    assert check_state({"o": OrderedDict(a=Level.HIGH), "t": (1, 2)}) == len('{"o":{"a":3},"t":[1,2]}')
    with pytest.raises(
        WindowStateError,
        match=r"^state\.m: mappingproxy values cannot be written as JSON by the Lambda runtime \(use a dict\)",
    ):
        check_state({"m": MappingProxyType({})})


def test_a_mapping_that_cannot_be_read_is_refused_with_its_path(window_event: dict[str, Any]) -> None:
    class Broken(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("items() fails")

    with pytest.raises(WindowStateError, match=r"^state\.inner: cannot be read: RuntimeError: items\(\) fails$"):
        check_state({"inner": Broken(a=1)})

    class NotADict(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("no")

        def __iter__(self) -> Iterator[str]:
            return iter(["a"])

        def __len__(self) -> int:
            return 1

    with pytest.raises(
        WindowStateError, match=r"^state: the window state \(NotADict\) cannot be read as a dict: RuntimeError: no$"
    ):
        process_window(window_event, lambda records, state: NotADict())  # type: ignore[arg-type, return-value]


def test_a_key_whose_repr_fails_is_still_named() -> None:
    class Key:
        def __repr__(self) -> str:
            raise RuntimeError("repr fails")

    with pytest.raises(WindowStateError, match=r"^state: keys must be strings, got Key \?$"):
        check_state({Key(): 1})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("window", 5, r"^window: must be an object with start and end, got a number$"),
        ("window", [], r"^window: must be an object with start and end, got an array$"),
        ("state", [1], r"^state: must be an object, got an array"),
        ("isFinalInvokeForWindow", "yes", r"^isFinalInvokeForWindow: must be true or false"),
    ],
)
def test_odd_window_fields_are_refused_before_the_handler_runs(
    window_event: dict[str, Any], field: str, value: Any, message: str
) -> None:
    window_event[field] = value
    ran: list[int] = []
    with pytest.raises(EventShapeError, match=message):
        process_window(window_event, lambda records, state: ran.append(1))
    assert ran == []


def test_a_failure_with_an_odd_shard_id_is_logged_and_the_handler_error_kept(
    window_event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    window_event["shardId"] = {"not": "a string"}

    class BrokenStr(Exception):
        def __str__(self) -> str:
            raise RuntimeError("str() fails")

    def handle(records: Sequence[StreamRecord], state: dict[str, Any]) -> None:
        raise BrokenStr

    with caplog.at_level(logging.ERROR, logger="shardline"), pytest.raises(BrokenStr):
        process_window(window_event, handle)
    assert caplog.records[0].getMessage().startswith("window handler failed on 1 records of shard ?: BrokenStr;")


def test_a_logger_that_raises_does_not_replace_the_handler_error(window_event: dict[str, Any]) -> None:
    class Raising:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("logger down")

    def handle(records: Sequence[StreamRecord], state: dict[str, Any]) -> None:
        raise KeyError("the real failure")

    with pytest.raises(KeyError, match=r"^'the real failure'$"):
        process_window(window_event, handle, logger=Raising())


def test_a_sync_on_window_end_returning_a_coroutine_is_refused_and_closed(window_event: dict[str, Any]) -> None:
    window_event["isFinalInvokeForWindow"] = True
    started: list[int] = []

    async def emit(state: dict[str, Any]) -> None:
        started.append(1)

    with pytest.raises(
        WindowStateError, match=r"^state: on_window_end returned an awaitable, not the state: use aprocess_window"
    ):
        process_window(window_event, count, on_window_end=emit)  # type: ignore[arg-type]
    assert started == []  # closed, never run (and no "never awaited" warning, which this suite turns into an error)


def test_an_async_window_handler_returning_a_plain_value_fails_clearly(window_event: dict[str, Any]) -> None:
    def plain(records: Sequence[StreamRecord], state: dict[str, Any]) -> dict[str, Any]:
        return {}

    plain._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]
    logging.disable(logging.CRITICAL)
    try:
        with pytest.raises(TypeError, match=r"^the window handler returned dict, not an awaitable: use process_window"):
            asyncio.run(aprocess_window(window_event, plain))  # type: ignore[arg-type]
    finally:
        logging.disable(logging.NOTSET)
