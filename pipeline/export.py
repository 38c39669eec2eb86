"""Tables and files for analysts: assignments, topics, row issues, as CSV, XLSX and JSON.

Everything here is pure: functions take a :class:`~pipeline.types.RunResult` (or a frame) and return
a frame or bytes; :func:`pipeline.report.write_report` puts them on disk.

Decisions an analyst (and the dashboard) can rely on:

* **Excluded rows** (status ``empty``, ``bad_line``, ...) keep their place in ``assignments`` with an
  *empty* ``topic_id`` (pandas ``<NA>``, an empty CSV cell, a blank XLSX cell, JSON ``null``), an
  empty ``topic_name`` and ``language``, and no map coordinates. ``status`` says why. The outlier
  topic keeps ``topic_id`` ``-1``. Duplicates (``duplicate_of:<row>``) carry the topic, language and
  coordinates of their first occurrence.
* **Input columns** follow the product's columns unchanged. An input column whose name clashes
  with one of ours is renamed with the suffix ``_input`` (``_input2``... if that is taken too);
  nothing is dropped.
* **CSV formula safety** (OWASP "CSV Injection"): every field is quoted, and every *text* cell (and
  every header) whose first character after optional leading whitespace is ``=``, ``+``, ``-`` or
  ``@``, or which starts with a tab, CR, LF or NUL, gets a leading ``'``. The decision is made per
  column dtype: numeric columns (``row``, ``topic_id``, ``x``, ``y``, ``size``, ``share``) are
  written as plain numbers, so ``-1`` and negative coordinates stay numbers. In text columns a cell
  that is exactly a plain number (``-1``, ``+3.5``) is left alone: a spreadsheet reads it as that
  number and it cannot run anything. Everything else with a trigger character is neutralised.
* **XLSX**: text is always written as string cells (never formulas, never live links); CR and
  CRLF line breaks become LF (Excel's line break; a CR would be stored as ``_x000D_``); characters
  XML cannot hold (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF) are removed and
  counted; cells over Excel's 32,767-character limit are truncated with a visible ``…[truncated]``
  marker; both are listed in the ``run-info`` sheet. Text is *not* prefixed with ``'`` in XLSX: the
  cell type already keeps it inert, and the analyst sees the exact text.
* **Examples** in ``topics`` are joined with :data:`EXAMPLE_SEPARATOR`; keywords with ``"; "``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from pipeline.sentiment.summary import SHARE_COLUMNS, row_columns, theme_shares, topic_shares
from pipeline.types import EXCLUDED, OUTLIER, STATUS_OK, RunResult, Topic

logger = logging.getLogger(__name__)

ASSIGNMENT_COLUMNS: tuple[str, ...] = (
    "row",
    "topic_id",
    "topic_name",
    "language",
    "status",
    "x",
    "y",
    "theme_id",
    "theme_name",
    "other_topic_ids",
    "sentiment",
    "sentiment_score",
    "near_duplicate_group",
    "near_duplicate_count",
)
"""The product's own columns in ``assignments``, before the input's columns."""
TOPIC_COLUMNS: tuple[str, ...] = (
    "topic_id",
    "name",
    "size",
    "share",
    "keywords",
    "examples",
    "languages",
    "theme_id",
    "theme_name",
    "keywords_original",
    "origin",
    "share_before",
    "share_change",
    "p_value",
    "mentions",
    "rating_mean",
    "rating_mean_rest",
    "rating_ci_low",
    "rating_ci_high",
    "rating_impact",
    *SHARE_COLUMNS,
    "alert",
    "alert_z",
    "example_counts",
    "near_duplicate_groups",
)
"""Columns of ``topics``."""
THEME_COLUMNS: tuple[str, ...] = (
    "theme_id",
    "name",
    "size",
    "share",
    "keywords",
    "topic_ids",
    "topics",
    *SHARE_COLUMNS,
)
ROW_ISSUE_COLUMNS: tuple[str, ...] = ("row", "line", "kind", "reason", "detail")
"""Columns of the row-issues table (``kind`` is ``excluded``, ``altered`` or ``file``)."""
INPUT_SUFFIX = "_input"
"""Suffix added to an input column whose name clashes with one of the product's columns."""
KEYWORD_SEPARATOR = "; "
EXAMPLE_SEPARATOR = " | "
OUTLIER_NAME = "Outliers"
"""Name shown for topic ``-1`` when the run did not name it."""
N_EXAMPLES = 3
COORD_DECIMALS = 5

XLSX_MAX_CELL_CHARS = 32_767
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384
TRUNCATION_MARK = "…[truncated]"

