r"""An app unaware of shardline: it writes orders to DynamoDB with boto3.

The whole chain, from this folder, in two terminals. The first creates the
tables, serves them on http://127.0.0.1:8000 and runs both mappings; the second
runs this app:

    shardline run --plain

    AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 AWS_DEFAULT_REGION=us-east-1 \
        AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local python app.py

boto3 needs a Region and credentials to sign its requests; the endpoint checks
neither, so any will do. With your own already set, this is enough (and
`shardline run` prints the line your shell needs):

    AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 python app.py

The first terminal then shows BillingFunction's batches and AuditFunction's
"invoice ..." lines. Run app.py again: both orders exist already, so nothing is
billed twice.
"""

from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

ORDERS = boto3.resource("dynamodb").Table("orders")


def place(order_id: str, customer: str, total: str) -> bool:
    """Write a new order; False when it exists already.

    Placing the same order twice bills it once.
    """
    try:
        ORDERS.put_item(
            Item={
                "pk": order_id,
                "customer": customer,
                "total": Decimal(total),
                "status": "NEW",
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


if __name__ == "__main__":
    to_place = [("ana", "12.50"), ("ben", "7")]
    for number, (customer, total) in enumerate(to_place, start=1):
        placed = place(f"order#{number}", customer, total)
        print(f"order#{number}: {'placed' if placed else 'exists already'}")
    new = ORDERS.query(
        IndexName="by-status",
        KeyConditionExpression="#status = :new",
        # STATUS is a reserved word
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":new": "NEW"},
    )
    print(f"{new['Count']} new orders")
