"""Input and output for the commands: data to stdout, messages to stderr, one-line errors.

Every command reads its input through `read_bytes` (or `read_text` / `read_json` on top of
it), which reads at most `limit` bytes plus one: a file or a stream larger than the limit (`/dev/zero`, a
10 GB log given by mistake) is refused after `limit + 1` bytes instead of being read to its end. Standard
input is read as bytes and decoded exactly as files are, so `-` and a file name give the same messages.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import IO, Any, Final, TextIO

from shardline._exceptions import JSONInputError, ShardlineError
from shardline._json import json_dumps, json_loads

__all__ = [
    "EVENT_LIMIT",
    "INPUT_LIMIT",
    "LAMBDA_PAYLOAD_LIMIT",
    "CLIError",
    "describe_size",
    "message",
    "parse_json",
    "printable",
    "read_bytes",
    "read_json",
    "read_text",
    "source_name",
    "write_json",
]

# A synchronous Lambda invoke (the way an event source mapping invokes a function) carries at most 6 MB of
# request payload ("Lambda quotas", Function configuration, deployment, and execution: Invocation payload).
LAMBDA_PAYLOAD_LIMIT: Final = 6 * 1024 * 1024
# The most shardline reads as one event: generous (ten times Lambda's payload limit, so oversized test events
# can still be inspected), yet bounded, so that a wrong file name or /dev/zero stops early.
EVENT_LIMIT: Final = 64 * 1024 * 1024
# The default bound of every other input (changes files, env-vars files, filter criteria, items).
INPUT_LIMIT: Final = EVENT_LIMIT


class CLIError(ShardlineError):
    """A problem the user can fix, shown as one `Error: ...` line (exit status 1)."""


def source_name(source: str) -> str:
    """How messages name an input: the file name as given, or "standard input" for `-`."""
    return "standard input" if source == "-" else source


def describe_size(size: int) -> str:
    """A byte count for people: `512 bytes`, `6.0 MB` (MB being 1024 * 1024 bytes, as Lambda counts)."""
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f} MB"


def read_bytes(source: str, *, limit: int | None = INPUT_LIMIT) -> bytes:
    """The bytes of a file, or of standard input for `-`; at most `limit` of them.

    More than `limit` bytes is a `CLIError` that says the limit and why; only `limit + 1` bytes are
    read to find out, so an endless stream stops early. `limit=None` reads everything.
    """
    if source == "-":
        if sys.stdin is None:  # started without a standard input (a detached process)
            raise CLIError("standard input is closed; give a file name instead of '-'")
        stream: IO[bytes] | None = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text-only stand-in for stdin (an embedding program's): its text is the input
            text = sys.stdin.read() if limit is None else sys.stdin.read(limit + 1)
            data = text.encode("utf-8", "surrogateescape")
        else:
            data = _read_from(stream, limit, source)
    else:
        if "\x00" in source:
            raise CLIError(f"{source!r}: a file name cannot hold a NUL character")
        try:
            with open(source, "rb") as file:
                data = _read_from(file, limit, source)
        except FileNotFoundError:
            raise CLIError(f"{source}: no such file") from None
        except IsADirectoryError:
            raise CLIError(f"{source}: is a directory, not a file") from None
        except UnicodeError:  # a name the file system cannot encode (a lone surrogate)
            raise CLIError(f"{printable(source)}: not a file name this system can open") from None
        except OSError as exc:
            raise CLIError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    if limit is not None and len(data) > limit:
        raise CLIError(
            f"{source_name(source)} is larger than {describe_size(limit)}, the most shardline reads as one input"
            f" (a Lambda event is at most {describe_size(LAMBDA_PAYLOAD_LIMIT)}); split it into smaller files"
        )
    return data


def _read_from(stream: IO[bytes], limit: int | None, source: str) -> bytes:
    try:
        return stream.read() if limit is None else stream.read(limit + 1)
    except OSError as exc:  # a directory given as stdin, a device that refuses reads
        raise CLIError(f"{source_name(source)}: cannot read it ({exc.strerror or exc})") from None


def printable(text: str) -> str:
    """`text` with what no terminal can show (lone surrogates) written as escapes, so printing never fails."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def read_text(source: str, *, limit: int | None = INPUT_LIMIT) -> str:
    """The UTF-8 text of a file, or of standard input for `-` (at most `limit` bytes, see `read_bytes`).

    Text that is not UTF-8 is a `CLIError` naming the byte, the same for standard input as for files.
    """
    return _decode(read_bytes(source, limit=limit), source)


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text of an input's bytes; anything else is a `CLIError` naming the input."""
    return _decode(data, source)


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CLIError(f"{source_name(source)}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def parse_json(text: str | bytes, source: str) -> Any:
    """JSON with exact numbers: non-integral numbers become Decimal, as DynamoDB would keep them.

    `source` names the input in messages (a file name, `-` for standard input, or a label such as
    `changes.jsonl, line 3`). Text that is not JSON, or that cannot be read within bounds (nested deeper than
    the interpreter can follow, an integer longer than Python converts), is a `CLIError`.
    """
    try:
        return json_loads(text, parse_float=Decimal)
    except JSONInputError as exc:
        if exc.line:  # a syntax error (or NaN / Infinity) at a place in the text
            hint = ""
            if exc.reason.startswith("Extra data") and exc.column == 1:
                # A second document at the start of a line: JSON Lines, such as `generate --batch-size` writes.
                first = "`head -n 1`" if source == "-" else f"`head -n 1 {source}`"
                hint = f"; it holds one JSON document a line (JSON Lines): give one at a time, e.g. {first}"
            raise CLIError(f"{source_name(source)} is not valid JSON: {exc}{hint}") from None
        raise CLIError(f"{source_name(source)}: {exc.reason}") from None


def read_json(source: str, *, limit: int | None = INPUT_LIMIT) -> tuple[Any, int]:
    """The parsed JSON of a file or `-`, and its size in bytes (at most `limit`, see `read_bytes`)."""
    data = read_bytes(source, limit=limit)
    return parse_json(_decode(data, source), source), len(data)


def write_json(value: Any, *, compact: bool = False, stream: TextIO | None = None) -> None:
    """Exact JSON (Decimals as written, sets as sorted arrays, bytes as base64) to stdout."""
    text = json_dumps(value, separators=(",", ":")) if compact else json_dumps(value, indent=2)
    (stream or sys.stdout).write(text + "\n")


def message(text: str) -> None:
    """A line for the person at the terminal (stderr), never mixed into the data."""
    print(text, file=sys.stderr)
