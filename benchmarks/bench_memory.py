"""Memory of a batch: shardline against Powertools and boto3, garbage collections and peak memory.

    python benchmarks/bench_memory.py [--rounds N] [--records N] [--large N] [--quick] [--json]

Every contender decodes both images of every record fully (the work of bench_decode.py's and bench_batch.py's
"full" cases): shardline through ``process_batch``, ``aprocess_batch`` (an async handler, 10 records in flight)
and by iterating a ``StreamEvent``; Powertools through
``process_partial_response`` with a ``BatchProcessor`` and by iterating its ``DynamoDBStreamEvent``; boto3's
``TypeDeserializer`` over the raw images (binaries decoded beforehand, untimed, as its clients give them).
Three measures, each on a fresh ``json.loads`` of the event after a ``gc.collect()``, the contenders in a
shuffled order each round:

* garbage collections per batch of ``--records`` records (``gc.callbacks``, by generation);
* the tracemalloc peak over the loaded event, for ``--records`` and for ``--large`` records: what decoding
  the batch adds to memory at its highest (the event itself is not counted);
* the peak RSS of a fresh interpreter that loads the ``--large`` batch and runs it once (what Lambda reports
  as "Max Memory Used"), and how much of it came after the event was loaded: what the batch itself added.

Ratios are medians of paired per-round ratios (contender over shardline's ``process_batch``), with their
range. Memory figures hardly move from round to round; collections not at all.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _batch import event_text
from _harness import environment
from bench_batch import _full, powertools_case, shardline_case
from bench_decode import _binaries_decoded, boto3_full, powertools_full, shardline_full

from shardline._attributes import _NUMBER_CACHE

Work = Callable[[Any], object]
Prepare = Callable[[Any], Any]


def _as_is(event: Any) -> Any:
    return event


async def _async_full(record: Any) -> None:
    _full(record)


def _shardline_async(event: dict[str, Any]) -> None:
    import asyncio

    from shardline import aprocess_batch

    response = asyncio.run(aprocess_batch(event, _async_full))
    assert response == {"batchItemFailures": []}


def contenders() -> dict[str, tuple[Work, Prepare]]:
    return {
        "shardline_batch": (shardline_case(_full), _as_is),
        "shardline_async": (_shardline_async, _as_is),
        "shardline_iterate": (shardline_full, _as_is),
        "powertools_batch": (powertools_case("full"), _as_is),
        "powertools_iterate": (powertools_full, _as_is),
        "boto3": (boto3_full, _binaries_decoded),
    }


TITLES = {
    "shardline_batch": "shardline, process_batch",
    "shardline_async": "shardline, aprocess_batch (asyncio.run included)",
    "shardline_iterate": "shardline, for record in StreamEvent(event)",
    "powertools_batch": "Powertools, process_partial_response + BatchProcessor",
    "powertools_iterate": "Powertools, for record in DynamoDBStreamEvent(event).records",
    "boto3": "boto3 TypeDeserializer over the raw images",
}


def _fresh(text: str, prepare: Prepare) -> Any:
    event = prepare(json.loads(text))
    _NUMBER_CACHE.clear()  # shardline may only profit from numbers repeated within one batch
    gc.collect()
    return event


def collections(work: Work, event: Any) -> list[int]:
    """How many collections of each generation the garbage collector started while ``work`` ran."""
    started = [0, 0, 0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[info["generation"]] += 1

    gc.callbacks.append(count)
    try:
        work(event)
    finally:
        gc.callbacks.remove(count)
    return started


def traced_peak(work: Work, event: Any) -> float:
    """The highest memory tracemalloc saw while ``work`` ran, over what was allocated before (MB)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        work(event)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - base) / 1e6


