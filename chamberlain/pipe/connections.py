"""`PipelineTaskConnections`: declarative inputs and outputs of a `PipelineTask`.

::

    class CoaddConnections(
        PipelineTaskConnections,
        dimensions=("tract", "patch", "skymap", "band"),
        default_templates={"coadd_name": "deep"},
    ):
        warps = Input(name="{coadd_name}_warp", storage_class="Exposure",
                      dimensions=("tract", "patch", "skymap", "visit"), multiple=True, defer_load=True)
        coadd = Output(name="{coadd_name}_coadd", storage_class="Exposure",
                       dimensions=("tract", "patch", "skymap", "band"))

Declaring the class also creates ``CoaddConnections.ConnectionsConfig``: a `Config`
with one ``str`` field per connection (default: the declared dataset type name) and
one per template. A `PipelineTaskConfig` declared with
``pipeline_connections=CoaddConnections`` holds it as ``config.connections``;
instantiating the connections with that config resolves the dataset type names.
A subclass ``__init__`` may edit ``self.dimensions`` or drop connections
(``del self.warps`` or ``self.inputs.discard("warps")``); afterwards everything is frozen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import pydantic

from chamberlain.errors import DatasetNotFoundError, NoWorkFound, TaskError, format_choices

from .config import Config, field
from .connection_types import BaseConnection, InitInput, InitOutput, Input, Output, PrerequisiteInput
from .refs import DeferredRef, InputRefs, OutputRefs

__all__ = ["PipelineTaskConnections"]

_KINDS: tuple[tuple[str, type[BaseConnection]], ...] = (
    ("prerequisite_inputs", PrerequisiteInput),
    ("inputs", Input),
    ("outputs", Output),
    ("init_inputs", InitInput),
    ("init_outputs", InitOutput),
)


class _ConnectionDescriptor:
    """Class access gives the declaration; instance access the resolved connection."""

    def __init__(self, attr: str, declared: BaseConnection) -> None:
        self.attr = attr
        self.declared = declared

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self.declared
        if self.attr not in instance.connection_names():
            raise AttributeError(f"Connection {self.attr!r} was removed from {type(instance).__name__}.")
        return instance._resolved[self.attr]

    def __delete__(self, instance: Any) -> None:
        instance._check_mutable(f"remove connection {self.attr!r}")
        for kind, _ in _KINDS:
            getattr(instance, kind).discard(self.attr)


class _ConnectionsMeta(type):
    """Collects connection declarations, quantum dimensions and templates."""

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        *,
        dimensions: Iterable[str] | None = None,
        default_templates: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> _ConnectionsMeta:
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        declared: dict[str, BaseConnection] = {}
        templates: dict[str, str] = {}
        quantum_dims: frozenset[str] | None = None
        for base in reversed(cls.__mro__[1:]):
            declared.update(base.__dict__.get("_declared", {}))
            templates.update(base.__dict__.get("_default_templates", {}))
            if "_quantum_dimensions" in base.__dict__:
                quantum_dims = base.__dict__["_quantum_dimensions"]
        for attr, value in list(namespace.items()):
            if isinstance(value, BaseConnection):
                declared[attr] = value
                setattr(cls, attr, _ConnectionDescriptor(attr, value))
        if default_templates is not None:
            templates.update(default_templates)
        if dimensions is not None:
            if isinstance(dimensions, str):
                raise TaskError(
                    f"Quantum dimensions of {name} must be an iterable of names, "
                    f"not the string {dimensions!r}."
                )
            quantum_dims = frozenset(dimensions)
        for attr, conn in declared.items():
            missing = conn.template_names - set(templates)
            if missing:
                raise TaskError(
                    f"Connection {attr!r} of {name} uses template(s) {sorted(missing)} in {conn.name!r} "
                    f"with no default; default_templates has {format_choices(templates)}."
                )
        clash = set(templates) & set(declared)
        if clash:
            raise TaskError(f"{name}: names {sorted(clash)} are both templates and connections.")
        cls._declared = declared  # type: ignore[attr-defined]
        cls._default_templates = templates  # type: ignore[attr-defined]
        cls._quantum_dimensions = quantum_dims or frozenset()  # type: ignore[attr-defined]
        inherited = next(
            (b.__dict__["ConnectionsConfig"] for b in cls.__mro__[1:] if "ConnectionsConfig" in b.__dict__),
            None,
        )
        if inherited is not None and _config_matches(inherited, declared, templates):
            cls.ConnectionsConfig = inherited  # type: ignore[attr-defined]
        else:
            cls.ConnectionsConfig = _make_connections_config(cls, declared, templates)  # type: ignore[attr-defined]
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        instance = super().__call__(*args, **kwargs)
        instance._freeze()
        return instance


def _config_matches(
    config_class: type[Config], declared: Mapping[str, BaseConnection], templates: Mapping[str, str]
) -> bool:
    fields = config_class.model_fields
    wanted = {a: c.name for a, c in declared.items()} | dict(templates)
    return set(fields) == set(wanted) and all(fields[k].default == v for k, v in wanted.items())


def _make_connections_config(
    cls: type, declared: Mapping[str, BaseConnection], templates: Mapping[str, str]
) -> type[Config]:
    config_fields: dict[str, Any] = {
        attr: (str, field(conn.name, f"Dataset type name for connection {attr!r}. {conn.doc}"))
        for attr, conn in declared.items()
    }
    config_fields.update(
        {
            t: (str, field(default, f"Template {t!r} for dataset type names."))
            for t, default in templates.items()
        }
    )
    config_class: type[Config] = pydantic.create_model(
        "ConnectionsConfig", __base__=Config, __module__=cls.__module__, **config_fields
    )
    config_class.__qualname__ = f"{cls.__qualname__}.ConnectionsConfig"
    return config_class


class PipelineTaskConnections(metaclass=_ConnectionsMeta):
    """Base class of connection declarations (see the module documentation).

    Parameters
    ----------
    config
        A config with a ``connections`` field holding this class's
        ``ConnectionsConfig``; None uses the declared names and default templates.

    Attributes
    ----------
    dimensions
        The quantum dimensions.
    inputs, prerequisite_inputs, outputs, init_inputs, init_outputs
        Connection attribute names of each kind.
    """

    ConnectionsConfig: ClassVar[type[Config]]
    _declared: ClassVar[dict[str, BaseConnection]]
    _default_templates: ClassVar[dict[str, str]]
    _quantum_dimensions: ClassVar[frozenset[str]]

    def __init__(self, *, config: Any = None) -> None:
        cls = type(self)
        if config is None:
            connections_config: Config = cls.ConnectionsConfig()
        else:
            connections_config = getattr(config, "connections", None)  # type: ignore[assignment]
            needed = set(cls._declared) | set(cls._default_templates)
            if not isinstance(connections_config, Config) or not needed <= set(
                type(connections_config).model_fields
            ):
                raise TaskError(
                    f"{cls.__name__} needs a config whose 'connections' field has the fields "
                    f"{sorted(needed)}; got {type(config).__name__} with connections={connections_config!r}."
                )
        self.config = config
        self._frozen = False
        templates = {t: getattr(connections_config, t) for t in cls._default_templates}
        self._resolved: dict[str, BaseConnection] = {}
        for attr, declared in cls._declared.items():
            raw = getattr(connections_config, attr)
            try:
                name = raw.format(**templates)
            except (KeyError, IndexError, ValueError) as err:
                raise TaskError(
                    f"Cannot fill dataset type name {raw!r} of connection {attr!r}: {err!r}; "
                    f"templates are {templates}."
                ) from None
            self._resolved[attr] = dataclasses.replace(declared, name=name)
        self.dimensions: set[str] | frozenset[str] = set(cls._quantum_dimensions)
        self.inputs: set[str] | frozenset[str] = set()
        self.prerequisite_inputs: set[str] | frozenset[str] = set()
        self.outputs: set[str] | frozenset[str] = set()
        self.init_inputs: set[str] | frozenset[str] = set()
        self.init_outputs: set[str] | frozenset[str] = set()
        for attr, declared in cls._declared.items():
            for kind, conn_type in _KINDS:
                if isinstance(declared, conn_type):
                    getattr(self, kind).add(attr)
                    break

    def _check_mutable(self, what: str) -> None:
        if self._frozen:
            raise TaskError(f"Cannot {what}: {type(self).__name__} is frozen after construction.")

    def _freeze(self) -> None:
        self.dimensions = frozenset(self.dimensions)
        for kind, _ in _KINDS:
            setattr(self, kind, frozenset(getattr(self, kind)))
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_frozen", False):
            raise TaskError(f"Cannot set {name!r}: {type(self).__name__} is frozen after construction.")
        super().__setattr__(name, value)

    def connection_names(self) -> frozenset[str]:
        """Return the names of all connections still present.

        Returns
        -------
        names : `frozenset` [`str`]
            Attribute names of the inputs, prerequisite inputs, init-inputs,
            outputs and init-outputs not removed by the constructor.
        """
        names: set[str] = set()
        for kind, _ in _KINDS:
            names.update(getattr(self, kind))
        return frozenset(names)

    def all_connections(self) -> dict[str, BaseConnection]:
        """Return the present connections by attribute name, with resolved dataset type names.

        Returns
        -------
        connections : `dict` [`str`, `BaseConnection`]
            Attribute name -> connection, its dataset type name templates
            filled from the config.
        """
        present = self.connection_names()
        return {attr: conn for attr, conn in self._resolved.items() if attr in present}

    def make_quantum_refs(
        self,
        inputs: Mapping[str, Hashable | Sequence[Hashable] | None],
        outputs: Mapping[str, Hashable | Sequence[Hashable] | None],
    ) -> tuple[InputRefs, OutputRefs]:
        """Check and package one quantum's refs by connection name.

        Applies the base ``adjust_quantum`` rules: a non-``multiple`` connection
        may have at most one ref; fewer refs than ``minimum`` raises `NoWorkFound`
        for a regular input and `DatasetNotFoundError` for a prerequisite.
        ``defer_load`` inputs are wrapped in `DeferredRef`.

        Parameters
        ----------
        inputs
            Input and prerequisite connection name -> ref or refs.
        outputs
            Output connection name -> ref or refs.

        Returns
        -------
        inputs : `InputRefs`
            The inputs and prerequisites by connection name (a ref for a
            scalar connection, a list for a ``multiple`` one; ``defer_load``
            refs wrapped in `DeferredRef`).
        outputs : `OutputRefs`
            The outputs by connection name.

        Raises
        ------
        TaskError
            For unknown connection names or several refs on a scalar connection.
        NoWorkFound
            If a regular input has fewer refs than its ``minimum``.
        DatasetNotFoundError
            If a prerequisite input has fewer refs than its ``minimum``.
        """
        input_names = set(self.inputs) | set(self.prerequisite_inputs)
        self._check_keys(inputs, input_names, "input")
        self._check_keys(outputs, set(self.outputs), "output")
        packed_inputs: dict[str, Any] = {}
        for attr in sorted(input_names):
            conn = self._resolved[attr]
            assert isinstance(conn, Input | PrerequisiteInput)
            refs = self._as_list(inputs.get(attr), attr)
            if len(refs) < conn.minimum:
                message = (
                    f"Connection {attr!r} ({conn.name}) has {len(refs)} dataset(s); "
                    f"at least {conn.minimum} needed."
                )
                if isinstance(conn, PrerequisiteInput):
                    raise DatasetNotFoundError(message)
                raise NoWorkFound(message)
            wrapped = [DeferredRef(r) for r in refs] if conn.defer_load else refs
            packed_inputs[attr] = self._shape(wrapped, conn, attr)
        packed_outputs = {
            attr: self._shape(self._as_list(outputs.get(attr), attr), self._resolved[attr], attr)
            for attr in sorted(self.outputs)
        }
        return InputRefs(**packed_inputs), OutputRefs(**packed_outputs)

    @staticmethod
    def _check_keys(given: Mapping[str, Any], valid: set[str], what: str) -> None:
        unknown = set(given) - valid
        if unknown:
            raise TaskError(
                f"Unknown {what} connection(s) {sorted(unknown)}; valid: {format_choices(valid)}."
            )

    @staticmethod
    def _as_list(value: Any, attr: str) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list | tuple):
            return list(value)
        return [value]

    @staticmethod
    def _shape(refs: list[Any], conn: BaseConnection, attr: str) -> Any:
        if conn.multiple:
            return refs
        if len(refs) > 1:
            raise TaskError(
                f"Connection {attr!r} ({conn.name}) is not multiple but has {len(refs)} refs: {refs!r}."
            )
        return refs[0] if refs else None
