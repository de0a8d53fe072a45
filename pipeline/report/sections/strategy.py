"""Feedback into strategy (反饋調整戰略): per strategy area the themes bearing on it with
quotes, areas with units but no theme, uncovered areas, gap themes, consultation focus."""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.report.charts import pct
from pipeline.report.mdtext import md, quote, table, theme_facts
from pipeline.report.model import AreaEntry, RunData
from pipeline.report.sections.base import Labels, Section, Sheet

HTML = r"""<section id="strategy">
<h2>{{ n }}. {{ L.strategy }}</h2>
{% if not run.themes %}
<p class="note">{{ L.no_themes }}</p>
{% elif not run.mapped %}
<p class="note">{{ L.not_mapped }}</p>
{% else %}
<p class="intro">{{ L.strategy_intro }}{% if run.area_share_basis %} {{ L["basis_" ~ run.area_share_basis] }}{% endif %}</p>
<p class="facts">{{ L.confidence_note }}</p>
{% for a in run.covered_areas %}
<article class="area" id="area-{{ a.id }}" data-area="{{ a.id }}">
<h3><span class="aid">{{ a.id }}</span> {{ a.name if a.name != a.id else "" }}
{%- if a.share is not none %} <span class="pill">{{ L.area_share }} {{ a.share|pct }}{% if a.n_units is not none %}（{{ a.n_units }} {{ L.area_units }}）{% endif %}</span>{% endif %}</h3>
{% if a.description %}<p class="desc">{{ a.description }}</p>{% endif %}
<ul class="area-themes">
{% for e in a.entries %}
<li class="area-theme" data-theme="{{ e.theme.anchor }}">
<h4><a href="#{{ e.theme.anchor }}">{{ L.theme_no }} {{ e.theme.number }}：{{ e.theme.label }}</a>
{% if e.primary %}<span class="tag primary">★ {{ L.primary_area }}{% if e.theme.key_area_confidence is not none %} · {{ L.confidence }} {{ '%.2f'|format(e.theme.key_area_confidence) }}{% endif %}</span>
{% else %}<span class="tag">{{ L.secondary_area }}{% if e.share_of_theme is not none %} · {{ L.share_of_theme }} {{ e.share_of_theme|pct(0) }}{% endif %}</span>{% endif %}</h4>
<p class="facts">{{ L.share }} {{ e.theme.share|pct }} · {{ e.theme.size }} {{ L.area_units }}
{%- if e.theme.by_type %} · {{ L.raised_by_types }}：{{ counts_inline(e.theme.by_type) }}{% endif %}
{%- if e.theme.by_location %} · {{ L.raised_in_locations }}：{{ counts_inline(e.theme.by_location) }}{% endif %}</p>
<ul class="quotes">{% for q in e.quotes %}{{ quote_item(q) }}{% endfor %}</ul>
</li>
{% endfor %}
</ul>
</article>
{% endfor %}
{% set orphans = uncovered|selectattr("n_units")|list %}
{% if orphans %}
<article class="area orphans" id="area-orphans">
<h3>{{ L.orphan_areas }} <span class="pill">{{ orphans|length }}</span></h3>
<p class="desc">{{ L.orphan_intro }}</p>
<ul class="area-themes">
{% for a in orphans %}
<li class="area-theme" data-area="{{ a.id }}" id="area-{{ a.id }}">
<h4><span class="aid">{{ a.id }}</span> {{ a.name if a.name != a.id else "" }} <span class="pill">{{ a.n_units }} {{ L.area_units }}</span></h4>
<ul class="quotes">{% for q in a.orphan_quotes %}{{ quote_item(q) }}{% endfor %}</ul>
</li>
{% endfor %}
</ul>
</article>
{% endif %}
{% set uncovered = uncovered|rejectattr("n_units")|list %}
{% if uncovered %}
<p class="uncovered"><strong>{{ L.uncovered_areas }}：</strong>{% for a in uncovered %}<span class="aid">{{ a.id }}</span> {{ a.name if a.name != a.id else "" }}{% if not loop.last %}、{% endif %}{% endfor %}</p>
{% endif %}
<article class="area gaps" id="gaps" data-area="__gap__">
<h3>{{ L.gaps }} <span class="pill{% if run.gaps %} warn{% endif %}">{{ run.gaps|length }}</span></h3>
{% if run.gaps %}
<p class="desc">{{ L.gaps_intro }}</p>
<ul class="area-themes">
{% for t in run.gaps %}
<li class="area-theme" data-theme="{{ t.anchor }}">
<h4><a href="#{{ t.anchor }}">{{ L.theme_no }} {{ t.number }}：{{ t.label }}</a> <span class="tag gap">{{ L.gap_flag }}</span></h4>
<p class="facts">{{ L.share }} {{ t.share|pct }} · {{ t.size }} {{ L.area_units }}
{%- if t.by_type %} · {{ L.raised_by_types }}：{{ counts_inline(t.by_type) }}{% endif %}
{%- if t.by_location %} · {{ L.raised_in_locations }}：{{ counts_inline(t.by_location) }}{% endif %}</p>
{% if t.gap_reason %}<p class="reason">{{ L.gap_reason }}：{{ t.gap_reason }}</p>{% endif %}
<ul class="quotes">{% for q in t.quotes[:rc.area_quotes] %}{{ quote_item(q) }}{% endfor %}</ul>
</li>
{% endfor %}
</ul>
{% else %}
<p class="desc">{{ L.no_gaps }}</p>
{% endif %}
</article>
<article class="area focus" id="focus" data-area="__focus__">
<h3>{{ L.focus_section }}{% if run.focus %} <span class="pill">{{ run.focus.n_area_units }} {{ L.focus_units }}</span>{% endif %}</h3>
{% if run.focus %}
{% set F = run.focus %}
<p class="desc">{{ L.focus_intro }}</p>
<p class="facts">{% for fid, fname in F.focuses %}<strong>{{ fname }}</strong> {{ F.totals[fid] }}（{{ (F.totals[fid] / F.n_area_units)|pct(0) }}）、{% endfor %}{{ L.focus_none }} {{ F.totals[""] }}（{{ (F.totals[""] / F.n_area_units)|pct(0) }}）</p>
{% for title, col, rows in [(L.focus_by_type, L.session_type_col, F.by_type), (L.focus_by_area, L.area_col, F.by_area)] %}
<h4>{{ title }}</h4>
<div class="scroll"><table class="focus-table">
<thead><tr><th>{{ col }}</th><th>{{ L.focus_units }}</th>{% for fid, fname in F.focuses %}<th>{{ fname }}</th>{% endfor %}<th>{{ L.focus_none }}</th></tr></thead>
<tbody>{% for r in rows %}<tr><td>{% if r.key != r.name %}<span class="aid">{{ r.key }}</span> {% endif %}{{ r.name }}</td><td>{{ r.n }}</td>{% for fid, _ in F.focuses %}<td>{{ r.counts[fid] }}{% if r.counts[fid] %}（{{ (r.counts[fid] / r.n)|pct(0) }}）{% endif %}</td>{% endfor %}<td>{{ r.counts[""] }}</td></tr>{% endfor %}</tbody>
</table></div>
{% endfor %}
<h4>{{ L.focus_quotes }}</h4>
<ul class="area-themes">
{% for fid, fname in F.focuses %}{% if F.quotes[fid] %}
<li class="area-theme"><h4>{{ fname }}</h4>
<ul class="quotes">{% for q in F.quotes[fid] %}{{ quote_item(q) }}{% if F.evidence.get(q.unit_id) %}<li class="evidence facts">{{ L.focus_evidence }}：{{ F.evidence[q.unit_id] }}</li>{% endif %}{% endfor %}</ul>
</li>
{% endif %}{% endfor %}
</ul>
{% else %}
<p class="desc">{{ L.focus_missing }}</p>
{% endif %}
</article>
{% endif %}
</section>
"""


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"uncovered": [a for a in run.areas if not a.entries]}


