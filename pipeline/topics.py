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

import numpy as np

from pipeline.errors import ConfigError
from pipeline.types import EXCLUDED, OUTLIER, Clustering, Documents, RunResult, Topic

logger = logging.getLogger(__name__)

N_EXAMPLES = 3
N_KEYWORDS = 10
PRIMARY_LANGUAGE_SHARE = 0.2
"""A topic is named in the file's main language when at least this share of its texts use it."""
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
) -> tuple[Topic, ...]:
    """Describe every topic in ``labels``.

    Args:
        documents: The prepared documents (all rows).
        labels: Topic id per unique text (aligned with ``documents.unique_rows``).
        vectors: Embeddings aligned with ``labels``.
        languages: Language code per row.
        names: Analyst-given names that override the keyword names.

    Returns:
        Topics ordered by id, the outlier topic (``-1``) first when present.
    """
    from pipeline.keywords import extract_keywords, topic_name
    from pipeline.tokenize import tokenize_many

    unique = documents.unique_rows
    texts = [documents.texts[i] for i in unique]
    unique_langs = [languages[i] for i in unique]
    phrases = tokenize_many(texts, unique_langs)  # once: the naming pass re-uses it
    keywords = extract_keywords(texts, labels, languages=unique_langs, top_n=N_KEYWORDS, phrases=phrases)
    name_words = _name_keywords(texts, labels, unique_langs, phrases)

    # Every row that takes a topic: the unique text itself and its duplicates.
    row_topic = documents.spread(np.asarray(labels, dtype=np.int64), EXCLUDED)
    n_with_topic = int((row_topic != EXCLUDED).sum()) or 1

    topics: list[Topic] = []
    for topic_id in sorted(int(t) for t in np.unique(labels)):
        rows = np.flatnonzero(row_topic == topic_id)
        members = np.flatnonzero(labels == topic_id)
        words = [(w, round(float(s), 5)) for w, s in keywords.get(topic_id, [])]
        fallback = OUTLIER_NAME if topic_id == OUTLIER else f"Topic {topic_id}"
        name = (names or {}).get(topic_id) or (
            OUTLIER_NAME
            if topic_id == OUTLIER
            else topic_name(name_words.get(topic_id) or words, fallback=fallback)
        )
        topics.append(
            Topic(
                id=topic_id,
                name=name,
                size=len(rows),
                share=round(len(rows) / n_with_topic, 6),
                keywords=tuple(words),
                examples=tuple(int(unique[i]) for i in _representatives(vectors, members)),
                languages=dict(Counter(languages[int(r)] for r in rows).most_common()),
            )
        )
    return tuple(topics)


def _name_keywords(
    texts: Sequence[str],
    labels: np.ndarray,
    languages: Sequence[str],
    phrases: Sequence[Sequence[Sequence[str]]],
) -> dict[int, list[tuple[str, float]]]:
    """Keywords for naming each topic in its own main language.

    In a multilingual topic the rarest language's words often score highest (they are the most
    concentrated), which gives an English-majority topic a French name. Names are therefore taken
    from a class-based TF-IDF over the texts of one language only: the file's main language where
    the topic uses it enough, else the topic's own most common language.
    """
    from pipeline.keywords import extract_keywords

    langs = np.asarray(languages, dtype=object)
    if len(set(languages)) <= 1:
        return {}
    known = [lang for lang in languages if lang not in ("", "und")]
    primary = Counter(known).most_common(1)[0][0] if known else ""
    dominant: dict[int, str] = {}
    for topic_id in np.unique(labels):
        counts = Counter(lang for lang in langs[labels == topic_id] if lang not in ("", "und"))
        if not counts:
            continue
        # The file's main language names every topic where it is well represented, so an
        # analyst reads one language across the topic list; otherwise the topic's own main one.
        if counts[primary] >= PRIMARY_LANGUAGE_SHARE * sum(counts.values()):
            dominant[int(topic_id)] = primary
        else:
            dominant[int(topic_id)] = counts.most_common(1)[0][0]
    out: dict[int, list[tuple[str, float]]] = {}
    for lang in sorted(set(dominant.values())):
        mask = langs == lang
        keep = np.flatnonzero(mask)
        keywords = extract_keywords(
            [texts[int(i)] for i in keep],
            labels[mask],
            languages=[lang] * len(keep),
            top_n=3,
            phrases=[phrases[int(i)] for i in keep],
        )
        out.update({t: keywords[t] for t, d in dominant.items() if d == lang and keywords.get(t)})
    return out


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
        result.documents, labels, result.embeddings.vectors, languages=result.languages, names=custom
    )
    n_topics = len(np.unique(labels[labels >= 0]))
    reason = result.clustering.reason.split("; then ", 1)[0]  # the clusterer's reason, then the edits
    clustering = dataclasses.replace(
        result.clustering,
        labels=labels,
        n_topics=n_topics,
        reason=f"{reason}; then topics merged by the analyst: {n_topics} topics",
    )
    return dataclasses.replace(result, clustering=clustering, topics=topics)


def _is_custom(result: RunResult, topic: Topic) -> bool:
    from pipeline.keywords import topic_name

    generated = (
        OUTLIER_NAME if topic.id == OUTLIER else topic_name(topic.keywords, fallback=f"Topic {topic.id}")
    )
    return topic.name != generated


def with_clustering(result: RunResult, clustering: Clustering) -> RunResult:
    """Return ``result`` re-described for a new clustering (used by tools that re-cluster)."""
    topics = build_topics(
        result.documents, clustering.labels, result.embeddings.vectors, languages=result.languages
    )
    return dataclasses.replace(result, clustering=clustering, topics=topics)
