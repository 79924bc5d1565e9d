"""The AWS side of a redrive: on-failure records from SQS or S3, batches from DynamoDB Streams, Lambda's Invoke.

An event source mapping's on-failure destination ("Capturing discarded batches for a DynamoDB event source",
Lambda developer guide) receives one record per discarded batch: an SQS message, an SNS notification (often
delivered on to an SQS queue), or an S3 object whose key starts `aws/lambda/<mapping UUID>/<shard ID>/`. None
of them holds the items; `shardline.local._redrive` fetches them from the stream and reads the answer.
This module gives it what lives on AWS:

* [`SqsSource`][shardline.aws.SqsSource] and [`S3Source`][shardline.aws.S3Source] yield the records as
[`Delivery`][shardline.aws.Delivery] objects, which a redrive
  deletes once the whole batch succeeded (and releases otherwise, so the queue's other readers see the message
  again at once);
* [`RemoteStreams`][shardline.aws.RemoteStreams] reads a batch's range from DynamoDB Streams (AT_SEQUENCE_NUMBER),
waiting out
  throttles and server errors, and turns the service's errors into the local store's, which a redrive
  understands (a trimmed range is a problem stated for that batch, never records read from elsewhere);
* [`LambdaInvoker`][shardline.aws.LambdaInvoker] invokes the deployed function with Lambda's Invoke API
(RequestResponse, the last
  4 KB of its log on request), an [`Invoker`][shardline.local.Invoker] like the in-process one.
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
from shardline.local._redrive import StreamReadError
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
_READ_MARGIN_S: Final = 5.0  # Invoke answers after the function's timeout (900 s at most, "Lambda quotas")
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
        "SnapStartNotReadyException",
    }
)
# Invoke errors of the function's configuration (502): it did not run, and no batch can run until it is fixed.
_INVOKE_CONFIGURATION: Final = frozenset(
    {
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSInvalidStateException",
        "KMSNotFoundException",
        "InvalidZipFileException",
        "InvalidRuntimeException",
        "InvalidSubnetIDException",
        "InvalidSecurityGroupIDException",
        "SubnetIPAddressLimitReachedException",
        "EC2AccessDeniedException",
        "EFSMountFailureException",
        "EFSMountConnectivityException",
        "EFSIOException",
        "SnapStartException",
        "SnapStartTimeoutException",
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
    """A boto3 client as boto3 takes its options, or [`RemoteSourceError`][shardline.aws.RemoteSourceError] saying what
    to fix."""
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


def arn_region(arn: str | None) -> str | None:
    """The region field of an ARN (`arn:aws:<service>:<region>:...`), or None when it has none."""
    parts = arn.split(":", 5) if arn else []
    return parts[3] if len(parts) == 6 and parts[3] else None


# -- on-failure records from SQS and S3 ---------------------------------------------------------------------


@final
@dataclass
class Delivery:
    """One on-failure record as a destination holds it, and how to acknowledge it.

    `record` is the JSON read from the message or object (the SNS envelope unwrapped), or `None` with
    `problem` saying why it is not a record. [`delete`][shardline.aws.Delivery.delete] removes it from the queue or
    bucket; [`release`][shardline.aws.Delivery.release] makes an SQS message visible again at once (a no-op for S3).
    Either is done once.
    """

    source: str
    record: Any
    problem: str | None = None
    _delete: Callable[[], None] | None = field(default=None, repr=False)
    _release: Callable[[], None] | None = field(default=None, repr=False)
    done: bool = False

    def delete(self) -> None:
        """Remove the record from its queue or bucket: it was redriven, or it is not worth keeping.

        Does nothing once the delivery was deleted or released.
        """
        if not self.done and self._delete is not None:
            self._delete()
        self.done = True

    def release(self) -> None:
        """Make an SQS message visible again at once, for a later redrive; an S3 object is left where it is.

        Does nothing once the delivery was deleted or released.
        """
        if not self.done and self._release is not None:
            self._release()
        self.done = True


def _read_record(body: str, source: str) -> tuple[Any, str | None]:
    """The on-failure record in a message or object body; an SNS notification delivered to SQS without raw
    message delivery wraps it (`{"Type": "Notification", "Message": "<the record as text>"}`)."""
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
class _Received:
    """A message handed out and not yet deleted or released: its newest receipt handle (a message received
    again gets a new one, and only the newest deletes it for sure) and when it was last hidden."""

    __slots__ = ("hidden_ms", "receipt")

    def __init__(self, receipt: str, hidden_ms: int) -> None:
        self.receipt = receipt
        self.hidden_ms = hidden_ms


@final
class SqsSource:
    """The on-failure records in an SQS queue (an SQS destination, or a queue subscribed to an SNS one).

    Messages are received ten at a time and stay hidden from other readers while they are redriven: each
    receive asks for `visibility_timeout` seconds, and a message still held when half of that has passed is
    hidden again for as long (ChangeMessageVisibility), so a long redrive neither loses sight of a message
    nor sees it twice. A message that comes back all the same (a clock jump, a hiding call that failed) is
    yielded once, with its newest receipt handle kept for the delete. Reading ends at the first receive that
    finds nothing new, after up to three receives that bring only messages seen already; each waits up to
    `wait_seconds` (long polling, which asks every SQS server rather than a sample of them:
    [short and long polling](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html)).
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
        clock: Clock | None = None,
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
        self.came_back = 0  # messages received again while held (their hiding ran out)
        self._clock = clock or SystemClock()
        self._held: dict[str, _Received] = {}
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
        stale = 0
        try:
            while True:
                self._keep_hidden()
                messages = self._receive()
                fresh = []
                for message in messages:
                    identifier = str(message.get("MessageId"))
                    if identifier in seen:
                        self._received_again(identifier, message)
                    else:
                        seen.add(identifier)
                        fresh.append(message)
                if not messages:
                    return
                if not fresh:
                    stale += 1
                    if stale >= 3:
                        return
                    continue
                stale = 0
                for message in fresh:
                    number += 1
                    pending.append(self._delivery(message, number))
                while pending:
                    self._keep_hidden()
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

    def _received_again(self, identifier: str, message: Mapping[str, Any]) -> None:
        held = self._held.get(identifier)
        receipt = message.get("ReceiptHandle")
        if held is not None and isinstance(receipt, str):
            self.came_back += 1
            held.receipt = receipt
            held.hidden_ms = self._clock.now_ms()
        elif isinstance(receipt, str):  # handed out and acknowledged already: not ours to hold any longer
            with contextlib.suppress(Exception):
                self._client.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
                )

    def _keep_hidden(self) -> None:
        """Hide again every held message whose hiding is half gone."""
        now = self._clock.now_ms()
        half = self.visibility_timeout * 500
        for identifier, held in list(self._held.items()):
            if now - held.hidden_ms >= half:
                with contextlib.suppress(RemoteSourceError):  # if it comes back, it is caught as received again
                    self._change(identifier, "change_message_visibility", VisibilityTimeout=self.visibility_timeout)
                    held.hidden_ms = now

    def _delivery(self, message: Mapping[str, Any], number: int) -> Delivery:
        identifier = str(message.get("MessageId"))
        source = f"message {number} of {self.queue_url} ({identifier})"
        body = message.get("Body")
        record, problem = _read_record(body, source) if isinstance(body, str) else (None, f"{source}: no body")
        receipt = message.get("ReceiptHandle")
        if not isinstance(receipt, str):
            return Delivery(source, record, problem or f"{source}: no receipt handle")
        self._held[identifier] = _Received(receipt, self._clock.now_ms())
        return Delivery(
            source,
            record,
            problem,
            _delete=partial(self._let_go, identifier, "delete_message"),
            _release=partial(self._let_go, identifier, "change_message_visibility", VisibilityTimeout=0),
        )

    def _let_go(self, identifier: str, operation: str, **arguments: Any) -> None:
        self._change(identifier, operation, **arguments)
        self._held.pop(identifier, None)

    def _change(self, identifier: str, operation: str, **arguments: Any) -> None:
        held = self._held.get(identifier)
        if held is None:
            return
        try:
            getattr(self._client, operation)(QueueUrl=self.queue_url, ReceiptHandle=held.receipt, **arguments)
        except Exception as exc:  # botocore's errors at the boundary
            what = {"delete_message": "deleting", "change_message_visibility": "hiding or releasing"}[operation]
            raise RemoteSourceError(
                f"{what} message {identifier} of {self.queue_url} failed ({describe_exception(exc)})"
            ) from exc


