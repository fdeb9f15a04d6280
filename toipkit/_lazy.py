"""Lazy public APIs: a subpackage names what it exports and where it lives, and the module is
imported on first use (so ``toipkit --help`` and light imports don't pull pandas or numpy)."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any


class _LazyPackage(types.ModuleType):
    """A package whose exported names win over submodules of the same name.

    ``toipkit.dialplan.lint`` is both a module and the function the package exports. Importing
    the module makes the import system set the package attribute ``lint`` to the module; this
    class ignores that, so ``from toipkit.dialplan import lint`` is the function whatever was
    imported before (as with an eager ``from .lint import lint`` in ``__init__``).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        exports = self.__dict__.get("_lazy_exports", {})
        if (name in exports and isinstance(value, types.ModuleType)
                and value.__name__ == f"{self.__name__}.{name}"):
            return
        super().__setattr__(name, value)


def lazy_exports(
    package: str, exports: dict[str, str], submodules: frozenset[str] | set[str] = frozenset(),
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for a package exporting ``name -> module``.

    A target ``"module:attribute"`` exports that attribute under another name. ``submodules``
    may be reached as attributes without importing them first (``xivo.sandbox.status()``).
    Call it from the package's ``__init__``.
    """
    names = sorted(exports)
    module_object = sys.modules[package]
    module_object.__dict__["_lazy_exports"] = exports
    module_object.__class__ = _LazyPackage

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
