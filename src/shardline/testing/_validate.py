"""Check a Lambda event against what DynamoDB Streams and Lambda really send.

`validate_event` never raises on malformed input: it walks whatever it is given and returns the
[`Problem`][shardline.testing.Problem] s it finds, in document order, each with a JSON path: the first 1,000 of them,
then one more saying how many were left out, so that a huge broken event cannot make the report itself huge. Problems
marked `strict_only` are the variations a lenient reader accepts (eventID "1", SequenceNumber "111", a float
ApproximateCreationDateTime, eventVersion "1.0", userIdentity outside a TTL delete); they are reported only with
`strict=True`.

Document order here means: the event itself (its JSON size), `Records`, each record in turn with its fields
in the order AWS writes them, then the tumbling-window fields. A problem found by comparing two places
(a sequence number with the previous record's, an image's key with `Keys`) is reported where the later
place is.
"""

from __future__ import annotations

import binascii
import json
import math
import re
from base64 import b64decode
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Final, NamedTuple

from shardline._attributes import ITEM_SIZE_LIMIT, _binary, _number, _type_name, item_size, join_path
from shardline._exceptions import AttributeValueError, JSONInputError
from shardline._json import json_loads

__all__ = ["MAX_PROBLEMS", "Problem", "check_event", "validate_event"]

#: validate_event lists at most this many problems, then one that counts the others.
MAX_PROBLEMS: Final = 1_000

#: Lambda's largest batch for a stream source (BatchSize 1..10000).
_MAX_RECORDS: Final = 10_000
#: Lambda's synchronous invocation payload limit, 6 MB.
_MAX_EVENT_BYTES: Final = 6_291_456
_MISSING: Final[Any] = object()

_EVENT_NAMES: Final = ("INSERT", "MODIFY", "REMOVE")
# Which images a record carries, by StreamViewType and eventName (the DynamoDB developer guide's "Change data
# capture for DynamoDB Streams" page, StreamViewType).
_IMAGES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "KEYS_ONLY": {"INSERT": (), "MODIFY": (), "REMOVE": ()},
    "NEW_IMAGE": {"INSERT": ("NewImage",), "MODIFY": ("NewImage",), "REMOVE": ()},
    "OLD_IMAGE": {"INSERT": (), "MODIFY": ("OldImage",), "REMOVE": ("OldImage",)},
    "NEW_AND_OLD_IMAGES": {"INSERT": ("NewImage",), "MODIFY": ("NewImage", "OldImage"), "REMOVE": ("OldImage",)},
}
_VIEW_TYPES_TEXT: Final = "KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES"
_KEY_TYPES: Final = ("S", "N", "B")
_PARTITION_KEY_MAX: Final = 2048
_SORT_KEY_MAX: Final = 1024
_TTL_IDENTITY: Final = (("type", "Service"), ("principalId", "dynamodb.amazonaws.com"))
_TTL_IDENTITY_TEXT: Final = '{"type": "Service", "principalId": "dynamodb.amazonaws.com"}'

# [0-9] rather than \d: \d also matches other scripts' digits, which AWS never writes.
_EVENT_ID: Final = re.compile(r"[0-9a-f]{32}")
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_STREAM_ARN: Final = re.compile(
    r"arn:([a-z][a-z0-9-]*):dynamodb:([a-z0-9-]+):([0-9]{12}):table/([A-Za-z0-9_.-]{3,255})"
    r"/stream/([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})"
)
_STREAM_ARN_TEXT: Final = (
    "arn:<partition>:dynamodb:<region>:<12-digit account>:table/<name>/stream/<YYYY-MM-DDTHH:MM:SS.mmm>"
)
_KINESIS_ARN: Final = re.compile(
    r"arn:([a-z][a-z0-9-]*):kinesis:([a-z0-9-]+):([0-9]{12}):stream/([A-Za-z0-9_.-]{1,128})"
)
_TABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_WINDOW_TIME: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{1,9})?Z")

# Plausibility bounds for ApproximateCreationDateTime: 10**11 seconds is the year 5138, 10**11 milliseconds
# early 1973 (before any stream existed), and likewise 10**14 between milliseconds and microseconds. A value
# on the wrong side of a bound is almost surely in the wrong unit, a mistake other languages' libraries make with
# Kinesis Data Streams for DynamoDB records.
_SECONDS_MAX: Final = 10**11
_MILLIS_MIN: Final = 10**11
_MILLIS_MAX: Final = 10**14
_MICROS_MIN: Final = 10**14
_MICROS_MAX: Final = 10**17


class Problem(NamedTuple):
    """One thing wrong with an event: where, what, and whether only a strict check reports it.

    Examples:
        >>> problem = validate_event({"Records": []})[0]
        >>> problem.path, problem.message, problem.strict_only
        ('Records', 'is empty; Lambda never invokes a function with an empty batch', False)
    """

    path: str
    """JSON path of the offending value, e.g. `Records[0].dynamodb.NewImage.lines[2].sku`; `""` for the event."""
    message: str
    """What is wrong and, where useful, what was expected. Never a whole item."""
    strict_only: bool
    """True for the lenient cases (AWS's own documentation examples), reported only with `strict=True`."""


