"""Containers for the dataset refs of one quantum, keyed by connection name.

A "ref" here is any hashable object naming one dataset; the Butler-backed
`QuantumContext` uses `DatasetRef`, the in-memory one accepts anything hashable.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DeferredRef", "InputRefs", "OutputRefs", "QuantizedConnection", "RefOrRefs"]


@dataclass(frozen=True)
class DeferredRef:
    """Wraps the ref of a ``defer_load`` input: ``get`` returns a deferred handle.

    Attributes
    ----------
    ref
        The wrapped ref.
    """

    ref: Hashable


RefOrRefs = Hashable | Sequence[Hashable] | None


class QuantizedConnection(Mapping[str, Any]):
    """The refs of one quantum, by connection name.

    Values are a single ref (or `DeferredRef`), a list of refs for ``multiple``
    connections, or None for an optional input with no dataset. Both
    ``refs.calexp`` and ``refs["calexp"]`` work.

    Parameters
    ----------
    **refs
        Connection name -> ref(s).
    """

    def __init__(self, **refs: Any) -> None:
        object.__setattr__(
            self, "_refs", {k: list(v) if isinstance(v, list | tuple) else v for k, v in refs.items()}
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._refs[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no connection {name!r}; connections: {sorted(self._refs)}."
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only (tried to set {name!r}).")

    def __getitem__(self, name: str) -> Any:
        return self._refs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._refs.items())
        return f"{type(self).__name__}({items})"

    def all_refs(self) -> list[Hashable]:
        """Return every ref (unwrapping `DeferredRef`), flattened.

        Returns
        -------
        refs : `list` [`~collections.abc.Hashable`]
            The refs of every connection, lists flattened, in connection order.
        """
        result: list[Hashable] = []
        for value in self._refs.values():
            for ref in value if isinstance(value, list) else [value]:
                if ref is not None:
                    result.append(ref.ref if isinstance(ref, DeferredRef) else ref)
        return result


class InputRefs(QuantizedConnection):
    """Input and prerequisite-input refs of a quantum, by connection name."""


class OutputRefs(QuantizedConnection):
    """Output refs of a quantum, by connection name."""
