"""A dataset type that none of the searched collections can hold gives no rows, not an error.

A non-calibration type is never certified, so searching only CALIBRATION collections for it is
an empty search (Rubin answers it with no results too). It used to fail with "Dimension
'detector' is not part of this query".
"""

from __future__ import annotations

from chamberlain.registry import Registry


def test_raw_in_calibration_collection_is_empty(populated_registry: Registry) -> None:
    reg = populated_registry
    assert list(reg.query_datasets("raw", "calib")) == []
    assert list(reg.query_datasets("raw", "calib", find_first=False)) == []
    # The data-ID query constrained by such a dataset is empty too.
    assert list(reg.query_data_ids(["exposure", "detector"], datasets="raw", collections="calib")) == []
    # The same type in calib plus a collection that holds it finds exactly the second collection's.
    in_runs = {ref.id for ref in reg.query_datasets("raw", "run1", find_first=False)}
    both = {ref.id for ref in reg.query_datasets("raw", ["calib", "run1"], find_first=False)}
    assert in_runs and both == in_runs
