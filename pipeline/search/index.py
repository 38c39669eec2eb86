"""Nearest-neighbour search over a run's vectors: an exact scan, or a FAISS IVF index for large runs.

Below :data:`EXACT_MAX` vectors a matrix product is fast and exact, so no index is built. Above it
an inverted-file index (FAISS ``IndexIVFFlat``, inner product on unit vectors) scans only the
:data:`NPROBE` lists nearest the query. bench/search_quality.py --index chose it: on 120k real
512-d vectors (2 loaded cores) the exact scan takes 40 ms a query; HNSW graphs answer in 1.8 ms
(FAISS) or 5.3 ms (usearch) at recall@10 0.998 / 0.996 but take 183 s / 303 s to build, which a
first search on a 1M-row run would wait ~25 minutes for; IVF (692 lists, 32 probed) builds in
5.2 s and answers in 1.0 ms at recall@10 0.988 (figures in bench/results/search_quality.json). The index is saved next to the run's data
(``data/search_index.faiss`` plus a JSON stamp) and reused while the run's vectors are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.search.dense import dense_scores, top_k

logger = logging.getLogger(__name__)

EXACT_MAX = 100_000
"""Runs with at most this many unique texts are searched by an exact scan."""
INDEX_FILE = "search_index.faiss"
STAMP_FILE = "search_index.json"
NPROBE = 32
TRAIN_PER_LIST = 40


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: about ``2 * sqrt(n)``."""
    return max(1, min(n // TRAIN_PER_LIST, int(2 * math.sqrt(n))))


def fingerprint(vectors: np.ndarray) -> str:
    """A cheap identity of a vector matrix (shape plus a strided sample of rows)."""
    digest = hashlib.sha256(str(vectors.shape).encode())
    step = max(1, len(vectors) // 4096)
    digest.update(np.ascontiguousarray(vectors[::step], dtype=np.float32).tobytes())
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class VectorIndex:
    """Top-k cosine search over unit ``vectors``: exact, or through a FAISS ``ann`` index."""

    vectors: np.ndarray
    ann: Any = None

    @property
    def kind(self) -> str:
        return "exact" if self.ann is None else "ivf"

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and cosine similarities of (about) the ``k`` nearest vectors, best first."""
        n = len(self.vectors)
        k = min(k, n)
        if self.ann is None or k <= 0:
            scores = dense_scores(self.vectors, query)
            best = top_k(scores, k)
            return best, scores[best]
        _, found = self.ann.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
        keys = found[0].astype(np.int64)
        keys = keys[(keys >= 0) & (keys < n)]
        sims = dense_scores(self.vectors[keys], query) if len(keys) else np.zeros(0, dtype=np.float32)
        order = np.lexsort((keys, -sims))
        return keys[order], sims[order]


def build_ivf(vectors: np.ndarray, *, seed: int = 0) -> Any:
    """A trained and filled ``IndexIVFFlat`` over unit ``vectors`` (inner product)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    nlist = ivf_lists(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.choice(n, min(n, nlist * TRAIN_PER_LIST), replace=False))]
    index.cp.seed = seed
    index.train(sample)
    index.add(vectors)
    index.nprobe = NPROBE
    return index


def vector_index(
    vectors: np.ndarray, *, folder: Path | None = None, exact_max: int = EXACT_MAX
) -> VectorIndex:
    """The index for ``vectors``: exact up to ``exact_max`` rows, else IVF.

    Args:
        vectors: Unit rows ``(n, dim)``.
        folder: Where to read/save the index (a run's ``data`` folder); ``None`` = memory only.
        exact_max: Largest matrix searched by an exact scan.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) <= exact_max:
        return VectorIndex(vectors=vectors)
    import faiss

    stamp = {
        "fingerprint": fingerprint(vectors),
        "nlist": ivf_lists(len(vectors)),
        "backend": "faiss-ivf-flat",
    }
    if folder is not None and (folder / INDEX_FILE).is_file() and (folder / STAMP_FILE).is_file():
        try:
            if json.loads((folder / STAMP_FILE).read_text(encoding="utf-8")) == stamp:
                ann = faiss.read_index(str(folder / INDEX_FILE))
                if ann.ntotal == len(vectors):
                    ann.nprobe = NPROBE  # type: ignore[attr-defined]
                    logger.info("search index reused from %s", folder)
                    return VectorIndex(vectors=vectors, ann=ann)
        except (OSError, ValueError, RuntimeError):
            logger.warning("search index in %s unreadable; rebuilding it", folder, exc_info=True)
    ann = build_ivf(vectors)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            faiss.write_index(ann, str(folder / INDEX_FILE))
            (folder / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
        except (OSError, RuntimeError):
            logger.warning("could not save the search index in %s", folder, exc_info=True)
    return VectorIndex(vectors=vectors, ann=ann)
