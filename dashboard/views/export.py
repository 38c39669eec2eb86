"""Export page: the topic report as CSV, XLSX, HTML and JSON, with the analyst's edits applied."""

from __future__ import annotations

import streamlit as st

from dashboard import services, state, ui
from dashboard.i18n import t

FORMATS = (
    ("html", "report.html", "text/html", ":material/article:"),
    (
        "xlsx",
        "topics.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ":material/table_view:",
    ),
    ("csv", "topics.csv", "text/csv", ":material/csv:"),
    ("assignments", "assignments.csv", "text/csv", ":material/table_rows:"),
    ("json", "topics.json", "application/json", ":material/data_object:"),
)


@st.cache_data(scope="session", max_entries=10, show_spinner=False)
def _bytes(run_id: str, version: str, fmt: str, _result) -> bytes:
    return services.export_bytes(_result, fmt)


def render() -> None:
    ui.header("export")
    result = ui.require_result()
    current = state.open_run()
    if current.edits:
        st.info(t("export.edits_applied", n=len(current.edits)), icon=":material/edit_note:")
    stem = current.run_id
    cols = st.columns(2, gap="medium")
    for position, (fmt, name, mime, icon) in enumerate(FORMATS):
        with cols[position % 2], st.container(border=True):
            st.markdown(f"**{t(f'export.{fmt}.title')}**")
            st.caption(t(f"export.{fmt}.help"))
            try:
                data = _bytes(current.run_id, current.version, fmt, result)
            except Exception as exc:
                ui.show_error(exc)
                continue
            st.download_button(
                t("export.download", size=f"{len(data) / 1024:,.0f} KB"),
                data=data,
                file_name=f"{stem}-{name}",
                mime=mime,
                icon=icon,
                key=f"w_dl_{fmt}",
                on_click="ignore",
                type="primary" if fmt == "html" else "secondary",
            )
    st.caption(t("export.saved_at", path=ui.md_escape(current.run_dir, limit=200)))


render()
