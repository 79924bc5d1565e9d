"""The sample event of `sam local generate-event dynamodb update`, with its options.

SAM's sample is three changes to one item of a table keyed by a number `Id`: an INSERT, a MODIFY of its
`Message` and a REMOVE. Its options only change where the event says it came from.
"""

from __future__ import annotations

from typing import Any

from ._builder import check_stream_location

__all__ = ["sam_sample_event"]

_STREAM_LABEL = "2015-06-27T00:48:05.899"
_CHANGES = (
    # eventID, eventName, NewImage message, OldImage message, SequenceNumber, SizeBytes
    ("c4ca4238a0b923820dcc509a6f75849b", "INSERT", "New item!", None, "4421584500000000017450439091", 26),
    (
        "c81e728d9d4c2f636f067f89cc14862c",
        "MODIFY",
        "This item has changed",
        "New item!",
        "4421584500000000017450439092",
        59,
    ),
    ("eccbc87e4b5ce2fe28308fd9f2a7baf3", "REMOVE", None, "This item has changed", "4421584500000000017450439093", 38),
)


def sam_sample_event(
    *,
    region: str = "us-east-1",
    partition: str = "aws",
    account_id: str = "123456789012",
    table: str = "ExampleTableWithStream",
) -> dict[str, Any]:
    """The event `sam local generate-event dynamodb update` prints, for the same options.

    Each option must be what AWS allows in an ARN (a table name of 3-255 letters, digits, `_ . -`; a
    12-digit account ID; a region and partition of lowercase letters, digits and `-`): ValueError otherwise.

    Examples:
        >>> event = sam_sample_event(region="eu-west-1", table="Orders")
        >>> event["Records"][0]["eventSourceARN"]
        'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2015-06-27T00:48:05.899'
    """
    check_stream_location(table=table, region=region, account_id=account_id, partition=partition)
    arn = f"arn:{partition}:dynamodb:{region}:{account_id}:table/{table}/stream/{_STREAM_LABEL}"
    records = []
    for event_id, name, new, old, sequence, size in _CHANGES:
        dynamodb: dict[str, Any] = {"Keys": {"Id": {"N": "101"}}}
        if new is not None:
            dynamodb["NewImage"] = {"Message": {"S": new}, "Id": {"N": "101"}}
        if old is not None:
            dynamodb["OldImage"] = {"Message": {"S": old}, "Id": {"N": "101"}}
        dynamodb.update(
            ApproximateCreationDateTime=1428537600,
            SequenceNumber=sequence,
            SizeBytes=size,
            StreamViewType="NEW_AND_OLD_IMAGES",
        )
        records.append(
            {
                "eventID": event_id,
                "eventName": name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": dynamodb,
                "eventSourceARN": arn,
            }
        )
    return {"Records": records}


#: SAM's three changes as plain-JSON writes, for building the same story with other options.
SAM_CHANGES: tuple[dict[str, Any], ...] = (
    {"put": {"Id": 101, "Message": "New item!"}},
    {"put": {"Id": 101, "Message": "This item has changed"}},
    {"delete": {"Id": 101}},
)