def validate_event(event: object, *, strict: bool = False, size: int | None = None) -> list[Problem]:
    """Every problem with a DynamoDB Streams (or Kinesis Data Streams for DynamoDB) Lambda event.

    Checks the event's shape and limits (1..10000 records, at most 6 MB of JSON), every record's fields,
    its AttributeValues (through the codec), key attributes, images against StreamViewType and eventName,
    SizeBytes against DynamoDB's item size, that all records come from one stream in increasing sequence
    order, Kinesis-wrapped records, and tumbling-window fields. `size` is the event's JSON text length in
    bytes when the caller has it (a file read from disk); otherwise the size of its compact UTF-8 JSON is
    computed, Decimals written exactly.

    Never raises on malformed input; returns `[]` for a valid event. At most 1,000 problems
    are listed; when there are more, a last one (path `""`) says how many were left out.

    Examples:
        >>> event = {"Records": [{"eventID": "1", "eventName": "REMOVE"}]}
        >>> for problem in validate_event(event, strict=True):
        ...     print(problem.path, "|", problem.message, "|", problem.strict_only)
        Records[0].eventID | "1" is not 32 lowercase hex digits, as DynamoDB writes event IDs | True
        Records[0].eventVersion | missing; DynamoDB Streams records carry eventVersion "1.1" | True
        Records[0].eventSource | missing | False
        Records[0].awsRegion | missing | False
        Records[0].dynamodb | missing | False
        Records[0].eventSourceARN | missing | False
    """
    problems, omitted = check_event(event, strict=strict, size=size)
    if omitted:
        problems.append(omitted_problem(omitted))
    return problems


def omitted_problem(count: int) -> Problem:
    """The last problem of a report that lists only the first `MAX_PROBLEMS`."""
    plural = "s" if count != 1 else ""
    return Problem("", f"and {count:,} more problem{plural}, not listed (only the first {MAX_PROBLEMS:,} are)", False)


def check_event(event: object, *, strict: bool = False, size: int | None = None) -> tuple[list[Problem], int]:
    """[`validate_event`][shardline.testing.validate_event]'s work: the first `MAX_PROBLEMS` problems, and how many more
    there are.

    Memory stays bounded however many records are broken: problems past the first ones are counted, not kept.
    """
    out = _Problems(strict)
    _check_event(event, size, out)
    return list(out), out.omitted


class _Problems(list[Problem]):
    """The problems found so far: strict-only ones dropped unless asked for, the rest counted once full."""

    def __init__(self, strict: bool) -> None:
        super().__init__()
        self.strict = strict
        self.omitted = 0

    def append(self, problem: Problem) -> None:
        if problem.strict_only and not self.strict:
            return
        if len(self) >= MAX_PROBLEMS:
            self.omitted += 1
            return
        if not problem.message.isascii():
            # A message quotes the event's own text: lone surrogates escaped, so that it prints anywhere.
            problem = problem._replace(message=problem.message.encode("utf-8", "backslashreplace").decode())
        super().append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)


def _check_event(event: object, size: int | None, out: list[Problem]) -> None:
    if not isinstance(event, Mapping):
        out.append(Problem("", f"a Lambda event must be a JSON object, got {_kind(event)}", False))
        return
    _check_size(event, size, out)
    records = event.get("Records", _MISSING)
    if records is _MISSING:
        out.append(Problem("Records", 'missing; a stream event is {"Records": [...]}', False))
    elif not isinstance(records, (list, tuple)):
        out.append(Problem("Records", f"must be an array of records, got {_kind(records)}", False))
    elif not records:
        out.append(Problem("Records", "is empty; Lambda never invokes a function with an empty batch", False))
    elif len(records) > _MAX_RECORDS:
        out.append(
            Problem(
                "Records",
                f"holds {len(records):,} records; Lambda delivers at most {_MAX_RECORDS:,} per batch "
                "(BatchSize 1..10000)",
                False,
            )
        )
    batch = _Batch()
    if isinstance(records, (list, tuple)):
        for index, record in enumerate(records):
            _check_record(record, index, batch, out)
    if "window" in event:
        _check_window(event, batch, out)
    else:
        # Without a window these flags mean nothing, but a reader of the event still takes them as booleans.
        for name in _WINDOW_FLAGS:
            value = event.get(name)
            if value is not None and not isinstance(value, bool):
                out.append(Problem(name, f"must be true or false, got {_show(value)}", False))


class _Batch:
    """What one record's checks need to know about the records before it."""

    __slots__ = ("arn", "arn_index", "kind", "kind_index", "last")

    def __init__(self) -> None:
        self.kind: str | None = None  # "dynamodb" or "kinesis": the first record's source
        self.kind_index = 0
        self.arn: str | None = None  # the first record's eventSourceARN: the batch's stream
        self.arn_index = 0
        # Per stream: the last sequence number seen as (comparison key, text, record index).
        self.last: dict[tuple[str, str | None], tuple[tuple[int, str], str, int]] = {}


# --------------------------------------------------------------------------------------------------
# The event's size


def _check_size(event: Mapping[Any, Any], size: int | None, out: list[Problem]) -> None:
    if size is None:
        size = _json_size(event, out)
        if size is None:
            return
    if size > _MAX_EVENT_BYTES:
        out.append(
            Problem(
                "",
                f"is {size:,} bytes of JSON; Lambda's invocation payload limit is 6 MB ({_MAX_EVENT_BYTES:,} bytes)",
                False,
            )
        )


