"""The SAM template reader: realistic templates in tests/fixtures/templates, and one small template per
unsupported feature, each asserting the exact problems or warnings it must produce."""

from __future__ import annotations

import json
import pickle
import re
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from shardline import FilterCriteria
from shardline.local import IndexSpec
from shardline.local._settings import MappingSettings
from shardline.local._template import (
    MAX_TEMPLATE_BYTES,
    FunctionSpec,
    MappingSpec,
    TableSpec,
    TemplateError,
    find_template,
    load_template,
)

TEMPLATES = Path(__file__).parent / "fixtures" / "templates"
# PyYAML words this syntax error one way, libyaml (which shardline uses when PyYAML has it) another.
FLOW_ERROR = (
    "did not find expected ',' or ']'" if yaml.__with_libyaml__ else "expected ',' or ']', but got '<stream end>'"
)
STREAM = "stream/1970-01-01T00:00:00.000"


def problems_of(path: Path, **options: Any) -> list[str]:
    with pytest.raises(TemplateError) as info:
        load_template(path, **options)
    return info.value.problems


# --------------------------------------------------------------------------------------------------
# Realistic templates


def test_orders_globals_parameters_environment_and_a_sam_event() -> None:
    template = load_template(TEMPLATES / "orders" / "template.yaml")
    folder = (TEMPLATES / "orders").resolve()
    assert template.path == folder / "template.yaml"
    assert template.tables == {
        "OrdersTable": TableSpec(
            logical_id="OrdersTable",
            table_name="orders-dev",
            key_schema={"pk": "S", "sk": "S"},
            stream_view_type="NEW_AND_OLD_IMAGES",
            ttl_attribute="expiresAt",
            extra={"attribute_definitions": {"pk": "S", "sk": "S"}, "billing_mode": "PAY_PER_REQUEST"},
        )
    }
    assert template.functions == {
        "OrdersFunction": FunctionSpec(
            logical_id="OrdersFunction",
            function_name="orders-OrdersFunction",  # <stack>-<LogicalId>, the stack named after the folder
            handler="orders_consumer.handler",
            code_dir=folder / "src" / "orders",
            runtime="python3.12",  # from Globals
            timeout=30.0,
            memory_size=256,
            environment={
                "LOG_LEVEL": "DEBUG",  # the function's value wins over Globals' INFO
                "POWERTOOLS_SERVICE_NAME": "orders",  # kept from Globals
                "TABLE_NAME": "orders-dev",
                "STREAM_ARN": f"arn:aws:dynamodb:us-east-1:123456789012:table/orders-dev/{STREAM}",
                "STAGE": "dev",
            },
        )
    }
    pattern = '{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "ORDER#"}]}}}}'
    assert template.mappings == [
        MappingSpec(
            logical_id="OrdersFunction.OrderChanges",
            function="OrdersFunction",
            table="OrdersTable",
            settings={
                "starting_position": "TRIM_HORIZON",
                "batch_size": 10,  # the Number parameter's Default, read back as a number
                "maximum_batching_window_in_seconds": 5,
                "bisect_batch_on_function_error": True,
                "maximum_retry_attempts": 3,
                "function_response_types": ["ReportBatchItemFailures"],
                "filter_criteria": {"Filters": [{"Pattern": pattern}]},
            },
            on_failure={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:orders-failures-dev"}},
        )
    ]
    assert template.warnings == [
        "Resources.OrdersFunction.Properties.Events.Health.Type: Api events are not run locally; shardline runs"
        " DynamoDB stream events"
    ]
    assert template.parameters == {"Stage": "dev", "OrdersBatchSize": "10"}


def test_orders_with_parameter_overrides_region_and_account() -> None:
    template = load_template(
        TEMPLATES / "orders" / "template.yaml",
        parameter_overrides={"Stage": "prod", "OrdersBatchSize": "25"},
        region="eu-west-1",
        account_id="111122223333",
    )
    assert template.parameters == {"Stage": "prod", "OrdersBatchSize": "25"}
    assert template.tables["OrdersTable"].table_name == "orders-prod"
    environment = template.functions["OrdersFunction"].environment
    assert environment["STREAM_ARN"] == f"arn:aws:dynamodb:eu-west-1:111122223333:table/orders-prod/{STREAM}"
    assert environment["STAGE"] == "prod"
    (mapping,) = template.mappings
    assert mapping.settings["batch_size"] == 25
    assert mapping.on_failure == {
        "OnFailure": {"Destination": "arn:aws:sqs:eu-west-1:111122223333:orders-failures-prod"}
    }


def test_overrides_are_checked_against_the_parameters() -> None:
    path = TEMPLATES / "orders" / "template.yaml"
    assert problems_of(path, parameter_overrides={"Stage": "qa", "OrdersBatchSize": "ten", "Region": "x"}) == [
        "Parameters.Region: given as a parameter override, but the template declares no such parameter"
        " (declared: Stage, OrdersBatchSize)",
        "Parameters.Stage: the override 'qa' is not one of AllowedValues [dev, prod]",
        "Parameters.OrdersBatchSize: the override 'ten' is not a number, which Type Number requires",
    ]


def test_inventory_yaml_filter_patterns_become_json_text() -> None:
    template = load_template(TEMPLATES / "inventory" / "template.yml")
    folder = (TEMPLATES / "inventory").resolve()
    assert template.tables == {
        "Stock": TableSpec(
            "Stock",
            "inventory-Stock",
            {"sku": "S", "warehouse": "N"},
            "NEW_IMAGE",
            None,
            extra={"attribute_definitions": {"sku": "S", "warehouse": "N"}},
        ),
        "Reservations": TableSpec(  # TTL disabled
            "Reservations",
            "reservations",
            {"id": "B"},
            "KEYS_ONLY",
            None,
            extra={"attribute_definitions": {"id": "B"}},
        ),
    }
    function = template.functions["InventoryFunction"]
    assert function.code_dir == folder  # no CodeUri: the template's folder
    assert (function.handler, function.runtime, function.timeout, function.memory_size) == (
        "inventory_consumer.handler",
        "python3.11",
        3.0,  # AWS's defaults
        128,
    )
    assert function.environment == {
        "STOCK_TABLE": "inventory-Stock",
        "RESERVATIONS_ARN": "arn:aws:dynamodb:us-east-1:123456789012:table/reservations",
    }
    low_stock, expired = template.mappings
    assert (low_stock.logical_id, low_stock.table, expired.logical_id, expired.table) == (
        "InventoryFunction.LowStock",
        "Stock",
        "InventoryFunction.Expired",
        "Reservations",
    )
    patterns = [json.loads(entry["Pattern"]) for entry in low_stock.settings["filter_criteria"]["Filters"]]
    assert patterns == [
        {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"quantity": {"N": [{"numeric": ["<", 5]}]}}}},
        {"eventName": ["INSERT"]},
    ]
    assert all(isinstance(entry["Pattern"], str) for entry in low_stock.settings["filter_criteria"]["Filters"])
    assert {key: value for key, value in low_stock.settings.items() if key != "filter_criteria"} == {
        "starting_position": "LATEST",
        "parallelization_factor": 4,
        "tumbling_window_in_seconds": 60,
        "maximum_record_age_in_seconds": 3600,
    }
    assert expired.settings == {
        "starting_position": "TRIM_HORIZON",
        "enabled": False,
        "filter_criteria": {"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]},
    }
    criteria = FilterCriteria(low_stock.settings["filter_criteria"])
    assert criteria.matches({"eventName": "INSERT", "dynamodb": {}})
    assert not criteria.matches({"eventName": "REMOVE", "dynamodb": {}})
    assert template.warnings == []
    assert template.parameters == {}


def test_esm_resources_long_forms_and_intrinsic_functions() -> None:
    template = load_template(TEMPLATES / "esm" / "template.yaml")
    assert template.tables["Accounts"].table_name == "esm-accounts-staging"  # Fn::Join of AWS::StackName
    function = template.functions["AuditFunction"]
    assert function.function_name == "audit-writer"
    assert function.code_dir == (TEMPLATES / "esm" / "functions" / "audit").resolve()
    assert (function.runtime, function.timeout) == ("python3.13", 60.0)
    assert function.environment == {
        "ACCOUNTS_TABLE": "esm-accounts-staging",
        "LEDGER_STREAM": f"arn:aws:dynamodb:us-east-1:123456789012:table/ledger/{STREAM}",
        "WHERE": "us-east-1/123456789012/aws",
        "TEMPLATE_TEXT": "${NotAVariable} in staging",  # ${!Name} is written as ${Name}
        "FIRST_RETRY": "2",
        "BUCKET_KEY": "2026",
        "TOPIC": "arn:aws:sns:us-east-1:123456789012:esm-AuditTopic",  # Ref of a topic is its ARN
        "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/esm-Commands",  # Ref of a queue: its URL
        "CHANNEL": "staging-audit",
    }
    assert template.mappings == [
        MappingSpec(
            logical_id="AccountsMapping",
            function="AuditFunction",
            table="Accounts",
            settings={
                "starting_position": "TRIM_HORIZON",
                "batch_size": 50,  # Fn::FindInMap
                "maximum_retry_attempts": 2,  # text from a CommaDelimitedList, read back as numbers
                "maximum_record_age_in_seconds": 120,
                "bisect_batch_on_function_error": True,  # the text "true" from a parameter
            },
            on_failure={"OnFailure": {"Destination": "arn:aws:sns:us-east-1:123456789012:esm-AuditTopic"}},
        ),
        MappingSpec(
            logical_id="LedgerMapping",
            function="AuditFunction",  # found by its FunctionName, audit-writer
            table="Ledger",
            settings={"starting_position": "LATEST", "function_response_types": ["ReportBatchItemFailures"]},
            on_failure=None,
        ),
    ]
    assert template.warnings == [
        "Resources.CommandsMapping.Properties.EventSourceArn: Commands (AWS::SQS::Queue) is not a DynamoDB stream;"
        " this mapping is not run locally"
    ]
    assert template.parameters == {"Environment": "staging", "RetryPolicy": "2,120", "Bisect": "true"}


def test_esm_with_an_override_that_picks_another_mapping_entry() -> None:
    template = load_template(TEMPLATES / "esm" / "template.yaml", parameter_overrides={"Environment": "production"})
    assert template.tables["Accounts"].table_name == "esm-accounts-production"
    assert template.mappings[0].settings["batch_size"] == 500


def test_json_template() -> None:
    template = load_template(TEMPLATES / "json-app" / "template.json")
    assert template.tables == {
        "Profiles": TableSpec(
            "Profiles",
            "profiles-table",
            {"userId": "S"},
            "NEW_AND_OLD_IMAGES",
            "deleteAt",
            extra={"attribute_definitions": {"userId": "S"}},
        )
    }
    assert template.functions == {
        "SyncFunction": FunctionSpec(
            logical_id="SyncFunction",
            function_name="json-app-SyncFunction",
            handler="profile_sync.handler",
            code_dir=(TEMPLATES / "json-app" / "handlers").resolve(),  # CodeUri from Globals
            runtime="python3.10",
            timeout=3.0,
            memory_size=512,
            environment={"APP": "profiles-app", "PROFILES": "profiles-table", "RETRIES": "2"},
        )
    }
    assert template.mappings == [
        MappingSpec(
            logical_id="ProfilesMapping",
            function="SyncFunction",  # FunctionName: Fn::GetAtt SyncFunction.Arn
            table="Profiles",
            settings={
                "starting_position": "TRIM_HORIZON",
                "maximum_retry_attempts": 2,
                "filter_criteria": {"Filters": [{"Pattern": '{"eventName": ["MODIFY"]}'}]},
            },
            on_failure={"OnFailure": {"Destination": "arn:aws:s3:::json-app-failures"}},  # a generated bucket name
        )
    ]
    assert template.warnings == []


def test_mixed_application_reports_what_does_not_run() -> None:
    template = load_template(TEMPLATES / "mixed" / "template.yaml")
    assert template.tables == {
        "Sessions": TableSpec(
            "Sessions",
            "mixed-Sessions",
            {"sessionId": "S"},
            None,
            None,
            extra={"attribute_definitions": {"sessionId": "S"}, "billing_mode": "PAY_PER_REQUEST"},
        ),
        "Events": TableSpec(
            "Events",
            "events",
            {"id": "S"},
            "NEW_AND_OLD_IMAGES",
            None,
            global_indexes=(IndexSpec("by-kind", {"kind": "S"}, "ALL"),),
            extra={"attribute_definitions": {"id": "S", "kind": "S"}},
        ),
    }
    assert list(template.functions) == ["StreamConsumer"]
    assert template.functions["StreamConsumer"].environment == {"SESSIONS": "mixed-Sessions"}
    assert template.functions["StreamConsumer"].timeout == 10.0
    assert template.mappings == [
        MappingSpec("StreamConsumer.Changes", "StreamConsumer", "Events", {"starting_position": "LATEST"}, None)
    ]
    assert template.warnings == [
        "Resources.Payments: AWS::Serverless::Application is a nested stack, which shardline does not load: its"
        " tables and functions do not run locally",
        "Resources.StreamConsumer.Properties.Events.Changes.Properties.MetricsConfig: MetricsConfig is not emulated"
        " locally and is ignored",
        "Resources.StreamConsumer.Properties.Events.Nightly.Type: Schedule events are not run locally; shardline"
        " runs DynamoDB stream events",
        "Resources.WebFunction.Properties.Events.Get.Type: HttpApi events are not run locally; shardline runs"
        " DynamoDB stream events",
        "Globals.Function.Layers: Layers are not loaded locally; install what they provide into the environment"
        " that runs shardline",
        "Resources.WebFunction.Properties.Runtime: shardline runs Python functions; the Runtime of WebFunction is"
        " nodejs20.x; WebFunction is not loaded (no DynamoDB stream event uses it)",
        "Resources.ReportsFunction.Properties.PackageType: PackageType Image is not supported: shardline runs Zip"
        " functions from a local folder; ReportsFunction is not loaded (no DynamoDB stream event uses it)",
    ]


@pytest.mark.parametrize(
    "path",
    ["orders/template.yaml", "inventory/template.yml", "esm/template.yaml", "json-app/template.json"],
)
def test_every_mapping_builds_mapping_settings(path: str) -> None:
    template = load_template(TEMPLATES / path)
    for mapping in template.mappings:
        settings = MappingSettings(**mapping.settings)
        assert settings.as_aws()["StartingPosition"] == mapping.settings["starting_position"]
        assert mapping.function in template.functions
        assert mapping.table in template.tables
        assert template.tables[mapping.table].stream_view_type is not None


def test_specs_are_frozen() -> None:
    table = load_template(TEMPLATES / "orders" / "template.yaml").tables["OrdersTable"]
    with pytest.raises(AttributeError):
        table.table_name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# find_template


@pytest.mark.parametrize(
    ("folder", "name"),
    [("orders", "template.yaml"), ("inventory", "template.yml"), ("json-app", "template.json")],
)
def test_find_template_in_a_project_folder(folder: str, name: str) -> None:
    assert find_template(TEMPLATES / folder) == (TEMPLATES / folder / name).resolve()


def test_find_template_prefers_yaml_then_yml_then_json(tmp_path: Path) -> None:
    for name in ("template.json", "template.yml", "template.yaml"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    assert find_template(tmp_path) == tmp_path.resolve() / "template.yaml"
    (tmp_path / "template.yaml").unlink()
    assert find_template(tmp_path) == tmp_path.resolve() / "template.yml"


def test_find_template_without_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    message = (
        f"^{re.escape(str(tmp_path.resolve()))}: no template.yaml, template.yml or template.json in this folder;"
        " pass the template's path with --template$"
    )
    with pytest.raises(TemplateError, match=message):
        find_template()
    with pytest.raises(TemplateError, match=r"^.*/nowhere: not a folder; pass a SAM project's folder"):
        find_template(tmp_path / "nowhere")


# --------------------------------------------------------------------------------------------------
# One template per unsupported feature

BASE = """\
Transform: AWS::Serverless-2016-10-31
{head}
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}]
      KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
{table}
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
{function}
      Events:
        Changes:
          Type: DynamoDB
          Properties:
{event}
{resources}
"""
STREAM_SPEC = "StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}"
EVENT = "Stream: !GetAtt Orders.StreamArn\nStartingPosition: LATEST"


def write(folder: Path, text: str, name: str = "template.yaml") -> Path:
    """A template in ``folder/app``, so the stack is named "app"."""
    path = folder / "app" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sam(
    folder: Path,
    *,
    head: str = "",
    table: str = STREAM_SPEC,
    function: str = "Runtime: python3.12",
    event: str = EVENT,
    resources: str = "",
) -> Path:
    """The base template (a streamed table, a Python function with one DynamoDB event), with changes."""

    def block(text: str, spaces: int) -> str:
        return textwrap.indent(textwrap.dedent(text), " " * spaces)

    return write(
        folder,
        BASE.format(
            head=textwrap.dedent(head),
            table=block(table, 6),
            function=block(function, 6),
            event=block(event, 12),
            resources=block(resources, 2),
        ),
    )


def test_the_base_template_loads(tmp_path: Path) -> None:
    template = load_template(sam(tmp_path))
    assert template.mappings == [
        MappingSpec("Consumer.Changes", "Consumer", "Orders", {"starting_position": "LATEST"}, None)
    ]
    assert template.functions["Consumer"].function_name == "app-Consumer"
    assert template.functions["Consumer"].code_dir == (tmp_path / "app").resolve()
    assert template.warnings == []


FUNCTION = "Resources.Consumer.Properties"
EVENT_PATH = "Resources.Consumer.Properties.Events.Changes.Properties"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"function": "Runtime: nodejs20.x"},
            [f"{FUNCTION}.Runtime: shardline runs Python functions; the Runtime of Consumer is nodejs20.x"],
            id="node-runtime",
        ),
        pytest.param(
            {"function": "Runtime: python2.7"},
            [f"{FUNCTION}.Runtime: shardline runs Python functions; the Runtime of Consumer is python2.7"],
            id="python2",
        ),
        pytest.param(
            {"function": "CodeUri: ."},
            [f"{FUNCTION}.Runtime: Runtime is required: python3.x, here or in Globals.Function"],
            id="no-runtime",
        ),
        pytest.param(
            {"head": "Globals:\n  Function:\n    Runtime: java21\n", "function": "CodeUri: ."},
            ["Globals.Function.Runtime: shardline runs Python functions; the Runtime of Consumer is java21"],
            id="runtime-from-globals",
        ),
        pytest.param(
            {"function": "PackageType: Image\nImageUri: consumer:latest"},
            [
                f"{FUNCTION}.PackageType: PackageType Image is not supported: shardline runs Zip functions from a"
                " local folder"
            ],
            id="image",
        ),
        pytest.param(
            {"function": "Runtime: python3.12\nInlineCode: 'def handler(event, context): pass'"},
            [f"{FUNCTION}.InlineCode: InlineCode is not supported: put the code in a folder and point CodeUri at it"],
            id="inline-code",
        ),
        pytest.param(
            {
                "event": "Stream: arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000\n"
                "StartingPosition: LATEST"
            },
            [
                f"{EVENT_PATH}.Stream: is the ARN"
                " 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000', a stream"
                " outside this template; read it where it lives with `shardline run --remote` (and --endpoint-url,"
                " --region, --profile as needed), or map a table of this template: use !GetAtt <Table>.StreamArn"
            ],
            id="stream-arn-text",
        ),
        pytest.param(
            {"event": "Stream: !ImportValue shared-orders-stream\nStartingPosition: LATEST"},
            [
                f"{EVENT_PATH}.Stream: Fn::ImportValue is not supported: shardline runs one template and cannot"
                " read other stacks' exports; pass the value as a parameter instead"
            ],
            id="import-value",
        ),
        pytest.param(
            {"event": "Stream: !GetAtt Orders.Arn\nStartingPosition: LATEST"},
            [f"{EVENT_PATH}.Stream: is Orders's Arn, not its stream; use !GetAtt Orders.StreamArn"],
            id="table-arn",
        ),
        pytest.param(
            {"event": "Stream: !Ref Orders\nStartingPosition: LATEST"},
            [f"{EVENT_PATH}.Stream: is the name of Orders, not its stream; use !GetAtt Orders.StreamArn"],
            id="table-name",
        ),
        pytest.param(
            {"table": "BillingMode: PAY_PER_REQUEST"},
            [
                f"{EVENT_PATH}.Stream: Orders has no StreamSpecification, so it has no stream to read; add"
                " StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES} to the table"
            ],
            id="no-stream",
        ),
        pytest.param(
            {"event": "Stream: !GetAtt Missing.StreamArn\nStartingPosition: LATEST"},
            [f"{EVENT_PATH}.Stream: Fn::GetAtt Missing.StreamArn: the template has no resource named Missing"],
            id="unknown-table",
        ),
        pytest.param(
            {"event": "Stream: !GetAtt Orders.StreamArn"},
            [
                f"{EVENT_PATH}.StartingPosition: StartingPosition is required for DynamoDB streams: TRIM_HORIZON"
                " or LATEST"
            ],
            id="no-starting-position",
        ),
        pytest.param(
            {"event": "Stream: !GetAtt Orders.StreamArn\nStartingPosition: AT_TIMESTAMP\nStartingPositionTimestamp: 1"},
            [
                f"{EVENT_PATH}.StartingPosition: Unsupported starting position for DynamoDB Streams: AT_TIMESTAMP",
                f"{EVENT_PATH}.StartingPositionTimestamp: AT_TIMESTAMP is not allowed for DynamoDB streams: use"
                " TRIM_HORIZON or LATEST",
            ],
            id="at-timestamp",
        ),
        pytest.param(
            {"event": f"{EVENT}\nBatchSize: 0\nParallelizationFactor: 11\nMaximumRecordAgeInSeconds: 30"},
            [
                f"{EVENT_PATH}.BatchSize: 1 validation error detected: Value '0' at 'batchSize' failed to satisfy"
                " constraint: Member must have value greater than or equal to 1",
                f"{EVENT_PATH}.ParallelizationFactor: 1 validation error detected: Value '11' at"
                " 'parallelizationFactor' failed to satisfy constraint: Member must have value less than or equal"
                " to 10",
                f"{EVENT_PATH}.MaximumRecordAgeInSeconds: 1 validation error detected: Value '30' at"
                " 'maximumRecordAgeInSeconds' failed to satisfy constraint: Member must have value greater than or"
                " equal to 60",
            ],
            id="out-of-range",
        ),
        pytest.param(
            {"event": f"{EVENT}\nFunctionResponseTypes: ReportBatchItemFailures\nBisectBatchOnFunctionError: maybe"},
            [
                f"{EVENT_PATH}.FunctionResponseTypes: must be a list, e.g. [ReportBatchItemFailures], not the text"
                " 'ReportBatchItemFailures'",
                f"{EVENT_PATH}.BisectBatchOnFunctionError: 1 validation error detected: Value 'maybe' at"
                " 'bisectBatchOnFunctionError' failed to satisfy constraint: Member must be a boolean",
            ],
            id="wrong-types",
        ),
        pytest.param(
            {"event": f'{EVENT}\nFilterCriteria:\n  Filters:\n    - Pattern: \'{{"eventName": "INSERT"}}\''},
            [
                f"{EVENT_PATH}.FilterCriteria: Invalid filter pattern definition. In filter 1, eventName: a"
                ' field\'s value must be an array of values or an object, got a string (write ["INSERT"] to match'
                " that value)"
            ],
            id="bad-filter",
        ),
        pytest.param(
            {"event": f"{EVENT}\nQueues: [orders]\nBatchSizes: 10"},
            [
                f"{EVENT_PATH}.Queues: Queues is not a setting of DynamoDB stream mappings (these are: BatchSize,"
                " MaximumBatchingWindowInSeconds, StartingPosition, BisectBatchOnFunctionError, MaximumRetryAttempts,"
                " MaximumRecordAgeInSeconds, ParallelizationFactor, TumblingWindowInSeconds, FunctionResponseTypes,"
                " FilterCriteria, Enabled)",
                f"{EVENT_PATH}.BatchSizes: BatchSizes is not a setting of DynamoDB stream mappings (these are:"
                " BatchSize, MaximumBatchingWindowInSeconds, StartingPosition, BisectBatchOnFunctionError,"
                " MaximumRetryAttempts, MaximumRecordAgeInSeconds, ParallelizationFactor, TumblingWindowInSeconds,"
                " FunctionResponseTypes, FilterCriteria, Enabled)",
            ],
            id="unknown-settings",
        ),
        pytest.param(
            {"event": f"{EVENT}\nDestinationConfig:\n  OnSuccess: {{Destination: arn:aws:sqs:us-east-1:1:ok}}"},
            [
                f"{EVENT_PATH}.DestinationConfig.OnSuccess: stream mappings send only failures: DestinationConfig"
                " takes OnFailure alone",
                f"{EVENT_PATH}.DestinationConfig.OnFailure.Destination: Destination is required: the ARN of an SQS"
                " queue, SNS topic or S3 bucket (e.g. !GetAtt Queue.Arn)",
            ],
            id="on-success",
        ),
        pytest.param(
            {"event": f"{EVENT}\nDestinationConfig:\n  OnFailure: {{Destination: !GetAtt Consumer.Arn}}"},
            [
                f"{EVENT_PATH}.DestinationConfig.OnFailure.Destination: 'arn:aws:lambda:us-east-1:123456789012:"
                "function:app-Consumer' is not the ARN of an SQS queue, SNS topic or S3 bucket, where stream"
                " failures go"
            ],
            id="lambda-destination",
        ),
        pytest.param(
            {"function": "Runtime: python3.12\nCodeUri: s3://artifacts/consumer.zip"},
            [
                f"{FUNCTION}.CodeUri: CodeUri points to S3; shardline runs code from a local folder: point CodeUri"
                " at the source"
            ],
            id="code-in-s3",
        ),
        pytest.param(
            {"function": "Runtime: python3.12\nTimeout: 901\nMemorySize: 64"},
            [
                f"{FUNCTION}.Timeout: Timeout (seconds) 901 is outside AWS's range 1..900",
                f"{FUNCTION}.MemorySize: MemorySize (MB) 64 is outside AWS's range 128..10240",
            ],
            id="function-settings",
        ),
        pytest.param(
            {
                "function": "Runtime: python3.12\nEnvironment:\n  Variables:\n    A: !If [IsProd, x, y]\n"
                "    B: !GetAZs ''\n    C: !Ref Nowhere"
            },
            [
                f"{FUNCTION}.Environment.Variables.A: Fn::If is not supported: shardline does not evaluate"
                " Conditions; write the value the local run should use, or make it a parameter",
                f"{FUNCTION}.Environment.Variables.B: Fn::GetAZs is not supported by shardline's template reader",
                f"{FUNCTION}.Environment.Variables.C: Ref to Nowhere: the template has no parameter or resource"
                " named Nowhere",
            ],
            id="environment-intrinsics",
        ),
        pytest.param(
            {
                "head": "Conditions:\n  IsProd: !Equals [!Ref 'AWS::AccountId', '111122223333']\n",
                "resources": "Archive:\n  Type: AWS::DynamoDB::Table\n  Condition: IsProd\n  Properties:\n"
                "    AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]\n"
                "    KeySchema: [{AttributeName: pk, KeyType: HASH}]",
            },
            [
                "Resources.Archive.Condition: Conditions are not supported: shardline cannot tell whether the"
                " resource exists; remove the Condition for local runs"
            ],
            id="condition",
        ),
        pytest.param(
            {
                "resources": "Audit:\n  Type: AWS::DynamoDB::Table\n  Properties:\n"
                "    AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
                "    KeySchema: [{AttributeName: id, KeyType: HASH}, {AttributeName: at, KeyType: RANGE}]"
            },
            [
                "Resources.Audit.Properties.KeySchema[1].AttributeName: at is not in AttributeDefinitions; add"
                " {AttributeName: at, AttributeType: S|N|B}"
            ],
            id="key-not-defined",
        ),
        pytest.param(
            {
                "resources": "Ledger:\n  Type: AWS::DynamoDB::Table\n  Properties:\n"
                "    AttributeDefinitions:\n"
                "      [{AttributeName: id, AttributeType: X}, {AttributeName: at, AttributeType: N}]\n"
                "    KeySchema: [{AttributeName: at, KeyType: RANGE}, {AttributeName: id, KeyType: HASH}]\n"
                "    StreamSpecification: {StreamViewType: EVERYTHING}\n"
                "    TimeToLiveSpecification: {AttributeName: expires}"
            },
            [
                "Resources.Ledger.Properties.AttributeDefinitions[0].AttributeType: the text 'X' is not a key type;"
                " use S, N or B",
                "Resources.Ledger.Properties.KeySchema[0].KeyType: is the text 'RANGE', but DynamoDB wants the"
                " partition key (HASH) first, then the sort key (RANGE)",
                "Resources.Ledger.Properties.KeySchema[1].KeyType: is the text 'HASH', but DynamoDB wants the"
                " partition key (HASH) first, then the sort key (RANGE)",
                "Resources.Ledger.Properties.KeySchema[1].AttributeName: id is not in AttributeDefinitions; add"
                " {AttributeName: id, AttributeType: S|N|B}",
                "Resources.Ledger.Properties.StreamSpecification.StreamViewType: the text 'EVERYTHING' is not a"
                " stream view type; use one of KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES",
                "Resources.Ledger.Properties.TimeToLiveSpecification.Enabled: Enabled is required and must be true"
                " or false, not null",
            ],
            id="bad-table",
        ),
        pytest.param(
            {
                "resources": "Second:\n  Type: AWS::Lambda::EventSourceMapping\n  Properties:\n"
                "    EventSourceArn: !GetAtt Orders.StreamArn\n    FunctionName: !Ref Consumer\n"
                "    StartingPosition: TRIM_HORIZON"
            },
            [
                "Resources.Second: a second mapping of Consumer on the stream of Orders (Consumer.Changes is the"
                " first); AWS refuses it (ResourceConflictException): keep one"
            ],
            id="duplicate-mapping",
        ),
        pytest.param(
            {
                "resources": "Other:\n  Type: AWS::Lambda::EventSourceMapping\n  Properties:\n"
                "    EventSourceArn: !GetAtt Orders.StreamArn\n    FunctionName: some-other-function\n"
                "    StartingPosition: TRIM_HORIZON\n"
                "Legacy:\n  Type: AWS::Lambda::EventSourceMapping\n  Properties:\n"
                "    EventSourceArn: !GetAtt Orders.StreamArn\n    FunctionName: !Ref Plain\n"
                "    StartingPosition: TRIM_HORIZON\n"
                "Plain:\n  Type: AWS::Lambda::Function\n  Properties:\n    Code: {ZipFile: 'pass'}"
            },
            [
                "Resources.Other.Properties.FunctionName: 'some-other-function' is not a function of this"
                " template; use !Ref <Function>",
                "Resources.Legacy.Properties.FunctionName: Plain is AWS::Lambda::Function; shardline runs"
                " AWS::Serverless::Function resources (Handler, CodeUri)",
            ],
            id="mapping-function",
        ),
        pytest.param(
            {
                "head": "Parameters:\n  QueueArn: {Type: String}\n",
                "event": f"{EVENT}\nDestinationConfig: {{OnFailure: {{Destination: !Ref QueueArn}}}}",
            },
            [
                "Parameters.QueueArn: has no Default and no override; pass one, e.g. --parameter-overrides"
                " QueueArn=VALUE"
            ],
            id="parameter-without-default",
        ),
        pytest.param(
            {
                "head": "Parameters:\n  Stream:\n    Type: 'AWS::SSM::Parameter::Value<String>'\n"
                "    Default: /orders/stream\n",
                "event": "Stream: !Ref Stream\nStartingPosition: LATEST",
            },
            [
                f"{EVENT_PATH}.Stream: Ref to Stream: parameters of Type AWS::SSM::Parameter::Value<String> are read"
                " from SSM Parameter Store, which shardline does not do; make it a String parameter for local runs"
            ],
            id="ssm-parameter",
        ),
    ],
)
def test_unsupported_features_are_problems(tmp_path: Path, changes: dict[str, str], expected: list[str]) -> None:
    assert problems_of(sam(tmp_path, **changes)) == expected


