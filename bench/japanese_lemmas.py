"""Japanese lemmas: janome vs fugashi + unidic-lite vs SudachiPy on a hand-checked sample.

``bench/data/japanese_lemmas.tsv`` holds 56 short review sentences, written and checked by hand,
with the dictionary forms of their content words (雨が降ります -> 降る, バスを降ります -> 降りる).
For each analyser the script counts the expected lemmas found among the dictionary forms it gives
(every token, no filter, so only the analyser is judged), lists the misses, and times it; then it
scores the product's own Japanese tokenisation (``pipeline.tokenize.tokenize``) the same way.

Usage::

    pip install janome fugashi unidic-lite sudachipy sudachidict-core
    python bench/japanese_lemmas.py        # prints a table, writes bench/results/japanese_lemmas.json

An analyser that is not installed is skipped. Timings are wall-clock on whatever machine runs it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "bench" / "data" / "japanese_lemmas.tsv"
REPEAT = 20


def read_sample(path: Path = SAMPLE) -> list[tuple[str, list[list[str]]]]:
    """(sentence, expected lemmas, each a list of accepted spellings) per line."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            sentence, expected = line.split("\t")
            rows.append((sentence, [option.split("|") for option in expected.split()]))
    return rows


def _janome() -> Callable[[str], list[str]]:
    from janome.tokenizer import Tokenizer

    tokenizer = Tokenizer()
    return lambda s: [t.base_form if t.base_form != "*" else t.surface for t in tokenizer.tokenize(s)]


def _fugashi() -> Callable[[str], list[str]]:
    import fugashi

    tagger = fugashi.Tagger()
    # orthBase: the dictionary form in the text's own spelling (lemma would turn おいしい into 美味しい).
    return lambda s: [getattr(w.feature, "orthBase", None) or w.surface for w in tagger(s)]


def _sudachi() -> Callable[[str], list[str]]:
    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C)
    return lambda s: [m.dictionary_form() for m in tokenizer.tokenize(s)]


def _product() -> Callable[[str], list[str]]:
    from pipeline.tokenize import tokenize

    return lambda s: tokenize(s, language="ja")


ANALYSERS: dict[str, Callable[[], Callable[[str], list[str]]]] = {
    "janome 0.5 (IPADIC)": _janome,
    "fugashi + unidic-lite": _fugashi,
    "SudachiPy + sudachidict-core (mode C)": _sudachi,
    "product tokenize(language='ja')": _product,
}


def score(analyse: Callable[[str], list[str]], rows: list[tuple[str, list[list[str]]]]) -> dict[str, Any]:
    found = total = 0
    misses = []
    for sentence, expected in rows:
        got = set(analyse(sentence))
        for options in expected:
            total += 1
            if any(option in got for option in options):
                found += 1
            else:
                misses.append(f"{sentence}: {'|'.join(options)}")
    start = time.perf_counter()
    for _ in range(REPEAT):
        for sentence, _ in rows:
            analyse(sentence)
    per_s = REPEAT * len(rows) / (time.perf_counter() - start)
    return {
        "found": found,
        "expected": total,
        "recall": round(found / total, 3),
        "texts_per_s": round(per_s),
        "misses": misses,
    }


def main() -> int:
    rows = read_sample()
    results: dict[str, Any] = {}
    for name, make in ANALYSERS.items():
        try:
            start = time.perf_counter()
            analyse = make()
            analyse("準備")
            load = time.perf_counter() - start
        except ImportError as error:
            print(f"{name:<40} skipped ({error})")
            continue
        results[name] = {**score(analyse, rows), "load_s": round(load, 2)}
        r = results[name]
        print(
            f"{name:<40} lemmas {r['found']}/{r['expected']} ({r['recall']:.1%}), "
            f"{r['texts_per_s']:>6} texts/s, load {r['load_s']} s"
        )
        for miss in r["misses"]:
            print(f"{'':<42}miss {miss}")
    out = ROOT / "bench" / "results" / "japanese_lemmas.json"
    out.write_text(
        json.dumps({"sentences": len(rows), "results": results}, ensure_ascii=False, indent=1) + "\n"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
