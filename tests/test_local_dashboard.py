"""What `shardline run` shows: the live table on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import re
from typing import Any

from shardline.cli._dashboard import Dashboard, _age
from shardline.local import Pipeline, Store
from shardline.testing import VirtualClock


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def busy_pipeline(store: Store) -> Pipeline:
    table = store.create_table("Orders", key_schema={"pk": "S"})
    for index in range(3):
        table.put_item({"pk": f"order#{index}"})

    def handler(event: dict[str, Any], context: Any) -> None:
        if any(record["dynamodb"]["Keys"]["pk"]["S"] == "order#1" for record in event["Records"]):
            raise RuntimeError("order#1 is poison")

    pipeline = Pipeline(store)
    pipeline.add_mapping(table, handler, name="orders", bisect_batch_on_function_error=True, maximum_retry_attempts=0)
    return pipeline


def test_the_live_table_shows_each_mapping_and_shard() -> None:
    with Store(":memory:", clock=VirtualClock()) as store:
        pipeline = busy_pipeline(store)
        screen = Terminal()
        dashboard = Dashboard(pipeline, stream=screen)
        assert dashboard.live
        pipeline.run_until_idle()
        dashboard.close()
    text = screen.getvalue()
    assert "in/ok/drop/fail" in text
    assert "3/2/0/1" in text  # records in, delivered, filtered, failed
    assert "destination records: 1" in text
    assert "last error (orders): RuntimeError: order#1 is poison" in text


def test_plain_lines_without_a_terminal() -> None:
    with Store(":memory:", clock=VirtualClock("2026-11-27T06:00:00Z")) as store:
        pipeline = busy_pipeline(store)
        output = io.StringIO()
        dashboard = Dashboard(pipeline, stream=output)
        assert not dashboard.live
        pipeline.run_until_idle()
        dashboard.close()
    lines = output.getvalue().splitlines()
    pattern = r"06:00:00 orders \S+ 3 records, attempt 1: function error RuntimeError: order#1 is poison \(\d+\.\d ms\)"
    assert re.fullmatch(pattern, lines[0]), lines[0]
    assert any(line.startswith("  -> destination: RetryAttemptsExhausted, 1 record(s)") for line in lines)
    assert sum(1 for line in lines if ": success (" in line) == 2


def test_ages_fit_a_narrow_column() -> None:
    assert [_age(ms) for ms in (850, 12_000, 240_000, 10_800_000)] == ["850ms", "12s", "4m", "3h"]
