"""Secrets and network faults of the HTTP embedder, against real servers on loopback (issue 15).

Credentials in ``--server-url`` go out as basic auth and nowhere else (run.json, report.html,
report.xlsx, topics.json, data/meta.json, the cache, the printed summary); redirects to another
origin are refused before any text is re-sent; a server that accepts and then hangs fails within a
bounded time with a message that says so.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from pipeline.embedders.openai_http import OpenAIEmbedder
from pipeline.errors import EmbedError
from pipeline.secrets import redact_options, redact_text, redact_url

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "analyst", "pw-S3cr3t-9f2"


class _Handler(BaseHTTPRequestHandler):
    """Embeddings that depend on the text; modes: auth, redirect elsewhere/same origin, hang."""

    mode: ClassVar[str] = "ok"
    redirect_to: ClassVar[str] = ""
    posts: ClassVar[list[str]] = []
    hang_after: ClassVar[int] = 1

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, code: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._reply(200, {"data": [{"id": "toy"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        cls.posts.append(self.path)
        if cls.mode == "auth":
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._reply(401, {"error": {"message": "who are you"}})
                return
        if cls.mode in ("redirect", "same_origin") and self.path.startswith("/v1/"):
            target = cls.redirect_to if cls.mode == "redirect" else "/v2/embeddings"
            self._reply(307, {}, {"Location": target})
            return
        if cls.mode == "hang" and len(cls.posts) > cls.hang_after:
            time.sleep(5)
            return
        data = []
        for i, text in enumerate(body["input"]):
            rng = np.random.default_rng(sum(text.encode()) % 97)
            data.append({"index": i, "embedding": rng.normal(size=16).tolist()})
        self._reply(200, {"data": data})


def _serve(mode: str) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.mode, _Handler.posts, _Handler.redirect_to = "ok", [], ""
    srv, address = _serve("ok")
    try:
        yield address
    finally:
        srv.shutdown()
        srv.server_close()


def test_redaction_helpers() -> None:
    url = f"https://{USER}:{PASSWORD}@example.org:8443/v1?api_key=k123&model=x"
    shown = redact_url(url)
    assert PASSWORD not in shown and "k123" not in shown and USER not in shown
    assert shown.startswith("https://***@example.org:8443/v1") and "model=x" in shown
    assert redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
    assert PASSWORD not in redact_text(f"failed at {url} today")
    options = redact_options({"url": url, "api_key": "sk-1", "model": "m"})
    assert options == {"url": shown, "api_key": "***", "model": "m"}


def test_credentials_go_as_basic_auth_and_are_never_shown(server: str) -> None:
    _Handler.mode = "auth"
    embedder = OpenAIEmbedder(f"http://{USER}:{PASSWORD}@{server}/v1", batch_size=4)
    vectors = embedder.embed(["a", "bb", "ccc"])
    assert vectors.shape == (3, 16)
    assert PASSWORD not in embedder.model_id and PASSWORD not in embedder.shown_url
    assert PASSWORD not in embedder.url and "@" not in embedder.url


def test_cross_origin_redirect_is_refused_before_texts_are_resent(server: str) -> None:
    other, other_address = _serve("ok")
    try:
        _Handler.mode = "same_origin"
        embedder = OpenAIEmbedder(f"http://{server}/v1", model="toy")  # same-origin redirects work
        assert embedder.embed(["hello"]).shape == (1, 16)
        _Handler.mode, _Handler.redirect_to = "redirect", f"http://{other_address}/steal"
        _Handler.posts = []
        with pytest.raises(EmbedError) as info:
            embedder.embed(["a secret customer complaint"])
        assert info.value.code == "server_redirect"
        assert "/steal" not in _Handler.posts  # the other server got nothing
        assert _Handler.posts == ["/v1/embeddings"]
    finally:
        other.shutdown()
        other.server_close()


def test_server_that_accepts_then_hangs_fails_fast_and_says_so(server: str) -> None:
    _Handler.mode, _Handler.hang_after = "hang", 1  # the probe is answered, then nothing
    embedder = OpenAIEmbedder(f"http://{server}/v1", model="toy", timeout=0.5, max_retries=5, backoff=0.05)
    start = time.perf_counter()
    with pytest.raises(EmbedError) as info:
        embedder.embed(["a", "b"])
    elapsed = time.perf_counter() - start
    assert elapsed < 3, elapsed  # not 6 attempts x the timeout
    assert info.value.code == "server_timeout"
    assert "did not answer" in info.value.user_message and "cannot be reached" not in info.value.user_message
    assert "--server-timeout" in info.value.user_message


@pytest.mark.slow
def test_password_in_server_url_is_written_nowhere(server: str, tmp_path: Path) -> None:
    _Handler.mode = "auth"
    words = ["refund", "slow", "app", "crashes", "great", "support", "late", "parcel", "price", "login"]
    rows = [f"{i},{words[i % 10]} {words[(i * 3) % 10]} {words[(i * 7) % 10]} {i}" for i in range(40)]
    source = tmp_path / "feedback.csv"
    source.write_text("id,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FEEDBACK_TOPICS_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(source), "--out", str(out), "--model", "openai",
         "--server-url", f"http://{USER}:{PASSWORD}@{server}/v1", "--xlsx", "always", "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    written = [p for p in [*out.rglob("*"), *cache.rglob("*")] if p.is_file()]
    assert {"run.json", "report.html", "report.xlsx"} <= {p.name for p in written}
    for path in written:
        data = path.read_bytes()
        assert PASSWORD.encode() not in data, path
        if path.suffix == ".xlsx":
            import zipfile

            with zipfile.ZipFile(path) as book:
                for name in book.namelist():
                    assert PASSWORD.encode() not in book.read(name), (path, name)
