"""Written comments (書面意見): rows read, blank and repeated; template campaigns, next to the
participation section's over-mobilisation flags; a breakdown by every mapped column (county,
date, ...) with the themes; how widely each theme's points were agreed (votes) beside how often
they were said. The view model is built from the run folder in `report/comments.py`
(run.comments); docs/comments.md describes the method."""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.report.charts import pct
from pipeline.report.comments import AgreementRow, CommentsView
from pipeline.report.mdtext import md, table
from pipeline.report.model import RunData
from pipeline.report.sections.base import Labels, Section, Sheet

HTML = r"""<section id="comments">
<h2>{{ n }}. {{ L.comments }}</h2>
<p class="intro">{{ L.comments_intro }}</p>
{% if cv.rows is not none %}<p id="comments-rows">{{ L.comments_rows.format(rows=cv.rows, text=cv.rows_with_text, blank=cv.rows_blank, dup=cv.rows_duplicate) }}</p>{% endif %}
<h3>{{ L.campaigns }} <span class="pill{% if cv.campaigns %} warn{% endif %}">{{ cv.campaigns|length }}</span></h3>
<p class="note">{{ rule }}</p>
{% if cv.campaigns %}
<div class="scroll"><table class="small" id="campaign-table">
<thead><tr><th scope="col">{{ L.campaign_id }}</th><th scope="col" class="n">{{ L.campaign_size }}</th><th scope="col" class="n">{{ L.campaign_similarity }}</th><th scope="col">{{ L.campaign_example }}</th><th scope="col">{{ L.campaign_theme }}</th><th scope="col">{{ L.sessions }}</th></tr></thead>
<tbody>{% for c in cv.campaigns %}<tr><td>{{ c.id }}</td><td class="n">{{ c.size }}</td><td class="n">{{ '%.2f'|format(c.similarity) }}</td><td>{{ c.example }}</td><td>{% if c.theme_number %}{{ L.theme_no }} {{ c.theme_number }} {{ c.theme_label }}{% endif %}</td><td>{{ c.sessions[:5]|join("、") }}{% if c.sessions|length > 5 %}…（{{ c.sessions|length }}）{% endif %}</td></tr>{% endfor %}</tbody>
</table></div>
{% else %}<p>{{ L.no_campaigns }}</p>{% endif %}
{% for b in cv.breakdowns %}
<h3>{{ L.breakdown_by.format(column=b.source) }}</h3>
<div class="scroll"><table class="small breakdown" id="breakdown-{{ b.column }}">
<thead><tr><th scope="col">{{ b.source }}</th><th scope="col" class="n">{{ L.blank_rows }}</th><th scope="col" class="n">{{ L.units }}</th><th scope="col" class="n">{{ L.analysed_units }}</th><th scope="col" class="n">{{ L.in_campaigns }}</th>{% for num, label in cv.theme_cols %}<th scope="col" class="n" title="{{ label }}">{{ L.theme_no }} {{ num }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in b.rows %}{% set top = r.by_theme|max if r.by_theme else 0 %}<tr><th scope="row">{{ r.value or L.unknown }}</th><td class="n">{{ r.blank }}</td><td class="n">{{ r.units }}</td><td class="n">{{ r.analysed }}</td><td class="n">{{ r.in_campaigns }}</td>{% for k in r.by_theme %}<td class="n" style="background:rgba(31,111,139,{{ '%.2f'|format((k / top if top else 0) * 0.6) }})">{{ k }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% if b.other_values %}<p class="note">{{ L.breakdown_other.format(n=b.other_values) }}</p>{% endif %}
{% endfor %}
{% if cv.breakdowns and cv.theme_cols %}<p class="facts">{{ L.theme_key }}：{% for num, label in cv.theme_cols %}{{ L.theme_no }} {{ num }} {{ label }}{% if not loop.last %}；{% endif %}{% endfor %}</p>{% endif %}
{% if cv.agreement %}
<h3>{{ L.agreement }}</h3>
<p class="intro">{{ L.agreement_intro }}</p>
<div class="scroll"><table class="small" id="agreement-table">
<thead><tr><th scope="col">{{ L.theme_no }}</th><th scope="col">{{ L.x_label }}</th><th scope="col" class="n">{{ L.agreement_said }}</th><th scope="col">{{ L.agreement_votes }}</th><th scope="col" class="n">{{ L.agreement_share }}</th><th scope="col" class="n">{{ L.agreement_broad }}</th></tr></thead>
<tbody>{% for a in cv.agreement %}<tr><td>{{ L.theme_no }} {{ a.number }}</td><td>{{ a.label }}</td><td class="n">{{ a.size }}</td><td>{{ L.agreement_counts.format(agree=a.agree, disagree=a.disagree, passes=a.passes) }}</td><td class="n">{{ a.agree_share|pct if a.agree_share is not none else "" }}</td><td class="n">{{ broad(a) }}</td></tr>{% endfor %}</tbody>
</table></div>
{% endif %}
</section>
"""


def present(run: RunData) -> bool:
    return run.comments is not None


