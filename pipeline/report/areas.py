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

from pipeline import safeyaml
from pipeline.config import Config, resolve_path
from pipeline.report.model import (
    AREA_FACETS,
    NO_AREA,
    Area,
    AreaEntry,
    AreaLink,
    FocusRow,
    FocusView,
    Matrix,
    Quote,
    Theme,
    _clean,
    _float,
    _int,
    quote_from,
)
from pipeline.values import float_or_none, int_or


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
            return safeyaml.load(safeyaml.read_text(path, "framework file"))
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
        cols = [(str(c), by_key[str(c)].ref if str(c) in by_key else str(c),
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
    cols = [(t.id, t.ref, t.anchor) for t in mapped]
    values = {(a.area_id, t.id): a.share for t in mapped for a in t.areas
              if a.share is not None}
    return Matrix("shares", rows, cols, values)


# --- consultation focus and areas without a theme (issue 11) ----------------------------------


def _unit_decisions(unit_areas: pd.DataFrame | None) -> pd.DataFrame | None:
    """One row per unit with the mapping's own decision (key_area, focus, evidence)."""
    if unit_areas is None or not len(unit_areas) or "key_area" not in unit_areas.columns:
        return None
    cols = [c for c in ("unit_id", "key_area", "focus", "focus_score", "focus_keywords",
                        "key_area_score") if c in unit_areas.columns]
    u = unit_areas.drop_duplicates("unit_id")[cols].copy()
    u["unit_id"] = u["unit_id"].astype(str)
    return u.set_index("unit_id")


def _participant_quote(uid: str, unit_by_id: pd.DataFrame) -> Quote | None:
    q = quote_from(uid, unit_by_id)
    # Feedback is participants' words; officials' and moderators' are context.
    return q if q is not None and q.role in (None, "participant") else None


def build_focus(doc: dict[str, Any] | None, unit_by_id: pd.DataFrame,
                framework: list[dict[str, Any]], cfg: Config) -> FocusView | None:
    """The focus section's view of the mapping stage's focus_summary.json (`doc`: which
    consultation focus the units with a strategy area concerned, in total, per session type
    and per area): the counts as computed there, each focus's clearest participant quotes
    (`report.area_quotes` of them) as the report shows quotes, with their evidence."""
    total = (doc or {}).get("total") or {}
    focuses = [(str(f["id"]), str(f.get("name") or f["id"]))
               for f in (doc or {}).get("focuses") or [] if isinstance(f, dict) and "id" in f]
    if doc is None or not focuses or not int_or(total.get("n_units"), 0):
        return None
    names = {a["id"]: a.get("name") or a["id"] for a in framework}

    def counts(rec: dict[str, Any]) -> dict[str, int]:
        raw = rec.get("counts") or {}
        return {f: int_or(raw.get(f), 0) for f in [*(f for f, _ in focuses), ""]}

    def type_name(value: Any) -> str:
        return _clean(value) or "—"

    by_type = [FocusRow(type_name(r.get("session_type")), type_name(r.get("session_type")),
                        int_or(r.get("n_units"), 0), counts(r))
               for r in doc.get("by_session_type") or []]
    by_area = [FocusRow(str(r["area_id"]), names.get(str(r["area_id"]), str(r["area_id"])),
                        int_or(r.get("n_units"), 0), counts(r))
               for r in doc.get("by_area") or [] if r.get("area_id") is not None]
    quotes: dict[str, list[Quote]] = {}
    evidence: dict[str, str] = {}
    for f, _ in focuses:
        got: list[Quote] = []
        for rec in (doc.get("quotes") or {}).get(f) or []:
            q = _participant_quote(str(rec.get("unit_id")), unit_by_id)
            if q is None:
                continue
            got.append(q)
            words = "、".join(str(w) for w in rec.get("focus_keywords") or [])
            score = float_or_none(rec.get("score")) or 0.0
            evidence[q.unit_id] = f"p={score:.2f}" + (f"; {words}" if words else "")
            if len(got) >= cfg.report.area_quotes:
                break
        quotes[f] = got
    return FocusView(focuses, int_or(total.get("n_units"), 0), counts(total), by_type, by_area,
                     quotes, evidence)


def fill_orphans(areas: list[Area], unit_areas: pd.DataFrame | None, unit_by_id: pd.DataFrame,
                 cfg: Config) -> None:
    """Areas that units were mapped to but no theme bears on: their unit count and best
    quotes (the units most confidently in the area), so they are not hidden as 'no theme'."""
    u = _unit_decisions(unit_areas)
    if u is None:
        return
    score = pd.to_numeric(u.get("key_area_score", pd.Series(0.0, index=u.index)),
                          errors="coerce").fillna(0.0)
    for a in areas:
        if a.entries:
            continue
        mine = score[u["key_area"].astype(str) == a.id].sort_values(ascending=False,
                                                                      kind="stable")
        if not len(mine):
            continue
        if a.n_units is None:
            a.n_units = len(mine)
        for uid in mine.index:
            q = _participant_quote(str(uid), unit_by_id)
            if q is not None:
                a.orphan_quotes.append(q)
            if len(a.orphan_quotes) >= cfg.report.area_quotes:
                break
