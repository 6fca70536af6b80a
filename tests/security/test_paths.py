"""No path escapes out of the repository (issue #11, findings 2, 3 and 14).

Field values become escaped path components; writes, ingests and deletions whose directory
resolves outside the root (a symbolic link, a ``..`` in an old record) are refused; a moved
symbolic link is refused; temporaries of dead processes are cleaned by the next write.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from _security import RAW_RUN, Repo, file_tree, refused, run_cli

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetRef, DatasetType
from chamberlain.datastore import FileDataset, FileTemplate
from chamberlain.dimensions import DataCoordinate, DimensionUniverse
from chamberlain.errors import DatastoreError, IngestError

RUN = "u/tester/run"


def _outside(repo: Repo) -> dict[str, tuple[str, str]]:
    """The entries of the test directory that are not in the repository."""
    return {k: v for k, v in file_tree(repo.root.parent).items() if k != "repo" and not k.startswith("repo/")}


def _inside_root(repo: Repo, path: str | os.PathLike[str]) -> Path:
    """``path`` relative to the real repository root; fails if it resolves anywhere else."""
    real = Path(os.path.realpath(path))
    return real.relative_to(repo.root.resolve())


def _register(butler: Butler, name: str, dimensions: list[str], run: str = RUN) -> None:
    butler.registry.register_dataset_type(
        DatasetType(name, dimensions, "StructuredDataDict", butler.registry.universe)
    )
    butler.registry.register_run(run)


def _refused_per_file(result: Any, files: list[Path], *naming: str) -> None:
    """ingest-raws reports each file it cannot ingest on its own line, then one ``error:`` line."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip() and line != "Ingesting raws"]
    assert (
        lines[-1] == f"error: {len(files)} of {len(files)} raw file(s) could not be ingested (listed above)."
    )
    failed = lines[:-1]
    assert sorted(failed) == sorted(line for line in failed if line.startswith("failed: "))
    assert len(failed) == len(files)
    for path in files:
        (line,) = [line for line in failed if line.startswith(f"failed: {path}: ")]
        for needle in naming:
            assert needle in line, (needle, line)


def _raw_files(repo: Repo) -> list[Path]:
    return sorted(p for p in repo.root.rglob("*.fits") if p.is_file())


# --- (b) field values become one safe component --------------------------------------------------


def test_dimension_values_that_look_like_paths_stay_inside(repo: Repo) -> None:
    hostile = ["..", ".", "a/../../b", "%2e%2e", "%2E%2E", "...", "x\\y", "n\nl"]
    outside = _outside(repo)
    with Butler(repo.root, writeable=True) as butler:
        butler.registry.insert_dimension_records(
            "physical_filter", [{"instrument": "SimCam", "name": n, "band": "r"} for n in hostile]
        )
        _register(butler, "filter_summary", ["instrument", "physical_filter"])
        paths: dict[str, Path] = {}
        for name in hostile:
            ref = butler.put(
                {"filter": name}, "filter_summary", instrument="SimCam", physical_filter=name, run=RUN
            )
            uri = butler.get_uri(ref)
            paths[name] = _inside_root(repo, uri)
            assert Path(uri).is_file()
            assert butler.get(ref) == {"filter": name}
    # one directory level per value, each escaped; no '.' or '..' level anywhere
    levels = {name: path.parts[-2] for name, path in paths.items()}
    assert levels[".."] == "%2E%2E"
    assert levels["."] == "%2E"
    assert levels["..."] == "%2E%2E%2E"
    assert levels["a/../../b"] == "a_.._.._b"
    assert levels["%2e%2e"] == "%252e%252e"  # never decoded: stays distinct from '..'
    assert levels["x\\y"] == "x%5Cy"
    assert levels["n\nl"] == "n%0Al"
    assert len(set(paths.values())) == len(hostile)  # distinct values, distinct files
    for path in paths.values():
        assert path.parts[:3] == ("u", "tester", "run")
        assert "." not in path.parts and ".." not in path.parts
    assert _outside(repo) == outside


