"""Markdown text pieces the report's sections share (report.md and, through it, report.docx).

Every string that comes from a run (transcript text, labels, metadata) goes through `md()`,
which backslash-escapes Markdown syntax and turns `<`, `>` and `&` into entities, so a quote
can neither format, link nor inject HTML wherever the Markdown is rendered.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.report.charts import pct
from pipeline.report.model import Quote, RunData, Theme, show_role

# Characters that format or link anywhere in a line (tables split on `|`).
_INLINE = re.compile(r"([\\`*_\[\]|~])")
# At the start of a line these open a heading, list, quote or setext underline.
_LEAD = re.compile(r"^([#+=>-])")
_LEAD_NUM = re.compile(r"^(\d+)([.)])")
_AMP = re.compile(r"&(?=[A-Za-z#])")
_LT = re.compile(r"<(?=[A-Za-z/!?])")
_GT = re.compile(r"(?<=[A-Za-z0-9\"'/\-])>")
# GFM turns bare URLs and www. names into links; a backslash keeps them text.
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def md(value: Any) -> str:
    """Inline-safe Markdown text: one line that renders as itself, with no markup, HTML
    or links. Only characters that can act are escaped, so the raw file stays readable."""
    if value is None:
        return ""
    s = " ".join(str(value).split())
    # Only where they could open a tag or an entity: "碳費 < 碳稅" and "p < 0.5" stay as
    # written, "<b>" and "&amp;" become text.
    s = _AMP.sub("&amp;", s)
    s = _LT.sub("&lt;", s)
    s = _GT.sub("&gt;", s)
    s = _INLINE.sub(r"\\\1", s)
    s = _AUTOLINK.sub(lambda m: "\\" + m.group(1) if m.group(1) == "://"
                      else m.group(1)[:3] + "\\.", s)
    s = _LEAD.sub(r"\\\1", s)
    return _LEAD_NUM.sub(r"\1\\\2", s)


def code(value: Any) -> str:
    # A code span cannot be escaped from inside; drop backticks so it always closes.
    s = " ".join(str(value or "").split()).replace("`", "'")
    return f"`{s}`" if s else ""


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return [*out, ""]


def lab(L: dict[str, str], prefix: str, key: str | None) -> str:
    return md(L.get(f"{prefix}{key}", key) if key else L["unknown"])


def counts_text(items: list[tuple[str, int]], L: dict[str, str]) -> str:
    return "、".join(f"{md(k or L['unknown'])} {n}" for k, n in items)


def quote(q: Quote, L: dict[str, str]) -> list[str]:
    who = md(q.speaker or L["unknown"]) + (f"（{lab(L, 'role_', q.role)}）"
                                          if show_role(q, L) else "")
    bits = [md(b) for b in (q.session_date, q.session_type, q.session_location) if b]
    ses = md(q.session_title or q.session_id or "") + (f"（{'，'.join(bits)}）" if bits else "")
    cite = " · ".join(x for x in (who, ses, code(q.source)) if x)
    return [f"> {md(q.text)}", ">", f"> — {cite}", ""]


def theme_facts(t: Theme, L: dict[str, str]) -> str:
    s = f"{L['share']} {pct(t.share)} · {t.size} {L['area_units']}"
    if t.by_type:
        s += f" · {L['raised_by_types']}：{counts_text(t.by_type, L)}"
    if t.by_location:
        s += f" · {L['raised_in_locations']}：{counts_text(t.by_location, L)}"
    return s


def render_markdown_head(run: RunData, L: dict[str, str]) -> list[str]:
    """The title lines: the report's, then the manifest's title of the round (if any)."""
    head = f"**{md(run.title)}**（{md(run.round)}）" if run.title else md(run.round)
    return [f"# {md(L['title'])}", "", f"{head} · {L['subtitle']}", ""]
