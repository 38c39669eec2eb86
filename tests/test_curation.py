"""Curation with history: every edit type, undo/redo, replay from edits.json, the seed threshold."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline import curation as cur
from pipeline.errors import ConfigError
from pipeline.store import (
    EditConflict,
    active_entries,
    append_edit,
    load_edits,
    redo_candidates,
    redo_edit,
    undo_edit,
)
from pipeline.types import NOT_RELEVANT, OUTLIER, RunResult

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base(sample_csv: Path) -> RunResult:
    """A real run of the sample file (fake embedder: fast and deterministic), with themes."""
    from pipeline.config import RunConfig
    from pipeline.run import run

    result = run(
        sample_csv.read_bytes(),
        filename=sample_csv.name,
        config=RunConfig(model="fake", n_topics=6, use_cache=False),
    )
    assert result.themes
    return result


@pytest.fixture(scope="module")
def embedder():
    from pipeline.embedders.registry import create_embedder

    return create_embedder("fake")


def _rows_of(result: RunResult, topic_id: int) -> list[int]:
    return [int(r) for r in np.flatnonzero(result.row_labels() == topic_id)]


def _check_consistent(result: RunResult) -> None:
    """Sizes match the labels, every topic is in exactly one theme, the ledger still balances."""
    labels = result.row_labels()
    for topic in result.topics:
        assert topic.size == int((labels == topic.id).sum()), topic
        assert topic.examples and all(labels[r] == topic.id for r in topic.examples)
        assert topic.keywords or topic.id < 0
    assert sorted(t.id for t in result.topics) == sorted(int(t) for t in np.unique(labels[labels != -2]))
    if result.themes:
        members = [t for th in result.themes for t in th.topic_ids]
        assert sorted(members) == sorted(t.id for t in result.topics)
        sizes = {t.id: t.size for t in result.topics}
        assert all(th.size == sum(sizes[t] for t in th.topic_ids) for th in result.themes)
    assert result.clustering.n_topics == sum(1 for t in result.topics if t.id >= 0)


def _same_topics(a: RunResult, b: RunResult) -> bool:
    return [(t.id, t.name, t.size, t.examples) for t in a.topics] == [
        (t.id, t.name, t.size, t.examples) for t in b.topics
    ] and bool(np.array_equal(a.clustering.labels, b.clustering.labels))


# ------------------------------------------------------------------------------------- the table
def test_every_field_of_every_op_is_declared_in_the_constraint_table() -> None:
    for name, cls in cur.OPS.items():
        assert cls.op == name
        assert {f.name for f in dataclasses.fields(cls)} == set(cur.CONSTRAINTS[name]), name


def test_check_lists_every_bad_field_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        cur.check(cur.Split(topic_id="3", n=1, seed=-1))  # type: ignore[arg-type]
    message = info.value.user_message
    assert "split.topic_id" in message and "split.n" in message and "split.seed" in message
    with pytest.raises(ConfigError, match=r"delete\.to"):
        cur.from_dict({"op": "delete", "topic_id": 1, "to": "trash"})
    with pytest.raises(ConfigError, match="Unknown edit operation"):
        cur.from_dict({"op": "explode"})
    with pytest.raises(ConfigError, match="lacks"):
        cur.from_dict({"op": "move"})


@pytest.mark.parametrize(
    "edit",
    [
        cur.Rename(topic_id=1, name="A"),
        cur.Merge(topic_ids=(1, 2), name=""),
        cur.Split(topic_id=1, n=None, seed=7),
        cur.Move(rows=(3, 4), to_topic=None, name="New"),
        cur.Delete(topic_id=1, to="not_relevant"),
        cur.Seed(name="Refunds", phrases=("refund please",), vector=(0.5, 0.5)),
        cur.RenameTheme(theme_id=0, name="T"),
        cur.MergeThemes(theme_ids=(0, 1)),
    ],
)
def test_to_dict_and_from_dict_round_trip(edit: cur.Edit) -> None:
    entry = json.loads(json.dumps(cur.to_dict(edit)))
    assert cur.from_dict({**entry, "id": "x", "author": "a", "at": "now"}) == edit


# --------------------------------------------------------------------------------- each edit type
def test_split_into_n_is_deterministic_and_undo_redo_replays(base: RunResult) -> None:
    topic = max((t for t in base.topics if t.id >= 0), key=lambda t: t.size)
    log = cur.EditLog().push(cur.Split(topic_id=topic.id, n=3, seed=1))
    split = log.replay(base)
    again = cur.EditLog().push(cur.Split(topic_id=topic.id, n=3, seed=1)).replay(base)
    assert _same_topics(split, again)
    _check_consistent(split)
    new_ids = split.manifest["edits"][-1]["new_topics"]
    assert len(new_ids) == 2 and min(new_ids) > max(t.id for t in base.topics)
    parts = [topic.id, *new_ids]
    assert sum(t.size for t in split.topics if t.id in parts) == topic.size
    # the split topic's texts are all in its parts; every other topic is untouched
    assert set(_rows_of(base, topic.id)) == {r for p in parts for r in _rows_of(split, p)}
    others = {t.id: t for t in base.topics if t.id != topic.id}
    assert all(others[t.id] == t for t in split.topics if t.id in others)
    # fresh keywords for the parts
    fresh = [t for t in split.topics if t.id in new_ids]
    assert all(t.keywords and t.keywords != topic.keywords for t in fresh)
    undone = log.undo()
    assert _same_topics(undone.replay(base), base)
    assert _same_topics(undone.redo().replay(base), split)


def test_split_auto_chooses_the_count_by_silhouette(base: RunResult) -> None:
    topic = max((t for t in base.topics if t.id >= 0), key=lambda t: t.size)
    result = cur.apply_edit(base, cur.Split(topic_id=topic.id))
    detail = result.manifest["edits"][-1]
    assert 2 <= detail["parts"] <= cur.apply.AUTO_MAX_PARTS
    scores = detail["silhouette"]
    assert scores[str(detail["parts"])] == max(scores.values())
    _check_consistent(result)
    with pytest.raises(ConfigError, match="no topic"):
        cur.apply_edit(base, cur.Split(topic_id=999))


def test_move_rows_to_an_existing_and_to_a_new_topic(base: RunResult) -> None:
    source, target = [t.id for t in base.topics if t.id >= 0][:2]
    rows = _rows_of(base, source)[:5]
    moved = cur.apply_edit(base, cur.Move(rows=tuple(rows), to_topic=target))
    labels = moved.row_labels()
    assert all(labels[r] == target for r in rows)
    sizes = {t.id: t.size for t in base.topics}
    after = {t.id: t.size for t in moved.topics}
    assert after[target] - sizes[target] >= 5 and sizes[source] - after[source] >= 5
    # a topic that is still mostly itself keeps its name
    assert moved.topic_names()[target] == base.topic_names()[target]
    _check_consistent(moved)
    to_new = cur.apply_edit(base, cur.Move(rows=tuple(rows), to_topic=None, name="Picked by hand"))
    new_id = to_new.manifest["edits"][-1]["topic"]
    assert to_new.topic_names()[new_id] == "Picked by hand"
    assert _rows_of(to_new, new_id)[: len(rows)] == rows or set(rows) <= set(_rows_of(to_new, new_id))
    _check_consistent(to_new)
    with pytest.raises(ConfigError, match="already in topic"):
        cur.apply_edit(base, cur.Move(rows=tuple(rows), to_topic=source))
    with pytest.raises(ConfigError, match="not in this run"):
        cur.apply_edit(base, cur.Move(rows=(10**6,), to_topic=target))


def test_a_duplicate_row_moves_with_its_first_occurrence(base: RunResult) -> None:
    status = base.documents.status
    dup = next(i for i, s in enumerate(status) if s.startswith("duplicate_of:"))
    first = int(status[dup].split(":")[1])
    target = next(t.id for t in base.topics if t.id >= 0 and t.id != base.row_labels()[first])
    moved = cur.apply_edit(base, cur.Move(rows=(dup,), to_topic=target))
    assert moved.row_labels()[first] == target and moved.row_labels()[dup] == target
    excluded = next(i for i, s in enumerate(status) if s == "empty")
    with pytest.raises(ConfigError, match="excluded"):
        cur.apply_edit(base, cur.Move(rows=(excluded,), to_topic=target))


@pytest.mark.parametrize(("to", "label"), [("outliers", OUTLIER), ("not_relevant", NOT_RELEVANT)])
def test_delete_sends_rows_to_outliers_or_not_relevant(base: RunResult, to: str, label: int) -> None:
    topic = next(t for t in base.topics if t.id >= 0)
    log = cur.EditLog().push(cur.Delete(topic_id=topic.id, to=to))  # type: ignore[arg-type]
    deleted = log.replay(base)
    assert topic.id not in deleted.topic_names()
    assert all(deleted.row_labels()[r] == label for r in _rows_of(base, topic.id))
    if label == NOT_RELEVANT:
        assert deleted.topic_names()[NOT_RELEVANT] == cur.NOT_RELEVANT_NAME
    _check_consistent(deleted)
    assert _same_topics(log.undo().replay(base), base)
    with pytest.raises(ConfigError):
        cur.apply_edit(base, cur.Delete(topic_id=OUTLIER))


def test_seed_threshold_is_derived_from_the_run(base: RunResult) -> None:
    threshold, calibration = cur.seed_threshold(base)
    # recomputed by hand: the 90th percentile of every text's cosine to the other topics' centres
    vectors = base.embeddings.vectors.astype(np.float64)
    labels = base.clustering.labels
    ids = sorted(int(t) for t in np.unique(labels) if t >= 0)
    centres = {t: vectors[labels == t].sum(axis=0) for t in ids}
    foreign = [
        float(vectors[i] @ centres[t] / np.linalg.norm(centres[t]))
        for i in np.flatnonzero(labels >= 0)
        for t in ids
        if t != labels[i]
    ]
    assert threshold == pytest.approx(np.percentile(foreign, 90), abs=1e-4)
    assert calibration["threshold"] == round(threshold, 4) and "90th percentile" in calibration["method"]
    # not a constant: a run with other topics gets another threshold
    merged = cur.apply_edit(base, cur.Merge(topic_ids=tuple(t.id for t in base.topics if t.id >= 0)[:3]))
    assert cur.seed_threshold(merged)[0] != pytest.approx(threshold, abs=1e-6)
    one = dataclasses.replace(
        base, clustering=dataclasses.replace(base.clustering, labels=np.where(labels >= 0, 0, labels))
    )
    assert "one topic only" in cur.seed_threshold(one)[1]["method"]


def test_seed_replays_without_a_model_once_prepared(base: RunResult, embedder) -> None:
    phrases = ("refund money back", "I want a refund", "still waiting for my refund")
    with pytest.raises(ConfigError, match="needs the run's embedding model"):
        cur.apply_edit(base, cur.Seed(name="Refunds", phrases=phrases))
    edit = cur.prepare(cur.Seed(name="Refunds", phrases=phrases), base, embedder=embedder)
    assert len(edit.vector) == base.embeddings.vectors.shape[1]
    log = cur.EditLog().push(edit)
    seeded = log.replay(base)  # no model needed now
    detail = seeded.manifest["edits"][-1]
    new_id, threshold = detail["topic"], detail["threshold"]
    assert seeded.topic_names()[new_id] == "Refunds" and detail["texts_joined"] > 0
    centre = np.asarray(edit.vector, dtype=np.float32)
    sims = base.embeddings.vectors @ (centre / np.linalg.norm(centre))
    joined = seeded.clustering.labels == new_id
    assert (sims[joined] >= threshold - 1e-4).all() and (sims[~joined] < threshold + 1e-4).all()
    assert "vector" not in detail  # the manifest lists the edit, not its 64 numbers
    _check_consistent(seeded)
    assert _same_topics(log.undo().replay(base), base)
    with pytest.raises(ConfigError, match="dimensions"):
        cur.apply_edit(base, dataclasses.replace(edit, vector=(1.0, 0.0)))


def test_seed_with_a_real_model_takes_the_texts_about_its_phrases() -> None:
    """Real multilingual vectors: a "refund" seed takes the refund texts in every language."""
    from pipeline.embedders.registry import create_embedder
    from tests._result_factory import make_result

    model = create_embedder("use-multilingual", device="cpu")
    result = make_result(160, with_payloads=False)
    texts = [result.documents.texts[i] for i in result.documents.unique_rows]
    vectors = np.asarray(model.embed(texts), dtype=np.float32)
    result = dataclasses.replace(result, embeddings=dataclasses.replace(result.embeddings, vectors=vectors))
    edit = cur.prepare(
        cur.Seed(name="Refunds", phrases=("I want my money back", "where is my refund")),
        result,
        embedder=model,
    )
    seeded = cur.apply_edit(result, edit)
    new_id = seeded.manifest["edits"][-1]["topic"]
    joined = seeded.clustering.labels == new_id
    came_from = result.clustering.labels[joined]
    refund_topic = 1  # the factory's "charged twice / refund" topic, in five languages
    assert (came_from == refund_topic).mean() >= 0.8
    assert joined.sum() >= 0.5 * (result.clustering.labels == refund_topic).sum()


def test_theme_ops_still_replay(base: RunResult) -> None:
    ids = [th.id for th in base.themes if th.id >= 0][:2]
    result = cur.apply_edits(
        base,
        [
            {"op": "rename_theme", "theme_id": ids[0], "name": "Logistics"},
            {"op": "merge_themes", "theme_ids": ids},
        ],
    )
    assert result.theme_names()[ids[0]] == "Logistics" and ids[1] not in result.theme_names()


# ------------------------------------------------------------------------------------ the history
def test_edit_log_undo_redo_any_number_of_steps_and_a_new_edit_drops_the_tail(base: RunResult) -> None:
    ids = [t.id for t in base.topics if t.id >= 0]
    edits = [
        cur.Rename(topic_id=ids[0], name="First"),
        cur.Split(topic_id=ids[1], n=2),
        cur.Delete(topic_id=ids[2]),
        cur.Merge(topic_ids=(ids[3], ids[4]), name="Together"),
    ]
    log = cur.EditLog()
    states = [base]
    for edit in edits:
        log = log.push(edit)
        states.append(log.replay(base))
    assert (log.undo_steps, log.redo_steps) == (4, 0)
    back = log.undo(3)
    assert (back.undo_steps, back.redo_steps) == (1, 3)
    assert _same_topics(back.replay(base), states[1])
    assert _same_topics(back.redo(2).replay(base), states[3])
    assert _same_topics(back.redo(3).replay(base), states[4])
    assert _same_topics(back.undo().replay(base), base)
    with pytest.raises(ConfigError):
        back.redo(4)
    with pytest.raises(ConfigError):
        back.undo(2)
    branched = back.push(cur.Rename(topic_id=ids[5], name="Other"))
    assert (branched.undo_steps, branched.redo_steps) == (2, 0)
    # to edits.json and back, the redo tail included
    restored = cur.EditLog.from_entries(json.loads(json.dumps(back.to_entries())))
    assert restored == back


def test_shared_log_redo_and_a_new_edit_clears_the_redo_stack(tmp_path: Path, base: RunResult) -> None:
    ids = [t.id for t in base.topics if t.id >= 0]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    log = append_edit(run_dir, {"op": "rename", "topic_id": ids[0], "name": "A"}, author="ann", based_on=0)
    log = append_edit(
        run_dir, {"op": "split", "topic_id": ids[1], "n": 2, "seed": 42}, author="ann", based_on=len(log)
    )
    log = append_edit(
        run_dir, {"op": "rename", "topic_id": ids[2], "name": "Bob's"}, author="bob", based_on=len(log)
    )
    log, undone = undo_edit(run_dir, author="ann")
    assert undone["op"] == "split"
    log, undone = undo_edit(run_dir, author="ann")
    assert undone["op"] == "rename" and [e["op"] for _, e in active_entries(log)] == ["rename"]
    assert [e["op"] for e in redo_candidates(log, author="ann")] == ["rename", "split"]
    assert redo_candidates(log, author="bob") == []
    with pytest.raises(EditConflict) as info:
        redo_edit(run_dir, author="bob")
    assert info.value.code == "nothing_to_redo"
    log, redone = redo_edit(run_dir, author="ann", check=lambda new: cur.apply_edits(base, new) and None)
    assert redone["op"] == "rename"
    assert [e["name"] for _, e in active_entries(log) if e["op"] == "rename"] == ["A", "Bob's"]
    edited = cur.apply_edits(base, load_edits(run_dir))
    assert edited.topic_names()[ids[0]] == "A" and ids[1] in edited.topic_names()
    assert len(edited.topics) == len(base.topics)  # the split is still undone
    log = append_edit(
        run_dir, {"op": "delete", "topic_id": ids[3], "to": "outliers"}, author="ann", based_on=len(log)
    )
    assert redo_candidates(log, author="ann") == []  # a new edit after undo drops the redo tail


def test_old_edits_json_without_ids_is_still_readable(tmp_path: Path, base: RunResult) -> None:
    ids = [t.id for t in base.topics if t.id >= 0]
    old = [
        {"op": "rename", "topic_id": ids[0], "name": "Old name"},
        {"op": "merge", "topic_ids": [ids[1], ids[2]], "name": None},
    ]
    (tmp_path / "edits.json").write_text(json.dumps(old), encoding="utf-8")
    entries = load_edits(tmp_path)
    edited = cur.apply_edits(base, entries)
    assert edited.topic_names()[ids[0]] == "Old name" and ids[2] not in edited.topic_names()
    log = cur.EditLog.from_entries(entries)
    assert log.cursor == 2 and isinstance(log.edits[1], cur.Merge)
    from pipeline.analysis import apply_edits as old_path
    from pipeline.topics import merge_topics, rename_topic

    assert (
        old_path is cur.apply_edits and merge_topics is cur.merge_topics and rename_topic is cur.rename_topic
    )


def test_edits_travel_into_topics_json_and_the_xlsx_run_info(base: RunResult) -> None:
    import openpyxl

    from pipeline.export import to_json_bytes, to_xlsx_bytes

    topic = next(t for t in base.topics if t.id >= 0)
    edited = cur.apply_edits(base, [{"op": "delete", "topic_id": topic.id, "to": "not_relevant"}])
    listed = json.loads(to_json_bytes(edited))["run"]["edits"]
    assert listed[0]["op"] == "delete" and listed[0]["texts"] > 0
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(edited)))["run-info"]
    info = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}
    assert json.loads(info["edits"])[0]["op"] == "delete"


# --------------------------------------------------------------------------------------- the CLI
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


def test_cli_replays_edits_json_on_run_and_edit(tmp_path: Path, sample_csv: Path) -> None:
    out = tmp_path / "out"
    first = _cli(
        "run", str(sample_csv), "--model", "fake", "--topics", "6", "--no-cache", "--quiet", "--out", str(out)
    )
    assert first.returncode == 0, first.stderr
    topics = json.loads((out / "topics.json").read_text(encoding="utf-8"))["topics"]
    ids = sorted(
        t["topic_id"] if "topic_id" in t else t["id"] for t in topics if (t.get("topic_id", t.get("id"))) >= 0
    )
    edits = [
        {"op": "rename", "topic_id": ids[0], "name": "Renamed by file"},
        {"op": "split", "topic_id": ids[1], "n": 2},
        {"op": "seed", "name": "Refunds", "phrases": ["refund money back", "I want a refund"]},
    ]
    edits_file = tmp_path / "edits.json"
    edits_file.write_text(json.dumps(edits), encoding="utf-8")
    applied = _cli("edit", str(out), "--apply", str(edits_file))
    assert applied.returncode == 0, applied.stderr
    assert "3 edits in effect" in applied.stdout
    saved = json.loads((out / "edits.json").read_text(encoding="utf-8"))
    assert len(saved) == 3 and len(saved[2]["vector"]) == 64  # the seed replays without a model now
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert [e["op"] for e in manifest["edits"]] == ["rename", "split", "seed"]
    assert "Renamed by file" in (out / "topics.csv").read_text(encoding="utf-8-sig")
    undo = _cli("edit", str(out), "--undo", "2")
    assert undo.returncode == 0 and "1 edits in effect" in undo.stdout, undo.stderr
    redo = _cli("edit", str(out), "--redo", "1")
    assert redo.returncode == 0 and "2 edits in effect" in redo.stdout, redo.stderr
    # the same log on a fresh run of the same file gives the same topics
    again = tmp_path / "again"
    rerun = _cli(
        "run",
        str(sample_csv),
        "--model",
        "fake",
        "--topics",
        "6",
        "--no-cache",
        "--quiet",
        "--out",
        str(again),
        "--edits",
        str(edits_file),
    )
    assert rerun.returncode == 0, rerun.stderr
    edited = json.loads((again / "run.json").read_text(encoding="utf-8"))["edits"]
    assert [e["op"] for e in edited] == ["rename", "split", "seed"]
    assert json.loads((again / "topics.json").read_text(encoding="utf-8"))["run"]["edits"] == edited
    bad = tmp_path / "bad.json"
    bad.write_text('[{"op": "split", "topic_id": "x"}]', encoding="utf-8")
    refused = _cli("edit", str(out), "--apply", str(bad))
    assert (
        refused.returncode == 2 and "split.topic_id" in refused.stderr and "Traceback" not in refused.stderr
    )


def test_names_follow_the_texts_an_analyst_name_stays_while_the_topic_keeps_its_texts(
    base: RunResult,
) -> None:
    small = min((t for t in base.topics if t.id >= 0), key=lambda t: t.size)
    donor = next(t for t in base.topics if t.id >= 0 and t.id != small.id)
    rows = tuple(_rows_of(base, donor.id))  # more than doubles the small topic
    named = cur.apply_edit(base, cur.Rename(topic_id=small.id, name="Mine"))
    grown = cur.apply_edit(named, cur.Move(rows=rows, to_topic=small.id))
    assert grown.topic_names()[small.id] == "Mine"  # the analyst's name stays
    unnamed = cur.apply_edit(base, cur.Move(rows=rows, to_topic=small.id))
    after = next(t for t in unnamed.topics if t.id == small.id)
    assert after.size == small.size + donor.size and after.keywords != small.keywords
    assert after.name == after.auto_name  # a generated name is generated again for the new texts
    assert donor.id not in unnamed.topic_names()  # every text moved away: the topic is gone
