"""The pipeline as a list of named stages, each reading and adding tables in a shared context.

Each stage declares the tables it requires and provides (`Stage`); a command's stage list is
checked before anything runs, so a stage can never run without its inputs.

A run is built in a temporary folder and renamed into `reports/<round>/<run-id>/` only when
every stage succeeded, with `run.json` recording config, inputs, timings and counts.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import reuse, rundir
from pipeline.atomic import write_atomic
from pipeline.config import Config, resolve_path
from pipeline.ingest import check_unit_ids, ingest_round
from pipeline.progress import Progress
from pipeline.rundir import RunDir, RunRecord, make_run_id, write_parquet
from pipeline.units import analysed_mask

if TYPE_CHECKING:
    from pipeline.curation import Curation
    from pipeline.mapping.framework import Framework


@dataclass
class Context:
    cfg: Config
    round_dir: Path
    out: Path  # the run folder under construction
    record: RunRecord
    progress: Progress
    tables: dict[str, Any] = field(default_factory=dict)
    compare_with: Path | None = None  # an earlier finished run folder
    final: Path | None = None  # where the run folder will be once committed


@dataclass(frozen=True)
class Stage:
    """A step of the pipeline: `run(ctx, counts)` reads `requires` from ctx.tables and adds
    `provides` to it (counts go to run.json)."""

    run: Callable[[Context, dict[str, Any]], None]
    requires: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    # Threads for the BLAS and OpenMP libraries while the stage runs; None leaves them as
    # they are. The stages that compute (themes, mapping, stance, proposals, campaigns) use
    # one: their products are small, and on a 2-core laptop two OpenBLAS threads ran them
    # 2-25× slower whenever another process was busy (mapping 2.7 s vs 1.6 s, the themes
    # stage's LSA 6 s vs 0.23 s). One thread also gives the same last bits whatever the
    # core count; the embed stage sets its engine's threads itself.
    blas_threads: int | None = None


def _threads(n: int | None) -> contextlib.AbstractContextManager[Any]:
    if n is None:
        return contextlib.nullcontext()
    # A limit covers only the libraries loaded when it is set: scipy's OpenBLAS and
    # scikit-learn's OpenMP load on first use, and a stage that loaded them itself would
    # compute with other threads (and other last bits) than one that found them loaded.
    import scipy.linalg  # noqa: F401
    import sklearn.utils._openmp_helpers  # noqa: F401
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n)


def _framework(ctx: Context) -> Framework:
    """The strategy framework (`mapping.framework`), parsed once per run: curation validates
    against it and the mapping stage scores with it."""
    from pipeline.mapping.framework import load_framework

    if "framework" not in ctx.tables:
        ctx.tables["framework"] = load_framework(resolve_path(ctx.cfg.mapping.framework))
    return ctx.tables["framework"]


def _curation(ctx: Context) -> Curation:
    """The run's curation files, read once: at the first stage, so that a malformed file
    stops the run before any work is done."""
    from pipeline.curation import load_for_run

    if "curation" not in ctx.tables:
        ctx.tables["curation"] = load_for_run(ctx.cfg, ctx.round_dir, _framework(ctx))
    return ctx.tables["curation"]


def _curation_applied(ctx: Context, section: str, report: dict[str, Any]) -> None:
    """Record what a stage's curation did; every entry that matched nothing is also a warning
    line, because an analyst's decision that silently stopped applying is worse than none."""
    from pipeline.curation import unmatched_warnings

    cur = _curation(ctx)
    cur.report[section] = report
    for line in unmatched_warnings(section, report):
        ctx.progress.say(f"warning: {line}")
    write_atomic(ctx.out / rundir.CURATION_REPORT, cur.report_json())


