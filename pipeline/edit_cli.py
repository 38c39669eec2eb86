"""``feedback-topics edit``: apply an edit log to a saved run headlessly, undo or redo, re-export.

    feedback-topics edit RUN_DIR --apply edits.json            # add these edits, rewrite the outputs
    feedback-topics edit RUN_DIR --undo 2 --redo 1              # step through the history
    feedback-topics edit RUN_DIR --apply edits.json --out DIR   # outputs elsewhere (run unchanged)

``edits.json`` is a JSON list of edits as the dashboard writes them (``{"op": "split", "topic_id":
3, "n": 2}``, ...; old rename/merge files too). With ``--apply`` they are added to the run's own
``edits.json`` (unless ``--out`` is given), replayed from the base run, and every output
(``topics.csv``, ``topics.json``, ``report.xlsx``, ``report.html``, ``assignments.csv``,
``run.json``) is rewritten with the edits listed. ``run FILE --edits edits.json`` does the same
for a fresh run (:func:`replay_file`).
"""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.types import RunResult

CLI_AUTHOR = "cli"


def add_parser(sub: Any) -> None:
    edit = sub.add_parser("edit", help="apply an edit log (edits.json) to a saved run; undo, redo")
    edit.add_argument("run_dir", type=Path, help="a run folder written by 'feedback-topics run --out'")
    edit.add_argument("--apply", type=Path, help="JSON list of edits to add (as the dashboard writes)")
    edit.add_argument("--undo", type=int, default=0, help="undo this many of the author's edits")
    edit.add_argument("--redo", type=int, default=0, help="redo this many of the author's undone edits")
    edit.add_argument(
        "--author", default=CLI_AUTHOR, help=f"whose edits --undo/--redo step (default {CLI_AUTHOR})"
    )
    edit.add_argument("--out", type=Path, help="write the outputs here; the run folder is left unchanged")
    edit.add_argument("--device", default="auto", help="device for the run's model (seed edits only)")


def read_edits_file(path: Path) -> list[dict[str, Any]]:
    """The entries of an edits file, each checked (a bad file fails before anything is written).

    Raises:
        ConfigError: Unreadable JSON, not a list, or an entry that is not a valid edit.
    """
    from pipeline.curation import from_dict

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"Cannot read the edits file {path}: {exc}.", code="edits_file") from None
    if isinstance(data, dict) and isinstance(data.get("edits"), list):
        data = data["edits"]  # a topics.json-like {"edits": [...]} also works
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ConfigError(f"The edits file {path} must hold a JSON list of edits.", code="edits_file")
    for number, entry in enumerate(data, start=1):
        if entry.get("op") in ("undo", "redo"):
            continue
        try:
            from_dict(entry)
        except ConfigError as exc:
            raise ConfigError(f"Edit {number} in {path}: {exc.user_message}", code="edits_file") from None
    return [dict(e) for e in data]


def replay_file(
    result: RunResult, path: Path, *, device: str = "auto"
) -> tuple[RunResult, list[dict[str, Any]]]:
    """``result`` with the edits of ``path`` applied, and the log to save beside it (seed vectors
    filled, so the saved log replays without a model)."""
    entries = _stamped(read_edits_file(path), taken=set())
    return _replay(result, entries, device=device)


def _stamped(entries: list[dict[str, Any]], *, taken: set[str]) -> list[dict[str, Any]]:
    """Entries with an id each (kept when given and free) and an author."""
    out = []
    renamed: dict[str, str] = {}
    for entry in entries:
        entry = {**entry, "author": str(entry.get("author") or CLI_AUTHOR)}
        old = str(entry.get("id") or "")
        if not old or old in taken:
            new = uuid.uuid4().hex[:16]
            if old:
                renamed[old] = new
            entry["id"] = new
        if entry.get("op") in ("undo", "redo") and str(entry.get("target")) in renamed:
            entry["target"] = renamed[str(entry["target"])]
        taken.add(str(entry["id"]))
        out.append(entry)
    return out


