"""Replay the analyst's edits onto a run: every edit is a pure function ``RunResult -> RunResult``.

Undo is a replay from the base run without the undone edits (see :mod:`pipeline.curation.log`),
so nothing is ever rolled back by hand. After each edit that moves texts between topics the
topics it touched get fresh sizes, shares, keywords, examples and (unless the analyst named them)
names; topics it did not touch keep theirs; themes keep their ids and names and are re-counted.
New topics take ids above every id the run has used (``Clustering.params["max_topic_id"]``), so
a topic id is never reused for other texts.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.curation.edits import (
    Delete,
    Edit,
    Merge,
    MergeThemes,
    Move,
    Rename,
    RenameTheme,
    Seed,
    Split,
    check,
    from_dict,
    to_dict,
)
from pipeline.errors import ConfigError
from pipeline.types import NOT_RELEVANT, OUTLIER, RunResult, Theme, Topic

logger = logging.getLogger(__name__)

NOT_RELEVANT_NAME = "Not relevant"
AUTO_MAX_PARTS = 8
"""A split with ``n=None`` tries 2 to this many parts (at most a third of its texts)."""
SEED_PERCENTILE = 90.0
"""A seed takes the texts closer to its phrases than 90 % of (text, other topic's centre) pairs
(see :func:`seed_threshold`)."""
SEED_SAMPLE_ROWS = 20_000
_SILHOUETTE_ROWS = 2_000
_EDITED = "; then edited by the analyst"
_MERGED = "; then merged by the analyst"


# ----------------------------------------------------------------------------------------- replay
def apply_edits(
    result: RunResult, edits: Sequence[Mapping[str, Any] | Edit], *, embedder: Any | None = None
) -> RunResult:
    """Replay an edit log (``edits.json`` entries or typed edits, in order) onto a run.

    Entries cancelled by a later ``undo`` (and not restored by a ``redo``) are skipped (see
    :func:`pipeline.store.active_entries`). The edits in effect are listed in the result's
    ``manifest["edits"]``, so every export names them.

    Args:
        result: The base run (or a run with earlier edits applied).
        edits: The log.
        embedder: Only for :class:`Seed` edits saved without their vector (hand-written logs).

    Raises:
        ConfigError: An unknown operation, a bad field, or a topic that no longer exists.
    """
    from pipeline.store import active_entries

    entries = [e if isinstance(e, Mapping) else to_dict(e) for e in edits]
    recorded = list(result.manifest.get("edits") or [])
    for _, entry in active_entries(entries):
        edit = prepare(from_dict(entry), result, embedder=embedder)
        result, detail = _apply_one(result, edit)
        recorded.append(_record(edit, detail))
    return dataclasses.replace(result, manifest={**result.manifest, "edits": recorded})


def apply_edit(
    result: RunResult, edit: Edit | Mapping[str, Any], *, embedder: Any | None = None
) -> RunResult:
    """One edit onto ``result`` (see :func:`apply_edits`)."""
    return apply_edits(result, [edit], embedder=embedder)


def prepare(edit: Edit, result: RunResult, *, embedder: Any | None) -> Edit:
    """Fill what an edit needs from a model once, so its replay needs none: a :class:`Seed`'s vector.

    Raises:
        ConfigError: A seed without its vector and no ``embedder`` (``seed_needs_model``), or a
            vector of the wrong dimension.
    """
    if not isinstance(edit, Seed):
        return edit
    dim = int(result.embeddings.vectors.shape[1])
    if not edit.vector:
        if embedder is None:
            raise ConfigError(
                f"The seed topic {edit.name!r} needs the run's embedding model to place its phrases.",
                code="seed_needs_model",
            )
        phrases = [" ".join(p.split()) for p in edit.phrases]
        vectors = np.asarray(embedder.embed(phrases, kind="document"), dtype=np.float64).reshape(
            len(phrases), -1
        )
        centre = vectors.mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        edit = dataclasses.replace(edit, vector=tuple(round(float(v), 6) for v in centre))
    if len(edit.vector) != dim:
        raise ConfigError(
            f"The seed topic {edit.name!r} was made with a model of {len(edit.vector)} dimensions; "
            f"this run's has {dim}.",
            code="seed_dim",
        )
    return check(edit)


def _record(edit: Edit, detail: dict[str, Any]) -> dict[str, Any]:
    """The edit as the manifest lists it (a seed's vector left out) plus what it did."""
    entry = to_dict(edit)
    if isinstance(edit, Seed):
        entry.pop("vector", None)
    return {**entry, **detail}


def _apply_one(result: RunResult, edit: Edit) -> tuple[RunResult, dict[str, Any]]:
    handler = _HANDLERS.get(type(edit))
    if handler is None:
        raise ConfigError(f"Unknown edit operation {edit.op!r}.", code="edit")
    edited, detail = handler(result, edit)
    return _prune_mentions(edited), detail


def _prune_mentions(result: RunResult) -> RunResult:
    """Other-topic mentions that still point at a live topic other than the row's own."""
    pairs = result.mentions
    if not len(pairs):
        return result
    labels = np.asarray(result.clustering.labels, dtype=np.int64)
    live = np.array(sorted({t.id for t in result.topics if t.id >= 0}), dtype=np.int64)
    keep = np.isin(pairs[:, 1], live) & (pairs[:, 1] != labels[pairs[:, 0]])
    if keep.all():
        return result
    return dataclasses.replace(result, mentions=pairs[keep])


# ------------------------------------------------------------------------------------ rename/merge
def rename_topic(result: RunResult, topic_id: int, name: str) -> RunResult:
    """Return ``result`` with topic ``topic_id`` named ``name`` (trimmed, at most 120 characters)."""
    name = " ".join(name.split())[:120]
    if not name:
        raise ConfigError("A topic name cannot be empty.", code="topic_name")
    if topic_id not in {t.id for t in result.topics}:
        raise ConfigError(f"There is no topic {topic_id} in this run.", code="topic_id")
    topics = tuple(dataclasses.replace(t, name=name) if t.id == topic_id else t for t in result.topics)
    return dataclasses.replace(result, topics=topics)


def merge_topics(result: RunResult, topic_ids: Sequence[int], name: str | None = None) -> RunResult:
    """Merge two or more topics into the smallest of their ids; keywords and examples are recomputed.

    Names given by analysts to the other topics are kept; the merged topic gets ``name`` or, when
    ``None``, a fresh keyword name.
    """
    from pipeline.themes import themes_after_merge
    from pipeline.topics import build_topics

    ids = sorted({int(t) for t in topic_ids})
    existing = {t.id for t in result.topics}
    missing = [t for t in ids if t not in existing]
    if len(ids) < 2:
        raise ConfigError("Choose at least two topics to merge.", code="merge")
    if missing:
        raise ConfigError(f"There is no topic {missing[0]} in this run.", code="topic_id")
    target = ids[0] if ids[0] != OUTLIER else ids[1]
    labels = result.clustering.labels.copy()
    labels[np.isin(labels, ids)] = target
    custom = {t.id: t.name for t in result.topics if t.id not in ids and is_custom(result, t)}
    if name:
        custom[target] = " ".join(name.split())[:120]
    topics = build_topics(
        result.documents,
        labels,
        result.embeddings.vectors,
        languages=result.languages,
        names=custom,
        label_language=label_language(result),
    )
    # Topics the merge did not touch keep their names and label-language keywords (naming here has
    # no embedder, so it would otherwise fall back to in-language words only).
    before = {t.id: t for t in result.topics}
    topics = tuple(
        dataclasses.replace(
            t, name=before[t.id].name, auto_name=before[t.id].auto_name, keywords=before[t.id].keywords
        )
        if t.id in before and t.id not in ids
        else t
        for t in topics
    )
    n_topics = len(np.unique(labels[labels >= 0]))
    base_reason = result.clustering.reason.split(_MERGED, 1)[0]
    clustering = dataclasses.replace(
        result.clustering,
        labels=labels,
        n_topics=n_topics,
        reason=f"{base_reason}{_MERGED} to {n_topics} topics",
    )
    from pipeline.multitopic import remap_mentions

    mentions = remap_mentions(result.mentions, ids, target, labels)
    merged = dataclasses.replace(result, clustering=clustering, topics=topics, mentions=mentions)
    return themes_after_merge(merged, ids, target)


def label_language(result: RunResult) -> str:
    """The language the run's topics are named in (``auto`` for runs made before label languages)."""
    if result.label_sets:
        return result.label_sets[0].language
    return str(result.manifest.get("label_language") or "auto")


def is_custom(result: RunResult, topic: Topic) -> bool:
    """Whether an analyst named ``topic`` (its name is not the generated one)."""
    if topic.auto_name:
        return topic.name != topic.auto_name
    from pipeline.labels.keywords import topic_name
    from pipeline.topics import OUTLIER_NAME

    generated = (
        OUTLIER_NAME if topic.id == OUTLIER else topic_name(topic.keywords, fallback=f"Topic {topic.id}")
    )
    return topic.name != generated


def _rename(result: RunResult, edit: Rename) -> tuple[RunResult, dict[str, Any]]:
    return rename_topic(result, edit.topic_id, edit.name), {}


def _merge(result: RunResult, edit: Merge) -> tuple[RunResult, dict[str, Any]]:
    return merge_topics(result, edit.topic_ids, edit.name or None), {}


def _rename_theme(result: RunResult, edit: RenameTheme) -> tuple[RunResult, dict[str, Any]]:
    from pipeline.themes import rename_theme

    return rename_theme(result, edit.theme_id, edit.name), {}


def _merge_themes(result: RunResult, edit: MergeThemes) -> tuple[RunResult, dict[str, Any]]:
    from pipeline.themes import merge_themes

    return merge_themes(result, edit.theme_ids, edit.name or None), {}


# ------------------------------------------------------------------------------- re-labelling core
def next_topic_id(result: RunResult) -> int:
    """The id a new topic gets: above every id this run has ever used."""
    labels = result.clustering.labels
    used = [int(labels.max()) if len(labels) else -1, *(t.id for t in result.topics)]
    used.append(int(result.clustering.params.get("max_topic_id", -1)))
    return max(used) + 1


def relabel(
    result: RunResult, labels: np.ndarray, *, names: Mapping[int, str] | None = None, what: str
) -> RunResult:
    """``result`` with new topic labels per unique text; the topics whose texts changed re-described.

    Args:
        result: The run before the edit.
        labels: The new topic id per unique text.
        names: Names the analyst gave (new or changed topics).
        what: The edit, for the clustering's reason (``split``, ``move``...).
    """
    from pipeline.topics import build_topics

    old = np.asarray(result.clustering.labels, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    diff = old != labels
    changed = {int(t) for t in np.unique(old[diff])} | {int(t) for t in np.unique(labels[diff])}
    before = {t.id: t for t in result.topics}
    # A changed topic that still is mostly itself (at least half of its texts before and after)
    # keeps its name; one that lost or gained most of its texts is named afresh, except that a
    # name the analyst gave stays as long as the topic keeps at least half of its texts.
    kept = {
        tid
        for tid in changed
        if tid in before and tid >= 0 and _mostly_same(old, labels, tid, grown=is_custom(result, before[tid]))
    }
    custom = {tid: before[tid].name for tid in kept}
    custom.update({int(k): " ".join(v.split())[:120] for k, v in (names or {}).items() if v.strip()})
    custom.setdefault(NOT_RELEVANT, NOT_RELEVANT_NAME)
    built = build_topics(
        result.documents,
        labels,
        result.embeddings.vectors,
        languages=result.languages,
        names=custom,
        label_language=label_language(result),
    )
    topics = []
    for topic in built:
        if topic.id in before and topic.id not in changed:
            topic = before[topic.id]  # untouched: same rows, so the same description
        elif topic.id in kept and topic.id not in (names or {}):
            topic = dataclasses.replace(
                topic, name=before[topic.id].name, auto_name=before[topic.id].auto_name
            )
        elif topic.id == NOT_RELEVANT:
            topic = dataclasses.replace(topic, name=custom[NOT_RELEVANT], auto_name=NOT_RELEVANT_NAME)
        topics.append(topic)
    n_topics = len(np.unique(labels[labels >= 0]))
    base_reason = result.clustering.reason.split(_EDITED, 1)[0]
    params = {**result.clustering.params, "max_topic_id": max(next_topic_id(result) - 1, int(labels.max()))}
    clustering = dataclasses.replace(
        result.clustering,
        labels=labels,
        n_topics=n_topics,
        params=params,
        reason=f"{base_reason}{_EDITED} ({what}) to {n_topics} topics",
    )
    edited = dataclasses.replace(result, clustering=clustering, topics=tuple(topics))
    return _recount_themes(edited, old)


def _mostly_same(old: np.ndarray, new: np.ndarray, topic_id: int, *, grown: bool = False) -> bool:
    """Whether topic ``topic_id`` keeps at least half of its texts (and, unless ``grown`` may be
    ignored, at least half of its texts now were in it before)."""
    was, now = old == topic_id, new == topic_id
    both = int((was & now).sum())
    return both > 0 and 2 * both >= int(was.sum()) and (grown or 2 * both >= int(now.sum()))


def _recount_themes(result: RunResult, old_labels: np.ndarray) -> RunResult:
    """Themes keep ids, names and keywords; a new topic joins the theme most of its texts came from."""
    if not result.themes:
        return result
    from pipeline.themes import OUTLIER_THEME_NAME

    theme_of = result.topic_themes()
    labels = result.clustering.labels
    present = {t.id for t in result.topics}
    for topic_id in sorted(present - set(theme_of)):
        if topic_id < 0:
            theme_of[topic_id] = OUTLIER
            continue
        sources = Counter(int(t) for t in old_labels[labels == topic_id])
        themed = [(n, t) for t, n in sources.items() if t in theme_of and t >= 0]
        if themed:
            theme_of[topic_id] = theme_of[max(themed, key=lambda item: (item[0], -item[1]))[1]]
        else:  # texts only from outliers: the largest theme
            largest = max((th for th in result.themes if th.id >= 0), key=lambda th: th.size, default=None)
            theme_of[topic_id] = largest.id if largest is not None else OUTLIER
    sizes = {t.id: t.size for t in result.topics}
    total = sum(sizes.values()) or 1
    existing = {th.id: th for th in result.themes}
    if OUTLIER in theme_of.values() and OUTLIER not in existing:
        existing[OUTLIER] = Theme(
            id=OUTLIER, name=OUTLIER_THEME_NAME, size=0, share=0.0, keywords=(), topic_ids=()
        )
    themes = []
    for theme_id in sorted(existing):
        topic_ids = tuple(sorted(t for t, th in theme_of.items() if th == theme_id and t in present))
        if not topic_ids:
            continue
        size = sum(sizes[t] for t in topic_ids)
        themes.append(
            dataclasses.replace(
                existing[theme_id], topic_ids=topic_ids, size=size, share=round(size / total, 6)
            )
        )
    return dataclasses.replace(result, themes=tuple(themes))


def _present(result: RunResult, topic_id: int) -> np.ndarray:
    members = np.flatnonzero(result.clustering.labels == topic_id)
    if topic_id not in {t.id for t in result.topics} or len(members) == 0:
        raise ConfigError(f"There is no topic {topic_id} in this run.", code="topic_id")
    return members


# ------------------------------------------------------------------------------------------- split
def _split(result: RunResult, edit: Split) -> tuple[RunResult, dict[str, Any]]:
    """Re-cluster one topic's texts (k-means on their embeddings, seeded); the largest part keeps
    the topic's id and name, the others become new topics."""
    from sklearn.cluster import KMeans

    members = _present(result, edit.topic_id)
    if edit.topic_id == NOT_RELEVANT:
        raise ConfigError("Rows marked not relevant cannot be split.", code="split")
    vectors = np.asarray(result.embeddings.vectors, dtype=np.float64)[members]
    n_distinct = len(np.unique(np.round(vectors, 5), axis=0))
    if len(members) < 4 or n_distinct < 2:
        raise ConfigError(
            f"Topic {edit.topic_id} has too few different texts ({len(members)}) to split.", code="split"
        )
    scores: dict[int, float] = {}
    if edit.n is None:
        k, scores = _auto_parts(vectors, seed=edit.seed)
    else:
        k = min(int(edit.n), n_distinct)
    parts = KMeans(n_clusters=k, random_state=edit.seed, n_init=4).fit_predict(vectors)
    counts = Counter(int(p) for p in parts)
    # Largest part first; ties by the first member, so the order never depends on k-means' numbering.
    first = {p: int(np.flatnonzero(parts == p)[0]) for p in counts}
    order = sorted(counts, key=lambda p: (-counts[p], first[p]))
    labels = result.clustering.labels.copy()
    new_id = next_topic_id(result)
    created: list[int] = []
    for rank, part in enumerate(order):
        if rank == 0 and edit.topic_id != OUTLIER:
            continue
        labels[members[parts == part]] = new_id
        created.append(new_id)
        new_id += 1
    edited = relabel(result, labels, what="split")
    detail: dict[str, Any] = {"parts": k, "new_topics": created}
    if scores:
        detail["silhouette"] = {str(n): round(s, 4) for n, s in sorted(scores.items())}
    return edited, detail


def _auto_parts(vectors: np.ndarray, *, seed: int) -> tuple[int, dict[int, float]]:
    """The part count (2..:data:`AUTO_MAX_PARTS`) with the best cosine silhouette (ties: fewer)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    top = max(2, min(AUTO_MAX_PARTS, len(vectors) // 3))
    rng = np.random.default_rng(seed)
    sample = (
        np.sort(rng.choice(len(vectors), _SILHOUETTE_ROWS, replace=False))
        if len(vectors) > _SILHOUETTE_ROWS
        else np.arange(len(vectors))
    )
    scores: dict[int, float] = {}
    picked = vectors[sample]  # each count is tried on the sample; the split itself uses every text
    for k in range(2, top + 1):
        parts = KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(picked)
        if len(np.unique(parts)) < 2:
            continue
        scores[k] = float(silhouette_score(picked, parts, metric="cosine"))
    if not scores:
        return 2, {}
    return max(scores, key=lambda k: (round(scores[k], 3), -k)), scores


# -------------------------------------------------------------------------------------------- move
def unique_positions(result: RunResult, rows: Sequence[int]) -> np.ndarray:
    """Positions in the unique texts of input ``rows`` (a duplicate maps to its first occurrence;
    excluded rows are dropped), ascending."""
    documents = result.documents
    rows_arr = np.asarray([int(r) for r in rows], dtype=np.int64)
    bad = rows_arr[(rows_arr < 0) | (rows_arr >= documents.n_rows)]
    if len(bad):
        raise ConfigError(
            f"Row {int(bad[0])} is not in this run (it has {documents.n_rows} rows).", code="row"
        )
    source = documents.source_row[rows_arr]
    source = source[source >= 0]
    position = np.full(documents.n_rows, -1, dtype=np.int64)
    position[documents.unique_rows] = np.arange(len(documents.unique_rows))
    return np.unique(position[source])


def _move(result: RunResult, edit: Move) -> tuple[RunResult, dict[str, Any]]:
    """Selected rows to an existing topic, or to a new one (``to_topic=None``)."""
    positions = unique_positions(result, edit.rows)
    if len(positions) == 0:
        raise ConfigError("None of the chosen rows has a topic (they were all excluded).", code="move")
    labels = result.clustering.labels.copy()
    target = edit.to_topic
    names: dict[int, str] = {}
    if target is None:
        target = next_topic_id(result)
        if edit.name.strip():
            names[target] = edit.name
    elif target not in {t.id for t in result.topics} and target not in (OUTLIER, NOT_RELEVANT):
        raise ConfigError(f"There is no topic {target} in this run.", code="topic_id")
    elif edit.name.strip():
        names[target] = edit.name
    if bool((labels[positions] == target).all()):
        raise ConfigError(f"These rows are already in topic {target}.", code="move")
    sources = Counter(int(t) for t in labels[positions])
    labels[positions] = target
    edited = relabel(result, labels, names=names, what="move")
    return edited, {
        "topic": int(target),
        "texts_moved": len(positions),
        "from_topics": {str(k): v for k, v in sorted(sources.items())},
    }


# ------------------------------------------------------------------------------------------ delete
def _delete(result: RunResult, edit: Delete) -> tuple[RunResult, dict[str, Any]]:
    """A topic's texts become outliers (``-1``) or not relevant (``-3``); the topic is gone."""
    if edit.topic_id < 0:
        raise ConfigError("Only a real topic can be deleted (not outliers).", code="delete")
    members = _present(result, edit.topic_id)
    labels = result.clustering.labels.copy()
    labels[members] = OUTLIER if edit.to == "outliers" else NOT_RELEVANT
    edited = relabel(result, labels, what="delete")
    return edited, {"texts": len(members)}


# -------------------------------------------------------------------------------------------- seed
def seed_threshold(result: RunResult) -> tuple[float, dict[str, Any]]:
    """The cosine a text needs to join a seeded topic, derived from the run itself.

    A text belongs to a seed when it is closer to the seed's phrases than texts usually are to a
    topic they are *not* in: the threshold is the :data:`SEED_PERCENTILE`-th percentile of every
    clustered text's cosine to the centres of the other topics (at most
    :data:`SEED_SAMPLE_ROWS` texts, a seeded sample). Unlike the members' closeness to their own
    centre, this does not depend on how tight the topics are, and a few short phrases reach it
    for the texts that say the same thing (measured: ``bench/curation_seed.py``). A run with one
    topic falls back to the 5th percentile of its members' leave-one-out cosine. Returns
    (threshold, calibration).

    Raises:
        ConfigError: The run has no topic to calibrate on (``seed_no_topics``).
    """
    vectors = np.asarray(result.embeddings.vectors, dtype=np.float32)
    labels = np.asarray(result.clustering.labels, dtype=np.int64)
    ids = np.array(sorted(int(t) for t in np.unique(labels) if t >= 0), dtype=np.int64)
    if len(ids) == 0:
        raise ConfigError("A seed needs a run with at least one topic.", code="seed_no_topics")
    rows = np.flatnonzero(labels >= 0)
    if len(ids) == 1:
        from pipeline.taxonomy.assign import TaxonomyAssigner

        floor = float(TaxonomyAssigner(percentile=5.0).fit_vectors(vectors, labels).floor_)
        method = "one topic only: the 5th percentile of its members' leave-one-out cosine to its centre"
        return floor, {"method": method, "threshold": round(floor, 4), "texts": len(rows)}
    centres = np.stack([vectors[labels == t].sum(axis=0) for t in ids]).astype(np.float32)
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    if len(rows) > SEED_SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, SEED_SAMPLE_ROWS, replace=False))
    sims = vectors[rows] @ centres.T
    own = np.searchsorted(ids, labels[rows])
    foreign = np.ones(sims.shape, dtype=bool)
    foreign[np.arange(len(rows)), own] = False
    threshold = float(np.percentile(sims[foreign], SEED_PERCENTILE))
    calibration = {
        "method": (
            f"the {SEED_PERCENTILE:g}th percentile of the texts' cosine to the centres of topics they are "
            "not in: a text joins a seed when it is closer to its phrases than that"
        ),
        "threshold": round(threshold, 4),
        "texts": len(rows),
    }
    return threshold, calibration


def _seed(result: RunResult, edit: Seed) -> tuple[RunResult, dict[str, Any]]:
    """A new topic from example phrases: the texts whose cosine to the phrases' centre reaches
    :func:`seed_threshold` join it (from whichever topic; texts marked not relevant stay)."""
    if not edit.vector:
        raise ConfigError(f"The seed topic {edit.name!r} has no vector.", code="seed_needs_model")
    threshold, calibration = seed_threshold(result)
    vectors = np.asarray(result.embeddings.vectors, dtype=np.float32)
    centre = np.asarray(edit.vector, dtype=np.float32)
    centre /= np.linalg.norm(centre) or 1.0
    to_seed = vectors @ centre
    labels = np.asarray(result.clustering.labels, dtype=np.int64)
    joins = (to_seed >= threshold) & (labels != NOT_RELEVANT)
    if not joins.any():
        raise ConfigError(
            f"No text is close enough to the seed topic {edit.name!r} (cosine {threshold:.3f} needed, "
            f"best {float(to_seed.max(initial=0.0)):.3f}); add example phrases in the texts' own words.",
            code="seed_empty",
        )
    new_id = next_topic_id(result)
    sources = Counter(int(t) for t in labels[joins])
    new_labels = labels.copy()
    new_labels[joins] = new_id
    edited = relabel(result, new_labels, names={new_id: edit.name}, what="seed")
    return edited, {
        "topic": new_id,
        "texts_joined": int(joins.sum()),
        "from_topics": {str(k): v for k, v in sorted(sources.items())},
        "threshold": calibration["threshold"],
        "threshold_method": calibration["method"],
    }


_HANDLERS: dict[type[Any], Callable[[RunResult, Any], tuple[RunResult, dict[str, Any]]]] = {
    Rename: _rename,
    Merge: _merge,
    Split: _split,
    Move: _move,
    Delete: _delete,
    Seed: _seed,
    RenameTheme: _rename_theme,
    MergeThemes: _merge_themes,
}
"""Operation class -> its handler (every class in :data:`~pipeline.curation.edits.OPS`)."""
