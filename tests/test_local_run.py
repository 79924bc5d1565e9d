"""`shardline run` and `shardline demo`, through the real entry point.

The walkthrough of docs/local/pipeline.md (the template, the handler, the writes, the failing run, the redrive) runs
as that page: the docs runner executes its blocks and compares the output it shows.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
_SCRIPT = Path(sys.executable).parent / "shardline"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "shardline"]

pytest.importorskip("awslambdaric")


def run(*args: str, cwd: Path, timeout: float = 120) -> Any:
    environment = {
        key: value for key, value in os.environ.items() if key == "SHARDLINE_PORT" or not key.startswith("SHARDLINE_")
    }
    return subprocess.run(
        [*COMMAND, *args], check=False, capture_output=True, text=True, cwd=cwd, env=environment, timeout=timeout
    )


# The walkthrough that was here (the README's, run verbatim) is docs/local/pipeline.md now, and the docs runner runs
# it: the page shows the failing run's invoke lines (2 records, then 1 record attempts 1 to 3, each a partial failure),
# the destination line (RetryAttemptsExhausted after 3 invokes), the summary counts, the last line and its exit status
# 1, and a third run with no invocations and exit status 0, and the runner compares all of them.


def test_run_reports_template_problems_in_one_error(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.h\n"
        "      Runtime: nodejs20.x\n      Events:\n        S:\n          Type: DynamoDB\n          Properties:\n"
        "            Stream: arn:aws:dynamodb:us-east-1:1:table/x/stream/y\n            StartingPosition: LATEST\n",
        encoding="utf-8",
    )
    result = run("run", "--until-idle", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "nodejs20.x" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_without_a_template_says_so(tmp_path: Path) -> None:
    result = run("run", "--until-idle", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "template" in result.stderr


def test_the_demo_explains_the_pipeline() -> None:
    result = run("demo", cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "BillingFunction.OrderStream: 6 records read, 1 filtered out, 4 delivered, 1 sent to the destination," in out
    assert "AuditFunction.OrderStream: 6 records read, 0 filtered out, 5 delivered, 1 sent to the destination," in out
    assert ", 3 bisects," in out
    assert "partial failure: 2 reported" in out
    assert "-> destination: RetryAttemptsExhausted, 1 record(s)" in out
    assert "5. On-failure destination: 2 record(s); the first one:" in out
    assert '"condition": "RetryAttemptsExhausted"' in out


def test_the_demo_in_process_and_kept(tmp_path: Path) -> None:
    result = run("demo", "--invoker", "in-process", "--keep", str(tmp_path / "app"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "app" / "template.yaml").is_file()
    assert (tmp_path / "app" / "billing.py").is_file()
    assert "5. On-failure destination: 2 record(s)" in result.stdout


# -- issue 12: stopping, failing for good, and what a new user tripped on -----------------------------------

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}]
      KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
      StreamSpecification: {{StreamViewType: NEW_AND_OLD_IMAGES}}
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: {handler}
      Runtime: python3.12
      Timeout: 60
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON{settings}
"""


