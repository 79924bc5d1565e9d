"""`shardline run`: the whole pipeline from your SAM template, functions under AWS's runtime client."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from shardline._exceptions import ShardlineError

from ._health import remote_summary
from ._io import CLIError, parse_json, printable, read_text
from ._local import open_store, state_option
from .serve import client_url, endpoint_options, missing_configuration, serving

EPILOG = """\b
Examples:
  shardline run                                   template.yaml in this folder, every stream mapping
  shardline run --template infra/template.yaml --function OrdersFunction
  shardline run --env-vars env.json --parameter-overrides Stage=dev
  shardline run --port 0                          the DynamoDB endpoint on a free port (printed)
  shardline run --remote --profile staging --parameter-overrides OrdersStream=arn:aws:dynamodb:...
  shardline table put Orders '{"pk": "order#1", "status": "NEW"}'    (in another terminal)
  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 python app.py      (your app, in another terminal)

\b
Reads AWS::Serverless::Function resources with DynamoDB events, AWS::Lambda::EventSourceMapping and
AWS::DynamoDB::Table; creates the tables in the state database; runs every mapping with Lambda's
semantics (batching, filters, partial batch responses, retries, bisect, record age, tumbling windows,
destinations); invokes each function under AWS's runtime interface client (awslambdaric) in a warm
process. Writes from other processes to the same --state reach the mappings within milliseconds.
Checkpoints are durable: stop and start again, nothing is skipped or replayed.

\b
A mapping whose Stream is a stream ARN (written out, or a parameter) rather than a table of the
template is read where it lives with --remote: on AWS (--region, --profile) or an emulator
(--endpoint-url), through boto3 (pip install "shardline[aws]"), next to the local tables. Its
checkpoints are kept under the mapping's name and the stream's ARN, so a later run resumes.
Throttling, server and network errors are retried with backoff: a line says when a mapping's reads
start waiting and why, when the cause changes and when they go on again; the summary at the end
gives each remote stream's calls and retries by cause.

\b
It also serves the tables as a DynamoDB and DynamoDB Streams endpoint on 127.0.0.1:8000 (--port,
--host, --no-endpoint; see `shardline serve --help`). The functions get AWS_ENDPOINT_URL_DYNAMODB and
AWS_ENDPOINT_URL_DYNAMODB_STREAMS pointing at it (and a region and dummy credentials when they have
none), so their boto3 clients write to the local tables; the template's Environment and --env-vars win.

