"""The themes of a finished run, as far as comparing runs needs them (RunThemes), read from its
folder with errors that name the folder or file and what to do."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.fingerprint import centroid_hash
from pipeline.rundir import CENTROIDS, REPORT_HTML, RUN_JSON, THEMES
from pipeline.source import InputError

RUN_HINT = "pass a run folder printed by `consult run` or `consult themes` (report.html's folder)"


@dataclass(frozen=True)
class RunThemes:
    """The themes of one finished run, as far as comparing runs needs them.

    `themes` are the non-outlier themes of themes.json in id order; row i of `centroids`
    (unit length) and `shares[i]` (size / analysed units) belong to `themes[i]`.
    """

    run_dir: Path
    round_name: str
    run_id: str
    config: dict[str, Any]
    themes: list[dict[str, Any]]
    centroids: np.ndarray
    shares: np.ndarray
    config_hash: str = ""
    n_units: int = 0
    # sha256 of the input files: a TF-IDF embedding space is only shared by identical inputs.
    input_hashes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.themes)
        if self.centroids.ndim != 2 or len(self.centroids) != n:
            raise ValueError(f"{self.run_dir}: {n} themes but centroids of shape "
                             f"{self.centroids.shape}; row i must be theme i's centroid")
        if self.shares.shape != (n,):
            raise ValueError(f"{self.run_dir}: {n} themes but shares of shape {self.shares.shape}")


def _run_folder(path: Path) -> Path:
    # `consult run` prints report.html's path; accepting it saves a copy-and-trim.
    if path.is_file() and path.name in (REPORT_HTML, RUN_JSON, THEMES):
        return path.parent
    return path


def _read_json(path: Path, run_dir: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(path, "file missing", f"{run_dir} is not a complete run folder; "
                         + RUN_HINT)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(path, f"not valid JSON ({e})",
                         "the file is damaged; re-run the round to recreate it") from e
    if not isinstance(data, dict):
        raise InputError(path, f"expected a JSON object, got {type(data).__name__}",
                         "the file is damaged; re-run the round to recreate it")
    return data


def _theme_list(raw: Any, path: Path) -> list[dict[str, Any]]:
    damaged = "the file is damaged; re-run the round to recreate it"
    if not isinstance(raw, list):
        raise InputError(path, "no `themes` list", damaged)
    themes: list[dict[str, Any]] = []
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or not isinstance(t.get("id"), int) \
                or not isinstance(t.get("size"), int) or t["size"] < 0:
            raise InputError(path, f"theme #{i} has no integer `id` and `size`", damaged)
        if t["id"] >= 0:  # outliers (-1) are not a theme to match
            themes.append(t)
    themes.sort(key=lambda t: t["id"])
    ids = [t["id"] for t in themes]
    if ids != list(range(len(ids))):
        raise InputError(path, f"theme ids are not 0…{len(ids) - 1} (got {ids[:10]})", damaged)
    return themes


def _centroids(path: Path, themes: list[dict[str, Any]], run_dir: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(path, "file missing",
                         f"{run_dir} was made before theme centroids were saved or is "
                         "incomplete; re-run the round")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(path, f"not a readable .npy array ({e})",
                         "the file is damaged; re-run the round") from e
    n = len(themes)
    if arr.ndim != 2 or len(arr) != n or (n and arr.shape[1] == 0):
        raise InputError(path, f"{n} themes in themes.json but a centroid array of shape "
                         f"{arr.shape}", "the two files come from different runs; re-run")
    if not np.isfinite(arr).all():
        raise InputError(path, "centroids contain NaN or infinity", "re-run the round")
    arr = arr.astype(np.float32, copy=False)
    for i, t in enumerate(themes):
        # The fingerprint hash ties each row to its theme: catches a swapped or stale file.
        expected = (t.get("fingerprint") or {}).get("centroid_sha256")
        if expected and centroid_hash(arr[i]) != expected:
            raise InputError(path, f"row {i} is not theme {i}'s centroid "
                             "(fingerprint.centroid_sha256 differs)",
                             "themes.json and the centroids come from different runs; re-run")
    return arr


def load_run(run_dir: str | Path) -> RunThemes:
    """Read run.json, themes.json and theme_centroids.npy of a finished run folder.

    Raises InputError naming the folder or file, and what to do, when the folder is not a
    finished run, a file is missing or damaged, or the centroids do not match the themes.
    """
    given = Path(run_dir)
    folder = _run_folder(given)
    if not folder.is_dir():
        raise InputError(given, "no such run folder", RUN_HINT)
    if not (folder / RUN_JSON).is_file():
        unfinished = folder.name.startswith(".tmp-")
        reason = ("an unfinished run (interrupted or failed)" if unfinished
                  else "not a finished run folder (no run.json)")
        raise InputError(folder, reason, RUN_HINT)
    record = _read_json(folder / RUN_JSON, folder)
    themes_path = folder / THEMES
    if not themes_path.is_file():
        cmd = record.get("command", "?")
        raise InputError(folder, f"no themes.json: a `consult {cmd}` run has no themes",
                         "compare runs of `consult run` or `consult themes`")
    doc = _read_json(themes_path, folder)
    themes = _theme_list(doc.get("themes"), themes_path)
    centroids = _centroids(folder / CENTROIDS, themes, folder)
    return _run_themes(folder, record, doc, themes, centroids)


def run_in_progress(final: Path, record: dict[str, Any], doc: dict[str, Any],
                    centroids: np.ndarray) -> RunThemes:
    """The run being made, from what the runner holds: its record (run.json to be), its
    themes.json document and its centroid rows. `final` is the folder the run will have once
    committed, so that a diff names the folder that exists afterwards."""
    themes = _theme_list(doc.get("themes"), final / THEMES)
    return _run_themes(final, record, doc, themes,
                       np.asarray(centroids, dtype=np.float32).reshape(len(themes), -1))


def _run_themes(folder: Path, record: dict[str, Any], doc: dict[str, Any],
                themes: list[dict[str, Any]], centroids: np.ndarray) -> RunThemes:
    stats = doc.get("stats") if isinstance(doc.get("stats"), dict) else {}
    sizes = np.array([t["size"] for t in themes], dtype=np.float64)
    n_units = stats.get("n_units")
    if not isinstance(n_units, int) or n_units < sizes.sum():
        n_units = int(sizes.sum() + (stats.get("n_outliers") or 0))
    config = record.get("config") if isinstance(record.get("config"), dict) else {}
    inputs = record.get("inputs") if isinstance(record.get("inputs"), list) else []
    return RunThemes(
        run_dir=folder,
        round_name=str(record.get("round_name") or (doc.get("meta") or {}).get("round") or ""),
        run_id=str(record.get("run_id") or folder.name),
        config=config,
        themes=themes,
        centroids=centroids,
        shares=sizes / n_units if n_units else np.zeros(len(themes)),
        config_hash=str(record.get("config_hash") or ""),
        n_units=n_units,
        input_hashes=tuple(sorted(str(i.get("sha256")) for i in inputs if isinstance(i, dict))),
    )
