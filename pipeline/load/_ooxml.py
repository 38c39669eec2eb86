"""Safety checks on an OOXML (zip) container before any XML parser runs: bombs, entities, macros."""

from __future__ import annotations

import io
import zipfile

from pipeline.errors import LoadError
from pipeline.load._records import _mb
from pipeline.types import LoadOptions


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
