"""Exports: assignments/topics frames, formula-safe CSV, XLSX cell types and limits, JSON.

Every check reads the written bytes back with a real reader (``csv``, pandas, openpyxl, ``json``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.export import (
    ASSIGNMENT_COLUMNS,
    EXAMPLE_SEPARATOR,
    TOPIC_COLUMNS,
    TRUNCATION_MARK,
    XLSX_MAX_CELL_CHARS,
    assignments_frame,
    jsonable,
    neutralise_cell,
    row_issues_frame,
    to_csv_bytes,
    to_json_bytes,
    to_xlsx_bytes,
    topics_frame,
)
from pipeline.types import OUTLIER, STATUS_OK
from tests._result_factory import HOSTILE_HEADER, LONG_CELL_CHARS, PAYLOADS, TEXT_COLUMN, make_result

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@pytest.fixture(scope="module")
def result():
    return make_result(60, with_payloads=True)


@pytest.fixture(scope="module")
def xlsx(result):
    return openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(result)))


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def _unneutralise(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def _would_run(value: str) -> bool:
    """What a spreadsheet would evaluate: a trigger first, after optional whitespace."""
    stripped = value.lstrip()
    return value[:1] in ("\t", "\r", "\n", "\x00") or (stripped[:1] in ("=", "+", "-", "@"))


# ---------------------------------------------------------------------------------- OWASP table
@pytest.mark.parametrize(
    ("cell", "expected_field"),
    [
        ('=1+2";=1+2', '"\'=1+2"";=1+2"'),  # the OWASP example, quotes doubled
        ("=1+2'\" ;,=1+2", '"\'=1+2\'"" ;,=1+2"'),
        ("+SUM(1,2)", '"\'+SUM(1,2)"'),
        ("-2+3", '"\'-2+3"'),
        ("@SUM(1)", '"\'@SUM(1)"'),
        ("=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\""),
        ('=HYPERLINK("https://x.example","y")', '"\'=HYPERLINK(""https://x.example"",""y"")"'),
        ("\t=1+1", '"\'\t=1+1"'),
        ("\r=1+1", '"\'\r=1+1"'),
        ("\n=1+1", '"\'\n=1+1"'),
        ("   =1+1", '"\'   =1+1"'),
        ("\u3000@SUM(1)", '"\'\u3000@SUM(1)"'),
        ("\tplain", '"\'\tplain"'),
        ("hello = world", '"hello = world"'),
        ("a-b", '"a-b"'),
        ("", '""'),
        ("-1", '"-1"'),  # a plain number cannot run; a spreadsheet reads it as -1
        ("+3.5", '"+3.5"'),
        ("-1,5", '"-1,5"'),
        ("-1e5", '"\'-1e5"'),  # not a plain decimal: neutralised
        ("- 1", '"\'- 1"'),
        ("快递太慢=1", '"快递太慢=1"'),
    ],
)
def test_owasp_cases_in_csv(cell: str, expected_field: str) -> None:
    data = to_csv_bytes(pd.DataFrame({"text": [cell]}), bom=False)
    header, body = data.decode("utf-8").split("\r\n", 1)
    assert header == '"text"'
    assert body == expected_field + "\r\n"


def test_every_field_quoted_and_headers_neutralised(result) -> None:
    data = to_csv_bytes(assignments_frame(result))
    text = data[3:].decode("utf-8")
    header_line = text.split("\r\n", 1)[0]
    fields = next(csv.reader([header_line]))
    assert header_line.startswith('"row","topic_id",') and header_line.endswith('"')
    assert "'" + HOSTILE_HEADER in fields
    assert fields[: len(ASSIGNMENT_COLUMNS)] == list(ASSIGNMENT_COLUMNS)
    # QUOTE_ALL: every record of a simple (newline-free) numeric frame starts and ends with a quote
    simple = to_csv_bytes(pd.DataFrame({"a": [1, -2], "b": ["x", "=y"]}), bom=False).decode()
    assert simple == '"a","b"\r\n"1","x"\r\n"-2","\'=y"\r\n'


def test_numeric_columns_stay_numbers(result) -> None:
    rows = _csv_rows(to_csv_bytes(assignments_frame(result)))
    header, body = rows[0], rows[1:]
    col = {name: header.index(name) for name in ("row", "topic_id", "x", "y", "status", "rating")}
    outliers = [r for r in body if r[col["topic_id"]] == "-1"]
    assert outliers, "outlier rows keep topic_id -1 as a plain number"
    negatives = [r[col["x"]] for r in body if r[col["x"]].startswith("-")]
    assert negatives and all(float(v) < 0 for v in negatives)
    excluded = [r for r in body if r[col["status"]] in ("empty", "bad_line")]
    assert excluded and all(r[col["topic_id"]] == "" and r[col["x"]] == "" for r in excluded)
    assert "-1" in [r[col["rating"]] for r in body], "plain negative numbers in text columns are not quoted"


def test_bom_option() -> None:
    frame = pd.DataFrame({"文本": ["快递太慢了", "التوصيل"]})
    with_bom = to_csv_bytes(frame)
    plain = to_csv_bytes(frame, bom=False)
    assert with_bom == b"\xef\xbb\xbf" + plain
    assert plain.decode("utf-8").startswith('"文本"')


def test_lone_surrogate_does_not_crash_csv() -> None:
    data = to_csv_bytes(pd.DataFrame({"t": pd.Series(["ok \udcff bad"], dtype=object)}), bom=False)
    assert "ok \ufffd bad" in data.decode("utf-8")


def test_csv_round_trip_with_pandas(result) -> None:
    frame = assignments_frame(result)
    back = pd.read_csv(
        io.BytesIO(to_csv_bytes(frame)),
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        engine="python",
    )
    assert list(back.columns) == [neutralise_cell(c) for c in frame.columns]
    assert len(back) == len(frame)
    for j, column in enumerate(result.table.columns):
        exported = back.iloc[:, len(ASSIGNMENT_COLUMNS) + j].tolist()
        original = result.table[column].tolist()
        assert [neutralise_cell(v) for v in original] == exported
        restored = [_unneutralise(v) if _would_run(o) else v for v, o in zip(exported, original, strict=True)]
        assert restored == original, column
    # every payload survives as text a reader sees, only with the neutralising quote in front
    texts = back[TEXT_COLUMN].tolist()
    for name, payload in PAYLOADS.items():
        assert any(payload in _unneutralise(t) for t in texts), name
    assert all(not _would_run(t) or re.fullmatch(r"[+-]?\d+([.,]\d+)?", t) for t in texts)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_csv_property_never_starts_a_formula(cells: list[str]) -> None:
    data = to_csv_bytes(pd.DataFrame({"t": cells}), bom=False)
    parsed = [row[0] for row in csv.reader(io.StringIO(data.decode("utf-8"), newline=""))][1:]
    assert len(parsed) == len(cells)
    for original, field in zip(cells, parsed, strict=True):
        safe = original.replace("\x00", "\x00")
        assert field in (safe, "'" + safe)
        if field != safe:
            assert _would_run(original)
        assert not _would_run(field) or re.fullmatch(r"[+-]?\d+([.,]\d+)?", field)


# ------------------------------------------------------------------------------------ frames
def test_assignments_frame_rows_and_columns(result) -> None:
    frame = assignments_frame(result)
    n = result.documents.n_rows
    assert list(frame["row"]) == list(range(n))
    own = list(frame.columns[: len(ASSIGNMENT_COLUMNS)])
    assert own == list(ASSIGNMENT_COLUMNS)
    inputs = list(frame.columns[len(ASSIGNMENT_COLUMNS) :])
    assert len(inputs) == len(result.table.columns), "no input column is dropped"
    assert "status_input" in inputs and "x_input" in inputs and HOSTILE_HEADER in inputs
    assert frame["status_input"].tolist() == result.table["status"].tolist()
    assert frame["status"].tolist() == list(result.documents.status)
    assert str(frame["topic_id"].dtype) == "Int64"

    labels = result.row_labels()
    names = result.topic_names()
    for i, status in enumerate(result.documents.status):
        row = frame.iloc[i]
        if status == STATUS_OK or status.startswith("duplicate_of:"):
            source = i if status == STATUS_OK else int(status.split(":")[1])
            assert row["topic_id"] == labels[source]
            assert row["topic_name"] == names[int(labels[source])]
            assert row["language"] == result.languages[source]
            assert row["x"] == frame.iloc[source]["x"] and not math.isnan(row["x"])
        else:
            assert pd.isna(row["topic_id"]) and row["topic_name"] == "" and math.isnan(row["x"])
    assert (frame["topic_id"] == OUTLIER).sum() > 0


def test_assignments_clash_suffix_is_unique() -> None:
    base = make_result(20, with_payloads=False)
    table = base.table.copy()
    table["row_input"] = "taken"
    table.insert(0, "row", "mine")
    clashing = type(base)(**{**base.__dict__, "table": table})
    columns = list(assignments_frame(clashing).columns)
    assert len(columns) == len(set(columns)) == len(ASSIGNMENT_COLUMNS) + table.shape[1]
    assert "row_input" in columns and "row_input2" in columns


def test_topics_frame(result) -> None:
    frame = topics_frame(result)
    assert list(frame.columns) == list(TOPIC_COLUMNS)
    assert frame["topic_id"].tolist()[-1] == OUTLIER and (frame["topic_id"] == OUTLIER).sum() == 1
    real = frame[frame["topic_id"] != OUTLIER]
    assert real["size"].is_monotonic_decreasing
    assert frame["size"].sum() == result.ledger.rows_read - result.ledger.excluded.get(
        "empty", 0
    ) - result.ledger.excluded.get("bad_line", 0)
    by_id = {t.id: t for t in result.topics}
    for record in frame.itertuples(index=False):
        topic = by_id[record.topic_id]
        assert record.name == topic.name
        assert record.keywords.split("; ") == [w for w, _ in topic.keywords]
        assert record.examples.count(EXAMPLE_SEPARATOR) == len(topic.examples[:3]) - 1
        assert record.examples.startswith(result.documents.texts[topic.examples[0]])
        counts = dict(part.split(": ") for part in record.languages.split("; "))
        assert {k: int(v) for k, v in counts.items()} == topic.languages
        assert abs(record.share - topic.share) < 1e-4
    assert frame.loc[frame["topic_id"] == 0, "languages"].item().startswith("en: ")


def test_row_issues_frame_lists_every_excluded_and_altered_row(result) -> None:
    issues = row_issues_frame(result)
    excluded = issues[issues["kind"] == "excluded"]
    assert len(excluded) == sum(result.ledger.excluded.values())
    altered = issues[issues["kind"] == "altered"]
    assert len(altered) == sum(result.ledger.altered.values())
    bad = excluded[excluded["reason"] == "bad_line"]
    assert bad["line"].notna().all() and bad["detail"].str.contains("broken").all()


# -------------------------------------------------------------------------------------- XLSX
def test_xlsx_sheets_and_cell_types(result, xlsx) -> None:
    assert xlsx.sheetnames == ["topics", "assignments", "row issues", "run-info"]
    for sheet in xlsx.worksheets:
        assert not sheet._hyperlinks, "no live links"
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type in ("s", "n"), (sheet.title, cell.coordinate, cell.data_type)
    assignments = xlsx["assignments"]
    header = [c.value for c in assignments[1]]
    assert header[: len(ASSIGNMENT_COLUMNS)] == list(ASSIGNMENT_COLUMNS)
    assert HOSTILE_HEADER in header and assignments.cell(1, header.index(HOSTILE_HEADER) + 1).data_type == "s"
    col = {name: header.index(name) + 1 for name in ("topic_id", "x", TEXT_COLUMN, "rating")}
    topic_ids = [assignments.cell(r, col["topic_id"]) for r in range(2, assignments.max_row + 1)]
    assert any(c.value == -1 and c.data_type == "n" for c in topic_ids)
    assert any(c.value is None for c in topic_ids), "excluded rows have a blank topic_id"
    xs = [assignments.cell(r, col["x"]).value for r in range(2, assignments.max_row + 1)]
    assert any(isinstance(v, float) and v < 0 for v in xs)
    ratings = [assignments.cell(r, col["rating"]) for r in range(2, assignments.max_row + 1)]
    assert all(c.data_type == "s" for c in ratings if c.value is not None), "input text stays text"


def test_xlsx_round_trip_text(result, xlsx) -> None:
    assignments = xlsx["assignments"]
    header = [c.value for c in assignments[1]]
    j = header.index(TEXT_COLUMN) + 1
    exported = [assignments.cell(r, j).value or "" for r in range(2, assignments.max_row + 1)]
    original = result.table[TEXT_COLUMN].tolist()
    assert len(exported) == len(original)
    for got, want in zip(exported, original, strict=True):
        want = _XML_ILLEGAL.sub("", want.replace("\r\n", "\n").replace("\r", "\n"))
        if len(want) > XLSX_MAX_CELL_CHARS:
            assert got.endswith(TRUNCATION_MARK) and len(got) <= XLSX_MAX_CELL_CHARS
            assert want.startswith(got[: -len(TRUNCATION_MARK)])
        else:
            assert got == want, "formula payloads are stored as exact text, not prefixed"
    for name in ("formula_eq", "formula_dde", "script", "latex_href"):
        assert PAYLOADS[name] in exported


def test_xlsx_reports_truncation_and_control_chars(result, xlsx) -> None:
    info = {row[0].value: row[1].value for row in xlsx["run-info"].iter_rows(min_row=2)}
    assert info["export.cells_truncated"] == 1
    truncated = [k for k in info if k.startswith("export.truncated[")]
    assert truncated and "assignments / feedback" in truncated[0]
    longest = max(len(t) for t in result.table[TEXT_COLUMN])
    assert longest > LONG_CELL_CHARS and f"{longest} characters" in info[truncated[0]]
    expected_removed = sum(len(_XML_ILLEGAL.findall(t)) for t in result.table[TEXT_COLUMN])
    assert expected_removed > 0
    assert info["export.control_chars_removed"] >= expected_removed
    assert info["export.control_chars_removed[assignments / feedback]"] == expected_removed
    assert info["model"] == "fake-multilingual" and info["n_topics"] == 4
    assert info["ledger.rows_read"] == result.ledger.rows_read


def test_xlsx_row_issues_and_topics_sheets(result, xlsx) -> None:
    issues = list(xlsx["row issues"].iter_rows(min_row=2, values_only=True))
    assert len(issues) == len(row_issues_frame(result))
    topics = list(xlsx["topics"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in topics] == topics_frame(result)["topic_id"].tolist()
    assert any(PAYLOADS["formula_eq"] in (r[4] or "") for r in topics), "keywords kept as text"


def test_xlsx_splits_beyond_excel_row_limit(monkeypatch) -> None:
    import pipeline.export as export

    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 11)  # 10 data rows per sheet
    small = make_result(25, with_payloads=False)
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes(small)))
    assert book.sheetnames[:4] == ["topics", "assignments", "assignments 2", "assignments 3"]
    rows = sum(book[name].max_row - 1 for name in ("assignments", "assignments 2", "assignments 3"))
    assert rows == 25
    info = {row[0].value: row[1].value for row in book["run-info"].iter_rows(min_row=2)}
    assert "export.assignments_split" in info


def test_xlsx_notes_columns_cut_beyond_excel_column_limit(monkeypatch) -> None:
    import pipeline.export as export

    monkeypatch.setattr(export, "XLSX_MAX_COLUMNS", 9)  # the real limit is 16,384
    small = make_result(20, with_payloads=False)
    width = export.assignments_frame(small).shape[1]
    assert width > 9
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes(small)))
    assert book["assignments"].max_column == 9
    info = {row[0].value: row[1].value for row in book["run-info"].iter_rows(min_row=2)}
    assert f"{width:,} columns" in info["export.columns_cut[assignments]"]
    assert "CSV and JSON exports keep them all" in info["export.columns_cut[assignments]"]


# -------------------------------------------------------------------------------------- JSON
def test_json_export(result) -> None:
    data = to_json_bytes(result)
    assert "快递".encode() in data and b"\\u5feb" not in data, "UTF-8, not ASCII escapes"
    document = json.loads(data.decode("utf-8"))
    assert document["format"] == "feedback-topics/1"
    assert set(document) == {"format", "run", "ledger", "topics", "themes", "assignments", "row_issues"}
    assert document["run"]["n_topics"] == 4 and isinstance(document["run"]["timings_s"]["load"], float)
    assert len(document["assignments"]) == result.documents.n_rows
    assert document["topics"][-1]["id"] == OUTLIER
    first = document["topics"][0]
    assert set(first) == {
        "id",
        "name",
        "size",
        "share",
        "keywords",
        "examples",
        "languages",
        "keywords_original",
        "theme_id",
        "sentiment",
    }
    assert first["keywords"][0]["word"] and isinstance(first["keywords"][0]["weight"], float)
    for record, status in zip(document["assignments"], result.documents.status, strict=True):
        assert record["status"] == status
        if status in ("empty", "bad_line"):
            assert record["topic_id"] is None and record["x"] is None
        else:
            assert isinstance(record["topic_id"], int) and isinstance(record["x"], float)
    texts = [a["input"][TEXT_COLUMN] for a in document["assignments"]]
    assert texts == result.table[TEXT_COLUMN].tolist(), "full original text, control characters included"
    assert "status" in document["assignments"][0]["input"]


def test_jsonable_handles_numpy_and_friends() -> None:
    @dataclass
    class Box:
        value: np.float32

    value = {
        "i": np.int64(3),
        "f": np.float32(0.5),
        "nan": float("nan"),
        "inf": np.float64("inf"),
        "arr": np.arange(3),
        "path": Path("/tmp/x"),
        "when": datetime(2024, 1, 2, tzinfo=UTC),
        "set": {"b", "a"},
        "box": Box(np.float32(1.5)),
        "na": pd.NA,
        7: "int key",
    }
    out = jsonable(value)
    assert json.loads(json.dumps(out, allow_nan=False)) == {
        "i": 3,
        "f": 0.5,
        "nan": None,
        "inf": None,
        "arr": [0, 1, 2],
        "path": "/tmp/x",
        "when": "2024-01-02T00:00:00+00:00",
        "set": ["a", "b"],
        "box": {"value": 1.5},
        "na": None,
        "7": "int key",
    }
