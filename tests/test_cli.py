"""The `shardline` command line, run through its real entry point in a subprocess."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SAM_TEXT = (FIXTURES / "sam-dynamodb-update.json").read_text(encoding="utf-8")
_SCRIPT = Path(sys.executable).parent / ("shardline.exe" if os.name == "nt" else "shardline")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "shardline"]


def run(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict[str, str] | None = None) -> Any:
    environment = {
        key: value for key, value in os.environ.items() if key == "SHARDLINE_PORT" or not key.startswith("SHARDLINE_")
    }
    environment.update(env or {})
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


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


# -- help and version ------------------------------------------------------------------------------


def test_help_lists_the_commands_with_examples() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("generate", "validate", "convert", "filter", "invoke"):
        assert f"  {command}" in result.stdout
    assert "shardline invoke app.lambda_handler --event event.json" in result.stdout


@pytest.mark.parametrize("command", ["generate", "validate", "convert", "filter", "invoke"])
def test_every_command_help_shows_examples(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert "Examples:" in result.stdout
    assert f"shardline {command}" in result.stdout.split("Examples:")[1]


def test_version() -> None:
    result = run("--version")
    assert (result.returncode, result.stdout) == (0, "shardline 0.1.0\n")


def test_usage_errors_exit_2() -> None:
    result = run("generate", "--no-such-option")
    assert result.returncode == 2
    assert "Error: No such option '--no-such-option'" in result.stderr


# -- generate -------------------------------------------------------------------------------------


def test_generate_without_arguments_prints_sams_sample_exactly() -> None:
    result = run("generate")
    assert result.returncode == 0
    assert result.stdout == SAM_TEXT
    assert result.stderr == ""


def test_generate_accepts_sams_options() -> None:
    result = run("generate", "--region", "eu-west-1", "--partition", "aws-cn", "--account-id", "111122223333",
                 "--table", "Orders")  # fmt: skip
    event = json.loads(result.stdout)
    assert {record["awsRegion"] for record in event["Records"]} == {"eu-west-1"}
    arns = {record["eventSourceARN"] for record in event["Records"]}
    assert arns == {"arn:aws-cn:dynamodb:eu-west-1:111122223333:table/Orders/stream/2015-06-27T00:48:05.899"}


def test_generate_from_changes_models_the_table(tmp_path: Path) -> None:
    changes = write(
        tmp_path / "changes.jsonl",
        """
        {"put": {"pk": "order#1", "sk": 1, "status": "NEW", "total": 12.50}}
        {"put": {"pk": "order#1", "sk": 1, "status": "NEW", "total": 12.5}}
        {"update": {"key": {"pk": "order#1", "sk": 1}, "set": {"status": "PAID"}}}

        {"delete": {"pk": "order#2", "sk": 1}}
        {"ttl_delete": {"pk": "order#1", "sk": 1}}
        """,
    )
    result = run("generate", "--changes", str(changes), "--key", "pk:S", "--key", "sk:N")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)["Records"]
    # The identical put and the delete of a missing item write nothing, as in DynamoDB.
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["dynamodb"]["OldImage"]["status"] == {"S": "NEW"}
    assert records[1]["dynamodb"]["NewImage"]["total"] == {"N": "12.5"}
    assert records[2]["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    numbers = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 3


def test_generate_reads_changes_from_standard_input() -> None:
    result = run("generate", "--changes", "-", "--view-type", "KEYS_ONLY", stdin='{"put": {"Id": 7}}\n')
    (record,) = json.loads(result.stdout)["Records"]
    assert set(record["dynamodb"]) == {"ApproximateCreationDateTime", "Keys", "SequenceNumber", "SizeBytes",
                                       "StreamViewType"}  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        ["--count", "30", "--seed", "3"],
        ["--count", "5", "--view-type", "NEW_IMAGE", "--key", "pk:S"],
        ["--count", "5", "--view-type", "OLD_IMAGE"],
        ["--kinesis"],
        ["--count", "4", "--kinesis", "--key", "pk:S", "--key", "sk:N"],
        ["--count", "6", "--window", "60"],
        ["--seed", "9", "--start", "2026-11-27T06:00:00Z"],
    ],
)
def test_generated_events_pass_strict_validation(args: list[str], tmp_path: Path) -> None:
    generated = run("generate", *args)
    assert generated.returncode == 0, generated.stderr
    path = tmp_path / "event.json"
    path.write_text(generated.stdout, encoding="utf-8")
    checked = run("validate", "--strict", str(path))
    assert (checked.returncode, checked.stdout) == (0, f"{path}: valid\n"), checked.stdout


def test_generate_batches_as_json_lines_that_each_validate() -> None:
    result = run("generate", "--count", "25", "--batch-size", "10")
    lines = result.stdout.splitlines()
    assert [len(json.loads(line)["Records"]) for line in lines] == [10, 10, 5]
    for line in lines:
        assert run("validate", "--strict", "-", stdin=line).returncode == 0


def test_generate_is_deterministic_per_seed() -> None:
    first, again, other = (run("generate", "--count", "3", "--seed", seed).stdout for seed in ("1", "1", "2"))
    assert first == again
    assert first != other


def test_generate_kinesis_records_decode(tmp_path: Path) -> None:
    event = json.loads(run("generate", "--kinesis").stdout)
    inner = [json.loads(base64.b64decode(record["kinesis"]["data"])) for record in event["Records"]]
    assert [record["eventName"] for record in inner] == ["INSERT", "MODIFY", "REMOVE"]
    assert {record["tableName"] for record in inner} == {"ExampleTableWithStream"}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            '{"put": {"Id": 1}}\n{"put": ',
            r"Error: changes.jsonl, line 2 is not valid JSON: Expecting value \(column 9\)$",
        ),
        ('{"put": {"Id": 1}}\n[1, 2]\n', r"Error: changes.jsonl, line 2: a change is an object"),
        ('{"put": {"Id": {"N": "1"}}}\n', r"Error: changes.jsonl, line 1: write items in plain JSON"),
        ('{"upsert": {"Id": 1}}\n', r"Error: changes.jsonl, line 1: "),
        ('{"put": {"Message": "no key"}}\n', r"Error: changes.jsonl, line 1: "),
        ('{"put": {"Id": 1.5e400}}\n', r"Error: changes.jsonl, line 1: "),
        ("\n\n", r"Error: changes.jsonl holds no changes"),
    ],
)
def test_generate_reports_bad_changes_in_one_line(tmp_path: Path, lines: str, message: str) -> None:
    (tmp_path / "changes.jsonl").write_text(lines, encoding="utf-8")
    result = run("generate", "--changes", "changes.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) <= 2  # the error, and the hint about --debug at most
    assert __import__("re").match(message, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_generate_writes_that_change_nothing_are_an_error(tmp_path: Path) -> None:
    result = run("generate", "--changes", "-", stdin='{"delete": {"Id": 1}}\n')
    assert (result.returncode, result.stderr) == (
        1,
        "Error: the writes change nothing, so the stream has no record to deliver\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "pk:"], "expected NAME:TYPE with TYPE S, N or B"),
        (["--key", ":S", "--count", "1"], "the attribute name is missing"),
        (["--key", "pk:X"], "expected NAME:TYPE with TYPE S, N or B"),
        (["--key", "a:S", "--key", "b:S", "--key", "c:S"], "a key has at most two attributes"),
        (["--key", "pk:S"], "SAM's sample writes use the key Id:N"),
        (["--count", "2", "--window", "60", "--kinesis"], "--window makes one tumbling-window invoke"),
        (["--count", "0"], "0 is not in the range x>=1"),
    ],
)
def test_generate_usage_errors(args: list[str], message: str) -> None:
    result = run("generate", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_missing_file_is_one_line() -> None:
    result = run("generate", "--changes", "nowhere.jsonl")
    assert (result.returncode, result.stderr) == (1, "Error: nowhere.jsonl: no such file\n")


def test_debug_shows_the_traceback() -> None:
    result = run("--debug", "generate", "--changes", "nowhere.jsonl")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.endswith("Error: nowhere.jsonl: no such file\n")
    assert "Traceback" in run("generate", "--changes", "x", env={"SHARDLINE_DEBUG": "1"}).stderr


# -- validate -------------------------------------------------------------------------------------


def test_validate_accepts_the_fixtures() -> None:
    names = ["sam-dynamodb-update.json", "events-kinesis-dynamodb.json", "events-ttl-delete.json",
             "events-tumbling-window.json", "seed-event.json"]  # fmt: skip
    result = run("validate", *(str(FIXTURES / name) for name in names))
    assert result.returncode == 0, result.stdout
    assert result.stdout.count(": valid\n") == len(names)


def test_validate_strict_flags_the_lenient_cases() -> None:
    result = run("validate", "--strict", str(FIXTURES / "seed-event.json"))
    assert result.returncode == 1
    assert "Records[0].userIdentity" in result.stdout
    assert result.stdout.rstrip().endswith("(strict)")


def test_validate_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    event = json.loads(SAM_TEXT)
    event["Records"][1]["dynamodb"]["SizeBytes"] = 60
    event["Records"][2]["dynamodb"]["OldImage"]["Id"] = {"N": "12abc"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    result = run("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{path}: Records[1].dynamodb.SizeBytes: ") and "59" in line for line in lines)
    assert any(line.startswith(f"{path}: Records[2].dynamodb.OldImage.Id: ") for line in lines)
    assert result.stderr.startswith(f"{len(lines)} problems in 1 of 1 file(s)")


def test_validate_reports_unreadable_files_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    result = run("validate", "broken.json", "missing.json", str(FIXTURES / "sam-dynamodb-update.json"), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("broken.json: is not valid JSON: ")  # the file is named once
    assert lines[1] == "missing.json: no such file"
    assert lines[2].endswith("sam-dynamodb-update.json: valid")


def test_validate_json_output() -> None:
    event = json.loads(SAM_TEXT)
    del event["Records"][0]["eventName"]
    result = run("validate", "--json", "-", stdin=json.dumps(event))
    report = json.loads(result.stdout)
    (problem,) = report["standard input"]
    assert problem["path"] == "Records[0].eventName"
    assert problem["strict_only"] is False


# -- convert --------------------------------------------------------------------------------------


def test_convert_round_trips_an_item_exactly() -> None:
    typed = (
        '{"n": {"N": "0.1000000000000000000000000001"}, "tags": {"SS": ["b", "a"]}, "big": {"N": "1' + "0" * 40 + '"}}'
    )
    plain = run("convert", "-", stdin=typed)
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout, parse_float=str, parse_int=str) == {
        "n": "0.1000000000000000000000000001",
        "tags": ["a", "b"],
        "big": "1" + "0" * 40,
    }
    back = run("convert", "-", "--to", "typed", stdin=plain.stdout)
    assert json.loads(back.stdout)["n"] == {"N": "0.1000000000000000000000000001"}
    assert json.loads(back.stdout)["tags"] == {"L": [{"S": "a"}, {"S": "b"}]}  # plain JSON has no sets


def test_convert_an_event_converts_every_image() -> None:
    result = run("convert", str(FIXTURES / "sam-dynamodb-update.json"))
    records = json.loads(result.stdout)["Records"]
    assert records[1]["dynamodb"]["OldImage"] == {"Message": "New item!", "Id": 101}
    assert records[1]["dynamodb"]["Keys"] == {"Id": 101}
    assert records[1]["eventName"] == "MODIFY"


def test_convert_reports_bad_values_with_their_path() -> None:
    result = run("convert", "-", "--to", "plain", stdin='{"a": {"M": {"b": {"N": "x"}}}}')
    assert result.returncode == 1
    assert result.stderr.startswith("Error: a.b: ")


# -- invoke ---------------------------------------------------------------------------------------

HANDLERS = """
import json, os, sys, threading

