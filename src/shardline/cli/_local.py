"""What the `table` and `stream` commands share: the state database option, opening it, reading items."""

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
# shardline's own directory, like .git: made when a command first writes state there. An explicit --state in a
# directory that does not exist is most likely a typo, so it is reported instead of made.
DEFAULT_DIRECTORY = ".shardline"
F = TypeVar("F", bound=Callable[..., Any])


def state_option(function: F) -> F:
    """The `--state PATH` option every command of the local store takes."""
    option = click.option(
        "--state",
        "state",
        default=DEFAULT_STATE,
        show_default=True,
        envvar="SHARDLINE_STATE",
        metavar="PATH",
        help="The state database (env SHARDLINE_STATE). `table create`, `run` and `serve` create it, and the default "
        ".shardline/ directory; other commands need it to exist.",
    )
    return option(function)


@contextmanager
def open_store(path: str, *, create: bool = True) -> Iterator[Store]:
    """The store at `path`; store errors become one-line CLI errors.

    `create=True` (commands that make tables) creates a missing state file, and its directory when that is
    the default `.shardline/`; a missing directory of an explicit path is an error. `create=False`
    (commands that read, or write to a table that must exist) refuses a missing state file and creates
    nothing at all.
    """
    from shardline.local import Store

    target = Path(path).expanduser()
    exists = _exists(target, path)
    if not exists and not create:
        again = "" if _is_default(path) else f" --state {path}"
        raise CLIError(
            f"no state at {path}: nothing has been written yet; create a table first (shardline table create "
            f"NAME --key NAME:TYPE{again}), or give --state the path of an existing state file"
        )
    if not exists:
        directory = target.parent
        if not _exists(directory, path):
            if not _is_default(path):
                raise CLIError(
                    f"--state {path}: the directory {directory} does not exist; create it first (only the default "
                    f"{DEFAULT_DIRECTORY}/ is created for you)"
                )
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CLIError(
                    f"--state {path}: cannot create the directory {directory} ({exc.strerror or exc})"
                ) from None
    try:
        with Store(target, create=create) as store:
            yield store
    except CLIError:
        raise
    except ShardlineError as exc:
        raise CLIError(str(exc)) from None


def _exists(target: Path, path: str) -> bool:
    try:
        return target.exists()
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        raise CLIError(f"--state {path}: not a usable path ({exc})") from None


def _is_default(path: str) -> bool:
    return Path(path) == Path(DEFAULT_STATE)


def table_of(store: Store, name: str) -> Table:
    """The table called `name`, or an error naming the tables there are and how to create one."""
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

    `text` of `-` reads standard input. DynamoDB's typed JSON given by mistake is refused with a hint.
    """
    label = where or what
    value = parse_json(read_text("-") if text == "-" else text, "-" if text == "-" else label)
    if not isinstance(value, Mapping):
        raise CLIError(f'{label}: expected a JSON object such as {{"pk": "order#1"}}, got {_kind(value)}')
    values = list(value.values())
    if values and all(isinstance(v, Mapping) and len(v) == 1 and next(iter(v)) in TYPE_TAGS for v in values):
        raise CLIError(f'{label}: write {what}s in plain JSON ({{"pk": "order#1"}}), not DynamoDB\'s typed JSON')
    return dict(value)
