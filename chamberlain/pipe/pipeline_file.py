"""Reading pipeline YAML files (Rubin's format) into plain data, importing no task.

A pipeline file has the keys ``description`` (required), ``instrument``,
``parameters``, ``imports``, ``tasks``, ``contracts``, ``subsets`` and ``steps``;
``docs/pipelines.md`` describes each. `read_pipeline_file` parses one file,
follows its imports (recursively, refusing cycles), merges them and checks the
labels; the result is a `PipelineData` of frozen dataclasses. Task classes are
only names here: nothing named in the file is imported.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chamberlain.errors import PipelineError, PipelineGraphError, format_choices

__all__ = [
    "ConfigBlock",
    "Contract",
    "PipelineData",
    "PipelineError",
    "PipelineGraphError",
    "Step",
    "Subset",
    "TaskEntry",
    "read_pipeline_file",
    "read_pipeline_text",
]

_PARAMETER = re.compile(r"parameters\.([A-Za-z_][A-Za-z0-9_]*)")
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_ENV = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
#: Most values a pipeline file may hold, YAML aliases expanded (a file of 100 tasks holds a few thousand).
MAX_VALUES = 100_000
#: Functions a contract may call (see `chamberlain.pipe.pipeline_contracts`).
CONTRACT_FUNCTIONS = frozenset({"abs", "all", "any", "len", "max", "min", "round", "set", "sorted", "sum"})


# ----------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class ConfigBlock:
    """One block of config overrides of a task, applied in this order: files, python, values.

    Attributes
    ----------
    values
        Dotted field path -> value, applied in order; string values may
        reference ``parameters.NAME``.
    files
        Config override files (Python executed with ``config`` bound).
    python
        Python source executed with ``config`` bound, or None.
    trusted
        Whether the files and python of this block may run without
        ``allow_python`` (true for overrides given on the command line or in code).
    source
        Where the block was written (a file name, ``"command line"``).
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    python: str | None = None
    trusted: bool = False
    source: str = ""


@dataclass(frozen=True)
class TaskEntry:
    """A task of the pipeline as written: its label, class name and config blocks.

    Attributes
    ----------
    label
        The task label (unique in the pipeline).
    class_name
        The ``module.Class`` path as written in the file (not imported).
    config
        The config override blocks, in the order they apply.
    """

    label: str
    class_name: str
    config: tuple[ConfigBlock, ...] = ()


@dataclass(frozen=True)
class Contract:
    """A boolean expression over task configs that must hold (``label.field`` names).

    Attributes
    ----------
    expression
        The expression, e.g. ``"getTemplate.template_border_size >= 0"``.
    msg
        Message shown when it is false, or None.
    """

    expression: str
    msg: str | None = None

    @property
    def labels(self) -> frozenset[str]:
        """The task labels the expression refers to."""
        return _expression_labels(self.expression)


@dataclass(frozen=True)
class Subset:
    """A named subset of task labels.

    Attributes
    ----------
    label
        The subset's name (not a task label).
    tasks
        The task labels in it.
    description
        What the subset is for.
    """

    label: str
    tasks: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Step:
    """A step: a subset run as one unit, sharded by ``dimensions``.

    Attributes
    ----------
    label
        The subset the step runs.
    dimensions
        The dimensions the step is sharded by (shown, not checked).
    """

    label: str
    dimensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineData:
    """Everything a pipeline file says, with its imports merged.

    Attributes
    ----------
    description
        The description.
    instrument
        Instrument class path, or None.
    parameters
        Parameter name -> value.
    tasks
        Label -> `TaskEntry`, in file order.
    subsets
        Label -> `Subset`.
    steps
        The steps, in order.
    contracts
        The contracts, in order.
    source
        The file read, or None for text.
    """

    description: str
    instrument: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tasks: Mapping[str, TaskEntry] = field(default_factory=dict)
    subsets: Mapping[str, Subset] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    contracts: tuple[Contract, ...] = ()
    source: Path | None = None


# ------------------------------------------------------------------------ file models


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class _ImportModel(_Model):
    location: str
    include: list[str] | None = None
    exclude: list[str] | None = None
    rename: dict[str, str] = Field(default_factory=dict)
    importContracts: bool = True
    importSteps: bool = True


