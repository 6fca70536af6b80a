"""The demo: a simulated night, from raw files to a difference-imaging template.

Run it with ``chamberlain demo [DIR]`` (or ``python -m chamberlain.demo [DIR]``).
In a new SQLite repository it

1. registers the simulated instrument SimCam (9 detectors, 4 filters);
2. simulates a night of raw FITS files (science exposures with snaps, and
   biases, flats and darks) and ingests them;
3. defines visits from the science exposures (regions from camera geometry);
4. registers a coarse rings skymap covering the whole sky, whose exact
   overlaps with every visit-detector region are stored as it is inserted;
5. renders coadds of the simulated sky for the patches under one detector and
   builds that detector's template from them with `GetTemplateTask`.

Every step goes through the public API; the printout says what each did.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .butler import Butler
from .datasets import DatasetType
from .errors import ChamberlainError, ConfigError
from .image import Box, Exposure, FilterLabel, GaussianPsf, Image, MaskedImage, PhotoCalib
from .repository import CONFIG_NAME, DEMO_MARKER_NAME, SQLITE_NAME, enclosing_repository

#: The demo's rings skymap: coarse pixels and patches keep the whole-sky registration quick.
DEMO_SKYMAP: dict[str, Any] = {
    "num_rings": 40,
    "ra_start": 0.0,
    "tract_overlap": 1.0 / 60.0,
    "pixel_scale": 4.0,
    "projection": "TAN",
    "rotation": 0.0,
    "patch_inner_dimensions": [500, 500],
    "patch_border": 50,
}


def _render_coadd(tract: Any, patch: Any, band: str, sigma_pix: float = 1.2) -> Exposure:
    """A noiseless coadd of the simulated star field on a patch's outer box."""
    from .instrument.simulate import star_catalog

    box = patch.outer_bbox
    bbox = Box(box.min_x, box.min_y, box.max_x, box.max_y)
    stars = star_catalog()
    x, y = tract.wcs.world_to_pixel_values(np.asarray(stars.ra), np.asarray(stars.dec))
    image = np.full(bbox.shape, 100.0, np.float32)
    inside = (x > bbox.min_x - 5) & (x < bbox.max_x + 5) & (y > bbox.min_y - 5) & (y < bbox.max_y + 5)
    r = int(np.ceil(5 * sigma_pix))
    for sx, sy, flux in zip(x[inside], y[inside], np.asarray(stars.flux)[inside]):
        x0, y0 = round(float(sx)) - bbox.min_x, round(float(sy)) - bbox.min_y
        ys, xs = np.mgrid[
            max(y0 - r, 0) : min(y0 + r + 1, bbox.height), max(x0 - r, 0) : min(x0 + r + 1, bbox.width)
        ]
        dx, dy = xs + bbox.min_x - sx, ys + bbox.min_y - sy
        image[ys, xs] += (flux / 50.0) * np.exp(-0.5 * (dx * dx + dy * dy) / sigma_pix**2)
    variance = Image(np.ones(bbox.shape, np.float32), bbox.xy0)
    masked = MaskedImage(Image(image, bbox.xy0), None, variance)
    return Exposure(
        masked,
        wcs=tract.wcs,
        photo_calib=PhotoCalib(1.0),
        psf=GaussianPsf(sigma_pix),
        filter=FilterLabel(band, None),
    )


