"""`shardline invoke`: run a Lambda handler on an event, locally, and explain what Lambda would do."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import click

from shardline._events import StreamEvent, sequence_numbers
from shardline._exceptions import ShardlineError, describe_exception
from shardline._handlers import HandlerLoadError, lambda_environment, load_handler, sam_environment
from shardline._json import json_dumps, json_loads
from shardline._response import interpret_response, marshal_response
from shardline.testing._context import LambdaContext

from ._io import (
    EVENT_LIMIT,
    LAMBDA_PAYLOAD_LIMIT,
    CLIError,
    describe_size,
    parse_json,
    printable,
    read_json,
    read_text,
    source_name,
)

# Lambda's limit on a synchronous invoke's response: 6 MB ("Lambda quotas", Invocation payload).
RESPONSE_LIMIT: Final = LAMBDA_PAYLOAD_LIMIT

EPILOG = """\b
Examples:
  shardline invoke app.lambda_handler --event event.json
  shardline invoke src/handlers/orders.py:handle --event - --timeout 10 < event.json
  shardline generate --count 5 | shardline invoke app.lambda_handler --event -
  shardline invoke app.lambda_handler --event event.json --env-vars env.json

\b
HANDLER is written as in a SAM template (module.function, relative to --code-dir) or as
module:function or path/to/file.py:function. The response goes to stdout as JSON; the function's own
output and shardline's summary go to stderr: the records, the failures reported, and what Lambda does
next (complete success, "resumes from sequence number X", or a complete failure and why).
--env-vars takes SAM's format: {"Parameters": {...}, "<function name>": {...}}; the variables under
"Parameters" and under the --function-name entry are set.
Exit status 0 when every record succeeded, 1 otherwise.
"""


@click.command(epilog=EPILOG, short_help="Run a Lambda handler on an event and explain the response.")
@click.argument("handler_spec", metavar="HANDLER")
@click.option(
    "--event", "event_source", required=True, metavar="FILE", help="The event ('-' for standard input; at most 64 MB)."
)
@click.option("--code-dir", default=".", show_default=True, metavar="DIR", help="Where the handler's code lives.")
@click.option("--timeout", type=click.FloatRange(0.001, 900), default=3.0, show_default=True, help="Seconds.")
@click.option("--memory", type=click.IntRange(128, 10240), default=128, show_default=True, help="MB.")
@click.option("--function-name", default=None, help="The function's name (default: from HANDLER).")
@click.option("--region", default=None, help="AWS Region (default: AWS_REGION, else us-east-1).")
@click.option("--env-vars", metavar="FILE", help="Environment variables, SAM's JSON format.")
@click.option(
    "--no-report-batch-item-failures",
    "no_partial",
    is_flag=True,
    help="Read the response as Lambda does when FunctionResponseTypes lacks ReportBatchItemFailures.",
)
def invoke(
    handler_spec: str,
    event_source: str,
    code_dir: str,
    timeout: float,
    memory: int,
    function_name: str | None,
    region: str | None,
    env_vars: str | None,
    no_partial: bool,
) -> int:
    """Run HANDLER on an event as Lambda would, and explain the response."""
    _check_option("HANDLER", handler_spec)
    _check_option("--function-name", function_name)
    _check_option("--region", region)
    event, size = read_json(event_source, limit=EVENT_LIMIT)
    if size > LAMBDA_PAYLOAD_LIMIT:
        click.echo(
            f"note: the event is {describe_size(size)}; a Lambda invoke carries at most"
            f" {describe_size(LAMBDA_PAYLOAD_LIMIT)}, so Lambda would never deliver it",
            err=True,
        )
    name = function_name or _default_name(handler_spec)
    environment = _environment(env_vars, name) if env_vars else {}
    region = region or environment.get("AWS_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    _prepare_environment(environment, name=name, region=region, memory=memory, timeout=timeout, spec=handler_spec)
    handler = _load_handler(handler_spec, Path(code_dir))
    context = LambdaContext(function_name=name, timeout=timeout, memory_mb=memory, region=region)

    numbers: list[str] | None
    try:
        numbers = sequence_numbers(StreamEvent(event).records)
    except Exception as exc:  # noqa: BLE001 - reading the batch only explains the response; the handler runs anyway
        numbers = None
        reason = printable(describe_exception(exc) if not isinstance(exc, ShardlineError) else str(exc))
        click.echo(
            f"note: the event is not a readable stream batch ({_cut(reason, 300)}); the response is not interpreted",
            err=True,
        )
    tumbling_window = isinstance(event, Mapping) and "window" in event  # before the handler can change the event

    outcome = _run(handler, event, context, timeout)
    response: Any = None
    error = outcome.error
    if error is None:
        response, error = _answer(outcome.response)
    else:
        _write_error(outcome.payload)
    sys.stdout.flush()

    count = "?" if numbers is None else str(len(numbers))
    click.echo(f"invoked {handler_spec} on {count} records in {outcome.duration * 1000:.1f} ms", err=True)
    if numbers is None:
        return 1 if error else 0
    verdict = interpret_response(
        response,
        numbers,
        report_batch_item_failures=not no_partial,
        tumbling_window=tumbling_window,
        function_error=error,
    )
    if verdict.reported:
        shown = ", ".join(_cut(str(number), 60) for number in verdict.reported[:5])
        shown += " ..." if len(verdict.reported) > 5 else ""
        plural = "s" if len(verdict.reported) != 1 else ""
        click.echo(f"reported {len(verdict.reported)} failed record{plural}: {shown}", err=True)
    label = {"success": "complete success", "partial": "partial failure", "failure": "complete failure"}[verdict.kind]
    click.echo(f"{label}: {printable(verdict.reason)}", err=True)
    return 0 if verdict.kind == "success" else 1


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _label(name: str) -> str:
    """A name from a file, for a message: as it is when it reads plainly, else quoted with its escapes (a name
    can hold a line break, a NUL or a lone surrogate, and a message is one printable line)."""
    if name and name.isprintable() and not any(char in name for char in ' ."[]'):
        return _cut(name, 60)
    return _cut(json.dumps(name), 60)


def _check_option(option: str, value: str | None) -> None:
    """What goes into the function's environment (its name, region, handler) must be text a process
    environment can hold: no NUL character, nothing that is not UTF-8 (a lone surrogate)."""
    if value is None:
        return
    if "\x00" in value:
        raise click.BadParameter("a NUL character cannot be part of it", param_hint=f"'{option}'")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise click.BadParameter("it holds characters that are not UTF-8 text", param_hint=f"'{option}'") from None


def _answer(response: Any) -> tuple[Any, str | None]:
    """Write what the handler returned as the runtime would (stdout), and read it back as Lambda reads it:
    the response to interpret, or the function error instead."""
    if isinstance(response, (bytes, bytearray)):
        # The runtime client posts bytes as they are (not as JSON): Lambda gets a body that is not an object.
        sys.stdout.write(bytes(response).decode("utf-8", "backslashreplace") + "\n")
        return bytes(response), None
    try:
        text = marshal_response(response)
        if len(text) > RESPONSE_LIMIT:  # json writes ASCII: characters are bytes
            error_type = "Function.ResponseSizeTooLarge"
            detail = (
                f"Response payload size ({len(text)} bytes) exceeded maximum allowed payload size"
                f" ({RESPONSE_LIMIT} bytes)."
            )
        else:
            sys.stdout.write(text + "\n")
            return json_loads(text, parse_float=Decimal), None  # what Lambda reads: plain JSON data
    except Exception as exc:  # noqa: BLE001 - whatever writing the value does (a set, a cycle, a deep list) fails the invoke
        error_type = "Runtime.MarshalError"
        detail = f"Unable to marshal response: {describe_exception(exc).partition(': ')[2] or type(exc).__name__}"
    _write_error({"errorMessage": detail, "errorType": error_type})
    return None, f"{error_type}: {detail}"


def _write_error(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")  # ensure_ascii: lone surrogates are written as escapes


def _default_name(spec: str) -> str:
    module = spec.split(":", 1)[0] if ":" in spec else spec.rpartition(".")[0]
    stem = Path(module.replace(".", "/")).stem if not module.endswith(".py") else Path(module).stem
    return stem.replace("_", "-") or "function"


def _environment(source: str, function_name: str) -> dict[str, str]:
    """SAM's --env-vars file: "Parameters" apply to every function, a function's own entry to it.

    Each variable is checked here, where the file can be named: a process environment holds text without NUL
    characters, under a non-empty name without "="; a value that is not text becomes its JSON text.
    """
    name = source_name(source)
    data = parse_json(read_text(source), source)
    if not isinstance(data, dict):
        raise CLIError(f'{name}: expected an object like {{"Parameters": {{"NAME": "value"}}}}')
    sections: dict[str, dict[str, str]] = {}
    for key in ("Parameters", function_name):
        section = data.get(key)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise CLIError(f'{name}: {_label(key)} must map variable names to values, like {{"TABLE": "orders"}}')
        sections[key] = {variable: _variable(name, key, variable, value) for variable, value in section.items()}
    return sam_environment(sections, function_name)


def _variable(file: str, section: str, variable: str, value: Any) -> str:
    where = f"{file}: {_label(section)}.{_label(variable)}"
    if not variable or "=" in variable or "\x00" in variable:
        raise CLIError(f"{where}: an environment variable's name is not empty and holds no '=' or NUL character")
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json_dumps(value)  # SAM writes a number or a boolean as its JSON text
        except (ValueError, RecursionError):
            raise CLIError(f"{where}: the value cannot be written as text; give a string") from None
    if "\x00" in text:
        raise CLIError(f"{where}: an environment variable cannot hold a NUL character")
    try:
        (variable + text).encode("utf-8")
    except UnicodeEncodeError:
        raise CLIError(f"{where}: holds characters that are not UTF-8 text (a lone surrogate)") from None
    return text


def _prepare_environment(
    environment: Mapping[str, str], *, name: str, region: str, memory: int, timeout: float, spec: str
) -> None:
    """What Lambda puts in a function's environment; the user's variables win."""
    defaults = lambda_environment(function_name=name, handler=spec, memory_mb=memory, region=region, task_root=".")
    for key in ("TZ", "LAMBDA_TASK_ROOT"):  # this process's own clock and folder stay as they are
        defaults.pop(key)
    try:
        for key, value in defaults.items():
            os.environ.setdefault(key, value)
        os.environ.update(environment)
    except (ValueError, OSError) as exc:  # what the operating system refuses despite the checks above
        raise CLIError(f"cannot set the function's environment: {describe_exception(exc)}") from None


def _load_handler(spec: str, code_dir: Path) -> Callable[..., Any]:
    if not code_dir.is_dir():
        raise CLIError(f"--code-dir {code_dir}: no such directory")
    try:
        return load_handler(spec, code_dir)
    except HandlerLoadError as exc:
        raise CLIError(str(exc)) from exc


@dataclass
class _Outcome:
    response: Any = None
    error: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # the error payload Lambda returns
    duration: float = 0.0


def _run(handler: Callable[..., Any], event: Any, context: LambdaContext, timeout: float) -> _Outcome:
    """Call the handler with Lambda's timeout; its prints go to stderr, keeping stdout for the response.

    Whatever it raises is a function error, as on Lambda: an exception is reported with its type and message
    (even one whose `str()` fails), `sys.exit()` and other `BaseException`\\s that are not exceptions end
    the runtime process (`Runtime.ExitError`).
    """
    outcome = _Outcome()

    def target() -> None:
        try:
            outcome.response = handler(event, context)
        except BaseException as exc:  # noqa: BLE001 - Lambda turns anything the function raises into an error
            outcome.error, outcome.payload = _function_error(exc, context)
            try:
                trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
            except Exception:  # noqa: BLE001 - the trace is a courtesy; a broken frame must not cost the error
                trace = describe_exception(exc)
            click.echo(printable(trace), err=True)

    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        worker = threading.Thread(target=target, name="handler", daemon=True)
        worker.start()
        worker.join(timeout)
    outcome.duration = time.perf_counter() - started
    if worker.is_alive():
        # Lambda stops a function at its timeout; a thread cannot be stopped, so the process ends here.
        message = f"Task timed out after {timeout:.2f} seconds"
        sys.stdout.write(json.dumps({"errorMessage": message, "errorType": "Sandbox.Timedout"}) + "\n")
        sys.stdout.flush()
        click.echo(
            f"complete failure: the function timed out after {timeout:g} s; Lambda retries the whole batch", err=True
        )
        sys.stderr.flush()
        os._exit(1)
    return outcome


def _function_error(exc: BaseException, context: LambdaContext) -> tuple[str, dict[str, Any]]:
    """The error Lambda reports for what the handler raised, as a summary and as the error payload."""
    if isinstance(exc, Exception):
        error_type, _, message = describe_exception(exc).partition(": ")
        try:
            stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        except Exception:  # noqa: BLE001 - see above
            stack = []
        payload = {"errorMessage": message, "errorType": error_type, "requestId": context.aws_request_id,
                   "stackTrace": stack}  # fmt: skip
        return f"the handler raised {describe_exception(exc)}", payload
    # awslambdaric catches Exception only: sys.exit() or any other BaseException ends the runtime process,
    # which Lambda reports as Runtime.ExitError.
    status = _exit_status(exc.code) if isinstance(exc, SystemExit) else 1
    message = f"RequestId: {context.aws_request_id} Error: Runtime exited with error: exit status {status}"
    payload = {"errorMessage": message, "errorType": "Runtime.ExitError"}
    return f"the runtime exited ({describe_exception(exc)}): Runtime.ExitError", payload


def _exit_status(code: object) -> int:
    """The status a process exits with for `sys.exit(code)`: 0 for None, the number, 1 for anything else."""
    if code is None:
        return 0
    if isinstance(code, int) and not isinstance(code, bool):
        return code % 256
    return 1
