"""The curated top-level ``chamberlain`` namespace: lazy re-exports of the common names."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import chamberlain

# The home module of each top-level name: where users imported it from before the namespace existed.
BY_MODULE = {
    "chamberlain.butler": ["Butler"],
    "chamberlain.registry": ["Registry", "CollectionType"],
    "chamberlain.datasets": ["DatasetRef", "DatasetType"],
    "chamberlain.dimensions": ["DataCoordinate", "DimensionUniverse"],
    "chamberlain.geometry": ["Timespan"],
    "chamberlain.errors": [
        "ChamberlainError",
        "ConfigError",
        "DatasetNotFoundError",
        "InvalidQueryError",
        "MissingCollectionError",
        "MissingDatasetTypeError",
    ],
}
HOMES = {name: module for module, names in BY_MODULE.items() for name in names}


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout


def test_all_lists_exactly_the_curated_names() -> None:
    assert sorted(chamberlain.__all__) == sorted(HOMES)


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_name_is_the_object_of_its_home_module(name: str) -> None:
    home = importlib.import_module(HOMES[name])
    assert getattr(chamberlain, name) is getattr(home, name)


def test_from_import_works_for_every_name() -> None:
    names = ", ".join(sorted(HOMES))
    namespace: dict[str, object] = {}
    exec(f"from chamberlain import {names}", namespace)
    for name, home in HOMES.items():
        assert namespace[name] is getattr(importlib.import_module(home), name)


def test_importing_the_package_does_not_import_heavy_dependencies() -> None:
    heavy = ["sqlalchemy", "numpy", "fitsio", "chamberlain.butler", "chamberlain.registry"]
    out = _run(
        f"import sys, json, chamberlain; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    assert json.loads(out) == []


def test_a_name_is_imported_on_first_access_only() -> None:
    out = _run(
        "import sys, chamberlain\n"
        "before = 'sqlalchemy' in sys.modules\n"
        "chamberlain.Butler\n"
        "print(before, 'sqlalchemy' in sys.modules, 'Butler' in vars(chamberlain))"
    )
    assert out.split() == ["False", "True", "True"]


def test_dir_lists_the_names_before_they_are_imported() -> None:
    out = _run("import json, chamberlain; print(json.dumps(dir(chamberlain)))")
    assert set(HOMES) <= set(json.loads(out))


def test_an_unknown_attribute_raises_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="'NoSuchThing'") as info:
        chamberlain.NoSuchThing  # noqa: B018
    assert "Butler" in str(info.value)  # and says which names exist
    with pytest.raises(ImportError, match="NoSuchThing"):
        exec("from chamberlain import NoSuchThing", {})
    assert not hasattr(chamberlain, "no_such_module")
