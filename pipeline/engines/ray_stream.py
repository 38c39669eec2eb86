"""Streamed Ray runs: inputs larger than the driver should hold (``--engine ray`` above ``--ray-stream-rows``).

Three passes; the driver holds no per-row column, only the fitted sample, per-part counts and the
row issues (the rows whose text was changed or that were left out, each listed for the analyst):

1. **prepare** (Ray tasks, one per Parquet row-group range or other file): read, normalise and
   hash every row. The prepared rows go to Parquet parts in the work folder; each text's 64-bit
   hash goes to one of :data:`DEDUPE_ACTORS` duplicate finders (by hash), which find the exact
   duplicates and their first rows; the driver gets per-part counts and row issues.
2. **fit** (driver): the seeded sample of ``umap_fit_rows`` distinct texts (each finder draws its
   share) is read back and runs the whole pipeline with the Ray engine's stages
   (languages, embedding on the actor pool, UMAP, clustering, names, themes, sentiment). Those
   are the run's topics.
3. **assign** (Ray actors, one per CPU, or one per GPU for a model on CUDA): each prepared part
   is classified by language (with the sample's prior), embedded, placed on the sample's map
   and clustering space (the weighted mean over its nearest sampled texts, as
   :func:`pipeline.reduce.place` places rows UMAP was not fitted on), given the vote of its 15
   nearest sampled texts in the clustering space as its topic (as the collected Ray engine
   assigns) and the weighted mean sentiment score of its neighbours. Each part's rows go to
   ``assignments/part-NNNNN.parquet`` (the columns of ``assignments.csv``); the driver gets
   per-topic counts by language. Each part is also written as a CSV body, which the driver joins
   into ``assignments.csv`` without reading the rows.

The result is the fitted sample's :class:`~pipeline.types.RunResult` with the whole input's counts
(topic and theme sizes and shares, languages, ledger, per-file ledger, row issues) and
``row_parts``, the folder of assignment parts, from which :func:`pipeline.report.write_report`
writes ``assignments.csv``. Figures the report computes per row (sentiment shares, ratings,
trends, examples, the map) come from the fitted sample and are estimates;
``run.json``'s ``engine_details.streamed`` says so. Exact-duplicate rows are embedded like any
other row (their identical text lands in the same topic); near-duplicate groups and other-topic
mentions are not computed for streamed runs.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import RunConfig
from pipeline.embedders.base import Embedder
from pipeline.engines.parts import CSV_PARTS_FOLDER
from pipeline.errors import ConfigError
from pipeline.load.stream import InputFiles
from pipeline.progress import ProgressCallback, no_progress
from pipeline.types import STATUS_OK, LoadedTable, LoadReport, RowIssue, RunResult

logger = logging.getLogger(__name__)

PREPARED = "prepared"
ASSIGNED = "assignments"
ASSIGN_NEIGHBOURS = 15
DEDUPE_ACTORS = 4
"""Duplicate finders: a fixed number, so that the fitted sample does not depend on the cluster's size."""
KEY_BITS = 40
"""A row's key is ``file << KEY_BITS | row in file``: in global row order before the files are counted."""
_COUNT_BLOCK = 1 << 20


# ------------------------------------------------------------------------------- when to stream
def estimate_rows(files: InputFiles) -> int:
    """Rows of the input: Parquet metadata, or line counts (an upper bound) for the other files."""
    import pyarrow.parquet as pq

    total = 0
    for path in files.paths:
        if path.suffix.lower() == ".parquet":
            try:
                total += int(pq.ParquetFile(path).metadata.num_rows)
                continue
            except Exception:  # unreadable: its read reports the error
                continue
        try:
            with path.open("rb") as handle:
                while block := handle.read(_COUNT_BLOCK):
                    total += block.count(b"\n")
        except OSError:
            continue
    return total


def wants_stream(data: object, config: RunConfig) -> bool:
    """True when ``data`` is a folder or glob input of more than ``config.ray_stream_rows`` rows."""
    if not isinstance(data, InputFiles) or config.ray_stream_rows < 0:
        return False
    return config.ray_stream_rows == 0 or estimate_rows(data) > config.ray_stream_rows


def _check(config: RunConfig) -> RunConfig:
    """The sample run's config; options that need every row on the driver fail clearly."""
    if config.collapse_near_duplicates:
        raise ConfigError(
            "--collapse-near-duplicates needs every text on the driver; a streamed Ray run (more than "
            f"--ray-stream-rows {config.ray_stream_rows:,} rows) does not find near-duplicate groups. "
            "Leave it out, or raise --ray-stream-rows.",
            code="ray_stream",
        )
    if config.multi_topic == "on":
        raise ConfigError(
            "--multi-topic on needs every text on the driver; a streamed Ray run (more than "
            f"--ray-stream-rows {config.ray_stream_rows:,} rows) lists no other topics. Leave it out, "
            "or raise --ray-stream-rows.",
            code="ray_stream",
        )
    return replace(config, multi_topic="off", ray_stream_rows=-1)


