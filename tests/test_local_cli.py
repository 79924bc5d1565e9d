"""`shardline table` and `shardline stream`, run through the real entry point in subprocesses."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from shardline.local import Store

_SCRIPT = Path(sys.executable).parent / ("shardline.exe" if os.name == "nt" else "shardline")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "shardline"]


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> Any:
    environment = {
        key: value for key, value in os.environ.items() if key == "SHARDLINE_PORT" or not key.startswith("SHARDLINE_")
    }
    return subprocess.run(
        [*COMMAND, *args],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=60,
    )


@pytest.fixture
def state(tmp_path: Path) -> str:
    path = str(tmp_path / "state.db")
    created = run("table", "create", "Orders", "--key", "pk:S", "--key", "sk:N", "--state", path)
    assert created.returncode == 0, created.stderr
    return path


def records_of(path: str, table: str = "Orders") -> list[dict[str, Any]]:
    result = run("stream", "tail", table, "--state", path)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


# -- help ---------------------------------------------------------------------------------------------


def test_the_commands_are_listed_with_examples() -> None:
    result = run("--help")
    assert "  table " in result.stdout
    assert "  stream " in result.stdout
    assert "shardline stream tail Orders --follow" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["table"],
        ["table", "create"],
        ["table", "put"],
        ["table", "update"],
        ["table", "delete"],
        ["table", "get"],
        ["table", "scan"],
        ["table", "load"],
        ["stream"],
        ["stream", "tail"],
    ],
)
def test_every_command_help_shows_examples(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0
    examples = result.stdout.split("Examples:")[1]
    assert f"shardline {' '.join(command)}" in examples


# -- table ----------------------------------------------------------------------------------------------


def test_create_prints_the_stream_arn_and_makes_the_state_directory(tmp_path: Path) -> None:
    result = run("table", "create", "Orders", "--key", "pk:S", "--ttl-attribute", "expires", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/")
    assert result.stderr == "created table Orders (pk S) in .shardline/state.db, stream NEW_AND_OLD_IMAGES\n"
    with Store(tmp_path / ".shardline" / "state.db") as store:
        assert store.table("Orders").ttl_attribute == "expires"
    again = run("table", "create", "Orders", "--key", "pk:S", cwd=tmp_path)
    assert (again.returncode, again.stderr) == (1, "Error: table 'Orders' exists already (delete it first, or "
                                                   "choose another name)\n")  # fmt: skip


def test_writes_report_their_records_and_the_stream_holds_them(state: str) -> None:
    key = '{"pk": "order#1", "sk": 1}'
    put = run("table", "put", "Orders", '{"pk": "order#1", "sk": 1, "total": 12.50}', "--state", state)
    assert put.returncode == 0, put.stderr
    assert put.stderr.startswith('INSERT Orders {"pk": "order#1", "sk": 1}: sequence number ')
    assert put.stderr.endswith(", SizeBytes 34\n")  # Keys 13 + NewImage 21: DynamoDB's item size
    same = run("table", "put", "Orders", '{"pk": "order#1", "sk": 1, "total": 12.5}', "--state", state)
    assert same.stderr == "no change (the stored item is the same): no stream record\n"
    update = run("table", "update", "Orders", key, "--set", '{"status": "PAID"}', "--remove", "total", "--state", state)
    assert update.stderr.startswith("MODIFY Orders")
    got = run("table", "get", "Orders", key, "--state", state, "--compact")
    assert got.stdout == '{"pk":"order#1","sk":1,"status":"PAID"}\n'
    deleted = run("table", "delete", "Orders", key, "--state", state)
    assert deleted.stderr.startswith("REMOVE Orders")
    missing = run("table", "delete", "Orders", key, "--state", state)
    assert missing.stderr == "no change (there was no such item): no stream record\n"
    gone = run("table", "get", "Orders", key, "--state", state)
    assert (gone.returncode, gone.stdout) == (1, "")
    records = records_of(state)
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[0]["dynamodb"]["NewImage"]["total"] == {"N": "12.5"}  # exact, never a float


def test_items_come_from_standard_input_and_numbers_stay_exact(state: str) -> None:
    item = '{"pk": "a", "sk": 1, "n": 0.1000000000000000000000000001, "big": 100000000000000000000000000000000000000}'
    assert run("table", "put", "Orders", "-", "--state", state, stdin=item).returncode == 0
    scanned = run("table", "scan", "Orders", "--state", state)
    assert scanned.stdout == (
        '{"pk":"a","sk":1,"n":0.1000000000000000000000000001,"big":100000000000000000000000000000000000000}\n'
    )
    assert scanned.stderr == "1 item\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["table", "put", "Nope", "{}"], "Error: no table 'Nope' in "),
        (["table", "put", "Orders", '{"pk": "a"}'], "Error: sk: the item lacks its sort key attribute\n"),
        (["table", "put", "Orders", "[1]"], "Error: item: expected a JSON object such as"),
        (["table", "put", "Orders", '{"pk": {"S": "a"}, "sk": {"N": "1"}}'], "Error: item: write items in plain JSON"),
        (["table", "put", "Orders", "{"], "Error: item is not valid JSON: "),
        (["table", "get", "Orders", '{"pk": "a"}'], "Error: a key must hold exactly the key attributes ('pk', 'sk')"),
        (
            ["table", "update", "Orders", '{"pk": "a", "sk": 1}', "--set", '{"sk": 2}'],
            "Error: One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of",
        ),
        (["table", "create", "x", "--key", "pk:S"], "Error: table name 'x': DynamoDB table names are 3-255"),
    ],
)
def test_errors_are_one_line(state: str, args: list[str], message: str) -> None:
    result = run(*args, "--state", state)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1


def test_usage_errors_exit_2(state: str) -> None:
    result = run("table", "update", "Orders", '{"pk": "a", "sk": 1}', "--state", state)
    assert result.returncode == 2
    assert "give --set JSON and/or --remove ATTRIBUTE" in result.stderr


def test_load_applies_a_file_in_one_transaction(state: str, tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text('{"pk": "a", "sk": 1}\n\n{"pk": "b", "sk": 2, "tags": ["x"]}\n{"pk": "a", "sk": 1}\n')
    result = run("table", "load", "Orders", str(items), "--state", state)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "loaded 3 lines into Orders: 2 stream records (2 INSERT); 1 changed nothing\n"
    changes = tmp_path / "changes.jsonl"
    changes.write_text(
        '{"update": {"key": {"pk": "a", "sk": 1}, "set": {"n": 1}}}\n{"delete": {"pk": "b", "sk": 2}}\n'
        '{"put": {"pk": "c", "sk": 3}}\n'
    )
    result = run("table", "load", "Orders", str(changes), "--changes", "--state", state)
    assert result.stderr == "loaded 3 lines into Orders: 3 stream records (1 INSERT, 1 MODIFY, 1 REMOVE)\n"
    assert [record["eventName"] for record in records_of(state)] == ["INSERT", "INSERT", "MODIFY", "REMOVE", "INSERT"]


def test_a_bad_line_loads_nothing(state: str, tmp_path: Path) -> None:
    lines = tmp_path / "items.jsonl"
    lines.write_text('{"pk": "a", "sk": 1}\n{"pk": "b", "sk": "two"}\n')
    result = run("table", "load", "Orders", str(lines), "--state", state)
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {lines}, line 2: sk: the sort key must be of type N (key schema), got S (nothing was loaded)\n"
    )
    assert records_of(state) == []
    changes = tmp_path / "changes.jsonl"
    changes.write_text('{"ttl_delete": {"pk": "a", "sk": 1}}\n')
    result = run("table", "load", "Orders", str(changes), "--changes", "--state", state)
    assert result.stderr == (
        f"Error: {changes}, line 1: unknown write 'ttl_delete'; expected put, update or delete (TTL deletes come "
        "from expiry, not from a file)\n"
    )


def test_scan_output_loads_into_another_table(state: str) -> None:
    run("table", "put", "Orders", '{"pk": "a", "sk": 1, "s": ["x"]}', "--state", state)
    assert run("table", "create", "Copy", "--key", "pk:S", "--key", "sk:N", "--state", state).returncode == 0
    scanned = run("table", "scan", "Orders", "--state", state)
    loaded = run("table", "load", "Copy", "-", "--state", state, stdin=scanned.stdout)
    assert loaded.returncode == 0, loaded.stderr
    assert run("table", "scan", "Copy", "--state", state).stdout == scanned.stdout


# -- the state file: what reads and writes may create (issue 12) -----------------------------------------

NO_STATE = (
    "Error: no state at .shardline/state.db: nothing has been written yet; create a table first (shardline table "
    "create NAME --key NAME:TYPE), or give --state the path of an existing state file\n"
)
KEY = '{"pk": "a", "sk": 1}'


@pytest.mark.parametrize(
    "args",
    [
        ["table", "scan", "Orders"],
        ["table", "get", "Orders", KEY],
        ["table", "put", "Orders", KEY],
        ["table", "update", "Orders", KEY, "--set", '{"n": 1}'],
        ["table", "delete", "Orders", KEY],
        ["table", "load", "Orders", "-"],
        ["stream", "tail", "Orders"],
    ],
)
def test_commands_that_need_a_table_create_no_state(tmp_path: Path, args: list[str]) -> None:
    result = run(*args, cwd=tmp_path, stdin=KEY + "\n")
    assert (result.returncode, result.stderr) == (1, NO_STATE)
    assert list(tmp_path.iterdir()) == []  # no .shardline/, no state.db


def test_an_explicit_state_in_a_missing_directory_is_reported_not_made(tmp_path: Path) -> None:
    path = tmp_path / "nonexistent" / "dir" / "x.db"
    put = run("table", "put", "Orders", KEY, "--state", str(path))
    assert put.returncode == 1
    assert put.stderr == (
        f"Error: no state at {path}: nothing has been written yet; create a table first (shardline table create "
        f"NAME --key NAME:TYPE --state {path}), or give --state the path of an existing state file\n"
    )
    create = run("table", "create", "Orders", "--key", "pk:S", "--state", str(path))
    assert create.returncode == 1
    assert create.stderr == (
        f"Error: --state {path}: the directory {path.parent} does not exist; create it first (only the default "
        ".shardline/ is created for you)\n"
    )
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "nonexistent" / "dir").mkdir(parents=True)
    assert run("table", "create", "Orders", "--key", "pk:S", "--state", str(path)).returncode == 0
    assert path.is_file()


def test_a_state_that_is_a_directory_or_damaged_is_one_error_line(tmp_path: Path) -> None:
    result = run("table", "scan", "Orders", "--state", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: {tmp_path} is a directory, not a state file; give the path of a file")
    path = tmp_path / "state.db"
    assert run("table", "create", "Orders", "--key", "pk:S", "--state", str(path)).returncode == 0
    assert run("table", "put", "Orders", '{"pk": "a"}', "--state", str(path)).returncode == 0
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 4000 + data[4100:])
    for args in (["table", "scan", "Orders"], ["table", "put", "Orders", '{"pk": "b"}'], ["stream", "tail", "Orders"]):
        result = run(*args, "--state", str(path))
        assert result.returncode == 1
        assert result.stderr == (
            f"Error: the state file {path} is damaged (database disk image is malformed); move it away to start "
            "afresh\n"
        )


# -- stream tail ------------------------------------------------------------------------------------------


def test_tail_prints_the_records_in_write_order(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"}, shard_count=3)
        written = [table.put_item({"pk": f"p{i}", "n": i}) for i in range(12)]
    result = run("stream", "tail", "Orders", "--state", str(path))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == written
    assert result.stderr == "12 records\n"
    latest = run("stream", "tail", "Orders", "--from", "latest", "--state", str(path))
    assert (latest.stdout, latest.stderr) == ("", "0 records\n")


def _lines(stream: IO[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_tail_follow_prints_new_records_until_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        first = table.put_item({"pk": "before"})
        environment = {
            key: value
            for key, value in os.environ.items()
            if key == "SHARDLINE_PORT" or not key.startswith("SHARDLINE_")
        }
        follower = subprocess.Popen(
            [*COMMAND, "stream", "tail", "Orders", "--follow", "--state", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        try:
            assert follower.stdout is not None
            lines = _lines(follower.stdout)
            assert json.loads(lines.get(timeout=30)) == first
            # Written by this process while the follower polls: each one shows up, in order.
            for index in range(3):
                record = table.put_item({"pk": f"after{index}"})
                assert json.loads(lines.get(timeout=30)) == record
        finally:
            follower.send_signal(signal.SIGINT)
            _, stderr = follower.communicate(timeout=30)
    assert follower.returncode == 130  # 128 + SIGINT, as `shardline run` and the remote tail exit on Ctrl-C
    assert stderr == "stopped after 4 records\n"
