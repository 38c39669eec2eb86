"""Encodings decided per file from evidence (issue 15): generated fixtures in many codecs.

Every case passes when the text is read exactly, or when the loader says it is unsure (confidence
below 0.75, a warning naming the alternatives): mojibake is never passed off as text silently.
"""

from __future__ import annotations

import csv

import make_bad_fixtures as fx
import pandas as pd
import pytest

from pipeline.errors import LoadError
from pipeline.load import load_table
from pipeline.types import LoadOptions

SEEDS = (1, 2, 3)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("index", range(len(fx.ENCODED)))
def test_generated_encodings_are_read_exactly(seed: int, index: int) -> None:
    filename, data, texts, names = fx.encoded_case(seed, index)
    table = load_table(data, filename=filename)
    report = table.report
    assert report.rows_read == len(table.frame) == len(table.row_status) == len(texts)
    assert table.frame["text"].tolist() == texts, (report.encoding, report.encoding_confidence)
    assert report.encoding in names


def test_kanji_only_shift_jis_is_not_read_as_korean() -> None:
    rng = fx.random.Random(7)
    texts = [fx.sentence(rng, "ja_kanji", 12) for _ in range(20)]
    data = ("id,text\n" + "".join(f"{i},{t}\n" for i, t in enumerate(texts))).encode("shift_jis")
    table = load_table(data, filename="kanji.csv")
    assert table.report.encoding == "cp932"
    assert table.frame["text"].tolist() == texts


def test_big5_with_only_high_trail_bytes_is_big5() -> None:
    rng = fx.random.Random(3)
    texts = [fx.big5_high_trail(rng, 15) for _ in range(10)]
    data = ("id,text\n" + "".join(f"{i},{t}\n" for i, t in enumerate(texts))).encode("big5")
    assert data.decode("gb18030")  # the trap: it also decodes as GB18030
    table = load_table(data, filename="tw.csv")
    assert table.report.encoding == "big5"
    assert table.frame["text"].tolist() == texts


@pytest.mark.parametrize("seed", SEEDS)
def test_mixed_utf8_and_cp1252_lines_each_read_in_their_encoding(seed: int) -> None:
    data, texts = fx.mixed_utf8_legacy(seed)
    table = load_table(data, filename="mixed.csv")
    assert table.frame["text"].tolist() == texts
    assert table.report.encoding == "utf-8+cp1252"
    assert any("mixes encodings" in w for w in table.report.warnings)


def test_latin1_override_on_valid_utf8_cjk_warns() -> None:
    data = "id,text\n1,退款太慢了\n2,配送が遅い\n".encode()
    table = load_table(data, filename="a.csv", options=LoadOptions(encoding="latin-1"))
    assert table.report.encoding_overridden
    assert any("is valid UTF-8" in w for w in table.report.warnings)
    plain = load_table(data, filename="a.csv", options=LoadOptions(encoding="utf-8"))
    assert not any("valid UTF-8" in w for w in plain.report.warnings)


def test_ambiguous_legacy_file_is_flagged_with_alternatives() -> None:
    # Hebrew cp1255 bytes read just as well as Cyrillic or Greek letter by letter.
    data = ("id,text\n" + "1,המשלוח איטי מאוד\n" * 3).encode("cp1255")
    table = load_table(data, filename="he.csv")
    if table.frame["text"].tolist() != ["המשלוח איטי מאוד"] * 3:
        assert table.report.encoding_confidence is not None and table.report.encoding_confidence < 0.75
        assert any("uncertain" in w for w in table.report.warnings)
        assert "cp1255" in table.report.encoding_alternatives


def test_utf8_csv_full_of_control_characters_round_trips() -> None:
    """The CI flake: \\x1f and C1 \\x80 in valid UTF-8 are text, not binary."""
    texts = ["\x1f" * 60, "\x80\x1f\x80" * 40, "ok", "\x00\x01\x02 a", "\x9f\x85 b" * 20]
    frame = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})
    data = frame.to_csv(index=False, quoting=csv.QUOTE_ALL).encode("utf-8")
    assert len(data) > 256
    table = load_table(data, filename="controls.csv")
    assert table.frame["text"].tolist() == texts
    assert table.report.encoding == "utf-8"


