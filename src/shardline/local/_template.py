"""Reading a SAM template: its tables, its Python functions and the DynamoDB stream mappings between them.

`shardline run --template template.yaml` runs a SAM application's stream consumers on a laptop; this module
is the reading half. [`load_template`][shardline.local.load_template] turns the template into plain specs:

* `AWS::DynamoDB::Table` (and SAM's `AWS::Serverless::SimpleTable`) -> [`TableSpec`][shardline.local.TableSpec];
* `AWS::Serverless::Function`, with `Globals.Function` merged in the way SAM merges it ->
[`FunctionSpec`][shardline.local.FunctionSpec];
* each function's `Events` of `Type: DynamoDB` and each `AWS::Lambda::EventSourceMapping` on a table's
  stream -> [`MappingSpec`][shardline.local.MappingSpec], its settings already checked against AWS's ranges
  (`MappingSettings`).

Intrinsic functions are resolved the way CloudFormation resolves them: `Ref`, `Fn::GetAtt`, `Fn::Sub`,
`Fn::Join`, `Fn::Select`, `Fn::Split` and `Fn::FindInMap`, in their short (`!Ref`) and long
(`{"Ref": ...}`) forms, over parameters (their Default or an override) and the pseudo parameters. Names that
CloudFormation would generate are `<stack>-<LogicalId>` without the random suffix, the stack being named after
the template's folder, so a run gives the same names every time.

Nothing is dropped in silence. What would change how a mapping runs and cannot be honoured locally (a mapped
function that is not Python or is an image, a stream of a table the template does not define, a condition, a
setting out of AWS's range) is a *problem*: every problem is collected, then one
[`TemplateError`][shardline.local.TemplateError] lists them all with their paths. What merely does not run locally (an
Api event, Layers, a Node.js function that no stream event invokes) is a *warning* in `Template.warnings`.

Whatever the file holds, loading it ends soon, with a Template or a TemplateError: the file is read up to
`MAX_TEMPLATE_BYTES`; YAML is read as CloudFormation reads it (no aliases, no hash merges, no binary, set,
omap or pairs tags: "CloudFormation template format"), so a few hundred bytes cannot stand for billions of
values; nesting past `MAX_TEMPLATE_DEPTH` is refused before it is followed; numbers are bounded in length;
resolving intrinsic functions is bounded in steps and in the text it builds; at most 100 problems are listed.

A `!GetAtt Table.StreamArn` in an environment variable resolves to
`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/1970-01-01T00:00:00.000`: the real label is the
stream's creation time, which only the local store knows once it has created the table.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import warnings
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, final

from shardline._exceptions import JSONInputError, ShardlineError, describe_exception
from shardline._json import deeper_than, json_loads
from shardline.local._settings import InvalidParameterValueError, MappingSettings
from shardline.local._store import IndexSpec

__all__ = [
    "FunctionSpec",
    "MappingSpec",
    "TableSpec",
    "Template",
    "TemplateError",
    "find_template",
    "load_template",
]

# The names `sam` looks for in a folder, in its order.
_TEMPLATE_NAMES: Final = ("template.yaml", "template.yml", "template.json")

_SAM_TRANSFORM: Final = "AWS::Serverless-2016-10-31"
_TABLE: Final = "AWS::DynamoDB::Table"
_SIMPLE_TABLE: Final = "AWS::Serverless::SimpleTable"
_FUNCTION: Final = "AWS::Serverless::Function"
_LAMBDA_FUNCTION: Final = "AWS::Lambda::Function"
_MAPPING: Final = "AWS::Lambda::EventSourceMapping"
_QUEUE: Final = "AWS::SQS::Queue"
_TOPIC: Final = "AWS::SNS::Topic"
_BUCKET: Final = "AWS::S3::Bucket"
_NESTED: Final = ("AWS::Serverless::Application", "AWS::CloudFormation::Stack")

# The property that names each resource type we can reference; without it CloudFormation generates a name.
_NAME_PROPERTY: Final = {
    _TABLE: "TableName",
    _SIMPLE_TABLE: "TableName",
    _FUNCTION: "FunctionName",
    _LAMBDA_FUNCTION: "FunctionName",
    _QUEUE: "QueueName",
    _TOPIC: "TopicName",
    _BUCKET: "BucketName",
}

# A stream ARN ends in a label, the stream's creation time; the local one is fixed so runs are reproducible.
_STREAM_LABEL: Final = "1970-01-01T00:00:00.000"

_STREAM_VIEW_TYPES: Final = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
_ATTRIBUTE_TYPES: Final = ("S", "N", "B")
_SIMPLE_KEY_TYPES: Final = {"String": "S", "Number": "N", "Binary": "B"}
_PYTHON_RUNTIME: Final = re.compile(r"python3\.\d+")
_TABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{3,255}")  # DynamoDB's rule
_DESTINATION_ARN: Final = re.compile(r"arn:[^:]+:(sqs|sns|s3):")
_LAMBDA_ARN: Final = re.compile(r"arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)")
_SUB_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_NUMBER: Final = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")

# Mapping settings: the template's name -> (MappingSettings' keyword, how a parameter's text is read back).
_SETTINGS: Final = {
    "BatchSize": ("batch_size", "int"),
    "MaximumBatchingWindowInSeconds": ("maximum_batching_window_in_seconds", "int"),
    "StartingPosition": ("starting_position", "str"),
    "BisectBatchOnFunctionError": ("bisect_batch_on_function_error", "bool"),
    "MaximumRetryAttempts": ("maximum_retry_attempts", "int"),
    "MaximumRecordAgeInSeconds": ("maximum_record_age_in_seconds", "int"),
    "ParallelizationFactor": ("parallelization_factor", "int"),
    "TumblingWindowInSeconds": ("tumbling_window_in_seconds", "int"),
    "FunctionResponseTypes": ("function_response_types", "list"),
    "FilterCriteria": ("filter_criteria", "filters"),
    "Enabled": ("enabled", "bool"),
}
# A DynamoDB stream's ARN ("Amazon DynamoDB resource types" in the Service Authorization Reference): the
# partition, Region, 12-digit account, table name (3 to 255 of [a-zA-Z0-9_.-]) and the stream's label.
_STREAM_ARN: Final = re.compile(
    r"arn:aws(?:-[a-z]+)*:dynamodb:[a-z0-9-]{1,40}:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}/stream/[^/\s]{1,100}"
)
# Accepted, but nothing local depends on them: reported as warnings.
_NOT_EMULATED: Final = ("KmsKeyArn", "MetricsConfig")
_CONDITION_FUNCTIONS: Final = ("Fn::If", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not")

# Bounds on the work one template can ask for: whatever a template holds, loading it ends soon with a Template
# or a TemplateError.
#: The most of a template file shardline reads. CloudFormation takes at most 1 MB from S3 and 51,200 bytes
#: inline ("CloudFormation quotas"; TemplateURL and TemplateBody in the CloudFormation API reference): twice
#: the larger is generous, and a wrong file (a log, /dev/zero) is refused after reading that much.
MAX_TEMPLATE_BYTES: Final = 2 * 1024 * 1024
#: Mappings and lists nested deeper are refused before they are followed (real templates nest about ten levels).
MAX_TEMPLATE_DEPTH: Final = 100
# Python converts decimal text of at most sys.get_int_max_str_digits() (4300) digits; no template value comes close.
_MAX_NUMBER_TEXT: Final = 4300
# "CloudFormation quotas": a parameter value is at most 4,096 bytes.
_MAX_PARAMETER_VALUE: Final = 4096
# A regular expression this long takes seconds to compile; an AllowedPattern needs a few dozen characters.
_MAX_PATTERN: Final = 4096
# Resolving intrinsic functions is linear in the template for what CloudFormation accepts; these bound what an odd
# template can make it do (Globals repeated into thousands of functions, names made of names made of names).
_MAX_STEPS: Final = 1_000_000  # values visited while resolving
_MAX_TEXT: Final = 16 * 1024 * 1024  # characters built by Fn::Sub, Fn::Join and Fn::Split together
_MAX_NAME_CHAIN: Final = 50  # resources whose names are built from one another's
_MAX_PROBLEMS: Final = 100  # problems listed; the rest are counted


@final
class TemplateError(ShardlineError):
    """A template shardline cannot run. `problems` lists every reason, each starting with where it is
    (`Resources.OrdersFunction.Properties.Runtime: ...`); the message lists them all.

    Examples:
        >>> error = TemplateError(["Resources.Orders.Properties.KeySchema: KeySchema is required"], "template.yaml")
        >>> print(error)
        template.yaml: Resources.Orders.Properties.KeySchema: KeySchema is required
    """

    def __init__(self, problems: Iterable[str], path: str | os.PathLike[str] | None = None) -> None:
        self.problems: list[str] = list(problems)
        self.path: Path | None = None if path is None else Path(path)
        where = "the template" if self.path is None else str(self.path)
        if len(self.problems) == 1:
            message = f"{where}: {self.problems[0]}"
        else:
            message = "\n  ".join([f"{where}: {len(self.problems)} problems:", *self.problems])
        super().__init__(message)

    def __reduce__(self) -> tuple[type[TemplateError], tuple[list[str], Path | None]]:
        return (type(self), (self.problems, self.path))


@final
@dataclass(frozen=True)
class TableSpec:
    """A table the template defines, ready for [`Store.create_table`][shardline.local.Store.create_table].

    `key_schema` maps key attribute names to their types (S, N or B), partition key first.
    `stream_view_type` is None when the table has no StreamSpecification: as on AWS, such a table has no
    stream ("AWS::DynamoDB::Table StreamSpecification" in the CloudFormation template reference).
    `global_indexes` and `local_indexes` are its secondary indexes, in template order; `extra` holds
    what DescribeTable shows and nothing local depends on, as the endpoint keeps it for a table made with
    CreateTable: `attribute_definitions` (name -> type, always), and when the template writes them
    `billing_mode`, `throughput` and `index_throughput` (read and write capacity units, per global
    index by name), `tags`, `table_class` and `deletion_protection`.
    """

    logical_id: str
    table_name: str
    key_schema: dict[str, str]
    stream_view_type: str | None
    ttl_attribute: str | None
    global_indexes: tuple[IndexSpec, ...] = ()
    local_indexes: tuple[IndexSpec, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@final
@dataclass(frozen=True)
class FunctionSpec:
    """A Python function the template defines, Globals merged in and every value resolved.

    `code_dir` is absolute: CodeUri against the template's folder (the folder itself when CodeUri is absent).
    """

    logical_id: str
    function_name: str
    handler: str
    code_dir: Path
    runtime: str
    timeout: float
    memory_size: int
    environment: dict[str, str]


@final
@dataclass(frozen=True)
class MappingSpec:
    """A DynamoDB stream mapping: `<Function>.<EventName>` for a SAM event, the resource's logical id for an
    `AWS::Lambda::EventSourceMapping`.

    `function` and `table` are logical ids; `settings` holds [`MappingSettings`][shardline.local.MappingSettings]
    keywords for the settings the template writes (`{"batch_size": 10, "starting_position": "LATEST"}`), FilterCriteria
    patterns always as JSON text; `on_failure` is the DestinationConfig as written, references resolved.

    A mapping on a stream outside the template (its Stream a stream ARN, written out or a parameter's value;
    read only when the template is loaded with `remote=True`) has `stream_arn` set and `table` empty.
    """

    logical_id: str
    function: str
    table: str
    settings: dict[str, Any]
    on_failure: dict[str, Any] | None
    stream_arn: str | None = None


@final
@dataclass(frozen=True)
class Template:
    """What [`load_template`][shardline.local.load_template] read: tables and functions by logical id, mappings in
    template order, warnings about what does not run locally, and the parameters' values (Default or override)."""

    path: Path
    tables: dict[str, TableSpec]
    functions: dict[str, FunctionSpec]
    mappings: list[MappingSpec]
    warnings: list[str]
    parameters: dict[str, str]


