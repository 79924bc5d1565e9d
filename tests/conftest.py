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
