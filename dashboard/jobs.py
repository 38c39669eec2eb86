"""Runs wait in one bounded queue and execute in worker processes, so watching pages stay cheap.

One Streamlit server serves every analyst. A run in a thread of the server shares the server's
GIL with every page rerun, and its BLAS/torch/numba thread pools with every other run: watched
runs then took 30x longer (issue 16). So:

* at most :func:`workers` runs execute at once (``$FEEDBACK_TOPICS_WORKERS``, default from the
  machine); the rest wait in order and :meth:`Job.position` says where;
* :func:`start_process` runs the work in a long-lived worker *process* (spawned, never forked
  from the threaded server) whose BLAS, torch and numba pools are limited to
  :func:`threads_per_run` threads; the worker sends progress over a queue that one listener
  thread copies into the :class:`Job`; workers are replaced after ``MAX_TASKS_PER_WORKER`` runs
  so nothing they accumulate lives for hours;
* :func:`start` runs a plain callable in a thread under the same queue (tests, light work);
* pages read :meth:`Job.snapshot`, a copy taken under the job's own lock in microseconds; no
  lock is held while a page waits;
* :func:`cancel` removes a waiting run at once; a running one stops at its next progress call
  (the progress callback raises :class:`pipeline.progress.Cancelled`).

Jobs are only reachable through their random id, which lives in the starting session (and its
URL), so sessions never see each other's runs. Finished jobs are forgotten after
``KEEP_FINISHED_S`` (their runs are on disk), and at most ``MAX_JOBS`` are kept.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.progress import STAGES as PIPELINE_STAGES

logger = logging.getLogger(__name__)

STAGES: tuple[str, ...] = PIPELINE_STAGES
"""The stages in the order a run reports them (one list, from :mod:`pipeline.progress`)."""
WORKERS_ENV = "FEEDBACK_TOPICS_WORKERS"
THREADS_ENV = "FEEDBACK_TOPICS_RUN_THREADS"
MAX_TASKS_PER_WORKER = 50
"""Runs per worker process before it is replaced (its successor starts at once, warming up)."""
CANCEL_GRACE_S = 4.0
"""A cancelled process run that has not stopped by itself after this long has its worker ended."""
KEEP_FINISHED_S = 3600.0
MAX_JOBS = 200
_SEND_EVERY_S = 0.25


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    try:
        return max(1, int(value)) if value else None
    except ValueError:
        logger.warning("ignoring %s=%r (not a number)", name, value)
        return None


def workers() -> int:
    """How many runs execute at once: ``$FEEDBACK_TOPICS_WORKERS``, else half the cores (1–4)."""
    return _env_int(WORKERS_ENV) or min(4, max(1, _cpus() // 2))


def threads_per_run() -> int:
    """Threads each run may use: ``$FEEDBACK_TOPICS_RUN_THREADS``, else the cores shared out."""
    return _env_int(THREADS_ENV) or max(1, _cpus() // workers())


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job for a page to render."""

    id: str
    filename: str
    status: str
    stages: dict[str, tuple[int, int]]
    current: str
    error: str
    run_dir: str
    elapsed: float
    position: int
    """1-based place in the queue while ``queued``; 0 otherwise."""
    queued_total: int
    cancel_requested: bool


@dataclass
class Job:
    """One run: waiting, in progress or finished."""

    id: str
    filename: str
    status: str = "queued"
    """``queued``, ``running``, ``done``, ``failed`` or ``cancelled``."""
    stages: dict[str, tuple[int, int]] = field(default_factory=dict)
    current: str = ""
    error: str = ""
    run_dir: str = ""
    submitted: float = field(default_factory=time.monotonic)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    cancel_requested: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def progress(self, stage: str, done: int, total: int) -> None:
        """The pipeline's progress callback (thread jobs); raises ``Cancelled`` once asked to."""
        from pipeline.progress import Cancelled

        self._update(stage, done, total)
        if self.cancel_requested:
            raise Cancelled()

    def _update(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self.current = stage
            self.stages[stage] = (int(done), int(total))

    @property
    def active(self) -> bool:
        """Waiting or running (not finished)."""
        return self.status in ("queued", "running")

    @property
    def elapsed(self) -> float:
        """Seconds since it started running (0 while it waits)."""
        if self.status == "queued":
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def position(self) -> int:
        """1-based place in the queue while waiting, else 0."""
        return _QUEUE.position(self.id)

    def snapshot(self) -> JobView:
        position, total = _QUEUE.place(self.id)
        with self._lock:
            return JobView(
                id=self.id,
                filename=self.filename,
                status=self.status,
                stages=dict(self.stages),
                current=self.current,
                error=self.error,
                run_dir=self.run_dir,
                elapsed=self.elapsed,
                position=position,
                queued_total=total,
                cancel_requested=self.cancel_requested,
            )

    def _finish(self, status: str, *, run_dir: str = "", error: str = "") -> None:
        with self._lock:
            if self.finished is not None:
                return
            self.status, self.run_dir, self.error = status, run_dir, error
            self.finished = time.monotonic()


@dataclass
class _Task:
    job: Job
    thread_work: Callable[[Job], str] | None = None
    function: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)


