"""Drivers page: which topics pull the rating down (mean or NPS, with intervals), and segments
compared side by side (which topics a country, product or channel over- or under-indexes on)."""

from __future__ import annotations

import streamlit as st

from dashboard import state, ui
from dashboard.i18n import t
from pipeline.explore import drivers as drv
from pipeline.explore import segments as seg

SCALES = ("auto", "mean", "nps")
CORRECTIONS = ("holm", "bh")
MAX_CHART_TOPICS = 25
PAIN, GAIN = "#E15759", "#59A14F"  # impact bars: complaints pulling the score down, and the rest


@st.cache_data(scope="session", max_entries=8, show_spinner=False)
def _drivers(run_id: str, version: str, column: str, scale: str, _result):
    return drv.rating_drivers(_result, column=column, scale=scale)


@st.cache_data(scope="session", max_entries=8, show_spinner=False)
def _compare(run_id: str, version: str, column: str, a: str, b: str | None, correction: str, _result):
    return seg.compare_segments(_result, column=column, a=a, b=b, correction=correction)  # type: ignore[arg-type]


@st.cache_data(scope="session", max_entries=8, show_spinner=False)
def _segment_choices(run_id: str, version: str, _result) -> dict[str, list[str]]:
    """Column -> its values, most frequent first (every categorical column of the run)."""
    return {
        column: [str(v) for v in seg.segment_values(_result, column).value_counts().index]
        for column in seg.categorical_columns(_result)
    }


