"""Grouping exposures into visits: the ``group_exposures`` subtasks of `DefineVisitsTask`.

Three groupings are registered in `GROUP_EXPOSURES`:

``one-to-one``
    Every exposure is a visit of its own (visit ID = exposure ID, name = ``obs_id``),
    in visit system 0 (``one-to-one``).
``by-group-metadata``
    Exposures sharing the ``group`` field form one visit in system 1
    (``by-group-metadata``). The visit ID is the group name's digits read as an
    integer (SimCam groups ``<day_obs>_<seq_start:05d>`` give the first exposure's
    ID); the visit name is the group name.
``by-counter-and-exposure``
    Rubin's ``one-to-one-and-by-counter``: exposures sharing ``(day_obs, seq_start,
    seq_end)`` form a group. Every exposure gets a one-to-one visit; a group with
    ``seq_start != seq_end`` whose first exposure (``seq_num == seq_start``) is present
    also gets a multi-exposure visit in system 2 (``by-seq-start-end``) with the
    first exposure's ID and ``obs_id``, and that first exposure's one-to-one visit
    is renamed ``<obs_id>_first`` with ID ``int("9" + str(exposure_id))``. A group
    of one exposure is tagged with both systems.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar

from chamberlain.errors import TaskError
from chamberlain.pipe import Config, ConfigurableRegistry, Task, register_configurable

#: An exposure ``ExposureRecord`` (its fields are dynamic attributes, so typed loosely).
ExposureRecord = Any

__all__ = [
    "ExposureRecord",
    "GROUP_EXPOSURES",
    "VISIT_SYSTEMS",
    "ByCounterAndExposureTask",
    "ByGroupMetadataTask",
    "GroupExposuresConfig",
    "GroupExposuresTask",
    "OneToOneTask",
    "VisitDefinition",
]

ONE_TO_ONE = 0
BY_GROUP_METADATA = 1
BY_SEQ_START_END = 2

VISIT_SYSTEMS: dict[int, str] = {
    ONE_TO_ONE: "one-to-one",
    BY_GROUP_METADATA: "by-group-metadata",
    BY_SEQ_START_END: "by-seq-start-end",
}
"""Visit system ID -> name, as in the Rubin butler's ``VisitSystem`` enum."""


@dataclasses.dataclass(frozen=True)
class VisitDefinition:
    """One visit as a grouping defines it, before regions are computed.

    Attributes
    ----------
    instrument
        Instrument name.
    id
        Visit ID.
    name
        Visit name.
    exposures
        Member exposure records, sorted by exposure ID.
    visit_systems
        IDs of the visit systems the visit belongs to (see `VISIT_SYSTEMS`).
    """

    instrument: str
    id: int
    name: str
    exposures: tuple[ExposureRecord, ...]
    visit_systems: frozenset[int]


def _visit(
    instrument: str, visit_id: int, name: str, exposures: Sequence[Any], systems: set[int]
) -> VisitDefinition:
    ordered = tuple(sorted(exposures, key=lambda e: e.id))
    return VisitDefinition(instrument, visit_id, name, ordered, frozenset(systems))


class GroupExposuresConfig(Config):
    """Configuration of a grouping (the built-in groupings have no options)."""


GROUP_EXPOSURES = ConfigurableRegistry(
    "How `DefineVisitsTask` groups exposures into visits.", GroupExposuresConfig
)


class GroupExposuresTask(Task):
    """Base class of groupings: turn exposure records into `VisitDefinition` objects."""

    ConfigClass = GroupExposuresConfig
    #: The visit systems this grouping may put visits in.
    visit_systems: ClassVar[frozenset[int]] = frozenset()

    def group(self, exposures: Sequence[ExposureRecord]) -> list[VisitDefinition]:
        """Group exposures (all of one instrument, all on sky) into visits.

        Raises
        ------
        TaskError
            If the exposures cannot be grouped consistently.
        """
        raise NotImplementedError()

    def missing_exposures_match(
        self, exposures: Sequence[ExposureRecord]
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]] | None:
        """Exposure fields and value tuples that select other members of these groups.

        Used by incremental runs to pull in exposures already in the registry
        that belong to the same visits, with
        ``Registry.fetch_dimension_records("exposure", values, fields=fields)``.

        Parameters
        ----------
        exposures
            Exposure records of one instrument.

        Returns
        -------
        tuple[tuple[str, ...], list[tuple]] or None
            ``(fields, values)``; None means the grouping needs no other exposures.
        """
        return None


