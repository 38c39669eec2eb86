"""Stage ``embed``: texts to L2-normalised vectors, through the on-disk cache."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from pipeline.embedders.base import BatchProgress, Embedder, l2_normalise
from pipeline.embedders.cache import EmbeddingCache, text_hash
from pipeline.errors import EmbedError
from pipeline.types import Embeddings

logger = logging.getLogger(__name__)


def embed_texts(
    texts: Sequence[str],
    *,
    embedder: Embedder,
    cache: EmbeddingCache | None,
    progress: BatchProgress | None = None,
) -> Embeddings:
    """Embed ``texts``, computing only what the cache does not hold.

    Args:
        texts: The texts, usually ``Documents.texts`` at ``unique_rows``.
        embedder: A registry embedder.
        cache: The embedding cache, or ``None`` for no caching.
        progress: ``progress(done, total)`` in texts; cached texts count as done at once.

    Returns:
        ``Embeddings`` with float32 unit rows aligned with ``texts``, the embedder's ``model_id``
        and device, and the counts of cached, computed and over-long (truncated) texts.

    Raises:
        EmbedError: The model failed or returned vectors of the wrong shape.
    """
    texts = list(texts)
    n = len(texts)
    limit = embedder.max_chars_hint
    n_truncated = sum(len(t) > limit for t in texts) if limit else 0
    if n == 0:
        return Embeddings(np.zeros((0, embedder.dim), dtype=np.float32), embedder.model_id, embedder.device)

    hashes = [text_hash(t) for t in texts]
    vectors: np.ndarray | None = None
    found = np.zeros(n, dtype=bool)
    if cache is not None:
        found, cached = cache.get_many(embedder.model_id, hashes)
        if found.any():
            if cached.shape[1] != embedder.dim:
                logger.warning(
                    "cached vectors have %d dims, model has %d: ignoring them", cached.shape[1], embedder.dim
                )
                found[:] = False
            else:
                vectors = cached
    if vectors is None:
        vectors = np.zeros((n, embedder.dim), dtype=np.float32)
    n_cached = int(found.sum())

    # each distinct missing text is embedded once
    first_of: dict[str, int] = {}
    for i in np.flatnonzero(~found):
        first_of.setdefault(hashes[i], int(i))
    todo = list(first_of.values())
    logger.info(
        "embed: %d texts, %d cached, %d to compute with %s", n, n_cached, len(todo), embedder.model_id
    )
    done = n - len(todo)
    if progress:
        progress(done, n)
    # Cache misses are embedded and stored a call at a time, so an interrupted run keeps its work.
    step = max(1, int(embedder.texts_per_call))
    for start in range(0, len(todo), step):
        idx = todo[start : start + step]
        offset = done

        def report(d: int, _total: int, offset: int = offset) -> None:
            if progress:
                progress(offset + d, n)

        chunk = embedder.embed([texts[i] for i in idx], progress=report)
        chunk = np.asarray(chunk, dtype=np.float32)
        if chunk.shape != (len(idx), embedder.dim):
            raise EmbedError(
                f"The {embedder.name} model returned vectors of shape {chunk.shape} for {len(idx)} texts.",
                code="model_failed",
            )
        if not np.isfinite(chunk).all():
            raise EmbedError(
                f"The {embedder.name} model produced invalid numbers (NaN).", code="model_failed"
            )
        # Fresh vectors take the cache's float16 precision too, so a run gives bit-identical
        # topics whether its embeddings were just computed or read back from the cache.
        chunk = chunk.astype(np.float16).astype(np.float32)
        vectors[idx] = chunk
        if cache is not None:
            cache.put_many(embedder.model_id, [hashes[i] for i in idx], chunk)
        done += len(idx)
        if progress:
            progress(done, n)

    # duplicates of a computed text take its vector
    missing = np.flatnonzero(~found)
    for i in missing:
        j = first_of[hashes[i]]
        if j != i:
            vectors[i] = vectors[j]
    return Embeddings(
        vectors=l2_normalise(vectors, in_place=True),  # our own array
        model=embedder.model_id,
        device=embedder.device,
        n_cached=n_cached,
        n_computed=len(todo),
        n_truncated=n_truncated,
    )
