"""From a SAM template to a running local pipeline: tables created, mappings added, functions invoked.

`shardline run` and `shardline demo` are thin shells around `build_pipeline`; `shardline serve
--template` uses `create_tables` alone.

When `run` serves the DynamoDB endpoint, its functions are pointed at it with botocore's service-specific
endpoint variables, `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_DYNAMODB_STREAMS` (AWS SDKs and Tools
reference guide, "Service-specific endpoints"), so a handler's unchanged `boto3.client("dynamodb")` writes
to the local tables while its clients of other services keep their usual endpoints.
"""

from __future__ import annotations

import configparser
import contextlib
import importlib.machinery
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

from shardline._handlers import HandlerLoadError, load_handler, sam_environment
from shardline.local._errors import TableExistsError
from shardline.local._esm import Pipeline
from shardline.local._invoker import FunctionOutput, InProcessInvoker, Invoker
from shardline.local._template import FunctionSpec, MappingSpec, Template, TemplateError
from shardline.testing._clock import Clock

__all__ = [
    "ENDPOINT_VARIABLES",
    "aws_credentials_configured",
    "aws_region_configured",
    "build_pipeline",
    "create_tables",
    "endpoint_environment",
    "environment_for",
    "stale_botocore",
]


def environment_for(function: FunctionSpec, env_vars: Mapping[str, Any] | None) -> dict[str, str]:
    """The function's variables: the template's, then SAM's `--env-vars` file (`Parameters` for every
    function, then the entry named by the function's logical ID or its name)."""
    environment = dict(function.environment)
    if env_vars:
        try:
            environment.update(sam_environment(env_vars, function.logical_id, function.function_name))
        except ValueError as exc:
            raise TemplateError([f"--env-vars: {exc}"]) from None
    return environment


#: botocore reads these per service: set, they send DynamoDB and DynamoDB Streams clients to the local endpoint.
ENDPOINT_VARIABLES: Final = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS")
#: Set to true (in the shell or as `ignore_configured_endpoint_urls` in the shared config file), it makes botocore
#: skip the endpoint variables, and the functions would write to AWS; set to false, it wins over the config file.
IGNORE_ENDPOINTS_VARIABLE: Final = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
#: Credentials for a function that has none: botocore signs every request, and the local endpoint accepts any
#: signature without checking it (as DynamoDB Local does), so these only have to exist.
DUMMY_CREDENTIALS: Final = {"AWS_ACCESS_KEY_ID": "shardline-local", "AWS_SECRET_ACCESS_KEY": "shardline-local"}
#: What a runtime process gets of the developer's credentials (its environment passes these through).
_CREDENTIAL_SOURCES: Final = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE")
#: Everything else in an environment that gives botocore credentials (AWS SDKs and Tools reference guide,
#: "Standardized credential providers"): a profile name, container and web-identity credentials.
_OTHER_CREDENTIAL_SOURCES: Final = (
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)
#: Settings of a profile in the shared config file that give it credentials.
_PROFILE_CREDENTIALS: Final = (
    "aws_access_key_id",
    "credential_process",
    "credential_source",
    "role_arn",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
)
_MAX_CONFIG_BYTES: Final = 1 << 20


def aws_credentials_configured(environ: Mapping[str, str], *, names: Sequence[str] | None = None) -> bool:
    """Whether boto3 started with `environ` finds credentials without the instance metadata service: one of
    `names` set (all the credential variables by default), or a default profile with credentials in the
    shared credentials or config file (`AWS_SHARED_CREDENTIALS_FILE`/`AWS_CONFIG_FILE`, else under
    `HOME`/.aws; AWS SDKs and Tools reference guide, "Shared config and credentials files").

    Examples:
        >>> aws_credentials_configured({"AWS_PROFILE": "dev"})
        True
        >>> aws_credentials_configured({})
        False
    """
    if any(
        environ.get(name)
        for name in (names if names is not None else (*_CREDENTIAL_SOURCES, *_OTHER_CREDENTIAL_SOURCES))
    ):
        return True
    profile = "default"
    credentials = _shared_file(environ, "AWS_SHARED_CREDENTIALS_FILE", "credentials")
    if credentials is not None and credentials.has_option(profile, "aws_access_key_id"):
        return True
    config = _shared_file(environ, "AWS_CONFIG_FILE", "config")
    return config is not None and any(
        config.has_option(section, name) for section in (profile, f"profile {profile}") for name in _PROFILE_CREDENTIALS
    )


