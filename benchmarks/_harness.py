"""Timing shared by the benchmark scripts: medians of shuffled turns over fresh events."""

from __future__ import annotations

import contextlib
import gc
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from _batch import event_text

from shardline._attributes import _NUMBER_CACHE

TEXT = event_text()
COUNT = len(json.loads(TEXT)["Records"])


def measure(cases: dict[str, tuple[Callable[[Any], object], Callable[[Any], Any]]], runs: int) -> dict[str, float]:
    """Median microseconds per record of each case, the cases taking turns run by run."""
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
    return {name: statistics.median(values) * 1e6 / COUNT for name, values in samples.items()}


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
