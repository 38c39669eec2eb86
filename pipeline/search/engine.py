"""``search_run``: one entry point for every search mode over a finished run.

A run's unique texts form a :class:`SearchCorpus` (vectors, words, groups of identical texts),
built once per run and kept for the next query. Each query is ranked by the chosen mode, then
(optionally) re-ranked so that its sense (praise or complaint, negated or not) counts, then texts
that read the same are collapsed into one hit with the number of rows that say it.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError, DataError
from pipeline.search.bm25 import Bm25Index, load_or_build_bm25, tokens
from pipeline.search.dense import embed_query, run_texts, top_k
from pipeline.search.hybrid import LEXICAL_WEIGHT, convex, rrf
from pipeline.search.index import EXACT_MAX, VectorIndex, vector_index
from pipeline.types import EXCLUDED, RunResult

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical", "exact"]
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical", "exact")
"""``hybrid``: dense and BM25 fused by rank; ``dense``: meaning only; ``lexical``: BM25 words only;
``exact``: texts containing the query as a phrase (case and spacing ignored), by similarity."""
CANDIDATES = 200
"""How many candidates each method contributes before fusion and re-ranking."""
FUSION = "convex"
"""How ``hybrid`` fuses dense and lexical: ``convex`` (scores) or ``rrf`` (ranks); measured in
bench/search_quality.py, where convex fusion did better on banking77 and m_absa."""
FEEDBACK_DOCS = 5
"""Pseudo-relevance feedback (``hybrid`` mode): the query vector is moved towards the mean of its
first ``FEEDBACK_DOCS`` hits, then the corpus is ranked again (``dense`` stays plain cosine: there
feedback lowered banking77 p@10 from 0.740 to 0.724)."""
FEEDBACK_WEIGHT = 2.0
"""Weight of that mean against the query (Rocchio). bench/search_quality.py, hybrid + polarity:
banking77 p@10 0.774 -> 0.814 (50 queries), 0.821 -> 0.834 (200 other queries), clinc150 0.828
-> 0.829; the m_absa and waimai figures are in bench/results/search_quality.json."""
FEEDBACK_MIN_TEXTS = 100
"""Feedback only when the first hits are a small part of what is searched (at least this many
texts may be returned); in a handful of texts they are most of the corpus and say nothing."""
FEEDBACK_TERMS = 5
"""Words added to the BM25 query from those hits (RM3-style): the most frequent ones that occur in
at least two of them and not in the query (banking77 p@10 0.814 -> 0.822, 200 other queries
0.834 -> 0.841)."""
RRF_WEIGHTS = (1.0, 1.0)
"""RRF weights of (dense, lexical) when ``fusion="rrf"``."""
COLUMNS = (
    "query", "rank", "row", "text", "score", "similarity", "count",
    "topic_id", "topic_name", "theme_id", "theme_name", "polarity", "near_duplicates",
)  # fmt: skip
"""Columns of :func:`search_run`'s frame (``topic`` is kept as an alias of ``topic_name``);
``near_duplicates``: rows of the hit's near-duplicate group (the same thing in other words)."""

