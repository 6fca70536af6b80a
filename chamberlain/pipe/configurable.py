"""Retargetable subtask fields and registries of named, configurable task classes.

`ConfigurableField` is the value of a field declared with ``SomeTask.make_field(doc)``
(or `configurable_field`): it holds a target class and that class's config, and
forwards attribute access to the config, so ``config.detection.threshold = 3`` works.
`ConfigurableRegistry.make_field` declares a field whose value is a `RegistryField`: it holds a
config for every registered option and the chosen ``name``
(``config.grouping.name = "one-to-one"``; ``config.grouping["by-group"].x = 1``).
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pydantic
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from chamberlain.errors import ConfigError, format_choices

from .config import Config, ConfigHolder, HistoryEntry, caller_label

__all__ = [
    "ConfigurableField",
    "ConfigurableRegistry",
    "RegistryField",
    "configurable_field",
    "import_object",
    "import_path",
    "register_configurable",
]

_T = TypeVar("_T")


def import_path(obj: Any) -> str:
    """Return the ``module.QualName`` import path of a class or function.

    Parameters
    ----------
    obj : `~typing.Any`
        A class or function defined at module level.

    Returns
    -------
    path : `str`
        ``obj.__module__`` and ``obj.__qualname__`` joined by a dot.

    Raises
    ------
    ConfigError
        If the object cannot be imported by that path (e.g. defined in a function).
    """
    path = f"{obj.__module__}.{obj.__qualname__}"
    if "<locals>" in path:
        raise ConfigError(f"{path} is defined inside a function and cannot be saved by import path.")
    return path


def import_object(path: str) -> Any:
    """Import ``module.QualName`` (the inverse of `import_path`).

    Parameters
    ----------
    path : `str`
        A dotted ``module.attribute`` path; the attribute may itself be
        dotted (``module.Class.method``).

    Returns
    -------
    obj : `~typing.Any`
        The object the path names (importing its module if needed).

    Raises
    ------
    ConfigError
        If no module prefix of ``path`` imports or the attribute chain is missing.
    """
    if "." not in path:
        raise ConfigError(f"Cannot import {path!r}: not a module.attribute path.")
    try:
        return pkgutil.resolve_name(path)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(f"Cannot import {path!r}: no importable module.attribute path matches.") from None


def _resolve(obj: Any) -> Any:
    return import_object(obj) if isinstance(obj, str) else obj


def _config_class_of(target: Any, config_class: Any, where: str) -> type[Config]:
    result = _resolve(config_class) if config_class is not None else getattr(target, "ConfigClass", None)
    if not (isinstance(result, type) and issubclass(result, Config)):
        raise ConfigError(
            f"Cannot use {target!r} for {where}: config class {result!r} is not a Config subclass "
            "(pass config_class= or give the target a ConfigClass)."
        )
    return result


class _PydanticInstance:
    """Mixin telling pydantic to accept instances of the class as they are."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.is_instance_schema(cls)


class ConfigurableField(_PydanticInstance, ConfigHolder):
    """The config of a retargetable subtask: a target class plus its config.

    Parameters
    ----------
    target
        The class (normally a `Task`) that `apply` builds.
    config_class
        The config class; defaults to ``target.ConfigClass``.

    Notes
    -----
    Attribute reads and writes other than this class's own are forwarded to
    `value`, so a subtask field reads like a nested config.
    """

    _target: Any
    _value: Config

    def __init__(self, target: Any, config_class: type[Config] | str | None = None) -> None:
        self._init_holder()
        target = _resolve(target)
        cls = _config_class_of(target, config_class, "a subtask field")
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_value", cls())
        self._history.append(HistoryEntry(target, "default"))

    @property
    def target(self) -> Any:
        """The class `apply` builds."""
        return self._target

    @property
    def value(self) -> Config:
        """The target's config."""
        return self._value

    @property
    def config_class(self) -> type[Config]:
        """The class of `value`."""
        return type(self._value)

    def retarget(self, target: Any, config_class: type[Config] | str | None = None) -> None:
        """Use a different class for this subtask, with a fresh default config.

        Parameters
        ----------
        target
            The new class, or its import path.
        config_class
            Its config class (or import path); defaults to ``target.ConfigClass``.
        """
        self._check_not_frozen(f"{self._path} (retarget to {target!r})")
        target = _resolve(target)
        cls = _config_class_of(target, config_class, self._path)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_value", cls())
        self._value._set_path(self._path)
        self._history.append(HistoryEntry(target, caller_label()))

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        """Build ``target(*args, config=value, **kwargs)``.

        Parameters
        ----------
        *args
            Positional arguments for the target.
        **kwargs
            Keyword arguments for the target (not ``config``).

        Returns
        -------
        instance : `~typing.Any`
            What the target returns: normally the subtask.
        """
        return self._target(*args, config=self._value, **kwargs)

    def _configs(self) -> Iterator[tuple[str, Config]]:
        yield self._path, self._value

    def _selected(self) -> Config:
        return self._value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._value, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._value, name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigurableField):
            return NotImplemented
        return self._target is other._target and self._value == other._value

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ConfigurableField(target={self._target.__qualname__}, value={self._value!r})"


