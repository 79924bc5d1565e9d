"""Rules of src/shardline/local/_esm.py that a mutant of tools/mutants.py broke while every other test still passed.

Each test names the mutants it kills; the rules are those of "Using AWS Lambda with Amazon DynamoDB" in the Lambda
developer guide (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html) and its pages on partial batch
responses and tumbling windows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import stream_records

from shardline.local import Pipeline, Store
from shardline.local import _esm as esm
from shardline.testing import VirtualClock

Handler = Callable[[dict[str, Any], Any], Any]
PARTIAL: dict[str, Any] = {"function_response_types": ["ReportBatchItemFailures"]}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock("2026-11-27T06:00:00Z")


@pytest.fixture
def store(clock: VirtualClock) -> Iterator[Store]:
    with Store(":memory:", clock=clock) as opened:
        yield opened


def orders(store: Store, **options: Any) -> Any:
    return store.create_table("Orders", key_schema={"pk": "S"}, **options)


def put(table: Any, *numbers: int, key: str | None = None) -> None:
    for number in numbers:
        table.put_item({"pk": key or f"order#{number}", "n": number})


class Recorder:
    """A handler that keeps every event it was given and answers with `respond(event)`."""

    def __init__(self, respond: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.respond = respond or (lambda event: None)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(json.loads(json.dumps(event)))
        return self.respond(event)

    def deliveries(self) -> list[list[int]]:
        return [[int(r["dynamodb"]["NewImage"]["n"]["N"]) for r in event["Records"]] for event in self.events]


def numbers(event: dict[str, Any]) -> list[int]:
    return [int(record["dynamodb"]["NewImage"]["n"]["N"]) for record in event["Records"]]


def failing(number: int, times: int) -> Callable[[dict[str, Any]], Any]:
    """Raise for the first `times` events holding record `number`."""
    left = [times]

    def respond(event: dict[str, Any]) -> Any:
        if number in numbers(event) and left[0] > 0:
            left[0] -= 1
            raise RuntimeError("cannot process")
        return None

    return respond


# -- partial batch responses ----------------------------------------------------------------------------------------


def test_after_a_partial_response_the_rest_of_the_batch_starts_with_a_fresh_retry_count(store: Store) -> None:
    # Kills esm/partial-keeps-retry-count. The lowest reported record and the records after it come again as a new
    # batch with a fresh retry count: with bisection on, the rest of the batch from that record, as a first attempt.
    table = orders(store)
    put(table, 1, 2, 3, 4)
    reported: list[int] = []

    def respond(event: dict[str, Any]) -> Any:
        if reported:
            return None
        reported.append(3)  # the first invoke reports record 3
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][2]["dynamodb"]["SequenceNumber"]}]}

    handler = Recorder(respond)
    pipeline = Pipeline(store)
    mapping = pipeline.add_mapping(table, handler, bisect_batch_on_function_error=True, **PARTIAL)
    pipeline.run_until_idle()
    assert handler.deliveries() == [[1, 2, 3, 4], [3, 4]]
    assert [invocation.attempt for invocation in pipeline.invocations] == [1, 1]
    assert sum(shard["retries"] for shard in mapping.metrics().values()) == 0


# -- record age -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("waited_ms", "delivered"), [(60_000, True), (60_001, False)])
def test_a_record_exactly_the_maximum_age_is_still_delivered(
    store: Store, clock: VirtualClock, waited_ms: int, delivered: bool
) -> None:
    # Kills esm/record-age-boundary. MaximumRecordAgeInSeconds discards records OLDER than the age: one exactly
    # that old is delivered. The record is written on a whole second, so its ApproximateCreationDateTime is exact.
    table = orders(store)
    put(table, 1)
    clock.advance(waited_ms)
    handler = Recorder()
    pipeline = Pipeline(store)
    pipeline.add_mapping(table, handler, maximum_record_age_in_seconds=60)
    pipeline.run_until_idle()
    assert handler.deliveries() == ([[1]] if delivered else [])
    assert [failure["requestContext"]["condition"] for failure in pipeline.destination] == (
        [] if delivered else ["RecordAgeExceeded"]
    )


# -- the payload limit ----------------------------------------------------------------------------------------------


def payload_scenario(store: Store, monkeypatch: pytest.MonkeyPatch, slack: int) -> list[list[int]]:
    """Three records of one size under a payload limit that fits the event of the first two exactly, plus `slack`
    bytes: the event is `{"Records":[...]}` with a comma between records, which the emulator counts as one byte per
    record (one more than the event needs, so that it never goes over). The limit is scaled down from 6 MB so that
    the records can be small; the rule is the same."""
    table = orders(store)
    put(table, 1, 2, 3)
    sizes = {len(json.dumps(record, separators=(",", ":"))) for record in stream_records(table)}
    (size,) = sizes  # the same size each: the arithmetic below holds for every pair
    monkeypatch.setattr(esm, "PAYLOAD_LIMIT", len('{"Records":[]}') + 2 * (size + 1) + slack)
    handler = Recorder()
    pipeline = Pipeline(store)
    pipeline.add_mapping(table, handler, batch_size=10)
    pipeline.run_until_idle()
    return handler.deliveries()


def test_a_batch_may_fill_the_payload_limit_exactly(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Kills esm/payload-limit-exclusive.
    assert payload_scenario(store, monkeypatch, slack=0) == [[1, 2], [3]]


def test_the_payload_counts_the_envelope_and_the_commas(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Kills esm/payload-without-commas and esm/payload-without-envelope: one byte short, the second record no
    # longer fits.
    assert payload_scenario(store, monkeypatch, slack=-1) == [[1], [2], [3]]


# -- tumbling windows -----------------------------------------------------------------------------------------------


def window_handler(calls: list[dict[str, Any]]) -> Handler:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"state": {"seen": event["state"].get("seen", 0) + len(event["Records"])}}

    return handler


def test_a_batch_read_when_its_window_ends_is_the_final_invoke(store: Store, clock: VirtualClock) -> None:
    # Kills esm/window-closes-late. A window covers [start, end): at its end it is over, so a batch delivered then,
    # with nothing of the window after it, is the window's final invoke (no extra empty invoke follows).
    table = orders(store)
    calls: list[dict[str, Any]] = []
    pipeline = Pipeline(store)
    pipeline.add_mapping(table, window_handler(calls), tumbling_window_in_seconds=60)
    clock.advance_to("2026-11-27T06:01:00Z")
    put(table, 1)
    clock.advance_to("2026-11-27T06:02:00Z")
    pipeline.run_until_idle()
    assert [(numbers(event), event["isFinalInvokeForWindow"]) for event in calls] == [([1], True)]


@pytest.mark.parametrize(("closed_at", "early"), [("2026-11-27T06:01:30Z", True), ("2026-11-27T06:02:00Z", False)])
def test_a_window_is_terminated_early_only_when_its_shard_ends_before_it_does(
    store: Store, clock: VirtualClock, closed_at: str, early: bool
) -> None:
    # Kills esm/terminated-early-at-the-end. isWindowTerminatedEarly says the shard ended (here: the stream was
    # disabled, which closes its shards) before the window did; a shard that ends with the window ran it in full.
    table = orders(store)
    calls: list[dict[str, Any]] = []
    pipeline = Pipeline(store)
    pipeline.add_mapping(table, window_handler(calls), tumbling_window_in_seconds=60)
    clock.advance_to("2026-11-27T06:01:00Z")
    put(table, 1)
    clock.advance_to(closed_at)
    table.update(stream_enabled=False)
    pipeline.run_until_idle()
    final = [event for event in calls if event["isFinalInvokeForWindow"]]
    assert [(numbers(event), event["isWindowTerminatedEarly"]) for event in final] == [([1], early)]
    assert calls[-1]["window"] == {"start": "2026-11-27T06:01:00Z", "end": "2026-11-27T06:02:00Z"}


# -- checkpoints, lanes and shards ----------------------------------------------------------------------------------


def two_lanes() -> tuple[str, str]:
    """Two partition keys that ParallelizationFactor 2 puts in different lanes."""
    lanes: dict[int, str] = {}
    for index in range(100):
        key = f"k{index}"
        lanes.setdefault(esm._lane_of({"dynamodb": {"Keys": {"pk": {"S": key}}}}, 2), key)
        if len(lanes) == 2:
            return lanes[0], lanes[1]
    raise AssertionError("no two keys in different lanes")  # pragma: no cover


@pytest.mark.parametrize(("factor", "expected"), [(2, [[2]]), (1, [[1, 2, 3]])])
def test_a_resumed_mapping_reads_from_its_slowest_lane_and_skips_what_each_lane_did(
    store: Store, factor: int, expected: list[list[int]]
) -> None:
    # Kills esm/resume-from-fastest-lane, esm/checkpoint-redelivered and esm/new-factor-from-fastest-lane.
    # Record 2 fails in one lane while the other lane finishes records 1 and 3: the checkpoints are then record 3
    # in one lane and record 0 in the other. A new pipeline resumes from the slowest lane (record 0): with the same
    # factor each lane skips what it did, up to and including its checkpoint, so only record 2 comes again; with
    # another factor items change lanes, and every lane restarts from the slowest checkpoint (records may come
    # again, none is skipped).
    table = orders(store)
    slow, fast = two_lanes()
    put(table, 0, key=slow)
    put(table, 1, key=fast)
    put(table, 2, key=slow)
    put(table, 3, key=fast)
    first = Recorder(failing(2, times=10**6))
    pipeline = Pipeline(store)
    pipeline.add_mapping(table, first, name="m", parallelization_factor=2, batch_size=1)
    pipeline.run_until_idle(max_invocations=6)
    assert sorted(batch for batch in first.deliveries() if batch != [2]) == [[0], [1], [3]]
    second = Recorder()
    again = Pipeline(store)
    again.add_mapping(table, second, name="m", parallelization_factor=factor, batch_size=100)
    again.run_until_idle()
    assert second.deliveries() == expected


def test_one_partition_key_keeps_one_lane_whatever_its_sort_keys(store: Store) -> None:
    # Kills esm/lanes-by-whole-key. ParallelizationFactor keeps order per partition key: records of one partition
    # key, whatever their sort keys, share a lane, so while one of them waits for its retry the others wait too.
    table = store.create_table("Lines", key_schema={"pk": "S", "sk": "N"})
    for number in range(1, 11):
        table.put_item({"pk": "order#1", "sk": number, "n": number})
    handler = Recorder(failing(1, times=1))
    pipeline = Pipeline(store)
    pipeline.add_mapping(table, handler, parallelization_factor=10, batch_size=1)
    pipeline.run_until_idle()
    assert handler.deliveries() == [[1], *([number] for number in range(1, 11))]


def test_a_child_shard_waits_until_its_parent_is_finished_not_merely_read(store: Store, clock: VirtualClock) -> None:
    # Kills esm/child-before-parent-done. Parents are processed before their children: a parent read to its end
    # whose last record is still being retried holds its child back. (Shards roll over about every 4 hours.)
    table = orders(store)
    put(table, 1, 2)
    clock.advance(5 * 3600 * 1000)
    put(table, 3, 4)  # after the rollover: a child shard
    assert len(table.stream.describe_stream()["Shards"]) >= 2
    handler = Recorder(failing(2, times=2))
    pipeline = Pipeline(store)
    pipeline.add_mapping(table, handler, batch_size=1)
    pipeline.run_until_idle()
    assert handler.deliveries() == [[1], [2], [2], [2], [3], [4]]


# -- bisection --------------------------------------------------------------------------------------------------------


def test_a_record_filtered_out_inside_a_bisected_batch_stays_in_its_half(store: Store) -> None:
    # Kills esm/skips-filtered-inside-a-bisect. A batch of records 1 to 5, record 3 filtered out, fails and is split:
    # records 1 and 2, then the rest of the batch (3 to 5, of which 4 and 5 are delivered). The filtered record at
    # the head of the second half belongs to that half: skipping it first would shift the half by one record.
    table = orders(store)
    put(table, 1, 2, 3, 4, 5)
    not_3 = {"Filters": [{"Pattern": json.dumps({"dynamodb": {"NewImage": {"n": {"N": [{"anything-but": "3"}]}}}})}]}
    handler = Recorder(failing(1, times=1))
    pipeline = Pipeline(store)
    pipeline.add_mapping(table, handler, filter_criteria=not_3, bisect_batch_on_function_error=True, batch_size=10)
    pipeline.run_until_idle()
    assert handler.deliveries() == [[1, 2, 4, 5], [1, 2], [4, 5]]
