"""Rank fusion of several rankings (dense and lexical) into one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RRF_K = 60
"""Reciprocal-rank-fusion constant (Cormack et al. 2009); measured in bench/search_quality.py."""


def rrf(
    rankings: Sequence[np.ndarray], *, n: int, weights: Sequence[float] | None = None, k: int = RRF_K
) -> np.ndarray:
    """Reciprocal rank fusion: ``sum_m w_m / (k + rank_m(d))`` over the rankings that hold ``d``.

    Args:
        rankings: Per method, positions (into the corpus) best first; each may be a prefix.
        n: Corpus size.
        weights: One weight per ranking (default all 1).
        k: The fusion constant: larger flattens the difference between top ranks.

    Returns:
        The fused score per corpus position (0 where no ranking holds it).
    """
    fused = np.zeros(n, dtype=np.float64)
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    for ranking, weight in zip(rankings, weights, strict=True):
        ranks = np.arange(1, len(ranking) + 1, dtype=np.float64)
        fused[np.asarray(ranking, dtype=np.int64)] += weight / (k + ranks)
    return fused


LEXICAL_WEIGHT = 0.25
"""Weight of the max-normalised BM25 score added to the cosine similarity in :func:`convex`.

bench/search_quality.py (use-multilingual, banking77 p@10): dense 0.740, RRF (k 60, weights 1/1)
0.770, convex 0.1: 0.756, 0.2: 0.778, 0.3: 0.778, 0.5: 0.774.
"""


def convex(dense: np.ndarray, lexical: np.ndarray, *, weight: float = LEXICAL_WEIGHT) -> np.ndarray:
    """Score fusion: cosine similarity plus ``weight`` times BM25 scaled to ``[0, 1]`` by its maximum."""
    top = float(lexical.max(initial=0.0))
    scaled = lexical / top if top > 0 else np.zeros_like(lexical)
    return np.asarray(dense, dtype=np.float64) + weight * scaled
