"""The public API is documented with numpy-style docstrings.

The test walks the ``__all__`` of every public module and package (names defined in
``_private.py`` modules and re-exported count), every public method and property of every
public class including the ones inherited from Chamberlain base classes and mixins, and checks:

(a) a docstring exists;
(b) every function or method taking a parameter other than ``self``/``cls`` has a numpy
    ``Parameters`` section naming each parameter (``a, b`` grouped lines and ``*args`` /
    ``**kwargs`` allowed);
(c) a ``Returns`` or ``Yields`` section when the return annotation is not ``None``
    (properties are exempt);
(d) a class with a hand-written ``__init__`` names its parameters in the class
    docstring's ``Parameters`` section (numpy style; ``__init__`` has no docstring).

Packages listed in `PENDING` are being documented by others and are held to (a) only; the
test fails when one of them already passes the full check, so the list can only shrink.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

import chamberlain

# Modules (and the modules below them) whose names are only checked for (a) today.
PENDING = {
    "chamberlain.cli",
    "chamberlain.demo",
    "chamberlain.registry.queries.api",
    "chamberlain.registry.queries.results",
    "chamberlain.repository",
    "chamberlain.tasks",
    "chamberlain.transfers",
}

_SECTION = re.compile(r"^([A-Z][A-Za-z ]+)\n-{3,}$", re.MULTILINE)
_NO_RETURN = {"None", "NoReturn", "Never", "typing.NoReturn", "typing.Never"}


# --- numpy docstring parsing -------------------------------------------------------------


def parse_sections(doc: str) -> dict[str, str]:
    """Split a cleaned docstring into ``{section title: body}``; the summary is ``""``."""
    sections: dict[str, str] = {}
    matches = list(_SECTION.finditer(doc))
    sections[""] = doc[: matches[0].start()] if matches else doc
    for match, following in zip(matches, [*matches[1:], None]):
        end = following.start() if following else len(doc)
        sections[match.group(1).strip()] = doc[match.end() : end]
    return sections


def parameter_names(body: str) -> set[str]:
    """Return the names a numpy ``Parameters`` section documents (stars stripped)."""
    names: set[str] = set()
    for line in body.splitlines():
        if not line.strip() or line[0].isspace():
            continue  # blank or a description line
        head = line.split(" : ", 1)[0].rstrip(" :")
        for name in head.split(","):
            names.add(name.strip().lstrip("*"))
    return names


def _doc_problems(
    doc: str | None, params: list[str], returns: bool, *, is_property: bool = False
) -> list[str]:
    if not doc or not doc.strip():
        return ["no docstring"]
    problems = []
    sections = parse_sections(doc)
    if params:
        if "Parameters" not in sections and "Other Parameters" not in sections:
            problems.append(f"no Parameters section for {params}")
        else:
            named = parameter_names(sections.get("Parameters", "") + sections.get("Other Parameters", ""))
            undocumented = [p for p in params if p not in named]
            if undocumented:
                problems.append(f"Parameters section does not name {undocumented}")
    if returns and not is_property and "Returns" not in sections and "Yields" not in sections:
        problems.append("no Returns or Yields section")
    return problems


# --- walking the public API ----------------------------------------------------------


@dataclass
class Entry:
    """One public API object: where it is published, where it is defined and its problems."""

    name: str
    module: str
    missing_doc: bool
    problems: list[str] = field(default_factory=list)


def public_modules() -> list[ModuleType]:
    """Import and return every module of the package whose dotted path has no private part.

    The top-level package comes last: its names are lazy re-exports, walked (and named)
    in their home modules first.
    """
    modules = []
    for info in pkgutil.walk_packages(chamberlain.__path__, "chamberlain."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or ".migrations" in info.name:
            continue
        modules.append(importlib.import_module(info.name))
    return [*modules, chamberlain]


def _exported(module: ModuleType) -> Iterator[tuple[str, Any]]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_") and getattr(obj, "__module__", None) == module.__name__
        ]
    for name in names:
        yield name, getattr(module, name)


def _is_own_chamberlain(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == "chamberlain" or module.startswith("chamberlain.")


def _function_params(func: Callable[..., Any], *, bound: bool) -> tuple[list[str], bool]:
    """Return (documentable parameter names, whether the function returns something)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return [], False
    params = list(signature.parameters.values())
    if bound and params:
        params = params[1:]
    names = [p.name for p in params]
    annotation = signature.return_annotation
    if annotation is inspect.Signature.empty or annotation is None or annotation is type(None):
        returns = False
    else:
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        returns = text not in _NO_RETURN
    return names, returns


