"""Collections: RUN, TAGGED, CHAINED and CALIBRATION, and chain maintenance."""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..errors import (
    CollectionCycleError,
    CollectionTypeError,
    MissingCollectionError,
    OrphanedRecordError,
    format_choices,
)
from ..naming import validate_collection_name

if TYPE_CHECKING:
    from ._database import Database


class CollectionType(enum.IntEnum):
    """The kinds of collection (codes as stored in ``collection.type``)."""

    RUN = 1
    """A dataset's permanent home; every dataset is in exactly one RUN."""
    TAGGED = 2
    """Any datasets, added and removed at will (one per dataset type and data ID)."""
    CHAINED = 3
    """An ordered list of other collections, searched in order."""
    CALIBRATION = 4
    """Datasets with validity ranges; several per data ID if the ranges don't overlap."""

    @classmethod
    def from_name(cls, name: str | CollectionType) -> CollectionType:
        """Parse a type name (case-insensitive).

        Parameters
        ----------
        name : `str` or `CollectionType`
            A type name such as ``"run"``, or a member (returned as it is).

        Returns
        -------
        type : `CollectionType`
            The member.

        Raises
        ------
        CollectionTypeError
            If ``name`` is not a type name; the message lists the valid ones.
        """
        if isinstance(name, CollectionType):
            return name
        try:
            return cls[name.upper()]
        except KeyError:
            raise CollectionTypeError(
                f"Unknown collection type {name!r}; valid types: {', '.join(t.name for t in cls)}."
            ) from None


@dataclasses.dataclass(frozen=True)
class CollectionRecord:
    """One row of the ``collection`` table."""

    id: int
    name: str
    type: CollectionType
    doc: str | None


