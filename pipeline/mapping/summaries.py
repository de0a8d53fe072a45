"""Round-level summaries of the mapping: the areas × themes matrix and, per key area, its
units, share, themes, sessions, session types, JT dimensions, focus distribution and quotes.
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
    meta = units.copy()
    meta["unit_id"] = meta["unit_id"].astype(str)
    meta = meta.drop_duplicates("unit_id").set_index("unit_id")
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
            for (uid, _), s in top.head(n_quotes).items():
                row = meta.loc[uid] if uid in meta.index else pd.Series(dtype=object)
                quotes.append({
                    "unit_id": uid, "text": plain(row.get("text")), "score": round(float(s), 3),
                    "speaker": plain(row.get("speaker")),
                    "session_id": plain(row.get("session_id")), "file": plain(row.get("file")),
                    "line_start": plain(row.get("line_start")),
                    "line_end": plain(row.get("line_end")),
                })
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
