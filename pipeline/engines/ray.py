"""The Ray engine (extra ``[ray]``): the per-row stages as Ray Data jobs, the fits on the driver.

Read (one task per Parquet row-group range or per file), normalise, language detection, embedding
(an actor pool: one CPU actor per core for the bundled models, one per GPU with ``num_gpus=1``
for Qwen3 on CUDA, a few for an OpenAI-compatible server), placement of the rows UMAP was not
fitted on, assignment of the rows clustering was not fitted on, and tokenisation run as
``map_batches`` over blocks. UMAP and the clusterer are fitted on the driver on the same seeded
sample the local engine fits on above ``umap_fit_rows`` (25,000 by default); everything after
the per-row stages (topics, names, themes, the manifest) is the local engine's own code
(:mod:`pipeline.engines.stages`), so both engines write the same outputs.

Where the input fits in one fitted sample, every stage computes exactly what the local engine
computes, so the topics are the same. Above it, the rows the clusterer was not fitted on take the
vote of their 15 nearest fitted rows in the clustering space (the local engine clusters every
row), which keeps the driver's clustering cost flat in the number of rows.

Between stages the driver holds what the local engine holds (texts, vectors, coordinates), since
the report and the saved run need them; ``docs``: README "Ray".
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import RunConfig
from pipeline.embedders.base import Embedder
from pipeline.engines.stages import Stages
from pipeline.errors import ConfigError
from pipeline.load.stream import InputFiles
from pipeline.progress import ProgressCallback, no_progress
from pipeline.types import (
    STATUS_OK,
    Clustering,
    Documents,
    Embeddings,
    LoadedTable,
    LoadOptions,
    Reduction,
    RowIssue,
)

logger = logging.getLogger(__name__)

BLOCK_ROWS = 16_384
"""Rows per block the driver hands to Ray (and per ``map_batches`` batch)."""
ASSIGN_NEIGHBOURS = 15
MISSING_EXTRA = "--engine ray needs Ray, an optional extra: pip install 'feedback-topics[ray]'."


def run(
    data: bytes | InputFiles | LoadedTable,
    *,
    filename: str = "",
    config: RunConfig,
    progress: ProgressCallback | None = None,
    embedder: Embedder | None = None,
    load_embedder: Any = None,
) -> Any:
    """Run the pipeline with the per-row stages on Ray (arguments as :func:`pipeline.run.run`).

    Raises:
        ConfigError: Ray is not installed (``code="ray_missing"``) or the cluster at
            ``config.ray_address`` cannot be reached (``code="ray_unreachable"``).
    """
    from pipeline.engines import resolve_engine
    from pipeline.engines.local import run as run_local

    ray = import_ray()
    started = connect(config.ray_address)
    try:
        _, reason = resolve_engine("ray", ray_address=config.ray_address)
        from pipeline.engines.ray_stream import run_streamed, wants_stream

        if wants_stream(data, config):  # more rows than the driver should hold
            assert isinstance(data, InputFiles)
            return run_streamed(
                data,
                config=config,
                progress=progress,
                embedder=embedder,
                load_embedder=load_embedder,
                reason=f"{reason}; streamed (over {config.ray_stream_rows:,} rows: the driver keeps the fitted sample)",
            )
        stages = RayStages(config=config, progress=progress or no_progress).stages(reason)
        return run_local(
            data,
            filename=filename,
            config=config,
            progress=progress,
            embedder=embedder,
            load_embedder=load_embedder,
            stages=stages,
        )
    finally:
        if started:
            ray.shutdown()


def import_ray() -> Any:
    """The ``ray`` module, or one clear error naming the extra."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigError(MISSING_EXTRA, code="ray_missing") from None
    return ray


