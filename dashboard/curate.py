"""Curation forms shared by the Topics and Map pages: split, move, delete, seed, undo and redo.

Every form builds one edit (a plain ``edits.json`` entry) and hands it to :func:`ui.apply_edit`;
the edit itself is computed in :mod:`pipeline.curation` (no ML here).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import services, state, ui
from dashboard.i18n import t
from pipeline.types import NOT_RELEVANT, OUTLIER

SPLIT_CHOICES = ["auto", *range(2, 11)]
NEW_TOPIC = "new"


def topic_label(result, topic_id: int) -> str:
    size = next((tp.size for tp in result.topics if tp.id == topic_id), 0)
    name = result.topic_names().get(topic_id, str(topic_id))
    if topic_id == OUTLIER:
        name = t("topics.outliers")
    elif topic_id == NOT_RELEVANT:
        name = t("curate.not_relevant")
    return f"{topic_id} · {name} ({size:,})"


def keep_topic_choice(key: str, ids: Sequence[int]) -> None:
    """Keep a topic selectbox on the topic it showed after an edit changed that topic's label.

    Streamlit's browser side keeps, and sends back, the *label* it showed (``"3 · Refund (35)"``);
    once a split, move or rename changes that label, the browser goes on showing the old one, and
    the string it sends matches no option, so the widget would jump to the first topic. The id at
    the label's start is put back, and the value is set again on every run, which makes Streamlit
    send it to the browser with the current label.
    """
    value = st.session_state.get(key)
    if isinstance(value, str) and value not in ids:
        try:
            value = int(value.split(" · ", 1)[0].strip())
        except ValueError:
            value = None
    if value in ids:
        st.session_state[key] = value
    else:
        st.session_state.pop(key, None)


# ------------------------------------------------------------------------------------- undo / redo
def _step(kind: str) -> None:
    current = state.open_run()
    if current is None:
        return
    from pipeline.store import EditConflict

    try:
        if kind == "undo":
            updated, edit = services.undo(current, author=state.analyst())
        else:
            updated, edit = services.redo(current, author=state.analyst())
    except EditConflict as exc:
        state.set_open_run(services.reload(current))
        state.set_notice(
            "warning", ui.edit_refused(exc) if exc.code != "nothing_to_redo" else t("curate.nothing_to_redo")
        )
        return
    except Exception as exc:
        state.set_notice("error", getattr(exc, "user_message", "") or t("common.unexpected"))
        return
    state.set_open_run(updated)
    done = t("topics.undone") if kind == "undo" else t("curate.redone")
    state.set_notice("info", f"{done} {describe(edit)}")


def history_bar(current) -> None:
    """Undo and Redo buttons, each saying how many steps it can take."""
    n_undo, n_redo = services.history(current, author=state.analyst())
    target, _ = services.undo_candidate(current, author=state.analyst())
    left, right, _ = st.columns([1, 1, 3])
    left.button(
        t("curate.undo_n", n=n_undo),
        on_click=_step,
        args=("undo",),
        disabled=target is None,
        icon=":material/undo:",
        key="w_undo",
        help=t("edits.undo_would", what=describe(target)) if target else t("edits.nothing_to_undo"),
    )
    right.button(
        t("curate.redo_n", n=n_redo),
        on_click=_step,
        args=("redo",),
        disabled=n_redo == 0,
        icon=":material/redo:",
        key="w_redo",
    )


def describe(edit: dict | None) -> str:
    """One line saying what an edit did (history, undo and redo notices)."""
    if not edit:
        return ""
    op = edit.get("op")
    if op == "merge":
        what = t("topics.hist_merge", ids=", ".join(str(i) for i in edit.get("topic_ids", [])))
    elif op == "split":
        what = t("curate.hist_split", id=edit.get("topic_id"), n=edit.get("n") or "auto")
    elif op == "move":
        target = edit.get("to_topic")
        where = t("curate.new_topic") if target is None else str(target)
        what = t("curate.hist_move", n=len(edit.get("rows") or []), to=where)
    elif op == "delete":
        what = t(
            "curate.hist_delete", id=edit.get("topic_id"), to=t(f"curate.to_{edit.get('to', 'outliers')}")
        )
    elif op == "seed":
        what = t("curate.hist_seed", n=len(edit.get("phrases") or []))
    elif op in ("rename_theme", "merge_themes"):
        what = t("curate.hist_theme")
    else:
        what = t("topics.hist_rename", id=edit.get("topic_id"))
    name = str(edit.get("name") or "")
    return f"{what} → {ui.md_escape(name, limit=60)}" if name else what


# ------------------------------------------------------------------------------------------ forms
def _on_split(result) -> None:
    topic_id = st.session_state.get("w_split_topic")
    choice = st.session_state.get("w_split_n", "auto")
    if topic_id is None:
        return
    n = None if choice == "auto" else int(choice)
    ui.apply_edit({"op": "split", "topic_id": int(topic_id), "n": n, "seed": 42}, "curate.split_done")


def _on_delete() -> None:
    topic_id = st.session_state.get("w_delete_topic")
    if topic_id is None:
        return
    to = st.session_state.get("w_delete_to") or "outliers"
    ui.apply_edit({"op": "delete", "topic_id": int(topic_id), "to": to}, "curate.delete_done")


def _on_seed() -> None:
    name = str(st.session_state.get("w_seed_name") or "").strip()
    phrases = [p.strip() for p in str(st.session_state.get("w_seed_phrases") or "").splitlines() if p.strip()]
    if not name or not phrases:
        state.set_notice("warning", t("curate.seed_need"))
        return
    if ui.apply_edit({"op": "seed", "name": name, "phrases": phrases}, "curate.seed_done"):
        st.session_state["w_seed_name"] = ""
        st.session_state["w_seed_phrases"] = ""


def _on_move(rows: Sequence[int], key: str) -> None:
    target = st.session_state.get(f"w_move_target_{key}", NEW_TOPIC)
    name = str(st.session_state.get(f"w_move_name_{key}") or "").strip()
    edit = {
        "op": "move",
        "rows": [int(r) for r in rows],
        "to_topic": None if target == NEW_TOPIC else int(target),
        "name": name if target == NEW_TOPIC else "",
    }
    ui.apply_edit(edit, "curate.move_done")


def curate_panel(result) -> None:
    """Split, delete and seed, side by side."""
    ids = [tp.id for tp in sorted(result.topics, key=lambda tp: -tp.size) if tp.id != NOT_RELEVANT]
    real_ids = [i for i in ids if i != OUTLIER]
    col_split, col_delete, col_seed = st.columns(3, gap="medium")
    with col_split, st.container(border=True):
        st.markdown(f"**{t('curate.split_title')}**")
        keep_topic_choice("w_split_topic", ids)
        st.selectbox(
            t("topics.topic"), ids, key="w_split_topic", format_func=lambda i: topic_label(result, i)
        )
        st.selectbox(
            t("curate.split_n"),
            SPLIT_CHOICES,
            key="w_split_n",
            format_func=lambda v: t("curate.split_auto") if v == "auto" else str(v),
            help=t("curate.split_help"),
        )
        st.button(
            t("curate.split"),
            on_click=_on_split,
            args=(result,),
            icon=":material/call_split:",
            key="w_split_btn",
        )
    with col_delete, st.container(border=True):
        st.markdown(f"**{t('curate.delete_title')}**")
        keep_topic_choice("w_delete_topic", real_ids)
        st.selectbox(
            t("topics.topic"), real_ids, key="w_delete_topic", format_func=lambda i: topic_label(result, i)
        )
        st.radio(
            t("curate.delete_to"),
            ["outliers", "not_relevant"],
            key="w_delete_to",
            format_func=lambda v: t(f"curate.to_{v}"),
        )
        st.button(t("curate.delete"), on_click=_on_delete, icon=":material/delete:", key="w_delete_btn")
    with col_seed, st.container(border=True):
        st.markdown(f"**{t('curate.seed_title')}**")
        st.text_input(t("curate.seed_name"), key="w_seed_name", max_chars=80)
        st.text_area(
            t("curate.seed_phrases"),
            key="w_seed_phrases",
            placeholder=t("curate.seed_phrases_ph"),
            height=100,
        )
        st.caption(t("curate.seed_threshold", value=f"{services.seed_threshold(result):.3f}"))
        st.button(t("curate.seed"), on_click=_on_seed, icon=":material/add_circle:", key="w_seed_btn")


def move_form(result, rows: Sequence[int], key: str) -> None:
    """Move the selected ``rows`` (from a table or the map's lasso) to a topic or a new one."""
    rows = [int(r) for r in rows]
    with st.container(border=True):
        st.markdown(f"**{t('curate.move_title', n=ui.fmt_int(len(rows)))}**")
        if not rows:
            st.caption(t("curate.move_hint"))
            return
        targets: list = [NEW_TOPIC, *[tp.id for tp in sorted(result.topics, key=lambda tp: -tp.size)]]
        left, right = st.columns(2)
        keep_topic_choice(f"w_move_target_{key}", targets)
        target = left.selectbox(
            t("curate.move_to"),
            targets,
            key=f"w_move_target_{key}",
            format_func=lambda v: t("curate.new_topic") if v == NEW_TOPIC else topic_label(result, v),
        )
        right.text_input(
            t("curate.move_name"), key=f"w_move_name_{key}", max_chars=80, disabled=target != NEW_TOPIC
        )
        st.button(
            t("curate.move"),
            on_click=_on_move,
            args=(rows, key),
            icon=":material/move_item:",
            key=f"w_move_btn_{key}",
        )
