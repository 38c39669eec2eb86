"""Engines: what executes the stages of one run.

``local`` (the default) runs every stage in this process; ``ray`` (extra ``[ray]``) runs the
per-row stages as Ray Data jobs on a local Ray or a cluster (:mod:`pipeline.engines.ray`). Both
call the same stage functions and share everything after them (:mod:`pipeline.engines.stages`).
"""

from __future__ import annotations

ENGINES: tuple[str, ...] = ("local", "ray")


def resolve_engine(requested: str, *, ray_address: str | None = None) -> tuple[str, str]:
    """``(engine, reason)`` for ``requested`` (``local`` or ``ray``); the reason goes into ``run.json``."""
    if requested == "ray":
        where = f"the Ray cluster at {ray_address}" if ray_address else "a local Ray on this machine"
        return "ray", f"chosen by the user (--engine ray): Ray Data on {where}"
    return "local", "the default: every stage in this process"


__all__ = ["ENGINES", "resolve_engine"]
