"""The AWS side of a redrive: on-failure records from SQS or S3, batches from DynamoDB Streams, Lambda's Invoke.

An event source mapping's on-failure destination ("Capturing discarded batches for a DynamoDB event source",
Lambda developer guide) receives one record per discarded batch: an SQS message, an SNS notification (often
delivered on to an SQS queue), or an S3 object whose key starts ``aws/lambda/<mapping UUID>/<shard ID>/``. None
of them holds the items; :mod:`shardline.local._redrive` fetches them from the stream and reads the answer.
This module gives it what lives on AWS:

* :class:`SqsSource` and :class:`S3Source` yield the records as :class:`Delivery` objects, which a redrive
  deletes once the whole batch succeeded (and releases otherwise, so the queue's other readers see the message
  again at once);
* :class:`RemoteStreams` reads a batch's range from DynamoDB Streams (AT_SEQUENCE_NUMBER), waiting out
  throttles and server errors, and turns the service's errors into the local store's, which a redrive
  understands (a trimmed range is a problem stated for that batch, never records read from elsewhere);
* :class:`LambdaInvoker` invokes the deployed function with Lambda's Invoke API (RequestResponse, the last
  4 KB of its log on request), an :class:`~shardline.local.Invoker` like the in-process one.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, TypeVar, final
from urllib.parse import urlsplit

from shardline._exceptions import ShardlineError, describe_exception
from shardline.local._errors import ResourceNotFoundError, ValidationError
from shardline.local._invoker import FunctionError, Invocation, read_response
from shardline.testing._clock import Clock, SystemClock

from ._remote import RemoteRetryError, RemoteStream, RemoteStreamError, _error_code

__all__ = [
    "Delivery",
    "LambdaInvoker",
    "RemoteSourceError",
    "RemoteStreams",
    "S3Source",
    "SqsSource",
]

_T = TypeVar("_T")

#: Attempts at one call to DynamoDB Streams before a redrive gives up on it (about a minute of backoff).
STREAM_ATTEMPTS: Final = 8
_INVOKE_ATTEMPTS: Final = 6
_INVOKE_BACKOFF_MS: Final = 500
_INVOKE_BACKOFF_CAP_MS: Final = 20_000
_READ_TIMEOUT_S: Final = 905  # a function runs at most 900 s ("Lambda quotas"); its answer comes after that
_SQS_BATCH: Final = 10  # ReceiveMessage returns at most 10 messages
_LOG_TAIL_BYTES: Final = 4096
# Invoke errors after which the function did not run, so trying again cannot run it twice ("Invoke", Lambda
# API reference: 429 TooManyRequestsException, 409 ResourceConflictException while it is being updated,
# 502 EC2ThrottledException and friends).
_INVOKE_NOT_RUN: Final = frozenset(
    {
        "TooManyRequestsException",
        "ResourceConflictException",
        "ResourceNotReadyException",
        "EC2ThrottledException",
        "ENILimitReachedException",
    }
)
# Errors that belong to the event sent, not to the function or the account: that batch fails, others go on.
_INVOKE_BATCH_ERRORS: Final = frozenset({"RequestTooLargeException", "InvalidRequestContentException"})


class RemoteSourceError(ShardlineError):
    """Reading on-failure records from SQS or S3, or invoking the deployed function, failed in a way that
    retrying will not fix: the queue, bucket or function does not exist, the credentials are refused, the
    endpoint does not answer."""

    __module__ = "shardline.aws"


# -- clients ----------------------------------------------------------------------------------------------


def make_client(
    service: str,
    *,
    endpoint_url: str | None,
    region_name: str | None,
    profile_name: str | None,
    **config: Any,
) -> Any:
    """A boto3 client as boto3 takes its options, or :class:`RemoteSourceError` saying what to fix."""
    try:
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the extra is missing
        raise RemoteSourceError(f'reading {service.upper()} needs boto3: pip install "shardline[aws]"') from None
    try:
        session = boto3.session.Session(profile_name=profile_name)
        return session.client(
            service, endpoint_url=endpoint_url, region_name=region_name, config=Config(**config) if config else None
        )
    except Exception as exc:  # botocore's errors (an unknown profile, no region, a bad URL) at the boundary
        raise RemoteSourceError(
            f"cannot make a {service} client ({describe_exception(exc)}); check --endpoint-url, --region and --profile"
        ) from exc


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[3] if len(parts) == 6 and parts[3] else None


# -- on-failure records from SQS and S3 ---------------------------------------------------------------------


@final
@dataclass
class Delivery:
    """One on-failure record as a destination holds it, and how to acknowledge it.

    ``record`` is the JSON read from the message or object (the SNS envelope unwrapped), or ``None`` with
    ``problem`` saying why it is not a record. :meth:`delete` removes it from the queue or bucket;
    :meth:`release` makes an SQS message visible again at once (a no-op for S3).
    """

    source: str
    record: Any
    problem: str | None = None
    _delete: Callable[[], None] | None = field(default=None, repr=False)
    _release: Callable[[], None] | None = field(default=None, repr=False)

    def delete(self) -> None:
        if self._delete is not None:
            self._delete()

    def release(self) -> None:
        if self._release is not None:
            self._release()


def _read_record(body: str, source: str) -> tuple[Any, str | None]:
    """The on-failure record in a message or object body; an SNS notification delivered to SQS without raw
    message delivery wraps it (``{"Type": "Notification", "Message": "<the record as text>"}``)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None, f"{source}: not JSON, so not an on-failure record"
    if isinstance(value, Mapping) and value.get("Type") == "Notification" and isinstance(value.get("Message"), str):
        try:
            value = json.loads(value["Message"])
        except (ValueError, RecursionError):
            return None, f"{source}: an SNS notification whose Message is not JSON, so not an on-failure record"
    return value, None


