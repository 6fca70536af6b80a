"""The Rubin-parity commands doing their job: associate, disassociate, decertify, remove-collections,
remove-dataset-type, ingest-files, config-dump; simulate-raws batches; collection globs in the API.

Each runs on SQLite and PostgreSQL (the ``database`` fixture) on a tiny SimCam repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import astropy.time
import pytest
import yaml
from click.testing import CliRunner, Result

from chamberlain.butler import Butler
from chamberlain.cli import cli
from chamberlain.errors import MissingCollectionError
from chamberlain.geometry import Timespan
from chamberlain.instrument import simulate_raws
from chamberlain.registry import CollectionType

RAW_RUN = "SimCam/raw/all"


def run(*args: Any, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="chamberlain", input=input)


def ok(*args: Any, input: str | None = None) -> str:
    result = run(*args, input=input)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.output


@pytest.fixture(scope="module")
def raws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parity_raws")
    simulate_raws(out, 2, seed=3, image_size=16, detectors=[0, 8])
    return out


@pytest.fixture
def repo(database: Any, tmp_path: Path, raws: Path) -> Iterator[Path]:
    root = tmp_path / "repo"
    args: list[Any] = ["create", root]
    if database.backend == "postgresql":
        args += ["--db", database.url, "--namespace", database.namespace]
    ok(*args)
    ok("ingest-raws", root, raws, "--transfer", "copy")
    yield root


def tai(text: str) -> astropy.time.Time:
    return astropy.time.Time(text, scale="tai")


def ids_in(root: Path, collection: str, **kwargs: Any) -> set[Any]:
    with Butler(root) as butler:
        return {r.id for r in butler.query_datasets("raw", collection, find_first=False, **kwargs)}


def test_associate_and_disassociate(repo: Path) -> None:
    out = ok(
        "associate",
        repo,
        "u/best",
        "--collections",
        "SimCam/raw/*",
        "--datasets",
        "raw",
        "--where",
        "detector = 0",
    )
    assert "2 dataset(s)" in out
    with Butler(repo) as butler:
        assert butler.registry.get_collection_type("u/best") is CollectionType.TAGGED
        det0 = {r.id for r in butler.query_datasets("raw", RAW_RUN, where="detector = 0")}
    assert ids_in(repo, "u/best") == det0
    # Associating again (and more) keeps what is there.
    out = ok("associate", repo, "u/best", "--collections", RAW_RUN, "--dataset-type", "raw")
    assert "4 dataset(s)" in out and "2 already in it" in out
    assert ids_in(repo, "u/best") == ids_in(repo, RAW_RUN)
    assert len(ids_in(repo, "u/best")) == 4
    out = ok("disassociate", repo, "u/best", "--collections", "u/best", "--where", "exposure.seq_num = 1")
    assert "Disassociated 2 dataset(s)" in out and "0 selected" in out
    with Butler(repo) as butler:
        kept = {r.id for r in butler.query_datasets("raw", RAW_RUN, where="exposure.seq_num != 1")}
    assert ids_in(repo, "u/best") == kept and len(kept) == 2
    assert len(ids_in(repo, RAW_RUN)) == 4  # the datasets themselves stay
    # Selected datasets that the collection does not hold are counted apart.
    out = ok("disassociate", repo, "u/best", "--collections", RAW_RUN)
    assert "Disassociated 2 dataset(s)" in out and "2 selected one(s) were not in it" in out
    assert ids_in(repo, "u/best") == set()


@pytest.fixture
def calib(repo: Path, raws: Path, tmp_path: Path) -> Path:
    ok("register-dataset-type", repo, "bias", "Exposure", "instrument", "detector", "--is-calibration")
    names = (
        sorted(p.name for p in raws.glob("*_R00_S00.fits"))[:1]
        + sorted(p.name for p in raws.glob("*_R00_S22.fits"))[:1]
    )
    table = tmp_path / "biases.ecsv"
    table.write_text(
        "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: file, datatype: string}\n"
        "# - {name: detector, datatype: int64}\n"
        f"file detector\n{raws / names[0]} 0\n{raws / names[1]} 8\n"
    )
    ok("ingest-files", repo, "bias", "calib/run", table, "--data-id", "instrument=SimCam")
    ok(
        "certify-calibrations",
        repo,
        "calib/run",
        "calib",
        "bias",
        "--begin-date",
        "2025-01-01",
        "--end-date",
        "2026-01-01",
    )
    return repo


def _bias_at(root: Path, when: str, detector: int) -> Any:
    with Butler(root) as butler:
        moment = tai(when)
        return butler.find_dataset(
            "bias",
            instrument="SimCam",
            detector=detector,
            collections="calib",
            timespan=Timespan(moment, tai(moment.isot[:10] + "T00:00:01")),
        )


def test_decertify_splits_a_range(calib: Path) -> None:
    before = _bias_at(calib, "2025-03-10", 0)
    assert before is not None
    ok(
        "decertify", calib, "calib", "bias", "--begin-date", "2025-03-01", "--end-date", "2025-04-01",
        "--data-id", "instrument=SimCam", "--data-id", "detector=R00_S00",
    )  # fmt: skip
    assert _bias_at(calib, "2025-03-10", 0) is None  # the hole
    assert _bias_at(calib, "2025-02-10", 0) == before  # left piece
    assert _bias_at(calib, "2025-05-10", 0) == before  # right piece
    assert _bias_at(calib, "2025-03-10", 8) is not None  # the other detector is untouched
    ok("decertify", calib, "calib", "bias")  # no dates: every range goes
    assert _bias_at(calib, "2025-02-10", 0) is None and _bias_at(calib, "2025-03-10", 8) is None


def test_remove_collections(calib: Path) -> None:
    ok("associate", calib, "tagged", "--collections", RAW_RUN)
    ok("collection-chain", calib, "outer", "tagged", "calib")
    out = ok("remove-collections", calib, "outer", "tagged", input="y\n")
    assert "outer" in out and "CHAINED" in out and "Removed 2 collection(s)" in out
    ok("collection-chain", calib, "keep", "calib")
    result = run("remove-collections", calib, "calib*", "--unlink-from-chains", "--no-confirm")
    assert result.exit_code == 0, result.output
    assert "'calib/run'" in result.stderr and "stay" in result.stderr  # the RUN it also matches is kept
    with Butler(calib) as butler:
        names = set(butler.registry.query_collections("*"))
        assert butler.registry.get_collection_chain("keep") == []
    assert names == {RAW_RUN, "calib/run", "keep"}
    assert len(ids_in(calib, RAW_RUN)) == 4


def test_remove_dataset_type(calib: Path) -> None:
    ok("register-dataset-type", calib, "notes", "StructuredDataDict", "instrument")
    ok("register-dataset-type", calib, "notes2", "StructuredDataDict", "instrument")
    assert "2 dataset type(s)" in ok("remove-dataset-type", calib, "notes", "notes2")
    with Butler(calib) as butler:
        assert {t.name for t in butler.registry.query_dataset_types("*")} == {"raw", "bias"}


def test_ingest_files_relative_paths_and_defaults(repo: Path, raws: Path, tmp_path: Path) -> None:
    ok("register-dataset-type", repo, "flat", "Exposure", "instrument", "detector", "physical_filter")
    tables = tmp_path / "tables"
    (tables / "sub").mkdir(parents=True)
    source = sorted(raws.glob("*_R00_S00.fits"))[0]
    (tables / "sub" / "f.fits").write_bytes(source.read_bytes())
    (tables / "flats.csv").write_text(
        f"file,detector,physical_filter\nsub/f.fits,0,SimCam-r\n{source},8,SimCam-g\n"
    )
    out = ok(
        "ingest-files", repo, "flat", "flats/run", tables / "flats.csv", "--data-id", "instrument=SimCam",
        "--id-generation-mode", "DATAID_TYPE_RUN",
    )  # fmt: skip
    assert "2 'flat' dataset(s)" in out
    with Butler(repo, collections="flats/run") as butler:
        refs = list(butler.query_datasets("flat"))
        assert {(r.data_id["detector"], r.data_id["physical_filter"]) for r in refs} == {
            (0, "SimCam-r"),
            (8, "SimCam-g"),
        }
        for ref in refs:
            path = Path(butler.get_uri(ref))
            assert repo.resolve() in path.resolve().parents
    assert (tables / "sub" / "f.fits").exists() and source.exists()  # auto copies from outside


def test_config_dump(repo: Path, tmp_path: Path) -> None:
    dumped = yaml.safe_load(ok("config-dump", repo))
    assert dumped["repository"]["root"] == str(repo.absolute())
    assert dumped["datastore"]["checksum"] is False
    assert "default" in dumped["datastore"]["templates"] and "raw" in dumped["datastore"]["templates"]
    assert dumped["datastore"]["formatters"]["Exposure"]
    assert dumped["files"] == {"chamberlain.yaml": True, "datastore.yaml": False}
    (repo / "datastore.yaml").write_text(
        yaml.safe_dump({"templates": {"bias": "{run}/b/{detector}"}, "formatters": {"Image": "fits_image"},
                        "checksum": True})
    )  # fmt: skip
    out_file = tmp_path / "dump.yaml"
    ok("config-dump", repo, "--file", out_file)
    dumped = yaml.safe_load(out_file.read_text())
    assert dumped["datastore"]["templates"]["bias"] == "{run}/b/{detector}"
    assert "default" in dumped["datastore"]["templates"]
    assert dumped["datastore"]["checksum"] is True
    assert dumped["files"]["datastore.yaml"] is True


def test_config_dump_hides_passwords(tmp_path: Path) -> None:
    with Butler.create(tmp_path / "r") as butler:
        object.__setattr__(butler.config, "db", "postgresql://user:s3cret@127.0.0.1:5432/db")
        dumped = butler.dump_config()
    assert "s3cret" not in yaml.safe_dump(dumped)
    assert dumped["repository"]["url"].startswith("postgresql://user:")


def test_two_simulated_batches_ingest_into_one_repository(database: Any, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    args: list[Any] = ["create", root]
    if database.backend == "postgresql":
        args += ["--db", database.url, "--namespace", database.namespace]
    ok(*args)
    common = ["-n", 2, "--image-size", 16, "--detector", 4]
    ok("simulate-raws", tmp_path / "b1", *common)
    ok("simulate-raws", tmp_path / "b2", *common, "--start-date", "2025-04-02")
    ok("simulate-raws", tmp_path / "b3", *common, "--first-seq", 50)
    for batch in ("b1", "b2", "b3"):
        out = ok("ingest-raws", root, tmp_path / batch)
        assert "2 raw file(s)" in out and "0 failed" in out
    with Butler(root) as butler:
        records = list(butler.query_dimension_records("exposure"))
    assert len({r.id for r in records}) == 6
    assert {r.day_obs for r in records} == {20250314, 20250402}
    assert sorted(r.seq_num for r in records if r.day_obs == 20250314) == [1, 2, 50, 51]


def test_start_date_is_the_observing_day(tmp_path: Path) -> None:
    ok(
        "simulate-raws",
        tmp_path / "b",
        "-n",
        1,
        "--image-size",
        8,
        "--detector",
        0,
        "--start-date",
        "2024-12-31",
    )
    (path,) = list((tmp_path / "b").glob("*.fits"))
    assert "_20241231_000001_" in path.name
    result = run("simulate-raws", tmp_path / "c", "--start-date", "2024-02-30")
    assert result.exit_code == 1 and "2024-02-30" in result.stderr


def test_api_query_calls_expand_collection_globs(repo: Path) -> None:
    with Butler(repo) as butler:
        butler_all = {r.id for r in butler.query_datasets("raw", RAW_RUN)}
        assert {r.id for r in butler.query_datasets("raw", "SimCam/*")} == butler_all
        assert {r.id for r in butler.query_datasets("raw", ["Sim?am/raw/a[l]l"])} == butler_all
        ids = list(
            butler.query_data_ids(["exposure", "detector"], datasets="raw", collections="SimCam/raw/*")
        )
        assert len(ids) == 4
        with pytest.raises(MissingCollectionError, match="nomatch"):
            butler.query_datasets("raw", "nomatch*")
    with Butler(repo, collections="SimCam/*") as butler:  # default collections may be patterns too
        assert {r.id for r in butler.query_datasets("raw")} == butler_all