def connect(address: str | None) -> bool:
    """Join the cluster at ``address`` (or start a local Ray); True when this call started Ray.

    Raises:
        ConfigError: The address does not answer (``code="ray_unreachable"``).
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address and address != "auto":
        _check_reachable(address)
    try:
        ray.init(
            address=address or None,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            ignore_reinit_error=True,
        )
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        raise ConfigError(
            f"Cannot reach the Ray cluster at {address or 'this machine'} ({type(exc).__name__}). Start it "
            "with 'ray start --head' or check --ray-address.",
            code="ray_unreachable",
            detail=repr(exc),
        ) from None
    return True


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, not minutes, when nothing listens at ``host:port``."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port_text = hostport.rpartition(":")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(
            f"--ray-address must be host:port, ray://host:port or auto (got {address!r}).",
            code="ray_address",
        ) from None
    try:
        with socket.create_connection((host or "127.0.0.1", port), timeout=timeout):
            pass
    except OSError as exc:
        raise ConfigError(
            f"Cannot reach the Ray cluster at {address} ({exc.strerror or type(exc).__name__}). Start it "
            "with 'ray start --head' or check --ray-address.",
            code="ray_unreachable",
            detail=repr(exc),
        ) from None


# ------------------------------------------------------------------------------------ the stages
class RayStages:
    """The Ray version of each per-row stage; keeps the fitted sample between reduce and cluster."""

    def __init__(self, *, config: RunConfig, progress: ProgressCallback) -> None:
        import ray

        self.config = config
        self.progress = progress
        self.fit_rows: np.ndarray | None = None
        self.fit_vectors: np.ndarray | None = None
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the CLI draws its own per-stage bars
        context.enable_operator_progress_bars = False
        logging.getLogger("ray.data").setLevel(max(logging.WARNING, logging.getLogger("ray.data").level))
        resources = ray.cluster_resources()
        self.cpus = max(1, int(resources.get("CPU", 1)))
        self.gpus = int(resources.get("GPU", 0))
        self.details: dict[str, Any] = {
            "ray_version": ray.__version__,
            "cluster_cpus": self.cpus,
            "cluster_gpus": self.gpus,
            "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
            "block_rows": BLOCK_ROWS,
        }
        self.seconds: dict[str, dict[str, float]] = {"ray": {}, "driver": {}}
        """Seconds per step on Ray (jobs, results included) and on the driver (``engine_details``)."""
        self.details["seconds"] = self.seconds

    @contextmanager
    def _timed(self, where: str, step: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            spent = self.seconds[where]
            spent[step] = round(spent.get(step, 0.0) + time.perf_counter() - start, 3)

    def stages(self, reason: str) -> Stages:
        return Stages(
            engine="ray",
            reason=reason,
            load=self.load,
            documents=self.documents,
            languages=self.languages,
            embed=self.embed,
            reduce=self.reduce,
            cluster=self.cluster,
            tokenize=self.tokenize,
            details=self.details,
        )

    # ---------------------------------------------------------------------------------- read
    def load(self, data: bytes | InputFiles, *, filename: str, options: LoadOptions) -> LoadedTable:
        if not isinstance(data, InputFiles):  # one file's bytes: read here, as the local engine does
            from pipeline.load import load_table

            return load_table(data, filename=filename, options=options)
        import ray

        from pipeline.errors import LoadError
        from pipeline.load.stream import combine_reports, describe_file

        shards = _shards(data, options=options)
        ds = ray.data.from_items(shards, override_num_blocks=len(shards)).map_batches(
            _ReadShard, fn_constructor_kwargs={"options": options}, batch_size=1, batch_format="pandas",
            compute=_pool(self.cpus),
        )  # fmt: skip
        with self._timed("ray", "read"):
            parts = sorted(_collect(ds), key=lambda f: (int(f["__file"].iat[0]), int(f["__row"].iat[0])))
        if not parts:
            raise LoadError(f"{data.label} has no data rows.", code="no_rows")
        frame = pd.concat(parts, ignore_index=True, sort=False)
        counts = frame["__file"].value_counts().to_dict()
        sources, offsets, offset = [], {}, 0
        for index, path in enumerate(data.paths):
            rows = int(counts.get(index, 0))
            sources.append(describe_file(path, rows=rows, first_row=offset, options=options))
            offsets[index] = offset
            offset += rows
        issues: list[RowIssue] = []
        for file_index, text in zip(frame["__file"], frame["__issues"], strict=True):
            if text:
                issues += [
                    RowIssue(offsets[int(file_index)] + r, line, reason, detail)
                    for r, line, reason, detail in json.loads(text)
                ]
        status = tuple(frame["__status"].astype(str))
        columns = [c for c in frame.columns if c.startswith("in:")]
        table = frame[columns].fillna("").astype(str)
        table.columns = pd.Index([c[3:] for c in columns], dtype=object)
        report = combine_reports(data, sources, columns=list(table.columns), issues=issues)
        return LoadedTable(frame=table.reset_index(drop=True), report=report, row_status=status)

    # ----------------------------------------------------------------------------- normalise
    def documents(self, table: LoadedTable, *, text_column: str | None, max_chars: int) -> Documents:
        from pipeline.documents import detect_text_column, prepare_documents

        if text_column is None:
            text_column, reason = detect_text_column(table.frame)
        else:
            head = LoadedTable(table.frame.head(1), table.report, table.row_status[:1])
            prepare_documents(head, text_column=text_column, max_chars=max_chars)  # unknown column fails here
            reason = "given"
        frame = pd.DataFrame(
            {"row": np.arange(len(table.frame)), "cell": table.frame[text_column], "status": table.row_status}
        )
        lines = {issue.row: issue.line for issue in table.report.issues if issue.row >= 0}
        with self._timed("ray", "normalise"):
            out = _collect(
                self._blocks(frame).map_batches(
                    _normalise,
                    fn_kwargs={"max_chars": max_chars},
                    batch_size=BLOCK_ROWS,
                    batch_format="pandas",
                )
            )
        done = pd.concat(out, ignore_index=True).sort_values("row", kind="stable")
        texts = done["text"].astype(str).tolist()
        status = done["status"].astype(str).tolist()
        first_seen: dict[str, int] = {}
        with self._timed("driver", "dedupe"):
            for row, (text, state) in enumerate(zip(texts, status, strict=True)):
                if state == STATUS_OK:  # duplicates over all rows, as prepare_documents marks them
                    first = first_seen.setdefault(text, row)
                    if first != row:
                        status[row] = f"duplicate_of:{first}"
        issues = [
            RowIssue(int(row), lines.get(int(row), 0), reason, detail)
            for row, text in zip(done["row"], done["issues"], strict=True)
            if text
            for reason, detail in json.loads(text)
        ]
        return Documents(
            texts=tuple(texts),
            status=tuple(status),
            text_column=str(text_column),
            text_column_reason=reason,
            issues=tuple(issues),
        )

    # ------------------------------------------------------------------------------ languages
    def languages(self, texts: Sequence[str]) -> list[str]:
        from pipeline.languages import decide_with_prior

        frame = pd.DataFrame({"i": np.arange(len(texts)), "text": list(texts)})
        with self._timed("ray", "languages"):
            blocks = self._blocks(frame).map_batches(_classify, batch_size=BLOCK_ROWS, batch_format="pandas")
            out = pd.concat(_collect(blocks), ignore_index=True).sort_values("i")
        decided = dict(
            zip(
                out["text"],
                zip(out["code"].astype(str), out["confidence"].astype(float), strict=True),
                strict=True,
            )
        )
        with self._timed("driver", "language_prior"):
            decided = decide_with_prior(decided)  # the file's prior over every text, on the driver
        return [decided[text][0] for text in texts]

    # ---------------------------------------------------------------------------------- embed
    def embed(
        self, texts: Sequence[str], *, embedder: Embedder, cache: Any = None, progress: Any = None
    ) -> Embeddings:
        """Embed on an actor pool; the on-disk cache is not used (each node would need its own)."""
        import ray

        from pipeline.embedders.registry import EMBEDDERS

        n = len(texts)
        if n == 0:
            return Embeddings(
                np.zeros((0, embedder.dim), dtype=np.float32), embedder.model_id, embedder.device
            )
        by_name = EMBEDDERS.get(embedder.name) is not None and embedder.name != "fake"
        payload, options, size = embed_pool(
            name=embedder.name, device=str(embedder.device), instance=None if by_name else embedder,
            model_options=self.config.model_options, cpus=self.cpus, gpus=self.gpus,
        )  # fmt: skip
        self.details["embed_actors"] = size
        self.details["embed_actor_resources"] = options
        frame = pd.DataFrame({"i": np.arange(n), "text": list(texts)})
        ds = self._blocks(frame).map_batches(
            _EmbedActor, fn_constructor_kwargs={"payload": payload}, batch_size=BLOCK_ROWS,
            batch_format="pandas", compute=ray.data.ActorPoolStrategy(min_size=1, max_size=size), **options,
        )  # fmt: skip
        vectors = np.empty((n, embedder.dim), dtype=np.float32)
        done = 0
        truncated = 0
        with self._timed("ray", "embed"):
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                index = np.asarray(batch["i"], dtype=np.int64)
                vectors[index] = _stack(batch["vec"])
                truncated += int(np.asarray(batch["truncated"]).sum())
                done += len(index)
                if progress is not None:
                    progress(done, n)
        return Embeddings(
            vectors=vectors,
            model=embedder.model_id,
            device=embedder.device,
            n_computed=n,
            n_truncated=truncated,
        )

    # --------------------------------------------------------------------------------- reduce
    def reduce(
        self,
        vectors: np.ndarray,
        *,
        seed: int,
        fit_sample: int,
        progress: ProgressCallback | None = None,
        device: str = "auto",
        n_neighbors: int = 15,
    ) -> Reduction:
        """UMAP on the driver on the local engine's seeded sample; the other rows placed on Ray."""
        from pipeline.reduce import _normalise_map, reduce

        n = len(vectors)
        if n <= fit_sample:
            return reduce(vectors, seed=seed, fit_sample=fit_sample, progress=progress, device=device)
        report = progress or no_progress
        rng = np.random.default_rng(seed)
        fit_rows = np.sort(rng.choice(n, size=fit_sample, replace=False))
        rest = np.setdiff1d(np.arange(n), fit_rows, assume_unique=True)
        fit_vectors = np.ascontiguousarray(vectors[fit_rows], dtype=np.float32)
        with self._timed("driver", "umap_fit"):
            fitted = reduce(fit_vectors, seed=seed, fit_sample=fit_sample, progress=progress, device=device)
        self.fit_rows, self.fit_vectors = fit_rows, fit_vectors
        space = np.empty((n, fitted.cluster_space.shape[1]), dtype=np.float32)
        map_2d = np.empty((n, 2), dtype=np.float32)
        space[fit_rows], map_2d[fit_rows] = fitted.cluster_space, fitted.map_2d
        report("reduce", 3, 4)
        import ray

        bank = ray.put({"vectors": fit_vectors, "space": fitted.cluster_space, "map": fitted.map_2d})
        k = int(fitted.params.get("n_neighbors", n_neighbors))
        frame = pd.DataFrame({"i": rest})
        placed = self._blocks(frame).map_batches(
            _Place, fn_constructor_kwargs={"bank": [bank], "vectors": [ray.put(vectors)], "k": k},
            batch_size=BLOCK_ROWS, batch_format="numpy", compute=_pool(self.cpus),
        )  # fmt: skip
        with self._timed("ray", "place"):
            for batch in placed.iter_batches(batch_size=None, batch_format="numpy"):
                index = np.asarray(batch["i"], dtype=np.int64)
                space[index] = _stack(batch["space"])
                map_2d[index] = _stack(batch["map"])
        report("reduce", 4, 4)
        params = dict(fitted.params)
        params.update(
            fit_rows=len(fit_rows),
            placed_rows=len(rest),
            placement="weighted mean of the nearest fitted neighbours (exact search, on Ray workers)",
        )
        # The map's centring and scale are affine-equivariant: normalising all rows here gives the
        # local engine's map for the same fitted sample.
        return Reduction(cluster_space=space, map_2d=_normalise_map(map_2d), params=params)

    # -------------------------------------------------------------------------------- cluster
    def cluster(self, space: np.ndarray, *, vectors: np.ndarray | None = None, **options: Any) -> Clustering:
        """The clusterer fitted on the driver on the fitted sample; the other rows vote on Ray."""
        from pipeline.cluster import _renumber_by_size, cluster

        fit_rows = self.fit_rows
        if fit_rows is None or len(fit_rows) >= len(space):
            return cluster(space, vectors=vectors, **options)
        with self._timed("driver", "cluster_fit"):
            sample = cluster(
                space[fit_rows], vectors=None if vectors is None else vectors[fit_rows], **options
            )
        labels = np.empty(len(space), dtype=np.int64)
        labels[fit_rows] = sample.labels
        rest = np.setdiff1d(np.arange(len(space)), fit_rows, assume_unique=True)
        import ray

        bank = ray.put({"space": np.ascontiguousarray(space[fit_rows]), "labels": sample.labels})
        frame = pd.DataFrame({"i": rest})
        frame["space"] = list(np.ascontiguousarray(space[rest]))
        voted = self._blocks(frame).map_batches(
            _Assign, fn_constructor_kwargs={"bank": [bank]}, batch_size=BLOCK_ROWS, batch_format="numpy",
            compute=_pool(self.cpus),
        )  # fmt: skip
        with self._timed("ray", "assign"):
            for batch in voted.iter_batches(batch_size=None, batch_format="numpy"):
                labels[np.asarray(batch["i"], dtype=np.int64)] = np.asarray(batch["label"], dtype=np.int64)
        labels = _renumber_by_size(labels)
        params = dict(sample.params)
        params.update(
            fit_rows=len(fit_rows),
            assigned_rows=len(rest),
            assignment=f"vote of the {ASSIGN_NEIGHBOURS} nearest fitted rows in the clustering space (Ray)",
        )
        n_found = len(np.unique(labels[labels >= 0]))
        return Clustering(
            labels=labels, method=sample.method, n_topics=n_found, params=params, reason=sample.reason
        )

    # ------------------------------------------------------------------------------- tokenise
    def tokenize(self, texts: Sequence[str], languages: Sequence[str]) -> list[list[list[str]]]:
        frame = pd.DataFrame({"i": np.arange(len(texts)), "text": list(texts), "lang": list(languages)})
        with self._timed("ray", "tokenize"):
            blocks = self._blocks(frame).map_batches(_tokenize, batch_size=BLOCK_ROWS, batch_format="pandas")
            out = pd.concat(_collect(blocks), ignore_index=True).sort_values("i")
            return [json.loads(p) for p in out["phrases"]]

    # -------------------------------------------------------------------------------- helpers
    def _blocks(self, frame: pd.DataFrame) -> Any:
        import ray

        parts = [frame.iloc[i : i + BLOCK_ROWS] for i in range(0, len(frame), BLOCK_ROWS)] or [frame]
        return ray.data.from_pandas(parts)


