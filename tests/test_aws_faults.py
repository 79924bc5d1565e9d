"""A remote stream read through a faulty network: throttling, server errors, dropped and cut connections.

Between shardline and moto's server (started here on a free port) sits a real HTTP proxy (``_fault_proxy``) that
fails chosen calls the way DynamoDB Streams and networks fail them ("Error handling with DynamoDB", DynamoDB
developer guide): HTTP 400 LimitExceededException and ProvisionedThroughputExceededException, HTTP 500 and 503,
a connection closed without an answer, an answer cut after its headers. The proof each time: every record written
reaches the handler exactly once and in the order of the writes (one shard: the total order, so per key too), and
``RemoteStream.health`` counts the faults by cause exactly as the proxy injected them, with every call made
accounted for (no hidden retry inside boto3).

The records expected are the writes the test made (INSERT for a new key, MODIFY for a changed item, REMOVE), never
what moto's stream says: every put changes its item (moto writes MODIFY for a write that changes nothing), and
SizeBytes (moto's is the JSON's length) is not looked at. The emulator's waits are on a VirtualClock; the
subprocess test (``stream tail``) waits on the wall clock, so it has only three faults (backoff starts at 250 ms).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from _fault_proxy import (
    BAD_GATEWAY,
    CUT,
    CUT_CHUNKED,
    DESCRIBE_STREAM,
    DROP,
    EXPIRED,
    GET_RECORDS,
    GET_SHARD_ITERATOR,
    PROVISIONED,
    SERVER_500,
    SERVER_503,
    THROTTLE,
    FaultProxy,
    every,
)
from conftest import COMMAND, REGION, aws_client, clean_environment, stream_table

from shardline.aws import READS_PER_SECOND, RemoteRetryError, RemoteStream
from shardline.local import Pipeline, Store
from shardline.testing import VirtualClock

pytest.importorskip("botocore")
pytest.importorskip("moto.server")

_names = itertools.count()
_KEYS = ("a", "b", "c")
_COUNTERS = ("throttled", "server_errors", "network_errors", "expired_iterators")


class Writes:
    """A stream-enabled table on moto's server, written directly (not through the proxy), and the stream records
    its writes must make, as ``(eventName, pk, n)`` (``n`` the new image's write counter, None for a REMOVE)."""

    def __init__(self, url: str) -> None:
        self.name = f"Faults{next(_names)}"
        self.dynamodb = aws_client("dynamodb", url)
        self.stream_arn = stream_table(self.dynamodb, self.name)
        self.expected: list[tuple[str, str, int | None]] = []
        self._present: set[str] = set()
        self._count = 0

    def write(self, count: int) -> None:
        """``count`` writes over three keys; every fifth deletes its key when the key exists."""
        for _ in range(count):
            self._count += 1
            pk = _KEYS[self._count % len(_KEYS)]
            if self._count % 5 == 0 and pk in self._present:
                self.dynamodb.delete_item(TableName=self.name, Key={"pk": {"S": pk}})
                self._present.discard(pk)
                self.expected.append(("REMOVE", pk, None))
                continue
            item = {"pk": {"S": pk}, "n": {"N": str(self._count)}}
            self.dynamodb.put_item(TableName=self.name, Item=item)
            self.expected.append(("MODIFY" if pk in self._present else "INSERT", pk, self._count))
            self._present.add(pk)


def delivered(batches: list[list[dict[str, Any]]]) -> list[tuple[str, str, int | None]]:
    seen: list[tuple[str, str, int | None]] = []
    for batch in batches:
        for record in batch:
            image = record["dynamodb"].get("NewImage")
            seen.append(
                (record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"], int(image["n"]["N"]) if image else None)
            )
    return seen


def sequence_numbers(batches: list[list[dict[str, Any]]]) -> list[int]:
    return [int(record["dynamodb"]["SequenceNumber"]) for batch in batches for record in batch]


def wall_clock() -> VirtualClock:
    """A virtual clock starting now: moto stamps records with the real time."""
    return VirtualClock(time.time_ns() // 1_000_000)


@pytest.fixture
def credentials(saved_environment: None) -> None:
    """Fake credentials for the clients RemoteStream makes (saved_environment restores the variables)."""
    os.environ.update(AWS_ACCESS_KEY_ID="any", AWS_SECRET_ACCESS_KEY="any")


@pytest.fixture
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    with FaultProxy(moto_url) as running:
        yield running


@pytest.fixture
def table(moto_url: str) -> Writes:
    return Writes(moto_url)


def remote(table: Writes, proxy: FaultProxy, clock: VirtualClock) -> RemoteStream:
    return RemoteStream(table.stream_arn, endpoint_url=proxy.url, region_name=REGION, clock=clock)


def run_rounds(pipeline: Pipeline, table: Writes, clock: VirtualClock, *, rounds: int, per_round: int) -> None:
    """Write ``per_round`` records, let a second pass (the next poll), and run the pipeline until it caught up."""
    for _ in range(rounds):
        table.write(per_round)
        clock.advance(1000)
        pipeline.run_until_idle()


def assert_health_matches(stream: RemoteStream, proxy: FaultProxy) -> None:
    """Every fault counted under its cause, exactly as injected; every call RemoteStream made reached the proxy
    once (botocore retried nothing behind its back); no read waits for a retry; the proxy itself never failed."""
    health = stream.health
    assert {key: health[key] for key in _COUNTERS} == proxy.faults_by_cause()
    assert health["calls"] == sum(proxy.calls.values())
    assert health["retrying"] == {}
    assert proxy.pending() == {}
    assert proxy.errors == []


def scripted(proxy: FaultProxy, scripts: Mapping[str, Mapping[int, str]]) -> Counter[str]:
    for target, faults in scripts.items():
        proxy.script(target, faults)
    return Counter({target: len(faults) for target, faults in scripts.items()})


# The calls are counted per operation from the proxy's start. DescribeStream's first call is add_mapping's (faults
# there are the set-up tests below); GetShardIterator is called when a read starts and again only when the
# iterator it holds does not point where the read is to start, so its faults are on its first calls.
SCENARIOS: dict[str, dict[str, dict[int, str]]] = {
    "throttling": {
        GET_RECORDS: {2: THROTTLE, 3: PROVISIONED, 7: THROTTLE, 8: THROTTLE, 9: PROVISIONED},
        GET_SHARD_ITERATOR: {1: PROVISIONED},
        DESCRIBE_STREAM: {2: THROTTLE, 4: PROVISIONED},
    },
    "server errors": {
        GET_RECORDS: {1: SERVER_500, 4: SERVER_503, 5: BAD_GATEWAY, 9: SERVER_500},
        GET_SHARD_ITERATOR: {1: SERVER_503, 2: SERVER_500},
        DESCRIBE_STREAM: {3: SERVER_500},
    },
    "dropped connections": {
        GET_RECORDS: {2: DROP, 3: DROP, 7: DROP},
        GET_SHARD_ITERATOR: {1: DROP},
        DESCRIBE_STREAM: {2: DROP, 3: DROP},
    },
    "answers cut mid-body (chunked)": {
        GET_RECORDS: {2: CUT_CHUNKED, 5: CUT_CHUNKED, 6: CUT_CHUNKED},
        GET_SHARD_ITERATOR: {1: CUT_CHUNKED},
        DESCRIBE_STREAM: {2: CUT_CHUNKED},
    },
    "every other call for the first 16": {
        GET_RECORDS: every(2, first=16, fault=THROTTLE)
        | {3: SERVER_503, 7: DROP, 11: CUT_CHUNKED, 15: SERVER_500, 16: EXPIRED},
    },
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_faults_lose_skip_and_repeat_nothing(
    scenario: str, table: Writes, proxy: FaultProxy, credentials: None
) -> None:
    faults = scripted(proxy, SCENARIOS[scenario])
    clock = wall_clock()
    stream = remote(table, proxy, clock)
    batches: list[list[dict[str, Any]]] = []
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(stream, lambda event, context: batches.append(event["Records"]), batch_size=4)
        run_rounds(pipeline, table, clock, rounds=8, per_round=7)
    assert delivered(batches) == table.expected
    assert len(table.expected) == 56
    assert sequence_numbers(batches) == sorted(set(sequence_numbers(batches)))
    assert all(len(batch) <= 4 for batch in batches)
    assert proxy.faulted == faults
    assert_health_matches(stream, proxy)


def test_backoff_doubles_while_faults_repeat_and_the_last_error_says_why(
    table: Writes, proxy: FaultProxy, credentials: None
) -> None:
    """Four GetRecords in a row fail: the read waits 250, 500, 1000 and 2000 ms (plus up to a tenth of jitter)
    on the pipeline's clock before the fifth call reads the records; the last error names the last cause."""
    proxy.script(GET_RECORDS, {1: THROTTLE, 2: SERVER_503, 3: DROP, 4: CUT_CHUNKED})
    clock = wall_clock()
    stream = remote(table, proxy, clock)
    table.write(3)
    batches: list[list[dict[str, Any]]] = []
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(stream, lambda event, context: batches.append(event["Records"]))
        start = clock.now_ms()
        assert pipeline.run_until_idle() == 1
    waited = clock.now_ms() - start
    # The four backoffs (each with up to a tenth more of jitter), then the paced read that finds nothing more.
    backoffs = 250 + 500 + 1000 + 2000
    assert backoffs + 1000 // READS_PER_SECOND <= waited <= backoffs + backoffs // 10 + 1000 // READS_PER_SECOND
    assert delivered(batches) == table.expected
    assert re.fullmatch(
        r"GetRecords on shard shardId-\S+ network \(ConnectionClosedError: .*\); retry 4 in \d+ ms",
        stream.health["last_error"],
    ), stream.health["last_error"]
    assert_health_matches(stream, proxy)


def test_a_retry_pending_at_a_restart_resumes_from_the_checkpoint(
    table: Writes, proxy: FaultProxy, credentials: None, tmp_path: Path
) -> None:
    """The first pipeline delivers what it read through two faults, then stops while its next read waits for a
    retry; a new pipeline (another RemoteStream, the same mapping name and state file) meets faults of its own
    and delivers the rest, once each."""
    clock = wall_clock()
    batches: list[list[dict[str, Any]]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        batches.append(event["Records"])

    first = remote(table, proxy, clock)
    proxy.script(GET_RECORDS, {1: THROTTLE, 2: DROP})
    table.write(6)
    with Store(tmp_path / "state.db", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(first, handler, name="worker", batch_size=3)
        assert pipeline.run_until_idle() == 2
        assert delivered(batches) == table.expected
        table.write(4)
        proxy.script(GET_RECORDS, {proxy.calls[GET_RECORDS] + 1: SERVER_503})
        clock.advance(1000)
        assert pipeline.run_until_idle(stop=lambda: proxy.faulted[GET_RECORDS] == 3) == 0
        assert len(first.health["retrying"]) == 1  # the one shard, waiting for its retry
    assert len(delivered(batches)) == 6
    second = remote(table, proxy, clock)
    proxy.script(GET_SHARD_ITERATOR, {proxy.calls[GET_SHARD_ITERATOR] + 1: CUT_CHUNKED})
    proxy.script(GET_RECORDS, {proxy.calls[GET_RECORDS] + 2: PROVISIONED})
    with Store(tmp_path / "state.db", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(second, handler, name="worker", batch_size=3)
        assert pipeline.run_until_idle() == 2
    assert delivered(batches) == table.expected
    assert len(table.expected) == 10
    assert sequence_numbers(batches) == sorted(set(sequence_numbers(batches)))
    health = [first.health, second.health]
    assert {key: sum(each[key] for each in health) for key in _COUNTERS} == proxy.faults_by_cause()
    assert proxy.faults_by_cause() == {"throttled": 2, "server_errors": 1, "network_errors": 2, "expired_iterators": 0}
    assert sum(each["calls"] for each in health) == sum(proxy.calls.values())
    assert second.health["retrying"] == {}
    assert proxy.pending() == {}
    assert proxy.errors == []


def test_a_retry_error_is_raised_to_a_direct_reader_with_its_cause(
    table: Writes, proxy: FaultProxy, credentials: None
) -> None:
    """Outside a pipeline, each faulty call raises RemoteRetryError naming its kind, and the same iterator reads
    the same records once the fault has passed."""
    kinds = {THROTTLE: "throttled", PROVISIONED: "throttled", SERVER_500: "server", SERVER_503: "server"}
    kinds |= {BAD_GATEWAY: "server", DROP: "network", CUT_CHUNKED: "network"}
    proxy.script(GET_RECORDS, dict(enumerate(kinds, start=1)))
    table.write(2)
    clock = wall_clock()
    stream = remote(table, proxy, clock)
    shard = stream.describe_stream()["Shards"][0]["ShardId"]
    iterator = stream.get_shard_iterator(shard, "TRIM_HORIZON")
    seen = []
    for _ in kinds:
        with pytest.raises(RemoteRetryError) as caught:
            stream.get_records(iterator)
        seen.append(caught.value.kind)
        clock.advance_to(caught.value.retry_at_ms)
    assert seen == list(kinds.values())
    page = stream.get_records(iterator)
    assert [(record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"]) for record in page["Records"]] == [
        (name, pk) for name, pk, _ in table.expected
    ]
    assert_health_matches(stream, proxy)


# -- setting a mapping up -------------------------------------------------------------------------------


def test_a_throttled_first_describe_does_not_stop_the_mapping(
    table: Writes, proxy: FaultProxy, credentials: None
) -> None:
    """add_mapping lists the shards at once: its DescribeStream, throttled twice, is waited out on the clock."""
    proxy.script(DESCRIBE_STREAM, {1: THROTTLE, 2: SERVER_503})
    clock = wall_clock()
    stream = remote(table, proxy, clock)
    table.write(3)
    batches: list[list[dict[str, Any]]] = []
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        start = clock.now_ms()
        pipeline.add_mapping(stream, lambda event, context: batches.append(event["Records"]))
        assert clock.now_ms() - start >= 250 + 500  # the two backoffs, on the pipeline's clock
        pipeline.run_until_idle()
    assert delivered(batches) == table.expected
    assert_health_matches(stream, proxy)


def test_faults_while_finding_latest_do_not_stop_the_mapping(
    table: Writes, proxy: FaultProxy, credentials: None
) -> None:
    """A LATEST mapping reads each shard to its end in add_mapping: faults there are waited out, and only the
    records written after the mapping was added are delivered."""
    proxy.script(GET_RECORDS, {1: THROTTLE, 2: DROP})
    proxy.script(GET_SHARD_ITERATOR, {1: PROVISIONED})
    clock = wall_clock()
    stream = remote(table, proxy, clock)
    table.write(3)  # before the mapping: LATEST skips these
    batches: list[list[dict[str, Any]]] = []
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(
            stream, lambda event, context: batches.append(event["Records"]), starting_position="LATEST"
        )
        pipeline.run_until_idle()
        table.write(2)
        clock.advance(1000)
        pipeline.run_until_idle()
    assert delivered(batches) == table.expected[3:]
    assert_health_matches(stream, proxy)


# -- an answer cut short: botocore reads bodies without checking their length ------------------------------


def test_an_answer_cut_short_of_its_content_length_is_a_network_error(
    table: Writes, proxy: FaultProxy, credentials: None
) -> None:
    # botocore reads answers with urllib3's length check off: a cut body would parse as an answer without its
    # fields and stop the run as a malformed answer, instead of being retried as the dropped connection it is.
    faults = scripted(proxy, {GET_RECORDS: {2: CUT, 5: CUT}, GET_SHARD_ITERATOR: {1: CUT}, DESCRIBE_STREAM: {2: CUT}})
    clock = wall_clock()
    stream = remote(table, proxy, clock)
    batches: list[list[dict[str, Any]]] = []
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(stream, lambda event, context: batches.append(event["Records"]), batch_size=4)
        run_rounds(pipeline, table, clock, rounds=4, per_round=5)
    assert delivered(batches) == table.expected
    assert proxy.faulted == faults
    assert_health_matches(stream, proxy)


# -- stream tail in a subprocess, through the proxy ---------------------------------------------------------


def test_stream_tail_prints_every_record_in_order_through_faults(table: Writes, proxy: FaultProxy) -> None:
    """The real command on the wall clock: its first DescribeStream fails with a 503, its first GetShardIterator
    is throttled and its first GetRecords loses its connection; it retries each (notes on stderr) and prints
    the records once each, in the order of the writes, as Lambda's JSON."""
    table.write(6)
    proxy.script(DESCRIBE_STREAM, {1: SERVER_503})
    proxy.script(GET_SHARD_ITERATOR, {1: THROTTLE})
    proxy.script(GET_RECORDS, {1: DROP})
    environment = clean_environment() | {"AWS_ACCESS_KEY_ID": "any", "AWS_SECRET_ACCESS_KEY": "any"}
    arguments = ["--stream-arn", table.stream_arn, "--endpoint-url", proxy.url, "--region", REGION]
    result = subprocess.run(
        [*COMMAND, "stream", "tail", *arguments, "--from", "trim-horizon", "--limit", "6", "--json"],
        check=False,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert delivered([records]) == table.expected
    assert sequence_numbers([records]) == sorted(set(sequence_numbers([records])))
    assert {record["eventSourceARN"] for record in records} == {table.stream_arn}
    lines = result.stderr.splitlines()
    assert "6 records" in lines, result.stderr
    # Each retry's cause is shown while the tail waits, and the calls and retries are summed up at the end.
    for shown in (
        r"DescribeStream server \(InternalServerError: [^\n]*\); retry 1 in \d+ ms",
        r"GetShardIterator on shard shardId-\S+ throttled \(LimitExceededException: [^\n]*\); retry 1 in \d+ ms",
        r"GetRecords on shard shardId-\S+ network \(ConnectionClosedError: [^\n]*\); retry 2 in \d+ ms",
    ):
        assert re.search(rf"^note: .*{shown}", result.stderr, re.MULTILINE), (shown, result.stderr)
    calls = sum(proxy.calls.values())
    summary = f"note: {calls} calls to DynamoDB Streams, 3 retries (1 throttled, 1 server error, 1 network error)"
    assert lines[-1] == summary, result.stderr
    assert proxy.faulted == Counter({DESCRIBE_STREAM: 1, GET_SHARD_ITERATOR: 1, GET_RECORDS: 1})
    assert proxy.pending() == {}
    assert proxy.errors == []
