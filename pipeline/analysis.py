"""Read-only analyses over a finished run, for the dashboard (and any notebook).

Everything here is a pure function of a :class:`~pipeline.types.RunResult` (plus small arguments):
no Streamlit, no I/O, no model loading. The dashboard only renders what these return.

* :func:`recognise_columns`: which input columns hold a date, rating, channel, language or id.
* :func:`topic_overview`, :func:`topic_texts`, :func:`topic_breakdown`: tables about topics.
* :func:`map_points`, :func:`sample_points`, :func:`rows_in_selection`, :func:`topic_mix`,
  :func:`topic_centres`: the 2-D map and its box/lasso selection (exact on every row, even
  when only a sample of the points is drawn).
* :func:`search`: semantic search with the run's own embedder (now :mod:`pipeline.search`).
* :func:`topic_trends`, :func:`growing_topics`: topic volume over time.
* :func:`apply_edits`: replay an analyst's edit log onto a run (now :mod:`pipeline.curation`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError, DataError
from pipeline.search.dense import search as search  # re-export: moved to pipeline.search
from pipeline.types import EXCLUDED, OUTLIER, RunResult

logger = logging.getLogger(__name__)

ColumnRole = Literal["date", "rating", "channel", "language", "id"]
Frequency = Literal["D", "W", "M"]

_ROLE_PATTERNS: dict[str, re.Pattern[str]] = {
    "date": re.compile(
        r"^(date|datetime|time|timestamp|created(_at|_on)?|submitted(_at)?|posted(_at)?|day|"
        r"review_date|日期|时间|创建时间|日付)$|(_date|_time|_at)$",
        re.IGNORECASE,
    ),
    "rating": re.compile(
        r"^(rating|ratings|score|stars?|nps|csat|grade|评分|星级|得分|評価)$|(_rating|_score|_stars)$",
        re.IGNORECASE,
    ),
    "channel": re.compile(
        r"^(channel|source|platform|medium|origin|store|渠道|来源|平台)$|(_channel|_source)$",
        re.IGNORECASE,
    ),
    "language": re.compile(r"^(lang|language|locale|语言|言語)$|(_lang|_language)$", re.IGNORECASE),
    "id": re.compile(r"^(id|uuid|key|ticket|ticket_id|review_id|编号)$|(_id)$", re.IGNORECASE),
}


# ------------------------------------------------------------------------------------------ columns
def recognise_columns(columns: Sequence[str], *, text_column: str | None = None) -> dict[str, str]:
    """Find the optional columns the dashboard can use, by name.

    Args:
        columns: The input's column names, in file order.
        text_column: The feedback text column, never given another role.

    Returns:
        ``role -> column`` for each role found (``date``, ``rating``, ``channel``, ``language``,
        ``id``), the first matching column winning.
    """
    found: dict[str, str] = {}
    for role, pattern in _ROLE_PATTERNS.items():
        for column in columns:
            name = str(column).strip()
            if column == text_column or column in found.values():
                continue
            if pattern.search(name):
                found[role] = column
                break
    return found


# ------------------------------------------------------------------------------------------- topics
def _texts(result: RunResult) -> pd.Series:
    """The original text per row (from the text column), as strings."""
    column = result.documents.text_column
    if column in result.table.columns:
        return result.table[column].astype(str)
    return pd.Series(result.documents.texts, dtype=str)


def topic_overview(result: RunResult, *, n_keywords: int = 6) -> pd.DataFrame:
    """One display row per topic, largest first, outliers last.

    Returns:
        Columns ``topic_id``, ``name``, ``size``, ``share``, ``keywords`` (comma-joined, best
        first) and ``languages`` (the top three as ``"en 60%"``).
    """
    rows = []
    for topic in result.topics:
        total = sum(topic.languages.values()) or 1
        langs = sorted(topic.languages.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        rows.append(
            {
                "topic_id": topic.id,
                "name": topic.name,
                "size": topic.size,
                "share": topic.share,
                "keywords": ", ".join(word for word, _ in topic.keywords[:n_keywords]),
                "languages": ", ".join(f"{code} {count / total:.0%}" for code, count in langs),
            }
        )
    frame = pd.DataFrame(rows, columns=["topic_id", "name", "size", "share", "keywords", "languages"])
    frame["_outlier"] = frame["topic_id"] == OUTLIER
    frame = frame.sort_values(["_outlier", "size", "topic_id"], ascending=[True, False, True])
    return frame.drop(columns="_outlier").reset_index(drop=True)


def run_summary(result: RunResult) -> dict[str, Any]:
    """Headline figures: rows read and analysed, topic count, outlier share, language counts."""
    labels = result.row_labels()
    has_topic = labels != EXCLUDED
    n_with_topic = int(has_topic.sum())
    languages = pd.Series([lang for lang in result.languages if lang]).value_counts()
    return {
        "rows_read": result.ledger.rows_read,
        "rows_clustered": result.ledger.rows_clustered,
        "rows_with_topic": n_with_topic,
        "n_topics": sum(1 for t in result.topics if t.id != OUTLIER),
        "outlier_share": float((labels == OUTLIER).sum() / n_with_topic) if n_with_topic else 0.0,
        "languages": {str(k): int(v) for k, v in languages.items()},
        "excluded": dict(result.ledger.excluded),
    }


def topic_texts(
    result: RunResult,
    topic_id: int,
    *,
    query: str = "",
    extra_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Every row of a topic (duplicates included), optionally filtered by a plain substring.

    Returns:
        Columns ``row``, ``text``, ``language`` and the requested extra input columns.
    """
    labels = result.row_labels()
    rows = np.flatnonzero(labels == topic_id)
    texts = _texts(result)
    frame = pd.DataFrame(
        {
            "row": rows,
            "text": texts.iloc[rows].to_numpy(),
            "language": np.asarray(result.languages, dtype=object)[rows] if len(rows) else [],
        }
    )
    for column in extra_columns:
        if column in result.table.columns and column not in frame.columns:
            frame[column] = result.table[column].iloc[rows].to_numpy()
    if query.strip():
        mask = frame["text"].str.contains(query.strip(), case=False, regex=False, na=False)
        frame = frame[mask]
    return frame.reset_index(drop=True)


