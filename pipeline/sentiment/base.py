"""What the sentiment stage returns, and the one interface every scorer implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
"""Label names; a code ``c`` in ``RowSentiment.codes`` (-1, 0, 1) is ``LABELS[c + 1]``."""
NEUTRAL_BAND = 0.2
"""A text whose score is within ``±NEUTRAL_BAND`` is neutral. Chosen on a development set that is
not an evaluation set (``online_shopping_10_cats`` without its hotel reviews, where it leaves about
one text in ten neutral; see ``bench/sentiment.py --dev``), never on the evaluation sets."""


@dataclass(frozen=True)
class RowSentiment:
    """Sentiment per unique text (aligned with ``Documents.unique_rows``, like the embeddings).

    Attributes:
        scores: float32 in ``[-1, 1]``; negative below ``-NEUTRAL_BAND``, positive above ``NEUTRAL_BAND``.
        codes: int8 ``-1`` negative, ``0`` neutral, ``1`` positive.
        method: The scorer that ran (``lexicon+head``, ``lexicon+bundled-head``, ``lexicon``...).
        reason: Why that scorer, a sentence for ``run.json``.
        details: Figures for ``run.json`` (rows the head was trained on, lexicon coverage, seconds).
    """

    scores: np.ndarray
    codes: np.ndarray
    method: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def labels(self) -> list[str]:
        """The label name of every text."""
        return [LABELS[int(c) + 1] for c in self.codes]

    def manifest(self) -> dict[str, Any]:
        """The ``run.json`` keys: ``sentiment_method``, ``sentiment_reason``, ``sentiment_details``."""
        return {
            "sentiment_method": self.method,
            "sentiment_reason": self.reason,
            "sentiment_details": dict(self.details),
        }


def codes_from_scores(scores: np.ndarray, *, band: float = NEUTRAL_BAND) -> np.ndarray:
    """``-1`` / ``0`` / ``1`` per score (neutral inside the band)."""
    codes = np.zeros(len(scores), dtype=np.int8)
    codes[scores > band] = 1
    codes[scores < -band] = -1
    return codes


class Scorer(Protocol):
    """``scorer(texts=..., languages=..., vectors=..., model_name=..., seed=...) -> RowSentiment``."""

    def __call__(
        self,
        *,
        texts: Sequence[str],
        languages: Sequence[str],
        vectors: np.ndarray,
        model_name: str,
        seed: int,
    ) -> RowSentiment: ...
