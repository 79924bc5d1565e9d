"""`shardline destination` and `shardline redrive`, run through the real entry point in subprocesses: the local
loop run → see failures → fix → redrive."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import COMMAND, clean_environment

from shardline.local import Pipeline, Store
from shardline.testing import SystemClock, VirtualClock

BUGGY = """
def handler(event, context):
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["pk"]["S"] == "poison":
            raise ValueError("cannot process poison")
"""
FIXED = """
def handler(event, context):
    print("processed", len(event["Records"]))
"""


def run(*args: str, cwd: Path, stdin: str | None = None) -> Any:
    return subprocess.run(
        [*COMMAND, *args],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_environment(),
        timeout=60,
    )


def buggy(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["pk"]["S"] == "poison":
            raise ValueError("cannot process poison")


def make_failures(path: Path, *, clock: VirtualClock | None = None) -> list[dict[str, Any]]:
    """A state file where mapping OrdersMapping sent the batch [a, poison] to its default destination."""
    with Store(path, clock=clock) as store:
        orders = store.create_table("Orders", key_schema={"pk": "S"})
        pipeline = Pipeline(store)
        pipeline.add_mapping(orders, buggy, name="OrdersMapping", maximum_retry_attempts=0)
        with store.transaction():
            orders.put_item({"pk": "a"})
            orders.put_item({"pk": "poison"})
        pipeline.run_until_idle()
        return list(pipeline.destination)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "buggy.py").write_text(textwrap.dedent(BUGGY), encoding="utf-8")
    (tmp_path / "fixed.py").write_text(textwrap.dedent(FIXED), encoding="utf-8")
    return tmp_path


def test_destination_list_and_show(project: Path) -> None:
    [record] = make_failures(project / "state.db")
    info = record["DDBStreamBatchInfo"]
    listed = run("destination", "list", "--state", "state.db", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == (
        f"  1  {record['timestamp']}  OrdersMapping  RetryAttemptsExhausted  2 records  {info['shardId']}"
        f" {info['startSequenceNumber']}..{info['endSequenceNumber']}  invoked 1x  functionError Unhandled\n"
    )
    assert listed.stderr == "1 on-failure record\n"
    as_json = run("destination", "list", "--json", "--state", "state.db", cwd=project)
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [record]
    by_id = run(
        "destination", "show", record["requestContext"]["requestId"], "--json", "--state", "state.db", cwd=project
    )
    assert json.loads(by_id.stdout) == record
    shown = run("destination", "show", "1", "--state", "state.db", cwd=project)
    assert shown.stdout.splitlines()[:2] == ["on-failure record 1 of mapping OrdersMapping", "requestContext:"]
    assert f"  endSequenceNumber: {info['endSequenceNumber']}" in shown.stdout.splitlines()
    missing = run("destination", "show", "2", "--state", "state.db", cwd=project)
    assert (missing.returncode, missing.stderr) == (
        1,
        "Error: no on-failure record '2' (by number or request ID) in state.db: numbers 1..1\n",
    )


def test_redrive_from_state_fails_with_the_bug_and_succeeds_once_fixed(project: Path) -> None:
    [record] = make_failures(project / "state.db")
    start, end = record["DDBStreamBatchInfo"]["startSequenceNumber"], record["DDBStreamBatchInfo"]["endSequenceNumber"]
    still = run("redrive", "--from-state", "--state", "state.db", "--handler", "buggy.handler", cwd=project)
    assert still.returncode == 1, still.stderr
    reason = "ValueError: cannot process poison; Lambda retries the whole batch (2 records)"
    assert (
        still.stdout
        == f'{start}  INSERT  {{"pk": "a"}}  failed: {reason}\n{end}  INSERT  {{"pk": "poison"}}  failed: {reason}\n'
    )
    assert still.stderr.splitlines()[-1] == "redrove 2 records of 1 batch: 0 succeeded, 2 failed, 0 skipped"
    done = run("redrive", "--from-state", "--state", "state.db", "--handler", "fixed.handler", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert [(line["SequenceNumber"], line["outcome"]) for line in map(json.loads, done.stdout.splitlines())] == [
        (start, "succeeded"),
        (end, "succeeded"),
    ]
    assert "processed 2" in done.stderr  # the function's own output goes to stderr


def test_redrive_from_a_file_with_a_template_function(project: Path) -> None:
    [record] = make_failures(project / "state.db")
    (project / "failures.jsonl").write_text(json.dumps(record) + "\n\n", encoding="utf-8")
    (project / "template.yaml").write_text(
        textwrap.dedent(
            """
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fixed:
                Type: AWS::Serverless::Function
                Properties: {Handler: fixed.handler, Runtime: python3.11}
            """
        ),
        encoding="utf-8",
    )
    done = run(
        "redrive", "--from-file", "failures.jsonl", "--state", "state.db", "--template", "template.yaml", cwd=project
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0].startswith("batch 1 of 1 (failures.jsonl, line 1, shard ")


def test_redrive_with_a_template_leaves_out_what_the_mappings_filter_dropped(project: Path) -> None:
    make_failures(project / "state.db")
    (project / "template.yaml").write_text(
        textwrap.dedent(
            """
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Orders:
                Type: AWS::DynamoDB::Table
                Properties:
                  TableName: Orders
                  KeySchema: [{AttributeName: pk, KeyType: HASH}]
                  AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
                  StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
              Audit:
                Type: AWS::DynamoDB::Table
                Properties:
                  TableName: Audit
                  KeySchema: [{AttributeName: pk, KeyType: HASH}]
                  AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
                  StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
              Fixed:
                Type: AWS::Serverless::Function
                Properties:
                  Handler: fixed.handler
                  Runtime: python3.11
                  Events:
                    Orders:
                      Type: DynamoDB
                      Properties:
                        Stream: !GetAtt Orders.StreamArn
                        StartingPosition: TRIM_HORIZON
                        FilterCriteria:
                          Filters:
                            - Pattern: '{"dynamodb": {"Keys": {"pk": {"S": [{"anything-but": ["a"]}]}}}}'
                    Audit:
                      Type: DynamoDB
                      Properties: {Stream: !GetAtt Audit.StreamArn, StartingPosition: TRIM_HORIZON}
            """
        ),
        encoding="utf-8",
    )
    done = run("redrive", "--from-state", "--state", "state.db", "--template", "template.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    assert [line.split("  ", 2)[2] for line in done.stdout.splitlines()] == [
        '{"pk": "a"}  skipped: dropped by the mapping\'s filter (FilterCriteria)',
        '{"pk": "poison"}  succeeded',
    ]
    assert "processed 1" in done.stderr


def test_trimmed_records_are_reported_per_batch(project: Path) -> None:
    # Written by a clock two days behind: for the command (the system clock) every record is past the retention.
    make_failures(project / "state.db", clock=VirtualClock(SystemClock().now_ms() - 2 * 24 * 3600 * 1000))
    result = run("redrive", "--from-state", "--state", "state.db", "--handler", "fixed.handler", cwd=project)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[1] == (
        "  not redriven: the records were trimmed: DynamoDB Streams keeps records for 24 hours, and these are older"
    )
    assert lines[-1] == "redrove 0 records of 1 batch: 0 succeeded, 0 failed, 0 skipped; 1 batch not redriven"


def test_dry_run_prints_the_event(project: Path) -> None:
    make_failures(project / "state.db")
    result = run("redrive", "--from-state", "--state", "state.db", "--dry-run", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    [event] = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]] == ["a", "poison"]
    assert result.stderr.splitlines()[-1] == "dry run: 2 records of 1 batch would be sent, 0 skipped"


HANDLER = ("--handler", "fixed.handler")


@pytest.mark.parametrize(
    ("args", "status", "error"),
    [
        (("--from-file", "nope.jsonl", *HANDLER), 1, "Error: nope.jsonl: no such file"),
        (
            ("--from-file", "bad.jsonl", *HANDLER),
            1,
            "Error: bad.jsonl, line 2: DDBStreamBatchInfo.batchSize: expected a whole number 1..10000, got 0",
        ),
        (
            ("--from-state", "--handler", "nothere.handler"),
            1,
            "Error: cannot import handler module 'nothere': no such module in",
        ),
        (
            ("--from-state", "--from-file", "bad.jsonl", *HANDLER),
            2,
            "Error: give one of --from-state, --from-file FILE, --from-sqs URL or --from-s3 s3://BUCKET/PREFIX",
        ),
        (
            ("--from-state",),
            2,
            "Error: give the function: --handler HANDLER, --template FILE --function LOGICAL_ID, or --function-name",
        ),
        (("--from-state", "--delete", *HANDLER), 2, "Error: --delete removes SQS messages or S3 objects"),
        (("--from-state", "--filter", "{", *HANDLER), 1, "Error: --filter: "),
        (("--from-state", "--parameter-overrides", "A=b", *HANDLER), 2, "Error: --parameter-overrides goes with"),
        (("--from-state", "--lambda-endpoint-url", "http://x", *HANDLER), 2, "Error: --lambda-endpoint-url goes with"),
        (("--from-state", "--function-name", "f", *HANDLER), 2, "Error: give one of --handler, --template/--function"),
    ],
)
def test_errors_are_one_line(project: Path, args: tuple[str, ...], status: int, error: str) -> None:
    [record] = make_failures(project / "state.db")
    broken = {**record, "DDBStreamBatchInfo": {**record["DDBStreamBatchInfo"], "batchSize": 0}}
    (project / "bad.jsonl").write_text(json.dumps(record) + "\n" + json.dumps(broken) + "\n", encoding="utf-8")
    result = run("redrive", *args, "--state", "state.db", cwd=project)
    assert result.returncode == status
    assert error in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
