"""The product's own error types.

Every failure an analyst can cause (a bad file, a wrong option, too little data) is raised as a
:class:`FeedbackTopicsError` subclass whose ``user_message`` says what went wrong and what to do.
The CLI and the dashboard show that message and never a traceback.
"""

from __future__ import annotations


class FeedbackTopicsError(Exception):
    """Base class of every error the product reports to a user.

    Args:
        user_message: One or two plain sentences: what is wrong, where, and what to do.
        code: A short stable identifier (``"empty"``, ``"encoding"``, ``"too_few_texts"``, ...).
        detail: Technical detail for logs only; never shown to the analyst.
    """

    def __init__(self, user_message: str, *, code: str = "error", detail: str = "") -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.code = code
        self.detail = detail


class LoadError(FeedbackTopicsError):
    """The input file cannot be read (format, encoding, structure, limits, safety)."""


class ConfigError(FeedbackTopicsError):
    """An option has a wrong value; the message lists the valid choices."""


class EmbedError(FeedbackTopicsError):
    """The embedding model could not be loaded or reached."""


class DataError(FeedbackTopicsError):
    """The data cannot be clustered as asked (too few texts, no variety, ...)."""
