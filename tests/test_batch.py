"""The batch runner: partial batch responses, failure policies, the asyncio runner and the decorator."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from unittest.mock import AsyncMock

import pytest
from conftest import FUZZ
from hypothesis import given, settings
from hypothesis import strategies as st

import shardline
from shardline import (
    BatchFailedError,
    BatchResult,
    EventShapeError,
    StreamRecord,
    aprocess_batch,
    arun_batch,
    batch_handler,
    process_batch,
    run_batch,
)
from shardline._batch import report_indices


def record(key: str, sequence: int, *, name: str = "MODIFY", extra: dict[str, Any] | None = None) -> dict[str, Any]:
    image = {"pk": {"S": key}, "n": {"N": str(sequence)}, **(extra or {})}
    return {
        "eventID": f"{sequence:032x}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": key}},
            "NewImage": image,
            "SequenceNumber": str(100 + sequence),
            "SizeBytes": 20,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026-11-27T00:00:00.000",
    }


def event_of(keys: Iterable[str]) -> dict[str, Any]:
    return {"Records": [record(key, index) for index, key in enumerate(keys)]}


def seq(index: int) -> str:
    return str(100 + index)


def failures(*indices: int) -> dict[str, list[dict[str, str]]]:
    return {"batchItemFailures": [{"itemIdentifier": seq(index)} for index in indices]}


def index_of(rec: StreamRecord) -> int:
    return int(rec.sequence_number) - 100


def failing_at(*bad: int, seen: list[int] | None = None) -> Callable[[StreamRecord], None]:
    def handle(rec: StreamRecord) -> None:
        if seen is not None:
            seen.append(index_of(rec))
        if index_of(rec) in bad:
            raise ValueError(f"record {index_of(rec)} is bad")

    return handle


# -- the pure core ------------------------------------------------------------------------------------


def test_report_indices_stop_reports_from_the_first_record_that_did_not_succeed() -> None:
    assert report_indices(6, [2, 4], "stop") == [2, 3, 4, 5]
    assert report_indices(6, [5], "stop") == [5]
    assert report_indices(6, [], "stop") == []


def test_report_indices_continue_reports_exactly_the_failures() -> None:
    assert report_indices(6, [2, 4], "continue") == [2, 4]
    assert report_indices(0, [], "continue") == []


# -- the sync runner: policies --------------------------------------------------------------------------


def test_all_succeed_gives_an_empty_failure_list() -> None:
    seen: list[int] = []
    assert process_batch(event_of("abc"), failing_at(seen=seen)) == {"batchItemFailures": []}
    assert seen == [0, 1, 2]


def test_stop_reports_the_failed_record_and_every_later_one_without_running_them() -> None:
    seen: list[int] = []
    result = run_batch(event_of("abcde"), failing_at(1, 3, seen=seen))
    assert seen == [0, 1]
    assert result.response == failures(1, 2, 3, 4)
    assert result.checkpoint == seq(1)
    assert [index_of(r) for r in result.succeeded] == [0]
    assert [index_of(f.record) for f in result.failed] == [1]
    assert [index_of(r) for r in result.skipped] == [2, 3, 4]
    assert result.redelivered == ()
    assert str(result.failed[0].exception) == "record 1 is bad"


def test_continue_runs_everything_and_reports_each_failure() -> None:
    seen: list[int] = []
    result = run_batch(event_of("abcde"), failing_at(1, 3, seen=seen), on_failure="continue")
    assert seen == [0, 1, 2, 3, 4]
    assert result.response == failures(1, 3)
    assert result.checkpoint == seq(1)
    assert result.skipped == ()
    # Lambda resumes at record 1: records 2 and 4 succeeded but are delivered again.
    assert [index_of(r) for r in result.succeeded] == [0, 2, 4]
    assert result.redelivered == ()  # continue does not *report* them; the note is in the docs


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 12), data=st.data())
def test_continue_matches_powertools_batch_processor(size: int, data: st.DataObject) -> None:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    bad = data.draw(st.sets(st.integers(0, size - 1)))
    event = event_of(f"k{i % 3}" for i in range(size))

    def powertools_handler(record: Any) -> None:
        if int(record.dynamodb.sequence_number) - 100 in bad:
            raise ValueError("bad")

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    logging.disable(logging.CRITICAL)
    try:
        expected = process_partial_response(event=event, record_handler=powertools_handler, processor=processor)
        ours = process_batch(event, failing_at(*bad), on_failure="continue")
        stop = process_batch(event, failing_at(*bad))
    finally:
        logging.disable(logging.NOTSET)
    assert ours == expected
    assert stop == (failures(*range(min(bad), size)) if bad else failures())


def test_a_handler_returning_a_coroutine_fails_its_record_instead_of_succeeding() -> None:
    async def later() -> None:
        raise AssertionError("never runs")

    def handle(rec: StreamRecord) -> Any:
        return later()

    result = run_batch(event_of("ab"), handle)
    assert result.response == failures(0, 1)
    assert isinstance(result.failed[0].exception, TypeError)
    assert "aprocess_batch" in str(result.failed[0].exception)


def test_handler_return_values_other_than_awaitables_are_ignored() -> None:
    assert process_batch(event_of("ab"), lambda rec: {"ok": True}) == failures()


# -- handler shapes -------------------------------------------------------------------------------------


def test_the_context_is_passed_to_handlers_that_take_it() -> None:
    contexts: list[object] = []
    marker = object()
    process_batch(event_of("a"), lambda rec, context: contexts.append(context), context=marker)
    process_batch(event_of("a"), lambda rec, context=None: contexts.append(context), context=marker)
    process_batch(event_of("a"), lambda rec: contexts.append("no context"), context=marker)
    assert contexts == [marker, marker, "no context"]


def test_methods_partials_and_callable_objects_are_understood() -> None:
    calls: list[tuple[Any, ...]] = []

    class Handler:
        def __call__(self, rec: StreamRecord, context: Any) -> None:
            calls.append(("call", context))

        def method(self, rec: StreamRecord) -> None:
            calls.append(("method",))

    def three(prefix: str, rec: StreamRecord, context: Any) -> None:
        calls.append((prefix, context))

    process_batch(event_of("a"), Handler(), context=1)
    process_batch(event_of("a"), Handler().method, context=2)
    process_batch(event_of("a"), functools.partial(three, "partial"), context=3)
    assert calls == [("call", 1), ("method",), ("partial", 3)]


def test_a_decorated_handler_is_read_through_functools_wraps() -> None:
    def traced(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return wrapper

    seen: list[int] = []

    @traced
    def handle(rec: StreamRecord) -> None:
        seen.append(index_of(rec))

    assert process_batch(event_of("ab"), handle, context=object()) == failures()
    assert seen == [0, 1]


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (lambda: None, r"takes 0 positional arguments; a record handler takes \(record\) or \(record, context\)"),
        (lambda a, b, c: None, r"requires 3 positional arguments"),
        (lambda rec, *, option: None, r"has parameters only a keyword could fill \(option\)"),
    ],
)
def test_handlers_of_the_wrong_shape_are_refused_before_any_record(handler: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        process_batch(event_of("a"), handler)


def test_process_batch_refuses_an_async_handler_at_once() -> None:
    async def handle(rec: StreamRecord) -> None: ...

    with pytest.raises(TypeError, match=r"^handler .*handle is a coroutine function: use aprocess_batch"):
        process_batch(event_of("a"), handle)
    with pytest.raises(TypeError, match="coroutine function"):
        process_batch(event_of("a"), AsyncMock())


def test_aprocess_batch_refuses_a_plain_function_at_once() -> None:
    with pytest.raises(TypeError, match=r"is not a coroutine function: use process_batch"):
        asyncio.run(aprocess_batch(event_of("a"), lambda rec: None))


@pytest.mark.parametrize("option", [{"on_failure": "retry"}, {"concurrency": 0}, {"concurrency": 2.5}])
def test_bad_options_are_refused(option: dict[str, Any]) -> None:
    async def handle(rec: StreamRecord) -> None: ...

    with pytest.raises(ValueError, match=r"^(on_failure must be 'stop' or 'continue'|concurrency must be a positive)"):
        asyncio.run(aprocess_batch(event_of("a"), handle, **option))
    with pytest.raises(ValueError):
        batch_handler(**option)


# -- bad events and records -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, r'^Records: the event has no "Records" array'),
        ({"Records": "x"}, r"^Records: must be an array, got a string"),
        ([], r"^a Lambda event must be a JSON object, got an array"),
    ],
)
def test_bad_events_raise_event_shape_error(event: Any, message: str) -> None:
    with pytest.raises(EventShapeError, match=message):
        process_batch(event, lambda rec: None)


def test_a_record_without_a_sequence_number_fails_the_whole_batch_before_any_handler_runs() -> None:
    event = event_of("abc")
    del event["Records"][2]["dynamodb"]["SequenceNumber"]
    seen: list[int] = []
    with pytest.raises(EventShapeError, match=r"^Records\[2\]\.dynamodb\.SequenceNumber: missing"):
        process_batch(event, failing_at(seen=seen))
    assert seen == []


def test_a_record_with_a_malformed_image_fails_only_itself() -> None:
    event = event_of("abc")
    event["Records"][1]["dynamodb"]["NewImage"]["n"] = {"N": "twelve"}
    result = run_batch(event, lambda rec: dict(rec.new_image), on_failure="continue")
    assert result.response == failures(1)
    assert isinstance(result.failed[0].exception, shardline.AttributeValueError)


def test_a_type_error_inside_a_model_parse_fails_only_its_record() -> None:
    class Order:
        def __init__(self, pk: str, n: int) -> None:
            if n == 1:
                raise TypeError("n must not be 1")

    result = run_batch(event_of("abc"), lambda rec: rec.new_image_as(Order), on_failure="continue")
    assert result.response == failures(1)
    assert isinstance(result.failed[0].exception, TypeError)


def test_base_exceptions_propagate() -> None:
    def interrupt(rec: StreamRecord) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        process_batch(event_of("ab"), interrupt)


def test_kinesis_records_are_reported_by_their_kinesis_sequence_number(fixture_loader: Any) -> None:
    event = fixture_loader("events-kinesis-dynamodb.json")
    expected = event["Records"][0]["kinesis"]["sequenceNumber"]

    def fail_first(rec: StreamRecord) -> None:
        if rec.sequence_number == expected:
            raise RuntimeError

    assert process_batch(event, fail_first)["batchItemFailures"][0] == {"itemIdentifier": expected}


def test_an_empty_batch_succeeds() -> None:
    result = run_batch({"Records": []}, lambda rec: None, raise_on_total_failure=True)
    assert result.response == failures()
    assert not result.all_failed


def test_a_stream_event_object_is_accepted_as_is() -> None:
    stream = shardline.StreamEvent(event_of("ab"))
    result = run_batch(stream, lambda rec: None)
    assert result.records is stream.records


# -- total failure, logging, hooks --------------------------------------------------------------------


def test_total_failure_returns_the_response_by_default() -> None:
    result = run_batch(event_of("abc"), failing_at(0))
    assert result.all_failed
    assert result.response == failures(0, 1, 2)


def test_total_failure_raises_when_asked() -> None:
    with pytest.raises(
        BatchFailedError, match=r"^every record of the batch failed \(3 records\); first failure"
    ) as info:
        process_batch(event_of("abc"), failing_at(0), raise_on_total_failure=True)
    assert isinstance(info.value.__cause__, ValueError)
    assert isinstance(info.value.result, BatchResult)
    assert [index_of(f.record) for f in info.value.errors] == [0]


def test_a_partial_failure_does_not_raise_even_when_asked() -> None:
    assert process_batch(event_of("abc"), failing_at(1), raise_on_total_failure=True) == failures(1, 2)


def test_failures_are_logged_with_identifiers_and_traceback_but_no_item(caplog: pytest.LogCaptureFixture) -> None:
    secret = {"card": {"S": "4111-1111-1111-1111"}}
    event = {"Records": [record("a", 0, extra=secret)]}

    def handle(rec: StreamRecord) -> None:
        rec.new_image["card"]
        raise ValueError("declined")

    with caplog.at_level(logging.INFO, logger="shardline"):
        process_batch(event, handle)
    warning, summary = caplog.records
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == f"record 100 failed (eventID {0:032x}, MODIFY): ValueError"
    assert warning.exc_info is not None
    assert warning.exc_info[0] is ValueError
    assert warning.sequence_number == "100"  # type: ignore[attr-defined]
    assert summary.levelno == logging.INFO
    assert summary.getMessage().startswith(
        "batch of 1 records: 0 succeeded, 1 failed, 0 skipped, 1 reported, checkpoint 100, "
    )
    assert "4111" not in caplog.text


def test_a_custom_logger_receives_the_lines() -> None:
    lines: list[tuple[str, str]] = []

    class Collector:
        def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
            lines.append(("info", msg % args))

        def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
            lines.append(("warning", msg % args))

        def error(self, msg: str, *args: Any, **kwargs: Any) -> None: ...

        def exception(self, msg: str, *args: Any, **kwargs: Any) -> None: ...

    process_batch(event_of("ab"), failing_at(1), logger=Collector())
    assert [level for level, _ in lines] == ["warning", "info"]


def test_powertools_logger_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools import Logger

    logger = Logger(service="orders", level="INFO")
    process_batch(event_of("ab"), failing_at(1), logger=logger)
    out = capsys.readouterr().out
    assert '"sequence_number":"101"' in out.replace(" ", "")
    assert '"checkpoint":"101"' in out.replace(" ", "")


def test_the_on_result_hook_sees_the_result_and_cannot_lose_the_response(caplog: pytest.LogCaptureFixture) -> None:
    results: list[BatchResult] = []
    process_batch(event_of("ab"), failing_at(1), on_result=results.append)
    assert [r.checkpoint for r in results] == [seq(1)]

    def broken(result: BatchResult) -> None:
        raise RuntimeError("metrics down")

    with caplog.at_level(logging.ERROR, logger="shardline"):
        assert process_batch(event_of("ab"), failing_at(1), on_result=broken) == failures(1)
    assert "the on_result hook raised" in caplog.text


def test_result_repr_summarises() -> None:
    result = run_batch(event_of("abc"), failing_at(1))
    assert repr(result) == "<BatchResult records=3 succeeded=1 failed=1 skipped=1 reported=2 checkpoint=101>"


# -- the asyncio runner ----------------------------------------------------------------------------------


def test_async_all_succeed() -> None:
    seen: list[int] = []

    async def handle(rec: StreamRecord) -> None:
        seen.append(index_of(rec))

    assert asyncio.run(aprocess_batch(event_of("abcab"), handle)) == failures()
    assert sorted(seen) == [0, 1, 2, 3, 4]


def test_async_records_of_one_item_run_one_at_a_time_in_stream_order() -> None:
    keys = "aabacbbcaa"
    active: dict[str, int] = {}
    order: dict[str, list[int]] = {}
    overlap: list[str] = []

    async def handle(rec: StreamRecord) -> None:
        key = rec.keys["pk"]
        if active.get(key):
            overlap.append(key)
        active[key] = active.get(key, 0) + 1
        for _ in range(3):  # yield to the loop so other records interleave
            await asyncio.sleep(0)
        order.setdefault(key, []).append(index_of(rec))
        active[key] -= 1

    assert asyncio.run(aprocess_batch(event_of(keys), handle, concurrency=4)) == failures()
    assert overlap == []
    assert order == {k: [i for i, c in enumerate(keys) if c == k] for k in set(keys)}


def test_async_concurrency_is_bounded_and_used() -> None:
    running = 0
    peak = 0

    async def handle(rec: StreamRecord) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(5):
            await asyncio.sleep(0)
        running -= 1

    asyncio.run(aprocess_batch(event_of(f"k{i}" for i in range(20)), handle, concurrency=3))
    assert peak == 3


def test_async_numbers_in_keys_compare_by_value() -> None:
    event = {"Records": [record("a", 0), record("a", 1)]}
    event["Records"][0]["dynamodb"]["Keys"] = {"id": {"N": "1.0"}}
    event["Records"][1]["dynamodb"]["Keys"] = {"id": {"N": "1"}}
    active = 0
    overlap = False

    async def handle(rec: StreamRecord) -> None:
        nonlocal active, overlap
        overlap = overlap or active > 0
        active += 1
        await asyncio.sleep(0)
        active -= 1

    asyncio.run(aprocess_batch(event, handle, concurrency=2))
    assert not overlap


def test_async_stop_reports_a_record_that_never_started_even_before_the_failure() -> None:
    # Keys A, A, B: A's first record is slow, B fails fast. A's second record must never start, and it
    # is reported (it lies before B), so Lambda's checkpoint cannot skip it.
    started: list[int] = []

    async def scenario() -> BatchResult:
        b_failed = asyncio.Event()

        async def handle(rec: StreamRecord) -> None:
            index = index_of(rec)
            started.append(index)
            if index == 0:
                await b_failed.wait()  # slow: still in flight when B fails
            if index == 2:
                b_failed.set()
                raise ValueError("B fails")

        return await arun_batch(event_of("AAB"), handle, concurrency=4)

    result = asyncio.run(scenario())
    assert sorted(started) == [0, 2]
    assert result.response == failures(1, 2)
    assert result.checkpoint == seq(1)
    assert [index_of(r) for r in result.succeeded] == [0]
    assert [index_of(r) for r in result.skipped] == [1]
    assert [index_of(f.record) for f in result.failed] == [2]


def test_async_stop_lets_in_flight_records_finish_and_counts_redelivered_successes() -> None:
    finished: list[int] = []

    async def scenario() -> BatchResult:
        first_failed = asyncio.Event()

        async def handle(rec: StreamRecord) -> None:
            index = index_of(rec)
            if index == 1:
                first_failed.set()
                raise ValueError("fails")
            if index == 2:
                await first_failed.wait()  # in flight when record 1 fails; it finishes anyway
            finished.append(index)

        return await arun_batch(event_of("abcde"), handle, concurrency=3)

    result = asyncio.run(scenario())
    assert sorted(finished) == [0, 2]
    assert result.response == failures(1, 2, 3, 4)
    assert [index_of(r) for r in result.redelivered] == [2]
    assert [index_of(r) for r in result.skipped] == [3, 4]


def test_async_continue_runs_everything() -> None:
    async def handle(rec: StreamRecord) -> None:
        if index_of(rec) in (1, 3):
            raise ValueError

    result = asyncio.run(arun_batch(event_of("aabbc"), handle, on_failure="continue"))
    assert result.response == failures(1, 3)
    assert result.skipped == ()


def test_async_concurrency_one_runs_in_order_and_stops() -> None:
    seen: list[int] = []

    async def handle(rec: StreamRecord) -> None:
        seen.append(index_of(rec))
        if index_of(rec) == 1:
            raise ValueError

    assert asyncio.run(aprocess_batch(event_of("abc"), handle, concurrency=1)) == failures(1, 2)
    assert seen == [0, 1]


def test_async_handler_returning_a_non_awaitable_fails_its_record() -> None:
    def plain(rec: StreamRecord) -> int:
        return 3

    # Marked as a coroutine function (asyncio's marker, as AsyncMock uses) but returning a plain value.
    plain._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]
    result = asyncio.run(arun_batch(event_of("ab"), plain, concurrency=1))
    assert result.response == failures(0, 1)
    assert isinstance(result.failed[0].exception, TypeError)
    assert str(result.failed[0].exception).startswith("the handler returned int, not an awaitable")


def test_async_cancellation_cancels_the_records_in_flight_and_propagates() -> None:
    cancelled: list[int] = []

    async def scenario() -> None:
        in_flight = asyncio.Event()

        async def handle(rec: StreamRecord) -> None:
            try:
                in_flight.set()
                await asyncio.Event().wait()  # never set
            except asyncio.CancelledError:
                cancelled.append(index_of(rec))
                raise

        task = asyncio.ensure_future(aprocess_batch(event_of("abc"), handle, concurrency=2))
        await in_flight.wait()
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert sorted(cancelled) == [0, 1]


def test_async_base_exception_from_a_handler_propagates_and_cancels_the_others() -> None:
    cancelled: list[int] = []

    async def scenario() -> None:
        async def handle(rec: StreamRecord) -> None:
            if index_of(rec) == 1:
                raise asyncio.CancelledError
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(index_of(rec))
                raise

        await aprocess_batch(event_of("abc"), handle, concurrency=3)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(scenario())
    assert sorted(cancelled) == [0, 2]


def test_async_context_is_passed() -> None:
    got: list[object] = []

    async def handle(rec: StreamRecord, context: object) -> None:
        got.append(context)

    asyncio.run(aprocess_batch(event_of("a"), handle, context="ctx"))
    assert got == ["ctx"]


def test_async_total_failure_raises_when_asked() -> None:
    async def handle(rec: StreamRecord) -> None:
        raise ValueError

    with pytest.raises(BatchFailedError):
        asyncio.run(aprocess_batch(event_of("ab"), handle, raise_on_total_failure=True))


# -- the decorator ------------------------------------------------------------------------------------


def test_decorator_bare_with_a_sync_handler() -> None:
    seen: list[int] = []

    @batch_handler
    def lambda_handler(rec: StreamRecord) -> None:
        """Handles orders."""
        seen.append(index_of(rec))

    assert lambda_handler(event_of("ab"), object()) == failures()
    assert seen == [0, 1]
    assert lambda_handler.__name__ == "lambda_handler"
    assert lambda_handler.__doc__ == "Handles orders."
    assert lambda_handler.record_handler.__name__ == "lambda_handler"  # type: ignore[attr-defined]


def test_decorator_with_options_and_a_context_parameter() -> None:
    contexts: list[object] = []

    @batch_handler(on_failure="continue")
    def lambda_handler(rec: StreamRecord, context: object) -> None:
        contexts.append(context)
        if index_of(rec) == 0:
            raise ValueError

    assert lambda_handler(event_of("ab"), "ctx") == failures(0)
    assert contexts == ["ctx", "ctx"]


def test_decorator_with_an_async_handler_keeps_one_event_loop_across_invocations() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    @batch_handler(concurrency=2)
    async def lambda_handler(rec: StreamRecord, context: object) -> None:
        loops.append(asyncio.get_running_loop())
        if index_of(rec) == 1:
            raise ValueError

    try:
        assert lambda_handler(event_of("abc"), None) == failures(1, 2)
        assert lambda_handler(event_of("a"), None) == failures()
        assert len(set(map(id, loops))) == 1
    finally:
        lambda_handler.close()  # type: ignore[attr-defined]


def test_decorator_async_entry_refuses_to_run_inside_a_running_loop() -> None:
    @batch_handler
    async def lambda_handler(rec: StreamRecord) -> None: ...

    async def inside() -> None:
        with pytest.raises(RuntimeError, match="await aprocess_batch"):
            lambda_handler(event_of("a"), None)

    asyncio.run(inside())


def test_decorator_refuses_a_handler_of_the_wrong_shape_at_decoration() -> None:
    with pytest.raises(TypeError, match="requires 3 positional arguments"):
        batch_handler(lambda a, b, c: None)
    with pytest.raises(TypeError, match="needs a callable"):
        batch_handler("handler")  # type: ignore[call-overload]


def test_a_failed_record_missing_its_identity_is_still_logged(caplog: pytest.LogCaptureFixture) -> None:
    event = event_of("a")
    del event["Records"][0]["eventID"]
    event["Records"][0]["eventName"] = "UPSERT"
    with caplog.at_level(logging.WARNING, logger="shardline"):
        assert process_batch(event, failing_at(0)) == failures(0)
    assert caplog.records[0].getMessage() == "record 100 failed (eventID ?, ?): ValueError"


def test_async_a_record_with_unreadable_keys_still_reaches_the_handler() -> None:
    event = event_of("aab")
    event["Records"][1]["dynamodb"]["Keys"] = {"pk": {"N": "not a number"}}
    seen: list[int] = []

    async def handle(rec: StreamRecord) -> None:
        seen.append(index_of(rec))
        rec.keys  # noqa: B018 - the handler finds out about its bad record itself

    logging.disable(logging.CRITICAL)
    try:
        result = asyncio.run(arun_batch(event, handle, on_failure="continue", concurrency=3))
    finally:
        logging.disable(logging.NOTSET)
    assert sorted(seen) == [0, 1, 2]
    assert result.response == failures(1)
    assert isinstance(result.failed[0].exception, shardline.AttributeValueError)


# -- hardening: odd records, odd handlers, odd loggers (issue 12) -------------------------------------


def kinesis_of(
    change: Any, sequence: str = "49590338271490256608559692538361571095921575989136588898"
) -> dict[str, Any]:
    data = change if isinstance(change, str) else json.dumps(change)
    return {
        "kinesis": {"data": base64.b64encode(data.encode()).decode(), "sequenceNumber": sequence},
        "eventSource": "aws:kinesis",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
    }


def quietly(run: Callable[[], Any]) -> Any:
    logging.disable(logging.CRITICAL)
    try:
        return run()
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize(
    "key",
    [
        {"SS": ["a", "b"]},
        {"NS": ["1", "2"]},
        {"BS": ["AA=="]},
        {"L": [{"S": "a"}, {"NS": ["1"]}]},
        {"M": {"x": {"SS": ["a"]}}},
    ],
)
def test_async_keys_holding_sets_lists_or_maps_still_run_in_item_order(key: dict[str, Any]) -> None:
    # Not valid key types, but readable ones: records with equal such Keys are one item (run one at a
    # time, in order); the sync runner never cared, and now neither does the async one.
    event = event_of("aab")
    event["Records"][0]["dynamodb"]["Keys"] = {"pk": key}
    event["Records"][1]["dynamodb"]["Keys"] = {"pk": json.loads(json.dumps(key))}
    active = 0
    overlap = False
    seen: list[int] = []

    async def handle(rec: StreamRecord) -> None:
        nonlocal active, overlap
        overlap = overlap or (active > 0 and index_of(rec) == 1)
        active += index_of(rec) < 2
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active -= index_of(rec) < 2
        seen.append(index_of(rec))

    assert asyncio.run(aprocess_batch(event, handle, concurrency=3)) == failures()
    assert sorted(seen) == [0, 1, 2]
    assert seen.index(0) < seen.index(1)
    assert not overlap


class _GetattrRaises:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no attribute {name}")


class _CloseRaises:
    def __await__(self) -> Any:
        yield

    def close(self) -> None:
        raise RuntimeError("close() failed")


def test_a_handler_result_whose_getattr_raises_is_an_ordinary_return_value() -> None:
    # Whether a result is awaitable is asked of its type, as `await` does: its __getattr__ never runs.
    assert process_batch(event_of("ab"), lambda rec: _GetattrRaises()) == failures()


def test_an_awaitable_result_whose_close_raises_fails_only_its_record() -> None:
    result = run_batch(
        event_of("abc"), lambda rec: _CloseRaises() if index_of(rec) == 1 else None, on_failure="continue"
    )
    assert result.response == failures(1)
    assert isinstance(result.failed[0].exception, TypeError)
    assert str(result.failed[0].exception).startswith("the handler returned an awaitable instead of running")


def test_async_a_result_whose_getattr_raises_is_not_an_awaitable() -> None:
    def plain(rec: StreamRecord) -> Any:
        return _GetattrRaises()

    plain._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]
    result = quietly(lambda: asyncio.run(arun_batch(event_of("a"), plain)))
    assert result.response == failures(0)
    assert str(result.failed[0].exception).startswith("the handler returned _GetattrRaises, not an awaitable")


def test_a_kinesis_record_the_handler_cleared_is_logged_by_its_sequence_number(
    fixture_loader: Any, caplog: pytest.LogCaptureFixture
) -> None:
    event = fixture_loader("events-kinesis-dynamodb.json")
    expected = event["Records"][0]["kinesis"]["sequenceNumber"]

    def clear(rec: StreamRecord) -> None:
        rec.raw.clear()
        raise ValueError("gone")

    with caplog.at_level(logging.WARNING, logger="shardline"):
        response = process_batch(event, clear)
    assert response["batchItemFailures"][0] == {"itemIdentifier": expected}
    assert caplog.records[0].getMessage() == f"record {expected} failed (eventID ?, ?): ValueError"


@pytest.mark.parametrize("data", ["[" * 50_000 + "]" * 50_000, '{"dynamodb": ' * 3000 + "{}" + "}" * 3000])
def test_a_kinesis_record_with_deeply_nested_data_fails_alone_in_both_runners(
    data: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = {"eventID": "e", "eventName": "INSERT", "tableName": "T", "dynamodb": {"Keys": {"id": {"S": "a"}}}}
    event = {"Records": [kinesis_of(good, "1"), kinesis_of(data, "2"), kinesis_of(good, "3")]}
    seen: list[str] = []

    def handle(rec: StreamRecord) -> None:
        seen.append(rec.sequence_number)
        rec.keys  # noqa: B018 - the bad record's own handler finds out, nobody else

    async def ahandle(rec: StreamRecord) -> None:
        handle(rec)

    with caplog.at_level(logging.WARNING, logger="shardline"):
        assert process_batch(event, handle, on_failure="continue") == {"batchItemFailures": [{"itemIdentifier": "2"}]}
        assert asyncio.run(aprocess_batch(event, ahandle, on_failure="continue", concurrency=3)) == {
            "batchItemFailures": [{"itemIdentifier": "2"}]
        }
    assert sorted(seen) == ["1", "1", "2", "2", "3", "3"]
    assert [record.getMessage().partition(":")[0] for record in caplog.records] == [
        "record 2 failed (eventID ?, ?)",
        "record 2 failed (eventID ?, ?)",
    ]


def test_a_kinesis_record_without_a_sequence_number_fails_the_batch_before_any_handler_runs() -> None:
    event = {"Records": [kinesis_of({"eventName": "INSERT"}, "1"), kinesis_of({"eventName": "INSERT"}, "")]}
    seen: list[int] = []

    async def handle(rec: StreamRecord) -> None:
        seen.append(1)

    with pytest.raises(EventShapeError, match=r"^Records\[1\]\.kinesis\.sequenceNumber: must not be empty"):
        process_batch(event, lambda rec: seen.append(1))
    with pytest.raises(EventShapeError, match=r"^Records\[1\]\.kinesis\.sequenceNumber: must not be empty"):
        asyncio.run(aprocess_batch(event, handle))
    assert seen == []


class _BrokenMapping(Mapping[str, Any]):
    """A record section that is not JSON: reading it raises."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("this mapping cannot be read")

    def __iter__(self) -> Iterator[str]:
        return iter(["SequenceNumber"])

    def __len__(self) -> int:
        return 1


