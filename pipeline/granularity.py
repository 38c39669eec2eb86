"""How many topics: let the data decide, the same way at 1k and at 1M rows.

A fixed silhouette grid picked the grid's edge on flat curves (waimai_10k: k = 60 of 60) and swung
between seeds (a 16-intent set: 6 / 10 / 8 topics). :func:`choose_topics` instead works in three
measured steps (``python bench/quality.py``; the figures are in ``bench/results/quality.json``):

1. **Over-cluster.** K-Means in the reduced space into many small groups (about 15 texts each,
   at most :data:`OVER_MAX`), so no real topic is lost.
2. **Merge what the neighbour graph joins.** In the 15-nearest-neighbour graph of the *embeddings*
   (not of the UMAP space, which breaks continuous themes into islands), two groups whose shared
   edges are at least :data:`MERGE_THRESHOLD` of their volumes (``edges / sqrt(vol_a * vol_b)``)
   say the same thing and are merged, closest pair first; groups too small to stand alone join
   their best-connected neighbour. This removes the near-duplicate topics a plain K-Means makes.
3. **Cut the merge tree.** The merged groups are joined bottom-up by Ward's criterion in the
   reduced space; the kept level is the finest one whose silhouette is within
   :data:`SILHOUETTE_TOLERANCE` (a share) of the best level's. Differences smaller than that were
   within the spread between seeds, so finer levels that score as well are kept rather than thrown
   away; on data without clear structure (low, flat silhouettes) the tolerance shrinks with the
   score, so a structureless blob is not cut into its finest pieces.

4. **Merge what says the same thing** (:func:`merge_keyword_duplicates`, after keywords exist):
   neighbouring topics that share most of their top keywords are one topic said twice.

The same Ward tree (:func:`ward_tree`) gives the themes above the topics (:mod:`pipeline.themes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)

OVER_MAX = 400
"""At most this many groups in the over-clustering."""
OVER_ROWS_PER_GROUP = 15
"""Over-clustering aims at groups of about this many (sampled) texts."""
GRAPH_ROWS = 10_000
"""The over-clustering and the neighbour graph use at most this many (seeded, sampled) rows; every
other row joins its nearest over-cluster centre."""
GRAPH_NEIGHBOURS = 15
MERGE_THRESHOLD = 0.1
"""Groups whose shared neighbour edges reach this share of their volumes are merged.

Measured (USE-m, 3,000-5,000-row samples, three seeds): 0.05 under-splits intents (clinc150: 80
topics for 150 intents), 0.15 and above leaves near-duplicates (banking77: 146 for 77).
"""
SILHOUETTE_ROWS = 2_500
SILHOUETTE_TOLERANCE = 0.05
"""The finest cut whose silhouette is at least ``(1 - this) x`` the best cut's is kept (module doc)."""
CRISP = (0.4, 0.6)
"""Silhouettes at which the tolerance starts and reaches :data:`SILHOUETTE_TOLERANCE`.

Kaufman and Rousseeuw read a silhouette under 0.5 as weak structure: there the curve's bumps are
noise, so the best level is kept rather than the finest near it (waimai_10k, best 0.375: 146 topics
with the full tolerance, ~85 with none); from 0.6 on the full tolerance applies (clinc150 0.72,
banking77 0.59: finer levels there match the labels better).
"""


def tolerance(best: float) -> float:
    """The share of the best silhouette within which the finest level is kept (see :data:`CRISP`)."""
    low, high = CRISP
    return SILHOUETTE_TOLERANCE * float(np.clip((best - low) / (high - low), 0.0, 1.0))


MIN_TOPICS = 4
"""Coarser cuts are not considered: the tree's top split (two blobs) can win on silhouette alone."""
LEVELS = 40
"""Cuts of the tree scored by silhouette (geometrically spaced between the coarsest and finest)."""


@dataclass(frozen=True)
class TopicChoice:
    """The chosen topics, with why."""

    labels: np.ndarray
    """Topic per row of the input space (0..k-1, not yet ordered by size)."""
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


