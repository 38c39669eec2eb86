"""One dashboard server, several analysts: run times alone and together, watched and unwatched,
Cancel latency and server memory over many runs (issue 16).

Starts a real ``streamlit run dashboard/app.py`` on loopback (workspace and embedding cache in a
temporary folder) and drives it with Playwright on Debian's Chromium (``/usr/bin/chromium``),
one browser context per analyst (so one Streamlit session each). Every analyst uploads a
different small file (the bundled sample's texts with per-file numbers, so nothing is served
from the embedding cache) and starts a run:

* ``solo``: each file alone, one analyst; ``together``: 2 and 4 analysts at once; both
  ``watched`` (the analyst stays on the Run page) and ``unwatched`` (moves to Topics at once);
* Start-to-finished is measured from the click to the run folder being complete on disk
  (``edits.json``, written last, timestamps it); for watched runs also to the page saying it
  finished; a group's time is from its first Start click to its last run finished;
* ``cancel``: four watched runs, then Cancel on the one running; seconds until its page says so;
* ``memory``: ``--rss-runs`` runs one after another by one analyst; RSS of the server process and
  of its worker processes after each, and the run time (first vs last) to see whether it slows.

Targets (issue 16): four concurrent runs finish within 1.5x the sum of their solo times, watched
or not; Cancel under 10 s with four running. The machine may be shared, so compare the ratios
measured in one session. Writes ``bench/results/dashboard_load.json``.

    python bench/dashboard_load.py --rows 400 --rss-runs 12
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SAMPLE = ROOT / "sample_data" / "feedback_sample.csv"
RESULTS = ROOT / "bench" / "results" / "dashboard_load.json"
logger = logging.getLogger("dashboard_load")


# ------------------------------------------------------------------------------------------ inputs
def make_file(rows: int, tag: str) -> bytes:
    """``rows`` feedback rows from the sample, each text made unique to this file by a number."""
    with SAMPLE.open(encoding="utf-8") as handle:
        sample = list(csv.DictReader(handle))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(sample[0]))
    writer.writeheader()
    for i in range(rows):
        row = dict(sample[i % len(sample)])
        row["feedback"] = f"{row['feedback']} ({tag} #{i})"
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


# ------------------------------------------------------------------------------------------ server
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(tmp: Path, env_extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "FEEDBACK_TOPICS_WORKSPACE": str(tmp / "runs"),
        "FEEDBACK_TOPICS_CACHE_DIR": str(tmp / "cache"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        **env_extra,
    }
    log = (tmp / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
            "--server.address", "127.0.0.1", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.3)
        if process.poll() is not None:
            break
    raise SystemExit("streamlit did not start; see " + str(tmp / "streamlit.log"))


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far: the server process, and its live worker processes."""
    below, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        below.append(child)
        todo += _children(child)
    return {"server_cpu_s": _cpu_s(pid), "workers_cpu_s": sum(_cpu_s(c) for c in below)}


def memory(pid: int) -> dict[str, float]:
    """RSS of the server and of every process below it (worker processes, their helpers)."""
    below, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        below.append(child)
        todo += _children(child)
    return {
        "server_mib": round(_rss_mib(pid), 1),
        "workers_mib": round(sum(_rss_mib(c) for c in below), 1),
        "n_child_processes": len(below),
    }


# ---------------------------------------------------------------------------------------- analysts
class Analyst:
    """One browser context = one Streamlit session."""

    def __init__(self, browser: Any, url: str, name: str, workspace: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.url, self.name, self.workspace = url, name, workspace
        self.page.set_default_timeout(120_000)

    def close(self) -> None:
        self.context.close()

    def _idle(self) -> None:
        self.page.wait_for_timeout(300)
        self.page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=120_000)

    def goto(self, label: str) -> None:
        self.page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()
        self.page.get_by_role("heading", level=1).first.wait_for()
        self._idle()

    def prepare(self, path: Path, model: str) -> None:
        """Open the app, upload ``path``, go to Run and choose the model (not started yet)."""
        if not self.page.url.startswith(self.url):
            self.page.goto(self.url)
            self.page.get_by_role("heading", level=1).first.wait_for()
        else:
            self.goto("Data")
        self.page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
        # the new file's name in the status card: the upload has reached the session (the preview
        # of the previous file may still be on the page)
        self.page.locator('[data-testid="stSidebar"]').get_by_text(path.name).first.wait_for()
        self.page.get_by_text("Preview (first rows as read)").wait_for()
        self._idle()
        self.goto("Run")
        self.page.get_by_role("button", name="Start the analysis").wait_for()
        box = self.page.locator('[data-testid="stSelectbox"]').filter(has_text="Model").first
        box.click()
        self.page.get_by_role("option", name=model, exact=True).first.click()
        self._idle()

    def start(self, *, watched: bool) -> float:
        began = time.monotonic()
        self.page.get_by_role("button", name="Start the analysis").click()
        self.page.get_by_role("button", name="Cancel").wait_for(timeout=180_000)
        if not watched:
            self.goto("Topics")
        return began


