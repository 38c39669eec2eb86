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

import codecs
import csv
import hashlib
import io
import json
import logging
import re
import statistics
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipeline.errors import LoadError
from pipeline.types import STATUS_OK, LoadedTable, LoadOptions, LoadReport, RowIssue

logger = logging.getLogger(__name__)

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
"""Delimiters considered when sniffing a CSV (others only through ``LoadOptions.delimiter``)."""

FALLBACK_ENCODINGS: tuple[str, ...] = ("gb18030", "big5", "cp932", "cp949", "cp1252", "cp1251", "latin-1")
"""Encodings offered as alternatives when detection is unsure (GB18030 first for CJK)."""

CJK_ENCODINGS = frozenset({"gb18030", "big5", "cp932", "cp949", "euc_jp", "euc-jp", "johab", "big5hkscs"})
_BAD = "bad_line"
_SNIFF_RECORDS = 200
_MAX_BANNER = 20
_DETAIL_CHARS = 200
_MAX_ISSUES_PER_REASON = 100_000

# (magic prefix, description, what to do)
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "upload the feedback table (CSV, XLSX, JSONL or Parquet) instead"),
    (b"\xff\xd8\xff", "a JPEG image", "upload the feedback table (CSV, XLSX, JSONL or Parquet) instead"),
    (b"GIF87a", "a GIF image", "upload the feedback table instead"),
    (b"GIF89a", "a GIF image", "upload the feedback table instead"),
    (b"%PDF", "a PDF document", "export the data as CSV or XLSX from the tool that made the PDF"),
    (b"{\\rtf", "an RTF document", "save it as CSV or XLSX"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first and upload the CSV inside"),
    (b"BZh", "a bzip2-compressed file", "decompress it first and upload the CSV inside"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first and upload the CSV inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it first and upload the CSV or XLSX inside"),
    (b"Rar!\x1a\x07", "a RAR archive", "extract it first and upload the CSV or XLSX inside"),
    (b"\x7fELF", "an executable program", "upload the feedback table instead"),
    (b"MZ\x90\x00", "a Windows executable", "upload the feedback table instead"),
    (b"SQLite format 3\x00", "an SQLite database", "export the table as CSV first"),
    (b"ARROW1", "an Arrow/Feather file", "save it as Parquet or CSV"),
    (
        b"\x93NUMPY",
        "a NumPy array file",
        "save the texts as CSV or Parquet (NumPy/pickle files are never opened)",
    ),
)
_PICKLE_EXTENSIONS = (".pkl", ".pickle", ".joblib", ".npy", ".npz", ".sav", ".pt", ".pth", ".dill")
_DEFAULTS = LoadOptions()
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTROL_BYTES = frozenset([*range(0, 9), 11, 14, *range(15, 32), 127])


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


# ---------------------------------------------------------------------------------------- public
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


# -------------------------------------------------------------------------------------- dispatch
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


def _sniff(data: bytes, *, name: str, ext: str) -> str:
    """Decide the container format from magic bytes; raise for what we never read."""
    head = data[:64]
    if ext in _PICKLE_EXTENSIONS or (len(data) > 2 and data[0] == 0x80 and 2 <= data[1] <= 5):
        raise LoadError(
            f"{name} looks like a Python pickle/joblib/NumPy file. These can run code when opened, so "
            "they are never read. Save the feedback as CSV, XLSX, JSONL or Parquet.",
            code="unsupported_format",
        )
    for magic, what, todo in _MAGIC:
        if head.startswith(magic):
            raise LoadError(f"{name} is {what}, not a table of feedback; {todo}.", code="wrong_type")
    if head.startswith(_OLE_MAGIC):
        if (
            "EncryptedPackage".encode("utf-16-le") in data[:1_000_000]
            or b"EncryptedPackage" in data[:1_000_000]
        ):
            raise LoadError(
                f"{name} is a password-protected (encrypted) workbook and cannot be read. In Excel, remove "
                "the password (File > Info > Protect Workbook > Encrypt with Password, clear it), save, "
                "and upload again.",
                code="encrypted",
            )
        raise LoadError(
            f"{name} is an old-style Excel (.xls) or other Office binary file, which is not supported. "
            "Open it in Excel and save it as .xlsx or CSV (UTF-8).",
            code="unsupported_format",
        )
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "xlsx"
    low = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith((b"<!doctype html", b"<html")):
        raise LoadError(
            f"{name} is a web page (HTML), not a CSV. Export the data as CSV or XLSX from the tool "
            "instead of saving the page.",
            code="wrong_type",
        )
    if low.startswith(b"<?xml"):
        raise LoadError(
            f"{name} is an XML file (for example Excel 2003 XML), which is not supported. Save it as "
            ".xlsx or CSV (UTF-8).",
            code="unsupported_format",
        )
    return "text"


# -------------------------------------------------------------------------------------- decoding
@dataclass
class _Encoding:
    name: str
    confidence: float | None
    alternatives: tuple[str, ...]
    overridden: bool = False
    warnings: list[str] = field(default_factory=list)


def _canonical(encoding: str) -> str:
    """A stable, user-facing codec name; GBK/GB2312 become GB18030 (its strict superset)."""
    try:
        py = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    mapping = {
        "gbk": "gb18030",
        "gb2312": "gb18030",
        "hz": "hz",
        "shift_jis": "cp932",
        "shift_jis_2004": "cp932",
        "shift_jisx0213": "cp932",
        "euc_kr": "cp949",
        "iso8859-1": "latin-1",
        "latin-1": "latin-1",
        "utf-8": "utf-8",
        "mbcs": "cp1252",
    }
    return mapping.get(py, py.replace("_", "-") if py.startswith(("utf", "euc", "iso")) else py)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _decode(data: bytes, *, name: str, options: LoadOptions) -> tuple[str, _Encoding]:
    """Bytes to text: override, BOM, UTF-16 pattern, strict UTF-8, then a ranked guess."""
    if options.encoding:
        try:
            codec = codecs.lookup(options.encoding).name
        except LookupError:
            raise LoadError(
                f"Unknown encoding {options.encoding!r}. Use a name such as utf-8, gb18030, big5, cp932, "
                "cp949, cp1252 or latin-1.",
                code="encoding",
            ) from None
        if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        text = data.decode(codec, errors="replace")
        if codec.startswith("utf-16") or codec.startswith("utf-32"):
            text = text.lstrip("\ufeff")
        enc = _Encoding(_canonical(codec), None, (), overridden=True)
        return _check_text(text, name=name), enc

    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            label = "utf-8-sig" if codec == "utf-8-sig" else codec
            return _check_text(text, name=name), _Encoding(label, 1.0, ())

    utf16 = _utf16_without_bom(data)
    if utf16:
        text = data.decode(utf16, errors="replace")
        enc = _Encoding(utf16, 0.9, ("utf-16-be" if utf16 == "utf-16-le" else "utf-16-le",))
        return _check_text(text, name=name), enc

    _check_binary(data, name=name)
    try:
        return _check_text(data.decode("utf-8"), name=name), _Encoding("utf-8", 1.0, ())
    except UnicodeDecodeError:
        pass

    guess = _guess_legacy(data)
    if guess is None:
        raise LoadError(
            f"The text encoding of {name} could not be recognised, and it may not be a text table at "
            "all. If it is a CSV, save it as UTF-8 (Excel: 'CSV UTF-8') or choose the encoding "
            "(--encoding, e.g. gb18030, cp932, cp1252).",
            code="encoding",
        )
    text = data.decode(guess.name, errors="replace")
    return _check_text(text, name=name), guess


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:8192]
    sample = sample[: len(sample) - len(sample) % 2]
    half = len(sample) // 2
    if half < 2:
        return None
    even_zero = sample[0::2].count(0) / half
    odd_zero = sample[1::2].count(0) / half
    if odd_zero > 0.3 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.3 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _check_binary(data: bytes, *, name: str) -> None:
    sample = data[:65536]
    if len(sample) < 256:
        return
    controls = sum(1 for b in sample if b in _CONTROL_BYTES)
    if controls / len(sample) > 0.05:
        raise LoadError(
            f"{name} looks like binary data, not a text table ({controls} control bytes in the first "
            f"{len(sample)}). Upload a CSV, TSV, XLSX, JSONL or Parquet file.",
            code="wrong_type",
        )