\b
Exit status: 0; 1 for an error, or with --until-idle when a record went to the on-failure destination
(or a tumbling window was dropped); 130 after Ctrl-C, 143 after SIGTERM (checkpoints kept, runtime
processes stopped, the summary printed).
"""


@click.command(epilog=EPILOG, short_help="Run your template's stream mappings locally.")
@click.option("--template", "template_path", metavar="FILE", help="The SAM template (default: template.yaml here).")
@click.option("--function", "function", metavar="LOGICAL_ID", help="Run only this function's mappings.")
@state_option
@click.option("--env-vars", metavar="FILE", help="Environment variables, SAM's JSON format.")
@click.option("--parameter-overrides", multiple=True, metavar="KEY=VALUE", help="Template parameters.")
@click.option(
    "--invoker",
    type=click.Choice(["runtime", "in-process"]),
    default="runtime",
    show_default=True,
    help="Run functions under awslambdaric (as Lambda does) or call them in this process.",
)
@click.option(
    "--endpoint-url",
    metavar="URL",
    help="Where SQS/SNS/S3 destinations are sent and, with --remote, streams read (LocalStack, moto, AWS).",
)
@click.option("--remote", is_flag=True, help="Read mappings on stream ARNs outside the template, through boto3.")
@click.option("--region", metavar="REGION", help="With --remote: the Region of the streams' boto3 clients.")
@click.option("--profile", metavar="NAME", help="With --remote: the AWS profile of the streams' boto3 clients.")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Stop once every mapping has caught up; exit 1 if a record went to the destination (scripts, CI).",
)
@click.option("--plain", is_flag=True, help="Plain log lines even on a terminal.")
@endpoint_options
@click.option("--no-endpoint", is_flag=True, help="Do not serve the DynamoDB endpoint.")
@click.pass_context
def run(
    ctx: click.Context,
    template_path: str | None,
    function: str | None,
    state: str,
    env_vars: str | None,
    parameter_overrides: tuple[str, ...],
    invoker: str,
    endpoint_url: str | None,
    remote: bool,
    region: str | None,
    profile: str | None,
    until_idle: bool,
    plain: bool,
    host: str,
    port: int,
    no_endpoint: bool,
) -> int:
    """Run the stream mappings of a SAM template against the local tables."""
    from shardline.local._template import TemplateError, find_template, load_template

    if no_endpoint:
        given = [
            f"--{name}"
            for name in ("host", "port")
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            verb = "configure" if len(given) > 1 else "configures"
            raise click.UsageError(f"{' and '.join(given)} {verb} the endpoint, which --no-endpoint turns off")
    if not remote and (region is not None or profile is not None):
        named = [name for name, value in (("--region", region), ("--profile", profile)) if value is not None]
        verb = "configure" if len(named) > 1 else "configures"
        raise click.UsageError(f"{' and '.join(named)} {verb} the clients of remote streams: add --remote")
    overrides = parse_overrides(parameter_overrides)
    variables = _env_vars(env_vars) if env_vars else None
    try:
        path = Path(template_path) if template_path else find_template(".")
        template = load_template(path, parameter_overrides=overrides, remote=remote)
    except TemplateError as exc:
        raise CLIError(str(exc)) from None
    for warning in template.warnings:
        click.echo(f"warning: {warning}", err=True)
    if no_endpoint:
        click.echo(
            "note: --no-endpoint: the functions' DynamoDB clients reach AWS, unless their Environment or --env-vars"
            " sets AWS_ENDPOINT_URL_DYNAMODB",
            err=True,
        )
    shell = dict(os.environ)  # before in-process functions set their variables here
    live = not plain and not until_idle and sys.stderr.isatty()
    log_path = Path(state).expanduser().parent / "functions.log"
    stop = StopSignals()
    with stop:
        try:
            with (
                open_store(state) as store,
                _function_output(log_path if live else None) as output,
                _endpoint(store, host=host, port=port, enabled=not no_endpoint, log=output) as dynamodb_endpoint,
            ):
                return _serve(
                    template,
                    store,
                    stop,
                    function=function,
                    env_vars=variables,
                    invoker=invoker,
                    endpoint_url=endpoint_url,
                    output=output,
                    until_idle=until_idle,
                    live=live,
                    log_path=log_path,
                    dynamodb_endpoint=dynamodb_endpoint,
                    shell=shell,
                    remote=(
                        {"endpoint_url": endpoint_url, "region_name": region, "profile_name": profile}
                        if remote
                        else None
                    ),
                )
        except KeyboardInterrupt:  # before the mappings ran: nothing was started, nothing to save
            click.echo(f"stopped by {stop.name}", err=True)
            return stop.status


def _serve(
    template: Any,
    store: Any,
    stop: StopSignals,
    *,
    function: str | None,
    env_vars: dict[str, Any] | None,
    invoker: str,
    endpoint_url: str | None,
    output: TextIO | None,
    until_idle: bool,
    live: bool,
    log_path: Path,
    dynamodb_endpoint: str | None = None,
    shell: dict[str, str] | None = None,
    remote: dict[str, str | None] | None = None,
) -> int:
    from shardline.local._runner import build_pipeline, stale_botocore

    from ._dashboard import Dashboard

    try:
        pipeline, invokers = build_pipeline(
            template,
            store,
            only_function=function,
            env_vars=env_vars,
            invoker=invoker,
            endpoint_url=endpoint_url,
            output=output,
            history=_HISTORY,
            dynamodb_endpoint=dynamodb_endpoint,
            remote=remote,
        )
    except ShardlineError as exc:  # a template the store cannot hold, a Handler that is not there
        raise CLIError(str(exc)) from None
    width = shutil.get_terminal_size().columns
    for mapping in pipeline.mappings:
        click.echo(_describe_mapping(mapping, width), err=True)
        arn = getattr(mapping.destination, "arn", None)
        if arn is not None and endpoint_url is None:
            # boto3 sends these with your credentials: say so before a record goes to a real queue by surprise.
            click.echo(
                printable(f"    on-failure records go to {arn} on AWS (--endpoint-url sends them elsewhere)"), err=True
            )
    if dynamodb_endpoint is not None:
        mapped = dict.fromkeys(m.function for m in template.mappings if function is None or m.function == function)
        for name in mapped:
            problem = stale_botocore(template.functions[name])
            if problem is not None:
                click.echo(f"warning: {problem}", err=True)
        # What the app needs, from the shell run was started in: the Region and credentials boto3 signs with.
        missing = missing_configuration(
            shell if shell is not None else os.environ, region=getattr(store, "region", "us-east-1")
        )
        prefix = "".join(f"{name}={value} " for name, value in missing.items())
        click.echo(
            f"endpoint: DynamoDB and DynamoDB Streams at {dynamodb_endpoint}; the functions get"
            f" AWS_ENDPOINT_URL_DYNAMODB, your app: AWS_ENDPOINT_URL_DYNAMODB={dynamodb_endpoint}"
            f" {prefix}python app.py",
            err=True,
        )
    failure: ShardlineError | None = None
    interrupted = False
    dashboard: Any = None
    try:
        dashboard = Dashboard(pipeline, live=live, critical=stop.deferred)
        if live:
            serving_at = f"DynamoDB at {dynamodb_endpoint}; " if dynamodb_endpoint else ""
            dashboard.title = f"shardline run: {serving_at}Ctrl-C to stop (function output: {log_path})"

        def stopping() -> bool:
            dashboard.refresh()  # the live table, and a line when a remote stream starts or stops waiting
            return stop.requested()

        if until_idle:
            pipeline.run_until_idle(stop=stopping)
        else:
            pipeline.run(stopping)
    except KeyboardInterrupt:
        interrupted = True
    except ShardlineError as exc:  # a destination that refuses records, a state database gone bad...
        failure = exc
    finally:
        stop.ignore()  # the clean-up is short and bounded; a second Ctrl-C must not leave runtimes behind
        try:
            if dashboard is not None:
                dashboard.close()
        finally:
            for each in invokers:  # the runtime processes (their process groups) are stopped
                close = getattr(each, "close", None)
                if close is not None:
                    close()
    totals = _summary(pipeline)
    if interrupted or stop.requested():
        click.echo(f"stopped by {stop.name}: checkpoints are saved; run again to continue", err=True)
        return stop.status
    if failure is not None:
        raise CLIError(str(failure)) from None  # after the summary: what was done is saved
    reasons = []
    if totals["failed"]:
        count = totals["failed"]
        reasons.append(f"{count} record{'s' if count != 1 else ''} went to the on-failure destination")
    if totals["windows_dropped"]:
        count = totals["windows_dropped"]
        reasons.append(f"{count} tumbling window{'s' if count != 1 else ''} dropped: the final invoke kept failing")
    if reasons and until_idle:
        click.echo(f"failed: {'; '.join(reasons)} (exit status 1)", err=True)
        return 1
    return 0


#: What a serving pipeline keeps of its invocations and destination records (the counts are kept in full).
_HISTORY = 1000


def parse_overrides(parameter_overrides: tuple[str, ...]) -> dict[str, str]:
    """`--parameter-overrides KEY=VALUE ...` as a dict; anything else is a usage error."""
    overrides = {}
    for text in parameter_overrides:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise click.UsageError(f"--parameter-overrides {text!r}: expected KEY=VALUE")
        overrides[name] = value
    return overrides


@contextlib.contextmanager
def _endpoint(store: Any, *, host: str, port: int, enabled: bool, log: TextIO | None) -> Iterator[str | None]:
    """The DynamoDB endpoint over the store the mappings read, for the whole run; its URL (None when off).
    The endpoint's own failures are logged to `log` (functions.log under the live table) or stderr."""
    if not enabled:
        yield None
        return
    with serving(store, host=host, port=port, log=log) as endpoint:
        yield client_url(endpoint)  # announced once the pipeline is built: a template error comes alone