def find_template(folder: str | os.PathLike[str] = ".") -> Path:
    """The template of a SAM project folder: `template.yaml`, `template.yml` or `template.json`, as `sam`
    looks for them. Raises [`TemplateError`][shardline.local.TemplateError] when there is none.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     try:
        ...         find_template(folder)
        ...     except TemplateError as error:
        ...         print(error.problems[0])
        no template.yaml, template.yml or template.json in this folder; pass the template's path with --template
    """
    base = _absolute(folder)
    if not base.is_dir():
        raise TemplateError(["not a folder; pass a SAM project's folder or the template's path"], base)
    for name in _TEMPLATE_NAMES:
        candidate = base / name
        if candidate.is_file():
            return candidate
    raise TemplateError(
        ["no template.yaml, template.yml or template.json in this folder; pass the template's path with --template"],
        base,
    )


def load_template(
    path: str | os.PathLike[str],
    *,
    parameter_overrides: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    remote: bool = False,
) -> Template:
    """Read a SAM (or CloudFormation) template, YAML or JSON, and resolve what a local run needs.

    `parameter_overrides` replace parameters' Defaults, as `sam --parameter-overrides` does; `region` and
    `account_id` feed `AWS::Region`, `AWS::AccountId` and the ARNs built from them. With `remote`, a
    mapping whose Stream is a DynamoDB stream ARN (not a table of the template) is kept, with its
    `MappingSpec.stream_arn`, to be read where it lives; without it such a mapping is a problem. Raises
    [`TemplateError`][shardline.local.TemplateError] listing every problem found.

    Examples:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder, "template.yaml")
        ...     _ = path.write_text('''
        ... Transform: AWS::Serverless-2016-10-31
        ... Resources:
        ...   Orders:
        ...     Type: AWS::DynamoDB::Table
        ...     Properties:
        ...       TableName: orders
        ...       KeySchema: [{AttributeName: pk, KeyType: HASH}]
        ...       AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
        ...       StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
        ...   OnOrder:
        ...     Type: AWS::Serverless::Function
        ...     Properties:
        ...       Handler: app.handler
        ...       Runtime: python3.12
        ...       Environment: {Variables: {TABLE: !Ref Orders}}
        ...       Events:
        ...         Changes:
        ...           Type: DynamoDB
        ...           Properties: {Stream: !GetAtt Orders.StreamArn, StartingPosition: LATEST, BatchSize: 10}
        ... ''')
        ...     template = load_template(path)
        >>> template.functions["OnOrder"].environment
        {'TABLE': 'orders'}
        >>> template.mappings[0].logical_id, template.mappings[0].settings
        ('OnOrder.Changes', {'starting_position': 'LATEST', 'batch_size': 10})
    """
    file = _absolute(path)
    document = _parse(file)
    overrides = {str(name): str(value) for name, value in (parameter_overrides or {}).items()}
    reader = _Reader(file, document, overrides=overrides, region=region, account_id=account_id, remote=remote)
    return reader.read()


# --------------------------------------------------------------------------------------------------
# Parsing


def _absolute(path: str | os.PathLike[str]) -> Path:
    """`path` made absolute, symbolic links resolved when the file system can say where they lead."""
    try:
        return Path(path).resolve()
    except (OSError, ValueError, RuntimeError):  # a NUL character, a lone surrogate, a symbolic link loop
        return Path(path).absolute()  # reading it then reports the problem with the path as given


