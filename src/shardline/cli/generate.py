"""`shardline generate`: SAM's sample event, or the events a list of writes would produce.

Events are written as they are built: one record (or one batch, or one window) at a time, so memory stays
bounded however large `--count` is, and a reader such as `head` gets the first batches at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Final, TextIO

import click

from shardline._attributes import TYPE_TAGS
from shardline._exceptions import AttributeValueError, JSONInputError, ShardlineError
from shardline._json import deeper_than, json_dumps, json_loads
from shardline.testing._builder import EventBuilder, check_stream_location, iter_items
from shardline.testing._sam import SAM_CHANGES, sam_sample_event

from ._io import INPUT_LIMIT, LAMBDA_PAYLOAD_LIMIT, CLIError, describe_size, message, read_text, write_json

VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")
# Options that only make sense when shardline builds the event (SAM's sample is fixed text).
BUILDER_OPTIONS = ("view_type", "keys", "batch_size", "kinesis", "seed", "start", "window")

# An event source mapping's BatchSize is at most 10,000 records, and a synchronous invoke carries at most 6 MB
# ("Lambda event source mappings" and "Lambda quotas" in the AWS Lambda Developer Guide): Lambda never delivers
# a larger event, so generate warns about one.
MAX_BATCH_RECORDS: Final = 10_000
# DynamoDB refuses items nested more than 32 levels deep ("Supported data types and naming rules in Amazon
# DynamoDB", Nested attribute depth); a change wraps its item in a few more levels. Deeper lines are refused
# here, before the item is converted, with room left for the codec to report the precise path of 33..40.
_MAX_CHANGE_DEPTH: Final = 40
# The types --key infers from the plain JSON of the writes.
_INFERRED: Final = {str: "S", int: "N", Decimal: "N"}

EPILOG = """\b
Examples:
  shardline generate                               SAM's sample (INSERT, MODIFY, REMOVE of one item)
  shardline generate --region eu-west-1 --table Orders
  shardline generate --changes writes.jsonl --key pk:S --key sk:N
  shardline generate --changes writes.jsonl --key pk --key sk   key types taken from the writes
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
as in DynamoDB. Every line is checked before anything is printed.

