"""Lexical retrieval: BM25 over the words of each text (``bm25s``).

Texts are tokenised with :func:`pipeline.tokenize.tokenize_many`, the tokeniser the topic keywords
use, so Chinese, Japanese and Thai are segmented into words rather than split on spaces.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def tokens(texts: Sequence[str], languages: Sequence[str]) -> list[list[str]]:
    """The words of each text, flattened over its phrases (stop words dropped)."""
    from pipeline.tokenize import tokenize_many

    return [[word for phrase in phrases for word in phrase] for phrases in tokenize_many(texts, languages)]


@dataclass(frozen=True)
class Bm25Index:
    """A BM25 index over a fixed list of texts (positions as in the list)."""

    retriever: Any
    n: int

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every text for the query's words (0 where none matches)."""
        vocab = getattr(self.retriever, "vocab_dict", None) or {}  # none when no text had a word
        known = [t for t in query_tokens if t in vocab]
        if not known or self.n == 0:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)


def build_bm25(
    texts: Sequence[str], languages: Sequence[str], *, k1: float = 1.2, b: float = 0.75
) -> Bm25Index:
    """Index ``texts`` (one language code per text) for :meth:`Bm25Index.scores`."""
    import bm25s

    # bm25s sets its own logger to DEBUG, which would print past the CLI's WARNING level
    logging.getLogger("bm25s").setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    corpus = tokens(texts, languages)
    retriever = bm25s.BM25(k1=k1, b=b)
    if any(corpus):  # bm25s fails on a corpus without a single word (e.g. only emoji or digits)
        retriever.index(corpus, show_progress=False)
    logger.debug("bm25: %d texts, %d words", len(corpus), len(getattr(retriever, "vocab_dict", {}) or {}))
    return Bm25Index(retriever=retriever, n=len(corpus))


BM25_DIR = "search_bm25"
SAVE_MIN = 20_000
"""Corpora of at least this many texts keep their BM25 index in the run folder (tokenising a
large run takes a while; a small one is re-indexed in well under a second)."""


def texts_fingerprint(texts: Sequence[str], languages: Sequence[str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for text, language in zip(texts, languages, strict=True):
        digest.update(f"{language}\0{text}\1".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:24]


def load_or_build_bm25(
    texts: Sequence[str], languages: Sequence[str], *, folder: Path | None, save_min: int = SAVE_MIN
) -> Bm25Index:
    """:func:`build_bm25`, read from / saved to ``folder/search_bm25`` for large corpora."""
    if folder is None or len(texts) < save_min:
        return build_bm25(texts, languages)
    import bm25s

    target = folder / BM25_DIR
    stamp = {"fingerprint": texts_fingerprint(texts, languages), "n": len(texts)}
    stamp_file = target / "stamp.json"
    if stamp_file.is_file():
        try:
            if json.loads(stamp_file.read_text(encoding="utf-8")) == stamp:
                logging.getLogger("bm25s").setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
                retriever = bm25s.BM25.load(str(target), show_progress=False)
                logger.info("bm25 index reused from %s", target)
                return Bm25Index(retriever=retriever, n=len(texts))
        except (OSError, ValueError, KeyError):
            logger.warning("bm25 index in %s unreadable; rebuilding it", target, exc_info=True)
    index = build_bm25(texts, languages)
    try:
        target.mkdir(parents=True, exist_ok=True)
        index.retriever.save(str(target), show_progress=False)
        stamp_file.write_text(json.dumps(stamp), encoding="utf-8")
    except OSError:
        logger.warning("could not save the bm25 index in %s", target, exc_info=True)
    return index
