"""`shardline serve`, the endpoint options of `shardline run`, and what functions started by `run` get to reach
the endpoint: the commands through the real entry point, the pieces in process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import COMMAND, URL, aws_client, clean_environment, started

from shardline.cli.serve import client_url, how_to_reach, missing_configuration
from shardline.local import IndexSpec, Store, TemplateError
from shardline.local._runner import DUMMY_CREDENTIALS, build_pipeline, create_tables, endpoint_environment
from shardline.local._template import load_template


def run(*args: str, cwd: Path, timeout: float = 60) -> Any:
    return subprocess.run(
        [*COMMAND, *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_environment(),
        timeout=timeout,
    )


def call(url: str, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
    """One DynamoDB request in plain HTTP (what an SDK sends, unsigned: the endpoint does not check)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": f"DynamoDB_20120810.{operation}", "Content-Type": "application/x-amz-json-1.0"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port of 127.0.0.1 another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# -- shardline serve -----------------------------------------------------------------------------------------


def test_serve_on_a_free_port_says_how_to_reach_it_and_stops_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with started("serve", "--port", "0", "--state", str(state), cwd=tmp_path, stdout=True) as (process, output):
        output.wait(r"^  any access key")
        lines = list(output.seen)
        url = re.search(URL, lines[0]).group(0)  # type: ignore[union-attr]
        assert lines == [
            f"DynamoDB and DynamoDB Streams at {url} (state {state}, 0 tables); Ctrl-C to stop",
            *(f"  {line}" for line in how_to_reach(url, environ=clean_environment())),
        ]
        prefix = "".join(f"{name}={value} " for name, value in missing_configuration(clean_environment()).items())
        assert lines[1] == f"  apps:    AWS_ENDPOINT_URL_DYNAMODB={url} {prefix}python app.py"
        assert call(url, "ListTables", {}) == (200, {"TableNames": []})
        process.send_signal(signal.SIGTERM)
        rest = output.rest()
        process.wait(60)
        assert process.stdout.read() == ""
    assert process.returncode == 143
    assert rest == [f"stopped by SIGTERM: every acknowledged write is in {state}"]


