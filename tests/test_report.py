"""The HTML report (self-contained, nothing executable from the data) and the output writer.

The HTML is parsed with the standard library's ``html.parser``; one slow test opens it in a real
headless Chromium (skipped when ``/usr/bin/chromium`` is missing).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from pipeline.errors import ConfigError
from pipeline.report import OUTPUT_FILES, plotly_text, render_html, write_report
from pipeline.types import OUTLIER
from tests._result_factory import PAYLOADS, make_result

RUN_JSON_KEYS = {
    "model",
    "device",
    "clusterer",
    "n_topics",
    "seed",
    "input_sha256",
    "versions",
    "timings_s",
    "ledger",
}
ALLOWED_PLOTLY_TAGS = re.compile(r"</?b>|<br>")
EXECUTABLE_TAGS = {
    "iframe",
    "object",
    "embed",
    "img",
    "svg",
    "math",
    "form",
    "base",
    "link",
    "frame",
    "audio",
    "video",
}


class _Collector(HTMLParser):
    """Every element with its attributes, script bodies, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._in_script: dict[str, str | None] | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))
        elif tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)
        elif not self._in_style:
            self.text.append(data)


@pytest.fixture(scope="module")
def result():
    return make_result(80, with_payloads=True)


@pytest.fixture(scope="module")
def page(result) -> str:
    return render_html(result)


@pytest.fixture(scope="module")
def parsed(page) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    collector.close()
    return collector


def _figures(parsed: _Collector) -> dict[str, dict]:
    return {
        attrs["id"].removesuffix("-data"): json.loads(body)
        for attrs, body in parsed.scripts
        if attrs.get("type") == "application/json"
    }


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# ------------------------------------------------------------------------------ no executable data
def test_only_the_two_fixed_scripts_run(parsed) -> None:
    executable = [(a, b) for a, b in parsed.scripts if a.get("type") != "application/json"]
    assert len(executable) == 2
    assert executable[0][1] == get_plotlyjs()
    assert "Plotly.newPlot" in executable[1][1] and len(executable[1][1]) < 2000
    assert all(not a for a, _ in executable), "no src or other attributes on scripts"
    data_blocks = [b for a, b in parsed.scripts if a.get("type") == "application/json"]
    assert len(data_blocks) == 3  # map, sizes, drivers (the factory has a rating column)


