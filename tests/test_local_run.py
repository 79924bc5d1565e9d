"""`shardline run` and `shardline demo`, through the real entry point; the README walkthrough, verbatim."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
_SCRIPT = Path(sys.executable).parent / "shardline"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "shardline"]

pytest.importorskip("awslambdaric")


def run(*args: str, cwd: Path, timeout: float = 120) -> Any:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SHARDLINE_")}
    return subprocess.run(
        [*COMMAND, *args], check=False, capture_output=True, text=True, cwd=cwd, env=environment, timeout=timeout
    )


def walkthrough() -> tuple[str, str, list[list[str]]]:
    section = README.split("## The whole pipeline on your machine: `shardline run`", 1)[1].split("\n## ", 1)[0]
    template = re.search(r"```yaml\n# template.yaml\n(.*?)```", section, flags=re.DOTALL)
    handler = re.search(r"```python\n# app.py\n(.*?)```", section, flags=re.DOTALL)
    commands = re.search(r"Then, in that folder:\n\n```bash\n(.*?)```", section, flags=re.DOTALL)
    assert template, "the README walkthrough lost its template"
    assert handler, "the README walkthrough lost its handler"
    assert commands, "the README walkthrough lost its commands"
    lines = []
    for line in commands.group(1).splitlines():
        text = line.split("  #", 1)[0].strip()
        assert text.startswith("shardline ")
        lines.append(_split(text)[1:])
    return template.group(1), handler.group(1), lines


def _split(text: str) -> list[str]:
    import shlex

    return shlex.split(text)


def test_the_readme_walkthrough_runs_verbatim(tmp_path: Path) -> None:
    template, handler, commands = walkthrough()
    (tmp_path / "template.yaml").write_text(template, encoding="utf-8")
    (tmp_path / "app.py").write_text(handler, encoding="utf-8")
    results = [run(*args, cwd=tmp_path) for args in commands]
    for result in results:
        assert result.returncode == 0, result.stderr
    first, last = results[0], results[-1]
    assert '"invocations": 0' in first.stderr
    lines = last.stderr.splitlines()
    invokes = [line for line in lines if re.match(r"\d\d:\d\d:\d\d OrdersFunction\.Stream ", line)]
    assert [line.split(": ", 1)[1].split(" (")[0] for line in invokes] == ["partial failure: 1 reported"] * 4
    assert [line.split(" ", 3)[3].split(":")[0] for line in invokes] == [
        "2 records, attempt 1",
        "1 record, attempt 1",
        "1 record, attempt 2",
        "1 record, attempt 3",
    ]
    (destination,) = [line for line in lines if "-> destination:" in line]
    assert "RetryAttemptsExhausted, 1 record(s)" in destination
    assert destination.endswith("after 3 invoke(s)")
    summary = json.loads(next(line for line in lines if line.startswith("summary: ")).removeprefix("summary: "))
    assert summary == {
        "invocations": 4,
        "records_in": 2,
        "delivered": 1,
        "filtered": 0,
        "failed": 1,
        "retries": 2,
        "bisects": 0,
        "destination_records": 1,
    }
    # Run again: the checkpoints hold, nothing is delivered twice.
    again = run("run", "--until-idle", "--plain", cwd=tmp_path)
    assert '"invocations": 0' in again.stderr


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
