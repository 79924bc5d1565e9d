"""Fuzzing the SAM template reader: whatever the file holds, ``load_template`` returns a Template or raises a
TemplateError (a ShardlineError) listing problems with their paths, and it does so in bounded time.

Three sources of input: the realistic templates of tests/fixtures/templates with their text mutated (bytes cut,
repeated, or replaced by YAML and JSON syntax, tags, aliases, huge numbers, control characters); the same templates
with one value anywhere replaced by a value of another shape (the odd-shapes generaliser: sections that are not
mappings, handlers that are numbers, intrinsic functions with wrong arguments, lone surrogates, NUL characters);
and random documents built from CloudFormation's vocabulary.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline import ShardlineError
from shardline.local import Store
from shardline.local._runner import create_tables
from shardline.local._settings import MappingSettings
from shardline.local._template import _MAX_PROBLEMS, Template, TemplateError, load_template

TEMPLATES = Path(__file__).parent / "fixtures" / "templates"
FIXTURES = sorted(path for path in TEMPLATES.glob("*/template.*"))
TEXTS = {path.parent.name: path.read_text(encoding="utf-8") for path in FIXTURES}
SUFFIX = {path.parent.name: path.suffix for path in FIXTURES}

# Loading any one template takes milliseconds; a generous bound that still catches work that grows without limit.
SECONDS = 15.0


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of every fixture project (their code folders too), whose template each example overwrites."""
    base = tmp_path_factory.mktemp("projects")
    copies = {}
    for path in FIXTURES:
        copy = base / path.parent.name
        shutil.copytree(path.parent, copy)
        copies[path.parent.name] = copy / path.name
    return copies


def check(path: Path) -> Template | None:
    """Load the template: a Template, or None after a TemplateError whose problems are well formed."""
    started = time.perf_counter()
    template: Template | None = None
    problems: list[str] = []
    try:
        template = load_template(path)
    except TemplateError as exc:
        problems = exc.problems
        str(exc).encode("utf-8", "backslashreplace")  # printable
    except ShardlineError:
        pass  # another shardline error from a layer below (FilterCriteria, the settings)
    if template is None and problems:
        assert len(problems) <= _MAX_PROBLEMS + 2  # listed, then one line counting the rest
        for problem in problems:
            assert isinstance(problem, str)
            assert len(problem) < 2000, "a problem names a value, it never dumps one"
    assert time.perf_counter() - started < SECONDS
    if template is not None:
        # What a Template promises the runner: mappings between its own functions and tables, settings AWS takes.
        for mapping in template.mappings:
            assert mapping.function in template.functions
            assert mapping.table in template.tables
            MappingSettings(**mapping.settings)
        for function in template.functions.values():
            assert function.code_dir.is_dir()
            assert all(isinstance(value, str) for value in function.environment.values())
    return template


# -- mutated text -------------------------------------------------------------------------------------------

PIECES = [
    "!Ref ", "!Sub ", "!GetAtt ", "!Join ", "!Select ", "!Split ", "!FindInMap ", "!If ", "!ImportValue ",
    "&anchor ", "*anchor", "<<: {a: 1}\n", "!!binary aGk=", "!!set {a}", "!!omap [a: 1]", "!!python/name:os.system",
    "9" * 5000, "0x" + "f" * 300, "1:" * 200 + "1", ".inf", ".nan", "-.inf", "1e400", "null", "~", "true",
    "{", "}", "[", "]", ",", ":", "- ", "\n", "\n  ", "\t", "'", '"', "#", "---\n", "...\n", "%YAML 1.1\n",
    "\x00", "\x85", "\u2028", "\ud800", "\udcff", "\\ud800", "\\u0000", "${", "${AWS::Region}", "${!Literal}",
    "[" * 150, "{a: " * 150, "2010-09-09", "AWS::NoValue", "Fn::GetAtt", "Ref",
]  # fmt: skip


@st.composite
def mutated_text(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[name]
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 80)))
        action = draw(st.sampled_from(["insert", "replace", "delete", "repeat"]))
        piece = draw(st.one_of(st.sampled_from(PIECES), st.text(max_size=20)))
        if action == "insert":
            text = text[:start] + piece + text[start:]
        elif action == "replace":
            text = text[:start] + piece + text[end:]
        elif action == "delete":
            text = text[:start] + text[end:]
        else:
            text = text[:end] + text[start:end] * draw(st.integers(1, 5)) + text[end:]
    return name, text


@FUZZ
@given(mutated_text())
def test_fuzz_mutated_template_text(projects: dict[str, Path], case: tuple[str, str]) -> None:
    name, text = case
    path = projects[name]
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # lone surrogates become bytes that are not UTF-8
    returns_or_raises_shardline_error(lambda: check(path))


