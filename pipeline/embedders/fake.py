"""A deterministic, dependency-free embedder for fast unit tests (registry name ``fake``, hidden).

Each text is a bag of features (lower-cased words, plus character bigrams for scripts written
without spaces such as Chinese and Japanese); each feature is hashed to a fixed pseudo-random unit
vector and the text's vector is their normalised sum. Texts that share words are therefore close,
unrelated texts nearly orthogonal, and the same text always gives the same vector on every machine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from pipeline.embedders.base import BatchProgress, TextKind, l2_normalise

_WORD = re.compile(r"\w+", re.UNICODE)
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


class FakeEmbedder:
    """Hashed bag-of-features vectors.

    Args:
        dim: Output dimension.
        seed: Changes every feature vector (two seeds give unrelated spaces).
        max_chars_hint: Reported as the model window (to exercise truncation counting).
    """

    name = "fake"
    device = "cpu"
    texts_per_call = 2048

    def __init__(self, *, dim: int = 64, seed: int = 0, max_chars_hint: int | None = None) -> None:
        self.dim = int(dim)
        self.seed = int(seed)
        self.max_chars_hint = max_chars_hint
        self.model_id = f"fake-hashed-tokens-v1/dim{self.dim}/seed{self.seed}"
        self.calls = 0
        """Number of texts embedded so far (tests use it to check cache hits)."""

    @staticmethod
    def features(text: str) -> list[str]:
        """The hashed features of ``text``: words, and character bigrams in no-space scripts."""
        feats: list[str] = []
        for word in _WORD.findall(text.lower()):
            if _NO_SPACE_SCRIPT.search(word) and len(word) > 1:
                feats.extend(word[i : i + 2] for i in range(len(word) - 1))
            else:
                feats.append(word)
        return feats

    @lru_cache(maxsize=65_536)  # noqa: B019 - bounded, and instances live as long as a test
    def _feature_vector(self, feature: str) -> np.ndarray:
        digest = hashlib.blake2b(f"{self.seed}\x00{feature}".encode(), digest_size=8).digest()
        rng = np.random.default_rng(int.from_bytes(digest, "little"))
        return rng.standard_normal(self.dim).astype(np.float32)

    def embed(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "document",
        progress: BatchProgress | None = None,
    ) -> np.ndarray:
        """Embed ``texts`` (``kind`` is accepted and ignored)."""
        del kind
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for feature in self.features(text) or ["\x00empty"]:
                out[i] += self._feature_vector(feature)
            if progress and ((i + 1) % 256 == 0 or i + 1 == len(texts)):
                progress(i + 1, len(texts))
        self.calls += len(texts)
        return l2_normalise(out)
