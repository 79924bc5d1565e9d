"""The Lambda runtime invoker: real awslambdaric processes talking to shardline's Runtime API.

Each test writes a handler module into tmp_path and runs it as Lambda would. The only waiting is the
invoker's own timeout (0.5 s in the timeout tests).
"""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import load_fixture

from shardline.local._runtime import RuntimeInvoker, RuntimeInvokerError
from shardline.testing import VirtualClock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="awslambdaric runs on Linux and macOS")


def write(directory: Path, name: str, source: str) -> None:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def output() -> io.StringIO:
    """Where the function's stdout and stderr go (read it after close(), when the copy is complete)."""
    return io.StringIO()


@pytest.fixture
def make(tmp_path: Path, output: io.StringIO) -> Iterator[Any]:
    """Build invokers on tmp_path; every one is closed at the end of the test."""
    made: list[RuntimeInvoker] = []

    def factory(handler: str = "app.handler", **options: Any) -> RuntimeInvoker:
        options.setdefault("code_dir", tmp_path)
        options.setdefault("stderr", output)
        invoker = RuntimeInvoker(handler, **options)
        made.append(invoker)
        return invoker

    yield factory
    for invoker in made:
        invoker.close()


def test_a_response_comes_back_and_the_runtime_stays_warm(tmp_path: Path, make: Any) -> None:
    write(
        tmp_path,
        "app.py",
        """
        import os, time
        def handler(event, context):
            time.sleep(event.get("pause", 0))  # work that takes a known minimum time
            return {"echo": event, "pid": os.getpid(), "ratio": 0.1}
        """,
    )
    invoker = make()
    assert invoker.cold_starts == 0  # nothing runs before the first invoke
    event = {"Records": [], "n": Decimal("12.50")}
    started = time.monotonic()
    first = invoker.invoke(event, deadline_ms=invoker.deadline_from_now())
    first_elapsed_ms = (time.monotonic() - started) * 1000
    started = time.monotonic()
    second = invoker.invoke({"Records": [], "pause": Decimal("0.05")}, deadline_ms=invoker.deadline_from_now())
    second_elapsed_ms = (time.monotonic() - started) * 1000

    assert first.error is None
    assert first.response["echo"] == {"Records": [], "n": 12.5}
    assert first.response["ratio"] == Decimal("0.1")  # parsed exactly, not as the float 0.1
    assert second.response["pid"] == first.response["pid"]
    assert invoker.cold_starts == 1
    assert first.request_id != second.request_id
    # The duration is measured on the monotonic clock (not the injectable one), from the runtime taking the event
    # to its answer: it lies inside the invoke call, and covers the handler's 50 ms of work, in milliseconds.
    assert 0 < first.duration_ms <= first_elapsed_ms
    assert 50 <= second.duration_ms <= second_elapsed_ms


def test_a_partial_batch_response(tmp_path: Path, make: Any, sam_event: dict[str, Any]) -> None:
    write(
        tmp_path,
        "app.py",
        """
        def handler(event, context):
            failed = [r["dynamodb"]["SequenceNumber"] for r in event["Records"] if r["eventName"] == "MODIFY"]
            return {"batchItemFailures": [{"itemIdentifier": number} for number in failed]}
        """,
    )
    invoker = make()
    invocation = invoker.invoke(sam_event, deadline_ms=invoker.deadline_from_now())

    modify = next(record for record in sam_event["Records"] if record["eventName"] == "MODIFY")
    assert invocation.error is None
    assert invocation.response == {"batchItemFailures": [{"itemIdentifier": modify["dynamodb"]["SequenceNumber"]}]}


def test_a_handler_exception_is_a_function_error_and_keeps_the_runtime_warm(
    tmp_path: Path, make: Any, output: io.StringIO
) -> None:
    write(
        tmp_path,
        "app.py",
        """
        def handler(event, context):
            if event.get("fail"):
                raise ValueError("bad record 42")
            return None
        """,
    )
    invoker = make()
    failed = invoker.invoke({"fail": True}, deadline_ms=invoker.deadline_from_now())
    after = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())
    invoker.close()

    assert failed.failed
    assert failed.error is not None
    assert (failed.error.kind, failed.error.error_type, failed.error.message) == (
        "exception",
        "ValueError",
        "bad record 42",
    )
    assert any("app.py" in line and "in handler" in line for line in failed.error.trace)
    assert after.error is None
    assert after.response is None
    assert invoker.cold_starts == 1
    # the runtime's error log entry, its lines separated by newlines rather than CloudWatch's carriage returns
    assert "[ERROR] ValueError: bad record 42\nTraceback (most recent call last):\n" in output.getvalue()
    assert "\r" not in output.getvalue()


