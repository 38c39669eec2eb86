"""Pipeline runs in background threads, so the page stays responsive and a run survives a refresh.

A :class:`Job` records per-stage progress from the pipeline's progress callback and turns a
cancel request into :class:`pipeline.progress.Cancelled`. Jobs are only reachable through their
random id, which lives in the starting session (and its URL), so sessions never see each
other's runs in progress.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

STAGES: tuple[str, ...] = ("load", "embed", "reduce", "cluster", "keywords", "languages", "report")


@dataclass
class Job:
    """One run in progress (or finished)."""

    id: str
    filename: str
    status: str = "running"
    """``running``, ``done``, ``failed`` or ``cancelled``."""
    stages: dict[str, tuple[int, int]] = field(default_factory=dict)
    current: str = ""
    error: str = ""
    run_dir: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    cancel_requested: bool = False

    def progress(self, stage: str, done: int, total: int) -> None:
        """The pipeline's progress callback; raises ``Cancelled`` once a cancel was asked for."""
        from pipeline.progress import Cancelled

        self.current = stage
        self.stages[stage] = (int(done), int(total))
        if self.cancel_requested:
            raise Cancelled()

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def start(
    work: Callable[[Job], str],
    *,
    filename: str,
) -> Job:
    """Start ``work(job) -> run_dir`` in a daemon thread and return its job."""
    job = Job(id=uuid.uuid4().hex, filename=filename)
    with _LOCK:
        _JOBS[job.id] = job

    def target() -> None:
        from pipeline.errors import FeedbackTopicsError
        from pipeline.progress import Cancelled

        try:
            job.run_dir = work(job)
            job.status = "done"
        except Cancelled:
            job.status = "cancelled"
        except FeedbackTopicsError as exc:
            logger.warning("run failed: %s (%s)", exc.user_message, exc.detail)
            job.error = exc.user_message
            job.status = "failed"
        except MemoryError:
            job.error = "memory"
            job.status = "failed"
        except Exception:
            logger.exception("run %s crashed", job.id)
            job.error = ""
            job.status = "failed"
        finally:
            job.finished = time.monotonic()

    threading.Thread(target=target, name=f"feedback-topics-run-{job.id[:8]}", daemon=True).start()
    return job


def get(job_id: str | None) -> Job | None:
    if not job_id:
        return None
    with _LOCK:
        return _JOBS.get(job_id)


def cancel(job_id: str) -> None:
    job = get(job_id)
    if job is not None:
        job.cancel_requested = True


def wait(job_id: str, *, timeout: float) -> Job | None:
    """Block until a job leaves ``running`` (tests and scripts)."""
    deadline = time.monotonic() + timeout
    job = get(job_id)
    while job is not None and job.status == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    return job


def summary(job: Job) -> dict[str, Any]:
    """A JSON-ready snapshot (for logs and tests)."""
    return {
        "id": job.id,
        "status": job.status,
        "stages": dict(job.stages),
        "error": job.error,
        "run_dir": job.run_dir,
        "elapsed_s": round(job.elapsed, 2),
        "path_exists": bool(job.run_dir) and Path(job.run_dir).exists(),
    }
