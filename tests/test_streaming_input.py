"""Folder and glob input (pipeline/load/stream.py) on the local engine, and the engine flags' errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import RunConfig
from pipeline.embedders.fake import FakeEmbedder
from pipeline.errors import ConfigError, LoadError
from pipeline.load.stream import SOURCE_COLUMN, input_files, iter_batches, load_files
from pipeline.types import LoadOptions

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "feedback_sample.csv"


def split_sample(folder: Path, *, parts: int = 3) -> pd.DataFrame:
    """The bundled sample in ``parts`` files (Parquet, CSV, JSONL), named so name order is row order."""
    source = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(source)
    for i in range(parts):
        part = source.iloc[i * n // parts : (i + 1) * n // parts]
        if i % 3 == 1:
            part.to_csv(folder / f"part-{i}.csv", index=False)
        elif i % 3 == 2:
            part.to_json(folder / f"part-{i}.jsonl", orient="records", lines=True, force_ascii=False)
        else:
            part.to_parquet(folder / f"part-{i}.parquet", index=False, row_group_size=50)
    (folder / "notes.md").write_text("not data")  # ignored: not a data file
    return source


def test_folder_rows_are_numbered_in_file_name_order_and_read_in_batches(tmp_path: Path) -> None:
    source = split_sample(tmp_path / "in")
    files = input_files(tmp_path / "in")
    assert [p.name for p in files.paths] == ["part-0.parquet", "part-1.csv", "part-2.jsonl"]
    batches = list(iter_batches(files.paths[0], file_index=0, options=LoadOptions(), batch_rows=64))
    assert [len(b.frame) for b in batches] == [64, 64, 64, 8]  # a Parquet file, batch by batch
    assert [b.first_row for b in batches] == [0, 64, 128, 192]
    table = load_files(files, options=LoadOptions(), batch_rows=64)
    assert table.frame["id"].tolist() == source["id"].tolist()
    assert table.frame["feedback"].tolist() == source["feedback"].tolist()
    assert [s.rows for s in table.report.sources] == [200, 200, 200]
    assert [s.first_row for s in table.report.sources] == [0, 200, 400]
    assert table.report.to_dict()["files"][1]["name"] == "part-1.csv"
    glob_files = input_files(str(tmp_path / "in" / "*.parquet"))
    assert [p.name for p in glob_files.paths] == ["part-0.parquet"]


def test_no_data_files_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(LoadError, match="contains no input files"):
        input_files(tmp_path)


def test_local_engine_on_a_folder_writes_source_file_and_counts_every_file(tmp_path: Path) -> None:
    from pipeline.export import assignments_frame
    from pipeline.run import run

    source = split_sample(tmp_path / "in")
    result = run(input_files(tmp_path / "in"), config=RunConfig(use_cache=False), embedder=FakeEmbedder())
    manifest = result.manifest
    assert manifest["engine"] == "local" and manifest["engine_reason"]
    by_file = manifest["ledger_by_file"]
    assert [f["file"] for f in by_file] == ["part-0.parquet", "part-1.csv", "part-2.jsonl"]
    assert sum(f["rows_read"] for f in by_file) == result.ledger.rows_read == len(source)
    assert sum(f["rows_clustered"] for f in by_file) == result.ledger.rows_clustered
    frame = assignments_frame(result)
    assert frame["row"].tolist() == list(range(len(source)))
    assert (
        frame[SOURCE_COLUMN].tolist()
        == ["part-0.parquet"] * 200 + ["part-1.csv"] * 200 + ["part-2.jsonl"] * 200
    )
    assert frame["id"].tolist() == source["id"].tolist()
    # The same rows as one file give the same topics.
    single = run(
        SAMPLE.read_bytes(), filename=SAMPLE.name, config=RunConfig(use_cache=False), embedder=FakeEmbedder()
    )
    assert np.array_equal(single.row_labels(), result.row_labels())


def test_engine_errors_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.config import validate_config
    from pipeline.engines.ray import import_ray

    with pytest.raises(ConfigError, match="engine must be one of local, ray"):
        validate_config(RunConfig(engine="spark"))
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(ConfigError, match=r"pip install 'feedback-topics\[ray\]'"):
        import_ray()


@pytest.mark.slow
def test_cli_runs_a_folder(tmp_path: Path) -> None:
    split_sample(tmp_path / "in")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(tmp_path / "in"), "--out", str(out), "--model", "fake"],
        cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert assignments[SOURCE_COLUMN].nunique() == 3 and len(assignments) == 600
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["engine"] == "local" and len(manifest["input"]["files"]) == 3
