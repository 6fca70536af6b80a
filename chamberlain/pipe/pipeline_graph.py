"""The pipeline graph: tasks and the dataset types that connect them.

Built by `chamberlain.pipe.Pipeline.resolve` once the task classes are
imported and their configs made: each task's connections (inputs,
prerequisite inputs, init-inputs, outputs, init-outputs) name dataset types,
and a task that reads a dataset type another writes runs after it. Each task
also writes the automatic dataset types ``<label>_config`` (init-output),
``<label>_metadata`` and ``<label>_log``. A connection to a component
(``calexp.wcs``) attaches to its parent dataset type (``calexp``).

`PipelineGraph.build` refuses, in one line naming the tasks and the dataset
type: two producers of one dataset type, a storage-class or dimension
mismatch between producer and consumer (or between two consumers' dimensions
when nothing produces it), a regular connection to an init dataset type or
the reverse, a prerequisite input produced in the pipeline, a component
written as an output, and a cycle. Task order is topological and
deterministic: among tasks whose inputs are all produced, labels in sorted order.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import Config
from .configurable import import_path
from .pipeline_file import PipelineGraphError

__all__ = ["ConnectionEdge", "DatasetTypeNode", "PipelineGraph", "TaskNode"]

#: Connection kinds, as named in the `PipelineTaskConnections` attribute sets.
READ_KINDS = ("inputs", "prerequisite_inputs", "init_inputs")
WRITE_KINDS = ("outputs", "init_outputs")
_INIT_KINDS = frozenset({"init_inputs", "init_outputs"})


@dataclass(frozen=True)
class ConnectionEdge:
    """One connection of a task to a dataset type.

    Attributes
    ----------
    task
        The task label.
    connection
        The connection's attribute name (``"automatic"`` for ``<label>_config``,
        ``_metadata`` and ``_log``).
    kind
        ``inputs``, ``prerequisite_inputs``, ``init_inputs``, ``outputs`` or ``init_outputs``.
    dataset_type
        The dataset type name as connected, possibly a component (``calexp.wcs``).
    storage_class
        The storage class the task reads or writes.
    dimensions
        The dataset type's dimensions (empty for init datasets).
    multiple
        Whether the task reads or writes a list.
    """

    task: str
    connection: str
    kind: str
    dataset_type: str
    storage_class: str
    dimensions: tuple[str, ...] = ()
    multiple: bool = False

    @property
    def parent(self) -> str:
        """The parent dataset type name (the name before the first ``.``)."""
        return self.dataset_type.partition(".")[0]

    @property
    def component(self) -> str | None:
        """The component read (``wcs`` of ``calexp.wcs``), or None."""
        return self.dataset_type.partition(".")[2] or None

    @property
    def is_init(self) -> bool:
        """Whether this is an init-input or init-output."""
        return self.kind in _INIT_KINDS


@dataclass(frozen=True)
class TaskNode:
    """A resolved task: its class, frozen config and connections.

    Attributes
    ----------
    label
        The task label.
    task_class
        The `PipelineTask` subclass.
    config
        Its config, with the pipeline's overrides applied, validated and frozen.
    dimensions
        The quantum dimensions.
    connections
        Every connection, the automatic ones included.
    """

    label: str
    task_class: type
    config: Config
    dimensions: frozenset[str]
    connections: tuple[ConnectionEdge, ...]

    @property
    def class_path(self) -> str:
        """The ``module.Class`` import path of the task class."""
        return import_path(self.task_class)


@dataclass(frozen=True)
class DatasetTypeNode:
    """A dataset type of the graph.

    Attributes
    ----------
    name
        The dataset type name (a parent, never a component).
    storage_class
        The producer's storage class, else the first consumer's.
    dimensions
        Its dimensions.
    producer
        The label of the task that writes it, or None for an overall input.
    consumers
        Labels of the tasks that read it (or a component of it), sorted.
    is_init
        Whether it is an init dataset (written or read once per run).
    is_prerequisite
        Whether some task reads it as a prerequisite input.
    automatic
        Whether it is one of the ``<label>_config/_metadata/_log`` datasets.
    """

    name: str
    storage_class: str
    dimensions: tuple[str, ...]
    producer: str | None
    consumers: tuple[str, ...]
    is_init: bool = False
    is_prerequisite: bool = False
    automatic: bool = False


class PipelineGraph:
    """Tasks and dataset types of a resolved pipeline, in topological order.

    Use `build` to make one (it checks the graph).

    Parameters
    ----------
    tasks : `~collections.abc.Mapping` [`str`, `TaskNode`]
        Label -> task, in topological order.
    dataset_types : `~collections.abc.Mapping` [`str`, `DatasetTypeNode`]
        Name -> dataset type, sorted by name.
    """

    def __init__(self, tasks: Mapping[str, TaskNode], dataset_types: Mapping[str, DatasetTypeNode]) -> None:
        self._tasks = dict(tasks)
        self._dataset_types = dict(dataset_types)

    @property
    def tasks(self) -> Mapping[str, TaskNode]:
        """Label -> `TaskNode`, in topological order."""
        return self._tasks

    @property
    def dataset_types(self) -> Mapping[str, DatasetTypeNode]:
        """Name -> `DatasetTypeNode`, sorted by name."""
        return self._dataset_types

    def overall_inputs(self) -> list[str]:
        """Return the dataset types no task of the pipeline writes.

        Returns
        -------
        names : `list` [`str`]
            Sorted dataset type names (prerequisites included).
        """
        return [n for n, d in self._dataset_types.items() if d.producer is None]

    def upstream_tasks(self, label: str) -> list[str]:
        """Return the labels of the tasks whose outputs ``label`` reads directly.

        Parameters
        ----------
        label : `str`
            A task label of the graph.

        Returns
        -------
        labels : `list` [`str`]
            Sorted labels.

        Raises
        ------
        KeyError
            If ``label`` is not a task of the graph.
        """
        node = self._tasks[label]
        producers = {
            self._dataset_types[edge.parent].producer for edge in node.connections if edge.kind in READ_KINDS
        }
        return sorted(p for p in producers if p is not None)

    @classmethod
    def build(cls, tasks: Iterable[TaskNode]) -> PipelineGraph:
        """Connect tasks by dataset type names, check the graph and order it.

        Parameters
        ----------
        tasks : `~collections.abc.Iterable` [`TaskNode`]
            The resolved tasks.

        Returns
        -------
        graph : `PipelineGraph`
            The checked graph.

        Raises
        ------
        PipelineGraphError
            For two producers of one dataset type, a storage-class, dimension or
            init/regular mismatch, a prerequisite produced in the pipeline, a
            component output, or a cycle (each named with its tasks and dataset type).
        """
        nodes = {t.label: t for t in tasks}
        writers: dict[str, ConnectionEdge] = {}
        readers: dict[str, list[ConnectionEdge]] = {}
        for node in nodes.values():
            for edge in node.connections:
                if edge.kind in WRITE_KINDS:
                    if edge.component is not None:
                        raise PipelineGraphError(
                            f"Task {edge.task!r} writes {edge.dataset_type!r} (connection {edge.connection!r}), "
                            "a component; outputs must be whole dataset types."
                        )
                    if edge.parent in writers:
                        other = writers[edge.parent].task
                        raise PipelineGraphError(
                            f"Dataset type {edge.parent!r} is produced by two tasks, {other!r} and {edge.task!r}."
                        )
                    writers[edge.parent] = edge
                else:
                    readers.setdefault(edge.parent, []).append(edge)
        dataset_types: dict[str, DatasetTypeNode] = {}
        for name in sorted(set(writers) | set(readers)):
            consumers = sorted(readers.get(name, []), key=lambda e: (e.task, e.connection))
            dataset_types[name] = _check_dataset_type(name, writers.get(name), consumers)
        ordered = _topological(nodes, writers, readers)
        return cls({label: nodes[label] for label in ordered}, dataset_types)

    def to_dict(self) -> dict[str, Any]:
        """Return the graph as JSON-ready data (the ``graph`` key of ``pipeline show --format json``).

        Returns
        -------
        data : `dict` [`str`, `~typing.Any`]
            ``tasks`` (in order: label, class, dimensions, connections) and
            ``dataset_types`` (name, storage_class, dimensions, producer,
            consumers, is_init, is_prerequisite, automatic).
        """
        return {
            "tasks": [
                {
                    "label": t.label,
                    "class": t.class_path,
                    "dimensions": sorted(t.dimensions),
                    "upstream": self.upstream_tasks(t.label),
                    "connections": [
                        {
                            "name": e.connection,
                            "kind": e.kind,
                            "dataset_type": e.dataset_type,
                            "storage_class": e.storage_class,
                            "dimensions": list(e.dimensions),
                            "multiple": e.multiple,
                        }
                        for e in t.connections
                    ],
                }
                for t in self._tasks.values()
            ],
            "dataset_types": [
                {
                    "name": d.name,
                    "storage_class": d.storage_class,
                    "dimensions": list(d.dimensions),
                    "producer": d.producer,
                    "consumers": list(d.consumers),
                    "is_init": d.is_init,
                    "is_prerequisite": d.is_prerequisite,
                    "automatic": d.automatic,
                }
                for d in self._dataset_types.values()
            ],
        }


def _check_dataset_type(
    name: str, writer: ConnectionEdge | None, consumers: list[ConnectionEdge]
) -> DatasetTypeNode:
    reference = writer or consumers[0]
    for edge in consumers:
        role = "produces" if writer is not None else "reads"
        if edge.is_init != reference.is_init:
            kinds = (reference.kind, edge.kind)
            raise PipelineGraphError(
                f"Dataset type {name!r}: task {reference.task!r} {role} it as {kinds[0]} but task "
                f"{edge.task!r} reads it as {kinds[1]}; init and regular datasets cannot be mixed."
            )
        if set(edge.dimensions) != set(reference.dimensions):
            raise PipelineGraphError(
                f"Dataset type {name!r}: task {reference.task!r} {role} it with dimensions "
                f"{sorted(reference.dimensions)} but task {edge.task!r} reads it with {sorted(edge.dimensions)}."
            )
        if writer is not None and edge.component is None and edge.storage_class != writer.storage_class:
            raise PipelineGraphError(
                f"Dataset type {name!r}: task {writer.task!r} produces it with storage class "
                f"{writer.storage_class!r} but task {edge.task!r} reads it as {edge.storage_class!r}."
            )
        if writer is not None and edge.kind == "prerequisite_inputs":
            raise PipelineGraphError(
                f"Dataset type {name!r} is a prerequisite input of task {edge.task!r} but task "
                f"{writer.task!r} produces it; prerequisites must exist before the pipeline runs."
            )
    storage_class = reference.storage_class if reference.component is None else ""
    if not storage_class:
        storage_class = next((e.storage_class for e in consumers if e.component is None), "")
    return DatasetTypeNode(
        name=name,
        storage_class=storage_class,
        dimensions=tuple(sorted(reference.dimensions)),
        producer=writer.task if writer is not None else None,
        consumers=tuple(sorted({e.task for e in consumers})),
        is_init=reference.is_init,
        is_prerequisite=any(e.kind == "prerequisite_inputs" for e in consumers),
        automatic=writer is not None and writer.connection == "automatic",
    )


def _topological(
    nodes: Mapping[str, TaskNode],
    writers: Mapping[str, ConnectionEdge],
    readers: Mapping[str, list[ConnectionEdge]],
) -> list[str]:
    """Order the tasks; a cycle is reported as task -> dataset type -> task ..."""
    sorter: graphlib.TopologicalSorter[tuple[str, str]] = graphlib.TopologicalSorter()
    for label in sorted(nodes):
        sorter.add(("task", label))
    for name, edge in sorted(writers.items()):
        sorter.add(("dataset", name), ("task", edge.task))
    for name, edges in sorted(readers.items()):
        if name in writers:
            for edge in edges:
                sorter.add(("task", edge.task), ("dataset", name))
    try:
        sorter.prepare()
    except graphlib.CycleError as err:
        cycle = [f"task {n!r}" if kind == "task" else f"dataset type {n!r}" for kind, n in err.args[1]]
        raise PipelineGraphError(f"The pipeline has a cycle: {' -> '.join(cycle)}.") from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(name for kind, name in ready if kind == "task")
        sorter.done(*ready)
    return order
