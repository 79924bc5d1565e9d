"""The Runtime API `shardline run` serves: only the runtime process it started may take or answer an event.

Other local processes are refused (403) without seeing an event; connections, threads and bodies are
bounded; garbage gets a 4xx and never a crash. The sandbox-level tests talk to a Runtime API with no
runtime process behind it; the end-to-end ones run a real awslambdaric process. Waiting is on conditions
(a FIFO the handler reads, the server's connection count), never on the clock.
"""

from __future__ import annotations

import http.client
import os
import socket
import string
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from shardline.local import _runtime
from shardline.local._runtime import RuntimeInvoker, _Call, _Sandbox

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="awslambdaric runs on Linux and macOS")

NEXT = "/2018-06-01/runtime/invocation/next"
INIT_ERROR = "/2018-06-01/runtime/init/error"


@pytest.fixture
def sandbox() -> Iterator[_Sandbox]:
    """A Runtime API with no runtime process: the tests play the runtime, or an intruder."""
    from shardline.local._invoker import FunctionOutput

    opened = _Sandbox("arn:aws:lambda:us-east-1:123456789012:function:f", FunctionOutput())
    yield opened
    opened.destroy()
    assert opened.server.wait_until_idle(10), "a connection thread outlived the sandbox"


def request(address: str, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, bytes]:
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def queue(sandbox: _Sandbox, call: _Call) -> tuple[threading.Thread, list[Any]]:
    """Hand ``call`` to the sandbox as the invoker does, in a thread; the outcome lands in the list."""
    outcomes: list[Any] = []
    thread = threading.Thread(target=lambda: outcomes.append(sandbox.run(call)), daemon=True)
    thread.start()
    with sandbox.cond:
        assert sandbox.cond.wait_for(lambda: sandbox.pending is call, 10)
    return thread, outcomes


def test_a_foreign_client_can_neither_take_nor_answer_an_invocation(sandbox: _Sandbox) -> None:
    call = _Call("request-1", b'{"Records": []}', budget=30.0)
    thread, outcomes = queue(sandbox, call)

    # Another process polls for work without the secret: refused, and the event stays queued.
    status, body = request(sandbox.address, "GET", NEXT)
    assert status == 403
    assert b"Records" not in body
    assert sandbox.pending is call
    # A wrong secret is no better than none.
    assert request(sandbox.address, "GET", "/not-the-secret" + NEXT)[0] == 403

    # The runtime (the secret in its path) takes the event...
    status, body = request(sandbox.address, "GET", sandbox.prefix + NEXT)
    assert (status, body) == (200, b'{"Records": []}')
    # ...and an intruder who guessed the request ID cannot post a forged success for it.
    forged = request(sandbox.address, "POST", "/2018-06-01/runtime/invocation/request-1/response", b"null")
    assert forged[0] == 403
    assert call.answer is None

    status, _ = request(
        sandbox.address,
        "POST",
        sandbox.prefix + "/2018-06-01/runtime/invocation/request-1/response",
        b'{"batchItemFailures": []}',
        **{"Content-Type": "application/json"},
    )
    assert status == 202
    thread.join(10)
    (outcome,) = outcomes
    assert outcome.error is None
    assert outcome.response == {"batchItemFailures": []}


def test_a_forged_init_error_is_not_believed_while_the_runtime_lives(sandbox: _Sandbox) -> None:
    call = _Call("request-2", b"{}", budget=30.0)
    thread, outcomes = queue(sandbox, call)
    # awslambdaric posts init errors without the secret, so one is accepted... provisionally.
    status, _ = request(sandbox.address, "POST", INIT_ERROR, b'{"errorType": "Forged", "errorMessage": "no"}')
    assert status == 202
    # The runtime then asks for work: its init did not fail, and the invoke goes on.
    assert request(sandbox.address, "GET", sandbox.prefix + NEXT)[0] == 200
    assert (
        request(sandbox.address, "POST", sandbox.prefix + "/2018-06-01/runtime/invocation/request-2/response", b'"ok"')[
            0
        ]
        == 202
    )
    thread.join(10)
    assert outcomes[0].error is None
    assert outcomes[0].response == "ok"
    # Once the runtime has asked for work, an init error is refused outright.
    assert request(sandbox.address, "POST", INIT_ERROR, b"{}")[0] == 403


def test_a_response_over_six_megabytes_is_refused_unread(sandbox: _Sandbox) -> None:
    call = _Call("request-3", b"{}", budget=30.0)
    thread, outcomes = queue(sandbox, call)
    assert request(sandbox.address, "GET", sandbox.prefix + NEXT)[0] == 200
    host, port = sandbox.address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        # Headers only: a server that tried to read the 7 MB body would wait here forever.
        client.sendall(
            f"POST {sandbox.prefix}/2018-06-01/runtime/invocation/request-3/response HTTP/1.1\r\n"
            f"Host: x\r\nContent-Type: application/json\r\nContent-Length: {7 * 1024 * 1024}\r\n\r\n".encode()
        )
        reply = client.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413 ")
    thread.join(10)
    (outcome,) = outcomes
    assert outcome.error is not None
    assert outcome.error.error_type == "Function.ResponseSizeTooLarge"
    assert outcome.error.message.startswith(f"Response payload size ({7 * 1024 * 1024} bytes) exceeded")


