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


def reserve_run_dir(root: Path, run_id: str) -> Path:
    """Create and return a run folder no other run has: ``run_id``, else ``run_id-2``, ``-3``...

    The folder is made with an exclusive ``mkdir``, so two runs of one file started in the same
    second (the id has a one-second stamp) never share a folder.
    """
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = root / (run_id if n == 1 else f"{run_id}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RuntimeError(f"no free run folder for {run_id}")  # pragma: no cover


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
    """Queue a run for a worker process; it is saved under the workspace when it finishes."""
    target = reserve_run_dir(workspace(), new_run_id(upload.filename, upload.sha256))
    return jobs.start_process(
        "dashboard.worker:run_and_save",
        filename=upload.filename,
        kwargs={
            "data": upload.data,
            "filename": upload.filename,
            "config": config,
            "target": str(target),
        },
    )


def start_rerun(current: OpenRun, config: RunConfig) -> jobs.Job:
    """Queue a run of the open run's saved data with new settings (no upload needed); the new run
    is saved beside it and records ``rerun_of`` (see :mod:`pipeline.rerun`)."""
    report = current.base.load_report
    target = reserve_run_dir(workspace(), new_run_id(report.filename, report.sha256))
    return jobs.start_process(
        "dashboard.worker:rerun_and_save",
        filename=report.filename,
        kwargs={"source": current.run_dir, "config": config, "target": str(target)},
    )


def can_rerun(current: OpenRun) -> bool:
    """Whether the open run's folder still holds the data a re-run needs."""
    from pipeline.rerun import is_run_folder

    return is_run_folder(current.run_dir)


def open_saved(run_dir: str | Path) -> OpenRun:
    """Reopen a saved run with its edit log applied."""
    from pipeline.store import open_run

    path = Path(run_dir)
    base = open_run(path)
    log = _read_edits(path)
    return _view(path, base, log)


def _view(path: Path, base: RunResult, log: list[dict[str, Any]], collapse: bool | None = None) -> OpenRun:
    from pipeline.store import active_entries

    edits = [edit for _, edit in active_entries(log)]
    return OpenRun(
        run_id=path.name,
        run_dir=str(path),
        base=base,
        edits=edits,
        result=_counted(_apply(base, log), collapse),
        log=log,
        cursor=len(log),
        collapse=collapse,
    )


def _counted(result: RunResult, collapse: bool | None) -> RunResult:
    """Counts one per near-duplicate group or every row (``None``: as the run was made); merges
    recount every row, so a collapsed run is collapsed again after its edits."""
    from pipeline.near_duplicates import collapse_counts, is_collapsed

    want = is_collapsed(result) if collapse is None else collapse
    return collapse_counts(result, collapse=want) if want or is_collapsed(result) else result


def set_collapse(current: OpenRun, collapse: bool) -> OpenRun:
    """The same view with near-duplicates collapsed in counts (or not); nothing is written."""
    return replace(current, collapse=collapse, result=_counted(current.result, collapse))


def reload(current: OpenRun) -> OpenRun:
    """The same run with the latest shared edit log (others' edits included)."""
    path = Path(current.run_dir)
    return _view(path, current.base, _read_edits(path), current.collapse)


_REPLAYS: dict[tuple[int, str], tuple[RunResult, RunResult]] = {}
_MAX_REPLAYS = 8


def _apply(base: RunResult, log: list[dict[str, Any]]) -> RunResult:
    """``base`` with the log replayed (the last few replays kept: an edit's check and its view
    replay the same log)."""
    from pipeline.curation import apply_edits

    if not log:
        return base
    key = (id(base), json.dumps(log, sort_keys=True, default=str))
    hit = _REPLAYS.get(key)
    if hit is not None and hit[0] is base:
        return hit[1]
    if len(_REPLAYS) >= _MAX_REPLAYS:
        _REPLAYS.pop(next(iter(_REPLAYS)))
    edited = apply_edits(base, log)
    _REPLAYS[key] = (base, edited)
    return edited


def _replays(base: RunResult) -> Any:
    def check(log: list[dict[str, Any]]) -> None:
        _apply(base, log)  # raises ConfigError (nothing is written) if the log no longer replays

    return check


def edit(current: OpenRun, new_edit: dict[str, Any], *, author: str = "") -> tuple[OpenRun, int]:
    """Append one edit (rename, merge, split, move, delete, seed...) to the run's shared log; return
    the new view and how many edits
    by other analysts it now includes that the old view did not.

    Raises:
        EditConflict: Another analyst changed one of the same topics since ``current`` was read
            (nothing is saved; call :func:`reload`).
        ConfigError: The edit names a topic that no longer exists.
    """
    from pipeline.store import append_edit

    new_edit = _prepared(current, new_edit)
    path = Path(current.run_dir)
    if not current.log and current.edits:  # a view built without a log (tests, old callers)
        current = replace(current, log=list(current.edits), cursor=len(current.edits))
        if not _read_edits(path):
            _write_edits(path, current.log)
    log = append_edit(path, new_edit, author=author, based_on=current.cursor, check=_replays(current.base))
    merged = sum(1 for e in log[current.cursor : -1] if str(e.get("author") or "") != author)
    return _view(path, current.base, log, current.collapse), merged


def _prepared(current: OpenRun, new_edit: dict[str, Any]) -> dict[str, Any]:
    """The edit as saved: checked, a seed's vector computed once with the run's model, and the
    topics a move or seed takes texts from (for conflict checks between analysts)."""
    from pipeline.curation import from_dict, prepare, to_dict

    edit = from_dict(new_edit)
    extra: dict[str, Any] = {}
    if edit.op == "seed" and not new_edit.get("vector"):
        name, options = run_embedder(current.base)
        model = embedder(name, "auto", json.dumps(options, sort_keys=True))
        edit = prepare(edit, current.result, embedder=model)
    if edit.op == "move":
        labels = current.result.row_labels()
        extra["from_topics"] = sorted({int(labels[r]) for r in new_edit["rows"] if 0 <= int(r) < len(labels)})
    return {**to_dict(edit), **extra}


def history(current: OpenRun, *, author: str = "") -> tuple[int, int]:
    """How many steps this analyst can undo and redo now."""
    from pipeline.store import active_entries, redo_candidates

    log = current.log or current.edits
    mine = sum(1 for _, e in active_entries(log) if str(e.get("author") or author) == author)
    return mine, len(redo_candidates(log, author=author))


def redo(current: OpenRun, *, author: str = "") -> tuple[OpenRun, dict[str, Any]]:
    """Restore this analyst's last undone edit; return the view and the edit.

    Raises:
        EditConflict: Nothing to redo (``nothing_to_redo``).
        ConfigError: The edit no longer replays on top of others' later edits.
    """
    from pipeline.store import redo_edit

    path = Path(current.run_dir)
    log, redone = redo_edit(path, author=author, check=_replays(current.base))
    return _view(path, current.base, log), redone


_THRESHOLDS: dict[int, tuple[RunResult, float]] = {}


def seed_threshold(result: RunResult) -> float:
    """The cosine a text needs to join a seeded topic in this run (shown beside the seed form;
    the last few kept, since the page asks on every rerun)."""
    from pipeline.curation import seed_threshold as threshold

    hit = _THRESHOLDS.get(id(result))
    if hit is not None and hit[0] is result:
        return hit[1]
    if len(_THRESHOLDS) >= _MAX_REPLAYS:
        _THRESHOLDS.pop(next(iter(_THRESHOLDS)))
    value = threshold(result)[0]
    _THRESHOLDS[id(result)] = (result, value)
    return value


def undo_candidate(current: OpenRun, *, author: str = "") -> tuple[dict[str, Any] | None, list[int]]:
    """What this analyst's Undo would cancel, and the topics others changed on top (if any)."""
    from pipeline.store import undo_candidate as candidate

    target, blocked = candidate(current.log or current.edits, author=author)
    return target, sorted(blocked)


def undo(current: OpenRun, *, author: str = "") -> tuple[OpenRun, dict[str, Any]]:
    """Cancel this analyst's own last edit (others' edits stay); return the view and the edit.

    Raises:
        EditConflict: Nothing of this analyst's to undo, or another analyst built on it.
    """
    from pipeline.store import undo_edit

    path = Path(current.run_dir)
    if not current.log and current.edits and not _read_edits(path):
        _write_edits(path, list(current.edits))
    log, undone = undo_edit(path, author=author, check=_replays(current.base))
    return _view(path, current.base, log, current.collapse), undone


_LOG_STAT: dict[str, tuple[tuple[int, int], int]] = {}
_MAX_LOG_STAT = 256


def changes_elsewhere(current: OpenRun, *, author: str = "") -> int:
    """How many entries other analysts added to the run's edit log since this view was read.

    Costs one ``stat`` per call; the log is read only when the file changed.
    """
    path = Path(current.run_dir) / "edits.json"
    try:
        info = path.stat()
    except OSError:
        return 0
    key = (info.st_mtime_ns, info.st_size)
    cached = _LOG_STAT.get(str(path))
    if cached is not None and cached[0] == key:
        length = cached[1]
    else:
        log = _read_edits(path.parent)
        length = len(log)
        if len(_LOG_STAT) >= _MAX_LOG_STAT:
            _LOG_STAT.clear()
        _LOG_STAT[str(path)] = (key, length)
    if length <= current.cursor:
        return 0
    log = _read_edits(path.parent)
    return sum(1 for e in log[current.cursor :] if str(e.get("author") or "") != author)


def label_languages(result: RunResult) -> list[str]:
    """Languages the topic names can be shown in: en, zh, the run's own label language(s), then
    the file's five most common languages."""
    from pipeline.labels.apply import shown_language

    codes = ["en", "zh", shown_language(result), *(s.language for s in result.label_sets)]
    codes += [c for c in (result.manifest.get("languages") or {}) if c not in ("", "und")][:5]
    return list(dict.fromkeys(c for c in codes if c))


def shown_language(result: RunResult) -> str:
    """The language the run's topic names are in now (``""`` when unknown)."""
    from pipeline.labels.apply import shown_language as shown

    return shown(result)


def relabel(current: OpenRun, language: str) -> OpenRun:
    """Show the open run's topics named in ``language`` (edits replayed; nothing re-embedded).

    A label set computed once is saved with the run, so switching back is instant. The run's
    embedding model is loaded (once per process) only to embed the label-language candidates.
    """
    from pipeline.labels.apply import relabel as relabel_run
    from pipeline.labels.apply import shown_language

    base = current.base
    if shown_language(base) == language:
        return current
    model = cache = None
    if not any(s.language == language for s in base.label_sets):
        name, options = run_embedder(base)
        model = embedder(name, "auto", json.dumps(options, sort_keys=True))
        from pipeline.embedders.cache import EmbeddingCache, default_cache_dir

        cache = EmbeddingCache(default_cache_dir())
    base = relabel_run(base, label_language=language, embedder=model, cache=cache)
    from pipeline.store import save_label_sets

    try:
        save_label_sets(Path(current.run_dir), base)
    except (OSError, ValueError):
        logger.warning("could not save the %s labels of %s", language, current.run_id, exc_info=True)
    return replace(current, base=base, result=_apply(base, current.edits))


def _read_edits(run_dir: Path) -> list[dict[str, Any]]:
    from pipeline.store import load_edits

    try:
        return load_edits(run_dir)
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

    from pipeline.store import active_entries, list_runs

    rows = [
        {
            "run_id": info.run_id,
            "created": info.created_at.replace("T", " ")[:19],
            "file": info.filename,
            "rows": info.rows,
            "topics": info.n_topics,
            "model": info.model,
            "edits": len(active_entries(_read_edits(info.path))),
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
