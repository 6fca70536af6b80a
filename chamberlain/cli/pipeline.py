"""The ``pipeline`` command group: ``show`` and ``list`` (`chamberlain.pipe.Pipeline`)."""

from __future__ import annotations

import click
import yaml

from chamberlain.pipe.pipeline import Pipeline, shipped_pipelines
from chamberlain.pipe.pipeline_file import PipelineError
from chamberlain.pipe.pipeline_show import FORMATS, format_pipeline

from ._format import format_option, print_rows

__all__ = ["pipeline"]


@click.group("pipeline")
def pipeline() -> None:
    """Show pipeline definitions (Rubin's pipeline YAML) and list the shipped ones.

    A PIPELINE argument is a path to a pipeline file or the name of a
    pipeline shipped with Chamberlain (see 'chamberlain pipeline list').
    """


def parse_override(text: str) -> tuple[str, str, object]:
    """Split ``label:field=value`` (the value read as YAML: 3, 2.5, true, [a, b], text).

    Parameters
    ----------
    text : `str`
        The ``-c`` argument.

    Returns
    -------
    override : `tuple` [`str`, `str`, `object`]
        The label, the dotted field and the value.

    Raises
    ------
    PipelineError
        If the text is not ``label:field=value``.
    """
    label, colon, rest = text.partition(":")
    dotted, equals, raw = rest.partition("=")
    if not (colon and equals and label.strip() and dotted.strip()):
        raise PipelineError(f"Config override {text!r} is not label:field=value (e.g. isr:doBias=false).")
    try:
        value = yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    return label.strip(), dotted.strip(), value


def load_pipeline(path: str, overrides: tuple[str, ...], config_files: tuple[str, ...]) -> Pipeline:
    """Read a pipeline and add the ``-c`` and ``-C`` overrides, in command-line order per kind.

    Parameters
    ----------
    path : `str`
        The PIPELINE argument (a path or a shipped pipeline's name).
    overrides : `tuple` [`str`, ...]
        ``label:field=value`` items (``parameters:NAME=value`` sets a parameter).
    config_files : `tuple` [`str`, ...]
        ``label:file`` items.

    Returns
    -------
    pipeline : `Pipeline`
        The pipeline with the overrides added (nothing imported).

    Raises
    ------
    PipelineError
        If the pipeline is invalid or an override is malformed or names an unknown label.
    """
    result = Pipeline.from_file(path)
    for item in config_files:
        label, colon, file = item.partition(":")
        if not (colon and label and file):
            raise PipelineError(f"Config file override {item!r} is not label:file.")
        result = result.with_config(label, files=[file])
    for item in overrides:
        label, dotted, value = parse_override(item)
        result = result.with_config(label, {dotted: value})
    return result


@pipeline.command("show")
@click.argument("pipeline_file", metavar="PIPELINE")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="text",
    show_default=True,
    help="text or json describe the file (and the DAG with --graph); mermaid and dot draw the DAG.",
)
@click.option(
    "-c",
    "--config",
    "overrides",
    multiple=True,
    metavar="LABEL:FIELD=VALUE",
    help="Override a config field of task LABEL (repeatable; VALUE read as YAML); parameters:NAME=VALUE "
    "sets a parameter.",
)
@click.option(
    "-C",
    "--config-file",
    "config_files",
    multiple=True,
    metavar="LABEL:FILE",
    help="Load a config override file (Python) into task LABEL (repeatable).",
)
@click.option(
    "--graph",
    is_flag=True,
    help="Import the tasks, apply the configs, check the contracts and add the DAG "
    "(implied by mermaid and dot).",
)
@click.option(
    "--allow-python",
    is_flag=True,
    help="Run the file: and python: config written in the pipeline file (only for files you trust).",
)
def show(
    pipeline_file: str,
    output_format: str,
    overrides: tuple[str, ...],
    config_files: tuple[str, ...],
    graph: bool,
    allow_python: bool,
) -> None:
    """Print a pipeline: labels, classes, config overrides, subsets, steps, contracts, parameters.

    Without --graph nothing named in the file is imported, so a pipeline whose
    task modules are not installed can still be shown. With --graph (and for
    --format mermaid or dot) the tasks are imported and the pipeline graph is
    built and checked; any problem is one error line.
    """
    result = load_pipeline(pipeline_file, overrides, config_files)
    fmt = output_format.lower()
    resolved = result.resolve(allow_python=allow_python) if graph or fmt in ("mermaid", "dot") else None
    click.echo(format_pipeline(result, resolved, fmt), nl=False)


@pipeline.command("list")
@format_option
def list_pipelines(output_format: str) -> None:
    """List the pipelines shipped with Chamberlain: name, first sentence of the description, file.

    A shipped pipeline is addressed by its name wherever a PIPELINE is
    expected, e.g. 'chamberlain pipeline show templates'.
    """
    rows = []
    for name, path in shipped_pipelines().items():
        description = Pipeline.from_file(path).description
        first = " ".join(description.split()).split(". ")[0].removesuffix(".")
        rows.append({"name": name, "description": first, "file": str(path)})
    print_rows(rows, ["name", "description", "file"], output_format)
