"""Typed, frozen data passed between the pipeline stages.

The stages are ``load -> documents -> embed -> reduce -> cluster -> keywords/languages -> report``.
Row identity is kept throughout: ``row`` is the 0-based data-row index in the input file, and every
input row appears in the result with a ``status`` that says whether it was clustered and, if not, why.

Arrays indexed by *unique* texts (embeddings, reduced coordinates, cluster labels) are aligned with
:attr:`Documents.unique_rows`; :meth:`RunResult.row_labels` and friends map them back to every row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pipeline.labels.base import LabelSet
    from pipeline.near_duplicates import NearDuplicates
    from pipeline.sentiment.base import RowSentiment

STATUS_OK = "ok"
OUTLIER = -1
EXCLUDED = -2
NOT_RELEVANT = -3
"""Topic label of texts an analyst marked not relevant (a curation ``delete``)."""

ClustererName = Literal["kmeans", "hdbscan"]


# --------------------------------------------------------------------------------------------- load
@dataclass(frozen=True)
class LoadOptions:
    """What the caller may override or limit when reading a file (CLI flags, dashboard widgets)."""

    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None
    sheet: str | int | None = None
    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 2_000_000
    max_cell_chars: int = 100_000
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    """XLSX/Parquet: refuse when the declared decompressed size exceeds this (zip-bomb guard)."""


@dataclass(frozen=True)
class RowIssue:
    """One row that was excluded or altered while loading or preparing text."""

    row: int
    """0-based data-row index (``-1`` when the problem did not map to a data row)."""
    line: int
    """1-based line (or spreadsheet row) number in the file; ``0`` when unknown."""
    reason: str
    """Short machine-readable reason: ``bad_line``, ``undecodable``, ``control_chars``, ``truncated``..."""
    detail: str = ""
    """Human-readable detail: the raw line (shortened) or what was changed."""


@dataclass(frozen=True)
class SourceFile:
    """One file of a folder or glob input: its rows are ``first_row .. first_row + rows - 1``."""

    name: str
    format: str
    sha256: str
    rows: int
    first_row: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format, "sha256": self.sha256, "rows": self.rows}


@dataclass(frozen=True)
class LoadReport:
    """How a file was read: what was detected, what was overridden, and every row issue."""

    filename: str
    format: str
    sha256: str
    rows_read: int
    columns: tuple[str, ...]
    encoding: str | None = None
    encoding_confidence: float | None = None
    encoding_alternatives: tuple[str, ...] = ()
    delimiter: str | None = None
    header_row: int = 0
    sheet: str | None = None
    issues: tuple[RowIssue, ...] = ()
    warnings: tuple[str, ...] = ()
    encoding_overridden: bool = False
    """True when the caller chose the encoding (``LoadOptions.encoding``) instead of detection."""
    skipped_lines: int = 0
    """Lines that are not data rows and were skipped: banner lines above the header, blank lines."""
    sources: tuple[SourceFile, ...] = ()
    """The files of a folder or glob input, in row order (empty for one file)."""

    def issue_counts(self) -> dict[str, int]:
        """Count issues per reason."""
        return dict(Counter(issue.reason for issue in self.issues))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (issues as counts; the full list is exported separately)."""
        out: dict[str, Any] = {
            "filename": self.filename,
            "format": self.format,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "columns": list(self.columns),
            "encoding": self.encoding,
            "encoding_confidence": self.encoding_confidence,
            "encoding_alternatives": list(self.encoding_alternatives),
            "delimiter": self.delimiter,
            "header_row": self.header_row,
            "sheet": self.sheet,
            "issue_counts": self.issue_counts(),
            "warnings": list(self.warnings),
            "encoding_overridden": self.encoding_overridden,
            "skipped_lines": self.skipped_lines,
        }
        if self.sources:
            out["files"] = [source.to_dict() for source in self.sources]
        return out


@dataclass(frozen=True)
class LoadedTable:
    """Every data row of the input, all cells as strings (missing cells are ``""``), in file order.

    ``row_status[i]`` is ``"ok"`` or a reason the loader already excluded the row (``"bad_line"``).
    """

    frame: pd.DataFrame
    report: LoadReport
    row_status: tuple[str, ...]


# ---------------------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class Documents:
    """The text to analyse, one entry per input row.

    Attributes:
        texts: Analysis text per row (normalised, cleaned, truncated); ``""`` for excluded rows.
        status: ``"ok"``, ``"empty"``, ``"duplicate_of:<row>"``, ``"bad_line"``, ...
        text_column: The column the texts came from.
        text_column_reason: Why that column was chosen (``"given"`` or the auto-detection reason).
        issues: Rows whose text was altered (control characters removed, truncated, ...).
    """

    texts: tuple[str, ...]
    status: tuple[str, ...]
    text_column: str
    text_column_reason: str
    issues: tuple[RowIssue, ...] = ()

    @property
    def n_rows(self) -> int:
        return len(self.texts)

    @cached_property
    def unique_rows(self) -> np.ndarray:
        """Row indices that are embedded and clustered (status ``ok``), ascending."""
        return np.flatnonzero(np.array([s == STATUS_OK for s in self.status], dtype=bool))

    @cached_property
    def source_row(self) -> np.ndarray:
        """For each row, the row whose topic it takes: itself, its first occurrence, or ``-1``."""
        out = np.full(len(self.status), -1, dtype=np.int64)
        for i, s in enumerate(self.status):
            if s == STATUS_OK:
                out[i] = i
            elif s.startswith("duplicate_of:"):
                out[i] = int(s.split(":", 1)[1])
        return out

    def spread(self, values: np.ndarray, missing: Any) -> np.ndarray:
        """Map an array aligned with ``unique_rows`` onto every row through ``source_row``.

        Duplicates take their first occurrence's value; excluded rows get ``missing``.
        """
        unique = self.unique_rows
        position = np.full(self.n_rows, -1, dtype=np.int64)
        position[unique] = np.arange(len(unique))
        source = self.source_row
        has = source >= 0
        out = np.full((self.n_rows, *values.shape[1:]), missing, dtype=values.dtype)
        out[has] = values[position[source[has]]]
        return out

    def excluded_counts(self) -> dict[str, int]:
        """Rows not clustered themselves, per reason (``duplicate_of:<row>`` counts as ``duplicate``)."""
        reasons = (s.split(":", 1)[0].replace("duplicate_of", "duplicate") for s in self.status)
        return dict(Counter(r for r in reasons if r != STATUS_OK))


