"""`shardline stream tail` on a remote stream: moto's server (started here on a free port) holds the tables,
and the real command runs in a subprocess, as a user runs it.

moto's stream differs from AWS's in ways these tests do not look at: SizeBytes is the length of the record's JSON,
awsRegion is always us-east-1 and a write that changes nothing still makes a MODIFY record.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import COMMAND, REGION, aws_client, create_table, stream_table

pytest.importorskip("moto.server")

_names = itertools.count()


@pytest.fixture
def dynamodb(moto_url: str) -> Any:
    return aws_client("dynamodb", moto_url)


def tail_table(dynamodb: Any) -> tuple[str, str]:
    """A new table with a NEW_AND_OLD_IMAGES stream on moto's server: its name and stream ARN."""
    name = f"Tail{next(_names)}"
    return name, stream_table(dynamodb, name)


def tail(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SHARDLINE_", "AWS_")) or key == "SHARDLINE_PORT"
    }
    environment.update(AWS_ACCESS_KEY_ID="any", AWS_SECRET_ACCESS_KEY="any")
    return subprocess.run(
        [*COMMAND, "stream", "tail", "--endpoint-url", url, "--region", REGION, *args],
        check=False,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_json_prints_the_records_written_in_lambdas_shape(moto_url: str, dynamodb: Any) -> None:
    name, arn = tail_table(dynamodb)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "qty": {"N": "1"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "qty": {"N": "2"}, "blob": {"B": b"\x00\xff"}})
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "after-the-limit"}})

    result = tail(moto_url, "--stream-arn", arn, "--from", "trim-horizon", "--limit", "3", "--json")

    assert result.returncode == 0, result.stderr
    assert result.stderr == "3 records\n"
    records = [json.loads(line) for line in result.stdout.splitlines()]
    seen = [
        (record["eventName"], record["dynamodb"].get("OldImage"), record["dynamodb"].get("NewImage"))
        for record in records
    ]
    first = {"pk": {"S": "a"}, "qty": {"N": "1"}}
    second = {"pk": {"S": "a"}, "qty": {"N": "2"}, "blob": {"B": "AP8="}}  # binaries as base64 text, as Lambda
    assert seen == [("INSERT", None, first), ("MODIFY", first, second), ("REMOVE", second, None)]
    for record in records:
        assert record["eventSourceARN"] == arn
        assert record["eventSource"] == "aws:dynamodb"
        assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)  # whole epoch seconds
    sequences = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3
    assert all(
        line == json.dumps(record, separators=(",", ":"))
        for line, record in zip(result.stdout.splitlines(), records, strict=True)
    )


def test_table_resolves_its_stream_and_prints_readable_lines(moto_url: str, dynamodb: Any) -> None:
    name, _ = tail_table(dynamodb)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "two words"}})

    result = tail(moto_url, "--table", name, "--from", "trim-horizon", "--limit", "2")

    assert result.returncode == 0, result.stderr
    assert result.stderr == "2 records\n"
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"INSERT pk=a  seq \d+", lines[0]), lines[0]
    assert re.fullmatch(r'INSERT pk="two words"  seq \d+', lines[1]), lines[1]


def test_filter_drops_the_records_that_do_not_match(moto_url: str, dynamodb: Any) -> None:
    name, _ = tail_table(dynamodb)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "qty": {"N": "1"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "b"}, "qty": {"N": "2"}})
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "b"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "c"}, "qty": {"N": "2"}})
    pattern = '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"qty": {"N": ["2"]}}}}'

    result = tail(moto_url, "--table", name, "--from", "trim-horizon", "--filter", pattern, "--limit", "2", "--json")

    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["dynamodb"]["Keys"] for line in result.stdout.splitlines()] == [
        {"pk": {"S": "b"}},
        {"pk": {"S": "c"}},
    ]


def test_an_invalid_filter_is_one_line_error(moto_url: str, dynamodb: Any) -> None:
    name, _ = tail_table(dynamodb)
    result = tail(moto_url, "--table", name, "--filter", '{"eventName": "INSERT"}', "--limit", "1")
    assert result.returncode == 1
    assert result.stdout == ""
    assert re.fullmatch(r"Error: --filter: [^\n]+\n", result.stderr), result.stderr


def test_a_missing_table_is_one_line_error(moto_url: str) -> None:
    result = tail(moto_url, "--table", "NoSuchTable", "--limit", "1")
    assert result.returncode == 1
    assert result.stdout == ""
    assert re.fullmatch(r"Error: DescribeTable failed: [^\n]*ResourceNotFoundException[^\n]*\n", result.stderr), (
        result.stderr
    )


def test_a_missing_stream_is_one_line_error(moto_url: str) -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Gone/stream/2020-01-01T00:00:00.000"
    result = tail(moto_url, "--stream-arn", arn, "--limit", "1")
    assert result.returncode == 1
    assert result.stdout == ""
    assert re.fullmatch(
        rf"Error: DescribeStream failed \({re.escape(arn)}\): ResourceNotFoundException[^\n]*\n", result.stderr
    ), result.stderr


def test_a_table_without_a_stream_is_one_line_error(moto_url: str, dynamodb: Any) -> None:
    name = f"NoStream{next(_names)}"
    create_table(dynamodb, name)
    result = tail(moto_url, "--table", name, "--limit", "1")
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: table {name!r} has no stream to read: enable it (StreamSpecification, StreamEnabled: true)\n"
    )


def test_remote_only_options_are_refused_on_a_local_table(tmp_path: Path) -> None:
    result = subprocess.run(
        [*COMMAND, "stream", "tail", "Orders", "--limit", "1", "--state", str(tmp_path / "state.db")],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.endswith("Error: --filter and --limit read a remote stream (--stream-arn or --table)\n")


def test_follows_new_writes_until_ctrl_c(moto_url: str, dynamodb: Any) -> None:
    name, arn = tail_table(dynamodb)
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "before"}})
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("SHARDLINE_", "AWS_"))}
    environment.update(AWS_ACCESS_KEY_ID="any", AWS_SECRET_ACCESS_KEY="any")
    follower = subprocess.Popen(
        [
            *COMMAND,
            "stream",
            "tail",
            "--stream-arn",
            arn,
            "--endpoint-url",
            moto_url,
            "--region",
            REGION,
            "--json",
            "--from",
            "trim-horizon",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert follower.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout or ()], daemon=True).start()
        assert json.loads(lines.get(timeout=30))["dynamodb"]["Keys"] == {"pk": {"S": "before"}}
        # Written while the tail follows the stream: it shows up.
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "after"}})
        assert json.loads(lines.get(timeout=30))["dynamodb"]["Keys"] == {"pk": {"S": "after"}}
    finally:
        follower.send_signal(signal.SIGINT)
        _, stderr = follower.communicate(timeout=30)
    assert follower.returncode == 130
    assert stderr == "stopped after 2 records\n"
