"""DiscreteSkyMap: one square tract at each listed sky position."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any, ClassVar

from .base import BaseSkyMap
from .config import DiscreteSkyMapConfig
from .tract import TractInfo

__all__ = ["DiscreteSkyMap"]


class DiscreteSkyMap(BaseSkyMap):
    """Tracts centred on ``ra_list[i], dec_list[i]`` with half-size ``radius_list[i]`` (degrees).

    Searches use the base algorithms (`find_tract` = nearest centre).

    Parameters
    ----------
    config : `DiscreteSkyMapConfig`, `~collections.abc.Mapping` or None
        The config, a mapping of its keys (``ra_list``, ``dec_list``,
        ``radius_list`` and the common ones), or `None`.
    **kwargs
        Config keys overriding those in ``config``.

    Raises
    ------
    SkyMapError
        If a config value is invalid; the message names the key.
    """

    config_class: ClassVar[type[DiscreteSkyMapConfig]] = DiscreteSkyMapConfig
    config: DiscreteSkyMapConfig

    def __init__(self, config: DiscreteSkyMapConfig | Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)

    def __len__(self) -> int:
        return len(self.config.radius_list)

    def _make_tract(self, tract_id: int) -> TractInfo:
        c = self.config
        return TractInfo(
            tract_id,
            math.radians(c.ra_list[tract_id]) % (2 * math.pi),
            math.radians(c.dec_list[tract_id]),
            math.radians(c.radius_list[tract_id]),
            c,
        )

    def _pack_subclass_config(self) -> bytes:
        fmt = f"<{len(self)}d"
        c = self.config
        return struct.pack(fmt, *c.ra_list) + struct.pack(fmt, *c.dec_list) + struct.pack(fmt, *c.radius_list)
