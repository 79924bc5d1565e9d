"""The Lambda runtime invoker: the user's handler under AWS's own runtime interface client, in a warm process.

Lambda runs a Python function by starting `python -m awslambdaric module.function` (the runtime
interface client, RIC) in a sandbox and talking to it over the Lambda Runtime API: the RIC asks
`GET /2018-06-01/runtime/invocation/next` for work, runs the handler and posts `.../response` or
`.../error`; a failed import posts `/runtime/init/error`. [`RuntimeInvoker`][shardline.local.RuntimeInvoker] plays the
Lambda side of that conversation on 127.0.0.1, so the handler runs with the same client, marshalling, context object,
logging setup and error payloads as on AWS, not with shardline's imitation of them.

One sandbox is a runtime process plus the Runtime API server it talks to (each on a port of its own, so a
killed process's half-open requests can never take the next sandbox's work). It starts on the first invoke
and stays warm. It is thrown away, so that the next invoke is a cold start, exactly when Lambda throws a
sandbox away: on a timeout (the process group is killed), an init error, or a process that exits before
answering. A handler exception or a response the RIC cannot serialise keeps it warm.

Only the sandbox's own runtime process may take an event or answer one: every sandbox has a secret, and
the runtime's requests carry it as a path prefix (`/<secret>/2018-06-01/runtime/...`). Any other local
process (another user's, a web page sending requests to 127.0.0.1) is refused with 403, without seeing an
event or being able to post a forged success. The server serves a bounded number of connections, drops
one that sends no request within a few seconds, and reads no body over Lambda's 6 MB payload limit.

Time: the invoke's budget is `deadline_ms - clock.now_ms()` on the injected clock (a virtual clock gives the
full timeout), spent in real seconds. As on Lambda, the budget starts when the runtime takes the event; the
init phase has its own 10 s, and an init that overruns them counts against the invoke (Lambda's "suppressed
init", where the init is retried inside the invoke's timeout).
"""

from __future__ import annotations

import codecs
import contextlib
import hmac
import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, TextIO, final

from shardline._exceptions import JSONInputError, ShardlineError
from shardline._handlers import lambda_environment
from shardline._json import json_dumps, json_loads
from shardline.local._invoker import (
    RESPONSE_LIMIT,
    FunctionError,
    FunctionOutput,
    Invocation,
    read_response,
    response_too_large,
)
from shardline.testing._clock import Clock, SystemClock

__all__ = ["RuntimeInvoker", "RuntimeInvokerError"]

#: Lambda's limit on the init phase of an on-demand function.
INIT_LIMIT: Final = 10.0
#: Connections the Runtime API serves at once: the runtime needs one (two while it posts an init error).
MAX_CONNECTIONS: Final = 16
#: Seconds a connection may take to send its request before it has shown the secret; the runtime sends
#: its request as soon as it connects, so only a stray or hostile client waits this long.
UNTRUSTED_TIMEOUT: Final = 5.0

_API: Final = "/2018-06-01/runtime"
_NEXT: Final = f"{_API}/invocation/next"
_INIT_ERROR: Final = f"{_API}/init/error"
_INVOCATION: Final = f"{_API}/invocation/"
_ERROR_TYPE_HEADER: Final = "Lambda-Runtime-Function-Error-Type"
_MARSHAL_ERROR: Final = "Runtime.MarshalError"
_PREFIX_VARIABLE: Final = "_SHARDLINE_RUNTIME_API_PREFIX"

# How the runtime process starts: awslambdaric's own __main__, unchanged, after one step. awslambdaric reads
# AWS_LAMBDA_RUNTIME_API twice: its native client (next, response, error) reads it when
# awslambdaric.lambda_runtime_client is imported and appends the Runtime API paths to it as given, so it
# takes "host:port/<secret>"; then its configuration reads it for the init error, posted with http.client,
# which needs a bare "host:port". The native client gets the address with the sandbox's secret, the rest
# (and the handler's own environment) the bare address.
_LAUNCHER: Final = f"""\
import os, runpy
bare = os.environ["AWS_LAMBDA_RUNTIME_API"]
os.environ["AWS_LAMBDA_RUNTIME_API"] = bare + os.environ.pop("{_PREFIX_VARIABLE}")
import awslambdaric.lambda_runtime_client
os.environ["AWS_LAMBDA_RUNTIME_API"] = bare
runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
"""

