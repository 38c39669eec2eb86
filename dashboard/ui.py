"""Pieces every page shares: the sidebar, page headers, guards and safe text helpers.

Customer text is never passed to Markdown or HTML: tables go through ``st.dataframe`` and single
texts through ``st.text``/``st.code``. File and column names (which come from the file too) are
escaped with :func:`md_escape` before they appear inside Markdown labels.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import streamlit as st

from dashboard import jobs, services, state
from dashboard.i18n import LANGUAGES, t

logger = logging.getLogger(__name__)

PALETTE = [
    "#2F5BEA", "#E8590C", "#2B8A3E", "#C2255C", "#7048E8", "#0B7285", "#E67700", "#5C940D",
    "#A61E4D", "#1864AB", "#D9480F", "#087F5B", "#862E9C", "#364FC7", "#C92A2A", "#495057",
]  # fmt: skip
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def favicon() -> Any:
    """The tab icon, drawn here (a speech bubble on the brand blue) so that nothing is fetched from
    the internet: Streamlit shows emoji and ``:material/...:`` favicons from a CDN."""
    import numpy as np

    size = 32
    y, x = np.mgrid[0:size, 0:size]
    blue = np.array([0x2F, 0x5B, 0xEA], dtype=np.uint8)
    icon = np.zeros((size, size, 3), dtype=np.uint8) + 255
    corner = 6
    inside = ((np.minimum(x, size - 1 - x) >= corner) | (np.minimum(y, size - 1 - y) >= corner)) | (
        (np.minimum(x, size - 1 - x) - corner) ** 2 + (np.minimum(y, size - 1 - y) - corner) ** 2 <= corner**2
    )
    icon[inside] = blue
    bubble = (x >= 7) & (x <= 24) & (y >= 8) & (y <= 19)
    tail = (x >= 9) & (x <= 13) & (y >= 19) & (y - 19 <= 13 - x)
    icon[bubble | tail] = 255
    for row in (11, 15):
        icon[row : row + 2, 10:22] = blue
    from PIL import Image  # a dependency of Streamlit

    return Image.fromarray(icon)


def md_escape(value: object, *, limit: int = 80) -> str:
    """Make a short untrusted string safe to show inside Markdown (no formatting, no links)."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def plot_escape(value: object, *, limit: int = 160) -> str:
    """Shorten and HTML-escape untrusted text for Plotly hover labels and annotations."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def wrap(text: str, *, width: int = 60) -> str:
    """Insert Plotly line breaks into already-escaped text."""
    words, lines, line = text.split(" "), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


# ------------------------------------------------------------------------------------------ routing
def restore_from_url() -> None:
    """On a fresh session, reopen the run (or reattach the job) named in the URL; then keep the
    URL pointing at what is open, so a refresh or reconnect loses nothing."""
    if not state.restored():
        state.set_restored()
        params = st.query_params
        run_id = params.get("run")
        if run_id and state.open_run() is None:
            run_dir = services.run_dir_for(run_id)
            if run_dir is not None:
                try:
                    state.set_open_run(services.open_saved(run_dir))
                except Exception:
                    logger.exception("could not reopen run %s", run_id)
        job_id = params.get("job")
        if job_id and jobs.get(job_id) is not None:
            state.set_job_id(job_id)
        lang = params.get("lang")
        if lang in LANGUAGES:  # the interface language survives a reload
            state.set_lang(lang)
    sync_url()


def sync_url() -> None:
    current = state.open_run()
    job = jobs.get(state.job_id())
    wanted: dict[str, str] = {}
    if current is not None:
        wanted["run"] = current.run_id
    if job is not None and job.active:
        wanted["job"] = job.id
    if state.lang() != "en":
        wanted["lang"] = state.lang()
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def _on_lang() -> None:
    state.set_lang(st.session_state.get(state.W_LANG) or "en")


def sidebar() -> None:
    """Language switch and a status card (data, run in progress, open run)."""
    with st.sidebar:
        if state.W_LANG not in st.session_state:
            st.session_state[state.W_LANG] = state.lang()
        st.segmented_control(
            t("sidebar.language"),
            options=list(LANGUAGES),
            format_func=lambda code: LANGUAGES[code],
            key=state.W_LANG,
            on_change=_on_lang,
            required=True,
        )
        upload = state.upload()
        current = state.open_run()
        job = jobs.get(state.job_id())
        with st.container(border=True):
            st.caption(t("sidebar.status"))
            if upload is not None:
                st.markdown(f":material/description: {md_escape(upload.filename, limit=40)}")
            elif current is not None:  # a run reopened from the Runs page or the URL
                filename = str(current.result.manifest.get("input_filename") or current.run_id)
                st.markdown(f":material/description: {md_escape(filename, limit=40)}")
            else:
                st.markdown(f":material/description: {t('sidebar.no_data')}")
            if job is not None and job.active:
                st.markdown(f":material/progress_activity: {t('sidebar.running')}")
            if current is not None:
                summary = current.result.manifest
                n_topics = sum(1 for topic in current.result.topics if topic.id >= 0)
                st.markdown(
                    f":material/category: {t('sidebar.run', topics=n_topics, rows=current.result.ledger.rows_read)}"
                )
                st.caption(md_escape(str(summary.get("model_name") or summary.get("model") or ""), limit=40))


def header(page: str) -> None:
    """Page title and its one-line purpose; then any one-shot notice, and a note when someone
    else has changed the open run since this page read it."""
    st.title(t(f"{page}.title"))
    st.caption(t(f"{page}.intro"))
    message = state.notice()
    if message:
        kind, text = message
        getattr(st, kind if kind in ("success", "info", "warning", "error") else "info")(text)
    changed_elsewhere()


CHANGES_CHECK_S = 10.0
"""How often an open page checks (one ``stat``) whether someone else changed the open run."""


@st.fragment(run_every=CHANGES_CHECK_S)
def changed_elsewhere() -> None:
    """Say (with a reload button) that another analyst changed the open run's edits.

    A fragment: it reruns alone every few seconds, so the note appears without the analyst doing
    anything, and reloading reruns the whole page with the latest version."""
    current = state.open_run()
    if current is None:
        return
    try:
        n = services.changes_elsewhere(current, author=state.analyst())
    except Exception:  # the note is a courtesy; never break the page for it
        logger.warning("could not check the edit log of %s", current.run_id, exc_info=True)
        return
    if n:
        with st.container(border=True):
            st.warning(t("edits.changed_elsewhere", n=n), icon=":material/group:")
            if st.button(t("edits.reload"), key="w_reload_edits", icon=":material/refresh:"):
                state.set_open_run(services.reload(current))
                st.rerun()


def edit_refused(exc: BaseException) -> str:
    """The analyst's message for a refused edit or undo (an ``EditConflict``)."""
    code = str(getattr(exc, "code", "") or "conflict")
    topics = ", ".join(str(i) for i in getattr(exc, "topics", []) or [])
    if code not in ("conflict", "undo_blocked", "nothing_to_undo"):
        return str(getattr(exc, "user_message", "") or t("common.unexpected"))
    return t(f"edits.{code}", topics=topics or "—")


