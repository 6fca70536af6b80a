"""Tests for Struct and TaskMetadata."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chamberlain.errors import TaskError
from chamberlain.pipe import Struct, TaskMetadata, TaskMetadataError


def test_struct_basics() -> None:
    s = Struct(a=1, b=[2])
    assert s.a == 1 and len(s) == 2
    d = s.get_dict()
    d["a"] = 5
    assert s.a == 1  # a copy
    assert s == Struct(a=1, b=[2])
    assert s != Struct(a=1, b=[3])
    c = s.copy()
    c.a = 9
    assert s.a == 1
    assert c.b is s.b  # shallow
    assert repr(s) == "Struct(a=1, b=[2])"


def test_struct_merge_items() -> None:
    s = Struct(a=1)
    s.merge_items(Struct(b=2, c=3, d=4), "b", "c")
    assert s.get_dict() == {"a": 1, "b": 2, "c": 3}
    with pytest.raises(TaskError, match="Cannot merge item 'a': this Struct already has it"):
        s.merge_items(Struct(a=5), "a")
    with pytest.raises(TaskError, match="Cannot merge item 'z': the other Struct has no such item"):
        s.merge_items(Struct(b=5), "z")


def test_struct_rejects_dunder_names() -> None:
    with pytest.raises(TaskError, match="'__x' is not allowed"):
        Struct(__x=1)


def test_metadata_set_get_nested() -> None:
    md = TaskMetadata()
    md["a.b.c"] = 1
    md["flag"] = np.bool_(True)
    md["count"] = np.int64(4)
    md["values"] = np.array([1.0, 2.0])
    assert md["a.b.c"] == 1
    assert isinstance(md["a.b"], TaskMetadata)
    assert md["flag"] is True
    assert type(md["count"]) is int
    assert md.get_array("values") == [1.0, 2.0]
    assert md["values"] == 2.0  # last element
    assert md.names() == {"a", "a.b", "a.b.c", "flag", "count", "values"}
    assert md.param_names() == {"a.b.c", "flag", "count", "values"}
    assert md.param_names(top_level_only=True) == {"flag", "count", "values"}
    assert md.get("missing", "dflt") == "dflt"
    assert "a.b.c" in md and "a.x" not in md
    md["count"] = "now a string"  # re-assignment moves the key between slots
    assert md.get_scalar("count") == "now a string" and "count" not in md.arrays


def test_metadata_add_and_errors() -> None:
    md = TaskMetadata()
    md["x"] = 1
    md.add("x", 2)
    assert md.get_array("x") == [1, 2]
    with pytest.raises(TaskMetadataError, match=r"Cannot add 'y' \(str\) to metadata array 'x' of int"):
        md.add("x", "y")
    with pytest.raises(TaskMetadataError, match=r"object.*valid types are"):
        md["bad"] = object()
    with pytest.raises(TaskMetadataError, match="mixes types"):
        md["mixed"] = [1, "a"]
    with pytest.raises(TaskMetadataError, match="No metadata item 'nope'"):
        md["nope"]
    md["node.leaf"] = 1
    with pytest.raises(TaskMetadataError, match="is a nested node"):
        md.add("node", 3)


def test_metadata_json_round_trip() -> None:
    md = TaskMetadata.from_dict({"a": {"b": 1.5, "c": [1, 2]}, "n": float("nan"), "s": "t"})
    text = md.model_dump_json()
    back = TaskMetadata.model_validate_json(text)
    assert back["a.b"] == 1.5 and back.get_array("a.c") == [1, 2] and back["s"] == "t"
    assert math.isnan(back["n"])
    assert back.to_dict()["a"] == {"b": 1.5, "c": [1, 2]}
