"""Sentiment accuracy and cost: ``python bench/sentiment.py [--model use-multilingual] [--dev]``.

Each evaluation set is scored as one run would score it (its own embeddings, its own head):

* ``waimai_10k`` (food delivery, zh), ``chnsenticorp_htl_all`` (hotels, zh): binary labels;
* ``m_absa`` (sample, 21 languages, en original, the rest machine-translated): the polarity of the
  sentence's one aspect category (positive / negative / neutral; ``conflict`` and ``mixed`` left out).

Figures: ``accuracy`` on rows whose gold label is positive or negative and that were called positive
or negative; ``neutral_share`` among those gold rows; for m_absa also per language and how many gold
neutral rows were called neutral. Targets (issue 12): accuracy >= 0.85 with <= 15 % neutral on
waimai_10k and ChnSentiCorp. ``cost`` compares the sentiment stage with embedding the same texts
afresh (no cache) on a sample.

These sets are only evaluated, never trained or tuned on. ``--dev`` adds the development set the one
tuned constant (the neutral band) was chosen on: ``online_shopping_10_cats`` without its hotel
reviews (which overlap ChnSentiCorp), 4,000 rows, seed 0.

Results go to ``bench/results/sentiment_<model>.json`` (``..._<sets>.json`` for other sets, e.g.
``python bench/sentiment.py --sets --dev`` writes ``sentiment_use-multilingual_dev.json``).
"""

from __future__ import annotations

import argparse
import json
import os
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
DATA = Path(os.environ.get("FEEDBACK_TOPICS_DATA", ROOT.parent / "shared" / "data"))
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
SETS = {
    "waimai_10k": ("waimai_10k/waimai_10k.csv", "label"),
    "chnsenticorp_htl_all": ("chnsenticorp_htl_all/chnsenticorp_htl_all.csv", "label"),
    "m_absa": ("m_absa/m_absa_sample.csv", "sentiment"),
}
METHODS = ("lexicon+head", "lexicon", "head")
COST_SAMPLE = 2000


def _load(name: str) -> tuple[list[str], list[str], np.ndarray]:
    if name == "dev":
        frame = pd.read_csv(DATA / "online_shopping_10_cats" / "online_shopping_10_cats.csv")
        frame = frame[frame["label"] != "酒店"].sample(4000, random_state=0)
        gold = np.where(frame["sentiment"] == 1, "positive", "negative")
    else:
        path, column = SETS[name]
        frame = pd.read_csv(DATA / path)
        gold = frame[column].astype(str).to_numpy()
    texts = frame["text"].fillna("").astype(str).tolist()
    return texts, frame["lang"].astype(str).tolist(), gold


def _figures(codes: np.ndarray, gold: np.ndarray) -> dict[str, Any]:
    polar = np.isin(gold, ["positive", "negative"])
    called = polar & (codes != 0)
    truth = np.where(gold == "positive", 1, -1)
    out: dict[str, Any] = {
        "rows": int(polar.sum()),
        "accuracy": round(float(np.mean(codes[called] == truth[called])), 4) if called.any() else None,
        "neutral_share": round(float(np.mean(codes[polar] == 0)), 4) if polar.any() else None,
        "accuracy_all_called_by_sign": None,
    }
    if polar.any():
        # Forced choice: every gold-polar row counted, neutral ones as errors.
        out["accuracy_all_called_by_sign"] = round(float(np.mean(codes[polar] == truth[polar])), 4)
    gold_neutral = gold == "neutral"
    if gold_neutral.any():
        out["gold_neutral_rows"] = int(gold_neutral.sum())
        out["gold_neutral_called_neutral"] = round(float(np.mean(codes[gold_neutral] == 0)), 4)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="use-multilingual")
    parser.add_argument("--dev", action="store_true", help="also score the development set")
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    args = parser.parse_args()

    from pipeline.embed import embed_texts
    from pipeline.embedders.cache import EmbeddingCache, default_cache_dir
    from pipeline.embedders.registry import create_embedder
    from pipeline.errors import ConfigError
    from pipeline.sentiment.registry import score_sentiment

    embedder = create_embedder(args.model, device="cpu")
    cache = EmbeddingCache(default_cache_dir())
    results: dict[str, Any] = {}
    names = [*args.sets, *(["dev"] if args.dev else [])]
    for name in names:
        texts, languages, gold = _load(name)
        vectors = embed_texts(texts, embedder=embedder, cache=cache).vectors
        entry: dict[str, Any] = {}
        for method in METHODS:
            try:
                scored = score_sentiment(
                    texts=texts, languages=languages, vectors=vectors, model_name=args.model, method=method
                )
            except ConfigError as exc:
                entry[method] = {"skipped": exc.user_message}
                continue
            figures = _figures(scored.codes, gold)
            figures["method_ran"] = scored.method
            figures["seconds"] = scored.details["seconds"]
            if name == "m_absa":
                figures["per_language"] = {
                    lang: _figures(scored.codes[idx], gold[idx])
                    for lang, idx in pd.Series(range(len(texts))).groupby(pd.Series(languages)).groups.items()
                }
            entry[method] = figures
            print(
                f"{name:22s} {method:14s} ran={scored.method:20s} acc={figures['accuracy']} "
                f"neutral={figures['neutral_share']} rows={figures['rows']} {figures['seconds']}s",
                flush=True,
            )
        # Cost: embed a sample afresh (no cache) and score the same sample.
        sample = np.random.default_rng(0).choice(len(texts), size=min(COST_SAMPLE, len(texts)), replace=False)
        sample_texts = [texts[i] for i in sample]
        start = time.perf_counter()
        sample_vectors = embed_texts(sample_texts, embedder=embedder, cache=None).vectors
        embed_s = time.perf_counter() - start
        start = time.perf_counter()
        score_sentiment(
            texts=sample_texts,
            languages=[languages[i] for i in sample],
            vectors=sample_vectors,
            model_name=args.model,
        )
        sentiment_s = time.perf_counter() - start
        entry["cost"] = {
            "texts": len(sample),
            "embed_s": round(embed_s, 3),
            "sentiment_s": round(sentiment_s, 3),
            "sentiment_over_embed": round(sentiment_s / embed_s, 4),
        }
        print(f"{name:22s} cost: {entry['cost']}", flush=True)
        results[name] = entry

    out = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": embedder.model_id,
            "device": f"CPU x{os.cpu_count()} ({platform.machine()}), shared machine, under load",
            "python": platform.python_version(),
            "load_average": list(os.getloadavg()),
            "targets": "accuracy >= 0.85 with neutral_share <= 0.15 on waimai_10k and chnsenticorp_htl_all",
        },
        "results": results,
    }
    suffix = "" if names == list(SETS) else "_" + "-".join(names)
    path = ROOT / "bench" / "results" / f"sentiment_{args.model}{suffix}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