class _Queue:
    """FIFO of waiting tasks in front of ``workers()`` execution slots."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._init_lock = threading.Lock()
        self._waiting: deque[_Task] = deque()
        self._running: dict[str, _Task] = {}
        self._workers: list[_Worker] = []
        self._context: Any = None
        self._messages: Any = None
        self._cancel_dir: Path | None = None
        self._limit_override: int | None = None

    # ----------------------------------------------------------------- queries
    def limit(self) -> int:
        return self._limit_override or workers()

    def position(self, job_id: str) -> int:
        return self.place(job_id)[0]

    def place(self, job_id: str) -> tuple[int, int]:
        with self._lock:
            for index, task in enumerate(self._waiting):
                if task.job.id == job_id:
                    return index + 1, len(self._waiting)
            return 0, len(self._waiting)

    def counts(self) -> tuple[int, int]:
        """(running, waiting)."""
        with self._lock:
            return len(self._running), len(self._waiting)

    # ---------------------------------------------------------------- changes
    def submit(self, task: _Task) -> None:
        with self._lock:
            self._waiting.append(task)
        self._dispatch()

    def cancel_waiting(self, job_id: str) -> bool:
        with self._lock:
            for task in self._waiting:
                if task.job.id == job_id:
                    self._waiting.remove(task)
                    task.job._finish("cancelled")
                    return True
        return False

    def signal_cancel(self, job_id: str) -> None:
        if self._cancel_dir is not None:
            try:
                (self._cancel_dir / job_id).touch()
            except OSError:
                logger.warning("could not flag job %s for cancelling", job_id)

    def _dispatch(self) -> None:
        starting: list[_Task] = []
        with self._lock:
            while self._waiting and len(self._running) < self.limit():
                task = self._waiting.popleft()
                self._running[task.job.id] = task
                with task.job._lock:
                    task.job.status = "running"
                    task.job.started = time.monotonic()
                starting.append(task)
        for task in starting:
            try:
                if task.thread_work is not None:
                    threading.Thread(
                        target=self._run_thread, args=(task,), name=f"ft-run-{task.job.id[:8]}", daemon=True
                    ).start()
                else:
                    self._run_process(task)
            except Exception:
                logger.exception("could not start run %s", task.job.id)
                self._done(task, "failed", error="")

    def _done(self, task: _Task, status: str, *, run_dir: str = "", error: str = "") -> None:
        task.job._finish(status, run_dir=run_dir, error=error)
        with self._lock:
            self._running.pop(task.job.id, None)
        if self._cancel_dir is not None:
            (self._cancel_dir / task.job.id).unlink(missing_ok=True)
        self._dispatch()

    # ------------------------------------------------------------ thread tasks
    def _run_thread(self, task: _Task) -> None:
        assert task.thread_work is not None
        try:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=threads_per_run()):
                run_dir = task.thread_work(task.job)
            outcome = ("done", run_dir, "")
        except BaseException as exc:
            outcome = _outcome_of(exc, task.job.id)
        self._done(task, outcome[0], run_dir=outcome[1], error=outcome[2])

    # ----------------------------------------------------------- process tasks
    def _start_messages(self) -> Any:
        with self._init_lock:
            if self._messages is None:
                import multiprocessing

                self._context = multiprocessing.get_context("spawn")
                self._cancel_dir = Path(tempfile.mkdtemp(prefix="feedback-topics-cancel-"))
                self._messages = self._context.Queue()
                threading.Thread(target=self._listen, name="ft-progress", daemon=True).start()
                atexit.register(self.shutdown)  # runs before multiprocessing joins its children
        return self._messages

    def _claim_worker(self, job_id: str) -> _Worker:
        """An idle live worker process for ``job_id``, or a new one (dead and retired ones are dropped)."""
        with self._lock:
            self._workers = [w for w in self._workers if w.alive() or w.job_id]
            for worker in self._workers:
                if worker.job_id is None and worker.alive():
                    worker.job_id = job_id
                    return worker
        worker = _Worker(self._context, self._messages, self._cancel_dir, threads_per_run())
        worker.job_id = job_id
        with self._lock:
            self._workers.append(worker)
        return worker

    def _spare(self) -> None:
        """Start one idle worker process ahead of need (it imports the pipeline while idle)."""
        worker = _Worker(self._context, self._messages, self._cancel_dir, threads_per_run())
        with self._lock:
            self._workers.append(worker)

    def _run_process(self, task: _Task) -> None:
        self._start_messages()
        self._claim_worker(task.job.id).send(task.job.id, task.function, task.kwargs)

    def _worker_of(self, job_id: str) -> _Worker | None:
        with self._lock:
            return next((w for w in self._workers if w.job_id == job_id), None)

    def _finish_process(self, job_id: str, status: str, run_dir: str, error: str) -> None:
        worker = self._worker_of(job_id)
        if worker is not None:
            worker.job_id = None
            worker.runs += 1
            if not worker.alive():  # retired (or died): start its successor now, not at the next run
                self._spare()
        with self._lock:
            task = self._running.get(job_id)
        if task is not None:
            self._done(task, status, run_dir=run_dir, error=error)

    def _listen(self) -> None:
        """Copy progress into jobs, finish jobs, and notice dead workers (about once a second)."""
        import queue

        while True:
            try:
                message = self._messages.get(timeout=1.0)
            except queue.Empty:
                message = None
            except (EOFError, OSError, ValueError):
                return
            if message is not None and message[0] == "progress":
                job = get(message[1])
                if job is not None:
                    job._update(message[2], message[3], message[4])
            elif message is not None and message[0] == "result":
                self._finish_process(*message[1:])
            with self._lock:
                dead = [w for w in self._workers if w.job_id and not w.alive()]
            for worker in dead:
                job_id = str(worker.job_id)
                job = get(job_id)
                cancelled = job is not None and job.cancel_requested
                logger.error(
                    "worker %s running %s ended (exit code %s)", worker.pid, job_id, worker.exitcode()
                )
                self._finish_process(
                    job_id, "cancelled" if cancelled else "failed", "", "" if cancelled else "memory"
                )

    def stop_running(self, job_id: str, *, grace_s: float) -> None:
        """If a cancelled process run has not stopped after ``grace_s`` (a long step without
        progress calls), end its worker process; a new one is started for the next run."""

        def later() -> None:
            time.sleep(grace_s)
            job = get(job_id)
            worker = self._worker_of(job_id)
            if job is None or not job.active or worker is None or job.current == "save":
                return  # stopped by itself, or saving (never cut a save in half)
            logger.warning("run %s did not stop within %.0f s of Cancel; ending its worker", job_id, grace_s)
            worker.terminate()

        threading.Thread(target=later, name=f"ft-cancel-{job_id[:8]}", daemon=True).start()

    def shutdown(self) -> None:
        """Stop the worker processes."""
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()
        if self._cancel_dir is not None:
            shutil.rmtree(self._cancel_dir, ignore_errors=True)


class _Worker:
    """One long-lived worker process running one task at a time."""

    def __init__(self, context: Any, messages: Any, cancel_dir: Path | None, threads: int) -> None:
        self.tasks = context.Queue()
        self.process = context.Process(
            target=_worker_loop,
            args=(self.tasks, messages, str(cancel_dir), threads, MAX_TASKS_PER_WORKER),
            name="feedback-topics-worker",
        )
        self.process.start()
        self.job_id: str | None = None
        self.runs = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive() and self.runs < MAX_TASKS_PER_WORKER

    def exitcode(self) -> int | None:
        return self.process.exitcode

    def send(self, job_id: str, function: str, kwargs: dict[str, Any]) -> None:
        self.tasks.put((job_id, function, kwargs))

    def terminate(self) -> None:
        self.process.terminate()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self.tasks.put(None)
            self.process.join(2)
        if self.process.is_alive():
            self.terminate()


def _outcome_of(exc: BaseException, job_id: str) -> tuple[str, str, str]:
    from pipeline.errors import FeedbackTopicsError
    from pipeline.progress import Cancelled

    if isinstance(exc, Cancelled):
        return "cancelled", "", ""
    if isinstance(exc, FeedbackTopicsError):
        logger.warning("run failed: %s (%s)", exc.user_message, exc.detail)
        return "failed", "", exc.user_message
    if isinstance(exc, MemoryError):
        return "failed", "", "memory"
    logger.error("run %s crashed", job_id, exc_info=exc)
    return "failed", "", ""


# --------------------------------------------------------------------------- in the worker process
_WORKER: dict[str, Any] = {}


def _worker_loop(tasks: Any, messages: Any, cancel_dir: str, threads: int, max_tasks: int) -> None:
    """A worker process: cap the thread pools, then run tasks until told to stop or retired."""
    import queue

    _worker_init(messages, cancel_dir, threads)
    try:  # warm up while idle: the first run then does not pay for these imports
        importlib.import_module("pipeline.run")
        importlib.import_module("pipeline.store")
    except Exception:
        logging.getLogger(__name__).debug("warm-up import failed", exc_info=True)
    parent = os.getppid()
    for _ in range(max_tasks):
        while True:
            try:
                task = tasks.get(timeout=2.0)
                break
            except queue.Empty:
                if os.getppid() != parent:  # the server is gone: do not linger
                    return
        if task is None:
            return
        job_id, function, kwargs = task
        status, run_dir, error = _worker_task(job_id, function, kwargs)
        messages.put(("result", job_id, status, run_dir, error))


def _worker_init(messages: Any, cancel_dir: str, threads: int) -> None:
    """Runs once in each worker process: remember the queue and cap every thread pool."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(process)d %(name)s: %(message)s")
    _WORKER.update(messages=messages, cancel_dir=Path(cancel_dir), threads=threads)
    try:
        from threadpoolctl import threadpool_limits

        _WORKER["limits"] = threadpool_limits(limits=threads)
    except Exception:
        logger.debug("threadpoolctl unavailable", exc_info=True)