@contextlib.contextmanager
def _function_output(path: Path | None) -> Iterator[TextIO | None]:
    """Where the functions' own output goes: stderr, or a log file while the live table owns the terminal."""
    if path is None:
        yield None
        return
    with path.open("a", encoding="utf-8") as handle:
        yield handle


def _env_vars(source: str) -> dict[str, Any]:
    data = parse_json(read_text(source), source)
    if not isinstance(data, dict):
        raise CLIError(f'{source}: expected SAM\'s format, {{"Parameters": {{"NAME": "value"}}, "Function": {{...}}}}')
    return data


def _summary(pipeline: Any) -> dict[str, int]:
    totals: dict[str, int] = {}
    for shards in pipeline.metrics().values():
        for metrics in shards.values():
            for name, value in metrics.items():
                if name != "iterator_age_ms":
                    totals[name] = totals.get(name, 0) + value
    click.echo(
        "summary: "
        + json.dumps(
            {
                "invocations": pipeline.invocation_count,
                "records_in": totals.get("records_in", 0),
                "delivered": totals.get("delivered", 0),
                "filtered": totals.get("filtered", 0),
                "failed": totals.get("failed", 0),
                "retries": totals.get("retries", 0),
                "bisects": totals.get("bisects", 0),
                "destination_records": pipeline.destination_count,
            }
        ),
        err=True,
    )
    for mapping in pipeline.mappings:
        if getattr(mapping.stream, "remote", False) and hasattr(mapping.stream, "health"):
            line = remote_summary(f"mapping {mapping.name}", mapping.stream.health)
            click.echo(printable(f"summary: {line}"), err=True)
    return {name: totals.get(name, 0) for name in ("failed", "windows_dropped")}


