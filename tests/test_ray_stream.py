"""Streamed Ray runs (``--ray-stream-rows``) in Ray's local mode on small data.

The same input as the collected Ray engine and the local engine gives the same topics, the same
ledger and every row once in the assignment parts and ``assignments.csv``; the driver keeps only
the fitted sample. One Ray start for the module; skipped where the ``[ray]`` extra is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from pipeline.config import RunConfig
from pipeline.embedders.fake import FakeEmbedder
from pipeline.errors import ConfigError, LoadError
from pipeline.load.stream import SOURCE_COLUMN, input_files
from tests.test_ray_engine import planted_folder
from tests.test_streaming_input import split_sample

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _run(data: object, **options: object) -> object:
    from pipeline.run import run

    return run(data, config=RunConfig(use_cache=False, **options), embedder=FakeEmbedder())  # type: ignore[arg-type]


def _parts(result: object) -> pd.DataFrame:
    folder = result.row_parts  # type: ignore[attr-defined]
    return pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("part-*.parquet"))], ignore_index=True)


def test_streamed_run_assigns_every_row_once_with_the_collected_engines_topics(tmp_path: Path) -> None:
    from pipeline.engines.ray_stream import release

    planted = planted_folder(tmp_path / "in", rows=3000)
    repeated = pd.read_parquet(tmp_path / "in" / "part-00.parquet").head(40)  # exact duplicates, a later file
    repeated.to_parquet(tmp_path / "in" / "part-04.parquet", index=False)
    planted = np.r_[planted, planted[:40]]
    options = {"umap_fit_rows": 1000, "n_topics": 6}
    streamed = _run(input_files(tmp_path / "in"), engine="ray", ray_stream_rows=0, **options)
    collected = _run(input_files(tmp_path / "in"), engine="ray", ray_stream_rows=-1, **options)
    assert streamed.row_parts is not None and collected.row_parts is None  # type: ignore[attr-defined]
    details = streamed.manifest["engine_details"]["streamed"]  # type: ignore[attr-defined]
    assert details["rows"] == 3040 and details["fit_rows"] == 1000
    assert len(streamed.documents.texts) == 1000  # type: ignore[attr-defined]  # the driver kept the sample
    frame = _parts(streamed)
    assert frame["row"].tolist() == list(range(3040))
    assert frame[SOURCE_COLUMN].value_counts().sort_index().tolist() == [750, 750, 750, 750, 40]
    assert frame["status"].tolist() == list(collected.documents.status)  # type: ignore[attr-defined]
    labels = frame["topic_id"].astype(int).to_numpy()
    assert adjusted_rand_score(planted, labels) >= 0.90
    assert adjusted_rand_score(collected.row_labels(), labels) >= 0.90  # type: ignore[attr-defined]
    # The whole input's counts, not the sample's.
    assert streamed.ledger == collected.ledger  # type: ignore[attr-defined]
    assert streamed.manifest["ledger_by_file"] == collected.manifest["ledger_by_file"]  # type: ignore[attr-defined]
    sizes = {t.id: t.size for t in streamed.topics}  # type: ignore[attr-defined]
    assert sum(sizes.values()) == 3040
    assert sizes == frame["topic_id"].astype(int).value_counts().to_dict()
    assert sum(t.size for t in streamed.themes) == 3040  # type: ignore[attr-defined]
    assert frame["topic_name"].tolist() == [streamed.topic_names()[t] for t in labels]  # type: ignore[attr-defined]
    from pipeline.export import to_csv_bytes
    from pipeline.report import write_report

    write_report(streamed, tmp_path / "out")  # type: ignore[arg-type]
    joined = (tmp_path / "out" / "assignments.csv").read_bytes()  # the workers' CSV bodies, joined
    assert joined == to_csv_bytes(frame)  # byte for byte the CSV of all parts at once
    work = streamed.row_parts.parent  # type: ignore[attr-defined]
    release(streamed)  # type: ignore[arg-type]
    assert not work.exists()


def test_streamed_run_of_mixed_files_matches_the_local_engine(tmp_path: Path) -> None:
    """A fitted sample as large as the input: the topics are the local engine's own."""
    source = split_sample(tmp_path / "in")
    local = _run(input_files(tmp_path / "in"), multi_topic="off")
    streamed = _run(input_files(tmp_path / "in"), engine="ray", ray_stream_rows=0)
    frame = _parts(streamed)
    assert frame["row"].tolist() == list(range(len(source)))
    assert frame["id"].tolist() == source["id"].tolist()
    assert frame["status"].tolist() == list(local.documents.status)  # type: ignore[attr-defined]
    agree = np.mean(frame["language"].fillna("").to_numpy() == np.asarray(local.languages))  # type: ignore[attr-defined]
    assert agree >= 0.98, agree
    assert adjusted_rand_score(local.row_labels(), frame["topic_id"].fillna(-2).astype(int)) >= 0.90  # type: ignore[attr-defined]
    assert streamed.ledger.rows_read == local.ledger.rows_read  # type: ignore[attr-defined]
    assert streamed.ledger.excluded == local.ledger.excluded  # type: ignore[attr-defined]
    assert streamed.manifest["ledger_by_file"] == local.manifest["ledger_by_file"]  # type: ignore[attr-defined]


def test_options_that_need_every_row_fail_clearly(tmp_path: Path) -> None:
    planted_folder(tmp_path / "in", rows=400)
    with pytest.raises(ConfigError, match="near-duplicate") as caught:
        _run(input_files(tmp_path / "in"), engine="ray", ray_stream_rows=0, collapse_near_duplicates=True)
    assert caught.value.code == "ray_stream"
    with pytest.raises(ConfigError, match="other topics"):
        _run(input_files(tmp_path / "in"), engine="ray", ray_stream_rows=0, multi_topic="on")


