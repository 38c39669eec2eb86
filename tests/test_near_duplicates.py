"""Near-duplicate groups: found on the bundled model's vectors, counted, collapsed and restored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.near_duplicates import (
    ALTERED_REASON,
    NearDuplicateSettings,
    _candidate_pairs,
    _negation_parity,
    _number_keys,
    collapse_counts,
    find_near_duplicates,
    is_collapsed,
    row_groups,
)

ROOT = Path(__file__).resolve().parents[1]

# One statement said several ways (same sense), and foils on the same subject with the opposite sense.
PARAPHRASES = (
    ("The app crashes when I log in", "App crashes every time I try to log in",
     "the app crashes whenever I log in"),
    ("送餐太慢了", "送餐太慢了吧", "送餐实在太慢了"),
    ("I was charged twice for my order", "I got charged twice for one order",
     "I was charged two times for my order"),
)  # fmt: skip
FOILS = (
    ("The delivery was fast", "The delivery was slow"),
    ("送餐速度真是太快了！！", "送餐速度太慢了！！！"),
    ("The delivery was late", "The delivery was not late"),
    ("好吃,就是慢", "不好吃，还慢"),
    ("Waited 2 hours for the order", "Waited 5 hours for the order"),
    ("I was charged twice for my order", "I was charged once for my order"),
    ("味道很好", "味道不好"),
)


@pytest.fixture(scope="module")
def embedder():
    from pipeline.embedders.registry import create_embedder

    return create_embedder("use-multilingual", device="cpu")


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _groups(texts: list[str], embedder) -> np.ndarray:
    from pipeline.search.polarity import text_polarity

    vectors = _unit(embedder.embed(texts))
    found = find_near_duplicates(
        vectors=vectors,
        texts=texts,
        polarity=text_polarity(vectors, embedder=embedder),
        model="use-multilingual",
    )
    return found.representative


def test_planted_paraphrases_are_grouped_on_real_vectors(embedder) -> None:
    texts = [t for group in PARAPHRASES for t in group]
    representative = _groups(texts, embedder)
    start = 0
    for group in PARAPHRASES:
        ids = representative[start : start + len(group)]
        assert len(set(ids.tolist())) == 1, (group, ids)
        start += len(group)
    assert len(set(representative.tolist())) == len(PARAPHRASES), "different statements stay apart"


@pytest.mark.parametrize("pair", FOILS)
def test_opposite_senses_are_not_joined(embedder, pair: tuple[str, str]) -> None:
    vectors = _unit(embedder.embed(list(pair)))
    cosine = float(vectors[0] @ vectors[1])
    representative = _groups(list(pair), embedder)
    assert representative.tolist() == [0, 1], f"{pair} (cosine {cosine:.3f}) were joined"


def test_checks_negation_and_numbers() -> None:
    texts = [
        "It is good",
        "It is not good",
        "It isn't good",
        "not bad, not great",
        "味道不错",
        "不好吃",
        "不是不好吃",
    ]
    assert _negation_parity(texts).tolist() == [0, 1, 1, 0, 0, 1, 0]
    keys = _number_keys(["waited 2 hours", "two hours again", "no number", "3.5 or 2", "charged twice"])
    assert keys.tolist() == ["2", "2", "", "2|3.5", "2"]


def test_partitioned_search_finds_the_exact_scans_pairs() -> None:
    rng = np.random.default_rng(3)
    centres = _unit(rng.normal(size=(400, 64)))
    vectors = _unit(np.repeat(centres, 5, axis=0) + rng.normal(0, 0.03, size=(2000, 64)))
    exact = _candidate_pairs(vectors, k=32, threshold=0.9, seed=0)
    approx = _candidate_pairs(vectors, k=32, threshold=0.9, seed=0, exact_max=100)
    want = set(zip(exact[0].tolist(), exact[1].tolist(), strict=True))
    got = set(zip(approx[0].tolist(), approx[1].tolist(), strict=True))
    assert len(want) > 3000
    assert got <= want
    assert len(got & want) / len(want) > 0.97


def test_groups_do_not_chain() -> None:
    # a-b and b-c are near, a-c is not: c may not join a's group through b.
    a = np.array([1.0, 0.0, 0.0])
    c = np.array([np.cos(0.9), np.sin(0.9), 0.0])
    b = _unit((a + c)[None])[0]
    vectors = _unit(np.stack([a, b, c]))
    found = find_near_duplicates(
        vectors=vectors, texts=["a", "b", "c"], settings=NearDuplicateSettings(threshold=0.89)
    )
    rep = found.representative
    for i in range(3):
        assert float(vectors[i] @ vectors[rep[i]]) >= 0.89


# --------------------------------------------------------------------------------------- in a run
PLANTED_ROWS = [
    "The app crashes when I log in",
    "App crashes every time I try to log in",
    "the app crashes whenever I log in",
    "The app crashes when I log in",  # an exact copy: the same group
    "The delivery was fast",
    "The delivery was slow",
]


@pytest.fixture(scope="module")
def planted_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    base = pd.read_csv(ROOT / "sample_data" / "feedback_sample.csv", dtype=str, keep_default_na=False)
    texts = base["feedback"].tolist()[:150] + PLANTED_ROWS
    order = rng.permutation(len(texts))
    frame = pd.DataFrame({"feedback": [texts[i] for i in order]})
    path = tmp_path_factory.mktemp("nd") / "planted.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def collapsed_run(planted_file: Path):
    from pipeline.config import RunConfig
    from pipeline.run import run

    config = RunConfig(model="use-multilingual", collapse_near_duplicates=True, use_cache=False)
    return run(planted_file.read_bytes(), filename=planted_file.name, config=config)


def _group_of(result, text: str) -> set[int]:
    group_row, _ = row_groups(result)
    rows = [i for i, t in enumerate(result.table["feedback"]) if t == text]
    return {int(group_row[r]) for r in rows}


def test_run_groups_counts_and_ledger(collapsed_run) -> None:
    result = collapsed_run
    crash = set().union(*(_group_of(result, t) for t in PLANTED_ROWS[:4]))
    assert len(crash) == 1, "the planted paraphrases and their exact copy form one group"
    assert _group_of(result, "The delivery was fast") != _group_of(result, "The delivery was slow")
    group_row, counts = row_groups(result)
    crash_rows = np.flatnonzero(group_row == next(iter(crash)))
    assert counts[crash_rows].tolist() == [len(crash_rows)] * len(crash_rows) and len(crash_rows) >= 4
    labels = result.row_labels()
    with_topic = labels != -2
    groups = len(np.unique(group_row[with_topic]))
    assert sum(t.size for t in result.topics) == groups
    assert result.ledger.altered[ALTERED_REASON] == int(with_topic.sum()) - groups
    assert result.manifest["near_duplicates"]["collapsed"] is True
    assert result.manifest["ledger"]["altered"][ALTERED_REASON] == result.ledger.altered[ALTERED_REASON]
    for topic in result.topics:  # examples: one per group
        reps = [int(group_row[r]) for r in topic.examples]
        assert len(reps) == len(set(reps))


def test_toggle_restores_every_count(collapsed_run) -> None:
    raw = collapse_counts(collapsed_run, collapse=False)
    assert not is_collapsed(raw) and ALTERED_REASON not in raw.ledger.altered
    labels = raw.row_labels()
    assert sum(t.size for t in raw.topics) == int((labels != -2).sum())
    for topic in raw.topics:
        assert topic.size == int((labels == topic.id).sum())
    if raw.themes:
        assert sum(t.size for t in raw.themes) == int((labels != -2).sum())
    again = collapse_counts(raw, collapse=True)
    assert [(t.id, t.size, t.share, t.examples) for t in again.topics] == [
        (t.id, t.size, t.share, t.examples) for t in collapsed_run.topics
    ]
    assert again.ledger == collapsed_run.ledger
    back = collapse_counts(again, collapse=False)
    assert [(t.size, t.examples) for t in back.topics] == [(t.size, t.examples) for t in raw.topics]


def test_exports_and_saved_run(collapsed_run, tmp_path: Path) -> None:
    from pipeline.export import assignments_frame, topics_frame
    from pipeline.store import open_run, save_run

    frame = assignments_frame(collapsed_run)
    assert {"near_duplicate_group", "near_duplicate_count"} <= set(frame.columns)
    ok = frame["status"] == "ok"
    assert frame.loc[ok, "near_duplicate_count"].min() >= 1
    assert (
        frame.loc[~ok & ~frame["status"].str.startswith("duplicate_of"), "near_duplicate_group"].isna().all()
    )
    topics = topics_frame(collapsed_run)
    assert topics["size"].sum() == frame.loc[frame["topic_id"].notna(), "near_duplicate_group"].nunique()
    crash_topic = topics[topics["near_duplicate_groups"].str.contains("crash", case=False)]
    assert len(crash_topic) == 1
    biggest = crash_topic.iloc[0]["near_duplicate_groups"].split(" | ")
    assert max(int(part.split(":")[0]) for part in biggest) >= 4
    save_run(collapsed_run, tmp_path / "run")
    reopened = open_run(tmp_path / "run")
    assert reopened.near_duplicates is not None
    np.testing.assert_array_equal(
        reopened.near_duplicates.representative, collapsed_run.near_duplicates.representative
    )
    assert is_collapsed(reopened) and reopened.ledger == collapsed_run.ledger


@pytest.mark.slow
def test_cli_flag(planted_file: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    outs = {}
    for flag in ((), ("--collapse-near-duplicates",)):
        out = tmp_path / ("on" if flag else "off")
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "run", str(planted_file), "--out", str(out), "--quiet",
             "--model", "use-multilingual", *flag],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outs[bool(flag)] = out
    off = json.loads((outs[False] / "run.json").read_text(encoding="utf-8"))
    on = json.loads((outs[True] / "run.json").read_text(encoding="utf-8"))
    assert off["near_duplicates"]["collapsed"] is False and on["near_duplicates"]["collapsed"] is True
    assert ALTERED_REASON not in off["ledger"]["altered"]
    assert on["ledger"]["altered"][ALTERED_REASON] > 0
    assert on["config"]["collapse_near_duplicates"] is True
    sizes = {
        flag: pd.read_csv(out / "topics.csv", encoding="utf-8-sig")["size"].sum()
        for flag, out in outs.items()
    }
    assert sizes[False] - sizes[True] == on["ledger"]["altered"][ALTERED_REASON]
    assignments = pd.read_csv(outs[True] / "assignments.csv", encoding="utf-8-sig")
    assert assignments["near_duplicate_count"].max() >= 4


# -------------------------------------------------------------------------------------- dashboard
def _with_planted_group(result):
    """``result`` with one near-duplicate group: the first topic's examples (a fake for the UI)."""
    import dataclasses

    from pipeline.near_duplicates import NearDuplicates

    unique = result.documents.unique_rows
    position = {int(r): i for i, r in enumerate(unique)}
    topic = next(tp for tp in result.topics if tp.id >= 0 and len(tp.examples) >= 2)
    members = [position[r] for r in topic.examples if r in position]
    representative = np.arange(len(unique), dtype=np.int64)
    representative[members] = members[0]
    found = NearDuplicates(representative, np.ones(len(unique), dtype=np.float32), {"groups": 1})
    manifest = {**result.manifest, "near_duplicates": {"groups": 1, "rows_in_groups": len(members)}}
    return dataclasses.replace(result, near_duplicates=found, manifest=manifest), topic