def test_an_init_error_is_reported_and_every_invoke_retries_the_init(tmp_path: Path, make: Any) -> None:
    write(tmp_path, "app.py", "raise RuntimeError('no config at import time')\n")
    invoker = make()
    first = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())
    second = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())

    for invocation in (first, second):
        assert invocation.error is not None
        assert invocation.error.kind == "init"
        assert invocation.error.error_type == "RuntimeError"
        assert invocation.error.message == "no config at import time"
    assert invoker.cold_starts == 2

    write(tmp_path, "app.py", "def handler(event, context):\n    return {'fixed': True}\n")
    fixed = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())
    assert fixed.error is None
    assert fixed.response == {"fixed": True}
    assert invoker.cold_starts == 3


def test_a_handler_that_cannot_be_found_is_the_runtime_s_own_init_error(tmp_path: Path, make: Any) -> None:
    write(tmp_path, "functions/orders/app.py", "def handler(event, context):\n    return 1\n")
    missing = make("nowhere.handler")
    nested = make("functions/orders/app.handler")
    missing_module = missing.invoke({}, deadline_ms=missing.deadline_from_now())
    found = nested.invoke({}, deadline_ms=nested.deadline_from_now())

    assert missing_module.error is not None
    assert (missing_module.error.kind, missing_module.error.error_type) == ("init", "Runtime.ImportModuleError")
    assert missing_module.error.message.startswith("Unable to import module 'nowhere'")
    assert found.response == 1  # SAM's folder/module.function form


def test_a_response_json_cannot_carry_is_a_marshal_error(tmp_path: Path, make: Any) -> None:
    write(
        tmp_path,
        "app.py",
        """
        def handler(event, context):
            return {"seen": {"a", "b"}} if event.get("set") else {"ok": True}
        """,
    )
    invoker = make()
    invocation = invoker.invoke({"set": True}, deadline_ms=invoker.deadline_from_now())
    after = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())

    assert invocation.error is not None
    assert (invocation.error.kind, invocation.error.error_type) == ("marshal", "Runtime.MarshalError")
    assert invocation.error.message.startswith("Unable to marshal response:")
    assert invocation.response is None
    assert after.response == {"ok": True}
    assert invoker.cold_starts == 1


def test_a_timeout_kills_the_runtime_and_the_next_invoke_is_a_cold_start(tmp_path: Path, make: Any) -> None:
    write(
        tmp_path,
        "app.py",
        """
        import os, threading
        def handler(event, context):
            if event.get("hang"):
                threading.Event().wait()
            return {"pid": os.getpid()}
        """,
    )
    invoker = make(timeout=0.5)
    warm = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())
    hung = invoker.invoke({"hang": True}, deadline_ms=invoker.deadline_from_now())

    assert hung.error is not None
    assert (hung.error.kind, hung.error.error_type) == ("timeout", "Sandbox.Timedout")
    assert hung.error.message == "Task timed out after 0.50 seconds"
    assert hung.duration_ms >= 490  # the budget is deadline_ms less the clock at the call: a millisecond may pass
    with pytest.raises(ProcessLookupError):
        os.kill(warm.response["pid"], 0)  # killed and reaped, not left running in the background

    cold = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())
    assert cold.error is None
    assert cold.response["pid"] != warm.response["pid"]
    assert invoker.cold_starts == 2


def test_a_runtime_that_exits_mid_invoke_is_an_init_failure(tmp_path: Path, make: Any) -> None:
    write(
        tmp_path,
        "app.py",
        """
        import os
        def handler(event, context):
            if event.get("exit"):
                os._exit(3)
            return "alive"
        """,
    )
    invoker = make()
    invocation = invoker.invoke({"exit": True}, deadline_ms=invoker.deadline_from_now())
    after = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())

    assert invocation.error is not None
    assert (invocation.error.kind, invocation.error.error_type) == ("init", "Runtime.ExitError")
    assert invocation.error.message == (
        f"RequestId: {invocation.request_id} Error: Runtime exited with error: exit status 3"
    )
    assert after.response == "alive"
    assert invoker.cold_starts == 2


