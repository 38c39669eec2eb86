"""Segments: topics broken down by any categorical column, and two segments compared (read-only).

* :func:`categorical_columns`: the input columns (plus the detected ``language``) that can split
  rows into segments: 2 to :data:`MAX_LEVELS` distinct values, not the text, not an id or a date.
* :func:`segment_breakdown`: topic x segment counts and shares (a row counts in every topic it
  raises, :func:`pipeline.multitopic.membership`).
* :func:`compare_segments`: segment A against segment B (or against every other row): per topic
  the share of A's rows and of B's rows in it, the index (A's share / B's share, x100), the
  two-proportion z-test and its p-value adjusted for the number of topics tested (Holm by default,
  or Benjamini-Hochberg), and ``over`` / ``under`` / ``same``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from pipeline.compare import two_proportion_test
from pipeline.errors import ConfigError, DataError
from pipeline.types import EXCLUDED, OUTLIER, RunResult

Correction = Literal["holm", "bh", "none"]

MAX_LEVELS = 50
ALPHA = 0.05
BLANK = "(blank)"
REST = "(all other rows)"
LANGUAGE = "language"
"""The virtual column of detected languages (used when the input has no column of that name)."""

SEGMENT_COLUMNS: tuple[str, ...] = (
    "topic_id",
    "name",
    "count_a",
    "share_a",
    "count_b",
    "share_b",
    "share_diff",
    "index",
    "z",
    "p_value",
    "p_adjusted",
    "significant",
    "direction",
)
"""Columns of :func:`compare_segments`."""


def segment_values(result: RunResult, column: str) -> pd.Series:
    """The segment of every row in ``column`` (stripped strings; blanks as :data:`BLANK`)."""
    if column in result.table.columns:
        values = result.table[column].astype("string").str.strip().fillna("")
    elif column == LANGUAGE:
        values = pd.Series(list(result.languages), dtype="string").fillna("")
    else:
        raise ConfigError(f"There is no column named {column!r} in this run.", code="column")
    return values.mask(values == "", BLANK).astype(str).reset_index(drop=True)


def categorical_columns(result: RunResult, *, max_levels: int = MAX_LEVELS) -> list[str]:
    """Columns that split the rows into 2..``max_levels`` segments, in file order (``language`` last)."""
    from pipeline.analysis import recognise_columns

    roles = recognise_columns(
        [str(c) for c in result.table.columns], text_column=result.documents.text_column
    )
    skip = {result.documents.text_column, roles.get("id"), roles.get("date")}
    out = []
    for column in result.table.columns:
        if column in skip:
            continue
        values = result.table[column].astype("string").str.strip()
        n_levels = values[values.notna() & (values != "")].nunique()
        if 2 <= n_levels <= max_levels and n_levels < max(len(values), 1):
            out.append(str(column))
    if LANGUAGE not in out and len({lang for lang in result.languages if lang}) >= 2:
        out.append(LANGUAGE)
    return out


def segment_breakdown(result: RunResult, *, column: str, secondary: bool = True) -> pd.DataFrame:
    """Rows of each topic in each segment.

    Returns:
        Long frame: ``topic_id``, ``name``, ``segment``, ``count`` (rows of the topic in the
        segment), ``segment_rows`` (rows with a topic in the segment), ``share`` (``count /
        segment_rows``) and ``topic_share`` (``count`` / rows of the topic); biggest topics first.
    """
    from pipeline.multitopic import membership

    values = segment_values(result, column)
    has_topic = result.row_labels() != EXCLUDED
    sizes = values[has_topic].value_counts()
    names = result.topic_names()
    records = []
    for topic, mask in membership(result, secondary=secondary).items():
        counts = values[mask & has_topic].value_counts()
        total = int(counts.sum())
        for segment, segment_rows in sizes.items():
            count = int(counts.get(segment, 0))
            records.append(
                {
                    "topic_id": int(topic),
                    "name": names.get(int(topic), str(topic)),
                    "segment": str(segment),
                    "count": count,
                    "segment_rows": int(segment_rows),
                    "share": count / int(segment_rows) if segment_rows else 0.0,
                    "topic_share": count / total if total else 0.0,
                }
            )
    frame = pd.DataFrame.from_records(
        records, columns=["topic_id", "name", "segment", "count", "segment_rows", "share", "topic_share"]
    )
    if frame.empty:
        return frame
    order = frame.groupby("topic_id")["count"].sum()
    frame["_size"] = frame["topic_id"].map(order)
    frame["_outlier"] = frame["topic_id"] == OUTLIER
    frame = frame.sort_values(
        ["_outlier", "_size", "topic_id", "segment_rows"], ascending=[True, False, True, False]
    )
    return frame.drop(columns=["_size", "_outlier"]).reset_index(drop=True)


def adjust_p_values(p_values: Sequence[float], *, method: Correction = "holm") -> np.ndarray:
    """Holm's step-down or Benjamini-Hochberg adjusted p-values (NaN stays NaN, capped at 1)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = len(valid)
    if method == "none" or not m:
        out[valid] = p[valid]
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adjusted = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    else:
        raise ConfigError(f"Unknown correction {method!r}; choose holm, bh or none.", code="correction")
    out[order] = np.minimum(adjusted, 1.0)
    return out


