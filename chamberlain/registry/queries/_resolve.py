"""Resolving the names in a `where` expression or ``order_by`` list to query columns.

Resolution (before any SQL is built) tells the planner which elements a query
must join; the compiler later turns each resolved name into a column.

Rules, in order:

* one part: a bind name; a dimension (``visit`` means its key); a dataset
  field (``ingest_date``, ``run``, ``dataset_id``, ``collection``) when the
  query has a result dataset type; otherwise a field of exactly one element of
  the query's dimensions (``exposure_time`` when only ``visit`` has one);
* two parts: ``element.field`` (``visit.id`` and ``visit.visit`` are the key,
  ``visit.instrument`` a dimension, ``visit.region``/``visit.timespan``, or
  metadata), or ``<dataset type>.<dataset field>``;
* three parts: ``element.timespan.begin`` / ``.end``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ...dimensions import DimensionUniverse
from .expressions import Identifier, error_at, suggest
from .expressions.diagnostics import describe_position

__all__ = ["DATASET_FIELDS", "Ref", "Resolver"]

#: Fields of a dataset usable in expressions.
DATASET_FIELDS = ("dataset_id", "ingest_date", "run", "collection", "timespan")


@dataclass(frozen=True)
class Ref:
    """What a name means.

    ``kind`` is ``dimension`` (``name`` = dimension), ``field`` (``element`` +
    ``name`` = column), ``region`` / ``timespan`` (of ``element``),
    ``bound`` (``element``'s timespan ``name`` = begin/end), ``dataset``
    (``element`` = dataset type, ``name`` = dataset field) or ``bind``.
    """

    kind: str
    name: str
    element: str | None = None


class Resolver:
    """Resolves identifiers against a universe, the query's dimensions and datasets.

    Parameters
    ----------
    universe
        The dimension universe.
    dimensions
        Names of the query's dimensions (used for bare field names).
    datasets
        Dataset type names joined in the query (``calexp.run``).
    result_dataset
        The dataset type whose fields bare names (``ingest_date``) refer to.
    binds
        Names of bind parameters.
    text
        The expression the identifiers came from (for error messages).
    """

    def __init__(
        self,
        universe: DimensionUniverse,
        dimensions: Iterable[str],
        *,
        datasets: Collection[str] = (),
        result_dataset: str | None = None,
        binds: Collection[str] = (),
        text: str = "",
    ) -> None:
        self.universe = universe
        self.dimensions = set(dimensions)
        self.datasets = set(datasets)
        self.result_dataset = result_dataset
        self.binds = set(binds)
        self.text = text

    def _element_fields(self, element: str) -> tuple[str, ...]:
        el = self.universe[element]
        names = list(el.field_names)
        if el.is_dimension:
            names.append(el.name)
        return tuple(names)

    def candidates(self) -> list[str]:
        """Every name that would resolve, for "did you mean" suggestions."""
        out = [n for n in self.universe.dimension_names if self.universe[n].has_table or n == "band"]
        for el in self.universe.elements:
            if not el.has_table:
                continue
            out += [f"{el.name}.{f}" for f in self._element_fields(el.name)]
            if el.temporal:
                out += [f"{el.name}.timespan.begin", f"{el.name}.timespan.end"]
        for ds in self.datasets:
            out += [f"{ds}.{f}" for f in DATASET_FIELDS]
        if self.result_dataset is not None:
            out += list(DATASET_FIELDS)
        out += sorted(self.binds)
        return out

    def _fail(self, identifier: Identifier, what: str) -> Exception:
        matches = suggest(identifier.text, self.candidates())
        hint = ""
        if matches:
            quoted = [repr(m) for m in matches]
            hint = "; did you mean " + (" or ".join(quoted) if len(quoted) <= 2 else ", ".join(quoted)) + "?"
        where = describe_position(self.text, identifier.start)
        return error_at(self.text, identifier.start, identifier.end, f"{what} at {where}{hint}", marker="^")

    def resolve(self, identifier: Identifier) -> Ref:
        """Resolve one identifier.

        Raises
        ------
        InvalidQueryError
            If the name is unknown or ambiguous; the message marks it in the
            expression and suggests the closest valid names.
        """
        parts = identifier.parts
        universe = self.universe
        if len(parts) == 1:
            name = parts[0]
            if name in self.binds:
                return Ref("bind", name)
            if name in universe and universe[name].is_dimension:
                if not universe[name].has_table and name != "band":
                    raise self._fail(identifier, f"Sky-pixel dimension {name!r} cannot be used in a query")
                return Ref("dimension", name)
            if self.result_dataset is not None and name in DATASET_FIELDS:
                return Ref("dataset", name, self.result_dataset)
            owners = sorted(
                e
                for e in universe.conform(self.dimensions & set(universe.dimension_names)).elements
                if universe[e].has_table and name in universe[e].field_names
            )
            if len(owners) == 1:
                return self._field(identifier, owners[0], name)
            if len(owners) > 1:
                where = describe_position(self.text, identifier.start)
                options = ", ".join(f"'{o}.{name}'" for o in owners)
                raise error_at(
                    self.text,
                    identifier.start,
                    identifier.end,
                    f"Ambiguous identifier {name!r} at {where}: it is a field of several elements; "
                    f"write one of {options}",
                    marker="^",
                )
            raise self._fail(identifier, f"Unrecognized identifier {name!r}")
        head, field = parts[0], parts[1]
        if head in self.datasets or head == self.result_dataset:
            if len(parts) == 2 and field in DATASET_FIELDS:
                return Ref("dataset", field, head)
            raise self._fail(identifier, f"Unrecognized dataset field {identifier.text!r}")
        if head not in universe or not universe[head].has_table:
            raise self._fail(identifier, f"Unrecognized identifier {identifier.text!r}")
        if len(parts) == 3:
            if field != "timespan" or not universe[head].temporal or parts[2] not in ("begin", "end"):
                raise self._fail(identifier, f"Unrecognized identifier {identifier.text!r}")
            return Ref("bound", parts[2], head)
        return self._field(identifier, head, field)

    def _field(self, identifier: Identifier, element: str, field: str) -> Ref:
        el = self.universe[element]
        if el.is_dimension and field in (el.name, el.primary_key.name):  # type: ignore[attr-defined]
            return Ref("dimension", element)
        if field in {d.name for d in el.required} | {d.name for d in el.implied}:
            return Ref("dimension", field, element)
        if field == "region" and el.spatial:
            return Ref("region", "region", element)
        if field == "timespan" and el.temporal:
            return Ref("timespan", "timespan", element)
        if field in el.field_names:
            return Ref("field", field, element)
        raise self._fail(identifier, f"Unrecognized field {field!r} of element {element!r}")

    def elements_needed(self, refs: Iterable[Ref]) -> tuple[set[str], set[str]]:
        """(dimension names, element names) the references need joined."""
        dims: set[str] = set()
        elements: set[str] = set()
        for ref in refs:
            if ref.kind == "dimension":
                dims.add(ref.name)
                if ref.element is not None:
                    elements.add(ref.element)
                    dims.update(d.name for d in self.universe[ref.element].required)
            elif ref.kind == "region":  # matched through key sets: the element's keys suffice
                assert ref.element is not None
                dims.update(d.name for d in self.universe[ref.element].required)
            elif ref.kind in ("field", "timespan", "bound"):
                assert ref.element is not None
                el = self.universe[ref.element]
                elements.add(ref.element)
                dims.update(d.name for d in el.required)
        return dims, elements
