"""define-visits and register-skymap (CliRunner), plus one run of each as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from click.testing import CliRunner, Result

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetType
from chamberlain.image import Exposure, Image, MaskedImage
from chamberlain.instrument import SimCam, simulate_raws
from chamberlain.instrument.registration import register_instrument

SIMCAM = SimCam()
RUN = "SimCam/raw/all"
N_EXPOSURES = 5  # 3 on-sky singles, then a snap pair (one visit each with one-to-one)
SKYMAP_YAML = """\
type: discrete
ra_list: [{ra}]
dec_list: [{dec}]
radius_list: [0.5]
pixel_scale: 2.0
patch_inner_dimensions: [400, 400]
patch_border: 20
"""


def run(*args: Any) -> Result:
    from chamberlain.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="chamberlain")


def ok(*args: Any) -> Result:
    result = run(*args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def fails(*args: Any, naming: tuple[str, ...] = ()) -> str:
    result = run(*args)
    assert result.exit_code == 1, f"{args}: exit {result.exit_code}: {result.output}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in naming:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SimCam repository with exposure records and raw-like datasets (WCS from the raw header)."""
    tmp = tmp_path_factory.mktemp("vs")
    paths = simulate_raws(tmp / "raws", N_EXPOSURES, seed=7, image_size=32, detectors=[0], calibrations=False)
    root = tmp / "repo"
    with Butler.create(root, run=RUN) as butler:
        registry = butler.registry
        register_instrument(registry, "SimCam")
        registry.register_dataset_type(
            DatasetType("raw", ["instrument", "exposure", "detector"], "Exposure", registry.universe)
        )
        for path in paths:
            header = fits.getheader(path)
            info = SIMCAM.translate_raw_header(header)
            e = info.exposure
            registry.sync_dimension_record("group", SIMCAM.group_record(e["group"]))
            registry.sync_dimension_record("day_obs", SIMCAM.day_obs_record(e["day_obs"]))
            registry.sync_dimension_record("exposure", e)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                wcs = WCS(header)
            pixels = MaskedImage(Image(np.zeros((header["NAXIS2"], header["NAXIS1"]), dtype=np.float32)))
            butler.put(
                Exposure(pixels, wcs=wcs),
                "raw",
                instrument="SimCam",
                exposure=e["id"],
                detector=info.detector,
            )
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(template, root)
    return root


def visit_ids(root: Path) -> list[int]:
    with Butler(root) as butler:
        return sorted(r.id for r in butler.registry.fetch_dimension_records("visit"))


def exposure_ids(root: Path) -> list[int]:
    with Butler(root) as butler:
        return sorted(r.id for r in butler.registry.fetch_dimension_records("exposure"))


# --- define-visits -------------------------------------------------------------------------


def test_define_visits_summary_and_idempotence(repo: Path) -> None:
    result = ok("define-visits", repo, "SimCam")
    assert result.stdout.strip() == (
        f"Defined {N_EXPOSURES} visit(s) of SimCam: {N_EXPOSURES} new, 0 already present, 0 updated; "
        "0 exposure(s) skipped (cannot see the sky)."
    )
    assert visit_ids(repo) == exposure_ids(repo)
    again = ok("define-visits", repo, "SimCam")
    assert f"0 new, {N_EXPOSURES} already present" in again.stdout
    records = json.loads(
        ok("query-dimension-records", repo, "visit_detector_region", "--format", "json").stdout
    )
    assert len(records) == N_EXPOSURES * len(SIMCAM.detectors)
    assert all(r["region"].startswith("ConvexPolygon[4]@(") for r in records)


def test_define_visits_where_selects_exposures(repo: Path) -> None:
    first, second = exposure_ids(repo)[:2]
    result = ok("define-visits", repo, "SimCam", "--where", f"exposure IN ({first}, {second})")
    assert "Defined 2 visit(s)" in result.stdout
    assert visit_ids(repo) == [first, second]
    nothing = ok("define-visits", repo, "SimCam", "--where", "exposure = 1")
    assert "Defined 0 visit(s)" in nothing.stdout and nothing.stderr.startswith("note: no exposures")


