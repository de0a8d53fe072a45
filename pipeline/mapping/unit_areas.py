"""Reading the `unit_areas` table (one row per unit and area, made by unit_scores.py): one row
per unit, the probability matrix, and the round's prior adaptation. Columns: docs/mapping.md.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

UNIT_COLUMNS = ["key_area", "key_area_score", "confidence", "jt_dimensions", "focus",
                "focus_score", "focus_keywords", "relevance", "relevance_keywords", "method"]


def round_prior(unit_areas: pd.DataFrame) -> dict[str, Any] | None:
    """What the round-level prior adaptation did in `score_units` (None for the rules)."""
    return unit_areas.attrs.get("prior_adaptation")


def unit_table(unit_areas: pd.DataFrame) -> pd.DataFrame:
    """One row per unit (its decision) from the long table of `score_units`."""
    cols = ["unit_id", *[c for c in UNIT_COLUMNS if c in unit_areas.columns]]
    return unit_areas.drop_duplicates("unit_id")[cols].reset_index(drop=True)


def prob_matrix(unit_areas: pd.DataFrame, area_ids: list[str]) -> pd.DataFrame:
    wide = unit_areas.pivot_table(index="unit_id", columns="area_id", values="score",
                                  aggfunc="first")
    return wide.reindex(columns=area_ids).fillna(0.0)