def _finished_at(workspace: Path, stem: str, known: set[str]) -> float | None:
    """Wall-clock time the run of ``stem`` was complete on disk (``edits.json`` is written last)."""
    for path in workspace.glob(f"*-{stem}-*"):
        marker = path / "edits.json"
        if path.name not in known and marker.exists():
            return marker.stat().st_mtime
    return None


def run_group(
    analysts: list[Analyst], files: list[Path], *, model: str, watched: bool, timeout_s: float
) -> list[dict[str, Any]]:
    """Start one run per analyst (together) and time each, from its own Start click, to finished
    (on disk) and, when watched, to its page saying so."""
    workspace = analysts[0].workspace
    known = {p.name for p in workspace.glob("*")} if workspace.exists() else set()
    for analyst, path in zip(analysts, files, strict=True):
        analyst.prepare(path, model)
    stems = {a.name: f.stem for a, f in zip(analysts, files, strict=True)}
    began: dict[str, float] = {}
    done: dict[str, float] = {}
    seen: dict[str, float] = {}

    last_page_check = [0.0]

    def poll() -> None:
        # the disk every call; the pages (a DOM query through the browser, which shares the
        # server's cores here) at most once a second, so the harness itself costs little
        check_pages = watched and time.monotonic() - last_page_check[0] >= 1.0
        if check_pages:
            last_page_check[0] = time.monotonic()
        for analyst in analysts:
            if analyst.name in began and analyst.name not in done:
                at = _finished_at(workspace, stems[analyst.name], known)
                if at is not None:
                    done[analyst.name] = at
            if (
                check_pages
                and analyst.name in began
                and analyst.name not in seen
                and analyst.page.get_by_text("Analysis finished in").count()
            ):
                seen[analyst.name] = time.time()

    for analyst in analysts:
        began[analyst.name] = time.time()
        analyst.start(watched=watched)
        poll()
    deadline = time.monotonic() + timeout_s
    while (
        len(done) < len(analysts) or (watched and len(seen) < len(analysts))
    ) and time.monotonic() < deadline:
        poll()
        time.sleep(0.2)
    first = min(began.values())
    rows = []
    for analyst in analysts:
        name = analyst.name
        row: dict[str, Any] = {"analyst": name, "file": stems[name]}
        row["finished_s"] = round(done[name] - began[name], 2) if name in done else None
        row["finished_from_first_start_s"] = round(done[name] - first, 2) if name in done else None
        if watched:
            row["shown_s"] = round(seen[name] - began[name], 2) if name in seen else None
        rows.append(row)
    return rows


def _cancel_and_time(analyst: Analyst) -> float:
    began = time.monotonic()
    analyst.page.get_by_role("button", name="Cancel").click()
    analyst.page.get_by_text("The run was cancelled").wait_for(timeout=120_000)
    return round(time.monotonic() - began, 2)


def cancel_latency(analysts: list[Analyst], files: list[Path], *, model: str) -> dict[str, Any]:
    """All analysts start a (larger) run, watched; Cancel the one running, then one waiting."""
    for analyst, path in zip(analysts, files, strict=True):
        analyst.prepare(path, model)
    for analyst in analysts:
        analyst.start(watched=True)
    out: dict[str, Any] = {"runs_started": len(analysts), "running_run_s": None, "waiting_run_s": None}
    deadline = time.monotonic() + 120
    while out["running_run_s"] is None and time.monotonic() < deadline:
        for analyst in analysts:
            page = analyst.page
            if (
                page.get_by_text("Embedding").count()
                and not page.get_by_text("Waiting for a free worker").count()
                and page.get_by_role("button", name="Cancel").count()
            ):
                out["running_run_s"] = _cancel_and_time(analyst)
                out["running_analyst"] = analyst.name
                break
        time.sleep(0.2)
    for analyst in analysts:
        if analyst.page.get_by_text("Waiting for a free worker").count():
            out["waiting_run_s"] = _cancel_and_time(analyst)
            break
    for analyst in analysts:  # the rest: cancel too, to move on
        button = analyst.page.get_by_role("button", name="Cancel")
        if button.count():
            button.click()
    for analyst in analysts:
        analyst.page.get_by_text("The run was cancelled").or_(
            analyst.page.get_by_text("Analysis finished in")
        ).first.wait_for(timeout=180_000)
    return out


