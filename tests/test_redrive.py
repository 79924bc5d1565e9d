"""Redriving on-failure records: the loop run → failure → fix → redrive, on a virtual clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shardline.local import Pipeline, Store, Table
from shardline.local._invoker import InProcessInvoker
from shardline.local._redrive import (
    FailedBatch,
    RedriveError,
    failed_batch,
    lambda_record,
    redrive_batch,
    stored_failures,
)
from shardline.testing import VirtualClock

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock("2026-01-01T00:00:00Z")


@pytest.fixture
def store(clock: VirtualClock) -> Iterator[Store]:
    with Store(":memory:", clock=clock) as store:
        yield store


@pytest.fixture
def orders(store: Store) -> Table:
    return store.create_table("Orders", key_schema={"pk": "S"})


def buggy(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["pk"]["S"] == "poison":
            raise ValueError("cannot process poison")


def fixed(event: dict[str, Any], context: Any) -> None:
    return None


def reports_poison(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = [
        {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
        for record in event["Records"]
        if record["dynamodb"]["Keys"]["pk"]["S"] == "poison"
    ]
    return {"batchItemFailures": failures}


def fail_once(store: Store, orders: Table, *keys: str) -> tuple[Pipeline, FailedBatch]:
    """Write ``keys`` and run a mapping whose handler fails on "poison": the batch goes to the destination."""
    pipeline = Pipeline(store)
    pipeline.add_mapping(orders, buggy, name="OrdersMapping", batch_size=10, maximum_retry_attempts=0)
    with store.transaction():
        for key in keys:
            orders.put_item({"pk": key})
    pipeline.run_until_idle()
    assert len(pipeline.destination) == 1
    return pipeline, failed_batch(pipeline.destination[0], source="destination record 1")


def invoker(handler: Any, clock: VirtualClock) -> InProcessInvoker:
    return InProcessInvoker(handler, function_name="orders", clock=clock)


def outcomes(report: Any) -> list[tuple[str, str]]:
    return [(outcome.keys["pk"]["S"], outcome.status) for outcome in report.outcomes]


# -- the loop ---------------------------------------------------------------------------------------------


def test_a_fixed_handler_redriven_succeeds_on_exactly_the_event_lambda_sent(
    store: Store, orders: Table, clock: VirtualClock
) -> None:
    pipeline, batch = fail_once(store, orders, "a", "poison", "b")
    assert batch.batch_size == 3
    seen: list[Any] = []
    report = redrive_batch(
        store, batch, invoker(lambda event, context: seen.append(event), clock), deadline_ms=clock.now_ms() + 3000
    )
    assert report.ok
    assert outcomes(report) == [("a", "succeeded"), ("poison", "succeeded"), ("b", "succeeded")]
    # The very event the mapping sent when the batch failed: records, field order and eventSourceARN.
    assert seen == [pipeline.invocations[-1].event]
    assert list(seen[0]["Records"][0]) == list(pipeline.invocations[-1].event["Records"][0])
    assert seen[0]["Records"][0]["eventSourceARN"] == orders.stream_arn


def test_the_bug_still_there_fails_every_record_with_the_reason(
    store: Store, orders: Table, clock: VirtualClock
) -> None:
    _, batch = fail_once(store, orders, "a", "poison")
    report = redrive_batch(store, batch, invoker(buggy, clock), deadline_ms=clock.now_ms() + 3000)
    assert not report.ok
    assert outcomes(report) == [("a", "failed"), ("poison", "failed")]
    assert report.outcomes[1].reason == (
        "ValueError: cannot process poison; Lambda retries the whole batch (2 records)"
    )


def test_a_partial_batch_response_fails_only_the_reported_records(
    store: Store, orders: Table, clock: VirtualClock
) -> None:
    _, batch = fail_once(store, orders, "a", "poison", "b")
    report = redrive_batch(store, batch, invoker(reports_poison, clock), deadline_ms=clock.now_ms() + 3000)
    assert outcomes(report) == [("a", "succeeded"), ("poison", "failed"), ("b", "succeeded")]
    assert report.outcomes[1].reason == "reported in batchItemFailures"
    ignored = redrive_batch(
        store,
        batch,
        invoker(reports_poison, clock),
        deadline_ms=clock.now_ms() + 3000,
        report_batch_item_failures=False,
    )
    assert outcomes(ignored) == [("a", "succeeded"), ("poison", "succeeded"), ("b", "succeeded")]


def test_a_dry_run_fetches_and_invokes_nothing(store: Store, orders: Table) -> None:
    pipeline, batch = fail_once(store, orders, "poison")
    report = redrive_batch(store, batch, None)
    assert report.event == pipeline.invocations[-1].event
    assert report.invocation is None
    assert [(o.status, o.reason) for o in report.outcomes] == [("not sent", "dry run")]


# -- batches that cannot be fetched ----------------------------------------------------------------------


def test_records_past_the_retention_are_reported_as_trimmed(store: Store, orders: Table, clock: VirtualClock) -> None:
    _, batch = fail_once(store, orders, "poison")
    clock.advance(DAY_MS + 1)
    orders.put_item({"pk": "later"})  # the store trims as it writes
    report = redrive_batch(store, batch, invoker(fixed, clock))
    assert report.fetched.problem == (
        "the records were trimmed: DynamoDB Streams keeps records for 24 hours, and these are older"
    )
    assert report.outcomes == []
    assert report.invocation is None
    assert not report.ok


def test_an_s3_record_past_the_retention_redrives_the_event_its_payload_kept(
    store: Store, orders: Table, clock: VirtualClock
) -> None:
    pipeline, _ = fail_once(store, orders, "a", "poison")
    sent = pipeline.invocations[-1].event
    s3_form = {**pipeline.destination[0], "payload": sent}  # what an S3 destination stores
    batch = failed_batch(s3_form, source="s3://failures/aws/lambda/x")
    clock.advance(DAY_MS + 1)
    orders.put_item({"pk": "later"})
    seen: list[Any] = []
    report = redrive_batch(
        store, batch, invoker(lambda event, context: seen.append(event), clock), deadline_ms=clock.now_ms() + 3000
    )
    assert report.fetched.problem is None
    assert report.fetched.note == (
        "the records were trimmed: DynamoDB Streams keeps records for 24 hours, and these are older; the event"
        " Lambda sent, kept in the S3 record's payload, is redriven"
    )
    assert seen == [sent]
    assert outcomes(report) == [("a", "succeeded"), ("poison", "succeeded")]

    foreign = failed_batch(
        {**s3_form, "payload": {"Records": [{"dynamodb": {"SequenceNumber": "1" * 21}}]}}, source="x"
    )
    report = redrive_batch(store, foreign, invoker(fixed, clock))
    assert report.fetched.problem == (
        "the records were trimmed: DynamoDB Streams keeps records for 24 hours, and these are older; the S3"
        " record's payload is not an event of stream records in this range either"
    )

    # The payload as JSON text (as the Lambda developer guide's S3 example shows it), and a table that is gone.
    as_text = failed_batch({**s3_form, "payload": json.dumps(sent)}, source="s3://failures/aws/lambda/y")
    store.delete_table("Orders")
    seen.clear()
    report = redrive_batch(
        store, as_text, invoker(lambda event, context: seen.append(event), clock), deadline_ms=clock.now_ms() + 3000
    )
    assert report.fetched.note is not None
    assert report.fetched.note.startswith("the stream or the shard is gone (")
    assert report.fetched.note.endswith("; the event Lambda sent, kept in the S3 record's payload, is redriven")
    assert seen == [sent]


def test_a_deleted_table_is_reported_as_gone(store: Store, orders: Table, clock: VirtualClock) -> None:
    _, batch = fail_once(store, orders, "poison")
    store.delete_table("Orders")
    report = redrive_batch(store, batch, invoker(fixed, clock))
    assert report.fetched.problem == (
        f"the stream or the shard is gone (Requested resource not found: Stream: {batch.stream_arn} not found)"
    )


def test_an_unknown_shard_is_reported_as_gone(store: Store, orders: Table, clock: VirtualClock) -> None:
    _, batch = fail_once(store, orders, "poison")
    other = FailedBatch(**{**batch.__dict__, "shard_id": "shardId-nope"})
    report = redrive_batch(store, other, invoker(fixed, clock))
    assert report.fetched.problem == (
        f"the stream or the shard is gone (shard 'shardId-nope' is not a shard of {batch.stream_arn})"
    )


def test_sequence_numbers_outside_the_shard_are_reported(store: Store, orders: Table, clock: VirtualClock) -> None:
    _, batch = fail_once(store, orders, "poison")
    far = "9" * 27
    other = FailedBatch(**{**batch.__dict__, "start_sequence_number": far, "end_sequence_number": far})
    report = redrive_batch(store, other, invoker(fixed, clock))
    assert report.fetched.problem is not None
    assert report.fetched.problem.startswith(f"the shard does not hold these records (sequence number {far} is outside")


# -- superseded records ----------------------------------------------------------------------------------


def test_skip_superseded_leaves_out_items_changed_later(store: Store, orders: Table, clock: VirtualClock) -> None:
    _, batch = fail_once(store, orders, "a", "poison", "b")
    orders.put_item({"pk": "poison", "fixed": True})
    later = orders.stream.get_records(
        orders.stream.get_shard_iterator(batch.shard_id, "AFTER_SEQUENCE_NUMBER", batch.end_sequence_number)
    )["Records"][0]["dynamodb"]["SequenceNumber"]
    seen: list[Any] = []
    report = redrive_batch(
        store,
        batch,
        invoker(lambda event, context: seen.append(event), clock),
        deadline_ms=clock.now_ms() + 3000,
        skip_superseded=True,
    )
    assert outcomes(report) == [("a", "succeeded"), ("poison", "skipped"), ("b", "succeeded")]
    assert (
        report.outcomes[1].reason == f"superseded: its item changed again later (MODIFY {later} is still on the stream)"
    )
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in seen[0]["Records"]] == ["a", "b"]
    # Off by default: every record is sent.
    assert outcomes(redrive_batch(store, batch, None))[1] == ("poison", "not sent")


def test_a_later_change_in_the_same_batch_supersedes_too(store: Store, orders: Table, clock: VirtualClock) -> None:
    pipeline = Pipeline(store)
    pipeline.add_mapping(orders, buggy, name="OrdersMapping", batch_size=10, maximum_retry_attempts=0)
    orders.put_item({"pk": "poison", "n": 1})
    orders.put_item({"pk": "poison", "n": 2})
    pipeline.run_until_idle()
    batch = failed_batch(pipeline.destination[0], source="record 1")
    report = redrive_batch(store, batch, None, skip_superseded=True)
    assert [o.status for o in report.outcomes] == ["skipped", "not sent"]


# -- remote streams plug in ------------------------------------------------------------------------------


class _ApiShaped:
    """A stream behind the DynamoDB Streams calls whose records lack eventSourceARN, as GetRecords returns them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.calls: list[str] = []

    def stream_by_arn(self, arn: str) -> _ApiShaped:
        self._stream = self._store.stream_by_arn(arn)
        return self

    def get_shard_iterator(self, shard_id: str, iterator_type: str, sequence_number: str | None = None) -> str:
        self.calls.append(iterator_type)
        return self._stream.get_shard_iterator(shard_id, iterator_type, sequence_number)

    def get_records(self, iterator: str, limit: int = 1000) -> dict[str, Any]:
        page = self._stream.get_records(iterator, limit)
        for record in page["Records"]:
            del record["eventSourceARN"]
        return page