def compare_segments(
    result: RunResult,
    *,
    column: str,
    a: str,
    b: str | None = None,
    correction: Correction = "holm",
    alpha: float = ALPHA,
    secondary: bool = True,
) -> pd.DataFrame:
    """Which topics segment ``a`` over- or under-indexes on against segment ``b``.

    Args:
        result: The run.
        column: The segment column (see :func:`categorical_columns`).
        a: One value of the column.
        b: Another value, or ``None`` for every row not in ``a``.
        correction: Multiple-testing correction over the topics tested.
        alpha: Adjusted p-values below it are ``significant``.
        secondary: Count rows in the other topics they raise too.

    Returns:
        :data:`SEGMENT_COLUMNS`, one row per topic (outliers left out), most over-indexed first.

    Raises:
        DataError: A segment has no rows with a topic.
    """
    from pipeline.multitopic import membership

    values = segment_values(result, column)
    has_topic = result.row_labels() != EXCLUDED
    in_a = has_topic & (values == a).to_numpy()
    in_b = has_topic & ((values != a) if b is None else (values == b)).to_numpy()
    for name, mask in ((a, in_a), (REST if b is None else b, in_b)):
        if not mask.any():
            raise DataError(f"The segment {name!r} of {column!r} has no rows with a topic.", code="segment")
    n_a, n_b = int(in_a.sum()), int(in_b.sum())
    names = result.topic_names()
    records = []
    for topic, mask in sorted(membership(result, secondary=secondary).items()):
        if topic == OUTLIER:
            continue
        x_a, x_b = int((mask & in_a).sum()), int((mask & in_b).sum())
        if x_a + x_b == 0:
            z, p = math.nan, math.nan
        else:
            z, p = two_proportion_test(x_b, n_b, x_a, n_a)  # z > 0: a's share is higher
        share_a, share_b = x_a / n_a, x_b / n_b
        records.append(
            {
                "topic_id": int(topic),
                "name": names.get(int(topic), str(topic)),
                "count_a": x_a,
                "share_a": share_a,
                "count_b": x_b,
                "share_b": share_b,
                "share_diff": share_a - share_b,
                "index": 100.0 * share_a / share_b if share_b else math.nan,
                "z": z,
                "p_value": p,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(SEGMENT_COLUMNS[:10]))
    frame["p_adjusted"] = adjust_p_values(frame["p_value"].tolist(), method=correction)
    frame["significant"] = frame["p_adjusted"].fillna(1.0) < alpha
    frame["direction"] = np.where(
        ~frame["significant"], "same", np.where(frame["share_diff"] > 0, "over", "under")
    )
    frame = frame.sort_values(["share_diff", "topic_id"], ascending=[False, True]).reset_index(drop=True)
    return frame.astype({"topic_id": "int64", "count_a": "int64", "count_b": "int64", "significant": bool})


__all__ = [
    "SEGMENT_COLUMNS",
    "adjust_p_values",
    "categorical_columns",
    "compare_segments",
    "segment_breakdown",
    "segment_values",
]
