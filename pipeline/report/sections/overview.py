"""1. Overview: the round in numbers, sessions by type and location, the session list."""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.participation import parse_names
from pipeline.report import charts
from pipeline.report.display import when
from pipeline.report.mdtext import code, md, table
from pipeline.report.model import RunData
from pipeline.report.sections.base import Labels, Section, Sheet

HTML = r"""<section id="overview">
<h2>{{ n }}. {{ L.overview }}</h2>
<div class="cards">
<div class="card"><span class="k">{{ L.sessions }}</span><span class="v">{{ run.sessions|length }}</span></div>
<div class="card"><span class="k">{{ L.units_analysed }}</span><span class="v">{{ run.n_analysed|num }}</span><span class="s">/ {{ run.n_units|num }} {{ L.units_total }}</span></div>
<div class="card"><span class="k">{{ L.n_themes }}</span><span class="v">{{ run.themes|length }}</span></div>
<div class="card"><span class="k">{{ L.outlier_share }}</span><span class="v">{{ run.outlier_share|pct }}</span>{% if run.n_outliers is not none %}<span class="s">{{ run.n_outliers }} {{ L.area_units }}</span>{% endif %}</div>
{% if run.mapped %}
<div class="card"><span class="k">{{ L.coverage }}</span><span class="v">{{ run.covered_areas|length }} / {{ run.areas|length }}</span><span class="s">{{ L.coverage_sub }}</span></div>
<div class="card{% if run.gaps %} warn{% endif %}"><span class="k">{{ L.gap_count }}</span><span class="v">{{ run.gaps|length }}</span></div>
{% endif %}
</div>
<dl class="meta">
<div><dt>{{ L.round }}</dt><dd>{{ run.round }}</dd></div>
<div><dt>{{ L.run_id }}</dt><dd><code>{{ run.run_id }}</code></dd></div>
<div><dt>{{ L.config_hash }}</dt><dd><code>{{ run.config_hash }}</code></dd></div>
{% if run.finished or run.started %}<div><dt>{{ L.run_time }}</dt><dd>{{ (run.finished or run.started)|when(L.taiwan_time) }}</dd></div>{% endif %}
</dl>
{% if chart_sizes %}
<figure class="chart" id="overview-sizes">
<figcaption>{{ L.chart_sizes }}<small>{{ L.chart_sizes_note }}{% if left_out_sizes %} {{ left_out_sizes }}{% endif %}</small></figcaption>
<div class="scroll">{{ bar_chart(chart_sizes, L.chart_sizes) }}</div>
</figure>
{% endif %}
<div class="two">
<table class="small"><caption>{{ L.sessions_by_type }}</caption>
<thead><tr><th scope="col">{{ L.session_type }}</th><th scope="col" class="n">{{ L.sessions }}</th></tr></thead>
<tbody>{% for k, n in sessions_by_type %}<tr><td>{{ k }}</td><td class="n">{{ n }}</td></tr>{% endfor %}</tbody></table>
<table class="small"><caption>{{ L.sessions_by_location }}</caption>
<thead><tr><th scope="col">{{ L.location }}</th><th scope="col" class="n">{{ L.sessions }}</th></tr></thead>
<tbody>{% for k, n in sessions_by_location %}<tr><td>{{ k }}</td><td class="n">{{ n }}</td></tr>{% endfor %}</tbody></table>
</div>
<details class="block">
<summary>{{ L.session_list }}（{{ run.sessions|length }}）</summary>
<div class="scroll"><table>
<thead><tr><th scope="col">{{ L.date }}</th><th scope="col">{{ L.session_title }}</th><th scope="col">{{ L.session_type }}</th><th scope="col">{{ L.location }}</th><th scope="col">{{ L.participants }}</th><th scope="col">{{ L.file }}</th><th scope="col" class="n">{{ L.analysed }} / {{ L.units }}</th></tr></thead>
<tbody>
{% for s in run.sessions %}
<tr><td>{{ s.date or "" }}</td><td>{{ s.title or s.id }}</td><td>{{ s.type or L.unknown }}</td><td>{{ s.location or L.unknown }}</td><td>{{ s.participants or "" }}</td><td><code>{{ s.file or "" }}</code></td><td class="n">{{ s.analysed }} / {{ s.units }}</td></tr>
{% endfor %}
</tbody></table></div>
</details>
{% if run.notes %}
<div class="notes" role="note"><strong>{{ L.notes }}</strong><ul>
{% for n in run.notes %}<li>{% if n.startswith("missing:") %}{{ L.missing_file.format(file=n[8:]) }}{% elif n == "mapping" %}{{ L.mapping_missing }}{% else %}{{ n }}{% endif %}</li>{% endfor %}
</ul></div>
{% endif %}
</section>
"""


