"""`shardline validate`: check events against what AWS really sends."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from shardline.testing._validate import MAX_PROBLEMS, check_event, omitted_problem

from ._io import EVENT_LIMIT, CLIError, describe_size, printable, read_json, source_name

EPILOG = f"""\b
Examples:
  shardline validate event.json
  shardline validate captured/*.json --strict
  shardline generate --count 20 | shardline validate -

\b
Checks: the event's shape and limits (10000 records, 6 MB), every AttributeValue (types, numbers,
base64, sets, nesting), images consistent with the view type and event name, SizeBytes equal to
DynamoDB's item size, sequence number and ARN formats. --strict also flags what AWS's own examples
get away with but real streams never send (eventID "1", SequenceNumber "111", a float
ApproximateCreationDateTime, eventVersion "1.0", userIdentity outside a TTL delete).
Reads at most {describe_size(EVENT_LIMIT)} per file (a Lambda event is at most 6 MB) and lists at most
{MAX_PROBLEMS:,} problems per file, then how many more there are.
Exit status 1 when any problem is found.
"""


@click.command(epilog=EPILOG, short_help="Check events against what AWS really sends.")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--strict", is_flag=True, help="Also flag the lenient cases real streams never produce.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def validate(files: tuple[str, ...], strict: bool, as_json: bool) -> int:
    """Check DynamoDB Streams events (FILE, or - for standard input)."""
    report: dict[str, list[dict[str, Any]]] = {}
    total = 0
    for source in files:
        name = printable(source_name(source))
        try:
            # Bounded: a file larger than the limit (or /dev/zero) is refused after limit + 1 bytes.
            event, size = read_json(source, limit=EVENT_LIMIT)
        except CLIError as exc:
            reason = printable(str(exc)).removeprefix(f"{name}: ").removeprefix(f"{name} ")
            report[name] = [{"path": "", "message": reason, "strict_only": False}]
            total += 1
            continue
        found, omitted = check_event(event, strict=strict, size=size)
        if omitted:
            found.append(omitted_problem(omitted))
        del event  # the next file's event is not read while this one is still held
        report[name] = [problem._asdict() for problem in found]
        total += len(found) - (1 if omitted else 0) + omitted
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        for name, problems in report.items():
            if not problems:
                click.echo(f"{name}: valid")
            for problem in problems:
                where = f"{problem['path']}: " if problem["path"] else ""
                tag = " (strict)" if problem["strict_only"] else ""
                click.echo(f"{name}: {where}{problem['message']}{tag}")
    if total:
        plural = "s" if total != 1 else ""
        click.echo(
            f"{total:,} problem{plural} in {sum(1 for p in report.values() if p)} of {len(files)} file(s)", err=True
        )
    return 1 if total else 0
