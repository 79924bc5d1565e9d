"""DynamoDB's JSON protocol (awsJson1_0): the errors an operation answers with.

An operation refuses a request by raising :class:`DynamoDBError`; the server turns it into HTTP 400 (500 for
``InternalServerError``) with the body ``{"__type": "com.amazonaws.dynamodb.v20120810#<Code>", "message": ...}``
that botocore reads into ``ClientError`` (DynamoDB API reference, "Error handling").
"""

from __future__ import annotations

from typing import Any, Final

from shardline._exceptions import ShardlineError

__all__ = ["ERROR_PREFIX", "DynamoDBError", "validation"]

#: The namespace of every DynamoDB error code in ``__type``.
ERROR_PREFIX: Final = "com.amazonaws.dynamodb.v20120810#"


class DynamoDBError(ShardlineError):
    """A request refused as DynamoDB refuses it: ``code`` is the error code (``ValidationException``,
    ``ConditionalCheckFailedException``, ...), ``message`` DynamoDB's message, ``fields`` extra members of
    the error body (``Item`` of a failed condition check, ``CancellationReasons`` of a cancelled
    transaction), and ``status`` the HTTP status (400, or 500 for ``InternalServerError``)."""

    __module__ = "shardline.local"

    def __init__(self, code: str, message: str, *, status: int = 400, **fields: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields

    def body(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        return {"__type": ERROR_PREFIX + self.code, "message": self.message, **self.fields}


def validation(message: str) -> DynamoDBError:
    """A ``ValidationException`` with DynamoDB's ``message``."""
    return DynamoDBError("ValidationException", message)
