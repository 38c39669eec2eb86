"""Text preparation: normalisation, text-column detection, statuses and issues."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from pipeline.documents import detect_text_column, normalise_text, prepare_documents
from pipeline.errors import LoadError
from pipeline.load import load_table
from pipeline.types import LoadedTable


def _table(texts: list[str], **extra: list[str]) -> LoadedTable:
    frame = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts, **extra})
    return load_table(frame.to_csv(index=False).encode("utf-8"), filename="t.csv")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello   world  ", "hello world"),
        ("a\x00b\x01c", "abc"),  # case 18
        ("abc\u202edcba", "abcdcba"),  # case 36: bidi override
        ("zero\u200bwidth\ufeff", "zerowidth"),  # case 36: zero-width
        ("cafe\u0301", "café"),  # case 40: NFD -> NFC
        ("line1\r\nline2\tend", "line1 line2 end"),
        ("全角\u3000スペース", "全角 スペース"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # ZWJ kept inside emoji sequences
        ("\u200b \u200b", ""),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected
    assert normalise_text(normalise_text(raw)) == normalise_text(raw)


def test_statuses_empty_duplicate_and_emoji() -> None:
    """Case 37: emoji-only kept, whitespace/punctuation-only empty; duplicates point to the first row."""
    texts = ["Great app", "👍", "   ", "!!!", "great  app", "Great app", "cafe\u0301", "café", "ＡＢＣ"]
    docs = prepare_documents(_table(texts), text_column="text")
    assert docs.status == ("ok", "ok", "empty", "empty", "ok", "duplicate_of:0", "ok", "duplicate_of:6", "ok")
    assert docs.texts[1] == "👍"
    assert docs.excluded_counts() == {"empty": 2, "duplicate": 2}
    assert list(docs.source_row) == [0, 1, -1, -1, 4, 0, 6, 6, 8]


def test_bad_lines_from_the_loader_stay_excluded() -> None:
    table = load_table(b"id,text\n1,fine\n2,too, many\n3,fine\n", filename="r.csv")
    docs = prepare_documents(table, text_column="text")
    assert docs.status == ("ok", "bad_line", "duplicate_of:0")
    assert docs.texts[1] == ""


def test_altered_rows_are_recorded() -> None:
    docs = prepare_documents(_table(["ok text", "a\x00b", "x" * 50]), text_column="text", max_chars=20)
    assert [(i.row, i.reason) for i in docs.issues] == [(1, "control_chars"), (2, "truncated")]
    assert docs.texts == ("ok text", "ab", "x" * 20)


def test_unknown_column_lists_the_columns() -> None:
    with pytest.raises(
        LoadError, match=r"no column named 'comment'\. Columns: 'id', 'text', 'rating'"
    ) as info:
        prepare_documents(_table(["a"], rating=["5"]), text_column="comment")
    assert info.value.code == "unknown_column"


def test_detect_text_column_skips_ids_dates_ratings_channels() -> None:
    n = 60
    frame = pd.DataFrame(
        {
            "ticket": [f"TCK-{1000 + i}" for i in range(n)],
            "date": [f"2024-03-{i % 28 + 1:02d}" for i in range(n)],
            "rating": [str(i % 5 + 1) for i in range(n)],
            "channel": [["web", "app", "email"][i % 3] for i in range(n)],
            "body": [f"The parcel number {i} arrived damaged and support never replied" for i in range(n)],
        }
    )
    column, reason = detect_text_column(frame)
    assert column == "body"
    assert reason.startswith("'body' looks most like free text")
    cjk = pd.DataFrame({"id": [str(i) for i in range(n)], "内容": [f"快递太慢了第{i}次" for i in range(n)]})
    assert detect_text_column(cjk)[0] == "内容"
    with pytest.raises(LoadError) as info:
        detect_text_column(pd.DataFrame({"a": ["1", "2"], "b": ["", ""]}))
    assert info.value.code == "no_text_column"


def test_prepare_uses_detection_when_no_column_given() -> None:
    docs = prepare_documents(_table(["a long piece of feedback text"] * 3, rating=["5", "4", "3"]))
    assert docs.text_column == "text"
    assert "free text" in docs.text_column_reason


@pytest.mark.slow
def test_million_short_rows_are_fast() -> None:
    rows = "id,text\n" + "".join(f"{i},short text number {i % 200_000}\n" for i in range(1_000_000))
    table = load_table(rows.encode(), filename="big.csv")
    start = time.perf_counter()
    docs = prepare_documents(table, text_column="text")
    elapsed = time.perf_counter() - start
    assert docs.n_rows == 1_000_000
    assert docs.excluded_counts() == {"duplicate": 800_000}
    assert elapsed < 10, elapsed


def test_placeholder_answers_are_excluded_as_no_answer() -> None:
    """'N/A', 'n/a', 'null', 'no comment'... are not feedback: excluded, counted, never clustered."""
    import random

    from pipeline.types import Ledger

    rng = random.Random(5)
    placeholders = ["N/A", "n/a", "NA", "#N/A", "n.a.", "Null", " no comment ", "无", "なし", "N/A."]
    answers = ["The app crashes on login", "None of the buttons work", "Na na na is a fun song"]
    cells = [rng.choice(placeholders) for _ in range(30)] + answers
    rng.shuffle(cells)
    body = "id,text\n" + "".join(f'{i},"{c}"\n' for i, c in enumerate(cells))
    documents = prepare_documents(load_table(body.encode(), filename="na.csv"), text_column="text")
    by_row = dict(zip(cells, documents.status, strict=False))
    assert all(documents.status[i] == "no_answer" for i, c in enumerate(cells) if c in placeholders)
    assert all(by_row[a] == "ok" for a in answers)
    counts = documents.excluded_counts()
    assert counts["no_answer"] == 30
    Ledger(rows_read=documents.n_rows, rows_clustered=len(documents.unique_rows), excluded=counts, altered={})