# -------------------------------------------------------------------------------------- the run
def run_streamed(
    files: InputFiles,
    *,
    config: RunConfig,
    progress: ProgressCallback | None = None,
    embedder: Embedder | None = None,
    load_embedder: Any = None,
    reason: str = "",
) -> RunResult:
    """Run ``files`` in the three passes of the module doc (Ray must be connected).

    Returns:
        The fitted sample's result with the whole input's counts and ``row_parts`` set.

    Raises:
        FeedbackTopicsError: As :func:`pipeline.run.run` (no rows, bad options...).
    """
    import ray

    sample_config = _check(config)
    work = _work_dir(config)
    finder_class: Any = ray.remote(num_cpus=0)(_Dedupe).options(scheduling_strategy="SPREAD")
    finders: list[Any] = [finder_class.remote() for _ in range(DEDUPE_ACTORS)]
    try:
        return _run(files, config=config, sample_config=sample_config, work=work, progress=progress,
                    embedder=embedder, load_embedder=load_embedder, reason=reason, finders=finders)  # fmt: skip
    except BaseException:  # a failed run leaves no parts behind
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        for finder in finders:
            ray.kill(finder)


def _run(
    files: InputFiles,
    *,
    config: RunConfig,
    sample_config: RunConfig,
    work: Path,
    progress: ProgressCallback | None,
    embedder: Embedder | None,
    load_embedder: Any,
    reason: str,
    finders: list[Any],
) -> RunResult:
    import ray

    from pipeline.engines.local import run as run_local
    from pipeline.engines.ray import RayStages, _shards
    from pipeline.errors import LoadError

    report = progress or no_progress
    (work / PREPARED).mkdir(parents=True, exist_ok=True)
    (work / ASSIGNED).mkdir(parents=True, exist_ok=True)
    (work / CSV_PARTS_FOLDER).mkdir(parents=True, exist_ok=True)
    helper = RayStages(config=config, progress=report)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    # 1. prepare ---------------------------------------------------------------------------
    text_column, column_reason = _text_column(files, config)
    shards = _shards(files, options=config.load)
    for number, shard in enumerate(shards):
        shard["shard"] = number
        shard["prepared"] = str(work / PREPARED / f"shard-{number:05d}.parquet")
    rdata: Any = ray.data  # typed loosely: map_batches' stubs reject keyword-only UDFs
    ds = rdata.from_items(shards, override_num_blocks=len(shards)).map_batches(
        _prepare, fn_kwargs={"options": config.load, "text_column": text_column, "max_chars": config.max_chars,
                             "finders": finders},
        batch_size=1, batch_format="pandas",
    )  # fmt: skip
    records: list[dict[str, Any]] = []
    report("load", 0, len(shards))
    for batch in ds.iter_batches(batch_size=None, batch_format="pandas"):
        records += batch.to_dict("records")
        report("load", len(records), len(shards))
    records.sort(key=lambda r: (int(r["file"]), int(r["first"])))
    seconds["prepare"] = time.perf_counter() - started
    if not any(int(r["rows"]) for r in records):
        raise LoadError(f"{files.label} has no data rows.", code="no_rows")
    missing = [str(r["error"]) for r in records if r["error"]]
    if missing:
        raise LoadError(missing[0], code="text_column")

    # 2. fit: duplicates, the sample, the whole pipeline on it ---------------------------------
    t = time.perf_counter()
    layout = _layout(files, records, options=config.load)
    found = ray.get([finder.finish.remote() for finder in finders])
    n_unique = sum(int(f["unique"]) for f in found)
    if n_unique == 0:
        from pipeline.errors import DataError

        raise DataError(
            f"{files.label} has no texts to cluster (every row is empty or excluded).", code="no_texts"
        )
    dups_by_file: Counter[int] = Counter()
    for f in found:
        dups_by_file.update({int(k): int(v) for k, v in f["dups_by_file"].items()})
    fit_rows = min(config.umap_fit_rows, n_unique)
    rng = np.random.default_rng(config.seed)  # how many each finder draws, then which (seeded per finder)
    shares = rng.multivariate_hypergeometric([int(f["unique"]) for f in found], fit_rows)
    keys = np.concatenate(
        ray.get(
            [
                finder.sample.remote(int(n), config.seed, i)
                for i, (finder, n) in enumerate(zip(finders, shares, strict=True))
            ]
        )
    )
    offsets = np.asarray([layout["offsets"][i] for i in range(len(files.paths))], dtype=np.int64)
    sample_rows = np.sort(_rows_of(keys, offsets))
    table = _read_sample(records, sample_rows, layout)
    seconds["dedupe_and_sample"] = time.perf_counter() - t
    sample_config = replace(
        sample_config, text_column=text_column, umap_fit_rows=max(config.umap_fit_rows, fit_rows)
    )
    t = time.perf_counter()
    sample = run_local(
        table,
        config=sample_config,
        progress=report,
        embedder=embedder,
        load_embedder=load_embedder,
        stages=helper.stages(reason),
    )
    seconds["fit_sample"] = time.perf_counter() - t

    # 3. assign every part on Ray ------------------------------------------------------------
    t = time.perf_counter()
    bank = _bank(sample, sample_rows, config=config)
    from pipeline.engines.ray import embed_pool

    payload, options, size = embed_pool(
        name=str(sample.manifest.get("model_name")), device=str(sample.manifest.get("device", "")),
        instance=embedder, model_options=config.model_options, cpus=helper.cpus, gpus=helper.gpus,
    )  # fmt: skip
    tasks = []
    for number, record in enumerate(records):
        offset = layout["offsets"][int(record["file"])]
        low = (int(record["file"]) << KEY_BITS) | int(record["first"])
        tasks.append(
            {
                "prepared": record["prepared"],
                "offset": offset,
                "source": layout["names"][int(record["file"])],
                "keys": [low, low + int(record["rows"])],
                "out": str(work / ASSIGNED / f"part-{number:05d}.parquet"),
                "csv": str(work / CSV_PARTS_FOLDER / f"part-{number:05d}.csv"),
            }
        )
    ref = ray.put(bank)
    assigned = rdata.from_items(tasks, override_num_blocks=len(tasks)).map_batches(
        _AssignPart,
        fn_constructor_kwargs={
            "payload": payload, "bank": [ref], "columns": layout["columns"], "finders": finders, "offsets": offsets,
        },
        batch_size=1, batch_format="pandas",
        compute=rdata.ActorPoolStrategy(min_size=1, max_size=size), **options,
    )  # fmt: skip
    counts: list[dict[str, Any]] = []
    rows_done = 0
    total_rows = int(layout["rows"])
    report("assign", 0, total_rows)
    for batch in assigned.iter_batches(batch_size=None, batch_format="pandas"):
        for text in batch["counts"]:
            counts.append(json.loads(text))
            rows_done += int(counts[-1]["rows"])
        report("assign", rows_done, total_rows)
    seconds["assign"] = time.perf_counter() - t
    shutil.rmtree(work / PREPARED, ignore_errors=True)
    helper.details["embed_actors"] = size
    helper.details["embed_actor_resources"] = options
    result = _assemble(
        sample,
        files=files,
        records=records,
        layout=layout,
        counts=counts,
        n_unique=n_unique,
        dups_by_file=dups_by_file,
        fit_rows=fit_rows,
        text_column_reason=column_reason,
        config=config,
        seconds=seconds,
        details=helper.details,
        parts=work / ASSIGNED,
    )
    logger.info(
        "streamed Ray run: %d rows, %d fitted, %d topics, %.1f s",
        total_rows,
        fit_rows,
        result.clustering.n_topics,
        time.perf_counter() - started,
    )
    return result