def test_define_visits_single_raw_wcs_agrees_with_camera_geometry(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(repo, other)
    ok("define-visits", repo, "SimCam", "--regions", "by-camera-geometry")
    ok("define-visits", other, "SimCam", "--regions", "single-raw-wcs", "--collections", RUN)
    with Butler(repo) as a, Butler(other) as b:
        ra = {r.id: r.region for r in a.registry.fetch_dimension_records("visit")}
        rb = {r.id: r.region for r in b.registry.fetch_dimension_records("visit")}
    assert sorted(ra) == sorted(rb)
    for visit, region in ra.items():
        assert region.getBoundingCircle().getCenter().dot(rb[visit].getBoundingCircle().getCenter()) > np.cos(
            np.radians(1 / 60)
        )


def test_define_visits_bad_input(repo: Path) -> None:
    fails("define-visits", repo, "NoCam", naming=("'NoCam'", "registered: 'SimCam'", "register-instrument"))
    fails("define-visits", repo, "SimCam", "--regions", "single-raw-wcs", naming=("--collections",))
    fails("define-visits", repo, "SimCam", "--where", "exposure = = 3", naming=("position",))
    fails("define-visits", repo, "SimCam", "--processes", "0", naming=("processes", "0"))
    fails(
        "define-visits",
        repo,
        "SimCam",
        "--regions",
        "single-raw-wcs",
        "--collections",
        "nope",
        naming=("'nope'",),
    )
    assert visit_ids(repo) == []


# --- register-skymap -----------------------------------------------------------------------


def skymap_file(tmp_path: Path, ra: float = 0.0, dec: float = 0.0, name: str = "sky.yaml") -> Path:
    path = tmp_path / name
    path.write_text(SKYMAP_YAML.format(ra=ra, dec=dec))
    return path


def test_register_skymap_idempotent_and_refusal_names_hash(repo: Path, tmp_path: Path) -> None:
    config = skymap_file(tmp_path)
    result = ok("register-skymap", repo, "sky", "--config", config)
    assert result.stdout.startswith("Registered skymap 'sky' (DiscreteSkyMap, 1 tracts, hash ")
    hash_hex = result.stdout.split("hash ")[1].rstrip(").\n")
    tracts = json.loads(ok("query-dimension-records", repo, "tract", "--format", "json").stdout)
    assert [(t["skymap"], t["id"]) for t in tracts] == [("sky", 0)]
    patches = json.loads(ok("sql", repo, "SELECT count(*) AS n FROM patch", "--format", "json").stdout)
    assert patches[0]["n"] > 0
    again = ok("register-skymap", repo, "sky", "--config", config)
    assert "already registered" in again.stdout and hash_hex in again.stdout
    moved = skymap_file(tmp_path, ra=10.0, name="moved.yaml")
    fails("register-skymap", repo, "sky", "--config", moved, naming=("'sky'", hash_hex))


def test_register_skymap_bad_config(repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("type: hexagons\n")
    fails("register-skymap", repo, "sky", "--config", bad, naming=("bad.yaml", "hexagons"))
    bad.write_text("type: rings\nnum_rings: [\n")
    fails("register-skymap", repo, "sky", "--config", bad, naming=("bad.yaml", "YAML"))
    fails("register-skymap", repo, "sky", "--config", tmp_path / "missing.yaml", naming=("missing.yaml",))
    assert run("register-skymap", repo, "sky").exit_code == 2  # --config is required


# --- as a real program -----------------------------------------------------------------------


def test_subprocess_define_visits_and_query(repo: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "chamberlain.cli"]
    done = subprocess.run(
        [*cmd, "define-visits", str(repo), "SimCam"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert f"Defined {N_EXPOSURES} visit(s)" in done.stdout
    done = subprocess.run(
        [*cmd, "query-datasets", str(repo), "raw", "--collections", RUN, "--limit", "0"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: limit=0")
