"""What ``run --taxonomy RUN_DIR`` changes in a run (called from :func:`pipeline.run.run`).

1. :func:`prepare_taxonomy`: load the taxonomy and make the run embed with its model.
2. :func:`check_embeddings`: the model that ran and its dimension must be the taxonomy's.
3. :func:`assign_clustering`: rows close enough to a taxonomy topic keep it; dense groups of
   rows far from every taxonomy topic become new topics (ids above the taxonomy's); rows that
   fit nothing are outliers.
4. :func:`finish_taxonomy`: the taxonomy's names and themes, every taxonomy topic listed (0 rows
   when none arrived), and what ``run.json`` records under ``taxonomy``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.config import RunConfig
from pipeline.errors import ConfigError
from pipeline.taxonomy.model import Taxonomy
from pipeline.types import EXCLUDED, OUTLIER, Clustering, Documents, Theme, Topic

logger = logging.getLogger(__name__)

MIN_LEFTOVER = 16
"""Fewer candidates for new topics than this are not clustered."""
MIN_NEW_TOPIC_ROWS = 5
"""A new topic needs at least this many distinct texts."""
GROUP_FIT_ROWS = 10_000
"""The candidates' K-Means is fitted on at most this many of them (a seeded sample; a bound on
time, as ``RunConfig.umap_fit_rows``); the others join their nearest group centre."""
CHUNK = 16_384
NEW_THEME_NAME = "New topics"
ORIGIN_TAXONOMY = "taxonomy"
ORIGIN_NEW = "new"


def prepare_taxonomy(config: RunConfig, *, given_model: str | None = None) -> tuple[Taxonomy, RunConfig]:
    """Load ``config.taxonomy`` and return it with a config that embeds with the taxonomy's model."""
    from pipeline.taxonomy.io import load_taxonomy

    taxonomy = load_taxonomy(str(config.taxonomy))
    if given_model is None and config.model not in ("auto", taxonomy.model_name):
        raise ConfigError(
            f"The taxonomy of run {taxonomy.source_run_id} was built with the model "
            f"{taxonomy.model_name!r}; new feedback must be embedded with the same model "
            f"(got {config.model!r}). Leave the model on auto or choose {taxonomy.model_name!r}.",
            code="taxonomy_model",
        )
    if config.model == "auto":
        config = dataclasses.replace(config, model=taxonomy.model_name)
    return taxonomy, config


def check_embeddings(taxonomy: Taxonomy, *, model_id: str, dim: int) -> None:
    """Raise a :class:`ConfigError` when the vectors are not in the taxonomy's embedding space."""
    if model_id != taxonomy.model or dim != taxonomy.dim:
        raise ConfigError(
            f"The taxonomy of run {taxonomy.source_run_id} lives in the space of {taxonomy.model} "
            f"({taxonomy.dim} dimensions), but this run embedded with {model_id} ({dim} dimensions). "
            f"Use the model {taxonomy.model_name!r} for this run.",
            code="taxonomy_model",
        )


