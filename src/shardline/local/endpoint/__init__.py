"""DynamoDB's API over the local store: the endpoint your own boto3 code (or the AWS CLI, PynamoDB, any SDK)
talks to, serving DynamoDB (`DynamoDB_20120810`) and DynamoDB Streams (`DynamoDBStreams_20120810`) on
one port, over the same state file as the rest of [`shardline.local`][shardline.local]: every write through it puts the
same stream record a [`Store`][shardline.local.Store] write does.

Point an SDK at it with `endpoint_url=endpoint.url` (or `AWS_ENDPOINT_URL_DYNAMODB` and
`AWS_ENDPOINT_URL_DYNAMODB_STREAMS`) and any credentials: SigV4 signatures are accepted without being
checked, and the access key does not separate data (every client sees the same tables).

Examples:
    >>> import shardline.local
    >>> from shardline.local.endpoint import serve
    >>> with shardline.local.Store(":memory:") as store, serve(store, port=0) as endpoint:
    ...     endpoint.url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

import errno
import threading
from types import TracebackType
from typing import Final, final

from shardline._exceptions import ShardlineError
from shardline.local._errors import ArgumentTypeError
from shardline.local._store import Store
from shardline.local.endpoint._operations import OPERATIONS as OPERATIONS
from shardline.local.endpoint._operations import REFUSED as REFUSED
from shardline.local.endpoint._operations import error_response, handle_request
from shardline.local.endpoint._protocol import DynamoDBError as DynamoDBError
from shardline.local.endpoint._server import MAX_BODY_BYTES as MAX_BODY_BYTES
from shardline.local.endpoint._server import Server

__all__ = ["MAX_BODY_BYTES", "OPERATIONS", "REFUSED", "DynamoDBError", "Endpoint", "EndpointError", "serve"]

_CLOSE_TIMEOUT: Final = 5.0  # seconds close() waits for requests being served to finish
_POLL_SECONDS: Final = 0.05  # how often the accepting thread looks whether close() was called


@final
class EndpointError(ShardlineError):
    """The endpoint cannot listen where asked: the port is taken, the address is not this machine's, or the
    system refuses it. The message names the address and says what to do."""

    __module__ = "shardline.local"


@final
class Endpoint:
    """A running endpoint (from [`serve`][shardline.local.serve]): its `url`, `host` and `port`,
    [`handle`][shardline.local.Endpoint.handle] for requests without a socket, and
    [`close`][shardline.local.Endpoint.close]. A context manager: leaving the block closes it."""

    __slots__ = ("_closed", "_server", "_thread", "host", "port", "store", "url")

    def __init__(self, store: Store, server: Server, host: str) -> None:
        self.store = store
        self._server = server
        self.host: str = host
        """The address listened on, as given to [`serve`][shardline.local.serve]."""
        self.port: int = int(server.server_address[1])
        """The port listened on (the free port chosen when `port=0` was asked for)."""
        self.url: str = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        """`http://<host>:<port>`, for an SDK's `endpoint_url`."""
        self._closed = False
        self._thread = threading.Thread(
            target=server.serve_forever, args=(_POLL_SECONDS,), name=f"shardline-endpoint-{self.port}", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"<Endpoint {self.url}{' closed' if self._closed else ''}>"

    def __enter__(self) -> Endpoint:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def handle(self, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Serve one request in this thread, without HTTP: `target` as the `X-Amz-Target` header
        (`"DynamoDB_20120810.GetItem"`) and the JSON `body`; returns the HTTP status, the response
        headers and the response body, exactly as the socket would carry them."""
        if not isinstance(target, str) or not isinstance(body, (bytes, bytearray, memoryview)):
            raise ArgumentTypeError(
                f"handle(target, body) takes text and bytes, got {type(target).__name__} and {type(body).__name__}"
            )
        if len(body) > MAX_BODY_BYTES:
            return error_response(
                DynamoDBError("ValidationException", f"Request body too large: at most {MAX_BODY_BYTES} bytes")
            )
        return handle_request(self.store, target, bytes(body), address=self._server.address)

    def close(self) -> None:
        """Stop listening, end idle connections, let requests being served finish (up to 5 seconds) and
        stop the serving thread. Calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections(_CLOSE_TIMEOUT)
        self._thread.join()


def serve(store: Store, *, host: str = "127.0.0.1", port: int = 0) -> Endpoint:
    """Serve `store` as DynamoDB and DynamoDB Streams on `host`:`port` (`port=0`: a free port, see
    [`Endpoint.port`][shardline.local.Endpoint.port]), in a background thread; returns once listening.

    A host other than the loopback address exposes the tables to the network without any access control
    (signatures are not checked): do that on purpose only. Raises [`EndpointError`][shardline.local.EndpointError] when
    the address cannot be listened on (the port is taken, for instance).

    Examples:
        >>> from shardline.local import Store
        >>> with Store(":memory:") as store, serve(store) as endpoint:
        ...     status, headers, body = endpoint.handle("DynamoDB_20120810.ListTables", b"{}")
        ...     print(status, body)
        200 b'{"TableNames":[]}'
    """
    if not isinstance(store, Store):
        raise ArgumentTypeError(f"serve() needs a shardline.local.Store, got {type(store).__name__}")
    if not isinstance(host, str) or not host:
        raise ArgumentTypeError(f"host must be an address such as '127.0.0.1', got {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ArgumentTypeError(f"port must be a number from 0 to 65535 (0: any free port), got {port!r}")
    try:
        server = Server(store, host, port)
    except OSError as exc:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            message = f"port {port} on {host} is in use by another program: choose another port, or 0 for a free one"
        elif exc.errno == errno.EACCES:
            message = f"not allowed to listen on {where} (ports below 1024 need privileges): choose a port above 1023"
        else:
            message = f"cannot listen on {where}: {exc.strerror or exc}"
        raise EndpointError(message) from exc
    return Endpoint(store, server, host)
