"""The deployable SAM project in examples/sam-app, as far as it is checked fast and without AWS: the template as
``shardline run`` reads it, what Lambda installs, the sample event, and the function in the local pipeline on a
virtual clock, a bad order's batch reaching the template's SQS on-failure queue (moto). ``.ci/sam-app`` builds it
with ``sam build``, lints it with cfn-lint and runs it under each Python that Lambda offers."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import shardline
from shardline.local import Store
from shardline.local._runner import build_pipeline
from shardline.local._template import load_template
from shardline.testing import EventBuilder, VirtualClock, validate_event

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sam-app"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:sam-app-OrderEventsFailures"  # as shardline names it: <folder>-<id>


def changes() -> list[dict[str, Any]]:
    """The example's seed writes, numbers exact."""
    text = (EXAMPLE / "events" / "writes.jsonl").read_text(encoding="utf-8")
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines()]


def test_the_template_maps_the_orders_stream_with_the_settings_the_docs_describe() -> None:
    template = load_template(EXAMPLE / "template.yaml")
    assert template.warnings == []
    assert [mapping.logical_id for mapping in template.mappings] == ["OrderEventsFunction.OrderChanges"]
    mapping = template.mappings[0]
    assert mapping.table == "Orders"
    assert mapping.settings == {
        "starting_position": "TRIM_HORIZON",
        "batch_size": 100,
        "function_response_types": ["ReportBatchItemFailures"],
        "maximum_retry_attempts": 3,
        "bisect_batch_on_function_error": True,
        "maximum_record_age_in_seconds": 3600,
        "filter_criteria": {"Filters": [{"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'}]},
    }
    assert mapping.on_failure == {"OnFailure": {"Destination": QUEUE_ARN}}
    function = template.functions["OrderEventsFunction"]
    assert (function.handler, function.code_dir) == ("app.lambda_handler", EXAMPLE / "src")
    assert function.runtime == "python3.12"
    assert template.tables["Orders"].stream_view_type == "NEW_AND_OLD_IMAGES"
    text = (EXAMPLE / "template.yaml").read_text(encoding="utf-8")
    assert "Architectures: [arm64]" in text  # .ci/sam-app builds the x86_64 variant by replacing this line


def test_lambda_gets_the_core_package_alone_in_a_range_that_admits_this_release() -> None:
    lines = (EXAMPLE / "src" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = [line for line in lines if line.strip() and not line.startswith("#")]
    assert requirements == ["shardline>=0.1,<0.2"]  # no extras: click, boto3 and the rest stay on your machine
    version = tuple(int(part) for part in shardline.__version__.split(".")[:2])
    assert (0, 1) <= version < (0, 2), f"src/requirements.txt does not admit shardline {shardline.__version__}"
    dev = (EXAMPLE / "requirements-dev.txt").read_text(encoding="utf-8")
    assert re.search(r"^shardline\[cli,aws\]>=0\.1,<0\.2$", dev, flags=re.MULTILINE)


def test_the_sample_event_is_the_one_the_seed_writes_make() -> None:
    builder = EventBuilder(table="Orders", key_schema={"pk": "S"})  # shardline generate --table Orders --key pk:S
    for change in changes():
        builder.apply(change)
    event = json.loads((EXAMPLE / "events" / "event.json").read_text(encoding="utf-8"))
    assert event == builder.build()
    assert validate_event(event, strict=True) == []


@pytest.fixture
def app_folder(tmp_path: Path) -> Path:
    """A copy, so that importing the handler writes no bytecode into the repository; the folder keeps its name,
    which names the local resources (sam-app-Orders)."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "sam-app", ignore=shutil.ignore_patterns(".*", "__pycache__")))


@pytest.fixture
def queue(saved_environment: None) -> Iterator[Any]:
    """The template's on-failure queue, in moto."""
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    with moto.mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName=QUEUE_ARN.rsplit(":", 1)[1])["QueueUrl"]
        yield lambda: [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url).get("Messages", [])]


def published(output: io.StringIO) -> list[tuple[str, str | None, str]]:
    events = [json.loads(line) for line in output.getvalue().splitlines() if line.startswith('{"order"')]
    return [(event["order"], event["previous"], event["status"]) for event in events]


def test_the_function_in_the_local_pipeline_then_a_bad_order_on_the_queue(
    app_folder: Path, queue: Any, caplog: pytest.LogCaptureFixture
) -> None:
    clock = VirtualClock()
    output = io.StringIO()
    with Store(app_folder / "state.db", clock=clock) as store:
        pipeline, _ = build_pipeline(
            load_template(app_folder / "template.yaml"), store, invoker="in-process", clock=clock, output=output
        )
        orders = store.table("sam-app-Orders")
        for change in changes():
            if "put" in change:
                orders.put_item(change["put"])
            elif "update" in change:
                orders.update_item(change["update"]["key"], set=change["update"].get("set"))
            else:
                orders.delete_item(change["delete"])
        pipeline.run_until_idle()
        assert published(output) == [
            ("order#1", None, "NEW"),
            ("order#2", None, "NEW"),
            ("order#1", "NEW", "PAID"),
            ("order#1", "PAID", "SHIPPED"),
        ]
        (metrics,) = pipeline.mappings[0].metrics().values()  # one shard
        assert {name: metrics[name] for name in ("records_in", "delivered", "filtered", "failed")} == {
            "records_in": 6,
            "delivered": 5,
            "filtered": 1,  # the REMOVE: the mapping's FilterCriteria passes INSERT and MODIFY only
            "failed": 0,
        }
        assert queue() == []

        orders.put_item({"pk": "order#3", "status": "NEW", "total": -1})
        orders.put_item({"pk": "order#4", "status": "NEW", "total": 3})  # behind it in the shard: it waits
        pipeline.run_until_idle()  # the retries' backoff passes on the virtual clock

    # In process, the handler's warnings go to this process's "shardline" logger: one per invoke.
    failures = [entry for entry in caplog.records if entry.name == "shardline" and entry.levelno == logging.WARNING]
    assert len(failures) == 4
    assert [str(entry.exc_info[1]) if entry.exc_info else None for entry in failures] == 4 * [
        "order#3: the total must be a number of at least 0, not Decimal('-1')"
    ]
    assert len(published(output)) == 4  # neither order#3 nor order#4 behind it was published
    (record,) = queue()
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 4  # the first invoke and MaximumRetryAttempts: 3
    assert record["DDBStreamBatchInfo"]["batchSize"] == 2
