"""Build a :class:`Taxonomy` from a saved run, and keep it as ``taxonomy.json`` + centroids ``.npy``.

:func:`load_taxonomy` takes a run folder. When the folder holds a ``taxonomy.json`` written for
its current edit log it is read as is; otherwise the taxonomy is built from the run and its
``edits.json`` (the analyst's renames and merges, replayed by ``pipeline.analysis.apply_edits``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ConfigError
from pipeline.taxonomy.model import SCHEMA_VERSION, Taxonomy, TaxonomyTopic
from pipeline.types import OUTLIER, RunResult

logger = logging.getLogger(__name__)

TAXONOMY_JSON = "taxonomy.json"
CENTROIDS_NPY = "taxonomy_centroids.npy"


def build_taxonomy(
    result: RunResult,
    *,
    run_id: str,
    edits: tuple[dict[str, Any], ...] = (),
    percentile: float = 5.0,
) -> Taxonomy:
    """The taxonomy of ``result`` (already edited), with thresholds calibrated on its members."""
    from pipeline.taxonomy.assign import TaxonomyAssigner

    assigner = TaxonomyAssigner(percentile=percentile).fit(result)
    by_id = {t.id: t for t in result.topics}
    theme_of = result.topic_themes()
    theme_names = result.theme_names()
    topics = []
    for i, topic_id in enumerate(assigner.topic_ids_):
        topic = by_id.get(int(topic_id))
        theme = theme_of.get(int(topic_id), 0)
        topics.append(
            TaxonomyTopic(
                id=int(topic_id),
                name=topic.name if topic else f"Topic {topic_id}",
                theme_id=int(theme),
                theme_name=theme_names.get(theme, ""),
                size=int(topic.size) if topic else 0,
                share=float(topic.share) if topic else 0.0,
                threshold=round(float(assigner.threshold_[i]), 6),
                keywords=tuple(w for w, _ in topic.keywords) if topic else (),
                novelty=round(float(assigner.novelty_[i]), 6),
            )
        )
    centroids = assigner.centroids_
    carried = _carried_topics(result, {t.id for t in topics})
    if carried:
        # A run made with --taxonomy keeps the topics that got no rows, so they stay listed.
        topics += [topic for topic, _ in carried]
        centroids = np.vstack([centroids, np.stack([c for _, c in carried])]).astype(np.float32)
        order = np.argsort([t.id for t in topics], kind="stable")
        topics = [topics[i] for i in order]
        centroids = centroids[order]
    labels = result.row_labels()
    return Taxonomy(
        topics=tuple(topics),
        centroids=centroids,
        model=str(result.manifest.get("model") or result.embeddings.model),
        model_name=str(result.manifest.get("model_name") or result.embeddings.model),
        dim=int(result.embeddings.vectors.shape[1]),
        source_run_id=run_id,
        source_input_sha256=str(result.manifest.get("input_sha256") or result.load_report.sha256),
        rows_with_topic=int((labels != -2).sum()),
        outlier_rows=int((labels == OUTLIER).sum()),
        calibration=assigner.calibration_,
        edits=tuple(dict(e) for e in edits),
    )


def _carried_topics(result: RunResult, present: set[int]) -> list[tuple[TaxonomyTopic, np.ndarray]]:
    """Topics of the taxonomy ``result`` was run with that have no rows in it (with centres)."""
    import dataclasses

    source = (result.manifest.get("config") or {}).get("taxonomy")
    if not source or not (result.manifest.get("taxonomy") or {}).get("topics_without_rows"):
        return []
    try:
        previous = load_taxonomy(source)
    except ConfigError:
        logger.warning("the taxonomy %s this run used is gone; its empty topics are dropped", source)
        return []
    names = result.topic_names()
    theme_of = result.topic_themes()
    theme_names = result.theme_names()
    out = []
    for topic, centre in zip(previous.topics, previous.centroids, strict=True):
        if topic.id in present:
            continue
        theme = theme_of.get(topic.id, topic.theme_id)
        carried = dataclasses.replace(
            topic,
            name=names.get(topic.id, topic.name),
            theme_id=theme,
            theme_name=theme_names.get(theme, topic.theme_name),
            size=0,
            share=0.0,
        )
        out.append((carried, centre))
    return out


def taxonomy_from_run(run_dir: Path) -> Taxonomy:
    """Build the taxonomy of a saved run, its edits applied."""
    from pipeline.analysis import apply_edits
    from pipeline.store import load_edits, open_run

    run_dir = Path(run_dir)
    edits = load_edits(run_dir)
    result = apply_edits(open_run(run_dir), edits)
    return build_taxonomy(result, run_id=run_dir.resolve().name, edits=tuple(edits))


def load_taxonomy(path: Path | str) -> Taxonomy:
    """The taxonomy of the run folder ``path`` (see module doc).

    Raises:
        ConfigError: The folder is not a run, or its ``taxonomy.json`` is from a newer version.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(
            f"No run folder at {folder}. Give the output folder of an earlier run (--taxonomy RUN_DIR).",
            code="taxonomy_missing",
        )
    stored = folder / TAXONOMY_JSON
    if stored.exists():
        taxonomy = read_taxonomy(folder)
        if (folder / "run.json").exists() and _edits_hash(folder) != _hash_of(taxonomy.edits):
            logger.info("taxonomy.json in %s predates its edits; rebuilding", folder)
        else:
            return taxonomy
    if not (folder / "run.json").exists():
        raise ConfigError(
            f"{folder} is not a run folder (no run.json). Give the output folder of an earlier run.",
            code="taxonomy_missing",
        )
    return taxonomy_from_run(folder)


