"""themes.xlsx: the report's tables for analysts who sort, filter and annotate in a spreadsheet.
Each section gives its sheets (`report/sections/`, `Sheet`); this module writes them, after
a README sheet that explains every sheet and column.

Transcript text is data, never a formula: every text cell is stored as a string (never left
to type-guessing), and one that a spreadsheet could read as a formula (starting with = + - @,
or a tab / carriage return that some importers strip) also carries Excel's quote prefix, so
it shows as itself and stays text when edited. Shares are numbers formatted as percentages.
"""

from __future__ import annotations

import io
import math
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.config import Config
from pipeline.report.model import RunData
from pipeline.report.sections import SECTIONS, Sheet, numbered

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
    return ILLEGAL_CHARACTERS_RE.sub("", str(v))[:MAX_CELL]


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
                if cell.value.startswith(FORMULA_START):
                    # Shown as the text it is, and still text when an analyst edits it.
                    cell.quotePrefix = True
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


def readme(sheets: list[Sheet], L: dict[str, str]) -> Sheet:
    """The first sheet: what the workbook is and every sheet's columns (header row only, so
    the other sheets' rows are not consumed)."""
    key_of = {v: k[2:] for k, v in reversed(L.items()) if k.startswith("x_")}
    sheet_key = {v: k[6:] for k, v in L.items() if k.startswith("sheet_")}
    rows: list[list[Any]] = [["", "", L["readme_intro"]]]
    for s in sheets:
        rows.append([s.title, "", s.about or L.get(f"about_{sheet_key.get(s.title)}", "")])
        rows += [[s.title, h, L.get(f"xd_{key_of.get(h, '')}", "")] for h in s.headers]
    return Sheet(L["sheet_readme"], [L["x_sheet"], L["x_column"], L["x_meaning"]], rows,
                 widths={1: 16, 2: 30, 3: 90}, wrap={3})


def render_xlsx(run: RunData, cfg: Config, L: dict[str, str]) -> bytes:
    """One workbook, the sheets of each present section in section order."""
    wb = Workbook()
    wb.remove(wb.active)
    sheets = [sheet for _, section in numbered(SECTIONS, run) if section.sheets
              for sheet in section.sheets(run, cfg, L)]
    write_sheet(wb, readme(sheets, L))
    for sheet in sheets:
        write_sheet(wb, sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