@register_configurable("one-to-one", GROUP_EXPOSURES)
class OneToOneTask(GroupExposuresTask):
    """Each exposure is a visit: ID = exposure ID, name = ``obs_id``."""

    visit_systems = frozenset({ONE_TO_ONE})

    def group(self, exposures: Sequence[ExposureRecord]) -> list[VisitDefinition]:
        return [
            _visit(e.instrument, e.id, e.obs_id, [e], {ONE_TO_ONE})
            for e in sorted(exposures, key=lambda e: e.id)
        ]


def group_name_to_id(group: str) -> int:
    """The visit ID of a group name: its decimal digits read as one integer.

    Raises
    ------
    TaskError
        If the name holds no digit.
    """
    digits = re.sub(r"\D", "", group)
    if not digits:
        raise TaskError(
            f"Group name {group!r} holds no digits, so it gives no visit ID; "
            "use the 'one-to-one' or 'by-counter-and-exposure' grouping for these exposures."
        )
    return int(digits)


@register_configurable("by-group-metadata", GROUP_EXPOSURES)
class ByGroupMetadataTask(GroupExposuresTask):
    """Exposures with the same ``group`` field form one visit (ID from the group name's digits)."""

    visit_systems = frozenset({BY_GROUP_METADATA})

    def group(self, exposures: Sequence[ExposureRecord]) -> list[VisitDefinition]:
        by_group: dict[str, list[ExposureRecord]] = defaultdict(list)
        for e in exposures:
            if e.group is None:
                raise TaskError(
                    f"Exposure {e.id} ({e.obs_id}) has no group, so 'by-group-metadata' cannot place it in a visit."
                )
            by_group[e.group].append(e)
        return [
            _visit(members[0].instrument, group_name_to_id(name), name, members, {BY_GROUP_METADATA})
            for name, members in sorted(by_group.items(), key=lambda item: min(e.id for e in item[1]))
        ]

    def missing_exposures_match(
        self, exposures: Sequence[ExposureRecord]
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]] | None:
        groups = sorted({(e.instrument, e.group) for e in exposures if e.group is not None})
        return (("instrument", "group"), groups) if groups else None


@register_configurable("by-counter-and-exposure", GROUP_EXPOSURES)
class ByCounterAndExposureTask(GroupExposuresTask):
    """One-to-one visits plus multi-exposure (snap) visits keyed by ``(day_obs, seq_start, seq_end)``."""

    visit_systems = frozenset({ONE_TO_ONE, BY_SEQ_START_END})

    def group(self, exposures: Sequence[ExposureRecord]) -> list[VisitDefinition]:
        by_key: dict[tuple[int, int, int], list[ExposureRecord]] = defaultdict(list)
        for e in exposures:
            if e.seq_start is None or e.seq_end is None or e.seq_num is None:
                raise TaskError(
                    f"Exposure {e.id} ({e.obs_id}) lacks seq_num/seq_start/seq_end, which "
                    "'by-counter-and-exposure' needs; use the 'one-to-one' grouping."
                )
            by_key[(e.day_obs, e.seq_start, e.seq_end)].append(e)
        visits: list[VisitDefinition] = []
        for (_, seq_start, seq_end), members in sorted(by_key.items()):
            members.sort(key=lambda e: e.seq_num)
            first = members[0]
            if seq_start == seq_end:
                visits.extend(
                    _visit(e.instrument, e.id, e.obs_id, [e], {ONE_TO_ONE, BY_SEQ_START_END}) for e in members
                )
                continue
            has_first = first.seq_num == seq_start
            for e in members:
                if has_first and e is first:
                    visits.append(
                        _visit(e.instrument, int("9" + str(e.id)), f"{e.obs_id}_first", [e], {ONE_TO_ONE})
                    )
                else:
                    visits.append(_visit(e.instrument, e.id, e.obs_id, [e], {ONE_TO_ONE}))
            if has_first:
                visits.append(_visit(first.instrument, first.id, first.obs_id, members, {BY_SEQ_START_END}))
            elif first.seq_num != 0:
                self.log.warning(
                    "First exposure (seq_num %d) of group day_obs=%s seq %d-%d is missing; "
                    "no multi-exposure visit is defined for it.",
                    seq_start,
                    first.day_obs,
                    seq_start,
                    seq_end,
                )
        visits.sort(key=lambda v: v.id)
        return visits

    def missing_exposures_match(
        self, exposures: Sequence[ExposureRecord]
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]] | None:
        keys = sorted(
            {(e.instrument, e.day_obs, e.seq_start, e.seq_end) for e in exposures if e.seq_start is not None}
            - {
                (e.instrument, e.day_obs, e.seq_start, e.seq_end)
                for e in exposures
                if e.seq_start == e.seq_end
            }
        )
        return (("instrument", "day_obs", "seq_start", "seq_end"), keys) if keys else None
