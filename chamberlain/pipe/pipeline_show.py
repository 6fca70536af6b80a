"""Showing a pipeline as text, JSON, Mermaid or Graphviz dot (``chamberlain pipeline show``).

`pipeline_summary` and the text form need only the `Pipeline` (no task is
imported): labels, classes as written and what they resolve to, config
overrides, subsets, steps, contracts and parameters. The DAG needs the tasks'
connections, so it comes from a resolved `PipelineGraph`: pass one to add the
``graph`` section to text and JSON; Mermaid and dot always draw one. The JSON
keys are documented in ``docs/pipelines.md``.
"""

from __future__ import annotations

import json
from typing import Any

from .pipeline import Pipeline
from .pipeline_graph import READ_KINDS, PipelineGraph

__all__ = ["FORMATS", "format_pipeline", "pipeline_summary"]

FORMATS = ("text", "json", "mermaid", "dot")


def pipeline_summary(pipeline: Pipeline, graph: PipelineGraph | None = None) -> dict[str, Any]:
    """Return what ``pipeline show --format json`` prints.

    Parameters
    ----------
    pipeline : `Pipeline`
        The pipeline.
    graph : `PipelineGraph`, optional
        Its resolved graph; without it the ``graph`` key is None.

    Returns
    -------
    summary : `dict` [`str`, `~typing.Any`]
        ``name``, ``description``, ``instrument``, ``parameters``, ``tasks``
        (label, class, resolves_to, config), ``subsets``, ``steps``,
        ``contracts`` and ``graph``.

    Raises
    ------
    PipelineError
        If a config value references an undefined parameter.
    """
    return {
        "name": pipeline.name,
        "description": pipeline.description,
        "instrument": pipeline.instrument,
        "parameters": dict(pipeline.parameters),
        "tasks": [
            {
                "label": label,
                "class": entry.class_name,
                "resolves_to": pipeline.task_class_name(label),
                "config": [[key, _json(value)] for key, value in pipeline.config_overrides(label)],
            }
            for label, entry in pipeline.tasks.items()
        ],
        "subsets": [
            {"label": s.label, "tasks": list(s.tasks), "description": s.description}
            for s in pipeline.subsets.values()
        ],
        "steps": [{"label": s.label, "dimensions": list(s.dimensions)} for s in pipeline.steps],
        "contracts": [{"contract": c.expression, "msg": c.msg} for c in pipeline.contracts],
        "graph": graph.to_dict() if graph is not None else None,
    }


def format_pipeline(
    pipeline: Pipeline, graph: PipelineGraph | None = None, output_format: str = "text"
) -> str:
    """Render a pipeline for ``chamberlain pipeline show``.

    Parameters
    ----------
    pipeline : `Pipeline`
        The pipeline.
    graph : `PipelineGraph`, optional
        Its resolved graph (required for ``mermaid`` and ``dot``).
    output_format : `str`, optional
        One of `FORMATS`.

    Returns
    -------
    text : `str`
        The rendering, ending in a newline.

    Raises
    ------
    ValueError
        If the format is unknown, or ``mermaid``/``dot`` is asked without a graph.
    """
    fmt = output_format.lower()
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {output_format!r}; valid formats: {', '.join(FORMATS)}.")
    if fmt == "json":
        return json.dumps(pipeline_summary(pipeline, graph), indent=2) + "\n"
    if fmt == "text":
        return _text(pipeline, graph)
    if graph is None:
        raise ValueError(f"Format {fmt!r} draws the graph, which needs the resolved tasks.")
    return _mermaid(graph) if fmt == "mermaid" else _dot(graph)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _text(pipeline: Pipeline, graph: PipelineGraph | None) -> str:
    lines = [
        f"Pipeline {pipeline.name}",
        *(f"  {line}" for line in pipeline.description.strip().splitlines()),
    ]
    if pipeline.instrument:
        lines.append(f"Instrument: {pipeline.instrument}")
    if pipeline.parameters:
        lines.append("Parameters:")
        lines += [f"  {k} = {v!r}" for k, v in pipeline.parameters.items()]
    lines.append("Tasks:")
    for label, entry in pipeline.tasks.items():
        resolved = pipeline.task_class_name(label)
        suffix = f" (-> {resolved})" if resolved != entry.class_name else ""
        lines.append(f"  {label}: {entry.class_name}{suffix}")
        for key, value in pipeline.config_overrides(label):
            shown = f"<{len(value.splitlines())} line(s) of Python>" if key == "python" else repr(value)
            lines.append(f"    {key} = {shown}")
    if pipeline.subsets:
        lines.append("Subsets:")
        for s in pipeline.subsets.values():
            about = f"  ({s.description})" if s.description else ""
            lines.append(f"  {s.label}: {', '.join(s.tasks)}{about}")
    if pipeline.steps:
        lines.append("Steps:")
        lines += [f"  {s.label} [{', '.join(s.dimensions)}]" for s in pipeline.steps]
    if pipeline.contracts:
        lines.append("Contracts:")
        lines += [f"  {c.expression}" + (f"  ({c.msg})" if c.msg else "") for c in pipeline.contracts]
    if graph is not None:
        lines.append("Graph (tasks in order):")
        for node in graph.tasks.values():
            lines.append(f"  {node.label} [{', '.join(sorted(node.dimensions))}]")
            for edge in node.connections:
                if edge.connection == "automatic":
                    continue
                arrow = "<-" if edge.kind in READ_KINDS else "->"
                origin = graph.dataset_types[edge.parent].producer if edge.kind in READ_KINDS else None
                source = f" (from {origin})" if origin else ""
                lines.append(f"    {arrow} {edge.dataset_type} ({edge.kind}, {edge.storage_class}){source}")
        lines.append(f"Overall inputs: {', '.join(graph.overall_inputs()) or '(none)'}")
    return "\n".join(lines) + "\n"


