"""themes.xlsx: the report's tables for analysts who sort, filter and annotate in a spreadsheet.

Transcript text is data, never a formula: any text cell that a spreadsheet could read as
one (starting with = + - @, or a tab / carriage return that some importers strip) gets a
leading apostrophe, and every text cell is stored as a string, not left to type-guessing.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.config import Config
from pipeline.report.comments import xlsx_sheets
from pipeline.report.model import RunData
from pipeline.units import analysed_mask, best_theme_per_unit
from pipeline.values import text_or_none

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


def _sheet(wb: Workbook, title: str, headers: list[str], rows: Iterable[list[Any]],
           widths: dict[int, int] | None = None, wrap: set[int] | None = None) -> None:
    ws = wb.create_sheet(title)
    ws.append([safe(h) for h in headers])
    # Row numbers are counted here: `ws.max_row` scans every cell, which made a
    # 10,000-unit sheet quadratic (minutes instead of seconds).
    for n, row in enumerate(rows, start=2):
        ws.append([safe(v) for v in row])
        for i in range(1, len(row) + 1):
            cell = ws.cell(n, i)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text looks like
    fill = PatternFill("solid", fgColor="E6F1F5")
    for c in ws[1]:
        c.font = Font(bold=True)
        c.fill = fill
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    for i, h in enumerate(headers, 1):
        w = (widths or {}).get(i) or min(40, max(10, 2 * len(str(h)) + 2))
        ws.column_dimensions[get_column_letter(i)].width = w
    for i in wrap or set():
        for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            c.alignment = Alignment(wrap_text=True, vertical="top")


def render_xlsx(run: RunData, cfg: Config, L: dict[str, str]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    names = {a.id: a.name for a in run.areas}

    def counts(items: list[tuple[str, int]]) -> str:
        return "、".join(f"{k or L['unknown']} {n}" for k, n in items)

    _sheet(wb, "themes", [
        L["x_theme_id"], L["x_label"], L["x_keywords"], L["x_size"], L["x_share"],
        L["x_key_area"], L["x_key_area_name"], L["x_confidence"], L["x_areas"], L["x_jt"],
        L["x_focus"], L["x_gap"], L["x_gap_reason"], L["x_types"], L["x_locations"],
        L["curated"], L["reviewed"], L["label_computed"], L["curation_source"]],
        ([num_id(t.id), t.label, "、".join(w for w, _ in t.keywords), t.size, t.share, t.key_area,
          names.get(t.key_area or "", t.key_area), t.key_area_confidence,
          "、".join(f"{a.area_id} {a.share:.2f}" if a.share is not None else a.area_id
                   for a in t.areas),
          "、".join(t.jt_dimensions), t.focus, L["yes"] if t.gap else L["no"], t.gap_reason,
          counts(t.by_type), counts(t.by_location),
          L["yes"] if (t.curated or t.label_curated) else L["no"],
          L["yes"] if t.reviewed else L["no"], t.label_computed,
          "\n".join(t.curation_lines(L)) or None] for t in run.themes),
        widths={2: 30, 3: 40, 9: 30, 13: 40, 14: 30, 15: 30, 18: 30, 19: 50})

    _sheet(wb, "quotes", [
        L["x_theme_id"], L["x_label"], L["x_quote_no"], L["x_unit_id"], L["x_text"],
        L["x_session_id"], L["x_session_title"], L["x_date"], L["x_session_type"],
        L["x_location"], L["x_speaker"], L["x_role"], L["x_source"]],
        ([num_id(t.id), t.label, n, q.unit_id, q.text, q.session_id, q.session_title,
          q.session_date, q.session_type, q.session_location, q.speaker,
          L.get(f"role_{q.role}", q.role), q.source]
         for t in run.themes for n, q in enumerate(t.quotes, 1)),
        widths={2: 24, 4: 14, 5: 70, 7: 24, 13: 28}, wrap={5})

    _units_sheet(wb, run, cfg, L, names)

    if run.comments is not None:
        # Template campaigns, one sheet per mapped column (by_county, ...), agreement.
        for title, headers, rows in xlsx_sheets(run.comments, L):
            _sheet(wb, title, headers, rows, widths={4: 60})

    m = run.matrix
    if m is not None:
        _sheet(wb, "strategy_matrix",
               [L["x_area_id"], L["x_key_area_name"], *(f"{k} {h}" for k, h, _ in m.theme_cols)],
               ([aid, name] + [m.values.get((aid, k), 0.0) for k, _, _ in m.theme_cols]
                for aid, name in m.areas), widths={2: 20})
    else:
        _sheet(wb, "strategy_matrix", [L["x_area_id"]], [[L["mapping_missing"]]])

    inputs = {i.get("session_id"): i for i in run.inputs}
    extra = sorted({k for s in run.sessions for k in s.extra})
    _sheet(wb, "sessions", [
        L["x_session_id"], L["x_session_title"], L["x_date"], L["x_session_type"],
        L["x_location"], L["x_participants"], L["x_file"], L["x_units"],
        L["x_analysed_units"], L["x_sha256"], *extra],
        ([s.id, s.title, s.date, s.type, s.location, s.participants, s.file, s.units,
          s.analysed, (inputs.get(s.id) or {}).get("sha256")] + [s.extra.get(k) for k in extra]
         for s in run.sessions), widths={2: 28, 6: 30, 7: 28, 10: 66})

    cm = run.participation
    if cm is not None:
        sids = [str(c) for c in cm.org_sessions.columns]
        presence = cm.org_sessions
        _sheet(wb, "participation", [
            L["organisation"], L["sessions"], L["session_types"], L["locations"],
            L["org_top_themes"], L["organiser"], L["flag"], *sids],
            ([r["organisation"], r["sessions"], "、".join(r["session_types"]),
              "、".join(r["locations"]),
              "；".join(f"{t['label']}（{t['units']}）" for t in r["top_themes"]),
              L["yes"] if r["organiser"] else L["no"], r["reason"]]
             + [int(presence.at[r["organisation"], c]) if r["organisation"] in presence.index
                else 0 for c in presence.columns]
             for r in cm.org_summary.to_dict("records")),
            widths={1: 28, 3: 24, 4: 24, 5: 60, 7: 22})

    tr = run.tracking
    if tr:
        rounds = [str(r.get("round") or r.get("run_id")) for r in tr.get("rounds") or []]
        _sheet(wb, "tracking",
               [L["x_theme_id"], L["x_label"], L["status"], *rounds],
               ([num_id(t["id"]), t["label"], L.get(f"status_{t['status']}", t["status"]),
                 *t["shares"]] for t in tr.get("themes") or []),
               widths={2: 40})

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _units_sheet(wb: Workbook, run: RunData, cfg: Config, L: dict[str, str],
                 names: dict[str, str]) -> None:
    units = run.units
    if cfg.report.xlsx_units == "analysed":
        units = units[analysed_mask(units)]
    theme_of: dict[str, tuple[str, float | None]] = {}
    if run.unit_themes is not None and len(run.unit_themes):
        ut = best_theme_per_unit(run.unit_themes)
        for u, t, p in zip(ut["unit_id"], ut["theme_id"],
                           ut["probability"] if "probability" in ut else [None] * len(ut),
                           strict=True):
            theme_of.setdefault(str(u), (str(t), p))
    labels = {t.id: t.label for t in run.themes}
    scores: dict[str, dict[str, float]] = {}
    area_cols: list[str] = []
    ua = run.unit_areas
    if ua is not None and {"unit_id", "area_id", "score"} <= set(ua.columns):
        for u, a, s in zip(ua["unit_id"], ua["area_id"], ua["score"], strict=True):
            scores.setdefault(str(u), {})[str(a)] = s
        present = {str(a) for a in ua["area_id"]}
        area_cols = [a.id for a in run.areas if a.id in present]
        area_cols += sorted(present - set(area_cols))
    headers = [L["x_unit_id"], L["x_session_id"], L["x_session_title"], L["x_session_type"],
               L["x_location"], L["x_speaker"], L["x_role"], L["x_text"], L["x_analysed"],
               L["x_excluded"], L["x_theme_id"], L["x_label"], L["x_probability"],
               L["x_top_area"], L["x_source"]]
    # The mapping's own decision per unit (key area after the NONE threshold, focus with its
    # probability and keywords, JT dimensions): what the focus section counts.
    decided: dict[str, Any] = {}
    if ua is not None and "key_area" in ua.columns:
        for r in ua.drop_duplicates("unit_id").itertuples(index=False):
            decided[str(r.unit_id)] = r
    dec_cols = [L["x_unit_key_area"], L["x_unit_focus"], L["x_unit_focus_score"],
                L["x_unit_focus_keywords"], L["x_unit_jt"], L["x_mapping_method"]]
    headers += dec_cols if decided else []
    headers += [f"{a} {names[a]}" if names.get(a, a) != a else a for a in area_cols]

    def decision(u: str) -> list[Any]:
        if not decided:
            return []
        r = decided.get(u)
        if r is None:
            return [None] * len(dec_cols)

        def words(v: Any) -> str | None:
            return "、".join(str(w) for w in v) if v is not None and len(v) else None

        focus = getattr(r, "focus", None)
        return [r.key_area, focus if isinstance(focus, str) and focus else None,
                getattr(r, "focus_score", None) if isinstance(focus, str) and focus else None,
                words(getattr(r, "focus_keywords", None)), words(getattr(r, "jt_dimensions", None)),
                getattr(r, "method", None)]

    def rows() -> Iterable[list[Any]]:
        for r in units.itertuples(index=False):
            u = str(r.unit_id)
            tid, prob = theme_of.get(u, (None, None))
            sc = scores.get(u, {})
            top = max(sc, key=lambda k: sc[k]) if sc else None
            ls, le = getattr(r, "line_start", None), getattr(r, "line_end", None)
            src = f"{r.file}:{ls}" + (f"–{le}" if le is not None and le != ls else "") \
                if getattr(r, "file", None) else None
            reason = text_or_none(getattr(r, "excluded_reason", None))
            analysed = bool(getattr(r, "analysed", True))
            yield [u, getattr(r, "session_id", None),
                   text_or_none(getattr(r, "session_title", None)),
                   text_or_none(getattr(r, "session_type", None)),
                   text_or_none(getattr(r, "session_location", None)), getattr(r, "speaker", None),
                   L.get(f"role_{getattr(r, 'role', '')}", getattr(r, "role", None)),
                   r.text, L["yes"] if analysed else L["no"],
                   L.get(f"reason_{reason}", reason) if reason else None,
                   num_id(tid), labels.get(tid or "", L["outliers"] if tid == "-1" else None),
                   prob, top, src] + decision(u) + \
                [sc.get(a) for a in area_cols]

    _sheet(wb, "units", headers, rows(), widths={1: 14, 3: 22, 8: 70, 12: 24, 15: 26},
           wrap={8})