def stage_ingest(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.curation import apply_exclusions

    cur = _curation(ctx)
    with ctx.progress.task("ingest", total=None) as tick:
        res = ingest_round(ctx.round_dir, ctx.cfg, progress=tick)
    ctx.record.inputs = res.inputs
    ctx.record.skipped = res.skipped
    # Exclusions apply before the units are written, so that every later stage (embed,
    # themes, mapping, the report's exclusion counts) sees them like ingest's own.
    units, excluded = apply_exclusions(res.units, cur)
    if excluded["units_excluded"]:
        res.summary["units_analysed"] = int(analysed_mask(units).sum())
        res.summary["units_excluded"] = dict(Counter(units["excluded_reason"].dropna()))
    ctx.tables["units"] = units
    write_parquet(units, ctx.out / rundir.UNITS)
    write_atomic(ctx.out / rundir.INGEST_SUMMARY,
                 json.dumps(res.summary, ensure_ascii=False, indent=2))
    write_atomic(ctx.out / rundir.SPEAKERS,
                 json.dumps({"speakers": res.speakers}, ensure_ascii=False, indent=2))
    _curation_applied(ctx, "exclude", excluded)
    counts.update(res.summary)


def stage_campaigns(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.campaigns import find_campaigns
    from pipeline.jsonio import to_json

    found = find_campaigns(ctx.tables["units"], ctx.cfg.campaigns)
    ctx.tables["campaigns"] = found
    write_atomic(ctx.out / rundir.CAMPAIGNS, to_json(found))
    counts.update(campaigns=len(found["campaigns"]), units_in_campaigns=found["units_in_campaigns"])


def stage_embed(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.embed import embed_texts

    units = ctx.tables["units"]
    texts = units.loc[analysed_mask(units), "text"].tolist()
    emb, stats = embed_texts(texts, ctx.cfg.embed, ctx.cfg.segment, kind="query",
                             progress=not ctx.progress.quiet)
    ctx.tables["embeddings"] = emb
    counts.update(stats)


def stage_themes(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.agreement import add_agreement
    from pipeline.campaigns import fit_with_campaigns
    from pipeline.curation import apply_merges
    from pipeline.themes import courtesy_check, write_theme_files

    units, emb = ctx.tables["units"], ctx.tables["embeddings"]
    # A template campaign is fitted once, its members then take its theme (campaigns.py).
    with ctx.progress.steps("themes", THEMES_STEPS) as clock:
        result = fit_with_campaigns(units, emb, ctx.cfg, ctx.tables["campaigns"], steps=clock)
    counts["steps"] = clock.seconds
    # Merged before anything is written, so themes.json, the centroids and the mapping all
    # describe the merged theme.
    merged = apply_merges(result, units, emb, _curation(ctx), ctx.cfg)
    # Votes on the comments (Pol.is), per theme, beside how often its points were said.
    if voted := add_agreement(result.themes, units, result.unit_themes):
        result.stats["themes_with_votes"] = voted
    result.stats["courtesy"] = courtesy_check(result.themes, ctx.cfg.themes)
    ctx.tables["themes"] = result
    write_theme_files(result, _themes_meta(ctx), ctx.out)
    _curation_applied(ctx, "merge", merged)
    counts.update(result.stats)


THEMES_STEPS = ("prepare", "reduce", "cluster", "represent", "merge", "reassign", "describe")


def _themes_meta(ctx: Context, upto: str = "themes") -> dict[str, Any]:
    # No run id or time here: the same inputs and config must give a byte-identical file.
    # The hash covers only the config sections the file depends on, so a report.* change
    # leaves it byte-identical (and a reused file true).
    from pipeline.reuse import config_sections_hash

    return {"round": ctx.record.round_name, "config_hash": config_sections_hash(ctx.cfg, upto)}


def stage_mapping(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.jsonio import to_json
    from pipeline.mapping.stage import map_round
    from pipeline.themes import themes_json

    units, result = ctx.tables["units"], ctx.tables["themes"]
    mapped = map_round(units, ctx.tables["embeddings"], result.themes, result.unit_themes,
                       _framework(ctx), _curation(ctx), ctx.cfg)
    ctx.tables["unit_areas"] = mapped.unit_areas
    write_parquet(mapped.unit_areas, ctx.out / rundir.UNIT_AREAS)
    result.themes = themes = mapped.themes
    write_atomic(ctx.out / rundir.THEMES, themes_json(result, _themes_meta(ctx, "mapping")))
    write_atomic(ctx.out / rundir.STRATEGY_MATRIX, mapped.matrix.to_csv())
    write_atomic(ctx.out / rundir.AREA_SUMMARY, to_json(mapped.areas))
    write_atomic(ctx.out / rundir.FOCUS_SUMMARY, to_json(mapped.focus))
    _curation_applied(ctx, "themes", mapped.curation)
    counts.update({"units_scored": int(mapped.unit_areas["unit_id"].nunique()),
                   "gap_themes": sum(1 for t in themes if t.get("gap")),
                   "curated_themes": sum(1 for t in themes if t.get("curated")),
                   "renamed_themes": sum(1 for t in themes if t.get("label_curated")),
                   "reviewed_themes": sum(1 for t in themes if t.get("reviewed"))})


def stage_participation(ctx: Context, counts: dict[str, Any]) -> None:
    """The collaboration map (協力地圖): organisations × sessions × themes, over-mobilisation."""
    from pipeline.participation import collaboration_map, participation_json

    result = ctx.tables["themes"]
    cmap = collaboration_map(ctx.tables["units"], result.unit_themes, result.themes,
                             ctx.cfg.participation)
    ctx.tables["participation"] = cmap
    write_atomic(ctx.out / rundir.PARTICIPATION, participation_json(cmap))
    counts.update({"organisations": len(cmap.org_summary), "flagged": len(cmap.flagged)})


def stage_stance(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.stance.stage import classify_units
    from pipeline.units import analysed_units

    table, note = classify_units(analysed_units(ctx.tables["units"]),
                                 ctx.tables["embeddings"], ctx.cfg)
    if note:
        ctx.progress.say(f"warning: {note}")
    ctx.tables["unit_stance"] = table
    write_parquet(table, ctx.out / rundir.UNIT_STANCE)
    counts.update({"stances": dict(Counter(table["stance"])), "method":
                   "rules" if note else "model"})


def stage_proposals(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.jsonio import to_json
    from pipeline.stance.proposals import build_proposals
    from pipeline.units import analysed_units, best_theme_per_unit

    unit_areas = ctx.tables["unit_areas"].drop_duplicates("unit_id")
    data = build_proposals(analysed_units(ctx.tables["units"]), ctx.tables["embeddings"],
                           ctx.tables["unit_stance"], unit_areas,
                           best_theme_per_unit(ctx.tables["themes"].unit_themes), ctx.cfg)
    write_atomic(ctx.out / rundir.PROPOSALS, to_json(data))
    counts.update({"proposal_units": data["proposal_units"],
                   "proposals": sum(a["distinct_proposals"] for a in data["areas"])})


def stage_report(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.report import render_report

    written = render_report(ctx.out, ctx.cfg, run_info=json.loads(ctx.record.to_json()))
    counts.update({"files": sorted(p.name for p in written.values())})


def stage_compare(ctx: Context, counts: dict[str, Any]) -> None:
    """Diff against the earlier run (report.compare_with / the previous round) and track
    themes across the rounds behind it; skipped when there is nothing to compare with."""
    if ctx.compare_with is None:
        counts["compared_with"] = None
        return
    from pipeline.compare import run_in_progress, write_comparison
    from pipeline.themes import themes_json

    # This run as the comparison sees a finished one, from the tables in memory: the same
    # themes.json document (rounded as written) and centroids, named by its final folder.
    result = ctx.tables["themes"]
    current = run_in_progress(ctx.final or ctx.out, json.loads(ctx.record.to_json()),
                              json.loads(themes_json(result, _themes_meta(ctx, "mapping"))),
                              result.centroids)
    counts.update(write_comparison(ctx.out, current, ctx.compare_with, ctx.cfg))


STAGES: dict[str, Stage] = {
    "ingest": Stage(stage_ingest, provides=("units",)),
    "campaigns": Stage(stage_campaigns, requires=("units",), provides=("campaigns",),
                       blas_threads=1),
    "embed": Stage(stage_embed, requires=("units",), provides=("embeddings",)),
    "themes": Stage(stage_themes, requires=("units", "embeddings", "campaigns"),
                    provides=("themes",), blas_threads=1),
    "mapping": Stage(stage_mapping, requires=("units", "embeddings", "themes"),
                     provides=("unit_areas",), blas_threads=1),
    "participation": Stage(stage_participation, requires=("units", "themes"),
                           provides=("participation",)),
    "stance": Stage(stage_stance, requires=("units", "embeddings"), provides=("unit_stance",),
                    blas_threads=1),
    "proposals": Stage(stage_proposals,
                       requires=("units", "embeddings", "unit_stance", "themes", "unit_areas"),
                       blas_threads=1),
    "compare": Stage(stage_compare, requires=("themes",)),
    # The report reads the run folder (so `consult report` re-renders any finished run).
    "report": Stage(stage_report, requires=("units",)),
}

COMMANDS: dict[str, list[str]] = {
    "ingest": ["ingest"],
    "themes": ["ingest", "campaigns", "embed", "themes"],
    "run": ["ingest", "campaigns", "embed", "themes", "mapping", "participation", "stance",
            "proposals", "compare", "report"],
}


def check_stages(command: str) -> None:
    """Every stage of `command` finds the tables it requires provided by a stage before it."""
    have: set[str] = set()
    for name in COMMANDS[command]:
        missing = [t for t in STAGES[name].requires if t not in have]
        if missing:
            raise RuntimeError(f"`{command}`: stage {name} requires {', '.join(missing)}, "
                               "which no earlier stage provides")
        have.update(STAGES[name].provides)


def round_name_of(round_dir: Path, cfg: Config) -> str:
    """The round's name as a folder name under the reports root (rundir.safe_component):
    `run.round_name`, else the manifest's `round:`, else the round folder's name."""
    return rundir.safe_component(_declared_round_name(round_dir, cfg))


def _declared_round_name(round_dir: Path, cfg: Config) -> str:
    if cfg.run.round_name:
        return cfg.run.round_name
    manifest = round_dir / cfg.ingest.manifest
    if manifest.is_file():
        import yaml

        from pipeline import safeyaml

        try:
            data = safeyaml.load(safeyaml.read_text(manifest, "round manifest")) or {}
            if isinstance(data, dict) and data.get("round"):
                return str(data["round"])
        except (yaml.YAMLError, safeyaml.FileBudgetError, OSError):
            pass  # reported properly by ingest, with the line
    # A single file given as the round (a petition's export) is named without its extension.
    return round_dir.resolve().stem if round_dir.is_file() else round_dir.resolve().name


def compare_target(round_dir: Path, name: str, cfg: Config, root: Path) -> Path | None:
    """The run named by `report.compare_with`: a run folder, or `previous` (see rounds.py)."""
    from pipeline.compare import rounds

    value = cfg.report.compare_with
    if not value:
        return None
    if value == "previous":
        return rounds.previous_run(round_dir, name, root, lambda d: round_name_of(d, cfg))
    return rounds.check_run_dir(resolve_path(value), "report.compare_with")


def run(command: str, round_dir: Path, cfg: Config, out_root: Path | None = None,
        quiet: bool = False, compare_with: Path | None = None) -> Path:
    """Run `command`'s stages on one round; returns report.html (`run`) or the run folder.

    `compare_with` (an earlier run folder) overrides `report.compare_with`.
    """
    check_stages(command)
    round_dir = Path(round_dir)
    root = Path(out_root) if out_root else resolve_path(cfg.run.reports_root)
    name = round_name_of(round_dir, cfg)
    if command == "run" and compare_with is None:
        compare_with = compare_target(round_dir, name, cfg, root)
    if name != _declared_round_name(round_dir, cfg):
        Progress(quiet=quiet).say(f"note: the round name is not a safe folder name; its runs "
                                  f"go to {root / name}")
    run_id = make_run_id(cfg)
    record = RunRecord(command=command, round_name=name, round_dir=str(round_dir.resolve()),
                       run_id=run_id, config=cfg.to_dict(), config_hash=cfg.hash(),
                       compared_with=str(Path(compare_with).resolve()) if compare_with
                       else None)
    rd = RunDir(root, name, run_id)
    progress = Progress(quiet=quiet)
    for stale in rd.removed_stale:
        progress.say(f"note: removed {stale.name}, left by a run that was killed")
    if command == "run" and compare_with is None and cfg.report.compare_with == "previous":
        progress.say(f"note: report.compare_with=previous: no finished run of an earlier round "
                     f"under {root}; this run is not compared")
    ctx = Context(cfg, round_dir, rd.path, record, progress, compare_with=compare_with,
                  final=rd.final)
    try:
        import yaml

        write_atomic(rd.path / rundir.CONFIG_YAML,
                     yaml.safe_dump(cfg.to_dict(), allow_unicode=True, sort_keys=False))
        _curation(ctx)  # stage keys include the curation entries
        keys, reused = reuse.plan(ctx, COMMANDS[command], STAGES)
        for stage_name in COMMANDS[command]:
            stage = STAGES[stage_name]
            with record.stage(stage_name) as counts:
                if stage_name in reused:
                    reuse.restore(ctx, stage_name, *reused[stage_name], counts)
                else:
                    before = reuse.snapshot(ctx.out)
                    with _threads(stage.blas_threads):
                        stage.run(ctx, counts)
                    counts["files"] = reuse.written(ctx.out, before)
                if stage_name in keys:
                    counts["key"] = keys[stage_name]
            progress.stage_done(stage_name, record.stages[stage_name])
            # A reused stage whose tables are not in the run folder (embed) provides nothing:
            # reuse.plan only skips it when no stage left needs them.
            missing = [t for t in stage.provides if t not in ctx.tables
                       and (stage_name not in reused or stage_name in reuse.LOADERS)]
            if missing:
                raise RuntimeError(f"stage {stage_name} did not provide {', '.join(missing)}")
            if "units" in ctx.tables:
                check_unit_ids(ctx.tables["units"], stage_name)
        final = rd.commit(record)
    except BaseException:
        rd.abort()
        raise
    progress.say(f"done: {final}")
    return final / rundir.REPORT_HTML if command == "run" else final


def run_rounds(command: str, round_dirs: list[Path], cfg: Config,
               out_root: Path | None = None, quiet: bool = False) -> list[Path]:
    """Several rounds, oldest first: each later round is compared with the run just made
    for the round before it (the first follows `report.compare_with`)."""
    out: list[Path] = []
    previous: Path | None = None
    for d in round_dirs:
        final = run(command, d, cfg, out_root, quiet, compare_with=previous)
        out.append(final)
        previous = final.parent if command == "run" else None
    return out
