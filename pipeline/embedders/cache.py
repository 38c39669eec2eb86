"""On-disk embedding cache keyed by (model, SHA-256 of the text).

One SQLite database (``embeddings.sqlite3``) under the cache folder holds every model's vectors as
little-endian float16 blobs (no pickle anywhere). float16 keeps every vector within cosine 0.9999
of its float32 original (``tests/test_embed_cache.py`` checks it) at half the disk. SQLite's
locking plus WAL journaling make concurrent readers and writers in several processes safe; every
``put_many`` is one transaction, so a crash never leaves half-written vectors.

A cache that cannot be opened or read (read-only disk, corrupt file) is logged and behaves as an
empty cache: the run recomputes instead of failing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

CACHE_ENV = "FEEDBACK_TOPICS_CACHE_DIR"
_DB_NAME = "embeddings.sqlite3"
_STORE_DTYPE = np.dtype("<f2")
_QUERY_CHUNK = 500
_TABLE = "embeddings"
_OLD_TABLE = "vectors"
"""The first layout (a WITHOUT ROWID table keyed by model and hash) is moved over on first open."""


def _create_schema(conn: sqlite3.Connection) -> None:
    """A rowid table (vectors appended in order) with a unique index on (model, hash).

    2 KB vectors in a WITHOUT ROWID table overflow its B-tree pages: through this class, 200k
    1024-d vectors took 9.8 s to write and 5.9 s to read; this layout takes 3-4 s each and a
    third less disk with 8 KiB pages (``python bench/stage_speed.py cache``). A cache written by
    the first layout is copied over once.
    """
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_TABLE} (id INTEGER PRIMARY KEY, model TEXT NOT NULL,"
        " hash BLOB NOT NULL, dim INTEGER NOT NULL, vec BLOB NOT NULL)"
    )
    conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {_TABLE}_key ON {_TABLE} (model, hash)")
    old = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    if conn.execute(old, (_OLD_TABLE,)).fetchone() is None:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute(old, (_OLD_TABLE,)).fetchone() is not None:  # another process may have moved it
            moved = conn.execute(
                f"INSERT OR IGNORE INTO {_TABLE} (model, hash, dim, vec)"
                f" SELECT model, hash, dim, vec FROM {_OLD_TABLE}"
            ).rowcount
            conn.execute(f"DROP TABLE {_OLD_TABLE}")
            logger.info("embedding cache: moved %d vectors to the new layout", moved)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def default_cache_dir() -> Path:
    """``$FEEDBACK_TOPICS_CACHE_DIR`` when set, else the per-user cache folder of the product."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(os.path.expanduser(env))
    import platformdirs

    return Path(platformdirs.user_cache_dir("feedback-topics", appauthor=False)) / "embeddings"


