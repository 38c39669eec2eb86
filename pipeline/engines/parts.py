"""Parquet parts of ``assignments`` for large runs (the Ray engine writes them beside the CSV)."""

from __future__ import annotations

from pathlib import Path

from pipeline.types import RunResult

PARTS_MIN_ROWS = 250_000
"""From this many rows on (where ``report.xlsx`` is skipped) ``assignments/part-*.parquet`` is written."""
PART_ROWS = 1_000_000
PARTS_FOLDER = "assignments"


def write_parts(
    result: RunResult, folder: Path, *, min_rows: int = PARTS_MIN_ROWS, part_rows: int = PART_ROWS
) -> list[Path]:
    """Write ``folder/assignments/part-00000.parquet``... (the columns of ``assignments.csv``).

    Returns:
        ``[folder/assignments]`` when parts were written, else ``[]`` (fewer than ``min_rows`` rows).
        A streamed run (``result.row_parts``) always has them: its workers wrote them.
    """
    if result.row_parts is not None:  # a streamed run: its workers wrote the parts already
        return [_copy_parts(Path(result.row_parts), folder / PARTS_FOLDER)]
    if result.ledger.rows_read < min_rows:
        return []
    from pipeline.export import assignments_frame

    frame = assignments_frame(result)
    out = folder / PARTS_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    for number, start in enumerate(range(0, len(frame), part_rows)):
        part = frame.iloc[start : start + part_rows]
        part.to_parquet(out / f"part-{number:05d}.parquet", index=False)
    return [out]


def _copy_parts(source: Path, out: Path) -> Path:
    """Link (or, across file systems, copy) a streamed run's parts into ``out``."""
    import os
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    for part in sorted(source.glob("part-*.parquet")):
        target = out / part.name
        try:
            os.link(part, target)
        except OSError:
            shutil.copy2(part, target)
    return out
