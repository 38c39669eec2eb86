"""Evidence for an encoding: how plausible a decoded text is as human writing.

Every candidate encoding decodes the same bytes; the texts are compared by the characters they
produce. Common letters of one script (accented Latin letters beside ASCII ones, Cyrillic words,
the frequent Han characters of GB2312/Big5/JIS level 1, KS X 1001 Hangul, kana) count as
plausible; replacement characters, C0/C1 control characters, private-use and unassigned code
points, stray Latin-1 symbols and long runs of accented Latin capitals and lower-case letters (what
CJK bytes look like through cp1252) count against. No data file or model is needed.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_SAMPLE_CHARS = 200_000


@lru_cache(maxsize=1 << 16)
def _encodable(ch: str, encoding: str) -> bytes | None:
    try:
        return ch.encode(encoding)
    except UnicodeEncodeError:
        return None


def _common_han(ch: str) -> bool:
    """Han character in a first-level (frequent) set: GB2312 level 1, Big5 level 1 or JIS level 1."""
    gb = _encodable(ch, "gb2312")
    if gb is not None and len(gb) == 2 and 0xB0 <= gb[0] <= 0xD7:
        return True
    big5 = _encodable(ch, "big5")
    if big5 is not None and len(big5) == 2 and 0xA4 <= big5[0] <= 0xC6:
        return True
    sjis = _encodable(ch, "shift_jis")
    return sjis is not None and len(sjis) == 2 and 0x88 <= sjis[0] <= 0x98


# The letters with diacritics of each Latin-script alphabet: a real text uses one of them, while
# bytes read through the wrong code page mix letters of several (Polish "ę" read as cp1252 is "ê").
_ALPHABETS: tuple[frozenset[str], ...] = tuple(
    frozenset(letters)
    for letters in (
        "àâæçéèêëîïôœùûüÿ",  # French
        "äöüß",  # German
        "áéíñóúü",  # Spanish
        "áâãàçéêíóôõú",  # Portuguese
        "àèéìíîòóùú",  # Italian
        "ąćęłńóśźż",  # Polish
        "áčďéěíňóřšťúůýž",  # Czech, Slovak
        "çğıöşü",  # Turkish
        "ăâîșțşţ",  # Romanian
        "áéíóöőúüű",  # Hungarian
        "čćđšž",  # Croatian, Serbian, Slovene
        "åæøäöéü",  # Nordic
        "éëïóèü",  # Dutch
        "ąčęėįšųūžāēģīķļņ",  # Baltic
        "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ",  # Vietnamese (partly)
    )
)


def _alphabet_coherence(letters: set[str]) -> float:
    """Share of the distinct accented letters that one alphabet holds (1.0 for none)."""
    if not letters:
        return 1.0
    return max(len(letters & alphabet) for alphabet in _ALPHABETS) / len(letters)


@lru_cache(maxsize=1)
def _frequent_hangul() -> frozenset[str]:
    try:
        from charset_normalizer.constant import FREQUENCIES
    except ImportError:  # pragma: no cover - a declared dependency
        return frozenset()
    return frozenset(FREQUENCIES.get("Korean", ()))


@lru_cache(maxsize=1)
def _frequent_han() -> frozenset[str]:
    """The most frequent Chinese and Japanese characters (charset-normalizer's frequency tables)."""
    try:
        from charset_normalizer.constant import FREQUENCIES
    except ImportError:  # pragma: no cover - a declared dependency
        return frozenset()
    return frozenset(ch for lang in ("Chinese", "Japanese") for ch in FREQUENCIES.get(lang, ()))


def family(codec: str) -> str:
    """The writing the codec implies: ``zh``, ``ja``, ``ko`` or ``any`` (single-byte and Unicode)."""
    name = codec.lower().replace("-", "_")
    if name in ("gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950", "hz"):
        return "zh"
    if name in ("cp932", "shift_jis", "euc_jp", "iso2022_jp"):
        return "ja"
    if name in ("cp949", "euc_kr", "johab"):
        return "ko"
    return "any"


@lru_cache(maxsize=1 << 17)
def char_weight(ch: str, writing: str = "any") -> float:
    """Plausibility of one non-ASCII character in text of ``writing`` (:func:`family`), -1 to 1."""
    code = ord(ch)
    if writing != "any":
        if 0x3040 <= code <= 0x30FF and writing != "ja":
            return 0.2  # kana in Chinese or Korean text: what mojibake from other CJK bytes looks like
        if 0xAC00 <= code <= 0xD7A3 and writing != "ko":
            return 0.1
    if 0x4E00 <= code <= 0x9FFF:
        if ch in _frequent_han():
            return 1.0
        return 0.75 if _common_han(ch) else 0.35
    if ch == "\ufffd":
        return -1.0
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return 0.0 if ch not in "\t\n\r" else 1.0
    if code < 0x7F:
        return 1.0
    category = unicodedata.category(ch)
    if category in ("Co", "Cn", "Cs", "Cc"):
        return 0.0
    if 0xAC00 <= code <= 0xD7A3:
        if ch in _frequent_hangul():
            return 1.0
        encoded = _encodable(ch, "euc_kr")
        return 0.85 if encoded is not None and len(encoded) == 2 else 0.2
    if 0x3040 <= code <= 0x30FF:
        return 0.9
    if 0xFF61 <= code <= 0xFF9F:
        return 0.3  # half-width katakana
    if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E:
        return 0.9  # CJK and full-width punctuation
    if 0x2010 <= code <= 0x2027 or code in (0x20AC, 0x2122):
        return 0.8  # dashes, quotes, ellipsis, bullet, euro, trade mark
    if code in (0xD0, 0xDE, 0xF0, 0xFE):
        return 0.4  # eth and thorn: Icelandic only, and what Turkish or Polish bytes give in cp1252
    if 0x00C0 <= code <= 0x00FF and code not in (0xD7, 0xF7):
        return 1.0
    if 0x0100 <= code <= 0x017F:
        return 1.0 if any(ch.lower() in alphabet for alphabet in _ALPHABETS) else 0.8
    if code in (0xA1, 0xBF):
        return 0.9  # ¡ ¿ (Spanish)
    if code in (0xAB, 0xBB):
        return 0.8  # « » (French, German, Russian quotes)
    if code in (0xA0, 0xA3, 0xB0):
        return 0.7  # no-break space, £, °
    if 0x00A0 <= code <= 0x00BF or code in (0xD7, 0xF7):
        return 0.35
    if 0x02B0 <= code <= 0x02FF:
        return 0.2  # spacing modifier letters (ˇ ˘ ˝): what Latin-1 punctuation gives in cp1250
    if category.startswith("L"):
        if 0x0180 <= code <= 0x024F:
            return 0.3
        if 0x3400 <= code <= 0x4DBF or code >= 0x20000:
            return 0.2  # rare Han extensions
        if 0xF900 <= code <= 0xFAFF:
            return 0.1  # CJK compatibility ideographs
        return 0.9  # Cyrillic, Greek, Arabic, Hebrew, Thai, Devanagari, ...
    if category.startswith("M"):
        return 0.6
    if category.startswith("N"):
        return 0.5
    if category == "So" and code >= 0x1F000:
        return 0.8  # emoji
    return 0.25  # other symbols: box drawing, maths, arrows


def _latin(ch: str) -> bool:
    code = ord(ch)
    return 0xC0 <= code <= 0x24F and code not in (0xD7, 0xF7)


@lru_cache(maxsize=1 << 16)
def _script(ch: str) -> str:
    """A coarse script class: ``han``/``hangul`` (both also CJK), ``cjk`` (kana), ``latin``, ``alpha``."""
    code = ord(ch)
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if 0xAC00 <= code <= 0xD7A3:
        return "hangul"
    if 0x3040 <= code <= 0x30FF:
        return "cjk"
    if _latin(ch):
        return "latin"
    if 0x0370 <= code <= 0x0E7F and unicodedata.category(ch).startswith("L"):
        return "alpha"
    return "other"


def plausibility(text: str, writing: str = "any") -> tuple[float, int]:
    """Mean weight of the non-ASCII characters of ``text`` (1.0 when there are none) and their count.

    Context lowers a character's weight: accented Latin letters in a run of six or more non-ASCII
    characters (real European words mix them with ASCII letters, CJK bytes through a Western code
    page give such runs); a Cyrillic, Greek, Arabic, Hebrew or Thai letter glued to an ASCII letter or
    in a word of over 20 letters; a capital right after a small letter; Greek or Latin letters
    beside CJK ones; Han beside Hangul; Hangul runs of more than eight syllables (Korean puts spaces
    between words).
    """
    sample = text[:_SAMPLE_CHARS]
    total = 0.0
    count = 0
    run: list[float] = []
    run_script: list[str] = []
    prev = " "

    def close() -> None:
        nonlocal total, count
        if not run:
            return
        long_run = len(run) >= 6
        scripts = set(run_script)
        mixed_cjk = bool(scripts & {"han", "hangul", "cjk"}) and bool(scripts & {"alpha", "latin"})
        han_hangul = "han" in scripts and "hangul" in scripts
        long_hangul = run_script.count("hangul") > 8
        long_alpha = run_script.count("alpha") > 20
        for position, (weight, script) in enumerate(zip(run, run_script, strict=True)):
            if (
                script == "other"
                and 0 < position < len(run) - 1
                and run_script[position - 1] in ("alpha", "latin")
                and run_script[position + 1] in ("alpha", "latin")
            ):
                weight *= 0.3  # a quote or symbol between two letters of one word
            if long_run and script == "latin":
                weight /= 3
            if mixed_cjk and script in ("alpha", "latin"):
                weight *= 0.3
            if han_hangul and script in ("han", "hangul"):
                weight *= 0.5
            if long_hangul and script == "hangul":
                weight *= 0.4
            if long_alpha and script == "alpha":
                weight *= 0.5
            total += weight
        count += len(run)
        run.clear()
        run_script.clear()

    accented: set[str] = set()
    line_latin = 0
    incoherent = 0.0  # accented letters on lines that mix alphabets, weighted by the mix

    def end_line() -> None:
        nonlocal line_latin, incoherent
        if line_latin:
            incoherent += line_latin * (1.0 - _alphabet_coherence(accented))
        accented.clear()
        line_latin = 0

    for ch in sample:
        if ch < "\x80" and (" " <= ch < "\x7f" or ch in "\t\n\r"):
            if ch == "\n":
                end_line()
            if run and run_script[-1] == "alpha" and ch.isalpha():
                run[-1] *= 0.3  # a non-Latin letter glued to an ASCII letter
            close()
            prev = ch
            continue
        weight = char_weight(ch, writing)
        script = _script(ch)
        if script == "latin":
            line_latin += 1
            accented.add(ch.lower())
        if script == "alpha" and prev < "\x80" and prev.isalpha():
            weight *= 0.3
        if ch.isupper() and prev.islower() and script in ("alpha", "latin"):
            weight *= 0.2  # a capital inside a word
        run.append(weight)
        run_script.append(script)
        prev = ch
    close()
    end_line()
    if count == 0:
        return 1.0, 0
    # One answer (line) mixing the accented letters of several alphabets is what a Western code
    # page misreading another gives; a multilingual file has each line in one alphabet.
    score = total / count - 0.5 * incoherent / count
    if writing == "ja":
        kana = sum(1 for ch in sample if 0x3040 <= ord(ch) <= 0x30FF)
        han = sum(1 for ch in sample if 0x4E00 <= ord(ch) <= 0x9FFF)
        if han > 10 and kana < 0.05 * han:
            score *= 0.9  # Japanese without kana is rare; Chinese bytes read as Japanese look so
    return score, count


def whole_plausibility(text: str) -> float:
    """Mean weight over every character (ASCII included): compares UTF-16/32 with byte encodings."""
    sample = text[:_SAMPLE_CHARS]
    if not sample:
        return 1.0
    ascii_ok = sum(1 for ch in sample if " " <= ch < "\x7f" or ch in "\t\n\r")
    rest = [char_weight(ch) for ch in sample if not (" " <= ch < "\x7f" or ch in "\t\n\r")]
    return (ascii_ok + sum(rest)) / len(sample)
