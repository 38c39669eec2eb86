"""Topics as analysts see them: build them from a clustering (edits: :mod:`pipeline.curation`).

Keywords come from class-based TF-IDF over every row of the unique texts (each text counted once);
sizes count every row that takes the topic, duplicates included. Representative examples are the
texts nearest each topic's centre in embedding space.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.labels.base import LabelSet
from pipeline.types import EXCLUDED, OUTLIER, Clustering, Documents, RunResult, Topic

logger = logging.getLogger(__name__)

N_EXAMPLES = 3
N_KEYWORDS = 10
NEAR_COPY = 0.97
"""Cosine above which two examples count as the same text said twice."""
OUTLIER_NAME = "Outliers (no clear topic)"


def build_topics(
    documents: Documents,
    labels: np.ndarray,
    vectors: np.ndarray,
    *,
    languages: Sequence[str],
    names: dict[int, str] | None = None,
    label_language: str = "auto",
    embedder: Any | None = None,
    cache: Any | None = None,
    labeller: Any = "offline",
    phrases: Sequence[Sequence[Sequence[str]]] | None = None,
) -> tuple[Topic, ...]:
    """Describe every topic in ``labels`` (see :func:`describe_topics`, which also returns the labels)."""
    topics, _ = describe_topics(
        documents,
        labels,
        vectors,
        languages=languages,
        names=names,
        label_language=label_language,
        embedder=embedder,
        cache=cache,
        labeller=labeller,
        phrases=phrases,
    )
    return topics


def describe_topics(
    documents: Documents,
    labels: np.ndarray,
    vectors: np.ndarray,
    *,
    languages: Sequence[str],
    names: dict[int, str] | None = None,
    label_language: str = "auto",
    embedder: Any | None = None,
    cache: Any | None = None,
    labeller: Any = "offline",
    phrases: Sequence[Sequence[Sequence[str]]] | None = None,
    terms: Any | None = None,
) -> tuple[tuple[Topic, ...], LabelSet]:
    """Describe every topic in ``labels`` and name it in the label language.

    Args:
        documents: The prepared documents (all rows).
        labels: Topic id per unique text (aligned with ``documents.unique_rows``).
        vectors: Embeddings aligned with ``labels``.
        languages: Language code per row.
        names: Analyst-given names that override the generated names.
        label_language: ISO 639-1 code or ``auto`` (the file's majority language by rows).
        embedder: The run's embedder, for labels in a language the topic's texts are not in;
            without it names use the label language's own words (method ``keywords``).
        cache: Embedding cache for the label candidates.
        labeller: ``offline``, ``auto``, ``openai`` or :class:`~pipeline.labels.LabellerSettings`.
        phrases: ``tokenize_many`` of the unique texts when the caller already has it.
        terms: Their :class:`~pipeline.keywords.TermMatrix` when the caller already has it.

    Returns:
        Topics ordered by id, the outlier topic (``-1``) first when present, and the label set
        their names and keywords come from. ``Topic.keywords`` are in the label language,
        ``Topic.keywords_original`` in the texts' own languages.
    """
    from pipeline.keywords import extract_keywords
    from pipeline.labels import label_topics
    from pipeline.tokenize import tokenize_many

    unique = documents.unique_rows
    texts = [documents.texts[i] for i in unique]
    unique_langs = [languages[i] for i in unique]
    if phrases is None:
        phrases = tokenize_many(texts, unique_langs)  # once: the naming pass re-uses it
    if terms is not None:
        keywords = terms.keywords(labels, top_n=N_KEYWORDS)
    else:
        keywords = extract_keywords(texts, labels, languages=unique_langs, top_n=N_KEYWORDS, phrases=phrases)
    original = {t: tuple((w, round(float(s), 5)) for w, s in words) for t, words in keywords.items()}
    examples = {
        int(t): [int(i) for i in _representatives(vectors, np.flatnonzero(labels == t))]
        for t in np.unique(labels)
    }
    label_set = label_topics(
        texts=texts,
        labels=labels,
        vectors=vectors,
        languages=unique_langs,
        phrases=phrases,
        label_language=label_language,
        embedder=embedder,
        cache=cache,
        labeller=labeller,
        examples=examples,
        keywords_original=original,
        outlier_name=OUTLIER_NAME,
        row_languages=[lang for lang in languages if lang],
    )

    # Every row that takes a topic: the unique text itself and its duplicates.
    row_topic = documents.spread(np.asarray(labels, dtype=np.int64), EXCLUDED)
    n_with_topic = int((row_topic != EXCLUDED).sum()) or 1

    topics: list[Topic] = []
    for topic_id in sorted(int(t) for t in np.unique(labels)):
        rows = np.flatnonzero(row_topic == topic_id)
        auto_name = label_set.names.get(topic_id) or (
            OUTLIER_NAME if topic_id == OUTLIER else f"Topic {topic_id}"
        )
        topics.append(
            Topic(
                id=topic_id,
                name=(names or {}).get(topic_id) or auto_name,
                size=len(rows),
                share=round(len(rows) / n_with_topic, 6),
                keywords=tuple(label_set.keywords.get(topic_id) or original.get(topic_id, ())),
                examples=tuple(int(unique[i]) for i in examples[topic_id]),
                languages=dict(Counter(languages[int(r)] for r in rows).most_common()),
                keywords_original=original.get(topic_id, ()),
                auto_name=auto_name,
            )
        )
    return tuple(topics), label_set


def _representatives(vectors: np.ndarray, members: np.ndarray, k: int = N_EXAMPLES) -> np.ndarray:
    """Members nearest the topic's centre (cosine), best first."""
    if len(members) == 0:
        return members
    member_vectors = vectors[members].astype(np.float32)
    centre = member_vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    sims = member_vectors @ centre
    order = np.lexsort((members, -sims))
    chosen: list[int] = []
    for i in order[: max(50, k)]:
        # Skip near-copies of an example already chosen, so the three examples say different things.
        if all(float(member_vectors[i] @ member_vectors[j]) < NEAR_COPY for j in chosen):
            chosen.append(int(i))
        if len(chosen) == k:
            break
    if len(chosen) < k:
        chosen += [int(i) for i in order if int(i) not in chosen][: k - len(chosen)]
    return members[np.array(chosen, dtype=np.int64)]


# Renames and merges now live in pipeline.curation (with split, move, delete and seed); these
# names stay importable from here.
from pipeline.curation.apply import label_language as _label_language  # noqa: E402
from pipeline.curation.apply import merge_topics as merge_topics  # noqa: E402
from pipeline.curation.apply import rename_topic as rename_topic  # noqa: E402

__all__ = ["build_topics", "describe_topics", "merge_topics", "rename_topic", "with_clustering"]


def with_clustering(result: RunResult, clustering: Clustering) -> RunResult:
    """Return ``result`` re-described for a new clustering (used by tools that re-cluster)."""
    topics = build_topics(
        result.documents,
        clustering.labels,
        result.embeddings.vectors,
        languages=result.languages,
        label_language=_label_language(result),
    )
    return dataclasses.replace(result, clustering=clustering, topics=topics)
