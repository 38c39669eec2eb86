"""Rows lost or altered in parsing (issue 15), from generated fixtures: nothing vanishes silently."""

from __future__ import annotations

import make_bad_fixtures as fx
import pytest

from pipeline.load import load_table
from pipeline.types import LoadedTable, LoadOptions

SEEDS = range(6)


def _ledger(table: LoadedTable) -> None:
    assert table.report.rows_read == len(table.frame) == len(table.row_status)
    assert all(0 <= i.row < len(table.frame) for i in table.report.issues)


@pytest.mark.parametrize("seed", SEEDS)
def test_unbalanced_quote_is_flagged_not_silent(seed: int) -> None:
    data, start, swallowed = fx.unbalanced_quote_csv(seed)
    table = load_table(data, filename="q.csv")
    _ledger(table)
    assert table.row_status[start] == "bad_line"
    assert any(i.row == start and "look like rows" in i.detail for i in table.report.issues)
    assert any("unbalanced quote" in w for w in table.report.warnings)
    assert table.frame["text"][start].count("\n") == swallowed + 1


@pytest.mark.parametrize("seed", SEEDS)
def test_unquoted_commas_keep_the_whole_answer_and_flag_the_row(seed: int) -> None:
    data, row = fx.unquoted_commas_csv(seed)
    table = load_table(data, filename="c.csv")
    _ledger(table)
    assert table.row_status[row] == "bad_line"
    assert table.frame["text"][row].endswith(", really")
    assert [i.row for i in table.report.issues if i.reason == "bad_line"] == [row]


@pytest.mark.parametrize("seed", SEEDS)
def test_header_with_unnamed_last_column_is_the_header(seed: int) -> None:
    data, texts = fx.unnamed_last_column_csv(seed)
    table = load_table(data, filename="u.csv")
    _ledger(table)
    assert list(table.frame.columns) == ["id", "rating", "column_3"]
    assert table.frame["column_3"].tolist() == texts
    assert table.report.header_row == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_file_without_header_keeps_its_first_row(seed: int) -> None:
    data, texts = fx.headerless_csv(seed)
    table = load_table(data, filename="h.csv")
    _ledger(table)
    text_column = "column_1" if seed % 3 == 2 else "column_2"
    assert table.frame[text_column].tolist() == texts
    assert any("looks like data" in w for w in table.report.warnings)
    forced = load_table(data, filename="h.csv", options=LoadOptions(header_row=0))
    assert len(forced.frame) == len(texts) - 1  # asked for: the first line is the header


def test_headerless_file_line_numbers_still_point_at_the_file() -> None:
    data = b"1,The app crashes on login\n2,Great support team\n3," + b"x" * 1_000_001 + b"\n"
    table = load_table(data, filename="h.csv")
    assert [(i.row, i.line, i.reason) for i in table.report.issues] == [(2, 3, "cell_truncated")]


@pytest.mark.parametrize("seed", SEEDS)
def test_jsonl_separators_numbers_and_surrogates(seed: int) -> None:
    data, texts, metas = fx.jsonl_tricky(seed)
    table = load_table(data, filename="t.jsonl")
    _ledger(table)
    assert len(table.frame) == len(texts)
    assert table.frame["text"].tolist() == texts
    assert table.frame["meta"].tolist() == metas
    assert set(table.row_status) == {"ok"}
    assert [i.reason for i in table.report.issues] == ["undecodable"]


@pytest.mark.parametrize("seed", SEEDS)
def test_parquet_binary_column_with_one_bad_value_stays_text(seed: int) -> None:
    data, texts = fx.parquet_binary_texts(seed)
    table = load_table(data, filename="p.parquet")
    _ledger(table)
    assert table.frame["text"].tolist() == texts
    assert [i.reason for i in table.report.issues] == ["undecodable"]


def test_legitimate_multiline_answers_with_commas_are_not_flagged() -> None:
    cells = ["Good app,\nbut slow, sadly\nand it crashes, often", "Line one\nline two, with a comma\nthree"]
    body = "id,text\n" + "".join(f'{i},"{c}"\n' for i, c in enumerate(cells)) + "9,fine\n"
    table = load_table(body.encode(), filename="m.csv")
    assert table.row_status == ("ok", "ok", "ok")
    assert table.frame["text"].tolist()[:2] == cells
