"""What a worker process runs for the dashboard: one analysis, saved into the workspace.

Imported by name inside the worker processes of :mod:`dashboard.jobs` (never by the pages), so it
does not import Streamlit. Models are kept per worker process (at most ``MAX_MODELS``), so a
worker's second run of the same model skips loading it.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.config import RunConfig
    from pipeline.progress import ProgressCallback

MAX_MODELS = 2
_MODELS: OrderedDict[str, Any] = OrderedDict()


def _embedder(name: str, *, device: str, **options: Any) -> Any:
    from pipeline.embedders.registry import create_embedder

    key = json.dumps([name, device, options], sort_keys=True, default=str)
    if key in _MODELS:
        _MODELS.move_to_end(key)
        return _MODELS[key]
    model = create_embedder(name, device=device, **options)
    _MODELS[key] = model
    while len(_MODELS) > MAX_MODELS:
        _MODELS.popitem(last=False)
    return model


def run_and_save(
    *, data: bytes, filename: str, config: RunConfig, target: str, progress: ProgressCallback
) -> str:
    """Run the pipeline on ``data`` and save the run to ``target``; returns ``target``."""
    from pipeline.run import run

    result = run(data, filename=filename, config=config, progress=progress, load_embedder=_embedder)
    return _save(result, target, progress)


def rerun_and_save(*, source: str, config: RunConfig, target: str, progress: ProgressCallback) -> str:
    """Run the pipeline again on the saved run ``source``'s data (:mod:`pipeline.rerun`) with
    ``config`` and save the new run to ``target``; returns ``target``."""
    from pipeline.rerun import rerun

    result = rerun(source, config=config, progress=progress, load_embedder=_embedder)
    return _save(result, target, progress)


def _save(result: Any, target: str, progress: ProgressCallback) -> str:
    from pipeline.store import save_run

    progress("save", 0, 1)
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_run(result, path)
    progress("save", 1, 1)
    return str(path)
