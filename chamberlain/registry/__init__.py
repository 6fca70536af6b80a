"""The SQL registry: dimension records, collections, dataset types and datasets."""

from __future__ import annotations

from .associations import DatasetAssociation
from .collections import CollectionType
from .migration import MigrationResult, migrate, redact_url
from .registry import Registry

__all__ = ["CollectionType", "DatasetAssociation", "MigrationResult", "Registry", "migrate", "redact_url"]
