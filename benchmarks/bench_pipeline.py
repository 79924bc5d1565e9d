"""The local pipeline end to end: puts -> stream -> event source mapping -> an in-process no-op handler.

    python benchmarks/bench_pipeline.py [--records N] [--latency-samples N] [--json]

Throughput: a writer process puts N items with batch_write into a file database while a mapping
(BatchSize 100) reads them, checkpointing durably after every batch; records per second from the first
write to the last record handled, and for a mapping replaying the stream alone. Latency: on the system
clock, a pipeline serving in a thread with a zero batching window; each sample writes one item and
measures the time until the handler sees its record (p50, p99).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from shardline.local import Pipeline, Store


def _write(path: str, records: int, ready: Any, go: Any) -> None:
    """The writer process: puts in batches of 25 (BatchWriteItem's limit), as fast as the store takes them."""
    with Store(path) as store:
        table = store.table("Orders")
        ready.set()
        go.wait()
        for start in range(0, records, 25):
            table.batch_write(puts=[{"pk": f"order#{index}", "n": index} for index in range(start, start + 25)])


def throughput(records: int) -> dict[str, float]:
    """A writer process and the pipeline side by side, as in `shardline run` with writes from elsewhere:
    the time from the first write to the last record handled."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "state.db")
        with Store(path) as store:
            store.create_table("Orders", key_schema={"pk": "S"})
            delivered = 0

            def handler(event: dict[str, Any], context: Any) -> None:
                nonlocal delivered
                delivered += len(event["Records"])

            pipeline = Pipeline(store)
            pipeline.add_mapping(store.table("Orders"), handler, batch_size=100)
            context = multiprocessing.get_context("spawn")
            ready, go = context.Event(), context.Event()
            writer = context.Process(target=_write, args=(path, records, ready, go))
            writer.start()
            ready.wait(60)  # the writer's start-up (a new interpreter) is not part of the measure
            started = time.perf_counter()
            go.set()
            pipeline.run(lambda: delivered >= records)
            done = time.perf_counter()
            writer.join()
        # The mapping alone, reading what is already there: a second mapping from TRIM_HORIZON.
        with Store(path) as store:
            count = 0

            def counter(event: dict[str, Any], context: Any) -> None:
                nonlocal count
                count += len(event["Records"])

            pipeline = Pipeline(store)
            pipeline.add_mapping(store.table("Orders"), counter, batch_size=100, name="replay")
            replay_started = time.perf_counter()
            pipeline.run_until_idle()
            replayed = time.perf_counter()
        assert delivered == records == count, (delivered, records, count)
    return {
        "records": records,
        "end_to_end_per_second": records / (done - started),
        "mapping_per_second": records / (replayed - replay_started),
    }


def latency(samples: int) -> dict[str, float]:
    # The writer has its own Store on the same file, as another process would: the pipeline thread and the
    # writer never share a database connection.
    with tempfile.TemporaryDirectory() as folder, Store(str(Path(folder) / "state.db")) as store:
        store.create_table("Orders", key_schema={"pk": "S"})
        writer = Store(str(Path(folder) / "state.db"))
        table = writer.table("Orders")
        seen: dict[str, float] = {}
        arrived = threading.Event()

        def handler(event: dict[str, Any], context: Any) -> None:
            now = time.perf_counter()
            for record in event["Records"]:
                seen[record["dynamodb"]["Keys"]["pk"]["S"]] = now
            arrived.set()

        stop = threading.Event()
        pipeline = Pipeline(store)
        pipeline.add_mapping(store.table("Orders"), handler)
        server = threading.Thread(target=pipeline.run, kwargs={"stop": stop.is_set}, daemon=True)
        server.start()
        delays = []
        for index in range(samples):
            arrived.clear()
            key = f"order#{index}"
            written = time.perf_counter()
            table.put_item({"pk": key, "n": index})
            arrived.wait(5)
            delays.append((seen[key] - written) * 1000)
        stop.set()
        server.join(5)
        writer.close()
    delays.sort()
    return {
        "samples": samples,
        "p50_ms": statistics.median(delays),
        "p99_ms": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--latency-samples", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results: dict[str, Any] = {"throughput": throughput(args.records), "latency": latency(args.latency_samples)}
    if args.json:
        from _harness import environment

        results["environment"] = environment()
        print(json.dumps(results, indent=2))
        return
    flow, delay = results["throughput"], results["latency"]
    print(f"{flow['records']:,} records: a writer process (batch_write) -> stream -> mapping (BatchSize 100) -> no-op")
    print(f"  end to end    {flow['end_to_end_per_second']:>10,.0f} records/s (first write to last record handled)")
    print(f"  mapping alone {flow['mapping_per_second']:>10,.0f} records/s (durable checkpoint after every batch)")
    print(f"write -> handler latency, system clock, zero batching window, {delay['samples']} samples")
    print(f"  p50 {delay['p50_ms']:.2f} ms   p99 {delay['p99_ms']:.2f} ms")


if __name__ == "__main__":
    main()
