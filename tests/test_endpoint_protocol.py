"""The endpoint's wire protocol: awsJson1_0 over HTTP/1.1, request shapes, malformed requests, the server's life.

DynamoDB developer guide, "DynamoDB low-level API" and "Error handling"; the request shapes are the DynamoDB
API reference's (compared here with botocore's service model).
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import zlib
from typing import Any

import pytest
from conftest import aws_client, create_table

import shardline
from shardline.local import Store, StoreError
from shardline.local.endpoint import (
    MAX_BODY_BYTES,
    OPERATIONS,
    REFUSED,
    Endpoint,
    EndpointError,
    _operations,
    _protocol,
    serve,
)
from shardline.local.endpoint._protocol import INPUT_SHAPES, DynamoDBError, check_request

boto3 = pytest.importorskip("boto3")
botocore_exceptions = pytest.importorskip("botocore.exceptions")
botocore_loaders = pytest.importorskip("botocore.loaders")

DDB = "DynamoDB_20120810."
CORAL = "com.amazon.coral.service#"
DYNAMO = "com.amazonaws.dynamodb.v20120810#"


def post(
    endpoint: Endpoint, target: str | None, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=10)
    try:
        sent = {"Content-Type": "application/x-amz-json-1.0", **(headers or {})}
        if target is not None:
            sent["X-Amz-Target"] = target
        connection.request("POST", "/", body, sent)
        response = connection.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(payload)
    finally:
        connection.close()


def raw(endpoint: Endpoint, request: bytes) -> bytes:
    """Send bytes, read until the server closes the connection."""
    with socket.create_connection((endpoint.host, endpoint.port), timeout=10) as connection:
        connection.sendall(request)
        chunks: list[bytes] = []
        while True:
            data = connection.recv(65536)
            if not data:
                return b"".join(chunks)
            chunks.append(data)


def error_of(status: int, body: Any) -> tuple[int, str, str]:
    return status, body["__type"], body["message"]


# -- the shapes --------------------------------------------------------------------------------------------


def _botocore_shapes() -> tuple[dict[str, Any], dict[str, Any]]:
    loader = botocore_loaders.create_loader()
    return loader.load_service_model("dynamodb", "service-2"), loader.load_service_model("dynamodbstreams", "service-2")


def test_every_dynamodb_operation_is_served_or_refused() -> None:
    dynamodb, streams = _botocore_shapes()
    served = {target.split(".", 1)[1] for target in OPERATIONS if target.startswith(DDB)}
    assert served.isdisjoint(REFUSED)
    assert set(dynamodb["operations"]) <= served | set(REFUSED)
    assert {target.split(".", 1)[1] for target in OPERATIONS if not target.startswith(DDB)} == set(
        streams["operations"]
    )
    assert set(INPUT_SHAPES) == set(OPERATIONS)


def test_request_shapes_agree_with_botocore() -> None:
    """Each shape the endpoint checks carries botocore's type, members, required members and constraints."""
    dynamodb, streams = _botocore_shapes()
    for name, shape in _protocol._SHAPES.items():
        model = streams if name.startswith("streams:") else dynamodb
        theirs = model["shapes"][name.removeprefix("streams:")]
        prefix = "streams:" if name.startswith("streams:") else ""
        kind = shape[0]
        if kind == "any":
            assert name == "AttributeValue"
            continue
        assert kind == theirs["type"], name
        if kind == "structure":
            members = dict(shape[1])
            assert set(members) <= set(theirs["members"]), name
            for member, member_shape in members.items():
                assert member_shape == prefix + theirs["members"][member]["shape"], (name, member)
            assert set(shape[2]) == set(theirs.get("required", ())) & set(members), name
        elif kind == "list":
            assert (shape[1], shape[2], shape[3]) == (
                prefix + theirs["member"]["shape"],
                theirs.get("min"),
                theirs.get("max"),
            ), name
        elif kind == "map":
            assert shape[1:] == (
                prefix + theirs["key"]["shape"],
                prefix + theirs["value"]["shape"],
                theirs.get("min"),
                theirs.get("max"),
            ), name
        elif kind == "string":
            enum = tuple(theirs["enum"]) if "enum" in theirs else None
            assert shape[1:] == (
                None if enum else theirs.get("min"),
                None if enum else theirs.get("max"),
                theirs.get("pattern"),
                enum,
            ), name
        elif kind in ("integer", "long"):
            assert shape[1:] == (theirs.get("min"), theirs.get("max")), name
    for target, shape_name in INPUT_SHAPES.items():
        service, operation = target.split(".")
        model = streams if service.startswith("DynamoDBStreams") else dynamodb
        assert shape_name.removeprefix("streams:") == model["operations"][operation]["input"]["shape"]


