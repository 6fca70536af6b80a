"""`PipelineTask` and `PipelineTaskConfig`: tasks run by the pipeline executors."""

from __future__ import annotations

from typing import Any, ClassVar

import pydantic

from chamberlain.errors import TaskError

from .config import Config, field
from .connections import PipelineTaskConnections
from .quantum_context import QuantumContext
from .refs import InputRefs, OutputRefs
from .struct import Struct
from .task import Task

__all__ = ["PipelineTask", "PipelineTaskConfig"]

_ModelMetaclass: Any = type(Config)


class _PipelineTaskConfigMeta(_ModelMetaclass):
    """Adds the ``connections`` field for the ``pipeline_connections`` class keyword."""

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        pipeline_connections: type[PipelineTaskConnections] | None = None,
        **kwargs: Any,
    ) -> Any:
        if pipeline_connections is not None:
            if not (
                isinstance(pipeline_connections, type)
                and issubclass(pipeline_connections, PipelineTaskConnections)
            ):
                raise TaskError(
                    f"pipeline_connections for {name} must be a PipelineTaskConnections subclass, "
                    f"not {pipeline_connections!r}."
                )
            connections_config = pipeline_connections.ConnectionsConfig
            namespace.setdefault("__annotations__", {})["connections"] = connections_config
            namespace["connections"] = pydantic.Field(
                default_factory=connections_config,
                description=f"Dataset type names and templates of {pipeline_connections.__name__}.",
            )
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if pipeline_connections is not None:
            cls.connections_class = pipeline_connections
        return cls


class PipelineTaskConfig(
    Config, metaclass=_PipelineTaskConfigMeta, pipeline_connections=PipelineTaskConnections
):
    """Base config of a `PipelineTask`.

    Declare ``class MyConfig(PipelineTaskConfig, pipeline_connections=MyConnections)``
    to get ``config.connections`` with one field per connection and template.
    """

    connections_class: ClassVar[type[PipelineTaskConnections]]
    save_log_output: bool = field(True, "Whether the executor saves the task's log as a dataset.")


class PipelineTask(Task):
    """A `Task` with declared connections, run one quantum at a time.

    Subclasses set ``ConfigClass`` to a `PipelineTaskConfig` subclass and
    implement ``run(**inputs) -> Struct`` whose attribute names are the output
    connection names.

    Parameters
    ----------
    config, name, parent_task, log
        As for `Task`.
    init_inputs
        Objects read for the ``InitInput`` connections, by connection name.
    """

    ConfigClass: ClassVar[type[Config]] = PipelineTaskConfig
    config: PipelineTaskConfig

    def __init__(
        self,
        config: Config | None = None,
        *,
        name: str | None = None,
        parent_task: Task | None = None,
        log: Any = None,
        init_inputs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(config, name=name, parent_task=parent_task, log=log)
        if not isinstance(self.config, PipelineTaskConfig):
            raise TaskError(
                f"{type(self).__name__}.ConfigClass must derive from PipelineTaskConfig, "
                f"not {type(self.config).__name__}."
            )
        self.init_inputs = dict(init_inputs or {})

    def get_connections(self) -> PipelineTaskConnections:
        """Return the connections resolved with this task's config.

        Returns
        -------
        connections : `PipelineTaskConnections`
            A new instance of the config's ``connections_class``.
        """
        return self.config.connections_class(config=self.config)

    def run(self, **kwargs: Any) -> Struct:
        """Do the work on in-memory inputs; subclasses implement this.

        Parameters
        ----------
        **kwargs
            The inputs by connection name (objects, lists or deferred handles).

        Returns
        -------
        result : `Struct`
            The outputs, one attribute per output connection name.

        Raises
        ------
        TaskError
            If the subclass does not implement it.
        """
        raise TaskError(f"{type(self).__name__} does not implement run().")

    def run_quantum(self, butler_qc: QuantumContext, input_refs: InputRefs, output_refs: OutputRefs) -> None:
        """Read the inputs, call `run`, and write its outputs.

        Override to use data IDs or to prepare arguments; `NoWorkFound` raised
        here or in `run` propagates to the executor, which records "no work".

        Parameters
        ----------
        butler_qc
            The quantum's I/O context.
        input_refs
            Input refs by connection name.
        output_refs
            Output refs by connection name.
        """
        inputs = butler_qc.get(input_refs)
        outputs = self.run(**inputs)
        if not isinstance(outputs, Struct):
            raise TaskError(
                f"{type(self).__name__}.run() must return a Struct, not {type(outputs).__name__}."
            )
        butler_qc.put(outputs, output_refs)

    def _reduce_kwargs(self) -> dict[str, Any]:
        kwargs = super()._reduce_kwargs()
        kwargs["init_inputs"] = self.init_inputs
        return kwargs
