"""The output folder holds one run, or says it is incomplete (issue 15)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.outdir import INCOMPLETE_MARK, check_out, staged_output

ROOT = Path(__file__).resolve().parents[1]


def _write_run(folder: Path, tag: str, *, xlsx: bool) -> None:
    (folder / "run.json").write_text(tag)
    (folder / "report.html").write_text(tag)
    if xlsx:
        (folder / "report.xlsx").write_text(tag)
    (folder / "data").mkdir()
    (folder / "data" / "meta.json").write_text(tag)


def test_rerun_replaces_the_whole_previous_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_output(out) as target:
        _write_run(target, "one", xlsx=True)
    with staged_output(out) as target:
        assert target != out
        _write_run(target, "two", xlsx=False)
    assert sorted(p.name for p in out.iterdir()) == ["data", "report.html", "run.json"]  # no stale xlsx
    assert (out / "run.json").read_text() == "two"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging left behind"


def test_failed_run_leaves_the_previous_run_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_output(out) as target:
        _write_run(target, "one", xlsx=True)
    with pytest.raises(RuntimeError), staged_output(out) as target:
        (target / "run.json").write_text("half")
        raise RuntimeError("killed mid-way")
    assert (out / "run.json").read_text() == "one" and (out / "report.xlsx").exists()
    assert not (out / INCOMPLETE_MARK).exists()


def test_folder_with_other_files_keeps_them_and_is_marked_until_done(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "report.xlsx").write_text("stale")
    with staged_output(out) as target:
        assert target == out
        assert (out / INCOMPLETE_MARK).exists()
        assert not (out / "report.xlsx").exists(), "the previous run's file is gone before writing"
        _write_run(target, "new", xlsx=False)
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / INCOMPLETE_MARK).exists()
    with pytest.raises(RuntimeError), staged_output(out) as target:
        raise RuntimeError("crash")
    assert (out / INCOMPLETE_MARK).exists(), "an unfinished run is marked"


def test_file_named_data_or_out_is_a_file_is_refused_up_front(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "data").write_text("not a folder")
    with pytest.raises(ConfigError, match="file named 'data'"):
        check_out(out)
    with pytest.raises(ConfigError, match="is a file"):
        check_out(out / "data")


def _cli(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=ROOT, env=env, capture_output=True, text=True, **kwargs
    )  # type: ignore[call-overload]


def test_cli_refuses_data_file_before_running(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "data").write_text("x")
    done = _cli("run", "sample_data/feedback_sample.csv", "--out", str(out), "--model", "fake", "--quiet")
    assert done.returncode == 2, done.stderr
    assert "file named 'data'" in done.stderr and "internal error" not in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["data"], "nothing was written"


@pytest.mark.slow
def test_cli_rerun_without_xlsx_leaves_no_stale_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _cli("run", "sample_data/feedback_sample.csv", "--out", str(out), "--model", "fake", "--quiet")
    assert first.returncode == 0, first.stderr
    assert (out / "report.xlsx").exists()
    again = _cli(
        "run",
        "sample_data/feedback_sample.csv",
        "--out",
        str(out),
        "--model",
        "fake",
        "--quiet",
        "--xlsx",
        "never",
    )
    assert again.returncode == 0, again.stderr
    assert not (out / "report.xlsx").exists()
    assert (out / "run.json").exists() and (out / "data" / "meta.json").exists()


@pytest.mark.slow
def test_cli_killed_mid_run_leaves_previous_run_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _cli("run", "sample_data/feedback_sample.csv", "--out", str(out), "--model", "fake", "--quiet")
    assert first.returncode == 0, first.stderr
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "sample_data/feedback_sample.csv", "--out", str(out),
         "--model", "fake", "--quiet", "--xlsx", "never"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    names = {p.name for p in out.iterdir()}
    if INCOMPLETE_MARK not in names:
        # killed before the swap: the previous run is untouched; or after it: the new run is whole
        complete_old = names == set(before) and all(
            (out / n).stat().st_mtime_ns == t for n, t in before.items()
        )
        complete_new = "report.xlsx" not in names and {"run.json", "data"} <= names
        assert complete_old or complete_new, names
