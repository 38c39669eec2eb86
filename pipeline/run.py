"""The whole pipeline as one call: what the CLI, the dashboard and the benchmarks all run.

The body lives in :mod:`pipeline.engines.local`; this module keeps the public import path
(``from pipeline.run import run``).
"""

from __future__ import annotations

from pipeline.engines.local import VERSIONED_PACKAGES, EmbedderLoader, run

__all__ = ["VERSIONED_PACKAGES", "EmbedderLoader", "run"]