# -------------------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400, help="rows per file (small: minutes in all)")
    parser.add_argument("--model", default="use-multilingual")
    parser.add_argument("--analysts", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rss-runs", type=int, default=12, help="runs in the memory series")
    parser.add_argument("--rss-rows", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per group")
    parser.add_argument("--workers", default="", help="FEEDBACK_TOPICS_WORKERS for the server")
    parser.add_argument("--skip", nargs="*", default=[], choices=["unwatched", "watched", "cancel", "memory"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not CHROMIUM.exists():
        raise SystemExit("needs Debian's Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="dashboard-load-"))
    env_extra = {"FEEDBACK_TOPICS_WORKERS": args.workers} if args.workers else {}
    process, url = start_server(tmp, env_extra)
    workspace = tmp / "runs"
    result: dict[str, Any] = {
        "rows_per_file": args.rows,
        "model": args.model,
        "cpus": len(os.sched_getaffinity(0)),
        "load_average_at_start": os.getloadavg(),
        "workers_env": args.workers or "(default)",
        "note": "taken on a shared machine; compare the ratios within this file",
    }
    n_max = max(args.analysts)
    counter = iter(range(10_000))

    def files(n: int, label: str) -> list[Path]:
        paths = []
        for _ in range(n):
            path = tmp / f"{label}{next(counter)}.csv"
            path.write_bytes(make_file(args.rows, path.stem))
            paths.append(path)
        return paths

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            analysts = [Analyst(browser, url, f"analyst{i + 1}", workspace) for i in range(n_max)]
            logger.info("warm-up run (model load in the worker; not counted)")
            run_group(analysts[:1], files(1, "warm"), model=args.model, watched=False, timeout_s=args.timeout)
            result["memory_after_warmup"] = memory(process.pid)
            for mode in ("unwatched", "watched"):
                if mode in args.skip:
                    continue
                watched = mode == "watched"
                block: dict[str, Any] = {}
                paths = files(n_max, mode[0])
                solo = []
                for i, path in enumerate(paths):
                    (row,) = run_group(
                        analysts[i : i + 1], [path], model=args.model, watched=watched, timeout_s=args.timeout
                    )
                    solo.append(row)
                    logger.info("%s solo %s: %s", mode, path.stem, row)
                block["solo"] = solo
                for n in args.analysts:
                    if n == 1:
                        continue
                    group_paths = files(n, f"{mode[0]}g{n}-")
                    cpu_before = cpu(process.pid)
                    rows = run_group(
                        analysts[:n], group_paths, model=args.model, watched=watched, timeout_s=args.timeout
                    )
                    cpu_after = cpu(process.pid)
                    solo_sum = sum(float(r["finished_s"] or 0) for r in solo[:n])
                    ends = [
                        float(r["finished_from_first_start_s"]) for r in rows if r["finished_s"] is not None
                    ]
                    makespan = max(ends) if len(ends) == n else None
                    ratio = round(makespan / solo_sum, 3) if makespan and solo_sum else None
                    block[f"together_{n}"] = {
                        "runs": rows,
                        "sum_of_solo_s": round(solo_sum, 2),
                        "all_finished_s": makespan,
                        "ratio_to_sum_of_solo": ratio,
                        "target_ratio": 1.5,
                        "server_cpu_s": round(cpu_after["server_cpu_s"] - cpu_before["server_cpu_s"], 1),
                        "load_average": os.getloadavg()[0],
                    }
                    logger.info("%s together %d: %s", mode, n, block[f"together_{n}"])
                result[mode] = block
            if "cancel" not in args.skip and n_max >= 2:
                rows = args.rows
                args.rows = rows * 5  # long enough to still be running when the last one starts
                try:
                    result["cancel"] = cancel_latency(analysts, files(n_max, "c"), model=args.model)
                finally:
                    args.rows = rows
                result["cancel"]["target_s"] = 10
                logger.info("cancel: %s", result["cancel"])
            if "memory" not in args.skip and args.rss_runs:
                series = []
                analyst = analysts[0]
                for i in range(args.rss_runs):
                    path = tmp / f"m{i}.csv"
                    path.write_bytes(make_file(args.rss_rows, path.stem))
                    (row,) = run_group(
                        [analyst], [path], model=args.model, watched=True, timeout_s=args.timeout
                    )
                    time.sleep(1.0)
                    series.append(
                        {"run": i + 1, **row, **memory(process.pid), "load_average": os.getloadavg()[0]}
                    )
                    logger.info("memory series: %s", series[-1])
                times = [float(r["finished_s"]) for r in series if r["finished_s"]]
                result["memory"] = {
                    "rows_per_file": args.rss_rows,
                    "series": series,
                    "first_run_s": times[0] if times else None,
                    "median_last_3_s": sorted(times[-3:])[len(times[-3:]) // 2] if times else None,
                    "server_mib_first": series[0]["server_mib"],
                    "server_mib_last": series[-1]["server_mib"],
                }
            for analyst in analysts:
                analyst.close()
            browser.close()
    finally:
        result["memory_at_end"] = memory(process.pid)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        logger.info("wrote %s (server log: %s)", args.out, tmp / "streamlit.log")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
