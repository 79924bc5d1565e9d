"""Invokers: how the event source mapping emulator calls a function.

An [`Invoker`][shardline.local.Invoker] takes an event and a deadline and answers with an
[`Invocation`][shardline.local.Invocation]: the response, or the function error Lambda would report instead (an
unhandled exception, a timeout, an init error, a response the runtime cannot write). Function errors are data for the
poller: a run never crashes because the function failed. The in-process invoker calls a Python `(event, context)`
callable; the Lambda runtime invoker (`shardline run`) plugs in through the same protocol.

Both invokers read a function's answer the same way (`marshal_response_body`, `read_response`):
what the function returns is turned into the body AWS's runtime client would post, and that body is read
back as Lambda reads it. So a response behaves the same in-process and under the runtime: a set is a
`Runtime.MarshalError`, bytes stay bytes, a NaN makes a body no JSON reader takes, more than 6 MB is
`Function.ResponseSizeTooLarge`.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import json
import math
import random
import re
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, Protocol, TextIO, final

from shardline._exceptions import JSONInputError, describe_exception
from shardline._json import json_dumps, json_loads
from shardline.testing._clock import Clock, SystemClock
from shardline.testing._context import LambdaContext

__all__ = [
    "RESPONSE_LIMIT",
    "FunctionError",
    "FunctionOutput",
    "InProcessInvoker",
    "Invocation",
    "Invoker",
    "marshal_response_body",
    "read_response",
]

UNHANDLED: Final = "Unhandled"
#: Lambda's limit on a synchronous invoke's response payload: 6 MB ("Lambda quotas", invocation payload).
RESPONSE_LIMIT: Final = 6 * 1024 * 1024
_MARSHAL_ERROR: Final = "Runtime.MarshalError"


@final
class FunctionError:
    """Why an invoke produced no response: Lambda reports `functionError: "Unhandled"` for all of them.

    `kind` is "exception", "timeout", "init" or "marshal"; `error_type` and `message` are what the
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
        return f"{self.error_type}: {self.message}" if self.message else self.error_type

    def __repr__(self) -> str:
        return f"<FunctionError {self.kind} {self}>"


@final
class Invocation:
    """One call of the function: the response (or `error`), the request ID and how long it took."""

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

    def invoke(self, event: Mapping[str, Any], *, deadline_ms: int) -> Invocation:
        """Call the function with `event` and return its outcome, a response or a function error.

        `deadline_ms` is when the function times out, in milliseconds on the pipeline's clock. What the
        function does (raise, time out, return what JSON cannot carry) is an [`Invocation`][shardline.local.Invocation]
        with an `error`, never an exception.
        """
        ...


# -- a function's answer, as the runtime writes it and Lambda reads it ---------------------------------------


def marshal_response_body(response: object) -> tuple[bytes, str]:
    """The body and content type AWS's runtime client posts for what a handler returned.

    `bytes` go as they are (`application/unknown`); anything else is JSON, written as the runtime's
    marshaller writes it: Decimals keep their digits, a NaN or an infinity is written as `NaN` /
    `Infinity` (which no JSON reader takes back), bytes inside the value are read as UTF-8 text. Raises
    what the runtime reports as `Runtime.MarshalError` (a set, an object JSON has no form for, a cycle,
    nesting deeper than the interpreter can write): any `Exception`.

    Examples:
        >>> marshal_response_body({"state": {"total": Decimal("12.50")}})
        (b'{"state": {"total": 12.5}}', 'application/json')
    """
    if response is None:
        return b"null", "application/json"
    if isinstance(response, bytes):
        return bytes(response), "application/unknown"
    if inspect.iscoroutine(response):
        # An async handler returns a coroutine nobody awaits (the Python runtime does not run them): a
        # marshal error, as on Lambda. Closed so that it is not reported as never awaited.
        response.close()
    # The runtime's rules: what it refuses raises the same error (inside json's encoder, as in the runtime's).
    rules = _RuntimeRules()
    text = json.dumps(response, default=rules, allow_nan=True)
    if rules.decimals:
        # The text above wrote placeholders for the Decimals: the exact text has every digit.
        with contextlib.suppress(ValueError):  # a NaN or an infinity: written as is, and the body is not JSON
            text = json_dumps(response, allow_nan=False)
    return text.encode("utf-8", "surrogatepass"), "application/json"


