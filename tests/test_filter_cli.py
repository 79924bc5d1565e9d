"""`shardline filter` on odd input: lone surrogates, arrays of maps, numbers out of range, values JSON cannot hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

_SCRIPT = Path(sys.executable).parent / ("shardline.exe" if os.name == "nt" else "shardline")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "shardline"]


def run(*args: str, cwd: Path) -> Any:
    environment = {
        key: value for key, value in os.environ.items() if key == "SHARDLINE_PORT" or not key.startswith("SHARDLINE_")
    }
    environment["PYTHONIOENCODING"] = "utf-8"  # a UTF-8 terminal, where a lone surrogate cannot be written
    return subprocess.run(
        [*COMMAND, *args], check=False, capture_output=True, text=True, cwd=cwd, env=environment, timeout=60
    )


def event(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


LINES = {"L": [{"M": {"sku": {"S": "A-1"}}}, {"M": {"sku": {"S": "B-2"}, "gift": {"BOOL": True}}}]}


def test_lone_surrogates_in_patterns_and_records_are_printed_escaped(tmp_path: Path) -> None:
    # JSON escapes give Python strings holding lone surrogates; the report shows them as escapes.
    criteria = {"Filters": [{"Pattern": '{"eventName": ["\\ud800"], "x\\udc00": [{"exists": false}]}'}]}
    (tmp_path / "criteria.json").write_text(json.dumps(criteria), encoding="utf-8")
    (tmp_path / "event.json").write_text(
        '{"Records": [{"eventName": "\\udfff"}, {"eventName": "\\ud800", "x\\udc00": 1}]}', encoding="utf-8"
    )
    result = run("filter", "--filters", "criteria.json", "--output", "out.json", "event.json", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "0 of 2 records pass 1 filter(s)\n")
    assert result.stdout.splitlines() == [
        'Records[0] \\udfff: dropped: filter 1: eventName is "\\udfff", which is not ["\\ud800"]',
        'Records[1] \\ud800: dropped: filter 1: ["x\\udc00"] is 1, which is not [{"exists": false}]',
    ]
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8")) == {"Records": []}


def test_fields_of_a_list_of_maps_match_in_one_element(tmp_path: Path) -> None:
    image = {"dynamodb": {"NewImage": {"lines": LINES}}}
    (tmp_path / "event.json").write_text(event(image), encoding="utf-8")
    same = '{"dynamodb": {"NewImage": {"lines": {"L": {"M": {"sku": {"S": ["B-2"]}, "gift": {"BOOL": [true]}}}}}}}'
    other = '{"dynamodb": {"NewImage": {"lines": {"L": {"M": {"sku": {"S": ["A-1"]}, "gift": {"BOOL": [true]}}}}}}}'
    absent = '{"dynamodb": {"NewImage": {"lines": {"L": {"M": {"note": [{"exists": true}]}}}}}}'
    passing = run("filter", "-q", "--pattern", same, "event.json", cwd=tmp_path)
    assert passing.stderr == "1 of 1 records pass 1 filter(s)\n"
    result = run("filter", "--pattern", other, "--pattern", absent, "event.json", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == (
        "Records[0]: dropped: filter 1: dynamodb.NewImage.lines.L.M.gift.BOOL is true; a value that is [true] is"
        " there, but not in the same array element as the other fields matched with it (the fields of one array"
        " element match together); filter 2: dynamodb.NewImage.lines.L.M.note is no value, which is not"
        ' [{"exists": true}]\n'
    )


def test_numbers_out_of_range_are_refused_with_the_place(tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text(event({"eventName": "INSERT"}), encoding="utf-8")
    result = run("filter", "--pattern", '{"a": [{"numeric": [">", 1e999999999999999999999]}]}', "event.json",
                 cwd=tmp_path)  # fmt: skip
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: Invalid filter pattern definition. In filter 1, a[0].numeric[1]: numeric values must lie between"
        " -5.0e9 and 5.0e9, got 1e999999999999999999999\n"
    )
    nan = run("filter", "--pattern", '{"a": [NaN]}', "event.json", cwd=tmp_path)
    assert nan.stderr == (
        "Error: Invalid filter pattern definition. In filter 1: the pattern is not valid JSON: NaN is not JSON"
        " (line 1, column 8)\n"
    )


def test_pattern_objects_in_a_criteria_file_keep_their_numbers_as_written(tmp_path: Path) -> None:
    # SAM templates hold patterns as objects; 12.50 must stay 12.50, since values match character by character.
    criteria = {"Filters": [{"Pattern": {"price": [12.50]}}]}
    (tmp_path / "criteria.json").write_text(json.dumps(criteria).replace("12.5", "12.50"), encoding="utf-8")
    (tmp_path / "event.json").write_text(
        '{"Records": [{"id": 1, "price": 12.50}, {"id": 2, "price": 12.5}]}', encoding="utf-8"
    )
    result = run("filter", "--filters", "criteria.json", "-q", "--output", "-", "event.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [record["id"] for record in json.loads(result.stdout)["Records"]] == [1]


def test_json_lines_of_records_from_stream_tail_are_filtered_into_json_lines(tmp_path: Path) -> None:
    # `shardline stream tail TABLE | shardline filter ... - --output -`, as `stream --help` shows it.
    assert run("table", "create", "Orders", "--key", "pk:S", cwd=tmp_path).returncode == 0
    assert run("table", "put", "Orders", '{"pk": "a"}', cwd=tmp_path).returncode == 0
    assert run("table", "delete", "Orders", '{"pk": "a"}', cwd=tmp_path).returncode == 0
    tail = run("stream", "tail", "Orders", cwd=tmp_path)
    (tmp_path / "records.jsonl").write_text(tail.stdout, encoding="utf-8")
    result = run("filter", "--pattern", '{"eventName": ["REMOVE"]}', "records.jsonl", "--output", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "1 of 2 records pass 1 filter(s)"
    assert [json.loads(line) for line in result.stdout.splitlines()] == [json.loads(tail.stdout.splitlines()[1])]


def test_one_record_alone_is_json_lines_and_a_bad_line_is_named(tmp_path: Path) -> None:
    record = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "a"}}}}
    (tmp_path / "one.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = run("filter", "--pattern", '{"eventName": ["INSERT"]}', "one.jsonl", "--output", "-", cwd=tmp_path)
    assert (result.returncode, [json.loads(line) for line in result.stdout.splitlines()]) == (0, [record])
    (tmp_path / "bad.jsonl").write_text(json.dumps(record) + "\n\nnot json\n", encoding="utf-8")
    result = run("filter", "--pattern", '{"eventName": ["INSERT"]}', "bad.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: bad.jsonl, line 3 is not valid JSON")
    # Text that is neither an event nor records keeps the plain JSON error.
    (tmp_path / "junk.txt").write_text('{"a": 1}\n{"b": 2}\n', encoding="utf-8")
    result = run("filter", "--pattern", '{"eventName": ["INSERT"]}', "junk.txt", cwd=tmp_path)
    assert (result.returncode, result.stderr.startswith("Error: junk.txt is not valid JSON")) == (1, True)


def test_json_lines_of_events_given_as_one_event_get_a_hint(tmp_path: Path) -> None:
    # `generate --batch-size` writes one event a line; `validate` and `invoke` read one event.
    batches = run("generate", "--count", "3", "--batch-size", "2", cwd=tmp_path)
    (tmp_path / "batches.jsonl").write_text(batches.stdout, encoding="utf-8")
    result = run("validate", "batches.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert "Extra data (line 2, column 1); it holds one JSON document a line (JSON Lines): give one at a time," in (
        result.stdout + result.stderr
    )
    assert "`head -n 1 batches.jsonl`" in result.stdout + result.stderr
