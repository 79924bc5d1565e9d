"""`shardline table`: the embedded store's tables from the command line; every write lands on the stream."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from shardline._attributes import _type_name as _kind
from shardline._attributes import deserialize_item
from shardline._exceptions import ShardlineError
from shardline._json import json_dumps

from ._io import CLIError, parse_json, read_text, source_name
from ._local import open_store, parse_object, state_option, table_of
from .generate import VIEW_TYPES, _key_schema

if TYPE_CHECKING:
    from shardline.local import Table

EPILOG = """\b
Examples:
  shardline table create Orders --key pk:S --key sk:N
  shardline table put Orders '{"pk": "order#1", "sk": 1, "status": "NEW", "total": 12.50}'
  shardline table update Orders '{"pk": "order#1", "sk": 1}' --set '{"status": "PAID"}' --remove draft
  shardline table get Orders '{"pk": "order#1", "sk": 1}'
  shardline table delete Orders '{"pk": "order#1", "sk": 1}'
  shardline table load Orders items.jsonl
  shardline table scan Orders > items.jsonl

\b
Tables live in a state database (--state, default .shardline/state.db). `table create` creates it (and
the default .shardline/ directory); the other commands need it to exist and never create files. Each
write that changes an item puts a record on the table's stream, in the same commit; `shardline stream
tail` prints them. Items and keys are plain JSON; numbers stay exact.
"""


@click.group(epilog=EPILOG, short_help="Create tables in the local store, write and read their items.")
def table() -> None:
    """Tables of the local store, whose writes produce a DynamoDB stream."""


CREATE_EPILOG = """\b
Examples:
  shardline table create Orders --key pk:S --key sk:N
  shardline table create Sessions --key id:S --ttl-attribute expires --view-type NEW_IMAGE
  shardline table create Events --key pk:S --shards 4 --state /tmp/demo.db

\b
--key NAME:TYPE gives the partition key, then the optional sort key (TYPE S, N or B). The stream's
ARN is printed on stdout.
"""


@table.command(epilog=CREATE_EPILOG, short_help="Create a table with a stream.")
@click.argument("name")
@click.option("--key", "keys", multiple=True, required=True, metavar="NAME:TYPE", help="Key attribute (1 or 2).")
@click.option(
    "--view-type",
    type=click.Choice(VIEW_TYPES, case_sensitive=False),
    default="NEW_AND_OLD_IMAGES",
    show_default=True,
    help="Which images the stream's records carry.",
)
@click.option("--ttl-attribute", metavar="NAME", help="The Number attribute holding expiry times (epoch seconds).")
@click.option("--shards", type=click.IntRange(1, 1000), default=1, show_default=True, help="Open shards.")
@state_option
def create(name: str, keys: tuple[str, ...], view_type: str, ttl_attribute: str | None, shards: int, state: str) -> int:
    """Create table NAME with a stream."""
    schema = _key_schema(keys)
    assert schema is not None
    with open_store(state) as store:
        created = store.create_table(
            name, key_schema=schema, stream_view_type=view_type.upper(), ttl_attribute=ttl_attribute, shard_count=shards
        )
        described = ", ".join(f"{attribute} {kind}" for attribute, kind in schema.items())
        click.echo(f"created table {name} ({described}) in {store.path}, stream {created.stream_view_type}", err=True)
        click.echo(created.stream_arn)
    return 0


PUT_EPILOG = """\b
Examples:
  shardline table put Orders '{"pk": "order#1", "sk": 1, "status": "NEW"}'
  echo '{"pk": "order#2", "sk": 1}' | shardline table put Orders -
"""


@table.command(epilog=PUT_EPILOG, short_help="Put an item (PutItem).")
@click.argument("name")
@click.argument("item", metavar="ITEM")
@state_option
def put(name: str, item: str, state: str) -> int:
    """Store ITEM (a JSON object, or - for standard input) in table NAME, replacing the item with its key."""
    value = parse_object(item, "item")
    with open_store(state, create=False) as store:
        target = table_of(store, name)
        _report(target, _write(lambda: target.put_item(value)), "the stored item is the same")
    return 0


UPDATE_EPILOG = """\b
Examples:
  shardline table update Orders '{"pk": "order#1", "sk": 1}' --set '{"status": "PAID", "paid": true}'
  shardline table update Orders '{"pk": "order#1", "sk": 1}' --remove draft --remove note

\b
As UpdateItem: a missing item is created from the key and the attributes set; key attributes cannot
be changed; an update that changes nothing writes no stream record.
"""


@table.command(epilog=UPDATE_EPILOG, short_help="Set and remove attributes of an item (UpdateItem).")
@click.argument("name")
@click.argument("key", metavar="KEY")
@click.option("--set", "assigned", metavar="JSON", help="Attributes to set, as a JSON object.")
@click.option("--remove", "removed", multiple=True, metavar="ATTRIBUTE", help="An attribute to remove (repeatable).")
@state_option
def update(name: str, key: str, assigned: str | None, removed: tuple[str, ...], state: str) -> int:
    """Update the item with KEY (a JSON object of the key attributes) in table NAME."""
    if assigned is None and not removed:
        raise click.UsageError("give --set JSON and/or --remove ATTRIBUTE")
    key_value = parse_object(key, "key")
    values = parse_object(assigned, "--set value", where="--set") if assigned is not None else None
    with open_store(state, create=False) as store:
        target = table_of(store, name)
        record = _write(lambda: target.update_item(key_value, set=values, remove=removed))
        _report(target, record, "the item already had those values")
    return 0


DELETE_EPILOG = """\b
Examples:
  shardline table delete Orders '{"pk": "order#1", "sk": 1}'
"""


@table.command(epilog=DELETE_EPILOG, short_help="Delete an item (DeleteItem).")
@click.argument("name")
@click.argument("key", metavar="KEY")
@state_option
def delete(name: str, key: str, state: str) -> int:
    """Delete the item with KEY from table NAME (deleting a missing item writes no record)."""
    key_value = parse_object(key, "key")
    with open_store(state, create=False) as store:
        target = table_of(store, name)
        _report(target, _write(lambda: target.delete_item(key_value)), "there was no such item")
    return 0


GET_EPILOG = """\b
Examples:
  shardline table get Orders '{"pk": "order#1", "sk": 1}'
Exit status 1 when there is no such item.
"""


@table.command(epilog=GET_EPILOG, short_help="Print an item (GetItem).")
@click.argument("name")
@click.argument("key", metavar="KEY")
@click.option("--compact", is_flag=True, help="One line of JSON.")
@state_option
def get(name: str, key: str, compact: bool, state: str) -> int:
    """Print the item with KEY from table NAME as plain JSON."""
    key_value = parse_object(key, "key")
    with open_store(state, create=False) as store:
        found = _write(lambda: table_of(store, name).get_item(key_value))
    if found is None:
        click.echo(f"no item with key {json_dumps(key_value)} in table {name}", err=True)
        return 1
    click.echo(json_dumps(found, separators=(",", ":")) if compact else json_dumps(found, indent=2))
    return 0


SCAN_EPILOG = """\b
Examples:
  shardline table scan Orders
  shardline table scan Orders > orders.jsonl && shardline table load Copy orders.jsonl
"""


@table.command(epilog=SCAN_EPILOG, short_help="Print every item, as JSON Lines (Scan).")
@click.argument("name")
@state_option
def scan(name: str, state: str) -> int:
    """Print every item of table NAME, one plain JSON object per line."""
    with open_store(state, create=False) as store:
        items = table_of(store, name).scan()
    for item in items:
        click.echo(json_dumps(item, separators=(",", ":")))
    click.echo(_plural(len(items), "item"), err=True)
    return 0


LOAD_EPILOG = """\b
Examples:
  shardline table load Orders items.jsonl
  shardline table load Orders writes.jsonl --changes
  shardline table scan Orders | shardline table load Copy -

\b
FILE holds JSON Lines: one plain item per line (each a put), or with --changes one write per line, the
format of `shardline generate --changes`:
  {"put": {"pk": "order#1", "sk": 1, "status": "NEW"}}
  {"update": {"key": {"pk": "order#1", "sk": 1}, "set": {"status": "PAID"}, "remove": ["draft"]}}
  {"delete": {"pk": "order#1", "sk": 1}}
The whole file is one transaction: a bad line loads nothing.
"""


@table.command(epilog=LOAD_EPILOG, short_help="Apply a JSON Lines file of items or writes, atomically.")
@click.argument("name")
@click.argument("source", metavar="FILE")
@click.option("--changes", is_flag=True, help="Lines are put/update/delete writes instead of items.")
@state_option
def load(name: str, source: str, changes: bool, state: str) -> int:
    """Load FILE (or - for standard input) into table NAME in one transaction."""
    lines = _read_lines(source, changes)
    counts: Counter[str] = Counter()
    with open_store(state, create=False) as store:
        target = table_of(store, name)
        with store.transaction():
            for where, kind, body in lines:
                try:
                    record = _apply(target, kind, body)
                except ShardlineError as exc:
                    raise CLIError(f"{where}: {exc} (nothing was loaded)") from None
                counts[record["eventName"] if record is not None else "unchanged"] += 1
    written = sum(count for event, count in counts.items() if event != "unchanged")
    summary = f"loaded {_plural(len(lines), 'line')} into {name}: {_plural(written, 'stream record')}"
    detail = ", ".join(f"{counts[event]} {event}" for event in ("INSERT", "MODIFY", "REMOVE") if counts[event])
    if detail:
        summary += f" ({detail})"
    if counts["unchanged"]:
        summary += f"; {counts['unchanged']} changed nothing"
    click.echo(summary, err=True)
    return 0


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _read_lines(source: str, changes: bool) -> list[tuple[str, str, Any]]:
    name = source_name(source)
    lines = []
    for number, line in enumerate(read_text(source).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        if not changes:
            lines.append((where, "put", parse_object(line, "item", where=where)))
            continue
        change = parse_json(line, where)
        if not isinstance(change, Mapping) or len(change) != 1:
            raise CLIError(f'{where}: expected one write: {{"put": {{...}}}}, {{"update": ...}} or {{"delete": ...}}')
        ((kind, body),) = change.items()
        if kind not in ("put", "update", "delete"):
            hint = " (TTL deletes come from expiry, not from a file)" if kind == "ttl_delete" else ""
            raise CLIError(f"{where}: unknown write {kind!r}; expected put, update or delete{hint}")
        if not isinstance(body, Mapping):
            raise CLIError(f"{where}: {kind} takes an object, got {_kind(body)}")
        lines.append((where, kind, dict(body)))
    if not lines:
        raise CLIError(f"{name} holds no lines to load")
    return lines


def _apply(target: Table, kind: str, body: dict[str, Any]) -> dict[str, Any] | None:
    if kind == "put":
        return target.put_item(body)
    if kind == "delete":
        return target.delete_item(body)
    unknown = sorted(str(field) for field in body if field not in ("key", "set", "remove"))
    if unknown:
        raise CLIError(f"update: unknown field {unknown[0]!r}; expected key, set and remove")
    if not isinstance(body.get("key"), Mapping):
        raise CLIError('update: "key" must be an object of the key attributes')
    return target.update_item(body["key"], set=body.get("set"), remove=body.get("remove"))


def _write(action: Any) -> Any:
    """Run a store call; its errors (a bad item, key or update) become one-line CLI errors."""
    try:
        return action()
    except CLIError:
        raise
    except ShardlineError as exc:
        raise CLIError(str(exc)) from None


def _report(target: Table, record: dict[str, Any] | None, unchanged: str) -> None:
    if record is None:
        click.echo(f"no change ({unchanged}): no stream record", err=True)
        return
    stream = record["dynamodb"]
    keys = json_dumps(deserialize_item(stream["Keys"]))
    click.echo(
        f"{record['eventName']} {target.name} {keys}: sequence number {stream['SequenceNumber']}, "
        f"SizeBytes {stream['SizeBytes']}",
        err=True,
    )
