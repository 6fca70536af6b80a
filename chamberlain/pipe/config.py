"""`Config`: typed, validated, freezable task configuration on pydantic v2.

A `Config` subclass declares its fields as annotated class attributes, using the
helpers below for documentation, defaults and constraints::

    class DetectConfig(Config):
        threshold: float = range_field(5.0, "Detection threshold (sigma).", min=0.0)
        method: str = choice_field("median", "Statistic.", allowed={"mean": "...", "median": "..."})
        grow: int = field(2, "Pixels to grow masks by.")
        background: BackgroundConfig = config_field(BackgroundConfig, "Background options.")

Every assignment is validated (type, choices, range, ``check``) and recorded in the
field's history with the file and line that made it; a bad value raises
`chamberlain.errors.ConfigError` naming the full dotted field path (``config.a.b``),
the value and what would be valid. `Config.freeze` makes the whole tree immutable.
Types are strict: ``"3"`` is not an int, but an int is accepted for a float field.
Field names must not clash with pydantic's own attributes (``copy``, ``json``, ...).
In-place mutation of list or dict values bypasses validation, history and freezing.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, PrivateAttr
from pydantic.fields import FieldInfo

from chamberlain.errors import ConfigError, format_choices

__all__ = [
    "Config",
    "ConfigHolder",
    "HistoryEntry",
    "choice_field",
    "config_field",
    "field",
    "range_field",
]

_ROOT = "config"
_PIPE_DIR = os.path.dirname(os.path.abspath(__file__))
_INTERNAL_FILES = {os.path.join(_PIPE_DIR, f) for f in ("config.py", "configurable.py", "_config_io.py")}
_PYDANTIC_DIR = os.path.dirname(os.path.abspath(pydantic.__file__))


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded assignment of a config field.

    Attributes
    ----------
    value
        The value assigned (a shallow copy for lists and dicts).
    label
        Who set it: ``file:line`` of the assignment, or ``"default"``.
    """

    value: Any
    label: str


