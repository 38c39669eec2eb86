"""AppTest of curation on the Topics and Map pages: split, delete, seed, move, undo and redo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dashboard import services, state
from pipeline.types import NOT_RELEVANT
from tests._app_helpers import goto, texts


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory: pytest.TempPathFactory, sample_csv: Path) -> Path:
    """A real run of the sample (fake embedder), saved as the dashboard saves runs."""
    from pipeline.config import RunConfig
    from pipeline.run import run
    from pipeline.store import save_run

    result = run(
        sample_csv.read_bytes(),
        filename=sample_csv.name,
        config=RunConfig(model="fake", n_topics=6, use_cache=False),
    )
    return save_run(result, tmp_path_factory.mktemp("saved") / "run")


def _open(app, saved_run: Path, workspace: Path) -> Path:
    run_dir = workspace / "20260101-000000-feedback_sample-abcdef"
    shutil.copytree(saved_run, run_dir)
    app.session_state[state.RUN] = services.open_saved(run_dir)
    return run_dir


def _no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not texts(at, "error"), texts(at, "error")


def _log(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "edits.json").read_text(encoding="utf-8"))


def test_split_delete_seed_then_undo_and_redo_on_the_topics_page(
    app, saved_run: Path, workspace: Path
) -> None:
    run_dir = _open(app, saved_run, workspace)
    goto(app, "topics")
    _no_errors(app)
    base = app.session_state[state.RUN].result
    biggest = max((t for t in base.topics if t.id >= 0), key=lambda t: t.size)
    assert app.button(key="w_undo").label == "Undo (0)" and app.button(key="w_redo").disabled

    app.selectbox(key="w_split_topic").set_value(biggest.id)
    app.selectbox(key="w_split_n").set_value(3)
    app.button(key="w_split_btn").click().run()
    _no_errors(app)
    split = app.session_state[state.RUN].result
    assert len(split.topics) == len(base.topics) + 2
    assert any("split" in s.lower() for s in texts(app, "success"))

    victim = next(t.id for t in split.topics if t.id >= 0 and t.id != biggest.id)
    app.selectbox(key="w_delete_topic").set_value(victim)
    app.radio(key="w_delete_to").set_value("not_relevant")
    app.button(key="w_delete_btn").click().run()
    _no_errors(app)
    deleted = app.session_state[state.RUN].result
    assert victim not in deleted.topic_names() and NOT_RELEVANT in deleted.topic_names()

    app.text_input(key="w_seed_name").set_value("Refunds")
    app.text_area(key="w_seed_phrases").set_value("refund money back\nI want a refund")
    app.button(key="w_seed_btn").click().run()
    _no_errors(app)
    seeded = app.session_state[state.RUN].result
    assert "Refunds" in seeded.topic_names().values()
    log = _log(run_dir)
    assert [e["op"] for e in log] == ["split", "delete", "seed"]
    assert len(log[2]["vector"]) == 64  # computed once with the run's model, saved with the edit
    assert app.button(key="w_undo").label == "Undo (3)"

    app.button(key="w_undo").click().run()
    app.button(key="w_undo").click().run()
    _no_errors(app)
    assert app.button(key="w_redo").label == "Redo (2)" and app.button(key="w_undo").label == "Undo (1)"
    after_undo = app.session_state[state.RUN].result
    assert victim in after_undo.topic_names() and "Refunds" not in after_undo.topic_names().values()
    app.button(key="w_redo").click().run()
    _no_errors(app)
    redone = app.session_state[state.RUN].result
    assert victim not in redone.topic_names() and "Refunds" not in redone.topic_names().values()
    assert app.button(key="w_redo").label == "Redo (1)"
    # a new edit after undo drops the redo tail
    app.selectbox(key="w_rename_topic").set_value(biggest.id)
    app.text_input(key="w_rename_name").set_value("Biggest")
    app.button(key="w_rename_btn").click().run()
    _no_errors(app)
    assert app.button(key="w_redo").label == "Redo (0)"
    # the saved log replays to the same view after a reload
    reopened = services.open_saved(run_dir).result
    assert reopened.topic_names() == app.session_state[state.RUN].result.topic_names()
    assert [e["op"] for e in reopened.manifest["edits"]] == ["split", "delete", "rename"]


def test_move_rows_selected_on_the_map_to_a_new_topic(app, saved_run: Path, workspace: Path) -> None:
    run_dir = _open(app, saved_run, workspace)
    current = app.session_state[state.RUN]
    coords = current.result.row_coords()
    x0, y0 = np.nanmin(coords, axis=0)
    x1, y1 = np.nanpercentile(coords, 20, axis=0)
    app.session_state[state.MAP_SELECTION] = {
        "run_id": current.run_id,
        "box": [{"x": [float(x0), float(x1)], "y": [float(y0), float(y1)]}],
        "lasso": [],
    }
    goto(app, "map")
    _no_errors(app)
    app.selectbox(key="w_move_target_map").set_value("new")
    app.text_input(key="w_move_name_map").set_value("Lassoed")
    app.button(key="w_move_btn_map").click().run()
    _no_errors(app)
    moved = app.session_state[state.RUN].result
    new_id = next(t.id for t in moved.topics if t.name == "Lassoed")
    inside = (coords[:, 0] >= x0) & (coords[:, 0] <= x1) & (coords[:, 1] >= y0) & (coords[:, 1] <= y1)
    rows = np.flatnonzero(inside)
    assert len(rows) and (moved.row_labels()[rows] == new_id).all()
    entry = _log(run_dir)[0]
    assert entry["op"] == "move" and entry["to_topic"] is None and sorted(entry["rows"]) == rows.tolist()
    assert entry["from_topics"]  # recorded for conflict checks between analysts


def test_a_topic_picker_keeps_its_topic_when_an_edit_changed_the_label(
    app, saved_run: Path, workspace
) -> None:
    """The browser sends back the label it showed ("3 · Refund (35)"); after a split or move the
    size in it is stale, and the picker must stay on that topic rather than jump to the largest."""
    _open(app, saved_run, workspace)
    goto(app, "map")  # off the Topics page, so the pickers take the state the browser would send
    result = app.session_state[state.RUN].result
    smallest = min((tp for tp in result.topics if tp.id >= 0), key=lambda tp: tp.size)
    stale = f"{smallest.id} · {smallest.name} ({smallest.size + 7:,})"
    app.session_state["w_detail_topic"] = stale
    app.session_state["w_rename_topic"] = stale
    goto(app, "topics")
    _no_errors(app)
    assert app.selectbox(key="w_detail_topic").value == smallest.id  # not the largest topic
    assert app.selectbox(key="w_rename_topic").value == smallest.id
    goto(app, "map")
    app.session_state["w_detail_topic"] = "999 · gone (3)"  # a topic the edit removed
    goto(app, "topics")
    _no_errors(app)
    assert app.selectbox(key="w_detail_topic").value in {tp.id for tp in result.topics}