def topic_examples(result: RunResult, topic_id: int) -> pd.DataFrame:
    """The topic's representative texts, best first (columns ``row``, ``text``)."""
    topic = next((t for t in result.topics if t.id == topic_id), None)
    if topic is None:
        return pd.DataFrame(columns=["row", "text"])
    texts = _texts(result)
    rows = [r for r in topic.examples if 0 <= r < len(texts)]
    return pd.DataFrame({"row": rows, "text": [texts.iloc[r] for r in rows]})


def topic_breakdown(result: RunResult, topic_id: int, *, column: str) -> pd.DataFrame:
    """How a topic splits over the values of one column, against the whole run.

    Args:
        result: The run.
        topic_id: The topic.
        column: An input column (``rating``, ``channel``...) or ``"language"`` for detected
            languages when the input has no such column.

    Returns:
        Columns ``value``, ``count`` (rows of the topic), ``share`` (of the topic) and
        ``overall_share`` (of all rows with a topic), most frequent first.
    """
    labels = result.row_labels()
    if column in result.table.columns:
        values = result.table[column].astype(str).str.strip().replace("", "(blank)")
    elif column == "language":
        values = pd.Series(result.languages, dtype=str)
    else:
        raise ConfigError(f"There is no column named {column!r} in this run.", code="column")
    has_topic = labels != EXCLUDED
    in_topic = labels == topic_id
    counts = values[in_topic].value_counts()
    overall = values[has_topic].value_counts(normalize=True)
    frame = pd.DataFrame(
        {
            "value": counts.index.astype(str),
            "count": counts.to_numpy(),
            "share": (counts / max(int(in_topic.sum()), 1)).to_numpy(),
            "overall_share": overall.reindex(counts.index).fillna(0.0).to_numpy(),
        }
    )
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- map
def map_points(result: RunResult, *, columns: Sequence[str] = ()) -> pd.DataFrame:
    """Every row that has map coordinates (clustered rows and their duplicates).

    Returns:
        Columns ``row``, ``x``, ``y``, ``topic_id``, ``topic``, ``language``, ``text``, ``theme_id``,
        ``theme`` (``-1`` / empty without themes) and the requested input columns, in row order.
    """
    coords = result.row_coords()
    labels = result.row_labels()
    rows = np.flatnonzero(np.isfinite(coords).all(axis=1))
    names = result.topic_names()
    frame = pd.DataFrame(
        {
            "row": rows,
            "x": coords[rows, 0],
            "y": coords[rows, 1],
            "topic_id": labels[rows],
            "topic": [names.get(int(t), str(t)) for t in labels[rows]],
            "language": np.asarray(result.languages, dtype=object)[rows] if len(rows) else [],
            "text": _texts(result).iloc[rows].to_numpy(),
        }
    )
    theme_of = result.topic_themes()
    theme_names = result.theme_names()
    from pipeline.themes import theme_labels

    frame["theme_id"] = theme_labels(labels[rows], theme_of)
    frame["theme"] = [theme_names.get(int(t), "") for t in frame["theme_id"]]
    for column in columns:
        if column in result.table.columns and column not in frame.columns:
            frame[column] = result.table[column].iloc[rows].to_numpy()
    return frame


