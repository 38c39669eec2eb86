"""Nearest-centre assignment to a taxonomy, with thresholds calibrated on the taxonomy run itself.

A new text joins the topic whose centre (the normalised mean of its members' embeddings) is most
similar (cosine), when that similarity reaches the topic's threshold; otherwise it fits no topic
(``-1``). The thresholds are not constants: for every member of the taxonomy run we compute its
*leave-one-out* cosine (to the centre of its topic's other members, so a member is judged like an
unseen text), and

* a topic's threshold is the :attr:`TaxonomyAssigner.percentile`-th percentile of its own
  members' leave-one-out cosines (so about 95 % of texts like its members are accepted), and
* a floor, the same percentile of every member's leave-one-out cosine pooled over all topics,
  stops a loose catch-all topic from taking everything; topics with fewer than
  :attr:`TaxonomyAssigner.min_members` members use the floor alone.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

CHUNK = 16_384


class TaxonomyAssigner:
    """Learn topic centres and thresholds from a run; assign new vectors to them.

    Args:
        percentile: Percentile of the members' leave-one-out cosines used as threshold.
        min_members: Topics with fewer members use the global floor.

    Attributes (after :meth:`fit`):
        topic_ids_: Topic ids, aligned with ``centroids_``.
        centroids_: ``(n_topics, dim)`` normalised centres.
        threshold_: ``(n_topics,)`` per-topic cosine thresholds.
        floor_: The global floor.
        calibration_: How the thresholds were derived, with the figures (for ``run.json``).
    """

    def __init__(
        self, *, percentile: float = 5.0, novelty_percentile: float = 20.0, min_members: int = 10
    ) -> None:
        self.percentile = float(percentile)
        self.novelty_percentile = float(novelty_percentile)
        self.min_members = int(min_members)

    def fit(self, run_result: Any) -> TaxonomyAssigner:
        """Fit on a :class:`~pipeline.types.RunResult` (apply the analyst's edits first)."""
        labels = np.asarray(run_result.clustering.labels, dtype=np.int64)
        return self.fit_vectors(np.asarray(run_result.embeddings.vectors, dtype=np.float32), labels)

    def fit_vectors(self, vectors: np.ndarray, labels: np.ndarray) -> TaxonomyAssigner:
        """Fit on embeddings and their topic labels (``-1`` outliers are ignored)."""
        vectors = _normalise(np.asarray(vectors, dtype=np.float32))
        labels = np.asarray(labels, dtype=np.int64)
        ids = np.array(sorted(int(t) for t in np.unique(labels) if t >= 0), dtype=np.int64)
        if len(ids) == 0:
            from pipeline.errors import DataError

            raise DataError("The taxonomy run has no topics to assign texts to.", code="taxonomy_empty")
        centroids = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
        loo: list[np.ndarray] = []
        for i, topic in enumerate(ids):
            members = vectors[labels == topic]
            total = members.sum(axis=0, dtype=np.float64)
            centroids[i] = total / (np.linalg.norm(total) or 1.0)
            loo.append(_leave_one_out(members, total))
        pooled = np.concatenate(loo) if loo else np.zeros(0)
        thresholds, floor = self._calibrate(loo, pooled, self.percentile)
        novelty, novelty_floor = self._calibrate(loo, pooled, self.novelty_percentile)
        self.topic_ids_ = ids
        self.centroids_ = centroids
        self.threshold_ = thresholds
        self.floor_ = floor
        self.novelty_ = np.maximum(novelty, thresholds)
        self.novelty_floor_ = max(novelty_floor, floor)
        self.calibration_ = {
            "method": (
                f"per topic: the {self.percentile:g}th percentile of its members' leave-one-out "
                "cosine to the topic centre; floor: the same percentile over all members; "
                f"topics under {self.min_members} members use the floor"
            ),
            "percentile": self.percentile,
            "min_members": self.min_members,
            "floor": round(floor, 4),
            "novelty_percentile": self.novelty_percentile,
            "novelty_floor": round(self.novelty_floor_, 4),
            "novelty_method": (
                f"texts below the {self.novelty_percentile:g}th percentile (same rule) are candidates "
                "for new topics; a dense group of candidates becomes a new topic"
            ),
            "members": len(pooled),
            "member_cosine_median": round(float(np.median(pooled)), 4) if len(pooled) else None,
            "topics_at_floor": int((thresholds <= floor + 1e-9).sum()),
        }
        logger.info("taxonomy fitted: %d topics, floor %.3f", len(ids), floor)
        return self

    def _calibrate(
        self, loo: list[np.ndarray], pooled: np.ndarray, percentile: float
    ) -> tuple[np.ndarray, float]:
        floor = float(np.percentile(pooled, percentile)) if len(pooled) else 0.0
        out = np.empty(len(loo), dtype=np.float32)
        for i, sims in enumerate(loo):
            own = float(np.percentile(sims, percentile)) if len(sims) >= 2 else floor
            out[i] = floor if len(sims) < self.min_members else max(own, floor)
        return out, floor

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """Topic id per vector, ``-1`` where it fits no topic."""
        return self.score(vectors)[0]

    def score(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(labels, best_similarity, nearest_topic)`` per vector (labels ``-1`` = fits no topic)."""
        return assign_vectors(vectors, self.centroids_, self.threshold_, self.topic_ids_)


def assign_vectors(
    vectors: np.ndarray, centroids: np.ndarray, thresholds: np.ndarray, topic_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest centre by cosine, kept when it reaches that centre's threshold (chunked)."""
    vectors = _normalise(np.asarray(vectors, dtype=np.float32))
    n = len(vectors)
    labels = np.full(n, -1, dtype=np.int64)
    best = np.zeros(n, dtype=np.float32)
    nearest = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(centroids) == 0:
        return labels, best, nearest
    centres_t = np.ascontiguousarray(centroids.T, dtype=np.float32)
    for start in range(0, n, CHUNK):
        sims = vectors[start : start + CHUNK] @ centres_t
        arg = sims.argmax(axis=1)
        top = sims[np.arange(len(arg)), arg]
        best[start : start + len(arg)] = top
        nearest[start : start + len(arg)] = topic_ids[arg]
        ok = top >= thresholds[arg]
        labels[start : start + len(arg)] = np.where(ok, topic_ids[arg], -1)
    return labels, best, nearest


def _leave_one_out(members: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Cosine of each member to the mean of the topic's other members."""
    if len(members) < 2:
        return np.ones(len(members), dtype=np.float64)
    dots = members.astype(np.float64) @ total  # x . S
    norms_sq = (members.astype(np.float64) ** 2).sum(axis=1)
    rest_norm = np.sqrt(np.maximum(float(total @ total) - 2 * dots + norms_sq, 1e-12))
    return (dots - norms_sq) / rest_norm  # x . (S - x) / |S - x|, with |x| = 1


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)
