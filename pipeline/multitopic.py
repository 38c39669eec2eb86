"""Several topics per feedback item: split long texts into parts, count an item in every topic it raises.

"The courier was late and the app crashed" is one row but two issues. The row keeps its primary
topic (``topic_id``, from the clustering); this stage finds its *other* topics:

1. :func:`split_parts` cuts a text into sentences (``.!?`` followed by a space, ``。！？``, ``;；``,
   line breaks) and, where a sentence is long, into clauses (``,，、`` and ``:``); parts shorter
   than ``min_chars`` are glued to their neighbour, so a text yields at most ``max_parts`` parts.
2. Only texts with two or more parts are looked at. Their parts are embedded with the run's own
   model, and each part goes to its nearest topic centroid (the normalised mean of the topic's
   text vectors) when its cosine similarity reaches that topic's threshold, which is derived from
   the run: the ``quantile`` of the topic's own members' similarities to its centroid.
3. A topic a part reaches, other than the primary one, is a *mention* of that topic.

The result is an ``(m, 2)`` array of ``(unique position, topic id)`` pairs (``RunResult.mentions``);
:func:`membership` turns it into per-row topic masks that the drivers and segments reads use, and
:func:`other_topic_ids` gives the ``assignments.csv`` column.

Measured by ``bench/multitopic.py`` on m_absa (see ``bench/results/multitopic.json`` and
:data:`QUANTILE`, :data:`AUTO_MAX_TEXTS`). On 600 two-aspect reviews among 2,549
single-aspect ones (restaurant, 21 languages, USE-m), both aspects were found for 19.5 % of the
reviews (0 % with the primary topic alone) and the aspect F1 rose from 0.434 to 0.563, while 5.5 %
of the single-aspect rows gained a wrong other topic.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.types import EXCLUDED, OUTLIER, RunResult

logger = logging.getLogger(__name__)

AUTO_MAX_TEXTS = 100_000
"""``--multi-topic auto`` looks for other topics up to this many distinct texts (the parts are
embedded too: about 1.1x the run's embedding work on m_absa, where 42 % of the texts split)."""
QUANTILE = 0.25
"""A part joins a topic when it is at least as close to the centroid as this quantile of its members."""
MIN_CHARS = 12
"""Parts shorter than this (in characters; CJK characters count 2.5) are glued to a neighbour."""
MAX_PARTS = 8
CLAUSE_CHARS = 60
"""Sentences at least this long (weighted as for ``MIN_CHARS``) are cut further into clauses."""
MIN_TOPIC_MEMBERS = 3

_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；;…])|\n+")
_CLAUSE = re.compile(r"(?<=[，、,:：])\s*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class Mentions:
    """What :func:`find_mentions` found.

    Attributes:
        pairs: ``(m, 2)`` int64 ``(unique position, topic id)``, sorted; never the primary topic.
        info: For ``run.json``: texts split, parts embedded, thresholds, the settings.
    """

    pairs: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def _weight(text: str) -> float:
    cjk = len(_CJK.findall(text))
    return (len(text) - cjk) + 2.5 * cjk


def _glue(pieces: Sequence[str], *, min_chars: int) -> list[str]:
    out: list[str] = []
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        if out and (_weight(out[-1]) < min_chars or _weight(piece) < min_chars):
            joiner = "" if _CJK.search(out[-1][-1:] + piece[:1]) else " "
            out[-1] = f"{out[-1]}{joiner}{piece}"
        else:
            out.append(piece)
    if len(out) > 1 and _weight(out[-1]) < min_chars:
        last = out.pop()
        out[-1] = f"{out[-1]} {last}"
    return out


def split_parts(text: str, *, min_chars: int = MIN_CHARS, max_parts: int = MAX_PARTS) -> list[str]:
    """Sentences, and clauses of long sentences, of one text (the whole text when it has one part).

    >>> split_parts("The courier was late. The app crashed when I paid!")
    ['The courier was late.', 'The app crashed when I paid!']
    """
    sentences = _glue(_SENTENCE.split(text), min_chars=min_chars)
    parts: list[str] = []
    for sentence in sentences:
        if _weight(sentence) >= CLAUSE_CHARS:
            parts.extend(_glue(_CLAUSE.split(sentence), min_chars=min_chars))
        else:
            parts.append(sentence)
    parts = _glue(parts, min_chars=min_chars) or [text.strip()]
    if len(parts) > max_parts:  # keep the text whole beyond the cap: glue the tail
        parts = [*parts[: max_parts - 1], " ".join(parts[max_parts - 1 :])]
    return parts


def topic_centroids(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(topic ids, unit centroids)`` of the topics (outliers left out)."""
    ids = np.array(sorted(int(t) for t in np.unique(labels) if t >= 0), dtype=np.int64)
    if not len(ids):
        return ids, np.zeros((0, vectors.shape[1]), dtype=np.float32)
    centroids = np.stack([vectors[labels == t].mean(axis=0) for t in ids]).astype(np.float32)
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    return ids, centroids / np.maximum(norms, 1e-12)


def topic_thresholds(
    vectors: np.ndarray, labels: np.ndarray, ids: np.ndarray, centroids: np.ndarray, *, quantile: float
) -> np.ndarray:
    """Per topic: the ``quantile`` of its members' cosine similarities to its centroid."""
    out = np.full(len(ids), np.inf, dtype=np.float64)
    for k, topic in enumerate(ids):
        members = labels == topic
        if int(members.sum()) >= MIN_TOPIC_MEMBERS:
            out[k] = float(np.quantile(vectors[members] @ centroids[k], quantile))
    return out


def assign_parts(
    part_vectors: np.ndarray,
    owners: np.ndarray,
    labels: np.ndarray,
    *,
    ids: np.ndarray,
    centroids: np.ndarray,
    thresholds: np.ndarray,
) -> np.ndarray:
    """``(unique position, topic id)`` pairs for the parts that reach a topic other than their text's.

    Args:
        part_vectors: ``(p, dim)`` unit vectors of the parts.
        owners: ``(p,)`` the unique position of each part's text.
        labels: Primary topic per unique text.
        ids, centroids, thresholds: From :func:`topic_centroids` and :func:`topic_thresholds`.
    """
    if not len(part_vectors) or not len(ids):
        return np.zeros((0, 2), dtype=np.int64)
    sims = part_vectors @ centroids.T
    best = sims.argmax(axis=1)
    reach = sims[np.arange(len(best)), best] >= thresholds[best]
    topic = ids[best]
    keep = reach & (topic != labels[owners])
    pairs = np.stack([owners[keep].astype(np.int64), topic[keep]], axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else np.zeros((0, 2), dtype=np.int64)


def find_mentions(
    texts: Sequence[str],
    labels: np.ndarray,
    vectors: np.ndarray,
    *,
    embedder: Any,
    cache: Any = None,
    quantile: float = QUANTILE,
    min_chars: int = MIN_CHARS,
    progress: Any = None,
) -> Mentions:
    """The other topics each text raises (see the module docstring).

    Args:
        texts: The unique texts, aligned with ``labels`` and ``vectors``.
        labels: Primary topic per text (``-1`` outliers).
        vectors: The run's unit embeddings of the texts.
        embedder: The run's embedder (parts are embedded with it).
        cache: The run's embedding cache, or ``None``.
        quantile: Threshold quantile (:data:`QUANTILE`).
        min_chars: Shortest part (:data:`MIN_CHARS`).
        progress: ``progress(done, total)`` in parts embedded; may raise ``Cancelled``.

    Returns:
        :class:`Mentions`.
    """
    from pipeline.embed import embed_texts

    labels = np.asarray(labels, dtype=np.int64)
    owners: list[int] = []
    parts: list[str] = []
    for position, text in enumerate(texts):
        pieces = split_parts(text, min_chars=min_chars)
        if len(pieces) > 1:
            owners.extend([position] * len(pieces))
            parts.extend(pieces)
    ids, centroids = topic_centroids(vectors, labels)
    thresholds = topic_thresholds(vectors, labels, ids, centroids, quantile=quantile)
    if parts and len(ids):
        part_vectors = embed_texts(parts, embedder=embedder, cache=cache, progress=progress).vectors
    else:
        part_vectors = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    pairs = assign_parts(
        part_vectors,
        np.asarray(owners, dtype=np.int64),
        labels,
        ids=ids,
        centroids=centroids,
        thresholds=thresholds,
    )
    finite = thresholds[np.isfinite(thresholds)]
    info = {
        "method": "parts",
        "quantile": quantile,
        "min_chars": min_chars,
        "texts_split": len(set(owners)),
        "parts_embedded": len(parts),
        "texts_with_other_topics": len(np.unique(pairs[:, 0])) if len(pairs) else 0,
        "mentions": len(pairs),
        "threshold_median": round(float(np.median(finite)), 4) if len(finite) else None,
    }
    logger.info(
        "multi-topic: %d of %d texts split, %d get other topics",
        info["texts_split"],
        len(texts),
        info["texts_with_other_topics"],
    )
    return Mentions(pairs=pairs, info=info)


# --------------------------------------------------------------------------------------- read side
def _row_positions(result: RunResult) -> np.ndarray:
    """Per row, the unique position whose topic it takes (``-1`` for excluded rows)."""
    documents = result.documents
    return documents.spread(np.arange(len(documents.unique_rows), dtype=np.int64), -1)


def membership(result: RunResult, *, secondary: bool = True) -> dict[int, np.ndarray]:
    """Topic id -> boolean mask over rows: the rows in the topic (primary, plus mentions if asked).

    Excluded rows are in no topic; outliers (``-1``) have a mask too.
    """
    labels = result.row_labels()
    masks = {int(t.id): labels == t.id for t in result.topics}
    pairs = result.mentions
    if secondary and len(pairs):
        positions = _row_positions(result)
        for topic in np.unique(pairs[:, 1]):
            topic = int(topic)
            if topic not in masks:
                continue
            hit = np.isin(positions, pairs[pairs[:, 1] == topic, 0]) & (labels != EXCLUDED)
            masks[topic] = masks[topic] | hit
    return masks


def mention_counts(result: RunResult) -> dict[int, int]:
    """Topic id -> rows that raise it, primary or other (duplicates included)."""
    return {topic: int(mask.sum()) for topic, mask in membership(result).items()}


def other_topic_ids(result: RunResult) -> list[str]:
    """Per row, its other topics as ``"3;7"`` (``""`` for none), for ``assignments.csv``."""
    n_rows = result.documents.n_rows
    pairs = result.mentions
    if not len(pairs):
        return [""] * n_rows
    by_position: dict[int, list[int]] = {}
    for position, topic in pairs.tolist():
        by_position.setdefault(int(position), []).append(int(topic))
    positions = _row_positions(result)
    return [
        ";".join(str(t) for t in sorted(by_position.get(int(p), []))) if p >= 0 else "" for p in positions
    ]


def remap_mentions(pairs: np.ndarray, merged: Sequence[int], target: int, labels: np.ndarray) -> np.ndarray:
    """Mentions after topics ``merged`` became ``target`` (pairs that now equal the primary go)."""
    if not len(pairs):
        return pairs
    out = pairs.copy()
    out[np.isin(out[:, 1], list(merged)), 1] = target
    out = out[(out[:, 1] != labels[out[:, 0]]) & (out[:, 1] != OUTLIER)]
    return np.unique(out, axis=0) if len(out) else np.zeros((0, 2), dtype=np.int64)


def run_mentions(
    *,
    mode: str,
    texts: Sequence[str],
    labels: np.ndarray,
    vectors: np.ndarray,
    embedder: Any,
    cache: Any,
    progress: Any = None,
) -> Mentions:
    """The run's stage (``RunConfig.multi_topic``): ``on``, ``off``, or ``auto`` (on up to
    :data:`AUTO_MAX_TEXTS` distinct texts); ``info["reason"]`` says which and why."""
    if mode == "off" or (mode == "auto" and len(texts) > AUTO_MAX_TEXTS):
        reason = "off by request" if mode == "off" else f"auto: off above {AUTO_MAX_TEXTS:,} distinct texts"
        return Mentions(pairs=np.zeros((0, 2), dtype=np.int64), info={"method": "off", "reason": reason})
    found = find_mentions(texts, labels, vectors, embedder=embedder, cache=cache, progress=progress)
    reason = "on by request" if mode == "on" else f"auto: on up to {AUTO_MAX_TEXTS:,} distinct texts"
    return Mentions(pairs=found.pairs, info={**found.info, "reason": reason})


__all__ = [
    "AUTO_MAX_TEXTS",
    "Mentions",
    "find_mentions",
    "membership",
    "mention_counts",
    "other_topic_ids",
    "remap_mentions",
    "run_mentions",
    "split_parts",
]
