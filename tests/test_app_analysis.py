"""Unit tests of pipeline/analysis.py, the read-only analyses behind the dashboard."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pipeline import analysis
from pipeline.errors import ConfigError, DataError
from pipeline.types import EXCLUDED, OUTLIER
from tests._result_factory import TEXT_COLUMN, make_result


def test_recognise_columns_by_name() -> None:
    roles = analysis.recognise_columns(
        ["ID", "created_at", "Stars", "source", "lang", "feedback", "country"], text_column="feedback"
    )
    assert roles == {
        "date": "created_at",
        "rating": "Stars",
        "channel": "source",
        "language": "lang",
        "id": "ID",
    }
    assert analysis.recognise_columns(["日期", "评分", "渠道", "内容"]) == {
        "date": "日期",
        "rating": "评分",
        "channel": "渠道",
    }
    assert analysis.recognise_columns(["text", "comment"]) == {}
    # the text column never takes another role
    assert "date" not in analysis.recognise_columns(["date"], text_column="date")


def test_run_summary_and_overview_agree_with_the_ledger() -> None:
    result = make_result(200)
    summary = analysis.run_summary(result)
    labels = result.row_labels()
    assert summary["rows_read"] == 200
    assert summary["rows_with_topic"] == int((labels != EXCLUDED).sum())
    assert summary["outlier_share"] == pytest.approx((labels == OUTLIER).sum() / (labels != EXCLUDED).sum())
    overview = analysis.topic_overview(result)
    assert list(overview["topic_id"])[-1] == OUTLIER  # outliers last
    real = overview[overview["topic_id"] != OUTLIER]
    assert list(real["size"]) == sorted(real["size"], reverse=True)
    assert overview["size"].sum() == summary["rows_with_topic"]


def test_topic_texts_filter_and_breakdown() -> None:
    result = make_result(200, with_payloads=False)
    labels = result.row_labels()
    texts = analysis.topic_texts(result, 0, extra_columns=["rating", "channel"])
    assert list(texts["row"]) == list(np.flatnonzero(labels == 0))
    assert {"rating", "channel"} <= set(texts.columns)
    one = analysis.topic_texts(result, 0, query="#1000")
    expected = [i for i in np.flatnonzero(labels == 0) if "#1000" in result.table[TEXT_COLUMN].iloc[i]]
    assert list(one["row"]) == expected and 0 in expected
    breakdown = analysis.topic_breakdown(result, 0, column="channel")
    assert breakdown["count"].sum() == int((labels == 0).sum())
    assert breakdown["share"].sum() == pytest.approx(1.0)
    langs = analysis.topic_breakdown(result, 0, column="language")
    assert set(langs["value"]) <= {"en", "zh", "ja", "es", "ar"}
    with pytest.raises(ConfigError):
        analysis.topic_breakdown(result, 0, column="nope")


def test_rows_in_selection_box_and_lasso_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-10, 10, 5000), rng.uniform(-10, 10, 5000)
    box = {"x": [2.0, -3.0], "y": [-1.0, 4.0]}  # reversed corners are fine
    mask = analysis.rows_in_selection(x, y, boxes=[box])
    assert np.array_equal(mask, (x >= -3) & (x <= 2) & (y >= -1) & (y <= 4))
    # a lasso triangle (0,0) (8,0) (0,8): inside when x, y >= 0 and x + y < 8
    lasso = {"x": [0.0, 8.0, 0.0], "y": [0.0, 0.0, 8.0]}
    mask = analysis.rows_in_selection(x, y, lassos=[lasso])
    expected = (x > 0) & (y > 0) & (x + y < 8)
    near_edge = (np.abs(x) < 1e-9) | (np.abs(y) < 1e-9) | (np.abs(x + y - 8) < 1e-9)
    assert np.array_equal(mask[~near_edge], expected[~near_edge])
    # union of both, nothing for an empty selection
    both = analysis.rows_in_selection(x, y, boxes=[box], lassos=[lasso])
    assert both.sum() >= mask.sum()
    assert not analysis.rows_in_selection(x, y).any()


def test_selection_is_exact_when_only_a_sample_is_drawn() -> None:
    result = make_result(400)
    points = analysis.map_points(result)
    drawn = analysis.sample_points(len(points), max_points=50, seed=0)
    assert len(drawn) == 50 and np.all(np.diff(drawn) > 0)
    mask = analysis.rows_in_selection(points["x"], points["y"], boxes=[{"x": [-100, 100], "y": [-100, 100]}])
    assert mask.sum() == len(points)  # every row counts, not only the 50 drawn
    mix = analysis.topic_mix(result, points["row"][mask])
    assert mix["count"].sum() == len(points)
    assert mix["share"].sum() == pytest.approx(1.0)


def test_topic_centres_sit_inside_their_topics() -> None:
    result = make_result(300, with_payloads=False)
    centres = analysis.topic_centres(result).set_index("topic_id")
    assert OUTLIER not in centres.index
    for topic_id, row in centres.iterrows():
        expected = np.array([np.cos(topic_id * 1.7) * 6.0, np.sin(topic_id * 1.7) * 6.0])
        assert np.hypot(row["x"] - expected[0], row["y"] - expected[1]) < 1.0


class _Echo:
    """Returns a stored vector for the query (a stand-in with a known answer)."""

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector
        self.kinds: list[str] = []

    def embed(self, texts, *, kind="document", progress=None):
        self.kinds.append(kind)
        return self.vector[None, :] * 3.0  # not normalised: search normalises


def test_search_finds_the_nearest_vector_first() -> None:
    result = make_result(120)
    vectors = result.embeddings.vectors
    echo = _Echo(vectors[11])
    hits = analysis.search(result, "anything", embedder=echo, top_k=5)
    assert echo.kinds == ["query"]
    assert int(hits["row"][0]) == int(result.documents.unique_rows[11])
    assert hits["similarity"][0] == pytest.approx(1.0, abs=1e-5)
    assert list(hits["rank"]) == [1, 2, 3, 4, 5]
    brute = np.sort(vectors @ vectors[11])[::-1][:5]
    assert np.allclose(hits["similarity"], brute, atol=1e-5)
    with pytest.raises(ConfigError):
        analysis.search(result, "   ", embedder=echo)
    with pytest.raises(ConfigError):
        analysis.search(result, "x", embedder=_Echo(np.ones(3, dtype=np.float32)))


def test_search_with_the_real_fake_embedder() -> None:
    registry = pytest.importorskip("pipeline.embedders.registry")
    try:
        embedder = registry.create_embedder("fake")
    except Exception as exc:  # the fake embedder module has not landed yet
        pytest.skip(f"fake embedder unavailable: {exc}")
    result = make_result(80, with_payloads=False)
    texts = [result.documents.texts[i] for i in result.documents.unique_rows]
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    result = dataclasses.replace(result, embeddings=dataclasses.replace(result.embeddings, vectors=vectors))
    target = texts[5]
    hits = analysis.search(result, target, embedder=embedder, top_k=3)
    assert hits["text"].iloc[0].startswith(target.split(" #")[0])


def test_topic_trends_counts_and_shares() -> None:
    result = make_result(300, with_payloads=False)
    trends = analysis.topic_trends(result, date_column="date", freq="M")
    labels = result.row_labels()
    assert trends["count"].sum() == int((labels != EXCLUDED).sum())
    per_period = trends.groupby("period")["share"].sum()
    assert np.allclose(per_period[per_period > 0], 1.0)
    n_periods = trends["period"].nunique()
    assert len(trends) == n_periods * len({int(t) for t in labels if t != EXCLUDED})


def test_growing_topics_calls_out_the_riser() -> None:
    result = make_result(200, with_payloads=False)
    labels = result.row_labels()
    # topic 2 only in February, everything else in January
    dates = ["2024-02-10" if label == 2 else "2024-01-10" for label in labels]
    dates = [d if i % 4 else "2024-02-11" for i, d in enumerate(dates)]
    table = result.table.copy()
    table["date"] = dates
    trends = analysis.topic_trends(dataclasses.replace(result, table=table), date_column="date", freq="M")
    growing = analysis.growing_topics(trends, top_n=2)
    assert int(growing["topic_id"].iloc[0]) == 2
    assert (growing["change"] > 0).all()
    assert analysis.growing_topics(trends[trends["period"] == trends["period"].min()]).empty


def test_growing_topics_skips_an_incomplete_last_period() -> None:
    periods = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])
    counts = {0: [50, 50, 20, 1], 1: [50, 50, 80, 0]}  # topic 1 grew in March; April has 1 row
    rows = [
        {"period": p, "topic_id": t, "topic": f"t{t}", "count": c[i]}
        for t, c in counts.items()
        for i, p in enumerate(periods)
    ]
    trends = pd.DataFrame(rows)
    trends["share"] = trends["count"] / trends.groupby("period")["count"].transform("sum")
    growing = analysis.growing_topics(trends, min_count=1)
    assert list(growing["topic_id"]) == [1]
    assert growing["latest_count"].iloc[0] == 80
    assert growing["period"].iloc[0] == pd.Timestamp("2024-03-01")


def test_trends_reject_a_column_without_dates() -> None:
    result = make_result(60, with_payloads=False)
    with pytest.raises(DataError):
        analysis.topic_trends(result, date_column=TEXT_COLUMN)
    with pytest.raises(DataError):
        analysis.topic_trends(result, date_column="missing")


def test_parse_dates_handles_mixed_formats() -> None:
    parsed = analysis.parse_dates(pd.Series(["2024-01-05", "2024/02/06 10:00", "", "not a date"]))
    assert parsed.iloc[0] == pd.Timestamp("2024-01-05")
    assert parsed.iloc[1].month == 2
    assert parsed.iloc[2:].isna().all()


def test_apply_edits_replays_renames_and_merges() -> None:
    result = make_result(120, with_payloads=False)
    edits = [
        {"op": "rename", "topic_id": 3, "name": "Support praise"},
        {"op": "merge", "topic_ids": [0, 1], "name": "Orders"},
    ]
    edited = analysis.apply_edits(result, edits)
    names = edited.topic_names()
    assert names[3] == "Support praise"
    assert "Orders" in names.values()
    assert len(edited.topics) == len(result.topics) - 1
    assert analysis.apply_edits(result, edits[:1]).topic_names()[3] == "Support praise"
    with pytest.raises(ConfigError):
        analysis.apply_edits(result, [{"op": "explode"}])


def test_growing_topics_compares_a_month_of_weeks_not_one_noisy_week() -> None:
    periods = pd.date_range("2024-01-01", periods=8, freq="W-MON")
    # topic 1 doubles over the last four weeks, but its very last week dips below the one before
    counts = {0: [50] * 8, 1: [10, 10, 10, 10, 30, 30, 30, 25]}
    rows = [
        {"period": p, "topic_id": t, "topic": f"t{t}", "count": c[i]}
        for t, c in counts.items()
        for i, p in enumerate(periods)
    ]
    trends = pd.DataFrame(rows)
    trends["share"] = trends["count"] / trends.groupby("period")["count"].transform("sum")
    growing = analysis.growing_topics(trends, min_count=1)
    assert list(growing["topic_id"]) == [1]
    assert growing["period"].iloc[0] == periods[4]
    assert (growing["latest_count"].iloc[0], growing["previous_count"].iloc[0]) == (115, 40)
    week_over_week = analysis.growing_topics(trends, min_count=1, window=1)
    assert 1 not in set(week_over_week["topic_id"]), "week over week it shrank"
