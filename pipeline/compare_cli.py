"""``feedback-topics compare``: topic shares of two runs that share a taxonomy, or of one run's periods.

    feedback-topics compare RUN_A RUN_B --out changes.csv
    feedback-topics compare RUN --date-column created_at --freq M --out alerts.csv

Both runs' edits are applied first. Writes a CSV (UTF-8 with BOM) and prints the changes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.types import RunResult


def add_parser(sub: Any) -> None:
    compare = sub.add_parser(
        "compare", help="compare topic shares between two runs sharing a taxonomy, or between periods"
    )
    compare.add_argument("runs", type=Path, nargs="+", help="one run folder (with --date-column) or two")
    compare.add_argument("--out", type=Path, help="CSV to write (default: print only)")
    compare.add_argument("--date-column", help="one run: the date column to split into periods")
    compare.add_argument("--freq", choices=("D", "W", "M"), default="M", help="period length (default M)")


def main(args: argparse.Namespace) -> int:
    from pipeline.compare import compare_periods, compare_runs
    from pipeline.errors import ConfigError
    from pipeline.export import to_csv_bytes

    runs = [_open(path) for path in args.runs]
    if len(runs) == 2 and not args.date_column:
        frame = compare_runs(runs[0], runs[1])
        shown = frame[frame["status"] != "stable"]
        print(f"{len(frame)} topics; {len(shown)} new, gone or significantly changed:")
        for _, row in shown.head(20).iterrows():
            change = (
                ""
                if row["status"] == "new"
                else f"{100 * row['share_change']:+.1f} pp, p={row['p_value']:.3g}"
            )
            print(f"  {row['status']:>8}  topic {int(row['topic_id']):>4}  {row['name'][:50]}  {change}")
    elif len(runs) == 1 and args.date_column:
        frame = compare_periods(runs[0], date_column=args.date_column, freq=args.freq)
        alerts = frame[frame["alert"] != ""]
        print(f"{len(frame)} topics; {len(alerts)} alerts (latest period beyond 2 sd of the recent mean):")
        for _, row in alerts.iterrows():
            print(
                f"  {row['alert']:>5}  topic {int(row['topic_id']):>4}  {str(row['topic'])[:50]}  z={row['z_score']:+.1f}"
            )
    else:
        raise ConfigError("Give two run folders, or one run folder with --date-column.", code="compare_args")
    if args.out:
        from pipeline.files import atomic_write_bytes

        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(args.out, to_csv_bytes(frame))
        print(f"Written to {args.out}")
    return 0


def print_taxonomy_summary(result: RunResult) -> None:
    """The lines ``run --taxonomy`` adds to its summary."""
    info = result.manifest["taxonomy"]
    print(
        f"Taxonomy of run {info['run_id']}: {info['topics_kept']} topics kept "
        f"({len(info['topics_without_rows'])} with no rows now), {len(info['new_topics'])} new topics; "
        f"{info['rows_in_taxonomy_topics']} rows joined existing topics, {info['rows_in_new_topics']} new ones."
    )


def _open(path: Path) -> RunResult:
    from pipeline.analysis import apply_edits
    from pipeline.errors import ConfigError
    from pipeline.store import load_edits, open_run

    if not (path / "run.json").exists():
        raise ConfigError(f"{path} is not a run folder (no run.json).", code="not_a_run")
    return apply_edits(open_run(path), load_edits(path))
