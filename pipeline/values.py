"""Cell values as the stages and the report read them back: missing values (None, NaN, pandas
NA/NaT) recognised in one way, text and numbers read leniently."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

# How a missing value reads once it has been through str() (a parquet or JSON round trip).
# themes.json code for a unit without a session field (the report words it).
UNSPECIFIED = "unspecified"
MISSING_TEXT = frozenset({"", "nan", "NaN", "None", "<NA>"})


def is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def text_or_none(v: Any) -> str | None:
    """A value as stripped text, or None for missing ones (including their str() forms)."""
    if is_missing(v):
        return None
    s = str(v).strip()
    return None if s in MISSING_TEXT else s


def int_or(v: Any, default: int) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def float_or_none(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f