def ok(event, context):
    print("handling", len(event["Records"]), "records")
    return {"batchItemFailures": []}

def partial(event, context):
    return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}]}

def empty_identifier(event, context):
    return {"batchItemFailures": [{"itemIdentifier": ""}]}

def unknown_identifier(event, context):
    return {"batchItemFailures": [{"itemIdentifier": 123}]}

def not_an_object(event, context):
    return "done"

def unmarshallable(event, context):
    return {"batchItemFailures": [], "seen": {1, 2}}

def raises(event, context):
    raise ValueError("the order table is gone")

def hangs(event, context):
    threading.Event().wait()

def context_info(event, context):
    print(json.dumps({"name": context.function_name, "memory": context.memory_limit_in_mb,
                      "remaining": context.get_remaining_time_in_millis(), "env": os.environ.get("TABLE"),
                      "region": os.environ.get("AWS_REGION")}), file=sys.stderr)
    return None
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    write(tmp_path / "app.py", HANDLERS)
    (tmp_path / "event.json").write_text(SAM_TEXT, encoding="utf-8")
    return tmp_path


def invoke(code: Path, handler: str, *extra: str) -> Any:
    return run("invoke", handler, "--event", "event.json", *extra, cwd=code)


def test_invoke_success(code: Path) -> None:
    result = invoke(code, "app.ok")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"batchItemFailures": []}
    assert "handling 3 records" in result.stderr  # the function's output goes to stderr, not into the JSON
    assert "complete success: the batch is done" in result.stderr


