"""The report's sections, in the order they appear in every format (HTML, Markdown, Excel).

To add a section (4 files): a module here with `SECTION = Section(...)` (see base.py and any
module below, e.g. participation.py), one line in `SECTIONS`, its words in `report/labels.py`
(both languages; the title under the section's key), a test.
"""

from __future__ import annotations

from pipeline.report.sections import (
    by_type,
    changes,
    charts,
    comments,
    method,
    overview,
    participation,
    process,
    proposals,
    strategy,
    themes,
)
from pipeline.report.sections.base import Section, Sheet, numbered

SECTIONS: list[Section] = [
    overview.SECTION,
    strategy.SECTION,
    proposals.SECTION,
    by_type.SECTION,
    process.SECTION,
    themes.SECTION,
    charts.SECTION,
    participation.SECTION,
    # Template campaigns next to the over-mobilisation flags of participation.
    comments.SECTION,
    changes.SECTION,
    method.SECTION,
]

__all__ = ["SECTIONS", "Section", "Sheet", "numbered"]
