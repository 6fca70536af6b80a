"""`QuantumContext`: the I/O interface a `PipelineTask` uses inside ``run_quantum``.

`QuantumContext` implements the dispatch (single ref, list, or a whole
`InputRefs`/`OutputRefs`), the check that refs belong to the quantum, and the
bookkeeping; a backend implements `QuantumContext._get_one`,
`QuantumContext._get_deferred` and `QuantumContext._put_one`.
`InMemoryQuantumContext` is a dict-backed backend for tests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from chamberlain.errors import ConflictingDefinitionError, DatasetNotFoundError, TaskError, format_choices

from .refs import DeferredRef, InputRefs, OutputRefs
from .struct import Struct

__all__ = ["ExecutionResources", "InMemoryDeferredHandle", "InMemoryQuantumContext", "QuantumContext"]


@dataclass(frozen=True)
class ExecutionResources:
    """Resources granted to one quantum.

    Attributes
    ----------
    num_cores
        Cores the task may use (>= 1).
    max_mem
        Memory limit in bytes, or None for no limit.
    """

    num_cores: int = 1
    max_mem: int | None = None

    def __post_init__(self) -> None:
        if self.num_cores < 1:
            raise TaskError(f"ExecutionResources.num_cores must be >= 1, not {self.num_cores!r}.")


class QuantumContext(ABC):
    """Reads a quantum's inputs and writes its outputs for a `PipelineTask`.

    Parameters
    ----------
    input_refs, output_refs
        The quantum's refs. When given, `get`/`put` refuse refs not among them.
    resources
        What the task may use.
    """

    def __init__(
        self,
        input_refs: InputRefs | None = None,
        output_refs: OutputRefs | None = None,
        resources: ExecutionResources | None = None,
    ) -> None:
        self.resources = resources if resources is not None else ExecutionResources()
        self._allowed_inputs = set(input_refs.all_refs()) if input_refs is not None else None
        self._allowed_outputs = set(output_refs.all_refs()) if output_refs is not None else None
        #: Refs read, in order (for provenance).
        self.read_refs: list[Hashable] = []
        #: Refs written, in order.
        self.written_refs: list[Hashable] = []

    # ------------------------------------------------------------- backend API

    @abstractmethod
    def _get_one(self, ref: Hashable) -> Any:
        """Read one dataset; raise `DatasetNotFoundError` if it does not exist."""

    @abstractmethod
    def _get_deferred(self, ref: Hashable) -> Any:
        """Return a handle that reads the dataset when its ``get()`` is called."""

    @abstractmethod
    def _put_one(self, obj: Any, ref: Hashable) -> None:
        """Write one dataset."""

    # ------------------------------------------------------------- public API

    def get(self, refs: Any) -> Any:
        """Read datasets.

        Parameters
        ----------
        refs
            An `InputRefs` (returns a dict connection name -> object or list), a
            list of refs (returns a list), one ref (returns the object; a
            `DeferredRef` gives a deferred handle), or None (returns None).

        Returns
        -------
        objects : `~typing.Any`
            As described for ``refs``: a dict, a list, one object or deferred
            handle, or None.

        Raises
        ------
        TaskError
            If a ref is not an input of this quantum.
        DatasetNotFoundError
            If a dataset does not exist.
        """
        if refs is None:
            return None
        if isinstance(refs, InputRefs):
            return {name: self.get(value) for name, value in refs.items()}
        if isinstance(refs, list | tuple):
            return [self.get(ref) for ref in refs]
        if isinstance(refs, DeferredRef):
            self._check(refs.ref, self._allowed_inputs, "an input")
            self.read_refs.append(refs.ref)
            return self._get_deferred(refs.ref)
        self._check(refs, self._allowed_inputs, "an input")
        self.read_refs.append(refs)
        return self._get_one(refs)

    def put(self, values: Any, refs: Any) -> None:
        """Write datasets.

        Parameters
        ----------
        values
            A `Struct` (with `OutputRefs`: each connection's attribute is written;
            a missing or None attribute is skipped), a list (with a list of refs of
            the same length), or one object (with one ref).
        refs
            `OutputRefs`, a list of refs, or one ref.

        Raises
        ------
        TaskError
            If shapes do not match or a ref is not an output of this quantum.
        """
        if isinstance(refs, OutputRefs):
            if not isinstance(values, Struct):
                raise TaskError(
                    f"put() with OutputRefs needs a Struct of outputs, not {type(values).__name__}."
                )
            for name, ref in refs.items():
                value = getattr(values, name, None)
                if value is not None and ref is not None:
                    self._put_matched(value, ref, name)
            return
        self._put_matched(values, refs, None)

    def _put_matched(self, value: Any, ref: Any, name: str | None) -> None:
        label = f"output {name!r}" if name else "put()"
        if isinstance(ref, list | tuple):
            if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != len(ref):
                count = len(value) if isinstance(value, Sequence) else "not a list"
                raise TaskError(
                    f"{label} has {len(ref)} refs but the value has {count} items; they must match."
                )
            for one_value, one_ref in zip(value, ref):
                self._put_single(one_value, one_ref)
        else:
            self._put_single(value, ref)

    def _put_single(self, value: Any, ref: Hashable) -> None:
        self._check(ref, self._allowed_outputs, "an output")
        self._put_one(value, ref)
        self.written_refs.append(ref)

    @staticmethod
    def _check(ref: Hashable, allowed: set[Hashable] | None, what: str) -> None:
        if allowed is not None and ref not in allowed:
            raise TaskError(f"Ref {ref!r} is not {what} of this quantum; {what}s: {format_choices(allowed)}.")


class InMemoryDeferredHandle:
    """A deferred handle over an `InMemoryQuantumContext` dataset.

    Parameters
    ----------
    store
        The mapping holding the dataset.
    ref
        Its ref.
    """

    def __init__(self, store: MutableMapping[Hashable, Any], ref: Hashable) -> None:
        self._store = store
        self.ref = ref

    def get(self, *, component: str | None = None, parameters: dict[str, Any] | None = None) -> Any:
        """Read the dataset, or one attribute of it when ``component`` is given.

        Parameters
        ----------
        component : `str`, optional
            An attribute of the stored object to return instead of the object.
        parameters : `dict` [`str`, `~typing.Any`], optional
            Accepted for interface compatibility and ignored.

        Returns
        -------
        obj : `~typing.Any`
            The stored object, or its ``component`` attribute.

        Raises
        ------
        DatasetNotFoundError
            If the store has no dataset for the ref.
        """
        try:
            obj = self._store[self.ref]
        except KeyError:
            raise DatasetNotFoundError(f"No dataset for ref {self.ref!r} in the in-memory store.") from None
        return getattr(obj, component) if component is not None else obj


class InMemoryQuantumContext(QuantumContext):
    """A `QuantumContext` over a dict ref -> object, for tests.

    Parameters
    ----------
    store
        The datasets; outputs are written into it. A new dict by default.
    input_refs, output_refs, resources
        As for `QuantumContext`.
    """

    def __init__(
        self,
        store: MutableMapping[Hashable, Any] | None = None,
        input_refs: InputRefs | None = None,
        output_refs: OutputRefs | None = None,
        resources: ExecutionResources | None = None,
    ) -> None:
        super().__init__(input_refs, output_refs, resources)
        self.store: MutableMapping[Hashable, Any] = store if store is not None else {}

    def _get_one(self, ref: Hashable) -> Any:
        try:
            return self.store[ref]
        except KeyError:
            raise DatasetNotFoundError(f"No dataset for ref {ref!r} in the in-memory store.") from None

    def _get_deferred(self, ref: Hashable) -> InMemoryDeferredHandle:
        return InMemoryDeferredHandle(self.store, ref)

    def _put_one(self, obj: Any, ref: Hashable) -> None:
        if ref in self.store:
            raise ConflictingDefinitionError(
                f"A dataset for ref {ref!r} already exists in the in-memory store."
            )
        self.store[ref] = obj
