"""Rating drivers: which topics pull the score down, and by how much (read-only).

With a rating column (stars, CSAT, a 0-10 NPS answer), for each topic:

* ``rating_mean``: the score of the topic's rows, with a confidence interval (``rating_ci_low``,
  ``rating_ci_high``), against ``rating_mean_rest``, the score of all other rated rows;
* ``rating_impact``: how much the overall score would change without the topic's *complaints*
  (its rows rated below neutral), in the score's own unit. A topic of many angry rows has a large
  positive impact: fixing it would lift the score most. Topics are ranked by it.

Scores. On a ``mean`` scale the score is the mean rating; neutral is the middle of the scale (3 on
1-5) and complaints are the rows below it. On the ``nps`` scale (0-10) each row counts +100 when it
is a promoter (9-10), 0 when passive (7-8) and -100 when a detractor (0-6), so the mean of those is
the Net Promoter Score (% promoters - % detractors); complaints are the detractors.

Confidence intervals are Student-t intervals on the per-row scores (for NPS this is the usual
normal interval of a difference of two proportions from one multinomial sample, with a t
quantile), or, with ``method="bootstrap"``, seeded percentile bootstrap intervals. ``rating_p_value``
is Welch's t-test of the topic against the rest.

A row counts in every topic it raises (:func:`pipeline.multitopic.membership`). Outliers count in
the overall score and in "the rest", but get no driver row.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from pipeline.errors import DataError
from pipeline.types import EXCLUDED, OUTLIER, RunResult

logger = logging.getLogger(__name__)

ScaleKind = Literal["mean", "nps"]
CIMethod = Literal["t", "bootstrap"]

CONFIDENCE = 0.95
N_BOOTSTRAP = 2000
MIN_RATED = 5
"""Rated rows a column needs before drivers are computed."""
MIN_NUMERIC_SHARE = 0.8
"""Share of non-blank cells that must read as numbers for a column to be a rating column."""

DRIVER_COLUMNS: tuple[str, ...] = (
    "topic_id",
    "name",
    "rating_n",
    "rating_mean",
    "rating_ci_low",
    "rating_ci_high",
    "rating_mean_rest",
    "rating_diff",
    "rating_p_value",
    "rating_complaints",
    "rating_impact",
    "rank",
)
"""Columns of :func:`rating_drivers` (``rank`` 1 = the largest impact)."""
TOPIC_DRIVER_COLUMNS: tuple[str, ...] = (
    "rating_mean",
    "rating_mean_rest",
    "rating_ci_low",
    "rating_ci_high",
    "rating_impact",
)
"""The driver columns ``topics.csv`` carries."""

_SCALE_TOPS = (5.0, 7.0, 10.0, 100.0)


@dataclass(frozen=True)
class RatingScale:
    """How a rating column is scored.

    Attributes:
        kind: ``mean`` (the mean rating) or ``nps`` (promoters - detractors, in points).
        low, high: The scale's ends.
        neutral: Ratings below it are complaints (``mean``); for ``nps``, 7 (detractors are 0-6).
        reason: Why this scale, for the analyst.
    """

    kind: ScaleKind
    low: float
    high: float
    neutral: float
    reason: str

    @property
    def unit(self) -> str:
        return "NPS points" if self.kind == "nps" else "rating points"


@dataclass(frozen=True)
class Drivers:
    """The result of :func:`rating_drivers`.

    Attributes:
        column: The rating column.
        scale: How it was scored.
        overall: The overall score over every rated row with a topic (outliers included).
        overall_ci: Its confidence interval.
        n_rated: Rows with a rating and a topic.
        n_unreadable: Non-blank cells that are not a rating on the scale (left out).
        frame: One row per topic, :data:`DRIVER_COLUMNS`, ranked by ``rating_impact``.
    """

    column: str
    scale: RatingScale
    overall: float
    overall_ci: tuple[float, float]
    n_rated: int
    n_unreadable: int
    frame: pd.DataFrame


# ------------------------------------------------------------------------------------------ columns
def rating_numbers(values: pd.Series) -> pd.Series:
    """Cells as floats (``"4"``, ``" 4.5 "``, ``"4,5"``); blank or unreadable cells become NaN."""
    text = values.astype("string").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _is_numeric_column(values: pd.Series) -> bool:
    text = values.astype("string").str.strip()
    filled = text[text.notna() & (text != "")]
    if len(filled) < MIN_RATED:
        return False
    numbers = rating_numbers(filled)
    readable = numbers.notna().mean() >= MIN_NUMERIC_SHARE
    return bool(readable and (numbers.dropna() >= 0).mean() >= MIN_NUMERIC_SHARE)


def detect_rating_column(table: pd.DataFrame, *, text_column: str | None = None) -> tuple[str | None, str]:
    """The column that holds ratings, by name (``rating``, ``stars``, ``nps``, ``csat``...) and content.

    Returns:
        ``(column or None, reason)``.
    """
    from pipeline.analysis import recognise_columns

    columns = [str(c) for c in table.columns]
    named = recognise_columns(columns, text_column=text_column).get("rating")
    candidates = [named] if named else []
    from pipeline.analysis import _ROLE_PATTERNS  # the one list of rating-like names

    candidates += [
        c for c in columns if c not in candidates and c != text_column and _ROLE_PATTERNS["rating"].search(c)
    ]
    for column in candidates:
        if column is not None and _is_numeric_column(table[column]):
            return column, f"detected by its name {column!r} and numeric values"
    return None, "no column named like a rating (rating, score, stars, nps, csat...) holds numbers"


def infer_scale(values: np.ndarray, *, column: str = "", kind: str = "auto") -> RatingScale:
    """The scale of a column's ratings (``kind``: ``auto``, ``mean`` or ``nps``).

    ``auto`` picks ``nps`` when the column is named like NPS (``nps``, ``recommend``) and every value
    is a whole number from 0 to 10; otherwise ``mean`` on 0/1 to the smallest of 5, 7, 10, 100 that
    holds the largest value.
    """
    finite = values[np.isfinite(values) & (values >= 0)]  # negative values (-1 = "none") are no rating
    if not len(finite):
        raise DataError(f"The column {column!r} holds no ratings.", code="no_ratings")
    top = float(finite.max())
    whole = bool(np.all(finite == np.round(finite)))
    nps_named = any(word in column.lower() for word in ("nps", "recommend", "promoter"))
    if kind == "nps" or (kind == "auto" and nps_named and whole and top <= 10 and finite.min() >= 0):
        why = "chosen" if kind == "nps" else f"the column {column!r} is named like NPS and holds 0-10"
        return RatingScale("nps", 0.0, 10.0, 7.0, f"Net Promoter Score: {why}")
    low = 0.0 if finite.min() < 1 else 1.0
    high = next((t for t in _SCALE_TOPS if top <= t), top)
    neutral = (low + high) / 2
    return RatingScale(
        "mean", low, high, neutral, f"Mean rating on {low:g}-{high:g}; below {neutral:g} is a complaint"
    )


def row_scores(values: np.ndarray, scale: RatingScale) -> np.ndarray:
    """Per-row score: the rating (``mean``) or +100 / 0 / -100 (``nps``); NaN off the scale."""
    out = np.where((values >= scale.low) & (values <= scale.high), values, np.nan)
    if scale.kind == "nps":
        out = np.where(np.isnan(out), np.nan, np.where(out >= 9, 100.0, np.where(out >= 7, 0.0, -100.0)))
    return out


# ---------------------------------------------------------------------------------------- intervals
def t_interval(scores: np.ndarray, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t interval of the mean (NaN bounds for fewer than two values)."""
    from scipy import stats

    n = len(scores)
    if n < 2:
        return math.nan, math.nan
    mean = float(scores.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * float(scores.std(ddof=1)) / math.sqrt(n)
    return mean - half, mean + half


def bootstrap_interval(
    scores: np.ndarray, *, confidence: float = CONFIDENCE, n_boot: int = N_BOOTSTRAP, seed: int = 0
) -> tuple[float, float]:
    """Seeded percentile bootstrap interval of the mean."""
    n = len(scores)
    if n < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = scores[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def welch_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Welch t-test p-value (NaN when either side has fewer than two values or no spread)."""
    from scipy import stats

    if len(a) < 2 or len(b) < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return math.nan
    with warnings.catch_warnings():  # near-constant samples: scipy warns, the p-value is still right
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


# ------------------------------------------------------------------------------------------ drivers
def rating_drivers(
    result: RunResult,
    *,
    column: str,
    scale: str = "auto",
    method: CIMethod = "t",
    confidence: float = CONFIDENCE,
    seed: int = 0,
    masks: Mapping[int, np.ndarray] | None = None,
) -> Drivers:
    """Each topic's score against the rest, with a confidence interval and its impact, ranked.

    Args:
        result: The run.
        column: The rating column of the input.
        scale: ``auto``, ``mean`` or ``nps`` (see :func:`infer_scale`).
        method: ``t`` intervals, or seeded ``bootstrap`` ones.
        confidence: The intervals' level.
        seed: Bootstrap seed (each topic draws from ``seed + topic position``).
        masks: Topic id -> row mask; defaults to :func:`pipeline.multitopic.membership`.

    Returns:
        :class:`Drivers`.

    Raises:
        DataError: The column is missing or has fewer than :data:`MIN_RATED` ratings.
    """
    from pipeline.multitopic import membership

    if column not in result.table.columns:
        raise DataError(f"There is no column named {column!r} in this run.", code="column")
    values = rating_numbers(result.table[column]).to_numpy(dtype=float)
    labels = result.row_labels()
    has_topic = labels != EXCLUDED
    rating_scale = infer_scale(values[has_topic], column=column, kind=scale)
    scores = row_scores(values, rating_scale)
    blank = result.table[column].astype("string").str.strip().fillna("").to_numpy() == ""
    rated = has_topic & np.isfinite(scores)
    n_unreadable = int((has_topic & ~blank & ~np.isfinite(scores)).sum())
    if int(rated.sum()) < MIN_RATED:
        raise DataError(
            f"The column {column!r} has only {int(rated.sum())} ratings; at least {MIN_RATED} are needed.",
            code="no_ratings",
        )
    complaint = rated & (values < rating_scale.neutral)
    overall_scores = scores[rated]
    overall = float(overall_scores.mean())

    def interval(sample: np.ndarray, k: int) -> tuple[float, float]:
        if method == "bootstrap":
            return bootstrap_interval(sample, confidence=confidence, seed=seed + k)
        return t_interval(sample, confidence=confidence)

    masks = masks if masks is not None else membership(result)
    names = result.topic_names()
    records = []
    for k, (topic, mask) in enumerate(sorted(masks.items())):
        if topic == OUTLIER:
            continue
        inside = rated & mask
        n_in = int(inside.sum())
        mine, rest = scores[inside], scores[rated & ~mask]
        low, high = interval(mine, k + 1) if n_in else (math.nan, math.nan)
        without = rated & ~(complaint & mask)
        impact = float(scores[without].mean()) - overall if without.any() else math.nan
        records.append(
            {
                "topic_id": topic,
                "name": names.get(topic, str(topic)),
                "rating_n": n_in,
                "rating_mean": float(mine.mean()) if n_in else math.nan,
                "rating_ci_low": low,
                "rating_ci_high": high,
                "rating_mean_rest": float(rest.mean()) if len(rest) else math.nan,
                "rating_diff": (float(mine.mean()) - float(rest.mean())) if n_in and len(rest) else math.nan,
                "rating_p_value": welch_p_value(mine, rest),
                "rating_complaints": int((complaint & mask).sum()),
                "rating_impact": impact,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(DRIVER_COLUMNS[:-1]))
    frame = frame.sort_values(["rating_impact", "rating_n", "topic_id"], ascending=[False, False, True])
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame = frame.astype({"topic_id": "int64", "rating_n": "int64", "rating_complaints": "int64"})
    return Drivers(
        column=column,
        scale=rating_scale,
        overall=overall,
        overall_ci=interval(overall_scores, 0),
        n_rated=int(rated.sum()),
        n_unreadable=n_unreadable,
        frame=frame.reset_index(drop=True),
    )


def rating_column_for(result: RunResult) -> tuple[str | None, str]:
    """The run's rating column: the one chosen at run time (``run.json`` ``rating``), else detected."""
    info = result.manifest.get("rating") or {}
    chosen = info.get("column") if isinstance(info, Mapping) else None
    if chosen and chosen in result.table.columns:
        return str(chosen), str(info.get("reason") or "chosen")
    return detect_rating_column(result.table, text_column=result.documents.text_column)


def run_drivers(result: RunResult) -> Drivers | None:
    """Drivers over the run's rating column (:func:`rating_column_for`), or ``None`` without one."""
    column, _ = rating_column_for(result)
    if column is None:
        return None
    info = result.manifest.get("rating") or {}
    scale = str(info.get("scale") or "auto") if isinstance(info, Mapping) else "auto"
    try:
        return rating_drivers(result, column=column, scale=scale if scale in ("nps", "mean") else "auto")
    except DataError as exc:
        logger.info("no drivers: %s", exc.user_message)
        return None


def add_topic_columns(result: RunResult, records: list[dict[str, object]]) -> None:
    """Fill :data:`TOPIC_DRIVER_COLUMNS` into ``topics.csv`` records (NaN without a rating column)."""
    drivers = run_drivers(result)
    by_id = drivers.frame.set_index("topic_id") if drivers is not None else None
    for record in records:
        topic_id = int(str(record["topic_id"]))
        row = by_id.loc[topic_id] if by_id is not None and topic_id in by_id.index else None
        for name in TOPIC_DRIVER_COLUMNS:
            record[name] = round(float(row[name]), 4) if row is not None else math.nan


def rating_info(
    table: pd.DataFrame, *, text_column: str | None, column: str | None, scale: str
) -> dict[str, object]:
    """``run.json`` ``rating``: the rating column (chosen or detected), why, and the scale asked for.

    Raises:
        ConfigError: A chosen column is not in the file.
    """
    from pipeline.errors import ConfigError

    if column:
        if column not in table.columns:
            names = ", ".join(str(c) for c in table.columns[:20])
            raise ConfigError(
                f"There is no column named {column!r} for the ratings. The file's columns: {names}.",
                code="rating_column",
            )
        return {"column": column, "reason": "chosen by the user", "scale": scale}
    found, reason = detect_rating_column(table, text_column=text_column)
    return {"column": found, "reason": reason, "scale": scale}


__all__ = [
    "DRIVER_COLUMNS",
    "TOPIC_DRIVER_COLUMNS",
    "Drivers",
    "RatingScale",
    "add_topic_columns",
    "bootstrap_interval",
    "detect_rating_column",
    "infer_scale",
    "rating_column_for",
    "rating_drivers",
    "rating_info",
    "row_scores",
    "run_drivers",
    "t_interval",
]