def app(tmp_path: Path, source: str, *, handler: str = "app.handler", settings: str = "") -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(handler=handler, settings=settings), encoding="utf-8")
    (tmp_path / "app.py").write_text(textwrap.dedent(source), encoding="utf-8")
    put = run("table", "put", "orders", '{"pk": "order#1"}', cwd=tmp_path)
    assert put.returncode == 1  # no table yet: `run` creates it
    first = run("run", "--until-idle", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert run("table", "put", "orders", '{"pk": "order#1"}', cwd=tmp_path).returncode == 0
    return tmp_path


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    environment = {
        key: value for key, value in os.environ.items() if key == "SHARDLINE_PORT" or not key.startswith("SHARDLINE_")
    }
    return subprocess.Popen(
        [*COMMAND, *args], cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_line(process: subprocess.Popen[str], pattern: str, timeout: float = 60) -> list[str]:
    """Read stderr until a line matches ``pattern`` (at most ``timeout`` seconds); the lines read so far."""
    assert process.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in iter(process.stderr.readline, ""):
            lines.put(line.rstrip("\n"))
            if re.search(pattern, line):
                break
        else:
            lines.put(None)  # the end of the output

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            process.kill()
            raise AssertionError(f"no line matching {pattern!r} within {timeout} s: {seen}") from None
        if line is None:
            raise AssertionError(f"the process ended without a line matching {pattern!r}: {seen}")
        seen.append(line)
        if re.search(pattern, line):
            return seen


def test_sigterm_stops_until_idle_in_a_retry_loop(tmp_path: Path) -> None:
    # Infinite retries (the default) and a handler that always fails: without a stop, a day of backoff.
    app(
        tmp_path,
        """
        import os
        def handler(event, context):
            with open("pids", "a") as pids:
                pids.write(f"{os.getpid()}\\n")
            raise RuntimeError("always")
        """,
    )
    process = start("run", "--until-idle", cwd=tmp_path)
    wait_for_line(process, r"attempt 1: function error RuntimeError: always")
    process.send_signal(signal.SIGTERM)  # now in the one-second backoff before attempt 2
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 143
    lines = rest.splitlines()
    assert lines[-1] == "stopped by SIGTERM: checkpoints are saved; run again to continue"
    summary = json.loads(lines[-2].removeprefix("summary: "))
    assert summary["invocations"] >= 1
    assert summary["delivered"] == 0
    for pid in {int(line) for line in (tmp_path / "pids").read_text().split()}:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the runtime process was stopped with the run


@pytest.mark.parametrize("invoker", ["runtime", "in-process"])
def test_a_stop_does_not_wait_for_a_stuck_handler(tmp_path: Path, invoker: str) -> None:
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)
    app(
        tmp_path,
        f"""
        import os, sys
        def handler(event, context):
            with open("pids", "a") as pids:
                pids.write(f"{{os.getpid()}}\\n")
            print("handler started", file=sys.stderr, flush=True)
            with open({str(fifo)!r}) as gate:  # nobody ever writes: stuck for the function's 60 s timeout
                gate.read()
        """,
    )
    process = start("run", "--invoker", invoker, cwd=tmp_path)  # serving: no --until-idle
    wait_for_line(process, r"handler started")
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=30)
    assert process.returncode == 130
    assert rest.splitlines()[-1] == "stopped by SIGINT: checkpoints are saved; run again to continue"
    if invoker == "runtime":
        (pid,) = {int(line) for line in (tmp_path / "pids").read_text().split()}
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    # Nothing was checkpointed: the record is delivered again by the next run.
    again = start("run", "--invoker", invoker, cwd=tmp_path)
    wait_for_line(again, r"handler started")
    again.send_signal(signal.SIGTERM)
    again.communicate(timeout=30)
    assert again.returncode == 143