def aws_region_configured(environ: Mapping[str, str]) -> bool:
    """Whether boto3 started with `environ` has a Region: `AWS_DEFAULT_REGION` or `AWS_REGION`, or the
    `region` of the profile in the shared config file."""
    if environ.get("AWS_DEFAULT_REGION") or environ.get("AWS_REGION"):
        return True
    profile = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    config = _shared_file(environ, "AWS_CONFIG_FILE", "config")
    sections = (profile, f"profile {profile}")
    return config is not None and any(config.has_option(section, "region") for section in sections)


def _shared_file(environ: Mapping[str, str], variable: str, name: str) -> configparser.RawConfigParser | None:
    """The shared file `variable` names (or ~/.aws/`name` under `environ`'s HOME), parsed; None when there
    is none, or it cannot be read (boto3 then reports it itself)."""
    given = environ.get(variable)
    home = environ.get("HOME")
    if given:
        path = Path(given).expanduser()
    elif home:
        path = Path(home, ".aws", name)
    else:
        return None
    parser = configparser.RawConfigParser(strict=False)
    try:
        with path.open("rb") as handle:
            text = handle.read(_MAX_CONFIG_BYTES).decode("utf-8", errors="replace")
        parser.read_string(text, source=str(path))
    except (OSError, configparser.Error):
        return None
    return parser


def endpoint_environment(
    url: str, *, explicit: Mapping[str, str], host: Mapping[str, str], region: str | None
) -> dict[str, str]:
    """The variables that point a function's boto3 at the local endpoint `url`, minus those `explicit`
    (the template's Environment and `--env-vars`) sets itself, which always win.

    Both endpoint variables are set (a value in the developer's shell does not reach a Lambda function either),
    and `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false`: a shell or shared config file that tells botocore to
    ignore configured endpoints would otherwise send the function's writes to AWS. `region` goes to
    `AWS_REGION` and `AWS_DEFAULT_REGION` where `host` (the environment the function starts from) has none;
    None when the invoker sets them already. Dummy credentials are added only when neither `host` nor
    `explicit` has `AWS_ACCESS_KEY_ID` or `AWS_PROFILE` and the shared files under `host`'s HOME give
    the default profile none: a developer's real credentials stay in force for the function's clients of other
    services.

    Examples:
        >>> endpoint_environment("http://127.0.0.1:8000", explicit={}, host={"AWS_PROFILE": "dev"}, region=None)
        ... # doctest: +NORMALIZE_WHITESPACE
        {'AWS_ENDPOINT_URL_DYNAMODB': 'http://127.0.0.1:8000', 'AWS_ENDPOINT_URL_DYNAMODB_STREAMS': 'http://127.0.0.1:8000',
         'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS': 'false'}
    """
    added = dict.fromkeys(ENDPOINT_VARIABLES, url)
    added[IGNORE_ENDPOINTS_VARIABLE] = "false"
    if region is not None:
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            if name not in host:
                added[name] = region
    if not any(name in explicit for name in _CREDENTIAL_SOURCES) and not aws_credentials_configured(
        host, names=_CREDENTIAL_SOURCES
    ):
        added.update(DUMMY_CREDENTIALS)
    return {name: value for name, value in added.items() if name not in explicit}


#: botocore reads `AWS_ENDPOINT_URL_<SERVICE>` from 1.31.0 (boto3 1.28.0) on; an older one ignores it.
_SERVICE_ENDPOINTS_SINCE: Final = (1, 31, 0)
_VERSION: Final = re.compile(r"""^__version__\s*=\s*['"]([0-9][^'"]{0,40})['"]""", re.MULTILINE)


