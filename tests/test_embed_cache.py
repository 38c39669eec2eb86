"""The embedding cache and ``embed_texts``: hits, misses, progress, concurrency, damage."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest

from pipeline.embed import embed_texts
from pipeline.embedders.cache import EmbeddingCache, default_cache_dir, text_hash
from pipeline.embedders.fake import FakeEmbedder

TEXTS = ["late delivery", "broken box", "friendly agent", "快递太慢", "late delivery", "refund please"]


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FEEDBACK_TOPICS_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("FEEDBACK_TOPICS_CACHE_DIR")
    assert "feedback-topics" in str(default_cache_dir())


def test_get_put_roundtrip_float16_precision(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((200, 1024)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    hashes = [text_hash(f"text {i}") for i in range(200)]
    found, got = cache.get_many("m", hashes)
    assert not found.any() and got.shape == (200, 0)
    cache.put_many("m", hashes[:150], vectors[:150])
    query = [*hashes[140:160], hashes[0]]
    found, got = cache.get_many("m", query)
    assert found.tolist() == [True] * 10 + [False] * 10 + [True]
    cos = (got[:10] * vectors[140:150]).sum(axis=1)
    assert cos.min() >= 0.9999
    assert (got[10:20] == 0).all()
    # keys are per model
    assert not cache.get_many("other-model", hashes[:5])[0].any()
    assert cache.count("m") == 150 and cache.count() == 150


def test_embed_texts_uses_cache_and_reports_progress(tmp_path: Path) -> None:
    embedder = FakeEmbedder(dim=16, max_chars_hint=10)
    cache = EmbeddingCache(tmp_path)
    seen: list[tuple[int, int]] = []
    first = embed_texts(TEXTS[:3], embedder=embedder, cache=cache, progress=lambda d, t: seen.append((d, t)))
    assert first.n_computed == 3 and first.n_cached == 0 and embedder.calls == 3
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)
    seen.clear()
    result = embed_texts(TEXTS, embedder=embedder, cache=cache, progress=lambda d, t: seen.append((d, t)))
    # three cached; "late delivery" twice is embedded once; two new
    assert result.n_cached == 4 and result.n_computed == 2 and embedder.calls == 5
    assert seen[0] == (4, 6) and seen[-1] == (6, 6)
    assert result.n_truncated == sum(len(t) > 10 for t in TEXTS)
    assert result.vectors.dtype == np.float32 and result.vectors.shape == (6, 16)
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(result.vectors, FakeEmbedder(dim=16).embed(TEXTS), atol=2e-3)
    assert result.model == embedder.model_id and result.device == "cpu"


def test_embed_texts_without_cache_and_empty() -> None:
    embedder = FakeEmbedder(dim=8)
    result = embed_texts(TEXTS, embedder=embedder, cache=None)
    assert result.n_computed == 5 and result.n_cached == 0
    np.testing.assert_array_equal(result.vectors[0], result.vectors[4])
    empty = embed_texts([], embedder=embedder, cache=None)
    assert empty.vectors.shape == (0, 8)


def test_chunked_work_is_kept_when_interrupted(tmp_path: Path) -> None:
    from pipeline.progress import Cancelled

    cache = EmbeddingCache(tmp_path)
    embedder = FakeEmbedder(dim=8)
    embedder.texts_per_call = 2

    def cancel_late(done: int, total: int) -> None:
        if done >= 4:
            raise Cancelled

    with pytest.raises(Cancelled):
        embed_texts(TEXTS, embedder=embedder, cache=cache, progress=cancel_late)
    assert cache.count(embedder.model_id) >= 2
    resumed = embed_texts(TEXTS, embedder=embedder, cache=cache)
    assert resumed.n_cached >= 2


def test_corrupt_cache_file_degrades_to_recompute(tmp_path: Path, caplog) -> None:
    (tmp_path / "embeddings.sqlite3").write_bytes(b"this is not a database" * 100)
    cache = EmbeddingCache(tmp_path)
    result = embed_texts(TEXTS, embedder=FakeEmbedder(dim=8), cache=cache)
    assert result.n_computed == 5 and result.vectors.shape == (6, 8)
    assert "cache" in caplog.text


def test_unwritable_cache_dir_degrades(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = EmbeddingCache(blocker / "sub")  # a folder cannot be made under a file
    result = embed_texts(TEXTS[:2], embedder=FakeEmbedder(dim=8), cache=cache)
    assert result.n_computed == 2


def _writer(root: str, worker: int, n: int) -> None:
    cache = EmbeddingCache(root)
    rng = np.random.default_rng(worker)
    for batch in range(5):
        hashes = [text_hash(f"shared {i}") for i in range(n)] + [
            text_hash(f"w{worker} b{batch} {i}") for i in range(n)
        ]
        vectors = rng.standard_normal((len(hashes), 32)).astype(np.float32)
        cache.put_many("m", hashes, vectors)
        found, _ = cache.get_many("m", hashes)
        assert found.all()


def test_concurrent_processes(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 100)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    cache = EmbeddingCache(tmp_path)
    assert cache.count("m") == 100 + 3 * 5 * 100
    found, vectors = cache.get_many("m", [text_hash(f"shared {i}") for i in range(100)])
    assert found.all() and np.isfinite(vectors).all()


def test_each_embedder_call_gets_as_many_texts_as_the_embedder_asks_for() -> None:
    sizes: list[int] = []

    class Recording(FakeEmbedder):
        def embed(self, texts, *, kind="document", progress=None):  # type: ignore[no-untyped-def]
            sizes.append(len(texts))
            return super().embed(texts, kind=kind, progress=progress)

    embedder = Recording(dim=8)
    texts = [f"text number {i}" for i in range(7)]
    embedder.texts_per_call = 3
    embed_texts(texts, embedder=embedder, cache=None)
    assert sizes == [3, 3, 1]
    sizes.clear()
    embedder.texts_per_call = 131_072  # a GPU embedder that batches by length itself
    embed_texts(texts, embedder=embedder, cache=None)
    assert sizes == [7]


def test_a_cache_in_the_first_layout_is_moved_over_and_still_answers(tmp_path: Path) -> None:
    import sqlite3

    old = sqlite3.connect(tmp_path / "embeddings.sqlite3")
    old.execute(
        "CREATE TABLE vectors (model TEXT NOT NULL, hash BLOB NOT NULL, dim INTEGER NOT NULL,"
        " vec BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID"
    )
    vector = np.array([0.6, 0.8, 0.0], dtype="<f2")
    old.execute(
        "INSERT INTO vectors VALUES (?, ?, ?, ?)",
        ("m", bytes.fromhex(text_hash("late parcel")), 3, vector.tobytes()),
    )
    old.commit()
    old.close()

    cache = EmbeddingCache(tmp_path)
    found, vectors = cache.get_many(
        "m", [text_hash("late parcel"), text_hash("other"), text_hash("late parcel")]
    )

    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(vectors[[0, 2]], [vector.astype(np.float32)] * 2)
    assert cache.count("m") == 1
    cache.close()
    tables = (
        sqlite3.connect(tmp_path / "embeddings.sqlite3")
        .execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetchall()
    )
    assert ("vectors",) not in tables


@pytest.mark.parametrize("damage", ["nan", "inf", "zero"])
def test_damaged_cached_vectors_are_recomputed_not_returned(tmp_path: Path, damage: str) -> None:
    """NaN/inf/zero vectors in the cache (a crashed writer, a bad model) never reach clustering."""
    embedder = FakeEmbedder(dim=16)
    cache = EmbeddingCache(tmp_path)
    texts = [f"feedback number {i}" for i in range(12)]
    embed_texts(texts, embedder=embedder, cache=cache)
    rng = np.random.default_rng(len(damage))
    broken = sorted(rng.choice(len(texts), size=4, replace=False).tolist())
    bad = np.zeros((len(broken), 16), dtype=np.float32)
    if damage != "zero":
        bad[:, rng.integers(0, 16)] = np.nan if damage == "nan" else np.inf
    cache.put_many(embedder.model_id, [text_hash(texts[i]) for i in broken], bad)
    calls = embedder.calls
    result = embed_texts(texts, embedder=embedder, cache=cache)
    assert np.isfinite(result.vectors).all()
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-3)
    assert result.n_cached == len(texts) - len(broken)
    assert embedder.calls == calls + len(broken)
    found, _ = cache.get_many(embedder.model_id, [text_hash(texts[i]) for i in broken])
    assert found.all(), "the damaged entries were replaced"
