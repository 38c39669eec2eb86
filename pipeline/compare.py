"""Compare periods: how each topic's share moved, whether the move is more than noise, and alerts.

Read-only (nothing here changes a run). Two ways in:

* :func:`compare_runs`: two runs that share a taxonomy (the second was run with
  ``--taxonomy`` on the first, or both on the same taxonomy), so topic ids mean the same.
* :func:`compare_periods`: one run with a date column, cut into days, weeks or months.

A share change is tested with the two-proportion z-test (pooled; two-sided p-value). An alert is
raised for a topic whose latest period's share lies beyond ``n_sd`` (2) standard deviations of
its mean over the recent periods before it; the standard deviation is never taken below the
binomial sampling error of the latest period, so a flat history does not alert on noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError, DataError
from pipeline.types import OUTLIER, RunResult

ALPHA = 0.05
"""p-values below this are marked ``significant``."""
RECENT_PERIODS = 6
N_SD = 2.0
MIN_HISTORY = 3
"""Periods before the latest one needed to compute an alert."""

COMPARE_COLUMNS: tuple[str, ...] = (
    "topic_id",
    "name",
    "origin",
    "size_before",
    "share_before",
    "size_now",
    "share_now",
    "share_change",
    "z",
    "p_value",
    "significant",
    "status",
)
ALERT_COLUMNS: tuple[str, ...] = (
    "topic_id",
    "topic",
    "period",
    "count",
    "share",
    "previous_share",
    "share_change",
    "p_value",
    "recent_mean",
    "recent_sd",
    "z_score",
    "alert",
)


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z-test of ``x1/n1`` against ``x2/n2``: ``(z, two-sided p)``.

    Returns ``(0.0, 1.0)`` when either sample is empty or both proportions are 0 or 1.
    """
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (x2 / n2 - x1 / n1) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def compare_counts(
    before: Mapping[int, int],
    n_before: int,
    now: Mapping[int, int],
    n_now: int,
    *,
    names: Mapping[int, str],
    origin: Mapping[int, str] | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Per topic: share then and now, change (share points), z, p-value and a status.

    ``status`` is ``new`` (no rows before), ``no rows`` (none now), ``up``/``down`` (significant)
    or ``stable``. Topics are ordered by their share now, biggest first.
    """
    records: list[dict[str, Any]] = []
    for topic_id in sorted(set(before) | set(now) | set(names)):
        if topic_id == OUTLIER:
            continue
        x1, x2 = int(before.get(topic_id, 0)), int(now.get(topic_id, 0))
        existed = topic_id in before
        z, p = two_proportion_test(x1, n_before, x2, n_now) if existed else (math.nan, math.nan)
        share1 = x1 / n_before if n_before else 0.0
        share2 = x2 / n_now if n_now else 0.0
        significant = bool(existed and p < alpha)
        if not existed:
            status = "new"
        elif x2 == 0:
            status = "no rows"
        elif significant:
            status = "up" if share2 > share1 else "down"
        else:
            status = "stable"
        records.append(
            {
                "topic_id": int(topic_id),
                "name": names.get(topic_id, f"Topic {topic_id}"),
                "origin": (origin or {}).get(topic_id, ""),
                "size_before": x1 if existed else pd.NA,
                "share_before": round(share1, 6) if existed else math.nan,
                "size_now": x2,
                "share_now": round(share2, 6),
                "share_change": round(share2 - share1, 6) if existed else math.nan,
                "z": round(z, 4) if existed else math.nan,
                "p_value": float(f"{p:.4g}") if existed else math.nan,
                "significant": significant,
                "status": status,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(COMPARE_COLUMNS))
    frame["size_before"] = pd.array(frame["size_before"].tolist(), dtype="Int64")
    return frame.sort_values(["share_now", "topic_id"], ascending=[False, True]).reset_index(drop=True)


def compare_runs(before: RunResult, after: RunResult, *, alpha: float = ALPHA) -> pd.DataFrame:
    """Compare two runs that share a taxonomy (see module doc); edits should be applied first.

    Raises:
        ConfigError: The runs do not share a taxonomy, so their topic ids mean different things.
    """
    if not shares_taxonomy(before, after):
        raise ConfigError(
            "These two runs do not share a taxonomy, so their topics cannot be compared. Run the "
            "newer file with --taxonomy on the older run's folder, then compare those two runs.",
            code="compare_taxonomy",
        )
    origin = {int(k): v for k, v in (after.manifest.get("taxonomy") or {}).get("origin", {}).items()}
    return compare_counts(
        _sizes(before),
        _rows_with_topic(before),
        _sizes(after),
        _rows_with_topic(after),
        names={**before.topic_names(), **after.topic_names()},
        origin=origin,
        alpha=alpha,
    )


def shares_taxonomy(before: RunResult, after: RunResult) -> bool:
    """True when ``after`` used ``before`` as taxonomy, or both used the same taxonomy."""
    tax_after = after.manifest.get("taxonomy") or {}
    tax_before = before.manifest.get("taxonomy") or {}
    if tax_after and tax_after.get("input_sha256") == before.manifest.get("input_sha256"):
        return True
    return bool(tax_after and tax_before and tax_after.get("run_id") == tax_before.get("run_id"))


def compare_periods(
    result: RunResult,
    *,
    date_column: str,
    freq: str = "M",
    recent: int = RECENT_PERIODS,
    n_sd: float = N_SD,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Alerts and latest-vs-previous tests for one run cut into periods of ``date_column``."""
    from pipeline.analysis import topic_trends

    return period_alerts(
        topic_trends(result, date_column=date_column, freq=freq),  # type: ignore[arg-type]
        recent=recent,
        n_sd=n_sd,
        alpha=alpha,
    )


def period_alerts(
    trends: pd.DataFrame, *, recent: int = RECENT_PERIODS, n_sd: float = N_SD, alpha: float = ALPHA
) -> pd.DataFrame:
    """Per topic, its latest period against the one before (z-test) and its recent history (alert).

    Args:
        trends: :func:`pipeline.analysis.topic_trends` output (``period``, ``topic_id``, ``topic``,
            ``count``, ``share``; every topic in every period).
        recent: How many periods before the latest make the history.
        n_sd: Alert when the latest share is beyond this many standard deviations of the history.
        alpha: Significance level of the latest-vs-previous test.

    Returns:
        One row per topic (outliers left out): :data:`ALERT_COLUMNS`; ``alert`` is ``up``,
        ``down`` or ``""``; history figures are NaN with fewer than :data:`MIN_HISTORY` periods.
    """
    if trends.empty:
        return pd.DataFrame(columns=list(ALERT_COLUMNS))
    periods = sorted(trends["period"].unique())
    if len(periods) < 2:
        raise DataError("Comparing periods needs at least two periods of data.", code="one_period")
    counts = trends.pivot_table(index="period", columns="topic_id", values="count", aggfunc="sum")
    counts = counts.reindex(periods).fillna(0)
    totals = counts.sum(axis=1)
    shares = counts.div(totals.replace(0, np.nan), axis=0).fillna(0.0)
    names = trends.drop_duplicates("topic_id").set_index("topic_id")["topic"]
    latest, previous = periods[-1], periods[-2]
    n_latest, n_previous = int(totals[latest]), int(totals[previous])
    history = shares.loc[periods[-1 - recent : -1]] if len(periods) > 1 else shares.iloc[0:0]
    records = []
    for topic_id in counts.columns:
        if int(topic_id) == OUTLIER:
            continue
        share = float(shares.at[latest, topic_id])
        prev = float(shares.at[previous, topic_id])
        _, p = two_proportion_test(
            int(counts.at[previous, topic_id]), n_previous, int(counts.at[latest, topic_id]), n_latest
        )
        mean = sd = z_score = math.nan
        alert = ""
        if len(history) >= MIN_HISTORY:
            values = history[topic_id].to_numpy(dtype=float)
            mean = float(values.mean())
            noise = math.sqrt(max(mean * (1 - mean), 0.0) / n_latest) if n_latest else 0.0
            sd = max(float(values.std(ddof=1)), noise)
            if sd > 0:
                z_score = (share - mean) / sd
                if abs(z_score) > n_sd:
                    alert = "up" if z_score > 0 else "down"
        records.append(
            {
                "topic_id": int(topic_id),
                "topic": names.get(topic_id, str(topic_id)),
                "period": latest,
                "count": int(counts.at[latest, topic_id]),
                "share": round(share, 6),
                "previous_share": round(prev, 6),
                "share_change": round(share - prev, 6),
                "p_value": float(f"{p:.4g}"),
                "recent_mean": round(mean, 6) if not math.isnan(mean) else math.nan,
                "recent_sd": round(sd, 6) if not math.isnan(sd) else math.nan,
                "z_score": round(z_score, 4) if not math.isnan(z_score) else math.nan,
                "alert": alert,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(ALERT_COLUMNS))
    order = frame["z_score"].abs().fillna(-1)
    return (
        frame.assign(_o=order)
        .sort_values(["_o", "topic_id"], ascending=[False, True])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


DATE_SAMPLE = 500
"""Rows read to decide whether a column holds dates."""
PLAUSIBLE_YEARS = (1900, 2200)
"""Parsed dates outside these years are not read as feedback dates (ids such as ``T-5000`` parse)."""


def find_date_column(result: RunResult) -> str | None:
    """The column of dates to cut a run into periods: one named like a date (``date``,
    ``created_at``...) when at least half of a sample reads as dates, else the column whose sample
    reads as dates most often (at least 60 %); numbers (ids, ratings) and dates outside
    :data:`PLAUSIBLE_YEARS` never count. ``None``: none."""
    from pipeline.analysis import parse_dates, recognise_columns

    text_column = result.documents.text_column
    named = recognise_columns(list(result.table.columns), text_column=text_column).get("date")
    sample = result.table.head(DATE_SAMPLE)
    best: tuple[float, str] | None = None
    for column in (str(c) for c in result.table.columns if c != text_column):
        values = sample[column].astype(str)
        values = values[values.str.strip() != ""]
        if values.empty or values.str.fullmatch(r"\s*-?\d+(\.\d+)?\s*").mean() > 0.5:
            continue
        parsed = parse_dates(values)
        share = float(parsed.dt.year.between(*PLAUSIBLE_YEARS).mean())  # "T-5000" is no date
        if column == named and share >= 0.5:
            return column
        if share >= 0.6 and (best is None or share > best[0]):
            best = (share, column)
    return best[1] if best else None


def latest_alerts(result: RunResult) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The ±2 sd alerts of a run's latest period (:func:`period_alerts`), for the report and
    ``topics.csv``: the run's date column (:func:`find_date_column`) cut into months, else weeks,
    else days, the coarsest that gives :data:`MIN_HISTORY` periods before the latest one.

    Returns:
        ``(alerts, {"date_column", "freq", "period"})``, or ``None`` when the run has no date
        column or too few periods for an alert.
    """
    from pipeline.analysis import topic_trends

    column = find_date_column(result)
    if column is None:
        return None
    for freq in ("M", "W", "D"):
        try:
            trends = topic_trends(result, date_column=column, freq=freq)  # type: ignore[arg-type]
        except (DataError, ConfigError):
            return None
        if trends["period"].nunique() >= MIN_HISTORY + 1:
            frame = period_alerts(trends)
            latest = pd.Timestamp(trends["period"].max())
            return frame, {"date_column": column, "freq": freq, "period": latest.date().isoformat()}
    return None


def taxonomy_comparison(result: RunResult) -> pd.DataFrame | None:
    """For a run made with ``--taxonomy``: each topic against the taxonomy run (else ``None``)."""
    info = result.manifest.get("taxonomy")
    if not info:
        return None
    before = {int(k): int(v) for k, v in info.get("size_before", {}).items()}
    origin = {int(k): v for k, v in info.get("origin", {}).items()}
    return compare_counts(
        before,
        int(info.get("rows_before", 0)),
        _sizes(result),
        _rows_with_topic(result),
        names=result.topic_names(),
        origin=origin,
    )


def _sizes(result: RunResult) -> dict[int, int]:
    return {t.id: int(t.size) for t in result.topics}


def _rows_with_topic(result: RunResult) -> int:
    return sum(int(t.size) for t in result.topics)
