"""Reading a remote stream through moto's server: records per second into a no-op handler, and shardline's
overhead over the GetRecords calls themselves.

    python benchmarks/bench_remote.py [--records N] [--rounds N] [--quick] [--json]

A table on ``moto.server.ThreadedMotoServer`` (started here on a free port of 127.0.0.1, in this process) holds N
records (default 2,000 puts of 8-attribute order items, one shard: moto has one). Each run reads all of them from
TRIM_HORIZON until it is caught up (a GetRecords that returns nothing), in one of these ways:

* ``moto alone``: DescribeStream, GetShardIterator and GetRecords (Limit 1000) sent to moto's WSGI application
  in-process through werkzeug's test client, the answers decoded with ``json.loads``: moto's own cost, with no
  socket and no boto3;
* ``raw boto3``: the same calls through a boto3 ``dynamodbstreams`` client over HTTP: the baseline, what any
  reader of the stream pays;
* ``RemoteStream``: ``describe_stream``, ``get_shard_iterator`` and ``get_records`` of
  ``shardline.aws.RemoteStream`` over the same kind of client: the calls plus shardline's translation of every
  record into Lambda's shape (base64 binaries, epoch seconds, ``eventSourceARN``) and its bookkeeping;
* ``Pipeline, batch size B``: ``Pipeline.add_mapping(RemoteStream(...), handler, batch_size=B)`` and
  ``run_until_idle()``: the whole emulator (shard listing, batching, the invoke of an in-process no-op handler
  with Lambda's event and context, a checkpoint committed to a state file after every batch);
* ``... replayed``: RemoteStream and the Pipeline again, over a stand-in client that hands back the answers boto3
  parsed in a raw run (deep copies made before the clock starts), so no server, socket or boto3 is in the time:
  shardline's own cost, which the runs over HTTP carry on top of the calls.

moto's GetRecords is slow (its model-driven serializer takes most of a millisecond a record), so in the runs over
HTTP shardline's share is small beside moto's and the machine's noise; the replayed rows measure it alone.

What is measured: the wall time of that work, client and server in one process (moto's server is a thread here,
so its time and the client's share one interpreter). What is not: making the boto3 clients, the pipeline and
the store (done before the clock starts); pacing. A pipeline reads a shard at most five times a second; on
the ``VirtualClock`` it is given, ``run_until_idle`` jumps straight to each next read instead of sleeping, so the
numbers are CPU and loopback I/O, not the 200 ms between reads that a run on the system clock waits (there,
2,000 records at 1,000 a read take at least 400 ms of waiting whatever the code costs). Network latency to AWS,
AWS's own throttling and a handler's work are not in any of it.

Every round runs each way once, in a shuffled order, each run on fresh clients (and a fresh pipeline and state
file) with a ``gc.collect()`` before it. Per-record microseconds are the medians over the rounds; each ratio is
the median of the per-round ratios to the raw boto3 run of the same round, with their spread (min-max).
"""

from __future__ import annotations

import argparse
import copy
import gc
import itertools
import json
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from _harness import environment, moto_server
from botocore.config import Config

from shardline.aws import RemoteStream
from shardline.local import Pipeline, Store
from shardline.testing import VirtualClock

TABLE = "orders"
REGION = "us-east-1"
BASELINE = "raw boto3"
LIMIT = 1000  # GetRecords' largest page


def client_for(url: str, service: str) -> Any:
    """A boto3 client with fake credentials and no retries: RemoteStream makes its own clients the same way."""
    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"total_max_attempts": 1}),
    )


def fill(url: str, records: int) -> str:
    """The table with its stream and ``records`` puts (BatchWriteItem, 25 a call); its stream ARN."""
    dynamodb = client_for(url, "dynamodb")
    description = dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    for first in range(0, records, 25):
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"order#{index:08d}"},
                        "status": {"S": ("NEW", "PAID", "SHIPPED")[index % 3]},
                        "customer": {"S": f"customer#{index % 500:04d}"},
                        "total": {"N": f"{index % 997}.{index % 100:02d}"},
                        "qty": {"N": str(index % 7 + 1)},
                        "created_at": {"S": "2026-11-27T06:00:00Z"},
                        "gift": {"BOOL": index % 5 == 0},
                        "lines": {"L": [{"M": {"sku": {"S": f"sku-{index % 13}"}, "n": {"N": "1"}}}]},
                    }
                }
            }
            for index in range(first, min(first + 25, records))
        ]
        dynamodb.batch_write_item(RequestItems={TABLE: puts})
    arn: str = description["LatestStreamArn"]
    return arn


