"""Themes: the coarse level above topics (every topic belongs to exactly one theme).

Topics are joined bottom-up by Ward's criterion on their centres in the reduced space
(:func:`pipeline.granularity.ward_tree`, the tree that also chose the topic count), and the tree is
cut where the silhouette of the themes is best among :data:`MIN_THEMES`-:data:`MAX_THEMES` themes
(at most half as many themes as topics). With :data:`MIN_THEMES` topics or fewer every topic is its
own theme. Themes are named from their keywords like topics; theme ``-1`` holds the outliers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.types import EXCLUDED, OUTLIER, Documents, RunResult, Theme, Topic

logger = logging.getLogger(__name__)

MIN_THEMES = 5
MAX_THEMES = 20
SILHOUETTE_ROWS = 2_500
OUTLIER_THEME_NAME = "Outliers (no clear theme)"


def theme_labels(labels: np.ndarray, theme_of: dict[int, int]) -> np.ndarray:
    """The theme of each topic label (``-1`` for outliers and any label without a theme)."""
    return np.array([theme_of.get(int(t), OUTLIER) for t in labels], dtype=np.int64)


@dataclass(frozen=True)
class ThemeChoice:
    """Which theme each topic belongs to, and why."""

    theme_of: dict[int, int]
    """Topic id -> theme id (outliers: -1 -> -1)."""
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


def choose_themes(space: np.ndarray, labels: np.ndarray, *, seed: int = 42) -> ThemeChoice:
    """Group the topics of ``labels`` into themes (see module doc).

    Args:
        space: ``(n, d)`` reduced coordinates, aligned with ``labels``.
        labels: Topic id per row (``-1`` outliers).
        seed: Seed of the silhouette sample.

    Returns:
        A :class:`ThemeChoice`; theme ids are ordered by size (0 is the largest theme).
    """
    from pipeline.granularity import _silhouettes, ward_tree

    labels = np.asarray(labels, dtype=np.int64)
    topic_ids = np.array(sorted(int(t) for t in np.unique(labels) if t >= 0), dtype=np.int64)
    kept = labels >= 0
    if len(topic_ids) <= MIN_THEMES:
        theme_of = _by_size({int(t): i for i, t in enumerate(topic_ids)}, labels)
        reason = (
            f"each of the {len(topic_ids)} topics is its own theme (themes group {MIN_THEMES + 1} or more)"
        )
        return ThemeChoice(theme_of=theme_of, reason=reason, params={"n_themes": len(topic_ids)})
    position = np.searchsorted(topic_ids, labels[kept])
    top = min(MAX_THEMES, max(2, len(topic_ids) // 2))
    bottom = min(MIN_THEMES, top)
    levels = list(range(bottom, top + 1))
    cuts = ward_tree(np.asarray(space, dtype=np.float64)[kept], position, levels=levels)
    rows = np.flatnonzero(kept)
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(rows), SILHOUETTE_ROWS, replace=False) if len(rows) > SILHOUETTE_ROWS else None
    picked = np.arange(len(rows)) if sample is None else np.sort(sample)
    scores = _silhouettes(
        np.asarray(space, dtype=np.float64)[rows[picked]],
        {k: cut[position[picked]] for k, cut in cuts.items()},
    )
    if not scores:
        chosen = max(cuts)
        reason = f"{chosen} themes (the silhouette could not be computed)"
    else:
        # Ties (to two decimals) go to fewer themes: the level exists to be read at a glance.
        chosen = max(scores, key=lambda k: (round(scores[k], 2), -k))
        reason = (
            f"the Ward tree over the {len(topic_ids)} topics, cut at {chosen} themes where the silhouette "
            f"({scores[chosen]:.3f}) is best among {bottom}-{top} themes"
        )
    mapping = cuts[chosen]
    theme_of = _by_size({int(t): int(mapping[i]) for i, t in enumerate(topic_ids)}, labels)
    params = {
        "method": "Ward tree over topic centres, cut by silhouette",
        "n_themes": chosen,
        "theme_silhouette": {str(k): round(v, 4) for k, v in sorted(scores.items())},
    }
    return ThemeChoice(theme_of=theme_of, reason=reason, params=params)


def build_themes(
    documents: Documents,
    labels: np.ndarray,
    theme_of: dict[int, int],
    *,
    topics: Sequence[Topic],
    languages: Sequence[str],
    names: dict[int, str] | None = None,
    phrases: Sequence[Sequence[Sequence[str]]] | None = None,
    label_set: Any | None = None,
    keywords: dict[int, list[tuple[str, float]]] | None = None,
) -> tuple[Theme, ...]:
    """Describe every theme: size, share, keywords, name and its topics.

    Args:
        documents: The prepared documents.
        labels: Topic id per unique text (aligned with ``documents.unique_rows``).
        theme_of: Topic id -> theme id (from :func:`choose_themes`).
        topics: The run's topics (their sizes count duplicates).
        languages: Language code per row.
        names: Analyst-given theme names that override the keyword names.
        phrases: ``tokenize_many`` of the unique texts when the caller already has it.
        label_set: A :class:`~pipeline.labels.base.LabelSet` over the theme labels (names and
            keywords in the run's label language); without it themes are named from keywords.
        keywords: The themes' c-TF-IDF keywords when the caller already has them.

    Returns:
        Themes ordered by id, the outlier theme (``-1``) first when present.
    """
    from pipeline.keywords import extract_keywords, topic_name
    from pipeline.tokenize import tokenize_many

    labels = np.asarray(labels, dtype=np.int64)
    per_text = theme_labels(labels, theme_of)
    unique = documents.unique_rows
    texts = [documents.texts[i] for i in unique]
    unique_langs = [languages[i] for i in unique]
    if keywords is None:
        if phrases is None:
            phrases = tokenize_many(texts, unique_langs)
        keywords = extract_keywords(texts, per_text, languages=unique_langs, top_n=10, phrases=phrases)
    row_theme = documents.spread(per_text, EXCLUDED)
    n_with_topic = int((row_theme != EXCLUDED).sum()) or 1
    sizes = {t.id: t.size for t in topics}
    themes: list[Theme] = []
    for theme_id in sorted(set(theme_of.values())):
        member_topics = tuple(sorted(t for t, th in theme_of.items() if th == theme_id))
        size = sum(sizes.get(t, 0) for t in member_topics)
        words = tuple((w, round(float(s), 5)) for w, s in keywords.get(theme_id, []))
        if label_set is not None and label_set.keywords.get(theme_id):
            words = tuple((str(w), round(float(s), 5)) for w, s in label_set.keywords[theme_id])
        fallback = OUTLIER_THEME_NAME if theme_id == OUTLIER else f"Theme {theme_id}"
        labelled = label_set.names.get(theme_id) if label_set is not None else None
        name = (names or {}).get(theme_id) or (
            OUTLIER_THEME_NAME if theme_id == OUTLIER else labelled or topic_name(words, fallback=fallback)
        )
        themes.append(
            Theme(
                id=theme_id,
                name=name,
                size=size,
                share=round(size / n_with_topic, 6),
                keywords=words,
                topic_ids=member_topics,
            )
        )
    return tuple(themes)


def themes_after_merge(result: RunResult, merged: Sequence[int], target: int) -> RunResult:
    """Re-count the themes after topics ``merged`` became topic ``target`` (it keeps its theme).

    Themes keep their ids, names and keywords; a theme left without topics is dropped.
    """
    if not result.themes:
        return result
    gone = {int(t) for t in merged if int(t) != target}
    sizes = {t.id: t.size for t in result.topics}
    total = sum(sizes.values()) or 1
    themes = []
    for theme in result.themes:
        topic_ids = tuple(t for t in theme.topic_ids if t not in gone and t in sizes)
        if not topic_ids:
            continue
        size = sum(sizes[t] for t in topic_ids)
        themes.append(
            dataclasses.replace(theme, topic_ids=topic_ids, size=size, share=round(size / total, 6))
        )
    return dataclasses.replace(result, themes=tuple(themes))


def rename_theme(result: RunResult, theme_id: int, name: str) -> RunResult:
    """Return ``result`` with theme ``theme_id`` named ``name`` (trimmed, at most 120 characters)."""
    from pipeline.errors import ConfigError

    name = " ".join(name.split())[:120]
    if not name:
        raise ConfigError("A theme name cannot be empty.", code="theme_name")
    if theme_id not in {t.id for t in result.themes}:
        raise ConfigError(f"There is no theme {theme_id} in this run.", code="theme_id")
    themes = tuple(dataclasses.replace(t, name=name) if t.id == theme_id else t for t in result.themes)
    return dataclasses.replace(result, themes=themes)


def merge_themes(result: RunResult, theme_ids: Sequence[int], name: str | None = None) -> RunResult:
    """Merge two or more themes into the smallest of their ids: its topics are all of theirs.

    The merged theme keeps its keywords (the largest theme's when it had none) and takes ``name``
    when one is given; topics are not changed.
    """
    from pipeline.errors import ConfigError

    ids = sorted({int(t) for t in theme_ids if int(t) != OUTLIER})
    existing = {t.id: t for t in result.themes}
    missing = [t for t in ids if t not in existing]
    if len(ids) < 2:
        raise ConfigError("Choose at least two themes to merge.", code="merge_themes")
    if missing:
        raise ConfigError(f"There is no theme {missing[0]} in this run.", code="theme_id")
    target = ids[0]
    members = [existing[i] for i in ids]
    largest = max(members, key=lambda th: (th.size, -th.id))
    merged = dataclasses.replace(
        existing[target],
        name=" ".join(name.split())[:120] if name and name.strip() else existing[target].name,
        size=sum(th.size for th in members),
        share=round(sum(th.share for th in members), 6),
        keywords=existing[target].keywords or largest.keywords,
        topic_ids=tuple(sorted(t for th in members for t in th.topic_ids)),
    )
    themes = tuple(merged if th.id == target else th for th in result.themes if th.id not in ids[1:])
    return dataclasses.replace(result, themes=themes)


def _by_size(theme_of: dict[int, int], labels: np.ndarray) -> dict[int, int]:
    """Renumber themes by size (rows of their topics), 0 the largest; outliers stay -1."""
    counts = dict(zip(*np.unique(labels[labels >= 0], return_counts=True), strict=True))
    totals: dict[int, int] = {}
    for topic, theme in theme_of.items():
        totals[theme] = totals.get(theme, 0) + int(counts.get(topic, 0))
    order = sorted(totals, key=lambda th: (-totals[th], th))
    new_id = {old: i for i, old in enumerate(order)}
    out = {int(t): new_id[th] for t, th in theme_of.items()}
    if (labels < 0).any():
        out[OUTLIER] = OUTLIER
    return out