def _insert_run_unchecked(repo: Repo, name: str) -> None:
    """Register a RUN the way a repository made before the name rules could hold it (raw SQL)."""
    engine = sa.create_engine(repo.url, poolclass=sa.pool.NullPool)
    metadata = sa.MetaData(schema=repo.database.namespace)
    try:
        with engine.begin() as conn:
            collection = sa.Table("collection", metadata, autoload_with=conn)
            run = sa.Table("run", metadata, autoload_with=conn)
            result = conn.execute(collection.insert().values(name=name, type=1, doc=None))
            conn.execute(run.insert().values(collection_id=result.inserted_primary_key[0]))
    finally:
        engine.dispose()


def test_an_old_run_named_dot_dot_writes_inside_the_root(repo: Repo) -> None:
    _insert_run_unchecked(repo, "../escaped")
    outside = _outside(repo)
    with Butler(repo.root, writeable=True) as butler:
        _register(butler, "summary", ["instrument"])
        ref = butler.put({"a": 1}, "summary", instrument="SimCam", run="../escaped")
        path = _inside_root(repo, butler.get_uri(ref))
    assert path.parts[:2] == ("%2E%2E", "escaped")
    assert _outside(repo) == outside
    result = run_cli("remove-runs", repo.root, "../escaped", "--no-confirm")
    assert result.exit_code == 0, result.output
    assert not (repo.root / path).exists()
    assert _outside(repo) == outside


# --- (c) writes and deletions whose directory resolves outside the root --------------------------


def _point_record_at(repo: Repo, relative: str) -> Any:
    """Make the record of one raw name ``relative`` (as an old or tampered repository could)."""
    with Butler(repo.root, writeable=True) as butler:
        records = butler.datastore.records
        row = next(iter(records.all_records()))
        with records.transaction():
            records.delete_records([(row[0], row[1])])
            records.insert([(row[0], row[1], relative, *row[3:])])
        return row[0]


def test_a_record_with_dot_dot_never_deletes_outside(repo: Repo) -> None:
    dataset_id = str(_point_record_at(repo, "../outside/precious.txt"))
    before = repo.snapshot()
    for args, needles in (
        (("remove-runs", repo.root, RAW_RUN, "--no-confirm"), [dataset_id]),
        (
            ("prune-datasets", repo.root, "raw", "--collections", RAW_RUN, "--purge", "--no-confirm"),
            ["raw", f"run {RAW_RUN!r}", dataset_id],
        ),
        (
            ("prune-datasets", repo.root, "raw", "--collections", RAW_RUN, "--unstore", "--no-confirm"),
            ["raw", dataset_id],
        ),
    ):
        line = refused(run_cli(*args), "precious.txt", "outside the datastore root", *needles)
        assert str(repo.outside.resolve()) in line
        assert repo.snapshot() == before, args
    assert (repo.outside / "precious.txt").read_text() == "not the repository's\n"


def test_emptying_an_old_trash_entry_with_dot_dot_deletes_nothing_outside(repo: Repo) -> None:
    # A trash entry written before the checks (or by hand) is dropped without deleting its file.
    dataset_id = _point_record_at(repo, "../outside/precious.txt")
    with Butler(repo.root, writeable=True) as butler:
        records = butler.datastore.records
        with records.transaction():
            assert records.move_to_trash([dataset_id]) == 1
        assert butler.empty_trash() == []
        assert records.trash() == []
    assert (repo.outside / "precious.txt").read_text() == "not the repository's\n"


def _link_a_raw_directory_outside(repo: Repo) -> tuple[Path, Path]:
    """Replace the directory of one raw by a link to a copy of it outside the repository."""
    directory = _raw_files(repo)[0].parent
    target = repo.outside / "linked"
    shutil.move(directory, target)
    directory.symlink_to(target, target_is_directory=True)
    return directory, target


def test_purge_through_a_linked_directory_deletes_nothing_outside(repo: Repo) -> None:
    link, target = _link_a_raw_directory_outside(repo)
    outside_files = sorted(target.iterdir())
    assert outside_files
    before = repo.snapshot()
    for args in (
        ("prune-datasets", repo.root, "raw", "--collections", RAW_RUN, "--purge", "--no-confirm"),
        ("remove-runs", repo.root, RAW_RUN, "--no-confirm"),
    ):
        refused(run_cli(*args), str(link), str(target.resolve()), "outside the datastore root")
        assert repo.snapshot() == before, args
    assert sorted(target.iterdir()) == outside_files
    assert link.is_symlink()


