"""CSV/TSV: dialect sniffing, a fast pandas path for clean files, a careful path with line numbers."""

from __future__ import annotations

import csv
import io
import re
import warnings
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
    shift = directive_lines
    if options.header_row is None and header_row == 0 and _header_is_data(records):
        # No header row: the first line is data. Name the columns and read it as row 1.
        first = _clip(delimiter.join(records.header) if delimiter else records.header[0], 80)
        names = [f"column_{i + 1}" for i in range(len(records.header))]
        synthetic = (delimiter or "").join(names) + "\n"
        records = _parse_csv(synthetic + text, name=name, delimiter=delimiter, header_row=0, options=options)
        shift -= 1
        warnings.append(
            f"The first line of {name} ({first}) looks like data, not column names, so it was read as "
            f"row 1 and the columns were named {names[0]}…{names[-1]}. If it is the header, choose "
            "header row 0 (--header-row 0)."
        )
    records.skipped_lines += directive_lines
    if shift:
        _shift_lines(records, shift)
    _flag_spanning_quotes(records, delimiter=delimiter, name=name)
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


_NUMBER_RE = re.compile(r"^\s*[-+]?\d+(?:[.,]\d+)?\s*$")
_DATE_RE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$")


def _column_cells(records: _Records, column: int, limit: int = 200) -> list[str]:
    if records.columns is not None:
        return [str(v) for v in list(records.columns[column][:limit])]
    return [row[column] for row in records.rows[:limit] if column < len(row)]


def _header_is_data(records: _Records) -> bool:
    """Whether the "header" is a data row: a number over a column of numbers beside a sentence."""
    header = records.header
    if len(header) < 2 or not records.status:
        return False
    numeric_over_numbers = sentence = False
    for column, cell in enumerate(header):
        values = [v for v in _column_cells(records, column) if v.strip()]
        if not values:
            continue
        share = sum(1 for v in values if _NUMBER_RE.match(v)) / len(values)
        dates = sum(1 for v in values if _DATE_RE.match(v)) / len(values)
        if (_NUMBER_RE.match(cell) and share >= 0.8) or (_DATE_RE.match(cell) and dates >= 0.8):
            numeric_over_numbers = True  # a number over numbers, a date over dates: a data row
        elif share < 0.5:
            size = len(cell.strip())
            typical = sorted(len(v.strip()) for v in values)[len(values) // 2]
            if size >= 20 or (size >= 4 and (len(cell.split()) >= 2 or size >= typical / 3)):
                sentence = True  # as long as the answers below it, unlike a column name
    return numeric_over_numbers and sentence


def _shift_lines(records: _Records, by: int) -> None:
    """Move every line number by ``by`` (lines added above or removed from the parsed text)."""
    if records.lines:
        records.lines = [n + by for n in records.lines]
    elif records.line_source is not None:
        source = records.line_source
        records.line_source = lambda: [n + by for n in source()]
    records.issues = [RowIssue(i.row, i.line + by, i.reason, i.detail) for i in records.issues]


def _flag_spanning_quotes(records: _Records, *, delimiter: str, name: str) -> None:
    """Flag a quoted cell whose line breaks hide lines that look like rows (an unbalanced quote).

    A stray quote opens a field that only the next stray quote closes; every line between becomes
    part of one cell. When at least two of the lines inside a cell split into the header's width,
    the row is marked ``bad_line`` and reported, so the swallowed rows are not lost silently.
    """
    width = len(records.header)
    if width < 2 or not delimiter:
        return
    first = [v for v in _column_cells(records, 0) if v.strip()]
    numeric_ids = bool(first) and sum(1 for v in first if _NUMBER_RE.match(v)) / len(first) >= 0.8

    def like_row(line: str) -> bool:
        if line.count(delimiter) != width - 1:
            return False
        return not numeric_ids or bool(_NUMBER_RE.match(line.split(delimiter, 1)[0]))

    flagged: list[tuple[int, int]] = []
    for column in range(width):
        if records.columns is not None:
            series = records.columns[column]
            values = series if isinstance(series, pd.Series) else pd.Series(list(series), dtype=str)
            candidates = values.index[values.str.contains("\n", regex=False)].tolist()
            cells = [(int(i), str(values[i])) for i in candidates]
        else:
            cells = [(i, row[column]) for i, row in enumerate(records.rows) if "\n" in row[column]]
        for row, cell in cells:
            inner = cell.splitlines()[1:]
            like_rows = sum(1 for line in inner if like_row(line))
            if like_rows >= 2 and like_rows * 2 >= len(inner):
                flagged.append((row, like_rows))
    if not flagged:
        return
    shown: list[str] = []
    for row, like_rows in sorted(set(flagged)):
        line = records.line(row)
        if records.status[row] != _BAD:
            records.status[row] = _BAD
            records.issues.append(
                RowIssue(
                    row,
                    line,
                    _BAD,
                    f"a quote opened at line {line} runs over {like_rows} line(s) that look like rows; "
                    "they were read as one cell",
                )
            )
        shown.append(str(line))
    records.warnings.append(
        f'{name}: {len(shown)} row(s) hold an unbalanced quote (") that swallows the lines after it '
        f"(starting at line {', '.join(shown[:10])}); they are marked 'bad_line'. Fix or remove that "
        "quote and upload again."
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
            if raw[start] > w and sum(1 for x, _ in rest if x == raw[start]) / len(rest) >= 0.5:
                w = raw[start]  # the header's last column(s) have no name but hold data
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
        with warnings.catch_warnings():
            # "Length of header or names does not match length of data. This leads to a loss of
            # data": a row with more fields than the header; the careful path reports it instead.
            warnings.simplefilter("error", pd.errors.ParserWarning)
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
