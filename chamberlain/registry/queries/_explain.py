"""Why a query returned nothing: probe its parts with small queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ._plan import element_key_column
from .expressions import BinaryOp, Identifier, InList, Literal, LogicalOp, Node, format_error, to_text
from .expressions.diagnostics import describe_position

if TYPE_CHECKING:
    from ._query import Query

__all__ = ["MAX_PROBED_TERMS", "explain"]

#: At most this many top-level AND terms are probed one by one (a machine-made `where`
#: may have thousands; each probe is a query).
MAX_PROBED_TERMS = 50


def _conjuncts(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if isinstance(node, LogicalOp) and node.op == "AND":
        return list(node.operands)  # chains are flat: no operand is another AND
    return [node]


def _value_constraints(query: Query) -> list[tuple[str, list[Any], str]]:
    """(dimension, values, where it came from) for data-ID values and ``dim = literal`` terms."""
    out: list[tuple[str, list[Any], str]] = [
        (k, [v], f"data ID {k}={v!r}") for k, v in query.spec.data_id.items()
    ]
    for term in _conjuncts(query.tree)[:MAX_PROBED_TERMS]:
        lhs: Node | None = None
        values: list[Any] = []
        if isinstance(term, BinaryOp) and term.op == "=":
            for a, b in ((term.lhs, term.rhs), (term.rhs, term.lhs)):
                if isinstance(a, Identifier) and isinstance(b, Literal) and b.kind in ("int", "string"):
                    lhs, values = a, [b.value]
        elif (
            isinstance(term, InList)
            and not term.negated
            and isinstance(term.lhs, Identifier)
            and all(isinstance(i, Literal) and i.kind in ("int", "string") for i in term.items)
        ):
            lhs, values = term.lhs, [i.value for i in term.items]  # type: ignore[attr-defined]
        if lhs is None:
            continue
        try:
            ref = query.resolver.resolve(lhs)  # type: ignore[arg-type]
        except Exception:
            continue
        if ref.kind == "dimension" and ref.element is None:
            where = f"where term {to_text(term)!r} ({describe_position(query.spec.where, term.start)})"
            out.append((ref.name, values, where))
    return out


def _unknown_values(query: Query) -> list[str]:
    reasons = []
    universe = query.universe
    db = query.registry._db
    for dim, values, origin in _value_constraints(query):
        el = universe[dim]
        table_name = el.name if el.has_table else getattr(el, "implied_union_target", None)
        if table_name is None:
            continue
        table = query.registry._tables[table_name]
        column = table.c[element_key_column(universe[table_name], dim)]
        stmt = sa.select(column).where(column.in_(values)).distinct()
        governors = [
            d.name
            for d in universe[table_name].required
            if d.governor and d.name in query.spec.data_id and d.name != dim
        ]
        for g in governors:
            stmt = stmt.where(table.c[g] == query.spec.data_id[g])
        present = {row[0] for row in db.execute(stmt)}
        missing = [v for v in values if v not in present]
        if missing:
            shown = ", ".join(repr(v) for v in missing)
            reasons.append(f"No {dim} record has {dim}={shown} (from the {origin}).")
    return reasons


def _empty_collections(query: Query) -> list[str]:
    reasons = []
    db = query.registry._db
    for name, rec in query._types.items():
        if not query.collections:
            reasons.append(f"The collections {list(query.spec.collections)} hold no collections to search.")
            continue
        counts: dict[int, int] = {}
        tables = [rec.tags] + ([rec.calibs] if rec.calibs is not None else [])
        for t in tables:
            stmt = (
                sa.select(t.c.collection_id, sa.func.count())
                .where(
                    t.c.dataset_type_id == rec.id, t.c.collection_id.in_([c.id for c in query.collections])
                )
                .group_by(t.c.collection_id)
            )
            for cid, n in db.execute(stmt):
                counts[cid] = counts.get(cid, 0) + int(n)
        empty = [c.name for c in query.collections if not counts.get(c.id)]
        if len(empty) == len(query.collections):
            for c in empty:
                reasons.append(f"Collection {c!r} has no datasets of type {name!r}.")
    return reasons


def _any(query: Query, tree: Node | None, kind: str) -> bool:
    built = query.with_where(tree).build(columns=kind)
    return query.registry._db.execute(built.statement.limit(1)).first() is not None


def _empty_tables(query: Query, kind: str) -> list[str]:
    plan, _ = query.with_where(None).plan()
    db = query.registry._db
    names = list(plan.elements) + ([plan.overlap] if plan.overlap else [])
    reasons = []
    for name in names:
        table = query.registry._tables[name]
        if db.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None:
            reasons.append(f"Table {name!r} is empty, and the query needs a row from it.")
    if not reasons:
        reasons.append(
            f"The tables joined for dimensions {plan.group} ({', '.join(names)}) have no rows in common "
            "with the other constraints."
        )
    return reasons


def explain(query: Query) -> list[str]:
    """Reasons ``query`` matches no rows, most specific first."""
    kind = "datasets" if query.spec.result_dataset else ("records" if query.spec.element else "data_ids")
    reasons = _unknown_values(query)
    reasons += _empty_collections(query)
    if reasons:
        return reasons
    if not _any(query, None, kind):
        return _empty_tables(query, kind)
    terms = _conjuncts(query.tree)
    text = query.spec.where
    for term in terms[:MAX_PROBED_TERMS]:
        if not _any(query, term, kind):
            message = (
                f"The where term {to_text(term)!r} at {describe_position(text, term.start)} matches no rows "
                "on its own"
            )
            return [format_error(text, term.start, term.end, message)]
    if len(terms) > MAX_PROBED_TERMS:
        return [
            f"Each of the first {MAX_PROBED_TERMS} of the {len(terms)} where terms matches rows on its own "
            "(the others were not tried one by one), but together they match none."
        ]
    if len(terms) > 1:
        return ["Each where term matches rows on its own, but together they match none."]
    return ["The where expression matches no rows."]
