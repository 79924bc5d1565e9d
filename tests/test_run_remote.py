"""``shardline run --remote``: a template's mapping on a stream outside the template, read through boto3.

The stream lives on moto's server (started here on a free port); the run is the real CLI in a subprocess, its
functions in-process, next to a local table whose mapping gets what the remote mapping's function writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import COMMAND, FUZZ, aws_client, create_table, returns_or_raises_shardline_error, started
from hypothesis import given
from hypothesis import strategies as st

from shardline.aws import RemoteStreamError
from shardline.local import Store
from shardline.local._runner import build_pipeline
from shardline.local._template import TemplateError, load_template

pytest.importorskip("moto.server")

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/partners/stream/2025-03-01T10:00:00.000"
STREAM_PATH = "Resources.OnOrder.Properties.Events.Orders.Properties.Stream"

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  OrdersStream: {Type: String}
Resources:
  Audit:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: audit
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  OnOrder:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.on_order
      Runtime: python3.12
      Events:
        Orders:
          Type: DynamoDB
          Properties: {Stream: !Ref OrdersStream, StartingPosition: TRIM_HORIZON, BatchSize: 10}
  OnAudit:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.on_audit
      Runtime: python3.12
      Events:
        Audit:
          Type: DynamoDB
          Properties: {Stream: !GetAtt Audit.StreamArn, StartingPosition: TRIM_HORIZON}
"""

APP = """\
import json
from pathlib import Path

import boto3

SEEN = Path(__file__).with_name("seen.jsonl")


def note(*line):
    with SEEN.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\\n")


def on_order(event, context):
    local = boto3.client("dynamodb")  # the run's endpoint: AWS_ENDPOINT_URL_DYNAMODB
    for record in event["Records"]:
        pk = record["dynamodb"]["Keys"]["pk"]["S"]
        note("remote", record["eventName"], pk, record["eventSourceARN"])
        local.put_item(TableName="audit", Item={"pk": {"S": pk}})


def on_audit(event, context):
    for record in event["Records"]:
        note("local", record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"])
"""


def project(folder: Path) -> Path:
    (folder / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    (folder / "app.py").write_text(APP, encoding="utf-8")
    return folder


def shardline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("SHARDLINE_", "AWS_"))}
    environment.update(AWS_ACCESS_KEY_ID="any", AWS_SECRET_ACCESS_KEY="any", HOME=str(cwd), COLUMNS="300")
    return subprocess.run(
        [*COMMAND, *args], check=False, capture_output=True, text=True, cwd=cwd, env=environment, timeout=60
    )