def stale_botocore(function: FunctionSpec, *, path: Sequence[str] | None = None) -> str | None:
    """A warning when the botocore `function` would import (from its code folder, else `path`, by default
    this interpreter's, which runs the functions) is older than 1.31: it ignores `AWS_ENDPOINT_URL_DYNAMODB`,
    so the function's DynamoDB clients would reach AWS instead of the local endpoint. None otherwise (no
    botocore at all is the function's own import error). The module is found and its version read without
    importing it."""
    folders = [str(function.code_dir), *(str(entry) for entry in (sys.path if path is None else path) if entry)]
    try:
        spec = importlib.machinery.PathFinder.find_spec("botocore", folders)
    except (ImportError, OSError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith("__init__.py"):
        return None
    try:
        with open(spec.origin, "rb") as handle:
            head = handle.read(65536).decode("utf-8", errors="replace")
    except OSError:
        return None
    found = _VERSION.search(head)
    if found is None:
        return None
    version = found.group(1)
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:3])
    if numbers >= _SERVICE_ENDPOINTS_SINCE:
        return None
    where = Path(spec.origin).parent.parent
    return (
        f"Resources.{function.logical_id}: botocore {version} (in {where}) ignores AWS_ENDPOINT_URL_DYNAMODB, so"
        " this function's DynamoDB clients would reach AWS, not the local endpoint; upgrade to boto3 1.28 or later"
        " (botocore 1.31), or give its clients endpoint_url"
    )


def create_tables(template: Template, store: Any) -> None:
    """Create the template's tables in `store` (keys, stream, Time to Live, secondary indexes, and what
    DescribeTable shows), or check that an existing table of the same name has the same key.

    A table without a StreamSpecification gets no stream, as on AWS. Another process creating the same table
    at the same moment (`shardline serve` and `run` on one state file) is fine.
    """
    for spec in template.tables.values():
        try:
            table = store.table(spec.table_name) if spec.table_name in _names(store) else None
            if table is None:
                store.create_table(
                    spec.table_name,
                    key_schema=spec.key_schema,
                    stream_view_type=spec.stream_view_type or "NEW_AND_OLD_IMAGES",
                    stream_enabled=spec.stream_view_type is not None,
                    ttl_attribute=spec.ttl_attribute,
                    global_indexes=spec.global_indexes,
                    local_indexes=spec.local_indexes,
                    extra=spec.extra,
                )
                continue
        except TableExistsError:  # created by another process since we looked
            table = store.table(spec.table_name)
        if dict(table.key_schema) != dict(spec.key_schema):
            raise TemplateError(
                [
                    f"Resources.{spec.logical_id}: the local table {spec.table_name} has the key {table.key_schema},"
                    f" the template says {spec.key_schema}; use another --state or delete the table"
                ]
            )


def _names(store: Any) -> set[str]:
    return {table.name for table in store.tables()}