def test_until_idle_exits_1_when_a_record_failed_for_good(tmp_path: Path) -> None:
    app(
        tmp_path,
        """
        def handler(event, context):
            raise GeneratorExit("not an Exception: awslambdaric dies of it")
        """,
        settings="\n            MaximumRetryAttempts: 1",
    )
    for invoker in ("in-process", "runtime"):
        if invoker == "runtime":
            assert run("table", "put", "orders", '{"pk": "order#2"}', cwd=tmp_path).returncode == 0
        result = run("run", "--until-idle", "--invoker", invoker, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.splitlines()
        assert lines[-1] == "failed: 1 record went to the on-failure destination (exit status 1)"
        attempts = [line for line in lines if "function error Runtime.ExitError" in line]
        assert len(attempts) == 2, lines  # one retry, then the destination: no crash of the run
        assert "Traceback" not in result.stderr.split("summary: ")[-1]


def test_a_handler_module_that_does_not_exist_is_found_at_start_up(tmp_path: Path) -> None:
    app(tmp_path, "def handler(event, context):\n    return None\n")
    (tmp_path / "template.yaml").write_text(
        TEMPLATE.format(handler="orders_consumer.handler", settings=""), encoding="utf-8"
    )
    result = run("run", "--until-idle", cwd=tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()  # one clear line, before anything runs
    assert re.fullmatch(
        r"Error: .*Resources\.OrdersFunction\.Properties\.Handler: no module 'orders_consumer' in \S+"
        r" \(looked for orders_consumer\.py\); fix the Handler or the function's CodeUri",
        line,
    ), line


def test_the_settings_line_lists_what_differs_from_aws_defaults(tmp_path: Path) -> None:
    app(
        tmp_path,
        "def handler(event, context):\n    return None\n",
        settings="\n            MaximumRetryAttempts: 2\n            FunctionResponseTypes: [ReportBatchItemFailures]",
    )
    result = run("run", "--until-idle", cwd=tmp_path)  # not on a terminal: 80 columns
    assert result.returncode == 0, result.stderr
    head = list(itertools.takewhile(lambda line: line.startswith(("mapping ", "    ")), result.stderr.splitlines()))
    assert all(len(line) < 80 for line in head)
    assert len(head) > 1  # wrapped between words (names are not cut), the rest indented
    assert all(line.startswith("    ") for line in head[1:])
    assert re.fullmatch(
        r"mapping OrdersFunction\.Stream: table orders -> \S+-OrdersFunction"
        r" \(MaximumRetryAttempts=2, FunctionResponseTypes=ReportBatchItemFailures\)",
        " ".join(line.strip() for line in head),
    ), head


def test_a_destination_on_aws_is_named_before_anything_runs(tmp_path: Path) -> None:
    # boto3 would send on-failure records to the real queue with the user's credentials: `run` says so at start-up.
    arn = "arn:aws:sqs:us-east-1:123456789012:orders-failures"
    destination = f"\n            DestinationConfig:\n              OnFailure:\n                Destination: {arn}"
    app(tmp_path, "def handler(event, context):\n    return None\n", settings=destination)
    result = run("run", "--until-idle", "--port", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        f"    on-failure records go to {arn} on AWS (--endpoint-url sends them elsewhere)" in result.stderr.splitlines()
    )
    elsewhere = run("run", "--until-idle", "--port", "0", "--endpoint-url", "http://127.0.0.1:9", cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "on-failure records go to" not in elsewhere.stderr


def test_the_demo_names_no_file_it_deletes(tmp_path: Path) -> None:
    result = run("demo", "--invoker", "in-process", cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    for path in re.findall(r"(/\S*shardline-demo-\S*)", result.stdout):
        assert Path(path.rstrip(":.")).exists(), f"the demo shows {path}, which it deleted"
    assert "functions.log" not in result.stdout.replace("DIR/functions.log", "")
    assert "output is left out: run with --keep DIR to find it in DIR/functions.log" in result.stdout


def test_a_stop_is_held_back_while_the_live_table_is_drawn() -> None:
    from shardline.cli.run import StopSignals

    stop = StopSignals()
    drawn = []

    def redraw() -> None:
        with stop.deferred():
            stop._handle(signal.SIGTERM, None)  # not raised here, as the signal arrives mid-redraw...
            drawn.append(True)

    with pytest.raises(KeyboardInterrupt):  # ...but once the redraw is complete
        redraw()
    assert drawn == [True]
    assert stop.requested()
    assert stop.status == 143
    assert stop.name == "SIGTERM"


def test_handlers_are_looked_for_as_the_runtime_will_import_them(tmp_path: Path) -> None:
    from shardline.local import FunctionSpec, TemplateError
    from shardline.local._runner import check_handler

    (tmp_path / "functions" / "orders").mkdir(parents=True)
    (tmp_path / "functions" / "orders" / "app.py").write_text("def handler(event, context): pass\n")

    def spec(handler: str) -> FunctionSpec:
        return FunctionSpec(
            logical_id="F",
            function_name="f",
            handler=handler,
            code_dir=tmp_path,
            runtime="python3.12",
            timeout=3.0,
            memory_size=128,
            environment={},
        )

    check_handler(spec("functions/orders/app.handler"))  # SAM's folder/module.function
    check_handler(spec("functions.orders.app.handler"))  # a package path
    check_handler(spec("json.handler"))  # installed with the interpreter: the runtime can import it too
    with pytest.raises(TemplateError, match=r"Handler: no module 'functions\.orders\.missing' in .* \(looked for"):
        check_handler(spec("functions.orders.missing.handler"))
    with pytest.raises(TemplateError, match=r"Handler: 'handler' is not module\.function \(for example"):
        check_handler(spec("handler"))
