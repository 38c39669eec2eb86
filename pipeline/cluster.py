"""Stage 4: group the reduced vectors into topics with K-Means or HDBSCAN.

Topic ids are renumbered by size (0 is the largest topic) so the same data and seed always give
the same ids; ``-1`` marks HDBSCAN outliers.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from pipeline.errors import ConfigError, DataError
from pipeline.types import ClustererName, Clustering

logger = logging.getLogger(__name__)

MIN_TEXTS = 8


def cluster(
    space: np.ndarray,
    *,
    method: ClustererName = "kmeans",
    n_topics: int | None = None,
    min_topic_size: int | None = None,
    assign_outliers: bool = False,
    seed: int = 42,
    vectors: np.ndarray | None = None,
) -> Clustering:
    """Assign each row of ``space`` to a topic.

    Args:
        space: float array of shape (n_texts, n_components), usually UMAP output.
        method: ``"kmeans"`` or ``"hdbscan"``.
        n_topics: K-Means only: the number of topics; ``None`` lets the data decide
            (:func:`pipeline.granularity.choose_topics`: over-cluster, merge what the
            neighbour graph connects, then cut the merge tree where the silhouette says).
        min_topic_size: HDBSCAN only: the smallest topic; ``None`` scales it with the data.
        assign_outliers: HDBSCAN only: move each outlier to its nearest topic centre.
        seed: Random seed.
        vectors: The embeddings ``space`` was reduced from (aligned with it); the automatic
            topic count reads their neighbour graph. ``None``: the graph is built on ``space``.

    Returns:
        A :class:`Clustering` whose ``labels`` align with ``space``.

    Raises:
        DataError: Too few rows, or no clear topics at all.
        ConfigError: Unknown method or a topic count larger than the data allows.
    """
    n = len(space)
    if n < MIN_TEXTS:
        raise DataError(
            f"Need at least {MIN_TEXTS} distinct non-empty texts to find topics (got {n}).",
            code="too_few_texts",
        )
    space = np.asarray(space, dtype=np.float64)
    if method == "kmeans":
        if n_topics is not None and n_topics > n // 2:
            raise ConfigError(
                f"{n_topics} topics is too many for {n} distinct texts; use at most {n // 2} or 'auto'.",
                code="n_topics",
            )
        if n_topics is None:
            from pipeline.granularity import choose_topics

            choice = choose_topics(space, vectors=vectors, seed=seed)
            labels, reason, params = choice.labels, choice.reason, choice.params
        else:
            k, reason, params = n_topics, "given", {"k": n_topics}
            labels = _kmeans(space, k, seed=seed)
    elif method == "hdbscan":
        size = min_topic_size or _default_min_topic_size(n)
        labels = _hdbscan(space, min_cluster_size=size)
        params = {"min_topic_size": size, "assign_outliers": assign_outliers}
        reason = "given" if min_topic_size else f"auto: min_topic_size={size} for {n} texts"
        if (labels < 0).all():
            raise DataError(
                f"No clear topics: all {n} texts were outliers with a minimum topic size of {size}. "
                "Try a smaller minimum topic size, or the kmeans clusterer.",
                code="all_outliers",
            )
        params["outlier_share_before_assignment"] = round(float((labels < 0).mean()), 4)
        if assign_outliers:
            labels = _assign_to_nearest(space, labels)
    else:
        raise ConfigError(f"Unknown clusterer {method!r}; choose kmeans or hdbscan.", code="clusterer")
    labels = _renumber_by_size(labels)
    n_found = len(np.unique(labels[labels >= 0]))
    return Clustering(labels=labels, method=method, n_topics=n_found, params=params, reason=reason)


def _kmeans(space: np.ndarray, k: int, *, seed: int, n_init: int = 4) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from threadpoolctl import threadpool_limits

    if len(space) > 200_000:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=8192)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=n_init)
    # On a few dimensions OpenMP threads cost more than they save (20x slower on a busy 2-core
    # machine, measured), so small inputs run single-threaded.
    with threadpool_limits(limits=1 if len(space) < 100_000 else None):
        return model.fit_predict(space).astype(np.int64)


def _default_min_topic_size(n: int) -> int:
    return int(max(10, min(500, round(n * 0.004))))


def _hdbscan(space: np.ndarray, *, min_cluster_size: int) -> np.ndarray:
    import hdbscan

    model = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=max(1, min(min_cluster_size, 10)),
        cluster_selection_method="eom",
        core_dist_n_jobs=1,
    )
    return model.fit_predict(space).astype(np.int64)


def _assign_to_nearest(space: np.ndarray, labels: np.ndarray) -> np.ndarray:
    topics = np.unique(labels[labels >= 0])
    centres = np.stack([space[labels == t].mean(axis=0) for t in topics])
    out = labels.copy()
    outliers = np.flatnonzero(labels < 0)
    for start in range(0, len(outliers), 50_000):
        chunk = outliers[start : start + 50_000]
        dists = ((space[chunk, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        out[chunk] = topics[dists.argmin(axis=1)]
    return out


def _renumber_by_size(labels: np.ndarray) -> np.ndarray:
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = ids[np.lexsort((ids, -counts))]
    lookup = np.full(int(labels.max(initial=-1)) + 2, -1, dtype=np.int64)
    lookup[order + 1] = np.arange(len(order))
    return lookup[labels + 1]


def merge_duplicate_topics(
    clustering: Clustering, *, vectors: np.ndarray, phrases: Any, languages: Any, terms: Any | None = None
) -> Clustering:
    """Merge topics that say the same thing (near centres, most top-10 keywords shared).

    See :func:`pipeline.granularity.merge_keyword_duplicates`; ids are renumbered by size again and
    the reason says how many were merged.
    """
    from pipeline.granularity import KEYWORD_OVERLAP, merge_keyword_duplicates
    from pipeline.keywords import bigram_mask

    merge = merge_keyword_duplicates(
        clustering.labels, vectors=vectors, phrases=phrases, bigrams=bigram_mask(languages), terms=terms
    )
    if not merge.merged:
        return clustering
    labels = _renumber_by_size(merge.labels)
    n_found = len(np.unique(labels[labels >= 0]))
    params = {
        **clustering.params,
        "k": n_found,
        "keyword_merges": [list(m) for m in merge.merged],
        "keyword_overlap": KEYWORD_OVERLAP,
    }
    reason = (
        f"{clustering.reason}; {len(merge.merged)} of them said the same thing as a neighbour (at least "
        f"{KEYWORD_OVERLAP:.0%} of their top-10 keywords shared) and were merged, leaving {n_found} topics"
    )
    return Clustering(labels=labels, method=clustering.method, n_topics=n_found, params=params, reason=reason)