def choose_topics(space: np.ndarray, *, vectors: np.ndarray | None = None, seed: int = 42) -> TopicChoice:
    """Choose the topics of ``space`` with a count that follows the data (see module doc).

    Args:
        space: ``(n, d)`` reduced coordinates (UMAP output).
        vectors: The embeddings ``space`` came from, aligned with it (their neighbour graph
            decides the merges); ``None`` uses ``space`` itself.
        seed: Random seed for the samples and K-Means.

    Returns:
        A :class:`TopicChoice` whose ``reason`` states what was done and which numbers decided.
    """
    space = np.asarray(space, dtype=np.float64)
    n = len(space)
    rng = np.random.default_rng(seed)
    graph_rows = np.sort(rng.choice(n, GRAPH_ROWS, replace=False)) if n > GRAPH_ROWS else np.arange(n)
    k_over = int(min(OVER_MAX, max(min(20, n // 2), len(graph_rows) // OVER_ROWS_PER_GROUP)))
    k_over = max(2, min(k_over, n))
    over = _over_cluster(space, k_over, fit_rows=graph_rows, seed=seed)

    source = space if vectors is None else np.asarray(vectors, dtype=np.float32)
    graph = knn_graph(source[graph_rows], k=GRAPH_NEIGHBOURS)
    min_size = 5 if len(graph_rows) >= 250 else 2
    connected = merge_connected(over, graph_rows, graph, threshold=MERGE_THRESHOLD, min_size=min_size)
    k_connected = int(connected.max()) + 1

    params: dict[str, Any] = {
        "method": "over-cluster, merge connected, cut the Ward tree by silhouette",
        "k_over": k_over,
        "k_connected": k_connected,
        "merge_threshold": MERGE_THRESHOLD,
        "graph_rows": len(graph_rows),
    }
    lowest = MIN_TOPICS
    if k_connected <= lowest:
        params["k"] = k_connected
        reason = (
            f"auto: {k_over} small groups merged into {k_connected} that the neighbour graph keeps apart "
            f"(groups sharing at least {MERGE_THRESHOLD:.0%} of their neighbour links were merged)"
        )
        return TopicChoice(labels=connected, reason=reason, params=params)

    levels = sorted(
        {round(float(k)) for k in np.geomspace(lowest, k_connected, LEVELS)} | {lowest, k_connected}
    )
    cuts = ward_tree(space, connected, levels=levels)
    sample = rng.choice(n, SILHOUETTE_ROWS, replace=False) if n > SILHOUETTE_ROWS else np.arange(n)
    scores = _silhouettes(space[sample], {k: cut[connected[sample]] for k, cut in cuts.items()})
    if not scores:
        params["k"] = k_connected
        return TopicChoice(labels=connected, reason="auto: the merged groups (no silhouette)", params=params)
    best_k = max(scores, key=lambda k: (scores[k], -k))
    floor = scores[best_k] - tolerance(scores[best_k]) * abs(scores[best_k])
    chosen = max(k for k, score in scores.items() if score >= floor)
    params["k"] = chosen
    params["k_silhouette"] = {str(k): round(v, 4) for k, v in sorted(scores.items())}
    params["silhouette_tolerance"] = round(tolerance(scores[best_k]), 4)
    if chosen == best_k:
        verdict = f"which had the best silhouette ({scores[chosen]:.3f})"
    else:
        verdict = (
            f"the finest level whose silhouette ({scores[chosen]:.3f}) is within "
            f"{tolerance(scores[best_k]):.1%} of the best ({scores[best_k]:.3f} at {best_k} topics)"
        )
    reason = (
        f"auto: {k_over} small groups, merged into {k_connected} that the neighbour graph keeps apart, "
        f"then cut to {chosen} topics, {verdict}"
    )
    labels = cuts[chosen][connected]
    return TopicChoice(labels=labels, reason=reason, params=params)


# ------------------------------------------------------------------------------------ building blocks
def knn_graph(vectors: np.ndarray, *, k: int = GRAPH_NEIGHBOURS) -> sparse.csr_matrix:
    """Symmetric, unweighted k-nearest-neighbour graph by cosine similarity (self-loops excluded)."""
    n = len(vectors)
    k = int(min(k, n - 1))
    if k < 1:
        return sparse.csr_matrix((n, n))
    from pipeline.reduce import _exact_search

    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    # The reduce stage's exact search (bf16 candidates re-ranked where that is faster); one extra
    # neighbour is asked for so that each row's own entry can be dropped, wherever it ranks.
    found, _ = _exact_search(unit, device="cpu")(unit, k + 1)
    own_last = np.argsort(found == np.arange(n)[:, None], axis=1, kind="stable")
    neighbours = np.take_along_axis(found, own_last, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    graph = sparse.csr_matrix((np.ones(n * k), (rows, neighbours.reshape(-1))), shape=(n, n))
    return ((graph + graph.T) > 0).astype(np.float64).tocsr()


def merge_connected(
    groups: np.ndarray,
    graph_rows: np.ndarray,
    graph: sparse.csr_matrix,
    *,
    threshold: float,
    min_size: int,
) -> np.ndarray:
    """Merge groups that the neighbour graph joins (see module doc, step 2).

    Args:
        groups: Group per row (0..m-1), all rows.
        graph_rows: The rows the graph is built on.
        graph: Their neighbour graph (aligned with ``graph_rows``).
        threshold: Merge while the best pair's ``edges / sqrt(vol_a * vol_b)`` reaches this.
        min_size: Groups with fewer graph rows than this join their best-connected neighbour.

    Returns:
        The merged group per row, renumbered 0..k-1 in order of first group id.
    """
    groups = np.asarray(groups, dtype=np.int64)
    m = int(groups.max()) + 1
    sampled = groups[graph_rows]
    member = sparse.csr_matrix(
        (np.ones(len(sampled)), (sampled, np.arange(len(sampled)))), shape=(m, len(sampled))
    )
    links = np.asarray((member @ graph @ member.T).todense(), dtype=np.float64)
    volume = links.sum(axis=1)
    np.fill_diagonal(links, 0.0)
    size = np.bincount(sampled, minlength=m).astype(np.float64)
    alive = size > 0
    parent = np.arange(m)
    # Groups with no sampled row (possible above GRAPH_ROWS) join the nearest group by size-weighted
    # links later through the tree; here they simply stay as they are.
    while alive.sum() > 1:
        idx = np.flatnonzero(alive)
        sub = links[np.ix_(idx, idx)]
        small = size[idx] < min_size
        if small.any():
            i = int(np.flatnonzero(small)[np.argmin(size[idx][small])])
            if sub[i].max() <= 0:
                alive[idx[i]] = False  # isolated and tiny: left alone
                continue
            j = int(np.argmax(sub[i]))
        else:
            scale = np.sqrt(np.outer(volume[idx], volume[idx]))
            score = np.divide(sub, scale, out=np.zeros_like(sub), where=scale > 0)
            np.fill_diagonal(score, -1.0)
            flat = int(np.argmax(score))
            i, j = divmod(flat, len(idx))
            if score[i, j] < threshold:
                break
        a, b = int(idx[i]), int(idx[j])
        links[a] += links[b]
        links[:, a] += links[:, b]
        links[a, a] = 0.0
        links[b] = 0.0
        links[:, b] = 0.0
        volume[a] += volume[b]
        size[a] += size[b]
        alive[b] = False
        parent[parent == b] = a
    merged = parent[groups]
    return np.unique(merged, return_inverse=True)[1].astype(np.int64)


def ward_tree(space: np.ndarray, groups: np.ndarray, *, levels: list[int]) -> dict[int, np.ndarray]:
    """Join groups bottom-up by Ward's criterion on their centres in ``space``.

    Args:
        space: ``(n, d)`` coordinates.
        groups: Group per row (0..m-1).
        levels: The group counts at which to cut the tree.

    Returns:
        ``{k: mapping}`` for each level ``k <= m``: ``mapping[g]`` is the cluster (0..k-1) of group
        ``g``, so ``mapping[groups]`` labels the rows. Cuts are nested: a coarser level only joins
        clusters of a finer one.
    """
    groups = np.asarray(groups, dtype=np.int64)
    m = int(groups.max()) + 1
    sizes = np.bincount(groups, minlength=m).astype(np.float64)
    centres = np.zeros((m, space.shape[1]), dtype=np.float64)
    np.add.at(centres, groups, space)
    centres /= np.maximum(sizes, 1.0)[:, None]
    wanted = {int(k) for k in levels if 1 <= k <= m}
    cuts: dict[int, np.ndarray] = {}
    parent = np.arange(m)
    if m in wanted:
        cuts[m] = np.arange(m)
    # Ward distances with Lance-Williams updates: O(m^2) per merge.
    sq = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    dist = (sizes[:, None] * sizes[None, :] / np.maximum(sizes[:, None] + sizes[None, :], 1e-12)) * sq
    np.fill_diagonal(dist, np.inf)
    alive = np.ones(m, dtype=bool)
    count = m
    while count > 1 and wanted and count > min(wanted):
        flat = int(np.argmin(dist))
        a, b = divmod(flat, m)
        if a > b:
            a, b = b, a
        na, nb = sizes[a], sizes[b]
        nk = sizes
        updated = ((na + nk) * dist[a] + (nb + nk) * dist[b] - nk * dist[a, b]) / (na + nb + nk)
        dist[a] = updated
        dist[:, a] = updated
        dist[a, a] = np.inf
        dist[b] = np.inf
        dist[:, b] = np.inf
        dist[~alive] = np.inf
        dist[:, ~alive] = np.inf
        sizes[a] = na + nb
        alive[b] = False
        parent[parent == b] = a
        count -= 1
        if count in wanted:
            cuts[count] = np.unique(parent, return_inverse=True)[1].astype(np.int64)
    return cuts


def _over_cluster(space: np.ndarray, k: int, *, fit_rows: np.ndarray, seed: int) -> np.ndarray:
    """K-Means fitted on ``fit_rows``; every row takes its nearest centre (ids 0..k'-1)."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        model = KMeans(n_clusters=k, random_state=seed, n_init=1).fit(space[fit_rows])
    with threadpool_limits(limits=None if len(space) >= 200_000 else 1):
        labels = model.predict(space) if len(fit_rows) < len(space) else model.labels_
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def _silhouettes(sample: np.ndarray, labelings: dict[int, np.ndarray]) -> dict[int, float]:
    """Silhouette of each labelling of the same sample (distances computed once)."""
    from sklearn.metrics import silhouette_score
    from sklearn.metrics.pairwise import euclidean_distances

    distances = euclidean_distances(sample)
    out: dict[int, float] = {}
    for k, labels in labelings.items():
        if 2 <= len(np.unique(labels)) < len(sample):
            out[k] = float(silhouette_score(distances, labels, metric="precomputed"))
    return out


KEYWORD_OVERLAP = 0.3
"""Two topics among each other's :data:`NEAREST_CENTRES` nearest (by centre) whose top-10 keywords
share at least this share are one topic said twice, and are merged. Measured (USE-m, seed 42):
waimai_10k 146 -> 121 topics, keyword diversity 0.745 -> 0.806; banking77 79 -> 67 topics, AMI
0.672 -> 0.675; clinc150 132 -> 125, AMI 0.848 -> 0.841; online_shopping 11 -> 10, AMI 0.580 ->
0.594. At 0.5 almost nothing merged (waimai diversity 0.752); 0.4 sat between."""
NEAREST_CENTRES = 3


@dataclass(frozen=True)
class KeywordMerge:
    """Topics merged because they say the same thing, and the pairs that decided it."""

    labels: np.ndarray
    merged: tuple[tuple[int, int, float], ...]
    """(kept topic, merged topic, keyword overlap) per merge, in order, in the input's ids."""


def merge_keyword_duplicates(
    labels: np.ndarray,
    *,
    vectors: np.ndarray,
    phrases: Any,
    bigrams: np.ndarray | None = None,
    overlap: float = KEYWORD_OVERLAP,
    terms: Any | None = None,
) -> KeywordMerge:
    """Merge topics that are near in the embedding space and share most of their keywords.

    Args:
        labels: Topic per text (``-1`` outliers are left alone).
        vectors: The embeddings (aligned with ``labels``).
        phrases: ``tokenize_many`` of the texts.
        bigrams: Per text, whether adjacent words may form bigrams (as in keyword extraction).
        overlap: Share of the top-10 keywords two topics must share.
        terms: A :class:`~pipeline.keywords.TermMatrix` of ``phrases`` when the caller has one.

    Returns:
        The merged labels (ids of kept topics unchanged) and the merges made.
    """
    from pipeline.keywords import TermMatrix

    labels = np.asarray(labels, dtype=np.int64).copy()
    if terms is None:
        terms = TermMatrix(phrases, bigrams=bigrams)
    merges: list[tuple[int, int, float]] = []
    vectors = np.asarray(vectors, dtype=np.float32)
    for _ in range(len(np.unique(labels))):
        topics = [int(t) for t in np.unique(labels) if t >= 0]
        if len(topics) < 3:
            break
        keywords = terms.keywords(labels, top_n=10)
        words = {t: {w for w, _ in keywords.get(t, [])} for t in topics}
        centres = np.stack([vectors[labels == t].mean(axis=0) for t in topics])
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        sims = centres @ centres.T
        np.fill_diagonal(sims, -np.inf)
        nearest = np.argsort(-sims, axis=1)[:, :NEAREST_CENTRES]
        candidates: list[tuple[float, float, int, int]] = []
        for i, a in enumerate(topics):
            for j in nearest[i]:
                b = topics[int(j)]
                if not words[a] or not words[b]:
                    continue
                shared = len(words[a] & words[b]) / min(len(words[a]), len(words[b]))
                if shared >= overlap:
                    candidates.append((shared, float(sims[i, j]), min(a, b), max(a, b)))
        if not candidates:
            break
        # Each round merges disjoint pairs, best first; keywords are re-ranked between rounds.
        taken: set[int] = set()
        for shared, _, keep, gone in sorted(set(candidates), reverse=True):
            if keep in taken or gone in taken:
                continue
            taken.update((keep, gone))
            labels[labels == gone] = keep
            merges.append((keep, gone, round(shared, 3)))
    return KeywordMerge(labels=labels, merged=tuple(merges))
