"""AppTest tests of every dashboard page (headless, no browser).

Runs use the ``fake`` embedder; explored runs are built by ``tests/_result_factory.make_result``
(hostile customer text included) or saved by a real pipeline run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dashboard import jobs, state
from tests._app_helpers import APP, ROOT, goto, new_app, open_result, texts
from tests._result_factory import TEXT_COLUMN, make_result

SAMPLE = ROOT / "sample_data" / "feedback_sample.csv"


def _no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not texts(at, "error"), texts(at, "error")


# --------------------------------------------------------------------------------------- first page
def test_first_page_is_fast_and_imports_no_heavy_module() -> None:
    code = (
        "import sys, time\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(APP)!r}, default_timeout=30)\n"
        "t0 = time.perf_counter(); at.run(); dt = time.perf_counter() - t0\n"
        "heavy = sorted(m for m in ('torch', 'umap', 'transformers', 'sentence_transformers', 'hdbscan', 'jieba') if m in sys.modules)\n"
        "print(dt, ','.join(heavy), len(at.exception), at.title[0].value)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    seconds, heavy, n_exc, title = out.stdout.strip().splitlines()[-1].split(" ", 3)
    assert heavy == ""
    assert n_exc == "0"
    assert title == "Your feedback data"
    assert float(seconds) < 3.0


# --------------------------------------------------------------------------------------------- data
def test_upload_good_file_shows_preview_columns_and_roles(app) -> None:
    app.file_uploader(key="w_upload").set_value((SAMPLE.name, SAMPLE.read_bytes(), "text/csv")).run()
    _no_errors(app)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Rows"] == "600"
    assert app.selectbox(key="w_text_column").value == "feedback"
    roles = app.dataframe[0].value
    assert dict(zip(roles.iloc[:, 0], roles.iloc[:, 1], strict=True)) == {
        "Date": "date",
        "Rating": "rating",
        "Channel": "channel",
        "ID": "id",
    }
    assert state.UPLOAD in app.session_state
    assert app.session_state[state.UPLOAD].sha256 and app.session_state[state.UPLOAD].filename == SAMPLE.name


def test_sample_button_and_text_column_change(app) -> None:
    app.button(key="w_sample").click().run()
    _no_errors(app)
    app.selectbox(key="w_text_column").set_value("channel").run()
    _no_errors(app)
    assert app.session_state[state.TEXT_COLUMN] == "channel"
    # the choice survives leaving the page (it lives in a plain key, not in the widget)
    goto(app, "runs")
    goto(app, "data")
    assert app.selectbox(key="w_text_column").value == "channel"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.csv", b""),
        ("binary.csv", bytes(range(256)) * 40),
        ("broken.xlsx", b"PK\x03\x04 this is not a workbook"),
    ],
    ids=["empty", "binary", "broken-xlsx"],
)
def test_upload_bad_file_shows_a_plain_message(app, name: str, data: bytes) -> None:
    app.file_uploader(key="w_upload").set_value((name, data, "application/octet-stream")).run()
    assert not app.exception
    shown = texts(app, "error") + texts(app, "warning")
    assert shown, "a bad file must be explained"
    assert not any("Traceback" in s or "Something went wrong" in s for s in shown)


def test_encoding_override_rereads_the_file(app) -> None:
    rows = "id,text\n" + "".join(f"{i},退款一直没有到账，客服也不回复 {i}\n" for i in range(30))
    app.file_uploader(key="w_upload").set_value(("gbk.csv", rows.encode("gb18030"), "text/csv")).run()
    _no_errors(app)
    app.selectbox(key="w_encoding").set_value("gb18030").run()
    _no_errors(app)
    assert app.session_state[state.READ_OPTIONS].encoding == "gb18030"
    preview = app.dataframe[-1].value
    assert "退款" in str(preview.iloc[0, 1])


def test_load_problems_are_listed_and_downloadable(app) -> None:
    good = "".join(f'{i},"ok text number {i} about delivery"\n' for i in range(40))
    bad = good + '41,"broken "quote" here,extra,fields,,\n' + "42,fine again\n"
    app.file_uploader(key="w_upload").set_value(
        ("bad_lines.csv", ("id,text\n" + bad).encode(), "text/csv")
    ).run()
    assert not app.exception
    report = app.session_state[state.UPLOAD]
    assert report is not None
    if app.get("download_button"):
        assert any(b.proto.label.startswith("Download affected rows") for b in app.get("download_button"))


# ---------------------------------------------------------------------------------------------- run
def _wait_for_job(at, timeout: float = 120.0):
    job_id = at.session_state[state.JOB_ID]
    job = jobs.wait(job_id, timeout=timeout)
    assert job is not None and not job.active, (
        f"run did not finish: {jobs.summary(job) if job else None} {jobs.load()}"
    )
    at.run()
    return job


@pytest.mark.slow
def test_run_with_fake_embedder_saves_and_opens_the_run(app, workspace: Path) -> None:
    app.button(key="w_sample").click().run()
    goto(app, "run")
    _no_errors(app)
    app.selectbox(key="w_model").set_value("fake").run()
    app.button(key="w_start").click().run()
    assert not app.exception
    job = _wait_for_job(app)
    assert job.status == "done", jobs.summary(job)
    # the stages reported progress with counts
    assert job.stages["embed"][1] > 0
    assert job.stages["embed"][0] == job.stages["embed"][1]
    _no_errors(app)
    assert any("finished" in s for s in texts(app, "success"))
    current = app.session_state[state.RUN]
    assert Path(current.run_dir).parent == workspace
    assert (Path(current.run_dir) / "run.json").is_file()
    assert app.query_params.get("run") == [current.run_id] or app.query_params.get("run") == current.run_id
    goto(app, "topics")
    _no_errors(app)
    assert int(app.metric[0].value.replace(",", "")) == 600


def test_large_files_offer_the_umap_sample_size_and_pass_it_to_the_run(app, monkeypatch) -> None:
    from dashboard import services

    started: list = []
    monkeypatch.setattr(
        services,
        "start_run",
        lambda upload, config: started.append(config) or jobs.start(lambda job: "", filename=upload.filename),
    )
    app.button(key="w_sample").click().run()
    goto(app, "run")
    shown = [w.key for w in app.get("number_input")]
    assert "w_umap_fit_rows" not in shown, "a 600-row file is fitted whole: no sample size to choose"
    rows = "text\n" + "".join(
        f"feedback number {i} about the {('app', 'card', 'parcel')[i % 3]}\n" for i in range(26_000)
    )
    goto(app, "data")
    app.file_uploader(key="w_upload").set_value(("big.csv", rows.encode(), "text/csv")).run()
    goto(app, "run")
    _no_errors(app)
    app.number_input(key="w_umap_fit_rows").set_value(20_000).run()
    app.button(key="w_start").click().run()
    assert not app.exception
    assert started and started[-1].umap_fit_rows == 20_000


def test_cancel_stops_a_run(app, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import services

    def slow_work(upload, config):
        def work(job):
            for i in range(200):
                job.progress("embed", i, 200)
                time.sleep(0.02)
            return ""

        return jobs.start(work, filename=upload.filename)

    monkeypatch.setattr(services, "start_run", slow_work)
    app.button(key="w_sample").click().run()
    goto(app, "run")
    app.button(key="w_start").click().run()
    assert not app.exception
    job_id = app.session_state[state.JOB_ID]
    assert job_id
    assert app.button(key="w_cancel")
    app.button(key="w_cancel").click().run()
    # the cancel callback runs before the page, which may already see the run cancelled
    shown = texts(app, "info")
    job = jobs.wait(job_id, timeout=20)
    assert job is not None and job.status == "cancelled"
    app.run()
    assert any("cancelled" in s for s in shown + texts(app, "info"))
    assert app.session_state[state.RUN] is None if state.RUN in app.session_state else True


# ------------------------------------------------------------------------------------------- topics
def test_topics_overview_and_table(app, workspace: Path) -> None:
    result = make_result(120)
    open_result(app, result, workspace / "run-a")
    goto(app, "topics")
    _no_errors(app)
    assert [m.value for m in app.metric[:3]] == ["120", str(result.ledger.rows_clustered), "4"]
    # customer text (hostile payloads included) is never rendered as Markdown
    markdown = " ".join(str(m.value) for m in app.markdown)
    assert "<script>" not in markdown and "javascript:" not in markdown


def test_rename_merge_and_undo(app, workspace: Path) -> None:
    result = make_result(120, with_payloads=False)
    run_dir = workspace / "run-b"
    open_result(app, result, run_dir)
    goto(app, "topics")
    app.selectbox(key="w_rename_topic").set_value(2)
    app.text_input(key="w_rename_name").set_value("Login problems")
    app.button(key="w_rename_btn").click().run()
    _no_errors(app)
    current = app.session_state[state.RUN]
    assert current.result.topic_names()[2] == "Login problems"
    saved = json.loads((run_dir / "edits.json").read_text())
    assert [{k: e[k] for k in ("op", "topic_id", "name")} for e in saved] == [
        {"op": "rename", "topic_id": 2, "name": "Login problems"}
    ]
    assert saved[0]["author"] == app.session_state[state.ANALYST] and saved[0]["based_on"] == 0

    before = {t.id for t in current.result.topics}
    app.multiselect(key="w_merge_topics").set_value([0, 1])
    app.text_input(key="w_merge_name").set_value("Orders & money")
    app.button(key="w_merge_btn").click().run()
    _no_errors(app)
    merged = app.session_state[state.RUN].result
    assert len({t.id for t in merged.topics}) == len(before) - 1
    names = merged.topic_names()
    assert "Orders & money" in names.values()
    new_topic = next(t for t in merged.topics if t.name == "Orders & money")
    sizes = {t.id: t.size for t in result.topics}
    assert new_topic.size == sizes[0] + sizes[1]
    assert new_topic.keywords and new_topic.examples
    assert len(json.loads((run_dir / "edits.json").read_text())) == 2

    app.button(key="w_undo").click().run()
    _no_errors(app)
    undone = app.session_state[state.RUN].result
    assert {t.id for t in undone.topics} == before
    assert undone.topic_names()[2] == "Login problems"
    log = json.loads((run_dir / "edits.json").read_text())
    assert [e["op"] for e in log] == ["rename", "merge", "undo"]  # appended, never rewritten
    assert log[2]["target"] == log[1]["id"]


def test_merge_needs_two_topics(app, workspace: Path) -> None:
    open_result(app, make_result(60, with_payloads=False), workspace / "run-c")
    goto(app, "topics")
    app.multiselect(key="w_merge_topics").set_value([0])
    app.button(key="w_merge_btn").click().run()
    assert not app.exception
    assert any("at least two" in s for s in texts(app, "warning"))
    assert app.session_state[state.RUN].edits == []


def test_topic_detail_texts_are_searchable_and_paginated(app, workspace: Path) -> None:
    result = make_result(400, with_payloads=False)
    open_result(app, result, workspace / "run-d")
    goto(app, "topics")
    first = app.selectbox(key="w_detail_topic").value
    size = next(t.size for t in result.topics if t.id == first)
    assert any(c.value == f"{size:,} texts" for c in app.caption)
    assert app.get("pagination"), "a topic with more than 25 texts is paginated"
    app.text_input(key=f"w_texts_query_{first}").set_value("#1000").run()
    _no_errors(app)
    assert any(c.value in ("1 texts", "0 texts") for c in app.caption)


# ---------------------------------------------------------------------------------------------- map
def test_map_selection_lists_rows_and_topic_mix(app, workspace: Path) -> None:
    result = make_result(200)
    run_dir = workspace / "run-e"
    open_result(app, result, run_dir)
    goto(app, "map")
    _no_errors(app)
    assert app.get("plotly_chart")
    assert any(s.value == "Selected feedback: 0" for s in app.subheader)
    coords = result.row_coords()
    finite = np.isfinite(coords).all(axis=1)
    # a box around topic 0's centre (6, 0) with radius 3
    app.session_state[state.MAP_SELECTION] = {
        "run_id": run_dir.name,
        "box": [{"x": [3.0, 9.0], "y": [-3.0, 3.0], "xref": "x", "yref": "y"}],
        "lasso": [],
    }
    app.run()
    _no_errors(app)
    inside = finite & (coords[:, 0] >= 3) & (coords[:, 0] <= 9) & (np.abs(coords[:, 1]) <= 3)
    assert any(s.value == f"Selected feedback: {int(inside.sum())}" for s in app.subheader)
    mix = app.dataframe[0].value
    assert int(mix["count"].sum()) == int(inside.sum())
    listed = app.dataframe[1].value
    assert sorted(listed["row"]) == sorted(np.flatnonzero(inside))


def test_map_colour_options(app, workspace: Path) -> None:
    open_result(app, make_result(80), workspace / "run-f")
    goto(app, "map")
    for option in ("language", "rating", "date", "topic"):
        app.segmented_control(key="w_colour_by").set_value(option).run()
        _no_errors(app)


# ------------------------------------------------------------------------------------------- search
def test_search_ranks_by_similarity(app, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import services

    result = make_result(120, with_payloads=False)
    target = 7
    vectors = result.embeddings.vectors

    class Echo:
        dim = vectors.shape[1]

        def embed(self, texts, *, kind="document", progress=None):
            assert kind == "query"
            return vectors[[target]]

    monkeypatch.setattr(services, "run_embedder", lambda r: ("fake", {}))
    monkeypatch.setattr(services, "embedder", lambda *a, **k: Echo())
    open_result(app, result, workspace / "run-g")
    goto(app, "search")
    _no_errors(app)
    app.text_input(key="w_query").set_value("refund")
    app.selectbox(key="w_search_mode").set_value("dense")
    app.checkbox(key="w_search_polarity").uncheck()
    app.button[0].click().run()
    _no_errors(app)
    hits = app.dataframe[0].value
    assert set(hits["count"]) >= {1}
    assert int(hits.iloc[0]["row"]) == int(result.documents.unique_rows[target])
    assert hits.iloc[0]["similarity"] == pytest.approx(1.0, abs=1e-5)
    assert list(hits["similarity"]) == sorted(hits["similarity"], reverse=True)
    assert len(hits) == 20


def test_search_page_exact_phrase_and_topic_filter(
    app, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import services

    result = make_result(120, with_payloads=False)
    vectors = result.embeddings.vectors

    class Echo:
        dim = vectors.shape[1]
        model_id = "echo"

        def embed(self, texts, *, kind="document", progress=None):
            return vectors[[0] * len(texts)]

    monkeypatch.setattr(services, "run_embedder", lambda r: ("fake", {}))
    monkeypatch.setattr(services, "embedder", lambda *a, **k: Echo())
    open_result(app, result, workspace / "run-g2")
    goto(app, "search")
    texts = result.table[TEXT_COLUMN].astype(str)
    phrase = " ".join(texts.iloc[int(result.documents.unique_rows[0])].split()[:3])
    app.text_input(key="w_query").set_value(phrase)
    app.selectbox(key="w_search_mode").set_value("exact")
    app.button[0].click().run()
    _no_errors(app)
    hits = app.dataframe[0].value
    assert len(hits) > 0 and hits["text"].str.lower().str.contains(phrase.lower(), regex=False).all()
    assert (hits["count"] >= 1).all()
    topic = int(hits.iloc[0]["row"])
    topic_id = int(result.row_labels()[topic])
    app.multiselect(key="w_search_topics").set_value([topic_id])
    app.button[0].click().run()
    _no_errors(app)
    names = result.topic_names()
    assert set(app.dataframe[0].value["topic"]) == {names[topic_id]}


# ------------------------------------------------------------------------------------------- trends
def test_trends_page(app, workspace: Path) -> None:
    open_result(app, make_result(300, with_payloads=False), workspace / "run-h")
    goto(app, "trends")
    _no_errors(app)
    assert app.selectbox(key="w_date_col").value == "date"
    assert app.get("plotly_chart")
    app.segmented_control(key="w_freq").set_value("M").run()
    app.segmented_control(key="w_measure").set_value("share").run()
    _no_errors(app)


def test_trends_without_dates_says_so(app, workspace: Path) -> None:
    result = make_result(60, with_payloads=False)
    open_result(app, result, workspace / "run-i")
    goto(app, "trends")
    app.selectbox(key="w_date_col").set_value(
        TEXT_COLUMN if result.documents.text_column != TEXT_COLUMN else "channel"
    ).run()
    assert not app.exception
    assert texts(app, "error")  # "holds no dates that could be read"


# ------------------------------------------------------------------------------------------- export
def test_export_offers_every_format_with_edits_applied(app, workspace: Path) -> None:
    result = make_result(80)
    run_dir = workspace / "run-j"
    open_result(app, result, run_dir)
    goto(app, "topics")
    app.selectbox(key="w_rename_topic").set_value(3)
    app.text_input(key="w_rename_name").set_value("Great support team")
    app.button(key="w_rename_btn").click().run()
    goto(app, "export")
    _no_errors(app)
    buttons = app.get("download_button")
    assert len(buttons) == 5
    from dashboard import services

    current = app.session_state[state.RUN]
    html = services.export_bytes(current.result, "html").decode("utf-8")
    assert "Great support team" in html
    assert "<script>alert" not in html
    csv = services.export_bytes(current.result, "csv").decode("utf-8-sig")
    assert "Great support team" in csv


# --------------------------------------------------------------------------------------------- runs
def test_reopen_a_saved_run_and_restore_from_url(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import store

    result = make_result(80, with_payloads=False)
    run_dir = workspace / "20250101-000000-sample-abcdef"
    store.save_run(result, run_dir)
    store.save_edits(run_dir, [{"op": "rename", "topic_id": 0, "name": "Shipping"}])

    at = new_app(workspace, monkeypatch)
    at.run()
    goto(at, "runs")
    _no_errors(at)
    listed = at.dataframe[0].value
    assert list(listed["run_id"]) == [run_dir.name]
    assert int(listed["edits"][0]) == 1
    at.button(key="w_run_open").click().run()
    _no_errors(at)
    current = at.session_state[state.RUN]
    assert current.result.topic_names()[0] == "Shipping"

    # a browser refresh is a new session: the URL's ?run= reopens the run with its edits
    fresh = new_app(workspace, monkeypatch)
    fresh.query_params["run"] = run_dir.name
    fresh.run()
    _no_errors(fresh)
    assert fresh.session_state[state.RUN].result.topic_names()[0] == "Shipping"


def test_url_cannot_escape_the_workspace(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    at = new_app(workspace, monkeypatch)
    at.query_params["run"] = "../secret"
    at.run()
    assert not at.exception
    assert at.session_state[state.RUN] is None if state.RUN in at.session_state else True


def test_pages_without_a_run_point_to_data(app) -> None:
    for page in ("topics", "map", "search", "trends", "export"):
        goto(app, page)
        _no_errors(app)
        assert any("No analysis is open" in s for s in texts(app, "info"))


# --------------------------------------------------------------------------------------------- i18n
def test_chinese_interface(app, workspace: Path) -> None:
    app.segmented_control(key=state.W_LANG).set_value("zh").run()
    _no_errors(app)
    assert app.title[0].value == "反馈数据"
    open_result(app, make_result(60), workspace / "run-k")
    goto(app, "topics")
    _no_errors(app)
    assert app.title[0].value == "主题"
    assert {m.label for m in app.metric} >= {"总行数", "主题数"}


def test_every_ui_string_exists_in_both_languages() -> None:
    import re

    from dashboard.i18n import STRINGS

    used: set[str] = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        if path.name == "i18n.py":
            continue
        used |= set(re.findall(r"\bt\(\s*\"([a-z_.]+)\"", path.read_text(encoding="utf-8")))
    assert used, "no t() calls found"
    missing = sorted(k for k in used if k not in STRINGS)
    assert not missing, missing
    for key, entry in STRINGS.items():
        assert entry.get("en") and entry.get("zh"), key
        # the same placeholders in both languages
        assert set(re.findall(r"{(\w+)", entry["en"])) == set(re.findall(r"{(\w+)", entry["zh"])), key


def test_two_sessions_do_not_share_uploads(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checklist case 47: two analysts upload different files with the same name at once."""
    first = new_app(workspace, monkeypatch).run()
    second = new_app(workspace, monkeypatch).run()
    other = "feedback\n" + "\n".join(f"Different file: comment number {i}" for i in range(30))
    first.file_uploader(key="w_upload").set_value(("feedback.csv", SAMPLE.read_bytes(), "text/csv")).run()
    second.file_uploader(key="w_upload").set_value(("feedback.csv", other.encode(), "text/csv")).run()
    first.run()
    _no_errors(first)
    _no_errors(second)
    assert {m.label: m.value for m in first.metric}["Rows"] == "600"
    assert {m.label: m.value for m in second.metric}["Rows"] == "30"
    assert first.session_state[state.UPLOAD].sha256 != second.session_state[state.UPLOAD].sha256
