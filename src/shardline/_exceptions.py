"""The shardline error tree.

```text
ShardlineError                      root: catch this to catch everything shardline raises
├── AttributeValueError             (also ValueError) malformed DynamoDB AttributeValue / item
│   └── AttributeTypeError          (also TypeError) a Python value of a type DynamoDB cannot store
├── EventShapeError                 (also ValueError) a Lambda event or stream record of the wrong shape
├── BatchFailedError                every record of a batch failed (raise_on_total_failure=True)
├── FilterPatternError              (also ValueError) a FilterCriteria pattern Lambda would refuse
├── JSONInputError                  (also ValueError) text that is not JSON, or JSON too deep or too long to read
└── WindowStateError                (also ValueError) a tumbling window's state Lambda cannot take back
```

Every error names *where* the problem is (`.path`) and never includes whole items in its message, so
logging an exception cannot leak a table's data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, final

if TYPE_CHECKING:
    from ._batch import BatchResult, RecordFailure

__all__ = [
    "AttributeTypeError",
    "AttributeValueError",
    "BatchFailedError",
    "EventShapeError",
    "JSONInputError",
    "ShardlineError",
    "WindowStateError",
    "describe_exception",
]


class ShardlineError(Exception):
    """Root of every error shardline raises on purpose."""

    __module__ = "shardline"  # tracebacks and reprs name the public path, shardline.EventShapeError


class AttributeValueError(ShardlineError, ValueError):
    """A DynamoDB AttributeValue, item or Python value that DynamoDB would reject.

    `path` locates the offending value, e.g. `NewImage.lines[2].sku` (empty for the value itself);
    `reason` is the message without the path. Its one subclass, [`AttributeTypeError`][shardline.AttributeTypeError], is
    raised for Python values of a type the codec cannot store.

    Examples:
        >>> from shardline import deserialize
        >>> try:
        ...     deserialize({"M": {"n": {"N": "12abc"}}})
        ... except AttributeValueError as exc:
        ...     print(exc.path)
        n
    """

    __module__ = "shardline"

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)

    def __reduce__(self) -> tuple[type[AttributeValueError], tuple[str, str]]:
        return (type(self), (self.reason, self.path))


@final
class AttributeTypeError(AttributeValueError, TypeError):
    """A Python value of a type DynamoDB cannot store (`float` without `allow_floats`, `object()`, a
    set of booleans), or a non-mapping where an item is expected.

    A `TypeError`, as Python and boto3's serializer report unsupported types, and an
    [`AttributeValueError`][shardline.AttributeValueError] (so also a `ValueError`), so that code written against the
    codec's one error class keeps catching it. `path` and `reason` are as for
    [`AttributeValueError`][shardline.AttributeValueError].

    Examples:
        >>> from shardline import serialize
        >>> try:
        ...     serialize({"when": object()})
        ... except TypeError as exc:
        ...     print(type(exc).__name__, exc.path)
        AttributeTypeError when
    """

    __module__ = "shardline"


@final
class EventShapeError(ShardlineError, ValueError):
    """A Lambda event or stream record that lacks a field or has one of the wrong type.

    `path` names the field, e.g. `Records[3].dynamodb.SequenceNumber`.
    """

    __module__ = "shardline"

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)

    def __reduce__(self) -> tuple[type[EventShapeError], tuple[str, str]]:
        return (type(self), (self.reason, self.path))


@final
class BatchFailedError(ShardlineError):
    """A batch in which nothing moved forward: the response would report every record (the first one
    failed, or all of them did). Raised instead of returning the response when the runner is given
    `raise_on_total_failure=True`, so the invocation fails as a whole.

    `result` is the [`BatchResult`][shardline.BatchResult]; `errors` its failures (record and exception); the first
    handler exception is the `__cause__`.
    """

    __module__ = "shardline"

    def __init__(self, result: BatchResult) -> None:
        self.result = result
        self.errors: tuple[RecordFailure, ...] = result.failed
        count = len(result.records)
        if result.failed:
            first = result.failed[0]
            detail = f"; first failure: {type(first.exception).__name__} at sequence number {result.checkpoint}"
            self.__cause__ = first.exception
        else:  # pragma: no cover - a total failure always has a failed record
            detail = ""
        super().__init__(f"every record of the batch failed ({count} record{'s' if count != 1 else ''}){detail}")

    def __reduce__(self) -> tuple[type[ShardlineError], tuple[str]]:
        return (ShardlineError, (str(self),))  # the result holds records and tracebacks: pickled as text


@final
class WindowStateError(ShardlineError, ValueError):
    """A tumbling window's state that Lambda cannot take back: not a JSON object, holding a value JSON
    cannot carry, or larger than 1 MB. `path` locates the value, e.g. `state.totals[3]`."""

    __module__ = "shardline"

    def __init__(self, reason: str, path: str = "state") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)

    def __reduce__(self) -> tuple[type[WindowStateError], tuple[str, str]]:
        return (type(self), (self.reason, self.path))


@final
class JSONInputError(ShardlineError, ValueError):
    """Text that is not JSON (RFC 8259), or JSON that cannot be read within shardline's bounds: nested more
    deeply than any Lambda event or DynamoDB item can be, or holding an integer longer than Python converts.

    `reason` says what is wrong; `line` and `column` locate it (1-based, 0 when unknown).

    Examples:
        >>> from shardline import JSONInputError
        >>> error = JSONInputError("NaN is not JSON", 1, 7)
        >>> print(error)
        NaN is not JSON (line 1, column 7)
        >>> error.reason, error.line, error.column
        ('NaN is not JSON', 1, 7)
    """

    __module__ = "shardline"

    def __init__(self, reason: str, line: int = 0, column: int = 0) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        super().__init__(f"{reason} (line {line}, column {column})" if line else reason)

    def __reduce__(self) -> tuple[type[JSONInputError], tuple[str, int, int]]:
        return (type(self), (self.reason, self.line, self.column))


def describe_exception(exc: BaseException) -> str:
    """`TypeName: message` for any exception, even one whose `__str__` raises or returns a non-string:
    a user's exception is data to report, and reporting it must never fail."""
    name = _type_name(exc)
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ is the user's bug, not a reason to crash
        text = "<the exception's str() raised>"
    if type(text) is not str:  # pragma: no cover - str() always returns str or raises
        text = "<the exception's str() is not a string>"
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates would fail on output
    return f"{name}: {text}" if text else name


def _type_name(exc: BaseException) -> str:
    try:
        name = type(exc).__name__
    except Exception:  # noqa: BLE001  # pragma: no cover - a metaclass can make even this raise
        return "Exception"
    return name if type(name) is str else "Exception"
