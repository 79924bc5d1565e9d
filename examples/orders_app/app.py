"""An app that knows nothing of shardline: it writes orders to DynamoDB with boto3.

With `shardline run` serving in this folder, point it at the local endpoint (a region and some credentials are
needed by boto3; the endpoint checks neither):

    AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 AWS_DEFAULT_REGION=us-east-1 python app.py
"""

from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

ORDERS = boto3.resource("dynamodb").Table("orders")


def place(order_id: str, customer: str, total: str) -> bool:
    """Write a new order; False when it exists already (placing it twice bills it once)."""
    try:
        ORDERS.put_item(
            Item={"pk": order_id, "customer": customer, "total": Decimal(total), "status": "NEW"},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


if __name__ == "__main__":
    for number, (customer, total) in enumerate([("ana", "12.50"), ("ben", "7")], start=1):
        placed = place(f"order#{number}", customer, total)
        print(f"order#{number}: {'placed' if placed else 'exists already'}")
    new = ORDERS.query(
        IndexName="by-status",
        KeyConditionExpression="#status = :new",
        ExpressionAttributeNames={"#status": "status"},  # STATUS is a reserved word
        ExpressionAttributeValues={":new": "NEW"},
    )
    print(f"{new['Count']} new orders")
