"""What talks to real AWS APIs through boto3 (the ``aws`` extra): a DynamoDB stream on AWS (or on an emulator
speaking DynamoDB Streams' API) as a source for the local event source mapping emulator.

Not imported by ``import shardline`` nor ``import shardline.local``; importing it needs nothing but
shardline, and boto3 is loaded when a :class:`RemoteStream` makes its clients.

>>> from shardline.aws import RemoteStream
>>> RemoteStream("arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000",
...     client=object()).name
'Orders'
"""

from __future__ import annotations

from ._remote import READS_PER_SECOND as READS_PER_SECOND
from ._remote import RemoteRetryError as RemoteRetryError
from ._remote import RemoteStream as RemoteStream
from ._remote import RemoteStreamError as RemoteStreamError

__all__ = ["READS_PER_SECOND", "RemoteRetryError", "RemoteStream", "RemoteStreamError"]