# -- odd shapes ---------------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=False),  # JSON has no NaN; YAML's .nan is in the text mutations
    st.text(max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "python3.12", "app.handler", "LATEST", "TRIM_HORIZON", "S", "HASH",
                     "AWS::Serverless::Function", "AWS::DynamoDB::Table", "DynamoDB", "../..", "/", "", "x" * 5000]),
)  # fmt: skip
INTRINSICS = ["Ref", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::GetAtt", "Fn::If",
              "Fn::ImportValue", "Fn::Base64", "Condition"]  # fmt: skip
KEYS = st.one_of(st.sampled_from(INTRINSICS), st.text(max_size=12))
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(KEYS, children, max_size=4),
        st.builds(lambda name, argument: {name: argument}, st.sampled_from(INTRINSICS), children),
    ),
    max_leaves=12,
)


def locations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a parsed template where a value could be replaced."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(locations(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(locations(item, (*path, index)))
    return found


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = replaced(document[head], tuple(rest), value)
    return copy


def parsed(name: str) -> Any:
    if SUFFIX[name] == ".json":
        return json.loads(TEXTS[name])
    from shardline.local._template import _yaml_loader

    return yaml.load(TEXTS[name], Loader=_yaml_loader())  # the template reader's own safe loader


DOCUMENTS = {name: parsed(name) for name in TEXTS}


@FUZZ
@given(st.sampled_from(sorted(TEXTS)), st.data())
def test_fuzz_odd_shapes_anywhere(projects: dict[str, Path], name: str, data: st.DataObject) -> None:
    document = DOCUMENTS[name]
    for _ in range(data.draw(st.integers(1, 3))):
        place = data.draw(st.sampled_from(locations(document)))
        document = replaced(document, place, data.draw(VALUES))
    path = projects[name].with_name("odd.json")
    # JSON carries every shape, lone surrogates and NUL characters included (as \\u escapes).
    path.write_text(json.dumps(document), encoding="ascii")
    returns_or_raises_shardline_error(lambda: check(path))


# -- random documents ---------------------------------------------------------------------------------------

SECTION = st.sampled_from(["Transform", "Parameters", "Globals", "Resources", "Mappings", "Conditions", "Outputs"])
RESOURCE = st.fixed_dictionaries(
    {
        "Type": st.sampled_from(["AWS::Serverless::Function", "AWS::DynamoDB::Table", "AWS::Lambda::EventSourceMapping",
                                 "AWS::SQS::Queue", "AWS::Serverless::SimpleTable", "AWS::S3::Bucket"]),
        "Properties": st.dictionaries(
            st.sampled_from(["Handler", "Runtime", "CodeUri", "Events", "TableName", "KeySchema", "Timeout",
                             "AttributeDefinitions", "StreamSpecification", "Environment", "MemorySize",
                             "EventSourceArn", "FunctionName", "StartingPosition", "BatchSize",
                             "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode",
                             "ProvisionedThroughput", "Tags", "TableClass", "DeletionProtectionEnabled"]),
            VALUES,
            max_size=6,
        ),
    }
)  # fmt: skip


@FUZZ
@given(
    st.dictionaries(SECTION, VALUES, max_size=4),
    st.dictionaries(st.text(min_size=1, max_size=8), RESOURCE, max_size=4),
    st.booleans(),
)
def test_fuzz_random_documents(
    projects: dict[str, Path], sections: dict[str, Any], resources: dict[str, Any], as_yaml: bool
) -> None:
    document = {**sections, "Resources": resources}
    path = projects["orders"].with_name("random.yaml" if as_yaml else "random.json")
    if as_yaml:
        try:
            text = yaml.safe_dump(document, allow_unicode=False)
        except yaml.YAMLError:  # a value PyYAML itself cannot write (a lone surrogate): the JSON case covers it
            return
        path.write_text(text, encoding="utf-8")
    else:
        path.write_text(json.dumps(document), encoding="ascii")
    returns_or_raises_shardline_error(lambda: check(path))


# -- a table's indexes, billing and settings (what the endpoint describes) -----------------------------------

KEY_NAMES = st.sampled_from(["pk", "sk", "status", "placed", ""])
KEY_ELEMENT = st.fixed_dictionaries({"AttributeName": KEY_NAMES, "KeyType": st.sampled_from(["HASH", "RANGE", "X"])})


def keys(*names: str) -> list[dict[str, str]]:
    return [{"AttributeName": name, "KeyType": kind} for name, kind in zip(names, ("HASH", "RANGE"), strict=False)]


