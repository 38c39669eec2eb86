"""Make a query's sense count: complaints find complaints, praise finds praise.

Dense and lexical search match the subject ("delivery") but barely the sense ("late" vs "super
fast"). A sentiment direction in the model's own space, the difference between the mean vectors of
short praising and complaining anchor phrases in several languages, gives each text and the query a
polarity. When the query's polarity is clear, candidates of the opposite polarity are moved down
(``demote``) or the order is fused with an agreement ranking (``rrf``). The method and margins were
chosen with bench/search_quality.py (waimai_10k polarity queries).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from pipeline.search.hybrid import rrf

POSITIVE_ANCHORS: tuple[str, ...] = (
    "great, I love it", "excellent service", "very good", "fast and delicious", "highly recommend",
    "perfect, very satisfied", "arrived quickly, thank you", "works perfectly", "friendly and helpful",
    "很好", "非常满意", "好吃", "很快", "推荐", "服务很好", "物超所值", "态度很好", "下次还会再来",
    "muy bueno", "excelente", "sehr gut", "très bien", "ottimo", "ótimo", "とても良い", "좋아요",
    "отлично", "çok iyi",
)  # fmt: skip
NEGATIVE_ANCHORS: tuple[str, ...] = (
    "terrible, I hate it", "awful service", "very bad", "slow and disgusting", "never again",
    "very disappointed", "arrived late, still waiting", "does not work", "rude and unhelpful",
    "很差", "非常失望", "难吃", "太慢了", "不推荐", "服务很差", "不值这个价", "态度恶劣", "再也不会来了",
    "muy malo", "horrible", "sehr schlecht", "très mauvais", "pessimo", "péssimo", "とても悪い", "나빠요",
    "ужасно", "çok kötü",
)  # fmt: skip
QUERY_MARGIN = 0.015
"""A query's polarity counts only when its projection is at least this far from neutral.

bench/search_quality.py, hybrid + demote, before query feedback: margin 0.03 banking77 p@10 0.774,
waimai polarity 0.840; 0.015: 0.770 / 0.857; 0: 0.746 / 0.866. With the query feedback of
:mod:`pipeline.search.engine`, 0.03 gave 0.822 / 0.831 and 0.015 0.820 / 0.846 (m_absa
cross-language 0.538 / 0.542), so 0.015: queries without a clear sense are still left alone."""
DOC_MARGIN = 0.0
"""A candidate is of the opposite polarity when its agreement is below ``-DOC_MARGIN``."""
METHOD = "demote"
RRF_WEIGHT = 1.0

_AXES: dict[str, tuple[np.ndarray, float]] = {}
_LOCK = threading.Lock()


def sentiment_axis(embedder: Any) -> tuple[np.ndarray, float]:
    """The unit praise-minus-complaint direction of ``embedder``'s space and its neutral point."""
    key = str(getattr(embedder, "model_id", type(embedder).__name__))
    with _LOCK:
        if key in _AXES:
            return _AXES[key]
    pos = np.asarray(embedder.embed(list(POSITIVE_ANCHORS), kind="document"), dtype=np.float32)
    neg = np.asarray(embedder.embed(list(NEGATIVE_ANCHORS), kind="document"), dtype=np.float32)
    pos /= np.maximum(np.linalg.norm(pos, axis=1, keepdims=True), 1e-12)
    neg /= np.maximum(np.linalg.norm(neg, axis=1, keepdims=True), 1e-12)
    axis = pos.mean(axis=0) - neg.mean(axis=0)
    norm = float(np.linalg.norm(axis))
    axis = axis / norm if norm > 0 else axis
    neutral = float(((pos @ axis).mean() + (neg @ axis).mean()) / 2)
    with _LOCK:
        _AXES[key] = (axis, neutral)
    return axis, neutral


def query_polarity(qvec: np.ndarray, *, embedder: Any, margin: float = QUERY_MARGIN) -> int:
    """``1`` praise, ``-1`` complaint, ``0`` no clear sense."""
    axis, neutral = sentiment_axis(embedder)
    value = float(np.asarray(qvec, dtype=np.float32) @ axis) - neutral
    return 0 if abs(value) < margin else (1 if value > 0 else -1)


def text_polarity(vectors: np.ndarray, *, embedder: Any) -> np.ndarray:
    """Signed distance of each (unit) vector from neutral along the sentiment direction."""
    axis, neutral = sentiment_axis(embedder)
    return np.asarray(vectors @ axis, dtype=np.float32) - neutral


def polarity_rerank(
    corpus: Any,
    query: str,
    qvec: np.ndarray,
    ranked: Any,
    *,
    embedder: Any,
    method: str = METHOD,
    query_margin: float = QUERY_MARGIN,
    doc_margin: float = DOC_MARGIN,
    weight: float = RRF_WEIGHT,
) -> tuple[Any, np.ndarray]:
    """Re-rank ``ranked`` (a :class:`pipeline.search.engine.Ranked`) by agreement with the query's sense.

    Returns:
        The re-ranked candidates and, per candidate, its polarity sign (``1``/``-1``; all ``0``
        when the query has no clear sense and the order is unchanged).
    """
    from pipeline.search.engine import Ranked

    sense = query_polarity(qvec, embedder=embedder, margin=query_margin)
    entries = ranked.entries
    values = text_polarity(corpus.vectors[entries], embedder=embedder)
    signs = np.where(values >= 0, 1, -1).astype(np.int64)
    if sense == 0 or method == "none" or len(entries) == 0:
        return ranked, np.zeros(len(entries), dtype=np.int64)
    agreement = sense * values
    if method == "demote":
        opposite = agreement < -doc_margin
        order = np.concatenate([np.flatnonzero(~opposite), np.flatnonzero(opposite)])
    elif method == "rrf":
        base = np.arange(len(entries))
        by_agreement = np.lexsort((base, -agreement))
        fused = rrf([base, by_agreement], n=len(entries), weights=[1.0, weight])
        order = np.lexsort((base, -fused))
    else:
        raise ValueError(f"unknown polarity method {method!r}")
    return Ranked(entries[order], ranked.scores[order], ranked.similarity[order]), signs[order]
