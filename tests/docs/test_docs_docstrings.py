"""Every public module, class, function and method of the package has a docstring."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import chamberlain


def _public_modules() -> list:
    modules = []
    for info in pkgutil.walk_packages(chamberlain.__path__, "chamberlain."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or ".migrations" in info.name:
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def _undocumented() -> list[str]:
    missing = []
    for module in _public_modules():
        if not inspect.getdoc(module):
            missing.append(module.__name__)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not (obj.__doc__ or "").strip():
                missing.append(f"{module.__name__}.{name}")
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    func = member.fget if isinstance(member, property) else member
                    if isinstance(func, classmethod | staticmethod):
                        func = func.__func__
                    if inspect.isfunction(func) and not inspect.getdoc(func):
                        missing.append(f"{module.__name__}.{name}.{attr}")
    return missing


def test_every_public_name_has_a_docstring() -> None:
    missing = _undocumented()
    assert not missing, f"{len(missing)} public names lack docstrings: {missing[:40]}"
