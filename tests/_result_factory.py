"""Build a small, realistic :class:`~pipeline.types.RunResult` by hand, without any model.

Used by the report/export tests and the dashboard tests. The result looks like what the real
pipeline produces for a multilingual feedback export with a date, rating and channel column:

* texts in English, Chinese, Japanese, Spanish, French, German and Arabic;
* four topics plus outliers (topic ``-1``);
* excluded rows of every kind: ``empty``, ``duplicate_of:<row>`` and ``bad_line``;
* altered rows (``control_chars``, ``truncated``) listed in the load report and the ledger.

With ``with_payloads=True`` (the default) it also carries hostile customer text: formula
injections, ``<script>`` and ``<img onerror>`` payloads, ``javascript:`` links, Markdown and LaTeX
tricks, control, bidi and zero-width characters, a cell longer than Excel's 32,767-character
limit, a hostile column header and input columns that clash with the exported column names.

Usage::

    from tests._result_factory import make_result, PAYLOADS

    result = make_result(n_rows=200, with_payloads=True)
"""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pandas as pd

from pipeline.types import (
    STATUS_OK,
    Clustering,
    Documents,
    Embeddings,
    Ledger,
    LoadReport,
    Reduction,
    RowIssue,
    RunResult,
    Topic,
)

TEXT_COLUMN = "feedback"
"""Name of the text column in the factory's table."""

# (language, text) per topic; row texts cycle through them and get a unique order number.
TOPIC_TEXTS: dict[int, list[tuple[str, str]]] = {
    0: [
        ("en", "The parcel arrived two weeks late and the box was crushed."),
        ("zh", "快递太慢了，等了整整两个星期，包装也破了。"),
        ("ja", "配送が遅くて、箱がつぶれていました。"),
        ("es", "El paquete llegó con dos semanas de retraso."),
        ("ar", "وصل الطرد متأخرا أسبوعين وكانت العلبة مكسورة."),
    ],
    1: [
        ("en", "I was charged twice and still have not received my refund."),
        ("de", "Mir wurde doppelt abgebucht und die Rückerstattung fehlt noch."),
        ("fr", "J'ai été débité deux fois et toujours pas de remboursement."),
        ("zh", "被扣了两次款，退款到现在还没到账。"),
    ],
    2: [
        ("en", "The app crashes every time I try to log in."),
        ("ja", "ログインしようとするとアプリが落ちます。"),
        ("es", "La aplicación se cierra cada vez que inicio sesión."),
        ("ar", "التطبيق يتوقف كلما حاولت تسجيل الدخول."),
    ],
    3: [
        ("en", "Support was friendly and solved my problem in minutes."),
        ("fr", "Le service client était aimable et très rapide."),
        ("de", "Der Kundenservice war freundlich und sehr hilfsbereit."),
        ("zh", "客服态度很好，几分钟就解决了问题。"),
    ],
}
OUTLIER_TEXTS: list[tuple[str, str]] = [
    ("en", "Why is the sky blue on Tuesdays?"),
    ("es", "Mi gato prefiere la caja al regalo."),
    ("zh", "今天天气不错。"),
]
TOPIC_NAMES = {
    -1: "Outliers",
    0: "delivery late · 快递 · 配送",
    1: "refund charged twice",
    2: "app crash login",
    3: "friendly support",
}
KEYWORDS: dict[int, list[str]] = {
    -1: ["sky", "gato", "天气"],
    0: ["delivery", "late", "快递", "配送", "paquete", "الطرد", "box"],
    1: ["refund", "charged", "退款", "remboursement", "Rückerstattung"],
    2: ["crash", "login", "ログイン", "aplicación", "التطبيق"],
    3: ["support", "friendly", "客服", "Kundenservice", "service"],
}
CHANNELS = ["email", "app_store", "survey", "chat", "twitter"]

LONG_CELL_CHARS = 40_000
"""Length of the over-long payload cell (Excel stores at most 32,767 characters per cell)."""

