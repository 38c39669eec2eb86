"""Map page: the 2-D projection as a WebGL scatter with topic labels and box/lasso selection.

At most ``MAX_DRAWN`` points are drawn (a fixed random sample); the selection is recomputed from
the box/lasso geometry over *every* row, so it stays exact however many points are drawn.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import curate, sentiment_ui, state, ui
from dashboard.i18n import t
from pipeline import analysis
from pipeline.explore import themes as theme_views
from pipeline.types import OUTLIER

MAX_DRAWN = 30_000
OUTLIER_COLOUR = "#C5CAD3"
# (Comments, not docstrings: Streamlit draws a page script's bare strings on the page.)
MAX_LABELS = 15  # only the largest topics get a label on the map (more overlap at any zoom)
MAX_LEGEND = 20  # topics beyond the largest ones get no legend entry, so the legend fits


@st.cache_data(scope="session", max_entries=4, show_spinner=False)
def _points(run_id: str, version: str, columns: tuple[str, ...], _result) -> pd.DataFrame:
    return sentiment_ui.add_point_labels(analysis.map_points(_result, columns=columns), _result)


def _figure(
    points: pd.DataFrame, drawn: np.ndarray, colour_by: str, column: str | None, centres: pd.DataFrame
):
    import plotly.graph_objects as go

    sub = points.iloc[drawn]
    hover = [ui.wrap(ui.plot_escape(text, limit=200)) for text in sub["text"]]
    topic_names = [ui.plot_escape(name, limit=60) for name in sub["topic"]]
    custom = np.column_stack([topic_names, sub["language"].astype(str).to_numpy(), hover])
    template = "<b>%{customdata[0]}</b> · %{customdata[1]}<br>%{customdata[2]}<extra></extra>"
    fig = go.Figure()
    marker = {"size": 5 if len(sub) > 5000 else 7, "opacity": 0.75}
    if colour_by in ("topic", "theme"):
        id_column, name_column = ("topic_id", "topic") if colour_by == "topic" else ("theme_id", "theme")
        order = sub.groupby(id_column).size().sort_values(ascending=False).index
        for position, group_id in enumerate(order):
            mask = (sub[id_column] == group_id).to_numpy()
            colour = OUTLIER_COLOUR if group_id == OUTLIER else ui.PALETTE[position % len(ui.PALETTE)]
            name = t("topics.outliers") if group_id == OUTLIER else sub[name_column].to_numpy()[mask][0]
            fig.add_trace(
                go.Scattergl(
                    x=sub["x"].to_numpy()[mask],
                    y=sub["y"].to_numpy()[mask],
                    mode="markers",
                    name=ui.plot_escape(name, limit=40),
                    marker={**marker, "color": colour},
                    customdata=custom[mask],
                    hovertemplate=template,
                    showlegend=position < MAX_LEGEND or group_id == OUTLIER,
                )
            )
    elif colour_by == "sentiment" and "sentiment" in sub.columns:
        for label, colour in sentiment_ui.COLOURS.items():
            mask = (sub["sentiment"] == label).to_numpy()
            fig.add_trace(
                go.Scattergl(
                    x=sub["x"].to_numpy()[mask],
                    y=sub["y"].to_numpy()[mask],
                    mode="markers",
                    name=t(f"sentiment.{label}"),
                    marker={**marker, "color": colour},
                    customdata=custom[mask],
                    hovertemplate=template,
                )
            )
    elif colour_by in ("rating", "date") and column:
        values = sub[column]
        numeric = (
            analysis.parse_dates(values) if colour_by == "date" else pd.to_numeric(values, errors="coerce")
        )
        if colour_by == "date":
            numeric = numeric.map(lambda d: d.toordinal() if pd.notna(d) else np.nan)
        fig.add_trace(
            go.Scattergl(
                x=sub["x"],
                y=sub["y"],
                mode="markers",
                marker={
                    **marker,
                    "color": numeric.to_numpy(dtype=float),
                    "colorscale": "Viridis" if colour_by == "date" else "RdYlGn",
                    "showscale": colour_by == "rating",
                    "colorbar": {"title": t(f"role.{colour_by}")},
                },
                customdata=custom,
                hovertemplate=template,
                showlegend=False,
            )
        )
    else:  # language (detected)
        counts = sub["language"].value_counts()
        for position, code in enumerate(counts.index):
            mask = (sub["language"] == code).to_numpy()
            fig.add_trace(
                go.Scattergl(
                    x=sub["x"].to_numpy()[mask],
                    y=sub["y"].to_numpy()[mask],
                    mode="markers",
                    name=ui.plot_escape(code or "und", limit=10),
                    marker={**marker, "color": ui.PALETTE[position % len(ui.PALETTE)]},
                    customdata=custom[mask],
                    hovertemplate=template,
                )
            )
    for _, centre in centres.iterrows():
        fig.add_annotation(
            x=centre["x"],
            y=centre["y"],
            text=f"<b>{ui.plot_escape(centre['name'], limit=32)}</b>",
            showarrow=False,
            font={"size": 12, "color": "#1B2233"},
            bgcolor="rgba(255,255,255,0.78)",
            borderpad=3,
        )
    fig.update_layout(
        height=620,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        dragmode="lasso",
        legend={"itemsizing": "constant", "font": {"size": 11}},
        xaxis={"visible": False},
        yaxis={"visible": False},
        plot_bgcolor="#FAFBFD",
        hoverlabel={"align": "left"},
    )
    return fig


def _on_select(key: str, run_id: str) -> None:
    """Copy the chart's selection geometry into a plain session key (kept across reruns)."""
    event = st.session_state.get(key) or {}
    selection = event.get("selection") or {}
    state.set_map_selection(
        {
            "run_id": run_id,
            "box": [dict(b) for b in selection.get("box") or []],
            "lasso": [dict(lasso) for lasso in selection.get("lasso") or []],
        }
    )


