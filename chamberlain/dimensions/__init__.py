"""The dimension universe, dimension groups, data IDs and dimension records.

Nothing here touches a database; the registry stores and queries what these
types describe.
"""

from __future__ import annotations

from ._coordinate import DataCoordinate, DataIdValue, row_coordinate_class
from ._elements import ColumnSpec, Dimension, DimensionElement, SkyPixDimension
from ._group import DimensionGroup
from ._records import DimensionRecord
from ._universe import DimensionUniverse

__all__ = [
    "ColumnSpec",
    "DataCoordinate",
    "DataIdValue",
    "Dimension",
    "DimensionElement",
    "DimensionGroup",
    "DimensionRecord",
    "DimensionUniverse",
    "SkyPixDimension",
    "row_coordinate_class",
]
