"""Language detection: script fast path, the offline classifier, short texts, real data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.languages import detect_language, detect_languages, language_counts

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("快递太慢了，包装也破了", "zh"),
        ("配送が遅かったです。箱も壊れていました", "ja"),
        ("배송이 너무 늦었어요", "ko"),
        ("การจัดส่งล่าช้ามาก", "th"),
        ("التوصيل كان متأخرا جدا", "ar"),
        ("Η παράδοση άργησε πολύ", "el"),
        ("המשלוח הגיע באיחור", "he"),
        ("The delivery was late and the courier was rude", "en"),
        ("Die Lieferung kam viel zu spät an", "de"),
        ("La livraison est arrivée en retard", "fr"),
        ("El envío llegó tarde y la caja estaba rota", "es"),
        ("Доставка была очень медленной", "ru"),
        ("iPhone 的电池很耐用", "zh"),
    ],
)
def test_detects_common_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "😀👍🔥", "12345 678", "!!! ???", "---"])
def test_no_letters_is_undetermined(text: str) -> None:
    assert detect_languages([text]) == ["und"]


def test_codes_are_iso_639_1() -> None:
    texts = ["ok", "super", "merci", "gracias", "我很喜欢", "x", "Dankjewel voor de snelle levering"]
    for code in detect_languages(texts):
        assert code == "und" or (len(code) == 2 and code.isalpha() and code.islower())


def test_short_unsure_texts_follow_the_file_language() -> None:
    english = [
        "The delivery was late again",
        "My card payment was declined at the shop",
        "Customer service never answered my email",
        "The app crashes when I open my statement",
    ]
    codes = detect_languages([*english, "ok", "super", "top"])
    assert codes == ["en"] * 7


def test_keeps_minority_languages_in_a_mixed_file() -> None:
    texts = ["The delivery was late again"] * 5 + ["Die Lieferung kam viel zu spät an", "快递太慢了"]
    assert detect_languages(texts)[-2:] == ["de", "zh"]


def test_arabic_script_languages_are_told_apart() -> None:
    assert detect_language("این محصول خیلی خوب بود و سریع رسید") == "fa"
    assert detect_language("یہ پروڈکٹ بہت اچھی ہے اور جلدی پہنچ گئی") == "ur"


def test_deterministic_and_aligned() -> None:
    texts = ["hola amigo, el pedido llegó", "", "良い", "good service", "hola amigo, el pedido llegó"]
    first = detect_languages(texts)
    assert first == detect_languages(texts)
    assert len(first) == len(texts)
    assert first[0] == first[4]


def test_language_counts_orders_by_frequency() -> None:
    assert list(language_counts(["en", "zh", "en", "und", "zh", "en"]).items()) == [
        ("en", 3),
        ("zh", 2),
        ("und", 1),
    ]


def test_accuracy_on_real_multilingual_reviews() -> None:
    path = DATA / "m_absa" / "m_absa_sample.csv"
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (the CI checks out ../shared beside the repo)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    langs = ["ar", "de", "en", "es", "fr", "ja", "ko", "ru", "th", "zh", "vi", "tr", "nl", "pt"]
    sample = pd.concat(frame[frame.lang == lang].head(60) for lang in langs)
    predicted = detect_languages(sample.text.tolist())
    correct = (pd.Series(predicted, index=sample.index) == sample.lang).groupby(sample.lang).mean()
    assert correct.min() >= 0.85, correct.to_dict()
    for lang in ("ja", "ko", "th", "zh"):  # decided by script: exact
        assert correct[lang] >= 0.98, (lang, correct[lang])


def test_parallel_detection_equals_sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.languages as languages_module

    texts = [
        f"{base} {i}"
        for i, base in enumerate(["The card never arrived", "La carte est bloquée", "快递太慢"] * 40)
    ]
    sequential = detect_languages(texts)
    monkeypatch.setattr(languages_module, "_PARALLEL_MIN_TEXTS", 10)
    assert detect_languages(texts) == sequential
    assert set(sequential) == {"en", "fr", "zh"}


def test_long_texts_are_classified_on_their_opening() -> None:
    long_french = "Le colis est arrivé en retard et le service client ne répond jamais. " * 40
    assert len(long_french) > 2000
    assert detect_languages([long_french]) == ["fr"]
    # Scripts are still counted over the whole text: mostly Chinese after an English opening is zh.
    mixed = "The delivery was late again and nobody answered my emails about it. " * 6 + "快递太慢了" * 200
    assert detect_languages([mixed]) == ["zh"]
