"""Every fact in tests/fixtures/aws-recorded/ says where a reader can check it, and some test uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _recorded import RECORDED, load, names, source_problems, sources

TESTS = Path(__file__).parent


def test_there_are_fixtures() -> None:
    assert RECORDED.is_dir()
    assert len(names()) >= 9


@pytest.mark.parametrize("name", names())
def test_each_fixture_has_a_complete_source(name: str) -> None:
    fixture = load(name)
    assert fixture["scenario"] == name
    assert fixture["description"].strip()
    assert ("cases" in fixture) != ("source" in fixture), "a source for the fixture, or one per case"
    if "cases" in fixture:
        ids = [item["id"] for item in fixture["cases"]]
        assert ids
        assert len(ids) == len(set(ids))
        assert all("outcome" in item for item in fixture["cases"])
    else:
        assert "outcome" in fixture
    for source in sources(fixture):
        assert source_problems(source) == [], source
    for extra in fixture.get("also_recorded", []):
        assert extra["kind"] == "snapshot"
        assert source_problems(extra) == [], extra
    for url in fixture.get("docs", []):
        assert url.startswith("https://docs.aws.amazon.com/"), url


@pytest.mark.parametrize("name", names())
def test_each_fixture_is_read_by_a_test(name: str) -> None:
    # A fact nobody checks is not worth keeping: some test loads it by name.
    users = [
        path.name
        for path in TESTS.glob("test_*.py")
        if path.name != Path(__file__).name and f'"{name}"' in path.read_text(encoding="utf-8")
    ]
    assert users, f"no test reads {name}"


SNAPSHOT = {
    "kind": "snapshot",
    "repository": "owner/name",
    "path": "tests/x.snapshot.json",
    "commit": "0" * 40,
    "test": "tests/x.py::test_y",
    "recorded": "2025-11-25T15:53:08+00:00",
}


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (None, "no source"),
        ({"kind": "blog"}, "kind must be one of snapshot, aws-docs, unverified, got 'blog'"),
        ({**SNAPSHOT, "commit": "abc"}, "commit must be 40 hex digits, got 'abc'"),
        ({**SNAPSHOT, "recorded": ""}, "a snapshot source needs 'recorded'"),
        ({**SNAPSHOT, "recorded": "last week"}, "recorded must be an ISO 8601 date, got 'last week'"),
        ({**SNAPSHOT, "repository": "localstack"}, "repository must be owner/name, got 'localstack'"),
        ({**SNAPSHOT, "test": "test_y"}, "test must name the test function (path::name), got 'test_y'"),
        ({k: v for k, v in SNAPSHOT.items() if k != "path"}, "a snapshot source needs 'path'"),
        ({"kind": "aws-docs", "url": "https://example.com/", "says": "x"}, "an aws-docs source needs a url under"),
        ({"kind": "aws-docs", "url": "https://docs.aws.amazon.com/lambda/"}, "an aws-docs source needs 'says'"),
        ({"kind": "unverified", "why": " "}, "an unverified source needs 'why'"),
    ],
)
def test_an_incomplete_source_is_caught(source: Any, problem: str) -> None:
    problems = source_problems(source)
    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_complete_sources_pass() -> None:
    assert source_problems(SNAPSHOT) == []
    assert source_problems({"kind": "aws-docs", "url": "https://docs.aws.amazon.com/lambda/", "says": "x"}) == []
    assert source_problems({"kind": "unverified", "why": "nothing public"}) == []