def count_by(run: RunData, attr: str, unknown: str) -> list[tuple[str, int]]:
    """Sessions per value of a session attribute (type, location), most first."""
    out: dict[str, int] = {}
    for s in run.sessions:
        key = getattr(s, attr) or unknown
        out[key] = out.get(key, 0) + 1
    return sorted(out.items(), key=lambda kv: -kv[1])


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    from pipeline.report.sections.charts import left_out_sizes

    return {"chart_sizes": charts.theme_sizes(run), "left_out_sizes": left_out_sizes(run, L),
            "sessions_by_type": count_by(run, "type", L["unknown"]),
            "sessions_by_location": count_by(run, "location", L["unknown"])}


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    out = [f"## {n}. {L['overview']}", ""]
    facts = [
        (L["round"], md(run.round)), (L["run_id"], code(run.run_id)),
        (L["config_hash"], code(run.config_hash)),
        (L["run_time"], md(when(run.finished or run.started or "", L["taiwan_time"]))),
        (L["sessions"], str(len(run.sessions))),
        (L["units_analysed"], f"{run.n_analysed} / {run.n_units}"),
        (L["n_themes"], str(len(run.themes))), (L["outlier_share"], charts.pct(run.outlier_share)),
    ]
    if run.mapped:
        facts += [(L["coverage"], L["coverage_text"].format(
            covered=len(run.covered_areas), total=len(run.areas))),
            (L["gap_count"], str(len(run.gaps)))]
    out += [f"- **{k}**：{v}" for k, v in facts] + [""]
    for key, attr, col in (("sessions_by_type", "type", "session_type"),
                           ("sessions_by_location", "location", "location")):
        out += [f"**{L[key]}**", ""]
        out += table([L[col], L["sessions"]],
                     [[md(k), str(c)] for k, c in count_by(run, attr, L["unknown"])])
    out += [f"**{L['session_list']}**", ""]
    out += table([L["date"], L["session_title"], L["session_type"], L["location"], L["file"],
                  f"{L['analysed']} / {L['units']}"],
                 [[md(s.date), md(s.title or s.id), md(s.type or L["unknown"]),
                   md(s.location or L["unknown"]), code(s.file), f"{s.analysed} / {s.units}"]
                  for s in run.sessions])
    for note in run.notes:
        if note.startswith("missing:"):
            out.append(f"> {L['missing_file'].format(file=md(note[8:]))}")
        elif note == "mapping":
            out.append(f"> {L['mapping_missing']}")
    if run.notes:
        out.append("")
    return out


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    inputs = {i.get("session_id"): i for i in run.inputs}
    extra = sorted({k for s in run.sessions for k in s.extra})
    return [Sheet(L["sheet_sessions"], [
        L["x_session_id"], L["x_session_title"], L["x_date"], L["x_session_type"],
        L["x_location"], L["x_participants"], L["x_file"], L["x_units"],
        L["x_analysed_units"], L["x_sha256"], *(L.get(f"x_{k}", k) for k in extra)],
        ([s.id, s.title, s.date, s.type, s.location, s.participants, s.file, s.units,
          s.analysed, (inputs.get(s.id) or {}).get("sha256")]
         + ["、".join(parse_names(s.extra.get(k))) or None for k in extra]
         for s in run.sessions), widths={2: 28, 6: 30, 7: 28, 10: 66})]


SECTION = Section("overview", HTML, markdown, view=view, sheets=sheets)
