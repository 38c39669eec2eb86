"""Search page: hybrid / semantic / word / exact-phrase search over the open run with its own model."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from dashboard import services, state, ui
from dashboard.i18n import t

MODES = ("hybrid", "dense", "lexical", "exact")


def render() -> None:
    ui.header("search")
    result = ui.require_result()
    current = state.open_run()
    with st.form("w_search_form", border=False):
        col_q, col_m, col_k, col_b = st.columns([6, 2, 1, 1], vertical_alignment="bottom")
        query = col_q.text_input(
            t("search.query"), key="w_query", placeholder=t("search.placeholder"), max_chars=500
        )
        mode = col_m.selectbox(
            t("search.mode"), MODES, index=0, key="w_search_mode", format_func=lambda m: t(f"search.mode_{m}")
        )
        top_k = col_k.selectbox(t("search.top_k"), [10, 20, 50, 100], index=1, key="w_top_k")
        submitted = col_b.form_submit_button(t("search.go"), type="primary", icon=":material/search:")
        with st.expander(t("search.filters")):
            names = result.topic_names()
            topics = st.multiselect(
                t("common.topic"),
                list(names),
                key="w_search_topics",
                format_func=lambda i: names.get(i, str(i)),
            )
            theme_names = result.theme_names()
            themes = (
                st.multiselect(
                    t("search.theme"),
                    list(theme_names),
                    key="w_search_themes",
                    format_func=lambda i: theme_names.get(i, str(i)),
                )
                if theme_names
                else []
            )
            polarity = st.checkbox(t("search.polarity"), value=True, key="w_search_polarity")
            collapse = st.checkbox(t("search.collapse"), value=True, key="w_search_collapse")
    if not (submitted or query):
        st.caption(t("search.hint"))
        return
    try:
        from pipeline.search import SearchFilters, search_run

        name, options = services.run_embedder(result)
        with st.spinner(t("search.loading_model", name=ui.md_escape(name, limit=60))):
            embedder = services.embedder(name, "auto", json.dumps(options, sort_keys=True))
            hits = search_run(
                result,
                [query],
                embedder=embedder,
                top=int(top_k),
                mode=str(mode),
                filters=SearchFilters(topics=tuple(topics), themes=tuple(themes)),
                polarity=bool(polarity),
                collapse_same=bool(collapse),
                run_dir=None if current is None else Path(current.run_dir),
            )
    except Exception as exc:
        ui.show_error(exc)
        return
    st.caption(t("search.n_results", n=len(hits), model=ui.md_escape(name, limit=60)))
    st.dataframe(
        hits[["rank", "similarity", "count", "near_duplicates", "topic", "text", "row"]],
        hide_index=True,
        width="stretch",
        height=min(42 + 35 * len(hits), 760),
        column_config={
            "rank": st.column_config.NumberColumn("#", width="small"),
            "similarity": st.column_config.ProgressColumn(
                t("search.similarity"), format="%.2f", min_value=0.0, max_value=1.0
            ),
            "count": st.column_config.NumberColumn(
                t("search.count"), width="small", help=t("search.count_help")
            ),
            "near_duplicates": st.column_config.NumberColumn(
                t("search.near_duplicates"), width="small", help=t("search.near_duplicates_help")
            ),
            "topic": st.column_config.TextColumn(t("common.topic")),
            "text": st.column_config.TextColumn(t("common.text"), width="large"),
            "row": st.column_config.NumberColumn(t("common.row"), width="small"),
        },
    )


render()