def configurable_field(target: Any, doc: str, config_class: type[Config] | None = None) -> Any:
    """Declare a retargetable subtask field (see `ConfigurableField`).

    Parameters
    ----------
    target : `~typing.Any`
        The default class (or ``module.Class`` path) the field builds; it
        has a ``ConfigClass`` unless ``config_class`` is given.
    doc : `str`
        Help text.
    config_class : `type` [`Config`], optional
        The config class of ``target``; default ``target.ConfigClass``.

    Returns
    -------
    field : `pydantic.fields.FieldInfo`
        The field declaration, to assign to an annotated class attribute.
    """
    return pydantic.Field(default_factory=lambda: ConfigurableField(target, config_class), description=doc)


class ConfigurableRegistry:
    """A set of named, configurable classes for `RegistryField` choices.

    Parameters
    ----------
    doc
        What the registered classes do.
    base_config
        Every registered config class must derive from this.
    """

    def __init__(self, doc: str = "", base_config: type[Config] = Config) -> None:
        self.doc = doc
        self.base_config = base_config
        self._entries: dict[str, tuple[Any, type[Config]]] = {}

    def register(self, name: str, target: Any, config_class: type[Config] | None = None) -> None:
        """Register ``target`` under ``name``.

        Parameters
        ----------
        name : `str`
            The name configs select the entry by.
        target : `~typing.Any`
            The class (or callable) to build.
        config_class : `type` [`Config`], optional
            Its config class; default ``target.ConfigClass``.

        Raises
        ------
        ConfigError
            If the name is taken or the config class does not derive from ``base_config``.
        """
        if name in self._entries:
            raise ConfigError(
                f"Name {name!r} is already used by {self._entries[name][0]!r}; "
                f"registered names: {format_choices(self._entries)}."
            )
        cls = _config_class_of(target, config_class, f"registry entry {name!r}")
        if not issubclass(cls, self.base_config):
            raise ConfigError(
                f"Config class {cls.__name__} for registry entry {name!r} does not derive from "
                f"{self.base_config.__name__}."
            )
        self._entries[name] = (target, cls)

    def get(self, name: str) -> tuple[Any, type[Config]]:
        """Return ``(target, config_class)`` for ``name``.

        Parameters
        ----------
        name : `str`
            A registered name.

        Returns
        -------
        target : `~typing.Any`
            The registered class or callable.
        config_class : `type` [`Config`]
            Its config class.

        Raises
        ------
        ConfigError
            If nothing is registered under ``name``; the message lists the names.
        """
        try:
            return self._entries[name]
        except KeyError:
            raise ConfigError(
                f"No entry {name!r} in the registry; registered names: {format_choices(self._entries)}."
            ) from None

    def names(self) -> list[str]:
        """Return the registered names, in registration order.

        Returns
        -------
        names : `list` [`str`]
            The names.
        """
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __deepcopy__(self, memo: dict[int, Any]) -> ConfigurableRegistry:
        return self  # Registries are shared definitions, not per-config state.

    def __copy__(self) -> ConfigurableRegistry:
        return self

    def make_field(self, doc: str, default: str | None = None) -> Any:
        """Declare a field choosing one of this registry's entries (see `RegistryField`).

        Parameters
        ----------
        doc : `str`
            Help text.
        default : `str`, optional
            The name selected by default; None leaves the choice unset.

        Returns
        -------
        field : `pydantic.fields.FieldInfo`
            The field declaration, to assign to an annotated class attribute.
        """
        return pydantic.Field(default_factory=lambda: RegistryField(self, default), description=doc)


