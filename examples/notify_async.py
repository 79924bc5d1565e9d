"""Publish every change concurrently, one item at a time: an async handler."""

import asyncio
from typing import Any

from shardline import StreamRecord, batch_handler

SENT: list[tuple[str, Any]] = []


async def publish(event_name: str, keys: dict[str, Any]) -> None:
    # Stands in for an HTTP call or an SNS publish with an async client
    await asyncio.sleep(0)
    SENT.append((event_name, keys))


@batch_handler(concurrency=20)
async def lambda_handler(record: StreamRecord) -> None:
    await publish(record.event_name.value, record.keys)
