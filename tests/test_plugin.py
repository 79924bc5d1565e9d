"""The pytest plugin: registered on install, its fixtures ready in any test."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from shardline import StreamEvent, batch_handler
from shardline.testing import EventBuilder, LambdaContext, VirtualClock
from shardline.testing.pytest_plugin import LocalEndpoint


def test_the_plugin_is_registered_through_an_entry_point() -> None:
    plugins = {entry.name: entry.value for entry in entry_points(group="pytest11")}
    assert plugins.get("shardline") == "shardline.testing.pytest_plugin"


def test_fixtures_share_one_virtual_clock(
    event_builder: EventBuilder, virtual_clock: VirtualClock, lambda_context: LambdaContext
) -> None:
    event_builder.put({"Id": 1, "status": "NEW"})
    virtual_clock.advance(90_000)
    event_builder.put({"Id": 1, "status": "PAID"})
    first, second = StreamEvent(event_builder.build())
    assert (second.approximate_creation_time - first.approximate_creation_time).total_seconds() == 90
    assert lambda_context.get_remaining_time_in_millis() == 0  # 90 s passed on a 3 s timeout


def test_the_docstring_example_works(event_builder: EventBuilder, lambda_context: LambdaContext) -> None:
    seen: list[str] = []

    @batch_handler
    def lambda_handler(record):  # type: ignore[no-untyped-def]
        seen.append(f"{record.event_name} {record.new_image['status']}")

    event_builder.put({"Id": 1, "status": "NEW"})
    event_builder.put({"Id": 1, "status": "PAID"})
    assert lambda_handler(event_builder.build(), lambda_context) == {"batchItemFailures": []}
    assert seen == ["INSERT NEW", "MODIFY PAID"]


def test_the_endpoint_fixture_serves_a_fresh_store(shardline_endpoint: LocalEndpoint, tmp_path: Path) -> None:
    pytest.importorskip("boto3")
    assert shardline_endpoint.url == f"http://127.0.0.1:{shardline_endpoint.endpoint.port}"
    assert Path(shardline_endpoint.store.path) == tmp_path / "shardline-endpoint.db"
    assert shardline_endpoint.store.tables() == []
    shardline_endpoint.store.create_table("orders", key_schema={"pk": "S"})
    client = shardline_endpoint.client()
    client.put_item(TableName="orders", Item={"pk": {"S": "order#1"}, "total": {"N": "12.50"}})
    assert shardline_endpoint.store.table("orders").get_item({"pk": "order#1"}) == {
        "pk": "order#1",
        "total": Decimal("12.5"),
    }
    table = shardline_endpoint.resource().Table("orders")
    assert table.get_item(Key={"pk": "order#1"})["Item"] == {"pk": "order#1", "total": Decimal("12.5")}
    streams = shardline_endpoint.client("dynamodbstreams")
    (stream,) = streams.list_streams(TableName="orders")["Streams"]
    assert stream["StreamArn"] == shardline_endpoint.store.table("orders").stream_arn


def test_the_docstring_example_of_the_endpoint_fixture(
    shardline_endpoint: LocalEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3 = pytest.importorskip("boto3")

    def save_order(order: dict[str, Any]) -> None:  # an app's code: its own client, configured by the environment
        boto3.resource("dynamodb").Table("orders").put_item(Item=order)

    shardline_endpoint.store.create_table("orders", key_schema={"pk": "S"})
    for name, value in shardline_endpoint.environment.items():
        monkeypatch.setenv(name, value)
    save_order({"pk": "order#1"})
    assert shardline_endpoint.store.table("orders").get_item({"pk": "order#1"}) == {"pk": "order#1"}


def test_the_plugin_loads_without_boto3_and_without_the_store() -> None:
    code = (
        "import sys; sys.modules['boto3'] = None; before = set(sys.modules)\n"
        "import shardline.testing.pytest_plugin\n"
        # New imports only: a coverage run has loaded sqlite3 for itself before this code starts.
        "print(sorted(name for name in ('boto3', 'sqlite3', 'shardline.local') if sys.modules.get(name)"
        " and name not in before))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr
