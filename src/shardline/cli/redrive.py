"""``shardline redrive``: fetch the batches of on-failure records back from the stream and invoke the function
again, once its bug is fixed."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shardline._exceptions import ShardlineError

from ._io import CLIError, parse_json, printable, read_text, source_name, write_json
from ._local import open_store, state_option

if TYPE_CHECKING:
    from shardline.local._invoker import InProcessInvoker
    from shardline.local._redrive import BatchReport, FailedBatch

EPILOG = """\b
Examples:
  shardline redrive --from-state --handler app.lambda_handler
  shardline redrive --from-state --template template.yaml --function OrdersFunction
  shardline redrive --from-file failures.jsonl --handler src/orders.py:handle --skip-superseded
  shardline redrive --from-state --dry-run        the events it would send, nothing invoked

\b
An on-failure record holds no items, only the batch's shard and first and last sequence numbers. For each
record, redrive reads that range from the local store's stream (AT_SEQUENCE_NUMBER, up to the last number),
invokes the function with the event Lambda sends ({"Records": [...]}, eventSourceARN included), reads the
answer as Lambda does (partial batch responses honoured) and prints every record's outcome on stdout.
A batch whose records were trimmed (DynamoDB Streams keeps them 24 hours) or whose stream is gone is
reported and not redriven. --from-file takes JSON Lines of on-failure records, as `shardline destination
list --json` writes them (or as an SQS message body holds one). --skip-superseded leaves out a record whose
item changed again later on the stream, printing why.
Exit status 0 only when every batch was fetched and every record redriven succeeded; 1 otherwise.
"""


@click.command(epilog=EPILOG, short_help="Invoke a function again on the batches that went to the destination.")
@click.option("--from-state", "from_state", is_flag=True, help="The on-failure records kept in the state database.")
@click.option("--from-file", "from_file", metavar="FILE", help="JSON Lines of on-failure records ('-': stdin).")
@click.option("--handler", "handler_spec", metavar="HANDLER", help="module.function or file.py:function, as invoke.")
@click.option("--code-dir", default=".", show_default=True, metavar="DIR", help="Where the --handler's code lives.")
@click.option("--template", "template_path", metavar="FILE", help="A SAM template: the --function's handler.")
@click.option("--function", "function", metavar="LOGICAL_ID", help="The template's function to invoke.")
@click.option(
    "--timeout", type=click.FloatRange(0.001, 900), default=None, help="Seconds (default 3, or the template's)."
)
@click.option(
    "--no-report-batch-item-failures",
    "no_partial",
    is_flag=True,
    help="Read the response as Lambda does without ReportBatchItemFailures (default: on, or the template's).",
)
@click.option("--skip-superseded", is_flag=True, help="Skip records whose item changed again later on the stream.")
@click.option("--dry-run", is_flag=True, help="Print the events it would send; invoke nothing.")
@click.option("--json", "as_json", is_flag=True, help="Outcomes (or --dry-run events) as JSON Lines.")
@state_option
def redrive(
    from_state: bool,
    from_file: str | None,
    handler_spec: str | None,
    code_dir: str,
    template_path: str | None,
    function: str | None,
    timeout: float | None,
    no_partial: bool,
    skip_superseded: bool,
    dry_run: bool,
    as_json: bool,
    state: str,
) -> int:
    """Fetch the batches of on-failure records from the stream and invoke the function again."""
    from shardline.local._redrive import redrive_batch

    if from_state == (from_file is not None):
        raise click.UsageError("give one of --from-state and --from-file FILE")
    if handler_spec is not None and (template_path is not None or function is not None):
        raise click.UsageError("--handler and --template/--function cannot go together")
    if function is not None and template_path is None:
        raise click.UsageError("--function needs --template FILE")
    if handler_spec is None and template_path is None and not dry_run:
        raise click.UsageError("give the function: --handler HANDLER, or --template FILE --function LOGICAL_ID")
    batches = _file_batches(from_file) if from_file is not None else None
    with open_store(state, create=False) as store:
        if batches is None:
            batches = _state_batches(store)
        if not batches:
            click.echo("no on-failure record to redrive", err=True)
            return 0
        invoker: InProcessInvoker | None = None
        reports_failures = not no_partial
        if not dry_run:
            invoker, reports_failures = _invoker(
                handler_spec, code_dir, template_path, function, timeout, reports_failures=reports_failures
            )
        reports: list[BatchReport] = []
        for number, batch in enumerate(batches, 1):
            click.echo(printable(f"batch {number} of {len(batches)} ({batch.source}, {batch.span})"), err=True)
            try:
                report = redrive_batch(
                    store,
                    batch,
                    invoker,
                    deadline_ms=invoker.deadline_from_now() if invoker is not None else 0,
                    skip_superseded=skip_superseded,
                    report_batch_item_failures=reports_failures,
                )
            except ShardlineError as exc:  # the state file went bad under us: stop, with what was done reported
                raise CLIError(str(exc)) from None
            _show(report, as_json=as_json, dry_run=dry_run)
            reports.append(report)
    return _summary(reports, dry_run=dry_run)


def _file_batches(source: str) -> list[FailedBatch]:
    from shardline.local._redrive import RedriveError, failed_batch

    name = source_name(source)
    batches = []
    for number, line in enumerate(read_text(source).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        value = parse_json(line, where)
        try:
            batches.append(failed_batch(value, source=where))
        except RedriveError as exc:
            raise CLIError(str(exc)) from None
    if not batches:
        raise CLIError(f"{name}: no on-failure record in it (expected JSON Lines, one record a line)")
    return batches


def _state_batches(store: Any) -> list[FailedBatch]:
    from shardline.local._redrive import RedriveError, failed_batch, stored_failures

    try:
        return [
            failed_batch(failure.record, source=f"destination record {failure.number}, mapping {failure.mapping}")
            for failure in stored_failures(store)
        ]
    except RedriveError as exc:
        raise CLIError(str(exc)) from None


def _invoker(
    handler_spec: str | None,
    code_dir: str,
    template_path: str | None,
    function: str | None,
    timeout: float | None,
    *,
    reports_failures: bool,
) -> tuple[InProcessInvoker, bool]:
    """The function to invoke, in this process, and whether its mappings report batch item failures."""
    from shardline.local._invoker import FunctionOutput, InProcessInvoker

    from .invoke import _check_option, _default_name, _load_handler, _prepare_environment

    output = FunctionOutput(sys.stderr)  # the function's prints never mix with the outcomes on stdout
    region = os.environ.get("AWS_REGION") or "us-east-1"
    if handler_spec is not None:
        _check_option("--handler", handler_spec)
        name = _default_name(handler_spec)
        seconds = timeout if timeout is not None else 3.0
        _prepare_environment({}, name=name, region=region, memory=128, timeout=seconds, spec=handler_spec)
        handler = _load_handler(handler_spec, Path(code_dir))
        invoker = InProcessInvoker(handler, function_name=name, timeout=seconds, region=region, output=output)
        return invoker, reports_failures
    assert template_path is not None
    from shardline._handlers import HandlerLoadError, load_handler
    from shardline.local._runner import environment_for
    from shardline.local._template import TemplateError, load_template

    try:
        template = load_template(Path(template_path))
    except TemplateError as exc:
        raise CLIError(str(exc)) from None
    if function is None:
        if len(template.functions) != 1:
            known = ", ".join(sorted(template.functions)) or "none"
            raise click.UsageError(f"--template has several functions; name one with --function ({known})")
        function = next(iter(template.functions))
    spec = template.functions.get(function)
    if spec is None:
        known = ", ".join(sorted(template.functions)) or "none"
        raise CLIError(f"--function {function}: no such function in {template_path} (functions: {known})")
    try:
        os.environ.update(environment_for(spec, None))
        handler = load_handler(spec.handler, spec.code_dir, module_name=f"_shardline_{spec.logical_id}")
    except (TemplateError, HandlerLoadError) as exc:
        raise CLIError(f"Resources.{spec.logical_id}.Properties.Handler: {exc}") from None
    mapped = [mapping for mapping in template.mappings if mapping.function == function]
    if reports_failures and mapped:
        # As the function's mapping reads answers: partial batch responses only with ReportBatchItemFailures.
        reports_failures = any(
            "ReportBatchItemFailures" in mapping.settings.get("function_response_types", ()) for mapping in mapped
        )
    invoker = InProcessInvoker(
        handler,
        function_name=spec.function_name,
        timeout=timeout if timeout is not None else spec.timeout,
        memory_mb=spec.memory_size,
        region=region,
        output=output,
    )
    return invoker, reports_failures


def _show(report: BatchReport, *, as_json: bool, dry_run: bool) -> None:
    fetched = report.fetched
    batch = fetched.batch
    if fetched.problem is not None:
        click.echo(printable(f"  not redriven: {fetched.problem}"), err=True)
        return
    count = len(fetched.records)
    if count != batch.batch_size:
        click.echo(
            f"  note: the range holds {count} record{'s' if count != 1 else ''}, the batch had {batch.batch_size}"
            " (records a filter dropped, or of other partition keys with a ParallelizationFactor above 1);"
            " all of them are redriven",
            err=True,
        )
    if dry_run:
        for outcome in report.outcomes:
            if outcome.status == "skipped":
                click.echo(printable(f"  {outcome.sequence_number}: {outcome.reason}"), err=True)
        if report.event is not None:
            write_json(report.event, compact=as_json)
        return
    if report.invocation is not None and report.invocation.error is not None:
        click.echo(printable(f"  function error: {report.invocation.error}"), err=True)
    if report.verdict is not None:
        click.echo(printable(f"  {report.verdict.kind}: {report.verdict.reason}"), err=True)
    for outcome in report.outcomes:
        if as_json:
            write_json(outcome.as_json(batch), compact=True)
        else:
            keys = json.dumps(_plain_keys(outcome.keys), separators=(", ", ": "))
            status = f"{outcome.status}: {outcome.reason}" if outcome.reason else outcome.status
            click.echo(printable(f"{outcome.sequence_number}  {outcome.event_name}  {keys}  {status}"))
    sys.stdout.flush()


def _plain_keys(keys: Mapping[str, Any]) -> Any:
    """The record's key for people: ``{"pk": "order#1"}`` rather than DynamoDB's typed ``{"pk": {"S": ...}}``."""
    plain = {}
    for name, value in keys.items():
        if isinstance(value, Mapping) and len(value) == 1:
            plain[name] = next(iter(value.values()))
        else:
            plain[name] = value
    return plain


def _summary(reports: list[BatchReport], *, dry_run: bool) -> int:
    counts = {"succeeded": 0, "failed": 0, "skipped": 0, "not sent": 0}
    for report in reports:
        for outcome in report.outcomes:
            counts[outcome.status] += 1
    missing = sum(1 for report in reports if report.fetched.problem is not None)
    batches = f"{len(reports)} batch{'es' if len(reports) != 1 else ''}"
    unfetched = f"; {missing} batch{'es' if missing != 1 else ''} not redriven" if missing else ""
    if dry_run:
        click.echo(
            f"dry run: {counts['not sent']} record{'s' if counts['not sent'] != 1 else ''} of {batches} would be sent,"
            f" {counts['skipped']} skipped{unfetched}",
            err=True,
        )
        return 1 if missing else 0
    total = counts["succeeded"] + counts["failed"]
    click.echo(
        f"redrove {total} record{'s' if total != 1 else ''} of {batches}: {counts['succeeded']} succeeded,"
        f" {counts['failed']} failed, {counts['skipped']} skipped{unfetched}",
        err=True,
    )
    return 0 if all(report.ok for report in reports) else 1
