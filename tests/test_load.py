"""load_table on good files: formats, overrides, report fields, and CSV round trips."""

from __future__ import annotations

import hashlib
import io

import make_bad_fixtures as fx
import pandas as pd
import pytest

from pipeline.errors import LoadError
from pipeline.load import load_table
from pipeline.types import LoadOptions

TEXTS = [
    "Delivery was late, again.",
    '她说"很好"\n第二行',
    '=HYPERLINK("http://x","y")',
    "0012",
    "NA",
    "مرحبا بالعالم",
    "emoji 👍🏽 ok",
    "semi;colon|pipe\ttab",
]


def test_report_fields_for_plain_csv() -> None:
    data = b"id,text\n1,hello\n2,world\n"
    table = load_table(data, filename="dir/feedback.csv")
    report = table.report
    assert report.filename == "feedback.csv"
    assert report.format == "csv"
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert (report.encoding, report.encoding_confidence, report.delimiter, report.header_row) == (
        "utf-8",
        1.0,
        ",",
        0,
    )
    assert report.columns == ("id", "text")
    assert report.rows_read == 2 and table.row_status == ("ok", "ok")
    assert report.to_dict()["rows_read"] == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_round_trip_through_pandas_csv(encoding: str) -> None:
    """What was loaded, written back with pandas and read again, is the same text."""
    frame = pd.DataFrame({"id": [str(i) for i in range(len(TEXTS))], "text": TEXTS})
    data = frame.to_csv(index=False).encode(encoding)
    first = load_table(data, filename="a.csv")
    assert first.frame["text"].tolist() == TEXTS
    again = load_table(first.frame.to_csv(index=False).encode("utf-8"), filename="b.csv")
    assert again.frame["text"].tolist() == TEXTS
    assert again.frame["id"].tolist() == first.frame["id"].tolist()


def test_round_trip_semicolon_and_crlf() -> None:
    frame = pd.DataFrame({"text": TEXTS, "rating": ["5"] * len(TEXTS)})
    data = frame.to_csv(index=False, sep=";", lineterminator="\r\n").encode("utf-8")
    table = load_table(data, filename="a.csv")
    assert table.report.delimiter == ";"
    assert table.frame["text"].tolist() == TEXTS


def test_parquet_is_read_as_strings() -> None:
    frame = pd.DataFrame(
        {"id": [1, 2, 3], "text": ["a", None, "c"], "score": [1.5, None, 2.0], "ok": [True, False, None]}
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    table = load_table(buffer.getvalue(), filename="x.parquet")
    assert table.report.format == "parquet"
    assert table.frame["id"].tolist() == ["1", "2", "3"]
    assert table.frame["text"].tolist() == ["a", "", "c"]
    assert table.frame["score"].tolist()[1] == ""
    assert table.frame["ok"].tolist() == ["true", "false", ""]


def test_parquet_row_limit_from_metadata() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"text": [f"t{i}" for i in range(100)]}).to_parquet(buffer)
    with pytest.raises(LoadError, match="100 rows, over the 10 limit") as info:
        load_table(buffer.getvalue(), filename="x.parquet", options=LoadOptions(max_rows=10))
    assert info.value.code == "too_many_rows"


def test_xlsx_sheet_choice_by_name_and_index() -> None:
    data = fx.xlsx_bytes([["text"], ["first sheet"]], sheets={"Second": [["comment"], ["from second"]]})
    assert load_table(data, filename="b.xlsx").frame["text"].tolist() == ["first sheet"]
    by_name = load_table(data, filename="b.xlsx", options=LoadOptions(sheet="Second"))
    assert (by_name.report.sheet, by_name.frame["comment"].tolist()) == ("Second", ["from second"])
    by_index = load_table(data, filename="b.xlsx", options=LoadOptions(sheet=1))
    assert by_index.frame["comment"].tolist() == ["from second"]
    with pytest.raises(LoadError, match=r"no sheet named 'Nope'\. Sheets: Feedback, Second") as info:
        load_table(data, filename="b.xlsx", options=LoadOptions(sheet="Nope"))
    assert info.value.code == "no_sheet"


def test_xlsx_formulas_are_never_evaluated_and_text_stays_text() -> None:
    data = fx.xlsx_bytes([["id", "text"], ["0012", "=1+1"], ["2", "plain"]])
    table = load_table(data, filename="f.xlsx")
    # openpyxl wrote no cached value: the formula is not computed (read as empty), never run
    assert table.frame["text"].tolist() == ["", "plain"]
    assert table.frame["id"].tolist() == ["0012", "2"]


def test_xlsx_content_named_csv_is_read_as_workbook() -> None:
    data = fx.xlsx_bytes([["text"], ["hello"]])
    table = load_table(data, filename="export.csv")
    assert table.report.format == "xlsx"
    assert any("named .csv" in w for w in table.report.warnings)


