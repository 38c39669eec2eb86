"""Several topics per feedback item (issue 12, part 4): does splitting texts into parts help on m_absa?

m_absa labels each review sentence with one aspect category. The bench builds two-aspect reviews
from it and checks whether :mod:`pipeline.multitopic` finds both aspects:

* the restaurant domain (12 aspect categories, 21 languages), its sentences split by ``src_id``
  into two halves: half A stays as single-aspect rows; from half B, ``--pairs`` reviews are made
  by joining two sentences of the same language with *different* categories;
* one run (``use-multilingual``, seed 42, multi-topic off) over A + the joined reviews; each topic
  is mapped to the majority category of its half-A rows;
* per joined review, the categories of its topics (primary only, or primary + other topics at
  each threshold quantile): recall of the two gold categories, precision, F1; and on the single
  rows, the share that gains an other topic of a *different* category (false mentions);
* the stage's time against the run's embedding time (parts embedded with the same model).

Usage::

    python bench/multitopic.py                   # restaurant, 21 languages, 600 joined reviews
    python bench/multitopic.py --pairs 300 --langs en,zh,ja,de

Writes ``bench/results/multitopic.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import RunConfig  # noqa: E402
from pipeline.multitopic import QUANTILE, find_mentions  # noqa: E402
from pipeline.run import run  # noqa: E402

DATA = Path("/work/shared/data/m_absa/m_absa_sample.csv")
_END = ".!?。！？…"


def _join(first: str, second: str, lang: str) -> str:
    first = first.strip()
    if first[-1:] not in _END:
        first += "。" if lang in ("zh", "ja") else "."
    return first + ("" if lang in ("zh", "ja") else " ") + second.strip()


def build(frame: pd.DataFrame, *, n_pairs: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(single rows of half A, joined two-aspect reviews from half B)."""
    rng = np.random.default_rng(seed)
    ids = np.array(sorted(frame["src_id"].unique()))
    rng.shuffle(ids)
    half_b = set(ids[: len(ids) // 2])
    singles = frame[~frame["src_id"].isin(half_b)].reset_index(drop=True)
    pool = frame[frame["src_id"].isin(half_b)].reset_index(drop=True)
    pairs = []
    by_lang = {lang: group for lang, group in pool.groupby("lang")}
    langs = sorted(by_lang)
    while len(pairs) < n_pairs:
        group = by_lang[langs[len(pairs) % len(langs)]]
        i, j = rng.choice(len(group), size=2, replace=False)
        a, b = group.iloc[i], group.iloc[j]
        if a["category"] == b["category"] or a["src_id"] == b["src_id"]:
            continue
        pairs.append({"text": _join(a["text"], b["text"], a["lang"]), "gold": (a["category"], b["category"])})
    return singles, pd.DataFrame(pairs)


def score(
    predicted: list[set[str]],
    gold: list[tuple[str, ...]],
    single_other: list[set[str]],
    single_gold: list[str],
) -> dict[str, float]:
    """Joined reviews: recall/precision/F1 of their categories; singles: wrong other topics."""
    hits = sum(len(p & set(g)) for p, g in zip(predicted, gold, strict=True))
    n_pred = sum(len(p) for p in predicted)
    n_gold = sum(len(set(g)) for g in gold)
    recall, precision = hits / n_gold, (hits / n_pred if n_pred else 0.0)
    false = sum(bool(o - {g}) for o, g in zip(single_other, single_gold, strict=True))
    both = sum(set(g) <= p for p, g in zip(predicted, gold, strict=True))
    return {
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "f1": round(2 * recall * precision / (recall + precision) if recall + precision else 0.0, 4),
        "both_aspects_found": round(both / len(gold), 4),
        "singles_with_a_wrong_other_topic": round(false / len(single_gold), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", default="restaurant")
    parser.add_argument("--langs", default="", help="comma-separated languages (default: all)")
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--model", default="use-multilingual")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quantiles", default="0,0.05,0.1,0.25,0.5")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "multitopic.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    data = pd.read_csv(DATA, dtype=str).fillna("")
    data = data[data["domain"] == args.domain]
    if args.langs:
        data = data[data["lang"].isin(args.langs.split(","))]
    singles, joined = build(data, n_pairs=args.pairs, seed=args.seed)
    texts = [*singles["text"], *joined["text"]]
    csv = pd.DataFrame({"text": texts}).to_csv(index=False).encode("utf-8")
    config = RunConfig(model=args.model, seed=args.seed, text_column="text", use_cache=False)
    from pipeline.embedders.registry import create_embedder

    embedder = create_embedder(args.model, device="cpu")
    start = time.perf_counter()
    result = run(csv, filename="m_absa.csv", config=config, embedder=embedder)
    run_s = time.perf_counter() - start
    labels = result.row_labels()
    n_single = len(singles)
    topic_cat = (
        pd.DataFrame({"topic": labels[:n_single], "cat": singles["category"]})
        .query("topic >= 0")
        .groupby("topic")["cat"]
        .agg(lambda s: s.value_counts().index[0])
        .to_dict()
    )
    position = result.documents.spread(np.arange(len(result.documents.unique_rows)), -1)
    unique_texts = [result.documents.texts[i] for i in result.documents.unique_rows]

    def categories(row: int, others: dict[int, set[int]], *, primary: bool = True) -> set[str]:
        topics = ({int(labels[row])} if primary else set()) | others.get(int(position[row]), set())
        return {topic_cat[t] for t in topics if t in topic_cat}

    gold = [tuple(g) for g in joined["gold"]]
    rows_joined = range(n_single, len(texts))
    rows_single = range(n_single)
    variants: dict[str, Any] = {}
    base = score(
        [categories(r, {}) for r in rows_joined],
        gold,
        [categories(r, {}, primary=False) for r in rows_single],
        list(singles["category"]),
    )
    variants["off"] = {**base, "seconds": 0.0}
    for q in (float(x) for x in args.quantiles.split(",")):
        start = time.perf_counter()
        found = find_mentions(
            unique_texts, result.clustering.labels, result.embeddings.vectors, embedder=embedder, quantile=q
        )
        seconds = time.perf_counter() - start
        others: dict[int, set[int]] = {}
        for pos, topic in found.pairs.tolist():
            others.setdefault(int(pos), set()).add(int(topic))
        figures = score(
            [categories(r, others) for r in rows_joined],
            gold,
            [categories(r, others, primary=False) for r in rows_single],
            list(singles["category"]),
        )
        variants[f"quantile_{q:g}"] = {
            **figures,
            "seconds": round(seconds, 2),
            "parts_per_text_embedded": round(found.info["parts_embedded"] / len(unique_texts), 3),
            **found.info,
        }
        print(f"q={q:g}: {figures}  {seconds:.1f} s", flush=True)
    print(f"off: {base}")
    embed_s = float(result.manifest["timings_s"].get("embed", 0.0))
    out = {
        "what": "m_absa two-aspect reviews: categories found by primary topic only vs primary + other topics",
        "domain": args.domain,
        "languages": sorted(data["lang"].unique()),
        "single_rows": n_single,
        "joined_reviews": len(joined),
        "model": args.model,
        "seed": args.seed,
        "n_topics": result.clustering.n_topics,
        "default_quantile": QUANTILE,
        "texts_embedded": len(unique_texts),
        "run_seconds": round(run_s, 1),
        "embed_seconds": round(embed_s, 1),
        "run_timings_s": result.manifest["timings_s"],  # multi_topic: the stage at the default (auto)
        "variants": variants,
        "machine": f"{platform.machine()}, shared and loaded 2-core machine",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python bench/multitopic.py " + " ".join(sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k != "variants"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