\b
Without --batch-size, all records go into one event, written record by record as it is built
(memory stays bounded however large --count is). Lambda never delivers an event of more than
10,000 records (BatchSize's maximum) or 6 MB (the invoke payload limit): such an event is still
written, with a warning on stderr. With --batch-size, each event is printed on its own line
(JSON Lines) as soon as it is full. With --window, one invoke per window; several are JSON Lines.

\b
--key NAME without :TYPE takes the type from the writes: the first --changes line that holds the
attribute (text is S, a number N); with --count alone, a partition key is S (order#001234) and a
sort key N (the line number), as the synthetic items write them.
"""


@click.command(epilog=EPILOG, short_help="Print a DynamoDB Streams Lambda event (SAM's sample, or from writes).")
@click.option(
    "--changes", metavar="FILE", help="JSON Lines of writes to replay ('-' for standard input; at most 64 MB)."
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    help="Put this many synthetic, realistic items (streamed: any number; see --batch-size).",
)
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
    metavar="NAME[:TYPE]",
    help="Key schema, partition key first, TYPE S, N or B (default Id:N, SAM's table); without TYPE, inferred.",
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
    place: dict[str, Any] = {name: options[name] for name in ("region", "partition", "account_id", "table")}
    _check_place(place)
    if options["changes"] is None and options["count"] is None and not given & set(BUILDER_OPTIONS):
        write_json(sam_sample_event(**place), compact=options["compact"])
        return 0
    if options["window"] is not None and (options["kinesis"] or options["batch_size"] is not None):
        raise click.UsageError("--window makes one tumbling-window invoke: leave out --kinesis and --batch-size")

    keys = _key_options(options["keys"])
    changes = _Changes(options["changes"]) if options["changes"] is not None else None
    sam_writes = changes is None and options["count"] is None
    if sam_writes and keys and (len(keys) != 1 or keys[0][0] != "Id" or keys[0][1] not in (None, "N")):
        raise click.UsageError("SAM's sample writes use the key Id:N; give --changes or --count with --key")
    notes: list[str] = []
    schema = _infer_key_types(keys, changes, synthetic=options["count"] is not None, notes=notes)

    def new_builder() -> EventBuilder:
        return _builder(schema, place, options)

    if changes is not None:
        changes.check(new_builder())  # every line, before anything is printed
    for note in notes:  # once the input is known to be good: a failure is one line
        message(note)
    builder = new_builder()
    steps = _steps(builder, changes, options["count"], schema, options["seed"])
    try:
        if options["window"] is not None:
            _write_windows(builder, steps, options["window"], compact=options["compact"])
        elif options["batch_size"] is not None:
            _write_batches(builder, steps, options["batch_size"], kinesis=options["kinesis"])
        else:
            _write_one_event(builder, steps, kinesis=options["kinesis"], compact=options["compact"])
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`shardline generate --count 100000 | head`): it had what it wanted.
        _silence_stdout()
    return 0


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no file descriptor behind stdout (an embedding program's)
        pass


# -- options ------------------------------------------------------------------------------------------


def _check_place(place: dict[str, Any]) -> None:
    try:
        check_stream_location(**place)
    except ValueError as exc:
        field, _, reason = str(exc).partition(" ")
        raise click.UsageError(f"--{field.replace('_', '-')} {reason}") from None


def _key_options(keys: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """The --key options as (name, type), the type None when it is to be inferred."""
    if len(keys) > 2:
        raise click.UsageError("a key has at most two attributes: --key PARTITION[:TYPE] [--key SORT[:TYPE]]")
    schema: list[tuple[str, str | None]] = []
    for text in keys:
        name, colon, kind = text.rpartition(":")
        if not colon:
            name, kind = text, ""
        elif kind.upper() not in ("S", "N", "B"):
            raise click.UsageError(f"--key {_shown(text)}: expected NAME:TYPE with TYPE S, N or B (like pk:S)")
        if not name:
            raise click.UsageError(f"--key {_shown(text)}: the attribute name is missing (like pk:S)")
        if name in (known for known, _ in schema):
            raise click.UsageError(f"--key {_shown(name)} is given twice")
        schema.append((name, kind.upper() or None))
    return schema


def _key_schema(keys: tuple[str, ...]) -> dict[str, str] | None:
    """--key options that must all give their type (`table create`): the schema, None when there are none."""
    schema: dict[str, str] = {}
    for name, kind in _key_options(keys):
        if kind is None:
            raise click.UsageError(f"--key {_shown(name)}: expected NAME:TYPE with TYPE S, N or B (like pk:S)")
        schema[name] = kind
    return schema or None


def _infer_key_types(
    keys: list[tuple[str, str | None]], changes: _Changes | None, *, synthetic: bool, notes: list[str]
) -> dict[str, str] | None:
    """The key schema, each type left out taken from the writes (the first line holding the attribute)."""
    if not keys:
        return None
    schema: dict[str, str] = {}
    for position, (name, given) in enumerate(keys):
        kind = given
        if kind is None:
            found = changes.key_type(name) if changes is not None else None
            if found is not None:
                kind, where = found
                notes.append(f"note: --key {name} is {kind}, inferred from {where}")
            elif changes is None and not synthetic:
                kind = "N"  # SAM's sample: Id is a number
            elif synthetic:
                # The synthetic items' own shape: "order#001234" partition keys, line numbers as sort keys.
                kind = "S" if position == 0 else "N"
                notes.append(f"note: --key {name} is {kind}, as --count's synthetic items write it")
            else:
                assert changes is not None
                raise CLIError(
                    f"--key {name}: no write in {changes.name} holds {name}, so its type cannot be inferred;"
                    f" give it, e.g. --key {name}:S (text), {name}:N (number) or {name}:B (binary)"
                )
        schema[name] = kind
    return schema


def _builder(schema: dict[str, str] | None, place: dict[str, Any], options: Mapping[str, Any]) -> EventBuilder:
    extra: dict[str, Any] = {}
    if options["start"] is not None:
        extra["start"] = options["start"]
    try:
        return EventBuilder(
            key_schema=schema, view_type=options["view_type"].upper(), seed=options["seed"], **place, **extra
        )
    except AttributeValueError as exc:  # the key schema (names and types are checked by the codec)
        raise click.UsageError(f"--key: {exc.reason}") from None
    except (ValueError, TypeError, OverflowError):
        raise click.UsageError(
            f"--start {_shown(options['start'])}: expected an ISO-8601 time such as 2026-01-01T00:00:00Z"
        ) from None


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


# -- the writes ---------------------------------------------------------------------------------------


class _Changes:
    """The --changes input: read once (bounded), parsed line by line each time it is walked, so that no more
    than one line's objects are held at a time."""

    def __init__(self, source: str) -> None:
        self.name = "standard input" if source == "-" else source
        self.text = read_text(source, limit=INPUT_LIMIT)

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each change with where it is (`changes.jsonl, line 3`), its shape checked."""
        empty = True
        for number, line in _lines(self.text):
            if not line.strip():
                continue
            where = f"{self.name}, line {number}"
            yield where, _parse_change(line, where)
            empty = False
        if empty:
            raise CLIError(f'{self.name} holds no changes (expected JSON Lines like {{"put": {{"Id": 1}}}})')

    def key_type(self, name: str) -> tuple[str, str] | None:
        """The type of key attribute `name` in the first write holding it, and where that is."""
        for where, change in self:
            value = _key_value(change, name)
            if value is _ABSENT:
                continue
            kind = _INFERRED.get(type(value))
            if kind is None:
                raise CLIError(
                    f"{where}: the key attribute {_shown(name)} holds {_describe(value)}; a key is text (S),"
                    " a number (N) or binary (B)"
                )
            return kind, where
        return None

    def check(self, builder: EventBuilder) -> None:
        """Apply every change to a scratch builder: any error is found before output starts."""
        records = 0
        for where, change in self:
            if _apply(builder, where, change) is not None:
                records += 1
                builder.build()  # only the model is needed: drop the records as they come
        if not records:
            raise CLIError("the writes change nothing, so the stream has no record to deliver")


_ABSENT: Final[Any] = object()


def _key_value(change: dict[str, Any], name: str) -> Any:
    """The value of key attribute `name` in the item or key a change writes (`_ABSENT` when it has none)."""
    if len(change) != 1:
        return _ABSENT
    ((kind, body),) = change.items()
    if isinstance(body, dict) and kind == "update":
        body = body.get("key")
    return body.get(name, _ABSENT) if isinstance(body, dict) else _ABSENT


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "text" if isinstance(value, str) else "a number"


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """The lines of JSON Lines text and their numbers. Only "\\n" ends a line (with an optional "\\r"): JSON
    text may hold U+2028 and other characters that `str.splitlines` would split at."""
    start = 0
    number = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        number += 1
        yield number, text[start:end].removesuffix("\r")
        start = end + 1


def _parse_change(line: str, where: str) -> dict[str, Any]:
    try:
        change = json_loads(line, parse_float=Decimal)
    except JSONInputError as exc:
        if exc.column:
            raise CLIError(f"{where} is not valid JSON: {exc.reason} (column {exc.column})") from None
        raise CLIError(f"{where}: {exc.reason}") from None
    if not isinstance(change, dict):
        raise CLIError(f'{where}: a change is an object like {{"put": {{...}}}}, got {_describe(change)}')
    if deeper_than(change, _MAX_CHANGE_DEPTH):
        raise CLIError(
            f"{where}: the change is nested more than {_MAX_CHANGE_DEPTH} levels deep; DynamoDB items nest at most"
            " 32 levels"
        )
    values = _items(change)
    if values and all(isinstance(v, dict) and len(v) == 1 and next(iter(v)) in TYPE_TAGS for v in values):
        raise CLIError(f'{where}: write items in plain JSON ({{"Id": 1}}), not DynamoDB\'s typed JSON')
    return change


def _items(change: dict[str, Any]) -> list[Any]:
    """The attribute values of the item or key a change carries (to spot typed JSON given by mistake)."""
    body = next(iter(change.values()), None) if len(change) == 1 else None
    if isinstance(body, dict) and "key" in body and isinstance(body.get("key"), dict):
        assigned = body.get("set")
        return list(body["key"].values()) + list(assigned.values() if isinstance(assigned, dict) else ())
    return list(body.values()) if isinstance(body, dict) else []


def _apply(builder: EventBuilder, where: str, change: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return builder.apply(change)
    except (ShardlineError, ValueError, TypeError) as exc:
        raise CLIError(f"{where}: {exc}") from None


def _steps(
    builder: EventBuilder, changes: _Changes | None, count: int | None, schema: dict[str, str] | None, seed: int
) -> Iterator[dict[str, Any] | None]:
    """Apply the writes one by one, yielding each one's record (None for a write that changes nothing)."""
    if changes is not None:
        for where, change in changes:
            yield _apply(builder, where, change)
    if count is not None:
        names = list(schema or {"Id": "N"})
        for item in iter_items(count, key_schema=schema, seed=seed):
            record = builder.put(item)
            # Synthetic keys are distinct and come after every --changes write: no later write reads this item,
            # so the model forgets it and memory stays bounded however large --count is.
            builder.forget({name: item[name] for name in names})
            yield record
    if changes is None and count is None:
        for change in SAM_CHANGES:
            yield _apply(builder, "SAM's sample", dict(change))


# -- the output ---------------------------------------------------------------------------------------


class _Limits:
    """Warns (stderr) once per event about an event Lambda would never deliver."""

    def __init__(self, advice: str) -> None:
        self.advice = advice

    def check(self, label: str, records: int, size: int, warned: set[str]) -> None:
        if records > MAX_BATCH_RECORDS and "records" not in warned:
            warned.add("records")
            message(
                f"warning: {label} holds more than {MAX_BATCH_RECORDS:,} records, the most Lambda delivers in one"
                f" invoke (BatchSize's maximum): {self.advice}"
            )
        if size > LAMBDA_PAYLOAD_LIMIT and "size" not in warned:
            warned.add("size")
            message(
                f"warning: {label} is larger than {describe_size(LAMBDA_PAYLOAD_LIMIT)}, the most a Lambda invoke"
                f" carries, so Lambda would never deliver it: {self.advice}"
            )


def _write_one_event(
    builder: EventBuilder, steps: Iterator[dict[str, Any] | None], *, kinesis: bool, compact: bool
) -> None:
    """One event of every record, written record by record: the same text as the whole event written at once."""
    out: TextIO = sys.stdout
    limits = _Limits("add --batch-size to split it into events Lambda can deliver")
    warned: set[str] = set()
    records = 0
    size = 0
    for _ in steps:
        for record in builder.build(kinesis=kinesis)["Records"]:
            if compact:
                text = ("," if records else '{"Records":[') + json_dumps(record, separators=(",", ":"))
            else:
                body = "\n".join("    " + line for line in json_dumps(record, indent=2).split("\n"))
                text = (",\n" if records else '{\n  "Records": [\n') + body
            out.write(text)
            records += 1
            size += len(text)  # json_dumps writes ASCII: characters are bytes
            limits.check("the event", records, size, warned)
    if not records:  # pragma: no cover - the writes were checked to produce a record
        raise CLIError("the writes change nothing, so the stream has no record to deliver")
    end = "]}\n" if compact else "\n  ]\n}\n"
    out.write(end)
    limits.check("the event", records, size + len(end) - 1, warned)


def _write_batches(builder: EventBuilder, steps: Iterator[dict[str, Any] | None], size: int, *, kinesis: bool) -> None:
    """Events of `size` records as JSON Lines, each written as soon as it is full."""
    limits = _Limits("use a smaller --batch-size")
    number = 0
    for _ in steps:
        if builder.pending >= size:
            number += 1
            _write_event(builder.build(kinesis=kinesis), f"event {number}", limits)
    if builder.pending:
        _write_event(builder.build(kinesis=kinesis), f"event {number + 1}", limits)


def _write_event(event: dict[str, Any], label: str, limits: _Limits, *, compact: bool = True) -> None:
    text = json_dumps(event, separators=(",", ":")) if compact else json_dumps(event, indent=2)
    sys.stdout.write(text + "\n")
    limits.check(label, len(event["Records"]), len(text), set())


def _write_windows(
    builder: EventBuilder, steps: Iterator[dict[str, Any] | None], seconds: int, *, compact: bool
) -> None:
    """One tumbling-window invoke per window the records fall into, each built once its window is complete.

    A single window is printed as one JSON document; several as JSON Lines. The first complete window is held
    back until the second one shows which it is.
    """
    limits = _Limits("use a shorter --window")
    held: dict[str, Any] | None = None
    several = False
    current: int | None = None  # the window (start time // length) of the first pending record
    number = 0
    for record in steps:
        if record is None:
            continue
        # Lambda aligns windows to multiples of their length since the epoch; a record's whole seconds give
        # the same window as its milliseconds do.
        window = record["dynamodb"]["ApproximateCreationDateTime"] // seconds
        if current is not None and window != current:
            event = builder.build_window(window_seconds=seconds)
            if held is not None:
                several = True
                number += 1
                _write_event(held, f"window {number}", limits)
            held = event
        current = window
    events = [] if held is None else [held]
    if builder.pending:
        events.append(builder.build_window(window_seconds=seconds))
    several = several or len(events) > 1
    for event in events:
        number += 1
        _write_event(event, f"window {number}" if several else "the event", limits, compact=compact or several)
