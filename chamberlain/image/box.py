"""Integer pixel boxes.

A `Box` is the Rubin ``Box2I``: an inclusive range of integer pixel
coordinates ``[min_x..max_x] x [min_y..max_y]`` in some parent frame, so
``width = max_x - min_x + 1``. Pixel centres sit at integer coordinates and
pixel ``i`` covers ``[i - 0.5, i + 0.5)``. `chamberlain.skymap` uses the same class
(``PixelBox`` is an alias). Boxes are immutable and cheap; every
operation returns a new box.

A box may be *empty* (no pixels). All empty boxes are normalised to the same
value, ``Box(0, 0, -1, -1)``, so they compare equal; an empty box overlaps
nothing and is contained in everything.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from typing import Any

from chamberlain.errors import ImageError

__all__ = ["Box"]


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ImageError(f"Box {what} must be an integer, got {value!r}.")
    try:
        return operator.index(value)
    except TypeError:
        raise ImageError(f"Box {what} must be an integer, got {value!r}.") from None


def _pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ImageError(f"{what} must be an integer or an (x, y) pair, got {value!r}.")
        return _as_int(value[0], what), _as_int(value[1], what)
    n = _as_int(value, what)
    return n, n


@dataclasses.dataclass(frozen=True, slots=True)
class Box:
    """An inclusive integer pixel box ``[min_x..max_x] x [min_y..max_y]``.

    Parameters
    ----------
    min_x, min_y
        The first pixel column and row, inclusive.
    max_x, max_y
        The last pixel column and row, inclusive. ``max = min - 1`` gives an
        empty box; anything smaller is a negative size and raises.

    Raises
    ------
    ImageError
        If a coordinate is not an integer or the box would have a negative size.
    """

    min_x: int
    min_y: int
    max_x: int
    max_y: int

    def __post_init__(self) -> None:
        min_x = _as_int(self.min_x, "min_x")
        min_y = _as_int(self.min_y, "min_y")
        max_x = _as_int(self.max_x, "max_x")
        max_y = _as_int(self.max_y, "max_y")
        if max_x < min_x - 1 or max_y < min_y - 1:
            raise ImageError(
                f"Box with min=({min_x}, {min_y}) and max=({max_x}, {max_y}) has a negative size "
                f"({max_x - min_x + 1} x {max_y - min_y + 1}); max must be >= min - 1."
            )
        if max_x < min_x or max_y < min_y:
            min_x, min_y, max_x, max_y = 0, 0, -1, -1
        object.__setattr__(self, "min_x", min_x)
        object.__setattr__(self, "min_y", min_y)
        object.__setattr__(self, "max_x", max_x)
        object.__setattr__(self, "max_y", max_y)

    # --- constructors ------------------------------------------------------------

    @classmethod
    def from_size(cls, x0: int, y0: int, width: int, height: int) -> Box:
        """Make a box from its first pixel and its size (zero size gives an empty box).

        Parameters
        ----------
        x0, y0 : `int`
            The first pixel column and row.
        width, height : `int`
            The number of columns and rows; zero for an empty box.

        Returns
        -------
        box : `Box`
            The box ``[x0..x0 + width - 1] x [y0..y0 + height - 1]``.

        Raises
        ------
        ImageError
            If ``width`` or ``height`` is negative or a value is not an integer.
        """
        width = _as_int(width, "width")
        height = _as_int(height, "height")
        if width < 0 or height < 0:
            raise ImageError(f"Box size must not be negative, got width={width}, height={height}.")
        return cls(x0, y0, x0 + width - 1, y0 + height - 1)

    @classmethod
    def from_corners(cls, x_a: int, y_a: int, x_b: int, y_b: int) -> Box:
        """Make the smallest box holding two pixels (inclusive corners, in any order).

        Parameters
        ----------
        x_a, y_a : `int`
            The column and row of one corner pixel.
        x_b, y_b : `int`
            The column and row of the opposite corner pixel.

        Returns
        -------
        box : `Box`
            The box holding both pixels (never empty).

        Raises
        ------
        ImageError
            If a coordinate is not an integer.
        """
        return cls(min(x_a, x_b), min(y_a, y_b), max(x_a, x_b), max(y_a, y_b))

    @classmethod
    def from_shape(cls, shape: tuple[int, ...], xy0: tuple[int, int] = (0, 0)) -> Box:
        """Make the box of a numpy array of ``shape`` (rows, columns) whose first pixel is ``xy0``.

        Parameters
        ----------
        shape : `tuple` [`int`, ...]
            A 2-D numpy array shape, ``(height, width)``.
        xy0 : `tuple` [`int`, `int`], optional
            The parent-frame ``(x, y)`` of the array's first pixel.

        Returns
        -------
        box : `Box`
            The box the array covers.

        Raises
        ------
        ImageError
            If ``shape`` is not 2-D.
        """
        if len(shape) != 2:
            raise ImageError(f"An image array must be 2-D, got shape {tuple(shape)}.")
        return cls.from_size(xy0[0], xy0[1], shape[1], shape[0])

    @classmethod
    def from_float_bounds(
        cls, min_x: float, min_y: float, max_x: float, max_y: float, *, touching: bool = False
    ) -> Box:
        """Convert a floating-point box to the integer box of the pixels it reaches.

        Pixel ``i`` spans ``[i - 0.5, i + 0.5)``; the two rules differ only where a
        bound lies exactly on a pixel edge (a half-integer):

        - ``touching=False`` (default): the pixels that share area with the float
          box, ``min = floor(min + 0.5)``, ``max = ceil(max - 0.5)`` (the historical
          ``lsst.afw.geom`` ``Box2I(Box2D, EXPAND)`` over a half-open ``Box2D``). A
          pixel-edge box from `float_bounds` converts back to the same box.
        - ``touching=True``: also the pixels that only touch its edges,
          ``min = ceil(min - 0.5)``, ``max = floor(max + 0.5)`` (today's
          ``lsst.geom`` ``IntervalI(IntervalD, EXPAND)`` over closed intervals). Use
          it for the bounding box of projected points, where no point may be lost.

        Parameters
        ----------
        min_x, min_y : `float`
            The lower bounds, in pixels.
        max_x, max_y : `float`
            The upper bounds, in pixels.
        touching : `bool`, optional
            Whether pixels that only touch an edge of the float box are included.

        Returns
        -------
        box : `Box`
            The integer box of the pixels the bounds reach (empty for a
            zero-width float box on a pixel edge when ``touching`` is False).

        Raises
        ------
        ImageError
            If the bounds give a negative size.
        """
        if touching:
            return cls(
                math.ceil(min_x - 0.5),
                math.ceil(min_y - 0.5),
                math.floor(max_x + 0.5),
                math.floor(max_y + 0.5),
            )
        return cls(
            math.floor(min_x + 0.5), math.floor(min_y + 0.5), math.ceil(max_x - 0.5), math.ceil(max_y - 0.5)
        )

    @classmethod
    def empty(cls) -> Box:
        """Return the empty box.

        Returns
        -------
        box : `Box`
            ``Box(0, 0, -1, -1)``, equal to every other empty box.
        """
        return cls(0, 0, -1, -1)

    # --- size and position ---------------------------------------------------------

    @property
    def width(self) -> int:
        """Number of columns."""
        return self.max_x - self.min_x + 1

    @property
    def height(self) -> int:
        """Number of rows."""
        return self.max_y - self.min_y + 1

    @property
    def dimensions(self) -> tuple[int, int]:
        """``(width, height)``."""
        return self.width, self.height

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``: the shape of a numpy array covering the box."""
        return self.height, self.width

    @property
    def area(self) -> int:
        """Number of pixels."""
        return self.width * self.height

    @property
    def is_empty(self) -> bool:
        """Whether the box holds no pixels."""
        return self.max_x < self.min_x

    @property
    def begin(self) -> tuple[int, int]:
        """``(min_x, min_y)``: the first pixel."""
        return self.min_x, self.min_y

    @property
    def end(self) -> tuple[int, int]:
        """``(max_x + 1, max_y + 1)``: one past the last pixel (exclusive end)."""
        return self.max_x + 1, self.max_y + 1

    @property
    def xy0(self) -> tuple[int, int]:
        """The parent-frame coordinate of the first pixel (same as `begin`)."""
        return self.min_x, self.min_y

    @property
    def center(self) -> tuple[float, float]:
        """The centre of the box in pixel coordinates."""
        return 0.5 * (self.min_x + self.max_x), 0.5 * (self.min_y + self.max_y)

    def corners(self) -> list[tuple[int, int]]:
        """Return the four corner pixels, counter-clockwise from ``(min_x, min_y)``.

        Returns
        -------
        corners : `list` [`tuple` [`int`, `int`]]
            ``(x, y)`` of the corners: min/min, max/min, max/max, min/max.
        """
        return [
            (self.min_x, self.min_y),
            (self.max_x, self.min_y),
            (self.max_x, self.max_y),
            (self.min_x, self.max_y),
        ]

    def float_bounds(self) -> tuple[float, float, float, float]:
        """Return the pixel-edge bounds of the box.

        Returns
        -------
        bounds : `tuple` [`float`, `float`, `float`, `float`]
            ``(min_x - 0.5, min_y - 0.5, max_x + 0.5, max_y + 0.5)``.
        """
        return self.min_x - 0.5, self.min_y - 0.5, self.max_x + 0.5, self.max_y + 0.5

    def float_corners(self) -> list[tuple[float, float]]:
        """Return the outer pixel-edge corners, counter-clockwise from ``(min_x - 0.5, min_y - 0.5)``.

        Returns
        -------
        corners : `list` [`tuple` [`float`, `float`]]
            The corners of `float_bounds`: min/min, max/min, max/max, min/max.
        """
        x0, y0, x1, y1 = self.float_bounds()
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]

    # --- predicates ---------------------------------------------------------------

    def contains(self, other: Box | tuple[int, int]) -> bool:
        """Test whether a box or an ``(x, y)`` pixel lies entirely inside this box.

        Parameters
        ----------
        other : `Box` or `tuple` [`int`, `int`]
            A box, or the column and row of a pixel.

        Returns
        -------
        contains : `bool`
            True if every pixel of ``other`` is in this box; an empty box is
            contained in every box.
        """
        if isinstance(other, Box):
            if other.is_empty:
                return True
            return (
                self.min_x <= other.min_x
                and other.max_x <= self.max_x
                and self.min_y <= other.min_y
                and other.max_y <= self.max_y
            )
        x, y = other
        return self.min_x <= x <= self.max_x and self.min_y <= y <= self.max_y

    def overlaps(self, other: Box) -> bool:
        """Test whether the two boxes share at least one pixel.

        Parameters
        ----------
        other : `Box`
            The box to compare with.

        Returns
        -------
        overlaps : `bool`
            True if they share a pixel; always False if either is empty.
        """
        if self.is_empty or other.is_empty:
            return False
        return not (
            other.max_x < self.min_x
            or other.min_x > self.max_x
            or other.max_y < self.min_y
            or other.min_y > self.max_y
        )

    # --- combinations ---------------------------------------------------------------

    def intersection(self, other: Box) -> Box:
        """Return the pixels in both boxes (also available as ``clipped_to``).

        Parameters
        ----------
        other : `Box`
            The box to intersect with.

        Returns
        -------
        box : `Box`
            The common pixels; the empty box if the boxes do not overlap.
        """
        if not self.overlaps(other):
            return Box.empty()
        return Box(
            max(self.min_x, other.min_x),
            max(self.min_y, other.min_y),
            min(self.max_x, other.max_x),
            min(self.max_y, other.max_y),
        )

    clipped_to = intersection

    def union(self, other: Box | tuple[int, int]) -> Box:
        """Return the smallest box holding this box and another box or pixel (also ``include``).

        Parameters
        ----------
        other : `Box` or `tuple` [`int`, `int`]
            A box, or the column and row of a pixel.

        Returns
        -------
        box : `Box`
            The bounding box of both; an empty operand contributes nothing.

        Raises
        ------
        ImageError
            If a pixel coordinate is not an integer.
        """
        if isinstance(other, Box):
            if other.is_empty:
                return self
            if self.is_empty:
                return other
            return Box(
                min(self.min_x, other.min_x),
                min(self.min_y, other.min_y),
                max(self.max_x, other.max_x),
                max(self.max_y, other.max_y),
            )
        x, y = _as_int(other[0], "x"), _as_int(other[1], "y")
        if self.is_empty:
            return Box(x, y, x, y)
        return Box(min(self.min_x, x), min(self.min_y, y), max(self.max_x, x), max(self.max_y, y))

    include = union

    def grown(self, amount: int | tuple[int, int]) -> Box:
        """Grow the box on every side (also available as ``dilated_by``).

        A negative amount shrinks the box; shrinking past nothing gives the empty box.
        Growing an empty box gives the empty box.

        Parameters
        ----------
        amount : `int` or `tuple` [`int`, `int`]
            Pixels added on every side, or an ``(x, y)`` pair for each axis.

        Returns
        -------
        box : `Box`
            The grown box.

        Raises
        ------
        ImageError
            If ``amount`` is not an integer or an integer pair.
        """
        dx, dy = _pair(amount, "grow amount")
        if self.is_empty:
            return self
        min_x, max_x = self.min_x - dx, self.max_x + dx
        min_y, max_y = self.min_y - dy, self.max_y + dy
        if max_x < min_x or max_y < min_y:
            return Box.empty()
        return Box(min_x, min_y, max_x, max_y)

    dilated_by = grown

    def eroded_by(self, amount: int | tuple[int, int]) -> Box:
        """Shrink the box on every side (the opposite of `grown`).

        Parameters
        ----------
        amount : `int` or `tuple` [`int`, `int`]
            Pixels removed from every side, or an ``(x, y)`` pair for each axis.

        Returns
        -------
        box : `Box`
            The shrunk box; the empty box if nothing remains.

        Raises
        ------
        ImageError
            If ``amount`` is not an integer or an integer pair.
        """
        dx, dy = _pair(amount, "erode amount")
        return self.grown((-dx, -dy))

    def shifted(self, dx: int, dy: int) -> Box:
        """Move the box by ``(dx, dy)`` pixels.

        Parameters
        ----------
        dx, dy : `int`
            The shift along columns and rows, in pixels.

        Returns
        -------
        box : `Box`
            The moved box (an empty box stays empty).

        Raises
        ------
        ImageError
            If ``dx`` or ``dy`` is not an integer.
        """
        if self.is_empty:
            return self
        dx, dy = _as_int(dx, "dx"), _as_int(dy, "dy")
        return Box(self.min_x + dx, self.min_y + dy, self.max_x + dx, self.max_y + dy)

    # --- array access -----------------------------------------------------------------

    def slices(self, xy0: tuple[int, int] = (0, 0)) -> tuple[slice, slice]:
        """Return numpy slices ``(rows, columns)`` selecting this box from an array whose first pixel is ``xy0``.

        Parameters
        ----------
        xy0 : `tuple` [`int`, `int`], optional
            The parent-frame ``(x, y)`` of the array's first pixel.

        Returns
        -------
        rows, columns : `slice`
            Slices to index the array with; empty slices for an empty box.

        Raises
        ------
        ImageError
            If the box starts before ``xy0`` (which numpy would silently wrap around).
        """
        if self.is_empty:
            return slice(0, 0), slice(0, 0)
        x0, y0 = xy0
        if self.min_x < x0 or self.min_y < y0:
            raise ImageError(f"{self} starts before the array origin xy0=({x0}, {y0}).")
        return (
            slice(self.min_y - y0, self.max_y - y0 + 1),
            slice(self.min_x - x0, self.max_x - x0 + 1),
        )

    def __str__(self) -> str:
        if self.is_empty:
            return "Box(empty)"
        return f"Box(min=({self.min_x}, {self.min_y}), max=({self.max_x}, {self.max_y}))"
