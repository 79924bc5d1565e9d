"""The HTTP/1.1 server at the edge: DynamoDB's wire protocol over a socket, nothing more.

A lean server on `socketserver` (a thread per connection, so a slow client never holds up another)
with its own request reader: `http.server` parses every header block through the `email` package,
which costs more than the rest of a small request together. What it speaks (DynamoDB developer guide,
"DynamoDB low-level API"):

- `POST` with `X-Amz-Target` and a JSON body of at most 16 MB, sized by `Content-Length` (checked
  before a byte of the body is read) or sent `Transfer-Encoding: chunked`; `Expect: 100-continue` is
  answered. Any path is accepted; SigV4 `Authorization` headers are accepted without verification, as
  DynamoDB Local accepts them.
- Connections are kept alive (HTTP/1.1, or HTTP/1.0 with `Connection: keep-alive`), as SDKs reuse them.
- `GET`/`HEAD` answer a health check, `healthy: ...` with HTTP 200, as DynamoDB's endpoints do.
- A request that cannot be framed (a bad request line, a bad `Content-Length`, a body over 16 MB) is
  answered with a DynamoDB error body and the connection is closed; no Python traceback ever reaches a
  client, and no request ends the server.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from typing import Any, Final, final

from shardline.local._store import Store
from shardline.local.endpoint._operations import error_response, handle_request, request_id
from shardline.local.endpoint._protocol import DynamoDBError

__all__ = ["MAX_BODY_BYTES", "Server"]

_LOGGER: Final = logging.getLogger("shardline.local.endpoint")
# A library logs and lets the application decide where it goes (`shardline serve` and `run` send it to stderr or
# to functions.log); without this, Python's last-resort handler would print to stderr over run's live table.
_LOGGER.addHandler(logging.NullHandler())

#: The largest request body accepted: 16 MB, DynamoDB's limit on a request (BatchWriteItem's documentation).
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
_MAX_LINE: Final = 65536  # a request line or header line
_MAX_HEADERS: Final = 100
_DRAIN_BYTES: Final = 64 * 1024 * 1024  # read and dropped after refusing a body, so the client sees the answer
_DRAIN_SECONDS: Final = 2.0
_REASONS: Final = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    505: "HTTP Version Not Supported",
}
# The request headers the server reads (lower-cased); the others are skipped unparsed.
_READ_HEADERS: Final = {
    name.encode(): name for name in ("content-length", "transfer-encoding", "connection", "expect", "x-amz-target")
}
_HEALTHY: Final = b"healthy: shardline's local DynamoDB endpoint\n"


class _Refused(Exception):
    """A request the server answers without reading on: the answer, then the connection is closed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = DynamoDBError(code, message, status=status)


