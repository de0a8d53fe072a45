"""The pipeline as a list of named stages, each reading and adding tables in a shared context.

A run is built in a temporary folder and renamed into `reports/<round>/<run-id>/` only when
every stage succeeded, with `run.json` recording config, inputs, timings and counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Config, resolve_path
from pipeline.ingest import check_unit_ids, ingest_round
from pipeline.progress import Progress
from pipeline.rundir import RunDir, RunRecord, make_run_id, write_atomic


@dataclass
class Context:
    cfg: Config
    round_dir: Path
    out: Path  # the run folder under construction
    record: RunRecord
    progress: Progress
    tables: dict[str, Any] = field(default_factory=dict)


Stage = Callable[[Context, dict[str, Any]], None]


def stage_ingest(ctx: Context, counts: dict[str, Any]) -> None:
    with ctx.progress.task("ingest", total=None) as tick:
        res = ingest_round(ctx.round_dir, ctx.cfg, progress=tick)
    ctx.record.inputs = res.inputs
    ctx.record.skipped = res.skipped
    ctx.tables["units"] = res.units
    write_parquet(res.units, ctx.out / "units.parquet")
    write_atomic(ctx.out / "ingest_summary.json",
                 json.dumps(res.summary, ensure_ascii=False, indent=2))
    counts.update(res.summary)


def stage_embed(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.embed import embed_texts

    units = ctx.tables["units"]
    texts = units.loc[units["analysed"], "text"].tolist()
    emb, stats = embed_texts(texts, ctx.cfg.embed, ctx.cfg.segment, kind="query",
                             progress=not ctx.progress.quiet)
    ctx.tables["embeddings"] = emb
    counts.update(stats)


def stage_themes(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.themes import fit_themes, write_theme_files

    result = fit_themes(ctx.tables["units"], ctx.tables["embeddings"], ctx.cfg)
    ctx.tables["themes"] = result
    write_theme_files(result, _themes_meta(ctx), ctx.out)
    counts.update(result.stats)


def _themes_meta(ctx: Context) -> dict[str, Any]:
    # No run id or time here: the same inputs and config must give a byte-identical file.
    return {"round": ctx.record.round_name, "config_hash": ctx.record.config_hash}


def stage_mapping(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline import mapping
    from pipeline.themes import themes_json

    units, result = ctx.tables["units"], ctx.tables["themes"]
    unit_areas = mapping.score_units(units, ctx.cfg)
    write_parquet(unit_areas, ctx.out / "unit_areas.parquet")
    themes, curation = mapping.map_themes(
        result.themes, result.unit_themes, unit_areas, ctx.cfg,
        mapping.curation_paths(ctx.cfg, ctx.round_dir))
    result.themes = themes
    write_atomic(ctx.out / "themes.json", themes_json(result, _themes_meta(ctx)))
    matrix = mapping.strategy_matrix(themes, result.unit_themes, unit_areas, ctx.cfg)
    write_atomic(ctx.out / "strategy_matrix.csv", matrix.to_csv())
    summary = mapping.area_summary(themes, result.unit_themes, unit_areas, units, ctx.cfg)
    write_atomic(ctx.out / "area_summary.json", mapping.to_json(summary))
    write_atomic(ctx.out / "curation_report.json", mapping.to_json(curation))
    counts.update({"units_scored": int(unit_areas["unit_id"].nunique()),
                   "gap_themes": sum(1 for t in themes if t.get("gap")),
                   "curated_themes": sum(1 for t in themes if t.get("curated"))})


def stage_report(ctx: Context, counts: dict[str, Any]) -> None:
    from pipeline.report import render_report

    written = render_report(ctx.out, ctx.cfg, run_info=json.loads(ctx.record.to_json()))
    counts.update({"files": sorted(p.name for p in written.values())})


STAGES: dict[str, Stage] = {
    "ingest": stage_ingest,
    "embed": stage_embed,
    "themes": stage_themes,
    "mapping": stage_mapping,
    "report": stage_report,
}

COMMANDS: dict[str, list[str]] = {
    "ingest": ["ingest"],
    "themes": ["ingest", "embed", "themes"],
    "run": ["ingest", "embed", "themes", "mapping", "report"],
}


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


def round_name_of(round_dir: Path, cfg: Config) -> str:
    if cfg.run.round_name:
        return cfg.run.round_name
    manifest = round_dir / cfg.ingest.manifest
    if manifest.exists():
        import yaml

        try:
            data = yaml.safe_load(manifest.read_text(encoding="utf-8-sig")) or {}
            if isinstance(data, dict) and data.get("round"):
                return str(data["round"])
        except yaml.YAMLError:
            pass  # reported properly by ingest, with the line
    return round_dir.resolve().name


def run(command: str, round_dir: Path, cfg: Config, out_root: Path | None = None,
        quiet: bool = False) -> Path:
    round_dir = Path(round_dir)
    root = Path(out_root) if out_root else resolve_path(cfg.run.reports_root)
    name = round_name_of(round_dir, cfg)
    run_id = make_run_id(cfg)
    record = RunRecord(command=command, round_name=name, round_dir=str(round_dir.resolve()),
                       run_id=run_id, config=cfg.to_dict(), config_hash=cfg.hash())
    rd = RunDir(root, name, run_id)
    progress = Progress(quiet=quiet)
    ctx = Context(cfg, round_dir, rd.path, record, progress)
    try:
        import yaml

        write_atomic(rd.path / "config.yaml",
                     yaml.safe_dump(cfg.to_dict(), allow_unicode=True, sort_keys=False))
        for stage_name in COMMANDS[command]:
            progress.say(f"[{stage_name}]")
            with record.stage(stage_name) as counts:
                STAGES[stage_name](ctx, counts)
            if "units" in ctx.tables:
                check_unit_ids(ctx.tables["units"], stage_name)
        final = rd.commit(record)
    except BaseException:
        rd.abort()
        raise
    progress.say(f"done: {final}")
    return final / "report.html" if command == "run" else final
