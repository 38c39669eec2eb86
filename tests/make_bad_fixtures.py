"""Deterministic generator of the bad-input fixtures (reliability.md section 9, plus extra cases).

Every fixture is built from code, byte for byte the same on every run; nothing is committed.
Large fixtures (the zip bomb, a million rows) are built only when asked for, at test time.

Usage: ``python tests/make_bad_fixtures.py OUT_DIR`` writes every small fixture to ``OUT_DIR``.
"""

from __future__ import annotations

import io
import pickle
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def png_bytes() -> bytes:
    """A real 1x1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes/readme.txt", "id,text\n1,hello\n")
    return buffer.getvalue()


def xlsx_bytes(rows: list[list[object]], *, sheets: dict[str, list[list[object]]] | None = None) -> bytes:
    """A real workbook written by openpyxl (first sheet ``Feedback``)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Feedback"
    for row in rows:
        sheet.append(row)
    for name, extra in (sheets or {}).items():
        other = workbook.create_sheet(name)
        for row in extra:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite_xlsx(base: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = replace.get(info.filename, src.read(info.filename))
            dst.writestr(info.filename, data)
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def xlsx_entity_bomb() -> bytes:
    """A workbook whose sheet XML declares nested entities (billion laughs)."""
    entities = b'<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    sheet = (
        b'<?xml version="1.0"?>\n<!DOCTYPE worksheet [' + entities + b"]>\n"
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    return _rewrite_xlsx(xlsx_bytes([["text"], ["x"]]), {"xl/worksheets/sheet1.xml": sheet})


def xlsx_macro() -> bytes:
    """A workbook with a VBA project part and the macro-enabled content type."""
    base = xlsx_bytes([["text"], ["x"]])
    with zipfile.ZipFile(io.BytesIO(base)) as src:
        types = src.read("[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    return _rewrite_xlsx(base, {"[Content_Types].xml": types}, {"xl/vbaProject.bin": b"\x00" * 64})


def encrypted_ooxml() -> bytes:
    """An OLE2 compound file holding an ``EncryptedPackage`` stream, as Excel writes for passwords."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = "EncryptedPackage".encode("utf-16-le") + b"\x00" * 30 + "EncryptionInfo".encode("utf-16-le")
    return header + directory + b"\x00" * (4096 - len(directory))


def xlsx_zip_bomb(expanded_mb: int = 150) -> bytes:
    """A valid workbook whose sheet XML is padded to ``expanded_mb`` MB (a few hundred KB deflated).

    Written in chunks through ``ZipFile.open(..., "w")`` so the padding never sits in memory whole.
    """
    base = xlsx_bytes([["text"], ["x"]])
    out = io.BytesIO()
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>'
    filler = b" " * (1024 * 1024)
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                padded = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                padded.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(padded, "w", force_zip64=True) as handle:
                    handle.write(SHEET_HEAD)
                    for _ in range(expanded_mb):
                        handle.write(filler)
                    handle.write(row + SHEET_TAIL)
            else:
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


def many_rows_csv(n_rows: int) -> bytes:
    """``n_rows`` short feedback rows (1M rows is about 30 MB)."""
    body = "".join(f"{i},order {i % 997} arrived late,web\n" for i in range(n_rows))
    return ("id,text,channel\n" + body).encode()


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


JP = "配送がとても遅くて、問い合わせても返事がありませんでした。"
ZH = "退款太慢了"

# case id -> (checklist number or "extra", file name, builder)
SMALL: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "empty_file": ("1", "empty.csv", lambda: b""),
    "whitespace_only": ("2", "blank.csv", lambda: b"  \n\n\t\n"),
    "header_only": ("3", "header.csv", lambda: b"id,text\n"),
    "png_as_csv": ("5", "x.csv", png_bytes),
    "pdf_as_csv": ("5", "report.csv", pdf_bytes),
    "zip_as_csv": ("5", "data.csv", zip_bytes),
    "binary_garbage": ("6", "garbage.csv", lambda: random.Random(6).randbytes(4096)),
    "xlsx_entity_bomb": ("8", "laughs.xlsx", xlsx_entity_bomb),
    "xlsm_macro": ("9", "macro.xlsm", xlsx_macro),
    "xlsx_macro_renamed": ("9", "macro.xlsx", xlsx_macro),
    "encrypted_workbook": ("9", "secret.xlsx", encrypted_ooxml),
    "pickle_upload": ("10", "data.pkl", lambda: pickle.dumps({"text": ["a"]}, protocol=4)),
    "pickle_as_csv": ("10", "data.csv", lambda: pickle.dumps([1, 2, 3], protocol=5)),
    "npy_upload": ("10", "vectors.npy", lambda: b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}"),
    "utf8_bom": ("11", "bom.csv", lambda: _csv("\ufeffid,text\n1,café\n2,naïve\n")),
    "utf16_bom_tabs": (
        "12",
        "unicode.txt",
        lambda: _csv("id\ttext\n1\tTrès bien\n2\t退款太慢了\n", "utf-16"),
    ),
    "utf16le_no_bom": ("13", "nobom.csv", lambda: _csv("id,text\n1,Très bien\n2,schön\n", "utf-16-le")),
    "utf16be_no_bom": ("13", "nobom_be.csv", lambda: _csv("id,text\n1,Très bien\n2,schön\n", "utf-16-be")),
    "gbk_short": ("14", "gbk.csv", lambda: _csv(f"id,text\n1,{ZH}\n", "gbk")),
    "gb18030_long": (
        "14",
        "gb.csv",
        lambda: _csv(
            "id,text\n" + "".join(f"{i},快递太慢了，客服态度也不好，希望尽快退款{i}\n" for i in range(20)),
            "gb18030",
        ),
    ),
    "shift_jis_medium": ("15", "sjis.csv", lambda: _csv(f"id,text\n1,{JP}\n2,{JP}\n", "shift_jis")),
    "cp1252_short": ("16", "fr.csv", lambda: _csv("id,text\n1,Très bien\n2,Ça va\n", "cp1252")),
    "mixed_utf8_cp1252": (
        "17",
        "mixed.csv",
        lambda: _csv("id,text\n1,café crème\n") + _csv("2,naïve answer\n", "cp1252") + _csv("3,déjà vu\n"),
    ),
    "nul_and_controls": ("18", "nul.csv", lambda: b"id,text\n1,a\x00b\x01c\n2,ok\n"),
    "semicolon_commas": ("19", "semi.csv", lambda: b"id;text\n1;hello, world\n2;fine, thanks\n"),
    "single_column": ("20", "emails.csv", lambda: b"text\nfoo@bar.com\nhello there\n"),
    "excel_sep_line": ("21", "sep.csv", lambda: b"sep=;\nid;text\n1;a, b\n2;c\n"),
    "banner_lines": (
        "22",
        "banner.csv",
        lambda: b"Exported by SurveyTool\nDate: 2024-05-01\nid,text\n1,good\n2,bad\n",
    ),
    "too_many_fields": (
        "23",
        "ragged.csv",
        lambda: b"id,text\n1,ok\n2,has, extra comma\n3,fine\n4,also fine\n",
    ),
    "unclosed_quote": ("24", "quote.csv", lambda: b'id,text\n1,"never closed\n2,ok\n'),
    "quoted_newlines": (
        "25",
        "quoted.csv",
        lambda: b'id,text\r\n1,"line one\r\nline two"\r\n2,"she said ""hi"""\r\n3,a 5" screen\r\n',
    ),
    "cr_only": ("26", "mac.csv", lambda: b"id,text\r1,a\r2,b\r"),
    "duplicate_columns": ("27", "dup.csv", lambda: b"text,text\nfirst,second\n"),
    "trailing_delimiter": ("28", "trail.csv", lambda: b"id,text,\n1,a,\n2,b,\n"),
    "numeric_looking": ("29", "num.csv", lambda: b"id,text\n0012,5\n0013,TRUE\n0014,1e5\n"),
    "na_literals": ("30", "na.csv", lambda: b"id,text\n1,NA\n2,None\n3,null\n4,N/A\n5,\n"),
    "huge_field": ("31", "huge.csv", lambda: b"id,text\n1,short\n2," + b"x" * 1_000_000 + b"\n"),
    # extras the checklist misses
    "html_page_as_csv": ("extra", "export.csv", lambda: b"<!DOCTYPE html><html><body>Error</body></html>"),
    "gzip_as_csv": ("extra", "data.csv", lambda: b"\x1f\x8b\x08\x00" + b"\x00" * 60),
    "legacy_xls": ("extra", "old.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000),
    "big5": (
        "extra",
        "tw.csv",
        lambda: _csv("id,text\n" + "".join(f"{i},這個產品很好用，物流也很快\n" for i in range(10)), "big5"),
    ),
    "euc_kr": (
        "extra",
        "kr.csv",
        lambda: _csv(
            "id,text\n" + "".join(f"{i},배송이 너무 늦어요 환불해 주세요\n" for i in range(10)), "euc-kr"
        ),
    ),
    "pipe_delimited": ("extra", "pipe.txt", lambda: b"id|text|rating\n1|good, fast|5\n2|slow|1\n"),
    "tsv": ("extra", "data.tsv", lambda: b"id\ttext\n1\tgood, fast\n2\tslow; late\n"),
    "blank_lines_between": ("extra", "blanks.csv", lambda: b"id,text\n1,a\n\n\n2,b\n"),
    "jsonl": (
        "extra",
        "data.jsonl",
        lambda: b'{"id": 1, "text": "ok", "score": 1.10}\n{"id": 2, "text": null}\nnot json\n[1]\n',
    ),
    "json_array": ("extra", "data.json", lambda: b'[{"text": "a"}, {"text": "b", "extra": {"k": 1}}]'),
    "xlsx_banner_two_sheets": (
        "extra",
        "book.xlsx",
        lambda: xlsx_bytes(
            [["Export from Zendesk"], [], ["id", "text", "rating"], ["0012", "good", 5], [2, "NA", 4.5]],
            sheets={"Other": [["a", "b"], ["x", "y"]]},
        ),
    ),
    "xlsx_header_only": ("extra", "hdr.xlsx", lambda: xlsx_bytes([["id", "text"]])),
    "corrupt_xlsx": ("extra", "broken.xlsx", lambda: b"PK\x03\x04" + b"\x00" * 200),
    "whitespace_only_lines_and_quotes": ("extra", "q.csv", lambda: b'"id","text"\n"1","  padded  "\n'),
    "sniff_trap_quoted_delims": ("extra", "trap.csv", lambda: b'id,text\n1,"a;b;c|d"\n2,"e;f|g"\n'),
}


# --------------------------------------------------------------------- generated encoding cases
# Word pools per writing; sentences are drawn from them with a seed, so a hidden, larger set is the
# same generator with other seeds and counts.
POOLS: dict[str, tuple[str, ...]] = {
    "ja_kanji": (
        "東京",
        "本社",
        "工場",
        "製造",
        "管理",
        "部門",
        "品質",
        "検査",
        "基準",
        "改定",
        "配送",
        "遅延",
        "返金",
        "対応",
        "担当",
        "確認",
        "電話",
        "連絡",
        "問題",
        "解決",
    ),
    "ja": (
        "配送が",
        "とても",
        "遅くて",
        "問い合わせ",
        "しても",
        "返事が",
        "ありません",
        "でした",
        "商品は",
        "良いです",
        "また",
        "買います",
    ),
    "zh_trad": (
        "這個",
        "產品",
        "很好",
        "物流",
        "也很",
        "快",
        "客服",
        "態度",
        "不錯",
        "價格",
        "合理",
        "品質",
        "我們",
        "會再",
        "購買",
        "退款",
        "太慢",
    ),
    "zh": (
        "快递",
        "太慢",
        "了",
        "客服",
        "态度",
        "也不好",
        "希望",
        "尽快",
        "退款",
        "产品",
        "质量",
        "很好",
        "价格",
        "合理",
        "我们",
        "还会",
        "购买",
    ),
    "ko": (
        "배송이",
        "너무",
        "늦어요",
        "환불해",
        "주세요",
        "고객센터",
        "연락이",
        "안",
        "됩니다",
        "제품은",
        "좋아요",
        "다시",
        "살게요",
    ),
    "fr": (
        "très",
        "bien",
        "livraison",
        "à",
        "l'heure",
        "déçu",
        "qualité",
        "élevée",
        "ça",
        "va",
        "reçu",
        "colis",
        "abîmé",
        "remboursé",
    ),
    "de": (
        "Lieferung",
        "war",
        "sehr",
        "langsam",
        "ärgerlich",
        "für",
        "uns",
        "Größe",
        "passt",
        "schön",
        "zurück",
        "Rücksendung",
    ),
    "ru": (
        "доставка",
        "очень",
        "медленная",
        "верните",
        "деньги",
        "качество",
        "хорошее",
        "спасибо",
        "заказ",
        "пришёл",
        "вовремя",
    ),
    "pl": ("dostawa", "była", "bardzo", "wolna", "zażółć", "gęślą", "jaźń", "jakość", "świetna", "dziękuję"),
}
_JOIN = {"ja_kanji": "", "ja": "", "zh_trad": "", "zh": ""}


def sentence(rng: random.Random, pool: str, words: int = 8) -> str:
    chosen = [rng.choice(POOLS[pool]) for _ in range(words)]
    return _JOIN.get(pool, " ").join(chosen)


def big5_high_trail(rng: random.Random, n: int) -> str:
    """Traditional Chinese using only characters whose Big5 trail byte is 0xA1-0xFE."""
    chars = [
        c for c in "".join(POOLS["zh_trad"]) if len(c.encode("big5")) == 2 and c.encode("big5")[1] >= 0xA1
    ]
    return "".join(rng.choice(chars) for _ in range(n))


# (pool, codec the file is written in, the codec names a loader may report for it)
ENCODED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ja_kanji", "shift_jis", ("cp932",)),
    ("ja", "shift_jis", ("cp932",)),
    ("ja", "euc_jp", ("euc-jp", "euc_jp")),
    ("zh_trad", "big5", ("big5",)),
    ("big5_high", "big5", ("big5",)),
    ("zh", "gb2312", ("gb18030",)),
    ("zh4", "gb18030", ("gb18030",)),
    ("ko", "cp949", ("cp949",)),
    ("fr", "cp1252", ("cp1252",)),
    ("de", "cp1252", ("cp1252",)),
    ("ru", "cp1251", ("cp1251",)),
    ("pl", "cp1250", ("cp1250",)),
    ("ja", "utf-16-le", ("utf-16-le",)),
    ("zh", "utf-16-be", ("utf-16-be",)),
    ("ko", "utf-16-le", ("utf-16-le",)),
    ("zh", "utf-32-le", ("utf-32-le",)),
    ("fr", "utf-32-be", ("utf-32-be",)),
)