def test_the_handler_sees_lambda_s_environment_and_the_function_s_variables(
    tmp_path: Path, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        "app.py",
        """
        import os
        def handler(event, context):
            return {name: os.environ.get(name) for name in event["names"]}
        """,
    )
    monkeypatch.setenv("SHARDLINE_TEST_HOST_ONLY", "leaked")
    invoker = make(
        function_name="orders-stream",
        memory_mb=256,
        region="eu-central-1",
        environment={
            "TABLE_NAME": "Orders",
            "AWS_DEFAULT_REGION": "eu-west-1",  # the function's own values win over Lambda's defaults...
            "AWS_LAMBDA_RUNTIME_API": "example.invalid:1",  # ...except the address of the Runtime API
        },
    )
    names = [
        "TABLE_NAME",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "_HANDLER",
        "TZ",
        "SHARDLINE_TEST_HOST_ONLY",
    ]
    env = invoker.invoke({"names": names}, deadline_ms=invoker.deadline_from_now()).response

    assert env["TABLE_NAME"] == "Orders"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "orders-stream"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == "eu-central-1"
    assert env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/orders-stream"
    assert "/[$LATEST]" in env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path.resolve())
    assert env["_HANDLER"] == "app.handler"
    assert env["TZ"] == ":UTC"
    assert env["SHARDLINE_TEST_HOST_ONLY"] is None  # the developer's shell does not leak in


def test_the_context_is_the_runtime_s_own(tmp_path: Path, make: Any) -> None:
    write(
        tmp_path,
        "app.py",
        """
        def handler(event, context):
            return {
                "remaining": context.get_remaining_time_in_millis(),
                "function_name": context.function_name,
                "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb,
                "request_id": context.aws_request_id,
                "type": type(context).__module__,
            }
        """,
    )
    # A virtual clock far from the wall clock: the deadline the runtime sees is still real time.
    clock = VirtualClock("2026-11-27T06:00:00Z")
    invoker = make(function_name="orders-stream", memory_mb=512, timeout=6, clock=clock)
    invocation = invoker.invoke({}, deadline_ms=clock.now_ms() + 6000)
    context = invocation.response

    assert 0 < context["remaining"] <= 6000
    assert context["function_name"] == "orders-stream"
    assert context["arn"] == invoker.function_arn == "arn:aws:lambda:us-east-1:123456789012:function:orders-stream"
    assert context["memory"] == "512"
    assert context["request_id"] == invocation.request_id
    assert context["type"] == "awslambdaric.lambda_context"


def test_the_function_s_output_never_reaches_our_stdout(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], make: Any
) -> None:
    write(
        tmp_path,
        "app.py",
        """
        import logging, sys
        print("printed at import")
        def handler(event, context):
            print("printed by the handler")
            sys.stderr.write("written to stderr\\n")
            logging.getLogger().warning("logged")
            return {}
        """,
    )
    invoker = make(stderr=None)  # the default: sys.stderr
    invoker.invoke({}, deadline_ms=invoker.deadline_from_now())
    invoker.close()  # the output copy is complete once the process is gone

    out, err = capfd.readouterr()
    assert out == ""
    for line in ("printed at import", "printed by the handler", "written to stderr", "logged"):
        assert line in err


def test_a_deadline_already_passed_runs_nothing(tmp_path: Path, make: Any) -> None:
    write(tmp_path, "app.py", "def handler(event, context):\n    return 1\n")
    clock = VirtualClock()
    invoker = make(clock=clock)
    invocation = invoker.invoke({}, deadline_ms=clock.now_ms())

    assert invocation.error is not None
    assert invocation.error.kind == "timeout"
    assert invoker.cold_starts == 0


def test_close_stops_the_runtime_and_refuses_further_invokes(tmp_path: Path, make: Any) -> None:
    write(tmp_path, "app.py", "import os\ndef handler(event, context):\n    return os.getpid()\n")
    with make() as invoker:
        pid = invoker.invoke({}, deadline_ms=invoker.deadline_from_now()).response
        assert "warm" in repr(invoker)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    invoker.close()  # idempotent
    assert "closed" in repr(invoker)
    with pytest.raises(RuntimeInvokerError, match=r"^the runtime invoker of function function is closed$"):
        invoker.invoke({}, deadline_ms=invoker.deadline_from_now())


