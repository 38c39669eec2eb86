"""Re-running a saved run's data with new settings (issue 14 part 4): pipeline.rerun and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import RunConfig
from pipeline.errors import ConfigError
from pipeline.rerun import changed_settings, is_run_folder, rerun, saved_input
from pipeline.run import run
from pipeline.store import save_run

ROOT = Path(__file__).resolve().parents[1]


def _csv() -> bytes:
    """Feedback with a row the loader refuses, an empty answer and a duplicate."""
    subjects = ("the delivery was late", "the app keeps crashing", "a refund never arrived", "great support")
    lines = ["id,text,note"]
    for i in range(90):
        lines.append(f'{i},"{subjects[i % 4]} (order {i % 23})",note {i % 19} on {subjects[i % 3]}')
    lines.insert(30, '900,"broken "quote" here,extra,fields,,')
    lines.append("91,,a note")
    lines.append('92,"the delivery was late (order 0)",another note')
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def first_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("first") / "20261201-100000-feedback-abc123"
    result = run(_csv(), filename="feedback.csv", config=RunConfig(model="fake", use_cache=False))
    assert result.ledger.excluded.get("bad_line") == 1, result.ledger  # the fixture is what it says
    save_run(result, folder)
    return folder


def test_saved_input_is_the_table_the_first_run_read(first_dir: Path) -> None:
    from pipeline.load import load_table

    table = saved_input(first_dir)
    fresh = load_table(_csv(), filename="feedback.csv")
    assert table.report.filename == "feedback.csv"
    assert table.report.sha256 == fresh.report.sha256
    assert table.row_status == fresh.row_status and "bad_line" in table.row_status
    assert table.frame.equals(fresh.frame)
    assert table.report.issues == fresh.report.issues


def test_rerun_analyses_the_same_rows_with_new_settings_and_records_lineage(first_dir: Path) -> None:
    before = json.loads((first_dir / "run.json").read_text(encoding="utf-8"))
    result = rerun(first_dir, config=RunConfig(model="fake", use_cache=False, n_topics=3, seed=7))
    assert result.clustering.n_topics == 3
    assert result.ledger.rows_read == before["ledger"]["rows_read"]
    assert result.ledger.excluded == before["ledger"]["excluded"]
    assert result.manifest["input_sha256"] == before["input_sha256"]
    assert result.manifest["input_filename"] == "feedback.csv"
    lineage = result.manifest["rerun_of"]
    assert lineage["run_id"] == first_dir.name
    assert lineage["input_sha256"] == before["input_sha256"]
    assert lineage["created_at"] == before["created_at"]
    assert lineage["changed"] == {"n_topics": [None, 3], "seed": [42, 7]}
    # the source run is untouched, and the new run saves and reopens like any other
    assert json.loads((first_dir / "run.json").read_text(encoding="utf-8")) == before
    out = first_dir.parent / "second"
    save_run(result, out)
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["rerun_of"]["run_id"] == first_dir.name
    assert is_run_folder(out)


def test_rerun_can_analyse_another_column(first_dir: Path) -> None:
    result = rerun(first_dir, config=RunConfig(model="fake", use_cache=False, text_column="note", n_topics=2))
    assert result.documents.text_column == "note"
    assert result.manifest["rerun_of"]["changed"]["text_column"] == [None, "note"]


def test_rerun_refuses_a_folder_that_is_not_a_run_and_a_damaged_one(tmp_path: Path, first_dir: Path) -> None:
    with pytest.raises(ConfigError, match="not the folder of a saved run") as info:
        saved_input(tmp_path)
    assert info.value.code == "not_a_run"
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(first_dir, damaged)
    (damaged / "data" / "table.parquet").write_bytes(b"not parquet")
    with pytest.raises(ConfigError, match="damaged") as info:
        rerun(damaged, config=RunConfig(model="fake"))
    assert info.value.code == "not_a_run"


def test_changed_settings_lists_only_what_differs() -> None:
    before = RunConfig().to_dict()
    after = RunConfig(clusterer="hdbscan", load=RunConfig().load).to_dict()
    assert changed_settings(before, after) == {"clusterer": ["kmeans", "hdbscan"]}
    assert changed_settings(before, before) == {}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_cli_reruns_a_run_folder_and_refuses_what_cannot_work(first_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    done = _cli("run", str(first_dir), "--out", str(out), "--model", "fake", "--topics", "3", "--quiet")
    assert done.returncode == 0, done.stderr
    assert f"Re-run of {first_dir.name} (n_topics None -> 3, use_cache False -> True)" in done.stdout
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["rerun_of"]["changed"] == {"n_topics": [None, 3], "use_cache": [False, True]}
    assert (out / "topics.csv").is_file() and (out / "report.html").is_file()

    before = (first_dir / "run.json").read_bytes()
    same = _cli("run", str(first_dir), "--out", str(first_dir), "--model", "fake", "--quiet")
    assert same.returncode == 2 and "would replace it" in same.stderr
    encoding = _cli("run", str(first_dir), "--out", str(tmp_path / "x"), "--encoding", "gb18030")
    assert encoding.returncode == 2 and "--encoding" in encoding.stderr
    not_a_run = _cli("run", str(tmp_path), "--out", str(tmp_path / "y"))
    assert not_a_run.returncode == 2 and "not the folder of a saved run" in not_a_run.stderr
    for result in (same, encoding, not_a_run):
        assert "Traceback" not in result.stderr
    assert (first_dir / "run.json").read_bytes() == before
