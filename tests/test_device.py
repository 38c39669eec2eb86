"""One device resolver: ``--device cpu`` reaches the neighbour search too (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

import pipeline.device as device_module
import pipeline.reduce as reduce_module
from pipeline.device import resolve_device
from pipeline.errors import ConfigError


def test_resolve_device_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_module, "cuda_available", lambda: True)
    assert resolve_device("cpu").device == "cpu"
    assert resolve_device("auto").device == "cuda" and "GPU is visible" in resolve_device("auto").reason
    assert resolve_device("cuda:1").device == "cuda:1"
    monkeypatch.setattr(device_module, "cuda_available", lambda: False)
    assert resolve_device("auto").device == "cpu"
    with pytest.raises(ConfigError, match="no CUDA GPU") as info:
        resolve_device("cuda")
    assert info.value.code == "no_gpu"
    with pytest.raises(ConfigError, match="Unknown device"):
        resolve_device("tpu")


@pytest.mark.parametrize(("requested", "expected"), [("cpu", "cpu"), ("auto", "cuda")])
def test_reduce_neighbour_search_gets_the_requested_device(
    monkeypatch: pytest.MonkeyPatch, requested: str, expected: str
) -> None:
    """With a GPU visible, ``device="cpu"`` keeps the exact search on the CPU."""
    monkeypatch.setattr(device_module, "cuda_available", lambda: True)
    seen: list[str] = []
    real_search = reduce_module._exact_search

    def spy(fit_vectors: np.ndarray, *, device: str | None = None):  # type: ignore[no-untyped-def]
        seen.append(str(device))
        return real_search(fit_vectors, device="cpu")  # this machine may have no GPU

    monkeypatch.setattr(reduce_module, "_exact_search", spy)
    monkeypatch.setattr(reduce_module, "_coarse_dtype", lambda device: None)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    reduce_module.reduce(vectors, device=requested, fit_sample=40, seed=1)
    assert seen and set(seen) == {expected}, seen
