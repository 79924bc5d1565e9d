"""Finding a user's Lambda handler and its environment, as SAM names them.

Shared by ``shardline invoke`` and the in-process invoker of ``shardline run``; not imported by
``import shardline``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, final

from ._exceptions import ShardlineError

__all__ = ["HandlerLoadError", "lambda_environment", "load_handler", "sam_environment"]


@final
class HandlerLoadError(ShardlineError):
    """A handler that cannot be found or whose module fails to import (Lambda's init error)."""

    __module__ = "shardline"


def load_handler(spec: str, code_dir: str | Path = ".", *, module_name: str | None = None) -> Callable[..., Any]:
    """The function ``spec`` names: ``module.function`` as in a SAM template (``folder/module.function``
    too), ``module:function`` or ``path/to/file.py:function``, relative to ``code_dir``.

    With ``module_name`` the module is loaded from its file under that name, so two functions whose code
    folders both hold an ``app.py`` each get their own module.
    """
    if ":" in spec:
        module_part, _, attribute = spec.partition(":")
    else:
        module_part, _, attribute = spec.rpartition(".")
    if not module_part or not attribute:
        raise HandlerLoadError(f"handler {spec!r}: expected module.function (as in a SAM template) or file.py:function")
    folder = Path(code_dir).resolve()
    if not folder.is_dir():
        raise HandlerLoadError(f"code folder {folder}: no such directory")
    sys.path.insert(0, str(folder))
    module = _import(module_part, folder, module_name)
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise HandlerLoadError(f"handler {spec!r}: {module.__name__} has no attribute {part!r}")
        target = getattr(target, part)
    if not callable(target):
        raise HandlerLoadError(f"handler {spec!r}: {attribute} is a {type(target).__name__}, not a function")
    return target  # type: ignore[no-any-return]


def _import(module_part: str, folder: Path, module_name: str | None) -> ModuleType:
    dotted = module_part.removesuffix(".py").replace("/", ".")
    path = Path(module_part) if module_part.endswith(".py") else Path(dotted.replace(".", "/") + ".py")
    as_file = path if path.is_absolute() else folder / path
    try:
        if module_part.endswith(".py") or module_name is not None:
            if not as_file.is_file():
                if module_part.endswith(".py"):
                    raise HandlerLoadError(f"handler file {as_file} does not exist")
                raise HandlerLoadError(f"cannot import handler module {module_part!r}: no such module in {folder}")
            sys.path.insert(0, str(as_file.parent))
            name = module_name or as_file.stem
            spec = importlib.util.spec_from_file_location(name, as_file)
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
        return importlib.import_module(dotted)
    except HandlerLoadError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            raise HandlerLoadError(f"cannot import handler module {module_part!r}: no such module in {folder}") from exc
        raise HandlerLoadError(f"the handler module failed to import: ModuleNotFoundError: {exc}") from exc
    except Exception as exc:  # any failure at import is Lambda's init error
        raise HandlerLoadError(f"the handler module failed to import: {type(exc).__name__}: {exc}") from exc


def sam_environment(data: Mapping[str, Any], *functions: str) -> dict[str, str]:
    """The variables SAM's ``--env-vars`` file gives a function: ``Parameters`` (every function), then the
    entries named by ``functions`` (its logical ID, its name), later ones winning.

    >>> sam_environment({"Parameters": {"TABLE": "orders"}, "Fn": {"DEBUG": 1}}, "Fn")
    {'TABLE': 'orders', 'DEBUG': '1'}
    """
    chosen: dict[str, Any] = {}
    for key in ("Parameters", *functions):
        section = data.get(key)
        if section is None:
            continue
        if not isinstance(section, Mapping):
            raise ValueError(f"{key} must map variable names to values")
        chosen.update(section)
    return {str(key): value if isinstance(value, str) else json.dumps(value) for key, value in chosen.items()}


def lambda_environment(
    *,
    function_name: str,
    handler: str,
    memory_mb: int,
    region: str,
    task_root: str | Path,
    python_version: str | None = None,
    now_ms: int | None = None,
) -> dict[str, str]:
    """The variables the Lambda service sets for a Python function (before the function's own)."""
    version = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    day = datetime.now(timezone.utc) if now_ms is None else datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc)
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{day:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": handler,
        "TZ": ":UTC",
    }