def test_csp_forbids_remote_loads_and_allows_only_hashed_scripts(parsed) -> None:
    metas = [
        a for t, a in parsed.elements if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(metas) == 1
    policy = metas[0]["content"] or ""
    directives = dict([*d.strip().split(" ", 1), ""][:2] for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert "http" not in policy and "*" not in policy and "'unsafe-inline'" not in directives["script-src"]
    for attrs, body in parsed.scripts:
        if attrs.get("type") == "application/json":
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in directives["script-src"]


def test_no_element_or_attribute_from_the_data_is_executable(parsed) -> None:
    tags = {tag for tag, _ in parsed.elements}
    assert not tags & EXECUTABLE_TAGS, tags & EXECUTABLE_TAGS
    for tag, attrs in parsed.elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower(), (tag, name, value)
            if name in ("src", "href", "action", "formaction", "xlink:href", "poster"):
                assert (value or "").startswith("#"), (tag, name, value)
        if tag == "a":
            assert (attrs.get("href") or "").startswith("#")


def test_nothing_remote_is_loaded(page, parsed) -> None:
    for _, attrs in parsed.elements:
        for name in ("src", "href"):
            assert not re.match(r"\s*(https?:)?//", attrs.get(name) or ""), attrs
    without_plotly = page.replace(get_plotlyjs(), "")
    assert "@import" not in without_plotly and "url(http" not in without_plotly
    assert "cdn." not in without_plotly.lower()


def test_payloads_are_shown_as_literal_text(result, parsed) -> None:
    from pipeline.export import example_texts
    from pipeline.report import EXAMPLE_CHARS, shorten

    visible = "\n".join(parsed.text)
    shown = [shorten(t, EXAMPLE_CHARS) for topic in result.topics for t in example_texts(result, topic)]
    hostile = [t for t in shown if "<" in t or "$" in t or "{{" in t]
    assert len(hostile) >= 3, "the factory puts payloads among the examples"
    for text in shown:
        assert text in visible
    renamed = next(t.name for t in result.topics if t.id == 1)
    assert renamed in visible, "a hostile topic name is shown literally"
    assert PAYLOADS["formula_eq"] in visible and "<img src=x onerror=alert(2)>" in visible  # keywords
    assert 'broken,"line <script>alert(1)</script>' in visible  # row-issue details


def test_invisible_characters_removed_from_display(parsed) -> None:
    visible = "".join(parsed.text)
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200b\x00-\x08]", visible)
    assert "refund evil and zerowidth" in visible


def test_chart_json_is_escaped_and_inert(page, parsed) -> None:
    raw_blocks = re.findall(r'<script type="application/json" id="[a-z]+-data">(.*?)</script>', page, re.S)
    assert len(raw_blocks) == 3
    for raw in raw_blocks:
        assert not set(raw) & {"<", ">", "&"}, "JSON in the page escapes < > &"
    figures = _figures(parsed)
    assert set(figures) == {"map", "sizes", "drivers"}
    for figure in figures.values():
        shown = [
            *[
                s
                for trace in figure["data"]
                for key in ("name", "hovertext", "text", "y")
                for s in _strings(trace.get(key))
            ],
            *[a["text"] for a in figure["layout"].get("annotations", [])],
        ]
        assert shown
        for text in shown:
            assert "<" not in ALLOWED_PLOTLY_TAGS.sub("", text), text
            assert "$" not in text, text
            assert "javascript:" not in text or "&lt;" in text or "(" in text
    hovers = [h for trace in figures["map"]["data"] for h in trace["hovertext"]]
    assert any("&lt;script&gt;alert(&quot;" not in h and "&lt;script&gt;" in h for h in hovers)
    assert any("&#36;\\href{javascript:" in h for h in hovers), "LaTeX is never handed to MathJax"


def test_plotly_text_escapes_pseudo_html_and_math() -> None:
    assert plotly_text('<b onmouseover="x">$x$</b>') == '&lt;b onmouseover="x"&gt;&#36;x&#36;&lt;/b&gt;'
    assert plotly_text("a\u202eb\u200bc & d") == "abc &amp; d"
    assert html.unescape(plotly_text("<img src=x onerror=alert(1)>")) == "<img src=x onerror=alert(1)>"


# ------------------------------------------------------------------------------------- content
def test_report_content(result, parsed) -> None:
    visible = " ".join(" ".join(parsed.text).split())
    assert result.load_report.filename in visible
    assert "2024-05-06 07:08 UTC" in visible and "fake-multilingual" in visible
    assert f"{result.ledger.rows_read}" in visible and "Outliers" in visible
    for reason, count in result.ledger.excluded.items():
        assert f"{reason} {count}" in visible or f"+ {count} {reason}" in visible
    for topic in result.topics:
        for word, _ in topic.keywords[:5]:
            assert word in visible
    assert "快递" in visible and "الطرد" in visible
    cards = [a for t, a in parsed.elements if t == "article"]
    assert [c["id"] for c in cards][-1] == "outliers" and len(cards) == len(result.topics)
    examples = [a for t, a in parsed.elements if t == "li" and a.get("dir") == "auto"]
    assert {a.get("lang") for a in examples} >= {"en", "zh"}
    assert "Each point is one distinct text" in visible


def test_renamed_topic_name_is_used() -> None:
    base = make_result(40, with_payloads=False)
    topics = tuple(
        dataclasses.replace(t, name="Lieferung & Pakete (umbenannt)") if t.id == 0 else t for t in base.topics
    )
    page = render_html(dataclasses.replace(base, topics=topics))
    assert "Lieferung &amp; Pakete (umbenannt)" in page
    assert "Lieferung &amp;amp; Pakete" not in page  # escaped once in HTML
    assert "Lieferung \\u0026amp; Pakete" in page  # plotly text: html-escaped, then JSON-escaped


def test_map_is_downsampled_and_says_so() -> None:
    base = make_result(400, with_payloads=False)
    parser = _Collector()
    parser.feed(render_html(base, max_points=100))
    figure = _figures(parser)["map"]
    assert sum(len(trace["x"]) for trace in figure["data"]) == 100
    visible = " ".join(parser.text)
    assert f"random sample of 100 of the {len(base.documents.unique_rows)} distinct texts" in visible
    # labels sit at the centre of every text of the topic, not only the sampled ones
    coords, labels = base.reduction.map_2d, base.clustering.labels
    centre = np.median(coords[labels == 0], axis=0)
    label = next(a for a in figure["layout"]["annotations"] if "delivery" in a["text"])
    assert abs(label["x"] - centre[0]) < 1e-3 and abs(label["y"] - centre[1]) < 1e-3


def test_report_without_outliers_or_issues() -> None:
    base = make_result(30, with_payloads=False, n_topics=1)
    topics = tuple(t for t in base.topics if t.id != OUTLIER)
    page = render_html(dataclasses.replace(base, topics=topics))
    assert "0.0%" in page and "Topic report" in page


# ---------------------------------------------------------------------------------------- writer
def test_write_report_writes_every_file_atomically(tmp_path: Path, result) -> None:
    out = tmp_path / "nested" / "report"
    written = write_report(result, out)
    assert [p.name for p in written] == list(OUTPUT_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES), "no temporary files left"
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert set(run) >= RUN_JSON_KEYS
    assert run["n_topics"] == 4 and run["timings_s"]["embed"] == 1.25
    ledger = run["ledger"]
    assert ledger["rows_clustered"] + sum(ledger["excluded"].values()) == ledger["rows_read"]
    assert (out / "run.json").read_text(encoding="utf-8").startswith('{\n  "model"')
    assert (out / "assignments.csv").read_bytes().startswith(b'\xef\xbb\xbf"row","topic_id"')
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (out / "report.xlsx").read_bytes()[:2] == b"PK"
    assert json.loads((out / "topics.json").read_bytes())["format"] == "feedback-topics/1"
    # a second run replaces the files in place
    again = write_report(result, out)
    assert again == written and sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)


