"""Train a LoRA adapter on labelled pairs (:func:`tune`), and load one back (:func:`load_adapted`).

The adapter changes the embedding model, so everything that embeds (``run``, ``search``,
``similar``) can use it; pairs are scored by the cosine of their vectors, as in
:mod:`pipeline.similar`, and the ``same`` threshold is calibrated after training on training pairs
kept out of the training itself.

Loss (``loss=``): ``contrastive`` (default: pull same pairs together, push different pairs below a
cosine margin of 0.5), ``cosent`` (CoSENT: every same pair of a batch should score above every
different pair, ``log(1 + sum exp(20 (cos_neg - cos_pos)))``) or ``cosine`` (mean squared error
between the cosine and the label). On AFQMC (``bench/tune.py``, USE) contrastive reached a higher dev
AUC and macro-F1 than CoSENT in fewer epochs (``bench/results/tune_afqmc*.json``).

For ``use-multilingual`` the default recipe adapts the sentence-level layers only; the per-token
layers are then frozen, so their output is computed once per text and training runs on it
(:class:`_CachedTrunk`), many times faster than running the whole model every step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ConfigError
from pipeline.similar import Calibration, PairMetrics, calibrate, metrics
from pipeline.tuning.backbones import BackboneSpec, HFEncoder, UseModule, backbone_spec
from pipeline.tuning.card import AdapterCard, adapter_hash, save_card
from pipeline.tuning.pairs import PairSet, TrainingPairs

logger = logging.getLogger(__name__)

LOSSES = ("cosent", "contrastive", "cosine")
TuneProgress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages ``prepare``, ``before``, ``train``, ``after``."""
_USE_TRUNK = ("proj", "conv_a", "conv_b")


@dataclass(frozen=True)
class TuneSettings:
    """How to train. ``None`` takes the model's recipe (:data:`~pipeline.tuning.backbones.BACKBONES`).

    Attributes:
        model: ``use-multilingual`` (CPU default), ``minilm`` or ``qwen3``.
        model_path: Local folder of the model (qwen3; minilm: another BERT-style model).
        epochs: Passes over the training pairs.
        max_pairs: Train on at most this many pairs (a seeded sample), for bounded runs.
        max_seconds: Stop training after this many seconds (the adapter so far is kept).
        calibration_pairs: Training pairs kept out of training to calibrate the threshold.
        targets: Module names LoRA adapts (default: the model's recipe).
    """

    model: str = "use-multilingual"
    model_path: str | None = None
    epochs: int = 3
    batch_size: int | None = None
    learning_rate: float | None = None
    rank: int | None = None
    alpha: int | None = None
    dropout: float | None = None
    max_length: int | None = None
    loss: str = "contrastive"
    max_pairs: int | None = None
    max_seconds: float | None = None
    calibration_pairs: int = 2000
    targets: tuple[str, ...] | None = None
    seed: int = 42
    device: str = "auto"
    threads: int | None = None


@dataclass(frozen=True)
class TuneResult:
    out: Path
    card: AdapterCard
    before: PairMetrics
    after: PairMetrics
    calibration: Calibration
    history: tuple[dict[str, float], ...] = field(default_factory=tuple)


