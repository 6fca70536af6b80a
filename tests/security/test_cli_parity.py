"""Hostile inputs to the Rubin-parity commands: each is refused in one line and changes nothing.

Commands: associate, disassociate, decertify, remove-collections, remove-dataset-type,
ingest-files, config-dump, and the register-dataset-type / export / certify-calibrations
fixes of issue #11 (unknown storage class, missing export directory, out-of-range dates).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _security import RAW_RUN, Repo, refused, run_cli


def _ok(*args: object, input: str | None = None) -> str:
    result = run_cli(*args, input=input)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.output


@pytest.fixture
def calib_repo(repo: Repo) -> Repo:
    """The repository plus a calibration type 'bias' (two datasets in run calib/run) certified in 'calib'."""
    _ok("register-dataset-type", repo.root, "bias", "Exposure", "instrument", "detector", "--is-calibration")
    table = repo.raws / "biases.csv"
    names = sorted(p.name for p in repo.raws.glob("*.fits"))
    table.write_text(f"file,detector\n{names[0]},0\n{names[1]},8\n")
    _ok("ingest-files", repo.root, "bias", "calib/run", table, "--data-id", "instrument=SimCam")
    _ok("certify-calibrations", repo.root, "calib/run", "calib", "bias", "--begin-date", "2025-01-01")
    _ok("collection-chain", repo.root, "chain", RAW_RUN)
    return repo


# --- associate / disassociate -----------------------------------------------------------------


_ASSOCIATE_SELECTIONS = [
    (["--collections", "no/such/run"], ["no/such/run"]),
    (["--collections", "zz*"], ["zz*", "matches no collection"]),
    (["--collections", RAW_RUN, "--datasets", "nosuch"], ["nosuch"]),
    (["--collections", RAW_RUN, "--dataset-type", "zz*"], ["zz*", "raw"]),
    (["--collections", RAW_RUN, "--where", "detector = 77"], ["detector = 77", "nothing was changed"]),
    (["--collections", RAW_RUN, "--where", "detector = = 1"], []),
]


def test_associate_refuses_selections(repo: Repo) -> None:
    before = repo.snapshot()
    for args, naming in _ASSOCIATE_SELECTIONS:
        refused(run_cli("associate", repo.root, "tagged", *args), *naming)
    assert repo.snapshot() == before  # in particular no TAGGED 'tagged' was created


def test_associate_refuses_non_tagged_target(calib_repo: Repo) -> None:
    repo = calib_repo
    before = repo.snapshot()
    for target, kind in ((RAW_RUN, "RUN"), ("calib", "CALIBRATION"), ("chain", "CHAINED")):
        refused(run_cli("associate", repo.root, target, "--collections", RAW_RUN), target, kind, "TAGGED")
    refused(run_cli("associate", repo.root, "bad*name", "--collections", RAW_RUN), "bad*name")
    assert repo.snapshot() == before


def test_disassociate_refuses(calib_repo: Repo) -> None:
    repo = calib_repo
    _ok("associate", repo.root, "tagged", "--collections", RAW_RUN)
    before = repo.snapshot()
    refused(run_cli("disassociate", repo.root, "no/such", "--collections", RAW_RUN), "no/such")
    refused(run_cli("disassociate", repo.root, RAW_RUN, "--collections", RAW_RUN), RAW_RUN, "RUN")
    refused(run_cli("disassociate", repo.root, "calib", "--collections", RAW_RUN), "calib", "CALIBRATION")
    refused(run_cli("disassociate", repo.root, "tagged", "--collections", "q*"), "q*")
    assert repo.snapshot() == before


# --- decertify and dates --------------------------------------------------------------------------


_DECERTIFY_CASES = [
    (["no/such", "bias"], ["no/such"]),
    ([RAW_RUN, "bias"], [RAW_RUN, "RUN", "CALIBRATION"]),
    (["calib", "nosuch"], ["nosuch"]),
    (["calib", "raw"], ["raw", "calibration"]),
    (
        ["calib", "bias", "--begin-date", "1500-01-01"],
        ["1500-01-01", "outside the supported range", "1677"],
    ),
    (["calib", "bias", "--end-date", "2262-04-12"], ["2262-04-12", "outside the supported range"]),
    (["calib", "bias", "--begin-date", "yesterday"], ["yesterday", "not an ISO date"]),
    (["calib", "bias", "--begin-date", "2025-05-01", "--end-date", "2025-04-01"], ["2025-04-01"]),
    (["calib", "bias", "--data-id", "detector"], ["detector", "KEY=VALUE"]),
    (["calib", "bias", "--data-id", "detector=0"], ["instrument"]),
    (["calib", "bias", "--data-id", "instrument=SimCam", "--data-id", "detector=R99_S99"], ["R99_S99"]),
    (["calib", "bias", "--data-id", "detector=0", "--data-id", "detector=8"], ["detector"]),
]


def test_decertify_refuses(calib_repo: Repo) -> None:
    repo = calib_repo
    before = repo.snapshot()
    for args, naming in _DECERTIFY_CASES:
        refused(run_cli("decertify", repo.root, *args), *naming)
    assert repo.snapshot() == before


def test_certify_out_of_range_date_says_range(calib_repo: Repo) -> None:
    repo = calib_repo
    before = repo.snapshot()
    line = refused(
        run_cli(
            "certify-calibrations", repo.root, "calib/run", "calib2", "bias", "--begin-date", "1500-01-01"
        ),
        "1500-01-01",
        "1677-09-21",
        "2262-04-11",
    )
    assert "not an ISO date" not in line
    assert repo.snapshot() == before


# --- remove-collections / remove-dataset-type -----------------------------------------------------


def test_remove_collections_refuses(calib_repo: Repo) -> None:
    repo = calib_repo
    _ok("associate", repo.root, "tagged", "--collections", RAW_RUN)
    _ok("collection-chain", repo.root, "outer", "tagged")
    before = repo.snapshot()
    refused(run_cli("remove-collections", repo.root, "zz*", "--no-confirm"), "zz*")
    refused(run_cli("remove-collections", repo.root, "no/such", "--no-confirm"), "no/such")
    refused(run_cli("remove-collections", repo.root, RAW_RUN, "--no-confirm"), RAW_RUN, "RUN", "remove-runs")
    refused(run_cli("remove-collections", repo.root, "calib/*", "--no-confirm"), "calib/run", "RUN")
    # 'tagged' is in 'outer', which is not being removed.
    refused(run_cli("remove-collections", repo.root, "tagged", "--no-confirm"), "tagged", "outer")
    # Two patterns, the second bad: the first is not removed either.
    refused(run_cli("remove-collections", repo.root, "calib", "zz*", "--no-confirm"), "zz*")
    assert repo.snapshot() == before


def test_remove_collections_declined_changes_nothing(calib_repo: Repo) -> None:
    repo = calib_repo
    before = repo.snapshot()
    result = run_cli("remove-collections", repo.root, "calib", "chain", input="n\n")
    assert result.exit_code == 0, result.output
    assert "calib" in result.output and "Aborted" in result.output
    assert repo.snapshot() == before


def test_remove_dataset_type_refuses(calib_repo: Repo) -> None:
    repo = calib_repo
    _ok("register-dataset-type", repo.root, "empty_type", "StructuredDataDict", "instrument")
    before = repo.snapshot()
    refused(run_cli("remove-dataset-type", repo.root, "raw"), "'raw'", "4 dataset(s)")
    refused(run_cli("remove-dataset-type", repo.root, "bias"), "'bias'", "2 dataset(s)")
    refused(run_cli("remove-dataset-type", repo.root, "nosuch"), "nosuch")
    refused(run_cli("remove-dataset-type", repo.root, "r*"), "r*")
    # All or nothing: the empty type is not removed when another name is refused.
    refused(run_cli("remove-dataset-type", repo.root, "empty_type", "raw"), "raw")
    refused(run_cli("remove-dataset-type", repo.root, "empty_type", "nosuch"), "nosuch")
    assert repo.snapshot() == before


# --- register-dataset-type ------------------------------------------------------------------------


def test_register_dataset_type_refuses_unknown_storage_class(repo: Repo) -> None:
    before = repo.snapshot()
    for storage_class in ("NoSuchClass", "exposure", "../Exposure"):
        refused(
            run_cli("register-dataset-type", repo.root, "calexp", storage_class, "instrument", "detector"),
            repr(storage_class),
            "'Exposure'",
            "'StructuredDataDict'",
        )
    assert repo.snapshot() == before


# --- ingest-files -----------------------------------------------------------------------------


@pytest.fixture
def bias_repo(repo: Repo) -> Repo:
    _ok("register-dataset-type", repo.root, "bias", "Exposure", "instrument", "detector", "--is-calibration")
    return repo


def _raw_names(repo: Repo) -> list[str]:
    return sorted(p.name for p in repo.raws.glob("*.fits"))


_BAD_TABLES = [
    ("path,detector\n{0},0\n", ["'file'", "'path'"]),
    ("file,colour\n{0},red\n", ["colour", "detector"]),
    ("file,detector\n{0},99\n", ["99"]),
    ("file,detector\nnot_there.fits,0\n", ["not_there.fits"]),
    ("file,detector\n", ["no rows"]),
    ("file,detector\n{0},0\n{1},0\n", ["bias"]),
    ("file,detector\n,0\n", ["empty"]),
]


def test_ingest_files_refuses_bad_tables(bias_repo: Repo) -> None:
    repo = bias_repo
    tables = []
    for i, (text, _) in enumerate(_BAD_TABLES):
        table = repo.raws / f"table{i}.csv"
        table.write_text(text.format(*_raw_names(repo)))
        tables.append(table)
    before = repo.snapshot()
    for table, (_, naming) in zip(tables, _BAD_TABLES, strict=True):
        refused(
            run_cli("ingest-files", repo.root, "bias", "calib/run", table, "--data-id", "instrument=SimCam"),
            *naming,
        )
    assert repo.snapshot() == before  # no run registered, no file copied


def test_ingest_files_refuses_bad_arguments(bias_repo: Repo) -> None:
    repo = bias_repo
    table = repo.raws / "table.csv"
    table.write_text(f"file,detector\n{_raw_names(repo)[0]},0\n")
    _ok("collection-chain", repo.root, "chain", RAW_RUN)
    garbage = repo.raws / "garbage.ecsv"
    garbage.write_text("# %ECSV 1.0\n# ---\n# not yaml: [\nfile\n")
    before = repo.snapshot()
    base = ("ingest-files", repo.root)
    refused(run_cli(*base, "nosuch", "calib/run", table, "--data-id", "instrument=SimCam"), "nosuch")
    refused(run_cli(*base, "bias", "chain", table, "--data-id", "instrument=SimCam"), "chain", "CHAINED")
    refused(run_cli(*base, "bias", "calib/run", table), "instrument")
    refused(run_cli(*base, "bias", "calib/run", repo.raws / "nope.csv"), "nope.csv")
    refused(
        run_cli(
            *base, "bias", "calib/run", table, "--data-id", "instrument=SimCam", "--formatter", "nosuch_fmt"
        ),
        "nosuch_fmt",
    )
    refused(run_cli(*base, "bias", "bad*run", table, "--data-id", "instrument=SimCam"), "bad*run")
    refused(run_cli(*base, "bias", "calib/run", garbage, "--data-id", "instrument=SimCam"), "garbage.ecsv")
    assert repo.snapshot() == before


def test_ingest_files_keeps_datastore_target_inside_repo(bias_repo: Repo) -> None:
    """A source outside the table's directory is the user's file: it is copied into the repository."""
    repo = bias_repo
    source = repo.outside / "bias_outside.fits"
    source.write_bytes((repo.raws / _raw_names(repo)[0]).read_bytes())
    tables = repo.root.parent / "tables"
    tables.mkdir()
    table = tables / "t.csv"
    table.write_text("file,detector\n../outside/bias_outside.fits,0\n")
    _ok("ingest-files", repo.root, "bias", "calib/run", table, "--data-id", "instrument=SimCam")
    from chamberlain.butler import Butler

    with Butler(repo.root, collections="calib/run") as butler:
        uri = Path(butler.get_uri("bias", instrument="SimCam", detector=0))
    assert repo.root.resolve() in uri.resolve().parents
    assert source.read_bytes() == uri.read_bytes()
    assert (repo.outside / "precious.txt").read_text() == "not the repository's\n"


# --- config-dump and export ---------------------------------------------------------------------


def test_config_dump_is_read_only_and_refuses_targets_in_repo(repo: Repo) -> None:
    before = repo.snapshot()
    out = _ok("config-dump", repo.root)
    assert str(repo.root) in out and "templates" in out
    for target in (repo.root / "dump.yaml", repo.root / "chamberlain.yaml", repo.root / "SimCam" / "x.yaml"):
        refused(run_cli("config-dump", repo.root, "--file", target), str(target), "inside the repository")
    missing = repo.root.parent / "no_dir" / "dump.yaml"
    refused(run_cli("config-dump", repo.root, "--file", missing), str(missing), "does not exist")
    assert repo.snapshot() == before


def test_export_to_missing_directory_names_the_target(repo: Repo) -> None:
    before = repo.snapshot()
    target = repo.root.parent / "nonexistent_dir" / "x.yaml"
    line = refused(run_cli("export", repo.root, target), str(target), "does not exist")
    assert ".tmp" not in line
    deeper = repo.root.parent / "a" / "b" / "c.yaml"
    refused(run_cli("export", repo.root, deeper), str(deeper), str(deeper.parent))
    under_file = repo.outside / "precious.txt" / "x.yaml"
    refused(run_cli("export", repo.root, under_file), str(under_file), "is not a directory")
    assert repo.snapshot() == before