def test_invoke_partial_failure_explains_the_checkpoint(code: Path) -> None:
    result = invoke(code, "app:partial")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"batchItemFailures": [{"itemIdentifier": "4421584500000000017450439092"}]}
    assert (
        "partial failure: Lambda checkpoints before sequence number 4421584500000000017450439092"
        " and delivers the 2 records from it on again" in result.stderr
    )


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        ("empty_identifier", "batchItemFailures[0].itemIdentifier is empty"),
        ("unknown_identifier", "batchItemFailures[0].itemIdentifier 123 is not a sequence number of the batch"),
        ("not_an_object", "the response is a string, not an object"),
        ("unmarshallable", "Runtime.MarshalError: Unable to marshal response: Object of type set is not JSON"),
    ],
)
def test_invoke_malformed_responses_are_complete_failures(code: Path, handler: str, reason: str) -> None:
    result = invoke(code, f"app.{handler}")
    assert result.returncode == 1
    assert f"complete failure: {reason}" in result.stderr
    assert "Lambda retries the whole batch (3 records)" in result.stderr


def test_invoke_a_raising_handler(code: Path) -> None:
    result = invoke(code, "app.raises")
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "the order table is gone"
    assert "complete failure: the handler raised ValueError: the order table is gone; Lambda retries" in result.stderr


