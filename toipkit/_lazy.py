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

    A target ``"module:attribute"`` exports that attribute under another name.

    ``submodules`` may be reached as attributes without importing them first
    (``xivo.sandbox.status()``).
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute or name)

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