def register_configurable(
    name: str, registry: ConfigurableRegistry, config_class: type[Config] | None = None
) -> Callable[[_T], _T]:
    """Make a class decorator registering the class in ``registry`` under ``name``.

    Parameters
    ----------
    name : `str`
        The name to register under.
    registry : `ConfigurableRegistry`
        The registry to add the class to.
    config_class : `type` [`Config`], optional
        The class's config class; default its ``ConfigClass``.

    Returns
    -------
    decorator : `~collections.abc.Callable`
        A decorator that registers the class and returns it unchanged.
    """

    def decorator(cls: _T) -> _T:
        registry.register(name, cls, config_class)
        return cls

    return decorator


class RegistryField(_PydanticInstance, ConfigHolder):
    """The value of a registry field: a config per registered option and a chosen name.

    Parameters
    ----------
    registry
        The registry of options.
    name
        The initially selected option, or None.

    Notes
    -----
    ``field[name]`` returns (creating on first use) the config of any option;
    other attribute reads and writes go to the selected option's config.
    """

    _registry: ConfigurableRegistry
    _name: str | None
    _options: dict[str, Config]

    def __init__(self, registry: ConfigurableRegistry, name: str | None = None) -> None:
        self._init_holder()
        object.__setattr__(self, "_registry", registry)
        object.__setattr__(self, "_options", {})
        object.__setattr__(self, "_name", None)
        if name is not None:
            registry.get(name)
        object.__setattr__(self, "_name", name)
        self._history.append(HistoryEntry(name, "default"))

    @property
    def registry(self) -> ConfigurableRegistry:
        """The registry of options."""
        return self._registry

    @property
    def name(self) -> str | None:
        """The selected option's name."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        self._check_not_frozen(f"{self._path}.name")
        if value is not None and value not in self._registry:
            raise ConfigError(
                f"Invalid value {value!r} for {self._path}.name: must be one of "
                f"{format_choices(self._registry.names())}."
            )
        object.__setattr__(self, "_name", value)
        self._history.append(HistoryEntry(value, caller_label()))

    def __getitem__(self, name: str) -> Config:
        if name not in self._options:
            if name not in self._registry:
                raise ConfigError(
                    f"{self._path} has no option {name!r}; options: {format_choices(self._registry.names())}."
                )
            _, cls = self._registry.get(name)
            config = cls()
            config._set_path(f"{self._path}[{name!r}]")
            if self._frozen:
                config.freeze()
            self._options[name] = config
        return self._options[name]

    def created_options(self) -> dict[str, Config]:
        """Return the option configs created so far (by access or by selection).

        Returns
        -------
        options : `dict` [`str`, `Config`]
            Registered name -> config, a copy of the field's mapping.
        """
        return dict(self._options)

    @property
    def active(self) -> Config:
        """The selected option's config."""
        if self._name is None:
            raise ConfigError(
                f"{self._path}.name is not set; options: {format_choices(self._registry.names())}."
            )
        return self[self._name]

    @property
    def target(self) -> Any:
        """The selected option's class."""
        if self._name is None:
            raise ConfigError(
                f"{self._path}.name is not set; options: {format_choices(self._registry.names())}."
            )
        return self._registry.get(self._name)[0]

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        """Build the selected class with ``config=active``.

        Parameters
        ----------
        *args
            Positional arguments for the selected class.
        **kwargs
            Keyword arguments for it (not ``config``).

        Returns
        -------
        instance : `~typing.Any`
            What the selected class returns.

        Raises
        ------
        ConfigError
            If no option is selected (``name`` is None).
        """
        return self.target(*args, config=self.active, **kwargs)

    def _configs(self) -> Iterator[tuple[str, Config]]:
        for name, config in self._options.items():
            yield f"{self._path}[{name!r}]", config

    def _selected(self) -> Config:
        return self.active

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.active, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name == "name":
            object.__setattr__(self, name, value)
        else:
            setattr(self.active, name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegistryField):
            return NotImplemented
        if self._registry._entries != other._registry._entries or self._name != other._name:
            return False
        names = set(self._options) | set(other._options)
        return all(self[n] == other[n] for n in names)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RegistryField(name={self._name!r}, options={self._options!r})"