def _json_size(value: object, problems: list[Problem]) -> int | None:
    """Bytes of `value` as compact UTF-8 JSON (what `json_dumps(value, separators=(",", ":"),
    ensure_ascii=False)` writes); None after adding a problem for each value JSON cannot carry to
    `problems`, or one saying the event is over Lambda's limit.

    Walked iteratively and without writing the text: an event may nest deeper than the recursion limit, hold
    a reference cycle, or a number such as Decimal("1E+999999999") whose plain form is a billion digits. A
    Python-built event may also use one list in many places (tiny in memory, written out once per place):
    once such sharing is seen, the walk stops as soon as the size passes the limit. UTF-8 without escapes
    because that is what Lambda receives; escaping non-ASCII would overcount.
    """
    size = 0
    found = False
    active: set[int] = set()  # containers on the path being walked, to spot cycles
    seen: set[int] = set()  # every container met, to spot one met again (parsed JSON never shares values)
    shared = False
    # Entries: (value, path node) to visit, or (_MISSING, id) to leave a container. A path node is
    # (parent node, key or index), turned into text only when a problem needs it.
    stack: list[tuple[Any, Any]] = [(value, None)]
    while stack:
        if shared and size > _MAX_EVENT_BYTES:
            problems.append(
                Problem(
                    "",
                    f"is more than {_MAX_EVENT_BYTES:,} bytes of JSON, Lambda's invocation payload limit (6 MB)",
                    False,
                )
            )
            return None
        item, node = stack.pop()
        if item is _MISSING:
            active.discard(node)
            continue
        if isinstance(item, str):
            size += _str_size(str.__str__(item))  # str.__str__: a str enum is written as its value
        elif item is None or isinstance(item, bool):
            size += 5 if item is False else 4
        elif isinstance(item, int):
            size += _int_size(int(item))
        elif isinstance(item, (float, Decimal)):
            if not _is_finite(item):
                found = True
                problems.append(Problem(_node_path(node), f"{item} is not a JSON value; Lambda events are JSON", False))
            else:
                size += len(float.__repr__(item)) if isinstance(item, float) else _decimal_size(item)
        elif isinstance(item, (Mapping, list, tuple)):
            if id(item) in active:
                found = True
                problems.append(Problem(_node_path(node), "contains itself; JSON cannot hold a cycle", False))
                continue
            if id(item) in seen:
                shared = True
            seen.add(id(item))
            active.add(id(item))
            stack.append((_MISSING, id(item)))
            size += 2 + max(len(item) - 1, 0)  # brackets and commas
            children: list[tuple[Any, Any]] = []
            if isinstance(item, Mapping):
                for key, child in item.items():
                    if not isinstance(key, str):
                        found = True
                        problems.append(
                            Problem(
                                _node_path(node), f"has a key that is {_kind(key)}; JSON object keys are strings", False
                            )
                        )
                        continue
                    size += _str_size(str.__str__(key)) + 1  # the colon
                    children.append((child, (node, key)))
            else:
                children.extend((child, (node, index)) for index, child in enumerate(item))
            stack.extend(reversed(children))  # popped first to last: problems come in document order
        else:
            found = True
            problems.append(
                Problem(_node_path(node), f"{_kind(item)} is not a JSON value; Lambda events are JSON", False)
            )
    return None if found else size


def _str_size(text: str) -> int:
    # encode_basestring escapes exactly what json.dumps(ensure_ascii=False) escapes. A lone surrogate has no
    # UTF-8 form; it is counted as the 3 bytes it would take, as the codec does.
    return len(encode_basestring(text).encode("utf-8", "surrogatepass"))


def _int_size(number: int) -> int:
    sign = 1 if number < 0 else 0
    number = abs(number)
    if number < 10**4000:  # below Python's limit on int-to-text conversion (4300 digits)
        return len(int.__repr__(number)) + sign
    # Count the digits without writing them: estimate from the bit length, then correct the estimate.
    digits = max(int((number.bit_length() - 1) * 0.30102999566398120), 1)
    while digits > 1 and number < 10 ** (digits - 1):
        digits -= 1
    while number >= 10**digits:
        digits += 1
    return digits + sign


def _decimal_size(number: Decimal) -> int:
    """Length of shardline's plain text for a finite Decimal (format_number), computed without writing it."""
    sign, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    digits = len(digit_tuple)
    leading = 0
    while leading < digits and digit_tuple[leading] == 0:
        leading += 1
    if leading == digits:
        return 1  # "0", also for -0
    trailing = 0
    while digit_tuple[digits - 1 - trailing] == 0:
        trailing += 1
    count = digits - leading - trailing
    exponent += trailing
    if exponent >= 0:
        length = count + exponent
    else:
        point = count + exponent
        length = count + 1 if point > 0 else 2 - point + count  # "d.dd" or "0.00dd"
    return length + sign


def _node_path(node: Any) -> str:
    parts: list[str | int] = []
    while node is not None:
        node, part = node
        parts.append(part)
    path = ""
    for part in reversed(parts):
        path = f"{path}[{part}]" if isinstance(part, int) else join_path(path, part)
    return path


# --------------------------------------------------------------------------------------------------
# Records


def _check_record(record: object, index: int, batch: _Batch, out: list[Problem]) -> None:
    path = f"Records[{index}]"
    if not isinstance(record, Mapping):
        out.append(Problem(path, f"a stream record must be a JSON object, got {_kind(record)}", False))
        return
    kind = "kinesis" if "kinesis" in record else "dynamodb"
    if batch.kind is None:
        batch.kind, batch.kind_index = kind, index
    elif kind != batch.kind:
        out.append(
            Problem(
                path,
                f"is a {_SOURCE_NAMES[kind]} record but Records[{batch.kind_index}] is a "
                f"{_SOURCE_NAMES[batch.kind]} record; a batch comes from one event source",
                False,
            )
        )
    if kind == "kinesis":
        _check_kinesis_record(record, path, index, batch, out)
    else:
        _check_stream_record(record, path, index, batch, out)