def _check_text(text: str, *, name: str) -> str:
    """Refuse decoded text that is mostly replacement or control characters (binary data)."""
    sample = text[:65536]
    if len(sample) >= 256:
        bad = sample.count("\ufffd") + sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r")
        if bad / len(sample) > 0.1:
            raise LoadError(
                f"{name} does not look like text in any encoding ({bad} unreadable characters in the "
                f"first {len(sample)}). Check that it is a CSV/TSV/JSONL file, or choose the encoding "
                "(--encoding).",
                code="encoding",
            )
    return text


def _guess_legacy(data: bytes) -> _Encoding | None:
    """Guess a non-UTF-8 encoding; return it with its confidence and the alternatives worth offering."""
    from charset_normalizer import from_bytes

    sample = data[:262144]
    if len(data) > len(sample):
        cut = sample.rfind(b"\n")
        sample = sample[: cut + 1] if cut > 0 else sample
    # Mostly UTF-8 with a few stray bytes (mixed file): keep UTF-8 and report the bad rows.
    loose = data.decode("utf-8", errors="replace")
    n_bad = loose.count("\ufffd")
    n_good = sum(1 for ch in loose if ord(ch) > 127 and ch != "\ufffd")
    results = list(from_bytes(sample))
    ranked: list[tuple[str, float]] = []
    for match in results:
        canon = _canonical(match.encoding)
        if canon not in [r[0] for r in ranked] and canon not in ("utf-8", "utf-16-le", "utf-16-be"):
            ranked.append((canon, max(0.0, 1.0 - float(match.chaos))))
    if n_good > 0 and n_bad <= n_good:
        alts = _alternatives("utf-8", [r[0] for r in ranked], data)
        return _Encoding(
            "utf-8",
            round(n_good / (n_good + n_bad), 3),
            alts,
            warnings=[
                "The file is UTF-8 with some bytes that are not valid UTF-8 (a mixed-encoding file); "
                "those rows are reported as 'undecodable'. Choose another encoding if most rows look wrong."
            ],
        )
    choice: str | None = None
    confidence = 0.0
    high = [i for i, b in enumerate(sample) if b > 127]
    if high:
        isolated = sum(
            1
            for i in high
            if (i == 0 or sample[i - 1] < 128) and (i + 1 >= len(sample) or sample[i + 1] < 128)
        ) / len(high)
        kana = _share(sample, "cp932", lambda c: 0x3040 <= ord(c) <= 0x30FF)
        if kana is not None and kana >= 0.15:
            choice, confidence = "cp932", round(min(0.95, 0.5 + kana), 3)
        elif isolated >= 0.6:
            for single in ("cp1252", "latin-1"):
                if _decodes(data, single):
                    choice, confidence = single, round(0.5 + isolated / 2, 3)
                    break
        elif any(r[0] == "big5" for r in ranked) and _decodes(data, "gb18030") and _decodes(sample, "big5"):
            # GB2312 text uses only A1-FE trail bytes; real Big5 text often has 40-7E trails.
            big5_low = _big5_low_trail_share(sample)
            if big5_low == 0.0:
                choice, confidence = "gb18030", 0.6
    if choice is None:
        for canon, conf in ranked:
            if _decodes(data, canon):
                choice, confidence = canon, round(conf, 3)
                break
    if choice is None:
        for canon, _ in ranked:
            choice, confidence = canon, 0.1
            break
    if choice is None:
        return None
    return _Encoding(choice, confidence, _alternatives(choice, [r[0] for r in ranked], data))


