"""Redrive on AWS's side: on-failure records from SQS and S3, batches read back from DynamoDB Streams, and the
deployed function invoked through Lambda's Invoke API.

The queue, the bucket and the stream are moto's server's (started on a free port); the batches that land there
are written by the emulator itself, reading the stream through :class:`RemoteStream`, so the records are the
ones an event source mapping on AWS would send. Lambda's Invoke API is a small HTTP server here that records
each request and answers as Lambda does (its status codes, ``X-Amz-Function-Error``, ``X-Amz-Log-Result``):
boto3 makes real requests to it, nothing in boto3 is mocked. Nothing here depends on what moto does unlike AWS
(MODIFY records for unchanged items, SizeBytes as JSON length).
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import COMMAND, REGION, Throttling, aws_client, clean_environment, stream_table

from shardline.aws import LambdaInvoker, RemoteSourceError, RemoteStream, RemoteStreams, S3Source, SqsSource
from shardline.local import Pipeline, Store, TrimmedDataAccessError
from shardline.local._redrive import failed_batch, fetch_batch, redrive_batch
from shardline.testing import VirtualClock

botocore_exceptions = pytest.importorskip("botocore.exceptions")
pytest.importorskip("moto.server")

_names = itertools.count()
ACCOUNT = "123456789012"

HANDLER = """\
import json, os, pathlib

def handler(event, context):
    keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
    with open(pathlib.Path(__file__).with_name("seen.jsonl"), "a") as seen:
        seen.write(json.dumps(keys) + "\\n")
    if pathlib.Path(__file__).with_name("BUG").exists() and "b" in keys:
        raise ValueError("b is bad")
"""


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials for the clients the emulator's SQS and S3 destinations make in this process."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "any")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "any")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def wall_clock() -> VirtualClock:
    return VirtualClock(time.time_ns() // 1_000_000)


class Failures:
    """A stream-enabled table on moto, and the on-failure record of a batch [a, b] the emulator gave up on
    (its function failed on b, with no retries), sent to ``destination`` (an SQS queue or S3 bucket ARN);
    the next batch, [c], succeeded and went nowhere."""

    def __init__(self, url: str, destination: str, tmp_path: Path) -> None:
        self.url = url
        self.name = f"Redrive{next(_names)}"
        self.dynamodb = aws_client("dynamodb", url)
        self.stream_arn = stream_table(self.dynamodb, self.name)
        for pk in "abc":
            self.dynamodb.put_item(TableName=self.name, Item={"pk": {"S": pk}})
        self.sent: list[list[str]] = []

        def buggy(event: dict[str, Any], context: Any) -> None:
            keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
            self.sent.append(keys)
            if "b" in keys:
                raise ValueError("b is bad")

        stream = RemoteStream(self.stream_arn, client=aws_client("dynamodbstreams", url))
        with Store(tmp_path / "emulator.db", clock=wall_clock()) as store:
            pipeline = Pipeline(store, endpoint_url=url)
            pipeline.add_mapping(stream, buggy, batch_size=2, maximum_retry_attempts=0, on_failure=destination)
            pipeline.run_until_idle()
        assert self.sent == [["a", "b"], ["c"]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.py").write_text(HANDLER, encoding="utf-8")
    return folder


def seen(project: Path) -> list[list[str]]:
    path = project / "seen.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def redrive(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = clean_environment()
    environment.update(AWS_ACCESS_KEY_ID="any", AWS_SECRET_ACCESS_KEY="any")
    return subprocess.run(
        [*COMMAND, "redrive", "--endpoint-url", url, "--region", REGION, "--state", "none.db", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=project,
        env=environment,
        timeout=120,
    )


def queue(url: str) -> tuple[Any, str, str]:
    sqs = aws_client("sqs", url)
    name = f"failures{next(_names)}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return sqs, queue_url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message visible now, each made visible again right away for the next look."""
    found = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return list(found)


# -- SQS ------------------------------------------------------------------------------------------------------


