"""A streamed Ray run with a real bundled model on a real labelled set, against the local engine.

Splits a labelled set (``bench/labelled_data.py``; default clinc150, 22.5k English queries) into
Parquet parts and runs it twice with the same model, seed and ``--fit-rows``: the local engine
(UMAP fitted on the sample, every row clustered) and ``--engine ray`` streamed (the whole pipeline
on the sample, every other row embedded and assigned on the Ray workers). Prints and writes
(``bench/results/ray_stream_real_<set>.json``) wall times, AMI against the set's labels for both,
and the ARI between the two runs.

Usage:
    nice -n 10 python bench/ray_stream_real.py --set clinc150 --fit-rows 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="clinc150")
    parser.add_argument("--model", default="auto")
    parser.add_argument("--fit-rows", type=int, default=10_000)
    parser.add_argument("--parts", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--n-topics", type=int, help="a fixed topic count for both runs (default: automatic)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)

    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
    import ray
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    from bench.labelled_data import read_labelled
    from pipeline.config import RunConfig
    from pipeline.engines.ray_stream import release
    from pipeline.load.stream import input_files
    from pipeline.run import run

    frame = read_labelled(args.set)
    labels = frame["label"].to_numpy()
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="ray-real-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i, chunk in enumerate(np.array_split(np.arange(len(frame)), args.parts)):
            frame.iloc[chunk][["text"]].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
        base = RunConfig(
            model=args.model,
            seed=args.seed,
            umap_fit_rows=args.fit_rows,
            use_cache=False,
            n_topics=args.n_topics,
        )

        t0 = time.perf_counter()
        local = run(input_files(folder), config=base)
        local_s = time.perf_counter() - t0
        local_labels = local.row_labels()
        results["local"] = {
            "wall_s": round(local_s, 1),
            "n_topics": local.clustering.n_topics,
            "ami_vs_labels": round(float(adjusted_mutual_info_score(labels, local_labels)), 4),
            "model": local.manifest["model"],
        }
        print(f"local: {results['local']}", flush=True)
        del local

        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        streamed_config = RunConfig(
            **{**base.to_dict(), "load": base.load, "engine": "ray", "ray_stream_rows": 0}
        )
        t0 = time.perf_counter()
        streamed = run(input_files(folder), config=streamed_config)
        streamed_s = time.perf_counter() - t0
        assert streamed.row_parts is not None
        parts = sorted(streamed.row_parts.glob("part-*.parquet"))
        ray_labels = np.concatenate(
            [pq.read_table(p, columns=["topic_id"]).column(0).fill_null(-2).to_numpy() for p in parts]
        )
        rows = np.concatenate([pq.read_table(p, columns=["row"]).column(0).to_numpy() for p in parts])
        assert rows.tolist() == list(range(len(frame))), "every row once, in order"
        results["ray_streamed"] = {
            "wall_s": round(streamed_s, 1),
            "n_topics": streamed.clustering.n_topics,
            "ami_vs_labels": round(float(adjusted_mutual_info_score(labels, ray_labels)), 4),
            "fit_rows": streamed.manifest["engine_details"]["streamed"]["fit_rows"],
            "timings_s": {
                k: v for k, v in streamed.manifest["timings_s"].items() if not k.startswith("sample_")
            },
            "workers": args.workers,
        }
        results["ari_local_vs_streamed"] = {
            "ari": round(float(adjusted_rand_score(local_labels, ray_labels)), 4)
        }
        print(f"ray streamed: {results['ray_streamed']}", flush=True)
        print(f"ARI local vs streamed: {results['ari_local_vs_streamed']['ari']}", flush=True)
        release(streamed)
        ray.shutdown()
    report = {
        "benchmark": "ray_stream_real",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "set": args.set,
        "rows": len(frame),
        "n_labels": int(pd.Series(labels).nunique()),
        "fit_rows": args.fit_rows,
        "n_topics_asked": args.n_topics,
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        **results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = f"_k{args.n_topics}" if args.n_topics else ""
    path = args.out / f"ray_stream_real_{args.set}{suffix}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
