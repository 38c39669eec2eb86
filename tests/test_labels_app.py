"""The dashboard's label-language switch and coverage warning (AppTest, a real saved run)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from pipeline.config import RunConfig
from pipeline.run import run
from pipeline.store import open_run, save_run
from tests._app_helpers import ROOT, goto, new_app, open_result, texts

SAMPLE = ROOT / "sample_data" / "feedback_sample.csv"
_CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = run(
        SAMPLE.read_bytes(),
        filename=SAMPLE.name,
        config=RunConfig(model="fake", label_language="en", n_topics=6, use_cache=False),
    )
    run_dir = tmp_path_factory.mktemp("runs") / "sample-run"
    save_run(result, run_dir)
    return run_dir


def test_label_language_switch_relabels_without_re_embedding(
    saved: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("FEEDBACK_TOPICS_DASHBOARD_TEST_MODELS", "1")
    at = new_app(tmp_path, monkeypatch)
    at.run()
    base = open_run(saved)
    assert base.label_sets[0].language == "en"
    open_result(at, base, saved, edits=[{"op": "rename", "topic_id": 0, "name": "Mine"}])
    from pipeline.analysis import apply_edits

    at.session_state["ft_run"].result = apply_edits(base, [{"op": "rename", "topic_id": 0, "name": "Mine"}])
    goto(at, "topics")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="w_label_lang").value == "en", "default: the interface language"
    at.selectbox(key="w_label_lang").set_value("zh").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not texts(at, "warning")
    result = at.session_state["ft_run"].result
    names = {tp.id: tp.name for tp in result.topics if tp.id >= 0}
    assert names[0] == "Mine", "an analyst's name survives the switch"
    assert all(_CJK.search(n) for i, n in names.items() if i != 0), names
    assert all(_CJK.search(" ".join(w for w, _ in tp.keywords)) for tp in result.topics if tp.id >= 0)
    assert any("phrases+embedding" in str(c.value) for c in at.caption)
    meta = json.loads((saved / "data" / "meta.json").read_text(encoding="utf-8"))
    assert [s["language"] for s in meta["label_sets"]] == ["en", "zh"], "the new labels are saved"
    # switching back uses the stored English labels
    at.selectbox(key="w_label_lang").set_value("en").run()
    again = at.session_state["ft_run"].result
    assert again.label_sets[0].language == "en"
    assert {tp.id: tp.name for tp in again.topics} == {
        tp.id: ("Mine" if tp.id == 0 else tp.name) for tp in base.topics
    }


def test_coverage_warning_is_shown_on_topics_and_run_pages(saved: Path, tmp_path: Path, monkeypatch) -> None:
    at = new_app(tmp_path, monkeypatch)
    at.run()
    base = open_run(saved)
    coverage = {
        "warning": "12% of the rows are in languages the use-multilingual model does not cover: da (5 rows)."
    }
    result = dataclasses.replace(base, manifest={**base.manifest, "language_coverage": coverage})
    open_result(at, result, saved)
    goto(at, "topics")
    assert any("da (5 rows)" in w for w in texts(at, "warning"))
    goto(at, "run")
    assert any("da (5 rows)" in w for w in texts(at, "warning"))
