"""`shardline destination list/show`: the on-failure records the local mappings kept in the state database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from ._io import CLIError, printable, write_json
from ._local import open_store, state_option

if TYPE_CHECKING:
    from shardline.local._redrive import StoredFailure

EPILOG = """\b
Examples:
  shardline destination list                      the local run's on-failure records, oldest first
  shardline destination show 1                    the first one in full
  shardline destination list --json > failures.jsonl
  shardline redrive --from-state --handler app.lambda_handler

\b
A mapping without DestinationConfig keeps its on-failure records in the state database (as Lambda would
send them to SQS, SNS or S3): the batch's shard and sequence numbers, why it failed, how often it was
invoked. `shardline redrive` fetches those records from the stream and invokes the function again.
"""


@click.group(epilog=EPILOG, short_help="The local run's on-failure records.")
def destination() -> None:
    """The on-failure records of the local run's mappings (their default destination)."""


@destination.command("list", short_help="List the on-failure records, oldest first.")
@click.option("--json", "as_json", is_flag=True, help="One record per line, exactly as Lambda writes it (JSON Lines).")
@state_option
def list_command(as_json: bool, state: str) -> int:
    """List the on-failure records kept in the state database, oldest first."""
    failures = _failures(state)
    for failure in failures:
        if as_json:
            write_json(failure.record, compact=True)
        else:
            click.echo(printable(_line(failure)))
    if not as_json:
        count = len(failures)
        click.echo(f"{count} on-failure record{'s' if count != 1 else ''}", err=True)
    return 0


@destination.command(short_help="Show one on-failure record.")
@click.argument("which", metavar="N|ID")
@click.option("--json", "as_json", is_flag=True, help="The record exactly as Lambda writes it.")
@state_option
def show(which: str, as_json: bool, state: str) -> int:
    """Show the on-failure record N (its number in `destination list`) or with request ID ID."""
    failures = _failures(state)
    chosen = None
    if which.isascii() and which.isdigit():
        number = int(which)
        chosen = failures[number - 1] if 1 <= number <= len(failures) else None
    if chosen is None:
        chosen = next((failure for failure in failures if failure.request_id == which), None)
    if chosen is None:
        have = f"numbers 1..{len(failures)}" if failures else "none yet"
        raise CLIError(f"no on-failure record {printable(which)!r} (by number or request ID) in {state}: {have}")
    if as_json:
        write_json(chosen.record)
        return 0
    record = chosen.record
    click.echo(f"on-failure record {chosen.number} of mapping {printable(chosen.mapping)}")
    for section in ("requestContext", "responseContext", "DDBStreamBatchInfo"):
        value = record.get(section)
        if isinstance(value, Mapping):
            click.echo(f"{section}:")
            for name, item in value.items():
                click.echo(printable(f"  {name}: {_value(item)}"))
    for name in ("version", "timestamp"):
        if name in record:
            click.echo(printable(f"{name}: {_value(record[name])}"))
    return 0


def _failures(state: str) -> list[StoredFailure]:
    from shardline.local._redrive import RedriveError, stored_failures

    with open_store(state, create=False) as store:
        try:
            return stored_failures(store)
        except RedriveError as exc:
            raise CLIError(str(exc)) from None


def _line(failure: StoredFailure) -> str:
    record = failure.record
    context = _section(record, "requestContext")
    info = _section(record, "DDBStreamBatchInfo")
    response = _section(record, "responseContext")
    size = info.get("batchSize")
    records = f"{size} record{'s' if size != 1 else ''}" if isinstance(size, int) else "? records"
    error = response.get("functionError")
    fields = [
        f"{failure.number:>3}",
        _value(record.get("timestamp", "?")),
        failure.mapping,
        _value(context.get("condition", "?")),
        records,
        f"{_value(info.get('shardId', '?'))} {_value(info.get('startSequenceNumber', '?'))}"
        f"..{_value(info.get('endSequenceNumber', '?'))}",
        f"invoked {_value(context.get('approximateInvokeCount', '?'))}x",
    ]
    if error:
        fields.append(f"functionError {_value(error)}")
    return "  ".join(fields)


def _section(record: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = record.get(name)
    return value if isinstance(value, Mapping) else {}


def _value(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return str(value) if isinstance(value, (int, float)) else repr(value)
