"""Dashboard: 'use the topics of an earlier run' on the Run page; comparison and alerts on Trends."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from dashboard import jobs
from pipeline.store import save_run
from tests._app_helpers import goto, open_result, texts
from tests._result_factory import make_result


def test_run_page_passes_the_chosen_taxonomy_run(app, workspace: Path, monkeypatch) -> None:
    from dashboard import services

    save_run(make_result(120, with_payloads=False), workspace / "20261201-100000-old-abc123")
    started: list = []
    monkeypatch.setattr(
        services,
        "start_run",
        lambda upload, config: started.append(config) or jobs.start(lambda job: "", filename=upload.filename),
    )
    app.button(key="w_sample").click().run()
    goto(app, "run")
    assert not app.exception
    box = app.selectbox(key="w_taxonomy")
    assert box.value == ""  # fresh topics unless the analyst chooses a run
    box.set_value("20261201-100000-old-abc123").run()
    app.button(key="w_start").click().run()
    assert not app.exception
    assert started and started[-1].taxonomy == str(workspace / "20261201-100000-old-abc123")


def test_trends_page_shows_the_taxonomy_comparison_and_alerts(app, workspace: Path) -> None:
    result = make_result(300, with_payloads=False)
    ids = [t.id for t in result.topics if t.id >= 0]
    taxonomy = {
        "run_id": "oldrun42",
        "rows_before": 1000,
        "size_before": {str(i): 250 for i in ids[:-1]},
        "origin": {str(i): "taxonomy" for i in ids[:-1]} | {str(ids[-1]): "new"},
    }
    result = dataclasses.replace(result, manifest={**result.manifest, "taxonomy": taxonomy})
    open_result(app, result, workspace / "run-t")
    goto(app, "trends")
    assert not app.exception, [e.value for e in app.exception]
    assert not texts(app, "error")
    assert any("oldrun42" in m.value for m in app.markdown)
    comparison = app.dataframe[0].value
    assert set(comparison.columns) >= {"share_before", "share_change", "p_value", "status"}
    assert comparison.set_index("topic_id").loc[ids[-1], "status"] == "new"
    assert any("Alerts" in e.label for e in app.expander)


def test_a_reopened_run_is_rerun_with_new_settings_without_an_upload(
    app, workspace: Path, monkeypatch
) -> None:
    """Issue 14 part 4: the Run page offers the open run's own data; the job gets that run's folder."""
    from dashboard import services, state

    run_dir = workspace / "20261201-100000-old-abc123"
    save_run(make_result(120, with_payloads=False), run_dir)
    started: list = []
    monkeypatch.setattr(
        services,
        "start_rerun",
        lambda current, config: (
            started.append((current.run_dir, config)) or jobs.start(lambda job: "", filename="x")
        ),
    )
    goto(app, "runs")
    app.button(key="w_run_open").click().run()
    assert app.session_state[state.UPLOAD] is None if state.UPLOAD in app.session_state else True
    goto(app, "run")
    assert not app.exception, [e.value for e in app.exception]
    assert not any("Load a file first" in s for s in texts(app, "info"))
    assert any("Re-run this data" in h.value for h in app.subheader)
    column = app.selectbox(key="w_rerun_column")
    assert column.value == "feedback"  # the run's own text column first
    app.toggle(key="w_auto_k").set_value(False).run()
    app.number_input(key="w_k").set_value(5).run()
    app.button(key="w_start").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert started and started[-1][0] == str(run_dir)
    assert started[-1][1].n_topics == 5 and started[-1][1].text_column == "feedback"


def test_with_a_file_loaded_the_analyst_picks_the_file_or_the_open_runs_data(
    app, workspace: Path, monkeypatch
) -> None:
    from dashboard import services

    run_dir = workspace / "20261201-100000-old-abc123"
    save_run(make_result(120, with_payloads=False), run_dir)
    calls: list = []
    monkeypatch.setattr(
        services,
        "start_run",
        lambda upload, config: calls.append("file") or jobs.start(lambda j: "", filename="f"),
    )
    monkeypatch.setattr(
        services,
        "start_rerun",
        lambda current, config: calls.append("run") or jobs.start(lambda j: "", filename="r"),
    )
    goto(app, "runs")
    app.button(key="w_run_open").click().run()
    goto(app, "data")
    app.button(key="w_sample").click().run()
    goto(app, "run")
    assert app.radio(key="w_source").value == "upload"  # the loaded file, unless the analyst switches
    app.button(key="w_start").click().run()
    for _ in range(100):  # the fake job runs in a thread: wait until the page shows the form again
        if any(r.key == "w_source" for r in app.radio):
            break
        time.sleep(0.05)
        app.run()
    app.radio(key="w_source").set_value("rerun").run()
    app.button(key="w_start").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert calls == ["file", "run"]


def test_a_rerun_shows_its_lineage_and_a_run_without_data_says_so(app, workspace: Path) -> None:
    result = make_result(80, with_payloads=False)
    lineage = {"run_id": "20261130-oldrun", "changed": {"n_topics": [None, 5]}}
    result = dataclasses.replace(result, manifest={**result.manifest, "rerun_of": lineage})
    open_result(app, result, workspace / "run-r")  # a folder without the run's data files
    goto(app, "run")
    assert not app.exception, [e.value for e in app.exception]
    assert any("20261130" in c.value and "topics None → 5" in c.value for c in app.caption)
    assert any("cannot be re-run" in s for s in texts(app, "info"))


@pytest.mark.slow
def test_rerun_through_the_worker_saves_a_new_run_with_its_lineage(app, workspace: Path) -> None:
    """The real flow: a saved run reopened, re-run in a worker process, the new run opened."""
    from dashboard import state
    from pipeline.config import RunConfig
    from pipeline.run import run

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "feedback_sample.csv"
    first = run(sample.read_bytes(), filename=sample.name, config=RunConfig(model="fake", use_cache=False))
    source = workspace / "20261201-100000-feedback_sample-abc123"
    save_run(first, source)
    before = (source / "run.json").read_bytes()
    goto(app, "runs")
    app.button(key="w_run_open").click().run()
    goto(app, "run")
    app.selectbox(key="w_model").set_value("fake").run()
    app.toggle(key="w_auto_k").set_value(False).run()
    app.number_input(key="w_k").set_value(4).run()
    app.button(key="w_start").click().run()
    assert not app.exception, [e.value for e in app.exception]
    job = jobs.wait(app.session_state[state.JOB_ID], timeout=180)
    assert job is not None and job.status == "done", jobs.summary(job) if job else None
    app.run()
    current = app.session_state[state.RUN]
    assert Path(current.run_dir).parent == workspace and Path(current.run_dir) != source
    manifest = current.result.manifest
    assert manifest["rerun_of"]["run_id"] == source.name
    assert manifest["rerun_of"]["changed"]["n_topics"] == [None, 4]
    assert manifest["input_sha256"] == first.manifest["input_sha256"]
    assert current.result.ledger == first.ledger
    assert sum(1 for t in current.result.topics if t.id >= 0) == 4
    assert (source / "run.json").read_bytes() == before  # the source run is left as it was
