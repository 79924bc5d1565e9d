"""The emulator killed with SIGKILL while records flow: nothing skipped, only uncheckpointed batches again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import stream_records

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

# The handler logs its batch, says so on stdout, then waits for a line on stdin before it returns: the parent
# decides where each kill lands instead of racing the child, so the number of kills is fixed however slow the
# machine is.
CHILD = textwrap.dedent(
    """
    import os, sys
    from shardline.local import Pipeline, Store

    state, log = sys.argv[1], sys.argv[2]
    run = sys.argv[3]

    def handler(event, context):
        numbers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(run + " " + ",".join(numbers) + "\\n")
            handle.flush()
            os.fsync(handle.fileno())
        print("invoked", ",".join(numbers), flush=True)
        sys.stdin.readline()  # the parent's go-ahead (or SIGKILL)

    with Store(state) as store:
        pipeline = Pipeline(store)
        pipeline.add_mapping(store.table("Orders"), handler, name="crash", batch_size=7)
        pipeline.run_until_idle()
    print("done", flush=True)
    """
)

KILLS = 25


def test_killed_pipelines_lose_nothing_and_redeliver_only_the_last_batch(tmp_path: Path) -> None:
    from shardline.local import Store

    state, log = tmp_path / "state.db", tmp_path / "deliveries.log"
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    with Store(str(state)) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        table.batch_write(puts=[{"pk": f"order#{index}", "n": index} for index in range(400)])
        expected = [record["dynamodb"]["SequenceNumber"] for record in stream_records(table)]
    rng = random.Random(7)
    kills = 0
    run = 0
    # Runs killed while their handler was still running, with that batch: the next run must start with it.
    held: dict[str, list[str]] = {}
    released = 0
    while True:
        run += 1
        child = subprocess.Popen(
            [sys.executable, str(script), str(state), str(log), str(run)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None
        assert child.stdout is not None
        wanted = rng.randint(1, 3)
        killed = finished = False
        for seen, line in enumerate(child.stdout, start=1):
            if line.startswith("done"):
                finished = True
                break
            batch = line.split()[1].split(",")
            if kills < KILLS and seen >= wanted:
                if rng.random() < 0.5 and batch[-1] != expected[-1]:
                    # Let the handler return and kill at once: the kill lands anywhere from the checkpoint to
                    # the next handler's wait (a next batch exists, so the child cannot finish first).
                    child.stdin.write("go\n")
                    child.stdin.flush()
                    released += 1
                else:
                    # The handler has not returned: the batch is not checkpointed.
                    held[str(run)] = batch
                child.send_signal(signal.SIGKILL)
                killed = True
                kills += 1
                break
            child.stdin.write("go\n")
            child.stdin.flush()
        child.wait(timeout=60)
        child.stdin.close()
        child.stdout.close()
        assert child.returncode == (-signal.SIGKILL if killed else 0)
        if finished:
            break
        assert killed, f"run {run} ended without a kill and without finishing"
    # Every kill landed on a live child that was still between two handler waits, and one last run finished.
    assert (kills, run) == (KILLS, KILLS + 1)
    assert len(held) + released == KILLS
    assert 0 < released < KILLS, "the seeded choices kill both inside a handler and after one"

    deliveries = [line.split(" ", 1) for line in log.read_text(encoding="utf-8").splitlines()]
    delivered = [number for _, numbers in deliveries for number in numbers.split(",") if number]
    assert set(delivered) == set(expected)  # every record at least once, none skipped
    # A batch killed before its handler returned is the next run's first batch, record for record.
    first_of_run: dict[str, list[str]] = {}
    for run_id, numbers in deliveries:
        first_of_run.setdefault(run_id, numbers.split(","))
    for run_id, batch in held.items():
        assert first_of_run[str(int(run_id) + 1)] == batch, f"run {run_id}'s unfinished batch was not redelivered"
    # A record delivered twice was in the last batch a killed run invoked (not yet checkpointed).
    last_of_run = {}
    for index, (run_id, _) in enumerate(deliveries):
        last_of_run[run_id] = index
    allowed = {number for run_id, index in last_of_run.items() for number in deliveries[index][1].split(",")}
    counts: dict[str, int] = {}
    for number in delivered:
        counts[number] = counts.get(number, 0) + 1
    duplicated = {number for number, count in counts.items() if count > 1}
    assert duplicated <= allowed
    assert {number for batch in held.values() for number in batch} <= duplicated
    # Order: the first deliveries, in order, are the stream's order.
    firsts = list(dict.fromkeys(delivered))
    assert firsts == expected
