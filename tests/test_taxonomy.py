"""The living taxonomy: assignment, threshold calibration, the --taxonomy run path, pipeline.assign."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import RunConfig
from pipeline.errors import ConfigError
from pipeline.taxonomy.assign import TaxonomyAssigner, _leave_one_out, assign_vectors

GROUPS = {
    "delivery": "parcel courier delivery late arrived tracking box driver week",
    "refund": "refund money charged twice payment card bank returned account",
    "app": "app crashes login screen update password phone freezes button",
    "staff": "staff rude shop assistant manager counter queue waited ignored",
}
NEW_GROUP = "headphones earbuds battery bluetooth charging case sound speaker volume"


def _texts(vocab: str, n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = vocab.split()
    return [" ".join(rng.choice(words, 5, replace=False)) + f" n{seed}x{i}" for i in range(n)]


def _csv(groups: dict[str, str], n: int, seed: int) -> bytes:
    rows = [(t, name) for k, (name, vocab) in enumerate(groups.items()) for t in _texts(vocab, n, seed + k)]
    return pd.DataFrame(rows, columns=["feedback", "group"]).to_csv(index=False).encode()


def _planted(seed: int = 0, n: int = 60, dim: int = 16, noise: float = 0.15):
    rng = np.random.default_rng(seed)
    centres = np.eye(dim, dtype=np.float32)[:3]
    labels = np.repeat(np.arange(3), n)
    vectors = centres[labels] + rng.normal(0, noise, (len(labels), dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), labels


# ------------------------------------------------------------------------------------ assignment
def test_assigner_puts_known_vectors_in_their_topic_and_rejects_the_rest() -> None:
    vectors, labels = _planted()
    assigner = TaxonomyAssigner().fit_vectors(vectors, labels)
    np.testing.assert_array_equal(assigner.topic_ids_, [0, 1, 2])
    probe = np.zeros((4, 16), dtype=np.float32)
    probe[0, 0] = probe[1, 1] = probe[2, 2] = 1.0
    probe[3, 9] = 1.0  # orthogonal to every topic
    np.testing.assert_array_equal(assigner.predict(probe), [0, 1, 2, -1])
    # Halfway between two topics is below both topics' thresholds.
    between = np.zeros((1, 16), dtype=np.float32)
    between[0, :2] = 1.0
    assert assigner.predict(between)[0] == -1
    _, best, nearest = assigner.score(probe)
    assert nearest[3] in (0, 1, 2) and best[0] > 0.9


def test_outliers_are_ignored_and_topic_ids_are_kept() -> None:
    vectors, labels = _planted()
    labels = np.where(labels == 1, 7, labels)
    labels[:5] = -1
    assigner = TaxonomyAssigner().fit_vectors(vectors, labels)
    np.testing.assert_array_equal(assigner.topic_ids_, [0, 2, 7])
    assert assigner.predict(np.eye(16, dtype=np.float32)[1:2])[0] == 7


def test_leave_one_out_cosine_matches_a_direct_computation() -> None:
    vectors, labels = _planted(seed=3)
    members = vectors[labels == 0]
    fast = _leave_one_out(members, members.sum(axis=0, dtype=np.float64))
    for i in range(len(members)):
        rest = np.delete(members, i, axis=0).sum(axis=0)
        direct = float(members[i] @ rest / np.linalg.norm(rest))
        assert fast[i] == pytest.approx(direct, abs=1e-5)


def test_thresholds_are_calibrated_from_the_runs_own_members() -> None:
    rng = np.random.default_rng(1)
    dim = 16
    tight = np.eye(dim)[0] + rng.normal(0, 0.05, (80, dim))
    loose = np.eye(dim)[1] + rng.normal(0, 0.6, (80, dim))
    small = np.eye(dim)[2] + rng.normal(0, 0.05, (4, dim))
    vectors = np.vstack([tight, loose, small]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.repeat([0, 1, 2], [80, 80, 4])
    assigner = TaxonomyAssigner(percentile=5).fit_vectors(vectors, labels)
    loo = [_leave_one_out(vectors[labels == k], vectors[labels == k].sum(axis=0)) for k in range(3)]
    floor = float(np.percentile(np.concatenate(loo), 5))
    assert assigner.floor_ == pytest.approx(floor, abs=1e-6)
    # The tight topic's own 5th percentile is above the floor and is its threshold.
    own_tight = float(np.percentile(loo[0], 5))
    assert own_tight > floor
    assert assigner.threshold_[0] == pytest.approx(own_tight, abs=1e-5)
    # About 95 % of the tight topic's own members pass its threshold (leave-one-out).
    assert 0.9 <= float((loo[0] >= assigner.threshold_[0]).mean()) <= 0.97
    # The loose topic cannot go below the floor; the 4-member topic uses the floor alone.
    assert assigner.threshold_[1] == pytest.approx(max(float(np.percentile(loo[1], 5)), floor), abs=1e-5)
    assert assigner.threshold_[2] == pytest.approx(floor, abs=1e-6)
    assert assigner.calibration_["percentile"] == 5 and "leave-one-out" in assigner.calibration_["method"]
    # A stricter percentile gives higher thresholds.
    stricter = TaxonomyAssigner(percentile=25).fit_vectors(vectors, labels)
    assert (stricter.threshold_ >= assigner.threshold_ - 1e-6).all()


def test_assign_vectors_is_chunked_consistently() -> None:
    vectors, labels = _planted(n=400)
    assigner = TaxonomyAssigner().fit_vectors(vectors, labels)
    import pipeline.taxonomy.assign as module

    whole = assign_vectors(vectors, assigner.centroids_, assigner.threshold_, assigner.topic_ids_)
    old = module.CHUNK
    module.CHUNK = 7
    try:
        chunked = assign_vectors(vectors, assigner.centroids_, assigner.threshold_, assigner.topic_ids_)
    finally:
        module.CHUNK = old
    np.testing.assert_array_equal(whole[0], chunked[0])


# ------------------------------------------------------------------------------ runs with a taxonomy
@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    from pipeline.run import run
    from pipeline.store import save_edits, save_run

    folder = tmp_path_factory.mktemp("first")
    result = run(_csv(GROUPS, 30, 0), filename="first.csv", config=RunConfig(model="fake", use_cache=False))
    save_run(result, folder)
    renamed = next(t.id for t in result.topics if t.id >= 0)
    save_edits(folder, [{"op": "rename", "topic_id": renamed, "name": "Analyst name"}])
    return folder, result, renamed


@pytest.fixture(scope="module")
def second_run(first_run):
    from pipeline.run import run

    folder, _, _ = first_run
    groups = {"delivery": GROUPS["delivery"], "refund": GROUPS["refund"], "new": NEW_GROUP}
    config = RunConfig(model="fake", use_cache=False, taxonomy=str(folder))
    return run(_csv(groups, 30, 100), filename="second.csv", config=config)


def _topic_of_group(result, group: str) -> set[int]:
    labels = result.row_labels()
    return set(labels[(result.table["group"] == group).to_numpy()].tolist())


def _main_topic(result, group: str) -> tuple[int, float]:
    """The topic most of a group's rows are in, and the share of the group's rows in it."""
    labels = pd.Series(result.row_labels()[(result.table["group"] == group).to_numpy()])
    counts = labels.value_counts()
    return int(counts.index[0]), float(counts.iloc[0] / len(labels))


def test_taxonomy_run_keeps_ids_names_edits_and_lists_empty_topics(first_run, second_run) -> None:
    _, first, renamed = first_run
    second = second_run
    first_ids = {t.id for t in first.topics if t.id >= 0}
    second_names = second.topic_names()
    assert first_ids <= set(second_names)
    assert second_names[renamed] == "Analyst name"
    for topic in first.topics:
        if topic.id >= 0 and topic.id != renamed:
            assert second_names[topic.id] == topic.name
    # Same groups land in the same topics as in the first run.
    # (about 5 % of a topic's own kind of text falls below its threshold by construction).
    for group in ("delivery", "refund"):
        topic, share = _main_topic(second, group)
        assert _topic_of_group(first, group) == {topic}
        assert share >= 0.85
    # Groups that did not come back are listed with 0 rows.
    gone = _topic_of_group(first, "app") | _topic_of_group(first, "staff")
    sizes = {t.id: t.size for t in second.topics}
    assert gone and all(sizes[t] == 0 for t in gone)
    assert sorted(gone) == second.manifest["taxonomy"]["topics_without_rows"]
    # Themes are the taxonomy's and every kept topic keeps its theme.
    assert {t: th for t, th in second.topic_themes().items() if t in first_ids} == {
        t: th for t, th in first.topic_themes().items() if t in first_ids
    }


def test_rows_that_fit_no_topic_become_new_topics_above_the_old_ids(first_run, second_run) -> None:
    _, first, _ = first_run
    new, share = _main_topic(second_run, "new")
    top = max(t.id for t in first.topics)
    assert new > top and share >= 0.85
    info = second_run.manifest["taxonomy"]
    assert new in info["new_topics"] and min(info["new_topics"]) == top + 1
    assert info["origin"] == {
        str(t.id): ("new" if t.id > top else "taxonomy") for t in second_run.topics if t.id >= 0
    }
    assert "New topics" in second_run.theme_names().values()


def test_run_json_records_the_taxonomy_and_its_calibration(first_run, second_run) -> None:
    folder, first, _ = first_run
    info = second_run.manifest["taxonomy"]
    assert info["run_id"] == folder.name
    assert info["input_sha256"] == first.manifest["input_sha256"]
    assert info["calibration"]["floor"] == pytest.approx(info["threshold"]["min"], abs=1e-3)
    assert "percentile" in info["calibration"]["method"]
    assert set(info["threshold"]["per_topic"]) == {str(t.id) for t in first.topics if t.id >= 0}
    assert second_run.manifest["model"] == first.manifest["model"]


def test_topics_csv_has_origin_and_the_comparison(first_run, second_run) -> None:
    from pipeline.export import TOPIC_COLUMNS, topics_frame

    _, first, _ = first_run
    frame = topics_frame(second_run).set_index("topic_id")
    assert list(TOPIC_COLUMNS)[10:14] == ["origin", "share_before", "share_change", "p_value"]
    top = max(t.id for t in first.topics)
    assert set(frame.loc[frame.index > top, "origin"]) == {"new"}
    assert set(frame.loc[(frame.index >= 0) & (frame.index <= top), "origin"]) == {"taxonomy"}
    assert frame.loc[frame.index > top, "share_before"].isna().all()
    before = {t.id: t.share for t in first.topics}
    for topic_id in frame.index[(frame.index >= 0) & (frame.index <= top)]:
        row = frame.loc[topic_id]
        assert row["share_before"] == pytest.approx(before[topic_id], abs=1e-4)
        assert row["share_change"] == pytest.approx(row["share"] - row["share_before"], abs=2e-4)
        assert 0 <= row["p_value"] <= 1
    # A plain run says every topic is new and has no comparison.
    plain = topics_frame(first)
    assert set(plain.loc[plain["topic_id"] >= 0, "origin"]) == {"new"}
    assert plain["p_value"].isna().all()


def test_a_different_model_is_a_clear_error(first_run) -> None:
    from pipeline.embedders.fake import FakeEmbedder
    from pipeline.run import run

    folder, _, _ = first_run
    data = _csv(GROUPS, 10, 5)
    with pytest.raises(ConfigError, match="same model") as info:
        run(data, filename="x.csv", config=RunConfig(model="minilm", taxonomy=str(folder), use_cache=False))
    assert info.value.code == "taxonomy_model"
    with pytest.raises(ConfigError, match="dimensions"):
        run(
            data,
            filename="x.csv",
            config=RunConfig(taxonomy=str(folder), use_cache=False),
            embedder=FakeEmbedder(dim=32),
        )
    with pytest.raises(ConfigError, match="No run folder"):
        run(data, filename="x.csv", config=RunConfig(model="fake", taxonomy=str(folder / "nope")))


def test_taxonomy_file_round_trip_and_newer_schema_refused(first_run, tmp_path) -> None:
    from pipeline.taxonomy.io import load_taxonomy, read_taxonomy, save_taxonomy

    folder, _, renamed = first_run
    taxonomy = load_taxonomy(folder)
    assert taxonomy.names()[renamed] == "Analyst name" and len(taxonomy.edits) == 1
    save_taxonomy(taxonomy, tmp_path)
    again = read_taxonomy(tmp_path)
    assert again.names() == taxonomy.names() and again.model == taxonomy.model
    np.testing.assert_allclose(again.centroids, taxonomy.centroids)
    np.testing.assert_allclose(again.thresholds, taxonomy.thresholds)
    payload = json.loads((tmp_path / "taxonomy.json").read_text())
    payload["schema_version"] = 99
    (tmp_path / "taxonomy.json").write_text(json.dumps(payload))
    with pytest.raises(ConfigError, match="newer"):
        load_taxonomy(tmp_path)


def test_python_assign_routes_single_texts(first_run) -> None:
    import pipeline
    from pipeline.embedders.fake import FakeEmbedder

    folder, first, _ = first_run
    delivery = _topic_of_group(first, "delivery").pop()
    out = pipeline.assign(
        "courier delivery parcel late tracking box",
        taxonomy=folder,
        embedder=FakeEmbedder(),
    )
    assert len(out) == 1 and out[0].topic_id == delivery and out[0].score > 0
    batch = pipeline.assign(["", "zebra quantum violin"], taxonomy=folder, embedder=FakeEmbedder())
    assert [a.topic_id for a in batch] == [-1, -1] and batch[1].nearest_topic_id >= 0
    with pytest.raises(ConfigError):
        pipeline.assign("x", taxonomy=folder, embedder=FakeEmbedder(seed=3))


def test_prepare_taxonomy_sets_the_model(first_run) -> None:
    from pipeline.taxonomy.stage import prepare_taxonomy

    folder, _, _ = first_run
    taxonomy, config = prepare_taxonomy(RunConfig(taxonomy=str(folder)))
    assert config.model == "fake" == taxonomy.model_name
    assert dataclasses.replace(config, model="auto").taxonomy == str(folder)


# ---------------------------------------------------------------------------------- CLI, real model
@pytest.mark.slow
def test_cli_taxonomy_end_to_end_with_the_bundled_model(tmp_path: Path, sample_csv: Path) -> None:
    from pipeline.cli import main

    frame = pd.read_csv(sample_csv, dtype=str, keep_default_na=False)
    half = len(frame) // 2
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    frame.iloc[:half].to_csv(first, index=False)
    frame.iloc[half:].to_csv(second, index=False)
    model = ["--model", "use-multilingual", "--quiet", "--no-cache"]
    assert main(["run", str(first), "--out", str(tmp_path / "A"), *model]) == 0
    assert (
        main(["run", str(second), "--out", str(tmp_path / "B"), "--quiet", "--taxonomy", str(tmp_path / "A")])
        == 0
    )
    topics_a = pd.read_csv(tmp_path / "A" / "topics.csv")
    topics_b = pd.read_csv(tmp_path / "B" / "topics.csv")
    kept = topics_a[topics_a["topic_id"] >= 0].set_index("topic_id")["name"]
    b = topics_b.set_index("topic_id")
    assert (b.loc[kept.index, "name"] == kept).all()
    assert set(b.loc[kept.index, "origin"]) == {"taxonomy"}
    assert set(b.loc[b.index > kept.index.max(), "origin"]) <= {"new"}
    manifest = json.loads((tmp_path / "B" / "run.json").read_text())
    assert manifest["taxonomy"]["run_id"] == "A"
    assert manifest["config"]["taxonomy"] == str(tmp_path / "A")
    # Most rows of the second half join the first half's topics.
    assert manifest["taxonomy"]["rows_in_taxonomy_topics"] > 0.7 * manifest["ledger"]["rows_clustered"]
    # A different model is refused with one line, exit status 2.
    assert (
        main(
            [
                "run",
                str(second),
                "--out",
                str(tmp_path / "C"),
                "--model",
                "minilm",
                "--taxonomy",
                str(tmp_path / "A"),
            ]
        )
        == 2
    )
    # compare: the two runs share a taxonomy.
    assert main(["compare", str(tmp_path / "A"), str(tmp_path / "B"), "--out", str(tmp_path / "c.csv")]) == 0
    changes = pd.read_csv(tmp_path / "c.csv")
    assert set(kept.index) <= set(changes["topic_id"])
    assert changes["p_value"].dropna().between(0, 1).all()
    # compare, periods of one run: one row per topic with a test and an alert column.
    assert (
        main(
            [
                "compare",
                str(tmp_path / "A"),
                "--date-column",
                "date",
                "--freq",
                "W",
                "--out",
                str(tmp_path / "p.csv"),
            ]
        )
        == 0
    )
    periods = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert set(periods["topic_id"]) == set(kept.index) and set(periods["alert"]) <= {"", "up", "down"}
    assert main(["compare", str(tmp_path / "B"), str(tmp_path / "A")]) == 2
    # pipeline.assign with the real model puts a first-half text back in its topic.
    import pipeline

    assignments = pd.read_csv(tmp_path / "A" / "assignments.csv", dtype=str, keep_default_na=False)
    row = assignments[assignments["topic_id"] == str(kept.index[0])].iloc[0]
    out = pipeline.assign(row["feedback"], taxonomy=tmp_path / "A")
    assert out[0].topic_id == int(kept.index[0])
    assert not math.isnan(out[0].score)


def test_compare_runs_that_share_a_taxonomy_and_refuse_others(first_run, second_run) -> None:
    from pipeline.compare import compare_runs

    _, first, _ = first_run
    frame = compare_runs(first, second_run).set_index("topic_id")
    top = max(t.id for t in first.topics)
    assert set(frame.loc[frame.index > top, "status"]) == {"new"}
    gone = second_run.manifest["taxonomy"]["topics_without_rows"]
    assert set(frame.loc[gone, "status"]) == {"no rows"}
    assert (frame.loc[gone, "p_value"] < 0.05).all()  # 25 % of rows -> 0 % on 90 rows
    with pytest.raises(ConfigError, match="do not share a taxonomy"):
        compare_runs(second_run, first)


def test_report_has_the_comparison_section(second_run, first_run, tmp_path) -> None:
    from pipeline.report import write_report

    write_report(first_run[1], tmp_path / "plain")
    write_report(second_run, tmp_path / "tax")
    assert "Compared with the taxonomy run" in (tmp_path / "tax" / "report.html").read_text()
    assert "Compared with the taxonomy run" not in (tmp_path / "plain" / "report.html").read_text()


def test_a_taxonomy_run_used_as_taxonomy_keeps_its_empty_topics(first_run, second_run, tmp_path) -> None:
    from pipeline.store import save_run
    from pipeline.taxonomy.io import load_taxonomy

    save_run(second_run, tmp_path / "second")
    chained = load_taxonomy(tmp_path / "second")
    gone = second_run.manifest["taxonomy"]["topics_without_rows"]
    ids = [t.id for t in chained.topics]
    assert set(gone) <= set(ids) and ids == sorted(ids)
    assert chained.max_topic_id == max(t.id for t in second_run.topics)
    first = load_taxonomy(first_run[0])
    for topic_id in gone:
        i, j = ids.index(topic_id), list(first.topic_ids).index(topic_id)
        np.testing.assert_allclose(chained.centroids[i], first.centroids[j])
        assert chained.names()[topic_id] == first.names()[topic_id]