def _describe_mapping(mapping: Any, width: int) -> str:
    """One line per mapping, its settings that differ from AWS's defaults, wrapped at a setting's end."""
    from shardline.local._settings import MappingSettings

    defaults = MappingSettings().as_aws()
    shown = []
    for name, value in mapping.settings.as_aws().items():
        if name == "FilterCriteria":
            count = len(value["Filters"])
            shown.append(f"FilterCriteria: {count} pattern{'s' if count != 1 else ''}")
        elif value != defaults.get(name):
            shown.append(f"{name}={','.join(value) if isinstance(value, list) else value}")
    source = (
        f"remote stream {mapping.table.stream_arn}"
        if getattr(mapping.table, "remote", False)
        else f"table {mapping.table.name}"
    )
    head = f"mapping {mapping.name}: {source} -> {mapping.invoker.function_name}"
    text = f"{head} ({', '.join(shown)})" if shown else f"{head} (AWS's default settings)"
    return textwrap.fill(
        text, width=max(40, width - 1), subsequent_indent="    ", break_long_words=False, break_on_hyphens=False
    )


class StopSignals:
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP stop `run` at once, wherever it is: waiting out a backoff,
    waiting for the runtime's answer, inside an in-process handler. The handler raises KeyboardInterrupt
    (and `requested()` turns true, for a handler that swallowed it); `run` then keeps its checkpoints
    (committed after every batch), stops the runtime processes, prints its summary and exits with the
    conventional status, 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM).
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}
        self._deferring = 0
        self._pending = False

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in _STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        self._previous.clear()

    def _handle(self, number: int, frame: object) -> None:
        if self.signal is None:
            self.signal = number
        if self._deferring:
            self._pending = True  # raised when the redraw in progress is complete
            return
        raise KeyboardInterrupt

    def requested(self) -> bool:
        return self.signal is not None

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold a stop back until the block is done (a redraw of the live table)."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if self._pending and not self._deferring:
            self._pending = False
            raise KeyboardInterrupt

    def ignore(self) -> None:
        """From now on (the clean-up) the stop signals do nothing; `__exit__` restores them."""
        for number in self._previous:
            signal.signal(number, signal.SIG_IGN)

    @property
    def name(self) -> str:
        return signal.Signals(self.signal).name if self.signal is not None else "SIGINT"

    @property
    def status(self) -> int:
        return 128 + (self.signal if self.signal is not None else signal.SIGINT)


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
