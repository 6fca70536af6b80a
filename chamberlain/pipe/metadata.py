"""`TaskMetadata`: the hierarchical metadata every task records."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from chamberlain.errors import TaskMetadataError

__all__ = ["TaskMetadata", "TaskMetadataError"]

Scalar = str | int | float | bool
_SCALAR_TYPES = (str, int, float, bool)


class TaskMetadata(BaseModel):
    """Hierarchical task metadata: scalars, homogeneous arrays and nested nodes.

    A key lives in exactly one of `scalars`, `arrays` and `metadata`. Keys may
    contain ``.`` to address nested nodes: ``md["a.b.c"] = 1`` creates nodes
    ``a`` and ``a.b`` and stores ``c`` in the latter; item names used by tasks
    therefore must not contain dots.
    """

    model_config = ConfigDict(ser_json_inf_nan="constants")

    scalars: dict[str, Any] = Field(default_factory=dict, description="Single values.")
    arrays: dict[str, list[Any]] = Field(default_factory=dict, description="Homogeneous lists.")
    metadata: dict[str, TaskMetadata] = Field(default_factory=dict, description="Nested nodes.")

    # ------------------------------------------------------------------ access

    def __setitem__(self, key: str, value: Any) -> None:
        node, leaf = self._locate(key, create=True)
        node._set_local(leaf, value)

    def __getitem__(self, key: str) -> Any:
        node, leaf = self._locate(key, create=False)
        if leaf in node.scalars:
            return node.scalars[leaf]
        if leaf in node.metadata:
            return node.metadata[leaf]
        if leaf in node.arrays:
            values = node.arrays[leaf]
            if not values:
                raise TaskMetadataError(f"Metadata array {key!r} is empty.")
            return values[-1]
        raise TaskMetadataError(f"No metadata item {key!r}; top-level keys are {sorted(self.keys())}.")

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            node, leaf = self._locate(key, create=False)
        except TaskMetadataError:
            return False
        return leaf in node.scalars or leaf in node.arrays or leaf in node.metadata

    def __delitem__(self, key: str) -> None:
        node, leaf = self._locate(key, create=False)
        if not node._discard(leaf):
            raise TaskMetadataError(f"No metadata item {key!r} to delete.")

    def __len__(self) -> int:
        return len(self.scalars) + len(self.arrays) + len(self.metadata)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value of ``key`` (last element for arrays), or ``default``.

        Parameters
        ----------
        key : `str`
            An item name; dots address nested nodes.
        default : `~typing.Any`, optional
            Returned when there is no such item (or the array is empty).

        Returns
        -------
        value : `~typing.Any`
            A scalar, the last element of an array, a nested `TaskMetadata`, or
            ``default``.
        """
        try:
            return self[key]
        except TaskMetadataError:
            return default

    def get_scalar(self, key: str) -> Any:
        """Return the scalar at ``key``, or the last element if it is an array.

        Parameters
        ----------
        key : `str`
            An item name; dots address nested nodes.

        Returns
        -------
        value : `str`, `int`, `float` or `bool`
            The scalar value.

        Raises
        ------
        TaskMetadataError
            If there is no such item, the array is empty, or the item is a
            nested node.
        """
        value = self[key]
        if isinstance(value, TaskMetadata):
            raise TaskMetadataError(f"Metadata item {key!r} is a nested node, not a scalar.")
        return value

    def get_array(self, key: str) -> list[Any]:
        """Return the value of ``key`` as a list (a scalar becomes a one-element list).

        Parameters
        ----------
        key : `str`
            An item name; dots address nested nodes.

        Returns
        -------
        values : `list`
            A copy of the array, or ``[scalar]``.

        Raises
        ------
        TaskMetadataError
            If there is no array or scalar of that name.
        """
        node, leaf = self._locate(key, create=False)
        if leaf in node.arrays:
            return list(node.arrays[leaf])
        if leaf in node.scalars:
            return [node.scalars[leaf]]
        raise TaskMetadataError(f"No metadata array or scalar {key!r}.")

    def add(self, key: str, value: Any) -> None:
        """Append ``value`` to the array at ``key``, creating or promoting it.

        A scalar already at ``key`` becomes the first element of the array.

        Parameters
        ----------
        key : `str`
            An item name; dots address nested nodes (created if absent).
        value : `~typing.Any`
            A str, int, float or bool (numpy scalars are converted).

        Raises
        ------
        TaskMetadataError
            If the key names a nested node, the value is not a primitive, or the
            value's type differs from the array's.
        """
        node, leaf = self._locate(key, create=True)
        if leaf in node.metadata:
            raise TaskMetadataError(f"Cannot add to metadata item {key!r}: it is a nested node.")
        item = _to_scalar(key, value)
        if leaf in node.scalars:
            node.arrays[leaf] = [node.scalars.pop(leaf)]
        existing = node.arrays.setdefault(leaf, [])
        if existing and type(existing[0]) is not type(item):
            raise TaskMetadataError(
                f"Cannot add {item!r} ({type(item).__name__}) to metadata array {key!r} "
                f"of {type(existing[0]).__name__}."
            )
        existing.append(item)

    def keys(self) -> list[str]:
        """Return the top-level keys.

        Returns
        -------
        keys : `list` [`str`]
            Scalar, then array, then nested node names.
        """
        return [*self.scalars, *self.arrays, *self.metadata]

    def items(self) -> Iterator[tuple[str, Any]]:
        """Iterate over top-level ``(key, value)`` pairs (arrays as lists).

        Yields
        ------
        key : `str`
            A top-level name, in `keys` order.
        value : `~typing.Any`
            A scalar, a copy of an array as a list, or a nested `TaskMetadata`.
        """
        yield from self.scalars.items()
        yield from ((k, list(v)) for k, v in self.arrays.items())
        yield from self.metadata.items()

    def names(self) -> set[str]:
        """Return every hierarchical key, including those of nested nodes.

        Returns
        -------
        names : `set` [`str`]
            Top-level keys and the dotted keys of everything nested.
        """
        result: set[str] = set()
        for key in self.keys():
            result.add(key)
            if key in self.metadata:
                result.update(f"{key}.{sub}" for sub in self.metadata[key].names())
        return result

    def param_names(self, top_level_only: bool = False) -> set[str]:
        """Return the keys of leaves (scalars and arrays).

        Parameters
        ----------
        top_level_only : `bool`, optional
            If true, only leaves of this node, not of nested nodes.

        Returns
        -------
        names : `set` [`str`]
            The leaf keys, dotted for nested leaves.
        """
        result = set(self.scalars) | set(self.arrays)
        if not top_level_only:
            for key, node in self.metadata.items():
                result.update(f"{key}.{sub}" for sub in node.param_names())
        return result

    def to_dict(self) -> dict[str, Any]:
        """Return a nested plain dict (arrays as lists, nodes as dicts).

        Returns
        -------
        data : `dict` [`str`, `~typing.Any`]
            The metadata as primitives, lists and dicts (accepted by `from_dict`).
        """
        result: dict[str, Any] = {}
        for key, value in self.items():
            result[key] = value.to_dict() if isinstance(value, TaskMetadata) else value
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskMetadata:
        """Build metadata from a nested mapping of primitives, lists and mappings.

        Parameters
        ----------
        data : `~collections.abc.Mapping` [`str`, `~typing.Any`]
            Key -> scalar, list of one primitive type, or nested mapping.

        Returns
        -------
        metadata : `TaskMetadata`
            The new metadata.

        Raises
        ------
        TaskMetadataError
            If a value is not a primitive, a homogeneous list or a mapping.
        """
        md = cls()
        for key, value in data.items():
            md[key] = value
        return md

    # ----------------------------------------------------------------- helpers

    def _locate(self, key: str, *, create: bool) -> tuple[TaskMetadata, str]:
        if not isinstance(key, str) or not key:
            raise TaskMetadataError(f"Metadata keys must be non-empty strings, not {key!r}.")
        *path, leaf = key.split(".")
        node = self
        for i, part in enumerate(path):
            child = node.metadata.get(part)
            if child is None:
                if not create:
                    raise TaskMetadataError(f"No metadata node {'.'.join(path[: i + 1])!r} (in key {key!r}).")
                if part in node.scalars or part in node.arrays:
                    raise TaskMetadataError(
                        f"Cannot create metadata node {part!r} for key {key!r}: it already holds a value."
                    )
                child = node.metadata[part] = TaskMetadata()
            node = child
        return node, leaf

    def _discard(self, leaf: str) -> bool:
        found = False
        for slot in (self.scalars, self.arrays, self.metadata):
            if leaf in slot:
                del slot[leaf]
                found = True
        return found

    def _set_local(self, leaf: str, value: Any) -> None:
        if isinstance(value, TaskMetadata):
            converted: Any = value
            slot = "metadata"
        elif isinstance(value, Mapping):
            converted = TaskMetadata.from_dict(value)
            slot = "metadata"
        elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes):
            converted = [_to_scalar(leaf, v) for v in value]
            if len({type(v) for v in converted}) > 1:
                raise TaskMetadataError(
                    f"Metadata array {leaf!r} mixes types {sorted({type(v).__name__ for v in converted})}; "
                    "arrays must hold one primitive type."
                )
            slot = "arrays"
        else:
            converted = _to_scalar(leaf, value)
            slot = "scalars"
        self._discard(leaf)
        getattr(self, slot)[leaf] = converted


def _to_scalar(key: str, value: Any) -> Scalar:
    """Coerce numpy scalars to Python ones and reject non-primitive values."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, _SCALAR_TYPES):
        return value
    raise TaskMetadataError(
        f"Metadata value {value!r} for {key!r} has type {type(value).__name__}; "
        "valid types are str, int, float, bool, lists of one of them, and mappings."
    )
