"""The Ray engine at scale on synthetic rows with planted topics (issue 13, Measures).

Writes ``--rows`` synthetic feedback rows (``bench/scale.py``'s corpus: planted topics, every text
unique) as Parquet parts in a temporary folder, then runs ``pipeline.run.run`` on the folder with
``engine="ray"`` on a local Ray with 1 and with 2 worker CPUs (``ray.init(num_cpus=W)``; each
worker count in a fresh process, so peaks do not carry over). The embedder is ``bench/scale.py``'s
planted-topic embedder (topic centre plus noise, ``--dim``), so the stages after embedding are
what is timed. Per run: seconds and rows/s per stage (the manifest's ``timings_s``), the peak RSS
of the driver, the peak RSS of each Ray worker process (RSS counts the object-store pages a
worker has mapped, so do not sum them), ARI against the planted topics, and the speed-up from 1
to 2 workers. Results go to ``bench/results/ray_scale_<rows>.json``.

Usage:
    nice -n 10 python bench/scale_ray.py --rows 1000000
    nice -n 10 python bench/scale_ray.py --rows 200000 --workers 1 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Peaks:
    """Samples the driver's and every Ray worker's RSS twice a second; keeps each one's peak."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.driver = 0.0
        self.workers: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            self.driver = max(self.driver, self.me.memory_info().rss / 2**30)
            for proc in psutil.process_iter(["pid", "name", "cmdline"]):
                try:
                    title = " ".join(proc.info["cmdline"] or [])[:80]
                    if not title.startswith("ray::"):
                        continue
                    rss = proc.memory_info().rss / 2**30
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                name, peak = self.workers.get(proc.pid, (title, 0.0))
                name = title if not title.startswith("ray::IDLE") else name
                self.workers[proc.pid] = (name, max(peak, rss))
            time.sleep(0.5)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def write_parts(folder: Path, rows: int, topics: int, seed: int, parts: int) -> tuple[Any, dict[str, int]]:
    import pyarrow.parquet as pq

    from bench.scale import make_corpus

    data, planted, words, _ = make_corpus(rows, topics, seed, "parquet")
    table = pq.read_table(io.BytesIO(data))
    del data
    step = -(-rows // parts)
    for i in range(parts):
        pq.write_table(table.slice(i * step, step), folder / f"part-{i:04d}.parquet", row_group_size=65_536)
    return planted, words


def one_run(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    """One engine run in this process with ``workers`` Ray CPUs (the child side of ``main``)."""
    import numpy as np
    import ray
    from sklearn.metrics import adjusted_rand_score

    from bench.scale import PlantedEmbedder
    from pipeline.config import RunConfig
    from pipeline.load.stream import input_files
    from pipeline.run import run

    folder = Path(args.folder)
    words = json.loads((folder.parent / "words.json").read_text())
    embedder = PlantedEmbedder(words, args.topics, dim=args.dim)
    ray.init(
        num_cpus=workers,
        object_store_memory=int(args.object_store_gib * 2**30),
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    config = RunConfig(
        engine="ray",
        device="cpu",
        use_cache=False,
        seed=args.seed,
        labeller="offline",
        ray_stream_rows=args.stream_rows,
    )
    with Peaks() as peaks:
        t0 = time.perf_counter()
        result = run(input_files(folder), config=config, embedder=embedder)
        wall = time.perf_counter() - t0
        if not args.no_report:
            from pipeline.engines.parts import write_parts as write_assignment_parts
            from pipeline.report import write_report

            t1 = time.perf_counter()
            with tempfile.TemporaryDirectory() as out:
                write_report(result, Path(out), xlsx_max_rows=-1)
                write_assignment_parts(result, Path(out))
            report_s = time.perf_counter() - t1
    # Outside the memory sampling: the planted topics and every row's label are the benchmark's, not the run's.
    planted = np.load(folder.parent / "planted.npy")  # beside the input folder, not in it
    if result.row_parts is None:
        labels = result.row_labels()
    else:  # a streamed run: every row's topic is in its parts, read one column at a time
        import pyarrow.parquet as pq

        labels = np.concatenate(
            [
                pq.read_table(p, columns=["topic_id"]).column(0).fill_null(-2).to_numpy()
                for p in sorted(result.row_parts.glob("part-*.parquet"))
            ]
        )
        from pipeline.engines.ray_stream import release

        release(result)
    ray.shutdown()
    timings = dict(result.manifest["timings_s"])
    if not args.no_report:
        timings["report"] = round(report_s, 3)
    streamed = (result.manifest.get("engine_details") or {}).get("streamed") or {}
    fit_rows = int(streamed.get("fit_rows") or args.rows)
    ok = labels >= -1
    by_kind: dict[str, float] = {}
    for name, peak in peaks.workers.values():
        kind = name.split(" ")[0]
        by_kind[kind] = round(max(by_kind.get(kind, 0.0), peak), 2)
    return {
        "workers": workers,
        "wall_s": round(wall, 1),
        "timings_s": timings,
        "rows_per_s_by_stage": {  # the sample_* stages of a streamed run see the fitted rows only
            k: round((fit_rows if k.startswith("sample_") else args.rows) / v)
            for k, v in timings.items()
            if v > 0
        },
        "peak_rss_gib_driver": round(peaks.driver, 2),
        "peak_rss_gib_per_worker": sorted((round(p, 2) for _, p in peaks.workers.values()), reverse=True),
        "peak_rss_gib_by_worker_kind": by_kind,
        "n_topics": result.clustering.n_topics,
        "ari_vs_planted": round(float(adjusted_rand_score(planted[ok], labels[ok])), 4),
        "ledger": result.ledger.to_dict(),
        "reduce_params": {k: result.reduction.params.get(k) for k in ("fit_rows", "placed_rows")},
        "cluster_params": {k: result.clustering.params.get(k) for k in ("fit_rows", "assigned_rows")},
        "engine_details": result.manifest.get("engine_details"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dim", type=int, default=256, help="planted embedder dimension (default 256)")
    parser.add_argument("--parts", type=int, default=10, help="Parquet files to split the rows into")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--object-store-gib", type=float, default=3.0)
    parser.add_argument("--no-report", action="store_true", help="skip timing the report writer")
    parser.add_argument(
        "--stream-rows",
        type=int,
        default=0,
        help="RunConfig.ray_stream_rows (default 0: always stream; -1: the collected Ray engine)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-json", help=argparse.SUPPRESS)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        Path(args.child_json).write_text(json.dumps(one_run(args, args.child)))
        return 0
    import numpy as np

    if args.generate_only:  # in its own process, so the corpus's memory is gone before the runs
        folder = Path(args.folder)
        planted, words = write_parts(folder, args.rows, args.topics, args.seed, args.parts)
        np.save(folder.parent / "planted.npy", planted)
        (folder.parent / "words.json").write_text(json.dumps(words))
        return 0

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="scale-ray-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        t0 = time.perf_counter()
        generate = [
            sys.executable, __file__, "--rows", str(args.rows), "--topics", str(args.topics), "--seed", str(args.seed),
            "--parts", str(args.parts), "--folder", str(folder), "--generate-only",
        ]  # fmt: skip
        subprocess.run(generate, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
        size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        log(
            f"wrote {args.rows:,} rows in {args.parts} Parquet parts ({size:.0f} MiB) in {time.perf_counter() - t0:.0f}s"
        )
        for workers in args.workers:
            child_json = Path(tmp) / f"run_{workers}.json"
            command = [
                sys.executable, __file__, "--rows", str(args.rows), "--topics", str(args.topics),
                "--seed", str(args.seed), "--dim", str(args.dim), "--object-store-gib", str(args.object_store_gib),
                "--folder", str(folder), "--child", str(workers), "--child-json", str(child_json),
                "--stream-rows", str(args.stream_rows),
            ] + (["--no-report"] if args.no_report else [])  # fmt: skip
            log(f"run with {workers} Ray worker CPU(s)")
            done = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
            if done.returncode != 0:
                log(f"run with {workers} workers failed (exit {done.returncode})")
                continue
            result = json.loads(child_json.read_text())
            runs.append(result)
            log(
                f"{workers} worker(s): wall {result['wall_s']}s, driver peak {result['peak_rss_gib_driver']} GiB, "
                f"worker peaks {result['peak_rss_gib_per_worker'][:6]} GiB, ARI {result['ari_vs_planted']}"
            )
            log(f"  rows/s by stage {result['rows_per_s_by_stage']}")
    report: dict[str, Any] = {
        "benchmark": "scale_ray",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "planted_topics": args.topics,
        "embedder": f"planted-topics(dim={args.dim}) from bench/scale.py",
        "machine": f"{platform.node()} {os.cpu_count()} cores, shared with other jobs (loaded)",
        "runs": runs,
    }
    by_workers = {r["workers"]: r for r in runs}
    if 1 in by_workers and 2 in by_workers:
        one, two = by_workers[1]["timings_s"], by_workers[2]["timings_s"]
        report["speedup_1_to_2"] = {k: round(one[k] / two[k], 2) for k in one if k in two and two[k] > 0}
        report["speedup_1_to_2"]["wall"] = round(by_workers[1]["wall_s"] / by_workers[2]["wall_s"], 2)
        log(f"speed-up 1 -> 2 workers: {report['speedup_1_to_2']}")
    args.out.mkdir(parents=True, exist_ok=True)
    mode = "streamed" if args.stream_rows >= 0 and args.rows > args.stream_rows else "collected"
    report["mode"] = mode
    path = args.out / f"ray_scale_{args.rows}_{mode}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
