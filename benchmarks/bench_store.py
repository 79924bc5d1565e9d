"""The embedded store on a file database: write throughput with stream capture, and write-to-readable latency.

    python benchmarks/bench_store.py [--items N] [--batch-size N] [--latency-samples N] [--fsync] [--json]

Throughput: N distinct order items (8 attributes: strings, exact decimals, an int, a boolean) put through
``Table.batch_write`` in batches, each put committed with its INSERT record; the median rate of 5 runs,
each on a fresh database in a temporary directory. Latency: one ``put_item``, then ``get_records`` on an
iterator held at the stream's end until the record is there; p50 and p99 over the samples. ``--fsync``
flushes every commit to the disk (``Store(fsync=True)``), which costs a disk flush per write.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from shardline.local import Store

FLOOR_PUTS_PER_SECOND = 20_000
FLOOR_P50_MS = 1.0


def items(count: int, offset: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "pk": f"order#{offset + index:08d}",
            "sk": 1,
            "status": ("NEW", "PAID", "SHIPPED")[index % 3],
            "customer": f"customer#{index % 500:04d}",
            "total": Decimal(f"{index % 997}.{index % 100:02d}"),
            "qty": index % 7 + 1,
            "created_at": "2026-11-27T06:00:00Z",
            "gift": index % 5 == 0,
        }
        for index in range(count)
    ]


def throughput(directory: Path, count: int, batch_size: int, fsync: bool, run: int) -> float:
    batch = items(count)
    with Store(directory / f"throughput-{run}.db", fsync=fsync) as store:
        table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"})
        start = time.perf_counter()
        for first in range(0, count, batch_size):
            table.batch_write(puts=batch[first : first + batch_size])
        elapsed = time.perf_counter() - start
        shard = table.stream.describe_stream()["Shards"][0]["ShardId"]
        last = table.stream.get_shard_iterator(shard, "TRIM_HORIZON")
        seen = 0
        while last is not None:
            page = table.stream.get_records(last)
            if not page["Records"]:
                break
            seen += len(page["Records"])
            last = page["NextShardIterator"]
        assert seen == count, f"{seen} records for {count} puts"
    return count / elapsed


def latency(directory: Path, samples: int, fsync: bool) -> list[float]:
    with Store(directory / "latency.db", fsync=fsync) as store:
        table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"})
        shard = table.stream.describe_stream()["Shards"][0]["ShardId"]
        iterator = table.stream.get_shard_iterator(shard, "LATEST")
        timings = []
        for item in items(samples, offset=10**7):
            start = time.perf_counter()
            table.put_item(item)
            while True:
                page = table.stream.get_records(iterator)
                iterator = page["NextShardIterator"]
                if page["Records"]:
                    break
            timings.append((time.perf_counter() - start) * 1000)
            assert page["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] == item["pk"]
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000, help="puts per throughput run")
    parser.add_argument("--batch-size", type=int, default=25, help="puts per batch_write (25: BatchWriteItem's)")
    parser.add_argument("--latency-samples", type=int, default=2000, help="single puts timed")
    parser.add_argument("--fsync", action="store_true", help="flush every commit to the disk")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="shardline-bench-") as name:
        directory = Path(name)
        rates = [throughput(directory, args.items, args.batch_size, args.fsync, run) for run in range(5)]
        timings = latency(directory, args.latency_samples, args.fsync)
    results: dict[str, Any] = {
        "puts_per_second": statistics.median(rates),
        "batch_size": args.batch_size,
        "latency_p50_ms": percentile(timings, 0.50),
        "latency_p99_ms": percentile(timings, 0.99),
        "fsync": args.fsync,
    }
    if args.json:
        from _harness import environment

        results["environment"] = environment()
        print(json.dumps(results, indent=2))
        return
    mode = "fsync at every commit" if args.fsync else "commits survive the process (no fsync)"
    print(f"file database in a temporary directory; {mode}")
    rate = results["puts_per_second"]
    verdict = "ok" if rate >= FLOOR_PUTS_PER_SECOND else f"BELOW the floor of {FLOOR_PUTS_PER_SECOND:,}"
    print(f"  batch_write, {args.batch_size} puts per batch, with stream capture: {rate:,.0f} puts/s ({verdict})")
    p50, p99 = results["latency_p50_ms"], results["latency_p99_ms"]
    verdict = "ok" if p50 < FLOOR_P50_MS else f"ABOVE the floor of {FLOOR_P50_MS} ms"
    print(f"  put_item to get_records, {args.latency_samples} samples: p50 {p50:.3f} ms ({verdict}), p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
