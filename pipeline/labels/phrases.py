"""Offline labels in any label language: real phrases of the topic, checked in embedding space.

For a label language ``L`` and each group (topic or theme) of a partition:

1. **Candidates in L.** Words, collocations and 2-4 word phrases (runs of adjacent kept words from
   :func:`pipeline.tokenize.tokenize_many`; in Chinese, Japanese and Thai adjacent segmented words
   joined without a space) from every text in ``L``, the group's own and the rest of the file's;
   plus, when the ``wordfreq`` package is installed, the ``L`` language's most frequent words
   filtered by the product's stop words, so a group with no text in ``L`` still gets ``L`` words.
2. **Embedding check.** Candidates are embedded with the run's own multilingual model (through
   the embedding cache, so each is embedded once per model) and scored by how much closer they
   are to this group's centre than to the average group's centre. Where the group has texts in
   ``L``, a candidate's c-TF-IDF weight among those texts is added, so words the group actually
   uses come first.
3. **Keywords** are the ten best single words and collocations; the **name** is the best phrase
   (2-6 words, or 2-8 CJK characters) used by at least two of the group's texts in ``L``; when the
   group has no such phrase, the ``L`` phrase from the rest of the file that is nearest this
   group's centre and nearest no other group's; failing that, its two best keywords.

Without an embedder only step 1's in-group evidence is used and groups with no text in ``L`` keep
their keywords in their own languages (method ``keywords``).
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.labels.base import Keywords, LabelRequest, LabelSet

logger = logging.getLogger(__name__)

N_KEYWORDS = 10
MAX_TEXTS = 40_000
"""Texts in the label language used for phrase statistics (a seeded sample beyond this)."""
MAX_CORPUS_CANDIDATES = 4_000
WORDLIST_SIZE = 20_000
"""Most frequent words of the label language taken from ``wordfreq``. 5,000 missed domain words
(banking77 in Chinese: 转账 is the 15,098th word, 手续费 16,253rd); 20,000 are embedded once per
model and language (about 15 s cold with use-multilingual on two cores, then read from the cache)."""
WORDLIST_ENV = "FEEDBACK_TOPICS_LABEL_WORDS"
WORDLIST_MIN_TEXTS = 5
"""The word list is used only when some group has fewer than this many texts in the label
language, or less than half of its texts (a one-language file named in its own language skips it)."""
RARITY_PENALTY = 0.05
"""Word-list entries lose up to this much score by frequency rank, so a rare word (卡卡) needs to
be clearly nearer the group than a common one (卡) to beat it."""
EVIDENCE_WEIGHT = 0.15
"""Weight of in-group c-TF-IDF (0..1) against embedding distinctiveness (cosine units)."""
CONTRAST = 0.5
"""A candidate's score is its cosine to the group's centre minus this times its mean cosine to all
centres: 1 favours words only this group is near, 0 words near it whatever else they are near."""
CENTRE_LANGUAGES = True
"""In files with two or more languages, compare subjects, not languages: remove each language's
mean vector before scoring (``bench/label_quality.py``: on m_absa it turned names such as
"Swedish · sweden" for a Swedish-only topic into subject words; single-language files are not
changed)."""
MIN_LANGUAGE_TEXTS = 20
MIN_PHRASE_TEXTS = 2
"""A phrase names a group only when at least this many of its texts use it."""

CONJUNCTIONS: dict[str, str] = {
    "en": "and", "de": "und", "fr": "et", "es": "y", "pt": "e", "it": "e", "nl": "en", "sv": "och",
    "da": "og", "no": "og", "pl": "i", "ru": "и", "uk": "і", "tr": "ve", "id": "dan", "ms": "dan",
    "vi": "và", "cs": "a", "sk": "a", "fi": "ja", "ro": "și", "hu": "és", "el": "και",
}  # fmt: skip
"""A group with no phrase of its own is named by its two best words joined by "and" where known
("Hotel and restaurant"), else by " · "."""

_SPACELESS_SCRIPT = re.compile("[\u3040-\u30ff\u3400-\u9fff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
_KANA = re.compile("[\u3040-\u30ff]")
_NO_SPACE = frozenset({"zh", "yue", "wuu", "ja", "th", "lo", "km", "my"})
_CJK_MIN, _CJK_MAX = 2, 8
_WORDS_MIN, _WORDS_MAX = 2, 6
_MAX_NGRAM = 4


OWN_WORDS_SHARE = 0.5
"""A group with at least this share of its texts in the label language keeps its own keywords."""


def default_wordlist_size() -> int:
    """``$FEEDBACK_TOPICS_LABEL_WORDS`` when set (tests, small machines), else :data:`WORDLIST_SIZE`."""
    value = os.environ.get(WORDLIST_ENV, "").strip()
    return int(value) if value.isdigit() else WORDLIST_SIZE


def joiner(language: str) -> str:
    """How adjacent tokens of ``language`` form a phrase: ``""`` for scripts without spaces."""
    return "" if language in _NO_SPACE else " "


def offline_labels(
    request: LabelRequest,
    *,
    embedder: Any | None,
    cache: Any | None = None,
    wordlist_size: int | None = None,
    outlier_name: str,
    fallback_name: str = "Topic {id}",
    seed: int = 0,
) -> LabelSet:
    """Name every group of ``request`` in ``request.language`` (see the module docstring).

    Args:
        request: The partition and what is known about it.
        embedder: The run's embedder (``None``: in-language evidence only, method ``keywords``).
        cache: An :class:`~pipeline.embedders.cache.EmbeddingCache` for the candidates.
        wordlist_size: Words taken from ``wordfreq`` (0 = none; default :func:`default_wordlist_size`).
        outlier_name: The name of group ``-1``.
        fallback_name: Name of a group with no usable word (``{id}`` is replaced).
        seed: Seeds the sample when the label language has more than ``MAX_TEXTS`` texts.

    Returns:
        The :class:`LabelSet`.
    """
    from pipeline.keywords import keywords_from_phrases

    lang = request.language
    labels = np.asarray(request.labels).astype(np.int64, copy=False)
    group_ids = [int(g) for g in np.unique(labels)]
    real_ids = [g for g in group_ids if g >= 0]
    in_lang = np.flatnonzero(np.array([code == lang for code in request.languages], dtype=bool))
    if len(in_lang) > MAX_TEXTS:
        in_lang = np.sort(np.random.default_rng(seed).choice(in_lang, MAX_TEXTS, replace=False))
    glue = joiner(lang)
    sub_labels = labels[in_lang]
    sub_phrases = [request.phrases[int(i)] for i in in_lang]
    n_in = Counter(int(g) for g in sub_labels)

    # In-language evidence: c-TF-IDF among the group's own texts in L (0..1 per group).
    evidence: dict[int, dict[str, float]] = {}
    if len(in_lang):
        bigrams = np.full(len(in_lang), lang not in _NO_SPACE, dtype=bool)
        pooled = keywords_from_phrases(sub_phrases, sub_labels, bigrams=bigrams, top_n=N_KEYWORDS * 4)
        for g, pool in pooled.items():
            top = max((s for _, s in pool), default=0.0) or 1.0
            evidence[int(g)] = {w: s / top for w, s in pool}
    phrase_stats = _phrase_counts(sub_phrases, sub_labels, glue=glue, language=lang)

    details: dict[str, Any] = {
        "texts_in_language": len(in_lang),
        "groups_without_texts_in_language": sum(1 for g in real_ids if n_in.get(g, 0) == 0),
    }
    vectors = np.asarray(request.vectors, dtype=np.float32)
    scores: dict[int, dict[str, float]] = {}
    phrase_scores: dict[int, list[tuple[str, float]]] = {}
    method = "keywords"
    if embedder is not None and real_ids and len(vectors):
        method = "phrases+embedding"
        size = default_wordlist_size() if wordlist_size is None else wordlist_size
        sizes = Counter(int(g) for g in labels)
        if all(n_in.get(g, 0) >= max(WORDLIST_MIN_TEXTS, 0.5 * sizes[g]) for g in real_ids):
            size = 0  # every group is mostly in the label language: its own words name it
        candidates, keyword_terms, prior, sources = _candidates(
            evidence, phrase_stats, lang, wordlist_size=size
        )
        details.update(sources)
        if candidates:
            cand_vectors = _embed(candidates, embedder=embedder, cache=cache)
            if CENTRE_LANGUAGES and _n_large_languages(request.languages) >= 2:
                vectors = _without_language_offsets(vectors, request.languages)
                cand_vectors = _normalise(cand_vectors - cand_vectors.mean(axis=0, keepdims=True))
            centres = _centres(vectors, labels, real_ids)
            sims = cand_vectors @ centres.T  # candidates x groups
            distinct = sims - CONTRAST * sims.mean(axis=1, keepdims=True)
            nearest = sims.argmax(axis=1)
            for col, g in enumerate(real_ids):
                own = evidence.get(g, {})
                share = min(1.0, n_in.get(g, 0) / 5.0)
                used_here: Counter[str] = phrase_stats.group.get(g, Counter())
                column: dict[str, float] = {}
                mine: list[tuple[str, float]] = []
                near: list[tuple[str, float]] = []
                for row, term in enumerate(candidates):
                    value = (
                        float(distinct[row, col])
                        + EVIDENCE_WEIGHT * share * own.get(term, 0.0)
                        + prior.get(term, 0.0)
                    )
                    if term in keyword_terms:
                        column[term] = value
                    if not _is_phrase(term, lang):
                        continue
                    used = used_here.get(term, 0)
                    if used >= MIN_PHRASE_TEXTS:
                        mine.append((term, value + 0.05 * min(used, 10) / 10))
                    elif nearest[row] == col and phrase_stats.total.get(term, 0) >= MIN_PHRASE_TEXTS:
                        near.append((term, value))
                scores[g] = column
                phrase_scores[g] = sorted(mine, key=lambda kv: (-kv[1], kv[0])) + sorted(
                    near, key=lambda kv: (-kv[1], kv[0])
                )
    else:
        for g in real_ids:
            scores[g] = dict(evidence.get(g, {}))
            ranked = [
                (p, c / math.sqrt(phrase_stats.total[p]))
                for p, c in phrase_stats.group.get(g, {}).items()
                if c >= MIN_PHRASE_TEXTS
            ]
            phrase_scores[g] = sorted(ranked, key=lambda kv: (-kv[1], kv[0]))

    names: dict[int, str] = {}
    keywords: dict[int, Keywords] = {}
    taken: set[str] = set()
    order = sorted(real_ids, key=lambda g: (-int((labels == g).sum()), g))
    group_sizes = Counter(int(g) for g in labels)
    for g in order:
        original = tuple(request.keywords_original.get(g, ()))[:N_KEYWORDS]
        if original and n_in.get(g, 0) >= OWN_WORDS_SHARE * group_sizes[g]:
            # Mostly in the label language: its own distinctive words (c-TF-IDF over its texts)
            # are the keywords; words near its centre would repeat across topics (waimai_10k:
            # diversity 0.42 with them). Names still come from the ranked phrases.
            words = original
        else:
            words = _top_keywords(scores.get(g, {}), lang)
        if not words and method == "keywords":
            words = original
        keywords[g] = words
        own_words = bool(scores.get(g))  # False: ``words`` are the texts' own, not the label language's
        names[g] = _name(
            phrase_scores.get(g, []), words, lang if own_words else "", taken
        ) or fallback_name.format(id=g)
        taken.add(names[g].casefold())
    if -1 in group_ids:
        names[-1] = outlier_name
        keywords[-1] = tuple(request.keywords_original.get(-1, ()))[:N_KEYWORDS]
    reason = (
        f"candidates in {lang} ranked by distance to each group's centre in the run's embedding space"
        if method != "keywords"
        else f"c-TF-IDF over the texts in {lang} (no embedder given)"
    )
    return LabelSet(
        language=lang,
        names=dict(sorted(names.items())),
        keywords=dict(sorted(keywords.items())),
        method=method,
        reason=reason,
        details=details,
    )


# ---------------------------------------------------------------------------------- internals
class _PhraseStats:
    def __init__(self) -> None:
        self.total: Counter[str] = Counter()
        self.group: dict[int, Counter[str]] = {}


def _phrase_counts(
    phrases: Sequence[Sequence[Sequence[str]]], labels: np.ndarray, *, glue: str, language: str
) -> _PhraseStats:
    """Texts using each 2..4-token phrase, in the file and per group."""
    stats = _PhraseStats()
    for text, g in zip(phrases, labels, strict=True):
        present: set[str] = set()
        for run in text:
            for n in range(2, _MAX_NGRAM + 1):
                for start in range(len(run) - n + 1):
                    gram = run[start : start + n]
                    if len(set(gram)) < n or (not glue and any(len(token) < 2 for token in gram)):
                        continue  # in CJK a one-character token is often a fragment (间房间)
                    term = glue.join(gram)
                    if _is_phrase(term, language):
                        present.add(term)
        stats.total.update(present)
        stats.group.setdefault(int(g), Counter()).update(present)
    return stats


def _is_phrase(term: str, language: str) -> bool:
    """A label-shaped phrase: 2-6 words, or 2-8 characters of a script without spaces."""
    if language in _NO_SPACE:
        return _CJK_MIN <= len(term) <= _CJK_MAX and not term.isascii()
    return _WORDS_MIN <= len(term.split(" ")) <= _WORDS_MAX


def _candidates(
    evidence: dict[int, dict[str, float]],
    stats: _PhraseStats,
    language: str,
    *,
    wordlist_size: int,
) -> tuple[list[str], set[str], dict[str, float], dict[str, int]]:
    """The label-language terms to embed, and which of them may be keywords.

    In-group words (c-TF-IDF), the file's phrases and a word list; keywords are the words, the
    word-list entries and two-word collocations, names any label-shaped phrase.
    """
    words: dict[str, None] = {}
    for g in sorted(evidence):
        words.update(dict.fromkeys(evidence[g]))
    n_own = len(words)
    frequent = [p for p, c in stats.total.most_common() if c >= MIN_PHRASE_TEXTS]
    per_group: dict[str, None] = {}
    for g in sorted(stats.group):
        ranked = sorted(
            ((p, c) for p, c in stats.group[g].items() if c >= MIN_PHRASE_TEXTS),
            key=lambda kv: (-kv[1] / math.sqrt(stats.total[kv[0]]), kv[0]),
        )
        per_group.update(dict.fromkeys(p for p, _ in ranked[:40]))
    phrases = dict.fromkeys([*per_group, *frequent])
    phrases = dict.fromkeys(list(phrases)[:MAX_CORPUS_CANDIDATES])
    listed = _wordlist(language, wordlist_size)
    out = dict.fromkeys([*words, *phrases, *listed])
    prior = {w: -RARITY_PENALTY * rank / len(listed) for rank, w in enumerate(listed) if w not in words}
    keyword_terms = set(words) | set(listed)
    if language not in _NO_SPACE:
        keyword_terms |= {p for p in phrases if p.count(" ") == 1}
    return (
        list(out),
        keyword_terms,
        prior,
        {
            "candidates_own_words": n_own,
            "candidates_phrases": len(phrases),
            "candidates_wordlist": len(listed),
        },
    )


def _wordlist(language: str, size: int) -> list[str]:
    """The language's most frequent real words from ``wordfreq`` (empty when not installed)."""
    if size <= 0:
        return []
    try:
        import wordfreq
    except ImportError:
        return []
    from pipeline.tokenize import tokenize

    code = {"no": "nb"}.get(language, language)
    if code not in wordfreq.available_languages():
        return []
    try:
        listed = wordfreq.top_n_list(code, size * 2)
    except Exception:  # a damaged data file must not stop naming
        logger.warning("wordfreq list for %s unavailable", language, exc_info=True)
        return []
    out: list[str] = []
    for word in listed:
        if bool(_SPACELESS_SCRIPT.search(word)) != (language in _NO_SPACE) or (
            language in ("zh", "yue", "wuu") and _KANA.search(word)
        ):
            continue  # another script: English words in the Chinese list, or the reverse
        tokens = tokenize(word, language=language)
        if len(tokens) == 1 and tokens[0] == word.casefold():
            out.append(tokens[0])
        if len(out) == size:
            break
    return out


