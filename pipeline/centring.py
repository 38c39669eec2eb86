"""Take the language out of the embedding space before topics are found.

Multilingual models place each language a little apart (a per-language offset), so texts on one
subject in two languages can land in two topics. Shifting every sufficiently large language group
so that its mean sits on the file's overall mean, then re-normalising, removes that offset:
on m_absa (21 languages, 7 domains, 3,000 rows, USE-m, three seeds) it took the agreement of the
topics with the language from AMI 0.351 to 0.176 and with the domain from 0.255 to 0.299
(``python bench/quality.py --datasets m_absa``). Only the space the topics are found in is
shifted; search, examples and stored embeddings keep the model's own vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MIN_ROWS = 20
"""Languages with fewer distinct texts than this are left as they are (their mean is too noisy)."""


def centre_languages(
    vectors: np.ndarray, languages: Sequence[str], *, min_rows: int = MIN_ROWS
) -> tuple[np.ndarray, dict[str, Any]]:
    """Shift each language's mean onto the overall mean (see module doc).

    Args:
        vectors: ``(n, dim)`` unit vectors.
        languages: Language code per vector.
        min_rows: Smallest language group that is shifted.

    Returns:
        ``(vectors, params)``: new unit vectors (the input is not changed; it is returned as is when
        fewer than two languages are large enough), and what was done for ``run.json``.
    """
    shifts = language_shifts(vectors, languages, min_rows=min_rows)
    params: dict[str, Any] = {"method": "per-language mean shift", "min_rows": min_rows, "languages": []}
    if not shifts:
        params["method"] = "none (fewer than two languages with enough texts)"
        return vectors, params
    params["languages"] = list(shifts)
    logger.info("centred %d languages before reducing", len(shifts))
    return shift_languages(vectors, languages, shifts), params


def language_shifts(
    vectors: np.ndarray, languages: Sequence[str] | np.ndarray, *, min_rows: int = MIN_ROWS
) -> dict[str, np.ndarray]:
    """Each language with at least ``min_rows`` vectors: its mean minus the overall mean; ``{}`` when
    fewer than two languages are that large. A streamed Ray run applies its fitted sample's shifts to
    every other row (:func:`shift_languages`)."""
    codes = np.asarray(languages, dtype=object)
    if len(codes) != len(vectors):
        raise ValueError(f"languages ({len(codes)}) and vectors ({len(vectors)}) differ in length")
    known = codes[(codes != "") & (codes != "und")]
    values, counts = np.unique(known.astype(str), return_counts=True)
    shifted = [str(v) for v, c in zip(values.tolist(), counts.tolist(), strict=True) if c >= min_rows]
    if len(shifted) < 2:
        return {}
    vectors = np.asarray(vectors, dtype=np.float32)
    overall = vectors.mean(axis=0)
    return {code: vectors[codes == code].mean(axis=0) - overall for code in shifted}


def shift_languages(
    vectors: np.ndarray, languages: Sequence[str] | np.ndarray, shifts: dict[str, np.ndarray]
) -> np.ndarray:
    """``vectors`` with each language's shift taken off, re-normalised (the input is not changed;
    it is returned as is when ``shifts`` is empty)."""
    if not shifts:
        return vectors
    codes = np.asarray(languages, dtype=object)
    out = np.array(vectors, dtype=np.float32, copy=True)
    for code, shift in shifts.items():
        out[codes == code] -= shift
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.where(norms > 0, norms, 1.0)
    return out