@pytest.mark.parametrize(
    ("shape", "request_body", "message"),
    [
        (
            "DescribeTableInput",
            {},
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            "DescribeTableInput",
            {"TableName": None},
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            "DescribeTableInput",
            {"TableName": "ab"},
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3",
        ),
        (
            "ListTablesInput",
            {"Limit": 0, "ExclusiveStartTableName": "a b"},
            "2 validation errors detected: Value 'a b' at 'exclusiveStartTableName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' at 'limit' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1",
        ),
        (
            "CreateTableInput",
            {"TableName": "Orders", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASSH"}]},
            "1 validation error detected: Value 'HASSH' at 'keySchema.1.member.keyType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [HASH, RANGE]",
        ),
        (
            "CreateTableInput",
            {"TableName": "Orders", "KeySchema": []},
            "1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1",
        ),
        (
            "DescribeTableInput",
            {"TableName": "arn:aws:dynamodb:us-east-1:123456789012:table/x"},
            "1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3",
        ),
    ],
)
def test_constraints_are_refused_in_dynamodbs_words(shape: str, request_body: Any, message: str) -> None:
    with pytest.raises(DynamoDBError) as caught:
        check_request(shape, request_body)
    assert (caught.value.code, caught.value.message) == ("ValidationException", message)


@pytest.mark.parametrize(
    ("shape", "request_body", "message"),
    [
        (
            "DescribeTableInput",
            {"TableName": 5},
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
        ),
        ("DescribeTableInput", {"TableName": True}, "class java.lang.Boolean can not be converted to an String"),
        ("DescribeTableInput", {"TableName": {}}, "Start of structure or map found where not expected"),
        ("DescribeTableInput", {"TableName": []}, "Start of list found where not expected"),
        ("ListTablesInput", {"Limit": "5"}, "class java.lang.String can not be converted to an Integer"),
        ("ListTablesInput", {"Limit": 2**40}, "NUMBER_VALUE 1099511627776 is out of range for an Integer"),
        ("CreateTableInput", {"KeySchema": "pk"}, "Unexpected string where a list was expected"),
        ("CreateTableInput", {"StreamSpecification": 1}, "Unexpected number where a structure or map was expected"),
        (
            "UpdateTimeToLiveInput",
            {"TimeToLiveSpecification": {"Enabled": "yes"}},
            "class java.lang.String can not be converted to an Boolean",
        ),
        ("DescribeTableInput", [], "Start of list found where not expected"),
    ],
)
def test_wrong_types_are_serialization_errors(shape: str, request_body: Any, message: str) -> None:
    with pytest.raises(DynamoDBError) as caught:
        check_request(shape, request_body)
    assert (caught.value.code, caught.value.message) == ("SerializationException", message)


def test_table_arns_name_tables() -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"
    assert check_request("DescribeTableInput", {"TableName": arn}) == {"TableName": "Orders"}
    request = {"RequestItems": {arn: {"Keys": [{"pk": {"S": "a"}}]}}}
    assert check_request("BatchGetItemInput", request) == {"RequestItems": {"Orders": {"Keys": [{"pk": {"S": "a"}}]}}}
    with pytest.raises(DynamoDBError, match=r"Invalid TableArn: Invalid ResourceArn provided as input arn:aws:s3"):
        check_request("DescribeTableInput", {"TableName": "arn:aws:s3:::bucket"})


def test_integral_floats_are_integers_and_unknown_members_are_ignored() -> None:
    checked = check_request("ListTablesInput", {"Limit": 5.0, "Whatever": [1]})
    assert checked == {"Limit": 5, "Whatever": [1]}
    assert type(checked["Limit"]) is int
    with pytest.raises(DynamoDBError, match=r"^SerializationException: class com"):
        check_request("ListTablesInput", {"Limit": 5.5})


# -- requests over HTTP ------------------------------------------------------------------------------------


def test_a_response_carries_dynamodbs_headers(endpoint: Endpoint) -> None:
    status, headers, body = post(endpoint, DDB + "ListTables", b"{}")
    assert (status, body) == (200, {"TableNames": []})
    assert headers["content-type"] == "application/x-amz-json-1.0"
    assert headers["x-amz-crc32"] == str(zlib.crc32(b'{"TableNames":[]}'))
    assert len(headers["x-amzn-requestid"]) == 52
    assert headers["x-amzn-requestid"].isalnum()


@pytest.mark.parametrize(
    ("target", "body", "expected"),
    [
        (
            DDB + "Frobnicate",
            b"{}",
            (400, CORAL + "UnknownOperationException", "Unknown operation: 'DynamoDB_20120810.Frobnicate'"),
        ),
        (
            None,
            b"{}",
            (
                400,
                CORAL + "UnknownOperationException",
                "The request has no X-Amz-Target header naming an operation",
            ),
        ),
        (
            DDB + "ListTables",
            b'{"Limit": ',
            (
                400,
                CORAL + "SerializationException",
                "The request body is not valid JSON: Expecting value (line 1, column 11)",
            ),
        ),
        (
            DDB + "ListTables",
            b'{"Limit": NaN}',
            (400, CORAL + "SerializationException", "The request body is not valid JSON: NaN is not JSON"),
        ),
        (
            DDB + "ListTables",
            b"\xff{}",
            (400, CORAL + "SerializationException", "The request body is not UTF-8 text"),
        ),
        (
            DDB + "ListTables",
            b"[" * 100_000,
            (400, CORAL + "SerializationException", "The request body is JSON nested too deeply"),
        ),
        (
            DDB + "DescribeTable",
            b'{"TableName": "Missing"}',
            (400, DYNAMO + "ResourceNotFoundException", "Requested resource not found: Table: Missing not found"),
        ),
    ],
)
def test_malformed_requests_answer_as_dynamodb(
    endpoint: Endpoint, target: str | None, body: bytes, expected: tuple[int, str, str]
) -> None:
    assert error_of(*post(endpoint, target, body)[::2]) == expected


def test_an_empty_body_is_an_empty_request(endpoint: Endpoint) -> None:
    assert post(endpoint, DDB + "ListTables", b"")[::2] == (200, {"TableNames": []})


def test_refused_operations_name_themselves(dynamodb: Any) -> None:
    with pytest.raises(botocore_exceptions.ClientError) as caught:
        dynamodb.execute_statement(Statement="SELECT * FROM Orders")
    error = caught.value.response["Error"]
    assert error == {
        "Code": "UnknownOperationException",
        "Message": "shardline's local endpoint does not support ExecuteStatement (PartiQL; use GetItem, PutItem, "
        "UpdateItem, DeleteItem, Query and Scan with expressions)",
    }
    with pytest.raises(botocore_exceptions.ClientError, match=r"does not support CreateBackup \(backups; the state"):
        dynamodb.create_backup(TableName="Orders", BackupName="nightly")


def test_sigv4_is_accepted_without_checking(endpoint: Endpoint) -> None:
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=forged/20200101/us-east-1/dynamodb/aws4_request, x"}
    assert post(endpoint, DDB + "ListTables", b"{}", headers)[::2] == (200, {"TableNames": []})


def test_a_body_over_16_mb_is_refused_before_it_is_read(endpoint: Endpoint) -> None:
    head = (
        f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {DDB}ListTables\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    )
    answer = raw(endpoint, head.encode())  # no body sent: the answer comes without it, then the server closes
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"Connection: close" in headers
    assert json.loads(body) == {
        "__type": DYNAMO + "ValidationException",
        "message": "Request body too large: DynamoDB accepts at most 16777216 bytes (16 MB), this one is "
        "16777217 bytes",
    }


def test_a_client_sending_a_huge_body_reads_the_refusal(dynamodb: Any, endpoint: Endpoint) -> None:
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=30)
    connection.request("POST", "/", b" " * (MAX_BODY_BYTES + 10), {"X-Amz-Target": DDB + "ListTables"})
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["__type"] == DYNAMO + "ValidationException"


