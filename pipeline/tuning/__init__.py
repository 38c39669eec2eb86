"""Domain adaptation: LoRA adapters trained on labelled pairs (``feedback-topics tune``).

Needs the optional ``tune`` extra (``pip install 'feedback-topics[tune]'``, which brings peft).
Nothing here is imported by the rest of the package except through ``pipeline.tune_cli`` and the
``tuned`` embedder (:mod:`pipeline.embedders.lora`), inside functions; without peft those say which
extra to install (:func:`pipeline.tuning.lora.require_peft`) instead of failing at import.

* :mod:`pipeline.tuning.pairs`: pairs tables, the train/evaluate split, pairs from a run's curation.
* :mod:`pipeline.tuning.backbones`: the trainable torch forms of the models (USE, MiniLM, Qwen3).
* :mod:`pipeline.tuning.lora`: :func:`~pipeline.tuning.lora.tune` and loading an adapter back.
* :mod:`pipeline.tuning.card`: ``tune.json``, the adapter's card (base model, recipe, hash, figures).
"""
