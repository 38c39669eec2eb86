"""Nearest-neighbour search over a run's vectors: an exact scan, or an HNSW index for large runs.

Below :data:`EXACT_MAX` vectors a matrix product is fast and exact, so no index is built. Above it
an HNSW graph (``usearch``; chosen over FAISS by ``bench/search_quality.py --index``) answers in
milliseconds; it is saved next to the run's data (``data/search_index.usearch`` plus a small
JSON stamp) and reused while the run's vectors are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.search.dense import dense_scores, top_k

logger = logging.getLogger(__name__)

EXACT_MAX = 100_000
"""Runs with at most this many unique texts are searched by an exact scan."""
INDEX_FILE = "search_index.usearch"
STAMP_FILE = "search_index.json"
HNSW_PARAMS: dict[str, Any] = {"connectivity": 16, "expansion_add": 128, "expansion_search": 256}


def fingerprint(vectors: np.ndarray) -> str:
    """A cheap identity of a vector matrix (shape plus a strided sample of rows)."""
    digest = hashlib.sha256(str(vectors.shape).encode())
    step = max(1, len(vectors) // 4096)
    digest.update(np.ascontiguousarray(vectors[::step], dtype=np.float32).tobytes())
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class VectorIndex:
    """Top-k cosine search over unit ``vectors``: exact, or through an HNSW ``graph``."""

    vectors: np.ndarray
    graph: Any = None

    @property
    def kind(self) -> str:
        return "exact" if self.graph is None else "hnsw"

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and cosine similarities of (about) the ``k`` nearest vectors, best first."""
        n = len(self.vectors)
        k = min(k, n)
        if self.graph is None or k <= 0:
            scores = dense_scores(self.vectors, query)
            best = top_k(scores, k)
            return best, scores[best]
        matches = self.graph.search(np.asarray(query, dtype=np.float32), k)
        keys = np.asarray(matches.keys, dtype=np.int64)
        keep = (keys >= 0) & (keys < n)
        keys = keys[keep]
        sims = dense_scores(self.vectors[keys], query) if len(keys) else np.zeros(0, dtype=np.float32)
        order = np.lexsort((keys, -sims))
        return keys[order], sims[order]


def _build_graph(vectors: np.ndarray) -> Any:
    from usearch.index import Index

    graph = Index(ndim=vectors.shape[1], metric="cos", dtype="f16", **HNSW_PARAMS)
    graph.add(np.arange(len(vectors), dtype=np.uint64), np.asarray(vectors, dtype=np.float32), threads=0)
    return graph


def vector_index(
    vectors: np.ndarray, *, folder: Path | None = None, exact_max: int = EXACT_MAX
) -> VectorIndex:
    """The index for ``vectors``: exact up to ``exact_max`` rows, else HNSW.

    Args:
        vectors: Unit rows ``(n, dim)``.
        folder: Where to read/save the HNSW index (a run's ``data`` folder); ``None`` = memory only.
        exact_max: Largest matrix searched by an exact scan.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) <= exact_max:
        return VectorIndex(vectors=vectors)
    stamp = {"fingerprint": fingerprint(vectors), "params": HNSW_PARAMS, "backend": "usearch"}
    if folder is not None and (folder / INDEX_FILE).is_file() and (folder / STAMP_FILE).is_file():
        try:
            if json.loads((folder / STAMP_FILE).read_text(encoding="utf-8")) == stamp:
                from usearch.index import Index

                graph = Index.restore(str(folder / INDEX_FILE))
                if graph is not None and len(graph) == len(vectors):
                    logger.info("search index reused from %s", folder)
                    return VectorIndex(vectors=vectors, graph=graph)
        except (OSError, ValueError, RuntimeError):
            logger.warning("search index in %s unreadable; rebuilding it", folder, exc_info=True)
    graph = _build_graph(vectors)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            graph.save(str(folder / INDEX_FILE))
            (folder / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
        except OSError:
            logger.warning("could not save the search index in %s", folder, exc_info=True)
    return VectorIndex(vectors=vectors, graph=graph)
