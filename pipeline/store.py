"""Runs on disk as flat files, so any run can be reopened, diffed and exported without the app.

Layout of a run folder::

    run.json            the manifest (config, versions, seed, input hash, timings, ledger, edits)
    data/table.parquet  the input rows, every cell a string
    data/rows.parquet   analysis text, status and language per row
    data/*.npy          embeddings (float16), reduced coordinates, labels (never pickled)
    data/meta.json      load report, row issues, topics, clustering and embedding metadata
    edits.json          the analysts' edit log (replayed with pipeline.curation.apply_edits)

Writes are atomic (temporary file + ``os.replace``), so a crash never leaves half a run.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    if len(result.mentions):  # other topics per text (pipeline.multitopic); absent when none
        arrays["mentions"] = result.mentions.astype(np.int64)
    if result.sentiment is not None:
        arrays["sentiment_scores"] = result.sentiment.scores.astype(np.float32)
        arrays["sentiment_codes"] = result.sentiment.codes.astype(np.int8)
    if result.near_duplicates is not None:  # groups of texts that say the same thing
        arrays["near_duplicates"] = result.near_duplicates.representative.astype(np.int64)
        arrays["near_duplicate_similarity"] = result.near_duplicates.similarity.astype(np.float32)
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
    if result.sentiment is not None:
        meta["sentiment"] = {k.removeprefix("sentiment_"): v for k, v in result.sentiment.manifest().items()}
    if result.near_duplicates is not None:
        meta["near_duplicates"] = result.near_duplicates.params
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
    """Persist the analyst's edit log next to the run (replacing it; see :func:`append_edit`)."""
    _write_json(run_dir / EDITS_FILE, list(edits))


def load_edits(run_dir: Path) -> list[dict[str, Any]]:
    """The edit log as saved: old files hold plain edits, newer ones also ``undo`` entries and
    each entry's ``id``, ``author`` and ``based_on`` (see :func:`append_edit`)."""
    path = run_dir / EDITS_FILE
    if not path.exists():
        return []
    return [e for e in json.loads(path.read_text(encoding="utf-8")) if isinstance(e, dict)]


# ------------------------------------------------------------------------------- shared edit log
EDITS_FILE = "edits.json"
_EDITS_LOCK = threading.Lock()


class EditConflict(FeedbackTopicsError):
    """An edit or undo cannot be saved as asked; nothing was written.

    ``code`` is ``conflict`` (someone else changed the same topics since the writer's version),
    ``undo_blocked`` (a later edit by someone else builds on the one to undo), ``nothing_to_undo``
    or ``nothing_to_redo``;
    ``topics`` names the topics involved.
    """

    def __init__(self, user_message: str, *, code: str, topics: Iterable[int] = ()) -> None:
        super().__init__(user_message, code=code)
        self.topics = sorted({int(t) for t in topics})


def entry_id(entry: Mapping[str, Any], index: int) -> str:
    """An entry's id; entries written before ids existed are named by their place in the log."""
    return str(entry.get("id") or f"legacy-{index}")


