"""The whole pipeline as one call: what the CLI, the dashboard and the benchmarks all run.

:func:`run` picks the engine (``RunConfig.engine``): the local body lives in
:mod:`pipeline.engines.local`, the Ray one in :mod:`pipeline.engines.ray`; this module keeps the
public import path (``from pipeline.run import run``).
"""

from __future__ import annotations

from pipeline.config import RunConfig
from pipeline.embedders.base import Embedder
from pipeline.engines.local import VERSIONED_PACKAGES, EmbedderLoader
from pipeline.engines.local import run as run_local
from pipeline.load.stream import InputFiles
from pipeline.progress import ProgressCallback
from pipeline.types import LoadedTable, RunResult


def run(
    data: bytes | InputFiles | LoadedTable,
    *,
    filename: str = "",
    config: RunConfig | None = None,
    progress: ProgressCallback | None = None,
    embedder: Embedder | None = None,
    load_embedder: EmbedderLoader | None = None,
) -> RunResult:
    """Run the pipeline on one file's bytes, several files or a table already read, on the configured engine.

    See :func:`pipeline.engines.local.run` for the arguments; ``config.engine == "ray"`` runs the
    per-row stages on Ray (:func:`pipeline.engines.ray.run`), with the same result.
    """
    if config is not None and config.engine == "ray":
        from pipeline.config import validate_config
        from pipeline.engines.ray import run as run_ray

        return run_ray(
            data,
            filename=filename,
            config=validate_config(config),
            progress=progress,
            embedder=embedder,
            load_embedder=load_embedder,
        )
    return run_local(
        data,
        filename=filename,
        config=config,
        progress=progress,
        embedder=embedder,
        load_embedder=load_embedder,
    )


__all__ = ["VERSIONED_PACKAGES", "EmbedderLoader", "run"]
