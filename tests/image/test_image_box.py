"""Tests for chamberlain.image.box.Box."""

from __future__ import annotations

import numpy as np
import pytest

from chamberlain.errors import ImageError
from chamberlain.image import Box


def test_inclusive_size_and_helpers() -> None:
    box = Box(2, 3, 11, 7)
    assert (box.width, box.height) == (10, 5)
    assert box.dimensions == (10, 5)
    assert box.shape == (5, 10)
    assert box.area == 50
    assert box.begin == box.xy0 == (2, 3)
    assert box.end == (12, 8)
    assert box.center == (6.5, 5.0)
    assert box.corners() == [(2, 3), (11, 3), (11, 7), (2, 7)]
    assert box.float_bounds() == (1.5, 2.5, 11.5, 7.5)
    assert not box.is_empty


def test_constructors() -> None:
    assert Box.from_size(2, 3, 10, 5) == Box(2, 3, 11, 7)
    assert Box.from_corners(11, 7, 2, 3) == Box(2, 3, 11, 7)
    assert Box.from_shape((5, 10), (2, 3)) == Box(2, 3, 11, 7)
    # Pixels sharing area with the float box (off pixel edges both rules agree).
    assert Box.from_float_bounds(1.5, 2.5, 11.5, 7.5) == Box(2, 3, 11, 7)
    assert Box.from_float_bounds(1.4, 2.6, 11.6, 7.4) == Box(1, 3, 12, 7)
    assert Box.from_size(4, 4, 0, 3).is_empty
    assert Box.from_size(4, 4, 0, 3) == Box.empty()


def test_from_float_bounds_at_half_integer_edges() -> None:
    # Pixel i spans [i - 0.5, i + 0.5). Bounds exactly on pixel edges:
    # default (area-sharing): min = floor(min + 0.5), max = ceil(max - 0.5)
    #   x: floor(0.5 + 0.5) = 1, ceil(3.5 - 0.5) = 3; y: floor(1.5 + 0.5) = 2, ceil(4.5 - 0.5) = 4
    assert Box.from_float_bounds(0.5, 1.5, 3.5, 4.5) == Box(1, 2, 3, 4)
    # touching: min = ceil(min - 0.5), max = floor(max + 0.5)
    #   x: ceil(0.0) = 0, floor(4.0) = 4; y: ceil(1.0) = 1, floor(5.0) = 5
    assert Box.from_float_bounds(0.5, 1.5, 3.5, 4.5, touching=True) == Box(0, 1, 4, 5)
    # The outline of pixel (0, 0) is one pixel, or that pixel and its 8 neighbours.
    assert Box.from_float_bounds(-0.5, -0.5, 0.5, 0.5) == Box(0, 0, 0, 0)
    assert Box.from_float_bounds(-0.5, -0.5, 0.5, 0.5, touching=True) == Box(-1, -1, 1, 1)
    # Off the edges the two rules agree: x: floor(0.7) = 0 / ceil(-0.3) = 0, ceil(3.2) = 4 / floor(4.2) = 4;
    # y: floor(-0.2) = -1 / ceil(-1.2) = -1, ceil(1.7) = 2 / floor(2.7) = 2.
    assert Box.from_float_bounds(0.2, -0.7, 3.7, 2.2) == Box(0, -1, 4, 2)
    assert Box.from_float_bounds(0.2, -0.7, 3.7, 2.2, touching=True) == Box(0, -1, 4, 2)
    # A single point on a pixel corner: no area, so empty; touching gives the 2 x 2 pixels meeting there.
    assert Box.from_float_bounds(2.5, 2.5, 2.5, 2.5).is_empty
    assert Box.from_float_bounds(2.5, 2.5, 2.5, 2.5, touching=True) == Box(2, 2, 3, 3)
    # A point inside pixel 2 is that pixel under both rules.
    assert Box.from_float_bounds(2.0, 2.0, 2.0, 2.0) == Box(2, 2, 2, 2)
    assert Box.from_float_bounds(2.0, 2.0, 2.0, 2.0, touching=True) == Box(2, 2, 2, 2)
    # The pixel-edge bounds of a box convert back to the same box only by default.
    box = Box(-3, 4, 10, 12)
    assert Box.from_float_bounds(*box.float_bounds()) == box
    assert Box.from_float_bounds(*box.float_bounds(), touching=True) == box.grown(1)
    assert box.float_corners() == [(-3.5, 3.5), (10.5, 3.5), (10.5, 12.5), (-3.5, 12.5)]


def test_skymap_pixel_box_is_the_image_box() -> None:
    from chamberlain.skymap import PixelBox

    assert PixelBox is Box


def test_frozen() -> None:
    box = Box(0, 0, 1, 1)
    with pytest.raises(AttributeError):
        box.min_x = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [((0, 0, -3, 4), "-2 x 5"), ((5, 0, 2, 0), "-2 x 1")],
)
def test_negative_size_rejected(args: tuple[int, int, int, int], fragment: str) -> None:
    with pytest.raises(ImageError, match=r"negative size") as info:
        Box(*args)
    assert fragment in str(info.value)


def test_bad_values_rejected() -> None:
    with pytest.raises(ImageError, match=r"width=-1"):
        Box.from_size(0, 0, -1, 4)
    with pytest.raises(ImageError, match=r"1.5"):
        Box(1.5, 0, 3, 3)  # type: ignore[arg-type]
    with pytest.raises(ImageError, match=r"True"):
        Box(True, 0, 3, 3)
    assert Box(np.int64(1), 0, 3, 3).min_x == 1


def test_contains_overlaps() -> None:
    box = Box(0, 0, 9, 9)
    assert box.contains(Box(2, 2, 9, 9))
    assert not box.contains(Box(2, 2, 10, 9))
    assert box.contains((9, 0))
    assert not box.contains((10, 0))
    assert box.contains(Box.empty())
    assert box.overlaps(Box(9, 9, 20, 20))
    assert not box.overlaps(Box(10, 0, 20, 20))
    assert not box.overlaps(Box.empty())


def test_intersection_union() -> None:
    a, b = Box(0, 0, 9, 9), Box(5, -5, 14, 4)
    assert a.intersection(b) == Box(5, 0, 9, 4)
    assert a.intersection(Box(20, 20, 30, 30)).is_empty
    assert a.union(b) == Box(0, -5, 14, 9)
    assert a.include((20, -1)) == Box(0, -1, 20, 9)
    assert Box.empty().union(b) == b
    assert Box.empty().include((3, 4)) == Box(3, 4, 3, 4)


def test_grow_shift() -> None:
    box = Box(10, 10, 19, 14)
    assert box.grown(2) == Box(8, 8, 21, 16)
    assert box.dilated_by((1, 0)) == Box(9, 10, 20, 14)
    assert box.eroded_by(2) == Box(12, 12, 17, 12)
    assert box.grown(-3).is_empty
    assert box.shifted(-10, 5) == Box(0, 15, 9, 19)
    assert Box.empty().shifted(3, 3).is_empty


def test_slices() -> None:
    array = np.arange(100).reshape(10, 10)
    box = Box(12, 13, 14, 15)
    sub = array[box.slices((10, 10))]
    assert sub.shape == (3, 3)
    assert sub[0, 0] == array[3, 2]
    with pytest.raises(ImageError, match=r"xy0=\(13, 10\)"):
        box.slices((13, 10))