def text_hash(text: str) -> str:
    """The cache key of a text: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCache:
    """Vectors by (model key, text hash), shared safely between processes.

    Args:
        root: Folder of the cache (created when missing).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.path = self.root / _DB_NAME
        self._local = threading.local()
        self._broken = False

    # ------------------------------------------------------------------------------ plumbing
    def _connect(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("PRAGMA page_size = 8192")  # takes effect only in a new database
            # file systems without shared memory keep the rollback journal
            with contextlib.suppress(sqlite3.OperationalError):
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            _create_schema(conn)
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)
            return None
        self._local.conn = conn
        return conn

    def _disable(self, exc: BaseException) -> None:
        logger.warning("embedding cache at %s disabled (%s); embeddings will be recomputed", self.path, exc)
        self._broken = True

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ----------------------------------------------------------------------------------- API
    def get_many(self, model_key: str, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Look up vectors.

        Args:
            model_key: The embedder's ``model_id``.
            hashes: Hex SHA-256 digests (:func:`text_hash`).

        Returns:
            ``(found, vectors)``: a boolean mask over ``hashes`` and a float32 array of shape
            ``(len(hashes), dim)`` whose rows are filled where ``found`` is true (zeros elsewhere);
            ``dim`` is 0 when nothing was found.
        """
        n = len(hashes)
        found = np.zeros(n, dtype=bool)
        conn = self._connect()
        if conn is None or n == 0:
            return found, np.zeros((n, 0), dtype=np.float32)
        position: dict[bytes, list[int]] = {}
        for i, h in enumerate(hashes):
            position.setdefault(bytes.fromhex(h), []).append(i)
        keys = list(position)
        rows: list[tuple[bytes, int, bytes]] = []
        try:
            for start in range(0, len(keys), _QUERY_CHUNK):
                chunk = keys[start : start + _QUERY_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows.extend(
                    conn.execute(
                        f"SELECT hash, dim, vec FROM {_TABLE} WHERE model = ? AND hash IN ({marks})",
                        (model_key, *chunk),
                    ).fetchall()
                )
        except sqlite3.Error as exc:
            self._disable(exc)
            return found, np.zeros((n, 0), dtype=np.float32)
        if not rows:
            return found, np.zeros((n, 0), dtype=np.float32)
        dim = int(rows[0][1])
        targets: list[int] = []
        sources: list[int] = []
        blobs: list[bytes] = []
        for key, row_dim, blob in rows:
            if row_dim != dim or len(blob) != dim * _STORE_DTYPE.itemsize:
                continue  # a damaged or foreign row: treat as a miss
            for i in position[bytes(key)]:
                targets.append(i)
                sources.append(len(blobs))
            blobs.append(blob)
        vectors = np.zeros((n, dim), dtype=np.float32)
        if blobs:
            stored = np.frombuffer(b"".join(blobs), dtype=_STORE_DTYPE).reshape(len(blobs), dim)
            stored32 = stored.astype(np.float32)
            # A damaged entry (NaN, infinity, an all-zero vector) is a miss: it is computed again
            # and replaced, instead of reaching the neighbour search.
            valid = np.isfinite(stored32).all(axis=1) & (np.abs(stored32).sum(axis=1) > 1e-6)
            if not valid.all():
                logger.warning(
                    "embedding cache: %d damaged vector(s) (NaN, infinite or zero) ignored and recomputed",
                    int((~valid).sum()),
                )
            keep = [k for k, s in enumerate(sources) if valid[s]]
            rows_to = [targets[k] for k in keep]
            vectors[rows_to] = stored32[[sources[k] for k in keep]]
            found[rows_to] = True
        return found, vectors

    def put_many(self, model_key: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors (one transaction; existing entries are replaced).

        Args:
            model_key: The embedder's ``model_id``.
            hashes: Hex SHA-256 digests, one per row of ``vectors``.
            vectors: ``(len(hashes), dim)`` float array.
        """
        vectors = np.asarray(vectors)
        if len(hashes) != len(vectors):
            raise ValueError(f"{len(hashes)} hashes for {len(vectors)} vectors")
        if len(hashes) == 0:
            return
        conn = self._connect()
        if conn is None:
            return
        dim = int(vectors.shape[1])
        stored = np.ascontiguousarray(vectors, dtype=_STORE_DTYPE)
        payload = [(model_key, bytes.fromhex(h), dim, stored[i].tobytes()) for i, h in enumerate(hashes)]
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    f"INSERT OR REPLACE INTO {_TABLE} (model, hash, dim, vec) VALUES (?, ?, ?, ?)", payload
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._disable(exc)

    def count(self, model_key: str | None = None) -> int:
        """Number of cached vectors (of one model, or all)."""
        conn = self._connect()
        if conn is None:
            return 0
        if model_key is None:
            return int(conn.execute(f"SELECT COUNT(*) FROM {_TABLE}").fetchone()[0])
        return int(conn.execute(f"SELECT COUNT(*) FROM {_TABLE} WHERE model = ?", (model_key,)).fetchone()[0])
