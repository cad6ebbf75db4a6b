"""The one scan of this package: every vendor's module (`sandbox/sandbox/<vendor>.py`, its simulator and its
PROFILE). The server mounts their simulators (`sandbox.core`), the tests and scripts read their profiles
(`sandbox.profiles`); neither keeps a list of vendors. This module imports no other module of the package
itself, so that `core` can ask it for the simulators without an import circle."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing as t
from functools import cache
from types import ModuleType

import sandbox

#: the modules of this package that serve every vendor alike
SHARED_MODULES = frozenset({"__main__", "core", "discovery", "jsonbody", "profiles"})

T = t.TypeVar("T")


@cache
def vendor_modules() -> tuple[ModuleType, ...]:
    """Every vendor's module, by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(sandbox.__path__) if info.name not in SHARED_MODULES)
    return tuple(importlib.import_module(f"sandbox.{name}") for name in names)


def classes(base: type[T]) -> list[type[T]]:
    """The subclasses of `base` that the vendor modules define (each module's own, not those it imports)."""
    return [
        member
        for module in vendor_modules()
        for _, member in inspect.getmembers(module, inspect.isclass)
        if issubclass(member, base) and member is not base and member.__module__ == module.__name__
    ]


def values(kind: type[T], name: str) -> list[T]:
    """The module attribute `name` of every vendor module that has one of type `kind` (e.g. each PROFILE)."""
    return [value for module in vendor_modules() if isinstance(value := getattr(module, name, None), kind)]
