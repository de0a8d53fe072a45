"""On-disk embedding cache: one SQLite file, one row per (embedder, kind, text) hash.

Why SQLite: every write is a transaction, so a run killed mid-write leaves the rows of
committed batches and none of the interrupted one (no torn files to detect); WAL mode lets
concurrent readers run while one process writes. The cache only ever saves work: a file
that cannot be read is moved aside and a fresh one started, never an error for the run.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

FILENAME = "embeddings.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    key BLOB PRIMARY KEY,   -- sha256(embedder name, kind, text)
    dim INTEGER NOT NULL,
    vec BLOB NOT NULL       -- float32, little-endian
) WITHOUT ROWID
"""
# SQLite's default limit on host parameters is 999 in older builds.
_CHUNK = 500


def cache_key(embedder: str, kind: str, text: str) -> bytes:
    # The unit separator cannot be confused with text content at the field boundaries.
    return hashlib.sha256(f"{embedder}\x1f{kind}\x1f{text}".encode()).digest()


class EmbeddingCache:
    def __init__(self, cache_dir: str | Path):
        self.dir = Path(cache_dir).expanduser()
        self.path = self.dir / FILENAME
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as e:
            bad = self.path.with_name(f"{FILENAME}.corrupt-{int(time.time())}")
            warnings.warn(f"embedding cache {self.path} unreadable ({e}); moved to {bad.name} "
                          "and starting an empty cache", RuntimeWarning, stacklevel=2)
            for suffix in ("", "-wal", "-shm"):
                p = Path(str(self.path) + suffix)
                if p.exists():
                    p.replace(Path(str(bad) + suffix))
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a power cut may lose the last commits, never corrupt the file.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            db.execute("SELECT count(*) FROM vectors WHERE key = x'00'").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get_many(self, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), _CHUNK):
            part = keys[i : i + _CHUNK]
            q = f"SELECT key, dim, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})"
            for key, d, blob in self._db.execute(q, part):
                if d == dim and len(blob) == 4 * dim:
                    found[key] = np.frombuffer(blob, "<f4")
        return found

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [(k, int(v.shape[0]), np.ascontiguousarray(v, "<f4").tobytes()) for k, v in items]
        if not rows:
            return
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def _transaction(self) -> _Tx:
        return _Tx(self._db)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (autocommit connection)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
