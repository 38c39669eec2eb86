"""Language-aware tokenisation into real words, for topic keywords.

Every language gets words a reader recognises, never sentence fragments:

* Chinese is segmented with ``jieba`` (dictionary mode, no HMM guessing of new words). In a batch
  (:func:`tokenize_many`) the corpus itself completes the dictionary: pieces of one word the
  dictionary lacks (送/餐/员, 京/酱/肉丝, 石/锅/拌饭) are joined where they nearly always occur
  together, and a single character that is still bound to one neighbour is dropped, so topic
  keywords are words, not fragments. Numeral + measure-word tokens (两个, 一个多, 半小时) are dropped;
* Japanese with ``SudachiPy`` (its ``core`` dictionary, longest units, so 駐車場 stays one word),
  keeping nouns, verbs, adjectives and na-adjectives in their dictionary form (雨が降ります -> 降る,
  バスを降ります -> 降りる; on a hand-checked sample it beat janome on lemmas and speed, see
  ``bench/japanese_lemmas.py``);
* Thai with ``pythainlp``'s offline ``newmm`` dictionary segmenter;
* Korean words have their trailing particles (은/는/이/가/을/를...) removed;
* every other language is split on a Unicode word pattern (letters and combining marks, so
  Devanagari or Arabic words stay whole). Han, kana or Thai runs inside such text are handed to
  the segmenter of their script.

Text is NFKC-normalised and case-folded. URLs, e-mail addresses, numbers, punctuation, single
Latin letters, over-long tokens and stop words (``stopwordsiso`` plus the product's own lists of
feedback filler words and Chinese/Japanese function words) are dropped.

All segmenters are loaded on first use, quietly (jieba keeps its dictionary cache in the
product's cache folder). :func:`tokenize_many` spreads large CJK/Thai inputs over worker
processes.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache, partial
from itertools import chain, pairwise
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------ patterns
_URL_RE = re.compile(r"(?:https?://|ftp://|www\.)\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.IGNORECASE)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KANA = "\u3040-\u30ff\u31f0-\u31ff"
_THAI = "\u0e00-\u0e7f"
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_HAN_RE = re.compile(f"[{_HAN}]")
_KANA_RE = re.compile(f"[{_KANA}]")
_THAI_RE = re.compile(f"[{_THAI}]")
_CJK_OR_THAI_RE = re.compile(f"[{_HAN}{_KANA}{_THAI}]")
_LATIN_LETTER_RE = re.compile(r"[a-zß-öø-ÿā-ɏ]")
_HANGUL_ONLY_RE = re.compile(f"^[{_HANGUL}]+$")
# Punctuation that ends a phrase: words on either side of it never form a bigram.
_PHRASE_BREAK_RE = re.compile(
    r"[.,;:!?()\[\]{}\"“”„«»‹›…|/\\·•。，、；：！？（）【】「」『』〈〉《》~～\n\t]+"
)

_MAX_TOKEN_CHARS = 30


def _words(text: str) -> frozenset[str]:
    """A word list written as one whitespace-separated string."""
    return frozenset(text.split())


_MAX_CJK_TOKEN_CHARS = 8

# Languages that jieba segments (Chinese, incl. Cantonese/Wu codes some detectors return).
_CHINESE = frozenset({"zh", "yue", "wuu", "zh-cn", "zh-tw", "zh-hans", "zh-hant"})
# Languages written in Latin script whose own stop-word list suffices (no English list added).
_LATIN_LANGUAGES = frozenset(
    [
        "af",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "en",
        "es",
        "et",
        "eu",
        "fi",
        "fr",
        "ga",
        "gl",
        "hr",
        "hu",
        "id",
        "is",
        "it",
        "lt",
        "lv",
        "ms",
        "nl",
        "no",
        "pl",
        "pt",
        "ro",
        "sk",
        "sl",
        "sq",
        "sv",
        "sw",
        "tl",
        "tr",
        "uz",
        "vi",
        "zu",
    ]
)

# Content words that stopwordsiso's (over-inclusive) English list contains but that name real
# feedback topics ("login problem", "late order", "room service").
_ENGLISH_KEEP = _words("""problem problems system systems information value home research work works working worked
    help page pages line lines member members order ordered ordering orders area areas case cases
    point points place places number numbers group groups interest interested interests open
    opened opening opens room rooms state world year years parts part end show shows side sides
    high higher long longer large old new big small late later latest early test course thing
    things today site web website call calls wish free full needed needs face top""")

# Feedback filler: praise, hedges and chat words that every topic shares and no topic is about.
_FILLER: dict[str, frozenset[str]] = {
    "en": _words("""good great nice ok okay fine thanks thank please really very just also would could
        get got getting lot lots bit well like still even much many way thing things dont don
        didn doesn isn wasn aren couldn wouldn shouldn won ve ll re im ive id cant hi hello hey
        yes yeah sure etc amazing awesome excellent perfect love loved best better bad terrible
        horrible"""),
    "de": _words("gut sehr super toll schön danke bitte einfach immer wirklich mal ganz"),
    "fr": _words("bon bonne bien très super merci vraiment trop tout tous toujours"),
    "es": _words("bueno buena muy bien gracias super todo siempre mucho"),
    "it": _words("buono buona molto bene grazie super sempre tutto"),
    "pt": _words("bom boa muito bem obrigado obrigada super sempre tudo"),
    "nl": _words("goed heel erg super bedankt dank altijd echt"),
    "ar": _words("جدا جداً شكرا ممتاز ممتازة رائع رائعة جيد جيدة كثيرا لقد حقا الكثير يا لماذا لمدة أيضا"),
    "hi": _words("मैं मुझे मैंने हूं हूँ हम हमारे हमें क्या क्यों अच्छा बहुत है हैं था थी थे धन्यवाद"),
    "ru": _words("очень хорошо спасибо отлично супер просто"),
}

# Chinese function words, particles and chat filler that jieba leaves as words. stopwordsiso's
# Chinese list covers most function words; these are the ones feedback is full of on top.
_CHINESE_FILLER = _words("""的 了 是 很 我 也 就 都 还 在 有 和 不 没 这 那 个 吧 啊 呢 吗 呀 哦 嗯 哈 着 过 把 被 让 给 对
    从 到 与 及 或 但 而 又 再 才 只 太 更 最 好 说 看 想 要 会 能 去 来 用 买 挺 蛮 真 多 少 点 次 上 下
    里 中 后 前 时 他 她 它 你 您 们 人 事 得 地 之 其 啦 嘛 呗 咯 哇 噢 喔 滴 么 一 二 两 几 些 该 像
    可以 一个 一下 一些 一点 一样 一定 一直 一次 感觉 觉得 东西 非常 比较 真的 特别 还是 这个 那个 这样
    那样 就是 没有 不是 什么 怎么 怎么样 已经 其实 但是 因为 所以 如果 然后 而且 不过 还有 可能 应该
    总体 总的来说 总之 不错 很好 好的 挺好 不好 很多 一般 满意 推荐 下次 还会 值得 还行 还可以 有点
    有些 以后 之前 现在 时候 知道 开始 出来 起来 问题不大 不会 不能 不要 自己 大家 我们 你们 他们
    感谢 谢谢 希望 确实 而已 哈哈 哈哈哈 呵呵 嘿嘿 好评 差评 评价 亲们 给力""")

# Traditional forms of the function characters above (沒 for 没...): Chinese feedback mixes scripts.
_CHINESE_FILLER |= _words("沒 這 個 們 還 說 會 對 過 嗎 麼 來 時 點 為 與 後 裡 兩 幾 該 讓 給 從 麽")

# Numeral (+ measure word) tokens: "两个", "一个多", "半小时", "十二点", "三份" say how many, not what.
_NUMERALS = "零〇一二两三四五六七八九十百千万亿几半俩仨"
_MEASURE_WORDS = sorted(
    _words("""个 只 件 份 次 块 杯 盒 斤 两 元 毛 分 角 碗 瓶 袋 包 盘 串 根 条 张 位 家 点 层 口 样 种 套
        双 对 顿 趟 遍 回 下 声 天 周 月 年 岁 号 楼 米 里 公里 小时 钟头 分钟 秒 星期 礼拜 桌 片 粒 颗 勺
        罐 箱 台 部 本 篇 页 名 人 倍 成 折 单 笔 把 盆 锅 桶 壶 打 餐 刻 季 寸 码 克 公斤 毫升 升 块钱
        个月 个小时 多小时 半小时"""),
    key=len,
    reverse=True,
)
_NUMERAL_CLASSIFIER_RE = re.compile(
    rf"^[{_NUMERALS}]+(?:{'|'.join(_MEASURE_WORDS)})?[多余来半]?(?:{'|'.join(_MEASURE_WORDS)})?$"
)
# Grammatical particles: a character beside one of these is as free as at a phrase boundary, and
# no word is formed across them when the corpus completes the dictionary.
_PARTICLES = _words(
    "的 了 着 过 地 得 吗 呢 吧 啊 呀 哦 嘛 么 啦 咯 呗 哈 嗯 哇 噢 喔 滴 是 和 与 及 或 在 把 被"
)

# Degree and negation words: what follows them is a free word (很烫, 太咸, 没熟, 不值).
_MODIFIERS = _words(
    "很 太 还 不 没 挺 有点 有些 比较 非常 特别 超 好 真 都 也 就 又 更 最 不太 没有 这么 那么 稍微 略"
)

# Japanese base forms that carry no topic (auxiliary-like verbs, formal nouns, fillers).
_JAPANESE_FILLER = _words("""する ある いる なる できる れる られる せる させる ない いい よい 良い 思う 言う いう
    こと もの ところ ため よう そう これ それ あれ どれ ここ そこ 方 感じ 的 とても 本当 非常
    とても すごい 少し ちょっと 私 僕 自分 皆 さん 様 的 くれる もらう あげる しまう いく くる
    みる おる 得る""")
_KATAKANA_WORD_RE = re.compile("^[\u30a0-\u30ffー]+$")

_THAI_FILLER = _words("ดีมาก มากๆ ดี มาก ครับ ค่ะ คะ นะ จ้า จริงๆ สุดๆ")

# Korean particles (josa) stripped from the end of a word when what remains is two or more
# syllables; the longest match wins.
_KOREAN_PARTICLES = tuple(
    sorted(
        _words(
            """은 는 이 가 을 를 에 의 도 로 와 과 만 요 에서 으로 에게 까지 부터 보다 처럼 이나 이랑
            하고 한테 께서 에서는 으로는 에게서 이라는 에서도 으로도 이에요 예요 입니다 이고 이며"""
        ),
        key=len,
        reverse=True,
    )
)
_KOREAN_FILLER = _words(
    """정말 너무 진짜 아주 매우 좋아요 좋습니다 감사합니다 그리고 그냥 조금 좀 저는 저도 제가 저의 나는
    내가 우리는 그는 그녀는 이건 이것은 그것은 있습니다 없습니다 싶습니다 합니다 했습니다 있어요 없어요
    대한 대해 같은 같아요 있나 있는 있고 하는 하고 것은 것이 수"""
)


# --------------------------------------------------------------------------------- resources
def _cache_dir(name: str) -> Path:
    """A writable cache folder: ``$FEEDBACK_TOPICS_CACHE_DIR/<name>``, the user cache, or temp."""
    root = os.environ.get("FEEDBACK_TOPICS_CACHE_DIR")
    candidates: list[Path] = []
    if root:
        candidates.append(Path(root) / name)
    try:
        import platformdirs

        candidates.append(Path(platformdirs.user_cache_dir("feedback-topics")) / name)
    except Exception:  # platformdirs missing or no home: fall through to temp
        pass
    candidates.append(Path(tempfile.gettempdir()) / "feedback-topics" / name)
    for path in candidates:
        try:
            path.mkdir(parents=True, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    return Path(tempfile.gettempdir())


@lru_cache(maxsize=1)
def _jieba() -> Any:
    """A private, initialised jieba tokenizer (dictionary cache in the product cache folder)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba logs "Building prefix dict..." to stderr otherwise
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(_cache_dir("jieba"))
    tokenizer.initialize()
    return tokenizer


