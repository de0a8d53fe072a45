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


def build_focus(unit_areas: pd.DataFrame | None, unit_by_id: pd.DataFrame,
                framework: list[dict[str, Any]], cfg: Config,
                focus_entries: list[tuple[str, str]]) -> FocusView | None:
    """Which consultation focus the units with a strategy area concerned: totals, per session
    type, per strategy area, and each focus's clearest participant quotes."""
    u = _unit_decisions(unit_areas)
    if u is None or "focus" not in u.columns or not focus_entries:
        return None
    u = u[~u["key_area"].astype(str).isin(NO_AREA)]
    if not len(u):
        return None
    fid = [f for f, _ in focus_entries]
    focus = u["focus"].map(lambda f: f if isinstance(f, str) and f in fid else "")
    types = pd.Series([_clean(unit_by_id.at[i, "session_type"])
                       if i in unit_by_id.index and "session_type" in unit_by_id.columns
                       else None for i in u.index], index=u.index).fillna("—")
    names = {a["id"]: a.get("name") or a["id"] for a in framework}

    def rows(key: pd.Series, order: list[str]) -> list[FocusRow]:
        out = []
        for k in order:
            sel = key == k
            if not sel.any():
                continue
            c = Counter(focus[sel])
            out.append(FocusRow(k, names.get(k, k), int(sel.sum()),
                                {f: int(c.get(f, 0)) for f in [*fid, ""]}))
        return out

    area_order = [a["id"] for a in framework] + sorted(set(u["key_area"].astype(str))
                                                       - {a["id"] for a in framework})
    type_order = [t for t, _ in Counter(types).most_common()]
    score = pd.to_numeric(u.get("focus_score", pd.Series(0.0, index=u.index)),
                          errors="coerce").fillna(0.0)
    quotes: dict[str, list[Quote]] = {}
    for f in fid:
        ranked = score[focus == f].sort_values(ascending=False, kind="stable")
        got: list[Quote] = []
        for uid in ranked.index:
            q = _participant_quote(str(uid), unit_by_id)
            if q is not None:
                got.append(q)
            if len(got) >= cfg.report.area_quotes:
                break
        quotes[f] = got
    evidence = {}
    for uid in [q.unit_id for qs in quotes.values() for q in qs]:
        kws = u.at[uid, "focus_keywords"] if "focus_keywords" in u.columns else None
        words = "、".join(str(w) for w in kws) if kws is not None and len(kws) else ""
        evidence[uid] = f"p={score.get(uid, 0.0):.2f}" + (f"; {words}" if words else "")
    c = Counter(focus)
    return FocusView(list(focus_entries), len(u), {f: int(c.get(f, 0)) for f in [*fid, ""]},
                     rows(types, type_order), rows(u["key_area"].astype(str), area_order),
                     quotes, evidence)


def focus_entries(cfg: Config, area_doc: Any) -> list[tuple[str, str]]:
    """(id, name) of the framework's consultation focuses, in file order."""
    doc = _framework_file(cfg)
    recs = _area_records(doc) if doc is not None else []
    return [(str(a["id"]), str(a.get("name") or a["id"])) for a in recs
            if a.get("facet") == "consultation_focus"]


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
