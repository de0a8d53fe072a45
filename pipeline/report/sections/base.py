"""What a report section is: one module under `report/sections/` gives the writers its part.

A section turns the run's view model (`RunData`) into
- `html`: a jinja2 template (source text, autoescaped) rendered with the names its
  `view()` returns, `n` (its number), `run`, `L` (labels), `rc` (report config), `show_role`
  and the shared macros of `templates/macros.html.j2` (quote_item, bar_chart, heatmap, lab,
  counts_inline);
- `markdown(run, cfg, L, n)`: its lines of report.md (helpers in `report/mdtext.py`);
- `sheets(run, cfg, L)`: the themes.xlsx sheets it owns (optional);
- `data(run, L)`: what the page's script needs, merged into the `report-data` JSON (optional);
- `figures(run, cfg, L)`: its charts as PNG pictures for report.docx (optional); the docx
  itself is built from the section's Markdown (report/docx.py).
`present(run)` says whether the run has the section at all; present sections are numbered
1, 2, … in `SECTIONS` order and listed in the page's navigation under `L[key]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import Config
from pipeline.report.model import RunData

Labels = dict[str, str]


@dataclass
class Sheet:
    """One worksheet: header row, data rows (any iterable, written lazily), column widths
    (1-based column -> characters), wrapped columns and number formats per column."""

    title: str
    headers: list[str]
    rows: Iterable[list[Any]]
    widths: dict[int, int] = field(default_factory=dict)
    wrap: set[int] = field(default_factory=set)
    formats: dict[int, str] = field(default_factory=dict)
    about: str = ""  # one line for the README sheet


def _always(run: RunData) -> bool:
    return True


def _no_view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Section:
    key: str  # anchor id in the page and label key of its title
    html: str
    markdown: Callable[[RunData, Config, Labels, int], list[str]]
    view: Callable[[RunData, Config, Labels], dict[str, Any]] = _no_view
    present: Callable[[RunData], bool] = _always
    sheets: Callable[[RunData, Config, Labels], list[Sheet]] | None = None
    data: Callable[[RunData, Labels], dict[str, Any]] | None = None
    # The section's charts as (caption, PNG) for report.docx (chart_images.py).
    figures: Callable[[RunData, Config, Labels], list[tuple[str, bytes]]] | None = None


def numbered(sections: Iterable[Section], run: RunData) -> list[tuple[int, Section]]:
    """The sections this run has, with their numbers (1, 2, … in order)."""
    return list(enumerate((s for s in sections if s.present(run)), start=1))
