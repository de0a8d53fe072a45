"""Changes since the round compared with: matched, new, vanished, merged and split themes,
tracking across rounds, mapping and config changes (compare stage's diff.json/tracking.json)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from pipeline.config import Config
from pipeline.report.charts import pct
from pipeline.report.display import num_id
from pipeline.report.mdtext import code, md, table
from pipeline.report.model import RunData
from pipeline.report.sections.base import Labels, Section, Sheet
from pipeline.report.tracking_chart import status_names, tracking_svg

HTML = r"""{% set d = run.compare %}
<section id="changes">
<h2>{{ n }}. {{ L.changes }}</h2>
<p class="intro">{{ L.changes_intro.format(round=d.runs.a.round, run_id=d.runs.a.run_id) }}</p>
<div class="cards">
<div class="card"><span class="k">{{ L.matched_themes }}</span><span class="v">{{ d.counts.matched }}</span><span class="s">{{ L.status_growing }} {{ d.counts.growing }}、{{ L.status_shrinking }} {{ d.counts.shrinking }}、{{ L.status_continuing }} {{ d.counts.continuing }}</span></div>
<div class="card"><span class="k">{{ L.new_themes }}</span><span class="v">{{ d.counts.new }}</span></div>
<div class="card"><span class="k">{{ L.vanished_themes }}</span><span class="v">{{ d.counts.vanished }}</span></div>
<div class="card"><span class="k">{{ L.merged_themes }} / {{ L.split_themes }}</span><span class="v">{{ d.counts.merged }} / {{ d.counts.split }}</span></div>
</div>
{% if tracking_chart %}
<figure class="chart" id="chart-tracking">
<figcaption>{{ L.tracking }}<small>{{ L.tracking_note }}</small></figcaption>
<div class="scroll">{{ tracking_chart }}</div>
</figure>
{% endif %}
{% if run.tracking %}
<div class="scroll"><table class="small" id="tracking-table">
<caption>{{ L.tracking }}</caption>
<thead><tr><th scope="col">{{ L.theme_no }}</th><th scope="col">{{ L.status }}</th>{% for r in run.tracking.rounds %}<th scope="col" class="n">{{ r.round }}</th>{% endfor %}</tr></thead>
<tbody>
{% for t in run.tracking.themes %}<tr><th scope="row">{{ t.label }}</th><td>{{ L.get("status_" ~ t.status, t.status) }}</td>{% for v in t.shares %}<td class="n">{{ v|pct if v is not none else "–" }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table></div>
{% if run.tracking.vanished %}
<table class="small" id="vanished-table"><caption>{{ L.vanished_themes }}</caption>
<thead><tr><th scope="col">{{ L.theme_no }}</th><th scope="col">{{ L.last_seen }}</th><th scope="col" class="n">{{ L.share }}</th></tr></thead>
<tbody>{% for v in run.tracking.vanished %}<tr><td>{{ v.label }}</td><td>{{ v.round }}</td><td class="n">{{ v.share|pct }}</td></tr>{% endfor %}</tbody></table>
{% endif %}
{% endif %}
{% if d.merged or d.split %}
<h3>{{ L.merged_themes }} / {{ L.split_themes }}</h3>
<ul>
{% for m in d.merged %}<li>{{ L.status_merged }}：{% for f in m.from %}{{ f.label }}{% if not loop.last %}＋{% endif %}{% endfor %} → {{ m.into.label }}</li>{% endfor %}
{% for m in d.split %}<li>{{ L.status_split }}：{{ m.from.label }} → {% for f in m.into %}{{ f.label }}{% if not loop.last %}／{% endif %}{% endfor %}</li>{% endfor %}
</ul>
{% endif %}
{% if d.new %}<h3>{{ L.new_themes }}</h3><ul>{% for t in d.new %}<li>{{ t.label }}（{{ t.share|pct }}）</li>{% endfor %}</ul>{% endif %}
{% if d.vanished %}<h3>{{ L.vanished_themes }}</h3><ul>{% for t in d.vanished %}<li>{{ t.label }}（{{ L.earlier }} {{ t.share|pct }}）</li>{% endfor %}</ul>{% endif %}
<h3>{{ L.mapping_changes }}</h3>
{% if d.mapping_changes %}<ul>{% for c in d.mapping_changes %}<li>{{ c.b.label if c.b is mapping else c.get("label", "") }}：{% for k, v in c.changes.items() %}{{ k }} {{ v.a }} → {{ v.b }}{% if not loop.last %}；{% endif %}{% endfor %}</li>{% endfor %}</ul>{% else %}<p>{{ L.none_listed }}</p>{% endif %}
<h3>{{ L.config_changes }}</h3>
{% if d.config_changes %}<ul>{% for c in d.config_changes %}<li><code>{{ c.key }}</code>：{{ c.a }} → {{ c.b }}</li>{% endfor %}</ul>{% else %}<p>{{ L.none_listed }}</p>{% endif %}
</section>
"""


def present(run: RunData) -> bool:
    return bool(run.compare)


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    svg = tracking_svg(run.tracking, L["tracking"], status_names(L),
                       standalone=False) if run.tracking else None
    # Built by jinja2 with autoescaping (tracking_chart.py), so theme labels are text.
    return {"tracking_chart": Markup(svg) if svg else None}


def _tracking(run: RunData, L: Labels) -> list[str]:
    tr = run.tracking
    if not tr:
        return []
    out = [f"**{L['tracking']}**（{L['tracking_note']}）", ""]
    out += table([L["theme_no"], L["status"], *(md(r["round"]) for r in tr["rounds"])],
                 [[md(t["label"]), md(L.get(f"status_{t['status']}", t["status"]))]
                  + [pct(v) if v is not None else "–" for v in t["shares"]]
                  for t in tr["themes"]])
    if tr["vanished"]:
        out += [f"**{L['vanished_themes']}**", ""]
        out += table([L["theme_no"], L["last_seen"], L["share"]],
                     [[md(v["label"]), md(v["round"]), pct(v["share"])]
                      for v in tr["vanished"]])
    return out


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    d = run.compare
    c = d["counts"]
    out = [f"## {n}. {L['changes']}", "",
           md(L["changes_intro"].format(round=d["runs"]["a"]["round"],
                                        run_id=d["runs"]["a"]["run_id"])), ""]
    out += table([L["matched_themes"], L["status_growing"], L["status_shrinking"],
                  L["new_themes"], L["vanished_themes"], L["merged_themes"], L["split_themes"]],
                 [[str(c[k]) for k in ("matched", "growing", "shrinking", "new", "vanished",
                                       "merged", "split")]])
    out += _tracking(run, L)
    for m in d["merged"]:
        out += [f"- {L['status_merged']}：" + "＋".join(md(f["label"]) for f in m["from"])
                + f" → {md(m['into']['label'])}"]
    for m in d["split"]:
        out += [f"- {L['status_split']}：{md(m['from']['label'])} → "
                + "／".join(md(f["label"]) for f in m["into"])]
    if d["merged"] or d["split"]:
        out += [""]
    out += [f"**{L['mapping_changes']}**", ""]
    out += [f"- {md(x['b']['label'])}：" + "；".join(f"{k} {md(v['a'])} → {md(v['b'])}"
                                                  for k, v in x["changes"].items())
            for x in d["mapping_changes"]] or [L["none_listed"]]
    out += ["", f"**{L['config_changes']}**", ""]
    out += [f"- {code(x['key'])}：{md(x['a'])} → {md(x['b'])}"
            for x in d["config_changes"]] or [L["none_listed"]]
    return [*out, ""]


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    tr = run.tracking
    if not tr:
        return []
    rounds = [str(r.get("round") or r.get("run_id")) for r in tr.get("rounds") or []]
    return [Sheet(L["sheet_tracking"], [L["x_theme_id"], L["x_label"], L["status"], *rounds],
                  ([num_id(t["id"]), t["label"], L.get(f"status_{t['status']}", t["status"]),
                    *t["shares"]] for t in tr.get("themes") or []),
                  widths={2: 40}, formats={i: "0.0%" for i in range(4, 4 + len(rounds))})]


SECTION = Section("changes", HTML, markdown, view=view, present=present, sheets=sheets)