def assign_clustering(
    taxonomy: Taxonomy,
    vectors: np.ndarray,
    space: np.ndarray | None = None,
    *,
    config: RunConfig,
    structure: np.ndarray | None = None,
    members: np.ndarray | None = None,
) -> Clustering:
    """Topic per unique text: a taxonomy topic, a new topic (id above the taxonomy's) or ``-1``.

    1. Each text goes to its nearest taxonomy topic when its cosine reaches that topic's
       threshold, else it fits no topic (``-1``).
    2. Texts below the (higher) novelty threshold are candidates for new topics. They are cut
       by K-Means in the embedding space into groups of the taxonomy's typical topic size
       (median taxonomy topic size, scaled to this file); groups under a third of that size (or
       :data:`MIN_NEW_TOPIC_ROWS`) are dropped.
    3. A group becomes a new topic when the new texts are denser around it than the taxonomy
       run's texts were (``members``, its embeddings; read from ``config.taxonomy`` when not
       given): in the ball around the group's centre holding half of the group, the number of
       new texts against the taxonomy run's texts is tested (one-sided binomial test, null: the
       share of new texts among all texts) and the groups' p-values are held to a false
       discovery rate of :data:`pipeline.compare.ALPHA` (Benjamini-Hochberg). A group in a
       region the taxonomy run already covered is the fringe of an old topic, not a new one.
       Without the taxonomy run's embeddings (a ``taxonomy.json`` alone) a group needs a median
       leave-one-out cosine of at least the taxonomy's novelty floor instead.
    4. Every text then goes to its nearest centre among the taxonomy's and the new topics' (two
       rounds, the new centres recomputed from their members): texts nearest a new topic join it,
       the others keep the result of step 1.

    ``space`` and ``structure`` are accepted for symmetry with :func:`pipeline.cluster.cluster`.
    """
    from pipeline.taxonomy.assign import _normalise, assign_vectors

    del space, structure
    vectors = _normalise(np.asarray(vectors, dtype=np.float32))
    labels, best, _ = assign_vectors(vectors, taxonomy.centroids, taxonomy.thresholds, taxonomy.topic_ids)
    candidates, _, _ = assign_vectors(vectors, taxonomy.centroids, taxonomy.novelty, taxonomy.topic_ids)
    left = np.flatnonzero(candidates < 0)
    first_new = taxonomy.max_topic_id + 1
    if members is None and config.taxonomy:
        from pipeline.taxonomy.io import load_members

        members = load_members(config.taxonomy, seed=config.seed)
    sizes = np.array([t.size for t in taxonomy.topics], dtype=np.float64)
    expected = float(np.median(sizes)) * len(vectors) / max(taxonomy.rows_with_topic, 1)
    min_rows = max(MIN_NEW_TOPIC_ROWS, int(np.ceil(expected / 3)))
    info: dict[str, Any] = {
        "fits_no_topic": int((labels < 0).sum()),
        "new_topic_candidates": len(left),
        "new_topic_ids_from": first_new,
    }
    new_count = joined = 0
    k = round(len(left) / max(expected, 1.0))
    if len(left) >= max(MIN_LEFTOVER, min_rows) and k >= 1:
        k = min(k, len(left) // 2)
        sub = _group(vectors[left], k, seed=config.seed)
        groups = [left[sub == g] for g in np.unique(sub)]
        groups = [g for g in groups if len(g) >= min_rows]
        if members is not None and len(members):
            kept, rule = _denser_than_taxonomy(vectors, groups, members)
        else:
            kept, rule = _cohesive(vectors, groups, taxonomy)
        kept.sort(key=lambda g: (-len(g), int(g[0])))
        before = labels.copy()
        for offset, group in enumerate(kept):
            labels[group] = first_new + offset
        new_count = len(kept)
        if new_count:
            joined = _join_nearest(vectors, labels, before, taxonomy, first_new, new_count)
        info["candidates_clustering"] = {
            "method": f"kmeans in the embedding space (fitted on at most {GROUP_FIT_ROWS:,} candidates)",
            "groups": k,
            "groups_tested": len(groups),
            "expected_topic_rows": round(expected, 1),
            "kept_as_new_topics": new_count,
            "rule": f"a new topic needs {min_rows}+ texts and {rule}",
            "joined_new_topics_after": joined,
        }
    else:
        info["candidates_clustering"] = f"not clustered: {len(left)} candidates, too few for a new topic"
    assigned = int(np.isin(labels, taxonomy.topic_ids).sum())
    reason = (
        f"taxonomy of run {taxonomy.source_run_id}: {assigned} of {len(labels)} texts joined one of its "
        f"{len(taxonomy.topics)} topics; {new_count} new topics found among {len(left)} candidates; "
        f"{int((labels < 0).sum())} fit no topic"
    )
    params = {
        "taxonomy": taxonomy.source_run_id,
        "assigned_texts": assigned,
        "assigned_similarity_median": round(float(np.median(best[labels >= 0])), 4) if assigned else None,
        **info,
    }
    n_found = len(np.unique(labels[labels >= 0]))
    return Clustering(labels=labels, method=config.clusterer, n_topics=n_found, params=params, reason=reason)


def _group(candidates: np.ndarray, k: int, *, seed: int) -> np.ndarray:
    """K-Means groups of the candidates (unit vectors), fitted on a seeded sample of at most
    :data:`GROUP_FIT_ROWS`; every candidate then goes to its nearest group centre."""
    if k < 2:
        return np.zeros(len(candidates), dtype=np.int64)
    from sklearn.cluster import KMeans

    fit = candidates
    if len(candidates) > GROUP_FIT_ROWS:
        pick = np.random.default_rng(seed).choice(len(candidates), GROUP_FIT_ROWS, replace=False)
        fit = candidates[np.sort(pick)]
    # float64: sklearn's float32 distances are upcast chunk by chunk, 100x slower in k-means++
    model = KMeans(n_clusters=min(k, len(fit) // 2), random_state=seed, n_init=4).fit(fit.astype(np.float64))
    centres = model.cluster_centers_.astype(np.float32)
    squared = (centres**2).sum(axis=1)
    out = np.empty(len(candidates), dtype=np.int64)
    for start in range(0, len(candidates), CHUNK):  # nearest centre: argmin |c|^2 - 2 x.c
        part = candidates[start : start + CHUNK]
        out[start : start + len(part)] = (squared - 2 * (part @ centres.T)).argmin(axis=1)
    return out


def _denser_than_taxonomy(
    vectors: np.ndarray, groups: list[np.ndarray], members: np.ndarray
) -> tuple[list[np.ndarray], str]:
    """The groups around which new texts are significantly denser than the taxonomy run's texts."""
    from scipy.stats import binom

    from pipeline.compare import ALPHA

    null = len(vectors) / (len(vectors) + len(members))
    if not groups:
        return [], "no group large enough"
    centres = np.stack([vectors[g].sum(axis=0) for g in groups]).astype(np.float32)
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    radii = np.array([np.median(vectors[g] @ c) for g, c in zip(groups, centres, strict=True)])
    n_new = np.zeros(len(groups), dtype=np.int64)
    n_old = np.zeros(len(groups), dtype=np.int64)
    for array, counts in ((vectors, n_new), (members, n_old)):
        for start in range(0, len(array), CHUNK):
            counts += (array[start : start + CHUNK] @ centres.T >= radii).sum(axis=0)
    p_values = [float(binom.sf(a - 1, a + b, null)) for a, b in zip(n_new, n_old, strict=True)]
    kept = [groups[i] for i in _benjamini_hochberg(p_values, ALPHA)]
    rule = (
        "new texts denser around it than the taxonomy run's texts (binomial test in the ball holding "
        f"half the group; false discovery rate {ALPHA:g}, Benjamini-Hochberg; "
        f"{len(members):,} taxonomy texts)"
    )
    return kept, rule


def _benjamini_hochberg(p_values: Sequence[float], alpha: float) -> list[int]:
    """Indices of the p-values rejected at false discovery rate ``alpha``."""
    if not p_values:
        return []
    order = np.argsort(p_values, kind="stable")
    ranked = np.asarray(p_values)[order]
    passing = np.flatnonzero(ranked <= alpha * np.arange(1, len(ranked) + 1) / len(ranked))
    return sorted(order[: passing.max() + 1].tolist()) if len(passing) else []


def _cohesive(
    vectors: np.ndarray, groups: list[np.ndarray], taxonomy: Taxonomy
) -> tuple[list[np.ndarray], str]:
    """Without the taxonomy run's texts: groups as tight as the taxonomy's topics."""
    from pipeline.taxonomy.assign import _leave_one_out

    floor = float(taxonomy.calibration.get("novelty_floor", taxonomy.calibration.get("floor", 0.0)))
    kept = [
        g
        for g in groups
        if float(np.median(_leave_one_out(vectors[g], vectors[g].sum(axis=0, dtype=np.float64)))) >= floor
    ]
    return kept, f"a median leave-one-out cosine of at least the taxonomy's novelty floor ({floor:.3f})"


def _join_nearest(
    vectors: np.ndarray,
    labels: np.ndarray,
    before: np.ndarray,
    taxonomy: Taxonomy,
    first_new: int,
    count: int,
) -> int:
    """Nearest centre over the taxonomy's and the new topics' (two rounds, the new centres
    recomputed from their members): texts nearest a new topic join it, texts of a new topic
    nearest an old one go back to ``before`` (step 1). Returns how many texts joined from outside."""
    from pipeline.taxonomy.assign import assign_vectors

    ids = np.arange(first_new, first_new + count, dtype=np.int64)
    grouped = labels >= first_new
    every_ids = np.concatenate([taxonomy.topic_ids, ids])
    for _ in range(2):
        centres = np.zeros((count, vectors.shape[1]), dtype=np.float32)
        for k, topic in enumerate(ids):
            centres[k] = vectors[labels == topic].sum(axis=0)
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        every = np.vstack([taxonomy.centroids, centres]).astype(np.float32)
        _, _, nearest = assign_vectors(vectors, every, np.full(len(every), -np.inf, np.float32), every_ids)
        to_new = nearest >= first_new
        back = (labels >= first_new) & ~to_new
        labels[to_new] = nearest[to_new]
        labels[back] = before[back]
    return int(((labels >= first_new) & ~grouped).sum())


def finish_taxonomy(
    taxonomy: Taxonomy,
    documents: Documents,
    labels: np.ndarray,
    topics: Sequence[Topic],
    *,
    languages: Sequence[str],
    phrases: Sequence[Sequence[Sequence[str]]] | None = None,
) -> tuple[tuple[Topic, ...], tuple[Theme, ...], dict[str, Any]]:
    """Topics named as in the taxonomy (0-row ones included), its themes, and the manifest entry."""
    from pipeline.themes import build_themes

    names = taxonomy.names()
    present = {t.id for t in topics}
    out = [dataclasses.replace(t, name=names[t.id]) if t.id in names else t for t in topics]
    for tt in taxonomy.topics:
        if tt.id not in present:
            out.append(
                Topic(id=tt.id, name=tt.name, size=0, share=0.0, keywords=(), examples=(), languages={})
            )
    out.sort(key=lambda t: t.id)
    theme_of = taxonomy.theme_of()
    theme_names = dict(taxonomy.theme_names())
    new_theme = max(theme_of.values(), default=-1) + 1
    new_ids = sorted(t.id for t in out if t.id > taxonomy.max_topic_id)
    for topic_id in new_ids:
        theme_of[topic_id] = new_theme
    if new_ids:
        theme_names[new_theme] = NEW_THEME_NAME
    if any(t.id == OUTLIER for t in out):
        theme_of[OUTLIER] = OUTLIER
    themes = build_themes(
        documents, labels, theme_of, topics=out, languages=languages, names=theme_names, phrases=phrases
    )
    row_topic = documents.spread(np.asarray(labels, dtype=np.int64), EXCLUDED)
    summary = taxonomy.summary()
    summary.update(
        {
            "origin": {str(t.id): ORIGIN_TAXONOMY if t.id in names else ORIGIN_NEW for t in out if t.id >= 0},
            "topics_kept": len(taxonomy.topics),
            "topics_without_rows": sorted(tt.id for tt in taxonomy.topics if tt.id not in present),
            "new_topics": new_ids,
            "rows_in_taxonomy_topics": int(np.isin(row_topic, taxonomy.topic_ids).sum()),
            "rows_in_new_topics": int((row_topic > taxonomy.max_topic_id).sum()),
            "rows_before": taxonomy.rows_with_topic,
            "outlier_rows_before": taxonomy.outlier_rows,
            "size_before": {str(tt.id): tt.size for tt in taxonomy.topics},
            "share_before": {str(tt.id): round(tt.share, 6) for tt in taxonomy.topics},
        }
    )
    return tuple(out), themes, summary