def test_invoke_a_handler_that_times_out(code: Path) -> None:
    result = invoke(code, "app.hangs", "--timeout", "0.2")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "errorMessage": "Task timed out after 0.20 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert "complete failure: the function timed out after 0.2 s; Lambda retries the whole batch" in result.stderr


def test_invoke_gives_a_realistic_context_and_environment(code: Path) -> None:
    write(code / "env.json", '{"Parameters": {"TABLE": "orders"}, "Other": {"TABLE": "no"}}')
    result = invoke(code, "app.context_info", "--env-vars", "env.json", "--memory", "512", "--timeout", "30",
                    "--function-name", "orders-fn", "--region", "eu-west-1")  # fmt: skip
    info = json.loads(next(line for line in result.stderr.splitlines() if line.startswith("{")))
    assert info["name"] == "orders-fn"
    assert info["memory"] == "512"
    assert 25_000 < info["remaining"] <= 30_000
    assert info["env"] == "orders"
    assert info["region"] == "eu-west-1"


def test_invoke_by_file_path(code: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    result = run("invoke", f"{code / 'app.py'}:ok", "--event", str(code / "event.json"), cwd=elsewhere)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("missing.handler", "Error: cannot import handler module 'missing': no such module in "),
        ("app.nothing", "Error: handler 'app.nothing': app has no attribute 'nothing'"),
        ("app", "Error: handler 'app': expected module.function"),
        ("broken.handler", "Error: the handler module failed to import: ZeroDivisionError: division by zero"),
    ],
)
def test_invoke_handler_errors_are_one_line(code: Path, handler: str, message: str) -> None:
    write(code / "broken.py", "x = 1 / 0\n")
    result = invoke(code, handler)
    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_invoke_reports_a_bad_event_file(code: Path) -> None:
    (code / "event.json").write_text("not json", encoding="utf-8")
    result = invoke(code, "app.ok")
    assert (result.returncode, result.stderr) == (
        1,
        "Error: event.json is not valid JSON: Expecting value (line 1, column 1)\n",
    )


def test_invoke_without_partial_responses_ignores_the_response(code: Path) -> None:
    result = invoke(code, "app.partial", "--no-report-batch-item-failures")
    assert result.returncode == 0
    assert "ReportBatchItemFailures is off" in result.stderr


def test_convert_an_array_of_items_and_refuse_what_is_not_an_item() -> None:
    result = run("convert", "-", stdin='[{"a": {"S": "x"}}, {"b": {"BOOL": true}}]')
    assert json.loads(result.stdout) == [{"a": "x"}, {"b": True}]
    refused = run("convert", "-", stdin="[1]")
    assert (refused.returncode, refused.stderr) == (
        1,
        "Error: [0]: expected an item (a JSON object of attributes), got a number\n",
    )


def test_convert_refuses_kinesis_events_with_a_reason() -> None:
    result = run("convert", str(FIXTURES / "events-kinesis-dynamodb.json"))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Records[0]: a Kinesis record keeps its images inside base64 data")


def test_invoke_on_something_that_is_not_a_stream_batch(code: Path) -> None:
    (code / "event.json").write_text('{"hello": "world"}', encoding="utf-8")
    result = invoke(code, "app.context_info")
    assert result.returncode == 0
    assert 'note: the event is not a readable stream batch (Records: the event has no "Records" array' in result.stderr


