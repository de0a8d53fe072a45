"""The official 2050 pathway text as weakly labelled examples: paragraph chunks labelled by the
heading they sit under (`PATHWAY_RULES`, written by hand from the headings and
../shared/eval/TAXONOMY.md; the social-support chapter on 公正轉型 is S12, the appendix of public
concerns is labelled per item).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.mapping.examples import Example

# Heading path (chapter / 壹 / 一 / (一) / 1) → key area; the longest matching prefix wins and
# "-" drops the block (introductions, budgets: about net-zero in general, no single area).
# Written by reading the headings of fulltext.txt; the labels follow ../shared/eval/TAXONOMY.md.
PATHWAY_RULES: dict[str, str] = {
    "Ⅰ": "-",
    "Ⅱ": "-",
    "Ⅱ/壹": "S04", "Ⅱ/壹/二/一/1": "S01", "Ⅱ/壹/二/一/2": "S04", "Ⅱ/壹/二/一/3": "S04",
    "Ⅱ/壹/二/一/4": "S03", "Ⅱ/壹/二/一/5": "F1", "Ⅱ/壹/二/二/1": "S04",
    "Ⅱ/壹/二/二/2": "S01", "Ⅱ/壹/二/三": "S01", "Ⅱ/壹/二/四": "S02", "Ⅱ/壹/二/五": "S06",
    "Ⅱ/貳": "S05", "Ⅱ/貳/一/二/2": "S04", "Ⅱ/貳/一/二/3": "S08", "Ⅱ/貳/二": "-",
    "Ⅱ/參": "S05", "Ⅱ/參/二/二": "S01", "Ⅱ/參/二/三": "S07", "Ⅱ/參/三/三": "S10",
    "Ⅱ/肆": "S05", "Ⅱ/肆/三/三": "S07",
    "Ⅱ/伍": "S07",
    "Ⅱ/陸": "-", "Ⅱ/陸/一": "F2", "Ⅱ/陸/二": "S05", "Ⅱ/陸/四": "S11",
    "Ⅲ": "S10", "Ⅲ/貳/二/三": "S05", "Ⅲ/貳/二/四": "S07",
    "Ⅳ": "S12",
    "Ⅴ": "F1", "Ⅴ/壹/五/二": "S12",
    "Ⅵ": "F2", "Ⅵ/貳": "S11",
    "Ⅶ": "-", "Ⅶ/壹/一": "S01", "Ⅶ/壹/二": "S02", "Ⅶ/壹/三": "S03", "Ⅶ/壹/四": "S04",
    "Ⅶ/壹/五": "S05", "Ⅶ/壹/六": "S06", "Ⅶ/壹/七": "S07", "Ⅶ/壹/八": "S08",
    "Ⅶ/壹/九": "S09", "Ⅶ/壹/十": "S10", "Ⅶ/壹/十一": "S11", "Ⅶ/壹/十二": "S12",
    "附錄": "-", "附錄/一": "S04", "附錄/二": "S01", "附錄/三": "S05", "附錄/三/三": "S12",
    "附錄/四": "S05", "附錄/四/一": "S10", "附錄/四/二": "S10",
}


# JT dimensions of pathway blocks that are about them (social-support chapter, appendix).
PATHWAY_JT: dict[str, list[str]] = {
    "Ⅳ/參/一/一": ["區域衡平"], "Ⅳ/參/一/三": ["民生照顧", "產業發展"],
    "Ⅳ/參/一/四": ["勞動市場", "產業發展"], "Ⅳ/參/三": ["勞動市場", "產業發展"],
    "Ⅴ/壹/五/二": ["勞動市場"], "附錄/三/三": ["勞動市場"],
}


_CHAPTER = re.compile(r"^(Ⅰ|Ⅱ|Ⅲ|Ⅳ|Ⅴ|Ⅵ|Ⅶ|附錄)、")


_L1 = re.compile(r"^([壹貳參肆伍陸柒])、")


_L2 = re.compile(r"^([一二三四五六七八九十]{1,3})、")


_L3 = re.compile(r"^[(（]([一二三四五六七八九十]{1,3})[)）]")


_L4 = re.compile(r"^(\d{1,2})\.\s")


_NOISE = re.compile(r"^(=== page \d+ ===|\d{1,3}|圖\s*\d+.*|表\s*\d+.*)$")


def _rule_for(path: list[str], rules: dict[str, Any]) -> Any:
    for k in range(len(path), 0, -1):
        key = "/".join(path[:k])
        if key in rules:
            return rules[key]
    return None


def _chunks(text: str, lo: int = 40, hi: int = 180) -> list[str]:
    """Sentences (。；！？ and list markers) packed into chunks of about unit length."""
    text = re.sub(r"\s+", "", text)
    parts = [p for p in re.split(r"(?<=[。；！？])|(?=\(\d\))|(?=[１-９]\.)", text) if p]
    out: list[str] = []
    cur = ""
    for p in parts:
        if cur and len(cur) + len(p) > hi:
            out.append(cur)
            cur = ""
        cur += p
        if len(cur) >= lo and cur.endswith(("。", "；")):
            out.append(cur)
            cur = ""
    if cur:
        if out and len(cur) < lo:
            out[-1] += cur
        else:
            out.append(cur)
    return [c for c in out if len(c) >= 20]


def pathway_examples(fulltext: Path) -> list[Example]:
    """Paragraph chunks of the pathway text, labelled by the heading they sit under."""
    lines = [ln.strip() for ln in Path(fulltext).read_text(encoding="utf-8").splitlines()]
    path: list[str] = []
    started = False
    blocks: list[tuple[list[str], list[str]]] = []  # (heading path, body lines)
    for ln in lines:
        if not ln or _NOISE.match(ln) or "....." in ln:
            continue
        m = _CHAPTER.match(ln)
        if m and ("篇" in ln or "總論" in ln or "戰略" in ln or "附錄" in ln):
            started = True
            path = [m.group(1)]
            blocks.append((list(path), []))
            continue
        if not started:
            continue
        level = None
        for lv, pat in ((1, _L1), (2, _L2), (3, _L3), (4, _L4)):
            m = pat.match(ln)
            if m:
                level, num = lv, m.group(1)
                break
        if level is not None and len(path) >= level:
            path = [*path[:level], num]
            # The heading's own words are part of the text about it.
            blocks.append((list(path), [ln[m.end():].strip()]))
            continue
        if blocks:
            blocks[-1][1].append(ln)
    out: list[Example] = []
    for p, body in blocks:
        area = _rule_for(p, PATHWAY_RULES)
        if not area or area == "-":
            continue
        jt = _rule_for(p, PATHWAY_JT)
        for c in _chunks("".join(body)):
            out.append(Example(c, area, "pathway", jt=list(jt) if jt else None,
                               ref="/".join(p)))
    return out
