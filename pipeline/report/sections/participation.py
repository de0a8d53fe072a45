"""Participation (協力地圖): which organisations took part where, over-mobilisation flags,
organisations × themes, co-attendance. Reads the participation stage's map (run.participation)."""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.report import charts
from pipeline.report.mdtext import md, table
from pipeline.report.model import RunData
from pipeline.report.sections.base import Labels, Section, Sheet

HTML = r"""{% set cm = run.participation %}
<section id="participation">
<h2>{{ n }}. {{ L.participation }}</h2>
<p class="intro">{{ L.participation_intro }}</p>
{% if cm.flagged %}
<div class="notes" role="note"><p><strong>{{ L.over_mobilisation }}</strong>（{{ L.over_mobilisation_rule.format(n=cm.max_sessions) }}）</p>
<ul>{% for r in org_rows if r.flagged %}<li>{{ r.organisation }}：{{ r.reason }}；{{ r.session_ids|join("、") }}</li>{% endfor %}</ul></div>
{% else %}<p>{{ L.no_over_mobilisation.format(n=cm.max_sessions) }}</p>{% endif %}
<figure class="chart" id="chart-org-sessions">
<figcaption>{{ L.chart_org_sessions }}<small>{{ L.chart_org_sessions_note }}</small></figcaption>
{% if chart_org_sessions %}{{ heatmap(chart_org_sessions, L.organisation) }}{% else %}<p class="note">{{ L.no_chart_data }}</p>{% endif %}
</figure>
<div class="scroll"><table class="small" id="org-table">
<caption>{{ L.org_table }}<small>{{ L.org_attr_note }}</small></caption>
<thead><tr><th scope="col">{{ L.organisation }}</th><th scope="col" class="n">{{ L.sessions }}</th><th scope="col">{{ L.session_types }}</th><th scope="col">{{ L.locations }}</th><th scope="col">{{ L.org_top_themes }}</th><th scope="col">{{ L.org_by }}</th><th scope="col">{{ L.flag }}</th></tr></thead>
<tbody>
{% for r in org_rows %}<tr{% if r.flagged %} class="flagged"{% endif %}><th scope="row">{{ r.organisation }}{% if r.organiser %} <span class="pill">{{ L.organiser }}</span>{% endif %}</th><td class="n">{{ r.sessions }}</td><td>{{ r.session_types|join("、") }}</td><td>{{ r.locations|join("、") }}</td><td>{% for t in r.top_themes %}{{ t.label }}（{{ t.units }}）{% if not loop.last %}；{% endif %}{% endfor %}</td><td>{{ L["org_by_" ~ r.attribution] }}</td><td>{{ r.reason or "" }}</td></tr>{% endfor %}
</tbody></table></div>
<figure class="chart" id="chart-org-themes">
<figcaption>{{ L.chart_org_themes }}<small>{{ L.chart_org_themes_note }}</small></figcaption>
{% if chart_org_themes %}{{ heatmap(chart_org_themes, L.organisation) }}{% else %}<p class="note">{{ L.no_chart_data }}</p>{% endif %}
</figure>
{% if org_pairs %}
<table class="small" id="org-pairs"><caption>{{ L.org_pairs }}</caption>
<thead><tr><th scope="col">{{ L.organisation }}</th><th scope="col">{{ L.organisation }}</th><th scope="col" class="n">{{ L.shared_sessions }}</th><th scope="col">{{ L.sessions }}</th></tr></thead>
<tbody>{% for p in org_pairs %}<tr><td>{{ p.org_a }}</td><td>{{ p.org_b }}</td><td class="n">{{ p.sessions }}</td><td>{{ p.session_ids|join("、") }}</td></tr>{% endfor %}</tbody></table>
{% endif %}
</section>
"""


def present(run: RunData) -> bool:
    return run.participation is not None


