"""The `shardline` command line: sample events, validation, conversion and local invoke.

Needs the `cli` extra (`pip install "shardline[cli]"`). Every command writes its data to stdout and
its messages to stderr. One rule for the exit status, whatever the command:

* 0: success;
* 1: the work failed or its input is bad: problems found, a handler that failed, a file named on the command
  line that is missing, unreadable, too large or malformed (the command line was right; the world was not);
* 2: the command line itself is wrong: an unknown option, a missing argument, an option value out of its
  range or of the wrong form, options that cannot go together;
* 130: interrupted (Ctrl-C).

Errors are one `Error: ...` line on stderr; tracebacks only with `--debug` or `SHARDLINE_DEBUG=1`.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the `shardline` entry point) and exit with its status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("SHARDLINE_DEBUG", "") not in ("", "0") or "--debug" in args
    try:
        import click
    except ImportError:  # pragma: no cover - the extra is missing
        print('Error: the shardline command needs its extra: pip install "shardline[cli]"', file=sys.stderr)
        sys.exit(1)
    from shardline._exceptions import ShardlineError, describe_exception

    from ._app import app
    from ._io import printable

    try:
        status = app.main(args=args, prog_name="shardline", standalone_mode=False)
    except click.exceptions.Exit as exc:
        status = exc.exit_code
    except click.ClickException as exc:  # usage errors: exit 2, with the usage line
        exc.show()
        status = exc.exit_code
    except click.Abort as exc:
        # click turns Ctrl-C into Abort when it does not exit by itself: report it as the interrupt it was.
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            print("Interrupted.", file=sys.stderr)
            status = 130
        else:
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
    except ShardlineError as exc:  # CLIError and every error shardline raises on purpose: its message says it all
        if debug:
            traceback.print_exc()
        print(f"Error: {printable(str(exc))}", file=sys.stderr)
        status = 1
    except Exception as exc:  # noqa: BLE001 - one line for the user; the traceback with --debug
        if debug:
            traceback.print_exc()
        print(f"Error: {printable(describe_exception(exc))}", file=sys.stderr)
        if not debug:
            print("(run with --debug or SHARDLINE_DEBUG=1 for the traceback)", file=sys.stderr)
        status = 1
    sys.exit(status if isinstance(status, int) else 0)
