"""How handlers are called: async detection and whether the Lambda context is passed."""

from __future__ import annotations

import asyncio
import functools
import operator
import pickle
import sys
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest

import shardline
from shardline._calling import is_async_callable, takes_extra_argument


async def async_handler(record: Any) -> None: ...


def sync_handler(record: Any) -> None: ...


class AsyncCallable:
    async def __call__(self, record: Any) -> None: ...

    async def method(self, record: Any, context: Any) -> None: ...


@pytest.mark.parametrize(
    "fn",
    [
        async_handler,
        functools.partial(async_handler),
        AsyncCallable(),
        AsyncCallable().method,
        functools.partial(AsyncCallable().method, context=None),
        AsyncMock(),
    ],
)
def test_async_callables_are_recognised(fn: Any) -> None:
    assert is_async_callable(fn)


@pytest.mark.parametrize("fn", [sync_handler, functools.partial(sync_handler), print, MagicMock(), len])
def test_sync_callables_are_not_async(fn: Any) -> None:
    assert not is_async_callable(fn)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="inspect.markcoroutinefunction is new in 3.12")
def test_a_function_marked_as_a_coroutine_function_is_async() -> None:
    import inspect

    def returns_coroutine(record: Any) -> Any:
        return async_handler(record)

    assert is_async_callable(inspect.markcoroutinefunction(returns_coroutine))  # type: ignore[attr-defined]


def test_asyncio_marker_is_honoured_but_lookalike_attributes_are_not() -> None:
    def marked(record: Any) -> None: ...

    def lookalike(record: Any) -> None: ...

    marked._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]
    lookalike._is_coroutine = True  # type: ignore[attr-defined]
    assert is_async_callable(marked)
    assert not is_async_callable(lookalike)


@pytest.mark.parametrize(
    ("fn", "extra"),
    [
        (lambda record: None, False),
        (lambda record, context: None, True),
        (lambda record, context=None: None, True),
        (lambda record, *rest: None, True),
        (lambda record=None: None, False),
        (functools.partial(lambda prefix, record, context: None, "p"), True),
        (functools.partial(lambda record, context: None, context="fixed"), False),
        (functools.partial(lambda record, option, context=None: None, option=1), False),
        (AsyncCallable().method, True),
        (len, False),
        (operator.itemgetter(0), False),  # no signature to read: only the record is passed
    ],
)
def test_the_context_is_passed_only_when_taken(fn: Any, extra: bool) -> None:
    assert takes_extra_argument(fn, 1) is extra


def test_window_handlers_count_two_required_arguments() -> None:
    assert takes_extra_argument(lambda records, state: None, 2) is False
    assert takes_extra_argument(lambda records, state, context: None, 2) is True
    with pytest.raises(TypeError, match=r"a window handler takes \(records, state\) or \(records, state, context\)"):
        takes_extra_argument(lambda records: None, 2)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (functools.partial(lambda record, option, context: None, option=1), r"only a keyword could fill \(context\)"),
        (dict.get, r"requires 2 positional arguments"),
        (lambda: None, r"takes 0 positional arguments"),
    ],
)
def test_handlers_that_cannot_be_called_are_refused(fn: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        takes_extra_argument(fn, 0 if fn is dict.get else 1)


def test_errors_name_the_handler() -> None:
    def handle_orders() -> None: ...

    with pytest.raises(TypeError, match=r"^handler .*handle_orders takes 0 positional arguments"):
        takes_extra_argument(handle_orders, 1)


def test_batch_errors_pickle_as_readable_text() -> None:
    with pytest.raises(shardline.BatchFailedError) as info:
        shardline.process_batch(_one_failing_record(), _fail, raise_on_total_failure=True, logger=_Quiet())
    copy = pickle.loads(pickle.dumps(info.value))
    assert isinstance(copy, shardline.ShardlineError)
    assert str(copy) == str(info.value)


def test_window_state_errors_pickle_with_their_path() -> None:
    error = shardline.WindowStateError("bad", "state.x")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.reason, copy.path, str(copy)) == (shardline.WindowStateError, "bad", "state.x", str(error))


def _one_failing_record() -> dict[str, Any]:
    change = {"Keys": {"id": {"N": "1"}}, "SequenceNumber": "100"}
    return {"Records": [{"eventID": "1", "eventName": "INSERT", "dynamodb": change}]}


def _fail(record: Any) -> None:
    raise ValueError("no")


class _Quiet:
    def info(self, *args: Any, **kwargs: Any) -> None: ...
    def warning(self, *args: Any, **kwargs: Any) -> None: ...
    def error(self, *args: Any, **kwargs: Any) -> None: ...
    def exception(self, *args: Any, **kwargs: Any) -> None: ...
