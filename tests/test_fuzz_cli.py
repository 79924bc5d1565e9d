"""Fuzzing the command line's inputs in-process (the real ``main``, its streams swapped): whatever a file or
standard input holds, a command ends with exit status 0 or 1, and a failure is one ``Error: ...`` line with
no traceback. Commands: ``generate --changes`` (random bytes, mutated JSON Lines of writes), ``invoke``
(random and mutated events, env-vars files, and handlers returning or raising anything).
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FUZZ, load_fixture
from hypothesis import given
from hypothesis import strategies as st

from shardline.cli import main

SAM_EVENT = load_fixture("sam-dynamodb-update.json")
SEQUENCE_NUMBERS = [record["dynamodb"]["SequenceNumber"] for record in SAM_EVENT["Records"]]


def shardline(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """Run the command line in this process: its exit status, stdout and stderr."""
    environment = dict(os.environ)
    path = list(sys.path)
    code: Any = 0
    try:
        with CliRunner().isolation(input=stdin, env={"SHARDLINE_DEBUG": None}) as (out, err, _):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        # invoke sets the function's environment and puts its code folder on sys.path, as Lambda would
        os.environ.clear()
        os.environ.update(environment)
        sys.path[:] = path
    return code, out.getvalue().decode("utf-8", "backslashreplace"), err.getvalue().decode("utf-8", "replace")


def assert_one_error_line(status: int, stdout: str, stderr: str) -> None:
    assert status == 1, (status, stderr)
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in stderr


# -- values -------------------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["\x00", "\ud800", "\u2028", "x" * 3000]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=10,
)
KEY_NAMES = st.sampled_from(["Id", "pk", "sk", "note", ""])
ITEMS = st.dictionaries(KEY_NAMES, JSON_VALUES, max_size=4)
CHANGES = st.one_of(
    st.builds(lambda item: {"put": item}, ITEMS),
    st.builds(lambda key: {"delete": key}, ITEMS),
    st.builds(lambda key: {"ttl_delete": key}, ITEMS),
    st.builds(
        lambda key, assigned, removed: {"update": {"key": key, "set": assigned, "remove": removed}},
        ITEMS,
        st.one_of(ITEMS, JSON_VALUES),
        st.one_of(st.lists(st.one_of(KEY_NAMES, st.integers()), max_size=3), JSON_VALUES),
    ),
    JSON_VALUES,
)
# Text no JSON encoder writes: numbers past Python's digit limit, nesting past the recursion limit, NaN, bad bytes.
ODD_LINES = st.sampled_from(
    [
        '{"put": {"Id": ' + "9" * 5000 + "}}",
        '{"put": {"Id": 1, "n": ' + "[" * 5000 + "]" * 5000 + "}}",
        '{"put": {"Id": 1, "n": ' + "[" * 60 + "]" * 60 + "}}",
        '{"put": {"Id": NaN}}',
        '{"put": {"Id": 1e999999999}}',
        '{"put": {"Id": 1, "s": "\\ud800"}}',
        '{"put": {"Id": 1, "\\u0000": 1}}',
        "\ufeff{}",
    ]
)


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)  # Decimals as text; the shape is what matters


@st.composite
def changes_file(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(CHANGES.map(dumps), ODD_LINES), min_size=0, max_size=6))
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.binary(max_size=8)) + data[position:]
    return data


GENERATE_OPTIONS = st.lists(
    st.sampled_from(
        [
            ("--key", "Id"),
            ("--key", "Id:N"),
            ("--key", "pk:S", "--key", "sk:N"),
            ("--key", "pk", "--key", "sk"),
            ("--view-type", "KEYS_ONLY"),
            ("--view-type", "OLD_IMAGE"),
            ("--batch-size", "2"),
            ("--compact",),
            ("--kinesis",),
            ("--window", "60"),
        ]
    ),
    max_size=3,
    unique=True,
)


def events_of(stdout: str) -> Iterator[dict[str, Any]]:
    """The events generate printed: one JSON document, or one per line (JSON Lines)."""
    try:
        yield json.loads(stdout, parse_float=Decimal)
    except ValueError:
        for line in stdout.splitlines():
            yield json.loads(line, parse_float=Decimal)


@FUZZ
@given(st.one_of(changes_file(), st.binary(max_size=200)), GENERATE_OPTIONS)
def test_fuzz_generate_changes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, options: list[tuple[str, ...]]
) -> None:
    path = tmp_path_factory.getbasetemp() / "changes.jsonl"
    path.write_bytes(data)
    args = [arg for option in options for arg in option]
    status, stdout, stderr = shardline("generate", "--changes", str(path), *args)
    if status == 2:  # options that cannot go together (--window with --kinesis): the command line is wrong
        assert stderr.startswith("Usage: shardline generate")
        assert stderr.splitlines()[-1].startswith("Error: ")
        return
    if status != 0:
        assert_one_error_line(status, stdout, stderr)
        return
    assert "Traceback" not in stderr
    numbers = []
    for event in events_of(stdout):
        assert event["Records"] or "window" in event
        for record in event["Records"]:
            if "kinesis" in record:
                continue
            assert record["eventName"] in ("INSERT", "MODIFY", "REMOVE")
            numbers.append(int(record["dynamodb"]["SequenceNumber"]))
    assert numbers == sorted(numbers)  # the stream's order, across batches and windows
    assert len(set(numbers)) == len(numbers)


# -- invoke -------------------------------------------------------------------------------------------------

HANDLER = """
RESULT = None

