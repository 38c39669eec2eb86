"""Topic keywords by class-based TF-IDF over real words, and default topic names.

The score is BERTopic's c-TF-IDF (all texts of a topic form one "class document"),
``tf(t, c) ** 0.75 * log(1 + A / f(t))`` with ``tf`` normalised per topic, ``A`` the average
topic size in words and ``f`` the word's frequency over all topics, with two changes that suit
short customer feedback:

* a text counts a word once (binary presence), so one long review that repeats a word cannot
  make it a topic's keyword;
* the term frequency is damped by the power 0.75, between BERTopic's plain tf (frequent generic
  words win) and its square root (rare one-off words win); on banking77 this raised the share of
  intents whose label word is among the top three keywords from 0.69 (sqrt) and 0.84 (plain,
  BM25 idf) to 0.87.

Unigrams come from :mod:`pipeline.tokenize` (Chinese/Japanese/Thai segmented, stop words out).
Bigrams are added only for space-delimited languages, only from words that were adjacent in the
text, and only when they are a real collocation (``credit card``), never across punctuation or a
dropped word. Everything is sparse; nothing densifies the document-term matrix.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from scipy import sparse

from pipeline.tokenize import tokenize_many

logger = logging.getLogger(__name__)

# Languages without spaces between words: no bigrams (a pair of segmented words is rarely a phrase).
_NO_BIGRAMS = frozenset({"zh", "yue", "wuu", "ja", "th", "lo", "km", "my"})
# A bigram must occur in this share of the texts that hold its rarer word to count as a phrase.
_BIGRAM_ASSOCIATION = 0.2
_SEPARATOR = " · "
# Damping of the term frequency: 1 is BERTopic's plain c-TF-IDF, 0.5 its reduce_frequent_words.
# 0.75 measured best on banking77 and online_shopping_10_cats (label words among the top three).
_TF_POWER = 0.75


def extract_keywords(
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    languages: Sequence[str],
    top_n: int = 10,
    phrases: Sequence[Sequence[Sequence[str]]] | None = None,
) -> dict[int, list[tuple[str, float]]]:
    """Rank each topic's most distinctive words by class-based TF-IDF.

    Args:
        texts: The texts (one per clustered item).
        labels: Topic id per text (``-1`` = outliers, which get keywords too).
        languages: Language code per text (from :func:`pipeline.languages.detect_languages`).
        top_n: Keywords per topic.
        phrases: ``tokenize_many(texts, languages)`` when the caller already has it; tokenising
            is most of the cost, so a caller ranking several subsets tokenises once.

    Returns:
        ``{topic_id: [(keyword, score), ...]}`` best first, for every label in ``labels``; a topic
        whose texts hold no usable word (emoji only, numbers...) gets an empty list.

    Raises:
        ValueError: When ``texts``, ``labels`` and ``languages`` differ in length.
    """
    labels = np.asarray(labels)
    if not (len(texts) == len(labels) == len(languages)):
        raise ValueError(
            f"texts ({len(texts)}), labels ({len(labels)}) and languages ({len(languages)}) "
            "must have one entry per text"
        )
    if phrases is not None and len(phrases) != len(texts):
        raise ValueError(f"phrases ({len(phrases)}) and texts ({len(texts)}) must have one entry per text")
    start = time.perf_counter()
    if phrases is None:
        phrases = tokenize_many(texts, languages)
    tokenized = time.perf_counter()
    bigrams = bigram_mask(languages)
    result = keywords_from_phrases(phrases, labels, bigrams=bigrams, top_n=top_n)
    logger.info(
        "keywords for %d texts in %d topics: tokenise %.1fs, c-TF-IDF %.1fs",
        len(texts),
        len(result),
        tokenized - start,
        time.perf_counter() - tokenized,
    )
    return result


def bigram_mask(languages: Sequence[str]) -> np.ndarray:
    """Per text, whether adjacent words may form bigrams (not for Chinese, Japanese, Thai...)."""
    return np.array([language not in _NO_BIGRAMS for language in languages], dtype=bool)


def keywords_from_phrases(
    phrases: Sequence[Sequence[Sequence[str]]],
    labels: np.ndarray,
    *,
    bigrams: np.ndarray | None = None,
    top_n: int = 10,
) -> dict[int, list[tuple[str, float]]]:
    """c-TF-IDF keywords from already tokenised texts (re-used after merging or moving topics).

    Args:
        phrases: Per text, its phrases of tokens (:func:`pipeline.tokenize.tokenize_many`).
        labels: Topic id per text.
        bigrams: Per text, whether adjacent words may form bigrams (default: yes for all).
        top_n: Keywords per topic.

    Returns:
        As :func:`extract_keywords`.
    """
    labels = np.asarray(labels).astype(np.int64, copy=False)
    if len(phrases) != len(labels):
        raise ValueError(f"phrases ({len(phrases)}) and labels ({len(labels)}) differ in length")
    topic_ids = np.unique(labels)
    result: dict[int, list[tuple[str, float]]] = {int(t): [] for t in topic_ids}
    if len(labels) == 0 or top_n <= 0:
        return result

    matrix, terms, is_bigram = _document_terms(phrases, bigrams)
    if matrix.shape[1] == 0:
        return result
    matrix, terms, is_bigram = _prune(matrix, terms, is_bigram)
    if matrix.shape[1] == 0:
        return result

    rows = np.searchsorted(topic_ids, labels)
    membership = sparse.csr_matrix(
        (np.ones(len(labels), dtype=np.float64), (rows, np.arange(len(labels)))),
        shape=(len(topic_ids), len(labels)),
    )
    counts = (membership @ matrix).tocsr()  # topics x terms: texts of the topic holding the term
    scores = _ctfidf(counts)
    for row, topic in enumerate(topic_ids):
        result[int(topic)] = _select(scores, row, terms, is_bigram, top_n)
    return result


def topic_name(keywords: Sequence[tuple[str, float]], n: int = 3, *, fallback: str = "") -> str:
    """A default topic name from its top keywords, e.g. ``"delivery · late · courier"``.

    Args:
        keywords: The topic's ``(keyword, score)`` pairs, best first.
        n: How many keywords to join.
        fallback: Returned when there are no keywords (e.g. ``"Topic 3"``).

    Returns:
        The keywords joined by ``" · "``, or ``fallback``.
    """
    words = [word for word, _ in keywords[: max(n, 0)]]
    return _SEPARATOR.join(words) if words else fallback


# ------------------------------------------------------------------------------------ internals
def _document_terms(
    phrases: Sequence[Sequence[Sequence[str]]], bigrams: np.ndarray | None
) -> tuple[sparse.csr_matrix, list[str], np.ndarray]:
    """Binary text x term matrix over unigrams and (where allowed) adjacent-word bigrams."""
    vocabulary: dict[str | tuple[str, str], int] = {}
    indices = array("q")  # compact: 8 bytes per entry instead of a Python int object
    indptr = array("q", [0])
    for i, text in enumerate(phrases):
        present: set[str | tuple[str, str]] = set()
        with_bigrams = bigrams is None or bool(bigrams[i])
        for phrase in text:
            present.update(phrase)
            if with_bigrams and len(phrase) > 1:
                present.update((a, b) for a, b in pairwise(phrase) if a != b)
        for term in present:
            index = vocabulary.get(term)
            if index is None:
                index = vocabulary[term] = len(vocabulary)
            indices.append(index)
        indptr.append(len(indices))
    terms = [""] * len(vocabulary)
    is_bigram = np.zeros(len(vocabulary), dtype=bool)
    for term, index in vocabulary.items():
        if isinstance(term, tuple):
            terms[index] = " ".join(term)
            is_bigram[index] = True
        else:
            terms[index] = term
    matrix = sparse.csr_matrix(
        (
            np.ones(len(indices), dtype=np.float64),
            np.frombuffer(indices, dtype=np.int64),
            np.frombuffer(indptr, dtype=np.int64),
        ),
        shape=(len(phrases), len(vocabulary)),
    )
    return matrix, terms, is_bigram


def _prune(
    matrix: sparse.csr_matrix, terms: list[str], is_bigram: np.ndarray
) -> tuple[sparse.csr_matrix, list[str], np.ndarray]:
    """Drop rare words (min_df) and bigrams that are not collocations."""
    n_docs = matrix.shape[0]
    doc_freq = np.asarray(matrix.getnnz(axis=0)).ravel()
    min_df = 1 if n_docs < 50 else 2 if n_docs < 50_000 else 3
    keep = doc_freq >= min_df
    if not keep[~is_bigram].any():
        keep = np.ones_like(keep)  # tiny or degenerate input: any word beats no word
    bigram_index = np.flatnonzero(is_bigram & keep)
    if len(bigram_index):
        position = {terms[i]: i for i in np.flatnonzero(~is_bigram)}
        bigram_min = max(min_df, 3 if n_docs >= 50 else 2)
        for i in bigram_index:
            first, second = terms[i].split(" ", 1)
            rarer = min(doc_freq[position[first]], doc_freq[position[second]])
            if doc_freq[i] < bigram_min or doc_freq[i] < _BIGRAM_ASSOCIATION * rarer:
                keep[i] = False
    columns = np.flatnonzero(keep)
    return matrix[:, columns].tocsr(), [terms[i] for i in columns], is_bigram[columns]


def _ctfidf(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """(L1-normalised tf) ** 0.75 x log(1 + A / f), per topic row (sparse)."""
    totals = np.asarray(counts.sum(axis=1)).ravel()
    totals[totals == 0] = 1.0
    tf = (sparse.diags(1.0 / totals) @ counts).tocsr()
    tf.data = np.power(tf.data, _TF_POWER)
    frequency = np.asarray(counts.sum(axis=0)).ravel()
    average = counts.sum() / max(counts.shape[0], 1)
    idf = np.log(1.0 + average / np.maximum(frequency, 1.0))
    if counts.shape[0] == 1:
        idf = np.ones_like(idf)  # one topic: nothing to contrast with, rank by frequency
    return (tf @ sparse.diags(idf)).tocsr()


def _select(
    scores: sparse.csr_matrix, row: int, terms: list[str], is_bigram: np.ndarray, top_n: int
) -> list[tuple[str, float]]:
    """The top ``top_n`` terms of one topic, skipping near-duplicates of those already chosen."""
    start, end = scores.indptr[row], scores.indptr[row + 1]
    columns = scores.indices[start:end]
    values = scores.data[start:end]
    if len(values) == 0:
        return []
    pool = min(len(values), top_n * 6)
    best = np.argpartition(-values, pool - 1)[:pool] if pool < len(values) else np.arange(len(values))
    # Highest score first; on a tie a phrase beats its words ("credit card" over "credit"), then
    # the term itself decides, so the order never depends on the input order.
    order = sorted(best, key=lambda k: (-values[k], not is_bigram[columns[k]], terms[columns[k]]))
    chosen: list[tuple[str, float]] = []
    for k in order:
        if values[k] <= 0:
            break
        term = terms[columns[k]]
        if _redundant(term, bool(is_bigram[columns[k]]), chosen):
            continue
        chosen.append((term, float(values[k])))
        if len(chosen) == top_n:
            break
    return chosen


def _redundant(term: str, bigram: bool, chosen: list[tuple[str, float]]) -> bool:
    """Whether ``term`` repeats what ``chosen`` already says."""
    picked = {word for word, _ in chosen}
    if bigram:
        first, second = term.split(" ", 1)
        if first in picked and second in picked:
            return True
    else:
        for word in picked:
            if " " in word:
                first, second = word.split(" ", 1)
                if term in (first, second) and (second if term == first else first) in picked:
                    return True
    return any(_variant(term, word) for word in picked)


def _variant(a: str, b: str) -> bool:
    """Inflected or contained forms of one word: card/cards, отель/отеля, 平板/平板电脑."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if _is_cjk(short):
        return len(short) >= 2 and short in long
    common = next((i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return common >= 4 and common >= len(short) - 1 and len(long) - common <= 2


def _is_cjk(word: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" for ch in word)


class TermMatrix:
    """The pruned text x term matrix of a corpus, built once, for ranking keywords of many labellings.

    :func:`keywords_from_phrases` rebuilds the matrix on every call; code that re-ranks keywords
    after each of many small label changes (merging duplicate topics) builds it once here.
    """

    def __init__(self, phrases: Sequence[Sequence[Sequence[str]]], *, bigrams: np.ndarray | None = None):
        matrix, terms, is_bigram = _document_terms(phrases, bigrams)
        if matrix.shape[1]:
            matrix, terms, is_bigram = _prune(matrix, terms, is_bigram)
        self.matrix = matrix
        self.terms = terms
        self.is_bigram = is_bigram

    def keywords(self, labels: np.ndarray, *, top_n: int = 10) -> dict[int, list[tuple[str, float]]]:
        """As :func:`keywords_from_phrases` for ``labels`` over the same texts."""
        labels = np.asarray(labels).astype(np.int64, copy=False)
        topic_ids = np.unique(labels)
        result: dict[int, list[tuple[str, float]]] = {int(t): [] for t in topic_ids}
        if self.matrix.shape[1] == 0 or len(labels) == 0:
            return result
        rows = np.searchsorted(topic_ids, labels)
        membership = sparse.csr_matrix(
            (np.ones(len(labels), dtype=np.float64), (rows, np.arange(len(labels)))),
            shape=(len(topic_ids), len(labels)),
        )
        scores = _ctfidf((membership @ self.matrix).tocsr())
        for row, topic in enumerate(topic_ids):
            result[int(topic)] = _select(scores, row, self.terms, self.is_bigram, top_n)
        return result
