"""The rules for names that users choose: collections and dataset types.

Names become parts of file paths (a RUN name is the first directories of its
datasets' files) and of command lines (``*``, ``?`` and ``[`` are glob
characters there), so they are checked when they are defined:

Collection names (RUN, TAGGED, CHAINED, CALIBRATION)
    ASCII letters, digits and ``_ - . + @ = , :``, with ``/`` between
    components (``HSC/runs/RC2/w_2024_10/DM-12345``, ``u/someone/test-1``).
    A component may not be empty (no leading, trailing or doubled ``/``) and
    may not be ``.`` or ``..``. At most `MAX_NAME_LENGTH` (255) characters in
    all and `MAX_COMPONENT_LENGTH` (128) per component.
Dataset type names
    ASCII letters, digits and ``_``, not starting with a digit; ``.`` only
    separates a component (``calexp.wcs``). At most
    `MAX_DATASET_TYPE_NAME_LENGTH` (128) characters.

Everything else (spaces, backslashes, ``%``, control characters, line
separators, non-ASCII letters) is refused. Names are never URL-decoded:
``%2e%2e`` is refused for its ``%``, not read as ``..``.

This module is a bottom layer: it imports only the standard library and
`chamberlain.errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from chamberlain.errors import InvalidNameError

__all__ = [
    "MAX_COMPONENT_LENGTH",
    "MAX_DATASET_TYPE_NAME_LENGTH",
    "MAX_NAME_LENGTH",
    "validate_collection_name",
    "validate_dataset_type_name",
]

#: Longest collection name (the ``collection.name`` column holds 256).
MAX_NAME_LENGTH = 255
#: Longest ``/``-separated component of a collection name (one directory level).
MAX_COMPONENT_LENGTH = 128
#: Longest dataset type name, component included (the ``dataset_type.name`` column holds 128).
MAX_DATASET_TYPE_NAME_LENGTH = 128

_COLLECTION_CHARS = re.compile(r"[A-Za-z0-9_\-.+@=,:/]*")
_DATASET_TYPE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_GLOB_CHARS = frozenset("*?[]")

#: A run's first component is a folder in the repository root, beside the repository's own files
#: (chamberlain.yaml, chamberlain.sqlite3 and its -wal/-shm/-journal files, datastore.yaml, hidden
#: markers and temporaries): a run named after one of them would break the repository.
_RESERVED_PREFIXES = ("chamberlain.", "chamberlain-", ".chamberlain")
_TEMPORARY = re.compile(r"\..+\.tmp-[0-9]+")
_RESERVED_NAMES = frozenset({"datastore.yaml"})
_COLLECTION_RULES = (
    "names: ASCII letters, digits, _-.+@=,: and / between non-empty components other than '.' and '..'; "
    f"at most {MAX_NAME_LENGTH} characters, {MAX_COMPONENT_LENGTH} per component"
)
_DATASET_TYPE_RULES = (
    "names: ASCII letters, digits and _, not starting with a digit, with '.' only before a component; "
    f"at most {MAX_DATASET_TYPE_NAME_LENGTH} characters"
)


def _shown(name: str) -> str:
    """``repr(name)``, shortened for very long names (the message stays readable)."""
    if len(name) <= 80:
        return repr(name)
    return f"{name[:60]!r}... ({len(name)} characters)"


def _first_bad(name: str, pattern: re.Pattern[str]) -> tuple[int, str] | None:
    """Position and character of the first character of ``name`` that ``pattern`` does not accept."""
    match = pattern.match(name)
    end = match.end() if match else 0
    return None if end == len(name) else (end, name[end])


def validate_collection_name(name: object, kind: str = "collection") -> str:
    """Check a collection name against the rules of the module documentation.

    Parameters
    ----------
    name
        The proposed name.
    kind
        What the name is for, as the message should say it (``"run"``,
        ``"chained collection"``...).

    Returns
    -------
    name : `str`
        The name, unchanged.

    Raises
    ------
    InvalidNameError
        If the name breaks a rule; the message names the value, the rule broken
        and the rules.
    """
    return _checked(name, kind, _COLLECTION_RULES, _collection_problem)


def _checked(name: object, kind: str, rules: str, problem_of: Callable[[str], str | None]) -> str:
    """Return ``name`` if it is a string ``problem_of`` finds no problem with, else raise.

    The message reads ``invalid <kind> name <name>: <problem> (<rules>)``.
    """
    if not isinstance(name, str):
        raise InvalidNameError(f"invalid {kind} name {name!r}: names are strings ({rules})")
    problem = problem_of(name)
    if problem is not None:
        raise InvalidNameError(f"invalid {kind} name {_shown(name)}: {problem} ({rules})")
    return name


def _collection_problem(name: str) -> str | None:
    if not name:
        return "the name is empty"
    bad = _first_bad(name, _COLLECTION_CHARS)
    if bad is not None:
        position, char = bad
        reason = f"character {char!r} at position {position} is not allowed"
        if char in _GLOB_CHARS:
            reason += " (*, ?, [ and ] are glob characters, kept for searches)"
        return reason
    if len(name) > MAX_NAME_LENGTH:
        return f"it has {len(name)} characters"
    if name.startswith("/"):
        return "it starts with '/'"
    first = name.split("/", 1)[0]
    lowered = first.lower()
    if lowered.startswith(_RESERVED_PREFIXES) or lowered in _RESERVED_NAMES or _TEMPORARY.fullmatch(first):
        return (
            f"its first component {first!r} could be taken for one of the repository's own files (names "
            "starting with 'chamberlain.', 'chamberlain-' or '.chamberlain', 'datastore.yaml', and "
            "temporary names '.<name>.tmp-<pid>' are reserved)"
        )
    for component in name.split("/"):
        if not component:
            return "it has an empty component (a trailing or doubled '/')"
        if component in (".", ".."):
            return f"component {component!r} is not allowed"
        if len(component) > MAX_COMPONENT_LENGTH:
            return f"component {_shown(component)} has {len(component)} characters"
    return None


def validate_dataset_type_name(name: object) -> str:
    """Check a dataset type name against the rules of the module documentation.

    Parameters
    ----------
    name
        The proposed name (``calexp``, or ``calexp.wcs`` for a component).

    Returns
    -------
    name : `str`
        The name, unchanged.

    Raises
    ------
    InvalidNameError
        If the name breaks a rule; the message names the value, the rule broken
        and the rules.
    """
    return _checked(name, "dataset type", _DATASET_TYPE_RULES, _dataset_type_problem)


def _dataset_type_problem(name: str) -> str | None:
    if _DATASET_TYPE_RE.fullmatch(name) is None:
        if not name:
            return "the name is empty"
        bad = _first_bad(name, re.compile(r"[A-Za-z0-9_.]*"))
        if bad is not None:
            return f"character {bad[1]!r} at position {bad[0]} is not allowed"
        digit = next((part for part in name.split(".") if part[:1].isdigit()), None)
        if digit is not None:
            return f"part {digit!r} starts with a digit"
        return "a '.' must separate two non-empty parts"
    if len(name) > MAX_DATASET_TYPE_NAME_LENGTH:
        return f"it has {len(name)} characters"
    return None
