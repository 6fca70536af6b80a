"""Random `where` expressions: the SQL path agrees with a plain-Python evaluator.

Each generated expression comes with its own Python predicate, built side by
side from the same random choices (not from our parser), using SQL's
three-valued logic: a comparison with NULL is unknown, NOT unknown is unknown,
and a row is returned only when the whole expression is true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _populate import DAY, add_instrument
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chamberlain.registry import Registry

Pred = Callable[[dict[str, Any]], bool | None]
OBS_TYPES = ["science", "bias", "flat", "it's odd"]
FILTERS = ["Cam-r", "Cam-g"]


def _records() -> list[dict[str, Any]]:
    out = []
    for i in range(40):
        out.append(
            {
                "instrument": "Cam",
                "id": 1000 + i,
                "obs_id": f"O{i}",
                "physical_filter": FILTERS[i % 2],
                "group": "g1",
                "day_obs": DAY,
                "exposure_time": None if i % 7 == 3 else float((i * 13) % 40),
                "seq_num": (i * 5) % 17,
                "observation_type": None if i % 11 == 5 else OBS_TYPES[i % 4],
            }
        )
    return out


@pytest.fixture
def registry(database) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    add_instrument(reg)
    reg.insert_dimension_records("exposure", _records())
    try:
        yield reg
    finally:
        reg.close()


def _cmp(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@st.composite
def comparisons(draw: st.DrawFn) -> tuple[str, Pred]:
    kind = draw(st.sampled_from(["id", "time", "seq", "type", "filter", "null", "in", "range"]))
    op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
    if kind == "id":
        v = draw(st.integers(995, 1045))
        return f"exposure {op} {v}", lambda r: _cmp(op, r["id"], v)
    if kind == "time":
        v = draw(st.sampled_from([0.0, 5.0, 12.5, 20.0, 39.0]))
        return f"exposure.exposure_time {op} {v}", lambda r: _cmp(op, r["exposure_time"], v)
    if kind == "seq":
        v = draw(st.integers(0, 17))
        return f"exposure.seq_num {op} {v}", lambda r: _cmp(op, r["seq_num"], v)
    if kind == "type":
        v = draw(st.sampled_from(OBS_TYPES))
        eq = draw(st.sampled_from(["=", "!="]))
        return f"exposure.observation_type {eq} {_quote(v)}", lambda r: _cmp(eq, r["observation_type"], v)
    if kind == "filter":
        v = draw(st.sampled_from(FILTERS))
        return f"physical_filter = {_quote(v)}", lambda r: r["physical_filter"] == v
    if kind == "null":
        field = draw(st.sampled_from(["exposure_time", "observation_type"]))
        negated = draw(st.booleans())
        text = f"exposure.{field} IS {'NOT ' if negated else ''}NULL"
        return text, lambda r: (r[field] is not None) if negated else (r[field] is None)
    if kind == "in":
        values = draw(st.lists(st.integers(0, 17), min_size=1, max_size=4))
        negated = draw(st.booleans())
        text = f"exposure.seq_num {'NOT IN' if negated else 'IN'} ({', '.join(map(str, values))})"
        return text, lambda r: (r["seq_num"] not in values) if negated else (r["seq_num"] in values)
    lo = draw(st.integers(995, 1040))
    hi = draw(st.integers(lo, 1045))
    stride = draw(st.integers(1, 4))
    members = set(range(lo, hi + 1, stride))
    return f"exposure IN ({lo}..{hi}:{stride})", lambda r: r["id"] in members


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def expressions(depth: int = 3) -> st.SearchStrategy[tuple[str, Pred]]:
    def extend(children: st.SearchStrategy[tuple[str, Pred]]) -> st.SearchStrategy[tuple[str, Pred]]:
        def combine(args: tuple[str, tuple[str, Pred], tuple[str, Pred]]) -> tuple[str, Pred]:
            op, (ta, fa), (tb, fb) = args
            if op == "AND":
                return f"({ta}) AND ({tb})", lambda r: _and(fa(r), fb(r))
            if op == "OR":
                return f"({ta}) OR ({tb})", lambda r: _or(fa(r), fb(r))
            return f"NOT ({ta})", lambda r: None if fa(r) is None else not fa(r)

        return st.tuples(st.sampled_from(["AND", "OR", "NOT"]), children, children).map(combine)

    return st.recursive(comparisons(), extend, max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expr=expressions())
def test_sql_and_python_agree(registry: Registry, expr: tuple[str, Pred]) -> None:
    text, predicate = expr
    expected = {r["id"] for r in _records() if predicate(r) is True}
    got = {rec.id for rec in registry.query_dimension_records("exposure", where=text, instrument="Cam")}
    assert got == expected, text
    ids = {d["exposure"] for d in registry.query_data_ids(["exposure"], where=text, instrument="Cam")}
    assert ids == expected, text
