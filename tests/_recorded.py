"""Facts observed on AWS, kept as data in tests/fixtures/aws-recorded/, each with where it came from.

A fixture is one scenario: the mapping's settings, what was written and returned, and the outcome AWS showed.
Its ``source`` says where a reader can check it:

* ``{"kind": "snapshot", "repository", "path", "commit", "test", "recorded"}``: a snapshot file recorded against
  real AWS in a public repository (LocalStack's AWS-validated tests), the test that recorded it and when;
* ``{"kind": "aws-docs", "url", "says"}``: a page of the AWS documentation and what it says, in our words;
* ``{"kind": "unverified", "why"}``: no public source was found; the outcome is shardline's own reasoning.

A fixture with several ``cases`` gives each case its own ``source``. Tests read their expected values from here,
so changing a fixture changes the tests.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).parent / "fixtures" / "aws-recorded"
AWS_DOCS = "https://docs.aws.amazon.com/"
KINDS = ("snapshot", "aws-docs", "unverified")


def names() -> list[str]:
    """Every fixture's name (its file name without .json), sorted."""
    return sorted(path.stem for path in RECORDED.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    """The fixture ``name``."""
    fixture: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    return fixture


def case(fixture: dict[str, Any], case_id: str) -> dict[str, Any]:
    """The case ``case_id`` of a fixture with cases."""
    (found,) = [item for item in fixture["cases"] if item["id"] == case_id]
    return found  # type: ignore[no-any-return]


def case_ids(name: str) -> list[str]:
    """The ids of the cases of fixture ``name``, in order (for ``pytest.mark.parametrize``)."""
    return [item["id"] for item in load(name)["cases"]]


def sources(fixture: dict[str, Any]) -> list[dict[str, Any]]:
    """The sources a fixture claims: its own, or one per case."""
    if "cases" in fixture:
        return [item.get("source") for item in fixture["cases"]]
    return [fixture.get("source")]


def _text(source: dict[str, Any], key: str) -> bool:
    value = source.get(key)
    return isinstance(value, str) and value.strip() != ""


def source_problems(source: Any) -> list[str]:
    """What a source lacks for a reader to check it; empty when it is complete."""
    if not isinstance(source, dict):
        return ["no source"]
    kind = source.get("kind")
    if kind not in KINDS:
        return [f"kind must be one of {', '.join(KINDS)}, got {kind!r}"]
    problems = []
    if kind == "snapshot":
        needed = ("repository", "path", "commit", "test", "recorded")
        problems.extend(f"a snapshot source needs {key!r}" for key in needed if not _text(source, key))
        if _text(source, "repository") and not re.fullmatch(r"[\w.-]+/[\w.-]+", source["repository"]):
            problems.append(f"repository must be owner/name, got {source['repository']!r}")
        if _text(source, "commit") and not re.fullmatch(r"[0-9a-f]{40}", source["commit"]):
            problems.append(f"commit must be 40 hex digits, got {source['commit']!r}")
        if _text(source, "test") and "::" not in source["test"]:
            problems.append(f"test must name the test function (path::name), got {source['test']!r}")
        if _text(source, "recorded"):
            try:
                datetime.fromisoformat(source["recorded"])
            except ValueError:
                problems.append(f"recorded must be an ISO 8601 date, got {source['recorded']!r}")
    elif kind == "aws-docs":
        if not (_text(source, "url") and source["url"].startswith(AWS_DOCS)):
            problems.append(f"an aws-docs source needs a url under {AWS_DOCS}")
        if not _text(source, "says"):
            problems.append("an aws-docs source needs 'says': what the page says, in our words")
    elif not _text(source, "why"):
        problems.append("an unverified source needs 'why': what was looked for and not found")
    return problems
