"""`Struct`: a small attribute bag for returning named results from tasks."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from chamberlain.errors import TaskError

__all__ = ["Struct"]


class Struct(SimpleNamespace):
    """A namespace of named results, such as the return value of ``run``.

    Keyword arguments become attributes. A `PipelineTask`'s ``run`` returns a
    `Struct` whose attribute names are its output connection names.

    Parameters
    ----------
    **kwargs
        Attribute names and values. Names starting with ``__`` are rejected.

    Raises
    ------
    TaskError
        If a name starts with ``__``.
    """

    def __init__(self, **kwargs: Any) -> None:
        for name in kwargs:
            _check_name(name)
        super().__init__(**kwargs)

    def get_dict(self) -> dict[str, Any]:
        """Return a shallow copy of the attributes as a dict.

        Returns
        -------
        attributes : `dict` [`str`, `~typing.Any`]
            Attribute name -> value.
        """
        return dict(self.__dict__)

    def merge_items(self, other: Struct, *names: str) -> None:
        """Copy the named attributes of ``other`` into this struct.

        Parameters
        ----------
        other
            The struct to copy from.
        *names
            The attribute names to copy.

        Raises
        ------
        TaskError
            If a name already exists here or is missing from ``other``.
        """
        for name in names:
            if name in self.__dict__:
                raise TaskError(
                    f"Cannot merge item {name!r}: this Struct already has it "
                    f"(items: {sorted(self.__dict__)})."
                )
            if name not in other.__dict__:
                raise TaskError(
                    f"Cannot merge item {name!r}: the other Struct has no such item "
                    f"(items: {sorted(other.__dict__)})."
                )
            _check_name(name)
            self.__dict__[name] = other.__dict__[name]

    def copy(self) -> Struct:
        """Return a shallow copy.

        Returns
        -------
        struct : `Struct`
            A new struct with the same attribute values.
        """
        return Struct(**self.__dict__)

    def __len__(self) -> int:
        return len(self.__dict__)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"Struct({items})"


def _check_name(name: str) -> None:
    if name.startswith("__"):
        raise TaskError(f"Struct item name {name!r} is not allowed: names may not start with '__'.")
