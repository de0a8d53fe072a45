"""Exports of a finished run for other software: `consult export RUN_DIR --format qdpx`.

`codings.py` reads the run folder into a format-neutral coded round (sources, codebook,
coded segments); one module per format writes it (`qdpx.py`: REFI-QDA projects).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.export.codings import coded_round
from pipeline.export.qdpx import QdpxSummary, write_qdpx
from pipeline.rundir import QDPX

FORMATS = ("qdpx",)


def export_run(run_dir: Path, cfg: Config, fmt: str = "qdpx", out: Path | None = None,
               offsets: str = "utf16") -> QdpxSummary:
    """Write the export of a finished run; `out` defaults to the run folder (rundir.QDPX)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    run_dir = Path(run_dir)
    path = Path(out) if out else run_dir / QDPX
    if path.is_dir():
        path = path / QDPX
    return write_qdpx(coded_round(run_dir, cfg), path, offsets)
