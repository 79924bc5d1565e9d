"""shardline's DynamoDB endpoint against moto's server, through one boto3 client, and write-to-invoke latency.

    python benchmarks/bench_endpoint.py [--quick] [--json]

Requests per second of PutItem, GetItem, UpdateItem with a ConditionExpression, and Query (10 items a page),
sent one at a time through one boto3 client to shardline's endpoint (a file store in a temporary directory,
every write committed with its stream record) and to ``moto.server.ThreadedMotoServer`` (the same table, stream
enabled), in the same process. The contenders take shuffled turns round by round, with a ``gc.collect()``
before each run; each round gives a ratio (shardline's rate over moto's) and the report shows the median of
those paired ratios with their spread.

The servers' own time per request is measured without a socket or a client: ``Endpoint.handle`` for shardline,
moto's WSGI application through werkzeug's test client for moto (its HTTP parsing is included there, not in
shardline's). What is left of a request's time is the client's (boto3 building, signing, sending, parsing)
and the HTTP layer's.

Write-to-invoke latency: a pipeline on the system clock runs in a thread over the store the endpoint serves,
with an in-process handler; each sample is a boto3 PutItem, and the time from its acknowledgement (boto3
returning) to the handler's call. A negative time means the handler ran before boto3 had finished reading the
response. p50 and p90 over the samples.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from _harness import environment, moto_server, spread
from botocore.config import Config

from shardline.local import Pipeline, Store
from shardline.local.endpoint import Endpoint, serve

TABLE = "orders"
PARTITIONS = 50  # customers, each with ITEMS_PER_PARTITION orders: Query reads one customer's page
ITEMS_PER_PARTITION = 10
OPERATIONS = ("PutItem", "GetItem", "UpdateItem", "Query")


def order(customer: int, number: int, version: int) -> dict[str, Any]:
    """An 8-attribute order item in typed JSON, as boto3's client sends it."""
    return {
        "pk": {"S": f"customer#{customer:04d}"},
        "sk": {"N": str(number)},
        "status": {"S": "NEW"},
        "total": {"N": f"{12 + number % 90}.{number % 100:02d}"},
        "currency": {"S": "EUR"},
        "lines": {"L": [{"M": {"sku": {"S": f"sku-{number % 7}"}, "qty": {"N": str(1 + number % 3)}}}]},
        "tags": {"SS": ["web", f"region-{customer % 4}"]},
        "version": {"N": str(version)},
    }


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for customer in range(PARTITIONS):
        for number in range(ITEMS_PER_PARTITION):
            client.put_item(TableName=TABLE, Item=order(customer, number, 0))


class Workload:
    """The four requests, as typed request bodies, made fresh for each run (every write changes its item, so
    every write makes a stream record)."""

    def __init__(self, table: str = TABLE) -> None:
        self.table = table
        self.version = 0

    def requests(self, operation: str, count: int) -> list[dict[str, Any]]:
        rng = random.Random(count)
        bodies = []
        for _ in range(count):
            self.version += 1
            customer, number = rng.randrange(PARTITIONS), rng.randrange(ITEMS_PER_PARTITION)
            key = {"pk": {"S": f"customer#{customer:04d}"}, "sk": {"N": str(number)}}
            if operation == "PutItem":
                bodies.append({"TableName": self.table, "Item": order(customer, number, self.version)})
            elif operation == "GetItem":
                bodies.append({"TableName": self.table, "Key": key})
            elif operation == "UpdateItem":
                bodies.append(
                    {
                        "TableName": self.table,
                        "Key": key,
                        "UpdateExpression": "SET #status = :status, version = :version",
                        "ConditionExpression": "attribute_exists(pk) AND version < :version",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":status": {"S": rng.choice(("PAID", "SHIPPED"))},
                            ":version": {"N": str(self.version)},
                        },
                    }
                )
            else:
                bodies.append(
                    {
                        "TableName": self.table,
                        "KeyConditionExpression": "pk = :pk",
                        "ExpressionAttributeValues": {":pk": key["pk"]},
                    }
                )
        return bodies