_PUNCT_SPACE_RE = re.compile(r"[\W_]+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


def same_text_key(text: str) -> str:
    """Texts that read the same (case, width, spacing and punctuation aside) share this key."""
    return _PUNCT_SPACE_RE.sub("", unicodedata.normalize("NFKC", text).casefold())


def phrase_key(text: str) -> str:
    """Case, width and runs of spaces folded, for exact-phrase matching."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass(frozen=True)
class SearchFilters:
    """Restrict hits to rows in these topics / themes / column values (empty = no restriction)."""

    topics: tuple[int, ...] = ()
    themes: tuple[int, ...] = ()
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Input column -> allowed values (compared as text)."""

    def is_empty(self) -> bool:
        return not (self.topics or self.themes or any(self.columns.values()))


@dataclass(frozen=True)
class SearchCorpus:
    """The searchable unique texts of a run (or of any list of texts, for benchmarks).

    Attributes:
        texts: The analysis text per entry (what BM25 and exact phrases look at).
        display: The text shown per entry (the row's original text).
        languages: Language code per entry.
        vectors: Unit vectors, one per entry.
        rows: The input row of each entry (its first occurrence).
        row_entry: Per input row, the entry it belongs to (``-1``: excluded row).
        topics: Topic id per entry (``-1`` when there are none).
        index_folder: Where a large corpus's vector index is saved (``None``: memory only).
    """

    texts: tuple[str, ...]
    display: tuple[str, ...]
    languages: tuple[str, ...]
    vectors: np.ndarray
    rows: np.ndarray
    row_entry: np.ndarray
    topics: np.ndarray
    index_folder: Path | None = None
    exact_max: int = EXACT_MAX

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        *,
        vectors: np.ndarray,
        languages: Sequence[str],
        exact_max: int = EXACT_MAX,
    ) -> SearchCorpus:
        """A corpus of plain texts (row ``i`` = text ``i``), e.g. for a benchmark."""
        n = len(texts)
        return cls(
            texts=tuple(texts),
            display=tuple(texts),
            languages=tuple(languages),
            vectors=np.asarray(vectors, dtype=np.float32),
            rows=np.arange(n, dtype=np.int64),
            row_entry=np.arange(n, dtype=np.int64),
            topics=np.full(n, -1, dtype=np.int64),
            exact_max=exact_max,
        )

    def __len__(self) -> int:
        return len(self.texts)

    @cached_property
    def groups(self) -> np.ndarray:
        """Per entry, the id of its group of same-reading texts."""
        keys = [
            same_text_key(d) or same_text_key(t) or f"\0{i}"
            for i, (d, t) in enumerate(zip(self.display, self.texts, strict=True))
        ]
        return pd.factorize(pd.Series(keys, dtype=object))[0].astype(np.int64)

    @cached_property
    def bm25(self) -> Bm25Index:
        return load_or_build_bm25(self.texts, self.languages, folder=self.index_folder)

    @cached_property
    def index(self) -> VectorIndex:
        return vector_index(self.vectors, folder=self.index_folder, exact_max=self.exact_max)

    @cached_property
    def phrases(self) -> tuple[str, ...]:
        return tuple(phrase_key(f"{d}\n{t}") for d, t in zip(self.display, self.texts, strict=True))


# ---------------------------------------------------------------------------------------- corpus
_CORPORA: dict[int, tuple[weakref.ref[RunResult], SearchCorpus]] = {}
_LOCK = threading.Lock()


def run_corpus(result: RunResult, *, run_dir: Path | None = None) -> SearchCorpus:
    """The search corpus of a run, built once per run object (and reused by later queries)."""
    with _LOCK:
        for key, (ref, _corpus) in list(_CORPORA.items()):
            if ref() is None:
                del _CORPORA[key]
        hit = _CORPORA.get(id(result))
        if hit is not None and hit[0]() is result:
            return hit[1]
    vectors = np.asarray(result.embeddings.vectors, dtype=np.float32)
    if vectors.size == 0:
        raise DataError("This run has no stored embeddings to search.", code="no_embeddings")
    unique = result.documents.unique_rows
    shown = run_texts(result)
    languages = result.languages
    position = np.full(result.documents.n_rows, -1, dtype=np.int64)
    position[unique] = np.arange(len(unique))
    source = result.documents.source_row
    row_entry = np.where(source >= 0, position[np.maximum(source, 0)], -1)
    corpus = SearchCorpus(
        texts=tuple(result.documents.texts[r] for r in unique),
        display=tuple(shown.to_numpy(dtype=object)[unique].astype(str).tolist()),
        languages=tuple(languages[r] or "und" for r in unique),
        vectors=vectors,
        rows=unique.astype(np.int64),
        row_entry=row_entry.astype(np.int64),
        topics=np.asarray(result.clustering.labels, dtype=np.int64),
        index_folder=None if run_dir is None else Path(run_dir) / "data",
    )
    with _LOCK:
        _CORPORA[id(result)] = (weakref.ref(result), corpus)
    return corpus


def row_mask(result: RunResult, filters: SearchFilters) -> np.ndarray:
    """Input rows that pass ``filters``.

    Raises:
        ConfigError: For a column the input does not have (``unknown_column``).
    """
    mask = np.ones(result.documents.n_rows, dtype=bool)
    labels = result.row_labels()
    if filters.topics:
        mask &= np.isin(labels, np.asarray(filters.topics, dtype=np.int64))
    if filters.themes:
        theme_of = result.topic_themes()
        themes = np.array([theme_of.get(int(t), EXCLUDED) for t in labels], dtype=np.int64)
        mask &= np.isin(themes, np.asarray(filters.themes, dtype=np.int64))
    for column, values in filters.columns.items():
        if not values:
            continue
        if column not in result.table.columns:
            known = ", ".join(map(str, result.table.columns[:20]))
            raise ConfigError(
                f"The input has no column {column!r} to filter on (columns: {known}).", code="unknown_column"
            )
        mask &= result.table[column].astype(str).isin([str(v) for v in values]).to_numpy()
    return mask


