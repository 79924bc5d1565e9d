"""What the ``table`` and ``stream`` commands share: the state database option, opening it, reading items."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from shardline._attributes import TYPE_TAGS
from shardline._attributes import _type_name as _kind
from shardline._exceptions import ShardlineError

from ._io import CLIError, parse_json, read_text

if TYPE_CHECKING:
    from shardline.local import Store, Table

__all__ = ["DEFAULT_STATE", "open_store", "parse_object", "state_option", "table_of"]

DEFAULT_STATE = ".shardline/state.db"
F = TypeVar("F", bound=Callable[..., Any])


def state_option(function: F) -> F:
    """The ``--state PATH`` option every command of the local store takes."""
    option = click.option(
        "--state",
        "state",
        default=DEFAULT_STATE,
        show_default=True,
        envvar="SHARDLINE_STATE",
        metavar="PATH",
        help="The state database (created with its directory when missing; env SHARDLINE_STATE).",
    )
    return option(function)


@contextmanager
def open_store(path: str) -> Iterator[Store]:
    """The store at ``path``, its directory created if needed; store errors become one-line CLI errors."""
    from shardline.local import Store

    directory = Path(path).expanduser().parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"--state {path}: cannot create the directory {directory} ({exc.strerror or exc})") from None
    try:
        with Store(Path(path).expanduser()) as store:
            yield store
    except CLIError:
        raise
    except (ShardlineError, ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None


def table_of(store: Store, name: str) -> Table:
    """The table called ``name``, or an error naming the tables there are and how to create one."""
    from shardline.local import ResourceNotFoundError

    try:
        return store.table(name)
    except ResourceNotFoundError:
        names = ", ".join(table.name for table in store.tables()) or "none yet"
        raise CLIError(
            f"no table {name!r} in {store.path} (tables: {names}); create it with "
            f"shardline table create {name} --key NAME:TYPE"
        ) from None


def parse_object(text: str, what: str, *, where: str | None = None) -> dict[str, Any]:
    """A JSON object from the command line or a file line: plain JSON, numbers exact.

    ``text`` of ``-`` reads standard input. DynamoDB's typed JSON given by mistake is refused with a hint.
    """
    label = where or what
    value = parse_json(read_text("-") if text == "-" else text, "-" if text == "-" else label)
    if not isinstance(value, Mapping):
        raise CLIError(f'{label}: expected a JSON object such as {{"pk": "order#1"}}, got {_kind(value)}')
    values = list(value.values())
    if values and all(isinstance(v, Mapping) and len(v) == 1 and next(iter(v)) in TYPE_TAGS for v in values):
        raise CLIError(f'{label}: write {what}s in plain JSON ({{"pk": "order#1"}}), not DynamoDB\'s typed JSON')
    return dict(value)