#: Variables of the developer's shell the function still sees: what a process needs to run at all, and the
#: credentials SAM CLI also hands to local functions (on Lambda they come from the execution role). Anything
#: else stays out, so a handler that relies on a variable its template does not set fails here as on AWS.
_PASSTHROUGH: Final = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TEMP",
    "TMP",
    "SYSTEMROOT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)

_WALL: Final = SystemClock()  # the runtime's deadline header is wall-clock epoch milliseconds


@final
class RuntimeInvokerError(ShardlineError):
    """The Lambda runtime cannot be used: awslambdaric is missing, the interpreter cannot start, or the
    invoker is closed. (What the function does is never raised: it is a
    [`FunctionError`][shardline.local.FunctionError].)"""

    __module__ = "shardline.local"


@final
class RuntimeInvoker:
    """Runs a SAM `Handler` (`app.lambda_handler`, `folder/app.handler`) under awslambdaric, as Lambda does.

    The runtime process starts on the first [`invoke`][shardline.local.RuntimeInvoker.invoke] with `cwd=code_dir`,
    `code_dir` on `PYTHONPATH` and the variables Lambda sets, then `environment` (the template's and `--env-vars`
    values, which win over Lambda's defaults). It stays warm between invokes; `cold_starts` counts how often it was
    started. The function's stdout and stderr are copied to `stderr` (`sys.stderr` by default), never to this process's
    stdout, which belongs to the caller's data; `output` (a `FunctionOutput`) remembers the last exception the function
    printed.

    Function errors come back as [`FunctionError`][shardline.local.FunctionError]: "exception" (the handler raised),
    "marshal" (the response is not JSON-serialisable: `Runtime.MarshalError`), "init" (the module failed to load or the
    process exited before answering; the next invoke starts a new process) and "timeout" (no answer by the deadline: the
    process group is killed and the next invoke is a cold start). A response over 6 MB is
    `Function.ResponseSizeTooLarge`. JSON numbers with a fraction or exponent in a response come back as exact
    `Decimal`; a body that is not JSON (bytes the handler returned, a NaN) comes back as bytes.

    Use it as a context manager, or call [`close`][shardline.local.RuntimeInvoker.close]; a forgotten invoker is cleaned
    up at exit.

    Examples:
        >>> with RuntimeInvoker("app.lambda_handler", code_dir="src", timeout=6) as invoker:  # doctest: +SKIP
        ...     invoker.invoke({"Records": []}, deadline_ms=invoker.deadline_from_now()).response
        {'batchItemFailures': []}
    """

    def __init__(
        self,
        handler: str,
        *,
        code_dir: str | os.PathLike[str] = ".",
        function_name: str = "function",
        timeout: float = 3.0,
        memory_mb: int = 128,
        environment: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        python: str | None = None,
        clock: Clock | None = None,
        stderr: TextIO | FunctionOutput | None = None,
    ) -> None:
        if not isinstance(handler, str):
            raise TypeError(f"handler must be a SAM Handler string like 'app.lambda_handler', got {handler!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb <= 0:
            raise ValueError(f"memory_mb must be a positive int, got {memory_mb!r}")
        root = Path(code_dir).resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"function {function_name}: code_dir {root} is not a directory (check CodeUri)")
        variables = dict(environment or {})
        for name, value in variables.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError(
                    f"environment variable {name!r} of function {function_name} must be a str, got {value!r}"
                )
        self.handler = handler
        self.code_dir = root
        self.function_name = function_name
        self.function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.timeout = float(timeout)
        self.memory_mb = memory_mb
        self.environment = variables
        self.region = region
        self.account_id = account_id
        self.python = python or sys.executable
        self.clock: Clock = clock or SystemClock()
        self.cold_starts = 0
        self.output = stderr if isinstance(stderr, FunctionOutput) else FunctionOutput(stderr)
        self._lock = threading.Lock()
        self._state = _State()
        this_version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        self._python_version = _check_runtime(
            self.python, self._environment(api=None, python_version=this_version), this_interpreter=python is None
        )
        self._finalizer = weakref.finalize(self, _shutdown, self._state)

    # -- the Invoker protocol -------------------------------------------------------------------

    def deadline_from_now(self) -> int:
        """The deadline of an invoke starting now: the clock's time plus the function's timeout."""
        return self.clock.now_ms() + round(self.timeout * 1000)

    def invoke(self, event: Mapping[str, Any], *, deadline_ms: int) -> Invocation:
        """Hand `event` to the runtime and wait for its answer, at most until `deadline_ms` (clock time).

        Never raises for what the function does; raises [`RuntimeInvokerError`][shardline.local.RuntimeInvokerError] if
        the invoker is closed or the runtime process cannot be started, and `TypeError` for an event JSON cannot carry.
        """
        body = json_dumps(event).encode("utf-8")
        request_id = str(uuid.uuid4())
        with self._lock:  # one invoke at a time, as in one Lambda sandbox
            budget = (deadline_ms - self.clock.now_ms()) / 1000
            if self._state.closed:
                raise RuntimeInvokerError(f"the runtime invoker of function {self.function_name} is closed")
            if budget <= 0:  # past its deadline before it started: Lambda would not run it either
                return Invocation(None, _timed_out(0.0), request_id, 0.0)
            sandbox = self._state.sandbox
            if sandbox is None or sandbox.dead():
                if sandbox is not None:
                    sandbox.destroy()
                sandbox = self._state.sandbox = self._start()
            call = _Call(request_id, body, budget)
            outcome = sandbox.run(call)
            if outcome.discard:
                sandbox.destroy()
                self._state.sandbox = None
            if outcome.closed:
                raise RuntimeInvokerError(f"the runtime invoker of function {self.function_name} was closed mid-invoke")
            return Invocation(outcome.response, outcome.error, request_id, outcome.duration_ms)

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the runtime process (its whole process group) and the Runtime API server; idempotent."""
        self._finalizer()

    def __enter__(self) -> RuntimeInvoker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._state.closed else "warm" if self._state.sandbox else "cold"
        return f"<RuntimeInvoker {self.function_name} {self.handler} ({state})>"

    # -- internals ------------------------------------------------------------------------------

    def _environment(self, *, api: str | None, python_version: str) -> dict[str, str]:
        """The process environment: a few host variables, Lambda's variables, then the function's own.

        `api` is the Runtime API address; None for the interpreter check before any runtime starts.
        """
        env = {name: os.environ[name] for name in _PASSTHROUGH if name in os.environ}
        env.update(
            lambda_environment(
                function_name=self.function_name,
                handler=self.handler,
                memory_mb=self.memory_mb,
                region=self.region,
                task_root=self.code_dir,
                python_version=python_version,
                now_ms=self.clock.now_ms(),
            )
        )
        env.update(
            {
                "PYTHONPATH": str(self.code_dir),
                # Lambda's task root is read-only, so no __pycache__ is written there; nor in the user's project.
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        env.update(self.environment)
        if api is not None:
            env["AWS_LAMBDA_RUNTIME_API"] = api  # never the user's: the runtime must reach this invoker
        return env

    def _start(self) -> _Sandbox:
        sandbox: _Sandbox | None = None
        try:
            sandbox = _Sandbox(self.function_arn, self.output)
            sandbox.launch(
                [self.python, "-c", _LAUNCHER, self.handler],
                cwd=self.code_dir,
                env=self._environment(api=sandbox.address, python_version=self._python_version),
            )
        except OSError as exc:
            if sandbox is not None:
                sandbox.destroy()
            raise RuntimeInvokerError(
                f"cannot start the Lambda runtime of function {self.function_name} with {self.python}: {exc}"
            ) from exc
        self.cold_starts += 1
        return sandbox


# -- one sandbox: a runtime process and its Runtime API ---------------------------------------------


@final
class _State:
    """What the finaliser needs to clean up, kept apart from the invoker so the invoker can be collected."""

    __slots__ = ("closed", "sandbox")

    def __init__(self) -> None:
        self.sandbox: _Sandbox | None = None
        self.closed = False


def _shutdown(state: _State) -> None:
    state.closed = True
    sandbox, state.sandbox = state.sandbox, None
    if sandbox is not None:
        sandbox.destroy()


@final
class _Call:
    """One invoke on its way through the Runtime API."""

    __slots__ = ("answer", "body", "budget", "deadline", "dispatched_at", "request_id")

    def __init__(self, request_id: str, body: bytes, budget: float) -> None:
        self.request_id = request_id
        self.body = body
        self.budget = budget
        self.dispatched_at: float | None = None  # monotonic time the runtime took the event
        self.deadline: float | None = None  # monotonic time the answer is due
        self.answer: tuple[str, bytes, str] | None = None  # ("response" | "error", body, content or error type)


@final
class _Outcome:
    __slots__ = ("closed", "discard", "duration_ms", "error", "response")

    def __init__(
        self, response: Any, error: FunctionError | None, duration_ms: float, *, discard: bool, closed: bool = False
    ) -> None:
        self.response = response
        self.error = error
        self.duration_ms = duration_ms
        self.discard = discard  # the sandbox is gone: the next invoke is a cold start
        self.closed = closed


@final
class _Sandbox:
    """A runtime process and the Runtime API server it polls. All shared state is guarded by `cond`."""

    def __init__(self, function_arn: str, stream: FunctionOutput) -> None:
        self.function_arn = function_arn
        self.stream = stream
        self.cond = threading.Condition()
        # The runtime process gets the secret in its environment; its requests carry it as a path prefix.
        self.prefix = "/" + secrets.token_urlsafe(24)
        self.pending: _Call | None = None  # queued, not yet taken by /next
        self.current: _Call | None = None  # taken, not yet answered
        self.init_error: dict[str, Any] | None = None
        self.init_error_trusted = False  # posted with the secret (see fail_init)
        self.ready_at: float | None = None  # when the first /next arrived: the end of the init phase
        self.dispatched = 0
        self.exited = False
        self.closed = False
        self.started_at = time.monotonic()
        self.process: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []
        self.server = _Server(self)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self._spawn(self.server.serve_forever, "api", 0.05)  # 0.05 s: how long shutdown() may take

    def launch(self, argv: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.started_at = time.monotonic()
        # A session of its own: a timeout kills the whole process group (children the handler started
        # included), and a Ctrl-C in the terminal reaches only this process, whose exit handler kills the group.
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**env, _PREFIX_VARIABLE: self.prefix},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.process = process
        assert process.stdout is not None
        self._spawn(_pump, "output", process.stdout, self)
        self._spawn(self._watch, "watch", process)

    def _spawn(self, target: Any, role: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=f"shardline-runtime-{role}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        process.wait()  # ends when the process does; destroy() always kills it
        with self.cond:
            self.exited = True
            self.cond.notify_all()

    def dead(self) -> bool:
        with self.cond:
            return self.exited or self.closed

    # -- the invoker's side -----------------------------------------------------------------------

    def run(self, call: _Call) -> _Outcome:
        """Queue `call` and wait for its answer, an init error, the process's exit or the deadline."""
        invoked_at = time.monotonic()
        with self.cond:
            self.pending = call
            self.cond.notify_all()
            while True:
                now = time.monotonic()
                since = call.dispatched_at if call.dispatched_at is not None else invoked_at
                elapsed_ms = (now - since) * 1000
                if call.answer is not None:
                    return _read_answer(call.answer, elapsed_ms)
                if self.closed:
                    return _Outcome(None, None, elapsed_ms, discard=True, closed=True)
                init_error = self.init_error if call.dispatched_at is None else None
                if init_error is not None and (self.init_error_trusted or self.exited):
                    return _Outcome(None, _init_failure(init_error), elapsed_ms, discard=True)
                if self.exited:
                    return _Outcome(None, self._exit_failure(call), elapsed_ms, discard=True)
                if call.deadline is not None:
                    wait_until = call.deadline
                elif self.ready_at is None and now < self.started_at + INIT_LIMIT:
                    wait_until = self.started_at + INIT_LIMIT
                else:  # a suppressed init, or a warm runtime slow to ask for the next event
                    wait_until = (self.started_at if self.ready_at is None else invoked_at) + call.budget
                if now >= wait_until:
                    if init_error is not None:  # the runtime reported a failed init and never asked for work
                        return _Outcome(None, _init_failure(init_error), elapsed_ms, discard=True)
                    return _Outcome(None, _timed_out(call.budget), elapsed_ms, discard=True)
                self.cond.wait(wait_until - now)

    def _exit_failure(self, call: _Call) -> FunctionError:
        code = self.process.returncode if self.process is not None else None
        if code is not None and code < 0:
            try:
                status = f"signal: {signal.strsignal(-code) or -code}".lower()
            except ValueError:
                status = f"signal {-code}"
        else:
            status = f"exit status {code}"
        return FunctionError(
            "init", "Runtime.ExitError", f"RequestId: {call.request_id} Error: Runtime exited with error: {status}"
        )

    # -- the runtime's side (Runtime API handlers, on server threads) ----------------------------------

    def next_call(self) -> tuple[_Call, int] | None:
        """Block until an invoke is queued and hand it out with the milliseconds it has left (None once the
        sandbox is destroyed)."""
        with self.cond:
            if self.ready_at is None:
                self.ready_at = time.monotonic()
            if not self.init_error_trusted:
                self.init_error = None  # the runtime asks for work: its init did not fail, whoever said so
            ready_at = self.ready_at
            while self.pending is None:
                if self.closed:
                    return None
                self.cond.wait(1.0)  # woken by run() and destroy(); the timeout only re-checks `closed`
            call, self.pending = self.pending, None
            now = time.monotonic()
            suppressed = self.dispatched == 0 and ready_at - self.started_at > INIT_LIMIT
            deadline = (self.started_at if suppressed else now) + call.budget
            call.dispatched_at = now
            call.deadline = deadline
            self.current = call
            self.dispatched += 1
            self.cond.notify_all()
            return call, round((deadline - now) * 1000)

    def answer(self, request_id: str, kind: str, body: bytes, detail: str) -> bool:
        with self.cond:
            call = self.current
            if call is None or call.request_id != request_id or call.answer is not None:
                return False
            call.answer = (kind, body, detail)
            self.current = None
            self.cond.notify_all()
            return True

    def fail_init(self, body: bytes, error_type: str, *, trusted: bool) -> bool:
        """Note an init error. awslambdaric posts it with http.client, which cannot carry the secret, so an
        untrusted one is only believed if the runtime then exits (or its init overruns the deadline) without
        ever asking for an event: a forged one can describe a failure, never cause one."""
        with self.cond:
            if self.dispatched or self.closed or self.exited or self.ready_at is not None:
                return False  # the init phase is over: Lambda answers 403 InvalidStateTransition
            if self.init_error is not None and self.init_error_trusted:
                return False
            try:
                payload = json_loads(body)
            except JSONInputError:
                payload = None
            if not isinstance(payload, dict):
                payload = {"errorType": error_type, "errorMessage": body.decode("utf-8", "replace")}
            payload.setdefault("errorType", error_type)
            self.init_error = payload
            self.init_error_trusted = trusted
            self.cond.notify_all()
            return True

    # -- teardown -------------------------------------------------------------------------------

    def destroy(self) -> None:
        """Kill the process group, stop the server, wait (bounded) for the threads; idempotent."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        process = self.process
        if process is not None:
            _kill_group(process)
            with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL does not wait for anyone
                process.wait(timeout=5)
        if threading.current_thread() in self._threads:
            # A finaliser the garbage collector ran on one of our own threads: shutdown() waits for the
            # server loop, which may be this very thread, so it is left to a helper.
            threading.Thread(target=self._stop_server, name="shardline-runtime-stop", daemon=True).start()
            return
        self._stop_server()
        for thread in self._threads:
            thread.join(timeout=2)  # the output pump ends at EOF, once the whole group is gone

    def _stop_server(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        # Connections still open end with the runtime process (killed above) or by their read timeout.


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the runtime and everything it started, as Lambda does to a sandbox that timed out."""
    if sys.platform == "win32":  # pragma: no cover - awslambdaric runs on Linux and macOS
        process.kill()
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the group id is its pid
    except (ProcessLookupError, PermissionError):
        process.poll()  # already gone (and reaped by the watcher)


