"""The dashboard's only doorway into ``pipeline``: cached calls, run storage and edit logs.

Pages call these functions and render what they return. Nothing here does ML or data
transformation itself; it wires Streamlit's caches and the workspace folder to pipeline calls.
Heavy modules (``pipeline.run`` and, through it, torch/umap) are imported only when a run starts.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from dashboard import jobs
from dashboard.state import OpenRun, ReadOptions, Upload

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.config import RunConfig
    from pipeline.types import Documents, LoadedTable, RunResult

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_FILE = ROOT / "sample_data" / "feedback_sample.csv"
EDITS_FILE = "edits.json"
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "jsonl", "json", "ndjson", "parquet"]
TEST_MODELS_ENV = "FEEDBACK_TOPICS_DASHBOARD_TEST_MODELS"
"""When set, test-only embedders (``fake``) are offered too (tests and the browser test)."""
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")


# ---------------------------------------------------------------------------------------- workspace
def workspace() -> Path:
    """Where runs are saved: ``$FEEDBACK_TOPICS_WORKSPACE`` or ``./runs``."""
    return Path(os.environ.get("FEEDBACK_TOPICS_WORKSPACE") or "runs").expanduser().resolve()


def run_dir_for(run_id: str) -> Path | None:
    """The folder of a saved run, or ``None`` for an id that is malformed or not in the workspace."""
    if not _RUN_ID.match(run_id or ""):
        return None
    root = workspace()
    path = (root / run_id).resolve()
    if path.parent != root or not path.is_dir():
        return None
    return path


def new_run_id(filename: str, sha256: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(filename).stem).strip("-")[:40] or "data"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}-{sha256[:6]}"


# -------------------------------------------------------------------------------------------- input
def sample_upload() -> Upload:
    """The bundled sample file as if it had been uploaded."""
    return Upload.from_bytes(SAMPLE_FILE.name, SAMPLE_FILE.read_bytes())


def _load_options(options: ReadOptions) -> Any:
    from pipeline.types import LoadOptions

    return LoadOptions(encoding=options.encoding, delimiter=options.delimiter)


@st.cache_data(scope="session", max_entries=4, show_spinner=False)
def _load_cached(
    sha256: str, filename: str, encoding: str | None, delimiter: str | None, _data: bytes
) -> Any:
    from pipeline.load import load_table

    return load_table(_data, filename=filename, options=_load_options(ReadOptions(encoding, delimiter)))


def load(upload: Upload, options: ReadOptions) -> LoadedTable:
    """Parse the upload (cached per session on the bytes' SHA-256 plus the overrides)."""
    return _load_cached(upload.sha256, upload.filename, options.encoding, options.delimiter, upload.data)


def detect_text_column(table: LoadedTable) -> tuple[str, str]:
    from pipeline.documents import detect_text_column as detect

    return detect(table.frame)


@st.cache_data(scope="session", max_entries=4, show_spinner=False)
def _documents_cached(
    sha256: str, encoding: str | None, delimiter: str | None, column: str, _table: Any
) -> Any:
    from pipeline.documents import prepare_documents

    return prepare_documents(_table, text_column=column)


def documents(upload: Upload, options: ReadOptions, table: LoadedTable, column: str) -> Documents:
    return _documents_cached(upload.sha256, options.encoding, options.delimiter, column, table)


def recognise_columns(columns: list[str], text_column: str | None) -> dict[str, str]:
    from pipeline.analysis import recognise_columns as recognise

    return recognise(columns, text_column=text_column)


@st.cache_data(scope="session", max_entries=4, show_spinner=False)
def _languages_cached(sha256: str, column: str, _texts: tuple[str, ...]) -> dict[str, int]:
    from collections import Counter

    from pipeline.languages import detect_languages

    sample = [t for t in _texts if t][:400]
    return dict(Counter(detect_languages(sample)))


def sample_languages(upload: Upload, docs: Documents) -> dict[str, int]:
    """Languages of (up to 400 of) the texts, to explain what ``auto`` will choose."""
    return _languages_cached(upload.sha256, docs.text_column, docs.texts)


# ----------------------------------------------------------------------------------------- embedders
def embedder_choices() -> dict[str, str]:
    """Registry name -> one-line description (``auto`` first)."""
    from pipeline.embedders.registry import EMBEDDERS

    choices = {"auto": ""}
    for name, spec in EMBEDDERS.items():
        if name == "auto" or (getattr(spec, "hidden", False) and not os.environ.get(TEST_MODELS_ENV)):
            continue
        choices[name] = str(getattr(spec, "description", "") or getattr(spec, "summary", "") or "")
    return choices


def explain_auto(languages: dict[str, int] | None) -> tuple[str, str]:
    """What ``auto`` resolves to for these languages: (model name, reason)."""
    from pipeline.embedders.registry import resolve_auto

    return resolve_auto(languages=languages, device="auto")


def run_embedder(result: RunResult) -> tuple[str, dict[str, Any]]:
    """The registry name (and options) of the model a run was embedded with, for search."""
    from pipeline.search.engine import run_model

    return run_model(result)


@st.cache_resource(max_entries=3, show_spinner=False)
def embedder(name: str, device: str = "auto", options_json: str = "{}") -> Any:
    """One shared, read-only embedder per (name, device, options) for the whole process."""
    from pipeline.embedders.registry import create_embedder

    return create_embedder(name, device=device, **json.loads(options_json))


# -------------------------------------------------------------------------------------------- runs
def start_run(upload: Upload, config: RunConfig) -> jobs.Job:
    """Start a run in the background; it is saved under the workspace when it finishes."""
    run_id = new_run_id(upload.filename, upload.sha256)
    target = workspace() / run_id
    data, filename = upload.data, upload.filename

    def work(job: jobs.Job) -> str:
        from pipeline.run import run
        from pipeline.store import save_run

        def load(name: str, *, device: str, **options: Any) -> Any:
            # models are loaded once per process, also when run() resolves ``auto``
            return embedder(name, device, json.dumps(options, sort_keys=True))

        result = run(data, filename=filename, config=config, progress=job.progress, load_embedder=load)
        job.progress("save", 0, 1)
        target.parent.mkdir(parents=True, exist_ok=True)
        save_run(result, target)
        job.progress("save", 1, 1)
        return str(target)

    return jobs.start(work, filename=upload.filename)


def open_saved(run_dir: str | Path) -> OpenRun:
    """Reopen a saved run with its edit log applied."""
    from pipeline.store import open_run

    path = Path(run_dir)
    base = open_run(path)
    edits = _read_edits(path)
    result = _apply(base, edits)
    return OpenRun(run_id=path.name, run_dir=str(path), base=base, edits=edits, result=result)


def _apply(base: RunResult, edits: list[dict[str, Any]]) -> RunResult:
    from pipeline.analysis import apply_edits

    return apply_edits(base, edits) if edits else base


def edit(current: OpenRun, new_edit: dict[str, Any]) -> OpenRun:
    """Apply one rename/merge, save the edit log, and return the updated run."""
    edits = [*current.edits, new_edit]
    from pipeline.analysis import apply_edits

    result = apply_edits(current.result, [new_edit])
    _write_edits(Path(current.run_dir), edits)
    return replace(current, edits=edits, result=result)


def undo(current: OpenRun) -> OpenRun:
    """Drop the last edit (replaying the rest from the saved run)."""
    edits = current.edits[:-1]
    result = _apply(current.base, edits)
    _write_edits(Path(current.run_dir), edits)
    return replace(current, edits=edits, result=result)


def _read_edits(run_dir: Path) -> list[dict[str, Any]]:
    from pipeline.store import load_edits

    try:
        return [e for e in load_edits(run_dir) if isinstance(e, dict)]
    except (OSError, ValueError, TypeError):
        logger.warning("ignoring unreadable edit log in %s", run_dir)
        return []


def _write_edits(run_dir: Path, edits: list[dict[str, Any]]) -> None:
    from pipeline.store import save_edits

    save_edits(run_dir, edits)


def saved_runs() -> pd.DataFrame:
    """Runs in the workspace, newest first (columns ``run_id``, ``created``, ``file``, ``rows``,
    ``topics``, ``model``, ``edits``)."""
    import pandas as pd

    from pipeline.store import list_runs

    rows = [
        {
            "run_id": info.run_id,
            "created": info.created_at.replace("T", " ")[:19],
            "file": info.filename,
            "rows": info.rows,
            "topics": info.n_topics,
            "model": info.model,
            "edits": len(_read_edits(info.path)),
        }
        for info in list_runs(workspace())
        if _RUN_ID.match(info.run_id)
    ]
    return pd.DataFrame(rows, columns=["run_id", "created", "file", "rows", "topics", "model", "edits"])


# ------------------------------------------------------------------------------------------- export
def export_bytes(result: RunResult, fmt: str) -> bytes:
    """The topic report in one format: ``csv`` (topics), ``assignments`` (CSV), ``xlsx``,
    ``json`` or ``html``; names and merges already applied to ``result``."""
    from pipeline import export

    if fmt == "csv":
        return export.to_csv_bytes(export.topics_frame(result))
    if fmt == "assignments":
        return export.to_csv_bytes(export.assignments_frame(result))
    if fmt == "xlsx":
        return export.to_xlsx_bytes(result)
    if fmt == "json":
        return export.to_json_bytes(result)
    if fmt == "html":
        from pipeline.report import render_html

        return render_html(result).encode("utf-8")
    raise ValueError(fmt)


def issues_csv(rows: pd.DataFrame) -> bytes:
    """Formula-safe CSV of the load problems."""
    from pipeline import export

    return export.to_csv_bytes(rows)
