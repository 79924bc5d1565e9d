"""Decoding DynamoDB stream records: shardline against Powertools and boto3, in one process.

    python benchmarks/bench_decode.py [--runs N] [--json]

Prints microseconds per record (the median of N rounds, with the interquartile range) and how many times as
fast shardline is: the median of the paired ratios, each round's time of the other contender over shardline's
time in the same round, with their interquartile range. Then the import-time comparison. Each run gets a fresh
``json.loads`` of the event and a ``gc.collect()`` first, and the contenders take turns in a shuffled order, so
neither a slow spell of the machine nor the allocator state left by the previous run favours one of them.
shardline's number cache is emptied before each of its runs: it may only profit from numbers repeated within one
batch.

The codec alone (``deserialize_item`` on both images) is compared with boto3's ``TypeDeserializer`` on the same
images: the same work, an image in and plain values out. Powertools' data classes do more than decode (they wrap
the record), so they are compared only with shardline's records, never with the codec alone.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _harness import COUNT, TEXT, as_is, environment, iqr, measure_rounds, paired, spread

import shardline

# -- shardline ---------------------------------------------------------------------------------------


def shardline_full(event: dict[str, Any]) -> None:
    for record in shardline.StreamEvent(event):
        record.new_image.items()  # type: ignore[union-attr]
        record.old_image.items()  # type: ignore[union-attr]


def shardline_codec(event: dict[str, Any]) -> None:
    """The codec alone, like boto3's deserializer: decode both images, keep nothing."""
    deserialize_item = shardline.deserialize_item
    for record in event["Records"]:
        ddb = record["dynamodb"]
        deserialize_item(ddb["NewImage"])
        deserialize_item(ddb["OldImage"])


def shardline_one(event: dict[str, Any]) -> None:
    for record in shardline.StreamEvent(event):
        record.new_image["status"]  # type: ignore[index]


# -- Powertools ----------------------------------------------------------------------------------------


def powertools_full(event: dict[str, Any]) -> None:
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

    for record in DynamoDBStreamEvent(event).records:
        record.dynamodb.new_image  # type: ignore[union-attr]  # noqa: B018
        record.dynamodb.old_image  # type: ignore[union-attr]  # noqa: B018


def powertools_one(event: dict[str, Any]) -> None:
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

    for record in DynamoDBStreamEvent(event).records:
        record.dynamodb.new_image["status"]  # type: ignore[union-attr]


# -- boto3 ---------------------------------------------------------------------------------------------


def _binaries_decoded(event: dict[str, Any]) -> dict[str, Any]:
    """boto3's deserializer expects raw bytes for B/BS, as its clients give: decode them untimed."""

    def fix(av: dict[str, Any]) -> None:
        ((tag, value),) = av.items()
        if tag == "B":
            av["B"] = base64.b64decode(value)
        elif tag == "BS":
            av["BS"] = [base64.b64decode(v) for v in value]
        elif tag == "M":
            for inner in value.values():
                fix(inner)
        elif tag == "L":
            for inner in value:
                fix(inner)

    for record in event["Records"]:
        for image in ("NewImage", "OldImage"):
            for av in record["dynamodb"][image].values():
                fix(av)
    return event


def boto3_full(event: dict[str, Any]) -> None:
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    for record in event["Records"]:
        ddb = record["dynamodb"]
        {name: deserialize(av) for name, av in ddb["NewImage"].items()}
        {name: deserialize(av) for name, av in ddb["OldImage"].items()}


# -- import time -------------------------------------------------------------------------------------


BASELINE = "import json, logging, decimal, base64, datetime, enum, typing"