def test_dashboard_toggle_and_says_this(app, workspace: Path) -> None:
    from dashboard import state
    from tests._app_helpers import goto, open_result, texts
    from tests._result_factory import make_result

    result, topic = _with_planted_group(make_result(120, with_payloads=False))
    open_result(app, result, workspace / "run-nd")
    goto(app, "topics")
    assert not app.exception and not texts(app, "error")
    raw_sizes = {tp.id: tp.size for tp in result.topics}
    toggle = app.toggle(key="w_collapse_nd")
    assert toggle.value is False
    app.selectbox(key="w_detail_topic").set_value(topic.id).run()
    _, says = row_groups(result)
    want = int(says[topic.examples[0]])
    assert want >= 2
    captions = " ".join(str(c.value) for c in app.caption)
    assert f"{want} texts say this" in captions
    app.toggle(key="w_collapse_nd").set_value(True).run()
    assert not app.exception
    collapsed = app.session_state[state.RUN].result
    assert is_collapsed(collapsed)
    assert {tp.id: tp.size for tp in collapsed.topics}[topic.id] == raw_sizes[topic.id] - (want - 1)
    group_row, _ = row_groups(result)
    with_topic = result.row_labels() != -2
    folded = int(with_topic.sum()) - len(np.unique(group_row[with_topic]))  # exact copies fold too
    assert collapsed.ledger.altered[ALTERED_REASON] == folded >= want - 1
    assert "folded" in " ".join(str(c.value) for c in app.caption)
    app.toggle(key="w_collapse_nd").set_value(False).run()
    back = app.session_state[state.RUN].result
    assert {tp.id: tp.size for tp in back.topics} == raw_sizes
    assert ALTERED_REASON not in back.ledger.altered