@lru_cache(maxsize=1)
def _sudachi() -> Any:
    """A SudachiPy tokenizer over its bundled ``core`` dictionary, longest split mode (C)."""
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)


@lru_cache(maxsize=1)
def _thai_segmenter() -> Any:
    """pythainlp's offline ``newmm`` segmenter (dictionary bundled in the wheel)."""
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


@cache
def stop_words(language: str) -> frozenset[str]:
    """The stop words applied to one language (casefolded).

    stopwordsiso's list for the language, or the product's own short list where stopwordsiso has
    none (:mod:`pipeline.stopword_lists`: Kazakh, Georgian, Sinhala... every language the detector
    reports has one), the product's feedback filler words, English function words (my, to, and)
    for every language, and for languages not written in Latin script the whole English list too
    (English words and brand names are common in such feedback).

    Args:
        language: ISO 639-1 code (``"und"`` and unknown codes get the English list).

    Returns:
        A frozen set of stop words.
    """
    import stopwordsiso

    from pipeline.stopword_lists import ENGLISH_FUNCTION_WORDS, LANGUAGE_STOP_WORDS, RUSSIAN_ALSO

    lang = "zh" if language in _CHINESE else language
    words: set[str] = set()
    if stopwordsiso.has_lang(lang) and lang != "en":
        words |= {_normalise(w) for w in stopwordsiso.stopwords(lang)}
    words |= {_normalise(w) for w in LANGUAGE_STOP_WORDS.get(lang, "").split()}
    if lang in RUSSIAN_ALSO:
        words |= {_normalise(w) for w in stopwordsiso.stopwords("ru")}
    words |= set(ENGLISH_FUNCTION_WORDS.split())  # English in any language's feedback: never a keyword
    if lang not in _LATIN_LANGUAGES or lang == "en":
        words |= {w.casefold() for w in stopwordsiso.stopwords("en")} - _ENGLISH_KEEP
        words |= _FILLER["en"]
    words |= _FILLER.get(lang, frozenset())
    if lang == "zh":
        words |= _CHINESE_FILLER
    elif lang == "ja":
        # Lone kanji tagged as nouns are mostly function characters (了, 是, 中...).
        words |= _JAPANESE_FILLER | {w for w in _CHINESE_FILLER if len(w) == 1}
    elif lang == "th":
        words |= _THAI_FILLER
        try:
            from pythainlp.corpus import thai_stopwords

            words |= set(thai_stopwords())
        except Exception:  # corpus unavailable: stopwordsiso's Thai list still applies
            logger.debug("pythainlp Thai stop words unavailable", exc_info=True)
    elif lang == "ko":
        words |= _KOREAN_FILLER
    if lang not in ("zh", "ja"):
        words |= _CHINESE_FILLER  # Han runs inside other-language text are segmented by jieba
    return frozenset(words)


