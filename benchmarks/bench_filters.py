"""FilterCriteria matching speed: records per second for a typical three-field pattern.

    python benchmarks/bench_filters.py [--runs N] [--json]

The pattern keeps INSERT and MODIFY records whose NewImage is PAID, leaving out Time to Live deletes;
the 1000-record benchmark batch is matched N times and the median rate is reported (half the records
pass, half are dropped at the second field).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import TEXT

from shardline import FilterCriteria

PATTERN = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}},
    "userIdentity": {"type": [{"exists": False}]},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed passes over the batch (median reported)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    records = json.loads(TEXT)["Records"]
    for index, record in enumerate(records):  # half the batch is dropped at the NewImage field
        if index % 2:
            record["dynamodb"]["NewImage"]["status"]["S"] = "NEW"
    criteria = FilterCriteria([PATTERN])
    matches = criteria.matches
    passing = sum(map(matches, records))
    samples = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for record in records:
            matches(record)
        samples.append(time.perf_counter() - start)
    seconds = statistics.median(samples)
    results = {
        "records_per_second": len(records) / seconds,
        "us_per_record": seconds * 1e6 / len(records),
        "passing": passing,
        "records": len(records),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{len(records)} records, {passing} pass; median of {args.runs} passes")
    print(f"  {results['records_per_second']:,.0f} records per second ({results['us_per_record']:.2f} us per record)")


if __name__ == "__main__":
    main()
