"""One test per bad-input checklist case (reliability.md section 9, plus extras): exact outcomes."""

from __future__ import annotations

from collections.abc import Callable

import make_bad_fixtures as fx
import pytest

from pipeline.errors import LoadError
from pipeline.load import load_table
from pipeline.types import LoadedTable, LoadOptions

ERRORS: dict[str, tuple[str, str]] = {
    # case: (LoadError code, regex the user message must match)
    "empty_file": ("empty", r"empty\.csv is empty \(0 bytes\).*upload it again"),
    "whitespace_only": ("no_columns", r"no columns.*blank"),
    "header_only": ("no_rows", r"header \(id, text\) but no data rows"),
    "png_as_csv": ("wrong_type", r"x\.csv is a PNG image"),
    "pdf_as_csv": ("wrong_type", r"is a PDF document.*CSV or XLSX"),
    "zip_as_csv": ("wrong_type", r"is a ZIP archive.*Extract"),
    "binary_garbage": ("wrong_type", r"binary data, not a text table"),
    "xlsx_entity_bomb": ("xml_bomb", r"unsafe spreadsheet content"),
    "xlsm_macro": ("macro", r"macro-enabled workbook.*\.xlsx"),
    "xlsx_macro_renamed": ("macro", r"macro-enabled"),
    "encrypted_workbook": ("encrypted", r"password-protected.*remove the password"),
    "pickle_upload": ("unsupported_format", r"pickle.*never read"),
    "pickle_as_csv": ("unsupported_format", r"pickle.*never read"),
    "npy_upload": ("unsupported_format", r"never read"),
    "unclosed_quote": ("unclosed_quote", r"unclosed quote .* line 2 \(data row 1\)"),
    "html_page_as_csv": ("wrong_type", r"web page \(HTML\)"),
    "gzip_as_csv": ("wrong_type", r"gzip-compressed.*decompress"),
    "legacy_xls": ("unsupported_format", r"old-style Excel \(\.xls\).*save it as \.xlsx"),
    "xlsx_header_only": ("no_rows", r"no data rows"),
    "corrupt_xlsx": ("corrupt", r"damaged"),
}


def _col(table: LoadedTable, name: str = "text") -> list[str]:
    return table.frame[name].tolist()


def _ok_ledger(table: LoadedTable) -> None:
    assert table.report.rows_read == len(table.frame) == len(table.row_status)


