"""The observing plan behind `simulate_raws`: which exposures, when and where.

The plan repeats a 10-exposure cycle (position in the cycle -> exposure):

====  ===========================================================
0     science, single 30 s exposure
1, 2  science snap pair: two 15 s exposures, one pointing, one group
3     bias (0 s)
4     science, single 30 s
5, 6  science snap pair
7     flat (5 s, dome: cannot see the sky)
8     science, single 30 s
9     dark (30 s)
====  ===========================================================

With ``calibrations=False`` positions 3, 7 and 9 are science singles too. A
snap pair cut off by ``n_exposures`` becomes a single. Each science group
points at the next of `FIELDS` in turn, dithered by up to 0.05 degrees with a
random sky angle; calibration frames keep the previous pointing. Nights last
at most 9 hours (the next starts 24 h after the previous one); a group never
straddles an observing-day boundary, and ``seq_num`` restarts at 1 on each new
observing day.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .base import day_obs_from_tai_ns

FIELDS: tuple[tuple[float, float], ...] = ((150.0, 2.2), (150.35, 2.2), (150.175, 2.5))
"""Field centres (RA, Dec degrees) the science exposures dither around."""

DITHER_DEG = 0.05
NIGHT_NS = 9 * 3600 * 1_000_000_000
_SECOND = 1_000_000_000
_OVERHEAD = 10 * _SECOND  # slew + readout between groups
_SNAP_GAP = 2 * _SECOND  # readout between the snaps of a pair
_DAY_OFFSET_S = 12 * 3600

_CYCLE = ("single", "snap", "snap", "bias", "single", "snap", "snap", "flat", "single", "dark")
_FILTERS = ("SimCam-g", "SimCam-r", "SimCam-i", "SimCam-z")
_FILTER_WEIGHTS = (0.2, 0.4, 0.3, 0.1)
_EXPTIME = {"single": 30.0, "snap": 15.0, "bias": 0.0, "flat": 5.0, "dark": 30.0}
_OBSTYPE = {"single": "science", "snap": "science", "bias": "bias", "flat": "flat", "dark": "dark"}


@dataclasses.dataclass(frozen=True)
class PlannedExposure:
    """One planned exposure (all times TAI nanoseconds since 1970)."""

    index: int
    observation_type: str
    physical_filter: str
    exposure_time: float
    begin_ns: int
    day_obs: int
    seq_num: int
    seq_start: int
    seq_end: int
    field: int
    ra: float
    dec: float
    rotation: float
    seeing: float

    @property
    def exposure_id(self) -> int:
        """``day_obs * 100000 + seq_num``."""
        return self.day_obs * 100_000 + self.seq_num

    @property
    def obs_id(self) -> str:
        """``SC_O_<day_obs>_<seq_num:06d>``."""
        return f"SC_O_{self.day_obs}_{self.seq_num:06d}"

    @property
    def group(self) -> str:
        """``<day_obs>_<seq_start:05d>``: its digits are the first exposure's ID."""
        return f"{self.day_obs}_{self.seq_start:05d}"


def _groups(n_exposures: int, calibrations: bool) -> list[list[str]]:
    kinds = [_CYCLE[i % len(_CYCLE)] for i in range(n_exposures)]
    if not calibrations:
        kinds = ["single" if k in ("bias", "flat", "dark") else k for k in kinds]
    groups: list[list[str]] = []
    i = 0
    while i < len(kinds):
        if kinds[i] == "snap" and i + 1 < len(kinds) and kinds[i + 1] == "snap":
            groups.append(["snap", "snap"])
            i += 2
        else:
            groups.append(["single" if kinds[i] == "snap" else kinds[i]])
            i += 1
    return groups


def plan_exposures(
    n_exposures: int, seed: int, start_ns: int, first_seq_num: int = 1, calibrations: bool = True
) -> list[PlannedExposure]:
    """Plan the exposures, in time order (see the module docstring for the pattern)."""
    rng = np.random.default_rng(seed)
    out: list[PlannedExposure] = []
    t = start_ns
    night_start = start_ns
    day: int | None = None
    seq = first_seq_num
    science_groups = 0
    pointing = (FIELDS[0][0], FIELDS[0][1], 0.0, 0)
    current_filter = _FILTERS[1]
    for kinds in _groups(n_exposures, calibrations):
        times = [_EXPTIME[k] for k in kinds]
        duration = sum(round(x * _SECOND) for x in times) + _SNAP_GAP * (len(kinds) - 1)
        if t + duration > night_start + NIGHT_NS:
            night_start += 86_400 * _SECOND
            t = max(t, night_start)
        if day_obs_from_tai_ns(t, _DAY_OFFSET_S) != day_obs_from_tai_ns(t + duration, _DAY_OFFSET_S):
            day_len = 86_400 * _SECOND
            t = ((t - _DAY_OFFSET_S * _SECOND) // day_len + 1) * day_len + _DAY_OFFSET_S * _SECOND
        this_day = day_obs_from_tai_ns(t, _DAY_OFFSET_S)
        if day is not None and this_day != day:
            seq = 1
        day = this_day
        if _OBSTYPE[kinds[0]] == "science":
            field = science_groups % len(FIELDS)
            science_groups += 1
            ra0, dec0 = FIELDS[field]
            d_ra, d_dec = rng.uniform(-DITHER_DEG, DITHER_DEG, size=2)
            pointing = (
                (ra0 + d_ra / math.cos(math.radians(dec0))) % 360.0,
                dec0 + d_dec,
                float(rng.uniform(0.0, 360.0)),
                field,
            )
            current_filter = str(rng.choice(_FILTERS, p=_FILTER_WEIGHTS))
            physical_filter = current_filter
        elif kinds[0] == "flat":
            physical_filter = str(rng.choice(_FILTERS))
        else:
            physical_filter = current_filter
        seeing = float(rng.uniform(0.6, 1.1))
        seq_start, seq_end = seq, seq + len(kinds) - 1
        for kind, exptime in zip(kinds, times, strict=True):
            out.append(
                PlannedExposure(
                    index=len(out),
                    observation_type=_OBSTYPE[kind],
                    physical_filter=physical_filter,
                    exposure_time=exptime,
                    begin_ns=t,
                    day_obs=day,
                    seq_num=seq,
                    seq_start=seq_start,
                    seq_end=seq_end,
                    field=pointing[3],
                    ra=float(pointing[0]),
                    dec=float(pointing[1]),
                    rotation=pointing[2],
                    seeing=seeing,
                )
            )
            seq += 1
            t += round(exptime * _SECOND) + _SNAP_GAP
        t += _OVERHEAD - _SNAP_GAP
    return out
