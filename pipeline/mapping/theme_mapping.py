"""Themes onto the framework: each theme's area distribution (the mean of its units' area
probabilities), key area and confidence, split areas, JT dimensions and focus, evidence units,
and gaps (themes about net-zero that no area takes); then the analyst's curation entries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Config, resolve_path
from pipeline.curation import Curation, apply_theme_curation, load_curation
from pipeline.fingerprint import theme_fingerprint
from pipeline.mapping.framework import NONE_ID, Framework, load_framework
from pipeline.mapping.unit_areas import prob_matrix, unit_table


def _theme_members(unit_themes: pd.DataFrame, known: pd.Index) -> dict[str, pd.Series]:
    """Theme id (as text) -> its scored units, with their membership probability."""
    ut = unit_themes[unit_themes["unit_id"].astype(str).isin(known)].copy()
    ut["unit_id"] = ut["unit_id"].astype(str)
    if "probability" in ut.columns:
        ut["p"] = pd.to_numeric(ut["probability"], errors="coerce").fillna(1.0).clip(0, 1)
    else:
        ut["p"] = 1.0
    return {str(tid): g.groupby("unit_id")["p"].max() for tid, g in ut.groupby("theme_id")}


def _share_dict(values: pd.Series, ids: list[str], min_share: float = 0.0) -> dict[str, float]:
    return {a: round(float(values[a]), 3) for a in ids if float(values[a]) > min_share}


def map_themes(
    themes: list[dict[str, Any]],
    unit_themes: pd.DataFrame,
    unit_areas: pd.DataFrame,
    cfg: Config,
    curation_paths: Sequence[Path] = (),
    framework: Framework | None = None,
    curation: Curation | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Themes enriched with their mapping, and a report of what curation matched.

    Added to each theme: key_area (its strongest area if that holds ≥ `theme_min_share` of
    the theme, else "NONE"), key_area_name, key_area_confidence (the key area's share of the
    theme's area-bearing mass), area_distribution {area: share} (NONE included), area_units
    {area: units whose own key area it is}, split_areas (other areas with ≥ `split_share`),
    jt_dimensions, jt_distribution, consultation_focus, focus_distribution, evidence (unit
    ids, strongest first), net_zero_share, gap, gap_reason, then the analyst's `themes:`
    curation entries (pipeline/curation.py): curated (bool), curation (the entries applied,
    with what was computed before them), label_curated and label_computed (a rename),
    reviewed. `curation` (already loaded, as the runner does) takes precedence over
    `curation_paths`.
    """
    m = cfg.mapping
    fw = framework or load_framework(resolve_path(m.framework))
    area_ids = [a.id for a in fw.key_areas] + [NONE_ID]
    units = unit_table(unit_areas).set_index("unit_id")
    probs = prob_matrix(unit_areas, area_ids)
    members = _theme_members(unit_themes, units.index)
    jt_ids = [a.id for a in fw.jt_dimensions]
    focus_ids = [a.id for a in fw.focuses]

    out: list[dict[str, Any]] = []
    for theme in themes:
        t = dict(theme)
        w = members.get(str(t.get("id")), pd.Series(dtype=float))
        out.append(_map_one(t, w, units, probs, area_ids, jt_ids, focus_ids, fw, cfg))

    cur = curation if curation is not None else load_curation(list(curation_paths), fw)
    report = {"files": list(cur.files),
              **apply_theme_curation(out, cur, fw, m.curation_min_similarity)}
    return out, report


def _map_one(t: dict[str, Any], w: pd.Series, units: pd.DataFrame, probs: pd.DataFrame,
             area_ids: list[str], jt_ids: list[str], focus_ids: list[str], fw: Framework,
             cfg: Config) -> dict[str, Any]:
    m = cfg.mapping
    if w.empty:
        t.update(key_area=NONE_ID, key_area_name=fw.name_of(NONE_ID), key_area_confidence=None,
                 area_distribution={}, area_units={}, split_areas=[], jt_dimensions=[],
                 jt_distribution={}, consultation_focus=None, focus_distribution={},
                 evidence=[], net_zero_share=None, gap=False, gap_reason=None, curated=False,
                 curation=None)
        return t
    ids = list(w.index)
    # Every unit of a theme counts once (the distribution is the mean of its units' area
    # probabilities, so it reads as "share of the theme's units"); membership probability
    # only ranks the evidence. Units placed by outlier reduction have probability 0.
    p = probs.loc[ids]
    mass = p.mean()
    key, confidence = _key_area(mass, m.theme_min_share)
    u = units.loc[ids]
    hard = Counter(u["key_area"])
    split = [a for a in area_ids if a not in (key, NONE_ID) and mass[a] >= m.split_share]
    jt_dist, focus_dist = _facet_shares(u, jt_ids, focus_ids)
    jt = [d for d in jt_ids if jt_dist.get(d, 0) >= m.theme_jt_share] if key != NONE_ID else []
    focus = None
    if key != NONE_ID and focus_dist:
        best_f = max(focus_dist, key=lambda f: focus_dist[f])
        focus = best_f if focus_dist[best_f] >= m.theme_focus_share else None
    # Evidence: units most strongly in the key area, typical members of the theme first.
    strength = p[key] * (0.5 + 0.5 * w)
    evidence = [str(x) for x in strength.sort_values(ascending=False).index[: m.evidence_units]]
    nz_share, gap, reason = _gap(t, u, p, mass, key, area_ids, fw, cfg)
    t.update(
        key_area=key,
        key_area_name=fw.name_of(key),
        key_area_confidence=round(confidence, 3),
        area_distribution=_share_dict(mass, area_ids, 0.005),
        area_units={a: int(hard[a]) for a in area_ids if hard.get(a)},
        split_areas=split,
        jt_dimensions=jt,
        jt_distribution=jt_dist,
        consultation_focus=focus,
        focus_distribution=focus_dist,
        evidence=evidence,
        net_zero_share=round(nz_share, 3),
        gap=bool(gap),
        gap_reason=reason,
        curated=False,
        curation=None,
    )
    return t