_FORMULA_START = re.compile(r"^(?:\s*[=+\-@]|[\t\r\n\x00])")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


# ------------------------------------------------------------------------------------------ frames
def assignments_frame(result: RunResult) -> pd.DataFrame:
    """One row per input row, in input order: the topic and map position of each row.

    Args:
        result: A finished run.

    Returns:
        Columns ``row`` (int), ``topic_id`` (nullable ``Int64``; ``<NA>`` for excluded rows, ``-1``
        for outliers), ``topic_name``, ``language``, ``status``, ``x``, ``y`` (float, NaN for excluded
        rows), ``theme_id`` (nullable ``Int64``, like ``topic_id``), ``theme_name``,
        ``other_topic_ids`` (the other topics the row raises, ``"3;7"``; :mod:`pipeline.multitopic`),
        ``sentiment`` (``positive`` / ``neutral`` / ``negative``; ``""`` for excluded rows or runs
        without sentiment) and ``sentiment_score`` (-1..1, NaN likewise), then every input column
        (clashing names get :data:`INPUT_SUFFIX`).
    """
    documents = result.documents
    n_rows = documents.n_rows
    if len(result.table) != n_rows:
        raise ValueError(f"table has {len(result.table)} rows but documents have {n_rows}")
    labels = result.row_labels()
    from pipeline.load.stream import source_files
    from pipeline.multitopic import other_topic_ids
    from pipeline.near_duplicates import row_groups

    sources = source_files(result.load_report)
    return assignment_rows(
        rows=np.arange(n_rows, dtype=np.int64),
        labels=labels,
        coords=result.row_coords(),
        languages=list(result.languages) if len(result.languages) == n_rows else [""] * n_rows,
        status=list(documents.status),
        names=_topic_names(result),
        theme_of=result.topic_themes(),
        theme_names=result.theme_names(),
        other_topics=other_topic_ids(result),
        sentiment=row_columns(result),  # None when the run has no sentiment
        near_duplicates=row_groups(result),
        sources=sources if sources is not None and len(sources) == n_rows else None,
        inputs=result.table,
    )


def assignment_rows(
    *,
    rows: np.ndarray,
    labels: np.ndarray,
    coords: np.ndarray,
    languages: Sequence[str],
    status: Sequence[str],
    names: Mapping[int, str],
    theme_of: Mapping[int, int],
    theme_names: Mapping[int, str],
    other_topics: Sequence[str],
    sentiment: Mapping[str, Any] | None,
    near_duplicates: tuple[np.ndarray, np.ndarray] | None,
    sources: Sequence[str] | None,
    inputs: pd.DataFrame,
) -> pd.DataFrame:
    """The rows of ``assignments`` from per-row values (:func:`assignments_frame` for a whole run;
    a streamed Ray run's workers, :mod:`pipeline.engines.ray_stream`, for one part at a time).

    Args:
        rows: Row numbers. labels: Topic per row (``-2`` excluded). coords: ``(n, 2)`` map positions.
        sentiment: ``{"sentiment": labels, "sentiment_score": scores}``, or ``None`` (empty columns).
        near_duplicates: ``(group row, group size)`` per row, or ``None`` (not computed: ``<NA>``).
        sources: The file of each row (folder and glob inputs), or ``None`` (no ``source_file``).
        inputs: The input columns, in row order (clashing names get :data:`INPUT_SUFFIX`).
    """
    from pipeline.load.stream import SOURCE_COLUMN
    from pipeline.themes import theme_labels

    n_rows = len(rows)
    coords = np.round(np.asarray(coords, dtype=np.float64), COORD_DECIMALS)
    excluded = labels == EXCLUDED
    topic_id = pd.array(labels, dtype="Int64")
    topic_id[excluded] = pd.NA
    topic_name = [
        ("" if bad else names.get(int(label), "")) for label, bad in zip(labels, excluded, strict=True)
    ]
    columns: dict[str, Any] = {
        "row": rows,
        "topic_id": topic_id,
        "topic_name": pd.Series(topic_name, dtype=object),
        "language": pd.Series(list(languages), dtype=object),
        "status": pd.Series(list(status), dtype=object),
        "x": coords[:, 0] if n_rows else np.zeros(0),
        "y": coords[:, 1] if n_rows else np.zeros(0),
    }
    themes = theme_labels(labels, dict(theme_of))
    theme_id = pd.array(themes, dtype="Int64")
    theme_id[excluded] = pd.NA
    if not theme_of:
        theme_id[:] = pd.NA
    columns["theme_id"] = theme_id
    columns["theme_name"] = pd.Series(
        [
            "" if bad or not theme_of else theme_names.get(int(th), "")
            for th, bad in zip(themes, excluded, strict=True)
        ],
        dtype=object,
    )
    columns["other_topic_ids"] = pd.Series(list(other_topics), dtype=object)
    columns["sentiment"] = sentiment["sentiment"] if sentiment else pd.Series([""] * n_rows, dtype=object)
    columns["sentiment_score"] = sentiment["sentiment_score"] if sentiment else np.full(n_rows, np.nan)
    if near_duplicates is None:
        columns["near_duplicate_group"] = pd.array([pd.NA] * n_rows, dtype="Int64")
        columns["near_duplicate_count"] = pd.array([pd.NA] * n_rows, dtype="Int64")
    else:
        group_row, group_count = near_duplicates
        columns["near_duplicate_group"] = pd.array(np.where(excluded, 0, group_row), dtype="Int64")
        columns["near_duplicate_group"][excluded] = pd.NA
        columns["near_duplicate_count"] = pd.array(group_count, dtype="Int64")
        columns["near_duplicate_count"][excluded] = pd.NA
    if sources is not None:  # folder or glob input: the file of each row
        columns[SOURCE_COLUMN] = pd.Series(list(sources), dtype=object)
    frame = pd.DataFrame(columns)
    taken = {*ASSIGNMENT_COLUMNS, *frame.columns}
    input_names = _dedupe_input_names([str(c) for c in inputs.columns], taken=taken)
    inputs = inputs.reset_index(drop=True).copy()
    inputs.columns = pd.Index(input_names, dtype=object)
    return pd.concat([frame, inputs], axis=1)


