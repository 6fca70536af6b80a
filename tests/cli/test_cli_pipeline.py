"""``chamberlain pipeline show`` and ``chamberlain pipeline list``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from chamberlain.cli import cli
from chamberlain.pipe import shipped_pipelines

TEMPLATES = Path(__file__).resolve().parents[2] / "chamberlain" / "pipelines" / "templates.yaml"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["pipeline", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_the_shipped_pipelines() -> None:
    code, out, _ = run("list", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["name"] for r in rows] == sorted(shipped_pipelines())
    templates = next(r for r in rows if r["name"] == "templates")
    assert Path(templates["file"]).samefile(TEMPLATES)
    assert "Difference-imaging templates" in templates["description"]
    code, table, _ = run("list")
    assert code == 0 and table.splitlines()[0].split() == ["name", "description", "file"]
    assert any(line.startswith("templates ") for line in table.splitlines())


def test_show_by_name_and_by_path_without_graph() -> None:
    code, by_name, _ = run("show", "templates")
    assert code == 0
    code, by_path, _ = run("show", str(TEMPLATES))
    assert code == 0
    assert by_name.splitlines()[1:] == by_path.splitlines()[1:]
    for text in (
        "getTemplate: chamberlain.tasks.GetTemplateTask",
        "getDcrTemplate: chamberlain.tasks.GetDcrTemplateTask",
        "effective_wavelength = 620.0",
        "goodSeeingTemplates: getTemplate",
        "getTemplate.template_border_size == getDcrTemplate.template_border_size",
        "Parameters:",
    ):
        assert text in by_name
    assert "Graph" not in by_name


def test_show_json_with_graph_has_the_documented_keys() -> None:
    code, out, _ = run("show", "templates", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {
        "name",
        "description",
        "instrument",
        "parameters",
        "tasks",
        "subsets",
        "steps",
        "contracts",
        "graph",
    }
    assert data["graph"] is None
    assert [t["label"] for t in data["tasks"]] == ["getTemplate", "getDcrTemplate"]
    assert data["parameters"]["border"] == 20
    code, out, _ = run("show", "templates", "--format", "json", "--graph", "-c", "parameters:border=31")
    assert code == 0
    data = json.loads(out)
    dataset_types = {d["name"]: d for d in data["graph"]["dataset_types"]}
    assert dataset_types["goodSeeingDiff_templateExp"]["producer"] == "getTemplate"
    assert dataset_types["calexp"]["consumers"] == ["getDcrTemplate", "getTemplate"]
    assert dataset_types["dcrCoadd"]["dimensions"] == ["band", "patch", "skymap", "subfilter", "tract"]
    assert ["template_border_size", 31] in data["tasks"][0]["config"]


def test_show_mermaid_and_dot_draw_the_dag() -> None:
    code, mermaid, _ = run("show", "templates", "--format", "mermaid")
    assert code == 0
    lines = mermaid.splitlines()
    assert lines[0] == "flowchart TD"
    ids = {line.split("[", 1)[1]: line.split("[", 1)[0].strip() for line in lines[1:] if "[" in line}
    task = ids['"getTemplate<br/>GetTemplateTask"]']
    coadd = ids['("goodSeeingCoadd")]']
    output = ids['("goodSeeingDiff_templateExp")]']
    assert f"  {coadd} --> {task}" in lines and f"  {task} --> {output}" in lines
    assert "getTemplate_metadata" not in mermaid  # automatic datasets nobody reads are not drawn
    code, dot, _ = run("show", "templates", "--format", "dot")
    assert code == 0
    assert dot.startswith("digraph pipeline {") and dot.rstrip().endswith("}")
    assert '"dataset:goodSeeingCoadd" -> "task:getTemplate";' in dot
    assert '"task:getDcrTemplate" -> "dataset:dcrDiff_templateExp";' in dot


def test_overrides_show_up_and_bad_ones_fail_in_one_line(tmp_path: Path) -> None:
    override = tmp_path / "border.py"
    override.write_text("config.template_border_size = 12\n")
    code, out, _ = run(
        "show",
        "templates",
        "--graph",
        "-c",
        "getTemplate:interp_length=50",
        "-C",
        f"getDcrTemplate:{override}",
        "-C",
        f"getTemplate:{override}",
    )
    assert code == 0, out
    assert "interp_length = 50" in out and f"file = '{override}'" in out
    for args, message in (
        (["-c", "getTemplate:interp_lenght=5", "--graph"], "did you mean 'interp_length'"),
        (["-c", "nolabel:x=1"], "no task labelled 'nolabel'"),
        (["-c", "getTemplate-x=1"], "is not label:field=value"),
        (
            ["-c", "getTemplate:template_border_size=3", "--graph"],
            "Both templates of a detector must have the same border",
        ),
    ):
        code, out, err = run("show", "templates", *args)
        assert code == 1 and out == ""
        assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1


def test_missing_task_module_shows_but_does_not_resolve(tmp_path: Path) -> None:
    path = tmp_path / "rubin.yaml"
    path.write_text("description: Rubin tasks we lack\ntasks:\n  isr: lsst.ip.isr.IsrTaskLSST\n")
    code, out, _ = run("show", str(path))
    assert code == 0 and "isr: lsst.ip.isr.IsrTaskLSST" in out
    code, out, err = run("show", str(path), "--graph")
    assert code == 1
    assert err.startswith("error: Task 'isr': class 'lsst.ip.isr.IsrTaskLSST' cannot be imported")


def test_bad_pipeline_arguments(tmp_path: Path) -> None:
    not_yaml = tmp_path / "bad.yaml"
    not_yaml.write_text("description: [\n")
    code, _, err = run("show", str(not_yaml))
    assert code == 1 and "is not YAML" in err and len(err.splitlines()) == 1
    code, _, err = run("show", "no-such-pipeline")
    assert code == 1 and "neither a file nor a shipped pipeline; shipped pipelines: 'templates'" in err
    code, _, err = run("show", "templates", "--format", "svg")
    assert code == 2


def test_show_imports_no_task_module() -> None:
    script = (
        "import sys\nfrom chamberlain.cli import main\n"
        "try:\n    main(['pipeline', 'show', 'templates', '--format', 'json'])\nexcept SystemExit:\n    pass\n"
        "print([m for m in sys.modules if m.startswith('chamberlain.tasks')], file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert '"getTemplate"' in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_python_in_a_pipeline_file_runs_only_with_allow_python(tmp_path: Path) -> None:
    path = tmp_path / "python.yaml"
    marker = tmp_path / "ran"
    path.write_text(
        "description: python config\nimports: []\ntasks:\n  getTemplate:\n"
        "    class: chamberlain.tasks.GetTemplateTask\n    config:\n      python: |\n"
        f"        open({str(marker)!r}, 'w').close()\n        config.interp_length = 77\n"
    )
    code, out, _ = run("show", str(path))
    assert code == 0 and "python = <2 line(s) of Python>" in out and not marker.exists()
    code, _, err = run("show", str(path), "--graph")
    assert code == 1 and "executes Python" in err and "--allow-python" in err and not marker.exists()
    code, out, _ = run("show", str(path), "--graph", "--allow-python", "--format", "json")
    assert code == 0 and marker.exists()
    assert json.loads(out)["graph"]["tasks"][0]["label"] == "getTemplate"