def test_an_interpreter_without_awslambdaric_names_the_cli_extra(tmp_path: Path) -> None:
    bare = tmp_path / "python-without-site-packages"
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n', encoding="utf-8")
    bare.chmod(0o755)
    with pytest.raises(RuntimeInvokerError, match=r'awslambdaric .* pip install "shardline\[cli\]"$'):
        RuntimeInvoker("app.handler", code_dir=tmp_path, python=str(bare))


def test_configuration_errors_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(RuntimeInvokerError, match=r"^cannot run the Python interpreter '/nonexistent/python3'"):
        RuntimeInvoker("app.handler", code_dir=tmp_path, python="/nonexistent/python3")
    with pytest.raises(FileNotFoundError, match=r"^function orders: code_dir .*missing is not a directory"):
        RuntimeInvoker("app.handler", code_dir=tmp_path / "missing", function_name="orders")
    with pytest.raises(ValueError, match=r"^timeout must be a positive number of seconds, got 0$"):
        RuntimeInvoker("app.handler", code_dir=tmp_path, timeout=0)
    with pytest.raises(TypeError, match=r"^environment variable 'PORT' of function function must be a str, got 8080$"):
        RuntimeInvoker("app.handler", code_dir=tmp_path, environment={"PORT": 8080})  # type: ignore[dict-item]


def test_the_response_keeps_exact_numbers(tmp_path: Path, make: Any) -> None:
    write(
        tmp_path,
        "app.py",
        """
        from decimal import Decimal
        def handler(event, context):
            return {"total": Decimal("12345678901234567890.123456789012345678"), "count": 3}
        """,
    )
    invoker = make()
    response = invoker.invoke({}, deadline_ms=invoker.deadline_from_now()).response
    assert response == {"total": Decimal("12345678901234567890.123456789012345678"), "count": 3}
    assert json.dumps(response["count"]) == "3"  # integers stay int


