"""Chart layouts for the HTML report: numbers and strings only, drawn by template macros.

Charts are hand-made inline SVG and HTML tables rather than plotly: the report stays a
few hundred kB instead of carrying a 4 MB script that can fetch things (mathjax, map
tiles), it prints, it renders without JavaScript, and its text goes through the same
jinja2 autoescaping as everything else (no markup is built here).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from pipeline.report.model import NO_AREA, RunData

FONT_PX = 13
ROW_H = 26
LABEL_MAX_EM = 16.0
BAR_W = 360
VALUE_W = 90


@dataclass
class Bar:
    label: str
    full_label: str
    value: float
    text: str
    y: float
    width: float
    href: str | None = None
    theme: str | None = None  # theme anchor, for filtering


@dataclass
class BarChart:
    width: int
    height: int
    label_w: int
    bar_x: int
    bars: list[Bar]
    ticks: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Cell:
    text: str
    alpha: float
    tooltip: str


@dataclass
class HeatRow:
    header: str
    tooltip: str
    cells: list[Cell]
    href: str | None = None
    theme: str | None = None


@dataclass
class Heatmap:
    cols: list[tuple[str, str]]  # (header, tooltip)
    rows: list[HeatRow]


def text_em(s: str) -> float:
    """Approximate rendered width in em: CJK and full-width characters are 1 em wide."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in s)


def clip(s: str, max_em: float = LABEL_MAX_EM) -> str:
    if text_em(s) <= max_em:
        return s
    out, w = "", 0.0
    for c in s:
        w += text_em(c)
        if w > max_em - 1:
            break
        out += c
    return out + "…"


def bar_chart(items: list[tuple[str, float, str, str | None, str | None]]) -> BarChart | None:
    """items: (label, value, value text, link, theme anchor)."""
    if not items:
        return None
    labels = [clip(i[0]) for i in items]
    label_w = int(max(text_em(s) for s in labels) * FONT_PX) + 16
    vmax = max(i[1] for i in items) or 1.0
    bars = [Bar(label, full, value, text, 8 + n * ROW_H, BAR_W * value / vmax, href, theme)
            for n, ((full, value, text, href, theme), label) in enumerate(zip(items, labels,
                                                                              strict=True))]
    return BarChart(width=label_w + BAR_W + VALUE_W, height=8 + ROW_H * len(items) + 8,
                    label_w=label_w, bar_x=label_w, bars=bars)


def pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f}%"


def theme_sizes(run: RunData) -> BarChart | None:
    items = [(t.ref, float(t.size), f"{t.size}（{pct(t.share)}）" if t.share is not None
              else str(t.size), f"#{t.anchor}", t.anchor) for t in run.themes]
    return bar_chart(items)


def area_shares(run: RunData, none_label: str) -> BarChart | None:
    if run.area_share_basis is None:
        return None
    items: list[tuple[str, float, str, str | None, str | None]] = [
        (f"{a.id} {a.name}" if a.name != a.id else a.id, a.share or 0.0,
         pct(a.share) + (f"（{a.n_units}）" if a.n_units is not None else ""),
         f"#area-{a.id}" if a.entries else None, None) for a in run.areas]
    if run.none_share is not None:
        items.append((none_label, run.none_share, pct(run.none_share), None, None))
    return bar_chart(items)


def types_heatmap(run: RunData, unknown: str) -> Heatmap | None:
    types: list[str] = []
    for t in run.themes:
        types += [k for k, _ in t.by_type if k not in types]
    if not types:
        return None
    totals = run.type_totals
    cols = [(k or unknown, f"{k or unknown}：{totals.get(k, 0)}") for k in types]
    shares = {(t.anchor, k): (n / totals[k] if totals.get(k) else 0.0)
              for t in run.themes for k, n in t.by_type}
    # The darkest cell is the largest share in this table, so the scale always spreads.
    top = max(shares.values(), default=0.0) or 1.0
    rows = []
    for t in run.themes:
        got = dict(t.by_type)
        cells = []
        for k in types:
            n = got.get(k, 0)
            share = shares.get((t.anchor, k), 0.0)
            cells.append(Cell(str(n) if n else "", share / top,
                              f"{t.ref} × {k or unknown}：{n}（{pct(share)}）"))
        rows.append(HeatRow(clip(t.ref, 14), t.ref, cells, f"#{t.anchor}", t.anchor))
    return Heatmap(cols, rows)


