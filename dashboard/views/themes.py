"""Themes page: the overview above topics (every topic belongs to one theme), drill-down, rename."""

from __future__ import annotations

import streamlit as st

from dashboard import sentiment_ui, state, ui
from dashboard.i18n import t
from pipeline.explore import themes as theme_views
from pipeline.types import OUTLIER


def _theme_label(result, theme_id: int) -> str:
    theme = next((th for th in result.themes if th.id == theme_id), None)
    if theme is None:
        return str(theme_id)
    name = t("themes.outliers") if theme_id == OUTLIER else theme.name
    return f"{theme_id} · {name} ({theme.size:,})"


def _on_rename() -> None:
    theme_id = st.session_state.get("w_theme_rename_id")
    name = str(st.session_state.get("w_theme_rename_name") or "").strip()
    if theme_id is None or not name:
        state.set_notice("warning", t("topics.rename_empty"))
        return
    if ui.apply_edit({"op": "rename_theme", "theme_id": int(theme_id), "name": name}, "themes.renamed"):
        st.session_state["w_theme_rename_name"] = ""


def _on_merge() -> None:
    ids = [int(i) for i in st.session_state.get("w_theme_merge_ids") or []]
    if len(ids) < 2:
        state.set_notice("warning", t("themes.merge_need_two"))
        return
    name = str(st.session_state.get("w_theme_merge_name") or "").strip()
    if ui.apply_edit({"op": "merge_themes", "theme_ids": ids, "name": name}, "themes.merged"):
        st.session_state["w_theme_merge_ids"] = []
        st.session_state["w_theme_merge_name"] = ""


def _sunburst(result):
    """Themes as the inner ring, their topics outside: sizes at a glance, click to zoom into a theme."""
    import plotly.graph_objects as go

    topics = {tp.id: tp for tp in result.topics}
    ids, labels, parents, values = [], [], [], []
    for theme in sorted(result.themes, key=lambda th: -th.size):
        if theme.id == OUTLIER:
            continue
        ids.append(f"theme-{theme.id}")
        labels.append(ui.plot_escape(theme.name, limit=40))
        parents.append("")
        values.append(theme.size)
        for topic_id in theme.topic_ids:
            topic = topics.get(topic_id)
            if topic is not None:
                ids.append(f"topic-{topic_id}")
                labels.append(ui.plot_escape(topic.name, limit=40))
                parents.append(f"theme-{theme.id}")
                values.append(topic.size)
    fig = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            insidetextorientation="radial",
            maxdepth=2,
            hovertemplate="<b>%{label}</b><br>%{value:,}<extra></extra>",
        )
    )
    fig.update_layout(height=520, margin={"l": 0, "r": 0, "t": 10, "b": 0})
    return fig


def render() -> None:
    ui.header("themes")
    result = ui.require_result()
    if not result.themes:
        st.info(t("themes.none"))
        return
    overview = theme_views.theme_overview(result)
    sentiment = sentiment_ui.add_share_columns(overview, result, level="theme")
    real = overview[overview["theme_id"] != OUTLIER]
    cols = st.columns(3)
    cols[0].metric(t("themes.m_themes"), ui.fmt_int(len(real)))
    cols[1].metric(t("topics.m_topics"), ui.fmt_int(sum(1 for tp in result.topics if tp.id != OUTLIER)))
    reason = str(result.manifest.get("themes_reason") or "")
    if reason:
        st.caption(reason[:1].upper() + reason[1:])
    # The table takes the page's width (its topic names are long); the sunburst sits below it.
    st.dataframe(
        overview,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(overview), 520),
        column_config={
            "theme_id": st.column_config.NumberColumn(t("topics.col_id"), width="small"),
            "name": st.column_config.TextColumn(t("topics.col_name"), width="medium"),
            "size": st.column_config.NumberColumn(t("topics.col_size"), format="localized"),
            "share": st.column_config.ProgressColumn(
                t("topics.col_share"), format="percent", min_value=0.0, max_value=1.0
            ),
            "n_topics": st.column_config.NumberColumn(t("themes.col_n_topics"), width="small"),
            "topics": st.column_config.TextColumn(t("themes.col_topics"), width="large"),
            "keywords": st.column_config.TextColumn(t("topics.col_keywords")),
            **(sentiment_ui.share_column_config() if sentiment else {}),
        },
    )
    st.plotly_chart(_sunburst(result), width="stretch", config={"displayModeBar": False})

    st.subheader(t("themes.detail_title"))
    ids = [int(i) for i in overview["theme_id"]]
    theme_id = st.selectbox(
        t("themes.pick"), ids, key="w_theme_detail", format_func=lambda i: _theme_label(result, i)
    )
    st.dataframe(
        theme_views.theme_topics(result, int(theme_id)),
        hide_index=True,
        width="stretch",
        column_config={
            "topic_id": st.column_config.NumberColumn(t("topics.col_id"), width="small"),
            "name": st.column_config.TextColumn(t("topics.col_name"), width="medium"),
            "size": st.column_config.NumberColumn(t("topics.col_size"), format="localized"),
            "share": st.column_config.ProgressColumn(
                t("topics.col_share"), format="percent", min_value=0.0, max_value=1.0
            ),
            "keywords": st.column_config.TextColumn(t("topics.col_keywords"), width="large"),
        },
    )
    real_ids = [i for i in ids if i != OUTLIER]
    col_rename, col_merge = st.columns(2, gap="large")
    with col_rename, st.container(border=True):
        st.markdown(f"**{t('themes.rename_title')}**")
        st.selectbox(
            t("themes.pick"), real_ids, key="w_theme_rename_id", format_func=lambda i: _theme_label(result, i)
        )
        st.text_input(t("topics.new_name"), key="w_theme_rename_name", max_chars=80)
        st.button(t("topics.rename"), on_click=_on_rename, icon=":material/edit:", key="w_theme_rename_btn")
    with col_merge, st.container(border=True):
        st.markdown(f"**{t('themes.merge_title')}**")
        st.multiselect(
            t("themes.merge_pick"),
            real_ids,
            key="w_theme_merge_ids",
            format_func=lambda i: _theme_label(result, i),
        )
        st.text_input(t("themes.merge_name"), key="w_theme_merge_name", max_chars=80)
        st.button(
            t("topics.merge"), on_click=_on_merge, icon=":material/call_merge:", key="w_theme_merge_btn"
        )


render()
