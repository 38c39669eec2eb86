"""Reduce, cluster, topics, store and the orchestrator on real code paths (fake embedder for speed)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from pipeline.cluster import cluster
from pipeline.config import RunConfig
from pipeline.errors import ConfigError, DataError
from pipeline.reduce import reduce
from pipeline.run import run
from pipeline.store import list_runs, new_run_dir, open_run, save_run
from pipeline.topics import merge_topics, rename_topic


def planted(
    n: int, k: int, dim: int = 32, noise: float = 0.35, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    truth = rng.integers(0, k, n)
    vectors = centres[truth] + rng.normal(scale=noise * np.sqrt(dim) / 3, size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), truth


@pytest.fixture(scope="module")
def sample_result(sample_csv):
    config = RunConfig(model="fake", use_cache=False)
    return run(sample_csv.read_bytes(), filename=sample_csv.name, config=config)


def test_reduce_shapes_and_determinism() -> None:
    vectors, _ = planted(400, 5)
    first = reduce(vectors, seed=7)
    second = reduce(vectors, seed=7)
    assert first.cluster_space.shape == (400, 5)
    assert first.map_2d.shape == (400, 2)
    np.testing.assert_array_equal(first.cluster_space, second.cluster_space)
    np.testing.assert_array_equal(first.map_2d, second.map_2d)
    assert np.isfinite(first.map_2d).all()


def test_reduce_refuses_too_few_texts_with_a_clear_message() -> None:
    vectors, _ = planted(5, 2)
    with pytest.raises(DataError, match="at least 8 distinct"):
        reduce(vectors)


def test_reduce_handles_identical_vectors() -> None:
    vectors = np.tile(planted(1, 1)[0], (30, 1))
    result = reduce(vectors)
    assert result.map_2d.shape == (30, 2) and np.isfinite(result.map_2d).all()


def test_kmeans_auto_k_recovers_planted_topics() -> None:
    vectors, truth = planted(900, 6)
    space = reduce(vectors, seed=1).cluster_space
    clustering = cluster(space, method="kmeans", seed=1)
    assert 4 <= clustering.n_topics <= 10, clustering.reason
    assert adjusted_rand_score(truth, clustering.labels) > 0.8
    sizes = np.bincount(clustering.labels)
    assert list(sizes) == sorted(sizes, reverse=True), "topic 0 must be the largest"


def test_kmeans_given_k_and_too_many_topics() -> None:
    vectors, _ = planted(200, 4)
    assert cluster(vectors, method="kmeans", n_topics=4).n_topics == 4
    with pytest.raises(ConfigError, match="too many"):
        cluster(vectors, method="kmeans", n_topics=150)


def test_hdbscan_outliers_and_assignment() -> None:
    vectors, truth = planted(600, 4, noise=0.2)
    space = reduce(vectors, seed=3).cluster_space
    plain = cluster(space, method="hdbscan", min_topic_size=15)
    assigned = cluster(space, method="hdbscan", min_topic_size=15, assign_outliers=True)
    assert plain.n_topics >= 3
    assert (assigned.labels >= 0).all()
    assert adjusted_rand_score(truth, assigned.labels) > 0.8


def test_hdbscan_all_noise_gives_advice() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(DataError, match="kmeans"):
        cluster(rng.uniform(size=(40, 5)), method="hdbscan", min_topic_size=30)


def test_run_accounts_for_every_row(sample_result) -> None:
    result = sample_result
    ledger = result.ledger
    assert ledger.rows_read == 600 == len(result.table)
    assert ledger.rows_clustered + sum(ledger.excluded.values()) == ledger.rows_read
    assert ledger.excluded.get("empty", 0) >= 3 and ledger.excluded.get("duplicate", 0) >= 3
    labels = result.row_labels()
    assert (labels[result.documents.unique_rows] >= -1).all()
    for row, status in enumerate(result.documents.status):
        if status.startswith("duplicate_of:"):
            assert labels[row] == labels[int(status.split(":")[1])]
        elif status != "ok":
            assert labels[row] == -2
    manifest = result.manifest
    for key in (
        "model",
        "device",
        "clusterer",
        "n_topics",
        "seed",
        "input_sha256",
        "versions",
        "timings_s",
        "ledger",
    ):
        assert key in manifest
    assert "embed" in manifest["timings_s"]
    assert manifest["text_column"] == "feedback"
    json.dumps(manifest)  # the manifest must be JSON-ready as it is


def test_run_is_deterministic(sample_csv, sample_result) -> None:
    again = run(
        sample_csv.read_bytes(), filename=sample_csv.name, config=RunConfig(model="fake", use_cache=False)
    )
    np.testing.assert_array_equal(again.clustering.labels, sample_result.clustering.labels)
    np.testing.assert_array_equal(again.reduction.map_2d, sample_result.reduction.map_2d)
    assert [t.name for t in again.topics] == [t.name for t in sample_result.topics]


def test_topics_describe_rows(sample_result) -> None:
    topics = sample_result.topics
    not_analysed = sum(n for reason, n in sample_result.ledger.excluded.items() if reason != "duplicate")
    assert sum(t.size for t in topics) == sample_result.ledger.rows_read - not_analysed
    for topic in topics:
        assert topic.keywords and topic.name
        assert 1 <= len(topic.examples) <= 3
        assert all(sample_result.row_labels()[row] == topic.id for row in topic.examples)
        assert sum(topic.languages.values()) == topic.size


def test_rename_and_merge(sample_result) -> None:
    renamed = rename_topic(sample_result, 0, "  Late   deliveries ")
    assert renamed.topic_names()[0] == "Late deliveries"
    merged = merge_topics(renamed, [1, 2], "Money")
    ids = {t.id for t in merged.topics}
    assert 2 not in ids and 1 in ids
    assert merged.topic_names()[1] == "Money"
    assert merged.topic_names()[0] == "Late deliveries", "other analyst names survive a merge"
    old = {t.id: t.size for t in sample_result.topics}
    assert {t.id: t.size for t in merged.topics}[1] == old[1] + old[2]
    with pytest.raises(ConfigError):
        merge_topics(sample_result, [1])
    with pytest.raises(ConfigError):
        rename_topic(sample_result, 999, "x")


def test_store_round_trip(tmp_path, sample_result) -> None:
    run_dir = new_run_dir(tmp_path, sample_result)
    save_run(sample_result, run_dir, edits=[{"op": "rename", "topic_id": 0, "name": "A"}])
    reopened = open_run(run_dir)
    np.testing.assert_array_equal(reopened.clustering.labels, sample_result.clustering.labels)
    assert reopened.documents.status == sample_result.documents.status
    assert reopened.topics == sample_result.topics
    pd.testing.assert_frame_equal(reopened.table, sample_result.table)
    assert reopened.ledger == sample_result.ledger
    assert [r.path for r in list_runs(tmp_path)] == [run_dir]


def test_run_rejects_too_few_and_identical_texts() -> None:
    data = "text\n" + "\n".join(["same complaint"] * 50)
    with pytest.raises(DataError, match=r"got 1\)"):
        run(data.encode(), filename="same.csv", config=RunConfig(model="fake", use_cache=False))


def test_reduce_places_rows_beyond_the_fit_sample() -> None:
    vectors, truth = planted(1200, 6)
    reduction = reduce(vectors, seed=2, fit_sample=400)
    assert reduction.params["fit_rows"] == 400 and reduction.params["placed_rows"] == 800
    fitted = np.zeros(len(vectors), dtype=bool)
    fitted[np.sort(np.random.default_rng(2).choice(len(vectors), size=400, replace=False))] = True
    labels = cluster(reduction.cluster_space, method="kmeans", n_topics=6, seed=2).labels
    assert adjusted_rand_score(truth[~fitted], labels[~fitted]) > 0.9, "placed rows join their topic"
    assert np.isfinite(reduction.map_2d).all()


def test_auto_is_resolved_before_the_callers_model_loader(sample_csv) -> None:
    from pipeline.embedders.fake import FakeEmbedder

    calls: list[tuple[str, str]] = []

    def load(name: str, *, device: str, **options: object) -> FakeEmbedder:
        calls.append((name, device))
        return FakeEmbedder()

    result = run(
        sample_csv.read_bytes(),
        filename=sample_csv.name,
        config=RunConfig(model="auto", device="cpu", use_cache=False),
        load_embedder=load,
    )
    assert calls == [("use-multilingual", "cpu")]
    assert result.manifest["model_name"] == "use-multilingual"
    assert "GPU" in result.manifest["model_reason"] or "CPU" in result.manifest["model_reason"]


@pytest.mark.parametrize("coarse", [None, "bfloat16"])
def test_neighbour_search_matches_float64_with_and_without_the_half_precision_pass(
    monkeypatch, coarse
) -> None:
    import torch

    from pipeline import reduce as reduce_module

    monkeypatch.setattr(
        reduce_module, "_coarse_dtype", lambda device: getattr(torch, coarse) if coarse else None
    )
    rng = np.random.default_rng(0)
    bank = rng.normal(size=(3000, 96)).astype(np.float32)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    queries = bank[rng.choice(3000, 600)] + rng.normal(0, 0.3, size=(600, 96)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    neighbours, dists = reduce_module._exact_search(bank)(queries, 15)

    sims = queries.astype(np.float64) @ bank.astype(np.float64).T
    truth = np.argsort(-sims, axis=1)[:, :15]
    same = np.mean([set(a) == set(b) for a, b in zip(neighbours, truth, strict=True)])
    assert same >= 0.99, f"only {same:.3f} of rows got the exact neighbours"
    np.testing.assert_allclose(dists, 1 - np.take_along_axis(sims, neighbours, axis=1), atol=1e-5)
    assert (np.diff(dists, axis=1) >= -1e-6).all(), "nearest first"


def test_umap_compiled_code_is_kept_on_disk_for_the_next_process() -> None:
    import umap.umap_

    from pipeline.reduce import _keep_compiled_code

    vectors, _ = planted(200, 4)
    reduce(vectors, seed=1)
    assert _keep_compiled_code() > 10
    assert type(umap.umap_.smooth_knn_dist._cache).__name__ != "NullCache"


def test_umap_fit_rows_sets_how_many_texts_umap_is_fitted_on() -> None:
    rows = [
        f"ticket {i}: the {['app', 'card', 'parcel', 'refund'][i % 4]} problem number {i}"
        for i in range(1600)
    ]
    data = ("text\n" + "\n".join(rows)).encode()
    result = run(data, filename="t.csv", config=RunConfig(model="fake", use_cache=False, umap_fit_rows=1000))
    assert result.reduction.params["fit_rows"] == 1000 and result.reduction.params["placed_rows"] == 600
    assert result.manifest["config"]["umap_fit_rows"] == 1000
    default = run(data, filename="t.csv", config=RunConfig(model="fake", use_cache=False))
    assert default.reduction.params["fit_rows"] == 1600 and "placed_rows" not in default.reduction.params
