"""The batch runner against Powertools' BatchProcessor, in one process.

    python benchmarks/bench_batch.py [--runs N] [--json]

Three handlers over the 1000-record benchmark batch, each answered with a partial batch response:
a no-op (the runner's own overhead per record), one that reads both images fully and deeply, and one that
reads one NewImage attribute. Powertools runs ``process_partial_response`` with a ``BatchProcessor`` for
DynamoDB Streams and its ``DynamoDBRecord`` data class (it calls the handler as ``record_handler(record=...)``);
shardline runs ``process_batch``. Fresh events and ``gc.collect()`` before each run, contenders in shuffled turns
(see _harness.py). Prints microseconds per record (the median of N rounds, with the interquartile range) and how
many times as fast shardline is: the median of the paired ratios, each round's Powertools time over shardline's
time in the same round, with their interquartile range.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _harness import COUNT, TEXT, as_is, environment, iqr, measure_rounds, paired, spread

from shardline import StreamRecord, process_batch

# -- shardline ---------------------------------------------------------------------------------------


def _noop(record: StreamRecord) -> None:
    pass


def _full(record: StreamRecord) -> None:
    record.new_image.items()  # type: ignore[union-attr]
    record.old_image.items()  # type: ignore[union-attr]


def _one(record: StreamRecord) -> None:
    record.new_image["status"]  # type: ignore[index]


def shardline_case(handler: Any) -> Any:
    def run(event: dict[str, Any]) -> None:
        response = process_batch(event, handler)
        assert response == {"batchItemFailures": []}

    return run


# -- Powertools ----------------------------------------------------------------------------------------


def powertools_case(kind: str) -> Any:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def noop(record: Any) -> None:
        pass

    def full(record: Any) -> None:
        record.dynamodb.new_image  # noqa: B018
        record.dynamodb.old_image  # noqa: B018

    def one(record: Any) -> None:
        record.dynamodb.new_image["status"]

    handler = {"noop": noop, "full": full, "one": one}[kind]

    def run(event: dict[str, Any]) -> None:
        response = process_partial_response(event=event, record_handler=handler, processor=processor)
        assert response == {"batchItemFailures": []}

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per case (median reported)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)  # as in Lambda unless configured: INFO lines are not written

    cases = {}
    for kind, handler in (("noop", _noop), ("full", _full), ("one", _one)):
        cases[f"shardline_{kind}_us"] = (shardline_case(handler), as_is)
        cases[f"powertools_{kind}_us"] = (powertools_case(kind), as_is)
    for work, prepare in cases.values():  # warm up imports and code paths outside the timings
        work(prepare(json.loads(TEXT)))
    results: dict[str, Any] = {}
    rounds: dict[str, list[float]] = {}
    for kind in ("noop", "full", "one"):
        pair = {name: case for name, case in cases.items() if name.endswith(f"_{kind}_us")}
        rounds.update(measure_rounds(pair, args.runs))
        results.update({name: statistics.median(rounds[name]) for name in pair})
        results[f"{kind}_vs_powertools"] = results[f"powertools_{kind}_us"] / results[f"shardline_{kind}_us"]

    # The spread of every case over the rounds, and the paired ratios (each round's Powertools time over the same
    # round's shardline time): what the report prints, and what the documentation's tables show.
    spreads = {name: spread(values) for name, values in rounds.items()}
    ratios = {
        f"{kind}_vs_powertools": paired(rounds[f"powertools_{kind}_us"], rounds[f"shardline_{kind}_us"])
        for kind in ("noop", "full", "one")
    }
    if args.json:
        # Besides the medians and the ratios of medians: the spreads and the paired ratios.
        results["runs"] = args.runs
        results["records"] = COUNT
        results["spread_us"] = spreads
        results["paired"] = ratios
        results["rounds_us"] = rounds
        results["environment"] = environment()
        print(json.dumps(results, indent=2))
        return
    print(
        f"{COUNT} MODIFY records, NEW_AND_OLD_IMAGES, 13 attributes; {args.runs} round{'s' if args.runs != 1 else ''}"
    )
    print("time per record: the median (interquartile range) of the rounds")
    print("x as fast: the median (interquartile range) of the per-round ratios of the two times\n")
    titles = {
        "noop": "a no-op handler: the runner's own overhead",
        "full": "a handler that reads both images fully and deeply",
        "one": "a handler that reads one NewImage attribute",
    }
    for kind, title in titles.items():
        print(title)
        ours, theirs, ratio = (
            spreads[f"shardline_{kind}_us"],
            spreads[f"powertools_{kind}_us"],
            ratios[f"{kind}_vs_powertools"],
        )
        print(f"  shardline   {ours['median']:8.2f} us {iqr(ours):<13}  process_batch")
        print(
            f"  Powertools  {theirs['median']:8.2f} us {iqr(theirs):<13}  process_partial_response;"
            f" shardline is {ratio['median']:.1f}x as fast {iqr(ratio, 1)}"
        )


if __name__ == "__main__":
    main()