def _entry_tag(e: AreaEntry, L: Labels) -> str:
    if e.primary:
        conf = e.theme.key_area_confidence
        return f"★ {L['primary_area']}" + (f" · {L['confidence']} {conf:.2f}"
                                           if conf is not None else "")
    return L["secondary_area"] + (f" · {L['share_of_theme']} {pct(e.share_of_theme, 0)}"
                                  if e.share_of_theme is not None else "")


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    out = [f"## {n}. {L['strategy']}", ""]
    if not run.themes:
        return [*out, f"> {L['no_themes']}", ""]
    if not run.mapped:
        return [*out, f"> {L['not_mapped']}", ""]
    basis = L.get(f"basis_{run.area_share_basis}", "") if run.area_share_basis else ""
    out += [f"{L['strategy_intro']} {basis}".strip(), "", L["confidence_note"], ""]
    for a in run.covered_areas:
        share = (f"（{L['area_share']} {pct(a.share)}"
                 + (f"，{a.n_units} {L['area_units']}" if a.n_units is not None else "")
                 + "）") if a.share is not None else ""
        name = md(a.name) if a.name != a.id else ""
        out += [f"### {md(a.id)} {name}{share}", ""]
        if a.description:
            out += [md(a.description), ""]
        for e in a.entries:
            out += [f"#### {L['theme_no']} {e.theme.number}：{md(e.theme.label)}"
                    f"（{_entry_tag(e, L)}）", "",
                    theme_facts(e.theme, L), ""]
            for q in e.quotes:
                out += quote(q, L)
    uncovered = [a for a in run.areas if not a.entries]
    orphans = [a for a in uncovered if a.n_units]
    if orphans:
        out += [f"### {L['orphan_areas']}（{len(orphans)}）", "", L["orphan_intro"], ""]
        for a in orphans:
            name = md(a.name) if a.name != a.id else ""
            out += [f"#### {md(a.id)} {name}（{a.n_units} {L['area_units']}）", ""]
            for q in a.orphan_quotes:
                out += quote(q, L)
        uncovered = [a for a in uncovered if not a.n_units]
    if uncovered:
        out += [f"**{L['uncovered_areas']}**：" + "、".join(
            f"{md(a.id)} {md(a.name) if a.name != a.id else ''}".strip()
            for a in uncovered), ""]
    out += [f"### {L['gaps']}（{len(run.gaps)}）", ""]
    out += [L["gaps_intro"] if run.gaps else L["no_gaps"], ""]
    for t in run.gaps:
        out += [f"#### {L['theme_no']} {t.number}：{md(t.label)}", "", theme_facts(t, L), ""]
        if t.gap_reason:
            out += [f"{L['gap_reason']}：{md(t.gap_reason)}", ""]
        for q in t.quotes[: cfg.report.area_quotes]:
            out += quote(q, L)
    return out + _focus(run, L)