def release(result: RunResult) -> None:
    """Delete a streamed run's work folder (its assignment parts) once the outputs are written."""
    if result.row_parts is not None:
        shutil.rmtree(Path(result.row_parts).parent, ignore_errors=True)


# ------------------------------------------------------------------------------- driver helpers
def _work_dir(config: RunConfig) -> Path:
    if config.ray_work_dir:
        base = Path(config.ray_work_dir)
        try:
            base.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix="run-", dir=base))
        except OSError as exc:
            raise ConfigError(
                f"Cannot write to --ray-work-dir {base} ({exc.strerror or exc}). Choose a folder every "
                "Ray node can write to.",
                code="ray_work_dir",
            ) from None
        return work
    work = Path(tempfile.mkdtemp(prefix="feedback-topics-ray-"))
    atexit.register(shutil.rmtree, work, True)  # what the caller did not release
    return work


def _text_column(files: InputFiles, config: RunConfig) -> tuple[str, str]:
    """The text column, detected (as the local engine does) on the first batch of the first file."""
    if config.text_column is not None:
        return config.text_column, "given"
    from pipeline.documents import detect_text_column
    from pipeline.load.stream import iter_batches

    for index, path in enumerate(files.paths):
        for batch in iter_batches(path, file_index=index, options=config.load):
            if len(batch.frame):
                column, reason = detect_text_column(batch.frame)
                return str(column), f"{reason} (detected on the first {len(batch.frame):,} rows)"
    from pipeline.errors import LoadError

    raise LoadError(f"{files.label} has no data rows.", code="no_rows")