def sample_points(n: int, *, max_points: int, seed: int = 0) -> np.ndarray:
    """Positions of at most ``max_points`` of ``n`` points to draw (all of them when few), sorted."""
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_points, replace=False))


def rows_in_selection(
    x: np.ndarray,
    y: np.ndarray,
    *,
    boxes: Sequence[Mapping[str, Any]] = (),
    lassos: Sequence[Mapping[str, Any]] = (),
) -> np.ndarray:
    """Which points fall inside any box or lasso of a Plotly selection event.

    Works on *all* points, so the selection stays exact when the chart draws only a sample.

    Args:
        x: Point x coordinates.
        y: Point y coordinates.
        boxes: Plotly selection boxes, each with ``x`` and ``y`` as ``[start, end]``.
        lassos: Plotly lasso paths, each with ``x`` and ``y`` vertex lists.

    Returns:
        A boolean mask over the points.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    mask = np.zeros(len(x), dtype=bool)
    for box in boxes:
        bx, by = box.get("x") or [], box.get("y") or []
        if len(bx) < 2 or len(by) < 2:
            continue
        x0, x1 = sorted(float(v) for v in bx[:2])
        y0, y1 = sorted(float(v) for v in by[:2])
        mask |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    for lasso in lassos:
        px = np.asarray(lasso.get("x") or [], dtype=float)
        py = np.asarray(lasso.get("y") or [], dtype=float)
        if len(px) >= 3 and len(px) == len(py):
            mask |= _in_polygon(x, y, px, py)
    return mask


def _in_polygon(x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Even-odd rule point-in-polygon test, vectorised over the points."""
    inside = np.zeros(len(x), dtype=bool)
    j = len(px) - 1
    for i in range(len(px)):
        xi, yi, xj, yj = px[i], py[i], px[j], py[j]
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = (xj - xi) * (y - yi) / (yj - yi) + xi
        inside ^= crosses & (x < x_cross)
        j = i
    return inside


def topic_mix(result: RunResult, rows: Sequence[int] | np.ndarray) -> pd.DataFrame:
    """Topic counts among some rows (columns ``topic_id``, ``topic``, ``count``, ``share``)."""
    rows = np.asarray(rows, dtype=np.int64)
    labels = result.row_labels()[rows] if len(rows) else np.array([], dtype=np.int64)
    labels = labels[labels != EXCLUDED]
    names = result.topic_names()
    counts = pd.Series(labels).value_counts()
    total = max(int(counts.sum()), 1)
    return pd.DataFrame(
        {
            "topic_id": counts.index.astype(int),
            "topic": [names.get(int(t), str(t)) for t in counts.index],
            "count": counts.to_numpy(dtype=int),
            "share": (counts.to_numpy() / total).astype(float),
        }
    )


def topic_centres(result: RunResult) -> pd.DataFrame:
    """Where to write each topic's label on the map: the median of its points (outliers skipped)."""
    coords = result.reduction.map_2d
    labels = result.clustering.labels
    names = result.topic_names()
    rows = []
    for topic in result.topics:
        if topic.id == OUTLIER:
            continue
        mask = labels == topic.id
        if mask.any():
            cx, cy = np.median(coords[mask], axis=0)
            rows.append({"topic_id": topic.id, "name": names[topic.id], "x": float(cx), "y": float(cy)})
    return pd.DataFrame(rows, columns=["topic_id", "name", "x", "y"])


# ------------------------------------------------------------------------------------------- search
# search() moved to pipeline.search.dense (re-exported above for one release).


# ------------------------------------------------------------------------------------------- trends
def parse_dates(values: pd.Series) -> pd.Series:
    """Parse a text column of dates (mixed formats allowed); unparseable cells become ``NaT``."""
    text = values.astype(str).str.strip().replace("", np.nan)
    try:
        parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    except (TypeError, ValueError):
        parsed = pd.to_datetime(text, errors="coerce", utc=True)
    return parsed.dt.tz_localize(None)


