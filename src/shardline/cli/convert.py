"""`shardline convert`: DynamoDB typed JSON <-> plain JSON, for items, images and whole events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import click

from shardline._attributes import TYPE_TAGS, deserialize_item, serialize_item
from shardline._attributes import _type_name as _kind
from shardline._exceptions import AttributeValueError

from ._io import EVENT_LIMIT, CLIError, describe_size, read_json, write_json

IMAGES = ("Keys", "NewImage", "OldImage")

EPILOG = (
    """\b
Examples:
  shardline convert event.json                 every image of an event to plain JSON
  shardline convert item.json --to typed       a plain item to DynamoDB's typed JSON
  echo '{"n": {"N": "0.1000000000000000000000000001"}}' | shardline convert -
                                               numbers stay exact, never through float

\b
The input is an item (an object of attributes), an array of items, or a Lambda event whose records'
Keys, NewImage and OldImage are converted. Without --to, typed input becomes plain and plain becomes
typed. Plain JSON has no sets or binaries: converting to it writes sets as sorted arrays and binaries
as base64 text, and converting back makes lists and strings of them. Numbers are written in plain
notation; one beyond DynamoDB's range (say 1e400 outside the images) keeps its exponent.
"""
    + f"Reads at most {describe_size(EVENT_LIMIT)} (a Lambda event is at most 6 MB).\n"
)


@click.command(epilog=EPILOG, short_help="Convert between DynamoDB typed JSON and plain JSON.")
@click.argument("source", metavar="FILE")
@click.option("--to", "target", type=click.Choice(["plain", "typed"]), help="The form to produce.")
@click.option("--compact", is_flag=True, help="One line of JSON.")
def convert(source: str, target: Literal["plain", "typed"] | None, compact: bool) -> int:
    """Convert FILE (or - for standard input) between typed and plain JSON."""
    value, _ = read_json(source, limit=EVENT_LIMIT)
    converted: Any
    if isinstance(value, Mapping) and "Records" in value:
        converted = _convert_event(value, target)
    elif isinstance(value, list):
        converted = [_convert_item(item, target, f"[{index}]") for index, item in enumerate(value)]
    else:
        converted = _convert_item(value, target, "")
    try:
        write_json(converted, compact=compact)
    except AttributeValueError as exc:  # what JSON cannot carry, e.g. nesting deeper than Python can write
        raise CLIError(f"cannot write the result as JSON: {exc}") from None
    return 0


def _looks_typed(item: Mapping[str, Any]) -> bool:
    return bool(item) and all(
        isinstance(av, Mapping) and len(av) == 1 and next(iter(av)) in TYPE_TAGS for av in item.values()
    )


def _convert_item(item: object, target: str | None, path: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise CLIError(f"{path or 'the input'}: expected an item (a JSON object of attributes), got {_kind(item)}")
    direction = target or ("plain" if _looks_typed(item) else "typed")
    try:
        return deserialize_item(item) if direction == "plain" else serialize_item(item)
    except AttributeValueError as exc:
        where = (
            path + exc.path
            if exc.path.startswith("[")
            else f"{path}.{exc.path}"
            if path and exc.path
            else path or exc.path
        )
        raise CLIError(f"{where + ': ' if where else ''}{exc.reason}") from None


def _convert_event(event: Mapping[str, Any], target: str | None) -> dict[str, Any]:
    records = event["Records"]
    if not isinstance(records, list):
        raise CLIError("Records: expected an array of records")
    out = dict(event)
    converted = []
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise CLIError(f"Records[{index}]: expected a record object, got {_kind(record)}")
        if "kinesis" in record:
            raise CLIError(
                f"Records[{index}]: a Kinesis record keeps its images inside base64 data; convert a DynamoDB Streams"
                " event, or the decoded data"
            )
        change = dict(record)
        dynamodb = record.get("dynamodb")
        if isinstance(dynamodb, Mapping):
            dynamodb = dict(dynamodb)
            for field in IMAGES:
                if field in dynamodb:
                    dynamodb[field] = _convert_item(dynamodb[field], target, f"Records[{index}].dynamodb.{field}")
            change["dynamodb"] = dynamodb
        converted.append(change)
    out["Records"] = converted
    return out