def test_from_sqs_redrives_exactly_the_failed_batch_and_deletes_it_only_on_success(
    moto_url: str, tmp_path: Path, project: Path
) -> None:
    sqs, queue_url, arn = queue(moto_url)
    failures = Failures(moto_url, arn, tmp_path)
    [message] = messages(sqs, queue_url)
    record = json.loads(message["Body"])
    assert record["DDBStreamBatchInfo"]["streamArn"] == failures.stream_arn
    assert record["DDBStreamBatchInfo"]["batchSize"] == 2

    (project / "BUG").write_text("")
    still = redrive(project, moto_url, "--from-sqs", queue_url, "--handler", "app.handler", "--delete")
    assert still.returncode == 1, still.stderr
    assert [line.split("  ")[-1] for line in still.stdout.splitlines()] == [
        "failed: ValueError: b is bad; Lambda retries the whole batch (2 records)",
    ] * 2
    assert "redrove 2 records of 1 batch: 0 succeeded, 2 failed, 0 skipped" in still.stderr
    assert "deleted" not in still.stderr
    assert len(messages(sqs, queue_url)) == 1  # kept, and visible again at once

    (project / "BUG").unlink()
    fixed = redrive(project, moto_url, "--from-sqs", queue_url, "--handler", "app.handler", "--delete", "--json")
    assert fixed.returncode == 0, fixed.stderr
    outcomes = [json.loads(line) for line in fixed.stdout.splitlines()]
    assert [(o["eventName"], o["Keys"], o["outcome"]) for o in outcomes] == [
        ("INSERT", {"pk": {"S": "a"}}, "succeeded"),
        ("INSERT", {"pk": {"S": "b"}}, "succeeded"),
    ]
    assert seen(project) == [["a", "b"], ["a", "b"]]  # exactly the failed batch, once per redrive
    assert f"deleted message 1 of {queue_url}" in fixed.stderr
    assert messages(sqs, queue_url) == []


def test_from_sqs_unwraps_sns_notifications_and_leaves_foreign_messages(
    moto_url: str, tmp_path: Path, project: Path
) -> None:
    sqs, queue_url, arn = queue(moto_url)
    Failures(moto_url, arn, tmp_path)
    [message] = messages(sqs, queue_url)
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    envelope = {"Type": "Notification", "MessageId": "m-1", "Message": message["Body"]}
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(envelope))
    sqs.send_message(QueueUrl=queue_url, MessageBody="hello")
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"orderId": 7}))

    result = redrive(project, moto_url, "--from-sqs", queue_url, "--handler", "app.handler", "--delete")
    assert result.returncode == 1
    assert seen(project) == [["a", "b"]]
    assert "not JSON, so not an on-failure record; left where it is" in result.stderr
    assert "DDBStreamBatchInfo is missing; only on-failure records of a DynamoDB stream mapping" in result.stderr
    assert "redrove 2 records of 1 batch: 2 succeeded, 0 failed, 0 skipped; 2 left where they are" in result.stderr
    assert sorted(m["Body"] for m in messages(sqs, queue_url)) == ["hello", '{"orderId": 7}']


def test_limit_and_dry_run_leave_every_message_visible(moto_url: str, tmp_path: Path, project: Path) -> None:
    sqs, queue_url, arn = queue(moto_url)
    Failures(moto_url, arn, tmp_path)
    [message] = messages(sqs, queue_url)
    sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])

    result = redrive(project, moto_url, "--from-sqs", queue_url, "--dry-run", "--limit", "1", "--json")
    assert result.returncode == 0, result.stderr
    [event] = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]] == ["a", "b"]
    assert "dry run: 2 records of 1 batch would be sent, 0 skipped" in result.stderr
    assert seen(project) == []
    assert len(messages(sqs, queue_url)) == 2  # the one read and the one past --limit: both released