def _impact_chart(result, found):
    """Slide-ready: each topic's impact on the overall score (bars) beside its score with CI (dots)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    frame = found.frame.head(MAX_CHART_TOPICS)
    labels = [ui.plot_escape(f"{int(r.topic_id)} · {r.name}", limit=40) for r in frame.itertuples()]
    unit = t(f"drivers.unit.{found.scale.kind}")
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.03,
        subplot_titles=(t("drivers.chart_impact", unit=unit), t("drivers.chart_score", unit=unit)),
    )
    fig.add_trace(
        go.Bar(
            x=frame["rating_impact"],
            y=labels,
            orientation="h",
            marker={"color": [PAIN if v > 0 else GAIN for v in frame["rating_impact"]]},
            text=[f"{v:+.2f}" for v in frame["rating_impact"]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:+.3f}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=frame["rating_mean"],
            y=labels,
            mode="markers",
            marker={"size": 9, "color": ui.PALETTE[0]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": frame["rating_ci_high"] - frame["rating_mean"],
                "arrayminus": frame["rating_mean"] - frame["rating_ci_low"],
            },
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.add_vline(x=found.overall, line_dash="dash", line_color="#888", row=1, col=2)  # type: ignore[arg-type]
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(height=120 + 28 * len(frame), margin={"l": 0, "r": 10, "t": 40, "b": 10})
    return fig


def _drivers_section(result) -> None:
    current = state.open_run()
    default, reason = drv.rating_column_for(result)
    columns = [str(c) for c in result.table.columns if c != result.documents.text_column]
    c1, c2 = st.columns([3, 2])
    column = c1.selectbox(
        t("drivers.rating_column"),
        columns,
        index=columns.index(default) if default in columns else None,
        placeholder=t("drivers.pick_rating"),
        key="w_rating_col",
        help=ui.md_escape(reason, limit=200) if default else None,
    )
    scale = c2.segmented_control(
        t("drivers.scale"),
        SCALES,
        default="auto",
        required=True,
        key="w_rating_scale",
        format_func=lambda s: t(f"drivers.scale.{s}"),
    )
    if column is None:
        st.info(t("drivers.no_rating"), icon=":material/star_half:")
        return
    try:
        found = _drivers(current.run_id, current.version, column, scale, result)
    except Exception as exc:
        if getattr(exc, "code", "") in ("no_ratings", "column"):
            st.error(
                t("drivers.not_ratings", column=ui.md_escape(column, limit=60)), icon=":material/star_half:"
            )
        else:
            ui.show_error(exc)
        return
    unit = t(f"drivers.unit.{found.scale.kind}")
    m1, m2, m3 = st.columns(3)
    m1.metric(t(f"drivers.overall.{found.scale.kind}"), f"{found.overall:.2f}")
    low, high = found.overall_ci
    m2.metric(t("drivers.overall_ci"), f"{low:.2f} – {high:.2f}")
    m3.metric(t("drivers.rated"), ui.fmt_int(found.n_rated))
    st.caption(t("drivers.how", scale=ui.md_escape(found.scale.reason, limit=200), unit=unit))
    if found.n_unreadable:
        st.caption(t("drivers.unreadable", n=found.n_unreadable))
    if found.frame.empty:
        return
    st.plotly_chart(_impact_chart(result, found), width="stretch", config={"displaylogo": False})
    st.dataframe(
        found.frame,
        hide_index=True,
        width="stretch",
        column_config={
            "rating_mean": st.column_config.NumberColumn(t("drivers.col_mean"), format="%.2f"),
            "rating_mean_rest": st.column_config.NumberColumn(t("drivers.col_rest"), format="%.2f"),
            "rating_ci_low": st.column_config.NumberColumn(format="%.2f"),
            "rating_ci_high": st.column_config.NumberColumn(format="%.2f"),
            "rating_impact": st.column_config.NumberColumn(t("drivers.col_impact"), format="%+.3f"),
            "rating_p_value": st.column_config.NumberColumn(format="%.3g"),
        },
    )


def _segments_section(result) -> None:
    current = state.open_run()
    st.subheader(t("drivers.segments"))
    st.caption(t("drivers.segments_help"))
    choices = _segment_choices(current.run_id, current.version, result)
    columns = list(choices)
    if not columns:
        st.info(t("drivers.no_segments"), icon=":material/splitscreen:")
        return
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
    rating, _ = drv.rating_column_for(result)
    first = next((i for i, c in enumerate(columns) if c != rating), 0)  # a rating is a poor segment
    column = c1.selectbox(t("drivers.segment_column"), columns, index=first, key="w_seg_col")
    options = choices[column]
    a = c2.selectbox(t("drivers.segment_a"), options, key="w_seg_a")
    rest = t("drivers.rest")
    b_options = [rest, *(v for v in options if v != a)]
    b = c3.selectbox(t("drivers.segment_b"), b_options, key="w_seg_b")
    correction = c4.selectbox(
        t("drivers.correction"), CORRECTIONS, key="w_seg_corr", format_func=lambda c: t(f"drivers.corr.{c}")
    )
    try:
        frame = _compare(
            current.run_id, current.version, column, a, None if b == rest else b, correction, result
        )
    except Exception as exc:
        ui.show_error(exc)
        return
    n_over = int((frame["direction"] == "over").sum())
    n_under = int((frame["direction"] == "under").sum())
    st.markdown(
        t(
            "drivers.segment_summary",
            a=ui.md_escape(a, limit=40),
            b=ui.md_escape(b, limit=40),
            over=n_over,
            under=n_under,
        )
    )
    import plotly.graph_objects as go

    top = frame.head(MAX_CHART_TOPICS)
    colors = {"over": "#F28E2B", "under": "#4E79A7", "same": "#B4BAC4"}
    fig = go.Figure(
        go.Bar(
            x=100 * top["share_diff"],
            y=[ui.plot_escape(f"{int(r.topic_id)} · {r.name}", limit=40) for r in top.itertuples()],
            orientation="h",
            marker={"color": [colors[d] for d in top["direction"]]},
            hovertemplate="%{y}: %{x:+.1f} pp<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(
        height=120 + 26 * len(top),
        margin={"l": 0, "r": 10, "t": 10, "b": 10},
        xaxis={"title": t("drivers.share_diff")},
    )
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "share_a": st.column_config.NumberColumn(format="percent"),
            "share_b": st.column_config.NumberColumn(format="percent"),
            "share_diff": st.column_config.NumberColumn(format="percent"),
            "index": st.column_config.NumberColumn(format="%.0f"),
            "p_value": st.column_config.NumberColumn(format="%.3g"),
            "p_adjusted": st.column_config.NumberColumn(format="%.3g"),
        },
    )
    with st.expander(t("drivers.breakdown"), icon=":material/table:"):
        long = seg.segment_breakdown(result, column=column)
        wide = long.pivot_table(index=["topic_id", "name"], columns="segment", values="share", sort=False)
        st.dataframe(wide, width="stretch")


def render() -> None:
    ui.header("drivers")
    result = ui.require_result()
    _drivers_section(result)
    _segments_section(result)


render()
