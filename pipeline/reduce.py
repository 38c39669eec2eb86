"""Stage 3: UMAP to a few dimensions for clustering and to 2-D for the map.

Both projections share one k-nearest-neighbour graph, so the expensive neighbour search runs once.
Large inputs are fitted on a seeded sample and every other row is placed at the weighted mean of
its exact nearest fitted neighbours, which keeps a million rows within time and memory.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from pipeline.errors import DataError
from pipeline.progress import ProgressCallback, no_progress
from pipeline.types import Reduction

logger = logging.getLogger(__name__)

MIN_TEXTS = 8
"""Fewer distinct texts than this cannot form topics."""
DEFAULT_FIT_SAMPLE = 25_000


def reduce(
    vectors: np.ndarray,
    *,
    n_components: int = 5,
    n_neighbors: int = 15,
    seed: int = 42,
    fit_sample: int = DEFAULT_FIT_SAMPLE,
    progress: ProgressCallback | None = None,
    device: str = "auto",
) -> Reduction:
    """Project embeddings to ``n_components`` dimensions (for clustering) and to 2-D (for the map).

    Args:
        vectors: float32 array of shape (n_texts, dim), L2-normalised.
        n_components: Dimensions of the clustering space.
        n_neighbors: UMAP's neighbourhood size (capped for tiny inputs).
        seed: Random seed; the same seed and input give the same coordinates.
        fit_sample: Fit UMAP on at most this many rows and place the rest from their neighbours.
        progress: Called as ``progress("reduce", done, total)`` with done/total in steps.
        device: Where the exact neighbour search runs: ``auto``, ``cpu``, ``cuda``
            (:func:`pipeline.device.resolve_device`).

    Returns:
        A :class:`Reduction` with ``cluster_space`` and ``map_2d`` aligned with ``vectors``.

    Raises:
        DataError: Fewer than ``MIN_TEXTS`` rows.
    """
    report = progress or no_progress
    n = len(vectors)
    if n < MIN_TEXTS:
        raise DataError(
            f"Need at least {MIN_TEXTS} distinct non-empty texts to find topics (got {n}). "
            "Add more feedback rows or check that the right text column is selected.",
            code="too_few_texts",
        )
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    from pipeline.device import resolve_device

    device = resolve_device(device).device
    n_neighbors = int(min(n_neighbors, max(2, n - 1)))
    n_components = int(min(n_components, max(2, n - 2)))
    params: dict[str, Any] = {
        "method": "umap",
        "n_components": n_components,
        "n_neighbors": n_neighbors,
        "metric": "cosine",
        "seed": seed,
    }
    if _nearly_identical(vectors):
        # UMAP's spectral layout fails on a graph without structure; the map is a seeded jitter.
        rng = np.random.default_rng(seed)
        params["method"] = "jitter (texts are nearly identical)"
        space = vectors[:, :n_components] + rng.normal(0, 1e-3, size=(n, n_components))
        return Reduction(
            cluster_space=space.astype(np.float32),
            map_2d=rng.normal(0, 0.05, size=(n, 2)).astype(np.float32),
            params=params,
        )

    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, size=fit_sample, replace=False)) if n > fit_sample else np.arange(n)
    rest = np.setdiff1d(np.arange(n), fit_rows, assume_unique=True)
    params["fit_rows"] = len(fit_rows)
    params["neighbour_graph"] = (
        _search_description(device) if len(fit_rows) <= EXACT_KNN_MAX else "NN-descent (approximate)"
    )
    steps = 4 if len(rest) else 3
    report("reduce", 0, steps)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*[Cc]annot cache")
        fit_vectors = vectors[fit_rows]
        knn = _knn(fit_vectors, n_neighbors=n_neighbors, seed=seed, device=device)
        report("reduce", 1, steps)
        space = np.empty((n, n_components), dtype=np.float32)
        map_2d = np.empty((n, 2), dtype=np.float32)
        space[fit_rows] = _umap(fit_vectors, knn, n_components=n_components, min_dist=0.0, seed=seed)
        report("reduce", 2, steps)
        map_2d[fit_rows] = _umap(fit_vectors, knn, n_components=2, min_dist=0.1, seed=seed)
        report("reduce", 3, steps)
        if len(rest):
            params["placed_rows"] = len(rest)
            params["placement"] = (
                f"weighted mean of the nearest fitted neighbours ({_search_description(device)})"
            )
            _place(vectors, fit_rows, rest, outputs=(space, map_2d), n_neighbors=n_neighbors, device=device)
            report("reduce", 4, steps)
    return Reduction(cluster_space=space, map_2d=_normalise_map(map_2d), params=params)


def _nearly_identical(vectors: np.ndarray) -> bool:
    sample = vectors[: min(len(vectors), 2000)]
    return bool(np.ptp(sample, axis=0).max() < 1e-4)


EXACT_KNN_MAX = 60_000
"""Up to this many fitted rows the neighbour graph is exact (a matrix product); above, NN-descent.

