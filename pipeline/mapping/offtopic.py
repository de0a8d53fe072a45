"""What "no strategy area" sounds like in real meetings: speaker paragraphs from transcripts of
meetings on other topics (title with no energy/climate/environment word, never a meeting of the
labelled file, paragraph with no strategy keyword), drawn with a fixed seed, labelled NONE.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.mapping.examples import Example, meeting_title
from pipeline.mapping.framework import NONE_ID

# A meeting whose title has one of these is (or may be) about energy, climate or environment:
# its paragraphs are not used as NONE examples.
TOPICAL_TITLE = re.compile(
    "能源|電|碳|氣候|環境|環保|減塑|再塑|塑|循環|綠|永續|淨零|廢|回收|海洋|海域|農|森林|生態|"
    "交通|運輸|車|金融|地熱|風|光|水|空污|空氣|產業|經濟|工廠|國家公園|ESG|SDG|轉型|溫室")


_TURN = re.compile(r"^###\s*(.+?)[：:]\s*$")


def none_general_examples(meetings_dir: Path, exclude_files: set[str], keyword_hit:
                          Callable[[str], bool], seed: int, per_meeting: int = 6,
                          max_total: int = 600) -> tuple[list[Example], list[str]]:
    """Speaker paragraphs (20–200 characters) of off-topic meetings, seeded sample.

    Returns the examples and the meeting files they came from (for the artefact's hashes).
    """
    rng = np.random.default_rng(seed)
    files = sorted(p for p in Path(meetings_dir).glob("*.md")
                   if p.name not in exclude_files and not TOPICAL_TITLE.search(p.stem))
    out: list[Example] = []
    used: list[str] = []
    for f in files:
        paras: list[str] = []
        cur: list[str] = []
        for ln in f.read_text(encoding="utf-8", errors="replace").splitlines():
            if _TURN.match(ln.strip()) or ln.startswith("#"):
                if cur:
                    paras.append("".join(cur))
                cur = []
                continue
            s = ln.strip()
            if s and not s.startswith(">"):
                cur.append(s)
        if cur:
            paras.append("".join(cur))
        paras = [p for p in paras if 20 <= len(p) <= 200 and not keyword_hit(p)]
        if not paras:
            continue
        pick = rng.choice(len(paras), size=min(per_meeting, len(paras)), replace=False)
        out += [Example(paras[i], NONE_ID, "none_general", group=f.name, ref=f.name,
                        context=meeting_title(f.name)) for i in sorted(pick)]
        used.append(f.name)
    if len(out) > max_total:
        keep = sorted(rng.choice(len(out), size=max_total, replace=False))
        out = [out[i] for i in keep]
    return out, used