# ---------------------------------------------------------------------------------- filtering
@lru_cache(maxsize=1 << 18)
def _keep(token: str, language: str) -> bool:
    """Whether a casefolded token is a real, meaningful word (cached: words repeat a lot)."""
    if not token or len(token) > _MAX_TOKEN_CHARS or token in stop_words(language):
        return False
    letters = sum(1 for ch in token if ch.isalpha())
    if letters == 0:
        return False  # numbers, punctuation, emoji
    digits = sum(1 for ch in token if ch.isdigit())
    if digits > letters:
        return False  # "618xp", "12v": codes, not words ("mp3", "5g" stay)
    if _HAN_RE.search(token) or _KANA_RE.search(token):
        return len(token) <= _MAX_CJK_TOKEN_CHARS and not _NUMERAL_CLASSIFIER_RE.match(token)
    if len(token) == 1:
        return False  # single Latin/Cyrillic/Hangul/Thai letters
    return not (token.startswith("-") or token.endswith("-"))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    # NFKC splits Thai/Lao SARA AM (ำ) into NIKHAHIT + SARA AA, which no dictionary knows; undo it.
    text = text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0ecd\u0eb2", "\u0eb3")
    text = _URL_RE.sub(" | ", text)  # a URL breaks a phrase like punctuation does
    return text.replace("’", "'").replace("‘", "'")