def selected_rows(points: pd.DataFrame, selection: dict | None, run_id: str) -> np.ndarray:
    """Rows inside the box/lasso selection (over all points, drawn or not)."""
    if not selection or selection.get("run_id") != run_id:
        return np.array([], dtype=np.int64)
    boxes = list(selection.get("box") or [])
    lassos = list(selection.get("lasso") or [])
    if not boxes and not lassos:
        return np.array([], dtype=np.int64)
    mask = analysis.rows_in_selection(
        points["x"].to_numpy(), points["y"].to_numpy(), boxes=boxes, lassos=lassos
    )
    return points["row"].to_numpy()[mask]


def _selection_panel(result, points: pd.DataFrame, rows: np.ndarray) -> None:
    st.subheader(t("map.selection_title", n=ui.fmt_int(len(rows))))
    if len(rows) == 0:
        st.caption(t("map.selection_hint"))
        return
    left, right = st.columns([2, 3], gap="large")
    with left:
        mix = analysis.topic_mix(result, rows)
        st.dataframe(
            mix[["topic", "count", "share"]],
            hide_index=True,
            width="stretch",
            column_config={
                "topic": st.column_config.TextColumn(t("common.topic")),
                "count": st.column_config.NumberColumn(t("topics.col_size")),
                "share": st.column_config.ProgressColumn(
                    t("topics.col_share"), format="percent", min_value=0.0, max_value=1.0
                ),
            },
        )
    with right:
        chosen = points.set_index("row").loc[rows[:2000], ["topic", "language", "text"]].reset_index()
        st.dataframe(
            chosen,
            hide_index=True,
            width="stretch",
            height=360,
            column_config={
                "row": st.column_config.NumberColumn(t("common.row"), width="small"),
                "topic": st.column_config.TextColumn(t("common.topic")),
                "language": st.column_config.TextColumn(t("common.language"), width="small"),
                "text": st.column_config.TextColumn(t("common.text"), width="large"),
            },
        )
        if len(rows) > 2000:
            st.caption(t("map.selection_capped", n=ui.fmt_int(2000)))


def render() -> None:
    ui.header("map")
    result = ui.require_result()
    current = state.open_run()
    roles = analysis.recognise_columns(list(result.table.columns), text_column=result.documents.text_column)
    options = (["theme"] if result.themes else []) + ["topic", "language"]
    options += [r for r in ("rating", "date") if r in roles]
    options += ["sentiment"] if result.sentiment is not None else []
    n_topics = sum(1 for tp in result.topics if tp.id != OUTLIER)
    colour_by = st.segmented_control(
        t("map.colour_by"),
        options,
        # Many topics: start from the theme overview (fewer colours, labels that do not overlap).
        default="theme" if result.themes and n_topics > MAX_LEGEND else "topic",
        required=True,
        key="w_colour_by",
        format_func=lambda o: t(f"role.{o}"),
    )
    columns = tuple(roles[r] for r in ("rating", "date") if r in roles)
    points = _points(current.run_id, current.version, columns, result)
    if points.empty:
        st.info(t("map.empty"))
        return
    drawn = analysis.sample_points(len(points), max_points=MAX_DRAWN, seed=0)
    if len(drawn) < len(points):
        st.caption(t("map.sampled", drawn=ui.fmt_int(len(drawn)), total=ui.fmt_int(len(points))))
    if colour_by == "theme":
        centres = theme_views.theme_centres(result)
    else:
        sizes = {tp.id: tp.size for tp in result.topics}
        centres = analysis.topic_centres(result)
        if len(centres) > MAX_LABELS:
            centres = centres.assign(_size=centres["topic_id"].map(sizes)).nlargest(MAX_LABELS, "_size")
        if n_topics > MAX_LABELS and colour_by == "topic":
            st.caption(t("map.labels_capped", n=MAX_LABELS))
    fig = _figure(points, drawn, colour_by, roles.get(colour_by), centres)
    key = f"w_map_{current.run_id}_{current.version}"
    st.plotly_chart(
        fig,
        key=key,
        on_select=functools.partial(_on_select, key, current.run_id),
        selection_mode=("box", "lasso"),
        width="stretch",
        config={"displaylogo": False, "scrollZoom": True},
    )
    rows = selected_rows(points, state.map_selection(), current.run_id)
    _selection_panel(result, points, rows)
    if len(rows):
        curate.move_form(result, rows.tolist(), "map")


render()
