"""Per-row language detection: a Unicode-script fast path, then an offline n-gram classifier.

Texts written in a script used by one main language (Han without kana, kana, Hangul, Thai, Greek,
Hebrew, ...) are decided by counting characters, which is exact for feedback and costs nothing.
Everything else (Latin, Cyrillic, Arabic, Devanagari... scripts shared by several languages) goes
to ``py3langid``'s naive-Bayes model, which ships inside its wheel, restricted to the ISO 639-1
languages that customer feedback realistically comes in. That restriction is what keeps short
texts ("great app", "très bien") from being labelled Occitan, Latin or Nigerian Pidgin.

Codes are ISO 639-1 (``"en"``, ``"zh"``...); ``"und"`` means empty or no letters at all (numbers,
emoji, punctuation).
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

UNDETERMINED = "und"

# Two-letter codes the classifier may answer with. Dead, constructed and very low-resource
# languages of the model (la, eo, sa, br, fy, ht, jv, lg, ln, mg, om, qu, ...) are left out because on
# short text they mostly appear as false positives for the big languages.
_DETECTOR_LANGUAGES: tuple[str, ...] = (
    "af", "am", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en",
    "es", "et", "eu", "fa", "fi", "fr", "ga", "gl", "gu", "he", "hi", "hr", "hu", "hy", "id",
    "is", "it", "ja", "ka", "kk", "km", "kn", "ko", "ky", "lo", "lt", "lv", "mk", "ml", "mn",
    "mr", "ms", "my", "ne", "nl", "no", "pa", "pl", "ps", "pt", "ro", "ru", "si", "sk", "sl",
    "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "uz", "vi", "zh", "zu",
)  # fmt: skip

# Scripts that identify one language outright (letter counts decide; the heavier CJK scripts
# count triple because one character carries about a word's worth of letters).
_SCRIPTS: tuple[tuple[str, str, int], ...] = (
    ("kana", "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f", 3),
    ("han", "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff", 3),
    ("hangul", "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af", 3),
    ("thai", "\u0e00-\u0e7f", 1),
    ("lao", "\u0e80-\u0eff", 1),
    ("khmer", "\u1780-\u17ff", 1),
    ("myanmar", "\u1000-\u109f", 1),
    ("greek", "\u0370-\u03ff\u1f00-\u1fff", 1),
    ("hebrew", "\u0590-\u05ff", 1),
    ("georgian", "\u10a0-\u10ff", 1),
    ("armenian", "\u0530-\u058f", 1),
    ("ethiopic", "\u1200-\u137f", 1),
    ("sinhala", "\u0d80-\u0dff", 1),
    ("tamil", "\u0b80-\u0bff", 1),
    ("telugu", "\u0c00-\u0c7f", 1),
    ("kannada", "\u0c80-\u0cff", 1),
    ("malayalam", "\u0d00-\u0d7f", 1),
    ("gujarati", "\u0a80-\u0aff", 1),
    ("gurmukhi", "\u0a00-\u0a7f", 1),
    ("arabic", "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff", 1),
)
_SCRIPT_LANGUAGE: dict[str, str] = {
    "kana": "ja",
    "han": "zh",
    "hangul": "ko",
    "thai": "th",
    "lao": "lo",
    "khmer": "km",
    "myanmar": "my",
    "greek": "el",
    "hebrew": "he",
    "georgian": "ka",
    "armenian": "hy",
    "ethiopic": "am",
    "sinhala": "si",
    "tamil": "ta",
    "telugu": "te",
    "kannada": "kn",
    "malayalam": "ml",
    "gujarati": "gu",
    "gurmukhi": "pa",
    "arabic": "ar",
}
# Languages written in Arabic script that the classifier may tell apart from Arabic.
_ARABIC_SCRIPT_LANGUAGES = ("ar", "fa", "ur", "ps")

_SCRIPT_RE = {name: re.compile(f"[{chars}]") for name, chars, _ in _SCRIPTS}
_WEIGHT = {name: weight for name, _, weight in _SCRIPTS}
_ANY_SPECIAL_RE = re.compile("[" + "".join(chars for _, chars, _ in _SCRIPTS) + "]")
_LETTER_RE = re.compile(r"[^\W\d_]")
# Below this posterior probability a classification is re-decided with the file's language prior.
_CONFIDENT = 0.9
# Only texts this short (a word or two) take the prior; longer ones carry their own evidence.
_SHORT_CHARS = 24
# The n-gram classifier reads at most this many characters of a text (see _opening).
_CLASSIFY_CHARS = 300
# From this many distinct texts on, classification runs on all CPUs (forked workers).
_PARALLEL_MIN_TEXTS = 50_000


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """The py3langid classifier restricted to :data:`_DETECTOR_LANGUAGES` (loaded once, ~1 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([code for code in _DETECTOR_LANGUAGES if code in identifier.nb_classes])
    return identifier


@lru_cache(maxsize=1)
def _arabic_identifier() -> Any:
    """The same model, choosing only among Arabic-script languages (shares the loaded tables)."""
    identifier = copy.copy(_identifier())
    identifier.set_languages(list(_ARABIC_SCRIPT_LANGUAGES))
    return identifier


def _dominant_script(text: str) -> str | None:
    """The single-language script with the most (weighted) characters, if it outweighs the rest."""
    counts: dict[str, int] = {}
    for name, pattern in _SCRIPT_RE.items():
        found = pattern.findall(text)
        if found:
            counts[name] = len(found) * _WEIGHT[name]
    if not counts:
        return None
    if "kana" in counts and "han" in counts:
        # Japanese mixes kanji and kana; Chinese never uses kana.
        counts["kana"] += counts.pop("han")
    raw = {name: count // _WEIGHT[name] for name, count in counts.items()}
    other_letters = max(0, len(_LETTER_RE.findall(text)) - sum(raw.values()))
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] >= other_letters else None


def _classify(text: str) -> tuple[str, float]:
    """``(code, confidence)`` for one text; confidence 1.0 for script decisions and ``und``."""
    if not text or not _LETTER_RE.search(text):
        return UNDETERMINED, 1.0
    if _ANY_SPECIAL_RE.search(text):
        script = _dominant_script(text)
        if script == "arabic":
            code, confidence = _arabic_identifier().classify(_opening(text))
            return str(code), float(confidence)
        if script is not None:
            return _SCRIPT_LANGUAGE[script], 1.0
    code, confidence = _identifier().classify(_opening(text))
    return str(code), float(confidence)


def _opening(text: str) -> str:
    """The first ~300 characters, cut at a space, for the n-gram classifier.

    Its cost grows with length and its answer settles within a few sentences: on m_absa this
    gave the same accuracy, and synthetic reviews (mean 197 characters, a long tail) ran 1.1x as fast
    with the same answers (``python bench/stage_speed.py languages``).
    """
    if len(text) <= _CLASSIFY_CHARS:
        return text
    space = text.rfind(" ", 0, _CLASSIFY_CHARS)
    return text[: space if space > _CLASSIFY_CHARS // 2 else _CLASSIFY_CHARS]


def detect_language(text: str) -> str:
    """Detect the language of one text, without any corpus context.

    Args:
        text: Any text.

    Returns:
        An ISO 639-1 code, or ``"und"`` when the text has no letters.
    """
    return _classify(text)[0]


def detect_languages(texts: Sequence[str]) -> list[str]:
    """Detect the language of every text.

    Identical texts are classified once. Very short texts the classifier is unsure about ("ok",
    "super") are decided again with the languages of the confident texts of the same file as a
    prior, so a one-word English answer in an English survey comes out ``"en"``, not Afrikaans.
    About 100k short texts take a few CPU seconds (spread over all CPUs from 50k distinct texts
    on); scripts used by a single language (Chinese, Japanese, Korean, Thai...) take almost
    nothing.

    Args:
        texts: Texts in any languages (may be empty strings).

    Returns:
        One ISO 639-1 code per text (``"und"`` for empty texts or texts without letters).
    """
    distinct = list(dict.fromkeys(texts))
    decided = decide_with_prior(dict(zip(distinct, _classify_all(distinct), strict=True)))
    logger.debug("detected languages for %d texts (%d distinct)", len(texts), len(decided))
    return [decided[text][0] for text in texts]


def classify_languages(texts: Sequence[str]) -> list[tuple[str, float]]:
    """``(code, confidence)`` per text, without the file's prior (one batch of the Ray engine).

    :func:`decide_with_prior` over all of a file's distinct texts then gives what
    :func:`detect_languages` gives.
    """
    return _classify_chunk(list(texts))


def language_prior(decided: dict[str, tuple[str, float]]) -> dict[str, int]:
    """How many texts of ``{text: (code, confidence)}`` each language has among the confident ones."""
    prior: dict[str, int] = {}
    for code, confidence in decided.values():
        if confidence >= _CONFIDENT and code != UNDETERMINED:
            prior[code] = prior.get(code, 0) + 1
    return prior


def decide_with_prior(
    decided: dict[str, tuple[str, float]], *, prior: dict[str, int] | None = None
) -> dict[str, tuple[str, float]]:
    """Re-decide the unsure short texts of ``{text: (code, confidence)}`` with the file's prior (in place).

    ``prior`` (:func:`language_prior`) defaults to the prior of ``decided`` itself; a streamed Ray
    run passes its fitted sample's, so every block is decided with the same prior.
    """
    if prior is None:
        prior = language_prior(decided)
    unsure = [
        text
        for text, (_, confidence) in decided.items()
        if confidence < _CONFIDENT and len(text) <= _SHORT_CHARS
    ]
    if unsure and prior:
        identifier = _identifier()
        # A small pseudo-count keeps languages absent from the file possible but unlikely.
        weight = {code: prior.get(code, 0) + 0.01 for code in identifier.nb_classes}
        for text in unsure:
            if decided[text][0] in _ARABIC_SCRIPT_LANGUAGES:
                continue  # decided among Arabic-script languages only; keep it
            ranked = identifier.rank(text)
            best = max(ranked, key=lambda item: item[1] * weight.get(item[0], 0.0))
            decided[text] = (str(best[0]), float(best[1]))
    return decided


def _classify_chunk(texts: list[str]) -> list[tuple[str, float]]:
    return [_classify(text or "") for text in texts]


def _classify_all(texts: list[str]) -> list[tuple[str, float]]:
    """Classify distinct texts, over forked worker processes when there are very many."""
    import multiprocessing

    workers = os.cpu_count() or 1
    if (
        len(texts) < _PARALLEL_MIN_TEXTS
        or workers < 2
        or "fork" not in multiprocessing.get_all_start_methods()
        or multiprocessing.current_process().daemon
    ):
        return _classify_chunk(texts)
    _identifier()  # load the model once; the forked workers inherit it
    _arabic_identifier()
    size = max(5_000, len(texts) // (workers * 8))
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    try:
        with multiprocessing.get_context("fork").Pool(processes=workers) as pool:
            parts = pool.map(_classify_chunk, chunks, chunksize=1)
    except OSError:  # cannot fork (memory, process limits): do it here instead
        logger.warning("parallel language detection unavailable; using one process", exc_info=True)
        return _classify_chunk(texts)
    return [result for part in parts for result in part]


def language_counts(codes: Sequence[str]) -> dict[str, int]:
    """Count language codes, most frequent first (ties by code), for per-topic summaries.

    Args:
        codes: Language codes, e.g. the output of :func:`detect_languages`.

    Returns:
        ``{code: count}`` ordered by descending count.
    """
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
