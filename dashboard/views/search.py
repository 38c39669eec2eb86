"""Search page: semantic search over the open run with the run's own model."""

from __future__ import annotations

import json

import streamlit as st

from dashboard import services, ui
from dashboard.i18n import t
from pipeline import analysis


def render() -> None:
    ui.header("search")
    result = ui.require_result()
    with st.form("w_search_form", border=False):
        col_q, col_k, col_b = st.columns([6, 2, 1], vertical_alignment="bottom")
        query = col_q.text_input(
            t("search.query"), key="w_query", placeholder=t("search.placeholder"), max_chars=500
        )
        top_k = col_k.selectbox(t("search.top_k"), [10, 20, 50, 100], index=1, key="w_top_k")
        submitted = col_b.form_submit_button(t("search.go"), type="primary", icon=":material/search:")
    if not (submitted or query):
        st.caption(t("search.hint"))
        return
    try:
        name, options = services.run_embedder(result)
        with st.spinner(t("search.loading_model", name=ui.md_escape(name, limit=60))):
            embedder = services.embedder(name, "auto", json.dumps(options, sort_keys=True))
            hits = analysis.search(result, query, embedder=embedder, top_k=int(top_k))
    except Exception as exc:
        ui.show_error(exc)
        return
    st.caption(t("search.n_results", n=len(hits), model=ui.md_escape(name, limit=60)))
    st.dataframe(
        hits[["rank", "similarity", "topic", "text", "row"]],
        hide_index=True,
        width="stretch",
        height=min(42 + 35 * len(hits), 760),
        column_config={
            "rank": st.column_config.NumberColumn("#", width="small"),
            "similarity": st.column_config.ProgressColumn(
                t("search.similarity"), format="%.2f", min_value=0.0, max_value=1.0
            ),
            "topic": st.column_config.TextColumn(t("common.topic")),
            "text": st.column_config.TextColumn(t("common.text"), width="large"),
            "row": st.column_config.NumberColumn(t("common.row"), width="small"),
        },
    )


render()