def test_the_error_message_lists_every_problem(tmp_path: Path) -> None:
    path = sam(tmp_path, function="Runtime: nodejs20.x", event="Stream: !GetAtt Orders.StreamArn")
    message = "\n  ".join(
        [
            f"{path.resolve()}: 2 problems:",
            f"{EVENT_PATH}.StartingPosition: StartingPosition is required for DynamoDB streams: TRIM_HORIZON or LATEST",
            f"{FUNCTION}.Runtime: shardline runs Python functions; the Runtime of Consumer is nodejs20.x",
        ]
    )
    with pytest.raises(TemplateError, match=f"^{re.escape(message)}$") as info:
        load_template(path)
    assert info.value.path == path.resolve()
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.problems, copy.path, str(copy)) == (info.value.problems, info.value.path, str(info.value))


def test_a_handler_that_is_not_module_dot_function(tmp_path: Path) -> None:
    text = sam(tmp_path).read_text(encoding="utf-8").replace("Handler: app.handler", "Handler: handler")
    assert problems_of(write(tmp_path, text)) == [
        f"{FUNCTION}.Handler: 'handler' is not module.function, e.g. app.handler"
    ]


def test_a_missing_code_folder(tmp_path: Path) -> None:
    path = sam(tmp_path, function="Runtime: python3.12\nCodeUri: src/consumer/")
    assert problems_of(path) == [
        f"{FUNCTION}.CodeUri: the folder 'src/consumer/' does not exist (CodeUri is read from the template's"
        f" folder, {path.parent.resolve()})"
    ]
    (path.parent / "src").mkdir()
    (path.parent / "src" / "consumer").write_text("a file, not a folder", encoding="utf-8")
    assert problems_of(path) == [
        f"{FUNCTION}.CodeUri: 'src/consumer/' is a file; shardline runs code from a folder: point CodeUri at the"
        " unpacked source"
    ]


