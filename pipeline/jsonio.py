"""JSON output shared by the stages: numpy/pandas scalars as plain values, UTF-8 text."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
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


def labelled_lines(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each line of a labelled JSONL file, every object holding the
    `required` fields; a bad line is a one-line error naming the file and line."""
    from pipeline.source import InputError

    seen = False
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(path, f"not valid JSON ({e.msg})", "one labelled unit per line",
                             line=lineno) from e
        missing = [k for k in required if k not in row]
        if missing:
            raise InputError(path, f"missing field(s) {missing}",
                             f"every line needs {', '.join(required)}", line=lineno)
        seen = True
        yield lineno, row
    if not seen:
        raise InputError(path, "no labelled units", "one JSON object per line")
