"""The benchmark batch: 1000 NEW_AND_OLD_IMAGES MODIFY records of ~13-attribute order items.

Each item has nested M and L, SS, NS, B, NULL, BOOL and numbers with decimals. The event is built once as
JSON text; every timed run starts from a fresh ``json.loads`` of it, like Lambda hands a fresh event to
each invocation.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any


def _item(rng: random.Random, i: int, status: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"order#{i:06d}"},
        "sk": {"N": str(1_700_000_000 + i)},
        "status": {"S": status},
        "amount": {"N": f"{rng.randint(1, 99_999)}.{rng.randint(0, 99):02d}"},
        "qty": {"N": str(rng.randint(1, 20))},
        "tags": {"SS": ["gift", "express", f"t{i % 7}"]},
        "scores": {"NS": ["1.5", "2", str(i + 100)]},
        "blob": {"B": base64.b64encode(bytes(range(i % 50, i % 50 + 24))).decode()},
        "note": {"NULL": True},
        "active": {"BOOL": bool(i % 2)},
        "address": {"M": {"street": {"S": f"{i} Main St"}, "city": {"S": "Springfield"}, "zip": {"S": "12345"}}},
        "lines": {
            "L": [
                {"M": {"sku": {"S": f"SKU-{i}-{j}"}, "qty": {"N": str(j + 1)}, "price": {"N": f"{9 + j}.99"}}}
                for j in range(2)
            ]
        },
        "created": {"S": "2026-11-27T06:00:00.000Z"},
    }


def event_text(count: int = 1000, seed: int = 7) -> str:
    """JSON text of a DynamoDB Streams Lambda event with ``count`` MODIFY records."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        new = _item(rng, i, "PAID")
        old = _item(rng, i, "NEW")
        records.append(
            {
                "eventID": f"{rng.getrandbits(128):032x}",
                "eventName": "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_764_223_200 + i,
                    "Keys": {"pk": new["pk"], "sk": new["sk"]},
                    "NewImage": new,
                    "OldImage": old,
                    "SequenceNumber": str(4_421_584_500_000_000_017_450_439_091 + i),
                    "SizeBytes": 600,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-27T06:00:00.000",
            }
        )
    return json.dumps({"Records": records})
