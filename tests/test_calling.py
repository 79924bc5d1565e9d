"""How handlers are called: async detection and whether the Lambda context is passed."""

from __future__ import annotations

import asyncio
import functools
import operator
import pickle
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest

import shardline
from shardline._calling import describe_callable, is_async_callable, takes_extra_argument
from shardline._handlers import HandlerLoadError, load_handler, sam_environment


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


# -- hardening: handlers whose attributes raise; handler modules that fail oddly (issue 12) -------------


class _Sneaky:
    """A callable whose attribute lookups run code that raises, __class__ included."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        raise RuntimeError("__class__ fails")

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no {name}")

    def __call__(self, record: Any, context: Any) -> None: ...


def test_a_handler_whose_attribute_lookups_raise_is_still_read_from_its_type() -> None:
    handler = _Sneaky()
    assert not is_async_callable(handler)
    assert takes_extra_argument(handler, 1) is True
    assert describe_callable(handler) == "handler _Sneaky"
    seen: list[object] = []
    assert shardline.process_batch(_one_failing_record(), handler, context=seen) == {"batchItemFailures": []}


def test_a_callable_whose_signature_cannot_be_read_gets_only_the_record() -> None:
    class Opaque:
        __call__ = staticmethod(print)  # not Python code: read through inspect.signature

        @property
        def __signature__(self) -> Any:
            raise RuntimeError("signature fails")

    assert takes_extra_argument(Opaque(), 1) is False


def test_describe_callable_never_raises_and_stays_short() -> None:
    odd = _Sneaky()
    odd.__dict__["__qualname__"] = 42  # not a name: the type's is used
    long = functools.partial(print)
    long.__qualname__ = "x" * 500  # type: ignore[attr-defined]
    assert describe_callable(odd) == "handler _Sneaky"
    assert describe_callable(long) == f"handler {'x' * 77}..."


def _write_module(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.py").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import sys\nsys.exit(3)\n", r"^the handler module failed to import: SystemExit: 3$"),
        (
            "class Boom(Exception):\n    def __str__(self):\n        raise RuntimeError\nraise Boom\n",
            r"^the handler module failed to import: Boom: <the exception's str\(\) raised>$",
        ),
        (
            "class Halt(BaseException): ...\nraise Halt('at import')\n",
            r"^the handler module failed to import: Halt: at import$",
        ),
        (
            "def __getattr__(name):\n    raise RuntimeError('lazy import failed')\n",
            r"^handler 'app\.handler': reading 'handler' raised RuntimeError: lazy import failed$",
        ),
    ],
)
def test_a_handler_module_failing_in_any_way_is_a_handler_load_error(
    tmp_path: Path, source: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    _write_module(tmp_path, "app", source)
    with pytest.raises(HandlerLoadError, match=message):
        load_handler("app.handler", tmp_path, module_name="_test_app_module")


def test_an_env_vars_value_that_cannot_be_written_is_a_value_error() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    assert sam_environment({"Parameters": {"N": 1, "S": "x"}}) == {"N": "1", "S": "x"}
    with pytest.raises(ValueError, match=r"^variable DEEP: its value cannot be written as text \("):
        sam_environment({"Parameters": {"DEEP": deep}})
    with pytest.raises(ValueError, match=r"^variable OBJ: .* \(.*not JSON serializable"):
        sam_environment({"Fn": {"OBJ": object()}}, "Fn")


def test_env_vars_numbers_are_written_exactly() -> None:
    # The CLI reads env-vars files with exact numbers (Decimal): a non-integral number must not stop the run.
    parsed = {"Parameters": {"RATE": Decimal("1.5"), "BIG": Decimal("12345678901234567890.5"), "L": [Decimal("2.5")]}}
    assert sam_environment(parsed) == {"RATE": "1.5", "BIG": "12345678901234567890.5", "L": "[2.5]"}
