"""Shared fixtures and helpers: saved events, the fuzz budget, the endpoint and boto3 clients of it, shardline's
commands in child processes."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import shardline

FIXTURES = Path(__file__).parent / "fixtures"

# `shardline run` and `serve` listen on port 8000 unless told otherwise; the tests (and the commands they start in
# child processes, which inherit the environment) take a free port instead, so a DynamoDB Local or a developer's own
# `shardline run` holding 8000 cannot fail them.
os.environ["SHARDLINE_PORT"] = "0"

# Fuzzers: every input surface gets a hypothesis test asserting "returns, or raises a shardline error".
# CI runs each with a bounded budget; a developer hunting bugs raises it: SHARDLINE_FUZZ_EXAMPLES=20000 pytest -k fuzz
FUZZ_EXAMPLES = int(os.environ.get("SHARDLINE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def returns_or_raises_shardline_error(call: Callable[[], Any]) -> Any:
    """Run ``call``: its value, or None when it raised a ShardlineError. Any other exception fails the test."""
    try:
        return call()
    except shardline.ShardlineError:
        return None


def load_fixture(name: str) -> Any:
    """A saved event, parsed with exact numbers as Lambda's runtime would hand it over (ints stay ints)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.fixture
def sam_event() -> dict[str, Any]:
    """A fresh copy of what `sam local generate-event dynamodb update` prints."""
    event: dict[str, Any] = load_fixture("sam-dynamodb-update.json")
    return event


@pytest.fixture
def fixture_loader() -> Callable[[str], Any]:
    return load_fixture


def stream_records(table: Any) -> list[dict[str, Any]]:
    """Every record of a local table's stream, shard by shard (parents first), each read to its end."""
    records: list[dict[str, Any]] = []
    for shard in table.stream.describe_stream()["Shards"]:
        iterator = table.stream.get_shard_iterator(shard["ShardId"], "TRIM_HORIZON")
        while iterator is not None:
            page = table.stream.get_records(iterator)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page["NextShardIterator"]
    return records


# -- the endpoint, and boto3 clients of it ------------------------------------------------------------------

REGION = "us-east-1"


def aws_client(service: str, url: str | None = None, **config: Any) -> Any:
    """A boto3 client of ``service`` at ``url`` (None: AWS's own endpoint, for moto), with fake credentials and
    no retries: a call's answer is its own (botocore retries the throttling codes, LimitExceededException among
    them, which DynamoDB also answers). Each client comes from a session of its own: boto3's sessions are not
    thread-safe, its clients are (boto3 guide, "Session", multithreading), and threads create clients here."""
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="any",
        aws_secret_access_key="any",
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    """A store in a state file of the test's own (a module overrides it for another clock or tables)."""
    from shardline.local import Store

    with Store(tmp_path / "state.db") as opened:
        yield opened


@pytest.fixture
def endpoint(store: Any) -> Iterator[Any]:
    """The endpoint over ``store`` on a free port of 127.0.0.1."""
    from shardline.local.endpoint import serve

    with serve(store, port=0) as running:
        yield running


@pytest.fixture
def dynamodb(endpoint: Any) -> Any:
    """A boto3 DynamoDB client of ``endpoint``."""
    return aws_client("dynamodb", endpoint.url)


@pytest.fixture
def streams(endpoint: Any) -> Any:
    """A boto3 DynamoDB Streams client of ``endpoint``."""
    return aws_client("dynamodbstreams", endpoint.url)


def client_error(call: Callable[..., Any], **arguments: Any) -> tuple[str, str]:
    """The error code and message of the ClientError ``call(**arguments)`` raises (it must raise one)."""
    exceptions = pytest.importorskip("botocore.exceptions")
    with pytest.raises(exceptions.ClientError) as caught:
        call(**arguments)
    found = caught.value.response["Error"]
    return found["Code"], found["Message"]


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    """A boto3 response without its ResponseMetadata: what the endpoint answered."""
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def create_table(dynamodb: Any, name: str, key: dict[str, str] | None = None, **more: Any) -> dict[str, Any]:
    """CreateTable through ``dynamodb``, on demand, keyed by ``key`` (ordered ``{"pk": "S", "sk": "N"}``: the
    partition key first; default a string ``pk``); ``more`` adds or replaces parameters. Its TableDescription."""
    key = {"pk": "S"} if key is None else key
    kinds = ("HASH", "RANGE")[: len(key)]
    arguments = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": attribute, "KeyType": kind} for attribute, kind in zip(key, kinds, strict=True)
        ],
        "AttributeDefinitions": [{"AttributeName": attribute, "AttributeType": t} for attribute, t in key.items()],
        "BillingMode": "PAY_PER_REQUEST",
        **more,
    }
    description: dict[str, Any] = dynamodb.create_table(**arguments)["TableDescription"]
    return description