def _embed(candidates: list[str], *, embedder: Any, cache: Any | None) -> np.ndarray:
    from pipeline.embed import embed_texts

    return embed_texts(candidates, embedder=embedder, cache=cache).vectors


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


def _n_large_languages(languages: Sequence[str]) -> int:
    return sum(1 for n in Counter(languages).values() if n >= MIN_LANGUAGE_TEXTS)


def _without_language_offsets(vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
    """Each text minus the mean of its language's texts (the file's mean for rare languages).

    Multilingual models place each language in its own offset region; a group made mostly of one
    language then sits nearest words *about* that language ("swedish", "sweden"). Removing each
    language's mean, and the candidates' own mean, compares subjects instead.
    """
    from scipy import sparse

    codes = np.asarray([str(code) for code in languages])
    values, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    onehot = sparse.csr_matrix(
        (np.ones(len(codes), dtype=np.float32), (inverse, np.arange(len(codes)))),
        shape=(len(values), len(codes)),
    )
    means = np.asarray(onehot @ vectors, dtype=np.float32) / counts[:, None].astype(np.float32)
    overall = vectors.mean(axis=0, keepdims=True)
    # One group-mean matrix instead of a mask per language (100k texts: 2.5 s -> a fraction).
    offsets = np.where((counts >= MIN_LANGUAGE_TEXTS)[:, None], means, overall)
    return _normalise(vectors - offsets[inverse])


def _centres(vectors: np.ndarray, labels: np.ndarray, ids: list[int]) -> np.ndarray:
    centres = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
    for col, g in enumerate(ids):
        centre = vectors[labels == g].mean(axis=0)
        centres[col] = centre / (np.linalg.norm(centre) or 1.0)
    return centres


def _top_keywords(scores: dict[str, float], language: str, n: int = N_KEYWORDS) -> Keywords:
    from pipeline.keywords import _redundant

    chosen: list[tuple[str, float]] = []
    for term, value in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])):
        if value <= 0 and chosen:
            break
        if _redundant(term, " " in term, chosen):
            continue
        chosen.append((term, round(float(value), 5)))
        if len(chosen) == n:
            break
    return tuple(chosen)