_SOURCE_NAMES: Final = {"dynamodb": "DynamoDB Streams", "kinesis": "Kinesis"}


def _check_stream_record(record: Mapping[str, Any], path: str, index: int, batch: _Batch, out: list[Problem]) -> None:
    """A DynamoDB Streams record, fields in the order AWS writes them."""
    region = _peek_str(record, "awsRegion")
    arn = _peek_str(record, "eventSourceARN")

    event_id = _string(record, "eventID", f"{path}.eventID", out)
    if event_id is not None and not _EVENT_ID.fullmatch(event_id):
        # Lenient: AWS's own documentation examples use "1", "2", ...
        out.append(
            Problem(
                f"{path}.eventID",
                f"{_show(event_id)} is not 32 lowercase hex digits, as DynamoDB writes event IDs",
                True,
            )
        )
    event_name = _event_name(record, f"{path}.eventName", out)

    _event_version(record, "1.1", "DynamoDB Streams records", f"{path}.eventVersion", out)

    _constant(record, "eventSource", "aws:dynamodb", f"{path}.eventSource", out)
    _string(record, "awsRegion", f"{path}.awsRegion", out)
    _check_change(
        record.get("dynamodb", _MISSING), f"{path}.dynamodb", out, event_name=event_name, sequence=(batch, arn, index)
    )

    where = f"{path}.eventSourceARN"
    if _string(record, "eventSourceARN", where, out) is not None:
        assert arn is not None
        match = _STREAM_ARN.fullmatch(arn)
        if match is None:
            out.append(Problem(where, f"{_show(arn)} is not a DynamoDB stream ARN ({_STREAM_ARN_TEXT})", False))
        else:
            try:
                datetime.strptime(match[5], "%Y-%m-%dT%H:%M:%S.%f")
            except ValueError:
                out.append(Problem(where, f"its stream label {match[5]} is not a valid time", False))
            if region is not None and match[2] != region:
                out.append(Problem(where, f"names region {match[2]} but awsRegion is {region}", False))
        _same_stream(arn, where, batch, index, out)

    identity = record.get("userIdentity")
    if identity is not None:  # null is how a lenient writer says "none"
        _check_identity(identity, f"{path}.userIdentity", event_name, out)


def _check_kinesis_record(record: Mapping[str, Any], path: str, index: int, batch: _Batch, out: list[Problem]) -> None:
    """A Kinesis record carrying a DynamoDB change record as base64 JSON in `kinesis.data`."""
    region = _peek_str(record, "awsRegion")
    arn = _peek_str(record, "eventSourceARN")
    kinesis = record["kinesis"]
    where = f"{path}.kinesis"
    if not isinstance(kinesis, Mapping):
        out.append(Problem(where, f"must be an object, got {_kind(kinesis)}", False))
    else:
        _check_sequence(
            kinesis.get("sequenceNumber", _MISSING),
            f"{where}.sequenceNumber",
            out,
            batch=batch,
            stream=("kinesis", arn),
            index=index,
        )
        change = _decode_data(kinesis.get("data", _MISSING), f"{where}.data", out)
        if change is not None:
            _check_kinesis_change(change, f"{where}.data", region, out)
    _constant(record, "eventSource", "aws:kinesis", f"{path}.eventSource", out)
    _event_version(record, "1.0", "Kinesis records", f"{path}.eventVersion", out)
    _string(record, "eventID", f"{path}.eventID", out)
    _constant(record, "eventName", "aws:kinesis:record", f"{path}.eventName", out)
    _string(record, "awsRegion", f"{path}.awsRegion", out)
    where = f"{path}.eventSourceARN"
    if _string(record, "eventSourceARN", where, out) is not None:
        assert arn is not None
        match = _KINESIS_ARN.fullmatch(arn)
        if match is None:
            out.append(
                Problem(
                    where,
                    f"{_show(arn)} is not a Kinesis stream ARN "
                    "(arn:<partition>:kinesis:<region>:<12-digit account>:stream/<name>)",
                    False,
                )
            )
        elif region is not None and match[2] != region:
            out.append(Problem(where, f"names region {match[2]} but awsRegion is {region}", False))
        _same_stream(arn, where, batch, index, out)


def _decode_data(data: object, where: str, out: list[Problem]) -> Mapping[str, Any] | None:
    if data is _MISSING:
        out.append(Problem(where, "missing; it carries the DynamoDB change record as base64 JSON", False))
        return None
    if not isinstance(data, str):
        out.append(Problem(where, f"must be base64 text, got {_kind(data)}", False))
        return None
    try:
        raw = b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        out.append(Problem(where, "is not valid base64 text", False))
        return None
    try:
        change = json_loads(raw, parse_float=Decimal)  # exact numbers, as the event itself is read
    except JSONInputError as exc:
        out.append(Problem(where, f"decodes to bytes that are not JSON text ({exc})", False))
        return None
    if not isinstance(change, dict):
        out.append(Problem(where, f"decodes to {_kind(change)}; expected a DynamoDB change record (an object)", False))
        return None
    return change


