"""A killed endpoint loses no acknowledged write: `shardline serve` in a subprocess, clients writing with boto3
from several threads, SIGKILL once enough writes were acknowledged; then the state file holds every acknowledged
write, in the table and on the stream, each item's changes in order."""

from __future__ import annotations

import re
import signal
import threading
from pathlib import Path

import pytest
from conftest import URL, aws_client, create_table, started, stream_records

from shardline.local import Store

pytest.importorskip("boto3")

WRITERS = 4
KILL_AFTER = 240  # acknowledged writes, all writers together


@pytest.mark.parametrize("round_", range(2))
def test_every_acknowledged_write_survives_a_sigkill(tmp_path: Path, round_: int) -> None:
    state = tmp_path / "state.db"
    with started("serve", "--port", "0", "--state", str(state), cwd=tmp_path) as (server, output):
        # The line with the URL comes once the endpoint listens; the rest of the output is read on (so the pipe
        # never fills) and shown when anything below fails.
        url = re.search(URL, output.wait(r"^DynamoDB and DynamoDB Streams at ")).group(0)  # type: ignore[union-attr]
        stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        create_table(aws_client("dynamodb", url), "orders", StreamSpecification=stream)
        # One client each, made here: boto3's clients are thread-safe, its sessions are not. No retries: a write
        # is acknowledged by its own response, never by a retry's.
        clients = [aws_client("dynamodb", url, connect_timeout=5, read_timeout=60) for _ in range(WRITERS)]
        acknowledged: list[list[tuple[str, int]]] = [[] for _ in range(WRITERS)]
        stopped: list[Exception] = []  # why each writer stopped
        total = 0
        enough = threading.Condition()

        def write(writer: int) -> None:
            nonlocal total
            dynamodb = clients[writer]
            step = 0
            while True:
                try:
                    if step % 2 == 0:  # a new item of its own...
                        dynamodb.put_item(
                            TableName="orders",
                            Item={"pk": {"S": f"w{writer}#{step}"}, "step": {"N": str(step)}},
                        )
                        done = ("put", step)
                    else:  # ...and the writer's counter item, changed in order (a condition guards the order)
                        dynamodb.update_item(
                            TableName="orders",
                            Key={"pk": {"S": f"w{writer}"}},
                            UpdateExpression="SET step = :step",
                            ConditionExpression="attribute_not_exists(step) OR step < :step",
                            ExpressionAttributeValues={":step": {"N": str(step)}},
                        )
                        done = ("update", step)
                except Exception as exc:  # noqa: BLE001 - the server is gone (or failed: checked below)
                    with enough:
                        stopped.append(exc)
                        enough.notify_all()
                    return
                acknowledged[writer].append(done)
                with enough:
                    total += 1
                    enough.notify_all()
                step += 1

        threads = [threading.Thread(target=write, args=(writer,), daemon=True) for writer in range(WRITERS)]
        for thread in threads:
            thread.start()
        with enough:
            enough.wait_for(lambda: total >= KILL_AFTER or bool(stopped), timeout=120)
            # Nobody stopped before the kill: every writer is mid-stream when it comes.
            assert (total >= KILL_AFTER, stopped) == (True, []), output.seen
            server.send_signal(signal.SIGKILL)
        server.wait(60)
        for thread in threads:
            thread.join(60)
            assert not thread.is_alive()
        assert server.returncode == -signal.SIGKILL
        output.rest()
    # The endpoint logged nothing (its log lines start "endpoint: "): no request failed inside the server.
    assert [line for line in output.seen if line.startswith("endpoint: ")] == [], output.seen

    with Store(state, create=False) as store:
        table = store.table("orders")
        items = {item["pk"]: item for item in table.scan()}
        records = stream_records(table)
        shards = len(table.stream.describe_stream()["Shards"])
    keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in records]
    for writer, writes in enumerate(acknowledged):
        puts = [step for kind, step in writes if kind == "put"]
        updates = [step for kind, step in writes if kind == "update"]
        assert puts, writer  # every writer got through before the kill
        assert updates, writer
        for step in puts:  # every acknowledged put is in the table and has its INSERT on the stream
            assert items[f"w{writer}#{step}"]["step"] == step
            assert keys.count(f"w{writer}#{step}") == 1
        # The counter: at least the last acknowledged value (one more write may have committed unacknowledged).
        counter = items[f"w{writer}"]["step"]
        assert counter in (updates[-1], updates[-1] + 2)
        changes = [
            (record["eventName"], int(record["dynamodb"]["NewImage"]["step"]["N"]))
            for record in records
            if record["dynamodb"]["Keys"]["pk"]["S"] == f"w{writer}"
        ]
        # Every acknowledged change on the stream, once, in the order it was made; nothing after the item's value.
        assert changes[: len(updates)] == [("INSERT", updates[0])] + [("MODIFY", step) for step in updates[1:]]
        assert [step for _, step in changes] == sorted({step for _, step in changes})
        assert changes[-1][1] == counter
        if shards == 1:  # one shard holds every record in commit order: a writer's writes in the order it made them
            position = {}
            for index, record in enumerate(records):
                change = record["dynamodb"]
                position[(record["eventName"], change["Keys"]["pk"]["S"], change["NewImage"]["step"]["N"])] = index
            made = [
                ("INSERT", f"w{writer}#{step}", str(step))
                if kind == "put"
                else ("INSERT" if step == updates[0] else "MODIFY", f"w{writer}", str(step))
                for kind, step in writes
            ]
            assert [position[change] for change in made] == sorted(position[change] for change in made)
