"""The README's handler examples are the files in examples/, and they do what the README says."""

from __future__ import annotations

import asyncio
import logging
import re
import runpy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shardline import StreamRecord

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def example(name: str) -> dict[str, Any]:
    return runpy.run_path(str(ROOT / "examples" / name))


@pytest.mark.parametrize("name", ["search_index.py", "notify_async.py", "window_totals.py", "from_powertools.py"])
def test_the_readme_shows_the_example_file_verbatim(name: str) -> None:
    assert (ROOT / "examples" / name).read_text(encoding="utf-8") in PYTHON_BLOCKS


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
    (powertools_code,) = [block for block in PYTHON_BLOCKS if "process_partial_response(event=event" in block]
    powertools: dict[str, Any] = {"SEEN": []}
    exec(compile(powertools_code, "README.md", "exec"), powertools)
    ours = example("from_powertools.py")
    assert powertools["lambda_handler"](sam_event, None) == ours["lambda_handler"](sam_event, None)
    assert ours["SEEN"] == ["New item!", "This item has changed"]
    assert powertools["SEEN"] == ours["SEEN"]


def test_the_run_batch_snippet_prints_what_it_says(sam_event: dict[str, Any]) -> None:
    (snippet,) = [block for block in PYTHON_BLOCKS if "result = run_batch(event, handle)" in block]

    def handle(record: StreamRecord) -> None:
        if record.event_name == "MODIFY":
            raise ValueError("cannot apply the change")

    for record, number in zip(sam_event["Records"], ("111", "222", "333"), strict=True):
        record["dynamodb"]["SequenceNumber"] = number  # as in AWS's documentation example
    namespace: dict[str, Any] = {"event": sam_event, "handle": handle}
    logging.disable(logging.CRITICAL)
    try:
        exec(compile(snippet, "README.md", "exec"), namespace)
    finally:
        logging.disable(logging.NOTSET)
    result = namespace["result"]
    shown = dict(re.findall(r"^(result\.\w+) +# (\{.*\}|'\d+')", snippet, flags=re.MULTILINE))
    assert repr(result.response) == shown["result.response"]
    assert repr(result.checkpoint) == shown["result.checkpoint"]
    assert [r.event_name.value for r in result.skipped] == ["REMOVE"]
    assert result.redelivered == ()


def test_async_example_runs_with_asyncio_imported_lazily() -> None:
    # The example module imports asyncio itself; shardline's runner must not need it imported first.
    assert asyncio.iscoroutinefunction(example("notify_async.py")["lambda_handler"].record_handler)


def test_the_index_snippet_prints_what_its_comments_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (snippet,) = [block for block in PYTHON_BLOCKS if "IndexSpec(" in block and "query_page" in block]
    monkeypatch.chdir(tmp_path)
    printed: list[tuple[Any, ...]] = []
    exec(compile(snippet, "README.md", "exec"), {"print": lambda *args: printed.append(args)})
    assert printed == [
        ({"N": "12"},),
        (
            {
                "pk": {"S": "order#1"},
                "sk": {"N": "1"},
                "status": {"S": "NEW"},
                "created": {"N": "1767225600"},
            },
        ),
    ]


def test_the_endpoint_snippet_gives_a_working_boto3_client() -> None:
    (snippet,) = [block for block in PYTHON_BLOCKS if "serve(store, port=0) as endpoint" in block]
    # Run the block's body while the endpoint is up: the client it makes must reach the store it serves.
    body = snippet + (
        "    client.create_table(TableName='Orders', KeySchema=[{'AttributeName': 'pk', 'KeyType': 'HASH'}],\n"
        "        AttributeDefinitions=[{'AttributeName': 'pk', 'AttributeType': 'S'}], BillingMode='PAY_PER_REQUEST')\n"
        "    client.put_item(TableName='Orders', Item={'pk': {'S': 'a'}, 'n': {'N': '12.50'}})\n"
        "    stored = store.table('Orders').get_item({'pk': 'a'})\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(body, "README.md", "exec"), namespace)
    assert namespace["stored"] == {"pk": "a", "n": Decimal("12.5")}
