"""The card saved with an adapter (``tune.json``): base model, recipe, figures, hash.

Written by :func:`pipeline.tuning.lora.tune`, read by the ``tuned`` embedder and recorded in a
run's ``run.json`` (``adapter``). Reading a card needs no torch and no peft.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.similar import CALIBRATION_FILE, Calibration, save_calibration

CARD_FILE = "tune.json"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
CARD_VERSION = 1


@dataclass(frozen=True)
class AdapterCard:
    base_model: str
    """Registry name of the model the adapter was trained on (``use-multilingual``, ``qwen3``...)."""
    model_path: str | None
    recipe: dict[str, Any]
    n_train_pairs: int
    n_calibration_pairs: int
    n_eval_pairs: int
    split: str
    source: str
    before: dict[str, Any]
    after: dict[str, Any]
    threshold: float
    """Cosine at which a pair is the same, calibrated (macro-F1) after training."""
    threshold_before: float
    steps: int
    stopped_early: bool
    train_seconds: float
    total_seconds: float
    device: str
    sha256: str
    """SHA-256 over the adapter's files (:func:`adapter_hash`)."""
    card_version: int = CARD_VERSION
    extra: dict[str, Any] = field(default_factory=dict)


def adapter_hash(folder: Path) -> str:
    """SHA-256 over ``adapter_config.json`` and ``adapter_model.safetensors``, in that order."""
    digest = hashlib.sha256()
    for name in ADAPTER_FILES:
        path = Path(folder) / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def save_card(card: AdapterCard, calibration: Calibration, folder: Path) -> None:
    Path(folder, CARD_FILE).write_text(json.dumps(asdict(card), indent=2) + "\n", encoding="utf-8")
    save_calibration(calibration, Path(folder) / CALIBRATION_FILE)


def load_card(folder: Path) -> AdapterCard:
    """Read and check an adapter folder's card.

    Raises:
        ConfigError: Not an adapter folder, an unreadable card, or files changed since training
            (``adapter``).
    """
    folder = Path(folder)
    path = folder / CARD_FILE
    if not folder.is_dir() or not path.is_file() or not (folder / ADAPTER_FILES[1]).is_file():
        raise ConfigError(
            f"{folder} is not an adapter folder (it needs {CARD_FILE} and {ADAPTER_FILES[1]}, as "
            "written by 'feedback-topics tune --out').",
            code="adapter",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = set(AdapterCard.__dataclass_fields__)
        card = AdapterCard(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"Cannot read the adapter card {path}: {exc}.", code="adapter") from None
    if adapter_hash(folder) != card.sha256:
        raise ConfigError(
            f"The adapter files in {folder} changed since training (hash mismatch); train it again.",
            code="adapter",
        )
    return card


def adapter_record(folder: Path) -> dict[str, Any]:
    """What ``run.json`` records of an adapter: path, hash, base model, threshold."""
    card = load_card(folder)
    return {
        "path": str(Path(folder).resolve()),
        "sha256": card.sha256,
        "base_model": card.base_model,
        "model_path": card.model_path,
        "threshold": card.threshold,
        "recipe": card.recipe,
    }


__all__ = ["CALIBRATION_FILE", "AdapterCard", "adapter_hash", "adapter_record", "load_card", "save_card"]