@final
class _RuntimeRules:
    """json's `default` for awslambdaric's marshaller: Decimals are numbers (NaN as NaN), bytes are read as
    UTF-8 text, everything else json cannot write is an error. `decimals` says whether a finite Decimal
    was met (json cannot write it exactly; json_dumps can)."""

    __slots__ = ("decimals",)

    def __init__(self) -> None:
        self.decimals = False

    def __call__(self, value: object) -> object:
        if isinstance(value, Decimal):
            if value.is_finite():
                self.decimals = True
                return 0
            return math.nan if value.is_nan() else float(value)
        if isinstance(value, bytes):
            return value.decode("utf-8")
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def read_response(body: bytes, content_type: str) -> Any:
    """What Lambda reads in a response body: JSON with exact numbers (a fraction or exponent gives a
    `Decimal`), `None` for an empty body, or the bytes themselves when the body is not JSON (bytes the
    handler returned, or JSON text no reader accepts, such as `NaN` or nesting too deep to read).

    Examples:
        >>> read_response(b'{"batchItemFailures": []}', "application/json")
        {'batchItemFailures': []}
        >>> read_response(b'[NaN]', "application/json")
        b'[NaN]'
    """
    if not body:
        return None
    if content_type.split(";", maxsplit=1)[0].strip().lower() == "application/json":
        try:
            return json_loads(body, parse_float=Decimal)
        except JSONInputError:
            pass  # not JSON after all: Lambda cannot read it as an object, which fails a reporting batch
    return body


def response_too_large(size: int) -> FunctionError:
    """The function error Lambda reports for a response over its 6 MB payload limit."""
    return FunctionError(
        "exception",
        "Function.ResponseSizeTooLarge",
        f"Response payload size ({size} bytes) exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
    )


def exit_error(request_id: str, status: int, detail: str = "") -> FunctionError:
    """The function error of a runtime process that exited during an invoke (`Runtime.ExitError`)."""
    message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}"
    return FunctionError("exception", "Runtime.ExitError", f"{message} ({detail})" if detail else message)


def exception_error(exc: BaseException, *, skip_frames: int = 0) -> FunctionError:
    """An unhandled exception as the runtime reports it: its type, its message, its stack trace.

    Never raises: an exception whose `__str__` raises, returns a non-string or holds lone surrogates is
    still described (the runtime would log it as best it can; shardline must not crash on it).
    """
    error_type, _, message = describe_exception(exc).partition(": ")
    try:
        trace = traceback.format_list(traceback.extract_tb(exc.__traceback__)[skip_frames:])
    except Exception:  # noqa: BLE001 - a trace is a courtesy; a broken frame must not cost the error
        trace = []
    return FunctionError("exception", error_type, message, trace)


def answer_of(response: object) -> tuple[Any, FunctionError | None]:
    """What Lambda makes of what a handler returned: the response it reads, or the function error."""
    if response is None:
        return None, None  # the common answer, and JSON's null: nothing to write or read back
    try:
        body, content_type = marshal_response_body(response)
    except Exception as exc:  # noqa: BLE001 - whatever the value does while it is written is a marshal error
        message = describe_exception(exc).partition(": ")[2] or type(exc).__name__
        return None, FunctionError("marshal", _MARSHAL_ERROR, f"Unable to marshal response: {message}")
    if len(body) > RESPONSE_LIMIT:
        return None, response_too_large(len(body))
    if content_type != "application/json":
        return body, None
    # Read back as read_response() reads a runtime's body (the same rules, with one reader made once: the
    # text is this process's own).
    try:
        return _OWN_READER.decode(body.decode("utf-8", "surrogatepass")), None
    except (ValueError, RecursionError):  # NaN, Infinity, nesting too deep to read: not JSON to Lambda
        return body, None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_OWN_READER: Final = json.JSONDecoder(parse_float=Decimal, parse_constant=_not_json)


# -- a function's output ---------------------------------------------------------------------------------

_EXCEPTION_LINE: Final = re.compile(r"(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?::\s.*)?")
_TRACEBACK: Final = "Traceback (most recent call last):"
_CHAINED: Final = ("During handling of the above exception", "The above exception was the direct cause")
_RUNTIME_ERROR_ENTRY: Final = "[ERROR] "  # awslambdaric's log entry for an unhandled exception: "[ERROR] Type: msg"
_LINE_LIMIT: Final = 16 * 1024  # a line longer than this is not an exception line worth keeping whole
_KEPT: Final = 500  # characters of the last exception kept


