"""Class-based TF-IDF keywords and topic names, on real data in several languages."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.keywords import extract_keywords, keywords_from_phrases, topic_name
from pipeline.tokenize import stop_words, tokenize_many

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _read(name: str, file: str) -> pd.DataFrame:
    path = DATA / name / file
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (the CI checks out ../shared beside the repo)")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def shopping() -> pd.DataFrame:
    frame = _read("online_shopping_10_cats", "online_shopping_10_cats.csv")
    return frame.groupby("label").sample(n=150, random_state=0)  # every category has > 500 rows


# A word a reader accepts as naming each category (the category name itself or its product).
SHOPPING_NAMES = {
    "书籍": {"书", "书籍", "作者", "读"},
    "平板": {"平板", "平板电脑", "ipad"},
    "手机": {"手机"},
    "水果": {"水果", "苹果", "新鲜", "橙子", "香蕉"},
    "洗发水": {"洗发水", "头发"},
    "热水器": {"热水器", "加热"},
    "蒙牛": {"蒙牛", "牛奶", "奶"},
    "衣服": {"衣服", "穿", "裤子"},
    "计算机": {"电脑", "计算机", "笔记本", "系统", "驱动"},
    "酒店": {"酒店", "房间", "入住"},
}


def test_chinese_categories_are_named_by_their_keywords(shopping: pd.DataFrame) -> None:
    names = sorted(SHOPPING_NAMES)
    labels = np.searchsorted(names, shopping.label.to_numpy())
    keywords = extract_keywords(shopping.text.tolist(), labels, languages=["zh"] * len(shopping), top_n=10)
    assert sorted(keywords) == list(range(10))
    for topic, name in enumerate(names):
        words = [w for w, _ in keywords[topic]]
        assert len(words) == 10
        assert set(words) & SHOPPING_NAMES[name], (name, words)
        for word in words:  # real words: segmented, no digits-only codes, no function words
            assert " " not in word and "_" not in word and not word.isdigit(), word
            assert word not in stop_words("zh"), word
            assert len(word) <= 8, word


def test_english_intents_get_real_words_and_phrases() -> None:
    bank = _read("banking77", "banking77.csv")
    intents = [
        "card_arrival",
        "exchange_rate",
        "lost_or_stolen_card",
        "apple_pay_or_google_pay",
        "atm_support",
    ]
    part = bank[bank.label.isin(intents)]
    labels = np.searchsorted(intents_sorted := sorted(intents), part.label.to_numpy())
    keywords = extract_keywords(part.text.tolist(), labels, languages=["en"] * len(part), top_n=8)
    stops = stop_words("en")
    hits = 0
    for topic, intent in enumerate(intents_sorted):
        words = [w for w, _ in keywords[topic]]
        for word in words:
            assert re.fullmatch(r"[a-z][a-z'-]+( [a-z][a-z'-]+)?", word), word
            assert not set(word.split()) & stops, word
        hits += any(part_[:4] in " ".join(words[:5]) for part_ in intent.split("_") if len(part_) > 2)
    assert hits >= 4, keywords
    all_words = {w for ws in keywords.values() for w, _ in ws}
    assert any(" " in w for w in all_words)  # collocations such as "exchange rate" / "apple pay"


def test_multilingual_keywords_are_real_words() -> None:
    absa = _read("m_absa", "m_absa_sample.csv")
    for lang in ("ja", "th", "ar", "ko", "de"):
        part = absa[absa.lang == lang].head(500)
        domains = sorted(part.domain.unique())
        keywords = extract_keywords(
            part.text.tolist(), np.searchsorted(domains, part.domain.to_numpy()), languages=[lang] * len(part)
        )
        corpus = " ".join(part.text).casefold()
        stops = stop_words(lang)
        for topic_words in keywords.values():
            assert topic_words, lang
            for word, score in topic_words:
                assert score > 0
                assert word not in stops, (lang, word)
                assert any(ch.isalpha() for ch in word) and len(word) <= 30, (lang, word)
                if lang in ("ja", "th"):  # segmented scripts: dictionary words, never whole phrases
                    assert " " not in word and len(word) <= 20, (lang, word)
                if lang in ("th", "de"):  # not rewritten: appears verbatim in the texts
                    assert all(part_ in corpus for part_ in word.split()), (lang, word)


def test_bigram_does_not_repeat_both_of_its_words() -> None:
    texts = ["my credit card was declined"] * 6 + ["credit card payment failed"] * 6 + ["late delivery"] * 6
    texts += ["parcel delivery is late"] * 6
    labels = np.array([0] * 12 + [1] * 12)
    keywords = extract_keywords(texts, labels, languages=["en"] * len(texts), top_n=6)
    words = [w for w, _ in keywords[0]]
    assert "credit card" in words
    assert not {"credit", "card"} <= set(words)


def test_outliers_and_every_label_get_keywords() -> None:
    texts = ["refund still missing", "refund not received", "app crashes on login", "login fails in app"]
    texts += ["battery drains fast", "screen is cracked"]
    labels = np.array([0, 0, 1, 1, -1, -1])
    keywords = extract_keywords(texts, labels, languages=["en"] * 6, top_n=3)
    assert set(keywords) == {-1, 0, 1}
    assert keywords[0][0][0] == "refund"
    assert keywords[1][0][0] in {"app", "login"}
    assert keywords[-1]


@pytest.mark.parametrize(
    ("texts", "labels"),
    [
        ([], []),
        (["😀😀", "👍", "!!!"], [0, 1, 1]),
        (["", "", ""], [0, 0, -1]),
        (["12 34", "的了是", "a b c"], [0, 1, 2]),
    ],
)
def test_degenerate_inputs_give_empty_keywords(texts: list[str], labels: list[int]) -> None:
    keywords = extract_keywords(texts, np.array(labels, dtype=int), languages=["en"] * len(texts))
    assert set(keywords) == set(labels)
    assert all(words == [] for words in keywords.values())


def test_single_topic_ranks_by_frequency() -> None:
    texts = ["delivery late", "delivery slow", "delivery damaged box", "courier rude"]
    keywords = extract_keywords(texts, np.zeros(4, dtype=int), languages=["en"] * 4, top_n=3)
    assert keywords[0][0][0] == "delivery"


def test_mixed_empty_and_real_topics() -> None:
    keywords = extract_keywords(
        ["😀", "refund missing", "refund late"], np.array([5, 7, 7]), languages=["und", "en", "en"]
    )
    assert keywords[5] == [] and keywords[7][0][0] == "refund"


def test_deterministic_and_order_independent(shopping: pd.DataFrame) -> None:
    part = shopping.head(600)
    texts, labels = part.text.tolist(), np.searchsorted(sorted(SHOPPING_NAMES), part.label.to_numpy())
    first = extract_keywords(texts, labels, languages=["zh"] * len(texts))
    assert extract_keywords(texts, labels, languages=["zh"] * len(texts)) == first
    order = np.random.default_rng(3).permutation(len(texts))
    shuffled = extract_keywords([texts[i] for i in order], labels[order], languages=["zh"] * len(texts))
    assert {t: [w for w, _ in ws] for t, ws in shuffled.items()} == {
        t: [w for w, _ in ws] for t, ws in first.items()
    }


def test_keywords_from_phrases_reuses_tokens() -> None:
    texts = ["refund still missing", "refund not received", "app crashes on login", "login fails in app"]
    phrases = tokenize_many(texts, ["en"] * 4)
    merged = keywords_from_phrases(phrases, np.array([0, 0, 0, 0]), top_n=2)
    assert [w for w, _ in merged[0]][:1] in (["refund"], ["app"], ["login"])


def test_length_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError, match="one entry per text"):
        extract_keywords(["a text"], np.array([0, 1]), languages=["en"])


def test_topic_name() -> None:
    keywords = [("delivery", 0.5), ("late", 0.3), ("courier", 0.2), ("box", 0.1)]
    assert topic_name(keywords) == "delivery · late · courier"
    assert topic_name(keywords, n=1) == "delivery"
    assert topic_name([], fallback="Topic 3") == "Topic 3"


def test_chinese_topic_keywords_are_words_not_fragments() -> None:
    """Dishes and job titles jieba's dictionary lacks come out whole (送餐员, not 员)."""
    texts, labels = [], []
    for i in range(12):
        texts += [f"送餐员第{i}次迟到，配送员也慢", f"京酱肉丝和石锅拌饭第{i}次点，味道咸"]
        labels += [0, 1]
    keywords = extract_keywords(texts, np.array(labels), languages=["zh"] * len(texts), top_n=5)
    words = {word for pairs in keywords.values() for word, _ in pairs}
    assert {"送餐员", "配送员"} <= {w for w, _ in keywords[0]}
    assert {"京酱肉丝", "石锅拌饭"} <= {w for w, _ in keywords[1]}
    assert not {"员", "京", "石", "锅", "酱"} & words
