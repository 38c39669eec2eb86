"""One server, many analysts: the run queue, cancel under load, shared edits, cache keys (issue 16).

Queue tests run real threads and (for process runs) real spawned worker processes; edit tests use
a real saved run folder and the dashboard's own service calls, as two analysts' sessions would.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from dashboard import jobs, services, state
from pipeline.store import EditConflict, load_edits, save_run
from tests._app_helpers import goto, new_app
from tests._result_factory import make_result


# ------------------------------------------------------------------------------------------- queue
def _blocking(release: threading.Event, running: list[str], peak: list[int], name: str):
    def work(job: jobs.Job) -> str:
        running.append(name)
        peak[0] = max(peak[0], len(running))
        job.progress("embed", 0, 1)
        release.wait(10)
        running.remove(name)
        return ""

    return work


def test_queue_bounds_concurrency_keeps_order_and_reports_positions(monkeypatch) -> None:
    monkeypatch.setenv(jobs.WORKERS_ENV, "2")
    release = threading.Event()
    running: list[str] = []
    started: list[str] = []
    peak = [0]

    def work_for(name: str):
        inner = _blocking(release, running, peak, name)

        def work(job: jobs.Job) -> str:
            started.append(name)
            return inner(job)

        return work

    started_jobs = [jobs.start(work_for(f"r{i}"), filename=f"r{i}.csv") for i in range(5)]
    try:
        deadline = time.monotonic() + 5
        while len(running) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert len(running) == 2
        views = [job.snapshot() for job in started_jobs]
        assert [v.status for v in views] == ["running", "running", "queued", "queued", "queued"]
        assert [v.position for v in views] == [0, 0, 1, 2, 3]
        assert views[2].queued_total == 3
        assert jobs.load() == (2, 3)
    finally:
        release.set()
    for job in started_jobs:
        assert jobs.wait(job.id, timeout=10).status == "done"
    assert peak[0] == 2, "never more than FEEDBACK_TOPICS_WORKERS runs at once"
    assert sorted(started) == [f"r{i}" for i in range(5)]
    began = [job.started for job in started_jobs]
    assert began == sorted(began), "runs leave the queue in the order they were queued"


def test_workers_and_threads_come_from_the_machine_or_the_environment(monkeypatch) -> None:
    monkeypatch.delenv(jobs.WORKERS_ENV, raising=False)
    monkeypatch.delenv(jobs.THREADS_ENV, raising=False)
    assert 1 <= jobs.workers() <= 4
    assert jobs.workers() * jobs.threads_per_run() <= max(jobs._cpus(), jobs.workers())
    monkeypatch.setenv(jobs.WORKERS_ENV, "3")
    monkeypatch.setenv(jobs.THREADS_ENV, "2")
    assert (jobs.workers(), jobs.threads_per_run()) == (3, 2)
    monkeypatch.setenv(jobs.WORKERS_ENV, "many")
    assert jobs.workers() >= 1  # a bad value is ignored, not fatal


def test_cancel_under_load_is_prompt_for_running_and_waiting_runs(monkeypatch) -> None:
    monkeypatch.setenv(jobs.WORKERS_ENV, "1")

    def steady(job: jobs.Job) -> str:
        for i in range(2000):
            job.progress("embed", i, 2000)
            time.sleep(0.01)
        return ""

    queued = [jobs.start(steady, filename=f"f{i}.csv") for i in range(4)]
    try:
        time.sleep(0.3)
        assert [j.status for j in queued] == ["running", "queued", "queued", "queued"]
        began = time.monotonic()
        jobs.cancel(queued[2].id)  # a waiting run leaves the queue at once
        assert queued[2].status == "cancelled" and time.monotonic() - began < 0.1
        assert queued[3].position() == 2
        began = time.monotonic()
        jobs.cancel(queued[0].id)  # the running one stops at its next progress call
        assert jobs.wait(queued[0].id, timeout=5).status == "cancelled"
        assert time.monotonic() - began < 2.0
        deadline = time.monotonic() + 5  # the next in line starts by itself
        while queued[1].status != "running" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert queued[1].status == "running"
    finally:
        for job in queued:
            jobs.cancel(job.id)
    for job in queued:
        assert jobs.wait(job.id, timeout=10).status == "cancelled"


@pytest.mark.slow
def test_process_runs_report_progress_and_cancel_within_seconds(monkeypatch) -> None:
    monkeypatch.setenv(jobs.WORKERS_ENV, "1")
    done = jobs.start_process(
        "tests._slow_work:steady", filename="a.csv", kwargs={"steps": 5, "pause": 0.01, "result": "ok"}
    )
    slow = jobs.start_process(
        "tests._slow_work:steady", filename="b.csv", kwargs={"steps": 100_000, "pause": 0.01}
    )
    assert jobs.wait(done.id, timeout=120).status == "done"
    assert done.run_dir == "ok"
    assert done.snapshot().stages["embed"] == (5, 5), "the last progress report always arrives"
    deadline = time.monotonic() + 60
    while "embed" not in slow.snapshot().stages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert slow.status == "running" and slow.snapshot().stages["embed"][1] == 100_000
    began = time.monotonic()
    jobs.cancel(slow.id)
    assert jobs.wait(slow.id, timeout=10).status == "cancelled"
    assert time.monotonic() - began < 3.0


@pytest.mark.slow
def test_cancel_ends_a_worker_stuck_in_a_long_step_and_the_queue_goes_on(monkeypatch) -> None:
    monkeypatch.setenv(jobs.WORKERS_ENV, "1")
    monkeypatch.setattr(jobs, "CANCEL_GRACE_S", 1.0)
    stuck = jobs.start_process("tests._slow_work:silent", filename="big.csv", kwargs={"seconds": 600})
    after = jobs.start_process(
        "tests._slow_work:steady", filename="next.csv", kwargs={"steps": 3, "pause": 0.01, "result": "next"}
    )
    deadline = time.monotonic() + 60
    while "reduce" not in stuck.snapshot().stages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert after.position() == 1
    began = time.monotonic()
    jobs.cancel(stuck.id)
    assert jobs.wait(stuck.id, timeout=20).status == "cancelled"
    assert time.monotonic() - began < 8.0
    assert jobs.wait(after.id, timeout=120).status == "done" and after.run_dir == "next"


def test_finished_jobs_are_forgotten_after_a_while(monkeypatch) -> None:
    monkeypatch.setattr(jobs, "KEEP_FINISHED_S", 0.0)
    old = jobs.start(lambda job: "", filename="old.csv")
    assert jobs.wait(old.id, timeout=5).status == "done"
    time.sleep(0.01)
    jobs.start(lambda job: "", filename="new.csv")
    assert jobs.get(old.id) is None


# ------------------------------------------------------------------------------------------- edits
@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "runs" / "shared-run"
    save_run(make_result(120, with_payloads=False, n_topics=4), run_dir)
    return run_dir


def test_two_analysts_edit_one_run_without_losing_an_edit(saved_run: Path) -> None:
    ann = services.open_saved(saved_run)
    bob = services.open_saved(saved_run)
    assert ann.version == bob.version

    ann, merged = services.edit(ann, {"op": "rename", "topic_id": 1, "name": "Ann's delivery"}, author="ann")
    assert merged == 0
    assert services.changes_elsewhere(bob, author="bob") == 1, "Bob's pages say the run changed"
    # Bob's view is stale, but his rename touches another topic: merged, nothing lost
    bob, merged = services.edit(bob, {"op": "rename", "topic_id": 2, "name": "Bob's refunds"}, author="bob")
    assert merged == 1
    names = bob.result.topic_names()
    assert names[1] == "Ann's delivery" and names[2] == "Bob's refunds"
    assert services.changes_elsewhere(ann, author="ann") == 1

    # Ann, still on her old view, renames Bob's topic: refused, with the topic named
    with pytest.raises(EditConflict) as refused:
        services.edit(ann, {"op": "rename", "topic_id": 2, "name": "Ann's refunds"}, author="ann")
    assert refused.value.code == "conflict" and refused.value.topics == [2]
    assert "Another analyst" in refused.value.user_message
    log = load_edits(saved_run)
    assert [(e["author"], e["name"]) for e in log] == [("ann", "Ann's delivery"), ("bob", "Bob's refunds")]

    # after a reload her next edit goes through; Bob's undo cancels only his own edit
    ann = services.reload(ann)
    ann, _ = services.edit(ann, {"op": "rename", "topic_id": 3, "name": "Ann's app"}, author="ann")
    bob = services.reload(bob)
    target, blocked = services.undo_candidate(bob, author="bob")
    assert target is not None and target["name"] == "Bob's refunds" and blocked == []
    bob, undone = services.undo(bob, author="bob")
    assert undone["name"] == "Bob's refunds"
    names = bob.result.topic_names()
    assert names[1] == "Ann's delivery" and names[3] == "Ann's app" and names[2] != "Bob's refunds"
    with pytest.raises(EditConflict) as nothing:
        services.undo(bob, author="bob")
    assert nothing.value.code == "nothing_to_undo"
    reopened = services.open_saved(saved_run)
    assert reopened.result.topic_names() == names, "what is saved is what is shown"
    assert len(load_edits(saved_run)) == 4, "the log is appended to, never rewritten"


def test_undo_is_refused_when_someone_built_on_the_edit(saved_run: Path) -> None:
    ann = services.open_saved(saved_run)
    ann, _ = services.edit(ann, {"op": "merge", "topic_ids": [0, 1], "name": "Orders"}, author="ann")
    bob = services.open_saved(saved_run)
    bob, _ = services.edit(bob, {"op": "rename", "topic_id": 0, "name": "Orders and money"}, author="bob")
    ann = services.reload(ann)
    target, blocked = services.undo_candidate(ann, author="ann")
    assert target is not None and target["op"] == "merge" and blocked == [0]
    with pytest.raises(EditConflict) as refused:
        services.undo(ann, author="ann")
    assert refused.value.code == "undo_blocked"
    assert services.open_saved(saved_run).result.topic_names()[0] == "Orders and money"


def test_old_edit_logs_stay_readable_and_undoable(saved_run: Path) -> None:
    (saved_run / "edits.json").write_text(
        json.dumps([{"op": "rename", "topic_id": 1, "name": "Old name"}]), encoding="utf-8"
    )
    current = services.open_saved(saved_run)
    assert current.result.topic_names()[1] == "Old name"
    current, undone = services.undo(current, author="anyone")
    assert undone["name"] == "Old name" and current.result.topic_names()[1] != "Old name"


def test_concurrent_writers_lose_nothing(saved_run: Path) -> None:
    views = {name: services.open_saved(saved_run) for name in ("a", "b", "c", "d")}
    errors: list[BaseException] = []

    def write(name: str, topic: int) -> None:
        try:
            services.edit(views[name], {"op": "rename", "topic_id": topic, "name": f"by {name}"}, author=name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n, i)) for i, n in enumerate(views)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(e["name"] for e in load_edits(saved_run)) == ["by a", "by b", "by c", "by d"]


# ---------------------------------------------------------------------------- cached views (ref. 1)
def test_rename_undo_rename_shows_the_last_name_on_map_and_export(tmp_path: Path, monkeypatch) -> None:
    """Rename to Alpha, undo, rename to Beta: the legend and every export say Beta (issue 15).

    Both views are cached on the run; with the old key (the number of edits) both showed Alpha."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    served: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes):
            served.append(path_or_data)
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    workspace = tmp_path / "runs"
    run_dir = workspace / "alpha-beta"
    save_run(make_result(120, with_payloads=False, n_topics=4), run_dir)
    app = new_app(workspace, monkeypatch)
    app.run()
    app.session_state[state.RUN] = services.open_saved(run_dir)

    def rename(name: str) -> None:
        goto(app, "topics")
        app.selectbox(key="w_rename_topic").set_value(1)
        app.text_input(key="w_rename_name").set_value(name)
        app.button(key="w_rename_btn").click().run()

    def legend() -> str:
        goto(app, "map")
        assert not app.exception
        return "".join(chart.proto.spec for chart in app.get("plotly_chart"))

    def export_csv() -> str:
        served.clear()
        goto(app, "export")
        assert not app.exception
        return "".join(b.decode("utf-8-sig", "replace") for b in served)

    rename("Alpha squad")
    assert "Alpha squad" in legend() and "Alpha squad" in export_csv()
    alpha_version = app.session_state[state.RUN].version
    goto(app, "topics")
    app.button(key="w_undo").click().run()
    rename("Beta squad")
    current = app.session_state[state.RUN]
    assert len(current.edits) == 1 and current.version != alpha_version
    assert current.result.topic_names()[1] == "Beta squad"
    spec = legend()
    assert "Beta squad" in spec and "Alpha squad" not in spec
    exported = export_csv()
    assert "Beta squad" in exported and "Alpha squad" not in exported
