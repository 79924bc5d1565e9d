"""Fuzzing redrive's inputs: on-failure records from files and the state database, and the batches they name.

Whatever the record holds, reading it and redriving it returns, or raises a shardline error naming the record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline.local import Pipeline, Store, Table
from shardline.local._redrive import RedriveError, failed_batch, redrive_batch, stored_failures
from shardline.testing import VirtualClock

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
INFO_FIELDS = ("shardId", "startSequenceNumber", "endSequenceNumber", "batchSize", "streamArn")


@pytest.fixture(scope="module")
def failed() -> Iterator[tuple[Store, Table, dict[str, Any]]]:
    clock = VirtualClock()
    with Store(":memory:", clock=clock) as store:
        orders = store.create_table("Orders", key_schema={"pk": "S"})
        pipeline = Pipeline(store)

        def failing(event: Any, context: Any) -> None:
            raise ValueError("always")

        pipeline.add_mapping(orders, failing, name="M", maximum_retry_attempts=0, batch_size=2)
        for key in ("a", "b", "c"):
            orders.put_item({"pk": key})
        pipeline.run_until_idle()
        yield store, orders, pipeline.destination[0]


def _mutations(record: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Near misses of a real record: one field of its batch info replaced, dropped, or a value from the record."""
    info = record["DDBStreamBatchInfo"]
    values = JSON | st.sampled_from([info[name] for name in INFO_FIELDS]) | st.from_regex(r"\A[0-9]{1,45}\Z")

    def mutate(name: str, value: Any, drop: bool) -> dict[str, Any]:
        changed = dict(info)
        if drop:
            changed.pop(name)
        else:
            changed[name] = value
        return {**record, "DDBStreamBatchInfo": changed}

    return st.builds(mutate, st.sampled_from(INFO_FIELDS), values, st.booleans())


@FUZZ
@given(value=JSON)
def test_any_json_is_read_or_refused_with_a_shardline_error(value: Any) -> None:
    try:
        failed_batch(value, source="line 1")
    except RedriveError as exc:
        message = str(exc)
    else:
        return
    assert message.startswith("line 1: ")


@FUZZ
@given(data=st.data())
def test_near_miss_records_redrive_or_are_refused(failed: tuple[Store, Table, dict[str, Any]], data: Any) -> None:
    store, _, record = failed
    mutated = data.draw(_mutations(record))
    batch = returns_or_raises_shardline_error(lambda: failed_batch(mutated, source="record 1"))
    if batch is None:
        return
    report = redrive_batch(store, batch, None, skip_superseded=data.draw(st.booleans()))
    assert (report.fetched.problem is None) == bool(report.outcomes)
    assert all(outcome.status == "not sent" for outcome in report.outcomes)


@FUZZ
@given(text=st.text(max_size=60) | JSON.map(repr))
def test_stored_records_of_any_text_are_listed_or_named(text: str) -> None:
    with Store(":memory:") as store:
        store.set_state("destination:M", "000000000000", text)
        found = returns_or_raises_shardline_error(lambda: stored_failures(store))
        if found is not None:
            assert [failure.mapping for failure in found] == ["M"]


def test_the_command_line_refuses_fuzzed_files_in_one_line(tmp_path: Path) -> None:
    """A sample of the fuzzer's refusals through `--from-file`: never a traceback (the reading is the same code)."""
    from shardline.cli._io import CLIError
    from shardline.cli.redrive import _file_batches

    for index, text in enumerate(['{"DDBStreamBatchInfo": []}', "[1, 2", "", "\ufeff{}", '{"a": 1}\n{"b": 2}']):
        path = tmp_path / f"f{index}.jsonl"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(CLIError, match=rf"^{path}"):
            _file_batches(str(path))


# -- what AWS's side hands a redrive: queue messages, bucket objects, Lambda's Invoke answers ---------------


