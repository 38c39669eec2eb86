"""Labelled text pairs for ``tune``: read from a table, or made from an analyst's curation of a run.

A pairs table has ``text``, ``text_pair`` (or ``sentence1``/``sentence2``), ``label`` (1 same, 0
different) and optionally ``split``: rows whose split is ``train`` train, the other labelled rows
evaluate; without a split column a seeded 10 % is held out (:func:`pipeline.similar.labelled_split`).

:func:`pairs_from_run` turns a saved run's topics, after the analyst's edits, into pairs: two texts
of one topic are "the same subject" (label 1), texts of two topics are not (label 0). Pairs across
topics the analyst *merged* come first: they are what the model had apart and the analyst put
together, the most informative positives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError
from pipeline.similar import labelled_split, labels_of, pair_columns

MIN_TRAIN_PAIRS = 8


@dataclass(frozen=True)
class PairSet:
    """Pairs as parallel tuples; ``label`` is 1 (same) or 0 (different)."""

    first: tuple[str, ...]
    second: tuple[str, ...]
    label: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.label)

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.label, dtype=np.int64)

    def subset(self, index: np.ndarray) -> PairSet:
        return PairSet(
            first=tuple(self.first[i] for i in index),
            second=tuple(self.second[i] for i in index),
            label=tuple(self.label[i] for i in index),
        )


@dataclass(frozen=True)
class TrainingPairs:
    train: PairSet
    evaluate: PairSet
    split_reason: str
    n_skipped: int
    """Rows without a 0/1 label or with an empty text."""


def training_pairs(frame: pd.DataFrame, *, seed: int = 42) -> TrainingPairs:
    """Split a pairs table into training and evaluation pairs.

    Raises:
        ConfigError: No pair columns (``pair_columns``), no ``label`` column (``no_labels``), too
            few training pairs or only one class (``too_few_pairs``), nothing to evaluate on
            (``no_eval_pairs``).
    """
    first_col, second_col = pair_columns(frame)
    if "label" not in frame.columns:
        raise ConfigError("Tuning needs a label column (1 = same meaning, 0 = different).", code="no_labels")
    first = frame[first_col].fillna("").astype(str).str.strip().to_numpy()
    second = frame[second_col].fillna("").astype(str).str.strip().to_numpy()
    labels = labels_of(frame)
    usable = (labels >= 0) & (first != "") & (second != "")
    train, held = labelled_split(frame.loc[usable].reset_index(drop=True), seed=seed)
    index = np.flatnonzero(usable)
    by_column = "split" in frame.columns and _has_train(frame.loc[usable])
    reason = (
        "rows with split 'train' train, the others evaluate"
        if by_column
        else "a seeded 10 % of the labelled pairs is held out to evaluate"
    )

    def pick(mask: np.ndarray) -> PairSet:
        rows = index[mask]
        return PairSet(
            first=tuple(first[rows].tolist()),
            second=tuple(second[rows].tolist()),
            label=tuple(int(v) for v in labels[rows]),
        )

    out = TrainingPairs(
        train=pick(train), evaluate=pick(held), split_reason=reason, n_skipped=int((~usable).sum())
    )
    if len(out.train) < MIN_TRAIN_PAIRS or len(set(out.train.label)) < 2:
        raise ConfigError(
            f"Tuning needs at least {MIN_TRAIN_PAIRS} labelled training pairs with both labels "
            f"(1 and 0); this file has {len(out.train)}.",
            code="too_few_pairs",
        )
    if len(out.evaluate) == 0:
        raise ConfigError(
            "No pairs are left to evaluate on: give rows whose split is not 'train', or more pairs.",
            code="no_eval_pairs",
        )
    return out


def _has_train(frame: pd.DataFrame) -> bool:
    return bool(frame["split"].astype(str).str.strip().str.lower().eq("train").any())


def pairs_from_run(run_dir: Path, *, per_topic: int = 40, seed: int = 42) -> pd.DataFrame:
    """Pairs (``text``, ``text_pair``, ``label``, ``reason``) from a saved run and its edits.

    Up to ``per_topic`` positives per topic (half of them across the parts of an analyst's merge,
    when the topic is one) and as many negatives, each against a text of another topic. Outliers
    are left out.

    Raises:
        ConfigError: ``run_dir`` is not a run folder (``not_a_run``) or has fewer than two topics
            (``too_few_topics``).
    """
    from pipeline.analysis import apply_edits
    from pipeline.store import active_entries, load_edits, open_run

    if not (Path(run_dir) / "run.json").is_file():
        raise ConfigError(f"{run_dir} is not a run folder (no run.json).", code="not_a_run")
    base = open_run(Path(run_dir))
    edits = load_edits(Path(run_dir))
    result = apply_edits(base, edits)
    documents = result.documents
    texts = [documents.texts[i] for i in documents.unique_rows]
    labels = np.asarray(result.clustering.labels)
    before = np.asarray(base.clustering.labels)
    merged_parts: dict[int, set[int]] = {}
    for _, edit in active_entries(edits):
        if edit.get("op") == "merge":
            ids = sorted({int(i) for i in edit["topic_ids"]})
            merged_parts.setdefault(ids[0] if ids[0] >= 0 else ids[1], set()).update(ids)
    topics = sorted(int(t) for t in np.unique(labels) if t >= 0)
    if len(topics) < 2:
        raise ConfigError("Pairs need a run with at least two topics.", code="too_few_topics")
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, int, str]] = []
    members = {t: np.flatnonzero(labels == t) for t in topics}
    for topic in topics:
        own = members[topic]
        if len(own) < 2:
            continue
        positives: list[tuple[int, int, str]] = []
        parts = sorted(merged_parts.get(topic, set()))
        if len(parts) >= 2:
            groups = [own[np.isin(before[own], [p])] for p in parts]
            groups = [g for g in groups if len(g)]
            for _ in range(per_topic // 2 if len(groups) >= 2 else 0):
                a, b = rng.choice(len(groups), 2, replace=False)
                positives.append(
                    (int(rng.choice(groups[a])), int(rng.choice(groups[b])), "merged by the analyst")
                )
        while len(positives) < per_topic and len(positives) < len(own) * (len(own) - 1) // 2:
            a, b = rng.choice(own, 2, replace=False)
            positives.append((int(a), int(b), "same topic"))
        others = np.flatnonzero((labels >= 0) & (labels != topic))
        for a, b, why in positives:
            rows.append((texts[a], texts[b], 1, why))
            rows.append((texts[a], texts[int(rng.choice(others))], 0, "different topics"))
    return pd.DataFrame(rows, columns=["text", "text_pair", "label", "reason"])
