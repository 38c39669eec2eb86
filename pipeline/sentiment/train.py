"""Train the shipped sentiment heads: ``python -m pipeline.sentiment.train [EMBEDDER ...]``.

Embeds :func:`pipeline.sentiment.corpus.training_examples` (sentences written for this project)
with each bundled embedder and writes ``pipeline/sentiment/heads/<name>.json``: a three-class
logistic regression (negative, neutral, positive). Deterministic for a given corpus and model.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from pipeline.sentiment.corpus import CLASSES, training_examples

logger = logging.getLogger(__name__)

HEADS_DIR = Path(__file__).with_name("heads")
BUNDLED = ("use-multilingual",)


def train_head(name: str, *, seed: int = 0) -> dict[str, object]:
    """Fit the head for embedder ``name`` and return its JSON-ready form."""
    from sklearn.linear_model import LogisticRegression

    from pipeline.embedders.registry import create_embedder

    examples = training_examples(seed=seed)
    embedder = create_embedder(name, device="cpu")
    vectors = embedder.embed([e.text for e in examples])
    target = np.array([CLASSES.index(e.label) for e in examples])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(vectors, target)
    return {
        "embedder": name,
        "model_id": embedder.model_id,
        "classes": [CLASSES[int(c)] for c in model.classes_],
        "coef": np.round(model.coef_, 6).tolist(),
        "intercept": np.round(model.intercept_, 6).tolist(),
        "training_examples": len(examples),
        "training_accuracy": round(float(model.score(vectors, target)), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("embedders", nargs="*", default=list(BUNDLED))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    HEADS_DIR.mkdir(exist_ok=True)
    for name in args.embedders:
        head = train_head(name)
        path = HEADS_DIR / f"{name}.json"
        path.write_text(json.dumps(head, separators=(",", ":")) + "\n", encoding="utf-8")
        logger.info("wrote %s (%s examples)", path, head["training_examples"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
