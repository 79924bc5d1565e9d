"""Fuzzers of tumbling-window state: check_state and process_window over arbitrary JSON-ish and Python
values. Each run returns (and then the Lambda runtime can write the state, at the size reported) or
raises a shardline error naming where the problem is."""

from __future__ import annotations

import json
from collections import OrderedDict
from decimal import Decimal
from enum import IntEnum
from types import MappingProxyType
from typing import Any

import pytest
from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline import WindowStateError, check_state, process_window
from shardline._json import json_dumps
from shardline._response import marshal_response
from shardline._windows import STATE_LIMIT


class Level(IntEnum):
    HIGH = 3


class Tag(str):
    pass


class Opaque:
    def __repr__(self) -> str:
        raise RuntimeError("repr fails")


class BrokenItems(dict[str, Any]):
    def items(self) -> Any:
        raise RuntimeError("items() fails")


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([4301, -5001]).map(lambda digits: 10 ** (abs(digits) - 1) * (1 if digits > 0 else -1)),
    st.just(Level.HIGH),
    st.floats(),
    st.decimals(),
    st.sampled_from([Decimal("1E+999999999"), Decimal("-0E-50"), Decimal("sNaN"), Decimal("123.4500")]),
    st.text(max_size=6),
    st.sampled_from(["\ud800", "ok\udfffok", '\x00\n"\\', "é€𝄞", Tag("tag")]),
    st.binary(max_size=3),
    st.frozensets(st.integers(), max_size=2),
    st.builds(object),
    st.builds(Opaque),
)
keys = st.one_of(st.text(max_size=4), st.sampled_from(["\ud800", "a b", "x" * 100]), st.integers(), st.none())


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.sets(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=4), inner, max_size=3),
        st.dictionaries(keys, inner, max_size=2),
        st.dictionaries(st.text(max_size=3), inner, max_size=2).map(OrderedDict),
        st.dictionaries(st.text(max_size=3), inner, max_size=2).map(MappingProxyType),
        st.dictionaries(st.text(max_size=3), inner, max_size=2).map(BrokenItems),
    )


values = st.recursive(scalars, containers, max_leaves=12)
states = st.dictionaries(st.text(max_size=4), values, max_size=4)


def written_size(state: Any) -> int:
    return len(json_dumps(state, ensure_ascii=False, separators=(",", ":")).encode())


@FUZZ
@given(state=states | values)
def test_fuzz_check_state(state: Any) -> None:
    """check_state returns the exact size of what the runtime writes, or names the bad value."""
    error: WindowStateError | None = None
    try:
        size = check_state(state)
    except WindowStateError as exc:
        error = exc
    if error is not None:
        assert error.path.startswith("state")
        assert len(str(error)) < 600, "messages stay short whatever the state holds"
        return
    assert isinstance(state, dict)
    assert size == written_size(state) <= STATE_LIMIT
    marshal_response({"state": state})  # the runtime can write it: no TypeError or ValueError


def chain(depth: int, kinds: list[bool]) -> Any:
    value: Any = 0
    for level in range(depth):
        value = {"k": value} if kinds[level % len(kinds)] else [value]
    return value


@FUZZ
@given(depth=st.integers(1, 6000), kinds=st.lists(st.booleans(), min_size=1, max_size=4))
def test_fuzz_deep_states_return_below_the_limit_and_fail_above_it(depth: int, kinds: list[bool]) -> None:
    state = {"v": chain(depth, kinds)}
    size = returns_or_raises_shardline_error(lambda: check_state(state))
    if depth < 500:  # with the state itself, 500 levels at most
        assert size is not None
        if depth < 900:  # within what json itself can write, in this process
            assert size == len(json.dumps(state, separators=(",", ":")))
    else:
        assert size is None
        with pytest.raises(WindowStateError, match=r"^state\.v.*: nests more than 500 levels deep"):
            check_state(state)


# -- process_window ---------------------------------------------------------------------------------------

WINDOW = {"start": "2026-11-27T06:00:00Z", "end": "2026-11-27T06:05:00Z"}
event_fields = st.fixed_dictionaries(
    {
        "window": st.one_of(st.just(WINDOW), values),
        "state": st.one_of(states, values, st.none()),
        "isFinalInvokeForWindow": st.one_of(st.booleans(), st.none(), values),
        "shardId": st.one_of(st.just("shardId-1"), values),
    }
)


@FUZZ
@given(fields=event_fields, returned=st.one_of(st.none(), states, values), ended=st.one_of(st.none(), states, values))
def test_fuzz_process_window(fields: dict[str, Any], returned: Any, ended: Any) -> None:
    event = {"Records": [], **fields}
    given_state: list[Any] = []

    def handle(records: Any, state: dict[str, Any]) -> Any:
        given_state.append(state)
        return returned

    response = returns_or_raises_shardline_error(lambda: process_window(event, handle, on_window_end=lambda s: ended))
    if response is None:
        return
    assert set(response) == {"state", "batchItemFailures"}
    assert response["batchItemFailures"] == []
    state = response["state"]
    assert type(state) is dict
    assert given_state, "a response means the handler ran"
    if returned is None and not (fields["isFinalInvokeForWindow"] is True and ended is not None):
        assert state is given_state[0], "None keeps the state the handler was given"
    assert check_state(state) == written_size(state)
    marshal_response(response)
