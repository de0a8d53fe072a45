"""Writing a file so that readers never see half of it: a temp file in the same folder, renamed
into place. Every file the pipeline writes goes through `write_atomic` (run folders via
rundir.py, the segmenter's dictionary caches directly, which is why this has no pipeline
imports of its own)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Writer = Callable[[BinaryIO], object]


def write_atomic(path: Path, data: str | bytes | Writer) -> None:
    """Write via a temp file in the same folder and rename, so readers never see half a file.

    `data` is text (written as UTF-8), bytes, or a function that writes to a binary file
    handle (e.g. `lambda fh: df.to_parquet(fh, index=False)`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename is None:
            e.filename = str(path)  # a full disk fails in write(), which names no file
        raise