def test_a_missing_queue_is_one_line_error(moto_url: str, project: Path) -> None:
    missing = f"{moto_url}/{ACCOUNT}/no-such-queue"
    result = redrive(project, moto_url, "--from-sqs", missing, "--handler", "app.handler")
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: reading {missing} failed (")
    assert "check that the queue exists" in result.stderr
    assert "Traceback" not in result.stderr


# -- S3 ------------------------------------------------------------------------------------------------------


def test_from_s3_redrives_and_deletes_the_objects_of_succeeded_batches(
    moto_url: str, tmp_path: Path, project: Path
) -> None:
    s3 = aws_client("s3", moto_url)
    bucket = f"failures{next(_names)}"
    s3.create_bucket(Bucket=bucket)
    Failures(moto_url, f"arn:aws:s3:::{bucket}", tmp_path)
    [key] = [entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert key.startswith("aws/lambda/")
    stored = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stored["payload"]["Records"]] == ["a", "b"]

    result = redrive(
        project, moto_url, "--from-s3", f"s3://{bucket}/aws/lambda/", "--handler", "app.handler", "--delete"
    )
    assert result.returncode == 0, result.stderr
    assert seen(project) == [["a", "b"]]
    assert f"deleted s3://{bucket}/{key}" in result.stderr
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_s3_urls_are_checked() -> None:
    with pytest.raises(RemoteSourceError, match=r"^--from-s3 'bucket/x': expected s3://bucket or s3://bucket/prefix$"):
        S3Source("bucket/x", client=object())
    source = S3Source("s3://b/aws/lambda/", client=object())
    assert (source.bucket, source.prefix) == ("b", "aws/lambda/")
    with pytest.raises(RemoteSourceError, match=r"^--from-sqs 'queue': expected a queue URL"):
        SqsSource("queue", client=object())


# -- reading batches back from DynamoDB Streams --------------------------------------------------------------


def record_of(stream_arn: str, shard_id: str, first: str, last: str, size: int = 1) -> dict[str, Any]:
    return {
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "batchSize": size,
            "streamArn": stream_arn,
        }
    }


def test_remote_streams_wait_out_throttles_and_read_the_batch(moto_url: str, tmp_path: Path) -> None:
    sqs, queue_url, arn = queue(moto_url)
    failures = Failures(moto_url, arn, tmp_path)
    [message] = messages(sqs, queue_url)
    batch = failed_batch(json.loads(message["Body"]), source="message 1")
    clock = wall_clock()
    waits: list[int] = []

    def wait(ms: int) -> None:
        waits.append(ms)
        clock.advance(ms)

    client = Throttling(aws_client("dynamodbstreams", moto_url), 3)
    streams = RemoteStreams(clock=clock, wait_ms=wait, client=client)
    fetched = fetch_batch(streams, batch)
    assert fetched.problem is None
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in fetched.records] == ["a", "b"]
    assert all(r["eventSourceARN"] == failures.stream_arn for r in fetched.records)
    assert client.calls[:4] == ["get_shard_iterator"] * 4
    assert len(waits) == 3
    assert waits[0] >= 250
    assert waits[1] >= 500
    assert waits[2] >= 1000


def test_a_stream_that_keeps_throttling_fails_its_batch_and_the_next_one_is_read(moto_url: str, tmp_path: Path) -> None:
    sqs, queue_url, arn = queue(moto_url)
    Failures(moto_url, arn, tmp_path)
    batch = failed_batch(json.loads(messages(sqs, queue_url)[0]["Body"]), source="message 1")
    clock = wall_clock()
    client = Throttling(aws_client("dynamodbstreams", moto_url), 8)
    streams = RemoteStreams(clock=clock, wait_ms=clock.advance, client=client)
    first = fetch_batch(streams, batch)
    assert first.problem is not None
    assert re.fullmatch(
        r"the stream could not be read \(GetShardIterator on shard \S+ throttled \(ClientError: An error occurred"
        r" \(LimitExceededException\) when calling the get_shard_iterator operation: slow down\); gave up after 8"
        r" attempts\); redrive again later",
        first.problem,
    )
    assert first.records == []
    second = fetch_batch(streams, batch)  # the throttling is over: the same batch reads
    assert second.problem is None
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in second.records] == ["a", "b"]


