"""Rating drivers and segments (pipeline/explore/drivers.py, segments.py) and the Drivers page."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError, DataError
from pipeline.explore import drivers as drv
from pipeline.explore import segments as seg
from pipeline.types import EXCLUDED, OUTLIER
from tests._app_helpers import goto, open_result, texts
from tests._result_factory import make_result


def _with_column(result, name: str, values) -> object:
    table = result.table.copy()
    table[name] = [str(v) for v in values]
    return dataclasses.replace(result, table=table)


# ---------------------------------------------------------------------------------------- intervals
def test_t_interval_matches_the_hand_computed_value() -> None:
    # mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776445: half width 2.776445 * 1.581139 / sqrt(5)
    low, high = drv.t_interval(np.array([1.0, 2, 3, 4, 5]))
    assert low == pytest.approx(3 - 1.963243, abs=1e-5)
    assert high == pytest.approx(3 + 1.963243, abs=1e-5)
    assert all(math.isnan(v) for v in drv.t_interval(np.array([4.0])))


def test_bootstrap_interval_is_seeded() -> None:
    scores = np.random.default_rng(0).integers(1, 6, size=200).astype(float)
    first = drv.bootstrap_interval(scores, seed=7)
    assert first == drv.bootstrap_interval(scores, seed=7)
    assert first != drv.bootstrap_interval(scores, seed=8)
    assert first[0] < scores.mean() < first[1]


def test_nps_scores_promoters_minus_detractors() -> None:
    values = np.array([10.0, 10, 10, 8, 3])  # 60 % promoters - 20 % detractors
    scale = drv.infer_scale(values, column="nps")
    assert scale.kind == "nps"
    assert drv.row_scores(values, scale).mean() == pytest.approx(40.0)
    assert drv.infer_scale(np.array([1.0, 2, 5]), column="stars").kind == "mean"
    assert drv.infer_scale(np.array([1.0, 2, 5]), column="stars").neutral == 3.0
    assert drv.infer_scale(np.array([0.0, 7, 10]), column="score").high == 10.0


# ------------------------------------------------------------------------------------------ drivers
def test_drivers_means_impact_and_rank_by_hand() -> None:
    result = make_result(120, with_payloads=False)
    labels = result.row_labels()
    # topic 0 rows rate 1, topic 1 rows rate 2, every other row 5
    rating = np.where(labels == 0, 1, np.where(labels == 1, 2, 5))
    result = _with_column(result, "rating", rating)
    found = drv.rating_drivers(result, column="rating")
    rated = labels != EXCLUDED
    n0, n1, n = int((labels == 0).sum()), int((labels == 1).sum()), int(rated.sum())
    overall = (n0 * 1 + n1 * 2 + (n - n0 - n1) * 5) / n
    assert found.overall == pytest.approx(overall)
    frame = found.frame.set_index("topic_id")
    assert frame.loc[0, "rating_mean"] == pytest.approx(1.0)
    assert frame.loc[0, "rating_mean_rest"] == pytest.approx((n1 * 2 + (n - n0 - n1) * 5) / (n - n0))
    # without topic 0's complaints (all its rows are below 3): the remaining mean, minus the overall
    assert frame.loc[0, "rating_impact"] == pytest.approx((n1 * 2 + (n - n0 - n1) * 5) / (n - n0) - overall)
    assert frame.loc[2, "rating_impact"] == pytest.approx(0.0)  # no complaints
    assert frame.loc[0, "rating_complaints"] == n0
    assert list(found.frame["rank"]) == list(range(1, len(found.frame) + 1))
    assert found.frame["rating_impact"].is_monotonic_decreasing
    assert OUTLIER not in frame.index
    assert frame.loc[0, "rating_p_value"] < 0.001


def test_drivers_nps_impact_without_detractors() -> None:
    result = make_result(100, with_payloads=False)
    labels = result.row_labels()
    answers = np.where(labels == 0, 0, np.where(labels == 1, 8, 10))  # topic 0 detractors, 1 passives
    result = _with_column(result, "nps", answers)
    found = drv.rating_drivers(result, column="nps")
    assert found.scale.kind == "nps"
    rated = labels != EXCLUDED
    n0, n1, n = int((labels == 0).sum()), int((labels == 1).sum()), int(rated.sum())
    promoters = n - n0 - n1
    assert found.overall == pytest.approx(100 * (promoters - n0) / n)
    frame = found.frame.set_index("topic_id")
    assert frame.loc[0, "rating_mean"] == pytest.approx(-100.0)
    assert frame.loc[0, "rating_impact"] == pytest.approx(100 * promoters / (n - n0) - found.overall)
    assert frame.loc[1, "rating_impact"] == pytest.approx(0.0)
    assert found.frame.iloc[0]["topic_id"] == 0


def test_drivers_ci_contains_the_mean_and_is_deterministic() -> None:
    result = make_result(200, with_payloads=False)
    first = drv.rating_drivers(result, column="rating", method="bootstrap", seed=3)
    again = drv.rating_drivers(result, column="rating", method="bootstrap", seed=3)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    f = first.frame
    assert ((f["rating_ci_low"] <= f["rating_mean"]) & (f["rating_mean"] <= f["rating_ci_high"])).all()


def test_unreadable_ratings_are_counted_and_left_out() -> None:
    result = make_result(60)  # the payload table has "-1" ratings
    found = drv.rating_drivers(result, column="rating")
    assert found.n_unreadable > 0
    assert found.scale.low == 1.0 and found.scale.high == 5.0


def test_rating_column_is_detected_chosen_or_refused() -> None:
    result = make_result(60, with_payloads=False)
    assert drv.detect_rating_column(result.table, text_column=result.documents.text_column)[0] == "rating"
    assert drv.detect_rating_column(result.table.drop(columns="rating"), text_column=None)[0] is None
    info = drv.rating_info(result.table, text_column=None, column="rating", scale="nps")
    assert info == {"column": "rating", "reason": "chosen by the user", "scale": "nps"}
    with pytest.raises(ConfigError, match="no column named 'stars'"):
        drv.rating_info(result.table, text_column=None, column="stars", scale="auto")
    with pytest.raises(DataError):
        drv.rating_drivers(result, column="channel")  # not numbers


def test_topics_csv_carries_the_driver_columns() -> None:
    from pipeline.export import topics_frame

    result = make_result(120, with_payloads=False)
    frame = topics_frame(result).set_index("topic_id")
    found = drv.rating_drivers(result, column="rating").frame.set_index("topic_id")
    for column in drv.TOPIC_DRIVER_COLUMNS:
        assert frame.loc[0, column] == pytest.approx(found.loc[0, column], abs=1e-4)
    assert math.isnan(frame.loc[OUTLIER, "rating_mean"])
    no_rating = dataclasses.replace(result, table=result.table.drop(columns="rating"))
    assert topics_frame(no_rating)["rating_mean"].isna().all()


# ----------------------------------------------------------------------------------------- segments
def test_two_proportion_figures_by_hand() -> None:
    result = make_result(260, with_payloads=False)
    labels = result.row_labels()
    rows = np.flatnonzero(labels != EXCLUDED)
    # segment "A": 100 rows with a topic, 30 of them in topic 0; "B": 100 rows, 10 in topic 0
    in0 = [r for r in rows if labels[r] == 0]
    other = [r for r in rows if labels[r] != 0]
    assert len(in0) >= 40 and len(other) >= 160
    country = np.array(["C"] * len(labels), dtype=object)
    country[in0[:30]] = "A"
    country[other[:70]] = "A"
    country[in0[30:40]] = "B"
    country[other[70:160]] = "B"
    result = _with_column(result, "country", country)
    frame = seg.compare_segments(result, column="country", a="A", b="B", correction="none")
    row = frame.set_index("topic_id").loc[0]
    assert (row["count_a"], row["count_b"]) == (30, 10)
    assert row["share_diff"] == pytest.approx(0.2)
    assert row["index"] == pytest.approx(300.0)
    assert row["z"] == pytest.approx(0.2 / math.sqrt(0.2 * 0.8 * 0.02), rel=1e-6)  # 3.5355
    assert row["p_value"] == pytest.approx(4.07e-4, rel=0.01)
    assert row["direction"] == "over"
    holm = seg.compare_segments(result, column="country", a="A", b="B")
    m = int(holm["p_value"].notna().sum())
    assert holm.set_index("topic_id").loc[0, "p_adjusted"] == pytest.approx(
        min(1.0, row["p_value"] * m), rel=1e-6
    )


def test_p_value_corrections_by_hand() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert seg.adjust_p_values(p, method="holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert seg.adjust_p_values(p, method="bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    out = seg.adjust_p_values([0.2, float("nan")], method="holm")
    assert out[0] == pytest.approx(0.2) and math.isnan(out[1])


def test_any_categorical_column_breaks_topics_down() -> None:
    result = make_result(120, with_payloads=False)
    result = _with_column(result, "plan", ["free", "pro", "team"] * 40)
    columns = seg.categorical_columns(result)
    assert "plan" in columns and "channel" in columns and "language" in columns
    assert result.documents.text_column not in columns and "id" not in columns and "date" not in columns
    long = seg.segment_breakdown(result, column="plan")
    labels = result.row_labels()
    counts = long.groupby("topic_id")["count"].sum()
    assert counts.loc[0] == int((labels == 0).sum())
    rest = seg.compare_segments(result, column="plan", a="pro")  # against every other row
    assert (rest["count_a"] + rest["count_b"]).sum() <= int((labels >= 0).sum())
    with pytest.raises(DataError):
        seg.compare_segments(result, column="plan", a="enterprise")


# ---------------------------------------------------------------------------------------- dashboard
def test_drivers_page(app, workspace: Path) -> None:
    result = make_result(300, with_payloads=False)
    open_result(app, result, workspace / "run-drivers")
    goto(app, "drivers")
    assert not app.exception
    assert not texts(app, "error")
    assert app.selectbox(key="w_rating_col").value == "rating"
    assert len(app.get("plotly_chart")) == 2  # drivers and segments
    labels = {m.label for m in app.metric}
    assert "Mean rating" in labels
    app.segmented_control(key="w_rating_scale").set_value("nps").run()
    assert not app.exception
    assert "NPS" in {m.label for m in app.metric}
    app.selectbox(key="w_seg_col").set_value("channel").run()
    app.selectbox(key="w_seg_corr").set_value("bh").run()
    assert not app.exception and not texts(app, "error")


def test_drivers_page_with_a_column_that_is_not_a_rating(app, workspace: Path) -> None:
    result = make_result(60, with_payloads=False)
    open_result(app, result, workspace / "run-drivers-2")
    goto(app, "drivers")
    app.selectbox(key="w_rating_col").set_value("channel").run()
    assert not app.exception
    assert texts(app, "error")


def test_report_has_a_drivers_section_only_with_ratings() -> None:
    import html

    from pipeline.report import render_html

    result = make_result(120, with_payloads=False)
    page = render_html(result)
    assert 'id="drivers-section"' in page and 'id="drivers-data"' in page
    top = drv.rating_drivers(result, column="rating").frame.iloc[0]
    assert html.escape(str(top["name"])) in page and f"{top['rating_impact']:+.3f}" in page
    no_rating = dataclasses.replace(result, table=result.table.drop(columns="rating"))
    assert 'id="drivers-section"' not in render_html(no_rating)


def test_topics_page_breaks_a_topic_down_by_any_column(app, workspace: Path) -> None:
    result = _with_column(make_result(120, with_payloads=False), "plan", ["free", "pro", "team"] * 40)
    open_result(app, result, workspace / "run-breakdown")
    goto(app, "topics")
    assert not app.exception
    assert "plan" in app.selectbox(key="w_breakdown_col").options
    before = len(app.dataframe)
    app.selectbox(key="w_breakdown_col").set_value("plan").run()
    assert not app.exception
    assert len(app.dataframe) == before + 1
    assert set(app.dataframe[-1].value["value"]) <= {"free", "pro", "team"}


# ---------------------------------------------------------------------------------------------- CLI
def test_drivers_and_segments_commands(tmp_path: Path) -> None:
    import subprocess
    import sys

    from pipeline.store import save_run

    result = _with_column(make_result(120, with_payloads=False), "plan", ["free", "pro", "team"] * 40)
    run_dir = save_run(result, tmp_path / "run")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, timeout=300
        )

    done = cli("drivers", str(run_dir), "--out", str(tmp_path / "drivers.csv"))
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(tmp_path / "drivers.csv", encoding="utf-8-sig")
    expected = drv.rating_drivers(result, column="rating").frame
    assert list(written["topic_id"]) == list(expected["topic_id"])
    assert written["rating_impact"].to_numpy() == pytest.approx(expected["rating_impact"].to_numpy())
    done = cli("segments", str(run_dir), "--column", "plan", "--a", "pro", "--out", str(tmp_path / "s.csv"))
    assert done.returncode == 0, done.stderr
    assert list(pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig").columns) == list(seg.SEGMENT_COLUMNS)
    done = cli("segments", str(run_dir), "--column", "nope")
    assert done.returncode != 0 and "no column named 'nope'" in done.stderr and "Traceback" not in done.stderr


def test_drivers_page_with_hostile_data(app, workspace: Path) -> None:
    from tests._result_factory import HOSTILE_HEADER

    result = make_result(120)  # hostile names, a hostile header, "-1" ratings
    open_result(app, result, workspace / "run-drivers-3")
    goto(app, "drivers")
    assert not app.exception and not texts(app, "error")
    assert HOSTILE_HEADER in app.selectbox(key="w_seg_col").options
    app.selectbox(key="w_seg_col").set_value(HOSTILE_HEADER).run()
    assert not app.exception and not texts(app, "error")
    shown = " ".join(m.value for m in app.markdown)
    assert "](javascript" not in shown and "<script>" not in shown


def test_run_refuses_a_missing_rating_column_before_embedding() -> None:
    from pipeline.config import RunConfig
    from pipeline.embedders.registry import create_embedder
    from pipeline.run import run

    data = "text,stars\n" + "".join(f"feedback number {i} about the app,{1 + i % 5}\n" for i in range(40))
    embedder = create_embedder("fake")
    calls: list[str] = []
    with pytest.raises(ConfigError, match="no column named 'rating'") as info:
        run(
            data.encode(),
            filename="f.csv",
            config=RunConfig(rating_column="rating"),
            embedder=embedder,
            progress=lambda stage, done, total: calls.append(stage),
        )
    assert info.value.code == "rating_column" and "embed" not in calls
