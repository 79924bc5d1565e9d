"""The command group: global options and the list of commands (one module each)."""

from __future__ import annotations

import click

from shardline import __version__

from .convert import convert
from .demo import demo
from .destination import destination
from .filter import filter_command
from .generate import generate
from .invoke import invoke
from .redrive import redrive
from .run import run
from .serve import serve
from .stream import stream
from .table import table
from .validate import validate

EPILOG = """\b
Examples:
  shardline demo                                  the whole pipeline in a minute, with a poison record
  shardline run                                   your template.yaml's stream mappings, locally
  shardline serve                                 the local tables as a DynamoDB endpoint (port 8000)
  shardline generate > event.json                 SAM's sample DynamoDB stream event
  shardline generate --count 50 --batch-size 20   realistic events for 50 new items
  shardline validate event.json --strict          check an event against AWS's rules
  shardline convert event.json                    typed images to plain JSON
  shardline filter --pattern '{"eventName": ["INSERT"]}' event.json
  shardline invoke app.lambda_handler --event event.json
  shardline table create Orders --key pk:S        a local table whose writes produce a stream
  shardline table put Orders '{"pk": "order#1", "status": "NEW"}'
  shardline stream tail Orders --follow           its stream records as JSON Lines
  shardline destination list                      the local run's on-failure records
  shardline redrive --from-state --handler app.lambda_handler

\b
Exit status, the same for every command:
  0    success
  1    the work failed or its input is bad: problems found, a handler that failed,
       a file named on the command line that is missing, unreadable, too large or malformed
  2    the command line is wrong: an unknown option, a missing argument, an option value
       out of range or of the wrong form, options that cannot go together
  130  interrupted (Ctrl-C)

Errors are one line on stderr. Set SHARDLINE_DEBUG=1 (or pass --debug) to see tracebacks.
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}, epilog=EPILOG)
@click.version_option(__version__, "-V", "--version", prog_name="shardline", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def app(debug: bool) -> None:
    """Tools for AWS Lambda functions that consume DynamoDB Streams."""


app.add_command(generate)
app.add_command(validate)
app.add_command(convert)
app.add_command(filter_command, name="filter")
app.add_command(invoke)
app.add_command(table)
app.add_command(stream)
app.add_command(run)
app.add_command(serve)
app.add_command(demo)
app.add_command(destination)
app.add_command(redrive)
