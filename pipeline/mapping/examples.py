"""Labelled texts for the learned mapper: one `Example` per text, from the framework file and
from the labelled dev units (the pathway text and off-topic meetings have modules of their own).

Every example carries its leave-out group (a unit's meeting, a pathway heading, a framework
passage): a training unit never sees texts of its own group among the prototypes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.jsonio import labelled_lines
from pipeline.mapping.framework import NONE_ID, Framework

RELEVANCE = "relevance"  # ref of the framework's net-zero relevance passages
# Fields every line of a labelled file needs (format of ../shared/eval/strategy_gold_dev.jsonl).
REQUIRED = ("id", "text", "key_area")


def read_gold(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in labelled_lines(path, REQUIRED)]




@dataclass
class Example:
    """One weakly (or gold) labelled training text."""

    text: str
    key_area: str
    source: str
    jt: list[str] | None = None  # None = no JT label (not used to train the JT model)
    focus: str | None = None
    has_focus: bool = False  # whether `focus` (None included) is a label
    group: str = ""
    ref: str = ""
    # The meeting's title (or a file name standing for it): the labellers read each unit with
    # its meeting title, and a petition's reasons are about its title's subject.
    context: str = ""


def framework_examples(fw: Framework) -> list[Example]:
    """Every key-area entry's description and examples (NONE included) as labelled texts;
    JT-dimension and focus entries as texts carrying that label only."""
    out = [Example(p, a.id, "framework", ref=a.id) for a in [*fw.key_areas,
           *([fw.none_area] if fw.none_area else [])] for p in a.passages()]
    for d in fw.jt_dimensions:
        out += [Example(p, "", "framework", jt=[d.id], ref=d.id) for p in d.passages()]
    for f in fw.focuses:
        out += [Example(p, "", "framework", focus=f.id, has_focus=True, ref=f.id)
                for p in f.passages()]
    # The general net-zero/transition anchor: no label, only the relevance evidence.
    if fw.relevance is not None:
        out += [Example(p, "", "framework", ref=RELEVANCE) for p in fw.relevance.passages()]
    return out


def gold_examples(rows: Sequence[dict[str, Any]], focus_ids: Sequence[str],
                  source: str = "dev") -> list[Example]:
    """Labelled units as examples (group = their meeting file); `source` names where they
    come from (the dev file, or the labelled training file: training_data.py)."""
    return [Example(str(r["text"]), str(r["key_area"]), source,
                    jt=list(r.get("jt_dimensions") or []),
                    focus=normalise_focus(r.get("consultation_focus"), focus_ids),
                    has_focus=str(r["key_area"]) != NONE_ID,
                    group=str(r.get("file") or r.get("meeting_title") or ""),
                    ref=str(r.get("id")),
                    context=str(r.get("meeting_title") or meeting_title(str(r.get("file") or "")))
                    ) for r in rows]


def meeting_title(name: str) -> str:
    """A meeting title from a transcript file name: extension, leading date or session id
    (2019-08-07-, s01-) and hyphens dropped."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", str(name))
    stem = re.sub(r"^(\d{4}-\d{2}-\d{2}|\d{8}|[A-Za-z]?\d{1,3})[-_ ]", "", stem)
    return stem.replace("-", " ").strip()


def normalise_focus(label: Any, focus_ids: Sequence[str]) -> str | None:
    """A focus label as one of the framework's ids: gold files use the short names
    (推動機制與策略), the consultation's own documents the long ones (戰略推動機制與策略)."""
    if not isinstance(label, str) or not label.strip():
        return None
    s = label.strip()
    for f in focus_ids:
        if s == f or s.endswith(f) or f.endswith(s):
            return f
    core = {f: re.sub("^(戰略|策略)", "", f) for f in focus_ids}
    for f, c in core.items():
        if c and (c in s or s in c):
            return f
    return s