def _check_kinesis_change(change: Mapping[str, Any], path: str, outer_region: str | None, out: list[Problem]) -> None:
    """The DynamoDB record inside a Kinesis record, fields in the order AWS writes them."""
    region = _string(change, "awsRegion", f"{path}.awsRegion", out)
    if region is not None and outer_region is not None and region != outer_region:
        # Kinesis Data Streams for DynamoDB needs the Kinesis stream in the table's account and region.
        out.append(
            Problem(f"{path}.awsRegion", f"is {region} but the Kinesis record's awsRegion is {outer_region}", False)
        )
    event_id = _string(change, "eventID", f"{path}.eventID", out)
    if event_id is not None and not _UUID.fullmatch(event_id):
        out.append(
            Problem(
                f"{path}.eventID",
                f"{_show(event_id)} is not a UUID, as DynamoDB writes the IDs of records it sends to Kinesis",
                True,
            )
        )
    event_name = _event_name(change, f"{path}.eventName", out)
    identity = change.get("userIdentity")
    if identity is not None:  # Kinesis records carry "userIdentity": null unless Time to Live deleted the item
        _check_identity(identity, f"{path}.userIdentity", event_name, out)
    _constant(change, "recordFormat", "application/json", f"{path}.recordFormat", out)
    table = _string(change, "tableName", f"{path}.tableName", out)
    if table is not None and not _TABLE_NAME.fullmatch(table):
        out.append(
            Problem(
                f"{path}.tableName",
                f"{_show(table)} is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)",
                False,
            )
        )
    _check_change(change.get("dynamodb", _MISSING), f"{path}.dynamodb", out, event_name=event_name, sequence=None)
    _constant(change, "eventSource", "aws:dynamodb", f"{path}.eventSource", out)
    out.extend(_foreign(f"{path}.{name}", name) for name in ("eventVersion", "eventSourceARN") if name in change)


def _foreign(where: str, name: str) -> Problem:
    # Lenient readers ignore these, but their presence means the record was not written by AWS: a DynamoDB
    # Streams record wrapped by hand, typically.
    return Problem(
        where,
        f"Kinesis Data Streams for DynamoDB records carry no {name} (DynamoDB Streams records do)",
        True,
    )


# --------------------------------------------------------------------------------------------------
# The dynamodb section


def _check_change(
    ddb: object,
    path: str,
    out: list[Problem],
    *,
    event_name: str | None,
    sequence: tuple[_Batch, str | None, int] | None,
) -> None:
    """The `dynamodb` section of a DynamoDB Streams record, or (`sequence` None) of a Kinesis one.

    `sequence` is the batch so far, the record's stream ARN and its index, for the sequence order check.
    """
    kinesis = sequence is None
    if ddb is _MISSING:
        out.append(Problem(path, "missing", False))
        return
    if not isinstance(ddb, Mapping):
        out.append(Problem(path, f"must be an object, got {_kind(ddb)}", False))
        return
    view = _peek_str(ddb, "StreamViewType") if not kinesis else None
    if view is not None and view not in _IMAGES:
        view = None

    _check_creation_time(ddb, path, kinesis, out)
    keys_size, keys = _check_keys(ddb.get("Keys", _MISSING), f"{path}.Keys", out)
    sizes: list[tuple[str, int]] | None = [("Keys", keys_size)] if keys_size is not None else None
    for field in ("NewImage", "OldImage"):
        where = f"{path}.{field}"
        raw = ddb.get(field, _MISSING)
        if raw is not _MISSING:
            size = _check_image(raw, where, keys, out)
            if size is None:
                sizes = None
            elif sizes is not None:
                sizes.append((field, size))
        present = raw is not _MISSING and raw is not None
        _check_presence(field, where, out, present=present, view=view, event_name=event_name)

    where = f"{path}.SequenceNumber"
    if sequence is not None:
        batch, arn, index = sequence
        _check_sequence(
            ddb.get("SequenceNumber", _MISSING), where, out, batch=batch, stream=("dynamodb", arn), index=index
        )
    elif "SequenceNumber" in ddb:
        out.append(_foreign(where, "dynamodb.SequenceNumber"))

    where = f"{path}.SizeBytes"
    value = ddb.get("SizeBytes", _MISSING)
    if value is _MISSING:
        out.append(Problem(where, "missing", False))
    elif not _is_int(value):
        out.append(Problem(where, f"must be a positive integer, got {_show(value)}", False))
    elif value < 1:
        out.append(Problem(where, f"must be at least 1, got {_show(value)}", False))
    elif sizes is not None:
        expected = sum(size for _, size in sizes)
        if value != expected:
            parts = " + ".join(f"{field} ({size})" for field, size in sizes)
            out.append(Problem(where, f"is {_show(value)}, but DynamoDB's size of {parts} is {expected}", False))

    where = f"{path}.StreamViewType"
    if kinesis:
        if "StreamViewType" in ddb:
            out.append(_foreign(where, "dynamodb.StreamViewType"))
        return
    value = ddb.get("StreamViewType", _MISSING)
    if value is _MISSING:
        out.append(Problem(where, "missing", False))
    elif view is None:
        out.append(Problem(where, f"must be {_VIEW_TYPES_TEXT}, got {_show(value)}", False))


