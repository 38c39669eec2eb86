"""Dashboard: 'use the topics of an earlier run' on the Run page; comparison and alerts on Trends."""

from __future__ import annotations

import dataclasses
from pathlib import Path

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
