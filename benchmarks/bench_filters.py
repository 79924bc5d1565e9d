"""FilterCriteria matching speed: a typical three-field pattern over a batch, and the largest pattern over the
largest record.

    python benchmarks/bench_filters.py [--runs N] [--json]

* ``three-field``: the pattern keeps INSERT and MODIFY records whose NewImage is PAID, leaving out Time to
  Live deletes; the 1000-record benchmark batch is matched N times and the median rate is reported (half the
  records pass, half are dropped at the second field).
* ``large``: a pattern of about 3.6 KB (Lambda allows 4096 characters) naming 105 fields, among them five of
  one array of maps, against a record of about 400 KB (DynamoDB's largest item) with 2,000 lines in that
  array, the one line that passes being the last. ``matches`` and ``explain`` (on a copy that fails at the
  last line) are timed N times each; medians are reported.
* ``wide``: a pattern of about 3.6 KB naming 108 fields of one array element, against a record of about
  400 KB whose 140 lines all hold the 108 fields, every line but the last failing at its last field: the most
  work per line a pattern can ask for.

Every case runs once untimed first, and a ``gc.collect()`` comes before each timed pass, so the figures do not
depend on the number of runs.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _harness import TEXT, environment

from shardline import FilterCriteria

PATTERN = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}},
    "userIdentity": {"type": [{"exists": False}]},
}
LINES = 2000
FIELDS = 100
WIDE_FIELDS = 108
WIDE_LINES = 140


def large_pattern() -> dict[str, Any]:
    """About 3.6 KB: 100 attributes by prefix, plus five fields of one element of a list of maps."""
    image: dict[str, Any] = {f"a{index:03}": {"S": [{"prefix": "v"}]} for index in range(FIELDS)}
    image["lines"] = {
        "L": {
            "M": {
                "sku": {"S": [{"prefix": "SKU-"}]},
                "qty": {"N": [{"anything-but": "0"}]},
                "gift": {"BOOL": [True]},
                "note": [{"exists": False}],
                "wrap": {"S": ["red", "blue"]},
            }
        }
    }
    return {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": image}}


def large_record() -> dict[str, Any]:
    """A MODIFY record whose NewImage is about 400 KB of DynamoDB JSON; only its last line passes."""
    lines = [
        {"M": {"sku": {"S": f"SKU-{index:05}"}, "qty": {"N": "2"}, "gift": {"BOOL": False}, "wrap": {"S": "red"},
               "note": {"S": "n" * 40}}}
        for index in range(LINES)
    ]  # fmt: skip
    lines[-1] = {"M": {"sku": {"S": "SKU-LAST"}, "qty": {"N": "1"}, "gift": {"BOOL": True}, "wrap": {"S": "blue"}}}
    image: dict[str, Any] = {f"a{index:03}": {"S": "v" * 700} for index in range(FIELDS)}
    image["lines"] = {"L": lines}
    return {"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {"NewImage": image}}


def wide_pattern() -> dict[str, Any]:
    """About 3.6 KB: 108 fields of one element of a list of maps."""
    fields = {f"f{index:02}": {"S": [{"prefix": "v"}]} for index in range(WIDE_FIELDS)}
    return {"dynamodb": {"NewImage": {"lines": {"L": {"M": fields}}}}}


def wide_record() -> dict[str, Any]:
    """About 400 KB: 140 lines of 108 fields; only the last line has the last field right."""
    line = {f"f{index:02}": {"S": "v" * 10} for index in range(WIDE_FIELDS)}
    lines = [{"M": {**line, f"f{WIDE_FIELDS - 1:02}": {"S": "x"}}} for _ in range(WIDE_LINES - 1)] + [{"M": line}]
    return {"eventName": "MODIFY", "dynamodb": {"NewImage": {"lines": {"L": lines}}}}


def median_seconds(work: Callable[[], object], runs: int) -> float:
    work()  # warm up: first-call costs (caches, allocator growth) are not part of the rate, however few the runs
    samples = []
    for _ in range(runs):
        gc.collect()  # no collection left over from the warm-up (or the case before) falls into a timed pass
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed passes of each case (median reported)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    records = json.loads(TEXT)["Records"]
    for index, record in enumerate(records):  # half the batch is dropped at the NewImage field
        if index % 2:
            record["dynamodb"]["NewImage"]["status"]["S"] = "NEW"
    criteria = FilterCriteria([PATTERN])
    matches = criteria.matches
    passing = sum(map(matches, records))

    def batch() -> None:
        for record in records:
            matches(record)

    seconds = median_seconds(batch, args.runs)

    pattern = large_pattern()
    record = large_record()
    failing = copy.deepcopy(record)
    failing["dynamodb"]["NewImage"]["lines"]["L"][-1]["M"]["gift"]["BOOL"] = False
    large = FilterCriteria([pattern])
    assert large.matches(record)
    assert not large.matches(failing)
    large_match = median_seconds(lambda: large.matches(record), args.runs)
    large_explain = median_seconds(lambda: large.explain(failing), args.runs)

    wide = FilterCriteria([wide_pattern()])
    wide_passing = wide_record()
    wide_failing = copy.deepcopy(wide_passing)
    wide_failing["dynamodb"]["NewImage"]["lines"]["L"][-1]["M"][f"f{WIDE_FIELDS - 1:02}"]["S"] = "x"
    assert wide.matches(wide_passing)
    assert not wide.matches(wide_failing)
    wide_match = median_seconds(lambda: wide.matches(wide_passing), args.runs)
    wide_explain = median_seconds(lambda: wide.explain(wide_failing), args.runs)
    results: dict[str, Any] = {
        "records_per_second": len(records) / seconds,
        "us_per_record": seconds * 1e6 / len(records),
        "passing": passing,
        "records": len(records),
        "large_pattern_chars": len(json.dumps(pattern)),
        "large_record_bytes": len(json.dumps(record)),
        "large_match_ms": large_match * 1e3,
        "large_explain_ms": large_explain * 1e3,
        "wide_pattern_chars": len(json.dumps(wide_pattern())),
        "wide_record_bytes": len(json.dumps(wide_passing)),
        "wide_match_ms": wide_match * 1e3,
        "wide_explain_ms": wide_explain * 1e3,
    }
    if args.json:
        results["environment"] = environment()
        print(json.dumps(results, indent=2))
        return
    print(f"{len(records)} records, {passing} pass; median of {args.runs} passes")
    print(f"  {results['records_per_second']:,.0f} records per second ({results['us_per_record']:.2f} us per record)")
    print(
        f"a {results['large_pattern_chars']:,}-character pattern against a {results['large_record_bytes']:,}-byte"
        f" record: matches {results['large_match_ms']:.2f} ms, explain {results['large_explain_ms']:.2f} ms"
    )
    print(
        f"{WIDE_FIELDS} fields of one array element ({results['wide_pattern_chars']:,} characters) against"
        f" {WIDE_LINES} lines ({results['wide_record_bytes']:,} bytes): matches {results['wide_match_ms']:.2f} ms,"
        f" explain {results['wide_explain_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
