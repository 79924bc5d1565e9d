"""Finding a user's Lambda handler and its environment, as SAM names them.

Shared by `shardline invoke` and the in-process invoker of `shardline run`; not imported by
`import shardline`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, final

from ._exceptions import ShardlineError, describe_exception
from ._json import json_dumps

__all__ = ["HandlerLoadError", "lambda_environment", "load_handler", "sam_environment"]


@final
class HandlerLoadError(ShardlineError):
    """A handler that cannot be found or whose module fails to import (Lambda's init error)."""

    __module__ = "shardline"


def load_handler(spec: str, code_dir: str | Path = ".", *, module_name: str | None = None) -> Callable[..., Any]:
    """The function `spec` names: `module.function` as in a SAM template (`folder/module.function`
    too), `module:function` or `path/to/file.py:function`, relative to `code_dir`.

    With `module_name` the module is loaded from its file under that name, so two functions whose code
    folders both hold an `app.py` each get their own module.
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
        target = _attribute(target, part, spec, module.__name__)
    if not callable(target):
        raise HandlerLoadError(f"handler {spec!r}: {attribute} is a {type(target).__name__}, not a function")
    return target  # type: ignore[no-any-return]


def _attribute(target: Any, part: str, spec: str, module: str) -> Any:
    """`getattr(target, part)`, with any failure (a module `__getattr__` or a property that raises)
    reported as a HandlerLoadError naming the handler."""
    try:
        return getattr(target, part)
    except AttributeError:
        raise HandlerLoadError(f"handler {spec!r}: {module} has no attribute {part!r}") from None
    except Exception as exc:
        raise HandlerLoadError(f"handler {spec!r}: reading {part!r} raised {describe_exception(exc)}") from exc


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
        if isinstance(exc.name, str) and exc.name and dotted.startswith(exc.name):
            raise HandlerLoadError(f"cannot import handler module {module_part!r}: no such module in {folder}") from exc
        raise HandlerLoadError(f"the handler module failed to import: {describe_exception(exc)}") from exc
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        # Any failure at import is Lambda's init error: an exception (Runtime.ImportModuleError,
        # Runtime.UserCodeSyntaxError), sys.exit() or another BaseException (Runtime.ExitError).
        raise HandlerLoadError(f"the handler module failed to import: {describe_exception(exc)}") from exc


def sam_environment(data: Mapping[str, Any], *functions: str) -> dict[str, str]:
    """The variables SAM's `--env-vars` file gives a function: `Parameters` (every function), then the
    entries named by `functions` (its logical ID, its name), later ones winning.

    Examples:
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
    return {str(key): _variable(key, value) for key, value in chosen.items()}


def _variable(name: object, value: object) -> str:
    """A variable's value as text: strings as they are, anything else as its JSON."""
    if isinstance(value, str):
        return value
    try:
        return json_dumps(value)  # exact: a Decimal from the env-vars file is written as it was read
    except (TypeError, ValueError, RecursionError) as exc:  # a set, an int too long to write, deep nesting...
        raise ValueError(
            f"variable {name!s}: its value cannot be written as text ({describe_exception(exc)})"
        ) from None


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
