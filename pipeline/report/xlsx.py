"""themes.xlsx: the report's tables for analysts who sort, filter and annotate in a spreadsheet.
Each section gives its sheets (`report/sections/`, `Sheet`); this module writes them, after
a README sheet that explains every sheet and column.

Transcript text is data, never a formula: every text cell is written as a string (XlsxWriter
with its formula, number and URL guessing off), and one that a spreadsheet could read as a
formula (starting with = + - @, or a tab / carriage return that some importers strip) also
carries Excel's quote prefix, so it shows as itself and stays text when edited. Shares are
numbers formatted as percentages.

XlsxWriter in constant-memory mode streams each row as it is written: on a 25-meeting round
(10,000 rows, 370,000 cells) it writes the workbook in half the time openpyxl's write-only
mode took (1.7 s against 3.6 s), which counts in every re-run (issue 13).
"""

from __future__ import annotations

import io
import math
from typing import Any

import pandas as pd
import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

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
        # A cell cannot hold NaN or infinity; an empty cell says "no value".
        return None if isinstance(v, float) and not math.isfinite(v) else v
    return ILLEGAL_CHARACTERS_RE.sub("", str(v))[:MAX_CELL]


class _Formats:
    """The workbook's cell formats, one object per combination (XlsxWriter wants them
    created once, not per cell)."""

    def __init__(self, wb: Workbook):
        self.wb = wb
        self.header = wb.add_format({"bold": True, "bg_color": "#E6F1F5"})
        self._made: dict[tuple[str | None, bool, bool], Format | None] = {}

    def get(self, number: str | None = None, wrap: bool = False, quote: bool = False
            ) -> Format | None:
        key = (number, wrap, quote)
        if key not in self._made:
            props: dict[str, Any] = {}
            if number:
                props["num_format"] = number
            if wrap:
                props.update(text_wrap=True, valign="top")
            if quote:
                props["quote_prefix"] = True
            self._made[key] = self.wb.add_format(props) if props else None
        return self._made[key]


def write_sheet(wb: Workbook, sheet: Sheet, formats: _Formats) -> None:
    """One sheet: widths, the header row (frozen, with a filter over every row), then the
    rows as they come (constant-memory mode writes each row once, in order)."""
    ws: Worksheet = wb.add_worksheet(sheet.title)
    headers = sheet.headers
    for i, h in enumerate(headers):
        ws.set_column(i, i, sheet.widths.get(i + 1) or min(40, max(10, 2 * len(str(h)) + 2)))
    ws.freeze_panes(1, 0)
    for j, h in enumerate(headers):
        ws.write_string(0, j, str(safe(h)), formats.header)
    last, width = 0, len(headers)
    for r, row in enumerate(sheet.rows, 1):
        for j, raw in enumerate(row):
            v, wrap = safe(raw), (j + 1) in sheet.wrap
            if v is None or v == "":  # no cell, as an empty value has none
                if wrap:
                    ws.write_blank(r, j, None, formats.get(wrap=True))
            elif isinstance(v, str):
                # Shown as the text it is, and still text when an analyst edits it.
                ws.write_string(r, j, v, formats.get(wrap=wrap,
                                                     quote=v.startswith(FORMULA_START)))
            elif isinstance(v, bool):
                ws.write_boolean(r, j, v, formats.get(wrap=wrap))
            else:
                ws.write_number(r, j, v, formats.get(sheet.formats.get(j + 1), wrap))
        last, width = r, max(width, len(row))
    if last and width:
        ws.autofilter(0, 0, last, width - 1)


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
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {
        "constant_memory": True, "in_memory": True,
        # Text stays text: no guessing of formulas, numbers or links from a string.
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
    })
    formats = _Formats(wb)
    sheets = [sheet for _, section in numbered(SECTIONS, run) if section.sheets
              for sheet in section.sheets(run, cfg, L)]
    write_sheet(wb, readme(sheets, L), formats)
    for sheet in sheets:
        write_sheet(wb, sheet, formats)
    wb.close()
    return buf.getvalue()
