"""The labellers, the label-language choice, and :func:`label_topics`, the one entry point.

``label_topics`` names any partition given as per-text labels: the run's topics, or themes over
them (call it again with theme labels). It always computes the offline label set first; an LLM
labeller, when chosen, starts from it and falls back to it for every group it cannot label.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pipeline.labels.base import Keywords, Labeler, LabelRequest, LabelSet

logger = logging.getLogger(__name__)

AUTO = "auto"
LABELLERS: dict[str, str] = {
    "offline": "phrases and keywords of the label language, checked with the run's embedding model",
    "openai": "an OpenAI-compatible /v1/chat/completions server (optional; offline labels as fallback)",
}
"""Labeller name -> one line for the CLI help and the dashboard (``auto``: openai when a URL is given)."""

_IGNORED = frozenset({"", "und"})


@dataclass(frozen=True)
class LabellerSettings:
    """Which labeller to use, and where the LLM server is."""

    name: str = AUTO
    url: str | None = None
    model: str | None = None
    timeout_s: float = 20.0
    retries: int = 2


def resolve_label_language(
    requested: str | None, languages: Sequence[str] | Mapping[str, int]
) -> tuple[str, str]:
    """The label language ``requested`` means for a file, and why.

    ``auto`` (or empty) is the file's majority language by row count among the detected languages
    (``und`` ignored). The detector answers with ISO 639-1 codes of major languages only, so a
    dialect never becomes the naming language; ties go to the alphabetically first code.

    Returns:
        ``(code, reason)``; ``("en", ...)`` for a file with no detected language.
    """
    code = (requested or AUTO).strip().lower()
    if code != AUTO:
        return code, "chosen by the user"
    counts = Counter(dict(languages)) if isinstance(languages, Mapping) else Counter(languages)
    counts = Counter({k: v for k, v in counts.items() if k not in _IGNORED and v > 0})
    if not counts:
        return "en", "auto: no language detected, so English"
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    total = sum(counts.values())
    return best[0], f"auto: the file's majority language ({best[1]:,} of {total:,} rows)"


def label_topics(
    *,
    texts: Sequence[str],
    labels: np.ndarray,
    vectors: np.ndarray,
    languages: Sequence[str],
    phrases: Sequence[Sequence[Sequence[str]]] | None = None,
    label_language: str = AUTO,
    embedder: Any | None = None,
    cache: Any | None = None,
    labeller: str | LabellerSettings = AUTO,
    examples: Mapping[int, Sequence[int]] | None = None,
    keywords_original: Mapping[int, Keywords] | None = None,
    outlier_name: str = "Outliers (no clear topic)",
    row_languages: Sequence[str] | None = None,
    wordlist_size: int | None = None,
    seed: int = 0,
) -> LabelSet:
    """Name every group of a partition in one label language.

    Args:
        texts: One entry per clustered text.
        labels: Group id per text (``-1`` = outliers, named ``outlier_name``).
        vectors: L2-normalised embeddings per text (the run's).
        languages: Language code per text.
        phrases: ``tokenize_many(texts, languages)`` when the caller has it.
        label_language: ISO 639-1 code, or ``auto`` (the majority language, see
            :func:`resolve_label_language`).
        embedder: The run's embedder; without it, names use in-language words only.
        cache: Embedding cache for the candidate words.
        labeller: ``auto``/``offline``/``openai`` or full :class:`LabellerSettings`.
        examples: Group id -> representative text indices (for the LLM labeller).
        keywords_original: Group id -> keywords in the texts' own languages.
        outlier_name: Name of group ``-1``.
        row_languages: Language per *row* (duplicates included) to resolve ``auto`` by row count;
            defaults to ``languages``.
        wordlist_size: Label-language words taken from ``wordfreq`` (default 20,000).
        seed: Seeds any sampling.

    Returns:
        The :class:`LabelSet`; its ``reason`` says why this language and method.
    """
    from pipeline.labels.phrases import offline_labels

    labels = np.asarray(labels).astype(np.int64, copy=False)
    if not (len(texts) == len(labels) == len(languages)):
        raise ValueError("texts, labels and languages must have one entry per text")
    language, language_reason = resolve_label_language(label_language, list(row_languages or languages))
    if phrases is None:
        from pipeline.tokenize import tokenize_many

        phrases = tokenize_many(texts, languages)
    if keywords_original is None:
        from pipeline.keywords import extract_keywords

        keywords_original = {
            k: tuple(v)
            for k, v in extract_keywords(texts, labels, languages=languages, phrases=phrases).items()
        }
    request = LabelRequest(
        texts=texts,
        labels=labels,
        vectors=vectors,
        languages=languages,
        phrases=phrases,
        language=language,
        examples=examples or {},
        keywords_original=keywords_original,
    )
    offline = offline_labels(
        request,
        embedder=embedder,
        cache=cache,
        outlier_name=outlier_name,
        wordlist_size=wordlist_size,
        seed=seed,
    )
    settings = labeller if isinstance(labeller, LabellerSettings) else LabellerSettings(name=labeller)
    chosen = create_labeler(settings)
    result = offline if chosen is None else chosen.label(request, fallback=offline)
    return replace(result, reason=f"{language_reason}; {result.reason}")


def create_labeler(settings: LabellerSettings) -> Labeler | None:
    """The LLM labeller for ``settings``, or ``None`` for the offline one."""
    name = settings.name
    if name == AUTO:
        name = "openai" if settings.url else "offline"
    if name == "offline":
        return None
    if name == "openai":
        from pipeline.errors import ConfigError
        from pipeline.labels.llm import ChatLabeler

        if not settings.url or not settings.model:
            raise ConfigError(
                "The openai labeller needs --labeller-url and --labeller-model.", code="labeller"
            )
        return ChatLabeler(
            url=settings.url, model=settings.model, timeout_s=settings.timeout_s, retries=settings.retries
        )
    from pipeline.errors import ConfigError

    raise ConfigError(
        f"Unknown labeller {settings.name!r}. Choose one of: auto, {', '.join(LABELLERS)}.", code="labeller"
    )