# ------------------------------------------------------------------------------------------ ranking
@dataclass(frozen=True)
class Ranked:
    """Entries ranked for one query: positions into the corpus, ranking score, cosine similarity."""

    entries: np.ndarray
    scores: np.ndarray
    similarity: np.ndarray


def query_words(corpus: SearchCorpus, query: str) -> list[str]:
    from pipeline.languages import detect_language

    return tokens([query], [detect_language(query) or "und"])[0]


def expansion_words(
    corpus: SearchCorpus, entries: np.ndarray, *, exclude: Sequence[str], limit: int
) -> list[str]:
    """The ``limit`` words most frequent among ``entries`` (in at least two of them), not in ``exclude``."""
    if limit <= 0 or len(entries) < 2:
        return []
    from collections import Counter

    found = tokens([corpus.texts[i] for i in entries], [corpus.languages[i] for i in entries])
    skip = set(exclude)
    counts = Counter(word for words in found for word in set(words) if word not in skip)
    return [word for word, n in counts.most_common(limit) if n >= 2]


def rank(
    corpus: SearchCorpus,
    query: str,
    qvec: np.ndarray,
    *,
    mode: str,
    allowed: np.ndarray | None,
    depth: int = CANDIDATES,
    fusion: str = FUSION,
    lexical_weight: float = LEXICAL_WEIGHT,
    feedback: int = FEEDBACK_DOCS,
    feedback_weight: float = FEEDBACK_WEIGHT,
    feedback_terms: int = FEEDBACK_TERMS,
    words: Sequence[str] | None = None,
) -> Ranked:
    """Rank the corpus for one query by ``mode`` (see :data:`MODES`), best first.

    Args:
        corpus: What is searched.
        query: The query text (for words and phrases).
        qvec: Its unit vector.
        mode: One of :data:`MODES`.
        allowed: Entries that may be returned (``None``: all).
        depth: Candidates taken from each method.
        fusion: ``convex`` or ``rrf`` (``hybrid`` mode).
        lexical_weight: BM25's weight in convex fusion.
        feedback: Hits whose mean vector moves the query before a second ranking (``hybrid``
            only; 0 = one ranking). Similarities stay those of the query itself.
        feedback_weight: That mean's weight against the query.
        feedback_terms: Words of those hits added to the BM25 query.
        words: The BM25 query's words (default: the query's own).
    """
    searchable = len(corpus) if allowed is None else int(np.count_nonzero(allowed))
    if feedback > 0 and feedback_weight > 0 and mode == "hybrid" and searchable >= FEEDBACK_MIN_TEXTS:
        first = rank(
            corpus, query, qvec, mode=mode, allowed=allowed, depth=depth, fusion=fusion,
            lexical_weight=lexical_weight, feedback=0,
        )  # fmt: skip
        if len(first.entries):
            top = first.entries[:feedback]
            moved = qvec + feedback_weight * corpus.vectors[top].mean(axis=0)
            moved = (moved / (np.linalg.norm(moved) or 1.0)).astype(np.float32)
            own = list(words) if words is not None else query_words(corpus, query)
            second = rank(
                corpus, query, moved, mode=mode, allowed=allowed, depth=depth, fusion=fusion,
                lexical_weight=lexical_weight, feedback=0,
                words=own + expansion_words(corpus, top, exclude=own, limit=feedback_terms),
            )  # fmt: skip
            sims = np.asarray(corpus.vectors[second.entries] @ qvec, dtype=np.float32)
            return Ranked(second.entries, second.scores, sims)
        return first
    n = len(corpus)
    sims_all: np.ndarray | None = None

    def dense_ranking() -> tuple[np.ndarray, np.ndarray]:
        nonlocal sims_all
        if allowed is None:
            return corpus.index.search(qvec, depth)
        if sims_all is None:
            sims_all = np.asarray(corpus.vectors @ qvec, dtype=np.float32)
        scores = np.where(allowed, sims_all, -np.inf) if allowed is not None else sims_all
        best = top_k(scores, depth)
        best = best[np.isfinite(scores[best])]
        return best, sims_all[best]

    def similarity(entries: np.ndarray) -> np.ndarray:
        if sims_all is not None:
            return sims_all[entries]
        return np.asarray(corpus.vectors[entries] @ qvec, dtype=np.float32)

    if mode == "dense":
        entries, sims = dense_ranking()
        return Ranked(entries, sims.astype(np.float64), sims)
    if mode == "exact":
        needle = phrase_key(query)
        hits = np.array([needle in p for p in corpus.phrases], dtype=bool)
        if allowed is not None:
            hits &= allowed
        entries = np.flatnonzero(hits)
        sims = similarity(entries)
        order = np.lexsort((entries, -sims))
        return Ranked(entries[order], sims[order].astype(np.float64), sims[order])
    lexical = corpus.bm25.scores(list(words) if words is not None else query_words(corpus, query))
    if allowed is not None:
        lexical = np.where(allowed, lexical, 0.0)
    lex_best = top_k(lexical, depth)
    lex_best = lex_best[lexical[lex_best] > 0]
    if mode == "lexical":
        return Ranked(lex_best, lexical[lex_best].astype(np.float64), similarity(lex_best))
    if mode != "hybrid":
        raise ConfigError(f"Unknown search mode {mode!r}; use one of {', '.join(MODES)}.", code="bad_mode")
    dense_best, _ = dense_ranking()
    candidates = np.union1d(dense_best, lex_best).astype(np.int64)
    sims = similarity(candidates)
    if fusion == "rrf":
        fused = rrf([dense_best, lex_best], n=n, weights=RRF_WEIGHTS)[candidates]
    else:
        fused = convex(sims, lexical[candidates], weight=lexical_weight)
    order = np.lexsort((candidates, -fused))
    return Ranked(candidates[order], fused[order], sims[order])


