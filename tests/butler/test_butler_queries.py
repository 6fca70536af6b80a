"""The Butler's query wrappers use the butler's default collections and reach the registry's queries."""

from __future__ import annotations

from pathlib import Path

import pytest
from _populate import add_exposures, add_instrument

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetType
from chamberlain.errors import MissingCollectionError


@pytest.fixture
def butler(tmp_path: Path):
    Butler.create(tmp_path / "repo").close()
    b = Butler(tmp_path / "repo", run="r/a")
    add_instrument(b.registry)
    add_exposures(b.registry, [100, 101])
    b.registry.register_dataset_type(
        DatasetType(
            "stats", ["instrument", "exposure", "detector"], "StructuredDataDict", b.registry.universe
        )
    )
    for e in (100, 101):
        for d in range(2):
            b.put({"e": e, "d": d}, "stats", instrument="Cam", exposure=e, detector=d)
    yield b
    b.close()


def test_query_datasets_uses_default_collections(butler: Butler) -> None:
    refs = list(butler.query_datasets("stats", where="exposure = 101"))
    assert sorted(r.data_id["detector"] for r in refs) == [0, 1]
    assert {r.run for r in refs} == {"r/a"}
    assert butler.get(refs[0])["e"] == 101


def test_query_data_ids_with_datasets(butler: Butler) -> None:
    ids = list(butler.query_data_ids(["exposure", "detector"], datasets="stats", where="detector = 1"))
    assert sorted(i["exposure"] for i in ids) == [100, 101]
    records = list(butler.query_dimension_records("exposure", where="exposure.obs_id = 'OBS100'"))
    assert [r.id for r in records] == [100]


def test_query_without_collections_is_an_error(tmp_path: Path) -> None:
    Butler.create(tmp_path / "repo2").close()
    with Butler(tmp_path / "repo2") as b, pytest.raises(MissingCollectionError, match="collections"):
        b.query_datasets("anything")