def test_an_init_that_never_finishes_times_out(tmp_path: Path, make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lambda gives the init phase 10 s, then retries it inside the invoke's own timeout ("suppressed init").
    # A shorter init limit keeps the test quick: the init overruns it, then the 0.5 s timeout.
    monkeypatch.setattr("shardline.local._runtime.INIT_LIMIT", 0.1)
    write(tmp_path, "app.py", "import threading\nthreading.Event().wait()\n")
    invoker = make(timeout=0.5)
    invocation = invoker.invoke({}, deadline_ms=invoker.deadline_from_now())

    assert invocation.error is not None
    assert (invocation.error.kind, invocation.error.message) == ("timeout", "Task timed out after 0.50 seconds")
    assert invoker.cold_starts == 1
    assert "(cold)" in repr(invoker)  # the hung process is gone; the next invoke starts a new one


def test_bytes_a_handler_returns_come_back_as_bytes(tmp_path: Path, make: Any) -> None:
    write(tmp_path, "app.py", "def handler(event, context):\n    return b'\\x00raw'\n")
    invoker = make()
    assert invoker.invoke({}, deadline_ms=invoker.deadline_from_now()).response == b"\x00raw"


# -- whatever a function returns or raises, in-process and under the runtime alike ---------------------------

ODD_HANDLERS = """
import math
from decimal import Decimal


class BrokenStr(Exception):
    def __str__(self):
        raise RuntimeError("str() is broken")


class Custom(BaseException):
    pass


class BadRepr:
    def __repr__(self):
        raise RuntimeError("repr() is broken")


def deep():
    value = []
    for _ in range(5000):
        value = [value]
    return value


def handler(event, context):
    case = event["case"]
    if case == "deep":
        return deep()
    if case == "broken-str":
        raise BrokenStr()
    if case == "generator-exit":
        raise GeneratorExit("closed")
    if case == "custom-base-exception":
        raise Custom("not an Exception")
    if case == "exit":
        raise SystemExit(4)
    if case == "set":
        return {"seen": {1, 2}}
    if case == "bytes":
        return b"\\x00raw"
    if case == "decimal":
        return {"batchItemFailures": [], "total": Decimal("12345678901234567890.5")}
    if case == "nan":
        return {"value": math.nan}
    if case == "decimal-nan":
        return [Decimal("NaN")]
    if case == "bad-repr":
        return BadRepr()
    if case == "huge":
        return "x" * (6 * 1024 * 1024 + 1)
    if case == "odd-failures":
        return {"batchItemFailures": [{"itemIdentifier": [1]}, 5, None]}
    if case == "tuple":
        return ("a", 1)
    return None
"""

#: (case, function error type or None, type of the response Lambda reads when there is no error)
ODD_CASES = [
    ("deep", "Runtime.MarshalError", None),
    ("generator-exit", "Runtime.ExitError", None),
    ("custom-base-exception", "Runtime.ExitError", None),
    ("exit", "Runtime.ExitError", None),
    ("set", "Runtime.MarshalError", None),
    ("bytes", None, bytes),
    ("decimal", None, dict),
    ("nan", None, bytes),  # the runtime writes NaN, which no JSON reader takes: the body is not an object
    ("decimal-nan", None, bytes),
    ("bad-repr", "Runtime.MarshalError", None),
    ("huge", "Function.ResponseSizeTooLarge", None),
    ("odd-failures", None, dict),
    ("tuple", None, list),
]


def load_module(path: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_shardline_odd_handlers", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_odd_answers_are_the_same_in_process_and_under_the_runtime(tmp_path: Path, make: Any) -> None:
    from shardline._response import interpret_response
    from shardline.local import InProcessInvoker

    write(tmp_path, "app.py", ODD_HANDLERS)
    runtime = make()
    in_process = InProcessInvoker(load_module(tmp_path / "app.py").handler, clock=VirtualClock())
    for case, error_type, response_type in ODD_CASES:
        seen = []
        for invoker in (in_process, runtime):
            invocation = invoker.invoke({"case": case}, deadline_ms=invoker.deadline_from_now())
            error = invocation.error
            assert (error.error_type if error else None) == error_type, (case, invoker, error)
            if response_type is not None:
                assert type(invocation.response) is response_type, (case, invoker, invocation.response)
            verdict = interpret_response(invocation.response, ["111"], function_error=str(error) if error else None)
            seen.append((verdict.kind, verdict.function_error, invocation.response))
        assert seen[0] == seen[1], case


def test_an_exception_whose_str_raises_is_a_function_error_under_both_invokers(tmp_path: Path, make: Any) -> None:
    from shardline.local import InProcessInvoker

    write(tmp_path, "app.py", ODD_HANDLERS)
    runtime = make()
    in_process = InProcessInvoker(load_module(tmp_path / "app.py").handler, clock=VirtualClock())
    here = in_process.invoke({"case": "broken-str"}, deadline_ms=in_process.deadline_from_now())
    there = runtime.invoke({"case": "broken-str"}, deadline_ms=runtime.deadline_from_now())
    assert here.error is not None
    assert str(here.error) == "BrokenStr: <the exception's str() raised>"
    # awslambdaric formats the exception with str() and dies of it: the runtime process exits.
    assert there.error is not None
    assert there.error.error_type == "Runtime.ExitError"
    after = runtime.invoke({"case": "decimal"}, deadline_ms=runtime.deadline_from_now())
    assert after.error is None  # a new runtime process took over


def test_the_last_exception_the_function_logged_is_remembered(tmp_path: Path, make: Any, output: io.StringIO) -> None:
    write(
        tmp_path,
        "app.py",
        """
        from shardline import batch_handler

        @batch_handler
        def handler(record):
            raise ValueError(f"cannot price {record.sequence_number}")
        """,
    )
    invoker = make()
    event = {"Records": load_fixture("sam-dynamodb-update.json")["Records"][:1]}
    invocation = invoker.invoke(event, deadline_ms=invoker.deadline_from_now())
    invoker.close()  # the output copy is complete once the process is gone

    number = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert invocation.response == {"batchItemFailures": [{"itemIdentifier": number}]}
    assert invoker.output.last_exception == f"ValueError: cannot price {number}"
    assert f"ValueError: cannot price {number}" in output.getvalue()


def test_a_line_and_its_newline_written_apart_make_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # A function's print() can reach the pump as its text, then its newline; the pump ends a chunk without a line
    # end itself (runtime log entries come that way), so the newline that follows must not make an empty line.
    from types import SimpleNamespace

    from shardline.local import _runtime

    chunks = iter([b"invoice 1", b"\n", b"entry\r", b"\n", b"last", b""])
    monkeypatch.setattr(_runtime, "os", SimpleNamespace(read=lambda fd, size: next(chunks)))
    output = io.StringIO()
    source: Any = SimpleNamespace(fileno=lambda: 3, close=lambda: None)
    _runtime._pump(source, SimpleNamespace(stream=output))  # type: ignore[arg-type]
    assert output.getvalue() == "invoice 1\nentry\nlast\n"
