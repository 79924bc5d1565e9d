"""`shardline demo`: the whole pipeline in under a minute, with a poison record."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import click

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: shardline demo - an orders table, a billing function and an audit function on its stream

Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: demo-orders
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}

  BillingFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: billing.lambda_handler
      Runtime: python3.12
      Timeout: 10
      Events:
        OrderStream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 4
            MaximumRetryAttempts: 2
            FunctionResponseTypes: [ReportBatchItemFailures]
            FilterCriteria:
              Filters:
                - Pattern: >-
                    {"eventName": ["INSERT"],
                     "dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["DRAFT"]}]}}}}

  AuditFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: audit.lambda_handler
      Runtime: python3.12
      Events:
        OrderStream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
            BisectBatchOnFunctionError: true
            MaximumRetryAttempts: 0
"""

BILLING = '''\
"""Charges each new order; an order it cannot price fails, alone."""

from shardline import batch_handler


@batch_handler
def lambda_handler(record):
    order = record.new_image
    if order.get("poison"):
        raise ValueError(f"cannot price {order['pk']}")
    print(f"billing: charged {order['pk']} {order['total']}")
'''

AUDIT = '''\
"""Writes an audit line per change; crashes (a function error) on a poisoned batch."""


def lambda_handler(event, context):
    for record in event["Records"]:
        if "poison" in record["dynamodb"].get("NewImage", {}):
            raise RuntimeError("audit store rejected the batch")
    print(f"audit: {len(event['Records'])} change(s) recorded")
'''

ORDERS: list[dict[str, Any]] = [
    {"pk": "order#1", "status": "NEW", "total": "19.90"},
    {"pk": "order#2", "status": "NEW", "total": "5.00"},
    {"pk": "order#3", "status": "DRAFT", "total": "0.00"},
    {"pk": "order#4", "status": "NEW", "total": "42.00", "poison": True},
    {"pk": "order#5", "status": "NEW", "total": "7.25"},
    {"pk": "order#6", "status": "NEW", "total": "12.00"},
]

EPILOG = """\b
Examples:
  shardline demo
  shardline demo --keep ./demo-app      keep the template and handlers to explore

\b
Creates a table and two functions from a SAM template in a temporary folder, writes six orders (a draft
that a filter drops, and a poison order) and runs the pipeline on a virtual clock, so retries and
backoff take no time: a partial batch failure and its retries, a bisect after a function error, the
filter, and the records sent to the on-failure destination.
"""


@click.command(epilog=EPILOG, short_help="See the whole pipeline work, with a poison record.")
@click.option("--keep", metavar="DIR", help="Write the demo app here and keep it (default: a temporary folder).")
@click.option("--invoker", type=click.Choice(["runtime", "in-process"]), default="runtime", show_default=True)
def demo(keep: str | None, invoker: str) -> int:
    """Run a small stream pipeline end to end and explain what happened."""
    from decimal import Decimal

    from shardline.local import Store
    from shardline.local._runner import build_pipeline
    from shardline.local._template import load_template
    from shardline.testing import VirtualClock

    from ._dashboard import Dashboard
    from .run import StopSignals

    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="shardline-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in ("state.db", "state.db-wal", "state.db-shm"):
        (folder / stale).unlink(missing_ok=True)  # a kept folder runs the story again from the start
    (folder / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    (folder / "billing.py").write_text(BILLING, encoding="utf-8")
    (folder / "audit.py").write_text(AUDIT, encoding="utf-8")
    say = click.echo
    where = folder if keep else "a temporary folder (deleted at the end; --keep DIR keeps it)"
    say(f"1. A SAM app in {where}:\n   table demo-orders, BillingFunction and AuditFunction on its stream.")
    clock = VirtualClock("2026-11-27T09:00:00Z")
    invokers: list[Any] = []
    logs = (folder / "functions.log").open("w", encoding="utf-8")
    with StopSignals() as stop:
        try:
            with Store(str(folder / "state.db"), clock=clock) as store:
                template = load_template(folder / "template.yaml")
                pipeline, invokers = build_pipeline(template, store, invoker=invoker, clock=clock, output=logs)
                table = store.table("demo-orders")
                say("2. Six orders written: order#3 is a DRAFT (the billing filter drops it), order#4 is poisoned.")
                for order in ORDERS:
                    item = {**order, "total": Decimal(str(order["total"]))}
                    table.put_item(item)
                    clock.advance(1000)
                say("3. The event source mappings run (a virtual clock skips the retry backoff; the functions' own")
                if keep:
                    say(f"   output goes to {folder / 'functions.log'}):\n")
                else:  # the temporary folder, this log included, is deleted at the end
                    say("   output is left out: run with --keep DIR to find it in DIR/functions.log):\n")
                dashboard = Dashboard(pipeline, stream=sys.stdout, live=False)
                pipeline.run_until_idle(stop=stop.requested)
                dashboard.close()
                if stop.requested():  # a handler swallowed the KeyboardInterrupt: stopped all the same
                    raise KeyboardInterrupt
                say("")
                _explain(pipeline)
        except KeyboardInterrupt:
            click.echo(f"stopped by {stop.name}", err=True)
            return stop.status
        finally:
            stop.ignore()  # the clean-up is short; a second Ctrl-C must not leave runtime processes behind
            logs.close()
            for each in invokers:
                close = getattr(each, "close", None)
                if callable(close):
                    close()
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
    return 0


def _explain(pipeline: object) -> None:
    metrics = pipeline.metrics()  # type: ignore[attr-defined]
    say = click.echo
    say("4. What happened:")
    for name, shards in metrics.items():
        total = {key: sum(shard[key] for shard in shards.values()) for key in next(iter(shards.values()))}
        say(
            f"   {name}: {total['records_in']} records read, {total['filtered']} filtered out,"
            f" {total['delivered']} delivered, {total['failed']} sent to the destination,"
            f" {total['retries']} retries, {total['bisects']} bisects, {total['invocations']} invokes"
        )
    destination = pipeline.destination  # type: ignore[attr-defined]
    say(f"5. On-failure destination: {len(destination)} record(s); the first one:")
    if destination:
        say(textwrap.indent(json.dumps(destination[0], indent=2), "   "))
    say(
        "\nRun it on your own template: shardline run --template template.yaml"
        "  (write items with: shardline table put <Table> '{...}')"
    )