def _pump(source: IO[bytes], sandbox: _Sandbox) -> None:
    """Copy the function's output to the invoker's stream as it comes.

    The runtime separates the lines of an error log entry with carriage returns (one CloudWatch event per
    entry); on a terminal those would overwrite each other, so they become newlines.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    fd = source.fileno()
    swallow_newline = False
    while True:
        chunk = os.read(fd, 65536)
        text = decoder.decode(chunk, final=not chunk)
        if swallow_newline and text.startswith("\n"):
            text = text[1:]  # the second half of a \r\n already written as a newline
        swallow_newline = text.endswith("\r")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if text and not text.endswith("\n"):
            # The runtime writes each log entry in one write, without a line end (CloudWatch frames
            # entries); end it here so the next entry, or shardline's own line, starts on a new line. A
            # print() can also arrive as its text and then its newline: that newline was written here already.
            text += "\n"
            swallow_newline = True
        if text:
            sandbox.stream.write(text)  # never raises: a closed or broken stream must not kill the pump
            sandbox.stream.flush()
        if not chunk:
            source.close()
            return


# -- answers ----------------------------------------------------------------------------------------


def _read_answer(answer: tuple[str, bytes, str], duration_ms: float) -> _Outcome:
    kind, body, detail = answer
    if kind == "too-large":
        # The runtime's native client fails on the 413 and its process exits: the next invoke is a cold
        # start (discarded now, so that it does not find the process dying).
        return _Outcome(None, response_too_large(int(detail)), duration_ms, discard=True)
    if kind == "response":
        return _Outcome(read_response(body, detail), None, duration_ms, discard=False)
    try:
        payload = json_loads(body)
    except JSONInputError:
        payload = None
    if not isinstance(payload, dict):
        payload = {"errorType": detail or "Runtime.Unknown", "errorMessage": body.decode("utf-8", "replace")}
    error_type = _text(payload.get("errorType")) or detail or "Runtime.Unknown"
    trace = payload.get("stackTrace")
    error = FunctionError(
        "marshal" if error_type == _MARSHAL_ERROR else "exception",
        error_type,
        _text(payload.get("errorMessage")),
        [_text(line) for line in trace] if isinstance(trace, list) else None,
    )
    return _Outcome(None, error, duration_ms, discard=False)


def _text(value: object) -> str:
    """A field of an error payload as text; the payload is the function's, so anything may be there."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int)):
        return str(value)
    return json_dumps(value) if isinstance(value, (float, Decimal)) else f"<{type(value).__name__}>"


