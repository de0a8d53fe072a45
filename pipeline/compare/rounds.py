"""Rounds over time: the order of rounds, and which earlier run a new run is compared with.

A round is a folder of transcripts (with round.yaml). Rounds are ordered by

1. a `rounds.yaml` listing round folders oldest first (`consult run rounds.yaml`, or a
   rounds.yaml in the parent folder of a round run on its own), else
2. the order of the folders given to `consult run R1 R2 ...`, else
3. for `report.compare_with: previous` with neither: the round names that already have
   finished runs under the reports root, sorted (name rounds so that they sort, e.g.
   2023-r1, 2024-r1).

Each run records the run it was compared with in run.json (`compared_with`), so the
history of a theme across rounds is that chain, followed back from the newest run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from pipeline import safeyaml
from pipeline.rundir import RUN_JSON, THEMES, finished_runs
from pipeline.source import InputError
from pipeline.yamlerrors import yaml_hint, yaml_problem

ROUNDS_FILE = "rounds.yaml"
MAX_HISTORY = 12  # rounds shown in the tracking chart


def _yaml_rounds(path: Path) -> list[Path]:
    try:
        data = safeyaml.load(safeyaml.read_text(path, "rounds file"))
    except safeyaml.FileBudgetError as e:
        raise InputError(path, str(e).removeprefix(f"{path}: ")) from e
    except yaml.YAMLError as e:
        problem, line = yaml_problem(e)
        raise InputError(path, problem, yaml_hint(e), line=line) from e
    items = data.get("rounds") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise InputError(path, "expected `rounds:` with a list of round folders, oldest first",
                         "write e.g.\nrounds:\n  - 2023-r1\n  - 2024-r1")
    lines = _item_lines(path)
    out: list[Path] = []
    for i, item in enumerate(items, 1):
        line = lines[i - 1] if i <= len(lines) else None
        rel = item.get("path") if isinstance(item, dict) else item
        if not isinstance(rel, str) or not rel.strip():
            raise InputError(path, f"round #{i} has no folder path",
                             "each entry is a folder (or `path: folder`)", line=line)
        folder = (path.parent / rel).resolve()
        if not folder.is_dir():
            raise InputError(path, f"round #{i}: folder {rel!r} not found",
                             "paths are relative to rounds.yaml", line=line)
        if folder in out:
            raise InputError(path, f"round #{i}: {rel!r} is listed twice",
                             "list each round once, oldest first", line=line)
        out.append(folder)
    return out


def _item_lines(path: Path) -> list[int]:
    """1-based line of each entry of the round list, for error messages."""
    try:
        root = safeyaml.compose(safeyaml.read_text(path, "rounds file"))
    except (yaml.YAMLError, safeyaml.FileBudgetError):
        return []
    node = root
    if isinstance(root, yaml.MappingNode):
        node = next((v for k, v in root.value if getattr(k, "value", None) == "rounds"), None)
    if isinstance(node, yaml.SequenceNode):
        return [item.start_mark.line + 1 for item in node.value]
    return []


def round_dirs(args: list[Path]) -> list[Path]:
    """Round folders in order: folders as given; a rounds.yaml expands to what it lists."""
    out: list[Path] = []
    for a in args:
        a = Path(a)
        if a.is_file() and a.suffix.lower() in (".yaml", ".yml"):
            out.extend(_yaml_rounds(a))
        else:
            out.append(a)
    seen: set[Path] = set()
    for d in out:
        key = d.resolve()
        if key in seen:
            raise InputError(d, "the same round folder is listed twice",
                             "list each round once, oldest first")
        seen.add(key)
    return out


def _listed_before(round_dir: Path) -> Path | None:
    """The round before `round_dir` in a rounds.yaml next to it, if it is listed there."""
    listing = round_dir.resolve().parent / ROUNDS_FILE
    if not listing.is_file():
        return None
    order = _yaml_rounds(listing)
    here = round_dir.resolve()
    if here in order and order.index(here) > 0:
        return order[order.index(here) - 1]
    return None


def previous_run(round_dir: Path, round_name: str, reports_root: Path,
                 name_of: Callable[[Path], str]) -> Path | None:
    """The latest finished run of the round before this one (see the module docstring)."""
    before = _listed_before(round_dir)
    if before is not None:
        runs = finished_runs(reports_root, name_of(before))
        return runs[-1] if runs else None
    if not reports_root.is_dir():
        return None
    names = sorted(p.name for p in reports_root.iterdir()
                   if p.is_dir() and not p.name.startswith(".") and finished_runs(reports_root,
                                                                                  p.name))
    earlier = [n for n in names if n < round_name]
    if not earlier:
        return None
    return finished_runs(reports_root, earlier[-1])[-1]


def check_run_dir(path: Path, what: str) -> Path:
    path = Path(path).expanduser()
    if not (path / RUN_JSON).is_file() or not (path / THEMES).is_file():
        raise InputError(path, f"{what}: not a finished run folder with themes "
                               "(no run.json/themes.json)",
                         "name a folder printed by `consult run`, or `previous`")
    return path


def history(run_dir: Path, limit: int = MAX_HISTORY) -> list[Path]:
    """Runs this run was compared with, followed back through run.json; oldest first."""
    chain = [Path(run_dir)]
    seen = {Path(run_dir).resolve()}
    while len(chain) < limit:
        try:
            rec = json.loads((chain[-1] / RUN_JSON).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            break
        prev = rec.get("compared_with")
        if not prev:
            break
        p = Path(prev)
        if p.resolve() in seen or not (p / THEMES).is_file():
            break  # moved or deleted: the history ends there
        seen.add(p.resolve())
        chain.append(p)
    return chain[::-1]
