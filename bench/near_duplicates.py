"""Near-duplicate groups: threshold and checks chosen on labelled data, and their speed at 100k.

Usage::

    python bench/near_duplicates.py                  # use-multilingual; writes bench/results/near_duplicates.json
    python bench/near_duplicates.py --models use-multilingual minilm --rows 100000

Measures, per model, threshold and polarity gap (pipeline.near_duplicates.find_near_duplicates):

* **banking77 purity**: of the texts put in a group, the share whose intent is the representative's
  (same question said differently), and how many texts were grouped.
* **waimai_10k polarity purity**: the share of grouped texts whose praise/complaint label is the
  representative's (the labels are noisy: many opposite-label pairs are the same text).
* **AFQMC dev precision/recall** of "same" for pairs judged by the same threshold and checks
  (AFQMC is read from /work/shared/data for this measurement only, never copied).
* **planted**: hand-written paraphrase sets and opposite-sense foils (:data:`PLANTED`); the share of
  paraphrase pairs joined and of foil pairs (wrongly) joined.
* **speed**: the stage on ``--rows`` real vectors (three data sets, padded with noisy copies).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_limits

from bench.search_quality import DATA, read, unit
from pipeline.embed import embed_texts
from pipeline.embedders.cache import EmbeddingCache, default_cache_dir
from pipeline.embedders.registry import create_embedder
from pipeline.near_duplicates import (
    K,
    _candidate_pairs,
    _Checks,
    _group,
    _negation_parity,
    _number_keys,
    find_near_duplicates,
)
from pipeline.search.polarity import text_polarity

RESULTS = Path(__file__).resolve().parent / "results" / "near_duplicates.json"
THRESHOLDS = (0.85, 0.88, 0.9, 0.92)
GAPS: tuple[float | None, ...] = (None, 0.12, 0.08)

# Written for this benchmark: sets of one statement in other words, and foils that say the opposite.
PLANTED: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("The delivery was very late", "delivery was very late!", "the delivery was late again",
         "The delivery was really late"),
        ("The delivery was fast", "The delivery was not late", "The delivery was on time"),
    ),
    (
        ("The app crashes when I log in", "App crashes every time I try to log in",
         "the app crashes whenever I log in"),
        ("The app works fine when I log in", "The app never crashes when I log in"),
    ),
    (
        ("送餐太慢了", "送餐速度太慢了！！！", "送餐太慢了吧", "送餐实在太慢了"),
        ("送餐速度真是太快了！！", "送餐很快", "送餐不慢"),
    ),
    (
        ("味道很好", "味道很好！", "味道真的很好"),
        ("味道不好", "味道很差"),
    ),
    (
        ("I was charged twice for my order", "I got charged twice for one order",
         "I was charged two times for my order"),
        ("I was not charged for my order", "I was charged once for my order"),
    ),
)  # fmt: skip


def grouped_at(vectors, texts, polarity, pairs, *, threshold, gap):
    """find_near_duplicates' steps on pairs searched once at the lowest threshold."""
    a, b, sims = pairs
    keep = sims >= threshold
    checks = _Checks(
        negation=_negation_parity(texts), numbers=_number_keys(texts), polarity=polarity, gap=gap
    )
    a, b = a[keep], b[keep]
    ok = checks.passes(a, b)
    weights = np.ones(len(vectors), dtype=np.int64)
    return _group(vectors, weights, a[ok], b[ok], threshold=threshold, checks=checks)