def embed_pool(
    *, name: str, device: str, instance: Embedder | None, model_options: dict[str, Any], cpus: int, gpus: int
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """``(payload, Ray resources per actor, actors)`` of an embedding actor pool (:func:`actor_embedder`).

    A registry model (``instance`` ``None``) is rebuilt in each actor from its name: one actor per
    GPU for a model on CUDA, a few light client actors for ``openai``, else one per CPU. An embedder
    object the caller made (tests, benchmarks) is shipped as it is, one actor per CPU.
    """
    options: dict[str, Any] = {"num_cpus": 1}
    if instance is not None:
        return {"instance": instance}, options, cpus
    on = "cuda" if device.startswith("cuda") else "cpu"
    payload = {"name": name, "options": dict(model_options), "device": on}
    if on == "cuda":
        return payload, {"num_gpus": 1}, max(1, gpus)
    if name == "openai":
        return payload, {"num_cpus": 0.25}, 4
    return payload, options, cpus


def actor_embedder(payload: dict[str, Any]) -> Embedder:
    """The embedder an actor of :func:`embed_pool` uses."""
    if "instance" in payload:
        return payload["instance"]  # type: ignore[no-any-return]
    from pipeline.embedders.registry import create_embedder

    return create_embedder(payload["name"], device=payload["device"], **payload["options"])


def _pool(cpus: int) -> Any:
    import ray.data

    return ray.data.ActorPoolStrategy(min_size=1, max_size=cpus)


def _collect(ds: Any) -> list[pd.DataFrame]:
    return [b for b in ds.iter_batches(batch_size=None, batch_format="pandas") if len(b)]


def _stack(column: Any) -> np.ndarray:
    array = np.asarray(column)
    return np.stack(list(array)) if array.dtype == object else array


def _shards(files: InputFiles, *, options: LoadOptions) -> list[dict[str, Any]]:
    """One read task per Parquet row-group range of about a block, one per other file."""
    import pyarrow.parquet as pq

    shards: list[dict[str, Any]] = []
    for index, path in enumerate(files.paths):
        if path.suffix.lower() != ".parquet":
            shards.append({"path": str(path), "file": index, "groups": "", "first": 0})
            continue
        try:
            meta = pq.ParquetFile(path).metadata
        except Exception:  # unreadable: one shard, whose read reports the error
            shards.append({"path": str(path), "file": index, "groups": "", "first": 0})
            continue
        groups: list[int] = []
        first = start = 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            first += meta.row_group(g).num_rows
            if first - start >= 4 * BLOCK_ROWS or g == meta.num_row_groups - 1:
                shards.append(
                    {"path": str(path), "file": index, "groups": json.dumps(groups), "first": start}
                )
                groups, start = [], first
        if meta.num_row_groups == 0:
            shards.append({"path": str(path), "file": index, "groups": "", "first": 0})
    return shards


# ------------------------------------------------------------------------- what the workers run
class _ReadShard:
    def __init__(self, options: LoadOptions) -> None:
        self.options = options

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from pipeline.load.stream import iter_batches

        parts = []
        for shard in batch.to_dict("records"):
            groups = shard["groups"]
            for part in iter_batches(
                Path(shard["path"]), file_index=int(shard["file"]), options=self.options,
                row_groups=json.loads(groups) if groups else None, first_row=int(shard["first"]),
            ):  # fmt: skip
                frame = part.frame.add_prefix("in:")
                frame.insert(0, "__file", part.file_index)
                frame.insert(1, "__row", np.arange(part.first_row, part.first_row + len(frame)))
                frame.insert(2, "__status", list(part.row_status))
                issues: dict[int, list[Any]] = {}
                for i in part.issues:
                    issues.setdefault(i.row - part.first_row, []).append([i.row, i.line, i.reason, i.detail])
                frame.insert(
                    3, "__issues", [json.dumps(issues[r]) if r in issues else "" for r in range(len(frame))]
                )
                parts.append(frame)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def normalise_block(
    cells: Sequence[str], status: Sequence[str], *, max_chars: int
) -> tuple[Documents, list[str]]:
    """One block's cells through :func:`pipeline.documents.prepare_documents`: the documents, and each
    row's status with the block's own duplicates left ``ok`` (duplicates over all rows are the
    driver's, or the duplicate finders', to mark)."""
    from pipeline.documents import prepare_documents
    from pipeline.types import LoadReport

    table = LoadedTable(
        frame=pd.DataFrame({"t": np.asarray(cells, dtype=object)}),
        report=LoadReport(filename="", format="", sha256="", rows_read=len(cells), columns=("t",)),
        row_status=tuple(status),
    )
    docs = prepare_documents(table, text_column="t", max_chars=max_chars)
    return docs, [STATUS_OK if s.startswith("duplicate_of:") else s for s in docs.status]


def _normalise(batch: pd.DataFrame, *, max_chars: int) -> pd.DataFrame:
    docs, status = normalise_block(
        batch["cell"].astype(str).tolist(), batch["status"].astype(str).tolist(), max_chars=max_chars
    )
    issues: dict[int, list[Any]] = {}
    for issue in docs.issues:
        issues.setdefault(issue.row, []).append([issue.reason, issue.detail])
    return pd.DataFrame(
        {
            "row": batch["row"].to_numpy(),
            "text": list(docs.texts),
            "status": status,
            "issues": [json.dumps(issues[r]) if r in issues else "" for r in range(len(batch))],
        }
    )


def _classify(batch: pd.DataFrame) -> pd.DataFrame:
    from pipeline.languages import classify_languages

    decided = classify_languages(batch["text"].astype(str).tolist())
    return pd.DataFrame(
        {
            "i": batch["i"].to_numpy(),
            "text": batch["text"].to_numpy(),
            "code": [c for c, _ in decided],
            "confidence": [p for _, p in decided],
        }
    )


class _EmbedActor:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.embedder = actor_embedder(payload)

    def __call__(self, batch: pd.DataFrame) -> dict[str, np.ndarray]:
        from pipeline.embed import embed_texts

        texts = batch["text"].astype(str).tolist()
        out = embed_texts(texts, embedder=self.embedder, cache=None)
        limit = self.embedder.max_chars_hint
        truncated = np.array([bool(limit and len(t) > limit) for t in texts], dtype=bool)
        return {"i": batch["i"].to_numpy(), "vec": out.vectors, "truncated": truncated}


class _Place:
    def __init__(self, bank: list[Any], vectors: list[Any], k: int) -> None:
        import ray

        from pipeline.reduce import placement_search

        data = ray.get(bank[0])
        self.vectors = ray.get(vectors[0])
        self.fitted = [np.asarray(data["space"]), np.asarray(data["map"])]
        self.search = placement_search(np.asarray(data["vectors"]), device="cpu")
        self.k = k

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from pipeline.reduce import place

        index = np.asarray(batch["i"], dtype=np.int64)
        space, map_2d = place(self.vectors[index], self.fitted, self.search, n_neighbors=self.k)
        return {"i": index, "space": space, "map": map_2d}


class _Assign:
    def __init__(self, bank: list[Any]) -> None:
        import ray
        from sklearn.neighbors import KNeighborsClassifier

        data = ray.get(bank[0])
        labels = np.asarray(data["labels"])
        self.model = KNeighborsClassifier(n_neighbors=min(ASSIGN_NEIGHBOURS, len(labels)), weights="distance")
        self.model.fit(np.asarray(data["space"]), labels)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        space = _stack(batch["space"])
        return {
            "i": np.asarray(batch["i"], dtype=np.int64),
            "label": self.model.predict(space).astype(np.int64),
        }


def _tokenize(batch: pd.DataFrame) -> pd.DataFrame:
    from pipeline.tokenize import tokenize_many

    phrases = tokenize_many(batch["text"].astype(str).tolist(), batch["lang"].astype(str).tolist(), n_jobs=1)
    return pd.DataFrame(
        {"i": batch["i"].to_numpy(), "phrases": [json.dumps(p, ensure_ascii=False) for p in phrases]}
    )


__all__: list[str] = ["connect", "import_ray", "run"]