# Each contender: make what a run needs (not timed), and return the work to time, which returns
# (records read, calls made), and what to clean up afterwards.
Prepared = tuple[Callable[[], tuple[int, int]], Callable[[], None]]


def moto_alone(arn: str) -> Callable[[], Prepared]:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    application = Client(DomainDispatcherApplication(create_backend_app))
    headers = {
        "Host": f"streams.dynamodb.{REGION}.amazonaws.com",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=bench/20260101/{REGION}/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-target, Signature=0",
    }

    def call(operation: str, body: dict[str, Any]) -> Any:
        target = f"DynamoDBStreams_20120810.{operation}"
        response = application.post("/", data=json.dumps(body), headers={**headers, "X-Amz-Target": target})
        if response.status_code != 200:
            raise AssertionError(f"{operation}: {response.status_code} {response.data[:200]!r}")
        return json.loads(response.data)

    def prepare() -> Prepared:
        def work() -> tuple[int, int]:
            shard = call("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]
            iterator = call(
                "GetShardIterator", {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
            )["ShardIterator"]
            read, calls = 0, 2
            while True:
                page = call("GetRecords", {"ShardIterator": iterator, "Limit": LIMIT})
                calls += 1
                if not page["Records"]:
                    return read, calls
                read += len(page["Records"])
                iterator = page["NextShardIterator"]

        return work, lambda: None

    return prepare


def raw_boto3(url: str, arn: str) -> Callable[[], Prepared]:
    def prepare() -> Prepared:
        client = client_for(url, "dynamodbstreams")

        def work() -> tuple[int, int]:
            shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            iterator = client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
            read, calls = 0, 2
            while True:
                page = client.get_records(ShardIterator=iterator, Limit=LIMIT)
                calls += 1
                if not page["Records"]:
                    return read, calls
                read += len(page["Records"])
                iterator = page["NextShardIterator"]

        return work, client.close

    return prepare


def remote_stream(arn: str, client: Any) -> Prepared:
    """RemoteStream read like the raw loop: describe, an iterator at TRIM_HORIZON, pages until one is empty."""
    stream = RemoteStream(arn, client=client, clock=VirtualClock(time.time_ns() // 1_000_000))

    def work() -> tuple[int, int]:
        shard = stream.describe_stream()["Shards"][0]["ShardId"]
        iterator = stream.get_shard_iterator(shard, "TRIM_HORIZON")
        read = 0
        while True:
            page = stream.get_records(iterator, limit=LIMIT)
            if not page["Records"]:
                return read, stream.health["calls"]
            read += len(page["Records"])
            iterator = page["NextShardIterator"]

    return work, getattr(client, "close", lambda: None)


def pipeline(arn: str, client: Any, batch_size: int, folder: Path) -> Prepared:
    """A pipeline on a VirtualClock over a fresh state file, one mapping with a no-op handler."""
    clock = VirtualClock(time.time_ns() // 1_000_000)
    path = folder / f"state-{next(_RUNS)}.db"
    store = Store(path, clock=clock)
    stream = RemoteStream(arn, client=client, clock=clock)
    runner = Pipeline(store)
    handled = [0]

    def handler(event: dict[str, Any], context: Any) -> None:
        handled[0] += len(event["Records"])

    def work() -> tuple[int, int]:
        runner.add_mapping(stream, handler, name="bench", batch_size=batch_size)
        runner.run_until_idle()
        return handled[0], stream.health["calls"]

    def clean() -> None:
        store.close()
        getattr(client, "close", lambda: None)()
        for leftover in folder.glob(f"{path.name}*"):
            leftover.unlink()

    return work, clean


_RUNS = itertools.count()


def over_http(url: str, make: Callable[[Any], Prepared]) -> Callable[[], Prepared]:
    def prepare() -> Prepared:
        return make(client_for(url, "dynamodbstreams"))

    return prepare


class ReplayClient:
    """A ``dynamodbstreams`` client over records boto3 already parsed: iterators are positions in the list."""

    def __init__(self, description: dict[str, Any], records: list[dict[str, Any]]) -> None:
        self.description = description
        self.records = records
        self.positions = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(records)}

    def describe_stream(self, **_: Any) -> dict[str, Any]:
        return self.description

    def get_shard_iterator(self, *, ShardIteratorType: str, SequenceNumber: str = "", **_: Any) -> dict[str, Any]:
        if ShardIteratorType == "TRIM_HORIZON":
            return {"ShardIterator": "0"}
        return {"ShardIterator": str(self.positions[SequenceNumber] + 1)}

    def get_records(self, *, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        page = self.records[start : start + Limit]
        return {"Records": page, "NextShardIterator": str(start + len(page))}


def recorded(url: str, arn: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """DescribeStream's answer and every record, as boto3 parsed them."""
    client = client_for(url, "dynamodbstreams")
    description = client.describe_stream(StreamArn=arn)
    shard = description["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict[str, Any]] = []
    while True:
        page = client.get_records(ShardIterator=iterator, Limit=LIMIT)
        if not page["Records"]:
            client.close()
            return description, records
        records.extend(page["Records"])
        iterator = page["NextShardIterator"]


def replayed(
    answers: tuple[dict[str, Any], list[dict[str, Any]]], make: Callable[[Any], Prepared]
) -> Callable[[], Prepared]:
    def prepare() -> Prepared:
        description, records = copy.deepcopy(answers)
        return make(ReplayClient(description, records))

    return prepare


def measure(contenders: dict[str, Callable[[], Prepared]], records: int, rounds: int) -> dict[str, dict[str, Any]]:
    """Seconds per run of each contender over the rounds, and calls per run."""
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    calls: dict[str, int] = {}
    order = list(contenders)
    shuffle = random.Random(2026).shuffle
    for round_ in range(-1, rounds):  # round -1 warms every path up (imports, caches) and is not kept
        shuffle(order)
        for name in order:
            work, clean = contenders[name]()
            gc.collect()
            started = time.perf_counter()
            read, made = work()
            elapsed = time.perf_counter() - started
            clean()
            if read != records:
                raise AssertionError(f"{name} read {read} records of {records}")
            if round_ >= 0:
                seconds[name].append(elapsed)
                calls[name] = made
    results: dict[str, dict[str, Any]] = {}
    for name, samples in seconds.items():
        ratios = [ours / base for ours, base in zip(samples, seconds[BASELINE], strict=True)]
        extra = [(ours - base) * 1e6 / records for ours, base in zip(samples, seconds[BASELINE], strict=True)]
        results[name] = {
            "us_per_record": statistics.median(samples) * 1e6 / records,
            "records_per_second": records / statistics.median(samples),
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "extra_us_per_record": statistics.median(extra),
            "calls": calls[name],
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="records on the stream (default 2,000)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds of runs (default 9)")
    parser.add_argument("--quick", action="store_true", help="500 records, 3 rounds: a smoke run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    records, rounds = (500, 3) if args.quick else (args.records, args.rounds)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    with moto_server() as url, tempfile.TemporaryDirectory() as folder:
        arn = fill(url, records)
        answers = recorded(url, arn)
        contenders: dict[str, Callable[[], Prepared]] = {
            "moto alone": moto_alone(arn),
            BASELINE: raw_boto3(url, arn),
            "RemoteStream": over_http(url, partial(remote_stream, arn)),
        }
        for batch_size in (100, 1000):
            make = partial(pipeline, arn, batch_size=batch_size, folder=Path(folder))
            contenders[f"Pipeline, batch size {batch_size}"] = over_http(url, make)
        contenders["RemoteStream replayed"] = replayed(answers, partial(remote_stream, arn))
        for batch_size in (100, 1000):
            make = partial(pipeline, arn, batch_size=batch_size, folder=Path(folder))
            contenders[f"Pipeline {batch_size} replayed"] = replayed(answers, make)
        results = measure(contenders, records, rounds)
    if args.json:
        answer = {"records": records, "rounds": rounds, "results": results, "environment": environment()}
        print(json.dumps(answer, indent=2))
        return
    print(f"moto's server, {records:,} records on one shard, read from TRIM_HORIZON until caught up")
    print(f"{rounds} rounds, shuffled, gc.collect() before each run; ratios: median of per-round ratios (min-max)")
    print(f"{'':28}{'us/record':>10}{'records/s':>12}{'calls':>7}   ratio to {BASELINE}   extra us/record")
    for name, row in results.items():
        print(
            f"{name:28}{row['us_per_record']:>10.1f}{row['records_per_second']:>12,.0f}{row['calls']:>7}"
            f"   {row['ratio']:.2f}x ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
            + ("" if name.endswith("replayed") else f"{row['extra_us_per_record']:>+14.1f}")
        )
    print("replayed: RemoteStream and the Pipeline over boto3's parsed answers, no server, socket or boto3;")
    print("their ratio is shardline's own cost as a share of the raw boto3 read of the same round")


if __name__ == "__main__":
    main()
