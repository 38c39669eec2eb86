"""The one small interface every embedder implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np

TextKind = Literal["document", "query"]
BatchProgress = Callable[[int, int], None]
"""``progress(done, total)`` in texts."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    Attributes:
        name: Registry name (``"use-multilingual"``, ``"qwen3"``...).
        model_id: What actually ran, precise enough to reproduce (package + version, path, or URL+model).
        dim: Output dimension.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:0"`` or ``"http"``.
        max_chars_hint: Texts longer than this many characters are likely truncated by the model
            (used to count truncations), or ``None`` when unknown.
        texts_per_call: How many texts :func:`pipeline.embed.embed_texts` hands to one ``embed``
            call; the cache is written after each call, so an interrupted run keeps that work.
            Embedders that sort and batch by length themselves (Qwen3 on a GPU) want large calls.
    """

    name: str
    model_id: str
    dim: int
    device: str
    max_chars_hint: int | None
    texts_per_call: int

    def embed(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "document",
        progress: BatchProgress | None = None,
    ) -> np.ndarray:
        """Return float32 ``(len(texts), dim)`` rows with unit L2 norm, in input order.

        ``kind="query"`` applies the model's query prompt where it has one (Qwen3's
        ``Instruct: ...\\nQuery:``, e5's ``query: ``); documents get the document form.
        """
        ...


def l2_normalise(vectors: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero).

    With ``in_place=True`` a float32 array is scaled where it lies (a million 1024-d vectors
    are 4 GiB; a copy would double that). Norms are computed block by block, without a squared
    copy of the whole array.
    """
    # One float32 array to scale: the caller's own (in place) or exactly one copy.
    vectors = np.asarray(vectors, dtype=np.float32) if in_place else np.array(vectors, dtype=np.float32)
    for start in range(0, len(vectors), 65_536):
        block = vectors[start : start + 65_536]
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))[:, None]
        norms[norms == 0] = 1.0
        block /= norms
    return vectors
