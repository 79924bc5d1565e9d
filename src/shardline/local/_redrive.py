"""Redrive: process again the batches an event source mapping gave up on, once the bug is fixed.

An on-failure record (the invocation record of "Capturing discarded batches for a DynamoDB event source" in
the Lambda developer guide) holds no items: only `DDBStreamBatchInfo`, the stream ARN, the shard ID and the
first and last sequence numbers of the batch. The records themselves are still on the stream for 24 hours
("Change data capture for DynamoDB Streams", data retention), so redriving a batch means:

1. read the on-failure record (`failed_batch`), refusing one that lacks a field with a message naming
   the record and the field;
2. fetch the batch's records from its shard (`fetch_batch`): an `AT_SEQUENCE_NUMBER` iterator at the
   first sequence number, `GetRecords` until the last one; records trimmed past the retention, a shard or a
   stream that is gone, are a problem stated for that batch, not an exception;
3. optionally leave out records whose item changed again later (`superseded`);
4. invoke the function with the event Lambda would send (`lambda_event`) and read the answer as Lambda
   does, partial batch responses included (`record_outcomes`).

Everything here reads streams through the DynamoDB Streams calls only (`StreamReader`:
`get_shard_iterator` and `get_records`, plus `describe_stream` to follow child shards), so a remote
stream behind the same three methods plugs in unchanged. Errors it understands are the local store's
([`TrimmedDataAccessError`][shardline.local.TrimmedDataAccessError],
[`ResourceNotFoundError`][shardline.local.ResourceNotFoundError], [`ValidationError`][shardline.local.ValidationError]);
a remote reader translates its service's errors to those.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, final

from shardline._exceptions import ShardlineError
from shardline._response import Verdict, interpret_response
from shardline.local._errors import (
    ExpiredIteratorError,
    ResourceNotFoundError,
    TrimmedDataAccessError,
    ValidationError,
)
from shardline.local._invoker import Invocation, Invoker

__all__ = [
    "BatchReport",
    "FailedBatch",
    "FetchedBatch",
    "RecordOutcome",
    "RedriveError",
    "StoredFailure",
    "StreamReadError",
    "StreamReader",
    "StreamSource",
    "failed_batch",
    "fetch_batch",
    "lambda_event",
    "record_outcomes",
    "redrive_batch",
    "stored_failures",
    "superseded",
]

_FETCH_LIMIT: Final = 1000  # GetRecords returns at most 1000 records per call
_EMPTY_PAGES: Final = 3  # empty GetRecords pages in a row taken as an open shard's end
_DESTINATION_PREFIX: Final = "destination:"  # StoreDestination's namespace in the state database
_SEQUENCE_DIGITS: Final = range(1, 41)  # DynamoDB Streams' numbers are 21..40 digits; AWS's doc examples "111"
# Lambda's record field order (the DynamoDB event of "Using AWS Lambda with Amazon DynamoDB").
_RECORD_FIELDS: Final = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb")


@final
class RedriveError(ShardlineError):
    """An on-failure record that cannot be redriven as it is (a missing or malformed field), or a local
    destination that cannot be read; the message names the record and the field."""

    __module__ = "shardline.local"


@final
class StreamReadError(ShardlineError):
    """A stream that could not be read now: its service kept throttling, failing or dropping the connection
    past the reader's retries. The batch is reported ("redrive again later"), and the next one is tried."""

    __module__ = "shardline.local"


class StreamReader(Protocol):
    """The DynamoDB Streams calls a redrive needs (GetShardIterator, GetRecords), as [`Stream`][shardline.local.Stream]
    has them."""

    def get_shard_iterator(self, shard_id: str, iterator_type: str, sequence_number: str | None = None) -> str: ...

    def get_records(self, iterator: str, limit: int = ...) -> Mapping[str, Any]: ...


class StreamSource(Protocol):
    """Finds a stream by its ARN (the local [`Store`][shardline.local.Store] does; a remote source wraps a client)."""

    def stream_by_arn(self, arn: str) -> Any: ...


# -- on-failure records -------------------------------------------------------------------------------------


@final
@dataclass(frozen=True)
class FailedBatch:
    """The batch an on-failure record describes (its `DDBStreamBatchInfo`), and where the record came from.

    `source` names the record in messages: `destination record 3` or `failures.jsonl, line 3`.
    """

    source: str
    stream_arn: str
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    batch_size: int
    condition: str | None = None
    request_id: str | None = None
    timestamp: str | None = None
    function_arn: str | None = None
    payload: Mapping[str, Any] | None = None  # the S3 form's copy of the original event

    @property
    def span(self) -> str:
        return f"shard {self.shard_id}, sequence numbers {self.start_sequence_number}..{self.end_sequence_number}"


