"""``shardline run``: the whole pipeline from your SAM template, functions under AWS's runtime client."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from shardline._exceptions import ShardlineError

from ._io import CLIError, parse_json, read_text
from ._local import open_store, state_option

EPILOG = """\b
Examples:
  shardline run                                   template.yaml in this folder, every stream mapping
  shardline run --template infra/template.yaml --function OrdersFunction
  shardline run --env-vars env.json --parameter-overrides Stage=dev
  shardline table put Orders '{"pk": "order#1", "status": "NEW"}'    (in another terminal)

\b
Reads AWS::Serverless::Function resources with DynamoDB events, AWS::Lambda::EventSourceMapping and
AWS::DynamoDB::Table; creates the tables in the state database; runs every mapping with Lambda's
semantics (batching, filters, partial batch responses, retries, bisect, record age, tumbling windows,
destinations); invokes each function under AWS's runtime interface client (awslambdaric) in a warm
process. Writes from other processes to the same --state reach the mappings within milliseconds.
Checkpoints are durable: stop and start again, nothing is skipped or replayed.
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
@click.option("--endpoint-url", metavar="URL", help="Where SQS/SNS/S3 destinations are sent (LocalStack, AWS).")
@click.option("--until-idle", is_flag=True, help="Stop once every mapping has caught up (scripts, CI).")
@click.option("--plain", is_flag=True, help="Plain log lines even on a terminal.")
def run(
    template_path: str | None,
    function: str | None,
    state: str,
    env_vars: str | None,
    parameter_overrides: tuple[str, ...],
    invoker: str,
    endpoint_url: str | None,
    until_idle: bool,
    plain: bool,
) -> int:
    """Run the stream mappings of a SAM template against the local tables."""
    from shardline.local._runner import build_pipeline
    from shardline.local._template import TemplateError, find_template, load_template

    from ._dashboard import Dashboard

    overrides = {}
    for text in parameter_overrides:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise click.UsageError(f"--parameter-overrides {text!r}: expected KEY=VALUE")
        overrides[name] = value
    variables = _env_vars(env_vars) if env_vars else None
    try:
        path = Path(template_path) if template_path else find_template(".")
        template = load_template(path, parameter_overrides=overrides)
    except TemplateError as exc:
        raise CLIError(str(exc)) from None
    for warning in template.warnings:
        click.echo(f"warning: {warning}", err=True)
    live = not plain and not until_idle and sys.stderr.isatty()
    log_path = Path(state).expanduser().parent / "functions.log"
    with open_store(state) as store, _function_output(log_path if live else None) as output:
        try:
            pipeline, invokers = build_pipeline(
                template,
                store,
                only_function=function,
                env_vars=variables,
                invoker=invoker,
                endpoint_url=endpoint_url,
                output=output,
            )
        except TemplateError as exc:
            raise CLIError(str(exc)) from None
        except ShardlineError as exc:
            raise CLIError(str(exc)) from None
        for mapping in pipeline.mappings:
            click.echo(
                f"mapping {mapping.name}: table {mapping.table.name} -> {mapping.invoker.function_name}"
                f" ({', '.join(f'{k}={v}' for k, v in mapping.settings.as_aws().items() if k != 'FilterCriteria')})",
                err=True,
            )
        dashboard = Dashboard(pipeline, live=live)
        if live:
            dashboard.title = f"shardline run: Ctrl-C to stop (function output: {log_path})"
        stopping = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        try:
            if until_idle:
                pipeline.run_until_idle()
                dashboard.refresh(force=True)
            else:

                def stop() -> bool:
                    dashboard.refresh()
                    return stopping.is_set()

                try:
                    pipeline.run(stop)
                except KeyboardInterrupt:
                    click.echo("stopping: checkpoints are saved; run again to continue", err=True)
        finally:
            signal.signal(signal.SIGTERM, previous)
            dashboard.close()
            for each in invokers:
                close = getattr(each, "close", None)
                if close is not None:
                    close()
        _summary(pipeline)
    return 0


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


def _summary(pipeline: Any) -> None:
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
                "invocations": len(pipeline.invocations),
                "records_in": totals.get("records_in", 0),
                "delivered": totals.get("delivered", 0),
                "filtered": totals.get("filtered", 0),
                "failed": totals.get("failed", 0),
                "retries": totals.get("retries", 0),
                "bisects": totals.get("bisects", 0),
                "destination_records": len(pipeline.destination),
            }
        ),
        err=True,
    )
