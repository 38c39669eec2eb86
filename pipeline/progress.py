"""Progress reporting shared by the CLI (tqdm) and the dashboard (st.progress)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

STAGES: tuple[str, ...] = (
    "load",
    "languages",
    "embed",
    "reduce",
    "cluster",
    "keywords",
    "multi_topic",
    "report",
    "save",
)
"""Every stage a run reports, in the order :func:`pipeline.run.run` reports them (``report`` is
the CLI's, ``save`` the dashboard's). Progress displays order their bars by this one list."""


class ProgressCallback(Protocol):
    """Called as work advances: ``progress(stage, done, total)``.

    ``stage`` is one of :data:`STAGES`; ``done`` and ``total`` are counts in the stage's own unit
    (texts for ``embed``). A callback may raise :class:`Cancelled` to stop the run.
    """

    def __call__(self, stage: str, done: int, total: int) -> None: ...


class Cancelled(Exception):
    """Raised by a progress callback to cancel a run."""


def no_progress(stage: str, done: int, total: int) -> None:
    """A progress callback that does nothing."""


def scaled(progress: ProgressCallback | None, stage: str) -> Callable[[int, int], None]:
    """Bind ``stage`` so inner code can report ``(done, total)`` only."""
    callback = progress or no_progress

    def report(done: int, total: int) -> None:
        callback(stage, done, total)

    return report