def failed_batch(record: object, *, source: str) -> FailedBatch:
    """Read an on-failure record (the SQS/SNS form, or the S3 form with `payload`).

    Examples:
        >>> batch = failed_batch({"DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": "111",
        ...     "endSequenceNumber": "111", "batchSize": 1,
        ...     "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"}},
        ...     source="record 1")
        >>> batch.span
        'shard shardId-1, sequence numbers 111..111'
    """
    if not isinstance(record, Mapping):
        raise RedriveError(f"{source}: expected an on-failure record (a JSON object), got {_kind(record)}")
    info = record.get("DDBStreamBatchInfo")
    if not isinstance(info, Mapping):
        problem = "is missing" if info is None else f"is {_kind(info)}, not an object"
        raise RedriveError(
            f"{source}: DDBStreamBatchInfo {problem}; only on-failure records of a DynamoDB stream mapping can be"
            " redriven"
        )
    where = f"{source}: DDBStreamBatchInfo"
    stream_arn = _text(info, "streamArn", where)
    parts = stream_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb" or "/stream/" not in parts[5]:
        raise RedriveError(
            f"{where}.streamArn: {_cut(stream_arn)} is not a DynamoDB stream ARN"
            " (arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>)"
        )
    shard_id = _text(info, "shardId", where)
    start = _sequence(info, "startSequenceNumber", where)
    end = _sequence(info, "endSequenceNumber", where)
    if int(start) > int(end):
        raise RedriveError(f"{where}: startSequenceNumber {start} comes after endSequenceNumber {end}")
    size = info.get("batchSize")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 10_000:
        raise RedriveError(f"{where}.batchSize: expected a whole number 1..10000, got {_cut(_shown(size))}")
    context = record.get("requestContext")
    context = context if isinstance(context, Mapping) else {}
    payload = record.get("payload")
    if isinstance(payload, str):  # the S3 form may carry the event as JSON text
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError):
            payload = None
    return FailedBatch(
        source=source,
        stream_arn=stream_arn,
        shard_id=shard_id,
        start_sequence_number=start,
        end_sequence_number=end,
        batch_size=size,
        condition=_optional_text(context.get("condition")),
        request_id=_optional_text(context.get("requestId")),
        timestamp=_optional_text(record.get("timestamp")),
        function_arn=_optional_text(context.get("functionArn")),
        payload=payload if isinstance(payload, Mapping) else None,
    )


def _text(info: Mapping[str, Any], name: str, where: str) -> str:
    value = info.get(name)
    if value is None:
        raise RedriveError(f"{where}.{name} is missing")
    if not isinstance(value, str) or not value or not value.isprintable():
        raise RedriveError(f"{where}.{name}: expected non-empty text, got {_cut(_shown(value))}")
    return value


def _sequence(info: Mapping[str, Any], name: str, where: str) -> str:
    value = _text(info, name, where)
    if not value.isascii() or not value.isdigit() or len(value) not in _SEQUENCE_DIGITS:
        raise RedriveError(f"{where}.{name}: {_cut(_shown(value))} is not a sequence number (digits only)")
    return value


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "text", bool: "a boolean", type(None): "null"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, (int, float)) else type(value).__name__


def _shown(value: object) -> str:
    try:
        return json.dumps(value, default=str)
    except (ValueError, RecursionError):
        return _kind(value)


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


# -- the local store's destination --------------------------------------------------------------------------


@final
@dataclass(frozen=True)
class StoredFailure:
    """An on-failure record kept in the state database: the mapping it came from, its place there, the record."""

    number: int  # 1-based, over every mapping, oldest first
    mapping: str
    index: int  # its place among the mapping's records
    record: dict[str, Any]

    @property
    def request_id(self) -> str | None:
        context = self.record.get("requestContext")
        return _optional_text(context.get("requestId")) if isinstance(context, Mapping) else None


def stored_failures(store: Any) -> list[StoredFailure]:
    """Every on-failure record the local mappings kept in `store` (their default destination), oldest first.

    A record that is not a JSON object (a state file edited by hand) is a [`RedriveError`][shardline.local.RedriveError]
    naming it.
    """
    rows = [entry for entry in store.state_entries(_DESTINATION_PREFIX) if entry[1] != "count"]
    found: list[tuple[str, str, int, dict[str, Any]]] = []
    for namespace, key, value in rows:
        mapping = namespace[len(_DESTINATION_PREFIX) :]
        if not (key.isascii() and key.isdigit()):
            continue
        where = f"the on-failure record {int(key) + 1} of mapping {mapping} in {store.path}"
        try:
            record = json.loads(value)
        except (ValueError, RecursionError):
            record = None
        if not isinstance(record, dict):
            raise RedriveError(f"{where} is not a JSON object; the state file was changed by something else")
        stamp = record.get("timestamp")
        found.append((stamp if isinstance(stamp, str) else "", mapping, int(key), record))
    found.sort(key=lambda entry: entry[:3])
    return [
        StoredFailure(number=number, mapping=mapping, index=index, record=record)
        for number, (_, mapping, index, record) in enumerate(found, 1)
    ]


