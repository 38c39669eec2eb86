"""The dashboard's sentiment pieces: share columns for topic tables, map colours, rating agreement.

Reads only (``pipeline.sentiment.summary``); nothing here scores text.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from pipeline.sentiment.summary import (
    SHARE_COLUMNS,
    rating_agreement,
    row_columns,
    theme_shares,
    topic_shares,
)

COLOURS = {"negative": "#E15759", "neutral": "#B4BAC4", "positive": "#59A14F"}
"""Map colour of each label (red, grey, green)."""


def add_share_columns(frame: pd.DataFrame, result, *, level: str = "topic") -> list[str]:
    """Add the three share columns to a topic or theme table in place (by its ``topic_id`` or
    ``theme_id``); returns the names added (none when the run has no sentiment)."""
    shares = topic_shares(result) if level == "topic" else theme_shares(result)
    id_column = f"{level}_id"
    if not shares:
        return []
    # Right after the size share, where they are seen without scrolling.
    position = frame.columns.get_loc("share") + 1 if "share" in frame.columns else len(frame.columns)
    for offset, column in enumerate(SHARE_COLUMNS):
        values = [shares.get(int(i), {}).get(column) for i in frame[id_column]]
        frame.insert(int(position) + offset, column, values)
    return list(SHARE_COLUMNS)


def share_column_config() -> dict:
    """``st.column_config`` entries for the share columns (percent bars)."""
    return {
        column: st.column_config.ProgressColumn(
            t(f"sentiment.{column}"), format="percent", min_value=0.0, max_value=1.0, width="small"
        )
        for column in SHARE_COLUMNS
    }


def add_point_labels(points: pd.DataFrame, result) -> pd.DataFrame:
    """Map points with a ``sentiment`` column (``""`` where none), for colouring."""
    columns = row_columns(result)
    if columns is None or points.empty:
        return points
    labels = columns["sentiment"]
    return points.assign(sentiment=labels.iloc[points["row"].to_numpy()].to_numpy())


def render_rating_agreement(result) -> None:
    """A short table: per rating value, the sentiment shares and mean score (nothing without both)."""
    agreement = rating_agreement(result)
    if agreement is None:
        return
    st.subheader(t("sentiment.rating_title", column=agreement.column))
    if agreement.agreement is not None:
        st.caption(
            t(
                "sentiment.rating_line",
                agree=f"{100 * agreement.agreement:.0f}%",
                n=f"{agreement.rows_compared:,}",
                rho=f"{agreement.spearman:.2f}" if agreement.spearman is not None else "–",
            )
        )
    st.dataframe(
        agreement.table,
        hide_index=True,
        width="stretch",
        key="w_sentiment_rating",
        column_config={
            "rating": st.column_config.NumberColumn(t("role.rating"), format="%g", width="small"),
            "rows": st.column_config.NumberColumn(t("topics.col_size"), width="small"),
            **share_column_config(),
            "mean_score": st.column_config.NumberColumn(t("sentiment.mean_score"), format="%+.2f"),
        },
    )