def topics_frame(result: RunResult) -> pd.DataFrame:
    """One row per topic, biggest first, outliers (``topic_id`` -1) last.

    Args:
        result: A finished run.

    Returns:
        Columns ``topic_id``, ``name``, ``size``, ``share`` (0..1, rounded to 4 places), ``keywords``
        (best first, ``"; "``-separated), ``examples`` (the three most representative texts, joined
        with :data:`EXAMPLE_SEPARATOR`), ``languages`` (``"en: 12; zh: 5"``, most frequent first),
        ``theme_id`` and ``theme_name`` (the theme the topic belongs to; ``-1`` for outliers).
        ``keywords_original`` (in the texts' own languages; ``keywords`` and ``name`` are in the
        run's label language),
        ``origin`` (``taxonomy``: kept from the ``--taxonomy`` run; ``new``; ``""`` for outliers),
        ``share_before``, ``share_change`` and ``p_value`` (two-proportion z-test) against the
        taxonomy run (empty unless the run used ``--taxonomy``; empty for new topics).
        ``mentions``: rows that raise the topic, as primary or other topic (``other_topic_ids``).
        ``rating_mean``, ``rating_mean_rest``, ``rating_ci_low``, ``rating_ci_high``,
        ``rating_impact``: the rating drivers (:mod:`pipeline.explore.drivers`; empty without a
        rating column).
        ``sentiment_negative_share``, ``sentiment_neutral_share``, ``sentiment_positive_share``
        (0..1 over the topic's rows; empty when the run has no sentiment).
        ``alert`` (``up``/``down``: the latest period's share is beyond 2 sd of the recent mean;
        ``""`` otherwise) and ``alert_z`` (that distance in sd), for runs with a date column
        (:func:`pipeline.compare.latest_alerts`; empty without one).
        ``example_counts``: the rows each example stands for (its near-duplicate group, joined
        like ``examples``); ``near_duplicate_groups``: the topic's biggest groups of texts that say
        the same thing, as ``"37: text"`` joined with :data:`EXAMPLE_SEPARATOR`. With
        ``--collapse-near-duplicates`` ``size`` and ``share`` count one row per group.
    """
    from pipeline.near_duplicates import row_groups, top_groups

    _, group_count = row_groups(result)
    biggest = top_groups(result)
    theme_of = result.topic_themes()
    theme_names = result.theme_names()
    records = []
    for topic in ordered_topics(result):
        records.append(
            {
                "topic_id": topic.id,
                "name": topic.name,
                "size": topic.size,
                "share": round(float(topic.share), 4),
                "keywords": KEYWORD_SEPARATOR.join(word for word, _ in topic.keywords),
                "examples": EXAMPLE_SEPARATOR.join(example_texts(result, topic)),
                "languages": format_languages(topic.languages),
                "theme_id": theme_of.get(topic.id, OUTLIER) if theme_of else pd.NA,
                "theme_name": theme_names.get(theme_of.get(topic.id, OUTLIER), "") if theme_of else "",
                "keywords_original": KEYWORD_SEPARATOR.join(
                    word for word, _ in (topic.keywords_original or topic.keywords)
                ),
                "example_counts": EXAMPLE_SEPARATOR.join(
                    str(int(group_count[row])) if 0 <= row < len(group_count) else ""
                    for row in topic.examples[:N_EXAMPLES]
                ),
                "near_duplicate_groups": EXAMPLE_SEPARATOR.join(
                    f"{count}: {_row_text(result, row)}" for row, count in biggest.get(topic.id, [])
                ),
            }
        )
    _add_comparison(result, records)
    from pipeline.explore.drivers import add_topic_columns
    from pipeline.multitopic import mention_counts

    mentions = mention_counts(result)  # rows that raise the topic, as primary or other topic
    for record in records:
        record["mentions"] = mentions.get(int(record["topic_id"]), 0)
    add_topic_columns(result, records)
    shares = topic_shares(result)
    for record in records:
        record.update(shares.get(int(record["topic_id"]), {}))
    frame = pd.DataFrame.from_records(records, columns=list(TOPIC_COLUMNS))
    frame["theme_id"] = pd.array(frame["theme_id"].tolist(), dtype="Int64")
    return frame.astype({"topic_id": "int64", "size": "int64", "share": "float64"})


