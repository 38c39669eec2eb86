"""The lexicon scorer: word lists with negation and "but", over the raw text (no tokeniser)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from pipeline.sentiment.lexicon_data import CONTRASTS, NEGATIVE, NEGATORS, POSITIVE

SUBSTRING_LANGUAGES = frozenset({"zh", "ja", "th"})
"""Languages written without spaces between words: entries match as substrings."""
_NEGATION_CHARS = 3
_NEGATION_WORDS = 3
_CONTRAST_WEIGHT = 1.5
_WORD = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)
_CLAUSE = re.compile(r"[,.;!?，。；！？、…\n]+")


@dataclass(frozen=True)
class _Lexicon:
    polarity: dict[str, int]
    negators: tuple[str, ...]
    contrasts: frozenset[str]
    pattern: re.Pattern[str] | None
    max_words: int


@cache
def _lexicon(language: str) -> _Lexicon | None:
    if language not in POSITIVE:
        return None
    polarity = {w: -1 for w in NEGATIVE.get(language, ())}
    polarity.update({w: 1 for w in POSITIVE[language]})
    pattern = None
    if language in SUBSTRING_LANGUAGES:
        entries = sorted({*polarity, *CONTRASTS.get(language, ())}, key=lambda w: (-len(w), w))
        pattern = re.compile("|".join(re.escape(w) for w in entries))
    return _Lexicon(
        polarity=polarity,
        negators=NEGATORS.get(language, ()),
        contrasts=frozenset(CONTRASTS.get(language, ())),
        pattern=pattern,
        max_words=max(len(w.split()) for w in polarity),
    )


def lexicon_scores(texts: Sequence[str], languages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Score texts in ``[-1, 1]`` and count their sentiment words.

    Args:
        texts: The texts.
        languages: ISO 639-1 code per text (``""`` or an unlisted language scores nothing).

    Returns:
        ``(scores, hits)``: ``(positive - negative) / (positive + negative + 1)`` with weights for
        negation (flips) and "but" (the later clause counts 1.5 times), and the number of matches.
    """
    scores = np.zeros(len(texts), dtype=np.float64)
    hits = np.zeros(len(texts), dtype=np.int64)
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        lexicon = _lexicon((language or "").split("-")[0].lower())
        if lexicon is None or not text:
            continue
        raw, total, n = (_substring_score if lexicon.pattern is not None else _word_score)(text, lexicon)
        scores[i] = raw / (total + 1.0)
        hits[i] = n
    return scores, hits


def _substring_score(text: str, lexicon: _Lexicon) -> tuple[float, float, int]:
    assert lexicon.pattern is not None
    raw = total = 0.0
    n = 0
    weight = 1.0
    for clause in _CLAUSE.split(text):
        for match in lexicon.pattern.finditer(clause):
            word = match.group()
            if word in lexicon.contrasts:
                weight = _CONTRAST_WEIGHT
                continue
            before = clause[max(0, match.start() - _NEGATION_CHARS) : match.start()]
            sign = -1 if any(neg in before for neg in lexicon.negators) else 1
            raw += sign * lexicon.polarity[word] * weight
            total += weight
            n += 1
    return raw, total, n


def _word_score(text: str, lexicon: _Lexicon) -> tuple[float, float, int]:
    raw = total = 0.0
    n = 0
    weight = 1.0
    for clause in _CLAUSE.split(text.lower()):
        words = _WORD.findall(clause)
        i = 0
        while i < len(words):
            if words[i] in lexicon.contrasts:
                weight = _CONTRAST_WEIGHT
                i += 1
                continue
            for size in range(min(lexicon.max_words, len(words) - i), 0, -1):
                phrase = " ".join(words[i : i + size])
                polarity = lexicon.polarity.get(phrase)
                if polarity is not None:
                    window = words[max(0, i - _NEGATION_WORDS) : i]
                    sign = -1 if any(w in lexicon.negators for w in window) else 1
                    raw += sign * polarity * weight
                    total += weight
                    n += 1
                    i += size
                    break
            else:
                i += 1
    return raw, total, n
