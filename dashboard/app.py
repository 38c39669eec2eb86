"""Entry point and router: ``streamlit run dashboard/app.py``.

Holds what every page shares (page config, language switch, the status card in the sidebar,
restoring an open run from the URL) and hands over to the chosen page with ``st.navigation``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402
from dashboard.i18n import t  # noqa: E402

st.set_page_config(
    page_title="Feedback Topics",
    page_icon=ui.favicon(),  # drawn locally: the app makes no request to the internet
    layout="wide",
    initial_sidebar_state="expanded",
)

ui.restore_from_url()

_VIEWS = Path(__file__).resolve().parent / "views"


def _page(name: str, icon: str, *, default: bool = False) -> st.Page:
    return st.Page(_VIEWS / f"{name}.py", title=t(f"nav.{name}"), icon=icon, url_path=name, default=default)


pages = {
    t("nav.section.prepare"): [
        _page("data", ":material/upload_file:", default=True),
        _page("run", ":material/play_circle:"),
    ],
    t("nav.section.explore"): [
        _page("themes", ":material/account_tree:"),
        _page("topics", ":material/category:"),
        _page("map", ":material/scatter_plot:"),
        _page("search", ":material/search:"),
        _page("trends", ":material/trending_up:"),
        _page("drivers", ":material/star_half:"),
    ],
    t("nav.section.share"): [
        _page("export", ":material/download:"),
        _page("runs", ":material/history:"),
    ],
}

navigation = st.navigation(pages, position="sidebar", expanded=True)
ui.sidebar()
navigation.run()
