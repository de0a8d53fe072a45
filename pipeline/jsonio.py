"""JSON output shared by the stages: numpy/pandas scalars as plain values, UTF-8 text."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd


def plain(v: Any) -> Any:
    """A JSON-friendly scalar: numpy → Python, NaN / pandas NA → None, anything else as is."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def to_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=plain)
