"""The dashboard end to end in a real browser (Debian's Chromium driven by Playwright).

Starts ``streamlit run dashboard/app.py`` on a free loopback port with the run workspace in a
temporary folder, then: uploads the sample, runs an analysis (model from
``$FEEDBACK_TOPICS_E2E_MODEL``, default the bundled ``use-multilingual``), renames a topic,
visits every page, downloads the HTML report, refreshes the browser and checks the run is still
open. Screenshots of each page go to ``test-output/screenshots/``; timings to
``test-output/e2e_timings.json``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SAMPLE = ROOT / "sample_data" / "feedback_sample.csv"
OUT = ROOT / "test-output"
SHOTS = OUT / "screenshots"
MODEL = os.environ.get("FEEDBACK_TOPICS_E2E_MODEL", "use-multilingual")
RENAMED = "Delivery and parcels (renamed)"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    tmp = tmp_path_factory.mktemp("e2e")
    with streamlit_server(tmp) as url:
        yield url


@contextmanager
def streamlit_server(tmp: Path) -> Iterator[str]:
    """``streamlit run dashboard/app.py`` on a free loopback port, its workspace and cache in
    ``tmp`` (test models on); yields its URL once it answers, and stops it afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "FEEDBACK_TOPICS_WORKSPACE": str(tmp / "runs"),
        "FEEDBACK_TOPICS_CACHE_DIR": str(tmp / "cache"),
        "FEEDBACK_TOPICS_DASHBOARD_TEST_MODELS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    log = (tmp / "streamlit.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard/app.py",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("streamlit did not start:\n" + (tmp / "streamlit.log").read_text()[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _shot(page, name: str) -> None:
    """Screenshot the whole page (the viewport grows to the app's scroll height first)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        """() => Math.max(document.body.scrollHeight,
            ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppScrollToBottomContainer"], section.main')]
               .map(e => e.scrollHeight))"""
    )
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 5000))})
    page.wait_for_timeout(800)  # let charts re-lay out and finish their transitions
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})


def _goto(page, label: str) -> None:
    """Client-side navigation through the sidebar (a URL change would start a new session)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()
    page.get_by_role("heading", level=1).first.wait_for()


def _wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout)


def _choose(page, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox found by its label."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=option, exact=True).first.click()
    _wait_idle(page)


def _wait_for_run(page, *, timeout_s: float) -> None:
    """Wait for the run's success message; fail at once with the app's message on an error."""
    done = page.get_by_text("Analysis finished in")
    alerts = page.locator('[data-testid="stAlertContentError"]')
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done.count():
            return
        if alerts.count():
            pytest.fail("the run failed: " + alerts.first.inner_text())
        page.wait_for_timeout(500)
    pytest.fail(f"the run did not finish within {timeout_s:.0f} s")


def test_dashboard_end_to_end(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    timings: dict[str, float] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        expect.set_options(timeout=30_000)

        # first render
        start = time.perf_counter()
        page.goto(server)
        expect(page.get_by_role("heading", name="Your feedback data")).to_be_visible()
        timings["first_render_s"] = round(time.perf_counter() - start, 2)
        _shot(page, "01-data-empty")

        # upload the sample
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(SAMPLE))
        expect(page.get_by_text("Preview (first rows as read)")).to_be_visible()
        expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text("600")
        _wait_idle(page)
        _shot(page, "02-data-loaded")

        # run
        _goto(page, "Run")
        expect(page.get_by_role("button", name="Start the analysis")).to_be_visible()
        if MODEL != "auto":
            _choose(page, "Model", MODEL)
        _shot(page, "03-run-settings")
        start = time.perf_counter()
        page.get_by_role("button", name="Start the analysis").click()
        _wait_for_run(page, timeout_s=240)
        timings["sample_run_s"] = round(time.perf_counter() - start, 2)
        _wait_idle(page)
        _shot(page, "04-run-finished")

        # topics: rename the largest topic
        _goto(page, "Topics")
        expect(page.get_by_text("All topics")).to_be_visible()
        _wait_idle(page)
        _shot(page, "05-topics")
        page.get_by_label("New name").fill(RENAMED)
        page.get_by_role("button", name="Rename", exact=True).click()
        expect(page.get_by_text("Topic renamed and saved.")).to_be_visible()
        _wait_idle(page)
        page.get_by_role("tab", name="All texts").click()
        _shot(page, "06-topics-renamed")

        # map, search, trends
        _goto(page, "Map")
        page.locator(".js-plotly-plot").first.wait_for()
        _wait_idle(page)
        expect(page.get_by_text(RENAMED).first).to_be_attached()
        _shot(page, "07-map")

        _goto(page, "Search")
        page.get_by_label("What are you looking for?").fill("refund not received")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_text("most similar texts")).to_be_visible(timeout=60_000)
        _wait_idle(page)
        _shot(page, "08-search")

        _goto(page, "Trends")
        page.locator(".js-plotly-plot").first.wait_for()
        _wait_idle(page)
        _shot(page, "09-trends")

        # export: download the HTML report, with the new name in it
        _goto(page, "Export")
        _wait_idle(page)
        _shot(page, "10-export")
        with page.expect_download() as download_info:
            page.locator('[data-testid="stDownloadButton"]').first.get_by_role("button").click()
        download = download_info.value
        OUT.mkdir(parents=True, exist_ok=True)
        report = OUT / "e2e-report.html"
        download.save_as(str(report))
        html = report.read_text(encoding="utf-8")
        assert RENAMED in html
        assert "<html" in html.lower()

        # runs, then a browser refresh: the run (and the rename) are still there
        _goto(page, "Runs")
        _wait_idle(page)
        _shot(page, "11-runs")
        page.reload()
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        _goto(page, "Topics")
        expect(page.get_by_text("All topics")).to_be_visible()
        page.get_by_role("tab", name="Keywords").wait_for()
        expect(page.get_by_text(RENAMED).first).to_be_attached()  # the reopened run kept the rename

        # the Chinese interface
        page.locator('[data-testid="stSidebar"]').get_by_text("中文", exact=True).click()
        expect(page.get_by_role("heading", name="主题", exact=True)).to_be_visible()
        _wait_idle(page)
        _shot(page, "12-topics-zh")
        browser.close()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "e2e_timings.json").write_text(json.dumps({"model": MODEL, **timings}, indent=2))
    assert timings["first_render_s"] < 10  # the server is warm-starting; the < 3 s check is in test_app
