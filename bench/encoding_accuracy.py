"""How often the loader reads generated legacy/Unicode files exactly, and how often it is unsure.

For each seed and each case of ``tests/make_bad_fixtures.ENCODED`` (Shift-JIS kanji, EUC-JP, Big5,
Big5 with only high trail bytes, GB2312, GB18030 with 4-byte characters, cp949, cp1252, cp1251,
cp1250, BOM-less UTF-16/32), a CSV of generated sentences is loaded; the outcome is "exact" (every
text as written), "flagged" (not exact but confidence below 0.75 with a warning), or "silent
mojibake" (the failure the issue forbids). Also the mixed UTF-8/cp1252 case.

    python bench/encoding_accuracy.py [--seeds 40] [--rows 1]

Writes ``bench/results/encoding_accuracy.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> int:
    import make_bad_fixtures as fx

    from pipeline.load import load_table

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--rows", type=int, help="rows per file (default 4 to 12); 1 is the hardest")
    args = parser.parse_args()
    outcomes: dict[str, Counter[str]] = {}
    started = time.perf_counter()
    for seed in range(100, 100 + args.seeds):
        for index, (pool, codec, _) in enumerate(fx.ENCODED):
            _, data, texts, _ = fx.encoded_case(seed, index, rows=args.rows or 4 + seed % 9)
            table = load_table(data, filename="x.csv")
            if table.frame["text"].tolist() == texts:
                outcome = "exact"
            elif (table.report.encoding_confidence or 1.0) < 0.75 and table.report.warnings:
                outcome = "flagged"
            else:
                outcome = "silent_mojibake"
            outcomes.setdefault(f"{pool}/{codec}", Counter())[outcome] += 1
        data, texts = fx.mixed_utf8_legacy(seed, utf8_rows=1 + seed % 5, legacy_rows=3 + seed % 11)
        table = load_table(data, filename="m.csv")
        outcome = "exact" if table.frame["text"].tolist() == texts else "silent_mojibake"
        outcomes.setdefault("mixed/utf-8+cp1252", Counter())[outcome] += 1
    total: Counter[str] = Counter()
    for case, counts in sorted(outcomes.items()):
        total.update(counts)
        print(f"{case:24} " + "  ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"{'all':24} " + "  ".join(f"{k} {v}" for k, v in sorted(total.items())))
    seconds = time.perf_counter() - started
    print(f"{sum(total.values())} files in {seconds:.1f} s")
    suffix = f"_rows{args.rows}" if args.rows else ""
    out = ROOT / "bench" / "results" / f"encoding_accuracy{suffix}.json"
    out.write_text(
        json.dumps(
            {
                "seeds": args.seeds,
                "rows": args.rows or "4 to 12",
                "cases": {k: dict(v) for k, v in sorted(outcomes.items())},
                "total": dict(total),
                "seconds": round(seconds, 1),
                "note": "2-core machine shared with other sessions",
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
