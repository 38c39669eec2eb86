"""The sentiment part of the HTML report, as plain data for the template (no HTML here)."""

from __future__ import annotations

from typing import Any

from pipeline.sentiment.summary import (
    SHARE_COLUMNS,
    overall_shares,
    rating_agreement,
    theme_shares,
    topic_shares,
)
from pipeline.types import OUTLIER, RunResult


def _bar(shares: dict[str, float]) -> dict[str, float]:
    negative, neutral, positive = (float(shares.get(c, 0.0)) for c in SHARE_COLUMNS)
    return {"negative": negative, "neutral": neutral, "positive": positive}


def report_section(result: RunResult) -> dict[str, Any] | None:
    """The report's sentiment section: overall, per topic and theme (most negative first), rating.

    Returns:
        ``None`` when the run has no sentiment; otherwise ``method``, ``reason``, ``overall`` (the
        three shares), ``topics`` and ``themes`` (``name``, ``anchor``, ``size`` and the shares) and
        ``rating`` (``column``, ``agreement``, ``rows_compared``, ``spearman``, ``rows``) or ``None``.
    """
    if result.sentiment is None:
        return None
    from pipeline.report import display_text

    topic_rows: list[dict[str, Any]] = []
    for topic_id, shares in topic_shares(result).items():
        topic = next((t for t in result.topics if t.id == topic_id), None)
        if topic is None:
            continue
        topic_rows.append(
            {
                "name": display_text(topic.name),
                "anchor": "outliers" if topic_id == OUTLIER else f"topic-{topic_id}",
                "size": int(topic.size),
                **_bar(shares),
            }
        )
    topic_rows.sort(key=lambda r: (r["anchor"] == "outliers", -r["negative"], -r["size"]))
    names = result.theme_names()
    theme_rows: list[dict[str, Any]] = [
        {
            "name": display_text(names.get(theme_id, str(theme_id))),
            "is_outlier": theme_id == OUTLIER,
            **_bar(s),
        }
        for theme_id, s in theme_shares(result).items()
    ]
    theme_rows.sort(key=lambda r: (r["is_outlier"], -r["negative"]))
    rating = rating_agreement(result)
    rating_context = None
    if rating is not None:
        rating_context = {
            "column": display_text(rating.column),
            "agreement": rating.agreement,
            "rows_compared": rating.rows_compared,
            "spearman": rating.spearman,
            "rows": [
                {
                    "rating": f"{r['rating']:g}",
                    "rows": int(r["rows"]),
                    "mean_score": float(r["mean_score"]),
                    **_bar(r),
                }
                for r in rating.table.to_dict(orient="records")
            ],
        }
    return {
        "method": result.sentiment.method,
        "reason": display_text(result.sentiment.reason),
        "overall": _bar(overall_shares(result)),
        "topics": topic_rows,
        "themes": theme_rows,
        "rating": rating_context,
    }