@final
class SqsSource:
    """The on-failure records in an SQS queue (an SQS destination, or a queue subscribed to an SNS one).

    Messages are received ten at a time and stay hidden from other readers for ``visibility_timeout``
    seconds while they are redriven; a message seen twice (its hiding ran out during a long redrive) is
    yielded once. Reading ends at the first receive that finds nothing; that receive waits up to
    ``wait_seconds`` (long polling, which asks every SQS server rather than a sample of them).
    """

    def __init__(
        self,
        queue_url: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        profile_name: str | None = None,
        visibility_timeout: int = 900,
        wait_seconds: int = 2,
        client: Any = None,
    ) -> None:
        parts = urlsplit(queue_url) if isinstance(queue_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(parts.path) < 2:
            raise RemoteSourceError(
                f"--from-sqs {queue_url!r}: expected a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)"
            )
        self.queue_url = queue_url
        self.visibility_timeout = visibility_timeout
        self.wait_seconds = wait_seconds
        region = region_name or _url_region(parts.netloc)
        self._client = (
            client
            if client is not None
            else make_client(
                "sqs",
                endpoint_url=endpoint_url,
                region_name=region,
                profile_name=profile_name,
                retries={"mode": "standard", "max_attempts": 5},
            )
        )

    def __iter__(self) -> Iterator[Delivery]:
        seen: set[str] = set()
        pending: list[Delivery] = []
        number = 0
        try:
            while True:
                fresh = [message for message in self._receive() if message.get("MessageId") not in seen]
                if not fresh:
                    return
                for message in fresh:
                    number += 1
                    seen.add(str(message.get("MessageId")))
                    pending.append(self._delivery(message, number))
                while pending:
                    yield pending.pop(0)
        finally:
            # Received but never handed out (the reader stopped early): visible to other readers again at once.
            for delivery in pending:
                with contextlib.suppress(RemoteSourceError):
                    delivery.release()

    def _receive(self) -> list[dict[str, Any]]:
        try:
            answer = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=_SQS_BATCH,
                VisibilityTimeout=self.visibility_timeout,
                WaitTimeSeconds=self.wait_seconds,
            )
        except Exception as exc:  # botocore's errors at the boundary
            raise RemoteSourceError(
                f"reading {self.queue_url} failed ({describe_exception(exc)}); check that the queue exists and"
                " that the endpoint, region and credentials are right"
            ) from exc
        messages = answer.get("Messages") if isinstance(answer, Mapping) else None
        return [message for message in messages or [] if isinstance(message, dict)]

    def _delivery(self, message: Mapping[str, Any], number: int) -> Delivery:
        source = f"message {number} of {self.queue_url} ({message.get('MessageId')})"
        body = message.get("Body")
        record, problem = _read_record(body, source) if isinstance(body, str) else (None, f"{source}: no body")
        receipt = message.get("ReceiptHandle")
        if not isinstance(receipt, str):
            return Delivery(source, record, problem or f"{source}: no receipt handle")
        return Delivery(
            source,
            record,
            problem,
            _delete=lambda: self._acknowledge("delete_message", source, ReceiptHandle=receipt),
            _release=lambda: self._acknowledge(
                "change_message_visibility", source, ReceiptHandle=receipt, VisibilityTimeout=0
            ),
        )

    def _acknowledge(self, operation: str, source: str, **arguments: Any) -> None:
        try:
            getattr(self._client, operation)(QueueUrl=self.queue_url, **arguments)
        except Exception as exc:  # botocore's errors at the boundary
            what = "deleting" if operation == "delete_message" else "releasing"
            raise RemoteSourceError(f"{what} {source} failed ({describe_exception(exc)})") from exc


