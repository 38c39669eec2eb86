"""``feedback-topics tune``: train a LoRA adapter on labelled pairs.

    feedback-topics tune PAIRS.csv --out ADAPTER [--model use-multilingual|minilm|qwen3]
    feedback-topics tune RUN_DIR --out ADAPTER            # pairs from the run's topics and merges
    feedback-topics similar PAIRS.csv --adapter ADAPTER --out scores.csv
    feedback-topics run FILE --adapter ADAPTER --out report/

Prints accuracy and F1 on the evaluation pairs before and after training; the adapter folder holds
the peft files, ``tune.json`` (card) and ``calibration.json`` (the ``same`` threshold). Needs the
``tune`` extra (peft).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.config import DEVICES


def add_parser(sub: Any) -> None:
    tune = sub.add_parser("tune", help="train a LoRA adapter on labelled text pairs (needs peft)")
    tune.add_argument(
        "pairs",
        type=Path,
        help="CSV/XLSX/... with text, text_pair, label (1 same, 0 different), optional split; "
        "or a run folder, whose topics and merges become pairs",
    )
    tune.add_argument("--out", type=Path, required=True, help="adapter folder to write")
    tune.add_argument(
        "--model", default="use-multilingual", help="base model: use-multilingual (default), minilm, qwen3"
    )
    tune.add_argument("--model-path", help="local folder of the base model (qwen3)")
    tune.add_argument("--epochs", type=int, default=3, help="passes over the training pairs (default 3)")
    tune.add_argument(
        "--loss",
        choices=("contrastive", "cosent", "cosine"),
        default="contrastive",
        help="default contrastive (cosine margin 0.5)",
    )
    tune.add_argument("--batch-size", type=int, help="pairs per step (default: the model's recipe)")
    tune.add_argument("--learning-rate", type=float, help="default: the model's recipe")
    tune.add_argument("--rank", type=int, help="LoRA rank (default 8)")
    tune.add_argument("--max-pairs", type=int, help="train on at most this many pairs (a seeded sample)")
    tune.add_argument("--max-minutes", type=float, help="stop training after this many minutes")
    tune.add_argument("--save-pairs", type=Path, help="also write the pairs made from a run folder (CSV)")
    tune.add_argument("--device", choices=DEVICES, default="auto")
    tune.add_argument("--seed", type=int, default=42)
    tune.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    from pipeline.errors import ConfigError, LoadError
    from pipeline.tuning.lora import TuneSettings, require_peft, tune
    from pipeline.tuning.pairs import pairs_from_run, training_pairs

    require_peft()  # before reading anything: a missing extra fails in a second
    path: Path = args.pairs
    if path.is_dir():
        frame = pairs_from_run(path, seed=args.seed)
        print(f"{len(frame)} pairs made from the run's topics and edits in {path}.")
        if args.save_pairs:
            from pipeline.export import to_csv_bytes
            from pipeline.files import atomic_write_bytes

            atomic_write_bytes(args.save_pairs, to_csv_bytes(frame))
    elif path.is_file():
        from pipeline.load import load_table

        frame = load_table(path.read_bytes(), filename=path.name).frame
    else:
        raise LoadError(f"No such file or run folder: {path}.", code="not_found")
    if args.out.exists() and any(args.out.iterdir()) and not (args.out / "tune.json").is_file():
        raise ConfigError(
            f"{args.out} already holds other files; give a new or empty folder for the adapter.", code="out"
        )
    pairs = training_pairs(frame, seed=args.seed)
    settings = TuneSettings(
        model=args.model,
        model_path=args.model_path,
        epochs=args.epochs,
        loss=args.loss,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        rank=args.rank,
        max_pairs=args.max_pairs,
        max_seconds=args.max_minutes * 60 if args.max_minutes else None,
        seed=args.seed,
        device=args.device,
    )
    print(
        f"{len(pairs.train)} training pairs, {len(pairs.evaluate)} evaluation pairs ({pairs.split_reason})"
        + (f"; {pairs.n_skipped} rows without a 0/1 label or text skipped" if pairs.n_skipped else "")
        + "."
    )
    from pipeline.cli import _TqdmProgress

    progress = _TqdmProgress(enabled=not args.quiet, describe=_tune_stage_bar)
    try:
        result = tune(pairs, out=args.out, settings=settings, progress=progress, source=path.name)
    finally:
        progress.close()
    b, a, card = result.before, result.after, result.card
    print(f"{'':8}{'accuracy':>10}{'macro-F1':>10}{'same F1':>10}  (on {a.n} evaluation pairs)")
    print(f"{'before':8}{b.accuracy:>10.3f}{b.macro_f1:>10.3f}{b.paraphrase_f1:>10.3f}")
    print(f"{'after':8}{a.accuracy:>10.3f}{a.macro_f1:>10.3f}{a.paraphrase_f1:>10.3f}")
    stopped = " (stopped at --max-minutes)" if card.stopped_early else ""
    print(
        f"{card.steps} steps in {card.train_seconds:.0f} s{stopped}; threshold {card.threshold:.4f}. "
        f"Adapter written to {args.out}/ (use it with --adapter {args.out})."
    )
    return 0


def _tune_stage_bar(stage: str) -> tuple[str, str, bool]:
    """``(label, unit, leave)`` of a ``tune`` stage's progress bar (only training's bar stays)."""
    labels = {"prepare": "Loading", "before": "Scoring (before)", "train": "Training"}
    return labels.get(stage, "Scoring (after)"), "it", stage == "train"


def adapter_options(adapter: Path, *, model: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(model, options)`` for ``--adapter DIR``: the ``tuned`` embedder over the adapter's base.

    Raises:
        ConfigError: Not an adapter folder, or ``--model`` names another base model (``adapter``).
    """
    from pipeline.errors import ConfigError
    from pipeline.tuning.card import load_card

    card = load_card(adapter)
    if model not in ("auto", "tuned", card.base_model):
        raise ConfigError(
            f"The adapter {adapter} was trained on {card.base_model}, not {model}: drop --model "
            f"or use --model {card.base_model}.",
            code="adapter",
        )
    out = dict(options)
    if card.base_model != "qwen3":
        out.pop("model", None)
    out["adapter"] = str(Path(adapter).resolve())
    return "tuned", out


def adapter_calibration(adapter: Path) -> Any:
    """The adapter's saved ``same`` threshold (``calibration.json``), or ``None``."""
    from pipeline.similar import CALIBRATION_FILE, load_calibration

    path = Path(adapter) / CALIBRATION_FILE
    return load_calibration(path) if path.is_file() else None


def search_adapter_options(adapter: Path, manifest: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``search --adapter DIR``: only the adapter the run was embedded with (its vectors are in the run).

    Raises:
        ConfigError: The run was embedded without this adapter (``adapter``).
    """
    from pipeline.errors import ConfigError
    from pipeline.tuning.card import load_card

    card = load_card(adapter)
    recorded = manifest.get("adapter") or {}
    if recorded.get("sha256") != card.sha256:
        where = f"adapter {str(recorded.get('sha256', ''))[:12]}" if recorded else "no adapter"
        raise ConfigError(
            f"This run was embedded with {where}, so its vectors do not match the adapter {adapter}. "
            "Run the analysis again with --adapter to search with it.",
            code="adapter",
        )
    options = dict((manifest.get("config") or {}).get("model_options") or {})
    options["adapter"] = str(Path(adapter).resolve())
    return "tuned", options
