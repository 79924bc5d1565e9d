"""``shardline invoke``: run a Lambda handler on an event, locally, and explain what Lambda would do."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from shardline._events import ShapeErrors, StreamEvent, sequence_numbers
from shardline._handlers import HandlerLoadError, lambda_environment, load_handler, sam_environment
from shardline._response import interpret_response, marshal_response
from shardline.testing._context import LambdaContext

from ._io import CLIError, read_json, read_text, source_name

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
@click.option("--event", "event_source", required=True, metavar="FILE", help="The event ('-' for standard input).")
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
    event, _ = read_json(event_source)
    name = function_name or _default_name(handler_spec)
    environment = _environment(env_vars, name) if env_vars else {}
    region = region or environment.get("AWS_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    _prepare_environment(environment, name=name, region=region, memory=memory, timeout=timeout, spec=handler_spec)
    handler = _load_handler(handler_spec, Path(code_dir))
    context = LambdaContext(function_name=name, timeout=timeout, memory_mb=memory, region=region)

    numbers: list[str] | None
    try:
        numbers = sequence_numbers(StreamEvent(event).records)
    except ShapeErrors as exc:
        numbers = None
        click.echo(f"note: the event is not a readable stream batch ({exc}); the response is not interpreted", err=True)

    outcome = _run(handler, event, context, timeout)
    response = outcome.get("response")
    error = outcome.get("error")
    if error is None:
        try:
            text = marshal_response(response)
        except (TypeError, ValueError) as exc:
            error = f"Runtime.MarshalError: Unable to marshal response: {exc}"
            outcome["payload"] = {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
            }
        else:
            sys.stdout.write(text + "\n")
    if error is not None:
        sys.stdout.write(json.dumps(outcome["payload"]) + "\n")
    sys.stdout.flush()

    count = "?" if numbers is None else str(len(numbers))
    click.echo(f"invoked {handler_spec} on {count} records in {outcome['duration'] * 1000:.1f} ms", err=True)
    if numbers is None:
        return 1 if error else 0
    verdict = interpret_response(
        response,
        numbers,
        report_batch_item_failures=not no_partial,
        tumbling_window=isinstance(event, Mapping) and "window" in event,
        function_error=error,
    )
    if verdict.reported:
        shown = ", ".join(verdict.reported[:5]) + (" ..." if len(verdict.reported) > 5 else "")
        plural = "s" if len(verdict.reported) != 1 else ""
        click.echo(f"reported {len(verdict.reported)} failed record{plural}: {shown}", err=True)
    label = {"success": "complete success", "partial": "partial failure", "failure": "complete failure"}[verdict.kind]
    click.echo(f"{label}: {verdict.reason}", err=True)
    return 0 if verdict.kind == "success" else 1


def _default_name(spec: str) -> str:
    module = spec.split(":", 1)[0] if ":" in spec else spec.rpartition(".")[0]
    stem = Path(module.replace(".", "/")).stem if not module.endswith(".py") else Path(module).stem
    return stem.replace("_", "-") or "function"


def _environment(source: str, function_name: str) -> dict[str, str]:
    """SAM's --env-vars file: "Parameters" apply to every function, a function's own entry to it."""
    from ._io import parse_json

    data = parse_json(read_text(source), source)
    if not isinstance(data, dict):
        raise CLIError(f'{source_name(source)}: expected an object like {{"Parameters": {{"NAME": "value"}}}}')
    try:
        return sam_environment(data, function_name)
    except ValueError as exc:
        raise CLIError(f"{source_name(source)}: {exc}") from None


def _prepare_environment(
    environment: Mapping[str, str], *, name: str, region: str, memory: int, timeout: float, spec: str
) -> None:
    """What Lambda puts in a function's environment; the user's variables win."""
    defaults = lambda_environment(function_name=name, handler=spec, memory_mb=memory, region=region, task_root=".")
    for key in ("TZ", "LAMBDA_TASK_ROOT"):  # this process's own clock and folder stay as they are
        defaults.pop(key)
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    os.environ.update(environment)


def _load_handler(spec: str, code_dir: Path) -> Callable[..., Any]:
    if not code_dir.is_dir():
        raise CLIError(f"--code-dir {code_dir}: no such directory")
    try:
        return load_handler(spec, code_dir)
    except HandlerLoadError as exc:
        raise CLIError(str(exc)) from exc


def _run(handler: Callable[..., Any], event: Any, context: LambdaContext, timeout: float) -> dict[str, Any]:
    """Call the handler with Lambda's timeout; its prints go to stderr, keeping stdout for the response."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["response"] = handler(event, context)
        except Exception as exc:  # noqa: BLE001 - Lambda turns it into a function error
            outcome["error"] = f"the handler raised {type(exc).__name__}: {exc}"
            outcome["payload"] = {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "requestId": context.aws_request_id,
                "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]),
            }
            click.echo("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip(), err=True)

    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        worker = threading.Thread(target=target, name="handler", daemon=True)
        worker.start()
        worker.join(timeout)
    outcome["duration"] = time.perf_counter() - started
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
