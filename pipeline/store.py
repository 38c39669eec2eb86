"""Runs on disk as flat files, so any run can be reopened, diffed and exported without the app.

Layout of a run folder::

    run.json            the manifest (config, versions, seed, input hash, timings, ledger, edits)
    data/table.parquet  the input rows, every cell a string
    data/rows.parquet   analysis text, status and language per row
    data/*.npy          embeddings (float16), reduced coordinates, labels (never pickled)
    data/meta.json      load report, row issues, topics, clustering and embedding metadata
    edits.json          the analyst's rename/merge log (replayed with pipeline.analysis.apply_edits)

Writes are atomic (temporary file + ``os.replace``), so a crash never leaves half a run.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import FeedbackTopicsError
from pipeline.files import atomic_write, atomic_write_bytes
from pipeline.types import (
    Clustering,
    Documents,
    Embeddings,
    Ledger,
    LoadReport,
    Reduction,
    RowIssue,
    RunResult,
    Theme,
    Topic,
)

logger = logging.getLogger(__name__)

DATA = "data"
WORKSPACE_ENV = "FEEDBACK_TOPICS_WORKSPACE"


class RunStoreError(FeedbackTopicsError):
    """A run folder is missing or damaged."""


@dataclass(frozen=True)
class RunInfo:
    """One saved run, as listed in the dashboard."""

    path: Path
    run_id: str
    created_at: str
    filename: str
    rows: int
    n_topics: int
    model: str


def default_workspace() -> Path:
    """``$FEEDBACK_TOPICS_WORKSPACE`` or ``./runs``."""
    return Path(os.environ.get(WORKSPACE_ENV) or "runs")


def new_run_dir(workspace: Path, result: RunResult) -> Path:
    """Create a fresh, sortable run folder: ``20261126-103000-feedback_sample-1a2b3c`` (``-2``... if taken)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(result.load_report.filename).stem)[:40] or "run"
    base = f"{stamp}-{stem}-{result.load_report.sha256[:6]}"
    workspace.mkdir(parents=True, exist_ok=True)
    suffix = 1
    while True:  # an exclusive mkdir: two runs in the same second never share a folder
        path = workspace / (base if suffix == 1 else f"{base}-{suffix}")
        try:
            path.mkdir()
        except FileExistsError:
            suffix += 1
            continue
        return path


def save_run(result: RunResult, run_dir: Path, *, edits: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write ``result`` (the unedited run) and the analyst's ``edits`` to ``run_dir``."""
    data_dir = run_dir / DATA
    data_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(data_dir / "table.parquet", lambda handle: result.table.to_parquet(handle, index=False))
    rows = pd.DataFrame(
        {
            "text": list(result.documents.texts),
            "status": list(result.documents.status),
            "language": list(result.languages),
        }
    )
    atomic_write(data_dir / "rows.parquet", lambda handle: rows.to_parquet(handle, index=False))
    arrays: dict[str, np.ndarray] = {
        "embeddings": result.embeddings.vectors.astype(np.float16),
        "cluster_space": result.reduction.cluster_space.astype(np.float32),
        "map_2d": result.reduction.map_2d.astype(np.float32),
        "labels": result.clustering.labels.astype(np.int64),
    }
    for name, array in arrays.items():
        atomic_write(data_dir / f"{name}.npy", functools.partial(np.save, arr=array, allow_pickle=False))
    meta = {
        "load_report": {
            **asdict(result.load_report),
            "issues": [asdict(i) for i in result.load_report.issues],
        },
        "documents": {
            "text_column": result.documents.text_column,
            "text_column_reason": result.documents.text_column_reason,
            "issues": [asdict(i) for i in result.documents.issues],
        },
        "embeddings": {
            "model": result.embeddings.model,
            "device": result.embeddings.device,
            "n_cached": result.embeddings.n_cached,
            "n_computed": result.embeddings.n_computed,
            "n_truncated": result.embeddings.n_truncated,
        },
        "reduction": result.reduction.params,
        "clustering": {
            "method": result.clustering.method,
            "n_topics": result.clustering.n_topics,
            "params": result.clustering.params,
            "reason": result.clustering.reason,
        },
        "topics": [asdict(t) for t in result.topics],
        "themes": [asdict(t) for t in result.themes],
        "ledger": result.ledger.to_dict(),
        "label_sets": [label_set.to_dict() for label_set in result.label_sets],
    }
    _write_json(data_dir / "meta.json", meta)
    _write_json(run_dir / "run.json", result.manifest)
    save_edits(run_dir, edits)
    return run_dir


def save_label_sets(run_dir: Path, result: RunResult) -> None:
    """Keep ``result.label_sets`` with the saved run (labels computed later, e.g. another language)."""
    path = run_dir / DATA / "meta.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    known = {d.get("language") for d in meta.get("label_sets", [])}
    added = [s.to_dict() for s in result.label_sets if s.language not in known]
    if added:
        meta["label_sets"] = [*meta.get("label_sets", []), *added]
        _write_json(path, meta)


def save_edits(run_dir: Path, edits: Sequence[Mapping[str, Any]]) -> None:
    """Persist the analyst's edit log next to the run."""
    _write_json(run_dir / "edits.json", list(edits))


def load_edits(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "edits.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")))