def test_purge_of_a_linked_file_removes_the_link_not_its_target(repo: Repo, tmp_path: Path) -> None:
    # A raw ingested with --transfer symlink: purge removes the link inside the repository only.
    result = run_cli(
        "ingest-raws", repo.root, repo.raws, "--run", "SimCam/raw/linked", "--transfer", "symlink"
    )
    assert result.exit_code == 0, result.output
    links = [p for p in (repo.root / "SimCam/raw/linked").rglob("*.fits")]
    assert links and all(p.is_symlink() for p in links)
    sources = sorted(repo.raws.rglob("*.fits"))
    contents = {p: p.read_bytes() for p in sources}
    result = run_cli("remove-runs", repo.root, "SimCam/raw/linked", "--no-confirm")
    assert result.exit_code == 0, result.output
    assert not any(p.is_symlink() or p.exists() for p in links)
    assert {p: p.read_bytes() for p in sources} == contents


def test_writes_through_a_linked_directory_are_refused(repo: Repo) -> None:
    escape = repo.outside / "elsewhere"
    escape.mkdir()
    (repo.root / "u").symlink_to(escape, target_is_directory=True)
    with Butler(repo.root, writeable=True) as butler:
        _register(butler, "summary", ["instrument"], run="u/me")
        butler.registry.register_run("u/raws")
    before = repo.snapshot()
    with Butler(repo.root, writeable=True) as butler:
        with pytest.raises(DatastoreError) as info:
            butler.put({"a": 1}, "summary", instrument="SimCam", run="u/me")
        message = str(info.value)
        for needle in ("summary", "SimCam", "'u/me'", str(repo.root / "u/me"), str(escape.resolve())):
            assert needle in message
    assert repo.snapshot() == before
    result = run_cli("ingest-raws", repo.root, repo.raws, "--run", "u/raws", "--transfer", "copy")
    _refused_per_file(
        result,
        sorted(repo.raws.glob("*.fits")),
        "outside the datastore root",
        str(escape.resolve()),
        "'u/raws'",
    )
    assert repo.snapshot() == before
    assert list(escape.iterdir()) == []


# --- finding 3: move of a symbolic link ----------------------------------------------------------