def test_write_report_skips_xlsx_only_above_the_row_limit(tmp_path: Path, result) -> None:
    rows = result.ledger.rows_read
    small = write_report(result, tmp_path / "a", xlsx_max_rows=rows)
    assert "report.xlsx" in [p.name for p in small]
    big = write_report(result, tmp_path / "b", xlsx_max_rows=rows - 1)
    assert [p.name for p in big] == [n for n in OUTPUT_FILES if n != "report.xlsx"]
    assert not (tmp_path / "b" / "report.xlsx").exists()
    assert "report.xlsx" in [p.name for p in write_report(result, tmp_path / "c", xlsx_max_rows=None)]


def test_write_report_unwritable_folder_is_a_clear_error(tmp_path: Path, result) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="Cannot create the output folder"):
        write_report(result, blocker / "out")


@pytest.mark.slow
def test_real_pipeline_run_is_reported(tmp_path: Path) -> None:
    """The real orchestrator on the bundled sample (deterministic fake embedder), then every output.

    Slow alone (~35 s, mostly UMAP's first JIT compilation), cheap once another test has run UMAP.
    """
    pytest.importorskip("pipeline.embed", reason="the embed stage is not in this checkout yet")
    from pipeline.config import RunConfig
    from pipeline.run import run

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "feedback_sample.csv"
    real = run(
        sample.read_bytes(), filename=sample.name, config=RunConfig(model="fake", n_topics=8, use_cache=False)
    )
    written = write_report(real, tmp_path)
    assert [p.name for p in written] == list(OUTPUT_FILES)
    import pandas as pd

    assignments = pd.read_csv(
        tmp_path / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    assert len(assignments) == real.ledger.rows_read
    run_json = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert set(run_json) >= RUN_JSON_KEYS
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert all(html.escape(t.name, quote=False) in page or t.name in page for t in real.topics)


# --------------------------------------------------------------------------------------- browser
@pytest.mark.slow
@pytest.mark.browser
def test_report_renders_in_chromium_without_running_payloads(tmp_path: Path, result) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    # A payload that would change the page title if any customer text ever ran as script.
    hostile = dataclasses.replace(
        result,
        topics=tuple(
            dataclasses.replace(t, name="<img src=x onerror=\"document.title='PWNED'\">") if t.id == 2 else t
            for t in result.topics
        ),
    )
    path = tmp_path / "report.html"
    path.write_text(render_html(hostile), encoding="utf-8")
    completed = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
            "--virtual-time-budget=8000", "--dump-dom", path.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    dom = completed.stdout
    assert "<title>" in dom, completed.stderr[-2000:]
    assert "PWNED" not in dom.split("</title>")[0]
    assert 'class="plot-container plotly"' in dom, "plotly drew the charts offline under the CSP"
    assert dom.count('class="main-svg"') >= 2
    rendered = _Collector()
    rendered.feed(dom)
    assert "img" not in {tag for tag, _ in rendered.elements}, "the payload stayed text after plotly rendered"
    for tag, attrs in rendered.elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "javascript:" not in " ".join(v or "" for v in attrs.values()).lower(), (tag, attrs)
    assert any("onerror" in text for text in rendered.text), "the payload is visible as text"
    # The CSP must still let plotly's WebGL map draw (regl needs 'unsafe-eval'), else this message shows.
    assert "WebGL is not supported" not in " ".join(rendered.text)


def test_map_labels_only_the_largest_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.report as report

    monkeypatch.setattr(report, "MAX_MAP_LABELS", 2)
    base = make_result(60, with_payloads=False)
    parser = _Collector()
    parser.feed(report.render_html(base))
    annotations = _figures(parser)["map"]["layout"]["annotations"]
    largest = [t.name for t in sorted(base.topics, key=lambda t: -t.size) if t.id != OUTLIER][:2]
    assert [a["text"] for a in annotations] and sorted(a["text"] for a in annotations) == sorted(largest)
    assert "Labels mark the 2 largest topics" in " ".join(parser.text)


def test_report_counts_agree_with_the_ledger_and_follow_merges() -> None:
    """Issue 15: 'in a topic' excludes outliers; 'Excluded' equals the ledger's (and the CLI's) total."""
    import re as _re

    from pipeline.report import render_html
    from pipeline.topics import merge_topics
    from pipeline.types import OUTLIER
    from tests._result_factory import make_result

    result = make_result(60, with_payloads=False)
    html_text = render_html(result)
    in_topic = sum(t.size for t in result.topics if t.id != OUTLIER)
    outliers = sum(t.size for t in result.topics if t.id == OUTLIER)
    excluded = sum(result.ledger.excluded.values())
    assert (
        in_topic + outliers + excluded - result.ledger.excluded.get("duplicate", 0) == result.ledger.rows_read
    )
    assert f"{in_topic:,} in a topic · {outliers:,} outliers" in html_text
    tile = _re.search(r'<div class="k">Excluded</div><div class="v">([\d,]+)</div>', html_text)
    assert tile is not None and int(tile.group(1).replace(",", "")) == excluded
    ids = [t.id for t in result.topics if t.id != OUTLIER][:2]
    merged = merge_topics(result, ids)
    assert "merged by the analyst" in merged.clustering.reason
    assert f"{merged.clustering.n_topics} topics" in merged.clustering.reason
    assert "merged by the analyst" in render_html(merged)
