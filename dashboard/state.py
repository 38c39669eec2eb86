"""Every session-state key the dashboard uses, with typed accessors.

Widget keys are deleted when their page is left, so anything uploaded, chosen or computed is
copied at once into the plain (non-widget) keys below. Session state only holds *pointers* and
small values plus the open run; every finished run and every edit is also on disk (see
:mod:`dashboard.services`), so a refresh loses nothing: the URL's ``?run=`` reopens it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from pipeline.types import RunResult

# Plain keys (never used as widget keys).
LANG = "ft_lang"
UPLOAD = "ft_upload"
READ_OPTIONS = "ft_read_options"
TEXT_COLUMN = "ft_text_column"
JOB_ID = "ft_job_id"
RUN = "ft_run"
RESTORED = "ft_restored"
NOTICE = "ft_notice"
MAP_SELECTION = "ft_map_selection"
LABEL_LANG = "ft_label_lang"
ANALYST = "ft_analyst"

# Widget keys (values live only while their page is shown).
W_LANG = "w_lang"


@dataclass(frozen=True)
class Upload:
    """The file the analyst chose, copied out of the uploader widget."""

    filename: str
    data: bytes = field(repr=False)
    sha256: str

    @classmethod
    def from_bytes(cls, filename: str, data: bytes) -> Upload:
        return cls(filename=filename, data=data, sha256=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class ReadOptions:
    """Encoding / delimiter overrides; ``None`` means detect."""

    encoding: str | None = None
    delimiter: str | None = None


@dataclass
class OpenRun:
    """The run being explored: where it lives, its base result and the edits applied to it."""

    run_id: str
    run_dir: str
    base: RunResult
    edits: list[dict[str, Any]]
    """The edits in effect (renames and merges, in order; undone ones left out)."""
    result: RunResult
    """``base`` with ``edits`` applied (what every page shows)."""
    log: list[dict[str, Any]] = field(default_factory=list)
    """The run's whole shared edit log as last read (every analyst's edits and undos)."""
    cursor: int = 0
    """How many log entries this view includes (the version later writes are based on)."""
    collapse: bool | None = None
    """Near-duplicates counted once (``True``) or every row (``False``); ``None``: as the run was made."""

    @property
    def version(self) -> str:
        """SHA-256 of the edit log's content and cursor: the key of every cached view.

        Two views with the same version show the same names and topics; any edit or undo (by
        anyone) changes it, even when the number of edits stays the same.
        """
        content: dict[str, Any] = {"log": self.log, "edits": self.edits, "cursor": self.cursor}
        if self.collapse is not None:  # counts differ, so cached views must too
            content["collapse"] = self.collapse
        payload = json.dumps(
            content,
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def analyst() -> str:
    """This session's analyst id: whose edits Undo may cancel (random, kept for the session)."""
    value = st.session_state.get(ANALYST)
    if not value:
        value = uuid.uuid4().hex[:12]
        st.session_state[ANALYST] = value
    return str(value)


def lang() -> str:
    """The interface language, ``"en"`` or ``"zh"``."""
    return str(st.session_state.get(LANG, "en"))


def set_lang(value: str) -> None:
    st.session_state[LANG] = value if value in ("en", "zh") else "en"


def label_lang() -> str:
    """The language topic names are shown in: the analyst's choice, else the interface language."""
    return str(st.session_state.get(LABEL_LANG) or lang())


def set_label_lang(value: str | None) -> None:
    st.session_state[LABEL_LANG] = value


def upload() -> Upload | None:
    return st.session_state.get(UPLOAD)


def set_upload(value: Upload | None) -> None:
    """Store a new file; resets the per-file choices."""
    previous = upload()
    st.session_state[UPLOAD] = value
    if value is None or previous is None or previous.sha256 != value.sha256:
        st.session_state[READ_OPTIONS] = ReadOptions()
        st.session_state[TEXT_COLUMN] = None


def read_options() -> ReadOptions:
    return st.session_state.get(READ_OPTIONS) or ReadOptions()


def set_read_options(value: ReadOptions) -> None:
    st.session_state[READ_OPTIONS] = value


def text_column() -> str | None:
    return st.session_state.get(TEXT_COLUMN)


def set_text_column(value: str | None) -> None:
    st.session_state[TEXT_COLUMN] = value


def job_id() -> str | None:
    return st.session_state.get(JOB_ID)


def set_job_id(value: str | None) -> None:
    st.session_state[JOB_ID] = value


def open_run() -> OpenRun | None:
    return st.session_state.get(RUN)


def set_open_run(value: OpenRun | None) -> None:
    st.session_state[RUN] = value


def result() -> RunResult | None:
    """The open run's result with edits applied, or ``None``."""
    current = open_run()
    return current.result if current else None


def notice() -> tuple[str, str] | None:
    """A one-shot message (kind, text) to show on the next page render."""
    return st.session_state.pop(NOTICE, None)


def set_notice(kind: str, text: str) -> None:
    st.session_state[NOTICE] = (kind, text)


def restored() -> bool:
    return bool(st.session_state.get(RESTORED))


def set_restored() -> None:
    st.session_state[RESTORED] = True


def map_selection() -> dict[str, Any] | None:
    """The map's last box/lasso selection: ``{"run_id", "box": [...], "lasso": [...]}``."""
    return st.session_state.get(MAP_SELECTION)


def set_map_selection(value: dict[str, Any] | None) -> None:
    st.session_state[MAP_SELECTION] = value
