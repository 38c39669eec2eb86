"""Data page: upload a file (or take the sample), check how it was read, pick the text column."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import services, state, ui
from dashboard.i18n import t

ENCODINGS = [
    "utf-8",
    "utf-8-sig",
    "gb18030",
    "gbk",
    "big5",
    "shift_jis",
    "euc-kr",
    "utf-16",
    "cp1252",
    "latin-1",
]
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _on_upload() -> None:
    uploaded = st.session_state.get("w_upload")
    if uploaded is not None:
        state.set_upload(state.Upload.from_bytes(uploaded.name, uploaded.getvalue()))


def _use_sample() -> None:
    state.set_upload(services.sample_upload())


def _on_read_options() -> None:
    encoding = st.session_state.get("w_encoding")
    delimiter = st.session_state.get("w_delimiter")
    state.set_read_options(
        state.ReadOptions(
            encoding=None if encoding in (None, "auto") else encoding,
            delimiter=None if delimiter in (None, "auto") else delimiter,
        )
    )


def _on_text_column() -> None:
    state.set_text_column(st.session_state.get("w_text_column"))


def _uploader_css() -> str:
    """CSS that shows the uploader's built-in English words (button, size line) in the interface
    language: Streamlit has no setting for them. Static text from the string table, never file text."""
    from dashboard.i18n import current_language

    if current_language() == "en":
        return ""
    button, limits = t("data.uploader_button"), t("data.uploader_limits")
    zone = '[data-testid="stFileUploaderDropzone"]'
    hint = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    return (
        "<style>"
        f'{zone} button [data-testid="stMarkdownContainer"] p {{font-size: 0;}}'
        f'{zone} button [data-testid="stMarkdownContainer"] p::after {{content: "{button}"; font-size: 0.875rem;}}'
        f"{hint} {{font-size: 0;}}"
        f'{hint}::after {{content: "{limits}"; font-size: 0.875rem;}}'
        "</style>"
    )


def _choose_file() -> None:
    left, right = st.columns([3, 2], gap="large")
    css = _uploader_css()
    if css:
        st.html(css)
    with left:
        st.file_uploader(
            t("data.upload"),
            type=services.UPLOAD_TYPES,
            key="w_upload",
            on_change=_on_upload,
            help=t("data.upload_help"),
        )
    with right, st.container(border=True):
        st.markdown(f"**{t('data.sample_title')}**")
        st.caption(t("data.sample_caption"))
        st.button(
            t("data.sample_button"),
            icon=":material/auto_awesome:",
            on_click=_use_sample,
            key="w_sample",
            disabled=not services.SAMPLE_FILE.is_file(),
        )


def _read_options_panel(table) -> None:
    report = table.report if table is not None else None
    options = state.read_options()
    with st.expander(t("data.read_options"), icon=":material/tune:", expanded=table is None):
        st.caption(t("data.read_options_help"))
        col1, col2 = st.columns(2)
        encodings = ["auto", *ENCODINGS]
        if report is not None:
            for alt in report.encoding_alternatives:
                if alt not in encodings:
                    encodings.append(alt)
        if options.encoding and options.encoding not in encodings:
            encodings.append(options.encoding)
        st.session_state["w_encoding"] = options.encoding or "auto"
        col1.selectbox(
            t("data.encoding"),
            encodings,
            key="w_encoding",
            on_change=_on_read_options,
            format_func=lambda e: t("data.auto_detect") if e == "auto" else e,
        )
        delimiters = ["auto", *DELIMITERS]
        st.session_state["w_delimiter"] = options.delimiter or "auto"
        col2.selectbox(
            t("data.delimiter"),
            delimiters,
            key="w_delimiter",
            on_change=_on_read_options,
            format_func=lambda d: t("data.auto_detect") if d == "auto" else t(f"data.delim.{DELIMITERS[d]}"),
        )


def _facts(table) -> None:
    report = table.report
    cols = st.columns(4)
    cols[0].metric(t("data.rows"), ui.fmt_int(report.rows_read))
    cols[1].metric(t("data.columns"), ui.fmt_int(len(report.columns)))
    cols[2].metric(t("data.format"), str(report.format).upper())
    encoding = report.encoding or "—"
    if report.encoding_confidence is not None and report.encoding:
        encoding = f"{report.encoding} ({report.encoding_confidence:.0%})"
    cols[3].metric(t("data.encoding"), encoding)
    if report.delimiter:
        name = DELIMITERS.get(report.delimiter)
        label = t(f"data.delim.{name}") if name else repr(report.delimiter)
        st.caption(t("data.detected_delimiter", delimiter=label))


def _problems(table) -> None:
    report = table.report
    for warning in report.warnings:
        st.warning(ui.md_escape(warning, limit=2000), icon=":material/warning:")  # quotes the file
    if not report.issues:
        return
    counts = report.issue_counts()
    lines = [
        t("data.problem_line", count=ui.fmt_int(n), reason=t.reason(reason)) for reason, n in counts.items()
    ]
    st.warning(
        t("data.problems", n=ui.fmt_int(len(report.issues))) + "\n\n" + "\n".join(lines),
        icon=":material/report:",
    )
    frame = pd.DataFrame(
        [
            {"row": i.row, "line": i.line, "reason": t.reason(i.reason), "detail": i.detail}
            for i in report.issues
        ]
    )
    with st.expander(t("data.problem_rows"), icon=":material/table_rows:"):
        st.dataframe(frame, hide_index=True, width="stretch", height=240)
        st.download_button(
            t("data.download_problems"),
            data=services.issues_csv(frame),
            file_name="load_problems.csv",
            mime="text/csv",
            icon=":material/download:",
            key="w_dl_problems",
        )


def _columns(table) -> str | None:
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    if not columns:
        return None
    try:
        detected, reason = services.detect_text_column(table)
    except Exception as exc:
        ui.show_error(exc)
        detected, reason = columns[0], ""
    chosen = state.text_column()
    if chosen not in columns:
        chosen = detected
        state.set_text_column(chosen)
    st.subheader(t("data.columns_title"))
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.session_state["w_text_column"] = chosen
        st.selectbox(t("data.text_column"), columns, key="w_text_column", on_change=_on_text_column)
        if chosen == detected and reason:
            st.caption(t("data.text_column_reason", reason=ui.md_escape(reason, limit=160)))
    with right:
        roles = services.recognise_columns(columns, chosen)
        st.markdown(f"**{t('data.optional_columns')}**")
        if roles:
            st.dataframe(
                pd.DataFrame(
                    [
                        {t("data.role"): t(f"role.{role}"), t("data.column"): column}
                        for role, column in roles.items()
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption(t("data.no_optional"))
    return chosen


def _documents(upload, table, column: str) -> None:
    try:
        docs = services.documents(upload, state.read_options(), table, column)
    except Exception as exc:
        ui.show_error(exc)
        return
    excluded = docs.excluded_counts()
    ok = docs.n_rows - sum(excluded.values())
    parts = [t("data.docs_ok", n=ui.fmt_int(ok))]
    parts += [
        t("data.docs_excluded", n=ui.fmt_int(n), reason=t.reason(r)) for r, n in sorted(excluded.items())
    ]
    st.info(" · ".join(parts), icon=":material/fact_check:")


def render() -> None:
    ui.header("data")
    _choose_file()
    upload = state.upload()
    if upload is None:
        st.caption(t("data.formats"))
        return

    st.divider()
    table = None
    error = None
    try:
        table = services.load(upload, state.read_options())
    except Exception as exc:
        error = exc
    st.subheader(t("data.file_title", name=ui.md_escape(upload.filename, limit=60)))
    if error is not None:
        ui.show_error(error)
        st.caption(t("data.try_override"))
        _read_options_panel(None)
        return
    _facts(table)
    _read_options_panel(table)
    _problems(table)
    column = _columns(table)
    st.subheader(t("data.preview"))
    st.dataframe(table.frame.head(200), width="stretch", height=320)
    if column:
        _documents(upload, table, column)
        st.page_link("views/run.py", label=t("data.next"), icon=":material/arrow_forward:")


render()
