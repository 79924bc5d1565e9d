"""`shardline serve`: the local tables as a DynamoDB endpoint, for apps, the AWS CLI and tests.

Also what `shardline run` uses to serve the endpoint beside its mappings: the `--host`/`--port` options,
starting the server with one-line errors, and the lines that say how to reach it.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO, TypeVar
from urllib.parse import urlsplit

import click

from shardline._exceptions import ShardlineError

from ._io import CLIError
from ._local import open_store, state_option

if TYPE_CHECKING:
    from shardline.local import Store
    from shardline.local.endpoint import Endpoint

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "client_url",
    "endpoint_options",
    "how_to_reach",
    "missing_configuration",
    "serve",
    "serving",
]

#: DynamoDB Local's port: tools and tutorials that expect a local DynamoDB look there first.
DEFAULT_PORT: Final = 8000
DEFAULT_HOST: Final = "127.0.0.1"
F = TypeVar("F", bound=Callable[..., Any])

EPILOG = """\b
Examples:
  shardline serve                                 http://127.0.0.1:8000 over .shardline/state.db
  shardline serve --port 0                        a free port, printed at start
  shardline serve --template template.yaml        create the template's tables first
  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 python app.py       (in another terminal)
  aws dynamodb list-tables --endpoint-url http://127.0.0.1:8000

\b
DynamoDB's API (tables, items, queries, transactions, indexes) and the DynamoDB Streams API on one port,
over the same state database as `shardline table`, `stream` and `run`: every write through it makes the
stream record DynamoDB would, and `shardline run` on the same --state delivers it. Requests are not
authenticated: any access key and signature are accepted (as DynamoDB Local does), and every access key
sees the same tables. It listens on 127.0.0.1 only unless --host says otherwise.

