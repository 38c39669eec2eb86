"""Topic names in the requested label language: share of names (and keywords) in that language.

Runs the product's pipeline (default settings, ``use-multilingual``) once per set on a seeded
sample, names the topics in English (``label_language="en"``), then relabels the same run in
Chinese with :func:`pipeline.labels.apply.relabel` (the run's vectors reused, nothing re-embedded)
and measures, per label language:

* ``names_in_language``: share of topic names whose language is the requested one, by
  :func:`pipeline.languages.detect_languages` on the name (CJK names: by script, since the detector
  decides Han text by script too);
* ``names_in_vocabulary``: share of names whose every word is a known word of the language
  (``wordfreq`` Zipf frequency >= 1; Chinese by script): the detector misreads many two-word names
  ("Credit card", "Atm machine"), this check does not;
* ``names_in_script``: share of names in the language's script (Han for zh; no Han/kana/Hangul for
  en), a looser check that does not depend on the detector reading two-word names right;
* ``keywords_in_script``: the same over every topic's top-5 keywords;
* ``baseline_*``: the same checks on the names the product made before label languages (three
  top keywords in the texts' own languages, ``keywords_original``);
* for zh without ``wordfreq`` (``--no-wordlist`` ablation, English sets only): what the word
  list adds when the file has no text in the label language.

Usage::

    python bench/label_quality.py                      # the three sets, 3,000 rows each
    python bench/label_quality.py --datasets banking77 --rows 1000

Writes ``bench/results/label_quality.json``. Timings are wall-clock on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.labelled_data import DATA, read_labelled  # noqa: E402
from pipeline.config import RunConfig  # noqa: E402
from pipeline.embedders.cache import EmbeddingCache, default_cache_dir  # noqa: E402
from pipeline.embedders.registry import create_embedder  # noqa: E402
from pipeline.labels.apply import relabel  # noqa: E402
from pipeline.labels.keywords import topic_name  # noqa: E402
from pipeline.languages import detect_languages  # noqa: E402
from pipeline.run import run  # noqa: E402
from pipeline.types import RunResult  # noqa: E402

DATASETS = ("online_shopping_10_cats", "m_absa", "banking77")
LABEL_LANGUAGES = ("en", "zh")
_HAN = re.compile(r"[\u3400-\u9fff]")
_OTHER_CJK = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")


def in_script(text: str, language: str) -> bool:
    if language == "zh":
        return bool(_HAN.search(text)) and not _OTHER_CJK.search(text)
    return not (_HAN.search(text) or _OTHER_CJK.search(text))


def in_vocabulary(text: str, language: str) -> bool:
    """Every word of ``text`` is a known word of ``language`` (wordfreq Zipf >= 1; CJK: by script)."""
    if language in ("zh", "ja"):
        return in_script(text, language)
    import wordfreq

    words = re.findall(r"[^\W\d_]+", text.casefold())
    return (
        bool(words)
        and in_script(text, language)
        and all(wordfreq.zipf_frequency(w, language) >= 1.0 for w in words)
    )


def shares(names: list[str], keywords: list[list[str]], language: str) -> dict[str, float]:
    detected = detect_languages([n.replace(" · ", ", ") for n in names]) if names else []
    flat = [w for words in keywords for w in words]
    n = max(len(names), 1)
    return {
        "names_in_language": round(sum(d == language for d in detected) / n, 3),
        "names_in_vocabulary": round(sum(in_vocabulary(x, language) for x in names) / n, 3),
        "names_in_script": round(sum(in_script(x, language) for x in names) / n, 3),
        "keywords_in_script": round(sum(in_script(w, language) for w in flat) / max(len(flat), 1), 3),
    }


def measure(result: RunResult, language: str) -> dict[str, Any]:
    topics = [t for t in result.topics if t.id >= 0]
    names = [t.name for t in topics]
    keywords = [[w for w, _ in t.keywords[:5]] for t in topics]
    baseline_names = [topic_name(t.keywords_original, fallback=f"Topic {t.id}") for t in topics]
    baseline_keywords = [[w for w, _ in t.keywords_original[:5]] for t in topics]
    label_set = result.label_sets[0]
    out: dict[str, Any] = {
        "n_topics": len(topics),
        "method": label_set.method,
        **shares(names, keywords, language),
        **{f"baseline_{k}": v for k, v in shares(baseline_names, baseline_keywords, language).items()},
        "not_in_language": [n for n, d in zip(names, detect_languages(names), strict=True) if d != language],
        "examples": [
            {
                "name": t.name,
                "keywords": [w for w, _ in t.keywords[:5]],
                "original": topic_name(t.keywords_original),
            }
            for t in sorted(topics, key=lambda t: -t.size)[:8]
        ],
        "details": label_set.details,
    }
    return out


def _ablation(result: RunResult, language: str, embedder: Any, cache: Any) -> dict[str, float]:
    """The label language's names without the wordfreq list (the file has no text in it)."""
    from pipeline.labels.base import LabelRequest
    from pipeline.labels.phrases import offline_labels
    from pipeline.tokenize import tokenize_many

    unique = result.documents.unique_rows
    texts = [result.documents.texts[i] for i in unique]
    languages = [result.languages[i] for i in unique]
    request = LabelRequest(
        texts=texts,
        labels=result.clustering.labels,
        vectors=result.embeddings.vectors,
        languages=languages,
        phrases=tokenize_many(texts, languages),
        language=language,
        examples={},
        keywords_original={t.id: t.keywords_original for t in result.topics},
    )
    labels = offline_labels(request, embedder=embedder, cache=cache, wordlist_size=0, outlier_name="Outliers")
    names = [labels.names[t] for t in sorted(labels.names) if t >= 0]
    keywords = [[w for w, _ in labels.keywords[t][:5]] for t in sorted(labels.keywords) if t >= 0]
    return shares(names, keywords, language)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="use-multilingual")
    parser.add_argument("--data", type=Path, default=DATA if DATA.is_dir() else Path("/work/shared/data"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "label_quality.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    embedder = create_embedder(args.model, device="cpu")
    cache = EmbeddingCache(default_cache_dir())
    report: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": args.model,
        "rows": args.rows,
        "seed": args.seed,
        "datasets": {},
    }
    for name in args.datasets:
        frame = read_labelled(name, data=args.data)
        frame = frame.sample(n=min(args.rows, len(frame)), random_state=args.seed).reset_index(drop=True)
        buffer = io.BytesIO()
        frame[["text"]].to_csv(buffer, index=False)
        started = time.perf_counter()
        result = run(
            buffer.getvalue(),
            filename=f"{name}.csv",
            config=RunConfig(model=args.model, label_language="en", seed=42),
            embedder=embedder,
        )
        run_s = time.perf_counter() - started
        entry: dict[str, Any] = {
            "file_languages": dict(list(result.manifest["languages"].items())[:8]),
            "language_coverage": result.manifest["language_coverage"],
            "run_s": round(run_s, 1),
        }
        for language in LABEL_LANGUAGES:
            started = time.perf_counter()
            shown = (
                result
                if language == "en"
                else relabel(result, label_language=language, embedder=embedder, cache=cache)
            )
            entry[language] = {**measure(shown, language), "label_s": round(time.perf_counter() - started, 2)}
            if language == "en":
                entry[language]["label_s"] = round(
                    float(result.manifest["timings_s"].get("keywords", 0.0)), 2
                )
        if "en" not in result.manifest["languages"] or "zh" not in result.manifest["languages"]:
            entry[
                "zh_without_wordlist" if "zh" not in result.manifest["languages"] else "en_without_wordlist"
            ] = _ablation(result, "zh" if "zh" not in result.manifest["languages"] else "en", embedder, cache)
        report["datasets"][name] = entry
        print(f"\n== {name}: {entry['file_languages']}  (run {run_s:.0f} s)")
        if entry["language_coverage"]["warning"]:
            print(f"   coverage: {entry['language_coverage']['warning']}")
        for language in LABEL_LANGUAGES:
            e = entry[language]
            print(
                f"   [{language}] names in language {e['names_in_language']:.0%} (vocabulary"
                f" {e['names_in_vocabulary']:.0%}, script {e['names_in_script']:.0%}),"
                f" keywords in script {e['keywords_in_script']:.0%}; before: names {e['baseline_names_in_language']:.0%},"
                f" keywords {e['baseline_keywords_in_script']:.0%}; {e['method']}, {e['label_s']} s"
            )
            for example in e["examples"][:6]:
                print(
                    f"      {example['name']:<28} | {', '.join(example['keywords'])}   (was: {example['original']})"
                )
            if e["not_in_language"]:
                print(f"      detector disagrees on: {e['not_in_language'][:8]}")
        for key in ("zh_without_wordlist", "en_without_wordlist"):
            if key in entry:
                print(f"   {key}: {entry[key]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
