"""The Themes page and the theme level in the dashboard (AppTest, no browser)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from dashboard import state
from pipeline.explore.themes import row_themes, theme_centres, theme_overview, theme_topics
from pipeline.themes import build_themes
from tests._app_helpers import goto, open_result, texts
from tests._result_factory import make_result


def _with_themes(n_rows: int = 120):
    """A factory run with two themes: topics 0 and 1 in theme 0, topics 2 and 3 in theme 1."""
    result = make_result(n_rows, with_payloads=False)
    theme_of = {0: 0, 1: 0, 2: 1, 3: 1, -1: -1}
    themes = build_themes(
        result.documents,
        result.clustering.labels,
        theme_of,
        topics=result.topics,
        languages=result.languages,
    )
    return dataclasses.replace(result, themes=themes)


def test_theme_views_are_consistent_with_the_topics() -> None:
    result = _with_themes()
    overview = theme_overview(result)
    real = overview[overview["theme_id"] >= 0]
    assert list(real["n_topics"]) == [2, 2]
    sizes = {t.id: t.size for t in result.topics}
    for theme in result.themes:
        if theme.id >= 0:
            assert theme.size == sum(sizes[t] for t in theme.topic_ids)
            assert set(theme_topics(result, theme.id)["topic_id"]) == set(theme.topic_ids)
    per_row = row_themes(result)
    labels = result.row_labels()
    assert ((per_row == 0) == ((labels == 0) | (labels == 1))).all()
    assert len(theme_centres(result)) == 2


def test_themes_page_shows_the_tree_and_renames_a_theme(app, tmp_path: Path) -> None:
    result = _with_themes()
    run_dir = tmp_path / "runs" / "run-themes"
    open_result(app, result, run_dir)
    goto(app, "themes")
    assert not app.exception, [e.value for e in app.exception]
    assert not texts(app, "error")
    assert app.metric[0].value == "2"
    app.selectbox(key="w_theme_rename_id").set_value(1)
    app.text_input(key="w_theme_rename_name").set_value("Account & login")
    app.button(key="w_theme_rename_btn").click().run()
    assert not app.exception, [e.value for e in app.exception]
    current = app.session_state[state.RUN]
    assert current.result.theme_names()[1] == "Account & login"
    last = json.loads((run_dir / "edits.json").read_text())[-1]
    assert {k: last[k] for k in ("op", "theme_id", "name")} == {
        "op": "rename_theme",
        "theme_id": 1,
        "name": "Account & login",
    }


def test_map_colours_by_theme(app, tmp_path: Path) -> None:
    result = _with_themes()
    open_result(app, result, tmp_path / "runs" / "run-map")
    goto(app, "map")
    assert not app.exception, [e.value for e in app.exception]
    app.segmented_control(key="w_colour_by").set_value("theme").run()
    assert not app.exception, [e.value for e in app.exception]


def test_a_run_without_themes_says_so(app, tmp_path: Path) -> None:
    open_result(app, make_result(60, with_payloads=False), tmp_path / "runs" / "run-old")
    goto(app, "themes")
    assert not app.exception
    assert texts(app, "info")


def test_merging_topics_keeps_every_topic_in_one_theme() -> None:
    from pipeline.topics import merge_topics

    result = _with_themes()
    merged = merge_topics(result, [1, 2], name="Mixed")
    theme_of = merged.topic_themes()
    assert set(theme_of) == {t.id for t in merged.topics}
    assert theme_of[1] == 0, "the merged topic keeps the theme of the topic it was merged into"
    assert sum(th.size for th in merged.themes) == sum(t.size for t in merged.topics)


def test_the_reason_for_the_topic_count_stays_true_after_merges() -> None:
    from pipeline.topics import merge_topics

    result = _with_themes()
    twice = merge_topics(merge_topics(result, [0, 1]), [0, 2])
    assert twice.clustering.n_topics == 2
    assert twice.clustering.reason.endswith("then merged by the analyst to 2 topics")
    assert twice.clustering.reason.count("merged by the analyst") == 1


def test_merging_themes_from_the_page_keeps_every_topic_in_one_theme(app, tmp_path: Path) -> None:
    result = _with_themes()
    open_result(app, result, tmp_path / "runs" / "run-merge")
    goto(app, "themes")
    app.multiselect(key="w_theme_merge_ids").set_value([0, 1])
    app.text_input(key="w_theme_merge_name").set_value("Everything")
    app.button(key="w_theme_merge_btn").click().run()
    assert not app.exception, [e.value for e in app.exception]
    merged = app.session_state[state.RUN].result
    real = [th for th in merged.themes if th.id >= 0]
    assert len(real) == 1 and real[0].name == "Everything"
    assert set(real[0].topic_ids) == {t.id for t in merged.topics if t.id >= 0}
    assert real[0].size == sum(t.size for t in merged.topics if t.id >= 0)
