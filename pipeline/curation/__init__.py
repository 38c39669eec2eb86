"""Curation with history: typed edits, an undo/redo log, and their replay onto a run.

* :mod:`pipeline.curation.edits`: one frozen dataclass per operation, checked against a table.
* :mod:`pipeline.curation.log`: :class:`EditLog`, a cursor over the edits (undo, redo).
* :mod:`pipeline.curation.apply`: :func:`apply_edits` replays a log from the base run.
"""

from __future__ import annotations

from pipeline.curation.apply import (
    NOT_RELEVANT_NAME,
    apply_edit,
    apply_edits,
    merge_topics,
    prepare,
    rename_topic,
    seed_threshold,
)
from pipeline.curation.edits import (
    CONSTRAINTS,
    OPS,
    Delete,
    Edit,
    Merge,
    MergeThemes,
    Move,
    Rename,
    RenameTheme,
    Seed,
    Split,
    check,
    from_dict,
    to_dict,
)
from pipeline.curation.log import EditLog

__all__ = [
    "CONSTRAINTS",
    "NOT_RELEVANT_NAME",
    "OPS",
    "Delete",
    "Edit",
    "EditLog",
    "Merge",
    "MergeThemes",
    "Move",
    "Rename",
    "RenameTheme",
    "Seed",
    "Split",
    "apply_edit",
    "apply_edits",
    "check",
    "from_dict",
    "merge_topics",
    "prepare",
    "rename_topic",
    "seed_threshold",
    "to_dict",
]
