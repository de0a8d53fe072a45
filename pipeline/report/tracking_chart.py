"""The theme-tracking chart: each theme's share of analysed units, round by round.

BERTopic's topics-over-time idea at round granularity, drawn as a standalone SVG (written
next to the reports as theme_tracking.svg, and inlined in report.html). Labels are
transcript-derived text, so the SVG goes through jinja2 with autoescaping like the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from pipeline.report.charts import clip, text_em

# Colour-blind-safe qualitative palette (Okabe-Ito), then greys for the rest.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#999999", "#666666"]
PLOT_W, PLOT_H, LEFT, TOP, BOTTOM = 520, 260, 56, 24, 48
FONT_PX = 12

_SVG = """<svg{% if standalone %} xmlns="http://www.w3.org/2000/svg"{% endif %} \
class="tracking" viewBox="0 0 {{ w }} {{ h }}" width="{{ w }}" height="{{ h }}" role="img" \
aria-label="{{ title }}" \
font-family="'Noto Sans TC','PingFang TC','Microsoft JhengHei',sans-serif" font-size="12">
<title>{{ title }}</title>
<rect x="0" y="0" width="{{ w }}" height="{{ h }}" fill="#ffffff"/>
{% for y, text in yticks %}<line x1="{{ left }}" x2="{{ left + pw }}" y1="{{ y }}" y2="{{ y }}" \
stroke="#e3e3e3"/><text x="{{ left - 6 }}" y="{{ y + 4 }}" text-anchor="end" fill="#555">\
{{ text }}</text>
{% endfor %}
{% for x, text in xticks %}<text x="{{ x }}" y="{{ top + ph + 18 }}" text-anchor="middle" \
fill="#333">{{ text }}</text>
{% endfor %}
{% for s in series %}<g class="series"><title>{{ s.full }}</title>
<polyline fill="none" stroke="{{ s.color }}" stroke-width="2"{% if s.dashed %} \
stroke-dasharray="5 4"{% endif %} points="{{ s.points }}"/>
{% for x, y, tip in s.dots %}<circle cx="{{ x }}" cy="{{ y }}" r="3.5" fill="{{ s.color }}">\
<title>{{ tip }}</title></circle>{% endfor %}
</g>
{% endfor %}
{% for s in series %}<g class="key"><rect x="{{ key_x }}" y="{{ s.key_y - 9 }}" width="12" \
height="12" fill="{{ s.color }}"/><text x="{{ key_x + 18 }}" y="{{ s.key_y + 1 }}" \
fill="#222">{{ s.label }}</text></g>
{% endfor %}
</svg>
"""


@dataclass
class _Series:
    label: str
    full: str
    color: str
    points: str
    dots: list[tuple[float, float, str]]
    key_y: float
    dashed: bool


def status_names(labels: Mapping[str, str]) -> dict[str, str]:
    """Tracking status code -> its words in the report's language (labels `status_*`)."""
    return {k.removeprefix("status_"): v for k, v in labels.items()
            if k.startswith("status_")}


def tracking_svg(tracking: dict[str, Any], title: str,
                 status_names: Mapping[str, str] | None = None, max_series: int = 10,
                 standalone: bool = True) -> str | None:
    """SVG of `tracking.json` (see pipeline/compare/tracking.py): rounds on x, share on y;
    each line's status in words from `status_names` (labels), else as its code.

    `standalone=False` leaves out the XML namespace, which inline SVG in HTML does not
    need (and the report carries no URL at all)."""
    rounds = [r.get("round") or r.get("run_id") or "?" for r in tracking.get("rounds") or []]
    traced = [t for t in tracking.get("themes") or []
              if any(v is not None for v in t.get("shares") or [])]
    # Lines first (themes traced to earlier rounds), then the largest new themes as dots.
    lines = sorted(traced, key=lambda t: (sum(v is not None for v in t["shares"]) < 2,
                                          -(t["shares"][-1] or 0.0)))[:max_series]
    if len(rounds) < 2 or not lines:
        return None
    top = max((v for t in lines for v in t["shares"] if v is not None), default=0.0) or 1.0
    top = min(1.0, top * 1.1)
    step = PLOT_W / (len(rounds) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return round(LEFT + i * step, 1), round(TOP + PLOT_H * (1 - v / top), 1)

    labels = [clip(str(t.get("label") or t.get("id")), 18) for t in lines]
    key_x = LEFT + PLOT_W + 28
    key_w = int(max(text_em(s) for s in labels) * FONT_PX) + 30
    series = []
    for n, (t, label) in enumerate(zip(lines, labels, strict=True)):
        pts, dots = [], []
        for i, v in enumerate(t["shares"]):
            if v is None:
                continue
            x, y = xy(i, v)
            pts.append(f"{x},{y}")
            dots.append((x, y, f"{rounds[i]}：{100 * v:.1f}%"))
        code = str(t.get("status") or "")
        status = (status_names or {}).get(code, code)
        series.append(_Series(label, f"{t.get('label')}（{status}）", PALETTE[n % len(PALETTE)],
                              " ".join(pts), dots, TOP + 8 + n * 20, t.get("status") == "new"))
    yticks = [(round(TOP + PLOT_H * (1 - f), 1), f"{100 * top * f:.0f}%")
              for f in (0, 0.25, 0.5, 0.75, 1.0)]
    xticks = [(xy(i, 0)[0], clip(r, 10)) for i, r in enumerate(rounds)]
    env = Environment(autoescape=True, trim_blocks=True)
    h = max(TOP + PLOT_H + BOTTOM, TOP + 8 + 20 * len(series) + 12)
    return env.from_string(_SVG).render(
        standalone=standalone, w=key_x + key_w, h=h, title=title, left=LEFT, top=TOP,
        pw=PLOT_W, ph=PLOT_H, yticks=yticks, xticks=xticks, series=series, key_x=key_x)
