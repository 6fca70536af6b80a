"""The sky-pixel index and the stored exact overlaps between spatial elements.

Every spatial record (visit, visit_detector_region, tract, patch) gets rows in
``<element>_skypix`` for the pixels of the common sky pixelization (HTM level
7) that touch the bounding circle of its region. The index is a superset by
design: it only proposes candidates, and every candidate is then tested
exactly with lsst.sphgeom.

Why HTM 7: sphgeom computes HTM envelopes several times faster than HEALPix
ones (measured ~6 us per detector-sized region against ~90 us for HEALPix
nside 256), and level-7 trixels (~0.3 deg across) are a little larger than a
detector and comparable to a patch, so most regions need one to three index
rows and candidate lists stay short. It is also the Rubin butler's common
pixelization, so ``htm7`` data IDs mean the same thing in both systems.

Overlaps between observation regions (visit, visit_detector_region) and
skymap regions (tract, patch) are computed once, whichever side is inserted
second, and stored in ``<a>_<b>_overlap`` so spatial joins are plain SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import lsst.sphgeom as sg
import sqlalchemy as sa

from ..errors import DimensionRecordError
from ..geometry.htm import pixel_lists, region_pixels
from ..schema import overlap_table_name, spatial_pairs

if TYPE_CHECKING:
    from ..dimensions import DimensionElement, DimensionUniverse
    from ._database import Database, PreparedStatement

KeyTuple = tuple[Any, ...]


def regions_overlap(a: sg.Region, b: sg.Region) -> bool:
    """Test exactly whether two sphgeom regions overlap.

    Parameters
    ----------
    a, b : `lsst.sphgeom.Region`
        The regions.

    Returns
    -------
    overlap : `bool`
        True if they share a point (sphgeom's relationship bits decide when
        ``overlaps`` cannot).
    """
    result = a.overlaps(b)
    if result is None:  # sphgeom could not decide; fall back to the relationship bits
        return not (a.relate(b) & sg.DISJOINT)
    return bool(result)


class SpatialIndex:
    """Maintains ``<element>_skypix`` and ``<a>_<b>_overlap`` tables.

    Parameters
    ----------
    db
        The database.
    universe
        The dimension universe.
    tables
        The repository's tables by name.
    """

    def __init__(self, db: Database, universe: DimensionUniverse, tables: dict[str, sa.Table]) -> None:
        self._db = db
        self._universe = universe
        self._tables = tables
        common = universe.common_skypix
        if common.system != "htm":
            raise NotImplementedError(
                f"The sky-pixel index needs an HTM common pixelization, not {common.name!r}."
            )
        self._level = common.level
        self._nonempty: set[str] = set()
        self._probes: dict[str, PreparedStatement] = {}
        self._partners: dict[str, list[tuple[DimensionElement, bool]]] = defaultdict(list)
        for a, b in spatial_pairs(universe):
            self._partners[a.name].append((b, True))
            self._partners[b.name].append((a, False))

    def key_names(self, element: DimensionElement) -> list[str]:
        """Return the column names identifying a record of ``element`` in index tables.

        Parameters
        ----------
        element : `DimensionElement`
            A spatial element.

        Returns
        -------
        names : `list` [`str`]
            Its required dimensions' names.
        """
        return [d.name for d in element.required]

    def insert(
        self,
        conn: sa.Connection,
        element: DimensionElement,
        keys: Sequence[KeyTuple],
        regions: Sequence[sg.Region | None],
        encoded: Sequence[bytes | None] | None = None,
    ) -> int:
        """Index new records and store their overlaps with the other families (bulk INSERTs on ``conn``).

        Parameters
        ----------
        conn : `sqlalchemy.Connection`
            The connection of the inserting transaction.
        element : `DimensionElement`
            The spatial element.
        keys : `~collections.abc.Sequence` [`tuple`]
            The records' key values, in `key_names` order.
        regions : `~collections.abc.Sequence` [`lsst.sphgeom.Region` or None]
            Their regions (None: not indexed).
        encoded : `~collections.abc.Sequence` [`bytes` or None], optional
            The regions' encodings, if already computed.

        Returns
        -------
        count : `int`
            The number of overlap rows written.
        """
        names = self.key_names(element)
        skypix = self._tables[f"{element.name}_skypix"]
        owner, pixel = region_pixels(self._level, regions, encoded)
        rows = [(p, *keys[o]) for o, p in zip(owner, pixel)]
        self._db.insert_many(conn, skypix, ["skypix", *names], rows)
        written = 0
        if element.name in self._partners:
            self._nonempty.add(element.name)
        lists: list[list[int]] | None = None
        for partner, element_first in self._partners.get(element.name, []):
            if not self._has_rows(conn, partner):
                continue
            if lists is None:
                lists = pixel_lists(len(regions), owner, pixel)
            written += self._compute(conn, element, partner, element_first, keys, regions, lists)
        return written

    def count_overlaps(self, a: DimensionElement, b: DimensionElement) -> int:
        """Return the number of stored exact overlaps between records of ``a`` and ``b`` (either order).

        Parameters
        ----------
        a, b
            Two spatial elements of different families.

        Returns
        -------
        int
            See `Registry.count_overlaps`.

        Raises
        ------
        DimensionRecordError
            If no overlaps are stored between these two elements.
        """
        pairs = [(x.name, y.name) for x, y in spatial_pairs(self._universe)]
        if (a.name, b.name) not in pairs:
            if (b.name, a.name) not in pairs:
                raise DimensionRecordError(
                    f"No overlaps are stored between {a.name!r} and {b.name!r}; stored pairs: "
                    f"{', '.join(f'{x}/{y}' for x, y in pairs)}."
                )
            a, b = b, a
        table = self._tables[overlap_table_name(a, b)]
        with self._db.transaction(write=False) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    def delete(self, conn: sa.Connection, element: DimensionElement, keys: Sequence[KeyTuple]) -> None:
        """Remove index and overlap rows of some records (before their regions are replaced).

        Must run before the records' stored regions change: the index rows to
        delete are recomputed from the stored regions, so each is removed by
        its full primary key.

        Parameters
        ----------
        conn : `sqlalchemy.Connection`
            The connection of the transaction.
        element : `DimensionElement`
            The spatial element.
        keys : `~collections.abc.Sequence` [`tuple`]
            The records' key values, in `key_names` order.
        """
        names = self.key_names(element)
        table = self._tables[element.name]
        own_cols = [table.c[self._column(element, n)] for n in names]
        stale: list[tuple[Any, ...]] = []
        for chunk in self._db.batches(list(keys), per_item=len(names)):
            stmt = sa.select(*own_cols, table.c.region).where(
                sa.tuple_(*own_cols).in_([tuple(k) for k in chunk])
            )
            found = [(tuple(row[:-1]), row[-1]) for row in conn.execute(stmt) if row[-1] is not None]
            encoded = [bytes(data) for _, data in found]
            regions = [sg.Region.decode(e) for e in encoded]
            # The rows were written by whichever cover the insert used (batch or sphgeom,
            # depending on its size): remove what either gives.
            pairs: set[tuple[int, int]] = set()
            for method in ("batch", "sphgeom"):
                owner, pixel = region_pixels(self._level, regions, encoded, method=method)
                pairs.update(zip(owner, pixel))
            stale.extend((p, *found[o][0]) for o, p in sorted(pairs))
        skypix = self._tables[f"{element.name}_skypix"]
        pk = sa.tuple_(skypix.c.skypix, *[skypix.c[n] for n in names])
        for chunk in self._db.batches(stale, per_item=len(names) + 1):
            conn.execute(sa.delete(skypix).where(pk.in_(list(chunk))))
        for partner, element_first in self._partners.get(element.name, []):
            a, b = (element, partner) if element_first else (partner, element)
            overlap = self._tables[overlap_table_name(a, b)]
            cols = sa.tuple_(*[overlap.c[n] for n in names])
            for chunk in self._db.batches(list(keys), per_item=len(names)):
                conn.execute(sa.delete(overlap).where(cols.in_([tuple(k) for k in chunk])))

    def _compute(
        self,
        conn: sa.Connection,
        element: DimensionElement,
        partner: DimensionElement,
        element_first: bool,
        keys: Sequence[KeyTuple],
        regions: Sequence[sg.Region | None],
        pixel_lists: Sequence[list[int]],
    ) -> int:
        partner_table = self._tables[partner.name]
        partner_skypix = self._tables[f"{partner.name}_skypix"]
        pnames = self.key_names(partner)
        all_pixels = sorted({p for pix in pixel_lists for p in pix})
        by_pixel: dict[int, list[KeyTuple]] = defaultdict(list)
        partner_regions: dict[KeyTuple, sg.Region] = {}
        join_on = sa.and_(*[partner_skypix.c[n] == partner_table.c[self._column(partner, n)] for n in pnames])
        select_cols = [
            partner_skypix.c.skypix,
            *[partner_skypix.c[n] for n in pnames],
            partner_table.c.region,
        ]
        for chunk in self._db.batches(all_pixels):
            stmt = (
                sa.select(*select_cols)
                .select_from(partner_skypix.join(partner_table, join_on))
                .where(partner_skypix.c.skypix.in_(list(chunk)))
            )
            for row in conn.execute(stmt):
                key = tuple(row[1:-1])
                by_pixel[row[0]].append(key)
                if key not in partner_regions and row[-1] is not None:
                    partner_regions[key] = sg.Region.decode(row[-1])
        if not partner_regions:
            return 0
        names = self.key_names(element)
        out: list[dict[str, Any]] = []
        for key, region, pix in zip(keys, regions, pixel_lists):
            if region is None:
                continue
            seen: set[KeyTuple] = set()
            for p in pix:
                for pkey in by_pixel.get(p, ()):
                    if pkey in seen:
                        continue
                    seen.add(pkey)
                    pregion = partner_regions.get(pkey)
                    if pregion is not None and regions_overlap(region, pregion):
                        pair = dict(zip(names, key))
                        pair.update(zip(pnames, pkey))
                        out.append(pair)
        if out:
            a, b = (element, partner) if element_first else (partner, element)
            table = self._tables[overlap_table_name(a, b)]
            columns = list(out[0])
            self._db.insert_many(conn, table, columns, [tuple(p.values()) for p in out], on_conflict="ignore")
        return len(out)

    def _has_rows(self, conn: sa.Connection, element: DimensionElement) -> bool:
        """Whether an element's table has any row.

        Only "yes" is remembered: another process may add rows at any time, but
        rows are (almost) never all removed, and a stale "yes" only costs one
        candidate query that finds nothing.
        """
        if element.name in self._nonempty:
            return True
        probe = self._probes.get(element.name)
        if probe is None:
            table = self._tables[element.name]
            probe = self._probes[element.name] = self._db.prepare(
                sa.select(sa.literal_column("1")).select_from(table).limit(1)
            )
        found = bool(self._db.fetch_tuples(probe))
        if found:
            self._nonempty.add(element.name)
        return found

    @staticmethod
    def _column(element: DimensionElement, dim_name: str) -> str:
        """Column of ``element``'s own table holding the value of dimension ``dim_name``."""
        if element.is_dimension and dim_name == element.name:
            return element.primary_key.name  # type: ignore[attr-defined]
        return dim_name