def test_any_object_with_the_stream_api_is_a_source(store: Store, orders: Table) -> None:
    pipeline, batch = fail_once(store, orders, "a", "poison")
    source = _ApiShaped(store)
    report = redrive_batch(source, batch, None, skip_superseded=True)
    assert report.event == pipeline.invocations[-1].event
    assert source.calls == ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"]  # no describe_stream: no children


def test_lambda_record_puts_event_source_arn_where_lambda_does() -> None:
    record = {
        "eventID": "1",
        "eventName": "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        "dynamodb": {"Keys": {"pk": {"S": "a"}}, "SequenceNumber": "111"},
    }
    shaped = lambda_record(record, "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026-01-01T00:00:00.000")
    assert list(shaped) == [*list(record)[:5], "dynamodb", "eventSourceARN", "userIdentity"]


# -- on-failure records ----------------------------------------------------------------------------------

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"
INFO = {
    "shardId": "shardId-1",
    "startSequenceNumber": "100000000000000000000000001",
    "endSequenceNumber": "100000000000000000000000002",
    "batchSize": 2,
    "streamArn": ARN,
}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([], "r: expected an on-failure record (a JSON object), got an array"),
        ({}, "r: DDBStreamBatchInfo is missing; only on-failure records of a DynamoDB stream mapping can be redriven"),
        ({"DDBStreamBatchInfo": 3}, "r: DDBStreamBatchInfo is a number, not an object; only on-failure records"),
        ({"DDBStreamBatchInfo": {**INFO, "shardId": None}}, "r: DDBStreamBatchInfo.shardId is missing"),
        (
            {"DDBStreamBatchInfo": {**INFO, "shardId": 7}},
            "r: DDBStreamBatchInfo.shardId: expected non-empty text, got 7",
        ),
        (
            {"DDBStreamBatchInfo": {**INFO, "streamArn": "arn:aws:sqs:us-east-1:1:q"}},
            r"r: DDBStreamBatchInfo.streamArn: arn:aws:sqs:us-east-1:1:q is not a DynamoDB stream ARN",
        ),
        (
            {"DDBStreamBatchInfo": {**INFO, "startSequenceNumber": "12x"}},
            'r: DDBStreamBatchInfo.startSequenceNumber: "12x" is not a sequence number',
        ),
        (
            {"DDBStreamBatchInfo": {**INFO, "startSequenceNumber": "200000000000000000000000000"}},
            "r: DDBStreamBatchInfo: startSequenceNumber 200000000000000000000000000 comes after endSequenceNumber",
        ),
        (
            {"DDBStreamBatchInfo": {**INFO, "batchSize": True}},
            "r: DDBStreamBatchInfo.batchSize: expected a whole number 1..10000, got true",
        ),
    ],
)
def test_malformed_records_name_the_record_and_the_field(record: object, message: str) -> None:
    with pytest.raises(RedriveError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        failed_batch(record, source="r")


def test_the_s3_form_keeps_its_payload() -> None:
    batch = failed_batch({"DDBStreamBatchInfo": INFO, "payload": {"Records": []}}, source="r")
    assert batch.payload == {"Records": []}
    assert batch.span == "shard shardId-1, sequence numbers 100000000000000000000000001..100000000000000000000000002"


def test_stored_failures_list_every_mapping_oldest_first(store: Store, orders: Table, clock: VirtualClock) -> None:
    other = store.create_table("Returns", key_schema={"pk": "S"})
    pipeline = Pipeline(store)
    pipeline.add_mapping(orders, buggy, name="Zeta", maximum_retry_attempts=0)
    pipeline.add_mapping(other, buggy, name="Alpha", maximum_retry_attempts=0)
    orders.put_item({"pk": "poison"})
    pipeline.run_until_idle()
    clock.advance(1000)
    other.put_item({"pk": "poison"})
    orders.put_item({"pk": "poison", "n": 2})
    pipeline.run_until_idle()
    found = stored_failures(store)
    assert [(f.number, f.mapping, f.index) for f in found] == [(1, "Zeta", 0), (2, "Alpha", 0), (3, "Zeta", 1)]
    assert [f.record for f in found] == pipeline.destination[:1] + sorted(
        pipeline.destination[1:], key=lambda record: record["DDBStreamBatchInfo"]["streamArn"], reverse=True
    )


def test_a_damaged_stored_record_is_named(store: Store) -> None:
    store.set_state("destination:Orders", "000000000000", "[1, 2")
    store.set_state("destination:Orders", "count", "1")
    with pytest.raises(
        RedriveError, match=r"^the on-failure record 1 of mapping Orders in :memory: is not a JSON object"
    ):
        stored_failures(store)


def test_records_the_mappings_filter_dropped_are_not_redriven(store: Store, orders: Table, clock: VirtualClock) -> None:
    from shardline import FilterCriteria

    pipeline = Pipeline(store)
    only_orders = {"Filters": [{"Pattern": '{"dynamodb": {"Keys": {"pk": {"S": [{"anything-but": ["noise"]}]}}}}'}]}
    pipeline.add_mapping(
        orders, buggy, name="OrdersMapping", batch_size=10, maximum_retry_attempts=0, filter_criteria=only_orders
    )
    with store.transaction():
        for key in ("order-1", "noise", "poison"):
            orders.put_item({"pk": key})
    pipeline.run_until_idle()
    [sent] = [invocation.event for invocation in pipeline.invocations]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in sent["Records"]] == ["order-1", "poison"]
    batch = failed_batch(pipeline.destination[0], source="destination record 1")
    seen: list[Any] = []
    report = redrive_batch(
        store,
        batch,
        invoker(lambda event, context: seen.append(event), clock),
        deadline_ms=clock.now_ms() + 3000,
        criteria=FilterCriteria(only_orders),
    )
    assert seen == [sent]  # the very event Lambda sent: the record the filter dropped is not in it
    assert outcomes(report) == [("order-1", "succeeded"), ("noise", "skipped"), ("poison", "succeeded")]
    assert report.outcomes[1].reason == "dropped by the mapping's filter (FilterCriteria)"
    assert report.ok