def tune(
    pairs: TrainingPairs,
    *,
    out: Path,
    settings: TuneSettings = TuneSettings(),
    progress: TuneProgress | None = None,
    source: str = "pairs",
) -> TuneResult:
    """Train a LoRA adapter on ``pairs.train``, report ``pairs.evaluate`` before and after, save it.

    Writes into ``out``: ``adapter_config.json`` and ``adapter_model.safetensors`` (peft),
    ``tune.json`` (the card: base model, recipe, figures, hash) and ``calibration.json`` (the
    ``same`` threshold, read by ``similar --adapter``).

    Raises:
        ConfigError: A model that cannot be tuned, a bad setting, or peft missing (``extra_missing``).
    """
    import torch

    peft = require_peft()
    spec = backbone_spec(settings.model)
    _check(settings)
    recipe = _recipe(spec, settings)
    say = progress or (lambda stage, done, total: None)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    started = time.perf_counter()

    train, calibration_set = _carve(pairs.train, settings.calibration_pairs, rng)
    if settings.max_pairs and len(train) > settings.max_pairs:
        train = train.subset(np.sort(rng.choice(len(train), settings.max_pairs, replace=False)))
    say("prepare", 0, 1)
    backbone = spec.factory(model_path=settings.model_path, max_length=recipe["max_length"])
    device = _device(settings.device, spec)
    backbone.to(device)
    encoder = _encoder(backbone, recipe["targets"], texts=[*train.first, *train.second])
    say("prepare", 1, 1)

    before_cal, before = _judge(encoder, calibration_set, pairs.evaluate, say, "before", source)
    logger.info("before: %s (threshold %.4f)", before, before_cal.threshold)

    target = backbone.model if isinstance(backbone, HFEncoder) else backbone
    config = peft.LoraConfig(
        r=recipe["rank"],
        lora_alpha=recipe["alpha"],
        lora_dropout=recipe["dropout"],
        target_modules=list(_expand_targets(target, recipe["targets"])),
    )
    peft_model = peft.get_peft_model(target, config)
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=recipe["learning_rate"], weight_decay=0.0)
    batch = recipe["batch_size"]
    steps_per_epoch = max(1, len(train) // batch)
    total_steps = steps_per_epoch * settings.epochs
    warmup = max(1, int(0.05 * total_steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1.0 - s / total_steps)
    )
    labels = torch.tensor(train.labels, dtype=torch.float32, device=device)
    history: list[dict[str, float]] = []
    step = 0
    stopped = False
    train_started = time.perf_counter()
    generator = torch.Generator().manual_seed(settings.seed)
    for epoch in range(settings.epochs):
        encoder.train(True)
        order = torch.randperm(len(train), generator=generator)
        losses = []
        for start in range(0, steps_per_epoch * batch, batch):
            index = order[start : start + batch]
            first = encoder.encode_index(index, side=0)
            second = encoder.encode_index(index, side=1)
            loss = pair_loss(first, second, labels[index.to(device)], kind=settings.loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
            step += 1
            say("train", step, total_steps)
            if settings.max_seconds and time.perf_counter() - train_started > settings.max_seconds:
                stopped = True
                break
        history.append(
            {
                "epoch": epoch + 1,
                "steps": step,
                "loss": round(float(np.mean(losses)) if losses else 0.0, 5),
                "seconds": round(time.perf_counter() - train_started, 1),
            }
        )
        logger.info("epoch %d: loss %.4f", epoch + 1, history[-1]["loss"])
        if stopped:
            logger.info("stopped after %d steps (max_seconds)", step)
            break
    train_seconds = time.perf_counter() - train_started
    encoder.train(False)
    calibration, after = _judge(encoder, calibration_set, pairs.evaluate, say, "after", source)
    logger.info("after: %s (threshold %.4f)", after, calibration.threshold)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(out))
    digest = adapter_hash(out)
    calibration = Calibration(
        model=f"tuned:{digest[:12]}",
        threshold=calibration.threshold,
        metric=calibration.metric,
        n_pairs=calibration.n_pairs,
        train_macro_f1=calibration.train_macro_f1,
        source=calibration.source,
    )
    card = AdapterCard(
        base_model=spec.name,
        model_path=settings.model_path,
        recipe={
            **recipe,
            "targets": list(recipe["targets"]),
            "loss": settings.loss,
            "epochs": settings.epochs,
        },
        n_train_pairs=len(train),
        n_calibration_pairs=len(calibration_set),
        n_eval_pairs=len(pairs.evaluate),
        split=pairs.split_reason,
        source=source,
        before=asdict(before),
        after=asdict(after),
        threshold=calibration.threshold,
        threshold_before=before_cal.threshold,
        steps=step,
        stopped_early=stopped,
        train_seconds=round(train_seconds, 1),
        total_seconds=round(time.perf_counter() - started, 1),
        device=str(device),
        sha256=digest,
    )
    save_card(card, calibration, out)
    return TuneResult(
        out=out, card=card, before=before, after=after, calibration=calibration, history=tuple(history)
    )


def require_peft() -> Any:
    """The ``peft`` module, or a clear error naming the extra that brings it."""
    try:
        import peft
    except ImportError:
        raise ConfigError(
            "Tuning needs the optional package peft: pip install 'feedback-topics[tune]' "
            "(or pip install peft).",
            code="extra_missing",
        ) from None
    return peft


def pair_loss(first: Any, second: Any, labels: Any, *, kind: str = "contrastive") -> Any:
    """The training loss of a batch of unit vectors and 0/1 labels."""
    import torch

    cos = (first * second).sum(dim=1)
    if kind == "cosent":
        gaps = 20.0 * (cos[None, :] - cos[:, None])
        wanted = labels[:, None] > labels[None, :]  # row i same, column j different
        terms = torch.cat([torch.zeros(1, device=cos.device, dtype=cos.dtype), gaps[wanted]])
        return torch.logsumexp(terms, dim=0)
    if kind == "contrastive":
        margin = 0.5
        distance = 1.0 - cos
        return (labels * distance.pow(2) + (1 - labels) * torch.relu(margin - distance).pow(2)).mean()
    if kind == "cosine":
        return (cos - labels).pow(2).mean()
    raise ConfigError(f"Unknown loss {kind!r}: choose one of {', '.join(LOSSES)}.", code="tune_loss")


# ------------------------------------------------------------------------------------- helpers
def _check(settings: TuneSettings) -> None:
    problems = []
    if settings.loss not in LOSSES:
        problems.append(f"loss must be one of {', '.join(LOSSES)} (got {settings.loss!r})")
    if settings.epochs < 1:
        problems.append(f"epochs must be at least 1 (got {settings.epochs})")
    for name in ("batch_size", "rank", "alpha", "max_length", "max_pairs"):
        value = getattr(settings, name)
        if value is not None and value < 1:
            problems.append(f"{name} must be at least 1 (got {value})")
    if settings.dropout is not None and not 0 <= settings.dropout < 1:
        problems.append(f"dropout must be in [0, 1) (got {settings.dropout})")
    if settings.learning_rate is not None and settings.learning_rate <= 0:
        problems.append(f"learning rate must be positive (got {settings.learning_rate})")
    if problems:
        raise ConfigError("Bad tuning settings: " + "; ".join(problems) + ".", code="tune_settings")


def _recipe(spec: BackboneSpec, settings: TuneSettings) -> dict[str, Any]:
    return {
        "rank": settings.rank or spec.rank,
        "alpha": settings.alpha or spec.alpha,
        "dropout": spec.dropout if settings.dropout is None else settings.dropout,
        "learning_rate": settings.learning_rate or spec.learning_rate,
        "batch_size": settings.batch_size or spec.batch_size,
        "max_length": settings.max_length or spec.max_length,
        "targets": tuple(settings.targets or spec.target_modules),
    }


def _device(requested: str, spec: BackboneSpec) -> Any:
    import torch

    if spec.name == "use-multilingual" or requested == "cpu":
        return torch.device("cpu")
    from pipeline.device import cuda_available

    if requested.startswith("cuda") or (requested == "auto" and cuda_available()):
        if not cuda_available():
            raise ConfigError("No usable GPU was found; use --device cpu.", code="device")
        return torch.device("cuda" if requested == "auto" else requested)
    return torch.device("cpu")


def _expand_targets(module: Any, targets: Sequence[str]) -> list[str]:
    """Names of the ``nn.Linear`` modules whose own name or parent's name is in ``targets``."""
    from torch import nn

    wanted = set(targets)
    names = []
    for name, child in module.named_modules():
        if not isinstance(child, nn.Linear):
            continue
        parts = name.split(".")
        if parts[-1] in wanted or (len(parts) > 1 and parts[-2] in wanted and parts[-1].isdigit()):
            names.append(name)
    if not names:
        raise ConfigError(f"None of the modules {', '.join(targets)} is in this model.", code="tune_targets")
    return names


def _carve(train: PairSet, wanted: int, rng: np.random.Generator) -> tuple[PairSet, PairSet]:
    """Keep up to ``wanted`` training pairs (a tenth at most) apart for calibration.

    With fewer than 200 training pairs the threshold is calibrated on the training pairs themselves.
    """
    if len(train) < 200 or wanted <= 0:
        return train, train
    n = min(wanted, len(train) // 10)
    labels = train.labels
    held = rng.choice(len(train), n, replace=False)
    if len(set(labels[held].tolist())) < 2:
        return train, train
    keep = np.setdiff1d(np.arange(len(train)), held)
    return train.subset(keep), train.subset(np.sort(held))


def _judge(
    encoder: Any, calibrate_on: PairSet, evaluate: PairSet, say: TuneProgress, stage: str, source: str
) -> tuple[Calibration, PairMetrics]:
    say(stage, 0, 2)
    fit = encoder.score(calibrate_on)
    say(stage, 1, 2)
    calibration = calibrate(fit, calibrate_on.labels, model="tuned", source=f"{source} (calibration pairs)")
    result = metrics(encoder.score(evaluate), evaluate.labels, calibration.threshold)
    say(stage, 2, 2)
    return calibration, result


def _encoder(backbone: Any, targets: Sequence[str], *, texts: list[str]) -> Any:
    if isinstance(backbone, UseModule) and not set(targets) & set(_USE_TRUNK):
        return _CachedTrunk(backbone, texts)
    return _Direct(backbone, texts)


class _Direct:
    """Encodes training texts through the whole model each step."""

    def __init__(self, backbone: Any, texts: list[str]) -> None:
        self.backbone = backbone
        half = len(texts) // 2
        self.sides = (texts[:half], texts[half:])

    def train(self, mode: bool) -> None:
        self.backbone.train(mode)

    def encode_index(self, index: Any, *, side: int) -> Any:
        texts = self.sides[side]
        return self.backbone.encode([texts[int(i)] for i in index])

    def embed(self, texts: Sequence[str], batch: int = 256) -> np.ndarray:
        import torch

        self.backbone.train(False)
        parts = []
        with torch.no_grad():
            for start in range(0, len(texts), batch):
                parts.append(self.backbone.encode(list(texts[start : start + batch])).float().cpu().numpy())
        return np.vstack(parts) if parts else np.zeros((0, 1), dtype=np.float32)

    def score(self, pairs: PairSet) -> np.ndarray:
        from pipeline.similar import score_pairs

        return score_pairs(list(pairs.first), list(pairs.second), embedder=_Embed(self))


class _CachedTrunk(_Direct):
    """USE with frozen per-token layers: their per-text output is computed once, in length order."""

    def __init__(self, backbone: UseModule, texts: list[str]) -> None:
        import torch

        super().__init__(backbone, texts)
        unique = list(dict.fromkeys(texts))
        self.position = {text: i for i, text in enumerate(unique)}
        self.pooled, self.root = self._trunk(unique)
        half = len(texts) // 2
        rows = torch.tensor([self.position[t] for t in texts], dtype=torch.int64)
        self.rows = (rows[:half], rows[half:])

    def _trunk(self, texts: list[str]) -> tuple[Any, Any]:
        import torch

        backbone: UseModule = self.backbone
        ids = backbone.tokenize(texts)
        order = np.argsort([len(x) for x in ids], kind="stable")
        pooled = torch.zeros((len(texts), 1280), dtype=torch.float32)
        root = torch.zeros((len(texts), 1), dtype=torch.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), 256):
                chosen = order[start : start + 256]
                p, r = backbone.trunk([ids[i] for i in chosen])
                pooled[torch.from_numpy(chosen)] = p
                root[torch.from_numpy(chosen)] = r
        return pooled.clone(), root.clone()

    def encode_index(self, index: Any, *, side: int) -> Any:
        rows = self.rows[side][index]
        return self.backbone.head(self.pooled[rows], self.root[rows])

    def embed(self, texts: Sequence[str], batch: int = 256) -> np.ndarray:
        import torch

        self.backbone.train(False)
        known = [self.position.get(t, -1) for t in texts]
        missing = [t for t, k in zip(texts, known, strict=True) if k < 0]
        extra_p, extra_r = self._trunk(missing) if missing else (None, None)
        out = np.zeros((len(texts), 512), dtype=np.float32)
        j = 0
        with torch.no_grad():
            pooled = torch.zeros((len(texts), 1280))
            root = torch.zeros((len(texts), 1))
            for i, k in enumerate(known):
                if k >= 0:
                    pooled[i], root[i] = self.pooled[k], self.root[k]
                else:
                    assert extra_p is not None and extra_r is not None
                    pooled[i], root[i] = extra_p[j], extra_r[j]
                    j += 1
            for start in range(0, len(texts), 4096):
                stop = start + 4096
                out[start:stop] = self.backbone.head(pooled[start:stop], root[start:stop]).numpy()
        return out


class _Embed:
    """The tiny embedder interface :func:`pipeline.similar.score_pairs` needs."""

    def __init__(self, encoder: _Direct) -> None:
        self.encoder = encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.embed(texts)


# ------------------------------------------------------------------------------------ loading
def load_adapted(adapter: Path, *, device: str = "cpu") -> tuple[Any, AdapterCard]:
    """The card's base model with the adapter merged into its weights, in eval mode.

    Raises:
        ConfigError: The folder is not an adapter written by ``tune`` (``adapter``).
    """
    from pipeline.tuning.card import load_card

    peft = require_peft()
    card = load_card(adapter)
    spec = backbone_spec(card.base_model)
    backbone = spec.factory(model_path=card.model_path, max_length=int(card.recipe.get("max_length", 64)))
    target = backbone.model if isinstance(backbone, HFEncoder) else backbone
    try:
        merged = peft.PeftModel.from_pretrained(target, str(adapter)).merge_and_unload()
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ConfigError(
            f"The adapter in {adapter} does not fit the model {card.base_model}: {exc}.", code="adapter"
        ) from None
    if isinstance(backbone, HFEncoder):
        backbone.model = merged
    backbone.train(False)
    return backbone.to(device), card
