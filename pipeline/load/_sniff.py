"""Decide the container format from magic bytes; refuse what is never read."""

from __future__ import annotations

from pipeline.errors import LoadError

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


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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
