"""Resource-usage recording for tasks: the ``timer`` primitives and `time_method`.

Each call of `log_usage` appends, under keys ``<prefix><Field>``, the current UTC time
(``Utc``, an ISO-8601 string) and the process's resource usage: ``CpuTime``
(`time.process_time`), ``UserTime``, ``SystemTime``, ``MaxResidentSetSize`` (bytes),
``MinorPageFaults``, ``MajorPageFaults``, ``BlockInputs``, ``BlockOutputs``,
``VoluntaryContextSwitches`` and ``InvoluntaryContextSwitches``, and sets
``__version__ = 1``. The key names are the Rubin ones unchanged (``runStartCpuTime``,
``runEndUtc``, ...) so tools that read task metadata find them; values are ``add``-ed,
so repeated calls accumulate arrays.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from .metadata import TaskMetadata
    from .task import Task

try:  # pragma: no cover - always present on POSIX.
    import resource
except ImportError:  # pragma: no cover - Windows.
    resource = None  # type: ignore[assignment]

__all__ = ["log_usage", "time_method", "USAGE_FIELDS"]

#: Suffixes recorded by `log_usage`, in order (``Utc`` first).
USAGE_FIELDS: tuple[str, ...] = (
    "Utc",
    "CpuTime",
    "UserTime",
    "SystemTime",
    "MaxResidentSetSize",
    "MinorPageFaults",
    "MajorPageFaults",
    "BlockInputs",
    "BlockOutputs",
    "VoluntaryContextSwitches",
    "InvoluntaryContextSwitches",
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _usage() -> dict[str, int | float]:
    result: dict[str, int | float] = {"CpuTime": time.process_time()}
    if resource is None:  # pragma: no cover
        return result
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rss_scale = 1 if sys.platform == "darwin" else 1024
    result.update(
        UserTime=float(ru.ru_utime),
        SystemTime=float(ru.ru_stime),
        MaxResidentSetSize=int(ru.ru_maxrss) * rss_scale,
        MinorPageFaults=int(ru.ru_minflt),
        MajorPageFaults=int(ru.ru_majflt),
        BlockInputs=int(ru.ru_inblock),
        BlockOutputs=int(ru.ru_oublock),
        VoluntaryContextSwitches=int(ru.ru_nvcsw),
        InvoluntaryContextSwitches=int(ru.ru_nivcsw),
    )
    return result


def log_usage(
    metadata: TaskMetadata,
    prefix: str,
    logger: logging.Logger | None = None,
    log_level: int = logging.DEBUG,
) -> None:
    """Append the current time and resource usage to ``metadata``.

    Parameters
    ----------
    metadata
        Where to record; keys are ``prefix`` + a name from `USAGE_FIELDS`.
    prefix
        Key prefix, for example ``runStart``.
    logger
        If given, the values are also logged to it at ``log_level`` as
        ``name=value; ...``.
    log_level
        The logging level for ``logger``.
    """
    values: dict[str, Any] = {"Utc": datetime.now(UTC).isoformat()}
    values.update(_usage())
    metadata["__version__"] = 1
    for field, value in values.items():
        metadata.add(prefix + field, value)
    if logger is not None and logger.isEnabledFor(log_level):
        logger.log(log_level, "; ".join(f"{prefix}{k}={v}" for k, v in values.items()))


def time_method(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a `Task` method to record its resource usage in the task metadata.

    The keys use the method's name: ``<name>Start<Field>`` on entry and
    ``<name>End<Field>`` on exit (also when the method raises).

    Parameters
    ----------
    func : `~collections.abc.Callable`
        A method of a `Task` subclass.

    Returns
    -------
    wrapper : `~collections.abc.Callable`
        The method, wrapped in `Task.timer`, with the same signature.
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        task: Task = args[0]  # type: ignore[assignment]
        with task.timer(func.__name__):
            return func(*args, **kwargs)

    return wrapper