def _replay(
    result: RunResult, log: list[dict[str, Any]], *, device: str
) -> tuple[RunResult, list[dict[str, Any]]]:
    from pipeline.curation import apply_edits, from_dict, prepare, to_dict

    embedder = None
    needs_model = any(e.get("op") == "seed" and not e.get("vector") for e in log)
    if needs_model:
        from pipeline.embedders.registry import create_embedder
        from pipeline.search.engine import run_model

        name, options = run_model(result)
        embedder = create_embedder(name, device=device, **options)
        log = [
            {**e, **to_dict(prepare(from_dict(e), result, embedder=embedder))}
            if e.get("op") == "seed" and not e.get("vector")
            else e
            for e in log
        ]
    return apply_edits(result, log), log


def main(args: argparse.Namespace) -> int:
    from pipeline.report import write_report
    from pipeline.store import load_edits, open_run, redo_edit, save_edits, undo_edit

    run_dir: Path = args.run_dir
    if not (run_dir / "run.json").is_file() or not (run_dir / "data").is_dir():
        raise ConfigError(
            f"{run_dir} is not a saved run (no run.json and data/ inside); give the folder that "
            "'feedback-topics run FILE --out DIR' wrote.",
            code="not_a_run",
        )
    if args.undo < 0 or args.redo < 0:
        raise ConfigError("--undo and --redo take a number of steps (0 or more).", code="edit_steps")
    if not (args.apply or args.undo or args.redo):
        raise ConfigError("Give --apply FILE, --undo N or --redo N.", code="edit_args")
    base = open_run(run_dir)
    log = load_edits(run_dir)
    added = 0
    if args.apply:
        new = _stamped(read_edits_file(args.apply), taken={str(e.get("id")) for e in log if e.get("id")})
        _, log = _replay(base, [*log, *new], device=args.device)
        added = len(new)
    in_place = args.out is None
    if in_place and added:
        save_edits(run_dir, log)
    steps = [("undo", undo_edit)] * args.undo + [("redo", redo_edit)] * args.redo
    if steps and not in_place:
        raise ConfigError("--undo and --redo change the run's own log; leave out --out.", code="edit_args")

    def check(new_log: list[dict[str, Any]]) -> None:
        _replay(base, new_log, device=args.device)  # raises (nothing written) if it no longer replays

    for _, step in steps:
        log, _ = step(run_dir, author=args.author, check=check)
    edited, log = _replay(base, log, device=args.device)
    out: Path = args.out or run_dir
    written = write_report(edited, out)
    if in_place:
        save_edits(run_dir, log)  # seed vectors filled in
    listed = edited.manifest.get("edits") or []
    n_topics = sum(1 for t in edited.topics if t.id >= 0)
    print(
        f"{len(listed)} edits in effect ({added} added, {args.undo} undone, {args.redo} redone); {n_topics} topics."
    )
    for number, entry in enumerate(listed, start=1):
        print(f"  {number:3d}. {_describe(entry)}")
    print(f"Outputs written to {out}/: " + ", ".join(p.name for p in written))
    return 0


def _describe(entry: dict[str, Any]) -> str:
    op = entry.get("op")
    name = f" -> {entry['name']}" if entry.get("name") else ""
    if op == "rename":
        return f"rename topic {entry['topic_id']}{name}"
    if op == "merge":
        return f"merge topics {', '.join(map(str, entry['topic_ids']))}{name}"
    if op == "split":
        return f"split topic {entry['topic_id']} into {entry.get('parts')} (new {entry.get('new_topics')})"
    if op == "move":
        return f"move {entry.get('texts_moved')} texts to topic {entry.get('topic')}{name}"
    if op == "delete":
        return f"delete topic {entry['topic_id']} ({entry.get('texts')} texts to {entry.get('to')})"
    if op == "seed":
        return f"seed topic {entry.get('topic')}{name}: {entry.get('texts_joined')} texts (cosine >= {entry.get('threshold')})"
    if op == "rename_theme":
        return f"rename theme {entry['theme_id']}{name}"
    if op == "merge_themes":
        return f"merge themes {', '.join(map(str, entry['theme_ids']))}{name}"
    return str(op)