MAX_MEMBERS = 200_000
"""At most this many of the taxonomy run's texts (a seeded sample) are read for the density test."""


def load_members(path: Path | str, *, seed: int = 0) -> np.ndarray | None:
    """The taxonomy run's own text embeddings as unit float32 rows (a seeded sample of at most
    :data:`MAX_MEMBERS`), or ``None`` when the folder holds no run data (a ``taxonomy.json`` alone).

    :func:`pipeline.taxonomy.stage.assign_clustering` compares where new texts gather with where
    the taxonomy run's texts were, to tell a new topic from the fringe of an old one.
    """
    file = Path(path) / "data" / "embeddings.npy"
    if not file.is_file():
        return None
    try:
        stored = np.load(file, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        logger.warning("could not read the taxonomy run's embeddings in %s", path, exc_info=True)
        return None
    if len(stored) > MAX_MEMBERS:
        pick = np.sort(np.random.default_rng(seed).choice(len(stored), MAX_MEMBERS, replace=False))
        stored = stored[pick]
    vectors = np.asarray(stored, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def save_taxonomy(taxonomy: Taxonomy, folder: Path) -> Path:
    """Write ``taxonomy.json`` and ``taxonomy_centroids.npy`` into ``folder``."""
    from pipeline.files import atomic_write, atomic_write_bytes

    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "schema_version": taxonomy.schema_version,
        "model": taxonomy.model,
        "model_name": taxonomy.model_name,
        "dim": taxonomy.dim,
        "source_run_id": taxonomy.source_run_id,
        "source_input_sha256": taxonomy.source_input_sha256,
        "rows_with_topic": taxonomy.rows_with_topic,
        "outlier_rows": taxonomy.outlier_rows,
        "calibration": taxonomy.calibration,
        "edits": list(taxonomy.edits),
        "topics": [{**asdict(t), "keywords": list(t.keywords)} for t in taxonomy.topics],
        "centroids": CENTROIDS_NPY,
    }
    centroids = np.asarray(taxonomy.centroids, dtype=np.float32)
    atomic_write(folder / CENTROIDS_NPY, functools.partial(np.save, arr=centroids, allow_pickle=False))
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    atomic_write_bytes(folder / TAXONOMY_JSON, text.encode("utf-8"))
    return folder / TAXONOMY_JSON


def read_taxonomy(folder: Path) -> Taxonomy:
    """Read what :func:`save_taxonomy` wrote."""
    try:
        payload = json.loads((folder / TAXONOMY_JSON).read_text(encoding="utf-8"))
        centroids = np.load(folder / CENTROIDS_NPY, allow_pickle=False).astype(np.float32)
        version = int(payload.get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"{folder / TAXONOMY_JSON} was written by a newer feedback-topics (schema "
                f"{version}; this one reads {SCHEMA_VERSION}). Upgrade feedback-topics.",
                code="taxonomy_version",
            )
        topics = tuple(
            TaxonomyTopic(**{**t, "keywords": tuple(t.get("keywords", ()))}) for t in payload["topics"]
        )
        taxonomy = Taxonomy(
            topics=topics,
            centroids=centroids,
            model=str(payload["model"]),
            model_name=str(payload["model_name"]),
            dim=int(payload["dim"]),
            source_run_id=str(payload["source_run_id"]),
            source_input_sha256=str(payload["source_input_sha256"]),
            rows_with_topic=int(payload["rows_with_topic"]),
            outlier_rows=int(payload.get("outlier_rows", 0)),
            calibration=dict(payload.get("calibration", {})),
            edits=tuple(payload.get("edits", ())),
            schema_version=version,
        )
    except ConfigError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"The taxonomy in {folder} is missing files or damaged; give the run folder again.",
            code="taxonomy_damaged",
            detail=repr(exc),
        ) from exc
    if centroids.shape != (len(topics), taxonomy.dim):
        raise ConfigError(
            f"The taxonomy in {folder} is damaged (centroids do not match its topics).",
            code="taxonomy_damaged",
        )
    return taxonomy


def _edits_hash(folder: Path) -> str:
    from pipeline.store import load_edits

    return _hash_of(tuple(load_edits(folder)))


def _hash_of(edits: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(list(edits), sort_keys=True, default=str).encode()).hexdigest()
