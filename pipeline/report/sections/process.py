"""Feedback on the consultation process (諮商過程回饋): what participants said about the
consultation itself, per category (pipeline/process_feedback.py), with the participation
stage's over-mobilisation flags beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.config import Config
from pipeline.process_feedback import CATEGORIES, process_units
from pipeline.report.mdtext import md, quote
from pipeline.report.model import Quote, RunData, quote_from
from pipeline.report.sections.base import Labels, Section, Sheet

QUOTES = 3

HTML = r"""<section id="process">
<h2>{{ n }}. {{ L.process }}</h2>
<p class="intro">{{ L.process_intro }}</p>
{% if flags %}
<div class="notes" role="note"><p><strong>{{ L.process_flags }}：{{ L.over_mobilisation }}</strong>（{{ L.over_mobilisation_rule.format(n=run.participation.max_sessions) }}）</p>
<ul>{% for org, text, sids in flags %}<li>{{ org }}：{{ text }}；{{ sids|join("、") }}</li>{% endfor %}</ul></div>
{% endif %}
{% if not cats %}<p class="note">{{ L.process_none }}</p>{% endif %}
{% for c in cats %}
<article class="group process" id="process-{{ c.code }}">
<h3>{{ L["process_" ~ c.code] }} <span class="pill">{{ L.process_count.format(n=c.n, sessions=c.sessions) }}</span></h3>
<ul class="quotes">{% for q in c.quotes %}{{ quote_item(q) }}{% endfor %}</ul>
</article>
{% endfor %}
</section>
"""


@dataclass
class Category:
    code: str
    n: int
    sessions: int
    quotes: list[Quote]
    unit_ids: list[str]


def build(run: RunData) -> list[Category]:
    found = process_units(run.units)
    if not len(found):
        return []
    unit_by_id = run.units.drop_duplicates("unit_id").set_index("unit_id", drop=False)
    out = []
    for code in CATEGORIES:
        mine = found[found["category"] == code]
        if not len(mine):
            continue
        ids = mine["unit_id"].tolist()
        quotes = [q for q in (quote_from(u, unit_by_id) for u in ids[:QUOTES]) if q]
        out.append(Category(code, len(mine), int(mine["session_id"].nunique()), quotes, ids))
    return out


def flags(run: RunData, L: Labels) -> list[tuple[str, str, list[str]]]:
    """(organisation, reason in words, sessions) of the organisations flagged for
    over-mobilisation by the participation stage."""
    cm = run.participation
    if cm is None:
        return []
    out = []
    for r in cm.org_summary.to_dict("records"):
        if r["flagged"]:
            out.append((r["organisation"], L[f"reason_{r['reason']}"].format(
                n=r["sessions"], limit=cm.max_sessions), list(r["session_ids"])))
    return out


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"cats": build(run), "flags": flags(run, L)}


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    out = [f"## {n}. {L['process']}", "", L["process_intro"], ""]
    flagged = flags(run, L)
    if flagged:
        rule = L["over_mobilisation_rule"].format(n=run.participation.max_sessions)
        out += [f"**{L['process_flags']}：{L['over_mobilisation']}**（{rule}）", ""]
        out += [f"- {md(org)}：{md(text)}；{md('、'.join(sids))}" for org, text, sids in flagged]
        out.append("")
    cats = build(run)
    if not cats:
        return [*out, L["process_none"], ""]
    for c in cats:
        out += [f"### {L['process_' + c.code]}（"
                f"{L['process_count'].format(n=c.n, sessions=c.sessions)}）", ""]
        for q in c.quotes:
            out += quote(q, L)
    return out


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    unit_by_id = run.units.drop_duplicates("unit_id").set_index("unit_id", drop=False)
    rows = []
    for c in build(run):
        for uid in c.unit_ids:
            q = quote_from(uid, unit_by_id)
            if q is not None:
                rows.append([L["process_" + c.code], q.unit_id, q.text, q.session_title
                             or q.session_id, q.session_type, q.speaker, q.source])
    return [Sheet(L["sheet_process"], [L["x_category"], L["x_unit_id"], L["x_text"],
                                       L["x_session_title"], L["x_session_type"],
                                       L["x_speaker"], L["x_source"]],
                  rows, widths={1: 20, 3: 70, 4: 24, 7: 26}, wrap={3})]


SECTION = Section("process", HTML, markdown, view=view, sheets=sheets)
