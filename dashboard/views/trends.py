"""Trends page: topic volume over time (absolute and share) and the fastest-growing topics."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import state, ui
from dashboard.i18n import t
from pipeline import analysis, compare
from pipeline.types import OUTLIER

FREQS = ("D", "W", "M")


@st.cache_data(scope="session", max_entries=8, show_spinner=False)
def _trends(run_id: str, version: str, column: str, freq: str, _result):
    return analysis.topic_trends(_result, date_column=column, freq=freq)


def _chart(trends, measure: str, top: int):
    import plotly.graph_objects as go

    totals = (
        trends[trends["topic_id"] != OUTLIER].groupby("topic_id")["count"].sum().sort_values(ascending=False)
    )
    keep = list(totals.index[:top])
    fig = go.Figure()
    for position, topic_id in enumerate(keep):
        sub = trends[trends["topic_id"] == topic_id]
        fig.add_trace(
            go.Scatter(
                x=sub["period"],
                y=sub[measure],
                mode="lines",
                stackgroup="one" if measure == "count" else None,
                line={"width": 2, "color": ui.PALETTE[position % len(ui.PALETTE)]},
                name=ui.plot_escape(sub["topic"].iloc[0], limit=40),
                hovertemplate="%{x|%Y-%m-%d}: %{y"
                + (":.1%" if measure == "share" else ":,")
                + "}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        height=460,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        yaxis={"tickformat": ".0%" if measure == "share" else ",", "title": t(f"trends.{measure}")},
        legend={"font": {"size": 11}},
        hovermode="x unified",
    )
    return fig


def render() -> None:
    ui.header("trends")
    result = ui.require_result()
    current = state.open_run()
    _taxonomy_comparison(result)
    columns = [str(c) for c in result.table.columns if c != result.documents.text_column]
    if not columns:
        st.info(t("trends.no_date"))
        return
    default = compare.find_date_column(result)
    if default is None:
        st.info(t("trends.no_date"), icon=":material/event_busy:")
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
    column = c1.selectbox(
        t("trends.date_column"),
        columns,
        index=columns.index(default) if default in columns else None,
        placeholder=t("trends.pick_date"),
        key="w_date_col",
    )
    if column is None:
        return
    freq = c2.segmented_control(
        t("trends.freq"),
        FREQS,
        default="W",
        required=True,
        key="w_freq",
        format_func=lambda f: t(f"trends.freq.{f}"),
    )
    measure = c3.segmented_control(
        t("trends.measure"),
        ["count", "share"],
        default="count",
        required=True,
        key="w_measure",
        format_func=lambda m: t(f"trends.{m}"),
    )
    top = int(c4.number_input(t("trends.top"), 1, 30, 8, key="w_top_n"))
    try:
        trends = _trends(current.run_id, current.version, column, freq, result)
    except Exception as exc:
        if getattr(exc, "code", "") in ("no_dates", "column"):  # in the interface language
            st.error(
                t("trends.not_dates", column=ui.md_escape(column, limit=60)), icon=":material/event_busy:"
            )
        else:
            ui.show_error(exc)
        return
    growing = analysis.growing_topics(trends, top_n=3)
    if not growing.empty:
        latest = pd.Timestamp(growing["period"].iloc[0])
        st.markdown(f"**{t('trends.growing_title', period=f'{latest:%Y-%m-%d}')}**")
        cols = st.columns(len(growing))
        for col, (_, row) in zip(cols, growing.iterrows(), strict=True):
            col.metric(
                t("trends.topic_n", id=int(row["topic_id"])),
                ui.fmt_pct(row["latest_share"]),
                delta=f"{100 * row['change']:+.1f} pp",
                help=t("trends.growing_help", prev=int(row["previous_count"]), now=int(row["latest_count"])),
            )
            col.text(str(row["topic"]))
    else:
        st.caption(t("trends.no_growth"))
    _alerts(trends)
    st.plotly_chart(_chart(trends, measure, top), width="stretch", config={"displaylogo": False})
    with st.expander(t("trends.table"), icon=":material/table:"):
        wide = trends.pivot_table(index="period", columns="topic", values=measure, aggfunc="sum")
        st.dataframe(wide, width="stretch")


def _alerts(trends) -> None:
    """Topics whose latest period is beyond 2 sd of their recent mean (pipeline.compare)."""
    from pipeline import compare

    try:
        frame = compare.period_alerts(trends)
    except Exception:  # one period only: nothing to compare
        return
    alerts = frame[frame["alert"] != ""]
    with st.expander(
        t("trends.alerts", n=len(alerts)), icon=":material/notifications:", expanded=bool(len(alerts))
    ):
        st.caption(t("trends.alerts_help"))
        st.dataframe(frame, width="stretch", hide_index=True)


def _taxonomy_comparison(result) -> None:
    """A run made with the topics of an earlier run: each topic's share then and now."""
    from pipeline import compare

    frame = compare.taxonomy_comparison(result)
    if frame is None:
        return
    run_id = (result.manifest.get("taxonomy") or {}).get("run_id", "")
    st.markdown(f"**{t('trends.taxonomy_title', run=ui.md_escape(str(run_id), limit=80))}**")
    st.caption(t("trends.taxonomy_help"))
    st.dataframe(frame, width="stretch", hide_index=True)


render()