class _Messages:
    """An SQS client holding fuzzed message bodies; it records deletes and releases."""

    def __init__(self, bodies: list[Any]) -> None:
        self.bodies = bodies
        self.acknowledged: list[str] = []

    def receive_message(self, **arguments: Any) -> dict[str, Any]:
        bodies, self.bodies = self.bodies, []
        return {"Messages": [{"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": b} for i, b in enumerate(bodies)]}

    def delete_message(self, **arguments: Any) -> None:
        self.acknowledged.append("delete")

    def change_message_visibility(self, **arguments: Any) -> None:
        self.acknowledged.append("release")


BODIES = st.one_of(
    st.text(max_size=60),
    JSON.map(json.dumps),
    JSON.map(lambda value: json.dumps({"Type": "Notification", "Message": json.dumps(value)})),
    st.none(),
    st.integers(),
)


@FUZZ
@given(st.lists(BODIES, max_size=4))
def test_any_queue_message_is_a_record_or_a_stated_problem(bodies: list[Any]) -> None:
    from shardline.aws import SqsSource

    client = _Messages(bodies)
    deliveries = list(SqsSource("https://sqs.us-east-1.amazonaws.com/123456789012/q", client=client))
    assert len(deliveries) == len(bodies)
    for delivery in deliveries:
        if delivery.problem is None:
            returns_or_raises_shardline_error(lambda d=delivery: failed_batch(d.record, source=d.source))
        else:
            assert delivery.problem.startswith(delivery.source)
        delivery.release()
    assert client.acknowledged == ["release"] * len(bodies)


class _Answer:
    def __init__(self, body: Any) -> None:
        self.body = body

    def read(self) -> Any:
        if isinstance(self.body, Exception):
            raise self.body
        return self.body


class _Lambda:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    def invoke(self, **arguments: Any) -> dict[str, Any]:
        return self.answer


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "FunctionError": st.one_of(st.none(), st.text(max_size=10), st.integers()),
            "LogResult": st.one_of(st.text(max_size=20), st.binary(max_size=10)),
            "ResponseMetadata": st.one_of(JSON, st.just({"RequestId": "r"})),
            "Payload": st.one_of(
                st.none(),
                st.builds(_Answer, st.binary(max_size=40)),
                st.builds(_Answer, JSON.map(lambda v: json.dumps(v).encode())),
                st.just(_Answer(ConnectionResetError("reset"))),
            ),
        },
    )
)
def test_any_invoke_answer_is_a_response_or_a_function_error(answer: dict[str, Any]) -> None:
    from shardline.aws import LambdaInvoker
    from shardline.local._invoker import Invocation

    logs: list[str] = []
    invoker = LambdaInvoker("f", client=_Lambda(answer), log=logs.append)
    invocation = invoker.invoke({"Records": []}, deadline_ms=0)
    assert isinstance(invocation, Invocation)
    assert (invocation.error is None) or invocation.response is None
    assert all(isinstance(line, str) for line in logs)


RECORDISH = st.fixed_dictionaries(
    {},
    optional={
        "dynamodb": st.one_of(
            JSON,
            st.fixed_dictionaries(
                {},
                optional={
                    "SequenceNumber": st.one_of(st.sampled_from(["1" * 21, "1" * 20 + "2", "٣" * 21]), JSON),
                    "Keys": JSON,
                },
            ),
        ),
        "eventSourceARN": JSON,
    },
)


@FUZZ
@given(st.one_of(JSON, st.fixed_dictionaries({"Records": st.one_of(JSON, st.lists(RECORDISH, max_size=3))})))
def test_any_s3_payload_is_records_in_the_range_or_nothing(payload: Any) -> None:
    from shardline.local._redrive import _payload_records

    info = {
        "shardId": "shardId-1",
        "startSequenceNumber": "1" * 21,
        "endSequenceNumber": "1" * 20 + "2",
        "batchSize": 1,
        "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026-01-01T00:00:00.000",
    }
    batch = failed_batch({"DDBStreamBatchInfo": info, "payload": payload}, source="s3://b/k")
    kept = _payload_records(batch)
    for record in kept:
        assert record["eventSourceARN"] == info["streamArn"]
        assert "1" * 21 <= record["dynamodb"]["SequenceNumber"] <= "1" * 20 + "2"
