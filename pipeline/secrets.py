"""Keep secrets out of everything a run writes or prints: URLs with credentials, API keys, tokens.

:func:`redact_url` is applied wherever a server URL leaves the process (run.json, the reports,
``topics.json``, ``data/meta.json``, cache keys, log lines, error messages, the CLI summary);
:func:`redact_options` does the same for a model-options mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_KEYS = frozenset({"api_key", "apikey", "key", "token", "access_token", "password", "secret", "auth"})
"""Option and query-parameter names whose values are never written out."""

_URL_IN_TEXT = re.compile(r"\b(https?://)([^/\s:@]*)(?::[^/\s@]*)?@", flags=re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` without its password (``user:pw@`` becomes ``***@``) and secret query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _URL_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}@", url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_KEYS for k, _ in pairs):
            query = urlencode([(k, MASK if k.lower() in SECRET_KEYS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``(url without user:password, (user, password) or None)`` for HTTP basic authentication."""
    from urllib.parse import unquote

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rsplit("@", 1)[1]
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, (unquote(parts.username or ""), unquote(parts.password or ""))


def redact_text(text: str) -> str:
    """Credentials of any ``http(s)://user:pw@`` URL inside free text masked."""
    return _URL_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}@", text)


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of model options with secret values masked and URLs redacted."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key.lower() in SECRET_KEYS and value:
            out[key] = MASK
        elif isinstance(value, str) and "://" in value:
            out[key] = redact_url(value)
        else:
            out[key] = value
    return out
