"""Reads over a run's sentiment: per-row columns, shares per topic and theme, agreement with a rating.

Everything here is computed from ``RunResult.sentiment`` (per unique text) and the run's current topic
labels, so renamed or merged topics get their shares without scoring again. Rows count as topics
count them: duplicates take their first occurrence's sentiment, excluded rows have none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.sentiment.base import LABELS
from pipeline.types import EXCLUDED, RunResult

SHARE_COLUMNS: tuple[str, str, str] = (
    "sentiment_negative_share",
    "sentiment_neutral_share",
    "sentiment_positive_share",
)
"""Share columns of the topics and themes tables, in :data:`LABELS` order."""
NO_CODE = -9
"""Per-row code of rows without sentiment (excluded rows)."""


def row_codes(result: RunResult) -> np.ndarray | None:
    """``-1`` / ``0`` / ``1`` per input row (:data:`NO_CODE` for excluded rows), or ``None``."""
    if result.sentiment is None:
        return None
    return result.documents.spread(result.sentiment.codes.astype(np.int64), NO_CODE)


def row_columns(result: RunResult) -> dict[str, object] | None:
    """The ``sentiment`` (label, ``""`` when excluded) and ``sentiment_score`` (NaN) row columns."""
    codes = row_codes(result)
    if codes is None or result.sentiment is None:
        return None
    scores = result.documents.spread(result.sentiment.scores.astype(np.float64), np.nan)
    labels = ["" if c == NO_CODE else LABELS[int(c) + 1] for c in codes]
    return {"sentiment": pd.Series(labels, dtype=object), "sentiment_score": np.round(scores, 4)}


def group_shares(groups: Sequence[int] | np.ndarray, codes: np.ndarray) -> dict[int, dict[str, float]]:
    """For each group id (excluded rows left out), the share of negative, neutral and positive rows."""
    groups = np.asarray(groups, dtype=np.int64)
    keep = (codes != NO_CODE) & (groups != EXCLUDED)
    out: dict[int, dict[str, float]] = {}
    if not keep.any():
        return out
    frame = pd.DataFrame({"group": groups[keep], "code": codes[keep]})
    counts = pd.crosstab(frame["group"], frame["code"]).reindex(columns=[-1, 0, 1], fill_value=0)
    totals = counts.sum(axis=1)
    for group, row in counts.iterrows():
        total = int(totals[group])
        out[int(group)] = {
            column: round(float(row[code]) / total, 4)
            for column, code in zip(SHARE_COLUMNS, (-1, 0, 1), strict=True)
        }
    return out


def topic_shares(result: RunResult) -> dict[int, dict[str, float]]:
    """Topic id -> its three sentiment shares (empty when the run has no sentiment)."""
    codes = row_codes(result)
    return {} if codes is None else group_shares(result.row_labels(), codes)


def theme_shares(result: RunResult) -> dict[int, dict[str, float]]:
    """Theme id -> its three sentiment shares (empty without sentiment or themes)."""
    codes = row_codes(result)
    theme_of = result.topic_themes()
    if codes is None or not theme_of:
        return {}
    from pipeline.themes import theme_labels

    labels = result.row_labels()
    themes = np.where(labels == EXCLUDED, EXCLUDED, theme_labels(labels, theme_of))
    return group_shares(themes, codes)


def overall_shares(result: RunResult) -> dict[str, float]:
    """The three shares over every row that has sentiment (empty dict without sentiment)."""
    codes = row_codes(result)
    if codes is None:
        return {}
    return group_shares(np.zeros(len(codes), dtype=np.int64), codes).get(0, {})


@dataclass(frozen=True)
class RatingAgreement:
    """How per-row sentiment agrees with a rating column.

    Attributes:
        column: The rating column.
        table: One row per rating value: ``rating``, ``rows``, the three share columns, ``mean_score``.
        agreement: Among rows with a low or high rating (bottom or top third of the scale) that were
            called negative or positive, the share whose sign matches the rating.
        rows_compared: How many rows ``agreement`` counts.
        spearman: Rank correlation of rating and sentiment score over all rated rows.
    """

    column: str
    table: pd.DataFrame
    agreement: float | None
    rows_compared: int
    spearman: float | None


def rating_agreement(result: RunResult, *, column: str | None = None) -> RatingAgreement | None:
    """Compare sentiment with a rating column (given; else the one the run recorded in ``run.json``
    ``rating.column``; else one recognised by name).

    Returns:
        ``None`` when the run has no sentiment, no rating column, or fewer than 2 distinct ratings.
    """
    codes = row_codes(result)
    if codes is None or result.sentiment is None:
        return None
    if column is None:  # the run's own choice (run.json ``rating.column``), else by name
        column = (result.manifest.get("rating") or {}).get("column") or None
    if column is None:
        from pipeline.analysis import recognise_columns

        column = recognise_columns(
            [str(c) for c in result.table.columns], text_column=result.documents.text_column
        ).get("rating")
    if column is None or column not in result.table.columns:
        return None
    ratings = pd.to_numeric(result.table[column].astype(str).str.strip(), errors="coerce").to_numpy()
    scores = result.documents.spread(result.sentiment.scores.astype(np.float64), np.nan)
    rated = ~np.isnan(ratings) & (codes != NO_CODE)
    if len(np.unique(ratings[rated])) < 2:
        return None
    frame = pd.DataFrame({"rating": ratings[rated], "code": codes[rated], "score": scores[rated]})
    records = []
    for value, part in frame.groupby("rating", sort=True):
        shares = group_shares(np.zeros(len(part), dtype=np.int64), part["code"].to_numpy()).get(0, {})
        records.append(
            {
                "rating": float(value),
                "rows": len(part),
                **shares,
                "mean_score": round(float(part["score"].mean()), 4),
            }
        )
    table = pd.DataFrame.from_records(records, columns=["rating", "rows", *SHARE_COLUMNS, "mean_score"])
    low, high = float(frame["rating"].min()), float(frame["rating"].max())
    third = (high - low) / 3.0
    expected = np.where(frame["rating"] <= low + third, -1, np.where(frame["rating"] >= high - third, 1, 0))
    compared = (expected != 0) & (frame["code"].to_numpy() != 0)
    agreement = (
        round(float(np.mean(frame["code"].to_numpy()[compared] == expected[compared])), 4)
        if compared.any()
        else None
    )
    spearman = frame["rating"].corr(frame["score"], method="spearman")
    return RatingAgreement(
        column=str(column),
        table=table,
        agreement=agreement,
        rows_compared=int(compared.sum()),
        spearman=None if pd.isna(spearman) else round(float(spearman), 4),
    )
