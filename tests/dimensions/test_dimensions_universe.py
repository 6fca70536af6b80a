"""The dimension universe, dimension groups, data IDs and records (no database)."""

from __future__ import annotations

import pickle

import pytest

from chamberlain.dimensions import DataCoordinate, DimensionUniverse
from chamberlain.errors import ConfigError, DimensionNameError, DimensionRecordError, InconsistentDataIdError


@pytest.fixture(scope="module")
def universe() -> DimensionUniverse:
    return DimensionUniverse.default()


def test_elements_match_the_rubin_names(universe: DimensionUniverse) -> None:
    expected = {
        "instrument",
        "band",
        "physical_filter",
        "subfilter",
        "detector",
        "group",
        "day_obs",
        "visit",
        "exposure",
        "skymap",
        "tract",
        "patch",
        "visit_system",
        "visit_definition",
        "visit_system_membership",
        "visit_detector_region",
    }
    assert set(universe.element_names) == expected
    assert universe.version == 1
    assert universe.common_skypix.name == "htm7"


def test_required_and_implied_dependencies(universe: DimensionUniverse) -> None:
    assert [d.name for d in universe["visit_detector_region"].required] == ["instrument", "visit", "detector"]
    assert [d.name for d in universe["patch"].required] == ["skymap", "tract", "patch"]
    assert [d.name for d in universe["exposure"].implied] == ["physical_filter", "group", "day_obs"]
    assert universe["instrument"].governor and universe["skymap"].governor
    assert not universe["band"].has_table
    assert universe["visit_definition"].always_join
    assert universe["visit_detector_region"].populated_by == "visit"
    detector = universe.get_dimension("detector")
    assert detector.primary_key.name == "id"
    assert [k.name for k in detector.alternate_keys] == ["full_name"]


def test_group_closure(universe: DimensionUniverse) -> None:
    g = universe.conform(["visit"])
    assert set(g.names) == {"instrument", "visit", "physical_filter", "band", "day_obs"}
    assert set(g.required) == {"instrument", "visit"}
    assert set(g.implied) == {"physical_filter", "band", "day_obs"}
    g2 = universe.conform(["visit", "detector"])
    assert "visit_detector_region" in g2.elements
    assert "visit_definition" not in g2.elements
    assert "visit_definition" in universe.conform(["exposure", "visit"]).elements
    # physical_filter alone is required; with visit it becomes implied.
    assert universe.conform(["physical_filter"]).required == ("instrument", "physical_filter")
    assert "physical_filter" in universe.conform(["visit", "physical_filter"]).implied
    assert g.union(universe.conform(["detector"])) == g2
    assert g <= g2 and not g2 <= g
    assert universe.conform(["patch"]).spatial_families() == {"skymap_regions": "patch"}
    assert g2.spatial_families() == {"observation_regions": "visit_detector_region"}
    assert g2.temporal_families() == {"observation_timespans": "visit"}


def test_lookup_order_puts_implying_elements_first(universe: DimensionUniverse) -> None:
    order = universe.conform(["exposure"]).lookup_order
    assert order.index("exposure") < order.index("physical_filter")
    assert order.index("exposure") < order.index("day_obs")
    assert order.index("instrument") < order.index("exposure")


def test_unknown_dimension_suggests_names(universe: DimensionUniverse) -> None:
    with pytest.raises(DimensionNameError, match="'vist'. Did you mean 'visit'"):
        universe.conform(["vist"])
    with pytest.raises(DimensionNameError, match="htm30"):
        universe["htm30"]
    with pytest.raises(DimensionNameError, match="not a dimension"):
        universe.conform(["visit_detector_region"])


def test_skypix_dimensions(universe: DimensionUniverse) -> None:
    htm9 = universe["htm9"]
    assert htm9.pixelization.getLevel() == 9
    assert universe.conform(["htm9"]).skypix == ("htm9",)
    assert "healpix8" in universe
    assert "htm99" not in universe


