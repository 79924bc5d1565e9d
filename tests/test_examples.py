"""The example files in examples/ are what the guides show (each page includes its file with a snippet line),
and they do what the guides say."""

from __future__ import annotations

import asyncio
import logging
import re
import runpy
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
_SNIPPET = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$', flags=re.MULTILINE)


def example(name: str) -> dict[str, Any]:
    return runpy.run_path(str(ROOT / "examples" / name))


def included_by(page: str) -> set[str]:
    """The repository paths a docs page includes with snippet lines."""
    return {match["path"] for match in _SNIPPET.finditer((DOCS / page).read_text(encoding="utf-8"))}


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("search_index.py", "handlers.md"),
        ("notify_async.py", "handlers.md"),
        ("window_totals.py", "handlers.md"),
        ("from_powertools.py", "handlers.md"),
        ("window_totals.py", "testing.md"),
        ("decode_event.py", "records.md"),
    ],
)
def test_the_guide_includes_the_example_file(name: str, page: str) -> None:
    assert f"examples/{name}" in included_by(page)


def test_every_example_file_is_shown_somewhere() -> None:
    shown = set().union(*(included_by(str(page.relative_to(DOCS))) for page in DOCS.rglob("*.md")))
    files = {f"examples/{path.name}" for path in (ROOT / "examples").glob("*.py")}
    assert files <= shown


def test_search_index_follows_insert_modify_and_remove(sam_event: dict[str, Any]) -> None:
    module = example("search_index.py")
    handler, index = module["lambda_handler"], module["INDEX"]
    first_two = {"Records": sam_event["Records"][:2]}
    assert handler(first_two, None) == {"batchItemFailures": []}
    assert index == {Decimal(101): "This item has changed"}
    assert handler({"Records": sam_event["Records"][2:]}, None) == {"batchItemFailures": []}
    assert index == {}


def test_search_index_reports_the_record_it_could_not_index(sam_event: dict[str, Any]) -> None:
    module = example("search_index.py")
    del sam_event["Records"][1]["dynamodb"]["NewImage"]["Message"]  # the MODIFY lacks the attribute
    logging.disable(logging.CRITICAL)
    try:
        response = module["lambda_handler"](sam_event, None)
    finally:
        logging.disable(logging.NOTSET)
    reported = ["4421584500000000017450439092", "4421584500000000017450439093"]
    assert response == {"batchItemFailures": [{"itemIdentifier": number} for number in reported]}
    assert module["INDEX"] == {Decimal(101): "New item!"}  # the REMOVE did not run: it comes again


def test_notify_async_publishes_the_changes_of_one_item_in_order(sam_event: dict[str, Any]) -> None:
    module = example("notify_async.py")
    try:
        assert module["lambda_handler"](sam_event, None) == {"batchItemFailures": []}
    finally:
        module["lambda_handler"].close()
    assert module["SENT"] == [(name, {"Id": Decimal(101)}) for name in ("INSERT", "MODIFY", "REMOVE")]


def test_async_example_runs_with_asyncio_imported_lazily() -> None:
    # The example module imports asyncio itself; shardline's runner must not need it imported first.
    assert asyncio.iscoroutinefunction(example("notify_async.py")["lambda_handler"].record_handler)


def test_window_totals_counts_and_reports_once_the_window_closes(fixture_loader: Any) -> None:
    module = example("window_totals.py")
    event = fixture_loader("events-tumbling-window.json")
    event["state"] = {}
    state = module["lambda_handler"](event, None)["state"]
    assert state == {"INSERT": 1}
    event.update(state=state, isFinalInvokeForWindow=True)
    assert module["lambda_handler"](event, None) == {"state": {}, "batchItemFailures": []}
    assert module["REPORTS"] == [{"INSERT": 2}]


def test_the_powertools_handler_and_its_shardline_version_agree(sam_event: dict[str, Any]) -> None:
    pytest.importorskip("aws_lambda_powertools")
    # What the example replaces: Powertools' BatchProcessor, which runs every record and reports each failure.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    seen: list[Any] = []
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def record_handler(record: DynamoDBRecord) -> None:
        if record.dynamodb is not None and record.dynamodb.new_image:  # {} when the record has none
            seen.append(record.dynamodb.new_image["Message"])

    def powertools_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    ours = example("from_powertools.py")
    assert powertools_handler(sam_event, None) == ours["lambda_handler"](sam_event, None)
    assert ours["SEEN"] == ["New item!", "This item has changed"]
    assert seen == ours["SEEN"]


def test_the_powertools_example_continues_past_a_failure(sam_event: dict[str, Any]) -> None:
    ours = example("from_powertools.py")
    del sam_event["Records"][0]["dynamodb"]["NewImage"]["Message"]  # the INSERT fails, the MODIFY still runs
    logging.disable(logging.CRITICAL)
    try:
        response = ours["lambda_handler"](sam_event, None)
    finally:
        logging.disable(logging.NOTSET)
    assert response == {"batchItemFailures": [{"itemIdentifier": "4421584500000000017450439091"}]}
    assert ours["SEEN"] == ["This item has changed"]


def test_decode_event_prints_what_each_record_carries() -> None:
    event = ROOT / "tests" / "fixtures" / "sam-dynamodb-update.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "decode_event.py"), str(event)],
        capture_output=True,
        text=True,
        check=True,
    )
    first = "INSERT on ExampleTableWithStream  seq 4421584500000000017450439091"
    assert done.stdout.splitlines()[:3] == ["3 record(s)", "", first]
    assert "  changed  Message" in done.stdout
