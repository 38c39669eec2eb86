"""Whole-pipeline scale benchmark on synthetic feedback with planted topics (issue 5, part 2).

Generates a CSV of synthetic customer feedback (``--rows`` rows, ``--topics`` planted topics;
each text mixes words of its topic with common filler words and is unique), then runs
``pipeline.run.run`` on its bytes, exactly as the CLI does, and prints each stage's time and the
process's peak memory during that stage, plus ARI / AMI of the topics against the planted ones.

Embeddings. A randomly initialised model gives meaningless vectors, so topic quality is measured
with a *planted-topic embedder*: each text's vector is its topic's centre plus Gaussian noise
(1024-d, float32, L2-normalised; the noise makes topics overlap). Its time is not the embedding
time of a real model. With ``--qwen3-timing`` (on a GPU) the embedding stage is timed separately
with the project's Qwen3 embedder on a Qwen3-Embedding-0.6B-shaped random model over the same
texts, and the end-to-end figure is the pipeline's time with the planted embedding replaced by
that measured embedding time. When that would not fit the time left (``--deadline``), the
embedding time is extrapolated from the corpus's token count and the throughput measured by
``bench/gpu_embed.py`` (``--tokens-per-s`` or its JSON), and the output says so.

The embedding cache is on, as in the product, in a fresh empty folder: every vector is computed
and written, as on a first run (``--no-cache`` turns it off). Its cost stays in the embed stage and
in the end-to-end figure.

Usage:
    python bench/scale.py --rows 100000
    python bench/scale.py --rows 1000000 --qwen3-timing --gpu-json bench/results/gpu_embed_h100.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYLLABLES = [
    "ka",
    "ri",
    "to",
    "mu",
    "sen",
    "lo",
    "pa",
    "vi",
    "ne",
    "da",
    "gor",
    "lin",
    "tas",
    "bel",
    "mor",
    "fi",
    "chu",
    "zan",
    "ve",
    "ro",
]
FILLER = [
    "the",
    "a",
    "and",
    "but",
    "very",
    "really",
    "so",
    "just",
    "still",
    "again",
    "also",
    "my",
    "our",
    "this",
    "that",
    "it",
    "was",
    "is",
    "not",
    "too",
    "when",
    "after",
    "before",
    "today",
    "yesterday",
    "please",
    "thanks",
    "customer",
    "order",
    "service",
    "app",
    "store",
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _rss_gib() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


class StageMemory:
    """Samples the process's RSS every 50 ms and keeps the peak per pipeline stage."""

    def __init__(self) -> None:
        self.stage = "start"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            log(f"  stage {stage} (RSS {_rss_gib():.2f} GiB)")
        self.stage = stage

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = _rss_gib()
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0.0), rss)
            time.sleep(0.05)

    def __enter__(self) -> StageMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ------------------------------------------------------------------------------------------ corpus
def make_corpus(
    rows: int, topics: int, seed: int, fmt: str = "csv"
) -> tuple[bytes, np.ndarray, dict[str, int], np.ndarray]:
    """Return CSV bytes, the planted topic per row, topic word -> topic, and words per text."""
    rng = np.random.default_rng(seed)
    words: dict[str, int] = {}
    topic_words: list[list[str]] = []
    for t in range(topics):
        vocab = []
        while len(vocab) < 12:
            w = "".join(rng.choice(SYLLABLES, size=rng.integers(2, 4)))
            if w not in words and w not in FILLER:
                words[w] = t
                vocab.append(w)
        topic_words.append(vocab)
    weights = rng.dirichlet(np.full(topics, 2.0))
    planted = rng.choice(topics, size=rows, p=weights)
    sigma = np.log(320 / 40) / 2.326
    n_words = np.clip(np.round(rng.lognormal(np.log(22), sigma, rows)), 4, 300).astype(np.int64)
    n_topic = np.maximum(2, (n_words * rng.uniform(0.2, 0.5, rows)).astype(np.int64))
    tw = np.array(topic_words, dtype=object)
    filler = np.array(FILLER, dtype=object)
    texts = []
    for i in range(rows):
        k = int(n_topic[i])
        parts = list(tw[planted[i]][rng.integers(0, 12, k)]) + list(
            filler[rng.integers(0, len(FILLER), n_words[i] - k)]
        )
        rng.shuffle(parts)
        parts.append(f"ref{i}")  # every text unique: nothing is dropped as a duplicate
        texts.append(" ".join(parts))
    import pandas as pd

    i = np.arange(rows)
    frame = pd.DataFrame(
        {
            "id": i,
            "text": texts,
            "rating": 1 + i % 5,
            "channel": np.array(["email", "app", "web", "phone", "chat"])[i % 5],
            "date": [f"2026-{1 + j % 12:02d}-{1 + j % 28:02d}" for j in range(rows)],
        }
    )
    buf = io.BytesIO()
    if fmt == "parquet":
        frame.to_parquet(buf, index=False)
    else:
        frame.to_csv(buf, index=False)
    return buf.getvalue(), planted, words, n_words + 1