def _url_region(host: str) -> str | None:
    """The region in an SQS URL's host (`sqs.eu-west-1.amazonaws.com`, `eu-west-1.queue.amazonaws.com`)."""
    labels = host.split(":", maxsplit=1)[0].split(".")
    if len(labels) >= 4 and labels[0] == "sqs" and labels[2] == "amazonaws":
        return labels[1]
    if len(labels) >= 4 and labels[1] == "queue" and labels[2] == "amazonaws":
        return labels[0]
    return None


@final
class S3Source:
    """The on-failure records in an S3 destination: every object under `s3://bucket/prefix`, by key (Lambda's
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
    """Streams on DynamoDB Streams by ARN, for a redrive: where `shardline redrive` reads the batches that
    on-failure records name.

    Each stream's client is made for the region in its ARN unless `region_name` says otherwise. Throttles,
    server and network errors are waited out (`wait_ms`; by default the process sleeps) up to
    8 attempts per call; a shard is read at most five times a second.
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
        """The stream with ARN `arn`, made on first use and kept for later batches of the same stream.

        It reads as [`RemoteStream`][shardline.aws.RemoteStream] does, but waits out throttling, server and
        network errors (up to 8 attempts a call, then [`StreamReadError`][shardline.local.StreamReadError]) and
        raises the errors a local stream raises: a record past the retention is a
        [`TrimmedDataAccessError`][shardline.local.TrimmedDataAccessError], an unknown stream a
        [`ResourceNotFoundError`][shardline.local.ResourceNotFoundError].
        """
        stream = self._streams.get(arn)
        if stream is None:
            region = self._options["region_name"] or arn_region(arn)
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
    """A [`RemoteStream`][shardline.aws.RemoteStream] whose calls wait out retriable errors and raise the local store's
    errors."""

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
                    # This batch waits for another redrive; the next one may read a stream that answers.
                    what = str(exc).rpartition("; retry ")[0] or str(exc)
                    raise StreamReadError(f"{what}; gave up after {STREAM_ATTEMPTS} attempts") from exc
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
    source mapping does; an [`Invoker`][shardline.local.Invoker].

    `function_name` is what Invoke takes: a name, `name:alias` or an ARN. A throttled invoke (429, or 409
    while the function is being updated) did not run the function, so it is tried again after a backoff; an
    invoke that may have run (a 5xx, a lost connection) is not, and counts as a failed invoke. A function that
    does not exist or credentials that are refused raise [`RemoteSourceError`][shardline.aws.RemoteSourceError]: no
    batch can succeed. `log` receives the last 4 KB of the function's log for each invoke. `timeout` is how long an
    answer is waited for (the function's own timeout, 900 s at most, plus a few seconds).
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
        region = region_name or (arn_region(function_name) if function_name.startswith("arn:") else None)
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
                read_timeout=min(timeout, 900.0) + _READ_MARGIN_S,
                connect_timeout=10,
            )
        )

    def deadline_from_now(self) -> int:
        """The deadline of an invoke starting now: the clock's time plus `timeout`, in epoch milliseconds."""
        return self._clock.now_ms() + round(self.timeout * 1000)

    def invoke(self, event: Mapping[str, Any], *, deadline_ms: int) -> Invocation:
        """Invoke the function with `event` and wait for its answer (`deadline_ms` is not used: the
        function's own timeout applies on AWS).

        A function error, a throttle that outlasted the retries and an answer that was lost are an
        [`Invocation`][shardline.local.Invocation] with an `error`.

        Raises:
            RemoteSourceError: No invoke can run until something is fixed (the function's code or network
                settings are broken, it does not exist, access is denied), or the call failed for a reason
                that has nothing to do with the batch.
        """
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
                if code in _INVOKE_CONFIGURATION:
                    raise RemoteSourceError(
                        f"invoking {self.function_name} failed: {message}; the function's configuration must be"
                        " fixed before any batch can run"
                    ) from exc
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
            if not isinstance(message, str) and isinstance(response, (bytes, str)) and response:
                # An error payload that is not Lambda's JSON: its text is the only account of what happened.
                text = response.decode("utf-8", "replace") if isinstance(response, bytes) else response
                message = text if len(text) <= 500 else f"{text[:497]}..."
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