def _url_region(host: str) -> str | None:
    """The region in an SQS URL's host (``sqs.eu-west-1.amazonaws.com``, ``eu-west-1.queue.amazonaws.com``)."""
    labels = host.split(":", maxsplit=1)[0].split(".")
    if len(labels) >= 4 and labels[0] == "sqs" and labels[2] == "amazonaws":
        return labels[1]
    if len(labels) >= 4 and labels[1] == "queue" and labels[2] == "amazonaws":
        return labels[0]
    return None


@final
class S3Source:
    """The on-failure records in an S3 destination: every object under ``s3://bucket/prefix``, by key (Lambda's
    keys begin with the mapping and the shard and go on with the time, so that is oldest first per shard)."""

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        profile_name: str | None = None,
        client: Any = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise RemoteSourceError(f"--from-s3 {url!r}: expected s3://bucket or s3://bucket/prefix")
        self.bucket, _, self.prefix = url[5:].partition("/")
        self._client = (
            client
            if client is not None
            else make_client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region_name,
                profile_name=profile_name,
                retries={"mode": "standard", "max_attempts": 5},
            )
        )

    def __iter__(self) -> Iterator[Delivery]:
        for key in self._keys():
            source = f"s3://{self.bucket}/{key}"
            try:
                body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except Exception as exc:  # botocore's errors at the boundary
                raise RemoteSourceError(f"reading {source} failed ({describe_exception(exc)})") from exc
            try:
                text = body.decode("utf-8")
            except (UnicodeDecodeError, AttributeError):
                yield Delivery(source, None, f"{source}: not UTF-8 text, so not an on-failure record")
                continue
            record, problem = _read_record(text, source)
            yield Delivery(source, record, problem, _delete=partial(self._delete, key))

    def _keys(self) -> list[str]:
        keys: list[str] = []
        token: str | None = None
        while True:
            arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
            if token is not None:
                arguments["ContinuationToken"] = token
            try:
                page = self._client.list_objects_v2(**arguments)
            except Exception as exc:  # botocore's errors at the boundary
                raise RemoteSourceError(
                    f"listing s3://{self.bucket}/{self.prefix} failed ({describe_exception(exc)}); check that the"
                    " bucket exists and that the endpoint, region and credentials are right"
                ) from exc
            keys.extend(
                entry["Key"]
                for entry in page.get("Contents") or []
                if isinstance(entry, Mapping) and isinstance(entry.get("Key"), str) and not entry["Key"].endswith("/")
            )
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not isinstance(token, str):
                return sorted(keys)

    def _delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # botocore's errors at the boundary
            raise RemoteSourceError(f"deleting s3://{self.bucket}/{key} failed ({describe_exception(exc)})") from exc


# -- batches from DynamoDB Streams --------------------------------------------------------------------------