# --------------------------------------------------------------------------------- segmenters
def _word_candidates(segment: str) -> list[str]:
    """Split a phrase of space-delimited text into word candidates (letters, marks, digits)."""
    return _word_re().findall(segment)


@lru_cache(maxsize=1)
def _word_re() -> re.Pattern[str]:
    """Words: letters, digits and combining marks (so Indic/Arabic words stay whole), hyphen-joined.

    Python's ``\\w`` does not match combining marks (categories Mn/Mc/Me); they are added
    explicitly, computed once from the Unicode database.
    """
    marks: list[str] = []
    start = prev = -2
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if code != prev + 1:
                if start >= 0:
                    marks.append(_range(start, prev))
                start = code
            prev = code
    if start >= 0:
        marks.append(_range(start, prev))
    char = rf"(?:[^\W_]|[{''.join(marks)}])"
    return re.compile(rf"{char}+(?:-{char}+)*")


def _range(start: int, end: int) -> str:
    return re.escape(chr(start)) if start == end else f"{re.escape(chr(start))}-{re.escape(chr(end))}"


def _segment_chinese(text: str) -> list[str | None]:
    return [w for w in _chinese_cutter()(text) if not w.isspace()]


@lru_cache(maxsize=1)
def _chinese_cutter() -> Callable[[str], list[str]]:
    """jieba's dictionary segmentation without HMM (``lcut(text, HMM=False)``), 1.3x faster.

    Same dictionary, same maximum-probability route, same output (a test compares them); the
    route is computed with precomputed log frequencies and flat lists instead of a dict of lists
    and a generator per character. Falls back to jieba's own method if its internals change.
    """
    import jieba

    tokenizer = _jieba()
    try:
        freq: dict[str, int] = tokenizer.FREQ
        log_total = math.log(tokenizer.total)
        re_han, re_skip, re_eng = jieba.re_han_default, jieba.re_skip_default, jieba.re_eng
    except AttributeError:  # a future jieba: use its public API
        logger.debug("jieba internals changed; using lcut", exc_info=True)
        return lambda text: tokenizer.lcut(text, HMM=False)
    log_prob = {word: math.log(count) - log_total for word, count in freq.items() if count}
    floor = -log_total  # jieba scores an unknown single character as log(1) - log(total)

    def cut_block(block: str) -> list[str]:
        n = len(block)
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            best: float | None = None
            best_end = k
            i, fragment = k, block[k]
            while fragment in freq:  # freq holds every prefix of every word (count 0)
                value = log_prob.get(fragment)
                if value is not None:
                    candidate = value + score[i + 1]
                    if best is None or candidate >= best:  # ties: the longer word, as jieba
                        best, best_end = candidate, i
                i += 1
                if i >= n:
                    break
                fragment = block[k : i + 1]
            score[k] = floor + score[k + 1] if best is None else best
            end[k] = best_end
        words: list[str] = []
        buffer = ""
        x = 0
        while x < n:
            y = end[x] + 1
            word = block[x:y]
            if y - x == 1 and re_eng.match(word):
                buffer += word  # jieba glues single Latin letters/digits back together
            else:
                if buffer:
                    words.append(buffer)
                    buffer = ""
                words.append(word)
            x = y
        if buffer:
            words.append(buffer)
        return words

    def cut(text: str) -> list[str]:
        words: list[str] = []
        for block in re_han.split(text):
            if not block:
                continue
            if re_han.match(block):
                words.extend(cut_block(block))
            else:
                for piece in re_skip.split(block):
                    if re_skip.match(piece):
                        words.append(piece)
                    else:
                        words.extend(piece)
        return words

    return cut


# SudachiPy refuses inputs over 49,149 bytes; longer texts are cut at sentence ends below this.
_SUDACHI_MAX_CHARS = 4000
_JAPANESE_SENTENCE_END_RE = re.compile(r"(?<=[。！？!?\n])")


def _japanese_pieces(text: str) -> Iterable[str]:
    if len(text) <= _SUDACHI_MAX_CHARS:
        yield text
        return
    piece = ""
    for sentence in _JAPANESE_SENTENCE_END_RE.split(text):
        while len(sentence) > _SUDACHI_MAX_CHARS:  # one endless sentence: cut it hard
            yield sentence[:_SUDACHI_MAX_CHARS]
            sentence = sentence[_SUDACHI_MAX_CHARS:]
        if len(piece) + len(sentence) > _SUDACHI_MAX_CHARS:
            yield piece
            piece = ""
        piece += sentence
    if piece:
        yield piece


