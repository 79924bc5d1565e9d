"""A remote stream (DynamoDB Streams through boto3) as a source of the event source mapping emulator.

Against moto's server (started here on a free port) and against an in-memory DynamoDB Streams client for what
moto cannot show (several shards, DescribeStream pages, closed shards, trimmed records). Where moto's stream
differs from AWS's the tests do not look: moto writes a MODIFY record for a write that changes nothing, sets
SizeBytes to the length of the record's JSON, and always says ``awsRegion`` us-east-1 and ``eventVersion`` 1.0.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import aws_client, boto_error, create_table, stream_table

from shardline.aws import READS_PER_SECOND, RemoteRetryError, RemoteStream, RemoteStreamError
from shardline.local import Pipeline, Store
from shardline.testing import VirtualClock

botocore_exceptions = pytest.importorskip("botocore.exceptions")
pytest.importorskip("moto.server")

_names = itertools.count()


class MotoTable:
    """A stream-enabled table on moto's server, with the clients to write it and read its stream."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = f"Orders{next(_names)}"
        self.dynamodb = aws_client("dynamodb", url)
        self.streams = aws_client("dynamodbstreams", url)
        self.stream_arn = stream_table(self.dynamodb, self.name)

    def put(self, pk: str, **attributes: Any) -> None:
        self.dynamodb.put_item(TableName=self.name, Item={"pk": {"S": pk}, **attributes})

    def delete(self, pk: str) -> None:
        self.dynamodb.delete_item(TableName=self.name, Key={"pk": {"S": pk}})

    def remote(self, client: Any = None) -> RemoteStream:
        return RemoteStream(table_name=self.name, client=client or self.streams, dynamodb_client=self.dynamodb)


@pytest.fixture
def table(moto_url: str) -> MotoTable:
    return MotoTable(moto_url)


