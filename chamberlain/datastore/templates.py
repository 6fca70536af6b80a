r"""File-name templates: where the datastore puts each dataset's file.

A template is text with ``{field}`` placeholders, in the syntax of the Rubin
butler's templates::

    {run:/}/{datasetType}.{component:?}/{day_obs|visit.day_obs:?}/{datasetType}_{visit:?}_{run}

Fields
    ``run``, ``id`` (the dataset UUID), ``datasetType``, ``component``; any
    dimension name (``visit``); ``dim.field`` for a field of a dimension's
    record (``exposure.obs_id``, ``detector.full_name``); ``skypix`` for the
    one sky-pixel dimension of the dataset type.
Alternates ``{a|b|c}``
    The first whose dimension is among the dataset type's dimensions.
``:?`` (optional)
    If the field has no value, it is dropped together with the literal text
    just before it, unless that text contains ``/``.
``:/``
    Keep ``/`` inside the value (otherwise it becomes ``_``).

Every field value becomes path text that cannot leave its place (one path
component, or with ``:/`` components of its own):

- ``%``, ``\``, control characters (NUL, newline, DEL, C1) and the Unicode
  line and paragraph separators are percent-escaped as their UTF-8 bytes
  (``%25``, ``%5C``, ``%00``, ``%0A``, ``%E2%80%A8``);
- a value (or, with ``:/``, a component) made only of dots (``.``, ``..``)
  has each dot escaped as ``%2E``, and an empty component between slashes
  becomes ``%``;
- the characters `` <>:"|?*`` become ``_``, and so does ``/`` unless kept.

Values without these characters are unchanged, and the escaping is never
undone (names are not URL-decoded), so ``%2e%2e`` stays the text it is. In
the file-name part, ``.`` becomes ``_`` and ``#`` becomes ``HASH``. Empty
directory levels left by optional fields are collapsed and the formatter's
extension is appended. A formatted path that would still be absolute or hold
a ``.`` or ``..`` level (possible only through a template's own literal text)
is refused.

`FileTemplate.validate` checks that a template makes one path per dataset:
it must use ``run`` or ``id`` (``id`` only in the file-name part), must not
use ``collection`` or ``..``, and unless it uses ``id`` must mention every
required dimension of the dataset type (by key or alternate key), so that
two datasets of one run never share a path.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from chamberlain.datasets import DatasetRef, DatasetType
from chamberlain.dimensions import DataCoordinate, DimensionGroup
from chamberlain.errors import FileTemplateError

__all__ = ["DEFAULT_TEMPLATE", "DEFAULT_TEMPLATES", "RAW_TEMPLATE", "FileTemplate", "FileTemplates"]

DEFAULT_TEMPLATE = (
    "{run:/}/{datasetType}.{component:?}/{tract:?}/{patch:?}/{day_obs|visit.day_obs|exposure.day_obs:?}/"
    "{band:?}/{subfilter:?}/{physical_filter:?}/{visit:?}/{exposure.obs_id|group:?}/"
    "{datasetType}_{component:?}_{instrument:?}_{tract:?}_{patch:?}_{band:?}_{physical_filter:?}_{visit:?}_"
    "{exposure.obs_id|group:?}_{detector.full_name:?}_{skymap:?}_{skypix:?}_{run}"
)
RAW_TEMPLATE = (
    "{run:/}/{datasetType}.{component:?}/{day_obs|exposure.day_obs}/{exposure.obs_id}/"
    "{datasetType}_{component:?}_{instrument:?}_{physical_filter}_{exposure.obs_id}_{detector.full_name}_{run}"
)
#: Templates used when a repository configures none: ``raw`` and everything else.
DEFAULT_TEMPLATES: dict[str, str] = {"default": DEFAULT_TEMPLATE, "raw": RAW_TEMPLATE}

_SPECIAL = frozenset({"run", "id", "datasetType", "component"})
_FIELD_RE = re.compile(r"\{([^{}]*)\}")
_BAD_CHARS = re.compile(r'[ <>:"|?*]')
_ESCAPED = re.compile(r"[%\\\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SLASHES = re.compile(r"/{2,}")

# Field values made safe; few distinct values recur (runs, dataset types, bands...), so a
# dictionary look-up replaces most regular-expression calls.
_CLEANED: dict[str, str] = {}
_CLEANED_KEEP_SLASH: dict[str, str] = {}
_CLEANED_LIMIT = 10_000


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))


def _component(text: str) -> str:
    """One path component for ``text`` (which holds no ``/``): see the module documentation."""
    if not text:
        return "%"
    if not text.strip("."):
        return "%2E" * len(text)
    return _BAD_CHARS.sub("_", _ESCAPED.sub(_percent, text))


def _clean(text: str, keep_slash: bool) -> str:
    """``text`` made into safe path text, one component unless ``keep_slash`` (remembered for next time)."""
    cache = _CLEANED_KEEP_SLASH if keep_slash else _CLEANED
    if keep_slash:
        cleaned = "/".join(_component(part) for part in text.split("/"))
    else:
        cleaned = _component(text.replace("/", "_"))
    if len(cache) >= _CLEANED_LIMIT:
        cache.clear()
    cache[text] = cleaned
    return cleaned


#: Returns the record of ``element`` for a data ID (None if there is none).
RecordLookup = Callable[[str, DataCoordinate], Any]


@dataclasses.dataclass(frozen=True)
class _Field:
    literal: str  # text before the field
    names: tuple[str, ...]
    optional: bool
    keep_slash: bool
    text: str


@dataclasses.dataclass(frozen=True)
class _Step:
    literal: str
    name: str | None  # chosen alternative, None if none applies
    optional: bool
    keep_slash: bool
    kind: str  # "special", "required", "implied", "record", "skypix", "none"
    element: str = ""
    attribute: str = ""
    index: int = -1  # position in the group's required values ("required" steps)


class FileTemplate:
    """One parsed file-name template.

    Parameters
    ----------
    template
        The template text (see the module documentation).

    Raises
    ------
    FileTemplateError
        If braces do not match or a field is empty or has unknown flags.
    """

    def __init__(self, template: str) -> None:
        if not isinstance(template, str) or not template.strip():
            raise FileTemplateError(f"A file template must be a non-empty string, got {template!r}.")
        self.template = template
        fields: list[_Field] = []
        pos = 0
        for match in _FIELD_RE.finditer(template):
            literal = template[pos : match.start()]
            self._check_literal(literal)
            fields.append(self._parse_field(literal, match.group(1)))
            pos = match.end()
        self._check_literal(template[pos:])
        self._fields = tuple(fields)
        self._tail = template[pos:]
        self._plans: dict[DimensionGroup, tuple[tuple[_Step, ...], bool]] = {}
        self._active: dict[DimensionGroup, tuple[_Step, ...]] = {}

    def _check_literal(self, literal: str) -> None:
        if "{" in literal or "}" in literal:
            raise FileTemplateError(f"File template {self.template!r} has unbalanced braces.")

    def _parse_field(self, literal: str, spec: str) -> _Field:
        body, _, flags = spec.partition(":")
        unknown = set(flags) - {"?", "/"}
        if unknown:
            raise FileTemplateError(
                f"Field {{{spec}}} of file template {self.template!r} has unknown flag(s) "
                f"{sorted(unknown)}; valid flags are '?' (optional) and '/' (keep slashes)."
            )
        names = tuple(n.strip() for n in body.split("|"))
        if not all(names):
            raise FileTemplateError(f"File template {self.template!r} has an empty field {{{spec}}}.")
        return _Field(literal, names, "?" in flags, "/" in flags, "{" + spec + "}")

    @property
    def field_names(self) -> set[str]:
        """Every name mentioned in a field (alternates included)."""
        return {n for f in self._fields for n in f.names}

    def __repr__(self) -> str:
        return f"FileTemplate({self.template!r})"

    # --- planning ----------------------------------------------------------------------

    def _plan(self, group: DimensionGroup) -> tuple[tuple[_Step, ...], bool]:
        """Which alternative each field uses for data IDs of ``group``, and whether records are needed."""
        found = self._plans.get(group)
        if found is not None:
            return found
        steps = []
        needs_lookup = False
        skypix = group.skypix
        for f in self._fields:
            step = _Step(f.literal, None, f.optional, f.keep_slash, "none")
            for name in f.names:
                primary, _, attribute = name.partition(".")
                if name in _SPECIAL:
                    step = dataclasses.replace(step, name=name, kind="special")
                elif name == "skypix" and skypix:
                    step = dataclasses.replace(step, name=skypix[0], kind="required")
                    if skypix[0] in group.required:
                        step = dataclasses.replace(step, index=group.required_index(skypix[0]))
                elif primary in group.names:
                    if attribute:
                        step = dataclasses.replace(
                            step, name=name, kind="record", element=primary, attribute=attribute
                        )
                        needs_lookup = True
                    elif primary in group.required:
                        step = dataclasses.replace(
                            step, name=name, kind="required", index=group.required_index(name)
                        )
                    else:
                        owner = next(
                            e.name
                            for e in group.element_objects()
                            if e.is_dimension and primary in {d.name for d in e.implied}
                        )
                        step = dataclasses.replace(step, name=name, kind="implied", element=owner)
                        needs_lookup = True
                else:
                    continue
                break
            steps.append(step)
        plan = (tuple(steps), needs_lookup)
        self._plans[group] = plan
        return plan

    # --- validation --------------------------------------------------------------------

    def validate(self, dataset_type: DatasetType) -> None:
        """Check that the template gives every dataset of ``dataset_type`` its own path.

        Parameters
        ----------
        dataset_type : `DatasetType`
            The dataset type the template would name files of.

        Raises
        ------
        FileTemplateError
            If a rule of the module documentation is broken; the message names the template,
            the dataset type and the rule.
        """
        where = f"File template {self.template!r} for dataset type {dataset_type.name!r}"
        names = self.field_names
        group = dataset_type.dimensions
        universe = group.universe
        if "collection" in names:
            raise FileTemplateError(f"{where} uses 'collection'; use 'run' (a dataset's RUN is unique).")
        if ".." in self.template.split("/") or "../" in self.template:
            raise FileTemplateError(f"{where} contains '..'; paths must stay inside the datastore root.")
        if "run" not in names and "id" not in names:
            raise FileTemplateError(f"{where} is missing a mandatory field: it must use 'run' or 'id'.")
        for f in self._fields:
            if "id" in f.names and "/" in self._tail + "".join(
                g.literal for g in self._fields[self._fields.index(f) + 1 :]
            ):
                raise FileTemplateError(
                    f"{where} uses 'id' in a directory; it must be in the file-name part."
                )
            for name in f.names:
                primary = name.partition(".")[0]
                if name in _SPECIAL or name == "skypix" or primary in universe:
                    continue
                raise FileTemplateError(
                    f"{where} has field {f.text} naming {name!r}, which is neither a dimension nor one of "
                    f"{sorted(_SPECIAL | {'skypix'})}."
                )
        steps, _ = self._plan(group)
        for step, f in zip(steps, self._fields):
            if step.name is None and not f.optional:
                raise FileTemplateError(
                    f"{where}: field {f.text} is not optional but none of its names is a dimension of the "
                    f"dataset type ({', '.join(group.names) or 'no dimensions'})."
                )
        if "id" in names:
            return
        covered = set()
        for step in steps:
            if step.kind == "required" and step.name is not None:
                covered.add(step.name)
            elif step.kind == "record":
                dim = universe[step.element]
                keys = {dim.primary_key.name, *(k.name for k in getattr(dim, "alternate_keys", ()))}  # type: ignore[attr-defined]
                if step.attribute in keys:
                    covered.add(step.element)
        missing = [d for d in group.required if d not in covered]
        if missing:
            raise FileTemplateError(
                f"{where} does not make unique paths: it does not mention required dimension(s) {missing} "
                "(add them, or use 'id')."
            )

    # --- formatting --------------------------------------------------------------------

    def needs_lookup(self, group: DimensionGroup) -> bool:
        """Tell whether formatting a data ID of ``group`` needs dimension records or implied values.

        Parameters
        ----------
        group : `DimensionGroup`
            The dimensions of the data IDs to format.

        Returns
        -------
        needed : `bool`
            True if `format` needs a ``lookup`` (or expanded data IDs) for them.
        """
        return self._plan(group)[1]

    def format(
        self,
        ref: DatasetRef,
        *,
        component: str | None = None,
        lookup: RecordLookup | None = None,
    ) -> str:
        """Return the relative path (without extension) of ``ref``'s file.

        Parameters
        ----------
        ref
            The dataset.
        component
            Component name, for files holding one component.
        lookup
            Returns dimension records; needed when `needs_lookup` is true
            (if the data ID is expanded its records are used instead).

        Returns
        -------
        path : `str`
            The path relative to the datastore root, without the formatter's extension.

        Raises
        ------
        FileTemplateError
            If a non-optional field has no value.
        """
        data_id = ref.data_id
        steps = self._active.get(data_id.dimensions)
        if steps is None:
            # Optional fields that never have a value and whose literal holds no '/' add nothing.
            steps = tuple(
                step
                for step in self._plan(data_id.dimensions)[0]
                if not (step.kind == "none" and step.optional and "/" not in step.literal)
            )
            self._active[data_id.dimensions] = steps
        required = data_id.required_values
        records: dict[str, Any] = {}  # records looked up for this call, by element
        parts: list[str] = []
        for step in steps:
            kind = step.kind
            if kind == "required" and step.index >= 0:
                value: Any = required[step.index]
            elif kind == "special":
                value = self._special(step.name, ref, component)
            elif kind == "none":
                value = None
            else:
                value = self._value(step, data_id, lookup, records)
            if value is None or value == "":
                if not step.optional:
                    raise FileTemplateError(
                        f"File template {self.template!r} has no value for non-optional field "
                        f"{step.name or '?'} with data ID {data_id} (dataset type {ref.dataset_type.name!r})."
                    )
                if "/" in step.literal:
                    parts.append(step.literal)
                continue
            parts.append(step.literal)
            if type(value) is int:  # digits and '-' only: nothing to replace
                parts.append(str(value))
                continue
            text = str(value)
            cleaned = (_CLEANED_KEEP_SLASH if step.keep_slash else _CLEANED).get(text)
            parts.append(_clean(text, step.keep_slash) if cleaned is None else cleaned)
        parts.append(self._tail)
        path = "".join(parts)
        if "//" in path:
            path = _SLASHES.sub("/", path)
        path = path.strip("/")
        head, _, name = path.rpartition("/")
        name = name.replace(".", "_").replace("#", "HASH")
        if head and ("/./" in f"/{head}/" or "/../" in f"/{head}/"):
            raise FileTemplateError(
                f"File template {self.template!r} makes the path {head}/{name} for dataset type "
                f"{ref.dataset_type.name!r}, data ID {data_id}, run {ref.run!r}; a '.' or '..' level would "
                "leave its place under the datastore root."
            )
        return f"{head}/{name}" if head else name

    @staticmethod
    def _special(name: str | None, ref: DatasetRef, component: str | None) -> Any:
        if name == "run":
            return ref.run
        if name == "id":
            return str(ref.id)
        if name == "datasetType":
            return ref.dataset_type.name
        return component

    @staticmethod
    def _value(
        step: _Step,
        data_id: DataCoordinate,
        lookup: RecordLookup | None,
        records: dict[str, Any],
    ) -> Any:
        kind = step.kind
        if kind == "required" or (kind == "implied" and data_id.has_full()):
            return data_id[step.name]  # type: ignore[index]
        element = step.element
        if element in records:
            record = records[element]
        elif data_id.has_records():
            record = records[element] = data_id.records.get(element)
        elif lookup is not None:
            record = records[element] = lookup(element, data_id)
        else:
            raise FileTemplateError(
                f"File template field {step.name} needs the {element!r} record of data ID {data_id}, and "
                "none was given (expand the data ID)."
            )
        if record is None:
            return None
        return getattr(record, step.name if kind == "implied" else step.attribute)  # type: ignore[arg-type]


class FileTemplates:
    """Templates chosen by dataset type name, then storage class name, then ``default``.

    Parameters
    ----------
    templates
        Lookup key -> template text; `DEFAULT_TEMPLATES` fill in keys not given.

    Raises
    ------
    FileTemplateError
        If a template cannot be parsed.
    """

    def __init__(self, templates: Mapping[str, str] | None = None) -> None:
        merged = dict(DEFAULT_TEMPLATES)
        merged.update(templates or {})
        self._templates = {key: FileTemplate(text) for key, text in merged.items()}
        self._validated: dict[DatasetType, FileTemplate] = {}

    def get(self, dataset_type: DatasetType) -> FileTemplate:
        """Return the template for a dataset type, validated for it on first use.

        The dataset type's own template wins, then its storage class's, then
        ``default``.

        Parameters
        ----------
        dataset_type : `DatasetType`
            The dataset type.

        Returns
        -------
        template : `FileTemplate`
            The template that names its files.

        Raises
        ------
        FileTemplateError
            If the template chosen is not valid for the dataset type.
        """
        found = self._validated.get(dataset_type)
        if found is not None:
            return found
        key = dataset_type.parent_name
        template = (
            self._templates.get(key)
            or self._templates.get(dataset_type.storage_class)
            or self._templates["default"]
        )
        template.validate(dataset_type)
        self._validated[dataset_type] = template
        return template

    def validate(self, dataset_types: list[DatasetType]) -> None:
        """Validate the template of each dataset type (raising on the first failure).

        Parameters
        ----------
        dataset_types : `list` [`DatasetType`]
            The dataset types to check.

        Raises
        ------
        FileTemplateError
            If a template is not valid for its dataset type.
        """
        for dataset_type in dataset_types:
            self.get(dataset_type)