def _layout(files: InputFiles, records: list[dict[str, Any]], *, options: Any) -> dict[str, Any]:
    """Rows per file, each file's first row over all files, the input's columns, the load report."""
    from pipeline.load.stream import combine_reports, describe_file

    per_file = Counter[int]()
    columns: list[str] = []
    for record in records:
        per_file[int(record["file"])] += int(record["rows"])
        columns += [c for c in json.loads(record["columns"]) if c not in columns]
    offsets, sources, offset = {}, [], 0
    for index, path in enumerate(files.paths):
        offsets[index] = offset
        sources.append(describe_file(path, rows=per_file[index], first_row=offset, options=options))
        offset += per_file[index]
    issues = [
        RowIssue(offsets[int(r["file"])] + row, line, reason, detail)
        for r in records
        for row, line, reason, detail in json.loads(r["load_issues"])
    ]
    lines = {issue.row: issue.line for issue in issues}
    text_issues = [
        RowIssue(offsets[int(r["file"])] + row, lines.get(offsets[int(r["file"])] + row, 0), reason, detail)
        for r in records
        for row, reason, detail in json.loads(r["text_issues"])
    ]
    load_report = combine_reports(files, sources, columns=columns, issues=issues)
    return {
        "offsets": offsets,
        "rows": offset,
        "columns": columns,
        "names": [p.name for p in files.paths],
        "report": load_report,
        "text_issues": text_issues,
    }


