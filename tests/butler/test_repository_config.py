"""The repository configuration model: chamberlain.yaml and datastore.yaml, validated by one pydantic model."""

from __future__ import annotations

from pathlib import Path

import pytest

from chamberlain.butler import Butler
from chamberlain.errors import ConfigError
from chamberlain.repository import RepositoryConfig


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    Butler.create(path, templates={"bias": "{run}/b/{detector}"}, checksum=True).close()
    return path


def test_load_reads_both_files(root: Path) -> None:
    config = RepositoryConfig.load(root)
    assert config.root == root.absolute()
    assert config.db is None and config.namespace is None
    assert config.templates == {"bias": "{run}/b/{detector}"}
    assert config.formatters is None
    assert config.checksum is True
    assert config.datastore_options() == {"templates": {"bias": "{run}/b/{detector}"}, "checksum": True}
    assert config.url == f"sqlite:///{root.absolute() / 'chamberlain.sqlite3'}"


def test_no_datastore_file_means_no_options(root: Path) -> None:
    (root / "datastore.yaml").unlink()
    assert RepositoryConfig.load(root).datastore_options() == {}
    with Butler(root) as butler:
        assert butler.datastore.checksum is False


def test_positional_construction_still_works(tmp_path: Path) -> None:
    config = RepositoryConfig(tmp_path, "postgresql://u@127.0.0.1/db", "ns")
    assert (config.db, config.namespace, config.url) == ("postgresql://u@127.0.0.1/db", "ns", config.db)
    with pytest.raises(AttributeError, match="cannot assign"):
        config.db = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("datastore.yaml", "checksum: maybe\n", r"datastore\.yaml: 'checksum' = 'maybe' is not valid .*true or false"),
        ("datastore.yaml", "templates: [a]\n", r"datastore\.yaml: 'templates' = \['a'\] is not valid .*mapping"),
        ("datastore.yaml", "formatters: {Image: 3}\n", r"datastore\.yaml: 'formatters' = .* formatter names"),
        ("datastore.yaml", "colour: blue\n", r"datastore\.yaml has unknown keys \['colour'\]; valid keys: 'templates'"),
        ("datastore.yaml", "- 1\n- 2\n", r"datastore\.yaml must hold a mapping with keys among 'templates', .*got list"),
        ("datastore.yaml", "templates: [unclosed\n", r"datastore\.yaml is not valid YAML at line \d+, column \d+"),
        ("chamberlain.yaml", "db: 5\n", r"chamberlain\.yaml: 'db' = 5 is not valid .*database URL"),
        ("chamberlain.yaml", "db: null\nport: 1\n", r"chamberlain\.yaml has unknown keys \['port'\]; valid keys: 'db', 'namespace'"),
        ("chamberlain.yaml", "checksum: true\n", r"chamberlain\.yaml has unknown keys \['checksum'\]"),
    ],
)  # fmt: skip
def test_bad_files_give_one_line_errors(root: Path, name: str, text: str, expected: str) -> None:
    (root / name).write_text(text)
    with pytest.raises(ConfigError, match=expected) as info:
        RepositoryConfig.load(root)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match=expected):
        Butler(root)
