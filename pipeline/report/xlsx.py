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
from openpyxl.cell import WriteOnlyCell
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
    # A write-only sheet streams its rows: half the time and a fraction of the memory of a
    # normal one on a 10,000-unit round. Widths, frozen header and filter are declared first.
    ws = wb.create_sheet(sheet.title)
    headers = sheet.headers
    for i, h in enumerate(headers, 1):
        w = sheet.widths.get(i) or min(40, max(10, 2 * len(str(h)) + 2))
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="E6F1F5")
    wrap = Alignment(wrap_text=True, vertical="top")
    head = []
    for h in headers:
        c = WriteOnlyCell(ws, value=safe(h))
        c.font, c.fill = bold, fill
        head.append(c)
    ws.append(head)
    n_rows, width = 1, len(headers)
    for row in sheet.rows:
        cells = []
        for i, v in enumerate(row, 1):
            c = WriteOnlyCell(ws, value=safe(v))
            if isinstance(c.value, str):
                c.data_type = "s"  # never a formula, whatever the text looks like
                if c.value.startswith(FORMULA_START):
                    # Shown as the text it is, and still text when an analyst edits it.
                    c.quotePrefix = True
            elif i in sheet.formats and c.value is not None:
                c.number_format = sheet.formats[i]
            if i in sheet.wrap:
                c.alignment = wrap
            cells.append(c)
        ws.append(cells)
        n_rows, width = n_rows + 1, max(width, len(row))
    if n_rows > 1 and width:
        ws.auto_filter.ref = f"A1:{get_column_letter(width)}{n_rows}"


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
    wb = Workbook(write_only=True)
    sheets = [sheet for _, section in numbered(SECTIONS, run) if section.sheets
              for sheet in section.sheets(run, cfg, L)]
    write_sheet(wb, readme(sheets, L))
    for sheet in sheets:
        write_sheet(wb, sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
