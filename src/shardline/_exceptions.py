"""The shardline error tree.

::

    ShardlineError                      root: catch this to catch everything shardline raises
    ├── AttributeValueError             (also ValueError) malformed DynamoDB AttributeValue / item
    └── EventShapeError                 (also ValueError) a Lambda event or stream record of the wrong shape

Every error names *where* the problem is (``.path``) and never includes whole items in its message, so
logging an exception cannot leak a table's data.
"""

from __future__ import annotations

from typing import final

__all__ = ["AttributeValueError", "EventShapeError", "ShardlineError"]


class ShardlineError(Exception):
    """Root of every error shardline raises on purpose."""

    __module__ = "shardline"  # tracebacks and reprs name the public path, shardline.EventShapeError


@final
class AttributeValueError(ShardlineError, ValueError):
    """A DynamoDB AttributeValue, item or Python value that DynamoDB would reject.

    ``path`` locates the offending value, e.g. ``NewImage.lines[2].sku`` (empty for the value itself);
    ``reason`` is the message without the path.

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
class EventShapeError(ShardlineError, ValueError):
    """A Lambda event or stream record that lacks a field or has one of the wrong type.

    ``path`` names the field, e.g. ``Records[3].dynamodb.SequenceNumber``.
    """

    __module__ = "shardline"

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)

    def __reduce__(self) -> tuple[type[EventShapeError], tuple[str, str]]:
        return (type(self), (self.reason, self.path))
