"""Keep a search index in step with SAM's sample table (Id, Message)."""

from decimal import Decimal

from shardline import EventName, StreamRecord, batch_handler

# Stands in for the search index the function really writes to
INDEX: dict[Decimal, str] = {}


@batch_handler
def lambda_handler(record: StreamRecord) -> None:
    item_id = record.keys["Id"]
    if record.event_name is EventName.REMOVE:
        INDEX.pop(item_id, None)
    else:
        # INSERT and MODIFY carry a new image
        INDEX[item_id] = record.new_image["Message"]