def active_entries(log: Sequence[Mapping[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(index, edit) for every edit in ``log`` that no later ``undo`` cancels (or a ``redo`` restored)."""
    undone, _ = _history(log)
    return [
        (i, dict(e)) for i, e in enumerate(log) if e.get("op") not in _META and entry_id(e, i) not in undone
    ]


_META = ("undo", "redo")


def _history(log: Sequence[Mapping[str, Any]]) -> tuple[set[str], dict[str, list[str]]]:
    """Replay the log's undo/redo entries: (ids undone now, each author's redo stack, top last).

    An ``undo`` pushes its target on its author's stack, a ``redo`` pops it, and a new edit by
    that author clears the stack (a new edit after undo drops the redo tail, as in any editor).
    """
    undone: set[str] = set()
    stacks: dict[str, list[str]] = {}
    for entry in log:
        op = entry.get("op")
        author = str(entry.get("author") or "")
        target = str(entry.get("target"))
        if op == "undo":
            undone.add(target)
            stacks.setdefault(author, []).append(target)
        elif op == "redo":
            undone.discard(target)
            stack = stacks.get(author, [])
            if target in stack:
                stack.remove(target)
        else:
            stacks[author] = []
    return undone, stacks


def redo_candidates(log: Sequence[Mapping[str, Any]], *, author: str) -> list[dict[str, Any]]:
    """The edits ``author``'s Redo would restore, next first (empty: nothing to redo)."""
    undone, stacks = _history(log)
    by_id = {entry_id(e, i): (i, e) for i, e in enumerate(log) if e.get("op") not in _META}
    out = []
    for target in reversed(stacks.get(author, [])):
        if target in undone and target in by_id:
            index, entry = by_id[target]
            out.append({**dict(entry), "id": entry_id(entry, index)})
    return out


def redo_edit(
    run_dir: Path, *, author: str, check: Callable[[list[dict[str, Any]]], None] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Restore ``author``'s last undone edit by appending a ``redo`` entry; returns (log, redone).

    Raises:
        EditConflict: ``nothing_to_redo``.
    """
    with _locked_log(run_dir) as log:
        candidates = redo_candidates(log, author=author)
        if not candidates:
            raise EditConflict("There is no undone edit of yours to redo.", code="nothing_to_redo")
        target = candidates[0]
        fields = {"op": "redo", "target": target["id"]}
        return _append_entry(run_dir, log, fields, author=author, based_on=len(log), check=check), target


def entry_topics(entry: Mapping[str, Any], log: Sequence[Mapping[str, Any]] = ()) -> set[int]:
    """The topic ids an entry changes (for an ``undo`` or ``redo``, those of its target edit)."""
    op = entry.get("op")
    if op in _META:
        for i, other in enumerate(log):
            if entry_id(other, i) == str(entry.get("target")) and other.get("op") not in _META:
                return entry_topics(other, log)
        return set()
    topics: set[int] = set()
    for key in ("topic_id", "to_topic"):
        if isinstance(entry.get(key), int):
            topics.add(int(entry[key]))
    topics |= {int(i) for i in entry.get("topic_ids", []) if isinstance(i, int)}
    topics |= {int(i) for i in entry.get("from_topics", []) if str(i).lstrip("-").isdigit()}
    return topics


@contextlib.contextmanager
def _locked_log(run_dir: Path) -> Iterator[list[dict[str, Any]]]:
    """Hold the run's edit log exclusively (threads of this process and other processes)."""
    import fcntl

    with _EDITS_LOCK, open(run_dir / ".edits.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield load_edits(run_dir)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def append_edit(
    run_dir: Path,
    edit: Mapping[str, Any],
    *,
    author: str,
    based_on: int,
    check: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Append one rename/merge/undo to the run's edit log and return the whole new log.

    ``based_on`` is the length of the log the writer's view was built from. Entries written since
    by others are kept: the new edit is merged after them when it changes other topics, and
    refused with :class:`EditConflict` (``conflict``) when it changes one of theirs. ``check``
    may raise to refuse the new log (the caller replays it, for instance). Nothing is lost: the
    log is only ever appended to, under a lock, with an atomic write.
    """
    with _locked_log(run_dir) as log:
        others = log[based_on:] if 0 <= based_on <= len(log) else log
        mine = entry_topics(edit, log)
        theirs: set[int] = set()
        for entry in others:
            if str(entry.get("author") or "") != author:
                theirs |= entry_topics(entry, log)
        clash = mine & theirs
        if clash:
            raise EditConflict(
                "Another analyst changed the same topic since you loaded this run; "
                "the latest version was loaded. Check it and make your change again.",
                code="conflict",
                topics=clash,
            )
        return _append_entry(run_dir, log, edit, author=author, based_on=int(based_on), check=check)


def _append_entry(
    run_dir: Path,
    log: Sequence[dict[str, Any]],
    fields: Mapping[str, Any],
    *,
    author: str,
    based_on: int,
    check: Callable[[list[dict[str, Any]]], None] | None,
) -> list[dict[str, Any]]:
    """Stamp ``fields`` as a new log entry (id, author, version it was based on, time), let
    ``check`` veto the new log, and write it; call with the log's lock held."""
    entry = {
        **dict(fields),
        "id": uuid.uuid4().hex[:16],
        "author": author,
        "based_on": based_on,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    new_log = [*log, entry]
    if check is not None:
        check(new_log)
    _write_json(run_dir / EDITS_FILE, new_log)
    return new_log


def undo_candidate(
    log: Sequence[Mapping[str, Any]], *, author: str
) -> tuple[dict[str, Any] | None, set[int]]:
    """The edit ``author``'s Undo would cancel (their last active one; entries without an author,
    from before authors were recorded, count as anyone's), and the topics that later edits by
    others changed on top of it (non-empty: the undo is refused)."""
    active = active_entries(log)
    for position in range(len(active) - 1, -1, -1):
        index, entry = active[position]
        if str(entry.get("author") or author) != author:
            continue
        touched = entry_topics(entry, log)
        blocked: set[int] = set()
        for _, later in active[position + 1 :]:
            if str(later.get("author") or "") != author:
                blocked |= touched & entry_topics(later, log)
        return {**entry, "id": entry_id(entry, index)}, blocked
    return None, set()


def undo_edit(
    run_dir: Path, *, author: str, check: Callable[[list[dict[str, Any]]], None] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Cancel ``author``'s last active edit by appending an ``undo`` entry; returns (log, undone).

    Raises:
        EditConflict: ``nothing_to_undo``, or ``undo_blocked`` when another analyst has since
            changed one of its topics.
    """
    with _locked_log(run_dir) as log:
        target, blocked = undo_candidate(log, author=author)
        if target is None:
            raise EditConflict("You have no edit of your own to undo in this run.", code="nothing_to_undo")
        if blocked:
            raise EditConflict(
                "Another analyst has since changed the same topic, so your edit cannot be undone alone.",
                code="undo_blocked",
                topics=blocked,
            )
        fields = {"op": "undo", "target": target["id"]}
        return _append_entry(run_dir, log, fields, author=author, based_on=len(log), check=check), target


def open_run(run_dir: Path) -> RunResult:
    """Read a run saved by :func:`save_run` (without applying its edits: ``manifest["edits"]`` is
    empty, whatever ``run.json`` lists; the log is ``edits.json``)."""
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
    manifest = {**manifest, "edits": []} if isinstance(manifest, dict) else manifest
    load_report = read_load_report(meta)
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
    sentiment = None
    if "sentiment" in meta:  # runs saved before sentiment existed have none
        from pipeline.sentiment.base import RowSentiment

        try:
            scores = np.load(data_dir / "sentiment_scores.npy", allow_pickle=False)
            codes = np.load(data_dir / "sentiment_codes.npy", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise RunStoreError(
                f"The run folder {run_dir} is missing files or damaged; run the analysis again.",
                code="run_damaged",
                detail=repr(exc),
            ) from exc
        sentiment = RowSentiment(scores=scores, codes=codes, **meta["sentiment"])
    near_duplicates = None
    if (data_dir / "near_duplicates.npy").is_file():  # runs saved before this stage have none
        from pipeline.near_duplicates import NearDuplicates

        near_duplicates = NearDuplicates(
            representative=np.load(data_dir / "near_duplicates.npy", allow_pickle=False),
            similarity=np.load(data_dir / "near_duplicate_similarity.npy", allow_pickle=False),
            params=dict(meta.get("near_duplicates") or {}),
        )
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
        mentions=_load_mentions(data_dir),
        sentiment=sentiment,
        near_duplicates=near_duplicates,
    )


def _load_mentions(data_dir: Path) -> np.ndarray:
    path = data_dir / "mentions.npy"
    if not path.exists():
        return np.zeros((0, 2), dtype=np.int64)
    return np.load(path, allow_pickle=False).astype(np.int64).reshape(-1, 2)


def read_load_report(meta: Mapping[str, Any]) -> LoadReport:
    """The :class:`LoadReport` kept in a run's ``data/meta.json`` (how its input was read)."""
    report_fields = dict(meta["load_report"])
    report_fields["issues"] = tuple(RowIssue(**i) for i in report_fields.get("issues", []))
    for key, value in list(report_fields.items()):
        if isinstance(value, list):
            report_fields[key] = tuple(value)
    if report_fields.get("sources"):  # folder or glob input
        from pipeline.types import SourceFile

        report_fields["sources"] = tuple(SourceFile(**dict(s)) for s in report_fields["sources"])
    return LoadReport(**report_fields)


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
