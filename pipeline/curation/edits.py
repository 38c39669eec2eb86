"""The analyst's edits as typed, frozen operations, each checked against one declared table.

Every operation is a frozen dataclass with an ``op`` name (the ``"op"`` of its ``edits.json``
entry) and fields whose constraints are declared in :data:`CONSTRAINTS` (the way scikit-learn
declares ``_parameter_constraints``), so one :func:`check` validates every op and a test can
introspect the table. :func:`from_dict` reads an ``edits.json`` entry (old entries included: they
hold the same keys) and :func:`to_dict` writes one.

* :class:`Rename`, :class:`Merge`: as before.
* :class:`Split`: re-cluster one topic's texts into ``n`` parts (``None``: the count is chosen).
* :class:`Move`: input rows to an existing topic (``to_topic``) or a new one (``to_topic=None``).
* :class:`Delete`: a topic's rows become outliers or "not relevant".
* :class:`Seed`: a new topic from a name and example phrases; the rows nearest to it join.
* :class:`RenameTheme`, :class:`MergeThemes`: the theme level.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pipeline.errors import ConfigError

DeleteTarget = Literal["outliers", "not_relevant"]
MAX_NAME = 120
MAX_SPLIT = 20
MAX_PHRASES = 50


@dataclass(frozen=True)
class Rename:
    topic_id: int
    name: str
    op: ClassVar[str] = "rename"


@dataclass(frozen=True)
class Merge:
    topic_ids: tuple[int, ...]
    name: str = ""
    """Empty: the merged topic gets a generated name."""
    op: ClassVar[str] = "merge"


@dataclass(frozen=True)
class Split:
    topic_id: int
    n: int | None = None
    """Parts to split into; ``None`` chooses 2-8 by silhouette."""
    seed: int = 42
    op: ClassVar[str] = "split"


@dataclass(frozen=True)
class Move:
    rows: tuple[int, ...]
    """0-based input rows (as in ``assignments.csv``); a duplicate moves with its first occurrence."""
    to_topic: int | None = None
    """An existing topic id, or ``None`` for a new topic."""
    name: str = ""
    """The new topic's name (``to_topic=None``); empty: a generated name."""
    op: ClassVar[str] = "move"


@dataclass(frozen=True)
class Delete:
    topic_id: int
    to: DeleteTarget = "outliers"
    op: ClassVar[str] = "delete"


@dataclass(frozen=True)
class Seed:
    name: str
    phrases: tuple[str, ...]
    vector: tuple[float, ...] = ()
    """The phrases' mean embedding, filled when the seed is first made (see
    :func:`pipeline.curation.prepare`), so a replay needs no model."""
    op: ClassVar[str] = "seed"


@dataclass(frozen=True)
class RenameTheme:
    theme_id: int
    name: str
    op: ClassVar[str] = "rename_theme"


@dataclass(frozen=True)
class MergeThemes:
    theme_ids: tuple[int, ...]
    name: str = ""
    op: ClassVar[str] = "merge_themes"


Edit = Rename | Merge | Split | Move | Delete | Seed | RenameTheme | MergeThemes
OPS: dict[str, type[Any]] = {
    cls.op: cls for cls in (Rename, Merge, Split, Move, Delete, Seed, RenameTheme, MergeThemes)
}
"""``"op"`` name -> operation class: the registry :func:`from_dict` reads with."""