def topic_trends(result: RunResult, *, date_column: str, freq: Frequency = "W") -> pd.DataFrame:
    """Topic volume per period.

    Args:
        result: The run.
        date_column: Input column holding dates.
        freq: ``"D"`` (day), ``"W"`` (week) or ``"M"`` (month).

    Returns:
        A long frame with ``period`` (period start), ``topic_id``, ``topic``, ``count`` and
        ``share`` (of all rows with a topic in that period); every topic appears in every period.

    Raises:
        DataError: When the column is missing or holds no parseable dates.
    """
    if date_column not in result.table.columns:
        raise DataError(f"There is no column named {date_column!r} in this run.", code="column")
    if freq not in ("D", "W", "M"):
        raise ConfigError("freq must be D, W or M.", code="freq")
    dates = parse_dates(result.table[date_column])
    labels = result.row_labels()
    keep = (labels != EXCLUDED) & dates.notna().to_numpy()
    if not keep.any():
        raise DataError(
            f"The column {date_column!r} holds no dates that could be read; choose another column.",
            code="no_dates",
        )
    periods = dates[keep].dt.to_period(freq).dt.start_time
    frame = pd.DataFrame({"period": periods.to_numpy(), "topic_id": labels[keep]})
    counts = frame.groupby(["period", "topic_id"]).size().unstack(fill_value=0)
    full_index = pd.period_range(counts.index.min(), counts.index.max(), freq=freq).start_time
    counts = counts.reindex(full_index, fill_value=0)
    totals = counts.sum(axis=1).replace(0, np.nan)
    shares = counts.div(totals, axis=0).fillna(0.0)
    names = result.topic_names()
    long = counts.stack().rename("count").to_frame()
    long["share"] = shares.stack()
    long = long.reset_index()
    long.columns = ["period", "topic_id", "count", "share"]
    long["topic_id"] = long["topic_id"].astype(int)
    long["topic"] = [names.get(int(t), str(t)) for t in long["topic_id"]]
    return long[["period", "topic_id", "topic", "count", "share"]]


def growing_topics(
    trends: pd.DataFrame, *, top_n: int = 3, min_count: int = 3, window: int | None = None
) -> pd.DataFrame:
    """Topics whose share grew most in the latest stretch of time compared with the one before.

    The latest ``window`` periods are compared with the ``window`` periods before them (by
    default about a month: 4 weeks, 28 days or 1 month, fewer when the data is short), so one
    noisy week does not hide a topic that has been growing for a month. A last period with under
    a quarter of the median period's volume is taken as incomplete (the export ended mid-week)
    and left out, when there are at least three periods.

    Args:
        trends: The output of :func:`topic_trends`.
        top_n: How many topics to return.
        min_count: Ignore topics with fewer rows than this in the latest stretch.
        window: Periods per stretch; ``None`` picks about a month.

    Returns:
        Columns ``topic_id``, ``topic``, ``period`` (first period of the latest stretch),
        ``latest_count``, ``previous_count``, ``latest_share``, ``previous_share``, ``change``
        (share points), largest growth first; empty with fewer than two periods.
    """
    periods = sorted(trends["period"].unique()) if len(trends) else []
    columns = [
        "topic_id",
        "topic",
        "period",
        "latest_count",
        "previous_count",
        "latest_share",
        "previous_share",
        "change",
    ]
    if len(periods) >= 3:
        totals = trends.groupby("period")["count"].sum()
        if totals[periods[-1]] < 0.25 * float(totals.median()):
            periods = periods[:-1]
    if window is None:
        step_days = (
            float(np.median(np.diff(np.asarray(periods, dtype="datetime64[D]")).astype(float)))
            if len(periods) > 1
            else 30.0
        )
        window = 28 if step_days <= 1 else 4 if step_days <= 7 else 1
    window = min(window, len(periods) // 2)
    if window < 1:
        return pd.DataFrame(columns=columns)
    latest_periods, previous_periods = periods[-window:], periods[-2 * window : -window]

    def stretch(selected: list[Any]) -> tuple[pd.Series, pd.Series]:
        rows = trends[trends["period"].isin(selected)]
        counts = rows.groupby("topic_id")["count"].sum()
        return counts, counts / max(int(counts.sum()), 1)

    latest_counts, latest_shares = stretch(latest_periods)
    previous_counts, previous_shares = stretch(previous_periods)
    names = trends.drop_duplicates("topic_id").set_index("topic_id")["topic"]
    frame = pd.DataFrame(
        {
            "topic": names.reindex(latest_counts.index),
            "latest_count": latest_counts,
            "previous_count": previous_counts.reindex(latest_counts.index).fillna(0).astype(int),
            "latest_share": latest_shares,
            "previous_share": previous_shares.reindex(latest_counts.index).fillna(0.0),
        }
    )
    frame["change"] = frame["latest_share"] - frame["previous_share"]
    frame["period"] = latest_periods[0]
    frame.index.name = "topic_id"
    frame = frame[(frame.index != OUTLIER) & (frame["latest_count"] >= min_count) & (frame["change"] > 0)]
    frame = frame.sort_values(["change", "latest_count"], ascending=False).head(top_n)
    return frame.reset_index()[columns]


# -------------------------------------------------------------------------------------------- edits
from pipeline.curation.apply import apply_edits as apply_edits  # noqa: E402  (moved to pipeline.curation)
