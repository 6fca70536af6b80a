"""Tasks built on the registry and the task framework: `DefineVisitsTask`, ..."""

from __future__ import annotations

from .define_visits import DefineVisitsConfig, DefineVisitsTask

__all__ = ["DefineVisitsConfig", "DefineVisitsTask"]
