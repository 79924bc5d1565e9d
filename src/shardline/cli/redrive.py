"""`shardline redrive`: fetch the batches of on-failure records back from the stream and invoke the function
again, once its bug is fixed."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shardline._exceptions import ShardlineError

from ._io import CLIError, parse_json, printable, read_text, source_name, write_json
from ._local import open_store, state_option

if TYPE_CHECKING:
    from shardline.local import Store
    from shardline.local._invoker import InProcessInvoker
    from shardline.local._redrive import BatchReport, FailedBatch

EPILOG = """\b
Examples:
  shardline redrive --from-state --handler app.lambda_handler
  shardline redrive --from-state --template template.yaml --function OrdersFunction
  shardline redrive --from-file failures.jsonl --handler src/orders.py:handle --skip-superseded
  shardline redrive --from-sqs https://sqs.eu-west-1.amazonaws.com/123456789012/orders-failures \\
      --handler app.lambda_handler --delete
  shardline redrive --from-s3 s3://orders-failures/aws/lambda/ --function-name orders-worker --profile staging
  shardline redrive --from-state --dry-run        the events it would send, nothing invoked

\b
An on-failure record holds no items, only the batch's shard and first and last sequence numbers. For each
record, redrive reads that range from the stream (AT_SEQUENCE_NUMBER, up to the last number), invokes the
function with the event Lambda sends ({"Records": [...]}, eventSourceARN included), reads the answer as
Lambda does (partial batch responses honoured) and prints every record's outcome on stdout.

\b
Where the records come from: the local run's destination (--from-state), JSON Lines of records
(--from-file, as `shardline destination list --json` writes them), an SQS queue (--from-sqs; SNS
notifications delivered to the queue are unwrapped) or an S3 destination's objects (--from-s3). A stream the
local state holds is read there; any other from DynamoDB Streams with --endpoint-url, --region and --profile
(the aws extra), as are the queue and the bucket.

