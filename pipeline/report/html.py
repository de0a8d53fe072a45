"""report.html: one self-contained, offline page rendered by jinja2 with autoescaping on.

Transcript text only ever reaches the page through autoescaped `{{ }}` expressions or the
JSON block (escaped below); the only unescaped insertions are our own static CSS and JS.
A Content-Security-Policy allows nothing to be fetched and only our one script (by its
hash) to run, so even a markup mistake could neither load anything nor run injected code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipeline.config import Config
from pipeline.report import charts
from pipeline.report.model import RunData, section_numbers, show_role

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Config keys whose values are real names (speaker labels, names to redact): a report must
# not print what redaction removed from the text.
PRIVATE_KEYS = {("redact", "extra_names"), ("roles", "officials"), ("roles", "moderators")}

TAIWAN = timezone(timedelta(hours=8))

CSP = ("default-src 'none'; script-src '{script_hash}'; style-src 'unsafe-inline'; "
       "img-src data:; base-uri 'none'; form-action 'none'")


def json_for_script(obj: Any) -> Markup:
    """JSON that cannot end its <script> block or open an HTML comment inside it."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)


def masked_config(config: dict[str, Any], hidden_label: str) -> dict[str, Any]:
    out = json.loads(json.dumps(config))
    for section, key in PRIVATE_KEYS:
        values = (out.get(section) or {}).get(key)
        if values:
            out[section][key] = hidden_label.format(n=len(values))
    return out


def config_yaml(config: dict[str, Any], hidden_label: str) -> str:
    return yaml.safe_dump(masked_config(config, hidden_label), allow_unicode=True,
                          sort_keys=False)


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = charts.pct
    env.filters["num"] = lambda n: "–" if n is None else f"{n:,}"
    env.filters["when"] = when
    return env


def when(iso: str, zone_label: str) -> str:
    """run.json's UTC timestamp in Taiwan time (UTC+8, no daylight saving), for readers there."""
    try:
        t = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    if t.tzinfo is None:
        return t.strftime("%Y-%m-%d %H:%M")
    return t.astimezone(TAIWAN).strftime("%Y-%m-%d %H:%M") + f"（{zone_label}）"


def filter_data(run: RunData, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "themes": {t.anchor: {"areas": t.bears_on, "gap": t.gap,
                              "types": [k for k, n in t.by_type if n],
                              "locations": [k for k, n in t.by_location if n]}
                   for t in run.themes},
        "labels": {k: labels[k] for k in ("showing_themes", "matching_quotes", "expand_all",
                                          "collapse_all")},
    }


def options(run: RunData) -> dict[str, list[tuple[str, str]]]:
    """Filter choices: only values some theme has, so no choice empties the page."""
    types: list[str] = []
    locs: list[str] = []
    for t in run.themes:
        types += [k for k, n in t.by_type if n and k not in types]
        locs += [k for k, n in t.by_location if n and k not in locs]
    names = {a.id: a.name for a in run.areas}
    used = [a.id for a in run.areas if any(a.id in t.bears_on for t in run.themes)]
    return {"areas": [(a, f"{a} {names[a]}" if names.get(a, a) != a else a) for a in used],
            "types": [(k, k) for k in types], "locations": [(k, k) for k in locs]}


def render_html(run: RunData, cfg: Config, labels: dict[str, str]) -> str:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    hidden = "[hidden: {n}]" if cfg.report.language == "en" else "［已隱藏 {n} 項］"
    embed = (run.config.get("embed") or {})
    ctx = {
        "run": run, "rc": cfg.report, "L": labels, "show_role": show_role,
        "cfg_themes": cfg.themes,
        "lang": "zh-Hant-TW" if cfg.report.language == "zh-TW" else "en",
        "css": Markup(css), "js": Markup(js),
        "csp": CSP.format(script_hash=f"sha256-{digest}"),
        "data_json": json_for_script(filter_data(run, labels)),
        "options": options(run),
        "chart_sizes": charts.theme_sizes(run),
        "chart_types": charts.types_heatmap(run, labels["unknown"]),
        "chart_matrix": charts.matrix_heatmap(run, labels["none_share"]),
        "chart_areas": charts.area_shares(run, labels["none_share"]),
        "config_text": config_yaml(run.config, hidden),
        "embedding": " / ".join(str(embed[k]) for k in ("backend", "model") if embed.get(k)),
        "uncovered": [a for a in run.areas if not a.entries],
        "sessions_by_type": _count_by(run, "type", labels["unknown"]),
        "sessions_by_location": _count_by(run, "location", labels["unknown"]),
        "sec": section_numbers(run),
        "chart_org_sessions": charts.org_sessions_heatmap(run, "⚑"),
        "chart_org_themes": charts.org_themes_heatmap(run),
        "org_rows": _org_rows(run),
        "org_pairs": _org_pairs(run),
        "tracking_chart": _tracking_chart(run, labels),
    }
    return environment().get_template("report.html.j2").render(**ctx)


def _count_by(run: RunData, attr: str, unknown: str) -> list[tuple[str, int]]:
    out: dict[str, int] = {}
    for s in run.sessions:
        key = getattr(s, attr) or unknown
        out[key] = out.get(key, 0) + 1
    return sorted(out.items(), key=lambda kv: -kv[1])


def _org_rows(run: RunData) -> list[dict[str, Any]]:
    if run.participation is None:
        return []
    return run.participation.org_summary.to_dict("records")


def _org_pairs(run: RunData, limit: int = 20) -> list[dict[str, Any]]:
    if run.participation is None:
        return []
    pairs = run.participation.pairs
    return pairs[~pairs["organiser"]].head(limit).to_dict("records")


def _tracking_chart(run: RunData, labels: dict[str, str]) -> Markup | None:
    from pipeline.report.tracking_chart import status_names, tracking_svg

    if not run.tracking:
        return None
    # Built by jinja2 with autoescaping (tracking_chart.py), so theme labels are text.
    svg = tracking_svg(run.tracking, labels["tracking"], status_names(labels),
                       standalone=False)
    return Markup(svg) if svg else None