def _init_failure(payload: Mapping[str, Any]) -> FunctionError:
    trace = payload.get("stackTrace")
    return FunctionError(
        "init",
        _text(payload.get("errorType")) or "Runtime.Unknown",
        _text(payload.get("errorMessage")),
        [_text(line) for line in trace] if isinstance(trace, list) else None,
    )


def _timed_out(seconds: float) -> FunctionError:
    return FunctionError("timeout", "Sandbox.Timedout", f"Task timed out after {seconds:.2f} seconds")


# -- the Runtime API server ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """The Runtime API of one sandbox on 127.0.0.1: a thread per connection, at most `MAX_CONNECTIONS`."""

    daemon_threads = True  # a /next long poll of a killed runtime must not keep the interpreter alive
    request_queue_size = 64  # the kernel's queue of connections not yet accepted (no thread, no memory of ours)

    def __init__(self, sandbox: _Sandbox) -> None:
        self.sandbox = sandbox
        self.connections = 0
        self.changed = threading.Condition()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.changed:
            full = self.connections >= MAX_CONNECTIONS
            if not full:
                self.connections += 1
        if full:
            self.shutdown_request(request)  # over the bound: closed at once, no thread started for it
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._closed_one()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed_one()

    def _closed_one(self) -> None:
        with self.changed:
            self.connections -= 1
            self.changed.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until no connection is being served; False if some still are after `timeout` seconds."""
        with self.changed:
            return self.changed.wait_for(lambda: self.connections == 0, timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A runtime killed mid-request breaks its connection: expected, and not worth a traceback."""