def _parse(file: Path) -> dict[str, Any]:
    data = _read(file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError([f"not UTF-8 text ({exc.reason} at byte {exc.start})"], file) from None
    document = _parse_json(text, file) if file.suffix.lower() == ".json" else _parse_yaml(text, file)
    if not isinstance(document, dict):
        raise TemplateError(["a template is a mapping of sections (Parameters, Globals, Resources...)"], file)
    if deeper_than(document, MAX_TEMPLATE_DEPTH):
        raise TemplateError([_TOO_DEEP], file)
    return document


def _read(file: Path) -> bytes:
    """The template's bytes: at most MAX_TEMPLATE_BYTES of them, read without reading a larger file to its end."""
    try:
        with open(file, "rb") as stream:
            data = stream.read(MAX_TEMPLATE_BYTES + 1)
    except FileNotFoundError:
        raise TemplateError(["no such file; pass the path of the SAM template (template.yaml)"], file) from None
    except IsADirectoryError:
        raise TemplateError(["is a folder; pass the template's path, e.g. template.yaml in it"], file) from None
    except OSError as exc:
        raise TemplateError([f"cannot be read: {exc.strerror or exc}"], file) from None
    except ValueError:  # a NUL character, or a lone surrogate the file system cannot encode
        raise TemplateError(["is not a path this system can open (it holds a NUL or a character that is not UTF-8)"],
                            file) from None  # fmt: skip
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError(
            [
                f"larger than {MAX_TEMPLATE_BYTES // (1024 * 1024)} MB, the most shardline reads; CloudFormation itself"
                " takes at most 1 MB (a template in S3) or 51,200 bytes (a template sent inline)"
            ],
            file,
        )
    return data


def _parse_json(text: str, file: Path) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in items:
            if key in found:
                raise _DuplicateKeyError(key)
            found[key] = value
        return found

    try:
        return json_loads(text, object_pairs_hook=pairs)
    except JSONInputError as exc:
        where = f"line {exc.line}, column {exc.column}: " if exc.line else ""
        raise TemplateError([f"{where}{exc.reason}"], file) from None
    except _DuplicateKeyError as exc:
        # CloudFormation refuses templates with a key written twice rather than keeping one of them.
        raise TemplateError([f"the key {_shown(exc.key)} is written twice in one object; keep one"], file) from None


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _parse_yaml(text: str, file: Path) -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with the cli extra
        raise TemplateError(["reading YAML templates needs PyYAML: pip install 'shardline[cli]'"], file) from None
    loader = _yaml_loader()
    try:
        _check_events(text, loader)
        return yaml.load(text, Loader=loader)  # a SafeLoader subclass: builds no Python objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        raise TemplateError([f"{where}{detail}"], file) from None
    except yaml.YAMLError as exc:  # a character YAML does not allow in a document (a NUL, a control character)
        raise TemplateError([f"not valid YAML: {exc}"], file) from None
    except RecursionError:  # the composer's depth bound stops this first; called from deep in a stack, not always
        raise TemplateError([_TOO_DEEP], file) from None


_TOO_DEEP: Final = (
    f"values are nested more than {MAX_TEMPLATE_DEPTH} levels deep, more than shardline reads; no SAM template"
    " needs that many"
)


@functools.cache
def _yaml_loader() -> type[Any]:
    """A SafeLoader that reads CloudFormation's short tags as their long forms (`!Ref X` -> `{"Ref": "X"}`),
    keeps dates as text, reads every mapping key as text and refuses keys written twice, as CloudFormation does.

    It refuses what CloudFormation refuses ("CloudFormation template format", YAML: CloudFormation supports YAML
    1.1 except the binary, omap, pairs, set and timestamp tags, aliases and hash merges). Refusing aliases also
    bounds the work: a document of a few hundred bytes whose aliases refer to aliases ("billion laughs")
    would otherwise stand for billions of values. Aliases and nesting are checked first, by `_check_events`.
    """
    import yaml
    from yaml.constructor import ConstructorError, SafeConstructor

    # libyaml's parser when PyYAML has it: the pure-Python one takes seconds per megabyte.
    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc]
        def flatten_mapping(self, node: yaml.MappingNode) -> None:
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise ConstructorError(
                        None,
                        None,
                        "hash merges (<<) are not supported by CloudFormation; write the keys out",
                        key_node.start_mark,
                    )
            super().flatten_mapping(node)

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
            # A template is JSON at heart: every key is text (`1: x` is the key "1", `true: x` the key "true"),
            # and a key written twice is an error, whatever form each is written in.
            self.flatten_mapping(node)
            mapping: dict[Hashable, Any] = {}
            lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, (dict, list)):
                    raise ConstructorError(
                        f"while reading a mapping (from line {node.start_mark.line + 1})",
                        None,
                        f"a key is text, not {_kind(key)}",
                        key_node.start_mark,
                    )
                text = _scalar_text(key)
                if text in lines:
                    raise ConstructorError(
                        f"while reading a mapping (from line {node.start_mark.line + 1})",
                        None,
                        f"the key {_shown(text)} is written twice (first on line {lines[text]}); keep one",
                        key_node.start_mark,
                    )
                lines[text] = key_node.start_mark.line + 1
                mapping[text] = self.construct_object(value_node, deep=deep)
            return mapping

    def intrinsic(loader: Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            assert isinstance(node, yaml.MappingNode)
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", intrinsic)

    # AWSTemplateFormatVersion: 2010-09-09 is a version string, not a date.
    def text(loader: Loader, node: yaml.Node) -> str:
        assert isinstance(node, yaml.ScalarNode)
        return str(loader.construct_scalar(node))

    Loader.add_constructor("tag:yaml.org,2002:timestamp", text)

    def integer(loader: Loader, node: yaml.Node) -> int:
        assert isinstance(node, yaml.ScalarNode)
        # Python refuses to convert decimal text longer than sys.get_int_max_str_digits() (quadratic work); no
        # template value needs a number that long.
        if len(node.value) > _MAX_NUMBER_TEXT:
            raise ConstructorError(
                None, None, f"a number of {len(node.value):,} characters; no template value needs one", node.start_mark
            )
        try:
            return int(SafeConstructor.construct_yaml_int(loader, node))
        except ValueError:
            raise ConstructorError(None, None, f"{_shown(node.value)} is not a number", node.start_mark) from None

    Loader.add_constructor("tag:yaml.org,2002:int", integer)

    def unsupported(loader: Loader, node: yaml.Node) -> None:
        raise ConstructorError(
            None,
            None,
            f"the tag {node.tag.rpartition(':')[2]} is not supported by CloudFormation (binary, omap, pairs and set"
            " are not)",
            node.start_mark,
        )

    for tag in ("binary", "omap", "pairs", "set"):
        Loader.add_constructor(f"tag:yaml.org,2002:{tag}", unsupported)
    return Loader


def _check_events(text: str, loader: type[Any]) -> None:
    """Refuse aliases and nesting deeper than MAX_TEMPLATE_DEPTH from the parser's flat stream of events, before
    anything is composed: composing follows the nesting by recursion, and aliases can multiply a document."""
    import yaml
    from yaml.composer import ComposerError

    depth = 0
    for event in yaml.parse(text, Loader=loader):
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise ComposerError(
                None,
                None,
                "YAML aliases (*name) are not allowed in CloudFormation templates; write the value out in full",
                mark,
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_TEMPLATE_DEPTH:
                raise ComposerError(None, None, _TOO_DEEP, mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _scalar_text(value: Any) -> str:
    """A scalar as CloudFormation turns it into text (true, not True; null for nothing)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cut(text: str, limit: int = 200) -> str:
    """A path for a message, cut short: keys can be as long as the template."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _bounded(text: str, limit: int = 1000) -> str:
    """A whole message kept to `limit` characters, its start (where) and its end (how to fix) intact: names
    and values written into it can be as long as the template."""
    return text if len(text) <= limit else f"{text[: limit // 2]} ... {text[-(limit // 2 - 5) :]}"


def _shown(value: object, limit: int = 200) -> str:
    """A value for a message: its repr, cut short; messages never carry whole values."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


# --------------------------------------------------------------------------------------------------
# Resolution


_NO_VALUE: Final[Any] = object()  # AWS::NoValue: the property or list element disappears
_FAILED: Final[Any] = object()


class _Unresolved(Exception):
    """A value could not be resolved; its problem is already recorded, so the caller just skips it."""


class _Overwork(Exception):
    """The template asks for more work than shardline's bounds allow: reading stops with the problem recorded."""


class _Reference(str):
    """Text that came from a `Ref` or `Fn::GetAtt` of a resource, remembering which: a mapping's Stream and
    FunctionName must name a resource of this template, not merely look like one."""

    resource: str
    attribute: str


def _reference(text: str, resource: str, attribute: str) -> _Reference:
    value = _Reference(text)
    value.resource = resource
    value.attribute = attribute
    return value


def _plain(value: Any) -> Any:
    """The value with every string a plain `str` again (references forget where they came from)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {_shown(value)}"
    return f"the number {value}"


def _merge(base: Any, override: Any) -> Any:
    """SAM's Globals rule: mappings merge key by key, lists add up (globals first), anything else is replaced.
    An intrinsic function counts as a single value."""
    if (
        isinstance(base, dict)
        and isinstance(override, dict)
        and not _is_intrinsic(base)
        and not _is_intrinsic(override)
    ):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    return override


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


def _stack_name(file: Path) -> str:
    # Stack names allow letters, digits and hyphens; a folder like "my_app" becomes the stack "my-app".
    return re.sub(r"[^A-Za-z0-9-]+", "-", file.parent.name).strip("-") or "stack"


@final
class _Reader:
    """One reading of one template: the resolver, the builders, and the problems and warnings found."""

    def __init__(
        self,
        file: Path,
        document: dict[str, Any],
        *,
        overrides: dict[str, str],
        region: str,
        account_id: str,
        remote: bool = False,
    ) -> None:
        self.file = file
        self.remote = remote
        self.folder = file.parent
        self.document = document
        self.overrides = overrides
        self.stack = _stack_name(file)
        self.region = region
        self.account = account_id
        self.partition = (
            "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
        )
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.parameters: dict[str, str] = {}
        self._parameter_types: dict[str, str] = {}
        self._unset: set[str] = set()
        self.resources: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] = {}
        self._naming: set[str] = set()
        self._targets: set[str] = set()  # functions some DynamoDB mapping invokes, even one with problems
        self._steps = 0  # values visited while resolving (bounded by _MAX_STEPS)
        self._text = 0  # characters built by intrinsic functions (bounded by _MAX_TEXT)
        self._more_problems = 0
        self._more_warnings = 0

    # -- reporting ------------------------------------------------------------------------------------

    def problem(self, path: str, message: str) -> None:
        if len(self.problems) >= _MAX_PROBLEMS:
            self._more_problems += 1
            return
        self.problems.append(_bounded(f"{_cut(path)}: {message}"))

    def failure(self, path: str, message: str) -> _Unresolved:
        """Record a problem and return the exception that abandons the value (`raise self.failure(...)`)."""
        self.problem(path, message)
        return _Unresolved()

    def warn(self, path: str, message: str) -> None:
        if len(self.warnings) >= _MAX_PROBLEMS:
            self._more_warnings += 1
            return
        self.warnings.append(_bounded(f"{_cut(path)}: {message}"))

    def step(self) -> None:
        """Count one value visited while resolving; too many ends the reading."""
        self._steps += 1
        if self._steps > _MAX_STEPS:
            self.problems.append(
                "Resources: "
                f"resolving the template takes more than {_MAX_STEPS:,} steps, more than shardline does; is a large"
                " Globals section repeated into many functions?",
            )
            raise _Overwork

    def built(self, size: int, path: str) -> None:
        """Count `size` characters built by an intrinsic function, before they are built; too many ends it."""
        self._text += size
        if self._text > _MAX_TEXT:
            self.problems.append(
                f"{_cut(path)}: "
                f"the intrinsic functions build more than {_MAX_TEXT // (1024 * 1024)} MB of text, more than"
                " shardline does; do names or values built with Fn::Sub or Fn::Join repeat one another?",
            )
            raise _Overwork

    # -- the whole template ---------------------------------------------------------------------------

    def read(self) -> Template:
        tables: dict[str, TableSpec] = {}
        mappings: list[MappingSpec] = []
        functions: dict[str, FunctionSpec] = {}
        try:
            self._check_transform()
            self._read_parameters()
            self._read_resources()
            tables = self._read_tables()
            mappings = self._read_mappings()
            functions = self._read_functions(self._targets)
        except _Overwork:
            pass  # the problem is recorded; what was found so far is reported
        except RecursionError:  # bounded by the depth and name-chain checks; this is the last line of defence
            self.problems.append("Resources: values refer to one another too deeply for shardline to follow")
        if self._more_problems:
            self.problems.append(f"... and {self._more_problems:,} more problems; fix those above first")
        if self._more_warnings:
            self.warnings.append(f"... and {self._more_warnings:,} more warnings")
        if not mappings and not self.problems:
            self.warn(
                "Resources",
                "no function has a DynamoDB event and no AWS::Lambda::EventSourceMapping reads a table's stream:"
                " there is nothing to run",
            )
        if self.problems:
            raise TemplateError(list(dict.fromkeys(self.problems)), self.file)
        return Template(
            path=self.file,
            tables=tables,
            functions=functions,
            mappings=mappings,
            warnings=list(dict.fromkeys(self.warnings)),
            parameters=dict(self.parameters),
        )

    def _check_transform(self) -> None:
        transform = self.document.get("Transform")
        names = transform if isinstance(transform, list) else [] if transform is None else [transform]
        for name in names:
            if name != _SAM_TRANSFORM:
                shown = _cut(name, 100) if isinstance(name, str) else _kind(name)
                self.problem(
                    "Transform",
                    f"{shown} is not supported: shardline reads SAM templates ({_SAM_TRANSFORM}) and cannot apply"
                    " other transforms or macros",
                )

    def _read_parameters(self) -> None:
        declared = self.document.get("Parameters") or {}
        if not isinstance(declared, dict):
            self.problem(
                "Parameters", f"must be a mapping of parameter names to their definitions, not {_kind(declared)}"
            )
            declared = {}
        for name in self.overrides:
            if name not in declared:
                known = _cut(", ".join(map(str, declared)), 200) or "none"
                self.problem(
                    f"Parameters.{name}",
                    f"given as a parameter override, but the template declares no such parameter (declared: {known})",
                )
        for name, spec in declared.items():
            path = f"Parameters.{name}"
            if not isinstance(spec, dict):
                self.problem(path, f"must be a mapping with Type (and Default), not {_kind(spec)}")
                continue
            kind = spec.get("Type", "String")
            self._parameter_types[name] = kind if isinstance(kind, str) else "String"
            override = self.overrides.get(name)
            if isinstance(override, str):
                value, source = override, "the override"
            elif "Default" in spec:
                default = spec["Default"]
                if isinstance(default, (dict, list)) or default is None:
                    self.problem(f"{path}.Default", f"must be text, not {_kind(default)}")
                    continue
                value, source = self._scalar(default), "the Default"
            else:
                self._unset.add(name)
                continue
            if self._check_parameter(name, spec, value, source):
                self.parameters[name] = value

    def _check_parameter(self, name: str, spec: dict[str, Any], value: str, source: str) -> bool:
        path = f"Parameters.{name}"
        kind = self._parameter_types[name]
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > _MAX_PARAMETER_VALUE:
            self.problem(path, f"{source} is {size:,} bytes; a parameter value is at most {_MAX_PARAMETER_VALUE:,}")
            return False
        numbers = [value] if kind == "Number" else value.split(",") if kind == "List<Number>" else []
        for number in numbers:
            if not _NUMBER.fullmatch(number.strip()):
                self.problem(path, f"{source} {_shown(number.strip())} is not a number, which Type {kind} requires")
                return False
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and value not in [self._scalar(item) for item in allowed]:
            shown = _cut(", ".join(self._scalar(item) for item in allowed), 200)
            self.problem(path, f"{source} {_shown(value)} is not one of AllowedValues [{shown}]")
            return False
        pattern = spec.get("AllowedPattern")
        if isinstance(pattern, str):
            if len(pattern) > _MAX_PATTERN:
                self.problem(f"{path}.AllowedPattern", f"is {len(pattern):,} characters; shardline checks patterns of"
                             f" at most {_MAX_PATTERN:,}")  # fmt: skip
                return False
            try:
                with warnings.catch_warnings():  # a pattern re may read differently one day is still a pattern
                    warnings.simplefilter("ignore")
                    compiled = re.compile(pattern)
            except (re.error, RecursionError, OverflowError, ValueError) as exc:
                reason = exc if isinstance(exc, re.error) else "too deeply nested or too large"
                self.problem(f"{path}.AllowedPattern", f"{_shown(pattern)} is not a regular expression ({reason})")
                return False
            matched = compiled.fullmatch(value) is not None
            if not matched:
                self.problem(path, f"{source} {_shown(value)} does not match AllowedPattern {_shown(pattern)}")
                return False
        return True

    def _read_resources(self) -> None:
        resources = self.document.get("Resources")
        if not isinstance(resources, dict) or not resources:
            self.problem(
                "Resources", "the template has no Resources; a SAM template defines its tables and functions there"
            )
            return
        for logical, resource in resources.items():
            path = f"Resources.{logical}"
            if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
                self.problem(path, "a resource is a mapping with a Type, e.g. Type: AWS::Serverless::Function")
                continue
            properties = resource.get("Properties", {})
            if properties is None:
                properties = {}
            if not isinstance(properties, dict):
                self.problem(f"{path}.Properties", f"must be a mapping, not {_kind(properties)}")
                continue
            self.resources[str(logical)] = {**resource, "Properties": properties}
            if resource["Type"] in _NESTED:
                self.warn(
                    path,
                    f"{resource['Type']} is a nested stack, which shardline does not load: its tables and"
                    " functions do not run locally",
                )

    def _check_condition(self, logical: str) -> bool:
        if "Condition" not in self.resources[logical]:
            return True
        self.problem(
            f"Resources.{logical}.Condition",
            "Conditions are not supported: shardline cannot tell whether the resource exists; remove the Condition"
            " for local runs",
        )
        return False

    # -- intrinsic functions ----------------------------------------------------------------------------

    def resolve(self, value: Any, path: str) -> Any:
        """The value with every intrinsic function evaluated; records problems and raises `_Unresolved` when
        any part cannot be resolved (after trying every part, so all of its problems are reported)."""
        self.step()
        if isinstance(value, dict):
            if _is_intrinsic(value):
                name, argument = next(iter(value.items()))
                if name == "Ref":
                    return self._ref(argument, path)
                return self._function(name, argument, path)
            resolved: dict[str, Any] = {}
            failed = False
            for key, item in value.items():
                try:
                    result = self.resolve(item, f"{path}.{key}")
                except _Unresolved:
                    failed = True
                    continue
                if result is not _NO_VALUE:
                    resolved[key] = result
            if failed:
                raise _Unresolved
            return resolved
        if isinstance(value, list):
            items: list[Any] = []
            failed = False
            for index, item in enumerate(value):
                try:
                    result = self.resolve(item, f"{path}[{index}]")
                except _Unresolved:
                    failed = True
                    continue
                if result is not _NO_VALUE:
                    items.append(result)
            if failed:
                raise _Unresolved
            return items
        return value

    def _scalar(self, value: Any) -> str:
        """A scalar as CloudFormation turns it into text (true, not True)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def text(self, value: Any, path: str, what: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (bool, int, float)):
            return self._scalar(value)
        raise self.failure(path, f"{what} must be text, not {_kind(value)}")

    def _pseudo(self, name: str, path: str) -> Any:
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        values: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": suffix,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/{self.stack}"
            "/00000000-0000-0000-0000-000000000000",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": _NO_VALUE,
        }
        if name not in values:
            raise self.failure(path, f"{name} is not a pseudo parameter shardline knows ({', '.join(values)})")
        return values[name]

    def _ref(self, name: Any, path: str) -> Any:
        if not isinstance(name, str):
            raise self.failure(path, f"Ref takes the name of a parameter or resource, not {_kind(name)}")
        if name.startswith("AWS::"):
            return self._pseudo(name, path)
        if name in self._parameter_types:
            return self._parameter(name, path)
        if name in self.resources:
            return self._resource_ref(name, path)
        declared = self.document.get("Resources")
        if isinstance(declared, dict) and name in declared:
            raise _Unresolved  # a resource that could not be read: its problem is already recorded
        raise self.failure(path, f"Ref to {name}: the template has no parameter or resource named {name}")

    def _parameter(self, name: str, path: str) -> Any:
        kind = self._parameter_types[name]
        if kind.startswith("AWS::SSM::Parameter::"):
            raise self.failure(
                path,
                f"Ref to {name}: parameters of Type {kind} are read from SSM Parameter Store, which shardline does not"
                " do; make it a String parameter for local runs",
            )
        if name in self._unset:
            raise self.failure(
                f"Parameters.{name}",
                f"has no Default and no override; pass one, e.g. --parameter-overrides {name}=VALUE",
            )
        if name not in self.parameters:
            raise _Unresolved  # its value was refused; the problem is already recorded at Parameters.<name>
        value = self.parameters[name]
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            return [item.strip() for item in value.split(",")]
        return value

    def _type(self, logical: str) -> str:
        kind: str = self.resources[logical]["Type"]
        return kind

    def physical_name(self, logical: str) -> str:
        """The resource's name: its name property, or `<stack>-<LogicalId>` as CloudFormation would generate it
        (without the random suffix, so every run gives the same name)."""
        if logical in self._names:
            return self._names[logical]
        kind = self._type(logical)
        prop = _NAME_PROPERTY[kind]
        path = f"Resources.{logical}.Properties.{prop}"
        if logical in self._naming:
            raise self.failure(path, f"the name of {logical} refers back to {logical} itself")
        if len(self._naming) >= _MAX_NAME_CHAIN:
            raise self.failure(
                path,
                f"names made from other resources' names nest more than {_MAX_NAME_CHAIN} deep here; shorten the chain",
            )
        raw = self.resources[logical]["Properties"].get(prop)
        self._naming.add(logical)
        try:
            value = _NO_VALUE if raw is None else self.resolve(raw, path)
        finally:
            self._naming.discard(logical)
        if value is _NO_VALUE:
            name = f"{self.stack}-{logical}"
            name = name.lower() if kind == _BUCKET else name  # bucket names are lower case
        else:
            name = self.text(value, path, prop)
        self._names[logical] = name
        return name

    def _arn(self, service: str, resource: str, *, region: bool = True) -> str:
        if not region:
            return f"arn:{self.partition}:{service}:::{resource}"
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def _resource_ref(self, logical: str, path: str) -> _Reference:
        kind = self._type(logical)
        if kind not in _NAME_PROPERTY:
            raise self.failure(
                path,
                f"Ref to {logical}: shardline resolves references to tables, functions, queues, topics and buckets,"
                f" not to {kind}; use a parameter for this value",
            )
        name = self.physical_name(logical)
        if kind == _QUEUE:
            suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
            return _reference(f"https://sqs.{self.region}.{suffix}/{self.account}/{name}", logical, "Ref")
        if kind == _TOPIC:
            return _reference(self._arn("sns", name), logical, "Ref")
        return _reference(name, logical, "Ref")

    def get_att(self, logical: str, attribute: str, path: str) -> _Reference:
        if logical not in self.resources:
            raise self.failure(path, f"Fn::GetAtt {logical}.{attribute}: the template has no resource named {logical}")
        kind = self._type(logical)
        attributes: dict[str, str] = {}
        if kind in (_TABLE, _SIMPLE_TABLE):
            name = self.physical_name(logical)
            attributes["Arn"] = self._arn("dynamodb", f"table/{name}")
            if kind == _TABLE and self.resources[logical]["Properties"].get("StreamSpecification") is not None:
                attributes["StreamArn"] = f"{attributes['Arn']}/stream/{_STREAM_LABEL}"
            elif attribute == "StreamArn":
                raise self.failure(
                    path,
                    f"{logical} has no StreamSpecification, so it has no stream to read; add"
                    " StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES} to the table"
                    + (
                        " (an AWS::Serverless::SimpleTable cannot have one: use AWS::DynamoDB::Table)"
                        if kind == _SIMPLE_TABLE
                        else ""
                    ),
                )
        elif kind in (_FUNCTION, _LAMBDA_FUNCTION):
            attributes["Arn"] = self._arn("lambda", f"function:{self.physical_name(logical)}")
        elif kind == _QUEUE:
            name = self.physical_name(logical)
            attributes.update(Arn=self._arn("sqs", name), QueueName=name, QueueUrl=self._resource_ref(logical, path))
        elif kind == _TOPIC:
            name = self.physical_name(logical)
            attributes.update(TopicArn=self._arn("sns", name), TopicName=name)
        elif kind == _BUCKET:
            attributes["Arn"] = self._arn("s3", self.physical_name(logical), region=False)
        if attribute not in attributes:
            known = f" (it has {', '.join(attributes)})" if attributes else ""
            raise self.failure(
                path, f"Fn::GetAtt {logical}.{attribute}: shardline cannot resolve {attribute} of {kind}{known}"
            )
        return _reference(attributes[attribute], logical, attribute)

    def _function(self, name: str, argument: Any, path: str) -> Any:
        if name == "Fn::GetAtt":
            return self._fn_get_att(argument, path)
        if name == "Fn::Sub":
            return self._fn_sub(argument, path)
        if name == "Fn::Join":
            return self._fn_join(argument, path)
        if name == "Fn::Select":
            return self._fn_select(argument, path)
        if name == "Fn::Split":
            return self._fn_split(argument, path)
        if name == "Fn::FindInMap":
            return self._fn_find_in_map(argument, path)
        if name in _CONDITION_FUNCTIONS:
            raise self.failure(
                path,
                f"{name} is not supported: shardline does not evaluate Conditions; write the value the local run"
                " should use, or make it a parameter",
            )
        if name == "Fn::ImportValue":
            raise self.failure(
                path,
                "Fn::ImportValue is not supported: shardline runs one template and cannot read other stacks' exports;"
                " pass the value as a parameter instead",
            )
        raise self.failure(path, f"{name} is not supported by shardline's template reader")

    def _fn_get_att(self, argument: Any, path: str) -> _Reference:
        if isinstance(argument, str) and "." in argument:
            logical, attribute = argument.split(".", 1)
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            logical = argument[0]
            attribute = self.text(self.resolve(argument[1], f"{path}.Fn::GetAtt[1]"), path, "the attribute")
        else:
            raise self.failure(
                path, f"Fn::GetAtt takes Resource.Attribute or [Resource, Attribute], not {_kind(argument)}"
            )
        return self.get_att(logical, attribute, path)

    def _fn_sub(self, argument: Any, path: str) -> str:
        variables: dict[str, Any] = {}
        if isinstance(argument, str):
            template = argument
        elif (
            isinstance(argument, list)
            and len(argument) == 2
            and isinstance(argument[0], str)
            and isinstance(argument[1], dict)
        ):
            template = argument[0]
            variables = self.resolve(argument[1], f"{path}.Fn::Sub[1]")
        else:
            raise self.failure(path, f"Fn::Sub takes a text or [text, {{variables}}], not {_kind(argument)}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} writes ${Literal}
            name = name.strip()
            if name in variables:
                value = variables[name]
            elif "." in name:
                logical, attribute = name.split(".", 1)
                value = self.get_att(logical, attribute, path)
            else:
                value = self._ref(name, path)
            text = self.text(value, path, f"${{{_cut(name, 60)}}} in Fn::Sub")
            self.built(len(text), path)
            return text

        self.built(len(template), path)
        return _SUB_VARIABLE.sub(replace, template)

    def _fn_join(self, argument: Any, path: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            raise self.failure(path, f"Fn::Join takes [delimiter, [values]], not {_kind(argument)}")
        values = self.resolve(argument[1], f"{path}.Fn::Join[1]")
        if not isinstance(values, list):
            raise self.failure(path, f"Fn::Join joins a list, not {_kind(values)}")
        texts = [self.text(value, path, "each value of Fn::Join") for value in values]
        self.built(sum(map(len, texts)) + len(argument[0]) * max(0, len(texts) - 1), path)
        return argument[0].join(texts)

    def _fn_select(self, argument: Any, path: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise self.failure(path, f"Fn::Select takes [index, [values]], not {_kind(argument)}")
        index = self.resolve(argument[0], f"{path}.Fn::Select[0]")
        values = self.resolve(argument[1], f"{path}.Fn::Select[1]")
        try:
            position = int(index) if not isinstance(index, bool) else -1
        except (TypeError, ValueError, OverflowError):  # not a whole number: a list, text, an infinity
            position = -1
        if not isinstance(values, list):
            raise self.failure(path, f"Fn::Select selects from a list, not {_kind(values)}")
        if not 0 <= position < len(values):
            raise self.failure(path, f"Fn::Select index {_shown(index)} is not between 0 and {len(values) - 1}")
        return values[position]

    def _fn_split(self, argument: Any, path: str) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str) and argument[0]):
            raise self.failure(path, f"Fn::Split takes [delimiter, text], not {_kind(argument)}")
        source = self.text(self.resolve(argument[1], f"{path}.Fn::Split[1]"), path, "what Fn::Split splits")
        self.built(len(source), path)
        return source.split(argument[0])

    def _fn_find_in_map(self, argument: Any, path: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise self.failure(
                path, f"Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey], not {_kind(argument)}"
            )
        keys = [
            self.text(self.resolve(item, f"{path}.Fn::FindInMap[{index}]"), path, "each key of Fn::FindInMap")
            for index, item in enumerate(argument)
        ]
        found: Any = self.document.get("Mappings") or {}
        walked = "Mappings"
        for key in keys:
            if not isinstance(found, dict) or key not in found:
                raise self.failure(path, f"Fn::FindInMap: {walked} has no key {_shown(key)}")
            found = found[key]
            walked = f"{walked}.{key}"
        return found

    # -- tables ---------------------------------------------------------------------------------------------

    def _read_tables(self) -> dict[str, TableSpec]:
        tables: dict[str, TableSpec] = {}
        for logical, resource in self.resources.items():
            if resource["Type"] not in (_TABLE, _SIMPLE_TABLE) or not self._check_condition(logical):
                continue
            try:
                table = self._table(logical) if resource["Type"] == _TABLE else self._simple_table(logical)
            except _Unresolved:
                continue
            tables[logical] = table
        return tables

    def _table(self, logical: str) -> TableSpec:
        properties = self.resources[logical]["Properties"]
        base = f"Resources.{logical}.Properties"
        failed = False
        name = keys = stream = ttl = None
        global_indexes: tuple[IndexSpec, ...] = ()
        local_indexes: tuple[IndexSpec, ...] = ()
        extra: dict[str, Any] = {}
        try:
            name = self._table_name(logical)
        except _Unresolved:
            failed = True
        try:
            keys = self._key_schema(properties, base)
        except _Unresolved:
            failed = True
        try:
            stream = self._stream_view_type(properties, base)
        except _Unresolved:
            failed = True
        try:
            ttl = self._ttl_attribute(properties, base)
        except _Unresolved:
            failed = True
        if keys is not None:
            schema, definitions = keys
            try:
                global_indexes, local_indexes = self._indexes(properties, base, schema, definitions)
            except _Unresolved:
                failed = True
            try:
                extra = self._table_extra(properties, base, definitions)
            except _Unresolved:
                failed = True
        if failed or name is None or keys is None:
            raise _Unresolved
        return TableSpec(logical, name, keys[0], stream, ttl, global_indexes, local_indexes, extra)

    def _table_name(self, logical: str) -> str:
        name = self.physical_name(logical)
        if not _TABLE_NAME.fullmatch(name):
            raise self.failure(
                f"Resources.{logical}.Properties.TableName",
                f"{_shown(name)} is not a DynamoDB table name: 3 to 255 letters, digits, '_', '-' or '.'",
            )
        return name

    def _key_schema(self, properties: dict[str, Any], base: str) -> tuple[dict[str, str], dict[str, str]]:
        """The table's key schema and the attribute definitions (name -> S, N or B, in template order)."""
        if "KeySchema" not in properties:
            raise self.failure(f"{base}.KeySchema", "KeySchema is required: [{AttributeName: pk, KeyType: HASH}]")
        if "AttributeDefinitions" not in properties:
            raise self.failure(
                f"{base}.AttributeDefinitions",
                "AttributeDefinitions is required: [{AttributeName: pk, AttributeType: S}]",
            )
        definitions = self.resolve(properties["AttributeDefinitions"], f"{base}.AttributeDefinitions")
        keys = self.resolve(properties["KeySchema"], f"{base}.KeySchema")
        types: dict[str, str] = {}
        failed = False
        if not isinstance(definitions, list):
            raise self.failure(
                f"{base}.AttributeDefinitions",
                f"must be a list of {{AttributeName, AttributeType}}, not {_kind(definitions)}",
            )
        for index, definition in enumerate(definitions):
            path = f"{base}.AttributeDefinitions[{index}]"
            name = definition.get("AttributeName") if isinstance(definition, dict) else None
            kind = definition.get("AttributeType") if isinstance(definition, dict) else None
            if not isinstance(name, str) or not name:
                self.problem(path, "each definition is {AttributeName: name, AttributeType: S|N|B}")
                failed = True
            elif kind not in _ATTRIBUTE_TYPES:
                self.problem(f"{path}.AttributeType", f"{_kind(kind)} is not a key type; use S, N or B")
                failed = True
            else:
                types[name] = kind
        schema: dict[str, str] = {}
        try:
            schema = self._keys(keys, f"{base}.KeySchema", types)
        except _Unresolved:
            failed = True
        if failed:
            raise _Unresolved
        return schema, types

    def _keys(self, keys: Any, path: str, types: dict[str, str]) -> dict[str, str]:
        """A KeySchema (of the table or an index): the partition key (HASH), then the sort key (RANGE) if any."""
        if not isinstance(keys, list) or not 1 <= len(keys) <= 2:
            raise self.failure(
                path,
                "must list the partition key (KeyType HASH) and optionally a sort key (KeyType RANGE), not"
                f" {_kind(keys) if not isinstance(keys, list) else f'{len(keys)} elements'}",
            )
        schema: dict[str, str] = {}
        failed = False
        for index, key in enumerate(keys):
            where = f"{path}[{index}]"
            name = key.get("AttributeName") if isinstance(key, dict) else None
            key_type = key.get("KeyType") if isinstance(key, dict) else None
            expected = "HASH" if index == 0 else "RANGE"
            if not isinstance(name, str) or not name:
                self.problem(where, "each key is {AttributeName: name, KeyType: HASH|RANGE}")
                failed = True
                continue
            if key_type != expected:
                self.problem(
                    f"{where}.KeyType",
                    f"is {_kind(key_type)}, but DynamoDB wants the partition key (HASH) first, then the sort key"
                    " (RANGE)",
                )
                failed = True
            if name not in types:
                self.problem(
                    f"{where}.AttributeName",
                    f"{name} is not in AttributeDefinitions; add {{AttributeName: {name}, AttributeType: S|N|B}}",
                )
                failed = True
                continue
            if name in schema:
                self.problem(f"{where}.AttributeName", f"{name} is the partition key already; a sort key is another")
                failed = True
                continue
            schema[name] = types[name]
        if failed:
            raise _Unresolved
        return schema

    def _indexes(
        self, properties: dict[str, Any], base: str, schema: dict[str, str], types: dict[str, str]
    ) -> tuple[tuple[IndexSpec, ...], tuple[IndexSpec, ...]]:
        """The secondary indexes, checked as CreateTable checks them (DynamoDB API reference, CreateTable and
        Projection; "Quotas in Amazon DynamoDB" for how many a table may have)."""
        found: dict[str, list[IndexSpec]] = {"GlobalSecondaryIndexes": [], "LocalSecondaryIndexes": []}
        names: dict[str, str] = {}
        used = set(schema)
        non_key_total = 0
        failed = False
        for kind, indexes in found.items():
            path = f"{base}.{kind}"
            raw = self.resolve(properties.get(kind), path)
            if raw is None or raw is _NO_VALUE:
                continue
            if not isinstance(raw, list):
                self.problem(path, f"must be a list of {{IndexName, KeySchema, Projection}}, not {_kind(raw)}")
                failed = True
                continue
            local = kind == "LocalSecondaryIndexes"
            for position, index in enumerate(raw):
                where = f"{path}[{position}]"
                try:
                    spec = self._index(index, where, types, schema, local=local)
                except _Unresolved:
                    failed = True
                    continue
                if spec.name in names:
                    self.problem(
                        f"{where}.IndexName",
                        f"{spec.name} is the name of another index ({names[spec.name]}); index names are unique"
                        " within a table",
                    )
                    failed = True
                    continue
                names[spec.name] = where
                used.update(spec.key_schema)
                non_key_total += len(spec.non_key_attributes)
                indexes.append(spec)
            limit = 5 if local else 20
            if len(indexes) > limit:
                self.problem(
                    path,
                    f"{len(indexes)} {'local' if local else 'global'} secondary indexes; DynamoDB allows {limit} per"
                    " table",
                )
                failed = True
        if non_key_total > 100:
            self.problem(
                base,
                f"the indexes project {non_key_total} NonKeyAttributes in all; DynamoDB allows 100 per table"
                " (an attribute projected into two indexes counts twice)",
            )
            failed = True
        unused = [name for name in types if name not in used]
        if unused and not failed:
            self.problem(
                f"{base}.AttributeDefinitions",
                f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} defined but no key schema uses"
                f" {'it' if len(unused) == 1 else 'them'}; DynamoDB refuses attribute definitions that are not"
                " keys of the table or an index (define only key attributes)",
            )
            failed = True
        if failed:
            raise _Unresolved
        return tuple(found["GlobalSecondaryIndexes"]), tuple(found["LocalSecondaryIndexes"])

    def _index(self, index: Any, path: str, types: dict[str, str], schema: dict[str, str], *, local: bool) -> IndexSpec:
        if not isinstance(index, dict):
            raise self.failure(path, f"an index is {{IndexName, KeySchema, Projection}}, not {_kind(index)}")
        failed = False
        name = index.get("IndexName")
        if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
            shown = "missing" if name is None else _shown(name) if isinstance(name, str) else _kind(name)
            self.problem(
                f"{path}.IndexName", f"{shown} is not an index name: 3 to 255 letters, digits, '_', '-' or '.'"
            )
            failed = True
        keys: dict[str, str] | None = None
        if "KeySchema" not in index:
            self.problem(f"{path}.KeySchema", "KeySchema is required: [{AttributeName: name, KeyType: HASH}, ...]")
            failed = True
        else:
            try:
                keys = self._keys(index["KeySchema"], f"{path}.KeySchema", types)
            except _Unresolved:
                failed = True
        if local and keys is not None:
            table_keys = list(schema)
            if len(table_keys) < 2:
                self.problem(
                    path,
                    "a local secondary index needs a table with a sort key (it is another sort key on the same"
                    " partition); use a global secondary index",
                )
                failed = True
            elif next(iter(keys)) != table_keys[0] or len(keys) != 2:
                self.problem(
                    f"{path}.KeySchema",
                    f"a local secondary index has the table's partition key ({table_keys[0]}, HASH) and a sort key"
                    " of its own (RANGE)",
                )
                failed = True
        projection: str = "ALL"
        non_key: tuple[str, ...] = ()
        try:
            projection, non_key = self._projection(index.get("Projection"), f"{path}.Projection")
        except _Unresolved:
            failed = True
        if failed or keys is None or not isinstance(name, str):
            raise _Unresolved
        return IndexSpec(name, keys, projection, non_key)

    def _projection(self, projection: Any, path: str) -> tuple[str, tuple[str, ...]]:
        if projection is None:
            raise self.failure(path, "Projection is required: {ProjectionType: ALL}, KEYS_ONLY or INCLUDE")
        if not isinstance(projection, dict):
            raise self.failure(path, f"must be {{ProjectionType: ALL|KEYS_ONLY|INCLUDE}}, not {_kind(projection)}")
        kind = projection.get("ProjectionType")
        if kind not in ("ALL", "KEYS_ONLY", "INCLUDE"):
            shown = "missing" if kind is None else _kind(kind)
            raise self.failure(f"{path}.ProjectionType", f"{shown}: ProjectionType is ALL, KEYS_ONLY or INCLUDE")
        attributes = projection.get("NonKeyAttributes")
        if kind != "INCLUDE":
            if attributes is not None:
                raise self.failure(
                    f"{path}.NonKeyAttributes", f"NonKeyAttributes go with ProjectionType INCLUDE, not {kind}"
                )
            return str(kind), ()
        if (
            not isinstance(attributes, list)
            or not 1 <= len(attributes) <= 20
            or not all(isinstance(each, str) and 1 <= len(each) <= 255 for each in attributes)
        ):
            raise self.failure(
                f"{path}.NonKeyAttributes",
                "ProjectionType INCLUDE needs NonKeyAttributes: a list of 1 to 20 attribute names",
            )
        if len(set(attributes)) != len(attributes):
            raise self.failure(f"{path}.NonKeyAttributes", "names an attribute twice")
        return "INCLUDE", tuple(str(each) for each in attributes)

    def _table_extra(self, properties: dict[str, Any], base: str, types: dict[str, str]) -> dict[str, Any]:
        """What DescribeTable shows and nothing local depends on, kept as the endpoint keeps what CreateTable
        is given: the attribute definitions, the billing mode and provisioned throughput (of the table and of
        each global index), the tags, the table class and deletion protection (DynamoDB API reference,
        CreateTable; "AWS::DynamoDB::Table" in the CloudFormation template reference)."""
        extra: dict[str, Any] = {"attribute_definitions": dict(types)}
        failed = False
        mode = self.resolve(properties.get("BillingMode"), f"{base}.BillingMode")
        if mode is not None and mode is not _NO_VALUE:
            if mode not in ("PROVISIONED", "PAY_PER_REQUEST"):
                self.problem(f"{base}.BillingMode", f"{_kind(mode)} is not PROVISIONED or PAY_PER_REQUEST")
                failed = True
            else:
                extra["billing_mode"] = str(mode)
        on_demand = mode == "PAY_PER_REQUEST"
        try:
            throughput = self._throughput(properties, base, on_demand=on_demand)
            if throughput is not None:
                extra["throughput"] = throughput
                extra.setdefault("billing_mode", "PROVISIONED")  # CloudFormation's default billing mode
        except _Unresolved:
            failed = True
        index_throughput: dict[str, dict[str, int]] = {}
        raw = self.resolve(properties.get("GlobalSecondaryIndexes"), f"{base}.GlobalSecondaryIndexes")
        for position, index in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(index, dict) or not isinstance(index.get("IndexName"), str):
                continue  # reported with the indexes
            try:
                throughput = self._throughput(index, f"{base}.GlobalSecondaryIndexes[{position}]", on_demand=on_demand)
            except _Unresolved:
                failed = True
                continue
            if throughput is not None:
                index_throughput[str(index["IndexName"])] = throughput
        if index_throughput:
            extra["index_throughput"] = index_throughput
        try:
            extra.update(self._table_settings(properties, base))
        except _Unresolved:
            failed = True
        if failed:
            raise _Unresolved
        return extra

    def _table_settings(self, properties: dict[str, Any], base: str) -> dict[str, Any]:
        """Tags, TableClass and DeletionProtectionEnabled, as DescribeTable and ListTagsOfResource show them."""
        settings: dict[str, Any] = {}
        failed = False
        tags = self.resolve(properties.get("Tags"), f"{base}.Tags")
        if tags is not None and tags is not _NO_VALUE:
            if not isinstance(tags, list) or not all(
                isinstance(tag, dict) and isinstance(tag.get("Key"), str) and isinstance(tag.get("Value"), str)
                for tag in tags
            ):
                self.problem(f"{base}.Tags", "must be a list of {Key: text, Value: text}")
                failed = True
            else:
                settings["tags"] = {str(tag["Key"]): str(tag["Value"]) for tag in tags}
        table_class = self.resolve(properties.get("TableClass"), f"{base}.TableClass")
        if table_class is not None and table_class is not _NO_VALUE:
            if table_class not in ("STANDARD", "STANDARD_INFREQUENT_ACCESS"):
                self.problem(
                    f"{base}.TableClass", f"{_kind(table_class)} is not STANDARD or STANDARD_INFREQUENT_ACCESS"
                )
                failed = True
            else:
                settings["table_class"] = str(table_class)
        protection = self.resolve(properties.get("DeletionProtectionEnabled"), f"{base}.DeletionProtectionEnabled")
        if protection is not None and protection is not _NO_VALUE:
            enabled = self._boolean(protection)
            if enabled is None:
                self.problem(f"{base}.DeletionProtectionEnabled", f"must be true or false, not {_kind(protection)}")
                failed = True
            else:
                settings["deletion_protection"] = enabled
        if failed:
            raise _Unresolved
        return settings

    def _throughput(self, owner: dict[str, Any], base: str, *, on_demand: bool) -> dict[str, int] | None:
        path = f"{base}.ProvisionedThroughput"
        raw = self.resolve(owner.get("ProvisionedThroughput"), path)
        if raw is None or raw is _NO_VALUE:
            return None
        if on_demand:
            raise self.failure(
                path,
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is"
                " PAY_PER_REQUEST (DynamoDB refuses it): remove ProvisionedThroughput",
            )
        if not isinstance(raw, dict):
            raise self.failure(path, f"must be {{ReadCapacityUnits: n, WriteCapacityUnits: n}}, not {_kind(raw)}")
        units: dict[str, int] = {}
        for name in ("ReadCapacityUnits", "WriteCapacityUnits"):
            value = raw.get(name)
            if isinstance(value, str) and re.fullmatch(r"\d{1,18}", value.strip()):
                value = int(value)  # a parameter's text
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                shown = "missing" if value is None else _kind(value)
                raise self.failure(f"{path}.{name}", f"{shown}: {name} is a whole number of at least 1")
            units[name] = value
        return units

    def _stream_view_type(self, properties: dict[str, Any], base: str) -> str | None:
        path = f"{base}.StreamSpecification"
        spec = self.resolve(properties.get("StreamSpecification"), path)
        if spec is None or spec is _NO_VALUE:
            return None
        if isinstance(spec, dict) and "StreamEnabled" in spec:
            # DynamoDB's API has StreamEnabled; CloudFormation's StreamSpecification does not (StreamViewType and
            # ResourcePolicy): a table has a stream exactly when the template gives it a StreamSpecification.
            raise self.failure(
                f"{path}.StreamEnabled",
                "CloudFormation's StreamSpecification has no StreamEnabled: remove the StreamSpecification for a"
                " table without a stream, or keep only StreamViewType",
            )
        view = spec.get("StreamViewType") if isinstance(spec, dict) else None
        if view not in _STREAM_VIEW_TYPES:
            raise self.failure(
                f"{path}.StreamViewType",
                f"{_kind(view)} is not a stream view type; use one of {', '.join(_STREAM_VIEW_TYPES)}",
            )
        return str(view)

    def _ttl_attribute(self, properties: dict[str, Any], base: str) -> str | None:
        path = f"{base}.TimeToLiveSpecification"
        spec = self.resolve(properties.get("TimeToLiveSpecification"), path)
        if spec is None or spec is _NO_VALUE:
            return None
        if not isinstance(spec, dict):
            raise self.failure(path, f"must be {{AttributeName: name, Enabled: true}}, not {_kind(spec)}")
        enabled = self._boolean(spec.get("Enabled"))
        if enabled is None:
            raise self.failure(
                f"{path}.Enabled", f"Enabled is required and must be true or false, not {_kind(spec.get('Enabled'))}"
            )
        name = spec.get("AttributeName")
        if not enabled:
            return None
        if not isinstance(name, str) or not name:
            raise self.failure(f"{path}.AttributeName", "name the attribute that holds the expiry time (epoch seconds)")
        return str(name)

    def _simple_table(self, logical: str) -> TableSpec:
        properties = self.resources[logical]["Properties"]
        path = f"Resources.{logical}.Properties.PrimaryKey"
        name = self._table_name(logical)
        key = self.resolve(properties.get("PrimaryKey", {"Name": "id", "Type": "String"}), path)
        attribute = key.get("Name") if isinstance(key, dict) else None
        kind = _SIMPLE_KEY_TYPES.get(str(key.get("Type"))) if isinstance(key, dict) else None
        if not isinstance(attribute, str) or not attribute or kind is None:
            raise self.failure(path, "must be {Name: name, Type: String|Number|Binary}")
        # SAM makes a SimpleTable on-demand unless it is given ProvisionedThroughput (AWS::Serverless::SimpleTable).
        extra: dict[str, Any] = {"attribute_definitions": {attribute: kind}, "billing_mode": "PAY_PER_REQUEST"}
        throughput = self._throughput(properties, f"Resources.{logical}.Properties", on_demand=False)
        if throughput is not None:
            extra.update(billing_mode="PROVISIONED", throughput=throughput)
        return TableSpec(logical, name, {attribute: kind}, None, None, extra=extra)

    @staticmethod
    def _boolean(value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"  # CloudFormation reads "true" text (a parameter) as a boolean
        return None

    # -- mappings -------------------------------------------------------------------------------------------

    def _read_mappings(self) -> list[MappingSpec]:
        mappings: list[MappingSpec] = []
        for logical, resource in self.resources.items():
            if resource["Type"] == _FUNCTION:
                events = resource["Properties"].get("Events")
                if events is None:
                    continue
                path = f"Resources.{logical}.Properties.Events"
                if not isinstance(events, dict):
                    self.problem(path, f"must be a mapping of event names to events, not {_kind(events)}")
                    continue
                for event_name, event in events.items():
                    try:
                        mapping = self._event(logical, str(event_name), event)
                    except _Unresolved:
                        continue
                    if mapping is not None:
                        mappings.append(mapping)
            elif resource["Type"] == _MAPPING:
                try:
                    mapping = self._mapping_resource(logical)
                except _Unresolved:
                    continue
                if mapping is not None:
                    mappings.append(mapping)
        seen: dict[tuple[str, str], str] = {}
        for mapping in mappings:
            pair = (mapping.function, mapping.table or mapping.stream_arn or "")
            if pair in seen:
                self.problem(
                    _mapping_path(mapping.logical_id),
                    f"a second mapping of {mapping.function} on the stream of {mapping.table} ({seen[pair]} is the"
                    " first); AWS refuses it (ResourceConflictException): keep one",
                )
            else:
                seen[pair] = mapping.logical_id
        return mappings

    def _event(self, function: str, name: str, event: Any) -> MappingSpec | None:
        path = f"Resources.{function}.Properties.Events.{name}"
        if not isinstance(event, dict) or not isinstance(event.get("Type"), str):
            raise self.failure(path, "an event is a mapping with a Type, e.g. Type: DynamoDB")
        kind = event["Type"]
        if kind != "DynamoDB":
            self.warn(f"{path}.Type", f"{kind} events are not run locally; shardline runs DynamoDB stream events")
            return None
        self._targets.add(function)
        properties = event.get("Properties")
        if not isinstance(properties, dict):
            raise self.failure(
                f"{path}.Properties", "a DynamoDB event needs Properties with Stream and StartingPosition"
            )
        base = f"{path}.Properties"
        failed = not self._check_condition(function)
        source = None
        if "Stream" not in properties:
            self.problem(f"{base}.Stream", "Stream is required: !GetAtt <Table>.StreamArn")
            failed = True
        else:
            try:
                source = self._stream_table(self.resolve(properties["Stream"], f"{base}.Stream"), f"{base}.Stream")
            except _Unresolved:
                failed = True
        settings, on_failure, ok = self._settings(properties, base, skip=("Stream",))
        if failed or not ok or source is None:
            raise _Unresolved
        table, stream_arn = source
        return MappingSpec(f"{function}.{name}", function, table, settings, on_failure, stream_arn)

    def _mapping_resource(self, logical: str) -> MappingSpec | None:
        properties = self.resources[logical]["Properties"]
        base = f"Resources.{logical}.Properties"
        if "EventSourceArn" not in properties:
            raise self.failure(f"{base}.EventSourceArn", "EventSourceArn is required: !GetAtt <Table>.StreamArn")
        source = self.resolve(properties["EventSourceArn"], f"{base}.EventSourceArn")
        if not self._is_dynamodb_source(source):
            shown = f"{source.resource} ({self._type(source.resource)})" if isinstance(source, _Reference) else source
            self.warn(
                f"{base}.EventSourceArn",
                f"{_plain(shown)} is not a DynamoDB stream; this mapping is not run locally",
            )
            return None
        if not self._check_condition(logical):
            raise _Unresolved
        failed = False
        stream = function = None
        try:
            stream = self._stream_table(source, f"{base}.EventSourceArn")
        except _Unresolved:
            failed = True
        try:
            function = self._mapped_function(properties, base)
            self._targets.add(function)
        except _Unresolved:
            failed = True
        settings, on_failure, ok = self._settings(properties, base, skip=("EventSourceArn", "FunctionName", "Tags"))
        if failed or not ok or stream is None or function is None:
            raise _Unresolved
        table, stream_arn = stream
        return MappingSpec(logical, function, table, settings, on_failure, stream_arn)

    def _is_dynamodb_source(self, source: Any) -> bool:
        if isinstance(source, _Reference):
            return self._type(source.resource) in (_TABLE, _SIMPLE_TABLE)
        # A text that is some other service's ARN (an SQS queue, a Kinesis stream) is a mapping shardline does not
        # run; anything else is meant as a DynamoDB stream and must then name a table of this template.
        return not (isinstance(source, str) and source.startswith("arn:") and source.split(":")[2:3] != ["dynamodb"])

    def _stream_table(self, source: Any, path: str) -> tuple[str, str | None]:
        """The logical id of the template's table whose stream `source` is, and None; or, reading remote
        streams, an empty id and the stream ARN `source` is."""
        if isinstance(source, _Reference) and self._type(source.resource) in (_TABLE, _SIMPLE_TABLE):
            if source.attribute == "StreamArn":
                if source.resource not in self.resources or "Condition" in self.resources[source.resource]:
                    raise _Unresolved  # the table's Condition is reported where the table is read
                return source.resource, None
            what = (
                f"the name of {source.resource}"
                if source.attribute == "Ref"
                else f"{source.resource}'s {source.attribute}"
            )
            raise self.failure(path, f"is {what}, not its stream; use !GetAtt {source.resource}.StreamArn")
        if isinstance(source, _Reference):
            raise self.failure(
                path,
                f"{source.resource} is {self._type(source.resource)}, not a DynamoDB table; shardline runs mappings on"
                " the streams of the template's AWS::DynamoDB::Table resources",
            )
        is_stream = isinstance(source, str) and _STREAM_ARN.fullmatch(source) is not None
        if is_stream and self.remote:
            return "", str(source)
        shown = (
            _kind(source)
            if not isinstance(source, str)
            else f"the ARN {_shown(source)}"
            if source.startswith("arn:")
            else repr(source)
        )
        if is_stream:
            raise self.failure(
                path,
                f"is {shown}, a stream outside this template; read it where it lives with `shardline run --remote`"
                " (and --endpoint-url, --region, --profile as needed), or map a table of this template: use !GetAtt"
                " <Table>.StreamArn",
            )
        expected = (
            "a stream ARN (arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>)"
            if self.remote
            else "a table of this template; shardline creates and runs only the template's own tables"
        )
        raise self.failure(path, f"is {shown}, not {expected}: use !GetAtt <Table>.StreamArn")

    def _mapped_function(self, properties: dict[str, Any], base: str) -> str:
        path = f"{base}.FunctionName"
        if "FunctionName" not in properties:
            raise self.failure(path, "FunctionName is required: !Ref <Function>")
        value = self.resolve(properties["FunctionName"], path)
        if isinstance(value, _Reference):
            kind = self._type(value.resource)
            if kind == _FUNCTION:
                return value.resource
            raise self.failure(
                path,
                f"{value.resource} is {kind}; shardline runs AWS::Serverless::Function resources (Handler, CodeUri)",
            )
        text = self.text(value, path, "FunctionName")
        match = _LAMBDA_ARN.match(text)
        wanted = match.group(1) if match else text
        for logical, resource in self.resources.items():
            if resource["Type"] != _FUNCTION:
                continue
            try:
                if self.physical_name(logical) == wanted:
                    return logical
            except _Unresolved:
                continue
        raise self.failure(path, f"{_shown(text)} is not a function of this template; use !Ref <Function>")

    def _settings(
        self, properties: dict[str, Any], base: str, *, skip: tuple[str, ...]
    ) -> tuple[dict[str, Any], dict[str, Any] | None, bool]:
        """The mapping settings in `MappingSettings` keywords, each checked on its own so that every bad
        setting is reported at its own path; the DestinationConfig; whether all of it was fine."""
        settings: dict[str, Any] = {}
        ok = True
        for key, raw in properties.items():
            path = f"{base}.{key}"
            if key in skip or key == "DestinationConfig":
                continue
            if key in _NOT_EMULATED:
                self.warn(path, f"{key} is not emulated locally and is ignored")
                continue
            if key == "StartingPositionTimestamp":
                self.problem(path, "AT_TIMESTAMP is not allowed for DynamoDB streams: use TRIM_HORIZON or LATEST")
                ok = False
                continue
            if key not in _SETTINGS:
                self.problem(
                    path, f"{key} is not a setting of DynamoDB stream mappings (these are: {', '.join(_SETTINGS)})"
                )
                ok = False
                continue
            try:
                value = self.resolve(raw, path)
            except _Unresolved:
                ok = False
                continue
            if value is _NO_VALUE:
                continue
            keyword, kind = _SETTINGS[key]
            try:
                value = self._setting(value, kind, path)
                MappingSettings(**{keyword: value})
            except _Unresolved:
                ok = False
                continue
            except InvalidParameterValueError as exc:
                self.problem(path, str(exc))
                ok = False
                continue
            except (ShardlineError, ValueError, TypeError) as exc:  # a value the settings cannot even take in
                self.problem(path, f"{key} cannot be {_kind(value)} ({describe_exception(exc)})")
                ok = False
                continue
            settings[keyword] = value
        if "StartingPosition" not in properties:
            self.problem(
                f"{base}.StartingPosition", "StartingPosition is required for DynamoDB streams: TRIM_HORIZON or LATEST"
            )
            ok = False
        on_failure = None
        if "DestinationConfig" in properties:
            try:
                on_failure = self._destination(properties["DestinationConfig"], f"{base}.DestinationConfig")
            except _Unresolved:
                ok = False
        return _plain(settings), on_failure, ok

    def _setting(self, value: Any, kind: str, path: str) -> Any:
        # Parameters are text: "10" and "true" are read back as CloudFormation does for numbers and booleans.
        if kind == "int" and isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
            return int(value)  # longer digit strings stay text: out of every range, and refused as such
        if kind == "bool":
            boolean = self._boolean(value)
            return value if boolean is None else boolean
        if kind == "list" and not isinstance(value, list):
            raise self.failure(path, f"must be a list, e.g. [ReportBatchItemFailures], not {_kind(value)}")
        if kind == "filters" and isinstance(value, dict) and isinstance(value.get("Filters"), list):
            # A pattern written as a YAML mapping becomes the JSON text Lambda stores.
            filters = [
                {**entry, "Pattern": json.dumps(entry["Pattern"])}
                if isinstance(entry, dict) and isinstance(entry.get("Pattern"), dict)
                else entry
                for entry in value["Filters"]
            ]
            return {**value, "Filters": filters}
        return value

    def _destination(self, raw: Any, path: str) -> dict[str, Any]:
        config = self.resolve(raw, path)
        if not isinstance(config, dict):
            raise self.failure(path, f"must be {{OnFailure: {{Destination: <arn>}}}}, not {_kind(config)}")
        for key in config:
            if key != "OnFailure":
                self.problem(
                    f"{path}.{key}", "stream mappings send only failures: DestinationConfig takes OnFailure alone"
                )
        on_failure = config.get("OnFailure")
        destination = on_failure.get("Destination") if isinstance(on_failure, dict) else None
        if not isinstance(destination, str):
            raise self.failure(
                f"{path}.OnFailure.Destination",
                "Destination is required: the ARN of an SQS queue, SNS topic or S3 bucket (e.g. !GetAtt Queue.Arn)",
            )
        if not _DESTINATION_ARN.match(destination):
            raise self.failure(
                f"{path}.OnFailure.Destination",
                f"{_shown(destination)} is not the ARN of an SQS queue, SNS topic or S3 bucket, where stream failures"
                " go",
            )
        if len(config) > 1:
            raise _Unresolved
        result: dict[str, Any] = _plain(config)
        return result

    # -- functions ------------------------------------------------------------------------------------------

    def _globals(self) -> dict[str, Any]:
        sections = self.document.get("Globals") or {}
        function = sections.get("Function") if isinstance(sections, dict) else None
        if not isinstance(sections, dict) or not isinstance(function or {}, dict):
            self.problem("Globals", "must be a mapping of sections, e.g. Function: {Runtime: python3.12}")
            return {}
        return function or {}

    def _read_functions(self, mapped: set[str]) -> dict[str, FunctionSpec]:
        globals_ = self._globals()
        functions: dict[str, FunctionSpec] = {}
        for logical, resource in self.resources.items():
            if resource["Type"] != _FUNCTION:
                continue
            if logical in mapped and not self._check_condition(logical):
                continue
            try:
                spec = self._function_spec(logical, globals_, resource["Properties"], logical in mapped)
            except _Unresolved:
                continue
            if spec is not None:
                functions[logical] = spec
        return functions

    def _function_spec(
        self, logical: str, globals_: dict[str, Any], own: dict[str, Any], mapped: bool
    ) -> FunctionSpec | None:
        properties: dict[str, Any] = _merge(globals_, own)

        def where(key: str) -> str:
            # Where the value is written: the function, or Globals; the function when it is written nowhere.
            return (
                f"Globals.Function.{key}"
                if key in globals_ and key not in own
                else f"Resources.{logical}.Properties.{key}"
            )

        def value(key: str, default: Any = None) -> Any:
            if key not in properties:
                return default
            resolved = self.resolve(properties[key], where(key))
            return default if resolved is _NO_VALUE else resolved

        # First: can shardline run this function at all? When no mapping needs it, that is only a warning.
        cannot: list[tuple[str, str]] = []
        runtime: Any = None
        if value("PackageType", "Zip") == "Image":
            cannot.append(
                (
                    where("PackageType"),
                    "PackageType Image is not supported: shardline runs Zip functions from a local folder",
                )
            )
        else:
            if "InlineCode" in properties:
                cannot.append(
                    (
                        where("InlineCode"),
                        "InlineCode is not supported: put the code in a folder and point CodeUri at it",
                    )
                )
            runtime = value("Runtime")
            if runtime is None:
                cannot.append((where("Runtime"), "Runtime is required: python3.x, here or in Globals.Function"))
            elif not isinstance(runtime, str) or not _PYTHON_RUNTIME.fullmatch(runtime):
                shown = _cut(runtime, 100) if isinstance(runtime, str) else _kind(runtime)
                cannot.append(
                    (where("Runtime"), f"shardline runs Python functions; the Runtime of {logical} is {shown}")
                )
        if cannot:
            for path, message in cannot:
                if mapped:
                    self.problem(path, message)
                else:
                    self.warn(path, f"{message}; {logical} is not loaded (no DynamoDB stream event uses it)")
            if mapped:
                raise _Unresolved
            return None

        failed = False
        name = handler = code_dir = None
        timeout = 3.0
        memory = 128
        environment: dict[str, str] = {}
        try:
            name = self.physical_name(logical)
        except _Unresolved:
            failed = True
        try:
            handler = self._handler(value("Handler"), where("Handler"))
        except _Unresolved:
            failed = True
        try:
            code_dir = self._code_dir(value("CodeUri"), where("CodeUri"))
        except _Unresolved:
            failed = True
        try:
            timeout = float(self._number(value("Timeout", 3), where("Timeout"), 1, 900, "Timeout (seconds)"))
        except _Unresolved:
            failed = True
        try:
            memory = int(
                self._number(value("MemorySize", 128), where("MemorySize"), 128, 10240, "MemorySize (MB)", whole=True)
            )
        except _Unresolved:
            failed = True
        try:
            environment = self._environment(logical, globals_, own)
        except _Unresolved:
            failed = True
        if properties.get("Layers"):
            self.warn(
                where("Layers"),
                "Layers are not loaded locally; install what they provide into the environment that runs shardline",
            )
        if failed or name is None or handler is None or code_dir is None:
            raise _Unresolved
        return FunctionSpec(logical, name, handler, code_dir, str(runtime), timeout, memory, environment)

    def _handler(self, handler: Any, path: str) -> str:
        if handler is None:
            raise self.failure(path, "Handler is required: module.function, e.g. app.handler")
        text = self.text(handler, path, "Handler")
        module, _, function = text.rpartition(".")
        if not module or not function:
            raise self.failure(path, f"{_shown(text)} is not module.function, e.g. app.handler")
        return text

    def _code_dir(self, code_uri: Any, path: str) -> Path:
        if code_uri is None:
            return self.folder
        if isinstance(code_uri, dict) or (isinstance(code_uri, str) and code_uri.startswith("s3://")):
            raise self.failure(
                path, "CodeUri points to S3; shardline runs code from a local folder: point CodeUri at the source"
            )
        text = self.text(code_uri, path, "CodeUri")
        try:
            folder = (self.folder / text).resolve()
            exists, is_dir = folder.exists(), folder.is_dir()
        except (OSError, ValueError, RuntimeError):  # a NUL or a lone surrogate in the path; a symbolic link loop
            raise self.failure(path, f"{_shown(text)} is not a path this system can open") from None
        if not exists:
            raise self.failure(
                path,
                f"the folder {_shown(text)} does not exist (CodeUri is read from the template's folder, {self.folder})",
            )
        if not is_dir:
            raise self.failure(
                path,
                f"{_shown(text)} is a file; shardline runs code from a folder: point CodeUri at the unpacked source",
            )
        return folder

    def _number(self, value: Any, path: str, low: int, high: int, what: str, *, whole: bool = False) -> float | int:
        number: float | int
        if isinstance(value, bool):
            raise self.failure(path, f"{what} must be a number, not {_kind(value)}")
        if isinstance(value, (int, float)):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\d{1,18}(\.\d{1,18})?", value.strip()):
            number = float(value) if "." in value else int(value)
        else:
            raise self.failure(path, f"{what} must be a number, not {_kind(value)}")
        if isinstance(number, float) and not math.isfinite(number):
            raise self.failure(path, f"{what} must be a finite number, not {number}")
        if whole and number != int(number):
            raise self.failure(path, f"{what} must be a whole number, not {number}")
        if not low <= number <= high:
            raise self.failure(path, f"{what} {number} is outside AWS's range {low}..{high}")
        return number

    def _environment(self, logical: str, globals_: dict[str, Any], own: dict[str, Any]) -> dict[str, str]:
        variables: dict[str, tuple[Any, str]] = {}
        for source, prefix in ((globals_, "Globals.Function"), (own, f"Resources.{logical}.Properties")):
            environment = source.get("Environment")
            if environment is None:
                continue
            found = environment.get("Variables") if isinstance(environment, dict) else None
            if not isinstance(found, dict) or set(environment) - {"Variables"}:
                raise self.failure(f"{prefix}.Environment", "must be {Variables: {NAME: value, ...}}")
            for name, raw in found.items():
                variables[str(name)] = (raw, f"{prefix}.Environment.Variables.{name}")
        # Each variable on its own, so that every one that cannot be resolved is reported, not only the first.
        values = {name: self._variable(raw, path) for name, (raw, path) in variables.items()}
        if any(value is _FAILED for value in values.values()):
            raise _Unresolved
        return {name: value for name, value in values.items() if isinstance(value, str)}

    def _variable(self, raw: Any, path: str) -> Any:
        """An environment variable's text; `_NO_VALUE` when it resolves to AWS::NoValue, `_FAILED` when it
        cannot be resolved (the problem is recorded)."""
        try:
            value = self.resolve(raw, path)
            return value if value is _NO_VALUE else str(self.text(value, path, "an environment variable"))
        except _Unresolved:
            return _FAILED


def _mapping_path(logical_id: str) -> str:
    function, _, event = logical_id.partition(".")
    return f"Resources.{function}.Properties.Events.{event}" if event else f"Resources.{logical_id}"