def encoded_case(seed: int, index: int, rows: int = 6) -> tuple[str, bytes, list[str], tuple[str, ...]]:
    """``(file name, bytes, texts, accepted encodings)``: a CSV of generated sentences in one codec."""
    pool, codec, names = ENCODED[index % len(ENCODED)]
    rng = random.Random(seed * 1000 + index)
    texts: list[str] = []
    for _ in range(rows):
        if pool == "big5_high":
            texts.append(big5_high_trail(rng, rng.randint(6, 20)))
        elif pool == "zh4":
            texts.append(sentence(rng, "zh", rng.randint(3, 8)) + rng.choice(["😀", "é", "ü", "䶮", "€"]))
        else:
            texts.append(sentence(rng, pool, rng.randint(3, 10)))
    body = "id,text\n" + "".join(f"{i},{text}\n" for i, text in enumerate(texts))
    return f"enc_{seed}_{index}_{pool}.csv", body.encode(codec), texts, names


def mixed_utf8_legacy(seed: int, utf8_rows: int = 3, legacy_rows: int = 12) -> tuple[bytes, list[str]]:
    """A CSV where some lines are UTF-8 and the rest cp1252 (a file appended to by two tools)."""
    rng = random.Random(seed)
    rows = [
        (sentence(rng, rng.choice(["fr", "de"]), 5), i < utf8_rows) for i in range(utf8_rows + legacy_rows)
    ]
    rng.shuffle(rows)
    data = b"id,text\n" + b"".join(
        f"{i},{text}\n".encode("utf-8" if is_utf8 else "cp1252") for i, (text, is_utf8) in enumerate(rows)
    )
    return data, [text for text, _ in rows]


