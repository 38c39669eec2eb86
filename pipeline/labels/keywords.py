"""Keyword names: the label language's own c-TF-IDF words, joined (no embedder needed).

This is the naming the product had before label languages (``"delivery · late · courier"``), now
taken from the texts in the label language only; groups with no text in that language keep their
keywords in their own languages. Used when no embedder is at hand (merging topics after a run).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.labels.base import LabelRequest, LabelSet

SEPARATOR = " · "


def topic_name(keywords: Sequence[tuple[str, float]], n: int = 3, *, fallback: str = "") -> str:
    """A name from the top keywords, e.g. ``"delivery · late · courier"`` (``fallback`` when none)."""
    words = [word for word, _ in keywords[: max(n, 0)]]
    return SEPARATOR.join(words) if words else fallback


def keyword_labels(request: LabelRequest, *, outlier_name: str) -> LabelSet:
    """Names and keywords from in-language evidence only (method ``keywords``)."""
    from pipeline.labels.phrases import offline_labels

    return offline_labels(request, embedder=None, outlier_name=outlier_name)
