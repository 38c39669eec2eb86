"""Stage 1, load: read any table an analyst has (CSV/TSV, XLSX, JSONL, Parquet) from bytes.

:func:`load_table` is the single entry point used by the CLI and the dashboard. It never raises
anything but :class:`~pipeline.errors.LoadError`, whose ``user_message`` says what is wrong, where,
and what to do. Every cell is read as its exact text, every data line becomes a row (bad lines
too, marked ``bad_line``), and every change is recorded in the :class:`~pipeline.types.LoadReport`,
so ``report.rows_read == len(frame) == len(row_status)`` always holds.

Safety: the format is sniffed from the content (magic bytes), not trusted from the file name;
pickles are never unpickled; XLSX files are checked for zip bombs, XML entity declarations,
encryption and macros before openpyxl runs, and are read with ``read_only=True, data_only=True``
(formulas are never evaluated).
"""

from __future__ import annotations

import hashlib
import logging

from pipeline.errors import LoadError
from pipeline.load._csv import _load_csv
from pipeline.load._encoding import CJK_ENCODINGS, FALLBACK_ENCODINGS, _decode
from pipeline.load._jsonl import _load_jsonl, _looks_json
from pipeline.load._parquet import _load_parquet
from pipeline.load._records import _DEFAULTS, DELIMITERS, _mb
from pipeline.load._sniff import _sniff
from pipeline.load._xlsx import _load_xlsx
from pipeline.types import LoadedTable, LoadOptions

__all__ = ["CJK_ENCODINGS", "DELIMITERS", "FALLBACK_ENCODINGS", "load_table"]

logger = logging.getLogger(__name__)


def load_table(data: bytes, *, filename: str, options: LoadOptions = _DEFAULTS) -> LoadedTable:
    """Read a feedback table from the bytes of a file.

    Args:
        data: The file's bytes, exactly as uploaded.
        filename: The file's name; its extension is a hint only, the content decides the format.
        options: Encoding/delimiter/header/sheet overrides and size limits.

    Returns:
        The table (every cell an exact string, missing cells ``""``), its load report, and a status
        per row (``"ok"`` or ``"bad_line"``).

    Raises:
        LoadError: The file cannot be read; ``code`` says why and ``user_message`` what to do.
    """
    try:
        return _load(bytes(data), filename=filename or "", options=options)
    except LoadError:
        raise
    except MemoryError as exc:
        raise LoadError(
            f"{filename} is too large to read in the memory available. Split the file or lower "
            "the row limit.",
            code="too_large",
            detail=repr(exc),
        ) from None
    except RecursionError as exc:
        raise LoadError(
            f"{filename} is nested too deeply to read. Flatten it to one record per row.",
            code="unreadable",
            detail=repr(exc),
        ) from None
    except Exception as exc:  # the contract: only LoadError leaves this function
        logger.exception("unexpected error while loading %s", filename)
        raise LoadError(
            f"{filename} could not be read ({type(exc).__name__}). Save it again as UTF-8 CSV or "
            "XLSX and retry; if it still fails, report the problem with the file attached.",
            code="unreadable",
            detail=repr(exc),
        ) from None


def _load(data: bytes, *, filename: str, options: LoadOptions) -> LoadedTable:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or "the file"
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if not data:
        raise LoadError(
            f"{name} is empty (0 bytes). Check that the export finished and upload it again.", code="empty"
        )
    if len(data) > options.max_bytes:
        raise LoadError(
            f"{name} is {_mb(len(data))}, over the {_mb(options.max_bytes)} limit. Split the file or "
            "raise the limit (LoadOptions.max_bytes).",
            code="too_large",
        )
    sha = hashlib.sha256(data).hexdigest()
    kind = _sniff(data, name=name, ext=ext)
    base = {"filename": name, "sha256": sha}
    if kind == "xlsx":
        return _load_xlsx(data, name=name, ext=ext, options=options, base=base)
    if kind == "parquet":
        return _load_parquet(data, name=name, options=options, base=base)
    text, enc = _decode(data, name=name, options=options)
    if kind in ("xlsx-named-text", "text") and ext in (".xlsx", ".xlsm", ".xls", ".parquet"):
        enc.warnings.append(f"{name} is named {ext} but contains plain text; it was read as a text table.")
    if ext in (".jsonl", ".ndjson", ".json") or (
        ext not in (".csv", ".tsv", ".tab", ".txt") and _looks_json(text)
    ):
        return _load_jsonl(text, name=name, options=options, base=base, enc=enc)
    return _load_csv(text, name=name, ext=ext, options=options, base=base, enc=enc)
