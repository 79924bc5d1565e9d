"""Decode a DynamoDB Streams Lambda event and show what each record carries.

    shardline generate > event.json && python decode_event.py event.json
    sam local generate-event dynamodb update | python decode_event.py -

It reads the event through shardline's typed, exactly decoded records: a starting
point for a script of your own. ``shardline validate`` and ``shardline convert``
check and convert events from the command line.
"""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from typing import Any

from shardline import ShardlineError, StreamEvent, json_dumps


def show(value: Any) -> str:
    return json_dumps(value, sort_keys=True) if value is not None else "-"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    source = argv[1]
    name = "standard input" if source == "-" else source
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as file:
                text = file.read()
    except OSError as exc:
        print(f"Error: cannot read {source}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        event = StreamEvent(json.loads(text, parse_float=Decimal))
        print(f"{len(event)} record(s)")
        for record in event:
            when = record.approximate_creation_time
            table = record.table_name or "?"
            seq = record.sequence_number
            print(f"\n{record.event_name} on {table}  seq {seq}")
            nbytes = record.size_bytes
            size = "-" if nbytes is None else f"{nbytes} bytes"
            print(f"  time     {when.isoformat() if when else '-'}   size {size}")
            if record.is_ttl_delete:
                print("  deleted by Time to Live")
            print(f"  keys     {show(record.keys)}")
            print(f"  new      {show(record.new_image)}")
            print(f"  old      {show(record.old_image)}")
            if record.changed_attributes is not None:
                changed = ", ".join(sorted(record.changed_attributes))
                print(f"  changed  {changed or '(nothing)'}")
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, as command-line tools do.
        # With standard output on /dev/null, exit has nothing left to flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except json.JSONDecodeError as exc:
        print(f"Error: {name} is not JSON: {exc}", file=sys.stderr)
        return 1
    except ShardlineError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