def purity(rep: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
    grouped = rep != np.arange(len(rep))
    if not grouped.any():
        return 1.0, 0
    return round(float(np.mean(labels[grouped] == labels[rep[grouped]])), 4), int(grouped.sum())


def bench_model(name: str, cache: EmbeddingCache) -> dict[str, Any]:
    embedder = create_embedder(name, device="cpu")
    out: dict[str, Any] = {}
    sets = {"banking77": read("banking77/banking77.csv"), "waimai_10k": read("waimai_10k/waimai_10k.csv")}
    for set_name, frame in sets.items():
        texts = frame["text"].tolist()
        vectors = embed_texts(texts, embedder=embedder, cache=cache).vectors
        polarity = text_polarity(vectors, embedder=embedder)
        labels = frame["label"].to_numpy()
        rows = {}
        with threadpool_limits(limits=1):
            pairs = _candidate_pairs(vectors, k=K, threshold=min(THRESHOLDS), seed=0)
        for threshold, gap in itertools.product(THRESHOLDS, GAPS):
            rep = grouped_at(vectors, texts, polarity, pairs, threshold=threshold, gap=gap)
            share, grouped = purity(rep, labels)
            rows[f"t{threshold} gap{gap}"] = {
                "purity": share,
                "texts_grouped": grouped,
                "groups": len(np.unique(rep[rep != np.arange(len(rep))])),
            }
        out[set_name] = rows
        print(name, set_name, pd.DataFrame(rows).T.to_string(), flush=True)

    afqmc = pd.read_csv(DATA / "afqmc" / "afqmc.csv", dtype=str, keep_default_na=False)
    dev = afqmc[afqmc["split"] == "dev"].sample(n=2000, random_state=0)
    first, second = dev["text"].tolist(), dev["text_pair"].tolist()
    va = embed_texts(first, embedder=embedder, cache=cache).vectors
    vb = embed_texts(second, embedder=embedder, cache=cache).vectors
    y = dev["label"].astype(int).to_numpy().astype(bool)
    out["afqmc_dev"] = {"pairs": len(dev), "base_rate": round(float(y.mean()), 4)}
    out["afqmc_dev"].update(
        pair_rates(first, second, va, vb, embedder, y, lambda yes, truth: (yes, truth), name)
    )
    print(name, "afqmc", json.dumps(out["afqmc_dev"])[:600], flush=True)

    planted_rows = {}
    pos_a, pos_b, neg_a, neg_b = [], [], [], []
    for same, foils in PLANTED:
        for x, z in itertools.combinations(same, 2):
            pos_a.append(x)
            pos_b.append(z)
        for x, z in itertools.product(same, foils):
            neg_a.append(x)
            neg_b.append(z)
    first, second = pos_a + neg_a, pos_b + neg_b
    truth = np.r_[np.ones(len(pos_a), bool), np.zeros(len(neg_a), bool)]
    va = unit(np.asarray(embedder.embed(first), dtype=np.float32))
    vb = unit(np.asarray(embedder.embed(second), dtype=np.float32))
    planted_rows = pair_rates(first, second, va, vb, embedder, truth, None, name)
    out["planted"] = planted_rows
    print(name, "planted", json.dumps(planted_rows)[:800], flush=True)
    return out


def pair_rates(first, second, va, vb, embedder, truth, _unused, name) -> dict[str, Any]:
    """Per threshold and gap, the precision and recall of joining each pair directly."""
    sims = np.einsum("ij,ij->i", va, vb)
    texts = list(first) + list(second)
    n = len(first)
    pol = np.r_[text_polarity(va, embedder=embedder), text_polarity(vb, embedder=embedder)]
    a, b = np.arange(n), np.arange(n) + n
    rows = {}
    for threshold, gap in itertools.product(THRESHOLDS, GAPS):
        checks = _Checks(negation=_negation_parity(texts), numbers=_number_keys(texts), polarity=pol, gap=gap)
        yes = (sims >= threshold) & checks.passes(a, b)
        tp = int((yes & truth).sum())
        rows[f"t{threshold} gap{gap}"] = {
            "joined": int(yes.sum()),
            "precision": round(tp / int(yes.sum()), 4) if yes.any() else None,
            "recall": round(tp / max(int(truth.sum()), 1), 4),
            "wrongly_joined": int((yes & ~truth).sum()),
        }
    return rows


def bench_speed(name: str, cache: EmbeddingCache, n_rows: int) -> dict[str, Any]:
    embedder = create_embedder(name, device="cpu")
    parts = [
        read("banking77/banking77.csv"),
        read("waimai_10k/waimai_10k.csv"),
        read("m_absa/m_absa_sample.csv", 6000),
    ]
    texts = [t for p in parts for t in p["text"].tolist()]
    base = np.vstack([embed_texts(p["text"].tolist(), embedder=embedder, cache=cache).vectors for p in parts])
    rng = np.random.default_rng(0)
    copies, all_texts = [base], list(texts)
    while sum(len(c) for c in copies) < n_rows:  # noisy copies: real neighbourhoods, larger corpus
        copies.append(unit(base + rng.normal(0, 0.6 / np.sqrt(base.shape[1]), base.shape).astype(np.float32)))
        all_texts += texts
    vectors = unit(np.vstack(copies)[:n_rows]).astype(np.float32)
    all_texts = all_texts[:n_rows]
    polarity = text_polarity(vectors, embedder=embedder)
    t, cpu = time.perf_counter(), time.process_time()
    found = find_near_duplicates(vectors=vectors, texts=all_texts, polarity=polarity, model=name)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    exact_check = {}
    if n_rows <= 200_000:  # recall of the partitioned search against an exact scan on a sample
        sample = rng.choice(n_rows, 2000, replace=False)
        threshold = found.params["threshold"]
        sims = vectors[sample] @ vectors.T
        sims[np.arange(len(sample)), sample] = -1
        has_near = (sims >= threshold).any(axis=1)
        grouped = np.isin(
            found.representative, found.representative[found.representative != np.arange(n_rows)]
        )
        exact_check = {
            "sample": len(sample),
            "with_a_neighbour_over_threshold": int(has_near.sum()),
            "of_those_grouped": round(float(grouped[sample][has_near].mean()), 4) if has_near.any() else None,
        }
    return {
        "rows": n_rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "params": found.params,
        "exact_check": exact_check,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["use-multilingual"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    cache = EmbeddingCache(default_cache_dir())
    report: dict[str, Any] = json.loads(args.json.read_text(encoding="utf-8")) if args.json.is_file() else {}
    report.setdefault("meta", {})
    report["meta"].update(
        {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": f"CPU x{os.cpu_count()}, shared and loaded",
        }
    )
    report.setdefault("models", {})
    for name in args.models:
        entry = report["models"].setdefault(name, {})
        if not args.speed_only:
            entry.update(bench_model(name, cache))
        entry["speed"] = bench_speed(name, cache, args.rows)
        print(name, "speed", json.dumps(entry["speed"]), flush=True)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