class Trimming:
    """A DynamoDB Streams client whose records past the retention are gone (TrimmedDataAccessException)."""

    def get_shard_iterator(self, **arguments: Any) -> Any:
        raise botocore_exceptions.ClientError(
            {
                "Error": {"Code": "TrimmedDataAccessException", "Message": "records are trimmed"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "GetShardIterator",
        )


def test_a_trimmed_range_is_a_problem_of_its_batch_not_other_records() -> None:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/T/stream/2026-01-01T00:00:00.000"
    batch = failed_batch(record_of(arn, "shardId-00000000000000000001-aaaaaaaa", "1" * 21, "1" * 22), source="r")
    streams = RemoteStreams(clock=VirtualClock(), wait_ms=lambda ms: None, client=Trimming())
    report = redrive_batch(streams, batch, None)
    assert report.fetched.problem == (
        "the records were trimmed: DynamoDB Streams keeps records for 24 hours, and these are older"
    )
    assert report.outcomes == []
    stream = streams.stream_by_arn(arn)
    with pytest.raises(TrimmedDataAccessError):
        stream.get_shard_iterator("shardId-00000000000000000001-aaaaaaaa", "AT_SEQUENCE_NUMBER", "1" * 21)


def test_a_stream_that_is_gone_is_reported_per_batch(moto_url: str, tmp_path: Path, project: Path) -> None:
    missing = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Gone/stream/2026-01-01T00:00:00.000"
    lines = [record_of(missing, "shardId-00000000000000000001-aaaaaaaa", "1" * 21, "1" * 21)]
    (project / "failures.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = redrive(project, moto_url, "--from-file", "failures.jsonl", "--handler", "app.handler")
    assert result.returncode == 1
    assert "  not redriven: the stream or the shard is gone (" in result.stderr
    assert "redrove 0 records of 1 batch: 0 succeeded, 0 failed, 0 skipped; 1 batch not redriven" in result.stderr


# -- Lambda's Invoke API --------------------------------------------------------------------------------------


class FakeLambda:
    """Lambda's Invoke API on a free port: records every request (path, headers, body) and answers with the
    next scripted reply, or by running ``function`` on the event as Lambda runs a Python function."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.replies: list[tuple[int, dict[str, str], bytes]] = []
        self.function: Callable[[Any], Any] = lambda event: None
        lam = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                lam.requests.append((self.path, dict(self.headers.items()), body))
                status, headers, answer = lam.replies.pop(0) if lam.replies else lam.run(body)
                self.send_response(status)
                headers = {
                    "Content-Type": "application/json",
                    "x-amzn-RequestId": f"req-{len(lam.requests)}",
                    **headers,
                }
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def run(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        log = base64.b64encode(b"START RequestId: x\nprocessing\nEND RequestId: x\n").decode()
        try:
            result = self.function(json.loads(body))
        except Exception as exc:  # noqa: BLE001 - the function's error, as Lambda reports it
            error = {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": ["  File app.py"]}
            return 200, {"X-Amz-Function-Error": "Unhandled", "X-Amz-Log-Result": log}, json.dumps(error).encode()
        return 200, {"X-Amz-Executed-Version": "$LATEST", "X-Amz-Log-Result": log}, json.dumps(result).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lam() -> Iterator[FakeLambda]:
    server = FakeLambda()
    try:
        yield server
    finally:
        server.close()


def error_reply(status: int, code: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"x-amzn-ErrorType": code}, json.dumps({"Type": "User", "message": f"{code} happened"}).encode()


def test_the_deployed_function_gets_exactly_lambdas_event_through_invoke(
    moto_url: str, tmp_path: Path, project: Path, lam: FakeLambda
) -> None:
    sqs, queue_url, arn = queue(moto_url)
    failures = Failures(moto_url, arn, tmp_path)
    record = json.loads(messages(sqs, queue_url)[0]["Body"])
    (project / "failures.jsonl").write_text(json.dumps(record) + "\n")

    def partial(event: Any) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}]}

    lam.function = partial
    result = redrive(
        project,
        moto_url,
        "--from-file",
        "failures.jsonl",
        "--function-name",
        "orders-worker",
        "--lambda-endpoint-url",
        lam.url,
        "--json",
    )
    assert result.returncode == 1, result.stderr
    [(path, headers, body)] = lam.requests
    assert path == "/2015-03-31/functions/orders-worker/invocations"
    assert headers["X-Amz-Invocation-Type"] == "RequestResponse"
    assert headers["X-Amz-Log-Type"] == "Tail"
    event = json.loads(body)
    assert list(event) == ["Records"]
    streams = aws_client("dynamodbstreams", moto_url)
    shard = record["DDBStreamBatchInfo"]["shardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=failures.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    raw = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"][:2]
    assert [r["dynamodb"]["SequenceNumber"] for r in event["Records"]] == [r["dynamodb"]["SequenceNumber"] for r in raw]
    for sent, original in zip(event["Records"], raw, strict=True):
        assert list(sent) == [
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN",
        ]
        assert sent["eventSourceARN"] == failures.stream_arn
        assert sent["dynamodb"]["ApproximateCreationDateTime"] == int(
            original["dynamodb"]["ApproximateCreationDateTime"].timestamp()
        )
        assert sent["dynamodb"]["Keys"] == original["dynamodb"]["Keys"]
    assert [json.loads(line)["outcome"] for line in result.stdout.splitlines()] == ["succeeded", "failed"]
    assert "  | processing" in result.stderr  # the function's log tail


def invoker(lam: FakeLambda, **options: Any) -> tuple[LambdaInvoker, list[int]]:
    waits: list[int] = []
    client = aws_client("lambda", lam.url, read_timeout=5)
    return LambdaInvoker("orders-worker", client=client, wait_ms=waits.append, **options), waits


EVENT = {"Records": [{"dynamodb": {"SequenceNumber": "1" * 21, "Keys": {"pk": {"S": "a"}}}}]}


def test_an_unhandled_error_is_a_function_error_with_its_type_and_message(lam: FakeLambda) -> None:
    def boom(event: Any) -> None:
        raise KeyError("pk")

    lam.function = boom
    calls, _ = invoker(lam)
    invocation = calls.invoke(EVENT, deadline_ms=0)
    assert invocation.response is None
    assert invocation.error is not None
    assert (invocation.error.error_type, invocation.error.message) == ("KeyError", "'pk'")
    assert invocation.error.trace == ["  File app.py"]
    assert invocation.request_id == "req-1"


def test_a_throttled_invoke_is_tried_again_and_runs_once(lam: FakeLambda) -> None:
    lam.replies = [error_reply(429, "TooManyRequestsException"), error_reply(409, "ResourceConflictException")]
    lam.function = lambda event: {"batchItemFailures": []}
    calls, waits = invoker(lam)
    invocation = calls.invoke(EVENT, deadline_ms=0)
    assert invocation.error is None
    assert invocation.response == {"batchItemFailures": []}
    assert len(lam.requests) == 3
    assert len(waits) == 2
    assert 500 <= waits[0] <= 550
    assert 1000 <= waits[1] <= 1100


def test_a_server_error_may_have_run_the_function_so_it_is_not_tried_again(lam: FakeLambda) -> None:
    lam.replies = [error_reply(500, "ServiceException")]
    calls, waits = invoker(lam)
    invocation = calls.invoke(EVENT, deadline_ms=0)
    assert invocation.error is not None
    assert invocation.error.error_type == "ServiceException"
    assert invocation.error.message.endswith("; the function may or may not have run")
    assert len(lam.requests) == 1
    assert waits == []


def test_an_event_too_large_fails_its_batch_and_a_missing_function_stops_the_redrive(lam: FakeLambda) -> None:
    lam.replies = [error_reply(413, "RequestTooLargeException"), error_reply(404, "ResourceNotFoundException")]
    calls, _ = invoker(lam)
    invocation = calls.invoke(EVENT, deadline_ms=0)
    assert invocation.error is not None
    assert invocation.error.error_type == "RequestTooLargeException"
    with pytest.raises(RemoteSourceError, match=r"^invoking orders-worker failed: ResourceNotFoundException"):
        calls.invoke(EVENT, deadline_ms=0)


def test_a_function_name_must_be_text() -> None:
    with pytest.raises(RemoteSourceError, match=r"^--function-name must be a function's name or ARN, got ' '$"):
        LambdaInvoker(" ", client=object())


# -- the queue and the bucket, one call at a time ------------------------------------------------------------


class Queue:
    """An SQS client with one message that comes back (a new receipt handle each time) until it is deleted."""

    def __init__(self, bodies: list[str], *, returns: int = 0) -> None:
        self.bodies = dict(enumerate(bodies))
        self.returns = returns  # how many receives bring the first message back while it is held
        self.receipts = 0
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _receipt(self) -> str:
        self.receipts += 1
        return f"receipt-{self.receipts}"

    def receive_message(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(("receive_message", arguments))
        received = sum(1 for name, _ in self.calls if name == "receive_message")
        if received == 1:
            found = [
                {"MessageId": f"m{i}", "ReceiptHandle": self._receipt(), "Body": b} for i, b in self.bodies.items()
            ]
            return {"Messages": found}
        if received <= 1 + self.returns and 0 in self.bodies:
            return {"Messages": [{"MessageId": "m0", "ReceiptHandle": self._receipt(), "Body": self.bodies[0]}]}
        return {}

    def delete_message(self, **arguments: Any) -> None:
        self.calls.append(("delete_message", arguments))

    def change_message_visibility(self, **arguments: Any) -> None:
        self.calls.append(("change_message_visibility", arguments))


def test_a_message_received_again_is_yielded_once_and_deleted_with_its_newest_receipt() -> None:
    client = Queue(['{"a": 1}', '{"b": 2}'], returns=2)
    source = SqsSource("https://sqs.eu-west-1.amazonaws.com/123456789012/q", client=client, clock=VirtualClock())
    deliveries = list(source)
    assert [d.record for d in deliveries] == [{"a": 1}, {"b": 2}]
    assert source.came_back == 2
    deliveries[0].delete()
    deliveries[1].release()
    assert client.calls[-2:] == [
        ("delete_message", {"QueueUrl": source.queue_url, "ReceiptHandle": "receipt-4"}),
        (
            "change_message_visibility",
            {"QueueUrl": source.queue_url, "ReceiptHandle": "receipt-2", "VisibilityTimeout": 0},
        ),
    ]
    # Three receives that brought nothing new end the reading, though the queue still answered.
    assert [name for name, _ in client.calls].count("receive_message") == 4


def test_held_messages_are_hidden_again_before_their_hiding_runs_out() -> None:
    client = Queue(['{"a": 1}', '{"b": 2}'])
    clock = VirtualClock()
    source = SqsSource(
        "https://sqs.eu-west-1.amazonaws.com/123456789012/q", client=client, clock=clock, visibility_timeout=60
    )
    reading = iter(source)
    first = next(reading)
    clock.advance(31_000)  # the first batch took more than half the visibility timeout
    second = next(reading)
    hidden = [arguments for name, arguments in client.calls if name == "change_message_visibility"]
    assert hidden == [
        {"QueueUrl": source.queue_url, "ReceiptHandle": "receipt-1", "VisibilityTimeout": 60},
        {"QueueUrl": source.queue_url, "ReceiptHandle": "receipt-2", "VisibilityTimeout": 60},
    ]
    first.delete()
    second.delete()
    assert list(reading) == []
    assert client.calls[0][1] == {
        "QueueUrl": source.queue_url,
        "MaxNumberOfMessages": 10,
        "VisibilityTimeout": 60,
        "WaitTimeSeconds": 2,
    }


def test_a_queue_url_names_the_region() -> None:
    from shardline.aws._redrive import _url_region

    assert _url_region("sqs.eu-west-1.amazonaws.com") == "eu-west-1"
    assert _url_region("eu-central-1.queue.amazonaws.com") == "eu-central-1"
    assert _url_region("127.0.0.1:4566") is None


class Bucket:
    """An S3 client listing keys in pages of two (IsTruncated, NextContinuationToken)."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.listed: list[dict[str, Any]] = []

    def list_objects_v2(self, **arguments: Any) -> dict[str, Any]:
        self.listed.append(arguments)
        keys = sorted(key for key in self.objects if key.startswith(arguments["Prefix"]))
        start = int(arguments.get("ContinuationToken", "0"))
        page = keys[start : start + 2]
        answer: dict[str, Any] = {"Contents": [{"Key": key} for key in page], "IsTruncated": start + 2 < len(keys)}
        if answer["IsTruncated"]:
            answer["NextContinuationToken"] = str(start + 2)
        return answer

    def get_object(self, **arguments: Any) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[arguments["Key"]])}


def test_every_object_under_the_prefix_is_read_across_pages_in_key_order() -> None:
    objects = {
        "aws/lambda/m/shardId-2/2026/12/01/b": b'{"n": 3}',
        "aws/lambda/m/shardId-1/2026/12/01/b": b'{"n": 2}',
        "aws/lambda/m/shardId-1/2026/12/01/a": b'{"n": 1}',
        "aws/lambda/m/": b"",
        "aws/lambda/m/shardId-3/x": b"\xff\xfe",
        "other/key": b'{"n": 0}',
    }
    client = Bucket(objects)
    deliveries = list(S3Source("s3://failures/aws/lambda/", client=client))
    assert [d.record for d in deliveries] == [{"n": 1}, {"n": 2}, {"n": 3}, None]
    assert (
        deliveries[3].problem == "s3://failures/aws/lambda/m/shardId-3/x: not UTF-8 text, so not an on-failure record"
    )
    assert [page.get("ContinuationToken") for page in client.listed] == [None, "2", "4"]


def test_a_dropped_connection_may_have_run_the_function_so_it_is_not_tried_again() -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    requests: list[bytes] = []

    def drop() -> None:
        connection, _ = listener.accept()
        requests.append(connection.recv(65536))
        connection.close()

    thread = threading.Thread(target=drop, daemon=True)
    thread.start()
    client = aws_client("lambda", f"http://127.0.0.1:{listener.getsockname()[1]}", read_timeout=5)
    invocation = LambdaInvoker("orders-worker", client=client, wait_ms=lambda ms: None).invoke(EVENT, deadline_ms=0)
    thread.join(5)
    listener.close()
    assert len(requests) == 1
    assert invocation.error is not None
    assert invocation.error.message.endswith("; the function may or may not have run")


def test_a_function_error_whose_body_is_not_json_keeps_its_text(lam: FakeLambda) -> None:
    lam.replies = [(200, {"X-Amz-Function-Error": "Unhandled"}, b"oops, not json")]
    calls, _ = invoker(lam)
    invocation = calls.invoke(EVENT, deadline_ms=0)
    assert invocation.error is not None
    assert (invocation.error.error_type, invocation.error.message) == ("Unhandled", "oops, not json")


def test_a_misconfigured_function_stops_the_redrive(lam: FakeLambda) -> None:
    lam.replies = [error_reply(502, "KMSAccessDeniedException")]
    calls, _ = invoker(lam)
    with pytest.raises(
        RemoteSourceError, match=r"the function's configuration must be fixed before any batch can run$"
    ):
        calls.invoke(EVENT, deadline_ms=0)
    assert len(lam.requests) == 1


def test_a_delete_that_fails_keeps_the_record_and_fails_the_run(
    moto_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shardline.aws import Delivery
    from shardline.cli.redrive import _Item, _redrive_all, _Streams

    sqs, queue_url, arn = queue(moto_url)
    Failures(moto_url, arn, tmp_path)
    record = json.loads(messages(sqs, queue_url)[0]["Body"])
    acknowledged: list[str] = []

    def refuse() -> None:
        raise RemoteSourceError("deleting message m1 failed (AccessDenied)")

    delivery = Delivery("message 1", record, _delete=refuse, _release=lambda: acknowledged.append("released"))
    item = _Item("message 1", failed_batch(record, source="message 1"), None, delivery)
    aws: dict[str, str | None] = {"endpoint_url": moto_url, "region_name": REGION, "profile_name": None}

    class Succeeds:  # the fixed function: every record succeeds
        function_name = "f"
        function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"

        def deadline_from_now(self) -> int:
            return 2**62

        def invoke(self, event: Any, *, deadline_ms: int) -> Any:
            from shardline.local._invoker import Invocation

            return Invocation(None, None, "r", 1.0)

    status = _redrive_all(
        [item],
        _Streams(None, aws),
        lambda batch: (Succeeds(), True),
        limit=None,
        dry_run=False,
        delete=True,
        skip_superseded=False,
        as_json=False,
    )
    assert status == 1
    err = capsys.readouterr().err
    assert "  not deleted: deleting message m1 failed (AccessDenied)" in err
    assert "redrove 2 records of 1 batch: 2 succeeded, 0 failed, 0 skipped; 1 left where it is" in err
    assert acknowledged == ["released"]