def mostly(valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Well formed nine times in ten (so that indexes are often accepted, and created), anything otherwise."""
    return st.one_of(*[valid] * 9, odd)


KEY_SCHEMAS = mostly(
    st.sampled_from([keys("status"), keys("status", "placed"), keys("pk", "placed"), keys("placed")]),
    st.one_of(st.lists(KEY_ELEMENT, max_size=3), VALUES),
)
PROJECTIONS = mostly(
    st.sampled_from(
        [
            {"ProjectionType": "ALL"},
            {"ProjectionType": "KEYS_ONLY"},
            {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]},
        ]
    ),
    st.one_of(
        st.fixed_dictionaries(
            {"ProjectionType": st.sampled_from(["ALL", "INCLUDE", "NONE"])},
            optional={"NonKeyAttributes": st.one_of(st.lists(st.sampled_from(["a", "b", ""]), max_size=3), VALUES)},
        ),
        VALUES,
    ),
)
INDEX = mostly(
    st.fixed_dictionaries(
        {
            "IndexName": mostly(st.sampled_from(["by-status", "latest", "by-placed", "by-pk"]), VALUES),
            "KeySchema": KEY_SCHEMAS,
            "Projection": PROJECTIONS,
        },
        optional={
            "ProvisionedThroughput": st.one_of(
                st.fixed_dictionaries(
                    {"ReadCapacityUnits": st.integers(-1, 5), "WriteCapacityUnits": st.integers(0, 5)}
                ),
                VALUES,
            )
        },
    ),
    VALUES,
)


VALID_INDEX = st.fixed_dictionaries(
    {
        "IndexName": st.sampled_from(["by-status", "latest", "by-placed", "by-pk"]),
        "KeySchema": st.sampled_from([keys("status"), keys("status", "placed"), keys("pk", "placed"), keys("placed")]),
        "Projection": st.sampled_from(
            [
                {"ProjectionType": "ALL"},
                {"ProjectionType": "KEYS_ONLY"},
                {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
            ]
        ),
    }
)
SETTINGS = st.dictionaries(
    st.sampled_from(["BillingMode", "ProvisionedThroughput", "Tags", "TableClass", "DeletionProtectionEnabled"]),
    st.one_of(VALUES, st.sampled_from(["PAY_PER_REQUEST", "PROVISIONED", "STANDARD"])),
    max_size=3,
)


def indexed_table(projects: dict[str, Path], global_indexes: Any, local_indexes: Any, settings: Any) -> Path:
    named = {
        element.get("AttributeName")
        for index in (*global_indexes, *local_indexes)
        if isinstance(index, dict) and isinstance(index.get("KeySchema"), list)
        for element in index["KeySchema"]
        if isinstance(element, dict)
    }
    table = {
        "TableName": "orders",
        "AttributeDefinitions": [  # the key attributes, and those the indexes name (DynamoDB refuses others)
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in (("pk", "S"), ("sk", "N"), ("status", "S"), ("placed", "N"))
            if name in ("pk", "sk") or name in named
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": global_indexes,
        "LocalSecondaryIndexes": local_indexes,
        **settings,
    }
    path = projects["orders"].with_name("indexes.json")
    document = {"Resources": {"Orders": {"Type": "AWS::DynamoDB::Table", "Properties": table}}}
    path.write_text(json.dumps(document), encoding="ascii")
    return path


@FUZZ
@given(st.lists(INDEX, max_size=2), st.lists(INDEX, max_size=2), SETTINGS)
def test_fuzz_table_indexes_and_settings(
    projects: dict[str, Path], global_indexes: list[Any], local_indexes: list[Any], settings: dict[str, Any]
) -> None:
    path = indexed_table(projects, global_indexes, local_indexes, settings)
    returns_or_raises_shardline_error(lambda: check(path))


@FUZZ
@given(st.lists(VALID_INDEX, max_size=3), st.lists(VALID_INDEX, max_size=2), SETTINGS)
def test_fuzz_the_store_takes_the_tables_the_reader_accepts(
    projects: dict[str, Path], global_indexes: list[Any], local_indexes: list[Any], settings: dict[str, Any]
) -> None:
    template = check(indexed_table(projects, global_indexes, local_indexes, settings))
    if template is None:
        return
    (spec,) = template.tables.values()
    with Store(":memory:") as store:
        create_tables(template, store)  # as `run` and `serve --template` do: never refused by the store
        created = store.table("orders")
        assert (created.global_indexes, created.local_indexes) == (spec.global_indexes, spec.local_indexes)
        assert created.extra == spec.extra