class PlantedEmbedder:
    """An :class:`Embedder` whose vectors are planted-topic centres plus noise (for ARI)."""

    name = "planted"
    device = "cpu"
    max_chars_hint = None
    texts_per_call = 65_536

    def __init__(
        self, words: dict[str, int], topics: int, *, dim: int = 1024, noise: float = 0.035, seed: int = 0
    ):
        self.words = words
        self.dim = dim
        self.noise = noise
        self.model_id = f"planted-topics(dim={dim},noise={noise})"
        rng = np.random.default_rng(seed)
        centres = rng.normal(size=(topics, dim)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
        self.rng = np.random.default_rng(seed + 1)
        self.seconds = 0.0

    def _topic(self, text: str) -> int:
        for w in text.split():
            t = self.words.get(w)
            if t is not None:
                return t
        return 0

    def embed(self, texts: Any, *, kind: str = "document", progress: Any = None) -> np.ndarray:
        t0 = time.perf_counter()
        idx = np.fromiter((self._topic(t) for t in texts), dtype=np.int64, count=len(texts))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = 65_536
        for s in range(0, len(texts), step):
            block = self.centres[idx[s : s + step]] + self.noise * self.rng.standard_normal(
                (len(idx[s : s + step]), self.dim), dtype=np.float32
            )
            out[s : s + step] = block / np.linalg.norm(block, axis=1, keepdims=True)
            if progress is not None:
                progress(min(s + step, len(texts)), len(texts))
        self.seconds += time.perf_counter() - t0
        return out


def qwen3_embed_seconds(texts: list[str], device: str, *, tiny: bool, compile: bool | str) -> dict[str, Any]:
    """Time the project's Qwen3 embedder (0.6B shape, random weights) on ``texts``.

    The texts go through ``pipeline.embed.embed_texts`` (cache off), the way a run feeds the
    model, so the figure includes the pipeline's call sizes and any ``torch.compile`` warm-up.
    """
    import torch

    from bench.gpu_embed import FULL_CONFIG, TINY_CONFIG, build_model_folder
    from pipeline.embed import embed_texts
    from pipeline.embedders.qwen3 import Qwen3Embedder

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "qwen3-shaped"
        build_model_folder(folder, TINY_CONFIG if tiny else FULL_CONFIG, device=device)
        t0 = time.perf_counter()
        emb = Qwen3Embedder(model=str(folder), device=device, compile=compile)
        load_s = time.perf_counter() - t0
        emb.embed(texts[:2000])
        torch.cuda.synchronize() if device.startswith("cuda") else None
        calls: list[Any] = []
        plain_embed = emb.embed

        def counted(batch: Any, **kwargs: Any) -> np.ndarray:
            out = plain_embed(batch, **kwargs)
            calls.append(emb.last_stats)
            return out

        emb.embed = counted  # type: ignore[method-assign]
        t0 = time.perf_counter()
        vectors = embed_texts(texts, embedder=emb, cache=None).vectors
        torch.cuda.synchronize() if device.startswith("cuda") else None
        seconds = time.perf_counter() - t0
        real = sum(c.real_tokens for c in calls)
        padded = sum(c.padded_tokens for c in calls)
        stats = emb.last_stats
        assert vectors.shape == (len(texts), emb.dim)
        return {
            "seconds": round(seconds, 2),
            "load_s": round(load_s, 2),
            "real_tokens": real,
            "tokens_per_s": round(real / seconds, 1),
            "padding_ratio": round(padded / real, 4) if real else None,
            "calls": len(calls),
            "attention": stats.attention if stats else None,
            "compiled": emb._want_compile(len(texts)),
            "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)
            if device.startswith("cuda")
            else None,
        }


# -------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--format", choices=["auto", "csv", "parquet"], default="auto", help="auto: parquet over 500k rows"
    )
    parser.add_argument("--clusterer", default="kmeans")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="run without the embedding cache (by default a fresh, empty cache is written, as a first run does)",
    )
    parser.add_argument("--no-report", action="store_true", help="skip timing the report writer")
    parser.add_argument(
        "--qwen3-timing", action="store_true", help="time embedding with the Qwen3-shaped model"
    )
    parser.add_argument("--deadline", type=float, default=None, help="unix time by which this must end")
    parser.add_argument("--gpu-json", type=Path, default=None, help="gpu_embed.py JSON (throughput)")
    parser.add_argument("--tokens-per-s", type=float, default=None)
    parser.add_argument(
        "--tiny-model", action="store_true", help="time a tiny Qwen3 (CPU test of the script)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--tag", default="")
    args = parser.parse_args(argv)

    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    from pipeline.config import RunConfig

    started = time.perf_counter()
    t0 = time.perf_counter()
    fmt = args.format if args.format != "auto" else ("parquet" if args.rows > 500_000 else "csv")
    data, planted, words, tokens_per_text = make_corpus(args.rows, args.topics, args.seed, fmt)
    gen_s = time.perf_counter() - t0
    log(
        f"generated {args.rows:,} rows ({len(data) / 2**20:.0f} MiB {fmt}, {args.topics} topics) in {gen_s:.1f}s"
    )

    embedder = PlantedEmbedder(words, args.topics)
    config = RunConfig(use_cache=not args.no_cache, clusterer=args.clusterer, seed=args.seed, device="cpu")
    cache_dir = tempfile.TemporaryDirectory(prefix="scale-cache-")
    os.environ["FEEDBACK_TOPICS_CACHE_DIR"] = cache_dir.name  # empty: every vector is computed and stored
    with StageMemory() as memory:
        t0 = time.perf_counter()
        from pipeline.run import run

        result = run(
            data, filename=f"synthetic_feedback.{fmt}", config=config, progress=memory, embedder=embedder
        )
        labels, timings = result.row_labels(), dict(result.manifest.get("timings_s", {}))
        n_found, clustered = result.clustering.n_topics, result.clustering.labels
        unique_texts = [result.documents.texts[i] for i in result.documents.unique_rows]
        if not args.no_report:
            from pipeline.report import write_report

            memory("report", 0, 1)
            t_report = time.perf_counter()
            with tempfile.TemporaryDirectory() as report_dir:
                write_report(result, Path(report_dir))
            timings["report"] = round(time.perf_counter() - t_report, 3)
        wall = time.perf_counter() - t0
    ok = labels >= -1
    ari = adjusted_rand_score(planted[ok], labels[ok])
    ami = adjusted_mutual_info_score(planted[ok], labels[ok])
    report: dict[str, Any] = {
        "benchmark": "scale",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "planted_topics": args.topics,
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "pipeline_wall_s": round(wall, 2),
        "timings_s": timings,
        "peak_rss_gib_by_stage": {k: round(v, 2) for k, v in memory.peaks.items()},
        "mode": "pipeline.run",
        "n_topics_found": n_found,
        "outlier_share": float((clustered < 0).mean()),
        "ari": round(float(ari), 4),
        "ami": round(float(ami), 4),
        "embedder_for_quality": embedder.model_id,
        "planted_embed_s": round(embedder.seconds, 2),
        "embedding_cache": "off" if args.no_cache else "on (empty at the start, written during the run)",
        "corpus_tokens_qwen3": int(tokens_per_text.sum()),
    }
    log(f"pipeline wall {wall:.1f}s; stage seconds {timings}")
    rates = {stage: round(args.rows / sec) for stage, sec in timings.items() if sec > 0}
    report["rows_per_s_by_stage"] = rates
    log(f"rows per second by stage {rates}")
    log(f"peak RSS GiB by stage {report['peak_rss_gib_by_stage']}")
    log(f"topics found {report['n_topics_found']} (planted {args.topics}); ARI {ari:.4f} AMI {ami:.4f}")

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    report["device"] = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    tps = args.tokens_per_s
    compile_mode: bool | str = "auto"
    if args.gpu_json and args.gpu_json.exists():
        gpu = json.loads(args.gpu_json.read_text())
        tps = tps or gpu.get("tokens_per_s")
        compile_mode = bool(gpu.get("project_mix", {}).get("compiled", False))
    embed_s: float | None = None
    if args.qwen3_timing:
        tokens = int(tokens_per_text.sum())
        estimate = 45 + (tokens / tps if tps else 0)
        left = (args.deadline - time.time()) if args.deadline else float("inf")
        if tps and estimate > left:
            log(f"not enough time left for the Qwen3 timing ({left:.0f}s < ~{estimate:.0f}s): extrapolating")
        else:
            texts = unique_texts
            q = qwen3_embed_seconds(texts, device, tiny=args.tiny_model, compile=compile_mode)
            report["qwen3_embed"] = q
            embed_s = q["seconds"]
            report["embed_timing"] = "measured: Qwen3-0.6B-shaped random model, project embedder, same texts"
            log(f"Qwen3-shaped embedding of {len(texts):,} texts: {q}")
    if embed_s is None and tps:
        embed_s = round(int(tokens_per_text.sum()) / tps, 2)
        report["embed_timing"] = (
            f"extrapolated: {int(tokens_per_text.sum()):,} tokens / {tps:,.0f} tok/s (gpu_embed)"
        )
    if embed_s is not None:
        # Only the planted model's own time is swapped for Qwen3's; hashing, cache writes and the
        # rest of the embed stage stay in.
        e2e = wall - embedder.seconds + embed_s
        report["embed_s"] = embed_s
        report["end_to_end_s"] = round(e2e, 1)
        log(f"end to end with Qwen3 embedding ({report['embed_timing']}): {e2e:.1f}s")
    report["total_s"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    slug = report["device"].lower().replace("nvidia ", "").split()[0]
    prefix = "gpu_scale" if device == "cuda" else "cpu_scale"
    path = args.out / f"{prefix}_{args.rows}_{slug}{args.tag}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(
        "\nSUMMARY scale",
        json.dumps(
            {
                k: report.get(k)
                for k in (
                    "rows",
                    "pipeline_wall_s",
                    "timings_s",
                    "peak_rss_gib_by_stage",
                    "ari",
                    "ami",
                    "n_topics_found",
                    "embed_s",
                    "embed_timing",
                    "end_to_end_s",
                )
            }
        ),
        flush=True,
    )
    print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