def test_layers_on_a_mapped_function_are_a_warning(tmp_path: Path) -> None:
    path = sam(tmp_path, function="Runtime: python3.12\nLayers: [arn:aws:lambda:us-east-1:123456789012:layer:deps:3]")
    assert load_template(path).warnings == [
        f"{FUNCTION}.Layers: Layers are not loaded locally; install what they provide into the environment that"
        " runs shardline"
    ]


def test_other_transforms_are_problems(tmp_path: Path) -> None:
    text = (
        sam(tmp_path)
        .read_text(encoding="utf-8")
        .replace(
            "Transform: AWS::Serverless-2016-10-31", "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]"
        )
    )
    assert problems_of(write(tmp_path, text)) == [
        "Transform: AWS::LanguageExtensions is not supported: shardline reads SAM templates"
        " (AWS::Serverless-2016-10-31) and cannot apply other transforms or macros"
    ]


def test_a_template_without_mappings_warns_that_nothing_runs(tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n")
    assert load_template(path).warnings == [
        "Resources: no function has a DynamoDB event and no AWS::Lambda::EventSourceMapping reads a table's stream:"
        " there is nothing to run"
    ]


def test_a_stream_of_another_service_in_a_dynamodb_event_is_a_problem(tmp_path: Path) -> None:
    path = sam(
        tmp_path,
        event="Stream: !GetAtt Clicks.Arn\nStartingPosition: LATEST",
        resources="Clicks:\n  Type: AWS::SQS::Queue",
    )
    assert problems_of(path) == [
        f"{EVENT_PATH}.Stream: Clicks is AWS::SQS::Queue, not a DynamoDB table; shardline runs mappings on the"
        " streams of the template's AWS::DynamoDB::Table resources"
    ]


# --------------------------------------------------------------------------------------------------
# Reading the file


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        pytest.param(
            "template.yaml",
            "Resources:\n  A:\n    Type: AWS::SQS::Queue\n  A:\n    Type: AWS::SNS::Topic\n",
            "line 4, column 3: while reading a mapping (from line 2) the key 'A' is written twice (first on line 2);"
            " keep one",
            id="yaml-duplicate-key",
        ),
        pytest.param(
            "template.yaml",
            "Resources:\n  A:\n    Type: [unclosed\n",
            f"line 4, column 1: while parsing a flow sequence {FLOW_ERROR}",
            id="yaml-syntax",
        ),
        pytest.param(
            "template.json",
            '{"Resources": {"A": {"Type": "AWS::SQS::Queue"},}}',
            "line 1, column 49: Expecting property name enclosed in double quotes",
            id="json-syntax",
        ),
        pytest.param(
            "template.json",
            '{"Resources": {}, "Resources": {}}',
            "the key 'Resources' is written twice in one object; keep one",
            id="json-duplicate-key",
        ),
        pytest.param(
            "template.yaml",
            "- just\n- a list\n",
            "a template is a mapping of sections (Parameters, Globals, Resources...)",
            id="not-a-mapping",
        ),
        pytest.param(
            "template.yaml",
            "Description: nothing here\n",
            "Resources: the template has no Resources; a SAM template defines its tables and functions there",
            id="no-resources",
        ),
    ],
)
def test_unreadable_templates(tmp_path: Path, name: str, text: str, problem: str) -> None:
    path = write(tmp_path, text, name)
    with pytest.raises(TemplateError, match=f"^{re.escape(f'{path.resolve()}: {problem}')}$") as info:
        load_template(path)
    assert info.value.problems == [problem]


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    with pytest.raises(TemplateError, match=f"^{re.escape(str(path))}: no such file; pass the path of the SAM"):
        load_template(path)


