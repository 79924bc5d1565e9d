"""The runner of the docs' code blocks (the repository's root conftest.py) reads pages as the site shows them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_runner", ROOT / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


runner = _runner()

PAGE = """\
# A page

```python title="app.py"
print("a file")
```

<!-- skip: deploys to AWS -->
```console
$ sam deploy
```

Text between blocks.

=== "Tab"

    ```python
    x = 1
    ```

<!-- exit: 2 -->

```yaml
not: run
```

```console
$ shardline --help
```
"""


def test_blocks_carry_their_language_title_line_and_directive() -> None:
    blocks = list(runner.blocks_of(PAGE))
    assert [(b.language, b.title, b.line, b.skip, b.exit_status) for b in blocks] == [
        ("python", "app.py", 4, None, 0),
        ("console", None, 9, "deploys to AWS", 0),
        ("python", None, 17, None, 0),  # the tab's indentation is removed
        ("yaml", None, 23, None, 2),  # a blank line between a directive and its block is allowed
        ("console", None, 27, None, 0),  # a directive applies to the next block only
    ]
    assert blocks[2].text == "x = 1\n"
    assert [b.runs for b in blocks] == [True, True, True, False, True]


def test_a_skip_without_a_reason_and_an_unclosed_block_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^line 2: <!-- skip: --> needs a reason$"):
        list(runner.blocks_of("<!-- skip: -->\n```bash\nls\n```\n"))
    with pytest.raises(ValueError, match=r"^line 1: a code block is never closed$"):
        list(runner.blocks_of("```python\nx = 1\n"))


def test_a_longer_fence_holds_a_shorter_one() -> None:
    (block,) = runner.blocks_of("````markdown\n```python\nx\n```\n````\n")
    assert block.text == "```python\nx\n```\n"


def test_commands_take_the_lines_after_them_as_output_and_continue_lines() -> None:
    text = "$ echo a \\\n>   b\na b\n$ true\n$ printf 'x\\ny'\nx\ny\n"
    assert runner.commands_of(text) == [("echo a \\\n  b", "a b"), ("true", ""), ("printf 'x\\ny'", "x\ny")]
    with pytest.raises(ValueError, match="console output before any command"):
        runner.commands_of("output\n$ true\n")


@pytest.mark.parametrize(
    ("shown", "printed", "matches"),
    [
        ("a\nb", "a\nb\n", True),
        ("a  \nb", "a\nb   \n\n", True),  # trailing spaces and blank lines do not count
        ("a\n...\nd", "a\nb\nc\nd\n", True),
        ("a\n...\nd", "a\nd\n", True),  # ... may stand for no line
        ("took ... ms", "took 12.5 ms\n", True),
        ("took ... ms", "took 12.5 s\n", False),
        ("a\nb", "a\nb\nc\n", False),  # nothing unshown may follow
        ("a\nb", "b\n", False),
        ("x.y", "xzy\n", False),  # the shown text is literal, not a pattern
    ],
)
def test_shown_output_is_compared_with_wildcards(shown: str, printed: str, matches: bool) -> None:
    assert runner.output_matches(shown, printed) is matches


def test_a_snippet_block_is_the_file_it_names() -> None:
    assert runner.expand_snippets('--8<-- "LICENSE"\n') == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert runner.expand_snippets("x = 1\n") == "x = 1\n"
