"""Does fitting UMAP on a sample and placing the rest cost quality? (issue 5, part 2, workload W4)

Embeds every distinct text of the labelled sets in ``../shared/data`` (banking77, clinc150,
online_shopping_10_cats, m_absa: about 129k texts in 20+ languages) with the default model, then
reduces them twice with ``pipeline.reduce.reduce``:

* **sample + placement** (the product's default above 25,000 texts, and ``--fit-rows`` other sizes):
  UMAP fitted on a seeded sample, every other row placed at the weighted mean of its exact nearest
  fitted neighbours;
* **full fit**: UMAP fitted on every row (``fit_sample`` = all; NN-descent neighbour graph).

For each it reports the wall time, trustworthiness@15 of the 5-d clustering space and of the 2-d
map on a seeded 5,000-row evaluation sample (1.0 = every low-dimensional neighbour is a real
neighbour), and AMI / ARI of K-Means (k = number of labels, same seed) against the labels
(``dataset:label``), split into the fitted rows and the placed rows.

Usage::

    python bench/reduce_quality.py                  # ~5 minutes on 2 cores (the full fit dominates)
    python bench/reduce_quality.py --rows 40000     # a smaller subset

Writes ``bench/results/reduce_quality.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.manifold import trustworthiness
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.labelled_data import read_labelled  # noqa: E402
from pipeline.embed import embed_texts  # noqa: E402
from pipeline.embedders.cache import EmbeddingCache, default_cache_dir  # noqa: E402
from pipeline.embedders.registry import create_embedder  # noqa: E402
from pipeline.reduce import DEFAULT_FIT_SAMPLE, reduce  # noqa: E402

SETS = ("banking77", "clinc150", "online_shopping_10_cats", "m_absa")


def corpus(rows: int | None, seed: int) -> pd.DataFrame:
    frames = []
    for name in SETS:
        frame = read_labelled(name)
        frames.append(pd.DataFrame({"text": frame["text"], "label": name + ":" + frame["label"]}))
    out = pd.concat(frames).drop_duplicates("text").reset_index(drop=True)
    if rows is not None and rows < len(out):
        out = out.sample(n=rows, random_state=seed).reset_index(drop=True)
    return out


def evaluate(
    name: str,
    vectors: np.ndarray,
    labels: np.ndarray,
    fit_sample: int,
    seed: int,
    eval_rows: np.ndarray,
    sampled: np.ndarray,
) -> dict[str, object]:
    start = time.perf_counter()
    reduction = reduce(vectors, seed=seed, fit_sample=fit_sample)
    seconds = time.perf_counter() - start
    k = len(np.unique(labels))
    clusters = KMeans(n_clusters=k, random_state=seed, n_init=2).fit_predict(reduction.cluster_space)
    out: dict[str, object] = {
        "reduce_s": round(seconds, 1),
        "params": reduction.params,
        "trustworthiness15_5d": round(
            float(trustworthiness(vectors[eval_rows], reduction.cluster_space[eval_rows], n_neighbors=15)), 4
        ),
        "trustworthiness15_2d": round(
            float(trustworthiness(vectors[eval_rows], reduction.map_2d[eval_rows], n_neighbors=15)), 4
        ),
        "kmeans_k": k,
        "ami_all": round(float(adjusted_mutual_info_score(labels, clusters)), 4),
        "ari_all": round(float(adjusted_rand_score(labels, clusters)), 4),
    }
    # The same two row sets for both methods: the rows the default fits on, and the rows it places.
    for part, mask in (("sample_rows", sampled), ("placed_rows", ~sampled)):
        out[f"ami_{part}"] = round(float(adjusted_mutual_info_score(labels[mask], clusters[mask])), 4)
    print(f"{name}: {json.dumps(out, default=str)}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="use a seeded subset of this many texts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model", default="use-multilingual")
    parser.add_argument(
        "--fit-rows",
        default="25000,50000",
        help="comma-separated UMAP sample sizes to try before the full fit",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "reduce_quality.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    frame = corpus(args.rows, args.seed)
    embedder = create_embedder(args.model, device="cpu")
    t0 = time.perf_counter()
    vectors = embed_texts(
        frame["text"].tolist(), embedder=embedder, cache=EmbeddingCache(default_cache_dir())
    ).vectors
    print(
        f"{len(frame):,} texts embedded (or read from the cache) in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    labels = frame["label"].to_numpy()
    eval_size = min(5000, len(frame))
    eval_rows = np.sort(
        np.random.default_rng(args.seed + 1).choice(len(frame), size=eval_size, replace=False)
    )
    # The rows reduce() fits on by default (same seeded draw as pipeline/reduce.py).
    sampled = np.zeros(len(frame), dtype=bool)
    fit = min(DEFAULT_FIT_SAMPLE, len(frame))
    sampled[np.random.default_rng(args.seed).choice(len(frame), size=fit, replace=False)] = True
    results = {
        f"fit_{rows}": evaluate(f"fit on {rows:,}", vectors, labels, rows, args.seed, eval_rows, sampled)
        for rows in (int(x) for x in args.fit_rows.split(","))
        if rows < len(frame)
    }
    results["full_fit"] = evaluate("full fit", vectors, labels, len(frame), args.seed, eval_rows, sampled)
    report = {
        "benchmark": "reduce_quality",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "model": embedder.model_id,
        "texts": len(frame),
        "labels": len(np.unique(labels)),
        "versions": {p: version(p) for p in ("umap-learn", "pynndescent", "scikit-learn", "torch")},
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