def test_standardize_and_equality(universe: DimensionUniverse) -> None:
    import numpy as np

    a = DataCoordinate.standardize(
        {"instrument": "HSC", "exposure": np.int64(5)}, universe=universe, detector=3
    )
    assert a.dimensions == universe.conform(["exposure", "detector"])
    assert a["exposure"] == 5 and type(a["exposure"]) is int
    assert not a.has_full()
    b = DataCoordinate.standardize(
        instrument="HSC",
        exposure=5,
        detector=3,
        physical_filter="HSC-R",
        band="r",
        group="g",
        day_obs=1,
        universe=universe,
    )
    assert b.has_full()
    assert a == b and hash(a) == hash(b)  # equality on required values only
    assert a == {"instrument": "HSC", "exposure": 5, "detector": 3}
    assert a != {"instrument": "HSC", "exposure": 6, "detector": 3}
    # Keys outside a given group are dropped; kwargs win over the mapping.
    c = DataCoordinate.standardize(
        {"instrument": "HSC", "visit": 1, "detector": 9}, dimensions=universe.conform(["visit"]), visit=2
    )
    assert c.required == {"instrument": "HSC", "visit": 2}
    # Defaults fill gaps but never change the group.
    d = DataCoordinate.standardize(
        {"exposure": 5}, universe=universe, defaults={"instrument": "X", "visit": 7}
    )
    assert d.required == {"instrument": "X", "exposure": 5}
    assert pickle.loads(pickle.dumps(b)) == b
    assert not DataCoordinate.make_empty(universe)


def test_standardize_errors_name_the_problem(universe: DimensionUniverse) -> None:
    with pytest.raises(DimensionNameError, match="required dimension 'instrument'"):
        DataCoordinate.standardize({"exposure": 5}, universe=universe)
    with pytest.raises(DimensionNameError, match="'colour'"):
        DataCoordinate.standardize({"instrument": "X", "colour": "red"}, universe=universe)
    with pytest.raises(DimensionRecordError, match="2.5"):
        DataCoordinate.standardize({"instrument": "X", "exposure": 2.5}, universe=universe)


def test_subset_and_union(universe: DimensionUniverse) -> None:
    full = DataCoordinate.standardize(
        instrument="HSC", visit=1, detector=2, physical_filter="R", band="r", day_obs=3, universe=universe
    )
    sub = full.subset(universe.conform(["visit"]))
    assert sub.required == {"instrument": "HSC", "visit": 1}
    assert sub["band"] == "r"
    u = sub.union(DataCoordinate.standardize(instrument="HSC", detector=2, universe=universe))
    assert u == full
    with pytest.raises(InconsistentDataIdError, match="instrument"):
        sub.union(DataCoordinate.standardize(instrument="LSST", detector=2, universe=universe))
    with pytest.raises(DimensionNameError, match="not a subset"):
        sub.subset(universe.conform(["detector"]))


def test_records(universe: DimensionUniverse) -> None:
    cls = universe["detector"].RecordClass
    rec = cls(instrument="HSC", detector=4, full_name="1_53")
    assert rec.id == 4 and rec.purpose is None
    assert rec.data_id == {"instrument": "HSC", "detector": 4}
    assert rec == cls(instrument="HSC", id=4, full_name="1_53")
    assert pickle.loads(pickle.dumps(rec)) == rec
    with pytest.raises(DimensionRecordError, match="colour"):
        cls(instrument="HSC", id=4, colour="red")
    with pytest.raises(DimensionRecordError, match="must agree"):
        cls(instrument="HSC", id=4, detector=5)
    with pytest.raises(AttributeError):
        rec.id = 5  # type: ignore[misc]


def test_bad_universe_configs_are_rejected() -> None:
    base = DimensionUniverse.default().to_config()
    cfg = {
        **base,
        "elements": {**base["elements"], "visit": {**base["elements"]["visit"], "requires": ["nothing"]}},
    }
    with pytest.raises(ConfigError, match="unknown element 'nothing'"):
        DimensionUniverse(cfg)
    cfg = {**base, "elements": {**base["elements"], "weird": {"keys": [{"name": "id", "type": "complex"}]}}}
    with pytest.raises(ConfigError, match="'complex'"):
        DimensionUniverse(cfg)
    cfg = {
        **base,
        "elements": {
            **base["elements"],
            "a": {"keys": [{"name": "id", "type": "int"}], "requires": ["b"]},
            "b": {"keys": [{"name": "id", "type": "int"}], "requires": ["a"]},
        },
    }
    with pytest.raises(ConfigError, match="cycle"):
        DimensionUniverse(cfg)