class _BadBody(Exception):
    """A request body that cannot be read (a malformed chunk, a bad Content-Length): answered with 400."""


class _TooLarge(Exception):
    """A request body over Lambda's 6 MB payload limit: it is not read."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


_LENGTH: Final = re.compile(r"[0-9]{1,15}")
_CHUNK_SIZE: Final = re.compile(rb"[0-9A-Fa-f]{1,15}")
_LINE_LIMIT: Final = 65536
_TRAILER_LIMIT: Final = 100


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1: keep-alive for the runtime's next poll, and `Expect: 100-continue` answered at once (with
    # HTTP/1.0 curl waits a second before sending a large response body).
    protocol_version = "HTTP/1.1"
    # The headers and the body of a /next answer are two writes: with Nagle's algorithm and the client's
    # delayed ACK, the body would wait ~40 ms on every warm invoke.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(UNTRUSTED_TIMEOUT)  # lifted once a request shows the sandbox's secret

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the function's own output is what the user reads."""

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # a bare "GET /path" line: no headers, no status line to send
            self.send_error(400, "HTTP/0.9 requests are not served")
            return False
        return True

    def handle_expect_100(self) -> bool:
        # Only the runtime is invited to send its body; anyone else gets their 403 without it.
        if self._has_secret():
            return super().handle_expect_100()
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Whatever a client sends, the answer is a 4xx with a status line: an unknown method is 405 (not
        # 501), an unknown HTTP version 400 (not 505), and a request line too broken to have a version is
        # answered in HTTP/1.1 (http.server would answer it as HTTP/0.9, a bare body). The connection closes.
        if code == 501:
            code = 405
        elif code >= 500:
            code = 400
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        super().send_error(code, message, explain)

    def _has_secret(self) -> bool:
        prefix = self.server.sandbox.prefix + "/"
        given = self.path[: len(prefix)]
        return len(given) == len(prefix) and hmac.compare_digest(given.encode("utf-8"), prefix.encode("utf-8"))

    def _route(self) -> str | None:
        """The Runtime API path of a request that carries the sandbox's secret prefix, or None."""
        if not self._has_secret():
            return None
        # The runtime itself: its keep-alive connection idles for as long as its handler runs.
        self.connection.settimeout(None)
        return self.path[len(self.server.sandbox.prefix) :]

    def do_GET(self) -> None:
        route = self._route()
        if route is None:
            self._refuse()
            return
        if route != _NEXT:
            self._reply(404, {"errorType": "NotFound", "errorMessage": f"no such Runtime API path: {route[:200]}"})
            return
        sandbox = self.server.sandbox
        taken = sandbox.next_call()
        if taken is None:  # the sandbox was destroyed while the runtime waited
            self.close_connection = True
            return
        call, remaining_ms = taken
        wall_now = _WALL.now_ms()
        wall_deadline = wall_now + remaining_ms
        epoch = wall_now // 1000
        trace = f"Root=1-{epoch:08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(call.body)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", call.request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(wall_deadline))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", sandbox.function_arn)
        self.send_header("Lambda-Runtime-Trace-Id", trace)
        self.end_headers()
        self.wfile.write(call.body)
        self.wfile.flush()

    def do_POST(self) -> None:
        route = self._route()
        trusted = route is not None
        if route is None:
            if self.path != _INIT_ERROR:  # awslambdaric posts init errors without the secret (see _LAUNCHER)
                self._refuse()
                return
            route = _INIT_ERROR
        sandbox = self.server.sandbox
        error_type = self.headers.get(_ERROR_TYPE_HEADER, "")[:200]
        if route == _INIT_ERROR:
            try:
                body = self._body()
            except _TooLarge as exc:
                body = _too_large_error(error_type, exc.size)
            except _BadBody as exc:
                self._reply(400, {"errorType": "InvalidRequest", "errorMessage": str(exc)}, close=True)
                return
            if sandbox.fail_init(body, error_type or "Runtime.Unknown", trusted=trusted):
                self._reply(202, {"status": "OK"}, close=not trusted)
            else:
                self._reply(403, {"errorType": "InvalidStateTransition", "errorMessage": "init is over"}, close=True)
            return
        request_id, _, action = route[len(_INVOCATION) :].partition("/")
        if not route.startswith(_INVOCATION) or action not in ("response", "error"):
            self._reply(404, {"errorType": "NotFound", "errorMessage": f"no such Runtime API path: {route[:200]}"})
            return
        detail = self.headers.get("Content-Type", "application/json") if action == "response" else error_type
        close = False
        try:
            body = self._body()
        except _TooLarge as exc:
            # Lambda refuses a payload over 6 MB; the invoke fails with Function.ResponseSizeTooLarge.
            close = True
            if action == "response":
                action, body, detail = "too-large", b"", str(exc.size)
            else:
                body = _too_large_error(error_type, exc.size)
        except _BadBody as exc:
            self._reply(400, {"errorType": "InvalidRequest", "errorMessage": str(exc)}, close=True)
            return
        if not sandbox.answer(request_id, action, body, detail):
            status = 413 if close else 400
            self._reply(status, {"errorType": "InvalidRequestID", "errorMessage": "no such invoke in progress"})
        elif close:
            self._reply(413, {"errorType": "RequestEntityTooLarge", "errorMessage": "over 6 MB"}, close=True)
        else:
            self._reply(202, {"status": "OK"})

    def _refuse(self) -> None:
        # Not the sandbox's runtime: refused before any body is read, and the connection is closed.
        self._reply(
            403,
            {"errorType": "Forbidden", "errorMessage": "this Runtime API serves only the runtime shardline started"},
            close=True,
        )

    def _body(self) -> bytes:
        """The request body, at most `RESPONSE_LIMIT` bytes of it (`_TooLarge` beyond, unread)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked_body()
        text = self.headers.get("Content-Length")
        if text is None:
            return b""
        if not _LENGTH.fullmatch(text.strip()):
            raise _BadBody("Content-Length is not a number of bytes")
        length = int(text.strip())
        if length > RESPONSE_LIMIT:
            raise _TooLarge(length)
        body = self.rfile.read(length)
        if len(body) < length:
            raise _BadBody("the body ended before its Content-Length")
        return body

    def _chunked_body(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(_LINE_LIMIT)
            size_text = line.split(b";")[0].strip()
            if not line.endswith(b"\n") or not _CHUNK_SIZE.fullmatch(size_text):
                raise _BadBody("a chunk size is not a hexadecimal number")
            size = int(size_text, 16)
            if size == 0:
                for _ in range(_TRAILER_LIMIT):
                    if self.rfile.readline(_LINE_LIMIT) in (b"\r\n", b"\n", b""):
                        return b"".join(parts)
                raise _BadBody("too many trailer lines")
            total += size
            if total > RESPONSE_LIMIT:
                raise _TooLarge(total)
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _BadBody("a chunk is shorter than its size")
            parts.append(chunk)

    def _reply(self, status: int, payload: Mapping[str, str], *, close: bool = False) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)


def _too_large_error(error_type: str, size: int) -> bytes:
    message = f"the error payload ({size} bytes) is over Lambda's {RESPONSE_LIMIT} byte limit"
    return json.dumps({"errorType": error_type or "Runtime.Unknown", "errorMessage": message}).encode("utf-8")


# -- checking the runtime is there ------------------------------------------------------------------------

_PROBE: Final = (
    "import importlib.util, sys; "
    "print(f'{sys.version_info[0]}.{sys.version_info[1]}', importlib.util.find_spec('awslambdaric') is not None)"
)


def _check_runtime(python: str, env: dict[str, str], *, this_interpreter: bool) -> str:
    """The interpreter's "3.X" version, after checking it can import awslambdaric; fails fast otherwise."""
    missing = (
        f"the Lambda runtime needs awslambdaric (AWS's runtime interface client) in {python}: "
        'install shardline with the cli extra, pip install "shardline[cli]"'
    )
    if this_interpreter:
        if importlib.util.find_spec("awslambdaric") is None:
            raise RuntimeInvokerError(missing)
        return f"{sys.version_info[0]}.{sys.version_info[1]}"
    try:
        probe = subprocess.run([python, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeInvokerError(
            f"cannot run the Python interpreter {python!r} for the Lambda runtime: {exc}"
        ) from exc
    version, _, found = probe.stdout.strip().partition(" ")
    if probe.returncode != 0 or found not in ("True", "False"):
        detail = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeInvokerError(f"{python} is not a usable Python interpreter for the Lambda runtime: {detail}")
    if found != "True":
        raise RuntimeInvokerError(missing)
    return version
