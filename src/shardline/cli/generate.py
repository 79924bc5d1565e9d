"""``shardline generate``: SAM's sample event, or the events a list of writes would produce."""

from __future__ import annotations

from typing import Any

import click

from shardline._attributes import TYPE_TAGS
from shardline._exceptions import ShardlineError
from shardline.testing._builder import EventBuilder, generate_items
from shardline.testing._sam import SAM_CHANGES, sam_sample_event

from ._io import CLIError, parse_json, read_text, write_json

VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")
# Options that only make sense when shardline builds the event (SAM's sample is fixed text).
BUILDER_OPTIONS = ("view_type", "keys", "batch_size", "kinesis", "seed", "start", "window")

EPILOG = """\b
Examples:
  shardline generate                               SAM's sample (INSERT, MODIFY, REMOVE of one item)
  shardline generate --region eu-west-1 --table Orders
  shardline generate --changes writes.jsonl --key pk:S --key sk:N
  shardline generate --count 100 --batch-size 25 --seed 7 > batches.jsonl
  shardline generate --kinesis                     the Kinesis Data Streams form of SAM's story
  shardline generate --count 10 --window 60        a tumbling-window invoke

\b
--changes reads JSON Lines of writes in plain JSON, one per line:
  {"put": {"Id": 1, "Message": "hi"}}
  {"update": {"key": {"Id": 1}, "set": {"Message": "hello"}, "remove": ["Draft"]}}
  {"delete": {"Id": 1}}
  {"ttl_delete": {"Id": 1}}
Writes that change nothing (a put of the same item, a delete of a missing one) produce no record,
as in DynamoDB. With --batch-size, each event is printed on its own line (JSON Lines).
"""


@click.command(epilog=EPILOG, short_help="Print a DynamoDB Streams Lambda event (SAM's sample, or from writes).")
@click.option("--changes", metavar="FILE", help="JSON Lines of writes to replay ('-' for standard input).")
@click.option("--count", type=click.IntRange(min=1), help="Put this many synthetic, realistic items.")
@click.option("--table", default="ExampleTableWithStream", show_default=True, help="Table name.")
@click.option("--region", default="us-east-1", show_default=True, help="AWS Region.")
@click.option("--partition", default="aws", show_default=True, help="AWS partition (aws, aws-cn, aws-us-gov).")
@click.option("--account-id", default="123456789012", show_default=True, help="AWS account ID.")
@click.option(
    "--view-type",
    type=click.Choice(VIEW_TYPES, case_sensitive=False),
    default="NEW_AND_OLD_IMAGES",
    show_default=True,
    help="The stream's view type: which images records carry.",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="NAME:TYPE",
    help="Key schema, partition key first, TYPE S, N or B (default Id:N, SAM's table).",
)
@click.option("--batch-size", type=click.IntRange(1, 10000), help="Split into events of at most this many records.")
@click.option("--kinesis", is_flag=True, help="Kinesis Data Streams for DynamoDB records instead.")
@click.option("--window", type=click.IntRange(1, 900), metavar="SECONDS", help="A tumbling-window invoke.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for IDs and synthetic items.")
@click.option("--start", metavar="TIME", help="Time of the first change, ISO-8601 (default 2026-01-01T00:00:00Z).")
@click.option("--compact", is_flag=True, help="One line of JSON per event.")
@click.pass_context
def generate(ctx: click.Context, /, **options: Any) -> int:
    """Print a DynamoDB Streams Lambda event.

    With no options, the same event as `sam local generate-event dynamodb update`. With --changes or
    --count, the records those writes would put on the table's stream: realistic IDs, increasing
    sequence numbers, exact SizeBytes, images per view type.
    """
    given = {name for name in options if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE}
    place = {name: options[name] for name in ("region", "partition", "account_id", "table")}
    if options["changes"] is None and options["count"] is None and not given & set(BUILDER_OPTIONS):
        write_json(sam_sample_event(**place), compact=options["compact"])
        return 0

    key_schema = _key_schema(options["keys"])
    changes: list[tuple[str, dict[str, Any]]] = []
    if options["changes"] is not None:
        changes.extend(_read_changes(options["changes"]))
    if options["count"] is not None:
        items = generate_items(options["count"], key_schema=key_schema, seed=options["seed"])
        changes.extend((f"synthetic item {index + 1}", {"put": item}) for index, item in enumerate(items))
    if not changes:
        if key_schema is not None and dict(key_schema) != {"Id": "N"}:
            raise click.UsageError("SAM's sample writes use the key Id:N; give --changes or --count with --key")
        changes = [(f"SAM's change {index + 1}", dict(change)) for index, change in enumerate(SAM_CHANGES)]

    builder_options: dict[str, Any] = {"view_type": options["view_type"].upper(), "seed": options["seed"]}
    if options["start"] is not None:
        builder_options["start"] = options["start"]
    try:
        builder = EventBuilder(key_schema=key_schema, **place, **builder_options)
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    for where, change in changes:
        _apply(builder, where, change)
    if builder.pending == 0:
        raise CLIError("the writes change nothing, so the stream has no record to deliver")

    if options["window"] is not None:
        if options["kinesis"] or options["batch_size"] is not None:
            raise click.UsageError("--window makes one tumbling-window invoke: leave out --kinesis and --batch-size")
        # One invoke per window the records fall into; several are printed as JSON Lines.
        windows = []
        while builder.pending:
            windows.append(builder.build_window(window_seconds=options["window"]))
        for window in windows:
            write_json(window, compact=options["compact"] or len(windows) > 1)
    elif options["batch_size"] is not None:
        for event in builder.build_batches(options["batch_size"], kinesis=options["kinesis"]):
            write_json(event, compact=True)
    else:
        write_json(builder.build(kinesis=options["kinesis"]), compact=options["compact"])
    return 0


