"""Charts: theme sizes, themes × session types, themes × strategy areas, area shares.
The Markdown gives the tables behind them."""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.report import chart_images, charts
from pipeline.report.mdtext import md, table
from pipeline.report.model import NO_AREA, RunData
from pipeline.report.sections.base import Labels, Section

HTML = r"""<section id="charts">
<h2>{{ n }}. {{ L.charts }}</h2>
<figure class="chart" id="chart-sizes">
<figcaption>{{ L.chart_sizes }}<small>{{ L.chart_sizes_note }}{% if left_out_sizes %} {{ left_out_sizes }}{% endif %}</small></figcaption>
{% if chart_sizes %}<div class="scroll">{{ bar_chart(chart_sizes, L.chart_sizes) }}</div>{% else %}<p class="note">{{ L.no_chart_data }}</p>{% endif %}
</figure>
<figure class="chart" id="chart-types">
<figcaption>{{ L.chart_types }}<small>{{ L.chart_types_note }}</small></figcaption>
{% if chart_types %}{{ heatmap(chart_types, L.theme_no) }}{% else %}<p class="note">{{ L.no_chart_data }}</p>{% endif %}
</figure>
<figure class="chart" id="chart-matrix">
<figcaption>{{ L.chart_matrix }}<small>{% if run.matrix and run.matrix.kind == "counts" %}{{ L.chart_matrix_counts }}{% else %}{{ L.chart_matrix_shares }}{% endif %}</small></figcaption>
{% if chart_matrix %}{{ heatmap(chart_matrix, L.theme_no) }}{% else %}<p class="note">{{ L.no_chart_data }}</p>{% endif %}
</figure>
<figure class="chart" id="chart-areas">
<figcaption>{{ L.chart_area_share }}<small>{% if run.area_share_basis %}{{ L["basis_" ~ run.area_share_basis] }}{% endif %}{% if left_out_areas %} {{ left_out_areas }}{% endif %}</small></figcaption>
{% if chart_areas %}<div class="scroll">{{ bar_chart(chart_areas, L.chart_area_share) }}</div>{% else %}<p class="note">{{ L.no_chart_data }}</p>{% endif %}
</figure>
</section>
"""


def left_out_sizes(run: RunData, L: Labels) -> str:
    """What the theme-size chart leaves out: the units in no theme."""
    if not run.n_outliers:
        return ""
    return L["chart_left_out_outliers"].format(n=run.n_outliers,
                                               share=charts.pct(run.outlier_share))


def left_out_areas(run: RunData, L: Labels) -> str:
    """What the area-share chart leaves out (or shows apart): units about no strategy area."""
    if run.area_share_basis is None:
        return ""
    if run.none_share is not None:
        return L["chart_shows_none"]
    n = run.none_units
    if not n:
        return ""
    return L["chart_left_out_none"].format(n=n, share=charts.pct(n / run.n_analysed
                                                                  if run.n_analysed else None))


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"left_out_sizes": left_out_sizes(run, L), "left_out_areas": left_out_areas(run, L),
            "chart_sizes": charts.theme_sizes(run),
            "chart_types": charts.types_heatmap(run, L["unknown"]),
            "chart_matrix": charts.matrix_heatmap(run, L["none_share"]),
            "chart_areas": charts.area_shares(run, L["none_share"])}


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    pct = charts.pct
    out = [f"## {n}. {L['charts']}", ""]
    if not run.themes and not run.area_share_basis:
        out += [L["no_chart_data"], ""]
    if run.themes:
        out += [f"**{L['chart_sizes']}**", ""]
        out += [left_out_sizes(run, L), ""] if run.n_outliers else []
        out += table([L["theme_no"], L["size"], L["share"]],
                     [[md(t.ref), str(t.size), pct(t.share)] for t in run.themes])
    types = list(run.type_totals)
    if types and run.themes:
        out += [f"**{L['chart_types']}**", ""]
        out += table([L["theme_no"]] + [md(k) for k in types],
                     [[md(t.ref)] + [str(dict(t.by_type).get(k, 0)) for k in types]
                      for t in run.themes])
    m = run.matrix
    if m is not None and m.areas:
        out += [f"**{L['chart_matrix']}**", ""]
        cell = (lambda v: pct(v, 0)) if m.kind == "shares" else (lambda v: f"{v:g}")
        out += table([L["theme_no"]] + [md(L["none_share"] if a in NO_AREA else a)
                                        for a, _ in m.areas],
                     [[md(h)] + [cell(m.values.get((a, k), 0.0)) for a, _ in m.areas]
                      for k, h, _ in m.theme_cols])
    if run.area_share_basis:
        out += [f"**{L['chart_area_share']}**", ""]
        note = left_out_areas(run, L)
        out += [note, ""] if note else []
        rows = [[md(a.id), md(a.name), pct(a.share),
                 str(a.n_units) if a.n_units is not None else ""] for a in run.areas]
        if run.none_share is not None:
            rows.append([md(L["none_share"]), "", pct(run.none_share), ""])
        out += table([L["filter_area"], "", L["area_share"], L["units"]], rows)
    return out


def figures(run: RunData, cfg: Config, L: Labels) -> list[tuple[str, bytes]]:
    v = view(run, cfg, L)
    out = []
    if v["chart_sizes"]:
        out.append((L["chart_sizes"], chart_images.bar_png(v["chart_sizes"])))
    if v["chart_types"]:
        out.append((L["chart_types"], chart_images.heatmap_png(v["chart_types"], L["theme_no"])))
    if v["chart_matrix"]:
        out.append((L["chart_matrix"],
                    chart_images.heatmap_png(v["chart_matrix"], L["theme_no"])))
    if v["chart_areas"]:
        out.append((L["chart_area_share"], chart_images.bar_png(v["chart_areas"])))
    return out


SECTION = Section("charts", HTML, markdown, view=view, figures=figures)
