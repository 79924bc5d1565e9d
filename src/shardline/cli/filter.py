"""`shardline filter`: test FilterCriteria patterns against events, record by record."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from shardline._exceptions import EventShapeError
from shardline._filters import FilterCriteria, FilterPatternError
from shardline._json import json_dumps

from ._io import CLIError, decode_text, parse_json, read_bytes, read_text, source_name

EPILOG = """\b
Examples:
  shardline filter --pattern '{"eventName": ["INSERT"]}' event.json
  shardline filter --pattern '{"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}' event.json
  shardline filter --filters criteria.json event.json --output filtered.json
  shardline generate --count 50 | shardline filter --pattern '{"eventName": ["MODIFY"]}' -
  shardline stream tail Orders | shardline filter --pattern '{"eventName": ["REMOVE"]}' - --output -

\b
EVENT is a Lambda event ({"Records": [...]}), or JSON Lines of stream records, one record a line, as
`shardline stream tail` prints them; --output then writes JSON Lines too.

\b
Patterns use DynamoDB's typed JSON (status: {"S": [...]}) and Lambda's operators: exact values, null,
"", prefix, suffix, equals-ignore-case, anything-but, numeric (not on N values: they are strings),
exists (on leaves only) and $or. Several --pattern options are several filters (ORed). --filters reads
the mapping's FilterCriteria JSON: {"Filters": [{"Pattern": "<JSON text>"}]}.
Fields a pattern names below an array must all match in one element of it, as on AWS.
Exit status 0 when the patterns are valid, 1 when one is not (with AWS's message and the place)
or when a record holds a value JSON cannot (it is named, with its place).
"""


@click.command(epilog=EPILOG, short_help="Test FilterCriteria patterns against an event.")
@click.argument("event_source", metavar="EVENT")
@click.option("--pattern", "patterns", multiple=True, metavar="JSON", help="A filter pattern (repeatable).")
@click.option("--filters", "filters_file", metavar="FILE", help='FilterCriteria JSON: {"Filters": [...]}.')
@click.option("--max-filters", type=click.IntRange(1, 10), default=5, show_default=True, help="AWS's quota.")
@click.option(
    "--output", metavar="FILE", help="Write the event (or JSON Lines) with only the records that pass ('-' for stdout)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
def filter_command(
    event_source: str,
    patterns: tuple[str, ...],
    filters_file: str | None,
    max_filters: int,
    output: str | None,
    quiet: bool,
) -> int:
    """Show which records of EVENT (or - for standard input) pass the filters, and why others do not."""
    texts: list[str | Mapping[str, Any]] = list(patterns)
    if filters_file is not None:
        texts.extend(_criteria_patterns(filters_file))
    if not texts:
        raise click.UsageError("give at least one --pattern or a --filters file")
    try:
        criteria = FilterCriteria(texts, max_filters=max_filters)
    except FilterPatternError as exc:
        raise CLIError(str(exc)) from None
    for index, name in criteria.duplicate_keys:
        click.echo(
            _printable(f"warning: filter {index + 1} repeats the key {name!r}; as on AWS, the last one wins"), err=True
        )

    event, records, lines = _read_records(event_source)
    kept = []
    unreadable = 0
    report = []
    for index, record in enumerate(records):
        label = _label(index, record)
        if not isinstance(record, Mapping):
            report.append(f"{label}: dropped: not a record object")
            continue
        try:
            explanation = criteria.explain(record)  # one match per record: the report and the output agree
        except EventShapeError as exc:  # a value JSON cannot hold: named, and the command fails at the end
            unreadable += 1
            report.append(f"{label}: cannot be matched: {exc}")
            continue
        if explanation.matched:
            kept.append(record)
        report.append(f"{label}: {explanation}")
    to_stdout = output == "-"
    if not quiet:
        for line in report:
            click.echo(_printable(line), err=to_stdout)
    click.echo(f"{len(kept)} of {len(records)} records pass {len(criteria)} filter(s)", err=True)
    if unreadable:
        raise CLIError(f"{unreadable} record(s) could not be matched; nothing was written")
    if output is not None:
        if lines:
            text = "".join(json_dumps(record, separators=(",", ":")) + "\n" for record in kept)
        else:
            text = json_dumps({**event, "Records": kept}, indent=2) + "\n"
        if to_stdout:
            click.echo(text, nl=False)
        else:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CLIError(f"{output}: cannot write it ({exc.strerror or exc})") from None
    return 0


def _read_records(source: str) -> tuple[Mapping[str, Any], list[Any], bool]:
    """The event, its records, and whether they came as JSON Lines (one stream record a line)."""
    text = decode_text(read_bytes(source), source)
    try:
        event = parse_json(text, source)
    except CLIError as whole:
        # Not one JSON document: JSON Lines of records, if its first line is a record; else the first error.
        first = next((line for line in text.splitlines() if line.strip()), "")
        try:
            looks_like_lines = _is_record(parse_json(first, source))
        except CLIError:
            looks_like_lines = False
        if not looks_like_lines:
            raise whole from None
        records = [
            parse_json(line, f"{source_name(source)}, line {number}")
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()
        ]
        return {}, records, True
    if _is_record(event):  # one line of JSON Lines
        return {}, [event], True
    found = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(found, list):
        raise CLIError(
            f'{source_name(source)}: expected a Lambda event with a "Records" array, or JSON Lines of stream records'
        )
    return event, found, False


def _is_record(value: Any) -> bool:
    return isinstance(value, Mapping) and "Records" not in value and isinstance(value.get("dynamodb"), Mapping)


def _criteria_patterns(source: str) -> list[str | Mapping[str, Any]]:
    data = parse_json(read_text(source), source)
    if not isinstance(data, Mapping):
        raise CLIError(f'{source_name(source)}: expected {{"Filters": [{{"Pattern": "<JSON text>"}}]}}')
    if "FilterCriteria" in data and isinstance(data["FilterCriteria"], Mapping):
        data = data["FilterCriteria"]  # a whole mapping description (as `aws lambda get-event-source-mapping`)
    entries = data.get("Filters")
    if not isinstance(entries, list):
        raise CLIError(f'{source_name(source)}: expected {{"Filters": [{{"Pattern": "<JSON text>"}}]}}')
    texts: list[str | Mapping[str, Any]] = []
    for index, entry in enumerate(entries):
        pattern = entry.get("Pattern") if isinstance(entry, Mapping) else None
        if isinstance(pattern, Mapping):  # SAM and CloudFormation YAML often hold the pattern as an object
            texts.append(pattern)  # FilterCriteria writes it as JSON keeping its numbers as written (12.50)
        elif isinstance(pattern, str):
            texts.append(pattern)
        else:
            raise CLIError(f"{source_name(source)}: Filters[{index}] has no Pattern")
    return texts


def _label(index: int, record: Any) -> str:
    label = f"Records[{index}]"
    if isinstance(record, Mapping):
        name = record.get("eventName")
        sequence = (
            record.get("dynamodb", {}).get("SequenceNumber") if isinstance(record.get("dynamodb"), Mapping) else None
        )
        if isinstance(name, str):
            label += f" {name[:40]}"
        if isinstance(sequence, str):
            label += f" {sequence[:40]}"
    return label


def _printable(text: str) -> str:
    # A lone surrogate (from a JSON escape like "\ud800" in an event) cannot be written to a UTF-8 terminal:
    # written as an escape instead, so that printing a report never fails.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
