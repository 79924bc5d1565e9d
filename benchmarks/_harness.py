"""Timing shared by the benchmark scripts: medians of shuffled turns over fresh events."""

from __future__ import annotations

import contextlib
import gc
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from _batch import event_text

from shardline._attributes import _NUMBER_CACHE

TEXT = event_text()
COUNT = len(json.loads(TEXT)["Records"])


Cases = Mapping[str, tuple[Callable[[Any], object], Callable[[Any], Any]]]


def measure(cases: Cases, runs: int) -> dict[str, float]:
    """Median microseconds per record of each case, the cases taking turns run by run."""
    return {name: statistics.median(values) for name, values in measure_rounds(cases, runs).items()}


def measure_rounds(cases: Cases, runs: int) -> dict[str, list[float]]:
    """Microseconds per record of each case, one sample a round, the cases taking turns run by run: the n-th
    samples of two cases come from the same round, so their ratio is a paired ratio (see ``paired``)."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    order = list(cases)
    shuffle = random.Random(2026).shuffle
    for _ in range(runs):
        # A shuffled order each round: what ran just before (and what it left in the allocator) must not
        # favour one contender.
        shuffle(order)
        for name in order:
            work, prepare = cases[name]
            event = prepare(json.loads(TEXT))
            _NUMBER_CACHE.clear()
            gc.collect()
            start = time.perf_counter()
            work(event)
            samples[name].append(time.perf_counter() - start)
    return {name: [value * 1e6 / COUNT for value in values] for name, values in samples.items()}


def spread(values: list[float]) -> dict[str, float]:
    """Median, quartiles and range of samples (the quartiles by the inclusive method: within the range)."""
    if len(values) == 1:
        q1 = q3 = values[0]
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": statistics.median(values), "q1": q1, "q3": q3, "min": min(values), "max": max(values)}


def paired(numerators: list[float], denominators: list[float]) -> dict[str, float]:
    """The spread of per-round ratios: each round's numerator over the same round's denominator."""
    return spread([top / bottom for top, bottom in zip(numerators, denominators, strict=True)])


def iqr(values: Mapping[str, float], digits: int = 2) -> str:
    """A spread's interquartile range for a report: "(q1-q3)"."""
    return f"({values['q1']:.{digits}f}-{values['q3']:.{digits}f})"


def environment() -> dict[str, Any]:
    """What the numbers were measured on: written into every ``--json`` result, shown in the charts' captions."""
    import datetime
    import importlib.metadata
    import os
    import platform

    import shardline

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    versions = {package: version(package) for package in ("shardline", "aws-lambda-powertools", "boto3", "moto")}
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.machine()}",
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "speedups_enabled": shardline.speedups_enabled,
        "versions": versions,
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
    }


def as_is(event: Any) -> Any:
    return event


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a free loopback port (the peer the endpoint and remote-stream benchmarks compare with)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