def test_a_file_without_the_text_column_is_named(tmp_path: Path) -> None:
    planted_folder(tmp_path / "in", rows=400)
    pd.DataFrame({"id": ["x1", "x2"], "comment": ["a b c", "d e f"]}).to_csv(
        tmp_path / "in" / "z.csv", index=False
    )
    with pytest.raises(LoadError, match=r"'text' is not in z\.csv"):
        _run(
            input_files(tmp_path / "in"), engine="ray", ray_stream_rows=0, ray_work_dir=str(tmp_path / "work")
        )
    assert list((tmp_path / "work").iterdir()) == []  # a failed run leaves no parts behind


def test_duplicates_come_from_the_hashes_with_the_earliest_row_first() -> None:
    from pipeline.engines.ray_stream import KEY_BITS, _duplicate_groups, _hashes, _rows_of

    texts = ["a", "b", "a", "c", "b", "a"]  # file 0 rows 0-2, file 1 rows 0-2 (rows 3-5 overall)
    keys = np.array([0, 1, 2, 1 << KEY_BITS, (1 << KEY_BITS) | 1, (1 << KEY_BITS) | 2], dtype=np.int64)
    order = np.array([5, 2, 0, 4, 1, 3])  # arrival order does not matter
    dups, firsts, unique = _duplicate_groups(keys[order], _hashes([texts[i] for i in order]))
    offsets = np.array([0, 3], dtype=np.int64)
    assert _rows_of(dups, offsets).tolist() == [2, 4, 5] and _rows_of(firsts, offsets).tolist() == [0, 1, 0]
    assert _rows_of(unique, offsets).tolist() == [0, 1, 3]
    assert _hashes(["é"]).tolist() == _hashes(["é"]).tolist()  # stable, unlike hash()


def test_cli_streams_a_folder_into_csv_and_parts_and_refuses_to_rerun_it(tmp_path: Path) -> None:
    planted_folder(tmp_path / "in", rows=2400)
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "pipeline", "run", str(tmp_path / "in"), "--out", str(out), "--model", "fake",
        "--engine", "ray", "--ray-stream-rows", "0", "--umap-fit-rows", "1000", "--ray-work-dir", str(tmp_path / "work"),
        "--quiet",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2400 rows read, 2400 clustered" in done.stdout
    csv = pd.read_csv(out / "assignments.csv", encoding="utf-8-sig")
    assert csv["row"].tolist() == list(range(2400))
    assert sorted(p.name for p in (out / "assignments").glob("*.parquet"))
    assert not (out / "report.xlsx").exists()
    assert "report.xlsx is not written for a streamed Ray run" in done.stdout
    assert "Streamed on Ray: 2,400 rows assigned to topics fitted on 1,000 sampled texts" in (
        out / "report.html"
    ).read_text(encoding="utf-8")
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["engine"] == "ray" and manifest["engine_details"]["streamed"]["fit_rows"] == 1000
    assert manifest["ledger"]["rows_read"] == 2400
    assert manifest["config"]["ray_stream_rows"] == 0 and manifest["config"]["multi_topic"] == "auto"
    topics = pd.read_csv(out / "topics.csv", encoding="utf-8-sig")
    assert topics["size"].sum() == 2400
    assert list((tmp_path / "work").iterdir()) == []  # the workers' parts were released
    again = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(out), "--out", str(tmp_path / "again")],
        cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 2
    assert "streamed Ray run" in again.stderr and "Traceback" not in again.stderr


def test_cli_refuses_edits_on_a_streamed_run_before_running(tmp_path: Path) -> None:
    planted_folder(tmp_path / "in", rows=400)
    (tmp_path / "edits.json").write_text("[]")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
         "--model", "fake", "--engine", "ray", "--ray-stream-rows", "0", "--edits", str(tmp_path / "edits.json")],
        cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--edits replays on runs the driver holds" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_streamed_run_assigns_to_a_living_taxonomy(tmp_path: Path) -> None:
    """``--taxonomy`` on a streamed run: the sample is assigned to the saved topics, every row votes."""
    from pipeline.run import run
    from pipeline.store import save_run

    planted = planted_folder(tmp_path / "in", rows=3000)
    first = run(
        input_files(tmp_path / "in"),
        config=RunConfig(model="fake", use_cache=False, n_topics=6, multi_topic="off"),
        embedder=FakeEmbedder(),  # type: ignore[arg-type]
    )
    save_run(first, tmp_path / "taxonomy")
    config = RunConfig(model="fake", use_cache=False, engine="ray", ray_stream_rows=0, umap_fit_rows=1000,
                       taxonomy=str(tmp_path / "taxonomy"))  # fmt: skip
    streamed = run(input_files(tmp_path / "in"), config=config, embedder=FakeEmbedder())  # type: ignore[arg-type]
    assert "taxonomy" in streamed.manifest and streamed.row_parts is not None
    labels = _parts(streamed)["topic_id"].astype(int).to_numpy()
    assert adjusted_rand_score(first.row_labels(), labels) >= 0.90  # the saved topics, kept
    assert adjusted_rand_score(planted, labels) >= 0.90
    assert {t.id for t in streamed.topics if t.id >= 0} <= {t.id for t in first.topics} | set(labels.tolist())
    names = {t.id: t.name for t in first.topics}
    kept = [t for t in streamed.topics if t.id in names and t.id >= 0]
    assert kept and all(t.name == names[t.id] for t in kept)