def collapse(
    corpus: SearchCorpus, ranked: Ranked, *, counts: np.ndarray, top: int
) -> list[tuple[int, float, float, int]]:
    """The first ``top`` hits, one per group of same-reading texts: (entry, score, similarity, rows)."""
    seen: set[int] = set()
    out: list[tuple[int, float, float, int]] = []
    groups = corpus.groups
    for entry, score, sim in zip(ranked.entries, ranked.scores, ranked.similarity, strict=True):
        group = int(groups[entry])
        if group in seen:
            continue
        seen.add(group)
        out.append((int(entry), float(score), float(sim), int(counts[group])))
        if len(out) >= top:
            break
    return out


def group_counts(corpus: SearchCorpus, rows: np.ndarray | None = None) -> np.ndarray:
    """Rows per group (only ``rows``, a boolean mask over input rows, when given)."""
    entry = corpus.row_entry
    keep = entry >= 0 if rows is None else (entry >= 0) & rows
    return np.bincount(corpus.groups[entry[keep]], minlength=int(corpus.groups.max(initial=-1)) + 1)


def entry_counts(corpus: SearchCorpus, rows: np.ndarray | None = None) -> np.ndarray:
    """Rows per entry (an entry's exact duplicates included), only ``rows`` when given."""
    entry = corpus.row_entry
    keep = entry >= 0 if rows is None else (entry >= 0) & rows
    return np.bincount(entry[keep], minlength=len(corpus))


