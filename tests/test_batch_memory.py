"""Batches that let go: a record, with whatever it decoded, lives only as long as someone holds it.

Iterating an event, process_batch, aprocess_batch, the decorator and tumbling windows free each record the
handler did not keep (and its keys and images) as soon as they move on; what the handler kept stays whole and
decoded once. The garbage collector is switched off in these tests: everything must be freed by reference
counting alone, the moment it is let go, with no cycle left for the collector.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import pickle
import threading
import weakref
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest

from shardline import (
    AttributeValueError,
    BatchResult,
    StreamEvent,
    StreamRecord,
    aprocess_batch,
    arun_batch,
    batch_handler,
    deserialize_item,
    process_batch,
    process_window,
    run_batch,
)
from shardline._events import StreamRecords

Ref = weakref.ReferenceType


class QuietLogger:
    """Drops every line: a capturing log handler would keep the failures' exceptions (and their records)."""

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        pass

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        pass

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        pass

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        pass


QUIET = QuietLogger()


def image(index: int, status: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"item#{index % 3}"},
        "n": {"N": str(index)},
        "status": {"S": status},
        "tags": {"SS": ["a", f"t{index}"]},
        "lines": {"L": [{"M": {"sku": {"S": f"SKU-{index}"}, "qty": {"N": "2"}}}]},
    }


def raw_record(index: int, *, new: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "eventID": f"{index:032x}",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": f"item#{index % 3}"}},
            "NewImage": image(index, "PAID") if new is None else new,
            "OldImage": image(index, "NEW"),
            "SequenceNumber": str(100 + index),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026-11-27T00:00:00.000",
    }


def event_of(count: int, **bad: dict[str, Any]) -> dict[str, Any]:
    """``count`` records; ``bad={"r2": new_image}`` gives record 2 that NewImage."""
    return {"Records": [raw_record(index, new=bad.get(f"r{index}")) for index in range(count)]}


def position(record: StreamRecord) -> int:
    return int(record.sequence_number) - 100


