"""The analyst-facing topic report (one self-contained HTML file) and the writer of all outputs.

:func:`render_html` returns the report as a string: it needs only a browser (plotly.js is embedded
inline, no CDN, no remote fonts or images) and a ``<meta>`` Content-Security-Policy forbids any
remote load. :func:`write_report` writes every output file of a run into a folder, atomically.

Customer text is hostile by assumption (see ``reliability.md`` section 5), so:

* the Jinja2 template autoescapes everything; nothing from the data is marked safe;
* text shown by plotly (hover text, legend names, axis labels, annotations) goes through
  :func:`plotly_text`: invisible control/bidi characters removed, ``html.escape`` applied, and ``$``
  written as ``&#36;`` so MathJax never typesets it;
* chart data reaches the page only as JSON inside ``<script type="application/json">`` with
  ``<``, ``>``, ``&`` and ``'`` escaped (Jinja's ``tojson``);
* the only executable scripts are plotly.js and a fixed driver, both allow-listed by hash in the CSP.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
import textwrap
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ConfigError
from pipeline.export import (
    assignments_frame,
    example_texts,
    jsonable,
    ordered_topics,
    row_issues_frame,
    to_csv_bytes,
    to_json_bytes,
    to_xlsx_bytes,
    topics_frame,
)
from pipeline.files import atomic_write_bytes
from pipeline.types import OUTLIER, RunResult, Topic

logger = logging.getLogger(__name__)

MAX_MAP_POINTS = 20_000
"""Above this many distinct texts the map shows a seeded random sample (the report says so)."""
MAX_BAR_TOPICS = 40
MAX_MAP_LABELS = 20
"""Only the largest topics get a label on the map, so labels stay readable."""
MAX_ISSUES_LISTED = 500
HOVER_CHARS = 140
EXAMPLE_CHARS = 400
LABEL_CHARS = 36

OUTPUT_FILES: tuple[str, ...] = (
    "assignments.csv",
    "topics.csv",
    "report.html",
    "run.json",
    "report.xlsx",
    "topics.json",
)
"""Files :func:`write_report` writes, in this order."""

PALETTE: tuple[str, ...] = (
    "#4E79A7", "#F28E2B", "#E15759", "#59A14F", "#B07AA1", "#EDC948", "#76B7B2", "#FF9DA7",
    "#9C755F", "#17BECF", "#D1495B", "#3A7D44", "#8E6C8A", "#E08E45", "#1B998B", "#C05640",
    "#6D597A", "#5B8E7D", "#BC6C25", "#577590",
)  # fmt: skip
OUTLIER_COLOR = "#B4BAC4"

REASON_TEXT: dict[str, str] = {
    "empty": "No text in the text column after trimming.",
    "no_answer": 'A placeholder instead of an answer ("N/A", "n/a", "null", "no comment"...).',
    "duplicate": "Exact repeat of an earlier row: analysed once, it takes that row's topic and counts in topic sizes.",
    "bad_line": "The line could not be split into the file's columns.",
    "undecodable": "Bytes that are not valid in the detected encoding.",
    "control_chars": "Invisible control, bidi or zero-width characters removed for analysis; exports keep the original.",
    "truncated": "Longer than the model's limit: analysed from its beginning.",
    "formula_no_value": "A spreadsheet formula with no saved result: read as empty (recalculate and save the workbook).",
}
"""Plain-language meaning of ledger reasons (others are shown by name)."""

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]"
)
_LANG_CODE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

_APP_JS = """
(function () {
  "use strict";
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["select2d", "lasso2d", "sendDataToCloud"]};
  function draw(id) {
    var holder = document.getElementById(id);
    var data = document.getElementById(id + "-data");
    if (!holder || !data || typeof Plotly === "undefined") { return; }
    var fig = JSON.parse(data.textContent);
    var own = fig.config || {};
    var merged = {};
    Object.keys(config).forEach(function (k) { merged[k] = config[k]; });
    Object.keys(own).forEach(function (k) { merged[k] = own[k]; });
    Plotly.newPlot(holder, fig.data, fig.layout, merged);
  }
  draw("map");
  draw("sizes");
  draw("drivers");
})();
"""


# ------------------------------------------------------------------------------------- text helpers
def display_text(text: str) -> str:
    """Remove control, bidi-override and zero-width characters so text cannot hide or reorder."""
    return _INVISIBLE.sub("", text)


def shorten(text: str, limit: int) -> str:
    """Collapse whitespace and cut to ``limit`` characters with an ellipsis."""
    text = " ".join(display_text(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plotly_text(text: str) -> str:
    """Make text inert for plotly.js, which renders a pseudo-HTML subset and MathJax.

    Tags and entities are escaped (``html.escape`` without quote escaping, since plotly only decodes
    numeric and a few named entities) and ``$`` becomes ``&#36;``, which plotly shows as ``$`` but
    never hands to MathJax.
    """
    return html.escape(display_text(text), quote=False).replace("$", "&#36;")


def _hover(title: str, text: str) -> str:
    lines = textwrap.wrap(shorten(text, HOVER_CHARS), width=56, break_long_words=True) or [""]
    return f"<b>{plotly_text(shorten(title, 60))}</b><br>" + "<br>".join(plotly_text(line) for line in lines)


# ------------------------------------------------------------------------------------------ figures
def topic_colors(result: RunResult) -> dict[int, str]:
    """A stable colour per topic id (outliers grey), shared by the map, bars and cards."""
    ids = sorted(t.id for t in result.topics if t.id != OUTLIER)
    colors = {topic_id: PALETTE[i % len(PALETTE)] for i, topic_id in enumerate(ids)}
    colors[OUTLIER] = OUTLIER_COLOR
    return colors


def _topic_label(topic: Topic) -> str:
    return (
        shorten(topic.name, LABEL_CHARS)
        if topic.id == OUTLIER
        else f"{topic.id} · {shorten(topic.name, LABEL_CHARS)}"
    )


def _map_figure(
    result: RunResult, colors: Mapping[int, str], *, max_points: int
) -> tuple[dict[str, Any] | None, str]:
    """Scattergl map of the distinct texts, one trace per topic, labels at topic centres."""
    unique = result.documents.unique_rows
    coords = np.asarray(result.reduction.map_2d, dtype=np.float64)
    labels = np.asarray(result.clustering.labels, dtype=np.int64)
    if len(unique) == 0 or coords.shape != (len(unique), 2) or len(labels) != len(unique):
        return None, "No map: no text was clustered."
    shown = np.arange(len(unique))
    note = f"Each point is one distinct text ({len(unique):,} in all); duplicates sit on their original."
    if len(unique) > max_points:
        rng = np.random.default_rng(0)
        shown = np.sort(rng.choice(len(unique), size=max_points, replace=False))
        note = (
            f"The map shows a random sample of {max_points:,} of the {len(unique):,} distinct texts to keep "
            "this file small; topic sizes, labels and positions use every text."
        )
    names = {t.id: t.name for t in result.topics}
    texts = result.documents.texts
    labelled = {t.id for t in ordered_topics(result) if t.id != OUTLIER}
    if len(labelled) > MAX_MAP_LABELS:
        labelled = {t.id for t in ordered_topics(result)[:MAX_MAP_LABELS] if t.id != OUTLIER}
        note += f" Labels mark the {MAX_MAP_LABELS} largest topics; hover any point for its topic."
    traces: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for topic in sorted(result.topics, key=lambda t: (t.id == OUTLIER, t.id)):
        members = np.flatnonzero(labels == topic.id)
        if len(members) == 0:
            continue
        picked = np.intersect1d(members, shown, assume_unique=True)
        is_outlier = topic.id == OUTLIER
        traces.append(
            {
                "type": "scattergl",
                "mode": "markers",
                "name": plotly_text(_topic_label(topic)),
                "x": np.round(coords[picked, 0], 3).tolist(),
                "y": np.round(coords[picked, 1], 3).tolist(),
                "hovertext": [_hover(names.get(topic.id, ""), texts[unique[i]]) for i in picked],
                "hoverinfo": "text",
                "marker": {
                    "size": 4 if is_outlier else 6,
                    "color": colors.get(topic.id, OUTLIER_COLOR),
                    "opacity": 0.45 if is_outlier else 0.75,
                },
            }
        )
        if not is_outlier and topic.id in labelled:
            centre = np.median(coords[members], axis=0)
            annotations.append(
                {
                    "x": round(float(centre[0]), 3),
                    "y": round(float(centre[1]), 3),
                    "text": plotly_text(shorten(topic.name, 28)),
                    "showarrow": False,
                    "font": {"size": 12, "color": "#1f2937"},
                    "bgcolor": "rgba(255,255,255,0.82)",
                    "bordercolor": colors.get(topic.id, OUTLIER_COLOR),
                    "borderwidth": 1.5,
                    "borderpad": 3,
                }
            )
    axis = {"showgrid": False, "zeroline": False, "showticklabels": False, "title": {"text": ""}}
    layout = {
        "height": 620,
        "margin": {"l": 10, "r": 10, "t": 36, "b": 10},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#fbfcfd",
        "xaxis": axis,
        "yaxis": {**axis, "scaleanchor": "x", "scaleratio": 1},
        "hovermode": "closest",
        "hoverlabel": {"bgcolor": "#ffffff", "bordercolor": "#cbd2dc", "font": {"size": 12}, "align": "left"},
        "legend": {"itemsizing": "constant", "font": {"size": 11}, "bgcolor": "rgba(255,255,255,0.7)"},
        "showlegend": len(traces) <= 30,
        "annotations": annotations,
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif"},
    }
    return {"data": traces, "layout": layout}, note


def _bar_figure(result: RunResult, colors: Mapping[int, str]) -> tuple[dict[str, Any] | None, str]:
    """Horizontal bars of topic sizes, biggest on top (outliers last)."""
    topics = ordered_topics(result)
    if not topics:
        return None, ""
    note = ""
    if len(topics) > MAX_BAR_TOPICS:
        note = f"The chart shows the {MAX_BAR_TOPICS} largest of {len(topics)} topics; all are listed below."
        real = [t for t in topics if t.id != OUTLIER][:MAX_BAR_TOPICS]
        topics = real + [t for t in topics if t.id == OUTLIER]
    labels = [plotly_text(_topic_label(t)) for t in topics]
    layout = {
        "height": 70 + 26 * len(topics),
        "margin": {"l": 10, "r": 40, "t": 10, "b": 30},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "xaxis": {"title": {"text": "rows"}, "gridcolor": "#eef1f5", "zeroline": False},
        "yaxis": {"autorange": "reversed", "automargin": True, "tickfont": {"size": 12}},
        "bargap": 0.28,
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif"},
    }
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [int(t.size) for t in topics],
        "y": labels,
        "text": [f"{t.share:.1%}" for t in topics],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertext": [
            f"<b>{label}</b><br>{t.size:,} rows · {t.share:.1%}"
            for label, t in zip(labels, topics, strict=True)
        ],
        "hoverinfo": "text",
        "marker": {"color": [colors.get(t.id, OUTLIER_COLOR) for t in topics]},
    }
    return {"data": [trace], "layout": layout, "config": {"displayModeBar": False}}, note


def _drivers(result: RunResult, *, limit: int = 15) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The rating drivers (:mod:`pipeline.explore.drivers`): a bar chart of impact and a table."""
    from pipeline.explore.drivers import run_drivers

    found = run_drivers(result)
    if found is None or found.frame.empty:
        return None, None
    frame = found.frame.head(limit)
    labels = [plotly_text(shorten(f"#{int(r.topic_id)} {r.name}", LABEL_CHARS)) for r in frame.itertuples()]
    unit = found.scale.unit
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [round(float(v), 4) for v in frame["rating_impact"]],
        "y": labels,
        "text": [f"{v:+.2f}" for v in frame["rating_impact"]],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertext": [
            f"<b>{label}</b><br>score {r.rating_mean:.2f} ({r.rating_ci_low:.2f}–{r.rating_ci_high:.2f}) "
            f"vs {r.rating_mean_rest:.2f}<br>impact {r.rating_impact:+.3f} {unit}"
            for label, r in zip(labels, frame.itertuples(), strict=True)
        ],
        "hoverinfo": "text",
        "marker": {"color": ["#E15759" if v > 0 else "#59A14F" for v in frame["rating_impact"]]},
    }
    layout = {
        "height": 70 + 26 * len(frame),
        "margin": {"l": 10, "r": 50, "t": 10, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "xaxis": {"title": {"text": f"impact on the score ({unit})"}, "gridcolor": "#eef1f5"},
        "yaxis": {"autorange": "reversed", "automargin": True, "tickfont": {"size": 12}},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif"},
    }
    rows = [
        {
            "rank": int(r.rank),
            "id": int(r.topic_id),
            "name": display_text(str(r.name)),
            "n": int(r.rating_n),
            "mean": f"{r.rating_mean:.2f}",
            "ci": f"{r.rating_ci_low:.2f}–{r.rating_ci_high:.2f}" if r.rating_n > 1 else "",
            "rest": f"{r.rating_mean_rest:.2f}",
            "impact": f"{r.rating_impact:+.3f}",
        }
        for r in frame.itertuples()
    ]
    info = {
        "column": display_text(found.column),
        "kind": "NPS" if found.scale.kind == "nps" else "mean rating",
        "reason": display_text(found.scale.reason),
        "overall": f"{found.overall:.2f}",
        "overall_ci": f"{found.overall_ci[0]:.2f}–{found.overall_ci[1]:.2f}",
        "n_rated": found.n_rated,
        "unit": unit,
        "rows": rows,
    }
    figure = {"data": [trace], "layout": layout, "config": {"displayModeBar": False}}
    return figure, info


# ------------------------------------------------------------------------------------------ context
def _created_at(manifest: Mapping[str, Any]) -> str:
    raw = manifest.get("created_at")
    try:
        moment = datetime.fromisoformat(str(raw)) if raw else datetime.now(UTC)
    except ValueError:
        return str(raw)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def _lang_attr(code: str) -> str:
    return code if _LANG_CODE.match(code or "") else ""


def _language_chips(counts: Mapping[str, int], *, limit: int | None = None) -> list[dict[str, Any]]:
    total = sum(int(n) for n in counts.values()) or 1
    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    chips = [
        {"code": code or "und", "count": int(n), "pct": 100.0 * int(n) / total}
        for code, n in (ordered[:limit] if limit else ordered)
    ]
    return chips


def _topic_cards(result: RunResult, colors: Mapping[int, str]) -> list[dict[str, Any]]:
    from pipeline.multitopic import mention_counts

    mentions = mention_counts(result)  # rows raising the topic, as primary or other topic
    from pipeline.near_duplicates import row_groups, top_groups

    _, says = row_groups(result)  # rows each example's near-duplicate group stands for
    biggest = top_groups(result)
    cards = []
    for topic in ordered_topics(result):
        weights = [float(w) for _, w in topic.keywords]
        top = max([w for w in weights if np.isfinite(w)] or [1.0]) or 1.0
        keywords = [
            {
                "word": display_text(word),
                "weight": float(weight),
                "width": max(4.0, min(100.0, 100.0 * float(weight) / top)) if np.isfinite(weight) else 4.0,
            }
            for word, weight in topic.keywords[:10]
        ]
        examples = [
            {
                "text": shorten(text, EXAMPLE_CHARS),
                "lang": _lang_attr(result.languages[row]) if 0 <= row < len(result.languages) else "",
                "row": row,
                "says": int(says[row]) if 0 <= row < len(says) else 1,
            }
            for row, text in zip(topic.examples, example_texts(result, topic), strict=False)
        ]
        groups = [
            {"text": shorten(result.documents.texts[row], EXAMPLE_CHARS), "rows": count, "row": row}
            for row, count in biggest.get(topic.id, [])
        ]
        cards.append(
            {
                "id": int(topic.id),
                "anchor": "outliers" if topic.id == OUTLIER else f"topic-{int(topic.id)}",
                "is_outlier": topic.id == OUTLIER,
                "name": display_text(topic.name),
                "color": colors.get(topic.id, OUTLIER_COLOR),
                "size": int(topic.size),
                "share": float(topic.share),
                "other_mentions": max(0, mentions.get(int(topic.id), 0) - int(topic.size)),
                "keywords": keywords,
                "top_keywords": ", ".join(display_text(w) for w, _ in topic.keywords[:5]),
                "keywords_original": ", ".join(display_text(w) for w, _ in topic.keywords_original[:10])
                if topic.keywords_original and topic.keywords_original[:10] != topic.keywords[:10]
                else "",
                "examples": examples,
                "groups": groups,
                "languages": _language_chips(topic.languages, limit=8),
            }
        )
    return cards


def _alert_rows(result: RunResult, *, limit: int = 15) -> dict[str, Any] | None:
    """A run with a date column: topics whose latest period is beyond 2 sd of their recent mean."""
    from pipeline.compare import RECENT_PERIODS, latest_alerts

    found = latest_alerts(result)
    if found is None:
        return None
    frame, info = found
    hits = frame[frame["alert"] != ""].head(limit)
    return {
        "column": display_text(str(info["date_column"])),
        "freq": {"M": "month", "W": "week", "D": "day"}[info["freq"]],
        "period": info["period"],
        "recent": RECENT_PERIODS,
        "n_topics": len(frame),
        "rows": [
            {
                "id": int(row["topic_id"]),
                "name": display_text(str(row["topic"])),
                "alert": str(row["alert"]),
                "share": f"{100 * row['share']:.1f}%",
                "mean": f"{100 * row['recent_mean']:.1f}%",
                "z": f"{row['z_score']:+.1f}",
                "count": int(row["count"]),
            }
            for _, row in hits.iterrows()
        ],
    }


def _comparison_rows(result: RunResult, *, limit: int = 15) -> dict[str, Any] | None:
    """A run made with ``--taxonomy``: topics whose share moved most, new ones first (else ``None``)."""
    from pipeline.compare import taxonomy_comparison

    frame = taxonomy_comparison(result)
    if frame is None:
        return None
    info = result.manifest.get("taxonomy") or {}
    moved = frame.assign(_new=frame["status"] == "new", _abs=frame["share_change"].abs().fillna(0.0))
    moved = moved.sort_values(["_new", "significant", "_abs"], ascending=False).head(limit)
    rows = [
        {
            "id": int(row["topic_id"]),
            "name": display_text(str(row["name"])),
            "status": str(row["status"]),
            "before": "" if row["status"] == "new" else f"{100 * row['share_before']:.1f}%",
            "now": f"{100 * row['share_now']:.1f}%",
            "change": "" if row["status"] == "new" else f"{100 * row['share_change']:+.1f} pp",
            "p": "" if row["status"] == "new" else f"{row['p_value']:.3g}",
        }
        for _, row in moved.iterrows()
    ]
    counts = frame["status"].value_counts()
    return {
        "run_id": display_text(str(info.get("run_id", ""))),
        "rows": rows,
        "n_new": int(counts.get("new", 0)),
        "n_up": int(counts.get("up", 0)),
        "n_down": int(counts.get("down", 0)),
        "n_gone": int(counts.get("no rows", 0)),
    }


def _theme_rows(result: RunResult) -> list[dict[str, Any]]:
    """The theme tree for the report: each theme with its topics, biggest first (outliers left out)."""
    topics = {t.id: t for t in result.topics}
    rows = []
    for theme in sorted(result.themes, key=lambda t: (-t.size, t.id)):
        if theme.id == OUTLIER:
            continue
        members = sorted((topics[i] for i in theme.topic_ids if i in topics), key=lambda t: (-t.size, t.id))
        rows.append(
            {
                "name": display_text(theme.name),
                "size": int(theme.size),
                "share": float(theme.share),
                "top_keywords": ", ".join(display_text(w) for w, _ in theme.keywords[:5]),
                "topics": [
                    {"name": display_text(t.name), "size": int(t.size), "anchor": f"topic-{int(t.id)}"}
                    for t in members
                ],
            }
        )
    return rows


def _ledger_rows(result: RunResult) -> dict[str, Any]:
    ledger = result.ledger
    read = max(ledger.rows_read, 1)
    segments = [
        {"label": "clustered", "count": ledger.rows_clustered, "pct": 100.0 * ledger.rows_clustered / read}
    ]
    excluded = []
    for reason, count in sorted(ledger.excluded.items(), key=lambda kv: -kv[1]):
        excluded.append({"reason": reason, "count": int(count), "meaning": REASON_TEXT.get(reason, "")})
        segments.append({"label": reason, "count": int(count), "pct": 100.0 * count / read})
    altered = [
        {"reason": reason, "count": int(count), "meaning": REASON_TEXT.get(reason, "")}
        for reason, count in sorted(ledger.altered.items(), key=lambda kv: -kv[1])
    ]
    issues = row_issues_frame(result)
    listed = [
        {
            "row": int(r.row),
            "line": "" if r.line is None or r.line is np.nan or str(r.line) == "<NA>" else int(r.line),
            "kind": r.kind,
            "reason": r.reason,
            "detail": shorten(str(r.detail), 160),
        }
        for r in issues.head(MAX_ISSUES_LISTED).itertuples(index=False)
    ]
    return {
        "rows_read": ledger.rows_read,
        "rows_clustered": ledger.rows_clustered,
        # One count per tile, each agreeing with the CLI summary and the ledger below: rows in a
        # topic (outliers not), outliers, and every excluded row (duplicates included: they are
        # analysed once and counted in their first row's topic).
        "with_topic": int(sum(t.size for t in result.topics if t.id != OUTLIER)),
        "excluded_total": int(sum(ledger.excluded.values())),
        "duplicates": int(ledger.excluded.get("duplicate", 0)),
        "not_analysed": int(sum(n for r, n in ledger.excluded.items() if r != "duplicate")),
        "excluded": excluded,
        "altered": altered,
        "segments": segments,
        "issues": listed,
        "issues_total": len(issues),
    }


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, Mapping) and value:
        out: list[tuple[str, str]] = []
        for key, inner in value.items():
            out.extend(_flatten(f"{prefix}.{key}" if prefix else str(key), inner))
        return out
    if isinstance(value, Mapping | list | tuple):
        return [(prefix, json.dumps(jsonable(value), ensure_ascii=False))]
    shown = jsonable(value)
    return [(prefix, "" if shown is None else str(shown))]