def _limit_torch_threads(threads: int) -> None:
    import sys

    if "torch" in sys.modules:
        import torch

        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def _worker_task(job_id: str, function: str, kwargs: dict[str, Any]) -> tuple[str, str, str]:
    """Run ``function(progress=..., **kwargs)`` in the worker; never raises."""
    from pipeline.progress import Cancelled

    messages, cancel_flag, threads = _WORKER["messages"], _WORKER["cancel_dir"] / job_id, _WORKER["threads"]
    sent = {"stage": "", "at": 0.0}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != sent["stage"] or done >= total or now - sent["at"] >= _SEND_EVERY_S:
            messages.put(("progress", job_id, stage, int(done), int(total)))
            sent.update(stage=stage, at=now)
            _limit_torch_threads(threads)  # torch may have been imported since the last call
        if cancel_flag.exists():
            raise Cancelled()

    try:
        module, _, name = function.partition(":")
        work = getattr(importlib.import_module(module), name)
        _limit_torch_threads(threads)
        try:
            import numba

            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        except Exception:
            pass
        return "done", str(work(progress=progress, **kwargs)), ""
    except BaseException as exc:
        return _outcome_of(exc, job_id)


# ----------------------------------------------------------------------------------- public calls
_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()
_QUEUE = _Queue()


