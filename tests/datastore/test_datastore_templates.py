"""File templates: formatting rules and validation errors."""

from __future__ import annotations

import types
import uuid
from typing import Any

import pytest

from chamberlain.datasets import DatasetRef, DatasetType
from chamberlain.datastore import DEFAULT_TEMPLATE, FileTemplate, FileTemplates
from chamberlain.dimensions import DataCoordinate, DimensionUniverse
from chamberlain.errors import FileTemplateError

U = DimensionUniverse.default()
ID = uuid.UUID("12345678123456781234567812345678")


def ref(name: str, dims: list[str], values: dict[str, Any], run: str = "u/me/run") -> DatasetRef:
    dt = DatasetType(name, dims, "StructuredDataDict", U)
    return DatasetRef(dt, DataCoordinate.standardize(values, dimensions=dt.dimensions), run, ID)


def lookup(element: str, data_id: DataCoordinate) -> Any:
    records = {
        "detector": types.SimpleNamespace(full_name="R01_S10"),
        "exposure": types.SimpleNamespace(obs_id="OBS.7", day_obs=20240301),
        "visit": types.SimpleNamespace(day_obs=20240302, physical_filter="Cam-r"),
        "physical_filter": types.SimpleNamespace(band="r"),
    }
    return records[element]


def test_optional_fields_drop_their_prefix_but_not_slashes() -> None:
    template = FileTemplate("{run}/{datasetType}_{tract:?}_{instrument}")
    r = ref("calexp", ["instrument", "detector"], {"instrument": "Cam", "detector": 3})
    assert template.format(r) == "u_me_run/calexp_Cam"
    template = FileTemplate("{run}/{tract:?}/{datasetType}")
    assert template.format(r) == "u_me_run/calexp"


def test_keep_slash_flag_and_bad_characters() -> None:
    r = ref("calexp", ["instrument"], {"instrument": "Cam"}, run="a/b c")
    assert FileTemplate("{run:/}/{datasetType}").format(r) == "a/b_c/calexp"
    assert FileTemplate("{run}/{datasetType}").format(r) == "a_b_c/calexp"


def test_dots_and_hashes_in_the_file_name_part() -> None:
    r = ref("calexp", ["instrument", "exposure"], {"instrument": "Cam", "exposure": 7})
    template = FileTemplate("{run}.d/{exposure.obs_id}#{datasetType}")
    assert template.needs_lookup(r.data_id.dimensions)
    assert template.format(r, lookup=lookup) == "u_me_run.d/OBS_7HASHcalexp"


def test_alternates_pick_the_first_dimension_present() -> None:
    template = FileTemplate("{run}/{day_obs|visit.day_obs|exposure.day_obs}/{datasetType}")
    r = ref("calexp", ["instrument", "exposure"], {"instrument": "Cam", "exposure": 7})
    # day_obs is implied by exposure, so the first alternative wins and is looked up via the record.
    assert template.format(r, lookup=lookup) == "u_me_run/20240301/calexp"
    template = FileTemplate("{run}/{tract|visit}/{datasetType}")
    r = ref("calexp", ["instrument", "visit"], {"instrument": "Cam", "visit": 9})
    assert template.format(r) == "u_me_run/9/calexp"


def test_default_template_paths() -> None:
    r = ref("calexp", ["instrument", "visit", "detector"], {"instrument": "Cam", "visit": 9, "detector": 3})
    path = FileTemplate(DEFAULT_TEMPLATE).format(r, lookup=lookup)
    assert path == "u/me/run/calexp/20240302/r/Cam-r/9/calexp_Cam_r_Cam-r_9_R01_S10_u_me_run"


def test_id_and_component_fields() -> None:
    r = ref("calexp", ["instrument"], {"instrument": "Cam"})
    template = FileTemplate("{datasetType}.{component:?}/{id}")
    assert template.format(r) == f"calexp/{ID}"
    assert template.format(r, component="wcs") == f"calexp.wcs/{ID}"


def test_missing_non_optional_value_is_an_error() -> None:
    template = FileTemplate("{run}/{component}")
    r = ref("calexp", ["instrument"], {"instrument": "Cam"})
    with pytest.raises(FileTemplateError, match="component"):
        template.format(r)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{datasetType}/{instrument}", "mandatory field"),
        ("{run}/{collection}/{instrument}", "'collection'"),
        ("{run}/../{instrument}", r"'\.\.'"),
        ("{run}/{datasetType}", r"required dimension\(s\) \['instrument', 'detector'\]"),
        ("{run}/{instrument}/{detector.purpose}", r"\['detector'\]"),
        ("{id}/{run}", "file-name part"),
        ("{run}/{instrument}_{detector}_{nonsense}", "'nonsense'"),
        ("{run}/{instrument}_{detector}_{visit}", "not optional"),
    ],
)
def test_validation_errors(text: str, message: str) -> None:
    dt = DatasetType("calexp", ["instrument", "detector"], "StructuredDataDict", U)
    with pytest.raises(FileTemplateError, match=message) as info:
        FileTemplate(text).validate(dt)
    assert text in str(info.value) and "calexp" in str(info.value)


def test_valid_templates_pass() -> None:
    dt = DatasetType("calexp", ["instrument", "detector"], "StructuredDataDict", U)
    FileTemplate("{run}/{instrument}/{detector.full_name}").validate(dt)
    FileTemplate("{datasetType}/{id}").validate(dt)
    FileTemplate(DEFAULT_TEMPLATE).validate(dt)


@pytest.mark.parametrize(
    ("text", "message"), [("{run", "unbalanced"), ("{run:x}", "unknown flag"), ("{}", "empty")]
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(FileTemplateError, match=message):
        FileTemplate(text)


def test_lookup_order_and_validation_on_first_use() -> None:
    templates = FileTemplates({"calexp": "{run}/special/{instrument}_{detector}", "NumpyArray": "{run}/{id}"})
    dt = DatasetType("calexp", ["instrument", "detector"], "StructuredDataDict", U)
    assert templates.get(dt).template.startswith("{run}/special")
    arr = DatasetType("arr", ["instrument", "detector"], "NumpyArray", U)
    assert templates.get(arr).template == "{run}/{id}"
    other = DatasetType("other", ["instrument", "detector"], "StructuredDataDict", U)
    assert templates.get(other).template == DEFAULT_TEMPLATE
    bad = FileTemplates({"calexp": "{run}/{instrument}"})
    with pytest.raises(FileTemplateError, match="detector"):
        bad.get(dt)