# ------------------------------------------------------------------------------------ model outputs
@dataclass(frozen=True)
class Embeddings:
    """L2-normalised float32 vectors of shape ``(n_unique, dim)``, aligned with ``unique_rows``."""

    vectors: np.ndarray
    model: str
    device: str
    n_cached: int = 0
    n_computed: int = 0
    n_truncated: int = 0
    """Texts longer than the model's window (embedded from their beginning)."""


@dataclass(frozen=True)
class Reduction:
    """Low-dimensional coordinates, aligned with ``unique_rows``."""

    cluster_space: np.ndarray
    """``(n_unique, n_components)`` coordinates the clusterer runs on."""
    map_2d: np.ndarray
    """``(n_unique, 2)`` coordinates for the map."""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Clustering:
    """Topic labels per unique text (``-1`` = outlier), with how they were chosen."""

    labels: np.ndarray
    method: str
    n_topics: int
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class Topic:
    """One topic as shown to analysts."""

    id: int
    name: str
    size: int
    """Rows in the topic, duplicates included."""
    share: float
    """``size`` / rows that have a topic (outliers included, excluded rows not)."""
    keywords: tuple[tuple[str, float], ...]
    examples: tuple[int, ...]
    """Rows of the most representative texts, best first."""
    languages: dict[str, int]
    keywords_original: tuple[tuple[str, float], ...] = ()
    """Keywords in the texts' own languages (``keywords`` are in the label language)."""
    auto_name: str = ""
    """The generated name (``name`` differs when an analyst renamed the topic)."""


@dataclass(frozen=True)
class Theme:
    """A group of topics: the overview level above topics (every topic belongs to one theme)."""

    id: int
    name: str
    size: int
    """Rows in the theme's topics, duplicates included."""
    share: float
    keywords: tuple[tuple[str, float], ...]
    topic_ids: tuple[int, ...]


@dataclass(frozen=True)
class Ledger:
    """Every input row is accounted for: ``rows_clustered + sum(excluded.values()) == rows_read``."""

    rows_read: int
    rows_clustered: int
    excluded: dict[str, int]
    altered: dict[str, int] = field(default_factory=dict)
    """Rows kept but changed (``truncated``, ``control_chars``...), per reason."""

    def __post_init__(self) -> None:
        if self.rows_clustered + sum(self.excluded.values()) != self.rows_read:
            raise AssertionError(f"row ledger does not balance: {self}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_clustered": self.rows_clustered,
            "excluded": dict(self.excluded),
            "altered": dict(self.altered),
        }


@dataclass(frozen=True)
class RunResult:
    """Everything one run produced. Arrays over unique texts align with ``documents.unique_rows``.

    ``manifest`` is the content of ``run.json`` (config, versions, seed, input hash, timings, ledger).
    """

    table: pd.DataFrame
    load_report: LoadReport
    documents: Documents
    embeddings: Embeddings
    reduction: Reduction
    clustering: Clustering
    topics: tuple[Topic, ...]
    languages: tuple[str, ...]
    """Language code per row (``""`` for excluded rows)."""
    ledger: Ledger
    manifest: dict[str, Any]
    themes: tuple[Theme, ...] = ()
    """Themes over the topics (empty for runs saved before themes existed)."""
    label_sets: tuple[LabelSet, ...] = ()
    """Topic label sets by language; the first is the one ``topics`` show."""
    mentions: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    """Other topics the texts raise: ``(m, 2)`` ``(unique position, topic id)`` pairs (:mod:`pipeline.multitopic`)."""
    sentiment: RowSentiment | None = None
    """Sentiment per unique text (``None``: turned off, or a run saved before sentiment existed)."""
    near_duplicates: NearDuplicates | None = None
    """Groups of unique texts that say the same thing (:mod:`pipeline.near_duplicates`)."""
    row_parts: Path | None = None
    """Streamed Ray runs (:mod:`pipeline.engines.ray_stream`): the folder of Parquet parts that hold
    every row's assignment. The per-row fields then hold the fitted sample; counts are the input's."""

    def row_labels(self) -> np.ndarray:
        """Topic id per row: the unique text's topic, ``-1`` outlier, ``-2`` excluded."""
        return self.documents.spread(self.clustering.labels.astype(np.int64), EXCLUDED)

    def row_coords(self) -> np.ndarray:
        """``(n_rows, 2)`` map coordinates per row (NaN for excluded rows)."""
        return self.documents.spread(self.reduction.map_2d.astype(np.float64), np.nan)

    def topic_names(self) -> dict[int, str]:
        return {t.id: t.name for t in self.topics}

    def topic_themes(self) -> dict[int, int]:
        """Topic id -> theme id (empty when the run has no themes)."""
        return {topic: theme.id for theme in self.themes for topic in theme.topic_ids}

    def theme_names(self) -> dict[int, str]:
        return {t.id: t.name for t in self.themes}
