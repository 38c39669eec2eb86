"""Runs page: every run saved in the workspace, to reopen with its edits."""

from __future__ import annotations

import streamlit as st

from dashboard import services, state, ui
from dashboard.i18n import t


def _open(run_id: str) -> None:
    run_dir = services.run_dir_for(run_id)
    if run_dir is None:
        state.set_notice("error", t("runs.missing"))
        return
    try:
        state.set_open_run(services.open_saved(run_dir))
    except Exception as exc:
        state.set_notice(
            "error", ui.md_escape(getattr(exc, "user_message", ""), limit=2000) or t("runs.unreadable")
        )
        return
    state.set_map_selection(None)
    state.set_notice("success", t("runs.opened", run=run_id))


def render() -> None:
    ui.header("runs")
    runs = services.saved_runs()
    st.caption(t("runs.workspace", path=ui.md_escape(str(services.workspace()), limit=200)))
    if runs.empty:
        st.info(t("runs.none"), icon=":material/inventory_2:")
        st.page_link("views/data.py", label=t("common.go_data"), icon=":material/upload_file:")
        return
    current = state.open_run()
    st.dataframe(
        runs,
        hide_index=True,
        width="stretch",
        column_config={
            "run_id": st.column_config.TextColumn(t("runs.col_run"), width="large"),
            "created": st.column_config.TextColumn(t("runs.col_created")),
            "file": st.column_config.TextColumn(t("runs.col_file")),
            "rows": st.column_config.NumberColumn(t("topics.m_rows"), format="localized"),
            "topics": st.column_config.NumberColumn(t("topics.m_topics")),
            "model": st.column_config.TextColumn(t("run.model_used")),
            "edits": st.column_config.NumberColumn(t("runs.col_edits")),
        },
    )
    ids = list(runs["run_id"])
    col1, col2 = st.columns([3, 1], vertical_alignment="bottom")
    choice = col1.selectbox(t("runs.pick"), ids, key="w_run_pick")
    is_open = current is not None and current.run_id == choice
    col2.button(
        t("runs.is_open") if is_open else t("runs.open"),
        on_click=_open,
        args=(choice,),
        disabled=is_open,
        type="primary",
        icon=":material/folder_open:",
        key="w_run_open",
    )


render()
