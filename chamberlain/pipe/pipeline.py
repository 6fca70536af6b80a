"""`Pipeline`: a pipeline definition, its config overrides, and its resolution into a graph.

::

    pipeline = Pipeline.from_file("templates")          # a shipped pipeline, or a path
    pipeline = pipeline.with_config("getTemplate", {"template_border_size": 30})
    print(pipeline.labels, pipeline.task_class_name("getTemplate"))  # nothing imported yet
    graph = pipeline.resolve()                          # imports the tasks, checks everything

Loading and inspecting a `Pipeline` imports no task class. `resolve` imports
each class by its import path (Rubin class paths of the tasks Chamberlain
implements resolve to ours through `TASK_ALIASES`), makes each config and
applies the overrides in order, validates and freezes it, evaluates the
contracts and builds the `PipelineGraph`. Config files (``file:``) and
``python:`` blocks written in a pipeline file execute Python, so they only run
when the caller passes ``allow_python=True``; overrides given through
`with_config` (the command line's ``-c``/``-C``) are the caller's own and always run.
"""

from __future__ import annotations

import difflib
import importlib.resources
import os
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chamberlain.errors import ChamberlainError, ConfigError, format_choices

from .config import Config, ConfigHolder
from .pipeline_contracts import evaluate_contract
from .pipeline_file import (
    ConfigBlock,
    Contract,
    PipelineData,
    PipelineError,
    PipelineGraphError,
    Step,
    Subset,
    TaskEntry,
    check_labels,
    field_name,
    read_pipeline_file,
    read_pipeline_text,
    substitute_parameters,
)
from .pipeline_graph import READ_KINDS, WRITE_KINDS, ConnectionEdge, PipelineGraph, TaskNode
from .pipeline_task import PipelineTask, PipelineTaskConfig

__all__ = ["TASK_ALIASES", "Pipeline", "find_pipeline", "resolve_task_class", "shipped_pipelines"]

#: Rubin class paths of the tasks Chamberlain implements -> Chamberlain's class path.
TASK_ALIASES: Mapping[str, str] = {
    "lsst.ip.diffim.getTemplate.GetTemplateTask": "chamberlain.tasks.GetTemplateTask",
    "lsst.ip.diffim.GetTemplateTask": "chamberlain.tasks.GetTemplateTask",
    "lsst.ip.diffim.getTemplate.GetDcrTemplateTask": "chamberlain.tasks.GetDcrTemplateTask",
    "lsst.ip.diffim.GetDcrTemplateTask": "chamberlain.tasks.GetDcrTemplateTask",
}

_SHIPPED_PACKAGE = "chamberlain.pipelines"
_PARAMETERS_LABEL = "parameters"


def shipped_pipelines() -> dict[str, Path]:
    """Return the pipelines shipped in the ``chamberlain/pipelines/`` folder of the package.

    Returns
    -------
    pipelines : `dict` [`str`, `pathlib.Path`]
        Name (the file name without ``.yaml``) -> file, sorted by name.
    """
    folder = importlib.resources.files(_SHIPPED_PACKAGE)
    found = {
        entry.name.removesuffix(".yaml"): Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and entry.is_file()
    }
    return dict(sorted(found.items()))


def find_pipeline(pipeline: str | os.PathLike[str]) -> Path:
    """Return the file a pipeline argument names: an existing path, else a shipped pipeline's name.

    Parameters
    ----------
    pipeline : `str` or `os.PathLike`
        A path to a pipeline file, or the name of a shipped pipeline
        (``templates`` or ``templates.yaml``).

    Returns
    -------
    path : `pathlib.Path`
        The pipeline file.

    Raises
    ------
    PipelineError
        If it is neither a file nor a shipped pipeline's name.
    """
    path = Path(pipeline)
    if path.is_file():
        return path
    shipped = shipped_pipelines()
    name = str(pipeline).removesuffix(".yaml")
    if name in shipped:
        return shipped[name]
    raise PipelineError(
        f"Pipeline {str(pipeline)!r} is neither a file nor a shipped pipeline; "
        f"shipped pipelines: {format_choices(shipped)}."
    )


