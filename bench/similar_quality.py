"""Paraphrase judgement with a calibrated cosine threshold on AFQMC (not copied into the repo).

Usage::

    python bench/similar_quality.py                    # use-multilingual, 3,000 train / 2,000 dev pairs
    python bench/similar_quality.py --train 34334 --dev 4316

Calibrates the threshold on a seeded sample of AFQMC's train split (macro-F1, as
``feedback-topics similar`` does) and reports dev accuracy, macro-F1 and paraphrase F1, with the
majority-class baseline. Writes bench/results/similar_quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search_quality import DATA
from pipeline.embedders.registry import create_embedder
from pipeline.similar import calibrate, metrics, score_pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["use-multilingual"])
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--dev", type=int, default=2000)
    parser.add_argument(
        "--json", type=Path, default=Path(__file__).resolve().parent / "results" / "similar_quality.json"
    )
    args = parser.parse_args(argv)
    frame = pd.read_csv(DATA / "afqmc" / "afqmc.csv", dtype=str, keep_default_na=False)
    train = frame[frame["split"] == "train"].sample(n=args.train, random_state=0)
    dev = frame[frame["split"] == "dev"]
    dev = dev.sample(n=min(args.dev, len(dev)), random_state=0)
    report: dict[str, object] = {
        "meta": {"train_pairs": len(train), "dev_pairs": len(dev), "load": os.getloadavg()}
    }
    for name in args.models:
        embedder = create_embedder(name, device="cpu")
        t = time.perf_counter()
        s_train = score_pairs(train["text"].tolist(), train["text_pair"].tolist(), embedder=embedder)
        s_dev = score_pairs(dev["text"].tolist(), dev["text_pair"].tolist(), embedder=embedder)
        y_train, y_dev = train["label"].astype(int).to_numpy(), dev["label"].astype(int).to_numpy()
        cal = calibrate(s_train, y_train, model=name, source="afqmc train sample")
        majority = float(max(np.mean(y_dev), 1 - np.mean(y_dev)))
        report[name] = {
            "calibration": asdict(cal),
            "dev": asdict(metrics(s_dev, y_dev, cal.threshold)),
            "dev_majority_accuracy": round(majority, 4),
            "seconds": round(time.perf_counter() - t, 1),
        }
        print(json.dumps({name: report[name]}, indent=1), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