def _check_creation_time(ddb: Mapping[str, Any], path: str, kinesis: bool, out: list[Problem]) -> None:
    where = f"{path}.ApproximateCreationDateTime"
    precision = ddb.get("ApproximateCreationDateTimePrecision", _MISSING) if kinesis else _MISSING
    unit = "seconds"
    if kinesis:
        # Milliseconds in Kinesis records unless the table asked for microseconds (the DynamoDB developer guide,
        # "Kinesis Data Streams for DynamoDB": ApproximateCreationDateTimePrecision).
        unit = "microseconds" if precision == "MICROSECOND" else "milliseconds"
    value = ddb.get("ApproximateCreationDateTime", _MISSING)
    if value is _MISSING:
        out.append(Problem(where, f"missing; DynamoDB writes the time of the change in epoch {unit}", True))
    elif isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        out.append(Problem(where, f"must be a number of epoch {unit}, got {_kind(value)}", False))
    elif not _is_finite(value):
        out.append(Problem(where, f"must be a finite number of epoch {unit}, got {_show(value)}", False))
    elif not _is_integral(value):
        out.append(Problem(where, f"{_show(value)} is not a whole number of epoch {unit}", False))
    elif value < 0:
        out.append(Problem(where, f"{_show(value)} is negative; DynamoDB writes epoch {unit} since 1970", False))
    else:
        if not isinstance(value, int):
            # Lenient: some producers write whole seconds as 1693997155.0.
            out.append(
                Problem(
                    where, f"{_show(value)} is written as a float; DynamoDB writes epoch {unit} as an integer", True
                )
            )
        if unit == "seconds" and value >= _SECONDS_MAX:
            out.append(
                Problem(
                    where,
                    f"{_show(value)} is after the year 5000 in epoch seconds (milliseconds?); DynamoDB Streams "
                    "records carry seconds",
                    False,
                )
            )
        elif unit == "milliseconds" and value < _MILLIS_MIN:
            out.append(
                Problem(
                    where,
                    f"{_show(value)} looks like epoch seconds; Kinesis Data Streams for DynamoDB records carry "
                    "milliseconds",
                    False,
                )
            )
        elif unit == "milliseconds" and value >= _MILLIS_MAX:
            out.append(
                Problem(
                    where,
                    f"{_show(value)} looks like epoch microseconds; those need ApproximateCreationDateTimePrecision "
                    "MICROSECOND",
                    False,
                )
            )
        elif unit == "microseconds" and value < _MICROS_MIN:
            out.append(
                Problem(
                    where,
                    f"{_show(value)} looks like epoch seconds or milliseconds; with "
                    "ApproximateCreationDateTimePrecision MICROSECOND it is in microseconds",
                    False,
                )
            )
        elif unit == "microseconds" and value >= _MICROS_MAX:
            out.append(Problem(where, f"{_show(value)} is after the year 5000 in epoch microseconds", False))
    if precision is not _MISSING and not (isinstance(precision, str) and precision in ("MILLISECOND", "MICROSECOND")):
        out.append(
            Problem(
                f"{path}.ApproximateCreationDateTimePrecision",
                f"must be MILLISECOND or MICROSECOND, got {_show(precision)}",
                False,
            )
        )


def _check_keys(raw: object, path: str, out: list[Problem]) -> tuple[int | None, dict[str, Mapping[str, Any]]]:
    """Check `Keys`; return its item size (None when it has a problem) and its usable key attributes."""
    if raw is _MISSING:
        out.append(Problem(path, "missing; every record carries the item's key attributes", False))
        return None, {}
    if not isinstance(raw, Mapping):
        out.append(Problem(path, f"must be an object of key attributes, got {_kind(raw)}", False))
        return None, {}
    if not raw:
        out.append(Problem(path, "is empty; every record carries the item's key attributes (1 or 2)", False))
        return None, {}
    ok = len(raw) <= 2
    if not ok:
        out.append(
            Problem(
                path,
                f"holds {len(raw)} attributes; a table's key is 1 attribute (partition key) or 2 "
                "(partition and sort key)",
                False,
            )
        )
    total = 0
    keys: dict[str, Mapping[str, Any]] = {}
    large = 0
    for name, av in raw.items():
        size = _attribute_size(name, av, path, out)
        if size is None:
            ok = False
            continue
        total += size
        ((tag, _),) = av.items()
        where = join_path(path, name)
        value_size = size - len(name.encode())  # S and B: the value's bytes (a valid name is UTF-8 text)
        if tag not in _KEY_TYPES:
            out.append(Problem(where, f"is of type {tag}; key attributes are of type S, N or B", False))
        elif value_size == 0:
            out.append(Problem(where, "is empty; DynamoDB rejects empty key values", False))
        elif tag != "N" and value_size > _PARTITION_KEY_MAX:
            out.append(
                Problem(
                    where,
                    f"is {value_size:,} bytes; a partition key holds at most {_PARTITION_KEY_MAX:,} bytes "
                    f"and a sort key {_SORT_KEY_MAX:,}",
                    False,
                )
            )
        else:
            keys[name] = av
            large += tag != "N" and value_size > _SORT_KEY_MAX
            continue
        ok = False
    if len(raw) == 2 and large == 2:
        # One of the two is the sort key (Keys does not say which), and a sort key holds at most 1,024 bytes.
        out.append(
            Problem(
                path,
                f"both key attributes exceed {_SORT_KEY_MAX:,} bytes; one is the sort key, which holds at most "
                f"{_SORT_KEY_MAX:,}",
                False,
            )
        )
        ok = False
    return (total if ok else None), (keys if len(raw) <= 2 else {})


def _check_image(raw: object, path: str, keys: dict[str, Mapping[str, Any]], out: list[Problem]) -> int | None:
    """Check a NewImage or OldImage; return its item size, or None when an attribute has a problem."""
    if not isinstance(raw, Mapping):
        out.append(Problem(path, f"must be an object of attribute names to AttributeValues, got {_kind(raw)}", False))
        return None
    ok = True
    total = 0
    valid: set[Any] = set()
    for name, av in raw.items():
        size = _attribute_size(name, av, path, out)
        if size is None:
            ok = False
        else:
            total += size
            valid.add(name)
    if ok and total > ITEM_SIZE_LIMIT:
        out.append(
            Problem(
                path,
                f"is {total:,} bytes; DynamoDB items are at most {ITEM_SIZE_LIMIT:,} bytes (400 KB, names included)",
                False,
            )
        )
    # Every image holds the item's key attributes, with the values Keys has (Keys is the
    # primary key of the item the images describe).
    for name, key in keys.items():
        where = join_path(path, name)
        if name not in raw:
            out.append(Problem(where, f"missing: an image holds every key attribute, and Keys has {name}", False))
        elif name in valid:
            difference = _key_difference(key, raw[name])
            if difference:
                out.append(Problem(where, f"does not match {join_path('Keys', name)}: {difference}", False))
    return total if ok else None


