"""Qwen3-Embedding (0.6B and family): the production embedder for GPU machines.

Loads a Qwen3 embedding model through transformers from a local folder (plain transformers or
sentence-transformers layout) or from a hub id that is already in the local Hugging Face cache.
Nothing is ever downloaded: a missing model fails at once with an :class:`EmbedError` that says
how to get the weights.

How it runs (the same code on CPU and GPU):

* Texts are tokenised in a background thread, in chunks; each chunk is sorted by length and cut
  into token-budget batches (:mod:`pipeline.embedders.batching`), so the GPU never waits for the
  tokenizer and padding stays within 5 %.
* The forward pass is the model's own weights run on *packed* tokens: every matrix product sees
  only real tokens (no padding at all). Attention, the only step that needs per-text structure,
  runs either as variable-length attention (``torch.nn.attention.varlen``, FlashAttention, on
  CUDA when available) or as causal SDPA over right-padded length-sorted batches. With causal
  attention and right padding, real tokens never see padding, so no mask is needed and SDPA uses
  its fastest kernel.
* Last-token pooling (the EOS token the tokenizer appends), L2 normalisation in float32; results
  are copied to pinned host memory through a small ring of buffers and CUDA events, so the host
  copy overlaps the next batch.
* bf16 on GPU, float32 on CPU. ``compile`` (``"auto"``: on CUDA for large inputs) wraps the
  per-layer math with ``torch.compile`` to fuse the norms, rotary embedding and activations.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.embedders.base import BatchProgress, TextKind
from pipeline.embedders.batching import BatchPlan, plan_batches
from pipeline.errors import EmbedError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen3-Embedding-0.6B"
DEFAULT_TASK = "Given a customer feedback search query, retrieve relevant feedback that answers the query"
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


@dataclass(frozen=True)
class EmbedStats:
    """Figures of the last :meth:`Qwen3Embedder.embed` call (for benchmarks and logs)."""

    n_texts: int
    real_tokens: int
    padded_tokens: int
    n_batches: int
    seconds: float
    attention: str

    @property
    def padding_ratio(self) -> float:
        return self.padded_tokens / self.real_tokens if self.real_tokens else 1.0


def resolve_model_path(model: str) -> tuple[Path, str]:
    """Find a model's files locally, without any network access.

    Args:
        model: A local folder, or a hub id (``"Qwen/Qwen3-Embedding-0.6B"``) already in the cache.

    Returns:
        ``(folder, model_id)`` where ``model_id`` records what ran (path or id@revision).

    Raises:
        EmbedError: The folder does not exist or holds no weights, or the hub id is not cached.
    """
    expanded = Path(os.path.expanduser(model))
    parts = model.split("/")
    is_hub_id = (
        not expanded.exists()
        and len(parts) == 2
        and all(parts)
        and not model.startswith((".", "~"))
        and "\\" not in model
    )
    if not is_hub_id:
        if not expanded.is_dir():
            raise EmbedError(
                f"Model folder {model!r} does not exist. Pass the folder that holds the model's "
                "config.json and weights, or a Hugging Face id such as "
                f"{DEFAULT_MODEL!r} that has been downloaded with `hf download {DEFAULT_MODEL}`.",
                code="model_missing",
            )
        _check_folder(expanded, model)
        return expanded.resolve(), str(expanded.resolve())
    # A hub id: only the local cache is consulted (HF_HUB_OFFLINE or not, nothing is downloaded).
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError, HFValidationError, OfflineModeIsEnabled...
        raise EmbedError(
            f"The model {model!r} is not in the local Hugging Face cache and this product never "
            f"downloads weights while it runs. Download it once with `hf download {model}` (or "
            "copy its folder to this machine and pass the folder), or choose another embedder.",
            code="model_missing",
            detail=repr(exc),
        ) from None
    _check_folder(folder, model)
    return folder, f"{model}@{folder.name}"


def _check_folder(folder: Path, shown: str) -> None:
    if not (folder / "config.json").is_file():
        raise EmbedError(
            f"Model folder {shown!r} has no config.json: it is not a transformers model folder.",
            code="model_missing",
        )
    has_weights = any((folder / name).is_file() for name in _WEIGHT_FILES) or any(
        folder.glob("*.safetensors")
    )
    if not has_weights:
        raise EmbedError(
            f"Model folder {shown!r} has no weights (model.safetensors or pytorch_model.bin); the "
            "download is incomplete. Download the model again.",
            code="model_missing",
        )


def _resolve_device(device: str) -> str:
    from pipeline.device import resolve_device
    from pipeline.errors import ConfigError

    try:
        return resolve_device(device).device
    except ConfigError as exc:
        raise EmbedError(exc.user_message, code=exc.code) from None


class _PackedBatch:
    """Host-side inputs of one batch: packed token ids and per-text layout."""

    __slots__ = ("cu_seqlens", "dest", "indices", "input_ids", "lengths", "max_len", "positions")

    def __init__(self, ids: list[list[int]], indices: np.ndarray, lengths: np.ndarray) -> None:
        self.indices = indices
        self.lengths = lengths
        self.max_len = int(lengths.max())
        total = int(lengths.sum())
        self.input_ids = np.fromiter((t for seq in ids for t in seq), dtype=np.int64, count=total)
        cu = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=cu[1:])
        self.cu_seqlens = cu
        # Position of each packed token inside its own text: 0..len-1.
        self.positions = np.arange(total, dtype=np.int64) - np.repeat(cu[:-1], lengths)
        # Row of each packed token in the right-padded (texts, max_len) layout.
        self.dest = self.positions + np.repeat(
            np.arange(len(lengths), dtype=np.int64) * self.max_len, lengths
        )


class Qwen3Embedder:
    """Qwen3-Embedding through transformers, with packed token-budget batches.

    Args:
        model: Local folder or hub id (only the local cache is used).
        device: ``"auto"`` (CUDA when visible), ``"cpu"`` or ``"cuda"``.
        task: The instruction used for ``kind="query"`` texts.
        max_length: Longest input in tokens (longer texts are cut).
        max_tokens: Padded-token budget per forward pass (default 65,536 on GPU, 4,096 on CPU).
        max_batch_size: Most texts per forward pass.
        chunk_size: Texts tokenised and sorted together (the background thread's unit).
        first_chunk: Size of the first chunk (small, so the GPU starts at once).
        attention: ``"auto"``, ``"varlen"`` (CUDA only) or ``"sdpa"``.
        compile: ``"auto"`` (CUDA and at least ``compile_min_texts`` texts), ``True`` or ``False``.
        compile_min_texts: Input size from which ``compile="auto"`` compiles (measured on an
            H100: compiling costs ~17 s once and doubles throughput, so it pays from ~100k texts).
        dtype: ``"bfloat16"``, ``"float16"`` or ``"float32"``; default bf16 on GPU, fp32 on CPU.

    Raises:
        EmbedError: The weights are missing, unreadable, or the device is unusable.
    """

    name = "qwen3"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "auto",
        *,
        task: str = DEFAULT_TASK,
        max_length: int = 2048,
        max_tokens: int | None = None,
        max_batch_size: int = 2048,
        chunk_size: int = 16_384,
        first_chunk: int = 2048,
        attention: str = "auto",
        compile: bool | str = "auto",
        compile_min_texts: int = 100_000,
        dtype: str | None = None,
    ) -> None:
        import torch

        folder, self.model_id = resolve_model_path(model)
        self.device = _resolve_device(device)
        self._torch_device = torch.device(self.device)
        on_gpu = self._torch_device.type == "cuda"
        dtype_name = dtype or ("bfloat16" if on_gpu else "float32")
        if dtype_name not in ("bfloat16", "float16", "float32"):
            raise EmbedError(f"Unknown dtype {dtype_name!r}: use bfloat16, float16 or float32.")
        self._dtype = getattr(torch, dtype_name)
        self.task = task
        self.max_length = max_length
        self.max_tokens = max_tokens or (65_536 if on_gpu else 4096)
        self.max_batch_size = max_batch_size
        self.chunk_size = chunk_size
        self.first_chunk = first_chunk
        self.max_chars_hint: int | None = max_length * 3
        # Large calls on a GPU: each call tokenises ahead, sorts by length and batches by token
        # budget within itself, and compiles once it is big enough; 2,048-text calls ran eagerly.
        self.texts_per_call = 131_072 if on_gpu else 4096
        self.compile = compile
        self.compile_min_texts = compile_min_texts
        self.last_stats: EmbedStats | None = None
        self._compiled: dict[str, Any] | None = None
        self._compile_ok = False

        started = time.perf_counter()
        try:
            from transformers import AutoConfig, AutoModel, AutoTokenizer

            config = AutoConfig.from_pretrained(folder, local_files_only=True)
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            hf_model = AutoModel.from_pretrained(
                folder, dtype=self._dtype, local_files_only=True, attn_implementation="sdpa"
            )
        except EmbedError:
            raise
        except Exception as exc:
            raise EmbedError(
                f"Could not load the model from {str(folder)!r}: its files are damaged or not a "
                "transformers model. Download it again.",
                code="model_unreadable",
                detail=repr(exc),
            ) from None
        if getattr(config, "model_type", "") != "qwen3":
            raise EmbedError(
                f"{model!r} is a {getattr(config, 'model_type', '?')} model, not a Qwen3 embedding model.",
                code="model_type",
            )
        self.dim = int(config.hidden_size)
        self._weights = _extract_weights(hf_model, config, self._torch_device, self._dtype)
        del hf_model
        self.attention = self._choose_attention(attention)
        logger.info(
            "loaded %s on %s (%s, attention=%s) in %.1fs",
            self.model_id,
            self.device,
            dtype_name,
            self.attention,
            time.perf_counter() - started,
        )

    # ------------------------------------------------------------------------------------ public
    def embed(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "document",
        progress: BatchProgress | None = None,
    ) -> np.ndarray:
        """Return float32 ``(len(texts), dim)`` unit vectors in input order."""
        import torch

        started = time.perf_counter()
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            self.last_stats = EmbedStats(0, 0, 0, 0, 0.0, self.attention)
            return out
        if kind == "query":
            texts = [f"Instruct: {self.task}\nQuery:{t}" for t in texts]
        use_compile = self._want_compile(n)
        real = padded = n_batches = done = 0
        ring = _HostRing(self._torch_device, self.dim, slots=4)
        with torch.inference_mode():
            for batch in self._produce(texts):
                vectors = self._forward(batch, use_compile=use_compile)
                ring.push(vectors, batch.indices, out)
                real += int(batch.lengths.sum())
                padded += len(batch.lengths) * batch.max_len
                n_batches += 1
                done += len(batch.indices)
                if progress is not None:
                    progress(done, n)
            ring.drain(out)
        self.last_stats = EmbedStats(
            n, real, padded, n_batches, time.perf_counter() - started, self.attention
        )
        return out

    def plan(self, texts: Sequence[str]) -> BatchPlan:
        """The batch plan :meth:`embed` would use for ``texts`` taken as one chunk (for benchmarks)."""
        return plan_batches(
            self._lengths(texts), max_tokens=self.max_tokens, max_batch_size=self.max_batch_size
        )

    # ---------------------------------------------------------------------------------- internals
    def _lengths(self, texts: Sequence[str]) -> np.ndarray:
        ids = self._tokenize(list(texts))
        return np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        encoded = self.tokenizer(
            texts,
            add_special_tokens=True,
            truncation=True,
            max_length=self.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        ids: list[list[int]] = encoded["input_ids"]
        # Guarantee at least one token per text (an empty text still gets a vector).
        fill = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else 0
        return [seq if seq else [fill] for seq in ids]

    def _produce(self, texts: Sequence[str]) -> Iterator[_PackedBatch]:
        """Yield batches tokenised by a background thread, chunk by chunk."""
        q: queue.Queue[Any] = queue.Queue(maxsize=8)
        stop = threading.Event()
        done_marker = object()

        def work() -> None:
            try:
                # A small first chunk gets the GPU busy at once; later chunks are tokenised
                # while the GPU works on the previous one.
                bounds, start = [], 0
                while start < len(texts):
                    size = min(self.first_chunk, self.chunk_size) if start == 0 else self.chunk_size
                    bounds.append((start, min(start + size, len(texts))))
                    start += size
                for start, end in bounds:
                    chunk = list(texts[start:end])
                    ids = self._tokenize(chunk)
                    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
                    plan = plan_batches(
                        lengths, max_tokens=self.max_tokens, max_batch_size=self.max_batch_size
                    )
                    for b in plan.batches:
                        packed = _PackedBatch([ids[i] for i in b.indices], b.indices + start, b.lengths)
                        while not stop.is_set():
                            try:
                                q.put(packed, timeout=0.1)
                                break
                            except queue.Full:
                                continue
                        if stop.is_set():
                            return
                q.put(done_marker)
            except BaseException as exc:  # handed to the consumer, re-raised there
                q.put(exc)

        thread = threading.Thread(target=work, name="qwen3-tokenize", daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is done_marker:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join(timeout=5)

    def _want_compile(self, n: int) -> bool:
        if self.compile == "auto":
            if self._compile_ok and self._compiled is not None:
                return True  # compiled by an earlier call of this job: using it costs nothing more
            return self._torch_device.type == "cuda" and n >= self.compile_min_texts
        return bool(self.compile)

    def _choose_attention(self, attention: str) -> str:
        if attention not in ("auto", "varlen", "sdpa"):
            raise EmbedError(f"Unknown attention {attention!r}: use auto, varlen or sdpa.")
        if attention == "sdpa" or self._torch_device.type != "cuda":
            if attention == "varlen":
                logger.warning("varlen attention needs CUDA; using SDPA")
            return "sdpa"
        # Try variable-length FlashAttention and check it against SDPA on a small batch.
        try:
            texts = ["a b c d e f g h", "x y", "one two three four five six seven eight nine ten"]
            ids = self._tokenize(texts)
            lengths = np.array([len(x) for x in ids], dtype=np.int64)
            batch = _PackedBatch(ids, np.arange(3), lengths)
            import torch

            with torch.inference_mode():
                a = self._forward(batch, use_compile=False, attention="varlen").float()
                b = self._forward(batch, use_compile=False, attention="sdpa").float()
            cos = torch.nn.functional.cosine_similarity(a, b, dim=1).min().item()
            if cos < 0.999:
                raise RuntimeError(f"varlen attention disagrees with SDPA (cosine {cos:.4f})")
            return "varlen"
        except Exception as exc:
            if attention == "varlen":
                raise EmbedError(
                    "Variable-length attention is not available here; use attention='sdpa'.",
                    detail=repr(exc),
                ) from None
            logger.info("varlen attention unavailable (%r); using SDPA", exc)
            return "sdpa"

    def _forward(
        self, batch: _PackedBatch, *, use_compile: bool, attention: str | None = None, _checked: bool = False
    ) -> Any:
        """Run the model on one packed batch; return ``(batch, dim)`` float32 pooled vectors."""
        import torch

        dev = self._torch_device
        pin = dev.type == "cuda"
        ids = _to_device(batch.input_ids, dev, pin)
        pos = _to_device(batch.positions, dev, pin)
        cu = _to_device(batch.cu_seqlens, dev, pin)
        if use_compile and not self._compile_ok and not _checked:
            try:
                result = self._forward(batch, use_compile=True, attention=attention, _checked=True)
                self._compile_ok = True
                return result
            except Exception as exc:  # an inductor/compiler problem must not stop the run
                logger.warning("torch.compile failed (%r); continuing without it", exc)
                self.compile = False
                self._compiled = {"pre": _layer_pre, "post": _layer_post}
                self._compile_ok = True
                return self._forward(batch, use_compile=False, attention=attention)
        w = self._weights
        fns = self._layer_fns(use_compile)
        attention = attention or self.attention
        cos = w["cos"][pos]
        sin = w["sin"][pos]
        x = w["embed"][ids]
        n_texts, max_len = len(batch.lengths), batch.max_len
        dest = _to_device(batch.dest, dev, pin) if attention == "sdpa" else None
        for layer in w["layers"]:
            q, k, v = fns["pre"](x, cos, sin, *layer["pre"])
            if attention == "varlen":
                attn = _varlen_attention(q, k, v, cu, max_len)
            else:
                attn = _padded_attention(q, k, v, dest, n_texts, max_len)
            x = fns["post"](x, attn, *layer["post"])
        last = cu[1:] - 1
        pooled = _rms_norm(x[last], w["norm"], w["eps"])
        return torch.nn.functional.normalize(pooled.float(), dim=-1)

    def _layer_fns(self, use_compile: bool) -> dict[str, Any]:
        if not use_compile:
            return {"pre": _layer_pre, "post": _layer_post}
        if self._compiled is None:
            import torch

            try:
                self._compiled = {
                    "pre": torch.compile(_layer_pre, dynamic=True),
                    "post": torch.compile(_layer_post, dynamic=True),
                }
            except Exception as exc:
                logger.warning("torch.compile unavailable (%r); running eagerly", exc)
                self._compiled = {"pre": _layer_pre, "post": _layer_post}
        return self._compiled


# ------------------------------------------------------------------------------------ model math
def _extract_weights(hf_model: Any, config: Any, device: Any, dtype: Any) -> dict[str, Any]:
    """Fuse the HF Qwen3 weights into packed-forward form (QKV and gate/up concatenated)."""
    import torch

    base = getattr(hf_model, "model", hf_model)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)
    n_q, n_kv = int(config.num_attention_heads), int(config.num_key_value_heads)
    eps = float(config.rms_norm_eps)
    rope = getattr(config, "rope_parameters", None) or {}
    rope_type = rope.get("rope_type", rope.get("type", "default")) if isinstance(rope, dict) else "default"
    if rope_type not in ("default", None):
        raise EmbedError(f"Unsupported rotary embedding type {rope_type!r} for the Qwen3 embedder.")
    theta = float(rope.get("rope_theta", getattr(config, "rope_theta", 1_000_000.0)))

    def t(p: Any) -> Any:
        return p.detach().to(device=device, dtype=dtype).contiguous()

    layers = []
    for layer in base.layers:
        att, mlp = layer.self_attn, layer.mlp
        wqkv = t(torch.cat([att.q_proj.weight, att.k_proj.weight, att.v_proj.weight], 0))
        bias = None
        if att.q_proj.bias is not None:
            bias = t(torch.cat([att.q_proj.bias, att.k_proj.bias, att.v_proj.bias], 0))
        bias_o = t(att.o_proj.bias) if att.o_proj.bias is not None else None
        layers.append(
            {
                "pre": (
                    t(layer.input_layernorm.weight),
                    wqkv,
                    bias,
                    t(att.q_norm.weight),
                    t(att.k_norm.weight),
                    n_q,
                    n_kv,
                    head_dim,
                    eps,
                ),
                "post": (
                    t(att.o_proj.weight),
                    bias_o,
                    t(layer.post_attention_layernorm.weight),
                    t(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight], 0)),
                    t(mlp.down_proj.weight),
                    eps,
                ),
            }
        )
    max_pos = int(getattr(config, "max_position_embeddings", 32768))
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = torch.arange(max_pos, dtype=torch.float32)[:, None] * inv_freq[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    return {
        "embed": t(base.embed_tokens.weight),
        "layers": layers,
        "norm": t(base.norm.weight),
        "eps": eps,
        "cos": emb.cos().to(device=device, dtype=dtype),
        "sin": emb.sin().to(device=device, dtype=dtype),
    }


def _rms_norm(x: Any, weight: Any, eps: float) -> Any:
    import torch

    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return weight * xf.to(x.dtype)


def _rotate_half(x: Any) -> Any:
    import torch

    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _layer_pre(
    x: Any,
    cos: Any,
    sin: Any,
    ln_w: Any,
    wqkv: Any,
    bqkv: Any,
    qn_w: Any,
    kn_w: Any,
    n_q: int,
    n_kv: int,
    head_dim: int,
    eps: float,
) -> tuple[Any, Any, Any]:
    """Norm, fused QKV projection, q/k norms and rotary embedding on packed ``(tokens, hidden)``."""
    import torch.nn.functional as F

    h = _rms_norm(x, ln_w, eps)
    qkv = F.linear(h, wqkv, bqkv)
    tokens = x.shape[0]
    q = qkv[:, : n_q * head_dim].view(tokens, n_q, head_dim)
    k = qkv[:, n_q * head_dim : (n_q + n_kv) * head_dim].view(tokens, n_kv, head_dim)
    v = qkv[:, (n_q + n_kv) * head_dim :].view(tokens, n_kv, head_dim)
    q = _rms_norm(q, qn_w, eps)
    k = _rms_norm(k, kn_w, eps)
    c, s = cos[:, None, :], sin[:, None, :]
    q = q * c + _rotate_half(q) * s
    k = k * c + _rotate_half(k) * s
    return q, k, v


def _layer_post(x: Any, attn: Any, wo: Any, bo: Any, ln_w: Any, wgu: Any, wd: Any, eps: float) -> Any:
    """Output projection, residual, norm and SwiGLU MLP on packed tokens."""
    import torch.nn.functional as F

    x = x + F.linear(attn.reshape(x.shape[0], -1), wo, bo)
    h = _rms_norm(x, ln_w, eps)
    gu = F.linear(h, wgu)
    inter = gu.shape[-1] // 2
    return x + F.linear(F.silu(gu[:, :inter]) * gu[:, inter:], wd)


def _padded_attention(q: Any, k: Any, v: Any, dest: Any, n_texts: int, max_len: int) -> Any:
    """Causal attention over right-padded texts; padding is never attended to by real tokens."""
    import torch.nn.functional as F

    _, n_q, head_dim = q.shape
    rep = n_q // k.shape[1]

    def pad(t: Any) -> Any:
        buf = t.new_zeros((n_texts * max_len, t.shape[1], head_dim))
        buf[dest] = t
        return buf.view(n_texts, max_len, t.shape[1], head_dim).transpose(1, 2)

    kk = k.repeat_interleave(rep, dim=1) if rep > 1 else k
    vv = v.repeat_interleave(rep, dim=1) if rep > 1 else v
    out = F.scaled_dot_product_attention(pad(q), pad(kk), pad(vv), is_causal=True)
    out = out.transpose(1, 2).reshape(n_texts * max_len, n_q, head_dim)
    return out[dest]


_VARLEN: dict[str, Any] = {}


def _varlen_attention(q: Any, k: Any, v: Any, cu: Any, max_len: int) -> Any:
    """Causal variable-length attention on packed tokens (FlashAttention through torch)."""
    import inspect

    if "fn" not in _VARLEN:
        from torch.nn.attention.varlen import varlen_attn

        _VARLEN["fn"] = varlen_attn
        _VARLEN["params"] = set(inspect.signature(varlen_attn).parameters)
    fn, params = _VARLEN["fn"], _VARLEN["params"]
    rep = q.shape[1] // k.shape[1]
    if rep > 1:
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
    import torch

    cu32 = cu.to(dtype=torch.int32)
    kwargs: dict[str, Any] = {}
    if "is_causal" in params:
        kwargs["is_causal"] = True
    elif "window_size" in params:
        kwargs["window_size"] = (-1, 0)
    else:
        raise RuntimeError("varlen_attn has no causal option")
    out = fn(q.contiguous(), k.contiguous(), v.contiguous(), cu32, cu32, max_len, max_len, **kwargs)
    return out[0] if isinstance(out, tuple) else out


def _to_device(array: np.ndarray, device: Any, pin: bool) -> Any:
    import torch

    t = torch.from_numpy(array)
    if pin:
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


class _HostRing:
    """Copies pooled vectors to pinned host buffers asynchronously and scatters them when ready."""

    def __init__(self, device: Any, dim: int, *, slots: int) -> None:
        self.device = device
        self.dim = dim
        self.cuda = device.type == "cuda"
        self.slots: list[Any] = []
        self.slot_count = slots
        self.pending: list[tuple[Any, Any, np.ndarray, int]] = []

    def push(self, vectors: Any, indices: np.ndarray, out: np.ndarray) -> None:
        if not self.cuda:
            out[indices] = vectors.numpy()
            return
        import torch

        if len(self.pending) >= self.slot_count:
            self._retire_one(out)
        rows = vectors.shape[0]
        buf = torch.empty((rows, self.dim), dtype=torch.float32, pin_memory=True)
        buf.copy_(vectors, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        self.pending.append((event, buf, indices, rows))

    def _retire_one(self, out: np.ndarray) -> None:
        event, buf, indices, _ = self.pending.pop(0)
        event.synchronize()
        out[indices] = buf.numpy()

    def drain(self, out: np.ndarray) -> None:
        while self.pending:
            self._retire_one(out)