def import_ms(statement: str, runs: int) -> list[float]:
    """Wall times of a fresh interpreter running ``statement`` (ms), bytecode caches in place."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", statement], check=True, env=env)  # writes .pyc files if missing
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, env=env)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per case (median reported)")
    parser.add_argument("--import-runs", type=int, default=31, help="interpreter starts per import case")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    # Warm up imports and code paths outside the timings.
    for work in (shardline_full, shardline_codec, shardline_one, powertools_full, powertools_one):
        work(json.loads(TEXT))
    boto3_full(_binaries_decoded(json.loads(TEXT)))

    rounds = measure_rounds(
        {
            "shardline_full_us": (shardline_full, as_is),
            "shardline_codec_us": (shardline_codec, as_is),
            "powertools_full_us": (powertools_full, as_is),
            "boto3_full_us": (boto3_full, _binaries_decoded),
        },
        args.runs,
    )
    rounds.update(
        measure_rounds(
            {"shardline_one_us": (shardline_one, as_is), "powertools_one_us": (powertools_one, as_is)}, args.runs
        )
    )
    results: dict[str, Any] = {name: statistics.median(values) for name, values in rounds.items()}
    imports = {
        "baseline": import_ms(BASELINE, args.import_runs),
        "shardline": import_ms(f"{BASELINE}; import shardline", args.import_runs),
        "powertools": import_ms(
            f"{BASELINE}; from aws_lambda_powertools.utilities.batch import BatchProcessor, "
            "process_partial_response; from aws_lambda_powertools.utilities.data_classes import "
            "DynamoDBStreamEvent",
            args.import_runs,
        ),
    }
    baseline = statistics.median(imports["baseline"])
    results["import_baseline_ms"] = baseline
    results["import_shardline_extra_ms"] = statistics.median(imports["shardline"]) - baseline
    results["import_powertools_extra_ms"] = statistics.median(imports["powertools"]) - baseline
    results["full_vs_powertools"] = results["powertools_full_us"] / results["shardline_full_us"]
    results["full_vs_boto3"] = results["boto3_full_us"] / results["shardline_full_us"]
    results["codec_vs_boto3"] = results["boto3_full_us"] / results["shardline_codec_us"]
    results["one_vs_powertools"] = results["powertools_one_us"] / results["shardline_one_us"]
    # The spread of every case over the rounds, and the paired ratios (each round's slower case over the same
    # round's faster one): what the report prints, and what the documentation's tables show.
    spreads = {name: spread(values) for name, values in rounds.items()}
    ratios = {
        "full_vs_powertools": paired(rounds["powertools_full_us"], rounds["shardline_full_us"]),
        "full_vs_boto3": paired(rounds["boto3_full_us"], rounds["shardline_full_us"]),
        "boto3_vs_powertools": paired(rounds["powertools_full_us"], rounds["boto3_full_us"]),
        "codec_vs_boto3": paired(rounds["boto3_full_us"], rounds["shardline_codec_us"]),
        "one_vs_powertools": paired(rounds["powertools_one_us"], rounds["shardline_one_us"]),
    }

    if args.json:
        # Besides the figures above (medians, and ratios of medians): the spreads and the paired ratios.
        results["runs"] = args.runs
        results["import_runs"] = args.import_runs
        results["records"] = COUNT
        results["spread_us"] = spreads
        results["paired"] = ratios
        results["rounds_us"] = rounds
        results["import_spread_ms"] = {name: spread(values) for name, values in imports.items()}
        results["environment"] = environment()
        print(json.dumps(results, indent=2))
        return

    def time_of(name: str) -> str:
        return f"{spreads[name]['median']:8.2f} us {iqr(spreads[name]):<13}"

    def as_fast(name: str, digits: int = 2, other: str = "") -> str:
        than = f" as {other}" if other else ""
        return f"shardline is {ratios[name]['median']:.{digits}f}x as fast{than} {iqr(ratios[name], digits)}"

    print(
        f"{COUNT} MODIFY records, NEW_AND_OLD_IMAGES, 13 attributes; {args.runs} round{'s' if args.runs != 1 else ''}"
    )
    print("time per record: the median (interquartile range) of the rounds")
    print("x as fast: the median (interquartile range) of the per-round ratios of the two times\n")
    print("decode both images fully through the records (shardline caches the images)")
    print(f"  shardline   {time_of('shardline_full_us')}".rstrip())
    print(f"  Powertools  {time_of('powertools_full_us')}  {as_fast('full_vs_powertools')}")
    print(f"  boto3       {time_of('boto3_full_us')}  {as_fast('full_vs_boto3')}")
    print(
        "the codec alone: deserialize_item on both images, nothing kept; boto3's TypeDeserializer above does the same"
    )
    print(f"  shardline   {time_of('shardline_codec_us')}  {as_fast('codec_vs_boto3', other='boto3')}")
    print("read one NewImage attribute")
    print(f"  shardline   {time_of('shardline_one_us')}".rstrip())
    print(f"  Powertools  {time_of('powertools_one_us')}  {as_fast('one_vs_powertools', 1)}")
    print(f"import time over `{BASELINE}` ({baseline:.1f} ms), median of {args.import_runs} starts")
    print(f"  shardline   {results['import_shardline_extra_ms']:+8.1f} ms")
    print(f"  Powertools  {results['import_powertools_extra_ms']:+8.1f} ms")


if __name__ == "__main__":
    main()
