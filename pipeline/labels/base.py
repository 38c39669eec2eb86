"""The label set a labeller returns, and the small interface every labeller implements.

A *partition* is any per-text labelling (topics, or themes over topics); a :class:`LabelSet` names
each of its groups in one language. A run may keep several label sets, one per language, beside one
clustering (latent-scope keeps ``{cluster}-labels-NNN`` files the same way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

Keywords = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class LabelSet:
    """Names and keywords for every group of one partition, in one language.

    Attributes:
        language: ISO 639-1 code the names and keywords are in.
        names: Group id -> label (a short phrase; ``-1`` keeps the outlier name).
        keywords: Group id -> ``(word, score)`` pairs in ``language``, best first.
        method: How they were made (``phrases+embedding``, ``keywords``, ``openai:MODEL``...).
        reason: Why this language and method (recorded in ``run.json``).
        details: Per-method figures (candidates embedded, fallbacks...), JSON-ready.
    """

    language: str
    names: dict[int, str]
    keywords: dict[int, Keywords]
    method: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (group ids as strings, keywords as ``[word, score]`` pairs)."""
        return {
            "language": self.language,
            "names": {str(k): v for k, v in self.names.items()},
            "keywords": {str(k): [[w, float(s)] for w, s in v] for k, v in self.keywords.items()},
            "method": self.method,
            "reason": self.reason,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelSet:
        """Inverse of :meth:`to_dict`."""
        return cls(
            language=str(data["language"]),
            names={int(k): str(v) for k, v in dict(data.get("names", {})).items()},
            keywords={
                int(k): tuple((str(w), float(s)) for w, s in v)
                for k, v in dict(data.get("keywords", {})).items()
            },
            method=str(data.get("method", "")),
            reason=str(data.get("reason", "")),
            details=dict(data.get("details", {})),
        )


@dataclass(frozen=True)
class LabelRequest:
    """What a labeller may look at for one partition (all arrays over the same texts).

    Attributes:
        texts: The texts (unique texts of the run).
        labels: Group id per text (``-1`` = outliers).
        vectors: L2-normalised embeddings per text.
        languages: Language code per text.
        phrases: ``tokenize_many(texts, languages)``.
        language: The label language (already resolved from ``auto``).
        examples: Group id -> indices of its most representative texts, best first.
        keywords_original: Group id -> keywords in the texts' own languages.
    """

    texts: Sequence[str]
    labels: np.ndarray
    vectors: np.ndarray
    languages: Sequence[str]
    phrases: Sequence[Sequence[Sequence[str]]]
    language: str
    examples: Mapping[int, Sequence[int]]
    keywords_original: Mapping[int, Keywords]


@runtime_checkable
class Labeler(Protocol):
    """Names the groups of a partition.

    ``label(request, fallback=...)`` returns a :class:`LabelSet` in ``request.language``; a
    labeller that calls out (an LLM server) returns ``fallback``'s name for every group it could
    not label, so a run never fails because a labeller did.
    """

    @property
    def name(self) -> str: ...

    def label(self, request: LabelRequest, *, fallback: LabelSet | None) -> LabelSet: ...
