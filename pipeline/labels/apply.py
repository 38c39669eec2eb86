"""Switch a finished run's topic names to another label language, without re-embedding texts.

The run's own vectors, clustering and languages are reused; only the label-language candidates are
embedded (once per model, through the embedding cache). Label sets already computed for a language
are reused as they are. Names an analyst gave are kept.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from pipeline.labels.base import LabelSet
from pipeline.types import RunResult


def label_set_for(
    result: RunResult, *, label_language: str, embedder: Any | None, cache: Any | None = None
) -> LabelSet:
    """The run's topic labels in ``label_language`` (a stored set when there is one)."""
    for label_set in result.label_sets:
        if label_set.language == label_language:
            return label_set
    from pipeline.labels.registry import label_topics
    from pipeline.topics import OUTLIER_NAME

    unique = result.documents.unique_rows
    texts = [result.documents.texts[i] for i in unique]
    languages = [result.languages[i] for i in unique]
    labels = np.asarray(result.clustering.labels)
    return label_topics(
        texts=texts,
        labels=labels,
        vectors=result.embeddings.vectors,
        languages=languages,
        label_language=label_language,
        embedder=embedder,
        cache=cache,
        labeller="offline",
        keywords_original={t.id: t.keywords_original or t.keywords for t in result.topics},
        outlier_name=OUTLIER_NAME,
    )


def relabel(
    result: RunResult, *, label_language: str, embedder: Any | None, cache: Any | None = None
) -> RunResult:
    """``result`` with its topics named in ``label_language`` (and that label set kept first).

    Args:
        result: A run (unedited: the dashboard replays its edits afterwards).
        label_language: ISO 639-1 code.
        embedder: The run's embedding model (``None``: in-language words only).
        cache: Embedding cache for the candidate words.

    Returns:
        A new :class:`RunResult`; ``result`` is unchanged.
    """
    label_set = label_set_for(result, label_language=label_language, embedder=embedder, cache=cache)
    topics = []
    for topic in result.topics:
        custom = bool(topic.auto_name) and topic.name != topic.auto_name
        new_name = label_set.names.get(topic.id) or topic.auto_name or topic.name
        topics.append(
            dataclasses.replace(
                topic,
                name=topic.name if custom else new_name,
                auto_name=new_name,
                keywords=tuple(label_set.keywords.get(topic.id) or topic.keywords_original or topic.keywords),
                keywords_original=topic.keywords_original or topic.keywords,
            )
        )
    others = tuple(s for s in result.label_sets if s.language != label_set.language)
    return dataclasses.replace(result, topics=tuple(topics), label_sets=(label_set, *others))


def shown_language(result: RunResult) -> str:
    """The language the run's topic names are in now (``""`` for runs without label sets)."""
    if result.label_sets:
        return result.label_sets[0].language
    return str(result.manifest.get("label_language") or "")
