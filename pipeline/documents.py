"""Text preparation: pick the text column, clean each text for analysis, mark empty and duplicate rows.

The original cells stay untouched in :attr:`LoadedTable.frame` (for export); :class:`Documents`
holds the analysis text. Cleaning is Unicode NFC, removal of control characters, NUL, bidi
controls and zero-width characters, whitespace collapsed and trimmed. Rows that were changed by
the removal or cut to ``max_chars`` are recorded in :attr:`Documents.issues`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd

from pipeline.errors import LoadError
from pipeline.types import STATUS_OK, Documents, LoadedTable, RowIssue

_INVISIBLE = (
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u061c"  # Arabic letter mark
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u180e"  # Mongolian vowel separator
    "\u200b"  # zero-width space
    "\u200e\u200f"  # LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2060\u2061\u2062\u2063\u2064"  # word joiner, invisible operators
    "\u2066\u2067\u2068\u2069"  # bidi isolates
    "\u206a\u206b\u206c\u206d\u206e\u206f"  # deprecated format characters
    "\ufeff"  # zero-width no-break space / BOM
    "\ufff9\ufffa\ufffb"  # interlinear annotation
)
"""Removed for analysis. ZWJ (U+200D) and ZWNJ (U+200C) are kept: they carry meaning in emoji
sequences and in Persian/Indic spelling."""
_WHITESPACE_CONTROLS = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_REMOVE_TABLE: dict[int, str | None] = {
    **{c: None for c in range(0x00, 0x20) if chr(c) not in _WHITESPACE_CONTROLS},
    0x7F: None,
    **{c: None for c in range(0x80, 0xA0) if c != 0x85},
    **{ord(c): None for c in _INVISIBLE},
}
_NEEDS_REMOVAL = re.compile("[" + re.escape("".join(chr(c) for c in _REMOVE_TABLE)) + "]")
_CLEAN_ASCII = re.compile(r"[\x20-\x7e]*")
_WORD = re.compile(r"[^\W_]")

_NAME_HINTS = (
    "text",
    "comment",
    "feedback",
    "review",
    "message",
    "body",
    "content",
    "description",
    "answer",
    "response",
    "verbatim",
    "opinion",
    "remark",
    "note",
    "评论",
    "内容",
    "反馈",
    "コメント",
    "本文",
    "내용",
)
_NOT_TEXT = re.compile(
    r"^\s*("
    r"[-+]?[\d.,\s%/:]+"  # numbers, ratings, percentages, simple dates and times
    r"|\d{4}-\d{2}-\d{2}([ T][\d:.+\-Z]+)?"  # ISO dates
    r"|[0-9a-fA-F-]{8,}"  # hex ids, UUIDs
    r"|[A-Za-z]{0,4}[-_#]?\d+[-_\w]*"  # ticket ids like AB-1234
    r"|\S+@\S+\.\w+"  # e-mail addresses
    r"|https?://\S+"  # URLs
    r"|true|false|yes|no|y|n"
    r")\s*$",
    re.IGNORECASE,
)


def normalise_text(s: str) -> str:
    """Clean one text for analysis.

    Unicode NFC; control characters, NUL, bidi controls and zero-width characters removed; tabs,
    line breaks and runs of any Unicode whitespace collapsed to one space; trimmed.

    Args:
        s: The raw cell text.

    Returns:
        The normalised text (``""`` when nothing is left).
    """
    if _CLEAN_ASCII.fullmatch(s) and "  " not in s:
        return s.strip(" ")
    if _NEEDS_REMOVAL.search(s):
        s = s.translate(_REMOVE_TABLE)
    if not s.isascii() and not unicodedata.is_normalized("NFC", s):
        s = unicodedata.normalize("NFC", s)
    return " ".join(s.split())


def detect_text_column(frame: pd.DataFrame) -> tuple[str, str]:
    """Choose the column that looks most like free text.

    Free text is long, varied and has many words; ids, dates, ratings, channels and other short,
    repetitive or numeric columns score low. A column name such as ``comment`` or ``review`` is a
    tie-breaker, not a rule.

    Args:
        frame: The loaded table (all cells strings).

    Returns:
        ``(column, reason)``, where ``reason`` is one short sentence for the analyst.

    Raises:
        LoadError: The table has no column with any text (``code="no_text_column"``).
    """
    if len(frame.columns) == 0:
        raise LoadError("The table has no columns to analyse.", code="no_text_column")
    sample = frame.head(2000)
    best: tuple[float, str, str] | None = None
    for column in sample.columns:
        values = [str(v) for v in sample[column].tolist() if isinstance(v, str) and v.strip()]
        if not values:
            continue
        n = len(values)
        mean_len = sum(len(v) for v in values) / n
        words = sum(len(v.split()) for v in values) / n
        cjk = (
            sum(1 for v in values if re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]", v))
            / n
        )
        if cjk > 0.3:
            words = max(words, mean_len / 2)
        distinct = len(set(values)) / n
        not_text = sum(1 for v in values if _NOT_TEXT.match(v)) / n
        filled = n / max(1, len(sample))
        score = (
            (1.0 - not_text) ** 2 * (0.2 + distinct) * np.log1p(mean_len) * np.log1p(words) * (0.5 + filled)
        )
        name = str(column).lower()
        if any(hint in name for hint in _NAME_HINTS):
            score *= 1.5
        if score <= 0:
            continue
        reason = (
            f"'{column}' looks most like free text: {mean_len:.0f} characters and {words:.1f} words on "
            f"average, {distinct:.0%} distinct values"
        )
        if best is None or score > best[0]:
            best = (float(score), str(column), reason)
    if best is None:
        raise LoadError(
            "No column looks like free text (all are empty, numbers, dates or ids). Choose the text "
            f"column explicitly; columns: {', '.join(map(str, frame.columns))}.",
            code="no_text_column",
        )
    return best[1], best[2] + "."


def prepare_documents(
    table: LoadedTable, *, text_column: str | None = None, max_chars: int = 2000
) -> Documents:
    """Build the analysis texts and row statuses from a loaded table.

    Statuses: ``bad_line`` (from the loader), ``empty`` (no letter, digit or symbol left after
    normalisation; emoji count as content, punctuation alone does not), ``no_answer`` (a placeholder
    such as "N/A", "n/a", "null" or "no comment" instead of an answer), ``duplicate_of:<row>``
    (the same normalised text as an earlier row, which carries the topic), else ``ok``.

    Args:
        table: The loaded table.
        text_column: Column holding the feedback; ``None`` auto-detects it.
        max_chars: Texts are cut to this many characters for the model (recorded as ``truncated``).

    Returns:
        One text and status per row, plus the issues of rows whose text was altered.

    Raises:
        LoadError: ``text_column`` is not a column (``code="unknown_column"``, the message lists them),
            or no column looks like text when auto-detecting.
    """
    frame = table.frame
    if text_column is None:
        text_column, reason = detect_text_column(frame)
    else:
        if text_column not in frame.columns:
            raise LoadError(
                f"There is no column named {text_column!r}. Columns: "
                f"{', '.join(repr(str(c)) for c in frame.columns)}.",
                code="unknown_column",
            )
        reason = "given"
    raw = frame[text_column].tolist()
    loader_status = table.row_status
    texts: list[str] = []
    status: list[str] = []
    issues: list[RowIssue] = []
    first_seen: dict[str, int] = {}
    lines = _line_lookup(table)
    clean_ascii = _CLEAN_ASCII.fullmatch
    needs_removal = _NEEDS_REMOVAL.search
    has_content = _has_content
    for row, value in enumerate(raw):
        if loader_status[row] != STATUS_OK:
            texts.append("")
            status.append(loader_status[row])
            continue
        s = value if isinstance(value, str) else ("" if value is None or value != value else str(value))
        if clean_ascii(s) and "  " not in s:
            text = s.strip(" ")
        else:
            if needs_removal(s):
                removed = len(s) - len(s.translate(_REMOVE_TABLE))
                issues.append(
                    RowIssue(
                        row,
                        lines(row),
                        "control_chars",
                        f"removed {removed} control, bidi or zero-width character(s)",
                    )
                )
            text = normalise_text(s)
        if len(text) > max_chars:
            issues.append(
                RowIssue(row, lines(row), "truncated", f"{len(text):,} characters cut to {max_chars:,}")
            )
            text = text[:max_chars].rstrip()
        if not text or not has_content(text):
            texts.append(text)
            status.append("empty")
            continue
        if len(text) <= _PLACEHOLDER_MAX and _is_placeholder(text):
            texts.append(text)
            status.append(NO_ANSWER)
            continue
        first = first_seen.setdefault(text, row)
        texts.append(text)
        status.append(STATUS_OK if first == row else f"duplicate_of:{first}")
    return Documents(
        texts=tuple(texts),
        status=tuple(status),
        text_column=str(text_column),
        text_column_reason=reason,
        issues=tuple(issues),
    )


NO_ANSWER = "no_answer"
"""Row status of a placeholder instead of an answer ("N/A", "n/a", "null", "-", "no comment"...)."""
_PLACEHOLDER_MAX = 24
_PLACEHOLDERS = frozenset(
    {
        "n/a", "na", "n.a.", "n.a", "n/a.", "#n/a", "n / a", "not applicable", "null", "nil", "nan",
        "no comment", "no comments", "none given", "no answer", "k.a.", "keine angabe", "s/o", "s.o.",
        "sans objet", "sin comentarios", "无", "暂无", "无意见", "不适用", "なし", "特になし", "해당없음", "없음",
    }
)  # fmt: skip


def _is_placeholder(text: str) -> bool:
    """A short text that only says there is no answer (compared case-folded, outer punctuation off)."""
    folded = " ".join(text.casefold().split()).strip(" .!-–—_*()[]\"'")
    return folded in _PLACEHOLDERS or text.strip().casefold() in _PLACEHOLDERS


def _line_lookup(table: LoadedTable) -> Callable[[int], int]:
    """Row -> 1-based file line where the loader recorded one (``0`` = unknown)."""
    known = {issue.row: issue.line for issue in table.report.issues if issue.row >= 0}
    return lambda row: known.get(row, 0)


def _has_content(text: str) -> bool:
    """True when the text has a letter or digit, or a symbol such as an emoji (not just punctuation)."""
    if _WORD.search(text):
        return True
    return any(unicodedata.category(ch) in ("So", "Sc") for ch in text)