# ----------------------------------------------------------------------------------------- entry point
def search_run(
    result: RunResult,
    queries: Sequence[str],
    *,
    embedder: Any,
    top: int = 10,
    mode: str = "hybrid",
    filters: SearchFilters | None = None,
    polarity: bool = True,
    collapse_same: bool = True,
    run_dir: Path | None = None,
) -> pd.DataFrame:
    """Search a run for each query.

    Args:
        result: The run (edits applied, so topic names are the analyst's).
        queries: One or more queries, any language.
        embedder: The run's embedder (same model as its vectors).
        top: Hits per query.
        mode: ``hybrid`` (default), ``dense``, ``lexical`` or ``exact`` (see :data:`MODES`).
        filters: Restrict hits to topics, themes or input-column values.
        polarity: Re-rank so hits share the query's sense (praise/complaint) when it has a clear one.
        collapse_same: One hit per group of texts that read the same, with their row ``count``.
        run_dir: The run's folder, where a large run's vector index is saved and reused.

    Returns:
        One row per hit with :data:`COLUMNS` (and ``topic``), queries in order, best hit first.

    Raises:
        ConfigError: An empty query, an unknown mode or filter column, or a model that does not
            match the run.
        DataError: The run has no stored vectors.
    """
    from pipeline.search.polarity import polarity_rerank

    cleaned = [str(q).strip() for q in queries]
    if not cleaned or any(not q for q in cleaned):
        raise ConfigError("Type something to search for (a query is empty).", code="empty_query")
    if mode not in MODES:
        raise ConfigError(f"Unknown search mode {mode!r}; use one of {', '.join(MODES)}.", code="bad_mode")
    if top < 1:
        raise ConfigError(f"--top must be at least 1 (got {top}).", code="bad_top")
    corpus = run_corpus(result, run_dir=run_dir)
    filters = filters or SearchFilters()
    rows = None if filters.is_empty() else row_mask(result, filters)
    allowed = None
    if rows is not None:
        allowed = np.zeros(len(corpus), dtype=bool)
        allowed[corpus.row_entry[rows & (corpus.row_entry >= 0)]] = True
    counts = group_counts(corpus, rows)
    entry_rows = entry_counts(corpus, rows)
    qvecs = embed_query(
        cleaned, embedder=embedder, dim=corpus.vectors.shape[1], model=result.embeddings.model
    )
    names = result.topic_names()
    theme_of = result.topic_themes()
    theme_names = result.theme_names()
    from pipeline.near_duplicates import row_groups

    _, says = row_groups(result)
    records: list[dict[str, Any]] = []
    depth = max(CANDIDATES, top * 10)
    for query, qvec in zip(cleaned, qvecs, strict=True):
        ranked = rank(corpus, query, qvec, mode=mode, allowed=allowed, depth=depth)
        signs = np.zeros(len(ranked.entries), dtype=np.int64)
        if polarity and mode != "exact" and len(ranked.entries):
            try:
                ranked, signs = polarity_rerank(corpus, query, qvec, ranked, embedder=embedder)
            except Exception:  # a model that cannot embed the anchors: rank without polarity
                logger.warning("polarity re-rank unavailable with this model; skipped", exc_info=True)
                polarity = False
        sign_of = dict(zip(ranked.entries.tolist(), signs.tolist(), strict=True))
        if collapse_same:
            hits = collapse(corpus, ranked, counts=counts, top=top)
        else:
            hits = [
                (int(e), float(s), float(m), int(entry_rows[e]))
                for e, s, m in list(zip(ranked.entries, ranked.scores, ranked.similarity, strict=True))[:top]
            ]
        for position, (entry, score, sim, count) in enumerate(hits, start=1):
            topic = int(corpus.topics[entry])
            theme = theme_of.get(topic)
            records.append(
                {
                    "query": query,
                    "rank": position,
                    "row": int(corpus.rows[entry]),
                    "text": corpus.display[entry],
                    "score": round(score, 6),
                    "similarity": round(sim, 6),
                    "count": int(count),
                    "topic_id": topic,
                    "topic_name": names.get(topic, str(topic)),
                    "theme_id": -1 if theme is None else int(theme),
                    "theme_name": "" if theme is None else theme_names.get(theme, str(theme)),
                    "polarity": int(sign_of.get(entry, 0)),
                    "near_duplicates": int(says[int(corpus.rows[entry])]),
                }
            )
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    frame["topic"] = frame["topic_name"]
    return frame


# ---------------------------------------------------------------------------------------- saved runs
def open_search_run(run_dir: Path) -> RunResult:
    """A saved run with its edit log applied, as the dashboard shows it.

    Raises:
        ConfigError: ``run_dir`` is not a run folder (``not_a_run``).
        RunStoreError: The folder is a run but damaged.
    """
    from pipeline.analysis import apply_edits
    from pipeline.store import load_edits, open_run

    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file() or not (run_dir / "data").is_dir():
        raise ConfigError(
            f"{run_dir} is not a saved run (no run.json and data/ inside); give the folder that "
            "'feedback-topics run FILE --out DIR' wrote.",
            code="not_a_run",
        )
    result = open_run(run_dir)
    try:
        edits = [e for e in load_edits(run_dir) if isinstance(e, dict)]
    except (OSError, ValueError, TypeError):
        logger.warning("ignoring unreadable edit log in %s", run_dir)
        edits = []
    return apply_edits(result, edits) if edits else result


def run_model(result: RunResult) -> tuple[str, dict[str, Any]]:
    """The registry name (and options) of the model a run was embedded with.

    Raises:
        EmbedError: That model is not available here (``model_missing``).
    """
    from pipeline.embedders.registry import EMBEDDERS
    from pipeline.errors import EmbedError

    manifest = result.manifest
    config = manifest.get("config") or {}
    for candidate in (
        manifest.get("model_name"),
        manifest.get("model"),
        config.get("model"),
        result.embeddings.model,
    ):
        if isinstance(candidate, str) and candidate in EMBEDDERS and candidate != "auto":
            return candidate, dict(config.get("model_options") or {})
    raise EmbedError(
        f"This run was embedded with {result.embeddings.model!r}, which is not available here, "
        "so it cannot be searched. Re-run the analysis with an installed model.",
        code="model_missing",
    )
