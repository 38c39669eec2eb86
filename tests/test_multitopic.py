"""Several topics per feedback item (pipeline/multitopic.py): splitting, assignment, outputs, edits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import multitopic as mt
from pipeline.types import EXCLUDED
from tests._result_factory import make_result


# ------------------------------------------------------------------------------------------ splitting
def test_split_parts_in_several_languages() -> None:
    assert mt.split_parts("The courier was two hours late. Then the app crashed when I paid!") == [
        "The courier was two hours late.",
        "Then the app crashed when I paid!",
    ]
    assert mt.split_parts("快递太慢了，等了两个星期。客服态度很差！") == [
        "快递太慢了，等了两个星期。",
        "客服态度很差！",
    ]
    assert mt.split_parts("配送が遅かったです。アプリも落ちました。") == [
        "配送が遅かったです。",
        "アプリも落ちました。",
    ]
    assert mt.split_parts("Great app") == ["Great app"]
    # too-short pieces are glued to a neighbour, never left alone
    assert mt.split_parts("OK. Fine. The delivery took three weeks to arrive.") == [
        "OK. Fine. The delivery took three weeks to arrive."
    ]


def test_long_sentences_split_into_clauses_and_parts_are_capped() -> None:
    long = (
        "the parcel arrived three weeks after the promised date, the app kept crashing at checkout, "
        "and nobody in support ever answered my emails"
    )
    assert len(mt.split_parts(long)) == 3
    many = " ".join(f"Sentence number {i} is about something." for i in range(20))
    parts = mt.split_parts(many, max_parts=5)
    assert len(parts) == 5 and " ".join(parts) == many


# ------------------------------------------------------------------------------------------ assigning
def test_assign_parts_with_hand_made_vectors() -> None:
    # two topics along the axes; text 0 is in topic 0, and one of its parts points at topic 1
    vectors = np.array([[1, 0], [0.96, 0.28], [0, 1], [0.28, 0.96]], dtype=np.float32)
    labels = np.array([0, 0, 1, 1])
    ids, centroids = mt.topic_centroids(vectors, labels)
    assert list(ids) == [0, 1]
    thresholds = np.array([0.9, 0.9])
    parts = np.array([[1, 0], [0.1, 0.995], [0.7, 0.714]], dtype=np.float32)
    owners = np.array([0, 0, 2])
    pairs = mt.assign_parts(parts, owners, labels, ids=ids, centroids=centroids, thresholds=thresholds)
    # part 1 reaches topic 1 (a mention of text 0); part 0 is text 0's own topic; part 2 is too far
    assert pairs.tolist() == [[0, 1]]


def test_thresholds_come_from_the_members_similarities() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.repeat([0, 1], 20)
    ids, centroids = mt.topic_centroids(vectors, labels)
    low = mt.topic_thresholds(vectors, labels, ids, centroids, quantile=0.1)
    high = mt.topic_thresholds(vectors, labels, ids, centroids, quantile=0.9)
    assert (low < high).all()
    assert low[0] == pytest.approx(np.quantile(vectors[:20] @ centroids[0], 0.1))


@pytest.fixture(scope="module")
def use_embedder():
    from pipeline.embedders.registry import create_embedder

    return create_embedder("use-multilingual", device="cpu")


def test_real_model_finds_the_second_issue(use_embedder) -> None:
    delivery = [
        "The courier was two hours late.",
        "My parcel arrived a week after the promised date.",
        "Delivery took forever and the package came late.",
        "The driver never showed up and my order was late.",
        "快递太慢了，晚了三天才到。",
        "Shipping was very slow, it arrived late again.",
    ]
    crash = [
        "The app crashes every time I open it.",
        "The application froze and closed when I tried to pay.",
        "The app keeps crashing on my phone.",
        "App crashed at checkout again.",
        "应用一打开就闪退。",
        "Every time I log in the app freezes and crashes.",
    ]
    joined = [
        "My parcel arrived five days late. Then the app crashed when I tried to complain.",
        "快递晚了整整一周。应用总是闪退。",
    ]
    texts = delivery + crash + joined
    labels = np.array([0] * len(delivery) + [1] * len(crash) + [0, 0])
    vectors = use_embedder.embed(texts)
    found = mt.find_mentions(texts, labels, vectors, embedder=use_embedder, quantile=0.1)
    pairs = {tuple(p) for p in found.pairs.tolist()}
    n = len(delivery) + len(crash)
    assert (n, 1) in pairs and (n + 1, 1) in pairs, pairs
    assert all(position >= n for position, _ in pairs)  # single-issue texts (one part) gain nothing
    assert found.info["texts_split"] >= 2 and found.info["method"] == "parts"
    again = mt.find_mentions(texts, labels, vectors, embedder=use_embedder, quantile=0.1)
    assert again.pairs.tolist() == found.pairs.tolist()  # deterministic


# ------------------------------------------------------------------------------------- reads, outputs
def _with_mentions(result, pairs: list[list[int]]):
    return dataclasses.replace(result, mentions=np.array(pairs, dtype=np.int64).reshape(-1, 2))


def test_membership_counts_and_assignment_column() -> None:
    from pipeline.export import assignments_frame, topics_frame

    result = make_result(60, with_payloads=False)
    unique = result.documents.unique_rows
    labels = result.clustering.labels
    first0 = int(np.flatnonzero(labels == 0)[0])  # a topic-0 text that also raises topics 1 and 2
    result = _with_mentions(result, [[first0, 1], [first0, 2]])
    rows = np.flatnonzero(result.documents.source_row == unique[first0])  # the text and its duplicates
    masks = mt.membership(result)
    assert masks[1][rows].all() and masks[0][rows].all()
    assert not mt.membership(result, secondary=False)[1][rows].any()
    column = mt.other_topic_ids(result)
    assert all(column[r] == "1;2" for r in rows)
    assert sum(1 for c in column if c) == len(rows)
    assert list(assignments_frame(result)["other_topic_ids"]) == column
    topics = topics_frame(result).set_index("topic_id")
    assert topics.loc[1, "mentions"] == topics.loc[1, "size"] + len(rows)
    assert topics.loc[0, "mentions"] == topics.loc[0, "size"]
    assert (result.row_labels()[rows] == 0).all()  # the primary topic stays in topic_id


def test_mentions_survive_save_and_follow_merges(tmp_path: Path) -> None:
    from pipeline.store import open_run, save_run
    from pipeline.topics import merge_topics

    result = make_result(60, with_payloads=False)
    labels = result.clustering.labels
    a = int(np.flatnonzero(labels == 0)[0])
    b = int(np.flatnonzero(labels == 2)[0])
    result = _with_mentions(result, [[a, 1], [b, 1], [b, 3]])
    back = open_run(save_run(result, tmp_path / "run"))
    assert back.mentions.tolist() == result.mentions.tolist()
    merged = merge_topics(result, [1, 2])  # topic 2 text b's mention of 1 becomes its own topic
    assert sorted(merged.mentions.tolist()) == [[a, 1], [b, 3]]
    plain = make_result(40, with_payloads=False)
    assert open_run(save_run(plain, tmp_path / "plain")).mentions.shape == (0, 2)


def test_run_with_multi_topic_writes_other_topic_ids(tmp_path: Path) -> None:
    from pipeline.config import RunConfig
    from pipeline.embedders.registry import create_embedder
    from pipeline.export import assignments_frame, topics_frame
    from pipeline.run import run

    sentences = [
        "The delivery was late by three days.",
        "The app crashed when I opened it.",
        "Refund has not arrived after two weeks.",
        "Support answered quickly and kindly.",
    ]
    texts = [f"{sentences[i % 4]} Order {i}." for i in range(80)]
    texts += [f"{sentences[i % 4]} {sentences[(i + 1) % 4]} Case {i}." for i in range(40)]
    data = pd.DataFrame({"text": texts, "stars": [str(1 + i % 5) for i in range(len(texts))]})
    config = RunConfig(multi_topic="on", seed=1, use_cache=False, n_topics=4)
    seen: list[str] = []
    result = run(
        data.to_csv(index=False).encode(),
        filename="f.csv",
        config=config,
        embedder=create_embedder("fake"),
        progress=lambda stage, done, total: seen.append(stage),
    )
    assert "multi_topic" in seen  # the parts' embedding reports progress (and can be cancelled)
    info = result.manifest["multi_topic"]
    assert info["method"] == "parts" and info["texts_split"] >= 40
    assert result.manifest["rating"]["column"] == "stars"
    assignments = assignments_frame(result)
    assert "other_topic_ids" in assignments.columns
    topics = topics_frame(result)
    assert (topics["mentions"] >= topics["size"]).all()
    assert result.row_labels().min() > EXCLUDED


def test_report_and_topics_page_show_other_mentions(app, tmp_path: Path) -> None:
    from pipeline.report import render_html
    from tests._app_helpers import goto, open_result

    result = make_result(60, with_payloads=False)
    labels = result.clustering.labels
    texts0 = np.flatnonzero(labels == 0)[:3]
    result = _with_mentions(result, [[int(p), 1] for p in texts0])
    extra = int(mt.mention_counts(result)[1] - next(t.size for t in result.topics if t.id == 1))
    assert extra >= 3
    assert f"+{extra} other" in render_html(result)
    assert "other</span>" not in render_html(make_result(60, with_payloads=False))
    open_result(app, result, tmp_path / "run-mentions")
    goto(app, "topics")
    assert not app.exception
    table = app.dataframe[0].value.set_index("topic_id")  # the overview (a data editor)
    assert table.loc[1, "mentions"] == table.loc[1, "size"] + extra


def test_run_page_passes_the_multi_topic_choice(app, monkeypatch) -> None:
    from dashboard import jobs, services
    from tests._app_helpers import goto

    started: list = []
    monkeypatch.setattr(
        services,
        "start_run",
        lambda upload, config: started.append(config) or jobs.start(lambda job: "", filename=upload.filename),
    )
    app.button(key="w_sample").click().run()
    goto(app, "run")
    assert app.checkbox(key="w_multi_topic").value is True  # auto by default (bench/multitopic.py)
    app.checkbox(key="w_multi_topic").uncheck().run()
    app.button(key="w_start").click().run()
    assert not app.exception
    assert started and started[-1].multi_topic == "off"
