"""A fuzzer of the remote stream source: a DynamoDB Streams client that answers anything.

Each example scripts the client's answers (odd JSON, near-valid records with bytes, datetimes, NaN and deep
nesting, pages that do not move on) and its failures (any error code and HTTP status, network errors, other
exceptions). Reading the stream directly, or through a pipeline run to idle on a virtual clock, must return or
raise a shardline error; whatever records come out are JSON text in Lambda's shape.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline.aws import RemoteStream
from shardline.local import Pipeline, Store
from shardline.testing import VirtualClock

botocore_exceptions = pytest.importorskip("botocore.exceptions")

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"
SHARD = "shardId-00000001"
DEFAULT = object()  # in a script: the client's default answer

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.datetimes(timezones=st.sampled_from([None, timezone.utc])),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=12,
)
attribute_values = st.recursive(
    st.one_of(
        st.builds(lambda text: {"S": text}, st.text(max_size=6)),
        st.builds(lambda text: {"N": text}, st.sampled_from(["1", "-2.5", "x"])),
        st.builds(lambda data: {"B": data}, st.one_of(st.binary(max_size=6), st.integers())),
        st.builds(lambda data: {"BS": data}, st.lists(st.one_of(st.binary(max_size=4), st.none()), max_size=3)),
        st.builds(lambda flag: {"BOOL": flag}, st.one_of(st.booleans(), st.integers())),
        st.builds(lambda texts: {"SS": texts}, st.lists(st.text(max_size=3), max_size=3)),
        st.just({"NULL": True}),
        junk,
    ),
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(lambda fields: {"M": fields}, st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    ),
    max_leaves=10,
)
images = st.one_of(st.dictionaries(st.text(max_size=4), attribute_values, max_size=3), junk)
times = st.one_of(
    st.datetimes(timezones=st.sampled_from([None, timezone.utc])),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(),
    st.decimals(),
    st.none(),
    st.text(max_size=4),
)
sequence_numbers = st.one_of(st.integers(min_value=10**20, max_value=10**20 + 50).map(str), junk)
records = st.one_of(
    st.fixed_dictionaries(
        {
            "eventID": st.one_of(st.text(max_size=4), junk),
            "eventName": st.one_of(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]), junk),
            "dynamodb": st.one_of(
                st.fixed_dictionaries(
                    {
                        "ApproximateCreationDateTime": times,
                        "Keys": images,
                        "SequenceNumber": sequence_numbers,
                    },
                    optional={
                        "NewImage": images,
                        "OldImage": images,
                        "SizeBytes": st.one_of(st.integers(), junk),
                        "StreamViewType": st.one_of(st.just("NEW_IMAGE"), junk),
                    },
                ),
                junk,
            ),
        },
        optional={
            "userIdentity": st.one_of(st.just({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}), junk)
        },
    ),
    junk,
)
shards = st.one_of(
    st.fixed_dictionaries(
        {"ShardId": st.one_of(st.just(SHARD), st.text(max_size=4), junk)},
        optional={
            "ParentShardId": st.one_of(st.just(SHARD), st.text(max_size=4), junk),
            "SequenceNumberRange": st.one_of(
                st.fixed_dictionaries(
                    {"StartingSequenceNumber": sequence_numbers}, optional={"EndingSequenceNumber": sequence_numbers}
                ),
                junk,
            ),
        },
    ),
    junk,
)
descriptions = st.one_of(
    st.builds(
        lambda listed, last, schema: {
            "StreamDescription": {
                "StreamArn": ARN,
                "TableName": "Orders",
                "KeySchema": schema,
                "Shards": listed,
                **({} if last is None else {"LastEvaluatedShardId": last}),
            }
        },
        st.one_of(st.lists(shards, max_size=3), junk),
        st.one_of(st.none(), st.just(SHARD), junk),
        st.one_of(st.just([{"AttributeName": "pk", "KeyType": "HASH"}]), junk),
    ),
    junk,
)
pages = st.one_of(
    st.builds(
        lambda listed, following: {"Records": listed, "NextShardIterator": following},
        st.one_of(st.lists(records, max_size=4), junk),
        st.one_of(st.none(), st.just("iterator"), junk),
    ),
    junk,
)
good_records = st.builds(
    lambda name, pk, number, when, image: {
        "eventID": "e",
        "eventName": name,
        "dynamodb": {
            "ApproximateCreationDateTime": when,
            "Keys": {"pk": {"S": pk}},
            "NewImage": {"pk": {"S": pk}, **image},
            "SequenceNumber": str(10**20 + number),
        },
    },
    st.sampled_from(["INSERT", "MODIFY", "REMOVE"]),
    st.sampled_from(["a", "b", "c"]),
    st.integers(min_value=0, max_value=30),
    st.datetimes(min_value=datetime(2025, 12, 31, 12), max_value=datetime(2026, 1, 1), timezones=st.just(timezone.utc)),
    st.dictionaries(
        st.sampled_from(["x", "y"]),
        st.one_of(st.builds(lambda data: {"B": data}, st.binary(max_size=4)), st.just({"NS": ["1"]})),
    ),
)
good_pages = st.builds(
    lambda listed, following: {"Records": listed, "NextShardIterator": following},
    st.lists(good_records, max_size=4),
    st.one_of(st.none(), st.just("iterator")),
)
iterators = st.one_of(st.builds(lambda text: {"ShardIterator": text}, st.one_of(st.just("iterator"), junk)), junk)
CODES = [
    "LimitExceededException",
    "ProvisionedThroughputExceededException",
    "ExpiredIteratorException",
    "TrimmedDataAccessException",
    "ResourceNotFoundException",
    "InternalServerError",
    "ValidationException",
    "",
]


def client_error(code: str, status: int) -> Exception:
    error: Exception = botocore_exceptions.ClientError(
        {"Error": {"Code": code, "Message": "fuzzed"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )
    return error


failures = st.one_of(
    st.builds(client_error, st.sampled_from(CODES), st.sampled_from([400, 500, 503, 200])),
    st.just(botocore_exceptions.EndpointConnectionError(endpoint_url="http://stream")),
    st.just(ConnectionResetError("reset")),
    st.builds(RuntimeError, st.text(max_size=5)),
    st.just(KeyError("k")),
)

retriable = st.one_of(
    st.builds(
        client_error,
        st.sampled_from(["LimitExceededException", "ExpiredIteratorException", "TrimmedDataAccessException"]),
        st.just(400),
    ),
    st.builds(client_error, st.just("InternalServerError"), st.sampled_from([500, 503])),
    st.just(botocore_exceptions.ConnectionClosedError(endpoint_url="http://stream")),
)


class ScriptedClient:
    """Answers each operation from its script, then with a one-shard stream whose closed shard is empty."""

    def __init__(self, scripts: dict[str, list[Any]]) -> None:
        self.scripts = scripts

    def _next(self, operation: str, default: Any) -> Any:
        script = self.scripts[operation]
        answer = script.pop(0) if script else DEFAULT
        answer = default if answer is DEFAULT else answer
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def describe_stream(self, **arguments: Any) -> Any:
        return self._next(
            "describe",
            {
                "StreamDescription": {
                    "StreamArn": ARN,
                    "TableName": "Orders",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "Shards": [{"ShardId": SHARD, "SequenceNumberRange": {"StartingSequenceNumber": "1" * 21}}],
                }
            },
        )

    def get_shard_iterator(self, **arguments: Any) -> Any:
        return self._next("iterator", {"ShardIterator": "iterator"})

    def get_records(self, **arguments: Any) -> Any:
        return self._next("records", {"Records": [], "NextShardIterator": None})


def scripts(*, mostly_valid: bool = False) -> st.SearchStrategy[dict[str, list[Any]]]:
    if mostly_valid:
        # A described stream (the mapping starts), then mostly good pages among retriable failures and junk.
        valid = st.just(DEFAULT)
        describe = st.lists(st.one_of(valid, retriable), max_size=2).map(lambda script: [DEFAULT, *script])
        iterator = st.one_of(valid, valid, retriable)
        answers = st.one_of(good_pages, good_pages, good_pages, retriable, pages)
    else:
        describe = st.lists(st.one_of(descriptions, failures), max_size=3)
        iterator = st.one_of(iterators, failures)
        answers = st.one_of(pages, good_pages, failures)
    return st.fixed_dictionaries(
        {"describe": describe, "iterator": st.lists(iterator, max_size=4), "records": st.lists(answers, max_size=6)}
    )


def check_records(page: Any) -> None:
    if page is None:
        return
    json.dumps(page)  # no bytes, datetimes or Decimals left: the event is JSON as Lambda sends it
    for record in page["Records"]:
        assert record["eventSourceARN"] == ARN
        assert record["dynamodb"]["SequenceNumber"].isdigit()


@FUZZ
@given(script=scripts())
def test_reading_returns_or_raises_a_shardline_error(script: dict[str, list[Any]]) -> None:
    stream = RemoteStream(ARN, client=ScriptedClient(script), clock=VirtualClock())
    returns_or_raises_shardline_error(stream.describe_stream)
    for _ in range(3):
        iterator = returns_or_raises_shardline_error(lambda: stream.get_shard_iterator(SHARD, "TRIM_HORIZON"))
        if iterator is not None:
            check_records(returns_or_raises_shardline_error(partial(stream.get_records, iterator)))


@FUZZ
@given(script=scripts(mostly_valid=True), position=st.sampled_from(["TRIM_HORIZON", "LATEST"]))
def test_a_pipeline_on_a_remote_stream_returns_or_raises_a_shardline_error(
    script: dict[str, list[Any]], position: str
) -> None:
    clock = VirtualClock()
    stream = RemoteStream(ARN, client=ScriptedClient(script))
    delivered: list[dict[str, Any]] = []

    def run() -> int:
        with Store(":memory:", clock=clock) as store:
            pipeline = Pipeline(store)
            pipeline.add_mapping(
                stream, lambda event, context: delivered.extend(event["Records"]), starting_position=position
            )
            clock.advance(1000)
            return pipeline.run_until_idle(max_invocations=50)

    returns_or_raises_shardline_error(run)
    check_records({"Records": delivered})


def test_the_scripted_default_is_an_empty_closed_shard() -> None:
    stream = RemoteStream(ARN, client=ScriptedClient({"describe": [], "iterator": [], "records": []}))
    assert stream.get_records(stream.get_shard_iterator(SHARD, "TRIM_HORIZON")) == {
        "Records": [],
        "NextShardIterator": None,
    }
    assert stream.describe_stream()["Shards"] == [
        {"ShardId": SHARD, "SequenceNumberRange": {"StartingSequenceNumber": "1" * 21}}
    ]


def test_times_become_whole_epoch_seconds() -> None:
    base: dict[str, Any] = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "a"}}, "SequenceNumber": "1" * 21}}
    moments = [
        datetime(2026, 1, 1, 0, 0, 1, 900_000, tzinfo=timezone(timedelta(hours=2))),
        Decimal("1767225601.9"),
        1767225601.5,
        1767225601,
    ]
    page = {"Records": [{**base, "dynamodb": {**base["dynamodb"], "ApproximateCreationDateTime": m}} for m in moments]}
    stream = RemoteStream(ARN, client=ScriptedClient({"describe": [], "iterator": [], "records": [page]}))
    got = stream.get_records(stream.get_shard_iterator(SHARD, "TRIM_HORIZON"))["Records"]
    assert [record["dynamodb"]["ApproximateCreationDateTime"] for record in got] == [
        1767218401,
        1767225601,
        1767225601,
        1767225601,
    ]