def test_connections_and_threads_are_bounded(sandbox: _Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_runtime, "UNTRUSTED_TIMEOUT", 60.0)  # the served ones stay open while we look
    before = threading.active_count()
    host, port = sandbox.address.split(":")
    clients = [socket.create_connection((host, int(port)), timeout=10) for _ in range(200)]
    try:
        with sandbox.server.changed:
            assert sandbox.server.changed.wait_for(lambda: sandbox.server.connections == _runtime.MAX_CONNECTIONS, 10)
        # 200 idle connections hold at most MAX_CONNECTIONS threads; the rest were closed at once.
        assert threading.active_count() <= before + _runtime.MAX_CONNECTIONS
        served, refused = clients[: _runtime.MAX_CONNECTIONS], clients[_runtime.MAX_CONNECTIONS :]
        for client in refused:  # accepted in the order they connected: the later ones are over the bound
            assert client.recv(1) == b""
        for client in served:
            client.settimeout(0.01)
            with pytest.raises(TimeoutError):  # still open, waiting for a request (until UNTRUSTED_TIMEOUT)
                client.recv(1)
    finally:
        for client in clients:
            client.close()
    assert sandbox.server.wait_until_idle(10)
    # The runtime's own requests are served as before.
    assert request(sandbox.address, "GET", sandbox.prefix + "/nowhere")[0] == 404


def test_a_connection_that_sends_nothing_is_dropped(sandbox: _Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_runtime, "UNTRUSTED_TIMEOUT", 0.2)
    host, port = sandbox.address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        assert client.recv(1) == b""  # closed by the server, long before this read's own 10 s
    assert sandbox.server.wait_until_idle(10)


@pytest.mark.parametrize(
    ("head", "status"),
    [
        ("BREW /2018-06-01/runtime/invocation/next HTTP/1.1", 405),
        ("GET /2018-06-01/runtime/invocation/next HTTP/2.0", 400),
        ("garbage", 400),
        ("DELETE {prefix}/2018-06-01/runtime/invocation/next HTTP/1.1", 405),
        ("POST {prefix}/2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nContent-Length: -1", 400),
        ("POST {prefix}/2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nContent-Length: ²", 400),
        ("POST {prefix}/2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nTransfer-Encoding: chunked", 400),
        ("POST {prefix}/2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nContent-Length: 2", 400),
        ("GET {prefix}/2018-06-01/runtime/invocation/nope HTTP/1.1", 404),
        ("PUT /2018-06-01/runtime/invocation/next HTTP/1.1", 405),
    ],
)
def test_garbage_gets_a_4xx(sandbox: _Sandbox, head: str, status: int) -> None:
    reply = send_raw(sandbox, head.format(prefix=sandbox.prefix).encode() + b"\r\n\r\n")
    assert reply.split(b"\r\n", 1)[0].split(b" ")[1] == str(status).encode(), reply[:200]


def send_raw(sandbox: _Sandbox, data: bytes) -> bytes:
    """Send ``data``, close the sending side, and read the answer to its end."""
    host, port = sandbox.address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        try:
            client.sendall(data)
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close first (a refused request): its answer is still there to read
        chunks = []
        while True:
            try:
                chunk = client.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


# -- a fuzzer of the HTTP surface -----------------------------------------------------------------------------

_KNOWN_PATHS = [
    NEXT,
    INIT_ERROR,
    "/2018-06-01/runtime/invocation/some-id/response",
    "/2018-06-01/runtime/invocation/some-id/error",
    "/2018-06-01/runtime/restore/next",
    "/",
    "",
    "*",
]
_HEADER_NAMES = [
    "Content-Length",
    "Transfer-Encoding",
    "Content-Type",
    "Lambda-Runtime-Function-Error-Type",
    "Expect",
    "Connection",
    "X-Anything",
]
_HEADER_VALUES = st.one_of(
    st.sampled_from(["chunked", "-1", "0", "5", "99999999999999999999", "abc", "100-continue", "close", "1e3"]),
    st.text(alphabet=string.printable.replace("\r", "").replace("\n", ""), max_size=40),
)


