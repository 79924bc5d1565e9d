"""What `shardline run` shows: the live table on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import os
import re
import sys
import traceback
from typing import Any

import pytest

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


def test_the_live_table_shows_each_mapping_and_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    with Store(":memory:", clock=VirtualClock()) as store:
        pipeline = busy_pipeline(store)
        screen = Terminal()
        dashboard = Dashboard(pipeline, stream=screen)
        assert dashboard.live
        pipeline.run_until_idle()
        dashboard.close()
    text = final_frame(screen)
    header = next(line for line in text if line.startswith("mapping"))
    assert re.split(r"\s{2,}", header) == [
        "mapping", "shard", "in/ok/drop/fail", "rec/s", "age", "batches", "retry/bisect", "last error"
    ]  # fmt: skip
    (row,) = [line for line in text if line.startswith("orders ")]
    # records in/delivered/filtered/failed, throughput, age, batches, retries/bisects, the shard's last error
    assert row.split()[2:] == ["3/2/0/1", "0", "0ms", "5", "0/2", "RuntimeError:", "order#1", "is", "poison"]
    assert "destination records: 1" in text
    assert any(re.fullmatch(r"last error \(orders …\w{8}\): RuntimeError: order#1 is poison *", line) for line in text)


def final_frame(screen: io.StringIO) -> list[str]:
    """The lines of the last frame the live display drew, without terminal control sequences."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    return [line.rstrip() for line in text.split("shardline run: Ctrl-C to stop")[-1].splitlines()]


def test_a_partial_failure_shows_why_and_long_errors_are_not_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    from shardline.local import InProcessInvoker
    from shardline.local._invoker import FunctionOutput

    monkeypatch.setenv("COLUMNS", "80")
    reason = "order#1: a negative total, which no order may have, as the pricing rules of the shop say"

    def handler(event: dict[str, Any], context: Any) -> Any:
        # What shardline's batch runner does for a failed record: log the exception, report the record.
        try:
            raise ValueError(reason)
        except ValueError:
            traceback.print_exc()  # what a logging handler of the function prints
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}

    with Store(":memory:", clock=VirtualClock()) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        table.put_item({"pk": "order#1"})
        output = FunctionOutput(io.StringIO())
        invoker = InProcessInvoker(handler, function_name="shop", clock=store.clock, output=output)
        pipeline = Pipeline(store)
        pipeline.add_mapping(
            table,
            invoker,
            name="orders-to-the-shop-function",
            maximum_retry_attempts=0,
            function_response_types=["ReportBatchItemFailures"],
        )
        screen = Terminal()
        dashboard = Dashboard(pipeline, stream=screen)
        pipeline.run_until_idle()
        dashboard.close()
    text = final_frame(screen)
    assert output.last_exception == f"ValueError: {reason}"
    header = next(line for line in text if line.startswith("mapping"))
    assert "last error" not in header  # 80 columns: the counters keep their room, the error goes below
    assert "retry/bisect" in header
    assert all(len(line) <= 80 for line in text)
    below = " ".join(line for line in text if not line.startswith(("mapping", "orders", "─")))
    assert f"partial failure: 1 of 1 record reported; the function logged ValueError: {reason}" in below


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


def test_plain_lines_say_why_a_response_failed_the_batch() -> None:
    with Store(":memory:", clock=VirtualClock("2026-11-27T06:00:00Z")) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        table.put_item({"pk": "order#1"})
        pipeline = Pipeline(store)
        pipeline.add_mapping(
            table,
            lambda event, context: {"batchItemFailures": [{"itemIdentifier": ""}]},
            name="orders",
            maximum_retry_attempts=0,
            function_response_types=["ReportBatchItemFailures"],
        )
        output = io.StringIO()
        dashboard = Dashboard(pipeline, stream=output)
        pipeline.run_until_idle()
        dashboard.close()
    first = output.getvalue().splitlines()[0]
    assert first.endswith(
        "attempt 1: failure: batchItemFailures[0].itemIdentifier is empty; Lambda retries the whole batch"
        f" (1 record) ({pipeline.invocations[0].duration_ms:.1f} ms)"
    )


def test_ages_fit_a_narrow_column() -> None:
    assert [_age(ms) for ms in (850, 12_000, 240_000, 10_800_000)] == ["850ms", "12s", "4m", "3h"]


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX terminal")
def test_the_live_table_keeps_the_terminal_from_echoing_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    # The echoed "^C" moved the cursor, and the last redraw left a second title above the table.
    import pty
    import termios

    from shardline.cli._dashboard import _hide_control_echo

    leader, follower = pty.openpty()
    with os.fdopen(follower, "r") as terminal:
        monkeypatch.setattr(sys, "stdin", terminal)
        assert termios.tcgetattr(follower)[3] & termios.ECHOCTL
        restore = _hide_control_echo()
        assert not termios.tcgetattr(follower)[3] & termios.ECHOCTL
        restore()
        assert termios.tcgetattr(follower)[3] & termios.ECHOCTL
    os.close(leader)


class Writes(io.StringIO):
    """A stream that records each write call (sys.stderr off a terminal is write-through: one write() each)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def test_plain_lines_leave_in_one_write_each() -> None:
    with Store(":memory:", clock=VirtualClock("2026-11-27T06:00:00Z")) as store:
        pipeline = busy_pipeline(store)
        output = Writes()
        dashboard = Dashboard(pipeline, stream=output, live=False)
        pipeline.run_until_idle()
        dashboard.close()
    assert output.calls  # invocation and destination lines were written
    assert [call for call in output.calls if not call.endswith("\n") or call.count("\n") != 1] == []