def _context(result: RunResult, *, max_points: int) -> dict[str, Any]:
    manifest = result.manifest or {}
    colors = topic_colors(result)
    map_fig, map_note = _map_figure(result, colors, max_points=max_points)
    bar_fig, bar_note = _bar_figure(result, colors)
    drivers_fig, drivers = _drivers(result)
    outliers = next((t for t in result.topics if t.id == OUTLIER), None)
    language_counts = Counter(code for code in result.languages if code)
    streamed = (manifest.get("engine_details") or {}).get("streamed") or {}
    if streamed:  # the per-row fields hold the fitted sample; the manifest counts every row
        language_counts = Counter({str(k): int(v) for k, v in (manifest.get("languages") or {}).items()})
    run_items = [(k, shorten(v, 300)) for k, v in _flatten("", manifest) if k not in {"input.columns"}]
    report = result.load_report
    coverage = manifest.get("language_coverage") or {}
    return {
        "title": f"Topic report · {shorten(report.filename, 80)}",
        "filename": display_text(report.filename),
        "created": _created_at(manifest),
        "streamed": (
            f"Streamed on Ray: {int(streamed.get('rows', 0)):,} rows assigned to topics fitted on "
            f"{int(streamed.get('fit_rows', 0)):,} sampled texts; names, keywords, the map, sentiment shares, "
            "ratings, trends and examples come from that sample."
            if streamed
            else ""
        ),
        "model": str(manifest.get("model") or result.embeddings.model),
        "model_reason": str(manifest.get("model_reason") or ""),
        "device": str(manifest.get("device") or result.embeddings.device),
        "clusterer": str(manifest.get("clusterer") or result.clustering.method),
        "clustering_reason": display_text(result.clustering.reason),
        "seed": manifest.get("seed", ""),
        "text_column": display_text(result.documents.text_column),
        "text_column_reason": display_text(result.documents.text_column_reason),
        "encoding": report.encoding or "",
        "file_format": report.format,
        "version": str(manifest.get("feedback_topics_version") or ""),
        "n_topics": sum(1 for t in result.topics if t.id >= 0),  # not outliers, not "not relevant"
        "outlier_share": float(outliers.share) if outliers else 0.0,
        "outlier_size": int(outliers.size) if outliers else 0,
        "languages": _language_chips(language_counts, limit=8),
        "n_languages": len(language_counts),
        "ledger": _ledger_rows(result),
        "warnings": [display_text(w) for w in report.warnings]
        + ([display_text(str(coverage["warning"]))] if coverage.get("warning") else []),
        "label_language": str(manifest.get("label_language") or ""),
        "label_method": str(manifest.get("label_method") or ""),
        "topics": _topic_cards(result, colors),
        "themes": _theme_rows(result),
        "themes_reason": display_text(str(manifest.get("themes_reason") or "")),
        "comparison": _comparison_rows(result),
        "sentiment": _sentiment_section(result),
        "alerts": _alert_rows(result),
        "map_note": map_note,
        "bar_note": bar_note,
        "drivers": drivers,
        "figures": {"map": map_fig, "sizes": bar_fig, "drivers": drivers_fig},
        "run_items": run_items,
    }