def open_run(run_dir: Path) -> RunResult:
    """Read a run saved by :func:`save_run` (without applying its edits)."""
    data_dir = run_dir / DATA
    try:
        manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        meta = json.loads((data_dir / "meta.json").read_text(encoding="utf-8"))
        table = pd.read_parquet(data_dir / "table.parquet")
        rows = pd.read_parquet(data_dir / "rows.parquet")
        arrays = {
            name: np.load(data_dir / f"{name}.npy", allow_pickle=False)
            for name in ("embeddings", "cluster_space", "map_2d", "labels")
        }
    except (OSError, ValueError, KeyError) as exc:
        raise RunStoreError(
            f"The run folder {run_dir} is missing files or damaged; run the analysis again.",
            code="run_damaged",
            detail=repr(exc),
        ) from exc
    report_fields = dict(meta["load_report"])
    report_fields["issues"] = tuple(RowIssue(**i) for i in report_fields.get("issues", []))
    for key in ("columns", "encoding_alternatives", "warnings"):
        if key in report_fields:
            report_fields[key] = tuple(report_fields[key])
    for key, value in list(report_fields.items()):
        if isinstance(value, list):
            report_fields[key] = tuple(value)
    load_report = LoadReport(**report_fields)
    documents = Documents(
        texts=tuple(rows["text"].astype(str)),
        status=tuple(rows["status"].astype(str)),
        text_column=meta["documents"]["text_column"],
        text_column_reason=meta["documents"]["text_column_reason"],
        issues=tuple(RowIssue(**i) for i in meta["documents"]["issues"]),
    )
    vectors = arrays["embeddings"].astype(np.float32)
    embeddings = Embeddings(vectors=vectors, **meta["embeddings"])
    reduction = Reduction(
        cluster_space=arrays["cluster_space"], map_2d=arrays["map_2d"], params=meta["reduction"]
    )
    clustering = Clustering(labels=arrays["labels"], **meta["clustering"])
    topics = tuple(
        Topic(
            **{
                **t,
                "keywords": tuple((str(w), float(s)) for w, s in t["keywords"]),
                "keywords_original": tuple((str(w), float(s)) for w, s in t.get("keywords_original", ())),
                "examples": tuple(t["examples"]),
            }
        )
        for t in meta["topics"]
    )
    themes = tuple(
        Theme(
            **{
                **t,
                "keywords": tuple((str(w), float(s)) for w, s in t["keywords"]),
                "topic_ids": tuple(int(i) for i in t["topic_ids"]),
            }
        )
        for t in meta.get("themes", [])  # runs saved before themes existed have none
    )
    ledger = Ledger(**meta["ledger"])
    from pipeline.labels.base import LabelSet

    label_sets = tuple(LabelSet.from_dict(d) for d in meta.get("label_sets", []))
    return RunResult(
        table=table,
        load_report=load_report,
        documents=documents,
        embeddings=embeddings,
        reduction=reduction,
        clustering=clustering,
        topics=topics,
        languages=tuple(rows["language"].astype(str)),
        ledger=ledger,
        manifest=manifest,
        themes=themes,
        label_sets=label_sets,
    )


def list_runs(workspace: Path) -> list[RunInfo]:
    """Saved runs in ``workspace``, newest first; damaged folders are skipped with a log line."""
    if not workspace.is_dir():
        return []
    runs: list[RunInfo] = []
    for path in workspace.iterdir():
        manifest_path = path / "run.json"
        if not (path / DATA / "meta.json").exists() or not manifest_path.exists():
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            runs.append(
                RunInfo(
                    path=path,
                    run_id=path.name,
                    created_at=str(manifest.get("created_at", "")),
                    filename=str(manifest.get("input_filename", "")),
                    rows=int(manifest.get("ledger", {}).get("rows_read", 0)),
                    n_topics=int(manifest.get("n_topics", 0)),
                    model=str(manifest.get("model", "")),
                )
            )
        except (OSError, ValueError) as exc:
            logger.warning("skipping unreadable run folder %s: %s", path, exc)
    return sorted(runs, key=lambda r: (r.created_at, r.run_id), reverse=True)


def _write_json(path: Path, value: Any) -> None:
    from pipeline.export import jsonable

    payload = json.dumps(jsonable(value), ensure_ascii=False, indent=2).encode("utf-8")
    atomic_write_bytes(path, payload)
