"""report.md: the same sections as the HTML, in plain Markdown for pasting into documents.

Each section writes its own lines (`report/sections/`, with the text pieces of mdtext.py,
which escape everything that comes from a run); this module puts them together.
"""

from __future__ import annotations

from pipeline.config import Config
from pipeline.report.mdtext import render_markdown_head
from pipeline.report.model import RunData
from pipeline.report.sections import SECTIONS, numbered


def render_markdown(run: RunData, cfg: Config, L: dict[str, str]) -> str:
    out = render_markdown_head(run, L)
    for n, section in numbered(SECTIONS, run):
        out += section.markdown(run, cfg, L, n)
    return "\n".join(out)
