"""The SQL registry: dimension records, collections, dataset types and datasets."""

from __future__ import annotations

from .collections import CollectionType
from .registry import Registry

__all__ = ["CollectionType", "Registry"]
