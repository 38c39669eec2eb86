"""Excel workbooks (.xlsx), read with openpyxl in read-only, data-only mode."""

from __future__ import annotations

import io
import logging
import re
import statistics
import zipfile
from typing import Any

from pipeline.errors import LoadError
from pipeline.load._ooxml import _check_ooxml, _xml_bomb
from pipeline.load._records import (
    _MAX_BANNER,
    _MAX_ISSUES_PER_REASON,
    _SNIFF_RECORDS,
    _clip,
    _finish,
    _Records,
)
from pipeline.types import STATUS_OK, LoadedTable, LoadOptions, RowIssue

logger = logging.getLogger(__name__)


def _load_xlsx(
    data: bytes, *, name: str, ext: str, options: LoadOptions, base: dict[str, Any]
) -> LoadedTable:
    _check_ooxml(data, name=name, ext=ext, options=options)
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    warnings: list[str] = []
    if ext not in (".xlsx", ".xlsm", ""):
        warnings.append(f"{name} is named {ext} but is an Excel workbook; it was read as XLSX.")
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False, keep_vba=False
        )
    except (InvalidFileException, KeyError, zipfile.BadZipFile, OSError, ValueError, TypeError) as exc:
        raise LoadError(
            f"{name} is not a readable Excel workbook ({type(exc).__name__}). Open it in Excel, save it "
            "as .xlsx again, or export CSV (UTF-8).",
            code="corrupt",
            detail=repr(exc),
        ) from None
    except Exception as exc:
        if type(exc).__module__.startswith("defusedxml"):
            raise _xml_bomb(name) from None
        raise
    try:
        names = list(workbook.sheetnames)
        if not names:
            raise LoadError(f"{name} has no worksheets.", code="no_columns")
        sheet = options.sheet
        if sheet is None:
            sheet_name = names[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise LoadError(
                    f"{name} has {len(names)} sheet(s); sheet number {sheet} does not exist. Sheets: "
                    f"{', '.join(names)} (numbered from 0).",
                    code="no_sheet",
                )
            sheet_name = names[sheet]
        elif str(sheet) in names:
            sheet_name = str(sheet)
        else:
            raise LoadError(
                f"{name} has no sheet named {sheet!r}. Sheets: {', '.join(names)}.", code="no_sheet"
            )
        if len(names) > 1 and sheet is None:
            warnings.append(f"Read the first sheet {sheet_name!r} of {len(names)} ({', '.join(names)}).")
        worksheet = workbook[sheet_name]
        if not hasattr(worksheet, "iter_rows"):
            raise LoadError(f"Sheet {sheet_name!r} of {name} is a chart, not a table.", code="no_columns")
        if hasattr(worksheet, "reset_dimensions"):
            worksheet.reset_dimensions()
        raw_rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [_xlsx_cell(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            if not cells:
                continue
            raw_rows.append((number, cells))
            if len(raw_rows) > options.max_rows + 1 + _MAX_BANNER:
                raise LoadError(
                    f"Sheet {sheet_name!r} of {name} has more than {options.max_rows:,} rows (the limit). "
                    "Split the workbook or raise the limit (LoadOptions.max_rows / --max-rows).",
                    code="too_many_rows",
                )
    except LoadError:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith("defusedxml"):
            raise _xml_bomb(name) from None
        raise LoadError(
            f"{name} could not be read as a workbook ({type(exc).__name__}). Save it again as .xlsx or "
            "export CSV (UTF-8).",
            code="corrupt",
            detail=repr(exc),
        ) from None
    finally:
        workbook.close()
    lost = _uncalculated_formulas(data, sheet_name, raw_rows) if _has_uncalculated_formulas(data) else []
    if lost:
        # A row whose only content was such formulas read as blank and was skipped: keep it as a
        # row, so it is counted (and excluded as empty) instead of vanishing.
        seen = {number for number, _ in raw_rows}
        blank: dict[int, int] = {}
        for number, column, _ in lost:
            if number not in seen:
                blank[number] = max(blank.get(number, 0), column + 1)
        if blank:
            raw_rows = sorted([*raw_rows, *((n, [""] * w) for n, w in blank.items())], key=lambda r: r[0])
    if not raw_rows:
        raise LoadError(f"Sheet {sheet_name!r} of {name} is empty: no columns found.", code="no_columns")
    header_row = options.header_row if options.header_row is not None else _xlsx_header(raw_rows)
    if header_row >= len(raw_rows):
        raise LoadError(
            f"Header row {header_row} is past the end of sheet {sheet_name!r} ({len(raw_rows)} non-empty rows).",
            code="no_rows",
        )
    banner = raw_rows[:header_row]
    header_line, header = raw_rows[header_row]
    body = raw_rows[header_row + 1 :]
    if len(body) > options.max_rows:
        raise LoadError(
            f"Sheet {sheet_name!r} of {name} has more than {options.max_rows:,} data rows (the limit). "
            "Split the workbook or raise the limit.",
            code="too_many_rows",
        )
    width = max([len(header), *(len(c) for _, c in body)])
    header = header + [""] * (width - len(header))
    rows = [cells + [""] * (width - len(cells)) for _, cells in body]
    records = _Records(
        header=header,
        rows=rows,
        lines=[n for n, _ in body],
        status=[STATUS_OK] * len(rows),
        warnings=warnings,
        header_row=header_row,
        skipped_lines=(body[-1][0] if body else header_line) - len(body),
    )
    if lost:
        data_row = {number: index for index, (number, _) in enumerate(body)}
        for number, column, formula in lost:
            if number in data_row and len(records.issues) < _MAX_ISSUES_PER_REASON:
                label = header[column] if column < len(header) and header[column] else f"column {column + 1}"
                records.issues.append(
                    RowIssue(
                        data_row[number],
                        number,
                        "formula_no_value",
                        f"{label!r}: formula {_clip(formula, 60)} has no saved result; read as empty",
                    )
                )
        lost_rows = sorted({number for number, _, _ in lost})
        shown = ", ".join(str(number) for number in lost_rows[:10])
        warnings.append(
            f"{len(lost):,} cell(s) hold formulas with no saved result, or an empty one (spreadsheet "
            f"rows {shown}{'…' if len(lost_rows) > 10 else ''}), so they read as empty. "
            "A program that does not calculate wrote the workbook: open it in Excel or LibreOffice, "
            "save it again and upload it once more (or paste the values over the formulas)."
        )
    if banner:
        shown = "; ".join(_clip(" | ".join(c), 60) for _, c in banner[:3])
        warnings.append(
            f"Skipped {len(banner)} row(s) above the header (spreadsheet row {header_line}): {shown}."
        )
    table = _finish(
        records,
        name=name,
        options=options,
        base={**base, "sheet": sheet_name},
        fmt="xlsx",
        encoding=None,
        delimiter=None,
    )
    return table


# A formula element closing its cell with no value, or an empty one: ``<f>A1*2</f></c>``,
# ``<f>..</f><v/></c>``, ``<f t="shared" si="0"/><v></v></c>``. Excel and LibreOffice always save a
# value, so ordinary workbooks with formulas never take the second, formula-reading pass.
_FORMULA_WITHOUT_VALUE_RE = re.compile(
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)


def _has_uncalculated_formulas(data: bytes) -> bool:
    """Whether any worksheet holds a formula saved without a result (streamed, size-checked zip)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = [
                info
                for info in archive.infolist()
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            ]
            for info in sheets:
                with archive.open(info) as stream:
                    tail = b""
                    while block := stream.read(1 << 20):  # streamed: sheets can be large
                        if _FORMULA_WITHOUT_VALUE_RE.search(tail + block):
                            return True
                        tail = block[-512:]
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return False


def _uncalculated_formulas(
    data: bytes, sheet_name: str, raw_rows: list[tuple[int, list[str]]]
) -> list[tuple[int, int, str]]:
    """``(spreadsheet row, column, formula)`` of formula cells that have no cached value.

    openpyxl (and other writers that do not calculate) save formulas without a result, and
    ``data_only=True`` then reads those cells as empty. A second pass that reads the formulas
    finds them, so the loss is reported instead of silent. Only workbooks with formulas pay for it.
    """
    import openpyxl

    values = dict(raw_rows)
    lost: list[tuple[int, int, str]] = []
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False, keep_vba=False
        )
    except Exception:  # the data-only pass already read it; a failure here only loses the report
        logger.warning("could not re-read the workbook's formulas", exc_info=True)
        return lost
    try:
        worksheet = workbook[sheet_name]
        if hasattr(worksheet, "reset_dimensions"):
            worksheet.reset_dimensions()
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            for column, value in enumerate(row):
                formula = value if isinstance(value, str) else getattr(value, "text", None)
                if not isinstance(formula, str) or not formula.startswith("="):
                    continue
                cells = values.get(number, [])
                if column >= len(cells) or cells[column] == "":
                    lost.append((number, column, formula))
    except Exception:
        logger.warning("could not re-read the workbook's formulas", exc_info=True)
    finally:
        workbook.close()
    return lost


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        text = (
            value.isoformat(sep=" ")
            if hasattr(value, "hour") and hasattr(value, "date")
            else value.isoformat()
        )
        return text[:-9] if text.endswith(" 00:00:00") else text
    return str(value)


def _xlsx_header(raw_rows: list[tuple[int, list[str]]]) -> int:
    """The first row (of the first 20) whose width matches most of the rows below it."""
    widths = [len(c) for _, c in raw_rows[: _SNIFF_RECORDS + 1]]
    for start in range(min(_MAX_BANNER, len(widths))):
        rest = widths[start + 1 :]
        if not rest:
            return start
        if widths[start] >= max(2, statistics.median_low(rest)) or widths[start] >= max(rest):
            return start
    return 0
