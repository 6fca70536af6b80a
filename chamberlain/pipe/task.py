"""`Task`: the base class of configurable, nestable units of work."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from chamberlain.errors import ConfigError, TaskError

from .config import Config, ConfigHolder
from .configurable import ConfigurableField, configurable_field
from .metadata import TaskMetadata
from .timing import log_usage

__all__ = ["Task"]


class Task:
    """Base class for tasks: a config, a name, subtasks, metadata and a logger.

    Parameters
    ----------
    config
        The configuration. Defaults to ``ConfigClass()`` for a top-level task and
        to the parent's ``config.<name>`` for a subtask. It is validated here.
    name
        The task's name; defaults to `default_name` for a top-level task and is
        required for a subtask.
    parent_task
        The parent, for a subtask.
    log
        A logger to nest under: the task's logger becomes ``<log.name>.<name>``.
        Otherwise a top-level task logs to the logger named after its name and
        a subtask to a child of its parent's logger, so logger names are the
        full task names.

    Raises
    ------
    TaskError
        If no name can be determined, or the config is not a ``ConfigClass``.
    ConfigError
        If the config does not validate.
    """

    #: The config class; subclasses override.
    ConfigClass: ClassVar[type[Config]] = Config
    #: The name a top-level task gets when none is passed (Rubin's ``_DefaultName``).
    default_name: ClassVar[str | None] = None
    #: Whether an executor may run this task in a subprocess.
    can_multiprocess: ClassVar[bool] = True

    metadata: TaskMetadata
    config: Config
    log: logging.Logger

    def __init__(
        self,
        config: Config | None = None,
        *,
        name: str | None = None,
        parent_task: Task | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.metadata = TaskMetadata()
        self._parent_task: weakref.ReferenceType[Task] | None = None
        if parent_task is None:
            if name is None:
                name = self.default_name
            if not name:
                raise TaskError(
                    f"{type(self).__name__} needs a name: pass name= or set the class attribute default_name."
                )
            self._name = name
            self._full_name = name
            self._task_dict: dict[str, weakref.ReferenceType[Task]] = {}
            if config is None:
                config = self.ConfigClass()
            logger_name = f"{log.name}.{name}" if log is not None and log.name else name
        else:
            if not name:
                raise TaskError(
                    f"A subtask of {parent_task.get_full_name()!r} ({type(self).__name__}) needs a name."
                )
            self._name = name
            self._full_name = f"{parent_task.get_full_name()}.{name}"
            self._task_dict = parent_task._task_dict
            self._parent_task = weakref.ref(parent_task)
            if config is None:
                held = getattr(parent_task.config, name, None)
                if held is None:
                    raise TaskError(f"Parent config {parent_task.config._path} has no field {name!r}.")
                config = held._selected() if isinstance(held, ConfigHolder) else held
            parent_log = log if log is not None else parent_task.log
            logger_name = f"{parent_log.name}.{name}"
        if not isinstance(config, self.ConfigClass):
            raise TaskError(
                f"Task {self._full_name!r} ({type(self).__name__}) needs a {self.ConfigClass.__name__}, "
                f"not {type(config).__name__}."
            )
        self.config = config
        self.log = logging.getLogger(logger_name)
        config.validate()
        self._task_dict[self._full_name] = weakref.ref(self)

    # ------------------------------------------------------------------ names

    def get_name(self) -> str:
        """Return the task's short name (``sub2`` for ``top.sub.sub2``).

        Returns
        -------
        name : `str`
            The name given at construction (the config field name for a subtask).
        """
        return self._name

    def get_full_name(self) -> str:
        """Return the dotted name from the top-level task (``top.sub.sub2``).

        Returns
        -------
        full_name : `str`
            The names of the task's ancestors and its own, joined by dots.
        """
        return self._full_name

    def get_task_dict(self) -> dict[str, Task]:
        """Return a new dict full name -> task for the whole hierarchy.

        Any member of the hierarchy returns the same content. Tasks that no
        longer exist are left out (the hierarchy holds weak references).

        Returns
        -------
        tasks : `dict` [`str`, `Task`]
            Full dotted name -> task, the top-level task included.
        """
        result: dict[str, Task] = {}
        for full_name, ref in self._task_dict.items():
            task = ref()
            if task is not None:
                result[full_name] = task
        return result

    @property
    def parent_task(self) -> Task | None:
        """The parent task, if this is a subtask that is still alive."""
        return self._parent_task() if self._parent_task is not None else None

    # --------------------------------------------------------------- subtasks

    def make_subtask(self, name: str, **kwargs: Any) -> None:
        """Build the subtask configured by ``self.config.<name>`` as ``self.<name>``.

        Parameters
        ----------
        name
            The name of a subtask or registry field of this task's config.
        **kwargs
            Extra constructor arguments for the subtask (schemas, butlers ...).

        Raises
        ------
        ConfigError
            If the config has no such field or it is not a subtask/registry field.
        """
        if name not in type(self.config).model_fields:
            raise ConfigError(
                f"Cannot make subtask {name!r} of {self._full_name!r}: "
                f"{type(self.config).__name__} has no field {name!r}."
            )
        held = getattr(self.config, name)
        if not isinstance(held, ConfigHolder):
            raise ConfigError(
                f"Cannot make subtask {name!r} of {self._full_name!r}: field {name!r} is a "
                f"{type(held).__name__}, not a subtask or registry field."
            )
        subtask = held.apply(name=name, parent_task=self, **kwargs)  # type: ignore[attr-defined]
        setattr(self, name, subtask)

    @classmethod
    def make_field(cls, doc: str) -> Any:
        """Declare a config field holding a retargetable `ConfigurableField` for this class.

        Parameters
        ----------
        doc : `str`
            Help text for the field.

        Returns
        -------
        field : `pydantic.fields.FieldInfo`
            The field declaration, to assign to an annotated attribute of the
            parent task's config class.
        """
        return configurable_field(cls, doc)

    @classmethod
    def make_configurable(cls) -> ConfigurableField:
        """Return a standalone `ConfigurableField` targeting this class.

        Returns
        -------
        field : `ConfigurableField`
            A holder of this class and a default instance of its ``ConfigClass``.
        """
        return ConfigurableField(cls)

    # --------------------------------------------------------------- metadata

    def _tasks(self) -> list[Task]:
        return list(self.get_task_dict().values())

    def empty_metadata(self) -> None:
        """Replace the metadata of every task in the hierarchy with an empty one."""
        for task in self._tasks():
            task.metadata = TaskMetadata()

    def get_full_metadata(self) -> TaskMetadata:
        """Return the metadata of every task in the hierarchy.

        Top-level keys are full task names with ``.`` replaced by ``:``; the
        values are each task's own metadata, so item paths read
        ``top:sub:subsub.item_name``.

        Returns
        -------
        metadata : `TaskMetadata`
            A new object holding deep copies of each task's metadata.
        """
        full = TaskMetadata()
        for full_name, task in self.get_task_dict().items():
            full.metadata[full_name.replace(".", ":")] = task.metadata.model_copy(deep=True)
        return full

    @contextmanager
    def timer(self, name: str, log_level: int = logging.DEBUG) -> Iterator[None]:
        """Record resource usage around a block in ``self.metadata``.

        Keys are ``<name>Start<Field>`` on entry and ``<name>End<Field>`` on
        exit (also on error); see `chamberlain.pipe.timing` for the fields.
        Values are also logged to ``timer.<logger name>`` at ``log_level``.
        Use as ``with task.timer("step"): ...``.

        Parameters
        ----------
        name : `str`
            The prefix of the metadata keys.
        log_level : `int`, optional
            The `logging` level of the log messages.

        Yields
        ------
        None
            Control passes to the ``with`` block.
        """
        logger = logging.getLogger(f"timer.{self.log.name}")
        log_usage(self.metadata, f"{name}Start", logger, log_level)
        try:
            yield
        finally:
            log_usage(self.metadata, f"{name}End", logger, log_level)

    # ---------------------------------------------------------------- pickling

    def _reduce_kwargs(self) -> dict[str, Any]:
        """Return the constructor keyword arguments used when pickling."""
        return {"config": self.config, "name": self._name, "parent_task": self.parent_task}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_task, (type(self), self._reduce_kwargs()))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._full_name!r}>"


def _rebuild_task(cls: type[Task], kwargs: dict[str, Any]) -> Task:
    return cls(**kwargs)
