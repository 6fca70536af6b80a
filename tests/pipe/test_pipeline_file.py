"""Pipeline YAML: every key of the format, imports, parameters, contracts, and bad input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from chamberlain.pipe import Config, Pipeline, PipelineError, PipelineGraphError, field
from chamberlain.pipe.connection_types import Input, Output
from chamberlain.pipe.connections import PipelineTaskConnections
from chamberlain.pipe.pipeline import TASK_ALIASES
from chamberlain.pipe.pipeline_task import PipelineTask, PipelineTaskConfig

HERE = __name__


class StepConnections(PipelineTaskConnections, dimensions=("instrument", "visit")):
    source = Input(name="step_in", storage_class="NumpyArray", dimensions=("instrument", "visit"))
    result = Output(name="step_out", storage_class="NumpyArray", dimensions=("instrument", "visit"))


class InnerConfig(Config):
    level: int = field(1, "A nested value.")


class StepConfig(PipelineTaskConfig, pipeline_connections=StepConnections):  # type: ignore[call-arg]
    threshold: float = field(1.0, "A threshold.")
    name_text: str = field("", "Some text.")
    max_count: int = field(10, "A count.", ge=0)
    values: list[int] = field(default_factory=list, doc="Some values.")
    inner: InnerConfig = field(default_factory=InnerConfig, doc="Nested config.")


class StepTask(PipelineTask):
    ConfigClass = StepConfig


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def one_task(label: str = "a", extra: str = "") -> str:
    return f"description: test\ntasks:\n  {label}: {HERE}.StepTask\n" + textwrap.dedent(extra)


# ----------------------------------------------------------------------- basic keys


def test_every_key_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml",
        f"""
        description: A pipeline
        instrument: chamberlain.instrument.SimCam
        parameters:
          limit: 4
        tasks:
          a: {HERE}.StepTask
          b:
            class: {HERE}.StepTask
            config:
              - threshold: 2.5
              - threshold: 3.5
                max_count: parameters.limit
                connections.result: b_out
        contracts:
          - a.threshold < b.threshold
          - contract: b.max_count == 4
            msg: four
        subsets:
          first: [a]
          second:
            subset: [b]
            description: the second
        steps:
          - label: first
            dimensions: [instrument, visit]
          - label: second
        """,
    )
    pipeline = Pipeline.from_file(path)
    assert pipeline.description == "A pipeline"
    assert pipeline.instrument == "chamberlain.instrument.SimCam"
    assert pipeline.labels == ["a", "b"]
    assert pipeline.tasks["b"].class_name == f"{HERE}.StepTask"
    assert pipeline.config_overrides("b") == [
        ("threshold", 2.5),
        ("threshold", 3.5),
        ("max_count", 4),
        ("connections.result", "b_out"),
    ]
    assert [(c.expression, c.msg) for c in pipeline.contracts] == [
        ("a.threshold < b.threshold", None),
        ("b.max_count == 4", "four"),
    ]
    assert pipeline.subsets["second"].tasks == ("b",)
    assert pipeline.subsets["second"].description == "the second"
    assert [(s.label, s.dimensions) for s in pipeline.steps] == [
        ("first", ("instrument", "visit")),
        ("second", ()),
    ]
    graph = pipeline.resolve()
    config_b = graph.tasks["b"].config
    assert isinstance(config_b, StepConfig)
    assert config_b.threshold == 3.5 and config_b.max_count == 4 and config_b.is_frozen


def test_loading_and_showing_import_no_task_class() -> None:
    pipeline = Pipeline.from_text(
        "description: d\ntasks:\n  isr: no_such_module_for_chamberlain.IsrTask\n"
        "  calib:\n    class: no_such_module_for_chamberlain.CalibrateTask\n    config:\n      x.y: 3\n"
    )
    assert pipeline.labels == ["isr", "calib"]
    assert pipeline.task_class_name("calib") == "no_such_module_for_chamberlain.CalibrateTask"
    assert pipeline.config_overrides("calib") == [("x.y", 3)]
    with pytest.raises(
        PipelineError, match=r"Task 'isr': class 'no_such_module_for_chamberlain.IsrTask' cannot be imported"
    ):
        pipeline.resolve()


def test_not_a_pipeline_task_is_refused() -> None:
    pipeline = Pipeline.from_text(f"description: d\ntasks:\n  a: {HERE}.InnerConfig\n")
    with pytest.raises(PipelineError, match="'a'.*not a PipelineTask subclass"):
        pipeline.resolve()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("description: [unclosed\ntasks: {}\n", r"is not YAML: .* at line \d+"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("", "must be a YAML mapping"),
        ("description: d\ntask:\n  a: x.Y\n", r"unknown key 'task'; valid keys: .*'tasks'"),
        (
            "description: d\ntasks:\n  a:\n    class: x.Y\n    configs: {}\n",
            r"unknown key 'configs' in tasks.a; valid keys: 'class', 'config'",
        ),
        (
            "description: d\nimports:\n  - location: x.yaml\n    includes: [a]\ntasks: {}\n",
            r"unknown key 'includes' in imports.0",
        ),
        (
            "description: d\ntasks:\n  a: x.Y\ncontracts:\n  - contract: a.b\n    message: m\n",
            r"unknown key 'message' in contracts.0; valid keys: 'contract', 'msg'",
        ),
        ("description: 5\ntasks:\n  a: x.Y\n", r"description: .*got 5"),
        ("tasks:\n  a: x.Y\n", r"description: Field required"),
        ("description: d\ntasks: {}\n", "has no tasks"),
        ("description: d\ntasks:\n  a:\n    config: {x: 1}\n", "task 'a' has no 'class' and is not imported"),
        ("description: d\ntasks:\n  a: x.Y\ncontracts: ['a.b >']\n", "contract 'a.b >' is not an expression"),
        (
            "description: d\ntasks:\n  a:\n    class: x.Y\n    config: {x: parameters.nope}\n",
            "parameters.nope, which is not defined",
        ),
        (
            "description: d\ntasks:\n  a:\n    class: x.Y\n    config: {dataId: {visit: 1}, x: 1}\n",
            "per-data-ID configs are not supported",
        ),
    ],
)
def test_bad_files_are_one_line_errors(text: str, pattern: str) -> None:
    with pytest.raises(PipelineError, match=pattern) as info:
        Pipeline.from_text(text)
    assert "\n" not in str(info.value)


def test_unreadable_and_unknown_pipelines(tmp_path: Path) -> None:
    with pytest.raises(
        PipelineError, match="neither a file nor a shipped pipeline; shipped pipelines: .*'templates'"
    ):
        Pipeline.from_file(tmp_path / "missing.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(PipelineError, match="Cannot read pipeline file"):
        Pipeline.from_file(binary)


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        (
            "subsets:\n  s: [a, ghost]\n",
            r"subset 's' names task 'ghost', which is not in the pipeline; task labels: 'a'",
        ),
        ("subsets:\n  a: [a]\n", "subset 'a' has the label of a task"),
        (
            "subsets:\n  s: [a]\nsteps:\n  - label: nostep\n",
            r"step 'nostep' is not a subset label; subsets: 's'",
        ),
        ("subsets:\n  s: [b]\nsteps:\n  - label: s\n", r"task\(s\) \['a'\] are in no step"),
        ("subsets:\n  s: [a]\n  t: [a, b]\nsteps:\n  - label: s\n  - label: t\n", "task 'a' is in two steps"),
    ],
)
def test_unknown_labels_in_subsets_and_steps(extra: str, pattern: str) -> None:
    text = f"description: d\ntasks:\n  a: {HERE}.StepTask\n  b: {HERE}.StepTask\n" + extra
    with pytest.raises(PipelineError, match=pattern):
        Pipeline.from_text(text)


# ---------------------------------------------------------------------------- imports


def _base_file(tmp_path: Path) -> Path:
    return write(
        tmp_path / "base.yaml",
        f"""
        description: base
        instrument: chamberlain.instrument.SimCam
        parameters:
          level: 3
        tasks:
          isr:
            class: {HERE}.StepTask
            config:
              threshold: 1.5
          calib: {HERE}.StepTask
          measure: {HERE}.StepTask
        subsets:
          front: [isr, calib]
          all_three: [isr, calib, measure]
          back:
            subset: [measure]
            description: the back
        steps:
          - label: front
          - label: back
        contracts:
          - isr.threshold == 1.5
          - contract: calib.threshold < 5
            msg: calib small
          - measure.max_count >= 0
        """,
    )


def test_import_everything(tmp_path: Path) -> None:
    _base_file(tmp_path)
    top = write(tmp_path / "top.yaml", "description: top\nimports:\n  - base.yaml\n")
    pipeline = Pipeline.from_file(top)
    assert pipeline.description == "top"
    assert pipeline.labels == ["isr", "calib", "measure"]
    assert pipeline.instrument == "chamberlain.instrument.SimCam"
    assert pipeline.parameters == {"level": 3}
    assert set(pipeline.subsets) == {"front", "all_three", "back"}
    assert [s.label for s in pipeline.steps] == ["front", "back"]
    assert len(pipeline.contracts) == 3
    assert pipeline.make_config("isr").threshold == 1.5  # type: ignore[attr-defined]


def test_import_include_keeps_only_those_tasks_and_what_refers_to_them(tmp_path: Path) -> None:
    _base_file(tmp_path)
    top = write(
        tmp_path / "top.yaml", "description: top\nimports:\n  - location: base.yaml\n    include: [front]\n"
    )
    pipeline = Pipeline.from_file(top)
    assert pipeline.labels == ["isr", "calib"]
    assert set(pipeline.subsets) == {"front"}  # all_three and back name the dropped task
    assert [s.label for s in pipeline.steps] == ["front"]
    assert [c.expression for c in pipeline.contracts] == ["isr.threshold == 1.5", "calib.threshold < 5"]


def test_import_exclude_and_rename(tmp_path: Path) -> None:
    _base_file(tmp_path)
    top = write(
        tmp_path / "top.yaml",
        """
        description: top
        imports:
          - location: base.yaml
            exclude: [measure]
            rename: {isr: isr2}
            importSteps: false
        tasks:
          isr2:
            config:
              threshold: 2.0
        contracts:
          - isr2.threshold == 2.0
        """,
    )
    pipeline = Pipeline.from_file(top)
    assert pipeline.labels == ["isr2", "calib"]
    assert pipeline.subsets["front"].tasks == ("isr2", "calib")
    assert pipeline.steps == ()
    assert [c.expression for c in pipeline.contracts] == [
        "isr2.threshold == 1.5",
        "calib.threshold < 5",
        "isr2.threshold == 2.0",
    ]
    # The importing file's config applies after the imported one: the imported contract is now false.
    assert pipeline.config_overrides("isr2") == [("threshold", 1.5), ("threshold", 2.0)]
    with pytest.raises(
        PipelineGraphError, match=r"Contract 'isr2.threshold == 1.5' of tasks 'isr2' is false"
    ):
        pipeline.resolve()


def test_import_contracts_can_be_left_out(tmp_path: Path) -> None:
    _base_file(tmp_path)
    top = write(
        tmp_path / "top.yaml",
        "description: t\nimports:\n  - location: base.yaml\n    importContracts: false\n",
    )
    assert Pipeline.from_file(top).contracts == ()


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        ("include: [ghost]", r"include names 'ghost', which is not a task or subset label there"),
        ("exclude: [ghost]", r"exclude names 'ghost'"),
        ("include: [isr]\n    exclude: [calib]", "give 'include' or 'exclude', not both"),
        (
            "include: [isr]\n    rename: {calib: c}",
            r"rename names 'calib', which is not an imported task label",
        ),
        ("rename: {isr: calib}", "gives two tasks the same label"),
    ],
)
def test_bad_import_specs(tmp_path: Path, spec: str, pattern: str) -> None:
    _base_file(tmp_path)
    top = write(tmp_path / "top.yaml", f"description: t\nimports:\n  - location: base.yaml\n    {spec}\n")
    with pytest.raises(PipelineError, match=pattern):
        Pipeline.from_file(top)


def test_same_label_from_two_imports(tmp_path: Path) -> None:
    write(tmp_path / "one.yaml", one_task("x"))
    write(tmp_path / "two.yaml", one_task("x"))
    top = write(tmp_path / "top.yaml", "description: t\nimports: [one.yaml, two.yaml]\n")
    with pytest.raises(
        PipelineError, match="task label 'x' is defined by both imports 'one.yaml' and 'two.yaml'"
    ):
        Pipeline.from_file(top)


def test_import_location_expands_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = tmp_path / "sub dir"
    sub.mkdir()
    write(sub / "lib.yaml", one_task("lib"))
    monkeypatch.setenv("CHAMBERLAIN_TEST_PIPES", str(sub))
    for location in ("$CHAMBERLAIN_TEST_PIPES/lib.yaml", "${CHAMBERLAIN_TEST_PIPES}/lib.yaml"):
        top = write(tmp_path / "top.yaml", f"description: t\nimports:\n  - location: '{location}'\n")
        assert Pipeline.from_file(top).labels == ["lib"]
    monkeypatch.delenv("CHAMBERLAIN_TEST_PIPES")
    with pytest.raises(
        PipelineError, match="environment variable 'CHAMBERLAIN_TEST_PIPES', which is not set"
    ):
        Pipeline.from_file(top)


def test_missing_import_and_import_cycle(tmp_path: Path) -> None:
    top = write(tmp_path / "top.yaml", "description: t\nimports: [nowhere.yaml]\n")
    with pytest.raises(PipelineError, match="imports 'nowhere.yaml': no file at"):
        Pipeline.from_file(top)
    write(tmp_path / "a.yaml", "description: a\nimports: [b.yaml]\n" + one_task("a").split("\n", 1)[1])
    write(tmp_path / "b.yaml", "description: b\nimports: [a.yaml]\n" + one_task("b").split("\n", 1)[1])
    with pytest.raises(
        PipelineError, match=r"imports form a cycle: .*a.yaml -> .*b.yaml -> .*a.yaml"
    ) as info:
        Pipeline.from_file(tmp_path / "a.yaml")
    assert "\n" not in str(info.value)
    write(tmp_path / "self.yaml", "description: s\nimports: [self.yaml]\n")
    with pytest.raises(PipelineError, match="cycle"):
        Pipeline.from_file(tmp_path / "self.yaml")


# ------------------------------------------------------------------------- parameters


def test_parameters_are_substituted_whole_and_inside_strings() -> None:
    text = one_task(
        "a",
        """
        parameters:
          count: 7
          word: deep
        """,
    ).replace(
        f"a: {HERE}.StepTask",
        f"a:\n    class: {HERE}.StepTask\n    config:\n      max_count: parameters.count\n"
        "      name_text: parameters.word-parameters.count\n",
    )
    pipeline = Pipeline.from_text(text)
    config = pipeline.make_config("a")
    assert config.max_count == 7  # type: ignore[attr-defined]
    assert config.name_text == "deep-7"  # type: ignore[attr-defined]
    changed = pipeline.with_config("parameters", {"count": 2})
    assert changed.parameters["count"] == 2
    assert changed.make_config("a").max_count == 2  # type: ignore[attr-defined]
    assert pipeline.parameters["count"] == 7  # the original is unchanged


# ------------------------------------------------------------------ config overrides


def test_unknown_field_suggests_the_closest() -> None:
    pipeline = Pipeline.from_text(one_task()).with_config("a", {"treshold": 2.0})
    with pytest.raises(
        PipelineError,
        match=r"Task 'a': config \(StepConfig\) has no field 'treshold' \(did you mean 'threshold'\?\)",
    ):
        pipeline.resolve()
    nested = Pipeline.from_text(one_task()).with_config("a", {"inner.levle": 2})
    with pytest.raises(
        PipelineError,
        match=r"config.inner \(InnerConfig\) has no field 'levle' \(did you mean 'inner.level'\?\)",
    ):
        nested.resolve()
    with pytest.raises(PipelineError, match="no task labelled 'b'; labels: 'a'"):
        Pipeline.from_text(one_task()).with_config("b", {"threshold": 1.0})


def test_rubin_camel_case_names_and_bad_values() -> None:
    pipeline = Pipeline.from_text(one_task()).with_config(
        "a", {"maxCount": 3, "connections.source": "other_in"}
    )
    config = pipeline.make_config("a")
    assert config.max_count == 3  # type: ignore[attr-defined]
    assert config.connections.source == "other_in"  # type: ignore[attr-defined]
    negative = Pipeline.from_text(one_task()).with_config("a", {"max_count": -1})
    with pytest.raises(PipelineError, match=r"Task 'a': Invalid value -1 for config.max_count"):
        negative.resolve()


def test_python_and_file_config_need_allow_python(tmp_path: Path) -> None:
    override = write(tmp_path / "override.py", "config.max_count = 5\n")
    text = one_task().replace(
        f"a: {HERE}.StepTask",
        f"a:\n    class: {HERE}.StepTask\n    config:\n      python: |\n        config.threshold = 9.0\n"
        f"      file: {override.name}\n",
    )
    pipeline = Pipeline.from_text(text, base=tmp_path)
    with pytest.raises(PipelineError, match="executes Python; pass allow_python=True"):
        pipeline.make_config("a")
    config = pipeline.make_config("a", allow_python=True)
    assert config.threshold == 9.0 and config.max_count == 5  # type: ignore[attr-defined]
    # A file the caller passes (the command line's -C) is the caller's own and runs.
    caller = Pipeline.from_text(one_task()).with_config("a", files=[str(override)])
    assert caller.make_config("a").max_count == 5  # type: ignore[attr-defined]
    broken = Pipeline.from_text(
        text.replace("config.threshold = 9.0", "config.threshold = 1 / 0"), base=tmp_path
    )
    with pytest.raises(PipelineError, match="python config failed: ZeroDivisionError"):
        broken.make_config("a", allow_python=True)


def test_rubin_class_paths_resolve_to_chamberlain_tasks() -> None:
    text = (
        "description: rubin\ntasks:\n  getTemplate:\n    class: lsst.ip.diffim.getTemplate.GetTemplateTask\n"
        "    config:\n      templateBorderSize: 7\n      connections.coaddExposures: template_coadd\n"
    )
    pipeline = Pipeline.from_text(text)
    assert pipeline.task_class_name("getTemplate") == "chamberlain.tasks.GetTemplateTask"
    graph = pipeline.resolve()
    node = graph.tasks["getTemplate"]
    assert node.task_class.__name__ == "GetTemplateTask" and node.task_class.__module__.startswith(
        "chamberlain."
    )
    assert node.config.template_border_size == 7  # type: ignore[attr-defined]
    assert "template_coadd" in graph.dataset_types
    for rubin, ours in TASK_ALIASES.items():
        assert rubin.startswith("lsst.") and ours.startswith("chamberlain.tasks.")


# --------------------------------------------------------------------------- contracts


@pytest.mark.parametrize(
    ("contract", "holds"),
    [
        ("a.threshold == 1.0 and a.max_count > 3", True),
        ("a.threshold * 2 + 1 == 3 and not a.values", True),
        ("len(a.values) == 0 and a.inner.level in (1, 2)", True),
        ("a.connections.source == 'step_in'", True),
        ("a.maxCount == 10", True),
        ("a.threshold > 1.0 or a.max_count < 0", False),
        ("a.name_text is not None and max(a.max_count, 3) == 3", False),
    ],
)
def test_contract_values(contract: str, holds: bool) -> None:
    pipeline = Pipeline.from_text(one_task("a", f"contracts:\n  - contract: {contract!r}\n    msg: broken\n"))
    if holds:
        pipeline.resolve()
    else:
        with pytest.raises(PipelineGraphError, match=r"of tasks 'a' is false: broken\.$"):
            pipeline.resolve()


@pytest.mark.parametrize(
    ("contract", "pattern"),
    [
        ("__import__('os').system('true')", "only these functions may be called"),
        ("a.__class__ == 1", "has no field '__class__'"),
        ("(lambda: 1) == 1", "Lambda expressions are not supported"),
        ("[x for x in a.values]", "ListComp expressions are not supported"),
        ("ghost.threshold > 0", "name 'ghost' is not a task label; labels: 'a'"),
        ("a.threshold.real > 0", "read from a float, not a config"),
        ("2 ** 100000 > 1", "exponent 100000 is larger than 64"),
        ("a.threshold > 'x'", "failed: TypeError"),
    ],
)
def test_contracts_refuse_what_is_not_supported(contract: str, pattern: str) -> None:
    pipeline = Pipeline.from_text(one_task("a", f"contracts:\n  - {contract!r}\n"))
    with pytest.raises(PipelineError, match=pattern):
        pipeline.resolve()


def test_subset_selects_tasks_and_drops_what_refers_outside(tmp_path: Path) -> None:
    pipeline = Pipeline.from_file(_base_file(tmp_path))
    front = pipeline.subset(["front"])
    assert front.labels == ["isr", "calib"]
    assert set(front.subsets) == {"front"}
    assert [c.expression for c in front.contracts] == ["isr.threshold == 1.5", "calib.threshold < 5"]
    with pytest.raises(PipelineError, match="no task labelled 'ghost'"):
        pipeline.subset(["ghost"])


# ---------------------------------------------------------------------- hostile input


def test_alias_bombs_and_deep_nesting_are_refused() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = (
        "description: d\nparameters:\n"
        + "".join(f"  {line}\n" for line in levels)
        + f"tasks:\n  a: {HERE}.StepTask\n"
    )
    with pytest.raises(PipelineError, match="more than 100,000 values once its YAML aliases are expanded"):
        Pipeline.from_text(bomb)
    recursive = f"description: d\nparameters:\n  loop: &loop [*loop]\ntasks:\n  a: {HERE}.StepTask\n"
    with pytest.raises(PipelineError, match="aliases are expanded"):
        Pipeline.from_text(recursive)
    shared = (
        "description: d\nparameters:\n  base: &b [1, 2]\n  again: *b\n" + f"tasks:\n  a: {HERE}.StepTask\n"
    )
    assert Pipeline.from_text(shared).parameters["again"] == [1, 2]  # small aliases are fine
    deep = "description: d\nparameters:\n  p: " + "[" * 50_000 + "]" * 50_000 + "\n"
    with pytest.raises(PipelineError, match="nested too deeply|not YAML"):
        Pipeline.from_text(deep)


@pytest.mark.parametrize(
    ("contract", "pattern"),
    [
        ("len('x' * 10 ** 9) > 0", "repeating a sequence to more than 1000000 items"),
        ("((10 ** 60) ** 60) ** 60 > 0", "more than 100000 bits"),
        ("2 ** 64 ** 2 > 0", "exponent 4096 is larger than 64"),
    ],
)
def test_contracts_cannot_exhaust_memory(contract: str, pattern: str) -> None:
    pipeline = Pipeline.from_text(one_task("a", f"contracts:\n  - {contract!r}\n"))
    with pytest.raises(PipelineError, match=pattern):
        pipeline.resolve()


def test_hash_selects_labels_as_pipetask_does(tmp_path: Path) -> None:
    path = _base_file(tmp_path)
    assert Pipeline.from_file(f"{path}#measure,front").labels == ["isr", "calib", "measure"]
    assert Pipeline.from_file(f"{path}#calib").labels == ["calib"]
    assert Pipeline.from_file("templates#getDcrTemplate").labels == ["getDcrTemplate"]
    with pytest.raises(PipelineError, match="no task labelled 'ghost'"):
        Pipeline.from_file(f"{path}#ghost")
    with pytest.raises(PipelineError, match="no labels after '#'"):
        Pipeline.from_file(f"{path}#")
