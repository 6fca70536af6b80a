"""`create`, `verify --fix`, `demo` and `prune-datasets` never delete what is not theirs (issue #11).

Every test snapshots the whole test directory (and the repository's tables) before the
attempt and compares afterwards: a refusal changes nothing; `verify --fix` removes exactly
the files the datastore made and nobody recorded.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from _security import RAW_RUN, Repo, file_tree, refused, run_cli

import chamberlain.demo
from chamberlain.butler import Butler
from chamberlain.datasets import DatasetType
from chamberlain.errors import ConfigError

# --- helpers ------------------------------------------------------------------------------


def _create_args(database: Any, root: Path) -> list[Any]:
    args: list[Any] = ["create", root]
    if database.backend == "postgresql":
        args += ["--db", database.url, "--namespace", database.namespace]
    return args


def _records_table(repo: Repo, conn: sa.Connection) -> sa.Table:
    return sa.Table("datastore_record", sa.MetaData(), schema=repo.database.namespace, autoload_with=conn)


def _raw_paths(repo: Repo) -> list[str]:
    engine = sa.create_engine(repo.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            table = _records_table(repo, conn)
            return sorted(conn.execute(sa.select(table.c.path)).scalars())
    finally:
        engine.dispose()


def _respell(repo: Repo, spellings: dict[str, str]) -> None:
    """Rewrite record paths in place (as a repository written by an older, unvalidated version)."""
    engine = sa.create_engine(repo.url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            table = _records_table(repo, conn)
            for old, new in spellings.items():
                conn.execute(sa.update(table).where(table.c.path == old).values(path=new))
    finally:
        engine.dispose()


def _nested_repository(tmp_path: Path, name: str) -> Path:
    """A complete SQLite repository with a dataset file, made outside and returned (to be copied in)."""
    made = tmp_path / "elsewhere" / name
    with Butler.create(made, run="theirs") as butler:
        butler.registry.register_dataset_type(
            DatasetType("notes", [], "StructuredDataDict", butler.registry.universe)
        )
        butler.put({"a": 1}, "notes", {}, run="theirs")
    return made


@pytest.fixture
def shared_dir_repo(database: Any, tmp_path: Path, simulated_raws: Path) -> Repo:
    """A repository created (on each backend) in a directory that already held the user's files."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "notes.txt").write_text("mine\n")
    (root / "docs" / "paper.tex").write_text("\\begin{document}\n")
    # A user file exactly where the raw run's folder will be: the run folder does not make it ours.
    (root / "SimCam" / "raw" / "all").mkdir(parents=True)
    (root / "SimCam" / "raw" / "all" / "mine.txt").write_text("pre-existing, under a future run folder\n")
    result = run_cli(*_create_args(database, root), "--allow-existing-files")
    assert result.exit_code == 0, result.output
    raws = tmp_path / "raws"
    shutil.copytree(simulated_raws, raws)
    result = run_cli("ingest-raws", root, raws, "--transfer", "copy")
    assert result.exit_code == 0, result.output
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("not the repository's\n")
    return Repo(root, database, raws, outside)


# --- verify --fix ---------------------------------------------------------------------------