def _share(sample: bytes, encoding: str, predicate: Any) -> float | None:
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError:
        return None
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return None
    return sum(1 for c in wide if predicate(c)) / len(wide)


def _big5_low_trail_share(sample: bytes) -> float:
    text = sample.decode("big5", errors="ignore")
    pairs = low = 0
    for ch in text:
        if ord(ch) > 127:
            encoded = ch.encode("big5", errors="ignore")
            if len(encoded) == 2:
                pairs += 1
                low += 0x40 <= encoded[1] <= 0x7E
    return low / pairs if pairs else 1.0


def _alternatives(choice: str, ranked: Sequence[str], data: bytes) -> tuple[str, ...]:
    """Other encodings that decode the file without error, GB18030 first for CJK files."""
    order: list[str] = []
    if choice in CJK_ENCODINGS:
        order.append("gb18030")
    elif choice in ("utf-8", "cp1252", "latin-1", "cp1250", "iso8859-15"):
        order += ["cp1252", "latin-1", "cp1250", "iso8859-15"]
    order += [*ranked, *FALLBACK_ENCODINGS]
    sample = data[:262144]
    if len(data) > len(sample):
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    out: list[str] = []
    for enc in order:
        if enc != choice and enc not in out and _decodes(sample, enc):
            out.append(enc)
    if choice != "utf-8" and "utf-8" not in out:
        out.append("utf-8")
    return tuple(out[:7])


