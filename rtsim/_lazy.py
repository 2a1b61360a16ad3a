"""Lazy package exports (PEP 562): a package's names load with their module, on first use.

``import rtsim.features.onset`` should not pay for torch because ``rtsim/features``
re-exports a torch front end; a command must be able to check its inputs and fail in a
fraction of a second before anything heavy loads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, namespace: dict,
                 home: dict[str, tuple[str, ...]]) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package`` whose names live in ``home``'s modules.

    ``home`` maps a module to the names it defines; a name is imported from it the first
    time it is asked for, then cached in the package's ``namespace``.
    """
    where = {name: module for module, names in home.items() for name in names}

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