@pytest.fixture(autouse=True)
def no_garbage_collector() -> Iterator[None]:
    """Freed means freed by reference counting: a cycle would survive here until the end of the test."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Watch:
    """Weak references to each record a handler saw and to its two images, fully decoded."""

    def __init__(self) -> None:
        self.records: dict[int, Ref[StreamRecord]] = {}
        self.images: dict[int, tuple[Ref[dict[str, Any]], Ref[dict[str, Any]]]] = {}

    def see(self, record: StreamRecord) -> None:
        new, old = record.new_image, record.old_image
        assert new is not None
        assert old is not None
        new.items()  # decodes the whole image
        dict(old)
        self.records[position(record)] = weakref.ref(record)
        self.images[position(record)] = (weakref.ref(new), weakref.ref(old))

    def alive(self) -> list[int]:
        """Positions whose record or either image is still alive."""
        return sorted(
            index
            for index, ref in self.records.items()
            if ref() is not None or any(image_ref() is not None for image_ref in self.images[index])
        )


# -- iterating an event ----------------------------------------------------------------------------------


def test_iterating_an_event_frees_each_record_and_its_images_when_the_loop_moves_on() -> None:
    watch = Watch()
    alive_at_each_step = []
    for record in StreamEvent(event_of(6)):
        alive_at_each_step.append(watch.alive())  # the records before this one, while the loop runs
        watch.see(record)
    del record
    assert alive_at_each_step == [[], [], [], [], [], []]
    assert watch.alive() == []


def test_iterating_twice_gives_the_same_records_while_they_are_held() -> None:
    event = StreamEvent(event_of(4))
    first = list(event)
    assert list(event) == first  # identity, record by record
    assert all(a is b for a, b in zip(event, first, strict=True))
    assert [record.new_image is record.new_image for record in first] == [True] * 4


def test_a_record_nobody_holds_is_made_again_with_new_but_equal_images() -> None:
    event = StreamEvent(event_of(2))
    record = event[0]
    new_image = record.new_image
    assert new_image is not None
    expected = dict(new_image)
    record_ref, image_ref = weakref.ref(record), weakref.ref(new_image)
    del record, new_image
    assert record_ref() is None  # nothing held them: freed at once
    assert image_ref() is None

    again = event[0]
    assert again.new_image == expected
    assert again.new_image is again.new_image
    assert again.raw is event.raw["Records"][0]


def test_an_image_kept_alone_stays_whole_after_its_record_is_gone() -> None:
    raw = event_of(1)
    event = StreamEvent(raw)
    record = event[0]
    partial = record.new_image  # lazy: one attribute read, the rest not yet decoded
    assert partial is not None
    tags = partial["tags"]
    record_ref = weakref.ref(record)
    del record, event
    assert record_ref() is None
    assert dict(partial) == deserialize_item(raw["Records"][0]["dynamodb"]["NewImage"])
    assert partial["tags"] is tags  # the value read before the record went is the one the image holds


# -- identity rules of event.records ----------------------------------------------------------------------


def test_event_records_is_a_sequence_made_on_access() -> None:
    raw = event_of(3)
    event = StreamEvent(raw)
    records = event.records
    assert isinstance(records, StreamRecords)
    assert isinstance(records, Sequence)
    assert event.records is records
    assert len(records) == len(event) == 3
    assert records[0] is records[0]
    assert event[0] is records[0]
    assert records[-1] is records[2]
    assert records[-1].raw is raw["Records"][2]
    assert records.index(records[1]) == 1
    assert [position(record) for record in reversed(records)] == [2, 1, 0]
    assert repr(records) == "<StreamRecords: 3 records>"
    with pytest.raises(AttributeError):
        event.records = records  # type: ignore[misc]


def test_a_slice_is_a_tuple_holding_its_records() -> None:
    event = StreamEvent(event_of(4))
    middle = event.records[1:3]
    assert type(middle) is tuple
    assert [position(record) for record in middle] == [1, 2]
    assert middle[0] is event[1]
    assert event[1:3] == middle
    assert event.records[::-2] == (event[3], event[1])


def test_membership_is_identity_and_makes_no_record() -> None:
    raw = event_of(2)
    event = StreamEvent(raw)
    held = event[1]
    assert held in event.records
    assert StreamRecord(raw["Records"][1], 1) not in event.records  # same raw record, another object
    assert StreamEvent(raw)[1] not in event.records  # another event's record
    assert "x" not in event.records  # type: ignore[comparison-overlap]
    assert event.records._live.keys() == {1}  # only the record asked for was made


def test_records_compare_with_tuples_record_by_record() -> None:
    event = StreamEvent(event_of(2))
    assert event.records == tuple(event.records)
    assert tuple(event.records) == event.records
    assert event.records == event.records
    assert event.records != (event[0],)
    assert event.records != list(event.records)
    assert StreamEvent({"Records": []}).records == ()
    with pytest.raises(TypeError, match="unhashable"):
        hash(event.records)


def test_copies_and_pickles_of_records_are_tuples() -> None:
    event = StreamEvent(event_of(2))
    assert copy.copy(event.records) == tuple(event.records)
    loaded = pickle.loads(pickle.dumps(event.records))
    assert type(loaded) is tuple
    assert [record.raw for record in loaded] == [record.raw for record in event.records]


def test_bad_indices_raise_what_a_tuple_would() -> None:
    event = StreamEvent(event_of(2))
    with pytest.raises(IndexError, match=r"^record index out of range$"):
        event.records[2]
    with pytest.raises(IndexError, match=r"^record index out of range$"):
        event[-3]
    with pytest.raises(TypeError, match=r"^record indices must be integers or slices, not str$"):
        event.records["0"]  # type: ignore[call-overload]
    assert event.records[True] is event[1]  # an int subclass is an index, as for a tuple


def test_a_malformed_record_is_refused_when_the_event_is_made() -> None:
    from shardline import EventShapeError

    with pytest.raises(EventShapeError, match=r"^Records\[1\]: a stream record must be an object, got a number$"):
        StreamEvent({"Records": [raw_record(0), 7]})


def test_threads_reading_one_position_get_one_record() -> None:
    event = StreamEvent(event_of(50))
    barrier = threading.Barrier(4)
    seen: list[list[StreamRecord]] = [[] for _ in range(4)]

    def read(slot: int) -> None:
        barrier.wait()
        for index in range(50):
            seen[slot].append(event.records[index] if slot % 2 else next(iter(event.records[index:])))

    threads = [threading.Thread(target=read, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for records in seen[1:]:
        assert all(a is b for a, b in zip(records, seen[0], strict=True))


# -- the batch runners -------------------------------------------------------------------------------------


def test_process_batch_frees_each_record_before_the_next_one_runs() -> None:
    watch = Watch()
    alive_at_each_step = []

    def handle(record: StreamRecord) -> None:
        alive_at_each_step.append(watch.alive())
        watch.see(record)

    assert process_batch(event_of(5), handle) == {"batchItemFailures": []}
    assert alive_at_each_step == [[], [], [], [], []]
    assert watch.alive() == []


def test_what_the_handler_kept_stays_whole_and_decoded_once() -> None:
    kept_records: list[StreamRecord] = []
    kept_images: list[dict[str, Any]] = []
    image_refs: dict[int, Ref[dict[str, Any]]] = {}
    watch = Watch()

    def handle(record: StreamRecord) -> None:
        watch.see(record)
        new = record.new_image
        assert new is not None
        image_refs[position(record)] = weakref.ref(new)
        if position(record) == 1:
            kept_records.append(record)
        if position(record) == 3:
            kept_images.append(new)

    raw = event_of(5)
    assert process_batch(raw, handle) == {"batchItemFailures": []}
    assert watch.alive() == [1, 3]
    (record,) = kept_records
    assert record.new_image is image_refs[1]()  # the very image decoded in the handler, not decoded again
    assert record.old_image is watch.images[1][1]()
    assert record.new_image == deserialize_item(raw["Records"][1]["dynamodb"]["NewImage"])
    assert watch.records[3]() is None  # record 3 is gone, its NewImage stays
    assert kept_images == [deserialize_item(raw["Records"][3]["dynamodb"]["NewImage"])]
    assert watch.images[3][1]() is None  # and its OldImage, which nobody kept, is gone


def test_run_batch_result_keeps_positions_and_failed_records_only() -> None:
    watch = Watch()
    failing: dict[int, Ref[StreamRecord]] = {}

    def handle(record: StreamRecord) -> None:
        watch.see(record)
        if position(record) in (1, 3):
            failing[position(record)] = weakref.ref(record)
            raise ValueError(f"record {position(record)} is bad")

    stream = StreamEvent(event_of(5))
    result = run_batch(stream, handle, on_failure="continue", logger=QUIET)
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "101"}, {"itemIdentifier": "103"}]}
    assert watch.alive() == [1, 3]  # the failed records stay, with their exceptions, in the result
    assert [failure.record for failure in result.failed] == [failing[1](), failing[3]()]
    assert [str(failure.exception) for failure in result.failed] == ["record 1 is bad", "record 3 is bad"]
    assert result.records is stream.records
    assert isinstance(result.succeeded, StreamRecords)
    assert [position(record) for record in result.succeeded] == [0, 2, 4]
    assert result.reported == (result.failed[0].record, result.failed[1].record)  # the same objects
    assert result.skipped == ()
    assert result.redelivered == ()
    assert repr(result.succeeded) == "<StreamRecords: 3 of 5 records>"
    assert watch.records[0]() is None  # succeeded[0] above was a new record, freed again

    del result
    assert watch.alive() == []


def test_a_bad_record_fails_alone_and_the_others_are_freed() -> None:
    watch = Watch()

    def handle(record: StreamRecord) -> None:
        watch.see(record)

    bad = image(2, "PAID") | {"n": {"N": "1x"}}
    result = run_batch(event_of(5, r2=bad), handle, on_failure="continue", logger=QUIET)
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert sorted(watch.records) == [0, 1, 3, 4]  # record 2 failed before it was watched
    assert watch.alive() == []
    (failure,) = result.failed
    assert position(failure.record) == 2
    assert isinstance(failure.exception, AttributeValueError)
    assert str(failure.exception) == (
        "Records[2].dynamodb.NewImage.n: '1x' is not a number (DynamoDB numbers look like 42, -1.5 or 6.02E23)"
    )
    failed_ref = weakref.ref(failure.record)
    del failure, result
    assert failed_ref() is None


def test_process_batch_with_failures_leaves_no_cycle() -> None:
    watch = Watch()

    def handle(record: StreamRecord) -> None:
        watch.see(record)
        if position(record) % 2:
            raise RuntimeError("odd")

    response = process_batch(event_of(6), handle, on_failure="continue", logger=QUIET)
    assert response == {"batchItemFailures": [{"itemIdentifier": str(100 + index)} for index in (1, 3, 5)]}
    assert watch.alive() == []


def test_the_decorator_lets_go_too() -> None:
    watch = Watch()

    @batch_handler
    def lambda_handler(record: StreamRecord) -> None:
        watch.see(record)

    assert lambda_handler(event_of(4), None) == {"batchItemFailures": []}
    assert watch.alive() == []


@pytest.mark.parametrize("concurrency", [1, 3])
def test_the_async_runner_frees_each_record_once_it_is_settled(concurrency: int) -> None:
    watch = Watch()
    order: list[int] = []

    async def handle(record: StreamRecord) -> None:
        watch.see(record)
        await asyncio.sleep(0)
        order.append(position(record))

    assert asyncio.run(aprocess_batch(event_of(9), handle, concurrency=concurrency)) == {"batchItemFailures": []}
    assert sorted(order) == list(range(9))
    for item in range(3):  # records of one item (pk item#0, #1, #2) ran in stream order
        assert [index for index in order if index % 3 == item] == list(range(item, 9, 3))
    assert watch.alive() == []


def test_the_async_runner_hands_out_the_record_its_order_was_read_from() -> None:
    keys_seen: list[bool] = []

    async def handle(record: StreamRecord) -> None:
        keys_seen.append(record._keys is not None and type(record._keys) is dict)  # decoded by the ordering pass

    result = asyncio.run(arun_batch(event_of(4), handle, concurrency=2, logger=QUIET))
    assert isinstance(result, BatchResult)
    assert keys_seen == [True, True, True, True]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_the_async_runner_keeps_failed_records_in_the_result_only(concurrency: int) -> None:
    watch = Watch()

    async def handle(record: StreamRecord) -> None:
        watch.see(record)
        if position(record) == 4:
            raise ValueError("no")

    result = asyncio.run(arun_batch(event_of(6), handle, concurrency=concurrency, on_failure="continue", logger=QUIET))
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "104"}]}
    assert watch.alive() == [4]
    assert result.failed[0].record is watch.records[4]()
    del result
    assert watch.alive() == []


def test_a_window_handler_iterating_its_records_lets_go() -> None:
    watch = Watch()
    alive_at_each_step = []

    def count(records: Sequence[StreamRecord], state: dict[str, Any]) -> dict[str, Any]:
        for record in records:
            alive_at_each_step.append(watch.alive())
            watch.see(record)
            state["total"] = state.get("total", Decimal(0)) + record.new_image["n"]  # type: ignore[index]
        return state

    event = event_of(4) | {
        "window": {"start": "2026-11-27T06:00:00Z", "end": "2026-11-27T06:05:00Z"},
        "state": {},
        "shardId": "shard-1",
        "isFinalInvokeForWindow": False,
    }
    assert process_window(event, count) == {"state": {"total": Decimal(6)}, "batchItemFailures": []}
    assert alive_at_each_step == [[], [], [], []]
    assert watch.alive() == []
