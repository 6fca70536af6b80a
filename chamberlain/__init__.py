"""Chamberlain: a dimension-aware registry and file store for astronomical data."""
