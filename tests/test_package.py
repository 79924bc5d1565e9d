"""The package's public face: exports, typing marker, import cost and dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import shardline

ROOT = Path(__file__).resolve().parent.parent


def test_all_is_sorted_and_complete() -> None:
    # dir() lists the names loaded on first use too. Submodules (testing, cli) and pytest's
    # assertion-rewriting helpers ("@py_builtins") are not API.
    public = sorted(
        name
        for name in dir(shardline)
        if not name.startswith(("_", "@")) and not isinstance(getattr(shardline, name), types.ModuleType)
    )
    exported = [name for name in public if name not in {"annotations"}]
    assert shardline.__all__ == sorted(shardline.__all__, key=lambda n: (not n.isupper(), n))
    assert set(shardline.__all__) == set(exported)


def test_lazy_names_load_on_first_use_and_unknown_names_fail() -> None:
    code = (
        "import sys, json; import shardline; before = 'shardline._batch' in sys.modules;"
        " handler = shardline.batch_handler;"
        " print(json.dumps([before, 'shardline._batch' in sys.modules, 'shardline._filters' in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [False, True, False]
    with pytest.raises(AttributeError, match=r"^module 'shardline' has no attribute 'nothing_here'$"):
        shardline.nothing_here  # type: ignore[attr-defined]  # noqa: B018


def test_all_pins_the_public_api() -> None:
    assert shardline.__all__ == [
        "ITEM_SIZE_LIMIT",
        "TYPE_TAGS",
        "AttributeTypeError",
        "AttributeValueError",
        "BatchFailedError",
        "BatchResult",
        "EventName",
        "EventShapeError",
        "FilterCriteria",
        "FilterExplanation",
        "FilterPatternError",
        "JSONInputError",
        "RecordFailure",
        "ShardlineError",
        "StreamEvent",
        "StreamRecord",
        "StreamRecords",
        "StreamViewType",
        "WindowStateError",
        "aprocess_batch",
        "aprocess_window",
        "arun_batch",
        "batch_handler",
        "check_state",
        "deserialize",
        "deserialize_item",
        "format_number",
        "item_size",
        "json_dumps",
        "process_batch",
        "process_window",
        "run_batch",
        "serialize",
        "serialize_item",
        "speedups_enabled",
        "validate_item",
    ]


def test_version_matches_the_project_metadata() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{shardline.__version__}"' in text


def test_the_package_is_typed() -> None:
    assert (Path(shardline.__file__).parent / "py.typed").is_file()


def test_errors_share_one_root() -> None:
    assert issubclass(shardline.AttributeValueError, shardline.ShardlineError)
    # An unsupported Python type is a TypeError, as in boto3 and Python, and still an AttributeValueError so
    # that `except AttributeValueError` around the codec keeps catching everything it raises.
    assert issubclass(shardline.AttributeTypeError, shardline.AttributeValueError)
    assert issubclass(shardline.AttributeTypeError, TypeError)
    assert not issubclass(shardline.AttributeValueError, TypeError)
    assert issubclass(shardline.EventShapeError, shardline.ShardlineError)
    assert issubclass(shardline.AttributeValueError, ValueError)
    assert issubclass(shardline.EventShapeError, ValueError)
    assert issubclass(shardline.BatchFailedError, shardline.ShardlineError)
    assert issubclass(shardline.WindowStateError, shardline.ShardlineError)
    assert issubclass(shardline.WindowStateError, ValueError)
    assert issubclass(shardline.FilterPatternError, shardline.ShardlineError)


def test_import_pulls_only_light_standard_library_modules() -> None:
    # A fresh interpreter, so nothing the test run imported hides what `import shardline` costs.
    code = (
        "import sys, json; before = set(sys.modules); import shardline; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    new = {name.split(".")[0] for name in json.loads(result.stdout)}
    third_party = {name for name in new if name not in sys.stdlib_module_names and name != "shardline"}
    assert third_party == set()
    heavy = {"asyncio", "sqlite3", "dataclasses", "inspect", "argparse", "email", "http", "typing_extensions"}
    assert new & heavy == set()


def test_example_script_decodes_the_sam_event() -> None:
    script, event = ROOT / "examples" / "decode_event.py", ROOT / "tests" / "fixtures" / "sam-dynamodb-update.json"
    result = subprocess.run(
        [sys.executable, str(script), str(event)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[0] == "3 record(s)"
    assert '  new      {"Id": 101, "Message": "New item!"}' in result.stdout
    assert "  changed  Message" in result.stdout


def test_example_script_reports_a_malformed_event_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "decode_event.py"), "-"],
        input='{"Records": [{"eventID": "1", "eventName": "INSERT"}]}',
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: Records[0].dynamodb: missing"