def test_verify_fix_deletes_only_the_datastores_own_orphans(shared_dir_repo: Repo, tmp_path: Path) -> None:
    repo = shared_dir_repo
    root = repo.root
    run_dir = root / RAW_RUN
    # Added after creation, outside any run folder: not the datastore's.
    (root / "later.txt").write_text("added later\n")
    (root / "SimCam" / "later.txt").write_text("beside the run folder, not in it\n")
    (root / "docs" / "figure.png").write_bytes(b"\x89PNG")
    # Nested repositories, one at the top and one inside the run folder, with their databases.
    shutil.copytree(_nested_repository(tmp_path, "a"), root / "nested")
    shutil.copytree(_nested_repository(tmp_path, "b"), run_dir / "inner")
    # The datastore's own leftovers: an unrecorded file in the run folder and stale temporary files.
    (run_dir / "stray.fits").write_bytes(b"SIMPLE  = T")
    # Stale: processes that do not exist (a pid above the kernel's maximum), last written an hour ago.
    dead = _dead_pid()
    for stale in (run_dir / f".raw_x.fits.tmp-{dead}", root / f".orphan.json.tmp-{dead}"):
        stale.write_bytes(b"half")
        os.utime(stale, (time.time() - 3600, time.time() - 3600))
    # A write in progress: a live process's temporary (even an old one) is never touched.
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    in_progress = run_dir / f".raw_y.fits.tmp-{live.pid}"
    in_progress.write_bytes(b"being written")
    os.utime(in_progress, (time.time() - 3600, time.time() - 3600))
    # An unrecorded link in the run folder pointing at a file outside: the link goes, never the target.
    (run_dir / "link.fits").symlink_to(repo.outside / "precious.txt")
    (run_dir / "linkdir").symlink_to(repo.outside, target_is_directory=True)
    tables_before, files_before = repo.snapshot()
    rel = f"repo/{RAW_RUN}"
    ours = {
        f"{rel}/stray.fits",
        f"{rel}/.raw_x.fits.tmp-{dead}",
        f"repo/.orphan.json.tmp-{dead}",
        f"{rel}/link.fits",
    }
    assert ours <= set(files_before)

    try:
        result = run_cli("verify", root, "--fix")
    finally:
        live.kill()
        live.wait()

    assert result.exit_code == 0, result.output + result.stderr
    assert in_progress.read_bytes() == b"being written"
    tables_after, files_after = repo.snapshot()
    assert tables_after == tables_before
    assert files_after == {k: v for k, v in files_before.items() if k not in ours}
    assert (repo.outside / "precious.txt").read_text() == "not the repository's\n"
    assert "unrecorded (not owned; left alone)" in result.output
    for shown in ("later.txt", "SimCam/later.txt", "docs/figure.png"):
        assert shown in result.output
    assert "nested" in result.output and f"{RAW_RUN}/inner" in result.output
    # The pre-existing files are recorded as not owned, not reported as problems.
    assert "mine.txt" not in result.output and "paper.tex" not in result.output
    # The nested repositories still open and read.
    for nested in (root / "nested", run_dir / "inner"):
        with Butler(nested, collections="theirs") as butler:
            assert butler.get("notes", {}) == {"a": 1}


def test_verify_reports_nothing_for_a_clean_shared_directory(shared_dir_repo: Repo) -> None:
    before = shared_dir_repo.snapshot()
    result = run_cli("verify", shared_dir_repo.root, "--fix")
    assert result.exit_code == 0, result.stderr
    assert result.output.strip() == "OK"
    assert shared_dir_repo.snapshot() == before


@pytest.mark.parametrize(
    "respell",
    [
        lambda p, root: p.replace("/raw/", "/./raw/", 1),
        lambda p, root: "./" + p,
        lambda p, root: p.replace("/raw/", "/raw/../raw/", 1),
        lambda p, root: p.replace("/", "//", 1),
        lambda p, root: f"{root}/{p}",
    ],
    ids=["dot-segment", "leading-dot", "dot-dot-back", "double-slash", "absolute-inside"],
)
def test_verify_fix_keeps_a_file_whose_record_spells_its_path_differently(repo: Repo, respell: Any) -> None:
    paths = _raw_paths(repo)
    _respell(repo, {paths[0]: respell(paths[0], repo.root)})
    before = repo.snapshot()
    result = run_cli("verify", repo.root, "--fix")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.strip() == "OK"
    assert repo.snapshot() == before
    assert (repo.root / paths[0]).is_file()


