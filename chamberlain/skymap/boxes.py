"""Inclusive integer pixel boxes (the Rubin ``Box2I`` convention).

Pixel ``i`` has its centre at ``i`` and covers ``[i - 0.5, i + 0.5]``; a box
``[min_x..max_x] x [min_y..max_y]`` includes both ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["PixelBox"]


@dataclass(frozen=True, slots=True)
class PixelBox:
    """An inclusive integer pixel box; empty when ``max < min`` on an axis."""

    min_x: int
    min_y: int
    max_x: int
    max_y: int

    @classmethod
    def from_float_box(cls, min_x: float, min_y: float, max_x: float, max_y: float) -> PixelBox:
        """Return the smallest integer box holding every pixel the float box reaches ("EXPAND").

        ``min = ceil(fmin - 0.5)``, ``max = floor(fmax + 0.5)`` per axis.

        Parameters
        ----------
        min_x, min_y : `float`
            The lower bounds of the float box, in pixels.
        max_x, max_y : `float`
            The upper bounds of the float box, in pixels.

        Returns
        -------
        box : `PixelBox`
            The integer box (inclusive bounds).
        """
        return cls(
            math.ceil(min_x - 0.5),
            math.ceil(min_y - 0.5),
            math.floor(max_x + 0.5),
            math.floor(max_y + 0.5),
        )

    @property
    def width(self) -> int:
        """Number of columns (0 when empty)."""
        return max(self.max_x - self.min_x + 1, 0)

    @property
    def height(self) -> int:
        """Number of rows (0 when empty)."""
        return max(self.max_y - self.min_y + 1, 0)

    @property
    def is_empty(self) -> bool:
        """Whether the box holds no pixel."""
        return self.width == 0 or self.height == 0

    @property
    def float_edges(self) -> tuple[float, float, float, float]:
        """Outer pixel edges ``(min_x - 0.5, min_y - 0.5, max_x + 0.5, max_y + 0.5)``."""
        return (self.min_x - 0.5, self.min_y - 0.5, self.max_x + 0.5, self.max_y + 0.5)

    def float_corners(self) -> list[tuple[float, float]]:
        """Return the outer corners in the order (minX,minY), (maxX,minY), (maxX,maxY), (minX,maxY).

        Returns
        -------
        corners : `list` [`tuple` [`float`, `float`]]
            The corners of `float_edges`, counter-clockwise.
        """
        x0, y0, x1, y1 = self.float_edges
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]

    def contains_point(self, x: int, y: int) -> bool:
        """Test whether the integer pixel ``(x, y)`` lies in the box.

        Parameters
        ----------
        x, y : `int`
            The pixel column and row.

        Returns
        -------
        contains : `bool`
            True if ``min_x <= x <= max_x`` and ``min_y <= y <= max_y``.
        """
        return self.min_x <= x <= self.max_x and self.min_y <= y <= self.max_y

    def contains(self, other: PixelBox) -> bool:
        """Test whether ``other`` lies entirely inside this box (an empty box always does).

        Parameters
        ----------
        other : `PixelBox`
            The box to test.

        Returns
        -------
        contains : `bool`
            True if every pixel of ``other`` is in this box.
        """
        if other.is_empty:
            return True
        return (
            self.min_x <= other.min_x
            and self.min_y <= other.min_y
            and other.max_x <= self.max_x
            and other.max_y <= self.max_y
        )

    def grown(self, border: int) -> PixelBox:
        """Return the box grown by ``border`` pixels on every side.

        Parameters
        ----------
        border : `int`
            Pixels added on every side; negative shrinks.

        Returns
        -------
        box : `PixelBox`
            The grown box.
        """
        return PixelBox(self.min_x - border, self.min_y - border, self.max_x + border, self.max_y + border)

    def clipped(self, other: PixelBox) -> PixelBox:
        """Return the intersection with ``other`` (possibly empty).

        Parameters
        ----------
        other : `PixelBox`
            The box to clip to.

        Returns
        -------
        box : `PixelBox`
            The common pixels; `is_empty` if there are none.
        """
        return PixelBox(
            max(self.min_x, other.min_x),
            max(self.min_y, other.min_y),
            min(self.max_x, other.max_x),
            min(self.max_y, other.max_y),
        )

    def shifted(self, dx: int, dy: int) -> PixelBox:
        """Return the box moved by ``(dx, dy)``.

        Parameters
        ----------
        dx, dy : `int`
            The shift along columns and rows, in pixels.

        Returns
        -------
        box : `PixelBox`
            The moved box.
        """
        return PixelBox(self.min_x + dx, self.min_y + dy, self.max_x + dx, self.max_y + dy)
