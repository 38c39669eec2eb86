"""The explicit registry of sentiment scorers, and :func:`score_sentiment`, the stage's one function.

Measured with ``bench/sentiment.py`` (accuracy on texts called positive or negative / share called
neutral; the evaluation sets were never used to train or tune anything):

* ``lexicon+head`` (the default, ``auto``): the lexicon labels the texts it is sure of, a logistic
  regression over the run's own embeddings is fitted on them and scores every text, and the final
  score is the mean of the lexicon's and the head's. It adapts to the run's domain and reaches the
  texts and languages the lexicon has no words for; it costs a fraction of a second per thousand
  texts, a few per cent of the embedding time.
* ``lexicon``: word lists only (very precise where it finds words, silent on most texts in
  languages without a list).
* ``head``: the head shipped for the run's embedder, trained on sentences we wrote
  (:mod:`pipeline.sentiment.corpus`): the fallback when a run has too few clear texts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.errors import ConfigError
from pipeline.sentiment.base import NEUTRAL_BAND, RowSentiment, Scorer, codes_from_scores

logger = logging.getLogger(__name__)

DEFAULT = "lexicon+head"


@dataclass(frozen=True)
class ScorerSpec:
    """One registry entry: ``name`` (``--sentiment NAME``), the scorer, a line for help texts."""

    name: str
    scorer: Scorer
    description: str


def _lexicon_and_head(
    *, texts: Sequence[str], languages: Sequence[str], vectors: np.ndarray, model_name: str, seed: int
) -> RowSentiment:
    from pipeline.sentiment.head import bundled_scores, self_trained_scores
    from pipeline.sentiment.lexicon import lexicon_scores

    lexicon, hits = lexicon_scores(texts, languages)
    head, details = self_trained_scores(vectors, lexicon, seed=seed)
    details["lexicon_coverage"] = round(float((hits > 0).mean()), 4) if len(hits) else 0.0
    if head is not None:
        method = "lexicon+head"
        reason = (
            f"a head over the run's embeddings was fitted on the {details['train_positive']} positive "
            f"and {details['train_negative']} negative texts the lexicon is sure of"
        )
    else:
        head = bundled_scores(vectors, model_name=model_name)
        if head is not None:
            method = "lexicon+bundled-head"
            reason = (
                f"too few texts the lexicon is sure of to fit a head on this run, so the head shipped "
                f"for {model_name} (trained on the product's own sentences) scores with the lexicon"
            )
        else:
            method = "lexicon"
            reason = (
                f"too few texts the lexicon is sure of to fit a head, and no head is shipped for "
                f"{model_name}: the lexicon alone scores (texts without its words are neutral)"
            )
    scores = lexicon if head is None else 0.5 * lexicon + 0.5 * head
    return _result(scores, method=method, reason=reason, details=details)


def _lexicon(
    *, texts: Sequence[str], languages: Sequence[str], vectors: np.ndarray, model_name: str, seed: int
) -> RowSentiment:
    from pipeline.sentiment.lexicon import lexicon_scores

    del vectors, model_name, seed
    scores, hits = lexicon_scores(texts, languages)
    coverage = round(float((hits > 0).mean()), 4) if len(hits) else 0.0
    return _result(
        scores, method="lexicon", reason="chosen by the user", details={"lexicon_coverage": coverage}
    )


def _head(
    *, texts: Sequence[str], languages: Sequence[str], vectors: np.ndarray, model_name: str, seed: int
) -> RowSentiment:
    from pipeline.sentiment.head import bundled_scores

    del texts, languages, seed
    scores = bundled_scores(vectors, model_name=model_name)
    if scores is None:
        raise ConfigError(
            f"No sentiment head is shipped for the {model_name} embedder. Choose the sentiment method "
            f"{DEFAULT} or lexicon.",
            code="sentiment",
        )
    return _result(scores, method="bundled-head", reason="chosen by the user", details={})


def _result(scores: np.ndarray, *, method: str, reason: str, details: dict) -> RowSentiment:
    scores = np.clip(np.asarray(scores, dtype=np.float64), -1.0, 1.0).round(4).astype(np.float32)
    return RowSentiment(
        scores=scores,
        codes=codes_from_scores(scores),
        method=method,
        reason=reason,
        details={**details, "neutral_band": NEUTRAL_BAND},
    )


SCORERS: dict[str, ScorerSpec] = {
    spec.name: spec
    for spec in (
        ScorerSpec(DEFAULT, _lexicon_and_head, "lexicon + a head fitted on the run's embeddings (default)"),
        ScorerSpec("lexicon", _lexicon, "word lists only"),
        ScorerSpec("head", _head, "the head shipped for the embedder, trained on the product's sentences"),
    )
}


def score_sentiment(
    *,
    texts: Sequence[str],
    languages: Sequence[str],
    vectors: np.ndarray,
    model_name: str,
    method: str = "auto",
    seed: int = 0,
) -> RowSentiment:
    """Stage ``sentiment``: a label and a score for every unique text, from its embedding and words.

    Args:
        texts: The unique texts (aligned with ``vectors``).
        languages: Their language codes.
        vectors: The run's embeddings of ``texts`` (reused, never recomputed).
        model_name: The embedder's registry name (which shipped head fits these vectors).
        method: ``auto`` (= ``lexicon+head``) or a :data:`SCORERS` name.
        seed: Seeds the head's training sample.

    Returns:
        The :class:`RowSentiment`; ``details["seconds"]`` is what it cost.

    Raises:
        ConfigError: Unknown method, or ``head`` for an embedder without a shipped head.
    """
    name = DEFAULT if method == "auto" else method
    spec = SCORERS.get(name)
    if spec is None:
        raise ConfigError(
            f"Unknown sentiment method {method!r}. Choose one of: auto, {', '.join(SCORERS)}.",
            code="sentiment",
        )
    if len(texts) != len(vectors) or len(texts) != len(languages):
        raise ValueError("texts, languages and vectors must have the same length")
    start = time.perf_counter()
    if not len(texts):
        result = _result(np.zeros(0), method=name, reason="no texts", details={})
    else:
        result = spec.scorer(
            texts=texts, languages=languages, vectors=vectors, model_name=model_name, seed=seed
        )
    result.details["seconds"] = round(time.perf_counter() - start, 3)
    logger.info("sentiment: %s, %.2f s", result.method, result.details["seconds"])
    return result
