"""Split and move in a real browser (Debian's Chromium driven by Playwright, a real Streamlit server).

A run of the sample (fake embedder) is saved into the server's workspace and opened by its URL;
then the Topics page splits its largest topic in two, rows ticked in a topic's text table move
to a new topic, and rows lassoed on the Map page move to another. Each step is checked in the
run's ``edits.json`` and on the page. Screenshots go to ``test-output/screenshots/curation-*``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_browser_e2e import CHROMIUM, ROOT, SHOTS, _goto, _wait_idle, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RUN_ID = "20260101-000000-feedback_sample-c0ffee"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A Streamlit server on loopback and the run folder it can open (saved before it starts)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    from pipeline.config import RunConfig
    from pipeline.run import run
    from pipeline.store import save_run

    tmp = tmp_path_factory.mktemp("curation-e2e")
    sample = ROOT / "sample_data" / "feedback_sample.csv"
    result = run(
        sample.read_bytes(), filename=sample.name, config=RunConfig(model="fake", n_topics=6, use_cache=False)
    )
    run_dir = save_run(result, tmp / "runs" / RUN_ID)
    with streamlit_server(tmp) as url:
        yield url, run_dir


def _log(run_dir: Path) -> list[dict]:
    path = run_dir / "edits.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def _wait_log(run_dir: Path, n: int, timeout_s: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = _log(run_dir)
        if len(log) >= n:
            return log
        time.sleep(0.3)
    pytest.fail(f"edits.json did not reach {n} entries: {_log(run_dir)}")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"curation-{name}.png"), full_page=True)


def _pick(page, label: str, option: str) -> None:
    """Pick an option in the selectbox whose label is exactly ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True)).first
    choice = page.get_by_role("option", name=option).first
    for _ in range(4):  # the list may close again while the app finishes a rerun
        _wait_idle(page)
        box.scroll_into_view_if_needed()
        box.click()
        try:
            choice.wait_for(timeout=5_000)
            break
        except Exception:
            page.keyboard.press("Escape")
    choice.click()
    _wait_idle(page)


def test_split_then_move_from_a_table_and_from_a_lasso(served: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    server, run_dir = served

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        try:
            _steps(page, server, run_dir, expect)
        except Exception:
            _shot(page, "failed")
            (SHOTS / "curation-failed.html").write_text(page.content(), encoding="utf-8")
            raise
        finally:
            browser.close()


def _steps(page, server: str, run_dir: Path, expect) -> None:
    if True:
        page.goto(f"{server}/topics?run={RUN_ID}")
        page.get_by_role("heading", name="Topics", level=1).wait_for(timeout=60_000)
        _wait_idle(page, timeout=60_000)

        # ---- split the largest topic in two
        _pick(page, "Into", "2")
        page.get_by_role("button", name="Split", exact=True).click()
        expect(page.get_by_text("Topic split and saved.")).to_be_visible(timeout=60_000)
        log = _wait_log(run_dir, 1)
        assert log[0]["op"] == "split" and log[0]["n"] == 2
        expect(page.get_by_role("button", name="Undo (1)")).to_be_visible()
        _shot(page, "1-split")

        # ---- reload (a new session reopens the run with its edits), then tick two rows in a
        # topic's text table and move them to a new topic
        page.goto(f"{server}/topics?run={RUN_ID}")
        page.get_by_role("heading", name="Topics", level=1).wait_for(timeout=60_000)
        _wait_idle(page, timeout=60_000)
        expect(page.get_by_text("Edit history (1)")).to_be_visible()  # undo is per session (analyst)
        page.get_by_role("tab", name="All texts").click()
        _wait_idle(page)
        grid = page.locator('[data-testid="stDataFrame"] >> visible=true').last
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        assert box is not None
        for i in (0, 1):  # the row-selection column at the grid's left edge; header 35 px, rows 35 px
            page.mouse.click(box["x"] + 18, box["y"] + 35 + 17 + 35 * i)
            _wait_idle(page)
        expect(page.get_by_text("Move the 2 selected rows")).to_be_visible(timeout=30_000)
        name = page.get_by_label("Name of the new topic")
        name.fill("Ticked in the table")
        name.press("Enter")
        _wait_idle(page)
        page.get_by_role("button", name="Move", exact=True).click()
        expect(page.get_by_text("Rows moved and saved.")).to_be_visible(timeout=60_000)
        log = _wait_log(run_dir, 2)
        assert log[1]["op"] == "move" and log[1]["to_topic"] is None and len(log[1]["rows"]) == 2
        assert log[1]["name"] == "Ticked in the table"
        _shot(page, "2-move-table")

        # ---- lasso on the map, move the lassoed rows to the new topic
        _goto(page, "Map")
        _wait_idle(page, timeout=60_000)
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        chart.scroll_into_view_if_needed()
        chart.hover()
        chart.locator('.modebar-btn[data-val="lasso"]').first.click()
        plot = chart.locator(".nsewdrag").first.bounding_box()
        assert plot is not None
        cx, cy = plot["x"] + plot["width"] / 2, plot["y"] + plot["height"] / 2
        rx, ry = plot["width"] * 0.3, plot["height"] * 0.3
        page.mouse.move(cx - rx, cy - ry)
        page.mouse.down()
        for x, y in ((cx + rx, cy - ry), (cx + rx, cy + ry), (cx - rx, cy + ry), (cx - rx, cy - ry + 2)):
            page.mouse.move(x, y, steps=8)
        page.mouse.up()
        _wait_idle(page, timeout=60_000)
        title = page.get_by_text("selected rows", exact=False).filter(has_text="Move the").first
        expect(title).to_be_visible(timeout=30_000)
        _pick(page, "To", "Ticked in the table")
        page.get_by_role("button", name="Move", exact=True).click()
        expect(page.get_by_text("Rows moved and saved.")).to_be_visible(timeout=60_000)
        log = _wait_log(run_dir, 3)
        target = log[1]
        assert log[2]["op"] == "move" and isinstance(log[2]["to_topic"], int) and len(log[2]["rows"]) > 2
        _shot(page, "3-move-lasso")

        # ---- the edits survive a reload: the new topic is still there, with the lassoed rows
        from dashboard import services

        reopened = services.open_saved(run_dir).result
        names = reopened.topic_names()
        new_id = next(t for t, n in names.items() if n == "Ticked in the table")
        assert log[2]["to_topic"] == new_id
        labels = reopened.row_labels()
        assert all(labels[r] == new_id for r in target["rows"] + log[2]["rows"])