CHECKS: dict[str, Callable[[LoadedTable], None]] = {
    "utf8_bom": lambda t: (
        list(t.frame.columns) == ["id", "text"] or pytest.fail(str(t.frame.columns)),
        _col(t) == ["café", "naïve"] or pytest.fail(str(_col(t))),
        t.report.encoding == "utf-8-sig" or pytest.fail(t.report.encoding),
    ),
    "utf16_bom_tabs": lambda t: (
        (t.report.encoding, t.report.delimiter) == ("utf-16", "\t") or pytest.fail(str(t.report)),
        _col(t) == ["Très bien", "退款太慢了"] or pytest.fail(str(_col(t))),
    ),
    "utf16le_no_bom": lambda t: (
        t.report.encoding == "utf-16-le" or pytest.fail(t.report.encoding),
        _col(t) == ["Très bien", "schön"] or pytest.fail(str(_col(t))),
    ),
    "utf16be_no_bom": lambda t: _col(t) == ["Très bien", "schön"] or pytest.fail(str(_col(t))),
    "gbk_short": lambda t: (
        t.report.encoding == "gb18030" or pytest.fail(t.report.encoding),
        _col(t) == [fx.ZH] or pytest.fail(str(_col(t))),
    ),
    "gb18030_long": lambda t: _col(t)[0].startswith("快递太慢了") or pytest.fail(str(_col(t))),
    "shift_jis_medium": lambda t: (
        t.report.encoding == "cp932" or pytest.fail(t.report.encoding),
        _col(t) == [fx.JP, fx.JP] or pytest.fail(str(_col(t))),
    ),
    "cp1252_short": lambda t: (
        t.report.encoding == "cp1252" or pytest.fail(t.report.encoding),
        _col(t) == ["Très bien", "Ça va"] or pytest.fail(str(_col(t))),
    ),
    "mixed_utf8_cp1252": lambda t: (
        # each line in the encoding it is in: the UTF-8 lines as UTF-8, the other as cp1252
        _col(t) == ["café crème", "naïve answer", "déjà vu"] or pytest.fail(str(_col(t))),
        t.report.encoding == "utf-8+cp1252" or pytest.fail(str(t.report.encoding)),
        not t.report.issues or pytest.fail(str(t.report.issues)),
        any("mixes encodings" in w and "lines 3" in w for w in t.report.warnings)
        or pytest.fail(str(t.report.warnings)),
    ),
    "nul_and_controls": lambda t: _col(t) == ["a\x00b\x01c", "ok"] or pytest.fail(str(_col(t))),
    "semicolon_commas": lambda t: (
        t.report.delimiter == ";" or pytest.fail(str(t.report.delimiter)),
        _col(t) == ["hello, world", "fine, thanks"] or pytest.fail(str(_col(t))),
    ),
    "single_column": lambda t: (
        list(t.frame.columns) == ["text"] or pytest.fail(str(t.frame.columns)),
        _col(t) == ["foo@bar.com", "hello there"] or pytest.fail(str(_col(t))),
    ),
    "excel_sep_line": lambda t: (
        list(t.frame.columns) == ["id", "text"] or pytest.fail(str(t.frame.columns)),
        _col(t) == ["a, b", "c"] or pytest.fail(str(_col(t))),
    ),
    "banner_lines": lambda t: (
        (t.report.header_row, t.report.skipped_lines) == (2, 2) or pytest.fail(str(t.report)),
        _col(t) == ["good", "bad"] or pytest.fail(str(_col(t))),
        any("Exported by SurveyTool" in w for w in t.report.warnings) or pytest.fail(str(t.report.warnings)),
    ),
    "too_many_fields": lambda t: (
        t.row_status == ("ok", "bad_line", "ok", "ok") or pytest.fail(str(t.row_status)),
        [(i.row, i.line, i.reason) for i in t.report.issues] == [(1, 3, "bad_line")]
        or pytest.fail(str(t.report.issues)),
        "2,has, extra comma" in t.report.issues[0].detail or pytest.fail(t.report.issues[0].detail),
    ),
    "quoted_newlines": lambda t: (
        _col(t) == ["line one\r\nline two", 'she said "hi"', 'a 5" screen'] or pytest.fail(str(_col(t)))
    ),
    "cr_only": lambda t: _col(t) == ["a", "b"] or pytest.fail(str(_col(t))),
    "duplicate_columns": lambda t: (
        list(t.frame.columns) == ["text", "text.1"] or pytest.fail(str(t.frame.columns)),
        any("Duplicate names: text" in w for w in t.report.warnings) or pytest.fail(str(t.report.warnings)),
    ),
    "trailing_delimiter": lambda t: (
        list(t.frame.columns) == ["id", "text"] or pytest.fail(str(t.frame.columns)),
        any("Dropped 1 empty column" in w for w in t.report.warnings) or pytest.fail(str(t.report.warnings)),
    ),
    "numeric_looking": lambda t: (
        _col(t, "id") == ["0012", "0013", "0014"] or pytest.fail(str(_col(t, "id"))),
        _col(t) == ["5", "TRUE", "1e5"] or pytest.fail(str(_col(t))),
    ),
    "na_literals": lambda t: _col(t) == ["NA", "None", "null", "N/A", ""] or pytest.fail(str(_col(t))),
    "huge_field": lambda t: (
        [len(x) for x in _col(t)] == [5, LoadOptions().max_cell_chars] or pytest.fail("not truncated"),
        [(i.row, i.line, i.reason) for i in t.report.issues] == [(1, 3, "cell_truncated")]
        or pytest.fail(str(t.report.issues)),
    ),
    "big5": lambda t: (
        t.report.encoding == "big5" or pytest.fail(t.report.encoding),
        _col(t)[0] == "這個產品很好用，物流也很快" or pytest.fail(_col(t)[0]),
    ),
    "euc_kr": lambda t: _col(t)[0] == "배송이 너무 늦어요 환불해 주세요" or pytest.fail(_col(t)[0]),
    "pipe_delimited": lambda t: (
        t.report.delimiter == "|" or pytest.fail(str(t.report.delimiter)),
        _col(t) == ["good, fast", "slow"] or pytest.fail(str(_col(t))),
    ),
    "tsv": lambda t: (
        (t.report.format, t.report.delimiter) == ("tsv", "\t") or pytest.fail(str(t.report)),
        _col(t) == ["good, fast", "slow; late"] or pytest.fail(str(_col(t))),
    ),
    "blank_lines_between": lambda t: _col(t) == ["a", "b"] or pytest.fail(str(_col(t))),
    "jsonl": lambda t: (
        list(t.frame.columns) == ["id", "text", "score"] or pytest.fail(str(t.frame.columns)),
        _col(t, "score")[0] == "1.10" or pytest.fail("number not kept exactly"),
        _col(t)[:2] == ["ok", ""] or pytest.fail(str(_col(t))),
        t.row_status == ("ok", "ok", "bad_line", "bad_line") or pytest.fail(str(t.row_status)),
        [i.line for i in t.report.issues] == [3, 4] or pytest.fail(str(t.report.issues)),
    ),
    "json_array": lambda t: _col(t) == ["a", "b"] or pytest.fail(str(_col(t))),
    "xlsx_banner_two_sheets": lambda t: (
        (t.report.format, t.report.sheet, t.report.header_row) == ("xlsx", "Feedback", 1)
        or pytest.fail(str(t.report)),
        _col(t, "id") == ["0012", "2"] or pytest.fail(str(_col(t, "id"))),
        _col(t) == ["good", "NA"] or pytest.fail(str(_col(t))),
        _col(t, "rating") == ["5", "4.5"] or pytest.fail(str(_col(t, "rating"))),
        any("Other" in w for w in t.report.warnings) or pytest.fail(str(t.report.warnings)),
    ),
    "whitespace_only_lines_and_quotes": lambda t: _col(t) == ["  padded  "] or pytest.fail(str(_col(t))),
    "sniff_trap_quoted_delims": lambda t: (
        t.report.delimiter == "," or pytest.fail(str(t.report.delimiter)),
        _col(t) == ["a;b;c|d", "e;f|g"] or pytest.fail(str(_col(t))),
    ),
}


