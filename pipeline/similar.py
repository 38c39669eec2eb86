"""Paraphrase judgement: is text B the same question/complaint as text A?

``score`` is the cosine similarity of the two texts' vectors (the run's model); ``same`` is 1 when
the score reaches a threshold. The threshold is *calibrated*: chosen on labelled pairs to maximise
macro-F1 (accuracy alone rewards answering "different" on sets where most pairs differ) and saved
as a small JSON next to the scores, so later unlabelled files are judged the same way.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError

logger = logging.getLogger(__name__)

TEXT_COLUMNS = (("text", "text_pair"), ("sentence1", "sentence2"), ("text_a", "text_b"))
"""Accepted (first, second) column names of a pairs file."""
HOLDOUT_SHARE = 0.1
CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """A threshold on the cosine score and how it was chosen."""

    model: str
    threshold: float
    metric: str
    n_pairs: int
    """Labelled pairs the threshold was chosen on."""
    train_macro_f1: float
    source: str
    """Where the pairs came from (a file name) or ``"default"``."""


@dataclass(frozen=True)
class PairMetrics:
    n: int
    accuracy: float
    macro_f1: float
    paraphrase_f1: float


def pair_columns(frame: pd.DataFrame) -> tuple[str, str]:
    """The two text columns of a pairs table.

    Raises:
        ConfigError: When none of :data:`TEXT_COLUMNS` is present (``pair_columns``).
    """
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    for first, second in TEXT_COLUMNS:
        if first in lowered and second in lowered:
            return lowered[first], lowered[second]
    raise ConfigError(
        "A pairs file needs the columns text and text_pair (or sentence1 and sentence2); "
        f"this one has: {', '.join(map(str, frame.columns[:12]))}.",
        code="pair_columns",
    )


def score_pairs(first: list[str], second: list[str], *, embedder: Any, batch: int = 512) -> np.ndarray:
    """Cosine similarity of each (first[i], second[i]) pair; identical texts are embedded once."""
    if len(first) != len(second):
        raise ValueError("the two text lists differ in length")
    unique = list(dict.fromkeys([*first, *second]))
    vectors = np.zeros((len(unique), 0), dtype=np.float32)
    parts = [
        np.asarray(embedder.embed(unique[i : i + batch]), dtype=np.float32)
        for i in range(0, len(unique), batch)
    ]
    if parts:
        vectors = np.vstack(parts)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    position = {text: i for i, text in enumerate(unique)}
    a = vectors[[position[t] for t in first]]
    b = vectors[[position[t] for t in second]]
    return np.einsum("ij,ij->i", a, b).astype(np.float64) if len(first) else np.zeros(0)


def metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> PairMetrics:
    """Accuracy, macro-F1 and the paraphrase class's F1 of ``scores >= threshold``."""
    predicted = scores >= threshold
    truth = labels.astype(bool)

    def f1(positive: bool) -> float:
        tp = float(np.sum((predicted == positive) & (truth == positive)))
        fp = float(np.sum((predicted == positive) & (truth != positive)))
        fn = float(np.sum((predicted != positive) & (truth == positive)))
        return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)

    same, different = f1(True), f1(False)
    return PairMetrics(
        n=len(scores),
        accuracy=round(float(np.mean(predicted == truth)) if len(scores) else 0.0, 4),
        macro_f1=round((same + different) / 2, 4),
        paraphrase_f1=round(same, 4),
    )


def calibrate(scores: np.ndarray, labels: np.ndarray, *, model: str, source: str) -> Calibration:
    """The threshold that maximises macro-F1 on labelled pairs (ties: the lower threshold).

    Raises:
        ConfigError: When the labels do not hold both classes (``one_class``).
    """
    labels = labels.astype(int)
    if len(set(labels.tolist())) < 2:
        raise ConfigError(
            "Calibration needs pairs labelled both 1 (same) and 0 (different).", code="one_class"
        )
    candidates = np.unique(np.quantile(scores, np.linspace(0.01, 0.99, 197)))
    best = max(candidates, key=lambda t: (metrics(scores, labels, float(t)).macro_f1, -float(t)))
    return Calibration(
        model=model,
        threshold=round(float(best), 6),
        metric="macro_f1",
        n_pairs=len(scores),
        train_macro_f1=metrics(scores, labels, float(best)).macro_f1,
        source=source,
    )


def save_calibration(calibration: Calibration, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(calibration), indent=2) + "\n", encoding="utf-8")


def load_calibration(path: Path) -> Calibration:
    """Read a calibration written by :func:`save_calibration`.

    Raises:
        ConfigError: Missing or unreadable file (``calibration``).
    """
    try:
        return Calibration(**json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"Cannot read the calibration {path}: {exc}.", code="calibration") from None


