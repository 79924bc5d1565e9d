"""Shared fixtures: saved events."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


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