def _name(phrases: list[tuple[str, float]], words: Keywords, language: str, taken: set[str]) -> str:
    for phrase, _ in phrases:
        if phrase.casefold() not in taken:
            return _display(phrase, language)
    top = [w for w, _ in words[:3]]
    if language in _NO_SPACE:
        for w in top:
            if _is_phrase(w, language) and w.casefold() not in taken:
                return w
    elif top and " " in top[0] and top[0].casefold() not in taken:
        return _display(top[0], language)
    second = next((w for w in top[1:] if not _same_word(top[0], w)), None) if top else None
    if second is not None:
        conjunction = CONJUNCTIONS.get(language)
        joined = f"{top[0]} {conjunction} {second}" if conjunction else f"{top[0]} · {second}"
        return _display(joined, language)
    return _display(top[0], language) if top else ""


def _same_word(a: str, b: str) -> bool:
    """Inflections of one word ("fit"/"fits", "shipping"/"shipped")."""
    short, long = sorted((a.casefold(), b.casefold()), key=len)
    common = next((i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return (common == len(short) and len(long) - common <= 2) or (common >= 4 and len(short) - common <= 3)


def _display(label: str, language: str) -> str:
    """Sentence case for cased scripts ("late delivery" -> "Late delivery")."""
    if language in _NO_SPACE or not label:
        return label
    return label[0].upper() + label[1:]