def _segment_japanese(text: str) -> list[str | None]:
    """Content words in dictionary form; adjacent katakana nouns are one loanword (ラップ+トップ)."""
    out: list[str | None] = []
    tokenizer = _sudachi()
    for piece in _japanese_pieces(text):
        katakana_run = False
        after_number = False
        for morpheme in tokenizer.tokenize(piece):
            pos = morpheme.part_of_speech()
            surface = morpheme.surface()
            is_katakana = pos[0] == "名詞" and bool(_KATAKANA_WORD_RE.match(surface))
            if is_katakana and katakana_run and out and out[-1] is not None:
                out[-1] += surface
                continue
            katakana_run = is_katakana
            if morpheme.is_oov() and _HAN_WORD_RE.match(surface):
                out.append(None)  # kanji the dictionary does not know: Chinese text or noise
                katakana_run = False
            elif _japanese_content(pos, after_number):
                out.append((morpheme.dictionary_form() or surface).casefold())  # Latin: "and", not "AND"
            else:
                out.append(None)  # a particle or auxiliary ends the phrase
                katakana_run = False
            after_number = pos[1] == "数詞"
        out.append(None)
    return out


def _japanese_content(pos: tuple[str, ...], after_number: bool) -> bool:
    """Nouns, verbs, adjectives and na-adjectives that carry meaning (UniDic-style POS of Sudachi)."""
    if pos[0] == "名詞":
        if pos[1] == "数詞" or pos[2] == "人名":  # numbers; person names (and 了是-like misreadings)
            return False
        return pos[2] != "副詞可能" and not (pos[2] == "助数詞可能" and after_number)
    if pos[0] in ("動詞", "形容詞"):
        return True  # "非自立可能" covers 遅れる as well as いる: the filler list drops the latter
    return pos[0] == "形状詞" and pos[1] == "一般"


def _segment_thai(text: str) -> list[str | None]:
    out: list[str | None] = []
    for word in _thai_segmenter()(text, engine="newmm", keep_whitespace=False):
        if _HAN_RE.search(word) or _KANA_RE.search(word):
            out.extend(_segment_mixed(word))  # newmm leaves other scripts' runs whole
        elif word.strip():
            out.append(word)
    return out


def _strip_korean_particle(word: str) -> str:
    if not _HANGUL_ONLY_RE.match(word):
        return word
    for particle in _KOREAN_PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


_ARABIC_DIACRITICS_RE = re.compile("[\u064b-\u0652\u0670\u0640]")
_ARABIC_CONJUNCTION_RE = re.compile("^[وفبك](?=ال..)")


def _normalise_arabic(word: str) -> str:
    """Drop short vowels and tatweel, and a conjunction/preposition glued to the article (والمنتج)."""
    return _ARABIC_CONJUNCTION_RE.sub("", _ARABIC_DIACRITICS_RE.sub("", word))


def _segment_mixed(word: str) -> list[str | None]:
    """Hand a Han/kana/Thai run found in space-delimited text to its script's segmenter."""
    if _KANA_RE.search(word):
        return _segment_japanese(word)
    if _HAN_RE.search(word):
        return _segment_chinese(word)
    if _THAI_RE.search(word):
        return _segment_thai(word)
    return [word]


def tokenize_phrases(text: str, *, language: str) -> list[list[str]]:
    """Tokenise one text into phrases: runs of kept words that were adjacent in the text.

    A phrase ends at punctuation, at a URL and wherever a word was dropped (a stop word, a
    number), so two words of one phrase can form a meaningful bigram.

    Args:
        text: One text, any language.
        language: Its ISO 639-1 code (from :func:`pipeline.languages.detect_languages`).

    Returns:
        Phrases of tokens, each a list of real, casefolded words.
    """
    if not text:
        return []
    normalised = _normalise(text)
    if language in _CHINESE:
        return _runs(_segment_chinese(normalised), language)
    if language == "ja":
        return _runs(_segment_japanese(normalised), language)
    if language == "th":
        return _runs(_segment_thai(normalised), language)
    phrases: list[list[str]] = []
    korean = language == "ko"
    arabic = language in ("ar", "fa", "ur", "ps")
    for segment in _PHRASE_BREAK_RE.split(normalised):
        words: list[str | None] = []
        for word in _word_candidates(segment):
            if _CJK_OR_THAI_RE.search(word):
                words.append(None)
                words.extend(_segment_mixed(word))
                words.append(None)
            elif korean:
                words.append(_strip_korean_particle(word))
            elif arabic:
                words.append(_normalise_arabic(word))
            else:
                words.append(word)
        phrases.extend(_runs(words, language))
    return phrases


def _runs(words: Iterable[str | None], language: str) -> list[list[str]]:
    runs: list[list[str]] = []
    current: list[str] = []
    for word in _split_spaces(words):
        if word is not None and _keep(word, language):
            current.append(sys.intern(word))  # one object per distinct word: far less memory
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _split_spaces(words: Iterable[str | None]) -> Iterable[str | None]:
    """Tokens never contain whitespace (segmenters occasionally return "word word")."""
    for word in words:
        if word is not None and " " in word:  # NFKC has turned other spaces into " "
            yield from word.split()
        else:
            yield word