# -- fetching a batch from its stream ----------------------------------------------------------------------


@final
@dataclass
class FetchedBatch:
    """The records of a failed batch as the stream holds them now, or the `problem` that none could be read."""

    batch: FailedBatch
    records: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None
    stream: Any = None  # the reader the records came from, for `superseded`
    note: str | None = None  # where the records came from when not from the stream


def fetch_batch(source: StreamSource, batch: FailedBatch) -> FetchedBatch:
    """Read the batch's records: `AT_SEQUENCE_NUMBER` at its first number, up to and including its last.

    The range may hold more records than `batchSize` (records a filter dropped, or with a
    ParallelizationFactor above 1 records of other partition keys interleaved): every record in it is read.
    """
    fetched = FetchedBatch(batch)
    start, end = int(batch.start_sequence_number), int(batch.end_sequence_number)
    try:
        stream = source.stream_by_arn(batch.stream_arn)
        fetched.stream = stream
        iterator = stream.get_shard_iterator(batch.shard_id, "AT_SEQUENCE_NUMBER", batch.start_sequence_number)
        done = False
        for records in _pages(stream, iterator):
            for record in records:
                number = int(record["dynamodb"]["SequenceNumber"])
                if number > end:
                    done = True
                    break
                if number >= start:
                    fetched.records.append(lambda_record(record, batch.stream_arn))
                done = number == end
            if done:
                break
    except TrimmedDataAccessError:
        fetched.records.clear()
        fetched.problem = "the records were trimmed: DynamoDB Streams keeps records for 24 hours, and these are older"
    except ResourceNotFoundError as exc:
        fetched.records.clear()
        fetched.problem = f"the stream or the shard is gone ({exc})"
    except StreamReadError as exc:
        fetched.records.clear()
        fetched.problem = f"the stream could not be read ({exc}); redrive again later"
    except ValidationError as exc:
        fetched.records.clear()
        fetched.problem = f"the shard does not hold these records ({exc})"
    except ExpiredIteratorError as exc:
        fetched.records.clear()
        fetched.problem = f"the stream could not be read ({exc}); redrive again"
    if fetched.problem is None and not fetched.records:
        fetched.problem = "the shard holds no record in this range"
    elif fetched.problem is None and int(fetched.records[0]["dynamodb"]["SequenceNumber"]) != start:
        # AT_SEQUENCE_NUMBER lands on the batch's first record, which the stream holds: another one means the
        # range is not this shard's; say so rather than redrive part of a batch.
        fetched.problem = f"the shard holds no record {batch.start_sequence_number} to start the batch at"
        fetched.records.clear()
    elif fetched.problem is None and int(fetched.records[-1]["dynamodb"]["SequenceNumber"]) != end:
        # The batch's last record is missing: the range was cut short; say so rather than redrive half a batch.
        fetched.problem = f"the shard ends before sequence number {batch.end_sequence_number}"
        fetched.records.clear()
    if fetched.problem is not None and not fetched.problem.startswith("the stream could not be read"):
        kept = _payload_records(batch)
        if kept:
            # An S3 destination keeps the event Lambda sent: the records themselves, not only their range.
            fetched.note = f"{fetched.problem}; the event Lambda sent, kept in the S3 record's payload, is redriven"
            fetched.problem = None
            fetched.records = kept
        elif batch.payload is not None:
            fetched.problem += "; the S3 record's payload is not an event of stream records in this range either"
    return fetched


