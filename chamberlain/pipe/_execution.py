"""Quantum execution: running a `PipelineTask` quantum against a real repository.

`ButlerQuantumContext` is the `QuantumContext` whose reads and writes go to a
`Butler`; `make_quantum_refs` finds a quantum's input datasets in collections
and makes its output refs in a RUN; `run_quantum` does both and runs the task
in one butler transaction, so a task that fails (or raises `NoWorkFound`)
leaves no output behind.

The task framework sits above `chamberlain.butler` (ARCHITECTURE.md), so this
module may use the `Butler`; the rest of `chamberlain.pipe` does not need it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import uuid_utils.compat

from chamberlain.butler import Butler, DeferredDatasetHandle
from chamberlain.datasets import DatasetRef, DatasetType
from chamberlain.dimensions import DataCoordinate
from chamberlain.errors import MissingDatasetTypeError, TaskError

from .connection_types import DimensionedConnection, Input, PrerequisiteInput
from .connections import PipelineTaskConnections
from .pipeline_task import PipelineTask
from .quantum_context import ExecutionResources, QuantumContext
from .refs import InputRefs, OutputRefs

__all__ = [
    "ButlerQuantumContext",
    "make_quantum_refs",
    "run_quantum",
]


class ButlerQuantumContext(QuantumContext):
    """A `QuantumContext` that reads and writes datasets through a `Butler`.

    Parameters
    ----------
    butler
        The repository; writeable if the quantum has outputs.
    input_refs, output_refs
        The quantum's resolved refs (`DatasetRef`); `get` and `put` refuse
        refs not among them.
    resources
        What the task may use.
    """

    def __init__(
        self,
        butler: Butler,
        input_refs: InputRefs | None = None,
        output_refs: OutputRefs | None = None,
        resources: ExecutionResources | None = None,
    ) -> None:
        super().__init__(input_refs, output_refs, resources)
        self.butler = butler

    @staticmethod
    def _ref(ref: Hashable) -> DatasetRef:
        if not isinstance(ref, DatasetRef):
            raise TaskError(f"ButlerQuantumContext needs DatasetRef objects, not {ref!r}.")
        return ref

    def _get_one(self, ref: Hashable) -> Any:
        """Read one dataset (one lookup of its file record, then the file)."""
        return self.butler.get(self._ref(ref))

    def _get_deferred(self, ref: Hashable) -> DeferredDatasetHandle:
        """Return a handle that reads nothing until its ``get`` (``bbox``/component reads stay partial)."""
        return self.butler.get_deferred(self._ref(ref))

    def _put_one(self, obj: Any, ref: Hashable) -> None:
        """Write one dataset with the ref's ID, in the ref's RUN."""
        self.butler.put(obj, self._ref(ref))


def _dataset_type(butler: Butler, attr: str, conn: DimensionedConnection, *, register: bool) -> DatasetType:
    """Return the registered dataset type of a connection, checked against its declaration."""
    registry = butler.registry
    try:
        dataset_type = registry.get_dataset_type(conn.name)
    except MissingDatasetTypeError:
        if not register:
            raise
        dataset_type = DatasetType(
            conn.name,
            conn.dimensions,
            conn.storage_class,
            registry.universe,
            is_calibration=conn.is_calibration,
        )
        registry.register_dataset_type(dataset_type)
        return dataset_type
    declared = registry.universe.conform(conn.dimensions)
    if dataset_type.dimensions != declared:
        raise TaskError(
            f"Connection {attr!r} declares dataset type {conn.name!r} with dimensions "
            f"{sorted(declared.required)}, but the repository has it with {sorted(dataset_type.dimensions.required)}."
        )
    return dataset_type


def _find_inputs(
    butler: Butler,
    dataset_type: DatasetType,
    quantum_id: DataCoordinate,
    collections: Sequence[str],
) -> list[DatasetRef]:
    """Datasets of one input connection that match the quantum's data ID (find-first, one query).

    For a calibration type the whole quantum data ID constrains the query, so
    its exposure/visit/day_obs joins in and CALIBRATION collections give the
    dataset certified at the quantum's time.
    """
    names = set(dataset_type.dimensions.names)
    constraint = {k: v for k, v in quantum_id.required.items() if k in names or dataset_type.is_calibration}
    results = butler.registry.query_datasets(
        dataset_type,
        collections,
        data_id=constraint,
        find_first=True,
        order_by=list(dataset_type.dimensions.required),
    )
    return list(results)


def make_quantum_refs(
    task: PipelineTask | PipelineTaskConnections,
    butler: Butler,
    data_id: Mapping[str, Any],
    *,
    input_collections: str | Sequence[str],
    output_run: str,
    register_dataset_types: bool = False,
) -> tuple[DataCoordinate, InputRefs, OutputRefs]:
    """Resolve one quantum: find its inputs in collections and make its output refs in a RUN.

    Each input (and prerequisite) connection gets the datasets of its type
    whose data IDs agree with the quantum data ID on their shared dimensions,
    found first-first in ``input_collections`` (one query per connection).
    Calibration inputs searched in CALIBRATION collections are the datasets
    certified at the time of the quantum's exposure, visit or day_obs.
    Each output gets a new ref (a fresh UUID) in ``output_run`` with the
    quantum data ID reduced to the output's dimensions. The base checks of
    `PipelineTaskConnections.make_quantum_refs` then apply.

    Parameters
    ----------
    task
        The task (its connections are resolved with its config) or connections.
    butler
        The repository.
    data_id
        The quantum's data ID: values for the connections' quantum dimensions.
    input_collections
        Collections searched for inputs, in order.
    output_run
        RUN the outputs will be written to (registered if missing; needs a
        writeable butler then).
    register_dataset_types
        Register dataset types of connections that the repository does not
        know yet (from the connection's name, dimensions and storage class).

    Returns
    -------
    tuple
        (quantum data ID, input refs, output refs).

    Raises
    ------
    NoWorkFound
        If a regular input has fewer datasets than its ``minimum``.
    DatasetNotFoundError
        If a prerequisite input has fewer datasets than its ``minimum``.
    MissingDatasetTypeError
        If a connection's dataset type is not registered (and
        ``register_dataset_types`` is False).
    TaskError
        If a registered dataset type's dimensions differ from the connection's,
        or an output has a dimension the quantum does not.
    """
    connections = task.get_connections() if isinstance(task, PipelineTask) else task
    universe = butler.registry.universe
    quantum_group = universe.conform(connections.dimensions)
    quantum_id = butler.registry.expand_data_id(
        DataCoordinate.standardize(dict(data_id), dimensions=quantum_group)
    )
    collections = [input_collections] if isinstance(input_collections, str) else list(input_collections)
    resolved = connections.all_connections()
    inputs: dict[str, list[DatasetRef]] = {}
    for attr in sorted(set(connections.inputs) | set(connections.prerequisite_inputs)):
        conn = resolved[attr]
        assert isinstance(conn, Input | PrerequisiteInput)
        dataset_type = _dataset_type(butler, attr, conn, register=register_dataset_types)
        inputs[attr] = _find_inputs(butler, dataset_type, quantum_id, collections)
    outputs: dict[str, DatasetRef] = {}
    if connections.outputs:
        butler.registry.register_run(output_run)
    for attr in sorted(connections.outputs):
        conn = resolved[attr]
        assert isinstance(conn, DimensionedConnection)
        dataset_type = _dataset_type(butler, attr, conn, register=register_dataset_types)
        extra = set(dataset_type.dimensions.required) - set(quantum_group.names)
        if extra:
            raise TaskError(
                f"Output {attr!r} ({conn.name}) has dimension(s) {sorted(extra)} that the quantum "
                f"dimensions {sorted(quantum_group.required)} do not determine."
            )
        coord = quantum_id.subset(dataset_type.dimensions)
        outputs[attr] = DatasetRef(dataset_type, coord, output_run, uuid_utils.compat.uuid7())
    input_refs, output_refs = connections.make_quantum_refs(inputs, outputs)
    return quantum_id, input_refs, output_refs


def run_quantum(
    task: PipelineTask,
    butler: Butler,
    data_id: Mapping[str, Any],
    *,
    input_collections: str | Sequence[str],
    output_run: str,
    register_dataset_types: bool = False,
    resources: ExecutionResources | None = None,
) -> ButlerQuantumContext:
    """Run one quantum of ``task`` for ``data_id``, reading and writing real datasets.

    Finds the inputs (`make_quantum_refs`), then calls ``task.run_quantum``
    with a `ButlerQuantumContext`, inside one butler transaction: if the task
    raises (including `NoWorkFound`), the outputs it wrote are removed and the
    exception propagates.

    Parameters
    ----------
    task
        The task to run.
    butler
        A writeable butler.
    data_id
        The quantum data ID.
    input_collections, output_run, register_dataset_types
        See `make_quantum_refs`.
    resources
        What the task may use.

    Returns
    -------
    ButlerQuantumContext
        The context, whose ``read_refs`` and ``written_refs`` list what was read
        and written.

    Raises
    ------
    NoWorkFound
        If an input has too few datasets, or the task found nothing to do.
    ReadOnlyError
        If the butler is read-only.
    """
    butler._check_writeable(f"run a quantum of {type(task).__name__}")
    _, input_refs, output_refs = make_quantum_refs(
        task,
        butler,
        data_id,
        input_collections=input_collections,
        output_run=output_run,
        register_dataset_types=register_dataset_types,
    )
    context = ButlerQuantumContext(butler, input_refs, output_refs, resources)
    with butler.transaction():
        task.run_quantum(context, input_refs, output_refs)
    return context