def _rule(cv: CommentsView, L: Labels) -> str:
    s = cv.campaign_settings
    return L["campaign_rule"].format(
        threshold=s.get("threshold", ""), min_size=s.get("min_size", ""),
        min_chars=s.get("min_chars", ""), considered=cv.units_considered,
        members=cv.units_in_campaigns, n=len(cv.campaigns))


def _broad(a: AgreementRow) -> str:
    return "" if a.broadly_agreed is None else f"{a.broadly_agreed} / {a.comments_in_groups}"


def _theme(number: int | None, label: str | None, L: Labels) -> str:
    return "" if number is None else f"{L['theme_no']} {number}：{label}"


def _sheet_name(name: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31]


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"cv": run.comments, "rule": _rule(run.comments, L), "broad": _broad}


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    cv: CommentsView = run.comments
    out = [f"## {n}. {L['comments']}", "", L["comments_intro"], ""]
    if cv.rows is not None:
        out += [L["comments_rows"].format(rows=cv.rows, text=cv.rows_with_text,
                                          blank=cv.rows_blank, dup=cv.rows_duplicate), ""]
    out += [f"### {L['campaigns']}", "", _rule(cv, L), ""]
    if cv.campaigns:
        out += table([L["campaign_id"], L["campaign_size"], L["campaign_similarity"],
                      L["campaign_example"], L["campaign_theme"], L["sessions"]],
                     [[str(c.id), str(c.size), f"{c.similarity:.2f}", md(c.example),
                       md(_theme(c.theme_number, c.theme_label, L)),
                       md("、".join(c.sessions[:5]))] for c in cv.campaigns])
    else:
        out += [L["no_campaigns"], ""]
    for b in cv.breakdowns:
        out += [f"### {L['breakdown_by'].format(column=md(b.source))}", ""]
        out += table([md(b.source), L["blank_rows"], L["units"], L["analysed_units"],
                      L["in_campaigns"], *(f"{L['theme_no']} {num}" for num, _ in cv.theme_cols)],
                     [[md(r.value or L["unknown"]), str(r.blank), str(r.units), str(r.analysed),
                       str(r.in_campaigns), *map(str, r.by_theme)] for r in b.rows])
        if b.other_values:
            out += [L["breakdown_other"].format(n=b.other_values), ""]
    if cv.breakdowns and cv.theme_cols:
        out += [L["theme_key"] + "：" + "；".join(f"{L['theme_no']} {i} {md(lab)}"
                                          for i, lab in cv.theme_cols),
                ""]
    if cv.agreement:
        out += [f"### {L['agreement']}", "", L["agreement_intro"], ""]
        out += table([L["theme_no"], L["x_label"], L["agreement_said"], L["agreement_votes"],
                      L["agreement_share"], L["agreement_broad"]],
                     [[f"{L['theme_no']} {a.number}", md(a.label), str(a.size),
                       L["agreement_counts"].format(agree=a.agree, disagree=a.disagree,
                                                    passes=a.passes),
                       pct(a.agree_share) if a.agree_share is not None else "", _broad(a)]
                      for a in cv.agreement])
    return out


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    """Template campaigns, one sheet per mapped column, agreement; names and headers from the
    labels (a zh-TW workbook has no English sheet), themes as 主題 n like every other sheet."""
    cv: CommentsView = run.comments
    out = []
    if cv.campaigns:
        out.append(Sheet(L["sheet_campaigns"], [L["campaign_id"], L["campaign_size"],
                                       L["campaign_similarity"], L["campaign_example"],
                                       L["campaign_theme"], L["sessions"]],
                         [[c.id, c.size, c.similarity, c.example,
                           _theme(c.theme_number, c.theme_label, L), "、".join(c.sessions)]
                          for c in cv.campaigns], widths={4: 60, 5: 40}, wrap={4},
                         about=L["about_campaigns"]))
    for b in cv.breakdowns:
        out.append(Sheet(_sheet_name(L["sheet_breakdown"].format(column=b.source)),
                         [b.source, L["blank_rows"], L["units"], L["analysed_units"],
                          L["in_campaigns"], *(_theme(num, lab, L) for num, lab in cv.theme_cols)],
                         [[r.value, r.blank, r.units, r.analysed, r.in_campaigns, *r.by_theme]
                          for r in b.rows],
                         about=L["about_breakdown"].format(column=b.source)))
    if cv.agreement:
        out.append(Sheet(L["sheet_agreement"], [L["x_theme_id"], L["x_label"], L["agreement_said"],
                                       L["agreement_voted"], L["vote_agree"], L["vote_disagree"],
                                       L["vote_pass"],
                                       L["agreement_share"], L["agreement_broad"]],
                         [[a.number, a.label, a.size, a.comments_voted, a.agree, a.disagree,
                           a.passes, a.agree_share, _broad(a)] for a in cv.agreement],
                         widths={2: 40}, about=L["about_agreement"]))
    return out


SECTION = Section("comments", HTML, markdown, view=view, present=present, sheets=sheets)