# ------------------------------------------------------------------ generated row-loss cases
def _answers(rng: random.Random, n: int) -> list[str]:
    return [sentence(rng, rng.choice(["fr", "de", "ru", "zh", "ja"]), rng.randint(2, 6)) for _ in range(n)]


def unbalanced_quote_csv(seed: int) -> tuple[bytes, int, int]:
    """``(bytes, data row with the stray quote, rows it swallows)``: a quote closed rows later."""
    rng = random.Random(seed)
    n = rng.randint(12, 30)
    start = rng.randint(0, n - 10)
    swallowed = rng.randint(2, 8)
    lines = []
    for i, text in enumerate(_answers(rng, n)):
        if i == start:
            text = '"' + text  # opened, never closed on this line
        elif i == start + swallowed + 1:
            text = text + '" end'
        lines.append(f"{i},{text}")
    return ("id,text\n" + "\n".join(lines) + "\n").encode(), start, swallowed


def unquoted_commas_csv(seed: int) -> tuple[bytes, int]:
    """``(bytes, data row)``: one row's answer holds unquoted commas (the fast path used to cut it)."""
    rng = random.Random(seed)
    n = rng.randint(3, 20)
    row = rng.randint(0, n - 1)
    texts = _answers(rng, n)
    texts[row] = ", ".join(texts[row].split(" ")[:3]) + ", really"
    return ("id,text\n" + "".join(f"{i},{x}\n" for i, x in enumerate(texts))).encode(), row


