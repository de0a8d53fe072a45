"""Reading the tables every stage after ingest shares: which units are analysed, and the one
theme of each unit.

Written once here so that the stages and the report cannot disagree about either.
"""

from __future__ import annotations

import pandas as pd


def analysed_mask(units: pd.DataFrame) -> pd.Series:
    """True for the units that are analysed (embedded, clustered, mapped, quoted).

    A table without the `analysed` column (one made by hand or by an older version) counts
    every unit as analysed; a missing value counts as not analysed.
    """
    if "analysed" not in units:
        return pd.Series(True, index=units.index)
    return units["analysed"].fillna(False).astype(bool)


def analysed_units(units: pd.DataFrame) -> pd.DataFrame:
    """The analysed rows in table order, renumbered: the rows the embeddings belong to."""
    return units[analysed_mask(units)].reset_index(drop=True)


def best_theme_per_unit(unit_themes: pd.DataFrame) -> pd.DataFrame:
    """One row per unit: its most probable theme when the table lists a unit more than once
    (the first listed on a tie), else the table as it is."""
    ut = unit_themes
    if "probability" in ut and ut["unit_id"].duplicated().any():
        ut = ut.sort_values("probability", ascending=False, kind="stable")
    return ut.drop_duplicates("unit_id")