The default fit sample (25k) and ``umap_fit_rows`` up to 60k therefore get an exact graph: 50k x 512
took 5.6 s on 2 AMX cores (bf16 candidates) and 11.4 s in float32, against NN-descent's ~2 s plus
~18 s of numba compilation in a fresh process.
"""


def _knn(
    vectors: np.ndarray, *, n_neighbors: int, seed: int, device: str = "cpu"
) -> tuple[np.ndarray, np.ndarray, Any]:
    if len(vectors) <= EXACT_KNN_MAX:
        indices, dists = _exact_search(vectors, device=device)(vectors, n_neighbors)
        # Each point is its own first neighbour at distance 0, as UMAP expects (identical texts
        # can tie with it, so put it first explicitly).
        for row in np.flatnonzero(indices[:, 0] != np.arange(len(vectors))):
            others = indices[row][indices[row] != row][: n_neighbors - 1]
            other_dists = dists[row][indices[row] != row][: n_neighbors - 1]
            indices[row] = np.concatenate(([row], others))
            dists[row] = np.concatenate(([0.0], other_dists))
        dists[:, 0] = 0.0
        return indices, dists, None
    from umap.umap_ import nearest_neighbors

    _keep_compiled_code()
    indices, dists, index = nearest_neighbors(
        vectors,
        n_neighbors=n_neighbors,
        metric="cosine",
        metric_kwds={},
        angular=False,
        random_state=np.random.RandomState(seed),
        low_memory=True,
        n_jobs=os.cpu_count() or 1,
    )
    return indices, dists, index


def _umap(
    vectors: np.ndarray,
    knn: tuple[np.ndarray, np.ndarray, Any],
    *,
    n_components: int,
    min_dist: float,
    seed: int,
) -> np.ndarray:
    import umap

    _keep_compiled_code()
    n = len(vectors)
    model = umap.UMAP(
        n_neighbors=knn[0].shape[1],
        n_components=n_components,
        min_dist=min_dist,
        metric="cosine",
        random_state=seed,
        precomputed_knn=knn,
        init="spectral" if n > 50 else "random",
        n_epochs=None if n <= 5_000 else 200 if n <= 20_000 else 150,
        low_memory=True,
        verbose=False,
    )
    return np.asarray(model.fit_transform(vectors), dtype=np.float32)


@lru_cache(maxsize=1)
def _keep_compiled_code() -> int:
    """Let numba store umap-learn's and pynndescent's compiled functions on disk.

    Most of them are compiled on first use in every process and never cached, which cost ~3.5 s
    of every CLI run on 2 cores (3,000 texts: reduce 11.3 s in a fresh process, 7.8 s once
    cached). numba keeps the code in the package's ``__pycache__``, or its user cache directory
    when that is read-only, and recompiles whenever the library changes. Returns how many
    functions were switched over.
    """
    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - umap-learn requires numba
        return 0
    switched = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("umap.", "pynndescent.")):
            continue
        for function in list(vars(module).values()):
            if isinstance(function, CPUDispatcher) and not function.signatures:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        function.enable_caching()
                    switched += 1
                except Exception:  # no writable cache location: numba compiles as before
                    logger.debug("numba cannot cache %s", function, exc_info=True)
    logger.debug("numba caching enabled for %d functions", switched)
    return switched


def _place(
    vectors: np.ndarray,
    fit_rows: np.ndarray,
    rest: np.ndarray,
    *,
    outputs: tuple[np.ndarray, ...],
    n_neighbors: int,
    device: str = "cpu",
) -> None:
    """Place rows that were not fitted at the weighted mean of their nearest fitted neighbours.

    This is how UMAP's own ``transform`` initialises new points; skipping its extra optimisation
    epochs makes placement a neighbour search plus an average, which keeps a million rows in
    minutes. The neighbour search is exact (see :func:`_exact_search`).
    """
    search = _exact_search(vectors[fit_rows], device=device)
    fitted = [out[fit_rows] for out in outputs]
    for start in range(0, len(rest), 65_536):
        chunk = rest[start : start + 65_536]
        placed = place(vectors[chunk], fitted, search, n_neighbors=n_neighbors)
        for out, coords in zip(outputs, placed, strict=True):
            out[chunk] = coords


def place(
    queries: np.ndarray,
    fitted: list[np.ndarray],
    search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
    *,
    n_neighbors: int,
) -> list[np.ndarray]:
    """Coordinates of ``queries`` in each of the ``fitted`` layouts: the weighted mean over their
    nearest fitted rows found by ``search`` (:func:`placement_search`). The Ray engine runs this
    per batch; :func:`reduce` over 65,536-row chunks."""
    neighbours, dists = search(queries, n_neighbors)
    # Membership weights as in UMAP's smooth kNN: the nearest neighbour counts most.
    nearest = dists[:, :1]
    spread = np.maximum(dists.mean(axis=1, keepdims=True) - nearest, 1e-6)
    weights = np.exp(-(dists - nearest) / spread)
    weights /= weights.sum(axis=1, keepdims=True)
    return [np.einsum("nk,nkd->nd", weights, layout[neighbours]).astype(np.float32) for layout in fitted]


def placement_search(
    fit_vectors: np.ndarray, *, device: str = "cpu"
) -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    """The exact neighbour search among the fitted rows that :func:`place` takes."""
    return _exact_search(fit_vectors, device=device)


RERANK_MARGIN = 12
"""Extra candidates the low-precision pass keeps per query for the exact float32 re-ranking."""


def _exact_search(
    fit_vectors: np.ndarray, *, device: str | None = None
) -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    """Exact cosine neighbours among the fitted rows, as a matrix product.

    NN-descent's query mode was measured at 69% neighbour purity on 512-d embeddings where the
    exact search gives 99.99%, so both the neighbour graph and placement use this search. Where
    the hardware multiplies half-precision matrices much faster than float32 (a GPU, or a CPU with
    AMX tiles) a half-precision pass picks ``k + RERANK_MARGIN`` candidates and float32 re-ranks
    them, which returns the float32 answer (identical neighbour sets for 99.998% of 104k real
    USE-m queries) at half the cost: on 2 AMX cores bf16 multiplies at ~1.2 TFLOP/s, float32 ~0.3.
    """
    import torch

    if device is None:
        from pipeline.device import resolve_device

        device = resolve_device("auto").device
    coarse_dtype = _coarse_dtype(device)
    bank = torch.from_numpy(np.ascontiguousarray(fit_vectors, dtype=np.float32)).to(device)
    coarse_bank = bank.to(coarse_dtype) if coarse_dtype is not None else bank
    chunk = 8192 if coarse_dtype is None else 4096

    def query(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        neighbours = np.empty((len(queries), k), dtype=np.int64)
        dists = np.empty((len(queries), k), dtype=np.float32)
        k_coarse = min(k + RERANK_MARGIN, len(bank))
        # The candidates' float32 rows are gathered into one reused buffer, a few hundred queries
        # at a time: a fresh 4096 x k x dim tensor per chunk cost more than the whole matmul.
        gathered = torch.empty((_RERANK_ROWS * k_coarse, bank.shape[1]), dtype=bank.dtype, device=device)
        for start in range(0, len(queries), chunk):
            q = torch.from_numpy(np.ascontiguousarray(queries[start : start + chunk], dtype=np.float32))
            q = q.to(device)
            if coarse_dtype is None:
                sims, idx = torch.topk(q @ bank.T, k, dim=1)
            else:
                _, candidates = torch.topk(q.to(coarse_dtype) @ coarse_bank.T, k_coarse, dim=1)
                exact = torch.empty(candidates.shape, dtype=bank.dtype, device=device)
                for sub in range(0, len(q), _RERANK_ROWS):
                    rows = candidates[sub : sub + _RERANK_ROWS]
                    out = gathered[: rows.numel()]
                    torch.index_select(bank, 0, rows.reshape(-1), out=out)
                    exact[sub : sub + len(rows)] = torch.einsum(
                        "bd,bkd->bk", q[sub : sub + len(rows)], out.view(len(rows), k_coarse, -1)
                    )
                sims, position = torch.topk(exact, k, dim=1)
                idx = torch.gather(candidates, 1, position)
            neighbours[start : start + len(q)] = idx.cpu().numpy()
            dists[start : start + len(q)] = (1.0 - sims).clamp_(min=0.0).cpu().numpy()
        return neighbours, dists

    return query


_RERANK_ROWS = 256


def _search_description(device: str) -> str:
    dtype = _coarse_dtype(device)
    if dtype is None:
        return "exact, float32"
    return f"exact: {str(dtype).removeprefix('torch.')} candidates re-ranked in float32"


def _coarse_dtype(device: str) -> Any:
    """The half-precision type for the candidate pass, or None where float32 is as fast."""
    import torch

    if device.startswith("cuda"):
        return torch.float16
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return torch.bfloat16 if amx is not None and amx() else None
    except RuntimeError:  # pragma: no cover - the probe itself failing means no AMX
        return None


def _normalise_map(coords: np.ndarray) -> np.ndarray:
    """Centre the map and scale it to roughly [-10, 10] so plots behave at any size."""
    coords = coords - np.median(coords, axis=0)
    scale = np.percentile(np.abs(coords), 99) or 1.0
    return (coords * (10.0 / scale)).astype(np.float32)