def test_a_closed_pipe_stops_generate_quietly() -> None:
    reader = subprocess.Popen([*COMMAND, "generate", "--count", "3000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None
    reader.stdout.read(100)
    reader.stdout.close()
    _, error = reader.communicate(timeout=60)
    assert error == b""
    assert reader.returncode == 0  # like `head`'s other writers: the reader had what it wanted


# -- filter ---------------------------------------------------------------------------------------


def test_filter_explains_each_record() -> None:
    pattern = '{"eventName": ["MODIFY", "REMOVE"], "dynamodb": {"OldImage": {"Message": {"S": [{"prefix": "New"}]}}}}'
    result = run("filter", "--pattern", pattern, str(FIXTURES / "sam-dynamodb-update.json"))
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        'Records[0] INSERT 4421584500000000017450439091: dropped: filter 1: eventName is "INSERT", which is not'
        ' ["MODIFY", "REMOVE"]',
        "Records[1] MODIFY 4421584500000000017450439092: passes (filter 1)",
        "Records[2] REMOVE 4421584500000000017450439093: dropped: filter 1: dynamodb.OldImage.Message.S is"
        ' "This item has changed", which is not [{"prefix": "New"}]',
    ]
    assert result.stderr == "1 of 3 records pass 1 filter(s)\n"


def test_filter_writes_the_filtered_event(tmp_path: Path) -> None:
    criteria = {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}, {"Pattern": {"eventName": ["REMOVE"]}}]}
    (tmp_path / "criteria.json").write_text(json.dumps(criteria), encoding="utf-8")
    result = run(
        "filter", "--filters", "criteria.json", "--output", "out.json", "-q", "-", stdin=SAM_TEXT, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    kept = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [record["eventName"] for record in kept["Records"]] == ["INSERT", "REMOVE"]


def test_filter_invalid_pattern_exits_1_with_aws_message() -> None:
    result = run("filter", "--pattern", '{"a": [{"wildcard": "x*"}]}', str(FIXTURES / "sam-dynamodb-update.json"))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: Invalid filter pattern definition. In filter 1, a[0].wildcard: the 'wildcard' operator is not"
        " supported by Lambda event filtering\n"
    )


def test_filter_warns_about_repeated_keys_and_needs_a_pattern() -> None:
    result = run("filter", "--pattern", '{"eventName": ["INSERT"], "eventName": ["MODIFY"]}', "--output", "-",
                 str(FIXTURES / "sam-dynamodb-update.json"))  # fmt: skip
    assert "warning: filter 1 repeats the key 'eventName'; as on AWS, the last one wins" in result.stderr
    assert [record["eventName"] for record in json.loads(result.stdout)["Records"]] == ["MODIFY"]
    missing = run("filter", str(FIXTURES / "sam-dynamodb-update.json"))
    assert missing.returncode == 2
    assert "give at least one --pattern or a --filters file" in missing.stderr


# -- hardening: bounded, typed input; one error line; one exit-status rule ------------------------------------


def run_bytes(*args: str, stdin: bytes, cwd: Path | None = None) -> Any:
    environment = {
        key: value for key, value in os.environ.items() if key == "SHARDLINE_PORT" or not key.startswith("SHARDLINE_")
    }
    return subprocess.run([*COMMAND, *args], check=False, input=stdin, capture_output=True, cwd=cwd,
                          env=environment, timeout=60)  # fmt: skip


def in_process(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """The real ``main`` in this process, its streams swapped (for what a subprocess cannot pass, like NUL)."""
    from click.testing import CliRunner

    from shardline.cli import main

    environment = dict(os.environ)
    code: Any = 0
    try:
        with CliRunner().isolation(input=stdin, env={"SHARDLINE_DEBUG": None}) as (out, err, _):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        os.environ.clear()
        os.environ.update(environment)
    return code, out.getvalue().decode(), err.getvalue().decode()


DIGITS = "9" * 5000
DIGIT_LIMIT = (
    "an integer has more digits than Python converts (4300); no DynamoDB number or Lambda event field needs that many"
)


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["generate", "--changes", "-"], f'{{"put": {{"Id": {DIGITS}}}}}', f"standard input, line 1: {DIGIT_LIMIT}"),
        (["convert", "-"], f'{{"n": {DIGITS}}}', f"standard input: {DIGIT_LIMIT}"),
        (["invoke", "app.ok", "--event", "-"], f'{{"Records": [{DIGITS}]}}', f"standard input: {DIGIT_LIMIT}"),
        (["invoke", "app.ok", "--event", "-"], "[" * 100_000 + "]" * 100_000,
         "standard input: nested too deeply to read (more than the interpreter's recursion limit)"),
        (["generate", "--changes", "-"], '{"put": {"Id": 1, "n": ' + "[" * 100 + "]" * 100 + "}}",
         "standard input, line 1: the change is nested more than 40 levels deep; DynamoDB items nest at most 32"
         " levels"),
    ],
)  # fmt: skip
def test_numbers_and_nesting_past_the_bounds_are_one_error_line(
    code: Path, args: list[str], stdin: str, expected: str
) -> None:
    result = run(*args, stdin=stdin, cwd=code)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"Error: {expected}\n")