def peak_rss(name: str, path: str) -> tuple[float, float]:
    """Peak RSS of a fresh interpreter running ``name`` once over the event in ``path``, and how much of it
    came after the event was loaded (MB)."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", name, "--event", path], check=True, capture_output=True, text=True
    ).stdout
    answer = json.loads(output)
    return float(answer["peak_mb"]), float(answer["added_mb"])


def child(name: str, path: str) -> None:
    work, prepare = contenders()[name]
    work(prepare(json.loads(event_text(3))))  # imports and code paths, outside the measure
    event = _fresh(Path(path).read_text(), prepare)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    work(event)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mb": after / 1024, "added_mb": (after - before) / 1024}))  # ru_maxrss: KB on Linux


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="shuffled rounds per measure")
    parser.add_argument("--records", type=int, default=1000, help="records in the batch counted per collection")
    parser.add_argument("--large", type=int, default=10_000, help="records in the batch measured for peak memory")
    parser.add_argument("--quick", action="store_true", help="3 rounds, 1 RSS round: a smoke run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--event", help=argparse.SUPPRESS)
    parser.add_argument("--write-event", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.event)
        return
    if args.write_event:
        Path(args.write_event).write_text(event_text(args.large))
        return
    rounds = 3 if args.quick else args.rounds
    rss_rounds = 1 if args.quick else max(1, rounds // 2)

    cases = contenders()
    shuffle = random.Random(2026).shuffle
    order = list(cases)
    gcs: dict[str, list[list[int]]] = {name: [] for name in cases}
    peaks: dict[str, list[float]] = {name: [] for name in cases}
    large_peaks: dict[str, list[float]] = {name: [] for name in cases}
    rss: dict[str, list[float]] = {name: [] for name in cases}
    rss_added: dict[str, list[float]] = {name: [] for name in cases}
    # Peak RSS first, while this process is small: on Linux a child started by fork and exec inherits its
    # parent's peak RSS, so the event is written by a child too.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "event.json")
        subprocess.run([sys.executable, __file__, "--write-event", path, "--large", str(args.large)], check=True)
        for _ in range(rss_rounds):
            shuffle(order)
            for name in order:
                peak, added = peak_rss(name, path)
                rss[name].append(peak)
                rss_added[name].append(added)
    small, large = event_text(args.records), event_text(args.large)
    for work, prepare in cases.values():  # warm up imports and code paths outside the measures
        work(prepare(json.loads(event_text(3))))
    for _ in range(rounds):
        for measure, text, into in (
            (collections, small, gcs),
            (traced_peak, small, peaks),
            (traced_peak, large, large_peaks),
        ):
            shuffle(order)
            for name in order:
                work, prepare = cases[name]
                into[name].append(measure(work, _fresh(text, prepare)))  # type: ignore[arg-type]

    results: dict[str, Any] = {"records": args.records, "large": args.large, "rounds": rounds}
    for name in cases:
        totals = [sum(counts) for counts in gcs[name]]
        results[name] = {
            "gc_collections": _spread([float(total) for total in totals]),
            "gc_by_generation": [statistics.median(counts[g] for counts in gcs[name]) for g in range(3)],
            "traced_peak_mb": _spread(peaks[name]),
            "large_traced_peak_mb": _spread(large_peaks[name]),
            "large_peak_rss_mb": _spread(rss[name]),
            "large_rss_added_mb": _spread(rss_added[name]),
        }
        if name != "shardline_batch":
            base = "shardline_batch"
            results[name]["peak_vs_shardline"] = _spread(
                [mine / theirs for mine, theirs in zip(peaks[name], peaks[base], strict=True)]
            )
            results[name]["large_peak_vs_shardline"] = _spread(
                [mine / theirs for mine, theirs in zip(large_peaks[name], large_peaks[base], strict=True)]
            )

    if args.json:
        results["environment"] = environment()
        print(json.dumps(results, indent=2))
        return
    print(
        f"MODIFY records, NEW_AND_OLD_IMAGES, 13 attributes, every image decoded fully; {rounds} shuffled rounds"
        f" (medians, min-max)\n"
    )
    small_n, large_n = f"{args.records:,}", f"{args.large:,}"
    print(f"{'':62s} {'collections':>11s} {'traced':>9s} {'traced':>9s} {'peak RSS':>17s}")
    print(f"{'':62s} {small_n:>11s} {small_n:>9s} {large_n:>9s} {large_n + ' (added)':>17s}")
    for name in cases:
        row = results[name]
        gc_row = row["gc_collections"]
        print(
            f"{TITLES[name]:62s} {gc_row['median']:11.0f} {row['traced_peak_mb']['median']:7.2f}MB"
            f" {row['large_traced_peak_mb']['median']:7.2f}MB {row['large_peak_rss_mb']['median']:6.0f}MB"
            f" ({row['large_rss_added_mb']['median']:+5.1f}MB)"
        )
    print("\npeak memory over shardline's process_batch (median of paired rounds, min-max)")
    for name in cases:
        if name == "shardline_batch":
            continue
        small_ratio, large_ratio = results[name]["peak_vs_shardline"], results[name]["large_peak_vs_shardline"]
        print(
            f"  {TITLES[name]:60s} {small_ratio['median']:6.1f}x ({small_ratio['min']:.1f}-{small_ratio['max']:.1f})"
            f"  {large_ratio['median']:6.1f}x ({large_ratio['min']:.1f}-{large_ratio['max']:.1f})"
        )


if __name__ == "__main__":
    main()
