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
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, FunctionLoader, StrictUndefined
from markupsafe import Markup

from pipeline.config import Config
from pipeline.report import charts
from pipeline.report.display import when
from pipeline.report.model import RunData, show_role
from pipeline.report.sections import SECTIONS, numbered

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

CSP = ("default-src 'none'; script-src '{script_hash}'; style-src 'unsafe-inline'; "
       "img-src data:; base-uri 'none'; form-action 'none'")


def json_for_script(obj: Any) -> Markup:
    """JSON that cannot end its <script> block or open an HTML comment inside it."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)


def environment() -> Environment:
    loader = ChoiceLoader([FileSystemLoader(TEMPLATES), FunctionLoader(_section_source)])
    env = Environment(loader=loader, autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = charts.pct
    env.filters["num"] = lambda n: "–" if n is None else f"{n:,}"
    env.filters["when"] = when
    return env


def _section_source(name: str) -> str | None:
    # "section/<key>": the HTML of a section module, with the shared macros imported.
    key = name.removeprefix("section/")
    for s in SECTIONS:
        if name.startswith("section/") and s.key == key:
            return ('{% from "macros.html.j2" import lab, counts_inline, quote_item, bar_chart, '
                    'heatmap with context %}\n' + s.html)
    return None


def render_html(run: RunData, cfg: Config, labels: dict[str, str]) -> str:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    env = environment()
    common = {"run": run, "rc": cfg.report, "L": labels, "show_role": show_role}
    present = numbered(SECTIONS, run)
    parts, script_data = [], {}
    for n, section in present:
        tpl = env.get_template(f"section/{section.key}")
        parts.append(Markup(tpl.render(**common, **section.view(run, cfg, labels), n=n)))
        if section.data is not None:
            script_data.update(section.data(run, labels))
    ctx = {
        **common,
        "lang": "zh-Hant-TW" if cfg.report.language == "zh-TW" else "en",
        "css": Markup(css), "js": Markup(js),
        "csp": CSP.format(script_hash=f"sha256-{digest}"),
        "data_json": json_for_script(script_data),
        "nav": [(n, s.key) for n, s in present],
        "sections": parts,
    }
    return env.get_template("report.html.j2").render(**ctx)
