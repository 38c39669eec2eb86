"""Re-run a saved run's data with new settings, without the original file.

A run folder keeps its input as it was read: ``data/table.parquet`` (every row and column, each
cell a string), the load report in ``data/meta.json`` and each row's status in
``data/rows.parquet`` (``bad_line`` for rows the loader could not read). :func:`saved_input` turns
them back into the :class:`~pipeline.types.LoadedTable` the first run analysed, so a re-run sees
the same rows with the same row numbers, input file name and SHA-256, and :func:`rerun` runs the
pipeline on it with a new :class:`~pipeline.config.RunConfig` (model, clusterer, topic count,
seed, text column, label language, taxonomy...). The file's bytes are not kept, so the settings
that read a file (encoding, delimiter, sheet, header row, row limit) do not apply to a re-run.

The new run's ``run.json`` records ``rerun_of``: the source run's id (its folder name), input
SHA-256 and creation time, and ``changed``: each setting that differs, as ``[before, after]``.
The analyst's edits of the source run are not carried over (its topic ids mean nothing in the new
clustering); to keep its topics, names and merges, re-run with ``taxonomy`` set to its folder.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pipeline.config import RunConfig
from pipeline.errors import ConfigError
from pipeline.progress import ProgressCallback
from pipeline.types import LoadedTable, LoadOptions, RunResult

LOADER_STATUS = ("bad_line",)
"""Row statuses set by the loader itself (the other statuses are recomputed from the text)."""
_LOAD_FLAGS = {
    "--encoding": "encoding",
    "--delimiter": "delimiter",
    "--sheet": "sheet",
    "--header-row": "header_row",
    "--max-rows": "max_rows",
}
_NEEDED = ("run.json", "data/meta.json", "data/table.parquet", "data/rows.parquet")


def is_run_folder(path: Path | str) -> bool:
    """True when ``path`` is a folder holding a saved run's data (what a re-run reads)."""
    folder = Path(path)
    return folder.is_dir() and all((folder / name).is_file() for name in _NEEDED)


def check_rerun_args(run_dir: Path, *, out: Path, load: LoadOptions) -> None:
    """Refuse a re-run (CLI) that cannot work, before anything runs: not a saved run, ``--out``
    the run folder itself (the new run would replace its source), or file-reading options.

    Raises:
        ConfigError: With what to do instead.
    """
    if not is_run_folder(run_dir):
        saved_input(run_dir)  # raises, naming the missing files
    if Path(out).resolve() == Path(run_dir).resolve():
        raise ConfigError(
            f"--out is the run folder being re-run ({run_dir}); the new run would replace it. "
            "Choose another output folder.",
            code="output",
        )
    default = LoadOptions()
    given = [
        flag
        for flag, field_name in _LOAD_FLAGS.items()
        if getattr(load, field_name) != getattr(default, field_name)
    ]
    if given:
        raise ConfigError(
            f"{', '.join(given)} read a file, but {run_dir} is a saved run whose data is already "
            "read; leave them out, or run the original file instead.",
            code="rerun_load_options",
        )


def describe_lineage(manifest: dict[str, Any]) -> str:
    """One line on what a re-run changed (``""`` for a run that is not a re-run)."""
    info = manifest.get("rerun_of")
    if not info:
        return ""
    changed = info.get("changed") or {}
    what = ", ".join(f"{k} {before} -> {after}" for k, (before, after) in changed.items())
    return f"Re-run of {info.get('run_id')} ({what or 'same settings'})."


def _refuse_streamed(folder: Path) -> None:
    """A streamed Ray run saved only its fitted sample: re-running it would drop the other rows."""
    try:
        manifest = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    streamed = (manifest.get("engine_details") or {}).get("streamed") if isinstance(manifest, dict) else None
    if streamed:
        raise ConfigError(
            f"{folder} is a streamed Ray run: it saved only its {streamed.get('fit_rows', 0):,} fitted "
            f"texts, not its {streamed.get('rows', 0):,} rows. Run its input files again instead.",
            code="rerun_streamed",
        )


def saved_input(run_dir: Path | str) -> LoadedTable:
    """The input table of a saved run, as its loader returned it.

    Raises:
        ConfigError: ``run_dir`` is not a saved run, or its data files are damaged
            (``code="not_a_run"``).
    """
    import pandas as pd

    from pipeline.store import read_load_report

    folder = Path(run_dir)
    _refuse_streamed(folder)
    if not is_run_folder(folder):
        missing = [name for name in _NEEDED if not (folder / name).is_file()]
        raise ConfigError(
            f"{folder} is not the folder of a saved run (missing {', '.join(missing)}); "
            "give a file, or a folder written by 'feedback-topics run' or the dashboard.",
            code="not_a_run",
        )
    try:
        meta = json.loads((folder / "data" / "meta.json").read_text(encoding="utf-8"))
        frame = pd.read_parquet(folder / "data" / "table.parquet")
        status = pd.read_parquet(folder / "data" / "rows.parquet", columns=["status"])["status"]
        report = read_load_report(meta)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"The data of the run {folder.name} is damaged, so it cannot be re-run; "
            "upload the file again instead.",
            code="not_a_run",
            detail=repr(exc),
        ) from exc
    frame = frame.astype(str)
    row_status = tuple(s if s in LOADER_STATUS else "ok" for s in status.astype(str))
    if not len(frame) == len(row_status) == report.rows_read:
        raise ConfigError(
            f"The data of the run {folder.name} does not add up ({len(frame)} table rows, "
            f"{len(row_status)} row statuses, {report.rows_read} rows read); upload the file again.",
            code="not_a_run",
        )
    return LoadedTable(frame=frame, report=report, row_status=row_status)


def rerun(
    run_dir: Path | str,
    *,
    config: RunConfig,
    progress: ProgressCallback | None = None,
    embedder: Any = None,
    load_embedder: Any = None,
) -> RunResult:
    """Run the pipeline again on a saved run's data with ``config``; ``manifest["rerun_of"]`` says
    which run and which settings changed (see the module doc).

    Args:
        run_dir: The saved run whose data to analyse again.
        config: The new settings (its ``load`` options are not used: the data is already read).
        progress, embedder, load_embedder: As for :func:`pipeline.run.run`.

    Raises:
        ConfigError: ``run_dir`` is not a readable saved run.
        FeedbackTopicsError: Anything :func:`pipeline.run.run` raises.
    """
    from pipeline.run import run

    folder = Path(run_dir)
    table = saved_input(folder)
    try:
        before = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"The run.json of {folder.name} is damaged.", code="not_a_run", detail=repr(exc)
        ) from exc
    result = run(
        table,
        filename=table.report.filename,
        config=config,
        progress=progress,
        embedder=embedder,
        load_embedder=load_embedder,
    )
    lineage = {
        "run_id": folder.name,
        "input_sha256": before.get("input_sha256", table.report.sha256),
        "created_at": before.get("created_at"),
        "changed": changed_settings(before.get("config") or {}, result.manifest.get("config") or {}),
    }
    return dataclasses.replace(result, manifest={**result.manifest, "rerun_of": lineage})


def changed_settings(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Settings (``RunConfig`` fields, as in ``run.json``) whose value differs: ``[before, after]``.

    The load options are left out (a re-run does not read a file).
    """
    keys = sorted((set(before) | set(after)) - {"load"})
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}
