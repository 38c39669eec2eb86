"""Keyword quality and speed on the shared labelled data (true labels), for 10k and 100k rows.

Run: ``python bench/keywords_speed.py`` (reads ``../shared/data`` beside the repository, or
``$FEEDBACK_TOPICS_DATA``). Prints each class's top keywords for online_shopping_10_cats,
banking77 and m_absa, checks that every online_shopping category name (or a related word) is
among its class's keywords, and times language detection, tokenisation and c-TF-IDF at 10k and
100k rows (100k built by sampling rows with replacement), with peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.keywords import extract_keywords, topic_name
from pipeline.languages import detect_languages

DATA = Path(os.environ.get("FEEDBACK_TOPICS_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

# Words a reader would accept as naming each online_shopping_10_cats category.
SHOPPING_EXPECTED: dict[str, set[str]] = {
    "书籍": {"书", "书籍", "作者", "读", "阅读", "小说", "故事"},
    "平板": {"平板", "平板电脑", "ipad", "屏幕", "系统", "电池"},
    "手机": {"手机", "电池", "屏幕", "信号", "诺基亚", "待机", "手机壳"},
    "水果": {"水果", "苹果", "橙子", "香蕉", "新鲜", "甜", "芒果", "果子"},
    "洗发水": {"洗发水", "头发", "洗发露", "味道", "头皮", "去屑", "洗头"},
    "热水器": {"热水器", "安装", "加热", "师傅", "热水"},
    "蒙牛": {"蒙牛", "牛奶", "奶", "喝", "酸奶", "伊利"},
    "衣服": {"衣服", "穿", "质量", "裤子", "尺码", "面料", "码"},
    "计算机": {"电脑", "计算机", "笔记本", "系统", "驱动", "键盘", "散热"},
    "酒店": {"酒店", "房间", "前台", "入住", "早餐", "宾馆", "服务员"},
}


def _read(name: str, file: str) -> pd.DataFrame:
    path = DATA / name / file
    if not path.exists():
        sys.exit(f"data not found: {path} (set FEEDBACK_TOPICS_DATA)")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _show(title: str, keywords: dict[int, list[tuple[str, float]]], names: list[str], limit: int) -> None:
    print(f"\n== {title}")
    for topic in sorted(keywords)[:limit]:
        print(f"  {names[topic]:<32} {topic_name(keywords[topic], 8)}")


def quality(sample: int) -> bool:
    """Print keywords per true class; return whether every shopping category was recognised."""
    ok = True
    shop = _read("online_shopping_10_cats", "online_shopping_10_cats.csv")
    shop = shop.sample(min(sample, len(shop)), random_state=0) if sample else shop
    names = sorted(shop.label.unique())
    labels = np.searchsorted(names, shop.label.to_numpy())
    texts = shop.text.tolist()
    t0 = time.perf_counter()
    languages = detect_languages(texts)
    t1 = time.perf_counter()
    kw = extract_keywords(texts, labels, languages=languages, top_n=10)
    t2 = time.perf_counter()
    _show(f"online_shopping_10_cats ({len(texts)} rows, true labels)", kw, names, 10)
    print(f"  (all distinct rows: languages {t1 - t0:.1f}s, keywords {t2 - t1:.1f}s)")
    for topic, name in enumerate(names):
        words = {w for w, _ in kw[topic]}
        hit = words & SHOPPING_EXPECTED[name]
        print(f"  {name}: {'OK ' if hit else 'MISS'} {sorted(hit)}")
        ok &= bool(hit)

    bank = _read("banking77", "banking77.csv")
    names = sorted(bank.label.unique())
    labels = np.searchsorted(names, bank.label.to_numpy())
    texts = bank.text.tolist()
    kw = extract_keywords(texts, labels, languages=detect_languages(texts), top_n=10)
    _show(f"banking77 ({len(texts)} rows, first 25 of 77 intents)", kw, names, 25)

    absa = _read("m_absa", "m_absa_sample.csv")
    names = sorted(absa.domain.unique())
    labels = np.searchsorted(names, absa.domain.to_numpy())
    texts = absa.text.tolist()
    kw = extract_keywords(texts, labels, languages=detect_languages(texts), top_n=15)
    _show(f"m_absa ({len(texts)} rows, 21 languages, 7 domains)", kw, names, 7)
    for lang in ("zh", "ja", "th", "ar", "ko", "hi", "ru", "de"):
        part = absa[absa.lang == lang]
        sub_names = sorted(part.domain.unique())
        sub_kw = extract_keywords(
            part.text.tolist(),
            np.searchsorted(sub_names, part.domain.to_numpy()),
            languages=[lang] * len(part),
            top_n=6,
        )
        print(
            f"  [{lang}] " + " | ".join(f"{n}: {topic_name(sub_kw[i], 6)}" for i, n in enumerate(sub_names))
        )
    return ok


def _cpu() -> float:
    """CPU seconds of this process and its finished children (worker pools)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def speed(rows: int) -> None:
    """Time detection + keywords on ``rows`` rows sampled from the Chinese and English sets."""
    shop = _read("online_shopping_10_cats", "online_shopping_10_cats.csv")
    bank = _read("banking77", "banking77.csv")
    rng = np.random.default_rng(0)
    for name, frame in (("online_shopping_10_cats (zh)", shop), ("banking77 (en)", bank)):
        pick = rng.integers(0, len(frame), rows)
        # Sampling with replacement repeats texts; suffix a row marker on half of them so the
        # dedup inside the stages does not make the large run artificially cheap.
        base = frame.text.to_numpy()[pick]
        texts = [f"{t} {i}" if i % 2 else t for i, t in enumerate(base)]
        labels = rng.integers(-1, 30, rows)
        t0, c0 = time.perf_counter(), _cpu()
        languages = detect_languages(texts)
        t1, c1 = time.perf_counter(), _cpu()
        extract_keywords(texts, labels, languages=languages, top_n=10)
        t2, c2 = time.perf_counter(), _cpu()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"  {name:<30} {rows:>7} rows: languages {t1 - t0:5.1f}s wall {c1 - c0:5.1f}s cpu "
            f"({rows / (t1 - t0):>6.0f} rows/s), keywords {t2 - t1:5.1f}s wall {c2 - c1:5.1f}s cpu "
            f"({rows / (t2 - t1):>6.0f} rows/s), peak RSS {peak:.0f} MiB"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0, help="rows of online_shopping to use (0 = all)")
    parser.add_argument("--sizes", default="10000,100000", help="row counts for the speed runs")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    ok = True
    if not args.skip_quality:
        ok = quality(args.sample)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\n== speed (cpu_count={os.cpu_count()}, load average {load:.1f}: wall time is shared, cpu is ours)"
    )
    for size in (int(s) for s in args.sizes.split(",") if s):
        speed(size)
    print("\nall shopping categories recognised" if ok else "\nSOME CATEGORY MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
