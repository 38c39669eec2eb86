"""A stand-in run for worker-process tests: reports progress steadily until cancelled."""

from __future__ import annotations

import time
from typing import Any


def steady(*, steps: int, pause: float, progress: Any, result: str = "") -> str:
    """Report ``embed`` progress ``steps`` times, ``pause`` seconds apart (cancellable)."""
    for step in range(steps):
        progress("embed", step, steps)
        time.sleep(pause)
    progress("embed", steps, steps)
    return result


def silent(*, seconds: float, progress: Any) -> str:
    """One long step with no progress call in it (like a big UMAP fit)."""
    progress("reduce", 0, 1)
    time.sleep(seconds)
    progress("reduce", 1, 1)
    return "finished"
