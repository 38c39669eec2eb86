"""CLI details a new user tripped on (issue 15): models list, topics list, cache-hit speed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_models_lists_auto_and_every_models_languages() -> None:
    from pipeline.embedders.registry import available_embedders

    done = _cli("models")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("auto ") and "here " in lines[0]
    for spec in available_embedders():
        at = next(i for i, line in enumerate(lines) if line.startswith(spec.name + " "))
        assert f"languages: {spec.languages}" in lines[at + 1]


def test_cache_hit_does_not_print_an_absurd_speed(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import _TqdmProgress

    progress = _TqdmProgress(enabled=True)
    progress("embed", 600, 600)  # everything came from the cache at once
    progress.close()
    shown = capsys.readouterr().err
    rates = [float(r) for r in re.findall(r"([\d.]+)texts/s", shown)]
    assert all(rate < 1e5 for rate in rates), shown


def test_server_timeout_must_be_positive() -> None:
    done = _cli("run", "sample_data/feedback_sample.csv", "--server-timeout", "0", "--out", "/nonexistent/x")
    assert done.returncode == 2 and "--server-timeout must be positive" in done.stderr


@pytest.mark.slow
def test_topics_list_says_how_many_more(tmp_path: Path) -> None:
    done = _cli(
        "run",
        "sample_data/feedback_sample.csv",
        "--out",
        str(tmp_path),
        "--model",
        "fake",
        "--topics",
        "20",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    listed = [line for line in done.stdout.splitlines() if " rows  " in line]
    assert len(listed) == 12
    more = re.search(r"… (\d+) more \(all (\d+) in topics.csv", done.stdout)
    assert more is not None, done.stdout
    assert int(more.group(1)) + 12 == int(more.group(2)) >= 20