def org_rows(run: RunData, L: Labels) -> list[dict[str, Any]]:
    """One dict per organisation, the flag's reason code in words."""
    cm = run.participation
    if cm is None:
        return []
    rows = cm.org_summary.to_dict("records")
    by_id = {t.id: t for t in run.themes}
    for r in rows:
        # By who said what where a speaker of the organisation is known, else by presence
        # (a participation.json from before attribution by speaker has only the latter).
        said = r.get("said_themes")
        speaker = r.get("attribution") == "speaker" and isinstance(said, list)
        r["attribution"] = "speaker" if speaker else "presence"
        # Themes by number and label, as the cards count them.
        r["top_themes"] = [{**t, "label": by_id[str(t["theme_id"])].ref}
                           if str(t["theme_id"]) in by_id else t
                           for t in (said if speaker else r["top_themes"])]
        r["reason"] = (L[f"reason_{r['reason']}"].format(n=r["sessions"], limit=cm.max_sessions)
                       if r["reason"] else None)
    return rows


def org_pairs(run: RunData, limit: int = 20) -> list[dict[str, Any]]:
    if run.participation is None:
        return []
    pairs = run.participation.pairs
    return pairs[~pairs["organiser"]].head(limit).to_dict("records")


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"chart_org_sessions": charts.org_sessions_heatmap(run, "⚑"),
            "chart_org_themes": charts.org_themes_heatmap(run),
            "org_rows": org_rows(run, L), "org_pairs": org_pairs(run)}


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    cm = run.participation
    out = [f"## {n}. {L['participation']}", "", L["participation_intro"], ""]
    rows = org_rows(run, L)
    flagged = [r for r in rows if r["flagged"]]
    if flagged:
        rule = L["over_mobilisation_rule"].format(n=cm.max_sessions)
        out += [f"**{L['over_mobilisation']}**（{rule}）", ""]
        out += [f"- {md(r['organisation'])}：{md(r['reason'])}；{md('、'.join(r['session_ids']))}"
                for r in flagged]
        out += [""]
    else:
        out += [L["no_over_mobilisation"].format(n=cm.max_sessions), ""]
    sids = [str(c) for c in cm.org_sessions.columns]
    out += [f"**{L['chart_org_sessions']}**", ""]
    out += table([L["organisation"], *map(md, sids)],
                 [[md(org)] + ["●" if v else "" for v in present.tolist()]
                  for org, present in cm.org_sessions.iterrows()])
    out += [f"**{L['org_table']}**", "", L["org_attr_note"], ""]
    out += table([L["organisation"], L["sessions"], L["session_types"], L["locations"],
                  L["org_top_themes"], L["org_by"], L["flag"]],
                 [[md(r["organisation"]) + (f"（{L['organiser']}）" if r["organiser"] else ""),
                   str(r["sessions"]), md("、".join(r["session_types"])),
                   md("、".join(r["locations"])),
                   md("；".join(f"{t['label']}（{t['units']}）" for t in r["top_themes"])),
                   L[f"org_by_{r['attribution']}"], md(r["reason"] or "")] for r in rows])
    return out


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    cm = run.participation
    sids = [str(c) for c in cm.org_sessions.columns]
    presence = cm.org_sessions
    return [Sheet(L["sheet_participation"], [
        L["organisation"], L["sessions"], L["session_types"], L["locations"],
        L["org_top_themes"], L["org_by"], L["organiser"], L["flag"], *sids],
        ([r["organisation"], r["sessions"], "、".join(r["session_types"]),
          "、".join(r["locations"]),
          "；".join(f"{t['label']}（{t['units']}）" for t in r["top_themes"]),
          L[f"org_by_{r['attribution']}"], L["yes"] if r["organiser"] else L["no"], r["reason"]]
         + [int(presence.at[r["organisation"], c]) if r["organisation"] in presence.index
            else 0 for c in presence.columns]
         for r in org_rows(run, L)),
        widths={1: 28, 3: 24, 4: 24, 5: 60, 8: 22})]


SECTION = Section("participation", HTML, markdown, view=view, present=present, sheets=sheets)
