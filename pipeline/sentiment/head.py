"""Linear heads over the run's own embeddings.

* :func:`self_trained_scores` fits a logistic regression on the run's rows that the lexicon scores
  clearly (``|score| >= CONFIDENT``) and scores every row with it: the head learns the run's own
  domain and carries what the lexicon knows to texts, and languages, it has no words for.
* :func:`bundled_scores` applies a head shipped for one embedder (``heads/<name>.json``), trained by
  ``python -m pipeline.sentiment.train`` on :mod:`pipeline.sentiment.corpus` (sentences we wrote).
"""

from __future__ import annotations

import json
import logging
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

CONFIDENT = 0.3
"""Lexicon scores at least this far from 0 become training labels (one clear word scores 0.5)."""
MIN_PER_CLASS = 20
"""Fewer confident rows of either sign than this: no self-trained head."""
MAX_TRAIN_ROWS = 10_000
"""At most this many rows train the head (a seeded sample), so its cost stays small."""
C = 1.0


def self_trained_scores(
    vectors: np.ndarray, lexicon: np.ndarray, *, seed: int
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Scores in ``[-1, 1]`` from a head fitted on the lexicon's confident rows, or ``None``.

    Returns:
        ``(scores or None, details)``; ``details`` says how many rows of each sign trained it.
    """
    confident = np.flatnonzero(np.abs(lexicon) >= CONFIDENT)
    positive = int((lexicon[confident] > 0).sum())
    negative = len(confident) - positive
    details: dict[str, Any] = {"train_positive": positive, "train_negative": negative}
    if min(positive, negative) < MIN_PER_CLASS:
        return None, details
    if len(confident) > MAX_TRAIN_ROWS:
        rng = np.random.default_rng(seed)
        confident = np.sort(rng.choice(confident, size=MAX_TRAIN_ROWS, replace=False))
        details["train_sampled"] = MAX_TRAIN_ROWS
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the same sums on every machine (bit-for-bit repeatable), and on a busy
    # two-core machine several times faster than two threads fighting for the cores.
    with threadpool_limits(1):
        weights, bias, iterations = fit_logistic(
            vectors[confident].astype(np.float32), (lexicon[confident] > 0).astype(np.float64), c=C
        )
    details["train_iterations"] = iterations
    logits = vectors.astype(np.float32) @ weights.astype(np.float32) + np.float32(bias)
    return 2.0 * _sigmoid(logits.astype(np.float64)) - 1.0, details


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, *, c: float = C, max_iter: int = 30, tol: float = 1e-6
) -> tuple[np.ndarray, float, int]:
    """L2-regularised binary logistic regression by Newton's method (numpy only, deterministic).

    Minimises ``sum(log_loss) + ||w||^2 / (2c)`` with an unpenalised intercept, the objective of
    scikit-learn's ``LogisticRegression(C=c)``; a 513-unknown Newton step costs one ``X^T D X``.

    Returns:
        ``(weights, intercept, iterations)``.
    """
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1), dtype=x.dtype)])
    penalty = np.full(d + 1, 1.0 / c)
    penalty[-1] = 0.0
    theta = np.zeros(d + 1)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        p = _sigmoid((design @ theta.astype(design.dtype)).astype(np.float64))
        gradient = (design.T @ (p - y).astype(design.dtype)).astype(np.float64) + penalty * theta
        scaled = design * np.sqrt(np.maximum(p * (1.0 - p), 1e-10)).astype(design.dtype)[:, None]
        hessian = (scaled.T @ scaled).astype(np.float64) + np.diag(penalty + 1e-8)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.max(np.abs(step))) < tol * max(1.0, float(np.max(np.abs(theta)))):
            break
    return theta[:-1], float(theta[-1]), iterations


@cache
def _bundled(model_name: str) -> dict[str, Any] | None:
    path = resources.files("pipeline.sentiment").joinpath("heads", f"{model_name}.json")
    if not path.is_file():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8")))


def has_bundled_head(model_name: str, dim: int) -> bool:
    head = _bundled(model_name)
    return head is not None and len(head["coef"][0]) == dim


def bundled_scores(vectors: np.ndarray, *, model_name: str) -> np.ndarray | None:
    """``p(positive) - p(negative)`` from the shipped head for ``model_name``, or ``None``."""
    if not has_bundled_head(model_name, int(vectors.shape[1])):
        return None
    head = _bundled(model_name)
    assert head is not None
    coef = np.asarray(head["coef"], dtype=np.float64)
    logits = vectors.astype(np.float64) @ coef.T + np.asarray(head["intercept"], dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    classes = list(head["classes"])
    return probs[:, classes.index("positive")] - probs[:, classes.index("negative")]