\b
Exit status: 1 when the port is in use or the state cannot be opened; 130 after Ctrl-C, 143 after
SIGTERM (every acknowledged write is in the state file).
"""


def _host(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """`--host`: an address or name; an IPv6 address may come in brackets, as in a URL."""
    host = value.strip()
    if len(host) > 2 and host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise click.BadParameter("expected an address: 127.0.0.1 (this machine only) or 0.0.0.0 (every address)")
    return host


def endpoint_options(function: F) -> F:
    """`--host` and `--port`, shared by `serve` and `run`."""
    port = click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=DEFAULT_PORT,
        show_default=True,
        envvar="SHARDLINE_PORT",
        show_envvar=True,
        help="The endpoint's port; 0 picks a free one (printed at start).",
    )
    host = click.option(
        "--host",
        default=DEFAULT_HOST,
        show_default=True,
        metavar="ADDRESS",
        callback=_host,
        help="The address to listen on. Anything but loopback lets others on the network read and write the tables.",
    )
    return host(port(function))


@click.command(epilog=EPILOG, short_help="Serve the local tables as a DynamoDB endpoint.")
@state_option
@endpoint_options
@click.option("--template", "template_path", metavar="FILE", help="Create this SAM template's tables first.")
@click.option("--parameter-overrides", multiple=True, metavar="KEY=VALUE", help="Template parameters.")
def serve(state: str, host: str, port: int, template_path: str | None, parameter_overrides: tuple[str, ...]) -> int:
    """Serve the local tables as a DynamoDB and DynamoDB Streams endpoint, until Ctrl-C."""
    from .run import StopSignals, parse_overrides

    overrides = parse_overrides(parameter_overrides)
    if parameter_overrides and template_path is None:
        raise click.UsageError("--parameter-overrides needs --template")
    template = _load(template_path, overrides) if template_path is not None else None
    stop = StopSignals()
    with stop:
        try:
            with open_store(state) as store:
                if template is not None:
                    _create_tables(template, store)
                with serving(store, host=host, port=port, off_switch=None) as endpoint:
                    url = client_url(endpoint)
                    tables = len(store.tables())
                    click.echo(
                        f"DynamoDB and DynamoDB Streams at {url} (state {state}, {tables} table"
                        f"{'s' if tables != 1 else ''}); Ctrl-C to stop",
                        err=True,
                    )
                    for line in how_to_reach(url, region=getattr(store, "region", "us-east-1")):
                        click.echo(f"  {line}", err=True)
                    forever = threading.Event()
                    while not stop.requested():
                        forever.wait(3600)  # a stop signal raises KeyboardInterrupt out of the wait
        except KeyboardInterrupt:
            pass
    click.echo(f"stopped by {stop.name}: every acknowledged write is in {state}", err=True)
    return stop.status


def how_to_reach(url: str, *, region: str = "us-east-1", environ: Mapping[str, str] | None = None) -> list[str]:
    """What to tell a developer about the endpoint at `url`: lines that work as printed from a shell with
    `environ` (this process's by default), so the Region and credentials boto3 and the AWS CLI need to sign a
    request are in them when that environment has none (see `missing_configuration`)."""
    missing = missing_configuration(os.environ if environ is None else environ, region=region)
    prefix = "".join(f"{name}={value} " for name, value in missing.items())
    lines = [
        f"apps:    AWS_ENDPOINT_URL_DYNAMODB={url} {prefix}python app.py",
        f'boto3:   boto3.client("dynamodb", endpoint_url="{url}")',
        f"AWS CLI: aws dynamodb list-tables --endpoint-url {url}",
    ]
    if missing:
        what = " or ".join(
            part
            for part, names in (("Region", {"AWS_DEFAULT_REGION"}), ("credentials", {"AWS_ACCESS_KEY_ID"}))
            if names & missing.keys()
        )
        lines.append(
            f"no AWS {what} set here, and boto3 and the AWS CLI need some to sign requests: export {prefix.strip()}"
        )
    lines.append("any access key and region work: requests are not authenticated, and every key sees the same tables")
    return lines


def missing_configuration(environ: Mapping[str, str], *, region: str = "us-east-1") -> dict[str, str]:
    """The variables a boto3 client or AWS CLI command started with `environ` needs to reach the endpoint:
    `AWS_DEFAULT_REGION` when it has no Region, dummy credentials when it finds none (boto3 signs every request,
    and fails without credentials even though the endpoint checks no signature). Empty when it has both."""
    from shardline.local._runner import DUMMY_CREDENTIALS, aws_credentials_configured, aws_region_configured

    missing = {}
    if not aws_region_configured(environ):
        missing["AWS_DEFAULT_REGION"] = region
    if not aws_credentials_configured(environ):
        missing.update(DUMMY_CREDENTIALS)
    return missing


@contextlib.contextmanager
def serving(
    store: Store, *, host: str, port: int, log: TextIO | None = None, off_switch: str | None = "--no-endpoint"
) -> Iterator[Endpoint]:
    """The endpoint over `store` on `host:port` for the block; a port in use or an address that cannot be
    used is a one-line error that says what to do (`off_switch`: the option that turns the endpoint off, if
    the command has one). A host other than loopback gets a warning first.

    A port in use is an error even on the default port: an app told to use port 8000 would otherwise write to
    whatever holds it (DynamoDB Local, say) while the pipeline watches other tables. The endpoint's own failures
    (an InternalServerError answered to a client) are logged with their traceback to `log`, or stderr.
    """
    if not _is_loopback(host):
        click.echo(
            f"warning: --host {host}: other machines that can reach this address can read and write every table"
            " (the endpoint has no authentication); leave --host out to serve 127.0.0.1, this machine only",
            err=True,
        )
    try:
        endpoint = _start(store, host, port)
    except _PortInUse:
        off = f", or run with {off_switch}" if off_switch else ""
        raise CLIError(
            f"cannot serve on {_address(host, port)}: the port is in use (by another shardline serve or run, or by"
            f" DynamoDB Local?); pick another with --port (or SHARDLINE_PORT), 0 for a free one{off}"
        ) from None
    handler = logging.StreamHandler(log if log is not None else sys.stderr)
    handler.setFormatter(logging.Formatter("endpoint: %(message)s"))
    logger = logging.getLogger("shardline.local.endpoint")
    logger.addHandler(handler)
    try:
        yield endpoint
    finally:
        endpoint.close()
        logger.removeHandler(handler)


class _PortInUse(Exception):
    pass


def _start(store: Store, host: str, port: int) -> Endpoint:
    from shardline.local.endpoint import serve as start

    try:
        return start(store, host=host, port=port)
    except (OSError, ShardlineError) as exc:  # the endpoint's EndpointError carries the OSError as its cause
        cause = exc if isinstance(exc, OSError) else exc.__cause__
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            raise _PortInUse from None
        message = (
            f"cannot serve on {_address(host, port)}: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
        )
        raise CLIError(message + _advice(cause, host)) from None


def _advice(cause: BaseException | None, host: str) -> str:
    """How to fix an address the system refused."""
    choices = "use 127.0.0.1 (the default, this machine only), 0.0.0.0 (all of its addresses) or one of its own"
    if isinstance(cause, socket.gaierror):
        return f"; --host {host} is no name this machine can resolve: {choices}"
    if isinstance(cause, OSError) and cause.errno == errno.EADDRNOTAVAIL:
        return f"; --host {host} is not an address of this machine: {choices}"
    return ""


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def client_url(endpoint: Endpoint) -> str:
    """The URL clients on this machine use: an endpoint listening on every address is reached on loopback."""
    url = str(endpoint.url)
    host = urlsplit(url).hostname or ""
    if host in ("0.0.0.0", ""):
        return f"http://127.0.0.1:{endpoint.port}"
    if host == "::":
        return f"http://[::1]:{endpoint.port}"
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _load(template_path: str, overrides: dict[str, str]) -> Any:
    from shardline.local._template import TemplateError, load_template

    try:
        # serve only creates the tables: a mapping on a stream outside the template (read by run --remote) is fine.
        template = load_template(Path(template_path), parameter_overrides=overrides, remote=True)
    except TemplateError as exc:
        raise CLIError(str(exc)) from None
    # Only what concerns the tables: serve runs no functions, so their warnings (and "nothing to run") are noise.
    for warning in template.warnings:
        if any(warning.startswith(f"Resources.{logical}.") for logical in template.tables):
            click.echo(f"warning: {warning}", err=True)
    return template


def _create_tables(template: Any, store: Store) -> None:
    from shardline.local._runner import create_tables

    try:
        create_tables(template, store)
    except ShardlineError as exc:  # a table of the same name and another key; a table the store refuses
        raise CLIError(str(exc)) from None
