"""Where the compute runs: one resolver for the embedders and the neighbour search.

``--device cpu`` must reach every stage that could use a GPU (the embedders, ``reduce``'s exact
neighbour search), so each asks :func:`resolve_device` instead of probing CUDA itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import ConfigError


@dataclass(frozen=True)
class DeviceResolution:
    """The device to use (``cpu``, ``cuda`` or ``cuda:N``) and why it was chosen."""

    device: str
    reason: str


def cuda_available() -> bool:
    """Whether PyTorch sees a CUDA GPU (False without torch or with a broken driver)."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # no torch, broken driver: no GPU
        return False


def resolve_device(requested: str = "auto") -> DeviceResolution:
    """Turn a requested device into the one to use.

    Args:
        requested: ``auto`` (CUDA when visible, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.

    Raises:
        ConfigError: ``cuda`` was asked for and no CUDA GPU is visible, or the name is unknown.
    """
    name = (requested or "auto").strip().lower()
    if name == "cpu":
        return DeviceResolution("cpu", "cpu was requested")
    if name == "auto":
        if cuda_available():
            return DeviceResolution("cuda", "auto: a CUDA GPU is visible")
        return DeviceResolution("cpu", "auto: no CUDA GPU is visible")
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        if not cuda_available():
            raise ConfigError(
                "Device 'cuda' was asked for but no CUDA GPU is visible. Use --device cpu or auto.",
                code="no_gpu",
            )
        return DeviceResolution(name, f"{name} was requested")
    raise ConfigError(f"Unknown device {requested!r}: use auto, cpu or cuda.", code="device")