class CollectionManager:
    """Registers, finds, chains and removes collections (the engine of `Registry`'s collection methods).

    Collection rows are cached in memory; `refresh` forgets them (needed only
    when another process changed collections).

    Parameters
    ----------
    db : `Database`
        The registry's database.
    tables : `dict` [`str`, `sqlalchemy.Table`]
        The registry's tables (``collection``, ``run``, ``collection_chain``).
    """

    def __init__(self, db: Database, tables: dict[str, sa.Table]) -> None:
        self._db = db
        self._collection = tables["collection"]
        self._run = tables["run"]
        self._chain = tables["collection_chain"]
        self._by_name: dict[str, CollectionRecord] = {}
        self._by_id: dict[int, CollectionRecord] = {}
        self._children: dict[int, tuple[int, ...]] = {}
        self._flat_cache: dict[tuple[str, ...], tuple[CollectionRecord, ...]] = {}

    def refresh(self) -> None:
        """Forget everything cached."""
        self._by_name.clear()
        self._by_id.clear()
        self._children.clear()
        self._flat_cache.clear()

    def _load(self) -> None:
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(sa.select(self._collection)).all()
            chains = conn.execute(
                sa.select(self._chain.c.parent, self._chain.c.child).order_by(
                    self._chain.c.parent, self._chain.c.position
                )
            ).all()
        self.refresh()
        for r in rows:
            rec = CollectionRecord(r.collection_id, r.name, CollectionType(r.type), r.doc)
            self._by_name[rec.name] = rec
            self._by_id[rec.id] = rec
        children: dict[int, list[int]] = {}
        for parent, child in chains:
            children.setdefault(parent, []).append(child)
        self._children = {k: tuple(v) for k, v in children.items()}

    # --- lookup ------------------------------------------------------------------------

    def get(self, name: str) -> CollectionRecord:
        """Return the record of a collection (from the cache; reloaded once if unknown).

        Parameters
        ----------
        name
            The collection name (`TypeError` if not a string).

        Returns
        -------
        CollectionRecord
            Its row; `MissingCollectionError`, listing the existing collections, if none.
        """
        if not isinstance(name, str):
            raise TypeError(f"Collection names are strings; got {name!r}.")
        rec = self._by_name.get(name)
        if rec is None:
            self._load()
            rec = self._by_name.get(name)
            if rec is None:
                raise MissingCollectionError(
                    f"Collection {name!r} does not exist; existing collections: {format_choices(self._by_name)}."
                )
        return rec

    def by_id(self, collection_id: int) -> CollectionRecord:
        """Return the record of a collection by its integer ID (reloading the cache on a miss).

        Parameters
        ----------
        collection_id : `int`
            The ``collection_id`` of its row.

        Returns
        -------
        record : `CollectionRecord`
            Its row.
        """
        rec = self._by_id.get(collection_id)
        if rec is None:
            self._load()
            rec = self._by_id[collection_id]
        return rec

    def names(self) -> list[str]:
        """Return every collection name (reads the ``collection`` table).

        Returns
        -------
        names : `list` [`str`]
            Sorted names.
        """
        self._load()
        return sorted(self._by_name)

    def children(self, parent: str) -> list[str]:
        """Return the direct children of a CHAINED collection, in order.

        Parameters
        ----------
        parent
            As for `Registry.get_collection_chain`, which documents the errors.

        Returns
        -------
        list [str]
            The children's names.
        """
        rec = self.get(parent)
        if rec.type is not CollectionType.CHAINED:
            raise CollectionTypeError(f"Collection {parent!r} is {rec.type.name}, not CHAINED.")
        return [self.by_id(c).name for c in self._children.get(rec.id, ())]

    def flatten(self, names: str | Sequence[str]) -> tuple[CollectionRecord, ...]:
        """Expand chains depth-first into non-chained collections, first occurrence wins.

        The result is cached per argument until a chain or collection changes.

        Parameters
        ----------
        names : `str` or `~collections.abc.Sequence` [`str`]
            Collection names, in search order.

        Returns
        -------
        records : `tuple` [`CollectionRecord`, ...]
            The non-chained collections, in search order, each once.

        Raises
        ------
        MissingCollectionError
            If a name does not exist.
        """
        key = (names,) if isinstance(names, str) else tuple(names)
        cached = self._flat_cache.get(key)
        if cached is not None:
            return cached
        out: list[CollectionRecord] = []
        seen: set[int] = set()

        def visit(rec: CollectionRecord) -> None:
            if rec.type is CollectionType.CHAINED:
                for child in self._children.get(rec.id, ()):
                    visit(self.by_id(child))
            elif rec.id not in seen:
                seen.add(rec.id)
                out.append(rec)

        for n in key:
            visit(self.get(n))
        result = tuple(out)
        self._flat_cache[key] = result
        return result

    def query(
        self,
        pattern: str | Iterable[str] = "*",
        types: Iterable[CollectionType | str] | None = None,
        flatten_chains: bool = False,
    ) -> list[str]:
        """Return the collection names matching glob pattern(s) and types, sorted by name.

        With ``flatten_chains`` the children of matching chains are listed
        (recursively) in place of the chains.

        Parameters
        ----------
        pattern, types, flatten_chains
            As ``pattern, collection_types, flatten_chains`` of `Registry.query_collections`.

        Returns
        -------
        list [str]
            The matching names.
        """
        self._load()
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        wanted = {CollectionType.from_name(t) for t in types} if types is not None else set(CollectionType)
        matches = [n for n in sorted(self._by_name) if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        if flatten_chains:
            out: list[str] = []
            for n in matches:
                for rec in self.flatten([n]):
                    if rec.name not in out:
                        out.append(rec.name)
            return [n for n in out if self._by_name[n].type in wanted]
        return [n for n in matches if self._by_name[n].type in wanted]

    # --- registration ------------------------------------------------------------------

    def register(self, name: str, type: CollectionType, doc: str | None = None) -> bool:
        """Register a collection; True if new, False if it existed with the same type.

        Safe against another process registering the same name at the same time
        (insert-or-compare in one transaction). `Registry.register_collection`
        documents the errors.

        Parameters
        ----------
        name, type, doc
            The collection's name, `CollectionType` and documentation string.

        Returns
        -------
        bool
            True if this call created it.
        """
        type = CollectionType.from_name(type)
        kind = "run" if type is CollectionType.RUN else f"{type.name.lower()} collection"
        validate_collection_name(name, kind)
        by_name = sa.select(self._collection).where(self._collection.c.name == name)
        with self._db.transaction() as conn:
            existing = conn.execute(by_name).first()
            created = False
            if existing is None:
                # Insert-or-compare: another process may register the same name at the same
                # moment. ON CONFLICT DO NOTHING waits for its transaction and then skips the
                # row (no exception, so an outer transaction survives); the row is read back
                # either way and compared.
                new_id = conn.execute(
                    self._db.insert(self._collection)
                    .values(name=name, type=int(type), doc=doc)
                    .on_conflict_do_nothing(index_elements=["name"])
                    .returning(self._collection.c.collection_id)
                ).scalar()
                created = new_id is not None
                existing = conn.execute(by_name).one()
                if created and type is CollectionType.RUN:
                    conn.execute(self._run.insert().values(collection_id=existing.collection_id))
            if existing.type != type:
                raise CollectionTypeError(
                    f"Collection {name!r} already exists as {CollectionType(existing.type).name}, "
                    f"not {type.name}."
                )
        rec = CollectionRecord(existing.collection_id, name, type, existing.doc)
        self._by_name[name] = rec
        self._by_id[rec.id] = rec
        return created

    # --- chains ------------------------------------------------------------------------

    def _chain_record(self, conn: sa.Connection, parent: str) -> CollectionRecord:
        stmt = sa.select(self._collection).where(self._collection.c.name == parent)
        if self._db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        if row is None:
            raise MissingCollectionError(f"Collection {parent!r} does not exist.")
        if row.type != CollectionType.CHAINED:
            raise CollectionTypeError(
                f"Collection {parent!r} is {CollectionType(row.type).name}; only CHAINED collections have children."
            )
        return CollectionRecord(row.collection_id, row.name, CollectionType(row.type), row.doc)

    def set_chain(self, parent: str, children: Sequence[str], flatten: bool = False) -> None:
        """Replace a chain's children (serialised by a lock on the parent row).

        Parameters
        ----------
        parent, children, flatten
            As for `Registry.set_collection_chain`, which documents the errors.
        """
        if isinstance(children, str):
            children = [children]
        with self._db.transaction() as conn:
            self._load()
            rec = self._chain_record(conn, parent)
            child_recs = [self.get(c) for c in children]
            if flatten:
                child_recs = list(self.flatten([c.name for c in child_recs]))
            ordered: list[CollectionRecord] = []
            for c in child_recs:
                if c.id not in {o.id for o in ordered}:
                    ordered.append(c)
            for c in ordered:
                self._check_cycle(rec, c)
            conn.execute(sa.delete(self._chain).where(self._chain.c.parent == rec.id))
            if ordered:
                conn.execute(
                    self._chain.insert(),
                    [{"parent": rec.id, "position": i, "child": c.id} for i, c in enumerate(ordered)],
                )
        self._children[rec.id] = tuple(c.id for c in ordered)
        self._flat_cache.clear()

    def _check_cycle(self, parent: CollectionRecord, child: CollectionRecord) -> None:
        if child.id == parent.id:
            raise CollectionCycleError(f"Chain {parent.name!r} cannot contain itself.")
        stack = [child.id]
        path: dict[int, int | None] = {child.id: None}
        while stack:
            current = stack.pop()
            for grandchild in self._children.get(current, ()):
                if grandchild == parent.id:
                    raise CollectionCycleError(
                        f"Adding {child.name!r} to chain {parent.name!r} would make a cycle: {child.name!r} "
                        f"already contains {parent.name!r}."
                    )
                if grandchild not in path:
                    path[grandchild] = current
                    stack.append(grandchild)

    def extend_chain(self, parent: str, children: Sequence[str]) -> None:
        """Append children to the end of a chain (existing members move).

        Parameters
        ----------
        parent, children
            As for `Registry.extend_collection_chain`.
        """
        self._move_into_chain(parent, children, at_start=False)

    def prepend_chain(self, parent: str, children: Sequence[str]) -> None:
        """Insert children at the start of a chain (existing members move).

        Parameters
        ----------
        parent, children
            As for `Registry.prepend_collection_chain`.
        """
        self._move_into_chain(parent, children, at_start=True)

    def _move_into_chain(self, parent: str, children: Sequence[str], *, at_start: bool) -> None:
        """Put ``children`` at the start or end of the chain, moving those already in it (one transaction)."""
        children = [children] if isinstance(children, str) else list(children)
        with self._db.transaction():
            current = [c for c in self.children(parent) if c not in children]
            self.set_chain(parent, children + current if at_start else current + children)

    def remove_from_chain(self, parent: str, children: Sequence[str]) -> None:
        """Remove children from a chain; a name not in the chain is an error.

        Parameters
        ----------
        parent, children
            As for `Registry.remove_from_collection_chain`.
        """
        children = [children] if isinstance(children, str) else list(children)
        with self._db.transaction():
            current = self.children(parent)
            missing = [c for c in children if c not in current]
            if missing:
                raise MissingCollectionError(
                    f"Collection(s) {missing} are not in chain {parent!r}; its children are {current}."
                )
            self.set_chain(parent, [c for c in current if c not in children])

    # --- removal -----------------------------------------------------------------------

    def parents(self, name: str) -> list[str]:
        """Return the chains that directly contain a collection (one SELECT), sorted.

        Parameters
        ----------
        name
            The collection name.

        Returns
        -------
        list [str]
            The names of the chains.
        """
        rec = self.get(name)
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(sa.select(self._chain.c.parent).where(self._chain.c.child == rec.id)).all()
        return sorted(self.by_id(r[0]).name for r in rows)

    def remove(self, name: str) -> None:
        """Remove a collection; see `Registry.remove_collection`.

        A collection still in a chain cannot be removed. Removing a RUN removes
        its datasets (the butler removes their files first); removing a TAGGED
        or CALIBRATION collection removes only the associations; removing a
        chain leaves its children.

        Parameters
        ----------
        name
            The collection name.
        """
        rec = self.get(name)
        parents = self.parents(name)
        if parents:
            raise OrphanedRecordError(
                f"Collection {name!r} is a child of chain(s) {parents}; remove it from them first."
            )
        with self._db.transaction() as conn:
            try:
                conn.execute(sa.delete(self._collection).where(self._collection.c.collection_id == rec.id))
            except sa.exc.IntegrityError as err:
                raise OrphanedRecordError(
                    f"Collection {name!r} cannot be removed: {' '.join(str(err.orig).split())}. Datasets with "
                    "files must be removed through the Butler (remove_runs), which deletes the files too."
                ) from None
        self._by_name.pop(name, None)
        self._by_id.pop(rec.id, None)
        self._children.pop(rec.id, None)
        self._flat_cache.clear()
