"""Every code block of the docs (``docs/**/*.md``) and of ``README.md`` runs under pytest.

``pytest docs/handlers.md`` runs one page; plain ``pytest`` runs them all with the suite. The rules, so that a
user who copies a block gets what the page shows:

* A page runs top to bottom in a fresh, empty directory of its own: the working directory of its Python blocks
  and its commands, and first on ``sys.path``. Its ``python`` blocks share one namespace, like a notebook:
  nothing is set up behind the reader's back.
* A block with a title (```` ```python title="app.py" ````, ```` ```yaml title="template.yaml" ````) is a file:
  it is written to that path, not run. A Python file is compiled (a syntax check) and forgotten by the import
  system, so the next ``import app`` or ``--handler app.lambda_handler`` sees what the page shows.
* ``console`` blocks: each ``$ `` line is a command for bash (a trailing backslash continues it); the lines up to
  the next ``$ `` are what it prints, stdout and stderr together. Shown output is compared: trailing spaces do
  not count, a line ``...`` stands for any number of lines and ``...`` within a line for any text. Every command
  must exit 0; ``<!-- exit: N -->`` before the block says its last command exits N.
* ``bash``/``sh``/``shell`` blocks run as one script under ``bash -e``; ``pycon`` blocks are doctests in the
  page's namespace.
* ``<!-- skip: why -->`` before a block shows it without running it (deploys, installs, serves forever).
* A block that is only ``--8<-- "path"`` is that file of the repository, as the site's snippets extension shows.
* Any other block without a title (YAML, JSON, HCL, text) is shown only.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent
COMMAND_TIMEOUT = 120
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<name>skip|exit):\s*(?P<value>.*?)\s*-->\s*$")
_SNIPPET = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')
_SHELLS = frozenset({"bash", "sh", "shell"})


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    language: str
    title: str | None
    text: str
    line: int  # of the first line of content, 1-based
    skip: str | None = None
    exit_status: int = 0

    @property
    def runs(self) -> bool:
        return self.title is not None or self.language in {"python", "py", "console", "pycon", *_SHELLS}


def blocks_of(text: str) -> Iterator[Block]:
    """The fenced code blocks of a Markdown text, with the directive comment that precedes each."""
    lines = text.splitlines()
    index = 0
    directive: tuple[str, str] | None = None
    while index < len(lines):
        line = lines[index]
        match = _FENCE.match(line)
        if match is None:
            found = _DIRECTIVE.match(line)
            if found:
                directive = (found["name"], found["value"])
            elif line.strip():
                directive = None
            index += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"]
        content: list[str] = []
        index += 1
        start = index + 1
        while index < len(lines):
            closing = lines[index]
            if closing.strip().startswith(fence) and not closing.strip().strip(fence[0]):
                break
            content.append(closing[len(indent) :] if closing.startswith(indent) else closing.lstrip())
            index += 1
        else:
            raise ValueError(f"line {start - 1}: a code block is never closed")
        index += 1
        language = info.split(None, 1)[0].lstrip(".").lower() if info else ""
        attributes = dict(_ATTRIBUTE.findall(info))
        skip = exit_status = None
        if directive is not None:
            if directive[0] == "skip":
                skip = directive[1]
                if not skip:
                    raise ValueError(f"line {start - 1}: <!-- skip: --> needs a reason")
            else:
                exit_status = int(directive[1])
        directive = None
        yield Block(language, attributes.get("title"), "\n".join(content) + "\n", start, skip, exit_status or 0)


def expand_snippets(text: str) -> str:
    """A block that is only a snippet line is the file it names, from the repository root."""
    match = _SNIPPET.match(text.strip())
    return (ROOT / match["path"]).read_text(encoding="utf-8") if match else text


def output_matches(expected: str, actual: str) -> bool:
    """Whether the output a page shows is the output a command printed (``...`` is a wildcard)."""
    pattern = []
    for line in _lines(expected):
        if line.strip() == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            pattern.append(".*".join(re.escape(part) for part in line.split("...")) + r"\n")
    return re.fullmatch("".join(pattern), "".join(f"{line}\n" for line in _lines(actual))) is not None


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.rstrip().splitlines()]
    return lines if any(lines) else []


def commands_of(text: str) -> list[tuple[str, str]]:
    """The ``$ `` commands of a console block, each with the output shown after it."""
    commands: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and index + 1 < len(lines):
                index += 1
                command += "\n" + lines[index].removeprefix("> ")  # bash joins the lines itself
            commands.append((command, []))
        elif commands:
            commands[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"console output before any command: {line!r}")
        index += 1
    return [(command, "\n".join(output)) for command, output in commands]


@dataclass
class Page:
    """What the blocks of one page share: a directory, a namespace, and whether one already failed."""

    path: Path
    directory: Path = field(init=False)
    namespace: dict[str, Any] = field(default_factory=dict)
    failed: int | None = None
    groups: list[int] = field(default_factory=list)  # of the page's commands, with what they left running
    _saved_cwd: str = ""

    def open(self) -> None:
        # A folder named after the page, as a reader's would be: commands that print it print the same text.
        self.directory = Path(tempfile.mkdtemp(prefix="shardline-docs-")) / self.path.stem
        self.directory.mkdir()
        self.namespace.update({"__name__": "__main__", "__file__": str(self.path)})
        self._saved_cwd = os.getcwd()
        os.chdir(self.directory)
        sys.path.insert(0, str(self.directory))

    def close(self) -> None:
        # A page may start a server in the background and stop it in a later block: if that block never ran,
        # stop it here, with anything else the page's commands left behind.
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        os.chdir(self._saved_cwd)
        if str(self.directory) in sys.path:
            sys.path.remove(str(self.directory))
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(str(self.directory)):
                del sys.modules[name]
        self.namespace.clear()
        shutil.rmtree(self.directory.parent, ignore_errors=True)

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("SHARDLINE_PORT", "PYTEST_"))}
        env.update(
            PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            PYTHONPATH=str(self.directory),
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            NO_COLOR="1",
            COLUMNS="100",
            TERM="dumb",
        )
        return env


class BlockFailed(Exception):
    """A block did not do what its page shows."""


class MarkdownFile(pytest.File):
    """A page of the docs, or the README: one test per block that runs."""

    def collect(self) -> Iterator[pytest.Item]:
        self.page = Page(self.path)
        for block in blocks_of(self.path.read_text(encoding="utf-8")):
            if block.runs:
                name = f"line {block.line}" + (f" {block.title}" if block.title else "")
                yield BlockItem.from_parent(self, name=name, block=block)

    def setup(self) -> None:
        self.page.open()

    def teardown(self) -> None:
        self.page.close()


class BlockItem(pytest.Item):
    def __init__(self, *, block: Block, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block = block

    @property
    def page(self) -> Page:
        assert isinstance(self.parent, MarkdownFile)
        return self.parent.page

    def runtest(self) -> None:
        block, page = self.block, self.page
        if block.skip:
            pytest.skip(f"{self.path.name}:{block.line}: {block.skip}")
        if page.failed is not None:
            pytest.skip(f"an earlier block of this page failed (line {page.failed})")
        try:
            self._run(block, page)
        except BaseException:
            page.failed = block.line
            raise

    def _run(self, block: Block, page: Page) -> None:
        text = expand_snippets(block.text)
        if block.title is not None:
            self._write(block.title, text, page)
        elif block.language in {"python", "py"}:
            # dont_inherit: this file's `from __future__ import annotations` must not reach the reader's code.
            code = compile("\n" * (block.line - 1) + text, str(self.path), "exec", dont_inherit=True)
            exec(code, page.namespace)
        elif block.language == "pycon":
            self._doctest(text, page)
        elif block.language == "console":
            commands = commands_of(text)
            for number, (command, shown) in enumerate(commands, start=1):
                status = block.exit_status if number == len(commands) else 0
                self._command(command, shown, status, page)
        else:
            self._command(text, "", block.exit_status, page, script=True)

    def _write(self, title: str, text: str, page: Page) -> None:
        target = page.directory / title
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if target.suffix == ".py":
            compile(text, str(target), "exec")
            shutil.rmtree(target.parent / "__pycache__", ignore_errors=True)
            module = ".".join(Path(title).with_suffix("").parts)
            for name in [name for name in sys.modules if name == module or name.startswith(module + ".")]:
                del sys.modules[name]
            importlib.invalidate_caches()

    def _doctest(self, text: str, page: Page) -> None:
        test = doctest.DocTestParser().get_doctest(text, page.namespace, self.name, str(self.path), self.block.line)
        test.globs = page.namespace  # the page's namespace itself, not doctest's copy: later blocks see its names
        flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        report = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=flags)
        runner.run(test, out=report.write, clear_globs=False)
        if runner.failures:
            raise BlockFailed(report.getvalue())

    def _command(self, command: str, shown: str, status: int, page: Page, *, script: bool = False) -> None:
        argv = ["bash", "-e", "-c", command] if script else ["bash", "-c", command]
        process = subprocess.Popen(
            argv,
            cwd=page.directory,
            env=page.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, so that close() can stop what it leaves running
        )
        page.groups.append(process.pid)
        try:
            printed, _ = process.communicate(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise BlockFailed(f"$ {command}\ndid not finish in {COMMAND_TIMEOUT} s") from exc
        done = subprocess.CompletedProcess(argv, process.returncode, printed)
        if done.returncode != status:
            raise BlockFailed(f"$ {command}\nexited {done.returncode}, not {status}; it printed:\n{done.stdout}")
        if _lines(shown) and not output_matches(shown, done.stdout):
            raise BlockFailed(f"$ {command}\nprinted:\n{done.stdout}\nthe page shows:\n{shown}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        where = f"{self.path.relative_to(ROOT)}, the block at line {self.block.line}"
        if isinstance(excinfo.value, BlockFailed):
            return f"{where}:\n{excinfo.value}"
        # From the first frame of the page on: pytest's and pluggy's frames tell the reader nothing.
        frames = traceback.extract_tb(excinfo.tb)
        first = next((i for i, frame in enumerate(frames) if frame.filename == str(self.path)), 0)
        lines = traceback.format_list(frames[first:]) + traceback.format_exception_only(excinfo.type, excinfo.value)
        return f"{where}:\n" + "".join(lines)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.block.line - 1, f"{self.path.name}:{self.block.line}"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> MarkdownFile | None:
    if file_path.suffix != ".md":
        return None
    relative = file_path.resolve().relative_to(ROOT) if file_path.resolve().is_relative_to(ROOT) else None
    if relative is None or not (relative == Path("README.md") or relative.parts[0] == "docs"):
        return None
    return MarkdownFile.from_parent(parent, path=file_path)