def _class_doc(cls: type) -> str | None:
    doc = cls.__doc__
    # dataclasses invent a docstring from the signature; that is not documentation.
    if doc and doc.startswith(f"{cls.__name__}(") and "\n" not in doc.strip():
        return None
    return inspect.cleandoc(doc) if doc else None


def _constructor_params(cls: type) -> list[str]:
    """Parameters of a hand-written ``__init__`` of *cls*, documented in the class docstring.

    Constructors generated by dataclasses and those inherited from other classes are
    not checked here (the class that writes ``__init__`` documents its parameters).
    """
    init = vars(cls).get("__init__")
    if not inspect.isfunction(init) or not init.__qualname__.startswith(f"{cls.__qualname__}."):
        return []  # inherited, or installed by typing.Protocol
    if init.__code__.co_filename.startswith("<"):
        return []  # generated by @dataclass
    return _function_params(init, bound=True)[0]


def _members(cls: type) -> Iterator[tuple[str, str, Any]]:
    """Yield (name, defining module, raw attribute) for public members, inherited ones included."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not _is_own_chamberlain(klass):
            continue  # builtins, pydantic, enum, abc, third-party bases
        for attr, member in vars(klass).items():
            if attr.startswith("_") or attr in seen:
                continue
            seen.add(attr)
            yield attr, klass.__module__, member


def _member_entry(qualname: str, module: str, member: Any, cls: type) -> Entry | None:
    if isinstance(member, property | _cached_property_type()):
        func = member.fget if isinstance(member, property) else member.func
        doc = inspect.getdoc(member) if isinstance(member, property) else inspect.getdoc(func)
        return Entry(qualname, module, not doc, _doc_problems(doc, [], False, is_property=True))
    if isinstance(member, staticmethod):
        func, bound = member.__func__, False
    elif isinstance(member, classmethod):
        func, bound = member.__func__, True
    elif inspect.isfunction(member) or inspect.isfunction(inspect.unwrap(member)):
        func, bound = inspect.unwrap(member), True
    else:
        return None  # data attributes, enum members, nested classes
    doc = inspect.getdoc(getattr(cls, qualname.rsplit(".", 1)[1], func)) or inspect.getdoc(func)
    params, returns = _function_params(func, bound=bound)
    return Entry(qualname, module, not doc, _doc_problems(doc, params, returns))


def _cached_property_type() -> type:
    from functools import cached_property

    return cached_property


def api_entries() -> list[Entry]:
    """Every public module, exported name and class member, each checked once."""
    entries: list[Entry] = []
    seen: set[int] = set()
    for module in public_modules():
        doc = inspect.getdoc(module)
        entries.append(Entry(module.__name__, module.__name__, not doc, [] if doc else ["no docstring"]))
        for name, obj in _exported(module):
            if not inspect.isclass(obj):
                obj = inspect.unwrap(obj)  # functools.cache and other wrappers
            if id(obj) in seen or not _is_own_chamberlain(obj):
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants and type aliases
            seen.add(id(obj))
            qualname = f"{module.__name__}.{name}"
            if inspect.isfunction(obj):
                params, returns = _function_params(obj, bound=False)
                doc = inspect.getdoc(obj)
                entries.append(Entry(qualname, obj.__module__, not doc, _doc_problems(doc, params, returns)))
                continue
            doc = _class_doc(obj)
            params = _constructor_params(obj)
            entries.append(Entry(qualname, obj.__module__, not doc, _doc_problems(doc, params, False)))
            for attr, defined_in, member in _members(obj):
                entry = _member_entry(f"{qualname}.{attr}", defined_in, member, obj)
                if entry is not None:
                    entries.append(entry)
    return entries


def pending_key(module: str) -> str | None:
    """Return the `PENDING` entry covering *module*, the most specific one, or None."""
    matches = [p for p in PENDING if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


# --- the tests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return api_entries()


def test_the_walk_reaches_private_definitions_and_inherited_members(entries: list[Entry]) -> None:
    names = {e.name: e for e in entries}
    # re-exported by chamberlain.dimensions, defined in private modules
    assert names["chamberlain.dimensions.DataCoordinate"].module == "chamberlain.dimensions._coordinate"
    assert (
        names["chamberlain.dimensions.DimensionUniverse.conform"].module == "chamberlain.dimensions._universe"
    )
    # inherited from a Chamberlain base class, checked on the subclass, attributed to the base
    assert names["chamberlain.image.Image.subset"].module == "chamberlain.image._pixels"
    assert names["chamberlain.pipe.PipelineTask.timer"].module == "chamberlain.pipe.task"
    # every public method Butler inherits from a Chamberlain base or mixin is walked
    from chamberlain.butler import Butler

    published = {e.name.rsplit(".", 1)[1] for e in entries if e.name.startswith("chamberlain.butler.Butler.")}
    for base in Butler.__mro__[1:]:
        if _is_own_chamberlain(base):
            inherited = {n for n, m in vars(base).items() if not n.startswith("_") and inspect.isfunction(m)}
            assert inherited <= published, f"{base.__name__} methods not walked: {inherited - published}"
    # methods inherited from third-party bases (pydantic) are not walked
    assert "chamberlain.pipe.Config.model_dump" not in names
    assert "chamberlain.pipe.TaskMetadata.model_copy" not in names


def test_the_walk_flags_an_undocumented_inherited_method() -> None:
    class _Base:
        def scale(self, factor: float) -> float:
            """Scale without saying by what."""
            return factor

    class _Child(_Base):
        """A child."""

    _Base.__module__ = _Child.__module__ = "chamberlain._probe"
    members = {name: member for name, _, member in _members(_Child)}
    entry = _member_entry("chamberlain._probe._Child.scale", "chamberlain._probe", members["scale"], _Child)
    assert entry is not None
    assert entry.problems == ["no Parameters section for ['factor']", "no Returns or Yields section"]


def test_every_public_name_is_documented(entries: list[Entry]) -> None:
    full = [e for e in entries if pending_key(e.module) is None]
    pending = [e for e in entries if pending_key(e.module) is not None]
    undocumented = [e.name for e in entries if e.missing_doc]
    incomplete = [f"{e.name}: {'; '.join(e.problems)}" for e in full if e.problems]
    print(
        f"\n{len(entries)} public names checked ({len(full)} in full, {len(pending)} pending: docstring only); "
        f"{len(undocumented)} lack a docstring, {len(incomplete)} fully-checked names are incomplete"
    )
    assert not undocumented, f"{len(undocumented)} public names lack docstrings: {undocumented[:40]}"
    assert not incomplete, f"{len(incomplete)} public names are not fully documented:\n" + "\n".join(
        incomplete[:60]
    )


def test_pending_list_only_shrinks(entries: list[Entry]) -> None:
    by_key: dict[str, list[Entry]] = {p: [] for p in PENDING}
    for entry in entries:
        key = pending_key(entry.module)
        if key is not None:
            by_key[key].append(entry)
    done = sorted(p for p, group in by_key.items() if group and not any(e.problems for e in group))
    assert not done, f"these packages pass the full check; remove them from PENDING: {done}"
    empty = sorted(p for p, group in by_key.items() if not group)
    assert not empty, f"PENDING names packages with no public API: {empty}"


@pytest.mark.parametrize(
    ("doc", "params", "returns", "expected"),
    [
        ("Summary.", ["a"], False, ["no Parameters section for ['a']"]),
        ("Summary.\n\nParameters\n----------\na, b : int\n    Sizes.\n", ["a", "b"], False, []),
        ("Summary.\n\nParameters\n----------\n**kwargs\n    Passed on.\n", ["kwargs"], False, []),
        (
            "Summary.\n\nParameters\n----------\na : int\n    Size; b is mentioned here.\n",
            ["a", "b"],
            False,
            ["Parameters section does not name ['b']"],
        ),
        ("Summary.\n", [], True, ["no Returns or Yields section"]),
        ("Summary.\n\nYields\n------\nx : int\n    Items.\n", [], True, []),
        ("", [], False, ["no docstring"]),
    ],
)
def test_the_parser_catches_what_it_should(
    doc: str, params: list[str], returns: bool, expected: list[str]
) -> None:
    assert _doc_problems(doc, params, returns) == expected
