"""``feedback-topics drivers`` and ``feedback-topics segments``: the Drivers page's reads on a run folder.

    feedback-topics drivers RUN [--rating-column nps --scale nps] [--out drivers.csv]
    feedback-topics segments RUN --column country [--a DE [--b FR]] [--correction holm|bh] [--out s.csv]

The run's edits are applied first. ``segments`` without ``--a`` writes the topic x segment breakdown;
with ``--a`` it compares segment A with B (or with every other row). Writes a CSV (UTF-8 with BOM)
and prints a summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd


def add_parser(sub: Any) -> None:
    drivers = sub.add_parser("drivers", help="which topics pull the rating or NPS down, ranked by impact")
    drivers.add_argument("run", type=Path, help="a run folder written by 'feedback-topics run --out'")
    drivers.add_argument(
        "--rating-column", help="the rating or NPS column (default: the run's, else detected)"
    )
    drivers.add_argument("--scale", choices=("auto", "mean", "nps"), default="auto")
    drivers.add_argument("--method", choices=("t", "bootstrap"), default="t", help="confidence intervals")
    drivers.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    drivers.add_argument("--out", type=Path, help="CSV to write (default: print only)")
    segments = sub.add_parser("segments", help="topics by any column; compare two segments with significance")
    segments.add_argument("run", type=Path, help="a run folder written by 'feedback-topics run --out'")
    segments.add_argument("--column", required=True, help="the segment column (country, plan, channel...)")
    segments.add_argument("--a", help="segment A (a value of the column); without it: the full breakdown")
    segments.add_argument("--b", help="segment B (default: every row not in A)")
    segments.add_argument("--correction", choices=("holm", "bh", "none"), default="holm")
    segments.add_argument("--out", type=Path, help="CSV to write (default: print only)")


def main(args: argparse.Namespace) -> int:
    from pipeline.compare_cli import _open

    result = _open(args.run)
    frame = _drivers(result, args) if args.command == "drivers" else _segments(result, args)
    if args.out:
        from pipeline.export import to_csv_bytes
        from pipeline.files import atomic_write_bytes

        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(args.out, to_csv_bytes(frame))
        print(f"Written to {args.out}")
    return 0


def _drivers(result: Any, args: argparse.Namespace) -> pd.DataFrame:
    from pipeline.errors import DataError
    from pipeline.explore.drivers import rating_column_for, rating_drivers

    column = args.rating_column or rating_column_for(result)[0]
    if column is None:
        raise DataError(
            "No rating column found in this run; name one with --rating-column.", code="no_ratings"
        )
    found = rating_drivers(result, column=column, scale=args.scale, method=args.method, seed=args.seed)
    low, high = found.overall_ci
    print(
        f"{found.column}: {found.scale.reason}; overall {found.overall:.2f} (95% {low:.2f}-{high:.2f}), "
        f"{found.n_rated} rated rows. Largest impact ({found.scale.unit} gained without the topic's complaints):"
    )
    for row in found.frame.head(10).itertuples():
        print(
            f"  {int(row.rank):>3}. topic {int(row.topic_id):>4}  {str(row.name)[:40]:<40}  "
            f"{row.rating_mean:6.2f} vs {row.rating_mean_rest:6.2f}  impact {row.rating_impact:+.3f}"
        )
    return found.frame


def _segments(result: Any, args: argparse.Namespace) -> pd.DataFrame:
    from pipeline.explore.segments import compare_segments, segment_breakdown

    if not args.a:
        frame = segment_breakdown(result, column=args.column)
        print(
            f"{frame['topic_id'].nunique()} topics x {frame['segment'].nunique()} segments of {args.column!r}."
        )
        return frame
    frame = compare_segments(result, column=args.column, a=args.a, b=args.b, correction=args.correction)
    against = args.b or "every other row"
    print(
        f"{args.column}={args.a!r} against {against!r} ({args.correction}-corrected two-proportion z-tests):"
    )
    for row in frame[frame["direction"] != "same"].itertuples():
        print(
            f"  {row.direction:>5}  topic {int(row.topic_id):>4}  {str(row.name)[:40]:<40}  "
            f"{100 * row.share_a:5.1f}% vs {100 * row.share_b:5.1f}%  p_adj={row.p_adjusted:.3g}"
        )
    return frame
