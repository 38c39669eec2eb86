"""How long each curation edit takes, and a replay of a log, on a larger run (issue 14 part 2).

Runs the first ``--rows`` rows of waimai_10k (shared data) with the ``fake`` embedder (the edit
cost does not depend on the model: keywords, names, examples and themes are recomputed from the
texts), then times rename, split (2 and auto), move 100 rows, delete, seed, and the replay from
the base run of the log of all of them (what reopening the run costs). Prints the figures and
writes ``bench/results/curation_speed.json``.

    python bench/curation_speed.py --rows 10000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
_NAME = Path("waimai_10k") / "waimai_10k.csv"
DATA = next(
    (
        p / _NAME
        for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data")
        if (p / _NAME).exists()
    ),
    ROOT.parent / "shared" / "data" / _NAME,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--file", type=Path, default=DATA)
    args = parser.parse_args()
    import pandas as pd

    from pipeline import curation as cur
    from pipeline.config import RunConfig
    from pipeline.embedders.registry import create_embedder
    from pipeline.run import run

    frame = pd.read_csv(args.file).head(args.rows)
    data = frame.to_csv(index=False).encode("utf-8")
    t0 = time.perf_counter()
    base = run(
        data, filename="bench.csv", config=RunConfig(model="fake", use_cache=False, text_column="text")
    )
    run_s = time.perf_counter() - t0
    topics = sorted((t for t in base.topics if t.id >= 0), key=lambda t: -t.size)
    labels = base.row_labels()
    seed = cur.prepare(
        cur.Seed(name="配送慢", phrases=("送餐太慢了", "等了两个小时")),
        base,
        embedder=create_embedder("fake"),
    )
    edits = {
        "rename": cur.Rename(topic_id=topics[0].id, name="Renamed"),
        "split_2": cur.Split(topic_id=topics[0].id, n=2),
        "split_auto": cur.Split(topic_id=topics[1].id),
        "move_100_rows": cur.Move(rows=tuple(int(r) for r in np.flatnonzero(labels == topics[2].id)[:100])),
        "delete": cur.Delete(topic_id=topics[3].id, to="not_relevant"),
        "seed": seed,
    }
    times = {}
    for label, edit in edits.items():
        t1 = time.perf_counter()
        cur.apply_edit(base, edit)
        times[label] = round(time.perf_counter() - t1, 2)
        print(f"{label:>14}: {times[label]:.2f} s")
    log = cur.EditLog()
    for edit in edits.values():
        log = log.push(edit)
    t1 = time.perf_counter()
    log.replay(base)
    replay_s = round(time.perf_counter() - t1, 2)
    print(f"replay of the {len(edits)} edits from the base run: {replay_s:.2f} s (run itself {run_s:.0f} s)")
    out = {
        "rows": base.ledger.rows_read,
        "topics": len(topics),
        "run_s": round(run_s, 1),
        "edit_s": times,
        "replay_s": replay_s,
        "note": "fake embedder; 2-core machine shared with other engineers (loaded)",
    }
    path = ROOT / "bench" / "results" / "curation_speed.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {path}")


if __name__ == "__main__":
    main()
