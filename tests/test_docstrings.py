"""The API reference is built from the docstrings: every public name has one, written in Markdown.

The reference pages render docstrings with mkdocstrings (Google style, Markdown). A public name without a
docstring is missing from the reference, and reST markup (``:class:`X```) shows there literally.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import shardline

PUBLIC_MODULES = (
    "shardline",
    "shardline.testing",
    "shardline.local",
    "shardline.aws",
    "shardline.local.expressions",
)
SOURCE_ROOT = Path(shardline.__file__).resolve().parent.parent
SPHINX_ROLE = re.compile(r":(func|class|meth|attr|exc|data|mod):`")
INTERNAL_WORD = re.compile(r"\bSPEC\b")


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _public_objects() -> Iterator[tuple[str, object]]:
    for module_name in PUBLIC_MODULES:
        module = _module(module_name)
        for name in module.__all__:
            yield f"{module_name}.{name}", getattr(module, name)


def _own_docstring(cls: type) -> str:
    """The class's own docstring, not one inherited nor the signature a dataclass or NamedTuple makes up."""
    doc = cls.__dict__.get("__doc__") or ""
    if doc.startswith(f"{cls.__name__}("):
        return ""
    return inspect.cleandoc(doc)


def _members(cls: type) -> Iterator[tuple[str, object]]:
    """The public methods and properties a class defines itself (inherited ones are documented where defined)."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (classmethod, staticmethod)):
            yield name, value.__func__
        elif isinstance(value, (property, functools.cached_property)) or inspect.isfunction(value):
            yield name, value


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_path(module_name: str) -> Path:
    module = _module(module_name)
    assert module.__file__ is not None
    return Path(module.__file__)


def _attribute_docstring(module_name: str, name: str) -> str:
    """The docstring under a module-level assignment to ``name``, following ``from .x import name`` re-exports."""
    tree = _tree(_module_path(module_name))
    body = tree.body
    for index, node in enumerate(body):
        if isinstance(node, ast.ImportFrom) and any((alias.asname or alias.name) == name for alias in node.names):
            original = next(alias.name for alias in node.names if (alias.asname or alias.name) == name)
            package = module_name if _module_path(module_name).name == "__init__.py" else module_name.rpartition(".")[0]
            source = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            return _attribute_docstring(source, original)
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            following = body[index + 1] if index + 1 < len(body) else None
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                return following.value.value.strip()
            return ""
    return ""


PUBLIC = sorted(_public_objects())


@pytest.mark.parametrize(("path", "obj"), PUBLIC, ids=[path for path, _ in PUBLIC])
def test_public_name_has_a_docstring(path: str, obj: object) -> None:
    if inspect.isclass(obj):
        assert _own_docstring(obj), f"{path} has no docstring"
    elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
        assert inspect.getdoc(obj), f"{path} has no docstring"
    else:  # a constant: documented by a string right under its assignment
        module_name, _, name = path.rpartition(".")
        assert _attribute_docstring(module_name, name), f"{path} has no docstring under its assignment"


MEMBERS = sorted(
    (f"{path}.{name}", member) for path, obj in PUBLIC if inspect.isclass(obj) for name, member in _members(obj)
)


@pytest.mark.parametrize(("path", "member"), MEMBERS, ids=[path for path, _ in MEMBERS])
def test_public_method_or_property_has_a_docstring(path: str, member: object) -> None:
    assert inspect.getdoc(member), f"{path} has no docstring"


def test_every_public_class_has_members_checked() -> None:
    assert len(MEMBERS) > 100  # the collection above found the classes' members


def _docstrings(path: Path) -> Iterator[tuple[int, str]]:
    """Every docstring of a file: module, class and function docstrings, and those under assignments."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            yield node.lineno, node.value.value


SOURCES = sorted((SOURCE_ROOT / "shardline").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(path.relative_to(SOURCE_ROOT)) for path in SOURCES])
def test_docstrings_are_markdown(path: Path) -> None:
    problems = [
        f"{path.name}:{line}: {found.group()}"
        for line, text in _docstrings(path)
        for found in (SPHINX_ROLE.search(text), INTERNAL_WORD.search(text))
        if found
    ]
    assert not problems, "reST roles (write [`Name`][shardline.Name] or `name`) or internal words:\n" + "\n".join(
        problems
    )