def tokenize(text: str, *, language: str) -> list[str]:
    """Tokenise one text into real words, in text order.

    Args:
        text: One text, any language.
        language: Its ISO 639-1 code (``"und"`` when unknown: scripts are still recognised).

    Returns:
        Casefolded, NFKC-normalised words with stop words, numbers, punctuation, URLs and
        e-mail addresses removed. Chinese, Japanese and Thai are segmented into dictionary words.
    """
    return [token for phrase in tokenize_phrases(text, language=language) for token in phrase]


# ------------------------------------------------------------------------------------- batches
_SLOW_LANGUAGES = _CHINESE | {"ja", "th"}
# Below this much work (characters of CJK/Thai text, or four times as many of other text),
# worker start-up costs more than it saves.
_PARALLEL_MIN_CHARS = 1_500_000


def _tokenize_chunk(chunk: list[tuple[str, str]]) -> list[list[list[str]]]:
    return [tokenize_phrases(text, language=language) for text, language in chunk]


def _segment_chunk(chunk: list[tuple[str, str]]) -> list[list[str | None]]:
    return [_segment_chinese(_normalise(text)) if text else [] for text, _ in chunk]


def tokenize_many(
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    n_jobs: int | None = None,
) -> list[list[list[str]]]:
    """Tokenise many texts into phrases (see :func:`tokenize_phrases`), fast.

    Identical (text, language) pairs are tokenised once. Chinese texts are segmented with the
    dictionary and then completed by the batch itself (see :func:`_learn_chinese_words`): words
    the dictionary lacks are joined from their pieces and bound single characters dropped, so a
    batch can give better words than :func:`tokenize_phrases` on each text alone. When the input
    is large (about 1.5M characters of Chinese, Japanese or Thai, or 6M of other text) and several
    CPUs are available, the work is spread over a pool of forked worker processes that inherit the
    loaded dictionaries.

    Args:
        texts: The texts.
        languages: One language code per text.
        n_jobs: Worker processes; ``None`` = ``os.cpu_count()`` for large inputs, ``1`` = none.

    Returns:
        Per text, its phrases of tokens.

    Raises:
        ValueError: When ``texts`` and ``languages`` differ in length.
    """
    if len(texts) != len(languages):
        raise ValueError(f"texts ({len(texts)}) and languages ({len(languages)}) differ in length")
    index: dict[tuple[str, str], int] = {}
    unique: list[tuple[str, str]] = []
    positions: list[int] = []
    for text, language in zip(texts, languages, strict=True):
        key = (text or "", language or "und")
        position = index.get(key)
        if position is None:
            position = index[key] = len(unique)
            unique.append(key)
        positions.append(position)

    chinese = [i for i, (_, language) in enumerate(unique) if language in _CHINESE]
    others = [i for i, (_, language) in enumerate(unique) if language not in _CHINESE]
    workers = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    results: list[list[list[str]]] = [[] for _ in unique]
    if others:
        items = [unique[i] for i in others]
        for i, phrases in zip(others, _map(_tokenize_chunk, items, workers), strict=True):
            results[i] = phrases
    if chinese:
        items = [unique[i] for i in chinese]
        sample = _learn_sample_size(len(items))
        if sample >= len(items):  # small: segment once, learn from all, finish here
            segments = _map(_segment_chunk, items, workers)
            words = _learn_chinese_words(segments)
            phrases_of = [
                _runs(_join_pieces(seg, words), lang) for seg, (_, lang) in zip(segments, items, strict=True)
            ]
        else:  # large: learn from an evenly spaced sample, then segment and finish the rest
            picked = {k * len(items) // sample for k in range(sample)}  # evenly spaced
            sampled = [items[k] for k in sorted(picked)]
            rest = [item for k, item in enumerate(items) if k not in picked]
            segments = _map(_segment_chunk, sampled, workers)
            words = _learn_chinese_words(segments)
            done = iter(
                [
                    _runs(_join_pieces(seg, words), lang)
                    for seg, (_, lang) in zip(segments, sampled, strict=True)
                ]
            )
            others_done = iter(_map(partial(_finish_chinese_chunk, words=words), rest, workers))
            phrases_of = [next(done) if k in picked else next(others_done) for k in range(len(items))]
        for i, phrases in zip(chinese, phrases_of, strict=True):
            results[i] = phrases
    return [results[p] for p in positions]


def _learn_sample_size(n: int) -> int:
    """Texts the Chinese word statistics come from: all of a small batch, a tenth of a large one."""
    return n if n <= _LEARN_MIN else min(max(_LEARN_MIN, n // 10), _LEARN_MAX)


def _finish_chinese_chunk(chunk: list[tuple[str, str]], *, words: _ChineseWords) -> list[list[list[str]]]:
    return [
        _runs(_join_pieces(segment, words), lang)
        for segment, (_, lang) in zip(_segment_chunk(chunk), chunk, strict=True)
    ]


def _map(
    function: Callable[[list[tuple[str, str]]], list[Any]], items: list[tuple[str, str]], workers: int
) -> list[Any]:
    """``function`` over ``items``, in forked workers when the work is large enough to pay off."""
    # Work estimate in "segmenter characters": word-regex languages cost about a quarter as much.
    work = sum(len(text) * (1.0 if language in _SLOW_LANGUAGES else 0.25) for text, language in items)
    if workers > 1 and work >= _PARALLEL_MIN_CHARS and _can_fork():
        try:
            return _tokenize_parallel(function, items, workers)
        except OSError:  # cannot fork (memory, process limits): do it here instead
            logger.warning("parallel tokenisation unavailable; tokenising in one process", exc_info=True)
    return function(items)


# ---------------------------------------------------------------- Chinese words from the corpus
# Two pieces are joined when one of them (a single character, or a piece already joined) occurs
# beside the other in at least this share of its occurrences, at least _MERGE_MIN_COUNT times.
_MERGE_SHARE = 0.5
_MERGE_MIN_COUNT = 3
_MERGE_ROUNDS = 4
# A single character left over is bound (a piece of a word, dropped) when on one side it almost
# always touches a Han word (this share) and those words are few (branching entropy below this,
# in nats): 员 after 配送/送餐/快递 is bound; 慢 after 太/很/送餐/速度/... is a word of its own.
_BOUND_ATTACHED_SHARE = 0.8
_BOUND_MAX_ENTROPY = 1.5
_BOUND_MIN_COUNT = 2
_BOUND_ENTROPY_COUNT = 8
# Statistics come from every text of a batch of up to _LEARN_MIN texts, else from an evenly spaced
# tenth of it, at most _LEARN_MAX texts, segmented once: on 100,000 rows tokenising took 5-8% more
# CPU than dictionary segmentation alone, on 10,000 rows 14-23% more (bench/results/README.md).
_LEARN_MIN = 10_000
_LEARN_MAX = 30_000
_HAN_WORD_RE = re.compile(f"^[{_HAN}]+$")


class _ChineseWords:
    """What a batch taught: words made of pieces (by first piece, longest first), bound characters."""

    __slots__ = ("bound", "starts")

    def __init__(self, starts: dict[str, list[tuple[str, ...]]], bound: frozenset[str]) -> None:
        self.starts = starts
        self.bound = bound


def _learn_chinese_words(segments: Sequence[Sequence[str | None]]) -> _ChineseWords:
    """Complete jieba's dictionary from the batch: join pieces of unknown words, find bound characters.

    Without HMM guessing, jieba cuts a word its dictionary lacks into pieces (送餐员 -> 送/餐/员,
    石锅拌饭 -> 石/锅/拌饭); jieba's HMM joins the wrong pieces (送/餐员, 员人). Here two adjacent
    pieces are joined when one of them, a single character or a piece already joined, occurs
    beside the other at least half of the times it occurs (in rounds, so 送+餐, then 送餐+员).
    Stop words (的, 了, 我...) and numerals never join. A single character that still mostly
    touches one of a few words is a bound piece: it joins those words it meets at least
    _MERGE_MIN_COUNT times (配送+员, 快递+员) and is dropped elsewhere.
    """
    stops = stop_words("zh")
    # Chinese segments hold no None and no whitespace (see _segment_chinese); never mutated here.
    units: list[Sequence[str]] = list(segments)  # type: ignore[arg-type]
    pieces: dict[str, tuple[str, ...]] = {}

    @cache
    def joinable(word: str) -> bool:
        return bool(_HAN_WORD_RE.match(word)) and not all(ch in _NUMERALS for ch in word)

    def dependent(word: str) -> bool:
        return len(word) == 1 or word in pieces

    unit_count: Counter[str] = Counter(chain.from_iterable(units))
    # Only pairs with a single character that is not a stop word can join or bind (later rounds
    # add the pairs of the joined pieces).
    pair_count: Counter[tuple[str, str]] = Counter(
        (a, b)
        for unit in units
        for a, b in pairwise(unit)
        if (len(a) == 1 and a not in stops) or (len(b) == 1 and b not in stops)
    )
    candidates: Iterable[tuple[str, str]] = list(pair_count)
    for _ in range(_MERGE_ROUNDS):
        merges: set[tuple[str, str]] = set()
        for a, b in candidates:
            if a in stops or b in stops or len(a) + len(b) > _MAX_CJK_TOKEN_CHARS:
                continue
            n = pair_count[a, b]
            if n < _MERGE_MIN_COUNT or not (joinable(a) and joinable(b)):
                continue
            if (dependent(a) and n >= _MERGE_SHARE * unit_count[a]) or (
                dependent(b) and n >= _MERGE_SHARE * unit_count[b]
            ):
                merges.add((a, b))
        if not merges:
            break
        changed: set[tuple[str, str]] = set()  # the next round looks at the pairs of changed texts
        for k, unit in enumerate(units):
            if merges.isdisjoint(pairwise(unit)):
                continue
            joined: list[str] = []
            i = 0
            while i < len(unit):
                if i + 1 < len(unit) and (unit[i], unit[i + 1]) in merges:
                    word = unit[i] + unit[i + 1]
                    pieces[word] = pieces.get(unit[i], (unit[i],)) + pieces.get(unit[i + 1], (unit[i + 1],))
                    joined.append(word)
                    i += 2
                else:
                    joined.append(unit[i])
                    i += 1
            if len(joined) != len(unit):  # counts follow the texts that changed
                unit_count.subtract(unit)
                pair_count.subtract(pairwise(unit))
                unit_count.update(joined)
                pair_count.update(pairwise(joined))
                changed.update(pairwise(joined))
                units[k] = joined
        candidates = changed

    bound, joins = _bound_characters(unit_count, pair_count, stops)
    starts: dict[str, list[tuple[str, ...]]] = {}
    for sequence in pieces.values():  # every piece once joined (眉州 of 眉州东坡 too) is a word
        starts.setdefault(sequence[0], []).append(sequence)
    for a, b in joins:  # a bound character joins the words it is bound to (配送+员, 快递+员)
        if joinable(a) and joinable(b) and len(a) + len(b) <= _MAX_CJK_TOKEN_CHARS:
            sequence = pieces.get(a, (a,)) + pieces.get(b, (b,))
            starts.setdefault(sequence[0], []).append(sequence)
    for sequences in starts.values():
        sequences.sort(key=lambda seq: (-len(seq), seq))
    return _ChineseWords(starts, bound)


def _bound_characters(
    unit_count: Counter[str], pair_count: Counter[tuple[str, str]], stops: frozenset[str]
) -> tuple[frozenset[str], list[tuple[str, str]]]:
    """Single characters that on one side nearly always touch one of a few words (员 after 配送).

    Returns the bound characters and the pairs that join one to a frequent, non-stop-word
    neighbour on its bound side (配送+员, 快递+员, 拿+铁); its other occurrences are dropped.
    """
    candidates = {
        w for w, n in unit_count.items() if len(w) == 1 and n >= _BOUND_MIN_COUNT and w not in stops
    }
    sides: dict[str, tuple[Counter[str], Counter[str]]] = {w: (Counter(), Counter()) for w in candidates}
    for (a, b), n in pair_count.items():
        if n > 0 and (a in candidates or b in candidates):
            if b in candidates and _attached(a):
                sides[b][0][a] += n
            if a in candidates and _attached(b):
                sides[a][1][b] += n
    bound = set()
    joins: list[tuple[str, str]] = []
    for word in sorted(candidates):
        n = unit_count[word]
        if not _HAN_RE.match(word):
            continue
        for position, side in enumerate(sides[word]):
            attached = sum(side.values())
            # Few occurrences say little about entropy: below _BOUND_ENTROPY_COUNT, bound means
            # always beside the same word (眉 of 眉州, seen twice).
            few = n < _BOUND_ENTROPY_COUNT
            if attached >= _BOUND_ATTACHED_SHARE * n and (
                len(side) == 1 if few else _entropy(side) < _BOUND_MAX_ENTROPY
            ):
                bound.add(word)
                for neighbour, count in side.items():
                    if count >= _MERGE_MIN_COUNT and neighbour not in stops:
                        joins.append((neighbour, word) if position == 0 else (word, neighbour))
    return frozenset(bound), joins


def _attached(word: str) -> bool:
    """A neighbour that binds: a Han word, not a particle or a degree/negation word (很慢, 不熟)."""
    return bool(_HAN_WORD_RE.match(word)) and word not in _PARTICLES and word not in _MODIFIERS


def _entropy(counts: Counter[str]) -> float:
    total = sum(counts.values())
    return -sum(c / total * math.log(c / total) for c in counts.values()) if total else 0.0


def _join_pieces(segment: Sequence[str | None], words: _ChineseWords) -> list[str | None]:
    """Join the learned words' pieces (longest first) and blank out bound characters."""
    out: list[str | None] = []
    starts, bound = words.starts, words.bound
    i, n = 0, len(segment)
    while i < n:
        word = segment[i]
        candidates = starts.get(word) if word is not None else None
        if candidates:
            for sequence in candidates:
                end = i + len(sequence)
                if end <= n and tuple(segment[i:end]) == sequence:
                    out.append("".join(sequence))
                    i = end
                    break
            else:
                out.append(None if word in bound else word)
                i += 1
        else:
            out.append(None if word in bound else word)
            i += 1
    return out


def _can_fork() -> bool:
    """Forked workers are possible: POSIX, and not already inside a daemonic worker."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _tokenize_parallel(
    function: Callable[[list[tuple[str, str]]], list[Any]], items: list[tuple[str, str]], workers: int
) -> list[Any]:
    import multiprocessing

    languages = {language for _, language in items}
    # Load the dictionaries once here; forked workers inherit them instead of each loading them.
    if languages & _CHINESE:
        _chinese_cutter()
    if "ja" in languages:
        _sudachi()
    if "th" in languages:
        _thai_segmenter()
    _word_re()
    for language in languages:
        stop_words(language)
    size = max(500, len(items) // (workers * 8))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    logger.debug("tokenising %d texts in %d chunks on %d processes", len(items), len(chunks), workers)
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=workers) as pool:
        parts = pool.map(function, chunks, chunksize=1)
    return [result for part in parts for result in part]
