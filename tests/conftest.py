"""Shared fixtures: saved events."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import shardline

FIXTURES = Path(__file__).parent / "fixtures"

# `shardline run` and `serve` listen on port 8000 unless told otherwise; the tests (and the commands they start in
# child processes, which inherit the environment) take a free port instead, so a DynamoDB Local or a developer's own
# `shardline run` holding 8000 cannot fail them.
os.environ["SHARDLINE_PORT"] = "0"

# Fuzzers: every input surface gets a hypothesis test asserting "returns, or raises a shardline error".
# CI runs each with a bounded budget; a developer hunting bugs raises it: SHARDLINE_FUZZ_EXAMPLES=20000 pytest -k fuzz
FUZZ_EXAMPLES = int(os.environ.get("SHARDLINE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def returns_or_raises_shardline_error(call: Callable[[], Any]) -> Any:
    """Run ``call``: its value, or None when it raised a ShardlineError. Any other exception fails the test."""
    try:
        return call()
    except shardline.ShardlineError:
        return None


def load_fixture(name: str) -> Any:
    """A saved event, parsed with exact numbers as Lambda's runtime would hand it over (ints stay ints)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.fixture
def sam_event() -> dict[str, Any]:
    """A fresh copy of what `sam local generate-event dynamodb update` prints."""
    event: dict[str, Any] = load_fixture("sam-dynamodb-update.json")
    return event


@pytest.fixture
def fixture_loader() -> Callable[[str], Any]:
    return load_fixture


def stream_records(table: Any) -> list[dict[str, Any]]:
    """Every record of a local table's stream, shard by shard (parents first), each read to its end."""
    records: list[dict[str, Any]] = []
    for shard in table.stream.describe_stream()["Shards"]:
        iterator = table.stream.get_shard_iterator(shard["ShardId"], "TRIM_HORIZON")
        while iterator is not None:
            page = table.stream.get_records(iterator)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page["NextShardIterator"]
    return records