def _add_comparison(result: RunResult, records: list[dict[str, Any]]) -> None:
    """``origin`` and the comparison with the taxonomy run (:mod:`pipeline.compare`)."""
    from pipeline.compare import taxonomy_comparison

    info = result.manifest.get("taxonomy") or {}
    origin = info.get("origin", {})
    comparison = taxonomy_comparison(result)
    by_id = comparison.set_index("topic_id") if comparison is not None else None
    for record in records:
        topic_id = int(record["topic_id"])
        record["origin"] = "" if topic_id < 0 else origin.get(str(topic_id), "new")
        row = by_id.loc[topic_id] if by_id is not None and topic_id in by_id.index else None
        for column in ("share_before", "share_change", "p_value"):
            record[column] = float(row[column]) if row is not None else float("nan")
    from pipeline.compare import latest_alerts

    alerts = latest_alerts(result)
    by_topic = alerts[0].set_index("topic_id") if alerts is not None else None
    for record in records:
        topic_id = int(record["topic_id"])
        hit = by_topic.loc[topic_id] if by_topic is not None and topic_id in by_topic.index else None
        record["alert"] = str(hit["alert"]) if hit is not None else ""
        record["alert_z"] = float(hit["z_score"]) if hit is not None else float("nan")


def themes_frame(result: RunResult) -> pd.DataFrame:
    """One row per theme, biggest first, outliers (``theme_id`` -1) last.

    Returns:
        Columns ``theme_id``, ``name``, ``size``, ``share``, ``keywords`` (``"; "``-separated),
        ``topic_ids`` (``"; "``-separated), ``topics`` (their names, ``"; "``-separated) and the
        three sentiment share columns, as in :func:`topics_frame`.
    """
    names = result.topic_names()
    themes = sorted(result.themes, key=lambda t: (t.id == OUTLIER, -t.size, t.id))
    records = [
        {
            "theme_id": theme.id,
            "name": theme.name,
            "size": theme.size,
            "share": round(float(theme.share), 4),
            "keywords": KEYWORD_SEPARATOR.join(word for word, _ in theme.keywords),
            "topic_ids": KEYWORD_SEPARATOR.join(str(t) for t in theme.topic_ids),
            "topics": KEYWORD_SEPARATOR.join(names.get(t, str(t)) for t in theme.topic_ids),
        }
        for theme in themes
    ]
    shares = theme_shares(result)
    for record, theme in zip(records, themes, strict=True):
        record.update(shares.get(theme.id, {}))
    frame = pd.DataFrame.from_records(records, columns=list(THEME_COLUMNS))
    return frame.astype({"theme_id": "int64", "size": "int64", "share": "float64"})