def _sentiment_section(result: RunResult) -> dict[str, Any] | None:
    from pipeline.sentiment.view import report_section

    return report_section(result)


# ------------------------------------------------------------------------------------------- render
def _template() -> Any:
    import jinja2

    source = resources.files("pipeline").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False, "separators": (",", ":")}
    env.filters["pct"] = lambda value, digits=1: f"{100.0 * float(value):.{digits}f}%"
    env.filters["thousands"] = lambda value: f"{int(value):,}"
    return env.from_string(source)


def _script_hash(code: str) -> str:
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render_html(result: RunResult, *, max_points: int = MAX_MAP_POINTS) -> str:
    """Render the self-contained topic report.

    Args:
        result: A finished run.
        max_points: Largest number of distinct texts drawn on the map before it is sampled.

    Returns:
        One HTML document: header figures, the row ledger, the 2-D topic map, topic sizes and one
        card per topic (keywords with weights, three examples, language mix), then the run details.
    """
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    plotly_js = get_plotlyjs()
    if "</script" in plotly_js.lower():  # never expected; guards the inline embedding below
        raise RuntimeError("plotly.js bundle contains a closing script tag")
    context = _context(result, max_points=max_points)
    # Only these two fixed scripts may run; plotly's WebGL (regl) compiles shaders with Function().
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_script_hash(plotly_js)} {_script_hash(_APP_JS)} 'unsafe-eval'",
            "style-src 'unsafe-inline'",
            "img-src data: blob:",
            "font-src data:",
            "connect-src 'none'",
            "worker-src blob:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    return _template().render(
        **context,
        csp=csp,
        plotly_js=Markup(plotly_js),  # trusted library code, not data
        app_js=Markup(_APP_JS),  # fixed driver, not data
    )


