"""Rules of src/shardline/_changes.py that a mutant of tools/mutants.py broke while every other test still passed."""

from __future__ import annotations

from typing import Any

from shardline._changes import TTL_IDENTITY, stream_record


def ttl_delete(sequence: str) -> dict[str, Any]:
    keys = {"pk": {"S": "order#1"}}
    return stream_record(
        "REMOVE",
        keys,
        None,
        {**keys, "expires": {"N": "1700000000"}},
        view_type="NEW_AND_OLD_IMAGES",
        sequence_number=sequence,
        created_ms=1_700_000_000_000,
        event_id=sequence,
        region="us-east-1",
        source_arn="arn",
        ttl=True,
    )


def test_each_time_to_live_record_has_its_own_user_identity() -> None:
    # Kills changes/ttl-identity-shared: a handler that edits one record's userIdentity must not change the
    # next Time to Live record, nor the constant every record is made from.
    service = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    first, second = ttl_delete("1"), ttl_delete("2")
    assert first["userIdentity"] == second["userIdentity"] == service
    first["userIdentity"]["type"] = "edited"
    assert second["userIdentity"] == ttl_delete("3")["userIdentity"] == TTL_IDENTITY == service