def _drawn(graph: PipelineGraph) -> list[str]:
    """Dataset types to draw: all but automatic ones nobody reads."""
    return [n for n, d in graph.dataset_types.items() if not (d.automatic and not d.consumers)]


def _edges(graph: PipelineGraph, drawn: list[str]) -> list[tuple[str, str, str]]:
    """Return ``(kind, from, to)`` with kind ``read`` (dataset -> task) or ``write``."""
    wanted = set(drawn)
    edges = []
    for node in graph.tasks.values():
        for edge in node.connections:
            if edge.parent not in wanted:
                continue
            if edge.kind in READ_KINDS:
                edges.append(("read", edge.parent, node.label))
            else:
                edges.append(("write", node.label, edge.parent))
    return sorted(set(edges), key=edges.index)


def _draw(
    graph: PipelineGraph, task_node: Any, dataset_node: Any, arrow: Any, head: list[str], tail: list[str]
) -> str:
    """Draw the DAG: ``task_node(label, class_name)``, ``dataset_node(name)``, ``arrow(a, b)`` make lines."""
    drawn = _drawn(graph)
    lines = list(head)
    lines += [task_node(label, node.task_class.__name__) for label, node in graph.tasks.items()]
    lines += [dataset_node(name) for name in drawn]
    for kind, a, b in _edges(graph, drawn):
        lines.append(
            arrow(("dataset", a), ("task", b)) if kind == "read" else arrow(("task", a), ("dataset", b))
        )
    return "\n".join(lines + tail) + "\n"


def _mermaid(graph: PipelineGraph) -> str:
    ids = {("task", label): f"t{i}" for i, label in enumerate(graph.tasks)}
    ids |= {("dataset", name): f"d{i}" for i, name in enumerate(_drawn(graph))}
    return _draw(
        graph,
        lambda label, cls: f'  {ids["task", label]}["{_mermaid_text(label)}<br/>{_mermaid_text(cls)}"]',
        lambda name: f'  {ids["dataset", name]}[("{_mermaid_text(name)}")]',
        lambda a, b: f"  {ids[a]} --> {ids[b]}",
        ["flowchart TD"],
        [],
    )


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _dot(graph: PipelineGraph) -> str:
    return _draw(
        graph,
        lambda label, cls: (
            f"  {_dot_id('task:' + label)} [shape=box, label={_dot_id(label + chr(10) + cls)}];"
        ),
        lambda name: f"  {_dot_id('dataset:' + name)} [shape=ellipse, label={_dot_id(name)}];",
        lambda a, b: f"  {_dot_id(':'.join(a))} -> {_dot_id(':'.join(b))};",
        ["digraph pipeline {", "  rankdir=TB;"],
        ["}"],
    )


def _dot_id(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
