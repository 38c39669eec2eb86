"""Tokenisation into real words: CJK, Thai, Arabic, Indic, European languages, batches."""

from __future__ import annotations

import os
import random
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
        "assert 'jieba' not in sys.modules and 'sudachipy' not in sys.modules\n"
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


# ----------------------------------------------------------------- real words in every language
def _reviews() -> list[str]:
    """A small food-delivery corpus: dishes and job titles jieba's dictionary does not know."""
    texts = []
    for i, (start, end) in enumerate(
        [("很快", "辛苦了"), ("准时", "态度很好"), ("太慢", "迷路了"), ("还行", "服务热情")] * 3
    ):
        texts.append(f"送餐员{start}，{end}")
        texts.append(f"配送员{end}，菜{start}")
        texts.append(f"京酱肉丝第{i}次点，石锅拌饭也{start}")
        texts.append(f"快递员说{start}，汤凉了，有点咸")
    texts += ["米饭太硬，慢", "价格贵，味道甜", "送得快，菜很辣", "汤很咸，饭凉了"]
    return texts


def test_chinese_words_the_dictionary_lacks_are_not_fragmented() -> None:
    texts = _reviews()
    alone = {t for text in texts for t in tokenize(text, language="zh")}
    assert {"员", "京", "石"} & alone  # the dictionary alone leaves these fragments
    batch = tokenize_many(texts, ["zh"] * len(texts))
    words = {t for phrases in batch for phrase in phrases for t in phrase}
    assert {"送餐员", "配送员", "京酱肉丝", "石锅拌饭"} <= words
    assert not {"员", "京", "石", "餐", "酱"} & words
    assert {"慢", "咸", "辣", "甜", "贵"} <= words  # free-standing single characters stay
    assert tokenize_many(texts, ["zh"] * len(texts)) == batch  # deterministic


def test_small_batches_keep_dictionary_segmentation() -> None:
    texts = ["送餐员很快", "京酱肉丝好吃"]  # too few occurrences to learn from
    batch = tokenize_many(texts, ["zh", "zh"])
    assert batch == [tokenize_phrases(text, language="zh") for text in texts]


def test_large_batches_learn_from_a_sample_identically_in_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"{text}{'！' * (i % 7)}" for i, text in enumerate(_reviews() * 3)]  # distinct texts
    random.Random(0).shuffle(texts)  # the evenly spaced sample then holds every kind of review
    monkeypatch.setattr(tokenize_module, "_LEARN_MIN", 60)  # sample a tenth, not all
    sequential = tokenize_many(texts, ["zh"] * len(texts), n_jobs=1)
    monkeypatch.setattr(tokenize_module, "_PARALLEL_MIN_CHARS", 0)
    assert tokenize_many(texts, ["zh"] * len(texts), n_jobs=2) == sequential
    words = {t for phrases in sequential for phrase in phrases for t in phrase}
    assert "送餐员" in words and "员" not in words


@pytest.mark.parametrize(
    ("text", "absent", "present"),
    [
        ("等了一个多小时，两个菜都凉了", {"一个多", "两个", "一个多小时"}, {"小时", "凉"}),
        ("三份米饭，半小时才到，十二点下单", {"三份", "半小时", "十二点"}, {"米饭", "下单"}),
        ("一次性餐具很干净", set(), {"一次性", "餐具", "干净"}),
    ],
)
def test_chinese_numeral_measure_words_are_dropped(text: str, absent: set[str], present: set[str]) -> None:
    tokens = set(tokenize(text, language="zh"))
    assert not absent & tokens
    assert present <= tokens


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        ("雨が降りますので、配達が遅れました。", {"雨", "降る", "配達", "遅れる"}, {"降りる"}),
        ("駅でバスを降ります。", {"駅", "バス", "降りる"}, {"降る"}),
        ("駐車場が広くて停めやすい。", {"駐車場", "広い", "停める"}, {"駐車"}),
        ("説明書を読んでも使い方が分からない。", {"説明書", "読む", "使い方"}, {"ない"}),
        (
            "スタッフが親切でした。ラップトップの画面が壊れていた。",
            {"スタッフ", "親切", "ラップトップ", "画面", "壊れる"},
            {"いる"},
        ),
    ],
)
def test_japanese_lemmas(text: str, expected: set[str], absent: set[str]) -> None:
    tokens = set(tokenize(text, language="ja"))
    assert expected <= tokens
    assert not absent & tokens


def test_japanese_very_long_text_is_tokenised_in_pieces() -> None:
    text = "配送が遅かったです。" * 3000  # 30,000 characters: over SudachiPy's input limit
    assert tokenize(text, language="ja").count("配送") == 3000


def test_every_detector_language_has_stop_words() -> None:
    from pipeline.languages import _DETECTOR_LANGUAGES

    shared = stop_words("xx")  # what any code gets: English and Chinese function words
    for language in _DETECTOR_LANGUAGES:
        if language not in ("en", "zh"):
            assert len(stop_words(language) - shared) >= 25, language


@pytest.mark.parametrize(
    ("text", "language", "kept", "dropped"),
    [
        (
            "Бұл тауар жақсы ма? Жеткізу тез болды пе",
            "kk",
            {"тауар", "жеткізу"},
            {"ма", "пе", "бұл", "болды"},
        ),
        (
            "მიწოდება ძალიან ნელი იყო და კურიერი არ მოვიდა",
            "ka",
            {"მიწოდება", "კურიერი"},
            {"ძალიან", "და", "იყო", "არ"},
        ),
        ("ඇණවුම ඉතා ප්‍රමාද වුණා නමුත් කෑම රසයි", "si", {"ඇණවුම", "කෑම"}, {"ඉතා", "නමුත්"}),
        ("Dostava je bila spora ali je hrana dobra", "bs", {"dostava", "hrana"}, {"je", "ali", "bila"}),
        ("Porosia erdhi vonë dhe ushqimi ishte i ftohtë", "sq", {"porosia", "ushqimi"}, {"dhe", "ishte"}),
    ],
)
def test_new_stop_word_lists(text: str, language: str, kept: set[str], dropped: set[str]) -> None:
    tokens = set(tokenize(text, language=language))
    assert kept <= tokens
    assert not dropped & tokens


@pytest.mark.parametrize("language", ["de", "fr", "es", "tr", "pl", "sv", "kk", "ja", "zh", "sq", "xx"])
def test_english_function_words_never_leak(language: str) -> None:
    tokens = tokenize("my order to the hotel and my refund of the app", language=language)
    assert not {"my", "to", "the", "and", "of"} & set(tokens)
    assert {"order", "hotel", "refund", "app"} <= set(tokens)


def test_japanese_parallel_tokenisation_equals_sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        line.split("\t")[0]
        for line in (REPO / "bench" / "data" / "japanese_lemmas.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    texts = [f"{row}{i}" for i, row in enumerate(rows * 4)]
    sequential = tokenize_many(texts, ["ja"] * len(texts), n_jobs=1)
    monkeypatch.setattr(tokenize_module, "_PARALLEL_MIN_CHARS", 0)
    assert tokenize_many(texts, ["ja"] * len(texts), n_jobs=2) == sequential
    assert any("降る" in phrase for phrases in sequential for phrase in phrases)