def test_every_fixture_has_an_expectation() -> None:
    assert set(fx.SMALL) == set(ERRORS) | set(CHECKS)


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_input_is_refused_with_a_clear_message(case: str) -> None:
    filename, data = fx.build(case)
    code, pattern = ERRORS[case]
    with pytest.raises(LoadError, match=pattern) as info:
        load_table(data, filename=filename)
    assert info.value.code == code
    assert "Traceback" not in info.value.user_message


@pytest.mark.parametrize("case", sorted(CHECKS))
def test_bad_input_loads_and_reports(case: str) -> None:
    filename, data = fx.build(case)
    table = load_table(data, filename=filename)
    _ok_ledger(table)
    CHECKS[case](table)


def test_gbk_override_and_gb18030_offered_first_for_cjk() -> None:
    """Case 14: when detection says Big5, the override path gives the right text."""
    filename, data = fx.build("gbk_short")
    table = load_table(data, filename=filename, options=LoadOptions(encoding="big5"))
    assert table.report.encoding_overridden
    assert table.frame["text"].tolist() != [fx.ZH]
    fixed = load_table(data, filename=filename, options=LoadOptions(encoding="gbk"))
    assert fixed.frame["text"].tolist() == [fx.ZH]
    assert fixed.report.encoding == "gb18030"
    big5_name, big5_data = fx.build("big5")
    big5 = load_table(big5_data, filename=big5_name)
    assert big5.report.encoding_alternatives[0] == "gb18030"


def test_shift_jis_cp932_is_one_click_away() -> None:
    filename, data = fx.build("shift_jis_medium")
    forced = load_table(data, filename=filename, options=LoadOptions(encoding="cp949"))
    assert forced.frame["text"].tolist() != [fx.JP, fx.JP]
    again = load_table(data, filename=filename, options=LoadOptions(encoding="cp932"))
    assert again.frame["text"].tolist() == [fx.JP, fx.JP]


def test_unknown_encoding_override_is_a_load_error() -> None:
    with pytest.raises(LoadError, match="Unknown encoding 'klingon'") as info:
        load_table(b"id,text\n1,a\n", filename="a.csv", options=LoadOptions(encoding="klingon"))
    assert info.value.code == "encoding"


def test_over_size_limit_is_refused_before_parsing() -> None:
    """Case 4: the API enforces the byte limit itself."""
    data = fx.many_rows_csv(20_000)
    with pytest.raises(LoadError, match=r"over the 0\.1 MB limit") as info:
        load_table(data, filename="big.csv", options=LoadOptions(max_bytes=100 * 1024))
    assert info.value.code == "too_large"


@pytest.mark.slow
def test_xlsx_zip_bomb_is_refused_before_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Case 7: a 150 MB sheet deflated to a few hundred KB is refused from the zip headers alone."""
    import openpyxl

    data = fx.xlsx_zip_bomb(150)
    assert len(data) < 2 * 1024 * 1024

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl must not run on a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", boom)
    with pytest.raises(LoadError, match="possible zip bomb") as info:
        load_table(data, filename="bomb.xlsx")
    assert info.value.code == "zip_bomb"


@pytest.mark.slow
def test_million_rows_load_or_clear_limit() -> None:
    """Case 32: 1M short rows load (ledger balances); a lower row cap gives a clear error."""
    data = fx.many_rows_csv(1_000_000)
    table = load_table(data, filename="million.csv")
    assert table.report.rows_read == len(table.frame) == len(table.row_status) == 1_000_000
    with pytest.raises(LoadError, match=r"over the 500,000 limit") as info:
        load_table(data, filename="million.csv", options=LoadOptions(max_rows=500_000))
    assert info.value.code == "too_many_rows"


def test_row_limit_on_the_careful_path_and_xlsx() -> None:
    ragged = b"id,text\n" + b"".join(b"%d,a\n" % i for i in range(50)) + b"99,x,y\n"
    with pytest.raises(LoadError, match="more than 10 data rows") as info:
        load_table(ragged, filename="r.csv", options=LoadOptions(max_rows=10))
    assert info.value.code == "too_many_rows"
    book = fx.xlsx_bytes([["text"], *[[f"t{i}"] for i in range(40)]])
    with pytest.raises(LoadError, match="more than 10") as info:
        load_table(book, filename="b.xlsx", options=LoadOptions(max_rows=10))
    assert info.value.code == "too_many_rows"
