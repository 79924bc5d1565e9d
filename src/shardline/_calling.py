"""How to call a user's handler: is it a coroutine function, and does it take the Lambda context?

Both questions are answered once per batch, from the handler's code object, without importing
`inspect` (a handler module pays for every import on a cold start). Plain functions, bound methods,
`functools.partial` objects and instances with a `__call__` method are understood; anything else (a
builtin, a C extension callable) falls back to `inspect.signature`, imported only then.

A handler is the user's object: reading its attributes may run its code (`__getattr__`, properties),
which may raise anything. Every read here treats such a failure as "no such attribute", so an odd handler
gets a clear TypeError or is simply called, never a traceback from inside this module.
"""

from __future__ import annotations

import sys
from functools import partial
from types import CodeType, FunctionType, MethodType
from typing import Any, Final

__all__ = ["describe_callable", "is_async_callable", "takes_extra_argument"]

_CO_VARARGS: Final = 0x04
_CO_COROUTINE: Final = 0x80
_NOTHING: Final = object()
_NAME_LIMIT: Final = 80  # characters of a handler's name shown in a message


def _attribute(obj: Any, name: str) -> Any:
    """`getattr(obj, name, None)`, also when looking it up raises something other than AttributeError."""
    try:
        return getattr(obj, name, None)
    except Exception:  # noqa: BLE001 - a broken __getattr__ or property reads as a missing attribute
        return None


def describe_callable(fn: Any) -> str:
    """`handler <qualified name>` for messages; never raises, whatever `fn` is.

    Examples:
        >>> describe_callable(len)
        'handler len'
    """
    for candidate in (_attribute(fn, "__qualname__"), _attribute(type(fn), "__qualname__")):
        if type(candidate) is str and candidate:
            name = candidate
            break
    else:
        name = "<unnamed callable>"
    if len(name) > _NAME_LIMIT:
        name = name[: _NAME_LIMIT - 3] + "..."
    return f"handler {name}"


def _unwrap(fn: Any, *, follow_wrapped: bool = False) -> tuple[Any, int, frozenset[str]]:
    """The Python function behind `fn`, how many positional arguments are already bound, and which
    parameters a partial fixes by keyword.

    With `follow_wrapped`, a decorator's wrapper made with `functools.wraps` stands for the function it
    wraps, as in `inspect.signature`.
    """
    bound = 0
    keywords: frozenset[str] = frozenset()
    for _ in range(100):  # partials of partials of methods...; a bound guards against odd cycles
        kind = type(fn)  # not isinstance(): that would consult a __class__ the object may fake or break
        wrapped = _attribute(fn, "__wrapped__") if follow_wrapped else None
        if wrapped is not None and kind is FunctionType:
            fn = wrapped
        elif issubclass(kind, partial):
            try:
                args, more, func = len(fn.args), frozenset(fn.keywords), fn.func
            except Exception:  # noqa: BLE001 - a partial subclass that hides its parts: read no further
                break
            bound += args
            keywords |= more
            fn = func
        elif kind is MethodType:
            bound += 1
            fn = fn.__func__
        elif kind is FunctionType or issubclass(kind, type) or not callable(fn):
            break
        else:  # an instance with __call__
            call = _attribute(kind, "__call__")  # the method itself is wanted, not a test
            if type(call) is not FunctionType:
                break
            bound += 1
            fn = call
    return fn, bound, keywords


def is_async_callable(fn: Any) -> bool:
    """True when calling `fn` returns a coroutine: an `async def` function, a method, partial or
    callable object built on one, or a function marked as a coroutine function.

    Examples:
        >>> async def handle(record): ...
        >>> is_async_callable(handle), is_async_callable(print)
        (True, False)
    """
    target, _, _ = _unwrap(fn)
    # Markers set by inspect.markcoroutinefunction (3.12+) and by asyncio's older convention (used by
    # unittest.mock.AsyncMock), compared by identity like the standard library does. Code that set them
    # imported those modules, so they are looked up in sys.modules instead of being imported here.
    inspect = sys.modules.get("inspect")
    coroutines = sys.modules.get("asyncio.coroutines")
    marks = [
        getattr(inspect, "_is_coroutine_mark", _NOTHING),  # 3.13+
        getattr(inspect, "_is_coroutine_marker", _NOTHING),  # 3.12
        getattr(coroutines, "_is_coroutine", _NOTHING),
    ]
    for candidate in (fn, target):
        for attribute in ("_is_coroutine_marker", "_is_coroutine"):
            value = _attribute(candidate, attribute)
            if value is not None and any(value is mark for mark in marks):
                return True
    code = _attribute(target, "__code__")
    return type(code) is CodeType and bool(code.co_flags & _CO_COROUTINE)


def takes_extra_argument(fn: Any, required: int) -> bool:
    """Whether `fn` should be called with one more positional argument than `required`.

    `required` is how many positional arguments shardline always passes (the record, say); the extra
    one is the Lambda context. True when the handler accepts that many plus one positional argument,
    False when it accepts exactly `required`. TypeError, at once, when it cannot be called with
    `required` positional arguments at all: better than a failure on every record.

    Examples:
        >>> takes_extra_argument(lambda record: None, 1), takes_extra_argument(lambda record, context: None, 1)
        (False, True)
    """
    target, bound, keywords = _unwrap(fn, follow_wrapped=True)
    code = _attribute(target, "__code__")
    if type(target) is FunctionType and type(code) is CodeType:
        names = code.co_varnames[bound : code.co_argcount]
        first_default = code.co_argcount - len(target.__defaults__ or ())  # position of the first defaulted one
        # Positional arguments fill parameters up to the first one a partial fixes by keyword.
        capacity = next((i for i, name in enumerate(names) if name in keywords), len(names))
        minimum = sum(1 for i in range(capacity) if bound + i < first_default)
        unreachable = [
            name for i, name in enumerate(names) if i > capacity and name not in keywords and bound + i < first_default
        ]
        kwonly = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
        kwdefaults = target.__kwdefaults__ or {}
        missing = unreachable + [name for name in kwonly if name not in kwdefaults and name not in keywords]
        varargs = code.co_flags & _CO_VARARGS and capacity == len(names)
        return _decide(fn, required, minimum, None if varargs else capacity, missing)
    return _decide_by_signature(fn, required)


def _decide(fn: Any, required: int, minimum: int, maximum: int | None, missing: list[str]) -> bool:
    if missing:
        names = ", ".join(missing)
        raise TypeError(
            f"{describe_callable(fn)} has parameters only a keyword could fill ({names}); {_usage(required)}"
        )
    if minimum > required + 1:
        raise TypeError(f"{describe_callable(fn)} requires {minimum} positional arguments; {_usage(required)}")
    if maximum is not None and maximum < required:
        raise TypeError(f"{describe_callable(fn)} takes {maximum} positional arguments; {_usage(required)}")
    # A handler that accepts the extra argument gets it; one with *args too (it asked for anything).
    return minimum > required or maximum is None or maximum > required


def _decide_by_signature(fn: Any, required: int) -> bool:
    import inspect  # only for callables without Python code (builtins, C extensions)

    try:
        parameters = inspect.signature(fn).parameters.values()
    except Exception:  # noqa: BLE001 - no signature to read (or a broken __signature__): pass only what is always passed
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    minimum = sum(1 for p in positional if p.default is p.empty)
    missing = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    return _decide(fn, required, minimum, None if varargs else len(positional), missing)


def _usage(required: int) -> str:
    if required == 1:
        return "a record handler takes (record) or (record, context)"
    return "a window handler takes (records, state) or (records, state, context)"
