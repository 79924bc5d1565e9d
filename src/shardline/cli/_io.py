"""Input and output for the commands: data to stdout, messages to stderr, one-line errors."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from shardline._exceptions import ShardlineError
from shardline._json import json_dumps

__all__ = ["CLIError", "read_json", "read_text", "write_json"]


class CLIError(ShardlineError):
    """A problem the user can fix, shown as one ``Error: ...`` line (exit status 1)."""


def read_text(source: str) -> str:
    """The text of a file, or of standard input for ``-``."""
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CLIError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{source}: is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise CLIError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise CLIError(f"{source}: cannot read it ({exc.strerror or exc})") from None


def source_name(source: str) -> str:
    return "standard input" if source == "-" else source


def parse_json(text: str, source: str) -> Any:
    """JSON with exact numbers: non-integral numbers become Decimal, as DynamoDB would keep them."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CLIError(
            f"{source_name(source)} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise CLIError(f"{source_name(source)} is nested too deeply to read") from None


def read_json(source: str) -> tuple[Any, int]:
    """The parsed JSON of a file or ``-``, and its size in bytes."""
    text = read_text(source)
    return parse_json(text, source), len(text.encode())


def write_json(value: Any, *, compact: bool = False, stream: TextIO | None = None) -> None:
    """Exact JSON (Decimals as written, sets as sorted arrays, bytes as base64) to stdout."""
    text = json_dumps(value, separators=(",", ":")) if compact else json_dumps(value, indent=2)
    (stream or sys.stdout).write(text + "\n")


def message(text: str) -> None:
    """A line for the person at the terminal (stderr), never mixed into the data."""
    print(text, file=sys.stderr)