def build_pipeline(
    template: Template,
    store: Any,
    *,
    only_function: str | None = None,
    env_vars: Mapping[str, Any] | None = None,
    invoker: str = "runtime",
    clock: Clock | None = None,
    endpoint_url: str | None = None,
    output: TextIO | None = None,
    history: int | None = None,
    dynamodb_endpoint: str | None = None,
    remote: Mapping[str, str | None] | None = None,
) -> tuple[Pipeline, list[Invoker]]:
    """Create the template's tables in `store` (or check the existing ones) and a Pipeline running every
    mapping (of `only_function` when given) with the Lambda runtime invoker or in-process.

    `dynamodb_endpoint` (the URL of the endpoint serving `store`) is given to every function through
    `endpoint_environment`. A runtime process gets the variables in its own environment. In-process
    functions share this process's `os.environ`: the variables are set there (as the template's variables
    are), so they also reach everything else this process runs.

    Every function's handler is found before anything runs: a Handler whose module is not in its CodeUri
    is a [`TemplateError`][shardline.local.TemplateError] now, not an init error when the first record arrives. The
    functions' own output goes to `output` (`sys.stderr` when None), each through its own `FunctionOutput`. `history` is
    the Pipeline's.

    A mapping on a stream outside the template (loaded with `remote=True`) reads it through
    [`shardline.aws.RemoteStream`][shardline.aws.RemoteStream], whose boto3 clients take `remote`'s `endpoint_url`,
    `region_name` and `profile_name`; its checkpoints are kept under the mapping's logical id and the stream's ARN, so a
    later run resumes. `remote` None refuses such mappings. The streams' clients are made before any function is loaded:
    in-process functions set the local endpoint's variables in this process's environment, and boto3 would follow them.
    """
    if only_function is not None and only_function not in template.functions:
        known = ", ".join(sorted(template.functions)) or "none"
        raise TemplateError([f"--function {only_function}: no such function in the template (functions: {known})"])
    mappings = [m for m in template.mappings if only_function is None or m.function == only_function]
    if not mappings:
        raise TemplateError(["no DynamoDB stream mapping to run: the template has no function with a DynamoDB event"])
    streams = _remote_streams(mappings, remote)
    create_tables(template, store)
    for mapping in mappings:
        if mapping.stream_arn is not None:
            continue
        spec = template.tables[mapping.table]
        if not getattr(store.table(spec.table_name), "stream_enabled", True):
            raise TemplateError(
                [
                    f"Resources.{spec.logical_id}: the local table {spec.table_name} has no stream enabled (it was"
                    " created or changed without one, through the endpoint?), so mapping"
                    f" {mapping.logical_id} has nothing to read; enable it (aws dynamodb update-table"
                    f" --table-name {spec.table_name} --stream-specification"
                    " StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES) or delete the table"
                ]
            )
    for name in dict.fromkeys(mapping.function for mapping in mappings):
        if invoker == "runtime":
            check_handler(template.functions[name])
    pipeline = Pipeline(store, clock=clock, endpoint_url=endpoint_url, history=history)
    invokers: dict[str, Invoker] = {}
    for mapping in mappings:
        function = template.functions[mapping.function]
        if mapping.function not in invokers:
            environment = environment_for(function, env_vars)
            if dynamodb_endpoint is not None:
                environment.update(
                    endpoint_environment(
                        dynamodb_endpoint,
                        explicit=environment,
                        host=os.environ,
                        # The runtime invoker sets the region as Lambda does; in-process, this process has to.
                        region=None if invoker == "runtime" else getattr(store, "region", "us-east-1"),
                    )
                )
            invokers[mapping.function] = _invoker(function, environment, invoker, clock, output)
        pipeline.add_mapping(
            streams.get(mapping.logical_id) or template.tables[mapping.table].table_name,
            invokers[mapping.function],
            name=mapping.logical_id,
            on_failure=mapping.on_failure,
            **mapping.settings,
        )
    return pipeline, list(invokers.values())


def _remote_streams(mappings: Sequence[MappingSpec], remote: Mapping[str, str | None] | None) -> dict[str, Any]:
    """A [`shardline.aws.RemoteStream`][shardline.aws.RemoteStream] for each mapping on a stream outside the template,
    by logical id (one each: every mapping reads at its own position, as each Lambda mapping does). boto3 is imported
    only here."""
    outside = [mapping for mapping in mappings if mapping.stream_arn is not None]
    if not outside:
        return {}
    if remote is None:
        raise TemplateError(
            [
                f"{mapping.logical_id}: {mapping.stream_arn} is a stream outside this template; read it with"
                " `shardline run --remote`"
                for mapping in outside
            ]
        )
    from shardline.aws import RemoteStream

    options = {name: remote.get(name) for name in ("endpoint_url", "region_name", "profile_name")}
    return {
        mapping.logical_id: RemoteStream(
            mapping.stream_arn,
            endpoint_url=options["endpoint_url"],
            region_name=options["region_name"],
            profile_name=options["profile_name"],
        )
        for mapping in outside
    }


