"""The stage functions one engine runs, as one typed bundle.

The local engine's body (:func:`pipeline.engines.local.run`) calls every per-row stage through a
:class:`Stages`; :func:`local_stages` gives the plain stage functions, the Ray engine
(:mod:`pipeline.engines.ray`) the same stages as Ray Data jobs. Everything after the per-row
stages (topics, names, themes, the manifest) is shared, so both engines write the same outputs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.types import Documents, LoadReport


@dataclass(frozen=True)
class Stages:
    """One engine's per-row stages (signatures as the functions they stand for).

    Attributes:
        engine: ``local`` or ``ray`` (written to ``run.json`` as ``engine``).
        reason: Why this engine runs (``engine_reason``).
        load: ``(data, *, filename, options) -> LoadedTable`` (:func:`pipeline.load.stream.load_input`).
        documents: :func:`pipeline.documents.prepare_documents`.
        languages: :func:`pipeline.languages.detect_languages`.
        embed: :func:`pipeline.embed.embed_texts`.
        reduce: :func:`pipeline.reduce.reduce`.
        cluster: :func:`pipeline.cluster.cluster`.
        tokenize: :func:`pipeline.tokenize.tokenize_many`.
        details: Extra facts for ``run.json`` (``engine_details``), e.g. the Ray cluster's size.
    """

    engine: str
    reason: str
    load: Callable[..., Any]
    documents: Callable[..., Any]
    languages: Callable[..., Any]
    embed: Callable[..., Any]
    reduce: Callable[..., Any]
    cluster: Callable[..., Any]
    tokenize: Callable[..., Any]
    details: dict[str, Any] = field(default_factory=dict)


def local_stages(reason: str = "the default: every stage in this process") -> Stages:
    """The plain stage functions (what ``--engine local`` runs)."""
    from pipeline.cluster import cluster
    from pipeline.documents import prepare_documents
    from pipeline.embed import embed_texts
    from pipeline.languages import detect_languages
    from pipeline.load.stream import load_input
    from pipeline.reduce import reduce
    from pipeline.tokenize import tokenize_many

    return Stages(
        engine="local",
        reason=reason,
        load=load_input,
        documents=prepare_documents,
        languages=detect_languages,
        embed=embed_texts,
        reduce=reduce,
        cluster=cluster,
        tokenize=tokenize_many,
    )


def engine_manifest(stages: Stages, report: LoadReport, documents: Documents) -> dict[str, Any]:
    """``engine``, ``engine_reason``, ``engine_details`` and, for several files, ``ledger_by_file``."""
    out: dict[str, Any] = {"engine": stages.engine, "engine_reason": stages.reason}
    if stages.details:
        out["engine_details"] = dict(stages.details)
    if report.sources:
        per_file = []
        for source in report.sources:
            statuses = documents.status[source.first_row : source.first_row + source.rows]
            reasons = Counter(s.split(":", 1)[0].replace("duplicate_of", "duplicate") for s in statuses)
            clustered = reasons.pop("ok", 0)
            per_file.append(
                {
                    "file": source.name,
                    "rows_read": source.rows,
                    "rows_clustered": clustered,
                    "excluded": dict(reasons),
                }
            )
        out["ledger_by_file"] = per_file
    return out