def _key_area(mass: pd.Series, min_share: float) -> tuple[str, float]:
    """A theme's key area and confidence from its mean area probabilities.

    The key area is the theme's strongest AREA when it holds a real share of the theme:
    procedural fragments (NONE) in a theme about S12 should not hide S12. Only when no area
    reaches `min_share` is the theme NONE. Confidence: the key area's share of what in the
    theme is about some area (or, for NONE, the share of the theme that is about no area).
    """
    areas_only = mass.drop(NONE_ID)
    top_area = str(areas_only.idxmax())
    key = top_area if areas_only[top_area] >= min_share else NONE_ID
    area_mass = float(areas_only.sum())
    confidence = (float(mass[key]) / area_mass if key != NONE_ID and area_mass > 0
                  else float(mass[NONE_ID]))
    return key, confidence


def _facet_shares(u: pd.DataFrame, jt_ids: list[str], focus_ids: list[str]
                  ) -> tuple[dict[str, float], dict[str, float]]:
    """JT-dimension and focus shares among the theme's units that have a key area (the
    others carry neither)."""
    placed = u["key_area"] != NONE_ID
    jt_dist: dict[str, float] = {}
    focus_dist: dict[str, float] = {}
    if placed.any():
        sub = u[placed.to_numpy()]
        for d in jt_ids:
            has = sub["jt_dimensions"].map(lambda x, d=d: d in list(x))
            jt_dist[d] = round(float(has.mean()), 3)
        for f in focus_ids:
            focus_dist[f] = round(float((sub["focus"] == f).mean()), 3)
    return jt_dist, focus_dist


def _gap(t: dict[str, Any], u: pd.DataFrame, p: pd.DataFrame, mass: pd.Series, key: str,
         area_ids: list[str], fw: Framework, cfg: Config) -> tuple[float, bool, str | None]:
    """(net-zero share, gap, reason). A gap is a theme about net-zero / the transition
    (relevance anchor, or the framework's relevance keywords) that no area takes: either the
    theme as a whole has no key area, or most of its units fit none with conviction."""
    m = cfg.mapping
    relevant = u["relevance"].to_numpy() >= m.relevance_threshold
    if "relevance_keywords" in u.columns:
        relevant |= u["relevance_keywords"].map(lambda x: len(x) > 0).to_numpy(dtype=bool)
    best_area = p[[a for a in area_ids if a != NONE_ID]].max(axis=1).to_numpy()
    unplaced = relevant & ((u["key_area"] == NONE_ID).to_numpy() | (best_area < m.gap_max_fit))
    nz_share = float(relevant.mean())
    unplaced_share = float(unplaced.mean())
    size = int(t.get("size") or len(u))
    outlier = str(t.get("id")) == "-1"
    gap = (not outlier and size >= m.gap_min_size and nz_share >= m.gap_min_share
           and (key == NONE_ID or unplaced_share >= m.gap_min_share))
    if not gap:
        return nz_share, False, None
    nearest = max((a for a in area_ids if a != NONE_ID), key=lambda a: mass[a])
    words = "、".join(theme_fingerprint(t)[:6])
    why = ("as a theme they fit no strategy area (no area holds it)" if key == NONE_ID else
           f"{int(unplaced.sum())} of them fit no strategy area (best area probability "
           f"< {m.gap_max_fit})")
    reason = (
        f"{int(relevant.sum())} of {len(u)} units are about net-zero or the transition "
        f"but {why}; nearest area {nearest} {fw.name_of(nearest)} takes only "
        f"{mass[nearest]:.0%} of the theme" + (f"; keywords: {words}" if words else "")
    )
    return nz_share, True, reason