@final
class RemoteStreams:
    """Streams on DynamoDB Streams by ARN, for a redrive: what :func:`shardline.local._redrive.fetch_batch`
    takes as its source.

    Each stream's client is made for the region in its ARN unless ``region_name`` says otherwise. Throttles,
    server and network errors are waited out (``wait_ms``; by default the process sleeps) up to
    :data:`STREAM_ATTEMPTS` attempts per call; a shard is read at most five times a second.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        profile_name: str | None = None,
        clock: Clock | None = None,
        wait_ms: Callable[[int], None] | None = None,
        client: Any = None,
    ) -> None:
        self._options = {"endpoint_url": endpoint_url, "region_name": region_name, "profile_name": profile_name}
        self._clock = clock or SystemClock()
        self._wait_ms = wait_ms or (lambda ms: time.sleep(ms / 1000))
        self._client = client
        self._clients: dict[str | None, Any] = {}
        self._streams: dict[str, _PatientStream] = {}

    def stream_by_arn(self, arn: str) -> _PatientStream:
        stream = self._streams.get(arn)
        if stream is None:
            region = self._options["region_name"] or _arn_region(arn)
            client = self._client if self._client is not None else self._clients.get(region)
            remote = RemoteStream(
                arn,
                endpoint_url=self._options["endpoint_url"],
                region_name=region,
                profile_name=self._options["profile_name"],
                client=client,
                clock=self._clock,
                skip_trimmed=False,
            )
            self._clients[region] = remote._client
            stream = self._streams[arn] = _PatientStream(remote, self._clock, self._wait_ms)
        return stream


@final
class _PatientStream:
    """A :class:`RemoteStream` whose calls wait out retriable errors and raise the local store's errors."""

    def __init__(self, remote: RemoteStream, clock: Clock, wait_ms: Callable[[int], None]) -> None:
        self.remote = remote
        self._clock = clock
        self._wait_ms = wait_ms
        self._shard_of: dict[str, str] = {}

    def describe_stream(self) -> dict[str, Any]:
        return self._patiently(self.remote.describe_stream)

    def get_shard_iterator(self, shard_id: str, iterator_type: str, sequence_number: str | None = None) -> str:
        iterator = self._patiently(lambda: self.remote.get_shard_iterator(shard_id, iterator_type, sequence_number))
        self._shard_of[iterator] = shard_id
        return iterator

    def get_records(self, iterator: str, limit: int = 1000) -> dict[str, Any]:
        shard_id = self._shard_of.pop(iterator, None)
        if shard_id is not None:
            when, _ = self.remote.next_read_ms(shard_id)
            self._wait_until(when)
        page = self._patiently(lambda: self.remote.get_records(iterator, limit))
        following = page.get("NextShardIterator")
        if shard_id is not None and isinstance(following, str):
            self._shard_of[following] = shard_id
        return page

    def _wait_until(self, when_ms: int) -> None:
        delay = when_ms - self._clock.now_ms()
        if delay > 0:
            self._wait_ms(delay)

    def _patiently(self, call: Callable[[], _T]) -> _T:
        for attempt in range(1, STREAM_ATTEMPTS + 1):
            try:
                return call()
            except RemoteRetryError as exc:  # noqa: PERF203 - a handful of attempts
                if attempt == STREAM_ATTEMPTS:
                    raise RemoteStreamError(f"{exc}; gave up after {STREAM_ATTEMPTS} attempts") from exc
                self._wait_until(exc.retry_at_ms)
            except RemoteStreamError as exc:
                if exc.code == "ResourceNotFoundException":
                    raise ResourceNotFoundError(str(exc)) from exc
                if exc.code in ("ValidationException", "InvalidArgumentException"):
                    raise ValidationError(str(exc)) from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover


# -- Lambda's Invoke API ------------------------------------------------------------------------------------


