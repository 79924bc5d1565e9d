"""Bill each new order: its invoice goes to the invoices table, with boto3.

Nothing here knows about shardline's endpoint: `shardline run` gives the function
AWS_ENDPOINT_URL_DYNAMODB, so the unchanged client writes to the local table,
whose stream the next mapping reads.
"""

import os

import boto3
from botocore.exceptions import ClientError

from shardline import StreamRecord, batch_handler

INVOICES = boto3.resource("dynamodb").Table(os.environ["INVOICES_TABLE"])


@batch_handler
def lambda_handler(record: StreamRecord) -> None:
    # The mapping's filter passes INSERTs only: they carry a NewImage
    order = record.new_image
    try:
        INVOICES.put_item(
            Item={
                "order_id": order["pk"],
                "customer": order["customer"],
                "amount": order["total"],
                "due": True,
            },
            # A redelivered order is billed once
            ConditionExpression="attribute_not_exists(order_id)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
