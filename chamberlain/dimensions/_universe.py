"""The dimension universe: every element, loaded from a YAML/JSON configuration."""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import yaml

from ..errors import ConfigError, DimensionNameError, format_choices
from ._elements import COLUMN_TYPES, ColumnSpec, Dimension, DimensionElement, SkyPixDimension
from ._group import DimensionGroup

_SKYPIX_RE = re.compile(r"^([a-z]+)(\d+)$")
_ELEMENT_KEYS = {
    "doc",
    "keys",
    "requires",
    "implies",
    "metadata",
    "governor",
    "always_join",
    "populated_by",
    "implied_union_target",
}


def _column(spec: Mapping[str, Any], where: str) -> ColumnSpec:
    if not isinstance(spec, Mapping) or "name" not in spec or "type" not in spec:
        raise ConfigError(f"{where}: a column needs 'name' and 'type'; got {spec!r}.")
    typ = spec["type"]
    if typ not in COLUMN_TYPES:
        raise ConfigError(f"{where}: column {spec['name']!r} has type {typ!r}; valid types: {COLUMN_TYPES}.")
    if typ == "string" and not isinstance(spec.get("length"), int):
        raise ConfigError(f"{where}: string column {spec['name']!r} needs an integer 'length'.")
    if typ == "hash" and not isinstance(spec.get("nbytes"), int):
        raise ConfigError(f"{where}: hash column {spec['name']!r} needs an integer 'nbytes'.")
    unknown = set(spec) - {"name", "type", "length", "nbytes", "nullable", "doc"}
    if unknown:
        raise ConfigError(f"{where}: column {spec['name']!r} has unknown keys {sorted(unknown)}.")
    return ColumnSpec(
        name=spec["name"],
        type=typ,
        length=spec.get("length"),
        nbytes=spec.get("nbytes"),
        nullable=spec.get("nullable", True),
        doc=spec.get("doc", ""),
    )


