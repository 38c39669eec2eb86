"""``feedback-topics similar``: pair scores, threshold calibration, saved calibrations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.similar import calibrate, labelled_split, labels_of, metrics, pair_columns, similar


class _Bag:
    """A fake embedder: a text's vector counts its characters (a cheap, deterministic similarity)."""

    dim = 64

    def embed(self, texts, *, kind="document", progress=None):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text:
                out[i, ord(ch) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def test_calibration_maximises_macro_f1_not_accuracy() -> None:
    # 90 % different pairs: "always different" has accuracy 0.9 but macro-F1 0.47.
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(20), np.zeros(180)].astype(int)
    scores = np.r_[rng.uniform(0.6, 1.0, 20), rng.uniform(0.0, 0.7, 180)]
    cal = calibrate(scores, labels, model="m", source="t")
    assert 0.55 <= cal.threshold <= 0.75
    chosen = metrics(scores, labels, cal.threshold)
    always_different = metrics(scores, labels, 2.0)
    assert always_different.accuracy == 0.9 and always_different.macro_f1 < 0.5
    assert chosen.macro_f1 > 0.85 and chosen.macro_f1 == cal.train_macro_f1
    with pytest.raises(ConfigError, match="both"):
        calibrate(scores, np.zeros(200), model="m", source="t")


def test_metrics_on_a_hand_checked_case() -> None:
    m = metrics(np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 0, 1, 0]), 0.5)
    assert (m.accuracy, m.paraphrase_f1, m.macro_f1) == (0.5, 0.5, 0.5)


def test_split_columns_and_labels() -> None:
    frame = pd.DataFrame(
        {
            "Sentence1": ["a"] * 4,
            "sentence2": ["b"] * 4,
            "label": ["1", "0", "", "x"],
            "split": ["train", "dev"] * 2,
        }
    )
    assert pair_columns(frame) == ("Sentence1", "sentence2")
    assert labels_of(frame).tolist() == [1, 0, -1, -1]
    fit, held = labelled_split(frame)
    assert fit.tolist() == [True, False, False, False] and held.tolist() == [False, True, False, False]
    no_split = pd.DataFrame({"text": ["a"] * 50, "text_pair": ["b"] * 50, "label": ["1", "0"] * 25})
    fit, held = labelled_split(no_split)
    assert held.sum() == 5 and not (fit & held).any() and (fit | held).all()
    with pytest.raises(ConfigError, match="text_pair"):
        pair_columns(pd.DataFrame({"a": [1], "b": [2]}))


def test_similar_keeps_every_row_and_needs_a_threshold() -> None:
    frame = pd.DataFrame(
        {"text": ["abc", "abc", ""], "text_pair": ["abc", "xyz", "q"], "id": ["1", "2", "3"]}
    )
    out = similar(frame, embedder=_Bag(), model="bag", threshold=0.5)
    assert list(out.frame.columns) == ["text", "text_pair", "id", "score", "same"]
    assert out.frame["score"].iloc[0] == pytest.approx(1.0)
    assert out.frame["same"].tolist()[:2] == [1, 0] and pd.isna(out.frame["same"].iloc[2])
    assert out.n_empty == 1
    with pytest.raises(ConfigError, match="No threshold"):
        similar(frame, embedder=_Bag(), model="bag")


PAIRS = [
    ("where is my refund", "I still have not received my refund", 1),
    ("the app crashes when I log in", "app keeps crashing at login", 1),
    ("delivery was two days late", "my parcel arrived two days late", 1),
    ("how do I change my address", "I want to update my delivery address", 1),
    ("借呗能分期吗", "借呗支持分几期还款", 1),
    ("花呗怎么还款", "花呗的还款方式有哪些", 1),
    ("where is my refund", "the app crashes when I log in", 0),
    ("delivery was two days late", "how do I change my password", 0),
    ("借呗能分期吗", "花呗额度怎么提升", 0),
    ("the food was cold", "my card was charged twice", 0),
    ("I love the new design", "where is my refund", 0),
    ("花呗怎么还款", "送餐太慢了", 0),
]


@pytest.mark.slow
def test_cli_similar_calibrates_saves_and_reuses(tmp_path: Path) -> None:
    from pipeline.cli import main

    rows = [{"text": a, "text_pair": b, "label": y, "split": "train"} for a, b, y in PAIRS]
    rows += [{"text": a, "text_pair": b, "label": y, "split": "dev"} for a, b, y in PAIRS[::3]]
    labelled = tmp_path / "pairs.csv"
    pd.DataFrame(rows).to_csv(labelled, index=False)
    out = tmp_path / "out" / "scores.csv"
    assert main(["similar", str(labelled), "--out", str(out)]) == 0
    scores = pd.read_csv(out, encoding="utf-8-sig")
    assert len(scores) == len(rows) and {"score", "same", "label", "split"} <= set(scores.columns)
    calibration = json.loads((out.parent / "calibration.json").read_text(encoding="utf-8"))
    assert calibration["model"] == "use-multilingual" and calibration["metric"] == "macro_f1"
    threshold = calibration["threshold"]
    assert ((scores["score"] >= threshold).astype(int) == scores["same"]).all()
    train = scores[scores["split"] == "train"]
    assert float(np.mean(train["same"] == train["label"])) >= 0.8, train

    unlabelled = tmp_path / "new.csv"
    pd.DataFrame(
        {"text": ["借呗可以分期还吗", "where is my refund"], "text_pair": ["借呗能分期吗", "送餐太慢"]}
    ).to_csv(unlabelled, index=False)
    out2 = tmp_path / "new_scores.csv"
    assert (
        main(
            [
                "similar",
                str(unlabelled),
                "--out",
                str(out2),
                "--calibration",
                str(out.parent / "calibration.json"),
            ]
        )
        == 0
    )
    judged = pd.read_csv(out2, encoding="utf-8-sig")
    assert ((judged["score"] >= threshold).astype(int) == judged["same"]).all()
    assert judged["score"].iloc[0] > judged["score"].iloc[1]


def test_cli_similar_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    assert main(["similar", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["similar", str(bad), "--out", str(tmp_path / "o.csv"), "--threshold", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "text_pair" in err and "Traceback" not in err