def test_dates_stay_text_and_short_and_long_forms_agree(tmp_path: Path) -> None:
    short = sam(tmp_path, head="AWSTemplateFormatVersion: 2010-09-09\n")
    long_form = short.read_text(encoding="utf-8").replace(
        "!GetAtt Orders.StreamArn", "{'Fn::GetAtt': [Orders, StreamArn]}"
    )
    assert load_template(short).mappings == load_template(write(tmp_path, long_form, "long.yaml")).mappings


def test_a_broken_template_reports_every_problem_at_once() -> None:
    assert problems_of(TEMPLATES / "broken" / "template.yaml") == [
        "Resources.Invoices.Condition: Conditions are not supported: shardline cannot tell whether the resource"
        " exists; remove the Condition for local runs",
        "Resources.CustomerSync.Properties.Events.Customers.Properties.Stream: Customers has no StreamSpecification,"
        " so it has no stream to read; add StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES} to the table",
        "Resources.CustomerSync.Properties.Events.Partners.Properties.Stream: is the ARN"
        " 'arn:aws:dynamodb:us-east-1:444455556666:table/partners/stream/2025-03-01T10:00:00.000', a stream outside"
        " this template; read it where it lives with `shardline run --remote` (and --endpoint-url, --region,"
        " --profile as needed), or map a table of this template: use !GetAtt <Table>.StreamArn",
        "Resources.CustomerSync.Properties.Events.Partners.Properties.BatchSize: 1 validation error detected: Value"
        " '20000' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000",
        # written once in Globals, reported once there
        "Globals.Function.Environment.Variables.SHARED_BUS: Fn::ImportValue is not supported: shardline runs one"
        " template and cannot read other stacks' exports; pass the value as a parameter instead",
        "Resources.CustomerSync.Properties.Environment.Variables.MODE: Fn::If is not supported: shardline does not"
        " evaluate Conditions; write the value the local run should use, or make it a parameter",
        "Resources.Notifier.Properties.Runtime: shardline runs Python functions; the Runtime of Notifier is nodejs20.x",
    ]