def require_result():
    """The open run's result, or a friendly pointer to where to get one (and stop the page)."""
    result = state.result()
    if result is None:
        st.info(t("common.no_run"), icon=":material/info:")
        col1, col2, _ = st.columns([1, 1, 3])
        col1.page_link("views/data.py", label=t("common.go_data"), icon=":material/upload_file:")
        col2.page_link("views/runs.py", label=t("common.go_runs"), icon=":material/history:")
        st.stop()
    return result


def show_error(exc: BaseException) -> None:
    """A product error in plain words (never a traceback)."""
    from pipeline.errors import FeedbackTopicsError

    if isinstance(exc, FeedbackTopicsError):
        st.error(md_escape(exc.user_message, limit=2000), icon=":material/error:")  # may quote the file
    else:
        logger.exception("unexpected error", exc_info=exc)
        st.error(t("common.unexpected"), icon=":material/error:")


def fmt_int(value: int) -> str:
    return f"{int(value):,}"


def fmt_pct(value: float) -> str:
    return f"{100 * float(value):.1f}%"


def apply_edit(edit: dict, done_key: str) -> bool:
    """Append one edit to the open run's shared log, and say how it went.

    A conflict with another analyst's edit reloads the run and says so; any other refusal shows
    its message. Returns whether the edit was saved.
    """
    current = state.open_run()
    if current is None:
        return False
    from pipeline.store import EditConflict

    try:
        updated, merged = services.edit(current, edit, author=state.analyst())
    except EditConflict as exc:
        state.set_open_run(services.reload(current))
        state.set_notice("error", edit_refused(exc))
        return False
    except Exception as exc:
        state.set_notice(
            "error", md_escape(getattr(exc, "user_message", ""), limit=2000) or t("common.unexpected")
        )
        return False
    state.set_open_run(updated)
    text = t(done_key)
    if merged:
        text += " " + t("edits.merged_with_others", n=merged)
    state.set_notice("success", text)
    return True
