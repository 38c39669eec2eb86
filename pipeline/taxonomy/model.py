"""The taxonomy a run leaves behind: its topics, their names and themes, centres and thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCHEMA_VERSION = 1
"""Version of ``taxonomy.json``; a file written by a newer version is refused, not misread."""


@dataclass(frozen=True)
class TaxonomyTopic:
    """One topic of a taxonomy, as the analyst left it (names after renames and merges)."""

    id: int
    name: str
    theme_id: int
    theme_name: str
    size: int
    """Rows of the taxonomy run in this topic (duplicates included)."""
    share: float
    """``size`` / rows of the taxonomy run that have a topic (outliers included)."""
    threshold: float
    """Smallest cosine to the topic's centre that a new text needs to join it."""
    keywords: tuple[str, ...] = ()
    novelty: float = 0.0
    """Below this cosine a text is a candidate for a new topic (see :mod:`pipeline.taxonomy.assign`)."""


@dataclass(frozen=True, eq=False)
class Taxonomy:
    """A frozen set of topics that new feedback can be assigned to.

    Attributes:
        topics: The topics (not the outliers), ordered by id.
        centroids: ``(n_topics, dim)`` L2-normalised float32 centres in the embedding space,
            aligned with ``topics``.
        model: The embedder's ``model_id`` (a new run must embed with the same model).
        model_name: The embedder's registry name (what ``--model`` takes).
        dim: Embedding dimension.
        source_run_id: Folder name of the run the taxonomy comes from.
        source_input_sha256: SHA-256 of that run's input file.
        rows_with_topic: Rows of the taxonomy run that had a topic or were outliers (share base).
        outlier_rows: Rows of the taxonomy run that were outliers.
        calibration: How the thresholds were derived (method, percentiles, floor, figures).
        edits: The analyst's edits folded into the names and merges.
        schema_version: Version of the file format.
    """

    topics: tuple[TaxonomyTopic, ...]
    centroids: np.ndarray
    model: str
    model_name: str
    dim: int
    source_run_id: str
    source_input_sha256: str
    rows_with_topic: int
    outlier_rows: int = 0
    calibration: dict[str, Any] = field(default_factory=dict)
    edits: tuple[dict[str, Any], ...] = ()
    schema_version: int = SCHEMA_VERSION

    @property
    def topic_ids(self) -> np.ndarray:
        return np.array([t.id for t in self.topics], dtype=np.int64)

    @property
    def thresholds(self) -> np.ndarray:
        return np.array([t.threshold for t in self.topics], dtype=np.float32)

    @property
    def novelty(self) -> np.ndarray:
        return np.array([max(t.novelty, t.threshold) for t in self.topics], dtype=np.float32)

    @property
    def max_topic_id(self) -> int:
        return max((t.id for t in self.topics), default=-1)

    def names(self) -> dict[int, str]:
        return {t.id: t.name for t in self.topics}

    def theme_of(self) -> dict[int, int]:
        return {t.id: t.theme_id for t in self.topics}

    def theme_names(self) -> dict[int, str]:
        return {t.theme_id: t.theme_name for t in self.topics}

    def summary(self) -> dict[str, Any]:
        """What ``run.json`` records about the taxonomy a run used."""
        thresholds = self.thresholds
        return {
            "run_id": self.source_run_id,
            "input_sha256": self.source_input_sha256,
            "schema_version": self.schema_version,
            "model": self.model,
            "n_topics": len(self.topics),
            "threshold": {
                "min": round(float(thresholds.min()), 4) if len(thresholds) else None,
                "median": round(float(np.median(thresholds)), 4) if len(thresholds) else None,
                "max": round(float(thresholds.max()), 4) if len(thresholds) else None,
                "per_topic": {str(t.id): round(t.threshold, 4) for t in self.topics},
            },
            "calibration": dict(self.calibration),
            "edits": len(self.edits),
        }