def prepare_root(root: str | os.PathLike[str], *, replace: bool = False) -> None:
    """Make sure the demo may be built in ``root``, deleting an earlier demo there if ``replace``.

    Only a directory the demo made (it holds `~chamberlain.repository.DEMO_MARKER_NAME`)
    or an empty directory is replaced; anything else is refused, and nothing
    is deleted.

    Parameters
    ----------
    root
        The demo's directory.
    replace
        Delete ``root`` if an earlier demo made it (or it is empty).

    Raises
    ------
    ConfigError
        If ``root`` is empty (``''``), exists without ``replace``, is not a
        directory the demo made, or is inside another repository.
    """
    shown = os.fspath(root)
    if not shown.strip():
        raise ConfigError(f"Demo directory {shown!r} is empty; name a directory such as 'demo-repo'.")
    path = Path(root)
    parent = enclosing_repository(path)
    if parent is not None:
        raise ConfigError(
            f"Cannot build the demo in {shown!r}: it is inside the repository {str(parent)!r}; "
            "choose a directory outside it."
        )
    if not (path.exists() or path.is_symlink()):
        return
    if not replace:
        raise ConfigError(f"{shown!r} already exists; choose another directory or pass --replace.")
    if path.is_symlink() or not path.is_dir():
        raise ConfigError(
            f"Refusing to replace {shown!r}: it is not a directory (a file or a symbolic link); "
            "--replace only replaces a directory an earlier demo made."
        )
    if (path / DEMO_MARKER_NAME).is_file() and (path / CONFIG_NAME).is_file():
        shutil.rmtree(path)  # a demo repository: the marker alone (a copied file) is not enough
    elif any(path.iterdir()):
        what = (
            "a Chamberlain repository the demo did not make"
            if any((path / m).exists() for m in (CONFIG_NAME, SQLITE_NAME))
            else "a directory that is not empty"
        )
        raise ConfigError(
            f"Refusing to replace {shown!r}: it is {what} (not a demo repository: {DEMO_MARKER_NAME} "
            f"and {CONFIG_NAME} are not both there); "
            "--replace only replaces a directory an earlier demo made; choose another directory."
        )


def command_name() -> str:
    """How to call the ``chamberlain`` command in hints: the way it was invoked, if it was.

    The plain name when it is the ``chamberlain`` found on ``PATH``, the path
    used otherwise (``.venv/bin/chamberlain``), ``chamberlain`` when not run
    by that command.
    """
    invoked = sys.argv[0] if sys.argv else ""
    if os.path.basename(invoked) != "chamberlain":
        return "chamberlain"
    found = shutil.which("chamberlain")
    if found is not None and os.path.realpath(found) == os.path.realpath(invoked):
        return "chamberlain"
    return shlex.quote(invoked)


