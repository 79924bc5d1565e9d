"""State files of format 1 (before secondary indexes and stream switching) open, and are upgraded in place."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import stream_records

from shardline.local import Store, StoreError
from shardline.local._db import APPLICATION_ID, SCHEMA_V1
from shardline.local._store import IndexSpec, StoredItem
from shardline.testing import VirtualClock

START_MS = 1_795_759_200_000  # 2026-11-27T06:00:00Z
ARN = "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders/stream/2026-11-27T06:00:00.000"
SHARD = "shardId-00000001795759200000-0a1b2c3d"


def image(pk: str, sk: str, **more: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"N": sk}, **more}


def write_v1(path: Path, *, items: list[tuple[str, str, str | None]]) -> None:
    """A state file as shardline's format 1 wrote it: one table with a stream, its items and one record."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(SCHEMA_V1)
    connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
    connection.execute("PRAGMA user_version=1")
    connection.execute("UPDATE counters SET last_seq = 2, last_ms = ?", (START_MS,))
    connection.execute(
        "INSERT INTO tables (name, key_schema, view_type, ttl_attribute, shard_count, rollover_ms, retention_ms,"
        " created_ms, stream_arn, region, trimmed_ms) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        (
            "Orders",
            json.dumps([["pk", "S"], ["sk", "N"]]),
            "NEW_AND_OLD_IMAGES",
            "expires",
            4 * 3_600_000,
            24 * 3_600_000,
            START_MS,
            ARN,
            "eu-west-1",
            START_MS - 24 * 3_600_000,
        ),
    )
    connection.execute(
        "INSERT INTO shards (table_no, slot, shard_id, parent_id, created_ms, start_seq) VALUES (1, 0, ?, NULL, ?, 1)",
        (SHARD, START_MS),
    )
    for pk, sk, expires in items:
        text = json.dumps(image(pk, sk), separators=(",", ":"))
        connection.execute(
            "INSERT INTO items (table_no, pk, sk, image, size, expires_ms) VALUES (1, ?, ?, ?, ?, ?)",
            (pk, sk, text, 3 + len(pk) - 1 + 4, None if expires is None else int(expires)),
        )
    record = {
        "eventID": "1" * 32,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": START_MS // 1000,
            "Keys": image("a", "10"),
            "NewImage": image("a", "10"),
            "SequenceNumber": str(10**26 + 2),
            "SizeBytes": 14,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": ARN,
    }
    connection.execute(
        "INSERT INTO records (seq, shard_no, created_ms, body) VALUES (2, 1, ?, ?)", (START_MS, json.dumps(record))
    )
    connection.close()


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    connection.close()
    return version


def test_a_format_1_file_opens_and_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    write_v1(path, items=[("a", "10", None), ("a", "9", None), ("a", "-1.5", None), ("b", "1", str(START_MS + 5000))])
    with Store(path, clock=VirtualClock(START_MS)) as store:
        assert user_version(path) == 2
        table = store.table("Orders")
        assert (table.stream_arn, table.stream_enabled, table.ttl_attribute) == (ARN, True, "expires")
        assert table.table_arn == "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders"
        assert (table.global_indexes, table.local_indexes, table.extra) == ((), (), {})
        # numbers now sort by value (format 1 kept them as text)
        assert [found.image["sk"]["N"] for found in table.query_page({"S": "a"}).items] == ["-1.5", "9", "10"]
        assert table.read_item({"pk": {"S": "b"}, "sk": {"N": "1"}}) == StoredItem(image("b", "1"), 7)
        # the stream goes on: the old record, then the new one, on the same shard
        record = table.put_item({"pk": "c", "sk": 1})
        assert record is not None
        assert record["eventSourceARN"] == ARN
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream_records(table)] == ["a", "c"]
        assert store.streams() == [("Orders", ARN, "2026-11-27T06:00:00.000")]
        assert store.stream_by_arn(ARN).describe_stream()["Shards"][0]["ShardId"] == SHARD
        # TTL expiry was carried over
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in table.expire_ttl(START_MS + 6000)] == ["b"]
        # and the new features work on the upgraded table
        table.update(add_global_indexes=[IndexSpec("bySk", {"pk": "S", "sk": "N"}, "KEYS_ONLY")])
        assert len(table.scan_page(index="bySk").items) == 4
        table.update(stream_enabled=False)
        table.update(stream_enabled=True)
        assert table.stream_arn != ARN
    with Store(path) as again:  # opens as format 2
        assert again.table("Orders").item_count() == 4


def test_an_upgrade_that_fails_leaves_the_file_at_format_1(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    write_v1(path, items=[("a", "not a number", None)])
    with pytest.raises(StoreError, match=r"is damaged \(a sort key of table number 1 is not a N value\)"):
        Store(path)
    assert user_version(path) == 1
    with sqlite3.connect(path) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    connection.close()
    assert "streams" not in names
    assert "items_v1" not in names


def test_a_new_file_is_format_2(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(path).close()
    assert user_version(path) == 2
