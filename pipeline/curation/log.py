"""An edit history with a cursor: undo and redo any number of steps, replayed from the base run.

:class:`EditLog` is the single-analyst history (a notebook, a script, the CLI): ``edits[:cursor]``
are in effect, ``edits[cursor:]`` can be redone, and a new edit after an undo drops that tail.
The dashboard's shared log (several analysts at once) is the append-only ``edits.json`` of
:mod:`pipeline.store`, whose ``undo``/``redo`` entries give the same history per analyst;
:meth:`EditLog.from_entries` reads either form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.curation.edits import Edit, check, from_dict, to_dict
from pipeline.errors import ConfigError
from pipeline.types import RunResult


@dataclass(frozen=True)
class EditLog:
    """Edits in order and how many of them are in effect."""

    edits: tuple[Edit, ...] = ()
    cursor: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.cursor <= len(self.edits):
            raise ConfigError(
                f"The edit cursor {self.cursor} is outside the log of {len(self.edits)} edits.", code="edit"
            )

    @property
    def active(self) -> tuple[Edit, ...]:
        """The edits in effect, in order."""
        return self.edits[: self.cursor]

    @property
    def undo_steps(self) -> int:
        return self.cursor

    @property
    def redo_steps(self) -> int:
        return len(self.edits) - self.cursor

    def push(self, edit: Edit) -> EditLog:
        """Add an edit after the cursor; whatever could be redone is dropped."""
        return EditLog(edits=(*self.active, check(edit)), cursor=self.cursor + 1)

    def undo(self, steps: int = 1) -> EditLog:
        """Step back ``steps`` edits (at least one must be in effect for each step)."""
        if steps < 0 or steps > self.undo_steps:
            raise ConfigError(f"Cannot undo {steps} of {self.undo_steps} edits.", code="nothing_to_undo")
        return dataclasses.replace(self, cursor=self.cursor - steps)

    def redo(self, steps: int = 1) -> EditLog:
        """Step forward ``steps`` undone edits."""
        if steps < 0 or steps > self.redo_steps:
            raise ConfigError(f"Cannot redo {steps} of {self.redo_steps} edits.", code="nothing_to_redo")
        return dataclasses.replace(self, cursor=self.cursor + steps)

    def replay(self, base: RunResult, *, embedder: Any | None = None) -> RunResult:
        """``base`` with the edits in effect applied, in order."""
        from pipeline.curation.apply import apply_edits

        return apply_edits(base, list(self.active), embedder=embedder)

    def to_entries(self) -> list[dict[str, Any]]:
        """``edits.json`` entries: every edit, then an ``undo`` for each one after the cursor (last
        first), so :meth:`from_entries` gives this log back, redo tail included."""
        entries = [{**to_dict(edit), "id": f"e{i}"} for i, edit in enumerate(self.edits)]
        undos = [{"op": "undo", "target": f"e{i}"} for i in range(len(self.edits) - 1, self.cursor - 1, -1)]
        return entries + undos

    @classmethod
    def from_entries(cls, entries: Sequence[Mapping[str, Any]], *, author: str = "") -> EditLog:
        """The history an ``edits.json`` holds for ``author`` (``""``: entries without an author).

        Old files (plain edits, no ids) give a log with every edit in effect. In a shared log the
        edits in effect are everyone's; the redo tail is ``author``'s undone edits.
        """
        from pipeline.store import active_entries, redo_candidates

        entries = [dict(e) for e in entries if isinstance(e, Mapping)]
        active = [from_dict(e) for _, e in active_entries(entries)]
        tail = [from_dict(e) for e in redo_candidates(entries, author=author)]
        return cls(edits=(*active, *tail), cursor=len(active))
