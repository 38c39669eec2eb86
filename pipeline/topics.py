"""Topics as analysts see them: build them from a clustering, rename and merge them.

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

from pipeline.errors import ConfigError
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


def rename_topic(result: RunResult, topic_id: int, name: str) -> RunResult:
    """Return ``result`` with topic ``topic_id`` named ``name`` (trimmed, at most 120 characters)."""
    name = " ".join(name.split())[:120]
    if not name:
        raise ConfigError("A topic name cannot be empty.", code="topic_name")
    if topic_id not in {t.id for t in result.topics}:
        raise ConfigError(f"There is no topic {topic_id} in this run.", code="topic_id")
    topics = tuple(dataclasses.replace(t, name=name) if t.id == topic_id else t for t in result.topics)
    return dataclasses.replace(result, topics=topics)


def merge_topics(result: RunResult, topic_ids: Sequence[int], name: str | None = None) -> RunResult:
    """Merge two or more topics into the smallest of their ids; keywords and examples are recomputed.

    Names given by analysts to the other topics are kept; the merged topic gets ``name`` or, when
    ``None``, a fresh keyword name.
    """
    ids = sorted({int(t) for t in topic_ids})
    existing = {t.id for t in result.topics}
    missing = [t for t in ids if t not in existing]
    if len(ids) < 2:
        raise ConfigError("Choose at least two topics to merge.", code="merge")
    if missing:
        raise ConfigError(f"There is no topic {missing[0]} in this run.", code="topic_id")
    target = ids[0] if ids[0] != OUTLIER else ids[1]
    labels = result.clustering.labels.copy()
    labels[np.isin(labels, ids)] = target
    custom = {t.id: t.name for t in result.topics if t.id not in ids and _is_custom(result, t)}
    if name:
        custom[target] = " ".join(name.split())[:120]
    topics = build_topics(
        result.documents,
        labels,
        result.embeddings.vectors,
        languages=result.languages,
        names=custom,
        label_language=_label_language(result),
    )
    # Topics the merge did not touch keep their names and label-language keywords (naming here has
    # no embedder, so it would otherwise fall back to in-language words only).
    before = {t.id: t for t in result.topics}
    topics = tuple(
        dataclasses.replace(
            t, name=before[t.id].name, auto_name=before[t.id].auto_name, keywords=before[t.id].keywords
        )
        if t.id in before and t.id not in ids
        else t
        for t in topics
    )
    n_topics = len(np.unique(labels[labels >= 0]))
    base_reason = result.clustering.reason.split("; then merged by the analyst", 1)[0]
    clustering = dataclasses.replace(
        result.clustering,
        labels=labels,
        n_topics=n_topics,
        reason=f"{base_reason}; then merged by the analyst to {n_topics} topics",
    )
    from pipeline.multitopic import remap_mentions
    from pipeline.themes import themes_after_merge

    mentions = remap_mentions(result.mentions, ids, target, labels)
    merged = dataclasses.replace(result, clustering=clustering, topics=topics, mentions=mentions)
    return themes_after_merge(merged, ids, target)


def _label_language(result: RunResult) -> str:
    """The language the run's topics are named in (``auto`` for runs made before label languages)."""
    if result.label_sets:
        return result.label_sets[0].language
    return str(result.manifest.get("label_language") or "auto")


def _is_custom(result: RunResult, topic: Topic) -> bool:
    if topic.auto_name:
        return topic.name != topic.auto_name
    from pipeline.labels.keywords import topic_name

    generated = (
        OUTLIER_NAME if topic.id == OUTLIER else topic_name(topic.keywords, fallback=f"Topic {topic.id}")
    )
    return topic.name != generated


def with_clustering(result: RunResult, clustering: Clustering) -> RunResult:
    """Return ``result`` re-described for a new clustering (used by tools that re-cluster)."""
    topics = build_topics(
        result.documents,
        clustering.labels,
        result.embeddings.vectors,
        languages=result.languages,
        label_language=_label_language(result),
    )
    empty = np.zeros((0, 2), dtype=np.int64)  # other topics belong to the old clustering
    return dataclasses.replace(result, clustering=clustering, topics=topics, mentions=empty)
