"""The `shardline` command line, run through its real entry point in a subprocess."""

from __future__ import annotations

import base64
import json
import os
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
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SHARDLINE_")}
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
            r"Error: changes.jsonl is not valid JSON: Expecting value \(line 1, column 9\)",
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
        (["--key", "pk"], "expected NAME:TYPE with TYPE S, N or B"),
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
    assert lines[0].startswith("broken.json: broken.json is not valid JSON: ")
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
        " and delivers its 2 records" in result.stderr
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
