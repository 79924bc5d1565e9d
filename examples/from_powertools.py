"""A Powertools BatchProcessor handler on shardline: every record still runs."""

from typing import Any

from shardline import StreamRecord, batch_handler

SEEN: list[Any] = []


# Powertools' policy; leave it out to stop at the first failure
@batch_handler(on_failure="continue")
def lambda_handler(record: StreamRecord) -> None:
    if record.new_image is not None:
        SEEN.append(record.new_image["Message"])
