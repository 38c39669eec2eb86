"""Classify one text or a small batch against a taxonomy (what a ticket-routing system calls)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.taxonomy.model import Taxonomy


@dataclass(frozen=True)
class Assignment:
    """Where one text belongs: ``topic_id`` ``-1`` (``topic_name`` ``""``) when it fits no topic."""

    topic_id: int
    topic_name: str
    score: float
    """Cosine similarity to the nearest topic's centre."""
    nearest_topic_id: int
    """The nearest topic even when the text was not close enough to join it."""
    theme_id: int
    theme_name: str


def assign(
    texts: str | Sequence[str],
    *,
    taxonomy: Taxonomy | str | Path,
    embedder: Any = None,
    device: str = "auto",
) -> list[Assignment]:
    """Assign ``texts`` to the topics of ``taxonomy`` (a :class:`Taxonomy` or a run folder).

    Args:
        texts: One text or a list of texts.
        taxonomy: The taxonomy, or the folder of the run it comes from (edits applied).
        embedder: An already loaded embedder (it must be the taxonomy's model); ``None`` loads
            the taxonomy's model.
        device: Device for the model loaded when ``embedder`` is ``None``.

    Returns:
        One :class:`Assignment` per text, in order.

    Raises:
        ConfigError: The embedder is not the taxonomy's model.
    """
    import numpy as np

    from pipeline.taxonomy.assign import assign_vectors
    from pipeline.taxonomy.io import load_taxonomy
    from pipeline.taxonomy.stage import check_embeddings

    items = [texts] if isinstance(texts, str) else list(texts)
    tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    if embedder is None:
        from pipeline.embedders.registry import create_embedder

        embedder = create_embedder(tax.model_name, device=device)
    check_embeddings(tax, model_id=embedder.model_id, dim=int(embedder.dim))
    cleaned = [" ".join(str(t).split()) for t in items]
    todo = [i for i, t in enumerate(cleaned) if t]
    vectors = np.zeros((len(items), tax.dim), dtype=np.float32)
    if todo:
        vectors[todo] = embedder.embed([cleaned[i] for i in todo])
    labels, best, nearest = assign_vectors(vectors, tax.centroids, tax.thresholds, tax.topic_ids)
    names, theme_of, theme_names = tax.names(), tax.theme_of(), tax.theme_names()
    done = set(todo)
    out = []
    for i in range(len(items)):
        topic = int(labels[i])
        theme = theme_of.get(topic, -1)
        empty = i not in done
        out.append(
            Assignment(
                topic_id=-1 if empty else topic,
                topic_name="" if empty else names.get(topic, ""),
                score=0.0 if empty else round(float(best[i]), 6),
                nearest_topic_id=-1 if empty else int(nearest[i]),
                theme_id=-1 if empty else theme,
                theme_name="" if empty else theme_names.get(theme, ""),
            )
        )
    return out
