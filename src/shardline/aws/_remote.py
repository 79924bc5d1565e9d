"""A stream on DynamoDB Streams (AWS, or an emulator speaking its API), read through boto3 for the emulator.

[`RemoteStream`][shardline.aws.RemoteStream] gives the event source mapping emulator what a local table gives it: a
name, a stream ARN and a reader with `describe_stream`, `get_shard_iterator` and `get_records` whose records are in the
shape Lambda delivers them. What the network adds is handled here, at the boundary:

* DescribeStream is paged (`ExclusiveStartShardId`/`LastEvaluatedShardId`); shards come back parents first
  ("DescribeStream", DynamoDB Streams API reference);
* boto3's low-level client decodes binaries to `bytes` and `ApproximateCreationDateTime` to a datetime;
  Lambda's event carries binaries as base64 text and the time as whole epoch seconds, and adds
  `eventSourceARN` ("Using AWS Lambda with Amazon DynamoDB", Lambda developer guide);
* throttling (LimitExceededException, ProvisionedThroughputExceededException), server errors (HTTP 5xx) and
  network errors are retried with exponential backoff and jitter: the failed call raises
  [`RemoteRetryError`][shardline.aws.RemoteRetryError] carrying the time to try again, which the emulator's poll loop
  waits for, so no record is skipped and nothing sleeps here;
* an expired iterator (ExpiredIteratorException, 15 minutes after it was issued) is replaced by a new one at
  the same position; a trimmed position (TrimmedDataAccessException, records past the 24-hour retention)
  moves on to the oldest record kept, as Lambda does;
* a shard is read at most five times a second (`READS_PER_SECOND`), the rate DynamoDB Streams allows a
  reader of one shard; Lambda itself polls about four times a second.

Every retry is counted in [`RemoteStream.health`][shardline.aws.RemoteStream.health], so a run can show why it is
waiting.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, Final, NamedTuple, final

from shardline._exceptions import ShardlineError, describe_exception
from shardline.local._errors import TrimmedDataAccessError
from shardline.testing._clock import Clock, SystemClock

__all__ = ["READS_PER_SECOND", "RemoteRetryError", "RemoteStream", "RemoteStreamError"]

READS_PER_SECOND: Final = 5
"""GetRecords calls a second this reader makes on one shard, at most."""
_READ_INTERVAL_MS: Final = 1000 // READS_PER_SECOND
_BACKOFF_BASE_MS: Final = 250
_BACKOFF_CAP_MS: Final = 30_000
_DESCRIBE_EVERY_MS: Final = 1000  # a shard list this fresh is reused: DescribeStream has a low request rate
_ITERATOR_REUSE_MS: Final = 14 * 60 * 1000  # iterators live 15 minutes (GetShardIterator); reuse them a bit less
_FETCH_LIMIT: Final = 1000
_DESCRIBE_PAGES: Final = 10_000  # a stream has at most a few thousand shards; more pages means a server loop
_LAST_SECOND: Final = 253_402_300_799  # 9999-12-31T23:59:59Z, the last time a datetime can show
_MAX_DEPTH: Final = 32  # DynamoDB nests documents at most 32 levels deep
_EVENT_NAMES: Final = frozenset({"INSERT", "MODIFY", "REMOVE"})
_THROTTLING: Final = frozenset(
    {
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
    }
)
_SERVER: Final = frozenset(
    {"InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"}
)
_STRING_TYPES: Final = frozenset({"S", "N"})
_STRING_SETS: Final = frozenset({"SS", "NS"})
_DYNAMODB_FIELDS: Final = ("ApproximateCreationDateTime", "Keys", "NewImage", "OldImage")


class RemoteStreamError(ShardlineError):
    """Reading a remote stream failed in a way retrying will not fix: the stream or table does not exist, the
    credentials are refused, or the service answered something that is not DynamoDB Streams' shape.

    `code` is the service's error code when it answered one (`ResourceNotFoundException`,
    `ValidationException`, `AccessDeniedException`...), else `None`."""

    __module__ = "shardline.aws"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@final
class RemoteRetryError(RemoteStreamError):
    """A call was throttled, failed on the server or on the network: try again at `retry_at_ms`
    (epoch milliseconds on the stream's clock). The event source mapping emulator waits for it and reads
    the same position again, so nothing is lost or skipped."""

    __module__ = "shardline.aws"

    def __init__(self, message: str, *, retry_at_ms: int, kind: str) -> None:
        super().__init__(message)
        self.retry_at_ms = retry_at_ms
        self.kind = kind  # "throttled", "server" or "network"


class _Position(NamedTuple):
    iterator_type: str  # TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER
    sequence_number: str | None


class _Live(NamedTuple):
    position: _Position
    iterator: str
    issued_ms: int


@final
class RemoteStream:
    """A DynamoDB stream read with boto3, usable wherever the emulator takes a table.

    Give the stream's ARN, or a table name whose `LatestStreamArn` DescribeTable tells. The client is made
    from `endpoint_url`, `region_name` and `profile_name` as boto3 takes them (with botocore's own retries
    off: retries here are paced by the emulator's clock), or pass `client` (a `dynamodbstreams` client)
    and `dynamodb_client` yourself.

    Checkpoints are kept in the pipeline's store under the mapping's name and the stream's ARN: a new pipeline
    with a mapping of the same name on the same stream resumes where the last one stopped.

    A position past the 24-hour retention moves on to the oldest record kept, as Lambda does; with
    `skip_trimmed=False` it raises [`TrimmedDataAccessError`][shardline.local.TrimmedDataAccessError] instead (a redrive
    must say that a batch's records are gone rather than read others).

    Examples:
        >>> from shardline.aws import RemoteStream
        >>> from shardline.local import Pipeline, Store
        >>> stream = RemoteStream(table_name="Orders", region_name="eu-west-1")  # doctest: +SKIP
        >>> pipeline = Pipeline(Store("state.db"))  # doctest: +SKIP
        >>> pipeline.add_mapping(stream, handler, name="orders-worker")  # doctest: +SKIP
        >>> pipeline.run()  # doctest: +SKIP
    """

    remote: Final = True  # the emulator keys checkpoints by stream ARN for remote streams

    def __init__(
        self,
        stream_arn: str | None = None,
        *,
        table_name: str | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        profile_name: str | None = None,
        client: Any = None,
        dynamodb_client: Any = None,
        clock: Clock | None = None,
        seed: int = 0,
        skip_trimmed: bool = True,
    ) -> None:
        if (stream_arn is None) == (table_name is None):
            raise RemoteStreamError("give a stream ARN or a table name (table_name=...), not both nor neither")
        for label, value in (("stream ARN", stream_arn), ("table name", table_name)):
            if value is not None and (not isinstance(value, str) or not value):
                raise RemoteStreamError(f"the {label} must be non-empty text, got {value!r}")
        self._session_options = {"endpoint_url": endpoint_url, "region_name": region_name, "profile_name": profile_name}
        self._clock: Clock | None = clock
        self._skip_trimmed = skip_trimmed
        self._rng = random.Random(seed)
        self._description: dict[str, Any] | None = None
        self._described_ms: int | None = None
        self._live: dict[str, _Live] = {}  # per shard: the iterator to continue with, and where it points
        self._positions: dict[str, tuple[str, _Position]] = {}  # iterator -> (shard, position), live ones only
        self._last_read_ms: dict[str, int] = {}
        self._more: dict[str, bool] = {}  # the last read returned records: there may be more right away
        self._failures: dict[str, int] = {}
        self._retry_at_ms: dict[str, int] = {}
        self._health: dict[str, Any] = {
            "calls": 0,
            "throttled": 0,
            "server_errors": 0,
            "network_errors": 0,
            "expired_iterators": 0,
            "trimmed": 0,
            "last_error": None,
        }
        self._client = client if client is not None else self._make_client("dynamodbstreams")
        _refuse_cut_answers(self._client)
        if stream_arn is None:
            assert table_name is not None
            stream_arn = self._resolve(table_name, dynamodb_client)
        self._arn: str = stream_arn

    # -- what the emulator reads ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The table's name, read from the stream ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>/...`)."""
        parts = self._arn.split(":", 5)
        resource = parts[5].split("/") if len(parts) == 6 else []
        if len(resource) >= 2 and resource[0] == "table" and resource[1]:
            return resource[1]
        name = self._description.get("TableName") if self._description is not None else None
        return name if isinstance(name, str) else self._arn

    @property
    def stream_arn(self) -> str:
        """The stream's ARN, as given or as the table's `LatestStreamArn` when a table name was given."""
        return self._arn

    @property
    def key_schema(self) -> dict[str, str]:
        """The table's key attributes and their roles, `{"pk": "HASH", "sk": "RANGE"}` (DescribeStream tells
        no attribute types)."""
        return {entry["AttributeName"]: entry["KeyType"] for entry in self.describe_stream()["KeySchema"]}

    @property
    def stream(self) -> RemoteStream:
        """The stream itself: a mapping reads `table.stream`, so a remote stream stands in for its table."""
        return self

    @property
    def clock(self) -> Clock:
        """The clock reads are paced by: the one given, else the pipeline's once added to one, else the system's."""
        if self._clock is None:
            self._clock = SystemClock()
        return self._clock

    def attach_clock(self, clock: Clock) -> None:
        """Pace reads by `clock` unless a clock was given: a pipeline calls this when the stream is mapped."""
        if self._clock is None:
            self._clock = clock

    @property
    def health(self) -> dict[str, Any]:
        """Counts of calls made and of retries by cause, the last error's text, and per shard the time a
        read is retried at (`{"retrying": {shard_id: epoch_ms}}`)."""
        return {**self._health, "retrying": dict(sorted(self._retry_at_ms.items()))}

    def next_read_ms(self, shard_id: str) -> tuple[int, bool]:
        """When `shard_id` may be read next, and whether the reader should wake up for it: a shard whose last
        read returned records or failed is read again as soon as allowed; one that was caught up waits for the
        reader's next poll."""
        last = self._last_read_ms.get(shard_id)
        when = 0 if last is None else last + _READ_INTERVAL_MS
        retry_at = self._retry_at_ms.get(shard_id)
        if retry_at is not None:
            return max(when, retry_at), True
        return when, self._more.get(shard_id, False)

    def describe_stream(self) -> dict[str, Any]:
        """The stream's description with every shard (all DescribeStream pages), parents before children.

        Reused for a second; when a refresh is throttled or fails on the network, the last description
        stands (new shards are found on a later refresh).
        """
        now = self.clock.now_ms()
        described = self._described_ms
        if self._description is not None and described is not None and 0 <= now - described < _DESCRIBE_EVERY_MS:
            return self._description
        try:
            description = self._describe_all()
        except RemoteRetryError:
            if self._description is None:
                raise
            self._described_ms = now  # the last list stands; asking again at once would only add to a throttle
            return self._description
        self._description = description
        self._described_ms = now
        self._failures.pop("", None)
        return description

    def get_shard_iterator(self, shard_id: str, iterator_type: str, sequence_number: str | None = None) -> str:
        """An iterator at a position of `shard_id` (GetShardIterator); the one the last read left off with
        when it points there, which saves a call per read."""
        position = _Position(iterator_type, sequence_number)
        live = self._live.get(shard_id)
        if live is not None and live.position == position and self.clock.now_ms() - live.issued_ms < _ITERATOR_REUSE_MS:
            return live.iterator
        return self._new_iterator(shard_id, position)

    def get_records(self, iterator: str, limit: int = _FETCH_LIMIT) -> dict[str, Any]:
        """The records after `iterator` in Lambda's shape, and the next iterator (None at a closed shard's
        end). Raises [`RemoteRetryError`][shardline.aws.RemoteRetryError] when the read is to be tried again later."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _FETCH_LIMIT:
            raise RemoteStreamError(f"limit must be 1..{_FETCH_LIMIT}, got {limit!r}")
        if not isinstance(iterator, str):
            raise RemoteStreamError(f"a shard iterator is text from get_shard_iterator, got {type(iterator).__name__}")
        shard_id, position = self._positions.get(iterator, ("", _Position("", None)))
        try:
            response, position = self._get_records(iterator, limit, shard_id, position)
        finally:
            if shard_id:
                self._last_read_ms[shard_id] = self.clock.now_ms()
        records = response.get("Records")
        following = response.get("NextShardIterator")
        if not isinstance(records, list) or not (following is None or isinstance(following, str)):
            raise RemoteStreamError("GetRecords answered without a Records list or with a NextShardIterator not text")
        converted = [_lambda_record(record, self._arn) for record in records]
        if shard_id:
            self._failures.pop(shard_id, None)
            self._retry_at_ms.pop(shard_id, None)
            self._more[shard_id] = bool(converted) and following is not None
            self._forget(shard_id)
            if following is not None:
                after = (
                    _Position("AFTER_SEQUENCE_NUMBER", converted[-1]["dynamodb"]["SequenceNumber"])
                    if converted
                    else position
                )
                self._remember(shard_id, after, following)
        return {"Records": converted, "NextShardIterator": following}

    def __repr__(self) -> str:
        return f"<RemoteStream {self._arn}>"

    # -- calls ----------------------------------------------------------------------------------------------

    def _make_client(self, service: str) -> Any:
        try:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - the extra is missing
            raise RemoteStreamError('reading a remote stream needs boto3: pip install "shardline[aws]"') from None
        options = self._session_options
        try:
            session = boto3.session.Session(profile_name=options["profile_name"])
            return session.client(
                service,
                endpoint_url=options["endpoint_url"],
                region_name=options["region_name"],
                config=Config(retries={"total_max_attempts": 1}),
            )
        except Exception as exc:  # botocore's errors (an unknown profile, no region) at the boundary
            raise RemoteStreamError(
                f"cannot make a {service} client ({describe_exception(exc)}); check the endpoint URL, region and"
                " profile"
            ) from exc

    def _resolve(self, table_name: str, dynamodb_client: Any) -> str:
        """The table's current stream, from DescribeTable's LatestStreamArn."""
        client = dynamodb_client if dynamodb_client is not None else self._make_client("dynamodb")
        _refuse_cut_answers(client)
        table = self._call(lambda: client.describe_table(TableName=table_name), "DescribeTable", "").get("Table")
        arn = table.get("LatestStreamArn") if isinstance(table, Mapping) else None
        spec = table.get("StreamSpecification") if isinstance(table, Mapping) else None
        enabled = spec.get("StreamEnabled", True) if isinstance(spec, Mapping) else arn is not None
        if not isinstance(arn, str) or not arn or enabled is False:
            raise RemoteStreamError(
                f"table {table_name!r} has no stream to read: enable it (StreamSpecification, StreamEnabled: true)"
            )
        return arn

    def _describe_all(self) -> dict[str, Any]:
        shards: dict[str, dict[str, Any]] = {}
        first: Mapping[str, Any] | None = None
        start: str | None = None
        for _ in range(_DESCRIBE_PAGES):
            arguments: dict[str, Any] = {"StreamArn": self._arn}
            if start is not None:
                arguments["ExclusiveStartShardId"] = start
            answer = self._call(partial(self._client.describe_stream, **arguments), "DescribeStream", "")
            page = answer.get("StreamDescription")
            if not isinstance(page, Mapping) or not isinstance(page.get("Shards", []), list):
                raise RemoteStreamError("DescribeStream answered without a StreamDescription holding a Shards list")
            first = first or page
            for info in page.get("Shards", []):
                shard = _shard(info)
                shards.setdefault(shard["ShardId"], shard)
            following = page.get("LastEvaluatedShardId")
            if following is None:
                break
            if not isinstance(following, str) or following == start:
                raise RemoteStreamError(f"DescribeStream's LastEvaluatedShardId {following!r} does not move on")
            start = following
        else:
            raise RemoteStreamError(f"DescribeStream returned more than {_DESCRIBE_PAGES} pages of shards")
        assert first is not None
        key_schema = first.get("KeySchema", [])
        if not isinstance(key_schema, list) or not all(
            isinstance(entry, Mapping)
            and isinstance(entry.get("AttributeName"), str)
            and entry.get("KeyType") in ("HASH", "RANGE")
            for entry in key_schema
        ):
            raise RemoteStreamError("DescribeStream's KeySchema is not a list of AttributeName/KeyType pairs")
        description = {
            field: first[field]
            for field in ("StreamArn", "StreamLabel", "StreamStatus", "StreamViewType", "TableName")
            if isinstance(first.get(field), str)
        }
        description["KeySchema"] = [
            {"AttributeName": entry["AttributeName"], "KeyType": entry["KeyType"]} for entry in key_schema
        ]
        description["Shards"] = _parents_first(shards)
        return description

    def _new_iterator(self, shard_id: str, position: _Position) -> str:
        arguments: dict[str, Any] = {
            "StreamArn": self._arn,
            "ShardId": shard_id,
            "ShardIteratorType": position.iterator_type,
        }
        if position.sequence_number is not None:
            arguments["SequenceNumber"] = position.sequence_number
        try:
            answer = self._call(lambda: self._client.get_shard_iterator(**arguments), "GetShardIterator", shard_id)
        except _Trimmed as exc:
            self._note_trimmed(shard_id)
            # The emulator starts again from TRIM_HORIZON, as Lambda does when its checkpoint was trimmed.
            raise TrimmedDataAccessError(
                f"records of shard {shard_id} after {position.sequence_number} are past the stream's retention"
                f" and were trimmed ({exc})"
            ) from exc
        iterator = answer.get("ShardIterator")
        if not isinstance(iterator, str) or not iterator:
            raise RemoteStreamError(f"GetShardIterator answered without a ShardIterator for shard {shard_id}")
        self._forget(shard_id)
        self._remember(shard_id, position, iterator)
        return iterator

    def _get_records(
        self, iterator: str, limit: int, shard_id: str, position: _Position
    ) -> tuple[Mapping[str, Any], _Position]:
        """GetRecords, replacing an expired iterator by a new one at the same position and moving a trimmed
        position on to the oldest record kept; the answer and the position it was read from."""
        current = iterator
        for _ in range(3):
            try:
                answer = self._call(
                    partial(self._client.get_records, ShardIterator=current, Limit=limit), "GetRecords", shard_id
                )
            except _Expired as exc:  # noqa: PERF203 - three attempts at most
                self._health["expired_iterators"] += 1
                if not shard_id:
                    raise RemoteStreamError(f"the shard iterator expired ({exc}); get a new one") from exc
                # Iterators last 15 minutes: a new one at the same position reads the same records.
                try:
                    current = self._new_iterator(shard_id, position)
                except TrimmedDataAccessError:
                    if not self._skip_trimmed:
                        raise
                    position = _Position("TRIM_HORIZON", None)
                    current = self._new_iterator(shard_id, position)
            except _Trimmed as exc:
                self._note_trimmed(shard_id)
                if not shard_id or not self._skip_trimmed:
                    raise TrimmedDataAccessError(f"the records after the shard iterator were trimmed ({exc})") from exc
                # Past the 24-hour retention the records are gone: Lambda goes on from the oldest record kept.
                position = _Position("TRIM_HORIZON", None)
                current = self._new_iterator(shard_id, position)
            else:
                return answer, position
        raise self._retry(shard_id, "GetRecords", "server", RuntimeError("the iterator kept expiring"))

    def _note_trimmed(self, shard_id: str) -> None:
        self._health["trimmed"] += 1
        self._health["last_error"] = (
            f"shard {shard_id}: records past the stream's 24-hour retention were trimmed; reading on from the"
            " oldest record kept"
        )

    def _call(self, call: Callable[[], Any], operation: str, shard_id: str) -> Mapping[str, Any]:
        """Make one call; translate boto3's errors: retriable ones into
        [`RemoteRetryError`][shardline.aws.RemoteRetryError] with a backoff, expired and trimmed positions into private
        markers, the rest into [`RemoteStreamError`][shardline.aws.RemoteStreamError]."""
        self._health["calls"] += 1
        try:
            answer = call()
        except Exception as exc:
            code, status = _error_code(exc)
            if code == "ExpiredIteratorException" and operation == "GetRecords":
                raise _Expired(describe_exception(exc)) from exc
            if code == "TrimmedDataAccessException" and operation in ("GetRecords", "GetShardIterator"):
                raise _Trimmed(describe_exception(exc)) from exc
            if code in _THROTTLING:
                raise self._retry(shard_id, operation, "throttled", exc) from exc
            if code in _SERVER or (status is not None and status >= 500):
                raise self._retry(shard_id, operation, "server", exc) from exc
            if code is None and _is_network_error(exc):
                raise self._retry(shard_id, operation, "network", exc) from exc
            if code is None and _is_parameter_error(exc):
                code = "ValidationException"  # botocore refused the request before sending it
            where = f" ({self._arn})" if operation != "DescribeTable" else ""
            raise RemoteStreamError(f"{operation} failed{where}: {describe_exception(exc)}", code=code) from exc
        if not isinstance(answer, Mapping):
            raise RemoteStreamError(f"{operation} answered {type(answer).__name__}, not a JSON object")
        return answer

    def _retry(self, shard_id: str, operation: str, kind: str, exc: BaseException) -> RemoteRetryError:
        counter = {"throttled": "throttled", "server": "server_errors", "network": "network_errors"}[kind]
        self._health[counter] += 1
        failures = self._failures.get(shard_id, 0) + 1
        self._failures[shard_id] = failures
        delay = min(_BACKOFF_CAP_MS, _BACKOFF_BASE_MS * 2 ** min(failures - 1, 16))
        retry_at = self.clock.now_ms() + delay + self._rng.randrange(0, delay // 10 + 1)
        if shard_id:
            self._retry_at_ms[shard_id] = retry_at
        where = f" on shard {shard_id}" if shard_id else ""
        wait = retry_at - self.clock.now_ms()
        detail = describe_exception(exc).replace(" (reached max retries: 0)", "")  # botocore's, with its retries off
        message = f"{operation}{where} {kind} ({detail}); retry {failures} in {wait} ms"
        self._health["last_error"] = message
        return RemoteRetryError(message, retry_at_ms=retry_at, kind=kind)

    def _remember(self, shard_id: str, position: _Position, iterator: str) -> None:
        self._live[shard_id] = _Live(position, iterator, self.clock.now_ms())
        self._positions[iterator] = (shard_id, position)

    def _forget(self, shard_id: str) -> None:
        live = self._live.pop(shard_id, None)
        if live is not None:
            self._positions.pop(live.iterator, None)


class _Expired(Exception):
    pass


class _Trimmed(Exception):
    pass


def _error_code(exc: BaseException) -> tuple[str | None, int | None]:
    """A botocore ClientError's error code and HTTP status (read by shape: `exc.response`)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None, None
    error = response.get("Error")
    code = error.get("Code") if isinstance(error, Mapping) else None
    metadata = response.get("ResponseMetadata")
    status = metadata.get("HTTPStatusCode") if isinstance(metadata, Mapping) else None
    return (
        code if isinstance(code, str) else None,
        status if isinstance(status, int) and not isinstance(status, bool) else None,
    )


def _refuse_cut_answers(client: Any) -> None:
    """Make a botocore `client` raise a network error for an answer shorter than its Content-Length.

    botocore reads answers with urllib3's length check off (`enforce_content_length=False`), so a connection
    closed mid-answer leaves a short body; JSON cut short does not parse, and botocore then makes of it an answer
    with none of its fields (no `Records`), which would stop the run as a malformed answer. Raised as a
    ConnectionResetError before the body is parsed, the call is retried with backoff like any dropped
    connection. A chunked answer cut short is already an error (urllib3 checks the chunks); a client that is not
    botocore's (no `meta.events`) is left alone.
    """
    register = getattr(getattr(getattr(client, "meta", None), "events", None), "register", None)
    if callable(register):
        register("before-parse", _refuse_cut_answer, unique_id="shardline-refuse-cut-answers")


def _refuse_cut_answer(response_dict: Any = None, **_: Any) -> None:
    """botocore's `before-parse` event: a body shorter than its Content-Length is a connection cut mid-answer."""
    try:
        expected = int(response_dict["headers"]["content-length"])
        received = len(response_dict["body"])
    except (KeyError, TypeError, ValueError):
        return  # no length announced
    if received < expected:
        raise ConnectionResetError(f"the connection closed after {received} of the answer's {expected} bytes")


def _is_network_error(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError  # type: ignore[import-untyped]
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover - the extra is missing
        return False
    return isinstance(exc, (BotoConnectionError, HTTPClientError))


def _is_parameter_error(exc: BaseException) -> bool:
    try:
        from botocore.exceptions import ParamValidationError
    except ImportError:  # pragma: no cover - the extra is missing
        return False
    return isinstance(exc, ParamValidationError)


def _sequence(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 40:
        raise RemoteStreamError(f"{what} {value!r} is not a sequence number (digits)")
    return value


def _shard(info: object) -> dict[str, Any]:
    if not isinstance(info, Mapping) or not isinstance(info.get("ShardId"), str) or not info["ShardId"]:
        raise RemoteStreamError("DescribeStream listed a shard without a ShardId")
    shard_id = info["ShardId"]
    numbers = info.get("SequenceNumberRange", {})
    if not isinstance(numbers, Mapping):
        raise RemoteStreamError(f"shard {shard_id}'s SequenceNumberRange is not an object")
    shard: dict[str, Any] = {"ShardId": shard_id}
    parent = info.get("ParentShardId")
    if parent is not None:
        if not isinstance(parent, str):
            raise RemoteStreamError(f"shard {shard_id}'s ParentShardId is not text")
        shard["ParentShardId"] = parent
    kept = {}
    for field in ("StartingSequenceNumber", "EndingSequenceNumber"):
        if numbers.get(field) is not None:
            kept[field] = _sequence(numbers[field], f"shard {shard_id}'s {field}")
    shard["SequenceNumberRange"] = kept
    return shard


def _parents_first(shards: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Shards in listing order, except that a parent listed comes before its children ("Reading and processing
    a stream", DynamoDB developer guide)."""
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    for shard_id in shards:
        chain = []
        current: str | None = shard_id
        while current is not None and current in shards and current not in placed and current not in chain:
            chain.append(current)
            current = shards[current].get("ParentShardId")
        for member in reversed(chain):
            placed.add(member)
            ordered.append(shards[member])
    return ordered


def _lambda_record(raw: object, stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda's event carries it: AWS's field order, binaries as base64 text,
    `ApproximateCreationDateTime` in whole epoch seconds, `eventSourceARN` added and `userIdentity` in
    Lambda's spelling (`type`, `principalId`)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("dynamodb"), Mapping):
        raise RemoteStreamError("GetRecords returned a record without a dynamodb object")
    name = raw.get("eventName")
    if not isinstance(name, str) or name not in _EVENT_NAMES:
        raise RemoteStreamError(f"GetRecords returned a record whose eventName is {name!r}")
    source = raw["dynamodb"]
    sequence = _sequence(source.get("SequenceNumber"), "a record's SequenceNumber")
    keys = source.get("Keys")
    if not isinstance(keys, Mapping) or not keys:
        raise RemoteStreamError(f"record {sequence} has no Keys")
    record: dict[str, Any] = {}
    for field in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion"):
        value = raw.get(field)
        if value is not None:
            if not isinstance(value, str):
                raise RemoteStreamError(f"record {sequence}'s {field} is not text")
            record[field] = value
    dynamodb: dict[str, Any] = {}
    for field in _DYNAMODB_FIELDS:
        value = source.get(field)
        if value is None:
            continue
        if field == "ApproximateCreationDateTime":
            dynamodb[field] = _epoch_seconds(value, sequence)
        else:
            dynamodb[field] = _image(value, f"record {sequence}'s {field}")
    dynamodb["SequenceNumber"] = sequence
    size = source.get("SizeBytes")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int):
            raise RemoteStreamError(f"record {sequence}'s SizeBytes is not a whole number")
        dynamodb["SizeBytes"] = size
    view = source.get("StreamViewType")
    if view is not None:
        if not isinstance(view, str):
            raise RemoteStreamError(f"record {sequence}'s StreamViewType is not text")
        dynamodb["StreamViewType"] = view
    record["dynamodb"] = dynamodb
    record["eventSourceARN"] = stream_arn
    identity = raw.get("userIdentity")
    if identity is not None:
        if not isinstance(identity, Mapping):
            raise RemoteStreamError(f"record {sequence}'s userIdentity is not an object")
        # The Streams API spells it Type/PrincipalId; Lambda's event type/principalId (a TTL delete).
        kind = identity.get("Type", identity.get("type"))
        principal = identity.get("PrincipalId", identity.get("principalId"))
        record["userIdentity"] = {"type": kind, "principalId": principal}
    return record


def _epoch_seconds(value: object, sequence: str) -> int:
    """Whole epoch seconds, as Lambda's event gives ApproximateCreationDateTime."""
    seconds: int | None = None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise RemoteStreamError(f"record {sequence}'s ApproximateCreationDateTime has no time zone")
        seconds = int(value.timestamp() // 1)
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            seconds = int(value // 1)
        except (ValueError, OverflowError, ArithmeticError):
            seconds = None
    if seconds is None or not 0 <= seconds <= _LAST_SECOND:
        raise RemoteStreamError(f"record {sequence}'s ApproximateCreationDateTime {value!r} is not a time")
    return seconds


def _image(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise RemoteStreamError(f"{where} is not an object of attributes")
    return {_name(name, where): _attribute(item, f"{where}.{name}", 1) for name, item in value.items()}


def _name(name: object, where: str) -> str:
    if not isinstance(name, str):
        raise RemoteStreamError(f"{where} has an attribute name that is not text")
    return name


def _attribute(value: object, where: str, depth: int) -> dict[str, Any]:
    """One AttributeValue with boto3's `bytes` turned back into the wire's base64 text."""
    if depth > _MAX_DEPTH:
        raise RemoteStreamError(f"{where} nests deeper than {_MAX_DEPTH} levels")
    if not isinstance(value, Mapping) or len(value) != 1:
        raise RemoteStreamError(f"{where} is not an AttributeValue (an object with one type tag)")
    ((tag, inner),) = value.items()
    if tag in _STRING_TYPES and isinstance(inner, str):
        return {tag: inner}
    if tag == "B":
        return {tag: _base64(inner, where)}
    if tag in ("BOOL", "NULL") and isinstance(inner, bool):
        return {tag: inner}
    if tag in _STRING_SETS and isinstance(inner, list) and all(isinstance(each, str) for each in inner):
        return {tag: list(inner)}
    if tag == "BS" and isinstance(inner, list):
        return {tag: [_base64(each, where) for each in inner]}
    if tag == "L" and isinstance(inner, list):
        return {tag: [_attribute(each, f"{where}[{index}]", depth + 1) for index, each in enumerate(inner)]}
    if tag == "M" and isinstance(inner, Mapping):
        return {tag: {_name(key, where): _attribute(each, f"{where}.{key}", depth + 1) for key, each in inner.items()}}
    raise RemoteStreamError(f"{where} is not an AttributeValue ({tag!r} with a {type(inner).__name__})")


def _base64(value: object, where: str) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, str):
        return value  # already the wire's text (a client that does not decode binaries)
    raise RemoteStreamError(f"{where} holds a binary that is {type(value).__name__}, not bytes")