_CALLS = {"PutItem": "put_item", "GetItem": "get_item", "UpdateItem": "update_item", "Query": "query"}


def client_for(url: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=1),
    )


def timed(work: Callable[[], None]) -> float:
    gc.collect()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


@contextlib.contextmanager
def shardline_endpoint(folder: str) -> Iterator[tuple[Endpoint, Store]]:
    with Store(str(Path(folder) / "state.db")) as store, serve(store, port=0) as endpoint:
        yield endpoint, store


def throughput(rounds: int, count: int) -> dict[str, dict[str, Any]]:
    """Requests per second per operation and contender; paired per-round ratios."""
    with tempfile.TemporaryDirectory() as folder, shardline_endpoint(folder) as (endpoint, _), moto_server() as moto:
        clients = {"shardline": client_for(endpoint.url), "moto": client_for(moto)}
        for client in clients.values():
            create_table(client)
        workloads = {name: Workload() for name in clients}
        rates: dict[str, dict[str, list[float]]] = {op: {name: [] for name in clients} for op in OPERATIONS}
        order_ = list(clients)
        shuffle = random.Random(2026).shuffle
        for _ in range(rounds):
            for operation in OPERATIONS:
                shuffle(order_)
                for name in order_:
                    call = getattr(clients[name], _CALLS[operation])
                    bodies = workloads[name].requests(operation, count)

                    def work(call: Any = call, bodies: list[dict[str, Any]] = bodies) -> None:
                        for body in bodies:
                            call(**body)

                    rates[operation][name].append(count / timed(work))
    results: dict[str, dict[str, Any]] = {}
    for operation, by_name in rates.items():
        ratios = [ours / theirs for ours, theirs in zip(by_name["shardline"], by_name["moto"], strict=True)]
        results[operation] = {
            "shardline_per_second": statistics.median(by_name["shardline"]),
            "moto_per_second": statistics.median(by_name["moto"]),
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "spread": {
                "shardline_per_second": spread(by_name["shardline"]),
                "moto_per_second": spread(by_name["moto"]),
                "ratio": spread(ratios),
            },
        }
    return results


def server_time(rounds: int, count: int) -> dict[str, dict[str, float]]:
    """Microseconds per request inside each server, without a socket or a client."""
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    moto_app = Client(DomainDispatcherApplication(create_backend_app))
    moto_headers = {
        "Host": "dynamodb.us-east-1.amazonaws.com",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-target, Signature=0",
    }

    def moto_handle(target: str, body: bytes) -> tuple[int, Any, bytes]:
        response = moto_app.post("/", data=body, headers={**moto_headers, "X-Amz-Target": target})
        return response.status_code, response.headers, response.data

    samples: dict[str, dict[str, list[float]]] = {op: {"shardline": [], "moto": []} for op in OPERATIONS}
    with tempfile.TemporaryDirectory() as folder, shardline_endpoint(folder) as (endpoint, _):
        handlers: dict[str, Callable[[str, bytes], tuple[int, Any, bytes]]] = {
            "shardline": endpoint.handle,
            "moto": moto_handle,
        }
        # moto's in-process application shares its backend with the server measured above: another table.
        table = "orders-in-process"
        workloads = {name: Workload(table) for name in handlers}
        for name, handle in handlers.items():  # the same table on each, through the handlers themselves
            body = json.dumps(
                {
                    "TableName": table,
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "N"},
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
                }
            ).encode()
            status, _, answer = handle("DynamoDB_20120810.CreateTable", body)
            assert status == 200, (name, answer)
            for customer in range(PARTITIONS):
                for number in range(ITEMS_PER_PARTITION):
                    item = json.dumps({"TableName": table, "Item": order(customer, number, 0)}).encode()
                    handle("DynamoDB_20120810.PutItem", item)
        order_ = list(handlers)
        shuffle = random.Random(7).shuffle
        for _ in range(rounds):
            for operation in OPERATIONS:
                shuffle(order_)
                for name in order_:
                    handle = handlers[name]
                    target = f"DynamoDB_20120810.{operation}"
                    bodies = [json.dumps(body).encode() for body in workloads[name].requests(operation, count)]

                    def work(handle: Any = handle, target: str = target, bodies: list[bytes] = bodies) -> None:
                        for body in bodies:
                            status, _, answer = handle(target, body)
                            if status != 200:
                                raise AssertionError(answer)

                    samples[operation][name].append(timed(work) / count * 1e6)
    return {
        operation: {name: statistics.median(values) for name, values in by_name.items()}
        for operation, by_name in samples.items()
    }


