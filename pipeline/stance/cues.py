"""Chinese cue evidence for the six stances, and the cue-words-only baseline.

The cue lists are the issue's examples (應該/建議/希望政府… ; 擔心/怕/影響… ; 支持/贊成 ;
反對/不應該 ; 請問/嗎/？) completed with the ordinary modal, evaluative and interrogative
markers of written and spoken Mandarin, written once before any model was fitted; they were
not grown from the labelled units' errors (docs/stance.md). The classifier uses them as
features next to the embedding; `cue_stance` alone is the baseline it is measured against.
"""

from __future__ import annotations

import re
from functools import cache

# Codes written to unit_stance.parquet (display words: report/labels.py).
STANCES: tuple[str, ...] = ("proposal", "concern", "support", "opposition", "question",
                            "statement")
# The labelled set's words for the codes (tests/data/stance_labels.md).
LABEL_CODES: dict[str, str] = {"建議": "proposal", "擔憂": "concern", "支持": "support",
                               "反對": "opposition", "提問": "question", "陳述": "statement"}

# A statement has no cue: it is what is left when nothing else is said.
CUES: dict[str, tuple[str, ...]] = {
    "proposal": (
        "應該", "應當", "應予", "應由", "應將", "應有", "建議", "提議", "主張", "希望",
        "期待", "期望", "呼籲", "要求", "必須", "務必", "需要", "可以考慮", "不妨", "不如",
        "最好", "是否可以", "是不是可以", "可不可以", "能不能", "能否", "請政府", "請各",
        "盼",
    ),
    "concern": (
        "擔心", "擔憂", "憂心", "害怕", "怕", "恐怕", "疑慮", "影響", "衝擊", "問題",
        "困難", "困境", "風險", "危險", "危害", "威脅", "污染", "汙染", "負擔", "壓力",
        "不足", "缺乏", "不公", "難以", "無法", "沒辦法", "沒有辦法", "後果", "損失",
        "不安", "受害", "惡化",
    ),
    "support": (
        "支持", "贊成", "贊同", "同意", "認同", "肯定", "樂見", "歡迎", "很好", "很棒",
        "不錯", "值得", "附議", "呼應", "配合", "讚", "好事", "有幫助",
    ),
    "opposition": (
        "反對", "不應該", "不應", "不該", "拒絕", "不同意", "不贊成", "不支持", "不宜",
        "不可以", "不得", "禁止", "撤除", "廢除", "抗議", "不合理", "不能接受", "不接受",
        "荒謬", "沒有必要", "不需要", "不要",
    ),
    "question": (
        "請問", "想問", "想請教", "請教", "嗎", "呢", "？", "?", "為什麼", "為何", "是否",
        "是不是", "有沒有", "多少", "怎麼", "如何", "哪些", "哪一", "什麼",
    ),
}
# Cue order when cues tie in the baseline: the marked stances before the broad ones.
# A suggestion put as a question (是不是可以…？) is a proposal.
PRIORITY: tuple[str, ...] = ("opposition", "support", "proposal", "question", "concern")


@cache
def _pattern(stance: str) -> re.Pattern[str]:
    # Longest first, so that 不應該 is found whole rather than as 應該.
    words = sorted(CUES[stance], key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)))


def cue_matches(text: str) -> dict[str, list[str]]:
    """The cue words of each stance found in `text` (in order of appearance).

    An opposition cue hides the proposal cue inside it (不應該 is not 應該), and a question
    cue inside a proposal cue (是不是可以) counts once, as the proposal.
    """
    found: dict[str, list[str]] = {}
    taken: list[tuple[int, int]] = []
    for stance in ("opposition", "proposal", "support", "concern", "question"):
        for m in _pattern(stance).finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            found.setdefault(stance, []).append(m.group())
        taken += [(m.start(), m.end()) for m in _pattern(stance).finditer(text)]
    return found


def cue_counts(text: str) -> list[int]:
    """Number of cue matches per stance in CUES order (the model's cue features)."""
    found = cue_matches(text)
    return [len(found.get(s, ())) for s in CUES]


def is_question_form(text: str) -> bool:
    """Ends as a question (？ or a final 嗎/呢): the structure, not the words."""
    t = text.rstrip(" 」』）)。…")
    return t.endswith(("？", "?", "嗎", "呢"))


def cue_stance(text: str) -> str:
    """The cue-words-only baseline: the stance with the most cue matches (ties by PRIORITY),
    a question when the unit ends as one and has no opposition/proposal cue, else statement."""
    found = cue_matches(text)
    if is_question_form(text) and not (found.get("opposition") or found.get("proposal")):
        return "question"
    best = max(PRIORITY, key=lambda s: (len(found.get(s, ())), -PRIORITY.index(s)))
    return best if found.get(best) else "statement"
