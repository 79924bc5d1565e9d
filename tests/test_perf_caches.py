"""What the fast paths keep between requests stays true: the store's cache of table settings, counters and
shards (another connection's commit, a rolled-back transaction), the parse cache of expressions (other
values, value checks run again), and copy-on-write updates (the item and the values are never changed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import stream_records

from shardline.local import ResourceNotFoundError, Store, ValidationError
from shardline.local.endpoint import _data
from shardline.local.endpoint._operations import handle_request
from shardline.local.expressions import Expressions, apply_update, evaluate, project
from shardline.testing import VirtualClock

START = "2026-11-27T06:00:00Z"


def put(table: Any, pk: str, **attributes: Any) -> dict[str, Any] | None:
    (record,) = table.write_images([({"pk": {"S": pk}}, {"pk": {"S": pk}, **attributes})])
    return record


# -- the store's cache -----------------------------------------------------------------------------------


def test_another_connections_changes_to_a_table_are_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as one, Store(path) as two:
        one.create_table("Orders", key_schema={"pk": "S"})
        assert one.table("Orders") is one.table("Orders")  # kept while nothing else wrote
        assert one.table("Orders").stream_enabled is True
        two.table("Orders").update(stream_enabled=False)
        assert one.table("Orders").stream_enabled is False
        two.delete_table("Orders")
        with pytest.raises(ResourceNotFoundError, match=r"^no table 'Orders' in .* \(tables: none\)$"):
            one.table("Orders")
        two.create_table("Orders", key_schema={"id": "N"})
        assert one.table("Orders").key_schema == {"id": "N"}


def test_writers_taking_turns_on_two_connections_number_every_record_once(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as one, Store(path) as two:
        tables = [one.create_table("Orders", key_schema={"pk": "S"}), two.table("Orders")]
        written = [put(tables[number % 3 % 2], f"k{number}", n={"N": str(number)}) for number in range(8)]
        records = stream_records(one.table("Orders"))
    assert records == written  # each write's record, as returned, and no other
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in records] == [f"k{number}" for number in range(8)]
    numbers = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
    assert numbers == sorted(set(numbers))


def test_a_rolled_back_write_leaves_no_trace_in_what_the_next_write_uses(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    with Store(tmp_path / "state.db", clock=clock) as store:
        orders = store.create_table("Orders", key_schema={"pk": "S"}, shard_rollover_ms=1000)
        kept = put(orders, "a")
        clock.advance(5000)  # the next write rolls the shard over: new shard rows, a new sequence number

        undone_records: list[dict[str, Any] | None] = []

        def undone() -> None:
            with store.transaction():
                undone_records.append(put(orders, "b"))
                raise KeyError("undo")

        with pytest.raises(KeyError, match=r"^'undo'$"):
            undone()
        assert orders.read_item({"pk": {"S": "b"}}) is None
        kept_after = put(orders, "c")  # in a shard that exists, numbered after the last record kept
        records = stream_records(orders)
        shards = orders.stream.describe_stream()["Shards"]
    assert records == [kept, kept_after]
    # The undone write's sequence number was never used: the next write takes that very number.
    (undone_record,) = undone_records
    assert undone_record is not None
    assert kept_after is not None
    assert kept_after["dynamodb"]["SequenceNumber"] == undone_record["dynamodb"]["SequenceNumber"]
    assert len(shards) == 6  # the first, four that lived and closed while the clock jumped, the open one
    assert records[0]["dynamodb"]["SequenceNumber"] < records[1]["dynamodb"]["SequenceNumber"]


def test_a_failed_condition_writes_nothing_and_the_next_write_goes_on(tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        orders = store.create_table("Orders", key_schema={"pk": "S"})
        request = {
            "TableName": "Orders",
            "Item": {"pk": {"S": "a"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        assert _data.put_item(store, request) == {}
        with pytest.raises(_data.DynamoDBError, match=r"^ConditionalCheckFailedException: The conditional"):
            _data.put_item(store, request)
        second = put(orders, "b")
        records = stream_records(orders)
        assert [record["eventName"] for record in records] == ["INSERT", "INSERT"]
        assert records[1] == second


def test_the_key_fast_path_refuses_digits_other_than_ascii() -> None:
    with Store(":memory:") as store:
        table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"})
        with pytest.raises(Exception, match=r"not a number|number") as caught:
            table.read_item({"pk": {"S": "a"}, "sk": {"N": "\u00b2"}})
        assert type(caught.value).__module__.startswith("shardline")


# -- responses carry the items' stored text -----------------------------------------------------------------


def test_items_read_from_the_file_are_sent_as_the_json_they_were_stored_as() -> None:
    with Store(":memory:") as store:
        table = store.create_table("Orders", key_schema={"pk": "S", "sk": "N"})
        image = {"pk": {"S": "a\u00e9"}, "sk": {"N": "1"}, "m": {"M": {"x": {"L": [{"NULL": True}]}}}}
        table.write_images([({"pk": image["pk"], "sk": image["sk"]}, image)])
        bodies = {
            "GetItem": {"TableName": "Orders", "Key": {"pk": image["pk"], "sk": image["sk"]}},
            "Query": {
                "TableName": "Orders",
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": image["pk"]},
                "Limit": 1,
            },
            "BatchGetItem": {"RequestItems": {"Orders": {"Keys": [{"pk": image["pk"], "sk": image["sk"]}]}}},
            "TransactGetItems": {
                "TransactItems": [{"Get": {"TableName": "Orders", "Key": {"pk": image["pk"], "sk": image["sk"]}}}]
            },
        }
        answers = {
            operation: handle_request(store, f"DynamoDB_20120810.{operation}", json.dumps(body).encode())
            for operation, body in bodies.items()
        }
    assert {operation: status for operation, (status, _, _) in answers.items()} == dict.fromkeys(bodies, 200)
    payloads = {operation: payload for operation, (_, _, payload) in answers.items()}
    assert payloads["GetItem"].isascii()
    assert json.loads(payloads["GetItem"]) == {"Item": image}
    assert json.loads(payloads["Query"]) == {
        "Items": [image],
        "Count": 1,
        "ScannedCount": 1,
        "LastEvaluatedKey": {"pk": image["pk"], "sk": image["sk"]},
    }
    assert json.loads(payloads["BatchGetItem"]) == {"Responses": {"Orders": [image]}, "UnprocessedKeys": {}}
    assert json.loads(payloads["TransactGetItems"]) == {"Responses": [{"Item": image}]}


# -- the parse cache ------------------------------------------------------------------------------------------


def test_a_kept_parse_takes_each_requests_own_values() -> None:
    text = "#s = :v AND n BETWEEN :lo AND :hi"
    item = {"status": {"S": "on"}, "n": {"N": "5"}}
    for value, low, high, expected in (("on", "1", "9", True), ("off", "1", "9", False), ("on", "6", "9", False)):
        values = {":v": {"S": value}, ":lo": {"N": low}, ":hi": {"N": high}}
        expressions = Expressions({"#s": "status"}, values)
        condition = expressions.condition(text)
        expressions.check_all_used()
        assert evaluate(condition, item) is expected
    reversed_bounds = Expressions({"#s": "status"}, {":v": {"S": "on"}, ":lo": {"N": "9"}, ":hi": {"N": "1"}})
    with pytest.raises(ValidationError, match=r"^Invalid ConditionExpression: The BETWEEN operator requires upper"):
        reversed_bounds.condition(text)


def test_a_kept_key_condition_checks_each_requests_bounds_and_type_names() -> None:
    def key_condition(low: str, high: str) -> Any:
        expressions = Expressions(None, {":p": {"S": "a"}, ":lo": {"N": low}, ":hi": {"N": high}})
        return expressions.key_condition("pk = :p AND sk BETWEEN :lo AND :hi", partition_key="pk", sort_key="sk")

    assert key_condition("1", "2").sort == ("BETWEEN", {"N": "1"}, {"N": "2"})
    assert key_condition("3", "4").sort == ("BETWEEN", {"N": "3"}, {"N": "4"})
    with pytest.raises(ValidationError, match=r"^Invalid KeyConditionExpression: The BETWEEN operator requires upper"):
        key_condition("4", "3")
    for type_name, message in (("S", None), ("X", "Invalid attribute type name found; type: X")):
        expressions = Expressions(None, {":t": {"S": type_name}})
        if message is None:
            assert evaluate(expressions.condition("attribute_type(a, :t)"), {"a": {"S": "x"}}) is True
        else:
            with pytest.raises(ValidationError, match=rf"^Invalid ConditionExpression: {message}"):
                expressions.condition("attribute_type(a, :t)")


def test_a_kept_parse_counts_its_placeholders_as_used() -> None:
    for _ in range(2):
        expressions = Expressions({"#a": "a", "#b": "b"}, {":v": {"N": "1"}})
        expressions.update("SET #a = :v")
        with pytest.raises(ValidationError, match=r"^Value provided in ExpressionAttributeNames unused .*\{#b\}$"):
            expressions.check_all_used()


# -- copy-on-write updates and projections -------------------------------------------------------------------


def test_an_update_changes_neither_the_item_nor_the_values() -> None:
    item = {
        "pk": {"S": "a"},
        "m": {"M": {"l": {"L": [{"N": "1"}, {"M": {"x": {"S": "y"}}}]}, "s": {"SS": ["a"]}}},
        "n": {"N": "2"},
    }
    values = {":v": {"M": {"k": {"L": [{"S": "new"}]}}}, ":one": {"N": "1"}, ":s": {"SS": ["b"]}}
    before_item, before_values = copy.deepcopy(item), copy.deepcopy(values)
    expressions = Expressions(None, values)
    update = expressions.update("SET m.l[1].x = :v, m.l[5] = :one, n = n + :one ADD m.s :s REMOVE m.l[0]")
    new = apply_update(update, item, key={"pk": {"S": "a"}}, key_names=["pk"])
    assert new == {
        "pk": {"S": "a"},
        "m": {"M": {"l": {"L": [{"M": {"x": values[":v"]}}, {"N": "1"}]}, "s": {"SS": ["a", "b"]}}},
        "n": {"N": "3"},
    }
    assert item == before_item
    assert values == before_values
    projected = project(Expressions(None, None).projection("m.l[1]"), new)
    projected["m"]["M"]["l"]["L"][0]["N"] = "changed"
    assert new["m"]["M"]["l"]["L"][1] == {"N": "1"}
