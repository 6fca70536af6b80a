"""Tract and patch pixel boxes: the image layer's `~chamberlain.image.Box`.

``PixelBox`` is kept as an alias so ``chamberlain.skymap.PixelBox`` still imports;
there is one box class (inclusive integer bounds, pixel ``i`` spanning
``[i - 0.5, i + 0.5)``).
"""

from __future__ import annotations

from chamberlain.image.box import Box

__all__ = ["PixelBox"]

PixelBox = Box
