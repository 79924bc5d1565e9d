"""Fuzzers of the endpoint: every request, however malformed, gets a well-formed DynamoDB answer.

Two surfaces: the request (a target and a JSON body, in process, with bodies built from each operation's input
shape and then bent out of shape) and the HTTP framing (random methods, headers and bytes on a socket). Never a
500, never a traceback, never a connection dropped without an answer.
"""

from __future__ import annotations

import http.client
import json
import socket
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from shardline.local import Store
from shardline.local.endpoint import OPERATIONS, REFUSED, Endpoint, _protocol, serve

PREFIXES = ("com.amazonaws.dynamodb.v20120810#", "com.amazon.coral.service#")

_json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8)
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_names = st.sampled_from(
    ["Orders", "pk", "sk", "byStatus", "x", "Other", "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"]
)
_attribute_values = st.one_of(
    st.fixed_dictionaries({"S": st.text(max_size=5)}),
    st.fixed_dictionaries({"N": st.sampled_from(["1", "-2.5", "1e3", "x", ""])}),
    st.fixed_dictionaries({"B": st.sampled_from(["", "AA==", "!!"])}),
    st.fixed_dictionaries({"BOOL": st.booleans()}),
    st.fixed_dictionaries({"NULL": st.just(True)}),
    st.fixed_dictionaries({"SS": st.lists(st.text(max_size=3), max_size=2)}),
    st.fixed_dictionaries({"L": st.lists(st.fixed_dictionaries({"S": st.text(max_size=2)}), max_size=2)}),
    _json,
)


def _shaped(name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the shape, mostly right, sometimes anything at all."""
    shape = _protocol._SHAPES[name]
    kind = shape[0]
    if depth > 6:
        return _json_scalars
    if kind == "any":
        right: st.SearchStrategy[Any] = _attribute_values
    elif kind == "structure":
        members = {member: _shaped(member_shape, depth + 1) for member, member_shape in shape[1]}
        right = st.fixed_dictionaries({}, optional=members)
    elif kind == "list":
        right = st.lists(_shaped(shape[1], depth + 1), max_size=3)
    elif kind == "map":
        key = _names if shape[1] in ("AttributeName", "TableArn") else st.text(min_size=1, max_size=6)
        right = st.dictionaries(key, _shaped(shape[2], depth + 1), max_size=3)
    elif kind == "string":
        right = st.sampled_from(shape[4]) if shape[4] else (_names | st.text(max_size=12))
    elif kind in ("integer", "long"):
        right = st.integers(-2, 1002)
    elif kind == "boolean":
        right = st.booleans()
    else:
        right = st.integers(0, 2**33) | st.floats(allow_nan=False, allow_infinity=False)
    return st.one_of(right, right, right, _json_scalars)


_REQUESTS = st.sampled_from(sorted(OPERATIONS)).flatmap(
    lambda target: st.tuples(st.just(target), _shaped(_protocol.INPUT_SHAPES[target]))
)
_TARGETS = st.one_of(
    st.sampled_from(sorted(OPERATIONS)),
    st.sampled_from(sorted(REFUSED)).map(lambda name: "DynamoDB_20120810." + name),
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "state.db"
    with Store(path) as store, serve(store, port=0) as running:
        store.create_table("Orders", key_schema={"pk": "S", "sk": "N"})
        store.table("Orders").put_item({"pk": "a", "sk": 1, "status": "NEW"})
        yield running


def check_answer(status: int, headers: dict[str, str], payload: bytes) -> None:
    assert status in (200, 400, 413), (status, payload[:300])
    lowered = {name.lower(): value for name, value in headers.items()}
    assert lowered["x-amz-crc32"] == str(zlib.crc32(payload))
    assert len(lowered["x-amzn-requestid"]) == 52
    document = json.loads(payload)
    assert isinstance(document, dict)
    if status != 200:
        assert document["__type"].startswith(PREFIXES), document
        assert isinstance(document["message"], str)
        assert "Traceback" not in document["message"]


@FUZZ
@given(request=_REQUESTS)
def test_fuzz_shaped_requests(endpoint: Endpoint, request: tuple[str, Any]) -> None:
    target, document = request
    check_answer(*endpoint.handle(target, json.dumps(document).encode()))


@FUZZ
@given(target=_TARGETS, body=st.one_of(_json.map(lambda value: json.dumps(value).encode()), st.binary(max_size=40)))
def test_fuzz_any_target_and_body(endpoint: Endpoint, target: str, body: bytes) -> None:
    check_answer(*endpoint.handle(target, body))


_header_names = st.sampled_from(
    ["Content-Length", "Transfer-Encoding", "Connection", "Expect", "X-Amz-Target", "Authorization", "X-Other"]
)
_header_values = st.one_of(
    st.sampled_from(["0", "2", "-1", "chunked", "close", "keep-alive", "100-continue", "DynamoDB_20120810.ListTables"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
)


@FUZZ
@given(
    method=st.sampled_from(["POST", "GET", "HEAD", "PUT", "OPTIONS", "BREW", ""]),
    version=st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTP"]),
    headers=st.lists(st.tuples(_header_names, _header_values), max_size=5),
    body=st.binary(max_size=30),
)
def test_fuzz_http_framing(
    endpoint: Endpoint, method: str, version: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    head = f"{method} / {version}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    with socket.create_connection((endpoint.host, endpoint.port), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        connection.shutdown(socket.SHUT_WR)  # no more bytes: whatever the request claimed, the server must answer
        response = http.client.HTTPResponse(connection, method="HEAD" if method == "HEAD" else "POST")
        try:
            response.begin()
        except http.client.RemoteDisconnected:
            # Only a request that was cut short (the headers promised more body than was sent) may end unanswered.
            assert method == "POST" or "chunked" in head or "Content-Length" in head
            return
        if response.status == 100:  # Expect: 100-continue, then the body never came
            return
        payload = response.read()
        assert response.status in (200, 400, 405, 413, 431, 505), response.status
        if response.status != 200 or method in ("GET", "HEAD"):
            if method != "HEAD" and response.status != 200:
                document = json.loads(payload)
                assert document["__type"].startswith(PREFIXES)
            return
        check_answer(response.status, dict(response.getheaders()), payload)
