"""The ``shardline`` command line: sample events, validation, conversion and local invoke.

Needs the ``cli`` extra (``pip install "shardline[cli]"``). Every command writes its data to stdout and
its messages to stderr, and exits 0 on success, 1 when it found problems or failed, 2 on a usage error.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the ``shardline`` entry point) and exit with its status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("SHARDLINE_DEBUG", "") not in ("", "0") or "--debug" in args
    try:
        import click
    except ImportError:  # pragma: no cover - the extra is missing
        print('Error: the shardline command needs its extra: pip install "shardline[cli]"', file=sys.stderr)
        sys.exit(1)
    from ._app import app
    from ._io import CLIError

    try:
        status = app.main(args=args, prog_name="shardline", standalone_mode=False)
    except click.exceptions.Exit as exc:
        status = exc.exit_code
    except click.ClickException as exc:  # usage errors: exit 2, with the usage line
        exc.show()
        status = exc.exit_code
    except click.Abort:
        print("Aborted.", file=sys.stderr)
        status = 1
    except BrokenPipeError:
        # The reader went away (`shardline generate | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        status = 130
    except CLIError as exc:
        if debug:
            traceback.print_exc()
        print(f"Error: {exc}", file=sys.stderr)
        status = 1
    except Exception as exc:  # noqa: BLE001 - one line for the user; the traceback with --debug
        if debug:
            traceback.print_exc()
        print(f"Error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if not debug:
            print("(run with --debug or SHARDLINE_DEBUG=1 for the traceback)", file=sys.stderr)
        status = 1
    sys.exit(status if isinstance(status, int) else 0)