class _TaskModel(_Model):
    class_: str | None = Field(None, alias="class")
    config: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("config", mode="before")
    @classmethod
    def _one_block(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


class _ContractModel(_Model):
    contract: str
    msg: str | None = None


class _SubsetModel(_Model):
    subset: list[str]
    description: str = ""


class _StepModel(_Model):
    label: str
    dimensions: list[str] = Field(default_factory=list)


class _PipelineModel(_Model):
    description: str
    instrument: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    imports: list[_ImportModel] = Field(default_factory=list)
    tasks: dict[str, _TaskModel] = Field(default_factory=dict)
    contracts: list[_ContractModel] = Field(default_factory=list)
    subsets: dict[str, _SubsetModel] = Field(default_factory=dict)
    steps: list[_StepModel] = Field(default_factory=list)

    @field_validator("imports", mode="before")
    @classmethod
    def _import_strings(cls, value: Any) -> Any:
        return (
            [{"location": v} if isinstance(v, str) else v for v in value]
            if isinstance(value, list)
            else value
        )

    @field_validator("tasks", mode="before")
    @classmethod
    def _task_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"class": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("contracts", mode="before")
    @classmethod
    def _contract_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"contract": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("subsets", mode="before")
    @classmethod
    def _subset_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"subset": v} if isinstance(v, list) else v for k, v in value.items()}
        return value


_SECTION_MODELS: dict[str, type[_Model]] = {
    "imports": _ImportModel,
    "tasks": _TaskModel,
    "contracts": _ContractModel,
    "subsets": _SubsetModel,
    "steps": _StepModel,
}


