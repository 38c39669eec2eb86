"""The Ray engine in Ray's local mode on small data: same topics as the local engine, every row once.

One Ray start for the module (``ray.init(num_cpus=2)``); skipped where the ``[ray]`` extra is not
installed.
"""

from __future__ import annotations

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
from pipeline.load.stream import SOURCE_COLUMN, input_files
from tests.test_streaming_input import split_sample

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TOPIC_WORDS = [
    "refund money payment charge card bank invoice billing",
    "delivery courier parcel package shipping tracking arrived late",
    "password login account reset email locked verification code",
    "screen battery phone broken charger cracked repair warranty",
    "pizza burger cold restaurant meal tasty waiter kitchen",
    "hotel room bed shower breakfast noisy reception clean",
]


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def planted_folder(folder: Path, *, rows: int, seed: int = 0) -> np.ndarray:
    """Rows over four Parquet files, each text mostly words of one planted topic; the topics."""
    rng = np.random.default_rng(seed)
    words = [t.split() for t in TOPIC_WORDS]
    filler = ["the", "a", "very", "my", "it", "was", "so", "and", "but", "really"]
    planted = rng.integers(0, len(words), rows)
    texts = [
        " ".join([*rng.choice(words[t], 5), *rng.choice(filler, 2), f"ref{i}"]) for i, t in enumerate(planted)
    ]
    frame = pd.DataFrame({"id": [f"T{i}" for i in range(rows)], "text": texts})
    folder.mkdir(parents=True, exist_ok=True)
    for part, chunk in enumerate(np.array_split(np.arange(rows), 4)):
        frame.iloc[chunk].to_parquet(folder / f"part-{part:02d}.parquet", index=False, row_group_size=400)
    return planted


def both(data: object, **options: object) -> tuple[object, object]:
    from pipeline.run import run

    config = RunConfig(use_cache=False, **options)  # type: ignore[arg-type]
    local = run(data, config=config, embedder=FakeEmbedder())  # type: ignore[arg-type]
    on_ray = run(
        data,
        config=RunConfig(**{**config.to_dict(), "load": config.load, "engine": "ray"}),
        embedder=FakeEmbedder(),
    )  # type: ignore[arg-type]
    return local, on_ray


def test_same_topics_as_local_on_a_mixed_folder(tmp_path: Path) -> None:
    from pipeline.export import assignments_frame

    source = split_sample(tmp_path / "in")
    local, on_ray = both(input_files(tmp_path / "in"))
    assert on_ray.manifest["engine"] == "ray" and "Ray Data" in on_ray.manifest["engine_reason"]
    assert on_ray.documents.status == local.documents.status
    assert on_ray.languages == local.languages
    assert adjusted_rand_score(local.row_labels(), on_ray.row_labels()) >= 0.90
    assert on_ray.ledger == local.ledger
    assert on_ray.manifest["ledger_by_file"] == local.manifest["ledger_by_file"]
    frame = assignments_frame(on_ray)  # every row exactly once, in file-name then row order
    assert frame["row"].tolist() == list(range(len(source)))
    assert frame["id"].tolist() == source["id"].tolist()
    assert frame[SOURCE_COLUMN].value_counts().to_dict() == {
        "part-0.parquet": 200,
        "part-1.csv": 200,
        "part-2.jsonl": 200,
    }


def test_above_the_fitted_sample_rows_are_placed_and_assigned_on_ray(tmp_path: Path) -> None:
    planted = planted_folder(tmp_path / "in", rows=3000)
    local, on_ray = both(input_files(tmp_path / "in"), umap_fit_rows=1000, n_topics=6)
    assert on_ray.reduction.params["placed_rows"] == 2000
    assert on_ray.clustering.params["assigned_rows"] == 2000
    # The fitted sample and its placement are the local engine's; only the clustering of the rest differs.
    assert np.allclose(on_ray.reduction.cluster_space, local.reduction.cluster_space, atol=1e-4)
    ari = adjusted_rand_score(local.row_labels(), on_ray.row_labels())
    assert ari >= 0.90, ari
    assert adjusted_rand_score(planted, on_ray.row_labels()) >= 0.90
    labels = on_ray.row_labels()
    assert len(labels) == 3000 and (labels >= -1).all()


def test_parquet_parts_hold_every_row_once(tmp_path: Path) -> None:
    from pipeline.engines.parts import write_parts
    from pipeline.run import run

    planted_folder(tmp_path / "in", rows=1000)
    result = run(
        input_files(tmp_path / "in"), config=RunConfig(use_cache=False, engine="ray"), embedder=FakeEmbedder()
    )
    [folder] = write_parts(result, tmp_path / "out", min_rows=0, part_rows=300)
    parts = sorted(folder.glob("part-*.parquet"))
    assert len(parts) == 4
    rows = pd.concat([pd.read_parquet(p) for p in parts])["row"].tolist()
    assert rows == list(range(1000))


def test_unreachable_cluster_is_one_clear_line(tmp_path: Path) -> None:
    split_sample(tmp_path / "in")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
         "--model", "fake", "--engine", "ray", "--ray-address", "127.0.0.1:9"],
        cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: Cannot reach the Ray cluster at 127.0.0.1:9 (Connection refused). Start it with "
        "'ray start --head' or check --ray-address."
    ]
    assert not (tmp_path / "out").exists()
