"""Every public exception class lives in chamberlain.errors; user errors keep their built-in base."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest

import chamberlain
from chamberlain import errors
from chamberlain.datasets import DatasetIdGenEnum, DatasetRef, DatasetType, deterministic_id
from chamberlain.dimensions import DataCoordinate, DimensionUniverse


def test_exception_classes_are_defined_only_in_errors_py() -> None:
    package = Path(chamberlain.__file__).parent
    outside = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "errors.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ClassDef)
                and not node.name.startswith("_")
                and any(
                    isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception"))
                    for base in node.bases
                )
            ):
                outside.append(f"{path.relative_to(package)}:{node.name}")
    # ButlerUsageError moves with the Butler package (another change); nothing else may stay outside.
    assert [name for name in outside if not name.endswith(":ButlerUsageError")] == []


def test_moved_errors_are_re_exported_where_they_were() -> None:
    from chamberlain.datastore import MissingFileError as from_package
    from chamberlain.datastore.file_datastore import MissingFileError
    from chamberlain.tasks._ingest_read import RawHeaderError

    assert MissingFileError is from_package is errors.MissingFileError
    assert RawHeaderError is errors.RawHeaderError
    assert issubclass(MissingFileError, errors.DatastoreError) and issubclass(
        MissingFileError, FileNotFoundError
    )


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.DatasetIdModeError, ValueError),
        (errors.DatasetUsageError, TypeError),
        (errors.DimensionUsageError, TypeError),
        (errors.TimespanTypeError, TypeError),
        (errors.GeometryError, ValueError),
        (errors.MissingFileError, FileNotFoundError),
    ],
)
def test_user_errors_have_both_bases(cls: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(cls, errors.ChamberlainError)
    assert issubclass(cls, builtin)


def test_dataset_and_dimension_misuse_raise_chamberlain_errors() -> None:
    universe = DimensionUniverse.default()
    with pytest.raises(errors.DatasetIdModeError, match="UNIQUE.*valid modes: DATAID_TYPE, DATAID_TYPE_RUN"):
        deterministic_id(DatasetIdGenEnum.UNIQUE, "raw", "run", {})
    with pytest.raises(ValueError):  # still caught as the built-in
        deterministic_id(DatasetIdGenEnum.UNIQUE, "raw", "run", {})
    with pytest.raises(errors.DatasetUsageError, match="'calexp' needs a universe"):
        DatasetType("calexp", ["visit", "detector"], "Exposure")
    with pytest.raises(TypeError):
        DatasetType("calexp", ["visit", "detector"], "Exposure")
    ref = DatasetRef(DatasetType("bias", ["instrument"], "Exposure", universe=universe),
                     DataCoordinate.standardize({"instrument": "X"}, universe=universe), "r", uuid.uuid4())  # fmt: skip
    with pytest.raises(errors.DatasetUsageError, match=r"no field\(s\) \['colour'\]"):
        ref.replace(colour="red")
    with pytest.raises(errors.DimensionUsageError, match="needs a universe or dimensions"):
        DataCoordinate.standardize({"instrument": "X"})
    with pytest.raises(TypeError):
        DataCoordinate.standardize({"instrument": "X"})