\b
Where it is invoked: in this process (--handler, or --template with --function), or the deployed function
through Lambda's Invoke API (--function-name; --lambda-endpoint-url for another endpoint, e.g. `sam local
start-lambda`'s).

\b
A batch whose records were trimmed (DynamoDB Streams keeps them 24 hours) or whose stream is gone is
reported and not redriven (an S3 record's payload, the event Lambda sent, is redriven instead). Records
the mapping's filter dropped are left out (--filter, or the --template mapping's). --skip-superseded
leaves out a record whose item changed again later on the stream, printing why. With --delete, an SQS
message or S3 object is deleted once its whole batch succeeded; the others stay (SQS messages are made
visible again at once).
Exit status 0 only when every batch was fetched and every record redriven succeeded; 1 otherwise.
"""

_SOURCES = "--from-state, --from-file FILE, --from-sqs URL or --from-s3 s3://BUCKET/PREFIX"


@click.command(epilog=EPILOG, short_help="Invoke a function again on the batches that went to the destination.")
@click.option("--from-state", "from_state", is_flag=True, help="The on-failure records kept in the state database.")
@click.option("--from-file", "from_file", metavar="FILE", help="JSON Lines of on-failure records ('-': stdin).")
@click.option("--from-sqs", "from_sqs", metavar="URL", help="The on-failure records in an SQS queue.")
@click.option("--from-s3", "from_s3", metavar="S3URL", help="The on-failure records under s3://bucket/prefix.")
@click.option("--handler", "handler_spec", metavar="HANDLER", help="module.function or file.py:function, as invoke.")
@click.option("--code-dir", default=".", show_default=True, metavar="DIR", help="Where the --handler's code lives.")
@click.option("--template", "template_path", metavar="FILE", help="A SAM template: the --function's handler.")
@click.option("--function", "function", metavar="LOGICAL_ID", help="The template's function to invoke.")
@click.option(
    "--parameter-overrides", multiple=True, metavar="KEY=VALUE", help="The --template's parameters, as run takes them."
)
@click.option("--function-name", metavar="NAME", help="Invoke the deployed function (name, name:alias or ARN).")
@click.option(
    "--timeout",
    type=click.FloatRange(0.001, 900),
    default=None,
    help="Seconds (default 3, or the template's); with --function-name, how long to await Invoke's answer (900).",
)
@click.option(
    "--no-report-batch-item-failures",
    "no_partial",
    is_flag=True,
    help="Read the response as Lambda does without ReportBatchItemFailures (default: on, or the template's).",
)
@click.option("--skip-superseded", is_flag=True, help="Skip records whose item changed again later on the stream.")
@click.option(
    "--filter",
    "patterns",
    multiple=True,
    metavar="JSON",
    help="The mapping's FilterCriteria pattern (repeatable, ORed; default: the --template mapping's).",
)
@click.option("--delete", is_flag=True, help="Delete each SQS message or S3 object whose whole batch succeeded.")
@click.option("--limit", type=click.IntRange(1), default=None, metavar="N", help="Redrive at most N batches.")
@click.option("--dry-run", is_flag=True, help="Print the events it would send; invoke nothing, delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Outcomes (or --dry-run events) as JSON Lines.")
@click.option("--endpoint-url", metavar="URL", help="The AWS side's endpoint: streams, SQS, S3 (boto3's endpoint_url).")
@click.option("--region", metavar="REGION", help="The AWS region (default: the stream ARN's, or boto3's).")
@click.option("--profile", metavar="PROFILE", help="The AWS profile to use.")
@click.option("--lambda-endpoint-url", metavar="URL", help="Lambda's endpoint for --function-name, if not AWS's.")
@click.option(
    "--visibility-timeout",
    type=click.IntRange(30, 43200),
    default=900,
    show_default=True,
    metavar="SECONDS",
    help="How long SQS messages stay hidden from other readers while redriven.",
)
@click.option(
    "--wait-seconds",
    type=click.IntRange(1, 20),
    default=2,
    show_default=True,
    metavar="SECONDS",
    help="How long the last SQS receive waits for a message (long polling).",
)
@state_option
def redrive(
    from_state: bool,
    from_file: str | None,
    from_sqs: str | None,
    from_s3: str | None,
    handler_spec: str | None,
    code_dir: str,
    template_path: str | None,
    function: str | None,
    parameter_overrides: tuple[str, ...],
    function_name: str | None,
    timeout: float | None,
    no_partial: bool,
    skip_superseded: bool,
    patterns: tuple[str, ...],
    delete: bool,
    limit: int | None,
    dry_run: bool,
    as_json: bool,
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    lambda_endpoint_url: str | None,
    visibility_timeout: int,
    wait_seconds: int,
    state: str,
) -> int:
    """Fetch the batches of on-failure records from the stream and invoke the function again."""
    chosen = [from_state, from_file is not None, from_sqs is not None, from_s3 is not None]
    if sum(chosen) != 1:
        raise click.UsageError(f"give one of {_SOURCES}")
    targets = [handler_spec is not None, template_path is not None or function is not None, function_name is not None]
    if sum(targets) > 1:
        raise click.UsageError("give one of --handler, --template/--function and --function-name")
    if function is not None and template_path is None:
        raise click.UsageError("--function needs --template FILE")
    if not any(targets) and not dry_run:
        raise click.UsageError(
            "give the function: --handler HANDLER, --template FILE --function LOGICAL_ID, or --function-name NAME"
        )
    if parameter_overrides and template_path is None:
        raise click.UsageError("--parameter-overrides goes with --template")
    from .run import parse_overrides

    overrides = parse_overrides(parameter_overrides)
    if lambda_endpoint_url is not None and function_name is None:
        raise click.UsageError("--lambda-endpoint-url goes with --function-name")
    if delete and from_sqs is None and from_s3 is None:
        raise click.UsageError("--delete removes SQS messages or S3 objects: use it with --from-sqs or --from-s3")
    aws = {"endpoint_url": endpoint_url, "region_name": region, "profile_name": profile}
    criteria_for = _filters(patterns, template_path, function, overrides)
    with _optional_store(state, required=from_state) as store:
        try:
            deliveries = _deliveries(store, from_file, from_sqs, from_s3, aws, visibility_timeout, wait_seconds)
            return _redrive_all(
                deliveries,
                _Streams(store, aws),
                lambda batch: _target(
                    batch,
                    handler_spec,
                    code_dir,
                    template_path,
                    function,
                    overrides,
                    function_name,
                    lambda_endpoint_url,
                    aws,
                    timeout,
                    reports_failures=not no_partial,
                ),
                limit=limit,
                dry_run=dry_run,
                delete=delete,
                skip_superseded=skip_superseded,
                as_json=as_json,
                criteria_for=criteria_for,
            )
        except ShardlineError as exc:  # a state file gone bad, AWS refusing: stop, with what was done reported
            raise CLIError(str(exc)) from None


@contextlib.contextmanager
def _optional_store(state: str, *, required: bool) -> Iterator[Store | None]:
    """The local state: required for --from-state; otherwise used when it exists (a stream it holds is read
    there) and left alone when it does not."""
    if not required and not Path(state).expanduser().exists():
        yield None
        return
    with open_store(state, create=False) as store:
        yield store


class _Streams:
    """Streams by ARN: the local state's when it holds the stream, else DynamoDB Streams' through boto3."""

    def __init__(self, store: Store | None, aws: dict[str, str | None]) -> None:
        self._store = store
        self._aws = aws
        self._remote: Any = None

    def stream_by_arn(self, arn: str) -> Any:
        from shardline.local._errors import ResourceNotFoundError

        if self._store is not None:
            try:
                return self._store.stream_by_arn(arn)
            except ResourceNotFoundError:
                pass  # not a local stream: it lives on DynamoDB Streams
        if self._remote is None:
            from shardline.aws import RemoteStreams

            aws = self._aws
            self._remote = RemoteStreams(
                endpoint_url=aws["endpoint_url"], region_name=aws["region_name"], profile_name=aws["profile_name"]
            )
        return self._remote.stream_by_arn(arn)


class _Item:
    """One on-failure record to redrive: the batch (or why there is none) and its delivery to acknowledge."""

    def __init__(self, source: str, batch: FailedBatch | None, problem: str | None, delivery: Any = None) -> None:
        self.source = source
        self.batch = batch
        self.problem = problem
        self.delivery = delivery


def _deliveries(
    store: Store | None,
    from_file: str | None,
    from_sqs: str | None,
    from_s3: str | None,
    aws: dict[str, str | None],
    visibility_timeout: int,
    wait_seconds: int,
) -> Iterable[_Item]:
    if from_file is not None:
        return [_Item(batch.source, batch, None) for batch in _file_batches(from_file)]
    if from_sqs is None and from_s3 is None:
        assert store is not None
        return [_Item(batch.source, batch, None) for batch in _state_batches(store)]
    from shardline.aws import S3Source, SqsSource

    if from_sqs is not None:
        source: Iterable[Any] = SqsSource(
            from_sqs,
            endpoint_url=aws["endpoint_url"],
            region_name=aws["region_name"],
            profile_name=aws["profile_name"],
            visibility_timeout=visibility_timeout,
            wait_seconds=wait_seconds,
        )
    else:
        assert from_s3 is not None
        source = S3Source(
            from_s3, endpoint_url=aws["endpoint_url"], region_name=aws["region_name"], profile_name=aws["profile_name"]
        )
    return _RemoteItems(source)


class _RemoteItems:
    """The items of an SQS or S3 source, read as the redrive goes; closed when it ends, however it ends, so
    that messages received and not handed out are released at once rather than when collected."""

    def __init__(self, source: Iterable[Any]) -> None:
        self.source = source
        self._deliveries = iter(source)

    def __iter__(self) -> Iterator[_Item]:
        return (_remote_item(delivery) for delivery in self._deliveries)

    def close(self) -> None:
        close = getattr(self._deliveries, "close", None)
        if close is not None:
            close()


def _remote_item(delivery: Any) -> _Item:
    from shardline.local._redrive import RedriveError, failed_batch

    if delivery.problem is not None:
        return _Item(delivery.source, None, delivery.problem, delivery)
    try:
        return _Item(delivery.source, failed_batch(delivery.record, source=delivery.source), None, delivery)
    except RedriveError as exc:
        return _Item(delivery.source, None, str(exc), delivery)


def _redrive_all(
    items: Iterable[_Item],
    streams: _Streams,
    target: Callable[[FailedBatch], tuple[Any, bool]],
    *,
    limit: int | None,
    dry_run: bool,
    delete: bool,
    skip_superseded: bool,
    as_json: bool,
    criteria_for: Callable[[FailedBatch], Any] = lambda batch: None,
) -> int:
    from shardline.local._redrive import redrive_batch

    invoker: Any = None
    reports_failures = True
    reports: list[BatchReport] = []
    unread: list[str] = []
    held: list[Any] = []  # deliveries neither deleted nor released yet
    known = len(items) if isinstance(items, list) else None  # an SQS queue or a bucket is read as it goes
    of = "" if known is None else f" of {min(known, limit or known)}"
    try:
        for number, item in enumerate(itertools.islice(items, limit), 1):
            if item.delivery is not None:
                held.append(item.delivery)
            if item.batch is None:
                assert item.problem is not None
                click.echo(printable(f"batch {number}{of}: {item.problem}; left where it is"), err=True)
                if as_json and not dry_run:
                    write_json({"source": item.source, "outcome": "not redriven", "reason": item.problem}, compact=True)
                unread.append(item.problem)
                continue
            batch = item.batch
            click.echo(printable(f"batch {number}{of} ({batch.source}, {batch.span})"), err=True)
            if invoker is None and not dry_run:
                invoker, reports_failures = target(batch)
            report = redrive_batch(
                streams,
                batch,
                invoker,
                deadline_ms=invoker.deadline_from_now() if invoker is not None else 0,
                skip_superseded=skip_superseded,
                report_batch_item_failures=reports_failures,
                criteria=criteria_for(batch),
            )
            _show(report, as_json=as_json, dry_run=dry_run)
            reports.append(report)
            if delete and not dry_run and report.ok and item.delivery is not None:
                try:
                    item.delivery.delete()
                except ShardlineError as exc:  # the batch succeeded; its record stays, to be redriven again
                    click.echo(printable(f"  not deleted: {exc}"), err=True)
                    unread.append(str(exc))
                    continue
                held.remove(item.delivery)
                click.echo(printable(f"  deleted {item.delivery.source}"), err=True)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()  # what was received and not handed out goes back at once
        for delivery in held:  # back on the queue at once, for the next redrive or another reader
            with contextlib.suppress(ShardlineError):
                delivery.release()
    if not reports and not unread:
        click.echo("no on-failure record to redrive", err=True)
        return 0
    return _summary(reports, unread, dry_run=dry_run)


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


def _filters(
    patterns: tuple[str, ...], template_path: str | None, function: str | None, overrides: dict[str, str]
) -> Callable[[FailedBatch], Any]:
    """The FilterCriteria a batch's mapping had, for each batch: --filter's, else the --template mapping's (the
    function's mapping on the batch's stream, or its only one), else none."""
    from shardline._filters import FilterCriteria, FilterPatternError

    if patterns:
        try:
            criteria = FilterCriteria(list(patterns))
        except FilterPatternError as exc:
            raise CLIError(f"--filter: {exc}") from None
        return lambda batch: criteria
    if template_path is None:
        return lambda batch: None
    from shardline.local._settings import MappingSettings
    from shardline.local._template import TemplateError, load_template

    try:
        template = load_template(Path(template_path), parameter_overrides=overrides, remote=True)
    except TemplateError as exc:
        raise CLIError(str(exc)) from None
    names = [function] if function is not None else list(template.functions)[:1]
    mapped = [mapping for mapping in template.mappings if mapping.function in names]
    by_stream: dict[str, Any] = {}
    for mapping in mapped:
        try:
            kept = MappingSettings(filter_criteria=mapping.settings.get("filter_criteria")).filter_criteria
        except ShardlineError as exc:
            raise CLIError(f"{template_path}: {mapping.logical_id}: {exc}") from None
        if mapping.stream_arn is not None:
            by_stream[f"arn={mapping.stream_arn}"] = kept
        elif mapping.table in template.tables:
            by_stream[f"table={template.tables[mapping.table].table_name}"] = kept

    def criteria_for(batch: FailedBatch) -> Any:
        if len(mapped) == 1:
            return next(iter(by_stream.values()), None)
        table = batch.stream_arn.split(":", 5)[-1].split("/")[1] if "/" in batch.stream_arn else ""
        return by_stream.get(f"arn={batch.stream_arn}", by_stream.get(f"table={table}"))

    return criteria_for


def _target(
    batch: FailedBatch,
    handler_spec: str | None,
    code_dir: str,
    template_path: str | None,
    function: str | None,
    overrides: dict[str, str],
    function_name: str | None,
    lambda_endpoint_url: str | None,
    aws: dict[str, str | None],
    timeout: float | None,
    *,
    reports_failures: bool,
) -> tuple[Any, bool]:
    """The function to invoke (made when the first batch is ready, so a dry run or an empty queue loads no
    code) and whether its answers are read as partial batch responses."""
    if function_name is None:
        return _invoker(
            handler_spec, code_dir, template_path, function, overrides, timeout, reports_failures=reports_failures
        )
    from shardline.aws import LambdaInvoker
    from shardline.aws._redrive import arn_region

    # The region: --region, else the failed function's (its ARN in the record), else the stream's, else boto3's.
    region = aws["region_name"] or arn_region(batch.function_arn) or arn_region(batch.stream_arn)
    invoker = LambdaInvoker(
        function_name,
        endpoint_url=lambda_endpoint_url,
        region_name=region,
        profile_name=aws["profile_name"],
        timeout=timeout if timeout is not None else 900.0,
        log=_show_log,
    )
    return invoker, reports_failures


def _show_log(text: str) -> None:
    """The function's log tail (Invoke's LogResult) on stderr, apart from the outcomes on stdout."""
    for line in text.rstrip("\n").splitlines():
        click.echo(printable(f"  | {line}"), err=True)


def _invoker(
    handler_spec: str | None,
    code_dir: str,
    template_path: str | None,
    function: str | None,
    overrides: dict[str, str],
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
        template = load_template(Path(template_path), parameter_overrides=overrides, remote=True)
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
        if as_json and not dry_run:
            write_json(
                {
                    "source": batch.source,
                    "shardId": batch.shard_id,
                    "outcome": "not redriven",
                    "reason": fetched.problem,
                },
                compact=True,
            )
        return
    if fetched.note is not None:
        click.echo(printable(f"  note: {fetched.note}"), err=True)
    count = len(fetched.records)
    if count > batch.batch_size:
        click.echo(
            f"  note: the range holds {count} records, the batch had {batch.batch_size} (records a filter dropped,"
            " or of other partition keys with a ParallelizationFactor above 1); all of them are redriven",
            err=True,
        )
    elif count < batch.batch_size:
        click.echo(
            f"  note: the range holds {count} record{'s' if count != 1 else ''}, the batch had {batch.batch_size}"
            "; the range is redriven as the stream holds it",
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
    """The record's key for people: `{"pk": "order#1"}` rather than DynamoDB's typed `{"pk": {"S": ...}}`."""
    plain = {}
    for name, value in keys.items():
        if isinstance(value, Mapping) and len(value) == 1:
            plain[name] = next(iter(value.values()))
        else:
            plain[name] = value
    return plain


def _summary(reports: list[BatchReport], unread: list[str], *, dry_run: bool) -> int:
    counts = {"succeeded": 0, "failed": 0, "skipped": 0, "not sent": 0}
    for report in reports:
        for outcome in report.outcomes:
            counts[outcome.status] += 1
    missing = sum(1 for report in reports if report.fetched.problem is not None)
    batches = f"{len(reports)} batch{'es' if len(reports) != 1 else ''}"
    unfetched = f"; {missing} batch{'es' if missing != 1 else ''} not redriven" if missing else ""
    if unread:
        unfetched += f"; {len(unread)} left where {'they are' if len(unread) != 1 else 'it is'}"
    missing += len(unread)
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
    return 0 if not unread and all(report.ok for report in reports) else 1