def labelled_split(frame: pd.DataFrame, *, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (calibrate, evaluate) over the labelled rows.

    Rows whose ``split`` is ``train`` calibrate and the other labelled rows evaluate; without a
    ``split`` column a seeded 10 % of the labelled rows is held out for evaluation.
    """
    labelled = labels_of(frame) >= 0
    if "split" in frame.columns:
        train = frame["split"].astype(str).str.strip().str.lower().eq("train").to_numpy()
        if (train & labelled).any():
            return train & labelled, ~train & labelled
    rng = np.random.default_rng(seed)
    held = np.zeros(len(frame), dtype=bool)
    index = np.flatnonzero(labelled)
    if len(index) >= 10:
        held[rng.choice(index, max(1, round(len(index) * HOLDOUT_SHARE)), replace=False)] = True
    return labelled & ~held, held


def labels_of(frame: pd.DataFrame) -> np.ndarray:
    """``label`` as 1/0 per row, ``-1`` where missing or not 0/1."""
    if "label" not in frame.columns:
        return np.full(len(frame), -1, dtype=np.int64)
    values = frame["label"].astype(str).str.strip().str.lower()
    mapping = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "same": 1, "different": 0}
    return values.map(lambda v: mapping.get(v, -1)).to_numpy(dtype=np.int64)


DEFAULT_THRESHOLDS: dict[str, float] = {"use-multilingual": 0.8}
"""Model -> threshold calibrated on AFQMC's train split (bench/similar_quality.py: 3,000 train pairs,
macro-F1 0.586; on 2,000 dev pairs accuracy 0.632, macro-F1 0.583, paraphrase F1 0.440, majority
class 0.682); used when a pairs file has no labels and no calibration file is given."""


@dataclass(frozen=True)
class SimilarResult:
    """Scores per pair and how ``same`` was decided."""

    frame: pd.DataFrame
    """The input columns plus ``score`` (cosine; empty for a pair with an empty text) and ``same``."""
    threshold: float
    threshold_source: str
    calibration: Calibration | None
    """The calibration made from this file's labelled rows, if any."""
    evaluation: PairMetrics | None
    """Held-out labelled rows judged with the threshold, if any."""
    n_empty: int


def similar(
    frame: pd.DataFrame,
    *,
    embedder: Any,
    model: str,
    threshold: float | None = None,
    calibration: Calibration | None = None,
    source: str = "pairs",
    seed: int = 42,
) -> SimilarResult:
    """Score every pair and decide ``same``.

    The threshold is, in order: ``threshold``; one calibrated on this table's labelled ``train``
    rows (or 90 % of its labelled rows); ``calibration``; the model's default.

    Raises:
        ConfigError: No pair columns, or no way to choose a threshold (``no_threshold``).
    """
    first_col, second_col = pair_columns(frame)
    first = frame[first_col].astype(str).str.strip().tolist()
    second = frame[second_col].astype(str).str.strip().tolist()
    present = np.array([bool(a) and bool(b) for a, b in zip(first, second, strict=True)], dtype=bool)
    scores = np.full(len(frame), np.nan)
    index = np.flatnonzero(present)
    scores[index] = score_pairs([first[i] for i in index], [second[i] for i in index], embedder=embedder)
    labels = labels_of(frame)
    fit, held = labelled_split(frame, seed=seed)
    fit &= present
    held &= present
    made: Calibration | None = None
    if threshold is not None:
        chosen, why = float(threshold), "given"
    elif fit.any() and len(set(labels[fit].tolist())) == 2:
        made = calibrate(scores[fit], labels[fit], model=model, source=source)
        chosen, why = made.threshold, f"calibrated on {int(fit.sum())} labelled pairs"
    elif calibration is not None:
        if calibration.model != model:
            logger.warning("calibration was made for %s, scoring with %s", calibration.model, model)
        chosen, why = calibration.threshold, f"calibration file ({calibration.source})"
    elif model in DEFAULT_THRESHOLDS:
        chosen, why = DEFAULT_THRESHOLDS[model], "the model's default (calibrated on AFQMC train)"
    else:
        raise ConfigError(
            f"No threshold for {model}: give labelled pairs (a label column), --calibration FILE or --threshold X.",
            code="no_threshold",
        )
    out = frame.copy()
    out["score"] = np.round(scores, 6)
    out["same"] = pd.array(np.where(present, (scores >= chosen).astype(int), 0), dtype="Int64")
    out.loc[~present, "same"] = pd.NA
    evaluation = metrics(scores[held], labels[held], chosen) if held.any() else None
    return SimilarResult(
        frame=out,
        threshold=chosen,
        threshold_source=why,
        calibration=made,
        evaluation=evaluation,
        n_empty=int((~present).sum()),
    )