PAYLOADS: dict[str, str] = {
    "control_chars": "bad\x00nul\x07bell\x1bescape\x0bvt text",
    "bidi": "refund \u202eevil\u202c and zero\u200bwidth",
    "script": '<script>alert("xss-script")</script>',
    "script_close": "</script><script>alert('xss-break')</script>",
    "img_onerror": "<img src=x onerror=\"alert('xss-img')\">",
    "js_link": '<a href="javascript:alert(1)">click me</a>',
    "markdown_link": "[click me](javascript:alert('xss-md'))",
    "markdown_image": "![x](https://attacker.example/pixel.png)",
    "latex_href": "$\\href{javascript:alert('xss-tex')}{click}$",
    "plotly_tags": "<b>bold</b><br><span style='font-size:80px'>big</span>",
    "formula_eq": '=1+2";=1+2',
    "formula_plus": "+SUM(1,2)",
    "formula_minus": "-2+3",
    "formula_at": "@SUM(1)",
    "formula_dde": "=cmd|' /C calc'!A0",
    "formula_hyperlink": '=HYPERLINK("https://attacker.example","click")',
    "formula_tab": "\t=1+1",
    "formula_cr": "\r=1+1",
    "formula_space": "   =1+1",
    "url_text": "https://attacker.example/login",
    "style_break": "</style><style>body{display:none}</style>",
    "attr_break": '" onmouseover="alert(\'xss-attr\')" x="',
    "template": "{{ 7*7 }} {% raw %}",
}
"""Hostile customer texts; every one must come out of every export inert and readable."""

HOSTILE_HEADER = '=HYPERLINK("https://attacker.example","col")'
"""A hostile input column name (exports neutralise headers too)."""


def _topic_for_row(i: int, n_topics: int) -> int:
    """Deterministic topic for row ``i``: every 11th row is an outlier."""
    return -1 if i % 11 == 10 else i % n_topics