def latency(samples: int) -> dict[str, float]:
    """Write-to-invoke: boto3 PutItem acknowledged -> the handler called, on the system clock."""
    with tempfile.TemporaryDirectory() as folder, shardline_endpoint(folder) as (endpoint, store):
        client = client_for(endpoint.url)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        called: dict[str, float] = {}
        arrived = threading.Event()

        def handler(event: dict[str, Any], context: Any) -> None:
            now = time.perf_counter()
            for record in event["Records"]:
                called[record["dynamodb"]["Keys"]["pk"]["S"]] = now
            arrived.set()

        pipeline = Pipeline(store)
        pipeline.add_mapping(store.table(TABLE), handler)
        stop = threading.Event()
        runner = threading.Thread(target=pipeline.run, kwargs={"stop": stop.is_set}, daemon=True)
        runner.start()
        delays = []
        for index in range(samples):
            arrived.clear()
            key = f"order#{index}"
            client.put_item(TableName=TABLE, Item={"pk": {"S": key}, "n": {"N": str(index)}})
            acknowledged = time.perf_counter()
            if not arrived.wait(5) or key not in called:
                raise AssertionError(f"{key} was not delivered within 5 s")
            delays.append((called[key] - acknowledged) * 1000)
        stop.set()
        runner.join(5)
    delays.sort()
    return {
        "samples": samples,
        "p50_ms": statistics.median(delays),
        "p90_ms": delays[min(len(delays) - 1, int(len(delays) * 0.9))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests: a smoke run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    rounds, count, samples = (3, 100, 50) if args.quick else (7, 400, 300)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    results: dict[str, Any] = {
        "rounds": rounds,
        "requests": count,
        "throughput": throughput(rounds, count),
        "server_us": server_time(rounds, count),
        "latency": latency(samples),
    }
    if args.json:
        results["environment"] = environment()
        print(json.dumps(results, indent=2))
        return
    print(f"one boto3 client, one request at a time; {rounds} rounds of {count} requests per operation")
    print(f"{'':12}{'shardline':>12}{'moto':>12}   ratio (median of rounds, min-max)")
    for operation, row in results["throughput"].items():
        print(
            f"{operation:12}{row['shardline_per_second']:>10,.0f}/s{row['moto_per_second']:>10,.0f}/s"
            f"   {row['ratio']:.2f}x ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
        )
    print("server's own time per request (no socket, no client), and the rest of a request's time")
    for operation, row in results["server_us"].items():
        ours = row["shardline"]
        total = 1e6 / results["throughput"][operation]["shardline_per_second"]
        theirs_total = 1e6 / results["throughput"][operation]["moto_per_second"]
        print(
            f"  {operation:12} shardline {ours:7.0f} us of {total:6.0f} us"
            f"   moto {row['moto']:7.0f} us of {theirs_total:6.0f} us"
        )
    delay = results["latency"]
    print(f"write -> invoke (boto3 PutItem acknowledged -> handler called), system clock, {delay['samples']} samples")
    print(f"  p50 {delay['p50_ms']:.2f} ms   p90 {delay['p90_ms']:.2f} ms")


if __name__ == "__main__":
    main()
