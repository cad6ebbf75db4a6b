"""Every simulator the sandbox mounts: each module of this package that defines a `VendorApp`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import sandbox
from sandbox.core import VendorApp


def _discover() -> list[type[VendorApp]]:
    apps: list[type[VendorApp]] = []
    for module_info in sorted(pkgutil.iter_modules(sandbox.__path__), key=lambda m: m.name):
        if module_info.name in {"core", "registry", "jsonbody", "__main__"}:
            continue
        module = importlib.import_module(f"sandbox.{module_info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, VendorApp) and obj is not VendorApp and obj.__module__ == module.__name__:
                apps.append(obj)
    return apps


APPS = _discover()
