"""Compare periods: the significance test, the 2-sd alerts and the run comparison, on constructed data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.compare import compare_counts, period_alerts, two_proportion_test


def test_two_proportion_test_matches_the_textbook_formula() -> None:
    z, p = two_proportion_test(50, 1000, 80, 1000)
    pooled = 130 / 2000
    se = math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert z == pytest.approx((0.08 - 0.05) / se)
    assert z == pytest.approx(2.7214, abs=1e-3)
    assert p == pytest.approx(0.0065, abs=2e-4)
    # Symmetric, and no difference is no evidence.
    assert two_proportion_test(80, 1000, 50, 1000)[0] == pytest.approx(-z)
    assert two_proportion_test(30, 300, 30, 300) == (0.0, 1.0)
    assert two_proportion_test(0, 0, 5, 10) == (0.0, 1.0)
    # The same shift on small samples is not significant.
    assert two_proportion_test(5, 100, 8, 100)[1] > 0.3


def test_compare_counts_statuses() -> None:
    before = {0: 500, 1: 300, 2: 200}
    now = {0: 400, 1: 300, 2: 0, 3: 300}
    frame = compare_counts(before, 1000, now, 1000, names={0: "a", 1: "b", 2: "c", 3: "d"}).set_index(
        "topic_id"
    )
    assert frame.loc[0, "status"] == "down" and frame.loc[0, "p_value"] < 0.001
    assert frame.loc[0, "share_change"] == pytest.approx(-0.1)
    assert frame.loc[1, "status"] == "stable" and frame.loc[1, "p_value"] == pytest.approx(1.0)
    assert frame.loc[2, "status"] == "no rows"
    assert frame.loc[3, "status"] == "new" and math.isnan(frame.loc[3, "share_before"])
    assert pd.isna(frame.loc[3, "size_before"])


def _trends(shares: dict[int, list[float]], total: int = 1000) -> pd.DataFrame:
    periods = pd.period_range("2026-01", periods=len(next(iter(shares.values()))), freq="M").start_time
    rows = []
    for topic, values in shares.items():
        for period, share in zip(periods, values, strict=True):
            rows.append(
                {"period": period, "topic_id": topic, "topic": f"T{topic}", "count": round(share * total)}
            )
    frame = pd.DataFrame(rows)
    frame["share"] = frame["count"] / frame.groupby("period")["count"].transform("sum")
    return frame


def test_alert_when_the_latest_period_leaves_its_recent_range() -> None:
    trends = _trends(
        {
            0: [0.10, 0.11, 0.09, 0.10, 0.11, 0.10, 0.25],  # jumps: alert up
            1: [0.30, 0.31, 0.29, 0.30, 0.31, 0.30, 0.30],  # steady: nothing
            2: [0.60, 0.58, 0.62, 0.60, 0.58, 0.60, 0.45],  # falls: alert down
        }
    )
    frame = period_alerts(trends).set_index("topic_id")
    assert frame.loc[0, "alert"] == "up" and frame.loc[0, "z_score"] > 2
    assert frame.loc[2, "alert"] == "down"
    assert frame.loc[1, "alert"] == ""
    history = np.array([0.10, 0.11, 0.09, 0.10, 0.11, 0.10])
    latest_share = float(frame.loc[0, "share"])
    assert frame.loc[0, "recent_mean"] == pytest.approx(history.mean(), abs=2e-3)
    assert frame.loc[0, "z_score"] == pytest.approx(
        (latest_share - frame.loc[0, "recent_mean"]) / frame.loc[0, "recent_sd"], rel=1e-3
    )
    assert frame.loc[0, "p_value"] < 0.001  # vs the previous period
    assert frame.index[0] in (0, 2)  # biggest |z| first


def test_a_flat_history_does_not_alert_on_sampling_noise() -> None:
    # History exactly flat (sd 0): a 1-point move on 1,000 rows is within binomial noise.
    trends = _trends({0: [0.20] * 6 + [0.21], 1: [0.80] * 6 + [0.79]})
    frame = period_alerts(trends).set_index("topic_id")
    assert frame.loc[0, "alert"] == ""
    assert frame.loc[0, "recent_sd"] == pytest.approx(math.sqrt(0.2 * 0.8 / 1000), rel=1e-3)


def test_too_short_a_history_gives_no_alert_but_still_a_test() -> None:
    trends = _trends({0: [0.1, 0.3], 1: [0.9, 0.7]})
    frame = period_alerts(trends).set_index("topic_id")
    assert (frame["alert"] == "").all() and frame["z_score"].isna().all()
    assert frame.loc[0, "p_value"] < 0.001


def _dated(result, target: int):
    """``result`` with a ``date`` column over five months, half of ``target``'s rows in a sixth."""
    import dataclasses

    labels = result.row_labels()
    months = np.arange(len(labels)) % 5
    rows = np.flatnonzero(labels == target)
    months[rows[: len(rows) // 2]] = 5
    table = result.table.copy()
    table["date"] = [f"2026-{m + 1:02d}-15" for m in months]
    return dataclasses.replace(result, table=table)


def test_topics_csv_and_the_report_carry_the_latest_periods_alerts() -> None:
    from pipeline.compare import latest_alerts
    from pipeline.export import topics_frame
    from pipeline.report import render_html
    from tests._result_factory import make_result

    base = make_result(600, with_payloads=False)
    target = max((t for t in base.topics if t.id >= 0), key=lambda t: t.size).id
    result = _dated(base, target)
    found = latest_alerts(result)
    assert found is not None and (found[0]["alert"] == "up").sum() >= 1
    info = found[1]
    assert info == {"date_column": "date", "freq": "M", "period": "2026-06-01"}
    topics = topics_frame(result).set_index("topic_id")
    assert topics.loc[target, "alert"] == "up" and topics.loc[target, "alert_z"] > 2
    assert set(topics["alert"]) <= {"", "up", "down"}
    assert (topics.loc[topics["alert"] == "", "alert_z"].abs().fillna(0) <= 2).all()
    html = render_html(result)
    assert "Alerts for the latest month" in html and f"#{target}</span>" in html.split('id="alerts"')[1]
    # Without a date column: no alerts, empty columns, no section.
    undated = dataclasses_replace_table(base.table.drop(columns=["date"]), base)
    assert latest_alerts(undated) is None
    plain = topics_frame(undated)
    assert (plain["alert"] == "").all() and plain["alert_z"].isna().all()
    assert 'id="alerts"' not in render_html(undated)


def dataclasses_replace_table(table, result):
    import dataclasses

    return dataclasses.replace(result, table=table)
