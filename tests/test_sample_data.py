"""Checks on the bundled sample feedback (sample_data/): shape, language mix, XLSX parity, regeneration."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
CSV_PATH = SAMPLE_DIR / "feedback_sample.csv"
XLSX_PATH = SAMPLE_DIR / "feedback_sample.xlsx"
MAKE_SCRIPT = SAMPLE_DIR / "make_sample.py"
COLUMNS = ["id", "date", "rating", "channel", "country", "feedback"]
CHANNELS = {"app_store", "play_store", "email", "chat", "survey", "twitter"}
REQUIRED_LANGUAGES = ("en", "zh", "es", "fr", "de", "ja", "ar")

# Very small, independent language guesser: script first, then stop-word votes for Latin text.
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_WORD = re.compile(r"[a-zà-ÿß']+")
_STOPWORDS = {
    "en": "the and is it to my was for of i you with not this but me have at no just on too so after "
    "always even than please in be are an by from again what your can't don't i'm it's my",
    "es": "el la que y de los las en mi me pero por una es muy todo sin para del se lo ya al ha",
    "fr": "le la les et de des un une est je pas mon pour qui ça du au mais rien on tout très dès",
    "de": "der die das und ist ich nicht mit ein eine auf nach wird war bitte mir mein den dem zu "
    "am da schon wieder alles sehr total wurde",
    "pt": "o os do da meu não pra um uma com fui recebi nada até muito",
    "it": "il lo di che non ho un una per mi ancora mio nulla in pochi",
}
_STOPSETS = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}
_LETTER_CUES = {"de": "äöüß", "es": "ñ¿¡", "fr": "èêçùœ", "pt": "ãõ", "it": "ò"}
_FR_ELISIONS = ("j'", "d'", "c'", "qu'", "n'")


def guess_language(text: str) -> str:
    """Guess a row's language from its script, then from stop words and letters; "und" if unsure."""
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return "zh"
    if _ARABIC.search(text):
        return "ar"
    lowered = text.lower()
    words = _WORD.findall(lowered)
    votes = {lang: sum(word in stops for word in words) for lang, stops in _STOPSETS.items()}
    for lang, letters in _LETTER_CUES.items():
        votes[lang] += sum(lowered.count(letter) for letter in letters)
    votes["fr"] += sum(word.startswith(_FR_ELISIONS) for word in words)
    best = max(votes, key=lambda lang: votes[lang])
    return best if votes[best] > 0 else "und"


def _load_make_sample() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample", MAKE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(CSV_PATH, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def make_sample() -> ModuleType:
    return _load_make_sample()


def test_csv_has_the_columns_and_enough_rows(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == COLUMNS
    assert len(frame) >= 500
    assert frame["id"].is_unique
    assert frame["id"].str.fullmatch(r"FB-\d{5}").all()


def test_fields_are_well_formed(frame: pd.DataFrame) -> None:
    dates = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    assert (dates.max() - dates.min()).days >= 150  # about six months
    assert dates.is_monotonic_increasing
    assert set(frame["rating"]) <= {"1", "2", "3", "4", "5"}
    assert set(frame["rating"]) == {"1", "2", "3", "4", "5"}
    assert set(frame["channel"]) == CHANNELS
    assert frame["country"].str.fullmatch(r"[A-Z]{2}").all()


def test_files_stay_small() -> None:
    assert CSV_PATH.stat().st_size < 300_000
    assert XLSX_PATH.stat().st_size < 300_000


def test_required_languages_are_present(frame: pd.DataFrame) -> None:
    counts = Counter(guess_language(text) for text in frame["feedback"])
    for language in REQUIRED_LANGUAGES:
        assert counts[language] >= 25, (language, counts)
    for language in ("pt", "ko", "it"):
        assert counts[language] >= 5, (language, counts)
    assert counts.most_common(1)[0][0] == "en"


def test_hidden_language_labels_agree_with_the_text(frame: pd.DataFrame, make_sample: ModuleType) -> None:
    rows = make_sample.build_rows()
    assert [row["feedback"] for row in rows] == frame["feedback"].tolist()
    labelled = [
        (row["language"], guess_language(row["feedback"])) for row in rows if row["language"] != "und"
    ]
    agreement = sum(label == guess for label, guess in labelled) / len(labelled)
    assert agreement >= 0.95


def test_readme_language_table_matches_the_data(make_sample: ModuleType) -> None:
    counts = make_sample.language_counts(make_sample.build_rows())
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    table = {
        match.group(1): int(match.group(2))
        for match in re.finditer(r"^\|\s*`(\w+)`\s*\|[^|]*\|\s*(\d+)\s*\|", readme, flags=re.MULTILINE)
    }
    assert table == dict(counts)


def test_survey_noise_is_there(frame: pd.DataFrame) -> None:
    text = frame["feedback"]
    blank = text.str.strip() == ""
    assert 3 <= blank.sum() <= 5
    assert text.str.strip().str.upper().eq("N/A").sum() >= 2
    duplicated = text[~blank].duplicated().sum()
    assert 3 <= duplicated <= 10


def test_rating_follows_sentiment_and_one_theme_grows(make_sample: ModuleType) -> None:
    rows = pd.DataFrame(make_sample.build_rows())
    rows["rating"] = rows["rating"].astype(int)
    mean = rows.groupby("theme")["rating"].mean()
    assert mean["praise"] >= 4.0
    assert mean["payment_failures_double_charges"] <= 2.0
    last_month = rows["date"] >= make_sample.SPIKE_FROM.isoformat()
    is_spike = rows["theme"] == make_sample.THEME_OF[make_sample.SPIKE_THEME]
    share_before = is_spike[~last_month].mean()
    share_last = is_spike[last_month].mean()
    assert share_last >= 3 * share_before
    assert rows.loc[~last_month, "theme"].nunique() >= 9


def test_xlsx_matches_csv_row_for_row(frame: pd.DataFrame) -> None:
    sheet = pd.read_excel(XLSX_PATH, sheet_name=0, dtype=str, keep_default_na=False, engine="openpyxl")
    assert list(sheet.columns) == COLUMNS
    pd.testing.assert_frame_equal(sheet, frame)


def test_make_script_regenerates_identical_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(MAKE_SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "feedback_sample.csv").read_bytes() == CSV_PATH.read_bytes()
    regenerated = pd.read_excel(tmp_path / "feedback_sample.xlsx", dtype=str, keep_default_na=False)
    shipped = pd.read_excel(XLSX_PATH, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(regenerated, shipped)
