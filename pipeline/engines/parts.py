"""Parquet parts of ``assignments`` for large runs (the Ray engine writes them beside the CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.types import RunResult

PARTS_MIN_ROWS = 250_000
"""From this many rows on (where ``report.xlsx`` is skipped) ``assignments/part-*.parquet`` is written."""
PART_ROWS = 1_000_000
PARTS_FOLDER = "assignments"
CSV_PARTS_FOLDER = "assignments_csv"
"""Beside a streamed run's parts: the same rows as CSV bodies (no header), written by the workers."""


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


def write_csv_from_parts(path: Path, parts: Path) -> None:
    """``assignments.csv`` (BOM, header, every row) from a streamed run's parts, without holding them.

    The workers wrote each part's rows as a CSV body too (``CSV_PARTS_FOLDER`` beside ``parts``,
    formatted by :func:`pipeline.export.to_csv_bytes`, whose formatting depends on a column's dtype
    only, so the bodies joined are the CSV of all rows); they are joined here. Parts without a
    body are converted from Parquet, one at a time.
    """
    import shutil

    import pyarrow.parquet as pq

    from pipeline.export import to_csv_bytes
    from pipeline.files import atomic_write

    names = sorted(parts.glob("part-*.parquet"))
    bodies = parts.parent / CSV_PARTS_FOLDER

    def write(handle: Any) -> None:
        if not names:
            return
        header = pq.read_table(names[0]).schema.empty_table().to_pandas()
        handle.write(to_csv_bytes(header, bom=True, header=True))
        for part in names:
            body = bodies / f"{part.stem}.csv"
            if body.is_file():
                with body.open("rb") as source:
                    shutil.copyfileobj(source, handle, 1 << 20)
            else:
                handle.write(to_csv_bytes(pq.read_table(part).to_pandas(), bom=False, header=False))

    atomic_write(path, write)