def test_random_bytes_are_still_refused_as_binary() -> None:
    for seed in range(5):
        data = fx.random.Random(seed).randbytes(4096)
        with pytest.raises(LoadError) as info:
            load_table(data, filename="x.csv")
        assert info.value.code in ("wrong_type", "encoding")


def _sample_texts_by_script() -> dict[str, list[str]]:
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "feedback_sample.csv"
    frame = pd.read_csv(sample, dtype=str, keep_default_na=False)

    def script(s: str) -> str:
        for name, low, high in (
            ("ja", "\u3040", "\u30ff"),
            ("ko", "\uac00", "\ud7a3"),
            ("zh", "\u4e00", "\u9fff"),
        ):
            if any(low <= c <= high for c in s):
                return name
        if any("\u0600" <= c <= "\u06ff" for c in s):
            return "ar"
        return "latin" if any(ord(c) > 127 for c in s) else "ascii"

    groups: dict[str, list[str]] = {}
    for text in frame["feedback"]:
        text = " ".join(text.replace('"', "'").split())
        if text:
            groups.setdefault(script(text), []).append(text)
    return groups


@pytest.mark.parametrize(
    ("group", "codec"),
    [("ja", "shift_jis"), ("ja", "euc_jp"), ("zh", "gb18030"), ("zh", "gbk"), ("ko", "cp949"),
     ("ar", "cp1256"), ("latin", "cp1252"), ("latin", "cp1250")],
)  # fmt: skip
def test_sample_answers_in_legacy_encodings_are_never_silent_mojibake(group: str, codec: str) -> None:
    """Short files (1 to 10 real answers of the bundled sample), the hard case for guessing."""
    rng = fx.random.Random(f"{group}-{codec}")
    pool = []
    for text in _sample_texts_by_script()[group]:
        try:
            text.encode(codec)
        except UnicodeEncodeError:
            continue
        pool.append(text)
    assert pool
    for _ in range(15):
        rows = [rng.choice(pool) for _ in range(rng.choice([1, 2, 3, 5, 10]))]
        data = ("id,text\n" + "".join(f'{i},"{r}"\n' for i, r in enumerate(rows))).encode(codec)
        table = load_table(data, filename="x.csv")
        if table.frame["text"].tolist() != rows:
            confidence = table.report.encoding_confidence
            assert confidence is not None and confidence < 0.75, (codec, table.report.encoding, rows[0])
            assert any("uncertain" in w for w in table.report.warnings)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_bomless_wide_unicode_cut_short_is_still_read(codec: str) -> None:
    _, data, texts, _ = fx.encoded_case(4, [p for p, _, _ in fx.ENCODED].index("ja"), rows=5)
    wide = data.decode("shift_jis").encode(codec)[:-1]  # the export was cut off mid-character
    table = load_table(wide, filename="cut.csv")
    assert table.report.encoding == codec
    assert table.frame["text"].tolist()[:-1] == texts[:-1]
    assert [i.reason for i in table.report.issues] == ["undecodable"]


@pytest.mark.parametrize("index", range(len(fx.ENCODED)))
def test_one_or_two_row_files_are_exact_or_flagged(index: int) -> None:
    """The least evidence there is: a file of one or two answers. Never silent mojibake."""
    for seed in range(12):
        _, data, texts, _ = fx.encoded_case(700 + seed, index, rows=1 + seed % 2)
        table = load_table(data, filename="tiny.csv")
        if table.frame["text"].tolist() != texts:
            confidence = table.report.encoding_confidence
            assert confidence is not None and confidence < 0.75, (table.report.encoding, texts)
            assert any("uncertain" in w for w in table.report.warnings)