def wall_clock() -> VirtualClock:
    """A virtual clock starting now: moto stamps records with the real time, and the emulator ages them."""
    return VirtualClock(time.time_ns() // 1_000_000)


def collector() -> tuple[list[list[dict[str, Any]]], Any]:
    batches: list[list[dict[str, Any]]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        batches.append(event["Records"])

    return batches, handler


def changes(batches: list[list[dict[str, Any]]]) -> list[tuple[str, str]]:
    return [(record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"]) for batch in batches for record in batch]


# -- against moto's server ----------------------------------------------------------------------------------


def test_every_record_once_in_order_across_a_restart(table: MotoTable, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    clock = wall_clock()
    table.put("a", n={"N": "1"})
    table.put("b")
    table.put("a", n={"N": "2"})
    table.delete("b")
    batches, handler = collector()
    with Store(state, clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(table.remote(), handler, name="worker", batch_size=3)
        assert pipeline.run_until_idle() == 2
    assert changes(batches) == [("INSERT", "a"), ("INSERT", "b"), ("MODIFY", "a"), ("REMOVE", "b")]
    assert [len(batch) for batch in batches] == [3, 1]

    table.put("c")
    table.put("d")
    again, handler = collector()
    with Store(state, clock=clock) as store:  # a new pipeline and a new stream object: resumed from the checkpoint
        pipeline = Pipeline(store)
        pipeline.add_mapping(table.remote(), handler, name="worker", batch_size=3)
        assert pipeline.run_until_idle() == 1
    assert changes(again) == [("INSERT", "c"), ("INSERT", "d")]
    sequence_numbers = [int(record["dynamodb"]["SequenceNumber"]) for batch in batches + again for record in batch]
    assert sequence_numbers == sorted(set(sequence_numbers))


def test_checkpoints_are_kept_under_the_mapping_name_and_the_stream_arn(moto_url: str, tmp_path: Path) -> None:
    first, second = MotoTable(moto_url), MotoTable(moto_url)
    first.put("a")
    second.put("z")
    with Store(tmp_path / "state.db", clock=wall_clock()) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(first.remote(), collector()[1], name="worker")
        pipeline.run_until_idle()
        shard = first.streams.describe_stream(StreamArn=first.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        saved = json.loads(store.get_state(f"esm:worker|{first.stream_arn}", f"{shard}/0") or "null")
        assert saved == {"seq": int(shard_records(first)[0]["dynamodb"]["SequenceNumber"]), "lanes": 1}
        assert store.get_state("esm:worker", f"{shard}/0") is None
        # The same mapping name on another stream (moto names every table's shard alike) starts from its start.
        batches, handler = collector()
        other = Pipeline(store)
        other.add_mapping(second.remote(), handler, name="worker")
        other.run_until_idle()
    assert changes(batches) == [("INSERT", "z")]


def shard_records(table: MotoTable) -> list[dict[str, Any]]:
    shard = table.streams.describe_stream(StreamArn=table.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = table.streams.get_shard_iterator(
        StreamArn=table.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = table.streams.get_records(ShardIterator=iterator)["Records"]
    return records


def test_records_come_in_lambdas_shape(table: MotoTable) -> None:
    before = int(time.time())
    table.put("a", data={"B": b"\x00\xff"}, tags={"BS": [b"x"]}, doc={"M": {"l": {"L": [{"B": b"y"}]}}})
    after = int(time.time()) + 1
    batches, handler = collector()
    stream = table.remote()
    with Store(":memory:", clock=wall_clock()) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(stream, handler)
        pipeline.run_until_idle()
    (record,) = batches[0]
    assert list(record) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert record["eventSourceARN"] == table.stream_arn == stream.stream_arn
    dynamodb = record["dynamodb"]
    assert list(dynamodb) == [
        "ApproximateCreationDateTime",
        "Keys",
        "NewImage",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    ]
    created = dynamodb["ApproximateCreationDateTime"]
    assert type(created) is int
    assert before <= created <= after
    assert dynamodb["Keys"] == {"pk": {"S": "a"}}
    # boto3 hands binaries over as bytes; Lambda's event carries them as base64 text.
    assert dynamodb["NewImage"] == {
        "pk": {"S": "a"},
        "data": {"B": "AP8="},
        "tags": {"BS": ["eA=="]},
        "doc": {"M": {"l": {"L": [{"B": "eQ=="}]}}},
    }
    assert stream.name == table.name
    assert stream.key_schema == {"pk": "HASH"}


def test_latest_skips_what_was_written_before_the_mapping(table: MotoTable) -> None:
    table.put("old")
    batches, handler = collector()
    clock = wall_clock()
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(table.remote(), handler, starting_position="LATEST")
        table.put("new")
        # Finding the shard's end read it just now: the next read waits for the next poll (five a second at most).
        assert pipeline.run_until_idle() == 0
        clock.advance(200)
        pipeline.run_until_idle()
    assert changes(batches) == [("INSERT", "new")]


def test_retries_bisect_and_destination_work_as_on_a_local_stream(table: MotoTable, tmp_path: Path) -> None:
    for pk in "abcd":
        table.put(pk)
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
        seen.append(keys)
        if "c" in keys:
            raise ValueError("c is bad")

    with Store(":memory:", clock=wall_clock()) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(
            table.remote(),
            handler,
            batch_size=4,
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=1,
            on_failure=str(tmp_path / "failures.jsonl"),
        )
        pipeline.run_until_idle()
        (failure,) = pipeline.destination
    assert seen == [["a", "b", "c", "d"], ["a", "b"], ["c", "d"], ["c"], ["c"], ["d"]]
    info = failure["DDBStreamBatchInfo"]
    assert info["streamArn"] == table.stream_arn
    assert info["batchSize"] == 1
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_table_name_resolves_to_its_latest_stream_and_options_make_the_clients(
    table: MotoTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "any")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "any")
    stream = RemoteStream(table_name=table.name, endpoint_url=table.url, region_name="us-east-1")
    assert stream.stream_arn == table.stream_arn
    assert stream.describe_stream()["TableName"] == table.name


def test_a_table_without_a_stream_is_refused(moto_url: str) -> None:
    dynamodb = aws_client("dynamodb", moto_url)
    create_table(dynamodb, "NoStream")
    with pytest.raises(RemoteStreamError, match=r"^table 'NoStream' has no stream to read: enable it"):
        RemoteStream(table_name="NoStream", client=object(), dynamodb_client=dynamodb)
    with pytest.raises(
        RemoteStreamError, match=r"^DescribeTable failed: ResourceNotFoundException: .*: Table: Missing not found$"
    ):
        RemoteStream(table_name="Missing", client=object(), dynamodb_client=dynamodb)


def test_arguments_are_checked() -> None:
    with pytest.raises(RemoteStreamError, match=r"^give a stream ARN or a table name"):
        RemoteStream()
    with pytest.raises(RemoteStreamError, match=r"^give a stream ARN or a table name"):
        RemoteStream("arn", table_name="T")
    with pytest.raises(RemoteStreamError, match=r"^the stream ARN must be non-empty text, got ''$"):
        RemoteStream("", client=object())


# -- faults -------------------------------------------------------------------------------------------------


FAULTS: dict[str, Any] = {
    "throttle": lambda op: boto_error("LimitExceededException", 400, op),
    "provisioned": lambda op: boto_error("ProvisionedThroughputExceededException", 400, op),
    "500": lambda op: boto_error("InternalServerError", 500, op),
    "503": lambda op: boto_error("ServiceUnavailable", 503, op),
    "connection": lambda op: botocore_exceptions.EndpointConnectionError(endpoint_url="http://stream"),
    "dropped": lambda op: botocore_exceptions.ConnectionClosedError(endpoint_url="http://stream"),
    "expired": lambda op: boto_error("ExpiredIteratorException", 400, op),
}


class FaultyClient:
    """A DynamoDB Streams client that fails the calls it is told to, before passing them on."""

    def __init__(self, inner: Any, faults: dict[str, list[str | None]]) -> None:
        self.inner = inner
        self.faults = faults

    def _maybe_fail(self, operation: str) -> None:
        script = self.faults.get(operation)
        if script:
            fault = script.pop(0)
            if fault is not None:
                raise FAULTS[fault](operation)

    def describe_stream(self, **arguments: Any) -> Any:
        self._maybe_fail("DescribeStream")
        return self.inner.describe_stream(**arguments)

    def get_shard_iterator(self, **arguments: Any) -> Any:
        self._maybe_fail("GetShardIterator")
        return self.inner.get_shard_iterator(**arguments)

    def get_records(self, **arguments: Any) -> Any:
        self._maybe_fail("GetRecords")
        return self.inner.get_records(**arguments)


def test_throttles_server_and_network_errors_lose_and_skip_nothing(table: MotoTable) -> None:
    for pk in "abc":
        table.put(pk)
    faults: dict[str, list[str | None]] = {
        "GetRecords": ["throttle", "provisioned", None, "500", "connection", "expired", "dropped", None, "503"],
        "GetShardIterator": [None, "throttle"],
        "DescribeStream": [None, "500"],
    }
    stream = table.remote(FaultyClient(table.streams, faults))
    batches, handler = collector()
    clock = wall_clock()
    start = clock.now_ms()
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(stream, handler, batch_size=1)
        invocations = []
        for pk in "de":
            invocations.append(pipeline.run_until_idle())
            table.put(pk)
            clock.advance(1000)  # the next poll
        invocations.append(pipeline.run_until_idle())
    # One record a batch, each invoked once: the faults delay invokes but neither repeat nor drop one.
    assert invocations == [3, 1, 1]
    assert changes(batches) == [("INSERT", pk) for pk in "abcde"]
    assert faults == {"GetRecords": [], "GetShardIterator": [], "DescribeStream": []}
    health = stream.health
    assert {key: health[key] for key in ("throttled", "server_errors", "network_errors", "expired_iterators")} == {
        "throttled": 3,
        "server_errors": 3,
        "network_errors": 2,
        "expired_iterators": 1,
    }
    assert health["retrying"] == {}
    assert health["last_error"].startswith("GetRecords on shard shardId-")
    # Backoff doubles from 250 ms: the first run alone waited 250 + 500 for its two throttles.
    assert clock.now_ms() - start >= 750 + 2000


def test_a_retry_error_names_when_to_try_again(table: MotoTable) -> None:
    table.put("a")
    clock = wall_clock()
    stream = RemoteStream(
        table.stream_arn, client=FaultyClient(table.streams, {"GetRecords": ["throttle", "throttle"]}), clock=clock
    )
    shard = stream.describe_stream()["Shards"][0]["ShardId"]
    iterator = stream.get_shard_iterator(shard, "TRIM_HORIZON")
    with pytest.raises(RemoteRetryError, match=r"^GetRecords on shard \S+ throttled \(ClientError: .*\); retry 1 in"):
        stream.get_records(iterator)
    first = stream.health["retrying"][shard]
    assert 250 <= first - clock.now_ms() <= 275
    assert stream.next_read_ms(shard) == (first, True)
    with pytest.raises(RemoteRetryError, match=r"; retry 2 in ") as caught:
        stream.get_records(iterator)
    assert caught.value.kind == "throttled"
    assert 500 <= caught.value.retry_at_ms - clock.now_ms() <= 550
    assert [record["eventName"] for record in stream.get_records(iterator)["Records"]] == ["INSERT"]
    assert stream.health["retrying"] == {}


def test_non_retriable_errors_say_what_failed(table: MotoTable) -> None:
    stream = RemoteStream(table.stream_arn.replace(table.name, "Gone"), client=table.streams)
    with pytest.raises(RemoteStreamError, match=r"^DescribeStream failed \(arn:aws:dynamodb:\S+/Gone/stream/"):
        stream.describe_stream()


# -- an in-memory DynamoDB Streams, for shards moto does not have --------------------------------------------


def seq(n: int) -> str:
    return str(10**21 + n)


def raw_record(n: int, pk: str) -> dict[str, Any]:
    return {
        "eventID": f"{n:032x}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "Keys": {"pk": {"S": pk}},
            "SequenceNumber": seq(n),
            "SizeBytes": 10,
            "StreamViewType": "KEYS_ONLY",
        },
    }


class MemoryStreams:
    """DynamoDB Streams over lists: shards listed ``page`` to a DescribeStream page; ``closed`` shards end."""

    def __init__(
        self, shards: list[tuple[str, str | None, bool]], records: dict[str, list[dict[str, Any]]], *, page: int = 1
    ) -> None:
        self.shards = shards
        self.records = records
        self.page = page
        self.reads: list[tuple[str, int]] = []
        self.clock: VirtualClock | None = None
        self.trim_before: dict[str, int] = {}

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
        ids = [shard_id for shard_id, _, _ in self.shards]
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        listed = []
        for shard_id, parent, closed in self.shards[start : start + self.page]:
            numbers = {"StartingSequenceNumber": seq(0)}
            if closed:
                numbers["EndingSequenceNumber"] = seq(10**6)
            info: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": numbers}
            if parent:
                info["ParentShardId"] = parent
            listed.append(info)
        description: dict[str, Any] = {
            "StreamArn": StreamArn,
            "StreamStatus": "ENABLED",
            "TableName": "Orders",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "Shards": listed,
        }
        if start + self.page < len(ids):
            description["LastEvaluatedShardId"] = ids[start + self.page - 1]
        return {"StreamDescription": description}

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str | None = None
    ) -> dict[str, Any]:
        records = self.records[ShardId]
        if ShardIteratorType == "TRIM_HORIZON":
            index = self.trim_before.get(ShardId, 0)
        else:
            index = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == SequenceNumber) + 1
            if index < self.trim_before.get(ShardId, 0):
                raise boto_error("TrimmedDataAccessException", 400, "GetShardIterator")
        return {"ShardIterator": f"{ShardId}|{index}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard_id, _, index_text = ShardIterator.partition("|")
        index = int(index_text)
        assert self.clock is not None
        self.reads.append((shard_id, self.clock.now_ms()))
        records = self.records[shard_id]
        page = records[index : index + Limit]
        closed = next(closed for known, _, closed in self.shards if known == shard_id)
        end = index + len(page)
        following = None if closed and end == len(records) else f"{shard_id}|{end}"
        return {"Records": page, "NextShardIterator": following}


def memory_stream(client: MemoryStreams, clock: VirtualClock) -> RemoteStream:
    client.clock = clock
    return RemoteStream(
        "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000", client=client
    )


def test_shards_are_paged_listed_parents_first_and_read_in_lineage_order() -> None:
    # Listed children first, one shard a page: the parent's records still come first.
    client = MemoryStreams(
        [("shard-c1", "shard-p", False), ("shard-c2", "shard-p", False), ("shard-p", None, True)],
        {
            "shard-p": [raw_record(1, "a"), raw_record(2, "b")],
            "shard-c1": [raw_record(3, "a")],
            "shard-c2": [raw_record(4, "b")],
        },
    )
    clock = VirtualClock()
    stream = memory_stream(client, clock)
    assert [shard["ShardId"] for shard in stream.describe_stream()["Shards"]] == ["shard-p", "shard-c1", "shard-c2"]
    assert stream.describe_stream()["Shards"][0]["SequenceNumberRange"] == {
        "StartingSequenceNumber": seq(0),
        "EndingSequenceNumber": seq(10**6),
    }
    batches, handler = collector()
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(stream, handler)
        pipeline.run_until_idle()
    order = [record["dynamodb"]["SequenceNumber"] for batch in batches for record in batch]
    assert order[:2] == [seq(1), seq(2)]
    assert sorted(order[2:]) == [seq(3), seq(4)]
    assert batches[0][0]["awsRegion"] == "eu-west-1"


def test_a_shard_is_read_at_most_five_times_a_second() -> None:
    records = [raw_record(n, f"k{n}") for n in range(1, 3501)]
    client = MemoryStreams([("shard-1", None, True)], {"shard-1": records})
    clock = VirtualClock()
    batches, handler = collector()
    with Store(":memory:", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(memory_stream(client, clock), handler, batch_size=1000)
        pipeline.run_until_idle()
    assert sum(len(batch) for batch in batches) == 3500
    times = [when for _, when in client.reads]
    assert len(times) == 4  # 1000 records a read; the fourth reaches the closed shard's end
    assert all(later - earlier >= 1000 // READS_PER_SECOND for earlier, later in itertools.pairwise(times))


def test_a_trimmed_checkpoint_moves_on_to_the_oldest_record_kept(tmp_path: Path) -> None:
    client = MemoryStreams([("shard-1", None, False)], {"shard-1": [raw_record(1, "k1")]})
    clock = VirtualClock()
    batches, handler = collector()
    with Store(tmp_path / "state.db", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(memory_stream(client, clock), handler, name="worker", batch_size=1)
        pipeline.run_until_idle()
    client.records["shard-1"] += [raw_record(n, f"k{n}") for n in range(2, 5)]
    client.trim_before["shard-1"] = 2  # records 1 and 2 are past the retention: 2 was never read
    stream = memory_stream(client, clock)
    with Store(tmp_path / "state.db", clock=clock) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(stream, handler, name="worker", batch_size=1)
        pipeline.run_until_idle()
    assert [batch[0]["dynamodb"]["SequenceNumber"] for batch in batches] == [seq(1), seq(3), seq(4)]
    assert stream.health["trimmed"] == 1


def test_importing_shardline_or_shardline_local_loads_no_boto3() -> None:
    code = (
        "import sys, json; import shardline, shardline.local; a = sorted(m for m in ('boto3', 'botocore',"
        " 'shardline.aws') if m in sys.modules); import shardline.aws;"
        " b = sorted(m for m in ('boto3', 'botocore') if m in sys.modules); print(json.dumps([a, b]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [[], []]
