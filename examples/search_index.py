"""Keep a search index in step with a table: the stream handler of SAM's sample table (Id, Message)."""

from decimal import Decimal

from shardline import EventName, StreamRecord, batch_handler

INDEX: dict[Decimal, str] = {}  # stands in for the index the function really writes to


@batch_handler
def lambda_handler(record: StreamRecord) -> None:
    item_id = record.keys["Id"]
    if record.event_name is EventName.REMOVE:
        INDEX.pop(item_id, None)
    else:
        INDEX[item_id] = record.new_image["Message"]  # INSERT and MODIFY carry one