@pytest.mark.parametrize("args", [["convert", "-"], ["generate", "--changes", "-"], ["validate", "-"]])
def test_invalid_utf8_on_standard_input_reads_as_from_a_file(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "bad.json").write_bytes(b'\xff{"Id": 1}')
    from_stdin = run_bytes(*args, stdin=b'\xff{"Id": 1}', cwd=tmp_path)
    from_file = run_bytes(*[arg if arg != "-" else "bad.json" for arg in args], stdin=b"", cwd=tmp_path)
    message = "not UTF-8 text (invalid start byte at byte 0)"
    assert f"standard input: {message}".encode() in from_stdin.stdout + from_stdin.stderr
    assert f"bad.json: {message}".encode() in from_file.stdout + from_file.stderr
    assert from_stdin.returncode == from_file.returncode == 1
    assert b"Traceback" not in from_stdin.stderr


@pytest.mark.parametrize("args", [["invoke", "app.ok", "--event"], ["generate", "--changes"]])
def test_an_endless_input_stops_at_the_bound(code: Path, args: list[str]) -> None:
    result = run(*args, "/dev/zero", cwd=code)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: /dev/zero is larger than 64.0 MB, the most shardline reads as one input (a Lambda event is at most"
        " 6.0 MB); split it into smaller files\n"
    )


def test_the_bounded_reader_reads_at_most_one_byte_past_the_limit(tmp_path: Path) -> None:
    from shardline.cli._io import CLIError, read_bytes, read_text

    (tmp_path / "ten").write_bytes(b"0123456789")
    assert read_bytes(str(tmp_path / "ten"), limit=10) == b"0123456789"
    with pytest.raises(CLIError, match=r"^.*/ten is larger than 9 bytes, the most shardline reads as one input"):
        read_bytes(str(tmp_path / "ten"), limit=9)
    with pytest.raises(CLIError, match=r"^'a\\x00b': a file name cannot hold a NUL character$"):
        read_text("a\x00b")
    with pytest.raises(CLIError, match=r"^x\\ud800: not a file name this system can open$"):
        read_text("x\ud800")


def test_generate_streams_any_count_and_stops_when_the_reader_goes() -> None:
    reader = subprocess.Popen([*COMMAND, "generate", "--count", "100000000"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)  # fmt: skip
    assert reader.stdout is not None
    head = reader.stdout.read(2000)
    reader.stdout.close()
    _, error = reader.communicate(timeout=30)  # printing began at once; nothing waits for 10**8 items
    assert head.startswith(b'{\n  "Records": [\n    {\n      "eventID": ')
    assert (reader.returncode, error) == (0, b"")


@pytest.mark.parametrize("extra", [[], ["--compact"], ["--kinesis"]])
def test_the_streamed_event_is_the_event_written_at_once(extra: list[str]) -> None:
    from decimal import Decimal

    from shardline._json import json_dumps

    status, stdout, stderr = in_process("generate", "--count", "4", "--seed", "3", *extra)
    assert (status, stderr) == (0, "")
    # Records hold no fractions but the Kinesis form's arrival time, a float: read floats as floats to compare.
    event = json.loads(stdout, parse_float=Decimal if "--kinesis" not in extra else float)
    assert len(event["Records"]) == 4
    compact = "--compact" in extra
    assert stdout == (json_dumps(event, separators=(",", ":")) if compact else json_dumps(event, indent=2)) + "\n"


def test_generate_warns_about_events_lambda_would_never_deliver(monkeypatch: pytest.MonkeyPatch) -> None:
    from shardline.cli import generate

    monkeypatch.setattr(generate, "MAX_BATCH_RECORDS", 2)
    monkeypatch.setattr(generate, "LAMBDA_PAYLOAD_LIMIT", 4000)
    status, stdout, stderr = in_process("generate", "--count", "3")
    assert status == 0
    assert len(json.loads(stdout)["Records"]) == 3  # written all the same
    assert sorted(stderr.splitlines()) == [  # each once, as soon as the event passes the limit
        "warning: the event holds more than 2 records, the most Lambda delivers in one invoke (BatchSize's maximum):"
        " add --batch-size to split it into events Lambda can deliver",
        "warning: the event is larger than 4,000 bytes, the most a Lambda invoke carries, so Lambda would never"
        " deliver it: add --batch-size to split it into events Lambda can deliver",
    ]
    status, stdout, stderr = in_process("generate", "--count", "3", "--batch-size", "2")
    sizes = [len(line) for line in stdout.splitlines()]
    assert [len(json.loads(line)["Records"]) for line in stdout.splitlines()] == [2, 1]
    monkeypatch.setattr(generate, "LAMBDA_PAYLOAD_LIMIT", sizes[0] - 1)  # the first event passes it, the second not
    status, stdout, stderr = in_process("generate", "--count", "3", "--batch-size", "2")
    assert stderr == (
        f"warning: event 1 is larger than {sizes[0] - 1:,} bytes, the most a Lambda invoke carries, so Lambda would"
        " never deliver it: use a smaller --batch-size\n"
    )


def test_generate_keeps_memory_bounded_whatever_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import tracemalloc

    class Sink(io.TextIOBase):  # the output itself is not kept: only what generate holds is measured
        def write(self, text: str) -> int:
            return len(text)

    monkeypatch.setattr(sys, "stdout", Sink())
    from shardline.cli.generate import generate

    def peak(count: int) -> int:
        tracemalloc.start()
        try:
            generate.main(["--count", str(count), "--batch-size", "20"], standalone_mode=False)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(5)  # imports and caches first

    small, large = peak(40), peak(600)
    assert large < 3 * small  # fifteen times the items; the model and the pending records stay bounded


def test_generate_infers_a_key_type_left_out() -> None:
    status, stdout, stderr = in_process("generate", "--count", "2", "--key", "id")
    assert status == 0
    assert re.fullmatch(r"order#\d{6}", json.loads(stdout)["Records"][0]["dynamodb"]["Keys"]["id"]["S"])
    assert stderr == "note: --key id is S, as --count's synthetic items write it\n"
    writes = b'{"delete": {"pk": "a", "sk": 1}}\n{"put": {"pk": "a", "sk": 1}}\n'
    status, stdout, stderr = in_process("generate", "--changes", "-", "--key", "pk", "--key", "sk", stdin=writes)
    assert status == 0
    assert json.loads(stdout)["Records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert stderr.splitlines() == [
        "note: --key pk is S, inferred from standard input, line 1",
        "note: --key sk is N, inferred from standard input, line 1",
    ]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('{"put": {"Id": 1}}\n', "--key pk: no write in standard input holds pk, so its type cannot be inferred;"
                                 " give it, e.g. --key pk:S (text), pk:N (number) or pk:B (binary)"),
        ('{"put": {"pk": [1]}}\n', "standard input, line 1: the key attribute 'pk' holds an array; a key is text (S), a"
                                   " number (N) or binary (B)"),
        ('{"put": {"pk": 7}}\n{"put": {"pk": "a"}}\n',
         "standard input, line 2: pk: the partition key must be of type N (key schema), got S"),
    ],
)  # fmt: skip
def test_generate_says_when_a_key_type_cannot_be_inferred(lines: str, expected: str) -> None:
    assert in_process("generate", "--changes", "-", "--key", "pk", stdin=lines.encode()) == (
        1,
        "",
        f"Error: {expected}\n",
    )


