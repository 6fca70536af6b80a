"""The `where` expression language: parse user strings into a typed tree.

`parse_where` turns ``"visit IN (100..200:5) AND band = 'i'"`` into a tree of
frozen `nodes` (each with source offsets); `to_text` prints a tree back;
`check_identifiers` validates names with "did you mean" suggestions; and
`format_error` / `error_at` build the caret-annotated messages every
expression error uses. Compiling a tree to SQL is the query compiler's job.
"""

from __future__ import annotations

from . import nodes
from ._literals import make_region, parse_region_string, parse_time_literal
from .diagnostics import describe_position, error_at, format_error
from .identifiers import check_identifiers, suggest
from .nodes import *  # noqa: F403 (the tree: every name of nodes.__all__)
from .parser import FUNCTIONS, parse_where
from .unparse import to_text

__all__ = [
    "FUNCTIONS",
    "check_identifiers",
    "describe_position",
    "error_at",
    "format_error",
    "make_region",
    "parse_region_string",
    "parse_time_literal",
    "parse_where",
    "suggest",
    "to_text",
    *nodes.__all__,
]