def test_serve_creates_the_templates_tables_first(tmp_path: Path) -> None:
    pytest.importorskip("boto3")
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent(
            """\
            Resources:
              Orders:
                Type: AWS::DynamoDB::Table
                Properties:
                  TableName: orders
                  BillingMode: PAY_PER_REQUEST
                  AttributeDefinitions:
                    - {AttributeName: pk, AttributeType: S}
                    - {AttributeName: status, AttributeType: S}
                  KeySchema: [{AttributeName: pk, KeyType: HASH}]
                  GlobalSecondaryIndexes:
                    - IndexName: by-status
                      KeySchema: [{AttributeName: status, KeyType: HASH}]
                      Projection: {ProjectionType: KEYS_ONLY}
                  StreamSpecification: {StreamViewType: NEW_IMAGE}
              Audit:
                Type: AWS::DynamoDB::Table
                Properties:
                  TableName: audit
                  AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
                  KeySchema: [{AttributeName: id, KeyType: HASH}]
            """
        ),
        encoding="utf-8",
    )
    with started("serve", "--template", "template.yaml", "--port", "0", "--state", "state.db", cwd=tmp_path) as (
        process,
        output,
    ):
        line = output.wait(r"^DynamoDB and DynamoDB Streams at ")
        assert output.seen == [line]  # no warning about functions
        assert line.endswith("(state state.db, 2 tables); Ctrl-C to stop")
        dynamodb = aws_client("dynamodb", re.search(URL, line).group(0))  # type: ignore[union-attr]
        orders = dynamodb.describe_table(TableName="orders")["Table"]
        assert orders["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
        assert [(index["IndexName"], index["Projection"]) for index in orders["GlobalSecondaryIndexes"]] == [
            ("by-status", {"ProjectionType": "KEYS_ONLY"})
        ]
        assert orders["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        audit = dynamodb.describe_table(TableName="audit")["Table"]
        assert "StreamSpecification" not in audit  # no StreamSpecification in the template: no stream, as on AWS
        assert "LatestStreamArn" not in audit
        process.send_signal(signal.SIGINT)
        process.wait(60)
    assert process.returncode == 130


def test_serve_on_a_port_in_use_is_a_one_line_error(tmp_path: Path, busy_port: int) -> None:
    result = run("serve", "--port", str(busy_port), "--state", str(tmp_path / "state.db"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (  # serve has no --no-endpoint to suggest
        f"Error: cannot serve on 127.0.0.1:{busy_port}: the port is in use (by another shardline serve or run, or"
        " by DynamoDB Local?); pick another with --port (or SHARDLINE_PORT), 0 for a free one\n"
    )


def test_serve_warns_before_listening_beyond_loopback(tmp_path: Path) -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737), never this machine's: the warning comes, then the address is refused,
    # so the test never exposes anything.
    result = run("serve", "--host", "192.0.2.1", "--port", "0", "--state", str(tmp_path / "state.db"), cwd=tmp_path)
    assert result.returncode == 1
    warning, error = result.stderr.splitlines()
    assert warning == (
        "warning: --host 192.0.2.1: other machines that can reach this address can read and write every table"
        " (the endpoint has no authentication); leave --host out to serve 127.0.0.1, this machine only"
    )
    assert error.startswith("Error: cannot listen on 192.0.2.1:0: ")
    assert error.endswith(
        "; --host 192.0.2.1 is not an address of this machine: use 127.0.0.1 (the default, this machine only),"
        " 0.0.0.0 (all of its addresses) or one of its own"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["serve", "--port", "65536"],
            "Invalid value for '--port' (env var: 'SHARDLINE_PORT'): 65536 is not in the range 0<=x<=65535.",
        ),
        (["serve", "--parameter-overrides", "A=1"], "--parameter-overrides needs --template"),
        (["run", "--no-endpoint", "--port", "9"], "--port configures the endpoint, which --no-endpoint turns off"),
        (
            ["run", "--no-endpoint", "--host", "::1", "--port", "9"],
            "--host and --port configure the endpoint, which --no-endpoint turns off",
        ),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"Error: {message}"


def test_the_help_lists_serve() -> None:
    result = run("--help", cwd=Path.cwd())
    assert "  serve " in result.stdout
    assert "shardline serve                                 the local tables as a DynamoDB endpoint" in result.stdout
    serve_help = run("serve", "--help", cwd=Path.cwd()).stdout
    assert "shardline serve --port 0" in serve_help.split("Examples:")[1]


# -- shardline run's endpoint --------------------------------------------------------------------------------

RUN_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Environment:
        Variables: {AWS_ENDPOINT_URL_DYNAMODB_STREAMS: http://elsewhere:1}
      Events:
        Stream:
          Type: DynamoDB
          Properties: {Stream: !GetAtt Orders.StreamArn, StartingPosition: TRIM_HORIZON}
"""


def run_app(folder: Path) -> Path:
    (folder / "template.yaml").write_text(RUN_TEMPLATE, encoding="utf-8")
    (folder / "app.py").write_text("def handler(event, context):\n    return None\n", encoding="utf-8")
    return folder


def test_run_on_a_port_in_use_stops_before_anything_runs(tmp_path: Path, busy_port: int) -> None:
    result = run("run", "--until-idle", "--port", str(busy_port), cwd=run_app(tmp_path))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: cannot serve on 127.0.0.1:{busy_port}: the port is in use (by another shardline serve or run, or"
        " by DynamoDB Local?); pick another with --port (or SHARDLINE_PORT), 0 for a free one, or run with"
        " --no-endpoint\n"
    )


def test_the_port_comes_from_shardline_port_when_not_given(tmp_path: Path, busy_port: int) -> None:
    # A port in use is an error on the default port too: an app pointed at it would write elsewhere unseen.
    environment = {**clean_environment(), "SHARDLINE_PORT": str(busy_port)}
    result = subprocess.run(
        [*COMMAND, "run", "--until-idle"],
        check=False,
        capture_output=True,
        text=True,
        cwd=run_app(tmp_path),
        env=environment,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot serve on 127.0.0.1:{busy_port}: the port is in use")


def test_run_prints_the_endpoint_unless_told_not_to_serve_it(tmp_path: Path) -> None:
    pytest.importorskip("awslambdaric")
    served = run("run", "--until-idle", "--invoker", "in-process", "--port", "0", cwd=run_app(tmp_path))
    assert served.returncode == 0, served.stderr
    lines = served.stderr.splitlines()
    assert lines[0].startswith("mapping OrdersFunction.Stream: table orders ->")
    (first,) = [line for line in lines if line.startswith("endpoint: ")]  # after the mappings: the tables exist
    url = re.search(URL, first).group(0)  # type: ignore[union-attr]
    prefix = "".join(f"{name}={value} " for name, value in missing_configuration(clean_environment()).items())
    assert first == (
        f"endpoint: DynamoDB and DynamoDB Streams at {url}; the functions get AWS_ENDPOINT_URL_DYNAMODB, your app:"
        f" AWS_ENDPOINT_URL_DYNAMODB={url} {prefix}python app.py"
    )
    quiet = run("run", "--until-idle", "--invoker", "in-process", "--no-endpoint", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert not [line for line in quiet.stderr.splitlines() if line.startswith("endpoint:")]


# -- what the functions get ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "host", "region", "expected"),
    [
        pytest.param(
            {},
            {},
            "eu-west-1",
            {
                "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
                "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:8000",
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
                "AWS_REGION": "eu-west-1",
                "AWS_DEFAULT_REGION": "eu-west-1",
                **DUMMY_CREDENTIALS,
            },
            id="nothing-set",
        ),
        pytest.param(
            {"AWS_ENDPOINT_URL_DYNAMODB": "http://other:1"},
            {"AWS_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "AKIA"},
            "eu-west-1",
            {
                "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:8000",
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
                "AWS_DEFAULT_REGION": "eu-west-1",
            },
            id="the-template-and-the-shell-win",
        ),
        pytest.param(
            {"AWS_PROFILE": "dev"},
            {},
            None,
            {
                "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
                "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:8000",
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
            },
            id="a-profile-and-a-region-set-by-the-runtime",
        ),
    ],
)
def test_endpoint_environment(
    explicit: dict[str, str], host: dict[str, str], region: str | None, expected: dict[str, str]
) -> None:
    assert endpoint_environment("http://127.0.0.1:8000", explicit=explicit, host=host, region=region) == expected


def test_in_process_functions_get_the_variables_in_this_process(tmp_path: Path, saved_environment: None) -> None:
    os.environ["HOME"] = str(tmp_path)  # no ~/.aws: no credentials but the dummy ones
    template = load_template(run_app(tmp_path) / "template.yaml")
    with Store(":memory:") as store:
        build_pipeline(template, store, invoker="in-process", dynamodb_endpoint="http://127.0.0.1:4567")
    assert {name: value for name, value in os.environ.items() if name.startswith("AWS_")} == {
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4567",
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://elsewhere:1",  # the template's own value wins
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        **DUMMY_CREDENTIALS,
    }


def test_runtime_functions_get_the_variables_in_their_environment(tmp_path: Path, saved_environment: None) -> None:
    pytest.importorskip("awslambdaric")
    os.environ["AWS_PROFILE"] = "dev"  # real credentials stay the function's
    template = load_template(run_app(tmp_path) / "template.yaml")
    with Store(":memory:") as store:
        _, (invoker,) = build_pipeline(template, store, invoker="runtime", dynamodb_endpoint="http://127.0.0.1:4567")
    try:
        assert invoker.environment == {  # type: ignore[attr-defined]
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://elsewhere:1",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4567",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
        }
    finally:
        invoker.close()  # type: ignore[attr-defined]
    assert os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") is None  # this process is left alone


# -- the template's tables in the store ------------------------------------------------------------------------


def test_template_tables_get_their_indexes_and_no_stream_without_a_specification(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent(
            """\
            Resources:
              Orders:
                Type: AWS::DynamoDB::Table
                Properties:
                  TableName: orders
                  BillingMode: PAY_PER_REQUEST
                  AttributeDefinitions:
                    - {AttributeName: pk, AttributeType: S}
                    - {AttributeName: sk, AttributeType: N}
                    - {AttributeName: status, AttributeType: S}
                  KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
                  GlobalSecondaryIndexes:
                    - IndexName: by-status
                      KeySchema: [{AttributeName: status, KeyType: HASH}]
                      Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [total]}
                  LocalSecondaryIndexes:
                    - IndexName: by-status-local
                      KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: status, KeyType: RANGE}]
                      Projection: {ProjectionType: KEYS_ONLY}
            """
        ),
        encoding="utf-8",
    )
    template = load_template(tmp_path / "template.yaml")
    with Store(":memory:") as store:
        create_tables(template, store)
        create_tables(template, store)  # again: the table is there, with the same key
        table = store.table("orders")
        assert table.stream_enabled is False
        assert table.global_indexes == (IndexSpec("by-status", {"status": "S"}, "INCLUDE", ("total",)),)
        assert table.local_indexes == (IndexSpec("by-status-local", {"pk": "S", "status": "S"}, "KEYS_ONLY"),)
        assert table.extra == template.tables["Orders"].extra


def test_a_mapping_on_a_local_table_whose_stream_is_off_is_a_clear_error(tmp_path: Path) -> None:
    template = load_template(run_app(tmp_path) / "template.yaml")
    with Store(":memory:") as store:
        store.create_table("orders", key_schema={"pk": "S"}, stream_enabled=False)  # e.g. through the endpoint
        with pytest.raises(TemplateError) as info:
            build_pipeline(template, store, invoker="in-process")
    assert info.value.problems == [
        "Resources.Orders: the local table orders has no stream enabled (it was created or changed without one,"
        " through the endpoint?), so mapping OrdersFunction.Stream has nothing to read; enable it (aws dynamodb"
        " update-table --table-name orders --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)"
        " or delete the table"
    ]


def test_client_url_reaches_an_endpoint_on_every_address_through_loopback() -> None:
    class Listening:
        def __init__(self, url: str, port: int) -> None:
            self.url, self.port = url, port

    assert client_url(Listening("http://0.0.0.0:8000", 8000)) == "http://127.0.0.1:8000"  # type: ignore[arg-type]
    assert client_url(Listening("http://[::]:8001", 8001)) == "http://[::1]:8001"  # type: ignore[arg-type]
    assert client_url(Listening("http://127.0.0.1:9", 9)) == "http://127.0.0.1:9"  # type: ignore[arg-type]
