"""How widely each theme's points are agreed: the votes on its comments (Pol.is exports).

Ingest gives each unit of a voted-on comment `votes_agree`, `votes_disagree`, `votes_pass`
and, with the participants' vote matrix, `votes_agree_min_group` (the lowest agree share over
the opinion groups). Per theme: how often its points were said (units) next to how they were
voted on: the share of all votes on them that agree, and how many of them a majority of
every opinion group agreed with (`broadly_agreed`, Pol.is's "consensus" reading).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.units import best_theme_per_unit

VOTE_COLUMNS = ("votes_agree", "votes_disagree", "votes_pass")
# A point is broadly agreed when at least this share of every opinion group agreed.
BROAD = 0.5


def has_votes(units: pd.DataFrame) -> bool:
    return "votes_agree" in units and units["votes_agree"].notna().any()


def theme_agreement(units: pd.DataFrame, unit_themes: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """theme id -> agreement figures, for the themes of units with votes ({} without votes)."""
    if not has_votes(units):
        return {}
    cols = [c for c in (*VOTE_COLUMNS, "votes_agree_min_group") if c in units]
    ut = best_theme_per_unit(unit_themes)[["unit_id", "theme_id"]]
    rows = ut.merge(units[["unit_id", *cols]], on="unit_id", how="left")
    rows = rows[rows["theme_id"] >= 0]
    out: dict[int, dict[str, Any]] = {}
    for tid, sub in rows.groupby("theme_id", sort=True):
        voted = sub[sub["votes_agree"].notna()]
        counts = {c.removeprefix("votes_"): int(np.nansum(voted[c])) if c in voted else 0
                  for c in VOTE_COLUMNS}
        total = sum(counts.values())
        figures: dict[str, Any] = {
            "comments": len(sub), "comments_voted": len(voted), **counts, "votes": total,
            "agree_share": round(counts["agree"] / total, 4) if total else None,
        }
        if "votes_agree_min_group" in voted:
            groups = voted["votes_agree_min_group"].dropna()
            figures["broadly_agreed"] = int((groups >= BROAD).sum())
            figures["comments_in_groups"] = len(groups)
        out[int(tid)] = figures
    return out


def add_agreement(themes: list[dict[str, Any]], units: pd.DataFrame,
                  unit_themes: pd.DataFrame) -> int:
    """Write each theme's figures into its `agreement` field; returns how many have one."""
    figures = theme_agreement(units, unit_themes)
    for t in themes:
        if int(t["id"]) in figures:
            t["agreement"] = figures[int(t["id"])]
    return len(figures)
