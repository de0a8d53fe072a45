"""A folder of computed arrays, one `.npy` file per key: the reduced space of the themes
stage, so that a re-run which changes only the clustering, merging or representation
(`themes.min_size`, `themes.n_themes`, ...) skips UMAP (issue 13: 7.5 of a 14 s stage on a
25-meeting round).

Like the embedding cache it only ever saves work: every file is written atomically (a
killed run leaves a complete file or none), a file that cannot be read or does not hold what
the key promises is ignored and computed again, and a folder that cannot be created or
written means "no cache" with one warning. The oldest files beyond `max_entries` are removed,
so the folder stays small (a 5,000-unit round's 10-dimensional space is 200 KB).
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.atomic import write_atomic

SUFFIX = ".npy"


def array_key(arrays: list[np.ndarray], params: dict[str, Any]) -> str:
    """sha256 of the arrays (dtype, shape and bytes) and of the parameters (as sorted JSON)."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True, ensure_ascii=False).encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"\x1f{a.dtype.str}{a.shape}\x1f".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class ArrayCache:
    def __init__(self, folder: str | Path, what: str, max_entries: int = 64):
        self.dir = Path(folder).expanduser()
        self.what = what  # named in the warning: "reduced-space cache"
        self.max_entries = max_entries
        self.enabled = True

    def get(self, key: str, shape: tuple[int, ...], dtype: str = "float32"
            ) -> np.ndarray | None:
        """The array stored under `key`, or None when there is none or it is not what was
        asked for (a damaged or foreign file counts as a miss)."""
        path = self.dir / f"{key}{SUFFIX}"
        if not self.enabled or not path.is_file():
            return None
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if arr.shape != shape or arr.dtype != np.dtype(dtype) or not np.isfinite(arr).all():
            return None
        try:
            path.touch()  # recently used: pruned last
        except OSError:
            pass
        return arr

    def put(self, key: str, arr: np.ndarray) -> None:
        if not self.enabled:
            return
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
        try:
            write_atomic(self.dir / f"{key}{SUFFIX}", buf.getvalue())
            self._prune()
        except OSError as e:
            self.enabled = False
            warnings.warn(f"{self.what} {self.dir} cannot be written ({type(e).__name__}: "
                          f"{e}); continuing without it", RuntimeWarning, stacklevel=2)

    def _prune(self) -> None:
        files = sorted(self.dir.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime,
                       reverse=True)
        for old in files[self.max_entries:]:
            old.unlink(missing_ok=True)