def test_a_sequence_number_that_cannot_be_read_at_all_is_an_event_shape_error_with_its_path() -> None:
    event = event_of("ab")
    event["Records"][1]["dynamodb"] = _BrokenMapping()
    seen: list[int] = []
    with pytest.raises(EventShapeError, match=r"^Records\[1\]\.dynamodb"):
        process_batch(event, failing_at(seen=seen))
    assert seen == []


def test_an_event_that_cannot_be_read_is_an_event_shape_error() -> None:
    class Unreadable(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            raise RuntimeError("no")

    with pytest.raises(EventShapeError, match=r"^the event cannot be read as a stream batch \(RuntimeError: no\)"):
        process_batch(Unreadable(), lambda rec: None)


class _Halt(BaseException):
    """A library's own BaseException."""


class _BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() fails")


@pytest.mark.parametrize("exc", [_Halt(), GeneratorExit(), _BrokenStr(), RecursionError("deep")])
def test_any_exception_but_a_request_to_stop_fails_only_its_record(
    exc: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    def handle(rec: StreamRecord) -> None:
        if index_of(rec) == 1:
            raise exc

    with caplog.at_level(logging.WARNING, logger="shardline"):
        result = run_batch(event_of("abc"), handle, on_failure="continue")
    assert result.response == failures(1)
    assert result.failed[0].exception is exc
    assert caplog.records[0].getMessage().endswith(f"): {type(exc).__name__}")


@pytest.mark.parametrize("exc", [_Halt(), _BrokenStr()])
def test_async_any_exception_but_a_request_to_stop_fails_only_its_record(exc: BaseException) -> None:
    async def handle(rec: StreamRecord) -> None:
        await asyncio.sleep(0)
        if index_of(rec) == 1:
            raise exc

    for concurrency in (1, 3):
        result = quietly(functools.partial(asyncio.run, arun_batch(event_of("abc"), handle, concurrency=concurrency)))
        assert result.response == failures(1, 2)
        assert result.failed[0].exception is exc


@pytest.mark.parametrize("exc", [SystemExit(3), KeyboardInterrupt()])
def test_requests_to_stop_propagate_from_both_runners(exc: BaseException) -> None:
    def handle(rec: StreamRecord) -> None:
        raise exc

    async def ahandle(rec: StreamRecord) -> None:
        raise exc

    with pytest.raises(type(exc)):
        process_batch(event_of("ab"), handle)
    with pytest.raises(type(exc)):
        asyncio.run(aprocess_batch(event_of("ab"), ahandle, concurrency=1))


def test_async_generator_exit_propagates_as_it_closes_coroutines() -> None:
    async def handle(rec: StreamRecord) -> None:
        raise GeneratorExit

    with pytest.raises(GeneratorExit):
        asyncio.run(aprocess_batch(event_of("ab"), handle, concurrency=1))


class _RaisingLogger:
    def __getattr__(self, name: str) -> Any:
        def log(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError(f"logger.{name} is down")

        return log


def test_a_logger_that_raises_loses_its_lines_not_the_response() -> None:
    async def handle(rec: StreamRecord) -> None:
        if index_of(rec) == 1:
            raise ValueError

    def hook(result: BatchResult) -> None:
        raise RuntimeError("metrics down")

    assert process_batch(event_of("abc"), failing_at(1), logger=_RaisingLogger(), on_result=hook) == failures(1, 2)
    assert asyncio.run(aprocess_batch(event_of("abc"), handle, logger=_RaisingLogger())) == failures(1, 2)


def test_a_logging_filter_that_raises_does_not_lose_the_response() -> None:
    logger = logging.getLogger("shardline.test.broken-filter")
    logger.propagate = False

    def broken(record: logging.LogRecord) -> bool:
        raise RuntimeError("filter down")

    logger.addFilter(broken)
    assert process_batch(event_of("ab"), failing_at(0), logger=logger) == failures(0, 1)


def test_an_on_result_hook_raising_a_base_exception_does_not_lose_the_response() -> None:
    def hook(result: BatchResult) -> None:
        raise _Halt

    assert quietly(lambda: process_batch(event_of("ab"), failing_at(1), on_result=hook)) == failures(1)


class _Opaque:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("== fails")

    def __repr__(self) -> str:
        raise RuntimeError("repr fails")

    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"on_failure": _Opaque()}, r"^on_failure must be 'stop' or 'continue', got <_Opaque object>$"),
        ({"concurrency": _Opaque()}, r"^concurrency must be a positive int, got <_Opaque object>$"),
        ({"on_failure": "x" * 100}, r"^on_failure must be 'stop' or 'continue', got 'x{56}\.\.\.$"),
    ],
)
def test_odd_options_are_refused_with_a_short_message(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        batch_handler(**option)


def test_a_str_subclass_policy_is_accepted() -> None:
    class Policy(str):
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("== fails")

        __hash__ = str.__hash__

    assert process_batch(event_of("abc"), failing_at(1), on_failure=Policy("continue")) == failures(1)  # type: ignore[arg-type]


def test_async_records_with_unreadable_keys_run_one_at_a_time_in_stream_order() -> None:
    event = event_of("abcd")
    for index in (0, 2, 3):
        event["Records"][index]["dynamodb"]["Keys"] = {"pk": {"N": "not a number"}}
    active = 0
    overlap = False
    order: list[int] = []

    async def handle(rec: StreamRecord) -> None:
        nonlocal active, overlap
        unreadable = index_of(rec) != 1
        overlap = overlap or (unreadable and active > 0)
        active += unreadable
        await asyncio.sleep(0)
        active -= unreadable
        if unreadable:
            order.append(index_of(rec))

    assert asyncio.run(aprocess_batch(event, handle, concurrency=4)) == failures()
    assert order == [0, 2, 3]
    assert not overlap


def test_a_callable_object_with_odd_attributes_can_be_decorated() -> None:
    class Handler:
        __name__ = 42  # not a string: a function refuses it as its name

        def __call__(self, rec: StreamRecord) -> None: ...

        def __getattr__(self, name: str) -> Any:
            raise RuntimeError(name)

    entry = batch_handler(Handler())
    assert entry(event_of("a"), None) == failures()
    assert entry.__name__ == "entry"


@FUZZ
@given(size=st.integers(1, 8), data=st.data())
def test_fuzz_continue_matches_powertools_on_records_with_malformed_content(size: int, data: st.DataObject) -> None:
    """Whatever a record's Keys, images, name or identity hold, the response depends only on which
    handlers failed, exactly as Powertools' BatchProcessor answers; the asyncio runner agrees."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    junk = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=3),
        lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner, max_size=2),
        max_leaves=4,
    )
    deep = st.integers(1000, 3000).map(
        lambda depth: functools.reduce(lambda v, _: {"L": [v]}, range(depth), {"S": "x"})  # type: ignore[dict-item]
    )
    bad = data.draw(st.sets(st.integers(0, size - 1)))
    event = event_of(f"k{i % 3}" for i in range(size))
    for raw in event["Records"]:
        for _ in range(data.draw(st.integers(0, 2))):
            path = data.draw(
                st.sampled_from(
                    [("eventName",), ("eventID",), ("eventSourceARN",), ("dynamodb", "Keys"), ("dynamodb", "NewImage")]
                )
            )
            target = raw if len(path) == 1 else raw["dynamodb"]
            target[path[-1]] = data.draw(junk | deep | st.sampled_from([{"pk": {"SS": ["a"]}}, {"pk": {"N": "x"}}]))

    def powertools_handler(record: Any) -> None:
        if int(record.dynamodb.sequence_number) - 100 in bad:
            raise ValueError("bad")

    async def handle(rec: StreamRecord) -> None:
        await asyncio.sleep(0)
        failing_at(*bad)(rec)

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    logging.disable(logging.CRITICAL)
    try:
        expected = process_partial_response(event=event, record_handler=powertools_handler, processor=processor)
        ours = process_batch(event, failing_at(*bad), on_failure="continue")
        ours_async = asyncio.run(aprocess_batch(event, handle, on_failure="continue", concurrency=3))
    finally:
        logging.disable(logging.NOTSET)
    assert ours == expected
    assert ours_async == expected
