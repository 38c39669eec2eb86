"""Language-aware tokenisation into real words, for topic keywords.

Every language gets words a reader recognises, never sentence fragments:

* Chinese is segmented with ``jieba`` (dictionary mode, no HMM guessing of new words);
* Japanese with ``janome``, keeping nouns, verbs and adjectives in their base form;
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
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache
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

# Japanese base forms that carry no topic (auxiliary-like verbs, formal nouns, fillers).
_JAPANESE_FILLER = _words("""する ある いる なる できる れる られる せる させる ない いい よい 良い 思う 言う いう
    こと もの ところ ため よう そう これ それ あれ どれ ここ そこ 方 感じ 的 とても 本当 非常
    とても すごい 少し ちょっと 私 僕 自分 皆 さん 様 的 くれる もらう あげる しまう いく くる
    みる おる 得る""")
_JAPANESE_KEEP_POS = ("名詞", "動詞", "形容詞")
_KATAKANA_WORD_RE = re.compile("^[\u30a0-\u30ffー]+$")
_JAPANESE_DROP_DETAIL = frozenset({"数", "非自立", "代名詞", "接尾", "副詞可能", "特殊"})

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
def _janome() -> Any:
    """A janome tokenizer with its bundled IPADIC dictionary."""
    from janome.tokenizer import Tokenizer

    return Tokenizer()


@lru_cache(maxsize=1)
def _thai_segmenter() -> Any:
    """pythainlp's offline ``newmm`` segmenter (dictionary bundled in the wheel)."""
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


@cache
def stop_words(language: str) -> frozenset[str]:
    """The stop words applied to one language (casefolded).

    stopwordsiso's list for the language, the product's feedback filler words, and for languages
    not written in Latin script the English list too (English words and brand names are common
    in such feedback).

    Args:
        language: ISO 639-1 code (``"und"`` and unknown codes get the English list).

    Returns:
        A frozen set of stop words.
    """
    import stopwordsiso

    lang = "zh" if language in _CHINESE else language
    words: set[str] = set()
    if stopwordsiso.has_lang(lang) and lang != "en":
        words |= {unicodedata.normalize("NFKC", w).casefold() for w in stopwordsiso.stopwords(lang)}
    if lang not in _LATIN_LANGUAGES or lang == "en":
        words |= {w.casefold() for w in stopwordsiso.stopwords("en")} - _ENGLISH_KEEP
        words |= _FILLER["en"]
    words |= _FILLER.get(lang, frozenset())
    if lang == "zh":
        words |= _CHINESE_FILLER
    elif lang == "ja":
        # Lone kanji that janome tags as nouns are mostly function characters (了, 是, 中...).
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
        return len(token) <= _MAX_CJK_TOKEN_CHARS
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


def _segment_japanese(text: str) -> list[str | None]:
    """Content words in base form; adjacent katakana nouns are one loanword (ラップ+トップ)."""
    out: list[str | None] = []
    katakana_run = False
    for token in _janome().tokenize(text):
        pos = token.part_of_speech.split(",")
        surface = token.surface
        is_katakana = pos[0] == "名詞" and bool(_KATAKANA_WORD_RE.match(surface))
        if is_katakana and katakana_run and out and out[-1] is not None:
            out[-1] += surface
            continue
        katakana_run = is_katakana
        keep = pos[0] in _JAPANESE_KEEP_POS and pos[1] not in _JAPANESE_DROP_DETAIL
        if keep and (pos[0] == "名詞" or pos[1] == "自立"):
            out.append(token.base_form if token.base_form and token.base_form != "*" else surface)
        else:
            out.append(None)  # a particle or auxiliary ends the phrase
            katakana_run = False
    return out


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


def tokenize_many(
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    n_jobs: int | None = None,
) -> list[list[list[str]]]:
    """Tokenise many texts into phrases (see :func:`tokenize_phrases`), fast.

    Identical (text, language) pairs are tokenised once. When the input is large (about 1.5M
    characters of Chinese, Japanese or Thai, or 6M of other text) and several CPUs are available,
    the work is spread over a pool of forked worker processes that inherit the loaded dictionaries.

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

    # Work estimate in "segmenter characters": word-regex languages cost about a quarter as much.
    work = sum(len(text) * (1.0 if language in _SLOW_LANGUAGES else 0.25) for text, language in unique)
    workers = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    results: list[list[list[str]]] | None = None
    if workers > 1 and work >= _PARALLEL_MIN_CHARS and _can_fork():
        try:
            results = _tokenize_parallel(unique, workers)
        except OSError:  # cannot fork (memory, process limits): do it here instead
            logger.warning("parallel tokenisation unavailable; tokenising in one process", exc_info=True)
    if results is None:
        results = _tokenize_chunk(unique)
    return [results[p] for p in positions]


def _can_fork() -> bool:
    """Forked workers are possible: POSIX, and not already inside a daemonic worker."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _tokenize_parallel(items: list[tuple[str, str]], workers: int) -> list[list[list[str]]]:
    import multiprocessing

    languages = {language for _, language in items}
    # Load the dictionaries once here; forked workers inherit them instead of each loading them.
    if languages & _CHINESE:
        _chinese_cutter()
    if "ja" in languages:
        _janome()
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
        parts = pool.map(_tokenize_chunk, chunks, chunksize=1)
    return [phrases for part in parts for phrases in part]
