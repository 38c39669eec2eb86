"""Seed topics (issue 14 part 2): how many texts a seed takes, and how many of them are right.

Runs the bundled sample (600 rows, 12 languages) with a real multilingual model (or opens a saved
run with ``--run DIR``), then seeds a "refunds" topic from three phrase sets and compares the
texts that join with a keyword truth (texts that mention a refund in any of the sample's
languages). Also times split (auto), move, delete and seed on that run. Prints the figures and
writes ``bench/results/curation_seed.json``.

    python bench/curation_seed.py                 # ~2-3 min on 2 cores (the run itself)
    python bench/curation_seed.py --run runs/X    # a saved run (its own model is loaded)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REFUND_WORDS = (
    "refund",
    "rembours",
    "退款",
    "reembolso",
    "erstattung",
    "返金",
    "환불",
    "estorno",
    "rimborso",
)
PHRASES = {
    "three phrases": ("I want a refund", "still waiting for my refund", "money back"),
    "one word": ("refund",),
    "two phrases": ("I want my money back", "where is my refund"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=Path, help="a saved run folder (default: run the sample)")
    parser.add_argument("--model", default="use-multilingual")
    args = parser.parse_args()
    from pipeline import curation as cur
    from pipeline.embedders.registry import create_embedder

    started = time.perf_counter()
    if args.run:
        from pipeline.search.engine import open_search_run, run_model

        result = open_search_run(args.run)
        name, options = run_model(result)
        model = create_embedder(name, device="cpu", **options)
    else:
        from pipeline.config import RunConfig
        from pipeline.run import run

        sample = ROOT / "sample_data" / "feedback_sample.csv"
        config = RunConfig(model=args.model, device="cpu", use_cache=False)
        result = run(sample.read_bytes(), filename=sample.name, config=config)
        model = create_embedder(args.model, device="cpu")
    run_s = time.perf_counter() - started
    texts = [result.documents.texts[i] for i in result.documents.unique_rows]
    truth = np.array([any(w in t.lower() for w in REFUND_WORDS) for t in texts])
    threshold, calibration = cur.seed_threshold(result)
    seeds = {}
    for label, phrases in PHRASES.items():
        edit = cur.prepare(cur.Seed(name="Refunds", phrases=phrases), result, embedder=model)
        t0 = time.perf_counter()
        seeded = cur.apply_edit(result, edit)
        took = time.perf_counter() - t0
        joined = seeded.clustering.labels == seeded.manifest["edits"][-1]["topic"]
        precision = float(truth[joined].mean()) if joined.any() else 0.0
        recall = float(truth[joined].sum() / max(1, truth.sum()))
        seeds[label] = {
            "phrases": list(phrases),
            "joined": int(joined.sum()),
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "apply_s": round(took, 3),
        }
        print(
            f"seed ({label}): {int(joined.sum())} texts joined, precision {precision:.2f}, recall {recall:.2f}"
        )
    biggest = max((t for t in result.topics if t.id >= 0), key=lambda t: t.size)
    timings = {}
    for label, edit in {
        "split_auto": cur.Split(topic_id=biggest.id),
        "split_2": cur.Split(topic_id=biggest.id, n=2),
        "move_20_rows": cur.Move(
            rows=tuple(int(r) for r in np.flatnonzero(result.row_labels() == biggest.id)[:20])
        ),
        "delete": cur.Delete(topic_id=biggest.id, to="not_relevant"),
    }.items():
        t0 = time.perf_counter()
        cur.apply_edit(result, edit)
        timings[label] = round(time.perf_counter() - t0, 3)
    print(
        f"threshold {threshold:.3f} ({calibration['method']}); {int(truth.sum())} refund texts of {len(texts)}"
    )
    print("edit times (s):", timings)
    out = {
        "rows": result.ledger.rows_read,
        "topics": sum(1 for t in result.topics if t.id >= 0),
        "model": result.embeddings.model,
        "run_s": round(run_s, 1),
        "threshold": round(threshold, 4),
        "calibration": calibration,
        "refund_texts": int(truth.sum()),
        "seeds": seeds,
        "edit_s": timings,
        "note": "2-core shared machine, loaded by other engineers",
    }
    path = ROOT / "bench" / "results" / "curation_seed.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {path}")


if __name__ == "__main__":
    main()