def _payload_records(batch: FailedBatch) -> list[dict[str, Any]]:
    """The records of the S3 form's `payload` (the event Lambda sent), if it is an event of stream records
    whose sequence numbers lie in the batch's range; else nothing."""
    payload = batch.payload
    records = payload.get("Records") if payload is not None else None
    if not isinstance(records, list) or not records:
        return []
    start, end = int(batch.start_sequence_number), int(batch.end_sequence_number)
    kept = []
    for record in records:
        dynamodb = record.get("dynamodb") if isinstance(record, Mapping) else None
        number = dynamodb.get("SequenceNumber") if isinstance(dynamodb, Mapping) else None
        if (
            not isinstance(number, str)
            or not number.isascii()
            or not number.isdigit()
            or len(number) not in _SEQUENCE_DIGITS
            or not start <= int(number) <= end
            or not isinstance(dynamodb.get("Keys"), Mapping)  # type: ignore[union-attr]
        ):
            return []
        kept.append(lambda_record(record, batch.stream_arn))
    return kept


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record as Lambda delivers it: GetRecords' record plus `eventSourceARN`, in Lambda's field order.

    The local stream's records already are (the emulator delivers them as they are); a record from the
    DynamoDB Streams API lacks `eventSourceARN`, which Lambda adds after `dynamodb`.
    """
    if record.get("eventSourceARN") == stream_arn:
        return dict(record)
    shaped = {name: record[name] for name in _RECORD_FIELDS if name in record}
    shaped.update({name: value for name, value in record.items() if name not in shaped and name != "userIdentity"})
    shaped["eventSourceARN"] = stream_arn
    if record.get("userIdentity") is not None:  # only TTL deletes carry one
        shaped["userIdentity"] = record["userIdentity"]
    return shaped


def lambda_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The event Lambda invokes a DynamoDB stream mapping's function with: `{"Records": [...]}`, exactly
    what the emulator sends for a batch outside a tumbling window."""
    return {"Records": [dict(record) for record in records]}


def superseded(fetched: FetchedBatch) -> dict[str, str]:
    """The records of the batch whose item changed again later, by sequence number, each with the reason.

    Later changes are looked for in the batch itself, in the rest of its shard and in the shard's children
    (`describe_stream` lineage), as long as the stream still holds them. A stream that cannot be read past
    the batch leaves the records as they are: nothing is skipped on a guess.
    """
    later: dict[str, tuple[str, str]] = {}  # key -> (sequence number, event name) of its newest change
    batch = fetched.batch
    try:
        for record in _after(fetched.stream, batch.shard_id, batch.end_sequence_number):
            later[_key(record)] = (record["dynamodb"]["SequenceNumber"], str(record.get("eventName")))
        for shard_id in _children(fetched.stream, batch.shard_id):
            for record in _after(fetched.stream, shard_id, None):
                later[_key(record)] = (record["dynamodb"]["SequenceNumber"], str(record.get("eventName")))
    except (TrimmedDataAccessError, ResourceNotFoundError, ValidationError, ExpiredIteratorError, StreamReadError):
        later = {}
    reasons: dict[str, str] = {}
    for position, record in enumerate(fetched.records):
        key = _key(record)
        newer = [
            (other["dynamodb"]["SequenceNumber"], str(other.get("eventName")))
            for other in fetched.records[position + 1 :]
            if _key(other) == key
        ]
        if key in later:
            newer.append(later[key])
        if newer:
            number, name = newer[-1]
            reasons[record["dynamodb"]["SequenceNumber"]] = (
                f"superseded: its item changed again later ({name} {number} is still on the stream)"
            )
    return reasons


def _key(record: Mapping[str, Any]) -> str:
    return json.dumps(record["dynamodb"]["Keys"], sort_keys=True)


def _after(stream: Any, shard_id: str, sequence_number: str | None) -> list[dict[str, Any]]:
    if sequence_number is None:
        iterator: str | None = stream.get_shard_iterator(shard_id, "TRIM_HORIZON")
    else:
        iterator = stream.get_shard_iterator(shard_id, "AFTER_SEQUENCE_NUMBER", sequence_number)
    return [record for page in _pages(stream, iterator) for record in page]


def _pages(stream: Any, iterator: str | None) -> Iterator[list[dict[str, Any]]]:
    """GetRecords pages from `iterator` to a closed shard's end, or an open shard's: a few empty pages in a
    row, since one empty page is not always the end (GetRecords may take several calls to reach the part of a
    shard that holds records, "GetRecords", DynamoDB Streams API reference)."""
    empty = 0
    while iterator is not None and empty < _EMPTY_PAGES:
        page = stream.get_records(iterator, limit=_FETCH_LIMIT)
        records = page.get("Records") or []
        empty = 0 if records else empty + 1
        yield records
        iterator = page.get("NextShardIterator")


def _children(stream: Any, shard_id: str) -> list[str]:
    """The shard's descendants, parents before children (DescribeStream's ParentShardId lineage)."""
    describe = getattr(stream, "describe_stream", None)
    if describe is None:
        return []
    shards = describe()["Shards"]
    found: list[str] = []
    wanted = {shard_id}
    for shard in shards:  # listed parents first
        if shard.get("ParentShardId") in wanted:
            wanted.add(shard["ShardId"])
            found.append(shard["ShardId"])
    return found


