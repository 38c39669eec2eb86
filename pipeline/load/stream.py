"""Input that streams: a folder or glob of Parquet / CSV / JSONL files, read in batches.

Rows are numbered in file-name order, then row order within each file. Parquet files are read
one row-group batch at a time (``pyarrow.parquet.ParquetFile.iter_batches``), so memory grows
with the batch, not the file; every other format is read one file at a time through
:func:`pipeline.load.load_table` (each file is bounded by ``LoadOptions.max_bytes``) and then
handed on in batches. Every file's rows and row issues are counted in the
:class:`~pipeline.types.LoadReport` (``sources``), so the run's ledger covers every file.

:func:`iter_batches` is what the Ray engine's read tasks run over one shard;
:func:`load_input` is what the local engine calls (it materialises the batches as one table).
"""

from __future__ import annotations

import glob
import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import LoadError
from pipeline.types import STATUS_OK, LoadedTable, LoadOptions, LoadReport, RowIssue, SourceFile

logger = logging.getLogger(__name__)

STREAM_EXTENSIONS: tuple[str, ...] = (".parquet", ".csv", ".tsv", ".jsonl", ".ndjson")
"""File kinds taken from a folder or glob (other files in the folder are ignored)."""
BATCH_ROWS = 65_536
"""Rows per batch read from a Parquet file (and handed on from other files)."""
SOURCE_COLUMN = "source_file"
"""Column of ``assignments`` naming the file each row came from (folder and glob inputs)."""


@dataclass(frozen=True)
class InputFiles:
    """Several input files, in the order their rows are numbered (by file name)."""

    given: str
    """What the analyst gave: a folder or a glob."""
    paths: tuple[Path, ...]

    @property
    def label(self) -> str:
        return f"{self.given} ({len(self.paths)} files)"


@dataclass(frozen=True)
class Batch:
    """Consecutive rows of one file, every cell a string."""

    file_index: int
    source_file: str
    first_row: int
    """Row within the file of the batch's first row (0-based)."""
    frame: pd.DataFrame
    row_status: tuple[str, ...]
    issues: tuple[RowIssue, ...] = ()
    """Issues of these rows, numbered within the file."""


def is_multi_input(given: str | Path) -> bool:
    """True when ``given`` names a folder or a glob pattern rather than one file."""
    text = str(given)
    return Path(text).is_dir() or any(ch in text for ch in "*?[")


def input_files(given: str | Path) -> InputFiles:
    """The data files of a folder (not its subfolders) or glob, sorted by file name.

    Raises:
        LoadError: Nothing matches, or nothing that matches is a Parquet, CSV, TSV or JSONL file.
    """
    text = str(given)
    if Path(text).is_dir():
        candidates = [p for p in Path(text).iterdir() if p.is_file()]
    else:
        candidates = [Path(p) for p in glob.glob(text) if Path(p).is_file()]
    paths = sorted(
        (p for p in candidates if p.suffix.lower() in STREAM_EXTENSIONS and not p.name.startswith(".")),
        key=lambda p: (p.name, str(p)),
    )
    if not paths:
        kinds = ", ".join(STREAM_EXTENSIONS)
        raise LoadError(
            f"{text} contains no input files ({kinds}). Check the folder or pattern.", code="not_found"
        )
    return InputFiles(given=text, paths=tuple(paths))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def iter_batches(
    path: Path,
    *,
    file_index: int,
    options: LoadOptions,
    batch_rows: int = BATCH_ROWS,
    row_groups: Sequence[int] | None = None,
    first_row: int = 0,
) -> Iterator[Batch]:
    """The rows of one file as batches (``row_groups``: only these Parquet row groups).

    Raises:
        LoadError: The file cannot be read (the message names it).
    """
    if path.suffix.lower() == ".parquet":
        yield from _parquet_batches(
            path, file_index=file_index, options=options, batch_rows=batch_rows, row_groups=row_groups,
            first_row=first_row,
        )  # fmt: skip
        return
    from pipeline.load import load_table

    table = load_table(path.read_bytes(), filename=path.name, options=options)
    by_row: dict[int, list[RowIssue]] = {}
    for issue in table.report.issues:
        by_row.setdefault(issue.row, []).append(issue)
    for start in range(0, len(table.frame), batch_rows):
        stop = min(start + batch_rows, len(table.frame))
        issues = tuple(i for r in range(start, stop) for i in by_row.get(r, ()))
        yield Batch(
            file_index=file_index,
            source_file=path.name,
            first_row=start,
            frame=table.frame.iloc[start:stop].reset_index(drop=True),
            row_status=table.row_status[start:stop],
            issues=issues,
        )