def test_table_create_still_needs_every_key_type() -> None:
    import click

    from shardline.cli.generate import _key_schema

    assert _key_schema(("pk:S", "sk:n")) == {"pk": "S", "sk": "N"}
    with pytest.raises(click.UsageError, match=r"^--key 'pk': expected NAME:TYPE with TYPE S, N or B \(like pk:S\)$"):
        _key_schema(("pk",))


def test_json_lines_end_only_at_line_feeds() -> None:
    # U+2028 and U+0085 may stand unescaped in JSON text; str.splitlines would cut the line there.
    status, stdout, _ = in_process(
        "generate", "--changes", "-", stdin='{"put": {"Id": 1, "s": "a\u2028b\x85c"}}\n'.encode()
    )
    assert status == 0
    assert json.loads(stdout)["Records"][0]["dynamodb"]["NewImage"]["s"] == {"S": "a\u2028b\x85c"}


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["generate", "--changes", "missing.jsonl"], 1),
        (["invoke", "app.ok", "--event", "missing.json"], 1),
        (["invoke", "app.ok", "--event", "event.json", "--env-vars", "missing.json"], 1),
        (["invoke", "app.ok", "--event", "event.json", "--code-dir", "missing"], 1),
        (["invoke", "app.ok"], 2),
        (["invoke"], 2),
        (["generate", "--bogus"], 2),
        (["generate", "--table", "x"], 2),
        (["generate", "--count", "1", "--start", "yesterday"], 2),
        (["generate", "--count", "1", "--window", "60", "--batch-size", "2"], 2),
        (["no-such-command"], 2),
    ],
)
def test_one_exit_status_rule(code: Path, args: list[str], status: int) -> None:
    result = run(*args, cwd=code)
    assert result.returncode == status, result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: ")
    assert "Traceback" not in result.stderr


def test_the_exit_status_rule_is_in_the_help() -> None:
    text = run("--help").stdout
    assert "Exit status, the same for every command:" in text
    assert "1    the work failed or its input is bad" in text
    assert "2    the command line is wrong" in text


