"""Shared pieces of the loader: parsed records, the one finishing step, small text helpers."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipeline.errors import LoadError
from pipeline.load._encoding import _Encoding
from pipeline.types import LoadedTable, LoadOptions, LoadReport, RowIssue

logger = logging.getLogger(__name__)


DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
"""Delimiters considered when sniffing a CSV (others only through ``LoadOptions.delimiter``)."""


_BAD = "bad_line"


_SNIFF_RECORDS = 200


_MAX_BANNER = 20


_DETAIL_CHARS = 200


_MAX_ISSUES_PER_REASON = 100_000


_DEFAULTS = LoadOptions()


@dataclass
class _Records:
    """Parsed table records before they become a DataFrame."""

    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    status: list[str]
    issues: list[RowIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    header_row: int = 0
    skipped_lines: int = 0
    columns: list[Sequence[str]] | None = None
    """Column-wise cells (fast path); otherwise built from ``rows``."""
    line_source: Callable[[], list[int]] | None = None
    """Computes ``lines`` lazily (fast path), only when an issue needs a line number."""

    def line(self, row: int) -> int:
        """1-based line where data row ``row`` starts."""
        if not self.lines and self.line_source is not None:
            self.lines = self.line_source()
        return self.lines[row] if row < len(self.lines) else 0


def _finish(
    records: _Records,
    *,
    name: str,
    options: LoadOptions,
    base: dict[str, Any],
    fmt: str,
    encoding: _Encoding | None,
    delimiter: str | None,
) -> LoadedTable:
    """Name columns, drop empty unnamed ones, build the frame, count truncation and bad bytes."""
    warnings = list(records.warnings)
    header = [h.strip().lstrip("\ufeff").strip() for h in records.header]
    width = len(header)
    if width == 0:
        raise LoadError(f"{name} contains no columns.", code="no_columns")
    columns: list[Sequence[str]]
    if records.columns is not None:
        columns = records.columns
    elif records.rows:
        columns = list(zip(*records.rows, strict=True))
    else:
        columns = [() for _ in header]
    keep = [i for i, h in enumerate(header) if h or any(str(v).strip() for v in columns[i])]
    if not keep:
        keep = [0]
    dropped = [i for i in range(width) if i not in keep]
    if dropped:
        warnings.append(
            f"Dropped {len(dropped)} empty column(s) without a name (position "
            f"{', '.join(str(i + 1) for i in dropped)}), e.g. from trailing delimiters."
        )
    names = _unique_names([header[i] for i in keep], warnings)
    if not records.status:
        raise LoadError(
            f"{name} has a header ({', '.join(names[:8])}) but no data rows. Check that the export "
            "included the data, then upload again.",
            code="no_rows",
        )
    frame = pd.DataFrame({n: columns[i] for n, i in zip(names, keep, strict=True)}, dtype=str)
    frame.index = pd.RangeIndex(len(frame))
    issues = list(records.issues)
    limit = options.max_cell_chars
    for column in frame.columns:
        series = frame[column]
        lengths = series.str.len()
        if int(lengths.max()) > limit:
            over = lengths[lengths > limit].index
            for row in over[:_MAX_ISSUES_PER_REASON]:
                issues.append(
                    RowIssue(
                        int(row),
                        records.line(int(row)),
                        "cell_truncated",
                        f"column {column!r}: {int(lengths[row]):,} characters cut to {limit:,}",
                    )
                )
            frame.loc[over, column] = series[over].str.slice(0, limit)
    undecodable = _count_replacements(frame)
    if undecodable is not None and len(undecodable):
        for row, count in undecodable.items():
            issues.append(
                RowIssue(
                    int(row),
                    records.line(int(row)),
                    "undecodable",
                    f"{int(count)} character(s) could not be decoded and are shown as \ufffd",
                )
            )
        shown = ", ".join(str(records.line(int(r))) for r in list(undecodable.index[:10]))
        warnings.append(
            f"{len(undecodable)} row(s) contain undecodable bytes (lines {shown}"
            f"{'…' if len(undecodable) > 10 else ''}); they are shown as \ufffd. If many rows look wrong, "
            "choose another encoding."
        )
    bad = sum(1 for s in records.status if s == _BAD)
    if bad:
        warnings.append(f"{bad} line(s) could not be split into the header's columns (status 'bad_line').")
    issues.sort(key=lambda i: (i.row, i.reason))
    report = LoadReport(
        filename=name,
        format=fmt,
        sha256=base["sha256"],
        rows_read=len(frame),
        columns=tuple(frame.columns),
        encoding=encoding.name if encoding else None,
        encoding_confidence=encoding.confidence if encoding else None,
        encoding_alternatives=encoding.alternatives if encoding else (),
        delimiter=delimiter,
        header_row=records.header_row,
        sheet=base.get("sheet"),
        issues=tuple(issues),
        warnings=tuple(warnings),
        encoding_overridden=bool(encoding and encoding.overridden),
        skipped_lines=records.skipped_lines,
    )
    logger.info(
        "loaded %s: %s, %d rows, %d columns, encoding %s",
        name,
        fmt,
        len(frame),
        len(frame.columns),
        report.encoding,
    )
    return LoadedTable(frame=frame, report=report, row_status=tuple(records.status))


def _count_replacements(frame: pd.DataFrame) -> pd.Series | None:
    total: pd.Series | None = None
    for column in frame.columns:
        series = frame[column]
        if not series.str.contains("\ufffd", regex=False).any():
            continue
        counts = series.str.count("\ufffd")
        total = counts if total is None else total + counts
    if total is None:
        return None
    return total[total > 0]


def _unique_names(names: Sequence[str], warnings: list[str]) -> list[str]:
    out: list[str] = []
    used: set[str] = set()
    renamed: list[str] = []
    for position, name in enumerate(names, start=1):
        base = name or f"column_{position}"
        candidate = base
        k = 1
        while candidate in used:
            candidate = f"{base}.{k}"
            k += 1
        if candidate != name:
            renamed.append(f"{name!r} -> {candidate!r}" if name else f"(no name) -> {candidate!r}")
        used.add(candidate)
        out.append(candidate)
    if renamed:
        counts = Counter(n for n in names if n)
        dups = [n for n, c in counts.items() if c > 1]
        hint = f" Duplicate names: {', '.join(dups)}; choose the right column explicitly." if dups else ""
        warnings.append(
            f"Renamed {len(renamed)} column(s) to make names unique: {', '.join(renamed[:10])}.{hint}"
        )
    return out


def _clip(text: str, limit: int = _DETAIL_CHARS) -> str:
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delimiter, repr(delimiter))


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MB"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)