def _duplicate_groups(keys: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(duplicate keys, the first key of each, distinct keys)``, each sorted, from keys and text hashes."""
    order = np.lexsort((keys, hashes))  # by hash, then key: a group's first is its earliest row
    hashes, keys = hashes[order], keys[order]
    del order
    new = np.ones(len(hashes), dtype=bool)
    new[1:] = hashes[1:] != hashes[:-1]
    del hashes
    firsts = keys[new][np.cumsum(new) - 1]
    duplicate = ~new
    by_key = np.argsort(keys[duplicate], kind="stable")
    return keys[duplicate][by_key], firsts[duplicate][by_key], np.sort(keys[new])


def _rows_of(keys: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Global row numbers of row keys (``file << KEY_BITS | row in file``)."""
    keys = np.asarray(keys, dtype=np.int64)
    return offsets[keys >> KEY_BITS] + (keys & ((1 << KEY_BITS) - 1))


class _Dedupe:
    """One duplicate finder: the hashes of the texts whose hash falls to it, and the keys of their rows."""

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []
        self._hashes: list[np.ndarray] = []
        self.dup_keys = self.dup_first = self.unique = np.zeros(0, dtype=np.int64)

    def add(self, keys: np.ndarray, hashes: np.ndarray) -> None:
        self._keys.append(np.asarray(keys, dtype=np.int64))
        self._hashes.append(np.asarray(hashes, dtype=np.uint64))

    def finish(self) -> dict[str, Any]:
        keys = np.concatenate(self._keys) if self._keys else np.zeros(0, dtype=np.int64)
        hashes = np.concatenate(self._hashes) if self._hashes else np.zeros(0, dtype=np.uint64)
        self._keys, self._hashes = [], []
        self.dup_keys, self.dup_first, self.unique = _duplicate_groups(keys, hashes)
        files, counts = np.unique(self.dup_keys >> KEY_BITS, return_counts=True)
        return {
            "unique": len(self.unique),
            "dups_by_file": {int(f): int(n) for f, n in zip(files.tolist(), counts.tolist(), strict=True)},
        }

    def sample(self, n: int, seed: int, index: int) -> np.ndarray:
        rng = np.random.default_rng([seed, index])
        return np.sort(rng.choice(self.unique, size=n, replace=False)) if n else np.zeros(0, dtype=np.int64)

    def duplicates_in(self, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, first keys)`` of the duplicate rows with ``low <= key < high``."""
        a, b = np.searchsorted(self.dup_keys, [low, high])
        return self.dup_keys[a:b], self.dup_first[a:b]


def _read_sample(
    records: list[dict[str, Any]], sample_rows: np.ndarray, layout: dict[str, Any]
) -> LoadedTable:
    """The sampled rows' input columns, read back from the prepared parts on Ray."""
    import ray

    tasks = []
    for record in records:
        first = layout["offsets"][int(record["file"])] + int(record["first"])
        low, high = np.searchsorted(sample_rows, [first, first + int(record["rows"])])
        if high > low:
            tasks.append(
                {
                    "prepared": record["prepared"],
                    "offset": layout["offsets"][int(record["file"])],
                    "rows": sample_rows[low:high].tobytes(),
                }
            )
    ds = ray.data.from_items(tasks, override_num_blocks=len(tasks)).map_batches(
        _pick_rows, batch_size=1, batch_format="pandas"
    )
    parts = [b for b in ds.iter_batches(batch_size=None, batch_format="pandas") if len(b)]
    frame = pd.concat(parts, ignore_index=True, sort=False).sort_values("__global", kind="stable")
    columns = layout["columns"]
    inputs = frame.reindex(columns=[f"in:{c}" for c in columns]).fillna("").astype(str)
    inputs.columns = pd.Index(columns, dtype=object)
    report = LoadReport(
        filename=layout["report"].filename,
        format=layout["report"].format,
        sha256=layout["report"].sha256,
        rows_read=len(inputs),
        columns=tuple(columns),
    )
    return LoadedTable(
        frame=inputs.reset_index(drop=True), report=report, row_status=(STATUS_OK,) * len(inputs)
    )


def _bank(sample: RunResult, sample_rows: np.ndarray, *, config: RunConfig) -> dict[str, Any]:
    """What every assign actor needs from the fitted sample (shipped once through the object store)."""
    from pipeline.centring import language_shifts, shift_languages

    vectors = np.ascontiguousarray(sample.embeddings.vectors, dtype=np.float32)
    unique = sample.documents.unique_rows
    languages = np.asarray([sample.languages[i] for i in unique], dtype=object)
    # The per-language shifts pipeline.centring applied to the sample, for every other row too.
    shifts = language_shifts(vectors, languages) if config.centre_languages else {}
    structure = shift_languages(vectors, languages, shifts)

    return {
        "vectors": structure,
        "space": np.ascontiguousarray(sample.reduction.cluster_space, dtype=np.float32),
        "map": np.ascontiguousarray(sample.reduction.map_2d, dtype=np.float32),
        "labels": sample.clustering.labels.astype(np.int64),
        "sentiment": None if sample.sentiment is None else sample.sentiment.scores.astype(np.float32),
        "languages": languages.astype(str),
        "shifts": shifts,
        "rows": sample_rows[unique].astype(np.int64),
        "k": int(sample.reduction.params.get("n_neighbors", 15)),
        "prior": dict(Counter(str(code) for code in languages if code and code != "und")),
        "names": sample.topic_names(),
        "theme_of": sample.topic_themes(),
        "theme_names": sample.theme_names(),
    }


def _assemble(
    sample: RunResult,
    *,
    files: InputFiles,
    records: list[dict[str, Any]],
    layout: dict[str, Any],
    counts: list[dict[str, Any]],
    n_unique: int,
    dups_by_file: dict[int, int],
    fit_rows: int,
    text_column_reason: str,
    config: RunConfig,
    seconds: dict[str, float],
    details: dict[str, Any],
    parts: Path,
) -> RunResult:
    """The sample's result with the whole input's counts."""
    from pipeline.types import Ledger

    by_topic: dict[int, Counter[str]] = {}
    truncated = embedded = 0
    for block in counts:
        truncated += int(block["truncated"])
        embedded += int(block["embedded"])
        for topic, languages in block["topics"].items():
            by_topic.setdefault(int(topic), Counter()).update(languages)
    sizes = {topic: sum(langs.values()) for topic, langs in by_topic.items()}
    with_topic = max(1, sum(sizes.values()))
    topics = tuple(
        replace(
            t,
            size=int(sizes.get(t.id, 0)),
            share=round(sizes.get(t.id, 0) / with_topic, 6),
            languages=dict(by_topic.get(t.id, Counter()).most_common()),
        )
        for t in sample.topics
    )
    themes = tuple(
        replace(
            theme,
            size=(size := int(sum(sizes.get(t, 0) for t in theme.topic_ids))),
            share=round(size / with_topic, 6),
        )
        for theme in sample.themes
    )
    excluded = Counter[str]()
    by_file: dict[int, Counter[str]] = {}
    for record in records:
        statuses = Counter(json.loads(record["statuses"]))
        excluded.update({k: v for k, v in statuses.items() if k != STATUS_OK})
        by_file.setdefault(int(record["file"]), Counter()).update(statuses)
    for index, n in dups_by_file.items():  # counted "ok" by prepare, which sees one part at a time
        by_file[index]["duplicate"] += n
        by_file[index][STATUS_OK] -= n
        excluded["duplicate"] += n
    load_report: LoadReport = layout["report"]
    altered = Counter(issue.reason for issue in layout["text_issues"])
    altered.update(i.reason for i in load_report.issues if i.reason != "bad_line" and i.row >= 0)
    if truncated:
        altered["model_truncated"] += truncated
    ledger = Ledger(
        rows_read=int(layout["rows"]),
        rows_clustered=n_unique,
        excluded=dict(excluded),
        altered=dict(altered),
    )
    languages = Counter[str]()
    for langs in by_topic.values():
        languages.update(langs)
    languages.pop("", None)
    language_counts = dict(languages.most_common())
    from pipeline.embedders.coverage import language_coverage

    manifest = dict(sample.manifest)
    timings = dict(manifest.get("timings_s") or {})
    timings = {f"sample_{k}": v for k, v in timings.items()}
    timings.update({k: round(v, 3) for k, v in seconds.items()})
    per_file = []
    for index, source in enumerate(load_report.sources):
        reasons = by_file.get(index, Counter())
        clustered = reasons.pop(STATUS_OK, 0)
        per_file.append(
            {
                "file": source.name,
                "rows_read": source.rows,
                "rows_clustered": int(clustered),
                "excluded": {k: int(v) for k, v in reasons.items() if v},
            }
        )
    details = dict(details)
    details["streamed"] = {
        "rows": int(layout["rows"]),
        "fit_rows": fit_rows,
        "parts": len(records),
        "embedded_rows": embedded,
        "assignment": (
            f"each row takes the vote of its {ASSIGN_NEIGHBOURS} nearest fitted texts in the clustering "
            "space, its map position and sentiment score the weighted mean over its nearest fitted texts"
        ),
        "estimated_from_sample": (
            f"topic names and keywords, sentiment shares, ratings, trends, examples and the map come from "
            f"the {fit_rows:,} fitted texts"
        ),
        "not_computed": ["near-duplicate groups", "other-topic mentions"],
    }
    from pipeline.engines.local import _jsonable_config

    manifest.update(
        {
            "config": _jsonable_config(config),  # what the user asked for, not the sample run's settings
            "input_filename": load_report.filename,
            "input_sha256": load_report.sha256,
            "input": load_report.to_dict(),
            "text_column_reason": text_column_reason,
            "embeddings_computed": embedded + int(manifest.get("embeddings_computed") or 0),
            "outlier_share": round(sizes.get(-1, 0) / with_topic, 4),
            "languages": language_counts,
            "language_coverage": language_coverage(
                model_name=str(manifest.get("model_name")), languages=language_counts
            ),
            "timings_s": timings,
            "ledger": ledger.to_dict(),
            "engine": "ray",
            "engine_details": details,
            "ledger_by_file": per_file,
        }
    )
    documents = replace(
        sample.documents, issues=tuple(layout["text_issues"]), text_column_reason=text_column_reason
    )
    return replace(
        sample,
        load_report=load_report,
        documents=documents,
        topics=topics,
        themes=themes,
        ledger=ledger,
        manifest=manifest,
        row_parts=parts,
    )


# ------------------------------------------------------------------------- what the workers run
def _prepare(
    batch: pd.DataFrame, *, options: Any, text_column: str, max_chars: int, finders: list[Any]
) -> pd.DataFrame:
    """Read one shard, normalise its texts, hash them to the duplicate finders; write the prepared
    rows, return the counts."""
    from pipeline.engines.ray import normalise_block
    from pipeline.load.stream import iter_batches

    shard = batch.iloc[0].to_dict()
    frames, load_issues, text_issues = [], [], []
    statuses = Counter[str]()
    ok_rows: list[np.ndarray] = []
    hashes: list[np.ndarray] = []
    columns: list[str] = []
    rows = 0
    error = ""
    groups = shard["groups"]
    for part in iter_batches(
        Path(shard["path"]), file_index=int(shard["file"]), options=options,
        row_groups=json.loads(groups) if groups else None, first_row=int(shard["first"]),
    ):  # fmt: skip
        n = len(part.frame)
        columns += [str(c) for c in part.frame.columns if str(c) not in columns]
        load_issues += [[i.row, i.line, i.reason, i.detail] for i in part.issues]
        local = np.arange(part.first_row, part.first_row + n, dtype=np.int64)
        if text_column in part.frame.columns:
            cells = part.frame[text_column].astype(str)
        elif n:
            error = error or (
                f"The text column {text_column!r} is not in {Path(shard['path']).name} (its columns: "
                f"{', '.join(map(str, part.frame.columns))}). Give --text-column."
            )
            cells = pd.Series([""] * n, dtype=object)
        else:
            cells = pd.Series([], dtype=object)
        docs, status = normalise_block(cells.tolist(), list(part.row_status), max_chars=max_chars)
        text_issues += [[int(local[i.row]), i.reason, i.detail] for i in docs.issues]
        statuses.update(s.split(":", 1)[0] for s in status)
        ok = np.asarray([s == STATUS_OK for s in status], dtype=bool)
        ok_rows.append(local[ok])
        hashes.append(_hashes([t for t, good in zip(docs.texts, ok, strict=True) if good]))
        frame = part.frame.add_prefix("in:")
        frame.insert(0, "__row", local)
        frame.insert(1, "__status", status)
        frame.insert(2, "__text", list(docs.texts))
        frames.append(frame)
        rows += n
    prepared = pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()
    prepared.to_parquet(shard["prepared"], index=False)
    import ray

    keys = (int(shard["file"]) << KEY_BITS) | (
        np.concatenate(ok_rows) if ok_rows else np.zeros(0, dtype=np.int64)
    )
    all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    owner = (all_hashes % np.uint64(len(finders))).astype(np.int64)
    ray.get([f.add.remote(keys[owner == i], all_hashes[owner == i]) for i, f in enumerate(finders)])
    return pd.DataFrame(
        {
            "shard": [int(shard["shard"])],
            "file": [int(shard["file"])],
            "first": [int(shard["first"])],
            "rows": [rows],
            "prepared": [shard["prepared"]],
            "columns": [json.dumps(columns, ensure_ascii=False)],
            "statuses": [json.dumps(statuses)],
            "load_issues": [json.dumps(load_issues, ensure_ascii=False)],
            "text_issues": [json.dumps(text_issues, ensure_ascii=False)],
            "error": [error],
        }
    )


def _hashes(texts: list[str]) -> np.ndarray:
    """A 64-bit BLAKE2b hash per text: the same on every worker (Python's ``hash`` is salted per process)."""
    out = np.empty(len(texts), dtype=np.uint64)
    for i, text in enumerate(texts):
        out[i] = int.from_bytes(
            hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
        )
    return out


def _pick_rows(batch: pd.DataFrame) -> pd.DataFrame:
    task = batch.iloc[0].to_dict()
    frame = pd.read_parquet(task["prepared"])
    wanted = np.frombuffer(task["rows"], dtype=np.int64) - int(task["offset"])
    picked = frame[frame["__row"].isin(wanted)].copy()
    picked.insert(0, "__global", picked["__row"].to_numpy(dtype=np.int64) + int(task["offset"]))
    return picked.drop(columns=["__row", "__status", "__text"])


class _AssignPart:
    """One actor: the embedder, the fitted sample's neighbour search and vote; one prepared part per call."""

    def __init__(
        self,
        payload: dict[str, Any],
        bank: list[Any],
        columns: list[str],
        finders: list[Any],
        offsets: np.ndarray,
    ) -> None:
        import ray
        from sklearn.neighbors import KNeighborsClassifier

        from pipeline.engines.ray import actor_embedder
        from pipeline.reduce import placement_search

        self.embedder = actor_embedder(payload)
        self.bank = ray.get(bank[0])
        self.columns = columns
        self.finders = finders
        self.offsets = np.asarray(offsets, dtype=np.int64)
        on_gpu = str(getattr(self.embedder, "device", "")).startswith("cuda")
        self.search = placement_search(self.bank["vectors"], device="cuda" if on_gpu else "cpu")
        labels = self.bank["labels"]
        self.vote = KNeighborsClassifier(n_neighbors=min(ASSIGN_NEIGHBOURS, len(labels)), weights="distance")
        self.vote.fit(self.bank["space"], labels)
        layouts = [self.bank["space"], self.bank["map"]]
        if self.bank["sentiment"] is not None:
            layouts.append(self.bank["sentiment"][:, None])
        self.layouts = layouts

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from pipeline.engines.ray import BLOCK_ROWS

        task = batch.iloc[0].to_dict()
        frame = pd.read_parquet(task["prepared"])
        n = len(frame)
        rows = frame["__row"].to_numpy(dtype=np.int64) + int(task["offset"])
        status = frame["__status"].astype(str).to_numpy(dtype=object)
        import ray

        low, high = task["keys"]
        found = ray.get([finder.duplicates_in.remote(int(low), int(high)) for finder in self.finders])
        dup_keys = np.concatenate([keys for keys, _ in found])
        if len(dup_keys):
            firsts = _rows_of(np.concatenate([first for _, first in found]), self.offsets)
            where = np.searchsorted(rows, _rows_of(dup_keys, self.offsets))
            status[where] = [f"duplicate_of:{first}" for first in firsts.tolist()]
        ok = np.asarray([s == STATUS_OK or s.startswith("duplicate_of:") for s in status], dtype=bool)
        index = np.flatnonzero(ok)
        texts = frame["__text"].astype(str).to_numpy(dtype=object)[index].tolist()
        labels = np.full(n, -2, dtype=np.int64)
        coords = np.full((n, 2), np.nan, dtype=np.float64)
        scores = np.full(n, np.nan, dtype=np.float64)
        languages = np.full(n, "", dtype=object)
        truncated = 0
        for start in range(0, len(index), BLOCK_ROWS):
            chunk = index[start : start + BLOCK_ROWS]
            got = self._assign(texts[start : start + BLOCK_ROWS])
            labels[chunk], coords[chunk], languages[chunk] = got["labels"], got["map"], got["languages"]
            if got["sentiment"] is not None:
                scores[chunk] = got["sentiment"]
            truncated += got["truncated"]
        fitted = self.bank["rows"]  # the fitted sample's own rows keep what the sample run gave them
        position = np.searchsorted(fitted, rows)
        mine = (position < len(fitted)) & (fitted[np.minimum(position, len(fitted) - 1)] == rows)
        if mine.any():
            at = position[mine]
            labels[mine] = self.bank["labels"][at]
            coords[mine] = self.bank["map"][at]
            languages[mine] = self.bank["languages"][at]
            if self.bank["sentiment"] is not None:
                scores[mine] = self.bank["sentiment"][at]
        out = self._frame(frame, rows, status, labels, coords, scores, languages, source=str(task["source"]))
        out.to_parquet(task["out"], index=False)
        from pipeline.export import to_csv_bytes

        Path(task["csv"]).write_bytes(to_csv_bytes(out, bom=False, header=False))  # joined by the driver
        topics: dict[str, Counter[str]] = {}
        has = labels != -2
        for label, language in zip(labels[has].tolist(), languages[has].tolist(), strict=True):
            topics.setdefault(str(label), Counter())[str(language)] += 1
        summary = {"rows": n, "embedded": len(index), "truncated": truncated, "topics": topics}
        return pd.DataFrame({"counts": [json.dumps(summary)]})

    def _assign(self, texts: list[str]) -> dict[str, Any]:
        from pipeline.embed import embed_texts
        from pipeline.languages import classify_languages, decide_with_prior
        from pipeline.reduce import place

        decided = dict(zip(texts, classify_languages(texts), strict=True))
        decided = decide_with_prior(decided, prior=self.bank["prior"])
        languages = np.asarray([decided[t][0] for t in texts], dtype=object)
        vectors = embed_texts(texts, embedder=self.embedder, cache=None).vectors
        limit = self.embedder.max_chars_hint
        truncated = sum(1 for t in texts if limit and len(t) > limit)
        from pipeline.centring import shift_languages

        structure = shift_languages(vectors, languages, self.bank["shifts"])
        placed = place(structure, self.layouts, self.search, n_neighbors=self.bank["k"])
        return {
            "labels": self.vote.predict(placed[0]).astype(np.int64),
            "map": placed[1],
            "sentiment": placed[2][:, 0] if len(placed) > 2 else None,
            "languages": languages,
            "truncated": truncated,
        }

    def _frame(
        self,
        frame: pd.DataFrame,
        rows: np.ndarray,
        status: np.ndarray,
        labels: np.ndarray,
        coords: np.ndarray,
        scores: np.ndarray,
        languages: np.ndarray,
        *,
        source: str,
    ) -> pd.DataFrame:
        """The columns of ``assignments.csv`` for one part (:func:`pipeline.export.assignment_rows`)."""
        from pipeline.export import assignment_rows
        from pipeline.sentiment.base import LABELS, codes_from_scores

        excluded = labels == -2
        sentiment = None
        if self.bank["sentiment"] is not None:
            codes = codes_from_scores(np.nan_to_num(scores))
            sentiment = {
                "sentiment": pd.Series(
                    ["" if bad else LABELS[int(c) + 1] for c, bad in zip(codes, excluded, strict=True)],
                    dtype=object,
                ),
                "sentiment_score": np.round(scores, 4),
            }
        inputs = frame.reindex(columns=[f"in:{c}" for c in self.columns]).fillna("").astype(str)
        inputs.columns = pd.Index(self.columns, dtype=object)
        return assignment_rows(
            rows=rows,
            labels=labels,
            coords=coords,
            languages=languages.tolist(),
            status=status.tolist(),
            names=self.bank["names"],
            theme_of=self.bank["theme_of"],
            theme_names=self.bank["theme_names"],
            other_topics=[""] * len(rows),
            sentiment=sentiment,
            near_duplicates=None,  # not computed for streamed runs
            sources=[source] * len(rows),
            inputs=inputs,
        )


__all__ = ["estimate_rows", "release", "run_streamed", "wants_stream"]