def run(
    root: Path,
    *,
    n_exposures: int = 24,
    echo: Callable[[str], None] = print,
    command: str | None = None,
) -> Butler:
    """Build the demo repository under ``root`` and return its Butler.

    ``root`` must be missing or empty (see `prepare_root`). The repository is
    marked as the demo's (`~chamberlain.repository.DEMO_MARKER_NAME`); the raw
    files are simulated in a temporary directory, removed afterwards.

    Parameters
    ----------
    root
        The directory of the new repository.
    n_exposures
        Number of simulated exposures (of 9 detectors each).
    echo
        Called with each line of the printout.
    command
        How to call the ``chamberlain`` command in the closing hint (default
        `command_name`).
    """
    from .instrument import simulate_raws
    from .instrument.registration import register_instrument
    from .skymap import RingsSkyMap
    from .skymap.registration import register_skymap
    from .tasks.define_visits import DefineVisitsTask
    from .tasks.get_template import GetTemplateTask
    from .tasks.ingest_raws import ingest_raws

    t0 = time.perf_counter()
    root = Path(root).absolute()

    def step(message: str) -> None:
        echo(f"[{time.perf_counter() - t0:6.1f} s] {message}")

    Butler.create(root).close()
    (root / DEMO_MARKER_NAME).write_text(
        "Made by `chamberlain demo`; `chamberlain demo --replace` may delete it.\n"
    )
    butler = Butler(root, writeable=True)
    registry = butler.registry
    step(f"Created repository {root} (SQLite database inside it).")
    step(f"Registered SimCam: {register_instrument(registry, 'SimCam')}.")

    raw_dir = Path(tempfile.mkdtemp(prefix="chamberlain-demo-raws-"))
    try:
        files = simulate_raws(raw_dir, n_exposures, seed=7, image_size=256)
        step(f"Simulated {len(files)} raw files ({n_exposures} exposures x 9 detectors) in {raw_dir}.")
        summary = ingest_raws(butler, [raw_dir], transfer="copy")
        step(f"Ingested raws into SimCam/raw/all: {summary}")
    finally:
        shutil.rmtree(raw_dir, ignore_errors=True)

    exposures = [
        {"instrument": "SimCam", "exposure": r.id} for r in registry.fetch_dimension_records("exposure")
    ]
    result = DefineVisitsTask(butler=butler).run(exposures)
    step(
        f"Defined {result.n_visits} visits ({result.n_new} new); {result.n_not_on_sky} calibration exposures "
        "skipped because they cannot see the sky."
    )

    skymap = RingsSkyMap(**DEMO_SKYMAP)
    register_skymap(registry, "demo-rings", skymap)
    n_overlaps = registry.count_overlaps("visit_detector_region", "patch")
    step(
        f"Registered rings skymap 'demo-rings' ({len(skymap)} tracts); {n_overlaps} exact detector-patch "
        "overlaps stored."
    )

    visit = registry.fetch_dimension_records("visit")[0]
    detector = 4
    patches = butler.overlapping_patches(visit=visit.id, detector=detector, instrument="SimCam")
    step(
        f"Visit {visit.id}, detector {detector} overlaps patches {[(p['tract'], p['patch']) for p in patches]}."
    )

    filter_record = registry.get_dimension_record(
        "physical_filter", instrument="SimCam", physical_filter=visit.physical_filter
    )
    assert filter_record is not None
    band = filter_record.band
    registry.register_run("demo/coadds")
    registry.register_dataset_type(
        DatasetType("deepCoadd", ["skymap", "tract", "patch", "band"], "Exposure", registry.universe)
    )
    handles = []
    for p in patches:
        tract = skymap[int(p["tract"])]
        coadd = _render_coadd(tract, tract[int(p["patch"])], band)
        data_id = {"skymap": "demo-rings", "tract": p["tract"], "patch": p["patch"], "band": band}
        ref = butler.put(coadd, "deepCoadd", data_id, run="demo/coadds")
        handles.append(butler.get_deferred(ref))
    step(f"Wrote {len(handles)} simulated '{band}' coadds to run demo/coadds.")

    exposure_id = registry.query_data_ids(
        ["exposure"], where=f"visit = {visit.id}", data_id={"instrument": "SimCam"}
    )
    first_exposure = next(iter(exposure_id))["exposure"]
    raw_id = {"instrument": "SimCam", "exposure": first_exposure, "detector": detector}
    wcs = butler.get("raw.wcs", raw_id, collections="SimCam/raw/all")
    bbox = butler.get("raw.bbox", raw_id, collections="SimCam/raw/all")
    template = (
        GetTemplateTask()
        .run(handles, bbox, wcs, data_ids=[h.data_id for h in handles], physical_filter=visit.physical_filter)
        .template
    )
    no_data = template.mask.get_plane_bitmask(["NO_DATA"])
    covered = float(np.mean((template.mask.array & no_data) == 0))
    registry.register_dataset_type(
        DatasetType("template", ["instrument", "visit", "detector"], "Exposure", registry.universe)
    )
    registry.register_run("demo/templates")
    butler.put(
        template, "template", instrument="SimCam", visit=visit.id, detector=detector, run="demo/templates"
    )
    step(
        f"Built and stored the template for visit {visit.id} detector {detector} (run demo/templates): "
        f"{template.bbox.width}x{template.bbox.height} pixels, {covered:.0%} covered, "
        f"from {len(handles)} patch cutouts."
    )
    hint = command if command is not None else command_name()
    step(
        f"Try: {hint} query-datasets {shlex.quote(str(root))} '*' --collections 'demo/*,SimCam/raw/all' --limit 5"
    )
    step("Done.")
    return butler


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``python -m chamberlain.demo``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "root", nargs="?", default="demo-repo", help="directory to create (default: demo-repo)"
    )
    parser.add_argument(
        "--replace", action="store_true", help="delete the directory first if an earlier demo made it"
    )
    args = parser.parse_args(argv)
    try:
        prepare_root(args.root, replace=args.replace)
        run(Path(args.root).absolute(), command=f"{shlex.quote(sys.executable)} -m chamberlain.cli").close()
    except ChamberlainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