class DimensionUniverse:
    """All dimension elements of one configuration, with their relationships.

    Universes are identified by ``(namespace, version)``; two universes loaded
    from the same configuration are interchangeable. The universe a repository
    uses is the copy stored in its database. Prefer `from_config` (shared per
    namespace and version) to calling the constructor. Indexing by name
    (``universe["visit"]``, ``universe["htm7"]``) gives a `DimensionElement`
    and raises `DimensionNameError` naming the valid names; ``in`` tests a name.

    Parameters
    ----------
    config : `~collections.abc.Mapping` [`str`, `~typing.Any`]
        The parsed configuration (see ``chamberlain/dimensions/dimensions.yaml``):
        ``version``, ``namespace``, ``elements``, ``skypix`` and an optional
        ``topology``.

    Attributes
    ----------
    version : `int`
        Version of the configuration.
    namespace : `str`
        Namespace of the configuration (``"chamberlain"`` for the default).
    spatial_families : `dict` [`str`, `tuple` [`str`, ...]]
        Spatial family name to its member elements, finest first.
    temporal_families : `dict` [`str`, `tuple` [`str`, ...]]
        Temporal family name to its member elements, finest first.
    common_skypix : `SkyPixDimension`
        The sky pixelization used to index regions in the registry.

    Raises
    ------
    ConfigError
        If the configuration is malformed; the message names the element and key.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = dict(config)
        try:
            self.version: int = int(config["version"])
            self.namespace: str = str(config["namespace"])
            elements_cfg: Mapping[str, Mapping[str, Any]] = config["elements"]
            skypix_cfg = config["skypix"]
            topology = config.get("topology", {})
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"Dimension configuration lacks or misformats {err}.") from None
        self._skypix_systems: dict[str, dict[str, Any]] = dict(skypix_cfg["systems"])
        self._skypix_cache: dict[str, SkyPixDimension] = {}
        self._groups: dict[frozenset[str], DimensionGroup] = {}
        raw: dict[str, DimensionElement] = {}
        for name, ecfg in elements_cfg.items():
            unknown = set(ecfg) - _ELEMENT_KEYS
            if unknown:
                raise ConfigError(f"Element {name!r} has unknown keys {sorted(unknown)}.")
            keys = [_column(k, f"element {name!r}") for k in ecfg.get("keys", [])]
            element: DimensionElement
            if keys:
                dim = Dimension(name, ecfg.get("doc", ""))
                if keys[0].type not in ("int", "string"):
                    raise ConfigError(f"Element {name!r}: the primary key must be int or string.")
                dim.primary_key = keys[0]
                dim.alternate_keys = tuple(keys[1:])
                dim.implied_union_target = ecfg.get("implied_union_target")
                if ecfg.get("always_join") or ecfg.get("populated_by"):
                    raise ConfigError(f"Dimension {name!r} may not have always_join or populated_by.")
                element = dim
            else:
                if not ecfg.get("requires"):
                    raise ConfigError(f"Combination element {name!r} needs at least one required dimension.")
                element = DimensionElement(name, ecfg.get("doc", ""))
                element.always_join = bool(ecfg.get("always_join", False))
                element.populated_by = ecfg.get("populated_by")
            element.governor = bool(ecfg.get("governor", False))
            element.metadata = tuple(_column(c, f"element {name!r}") for c in ecfg.get("metadata", []))
            element.universe = self
            raw[name] = element
        # Resolve dependencies and sort topologically (stable: file order among equals).
        ordered: list[str] = []
        visiting: set[str] = set()

        def visit(n: str, path: tuple[str, ...]) -> None:
            if n in ordered:
                return
            if n in visiting:
                raise ConfigError(f"Dimension dependency cycle: {' -> '.join((*path, n))}.")
            if n not in raw:
                raise ConfigError(f"Element {path[-1]!r} depends on unknown element {n!r}.")
            visiting.add(n)
            deps = list(elements_cfg[n].get("requires", [])) + list(elements_cfg[n].get("implies", []))
            for d in deps:
                visit(d, (*path, n))
            visiting.discard(n)
            ordered.append(n)

        for n in raw:
            visit(n, ())
        self._elements: dict[str, DimensionElement] = {n: raw[n] for n in ordered}
        for n in ordered:
            element = raw[n]
            req: list[Dimension] = []
            for dep in elements_cfg[n].get("requires", []):
                dep_el = raw[dep]
                if not isinstance(dep_el, Dimension):
                    raise ConfigError(f"Element {n!r} requires {dep!r}, which is not a dimension.")
                for d in (*dep_el.required,):
                    if d not in req:
                        req.append(d)
            if isinstance(element, Dimension):
                req.append(element)
            # Declared order, each dependency's own requirements first: visit_detector_region is
            # (instrument, visit, detector), so rows arriving visit by visit are appended in key order.
            element.required = tuple(req)
            implied = []
            for dep in elements_cfg[n].get("implies", []):
                dep_el = raw[dep]
                if not isinstance(dep_el, Dimension):
                    raise ConfigError(f"Element {n!r} implies {dep!r}, which is not a dimension.")
                implied.append(dep_el)
            element.implied = tuple(implied)
        self._dimension_order = [n for n in ordered if isinstance(raw[n], Dimension)]
        for family, members in topology.get("spatial", {}).items():
            for m in members:
                self[m].spatial_family = family
        for family, members in topology.get("temporal", {}).items():
            for m in members:
                self[m].temporal_family = family
        self.spatial_families: dict[str, tuple[str, ...]] = {
            f: tuple(m) for f, m in topology.get("spatial", {}).items()
        }
        self.temporal_families: dict[str, tuple[str, ...]] = {
            f: tuple(m) for f, m in topology.get("temporal", {}).items()
        }
        common = skypix_cfg["common"]
        self.common_skypix: SkyPixDimension = self._skypix(common)

    # --- construction -------------------------------------------------------------------

    @classmethod
    def default(cls) -> DimensionUniverse:
        """Return the universe shipped with this version of Chamberlain.

        Returns
        -------
        universe : `DimensionUniverse`
            The universe of the packaged ``dimensions.yaml`` (loaded once per
            process).
        """
        return _default_universe()

    @classmethod
    def from_yaml(cls, text: str) -> DimensionUniverse:
        """Load a universe from YAML (or JSON) text.

        Parameters
        ----------
        text : `str`
            A dimension configuration as YAML or JSON.

        Returns
        -------
        universe : `DimensionUniverse`
            The universe for the configuration, shared per namespace and version
            (see `from_config`).

        Raises
        ------
        ConfigError
            If the configuration is malformed, or a different configuration was
            already loaded under the same namespace and version.
        yaml.YAMLError
            If ``text`` is not valid YAML.
        """
        return cls.from_config(yaml.safe_load(text))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DimensionUniverse:
        """Return the universe for a configuration; one object per ``(namespace, version)`` in a process.

        Parameters
        ----------
        config : `~collections.abc.Mapping` [`str`, `~typing.Any`]
            The parsed configuration (see the class docstring).

        Returns
        -------
        universe : `DimensionUniverse`
            The universe already loaded under the configuration's namespace and
            version, or a new one (then cached).

        Raises
        ------
        ConfigError
            If the configuration is malformed, or a different configuration was
            already loaded under the same namespace and version.
        """
        key = (str(config.get("namespace")), int(config.get("version", -1)))
        existing = _UNIVERSES.get(key)
        if existing is not None:
            if existing._config != dict(config):
                raise ConfigError(
                    f"Two different dimension configurations claim namespace {key[0]!r} version {key[1]}; "
                    "bump the version of the changed one."
                )
            return existing
        universe = cls(config)
        _UNIVERSES[key] = universe
        return universe

    def to_config(self) -> dict[str, Any]:
        """Return the configuration this universe was built from (stored in repositories).

        Returns
        -------
        config : `dict` [`str`, `~typing.Any`]
            The configuration mapping (not a copy: do not modify it).
        """
        return self._config

    # --- lookup -------------------------------------------------------------------------

    def _skypix(self, name: str) -> SkyPixDimension:
        cached = self._skypix_cache.get(name)
        if cached is not None:
            return cached
        m = _SKYPIX_RE.match(name)
        if m is None or m.group(1) not in self._skypix_systems:
            raise KeyError(name)
        system, level = m.group(1), int(m.group(2))
        cfg = self._skypix_systems[system]
        if not cfg.get("min_level", 1) <= level <= cfg["max_level"]:
            raise DimensionNameError(
                f"Sky pixelization level {name!r} is out of range: {system} levels run from "
                f"{cfg.get('min_level', 1)} to {cfg['max_level']}."
            )
        import lsst.sphgeom

        pix = getattr(lsst.sphgeom, cfg["class"])(level)
        dim = SkyPixDimension(system, level, pix)
        dim.universe = self
        dim.required = (dim,)
        self._skypix_cache[name] = dim
        return dim

    def __getitem__(self, name: str) -> DimensionElement:
        element = self._elements.get(name)
        if element is not None:
            return element
        try:
            return self._skypix(name)
        except KeyError:
            pass
        import difflib

        close = difflib.get_close_matches(str(name), list(self._elements), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DimensionNameError(
            f"Unknown dimension element {name!r}.{hint} Valid names: {format_choices(self._elements, 30)} "
            f"and sky pixelizations such as {self.common_skypix.name!r}."
        )

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self[name]
        except DimensionNameError:
            return False
        return True

    def get_dimension(self, name: str) -> Dimension:
        """Return the dimension called ``name``.

        Parameters
        ----------
        name : `str`
            A dimension name, or a sky pixelization such as ``htm7``.

        Returns
        -------
        dimension : `Dimension`
            The dimension object.

        Raises
        ------
        DimensionNameError
            If ``name`` is unknown, is a combination element (not a dimension),
            or is a sky pixelization level out of range; the message lists the
            valid names.
        """
        el = self[name]
        if not isinstance(el, Dimension):
            raise DimensionNameError(
                f"{name!r} is a dimension element but not a dimension; dimensions: "
                f"{format_choices(self._dimension_order, 30)}."
            )
        return el

    @property
    def elements(self) -> Iterator[DimensionElement]:
        """Every element with a configuration entry, in dependency order."""
        return iter(self._elements.values())

    @property
    def element_names(self) -> tuple[str, ...]:
        """Names of every configured element, in dependency order."""
        return tuple(self._elements)

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """Names of every configured (non-skypix) dimension, in dependency order."""
        return tuple(self._dimension_order)

    def sort_key(self, name: str) -> int:
        """Return a key that sorts element names in dependency order (skypix last).

        Parameters
        ----------
        name : `str`
            An element or sky pixelization name.

        Returns
        -------
        key : `int`
            The element's position in dependency order; unknown names (sky
            pixelizations) all get the number of elements, so they sort last.
        """
        try:
            return list(self._elements).index(name)
        except ValueError:
            return len(self._elements)

    def conform(self, names: Iterable[str] | DimensionGroup) -> DimensionGroup:
        """Return the smallest dimension group containing ``names`` and their dependencies.

        Does not run SQL; groups are cached, so equal groups are the same object.

        Parameters
        ----------
        names : `~collections.abc.Iterable` [`str`] or `DimensionGroup`
            Dimension names; a `DimensionGroup` is returned as it is.

        Returns
        -------
        group : `DimensionGroup`
            The group of ``names`` plus every dimension they require or imply.

        Raises
        ------
        DimensionNameError
            If a name is not a dimension of this universe.
        """
        if isinstance(names, DimensionGroup):
            return names
        key = frozenset(names)
        group = self._groups.get(key)
        if group is None:
            for n in key:
                self.get_dimension(n)
            group = DimensionGroup(self, key)
            self._groups[key] = group
            self._groups[frozenset(group.names)] = group
        return group

    @property
    def empty(self) -> DimensionGroup:
        """The group with no dimensions."""
        return self.conform(())

    # --- identity -----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DimensionUniverse):
            return NotImplemented
        return (self.namespace, self.version) == (other.namespace, other.version)

    def __hash__(self) -> int:
        return hash((self.namespace, self.version))

    def __repr__(self) -> str:
        return f"DimensionUniverse(namespace={self.namespace!r}, version={self.version})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (DimensionUniverse.from_config, (self._config,))


_UNIVERSES: dict[tuple[str, int], DimensionUniverse] = {}


def _element_from_universe(universe: DimensionUniverse, name: str) -> DimensionElement:
    return universe[name]


@functools.cache
def _default_universe() -> DimensionUniverse:
    text = importlib.resources.files("chamberlain.dimensions").joinpath("dimensions.yaml").read_text()
    return DimensionUniverse.from_yaml(text)