def handler(event, context):
    value = RESULT
    if isinstance(value, BaseException):
        raise value
    return value() if callable(value) else value
"""


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("code")
    (folder / "fuzz_invoke_app.py").write_text(textwrap.dedent(HANDLER), encoding="utf-8")
    (folder / "event.json").write_text(json.dumps(SAM_EVENT), encoding="utf-8")
    return folder


def handler_module(code: Path) -> Any:
    sys.path.insert(0, str(code))
    try:
        import fuzz_invoke_app  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(code))
    return fuzz_invoke_app


def mutated_event(value: Any) -> st.SearchStrategy[Any]:
    """The SAM sample event with one value anywhere replaced by any JSON value."""
    places: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        places.append(path)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            walk(child, (*path, key))

    walk(value, ())

    def put(node: Any, path: tuple[Any, ...], new: Any) -> Any:
        if not path:
            return new
        copy = dict(node) if isinstance(node, dict) else list(node)
        copy[path[0]] = put(node[path[0]], path[1:], new)
        return copy

    return st.builds(put, st.just(value), st.sampled_from(places), JSON_VALUES)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        mutated_event(SAM_EVENT).map(lambda event: dumps(event).encode("utf-8", "surrogatepass")),
        ODD_LINES.map(str.encode),
    ),
    st.one_of(
        st.none(), JSON_VALUES.map(dumps), st.builds(lambda section: dumps({"Parameters": section}), JSON_VALUES)
    ),
)
def test_fuzz_invoke_inputs(code: Path, event: bytes, env_vars: str | None) -> None:
    handler_module(code).RESULT = None
    (code / "input.json").write_bytes(event)
    args = ["invoke", "fuzz_invoke_app.handler", "--event", str(code / "input.json"), "--code-dir", str(code)]
    if env_vars is not None:
        (code / "env.json").write_bytes(env_vars.encode("utf-8", "surrogatepass"))
        args += ["--env-vars", str(code / "env.json")]
    status, stdout, stderr = shardline(*args)
    if stderr.startswith("Error: "):
        assert_one_error_line(status, stdout, stderr)
        return
    # The input was read: the handler ran, its response is on stdout, the explanation on stderr.
    assert status in (0, 1)
    assert "Traceback" not in stderr
    assert json.loads(stdout) is None
    assert "invoked fuzz_invoke_app.handler on " in stderr


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def deep_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def cycle() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


ODD_RESULTS = st.one_of(
    JSON_VALUES,
    st.sampled_from(SEQUENCE_NUMBERS).map(lambda number: {"batchItemFailures": [{"itemIdentifier": number}]}),
    st.lists(st.one_of(JSON_VALUES, st.sampled_from(SEQUENCE_NUMBERS)), max_size=3).map(
        lambda ids: {"batchItemFailures": [{"itemIdentifier": identifier} for identifier in ids]}
    ),
    st.builds(lambda value: {"batchItemFailures": value}, JSON_VALUES),
    st.sampled_from(
        [
            {1, 2},
            b"raw bytes\n",
            Decimal("NaN"),
            float("nan"),
            float("inf"),
            10**5000,
            BrokenRepr(),
            object(),
            ValueError("the order table is gone"),
            BrokenStr(),
            SystemExit(3),
            SystemExit("bye"),
            GeneratorExit(),
            KeyboardInterrupt(),
            ValueError("\ud800"),
        ]
    ),
    st.sampled_from([lambda: deep_list(5000), cycle, lambda: {"batchItemFailures": deep_list(3000)}]),
)


@FUZZ
@given(ODD_RESULTS)
def test_fuzz_invoke_handler_results(code: Path, result: Any) -> None:
    handler_module(code).RESULT = result
    status, stdout, stderr = shardline(
        "invoke", "fuzz_invoke_app.handler", "--event", str(code / "event.json"), "--code-dir", str(code)
    )
    assert status in (0, 1)
    # Whatever the handler did is the function's outcome, never shardline's own error.
    assert not any(line.startswith("Error: ") for line in stderr.splitlines()), stderr
    verdict = stderr.rstrip("\n").rsplit("\n", 1)[-1]
    assert verdict.startswith(("complete success: ", "partial failure: ", "complete failure: ")), stderr
    assert (status == 0) == verdict.startswith("complete success: ")
    if isinstance(result, BaseException):
        assert verdict.startswith("complete failure: ")
    if not isinstance(result, bytes):
        json.loads(stdout)  # the response, or the error payload Lambda returns: JSON either way
