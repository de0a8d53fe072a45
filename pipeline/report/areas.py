"""Strategy areas for the report: the framework's areas, which themes bear on each, their
share of feedback, representative quotes, and the areas × themes matrix.

Reads what the mapping stage wrote (themes.json mapping fields, area_summary.json,
unit_areas.parquet, strategy_matrix.csv); names and descriptions come from the run's own
area_summary.json first and the framework file (`mapping.framework`) second.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.config import Config, resolve_path
from pipeline.report.model import (
    AREA_FACETS,
    NO_AREA,
    Area,
    AreaEntry,
    AreaLink,
    Matrix,
    Theme,
    _clean,
    _float,
    _int,
    quote_from,
)


def load_framework(cfg: Config, area_doc: Any) -> list[dict[str, Any]]:
    """The strategy areas, in framework order: the run's own area_summary.json first (it is
    what the run used), names and descriptions filled in from the framework file."""
    from_run = _area_records(area_doc)
    from_file = [a for a in _area_records(_framework_file(cfg)) if a.get("facet") in AREA_FACETS]
    by_id = {a["id"]: a for a in from_file}
    out = []
    for a in from_run or from_file:
        merged = {**by_id.get(a["id"], {}), **{k: v for k, v in a.items() if v is not None}}
        if merged.get("facet") in AREA_FACETS:
            out.append(merged)
    seen = {a["id"] for a in out}
    out += [a for a in from_file if a["id"] not in seen]
    return [a for a in out if a["id"] not in NO_AREA]


def _framework_file(cfg: Config) -> Any:
    # The mapping stage owns the framework's location (`mapping.framework`); read as plain
    # YAML so that an old run still renders after the framework's schema grows.
    section = cfg.to_dict().get("mapping") or {}
    candidates = [c for c in [section.get("framework")] if isinstance(c, str)]
    for c in [*candidates, "configs/strategy_areas.yaml"]:
        path = resolve_path(c)
        if path.is_file():
            return yaml.safe_load(path.read_text(encoding="utf-8"))
    return None


def _area_records(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict):
        inner = doc.get("areas", doc.get("strategy_areas"))
        if inner is not None:
            doc = inner
        else:
            doc = [{"id": k, **v} if isinstance(v, dict) else {"id": k, "name": v}
                   for k, v in doc.items() if k not in {"gaps", "meta"}]
    out = []
    for a in doc or []:
        if not isinstance(a, dict) or _clean(a.get("id")) is None:
            continue
        out.append({**a, "id": str(a["id"]), "name": _clean(a.get("name")),
                    "description": _clean(a.get("description")),
                    "facet": _clean(a.get("facet"))})
    return out


def build_areas(framework: list[dict[str, Any]], area_doc: Any, themes: list[Theme],
           unit_areas: pd.DataFrame | None, n_analysed: int
           ) -> tuple[list[Area], str | None, float | None]:
    areas = [Area(a["id"], a.get("name") or a["id"], a.get("description"),
                  _float(a.get("share")), _int(a.get("n_units"), 0) if a.get("n_units")
                  is not None else None) for a in framework]
    known = {a.id for a in areas}
    # Areas a theme names that the framework lacks are shown under their id, not dropped.
    for t in themes:
        if t.key_area and t.key_area not in known:
            areas.append(Area(t.key_area, t.key_area, None, None, None))
            known.add(t.key_area)
    basis: str | None = None
    none_share: float | None = None
    if any(a.share is not None for a in areas):
        basis = "area_summary"
    elif unit_areas is not None and len(unit_areas) and n_analysed:
        top = (unit_areas.sort_values("score", ascending=False, kind="stable")
               .drop_duplicates("unit_id"))
        c = Counter(str(x) for x in top["area_id"])
        for a in areas:
            a.n_units = c.get(a.id, 0)
            a.share = a.n_units / n_analysed
        none_share = sum(v for k, v in c.items() if k in NO_AREA) / n_analysed
        basis = "unit_areas"
    elif any(t.key_area for t in themes) and n_analysed:
        for a in areas:
            a.n_units = sum(t.size for t in themes if t.key_area == a.id)
            a.share = a.n_units / n_analysed
        basis = "themes"
    return areas, basis, none_share


def link_themes(themes: list[Theme], areas: list[Area], cfg: Config) -> None:
    names = {a.id: a.name for a in areas}
    for t in themes:
        if not t.mapped:
            continue
        raw = t.area_distribution
        links = [AreaLink(k, names.get(k, k), v, k == t.key_area)
                 for k, v in sorted(raw.items(), key=lambda kv: -kv[1]) if k not in NO_AREA]
        if t.key_area and t.key_area not in raw:
            links.insert(0, AreaLink(t.key_area, names.get(t.key_area, t.key_area), None, True))
        t.areas = links
        if t.gap:
            continue  # the mapping stage found no area covers it; do not list it under one
        bears = [t.key_area] if t.key_area else []
        bears += [a.area_id for a in links if a.area_id not in bears and a.share is not None
                  and a.share >= cfg.report.area_min_share]
        t.bears_on = bears
        if not bears and not t.gap_given:
            # No area at all and the mapping stage did not say: it is uncovered feedback.
            t.gap = True


def fill_entries(areas: list[Area], themes: list[Theme], unit_by_id: pd.DataFrame,
                  unit_areas: pd.DataFrame | None, cfg: Config) -> None:
    score: dict[tuple[str, str], float] = {}
    if unit_areas is not None and {"unit_id", "area_id", "score"} <= set(unit_areas.columns):
        for u, a, s in zip(unit_areas["unit_id"], unit_areas["area_id"], unit_areas["score"],
                           strict=True):
            if (f := _float(s)) is not None:
                score[(str(u), str(a))] = f
    by_id = {a.id: a for a in areas}
    for t in themes:
        for aid in t.bears_on:
            area = by_id.get(aid)
            if area is None:
                continue
            link = next((x for x in t.areas if x.area_id == aid), None)
            # The mapping's evidence for the key area first, then the theme's own quotes;
            # ranked by how strongly each unit scores on this area where scores exist.
            # Only participants' words are quoted as feedback (officials' are context).
            cands = [q for q in (quote_from(u, unit_by_id) for u in t.evidence)
                     if q and q.role in (None, "participant")] if aid == t.key_area else []
            seen = {q.unit_id for q in cands}
            cands += [q for q in t.quotes if q.unit_id not in seen]
            if score:
                cands.sort(key=lambda q: -score.get((q.unit_id, aid), 0.0))
            area.entries.append(AreaEntry(t, aid == t.key_area,
                                          link.share if link else None,
                                          cands[: cfg.report.area_quotes]))
    for area in areas:
        area.entries.sort(key=lambda e: (not e.primary, -e.theme.size))


def build_matrix(path: Path, areas: list[Area], themes: list[Theme]) -> Matrix | None:
    names = {a.id: a.name for a in areas}
    if path.exists():
        df = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
        by_key = {t.id: t for t in themes} | {t.label: t for t in themes}
        cols = [(str(c), by_key[str(c)].label if str(c) in by_key else str(c),
                 by_key[str(c)].anchor if str(c) in by_key else None) for c in df.columns]
        rows = [(str(r), names.get(str(r), str(r))) for r in df.index]
        values = {(str(r), str(c)): _float(df.at[r, c]) or 0.0
                  for r in df.index for c in df.columns}
        return Matrix("counts", rows, cols, values)
    mapped = [t for t in themes if t.areas]
    if not mapped:
        return None
    used = {a.area_id for t in mapped for a in t.areas if a.share is not None}
    rows = [(a.id, a.name) for a in areas if a.id in used]
    cols = [(t.id, t.label, t.anchor) for t in mapped]
    values = {(a.area_id, t.id): a.share for t in mapped for a in t.areas
              if a.share is not None}
    return Matrix("shares", rows, cols, values)
