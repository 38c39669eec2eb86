"""The sentiment stage as the engines call it: one call after ``embed``."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.config import RunConfig
from pipeline.sentiment.base import RowSentiment
from pipeline.types import Embeddings


def run_sentiment(
    *,
    config: RunConfig,
    texts: Sequence[str],
    languages: Sequence[str],
    embeddings: Embeddings,
    model_name: str,
) -> RowSentiment | None:
    """Score the unique texts as ``config.sentiment`` says, reusing the run's embeddings.

    Returns:
        The :class:`RowSentiment`, or ``None`` when ``config.sentiment`` is ``off``.
    """
    if config.sentiment == "off":
        return None
    from pipeline.sentiment.registry import score_sentiment

    return score_sentiment(
        texts=texts,
        languages=languages,
        vectors=embeddings.vectors,
        model_name=model_name,
        method=config.sentiment,
        seed=config.seed,
    )
