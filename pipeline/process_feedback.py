"""Feedback about the consultation process itself (諮商過程回饋): participation fatigue,
repetition and over-mobilisation, follow-up after the sessions, access to information,
accessibility of taking part.

Found by wording, per unit, from cues written from the issue that asked for it and the
programme's own worry about 重複、過度動員 (../shared/context seed document), not grown
from labelled items: there is no labelled set yet, so recall and precision are unmeasured
and the report says a reader should judge by the quotes. Cues that are common outside the
process (負擔, 交通, 回應) count only within NEAR characters of a word about the consultation
(諮商, 座談, 說明會, 場次 …). Outputs codes (the category ids); the report words them.
"""

from __future__ import annotations

import re

import pandas as pd

from pipeline.units import analysed_mask

# A word about the consultation or taking part in it.
PROCESS = re.compile(r"諮商|座談|說明會|公聽會|工作坊|場次|出席|與會|動員|參與的人|來參加|"
                     r"這(?:種|類|場|些)(?:會|會議|活動)|開會")
# category id -> (cue that needs PROCESS in the same unit, cue that stands alone)
CUES: dict[str, tuple[str, str]] = {
    "fatigue": (r"疲|負擔|累|沒有人力|抽不出|分身乏術|消耗|吃不消",
                r"參與疲乏|每場都要去|本業就不用做|場次太多|太多場"),
    "repetition": (r"重複|一再|又來|同一批|老面孔|一樣的問題|同樣的問題|都是同樣",
                   r"過度動員|重複動員|重複參與"),
    "follow_up": (r"回應|回覆|回饋|採納|追蹤|後續",
                  r"沒有下文|沒下文|石沉大海|(?:講|說|開)完(?:會)?就(?:沒|結束)|"
                  r"有沒有被?採納|意見(?:有沒有|是否)被?(?:採納|參考|回應)"),
    "information": (r"資訊|資料|看不懂|太專業|專有名詞|簡報",
                    r"會前(?:資料|資訊)|諮商(?:資訊|資料)"),
    "access": (r"無障礙|手語|交通|太遠|線上|視訊|上班時間|平日|翻譯|族語|報名|偏鄉|可近性|可及性",
               r"手語翻譯"),
}
CATEGORIES = tuple(CUES)
_NEEDS = {k: re.compile(a) for k, (a, _) in CUES.items()}
_ALONE = {k: re.compile(b) for k, (_, b) in CUES.items()}


# How near (characters) a general cue must be to a word about the consultation: long units of
# real meetings mention 說明會 and 資訊 in unrelated sentences.
NEAR = 12


def _near(cue: re.Pattern[str], spans: list[tuple[int, int]], text: str) -> bool:
    return any(a - NEAR <= m.start() <= b + NEAR for m in cue.finditer(text) for a, b in spans)


def categories_of(text: str) -> list[str]:
    """The process categories a unit's text speaks to, in CATEGORIES order."""
    spans = [m.span() for m in PROCESS.finditer(text)]
    return [k for k in CATEGORIES
            if _ALONE[k].search(text) or (spans and _near(_NEEDS[k], spans, text))]


def process_units(units: pd.DataFrame) -> pd.DataFrame:
    """One row per (analysed participant unit, category): unit_id, session_id, category."""
    rows = []
    mask = analysed_mask(units)
    if "role" in units:
        mask &= units["role"].isin(["participant"]) | units["role"].isna()
    sub = units[mask]
    for uid, sid, text in zip(sub["unit_id"], sub.get("session_id", [None] * len(sub)),
                              sub["text"], strict=True):
        for cat in categories_of(str(text)):
            rows.append({"unit_id": str(uid), "session_id": sid, "category": cat})
    return pd.DataFrame(rows, columns=["unit_id", "session_id", "category"])
