"""Proposals and stances (issue 17): per strategy area the concrete proposals with their
sources, then the stance shares per session type, area and theme. Reads proposals.json
(run.proposals); words from labels (stance codes → L["stance_<code>"])."""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.report.mdtext import md, table
from pipeline.report.model import NO_AREA, RunData
from pipeline.report.sections.base import Labels, Section, Sheet
from pipeline.stance.cues import STANCES

HTML = r"""{% set P = run.proposals %}
<section id="proposals">
<h2>{{ n }}. {{ L.proposals }}</h2>
<p class="intro">{{ L.proposals_intro }}</p>
<p class="note">{{ method_note }}</p>
{% for a in areas %}
<article class="area" id="proposals-{{ a.area }}" data-area="{{ a.area }}">
<h3><span class="aid">{{ a.area }}</span> {{ a.name }} <span class="pill">{{ a.count }}</span></h3>
<ol class="proposals">
{% for p in a.proposals %}<li><blockquote>{{ p.text }}</blockquote>
<p class="small">{{ L.proposal_sessions }} {{ p.sessions }} · {{ L.proposal_speakers }} {{ p.speakers }} · {{ L.proposal_sources }}：{{ p.source_text }}</p></li>
{% endfor %}</ol>
</article>
{% else %}<p>{{ L.no_proposals }}</p>{% endfor %}
{% if P.unmapped_proposal_units %}<p class="note">{{ L.unmapped_proposals.format(n=P.unmapped_proposal_units) }}</p>{% endif %}
<h3>{{ L.stance_shares }}</h3>
{% for title, rows in share_tables %}
<div class="scroll"><table class="small">
<caption>{{ title }}</caption>
<thead><tr><th scope="col">{{ L.stance_group }}</th><th scope="col" class="n">{{ L.units }}</th>{% for s in stance_names %}<th scope="col" class="n">{{ s }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in rows %}<tr><th scope="row">{{ r.group }}</th><td class="n">{{ r.units }}</td>{% for v in r.shares %}<td class="n">{{ v|pct(0) }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% endfor %}
</section>
"""


def present(run: RunData) -> bool:
    return run.proposals is not None


def _source_text(sources: list[dict[str, Any]]) -> str:
    return "；".join(f"{s.get('session_id') or ''} {s.get('speaker') or ''}".strip()
                    for s in sources)


def area_rows(run: RunData, L: Labels) -> list[dict[str, Any]]:
    names = {a.id: a.name for a in run.areas}
    out = []
    for a in (run.proposals or {}).get("areas") or []:
        props = [{**p, "source_text": _source_text(p.get("sources") or [])}
                 for p in a.get("proposals") or []]
        out.append({"area": a["area"], "name": names.get(a["area"], ""), "proposals": props,
                    "count": L["proposal_count"].format(n=a.get("distinct_proposals", 0),
                                                        u=a.get("proposal_units", 0))})
    return out


def share_tables(run: RunData, L: Labels) -> list[tuple[str, list[dict[str, Any]]]]:
    shares = (run.proposals or {}).get("stance_shares") or {}
    areas = {a.id: f"{a.id} {a.name}" for a in run.areas}
    themes = {str(t.id): t.label for t in run.themes}

    def group(dim: str, key: str) -> str:
        if dim == "area":
            return L["no_strategy_area"] if key in NO_AREA else areas.get(key, key)
        if dim == "theme":
            return themes.get(key, L["outlier_theme"] if key == "-1" else key)
        return key or L["unknown"]

    out = []
    for dim, title in (("session_type", L["stance_by_type"]), ("area", L["stance_by_area"]),
                       ("theme", L["stance_by_theme"])):
        rows = [{"group": group(dim, k), "units": v["units"],
                 "shares": [v["shares"].get(s, 0.0) for s in STANCES]}
                for k, v in (shares.get(dim) or {}).items()]
        out.append((title, rows))
    return out


def method_note(run: RunData, L: Labels) -> str:
    settings = (run.proposals or {}).get("settings") or {}
    method = (run.stages.get("stance") or {}).get("method", "model")
    return L["proposals_method"].format(method=L[f"stance_method_{method}"],
                                        p=settings.get("proposal_min_probability"),
                                        k=settings.get("max_proposals_per_area"))


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"areas": area_rows(run, L), "share_tables": share_tables(run, L),
            "stance_names": [L[f"stance_{s}"] for s in STANCES],
            "method_note": method_note(run, L)}


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    out = [f"## {n}. {L['proposals']}", "", L["proposals_intro"], "", method_note(run, L), ""]
    areas = area_rows(run, L)
    for a in areas:
        out += [f"### {md(a['area'])} {md(a['name'])}（{md(a['count'])}）", ""]
        out += [f"{p['rank']}. {md(p['text'])}（{L['proposal_sessions']} {p['sessions']}，"
                f"{L['proposal_speakers']} {p['speakers']}；{L['proposal_sources']}："
                f"{md(p['source_text'])}）" for p in a["proposals"]]
        out += [""]
    if not areas:
        out += [L["no_proposals"], ""]
    unmapped = (run.proposals or {}).get("unmapped_proposal_units")
    if unmapped:
        out += [L["unmapped_proposals"].format(n=unmapped), ""]
    out += [f"### {L['stance_shares']}", ""]
    for title, rows in share_tables(run, L):
        out += [f"**{title}**", ""]
        out += table([L["stance_group"], L["units"], *(L[f"stance_{s}"] for s in STANCES)],
                     [[md(r["group"]), str(r["units"]), *(f"{v:.0%}" for v in r["shares"])]
                      for r in rows])
    return out


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    props = Sheet(L["sheet_proposals"], [
        L["area_col"], L["proposal_rank"], L["proposal_text"], L["proposal_sessions"],
        L["proposal_speakers"], L["units"], L["proposal_sources"]],
        ([f"{a['area']} {a['name']}".strip(), p["rank"], p["text"], p["sessions"],
          p["speakers"], p["units"], p["source_text"]]
         for a in area_rows(run, L) for p in a["proposals"]),
        widths={1: 22, 3: 80, 7: 40}, wrap={3, 7})
    shares = Sheet(L["sheet_stance_shares"], [
        L["stance_dimension"], L["stance_group"], L["units"],
        *(L[f"stance_{s}"] for s in STANCES)],
        ([title, r["group"], r["units"], *r["shares"]]
         for title, rows in share_tables(run, L) for r in rows),
        widths={1: 16, 2: 40}, formats={c: "0%" for c in range(4, 4 + len(STANCES))})
    return [props, shares]


SECTION = Section("proposals", HTML, markdown, view=view, present=present, sheets=sheets)