@final
class FunctionOutput(io.TextIOBase):
    """A function's own output (prints, logs, tracebacks) on its way to `stream` (`sys.stderr` when
    None, looked up at each write), copied as it comes.

    It also remembers the last exception the function printed (`last_exception`, the last line of a
    traceback, e.g. `ValueError: order#2: a negative total`): a partial batch response only names the
    records that failed, and the function's own log is where the reason is. `exceptions` counts them.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.last_exception: str | None = None
        self.exceptions = 0
        self._partial = ""
        self._in_traceback = False
        self._skip_traceback = False  # the runtime's own "[ERROR] Type: msg" entry named it already

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        stream = self._target()
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):  # a closed or broken stream must not fail the function
                stream.write(text)
        self._scan(text)
        return len(text)

    def flush(self) -> None:
        stream = self._target()
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()

    def _target(self) -> Any:
        stream = self.stream or sys.stderr
        # While an in-process handler runs, sys.stderr is this very object: the real one is underneath.
        return sys.__stderr__ if stream is self else stream

    def _scan(self, text: str) -> None:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()[-_LINE_LIMIT:]
        for line in lines:
            self._line(line.rstrip("\r")[:_LINE_LIMIT])

    def _line(self, line: str) -> None:
        if line.startswith(_RUNTIME_ERROR_ENTRY):
            self._found(line[len(_RUNTIME_ERROR_ENTRY) :])
            self._skip_traceback = True
            return
        if line.startswith(_TRACEBACK):
            self._in_traceback = True
            return
        if not self._in_traceback or not line or line[0].isspace() or line.startswith(_CHAINED):
            return
        self._in_traceback = False
        if self._skip_traceback:
            self._skip_traceback = False
        elif _EXCEPTION_LINE.fullmatch(line):
            self._found(line)

    def _found(self, text: str) -> None:
        self.last_exception = text.strip()[:_KEPT]
        self.exceptions += 1


# -- in this process -------------------------------------------------------------------------------------


@final
class InProcessInvoker:
    """Calls a Python `handler(event, context)` in this process, with a realistic Lambda context.

    The context's remaining time counts down to `deadline_ms` on `clock`. A handler still running
    past its timeout cannot be stopped in-process; it is reported as Lambda reports a timeout
    (`Sandbox.Timedout`) once it returns. Whatever the handler returns or raises is what the runtime
    invoker would report: the response goes through the runtime's JSON rules (a set in a response is the
    `Runtime.MarshalError` it would be on AWS), an exception (even one whose `str()` fails) is an
    unhandled error, `sys.exit()` or a `BaseException` that is not an `Exception` (`GeneratorExit`)
    is the `Runtime.ExitError` of a runtime process that died. Only `KeyboardInterrupt` goes through:
    it is the Ctrl-C of whoever runs the pipeline.

    With `output`, the handler's prints and logs to `sys.stdout`/`sys.stderr` go there while it runs.

    Examples:
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
        output: TextIO | FunctionOutput | None = None,
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
        self.output: FunctionOutput | None = (
            output if isinstance(output, FunctionOutput) else None if output is None else FunctionOutput(output)
        )
        self._rng = random.Random(seed)

    def deadline_from_now(self) -> int:
        """The deadline of an invoke starting now: the clock's time plus the function's timeout."""
        return self.clock.now_ms() + round(self.timeout * 1000)

    def invoke(self, event: Mapping[str, Any], *, deadline_ms: int) -> Invocation:
        """Call the handler with a copy of `event` and a context whose remaining time ends at `deadline_ms`.

        Whatever the handler returns or raises comes back as an [`Invocation`][shardline.local.Invocation]; only
        `KeyboardInterrupt` propagates.
        """
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
        request_id = context.aws_request_id
        # Every invoke gets its own copy of the event, as on Lambda: a handler that changes it (or the window
        # state in it) and then fails must not change what the retry delivers.
        try:
            payload = json.loads(json.dumps(event))
        except (TypeError, ValueError):
            payload = copy.deepcopy(dict(event))
        started = time.perf_counter()
        error: FunctionError | None = None
        response: Any = None
        with self._redirected():
            try:
                result = self.handler(payload, context)
                response, error = answer_of(result)
                del result
            except KeyboardInterrupt:
                raise  # the Ctrl-C (or SIGTERM) of whoever runs the pipeline, not the function's failure
            except SystemExit as exc:
                # The runtime process would exit: Lambda reports Runtime.ExitError, then starts a new one.
                error = exit_error(request_id, _exit_status(exc.code))
            except Exception as exc:  # noqa: BLE001 - the function's failure is data for the poller
                error = exception_error(exc, skip_frames=1)
            except BaseException as exc:  # noqa: BLE001 - GeneratorExit and friends: awslambdaric catches only
                # Exception, so on Lambda the runtime process dies of it (exit status 1).
                error = exit_error(request_id, 1, f"the handler raised {describe_exception(exc)}")
        duration_ms = (time.perf_counter() - started) * 1000
        if error is None and (duration_ms > self.timeout * 1000 or self.clock.now_ms() > deadline_ms):
            error = FunctionError("timeout", "Sandbox.Timedout", f"Task timed out after {self.timeout:.2f} seconds")
        return Invocation(None if error else response, error, request_id, duration_ms)

    @contextlib.contextmanager
    def _redirected(self) -> Any:
        if self.output is None:
            yield
            return
        with contextlib.redirect_stdout(self.output), contextlib.redirect_stderr(self.output):
            yield

    def __repr__(self) -> str:
        return f"<InProcessInvoker {self.function_name}>"


def _exit_status(code: object) -> int:
    """The status a process exits with for `sys.exit(code)`: 0 for None, the number, 1 for anything else."""
    if code is None:
        return 0
    if isinstance(code, int):
        return int(code) % 256
    return 1


def _name_of(handler: Any) -> str:
    try:
        name = getattr(handler, "__name__", None) or type(handler).__name__
    except Exception:  # noqa: BLE001 - a callable whose attributes raise still gets a name
        name = type(handler).__name__
    return str(name).replace("_", "-").replace("<", "").replace(">", "") or "function"