def seen(folder: Path) -> list[list[str]]:
    path = folder / "seen.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_remote_stream_and_a_local_table_in_one_run_resumed_by_the_next(moto_url: str, tmp_path: Path) -> None:
    folder = project(tmp_path)
    dynamodb = aws_client("dynamodb", moto_url)
    description = create_table(
        dynamodb, "orders", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    arn = description["LatestStreamArn"]
    dynamodb.put_item(TableName="orders", Item={"pk": {"S": "a"}})
    dynamodb.put_item(TableName="orders", Item={"pk": {"S": "b"}})
    command = (
        "run",
        "--remote",
        "--endpoint-url",
        moto_url,
        "--region",
        "us-east-1",
        "--parameter-overrides",
        f"OrdersStream={arn}",
        "--until-idle",
        "--invoker",
        "in-process",
        "--port",
        "0",
    )

    first = shardline(*command, cwd=folder)
    assert first.returncode == 0, first.stderr
    stack = folder.name.replace("_", "-")  # functions are named <stack (the folder)>-<logical id>
    assert f"mapping OnOrder.Orders: remote stream {arn} -> {stack}-OnOrder (BatchSize=10)\n" in first.stderr
    assert f"mapping OnAudit.Audit: table audit -> {stack}-OnAudit (AWS's default settings)\n" in first.stderr
    lines = seen(folder)
    assert [line for line in lines if line[0] == "remote"] == [
        ["remote", "INSERT", "a", arn],
        ["remote", "INSERT", "b", arn],
    ]
    assert [line for line in lines if line[0] == "local"] == [["local", "INSERT", "a"], ["local", "INSERT", "b"]]

    dynamodb.put_item(TableName="orders", Item={"pk": {"S": "c"}})
    second = shardline(*command, cwd=folder)
    assert second.returncode == 0, second.stderr
    assert sorted(seen(folder)[len(lines) :]) == [["local", "INSERT", "c"], ["remote", "INSERT", "c", arn]]
    assert '"records_in": 2' in second.stderr  # c from the remote stream, c from the audit table: nothing again


def test_without_remote_the_stream_arn_is_refused_with_the_way_to_read_it(tmp_path: Path) -> None:
    folder = project(tmp_path)
    overrides = f"OrdersStream={STREAM_ARN}"
    result = shardline("run", "--parameter-overrides", overrides, "--invoker", "in-process", cwd=folder)
    assert result.returncode == 1
    assert (
        f"{STREAM_PATH}: is the ARN '{STREAM_ARN}', a stream outside this template; read it where it lives with"
        " `shardline run --remote` (and --endpoint-url, --region, --profile as needed), or map a table of this"
        " template: use !GetAtt <Table>.StreamArn"
    ) in result.stderr
    assert not (folder / ".shardline").exists()


def test_region_and_profile_need_remote(tmp_path: Path) -> None:
    result = shardline("run", "--region", "eu-west-1", "--profile", "dev", cwd=project(tmp_path))
    assert result.returncode == 2
    assert "--region and --profile configure the clients of remote streams: add --remote" in result.stderr


def test_with_remote_a_stream_is_a_stream_arn(tmp_path: Path) -> None:
    folder = project(tmp_path)
    with pytest.raises(TemplateError) as caught:
        load_template(folder / "template.yaml", parameter_overrides={"OrdersStream": "orders"}, remote=True)
    assert caught.value.problems == [
        f"{STREAM_PATH}: is 'orders', not a stream ARN (arn:aws:dynamodb:<region>:<account>:table/<name>/stream/"
        "<label>): use !GetAtt <Table>.StreamArn"
    ]
    template = load_template(folder / "template.yaml", parameter_overrides={"OrdersStream": STREAM_ARN}, remote=True)
    assert [(m.logical_id, m.table, m.stream_arn) for m in template.mappings] == [
        ("OnOrder.Orders", "", STREAM_ARN),
        ("OnAudit.Audit", "Audit", None),
    ]


def test_build_pipeline_refuses_a_remote_mapping_without_remote_options(tmp_path: Path) -> None:
    folder = project(tmp_path)
    template = load_template(folder / "template.yaml", parameter_overrides={"OrdersStream": STREAM_ARN}, remote=True)
    with Store(tmp_path / "state.db") as store:
        with pytest.raises(TemplateError) as caught:
            build_pipeline(template, store, invoker="in-process")
        assert store.tables() == []  # refused before the local tables were created
    assert caught.value.problems == [
        f"OnOrder.Orders: {STREAM_ARN} is a stream outside this template; read it with `shardline run --remote`"
    ]


def test_a_remote_mapping_without_boto3_says_how_to_install_it(tmp_path: Path, monkeypatch: Any) -> None:
    folder = project(tmp_path)
    template = load_template(folder / "template.yaml", parameter_overrides={"OrdersStream": STREAM_ARN}, remote=True)
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 now raises ImportError
    with Store(tmp_path / "state.db") as store, pytest.raises(RemoteStreamError) as caught:
        build_pipeline(template, store, invoker="in-process", remote={"region_name": "us-east-1"})
    assert str(caught.value) == 'reading a remote stream needs boto3: pip install "shardline[aws]"'


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory: Any) -> Path:
    return project(tmp_path_factory.mktemp("fuzz"))


@FUZZ
@given(stream=st.text(max_size=200) | st.just(STREAM_ARN))
def test_fuzz_a_remote_stream_parameter(fuzz_folder: Path, stream: str) -> None:
    folder = fuzz_folder
    template = returns_or_raises_shardline_error(
        lambda: load_template(folder / "template.yaml", parameter_overrides={"OrdersStream": stream}, remote=True)
    )
    if template is not None:
        assert template.mappings[0].stream_arn == stream


def test_serve_creates_the_tables_of_a_template_with_a_remote_mapping(tmp_path: Path) -> None:
    # serve runs no functions: a mapping on a stream outside the template is no reason to refuse the template.
    project(tmp_path)
    args = ("serve", "--template", "template.yaml", "--parameter-overrides", f"OrdersStream={STREAM_ARN}")
    with started(*args, "--port", "0", "--state", "state.db", cwd=tmp_path) as (process, output):
        line = output.wait(r"^DynamoDB and DynamoDB Streams at ")
        assert line.endswith("(state state.db, 1 table); Ctrl-C to stop")
        process.send_signal(signal.SIGINT)
        process.wait(60)
    assert process.returncode == 130
    with Store(tmp_path / "state.db") as store:
        assert [table.name for table in store.tables()] == ["audit"]
