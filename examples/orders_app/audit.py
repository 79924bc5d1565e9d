"""Log every invoice as it is written.

A second mapping, on the stream of the table that the billing function writes.
"""

from shardline import StreamRecord, batch_handler, json_dumps


@batch_handler
def lambda_handler(record: StreamRecord) -> None:
    print(f"invoice {json_dumps(record.new_image)}", flush=True)