def test_no_value_removes_a_variable_and_a_setting(tmp_path: Path) -> None:
    path = sam(
        tmp_path,
        function="Runtime: python3.12\nEnvironment:\n  Variables:\n    KEEP: 'yes'\n    DROP: !Ref AWS::NoValue",
        event=f"{EVENT}\nBatchSize: !Ref AWS::NoValue",
    )
    template = load_template(path)
    assert template.functions["Consumer"].environment == {"KEEP": "yes"}
    assert template.mappings[0].settings == {"starting_position": "LATEST"}


def test_scalars_become_text_in_the_environment(tmp_path: Path) -> None:
    path = sam(
        tmp_path,
        function="Runtime: python3.12\nEnvironment:\n  Variables:\n    DEBUG: true\n    LIMIT: 25\n    RATIO: 0.5\n"
        "    NESTED: {a: 1}",
    )
    assert problems_of(path) == [
        f"{FUNCTION}.Environment.Variables.NESTED: an environment variable must be text, not a mapping"
    ]
    text = re.sub(r"^ *NESTED: .*\n", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    environment = load_template(write(tmp_path, text)).functions["Consumer"].environment
    assert environment == {"DEBUG": "true", "LIMIT": "25", "RATIO": "0.5"}  # as CloudFormation writes them


def test_allowed_pattern_applies_to_overrides() -> None:
    path = TEMPLATES / "json-app" / "template.json"
    assert problems_of(path, parameter_overrides={"Prefix": "Profiles_2"}) == [
        "Parameters.Prefix: the override 'Profiles_2' does not match AllowedPattern '[a-z-]+'"
    ]
    assert load_template(path, parameter_overrides={"Prefix": "people"}).tables["Profiles"].table_name == "people-table"


def test_a_condition_on_a_mapped_function(tmp_path: Path) -> None:
    text = (
        sam(tmp_path)
        .read_text(encoding="utf-8")
        .replace(
            "  Consumer:\n    Type: AWS::Serverless::Function\n",
            "  Consumer:\n    Type: AWS::Serverless::Function\n    Condition: Enabled\n",
        )
    )
    assert problems_of(write(tmp_path, text)) == [
        "Resources.Consumer.Condition: Conditions are not supported: shardline cannot tell whether the resource"
        " exists; remove the Condition for local runs"
    ]


def test_a_table_name_dynamodb_would_refuse(tmp_path: Path) -> None:
    text = sam(tmp_path).read_text(encoding="utf-8").replace("TableName: orders", "TableName: 'orders/v2'")
    assert problems_of(write(tmp_path, text)) == [
        "Resources.Orders.Properties.TableName: 'orders/v2' is not a DynamoDB table name: 3 to 255 letters, digits,"
        " '_', '-' or '.'"
    ]


def test_a_name_that_refers_to_itself(tmp_path: Path) -> None:
    text = sam(tmp_path).read_text(encoding="utf-8").replace("TableName: orders", "TableName: !Sub '${Orders}-v2'")
    assert problems_of(write(tmp_path, text)) == [
        "Resources.Orders.Properties.TableName: the name of Orders refers back to Orders itself"
    ]


# --------------------------------------------------------------------------------------------------
# Hardening: bounded work, and only TemplateError whatever the file holds


def test_a_number_past_pythons_digit_limit_is_a_problem(tmp_path: Path) -> None:
    yaml_path = sam(tmp_path, event=f"{EVENT}\nBatchSize: {'9' * 5000}")
    (problem,) = problems_of(yaml_path)
    assert re.fullmatch(r"line \d+, column \d+: a number of 5,000 characters; no template value needs one", problem)
    json_path = write(tmp_path, '{"Resources": {"T": {"Type": "X", "Properties": {"N": ' + "9" * 5000 + "}}}}",
                      "template.json")  # fmt: skip
    assert problems_of(json_path) == [
        "an integer has more digits than Python converts (4300); no DynamoDB number or Lambda event field needs"
        " that many"
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("template.yaml", "Resources: " + "[" * 5000 + "]" * 5000),
        ("template.yaml", "Resources:\n" + "".join("  " * depth + f"k{depth}:\n" for depth in range(1, 150))),
        ("template.json", '{"Resources": ' + "[" * 5000 + "]" * 5000 + "}"),
        ("template.json", '{"Resources": ' + "[" * 150 + "]" * 150 + "}"),
    ],
)
def test_deep_nesting_is_a_problem_not_a_recursion_error(tmp_path: Path, name: str, text: str) -> None:
    (problem,) = problems_of(write(tmp_path, text, name))
    # shardline's own bound (100 levels), or the parser's (libyaml stops at 1000, json at the recursion limit)
    assert re.search(r"nested more than 100 levels deep|nested too deeply to read|maximum nesting depth", problem)