# Constraint kinds: "id" (an int), "ids2" (two or more distinct ints), "name" (non-empty text),
# "name?" (text, may be empty), "parts?" (None or 2..MAX_SPLIT), "seed" (an int >= 0),
# "rows" (one or more ints >= 0), "topic?" (None or an int), "delete_to" (outliers|not_relevant),
# "phrases" (1..MAX_PHRASES non-empty texts), "vector" (floats).
CONSTRAINTS: dict[str, dict[str, str]] = {
    "rename": {"topic_id": "id", "name": "name"},
    "merge": {"topic_ids": "ids2", "name": "name?"},
    "split": {"topic_id": "id", "n": "parts?", "seed": "seed"},
    "move": {"rows": "rows", "to_topic": "topic?", "name": "name?"},
    "delete": {"topic_id": "id", "to": "delete_to"},
    "seed": {"name": "name", "phrases": "phrases", "vector": "vector"},
    "rename_theme": {"theme_id": "id", "name": "name"},
    "merge_themes": {"theme_ids": "ids2", "name": "name?"},
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem(kind: str, value: Any) -> str | None:
    """What is wrong with ``value`` for a constraint ``kind`` (``None``: nothing)."""
    if kind == "id":
        return None if _is_int(value) else "must be a whole number"
    if kind == "ids2":
        ok = isinstance(value, tuple) and all(_is_int(v) for v in value) and len(set(value)) >= 2
        return None if ok else "must list two or more different ids"
    if kind in ("name", "name?"):
        if not isinstance(value, str):
            return "must be text"
        return "cannot be empty" if kind == "name" and not value.strip() else None
    if kind == "parts?":
        ok = value is None or (_is_int(value) and 2 <= value <= MAX_SPLIT)
        return None if ok else f"must be 'auto' or a number from 2 to {MAX_SPLIT}"
    if kind == "seed":
        return None if _is_int(value) and value >= 0 else "must be a whole number >= 0"
    if kind == "rows":
        ok = isinstance(value, tuple) and bool(value) and all(_is_int(v) and v >= 0 for v in value)
        return None if ok else "must list one or more row numbers (0 or more)"
    if kind == "topic?":
        return None if value is None or _is_int(value) else "must be a topic id or empty (a new topic)"
    if kind == "delete_to":
        return None if value in ("outliers", "not_relevant") else "must be 'outliers' or 'not_relevant'"
    if kind == "phrases":
        ok = (
            isinstance(value, tuple)
            and 1 <= len(value) <= MAX_PHRASES
            and all(isinstance(v, str) and v.strip() for v in value)
        )
        return None if ok else f"must list 1 to {MAX_PHRASES} example phrases"
    if kind == "vector":
        ok = isinstance(value, tuple) and all(isinstance(v, float | int) for v in value)
        return None if ok else "must be a list of numbers"
    raise AssertionError(f"unknown constraint {kind!r}")


def check(edit: Edit) -> Edit:
    """Return ``edit`` when every field meets :data:`CONSTRAINTS`.

    Raises:
        ConfigError: Listing every bad field at once (code ``edit``).
    """
    table = CONSTRAINTS[edit.op]
    problems = [
        f"{edit.op}.{name} {problem}"
        for name, kind in table.items()
        if (problem := _problem(kind, getattr(edit, name))) is not None
    ]
    if problems:
        raise ConfigError("This edit cannot be applied: " + "; ".join(problems) + ".", code="edit")
    return edit


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def _int(value: Any) -> Any:
    """JSON numbers as ints where they are whole (``3.0`` -> 3), anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def from_dict(entry: Mapping[str, Any]) -> Edit:
    """The operation an ``edits.json`` entry describes (bookkeeping keys such as ``id`` ignored).

    Raises:
        ConfigError: An unknown ``op`` or a field that breaks :data:`CONSTRAINTS`.
    """
    op = entry.get("op")
    cls = OPS.get(str(op))
    if cls is None:
        raise ConfigError(f"Unknown edit operation {op!r}.", code="edit")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in entry:
            continue
        value = entry[f.name]
        if f.name in ("topic_ids", "theme_ids", "rows"):
            value = tuple(_int(v) for v in value) if isinstance(value, list | tuple) else value
        elif f.name in ("topic_id", "theme_id", "n", "seed", "to_topic"):
            value = _int(value)
        elif f.name in ("phrases", "vector"):
            value = _tuple(value)
        elif f.name == "name" and value is None:
            value = ""
        values[f.name] = value
    try:
        edit = cls(**values)
    except TypeError:
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in values]
        raise ConfigError(f"The {op} edit lacks {', '.join(missing) or 'fields'}.", code="edit") from None
    return check(edit)


def to_dict(edit: Edit) -> dict[str, Any]:
    """The ``edits.json`` entry of an operation (``op`` first; tuples as lists)."""
    out: dict[str, Any] = {"op": edit.op}
    for f in dataclasses.fields(edit):
        value = getattr(edit, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def topics_of(edit: Edit) -> set[int]:
    """The topic ids an edit names (for conflict checks between analysts)."""
    if isinstance(edit, Rename | Split | Delete):
        return {edit.topic_id}
    if isinstance(edit, Merge):
        return set(edit.topic_ids)
    if isinstance(edit, Move) and edit.to_topic is not None:
        return {edit.to_topic}
    return set()