# -- invoking and reading the answer ------------------------------------------------------------------------


@final
@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one record of a redriven batch: `succeeded`, `failed`, `skipped` (superseded)
    or `not sent` (a dry run)."""

    sequence_number: str
    event_name: str
    keys: Mapping[str, Any]
    status: str
    reason: str = ""

    def as_json(self, batch: FailedBatch) -> dict[str, Any]:
        return {
            "source": batch.source,
            "shardId": batch.shard_id,
            "SequenceNumber": self.sequence_number,
            "eventName": self.event_name,
            "Keys": dict(self.keys),
            "outcome": self.status,
            "reason": self.reason,
        }


def record_outcomes(verdict: Verdict, records: Sequence[Mapping[str, Any]]) -> list[RecordOutcome]:
    """Each record's outcome from Lambda's reading of the answer: all succeeded, all failed (a function error
    or a response that fails the whole batch), or, for a partial batch response, the reported ones failed."""
    reported = set(verdict.reported)
    outcomes = []
    for record in records:
        number = record["dynamodb"]["SequenceNumber"]
        if verdict.kind == "failure":
            status, reason = "failed", verdict.reason
        elif verdict.kind == "partial" and number in reported:
            status, reason = "failed", "reported in batchItemFailures"
        else:
            status, reason = "succeeded", ""
        outcomes.append(_outcome(record, status, reason))
    return outcomes


def _outcome(record: Mapping[str, Any], status: str, reason: str) -> RecordOutcome:
    return RecordOutcome(
        sequence_number=record["dynamodb"]["SequenceNumber"],
        event_name=str(record.get("eventName")),
        keys=record["dynamodb"]["Keys"],
        status=status,
        reason=reason,
    )


@final
@dataclass
class BatchReport:
    """One failed batch redriven: what was fetched, the event sent (None when nothing was), the answer."""

    fetched: FetchedBatch
    outcomes: list[RecordOutcome] = field(default_factory=list)
    event: dict[str, Any] | None = None
    invocation: Invocation | None = None
    verdict: Verdict | None = None

    @property
    def ok(self) -> bool:
        """Whether the batch is done with: fetched, and every record sent succeeded (or was skipped)."""
        return self.fetched.problem is None and all(o.status in ("succeeded", "skipped") for o in self.outcomes)


def redrive_batch(
    source: StreamSource,
    batch: FailedBatch,
    invoker: Invoker | None,
    *,
    deadline_ms: int = 0,
    skip_superseded: bool = False,
    report_batch_item_failures: bool = True,
    criteria: Any = None,
) -> BatchReport:
    """Fetch `batch` from its stream and invoke `invoker` with it (`None`: a dry run, nothing invoked).

    `deadline_ms` is the invoke's deadline on the invoker's clock (its timeout from now). `criteria` is the
    mapping's FilterCriteria (a [`FilterCriteria`][shardline.FilterCriteria]): the range between a batch's first and
    last records also holds the records the filter dropped, which Lambda never sent and a redrive must not either.
    """
    fetched = fetch_batch(source, batch)
    report = BatchReport(fetched)
    if fetched.problem is not None:
        return report
    reasons = superseded(fetched) if skip_superseded else {}
    if criteria is not None:
        for record in fetched.records:
            if not criteria.matches(record):
                reasons[record["dynamodb"]["SequenceNumber"]] = "dropped by the mapping's filter (FilterCriteria)"
    sent = [record for record in fetched.records if record["dynamodb"]["SequenceNumber"] not in reasons]
    skipped = {
        record["dynamodb"]["SequenceNumber"]: _outcome(record, "skipped", reasons[record["dynamodb"]["SequenceNumber"]])
        for record in fetched.records
        if record["dynamodb"]["SequenceNumber"] in reasons
    }
    results: dict[str, RecordOutcome] = dict(skipped)
    if sent:
        report.event = lambda_event(sent)
        if invoker is None:
            results.update({o.sequence_number: o for o in (_outcome(r, "not sent", "dry run") for r in sent)})
        else:
            invocation = invoker.invoke(report.event, deadline_ms=deadline_ms)
            numbers = [record["dynamodb"]["SequenceNumber"] for record in sent]
            report.invocation = invocation
            report.verdict = interpret_response(
                invocation.response,
                numbers,
                report_batch_item_failures=report_batch_item_failures,
                function_error=str(invocation.error) if invocation.error else None,
            )
            results.update({o.sequence_number: o for o in record_outcomes(report.verdict, sent)})
    report.outcomes = [results[record["dynamodb"]["SequenceNumber"]] for record in fetched.records]
    return report