def test_billion_laughs_is_refused_at_once_as_cloudformation_refuses_aliases(tmp_path: Path) -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefghi", "bcdefghij", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    text = "\n".join(levels) + "\nResources:\n  T: {Type: AWS::DynamoDB::Table, Properties: {KeySchema: *j}}\n"
    assert len(text.encode()) < 700
    started = time.perf_counter()
    assert problems_of(write(tmp_path, text)) == [
        "line 2, column 8: YAML aliases (*name) are not allowed in CloudFormation templates; write the value out in"
        " full"
    ]
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("insert", "expected"),
    [
        ("  <<: {Type: AWS::SQS::Queue}\n", "hash merges (<<) are not supported by CloudFormation; write the keys out"),
        ("  Blob: !!binary aGk=\n", "the tag binary is not supported by CloudFormation"),
        ("  Tags: !!set {a, b}\n", "the tag set is not supported by CloudFormation"),
        ("  Pairs: !!omap [a: 1]\n", "the tag omap is not supported by CloudFormation"),
    ],
)
def test_yaml_features_cloudformation_does_not_support(tmp_path: Path, insert: str, expected: str) -> None:
    text = sam(tmp_path).read_text(encoding="utf-8").replace("Resources:\n", "Resources:\n  Extra:\n" + insert, 1)
    (problem,) = problems_of(write(tmp_path, text))
    assert re.fullmatch(r"line \d+, column \d+: .*", problem)
    assert expected in problem


