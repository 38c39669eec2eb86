"""Helpers for the dashboard's AppTest tests: build the app, open a run in its session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from dashboard import state
from pipeline.types import RunResult

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
TIMEOUT = 30.0


def new_app(workspace: Path, monkeypatch: Any) -> AppTest:
    """An AppTest of the router, with the run workspace pointed at ``workspace``."""
    monkeypatch.setenv("FEEDBACK_TOPICS_WORKSPACE", str(workspace))
    monkeypatch.chdir(ROOT)  # .streamlit/config.toml applies
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def open_result(at: AppTest, result: RunResult, run_dir: Path, edits: list[dict] | None = None) -> None:
    """Put ``result`` into the app's session as the open run (as the Runs page would)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    at.session_state[state.RUN] = state.OpenRun(
        run_id=run_dir.name, run_dir=str(run_dir), base=result, edits=list(edits or []), result=result
    )


def goto(at: AppTest, page: str) -> AppTest:
    """Navigate to a page (``data``, ``run``, ``topics``...) and run it."""
    return at.switch_page(f"views/{page}.py").run()


def texts(at: AppTest, kind: str) -> list[str]:
    """Values of all elements of one kind (``error``, ``warning``, ``info``, ``success``...)."""
    return [str(e.value) for e in getattr(at, kind)]
