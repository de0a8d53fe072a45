"""The mapping stage: a round's analysed units and themes → the strategy framework.

What the runner calls (`map_round`): every analysed unit is scored against the framework from
the embed stage's vectors (unit_scores.py), themes aggregate their units (theme_mapping.py,
then the analyst's curation entries), and the round is summarised per area (summaries.py).
The framework is the run's, parsed once (`runner._framework`). docs/mapping.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.curation import Curation
from pipeline.mapping.framework import Framework
from pipeline.mapping.mapper import get_mapper
from pipeline.mapping.summaries import area_summary, focus_summary, strategy_matrix
from pipeline.mapping.theme_mapping import map_themes
from pipeline.mapping.unit_scores import score_units


@dataclass
class RoundMapping:
    """Everything the mapping stage provides and writes."""

    unit_areas: pd.DataFrame  # one row per (unit, area): unit_areas.parquet
    themes: list[dict[str, Any]]  # themes with their mapping fields (themes.json)
    curation: dict[str, Any]  # what the `themes:` curation entries matched
    matrix: pd.DataFrame  # areas × themes (strategy_matrix.csv)
    areas: list[dict[str, Any]]  # per key area (area_summary.json)
    focus: dict[str, Any]  # focus per session type and area (focus_summary.json)


def map_round(units: pd.DataFrame, vectors: np.ndarray, themes: list[dict[str, Any]],
              unit_themes: pd.DataFrame, framework: Framework, curation: Curation,
              cfg: Config) -> RoundMapping:
    """Map one round: `vectors` are the embed stage's (rows = analysed units)."""
    unit_areas = score_units(units, cfg, get_mapper(cfg, framework), vectors=vectors)
    mapped, report = map_themes(themes, unit_themes, unit_areas, cfg, framework=framework,
                                curation=curation)
    report.pop("files", None)
    matrix = strategy_matrix(mapped, unit_themes, unit_areas, cfg, framework)
    areas = area_summary(mapped, unit_themes, unit_areas, units, cfg, framework)
    focus = focus_summary(unit_areas, units, cfg, framework)
    return RoundMapping(unit_areas, mapped, report, matrix, areas, focus)