@pytest.mark.parametrize(
    ("length", "message"),
    [
        ("-1", "Content-Length '-1' is not a number of bytes"),
        ("abc", "Content-Length 'abc' is not a number of bytes"),
        ("1e3", "Content-Length '1e3' is not a number of bytes"),
    ],
)
def test_bad_content_lengths(endpoint: Endpoint, length: str, message: str) -> None:
    answer = raw(
        endpoint, f"POST / HTTP/1.1\r\nX-Amz-Target: {DDB}ListTables\r\nContent-Length: {length}\r\n\r\n".encode()
    )
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {
        "__type": CORAL + "SerializationException",
        "message": message,
    }


def test_no_content_length_is_an_empty_body(endpoint: Endpoint) -> None:
    answer = raw(endpoint, f"POST / HTTP/1.1\r\nX-Amz-Target: {DDB}ListTables\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'\r\n\r\n{"TableNames":[]}')


def test_chunked_bodies_are_read(endpoint: Endpoint) -> None:
    body = b'{"Limit": 5}'
    chunked = b"5\r\n" + body[:5] + b"\r\n" + f"{len(body) - 5:x}".encode() + b"\r\n" + body[5:] + b"\r\n0\r\n\r\n"
    head = (
        f"POST / HTTP/1.1\r\nX-Amz-Target: {DDB}ListTables\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    answer = raw(endpoint, head.encode() + chunked)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'{"TableNames":[]}')
    bad = raw(endpoint, head.encode() + b"zz\r\n")
    assert bad.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"A chunk of the request body has a bad size line" in bad


def test_expect_100_continue(endpoint: Endpoint) -> None:
    head = (
        f"POST / HTTP/1.1\r\nX-Amz-Target: {DDB}ListTables\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection((endpoint.host, endpoint.port), timeout=10) as connection:
        connection.sendall(head.encode())
        assert connection.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.sendall(b"{}")
        assert connection.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(
    ("request_text", "status_line"),
    [
        ("GARBAGE\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        ("POST / HTTP/2.0\r\n\r\n", b"HTTP/1.1 505 HTTP Version Not Supported"),
        ("POST / HTTP/1.1\r\nno colon here\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        ("POST / HTTP/1.1\r\n" + "X-A: b\r\n" * 101 + "\r\n", b"HTTP/1.1 431 Request Header Fields Too Large"),
        ("POST /" + "a" * 70000 + " HTTP/1.1\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
    ],
)
def test_requests_that_cannot_be_framed(endpoint: Endpoint, request_text: str, status_line: bytes) -> None:
    answer = raw(endpoint, request_text.encode())
    assert answer.partition(b"\r\n")[0] == status_line
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["__type"] == CORAL + "SerializationException"


def test_health_checks(endpoint: Endpoint) -> None:
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=10)
    connection.request("GET", "/")
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"healthy: shardline's local DynamoDB endpoint\n")
    connection.request("HEAD", "/")
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"")
    connection.request("DELETE", "/")
    response = connection.getresponse()
    assert (response.status, response.getheader("Allow")) == (405, "GET, HEAD, POST")
    assert json.loads(response.read()) == {
        "__type": CORAL + "UnknownOperationException",
        "message": "HTTP method DELETE is not served; use POST",
    }
    connection.close()


def test_keep_alive_serves_many_requests_on_one_connection(endpoint: Endpoint) -> None:
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=10)
    connection.connect()
    first = connection.sock
    for _ in range(200):
        connection.request("POST", "/", b"{}", {"X-Amz-Target": DDB + "ListTables"})
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b'{"TableNames":[]}')
    assert connection.sock is first
    connection.close()


def test_http_10_closes_unless_asked(endpoint: Endpoint) -> None:
    answer = raw(
        endpoint, f"POST / HTTP/1.0\r\nX-Amz-Target: {DDB}ListTables\r\nContent-Length: 2\r\n\r\n{{}}".encode()
    )
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close\r\n" in answer


def test_concurrent_clients(endpoint: Endpoint, dynamodb: Any) -> None:
    create_table(dynamodb, "Orders")
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            own = aws_client("dynamodb", endpoint.url)
            for _ in range(25):
                assert own.describe_table(TableName="Orders")["Table"]["TableName"] == "Orders"
                assert own.list_tables()["TableNames"] == ["Orders"]
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# -- failures inside ---------------------------------------------------------------------------------------


def test_a_bug_is_an_internal_server_error_without_a_traceback(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(store: Store, request: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("secret")

    monkeypatch.setitem(OPERATIONS, DDB + "ListTables", broken)
    with caplog.at_level(logging.ERROR, logger="shardline.local.endpoint"):
        status, _, body = post(endpoint, DDB + "ListTables", b"{}")
    assert (status, body) == (
        500,
        {
            "__type": DYNAMO + "InternalServerError",
            "message": "The server encountered an internal error trying to fulfill the request (KeyError); "
            "see shardline's log",
        },
    )
    assert caplog.records[0].exc_info is not None
    assert post(endpoint, DDB + "DescribeLimits", b"{}")[0] == 200  # the server lives on


def test_a_response_json_cannot_carry(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(OPERATIONS, DDB + "ListTables", lambda store, request: {"x": object()})
    status, _, body = post(endpoint, DDB + "ListTables", b"{}")
    assert (status, body["__type"]) == (500, DYNAMO + "InternalServerError")


def test_store_errors_are_internal_server_errors_with_the_stores_message(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(store: Store, request: dict[str, Any]) -> dict[str, Any]:
        raise StoreError("the state file is locked by another process")

    monkeypatch.setitem(OPERATIONS, DDB + "ListTables", locked)
    assert error_of(*post(endpoint, DDB + "ListTables", b"{}")[::2]) == (
        500,
        DYNAMO + "InternalServerError",
        "the state file is locked by another process",
    )


# -- the Endpoint object -----------------------------------------------------------------------------------


def test_endpoint_attributes_and_in_process_calls(store: Store) -> None:
    endpoint = serve(store)
    assert endpoint.host == "127.0.0.1"
    assert endpoint.url == f"http://127.0.0.1:{endpoint.port}"
    assert repr(endpoint) == f"<Endpoint {endpoint.url}>"
    status, headers, body = endpoint.handle(DDB + "ListTables", b"{}")
    assert (status, body) == (200, b'{"TableNames":[]}')
    assert headers["Content-Length"] == "17"
    assert endpoint.handle(DDB + "ListTables", b" " * (MAX_BODY_BYTES + 1))[0] == 400
    with pytest.raises(
        shardline.ShardlineError, match=r"^handle\(target, body\) takes text and bytes, got str and str"
    ):
        endpoint.handle(DDB + "ListTables", "{}")  # type: ignore[arg-type]
    endpoint.close()
    endpoint.close()  # twice is fine
    assert repr(endpoint).endswith(" closed>")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((endpoint.host, endpoint.port), timeout=5)


def test_close_ends_idle_keep_alive_connections(store: Store) -> None:
    endpoint = serve(store)
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=10)
    connection.request("POST", "/", b"{}", {"X-Amz-Target": DDB + "ListTables"})
    assert connection.getresponse().read() == b'{"TableNames":[]}'
    endpoint.close()  # returns although the dynamodb keeps its connection open
    assert connection.sock is not None
    assert connection.sock.recv(10) == b""
    connection.close()


def test_a_port_in_use_is_a_clear_error(endpoint: Endpoint, store: Store) -> None:
    with pytest.raises(EndpointError, match=rf"^port {endpoint.port} on 127.0.0.1 is in use by another program"):
        serve(store, port=endpoint.port)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"port": -1}, r"^port must be a number from 0 to 65535 \(0: any free port\), got -1"),
        ({"port": True}, r"^port must be a number from 0 to 65535"),
        ({"host": ""}, r"^host must be an address such as '127.0.0.1', got ''"),
    ],
)
def test_serve_checks_its_arguments(store: Store, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(shardline.ShardlineError, match=message):
        serve(store, **arguments)


def test_serve_needs_a_store() -> None:
    with pytest.raises(shardline.ShardlineError, match=r"^serve\(\) needs a shardline.local.Store, got str"):
        serve("state.db")  # type: ignore[arg-type]


def test_an_address_not_of_this_machine(store: Store) -> None:
    with pytest.raises(EndpointError, match=r"^cannot listen on 192\.0\.2\.1:0: "):
        serve(store, host="192.0.2.1")


def test_ipv6_loopback(store: Store) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        endpoint = serve(store, host="::1")
    except EndpointError:
        pytest.skip("IPv6 loopback unavailable")
    with endpoint:
        assert endpoint.url == f"http://[::1]:{endpoint.port}"
        connection = http.client.HTTPConnection("::1", endpoint.port, timeout=10)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
        connection.close()


def test_dynamodb_error_bodies() -> None:
    error = DynamoDBError("ConditionalCheckFailedException", "The conditional request failed", Item={"a": {"S": "b"}})
    assert error.body() == {
        "__type": DYNAMO + "ConditionalCheckFailedException",
        "message": "The conditional request failed",
        "Item": {"a": {"S": "b"}},
    }
    assert DynamoDBError("SerializationException", "x").body()["__type"] == CORAL + "SerializationException"
    assert _operations.request_id() != _operations.request_id()


def test_a_bug_in_the_server_answers_500_and_closes_only_that_connection(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from shardline.local.endpoint import _server

    def broken(*arguments: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(_server, "_keep_alive", broken)
    with caplog.at_level(logging.ERROR, logger="shardline.local.endpoint"):
        answer = raw(endpoint, f"POST / HTTP/1.1\r\nX-Amz-Target: {DDB}ListTables\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {
        "__type": DYNAMO + "InternalServerError",
        "message": "The server encountered an internal error",
    }
    assert caplog.records[0].getMessage() == "the endpoint failed to serve a request"
    monkeypatch.undo()
    assert post(endpoint, DDB + "ListTables", b"{}")[0] == 200