def refused(call: Callable[[], Any], code: str = "ValidationException") -> Any:
    """The DynamoDBError ``call()`` raises (it must raise one), after checking its code."""
    from shardline.local.endpoint._protocol import DynamoDBError

    with pytest.raises(DynamoDBError) as caught:
        call()
    assert caught.value.code == code
    return caught.value


# -- shardline's commands in child processes ------------------------------------------------------------------

_SCRIPT = Path(sys.executable).parent / "shardline"
#: The installed entry point (or the module), as a user runs it.
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "shardline"]


def boto_error(code: str, status: int, operation: str, message: str | None = None) -> Exception:
    """The ClientError botocore raises for an error answer with ``code`` and HTTP ``status``."""
    from botocore.exceptions import ClientError

    error: Exception = ClientError(
        {
            "Error": {"Code": code, "Message": message or f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )
    return error


def stream_table(dynamodb: Any, name: str, view: str = "NEW_AND_OLD_IMAGES") -> str:
    """Create table ``name`` (key ``pk``, a string) with a stream of ``view`` through ``dynamodb``; its stream ARN."""
    description = create_table(dynamodb, name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    arn: str = description["LatestStreamArn"]
    return arn


class Throttling:
    """A boto3 client that throttles its first ``n`` calls (a ClientError with ``code``, as botocore raises it for
    HTTP 400), then passes them on to ``client``; ``calls`` lists every call's method name."""

    def __init__(self, client: Any, n: int, code: str = "LimitExceededException") -> None:
        self.client = client
        self.left = n
        self.code = code
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(**arguments: Any) -> Any:
            self.calls.append(name)
            if self.left > 0:
                self.left -= 1
                raise boto_error(self.code, 400, name, "slow down")
            return getattr(self.client, name)(**arguments)

        return call


#: An endpoint's URL in a command's output.
URL = r"http://127\.0\.0\.1:\d+"


def clean_environment() -> dict[str, str]:
    """This process's environment without AWS's and shardline's variables (a developer's AWS_PROFILE or
    AWS_ENDPOINT_URL must not reach a child), but with SHARDLINE_PORT=0: children take free ports."""
    return {
        key: value
        for key, value in os.environ.items()
        if key == "SHARDLINE_PORT" or not key.startswith(("SHARDLINE_", "AWS_"))
    }


class OutputLines:
    """The lines a child process writes to stderr, read in a thread as they come (so the pipe never fills);
    ``wait`` for one that matches, within a deadline, and ``seen`` says what came before a failure."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in iter(self.process.stderr.readline, ""):
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait(self, pattern: str, timeout: float = 60) -> str:
        """The next line matching ``pattern``; the process is killed if none comes within ``timeout`` s."""
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                self.process.kill()
                raise AssertionError(f"no line matching {pattern!r} within {timeout} s: {self.seen}") from None
            if line is None:
                raise AssertionError(f"the process ended without a line matching {pattern!r}: {self.seen}")
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def rest(self, timeout: float = 60) -> list[str]:
        """The lines up to the end of the output (the process is ending), also added to ``seen``."""
        lines = []
        while (line := self._queue.get(timeout=timeout)) is not None:
            lines.append(line)
        self.seen.extend(lines)
        return lines


@contextlib.contextmanager
def started(*args: str, cwd: Path, stdout: bool = False) -> Iterator[tuple[Any, OutputLines]]:
    """``shardline <args>`` running for the block, its stderr as OutputLines (its stdout a pipe with ``stdout``,
    else dropped); killed at the end of the block if still running, so a failing test leaves no process behind."""
    with subprocess.Popen(
        [*COMMAND, *args],
        cwd=cwd,
        env=clean_environment(),
        stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            yield process, OutputLines(process)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(60)


@pytest.fixture
def saved_environment() -> Iterator[None]:
    """os.environ without AWS's variables for the test, as it was after it: in-process functions get their
    variables there."""
    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's server on a free port, for a test module: the peer that remote streams, redrive and tail read."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
