"""CSV/TSV: dialect sniffing, a fast pandas path for clean files, a careful path with line numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd

from pipeline.errors import LoadError
from pipeline.load._encoding import _Encoding
from pipeline.load._records import (
    _BAD,
    _MAX_BANNER,
    _SNIFF_RECORDS,
    DELIMITERS,
    _clip,
    _finish,
    _Records,
    _show,
)
from pipeline.types import STATUS_OK, LoadedTable, LoadOptions, RowIssue


def _load_csv(
    text: str, *, name: str, ext: str, options: LoadOptions, base: dict[str, Any], enc: _Encoding
) -> LoadedTable:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise LoadError(
            f"{name} contains no columns: it is blank or whitespace only. Check the export and upload again.",
            code="no_columns",
        )
    warnings = list(enc.warnings)
    directive_lines = 0
    delimiter = _option_delimiter(options.delimiter)
    m = re.match(r"\s*sep=(.)\s*?(\r\n|\r|\n|$)", text[:16], flags=re.IGNORECASE)
    if m:
        directive_lines = 1
        text = text[m.end() :]
        if delimiter is None:
            delimiter = m.group(1)
        warnings.append(f"Excel 'sep={m.group(1)}' line honoured (delimiter {_show(m.group(1))}).")
    header_row = options.header_row
    if delimiter is None or header_row is None:
        sniffed, sniffed_header = _sniff_dialect(text, ext=ext, delimiter=delimiter)
        delimiter = delimiter if delimiter is not None else sniffed
        header_row = header_row if header_row is not None else sniffed_header
    records = _parse_csv(text, name=name, delimiter=delimiter, header_row=header_row, options=options)
    records.skipped_lines += directive_lines
    if directive_lines:
        records.lines = [n + 1 for n in records.lines]
        records.issues = [RowIssue(i.row, i.line + 1, i.reason, i.detail) for i in records.issues]
    records.warnings[:0] = warnings
    fmt = "tsv" if delimiter == "\t" and ext in (".tsv", ".tab") else "csv"
    return _finish(
        records,
        name=name,
        options=options,
        base=base,
        fmt=fmt,
        encoding=enc,
        delimiter=delimiter if delimiter != "" else None,
    )


def _option_delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    named = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "none": ""}
    value = named.get(value.lower(), value)
    if len(value) > 1:
        raise LoadError(
            f"The delimiter must be a single character (got {value!r}). Use one of , ; tab |.",
            code="bad_option",
        )
    if value in ('"', "\n", "\r"):
        raise LoadError(f"{value!r} cannot be a delimiter. Use one of , ; tab |.", code="bad_option")
    return value


def _lone_delimiter(text: str) -> str:
    """A field separator that does not occur in the text (for single-column files)."""
    for candidate in ("\x1f", "\x1e", "\x1d", "\x1c", "\ue000", "\uffff"):
        if candidate not in text:
            return candidate
    return "\x00"


def _sniff_records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text[:2_000_000], newline=""), delimiter=delimiter)
    out: list[list[str]] = []
    try:
        for rec in reader:
            if rec and any(f.strip() for f in rec):
                out.append(rec)
                if len(out) >= limit:
                    break
    except csv.Error:
        pass
    return out


def _width(rec: list[str]) -> int:
    n = len(rec)
    while n > 1 and not rec[n - 1].strip():
        n -= 1
    return n


def _sniff_dialect(text: str, *, ext: str, delimiter: str | None) -> tuple[str, int]:
    """Pick the delimiter (among , ; tab |) and the header row (skipping banner lines).

    For each candidate, the header is the first of the first 20 records whose width (fields, not
    counting trailing empty ones) is at least 2 and matches at least half of the following records,
    with few wider records. The best candidate fits most records with the fewest skipped lines.
    Returns ``("", 0)`` for a single-column file.
    """
    candidates = (delimiter,) if delimiter is not None else DELIMITERS
    best: tuple[float, int, int, int] | None = None
    choice = ("", 0)
    for position, delim in enumerate(candidates):
        if delim == "":
            continue
        records = _sniff_records(text, delim, _SNIFF_RECORDS)
        widths = [_width(r) for r in records]
        raw = [len(r) for r in records]
        for start in range(min(_MAX_BANNER, len(widths))):
            w = widths[start]
            if w < 2:
                continue
            rest = list(zip(widths[start + 1 :], raw[start + 1 :], strict=True))
            if not rest:
                if start:
                    break
                rest = [(w, w)]
            # a record matches when adding or removing trailing empty fields gives it w fields
            exact = sum(1 for x, n in rest if x <= w <= n) / len(rest)
            wider = sum(1 for x, _ in rest if x > w) / len(rest)
            if exact < 0.5 or wider > 0.5:
                continue
            fits = sum(1 for x, _ in rest if x <= w) / len(rest)
            tab_bonus = 1 if (delim == "\t" and ext in (".tsv", ".tab")) else 0
            key = (round(exact + fits, 3), tab_bonus, -start, -position)
            if best is None or key > best:
                best, choice = key, (delim, start)
            break
    if delimiter is not None and choice == ("", 0):
        return delimiter, 0
    if choice[0] == "":
        # No clean fit (a small, very ragged file): take the delimiter that splits the first line and
        # most others; otherwise it is a single-column file whose header is the first line.
        fallback: tuple[float, str] = (0.0, "")
        for delim in candidates:
            widths = [_width(r) for r in _sniff_records(text, delim, _SNIFF_RECORDS)] if delim else []
            if widths and widths[0] >= 2:
                share = sum(1 for x in widths if x >= 2) / len(widths)
                if share >= 0.5 and share > fallback[0]:
                    fallback = (share, delim)
        return fallback[1], 0
    return choice


def _parse_csv(text: str, *, name: str, delimiter: str, header_row: int, options: LoadOptions) -> _Records:
    field_delim = delimiter or _lone_delimiter(text)
    csv.field_size_limit(max(131072, len(text) + 1))
    fast = _fast_csv(text, name=name, delimiter=field_delim, header_row=header_row, options=options)
    if fast is not None:
        return fast
    try:
        return _read_records(
            text, name=name, delimiter=field_delim, header_row=header_row, options=options, strict=True
        )
    except _QuoteQuirk:
        records = _read_records(
            text, name=name, delimiter=field_delim, header_row=header_row, options=options, strict=False
        )
        records.warnings.append(
            "Some quoted fields had text after the closing quote; they were read leniently."
        )
        return records


def _fast_csv(
    text: str, *, name: str, delimiter: str, header_row: int, options: LoadOptions
) -> _Records | None:
    """Parse a well-formed CSV with pandas' C engine; ``None`` sends the file to the careful path.

    The careful path (:func:`_read_records`) handles ragged rows, unclosed quotes and quote quirks
    with line numbers; this path is only taken when every row fits the header.
    """
    consumed = 0

    def physical_lines() -> Iterator[str]:
        nonlocal consumed
        for line in io.StringIO(text, newline=""):
            consumed += len(line)
            yield line

    reader = csv.reader(physical_lines(), delimiter=delimiter)
    header: list[str] | None = None
    seen = skipped = 0
    banner: list[str] = []
    try:
        for rec in reader:
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                skipped += 1
                continue
            if seen < header_row:
                seen += 1
                skipped += 1
                banner.append(delimiter.join(rec))
                continue
            header = rec
            break
    except csv.Error:
        return None
    if header is None:
        return None
    header_end = reader.line_num
    body = text[consumed:]
    if not body.strip():
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            sep=delimiter,
            header=None,
            names=list(range(len(header))),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            engine="c",
            on_bad_lines="error",
            index_col=False,
            quotechar='"',
            doublequote=True,
        )
    except Exception:  # ragged rows, unclosed quotes, odd quoting: the careful path explains them
        return None
    if len(frame) > options.max_rows:
        raise LoadError(
            f"{name} has {len(frame):,} data rows, over the {options.max_rows:,} limit. Split the file, "
            "sample it, or raise the limit (LoadOptions.max_rows / --max-rows).",
            code="too_many_rows",
        )
    out = _Records(
        header=list(header),
        rows=[],
        lines=[],
        status=[STATUS_OK] * len(frame),
        columns=[frame[c] for c in frame.columns],
        line_source=lambda: _record_lines(body, delimiter, header_end),
    )
    out.header_row = header_row
    out.skipped_lines = skipped
    if banner:
        shown = "; ".join(_clip(b, 60) for b in banner[:3])
        out.warnings.append(f"Skipped {len(banner)} line(s) above the header: {shown}.")
    return out


def _record_lines(body: str, delimiter: str, offset: int) -> list[int]:
    """Start line of every non-blank record in ``body`` (which begins after line ``offset``)."""
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    out: list[int] = []
    prev_end = 0
    for rec in reader:
        start = prev_end + 1
        prev_end = reader.line_num
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue
        out.append(offset + start)
    return out


class _QuoteQuirk(Exception):
    """Strict CSV parsing met a quote the lenient parser accepts."""


def _read_records(
    text: str, *, name: str, delimiter: str, header_row: int, options: LoadOptions, strict: bool
) -> _Records:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    status: list[str] = []
    issues: list[RowIssue] = []
    banner: list[str] = []
    skipped = 0
    prev_end = 0
    width = 0
    trailing_empty = 0
    short_rows = 0
    seen = 0
    max_rows = options.max_rows
    append_row, append_line, append_status = rows.append, lines.append, status.append
    try:
        for rec in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                skipped += 1
                continue
            if header is None:
                if seen < header_row:
                    seen += 1
                    skipped += 1
                    banner.append(delimiter.join(rec))
                    continue
                header = rec
                width = len(header)
                continue
            n = len(rec)
            if n == width:
                append_row(rec)
                append_line(start)
                append_status(STATUS_OK)
            elif n > width:
                if not any(f.strip() for f in rec[width:]):
                    trailing_empty += 1
                    append_row(rec[:width])
                    append_status(STATUS_OK)
                else:
                    raw = delimiter.join(rec)
                    issues.append(
                        RowIssue(
                            len(rows),
                            start,
                            _BAD,
                            f"{n} fields where the header has {width}: {_clip(raw)}",
                        )
                    )
                    append_row([*rec[: width - 1], delimiter.join(rec[width - 1 :])] if width else [raw])
                    append_status(_BAD)
                append_line(start)
            else:
                short_rows += 1
                append_row(rec + [""] * (width - n))
                append_line(start)
                append_status(STATUS_OK)
            if len(rows) > max_rows:
                raise LoadError(
                    f"{name} has more than {max_rows:,} data rows (the limit). Split the file, sample it, "
                    "or raise the limit (LoadOptions.max_rows / --max-rows).",
                    code="too_many_rows",
                )
    except csv.Error as exc:
        message = str(exc)
        if "unexpected end of data" in message or "EOF" in message:
            data_row = len(rows) + 1
            raise LoadError(
                f'{name} has an unclosed quote (") starting at line {prev_end + 1} (data row {data_row}): '
                "everything after it would be one cell. Close or remove that quote and upload again, "
                "or re-export the file with quoting.",
                code="unclosed_quote",
                detail=message,
            ) from None
        if strict:
            raise _QuoteQuirk(message) from None
        raise LoadError(
            f"{name} could not be parsed as CSV near line {prev_end + 1}: {message}. Check the quoting "
            "there, or choose the delimiter explicitly.",
            code="csv_syntax",
            detail=message,
        ) from None
    if header is None:
        raise LoadError(
            f"{name} contains no columns (no header line was found). Check the file and upload again.",
            code="no_columns",
        )
    out = _Records(header=list(header), rows=rows, lines=lines, status=status, issues=issues)
    out.header_row = header_row
    out.skipped_lines = skipped
    if banner:
        shown = "; ".join(_clip(b, 60) for b in banner[:3])
        out.warnings.append(f"Skipped {len(banner)} line(s) above the header: {shown}.")
    if trailing_empty:
        out.warnings.append(
            f"{trailing_empty} row(s) ended with extra empty fields (trailing delimiters); ignored."
        )
    if short_rows:
        out.warnings.append(f"{short_rows} row(s) had fewer fields than the header; missing cells are empty.")
    return out
