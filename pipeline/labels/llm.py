"""Optional LLM labeller: any OpenAI-compatible ``/v1/chat/completions`` server names the groups.

Each group is sent its label-language keywords, its keywords in the texts' own languages and a few
representative texts; the reply must be a short label. Every request has a bounded timeout and a
few retries; a group whose request fails (network, HTTP error, timeout, an empty or over-long
answer) keeps the offline label, so naming never fails because the server did. The API key comes
from ``$OPENAI_API_KEY`` (never written anywhere); credentials in the URL are redacted wherever it
is logged or recorded.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from pipeline.labels.base import LabelRequest, LabelSet

logger = logging.getLogger(__name__)

API_KEY_ENV = "OPENAI_API_KEY"
MAX_EXAMPLES = 5
MAX_EXAMPLE_CHARS = 240
MAX_LABEL_CHARS = 60

LANGUAGE_NAMES = {
    "en": "English", "zh": "Simplified Chinese", "ja": "Japanese", "ko": "Korean", "de": "German",
    "fr": "French", "es": "Spanish", "pt": "Portuguese", "it": "Italian", "nl": "Dutch",
    "ru": "Russian", "pl": "Polish", "tr": "Turkish", "ar": "Arabic", "th": "Thai", "vi": "Vietnamese",
    "id": "Indonesian", "sv": "Swedish", "da": "Danish", "fi": "Finnish", "cs": "Czech",
    "uk": "Ukrainian", "he": "Hebrew", "hi": "Hindi", "el": "Greek", "hu": "Hungarian",
}  # fmt: skip


def redact_url(url: str) -> str:
    """``url`` without user, password or secret-looking query values (for logs and run.json)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<invalid url>"
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username or parts.password:
        netloc = "***@" + netloc
    query = urllib.parse.urlencode(
        [
            (k, "***" if re.search(r"key|token|secret|pass|auth|sig", k, re.IGNORECASE) else v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


@dataclass(frozen=True)
class ChatLabeler:
    """Labels through an OpenAI-compatible chat endpoint.

    Args:
        url: Base URL (``http://host:8000`` or ``.../v1``); ``/v1/chat/completions`` is added.
        model: The model name to request.
        timeout_s: Per request.
        retries: Extra attempts per group after a failure.
        api_key: Defaults to ``$OPENAI_API_KEY``; sent as a bearer token, never stored.
    """

    url: str
    model: str
    timeout_s: float = 20.0
    retries: int = 2
    api_key: str | None = None
    name: str = "openai"

    def endpoint(self) -> str:
        """The chat-completions URL, without any user and password in it."""
        parts = urllib.parse.urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        path = parts.path.rstrip("/")
        if not path.endswith("/chat/completions"):
            if not path.endswith("/v1"):
                path += "/v1"
            path += "/chat/completions"
        return urllib.parse.urlunsplit((parts.scheme, netloc, path, parts.query, ""))

    def label(self, request: LabelRequest, *, fallback: LabelSet | None) -> LabelSet:
        """Ask the server for each group's label; keep ``fallback``'s where it fails."""
        names = dict(fallback.names) if fallback else {}
        keywords = dict(fallback.keywords) if fallback else {}
        failed: list[int] = []
        asked = 0
        for group in sorted(names):
            if group < 0:
                continue
            asked += 1
            label = self._ask(request, group, [w for w, _ in keywords.get(group, ())])
            if label is None:
                failed.append(group)
            else:
                names[group] = label
        where = redact_url(self.endpoint())
        reason = f"{self.model} at {where}"
        if failed:
            reason += f"; {len(failed)} of {asked} groups kept the offline label (request failed)"
        return LabelSet(
            language=request.language,
            names=names,
            keywords=keywords,
            method=f"openai:{self.model}",
            reason=reason,
            details={
                "endpoint": where,
                "groups_asked": asked,
                "groups_fallback": failed,
                "fallback_method": fallback.method if fallback else "",
            },
        )

    def messages(self, request: LabelRequest, group: int, words: list[str]) -> list[dict[str, str]]:
        """The chat messages for one group."""
        language = LANGUAGE_NAMES.get(request.language, request.language)
        original = [w for w, _ in request.keywords_original.get(group, ())][:10]
        examples = [
            " ".join(request.texts[i].split())[:MAX_EXAMPLE_CHARS]
            for i in list(request.examples.get(group, ()))[:MAX_EXAMPLES]
        ]
        lines = [
            f"Label language: {language} ({request.language}).",
            f"Keywords ({language}): {', '.join(words) or '-'}",
            f"Keywords (original languages): {', '.join(original) or '-'}",
            "Representative feedback:",
            *(f"- {text}" for text in examples),
            f"Answer with one label of 2-6 words (or 2-8 characters in Chinese or Japanese) in {language}"
            " that says what this group of customer feedback is about. Only the label, no quotes.",
        ]
        return [
            {"role": "system", "content": "You name topics found in customer feedback. Be concise."},
            {"role": "user", "content": "\n".join(lines)},
        ]

    def _ask(self, request: LabelRequest, group: int, words: list[str]) -> str | None:
        body = json.dumps(
            {
                "model": self.model,
                "messages": self.messages(request, group, words),
                "temperature": 0,
                "max_tokens": 32,
            }
        ).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        key = self.api_key if self.api_key is not None else os.environ.get(API_KEY_ENV, "")
        parts = urllib.parse.urlsplit(self.url)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        elif parts.username:
            token = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        for attempt in range(self.retries + 1):
            try:
                req = urllib.request.Request(self.endpoint(), data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout_s) as response:
                    payload: Any = json.loads(response.read().decode("utf-8"))
                label = _clean(payload["choices"][0]["message"]["content"])
                if label:
                    return label
                logger.info("labeller: unusable answer for group %d", group)
                return None
            except (
                urllib.error.URLError,
                TimeoutError,
                OSError,
                ValueError,
                KeyError,
                IndexError,
                TypeError,
            ) as exc:
                logger.info(
                    "labeller request for group %d failed (attempt %d): %s",
                    group,
                    attempt + 1,
                    type(exc).__name__,
                )
                if attempt < self.retries:
                    time.sleep(min(0.2 * 2**attempt, 2.0))
        return None


def _clean(content: Any) -> str | None:
    """The label from an answer: first line, quotes and trailing punctuation removed."""
    if not isinstance(content, str):
        return None
    content = re.sub(r"<think>.*?</think>", "", content, flags=re.DOTALL).strip()
    line = next((ln.strip() for ln in content.splitlines() if ln.strip()), "")
    line = re.sub(r"^(label|标签)\s*[:：]\s*", "", line, flags=re.IGNORECASE)
    line = line.strip(" \"'`“”‘’「」*").rstrip("。.!！")
    if not line or len(line) > MAX_LABEL_CHARS:
        return None
    return line
