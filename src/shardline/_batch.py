"""The batch runner: a per-record handler over a stream batch, answered with a partial batch response.

Lambda checkpoints a stream shard at the LOWEST sequence number a partial batch response reports and
delivers every record from there on again (SPEC section 5). So the response decides what runs twice, and
two policies make sense:

``on_failure="stop"`` (the default)
    Stop at the first failure and report that record and every record after it. Lambda resumes exactly
    there; nothing that succeeded runs again. The right choice for a stream, where order matters.
``on_failure="continue"``
    Run every record and report every failure (Powertools' BatchProcessor does this). The records that
    succeeded after the first failure are delivered again anyway, so the handler must be idempotent.

The asyncio runner keeps the stream's order where it matters: records of one item (same Keys) run one at
a time, in stream order; records of different items run concurrently. With "stop" it starts no record
after a failure, lets the ones in flight finish, then reports every record from the lowest one that did
not succeed: whatever finished after that point runs again (``BatchResult.redelivered`` counts them).

Which records to report is one pure function, :func:`report_indices`, shared by both runners.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, Protocol, final, overload

from ._calling import is_async_callable, takes_extra_argument
from ._events import ShapeErrors, StreamEvent, StreamRecord, sequence_numbers
from ._exceptions import BatchFailedError

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BatchResult",
    "OnFailure",
    "RecordFailure",
    "aprocess_batch",
    "arun_batch",
    "batch_handler",
    "process_batch",
    "report_indices",
    "run_batch",
]

OnFailure = Literal["stop", "continue"]
#: Records the async runner keeps in flight by default: botocore's and aiobotocore's default connection
#: pool holds 10 connections, so a handler that calls AWS once per record does not queue for one.
DEFAULT_CONCURRENCY: Final = 10
_POLICIES: Final = ("stop", "continue")
_LOGGER: Final = logging.getLogger("shardline")
_clock: Final = time.perf_counter  # durations only; nothing is scheduled by it


class Logger(Protocol):
    """What the runner logs through: a ``logging.Logger``, a ``LoggerAdapter``, Powertools' ``Logger``..."""

    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def error(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def exception(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


class RecordFailure(NamedTuple):
    """A record whose handler raised, and what it raised."""

    record: StreamRecord
    exception: Exception


@final
class BatchResult:
    """What a batch run did: the response for Lambda and the fate of every record.

    ``response`` is the partial batch response. ``succeeded``, ``failed`` and ``skipped`` (never started)
    partition ``records``; ``reported`` are the records the response names; ``checkpoint`` is the sequence
    number Lambda resumes from (``None`` when nothing is reported); ``redelivered`` are the records that
    succeeded but are reported anyway (Lambda delivers them again).
    """

    __slots__ = (
        "checkpoint",
        "duration",
        "failed",
        "on_failure",
        "records",
        "redelivered",
        "reported",
        "response",
        "skipped",
        "succeeded",
    )

    def __init__(
        self,
        *,
        records: tuple[StreamRecord, ...],
        sequence_numbers: Sequence[str],
        failures: Mapping[int, Exception],
        unfinished: Sequence[int],
        on_failure: OnFailure,
        duration: float,
    ) -> None:
        reported = report_indices(len(records), sorted((*failures, *unfinished)), on_failure)
        not_run = frozenset(unfinished)
        self.records = records
        self.on_failure = on_failure
        self.duration = duration
        self.response: dict[str, list[dict[str, str]]] = {
            "batchItemFailures": [{"itemIdentifier": sequence_numbers[index]} for index in reported]
        }
        self.failed = tuple(RecordFailure(records[index], failures[index]) for index in sorted(failures))
        self.skipped = tuple(records[index] for index in sorted(not_run))
        if failures or not_run:
            self.succeeded = tuple(
                record for index, record in enumerate(records) if index not in failures and index not in not_run
            )
        else:
            self.succeeded = records
        self.reported = tuple(records[index] for index in reported)
        self.checkpoint = sequence_numbers[reported[0]] if reported else None
        self.redelivered = tuple(records[index] for index in reported if index not in failures and index not in not_run)

    @property
    def all_failed(self) -> bool:
        """True when the response reports every record of a non-empty batch: nothing moved forward."""
        return bool(self.records) and len(self.reported) == len(self.records)

    def __repr__(self) -> str:
        return (
            f"<BatchResult records={len(self.records)} succeeded={len(self.succeeded)} failed={len(self.failed)}"
            f" skipped={len(self.skipped)} reported={len(self.reported)} checkpoint={self.checkpoint}>"
        )


def report_indices(count: int, not_succeeded: Sequence[int], on_failure: OnFailure) -> list[int]:
    """Which records of a batch of ``count`` the response must report, as sorted indices.

    ``not_succeeded`` lists, in ascending order, the records that failed or never ran. With "continue"
    those are reported; with "stop" every record from the first of them on is reported, whether it ran
    or not, so that Lambda's checkpoint (the lowest reported record) can never skip a record.

    >>> report_indices(5, [1, 3], "continue"), report_indices(5, [1, 3], "stop"), report_indices(5, [], "stop")
    ([1, 3], [1, 2, 3, 4], [])
    """
    if not not_succeeded:
        return []
    if on_failure == "continue":
        return list(not_succeeded)
    return list(range(not_succeeded[0], count))


# --------------------------------------------------------------------------------------------------
# Shared set-up and reporting


def _check_options(on_failure: object, concurrency: object = DEFAULT_CONCURRENCY) -> OnFailure:
    if on_failure not in _POLICIES:
        raise ValueError(f"on_failure must be 'stop' or 'continue', got {on_failure!r}")
    if type(concurrency) is not int or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
    return on_failure


def _prepare(event: Mapping[str, Any] | StreamEvent) -> tuple[tuple[StreamRecord, ...], list[str]]:
    """The records and their sequence numbers, every one checked before any handler runs: a record the
    response could not name would turn one bad record into a crash after others were processed."""
    stream = event if isinstance(event, StreamEvent) else StreamEvent(event)
    records = stream.records
    return records, sequence_numbers(records)


def _describe(record: StreamRecord) -> tuple[str, str, str]:
    """Sequence number, event ID and event name for a log line; '?' for what the record lacks."""
    return _field(record, "sequence_number"), _field(record, "event_id"), _field(record, "event_name")


def _field(record: StreamRecord, name: str) -> str:
    try:
        return str(getattr(record, name))
    except ShapeErrors:
        return "?"


def _log_failure(logger: Logger, record: StreamRecord, exc: BaseException) -> None:
    sequence, event_id, event_name = _describe(record)
    logger.warning(
        "record %s failed (eventID %s, %s): %s",
        sequence,
        event_id,
        event_name,
        type(exc).__name__,
        exc_info=exc,
        extra={"sequence_number": sequence, "event_id": event_id, "event_name": event_name},
    )


def _finish(
    result: BatchResult,
    *,
    logger: Logger,
    raise_on_total_failure: bool,
    on_result: Callable[[BatchResult], object] | None,
) -> BatchResult:
    logger.info(
        "batch of %d records: %d succeeded, %d failed, %d skipped, %d reported, checkpoint %s, %.1f ms",
        len(result.records),
        len(result.succeeded),
        len(result.failed),
        len(result.skipped),
        len(result.reported),
        result.checkpoint or "-",
        result.duration * 1000,
        extra={
            "records": len(result.records),
            "failed": len(result.failed),
            "skipped": len(result.skipped),
            "reported": len(result.reported),
            "redelivered": len(result.redelivered),
            "checkpoint": result.checkpoint,
            "duration_ms": round(result.duration * 1000, 3),
        },
    )
    if on_result is not None:
        try:
            on_result(result)
        except Exception:  # a metrics hook must not lose the batch's response
            logger.exception("the on_result hook raised; the batch response is returned regardless")
    if raise_on_total_failure and result.all_failed:
        raise BatchFailedError(result)
    return result


def _not_awaited(result: object) -> TypeError | None:
    """A TypeError when a synchronous handler returned something to await (it must be run by the async
    runner); the coroutine is closed so Python does not warn that it was never awaited."""
    if result is None or not hasattr(result, "__await__"):
        return None
    close = getattr(result, "close", None)
    if close is not None:
        close()
    return TypeError(
        "the handler returned an awaitable instead of running: use aprocess_batch / arun_batch for async handlers"
        " (batch_handler picks the runner itself)"
    )


# --------------------------------------------------------------------------------------------------
# The synchronous runner


def run_batch(
    event: Mapping[str, Any] | StreamEvent,
    handler: Callable[..., object],
    *,
    on_failure: OnFailure = "stop",
    context: Any = None,
    logger: Logger | None = None,
    raise_on_total_failure: bool = False,
    on_result: Callable[[BatchResult], object] | None = None,
) -> BatchResult:
    """Run ``handler(record)`` (or ``handler(record, context)``) over the batch, in order.

    Returns a :class:`BatchResult`; :func:`process_batch` returns just its ``response``. See the module
    documentation for the ``on_failure`` policies.

    >>> event = {"Records": [
    ...     {"eventID": "1", "eventName": "INSERT", "dynamodb": {"Keys": {"id": {"N": "1"}}, "SequenceNumber": "100"}},
    ...     {"eventID": "2", "eventName": "INSERT", "dynamodb": {"Keys": {"id": {"N": "2"}}, "SequenceNumber": "200"}},
    ... ]}
    >>> def handle(record):
    ...     if record.keys["id"] == 2:
    ...         raise ValueError("no")
    >>> result = run_batch(event, handle, logger=logging.getLogger("quiet"))
    >>> result.response, result.checkpoint, len(result.succeeded)
    ({'batchItemFailures': [{'itemIdentifier': '200'}]}, '200', 1)
    """
    policy = _check_options(on_failure)
    if is_async_callable(handler):
        raise TypeError(
            f"{_handler_name(handler)} is a coroutine function: use aprocess_batch / arun_batch (or batch_handler,"
            " which picks the runner)"
        )
    with_context = takes_extra_argument(handler, 1)
    records, sequence_numbers = _prepare(event)
    log = _LOGGER if logger is None else logger
    stop = policy == "stop"
    failures: dict[int, Exception] = {}
    unfinished: Sequence[int] = ()
    started = _clock()
    for index, record in enumerate(records):
        try:
            outcome = handler(record, context) if with_context else handler(record)
        except Exception as exc:  # noqa: BLE001 - a handler's exception is data: its record failed
            error: Exception | None = exc
        else:
            error = None if outcome is None else _not_awaited(outcome)
        if error is None:
            continue
        failures[index] = error
        _log_failure(log, record, error)
        if stop:
            unfinished = range(index + 1, len(records))
            break
    result = BatchResult(
        records=records,
        sequence_numbers=sequence_numbers,
        failures=failures,
        unfinished=unfinished,
        on_failure=policy,
        duration=_clock() - started,
    )
    return _finish(result, logger=log, raise_on_total_failure=raise_on_total_failure, on_result=on_result)


def process_batch(
    event: Mapping[str, Any] | StreamEvent,
    handler: Callable[..., object],
    *,
    on_failure: OnFailure = "stop",
    context: Any = None,
    logger: Logger | None = None,
    raise_on_total_failure: bool = False,
    on_result: Callable[[BatchResult], object] | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Run ``handler`` over the batch and return the partial batch response for Lambda.

    ``{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}, ...]}``; the event source mapping
    must have ``FunctionResponseTypes: [ReportBatchItemFailures]`` for Lambda to read it. Options as in
    :func:`run_batch`.
    """
    return run_batch(
        event,
        handler,
        on_failure=on_failure,
        context=context,
        logger=logger,
        raise_on_total_failure=raise_on_total_failure,
        on_result=on_result,
    ).response


# --------------------------------------------------------------------------------------------------
# The asyncio runner


def _item_key(record: StreamRecord) -> object:
    """What identifies a record's item: its table and primary key (numbers compare by value)."""
    return (record.table_name, frozenset(record.keys.items()))


async def arun_batch(
    event: Mapping[str, Any] | StreamEvent,
    handler: Callable[..., Awaitable[object]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_failure: OnFailure = "stop",
    context: Any = None,
    logger: Logger | None = None,
    raise_on_total_failure: bool = False,
    on_result: Callable[[BatchResult], object] | None = None,
) -> BatchResult:
    """Run ``await handler(record)`` (or with ``context``) over the batch, up to ``concurrency`` records at
    once, never two records of one item (same Keys) at once, and the records of one item in stream order.

    Records start in stream order as slots free up. With "stop", no record starts after a failure; those
    in flight finish, and every record from the lowest one that did not succeed is reported.
    """
    import asyncio  # not at import time: a synchronous handler never pays for it

    policy = _check_options(on_failure, concurrency)
    if not is_async_callable(handler):
        raise TypeError(
            f"{_handler_name(handler)} is not a coroutine function: use process_batch / run_batch (or batch_handler,"
            " which picks the runner)"
        )
    with_context = takes_extra_argument(handler, 1)
    records, sequence_numbers = _prepare(event)
    log = _LOGGER if logger is None else logger
    stop = policy == "stop"
    failures: dict[int, Exception] = {}
    done: set[int] = set()
    started = _clock()

    async def run_one(index: int) -> Exception | None:
        record = records[index]
        try:
            awaitable = handler(record, context) if with_context else handler(record)
            if not hasattr(awaitable, "__await__"):
                return TypeError(
                    f"the handler returned {type(awaitable).__name__}, not an awaitable: use process_batch for"
                    " synchronous handlers"
                )
            await awaitable
        except Exception as exc:  # noqa: BLE001 - a handler's exception is data: its record failed
            return exc
        return None

    def settle(index: int, error: Exception | None) -> None:
        done.add(index)
        if error is not None:
            failures[index] = error
            _log_failure(log, records[index], error)

    if concurrency == 1:
        # One at a time is stream order: no tasks, no scheduling.
        for index in range(len(records)):
            settle(index, await run_one(index))
            if stop and failures:
                break
    else:
        await _schedule(
            asyncio, records, run_one=run_one, settle=settle, failures=failures, concurrency=concurrency, stop=stop
        )
    result = BatchResult(
        records=records,
        sequence_numbers=sequence_numbers,
        failures=failures,
        unfinished=[index for index in range(len(records)) if index not in done],
        on_failure=policy,
        duration=_clock() - started,
    )
    return _finish(result, logger=log, raise_on_total_failure=raise_on_total_failure, on_result=on_result)


async def _schedule(
    aio: Any,
    records: tuple[StreamRecord, ...],
    *,
    run_one: Callable[[int], Awaitable[Exception | None]],
    settle: Callable[[int, Exception | None], None],
    failures: dict[int, Exception],
    concurrency: int,
    stop: bool,
) -> None:
    """Start records in stream order, at most ``concurrency`` at once and one per item at a time."""
    # Per item, its records' indices in stream order; "ready" holds the first waiting record of every item
    # with nothing in flight, lowest index first.
    queues: dict[object, list[int]] = {}
    keys: list[object] = []
    for index, record in enumerate(records):
        try:
            key = _item_key(record)
        except ShapeErrors:
            key = ("unreadable keys", index)  # ordered against nothing; the handler sees the bad record
        keys.append(key)
        queues.setdefault(key, []).append(index)
    ready = sorted(queue[0] for queue in queues.values())
    position = dict.fromkeys(queues, 0)
    in_flight: dict[asyncio.Future[Exception | None], int] = {}
    try:
        while True:
            while ready and len(in_flight) < concurrency and not (stop and failures):
                index = heappop(ready)
                in_flight[aio.ensure_future(run_one(index))] = index
            if not in_flight:
                return
            finished, _ = await aio.wait(in_flight, return_when=aio.FIRST_COMPLETED)
            for task in sorted(finished, key=in_flight.__getitem__):
                index = in_flight.pop(task)
                settle(index, task.result())  # BaseException (a cancelled handler included) propagates
                key = keys[index]
                position[key] += 1
                queue = queues[key]
                if position[key] < len(queue):
                    heappush(ready, queue[position[key]])
    except BaseException:
        # Cancelled, or a handler raised KeyboardInterrupt/SystemExit/CancelledError: stop the rest, then
        # let it propagate.
        for task in in_flight:
            task.cancel()
        if in_flight:
            await aio.wait(in_flight)
        raise


async def aprocess_batch(
    event: Mapping[str, Any] | StreamEvent,
    handler: Callable[..., Awaitable[object]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_failure: OnFailure = "stop",
    context: Any = None,
    logger: Logger | None = None,
    raise_on_total_failure: bool = False,
    on_result: Callable[[BatchResult], object] | None = None,
) -> dict[str, list[dict[str, str]]]:
    """The async twin of :func:`process_batch`; options as in :func:`arun_batch`."""
    result = await arun_batch(
        event,
        handler,
        concurrency=concurrency,
        on_failure=on_failure,
        context=context,
        logger=logger,
        raise_on_total_failure=raise_on_total_failure,
        on_result=on_result,
    )
    return result.response


# --------------------------------------------------------------------------------------------------
# The decorator


@overload
def batch_handler(handler: Callable[..., object], /) -> Callable[[Mapping[str, Any], Any], dict[str, Any]]: ...


@overload
def batch_handler(
    *,
    on_failure: OnFailure = "stop",
    concurrency: int = DEFAULT_CONCURRENCY,
    logger: Logger | None = None,
    raise_on_total_failure: bool = False,
    on_result: Callable[[BatchResult], object] | None = None,
) -> Callable[[Callable[..., object]], Callable[[Mapping[str, Any], Any], dict[str, Any]]]: ...


def batch_handler(
    handler: Callable[..., object] | None = None,
    /,
    *,
    on_failure: OnFailure = "stop",
    concurrency: int = DEFAULT_CONCURRENCY,
    logger: Logger | None = None,
    raise_on_total_failure: bool = False,
    on_result: Callable[[BatchResult], object] | None = None,
) -> Any:
    """Turn a per-record handler into a Lambda entry point ``(event, context) -> response``.

    Usable bare or with options; ``def`` handlers run with :func:`process_batch`, ``async def`` handlers
    with :func:`aprocess_batch` on an event loop kept for the life of the execution environment (clients
    created on it in one invocation still work in the next). The record handler stays reachable as
    ``.record_handler``.

    >>> @batch_handler
    ... def lambda_handler(record):
    ...     print(record.event_name, record.keys)
    >>> lambda_handler({"Records": []}, None)
    {'batchItemFailures': []}
    """
    _check_options(on_failure, concurrency)

    def decorate(fn: Callable[..., object]) -> Callable[[Mapping[str, Any], Any], dict[str, Any]]:
        if not callable(fn):
            raise TypeError(f"batch_handler needs a callable, got {type(fn).__name__}")
        takes_extra_argument(fn, 1)  # refuse a handler of the wrong shape now, at import, not per record
        entry: Callable[[Mapping[str, Any], Any], dict[str, Any]]
        if is_async_callable(fn):
            entry = _AsyncEntry(
                fn,
                on_failure=on_failure,
                concurrency=concurrency,
                logger=logger,
                raise_on_total_failure=raise_on_total_failure,
                on_result=on_result,
            )
        else:

            def entry(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
                return process_batch(
                    event,
                    fn,
                    on_failure=on_failure,
                    context=context,
                    logger=logger,
                    raise_on_total_failure=raise_on_total_failure,
                    on_result=on_result,
                )

        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            value = getattr(fn, attribute, None)
            if value is not None:
                setattr(entry, attribute, value)
        entry.record_handler = fn  # type: ignore[attr-defined]
        return entry

    return decorate if handler is None else decorate(handler)


@final
class _AsyncEntry:
    """The Lambda entry point for an async record handler: runs aprocess_batch on a kept event loop."""

    def __init__(
        self,
        handler: Callable[..., Any],
        *,
        on_failure: OnFailure,
        concurrency: int,
        logger: Logger | None,
        raise_on_total_failure: bool,
        on_result: Callable[[BatchResult], object] | None,
    ) -> None:
        self.record_handler = handler
        self._options: dict[str, Any] = {
            "on_failure": on_failure,
            "concurrency": concurrency,
            "logger": logger,
            "raise_on_total_failure": raise_on_total_failure,
            "on_result": on_result,
        }
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        import asyncio

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "this batch_handler entry point runs its own event loop and was called from a running one:"
                " await aprocess_batch(event, handler, ...) instead"
            )
        loop = self._loop
        if loop is None or loop.is_closed():
            loop = self._loop = asyncio.new_event_loop()
        coroutine = aprocess_batch(event, self.record_handler, context=context, **self._options)
        return loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Close the kept event loop (tests; Lambda simply freezes the environment)."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None


def _handler_name(handler: Any) -> str:
    name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"handler {name}"
