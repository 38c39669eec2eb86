"""Qwen3 embedder on a tiny randomly initialised Qwen3 model built on the fly (CPU, no downloads)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from pipeline.embedders.base import Embedder  # noqa: E402
from pipeline.embedders.qwen3 import DEFAULT_TASK, Qwen3Embedder  # noqa: E402
from pipeline.errors import EmbedError  # noqa: E402

SENTENCES = [
    "The delivery was late and the box was damaged.",
    "Great customer service, the agent solved my problem quickly!",
    "I cannot log in to the app after the last update.",
    "Refund still not received after two weeks.",
    "Prices went up again, too expensive for me.",
    "El envío llegó tarde y la caja estaba rota.",
    "Der Kundendienst war sehr freundlich.",
    "Le produit ne fonctionne pas comme prévu.",
    "物流太慢了，包装也破了。",
    "アプリが起動しません。",
    "Instruct: Query: retrieve relevant feedback answers",
]


def _build_tokenizer(folder: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(SENTENCES * 3 + [DEFAULT_TASK], trainer=trainer)
    eos = tok.token_to_id("<|endoftext|>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A <|endoftext|>", special_tokens=[("<|endoftext|>", eos)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token="<unk>"
    )
    fast.padding_side = "left"
    fast.save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import AutoModel, AutoTokenizer, Qwen3Config

    folder = tmp_path_factory.mktemp("tiny-qwen3")
    _build_tokenizer(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=512,
        rope_theta=1_000_000.0,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = AutoModel.from_config(config)
    # Larger-than-default weights make the outputs depend visibly on every token.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.2)
    model.save_pretrained(folder)
    return folder


def _reference(folder: Path, texts: list[str]) -> np.ndarray:
    """Straightforward HF forward, one text at a time, last token pooled, fp32."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            enc = tok([text], return_tensors="pt")
            hidden = model(**enc).last_hidden_state[0, -1]
            rows.append(torch.nn.functional.normalize(hidden, dim=0).numpy())
    return np.stack(rows)


@pytest.fixture(scope="module")
def embedder(tiny_model: Path) -> Qwen3Embedder:
    return Qwen3Embedder(model=str(tiny_model), device="cpu", max_tokens=64, max_batch_size=4)


def test_protocol_and_shape(embedder: Qwen3Embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.name == "qwen3" and embedder.device == "cpu" and embedder.dim == 64
    vectors = embedder.embed(SENTENCES)
    assert vectors.shape == (len(SENTENCES), 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.last_stats is not None and embedder.last_stats.n_batches > 1


def test_matches_reference_in_input_order(tiny_model: Path, embedder: Qwen3Embedder) -> None:
    texts = [*SENTENCES[::-1], "", "short", "x " * 40]
    got = embedder.embed(texts)
    ref = _reference(tiny_model, texts)
    cos = np.sum(got * ref, axis=1)
    assert cos.min() > 0.9999, cos
    # Distinct texts give distinct vectors (order really matters).
    assert np.abs(got[0] - got[1]).max() > 1e-3


def test_batched_equals_one_by_one_and_deterministic(embedder: Qwen3Embedder) -> None:
    batched = embedder.embed(SENTENCES)
    single = np.concatenate([embedder.embed([t]) for t in SENTENCES])
    assert np.sum(batched * single, axis=1).min() > 1 - 1e-4
    again = embedder.embed(SENTENCES)
    np.testing.assert_array_equal(batched, again)
    shuffled_idx = np.random.default_rng(1).permutation(len(SENTENCES))
    shuffled = embedder.embed([SENTENCES[i] for i in shuffled_idx])
    np.testing.assert_allclose(shuffled, batched[shuffled_idx], atol=1e-5)


def test_query_prompt_applied_to_queries_only(embedder: Qwen3Embedder) -> None:
    text = "refund not received"
    query = embedder.embed([text], kind="query")
    prompted = embedder.embed([f"Instruct: {DEFAULT_TASK}\nQuery:{text}"])
    plain = embedder.embed([text])
    np.testing.assert_allclose(query, prompted, atol=1e-5)
    assert float(query[0] @ plain[0]) < 0.999


def test_chunked_background_tokenisation_keeps_order(tiny_model: Path) -> None:
    emb = Qwen3Embedder(model=str(tiny_model), device="cpu", chunk_size=3, max_tokens=48, max_batch_size=2)
    texts = [f"{s} {i}" for i, s in enumerate(SENTENCES * 3)]
    seen: list[tuple[int, int]] = []
    got = emb.embed(texts, progress=lambda d, t: seen.append((d, t)))
    ref = emb.embed(texts[:5])
    np.testing.assert_allclose(got[:5], ref, atol=1e-5)
    assert seen[-1] == (len(texts), len(texts))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert emb.embed([]).shape == (0, 64)


def test_folder_without_weights_fails_clearly(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "config.json").write_text((tiny_model / "config.json").read_text())
    with pytest.raises(EmbedError, match="no weights"):
        Qwen3Embedder(model=str(tmp_path), device="cpu")
    with pytest.raises(EmbedError, match="does not exist"):
        Qwen3Embedder(model=str(tmp_path / "nope"), device="cpu")


@pytest.mark.parametrize("offline", ["", "1"])
def test_missing_hub_model_fails_fast(tmp_path: Path, offline: str) -> None:
    """A hub id that is not cached fails at once, online or offline, and never downloads."""
    env = dict(os.environ, HF_HOME=str(tmp_path / "hf"), HF_HUB_CACHE=str(tmp_path / "hf" / "hub"))
    env.pop("HF_HUB_OFFLINE", None)
    if offline:
        env["HF_HUB_OFFLINE"] = offline
    # An unreachable endpoint: any network attempt would hang or retry instead of failing fast.
    env["HF_ENDPOINT"] = "http://10.255.255.1:9"
    code = (
        "import time; from pipeline.embedders.qwen3 import Qwen3Embedder\n"
        "from pipeline.errors import EmbedError\n"
        "t = time.perf_counter()\n"
        "try:\n    Qwen3Embedder(model='Qwen/Qwen3-Embedding-0.6B', device='cpu')\n"
        "except EmbedError as e:\n    print('EMBEDERROR', round(time.perf_counter() - t, 2), e.user_message)\n"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert "EMBEDERROR" in result.stdout, result.stderr[-2000:]
    assert "hf download" in result.stdout
    seconds = float(result.stdout.split()[1])
    assert seconds < 5, result.stdout
    assert time.perf_counter() - started < 30


def test_cuda_without_gpu_is_a_clear_error(tiny_model: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(EmbedError, match="no CUDA GPU"):
        Qwen3Embedder(model=str(tiny_model), device="cuda")


def test_registry_builds_this_embedder(tiny_model: Path) -> None:
    from pipeline.embedders.registry import create_embedder

    emb = create_embedder("qwen3", device="cpu", model=str(tiny_model), max_tokens=64)
    assert isinstance(emb, Qwen3Embedder) and emb.max_tokens == 64
    assert emb.embed(["hello"]).shape == (1, 64)
