"""Invokers: how the event source mapping emulator calls a function.

An :class:`Invoker` takes an event and a deadline and answers with an :class:`Invocation`: the response,
or the function error Lambda would report instead (an unhandled exception, a timeout, an init error, a
response the runtime cannot write). Function errors are data for the poller: a run never crashes because
the function failed. The in-process invoker calls a Python ``(event, context)`` callable; the Lambda
runtime invoker (``shardline run``) plugs in through the same protocol.
"""

from __future__ import annotations

import copy
import json
import random
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, final

from shardline._response import marshal_response
from shardline.testing._clock import Clock, SystemClock
from shardline.testing._context import LambdaContext

__all__ = ["FunctionError", "InProcessInvoker", "Invocation", "Invoker"]

UNHANDLED: Final = "Unhandled"


@final
class FunctionError:
    """Why an invoke produced no response: Lambda reports ``functionError: "Unhandled"`` for all of them.

    ``kind`` is "exception", "timeout", "init" or "marshal"; ``error_type`` and ``message`` are what the
    runtime puts in its error payload.
    """

    __slots__ = ("error_type", "kind", "message", "trace")

    def __init__(self, kind: str, error_type: str, message: str, trace: list[str] | None = None) -> None:
        self.kind = kind
        self.error_type = error_type
        self.message = message
        self.trace = trace or []

    def payload(self) -> dict[str, Any]:
        """The error payload the Lambda runtime returns."""
        return {"errorMessage": self.message, "errorType": self.error_type, "stackTrace": self.trace}

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message}"

    def __repr__(self) -> str:
        return f"<FunctionError {self.kind} {self}>"


@final
class Invocation:
    """One call of the function: the response (or ``error``), the request ID and how long it took."""

    __slots__ = ("duration_ms", "error", "request_id", "response")

    def __init__(self, response: Any, error: FunctionError | None, request_id: str, duration_ms: float) -> None:
        self.response = response
        self.error = error
        self.request_id = request_id
        self.duration_ms = duration_ms

    @property
    def failed(self) -> bool:
        """True for a function error (not for a response that reports failed records)."""
        return self.error is not None


class Invoker(Protocol):
    """Calls a function with an event; never raises for what the function does."""

    function_name: str
    function_arn: str

    def invoke(self, event: Mapping[str, Any], *, deadline_ms: int) -> Invocation: ...


@final
class InProcessInvoker:
    """Calls a Python ``handler(event, context)`` in this process, with a realistic Lambda context.

    The context's remaining time counts down to ``deadline_ms`` on ``clock``. A handler still running
    past its timeout cannot be stopped in-process; it is reported as Lambda reports a timeout
    (``Sandbox.Timedout``) once it returns. The response goes through the runtime's JSON rules, so a set in
    a response is the ``Runtime.MarshalError`` it would be on AWS.

    >>> from shardline.testing import VirtualClock
    >>> invoker = InProcessInvoker(lambda event, context: {"batchItemFailures": []}, clock=VirtualClock())
    >>> invoker.invoke({"Records": []}, deadline_ms=invoker.deadline_from_now()).response
    {'batchItemFailures': []}
    """

    def __init__(
        self,
        handler: Callable[[Any, Any], Any],
        *,
        function_name: str | None = None,
        timeout: float = 3.0,
        memory_mb: int = 128,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        clock: Clock | None = None,
        seed: int | None = None,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"a handler must be callable, got {type(handler).__name__}")
        self.handler = handler
        self.function_name = function_name or _name_of(handler)
        self.function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{self.function_name}"
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.region = region
        self.account_id = account_id
        self.clock = clock or SystemClock()
        self._rng = random.Random(seed)

    def deadline_from_now(self) -> int:
        """The deadline of an invoke starting now: the clock's time plus the function's timeout."""
        return self.clock.now_ms() + round(self.timeout * 1000)

    def invoke(self, event: Mapping[str, Any], *, deadline_ms: int) -> Invocation:
        remaining = max(0.001, (deadline_ms - self.clock.now_ms()) / 1000)
        context = LambdaContext(
            function_name=self.function_name,
            timeout=remaining,
            memory_mb=self.memory_mb,
            region=self.region,
            account_id=self.account_id,
            clock=self.clock,
            rng=self._rng,
        )
        # Every invoke gets its own copy of the event, as on Lambda: a handler that changes it (or the window
        # state in it) and then fails must not change what the retry delivers.
        try:
            payload = json.loads(json.dumps(event))
        except (TypeError, ValueError):
            payload = copy.deepcopy(dict(event))
        started = time.perf_counter()
        error: FunctionError | None = None
        response: Any = None
        try:
            response = self.handler(payload, context)
        except Exception as exc:  # noqa: BLE001 - the function's failure is data for the poller
            trace = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
            error = FunctionError("exception", type(exc).__name__, str(exc), trace)
        except SystemExit as exc:  # the runtime process would exit: Lambda reports an error, then starts anew
            error = FunctionError("exception", "Runtime.ExitError", f"RequestId: exited with status {exc.code}")
        duration_ms = (time.perf_counter() - started) * 1000
        if error is None and (duration_ms > self.timeout * 1000 or self.clock.now_ms() > deadline_ms):
            error = FunctionError("timeout", "Sandbox.Timedout", f"Task timed out after {self.timeout:.2f} seconds")
        if error is None:
            try:
                marshal_response(response)
            except (TypeError, ValueError) as exc:
                error = FunctionError("marshal", "Runtime.MarshalError", f"Unable to marshal response: {exc}")
        return Invocation(None if error else response, error, context.aws_request_id, duration_ms)

    def __repr__(self) -> str:
        return f"<InProcessInvoker {self.function_name}>"


def _name_of(handler: Any) -> str:
    name = getattr(handler, "__name__", None) or type(handler).__name__
    return str(name).replace("_", "-").replace("<", "").replace(">", "") or "function"