def make_result(
    n_rows: int = 60,
    *,
    with_payloads: bool = True,
    n_topics: int = 4,
    seed: int = 0,
) -> RunResult:
    """Build a RunResult with ``n_rows`` input rows, hand-made but consistent in every field.

    Args:
        n_rows: Rows in the input table (at least 20).
        with_payloads: Put hostile texts, a hostile header, clashing column names and an
            over-long cell into the data, topic names and keywords.
        n_topics: Number of real topics (1 to 4), besides the outliers.
        seed: Seed for the map coordinates and embeddings.

    Returns:
        A RunResult whose ledger balances, whose arrays align with ``documents.unique_rows`` and
        whose ``manifest`` has the ``run.json`` keys (some values are numpy scalars on purpose).
    """
    if n_rows < 20:
        raise ValueError("make_result needs at least 20 rows")
    if not 1 <= n_topics <= 4:
        raise ValueError("n_topics must be between 1 and 4")
    rng = np.random.default_rng(seed)

    texts_raw: list[str] = []
    status: list[str] = []
    languages: list[str] = []
    row_topic: list[int] = []
    first_ok: list[int] = []  # ok rows, for duplicates to point at
    payload_values = list(PAYLOADS.values())
    n_payload_rows = 0

    for i in range(n_rows):
        topic = _topic_for_row(i, n_topics)
        pool = OUTLIER_TEXTS if topic == -1 else TOPIC_TEXTS[topic]
        lang, base = pool[(i // max(n_topics, 1)) % len(pool)]
        text = f"{base} #{1000 + i}"
        if i % 17 == 5:
            texts_raw.append("   " if i % 2 else "")
            status.append("empty")
            languages.append("")
            row_topic.append(-2)
            continue
        if i % 23 == 9:
            texts_raw.append('broken,"line')
            status.append("bad_line")
            languages.append("")
            row_topic.append(-2)
            continue
        if i % 13 == 12 and first_ok:
            source = first_ok[(i // 13) % len(first_ok)]
            texts_raw.append(texts_raw[source])
            status.append(f"duplicate_of:{source}")
            languages.append(languages[source])
            row_topic.append(row_topic[source])
            continue
        if with_payloads and i % 2 == 1:
            payload = payload_values[n_payload_rows % len(payload_values)]
            text = payload if n_payload_rows % 2 == 0 else f"{payload} {base}"
            n_payload_rows += 1
        texts_raw.append(text)
        status.append(STATUS_OK)
        languages.append(lang)
        row_topic.append(topic)
        first_ok.append(i)

    long_row = -1
    if with_payloads:
        # One over-long cell (ok row, topic 0) to exercise Excel's 32,767-character limit.
        long_row = next(i for i in first_ok if row_topic[i] == 0 and i > 2)
        texts_raw[long_row] = "Long complaint about delivery. " + "x" * LONG_CELL_CHARS

    # Analysis texts: control/bidi/zero-width characters removed and truncated, as documents.py does.
    issues: list[RowIssue] = []
    analysis: list[str] = []
    for i, (raw, st) in enumerate(zip(texts_raw, status, strict=True)):
        if st != STATUS_OK and not st.startswith("duplicate_of:"):
            analysis.append("")
            continue
        clean = "".join(
            ch
            for ch in raw
            if not (ord(ch) < 32 and ch not in "\t\n\r")
            and ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b"
        )
        clean = " ".join(clean.split())
        if clean != " ".join(raw.split()) and st == STATUS_OK:
            issues.append(RowIssue(row=i, line=i + 2, reason="control_chars", detail="removed"))
        if len(clean) > 2000:
            clean = clean[:2000]
            if st == STATUS_OK:
                issues.append(RowIssue(row=i, line=i + 2, reason="truncated", detail="cut to 2000 chars"))
        analysis.append(clean)

    # Input table: every cell a string, as the loader delivers it.
    start = pd.Timestamp("2024-01-01")
    table = pd.DataFrame(
        {
            "id": [f"T-{5000 + i}" for i in range(n_rows)],
            "date": [(start + pd.Timedelta(days=int(i % 120))).strftime("%Y-%m-%d") for i in range(n_rows)],
            "rating": [str(1 + (i * 7) % 5) for i in range(n_rows)],
            "channel": [CHANNELS[i % len(CHANNELS)] for i in range(n_rows)],
            TEXT_COLUMN: texts_raw,
        }
    )
    if with_payloads:
        table["status"] = ["imported" if i % 2 else "-1" for i in range(n_rows)]  # clashes with ours
        table["x"] = ["-3.5"] * n_rows  # clashes with a numeric output column, stays text
        table[HOSTILE_HEADER] = ["=1+1" if i % 3 == 0 else "fine" for i in range(n_rows)]
        table["rating"] = [("-1" if i % 9 == 0 else r) for i, r in enumerate(table["rating"])]

    load_issues = tuple(
        RowIssue(row=i, line=i + 2, reason="bad_line", detail='broken,"line <script>alert(1)</script>')
        for i, st in enumerate(status)
        if st == "bad_line"
    )
    load_report = LoadReport(
        filename="feedback <export> 2024.csv" if with_payloads else "feedback_export_2024.csv",
        format="csv",
        sha256=hashlib.sha256("\n".join(texts_raw).encode("utf-8", "surrogatepass")).hexdigest(),
        rows_read=n_rows,
        columns=tuple(table.columns),
        encoding="utf-8",
        encoding_confidence=0.99,
        encoding_alternatives=("gb18030",),
        delimiter=",",
        header_row=0,
        issues=load_issues,
        warnings=("3 rows had a different number of fields",) if load_issues else (),
    )
    documents = Documents(
        texts=tuple(analysis),
        status=tuple(status),
        text_column=TEXT_COLUMN,
        text_column_reason="longest average text, 96% unique",
        issues=tuple(issues),
    )

    unique = documents.unique_rows
    labels = np.array([row_topic[i] for i in unique], dtype=np.int64)
    centres = {t: np.array([np.cos(t * 1.7) * 6.0, np.sin(t * 1.7) * 6.0]) for t in range(n_topics)}
    centres[-1] = np.array([0.0, 0.0])
    spread = {t: 0.9 for t in range(n_topics)} | {-1: 4.0}
    map_2d = np.stack([centres[int(t)] + rng.normal(scale=spread[int(t)], size=2) for t in labels])
    cluster_space = np.concatenate([map_2d, rng.normal(scale=0.1, size=(len(unique), 3))], axis=1)
    vectors = rng.normal(size=(len(unique), 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    embeddings = Embeddings(vectors=vectors, model="fake-multilingual", device="cpu", n_computed=len(unique))
    reduction = Reduction(
        cluster_space=cluster_space.astype(np.float32),
        map_2d=map_2d.astype(np.float32),
        params={"n_neighbors": 15, "min_dist": 0.1},
    )
    clustering = Clustering(
        labels=labels,
        method="kmeans",
        n_topics=n_topics,
        params={"k": n_topics},
        reason="silhouette peak",
    )

    # Topics: sizes count duplicates; share over rows that have a topic (outliers included).
    clustered_rows = [i for i, t in enumerate(row_topic) if t != -2]
    sizes = Counter(row_topic[i] for i in clustered_rows)
    total = len(clustered_rows)
    topics: list[Topic] = []
    for topic_id in sorted(sizes, key=lambda t: (t == -1, -sizes[t], t)):
        rows = [i for i in clustered_rows if row_topic[i] == topic_id]
        words = KEYWORDS[topic_id]
        keywords = [(w, round(0.9 / (1 + k * 0.45), 4)) for k, w in enumerate(words)]
        name = TOPIC_NAMES[topic_id]
        if with_payloads and topic_id == 1:
            name = '<script>alert("topic-name")</script> $\\href{javascript:alert(1)}{refunds}$'
            keywords.append((PAYLOADS["formula_eq"], 0.05))
            keywords.append(("<img src=x onerror=alert(2)>", 0.04))
        examples = tuple(i for i in rows if status[i] == STATUS_OK)[:3]
        topics.append(
            Topic(
                id=topic_id,
                name=name,
                size=len(rows),
                share=len(rows) / total,
                keywords=tuple(keywords),
                examples=examples,
                languages=dict(Counter(languages[i] for i in rows).most_common()),
            )
        )

    excluded = Counter(
        s.split(":", 1)[0].replace("duplicate_of", "duplicate") for s in status if s != STATUS_OK
    )
    altered = Counter(issue.reason for issue in issues)
    ledger = Ledger(
        rows_read=n_rows,
        rows_clustered=len(unique),
        excluded=dict(excluded),
        altered=dict(altered),
    )
    manifest = {
        "model": "fake-multilingual",
        "model_reason": "test factory",
        "device": "cpu",
        "clusterer": "kmeans",
        "n_topics": np.int64(n_topics),  # numpy scalars on purpose: the writer must make them JSON-safe
        "seed": 42,
        "input_sha256": load_report.sha256,
        "input": load_report.to_dict(),
        "text_column": TEXT_COLUMN,
        "text_column_reason": documents.text_column_reason,
        "config": {"model": "auto", "n_topics": None, "clusterer": "kmeans", "seed": 42},
        "versions": {"feedback-topics": "0.1.0", "numpy": np.__version__, "pandas": pd.__version__},
        "timings_s": {"load": np.float32(0.01), "embed": np.float64(1.25), "reduce": 0.5, "cluster": 0.1},
        "ledger": ledger.to_dict(),
        "created_at": "2024-05-06T07:08:09+00:00",
        "feedback_topics_version": "0.1.0",
    }
    return RunResult(
        table=table,
        load_report=load_report,
        documents=documents,
        embeddings=embeddings,
        reduction=reduction,
        clustering=clustering,
        topics=tuple(topics),
        languages=tuple(languages),
        ledger=ledger,
        manifest=manifest,
    )
