"""Shared test setup: hermetic caches, offline model hubs, and paths to the bundled data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "sample_data" / "feedback_sample.csv"
SHARED_DATA = ROOT.parent / "shared" / "data"

# Nothing in the test suite may reach a model hub; set before any test imports transformers.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Label candidates from the word list: 20,000 per language in a run, 3,000 keep tests fast.
os.environ.setdefault("FEEDBACK_TOPICS_LABEL_WORDS", "3000")


@pytest.fixture(autouse=True, scope="session")
def _hermetic_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Embedding cache and run workspace in temporary folders, never the user's."""
    os.environ["FEEDBACK_TOPICS_CACHE_DIR"] = str(tmp_path_factory.mktemp("embedding-cache"))
    os.environ["FEEDBACK_TOPICS_WORKSPACE"] = str(tmp_path_factory.mktemp("workspace"))


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    return SAMPLE_CSV


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty run workspace for a dashboard test."""
    path = tmp_path / "runs"
    path.mkdir()
    return path


@pytest.fixture
def app(workspace: Path, monkeypatch: pytest.MonkeyPatch):
    """The dashboard router as an AppTest (test models on), run once, with no exception."""
    from tests._app_helpers import new_app

    monkeypatch.setenv("FEEDBACK_TOPICS_DASHBOARD_TEST_MODELS", "1")
    at = new_app(workspace, monkeypatch)
    at.run()
    assert not at.exception
    return at