@st.composite
def raw_requests(draw: st.DrawFn, prefix: str) -> tuple[bytes, bool]:
    """A request as bytes, and whether it carries the secret."""
    if draw(st.booleans()):  # unstructured garbage
        return draw(st.binary(max_size=300)), False
    method = draw(
        st.one_of(
            st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW"]),
            st.text(alphabet=string.ascii_letters, min_size=1, max_size=10),
        )
    )
    path = draw(st.one_of(st.sampled_from(_KNOWN_PATHS), st.text(alphabet=string.printable[:94], max_size=60)))
    secret = draw(st.booleans())
    if secret:
        path = prefix + path
        if method == "GET" and path == prefix + NEXT:
            method = "POST"  # the runtime's own long poll, tested above: it waits for work by design
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/x"]))
    headers = draw(st.lists(st.tuples(st.sampled_from(_HEADER_NAMES), _HEADER_VALUES), max_size=5))
    body = draw(st.binary(max_size=500))
    if draw(st.booleans()):  # a chunked body, well-formed or not
        size = draw(st.sampled_from([len(body), len(body) + 3, 0]))
        body = f"{size:x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    head = f"{method} {path} {version}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode("utf-8", "replace") + b"\r\n" + body, secret


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[_Sandbox]:
    """One Runtime API for every example (with no runtime behind it); garbage that stops mid-request is
    dropped quickly (the untrusted read timeout, shortened)."""
    from shardline.local._invoker import FunctionOutput

    patch = pytest.MonkeyPatch()
    patch.setattr(_runtime, "UNTRUSTED_TIMEOUT", 0.5)
    baseline = threading.active_count()
    opened = _Sandbox("arn:aws:lambda:us-east-1:123456789012:function:f", FunctionOutput())
    try:
        yield opened
    finally:
        opened.destroy()
        patch.undo()
    assert opened.server.wait_until_idle(10)
    for thread in threading.enumerate():
        if thread.name.startswith("shardline-runtime"):
            thread.join(10)
    assert threading.active_count() <= baseline  # every thread of the server is gone


@FUZZ
@given(data=st.data())
def test_fuzz_the_runtime_api(data: st.DataObject, fuzzed: _Sandbox) -> None:
    sandbox = fuzzed
    threads = threading.active_count()
    for _ in range(data.draw(st.integers(1, 4))):
        raw, secret = data.draw(raw_requests(sandbox.prefix))
        reply = send_raw(sandbox, raw)
        if not reply:
            continue  # closed without an answer: garbage that never made a request line
        if reply.startswith(b"HTTP/1.1 100 "):  # the runtime (the secret) is invited to send its body
            assert secret
            reply = reply.split(b"\r\n\r\n", 1)[1]
        status_line = reply.split(b"\r\n", 1)[0]
        assert status_line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), reply[:100]
        status = int(status_line.split()[1])
        assert 200 <= status < 500, reply[:300]
        if status < 300:
            # Only the runtime (the secret), or an init error (believed only if the runtime then dies).
            assert secret or INIT_ERROR.encode() in raw.split(b"\r\n", 1)[0], raw[:200]
        assert sandbox.pending is None
        assert sandbox.current is None  # nothing was taken, nothing was answered
    # Every connection was served to its end: no thread is left behind, the server still serves.
    assert sandbox.server.wait_until_idle(10)
    assert threading.active_count() <= threads
    assert request(sandbox.address, "GET", sandbox.prefix + "/nowhere")[0] == 404


# -- end to end, with a real awslambdaric process ----------------------------------------------------------------


def test_a_real_runtime_uses_the_secret_and_an_intruder_cannot_forge_its_answer(tmp_path: Path) -> None:
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            f"""
            import os
            def handler(event, context):
                with open({str(fifo)!r}) as gate:  # blocks until the test writes: the invoke is in progress
                    gate.read()
                return {{"seen": len(event["Records"]), "api": os.environ["AWS_LAMBDA_RUNTIME_API"],
                         "prefix": os.environ.get("_SHARDLINE_RUNTIME_API_PREFIX")}}
            """
        ),
        encoding="utf-8",
    )
    with RuntimeInvoker("app.handler", code_dir=tmp_path, timeout=30) as invoker:
        results: list[Any] = []
        worker = threading.Thread(
            target=lambda: results.append(
                invoker.invoke({"Records": [{"n": 1}]}, deadline_ms=invoker.deadline_from_now())
            )
        )
        worker.start()
        sandbox: _Sandbox | None = None
        while sandbox is None:  # the sandbox exists as soon as the invoke has started the runtime
            sandbox = invoker._state.sandbox
        with sandbox.cond:  # the invoke is in progress once the runtime has taken the event
            assert sandbox.cond.wait_for(lambda: sandbox.current is not None, 30)
        assert sandbox.current is not None
        request_id = sandbox.current.request_id
        assert request(sandbox.address, "GET", NEXT)[0] == 403
        forged = f"/2018-06-01/runtime/invocation/{request_id}/response"
        assert request(sandbox.address, "POST", forged, b'{"batchItemFailures": []}')[0] == 403
        assert request(sandbox.address, "POST", forged.replace("response", "error"), b"{}")[0] == 403
        with open(fifo, "w") as gate:
            gate.write("go")
        worker.join(30)
    (invocation,) = results
    assert invocation.error is None
    assert invocation.response["seen"] == 1
    assert invocation.response["api"] == sandbox.address  # host:port only: the secret is not in sight
    assert invocation.response["prefix"] is None
