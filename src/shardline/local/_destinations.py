"""On-failure destinations: where the emulator sends records it gives up on (the invocation record shape of
"Capturing discarded batches for a DynamoDB event source" in the Lambda developer guide).

By default the records are kept in the state database (`StoreDestination`); a path ending in `.jsonl`
appends them to a JSON Lines file; an SQS queue, SNS topic or S3 bucket ARN sends them through boto3 (the
`aws` extra) to the endpoint you configure, LocalStack or AWS itself.

A destination that cannot take a record raises [`DestinationError`][shardline.local.DestinationError]; the emulator then
leaves the batch where it was (not checkpointed), so running again sends the record again and nothing is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, final

from shardline._exceptions import ShardlineError, describe_exception
from shardline._json import json_dumps
from shardline.local._settings import InvalidParameterValueError

__all__ = [
    "Boto3Destination",
    "Destination",
    "DestinationError",
    "JsonLinesDestination",
    "StoreDestination",
    "destination_from",
]


@final
class DestinationError(ShardlineError):
    """An on-failure destination could not take a record (a file that cannot be written, a queue that does
    not exist, an endpoint that does not answer). The batch stays unchecked: fix the cause and run again."""

    __module__ = "shardline.local"


class Destination(Protocol):
    """Receives on-failure records (dicts); raising fails the run, so senders should be reliable.

    An on-failure record describes a batch Lambda gave up on: the shard, the first and last sequence
    numbers, the reason, never the records themselves
    ([on-failure destinations for DynamoDB](https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html)).
    """

    def send(self, record: Mapping[str, Any]) -> None:
        """Deliver one on-failure record. Raise when it cannot be delivered: the run stops rather than lose it."""
        ...


class _StateStore(Protocol):
    def get_state(self, namespace: str, key: str) -> str | None: ...
    def set_state(self, namespace: str, key: str, value: str | None) -> None: ...


@final
class StoreDestination:
    """Keeps a mapping's on-failure records in the state database, in order; survives restarts."""

    def __init__(self, store: _StateStore, mapping: str) -> None:
        self._store = store
        self._namespace = f"destination:{mapping}"

    def send(self, record: Mapping[str, Any]) -> None:
        """Keep `record` in the store's state, after the records sent before it."""
        count = int(self._store.get_state(self._namespace, "count") or 0)
        self._store.set_state(self._namespace, f"{count:012d}", json_dumps(record))
        self._store.set_state(self._namespace, "count", str(count + 1))

    def records(self) -> list[dict[str, Any]]:
        """Every record sent so far, oldest first."""
        count = int(self._store.get_state(self._namespace, "count") or 0)
        found = []
        for index in range(count):
            text = self._store.get_state(self._namespace, f"{index:012d}")
            if text is not None:
                found.append(json.loads(text))
        return found

    def __repr__(self) -> str:
        return f"<StoreDestination {self._namespace}>"


@final
class JsonLinesDestination:
    """Appends each record as one line of JSON to a file (created with its folder), flushed to disk."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def send(self, record: Mapping[str, Any]) -> None:
        """Append `record` as one line of JSON and flush it to disk.

        Raises:
            DestinationError: The file or its folder cannot be written.
        """
        line = json_dumps(record, separators=(",", ":")) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise DestinationError(
                f"on-failure destination {self.path}: cannot append to it ({exc.strerror or exc}); "
                "give a path you can write"
            ) from exc

    def __repr__(self) -> str:
        return f"<JsonLinesDestination {self.path}>"


@final
class Boto3Destination:
    """Sends records to an SQS queue, SNS topic or S3 bucket ARN with boto3, as Lambda does
    ([on-failure destinations for DynamoDB](https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html)).

    S3 objects get the invocation `payload` too and Lambda's key layout
    (`aws/lambda/<mapping>/<shardId>/YYYY/MM/DD/<timestamp>-<n>`).
    """

    def __init__(
        self, arn: str, *, endpoint_url: str | None = None, region: str | None = None, mapping: str = "mapping"
    ) -> None:
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) < 6 or parts[0] != "arn" or parts[2] not in ("sqs", "sns", "s3"):
            raise InvalidParameterValueError(
                f"on-failure destination {arn!r}: expected an SQS queue, SNS topic or S3 bucket ARN"
            )
        try:
            import boto3  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - the extra is missing
            raise InvalidParameterValueError(
                'SQS, SNS and S3 destinations need boto3: pip install "shardline[aws]"'
            ) from None
        self.arn = arn
        self.mapping = mapping
        self.service = parts[2]
        self.wants_payload = self.service == "s3"
        self.region = region or parts[3] or "us-east-1"
        try:
            self._client: Any = boto3.client(self.service, endpoint_url=endpoint_url, region_name=self.region)
        except Exception as exc:  # botocore's errors (a bad endpoint URL, a missing region) at the boundary
            raise InvalidParameterValueError(
                f"on-failure destination {arn}: cannot make a {self.service.upper()} client"
                f" ({describe_exception(exc)}); check --endpoint-url and the region"
            ) from exc
        self._sent = 0

    def send(self, record: Mapping[str, Any]) -> None:
        """Send `record` as JSON: an SQS message, an SNS notification or an S3 object.

        Raises:
            DestinationError: The service refused the record or could not be reached.
        """
        try:
            self._send(record)
        except Exception as exc:  # botocore's errors: the queue is missing, the endpoint does not answer...
            raise DestinationError(
                f"on-failure destination {self.arn}: the record was not sent ({describe_exception(exc)});"
                " check that it exists and that the endpoint and credentials are right"
            ) from exc

    def _send(self, record: Mapping[str, Any]) -> None:
        body = json_dumps(record)
        if self.service == "sqs":
            account, name = self.arn.split(":")[4], self.arn.split(":")[5]
            url = self._client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            self._client.send_message(QueueUrl=url, MessageBody=body)
        elif self.service == "sns":
            self._client.publish(TopicArn=self.arn, Message=body)
        else:
            info = record.get("DDBStreamBatchInfo", {})
            stamp = str(record.get("timestamp", "")).replace(":", ".").rstrip("Z")
            day = stamp[:10].replace("-", "/")
            self._sent += 1
            key = f"aws/lambda/{self.mapping}/{info.get('shardId', 'shard')}/{day}/{stamp}-{self._sent}"
            bucket = self.arn.split(":")[-1]
            self._client.put_object(Bucket=bucket, Key=key, Body=body.encode())

    def __repr__(self) -> str:
        return f"<Boto3Destination {self.arn}>"


def destination_from(
    config: object, *, store: _StateStore, mapping: str, endpoint_url: str | None = None
) -> Destination:
    """A destination from an `on_failure` setting: None (the store), a path, an ARN, a DestinationConfig
    (`{"OnFailure": {"Destination": arn}}` or `{"Destination": arn}`) or a Destination object."""
    if config is None:
        return StoreDestination(store, mapping)
    if isinstance(config, Mapping):
        inner = config.get("OnFailure", config)
        target = inner.get("Destination") if isinstance(inner, Mapping) else None
        if not isinstance(target, str):
            raise InvalidParameterValueError(
                'on_failure: expected {"OnFailure": {"Destination": "<arn>"}} or {"Destination": "<arn>"}'
            )
        config = target
    if isinstance(config, str) and config.startswith("arn:"):
        return Boto3Destination(config, endpoint_url=endpoint_url, mapping=mapping)
    if isinstance(config, (str, os.PathLike)):
        return JsonLinesDestination(config)
    if hasattr(config, "send"):
        return config
    raise TypeError(f"on_failure: expected a path, an ARN or a destination object, got {type(config).__name__}")
