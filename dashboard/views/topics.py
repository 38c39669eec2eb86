"""Topics page: overview, the topic table (rename in place), merge, split, delete, seed, undo and
redo, per-topic detail (move rows selected in its table)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import curate, sentiment_ui, services, state, ui
from dashboard.i18n import t
from pipeline import analysis
from pipeline.types import OUTLIER

PAGE_SIZE = 25


def _topic_label(result, topic_id: int) -> str:
    return curate.topic_label(result, topic_id)


def _apply(new_edit: dict) -> None:
    ui.apply_edit(new_edit, "topics.renamed" if new_edit["op"] == "rename" else "topics.merged")


def _on_table_edit(key: str, ids: list[int]) -> None:
    changes = (st.session_state.get(key) or {}).get("edited_rows", {})
    result = state.result()
    if result is None:
        return
    names = result.topic_names()
    for index, change in changes.items():
        name = str(change.get("name", "")).strip()
        topic_id = ids[int(index)]
        if name and name != names.get(topic_id):
            _apply({"op": "rename", "topic_id": topic_id, "name": name})


def _on_rename() -> None:
    topic_id = st.session_state.get("w_rename_topic")
    name = str(st.session_state.get("w_rename_name") or "").strip()
    if topic_id is None or not name:
        state.set_notice("warning", t("topics.rename_empty"))
        return
    _apply({"op": "rename", "topic_id": int(topic_id), "name": name})
    st.session_state["w_rename_name"] = ""


def _on_merge() -> None:
    ids = [int(i) for i in st.session_state.get("w_merge_topics") or []]
    if len(ids) < 2:
        state.set_notice("warning", t("topics.merge_need_two"))
        return
    name = str(st.session_state.get("w_merge_name") or "").strip()
    _apply({"op": "merge", "topic_ids": ids, "name": name})
    st.session_state["w_merge_topics"] = []
    st.session_state["w_merge_name"] = ""


def _overview(result) -> None:
    summary = analysis.run_summary(result)
    cols = st.columns(5)
    cols[0].metric(t("topics.m_rows"), ui.fmt_int(summary["rows_read"]))
    cols[1].metric(t("topics.m_analysed"), ui.fmt_int(summary["rows_clustered"]))
    cols[2].metric(t("topics.m_topics"), ui.fmt_int(summary["n_topics"]))
    cols[3].metric(t("topics.m_outliers"), ui.fmt_pct(summary["outlier_share"]))
    cols[4].metric(t("topics.m_languages"), ui.fmt_int(len(summary["languages"])))
    if summary["languages"]:
        top = list(summary["languages"].items())[:8]
        st.caption(t("topics.languages_line", langs=", ".join(f"{code} {n:,}" for code, n in top)))


def _table(result, current) -> None:
    frame = analysis.topic_overview(result)
    original = {tp.id: "; ".join(w for w, _ in tp.keywords_original[:8]) for tp in result.topics}
    frame["keywords_original"] = [original.get(int(i), "") for i in frame["topic_id"]]
    if len(result.mentions):  # rows raising the topic as primary or other topic (pipeline.multitopic)
        from pipeline.multitopic import mention_counts

        counts = mention_counts(result)
        frame.insert(3, "mentions", [counts.get(int(i), 0) for i in frame["topic_id"]])
    sentiment = sentiment_ui.add_share_columns(frame, result)
    shown = result.label_sets[0].language if result.label_sets else ""
    key = f"w_topic_table_{current.version}_{shown}"
    ids = [int(i) for i in frame["topic_id"]]
    st.data_editor(
        frame,
        key=key,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(frame), 460),
        disabled=[
            "topic_id",
            "size",
            "mentions",
            "share",
            "keywords",
            "languages",
            "keywords_original",
            *sentiment,
        ],
        on_change=_on_table_edit,
        args=(key, ids),
        column_config={
            "topic_id": st.column_config.NumberColumn(t("topics.col_id"), width="small"),
            "name": st.column_config.TextColumn(
                t("topics.col_name"), help=t("topics.col_name_help"), width="medium"
            ),
            "size": st.column_config.NumberColumn(t("topics.col_size"), format="localized", width="small"),
            "mentions": st.column_config.NumberColumn(
                t("topics.col_mentions"),
                help=t("topics.col_mentions_help"),
                format="localized",
                width="small",
            ),
            "share": st.column_config.ProgressColumn(
                t("topics.col_share"),
                format="percent",
                min_value=0.0,
                max_value=float(frame["share"].max() or 1),
            ),
            "keywords": st.column_config.TextColumn(t("topics.col_keywords"), width="medium"),
            "languages": st.column_config.TextColumn(t("topics.col_languages")),
            "keywords_original": st.column_config.TextColumn(
                t("topics.col_keywords_original"), width="medium"
            ),
            **(sentiment_ui.share_column_config() if sentiment else {}),
        },
    )
    st.caption(t("topics.table_hint"))


def _edit_panel(result, current) -> None:
    ids = [tp.id for tp in sorted(result.topics, key=lambda tp: -tp.size)]
    real_ids = [i for i in ids if i != OUTLIER]
    col_rename, col_merge = st.columns(2, gap="large")
    with col_rename, st.container(border=True):
        st.markdown(f"**{t('topics.rename_title')}**")
        curate.keep_topic_choice("w_rename_topic", ids)
        st.selectbox(
            t("topics.topic"), ids, key="w_rename_topic", format_func=lambda i: _topic_label(result, i)
        )
        st.text_input(t("topics.new_name"), key="w_rename_name", max_chars=80)
        st.button(t("topics.rename"), on_click=_on_rename, icon=":material/edit:", key="w_rename_btn")
    with col_merge, st.container(border=True):
        st.markdown(f"**{t('topics.merge_title')}**")
        st.multiselect(
            t("topics.merge_pick"),
            real_ids,
            key="w_merge_topics",
            format_func=lambda i: _topic_label(result, i),
            placeholder=t("topics.merge_pick_ph"),
        )
        st.text_input(
            t("topics.merge_name"), key="w_merge_name", max_chars=80, placeholder=t("topics.merge_name_ph")
        )
        st.button(t("topics.merge"), on_click=_on_merge, icon=":material/call_merge:", key="w_merge_btn")
    st.markdown(f"**{t('curate.title')}**")
    curate.curate_panel(result)
    curate.history_bar(current)
    right = st.container()
    if current.edits:
        with right.expander(t("topics.history", n=len(current.edits)), icon=":material/history:"):
            rows = []
            for number, edit in enumerate(current.edits, start=1):
                what = curate.describe({**edit, "name": ""})
                rows.append(
                    {"#": number, t("topics.hist_edit"): what, t("topics.col_name"): edit.get("name") or ""}
                )
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _keyword_chart(topic) -> None:
    import plotly.graph_objects as go

    words = list(topic.keywords[:12])[::-1]
    if not words:
        st.caption(t("topics.no_keywords"))
        return
    fig = go.Figure(
        go.Bar(
            x=[score for _, score in words],
            y=[ui.plot_escape(word, limit=40) for word, _ in words],
            orientation="h",
            marker_color="#2F5BEA",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(220, 28 * len(words) + 40),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title=t("topics.keyword_weight"),
    )
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})


def _texts(result, topic_id: int, extra: list[str]) -> None:
    query = st.text_input(
        t("topics.filter_texts"),
        key=f"w_texts_query_{topic_id}",
        placeholder=t("topics.filter_ph"),
        max_chars=200,
    )
    frame = analysis.topic_texts(result, topic_id, query=query, extra_columns=extra)
    n_pages = max(1, -(-len(frame) // PAGE_SIZE))
    st.caption(t("topics.n_texts", n=ui.fmt_int(len(frame))))
    page = 1
    if n_pages > 1:
        page = st.pagination(n_pages, key=f"w_texts_page_{topic_id}_{query}")
    start = (page - 1) * PAGE_SIZE
    shown = frame.iloc[start : start + PAGE_SIZE]
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key=f"w_texts_table_{topic_id}_{page}_{state.open_run().version}",
        on_select="rerun",
        selection_mode="multi-row",
        column_config={
            "row": st.column_config.NumberColumn(t("common.row"), width="small"),
            "text": st.column_config.TextColumn(t("common.text"), width="large"),
            "language": st.column_config.TextColumn(t("common.language"), width="small"),
        },
    )
    picked = [int(shown.iloc[i]["row"]) for i in (event.selection.rows if event else []) if i < len(shown)]
    curate.move_form(result, picked, "table")


def _breakdowns(result, topic_id: int, roles: dict[str, str]) -> None:
    from pipeline.explore.segments import categorical_columns

    columns: list[tuple[str, str]] = [("language", roles.get("language", "language"))]
    for role in ("rating", "channel"):
        if role in roles:
            columns.append((role, roles[role]))
    shown = {column for _, column in columns}
    more = [c for c in categorical_columns(result) if c not in shown]
    if more:  # any other categorical column (country, product, plan...)
        other = st.selectbox(t("topics.breakdown_other"), more, index=None, key="w_breakdown_col")
        if other:
            columns.append(("other", other))
    cols = st.columns(len(columns))
    for col, (role, column) in zip(cols, columns, strict=True):
        with col:
            st.markdown(f"**{ui.md_escape(column, limit=40) if role == 'other' else t(f'role.{role}')}**")
            frame = analysis.topic_breakdown(result, topic_id, column=column)
            st.dataframe(
                frame.head(15),
                hide_index=True,
                width="stretch",
                column_config={
                    "value": st.column_config.TextColumn(column if role == "other" else t(f"role.{role}")),
                    "count": st.column_config.NumberColumn(t("topics.col_size")),
                    "share": st.column_config.ProgressColumn(
                        t("topics.share_topic"), format="percent", min_value=0.0, max_value=1.0
                    ),
                    "overall_share": st.column_config.NumberColumn(t("topics.share_all"), format="percent"),
                },
            )


def _detail(result) -> None:
    topics = sorted(result.topics, key=lambda tp: (tp.id == OUTLIER, -tp.size))
    if not topics:
        return
    ids = [tp.id for tp in topics]
    curate.keep_topic_choice("w_detail_topic", ids)
    if st.session_state.get("w_detail_topic") not in ids:
        st.session_state["w_detail_topic"] = ids[0]
    topic_id = st.selectbox(
        t("topics.detail_pick"), ids, key="w_detail_topic", format_func=lambda i: _topic_label(result, i)
    )
    topic = next(tp for tp in topics if tp.id == topic_id)
    roles = analysis.recognise_columns(list(result.table.columns), text_column=result.documents.text_column)
    extra = [roles[r] for r in ("date", "rating", "channel") if r in roles]
    cols = st.columns(3)
    cols[0].metric(t("topics.col_size"), ui.fmt_int(topic.size))
    cols[1].metric(t("topics.col_share"), ui.fmt_pct(topic.share))
    cols[2].metric(t("topics.col_languages"), ui.fmt_int(len(topic.languages)))
    tab_kw, tab_ex, tab_all, tab_mix = st.tabs(
        [t("topics.tab_keywords"), t("topics.tab_examples"), t("topics.tab_texts"), t("topics.tab_mix")]
    )
    with tab_kw:
        _keyword_chart(topic)
    with tab_ex:
        examples = analysis.topic_examples(result, topic_id)
        from pipeline.near_duplicates import row_groups

        _, says = row_groups(result)
        for _, row in examples.iterrows():
            with st.container(border=True):
                line = t("topics.example_row", row=int(row["row"]))
                count = int(says[int(row["row"])]) if 0 <= int(row["row"]) < len(says) else 1
                if count > 1:
                    line += " · " + t("topics.says_this", n=count)
                st.caption(line)
                st.text(str(row["text"]))
    with tab_all:
        _texts(result, topic_id, extra)
    with tab_mix:
        _breakdowns(result, topic_id, roles)


def _label_language(current):
    """The label-language switch; relabels the open run when the choice differs from its names."""
    options = services.label_languages(current.base)
    wanted = state.label_lang()
    if wanted not in options:
        options.append(wanted)
    if st.session_state.get("w_label_lang") not in options:
        st.session_state["w_label_lang"] = wanted
    choice = st.selectbox(
        t("topics.label_language"), options, key="w_label_lang", help=t("topics.label_language_help")
    )
    if choice != wanted:
        state.set_label_lang(choice)
    shown = services.shown_language(current.result)
    explicit = bool(st.session_state.get(state.LABEL_LANG))
    failed = st.session_state.setdefault("ft_relabel_failed", set())
    # Runs made before label languages (no label sets) are relabelled only when asked to.
    if choice != shown and (explicit or current.base.label_sets) and (current.run_id, choice) not in failed:
        with st.spinner(t("topics.relabelling", lang=choice)):
            try:
                current = services.relabel(current, choice)
                state.set_open_run(current)
            except Exception as exc:
                failed.add((current.run_id, choice))
                message = getattr(exc, "user_message", "") or type(exc).__name__
                st.warning(t("topics.relabel_failed", lang=choice, error=message))
    if current.result.label_sets:
        label_set = current.result.label_sets[0]
        st.caption(t("topics.label_method", lang=label_set.language, method=label_set.method))
    return current


def _collapse_toggle(current):
    """Count near-duplicates (the same thing said in other words) once, or every row; reversible."""
    from pipeline.near_duplicates import is_collapsed

    result = current.result
    info = result.manifest.get("near_duplicates") or {}
    if not info.get("groups"):
        return current
    on = st.toggle(
        t("topics.collapse_nd"),
        value=is_collapsed(result),
        key="w_collapse_nd",
        help=t(
            "topics.collapse_nd_help", groups=int(info["groups"]), rows=int(info.get("rows_in_groups", 0))
        ),
    )
    if on != is_collapsed(result):
        current = services.set_collapse(current, on)
        state.set_open_run(current)
    if on:
        st.caption(
            t(
                "topics.collapsed_note",
                rows=int(current.result.ledger.altered.get("near_duplicate_collapsed", 0)),
            )
        )
    return current


def render() -> None:
    ui.header("topics")
    result = ui.require_result()
    current = _label_language(state.open_run())
    result = current.result
    warning = (result.manifest.get("language_coverage") or {}).get("warning")
    if warning:
        st.warning(t("common.coverage_warning", warning=warning), icon=":material/translate:")
    _overview(result)
    current = _collapse_toggle(current)
    result = current.result
    st.subheader(t("topics.table_title"))
    _table(result, current)
    _edit_panel(result, current)
    sentiment_ui.render_rating_agreement(result)
    st.divider()
    st.subheader(t("topics.detail_title"))
    _detail(result)


render()