def test_verify_fix_keeps_a_file_recorded_through_a_linked_directory(repo: Repo) -> None:
    paths = _raw_paths(repo)
    (repo.root / "alias").symlink_to(repo.root / "SimCam", target_is_directory=True)
    _respell(repo, {paths[1]: "alias/" + paths[1].removeprefix("SimCam/")})
    before = repo.snapshot()
    result = run_cli("verify", repo.root, "--fix")
    assert result.exit_code == 0, result.output + result.stderr
    assert repo.snapshot() == before


@pytest.mark.parametrize("escape", ["../outside/precious.txt", "SimCam/../../outside/precious.txt", ".", ""])
def test_verify_fix_reports_a_record_leading_out_of_the_root_and_touches_nothing(
    repo: Repo, escape: str
) -> None:
    engine = sa.create_engine(repo.url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            table = _records_table(repo, conn)
            row = conn.execute(sa.select(table).limit(1)).mappings().one()
            conn.execute(sa.insert(table).values({**row, "component": "escape", "path": escape}))
    finally:
        engine.dispose()
    before = repo.snapshot()
    result = run_cli("verify", repo.root, "--fix")
    refused(result, "leads out of the root")
    assert repo.snapshot() == before
    assert (repo.outside / "precious.txt").read_text() == "not the repository's\n"


def test_verify_fix_in_a_run_named_dot_deletes_no_recorded_file(database: Any, tmp_path: Path) -> None:
    """Finding 4: a run named '.' stored its files as './<type>/...'; they are not orphans."""
    root = tmp_path / "repo"
    assert run_cli(*_create_args(database, root)).exit_code == 0
    with Butler(root, run="good") as butler:
        butler.registry.register_dataset_type(
            DatasetType("notes", [], "StructuredDataDict", butler.registry.universe)
        )
        butler.put({"n": 1}, "notes", {})
    repo = Repo(root, database, tmp_path, tmp_path)
    (stored,) = _raw_paths(repo)
    assert stored.startswith("good/")
    # Make it the repository an older version wrote for a run named '.': run name, file and record.
    os.rename(root / "good", root / "dotrun")
    os.rename(root / "dotrun" / stored.split("/")[1], root / stored.split("/")[1])
    _respell(repo, {stored: "./" + stored.removeprefix("good/")})
    engine = sa.create_engine(repo.url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            collection = sa.Table("collection", sa.MetaData(), schema=database.namespace, autoload_with=conn)
            conn.execute(sa.update(collection).where(collection.c.name == "good").values(name="."))
    finally:
        engine.dispose()
    (root / "loose.txt").write_text("a user's file at the top\n")
    (root / "docs").mkdir()
    (root / "docs" / "draft.txt").write_text("and one below\n")
    before = repo.snapshot()
    result = run_cli("verify", root, "--fix")
    assert result.exit_code == 0, result.output + result.stderr
    assert "loose.txt" in result.output and "docs/draft.txt" in result.output and "not owned" in result.output
    assert repo.snapshot() == before
    with Butler(root, collections=".") as butler:
        assert butler.get("notes", {}) == {"n": 1}


# --- create ---------------------------------------------------------------------------------


def test_create_refuses_a_non_empty_directory(database: Any, tmp_path: Path) -> None:
    root = tmp_path / "full"
    root.mkdir()
    (root / "thesis.pdf").write_bytes(b"%PDF")
    before = file_tree(tmp_path)
    refused(
        run_cli(*_create_args(database, root)), str(root), "not empty", "thesis.pdf", "--allow-existing-files"
    )
    assert file_tree(tmp_path) == before
    _assert_no_schema(database)


@pytest.mark.parametrize(
    "name", ["datastore.yaml", "chamberlain.sqlite3-wal", "chamberlain-preexisting.json"]
)
def test_create_refuses_a_user_file_named_like_a_repository_file(
    database: Any, tmp_path: Path, name: str
) -> None:
    root = tmp_path / "full"
    root.mkdir()
    (root / name).write_text("the user's\n")
    before = file_tree(tmp_path)
    refused(run_cli(*_create_args(database, root), "--allow-existing-files"), str(root), name)
    assert file_tree(tmp_path) == before
    _assert_no_schema(database)


def test_create_refuses_a_directory_inside_a_repository(repo: Repo) -> None:
    before = repo.snapshot()
    for inner in (repo.root / "inner", repo.root / RAW_RUN / "deeper" / "still"):
        refused(
            run_cli(*_create_args(repo.database, inner)), str(inner), "inside the repository", str(repo.root)
        )
    assert repo.snapshot() == before
    with pytest.raises(ConfigError, match="inside the repository"):
        Butler.create(repo.root / "inner")
    assert repo.snapshot() == before


def test_create_refuses_a_directory_inside_a_repository_through_a_link(repo: Repo, tmp_path: Path) -> None:
    (tmp_path / "door").symlink_to(repo.root, target_is_directory=True)
    before = repo.snapshot()
    refused(run_cli("create", tmp_path / "door" / "inner"), "inside the repository")
    assert repo.snapshot() == before


def test_create_refuses_a_directory_holding_a_repository(database: Any, tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    shutil.copytree(_nested_repository(tmp_path, "theirs"), outer / "data" / "theirs")
    before = file_tree(tmp_path)
    result = run_cli(*_create_args(database, outer), "--allow-existing-files")
    refused(result, str(outer), "data/theirs", "may not contain another")
    assert file_tree(tmp_path) == before
    _assert_no_schema(database)


def test_create_with_an_empty_name_creates_nothing(
    database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = file_tree(tmp_path)
    refused(run_cli(*_create_args(database, "")), "''", "empty")
    refused(run_cli("create", "   "), "empty")
    assert file_tree(tmp_path) == before
    with pytest.raises(ConfigError, match="empty"):
        Butler.create("")
    assert file_tree(tmp_path) == before
    _assert_no_schema(database)


def test_create_allow_existing_files_records_them(database: Any, tmp_path: Path) -> None:
    root = tmp_path / "shared"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "sub" / "b.txt").write_text("b")
    (root / "link").symlink_to(tmp_path, target_is_directory=True)
    before = file_tree(root)
    result = run_cli(*_create_args(database, root), "--allow-existing-files")
    assert result.exit_code == 0, result.stderr
    after = file_tree(root)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing of theirs changed
    listed = json.loads((root / "chamberlain-preexisting.json").read_text())
    assert sorted(listed) == ["a.txt", "link", "sub/b.txt"]


def _assert_no_schema(database: Any) -> None:
    if database.backend != "postgresql":
        return
    engine = sa.create_engine(database.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert database.namespace not in sa.inspect(conn).get_schema_names()
    finally:
        engine.dispose()


# --- demo -----------------------------------------------------------------------------------


def test_demo_refuses_to_replace_a_user_repository(repo: Repo) -> None:
    before = repo.snapshot()
    refused(run_cli("demo", repo.root, "--replace"), str(repo.root), "did not make", ".chamberlain-demo")
    refused(run_cli("demo", repo.root), str(repo.root), "already exists")
    assert repo.snapshot() == before


def test_demo_refuses_to_replace_a_user_directory_or_link(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "chamberlain.yaml").write_text("db: null\n")  # looks like a repository...
    (mine / "data.csv").write_text("1,2\n")  # ...and holds the user's files
    other = tmp_path / "other"
    other.mkdir()
    (other / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "alias").symlink_to(other, target_is_directory=True)
    (tmp_path / "file").write_text("a file\n")
    copied = tmp_path / "copied"  # a copy of the demo's marker alone does not make a demo repository
    copied.mkdir()
    (copied / ".chamberlain-demo").write_text("made by chamberlain demo\n")
    (copied / "thesis.tex").write_text("precious\n")
    before = file_tree(tmp_path)
    for target, needle in (
        (mine, "did not make"),
        (other, "not empty"),
        (copied, "not a demo repository"),
        (tmp_path / "alias", "symbolic link"),
    ):
        refused(run_cli("demo", target, "--replace"), str(target), needle)
    refused(run_cli("demo", tmp_path / "file", "--replace"), "not a directory")
    refused(run_cli("demo", ""), "empty")
    assert file_tree(tmp_path) == before


def test_demo_replaces_only_its_own_repository_and_never_a_sibling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chamberlain.demo, "run", functools.partial(chamberlain.demo.run, n_exposures=2))
    sibling = tmp_path / "d-incoming"
    sibling.mkdir()
    (sibling / "tonight.fits").write_bytes(b"SIMPLE  = T")
    sibling_before = file_tree(sibling)
    demo_dir = tmp_path / "d"

    first = run_cli("demo", demo_dir)
    assert first.exit_code == 0, first.output + first.stderr
    assert (demo_dir / ".chamberlain-demo").is_file()
    assert file_tree(sibling) == sibling_before
    with Butler(demo_dir) as butler:
        assert len(list(butler.query_datasets("raw", RAW_RUN))) == 2 * 9

    (demo_dir / "left-by-the-first-run.txt").write_text("x\n")
    second = run_cli("demo", demo_dir, "--replace")
    assert second.exit_code == 0, second.output + second.stderr
    assert not (demo_dir / "left-by-the-first-run.txt").exists()
    assert file_tree(sibling) == sibling_before
    with Butler(demo_dir) as butler:
        assert len(list(butler.query_datasets("raw", RAW_RUN))) == 2 * 9
    assert set(os.listdir(tmp_path)) == {"d", "d-incoming"}


def test_demo_hint_names_the_command_as_invoked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    venv_command = tmp_path / ".venv" / "bin" / "chamberlain"
    venv_command.parent.mkdir(parents=True)
    venv_command.write_text("#!/bin/sh\n")
    venv_command.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [".venv/bin/chamberlain", "demo"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert chamberlain.demo.command_name() == ".venv/bin/chamberlain"
    monkeypatch.setenv("PATH", str(venv_command.parent))
    assert chamberlain.demo.command_name() == "chamberlain"  # the same file is on PATH
    monkeypatch.setattr(sys, "argv", ["/usr/lib/python3/pytest"])
    assert chamberlain.demo.command_name() == "chamberlain"


# --- prune-datasets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "modes",
    [
        ("--purge", "--unstore"),
        ("--unstore", "--purge"),
        ("--purge", "--disassociate"),
        ("--unstore", "--disassociate"),
        ("--purge", "--unstore", "--disassociate"),
    ],
)
def test_prune_modes_are_exclusive(repo: Repo, modes: tuple[str, ...]) -> None:
    before = repo.snapshot()
    result = run_cli(
        "prune-datasets", repo.root, "raw", "--collections", RAW_RUN, *modes, "--tags", "t", "--no-confirm"
    )
    refused(result, *modes, "cannot be combined")
    assert repo.snapshot() == before


def _dead_pid() -> int:
    """A process ID no process can have: one above the kernel's pid_max."""
    try:
        return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    except OSError:
        return 2**22 + 1


def test_verify_reports_records_reached_through_a_link_out_of_the_root(repo: Repo) -> None:
    """A run folder replaced by a link to an outside copy: verify said OK; now it names the records."""
    recorded = sorted((repo.root / "SimCam").rglob("*.fits"))[0]
    folder = recorded.parent
    moved = repo.outside / "moved"
    shutil.move(str(folder), str(moved))
    folder.symlink_to(moved, target_is_directory=True)
    outside_before = file_tree(repo.outside)
    for args in (("verify", repo.root), ("verify", repo.root, "--fix")):
        result = run_cli(*args)
        assert "records whose path leads out of the root" in result.output + result.stderr
        assert result.output.strip() != "OK"
    assert file_tree(repo.outside) == outside_before