def test_delimiter_and_header_overrides() -> None:
    data = b"title line\nid|text\n1|a,b\n"
    table = load_table(data, filename="a.txt", options=LoadOptions(delimiter="|", header_row=1))
    assert table.frame["text"].tolist() == ["a,b"]
    assert table.report.header_row == 1
    with pytest.raises(LoadError, match="single character") as info:
        load_table(data, filename="a.txt", options=LoadOptions(delimiter="||"))
    assert info.value.code == "bad_option"


def test_short_rows_are_padded_and_ragged_rows_keep_their_text() -> None:
    data = b"id,text,channel\n1,good,web\n2\n3,bad, really bad,app\n"
    table = load_table(data, filename="a.csv")
    assert table.frame["text"].tolist() == ["good", "", "bad"]
    assert table.frame["channel"].tolist() == ["web", "", " really bad,app"]
    assert table.row_status == ("ok", "ok", "bad_line")
    assert table.report.issues[0].line == 4


def test_cell_limit_is_configurable() -> None:
    table = load_table(
        b"text\n" + b"y" * 50 + b"\n", filename="a.csv", options=LoadOptions(max_cell_chars=10)
    )
    assert table.frame["text"].tolist() == ["y" * 10]
    assert table.report.issue_counts() == {"cell_truncated": 1}


def test_encoding_override_reports_undecodable_rows() -> None:
    data = "text\nok\n退款\n".encode("gb18030")
    table = load_table(data, filename="a.csv", options=LoadOptions(encoding="utf-8"))
    assert table.report.encoding_overridden
    assert table.report.issue_counts() == {"undecodable": 1}
    assert table.report.issues[0].row == 1 and table.report.issues[0].line == 3


def test_xlsx_formulas_without_saved_results_are_reported_not_silently_empty() -> None:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["text", "score"])
    sheet.append(["The app crashes on login", 1])
    sheet.append(['=CONCATENATE("Refund ", "never arrived")', "=1+1"])  # openpyxl saves no result
    sheet.append(["Delivery was late", 3])
    buffer = io.BytesIO()
    book.save(buffer)

    table = load_table(buffer.getvalue(), filename="formulas.xlsx")

    lost = [i for i in table.report.issues if i.reason == "formula_no_value"]
    assert [(i.row, i.line) for i in lost] == [(1, 3), (1, 3)]
    assert "CONCATENATE" in lost[0].detail + lost[1].detail and "'text'" in lost[0].detail + lost[1].detail
    assert any("2 cell(s) hold formulas with no saved result" in w for w in table.report.warnings)
    assert table.frame["text"].tolist() == ["The app crashes on login", "", "Delivery was late"]


def test_xlsx_formulas_with_saved_results_read_their_values_without_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import zipfile

    import openpyxl

    import pipeline.load._xlsx as load_module

    def second_pass(*args: object) -> None:
        raise AssertionError("formulas that carry their results need no formula-reading pass")

    monkeypatch.setattr(load_module, "_uncalculated_formulas", second_pass)

    book = openpyxl.Workbook()
    book.active.append(["text"])
    book.active.append(["=A3"])
    book.active.append(["Great support"])
    buffer = io.BytesIO()
    book.save(buffer)
    # Put in the cached value a calculating program (Excel, LibreOffice) would have saved.
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<f>A3</f><v></v>", b"<f>A3</f><v>Great support</v>")
                content = content.replace(b"<f>A3</f><v />", b"<f>A3</f><v>Great support</v>")
                content = content.replace(b'<c r="A2"', b'<c t="str" r="A2"', 1)
                assert b"<v>Great support</v>" in content, content
            out.writestr(info, content)

    table = load_table(patched.getvalue(), filename="calculated.xlsx")

    assert table.frame["text"].tolist() == ["Great support", "Great support"]
    assert not [i for i in table.report.issues if i.reason == "formula_no_value"]
    assert not any("formulas" in w for w in table.report.warnings)


@pytest.mark.parametrize(
    ("cell", "lost"),
    [
        (b'<c r="A2"><f>1+1</f><v /></c>', True),
        (b'<c r="A2"><f>1+1</f></c>', True),
        (b'<c><f t="shared" si="0"/></c>', True),
        (b"<x:c><x:f>A1</x:f><x:v></x:v></x:c>", True),
        (b"<c><f>1+1</f><v>2</v></c>", False),
        (b'<c t="s"><v>3</v></c>', False),
        (b'<c><f t="shared" si="0"/><v>5</v></c>', False),
    ],
)
def test_formula_without_saved_value_pattern(cell: bytes, lost: bool) -> None:
    from pipeline.load._xlsx import _FORMULA_WITHOUT_VALUE_RE

    assert bool(_FORMULA_WITHOUT_VALUE_RE.search(cell)) is lost