def test_a_template_larger_than_the_bound_is_refused_after_reading_the_bound(tmp_path: Path) -> None:
    path = write(tmp_path, "# padding\n" * (MAX_TEMPLATE_BYTES // 10 + 1))
    assert problems_of(path) == [
        "larger than 2 MB, the most shardline reads; CloudFormation itself takes at most 1 MB (a template in S3) or"
        " 51,200 bytes (a template sent inline)"
    ]
    assert problems_of(Path("/dev/zero"))[0].startswith("larger than 2 MB")


def test_text_built_by_intrinsic_functions_is_bounded(tmp_path: Path) -> None:
    # A 4 KB parameter joined with itself a thousand times, eight times over: 32 MB of text from 80 KB.
    joined = "!Join ['', [" + ", ".join(["!Ref Big"] * 1000) + "]]"
    variables = "".join(f"\n    V{index}: {joined}" for index in range(8))
    head = f"Parameters:\n  Big: {{Type: String, Default: {'x' * 4000}}}"
    path = sam(tmp_path, head=head, function=f"Runtime: python3.12\nEnvironment:\n  Variables:{variables}")
    started = time.perf_counter()
    problems = problems_of(path)
    assert time.perf_counter() - started < 10
    assert problems[-1].endswith(
        "the intrinsic functions build more than 16 MB of text, more than shardline does; do names or values built"
        " with Fn::Sub or Fn::Join repeat one another?"
    )


def test_resolution_steps_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shardline.local._template._MAX_STEPS", 20)
    path = sam(tmp_path, function="Runtime: python3.12\nEnvironment:\n  Variables: {" + ", ".join(
        f"V{index}: x" for index in range(30)) + "}")  # fmt: skip
    assert problems_of(path)[-1] == (
        "Resources: resolving the template takes more than 20 steps, more than shardline does; is a large Globals"
        " section repeated into many functions?"
    )


def test_names_made_of_names_are_bounded(tmp_path: Path) -> None:
    queues = "".join(
        f"\nQ{index}:\n  Type: AWS::SQS::Queue\n  Properties: {{QueueName: !Sub '${{Q{index + 1}}}-x'}}"
        for index in range(80)
    )
    path = sam(tmp_path, resources=queues + "\nQ80: {Type: AWS::SQS::Queue}",
               function="Runtime: python3.12\nEnvironment: {Variables: {QUEUE: !GetAtt Q0.QueueName}}")  # fmt: skip
    problems = problems_of(path)
    assert any("names made from other resources' names nest more than 50 deep here" in line for line in problems)


def test_problems_are_listed_up_to_a_bound_then_counted(tmp_path: Path) -> None:
    definitions = "[" + ", ".join(["{AttributeName: ''}"] * 300) + "]"
    text = (
        sam(tmp_path)
        .read_text(encoding="utf-8")
        .replace(
            "AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]", f"AttributeDefinitions: {definitions}"
        )
    )
    problems = problems_of(write(tmp_path, text))
    assert len(problems) == 101
    assert problems[0].startswith("Resources.Orders.Properties.AttributeDefinitions[0]: each definition is")
    assert problems[-1] == "... and 201 more problems; fix those above first"


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("Timeout: .inf", f"{FUNCTION}.Timeout: Timeout (seconds) must be a finite number, not inf"),
        ("MemorySize: .nan", f"{FUNCTION}.MemorySize: MemorySize (MB) must be a finite number, not nan"),
        ("Timeout: '" + "9" * 5000 + "'", f"{FUNCTION}.Timeout: Timeout (seconds) must be a number, not the text '999"),
        ("CodeUri: \"a\\0b\"", f"{FUNCTION}.CodeUri: 'a\\x00b' is not a path this system can open"),
        ("Timeout: [1]", f"{FUNCTION}.Timeout: Timeout (seconds) must be a number, not a list"),
        ("Environment: {Variables: {X: !Select [.inf, [a, b]]}}",
         f"{FUNCTION}.Environment.Variables.X: Fn::Select index inf is not between 0 and 1"),
    ],
)  # fmt: skip
def test_odd_values_are_problems_with_their_path(tmp_path: Path, function: str, expected: str) -> None:
    path = sam(tmp_path, function=f"Runtime: python3.12\n{function}")
    (problem,) = problems_of(path)
    assert problem.startswith(expected), problem


def test_odd_parameters_are_problems(tmp_path: Path) -> None:
    long, nested = "x" * 5000, "(" * 1000 + ")" * 1000
    head = f"""\
    Parameters:
      Long: {{Type: String, Default: '{long}'}}
      Nested: {{Type: String, Default: x, AllowedPattern: '{nested}'}}
      Warned: {{Type: String, Default: x, AllowedPattern: '[[x]'}}
    """
    problems = problems_of(sam(tmp_path, head=head))
    assert problems[0] == "Parameters.Long: the Default is 5,000 bytes; a parameter value is at most 4,096"
    assert problems[1].startswith("Parameters.Nested.AllowedPattern: '((((")
    assert problems[1].endswith("is not a regular expression (too deeply nested or too large)")
    assert len(problems) == 2  # '[[x]' compiles (with a FutureWarning, which is not an error here) and matches


def test_sections_of_the_wrong_type_are_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "Resources: 5\nParameters: [a]\nGlobals: text\n")
    assert problems_of(path) == [
        "Parameters: must be a mapping of parameter names to their definitions, not a list",
        "Resources: the template has no Resources; a SAM template defines its tables and functions there",
        "Globals: must be a mapping of sections, e.g. Function: {Runtime: python3.12}",
    ]


def test_mapping_keys_are_text_as_in_json(tmp_path: Path) -> None:
    variables = "{1: one, true: 'yes', null: none, 2.5: x}"
    path = sam(tmp_path, function=f"Runtime: python3.12\nEnvironment: {{Variables: {variables}}}")
    environment = load_template(path).functions["Consumer"].environment
    assert environment == {"1": "one", "true": "yes", "null": "none", "2.5": "x"}
    clash = sam(tmp_path, function="Runtime: python3.12\nEnvironment: {Variables: {1: one, '1': uno}}")
    (problem,) = problems_of(clash)
    assert problem.endswith("the key '1' is written twice (first on line 16); keep one")


def test_a_path_the_system_cannot_open_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"^.*a\x00b\.yaml: is not a path this system can open"):
        load_template(tmp_path / "a\x00b.yaml")
    with pytest.raises(TemplateError, match=r"not a folder"):
        find_template(str(tmp_path / "a\x00b"))


# --------------------------------------------------------------------------------------------------
# Tables as the endpoint serves them: secondary indexes, billing, streams (issue 13)

ORDER_KEYS = """\
AttributeDefinitions:
  - {AttributeName: pk, AttributeType: S}
  - {AttributeName: sk, AttributeType: N}
  - {AttributeName: status, AttributeType: S}
  - {AttributeName: placed, AttributeType: N}
KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
"""


def table_only(folder: Path, properties: str, *, head: str = "") -> Path:
    """A template with one table, ``Orders`` ("orders"), and the given properties."""
    body = textwrap.indent(textwrap.dedent(properties), " " * 6)
    return write(
        folder,
        f"{head}Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
        f"      TableName: orders\n{body}",
    )


def test_indexes_billing_and_throughput_are_read(tmp_path: Path) -> None:
    path = table_only(
        tmp_path,
        ORDER_KEYS
        + """\
BillingMode: PROVISIONED
ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: !Ref Units}
Tags: [{Key: team, Value: billing}]
TableClass: STANDARD_INFREQUENT_ACCESS
DeletionProtectionEnabled: true
GlobalSecondaryIndexes:
  - IndexName: by-status
    KeySchema: [{AttributeName: status, KeyType: HASH}, {AttributeName: placed, KeyType: RANGE}]
    Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [total, customer]}
    ProvisionedThroughput: {ReadCapacityUnits: 2, WriteCapacityUnits: 1}
  - IndexName: by-placed
    KeySchema: [{AttributeName: placed, KeyType: HASH}]
    Projection: {ProjectionType: KEYS_ONLY}
LocalSecondaryIndexes:
  - IndexName: latest
    KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: placed, KeyType: RANGE}]
    Projection: {ProjectionType: ALL}
""",
        head="Parameters:\n  Units: {Type: Number, Default: 3}\n",
    )
    (spec,) = load_template(path).tables.values()
    assert spec == TableSpec(
        "Orders",
        "orders",
        {"pk": "S", "sk": "N"},
        None,  # no StreamSpecification: no stream, as on AWS
        None,
        global_indexes=(
            IndexSpec("by-status", {"status": "S", "placed": "N"}, "INCLUDE", ("total", "customer")),
            IndexSpec("by-placed", {"placed": "N"}, "KEYS_ONLY"),
        ),
        local_indexes=(IndexSpec("latest", {"pk": "S", "placed": "N"}, "ALL"),),
        extra={
            "attribute_definitions": {"pk": "S", "sk": "N", "status": "S", "placed": "N"},
            "billing_mode": "PROVISIONED",
            "throughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
            "index_throughput": {"by-status": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 1}},
            "tags": {"team": "billing"},
            "table_class": "STANDARD_INFREQUENT_ACCESS",
            "deletion_protection": True,
        },
    )