@final
class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Serves `store` on `(host, port)`; bound and listening once constructed (`port=0`: a free port)."""

    daemon_threads = True
    block_on_close = False  # close() joins the connection threads itself, after waking the idle ones
    allow_reuse_address = True  # a restarted endpoint gets its port back while old connections linger
    # Connections waiting to be accepted: socketserver's default of 5 makes a burst of clients (a load test, a
    # thread pool opening its connections at once) wait for TCP retransmits of seconds.
    request_queue_size = 128

    def __init__(self, store: Store, host: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.store = store
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self.closing = False
        super().__init__((host, port), _Connection)
        bound = self.server_address[1]
        #: `host:port`, as DescribeEndpoints answers it.
        self.address = f"[{host}]:{bound}" if ":" in host else f"{host}:{bound}"

    def track(self, connection: socket.socket, *, active: bool) -> None:
        with self._lock:
            if active:
                self._connections[connection] = threading.current_thread()
            else:
                self._connections.pop(connection, None)

    def close_connections(self, timeout: float) -> None:
        """Stop reading every connection (an idle keep-alive connection ends at once; a request being served
        is answered first), then wait up to `timeout` seconds for their threads."""
        self.closing = True
        with self._lock:
            connections = dict(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)
        for thread in connections.values():
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints tracebacks to stderr; a connection's failure is logged and forgotten instead.
        _LOGGER.debug("connection from %s failed", client_address, exc_info=True)


class _Connection(socketserver.BaseRequestHandler):
    """One client connection: requests are read and answered in turn until either side closes."""

    server: Server
    request: socket.socket

    def handle(self) -> None:
        connection = self.request
        server = self.server
        server.track(connection, active=True)
        reader = connection.makefile("rb", 65536)
        try:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not server.closing and self._serve_one(connection, reader):
                pass
        except (OSError, ValueError):  # the client went away mid-request (ValueError: the reader was closed)
            pass
        except Exception:  # a bug in the server itself: answered, logged, and only this connection ends
            _LOGGER.exception("the endpoint failed to serve a request")
            error = DynamoDBError("InternalServerError", "The server encountered an internal error", status=500)
            status, headers, payload = error_response(error)
            headers["Connection"] = "close"
            with contextlib.suppress(OSError):
                _send(connection, status, headers, payload)
        finally:
            server.track(connection, active=False)
            with contextlib.suppress(OSError):
                reader.close()

    def _serve_one(self, connection: socket.socket, reader: Any) -> bool:
        """Answer one request; whether to read another from the connection."""
        line = reader.readline(_MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):  # empty lines before a request line are to be ignored (RFC 9112, 2.2)
            line = reader.readline(_MAX_LINE + 1)
        if not line:
            return False
        try:
            method, version, headers = _read_head(line, reader)
            keep_alive = _keep_alive(version, headers.get("connection", ""))
            if method == "POST":
                body = _read_body(connection, reader, headers)
                status, response_headers, payload = handle_request(
                    self.server.store, headers.get("x-amz-target"), body, address=self.server.address
                )
            elif method in ("GET", "HEAD"):
                _read_body(connection, reader, headers)
                status, payload = 200, _HEALTHY
                response_headers = {
                    "x-amzn-RequestId": request_id(),
                    "Content-Type": "text/plain; charset=utf-8",
                    "Content-Length": str(len(payload)),
                }
                if method == "HEAD":
                    payload = b""
            else:
                raise _Refused(405, "UnknownOperationException", f"HTTP method {method} is not served; use POST")
        except _Refused as refused:
            status, response_headers, payload = error_response(refused.error)
            if refused.status == 405:
                response_headers["Allow"] = "GET, HEAD, POST"
            else:
                keep_alive = False
        if not keep_alive:
            response_headers["Connection"] = "close"
        _send(connection, status, response_headers, payload)
        if not keep_alive and status == 413:
            _drain(connection, reader)
        return keep_alive


def _read_head(line: bytes, reader: Any) -> tuple[str, str, dict[str, str]]:
    if len(line) > _MAX_LINE:
        raise _Refused(400, "SerializationException", "The HTTP request line is longer than 64 KB")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        if len(parts) == 3 and parts[2].startswith("HTTP/"):
            raise _Refused(505, "SerializationException", f"{parts[2][:20]} is not served; use HTTP/1.1")
        raise _Refused(400, "SerializationException", "The HTTP request line is not 'METHOD /path HTTP/1.1'")
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS + 1):
        line = reader.readline(_MAX_LINE + 1)
        if line in (b"\r\n", b"\n", b""):
            if not line:
                raise OSError("the connection closed in the request's headers")
            return parts[0], parts[2], headers
        if len(line) > _MAX_LINE:
            raise _Refused(431, "SerializationException", "An HTTP header line is longer than 64 KB")
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise _Refused(400, "SerializationException", "An HTTP header line is not 'Name: value'")
        key = name.lower()
        if key not in _READ_HEADERS:
            continue  # Authorization, User-Agent, X-Amz-Date, ...: nothing the endpoint acts on
        text = value.strip().decode("latin-1")
        header = _READ_HEADERS[key]
        if header in headers and header in ("content-length", "transfer-encoding") and headers[header] != text:
            raise _Refused(400, "SerializationException", f"The request has conflicting {header} headers")
        headers[header] = text
    raise _Refused(431, "SerializationException", f"The request has more than {_MAX_HEADERS} HTTP headers")


def _keep_alive(version: str, connection: str) -> bool:
    tokens = {token.strip().lower() for token in connection.split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def _read_body(connection: socket.socket, reader: Any, headers: dict[str, str]) -> bytes:
    encoding = headers.get("transfer-encoding")
    if encoding is not None:
        if encoding.lower() != "chunked":
            raise _Refused(400, "SerializationException", f"Transfer-Encoding {encoding[:40]!r} is not served")
        if "content-length" in headers:
            raise _Refused(400, "SerializationException", "The request has both Content-Length and Transfer-Encoding")
        _continue(connection, headers)
        return _read_chunked(reader)
    text = headers.get("content-length")
    if text is None:
        return b""  # a request with neither header has no body (RFC 9112, 6.3)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise _Refused(400, "SerializationException", f"Content-Length {text[:40]!r} is not a number of bytes")
    length = int(text)
    if length > MAX_BODY_BYTES:
        raise _Refused(413, "ValidationException", _too_large(f"{length} bytes"))
    _continue(connection, headers)
    body = reader.read(length) if length else b""
    if len(body) != length:
        raise OSError("the connection closed in the request's body")
    return bytes(body)


def _read_chunked(reader: Any) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = reader.readline(_MAX_LINE + 1)
        if not line:
            raise OSError("the connection closed in a chunked body")
        size_text = line.split(b";", 1)[0].strip()
        try:
            if not size_text or len(size_text) > 16:
                raise ValueError(size_text)
            size = int(size_text, 16)
        except ValueError:
            raise _Refused(400, "SerializationException", "A chunk of the request body has a bad size line") from None
        if size == 0:
            for _ in range(_MAX_HEADERS + 1):  # trailers, up to the empty line
                trailer = reader.readline(_MAX_LINE + 1)
                if trailer in (b"\r\n", b"\n", b""):
                    return b"".join(chunks)
            raise _Refused(400, "SerializationException", "The chunked body has too many trailers")
        total += size
        if total > MAX_BODY_BYTES:
            raise _Refused(413, "ValidationException", _too_large("more than that"))
        data = reader.read(size)
        if len(data) != size or reader.readline(3) not in (b"\r\n", b"\n"):
            raise _Refused(400, "SerializationException", "A chunk of the request body is cut short or not terminated")
        chunks.append(data)


def _too_large(size: str) -> str:
    return f"Request body too large: DynamoDB accepts at most {MAX_BODY_BYTES} bytes (16 MB), this one is {size}"


def _continue(connection: socket.socket, headers: dict[str, str]) -> None:
    if headers.get("expect", "").lower() == "100-continue":
        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")


def _send(connection: socket.socket, status: int, headers: dict[str, str], payload: bytes) -> None:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    head.extend(f"{name}: {value}" for name, value in headers.items())
    head.append("\r\n")
    connection.sendall("\r\n".join(head).encode("latin-1") + payload)


def _drain(connection: socket.socket, reader: Any) -> None:
    """Read and drop what the client is still sending after a refusal, so that closing the connection does not
    reset it before the client has read the answer (a client sends the whole body before it reads)."""
    with contextlib.suppress(OSError, ValueError):
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(_DRAIN_SECONDS)
        dropped = 0
        while dropped < _DRAIN_BYTES:
            data = reader.read1(65536)
            if not data:
                break
            dropped += len(data)
