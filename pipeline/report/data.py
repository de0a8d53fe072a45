"""Read a finished run folder into one view model that the HTML, Markdown and xlsx writers share.

Every number shown in a report comes from the run's own files; nothing is estimated here.
Later stages are optional (an ingest-only or themes-only run still renders), and fields
that a stage may or may not write are read defensively, with a note in the report when
something expected is missing, so an analyst knows what is absent rather than seeing zeros.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import rundir
from pipeline.config import Config
from pipeline.report.areas import (
    build_areas,
    build_focus,
    build_matrix,
    fill_entries,
    fill_orphans,
    link_themes,
    load_framework,
)
from pipeline.report.comments import build_comments
from pipeline.report.labels import labels_for
from pipeline.report.model import (
    NO_AREA,
    Crosstab,
    RunData,
    Session,
    Theme,
    float_dict,
    quote_from,
)
from pipeline.units import analysed_mask, best_theme_per_unit
from pipeline.values import UNSPECIFIED, float_or_none, int_or, text_or_none

# Config sections that act when a report is drawn (`consult report RUN_DIR --set …`).
RENDER_SECTIONS = ("report", "participation")


def load_run(run_dir: Path, cfg: Config, run_info: dict[str, Any] | None = None) -> RunData:
    run_dir = Path(run_dir)
    notes: list[str] = []
    run = run_info if run_info is not None else _json(run_dir / rundir.RUN_JSON, notes)
    run = run or {}
    summary = _json(run_dir / rundir.INGEST_SUMMARY, notes) or {}
    themes_doc = _json(run_dir / rundir.THEMES, notes)
    area_doc = _json(run_dir / rundir.AREA_SUMMARY, notes, required=False)
    units = _parquet(run_dir / rundir.UNITS, notes)
    unit_themes = _parquet(run_dir / rundir.UNIT_THEMES, notes, required=themes_doc is not None)
    unit_areas = _parquet(run_dir / rundir.UNIT_AREAS, notes, required=False)
    if units is None:
        units = pd.DataFrame(columns=["unit_id", "session_id", "text", "analysed"])

    meta = (themes_doc or {}).get("meta") or {}
    config = run.get("config") or cfg.to_dict()
    rerendered = False
    if run_info is None and run.get("config"):
        # `consult report RUN_DIR [--set …]`: the settings the report is drawn with now are
        # shown, not the analysis run's (the analysis settings cannot change afterwards).
        now = cfg.to_dict()
        drawn = {k: now[k] for k in RENDER_SECTIONS if k in now}
        rerendered = any(config.get(k) != v for k, v in drawn.items())
        config = {**config, **drawn}
    unit_by_id = units.drop_duplicates("unit_id").set_index("unit_id", drop=False)
    analysed = units[analysed_mask(units)]
    n_analysed = int_or(summary.get("units_analysed"), len(analysed))

    sessions = _sessions(units, run)
    labels = labels_for(cfg.report)
    unknown = labels["unknown"]
    type_totals = dict(Counter(text_or_none(v) or unknown
                               for v in analysed.get("session_type", [])))

    raw_themes = [t for t in (themes_doc or {}).get("themes") or [] if not _is_outlier(t)]
    theme_units = _theme_units(unit_themes)
    themes = [_theme(i, t, unit_by_id, theme_units, cfg, unknown)
              for i, t in enumerate(raw_themes)]
    for t in themes:
        t.gap_reason = t.gap_text(labels, english=cfg.report.language == "en")
    stats = (themes_doc or {}).get("stats") or {}
    n_out, out_share = _outliers(stats, unit_themes)

    framework = load_framework(cfg, area_doc)
    mapped = any(t.mapped for t in themes)
    if themes and not mapped:
        notes.append("mapping")
    areas, share_basis, none_share = build_areas(framework, area_doc, themes, unit_areas,
                                                 n_analysed)
    link_themes(themes, areas, cfg)
    fill_entries(areas, themes, unit_by_id, unit_areas, cfg)
    fill_orphans(areas, unit_areas, unit_by_id, cfg)
    focus = build_focus(_focus_summary(run_dir, unit_areas, units, cfg), unit_by_id, framework,
                        cfg)
    gaps = [t for t in themes if t.gap]
    matrix = build_matrix(run_dir / rundir.STRATEGY_MATRIX, areas, themes)

    excluded = [(str(k), int_or(v, 0)) for k, v in (summary.get("units_excluded") or {}).items()
                if text_or_none(k) is not None]
    if not excluded and "excluded_reason" in units:
        excluded = Counter(r for r in map(text_or_none, units["excluded_reason"])
                           if r).most_common()
    redactions = [(str(k), int_or(v, 0)) for k, v in (summary.get("redactions") or {}).items()]

    participation = _participation(run_dir, units, unit_themes, themes_doc, cfg)
    compare = _json(run_dir / rundir.DIFF, notes, required=False)
    tracking = _json(run_dir / rundir.TRACKING, notes, required=False)

    return RunData(
        run_dir=run_dir,
        round=str(run.get("round_name") or meta.get("round") or summary.get("round") or ""),
        run_id=str(run.get("run_id") or meta.get("run_id") or run_dir.name),
        config_hash=str(run.get("config_hash") or meta.get("config_hash") or ""),
        command=run.get("command"), started=run.get("started"), finished=run.get("finished"),
        config=config, packages=dict(run.get("packages") or {}),
        inputs=list(run.get("inputs") or []), skipped=list(run.get("skipped") or []),
        stages=dict(run.get("stages") or {}), sessions=sessions,
        n_units=int_or(summary.get("units"), len(units)), n_analysed=n_analysed,
        excluded=excluded, redactions=redactions, themes=themes, theme_stats=stats,
        n_outliers=n_out, outlier_share=out_share, mapped=mapped, areas=areas, gaps=gaps,
        area_share_basis=share_basis, none_share=none_share, matrix=matrix,
        type_totals=type_totals, units=units, unit_themes=unit_themes, unit_areas=unit_areas,
        notes=notes, participation=participation, compare=compare, tracking=tracking,
        speakers=list((_json(run_dir / rundir.SPEAKERS, notes, required=False) or {})
                      .get("speakers") or []),
        procedural_kinds=sorted(((str(k), int_or(v, 0)) for k, v in
                                 (summary.get("procedural_by_kind") or {}).items()),
                                key=lambda kv: -kv[1]),
        courtesy=stats.get("courtesy"),
        focus=focus,
        title=text_or_none(summary.get("title")),
        rerendered=rerendered,
        none_units=_none_units(unit_areas),
        comments=build_comments(run_dir, summary, units, unit_themes, themes, stats, themes_doc),
        proposals=_json(run_dir / rundir.PROPOSALS, notes, required=False),
    )


def _participation(run_dir: Path, units: pd.DataFrame, unit_themes: pd.DataFrame | None,
                   themes_doc: dict[str, Any] | None, cfg: Config) -> Any:
    """The participation stage's map (participation.json); computed here for a run folder
    made before that stage existed. The session limit is applied at render time, so
    `consult report RUN_DIR --set participation.max_sessions=4` re-renders with another."""
    from pipeline import participation

    path = run_dir / rundir.PARTICIPATION
    if path.exists():
        cmap = participation.from_json(json.loads(path.read_text(encoding="utf-8")))
    else:
        cmap = participation.collaboration_map(units, unit_themes, themes_doc, cfg.participation)
    cmap = participation.with_limit(cmap, cfg.participation.max_sessions)
    return None if cmap.empty else cmap


def _none_units(unit_areas: pd.DataFrame | None) -> int | None:
    if unit_areas is None or "key_area" not in unit_areas.columns:
        return None
    decided = unit_areas.drop_duplicates("unit_id")
    return int(decided["key_area"].astype(str).isin(NO_AREA).sum())


# --- reading files ------------------------------------------------------------------------


def _focus_summary(run_dir: Path, unit_areas: pd.DataFrame | None, units: pd.DataFrame,
                   cfg: Config) -> dict[str, Any] | None:
    """The mapping stage's focus_summary.json; computed here (by the same function) for a run
    folder made before the stage wrote it."""
    path = run_dir / rundir.FOCUS_SUMMARY
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    if unit_areas is None or "focus" not in unit_areas.columns:
        return None
    from pipeline.mapping.summaries import focus_summary

    try:
        return focus_summary(unit_areas, units, cfg)
    except (OSError, ValueError, KeyError):
        return None  # the framework file changed since: the section is left out


def _json(path: Path, notes: list[str], required: bool = True) -> Any:
    if not path.exists():
        if required:
            notes.append(f"missing:{path.name}")
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _parquet(path: Path, notes: list[str], required: bool = True) -> pd.DataFrame | None:
    if not path.exists():
        if required:
            notes.append(f"missing:{path.name}")
        return None
    return pd.read_parquet(path)


# --- sessions -----------------------------------------------------------------------------

_SESSION_STD = {"session_id", "session_title", "session_date", "session_type",
                "session_location", "session_participants"}


def _sessions(units: pd.DataFrame, run: dict[str, Any]) -> list[Session]:
    files = {i.get("session_id"): i.get("file") for i in run.get("inputs") or []}
    out: list[Session] = []
    if "session_id" not in units or units.empty:
        return [Session(str(sid), None, None, None, None, None, f, 0, 0)
                for sid, f in files.items()]
    extra_cols = sorted(c for c in units.columns
                        if c.startswith("session_") and c not in _SESSION_STD)
    for sid, g in units.groupby("session_id", sort=False):
        first = g.iloc[0]
        analysed = int(analysed_mask(g).sum())
        out.append(Session(
            id=str(sid), title=text_or_none(first.get("session_title")),
            date=text_or_none(first.get("session_date")),
            type=text_or_none(first.get("session_type")),
            location=text_or_none(first.get("session_location")),
            participants=text_or_none(first.get("session_participants")),
            file=files.get(sid) or text_or_none(first.get("file")), units=len(g), analysed=analysed,
            extra={c.removeprefix("session_"): text_or_none(first.get(c)) for c in extra_cols},
        ))
    return out


# --- themes -------------------------------------------------------------------------------


def _is_outlier(t: dict[str, Any]) -> bool:
    # BERTopic's outlier "topic" is -1; the themes stage may or may not list it.
    return str(t.get("id")) == "-1" or bool(t.get("outlier"))


def _theme_units(unit_themes: pd.DataFrame | None) -> dict[str, list[str]]:
    """Theme id -> unit ids, one theme per unit (the most probable, if several are listed)."""
    if unit_themes is None or unit_themes.empty:
        return {}
    ut = best_theme_per_unit(unit_themes)
    out: dict[str, list[str]] = {}
    for uid, tid in zip(ut["unit_id"], ut["theme_id"], strict=True):
        out.setdefault(str(tid), []).append(str(uid))
    return out


# themes.json's code for a unit without the field (older runs wrote the words).
_UNSPECIFIED = {UNSPECIFIED, "未註明"}


def _counts(d: Any, unknown: str) -> list[tuple[str, int]]:
    if not isinstance(d, dict):
        return []
    items = [(unknown if k in _UNSPECIFIED else text_or_none(k) or unknown, int_or(v, 0))
             for k, v in d.items()]
    return sorted(items, key=lambda kv: -kv[1])


def _keywords(raw: Any, limit: int) -> list[tuple[str, float | None]]:
    out: list[tuple[str, float | None]] = []
    for k in raw or []:
        if isinstance(k, dict):
            word = text_or_none(k.get("word"))
            if word:
                out.append((word, float_or_none(k.get("weight"))))
        elif isinstance(k, list | tuple) and k:
            out.append((str(k[0]), float_or_none(k[1]) if len(k) > 1 else None))
        elif text_or_none(k):
            out.append((str(k), None))
    return out[:limit]


def _crosstab(ids: list[str], unit_by_id: pd.DataFrame, unknown: str) -> Crosstab | None:
    ids = [u for u in ids if u in unit_by_id.index]
    if not ids or "session_type" not in unit_by_id or "session_location" not in unit_by_id:
        return None
    sub = unit_by_id.loc[ids]
    pairs = Counter((text_or_none(t) or unknown, text_or_none(loc) or unknown)
                    for t, loc in zip(sub["session_type"], sub["session_location"], strict=True))
    rows = [k for k, _ in Counter(t for t, _ in pairs.elements()).most_common()]
    cols = [k for k, _ in Counter(loc for _, loc in pairs.elements()).most_common()]
    return Crosstab(rows, cols, dict(pairs))


def _theme(i: int, t: dict[str, Any], unit_by_id: pd.DataFrame,
           theme_units: dict[str, list[str]], cfg: Config, unknown: str) -> Theme:
    tid = str(t.get("id", i))
    counts = t.get("counts") or {}
    quotes = [q for q in (quote_from(x, unit_by_id) for x in t.get("quotes") or []) if q]
    official = [q for q in (quote_from(x, unit_by_id) for x in t.get("official_quotes") or [])
                if q]
    mapped = any(k in t for k in ("key_area", "area_distribution", "gap"))
    key = text_or_none(t.get("key_area"))
    ids = theme_units.get(tid, [])
    return Theme(
        idx=i, id=tid, anchor=f"t{i + 1}",
        label=text_or_none(t.get("label")) or f"#{tid}",
        keywords=_keywords(t.get("keywords"), cfg.report.max_keywords),
        size=int_or(t.get("size"), len(ids)), share=float_or_none(t.get("share")),
        by_type=_counts(counts.get("session_type"), unknown),
        by_location=_counts(counts.get("session_location"), unknown),
        by_session=_counts(counts.get("session_id"), unknown),
        by_role=_counts(counts.get("role"), unknown),
        crosstab=_crosstab(ids, unit_by_id, unknown), quotes=quotes, official_quotes=official,
        mapped=mapped,
        key_area=None if key in NO_AREA else key,
        key_area_confidence=float_or_none(t.get("key_area_confidence")),
        area_distribution=float_dict(t.get("area_distribution")),
        jt_dimensions=[str(x) for x in t.get("jt_dimensions") or [] if text_or_none(x)],
        focus=text_or_none(t.get("consultation_focus")),
        evidence=[str(x) for x in t.get("evidence") or [] if text_or_none(x)],
        gap=bool(t.get("gap")), gap_given="gap" in t, gap_reason=text_or_none(t.get("gap_reason")),
        curation=t.get("curation") if isinstance(t.get("curation"), dict) else None,
        label_computed=text_or_none(t.get("label_computed")),
        label_curated=bool(t.get("label_curated")), reviewed=bool(t.get("reviewed")),
        merged_from=[m for m in t.get("merged_from") or [] if isinstance(m, dict)],
        agreement=t.get("agreement") if isinstance(t.get("agreement"), dict) else None,
        curated=t.get("curated"),
    )


def _outliers(stats: dict[str, Any], unit_themes: pd.DataFrame | None
              ) -> tuple[int | None, float | None]:
    share = float_or_none(stats.get("outlier_share"))
    n = stats.get("n_outliers")
    if unit_themes is not None and len(unit_themes):
        ut = unit_themes.drop_duplicates("unit_id")
        is_out = ut["theme_id"].astype(str) == "-1"
        n = int(is_out.sum()) if n is None else n
        share = float(is_out.mean()) if share is None else share
    return (int_or(n, 0) if n is not None else None), share
