"""themes.xlsx: the report's tables for analysts who sort, filter and annotate in a spreadsheet.
Each section gives its sheets (`report/sections/`, `Sheet`); this module writes them.

Transcript text is data, never a formula: any text cell that a spreadsheet could read as
one (starting with = + - @, or a tab / carriage return that some importers strip) gets a
leading apostrophe, and every text cell is stored as a string, not left to type-guessing.
"""

from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.config import Config
from pipeline.report.model import RunData

if TYPE_CHECKING:
    from pipeline.report.sections.base import Sheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL = 32767  # Excel's limit on characters in one cell


def safe(v: Any) -> Any:
    """A value that Excel and LibreOffice will show as itself and never evaluate."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, bool):
        return v
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        v = v.item()
    if isinstance(v, int | float):
        return None if isinstance(v, float) and math.isnan(v) else v
    s = ILLEGAL_CHARACTERS_RE.sub("", str(v))
    if s.startswith(FORMULA_START):
        s = "'" + s
    return s[:MAX_CELL]


def num_id(v: Any) -> Any:
    """Theme ids as numbers where they are numbers (so -1 is not text guarded as a formula)."""
    s = str(v) if v is not None else ""
    return int(s) if re.fullmatch(r"-?\d+", s) else v


def write_sheet(wb: Workbook, sheet: Sheet) -> None:
    ws = wb.create_sheet(sheet.title)
    headers = sheet.headers
    ws.append([safe(h) for h in headers])
    # Row numbers are counted here: `ws.max_row` scans every cell, which made a
    # 10,000-unit sheet quadratic (minutes instead of seconds).
    for n, row in enumerate(sheet.rows, start=2):
        ws.append([safe(v) for v in row])
        for i in range(1, len(row) + 1):
            cell = ws.cell(n, i)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text looks like
            elif i in sheet.formats and cell.value is not None:
                cell.number_format = sheet.formats[i]
    fill = PatternFill("solid", fgColor="E6F1F5")
    for c in ws[1]:
        c.font = Font(bold=True)
        c.fill = fill
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    for i, h in enumerate(headers, 1):
        w = sheet.widths.get(i) or min(40, max(10, 2 * len(str(h)) + 2))
        ws.column_dimensions[get_column_letter(i)].width = w
    for i in sheet.wrap:
        for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            c.alignment = Alignment(wrap_text=True, vertical="top")


def render_xlsx(run: RunData, cfg: Config, L: dict[str, str]) -> bytes:
    """One workbook, the sheets of each present section in section order."""
    from pipeline.report.sections import SECTIONS, numbered

    wb = Workbook()
    wb.remove(wb.active)
    for _, section in numbered(SECTIONS, run):
        for sheet in section.sheets(run, cfg, L) if section.sheets else []:
            write_sheet(wb, sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
