"""Tokenisation into real words: CJK, Thai, Arabic, Indic, European languages, batches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline import tokenize as tokenize_module
from pipeline.tokenize import stop_words, tokenize, tokenize_many, tokenize_phrases

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def _no_fragments(tokens: list[str]) -> None:
    for token in tokens:
        assert token == token.strip() and " " not in token, token
        assert any(ch.isalpha() for ch in token), token


def test_chinese_is_segmented_into_dictionary_words() -> None:
    tokens = tokenize("这个热水器很好用，加热速度快，就是安装师傅收费有点贵。618买的", language="zh")
    _no_fragments(tokens)
    assert {"热水器", "加热", "速度", "安装", "师傅", "收费"} <= set(tokens)
    for function_word in ("的", "了", "是", "很", "就是", "有点", "买", "618"):
        assert function_word not in tokens
    assert all(len(t) <= 8 for t in tokens)


def test_chinese_drops_function_characters_but_keeps_content_characters() -> None:
    tokens = tokenize("我也觉得这本书还是很好的，书的纸张也不错", language="zh")
    assert "书" in tokens and "纸张" in tokens
    assert not {"我", "也", "还", "很", "的", "是", "都", "就"} & set(tokens)


def test_japanese_keeps_base_forms_of_content_words() -> None:
    tokens = tokenize("配送が遅かったです。箱も壊れていました。", language="ja")
    _no_fragments(tokens)
    assert "配送" in tokens and "遅い" in tokens and "箱" in tokens
    assert "壊れる" in tokens
    assert not {"が", "です", "も", "た", "ます"} & set(tokens)


def test_thai_is_segmented() -> None:
    tokens = tokenize("การจัดส่งล่าช้ามาก พนักงานไม่สุภาพ", language="th")
    _no_fragments(tokens)
    assert "การจัดส่ง" in tokens and "พนักงาน" in tokens
    assert "มาก" not in tokens  # "very": filler


def test_korean_particles_are_stripped() -> None:
    assert tokenize("배송이 늦었어요. 포장은 좋았습니다", language="ko")[:2] == ["배송", "늦었어"]


def test_arabic_words_are_normalised() -> None:
    tokens = tokenize("التوصيل كان متأخراً جدا والمنتج ممتاز", language="ar")
    assert "المنتج" in tokens  # و (and) glued to the article is removed
    assert "متأخرا" in tokens  # tanwin diacritic removed
    assert "جدا" not in tokens


def test_indic_words_keep_their_vowel_signs() -> None:
    assert tokenize("वितरण बहुत देर से हुआ", language="hi")[:2] == ["वितरण", "देर"]


@pytest.mark.parametrize(
    ("text", "language", "expected", "absent"),
    [
        (
            "The Delivery was LATE!! see https://shop.example.com/x or mail help@shop.com 618xp 12 10 a b",
            "en",
            ["delivery", "late"],
            ["https", "shop", "com", "618xp", "12", "a", "b", "the", "was"],
        ),
        ("I can't top-up my credit card, it doesn't work", "en", ["top-up", "credit", "card", "work"], ["t"]),
        ("My mp3 player and 5g signal", "en", ["mp3", "player", "5g", "signal"], []),
        ("Die Lieferung war sehr spät, aber der Kundendienst war freundlich", "de", ["lieferung"], ["die"]),
        ("L'application est très lente et le service client ne répond pas", "fr", ["application"], ["l"]),
        ("Ｆｕｌｌ－ｗｉｄｔｈ ＡＰＰ crashes", "en", ["full-width", "app", "crashes"], []),
    ],
)
def test_european_words(text: str, language: str, expected: list[str], absent: list[str]) -> None:
    tokens = tokenize(text, language=language)
    _no_fragments(tokens)
    for word in expected:
        assert word in tokens
    for word in absent:
        assert word not in tokens


def test_phrases_break_at_punctuation_and_dropped_words() -> None:
    phrases = tokenize_phrases(
        "Credit card declined. Transfer failed and the money never arrived", language="en"
    )
    assert ["credit", "card", "declined"] in phrases
    assert ["transfer", "failed"] in phrases
    assert not any("declined" in p and "transfer" in p for p in phrases)


def test_chinese_inside_other_language_text_is_segmented() -> None:
    tokens = tokenize("Great app but 速度很慢 and 电池不耐用", language="en")
    assert "速度" in tokens and "电池" in tokens
    assert "速度很慢" not in tokens


@pytest.mark.parametrize("text", ["", "   ", "😀😀👍", "123 456", "!!!", "a b c", "的了是"])
def test_degenerate_texts_give_no_tokens(text: str) -> None:
    for language in ("en", "zh", "ja", "th", "und", "xx"):
        assert tokenize(text, language=language) == []


def test_unknown_language_codes_still_tokenise() -> None:
    assert tokenize("Refund requested twice", language="xx") == ["refund", "requested"]
    assert "快递" in tokenize("快递", language="und")


def test_stop_words_include_feedback_filler() -> None:
    assert {"the", "great", "thanks"} <= stop_words("en")
    assert {"的", "了", "很", "不错"} <= stop_words("zh")
    assert "problem" not in stop_words("en")  # a real topic word stopwordsiso lists


def test_tokenize_many_matches_tokenize_and_dedupes() -> None:
    texts = ["快递太慢了", "The card never arrived", "快递太慢了", "配送が遅い", ""]
    languages = ["zh", "en", "zh", "ja", "en"]
    batch = tokenize_many(texts, languages)
    assert [[t for p in phrases for t in p] for phrases in batch] == [
        tokenize(text, language=lang) for text, lang in zip(texts, languages, strict=True)
    ]
    with pytest.raises(ValueError, match="differ in length"):
        tokenize_many(texts, languages[:2])


def _shopping(rows: int) -> list[str]:
    path = DATA / "online_shopping_10_cats" / "online_shopping_10_cats.csv"
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (the CI checks out ../shared beside the repo)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=20_000)
    return frame.sample(rows, random_state=1).text.tolist()


def test_parallel_tokenisation_equals_sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _shopping(1200)
    languages = ["zh"] * len(texts)
    sequential = tokenize_many(texts, languages, n_jobs=1)
    monkeypatch.setattr(tokenize_module, "_PARALLEL_MIN_CHARS", 0)
    assert tokenize_many(texts, languages, n_jobs=2) == sequential
    assert sum(len(p) for p in sequential) > len(texts)  # real text yields words


def test_real_chinese_reviews_yield_real_words() -> None:
    texts = _shopping(300)
    stops = stop_words("zh")
    for text in texts:
        for token in tokenize(text, language="zh"):
            assert token not in stops and " " not in token
            assert not token.isdigit()
            if "\u4e00" <= token[0] <= "\u9fff":
                assert len(token) <= 8 and token in text


def test_jieba_is_lazy_and_quiet(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import pipeline.tokenize as t\n"
        "assert 'jieba' not in sys.modules and 'janome' not in sys.modules\n"
        "print(t.tokenize('快递太慢了，包装也破了', language='zh'), file=sys.stderr)\n"
    )
    env = {**os.environ, "FEEDBACK_TOPICS_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    assert done.stdout == ""
    assert done.stderr.strip() == "['快递', '太慢', '包装', '破']"
    assert list((tmp_path / "jieba").glob("*.cache"))  # dictionary cache in the product cache


def test_fast_chinese_cutter_matches_jieba() -> None:
    texts = [*_shopping(800), "iPhone12手机 壳 abc 3个，好！", "", "   ", "Ｗｉ－Ｆｉ信号差"]
    jieba_tokenizer = tokenize_module._jieba()
    cutter = tokenize_module._chinese_cutter()
    for text in texts:
        assert cutter(text) == jieba_tokenizer.lcut(text, HMM=False), text
