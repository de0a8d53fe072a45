"""Round-level summaries of the mapping: the areas × themes matrix; per key area its units,
share, themes, sessions, session types, JT dimensions, focus distribution and quotes; and the
consultation focus of the round's feedback per session type and per area (focus_summary).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from pipeline.config import Config, resolve_path
from pipeline.jsonio import plain
from pipeline.mapping.framework import NONE_ID, Framework, load_framework
from pipeline.mapping.unit_areas import unit_table


def strategy_matrix(themes: list[dict[str, Any]], unit_themes: pd.DataFrame,
                    unit_areas: pd.DataFrame, cfg: Config,
                    framework: Framework | None = None) -> pd.DataFrame:
    """Areas (rows, framework order, NONE last) × themes (columns): units by their own area."""
    fw = framework or load_framework(resolve_path(cfg.mapping.framework))
    area_ids = [a.id for a in fw.key_areas] + [NONE_ID]
    key = unit_table(unit_areas).set_index("unit_id")["key_area"]
    ut = unit_themes.copy()
    ut["unit_id"] = ut["unit_id"].astype(str)
    if "probability" in ut.columns and ut["unit_id"].duplicated().any():
        ut = ut.sort_values("probability", ascending=False, kind="stable")
    ut = ut.drop_duplicates("unit_id")
    ut = ut[ut["unit_id"].isin(key.index)]
    ut["area_id"] = ut["unit_id"].map(key)
    cols = [t.get("id") for t in themes] or sorted(ut["theme_id"].unique())
    table = pd.crosstab(ut["area_id"], ut["theme_id"])
    table = table.reindex(index=area_ids, columns=cols, fill_value=0).fillna(0).astype(int)
    table.index.name = "area_id"
    table.columns.name = None
    return table


def area_summary(themes: list[dict[str, Any]], unit_themes: pd.DataFrame,
                 unit_areas: pd.DataFrame, units: pd.DataFrame, cfg: Config,
                 framework: Framework | None = None, n_quotes: int = 3) -> list[dict[str, Any]]:
    """Per key area (framework order, NONE last): its units, share of the analysed feedback,
    themes, sessions and session types, top quotes, and the gap themes nearest to it."""
    m = cfg.mapping
    fw = framework or load_framework(resolve_path(m.framework))
    per_unit = unit_table(unit_areas).set_index("unit_id")
    score = unit_areas.set_index(["unit_id", "area_id"])["score"]
    meta = _unit_meta(units)
    n_total = len(per_unit)
    mapped = [t for t in themes if "key_area" in t]
    out = []
    for area in [*fw.key_areas, None]:
        aid = area.id if area else NONE_ID
        ids = per_unit.index[per_unit["key_area"] == aid]
        sub = meta.reindex(ids)
        theme_shares = {
            str(t.get("id")): float((t.get("area_distribution") or {}).get(aid, 0.0))
            for t in mapped
        }
        in_themes = [t.get("id") for t in mapped if t.get("key_area") == aid
                     or aid in (t.get("split_areas") or [])]
        quotes = []
        if len(ids):
            top = score.loc[[(u, aid) for u in ids]].sort_values(ascending=False)
            quotes = [_quote(uid, s, meta) for (uid, _), s in top.head(n_quotes).items()]
        gaps = []
        if area is not None:
            for t in mapped:
                dist = {k: v for k, v in (t.get("area_distribution") or {}).items()
                        if k != NONE_ID}
                if t.get("gap") and dist and max(dist, key=lambda k: dist[k]) == aid:
                    gaps.append(t.get("id"))
        out.append({
            "id": aid,
            "facet": "key_area",
            "name": area.name if area else fw.name_of(NONE_ID),
            "description": area.description if area else (
                fw.none_area.description if fw.none_area else None),
            "n_units": len(ids),
            "share": round(len(ids) / n_total, 4) if n_total else 0.0,
            "themes": in_themes,
            "theme_shares": {k: round(v, 3) for k, v in theme_shares.items() if v >= 0.05},
            "sessions": _counts(sub, "session_id"),
            "session_types": _counts(sub, "session_type"),
            "jt_dimensions": dict(Counter(d for x in per_unit.loc[ids, "jt_dimensions"]
                                          for d in x)),
            "consultation_focus": dict(Counter(f for f in per_unit.loc[ids, "focus"]
                                               if isinstance(f, str) and f)),
            # Share of the area's units per focus ("" = no focus): the focus distribution.
            "focus_distribution": _focus_shares(per_unit.loc[ids, "focus"], fw),
            "quotes": quotes,
            "gaps": gaps,
        })
    return out


def _quote(uid: str, score: float, meta: pd.DataFrame) -> dict[str, Any]:
    """A unit as a traceable quote: its text, score, speaker, session, file and lines."""
    row = meta.loc[uid] if uid in meta.index else pd.Series(dtype=object)
    return {
        "unit_id": uid, "text": plain(row.get("text")), "score": round(float(score), 3),
        "speaker": plain(row.get("speaker")),
        "session_id": plain(row.get("session_id")), "file": plain(row.get("file")),
        "line_start": plain(row.get("line_start")),
        "line_end": plain(row.get("line_end")),
    }


def _unit_meta(units: pd.DataFrame) -> pd.DataFrame:
    meta = units.copy()
    meta["unit_id"] = meta["unit_id"].astype(str)
    return meta.drop_duplicates("unit_id").set_index("unit_id")


def focus_summary(unit_areas: pd.DataFrame, units: pd.DataFrame, cfg: Config,
                  framework: Framework | None = None, n_quotes: int = 10) -> dict[str, Any]:
    """Which consultation focus the round's feedback concerned: over the analysed units that
    have a key area (the others carry no focus), the units per focus ("" = no focus) in
    total, per session type and per key area, and each focus's clearest participant quotes
    (highest focus probability) with their evidence, as many as the report may show
    (`report.area_quotes` ≤ 10). Codes only: names are the framework's."""
    fw = framework or load_framework(resolve_path(cfg.mapping.framework))
    fids = [f.id for f in fw.focuses]
    per_unit = unit_table(unit_areas).set_index("unit_id")
    per_unit = per_unit[per_unit["key_area"] != NONE_ID]
    meta = _unit_meta(units).reindex(per_unit.index)
    focus = per_unit["focus"].map(lambda f: f if isinstance(f, str) and f in fids else "")

    def counts(sel: pd.Series) -> dict[str, Any]:
        c = Counter(focus[sel])
        n = int(sel.sum())
        return {"n_units": n, "counts": {f: int(c.get(f, 0)) for f in [*fids, ""]},
                "shares": {f: round(c.get(f, 0) / n, 3) if n else 0.0 for f in [*fids, ""]}}

    stype = (meta["session_type"] if "session_type" in meta.columns
             else pd.Series(None, index=meta.index)).map(plain)
    by_type = [{"session_type": t, **counts(stype == t)}
               for t, _ in Counter(stype.dropna()).most_common()]
    if stype.isna().any():
        by_type.append({"session_type": None, **counts(stype.isna())})
    by_area = [{"area_id": a.id, **counts(per_unit["key_area"] == a.id)}
               for a in fw.key_areas if (per_unit["key_area"] == a.id).any()]
    score = pd.to_numeric(per_unit.get("focus_score"), errors="coerce").fillna(0.0)
    role = meta["role"] if "role" in meta.columns else pd.Series(None, index=meta.index)
    # Feedback is participants' words; officials' and moderators' are context.
    speaks = role.isna() | (role == "participant")
    quotes = {}
    for f in fids:
        top = score[(focus == f) & speaks].sort_values(ascending=False, kind="stable")
        quotes[f] = [{**_quote(uid, s, meta), "focus_keywords": [
            str(w) for w in per_unit.at[uid, "focus_keywords"]]
            if "focus_keywords" in per_unit.columns else []}
            for uid, s in top.head(n_quotes).items()]
    return {"focuses": [{"id": f.id, "name": f.name} for f in fw.focuses],
            "basis": "analysed units with a key area",
            "total": counts(pd.Series(True, index=per_unit.index)),
            "by_session_type": by_type, "by_area": by_area, "quotes": quotes}


def _focus_shares(focus: pd.Series, fw: Framework) -> dict[str, float]:
    if not len(focus):
        return {}
    ids = [f.id for f in fw.focuses]
    vals = [f if isinstance(f, str) and f in ids else "" for f in focus]
    return {f: round(vals.count(f) / len(vals), 3) for f in [*ids, ""]}


def _counts(df: pd.DataFrame, col: str) -> dict[str, int]:
    if col not in df.columns:
        return {}
    c = Counter(str(v) for v in df[col] if plain(v) is not None)
    return dict(c.most_common())
