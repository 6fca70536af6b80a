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
        """Smallest integer box holding every pixel the float box reaches ("EXPAND").

        ``min = ceil(fmin - 0.5)``, ``max = floor(fmax + 0.5)`` per axis.
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
        """Outer corners in the order (minX,minY), (maxX,minY), (maxX,maxY), (minX,maxY)."""
        x0, y0, x1, y1 = self.float_edges
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]

    def contains_point(self, x: int, y: int) -> bool:
        """Whether the integer pixel ``(x, y)`` lies in the box."""
        return self.min_x <= x <= self.max_x and self.min_y <= y <= self.max_y

    def contains(self, other: PixelBox) -> bool:
        """Whether ``other`` lies entirely inside this box (an empty box always does)."""
        if other.is_empty:
            return True
        return (
            self.min_x <= other.min_x
            and self.min_y <= other.min_y
            and other.max_x <= self.max_x
            and other.max_y <= self.max_y
        )

    def grown(self, border: int) -> PixelBox:
        """The box grown by ``border`` pixels on every side."""
        return PixelBox(self.min_x - border, self.min_y - border, self.max_x + border, self.max_y + border)

    def clipped(self, other: PixelBox) -> PixelBox:
        """Intersection with ``other`` (possibly empty)."""
        return PixelBox(
            max(self.min_x, other.min_x),
            max(self.min_y, other.min_y),
            min(self.max_x, other.max_x),
            min(self.max_y, other.max_y),
        )

    def shifted(self, dx: int, dy: int) -> PixelBox:
        """The box moved by ``(dx, dy)``."""
        return PixelBox(self.min_x + dx, self.min_y + dy, self.max_x + dx, self.max_y + dy)
