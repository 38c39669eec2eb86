"""Dense retrieval: cosine similarity between the query's vector and the run's stored vectors.

:func:`dense_scores` is the building block of :func:`pipeline.search.search_run`; :func:`search`
is the original one-query search of the dashboard (kept with its columns for existing callers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError, DataError
from pipeline.types import RunResult


def run_texts(result: RunResult) -> pd.Series:
    """The original text per row (from the text column), as strings."""
    column = result.documents.text_column
    if column in result.table.columns:
        return result.table[column].astype(str)
    return pd.Series(result.documents.texts, dtype=str)


def embed_query(queries: list[str], *, embedder: Any, dim: int, model: str) -> np.ndarray:
    """Unit query vectors ``(len(queries), dim)``, with the model's query prompt.

    Raises:
        ConfigError: When the embedder's dimension differs from the run's (``dim_mismatch``).
    """
    q = np.asarray(embedder.embed(list(queries), kind="query"), dtype=np.float32).reshape(len(queries), -1)
    if q.shape[1] != dim:
        raise ConfigError(
            f"The search model gives {q.shape[1]}-dimensional vectors but this run was embedded "
            f"with {dim} dimensions; search with the run's model ({model}).",
            code="dim_mismatch",
        )
    norms = np.linalg.norm(q, axis=1, keepdims=True)
    return q / np.where(norms > 0, norms, 1.0)


def dense_scores(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Cosine similarity of every (unit) row of ``vectors`` with one unit ``query`` vector."""
    return np.asarray(vectors @ query, dtype=np.float32)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first (ties by position)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-scores, k - 1)[:k]
    order = np.lexsort((best, -scores[best]))
    return best[order].astype(np.int64)


def search(result: RunResult, query: str, *, embedder: Any, top_k: int = 20) -> pd.DataFrame:
    """The feedback most similar to a free-text query, with the run's own model.

    Args:
        result: The run (its ``embeddings.vectors`` are searched).
        query: Text in any language; embedded with the model's query prompt.
        embedder: The embedder that produced the run's vectors (same model, same dimension).
        top_k: How many results to return.

    Returns:
        Columns ``rank``, ``similarity``, ``row``, ``topic_id``, ``topic``, ``text``, best first.
        Duplicate rows are represented by their first occurrence.

    Raises:
        ConfigError: When the query is empty or the embedder does not match the run.
    """
    query = query.strip()
    if not query:
        raise ConfigError("Type something to search for.", code="empty_query")
    vectors = np.asarray(result.embeddings.vectors, dtype=np.float32)
    if vectors.size == 0:
        raise DataError("This run has no stored embeddings to search.", code="no_embeddings")
    q = embed_query([query], embedder=embedder, dim=vectors.shape[1], model=result.embeddings.model)
    scores = dense_scores(vectors, q[0])
    best = _top(scores, top_k)
    unique_rows = result.documents.unique_rows
    labels = result.clustering.labels
    names = result.topic_names()
    texts = run_texts(result)
    rows = unique_rows[best]
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(best) + 1),
            "similarity": scores[best].astype(float),
            "row": rows,
            "topic_id": labels[best].astype(int),
            "topic": [names.get(int(t), str(t)) for t in labels[best]],
            "text": [texts.iloc[r] for r in rows],
        }
    )


_top = top_k
