"""From a SAM template to a running local pipeline: tables created, mappings added, functions invoked.

``shardline run`` and ``shardline demo`` are thin shells around :func:`build_pipeline`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TextIO

from shardline._handlers import HandlerLoadError, load_handler, sam_environment
from shardline.local._esm import Pipeline
from shardline.local._invoker import InProcessInvoker, Invoker
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
) -> tuple[Pipeline, list[Invoker]]:
    """Create the template's tables in ``store`` (or check the existing ones) and a Pipeline running every
    mapping (of ``only_function`` when given) with the Lambda runtime invoker or in-process."""
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
    pipeline = Pipeline(store, clock=clock, endpoint_url=endpoint_url)
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


def _invoker(
    function: FunctionSpec, environment: dict[str, str], kind: str, clock: Clock | None, output: TextIO | None
) -> Invoker:
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
            stderr=output,
        )
    if kind != "in-process":
        raise ValueError(f"invoker must be 'runtime' or 'in-process', got {kind!r}")
    return InProcessInvoker(
        _load(function, environment),
        function_name=function.function_name,
        timeout=function.timeout,
        memory_mb=function.memory_size,
        clock=clock,
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
