"""The whole chain on a laptop, with the example app in examples/orders_app: an app writes orders with boto3
through the endpoint, a mapping invokes the billing function, which writes an invoice with its own unchanged
boto3 client (pointed at the endpoint by the variables `run` gives it), and a second mapping, on the invoices
table's stream, sees it. Once in process on a virtual clock, once through the real `shardline run`."""

from __future__ import annotations

import io
import json
import re
import runpy
import shutil
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import URL, clean_environment, started

pytest.importorskip("boto3")

from shardline.local import Store
from shardline.local._runner import build_pipeline
from shardline.local._template import load_template
from shardline.local.endpoint import serve
from shardline.testing import VirtualClock

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "orders_app"


@pytest.fixture
def app_folder(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "orders_app"))


def S(text: str) -> dict[str, str]:  # a string AttributeValue
    return {"S": text}


def records_of(pipeline: Any, mapping: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (record["eventName"], record["dynamodb"].get("NewImage"))
        for invocation in pipeline.invocations
        if invocation.mapping == mapping
        for record in invocation.event["Records"]
    ]


def test_app_to_table_to_function_to_table_to_function_in_process(app_folder: Path, saved_environment: None) -> None:
    clock = VirtualClock("2026-11-27T09:00:00Z")
    output = io.StringIO()
    with Store(app_folder / "state.db", clock=clock) as store, serve(store, port=0) as endpoint:
        template = load_template(app_folder / "template.yaml")
        pipeline, _ = build_pipeline(
            template, store, invoker="in-process", clock=clock, output=output, dynamodb_endpoint=endpoint.url
        )
        # The app: its module-level boto3 resource finds the endpoint, a region and credentials in the
        # environment (set for the in-process functions, which share this process's).
        app = runpy.run_path(str(app_folder / "app.py"), run_name="orders_app")
        assert app["place"]("order#1", "ana", "12.50") is True
        assert app["place"]("order#2", "ben", "7") is True
        assert app["place"]("order#1", "ana", "99") is False  # the condition held: nothing written, no record
        pipeline.run_until_idle()
        invoices = sorted(store.table("invoices").scan(), key=lambda item: item["order_id"])
        assert invoices == [
            {"order_id": "order#1", "customer": "ana", "amount": Decimal("12.5"), "due": True},
            {"order_id": "order#2", "customer": "ben", "amount": Decimal(7), "due": True},
        ]
        assert records_of(pipeline, "BillingFunction.NewOrders") == [
            ("INSERT", {"pk": S("order#1"), "customer": S("ana"), "total": {"N": "12.5"}, "status": S("NEW")}),
            ("INSERT", {"pk": S("order#2"), "customer": S("ben"), "total": {"N": "7"}, "status": S("NEW")}),
        ]
        due = {"BOOL": True}
        assert records_of(pipeline, "AuditFunction.NewInvoices") == [
            ("INSERT", {"order_id": S("order#1"), "customer": S("ana"), "amount": {"N": "12.5"}, "due": due}),
            ("INSERT", {"order_id": S("order#2"), "customer": S("ben"), "amount": {"N": "7"}, "due": due}),
        ]
        assert all(invocation.verdict == "success" for invocation in pipeline.invocations)
        # A paid order is a MODIFY: the billing mapping's filter drops it, nothing is billed twice.
        app["ORDERS"].update_item(
            Key={"pk": "order#1"},
            UpdateExpression="SET #status = :paid",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":paid": "PAID"},
        )
        assert pipeline.run_until_idle() == 0
        assert len(store.table("invoices").scan()) == 2
    lines = [line for line in output.getvalue().splitlines() if line.startswith("invoice ")]
    assert [json.loads(line.removeprefix("invoice "))["order_id"] for line in lines] == ["order#1", "order#2"]


def test_the_example_through_shardline_run(app_folder: Path) -> None:
    pytest.importorskip("awslambdaric")
    # Functions under awslambdaric, in processes of their own.
    with started("run", "--port", "0", "--plain", cwd=app_folder) as (process, lines):
        # Announced once the tables exist and the mappings are built on them.
        url = re.search(URL, lines.wait(r"^endpoint: ")).group(0)  # type: ignore[union-attr]
        app = subprocess.run(
            [sys.executable, "app.py"],
            cwd=app_folder,
            env={
                **clean_environment(),
                "AWS_ENDPOINT_URL_DYNAMODB": url,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "any",
                "AWS_SECRET_ACCESS_KEY": "any",
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (app.returncode, app.stdout) == (0, "order#1: placed\norder#2: placed\n2 new orders\n"), app.stderr
        invoiced = {json.loads(lines.wait(r"^invoice ").removeprefix("invoice "))["order_id"] for _ in range(2)}
        assert invoiced == {"order#1", "order#2"}
        process.send_signal(signal.SIGINT)
        rest = lines.rest()
        process.wait(60)
    assert process.returncode == 130, rest
    assert rest[-1] == "stopped by SIGINT: checkpoints are saved; run again to continue"
    summary = json.loads(rest[-2].removeprefix("summary: "))
    assert (summary["records_in"], summary["filtered"], summary["failed"]) == (4, 0, 0)
