"""The CLI's output folder: after a run it holds that one run, or it says it is incomplete.

:func:`check_out` refuses an unusable ``--out`` before any work starts. :func:`staged_output` gives
the folder to write a run into:

- When ``--out`` is new, empty, or holds only what a run writes (a previous run), the run is
  written to a hidden sibling ``.NAME.incomplete-PID`` and swapped in by renaming once complete, so
  the folder never mixes two runs; a run killed mid-way leaves only that hidden, marked folder.
- When ``--out`` also holds other files (``--out .``, a shared folder), they are left alone: the
  previous run's own files are removed first, a ``RUN-INCOMPLETE.txt`` marker is written, and the
  marker is removed only when every file of the new run is written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import ConfigError

logger = logging.getLogger(__name__)

INCOMPLETE_MARK = "RUN-INCOMPLETE.txt"
RUN_ENTRIES = frozenset(
    {
        "assignments.csv",
        "topics.csv",
        "report.html",
        "run.json",
        "report.xlsx",
        "topics.json",
        "data",
        "edits.json",
        INCOMPLETE_MARK,
    }
)
"""Every name a run writes into its folder (directories: ``data``)."""
_RUN_DIRS = frozenset({"data"})


def _foreign(out: Path) -> list[str]:
    """Entries of ``out`` a run did not write (or that are not of the kind a run writes)."""
    foreign: list[str] = []
    for entry in out.iterdir():
        name = entry.name
        if name not in RUN_ENTRIES or (name in _RUN_DIRS) != (entry.is_dir() and not entry.is_symlink()):
            foreign.append(name)
    return sorted(foreign)


def check_out(out: Path) -> None:
    """Refuse an ``--out`` that cannot hold a run, before the run starts.

    Raises:
        ConfigError: ``out`` is a file, or holds a ``data`` entry that is not a folder, or cannot be
            created.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(
            f"The output folder {out} is a file. Choose a folder (it is created if needed).", code="output"
        )
    if out.is_dir():
        data = out / "data"
        if (data.exists() or data.is_symlink()) and (not data.is_dir() or data.is_symlink()):
            raise ConfigError(
                f"The output folder {out} holds a file named 'data', where the run keeps its data folder. "
                "Move or rename that file, or choose another output folder.",
                code="output",
            )
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the output folder {out} ({exc.strerror or exc}). Choose a folder you can write to.",
            code="output",
            detail=repr(exc),
        ) from None


@contextlib.contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Yield the folder to write one run into; when the block ends without error, ``out`` is that run.

    Raises:
        ConfigError: A file could not be written or moved (permissions, disk full).
    """
    out = Path(out)
    check_out(out)
    in_place = out.is_dir() and (
        out.is_symlink() or out.resolve() == Path.cwd().resolve() or bool(_foreign(out))
    )
    try:
        if in_place:
            with _in_place(out) as target:
                yield target
        else:
            with _swapped(out) as target:
                yield target
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the run to {out} ({exc.strerror or exc}). Check the folder's permissions and "
            "free disk space.",
            code="output",
            detail=repr(exc),
        ) from None


def _marker_text() -> str:
    return (
        "feedback-topics is writing a run here (started "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}, process {os.getpid()}).\n"
        "If this file is still here, that run did not finish: the files beside it are incomplete. "
        "Run again.\n"
    )


@contextlib.contextmanager
def _swapped(out: Path) -> Iterator[Path]:
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{out.name}.incomplete-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    (staging / INCOMPLETE_MARK).write_text(_marker_text(), encoding="utf-8")
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (staging / INCOMPLETE_MARK).unlink()
    old: Path | None = None
    if out.exists():
        old = parent / f".{out.name}.previous-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    logger.info("run written to %s (swapped in from %s)", out, staging.name)


@contextlib.contextmanager
def _in_place(out: Path) -> Iterator[Path]:
    marker = out / INCOMPLETE_MARK
    marker.write_text(_marker_text(), encoding="utf-8")
    for name in sorted(RUN_ENTRIES - {INCOMPLETE_MARK}):
        entry = out / name
        if name in _RUN_DIRS and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif entry.is_file() and name not in _RUN_DIRS:
            entry.unlink()  # a previous run's file, e.g. a report.xlsx this run does not write
    yield out
    marker.unlink()