@pytest.mark.parametrize(
    ("result", "verdict", "payload"),
    [
        ("deep_list(5000)", "complete failure: Runtime.MarshalError: Unable to marshal response: maximum recursion",
         {"errorType": "Runtime.MarshalError"}),
        ("'x' * (7 * 1024 * 1024)", "complete failure: Function.ResponseSizeTooLarge: Response payload size (7340034"
         " bytes) exceeded maximum allowed payload size (6291456 bytes).",
         {"errorType": "Function.ResponseSizeTooLarge"}),
        ("raise_(BrokenStr())", "complete failure: the handler raised BrokenStr: <the exception's str() raised>",
         {"errorType": "BrokenStr", "errorMessage": "<the exception's str() raised>"}),
        ("raise_(SystemExit(3))", "complete failure: the runtime exited (SystemExit: 3): Runtime.ExitError",
         {"errorType": "Runtime.ExitError"}),
        ("raise_(GeneratorExit())", "complete failure: the runtime exited (GeneratorExit): Runtime.ExitError",
         {"errorType": "Runtime.ExitError"}),
    ],
)  # fmt: skip
def test_invoke_odd_handler_outcomes_are_function_errors(
    code: Path, result: str, verdict: str, payload: dict[str, str]
) -> None:
    write(
        code / "odd.py",
        f"""
    class BrokenStr(Exception):
        def __str__(self):
            raise RuntimeError("no")

    def raise_(exc):
        raise exc

    def deep_list(depth):
        value = []
        for _ in range(depth):
            value = [value]
        return value

    def handler(event, context):
        return {result}
    """,
    )
    outcome = invoke(code, "odd.handler")
    assert outcome.returncode == 1
    assert verdict in outcome.stderr
    assert json.loads(outcome.stdout).items() >= payload.items()
    assert not any(line.startswith("Error: ") for line in outcome.stderr.splitlines())


BAD_NAME = "an environment variable's name is not empty and holds no '=' or NUL character"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ('{"Parameters": {"TABLE": "a\\u0000b"}}', "Parameters.TABLE: an environment variable cannot hold a NUL"
                                                    " character"),
        ('{"Parameters": {"A=B": "x"}}', f"Parameters.A=B: {BAD_NAME}"),
        ('{"Parameters": {"\\r=": "x"}}', f'Parameters."\\r=": {BAD_NAME}'),
        ('{"Parameters": ["TABLE"]}', 'Parameters must map variable names to values, like {"TABLE": "orders"}'),
        ('{"Parameters": {"TABLE": "\\ud800"}}', "Parameters.TABLE: holds characters that are not UTF-8 text (a lone"
                                                 " surrogate)"),
    ],
)  # fmt: skip
def test_invoke_refuses_env_vars_an_environment_cannot_hold(code: Path, env: str, expected: str) -> None:
    (code / "env.json").write_text(env, encoding="utf-8")
    result = invoke(code, "app.context_info", "--env-vars", "env.json")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"Error: env.json: {expected}\n")


@pytest.mark.parametrize(
    ("value", "text"), [("1.50", "1.5"), ("true", "true"), ("[1, 2.5]", "[1, 2.5]"), ("null", "null")]
)
def test_invoke_env_var_values_that_are_not_text_become_their_json(code: Path, value: str, text: str) -> None:
    (code / "env.json").write_text(f'{{"Parameters": {{"TABLE": {value}}}}}', encoding="utf-8")
    result = invoke(code, "app.context_info", "--env-vars", "env.json")
    info = json.loads(next(line for line in result.stderr.splitlines() if line.startswith("{")))
    assert info["env"] == text


def test_invoke_refuses_names_an_environment_cannot_hold(code: Path) -> None:
    status, stdout, stderr = in_process("invoke", "app.ok", "--event", str(code / "event.json"), "--code-dir",
                                        str(code), "--function-name", "a\x00b")  # fmt: skip
    assert (status, stdout) == (2, "")
    assert stderr.splitlines()[-1] == "Error: Invalid value for '--function-name': a NUL character cannot be part of it"


def test_invoke_notes_an_event_larger_than_lambda_delivers(code: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shardline.cli import invoke as command

    monkeypatch.setattr(command, "LAMBDA_PAYLOAD_LIMIT", 1000)
    status, _, stderr = in_process("invoke", "app.ok", "--event", str(code / "event.json"), "--code-dir", str(code))
    assert status == 0
    size = (code / "event.json").stat().st_size
    assert stderr.startswith(
        f"note: the event is {size:,} bytes; a Lambda invoke carries at most 1,000 bytes, so Lambda would never"
        " deliver it\n"
    )


def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from shardline.cli import generate

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(generate, "_write_one_event", interrupted)
    assert in_process("generate", "--count", "1") == (130, "", "\nInterrupted.\n")
