"""The batch runner: a per-record handler over a stream batch, answered with a partial batch response.

Lambda checkpoints a stream shard at the LOWEST sequence number a partial batch response reports and
delivers every record from there on again (Lambda developer guide, "Configuring partial batch response
with DynamoDB and Lambda"). So the response decides what runs twice, and two policies make sense:

`on_failure="stop"` (the default)
    Stop at the first failure and report that record and every record after it. Lambda resumes exactly
    there; nothing that succeeded runs again. The right choice for a stream, where order matters.
`on_failure="continue"`
    Run every record and report every failure (Powertools' BatchProcessor does this). The records that
    succeeded after the first failure are delivered again anyway, so the handler must be idempotent.

The asyncio runner keeps the stream's order where it matters: records of one item (same Keys) run one at
a time, in stream order; records of different items run concurrently. With "stop" it starts no record
after a failure, lets the ones in flight finish, then reports every record from the lowest one that did
not succeed: whatever finished after that point runs again (`BatchResult.redelivered` counts them).

Which records to report is one pure function, `report_indices`, shared by both runners.

What the runner keeps
    Nothing of a record once its handler is done with it. The runner reaches each record through the
    event's [`StreamRecords`][shardline.StreamRecords], which makes it then and holds it only weakly, so a record the
    handler did not keep is freed, with every image it decoded, before the next record runs (the asyncio runner holds
    each record, without its images, from the pass that orders them by item until it finishes). Only failed records stay
    with their exception in the [`BatchResult`][shardline.BatchResult]. A batch's decoding then reuses the memory the
    previous record gave back instead of growing with the batch, and leaves the garbage collector nothing to do. A
    record the handler kept (in a list, a closure, an exception) stays whole: the same object, its images decoded once.

What the runner reads, and what happens when it cannot
    The runner itself reads the event's `Records` array and every record's sequence number, the
    `itemIdentifier` the response names a record by, all before any handler runs. When one of those
    cannot be read it raises [`EventShapeError`][shardline.EventShapeError] (with the path, e.g.
    `Records[3].dynamodb.SequenceNumber`) and runs nothing: a response cannot name a record it cannot
    identify, and reporting any other record instead would move Lambda's checkpoint past it. The invoke
    fails, and Lambda retries the whole batch (then, with retries exhausted, sends it to the on-failure
    destination), as for any function error. Everything else about a record (`eventName`, `Keys`, the
    images) is the handler's to read: a malformed record still reaches the handler and fails alone if the
    handler raises. Where the runner uses those fields for itself (the item a record belongs to, in the
    asyncio runner; identifiers in log lines) it copes with any error: records whose `Keys` cannot be
    read run one at a time in stream order, and a log line shows `?` for what it cannot read.

What a handler may do
    Whatever a handler raises or returns is data about its record, never a crash of the runner: any
    exception fails the record, and so does a result the runner cannot use (an awaitable from a
    synchronous handler, a non-awaitable from an async one). That includes `BaseException` subclasses
    (a library's own, say), which Lambda's runtime would turn into a crash of the whole invoke. Only
    requests to stop propagate: `KeyboardInterrupt` and `SystemExit` at once (on Lambda, `sys.exit`
    ends the runtime process: the invoke fails and the whole batch is retried), and in the asyncio runner
    `asyncio.CancelledError` and `GeneratorExit`, after the records in flight are cancelled (they are
    how a task is cancelled and how an abandoned coroutine is closed; a coroutine must not carry on after
    either). Loggers and the `on_result` hook are the user's code too: if they raise, the response is
    returned regardless.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, Protocol, final, overload

from ._calling import describe_callable, is_async_callable, takes_extra_argument
from ._events import StreamEvent, StreamRecord, StreamRecords, sequence_numbers
from ._exceptions import BatchFailedError, EventShapeError, ShardlineError, describe_exception
from ._exceptions import _type_name as _exception_type_name

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
    """What the runner logs through: a `logging.Logger`, a `LoggerAdapter`, Powertools' `Logger`..."""

    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def error(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def exception(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


class RecordFailure(NamedTuple):
    """A record whose handler raised (or returned what the runner cannot use), and the exception."""

    record: StreamRecord
    exception: BaseException  # an Exception, or a BaseException other than the three that propagate


@final
class BatchResult:
    """What a batch run did: the response for Lambda and the fate of every record.

    `response` is the partial batch response. `succeeded`, `failed` and `skipped` (never started)
    partition `records`; `reported` are the records the response names; `checkpoint` is the sequence
    number Lambda resumes from (`None` when nothing is reported); `redelivered` are the records that
    succeeded but are reported anyway (Lambda delivers them again).

    `records` is the event's [`StreamRecords`][shardline.StreamRecords]; `succeeded`, `skipped`, `reported` and
    `redelivered` are `StreamRecords` over the positions concerned, which hold no record: reading one
    gives the record the handler saw if anyone still holds it, else a new record of the same raw record.
    `failed` holds each failed record (the very one its handler saw) with its exception.
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
        records: StreamRecords,
        sequence_numbers: Sequence[str],
        failures: Mapping[int, RecordFailure],
        unfinished: Sequence[int],
        on_failure: OnFailure,
        duration: float,
    ) -> None:
        count = len(records)
        reported = report_indices(count, sorted((*failures, *unfinished)), on_failure)
        not_run = frozenset(unfinished)
        self.records = records
        self.on_failure = on_failure
        self.duration = duration
        self.response: dict[str, list[dict[str, str]]] = {
            "batchItemFailures": [{"itemIdentifier": sequence_numbers[index]} for index in reported]
        }
        # Positions, not records: what nobody else holds is not kept alive by the result.
        self.failed = tuple(failures[index] for index in sorted(failures))
        self.skipped = records._view(_compact(sorted(not_run)))
        self.succeeded = (
            records._view(_compact([index for index in range(count) if index not in failures and index not in not_run]))
            if failures or not_run
            else records
        )
        self.reported = records._view(_compact(reported))
        self.checkpoint = sequence_numbers[reported[0]] if reported else None
        self.redelivered = records._view(
            _compact([index for index in reported if index not in failures and index not in not_run])
        )

    @property
    def all_failed(self) -> bool:
        """True when the response reports every record of a non-empty batch: nothing moved forward."""
        return bool(self.records) and len(self.reported) == len(self.records)

    def __repr__(self) -> str:
        return (
            f"<BatchResult records={len(self.records)} succeeded={len(self.succeeded)} failed={len(self.failed)}"
            f" skipped={len(self.skipped)} reported={len(self.reported)} checkpoint={self.checkpoint}>"
        )


def _compact(positions: list[int]) -> range | tuple[int, ...]:
    """Sorted, distinct positions as a range when they follow one another (every record from the first
    failure on, with "stop"), else as a tuple."""
    if positions and positions[-1] - positions[0] + 1 == len(positions):
        return range(positions[0], positions[-1] + 1)
    return tuple(positions)


def report_indices(count: int, not_succeeded: Sequence[int], on_failure: OnFailure) -> list[int]:
    """Which records of a batch of `count` the response must report, as sorted indices.

    `not_succeeded` lists, in ascending order, the records that failed or never ran. With "continue"
    those are reported; with "stop" every record from the first of them on is reported, whether it ran
    or not, so that Lambda's checkpoint (the lowest reported record) can never skip a record.

    Examples:
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
    # Compared as plain text: a str subclass (a StrEnum member) is accepted, an object whose __eq__ raises
    # is not asked anything.
    policy = str.__str__(on_failure) if isinstance(on_failure, str) else None
    if policy not in _POLICIES:
        raise ValueError(f"on_failure must be 'stop' or 'continue', got {_show(on_failure)}")
    if type(concurrency) is not int or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, got {_show(concurrency)}")
    return "stop" if policy == "stop" else "continue"


def _show(value: object) -> str:
    """A short repr of a user's value for a message; never raises."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the message it was meant for
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= 60 else text[:57] + "..."


def _propagates(exc: BaseException) -> bool:
    """True for the exceptions that ask to stop rather than report a failure: KeyboardInterrupt,
    SystemExit and asyncio's CancelledError. Every other exception of a handler fails its record."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return True
    # asyncio is not imported by the synchronous runner; if it was never imported, nothing is one of its errors.
    cancelled = getattr(sys.modules.get("asyncio.exceptions"), "CancelledError", None)
    return cancelled is not None and isinstance(exc, cancelled)


def _stream(event: Mapping[str, Any] | StreamEvent) -> StreamEvent:
    """The event as a StreamEvent; EventShapeError for anything that cannot be read as one."""
    if isinstance(event, StreamEvent):
        return event
    try:
        return StreamEvent(event)
    except ShardlineError:
        raise
    except Exception as exc:  # an odd Mapping (a broken get): the event cannot be read, so nothing can run
        raise EventShapeError(f"the event cannot be read as a stream batch ({describe_exception(exc)})") from exc


def _prepare(event: Mapping[str, Any] | StreamEvent) -> tuple[StreamRecords, list[str]]:
    """The records and their sequence numbers, every one checked before any handler runs: a record the
    response could not name would turn one bad record into a crash after others were processed."""
    records = _stream(event).records
    try:
        return records, sequence_numbers(records)
    except ShardlineError:
        raise
    except Exception:  # noqa: BLE001 - reported precisely below
        pass
    # A record's fields are odd objects rather than JSON (a Mapping whose get raises...): name the record.
    for index, record in enumerate(records):
        _check_sequence_number(record, index)
    raise EventShapeError("the records' sequence numbers cannot be read")  # pragma: no cover - named above


def _check_sequence_number(record: StreamRecord, index: int) -> None:
    try:
        _ = record.sequence_number
    except ShardlineError:
        raise
    except Exception as exc:
        field = "kinesis.sequenceNumber" if record.is_kinesis else "dynamodb.SequenceNumber"
        raise EventShapeError(
            f"cannot be read ({describe_exception(exc)}); the response names records by it", f"Records[{index}].{field}"
        ) from exc


def _describe(record: StreamRecord) -> tuple[str, str]:
    """Event ID and event name for a log line; '?' for what cannot be read."""
    return _field(record, "event_id"), _field(record, "event_name")


def _field(record: StreamRecord, name: str) -> str:
    try:
        value = getattr(record, name)
        return value if type(value) is str else str(value)
    except Exception:  # noqa: BLE001 - missing, malformed, or changed by the handler: the line is logged anyway
        return "?"


def _log(logger: Logger, level: str, msg: str, *args: object, **kwargs: Any) -> None:
    """`logger.<level>(msg, ...)`: a logger that raises (a broken handler, a filter, a custom class)
    loses its line, never the batch's response."""
    with suppress(Exception):  # nothing better to report a failing logger with than itself
        getattr(logger, level)(msg, *args, **kwargs)


def _log_failure(logger: Logger, record: StreamRecord, sequence: str, exc: BaseException) -> None:
    # The sequence number is the one read before the handler ran: the handler may have changed the record.
    event_id, event_name = _describe(record)
    _log(
        logger,
        "warning",
        "record %s failed (eventID %s, %s): %s",
        sequence,
        event_id,
        event_name,
        _exception_type_name(exc),
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
    _log(
        logger,
        "info",
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
        except BaseException as exc:  # a metrics hook must not lose the batch's response
            if _propagates(exc):
                raise
            _log(logger, "exception", "the on_result hook raised; the batch response is returned regardless")
    if raise_on_total_failure and result.all_failed:
        raise BatchFailedError(result)
    return result


def _is_awaitable(value: object) -> bool:
    """Whether `value` can be awaited. Looked up on its type, as `await` does: an instance's own
    `__getattr__` (a proxy, a mock) is neither consulted nor given the chance to raise."""
    try:
        return hasattr(type(value), "__await__")
    except Exception:  # noqa: BLE001 - a metaclass whose lookup raises: not something await could use either
        return False


def _close_quietly(value: object) -> None:
    """Close an awaitable that will never be awaited (so a coroutine does not warn that it was not);
    a `close()` that fails is ignored: the record fails regardless."""
    try:
        close = getattr(value, "close", None)
        if close is not None:
            close()
    except BaseException as exc:
        if _propagates(exc):
            raise


def _not_awaited(result: object) -> TypeError | None:
    """A TypeError when a synchronous handler returned something to await (it must be run by the async
    runner); the coroutine is closed so Python does not warn that it was never awaited."""
    if not _is_awaitable(result):
        return None
    _close_quietly(result)
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
    """Run `handler(record)` (or `handler(record, context)`) over the batch, in order.

    Returns a [`BatchResult`][shardline.BatchResult]; [`process_batch`][shardline.process_batch] returns just its
    `response`. Lambda resumes a shard from the lowest sequence number the response reports and delivers every
    record from there on again ([partial batch response](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html)),
    so `on_failure` decides what runs twice:

    - `"stop"` (the default): stop at the first failure and report that record and every record after it. Lambda
      resumes exactly there and nothing that succeeded runs again. The right choice for a stream, where order
      matters.
    - `"continue"`: run every record and report every failure. The records that succeeded after the first
      failure are delivered again anyway, so the handler must be idempotent.

    Any exception a handler raises fails its record, and so does a result the runner cannot use (an awaitable
    from a synchronous handler); only `KeyboardInterrupt`, `SystemExit` and `asyncio.CancelledError`
    propagate. The runner reads the event's `Records` and every record's sequence number before any handler
    runs: when one cannot be read it raises [`EventShapeError`][shardline.EventShapeError] and runs nothing,
    because a response cannot name a record it cannot identify. Lambda then retries the whole batch.

    With `raise_on_total_failure=True`, a batch whose response would report every record (nothing moved
    forward) raises [`BatchFailedError`][shardline.BatchFailedError] instead, so the invoke fails as a whole.
    `on_result` is called with the [`BatchResult`][shardline.BatchResult] before the response is returned (if
    it raises, that is logged and the response returned regardless). `logger` gets a line per failed record and
    a summary per batch (the `shardline` logger by default).

    Examples:
        >>> import logging
        >>> event = {"Records": [
        ...     {"eventID": "1", "eventName": "INSERT",
        ...      "dynamodb": {"Keys": {"id": {"N": "1"}}, "SequenceNumber": "100"}},
        ...     {"eventID": "2", "eventName": "INSERT",
        ...      "dynamodb": {"Keys": {"id": {"N": "2"}}, "SequenceNumber": "200"}},
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
            f"{describe_callable(handler)} is a coroutine function: use aprocess_batch / arun_batch (or batch_handler,"
            " which picks the runner)"
        )
    with_context = takes_extra_argument(handler, 1)
    records, sequence_numbers = _prepare(event)
    log = _LOGGER if logger is None else logger
    stop = policy == "stop"
    failures: dict[int, RecordFailure] = {}
    unfinished: Sequence[int] = ()
    record: StreamRecord | None = None
    outcome: object = None
    started = _clock()
    # Each record is made as the loop reaches it and freed (with its images) when the loop moves on,
    # unless the handler kept it.
    for index, record in enumerate(records):
        try:
            outcome = handler(record, context) if with_context else handler(record)
        except Exception as exc:  # noqa: BLE001 - a handler's exception is data: its record failed
            error: BaseException | None = exc
        except BaseException as exc:
            if _propagates(exc):  # KeyboardInterrupt, SystemExit, CancelledError: a request to stop
                raise
            error = exc  # GeneratorExit, a library's own BaseException...: still this record's failure
        else:
            error = None if outcome is None else _not_awaited(outcome)
        if error is None:
            continue
        failures[index] = RecordFailure(record, error)
        _log_failure(log, record, sequence_numbers[index], error)
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
    # A failure's traceback leads back to this frame (a handler's frame keeps its caller's), so once it
    # returns this frame must hold no failure, or frame, failures and tracebacks would make a reference
    # cycle that only the garbage collector frees; and no record, which the failure would keep alive.
    failures.clear()  # the result has its own tuple of them
    error = record = outcome = None
    try:
        return _finish(result, logger=log, raise_on_total_failure=raise_on_total_failure, on_result=on_result)
    finally:
        del result


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
    """Run `handler` over the batch and return the partial batch response for Lambda.

    The response is `{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}, ...]}`. The event source
    mapping must have `FunctionResponseTypes: [ReportBatchItemFailures]` for Lambda to read it
    ([partial batch response](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html)).
    Options as in [`run_batch`][shardline.run_batch].

    Examples:
        A failure stops the batch: the failed record and every record after it are reported, so Lambda
        delivers them again, in order.

        >>> from shardline.testing import EventBuilder
        >>> builder = EventBuilder()
        >>> for order_id in (1, 2, 3):
        ...     _ = builder.put({"Id": order_id, "status": "placed"})
        >>> event = builder.build()
        >>> def ship(record):
        ...     if record.keys["Id"] == 2:
        ...         raise RuntimeError("carrier unavailable")
        >>> response = process_batch(event, ship)
        >>> reported = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
        >>> reported == [record["dynamodb"]["SequenceNumber"] for record in event["Records"][1:]]
        True
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


#: The ordering key of records whose Keys (or table) cannot be read: their items are unknown, so they
#: share one lane and run one at a time, in stream order. (Records of one item carry the same Keys, so a
#: record with readable Keys is never of the same item as one without.)
_UNREADABLE_KEYS: Final = ("unreadable keys",)


def _item_key(record: StreamRecord) -> object:
    """What identifies a record's item: its table and primary key (numbers compare by value)."""
    try:
        keys = record.keys
        table = record.table_name
        try:
            key: object = (table, frozenset(keys.items()))
        except TypeError:  # a set, list or map in Keys: not a valid key type, yet readable; order by its content
            key = (table, frozenset((name, _hashable(value)) for name, value in keys.items()))
        hash(key)
    except Exception:  # noqa: BLE001 - malformed, nested too deeply, unhashable: any failure, one answer
        return _UNREADABLE_KEYS
    return key


def _hashable(value: object) -> object:
    """A hashable stand-in for a decoded value, equal for equal values; tagged so a list, a map and a
    set never stand for one another."""
    if isinstance(value, (set, frozenset)):
        return ("SS/NS/BS", frozenset(value))
    if isinstance(value, list):
        return ("L", tuple(map(_hashable, value)))
    if isinstance(value, dict):
        return ("M", frozenset((name, _hashable(item)) for name, item in value.items()))
    return value


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
    """Run `await handler(record)` (or with `context`) over the batch, up to `concurrency` records at
    once, never two records of one item (same Keys) at once, and the records of one item in stream order.

    Records start in stream order as slots free up. With "stop", no record starts after a failure; those
    in flight finish, and every record from the lowest one that did not succeed is reported (those that
    succeeded after it run again: `BatchResult.redelivered` lists them). Records
    whose Keys cannot be read share one lane: one at a time, in stream order. Errors as in
    [`run_batch`][shardline.run_batch]; when the runner is cancelled (or a handler raises CancelledError, GeneratorExit,
    KeyboardInterrupt or SystemExit) the records in flight are cancelled and the exception propagates,
    with no response.
    """
    import asyncio  # not at import time: a synchronous handler never pays for it

    policy = _check_options(on_failure, concurrency)
    if not is_async_callable(handler):
        raise TypeError(
            f"{describe_callable(handler)} is not a coroutine function: use process_batch / run_batch (or"
            " batch_handler, which picks the runner)"
        )
    with_context = takes_extra_argument(handler, 1)
    records, sequence_numbers = _prepare(event)
    log = _LOGGER if logger is None else logger
    stop = policy == "stop"
    failures: dict[int, RecordFailure] = {}
    done: set[int] = set()
    started = _clock()

    async def run_one(record: StreamRecord) -> BaseException | None:
        try:
            awaitable = handler(record, context) if with_context else handler(record)
            if not _is_awaitable(awaitable):
                return TypeError(
                    f"the handler returned {type(awaitable).__name__}, not an awaitable: use process_batch for"
                    " synchronous handlers"
                )
            await awaitable
        except Exception as exc:  # noqa: BLE001 - a handler's exception is data: its record failed
            return exc
        except BaseException as exc:
            # Cancelled, closed (GeneratorExit is thrown into an abandoned coroutine: it cannot tell one
            # thrown in from one the handler raised) or the process stopping: let it through.
            if _propagates(exc) or isinstance(exc, GeneratorExit):
                raise
            return exc
        return None

    def settle(index: int, record: StreamRecord, error: BaseException | None) -> None:
        done.add(index)
        if error is not None:
            failures[index] = RecordFailure(record, error)
            _log_failure(log, record, sequence_numbers[index], error)

    if concurrency == 1:
        # One at a time is stream order: no tasks, no scheduling. Each record is freed when the loop moves on.
        for index, record in enumerate(records):
            settle(index, record, await run_one(record))
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
    records: StreamRecords,
    *,
    run_one: Callable[[StreamRecord], Awaitable[BaseException | None]],
    settle: Callable[[int, StreamRecord, BaseException | None], None],
    failures: Mapping[int, RecordFailure],
    concurrency: int,
    stop: bool,
) -> None:
    """Start records in stream order, at most `concurrency` at once and one per item at a time."""
    # Each record is made once, here, to read its Keys, and held (its keys decoded, no image yet) until it
    # starts, then by its task's entry until it is settled: the record a handler gets is the one its order
    # was computed from, and none outlives its run. (No loop variable may hold one: it would pin that
    # record, and whatever its handler decoded, to the end of the batch.)
    waiting: list[StreamRecord | None] = [*records]
    keys = [_item_key(record) for record in waiting if record is not None]  # (all of them: none started yet)
    # Per item, its records' indices in stream order; "ready" holds the first waiting record of every item
    # with nothing in flight, lowest index first.
    queues: dict[object, list[int]] = {}
    for index, key in enumerate(keys):
        queues.setdefault(key, []).append(index)
    ready = sorted(queue[0] for queue in queues.values())
    position = dict.fromkeys(queues, 0)
    in_flight: dict[asyncio.Future[BaseException | None], tuple[int, StreamRecord]] = {}
    try:
        while True:
            while ready and len(in_flight) < concurrency and not (stop and failures):
                index = heappop(ready)
                record = waiting[index]  # from waiting to its task's entry
                waiting[index] = None
                assert record is not None  # each record starts once
                in_flight[aio.ensure_future(run_one(record))] = (index, record)
                del record
            if not in_flight:
                return
            finished, _ = await aio.wait(in_flight, return_when=aio.FIRST_COMPLETED)
            for task in sorted(finished, key=lambda task: in_flight[task][0]):
                index, record = in_flight.pop(task)
                settle(index, record, task.result())  # only what must propagate is raised here (see run_one)
                del record
                key = keys[index]
                position[key] += 1
                queue = queues[key]
                if position[key] < len(queue):
                    heappush(ready, queue[position[key]])
    except BaseException:
        # Cancelled, or a handler raised KeyboardInterrupt/SystemExit/CancelledError: stop the rest, then
        # let it propagate. (A handler that raises CancelledError itself is indistinguishable from a
        # cancelled one: its task ends cancelled.)
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
    """The async twin of [`process_batch`][shardline.process_batch]; options as in
    [`arun_batch`][shardline.arun_batch].

    Examples:
        >>> import asyncio
        >>> from shardline.testing import EventBuilder
        >>> builder = EventBuilder()
        >>> for order_id in (1, 2):
        ...     _ = builder.put({"Id": order_id})
        >>> async def handle(record):
        ...     await asyncio.sleep(0)  # an aiobotocore call, say
        >>> asyncio.run(aprocess_batch(builder.build(), handle, concurrency=2))
        {'batchItemFailures': []}
    """
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
    """Turn a per-record handler into a Lambda entry point `(event, context) -> response`.

    Usable bare or with options; `def` handlers run with [`process_batch`][shardline.process_batch], `async def`
    handlers with [`aprocess_batch`][shardline.aprocess_batch] on an event loop kept for the life of the execution
    environment (clients created on it in one invocation still work in the next). The record handler stays reachable as
    `.record_handler`.

    Examples:
        >>> from shardline.testing import EventBuilder
        >>> builder = EventBuilder(key_schema={"pk": "S"})
        >>> _ = builder.put({"pk": "order#1", "status": "placed"})
        >>> @batch_handler
        ... def lambda_handler(record):
        ...     print(record.event_name, record.keys, record.new_image["status"])
        >>> lambda_handler(builder.build(), None)
        INSERT {'pk': 'order#1'} placed
        {'batchItemFailures': []}

        With options:

        >>> @batch_handler(on_failure="continue")
        ... def lambda_handler(record):
        ...     ...
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
            # A callable object's attribute may raise, or be of a type a function refuses (a non-str
            # __name__): the entry point keeps its own then.
            with suppress(Exception):
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