def test_a_simple_table_is_on_demand_unless_given_throughput(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Transform: AWS::Serverless-2016-10-31\nResources:\n"
        "  Plain:\n    Type: AWS::Serverless::SimpleTable\n"
        "  Sized:\n    Type: AWS::Serverless::SimpleTable\n    Properties:\n"
        "      PrimaryKey: {Name: n, Type: Number}\n"
        "      ProvisionedThroughput: {ReadCapacityUnits: 4, WriteCapacityUnits: 2}\n",
    )
    tables = load_template(path).tables
    assert tables["Plain"].extra == {"attribute_definitions": {"id": "S"}, "billing_mode": "PAY_PER_REQUEST"}
    assert tables["Sized"].extra == {
        "attribute_definitions": {"n": "N"},
        "billing_mode": "PROVISIONED",
        "throughput": {"ReadCapacityUnits": 4, "WriteCapacityUnits": 2},
    }


GSI = "GlobalSecondaryIndexes:\n  - IndexName: by-status\n    KeySchema: [{AttributeName: status, KeyType: HASH}]\n"
TABLE = "Resources.Orders.Properties"


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        pytest.param(
            ORDER_KEYS.replace(", {AttributeName: sk, KeyType: RANGE}", "")
            .replace("  - {AttributeName: sk, AttributeType: N}\n", "")
            .replace("  - {AttributeName: status, AttributeType: S}\n", "")
            + "LocalSecondaryIndexes:\n  - IndexName: latest\n"
            "    KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: placed, KeyType: RANGE}]\n"
            "    Projection: {ProjectionType: ALL}\n",
            [
                f"{TABLE}.LocalSecondaryIndexes[0]: a local secondary index needs a table with a sort key (it is"
                " another sort key on the same partition); use a global secondary index"
            ],
            id="lsi-without-a-table-sort-key",
        ),
        pytest.param(
            ORDER_KEYS + "LocalSecondaryIndexes:\n  - IndexName: latest\n"
            "    KeySchema: [{AttributeName: status, KeyType: HASH}, {AttributeName: placed, KeyType: RANGE}]\n"
            "    Projection: {ProjectionType: ALL}\n",
            [
                f"{TABLE}.LocalSecondaryIndexes[0].KeySchema: a local secondary index has the table's partition key"
                " (pk, HASH) and a sort key of its own (RANGE)"
            ],
            id="lsi-with-another-partition-key",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: placed, AttributeType: N}\n", "")
            + GSI
            + "    Projection: {ProjectionType: INCLUDE}\n",
            [
                f"{TABLE}.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes: ProjectionType INCLUDE needs"
                " NonKeyAttributes: a list of 1 to 20 attribute names"
            ],
            id="include-without-attributes",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: placed, AttributeType: N}\n", "")
            + GSI
            + "    Projection: {ProjectionType: ALL, NonKeyAttributes: [total]}\n",
            [
                f"{TABLE}.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes: NonKeyAttributes go with"
                " ProjectionType INCLUDE, not ALL"
            ],
            id="attributes-without-include",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: placed, AttributeType: N}\n", "") + GSI,
            [
                f"{TABLE}.GlobalSecondaryIndexes[0].Projection: Projection is required: {{ProjectionType: ALL}},"
                " KEYS_ONLY or INCLUDE"
            ],
            id="no-projection",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: status, AttributeType: S}\n", "").replace(
                "  - {AttributeName: placed, AttributeType: N}\n", ""
            )
            + GSI
            + "    Projection: {ProjectionType: ALL}\n",
            [
                f"{TABLE}.GlobalSecondaryIndexes[0].KeySchema[0].AttributeName: status is not in"
                " AttributeDefinitions; add {AttributeName: status, AttributeType: S|N|B}"
            ],
            id="index-key-not-defined",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: placed, AttributeType: N}\n", "")
            + GSI
            + "    Projection: {ProjectionType: ALL}\n"
            + "  - IndexName: by-status\n    KeySchema: [{AttributeName: status, KeyType: HASH}]\n"
            "    Projection: {ProjectionType: ALL}\n",
            [
                f"{TABLE}.GlobalSecondaryIndexes[1].IndexName: by-status is the name of another index"
                f" ({TABLE}.GlobalSecondaryIndexes[0]); index names are unique within a table"
            ],
            id="duplicate-index-name",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: placed, AttributeType: N}\n", "")
            + "GlobalSecondaryIndexes:\n  - IndexName: s\n    KeySchema: [{AttributeName: status, KeyType: HASH}]\n"
            "    Projection: {ProjectionType: ALL}\n",
            [
                f"{TABLE}.GlobalSecondaryIndexes[0].IndexName: 's' is not an index name: 3 to 255 letters, digits, '_',"
                " '-' or '.'"
            ],
            id="index-name",
        ),
        pytest.param(
            ORDER_KEYS,
            [
                f"{TABLE}.AttributeDefinitions: status, placed are defined but no key schema uses them; DynamoDB"
                " refuses attribute definitions that are not keys of the table or an index (define only key"
                " attributes)"
            ],
            id="unused-definitions",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: status, AttributeType: S}\n", "").replace(
                "  - {AttributeName: placed, AttributeType: N}\n", ""
            )
            + "StreamSpecification: {StreamEnabled: false, StreamViewType: NEW_IMAGE}\n",
            [
                f"{TABLE}.StreamSpecification.StreamEnabled: CloudFormation's StreamSpecification has no"
                " StreamEnabled: remove the StreamSpecification for a table without a stream, or keep only"
                " StreamViewType"
            ],
            id="stream-enabled",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: status, AttributeType: S}\n", "").replace(
                "  - {AttributeName: placed, AttributeType: N}\n", ""
            )
            + "BillingMode: PAY_PER_REQUEST\nProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}\n",
            [
                f"{TABLE}.ProvisionedThroughput: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified"
                " when BillingMode is PAY_PER_REQUEST (DynamoDB refuses it): remove ProvisionedThroughput"
            ],
            id="on-demand-with-throughput",
        ),
        pytest.param(
            ORDER_KEYS.replace("  - {AttributeName: status, AttributeType: S}\n", "").replace(
                "  - {AttributeName: placed, AttributeType: N}\n", ""
            )
            + "BillingMode: ON_DEMAND\nProvisionedThroughput: {ReadCapacityUnits: 0, WriteCapacityUnits: 1}\n",
            [
                f"{TABLE}.BillingMode: the text 'ON_DEMAND' is not PROVISIONED or PAY_PER_REQUEST",
                f"{TABLE}.ProvisionedThroughput.ReadCapacityUnits: the number 0: ReadCapacityUnits is a whole number"
                " of at least 1",
            ],
            id="billing-values",
        ),
    ],
)
def test_index_and_billing_mistakes_are_problems(tmp_path: Path, properties: str, expected: list[str]) -> None:
    assert problems_of(table_only(tmp_path, properties)) == expected
