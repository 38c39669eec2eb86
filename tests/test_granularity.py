"""The automatic topic count, themes and language centring: planted structure, tiny and degenerate
inputs, determinism, and a reason that states what the numbers said."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.centring import centre_languages
from pipeline.cluster import cluster
from pipeline.granularity import choose_topics, knn_graph, merge_connected, tolerance, ward_tree
from pipeline.themes import MIN_THEMES, choose_themes


def planted(n_topics: int, per_topic: int, *, dim: int = 64, spread: float = 0.15, seed: int = 0):
    """Well-separated unit vectors around ``n_topics`` random centres, and a 5-d 'reduced' copy."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_topics, dim))
    labels = np.repeat(np.arange(n_topics), per_topic)
    vectors = centres[labels] / np.sqrt(dim) + rng.normal(
        scale=spread / np.sqrt(dim), size=(len(labels), dim)
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    low_centres = rng.normal(scale=10.0, size=(n_topics, 5))
    space = low_centres[labels] + rng.normal(scale=0.3, size=(len(labels), 5))
    return vectors.astype(np.float32), space.astype(np.float32), labels


def test_planted_topics_are_found_and_the_count_follows_the_data() -> None:
    from sklearn.metrics import adjusted_rand_score

    for n_topics in (6, 25):
        vectors, space, truth = planted(n_topics, 40)
        choice = choose_topics(space, vectors=vectors, seed=42)
        found = len(np.unique(choice.labels))
        assert found == n_topics, (n_topics, found, choice.reason)
        assert adjusted_rand_score(truth, choice.labels) > 0.95


def test_one_blob_is_not_cut_into_many_near_duplicate_topics() -> None:
    rng = np.random.default_rng(3)
    space = rng.normal(size=(1200, 3)).astype(np.float32)  # one continuous blob
    vectors = np.hstack([space, np.full((1200, 1), 8.0, dtype=np.float32)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    choice = choose_topics(space, vectors=vectors, seed=1)
    assert choice.params["k_over"] >= 20  # it over-clustered ...
    assert len(np.unique(choice.labels)) <= 12, choice.reason  # ... but not its 37 finest pieces


def test_same_seed_same_topics_and_the_reason_is_true() -> None:
    vectors, space, _ = planted(12, 30, spread=0.6, seed=5)
    first = choose_topics(space, vectors=vectors, seed=7)
    again = choose_topics(space, vectors=vectors, seed=7)
    assert np.array_equal(first.labels, again.labels) and first.reason == again.reason
    scores = {int(k): v for k, v in first.params.get("k_silhouette", {}).items()}
    if scores:
        best = max(scores.values())
        floor = best - tolerance(best) * abs(best)
        chosen = first.params["k"]
        assert scores[chosen] >= floor - 1e-4
        assert all(k <= chosen for k, v in scores.items() if v >= floor + 1e-4)
        assert f"{chosen} topics" in first.reason


@pytest.mark.parametrize("n", [8, 9, 15, 40])
def test_tiny_inputs_get_topics_without_error(n: int) -> None:
    vectors, space, _ = planted(2, n // 2 + 1, seed=n)
    result = cluster(space[:n], seed=42, vectors=vectors[:n])
    assert len(result.labels) == n and result.n_topics >= 1
    assert set(np.unique(result.labels)) == set(range(result.n_topics))


def test_identical_points_do_not_crash() -> None:
    space = np.ones((30, 5), dtype=np.float32)
    vectors = np.ones((30, 8), dtype=np.float32) / np.sqrt(8)
    result = cluster(space, seed=1, vectors=vectors)
    assert len(result.labels) == 30


def test_merge_connected_joins_groups_that_share_neighbours() -> None:
    vectors, _, truth = planted(3, 30, seed=2)
    graph = knn_graph(vectors, k=10)
    split = truth * 2 + (np.arange(len(truth)) % 2)  # each planted topic cut in two halves
    merged = merge_connected(split, np.arange(len(truth)), graph, threshold=0.1, min_size=2)
    assert len(np.unique(merged)) == 3


def test_ward_tree_cuts_are_nested() -> None:
    _, space, truth = planted(8, 20, seed=4)
    cuts = ward_tree(space.astype(np.float64), truth, levels=[2, 4, 8])
    assert sorted(cuts) == [2, 4, 8]
    for fine, coarse in ((8, 4), (4, 2)):
        for group in range(fine):
            assert len(np.unique(cuts[coarse][cuts[fine] == group])) == 1


def test_every_topic_belongs_to_one_theme_and_there_are_fewer_themes() -> None:
    _, space, truth = planted(24, 20, seed=6)
    labels = truth.copy()
    labels[:5] = -1  # some outliers
    choice = choose_themes(space, labels, seed=1)
    topics = set(int(t) for t in np.unique(labels) if t >= 0)
    assert set(k for k in choice.theme_of if k >= 0) == topics
    n_themes = len({v for k, v in choice.theme_of.items() if k >= 0})
    assert MIN_THEMES <= n_themes <= min(20, len(topics) // 2)
    assert choice.theme_of[-1] == -1
    assert set(v for k, v in choice.theme_of.items() if k >= 0) == set(range(n_themes)), "ids 0..n-1"


def test_few_topics_are_their_own_themes() -> None:
    _, space, truth = planted(3, 20, seed=8)
    choice = choose_themes(space, truth, seed=1)
    assert len(set(choice.theme_of.values())) == 3


def test_language_centring_moves_language_means_together_and_leaves_one_language_alone() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(200, 16)).astype(np.float32)
    offset = np.zeros(16, dtype=np.float32)
    offset[0] = 3.0
    vectors = np.vstack([base[:100], base[100:] + offset])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    languages = ["en"] * 100 + ["zh"] * 100
    centred, params = centre_languages(vectors, languages)
    assert params["languages"] == ["en", "zh"]
    gap_before = np.linalg.norm(vectors[:100].mean(0) - vectors[100:].mean(0))
    gap_after = np.linalg.norm(centred[:100].mean(0) - centred[100:].mean(0))
    assert gap_after < 0.2 * gap_before
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    same, params = centre_languages(vectors, ["en"] * 190 + ["fr"] * 10)
    assert same is vectors and params["languages"] == []


def test_topics_that_share_their_keywords_and_sit_together_are_merged() -> None:
    from pipeline.granularity import merge_keyword_duplicates
    from pipeline.tokenize import tokenize_many

    rng = np.random.default_rng(0)
    late = ["delivery was late again", "late delivery, courier slow", "slow courier and late delivery"]
    refund = ["refund never arrived", "still waiting for my refund money", "refund request ignored"]
    app = ["the app crashes at login", "app keeps crashing", "login screen crash in the app"]
    texts = (late * 10) + (late * 10) + (refund * 10) + (app * 10)
    labels = np.repeat([0, 1, 2, 3], 30)  # topics 0 and 1 say the same thing
    centres = rng.normal(size=(4, 16))
    centres[1] = centres[0] + 0.05
    vectors = (centres[labels] + rng.normal(scale=0.05, size=(120, 16))).astype(np.float32)
    phrases = tokenize_many(texts, ["en"] * len(texts))
    merged = merge_keyword_duplicates(labels, vectors=vectors, phrases=phrases)
    assert len(np.unique(merged.labels)) == 3
    assert merged.merged[0][:2] == (0, 1)
    assert (merged.labels[60:] == labels[60:]).all(), "distinct topics are left alone"