def matrix_heatmap(run: RunData, none_label: str) -> Heatmap | None:
    m = run.matrix
    if m is None or not m.areas or not m.theme_cols:
        return None
    # Themes are rows (they are filtered and there may be many); areas are columns.
    cols = [(none_label, none_label) if aid in NO_AREA else (aid, name) for aid, name in m.areas]
    rows = []
    for key, header, anchor in m.theme_cols:
        col_total = sum(m.values.get((aid, key), 0.0) for aid, _ in m.areas) or 1.0
        cells = []
        for aid, name in m.areas:
            v = m.values.get((aid, key), 0.0)
            share = v if m.kind == "shares" else v / col_total
            text = (pct(v, 0) if v else "") if m.kind == "shares" else (f"{v:g}" if v else "")
            cells.append(Cell(text, min(1.0, share), f"{header} × {aid} {name}：{text or 0}"))
        rows.append(HeatRow(clip(header, 14), header, cells,
                            f"#{anchor}" if anchor else None, anchor))
    return Heatmap(cols, rows)


def org_sessions_heatmap(run: RunData, flag: str) -> Heatmap | None:
    """Organisations (rows) × sessions (columns, by date): who took part where (協力地圖)."""
    cmap = run.participation
    if cmap is None or cmap.empty:
        return None
    info = {s.id: s for s in run.sessions}
    cols = []
    for sid in cmap.org_sessions.columns:
        s = info.get(str(sid))
        bits = [b for b in (s.date, s.type, s.location) if b] if s else []
        head = f"{sid} {s.location}" if s and s.location else str(sid)
        cols.append((head, f"{s.title or sid}（{'，'.join(bits)}）" if s else str(sid)))
    summary = cmap.org_summary.set_index("organisation")
    rows = []
    for org, present in cmap.org_sessions.iterrows():
        flagged = bool(summary.at[org, "flagged"]) if org in summary.index else False
        n = int(present.sum())
        cells = [Cell("●" if v else "", 0.9 if v and flagged else (0.55 if v else 0.0),
                      f"{org} × {sid}" + ("：出席" if v else "")) for sid, v in present.items()]
        header = f"{flag} {org}" if flagged else str(org)
        rows.append(HeatRow(clip(header, 14), f"{org}：{n}", cells))
    return Heatmap(cols, rows)


def org_themes_heatmap(run: RunData) -> Heatmap | None:
    """Organisations × themes: analysed units of each theme in the sessions each attended."""
    cmap = run.participation
    if cmap is None or cmap.empty or cmap.org_themes.empty:
        return None
    by_id = {t.id: t for t in run.themes}
    keys = [str(c) for c in cmap.org_themes.columns]
    # Columns by theme number (the label in the tooltip), as the cards count them.
    cols = [(str(by_id[k].number), by_id[k].ref) if k in by_id else (k, k) for k in keys]
    # Each organisation's own speakers' units where any is known, else its sessions' units.
    said = set(cmap.org_summary.loc[cmap.org_summary.get("attribution", pd.Series(
        dtype=object)) == "speaker", "organisation"]) if "attribution" in \
        cmap.org_summary else set()
    table = cmap.org_themes.copy()
    for org in said & set(table.index) & set(cmap.org_themes_direct.index):
        table.loc[org] = cmap.org_themes_direct.loc[org]
    top = float(table.to_numpy().max()) or 1.0
    rows = []
    for org, counts in table.iterrows():
        cells = []
        for k, v in zip(keys, counts.tolist(), strict=True):
            label = by_id[k].ref if k in by_id else k
            cells.append(Cell(str(int(v)) if v else "", float(v) / top,
                              f"{org} × {label}：{int(v)}"))
        rows.append(HeatRow(clip(str(org), 14), str(org), cells))
    return Heatmap(cols, rows)