def _apply(builder: EventBuilder, where: str, change: dict[str, Any]) -> None:
    try:
        builder.apply(change)
    except (ShardlineError, ValueError, TypeError) as exc:
        raise CLIError(f"{where}: {exc}") from None


def _key_schema(keys: tuple[str, ...]) -> dict[str, str] | None:
    if not keys:
        return None
    if len(keys) > 2:
        raise click.UsageError("a key has at most two attributes: --key PARTITION:TYPE [--key SORT:TYPE]")
    schema: dict[str, str] = {}
    for text in keys:
        name, _, kind = text.rpartition(":")
        kind = kind.upper()
        if not name or kind not in ("S", "N", "B"):
            raise click.UsageError(f"--key {text!r}: expected NAME:TYPE with TYPE S, N or B (like pk:S)")
        if name in schema:
            raise click.UsageError(f"--key {name} is given twice")
        schema[name] = kind
    return schema


def _read_changes(source: str) -> list[tuple[str, dict[str, Any]]]:
    name = "standard input" if source == "-" else source
    changes = []
    for number, line in enumerate(read_text(source).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        change = parse_json(line, source)
        if not isinstance(change, dict):
            raise CLIError(f'{where}: a change is an object like {{"put": {{...}}}}, got {type(change).__name__}')
        values = _items(change)
        if values and all(isinstance(v, dict) and len(v) == 1 and next(iter(v)) in TYPE_TAGS for v in values):
            raise CLIError(f'{where}: write items in plain JSON ({{"Id": 1}}), not DynamoDB\'s typed JSON')
        changes.append((where, change))
    if not changes:
        raise CLIError(f'{name} holds no changes (expected JSON Lines like {{"put": {{"Id": 1}}}})')
    return changes


def _items(change: dict[str, Any]) -> list[Any]:
    """The attribute values of the item or key a change carries (to spot typed JSON given by mistake)."""
    body = next(iter(change.values()), None) if len(change) == 1 else None
    if isinstance(body, dict) and "key" in body and isinstance(body.get("key"), dict):
        return list(body["key"].values()) + list((body.get("set") or {}).values())
    return list(body.values()) if isinstance(body, dict) else []