def row_issues_frame(result: RunResult) -> pd.DataFrame:
    """Every row that was excluded or altered, and file-level issues, with its reason.

    Args:
        result: A finished run.

    Returns:
        Columns ``row`` (``-1`` for file-level issues), ``line`` (1-based line in the file, ``<NA>``
        when unknown), ``kind`` (``excluded``, ``altered`` or ``file``), ``reason``, ``detail``;
        sorted by row.
    """
    lines: dict[int, int] = {}
    details: dict[tuple[int, str], str] = {}
    for issue in (*result.load_report.issues, *result.documents.issues):
        if issue.row >= 0 and issue.line > 0:
            lines.setdefault(issue.row, issue.line)
        details.setdefault((issue.row, issue.reason), issue.detail)

    records: list[dict[str, Any]] = []
    excluded_reasons: set[tuple[int, str]] = set()
    for row, status in enumerate(result.documents.status):
        if status == STATUS_OK:
            continue
        reason = status.split(":", 1)[0]
        excluded_reasons.add((row, reason))
        detail = details.get((row, reason), "")
        if status.startswith("duplicate_of:"):
            detail = detail or f"same text as row {status.split(':', 1)[1]}; takes its topic"
        records.append(
            {"row": row, "line": lines.get(row), "kind": "excluded", "reason": status, "detail": detail}
        )
    for issue in (*result.load_report.issues, *result.documents.issues):
        if (issue.row, issue.reason) in excluded_reasons:
            continue
        records.append(
            {
                "row": issue.row,
                "line": issue.line if issue.line > 0 else lines.get(issue.row),
                "kind": "file" if issue.row < 0 else "altered",
                "reason": issue.reason,
                "detail": issue.detail,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(ROW_ISSUE_COLUMNS))
    frame = frame.astype(
        {"row": "int64", "line": "Int64", "kind": object, "reason": object, "detail": object}
    )
    return frame.sort_values(["row", "kind"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------ helpers
def ordered_topics(result: RunResult) -> list[Topic]:
    """Topics biggest first (ties by id), the outlier topic last."""
    return sorted(result.topics, key=lambda t: (t.id == OUTLIER, -t.size, t.id))


def example_texts(result: RunResult, topic: Topic, *, limit: int = N_EXAMPLES) -> list[str]:
    """The texts of a topic's representative rows (analysis text, else the original cell)."""
    texts = result.documents.texts
    column = result.documents.text_column
    original = result.table[column] if column in result.table.columns else None
    out: list[str] = []
    for row in topic.examples[:limit]:
        text = texts[row] if 0 <= row < len(texts) else ""
        if not text and original is not None and 0 <= row < len(original):
            text = str(original.iloc[row])
        out.append(text)
    return out


def _row_text(result: RunResult, row: int) -> str:
    """The analysis text of a row (else its original cell)."""
    text = result.documents.texts[row] if 0 <= row < result.documents.n_rows else ""
    column = result.documents.text_column
    if not text and column in result.table.columns and 0 <= row < len(result.table):
        text = str(result.table[column].iloc[row])
    return text


def format_languages(counts: Mapping[str, int]) -> str:
    """``{"en": 12, "zh": 5}`` -> ``"en: 12; zh: 5"`` (most frequent first, then by code)."""
    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    return KEYWORD_SEPARATOR.join(f"{lang or 'und'}: {int(n)}" for lang, n in ordered)


def _topic_names(result: RunResult) -> dict[int, str]:
    names = result.topic_names()
    names.setdefault(OUTLIER, OUTLIER_NAME)
    return names


def _dedupe_input_names(names: list[str], *, taken: set[str]) -> list[str]:
    """Rename input columns that clash with ours (or repeat an earlier input name) with a suffix.

    Input names that do not clash are kept as they are and never displaced by a renamed column.
    """
    used = set(taken) | set(names)
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        if name not in taken and name not in seen:
            seen.add(name)
            out.append(name)
            continue
        candidate = f"{name}{INPUT_SUFFIX}"
        n = 2
        while candidate in used:
            candidate = f"{name}{INPUT_SUFFIX}{n}"
            n += 1
        used.add(candidate)
        out.append(candidate)
    return out


def neutralise_cell(value: str) -> str:
    """Prefix ``'`` to a text cell a spreadsheet would run as a formula (OWASP rule).

    Plain numbers such as ``-1`` or ``+2.5`` are returned unchanged: a spreadsheet reads them as the
    number and they cannot run anything.
    """
    if _FORMULA_START.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def _text_values(series: pd.Series) -> list[str]:
    """Cells of a non-numeric column as strings (missing values as ``""``)."""
    out: list[str] = []
    for value in series.tolist():
        if (
            value is None
            or value is pd.NA
            or value is pd.NaT
            or (isinstance(value, float) and math.isnan(value))
        ):
            out.append("")
        else:
            out.append(value if isinstance(value, str) else str(value))
    return out


def _number_values(series: pd.Series) -> list[str]:
    """Cells of a numeric column formatted as numbers (missing values as ``""``)."""
    out: list[str] = []
    for value in series.tolist():
        if value is None or value is pd.NA:
            out.append("")
        elif isinstance(value, float):
            out.append("" if math.isnan(value) else (f"{value:.0f}" if value.is_integer() else repr(value)))
        else:
            out.append(str(value))
    return out


# ---------------------------------------------------------------------------------------------- CSV
def to_csv_bytes(df: pd.DataFrame, *, bom: bool = True, header: bool = True) -> bytes:
    """Write a frame as formula-safe CSV (every field quoted, CRLF line ends).

    Args:
        df: Any frame (duplicate column names are kept as they are).
        bom: Start with a UTF-8 byte-order mark so Excel reads non-Latin text correctly; ``False``
            gives plain UTF-8.
        header: Write the header line (``False`` for the second and later parts of one file).

    Returns:
        The CSV file's bytes. Text cells and headers are neutralised with :func:`neutralise_cell`;
        numeric columns are written as numbers. Lone surrogates (which UTF-8 cannot hold) become
        U+FFFD.
    """
    columns: list[list[str]] = []
    for j in range(df.shape[1]):
        series = df.iloc[:, j]
        if _is_numeric(series):
            columns.append(_number_values(series))
        else:
            columns.append([neutralise_cell(v) for v in _text_values(series)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    if header:
        writer.writerow([neutralise_cell(str(c)) for c in df.columns])
    writer.writerows(zip(*columns, strict=True))
    text = buffer.getvalue()
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = _SURROGATE.sub("\ufffd", text).encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


# --------------------------------------------------------------------------------------------- XLSX
@dataclasses.dataclass
class _XlsxNotes:
    """What the XLSX writer had to change, reported in the run-info sheet."""

    control_chars: dict[str, int] = dataclasses.field(default_factory=dict)
    truncated: list[tuple[str, str, int, int]] = dataclasses.field(default_factory=list)
    split_sheets: list[str] = dataclasses.field(default_factory=list)
    columns_cut: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    """(sheet, columns in the data) for sheets wider than Excel's 16,384 columns."""


def _clean_for_xlsx(text: str, *, sheet: str, column: str, row: int, notes: _XlsxNotes) -> str:
    if "\r" in text:  # Excel breaks lines with LF; a CR would be stored as the escape _x000D_
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _XML_ILLEGAL.search(text):
        text, n = _XML_ILLEGAL.subn("", text)
        key = f"{sheet} / {column}"
        notes.control_chars[key] = notes.control_chars.get(key, 0) + n
    if len(text) > XLSX_MAX_CELL_CHARS // 2 and _utf16_len(text) > XLSX_MAX_CELL_CHARS:
        original = len(text)
        budget = XLSX_MAX_CELL_CHARS - len(TRUNCATION_MARK)
        cut = budget
        while _utf16_len(text[:cut]) > budget:
            cut -= 1
        text = text[:cut] + TRUNCATION_MARK
        notes.truncated.append((sheet, column, row, original))
    return text


def _utf16_len(text: str) -> int:
    """Length as Excel counts it (UTF-16 code units)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def to_xlsx_bytes(result: RunResult) -> bytes:
    """The topic report as an Excel workbook.

    Sheets: ``topics``, ``themes`` (the tree: each theme with its topics), ``assignments`` (split into ``assignments 2``... beyond Excel's row limit),
    ``row issues`` (excluded and altered rows) and ``run-info`` (run settings, ledger, and what the
    export itself had to change: removed control characters, truncated cells).

    Args:
        result: A finished run.

    Returns:
        The ``.xlsx`` file's bytes. Text is always stored as string cells.
    """
    import xlsxwriter

    notes = _XlsxNotes()
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    header = workbook.add_format({"bold": True, "bg_color": "#E8ECF4", "border": 0, "valign": "top"})
    formats = {
        "share": workbook.add_format({"num_format": "0.0%"}),
        **{column: workbook.add_format({"num_format": "0.0%"}) for column in SHARE_COLUMNS},
        "x": workbook.add_format({"num_format": "0.000"}),
        "y": workbook.add_format({"num_format": "0.000"}),
    }
    _write_sheet(workbook, "topics", topics_frame(result), notes=notes, header=header, formats=formats)
    if result.themes:
        _write_sheet(workbook, "themes", themes_frame(result), notes=notes, header=header, formats=formats)
    assignments = assignments_frame(result)
    data_rows = XLSX_MAX_ROWS - 1
    n_parts = max(1, math.ceil(len(assignments) / data_rows))
    for part in range(n_parts):
        name = "assignments" if part == 0 else f"assignments {part + 1}"
        chunk = assignments.iloc[part * data_rows : (part + 1) * data_rows]
        if n_parts > 1:
            notes.split_sheets.append(
                f"{name}: rows {part * data_rows} to {part * data_rows + len(chunk) - 1}"
            )
        _write_sheet(workbook, name, chunk, notes=notes, header=header, formats=formats)
    _write_sheet(
        workbook, "row issues", row_issues_frame(result), notes=notes, header=header, formats=formats
    )
    _write_run_info(workbook, result, notes=notes, header=header)
    workbook.close()
    if notes.truncated or notes.control_chars:
        logger.info(
            "XLSX export: %d cells truncated, %d control characters removed",
            len(notes.truncated),
            sum(notes.control_chars.values()),
        )
    return buffer.getvalue()


def _write_sheet(
    workbook: Any,
    name: str,
    frame: pd.DataFrame,
    *,
    notes: _XlsxNotes,
    header: Any,
    formats: Mapping[str, Any],
) -> None:
    sheet = workbook.add_worksheet(name)
    if frame.shape[1] > XLSX_MAX_COLUMNS:
        notes.columns_cut.append((name, frame.shape[1]))
        logger.warning(
            "XLSX export: sheet %s has %d columns; Excel holds %d", name, frame.shape[1], XLSX_MAX_COLUMNS
        )
        frame = frame.iloc[:, :XLSX_MAX_COLUMNS]
    for j, column in enumerate(frame.columns):
        label = _clean_for_xlsx(str(column), sheet=name, column="(header)", row=0, notes=notes)
        sheet.write_string(0, j, label, header)
    for j in range(frame.shape[1]):
        series = frame.iloc[:, j]
        column = str(frame.columns[j])
        fmt = formats.get(column)
        if _is_numeric(series):
            for i, value in enumerate(series.tolist(), start=1):
                if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
                    continue
                sheet.write_number(i, j, value, fmt)
            width = 10
        else:
            values = _text_values(series)
            # One regex pass over the joined column decides whether any cell needs cleaning.
            joined = "\n".join(values)
            needs_cleaning = (
                "\r" in joined
                or bool(_XML_ILLEGAL.search(joined))
                or any(len(v) > XLSX_MAX_CELL_CHARS // 2 for v in values)
            )
            write_string = sheet.write_string
            for i, value in enumerate(values, start=1):
                if value:
                    if needs_cleaning:
                        value = _clean_for_xlsx(value, sheet=name, column=column, row=i - 1, notes=notes)
                    write_string(i, j, value)
            longest = max((len(v) for v in values[:200]), default=0)
            width = min(60, max(10, len(column) + 2, longest))
        sheet.set_column(j, j, width)
    sheet.freeze_panes(1, 0)
    if frame.shape[1]:
        sheet.autofilter(0, 0, max(len(frame), 1), frame.shape[1] - 1)


def _flatten(prefix: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        if not value:
            yield prefix, "{}"
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
    elif isinstance(value, list | tuple):
        yield prefix, json.dumps(jsonable(value), ensure_ascii=False)
    else:
        yield prefix, jsonable(value)


def _write_run_info(workbook: Any, result: RunResult, *, notes: _XlsxNotes, header: Any) -> None:
    sheet = workbook.add_worksheet("run-info")
    sheet.set_column(0, 0, 38)
    sheet.set_column(1, 1, 70)
    rows: list[tuple[str, Any]] = list(_flatten("", result.manifest))
    if "ledger" not in result.manifest:
        rows.extend(_flatten("ledger", result.ledger.to_dict()))
    rows.append(("export.control_chars_removed", sum(notes.control_chars.values())))
    for where, count in sorted(notes.control_chars.items()):
        rows.append((f"export.control_chars_removed[{where}]", count))
    rows.append(("export.cells_truncated", len(notes.truncated)))
    for sheet_name, column, row, length in notes.truncated:
        rows.append(
            (
                f"export.truncated[{sheet_name} / {column} / row {row}]",
                f"{length} characters cut to Excel's limit of {XLSX_MAX_CELL_CHARS}; the CSV and JSON exports "
                "keep the full text",
            )
        )
    rows.extend(("export.assignments_split", line) for line in notes.split_sheets)
    for sheet_name, width in notes.columns_cut:
        rows.append(
            (
                f"export.columns_cut[{sheet_name}]",
                f"{width:,} columns; Excel holds {XLSX_MAX_COLUMNS:,}, so the last "
                f"{width - XLSX_MAX_COLUMNS:,} are left out here; the CSV and JSON exports keep them all",
            )
        )
    sheet.write_string(0, 0, "key", header)
    sheet.write_string(0, 1, "value", header)
    scratch = _XlsxNotes()  # run-info's own cleaning is not reported inside itself
    for i, (key, value) in enumerate(rows, start=1):
        sheet.write_string(i, 0, _clean_for_xlsx(key, sheet="run-info", column="key", row=i, notes=scratch))
        if isinstance(value, bool) or value is None:
            sheet.write_string(i, 1, json.dumps(value))
        elif isinstance(value, int | float) and math.isfinite(value):
            sheet.write_number(i, 1, value)
        else:
            text = str(value)
            sheet.write_string(
                i, 1, _clean_for_xlsx(text, sheet="run-info", column="value", row=i, notes=scratch)
            )
    sheet.freeze_panes(1, 0)


# --------------------------------------------------------------------------------------------- JSON
def jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, arrays, dataclasses, paths and dates into plain JSON values.

    NaN and infinities become ``None`` (JSON has no NaN); unknown objects become their ``str``.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def to_json_bytes(result: RunResult) -> bytes:
    """Topics, assignments and run information as one UTF-8 JSON document for other tools.

    Shape::

        {"format": "feedback-topics/1", "run": {...run.json...}, "ledger": {...},
         "topics": [{"id", "name", "size", "share", "keywords": [{"word", "weight"}],
                     "examples": [{"row", "text"}], "languages": {code: count}, "theme_id",
                     "sentiment": {"sentiment_negative_share", ...} or null}],
         "themes": [{"id", "name", "size", "share", "keywords": [{"word", "weight"}], "topic_ids",
                     "sentiment"}],
         "assignments": [{"row", "topic_id", "topic_name", "language", "status", "x", "y",
                          "theme_id", "theme_name", "sentiment", "sentiment_score",
                          "input": {column: value}}],
         "row_issues": [{"row", "line", "kind", "reason", "detail"}]}

    ``topic_id``, ``x`` and ``y`` are ``null`` for excluded rows. Input columns keep their original
    names under ``input``.
    """
    topics = []
    topic_sentiment, theme_sentiment = topic_shares(result), theme_shares(result)
    for topic in ordered_topics(result):
        texts = example_texts(result, topic)
        topics.append(
            {
                "id": int(topic.id),
                "name": topic.name,
                "size": int(topic.size),
                "share": float(topic.share),
                "keywords": [{"word": w, "weight": float(s)} for w, s in topic.keywords],
                "examples": [{"row": int(r), "text": t} for r, t in zip(topic.examples, texts, strict=False)],
                "languages": {str(k): int(v) for k, v in topic.languages.items()},
                "theme_id": result.topic_themes().get(topic.id),
                "keywords_original": [
                    {"word": w, "weight": float(s)} for w, s in (topic.keywords_original or topic.keywords)
                ],
                "sentiment": topic_sentiment.get(topic.id),
            }
        )
    themes = [
        {
            "id": int(theme.id),
            "name": theme.name,
            "size": int(theme.size),
            "share": float(theme.share),
            "keywords": [{"word": w, "weight": float(s)} for w, s in theme.keywords],
            "topic_ids": [int(t) for t in theme.topic_ids],
            "sentiment": theme_sentiment.get(theme.id),
        }
        for theme in sorted(result.themes, key=lambda t: (t.id == OUTLIER, -t.size, t.id))
    ]
    frame = assignments_frame(result)
    own = [_text_or_none(frame[name].tolist()) for name in ASSIGNMENT_COLUMNS]
    table = result.table.reset_index(drop=True)
    input_names = [str(c) for c in table.columns]
    input_values = [_text_or_none(table.iloc[:, j].tolist()) for j in range(table.shape[1])]
    # Plain Python values already (ints, floats without NaN, str, None): no per-value conversion.
    input_rows = list(zip(*input_values, strict=True)) if input_values else [()] * len(frame)
    assignments = [
        {
            **dict(zip(ASSIGNMENT_COLUMNS, own_row, strict=True)),
            "input": dict(zip(input_names, input_row, strict=True)),
        }
        for own_row, input_row in zip(zip(*own, strict=True), input_rows, strict=True)
    ]
    issues = jsonable(row_issues_frame(result).to_dict(orient="records"))
    document = {
        "format": "feedback-topics/1",
        "run": jsonable(result.manifest),
        "ledger": jsonable(result.ledger.to_dict()),
        "topics": jsonable(topics),
        "themes": jsonable(themes),
        "assignments": assignments,
        "row_issues": issues,
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=jsonable)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def _text_or_none(values: list[Any]) -> list[Any]:
    return [
        None if (v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))) else v for v in values
    ]