def _attribute_size(name: Any, av: object, path: str, out: list[Problem]) -> int | None:
    """The codec's size of one attribute (name included), or None after reporting why it is invalid.

    Attribute by attribute rather than the whole image, so that every bad attribute is reported, not
    only the first.
    """
    try:
        return item_size({name: av})
    except AttributeValueError as exc:
        where = exc.path
        if not where:
            where = path
        elif where.startswith("["):
            where = path + where
        else:
            where = f"{path}.{where}"
        out.append(Problem(where, exc.reason, False))
        return None


def _key_difference(key: Mapping[str, Any], other: Mapping[str, Any]) -> str:
    """Why two valid AttributeValues (`key` of type S, N or B) differ, or "" when they are equal."""
    ((tag, value),) = key.items()
    ((other_tag, other_value),) = other.items()
    if tag != other_tag:
        return f"{other_tag} here, {tag} in Keys"
    if tag == "N":
        # The codec's reading of a valid N text is exact and so is comparing Decimals: "101.0" equals "101".
        same = _number(value) == _number(other_value)
    elif tag == "B":
        same = _binary(value) == _binary(other_value)
    else:
        same = value == other_value
    return "" if same else "another value"


def _check_presence(
    field: str, path: str, out: list[Problem], *, present: bool, view: str | None, event_name: str | None
) -> None:
    """An image missing that the view type requires, or present where it cannot be."""
    if event_name is None:
        return
    if view is not None:
        required = field in _IMAGES[view][event_name]
        if required and not present:
            out.append(Problem(path, f"{view} {event_name} records carry {field}; it is missing", False))
        elif present and not required:
            out.append(Problem(path, f"{view} {event_name} records carry no {field}; this one has one", False))
    elif present and (field, event_name) in (("OldImage", "INSERT"), ("NewImage", "REMOVE")):
        # Whatever the view type: nothing existed before an INSERT, nothing is left after a REMOVE.
        reason = "there is no item before an INSERT" if event_name == "INSERT" else "there is no item after a REMOVE"
        out.append(Problem(path, f"{event_name} records never carry {field}: {reason}", False))


def _check_sequence(
    value: object, where: str, out: list[Problem], *, batch: _Batch, stream: tuple[str, str | None], index: int
) -> None:
    """A sequence number: digits, and (per stream) greater than the previous record's."""
    dynamodb = stream[0] == "dynamodb"
    if value is _MISSING:
        out.append(Problem(where, "missing", False))
        return
    if not isinstance(value, str):
        out.append(Problem(where, f"must be a string of digits, got {_kind(value)}", False))
        return
    if not (value.isascii() and value.isdigit()):
        out.append(Problem(where, f"{_show(value)} is not a string of digits", False))
        return
    if dynamodb and not 21 <= len(value) <= 40:
        # Lenient: AWS's documentation example uses "111".
        out.append(
            Problem(where, f"{_show(value)} has {len(value)} digits; DynamoDB sequence numbers have 21 to 40", True)
        )
    significant = value.lstrip("0")
    key = (len(significant), significant)  # numeric order without int(): no limit on the number of digits
    last = batch.last.get(stream)
    if last is not None and key <= last[0]:
        out.append(
            Problem(
                where,
                f"{_show(value)} does not come after {_show(last[1])} of Records[{last[2]}]; a batch is read from "
                "one shard, in increasing sequence order",
                False,
            )
        )
    batch.last[stream] = (key, value, index)


def _same_stream(arn: str, where: str, batch: _Batch, index: int, out: list[Problem]) -> None:
    if batch.arn is None:
        batch.arn, batch.arn_index = arn, index
    elif arn != batch.arn:
        out.append(
            Problem(
                where, f"differs from Records[{batch.arn_index}].eventSourceARN; a batch is read from one stream", False
            )
        )


def _check_identity(identity: object, path: str, event_name: str | None, out: list[Problem]) -> None:
    if event_name is not None and event_name != "REMOVE":
        # Lenient: a published example puts it on an INSERT, but real streams write it only on TTL deletes.
        out.append(
            Problem(
                path,
                f"{event_name} records carry no userIdentity; DynamoDB puts it only on REMOVE records that "
                "Time to Live made",
                True,
            )
        )
    if not isinstance(identity, Mapping):
        out.append(Problem(path, f"must be {_TTL_IDENTITY_TEXT} (a Time to Live delete), got {_kind(identity)}", False))
        return
    for field, expected in _TTL_IDENTITY:
        value = identity.get(field, _MISSING)
        if value is _MISSING:
            out.append(Problem(f"{path}.{field}", f'missing; a Time to Live delete has "{expected}"', False))
        elif value != expected:
            out.append(Problem(f"{path}.{field}", f'must be "{expected}", got {_show(value)}', False))
    for name in identity:
        if name not in ("type", "principalId"):
            where = join_path(path, name) if isinstance(name, str) and name else path
            out.append(Problem(where, "unexpected field; userIdentity holds only type and principalId", False))


