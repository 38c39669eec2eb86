"""The theme level of a run, read-only: the overview table, a theme's topics, map positions.

Everything is a pure function of a :class:`~pipeline.types.RunResult`; the dashboard renders it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.themes import theme_labels
from pipeline.types import EXCLUDED, OUTLIER, RunResult

THEME_OVERVIEW_COLUMNS = ("theme_id", "name", "size", "share", "n_topics", "topics", "keywords")


def row_themes(result: RunResult) -> np.ndarray:
    """Theme id per row: ``-1`` for outliers, ``-2`` for excluded rows (all ``-1`` without themes)."""
    labels = result.row_labels()
    theme_of = result.topic_themes()
    out = theme_labels(labels, theme_of)
    out[labels == EXCLUDED] = EXCLUDED
    return out


def theme_overview(result: RunResult, *, n_keywords: int = 6) -> pd.DataFrame:
    """One row per theme, largest first (outliers last).

    Returns:
        Columns ``theme_id``, ``name``, ``size``, ``share``, ``n_topics``, ``topics`` (the topic
        names, largest first, ``" · "``-joined) and ``keywords`` (comma-joined).
    """
    sizes = {t.id: t.size for t in result.topics}
    names = result.topic_names()
    rows = []
    for theme in sorted(result.themes, key=lambda th: (th.id == OUTLIER, -th.size, th.id)):
        members = sorted(theme.topic_ids, key=lambda t: (-sizes.get(t, 0), t))
        rows.append(
            {
                "theme_id": theme.id,
                "name": theme.name,
                "size": theme.size,
                "share": theme.share,
                "n_topics": len(members),
                "topics": " · ".join(names.get(t, str(t)) for t in members),
                "keywords": ", ".join(word for word, _ in theme.keywords[:n_keywords]),
            }
        )
    return pd.DataFrame(rows, columns=list(THEME_OVERVIEW_COLUMNS))


def theme_topics(result: RunResult, theme_id: int, *, n_keywords: int = 6) -> pd.DataFrame:
    """The topics of one theme, largest first: ``topic_id``, ``name``, ``size``, ``share``, ``keywords``."""
    theme = next((th for th in result.themes if th.id == theme_id), None)
    members = set(theme.topic_ids) if theme else set()
    rows = [
        {
            "topic_id": t.id,
            "name": t.name,
            "size": t.size,
            "share": t.share,
            "keywords": ", ".join(word for word, _ in t.keywords[:n_keywords]),
        }
        for t in sorted(result.topics, key=lambda t: (-t.size, t.id))
        if t.id in members
    ]
    return pd.DataFrame(rows, columns=["topic_id", "name", "size", "share", "keywords"])


def theme_centres(result: RunResult) -> pd.DataFrame:
    """Where to write each theme's label on the map: the median of its points (outliers skipped)."""
    coords = result.reduction.map_2d
    theme_of = result.topic_themes()
    labels = theme_labels(result.clustering.labels, theme_of)
    rows = []
    for theme in result.themes:
        if theme.id == OUTLIER:
            continue
        mask = labels == theme.id
        if mask.any():
            cx, cy = np.median(coords[mask], axis=0)
            rows.append({"theme_id": theme.id, "name": theme.name, "x": float(cx), "y": float(cy)})
    return pd.DataFrame(rows, columns=["theme_id", "name", "x", "y"])