# ------------------------------------------------------------------------------------------ CSV
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


# ---------------------------------------------------------------------------------------- JSONL
def _looks_json(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head not in ("{", "["):
        return False
    first = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    try:
        value = json.loads(first)
    except ValueError:
        return head == "[" and _json_array(text) is not None
    return isinstance(value, dict)


def _json_array(text: str) -> list[Any] | None:
    try:
        value = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _load_jsonl(
    text: str, *, name: str, options: LoadOptions, base: dict[str, Any], enc: _Encoding
) -> LoadedTable:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise LoadError(f"{name} contains no records: it is blank. Check the export.", code="no_columns")
    items: list[tuple[int, Any, str]] = []
    stripped = text.lstrip()
    array = _json_array(text) if stripped.startswith("[") else None
    fmt = "json" if array is not None else "jsonl"
    if array is not None:
        items = [(i + 1, v, "") for i, v in enumerate(array)]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, parse_float=str, parse_int=str, parse_constant=str)
            except (ValueError, RecursionError):
                value = _BAD
            items.append((number, value, line))
            if len(items) > options.max_rows:
                raise LoadError(
                    f"{name} has more than {options.max_rows:,} records (the limit). Split the file or raise "
                    "the limit (LoadOptions.max_rows / --max-rows).",
                    code="too_many_rows",
                )
    if len(items) > options.max_rows:
        raise LoadError(
            f"{name} has more than {options.max_rows:,} records (the limit). Split the file or raise the limit.",
            code="too_many_rows",
        )
    columns: dict[str, None] = {}
    for _, value, _ in items:
        if isinstance(value, dict):
            for key in value:
                columns.setdefault(str(key), None)
    if not columns:
        if items and all(not isinstance(v, dict) and v != _BAD for _, v, _ in items):
            columns["value"] = None
        else:
            raise LoadError(
                f"{name} has no JSON objects with fields (one object per line is expected, like "
                '{"text": "..."}). Check the file format.',
                code="no_columns",
            )
    header = list(columns)
    rows: list[list[str]] = []
    lines: list[int] = []
    status: list[str] = []
    issues: list[RowIssue] = []
    for number, value, raw in items:
        lines.append(number)
        if isinstance(value, dict):
            rows.append([_cell(value.get(key)) for key in header])
            status.append(STATUS_OK)
        elif header == ["value"] and value != _BAD:
            rows.append([_cell(value)])
            status.append(STATUS_OK)
        else:
            why = "not valid JSON" if value == _BAD else f"a JSON {type(value).__name__}, not an object"
            issues.append(RowIssue(len(rows), number, _BAD, f"{why}: {_clip(raw or _cell(value))}"))
            rows.append([""] * len(header))
            status.append(_BAD)
    records = _Records(header=header, rows=rows, lines=lines, status=status, issues=issues)
    records.warnings[:0] = enc.warnings
    return _finish(records, name=name, options=options, base=base, fmt=fmt, encoding=enc, delimiter=None)


# ----------------------------------------------------------------------------------------- XLSX
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


def _xml_bomb(name: str) -> LoadError:
    return LoadError(
        f"{name} contains unsafe spreadsheet content (XML entity declarations, as used in 'billion "
        "laughs' attacks) and was not opened. Re-save the data from Excel as a new .xlsx or CSV.",
        code="xml_bomb",
    )