def _remember(job: Job) -> None:
    now = time.monotonic()
    with _LOCK:
        stale = [k for k, j in _JOBS.items() if j.finished is not None and now - j.finished > KEEP_FINISHED_S]
        for key in stale:
            del _JOBS[key]
        if len(_JOBS) >= MAX_JOBS:
            for key in [k for k, j in _JOBS.items() if j.finished is not None][: len(_JOBS) - MAX_JOBS + 1]:
                del _JOBS[key]
        _JOBS[job.id] = job


def start(work: Callable[[Job], str], *, filename: str) -> Job:
    """Queue ``work(job) -> run_dir`` to run in a thread of this process; return its job."""
    job = Job(id=uuid.uuid4().hex, filename=filename)
    _remember(job)
    _QUEUE.submit(_Task(job=job, thread_work=work))
    return job


def start_process(function: str, *, filename: str, kwargs: dict[str, Any]) -> Job:
    """Queue ``module:function(progress=..., **kwargs) -> run_dir`` for a worker process.

    ``kwargs`` must pickle; the function is imported by name in the worker.
    """
    job = Job(id=uuid.uuid4().hex, filename=filename)
    _remember(job)
    _QUEUE.submit(_Task(job=job, function=function, kwargs=kwargs))
    return job


def get(job_id: str | None) -> Job | None:
    if not job_id:
        return None
    with _LOCK:
        return _JOBS.get(job_id)


def cancel(job_id: str) -> None:
    """Cancel a run: a waiting one at once, a running one at its next progress call."""
    job = get(job_id)
    if job is None or not job.active:
        return
    job.cancel_requested = True
    if not _QUEUE.cancel_waiting(job_id):
        _QUEUE.signal_cancel(job_id)
        _QUEUE.stop_running(job_id, grace_s=CANCEL_GRACE_S)


def load() -> tuple[int, int]:
    """(running, waiting) runs on this server."""
    return _QUEUE.counts()


def wait(job_id: str, *, timeout: float) -> Job | None:
    """Block until a job has finished (tests and scripts)."""
    deadline = time.monotonic() + timeout
    job = get(job_id)
    while job is not None and job.active and time.monotonic() < deadline:
        time.sleep(0.05)
    return job


def summary(job: Job) -> dict[str, Any]:
    """A JSON-ready snapshot (for logs and tests)."""
    view = job.snapshot()
    return {
        "id": view.id,
        "status": view.status,
        "stages": view.stages,
        "error": view.error,
        "run_dir": view.run_dir,
        "elapsed_s": round(view.elapsed, 2),
        "position": view.position,
        "path_exists": bool(view.run_dir) and Path(view.run_dir).exists(),
    }
