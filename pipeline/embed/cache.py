"""On-disk embedding cache: one SQLite file, one row per (embedder, kind, text) hash.

Why SQLite: every write is a transaction, so a run killed mid-write leaves the rows of
committed batches and none of the interrupted one (no torn files to detect); WAL mode lets
concurrent readers run while one process writes. The cache only ever saves work: a file
that cannot be read is moved aside and a fresh one started, and a cache that cannot be
created or written (read-only or full disk, a file where the folder should be) turns into
"no cache" with one warning; never an error for the run.
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
        self._db: sqlite3.Connection | None = None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._db = self._open_or_replace()
        except (OSError, sqlite3.Error) as e:
            self._disable("cannot be opened", e)

    def _disable(self, what: str, e: BaseException) -> None:
        """Carry on without a cache: vectors are computed, not saved or reused."""
        # sqlite3 messages are fixed phrases ("database or disk is full"), never row data.
        warnings.warn(f"embedding cache {self.path} {what} ({type(e).__name__}: {e}); "
                      "continuing without a cache (embed.cache_dir)", RuntimeWarning,
                      stacklevel=3)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def _open_or_replace(self) -> sqlite3.Connection:
        try:
            return self._open()
        except sqlite3.OperationalError:
            raise  # cannot open or write at all (permissions, full disk): not corruption
        except sqlite3.DatabaseError as e:
            bad = self.path.with_name(f"{FILENAME}.corrupt-{int(time.time())}")
            warnings.warn(f"embedding cache {self.path} unreadable ({e}); moved to {bad.name} "
                          "and starting an empty cache", RuntimeWarning, stacklevel=2)
            for suffix in ("", "-wal", "-shm"):
                p = Path(str(self.path) + suffix)
                if p.exists():
                    p.replace(Path(str(bad) + suffix))
            return self._open()

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
        if self._db is None:
            return found
        try:
            for i in range(0, len(keys), _CHUNK):
                part = keys[i : i + _CHUNK]
                q = (f"SELECT key, dim, vec FROM vectors "
                     f"WHERE key IN ({','.join('?' * len(part))})")
                for key, d, blob in self._db.execute(q, part):
                    if d == dim and len(blob) == 4 * dim:
                        found[key] = np.frombuffer(blob, "<f4")
        except sqlite3.Error as e:
            self._disable("cannot be read", e)
            return {}
        return found

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [(k, int(v.shape[0]), np.ascontiguousarray(v, "<f4").tobytes()) for k, v in items]
        if not rows or self._db is None:
            return
        try:
            with self._transaction():
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
        except (sqlite3.Error, OSError) as e:
            self._disable("cannot be written", e)

    @property
    def enabled(self) -> bool:
        """False once the cache could not be opened or written (the run goes on without)."""
        return self._db is not None

    def _transaction(self) -> _Tx:
        assert self._db is not None
        return _Tx(self._db)

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
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
        if not exc_type:
            self.db.execute("COMMIT")
        elif self.db.in_transaction:
            # SQLite has already rolled back after some errors (SQLITE_FULL); a second
            # ROLLBACK would raise and hide the error that matters.
            self.db.execute("ROLLBACK")