def _check_ooxml(data: bytes, *, name: str, ext: str, options: LoadOptions) -> None:
    """Refuse unsafe or unsupported ZIP content before any XML parser runs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise LoadError(
            f"{name} looks like a ZIP/Excel file but is damaged ({exc}). Save it again from Excel, or "
            "export CSV (UTF-8).",
            code="corrupt",
            detail=repr(exc),
        ) from None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        if any(n.startswith("word/") for n in names):
            what = "a Word document"
        elif any(n.startswith("ppt/") for n in names):
            what = "a PowerPoint presentation"
        elif "mimetype" in names:
            what = "an OpenDocument file (e.g. LibreOffice .ods)"
        else:
            what = "a ZIP archive"
        raise LoadError(
            f"{name} is {what}, not a CSV or Excel workbook. Extract or save the table as CSV (UTF-8) "
            "or .xlsx and upload that.",
            code="wrong_type",
        )
    if len(infos) > 1000:
        raise LoadError(
            f"{name} has {len(infos)} parts, far more than a workbook needs; refused as a possible "
            "zip bomb. Save the data as a new .xlsx or CSV.",
            code="zip_bomb",
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise LoadError(
                f"{name} is encrypted and cannot be read. Remove the password in Excel and save again.",
                code="encrypted",
            )
        if info.filename.startswith(("/", "\\")) or ".." in info.filename.replace("\\", "/").split("/"):
            raise LoadError(
                f"{name} contains an unsafe path ({info.filename!r}); refused. Re-save the workbook.",
                code="unsafe_archive",
            )
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if (
            info.file_size > options.max_uncompressed_bytes
            or total > options.max_uncompressed_bytes
            or (info.file_size > 10 * 1024 * 1024 and ratio > 100)
        ):
            raise LoadError(
                f"{name} would expand to {_mb(max(total, info.file_size))} when opened ({info.filename} is "
                f"compressed {ratio:,.0f}:1); refused as a possible zip bomb. If the workbook is "
                "genuine, export the sheet as CSV, or raise LoadOptions.max_uncompressed_bytes.",
                code="zip_bomb",
            )
    content_types = archive.read("[Content_Types].xml")[:200_000].lower()
    if ext in (".xlsm", ".xltm", ".xlsb") or "xl/vbaProject.bin" in names or b"macroenabled" in content_types:
        raise LoadError(
            f"{name} is a macro-enabled workbook. Macro files are not opened, for safety. In Excel, "
            "save it as 'Excel Workbook (.xlsx)' or CSV (UTF-8) and upload that.",
            code="macro",
        )
    if b"sheet.binary" in content_types or ext == ".xlsb":
        raise LoadError(
            f"{name} is a binary workbook (.xlsb), which is not supported. Save it as .xlsx or CSV.",
            code="unsupported_format",
        )
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels", ".vml")):
            with archive.open(info) as handle:
                head = handle.read(65536)
            if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
                head = head.decode("utf-16", errors="ignore").encode("utf-8")
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise _xml_bomb(name)


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


# -------------------------------------------------------------------------------------- Parquet
def _load_parquet(data: bytes, *, name: str, options: LoadOptions, base: dict[str, Any]) -> LoadedTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        meta = parquet.metadata
        if meta.num_rows > options.max_rows:
            raise LoadError(
                f"{name} has {meta.num_rows:,} rows, over the {options.max_rows:,} limit. Filter or split "
                "it, or raise the limit (LoadOptions.max_rows / --max-rows).",
                code="too_many_rows",
            )
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if expanded > options.max_uncompressed_bytes:
            raise LoadError(
                f"{name} would expand to {_mb(expanded)} in memory, over the "
                f"{_mb(options.max_uncompressed_bytes)} limit. Select fewer columns or rows, or raise "
                "LoadOptions.max_uncompressed_bytes.",
                code="too_large",
            )
        table = parquet.read()
    except LoadError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise LoadError(
            f"{name} is not a readable Parquet file ({exc}). Export it again or use CSV.",
            code="corrupt",
            detail=repr(exc),
        ) from None
    header = [str(c) for c in table.column_names]
    columns: list[Sequence[str]] = [_arrow_strings(column) for column in table.columns]
    records = _Records(
        header=header,
        rows=[],
        lines=list(range(1, table.num_rows + 1)),
        status=[STATUS_OK] * table.num_rows,
        columns=list(columns),
    )
    return _finish(
        records, name=name, options=options, base=base, fmt="parquet", encoding=None, delimiter=None
    )


def _arrow_strings(column: Any) -> list[str]:
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = column.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        values = column.to_pylist()
    elif pa.types.is_boolean(typ):
        values = ["true" if v else "false" if v is not None else None for v in column.to_pylist()]
    else:
        try:
            values = pc.cast(column, pa.string()).to_pylist()
        except (pa.ArrowException, NotImplementedError):
            values = [
                None if v is None else _cell(v) if not isinstance(v, bytes) else v.hex()
                for v in column.to_pylist()
            ]
    return [v if isinstance(v, str) else "" if v is None else str(v) for v in values]


# --------------------------------------------------------------------------------------- finish
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