def caller_label() -> str:
    """Return ``file:line`` of the first caller outside the config machinery."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename not in _INTERNAL_FILES and not filename.startswith(_PYDANTIC_DIR):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


class ConfigHolder:
    """Base of the non-`Config` values that hold configs (subtask and registry fields).

    Subclasses keep a dotted path for error messages, a frozen flag, and a history
    of their own changes (retargets, choice of name).
    """

    _path: str
    _frozen: bool
    _history: list[HistoryEntry]

    def _init_holder(self) -> None:
        object.__setattr__(self, "_path", _ROOT)
        object.__setattr__(self, "_frozen", False)
        object.__setattr__(self, "_history", [])

    def _configs(self) -> Iterator[tuple[str, Config]]:
        """Yield ``(path, config)`` for each config held."""
        raise NotImplementedError()

    def _set_path(self, path: str) -> None:
        object.__setattr__(self, "_path", path)
        for child_path, child in self._configs():
            child._set_path(child_path)

    def _freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)
        for _, child in self._configs():
            child.freeze()

    def _check_not_frozen(self, what: str) -> None:
        if self._frozen:
            raise ConfigError(f"Cannot change {what}: the config is frozen.")

    def _selected(self) -> Config:
        """Return the config in use (the subtask's, or the selected option's)."""
        raise NotImplementedError()

    def _validate(self) -> None:
        self._selected().validate()

    @property
    def history(self) -> list[HistoryEntry]:
        """The changes made to this holder itself (retargets, name choices)."""
        return list(self._history)


def _adopt(value: Any, path: str) -> None:
    if isinstance(value, Config | ConfigHolder):
        value._set_path(path)


def _format_loc(path: str, loc: tuple[int | str, ...]) -> str:
    text = path
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def describe_validation_error(err: pydantic.ValidationError, path: str) -> str:
    """Turn a pydantic error into one message per problem naming path, value and rule.

    Parameters
    ----------
    err : `pydantic.ValidationError`
        The error pydantic raised.
    path : `str`
        The dotted path of the config the error is about (e.g. ``config.sub``).

    Returns
    -------
    message : `str`
        One sentence per problem, joined by spaces.
    """
    lines = []
    for problem in err.errors(include_url=False):
        msg = problem["msg"].removeprefix("Value error, ")
        where = _format_loc(path, tuple(problem["loc"]))
        lines.append(f"Invalid value {problem.get('input')!r} for {where}: {msg}.")
    return " ".join(lines)


class Config(BaseModel):
    """Base class of task configurations.

    Notes
    -----
    Subclasses may override `set_defaults` (called at construction; call
    ``super().set_defaults()``) and `validate` (cross-field checks; call
    ``super().validate()`` and raise `ConfigError`).
    """

    model_config = ConfigDict(
        validate_assignment=True,
        validate_default=True,
        extra="forbid",
        strict=True,
        arbitrary_types_allowed=True,
        revalidate_instances="never",
    )

    _path: str = PrivateAttr(default=_ROOT)
    _frozen: bool = PrivateAttr(default=False)
    _history: dict[str, list[HistoryEntry]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Adopt nested configs, record initial values and run `set_defaults`.

        Called by pydantic after construction.

        Parameters
        ----------
        context : `~typing.Any`
            The pydantic validation context (unused).
        """
        for name in type(self).model_fields:
            value = getattr(self, name)
            _adopt(value, f"{self._path}.{name}")
            label = "constructor" if name in self.model_fields_set else "default"
            self._history[name] = [HistoryEntry(_snapshot(value), label)]
        self.set_defaults()

    def set_defaults(self) -> None:
        """Override to change defaults of this config or its nested configs."""

    # -------------------------------------------------------------- assignment

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        fields = type(self).model_fields
        if name not in fields:
            raise ConfigError(
                f"{self._path} ({type(self).__name__}) has no field {name!r}; "
                f"fields are: {format_choices(fields)}."
            )
        if self._frozen:
            raise ConfigError(f"Cannot set {self._path}.{name} = {value!r}: the config is frozen.")
        current = getattr(self, name, None)
        if isinstance(current, ConfigHolder) and value is not current:
            raise ConfigError(
                f"Cannot assign {value!r} to {self._path}.{name}: it is a subtask or registry field; "
                "assign to its fields, use retarget() or set its name."
            )
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as err:
            raise ConfigError(describe_validation_error(err, self._path)) from None
        new = getattr(self, name)
        _adopt(new, f"{self._path}.{name}")
        self._history.setdefault(name, []).append(HistoryEntry(_snapshot(new), caller_label()))

    def __delattr__(self, name: str) -> None:
        raise ConfigError(f"Cannot delete config field {self._path}.{name}.")

    def update(self, **kwargs: Any) -> None:
        """Assign several fields of this config at once.

        Parameters
        ----------
        **kwargs
            Field name -> value; each is validated and recorded in the history
            as an assignment would be.

        Raises
        ------
        ConfigError
            If a name is not a field, a value is invalid or the config is frozen.
        """
        for name, value in kwargs.items():
            setattr(self, name, value)

    def apply_overrides(self, overrides: Mapping[str, Any]) -> None:
        """Assign values by dotted field path, e.g. ``{"sub.threshold": 3.0}``.

        Path components pass through subtask fields (to the subtask's config) and
        registry fields (to the selected option's config; ``x.name`` selects).

        Parameters
        ----------
        overrides : `~collections.abc.Mapping` [`str`, `~typing.Any`]
            Dotted field path (relative to this config) -> value, applied in order.

        Raises
        ------
        ConfigError
            If a path is invalid, a value is invalid or the config is frozen.
        """
        for dotted, value in overrides.items():
            *parents, leaf = dotted.split(".")
            target: Any = self
            for part in parents:
                target = _get_child(target, part, dotted)
            setattr(target, leaf, value)

    # ------------------------------------------------------------ lifecycle

    def freeze(self) -> None:
        """Make this config and everything nested in it immutable."""
        self._frozen = True
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Config):
                value.freeze()
            elif isinstance(value, ConfigHolder):
                value._freeze()

    @property
    def is_frozen(self) -> bool:
        """Whether `freeze` has been called."""
        return self._frozen

    def validate(self) -> None:  # type: ignore[override]
        """Check every field (types, choices, ranges, required values), recursively.

        Raises
        ------
        ConfigError
            Naming the full dotted path of the first invalid field.
        """
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, Config):
                value.validate()
                continue
            if isinstance(value, ConfigHolder):
                value._validate()
                continue
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if value is None and extra.get("optional") is False:
                raise ConfigError(f"{self._path}.{name} is required but is None ({info.description}).")
            try:  # Re-check values that may have been mutated in place.
                self.__pydantic_validator__.validate_assignment(self, name, value)
            except pydantic.ValidationError as err:
                raise ConfigError(describe_validation_error(err, self._path)) from None

    # -------------------------------------------------------------- history

    @property
    def history(self) -> dict[str, list[HistoryEntry]]:
        """Per-field history of assignments of this config's own fields."""
        return {k: list(v) for k, v in self._history.items()}

    def get_history(self, dotted: str) -> list[HistoryEntry]:
        """Return the history of a field by dotted path (``"sub.threshold"``).

        For a subtask or registry field itself the holder's own changes
        (retargets, name choices) follow the field's initial entry.

        Parameters
        ----------
        dotted : `str`
            A dotted field path relative to this config; ``x.name`` for the
            option choices of a registry field ``x``.

        Returns
        -------
        history : `list` [`HistoryEntry`]
            The field's entries, oldest first: its initial value (``constructor``
            or ``default``) then each assignment with the file and line that made it.

        Raises
        ------
        ConfigError
            If ``dotted`` names no config field.
        """
        *parents, leaf = dotted.split(".")
        target: Any = self
        for part in parents:
            target = _get_child(target, part, dotted)
        if isinstance(target, ConfigHolder):
            if leaf == "name":
                return target.history
            target = target._selected()
        if not isinstance(target, Config) or leaf not in type(target).model_fields:
            raise ConfigError(f"No config field {dotted!r} under {self._path}.")
        entries = list(target._history.get(leaf, []))
        value = getattr(target, leaf)
        if isinstance(value, ConfigHolder):
            entries += value.history
        return entries

    # ------------------------------------------------------------ file I/O

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write every field value to ``path`` as ``config.a.b = value`` statements.

        Subtask fields are written as ``retarget("module.Class", "module.Config")``
        calls by import path, followed by their values; registry fields as their
        option values then ``.name``. The file round-trips through `load`.

        Parameters
        ----------
        path : `str` or `os.PathLike`
            The file to write (replaced if it exists).
        """
        from ._config_io import save_config

        save_config(self, Path(path))

    def load(self, path: str | os.PathLike[str]) -> None:
        """Apply the overrides in ``path`` (a file written by `save` or by hand).

        The file is Python executed with ``config`` bound to this instance, as in
        the Rubin system; only load files you trust. History labels name the
        file and line of each assignment.

        Parameters
        ----------
        path : `str` or `os.PathLike`
            The override file to execute.
        """
        from ._config_io import load_config

        load_config(self, Path(path))

    def to_override_lines(self) -> list[str]:
        """Return the statements `save` would write, without the header.

        Returns
        -------
        lines : `list` [`str`]
            ``config.a.b = value`` statements (and ``retarget`` calls), one per
            line, in field order.
        """
        from ._config_io import override_lines

        return override_lines(self, _ROOT)

    # -------------------------------------------------------------- compare

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Config)
        return all(getattr(self, n) == getattr(other, n) for n in type(self).model_fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        values = ", ".join(f"{n}={getattr(self, n)!r}" for n in type(self).model_fields)
        return f"{type(self).__name__}({values})"

    def _set_path(self, path: str) -> None:
        self._path = path
        for name in type(self).model_fields:
            _adopt(getattr(self, name), f"{path}.{name}")


def _get_child(target: Any, part: str, dotted: str) -> Any:
    try:
        return getattr(target, part)
    except (AttributeError, ConfigError):
        raise ConfigError(f"Config path {dotted!r} is invalid at {part!r}.") from None


def _snapshot(value: Any) -> Any:
    return copy.copy(value) if isinstance(value, list | dict | set) else value


# ----------------------------------------------------------------- field helpers


def field(
    default: Any = ...,
    doc: str = "",
    *,
    default_factory: Callable[[], Any] | None = None,
    check: Callable[[Any], bool] | None = None,
    optional: bool = True,
    **constraints: Any,
) -> Any:
    """Declare a config field.

    Parameters
    ----------
    default : `~typing.Any`, optional
        The default value (omit when using ``default_factory``).
    doc : `str`, optional
        Help text (stored as the pydantic field description).
    default_factory : `~collections.abc.Callable`, optional
        Callable making the default, for mutable defaults such as lists.
    check : `~collections.abc.Callable` [[`~typing.Any`], `bool`], optional
        Extra predicate; a false result makes the value invalid.
    optional : `bool`, optional
        If false, `Config.validate` rejects ``None`` (annotate ``T | None`` so the
        field can start unset).
    **constraints
        Passed to `pydantic.Field` (``ge``, ``lt``, ``min_length`` ...).

    Returns
    -------
    field : `pydantic.fields.FieldInfo`
        The field declaration, to assign to an annotated class attribute.
    """
    extra: dict[str, Any] = {"optional": optional}
    if default_factory is not None:
        info: FieldInfo = pydantic.Field(
            default_factory=default_factory, description=doc, json_schema_extra=extra, **constraints
        )
    else:
        info = pydantic.Field(default, description=doc, json_schema_extra=extra, **constraints)
    if check is not None:
        predicate = check

        def _check(value: Any) -> Any:
            if value is not None and not predicate(value):
                raise ValueError(f"failed check {getattr(predicate, '__name__', repr(predicate))}")
            return value

        info.metadata.append(AfterValidator(_check))
    return info


def choice_field(
    default: Any, doc: str, *, allowed: Mapping[Any, str] | Iterable[Any], optional: bool = False
) -> Any:
    """Declare a field whose value must be one of ``allowed``.

    Parameters
    ----------
    default : `~typing.Any`
        The default value (must be allowed, or None when ``optional``).
    doc : `str`
        Help text.
    allowed : `~collections.abc.Mapping` [`~typing.Any`, `str`] or `~collections.abc.Iterable`
        The valid values, as a mapping value -> description or an iterable.
    optional : `bool`, optional
        Whether None is also valid (annotate the field ``T | None``).

    Returns
    -------
    field : `pydantic.fields.FieldInfo`
        The field declaration, to assign to an annotated class attribute.
    """
    choices = dict(allowed) if isinstance(allowed, Mapping) else {v: "" for v in allowed}

    def _check(value: Any) -> Any:
        if value is None and optional:
            return value
        if value not in choices:
            raise ValueError(f"must be one of {format_choices(choices)}")
        return value

    extra: dict[str, Any] = {"optional": optional, "allowed": {str(k): v for k, v in choices.items()}}
    info: FieldInfo = pydantic.Field(default, description=doc, json_schema_extra=extra)
    info.metadata.append(AfterValidator(_check))
    return info


def range_field(
    default: Any,
    doc: str,
    *,
    min: float | None = None,
    max: float | None = None,
    inclusive_min: bool = True,
    inclusive_max: bool = False,
) -> Any:
    """Declare a numeric field limited to a range.

    The defaults follow the Rubin ``RangeField``: the minimum is inclusive and
    the maximum exclusive.

    Parameters
    ----------
    default : `~typing.Any`
        The default value.
    doc : `str`
        Help text.
    min, max : `float`, optional
        The bounds; None means unbounded.
    inclusive_min, inclusive_max : `bool`, optional
        Whether each bound itself is valid.

    Returns
    -------
    field : `pydantic.fields.FieldInfo`
        The field declaration, to assign to an annotated class attribute.

    Raises
    ------
    ConfigError
        If ``min`` is greater than ``max``.
    """
    if min is not None and max is not None and min > max:
        raise ConfigError(f"range_field min {min!r} is greater than max {max!r}.")
    low = "(-inf" if min is None else ("[" if inclusive_min else "(") + repr(min)
    high = "inf)" if max is None else repr(max) + ("]" if inclusive_max else ")")
    interval = f"{low}, {high}"

    def _check(value: Any) -> Any:
        if value is None:
            return value
        ok = True
        if min is not None:
            ok = value >= min if inclusive_min else value > min
        if max is not None and ok:
            ok = value <= max if inclusive_max else value < max
        if not ok:
            raise ValueError(f"must be in the range {interval}")
        return value

    extra: dict[str, Any] = {"optional": True, "range": interval}
    info: FieldInfo = pydantic.Field(default, description=doc, json_schema_extra=extra)
    info.metadata.append(AfterValidator(_check))
    return info


def config_field(config_class: type[Config], doc: str) -> Any:
    """Declare a nested config field holding an instance of ``config_class``.

    Parameters
    ----------
    config_class : `type` [`Config`]
        The nested config class; its default instance is the field default.
    doc : `str`
        Help text.

    Returns
    -------
    field : `pydantic.fields.FieldInfo`
        The field declaration, to assign to an annotated class attribute.
    """
    return pydantic.Field(default_factory=config_class, description=doc)
