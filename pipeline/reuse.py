"""Stage reuse: a re-run takes a stage's outputs from an earlier finished run of the same
round when nothing the stage depends on has changed (`run.reuse`, on by default).

Every stage that the runner records gets a **key**: a hash of the key of the stage before
it, the config sections the stage reads (`SECTIONS`), the files those sections name (a
dictionary, the framework, the mapping model), the curation entries it applies, and, for
ingest, the round's input files and the pipeline's code and package versions. run.json
records each stage's key and the files it wrote (`stages.<name>.key`, `.files`).

A re-run looks, stage by stage, for the newest finished run of the round whose stage has
the same key, copies that stage's files into the new run folder (copies, not links: the
folder stays complete and self-contained), loads the tables the stage provides, and records
`reused_from`. A stage is reused only when every table it provides can be loaded back
(`LOADERS`); embeddings live in the embedding cache, not the run folder, so the embed stage
is skipped only when no stage that runs needs them. Reused files are the earlier files,
byte for byte; the compare and report stages always run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import rundir
from pipeline.atomic import write_atomic
from pipeline.config import Config, config_hash, resolve_path

if TYPE_CHECKING:
    from pipeline.runner import Context, Stage

PACKAGE = Path(__file__).resolve().parent
# Config sections each stage reads (dotted names for single fields). A stage's key also
# holds the key of the stage before it, so later stages inherit these.
SECTIONS: dict[str, tuple[str, ...]] = {
    "ingest": ("ingest", "normalize", "roles", "redact", "segment"),
    "campaigns": ("campaigns",),
    "embed": ("embed",),
    "themes": ("themes", "run.seed"),
    "mapping": ("mapping",),
    "participation": ("participation",),
    "stance": ("stance",),
    "proposals": ("stance",),  # the proposal settings live in the stance section
}
# Curation entries each stage applies (pipeline/curation.py, attribute of `Curation`).
CURATION = {"ingest": "excludes", "themes": "merges", "mapping": "themes"}
# Stages that never reuse: cheap, and they describe the run being made.
ALWAYS_RUN = frozenset({"compare", "report"})
# Files rewritten by several stages; restored by section, not copied (see `restore`).
SHARED_FILES = frozenset({rundir.CURATION_REPORT, rundir.CONFIG_YAML, rundir.RUN_JSON})


def _hash(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@cache
def code_hash() -> str:
    """The pipeline's own code and data files, so that a re-run after an upgrade (or a code
    change while developing) recomputes. The report package is left out: it always runs."""
    h = hashlib.sha256()
    for p in sorted(PACKAGE.rglob("*")):
        rel = p.relative_to(PACKAGE)
        if not p.is_file() or "__pycache__" in rel.parts or rel.parts[0] in ("report",
                                                                             "templates"):
            continue
        h.update(str(rel).encode("utf-8"))
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _section(cfg: dict[str, Any], dotted: str) -> Any:
    value: Any = cfg
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _named_files(value: Any) -> list[tuple[str, str]]:
    """(path, sha256) of every existing file a config value names (strings, nested)."""
    if isinstance(value, dict):
        return [f for v in value.values() for f in _named_files(v)]
    if isinstance(value, list):
        return [f for v in value for f in _named_files(v)]
    if isinstance(value, str) and value and len(value) < 4096:
        try:
            p = resolve_path(value)
            if p.is_file():
                return [(value, rundir.sha256_file(p))]
        except OSError:
            return []
    return []


def config_sections_hash(cfg: Config, upto: str) -> str:
    """Hash of the config sections read by the stages up to and including `upto`: what
    themes.json's `meta.config_hash` records, so that a change elsewhere (report.*) leaves
    the file byte-identical."""
    data = cfg.output_dict()
    names = []
    for stage, sections in SECTIONS.items():
        names.extend(sections)
        if stage == upto:
            break
    return config_hash({name: _section(data, name) for name in names})


def input_files(round_dir: Path, skip: set[Path]) -> list[tuple[str, str]]:
    """(relative path, sha256) of every file of the round (a folder or one file), hidden
    files and the curation file (keyed by entry instead) left out."""
    if round_dir.is_file():
        return [(round_dir.name, rundir.sha256_file(round_dir))]
    out = []
    for p in sorted(round_dir.rglob("*")):
        rel = p.relative_to(round_dir)
        if p.is_file() and not any(s.startswith(".") for s in rel.parts) \
                and p.resolve() not in skip:
            out.append((rel.as_posix(), rundir.sha256_file(p)))
    return out


def _entries(items: list[Any]) -> list[str]:
    # repr, not asdict: entries hold dicts keyed by tuples, which JSON cannot key by; a
    # dataclass repr lists every field in order, so the same file gives the same text.
    return [repr(x) for x in items]


def stage_keys(ctx: Context, names: list[str]) -> dict[str, str]:
    """Key of every stage of `names` that has one (the stages of SECTIONS, in order); a
    stage after one without a key (another helper's stage) keeps the chain going."""
    from pipeline.curation import curation_paths

    cfg = ctx.cfg
    data = cfg.output_dict()  # cache locations do not change what a stage makes
    cur = ctx.tables.get("curation")
    skip = {p.resolve() for p in curation_paths(cfg, ctx.round_dir)}
    prev = _hash(code_hash(), ctx.record.packages,
                 input_files(Path(ctx.round_dir), skip))
    keys: dict[str, str] = {}
    for name in names:
        if name not in SECTIONS:
            continue
        own = {s: _section(data, s) for s in SECTIONS[name]}
        entries = _entries(getattr(cur, CURATION.get(name, ""), [])) if cur is not None else []
        prev = keys[name] = _hash(prev, name, own, _named_files(own), entries)
    return keys


# --- finding and restoring ------------------------------------------------------------------


def _read_record(run: Path) -> dict[str, Any]:
    try:
        return json.loads((run / rundir.RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def find_earlier(root: Path, round_name: str, stage: str, key: str
                 ) -> tuple[Path, dict[str, Any]] | None:
    """The newest finished run of the round whose `stage` has `key` and whose files for it
    are all there: (run folder, its record of the stage)."""
    for run in reversed(rundir.finished_runs(root, round_name)):
        rec = _read_record(run).get("stages", {}).get(stage)
        if not isinstance(rec, dict) or rec.get("key") != key or "files" not in rec:
            continue
        if all((run / f).is_file() for f in rec["files"]):
            return run, rec
    return None


def _load_units(ctx: Context, run: Path) -> None:
    import pandas as pd

    ctx.tables["units"] = pd.read_parquet(ctx.out / rundir.UNITS)
    rec = _read_record(run)
    ctx.record.inputs = rec.get("inputs", [])
    ctx.record.skipped = rec.get("skipped", [])


def _load_campaigns(ctx: Context, run: Path) -> None:
    ctx.tables["campaigns"] = json.loads(
        (ctx.out / rundir.CAMPAIGNS).read_text(encoding="utf-8"))


def _load_themes(ctx: Context, run: Path) -> None:
    import numpy as np
    import pandas as pd

    from pipeline.themes import ThemeResult

    fit = (ctx.out / rundir.THEMES_FIT).read_bytes()
    # themes.json as the themes stage wrote it; mapping (if it runs) rewrites it.
    write_atomic(ctx.out / rundir.THEMES, fit)
    doc = json.loads(fit)
    ctx.tables["themes"] = ThemeResult(
        themes=doc["themes"], stats=doc["stats"],
        unit_themes=pd.read_parquet(ctx.out / rundir.UNIT_THEMES),
        centroids=np.load(ctx.out / rundir.CENTROIDS, allow_pickle=False))


def _load_mapping(ctx: Context, run: Path) -> None:
    import pandas as pd

    ctx.tables["unit_areas"] = pd.read_parquet(ctx.out / rundir.UNIT_AREAS)
    doc = json.loads((ctx.out / rundir.THEMES).read_text(encoding="utf-8"))
    ctx.tables["themes"].themes = doc["themes"]


def _load_stance(ctx: Context, run: Path) -> None:
    import pandas as pd

    ctx.tables["unit_stance"] = pd.read_parquet(ctx.out / rundir.UNIT_STANCE)


# Stage -> (tables it provides that can be loaded back, loader). Embeddings cannot; the
# participation map needs no loader (no later stage reads it: the report reads its file).
LOADERS: dict[str, tuple[frozenset[str], Callable[[Context, Path], None]]] = {
    "ingest": (frozenset({"units"}), _load_units),
    "campaigns": (frozenset({"campaigns"}), _load_campaigns),
    "themes": (frozenset({"themes"}), _load_themes),
    "mapping": (frozenset({"unit_areas"}), _load_mapping),
    "stance": (frozenset({"unit_stance"}), _load_stance),
}
# Entries of a stage's run.json record that are about this run, not the stage's results.
_OWN = ("seconds", "key", "files", "reused_from", "steps")


def plan(ctx: Context, names: list[str], stages: dict[str, Stage]
         ) -> tuple[dict[str, str], dict[str, tuple[Path, dict[str, Any]]]]:
    """(key of each stage, {stage: (earlier run, its stage record)} for the stages to reuse).

    Candidates are the stages up to the first one without a matching earlier run (a later
    stage's key depends on it anyway).
    """
    keys = stage_keys(ctx, names)
    if not ctx.cfg.run.reuse:
        return keys, {}
    root, name = ctx.out.parent.parent, ctx.record.round_name
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for stage in names:
        if stage in ALWAYS_RUN or stage not in keys:
            break
        hit = find_earlier(root, name, stage, keys[stage])
        if hit is None:
            break
        found[stage] = hit
    # Backwards: a stage whose tables cannot be loaded back (embed) is reused only when no
    # stage that runs requires them; otherwise it runs too.
    runs = [s for s in names if s not in found]
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for stage in reversed([s for s in names if s in found]):
        provides = set(stages[stage].provides)
        required = {t for s in runs for t in stages[s].requires}
        if (stage in LOADERS and provides <= LOADERS[stage][0]) or not provides & required:
            out[stage] = found[stage]
        else:
            runs.append(stage)
    return keys, out


def restore(ctx: Context, stage: str, run: Path, rec: dict[str, Any],
            counts: dict[str, Any]) -> None:
    """Copy the stage's files from `run`, load its tables, restore its counts and its
    section of curation_report.json."""
    for f in rec["files"]:
        write_atomic(ctx.out / f, (run / f).read_bytes())
    if stage in LOADERS:
        LOADERS[stage][1](ctx, run)
        # Counts describe the restored tables; a skipped stage (embed) did no work here.
        counts.update({k: v for k, v in rec.items() if k not in _OWN})
    counts["files"] = list(rec["files"])
    counts["reused_from"] = str(run)
    section = {"ingest": "exclude", "themes": "merge", "mapping": "themes"}.get(stage)
    cur = ctx.tables.get("curation")
    if section and cur is not None:
        try:
            earlier = json.loads((run / rundir.CURATION_REPORT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = {}
        if isinstance(earlier.get(section), dict):
            cur.report[section] = earlier[section]
            write_atomic(ctx.out / rundir.CURATION_REPORT, cur.report_json())


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.iterdir() if p.is_file()}


def written(folder: Path, before: dict[str, tuple[int, int]]) -> list[str]:
    """Files a stage wrote (new or changed since `before`), shared ones left out."""
    now = snapshot(folder)
    return sorted(f for f, sig in now.items()
                  if before.get(f) != sig and f not in SHARED_FILES)