@final
class LambdaInvoker:
    """Invokes a deployed function with Lambda's Invoke API, synchronously (RequestResponse), as an event
    source mapping does; an :class:`~shardline.local.Invoker`.

    ``function_name`` is what Invoke takes: a name, ``name:alias`` or an ARN. A throttled invoke (429, or 409
    while the function is being updated) did not run the function, so it is tried again after a backoff; an
    invoke that may have run (a 5xx, a lost connection) is not, and counts as a failed invoke. A function that
    does not exist or credentials that are refused raise :class:`RemoteSourceError`: no batch can succeed.
    ``log`` receives the last 4 KB of the function's log for each invoke.
    """

    def __init__(
        self,
        function_name: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        profile_name: str | None = None,
        timeout: float = 900.0,
        clock: Clock | None = None,
        wait_ms: Callable[[int], None] | None = None,
        log: Callable[[str], None] | None = None,
        seed: int = 0,
        client: Any = None,
    ) -> None:
        if not isinstance(function_name, str) or not function_name.strip():
            raise RemoteSourceError(f"--function-name must be a function's name or ARN, got {function_name!r}")
        self.function_name = function_name
        region = region_name or (_arn_region(function_name) if function_name.startswith("arn:") else None)
        self.function_arn = function_name if function_name.startswith("arn:") else f"function:{function_name}"
        self.timeout = timeout
        self._clock = clock or SystemClock()
        self._wait_ms = wait_ms or (lambda ms: time.sleep(ms / 1000))
        self._log = log
        self._rng = random.Random(seed)
        self._client = (
            client
            if client is not None
            else make_client(
                "lambda",
                endpoint_url=endpoint_url,
                region_name=region,
                profile_name=profile_name,
                retries={"total_max_attempts": 1},
                read_timeout=_READ_TIMEOUT_S,
                connect_timeout=10,
            )
        )

    def deadline_from_now(self) -> int:
        return self._clock.now_ms() + round(self.timeout * 1000)

    def invoke(self, event: Mapping[str, Any], *, deadline_ms: int) -> Invocation:
        payload = json.dumps(event, separators=(",", ":")).encode()
        started = time.perf_counter()
        for attempt in range(1, _INVOKE_ATTEMPTS + 1):
            try:
                answer = self._client.invoke(
                    FunctionName=self.function_name,
                    InvocationType="RequestResponse",
                    LogType="Tail",
                    Payload=payload,
                )
                break
            except Exception as exc:  # botocore's errors at the boundary
                code, status = _error_code(exc)
                message = describe_exception(exc)
                if code in _INVOKE_NOT_RUN and attempt < _INVOKE_ATTEMPTS:
                    delay = min(_INVOKE_BACKOFF_CAP_MS, _INVOKE_BACKOFF_MS * 2 ** (attempt - 1))
                    self._wait_ms(delay + self._rng.randrange(0, delay // 10 + 1))
                    continue
                duration = (time.perf_counter() - started) * 1000
                if code in _INVOKE_BATCH_ERRORS or code in _INVOKE_NOT_RUN:
                    return Invocation(None, FunctionError("exception", code, message), "", duration)
                if (status is not None and status >= 500) or (code is None and _may_have_run(exc)):
                    # The function may have run: not tried again (a redrive is run again by hand instead).
                    error = FunctionError(
                        "exception", code or "Lambda.NoAnswer", f"{message}; the function may or may not have run"
                    )
                    return Invocation(None, error, "", duration)
                raise RemoteSourceError(f"invoking {self.function_name} failed: {message}") from exc
        return self._invocation(answer, (time.perf_counter() - started) * 1000)

    def _invocation(self, answer: Mapping[str, Any], duration_ms: float) -> Invocation:
        metadata = answer.get("ResponseMetadata")
        request_id = metadata.get("RequestId", "") if isinstance(metadata, Mapping) else ""
        headers = metadata.get("HTTPHeaders", {}) if isinstance(metadata, Mapping) else {}
        request_id = request_id or (headers.get("x-amzn-requestid", "") if isinstance(headers, Mapping) else "")
        log = answer.get("LogResult")
        if self._log is not None and isinstance(log, str) and log:
            with contextlib.suppress(ValueError):  # a log tail that is not base64 is not worth failing the invoke
                self._log(base64.b64decode(log)[-_LOG_TAIL_BYTES:].decode("utf-8", "replace"))
        stream = answer.get("Payload")
        try:
            body = stream.read() if stream is not None else b""
        except Exception as exc:  # noqa: BLE001 - the connection dropped while the answer was read
            error = FunctionError(
                "exception", "Lambda.NoAnswer", f"{describe_exception(exc)}; the function may or may not have run"
            )
            return Invocation(None, error, str(request_id), duration_ms)
        response = read_response(body if isinstance(body, bytes) else b"", "application/json")
        kind = answer.get("FunctionError")
        if isinstance(kind, str) and kind:
            detail = response if isinstance(response, Mapping) else {}
            error_type = detail.get("errorType")
            message = detail.get("errorMessage")
            trace = detail.get("stackTrace")
            error = FunctionError(
                "exception",
                error_type if isinstance(error_type, str) else kind,
                message if isinstance(message, str) else "",
                [str(line) for line in trace] if isinstance(trace, list) else None,
            )
            return Invocation(None, error, str(request_id), duration_ms)
        return Invocation(response, None, str(request_id), duration_ms)

    def __repr__(self) -> str:
        return f"<LambdaInvoker {self.function_name}>"


def _may_have_run(exc: BaseException) -> bool:
    """A read timeout or a connection lost after the request was sent: Lambda may have run the function."""
    try:
        from botocore.exceptions import ConnectionClosedError, ReadTimeoutError  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the extra is missing
        return False
    return isinstance(exc, (ReadTimeoutError, ConnectionClosedError))