def resolve_task_class(class_name: str, label: str = "") -> type[PipelineTask]:
    """Import a task class by its import path, through `TASK_ALIASES`.

    Parameters
    ----------
    class_name : `str`
        ``module.Class`` as written in a pipeline file.
    label : `str`, optional
        The task label, for error messages.

    Returns
    -------
    task_class : `type` [`PipelineTask`]
        The class.

    Raises
    ------
    PipelineError
        If it cannot be imported or is not a `PipelineTask` subclass.
    """
    target = TASK_ALIASES.get(class_name, class_name)
    who = f"Task {label!r}: class" if label else "Task class"
    if "." not in target:
        raise PipelineError(f"{who} {class_name!r} is not a module.Class import path.")
    try:
        task_class = pkgutil.resolve_name(target)
    except (ImportError, AttributeError, ValueError) as err:
        raise PipelineError(
            f"{who} {class_name!r} cannot be imported: {type(err).__name__}: {err}."
        ) from None
    if not (isinstance(task_class, type) and issubclass(task_class, PipelineTask)):
        raise PipelineError(f"{who} {class_name!r} is {task_class!r}, not a PipelineTask subclass.")
    return task_class


@dataclass(frozen=True)
class Pipeline:
    """A pipeline definition: tasks by label, subsets, steps, contracts, parameters.

    Make one with `from_file` or `from_text`; `with_config` and
    `with_parameters` return modified copies. Nothing here imports a task
    class except `make_config` and `resolve`.

    Attributes
    ----------
    data
        What the file says (imports merged), plus the overrides added since.
    name
        The pipeline's name in messages (its file, or ``"<string>"``).
    """

    data: PipelineData
    name: str

    # ----------------------------------------------------------------- loading

    @classmethod
    def from_file(cls, pipeline: str | os.PathLike[str]) -> Pipeline:
        """Read a pipeline file, or a shipped pipeline by name.

        Parameters
        ----------
        pipeline : `str` or `os.PathLike`
            A path, or the name of a pipeline in `shipped_pipelines`; as in
            Rubin's ``pipetask``, ``FILE#a,b`` keeps only the tasks or subsets
            labelled ``a`` and ``b`` (see `subset`).

        Returns
        -------
        pipeline : `Pipeline`
            The pipeline (no task imported).

        Raises
        ------
        PipelineError
            If the file is missing or invalid (see `read_pipeline_file`), or a
            label after ``#`` is unknown.
        """
        text = os.fspath(pipeline)
        selection: list[str] = []
        if "#" in text and not Path(text).is_file():
            text, _, labels = text.rpartition("#")
            selection = [label.strip() for label in labels.split(",") if label.strip()]
            if not selection:
                raise PipelineError(f"Pipeline {os.fspath(pipeline)!r}: no labels after '#'.")
        path = find_pipeline(text)
        result = cls(read_pipeline_file(path), str(path))
        return result.subset(selection) if selection else result

    @classmethod
    def from_text(cls, text: str, *, source: str = "<string>", base: Path | None = None) -> Pipeline:
        """Read a pipeline from YAML text.

        Parameters
        ----------
        text : `str`
            The YAML document.
        source : `str`, optional
            Its name in messages.
        base : `pathlib.Path`, optional
            Directory relative import locations and config files are relative to.

        Returns
        -------
        pipeline : `Pipeline`
            The pipeline (no task imported).

        Raises
        ------
        PipelineError
            If the text is invalid (see `read_pipeline_file`).
        """
        return cls(read_pipeline_text(text, source=source, base=base), source)

    # --------------------------------------------------------------- properties

    @property
    def description(self) -> str:
        """The pipeline's description."""
        return self.data.description

    @property
    def instrument(self) -> str | None:
        """The instrument class path, or None (shown; its config overrides are not applied)."""
        return self.data.instrument

    @property
    def parameters(self) -> Mapping[str, Any]:
        """Parameter name -> value."""
        return self.data.parameters

    @property
    def labels(self) -> list[str]:
        """The task labels, in file order."""
        return list(self.data.tasks)

    @property
    def tasks(self) -> Mapping[str, TaskEntry]:
        """Label -> `TaskEntry` (as written: class name and config blocks)."""
        return self.data.tasks

    @property
    def subsets(self) -> Mapping[str, Subset]:
        """Subset label -> `Subset`."""
        return self.data.subsets

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps, in order."""
        return self.data.steps

    @property
    def contracts(self) -> tuple[Contract, ...]:
        """The contracts, in order."""
        return self.data.contracts

    def _entry(self, label: str) -> TaskEntry:
        if label not in self.data.tasks:
            raise PipelineError(
                f"Pipeline {self.name}: no task labelled {label!r}; labels: {format_choices(self.data.tasks)}."
            )
        return self.data.tasks[label]

    def task_class_name(self, label: str) -> str:
        """Return the import path the task's class resolves from (aliases applied), importing nothing.

        Parameters
        ----------
        label : `str`
            A task label.

        Returns
        -------
        class_name : `str`
            The ``module.Class`` path `resolve` will import.

        Raises
        ------
        PipelineError
            If the label is not a task of the pipeline.
        """
        written = self._entry(label).class_name
        return TASK_ALIASES.get(written, written)

    def config_overrides(self, label: str) -> list[tuple[str, Any]]:
        """Return a task's value overrides in the order they apply, parameters substituted.

        Parameters
        ----------
        label : `str`
            A task label.

        Returns
        -------
        overrides : `list` [`tuple` [`str`, `~typing.Any`]]
            ``(dotted field, value)`` pairs; files and python blocks appear as
            ``("file", path)`` and ``("python", source)``.

        Raises
        ------
        PipelineError
            If the label is unknown or a value references an undefined parameter.
        """
        out: list[tuple[str, Any]] = []
        for block in self._entry(label).config:
            out += [("file", f) for f in block.files]
            if block.python is not None:
                out.append(("python", block.python))
            out += [(k, substitute_parameters(v, self.parameters)) for k, v in block.values.items()]
        return out

    # ------------------------------------------------------------- overriding

    def with_config(
        self, label: str, values: Mapping[str, Any] | None = None, *, files: Iterable[str] = ()
    ) -> Pipeline:
        """Return a copy with config overrides appended to one task (applied after the file's).

        Parameters
        ----------
        label : `str`
            A task label, or ``"parameters"`` to set parameters (``values`` only).
        values : `~collections.abc.Mapping` [`str`, `~typing.Any`], optional
            Dotted field path -> value.
        files : `~collections.abc.Iterable` [`str`], optional
            Config override files to load (Python; they run because the caller gave them).

        Returns
        -------
        pipeline : `Pipeline`
            The new pipeline.

        Raises
        ------
        PipelineError
            If the label is unknown, or files are given for ``parameters``.
        """
        values = dict(values or {})
        files = tuple(files)
        if label == _PARAMETERS_LABEL and label not in self.data.tasks:
            if files:
                raise PipelineError("Config files cannot set parameters; use parameters:NAME=VALUE.")
            return self.with_parameters(values)
        entry = self._entry(label)
        block = ConfigBlock(values=values, files=files, trusted=True, source="caller")
        tasks = {**self.data.tasks, label: replace(entry, config=(*entry.config, block))}
        return replace(self, data=replace(self.data, tasks=tasks))

    def with_parameters(self, parameters: Mapping[str, Any]) -> Pipeline:
        """Return a copy with parameters set (added or replaced).

        Parameters
        ----------
        parameters : `~collections.abc.Mapping` [`str`, `~typing.Any`]
            Name -> value.

        Returns
        -------
        pipeline : `Pipeline`
            The new pipeline.
        """
        return replace(self, data=replace(self.data, parameters={**self.data.parameters, **parameters}))

    def subset(self, labels: Iterable[str]) -> Pipeline:
        """Return the pipeline restricted to some tasks (task or subset labels).

        Subsets and steps not wholly inside the selection are dropped, as are
        contracts naming a task outside it.

        Parameters
        ----------
        labels : `~collections.abc.Iterable` [`str`]
            Task labels and subset labels to keep.

        Returns
        -------
        pipeline : `Pipeline`
            The smaller pipeline.

        Raises
        ------
        PipelineError
            If a label is neither a task nor a subset.
        """
        keep: set[str] = set()
        for name in labels:
            if name in self.data.subsets:
                keep.update(self.data.subsets[name].tasks)
            else:
                keep.add(self._entry(name).label)
        subsets = {n: s for n, s in self.data.subsets.items() if set(s.tasks) <= keep}
        data = replace(
            self.data,
            tasks={label: t for label, t in self.data.tasks.items() if label in keep},
            subsets=subsets,
            steps=tuple(s for s in self.data.steps if s.label in subsets) if self.data.steps else (),
            contracts=tuple(c for c in self.data.contracts if c.labels <= keep),
        )
        if data.steps:
            data = replace(data, steps=()) if not _steps_cover(data) else data
        check_labels(data, self.name)
        return replace(self, data=data)

    # --------------------------------------------------------------- resolving

    def make_config(self, label: str, *, allow_python: bool = False) -> PipelineTaskConfig:
        """Import a task's class and make its config with every override applied.

        Order: for each config block of the file (then each `with_config`
        call), its files, then its python, then its values in order. The
        config is validated and frozen.

        Parameters
        ----------
        label : `str`
            A task label.
        allow_python : `bool`, optional
            Run ``file:`` and ``python:`` config written in the pipeline file
            (only for files you trust); without it they are refused.

        Returns
        -------
        config : `PipelineTaskConfig`
            The frozen config.

        Raises
        ------
        PipelineError
            If the class cannot be imported, a field does not exist (the
            closest is suggested), a value is invalid, Python config is present
            without ``allow_python``, or the config does not validate.
        """
        return self._configure(label, allow_python)[1]

    def resolve(self, *, allow_python: bool = False) -> PipelineGraph:
        """Import the tasks, make their configs, check the contracts and build the graph.

        Parameters
        ----------
        allow_python : `bool`, optional
            As for `make_config`.

        Returns
        -------
        graph : `PipelineGraph`
            The checked pipeline graph.

        Raises
        ------
        PipelineError
            As for `make_config`, or if a contract cannot be evaluated.
        PipelineGraphError
            If a contract is false (its message, naming its tasks) or the
            graph is invalid (see `PipelineGraph.build`).
        """
        nodes = [self._task_node(label, allow_python) for label in self.data.tasks]
        configs = {node.label: node.config for node in nodes}
        for contract in self.data.contracts:
            if not evaluate_contract(contract.expression, configs):
                tasks = ", ".join(repr(label) for label in sorted(contract.labels))
                detail = f": {contract.msg.rstrip('.')}" if contract.msg else ""
                raise PipelineGraphError(
                    f"Contract {contract.expression!r} of tasks {tasks} is false{detail}."
                )
        return PipelineGraph.build(nodes)

    def _configure(self, label: str, allow_python: bool) -> tuple[type[PipelineTask], PipelineTaskConfig]:
        entry = self._entry(label)
        task_class = resolve_task_class(entry.class_name, label)
        config = task_class.ConfigClass()
        if not isinstance(config, PipelineTaskConfig):
            raise PipelineError(
                f"Task {label!r}: {entry.class_name}.ConfigClass is not a PipelineTaskConfig."
            )
        for block in entry.config:
            _apply_block(config, block, label, self.parameters, allow_python)
        try:
            config.validate()
        except ConfigError as err:
            raise PipelineError(f"Task {label!r}: {err}") from None
        config.freeze()
        return task_class, config

    def _task_node(self, label: str, allow_python: bool) -> TaskNode:
        task_class, config = self._configure(label, allow_python)
        entry = self.data.tasks[label]
        try:
            connections = config.connections_class(config=config)
        except ChamberlainError as err:
            raise PipelineError(f"Task {label!r} ({entry.class_name}): {err}") from None
        edges: list[ConnectionEdge] = []
        for kind in (*READ_KINDS, *WRITE_KINDS):
            for attr in sorted(getattr(connections, kind)):
                conn = getattr(connections, attr)
                edges.append(
                    ConnectionEdge(
                        task=label,
                        connection=attr,
                        kind=kind,
                        dataset_type=conn.name,
                        storage_class=conn.storage_class,
                        dimensions=tuple(getattr(conn, "dimensions", ())),
                        multiple=conn.multiple,
                    )
                )
        dims = tuple(sorted(connections.dimensions))
        edges += [
            ConnectionEdge(label, "automatic", "init_outputs", f"{label}_config", "Config"),
            ConnectionEdge(label, "automatic", "outputs", f"{label}_metadata", "TaskMetadata", dims),
            ConnectionEdge(label, "automatic", "outputs", f"{label}_log", "ButlerLogRecords", dims),
        ]
        return TaskNode(label, task_class, config, frozenset(connections.dimensions), tuple(edges))


def _steps_cover(data: PipelineData) -> bool:
    covered = {t for s in data.steps for t in data.subsets[s.label].tasks}
    return covered >= set(data.tasks)


def _apply_block(
    config: Config, block: ConfigBlock, label: str, parameters: Mapping[str, Any], allow_python: bool
) -> None:
    if (block.files or block.python is not None) and not (block.trusted or allow_python):
        what = "a python block" if block.python is not None else f"config file {block.files[0]!r}"
        raise PipelineError(
            f"Task {label!r}: {block.source} gives {what}, which executes Python; pass allow_python=True "
            "(--allow-python) if you trust that file."
        )
    try:
        for path in block.files:
            config.load(path)
        if block.python is not None:
            code = compile(block.python, f"<python block of task {label!r} in {block.source}>", "exec")
            exec(code, {"config": config, "__name__": "__config__"})
    except ConfigError as err:
        raise PipelineError(f"Task {label!r}: {err}") from None
    except Exception as err:
        raise PipelineError(f"Task {label!r}: python config failed: {type(err).__name__}: {err}.") from None
    for dotted, raw in block.values.items():
        try:
            value = substitute_parameters(raw, parameters)
        except PipelineError as err:
            raise PipelineError(f"Task {label!r} config {dotted!r}: {err}") from None
        _apply_value(config, dotted, value, label)


def _apply_value(config: Config, dotted: str, value: Any, label: str) -> None:
    """Set one dotted field, accepting Rubin's camelCase names and suggesting the closest field."""
    parts = dotted.split(".")
    target: Any = config
    resolved: list[str] = []
    for i, part in enumerate(parts):
        if isinstance(target, ConfigHolder) or not isinstance(target, Config):
            resolved += parts[i:]
            break
        name = field_name(target, part)
        if name is None:
            fields = list(type(target).model_fields)
            prefix = ".".join(resolved)
            close = difflib.get_close_matches(part, fields, n=1) or difflib.get_close_matches(
                part.lower(), [f.replace("_", "") for f in fields], n=1
            )
            if close and close[0] not in fields:
                close = [f for f in fields if f.replace("_", "") == close[0]]
            hint = f" (did you mean {'.'.join([*resolved, close[0]])!r}?)" if close else ""
            where = f"config.{prefix}" if prefix else "config"
            raise PipelineError(
                f"Task {label!r}: {where} ({type(target).__name__}) has no field {part!r}{hint}; "
                f"fields: {format_choices(fields)}."
            )
        resolved.append(name)
        if i < len(parts) - 1:
            target = getattr(target, name)
    try:
        config.apply_overrides({".".join(resolved): value})
    except ConfigError as err:
        raise PipelineError(f"Task {label!r}: {err}") from None
