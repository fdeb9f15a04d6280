"""Lazy public APIs: a subpackage names what it exports and where it lives, and the module is
imported on first use (so ``toipkit --help`` and light imports don't pull pandas or numpy)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, exports: dict[str, str], submodules: frozenset[str] | set[str] = frozenset(),
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for a package exporting ``name -> module``.

    ``submodules`` may be reached as attributes without importing them first
    (``xivo.sandbox.status()``).
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
