"""Errors of the embedded store and its stream: the exceptions DynamoDB and DynamoDB Streams would raise.

```text
ShardlineError
├── StoreError                 the state database cannot be used: missing, damaged, read-only, locked,
│                              another program's, newer, closed
├── ResourceNotFoundError      (also LookupError) no such table or shard      ResourceNotFoundException
├── TableExistsError           the table name is taken                         ResourceInUseException
├── ExpiredIteratorError       a shard iterator older than 15 minutes          ExpiredIteratorException
├── TrimmedDataAccessError     records past the 24-hour retention              TrimmedDataAccessException
├── ValidationError            (also ValueError) a request DynamoDB refuses   ValidationException
└── ArgumentTypeError          (also TypeError) an argument of the wrong Python type
```

Bad items and keys raise the codec's [`AttributeValueError`][shardline.AttributeValueError] (a ValueError) with the path
of the offending value. No other exception leaves the store on bad input or a bad database: SQLite's errors become
[`StoreError`][shardline.local.StoreError] saying what to do.
"""

from __future__ import annotations

from typing import final

from shardline._exceptions import ShardlineError

__all__ = [
    "ArgumentTypeError",
    "ExpiredIteratorError",
    "ResourceNotFoundError",
    "StoreError",
    "TableExistsError",
    "TrimmedDataAccessError",
    "ValidationError",
]


@final
class StoreError(ShardlineError):
    """The state database cannot be used: missing (opened with `create=False`), damaged, read-only, not a
    shardline database, made by a newer shardline, locked by another process for longer than the store's
    timeout, or closed. The message says which, and what to do about it."""

    __module__ = "shardline.local"


@final
class ResourceNotFoundError(ShardlineError, LookupError):
    """No such table, or no such shard in the table's stream (ResourceNotFoundException)."""

    __module__ = "shardline.local"


@final
class TableExistsError(ShardlineError):
    """A table of that name exists already (DynamoDB: ResourceInUseException on CreateTable)."""

    __module__ = "shardline.local"


@final
class ExpiredIteratorError(ShardlineError):
    """A shard iterator used more than 15 minutes after it was issued (ExpiredIteratorException).

    Get a new one with `get_shard_iterator`: `AFTER_SEQUENCE_NUMBER` and the last record processed.
    """

    __module__ = "shardline.local"


@final
class TrimmedDataAccessError(ShardlineError):
    """A read of records the stream no longer has: older than its retention (TrimmedDataAccessException).

    As on DynamoDB Streams, the records are gone; `TRIM_HORIZON` starts at the oldest one kept.
    """

    __module__ = "shardline.local"


@final
class ValidationError(ShardlineError, ValueError):
    """A request DynamoDB would refuse with a ValidationException: a bad table name, iterator type or
    sequence number, a damaged or forged shard iterator, an update that sets or removes a key attribute or
    names one attribute twice, two changes to one item in a batch or transaction, or a name that is not
    text (a lone surrogate). Where DynamoDB words the refusal, the message uses its words."""

    __module__ = "shardline.local"


@final
class ArgumentTypeError(ShardlineError, TypeError):
    """An argument of the wrong Python type: text where a mapping is expected, a float where an int is, a
    string where a list of names is. DynamoDB's SDKs refuse such requests before sending them."""

    __module__ = "shardline.local"