# -------------------------------------------------------------------------------------------- write
def run_json_bytes(manifest: Mapping[str, Any]) -> bytes:
    """``run.json`` content: the manifest made JSON-safe, UTF-8, indented by 2."""
    return (json.dumps(jsonable(manifest), ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode(
        "utf-8", "replace"
    )


XLSX_MAX_ROWS = 250_000
"""Above this many rows ``report.xlsx`` is skipped by default: writing it costs ~10 s per 100k rows
and a sheet that size is barely usable in a spreadsheet; ``assignments.csv`` has every row."""


def write_report(
    result: RunResult, out_dir: Path, *, xlsx_max_rows: int | None = XLSX_MAX_ROWS
) -> list[Path]:
    """Write every output of a run into ``out_dir`` (created if needed).

    Files: ``assignments.csv`` and ``topics.csv`` (formula-safe, UTF-8 with BOM), ``report.html``,
    ``run.json`` (``result.manifest``, plus ``ledger`` if the manifest lacks it), ``report.xlsx``
    and ``topics.json``. Each file is written to a temporary file and renamed into place, so a
    reader never sees a half-written file.

    Args:
        result: A finished run.
        out_dir: The output folder.
        xlsx_max_rows: Skip ``report.xlsx`` (with a log line) when the input has more rows than
            this; ``None`` always writes it.

    Returns:
        The written paths, in :data:`OUTPUT_FILES` order (without a skipped ``report.xlsx``).

    Raises:
        ConfigError: The folder cannot be created or written to.
    """
    out_dir = Path(out_dir)
    manifest = dict(result.manifest or {})
    manifest.setdefault("ledger", result.ledger.to_dict())
    producers = {
        "assignments.csv": lambda: to_csv_bytes(assignments_frame(result)),
        "topics.csv": lambda: to_csv_bytes(topics_frame(result)),
        "report.html": lambda: render_html(result).encode("utf-8", "replace"),
        "run.json": lambda: run_json_bytes(manifest),
        "report.xlsx": lambda: to_xlsx_bytes(result),
        "topics.json": lambda: to_json_bytes(result),
    }
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the output folder {out_dir} ({exc.strerror or exc}). Choose a folder you can write to.",
            code="output",
            detail=repr(exc),
        ) from exc
    written: list[Path] = []
    for name in OUTPUT_FILES:
        if name == "report.xlsx" and xlsx_max_rows is not None and result.ledger.rows_read > xlsx_max_rows:
            logger.warning(
                "report.xlsx skipped: %d rows is over the %d-row limit (assignments.csv has every row)",
                result.ledger.rows_read,
                xlsx_max_rows,
            )
            continue
        path = out_dir / name
        if name == "report.xlsx" and result.row_parts is not None:
            logger.warning(
                "report.xlsx skipped: a streamed run's rows are in assignments.csv and assignments/"
            )
            continue
        try:
            if name == "assignments.csv" and result.row_parts is not None:  # a streamed run: its parts
                from pipeline.engines.parts import write_csv_from_parts

                write_csv_from_parts(path, Path(result.row_parts))
            else:
                atomic_write_bytes(path, producers[name]())
        except OSError as exc:
            raise ConfigError(
                f"Cannot write {path} ({exc.strerror or exc}). Check the folder's permissions and free disk space.",
                code="output",
                detail=repr(exc),
            ) from exc
        logger.info("wrote %s (%d bytes)", path, path.stat().st_size)
        written.append(path)
    return written
