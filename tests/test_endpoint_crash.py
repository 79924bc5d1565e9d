"""A killed endpoint loses no acknowledged write: `shardline serve` in a subprocess, clients writing with boto3
from several threads, SIGKILL once enough writes were acknowledged; then the state file holds every acknowledged
write, in the table and on the stream, each item's changes in order."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")

from botocore.config import Config  # noqa: E402

from shardline.local import Store  # noqa: E402

_SCRIPT = Path(sys.executable).parent / "shardline"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "shardline"]
WRITERS = 4
KILL_AFTER = 240  # acknowledged writes, all writers together


def stream_records(store: Store, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, parents before children, each shard in order."""
    stream = store.table(table).stream
    records: list[dict[str, Any]] = []
    for shard in stream.describe_stream()["Shards"]:
        iterator = stream.get_shard_iterator(shard["ShardId"], "TRIM_HORIZON")
        while iterator is not None:
            page = stream.get_records(iterator, limit=1000)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


@pytest.mark.parametrize("round_", range(2))
def test_every_acknowledged_write_survives_a_sigkill(tmp_path: Path, round_: int) -> None:
    state = tmp_path / "state.db"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key == "SHARDLINE_PORT" or not key.startswith(("SHARDLINE_", "AWS_"))
    }
    server = subprocess.Popen(
        [*COMMAND, "serve", "--port", "0", "--state", str(state)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()  # the line with the URL comes once the endpoint listens
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first
        url = match.group(0)

        def client() -> Any:
            return boto3.client(
                "dynamodb",
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id="any",
                aws_secret_access_key="any",
                # No retries: a write is acknowledged by its own response, never by a retry's.
                config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30),
            )

        client().create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        acknowledged: list[list[tuple[str, int]]] = [[] for _ in range(WRITERS)]
        stopped: list[Exception] = []  # why each writer stopped
        total = 0
        enough = threading.Condition()

        def write(writer: int) -> None:
            nonlocal total
            dynamodb = client()
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
                except Exception as exc:  # noqa: BLE001 - the server is gone: this writer is done
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
            enough.wait_for(lambda: total >= KILL_AFTER or len(stopped) == WRITERS, timeout=120)
            assert total >= KILL_AFTER, (total, stopped)  # nobody failed before the kill
        server.send_signal(signal.SIGKILL)  # mid-stream: the writers have requests in flight
        server.wait(30)
        for thread in threads:
            thread.join(60)
            assert not thread.is_alive()
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(30)
        if server.stderr is not None:
            server.stderr.close()
    assert server.returncode == -signal.SIGKILL

    with Store(state, create=False) as store:
        items = {item["pk"]: item for item in store.table("orders").scan()}
        records = stream_records(store, "orders")
        shards = len(store.table("orders").stream.describe_stream()["Shards"])
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
