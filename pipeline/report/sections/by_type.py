"""What each type of session raised (智庫/專家/學研, 地方政府, 各類團體, 綜合 …): per type its
analysed units, the themes and strategy areas it raised most (share of that type's units)
and two participant quotes for each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipeline.config import Config
from pipeline.report.charts import pct
from pipeline.report.mdtext import md, quote
from pipeline.report.model import NO_AREA, Quote, RunData, Theme, quote_from
from pipeline.report.sections.base import Labels, Section, Sheet
from pipeline.units import analysed_mask, best_theme_per_unit
from pipeline.values import text_or_none

TOP = 3  # themes and areas listed per type
QUOTES = 2  # quotes per theme or area

HTML = r"""<section id="by_type">
<h2>{{ n }}. {{ L.by_type }}</h2>
<p class="intro">{{ L.session_types_intro }}</p>
{% if not types %}<p class="note">{{ L.st_none }}</p>{% endif %}
{% for ty in types %}
<article class="group by-type" id="type-{{ loop.index }}">
<h3>{{ ty.name }} <span class="pill">{{ L.st_units.format(n=ty.n, sessions=ty.sessions) }}</span></h3>
<div class="two">
<div>
<h4>{{ L.st_top_themes }}</h4>
<ul class="area-themes">
{% for t, k, share, quotes in ty.themes %}
<li class="area-theme"><p class="facts"><a href="#{{ t.anchor }}">{{ L.theme_no }} {{ t.number }}：{{ t.label }}</a> · {{ k }} {{ L.area_units }}（{{ share|pct }}）</p>
<ul class="quotes">{% for q in quotes %}{{ quote_item(q) }}{% endfor %}</ul></li>
{% endfor %}
</ul>
</div>
<div>
<h4>{{ L.st_top_areas }}</h4>
<ul class="area-themes">
{% for aid, name, k, share, quotes in ty.areas %}
<li class="area-theme"><p class="facts"><span class="aid">{{ aid }}</span> {{ name if name != aid else "" }} · {{ k }} {{ L.area_units }}（{{ share|pct }}）</p>
<ul class="quotes">{% for q in quotes %}{{ quote_item(q) }}{% endfor %}</ul></li>
{% endfor %}
</ul>
</div>
</div>
</article>
{% endfor %}
</section>
"""


@dataclass
class TypeView:
    name: str
    n: int  # analysed units of the type
    sessions: int
    themes: list[tuple[Theme, int, float, list[Quote]]] = field(default_factory=list)
    areas: list[tuple[str, str, int, float, list[Quote]]] = field(default_factory=list)


def _participant_quotes(ids: list[str], unit_by_id: pd.DataFrame, k: int) -> list[Quote]:
    out = []
    for uid in ids:
        q = quote_from(uid, unit_by_id)
        if q is not None and q.role in (None, "participant"):
            out.append(q)
        if len(out) >= k:
            break
    return out


def build(run: RunData, L: Labels) -> list[TypeView]:
    units = run.units[analysed_mask(run.units)]
    if "session_type" not in units or not len(units):
        return []
    unit_by_id = run.units.drop_duplicates("unit_id").set_index("unit_id", drop=False)
    types = units["session_type"].map(lambda v: text_or_none(v) or L["unknown"])
    themes = {t.id: t for t in run.themes}
    theme_of: dict[str, str] = {}
    prob: dict[str, float] = {}
    if run.unit_themes is not None and len(run.unit_themes):
        ut = best_theme_per_unit(run.unit_themes)
        theme_of = dict(zip(ut["unit_id"].astype(str), ut["theme_id"].astype(str), strict=True))
        if "probability" in ut:
            prob = dict(zip(ut["unit_id"].astype(str), ut["probability"].astype(float),
                            strict=True))
    area_of: dict[str, str] = {}
    area_score: dict[str, float] = {}
    ua = run.unit_areas
    if ua is not None and "key_area" in ua.columns:
        dec = ua.drop_duplicates("unit_id")
        area_of = dict(zip(dec["unit_id"].astype(str), dec["key_area"].astype(str), strict=True))
        if "key_area_score" in dec:
            area_score = dict(zip(dec["unit_id"].astype(str),
                                  pd.to_numeric(dec["key_area_score"], errors="coerce")
                                  .fillna(0.0), strict=True))
    names = {a.id: a.name for a in run.areas}
    out = []
    for name, n in Counter(types).most_common():
        ids = units.loc[types == name, "unit_id"].astype(str).tolist()
        view = TypeView(name, n, int(units.loc[types == name, "session_id"].nunique()))
        by_theme = Counter(theme_of[u] for u in ids if theme_of.get(u) in themes)
        for tid, k in sorted(by_theme.items(), key=lambda kv: (-kv[1], themes[kv[0]].idx))[:TOP]:
            t = themes[tid]
            # The theme's representative quotes from this type first, then its other units
            # of this type by how surely they belong to the theme.
            mine = {u for u in ids if theme_of.get(u) == tid}
            first = [q.unit_id for q in t.quotes if q.unit_id in mine]
            rest = sorted(mine - set(first), key=lambda u: (-prob.get(u, 0.0), u))
            view.themes.append((t, k, k / n,
                                _participant_quotes(first + rest, unit_by_id, QUOTES)))
        by_area = Counter(area_of[u] for u in ids if area_of.get(u) not in (None, *NO_AREA))
        for aid, k in sorted(by_area.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]:
            mine = sorted((u for u in ids if area_of.get(u) == aid),
                          key=lambda u: (-area_score.get(u, 0.0), u))
            view.areas.append((aid, names.get(aid, aid), k, k / n,
                               _participant_quotes(mine, unit_by_id, QUOTES)))
        out.append(view)
    return out


def present(run: RunData) -> bool:
    return bool(run.themes)


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"types": build(run, L)}


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    out = [f"## {n}. {L['by_type']}", "", L["session_types_intro"], ""]
    types = build(run, L)
    if not types:
        return [*out, L["st_none"], ""]
    for ty in types:
        out += [f"### {md(ty.name)}（{L['st_units'].format(n=ty.n, sessions=ty.sessions)}）", ""]
        out += [f"**{L['st_top_themes']}**", ""]
        for t, k, share, quotes in ty.themes:
            out += [f"- {L['theme_no']} {t.number}：{md(t.label)} · {k} {L['area_units']}"
                    f"（{pct(share)}）", ""]
            for q in quotes:
                out += quote(q, L)
        if ty.areas:
            out += [f"**{L['st_top_areas']}**", ""]
        for aid, name, k, share, quotes in ty.areas:
            label = f"{aid} {name}" if name != aid else aid
            out += [f"- {md(label)} · {k} {L['area_units']}（{pct(share)}）", ""]
            for q in quotes:
                out += quote(q, L)
    return out


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    rows = []
    for ty in build(run, L):
        for r, (t, k, share, _) in enumerate(ty.themes, 1):
            rows.append([ty.name, ty.n, L["st_top_themes"], r, f"{L['theme_no']} {t.number}",
                         t.label, k, share])
        for r, (aid, name, k, share, _) in enumerate(ty.areas, 1):
            rows.append([ty.name, ty.n, L["st_top_areas"], r, aid, name, k, share])
    return [Sheet(L["sheet_session_types"],
                  [L["x_session_type"], L["x_analysed_units"], L["x_category"], L["x_rank"],
                   L["x_theme_id"], L["x_label"], L["x_units"], L["x_share"]],
                  rows, widths={1: 18, 6: 40}, formats={8: "0.0%"})]


SECTION = Section("by_type", HTML, markdown, view=view, present=present, sheets=sheets)
