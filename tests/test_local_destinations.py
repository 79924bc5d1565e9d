"""On-failure destinations sent through boto3 (checked against moto's SQS, SNS and S3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shardline.local import Boto3Destination, Pipeline, Store, StoreDestination
from shardline.local._destinations import destination_from
from shardline.testing import VirtualClock

moto = pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        yield


def failing(event: dict[str, Any], context: Any) -> None:
    raise RuntimeError("always")


def run_to_destination(on_failure: object) -> list[dict[str, Any]]:
    with Store(":memory:", clock=VirtualClock()) as store:
        table = store.create_table("Orders", key_schema={"pk": "S"})
        table.put_item({"pk": "order#1"})
        pipeline = Pipeline(store)
        pipeline.add_mapping(table, failing, maximum_retry_attempts=0, on_failure=on_failure)
        pipeline.run_until_idle()
        return pipeline.destination


def test_sqs_destination_receives_the_failure_record(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    (sent,) = run_to_destination({"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:failures"}})
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"]) == sent
    assert sent["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_sns_destination_publishes(aws: None) -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="failures")["TopicArn"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:123456789012:tap")
    (sent,) = run_to_destination(topic)
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(json.loads(message["Body"])["Message"]) == sent


def test_s3_destination_writes_an_object_per_record(aws: None) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="failures")
    (sent,) = run_to_destination("arn:aws:s3:::failures")
    (entry,) = s3.list_objects_v2(Bucket="failures")["Contents"]
    assert entry["Key"].startswith("aws/lambda/")
    body = json.loads(s3.get_object(Bucket="failures", Key=entry["Key"])["Body"].read())
    payload = body.pop("payload")  # the S3 form adds the invocation's records ("Using AWS Lambda with Amazon DynamoDB")
    assert body == sent
    assert [record["dynamodb"]["Keys"] for record in payload["Records"]] == [{"pk": {"S": "order#1"}}]
    assert entry["Key"].startswith("aws/lambda/Orders-failing/")


def test_destination_settings_are_checked() -> None:
    with Store(":memory:") as store:
        assert isinstance(destination_from(None, store=store, mapping="m"), StoreDestination)
        with pytest.raises(ValueError, match=r"expected an SQS queue, SNS topic or S3 bucket ARN"):
            Boto3Destination("arn:aws:lambda:us-east-1:123456789012:function:x")
        with pytest.raises(ValueError, match=r"on_failure: expected \{\"OnFailure\""):
            destination_from({"OnFailure": {}}, store=store, mapping="m")
        with pytest.raises(TypeError, match=r"on_failure: expected a path, an ARN or a destination object, got int"):
            destination_from(3, store=store, mapping="m")


def test_a_queue_that_does_not_exist_is_a_destination_error(aws: None) -> None:
    from shardline.local._destinations import DestinationError

    with pytest.raises(
        DestinationError, match=r"^on-failure destination arn:aws:sqs:us-east-1:123456789012:missing: the record"
    ) as caught:
        run_to_destination({"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:missing"}})
    assert caught.value.__cause__ is not None  # botocore's error, kept for --debug


def test_bad_destination_settings_are_shardline_errors() -> None:
    from shardline import ShardlineError
    from shardline.local import InvalidParameterValueError

    with Store(":memory:") as store:
        for config in ({"OnFailure": {}}, "arn:aws:lambda:us-east-1:123456789012:function:x"):
            with pytest.raises(InvalidParameterValueError, match=r"^on.failure") as caught:
                destination_from(config, store=store, mapping="m")
            assert isinstance(caught.value, ShardlineError)
        with pytest.raises(InvalidParameterValueError, match=r"cannot make a SQS client"):
            Boto3Destination("arn:aws:sqs:us-east-1:123456789012:q", endpoint_url="not a url")
