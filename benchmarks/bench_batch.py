"""The batch runner against Powertools' BatchProcessor, in one process.

    python benchmarks/bench_batch.py [--runs N] [--json]

Three handlers over the 1000-record benchmark batch, each answered with a partial batch response:
a no-op (the runner's own overhead per record), one that reads both images fully and deeply, and one that
reads one NewImage attribute. Powertools runs ``process_partial_response`` with a ``BatchProcessor`` for
DynamoDB Streams and its ``DynamoDBRecord`` data class (it calls the handler as ``record_handler(record=...)``);
shardline runs ``process_batch``. Medians of N runs, fresh events and ``gc.collect()`` before each run,
contenders in shuffled turns (see _harness.py).
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
from _harness import COUNT, TEXT, as_is, environment, measure_rounds, paired, spread

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

    if args.json:
        # Besides the medians and the ratios of medians: the spread of every case over the rounds, and the
        # paired ratios (each round's Powertools time over the same round's shardline time).
        results["runs"] = args.runs
        results["records"] = COUNT
        results["spread_us"] = {name: spread(values) for name, values in rounds.items()}
        results["paired"] = {
            f"{kind}_vs_powertools": paired(rounds[f"powertools_{kind}_us"], rounds[f"shardline_{kind}_us"])
            for kind in ("noop", "full", "one")
        }
        results["rounds_us"] = rounds
        results["environment"] = environment()
        print(json.dumps(results, indent=2))
        return
    print(f"{COUNT} MODIFY records, NEW_AND_OLD_IMAGES, 13 attributes; median of {args.runs} runs; per record\n")
    titles = {
        "noop": "a no-op handler: the runner's own overhead",
        "full": "a handler that reads both images fully and deeply",
        "one": "a handler that reads one NewImage attribute",
    }
    for kind, title in titles.items():
        print(title)
        print(f"  shardline   {results[f'shardline_{kind}_us']:8.2f} us   process_batch")
        ratio = results[f"{kind}_vs_powertools"]
        print(
            f"  Powertools  {results[f'powertools_{kind}_us']:8.2f} us   process_partial_response;"
            f" shardline is {ratio:.1f}x faster"
        )


if __name__ == "__main__":
    main()
