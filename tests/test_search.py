"""Search: ranking modes, exact phrases, filters, same-text collapse, polarity, the index and the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.search import SearchCorpus, SearchFilters, search_run
from pipeline.search.engine import collapse, rank, same_text_key
from pipeline.search.index import INDEX_FILE, STAMP_FILE, vector_index
from pipeline.types import Theme
from tests._result_factory import make_result

ROOT = Path(__file__).resolve().parents[1]


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


class _Fixed:
    """A fake embedder: the query vector is given; documents (polarity anchors) are refused."""

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = np.asarray(vector, dtype=np.float32)
        self.dim = self.vector.shape[-1]
        self.model_id = "fixed"

    def embed(self, texts, *, kind="document", progress=None):
        if kind != "query":
            raise RuntimeError("documents are not supported")
        return np.tile(self.vector, (len(texts), 1))


def _hits(corpus: SearchCorpus, query: str, qvec: np.ndarray, mode: str, top: int = 3) -> list[int]:
    ranked = rank(corpus, query, qvec, mode=mode, allowed=None)
    counts = np.ones(int(corpus.groups.max()) + 1, dtype=np.int64)
    return [entry for entry, *_ in collapse(corpus, ranked, counts=counts, top=top)]


# ------------------------------------------------------------------------------------------ ranking
def test_hybrid_beats_dense_when_the_words_decide() -> None:
    # Three refund texts and three look-alikes whose vectors sit closer to the query than two of
    # the refund texts: dense alone ranks look-alikes in; the shared word "refund" lifts the rest.
    texts = [
        "refund not received yet",
        "where is my refund",
        "refund still missing after two weeks",
        "parcel not received yet",
        "where is my parcel",
        "order still missing after two weeks",
    ]
    rng = np.random.default_rng(0)
    query = _unit(rng.normal(size=16))
    noise = rng.normal(size=(6, 16))
    orth = _unit(noise - (noise @ query)[:, None] * query)
    cosine = np.array([0.95, 0.8, 0.8, 0.92, 0.9, 0.88])[:, None]
    vectors = _unit(cosine * query + np.sqrt(1 - cosine**2) * orth)
    corpus = SearchCorpus.from_texts(texts, vectors=vectors, languages=["en"] * 6)
    relevant = {0, 1, 2}
    dense = len(set(_hits(corpus, "refund", query, "dense")) & relevant)
    hybrid = len(set(_hits(corpus, "refund", query, "hybrid")) & relevant)
    lexical = _hits(corpus, "refund", query, "lexical")
    assert dense < 3, "the case must be hard for dense retrieval"
    assert hybrid == 3 and hybrid >= dense
    assert set(lexical) == relevant


def test_lexical_mode_finds_chinese_words() -> None:
    texts = ["送餐太慢了，等了一个小时", "味道很好，包装也不错", "骑手态度很好，送餐很快"]
    vectors = _unit(np.eye(3, 4, dtype=np.float32) + 0.01)
    corpus = SearchCorpus.from_texts(texts, vectors=vectors, languages=["zh"] * 3)
    hits = _hits(corpus, "包装", _unit(np.ones(4)), "lexical")
    assert hits == [1]


def test_exact_phrase_ignores_case_and_spacing_only() -> None:
    texts = ["Delivery  was LATE again", "delivery was not late", "late delivery", "the delivery was late."]
    corpus = SearchCorpus.from_texts(texts, vectors=_unit(np.ones((4, 3))), languages=["en"] * 4)
    hits = _hits(corpus, "delivery was late", _unit(np.ones(3)), "exact", top=10)
    assert sorted(hits) == [0, 3]


def test_same_reading_texts_collapse_to_one_hit_with_their_row_count() -> None:
    result = make_result(60, with_payloads=False)
    texts = list(result.documents.texts)
    table = result.table.copy()
    unique = result.documents.unique_rows
    # Two unique texts that differ only in case and punctuation read the same.
    a, b = int(unique[0]), int(unique[1])
    table.loc[b, "feedback"] = table.loc[a, "feedback"].upper() + "!!"
    texts[b] = texts[a].upper() + "!!"
    documents = dataclasses.replace(result.documents, texts=tuple(texts))
    vectors = result.embeddings.vectors.copy()
    vectors[1] = vectors[0]  # the same words: the same vector
    embeddings = dataclasses.replace(result.embeddings, vectors=vectors)
    result = dataclasses.replace(result, table=table, documents=documents, embeddings=embeddings)
    vectors = result.embeddings.vectors
    query = vectors[0]
    hits = search_run(result, ["x"], embedder=_Fixed(query), mode="dense", top=5, polarity=False)
    first = hits.iloc[0]
    key = same_text_key(str(table.loc[a, "feedback"]))
    same_rows = [
        r
        for r in range(result.documents.n_rows)
        if result.documents.source_row[r] >= 0
        and same_text_key(str(table.loc[int(result.documents.source_row[r]), "feedback"])) == key
    ]
    assert first["row"] == a
    assert first["count"] == len(same_rows) >= 2
    assert b not in set(hits["row"]), "the second spelling is folded into the first hit"
    separate = search_run(
        result, ["x"], embedder=_Fixed(query), mode="dense", top=5, polarity=False, collapse_same=False
    )
    assert {a, b} <= set(separate["row"])
    own = dict(zip(separate["row"], separate["count"], strict=True))
    assert own[a] + own[b] == first["count"], "without collapsing, each hit counts its own duplicates"


def test_filters_by_topic_theme_and_column() -> None:
    result = make_result(120, with_payloads=False)
    topic_ids = sorted(t.id for t in result.topics if t.id >= 0)
    themes = (
        Theme(id=0, name="A", size=1, share=0.5, keywords=(), topic_ids=tuple(topic_ids[:1])),
        Theme(id=1, name="B", size=1, share=0.5, keywords=(), topic_ids=tuple(topic_ids[1:])),
    )
    result = dataclasses.replace(result, themes=themes)
    embedder = _Fixed(result.embeddings.vectors[3])
    labels = result.row_labels()

    by_topic = search_run(
        result,
        ["q"],
        embedder=embedder,
        top=50,
        filters=SearchFilters(topics=(topic_ids[1],)),
        polarity=False,
    )
    assert len(by_topic) > 0 and set(by_topic["topic_id"]) == {topic_ids[1]}
    by_theme = search_run(
        result, ["q"], embedder=embedder, top=50, filters=SearchFilters(themes=(0,)), polarity=False
    )
    assert set(by_theme["topic_id"]) == {topic_ids[0]} and set(by_theme["theme_name"]) == {"A"}
    channel = str(result.table["channel"].iloc[0])
    by_column = search_run(
        result,
        ["q"],
        embedder=embedder,
        top=50,
        filters=SearchFilters(columns={"channel": (channel,)}),
        polarity=False,
    )
    assert len(by_column) > 0
    for row, count in zip(by_column["row"], by_column["count"], strict=True):
        members = np.flatnonzero(result.documents.source_row == result.documents.source_row[row])
        matching = [m for m in members if str(result.table["channel"].iloc[m]) == channel]
        assert count == len(matching) >= 1, "counts only the rows that pass the filter"
    assert (labels[by_column["row"].to_numpy()] >= -1).all()
    with pytest.raises(ConfigError, match="no column 'nope'"):
        search_run(result, ["q"], embedder=embedder, filters=SearchFilters(columns={"nope": ("x",)}))


def test_bad_queries_and_modes_are_clear_errors() -> None:
    result = make_result(60, with_payloads=False)
    embedder = _Fixed(result.embeddings.vectors[0])
    with pytest.raises(ConfigError, match="empty"):
        search_run(result, ["ok", "   "], embedder=embedder)
    with pytest.raises(ConfigError, match="empty"):
        search_run(result, [], embedder=embedder)
    with pytest.raises(ConfigError, match="Unknown search mode"):
        search_run(result, ["ok"], embedder=embedder, mode="fuzzy")
    with pytest.raises(ConfigError, match="dimensional"):
        search_run(result, ["ok"], embedder=_Fixed(np.ones(3)))


# -------------------------------------------------------------------------------------------- index
def test_vector_index_matches_the_exact_scan_and_is_saved_and_reused(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(40, 32))  # texts come in groups of similar meaning
    vectors = _unit(centres[rng.integers(0, 40, 3000)] + rng.normal(scale=0.6, size=(3000, 32)))
    exact = vector_index(vectors)
    assert exact.kind == "exact"
    built = vector_index(vectors, folder=tmp_path, exact_max=1000)
    assert built.kind == "ivf" and (tmp_path / INDEX_FILE).is_file() and (tmp_path / STAMP_FILE).is_file()
    saved_at = (tmp_path / INDEX_FILE).stat().st_mtime_ns
    reused = vector_index(vectors, folder=tmp_path, exact_max=1000)
    assert (tmp_path / INDEX_FILE).stat().st_mtime_ns == saved_at, "the saved index is reused"
    recall = []
    for q in vectors[rng.choice(3000, 50, replace=False)]:
        truth, _ = exact.search(q, 10)
        found, sims = reused.search(q, 10)
        recall.append(len(set(truth) & set(found)) / 10)
        assert list(sims) == sorted(sims, reverse=True)
    assert np.mean(recall) >= 0.95
    changed = vectors.copy()
    changed[:10] = changed[10:20]
    vector_index(changed, folder=tmp_path, exact_max=1000)
    assert (tmp_path / INDEX_FILE).stat().st_mtime_ns != saved_at, "other vectors: rebuilt"


# ----------------------------------------------------------------------------- real model: polarity
@pytest.fixture(scope="module")
def use_model():
    from pipeline.embedders.registry import create_embedder

    return create_embedder("use-multilingual", device="cpu")


PRAISE = [
    "delivery super fast, everything perfect",
    "fast delivery and great quality, will order again",
    "arrived the next morning, very quick delivery",
    "送餐很快，味道很好",
    "骑手送得很快，饭还是热的",
    "配送速度快，非常满意",
]
COMPLAINTS = [
    "delivery was very late, five days for a charger",
    "the courier came two days late and never called",
    "still waiting for my parcel, delivery is so slow",
    "送餐太慢了，等了一个半小时",
    "外卖送得太慢，饭都凉了",
    "配送超时，非常失望",
]


@pytest.mark.slow
def test_polarity_rerank_puts_complaints_first_for_a_complaint(use_model) -> None:
    texts = PRAISE + COMPLAINTS
    vectors = _unit(np.asarray(use_model.embed(texts), dtype=np.float32))
    languages = ["zh" if any("\u4e00" <= ch <= "\u9fff" for ch in t) else "en" for t in texts]
    corpus = SearchCorpus.from_texts(texts, vectors=vectors, languages=languages)
    from pipeline.search.polarity import polarity_rerank, query_polarity

    complaint = set(range(len(PRAISE), len(texts)))
    for query in ("delivery was late", "送餐太慢"):
        qvec = _unit(np.asarray(use_model.embed([query], kind="query"), dtype=np.float32))[0]
        assert query_polarity(qvec, embedder=use_model) == -1, query
        ranked = rank(corpus, query, qvec, mode="hybrid", allowed=None)
        before = [int(e) for e in ranked.entries[:6]]
        reranked, signs = polarity_rerank(corpus, query, qvec, ranked, embedder=use_model)
        after = [int(e) for e in reranked.entries[:6]]
        assert len(set(after) & complaint) >= 5, (query, [texts[i] for i in after])
        assert len(set(after) & complaint) >= len(set(before) & complaint)
        assert (signs[: len(set(after) & complaint)] == -1).all()
    qvec = _unit(np.asarray(use_model.embed(["delivery super fast"], kind="query"), dtype=np.float32))[0]
    ranked, _ = polarity_rerank(
        corpus,
        "x",
        qvec,
        rank(corpus, "delivery super fast", qvec, mode="hybrid", allowed=None),
        embedder=use_model,
    )
    assert int(ranked.entries[0]) in set(range(len(PRAISE)))


# ------------------------------------------------------------------------------------- CLI end to end
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("search-run")
    done = _cli("run", "sample_data/feedback_sample.csv", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_cli_search_jsonl_and_csv_on_a_saved_run(run_dir: Path, tmp_path: Path) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text("送餐太慢\n\napp crashes on login\n", encoding="utf-8")
    done = _cli(
        "search",
        str(run_dir),
        "delivery was late",
        "--queries",
        str(queries),
        "--top",
        "4",
        "--format",
        "jsonl",
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "DEBUG" not in done.stderr
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    assert [h["query"] for h in hits] == ["delivery was late"] * 4 + ["送餐太慢"] * 4 + [
        "app crashes on login"
    ] * 4
    assignments = pd.read_csv(
        run_dir / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    source = pd.read_csv(ROOT / "sample_data" / "feedback_sample.csv", dtype=str, keep_default_na=False)
    for hit in hits:
        assert {"query", "row", "text", "score", "topic_id", "topic_name", "count"} <= set(hit)
        assert hit["text"] == source["feedback"].iloc[hit["row"]]
        assert int(assignments["topic_id"].iloc[hit["row"]]) == hit["topic_id"]
        assert hit["count"] >= 1
    late = [h["text"].lower() for h in hits if h["query"] == "delivery was late"]
    assert "late" in late[0] or "days" in late[0], late
    assert not any("rápido" in t or "fast" in t for t in late[:2]), late

    done = _cli("search", str(run_dir), "refund", "--format", "csv", "--mode", "exact", "--top", "50")
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(StringIO(done.stdout))
    assert len(frame) > 0 and frame["text"].str.lower().str.contains("refund").all()
    assert list(frame.columns[:5]) == ["query", "rank", "row", "text", "score"]
    topic = int(frame["topic_id"].iloc[0])
    done = _cli("search", str(run_dir), "refund", "--format", "csv", "--topic", str(topic), "--top", "50")
    assert done.returncode == 0 and set(pd.read_csv(StringIO(done.stdout))["topic_id"]) == {topic}


@pytest.mark.slow
def test_cli_search_errors_are_one_line(run_dir: Path, tmp_path: Path) -> None:
    from pipeline.cli import main

    assert main(["search", str(tmp_path), "refund"]) == 2
    assert main(["search", str(run_dir)]) == 2
    assert main(["search", str(run_dir), "  "]) == 2
    assert main(["search", str(run_dir), "x", "--where", "nocolumn"]) == 2


def test_cli_search_not_a_run_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    assert main(["search", str(tmp_path), "refund"]) == 2
    err = capsys.readouterr().err
    assert "is not a saved run" in err and "Traceback" not in err
    assert main(["search", str(tmp_path)]) == 2
    assert "Give a query" in capsys.readouterr().err


def test_bm25_index_is_saved_and_reused_for_large_corpora(tmp_path: Path) -> None:
    from pipeline.search.bm25 import BM25_DIR, load_or_build_bm25

    texts = [f"refund number {i} not received" if i % 3 == 0 else f"parcel {i} late" for i in range(60)]
    languages = ["en"] * len(texts)
    built = load_or_build_bm25(texts, languages, folder=tmp_path, save_min=10)
    stamp = tmp_path / BM25_DIR / "stamp.json"
    assert stamp.is_file()
    saved_at = stamp.stat().st_mtime_ns
    reused = load_or_build_bm25(texts, languages, folder=tmp_path, save_min=10)
    assert stamp.stat().st_mtime_ns == saved_at
    np.testing.assert_allclose(reused.scores(["refund"]), built.scores(["refund"]))
    assert (built.scores(["refund"])[::3] > 0).all() and built.scores(["refund"])[1] == 0
    load_or_build_bm25([*texts[:-1], "other"], languages, folder=tmp_path, save_min=10)
    assert stamp.stat().st_mtime_ns != saved_at, "other texts: rebuilt"


def test_query_feedback_lifts_the_first_hits_neighbours() -> None:
    # A group of texts around one subject: two sit close to the query, four further away than
    # unrelated texts. Moving the query towards its first hits brings the whole group up.
    from pipeline.search.engine import FEEDBACK_MIN_TEXTS

    rng = np.random.default_rng(1)
    dim = 64
    basis = np.linalg.qr(rng.normal(size=(dim, dim)))[0].T.astype(np.float32)
    query, subject = basis[0], basis[1]
    near = [_unit(0.7 * query + 0.714 * subject + 0.05 * basis[2 + i]) for i in range(2)]
    far = [_unit(0.55 * query + 0.835 * subject + 0.1 * basis[10 + i]) for i in range(4)]
    others = [
        _unit(0.58 * query + 0.815 * basis[20 + i % 40] + 0.02 * rng.normal(size=dim))
        for i in range(FEEDBACK_MIN_TEXTS)
    ]
    vectors = np.stack([*near, *far, *others]).astype(np.float32)
    texts = [f"w{chr(97 + i % 26)}{chr(97 + i // 26)}x" for i in range(len(vectors))]
    corpus = SearchCorpus.from_texts(texts, vectors=vectors, languages=["en"] * len(texts))
    group = set(range(6))
    plain = rank(corpus, "zzz", query, mode="hybrid", allowed=None, feedback=0)
    moved = rank(corpus, "zzz", query, mode="hybrid", allowed=None)
    assert len(set(plain.entries[:6].tolist()) & group) < 6, "the case must be hard without feedback"
    assert set(moved.entries[:6].tolist()) == group
    np.testing.assert_allclose(moved.similarity, vectors[moved.entries] @ query, rtol=1e-5)
    small = SearchCorpus.from_texts(texts[:50], vectors=vectors[:50], languages=["en"] * 50)
    np.testing.assert_array_equal(
        rank(small, "zzz", query, mode="hybrid", allowed=None).entries,
        rank(small, "zzz", query, mode="hybrid", allowed=None, feedback=0).entries,
    )


def test_bm25_over_texts_without_a_single_word_scores_zero() -> None:
    from pipeline.search.bm25 import build_bm25

    index = build_bm25(["👍👍", "!!!", "😡"], ["und", "und", "und"])  # bm25s itself fails on this corpus
    assert index.scores(["good"]).tolist() == [0.0, 0.0, 0.0]