def unnamed_last_column_csv(seed: int) -> tuple[bytes, list[str]]:
    """A header ending in a delimiter (its last column has no name) over rows that fill it."""
    rng = random.Random(seed)
    texts = _answers(rng, rng.randint(3, 15))
    body = "".join(f"{i},{rng.randint(1, 5)},{x}\n" for i, x in enumerate(texts))
    return ("id,rating,\n" + body).encode(), texts


def headerless_csv(seed: int) -> tuple[bytes, list[str]]:
    """A file with no header row: every line is ``number,answer``, ``date,answer`` or ``answer,rating``."""
    rng = random.Random(seed)
    texts = [f"{x} {x}" for x in _answers(rng, rng.randint(3, 15))]
    shape = seed % 3
    if shape == 0:
        lines = [f"{i + 1},{x}" for i, x in enumerate(texts)]
    elif shape == 1:
        lines = [f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{x}" for x in texts]
    else:
        lines = [f'"{x}",{rng.randint(1, 5)}' for x in texts]
    return ("\n".join(lines) + "\n").encode(), texts


def jsonl_tricky(seed: int) -> tuple[bytes, list[str], list[str]]:
    """``(bytes, texts, meta)``: values with U+2028/U+2029/U+0085, nested numbers, one lone surrogate."""
    import json

    rng = random.Random(seed)
    texts: list[str] = []
    metas: list[str] = []
    lines: list[str] = []
    for i in range(rng.randint(4, 12)):
        text = rng.choice(["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c", " "]).join(_answers(rng, 2))
        number = rng.choice(["1.10", "-0", "12345678901234567890", "2.50e3", "7"])
        meta = f'{{"score": {number}, "list": [1, {number}]}}'
        lines.append(f'{{"id": {i}, "text": {json.dumps(text, ensure_ascii=False)}, "meta": {meta}}}')
        texts.append(text)
        metas.append(meta)
    bad = rng.randrange(len(lines))
    lines[bad] = lines[bad].replace('"text": "', '"text": "\\ud800', 1)
    texts[bad] = "\ufffd" + texts[bad]
    return ("\n".join(lines) + "\n").encode(), texts, metas


def parquet_binary_texts(seed: int) -> tuple[bytes, list[str]]:
    """A Parquet file whose text column is binary, one value not valid UTF-8."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    texts = _answers(rng, rng.randint(3, 12))
    values = [x.encode() for x in texts]
    bad = rng.randrange(len(values))
    values[bad] = values[bad] + b"\xff\xfe"
    texts[bad] = texts[bad] + "\ufffd\ufffd"
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": pa.array(values, type=pa.binary())}), buffer)
    return buffer.getvalue(), texts


def build(case: str) -> tuple[str, bytes]:
    """``(file name, bytes)`` of one small fixture."""
    _, filename, builder = SMALL[case]
    return filename, builder()


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "sample_data/bad")
    out.mkdir(parents=True, exist_ok=True)
    for case in SMALL:
        filename, data = build(case)
        (out / f"{case}__{filename}").write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
