"""Dashboard robustness (issue 15): no Markdown from the file, local-only server, one upload limit,
a run folder per run, an offline favicon."""

from __future__ import annotations

import re
import threading
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests._app_helpers import ROOT, new_app, texts

# an image that would fetch a URL, a link, bold, maths and an emoji code, all from the file
HOSTILE = "![x](http://127.0.0.1:9/t.png) [click](http://127.0.0.1:9/) **bold** $x^2$ :smile:"


def _unescaped_markdown(shown: str) -> list[str]:
    patterns = [r"(?<!\\)!(?<!\\)\[", r"(?<!\\)\]\(", r"(?<!\\)\*\*", r"(?<!\\)\$", r"(?<!\\):smile(?<!\\):"]
    return [p for p in patterns if re.search(p, shown)]


def test_load_warnings_do_not_render_markdown_from_the_file(app) -> None:
    body = f"{HOSTILE}\nid,text\n" + "".join(f"{i},answer number {i}\n" for i in range(20))
    app.file_uploader(key="w_upload").set_value(("banner.csv", body.encode(), "text/csv")).run()
    assert not app.exception
    warnings = [w for w in texts(app, "warning") if "png" in w]
    assert warnings, texts(app, "warning")
    for shown in warnings:
        assert not _unescaped_markdown(shown), shown


def test_load_errors_do_not_render_markdown_from_the_file(app) -> None:
    name = "![x](http://127.0.0.1:9/t.png) **b**.csv"
    app.file_uploader(key="w_upload").set_value((name, b"", "text/csv")).run()
    assert not app.exception
    errors = [e for e in texts(app, "error") if "png" in e]
    assert errors, texts(app, "error")
    for shown in errors:
        assert not _unescaped_markdown(shown), shown


def test_streamlit_config_listens_locally_and_shares_the_cli_upload_limit() -> None:
    from pipeline.types import LoadOptions

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == LoadOptions().max_bytes


def test_dashboard_command_works_from_any_folder_with_safe_settings(monkeypatch, tmp_path) -> None:
    from pipeline.cli import dashboard_command

    monkeypatch.chdir(tmp_path)  # started from elsewhere
    command, cwd = dashboard_command(port=8600)
    assert Path(command[4]) == ROOT / "dashboard" / "app.py"
    assert cwd == ROOT  # where .streamlit/config.toml is read
    for flag in ("--server.address=127.0.0.1", "--server.port=8600", "--client.showErrorDetails=none"):
        assert flag in command
    assert "--server.maxUploadSize=200" in command


def test_two_runs_of_one_file_in_one_second_get_two_folders(tmp_path: Path) -> None:
    from dashboard.services import reserve_run_dir

    got: list[Path] = []
    lock = threading.Lock()

    def take() -> None:
        path = reserve_run_dir(tmp_path, "20261201-101010-feedback-abc123")
        with lock:
            got.append(path)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(got)) == 8 and all(p.is_dir() for p in got)


def test_store_new_run_dir_is_unique_too(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from pipeline.store import new_run_dir

    result = SimpleNamespace(load_report=SimpleNamespace(filename="f.csv", sha256="ab" * 32))
    first, second = new_run_dir(tmp_path, result), new_run_dir(tmp_path, result)  # type: ignore[arg-type]
    assert first != second and first.is_dir() and second.is_dir()


def test_favicon_is_drawn_locally() -> None:
    from dashboard import ui

    icon = np.asarray(ui.favicon())
    assert (
        icon.shape == (32, 32, 3)
        and icon.dtype == np.uint8
        and len(np.unique(icon.reshape(-1, 3), axis=0)) == 2
    )
    source = (ROOT / "dashboard" / "app.py").read_text(encoding="utf-8")
    assert "page_icon=ui.favicon()" in source


def _renamed_date_result():
    import dataclasses

    from tests._result_factory import make_result

    result = make_result(120, with_payloads=False)
    table = result.table.rename(columns={"date": "submitted"})
    order = ["channel", *[c for c in table.columns if c != "channel"]]  # a non-date column first
    return dataclasses.replace(result, table=table[order])


def test_trends_preselects_the_column_holding_dates(app, tmp_path: Path) -> None:
    from tests._app_helpers import goto, open_result

    open_result(app, _renamed_date_result(), tmp_path / "runs" / "run-dates")
    goto(app, "trends")
    assert not app.exception
    assert app.selectbox(key="w_date_col").value == "submitted"
    assert not texts(app, "error")


def test_trends_error_speaks_chinese_under_chinese(app, tmp_path: Path) -> None:
    from dashboard import state
    from tests._app_helpers import goto, open_result

    app.segmented_control(key=state.W_LANG).set_value("zh").run()
    open_result(app, _renamed_date_result(), tmp_path / "runs" / "run-zh")
    goto(app, "trends")
    app.selectbox(key="w_date_col").set_value("channel").run()
    assert not app.exception
    errors = texts(app, "error")
    assert errors and all("没有可识别的日期" in e for e in errors), errors


def test_language_choice_survives_a_reload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import state

    at = new_app(tmp_path / "runs", monkeypatch)
    at.run()
    at.segmented_control(key=state.W_LANG).set_value("zh").run()
    assert at.query_params.get("lang") in ("zh", ["zh"])
    fresh = new_app(tmp_path / "runs", monkeypatch)  # a reload is a new session with the same URL
    fresh.query_params["lang"] = "zh"
    fresh.run()
    assert not fresh.exception
    assert fresh.title[0].value == "反馈数据"


def test_uploader_words_follow_the_interface_language(app) -> None:
    from dashboard import state

    def styles() -> str:
        return " ".join(str(getattr(e.proto, "body", "")) for e in app.get("html"))

    assert "选择文件" not in styles()  # English: Streamlit's own words stay
    app.segmented_control(key=state.W_LANG).set_value("zh").run()
    assert not app.exception
    assert "选择文件" in styles() and "200 MB" in styles()