def _valid_keys(model: type[_Model]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _describe(err: pydantic.ValidationError, source: str) -> str:
    problems = err.errors(include_url=False)
    problem = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    loc = [str(part) for part in problem["loc"]]
    if problem["type"] == "extra_forbidden":
        key, where = loc[-1], loc[:-1]
        model = _SECTION_MODELS[where[0]] if where else _PipelineModel
        place = f" in {'.'.join(where)}" if where else ""
        return (
            f"Pipeline file {source}: unknown key {key!r}{place}; valid keys: "
            f"{format_choices(_valid_keys(model))}."
        )
    return (
        f"Pipeline file {source}: {'.'.join(loc) or 'the file'}: {problem['msg']} "
        f"(got {problem.get('input')!r})."
    )


# ------------------------------------------------------------------------------ reading


def read_pipeline_file(path: str | os.PathLike[str]) -> PipelineData:
    """Read a pipeline YAML file and the files it imports.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The pipeline file. Relative import locations are relative to the
        directory of the file that names them.

    Returns
    -------
    pipeline : `PipelineData`
        The merged definition (no task class imported).

    Raises
    ------
    PipelineError
        If a file cannot be read, is not YAML, has an unknown key or a value of
        the wrong type, an import is missing or forms a cycle, or a subset,
        step, include/exclude or rename names an unknown label.
    """
    return _read(Path(path), ())


def read_pipeline_text(text: str, *, source: str = "<string>", base: Path | None = None) -> PipelineData:
    """Read a pipeline from YAML text.

    Parameters
    ----------
    text : `str`
        The YAML document.
    source : `str`, optional
        The name used in error messages.
    base : `pathlib.Path`, optional
        Directory relative import locations are relative to (default: the
        current directory).

    Returns
    -------
    pipeline : `PipelineData`
        The merged definition (no task class imported).

    Raises
    ------
    PipelineError
        As for `read_pipeline_file`.
    """
    return _build(_parse(text, source), source, base or Path.cwd(), (), None)


def _read(path: Path, stack: tuple[Path, ...]) -> PipelineData:
    resolved = path.resolve()
    if resolved in stack:
        chain = " -> ".join(str(p) for p in (*stack[stack.index(resolved) :], resolved))
        raise PipelineError(f"Pipeline imports form a cycle: {chain}.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise PipelineError(f"Cannot read pipeline file {str(path)!r}: {reason}.") from None
    source = repr(str(path))
    data = _build(_parse(text, source), source, resolved.parent, (*stack, resolved), resolved)
    return replace(data, source=path)


def _expanded_size(value: Any, limit: int) -> int:
    """Count the values ``value`` holds with YAML aliases expanded, stopping past ``limit``."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, children_done = stack.pop()
        children = list(item.keys()) + list(item.values()) if isinstance(item, dict) else item
        if not isinstance(item, dict | list):
            sizes.setdefault(id(item), 1)
        elif children_done:
            sizes[id(item)] = min(limit + 1, 1 + sum(sizes.get(id(c), 1) for c in children))
        elif id(item) not in sizes:
            sizes[id(item)] = limit + 1  # provisional, guards against self-reference
            stack.append((item, True))
            stack.extend((c, False) for c in children if isinstance(c, dict | list))
    return sizes[id(value)]


def _parse(text: str, source: str) -> _PipelineModel:
    try:
        raw = yaml.load(text, Loader=_LOADER)  # a safe loader (libyaml's when installed)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise PipelineError(f"Pipeline file {source} is not YAML: {problem}{where}.") from None
    except RecursionError:
        raise PipelineError(f"Pipeline file {source} is nested too deeply to read.") from None
    if _expanded_size(raw, MAX_VALUES) > MAX_VALUES:
        raise PipelineError(
            f"Pipeline file {source} holds more than {MAX_VALUES:,} values once its YAML aliases are expanded."
        )
    if not isinstance(raw, dict):
        raise PipelineError(
            f"Pipeline file {source} must be a YAML mapping with a 'description' key, "
            f"not {type(raw).__name__}."
        )
    try:
        return _PipelineModel.model_validate(raw)
    except pydantic.ValidationError as err:
        raise PipelineError(_describe(err, source)) from None


def _config_block(raw: Mapping[str, Any], label: str, source: str, base: Path) -> ConfigBlock:
    values = dict(raw)
    if "dataId" in values:
        raise PipelineError(
            f"Pipeline file {source}: task {label!r} has a config block with 'dataId'; "
            "per-data-ID configs are not supported."
        )
    files = values.pop("file", ())
    files = (files,) if isinstance(files, str) else files
    python = values.pop("python", None)
    if not isinstance(files, list | tuple) or not all(isinstance(f, str) for f in files):
        raise PipelineError(
            f"Pipeline file {source}: 'file' of task {label!r} must be a path or a list of paths."
        )
    if python is not None and not isinstance(python, str):
        raise PipelineError(f"Pipeline file {source}: 'python' of task {label!r} must be a string.")
    paths = tuple(str(base / _expand_path(f, source, "config file")) for f in files)
    return ConfigBlock(values=values, files=paths, python=python, source=source)


def _check_contract(expression: str, source: str) -> None:
    try:
        ast.parse(expression, mode="eval")
    except SyntaxError as err:
        raise PipelineError(
            f"Pipeline file {source}: contract {expression!r} is not an expression: {err.msg}."
        ) from None


def _expression_labels(expression: str) -> frozenset[str]:
    tree = ast.parse(expression, mode="eval")
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return frozenset(names - (called & CONTRACT_FUNCTIONS))


def _rename_contract(contract: Contract, rename: Mapping[str, str]) -> Contract:
    tree = ast.parse(contract.expression, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in rename:
            node.id = rename[node.id]
    return replace(contract, expression=ast.unparse(tree))


def _expand_path(location: str, source: str, what: str = "import location") -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in os.environ:
            raise PipelineError(
                f"Pipeline file {source}: {what} {location!r} uses environment variable "
                f"{name!r}, which is not set."
            )
        return os.environ[name]

    return _ENV.sub(substitute, location)


def _select(imported: PipelineData, spec: _ImportModel, where: str) -> PipelineData:
    """Apply include/exclude, rename, importContracts and importSteps to one import."""
    labels = list(imported.tasks)
    if spec.include is not None and spec.exclude is not None:
        raise PipelineError(f"Import {where}: give 'include' or 'exclude', not both.")

    def expand(names: Iterable[str], key: str) -> set[str]:
        out: set[str] = set()
        for name in names:
            if name in imported.subsets:
                out.update(imported.subsets[name].tasks)
            elif name in imported.tasks:
                out.add(name)
            else:
                raise PipelineError(
                    f"Import {where}: {key} names {name!r}, which is not a task or subset label there; "
                    f"labels: {format_choices([*labels, *imported.subsets])}."
                )
        return out

    if spec.include is not None:
        keep = expand(spec.include, "include")
    elif spec.exclude is not None:
        keep = set(labels) - expand(spec.exclude, "exclude")
    else:
        keep = set(labels)
    for old in spec.rename:
        if old not in keep:
            raise PipelineError(
                f"Import {where}: rename names {old!r}, which is not an imported task label; "
                f"labels: {format_choices(keep)}."
            )
    targets = [spec.rename.get(label, label) for label in keep]
    if len(set(targets)) != len(targets):
        raise PipelineError(f"Import {where}: rename {spec.rename} gives two tasks the same label.")
    rename = dict(spec.rename)
    tasks = {
        rename.get(label, label): replace(entry, label=rename.get(label, label))
        for label, entry in imported.tasks.items()
        if label in keep
    }
    subsets = {
        name: replace(subset, tasks=tuple(rename.get(t, t) for t in subset.tasks))
        for name, subset in imported.subsets.items()
        if set(subset.tasks) <= keep
    }
    contracts: tuple[Contract, ...] = ()
    if spec.importContracts:
        contracts = tuple(_rename_contract(c, rename) for c in imported.contracts if c.labels <= keep)
    steps = tuple(s for s in imported.steps if s.label in subsets) if spec.importSteps else ()
    return replace(imported, tasks=tasks, subsets=subsets, contracts=contracts, steps=steps)


def _merge_imports(model: _PipelineModel, source: str, base: Path, stack: tuple[Path, ...]) -> PipelineData:
    """Return the union of the imports (refusing a label or subset defined by two)."""
    tasks: dict[str, TaskEntry] = {}
    origin: dict[str, str] = {}
    subsets: dict[str, Subset] = {}
    parameters: dict[str, Any] = {}
    contracts: list[Contract] = []
    steps: list[Step] = []
    instruments: dict[str, str] = {}
    for spec in model.imports:
        location = base / _expand_path(spec.location, source)
        where = f"{spec.location!r} of {source}"
        if not location.is_file():
            raise PipelineError(
                f"Pipeline file {source} imports {spec.location!r}: no file at {str(location)!r}."
            )
        imported = _select(_read(location, stack), spec, where)
        for label in imported.tasks:
            if label in tasks:
                raise PipelineError(
                    f"Pipeline file {source}: task label {label!r} is defined by both imports "
                    f"{origin[label]!r} and {spec.location!r}; exclude or rename one."
                )
            origin[label] = spec.location
        for name in imported.subsets:
            if name in subsets:
                raise PipelineError(f"Pipeline file {source}: subset {name!r} is defined by two imports.")
        tasks.update(imported.tasks)
        subsets.update(imported.subsets)
        parameters.update(imported.parameters)
        contracts.extend(imported.contracts)
        steps.extend(imported.steps)
        if imported.instrument is not None:
            instruments[spec.location] = imported.instrument
    if len(set(instruments.values())) > 1 and model.instrument is None:
        raise PipelineError(f"Pipeline file {source}: its imports name different instruments: {instruments}.")
    instrument = next(iter(instruments.values()), None)
    merged = PipelineData(
        description="",
        instrument=instrument,
        parameters=parameters,
        tasks=tasks,
        subsets=subsets,
        steps=tuple(steps),
        contracts=tuple(contracts),
    )
    return merged


def _build(
    model: _PipelineModel, source: str, base: Path, stack: tuple[Path, ...], path: Path | None
) -> PipelineData:
    merged = _merge_imports(model, source, base, stack)
    tasks = dict(merged.tasks)
    for label, task in model.tasks.items():
        blocks = tuple(_config_block(b, label, source, base) for b in task.config)
        if label in tasks:
            previous = tasks[label]
            tasks[label] = TaskEntry(label, task.class_ or previous.class_name, previous.config + blocks)
        elif task.class_ is None:
            raise PipelineError(f"Pipeline file {source}: task {label!r} has no 'class' and is not imported.")
        else:
            tasks[label] = TaskEntry(label, task.class_, blocks)
    subsets = dict(merged.subsets)
    subsets.update({name: Subset(name, tuple(s.subset), s.description) for name, s in model.subsets.items()})
    for c in model.contracts:
        _check_contract(c.contract, source)
    own_steps = tuple(Step(s.label, tuple(s.dimensions)) for s in model.steps)
    data = PipelineData(
        description=model.description,
        instrument=model.instrument or merged.instrument,
        parameters={**merged.parameters, **model.parameters},
        tasks=tasks,
        subsets=subsets,
        steps=own_steps or merged.steps,
        contracts=merged.contracts + tuple(Contract(c.contract, c.msg) for c in model.contracts),
        source=path,
    )
    check_labels(data, source)
    return data


def check_labels(data: PipelineData, source: str) -> None:
    """Check that subsets, steps and parameter references name things that exist.

    Parameters
    ----------
    data : `PipelineData`
        The pipeline to check.
    source : `str`
        The name of the pipeline in messages.

    Raises
    ------
    PipelineError
        If a subset names an unknown task or shares a task's label, a step
        names an unknown subset, a task is in no step or in two (when steps are
        defined), a config value references an undefined parameter, or there
        are no tasks.
    """
    if not data.tasks:
        raise PipelineError(f"Pipeline {source} has no tasks.")
    labels = set(data.tasks)
    for name, subset in data.subsets.items():
        if name in labels:
            raise PipelineError(f"Pipeline {source}: subset {name!r} has the label of a task; rename one.")
        for task in subset.tasks:
            if task not in labels:
                raise PipelineError(
                    f"Pipeline {source}: subset {name!r} names task {task!r}, which is not in the pipeline; "
                    f"task labels: {format_choices(labels)}."
                )
    if data.steps:
        owner: dict[str, str] = {}
        for step in data.steps:
            if step.label not in data.subsets:
                raise PipelineError(
                    f"Pipeline {source}: step {step.label!r} is not a subset label; "
                    f"subsets: {format_choices(data.subsets)}."
                )
            for task in data.subsets[step.label].tasks:
                if task in owner:
                    raise PipelineError(
                        f"Pipeline {source}: task {task!r} is in two steps, {owner[task]!r} and {step.label!r}."
                    )
                owner[task] = step.label
        missing = sorted(labels - set(owner))
        if missing:
            raise PipelineError(f"Pipeline {source}: task(s) {missing} are in no step; every task needs one.")
    for entry in data.tasks.values():
        for block in entry.config:
            for key, value in block.values.items():
                for name in parameter_references(value):
                    if name not in data.parameters:
                        raise PipelineError(
                            f"Pipeline {source}: task {entry.label!r} config {key!r} references "
                            f"parameters.{name}, which is not defined; parameters: "
                            f"{format_choices(data.parameters)}."
                        )


def field_name(config: Any, name: str) -> str | None:
    """Return the config field ``name`` denotes, accepting Rubin's camelCase spelling.

    Parameters
    ----------
    config : `~typing.Any`
        A `chamberlain.pipe.Config` instance (anything with ``model_fields``).
    name : `str`
        A field name as written, e.g. ``template_border_size`` or ``templateBorderSize``.

    Returns
    -------
    field : `str` or None
        The field's name, or None if neither spelling is a field.
    """
    fields = type(config).model_fields
    if name in fields:
        return name
    snake = _CAMEL.sub("_", name).lower()
    return snake if snake in fields and not name.startswith("_") else None


def parameter_references(value: Any) -> list[str]:
    """Return the parameter names a config value references (``parameters.NAME``).

    Parameters
    ----------
    value : `~typing.Any`
        A config value from the file; only strings can reference parameters.

    Returns
    -------
    names : `list` [`str`]
        The referenced names, in order.
    """
    return _PARAMETER.findall(value) if isinstance(value, str) else []


def substitute_parameters(value: Any, parameters: Mapping[str, Any]) -> Any:
    """Replace ``parameters.NAME`` in a config value.

    A string that is exactly ``parameters.NAME`` becomes the parameter's value
    (keeping its type); inside a longer string each reference is replaced by
    the value's text.

    Parameters
    ----------
    value : `~typing.Any`
        A config value.
    parameters : `~collections.abc.Mapping` [`str`, `~typing.Any`]
        The pipeline's parameters.

    Returns
    -------
    value : `~typing.Any`
        The value with references replaced.

    Raises
    ------
    PipelineError
        If a referenced parameter is not defined.
    """
    if not isinstance(value, str):
        return value

    def lookup(name: str) -> Any:
        if name not in parameters:
            raise PipelineError(
                f"parameters.{name} is not defined; parameters: {format_choices(parameters)}."
            )
        return parameters[name]

    whole = _PARAMETER.fullmatch(value)
    if whole:
        return lookup(whole.group(1))
    return _PARAMETER.sub(lambda m: str(lookup(m.group(1))), value)
