"""From a SAM template to a running local pipeline: tables created, mappings added, functions invoked.

``shardline run`` and ``shardline demo`` are thin shells around :func:`build_pipeline`.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from shardline._handlers import HandlerLoadError, load_handler, sam_environment
from shardline.local._esm import Pipeline
from shardline.local._invoker import FunctionOutput, InProcessInvoker, Invoker
from shardline.local._template import FunctionSpec, Template, TemplateError
from shardline.testing._clock import Clock

__all__ = ["build_pipeline", "environment_for"]


def environment_for(function: FunctionSpec, env_vars: Mapping[str, Any] | None) -> dict[str, str]:
    """The function's variables: the template's, then SAM's ``--env-vars`` file (``Parameters`` for every
    function, then the entry named by the function's logical ID or its name)."""
    environment = dict(function.environment)
    if env_vars:
        try:
            environment.update(sam_environment(env_vars, function.logical_id, function.function_name))
        except ValueError as exc:
            raise TemplateError([f"--env-vars: {exc}"]) from None
    return environment


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
) -> tuple[Pipeline, list[Invoker]]:
    """Create the template's tables in ``store`` (or check the existing ones) and a Pipeline running every
    mapping (of ``only_function`` when given) with the Lambda runtime invoker or in-process.

    Every function's handler is found before anything runs: a Handler whose module is not in its CodeUri
    is a :class:`TemplateError` now, not an init error when the first record arrives. The functions' own
    output goes to ``output`` (``sys.stderr`` when None), each through its own
    :class:`~shardline.local._invoker.FunctionOutput`. ``history`` is the Pipeline's.
    """
    if only_function is not None and only_function not in template.functions:
        known = ", ".join(sorted(template.functions)) or "none"
        raise TemplateError([f"--function {only_function}: no such function in the template (functions: {known})"])
    mappings = [m for m in template.mappings if only_function is None or m.function == only_function]
    if not mappings:
        raise TemplateError(["no DynamoDB stream mapping to run: the template has no function with a DynamoDB event"])
    existing = {table.name: table for table in store.tables()}
    for spec in template.tables.values():
        table = existing.get(spec.table_name)
        if table is None:
            store.create_table(
                spec.table_name,
                key_schema=spec.key_schema,
                stream_view_type=spec.stream_view_type or "NEW_AND_OLD_IMAGES",
                ttl_attribute=spec.ttl_attribute,
            )
        elif dict(table.key_schema) != dict(spec.key_schema):
            raise TemplateError(
                [
                    f"Resources.{spec.logical_id}: the local table {spec.table_name} has the key {table.key_schema},"
                    f" the template says {spec.key_schema}; use another --state or delete the table"
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
            invokers[mapping.function] = _invoker(function, environment_for(function, env_vars), invoker, clock, output)
        pipeline.add_mapping(
            template.tables[mapping.table].table_name,
            invokers[mapping.function],
            name=mapping.logical_id,
            on_failure=mapping.on_failure,
            **mapping.settings,
        )
    return pipeline, list(invokers.values())


def check_handler(function: FunctionSpec) -> None:
    """Find the module a function's ``Handler`` names in its code folder, as awslambdaric will look for it
    (``app.handler`` is ``app.py``; ``folder/app.handler`` and ``pkg.app.handler`` are ``folder/app.py`` and
    ``pkg/app.py``), without importing it: a missing one is a clear error at start-up rather than an init
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
    """Whether ``root`` holds the module ``parts`` names: a .py file, a package, or a compiled extension."""
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
