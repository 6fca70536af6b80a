"""Tasks built on the registry, the Butler and the task framework.

`DefineVisitsTask` groups exposures into visits; `GetTemplateTask` and
`GetDcrTemplateTask` build difference-imaging templates from coadds.
Importing this package does not import the template machinery (reproject,
scipy) until a template task is used.
"""

from __future__ import annotations

from typing import Any

from .define_visits import DefineVisitsConfig, DefineVisitsTask

_TEMPLATE_NAMES = {
    "CoaddHandle",
    "GetDcrTemplateConfig",
    "GetDcrTemplateConnections",
    "GetDcrTemplateTask",
    "GetTemplateConfig",
    "GetTemplateConnections",
    "GetTemplateTask",
}


def __getattr__(name: str) -> Any:
    if name in _TEMPLATE_NAMES:
        from . import get_template

        return getattr(get_template, name)
    raise AttributeError(f"module 'chamberlain.tasks' has no attribute {name!r}")


__all__ = ["DefineVisitsConfig", "DefineVisitsTask", *sorted(_TEMPLATE_NAMES)]