def test_move_of_a_symbolic_link_is_refused(repo: Repo, tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    for source in sorted(repo.raws.glob("*.fits"))[:2]:
        (links / source.name).symlink_to(source)
    with Butler(repo.root, writeable=True) as butler:
        butler.registry.register_run("SimCam/raw/moved")
    before = repo.snapshot()
    result = run_cli("ingest-raws", repo.root, links, "--run", "SimCam/raw/moved", "--transfer", "move")
    _refused_per_file(result, sorted(links.iterdir()), "Cannot move", "it is a symbolic link", str(repo.raws))
    assert repo.snapshot() == before


def test_move_of_a_symbolic_link_is_refused_by_the_datastore(repo: Repo, tmp_path: Path) -> None:
    source = tmp_path / "data.json"
    source.write_text('{"a": 1}')
    link = tmp_path / "link.json"
    link.symlink_to(source)
    with Butler(repo.root, writeable=True) as butler:
        _register(butler, "summary", ["instrument"])
        before = repo.snapshot()
        dataset_type = butler.registry.get_dataset_type("summary")
        data_id = DataCoordinate.standardize({"instrument": "SimCam"}, dimensions=dataset_type.dimensions)
        ref = DatasetRef(dataset_type, data_id, RUN, uuid.uuid4())
        with pytest.raises(IngestError, match=f"Cannot move {link}: it is a symbolic link"):
            butler.ingest(FileDataset(link, ref), transfer="move")
    assert repo.snapshot() == before
    assert link.is_symlink() and source.read_text() == '{"a": 1}'


# --- finding 14: temporaries of dead processes ----------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_the_next_write_removes_stale_temporaries_of_dead_processes(repo: Repo) -> None:
    with Butler(repo.root, writeable=True) as butler:
        _register(butler, "det_summary", ["instrument", "detector"])
        first = butler.put({"d": 0}, "det_summary", instrument="SimCam", detector=0, run=RUN)
        directory = Path(butler.get_uri(first)).parent
    dead = _dead_pid()
    live = subprocess.Popen(["sleep", "60"])
    try:
        old = time.time() - 600
        stale = directory / f".det_summary_x.yaml.tmp-{dead}"
        fresh = directory / f".det_summary_y.yaml.tmp-{dead}"
        living = directory / f".det_summary_z.yaml.tmp-{live.pid}"
        own = directory / f".det_summary_w.yaml.tmp-{os.getpid()}"
        unrelated = [
            directory / ".notes.tmp-abc",
            directory / f"kept.tmp-{dead}",
            directory / f".x.tmp-{dead}1a",
        ]
        for path in [stale, fresh, living, own, *unrelated]:
            path.write_bytes(b"partial")
        for path in [stale, living, own, *unrelated]:
            os.utime(path, (old, old))
        # The write of a new butler (a process that has not written there yet) cleans the folder.
        with Butler(repo.root, writeable=True) as butler:
            butler.put({"d": 8}, "det_summary", instrument="SimCam", detector=8, run=RUN)
        assert not stale.exists()
        assert fresh.exists()  # too recent to judge (another host may use that pid)
        assert living.exists()  # its process is alive
        assert own.exists()  # this process's own
        assert all(p.exists() for p in unrelated)
    finally:
        live.kill()
        live.wait()


def test_files_already_inside_the_root_through_a_linked_directory_are_refused(repo: Repo) -> None:
    # transfer auto/None keeps files that are inside the root where they are; a directory of the
    # repository that is a link to elsewhere is not inside it.
    elsewhere = repo.outside / "incoming"
    shutil.copytree(repo.raws, elsewhere)
    (repo.root / "incoming").symlink_to(elsewhere, target_is_directory=True)
    with Butler(repo.root, writeable=True) as butler:
        butler.registry.register_run("SimCam/raw/inplace")
    before = repo.snapshot()
    result = run_cli("ingest-raws", repo.root, repo.root / "incoming", "--run", "SimCam/raw/inplace")
    files = sorted((repo.root / "incoming").glob("*.fits"))
    _refused_per_file(result, files, "outside the datastore root", str(elsewhere.resolve()))
    assert repo.snapshot() == before


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("../escaped", "%2E%2E/escaped"),
        ("a/../../b", "a/%2E%2E/%2E%2E/b"),
        ("/abs", "%/abs"),
        ("a//b", "a/%/b"),
        ("./x", "%2E/x"),
        ("%2e%2e/x", "%252e%252e/x"),
        ("a\\b/c", "a%5Cb/c"),
        ("HSC/runs/RC2/w_2024_10/DM-12345", "HSC/runs/RC2/w_2024_10/DM-12345"),
    ],
)
def test_run_levels_of_a_template_are_escaped_one_by_one(run: str, expected: str) -> None:
    dataset_type = DatasetType("summary", ["instrument"], "StructuredDataDict", DimensionUniverse.default())
    data_id = DataCoordinate.standardize({"instrument": "Cam"}, dimensions=dataset_type.dimensions)
    ref = DatasetRef(dataset_type, data_id, run, uuid.uuid4())
    path = FileTemplate("{run:/}/{datasetType}/{instrument}").format(ref)
    assert path == f"{expected}/summary/Cam"
    assert not {".", ".."} & set(path.split("/"))


def test_run_name_too_long_for_file_names_is_refused_before_any_directory(repo: Repo) -> None:
    """A valid 255-character run flattens into a file name longer than the file system allows."""
    run = "a" * 127 + "/" + "b" * 127
    before = repo.snapshot()
    result = run_cli("ingest-raws", repo.root, repo.raws, "--run", run)
    assert result.exit_code == 1
    assert "more than the 255 a file name may have" in result.output + result.stderr
    assert "Errno" not in result.output + result.stderr
    after = repo.snapshot()
    # No directory was made for it (the run itself is registered by ingest-raws before the files).
    assert after[1] == before[1]
