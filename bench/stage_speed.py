"""Side-by-side timings of single pipeline pieces changed for speed (issue 5), each against its slower form.

* ``neighbours``: the exact neighbour search used for UMAP's graph and for placing rows, float32
  against half-precision candidates re-ranked in float32 (used where the hardware has fast half
  precision: a GPU, or a CPU with AMX). Real USE-m embeddings of the labelled sets in
  ``../shared/data`` (read from the embedding cache, computed once otherwise); 25,000 seeded fitted
  rows, every other text a query. Reports both times, the share of queries with identical neighbour
  sets and the largest distance difference.
* ``cache``: writing and reading ``--cache-rows`` random 1024-d vectors through the embedding cache.
* ``languages``: language detection of long synthetic reviews (``bench/scale.py``'s corpus) reading
  the whole text against the first 300 characters.

Usage::

    python bench/stage_speed.py                       # all three
    python bench/stage_speed.py neighbours --cache-rows 200000

Writes ``bench/results/stage_speed_cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.labelled_data import LABELLED, read_labelled  # noqa: E402


def neighbours() -> dict[str, Any]:
    from pipeline import reduce as reduce_module
    from pipeline.embed import embed_texts
    from pipeline.embedders.cache import EmbeddingCache, default_cache_dir
    from pipeline.embedders.registry import create_embedder

    texts = pd.concat(read_labelled(name)["text"] for name in LABELLED).drop_duplicates().tolist()
    embedder = create_embedder("use-multilingual", device="cpu")
    vectors = embed_texts(texts, embedder=embedder, cache=EmbeddingCache(default_cache_dir())).vectors
    rng = np.random.default_rng(42)
    fit = np.sort(rng.choice(len(vectors), size=25_000, replace=False))
    queries = vectors[np.setdiff1d(np.arange(len(vectors)), fit)]
    coarse = reduce_module._coarse_dtype("cpu")
    if coarse is None:
        return {"skipped": "this CPU has no fast half precision (AMX): the search stays float32"}
    start = time.perf_counter()
    fast_idx, fast_dist = reduce_module._exact_search(vectors[fit])(queries, 15)
    fast_s = time.perf_counter() - start
    original = reduce_module._coarse_dtype
    reduce_module._coarse_dtype = lambda device: None  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        full_idx, full_dist = reduce_module._exact_search(vectors[fit])(queries, 15)
        full_s = time.perf_counter() - start
    finally:
        reduce_module._coarse_dtype = original  # type: ignore[assignment]
    same = float(np.mean([set(a) == set(b) for a, b in zip(fast_idx, full_idx, strict=True)]))
    return {
        "queries": len(queries),
        "fitted": len(fit),
        "dim": int(vectors.shape[1]),
        "float32_s": round(full_s, 2),
        "half_candidates_reranked_s": round(fast_s, 2),
        "half_precision": str(coarse),
        "identical_neighbour_sets": round(same, 6),
        "max_distance_difference": float(np.abs(fast_dist - full_dist).max()),
    }


def cache(rows: int) -> dict[str, Any]:
    from pipeline.embedders.cache import EmbeddingCache, text_hash

    vectors = np.random.default_rng(0).random((rows, 1024), dtype=np.float32)
    hashes = [text_hash(f"feedback text number {i}") for i in range(rows)]
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddingCache(folder)
        start = time.perf_counter()
        for i in range(0, rows, 131_072):
            store.put_many("bench", hashes[i : i + 131_072], vectors[i : i + 131_072])
        write_s = time.perf_counter() - start
        start = time.perf_counter()
        found, _ = store.get_many("bench", hashes)
        read_s = time.perf_counter() - start
        size = store.path.stat().st_size
        store.close()
    assert found.all()
    return {
        "vectors": rows,
        "dim": 1024,
        "write_s": round(write_s, 2),
        "read_s": round(read_s, 2),
        "file_mib": round(size / 2**20),
    }


def languages(rows: int = 20_000) -> dict[str, Any]:
    from bench.scale import make_corpus
    from pipeline import languages as languages_module
    from pipeline.load import load_table

    data, _, _, _ = make_corpus(rows, 50, 1)
    texts = load_table(data, filename="synthetic.csv").frame["text"].tolist()
    languages_module._identifier()
    languages_module._arabic_identifier()
    start = time.perf_counter()
    opening = languages_module._classify_chunk(texts)
    opening_s = time.perf_counter() - start
    limit = languages_module._CLASSIFY_CHARS
    languages_module._CLASSIFY_CHARS = 10**9  # read every character, as before
    try:
        start = time.perf_counter()
        whole = languages_module._classify_chunk(texts)
        whole_s = time.perf_counter() - start
    finally:
        languages_module._CLASSIFY_CHARS = limit
    agree = float(np.mean([a[0] == b[0] for a, b in zip(opening, whole, strict=True)]))
    return {
        "texts": len(texts),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "whole_text_per_s": round(len(texts) / whole_s),
        "first_300_chars_per_s": round(len(texts) / opening_s),
        "same_language": round(agree, 4),
        "processes": 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["neighbours", "cache", "languages"])
    parser.add_argument("--cache-rows", type=int, default=200_000)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "stage_speed_cpu.json")
    args = parser.parse_args()
    parts = {"neighbours": neighbours, "cache": lambda: cache(args.cache_rows), "languages": languages}
    unknown = set(args.parts) - set(parts)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(parts)}")
    results: dict[str, Any] = {}
    for part in args.parts:
        results[part] = parts[part]()
        print(f"{part}: {json.dumps(results[part])}", flush=True)
    report = {
        "benchmark": "stage_speed",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