def _parquet_batches(
    path: Path,
    *,
    file_index: int,
    options: LoadOptions,
    batch_rows: int,
    row_groups: Sequence[int] | None,
    first_row: int,
) -> Iterator[Batch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.load._parquet import _arrow_strings

    try:
        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_rows > options.max_rows:
            raise LoadError(
                f"{path.name} has {parquet.metadata.num_rows:,} rows, over the {options.max_rows:,} limit "
                "per file. Split it, or raise the limit (--max-rows).",
                code="too_many_rows",
            )
        row = first_row
        for record in parquet.iter_batches(batch_size=batch_rows, row_groups=row_groups):
            frame = pd.DataFrame(
                {
                    str(name): _arrow_strings(col)
                    for name, col in zip(record.schema.names, record.columns, strict=True)
                },
                dtype=str,
            )
            issues = _truncate_cells(frame, first_row=row, limit=options.max_cell_chars)
            yield Batch(file_index, path.name, row, frame, (STATUS_OK,) * len(frame), issues)
            row += len(frame)
    except LoadError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise LoadError(
            f"{path.name} is not a readable Parquet file ({exc}). Export it again or leave it out.",
            code="corrupt",
            detail=repr(exc),
        ) from None


def _truncate_cells(frame: pd.DataFrame, *, first_row: int, limit: int) -> tuple[RowIssue, ...]:
    issues: list[RowIssue] = []
    for column in frame.columns:
        lengths = frame[column].str.len()
        if len(lengths) and int(lengths.max()) > limit:
            over = lengths[lengths > limit].index
            issues += [
                RowIssue(first_row + int(r), 0, "cell_truncated", f"column {column!r}: cut to {limit:,}")
                for r in over
            ]
            frame.loc[over, column] = frame.loc[over, column].str.slice(0, limit)
    return tuple(issues)


def combine_reports(
    files: InputFiles, sources: Sequence[SourceFile], *, columns: Sequence[str], issues: Sequence[RowIssue]
) -> LoadReport:
    """One load report for all files: rows, columns, issues (numbered over all rows), per-file counts."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(f"{source.name}\x00{source.sha256}\n".encode())
    formats = sorted({s.format for s in sources})
    return LoadReport(
        filename=files.label,
        format=formats[0] if len(formats) == 1 else "mixed",
        sha256=digest.hexdigest(),
        rows_read=sum(s.rows for s in sources),
        columns=tuple(columns),
        issues=tuple(issues),
        sources=tuple(sources),
    )


def load_files(files: InputFiles, *, options: LoadOptions, batch_rows: int = BATCH_ROWS) -> LoadedTable:
    """Read every file in batches and put the rows together (what the local engine runs on).

    Columns are the union over the files, in first-seen order; a file without a column gets ``""``.
    """
    frames: list[pd.DataFrame] = []
    status: list[str] = []
    issues: list[RowIssue] = []
    sources: list[SourceFile] = []
    offset = 0
    for index, path in enumerate(files.paths):
        rows = 0
        for batch in iter_batches(path, file_index=index, options=options, batch_rows=batch_rows):
            frames.append(batch.frame)
            status.extend(batch.row_status)
            issues.extend(RowIssue(offset + i.row, i.line, i.reason, i.detail) for i in batch.issues)
            rows += len(batch.frame)
        sources.append(describe_file(path, rows=rows, first_row=offset, options=options))
        offset += rows
    if not offset:
        raise LoadError(f"{files.label} has no data rows.", code="no_rows")
    frame = pd.concat(frames, ignore_index=True, sort=False).fillna("") if frames else pd.DataFrame()
    report = combine_reports(files, sources, columns=[str(c) for c in frame.columns], issues=issues)
    logger.info("loaded %s: %d rows", files.label, len(frame))
    return LoadedTable(frame=frame, report=report, row_status=tuple(status))


def describe_file(path: Path, *, rows: int, first_row: int, options: LoadOptions) -> SourceFile:
    """The per-file entry of the load report (its hash is read in 1 MiB blocks)."""
    fmt = "parquet" if path.suffix.lower() == ".parquet" else path.suffix.lower().lstrip(".")
    return SourceFile(name=path.name, format=fmt, sha256=file_sha256(path), rows=rows, first_row=first_row)


def load_input(data: bytes | InputFiles, *, filename: str, options: LoadOptions) -> LoadedTable:
    """One file's bytes through :func:`pipeline.load.load_table`, or several files through :func:`load_files`."""
    if isinstance(data, InputFiles):
        return load_files(data, options=options)
    from pipeline.load import load_table

    return load_table(data, filename=filename, options=options)


def source_files(report: LoadReport) -> list[str] | None:
    """The ``source_file`` of every row, or ``None`` for a single-file input."""
    if not report.sources:
        return None
    out: list[str] = []
    for source in report.sources:
        out.extend([source.name] * source.rows)
    return out
