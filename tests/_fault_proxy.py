"""A fault-injecting HTTP proxy in front of a DynamoDB / DynamoDB Streams endpoint (moto's server in the tests).

boto3 speaks the JSON protocol to both services: every call is a ``POST /`` whose ``X-Amz-Target`` header names
the operation (``DynamoDBStreams_20120810.GetRecords``). The proxy passes each call on to the upstream server and
passes its answer back, except for the calls a script tells it to fail. A script counts the calls of each target
from 1, so "fail the 2nd, 3rd and 7th GetRecords" fails exactly those, whatever the timing:

    with FaultProxy(moto_url) as proxy:
        proxy.script(GET_RECORDS, {2: THROTTLE, 3: SERVER_500, 7: DROP})
        proxy.script(GET_SHARD_ITERATOR, every(2, first=6, fault=CUT))   # calls 1, 3, 5
        ...  # a client with endpoint_url=proxy.url
        assert proxy.faulted[GET_RECORDS] == 3 and proxy.pending() == {}

The faults are the ones a DynamoDB Streams reader meets ("Error handling with DynamoDB", DynamoDB developer
guide; "Common errors", DynamoDB Streams API reference):

* THROTTLE: HTTP 400 ``LimitExceededException`` (DynamoDB Streams' throttling of GetRecords and friends);
* PROVISIONED: HTTP 400 ``ProvisionedThroughputExceededException``;
* SERVER_500, SERVER_503: HTTP 500 / 503 with an ``InternalServerError`` body;
* BAD_GATEWAY: HTTP 502 with an HTML page, as a load balancer or proxy on the way answers;
* EXPIRED: HTTP 400 ``ExpiredIteratorException`` (a shard iterator past its 15 minutes);
* DROP: the request is read, then the connection is closed without a byte of answer (the call is not passed on);
* CUT: the call is passed on, and the status line, the headers (with the full ``Content-Length``) and half of
  the body are sent before the connection is closed;
* CUT_CHUNKED: the same with a chunked body: the first chunk (half of the body) is sent, never the last one.

:data:`CAUSE` says which counter of ``RemoteStream.health`` each fault should move.

Standard library only: an ``http.server`` on 127.0.0.1 (a free port) in a thread, ``http.client`` upstream.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import sys
import threading
import urllib.parse
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final

__all__ = [
    "CAUSE",
    "CUT",
    "CUT_CHUNKED",
    "DESCRIBE_STREAM",
    "BAD_GATEWAY",
    "DROP",
    "EXPIRED",
    "FAULTS",
    "GET_RECORDS",
    "GET_SHARD_ITERATOR",
    "PROVISIONED",
    "SERVER_500",
    "SERVER_503",
    "THROTTLE",
    "FaultProxy",
    "every",
]

DESCRIBE_STREAM: Final = "DynamoDBStreams_20120810.DescribeStream"
GET_SHARD_ITERATOR: Final = "DynamoDBStreams_20120810.GetShardIterator"
GET_RECORDS: Final = "DynamoDBStreams_20120810.GetRecords"

THROTTLE: Final = "throttle"
PROVISIONED: Final = "provisioned"
SERVER_500: Final = "500"
SERVER_503: Final = "503"
BAD_GATEWAY: Final = "502"
EXPIRED: Final = "expired"
DROP: Final = "drop"
CUT: Final = "cut"
CUT_CHUNKED: Final = "cut-chunked"

#: Each fault's HTTP status and error code, for the faults that answer.
_ANSWERS: Final[dict[str, tuple[int, str]]] = {
    THROTTLE: (400, "LimitExceededException"),
    PROVISIONED: (400, "ProvisionedThroughputExceededException"),
    SERVER_500: (500, "InternalServerError"),
    SERVER_503: (503, "InternalServerError"),
    EXPIRED: (400, "ExpiredIteratorException"),
}
FAULTS: Final = (*_ANSWERS, BAD_GATEWAY, DROP, CUT, CUT_CHUNKED)

#: The ``RemoteStream.health`` counter each fault moves (an expired iterator is replaced, not backed off).
CAUSE: Final[dict[str, str]] = {
    THROTTLE: "throttled",
    PROVISIONED: "throttled",
    SERVER_500: "server_errors",
    SERVER_503: "server_errors",
    BAD_GATEWAY: "server_errors",
    EXPIRED: "expired_iterators",
    DROP: "network_errors",
    CUT: "network_errors",
    CUT_CHUNKED: "network_errors",
}

# Headers about one hop of HTTP, not about the message: never passed on (RFC 9110, section 7.6.1).
_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length"}
)


def every(step: int, *, first: int, fault: str, start: int = 1) -> dict[int, str]:
    """A script failing calls ``start``, ``start + step``, ... up to call ``first``: ``every(2, first=6,
    fault=THROTTLE)`` fails calls 1, 3 and 5 ("every other call for the first 6")."""
    if step < 1 or start < 1:
        raise ValueError("calls are counted from 1 and a step is at least 1")
    return dict.fromkeys(range(start, first + 1, step), fault)


class FaultProxy:
    """The proxy, serving from construction until :meth:`close` (or the end of a ``with`` block).

    Attributes, all per ``X-Amz-Target``: :attr:`calls` (requests seen, failed or not), :attr:`faulted`
    (requests failed), :attr:`injected` (per ``(target, fault)``) and :attr:`log` (``(target, call number,
    fault or None)`` in arrival order). :attr:`errors` holds what went wrong in the proxy itself (an upstream
    that did not answer...): a test asserts it stays empty.
    """

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or parsed.hostname is None or parsed.port is None:
            raise ValueError(f"the upstream is an http://host:port URL, got {upstream!r}")
        self.upstream_host: str = parsed.hostname
        self.upstream_port: int = parsed.port
        self.calls: Counter[str] = Counter()
        self.faulted: Counter[str] = Counter()
        self.injected: Counter[tuple[str, str]] = Counter()
        self.log: list[tuple[str, int, str | None]] = []
        self.errors: list[str] = []
        self._scripts: dict[str, dict[int, str]] = {}
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()

    # -- scripting --------------------------------------------------------------------------------------------

    def script(self, target: str, faults: Mapping[int, str]) -> None:
        """Fail the calls of ``target`` numbered in ``faults`` (1 = the first call the proxy sees of it, counted
        since the proxy started) with the fault given for each; added to what was scripted before."""
        for number, fault in faults.items():
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}; the faults are {', '.join(FAULTS)}")
            if number < 1:
                raise ValueError(f"calls are counted from 1, got {number}")
        with self._lock:
            self._scripts.setdefault(target, {}).update(faults)

    def pending(self) -> dict[str, dict[int, str]]:
        """The scripted faults whose call has not come yet, per target (empty once every one was injected)."""
        with self._lock:
            left = {
                target: {number: fault for number, fault in script.items() if number > self.calls[target]}
                for target, script in self._scripts.items()
            }
        return {target: script for target, script in left.items() if script}

    def faults_by_cause(self) -> dict[str, int]:
        """How many faults were injected per ``RemoteStream.health`` counter (see :data:`CAUSE`)."""
        counts = {"throttled": 0, "server_errors": 0, "network_errors": 0, "expired_iterators": 0}
        with self._lock:
            for (_, fault), count in self.injected.items():
                counts[CAUSE[fault]] += count
        return counts

    def _next(self, target: str) -> tuple[int, str | None]:
        """Count a call of ``target``: its number, and the fault it gets, if any."""
        with self._lock:
            self.calls[target] += 1
            number = self.calls[target]
            fault = self._scripts.get(target, {}).get(number)
            if fault is not None:
                self.faulted[target] += 1
                self.injected[target, fault] += 1
            self.log.append((target, number, fault))
            return number, fault

    # -- lifetime ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving and cut the connections clients still hold open (keep-alive)."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FaultProxy {self.url} -> {self.upstream_host}:{self.upstream_port}>"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.proxy._lock:
            self.proxy._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.proxy._lock:
            self.proxy._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-answer is what faults do; anything else is the proxy's own failure.
        kind, value, _ = sys.exc_info()
        if kind is not None and issubclass(kind, (ConnectionError, TimeoutError)):
            return
        with self.proxy._lock:
            self.proxy.errors.append(f"{kind.__name__ if kind else 'error'}: {value}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a test's output is its assertions

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        target = self.headers.get("X-Amz-Target", "")
        proxy = self.server.proxy
        number, fault = proxy._next(target)
        if fault == DROP:
            self.close_connection = True  # the request was read; not a byte of answer
            return
        if fault == BAD_GATEWAY:
            page = b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
            self._answer(502, [("Content-Type", "text/html")], page)
            return
        if fault in _ANSWERS:
            status, code = _ANSWERS[fault]
            message = f"fault injected by the test proxy: {code} on call {number} of {target}"
            answer = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
            self._answer(status, [("Content-Type", "application/x-amz-json-1.0")], answer)
            return
        try:
            status, headers, answer = self._forward(body)
        except (OSError, http.client.HTTPException) as exc:
            with proxy._lock:
                proxy.errors.append(f"upstream failed for {target}: {exc!r}")
            self.close_connection = True
            return
        if fault == CUT:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer[: len(answer) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == CUT_CHUNKED:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = answer[: max(1, len(answer) // 2)]
            self.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")  # the terminating chunk never comes
            self.wfile.flush()
            self.close_connection = True
            return
        self._answer(status, headers, answer)

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """The upstream server's status, end-to-end headers and body for this request."""
        proxy = self.server.proxy
        connection = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=30)
        try:
            headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = [(name, value) for name, value in response.getheaders() if name.lower() not in _HOP_BY_HOP]
            kept = [(name, value) for name, value in kept if name.lower() not in ("server", "date")]
            return response.status, kept, answer
        finally:
            connection.close()
