"""A Powertools BatchProcessor handler moved to shardline, keeping Powertools' run-every-record policy."""

from typing import Any

from shardline import StreamRecord, batch_handler

SEEN: list[Any] = []


@batch_handler(on_failure="continue")  # Powertools' policy; leave it out to stop at the first failure
def lambda_handler(record: StreamRecord) -> None:
    if record.new_image is not None:
        SEEN.append(record.new_image["Message"])
