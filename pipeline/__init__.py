"""feedback-topics: find, name and report the topics in multilingual customer feedback.

The public entry points are imported lazily so that ``import pipeline`` stays cheap (the dashboard's
first page must render before torch or UMAP are loaded)::

    from pipeline import run, RunConfig
    result = run(open("feedback.csv", "rb").read(), filename="feedback.csv", config=RunConfig())
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "run": "pipeline.run",
    "RunConfig": "pipeline.config",
    "RunResult": "pipeline.types",
    "LoadOptions": "pipeline.types",
    "load_table": "pipeline.load",
    "prepare_documents": "pipeline.documents",
    "write_report": "pipeline.report",
    "save_run": "pipeline.store",
    "open_run": "pipeline.store",
    "FeedbackTopicsError": "pipeline.errors",
    "LoadError": "pipeline.errors",
    "assign": "pipeline.taxonomy.api",
    "Taxonomy": "pipeline.taxonomy.model",
    "load_taxonomy": "pipeline.taxonomy.io",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