def _focus(run: RunData, L: Labels) -> list[str]:
    """諮商重點: which consultation focus the round's strategy-related feedback concerned."""
    F = run.focus
    out = [f"### {L['focus_section']}", ""]
    if F is None:
        return [*out, L["focus_missing"], ""]
    n = F.n_area_units
    out += [L["focus_intro"], "", f"{L['focus_units']}：{n}；" + "；".join(
        f"{md(name)} {F.totals[fid]}（{pct(F.totals[fid] / n, 0)}）" for fid, name in F.focuses)
        + f"；{L['focus_none']} {F.totals['']}（{pct(F.totals[''] / n, 0)}）", ""]
    for title, col, rows in ((L["focus_by_type"], L["session_type_col"], F.by_type),
                             (L["focus_by_area"], L["area_col"], F.by_area)):
        out += [f"#### {title}", ""]
        out += table([col, L["focus_units"], *(md(nm) for _, nm in F.focuses), L["focus_none"]],
                     [[md(r.name if r.name == r.key else f"{r.key} {r.name}"), str(r.n),
                       *(f"{r.counts[f]}（{pct(r.counts[f] / r.n, 0)}）" if r.counts[f] else "0"
                         for f, _ in F.focuses), str(r.counts[""])] for r in rows])
        out.append("")
    out += [f"#### {L['focus_quotes']}", ""]
    for fid, name in F.focuses:
        if not F.quotes.get(fid):
            continue
        out += [f"**{md(name)}**", ""]
        for q in F.quotes[fid]:
            out += quote(q, L)
            if F.evidence.get(q.unit_id):
                out += [f"  {L['focus_evidence']}：{md(F.evidence[q.unit_id])}", ""]
    return out


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    m = run.matrix
    if m is None:
        return [Sheet(L["sheet_strategy_matrix"], [L["x_area_id"]], [[L["mapping_missing"]]])]
    shares = {i: "0%" for i in range(3, 3 + len(m.theme_cols))} if m.kind == "shares" else {}
    return [Sheet(L["sheet_strategy_matrix"],
                  [L["x_area_id"], L["x_key_area_name"],
                   *(h for _, h, _ in m.theme_cols)],
                  ([aid, name] + [m.values.get((aid, k), 0.0) for k, _, _ in m.theme_cols]
                   for aid, name in m.areas), widths={2: 20}, formats=shares)]


SECTION = Section("strategy", HTML, markdown, view=view, sheets=sheets)
