"""Check the identifiers of a parsed expression against the names a query knows."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Mapping

from chamberlain.errors import format_choices

from .diagnostics import describe_position, error_at
from .nodes import Identifier, Node, walk

__all__ = ["check_identifiers", "suggest"]

_TIMESPAN_BOUNDS = ("begin", "end")


def suggest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Return up to ``limit`` candidates close to ``name`` (case-insensitive, best first).

    Parameters
    ----------
    name : `str`
        The unknown name.
    candidates : iterable of `str`
        The valid names.
    limit : `int`, optional
        The most suggestions to return.

    Returns
    -------
    suggestions : `list` [`str`]
        Candidates in their own spelling; empty if none is close.
    """
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=limit, cutoff=0.6)
    return [by_lower[m] for m in matches]


def _did_you_mean(matches: list[str]) -> str:
    if not matches:
        return ""
    quoted = [repr(m) for m in matches]
    if len(quoted) == 1:
        return f"; did you mean {quoted[0]}?"
    return f"; did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"


def _mapping_candidates(valid: Mapping[str, Collection[str]], parts: int) -> set[str]:
    if parts == 1:
        names = set(valid)
        for fields in valid.values():
            names.update(fields)
        return names
    if parts == 2:
        return {f"{element}.{field}" for element, fields in valid.items() for field in fields}
    return {
        f"{element}.{field}.{bound}"
        for element, fields in valid.items()
        for field in fields
        for bound in _TIMESPAN_BOUNDS
    }


def _check_against_mapping(
    identifier: Identifier, valid: Mapping[str, Collection[str]], text: str, binds: Collection[str]
) -> None:
    parts = identifier.parts
    where = describe_position(text, identifier.start)
    if len(parts) == 1:
        name = parts[0]
        if name in valid or name in binds or any(name in fields for fields in valid.values()):
            return
        matches = suggest(name, _mapping_candidates(valid, 1) | set(binds))
        message = f"Unrecognized identifier {name!r} at {where}{_did_you_mean(matches)}"
        raise error_at(text, identifier.start, identifier.end, message, marker="^")
    element, field = parts[0], parts[1]
    if element not in valid:
        matches = suggest(identifier.text, _mapping_candidates(valid, len(parts)))
        if not matches:
            matches = suggest(element, valid)
        message = f"Unrecognized identifier {identifier.text!r} at {where}{_did_you_mean(matches)}"
        raise error_at(text, identifier.start, identifier.end, message, marker="^")
    fields = valid[element]
    if field not in fields:
        matches = [f"{element}.{m}" for m in suggest(field, fields)]
        hint = _did_you_mean(matches) or f"; fields of {element!r} are {format_choices(fields)}"
        message = f"Unrecognized field {field!r} of {element!r} at {where}{hint}"
        raise error_at(text, identifier.start, identifier.end, message, marker="^")
    if len(parts) == 3 and parts[2] not in _TIMESPAN_BOUNDS:
        message = (
            f"Unrecognized identifier {identifier.text!r} at {where}; "
            f"a third part must be 'begin' or 'end' (a bound of the timespan {element}.{field})"
        )
        raise error_at(text, identifier.start, identifier.end, message, marker="^")


def check_identifiers(
    tree: Node | None,
    valid: Mapping[str, Collection[str]] | Callable[[Identifier], bool],
    text: str,
    *,
    candidates: Iterable[str] = (),
    binds: Collection[str] = (),
) -> None:
    """Raise if an identifier in ``tree`` is not a known name.

    Parameters
    ----------
    tree
        A tree from `parse_where` (`None` is accepted and always passes).
    valid
        Either a mapping from element (or dataset type) name to its field
        names, or a callable saying whether an `Identifier` is valid. With a
        mapping, ``x`` is valid if it is a key, a field of any key or a bind
        name; ``x.f`` if ``f`` is a field of ``x``; ``x.f.begin`` and ``x.f.end``
        if ``x.f`` is valid.
    text
        The expression ``tree`` was parsed from, for the error message.
    candidates
        With a callable ``valid``: the names to draw "did you mean" suggestions
        from (ignored with a mapping, which supplies its own).
    binds
        Names of bind parameters, which may appear as bare identifiers.

    Raises
    ------
    InvalidQueryError
        For the first unknown identifier in source order. The message names
        it, suggests the closest valid names (`difflib.get_close_matches`,
        case-insensitive) and marks it in the expression.
    """
    if tree is None:
        return
    candidate_list = list(candidates)
    for node in walk(tree):
        if not isinstance(node, Identifier):
            continue
        if isinstance(valid, Mapping):
            _check_against_mapping(node, valid, text, binds)
        elif not (len(node.parts) == 1 and node.parts[0] in binds) and not valid(node):
            matches = suggest(node.text, candidate_list + list(binds))
            where = describe_position(text, node.start)
            message = f"Unrecognized identifier {node.text!r} at {where}{_did_you_mean(matches)}"
            raise error_at(text, node.start, node.end, message, marker="^")
