"""``tuned``: an embedding model with a LoRA adapter from ``feedback-topics tune`` merged in.

``create_embedder("tuned", adapter=DIR)`` reads the adapter's card (``tune.json``), loads its base
model, merges the adapter into the weights and embeds exactly as the base embedder does:

* ``use-multilingual``: the merged weights go into :class:`~pipeline.embedders.use.UseEmbedder`'s
  fast forward pass (bf16 convolutions), so a tuned run is as fast as an untuned one;
* ``minilm``: the merged BERT replaces the sentence-transformers model's own;
* ``qwen3``: the merged model goes through :class:`~pipeline.embedders.qwen3.Qwen3Embedder`'s
  packed forward pass.

``model_id`` is the base model's id plus ``+lora:<first 12 hex of the adapter hash>``, so cached
vectors of the base model are never reused for the tuned one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.embedders.base import Embedder
from pipeline.errors import ConfigError

logger = logging.getLogger(__name__)


def create_tuned(*, adapter: str | Path | None = None, device: str = "auto", **options: Any) -> Embedder:
    """The base embedder of ``adapter`` with the adapter merged in.

    Raises:
        ConfigError: No ``adapter`` option, or a folder that is not an adapter (``adapter``).
    """
    if not adapter:
        raise ConfigError(
            "The tuned model needs an adapter folder: --adapter DIR (written by 'feedback-topics tune').",
            code="adapter",
        )
    from pipeline.tuning.lora import load_adapted

    folder = Path(str(adapter)).expanduser()
    module, card = load_adapted(folder, device="cpu")
    tag = f"+lora:{card.sha256[:12]}"
    embedder: Any
    if card.base_model == "use-multilingual":
        from pipeline.embedders.use import UseEmbedder

        embedder = UseEmbedder(device=device, **options)
        _load_use_weights(embedder, module)
    elif card.base_model == "minilm":
        from pipeline.embedders.minilm import MiniLMEmbedder

        embedder = MiniLMEmbedder(device=device, **options)
        transformer = embedder._model[0].auto_model
        transformer.load_state_dict(module.model.state_dict())
    elif card.base_model == "qwen3":
        from pipeline.embedders.qwen3 import Qwen3Embedder, _extract_weights

        model = options.pop("model", None) or card.model_path
        if model is None:
            from pipeline.embedders.registry import _qwen3_default_model

            model = _qwen3_default_model()
        embedder = Qwen3Embedder(model=str(model), device=device, **options)
        hf = module.model
        embedder._weights = _extract_weights(hf, hf.config, embedder._torch_device, embedder._dtype)
    else:  # pragma: no cover - backbone_spec refused it already
        raise ConfigError(f"No tuned embedder for {card.base_model!r}.", code="adapter")
    embedder.name = "tuned"
    embedder.model_id = f"{embedder.model_id}{tag}"
    embedder.adapter = {"path": str(folder.resolve()), "sha256": card.sha256, "base_model": card.base_model}
    logger.info("tuned embedder: %s", embedder.model_id)
    return embedder


def _load_use_weights(embedder: Any, module: Any) -> None:
    """Put a merged :class:`~pipeline.tuning.backbones.UseModule`'s weights into the fast path."""
    import torch

    w = embedder._weights
    if w is None:  # the package backend has its own numpy weights; not used with an adapter
        raise ConfigError("A tuned use-multilingual model runs with the fast backend only.", code="adapter")
    wdt = w["wdt"]

    def t(x: Any, dtype: Any = torch.float32) -> Any:
        return x.detach().to(dtype).contiguous()

    w["proj_w"] = t(module.proj.weight.T)
    w["proj_b"] = t(module.proj.bias)
    w["w1"] = [t(layer.weight.T, wdt) for layer in module.conv_a]
    w["b1"] = [t(layer.bias) for layer in module.conv_a]
    w["w2"] = [t(layer.weight.T, wdt) for layer in module.conv_b]
    w["b2"] = [t(layer.bias) for layer in module.conv_b]
    w["cnn_w"] = t(module.pool.weight.T)
    for name in ("d0", "d1", "d2", "d3", "p1", "p3"):
        w[name] = t(getattr(module, name).weight.T)
