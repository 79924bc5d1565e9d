"""Build shardline, with its optional C accelerator when it can be built.

Everything about the package is declared in pyproject.toml; this file only adds the extension
``shardline._speedups``, compiled against the stable ABI of Python 3.10 (one wheel per platform serves
Python 3.10 to 3.13). Where it cannot be built (no C compiler, no Python headers, PyPy, or
``SHARDLINE_NO_EXTENSION=1``), shardline installs as pure Python, which is the reference implementation:
an install never fails for want of a compiler.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = Path("src", "shardline", "_speedups.c")
LIMITED_API = "0x030A0000"  # Python 3.10: the oldest runtime AWS Lambda supports that shardline targets


class OptionalBuildExt(build_ext):
    """build_ext that warns and goes on, pure Python, when the extension does not compile."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - no compiler at all: distutils' platform errors
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - a compile or link error: the pure Python codec serves
            self._skip(exc)

    @staticmethod
    def _skip(exc: BaseException) -> None:
        sys.stderr.write(
            f"warning: shardline's C accelerator was not built ({exc}); installing the pure Python codec,"
            " which gives the same results, more slowly\n"
        )


def extensions() -> list[Extension]:
    if os.environ.get("SHARDLINE_NO_EXTENSION", "") not in ("", "0"):
        return []
    if platform.python_implementation() != "CPython" or not SOURCE.exists():
        return []
    return [
        Extension(
            "shardline._speedups",
            sources=[str(SOURCE)],
            define_macros=[("Py_LIMITED_API", LIMITED_API)],
            py_limited_api=True,
            optional=True,
        )
    ]


modules = extensions()
setup(
    ext_modules=modules,
    cmdclass={"build_ext": OptionalBuildExt},
    options={"bdist_wheel": {"py_limited_api": "cp310"}} if modules else {},
)