def check_handler(function: FunctionSpec) -> None:
    """Find the module a function's `Handler` names in its code folder, as awslambdaric will look for it
    (`app.handler` is `app.py`; `folder/app.handler` and `pkg.app.handler` are `folder/app.py` and
    `pkg/app.py`), without importing it: a missing one is a clear error at start-up rather than an init
    error, and three retries, when the first record arrives. A module installed in the interpreter's own
    path (a dependency not vendored in CodeUri) is accepted.
    """
    where = f"Resources.{function.logical_id}.Properties.Handler"
    module, dot, attribute = function.handler.rpartition(".")
    if not dot or not module or not attribute:
        raise TemplateError([f"{where}: {function.handler!r} is not module.function (for example app.lambda_handler)"])
    root = Path(function.code_dir)
    if not root.is_dir():
        raise TemplateError([f"Resources.{function.logical_id}.Properties.CodeUri: {root} is not a directory"])
    parts = module.replace("/", ".").split(".")
    if any(not part for part in parts):
        raise TemplateError([f"{where}: {function.handler!r} has an empty module name part"])
    if _module_in(root, parts):
        return
    top_in_code = (root / parts[0]).is_dir() or _module_in(root, parts[:1])
    # The interpreter's own path, not the folder shardline runs in: the runtime starts in the code folder.
    here = Path.cwd().resolve()
    installed = [entry for entry in sys.path if entry and Path(entry).resolve() != here]
    if not top_in_code and importlib.machinery.PathFinder.find_spec(parts[0], installed) is not None:
        return  # installed with the interpreter: it may well hold the rest (checking it would import it)
    if not top_in_code and parts[0] in sys.builtin_module_names:
        return
    file = Path(*parts[:-1], parts[-1] + ".py")
    raise TemplateError(
        [
            f"{where}: no module {'.'.join(parts)!r} in {root} (looked for {file}); "
            "fix the Handler or the function's CodeUri"
        ]
    )


def _module_in(root: Path, parts: list[str]) -> bool:
    """Whether `root` holds the module `parts` names: a .py file, a package, or a compiled extension."""
    folder = root.joinpath(*parts[:-1])
    name = parts[-1]
    if (folder / f"{name}.py").is_file() or (folder / name).is_dir():
        return True
    suffixes = importlib.machinery.EXTENSION_SUFFIXES + importlib.machinery.BYTECODE_SUFFIXES
    return any((folder / f"{name}{suffix}").is_file() for suffix in suffixes)


def _invoker(
    function: FunctionSpec, environment: dict[str, str], kind: str, clock: Clock | None, output: TextIO | None
) -> Invoker:
    function_output = FunctionOutput(output)
    if kind == "runtime":
        from shardline.local._runtime import RuntimeInvoker

        return RuntimeInvoker(
            function.handler,
            code_dir=function.code_dir,
            function_name=function.function_name,
            timeout=function.timeout,
            memory_mb=function.memory_size,
            environment=environment,
            clock=clock,
            stderr=function_output,
        )
    if kind != "in-process":
        raise ValueError(f"invoker must be 'runtime' or 'in-process', got {kind!r}")
    # The module's import-time output goes where its invokes' output goes.
    with contextlib.redirect_stdout(function_output), contextlib.redirect_stderr(function_output):
        handler = _load(function, environment)
    return InProcessInvoker(
        handler,
        function_name=function.function_name,
        timeout=function.timeout,
        memory_mb=function.memory_size,
        clock=clock,
        output=function_output,
    )


def _load(function: FunctionSpec, environment: Mapping[str, str]) -> Any:
    """Import the function's handler from its code folder, as its own module.

    In-process functions share this process's environment: the variables are set before the import, so
    module-level code sees them (with several functions, later ones win where names collide).
    """
    os.environ.update(environment)
    try:
        return load_handler(function.handler, function.code_dir, module_name=f"_shardline_{function.logical_id}")
    except HandlerLoadError as exc:
        raise TemplateError([f"Resources.{function.logical_id}.Properties.Handler: {exc}"]) from exc