# --------------------------------------------------------------------------------------------------
# Tumbling windows


_WINDOW_FLAGS: Final = ("isFinalInvokeForWindow", "isWindowTerminatedEarly")


def _check_window(event: Mapping[str, Any], batch: _Batch, out: list[Problem]) -> None:
    window = event["window"]
    if not isinstance(window, Mapping):
        out.append(Problem("window", f"must be an object with start and end times, got {_kind(window)}", False))
    else:
        start = _window_time(window, "start", out)
        end = _window_time(window, "end", out)
        if start is not None and end is not None and not start[0] < end[0]:
            out.append(Problem("window.end", f"{_show(end[1])} is not after window.start {_show(start[1])}", False))
    state = event.get("state", _MISSING)
    if state is _MISSING:
        out.append(Problem("state", "missing; Lambda passes {} on a window's first invoke", False))
    elif not isinstance(state, Mapping):
        out.append(Problem("state", f"must be a JSON object, got {_kind(state)}", False))
    _string(event, "shardId", "shardId", out)
    arn = _string(event, "eventSourceARN", "eventSourceARN", out)
    if arn is not None and batch.arn is not None and arn != batch.arn:
        out.append(
            Problem(
                "eventSourceARN",
                f"differs from Records[{batch.arn_index}].eventSourceARN; a window covers one stream",
                False,
            )
        )
    for name in _WINDOW_FLAGS:
        value = event.get(name, _MISSING)
        if value is _MISSING:
            out.append(Problem(name, "missing", False))
        elif not isinstance(value, bool):
            out.append(Problem(name, f"must be true or false, got {_show(value)}", False))


def _window_time(
    window: Mapping[str, Any], name: str, out: list[Problem]
) -> tuple[tuple[datetime, Decimal], str] | None:
    where = f"window.{name}"
    text = _string(window, name, where, out)
    if text is None:
        return None
    match = _WINDOW_TIME.fullmatch(text)
    if match is None:
        out.append(Problem(where, f"{_show(text)} is not an ISO-8601 UTC time such as 2020-07-30T17:00:00Z", False))
        return None
    try:
        moment = datetime.strptime(match[1], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        out.append(Problem(where, f"{_show(text)} is not a valid time", False))
        return None
    return (moment, Decimal("0" + (match[2] or ""))), text


# --------------------------------------------------------------------------------------------------
# Field helpers


def _peek_str(container: Mapping[str, Any], name: str) -> str | None:
    """A field's value when it is a non-empty string, for checks elsewhere in the record; no report."""
    value = container.get(name)
    return value if isinstance(value, str) and value else None


def _string(container: Mapping[str, Any], name: str, where: str, out: list[Problem]) -> str | None:
    """A required non-empty string field: report what is wrong, return the string when it is usable."""
    value = container.get(name, _MISSING)
    if value is _MISSING:
        out.append(Problem(where, "missing", False))
    elif not isinstance(value, str):
        out.append(Problem(where, f"must be a string, got {_kind(value)}", False))
    elif not value:
        out.append(Problem(where, "must not be empty", False))
    else:
        return value
    return None


def _constant(container: Mapping[str, Any], name: str, expected: str, where: str, out: list[Problem]) -> None:
    value = container.get(name, _MISSING)
    if value is _MISSING:
        out.append(Problem(where, "missing", False))
    elif not (isinstance(value, str) and value == expected):
        out.append(Problem(where, f'must be "{expected}", got {_show(value)}', False))


def _event_name(container: Mapping[str, Any], where: str, out: list[Problem]) -> str | None:
    value = container.get("eventName", _MISSING)
    if value is _MISSING:
        out.append(Problem(where, "missing; INSERT, MODIFY or REMOVE", False))
    elif not (isinstance(value, str) and value in _EVENT_NAMES):
        out.append(Problem(where, f"must be INSERT, MODIFY or REMOVE, got {_show(value)}", False))
    else:
        return str.__str__(value)
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite(value: int | float | Decimal) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return not isinstance(value, Decimal) or value.is_finite()


def _is_integral(value: int | float | Decimal) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return value == value.to_integral_value()


def _event_version(record: Mapping[str, Any], expected: str, carriers: str, where: str, out: list[Problem]) -> None:
    """eventVersion: a string, and (strict only: documentation examples vary) the one AWS writes."""
    version = record.get("eventVersion", _MISSING)
    if version is _MISSING:
        out.append(Problem(where, f'missing; {carriers} carry eventVersion "{expected}"', True))
    elif not isinstance(version, str):
        out.append(Problem(where, f"must be a string, got {_kind(version)}", False))
    elif version != expected:
        out.append(Problem(where, f'{_show(version)} is not "{expected}", the version {carriers} carry', True))


def _kind(value: object) -> str:
    """The JSON kind of a value ("a string", "null"...), or "a Python set" for what JSON does not have."""
    kind = _type_name(value)
    return kind if kind == "null" or kind.startswith(("a ", "an ")) else f"a Python {kind}"


def _show(value: object) -> str:
    """A short rendering of a scalar for a message; containers are named by kind, never dumped."""
    if isinstance(value, str):
        # Lone surrogates escaped: a message must print anywhere.
        text = json.dumps(value[:60], ensure_ascii=False).encode("utf-8", "backslashreplace").decode()
        return text if len(value) <= 60 else text[:-1] + '..."'
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        # Huge ints cannot even be turned into text (Python's 4300-digit limit).
        return int.__repr__(int(value)) if abs(value) < 10**40 else "a number of more than 40 digits"
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, Decimal):
        text = str(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return _kind(value)
