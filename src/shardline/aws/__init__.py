"""What talks to real AWS APIs through boto3 (the `aws` extra): a DynamoDB stream on AWS (or on an emulator
speaking DynamoDB Streams' API) as a source for the local event source mapping emulator, and the AWS side of a
redrive: on-failure records from SQS or S3, batches read back from DynamoDB Streams, Lambda's Invoke API.

Not imported by `import shardline` nor `import shardline.local`; importing it needs nothing but
shardline, and boto3 is loaded when a [`RemoteStream`][shardline.aws.RemoteStream] makes its clients.

Examples:
    >>> from shardline.aws import RemoteStream
    >>> RemoteStream("arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000",
    ...     client=object()).name
    'Orders'
"""

from __future__ import annotations

from ._redrive import Delivery as Delivery
from ._redrive import LambdaInvoker as LambdaInvoker
from ._redrive import RemoteSourceError as RemoteSourceError
from ._redrive import RemoteStreams as RemoteStreams
from ._redrive import S3Source as S3Source
from ._redrive import SqsSource as SqsSource
from ._remote import READS_PER_SECOND as READS_PER_SECOND
from ._remote import RemoteRetryError as RemoteRetryError
from ._remote import RemoteStream as RemoteStream
from ._remote import RemoteStreamError as RemoteStreamError

__all__ = [
    "READS_PER_SECOND",
    "Delivery",
    "LambdaInvoker",
    "RemoteRetryError",
    "RemoteSourceError",
    "RemoteStream",
    "RemoteStreamError",
    "RemoteStreams",
    "S3Source",
    "SqsSource",
]
